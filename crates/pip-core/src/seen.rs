//! The set of recently seen PIP `messageID`s.
//!
//! Phoenix 0.0.9 remembers every ID since boot, so a peer sending random IDs grows it without
//! bound. Here an ID is remembered for [`SEEN_LIFETIME`] (well above hop budget × per-hop
//! latency) and at most [`SEEN_CAPACITY`] IDs are kept; when full, the oldest ID is forgotten
//! first. Every entry has the same lifetime, so first-seen order is also expiry order and one
//! queue serves both.
//!
//! IDs are remembered by a 64-bit SipHash keyed with random keys drawn from the stack's
//! [`RandomSource`] at construction: comparing integers instead of 32-byte strings keeps the
//! check cheap on a router's fast path. Two different IDs collide with probability 2⁻⁶⁴ per
//! pair (a collision would drop one packet as a duplicate), and a peer cannot aim for
//! collisions without the keys.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use core::hash::Hasher;

use modem_value::{Duration, Instant, RandomSource};

use crate::wire::MessageId;

/// Most IDs remembered.
pub const SEEN_CAPACITY: usize = 4096;
/// How long an ID is remembered.
pub const SEEN_LIFETIME: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
pub(crate) struct SeenIds {
    keys: (u64, u64),
    map: DigestSet,
    fifo: VecDeque<(Instant, u64)>,
}

/// An open-addressing set of non-zero 64-bit digests (linear probing, backward-shift
/// deletion), at most half full so probes stay short. Digests are uniformly random, so their
/// low bits index directly.
///
/// It starts at [`MIN_SLOTS`] and doubles as it fills, up to [`SLOTS`] (twice
/// [`SEEN_CAPACITY`]): a computer that forwards nothing keeps 128 bytes here instead of 64 KiB,
/// which is most of an idle computer's memory in a simulation of thousands.
#[derive(Clone, Debug)]
struct DigestSet {
    slots: Vec<u64>,
    len: usize,
}

const SLOTS: usize = 2 * SEEN_CAPACITY;
const MIN_SLOTS: usize = 16;

impl DigestSet {
    fn new() -> DigestSet {
        DigestSet {
            slots: vec![0; MIN_SLOTS],
            len: 0,
        }
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    fn home(&self, d: u64) -> usize {
        (d as usize) & self.mask()
    }

    /// The slot holding `d`, or the empty slot where it would go.
    fn find(&self, d: u64) -> (usize, bool) {
        let mut i = self.home(d);
        // The table is never full (len ≤ slots / 2), so an empty slot is always reached.
        for _ in 0..self.slots.len() {
            match self.slots.get(i).copied().unwrap_or(0) {
                0 => return (i, false),
                x if x == d => return (i, true),
                _ => i = (i + 1) & self.mask(),
            }
        }
        (i, false)
    }

    fn contains(&self, d: u64) -> bool {
        self.find(d).1
    }

    /// Doubles the table (re-placing every digest) while it would be more than half full.
    fn grow_for(&mut self, len: usize) {
        if 2 * len <= self.slots.len() || self.slots.len() >= SLOTS {
            return;
        }
        let size = 2 * self.slots.len();
        let old = core::mem::replace(&mut self.slots, vec![0; size]);
        for d in old.into_iter().filter(|&d| d != 0) {
            let (i, _) = self.find(d);
            if let Some(s) = self.slots.get_mut(i) {
                *s = d;
            }
        }
    }

    fn insert(&mut self, d: u64) {
        if self.contains(d) {
            return;
        }
        self.grow_for(self.len + 1);
        let (i, found) = self.find(d);
        if !found {
            if let Some(s) = self.slots.get_mut(i) {
                *s = d;
                self.len += 1;
            }
        }
    }

    fn remove(&mut self, d: u64) {
        let (mut hole, found) = self.find(d);
        if !found {
            return;
        }
        self.len -= 1;
        // Backward-shift: move later entries of the probe run into the hole when their home
        // position does not lie (cyclically) between the hole and their slot.
        let mask = self.mask();
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let x = self.slots.get(j).copied().unwrap_or(0);
            if x == 0 {
                break;
            }
            let home = self.home(x);
            let dist_x = j.wrapping_sub(home) & mask;
            let dist_hole = j.wrapping_sub(hole) & mask;
            if dist_x >= dist_hole {
                self.slots[hole] = x;
                hole = j;
            }
        }
        if let Some(s) = self.slots.get_mut(hole) {
            *s = 0;
        }
    }
}

