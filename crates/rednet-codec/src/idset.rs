//! A bounded set of message IDs, each forgotten at its own deadline: rednet's `received` table
//! and repeat.lua's `tReceivedMessages`.
//!
//! * Keys are message IDs normalised by [`id_key`] (the bits of the number, `-0` folded into
//!   `0`, so keys compare as Lua table keys do). NaN is never a key.
//! * Membership lives in an open-addressing table of `u64` keys with linear probing and
//!   backward-shift deletion (no tombstones), at most 3/4 full. The probe start is a keyed mix
//!   of the ID with a per-set random seed, so a peer cannot aim many IDs at one probe chain.
//! * Expiry lives in a FIFO of `(key, deadline)`: every ID of one set lives equally long and the
//!   clock only moves forward, so deadlines are in insertion order and expiring is popping the
//!   front — O(expired), never a scan.
//! * At most `capacity` IDs are held; inserting into a full set fails and changes nothing
//!   (callers drop the message: a live ID is never evicted, so nothing accepted within its window
//!   can be accepted again).
//!
//! Nothing allocates once the table and FIFO have grown to the traffic's working size; both
//! grow by doubling up to the bound and shrink again after a flood has expired.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use modem_value::Instant;

/// The slot marker of an empty slot: a NaN bit pattern, which [`id_key`] never returns.
const EMPTY: u64 = u64::MAX;
/// Smallest table once anything is stored.
const MIN_SLOTS: usize = 16;

/// The set key of a message ID: its bits with `-0` folded into `0`; `None` for NaN (which a Lua
/// table cannot hold as a key).
pub fn id_key(id: f64) -> Option<u64> {
    if id.is_nan() {
        None
    } else {
        Some((id + 0.0).to_bits())
    }
}

/// The set is at its capacity; nothing was inserted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

/// See the module docs.
#[derive(Clone, Debug)]
pub struct ExpiringIdSet {
    slots: Vec<u64>,
    len: usize,
    fifo: VecDeque<(u64, Instant)>,
    capacity: usize,
    seed: u64,
    last_deadline: Instant,
}

impl ExpiringIdSet {
    /// An empty set holding at most `capacity` IDs (at least 1), probing with `seed`.
    pub fn new(capacity: usize, seed: u64) -> Self {
        ExpiringIdSet {
            slots: Vec::new(),
            len: 0,
            fifo: VecDeque::new(),
            capacity: capacity.max(1),
            seed,
            last_deadline: Instant::ZERO,
        }
    }

    /// IDs currently held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no ID is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most IDs the set holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Slots of the probe table.
    #[cfg(test)]
    pub fn table_slots(&self) -> usize {
        self.slots.len()
    }

    /// Whether `key` is held.
    pub fn contains(&self, key: u64) -> bool {
        self.find(key).is_some()
    }

    /// The earliest deadline of a held ID.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.fifo.front().map(|&(_, d)| d)
    }

    /// Adds `key`, forgotten at `deadline`. Returns `Ok(false)` if it was already held (its
    /// deadline is left unchanged), `Err(Full)` if the set is full.
    ///
    /// Deadlines earlier than a previous insertion's are raised to it, which keeps the FIFO
    /// ordered even if a host's clock steps back.
    pub fn insert(&mut self, key: u64, deadline: Instant) -> Result<bool, Full> {
        if key == EMPTY || self.contains(key) {
            return Ok(false);
        }
        if self.len >= self.capacity {
            return Err(Full);
        }
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.rehash(slots_for(self.len + 1).max(self.slots.len() * 2));
        }
        self.place(key);
        self.len += 1;
        let deadline = deadline.max(self.last_deadline);
        self.last_deadline = deadline;
        self.fifo.push_back((key, deadline));
        Ok(true)
    }

    /// Forgets every ID whose deadline is `≤ now`; returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let mut n = 0;
        while let Some(&(key, deadline)) = self.fifo.front() {
            if deadline > now {
                break;
            }
            self.fifo.pop_front();
            if let Some(i) = self.find(key) {
                self.remove_at(i);
                self.len -= 1;
            }
            n += 1;
        }
        if n > 0 {
            self.maybe_shrink();
        }
        n
    }

    fn home(&self, key: u64) -> usize {
        (mix(key ^ self.seed) as usize) & (self.slots.len() - 1)
    }

    fn find(&self, key: u64) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let k = self.slots[i];
            if k == key {
                return Some(i);
            }
            if k == EMPTY {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// Puts `key` (not present) into the first empty slot of its probe chain.
    fn place(&mut self, key: u64) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        while self.slots[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = key;
    }

    /// Empties slot `i` and shifts later members of the cluster back so that every remaining
    /// key stays reachable from its home slot.
    fn remove_at(&mut self, mut hole: usize) {
        let mask = self.slots.len() - 1;
        self.slots[hole] = EMPTY;
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let k = self.slots[j];
            if k == EMPTY {
                return;
            }
            let home = self.home(k);
            // `k` may stay where it is iff its home lies cyclically in (hole, j].
            let stays = if hole <= j {
                hole < home && home <= j
            } else {
                hole < home || home <= j
            };
            if !stays {
                self.slots[hole] = k;
                self.slots[j] = EMPTY;
                hole = j;
            }
        }
    }

    fn rehash(&mut self, new_slots: usize) {
        let old = core::mem::replace(&mut self.slots, vec![EMPTY; new_slots]);
        for k in old {
            if k != EMPTY {
                self.place(k);
            }
        }
    }

    fn maybe_shrink(&mut self) {
        if self.slots.len() > MIN_SLOTS && self.len * 8 < self.slots.len() {
            let target = slots_for(self.len.max(1) * 2);
            if target < self.slots.len() {
                if self.len == 0 {
                    self.slots = Vec::new();
                } else {
                    self.rehash(target);
                }
            }
        }
        if self.fifo.capacity() > 64 && self.fifo.len() * 8 < self.fifo.capacity() {
            self.fifo.shrink_to(self.fifo.len() * 2);
        }
    }
}

