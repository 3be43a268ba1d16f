//! The host-wide concurrency limits of CC:Tweaked: at most 16 HTTP requests
//! run at once with up to 512 more queued, and at most 4 open WebSockets.
//!
//! A stack keeps one [`Admission`] per computer and asks it before starting a request or a
//! WebSocket; it is bounded by construction (the queue refuses past its capacity).

use std::collections::VecDeque;

/// (CC) HTTP requests running at once.
pub const MAX_RUNNING_REQUESTS: usize = 16;
/// (CC) HTTP requests waiting for a slot; more → `Too many ongoing HTTP requests`.
pub const MAX_QUEUED_REQUESTS: usize = 512;
/// (CC) Open WebSockets; more → `Too many websockets already open`.
pub const MAX_WEBSOCKETS: usize = 4;

/// Whether a request may start now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// Start it now.
    Run,
    /// It is queued; [`Admission::finish_request`] will hand it back when a slot frees.
    Queued,
}

/// Why a request or WebSocket is refused; `Display` is CC:Tweaked's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    /// The request queue is full.
    #[error("Too many ongoing HTTP requests")]
    TooManyRequests,
    /// Too many WebSockets are open.
    #[error("Too many websockets already open")]
    TooManyWebsockets,
}

/// Counts running requests and open WebSockets, and queues requests beyond the limit.
/// `K` identifies a request (a handle id).
#[derive(Clone, Debug)]
pub struct Admission<K> {
    running: usize,
    queue: VecDeque<K>,
    websockets: usize,
}

impl<K: PartialEq> Default for Admission<K> {
    fn default() -> Self {
        Admission {
            running: 0,
            queue: VecDeque::new(),
            websockets: 0,
        }
    }
}

impl<K: PartialEq> Admission<K> {
    /// Nothing running.
    pub fn new() -> Self {
        Self::default()
    }

    /// A request wants to start.
    pub fn request(&mut self, key: K) -> Result<Admit, AdmissionError> {
        if self.running < MAX_RUNNING_REQUESTS {
            self.running += 1;
            Ok(Admit::Run)
        } else if self.queue.len() < MAX_QUEUED_REQUESTS {
            self.queue.push_back(key);
            Ok(Admit::Queued)
        } else {
            Err(AdmissionError::TooManyRequests)
        }
    }

    /// A running request finished: returns the queued request that may start now, if any.
    pub fn finish_request(&mut self) -> Option<K> {
        match self.queue.pop_front() {
            Some(k) => Some(k),
            None => {
                self.running = self.running.saturating_sub(1);
                None
            }
        }
    }

    /// A queued request was abandoned before it started (returns whether it was queued).
    pub fn cancel_queued(&mut self, key: &K) -> bool {
        match self.queue.iter().position(|k| k == key) {
            Some(i) => {
                self.queue.remove(i);
                true
            }
            None => false,
        }
    }

    /// A WebSocket wants to open.
    pub fn open_websocket(&mut self) -> Result<(), AdmissionError> {
        if self.websockets >= MAX_WEBSOCKETS {
            return Err(AdmissionError::TooManyWebsockets);
        }
        self.websockets += 1;
        Ok(())
    }

    /// A WebSocket closed (or failed).
    pub fn close_websocket(&mut self) {
        self.websockets = self.websockets.saturating_sub(1);
    }

    /// Requests running.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Requests queued.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// WebSockets open.
    pub fn websockets(&self) -> usize {
        self.websockets
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn limits_and_messages() {
        let mut a = Admission::new();
        for i in 0..16 {
            assert_eq!(a.request(i), Ok(Admit::Run));
        }
        for i in 16..528 {
            assert_eq!(a.request(i), Ok(Admit::Queued));
        }
        assert_eq!(
            a.request(999).unwrap_err().to_string(),
            "Too many ongoing HTTP requests"
        );
        assert_eq!(a.finish_request(), Some(16));
        assert!(a.cancel_queued(&17));
        assert!(!a.cancel_queued(&17));
        assert_eq!(a.finish_request(), Some(18));
        for _ in 0..4 {
            a.open_websocket().unwrap();
        }
        assert_eq!(
            a.open_websocket().unwrap_err().to_string(),
            "Too many websockets already open"
        );
        a.close_websocket();
        assert!(a.open_websocket().is_ok());
    }

    proptest! {
        /// Against a model: running = min(started - finished, 16) semantics, FIFO queue.
        #[test]
        fn matches_model(ops in proptest::collection::vec(any::<bool>(), 0..2000)) {
            let mut a = Admission::new();
            let (mut running, mut queue) = (0usize, VecDeque::new());
            for (i, start) in ops.into_iter().enumerate() {
                if start {
                    let r = a.request(i);
                    if running < 16 { running += 1; prop_assert_eq!(r, Ok(Admit::Run)); }
                    else if queue.len() < 512 { queue.push_back(i); prop_assert_eq!(r, Ok(Admit::Queued)); }
                    else { prop_assert!(r.is_err()); }
                } else if running > 0 {
                    let next = a.finish_request();
                    match queue.pop_front() {
                        Some(k) => prop_assert_eq!(next, Some(k)),
                        None => { running -= 1; prop_assert_eq!(next, None); }
                    }
                }
                prop_assert_eq!((a.running(), a.queued()), (running, queue.len()));
            }
        }
    }
}
