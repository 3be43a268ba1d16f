//! A bounded set of message IDs, each forgotten at its own deadline: rednet's `received` table
//! and repeat.lua's `tReceivedMessages`.
//!
//! * Keys are message IDs normalised by [`id_key`] (the bits of the number, `-0` folded into
//!   `0`, so keys compare as Lua table keys do). NaN is never a key.
//! * An open-addressing table of `(key, deadline)` slots (16 bytes, one cache line holds four)
//!   with linear probing, at most 3/4 used. The probe start is a keyed mix of the ID with a
//!   per-set random seed, so a peer cannot aim many IDs at one probe chain. A [`Probe`] made for
//!   the duplicate check is reused by the insert that follows it, so the receive path walks the
//!   chain once.
//! * Expiry is a watermark: [`ExpiringIdSet::expire`]`(now)` raises the *horizon* to `now`, and
//!   a slot whose deadline is `≤ horizon` is dead — absent for lookups, and taken over by the
//!   next insert whose chain passes it — so forgetting any number of IDs is O(1) in the table.
//!   Dead slots nobody took over are swept out when inserts would pass 3/4 use — in place, in
//!   one O(slots) pass, or by rebuilding into a larger table if the live IDs need it — and the
//!   table shrinks again after a flood has drained.
//! * The number of live IDs is kept by a run-length queue of their deadlines in insertion order
//!   (every ID of one set lives equally long and the clock only moves forward, so deadlines are
//!   ordered); it also gives the next deadline.
//! * At most `capacity` IDs are live. [`insert`](ExpiringIdSet::insert) into a full set fails
//!   and changes nothing (the repeater then does not repeat: a live ID is never forgotten early,
//!   so a repeater loop cannot circulate a message). [`insert_evicting`](ExpiringIdSet::insert_evicting)
//!   first forgets the oldest IDs instead ([`evict_oldest`](ExpiringIdSet::evict_oldest): the
//!   front run of the deadline queue, by raising the horizon to its deadline, O(1)), so a flood
//!   of junk IDs cannot lock genuine messages out; the price is that an evicted ID seen again
//!   within its window is accepted again.
//!
//! Steady traffic allocates nothing: only growing (a rising working set) and shrinking (after
//! a flood) allocate a new table. At the bound
//! the table has `slots_for(capacity)` slots of 16 bytes (2 MiB for 65 536 IDs) and the deadline
//! queue at most `capacity` runs of 16 bytes (1 MiB).

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use modem_value::Instant;

/// The key of an empty slot: a NaN bit pattern, which [`id_key`] never returns.
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

#[derive(Clone, Copy, Debug)]
struct Slot {
    key: u64,
    /// Milliseconds on the host's clock.
    deadline: u64,
}

const EMPTY_SLOT: Slot = Slot {
    key: EMPTY,
    deadline: 0,
};

/// Where a key is, or where it would go: the result of one probe, valid until the set changes.
#[derive(Clone, Copy, Debug)]
pub struct Probe {
    key: u64,
    /// The key's own slot (live or dead), the first dead slot of its chain, or the empty slot
    /// that ends the chain; `usize::MAX` for an empty table.
    slot: usize,
    state: ProbeState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProbeState {
    Live,
    OwnDead,
    ReuseDead,
    Empty,
}

impl Probe {
    /// Whether the key is held.
    pub fn is_live(&self) -> bool {
        self.state == ProbeState::Live
    }
}

/// See the module docs.
#[derive(Clone, Debug)]
pub struct ExpiringIdSet {
    /// Length 0 or a power of two.
    slots: Vec<Slot>,
    /// Non-empty slots, live or dead.
    used: usize,
    live: usize,
    /// Slots with `deadline <= horizon` are dead.
    horizon: u64,
    /// `(deadline, how many live IDs have it)`, oldest first.
    queue: VecDeque<(u64, u32)>,
    capacity: usize,
    seed: u64,
}

impl ExpiringIdSet {
    /// An empty set holding at most `capacity` IDs (at least 1), probing with `seed`.
    pub fn new(capacity: usize, seed: u64) -> Self {
        ExpiringIdSet {
            slots: Vec::new(),
            used: 0,
            live: 0,
            horizon: 0,
            queue: VecDeque::new(),
            capacity: capacity.max(1),
            seed,
        }
    }