/// Table size that holds `n` keys at most 3/4 full.
fn slots_for(n: usize) -> usize {
    (n.saturating_mul(4) / 3 + 1)
        .next_power_of_two()
        .max(MIN_SLOTS)
}

/// MurmurHash3's 64-bit finaliser: every input bit affects every output bit.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use proptest::prelude::*;

    #[test]
    fn keys_fold_negative_zero_and_refuse_nan() {
        assert_eq!(id_key(0.0), id_key(-0.0));
        assert_ne!(id_key(1.0), id_key(2.0));
        assert_eq!(id_key(f64::NAN), None);
        assert_ne!(id_key(f64::INFINITY), Some(EMPTY));
    }

    #[test]
    fn full_set_refuses_and_keeps_members() {
        let mut s = ExpiringIdSet::new(3, 1);
        for k in 1..=3u64 {
            assert_eq!(s.insert(k, Instant::from_secs(k)), Ok(true));
        }
        assert_eq!(s.insert(9, Instant::from_secs(9)), Err(Full));
        assert_eq!(s.insert(2, Instant::from_secs(9)), Ok(false));
        assert!((1..=3).all(|k| s.contains(k)) && !s.contains(9));
        assert_eq!(s.expire(Instant::from_secs(1)), 1);
        assert_eq!(s.insert(9, Instant::from_secs(9)), Ok(true));
        assert_eq!(s.next_deadline(), Some(Instant::from_secs(2)));
    }

    #[test]
    fn grows_and_shrinks_within_bound() {
        let mut s = ExpiringIdSet::new(1000, 7);
        for k in 0..1000u64 {
            s.insert(k * 7919, Instant::from_millis(k)).unwrap();
        }
        assert!(s.table_slots() <= slots_for(1000));
        assert_eq!(s.insert(5, Instant::from_secs(99)), Err(Full));
        s.expire(Instant::from_millis(994));
        assert_eq!(s.len(), 5);
        assert!(s.table_slots() <= 32, "{}", s.table_slots());
        assert!((995..1000u64).all(|k| s.contains(k * 7919)));
        s.expire(Instant::MAX);
        assert!(s.is_empty() && s.table_slots() <= MIN_SLOTS);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Insert(u8, u16),
        Expire(u16),
        Contains(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (any::<u8>(), 0..2000u16).prop_map(|(k, d)| Op::Insert(k, d)),
            1 => (0..3000u16).prop_map(Op::Expire),
            2 => any::<u8>().prop_map(Op::Contains),
        ]
    }

    proptest! {
        /// The table agrees with a BTreeMap model under inserts, lookups and expiry, with a
        /// tiny key space and a capacity small enough that long probe clusters, wrap-around
        /// and backward shifts all happen.
        #[test]
        fn matches_model(ops in proptest::collection::vec(op(), 1..400), cap in 1usize..80, seed: u64) {
            let mut s = ExpiringIdSet::new(cap, seed);
            let mut model: BTreeMap<u64, u64> = BTreeMap::new();
            let mut clock = 0u64;
            let mut last_deadline = 0u64;
            for op in ops {
                match op {
                    Op::Insert(k, d) => {
                        // Deadlines move forward as they do in the endpoint and repeater.
                        let k = u64::from(k) * 0x1_0000_0001;
                        let d = (clock + u64::from(d)).max(last_deadline);
                        let want = if model.contains_key(&k) {
                            Ok(false)
                        } else if model.len() >= cap {
                            Err(Full)
                        } else {
                            model.insert(k, d);
                            last_deadline = d;
                            Ok(true)
                        };
                        prop_assert_eq!(s.insert(k, Instant::from_millis(d)), want);
                    }
                    Op::Expire(t) => {
                        clock += u64::from(t);
                        let before = model.len();
                        model.retain(|_, d| *d > clock);
                        prop_assert_eq!(s.expire(Instant::from_millis(clock)), before - model.len());
                    }
                    Op::Contains(k) => {
                        let k = u64::from(k) * 0x1_0000_0001;
                        prop_assert_eq!(s.contains(k), model.contains_key(&k));
                    }
                }
                prop_assert_eq!(s.len(), model.len());
                prop_assert!(s.table_slots() <= slots_for(cap));
                prop_assert_eq!(s.next_deadline().map(|d| d.as_millis()), model.values().min().copied());
            }
            for k in model.keys() {
                prop_assert!(s.contains(*k));
            }
        }
    }
}