impl SeenIds {
    pub(crate) fn new(rng: &mut impl RandomSource) -> SeenIds {
        SeenIds {
            keys: (rng.next_u64(), rng.next_u64()),
            map: DigestSet::new(),
            fifo: VecDeque::new(),
        }
    }

    fn digest(&self, id: &MessageId) -> u64 {
        // SipHash-2-4 from `core` is deprecated only in favour of crates outside `core`.
        #[allow(deprecated)]
        let mut h = core::hash::SipHasher::new_with_keys(self.keys.0, self.keys.1);
        match id {
            MessageId::Num(n) => {
                h.write_u8(0);
                h.write_u64(n.to_bits());
            }
            MessageId::Str(s) => {
                h.write_u8(1);
                h.write(s.as_bytes());
            }
        }
        // 0 marks an empty slot.
        h.finish().max(1)
    }

    /// Records `id`; false if it was seen within the lifetime (a duplicate). The second value
    /// says whether an unexpired ID had to be forgotten to make room.
    pub(crate) fn insert(&mut self, id: &MessageId, now: Instant) -> (bool, bool) {
        self.expire(now);
        let d = self.digest(id);
        if self.map.contains(d) {
            return (false, false);
        }
        let mut evicted = false;
        if self.map.len >= SEEN_CAPACITY {
            if let Some((_, old)) = self.fifo.pop_front() {
                self.map.remove(old);
                evicted = true;
            }
        }
        let expires = now + SEEN_LIFETIME;
        self.map.insert(d);
        self.fifo.push_back((expires, d));
        (true, evicted)
    }

    pub(crate) fn expire(&mut self, now: Instant) {
        while self.fifo.front().is_some_and(|(t, _)| *t <= now) {
            if let Some((_, d)) = self.fifo.pop_front() {
                self.map.remove(d);
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modem_value::{LuaStr, SplitMix64};

    #[test]
    fn duplicates_expiry_and_bound() {
        let mut s = SeenIds::new(&mut SplitMix64::new(3));
        let id = MessageId::Str(LuaStr::from("a"));
        let t = Instant::from_secs(1);
        assert_eq!(s.insert(&id, t), (true, false));
        assert_eq!(s.insert(&id, t + Duration::from_secs(29)), (false, false));
        assert_eq!(
            s.insert(&MessageId::Str(LuaStr::from("b")), t),
            (true, false)
        );
        assert_eq!(s.insert(&MessageId::Num(1.0), t), (true, false));
        assert_eq!(
            s.insert(&MessageId::Str(LuaStr::from("1")), t),
            (true, false),
            "a string and a number are different IDs"
        );
        assert_eq!(s.insert(&id, t + SEEN_LIFETIME), (true, false));
        for i in 0..(SEEN_CAPACITY as u32 + 10) {
            s.insert(&MessageId::Num(f64::from(i)), t + SEEN_LIFETIME);
            assert!(s.len() <= SEEN_CAPACITY);
            assert_eq!(s.map.len, s.fifo.len());
        }
        assert!(s.insert(&id, t + SEEN_LIFETIME).0, "evicted when full");
    }

    proptest::proptest! {
        #[test]
        fn digest_set_matches_a_model(ops in proptest::collection::vec((proptest::bool::ANY, 1u64..64), 0..400)) {
            // Small digests all share a few home slots: long runs exercise backward shifts.
            let mut set = DigestSet::new();
            let mut model = alloc::collections::BTreeSet::new();
            for (add, d) in ops {
                let d = d * SLOTS as u64 / 8 + (d % 3);
                if add && model.len() < SEEN_CAPACITY {
                    set.insert(d);
                    model.insert(d);
                } else {
                    set.remove(d);
                    model.remove(&d);
                }
                proptest::prop_assert_eq!(set.len, model.len());
                // Grows on demand, never past its bound, never more than half full.
                proptest::prop_assert!(set.slots.len() <= SLOTS && 2 * set.len <= set.slots.len());
                for x in 1u64..64 {
                    let x = x * SLOTS as u64 / 8 + (x % 3);
                    proptest::prop_assert_eq!(set.contains(x), model.contains(&x));
                }
            }
        }
    }
}
