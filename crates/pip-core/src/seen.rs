//! The set of recently seen PIP `messageID`s (spec §7.4 step 3, Q-PIP3).
//!
//! Phoenix 0.0.9 remembers every ID since boot, so a peer sending random IDs grows it without
//! bound. Here an ID is remembered for [`SEEN_LIFETIME`] (well above hop budget × per-hop
//! latency) and at most [`SEEN_CAPACITY`] IDs are kept; when full, the oldest ID is forgotten
//! first. Every entry has the same lifetime, so first-seen order is also expiry order and one
//! queue serves both.

use alloc::collections::{BTreeMap, VecDeque};

use modem_value::{Duration, Instant};

use crate::wire::MessageId;

/// Most IDs remembered.
pub const SEEN_CAPACITY: usize = 4096;
/// How long an ID is remembered.
pub const SEEN_LIFETIME: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, Default)]
pub(crate) struct SeenIds {
    map: BTreeMap<MessageId, Instant>,
    fifo: VecDeque<(Instant, MessageId)>,
}

impl SeenIds {
    /// Records `id`; false if it was seen within the lifetime (a duplicate). The second value
    /// says whether an unexpired ID had to be forgotten to make room.
    pub(crate) fn insert(&mut self, id: &MessageId, now: Instant) -> (bool, bool) {
        self.expire(now);
        if self.map.contains_key(id) {
            return (false, false);
        }
        let mut evicted = false;
        if self.map.len() >= SEEN_CAPACITY {
            if let Some((_, old)) = self.fifo.pop_front() {
                self.map.remove(&old);
                evicted = true;
            }
        }
        let expires = now + SEEN_LIFETIME;
        self.map.insert(id.clone(), expires);
        self.fifo.push_back((expires, id.clone()));
        (true, evicted)
    }

    pub(crate) fn expire(&mut self, now: Instant) {
        while self.fifo.front().is_some_and(|(t, _)| *t <= now) {
            if let Some((_, id)) = self.fifo.pop_front() {
                self.map.remove(&id);
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modem_value::LuaStr;

    #[test]
    fn duplicates_expiry_and_bound() {
        let mut s = SeenIds::default();
        let id = MessageId::Str(LuaStr::from("a"));
        let t = Instant::from_secs(1);
        assert_eq!(s.insert(&id, t), (true, false));
        assert_eq!(s.insert(&id, t + Duration::from_secs(29)), (false, false));
        assert_eq!(s.insert(&id, t + SEEN_LIFETIME), (true, false));
        for i in 0..(SEEN_CAPACITY as u32 + 10) {
            s.insert(&MessageId::Num(f64::from(i)), t + SEEN_LIFETIME);
            assert!(s.len() <= SEEN_CAPACITY);
            assert_eq!(s.map.len(), s.fifo.len());
        }
        assert!(s.insert(&id, t + SEEN_LIFETIME).0, "evicted when full");
    }
}
