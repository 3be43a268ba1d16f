//! The endpoint's pending requests — the rednet calls that wait in Lua (`receive`, and the
//! collection windows of `lookup` and `host`) — and how delivered messages and deadlines
//! complete them.

use alloc::vec::Vec;
use core::time::Duration;

use modem_value::{Instant, LuaStr, RandomSource, Value};

use crate::request::{Completion, Delivered, Request, RequestId, RequestKind};
use crate::{Endpoint, RednetError};

impl<R: RandomSource> Endpoint<R> {
    /// `rednet.receive(filter, timeout)` as a request: completes with the first message
    /// delivered after this call whose protocol equals `filter` (any if `None`), or with `None`
    /// once `timeout` has passed. Without a timeout it waits until cancelled. Several pending
    /// receives each see every message (like coroutines waiting for the same event).
    pub fn receive(
        &mut self,
        now: Instant,
        filter: Option<LuaStr>,
        timeout: Option<Duration>,
    ) -> Result<RequestId, RednetError> {
        self.advance_to(now);
        let deadline = timeout.map(|t| self.now + t);
        let id = self.add_request(deadline, RequestKind::Receive { filter })?;
        self.pump_local();
        Ok(id)
    }

    /// Abandons a pending request without a completion. Returns whether it was pending.
    pub fn cancel(&mut self, id: RequestId) -> bool {
        let before = self.requests.len();
        self.requests.retain(|r| r.id != id);
        self.recompute_request_deadline();
        self.requests.len() != before
    }

    pub(crate) fn new_request_id(&mut self) -> RequestId {
        let id = RequestId(self.next_request);
        self.next_request += 1;
        id
    }

    pub(crate) fn add_request(
        &mut self,
        deadline: Option<Instant>,
        kind: RequestKind,
    ) -> Result<RequestId, RednetError> {
        if self.requests.len() >= self.config.max_requests {
            return Err(RednetError::TooManyRequests);
        }
        let id = self.new_request_id();
        self.requests.push(Request { id, deadline, kind });
        self.recompute_request_deadline();
        Ok(id)
    }

    pub(crate) fn complete(&mut self, c: Completion) {
        self.completions.push_back(c);
    }

    pub(crate) fn recompute_request_deadline(&mut self) {
        self.request_deadline = self.requests.iter().filter_map(|r| r.deadline).min();
    }

    /// Hands each pending request the delivered message; completes the ones it finishes.
    pub(crate) fn feed_requests(&mut self, d: &Delivered) {
        let mut requests = core::mem::take(&mut self.requests);
        let max_results = self.config.max_lookup_results;
        let before = requests.len();
        requests.retain_mut(|r| match &mut r.kind {
            RequestKind::Receive { filter } => {
                if d.matches(filter.as_ref()) {
                    self.completions.push_back(Completion::Received {
                        id: r.id,
                        message: Some(d.clone()),
                    });
                    false
                } else {
                    true
                }
            }
            RequestKind::Lookup {
                protocol,
                hostname,
                results,
            } => match crate::dns::lookup_response(d, protocol) {
                Some(answered) => match hostname {
                    None => {
                        if results.len() < max_results {
                            results.push(d.sender);
                        }
                        true
                    }
                    Some(h) if answered == &Value::Str(h.clone()) => {
                        self.completions.push_back(Completion::LookedUp {
                            id: r.id,
                            hosts: alloc::vec![d.sender],
                        });
                        false
                    }
                    Some(_) => true,
                },
                None => true,
            },
            RequestKind::Host { protocol, hostname } => {
                match crate::dns::lookup_response(d, protocol) {
                    Some(answered) if answered == &Value::Str(hostname.clone()) => {
                        self.completions.push_back(Completion::Hosted {
                            id: r.id,
                            result: Err(RednetError::HostnameInUse),
                        });
                        false
                    }
                    _ => true,
                }
            }
        });
        // Requests added while dispatching (none today) would be in self.requests.
        requests.append(&mut self.requests);
        self.requests = requests;
        if self.requests.len() != before {
            self.recompute_request_deadline();
        }
    }

    pub(crate) fn expire_requests(&mut self, now: Instant) {
        let mut due: Vec<Request> = Vec::new();
        let mut i = 0;
        while i < self.requests.len() {
            if self.requests[i].deadline.is_some_and(|d| d <= now) {
                due.push(self.requests.remove(i));
            } else {
                i += 1;
            }
        }
        // Timers fire in deadline order; equal deadlines in the order they were started.
        due.sort_by_key(|r| (r.deadline, r.id));
        for r in due {
            let c = match r.kind {
                RequestKind::Receive { .. } => Completion::Received {
                    id: r.id,
                    message: None,
                },
                RequestKind::Lookup { results, .. } => Completion::LookedUp {
                    id: r.id,
                    hosts: results,
                },
                RequestKind::Host { protocol, hostname } => {
                    self.hostnames.insert(protocol, hostname);
                    Completion::Hosted {
                        id: r.id,
                        result: Ok(()),
                    }
                }
            };
            self.completions.push_back(c);
        }
        self.recompute_request_deadline();
    }
}