    /// IDs currently held.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether no ID is held.
    pub fn is_empty(&self) -> bool {
        self.live == 0
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

    /// Looks `key` up once; [`insert_probed`](Self::insert_probed) reuses the result.
    #[inline]
    pub fn probe(&self, key: u64) -> Probe {
        if self.slots.is_empty() {
            return Probe {
                key,
                slot: usize::MAX,
                state: ProbeState::Empty,
            };
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        let mut dead = None;
        loop {
            let s = self.slots[i];
            if s.key == key {
                let state = if s.deadline > self.horizon {
                    ProbeState::Live
                } else {
                    ProbeState::OwnDead
                };
                return Probe {
                    key,
                    slot: i,
                    state,
                };
            }
            if s.key == EMPTY {
                return match dead {
                    Some(d) => Probe {
                        key,
                        slot: d,
                        state: ProbeState::ReuseDead,
                    },
                    None => Probe {
                        key,
                        slot: i,
                        state: ProbeState::Empty,
                    },
                };
            }
            if dead.is_none() && s.deadline <= self.horizon {
                dead = Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// Whether `key` is held.
    pub fn contains(&self, key: u64) -> bool {
        self.probe(key).is_live()
    }

    /// The earliest deadline of a held ID.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.queue.front().map(|&(d, _)| Instant::from_millis(d))
    }

    /// Adds `key`, forgotten at `deadline`. Returns `Ok(false)` if it was already held (its
    /// deadline is left unchanged), `Err(Full)` if the set is full.
    ///
    /// A deadline earlier than a previous insertion's is raised to it, and one at or before the
    /// horizon to just after it, which keeps the deadline queue ordered and the new ID alive even
    /// if a host's clock steps back.
    pub fn insert(&mut self, key: u64, deadline: Instant) -> Result<bool, Full> {
        let p = self.probe(key);
        self.insert_probed(p, deadline)
    }

    /// [`insert`](Self::insert) with the result of a [`probe`](Self::probe) made since the
    /// last change to the set.
    pub fn insert_probed(&mut self, p: Probe, deadline: Instant) -> Result<bool, Full> {
        if p.key == EMPTY || p.state == ProbeState::Live {
            return Ok(false);
        }
        if self.live >= self.capacity {
            return Err(Full);
        }
        let last = self.queue.back().map_or(0, |&(d, _)| d);
        let deadline = deadline
            .as_millis()
            .max(last)
            .max(self.horizon.saturating_add(1));
        let slot = Slot {
            key: p.key,
            deadline,
        };
        match p.state {
            // A dead slot (its own, or another ID's before the end of the chain): overwriting
            // it keeps every chain intact, since the slot stays non-empty.
            ProbeState::OwnDead | ProbeState::ReuseDead => self.slots[p.slot] = slot,
            _ => {
                if (self.used + 1) * 4 > self.slots.len() * 3 {
                    let size = self.size_for(self.live + 1);
                    if size <= self.slots.len() {
                        // Mostly dead slots: sweep them out where they are.
                        self.purge();
                    } else {
                        self.rebuild(size);
                    }
                    self.place(slot);
                } else {
                    self.slots[p.slot] = slot;
                }
                self.used += 1;
            }
        }
        self.live += 1;
        match self.queue.back_mut() {
            Some((d, n)) if *d == deadline && *n < u32::MAX => *n += 1,
            _ => self.queue.push_back((deadline, 1)),
        }
        Ok(true)
    }

    /// [`insert`](Self::insert), but a full set first forgets its oldest IDs (those sharing the
    /// earliest deadline, i.e. first remembered in the same millisecond) to make room. Returns
    /// whether `key` was newly inserted and how many IDs were evicted.
    pub fn insert_evicting(&mut self, key: u64, deadline: Instant) -> (bool, usize) {
        match self.insert(key, deadline) {
            Ok(new) => (new, 0),
            Err(Full) => {
                let evicted = self.evict_oldest();
                // A non-empty full set always has a run to evict (capacity ≥ 1), so this insert
                // finds room.
                (self.insert(key, deadline).unwrap_or(false), evicted)
            }
        }
    }

    /// Forgets the IDs with the earliest deadline now, whatever the clock says; returns how many.
    /// The deadline queue is ordered, so its front run is exactly those IDs, and raising the
    /// horizon to their deadline makes their slots dead without touching the table.
    pub fn evict_oldest(&mut self) -> usize {
        let Some((d, n)) = self.queue.pop_front() else {
            return 0;
        };
        self.horizon = self.horizon.max(d);
        self.live -= n as usize;
        n as usize
    }

    /// Forgets every ID whose deadline is `≤ now`; returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let now = now.as_millis();
        if now <= self.horizon {
            return 0;
        }
        self.horizon = now;
        let mut n = 0;
        while let Some(&(d, count)) = self.queue.front() {
            if d > now {
                break;
            }
            self.queue.pop_front();
            n += count as usize;
        }
        self.live -= n;
        if n > 0 && self.slots.len() > MIN_SLOTS && self.live * 8 < self.slots.len() {
            // A flood has drained: give the memory back.
            self.rebuild(self.size_for(self.live));
            if self.queue.capacity() > 64 && self.queue.len() * 8 < self.queue.capacity() {
                self.queue.shrink_to(self.queue.len() * 2);
            }
        }
        n
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        (mix(key ^ self.seed) as usize) & (self.slots.len() - 1)
    }

    /// Puts a slot with an absent key into the first empty slot of its probe chain.
    fn place(&mut self, slot: Slot) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(slot.key);
        while self.slots[i].key != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = slot;
    }

    /// Table size for `n` live IDs: at most half full after a rebuild, never more than the
    /// bound needs.
    fn size_for(&self, n: usize) -> usize {
        slots_for(n.saturating_mul(3) / 2).min(slots_for(self.capacity))
    }

    /// Empties every dead slot in place, without allocating: walks the table once from just
    /// after an empty slot, taking each live key out and placing it again from its home. A key's
    /// home lies between that empty slot and the key (its chain had no gap), and every slot from
    /// its home to where it lands has been walked already, so no later step opens a gap in a
    /// placed key's chain; keys not yet walked are placed again when the walk reaches them.
    fn purge(&mut self) {
        let Some(start) = self.slots.iter().position(|s| s.key == EMPTY) else {
            // Unreachable while the table is kept at most 3/4 used; rebuilding is always right.
            self.rebuild(self.slots.len());
            return;
        };
        let mask = self.slots.len() - 1;
        for step in 1..=self.slots.len() {
            let i = (start + step) & mask;
            let s = self.slots[i];
            if s.key == EMPTY {
                continue;
            }
            self.slots[i] = EMPTY_SLOT;
            if s.deadline > self.horizon {
                self.place(s);
            }
        }
        self.used = self.live;
    }

    /// Re-creates the table with `new_slots` slots holding only the live IDs.
    fn rebuild(&mut self, new_slots: usize) {
        let old = core::mem::replace(&mut self.slots, vec![EMPTY_SLOT; new_slots.max(MIN_SLOTS)]);
        let horizon = self.horizon;
        for s in old {
            if s.key != EMPTY && s.deadline > horizon {
                self.place(s);
            }
        }
        self.used = self.live;
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
        InsertEvicting(u8, u16),
        Expire(u16),
        Contains(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (any::<u8>(), 0..2000u16).prop_map(|(k, d)| Op::Insert(k, d)),
            2 => (any::<u8>(), 0..2000u16).prop_map(|(k, d)| Op::InsertEvicting(k, d)),
            1 => (0..3000u16).prop_map(Op::Expire),
            2 => any::<u8>().prop_map(Op::Contains),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]
        /// The table agrees with a BTreeMap model under inserts, lookups and expiry, with a
        /// tiny key space and a capacity small enough that long probe clusters, wrap-around
        /// and backward shifts all happen.
        #[test]
        fn matches_model(ops in proptest::collection::vec(op(), 1..400), cap in 1usize..80, seed: u64) {
            let mut s = ExpiringIdSet::new(cap, seed);
            let mut model: BTreeMap<u64, u64> = BTreeMap::new();
            let mut clock = 0u64;
            let mut last_deadline = 0u64;
            // Everything with a deadline at or before it is forgotten (the clock of the last
            // expiry, or the deadline of the last eviction).
            let mut horizon = 0u64;
            for op in ops {
                match op {
                    Op::InsertEvicting(k, d) => {
                        let k = u64::from(k) * 0x1_0000_0001;
                        let mut d = (clock + u64::from(d)).max(last_deadline).max(horizon + 1);
                        let want = if model.contains_key(&k) {
                            (false, 0)
                        } else {
                            let mut evicted = 0;
                            if model.len() >= cap {
                                // The oldest deadline's IDs go, all of them.
                                let oldest = *model.values().min().unwrap();
                                let before = model.len();
                                model.retain(|_, d| *d > oldest);
                                evicted = before - model.len();
                                horizon = horizon.max(oldest);
                                d = d.max(horizon + 1);
                            }
                            model.insert(k, d);
                            last_deadline = d;
                            (true, evicted)
                        };
                        prop_assert_eq!(s.insert_evicting(k, Instant::from_millis(d)), want);
                    }
                    Op::Insert(k, d) => {
                        // Deadlines move forward as they do in the endpoint and repeater.
                        let k = u64::from(k) * 0x1_0000_0001;
                        let d = (clock + u64::from(d)).max(last_deadline).max(horizon + 1);
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
                        horizon = horizon.max(clock);
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
