//! The per-interface ARP cache.
//!
//! Phoenix 0.0.9 keeps every entry forever and without limit; a peer flooding ARP replies for
//! thousands of addresses would grow it without bound. This cache keeps Phoenix's semantics
//! (a newer ARP message overwrites, PIP learning only fills gaps) within two documented bounds:
//!
//! * **Capacity** [`ARP_CACHE_CAPACITY`] entries besides the interface's own ("self") entry.
//!   When a new address is learned into a full cache, the learned entry that was learned or
//!   refreshed longest ago is evicted. Manual entries (`arpset`) are never evicted; if the
//!   cache is full of them, learning is refused and [`ArpCache::set_manual`] fails.
//! * **Expiry** [`ARP_ENTRY_LIFETIME`] after a learned entry was last learned or refreshed it
//!   no longer answers lookups and the next resolution sends a fresh request. Manual and self
//!   entries do not expire.
//!
//! The self entry (`own IP → own ID`) is never overwritten by learning: a peer claiming
//! our address is a collision, reported by the stack, not a reason to stop delivering
//! to ourselves.
//!
//! Layout: every computer on a busy segment learns from every ARP broadcast (§6.3 rule 2), so in
//! a simulated world of thousands each cache is full and learning is on the hot path of every
//! broadcast. Entries live in one dense vector (20 bytes each) found through an open-addressing
//! index of `u16` slots, and learned entries are chained in learning order through the entries
//! themselves: a full cache costs about 25 KiB, and learning, lookup and eviction are O(1).

use alloc::vec;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use modem_value::{Duration, Instant};

use crate::ComputerId;

/// Most entries per interface, not counting the self entry.
pub const ARP_CACHE_CAPACITY: usize = 1024;
/// How long a learned entry stays usable after it was last learned or refreshed.
pub const ARP_ENTRY_LIFETIME: Duration = Duration::from_secs(600);

/// How an entry got into the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// The interface's own address.
    SelfEntry,
    /// Set by `arpset`.
    Manual,
    /// Learned from ARP or PIP traffic.
    Learned,
}

/// No entry (end of the learning-order chain).
const NONE: u16 = u16::MAX;
/// The index starts with this many slots and doubles while it is more than ¾ full.
const MIN_INDEX: usize = 8;

/// `Entry::stamp` of a manual entry; of the self entry one less. A learned entry stores its
/// expiry in milliseconds, clamped below both (a clamp that only matters 584 million years
/// after the clock's origin), so the kind needs no field of its own and an entry is 20 bytes.
const STAMP_MANUAL: u64 = u64::MAX;
const STAMP_SELF: u64 = u64::MAX - 1;
const STAMP_LEARNED_MAX: u64 = u64::MAX - 2;

#[derive(Clone, Copy, Debug)]
struct Entry {
    ip: u32,
    id: ComputerId,
    /// Kind and expiry (see [`STAMP_MANUAL`]) as two halves, so the entry is 4-byte aligned.
    stamp: [u32; 2],
    /// Learning-order neighbours (learned entries only; `NONE` otherwise and at the ends).
    prev: u16,
    next: u16,
}

impl Entry {
    fn new(ip: u32, id: ComputerId, kind: EntryKind, expires: Instant) -> Entry {
        let mut e = Entry {
            ip,
            id,
            stamp: [0; 2],
            prev: NONE,
            next: NONE,
        };
        e.set_kind(kind, expires);
        e
    }

    #[inline]
    fn stamp(&self) -> u64 {
        u64::from(self.stamp[0]) | (u64::from(self.stamp[1]) << 32)
    }

    /// Sets the kind; `expires` only counts for a learned entry.
    fn set_kind(&mut self, kind: EntryKind, expires: Instant) {
        let s = match kind {
            EntryKind::Manual => STAMP_MANUAL,
            EntryKind::SelfEntry => STAMP_SELF,
            EntryKind::Learned => expires.as_millis().min(STAMP_LEARNED_MAX),
        };
        self.stamp = [s as u32, (s >> 32) as u32];
    }

    #[inline]
    fn kind(&self) -> EntryKind {
        match self.stamp() {
            STAMP_MANUAL => EntryKind::Manual,
            STAMP_SELF => EntryKind::SelfEntry,
            _ => EntryKind::Learned,
        }
    }

    /// Manual and self entries never expire; a learned one until its expiry.
    #[inline]
    fn usable(&self, now: Instant) -> bool {
        let s = self.stamp();
        s >= STAMP_SELF || s > now.as_millis()
    }
}

/// What [`ArpCache::learn`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Learned {
    /// The mapping is now in the cache.
    Stored,
    /// Stored after evicting the oldest learned entry.
    StoredEvicting,
    /// Not stored: the address is our own (self entry kept).
    SelfKept,
    /// Not stored: full of manual entries.
    Full,
}

/// One interface's map from IP to computer ID.
#[derive(Clone, Debug)]
pub struct ArpCache {
    entries: Vec<Entry>,
    /// Open addressing (linear probing, backward-shift deletion): 0 is empty, `k + 1` names
    /// `entries[k]`. Empty until the first entry.
    index: Vec<u16>,
    /// Oldest and newest learned entries.
    head: u16,
    tail: u16,
    /// Entries that are not the self entry.
    counted: usize,
}

impl Default for ArpCache {
    fn default() -> Self {
        ArpCache {
            entries: Vec::new(),
            index: Vec::new(),
            head: NONE,
            tail: NONE,
            counted: 0,
        }
    }
}

fn hash(ip: u32) -> usize {
    (u64::from(ip).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize
}

impl ArpCache {
    /// An empty cache.
    pub fn new() -> ArpCache {
        ArpCache::default()
    }

    /// The index slot naming the entry for `ip`, or the empty slot where it would go.
    fn slot(&self, ip: u32) -> (usize, Option<usize>) {
        let mask = self.index.len().wrapping_sub(1);
        let mut i = hash(ip) & mask;
        // The index is at most ¾ full, so an empty slot is always reached.
        for _ in 0..self.index.len() {
            match self.index[i] {
                0 => return (i, None),
                k if self.entries[usize::from(k) - 1].ip == ip => {
                    return (i, Some(usize::from(k) - 1))
                }
                _ => i = (i + 1) & mask,
            }
        }
        (i, None)
    }

    #[inline]
    fn find(&self, ip: u32) -> Option<usize> {
        if self.index.is_empty() {
            return None;
        }
        self.slot(ip).1
    }

    /// Appends a new entry (its `ip` must be absent) and indexes it.
    fn add(&mut self, ip: u32, id: ComputerId, kind: EntryKind, expires: Instant) -> usize {
        let n = self.entries.len();
        if 4 * (n + 1) > 3 * self.index.len() {
            let size = (2 * self.index.len()).max(MIN_INDEX);
            self.index = vec![0; size];
            for k in 0..n {
                let (s, _) = self.slot(self.entries[k].ip);
                self.index[s] = (k + 1) as u16;
            }
        }
        if self.entries.len() == self.entries.capacity() {
            // Exact growth: doubling, but straight to the full size (capacity + 1 entries) from
            // half of it, so that filling a cache never allocates (and frees) a block just short
            // of the full one: with thousands of caches filling in step, those freed blocks are
            // holes the allocator cannot reuse for the larger ones.
            let full = ARP_CACHE_CAPACITY + 1;
            let mut want = (2 * n).max(4);
            if 2 * want > full {
                want = full;
            }
            self.entries.reserve_exact(want.saturating_sub(n).max(1));
        }
        self.entries.push(Entry::new(ip, id, kind, expires));
        let (s, _) = self.slot(ip);
        self.index[s] = (n + 1) as u16;
        if kind == EntryKind::Learned {
            self.push_newest(n);
        }
        n
    }

    /// Removes entry `k` (unchained first if learned); the last entry moves into its place.
    fn delete(&mut self, k: usize) {
        if self.entries[k].kind() == EntryKind::Learned {
            self.unchain(k);
        }
        let (mut hole, _) = self.slot(self.entries[k].ip);
        let mask = self.index.len() - 1;
        let mut j = hole;
        loop {
            j = (j + 1) & mask;
            let x = self.index[j];
            if x == 0 {
                break;
            }
            let home = hash(self.entries[usize::from(x) - 1].ip) & mask;
            if j.wrapping_sub(home) & mask >= j.wrapping_sub(hole) & mask {
                self.index[hole] = x;
                hole = j;
            }
        }
        self.index[hole] = 0;
        let last = self.entries.len() - 1;
        self.entries.swap_remove(k);
        if k == last {
            return;
        }
        // The index still names the moved entry by its old place: find that slot by value.
        let moved = self.entries[k];
        let mut s = hash(moved.ip) & mask;
        while usize::from(self.index[s]) != last + 1 {
            s = (s + 1) & mask;
        }
        self.index[s] = (k + 1) as u16;
        if moved.kind() == EntryKind::Learned {
            let k16 = k as u16;
            match moved.prev {
                NONE => self.head = k16,
                p => self.entries[usize::from(p)].next = k16,
            }
            match moved.next {
                NONE => self.tail = k16,
                n => self.entries[usize::from(n)].prev = k16,
            }
        }
    }

    fn unchain(&mut self, k: usize) {
        let Entry { prev, next, .. } = self.entries[k];
        match prev {
            NONE => self.head = next,
            p => self.entries[usize::from(p)].next = next,
        }
        match next {
            NONE => self.tail = prev,
            n => self.entries[usize::from(n)].prev = prev,
        }
        self.entries[k].prev = NONE;
        self.entries[k].next = NONE;
    }

    fn push_newest(&mut self, k: usize) {
        let k16 = k as u16;
        self.entries[k].prev = self.tail;
        self.entries[k].next = NONE;
        match self.tail {
            NONE => self.head = k16,
            t => self.entries[usize::from(t)].next = k16,
        }
        self.tail = k16;
    }

    /// The computer ID for `ip`, if known and not expired.
    #[inline]
    pub fn get(&self, ip: Ipv4Addr, now: Instant) -> Option<ComputerId> {
        self.find(u32::from(ip))
            .map(|k| &self.entries[k])
            .filter(|e| e.usable(now))
            .map(|e| e.id)
    }

    /// Whether a usable entry for `ip` exists.
    pub fn contains(&self, ip: Ipv4Addr, now: Instant) -> bool {
        self.get(ip, now).is_some()
    }

    /// Number of entries including the self entry (at most [`ARP_CACHE_CAPACITY`] + 1).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Usable entries, ascending by address.
    pub fn entries(&self, now: Instant) -> Vec<(Ipv4Addr, ComputerId, EntryKind)> {
        let mut v: Vec<(Ipv4Addr, ComputerId, EntryKind)> = self
            .entries
            .iter()
            .filter(|e| e.usable(now))
            .map(|e| (Ipv4Addr::from(e.ip), e.id, e.kind()))
            .collect();
        v.sort_unstable_by_key(|e| e.0);
        v
    }

    /// ARP learning: stores `ip → id`, overwriting learned and manual entries,
    /// never the self entry.
    pub fn learn(&mut self, ip: Ipv4Addr, id: ComputerId, now: Instant) -> Learned {
        let key = u32::from(ip);
        let expires = now + ARP_ENTRY_LIFETIME;
        if let Some(k) = self.find(key) {
            let kind = self.entries[k].kind();
            if kind == EntryKind::SelfEntry {
                return Learned::SelfKept;
            }
            if kind == EntryKind::Learned {
                self.unchain(k);
            }
            let e = &mut self.entries[k];
            e.id = id;
            e.set_kind(EntryKind::Learned, expires);
            self.push_newest(k);
            return Learned::Stored;
        }
        let mut evicted = false;
        if self.counted >= ARP_CACHE_CAPACITY {
            if !self.evict_one() {
                return Learned::Full;
            }
            evicted = true;
        }
        self.counted += 1;
        self.add(key, id, EntryKind::Learned, expires);
        if evicted {
            Learned::StoredEvicting
        } else {
            Learned::Stored
        }
    }

    /// PIP learning: stores `ip → id` only if there is no usable entry.
    pub fn learn_if_absent(
        &mut self,
        ip: Ipv4Addr,
        id: ComputerId,
        now: Instant,
    ) -> Option<Learned> {
        if self.contains(ip, now) {
            return None;
        }
        Some(self.learn(ip, id, now))
    }

    /// Sets a manual entry (`arpset`); fails only when the cache is full of manual entries.
    pub fn set_manual(&mut self, ip: Ipv4Addr, id: ComputerId) -> Result<(), crate::ConfigError> {
        let key = u32::from(ip);
        let counted = self
            .find(key)
            .is_some_and(|k| self.entries[k].kind() != EntryKind::SelfEntry);
        if !counted {
            // A self entry overridden by hand becomes a counted manual entry.
            if self.counted >= ARP_CACHE_CAPACITY && !self.evict_one() {
                return Err(crate::ConfigError::ArpTableFull);
            }
            self.counted += 1;
        }
        // Eviction may have moved entries: look again.
        match self.find(key) {
            Some(k) => {
                if self.entries[k].kind() == EntryKind::Learned {
                    self.unchain(k);
                }
                let e = &mut self.entries[k];
                e.id = id;
                e.set_kind(EntryKind::Manual, Instant::MAX);
            }
            None => {
                self.add(key, id, EntryKind::Manual, Instant::MAX);
            }
        }
        Ok(())
    }

    /// Removes the entry for `ip` (`arpset` with a nil ID).
    pub fn remove(&mut self, ip: Ipv4Addr) {
        if let Some(k) = self.find(u32::from(ip)) {
            if self.entries[k].kind() != EntryKind::SelfEntry {
                self.counted -= 1;
            }
            self.delete(k);
        }
    }

    /// Replaces the self entry: removes the old one (if any) and maps `ip` to `own`.
    pub fn set_self(&mut self, ip: Option<Ipv4Addr>, own: ComputerId) {
        while let Some(k) = self
            .entries
            .iter()
            .position(|e| e.kind() == EntryKind::SelfEntry)
        {
            self.delete(k);
        }
        if let Some(ip) = ip {
            self.remove(ip);
            self.add(u32::from(ip), own, EntryKind::SelfEntry, Instant::MAX);
        }
    }

    /// Evicts the learned entry learned longest ago; false if there is none.
    fn evict_one(&mut self) -> bool {
        match self.head {
            NONE => false,
            k => {
                self.delete(usize::from(k));
                self.counted -= 1;
                true
            }
        }
    }

    /// Number of learned entries in learning order (for bound checks in tests).
    #[doc(hidden)]
    pub fn order_len(&self) -> usize {
        let mut n = 0;
        let mut k = self.head;
        while k != NONE && n <= self.entries.len() {
            n += 1;
            k = self.entries[usize::from(k)].next;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: Instant = Instant::ZERO;

    /// The layout the module documentation promises (a full cache's size follows from it).
    #[test]
    fn entry_is_20_bytes() {
        assert_eq!(core::mem::size_of::<Entry>(), 20);
    }

    #[test]
    fn learning_self_manual_and_expiry() {
        let mut c = ArpCache::new();
        let a = Ipv4Addr::new(10, 0, 0, 1);
        let b = Ipv4Addr::new(10, 0, 0, 2);
        c.set_self(Some(a), 7);
        assert_eq!(c.learn(a, 9, T0), Learned::SelfKept);
        assert_eq!(c.get(a, T0), Some(7));
        assert_eq!(c.learn(b, 2, T0), Learned::Stored);
        assert_eq!(c.learn_if_absent(b, 3, T0), None);
        assert_eq!(c.learn(b, 3, T0), Learned::Stored);
        assert_eq!(c.get(b, T0), Some(3));
        let later = T0 + ARP_ENTRY_LIFETIME;
        assert_eq!(c.get(b, later), None, "expired");
        assert_eq!(c.get(a, later), Some(7), "self never expires");
        c.set_manual(b, 4).unwrap();
        assert_eq!(c.get(b, later), Some(4));
        c.remove(b);
        assert_eq!(c.get(b, T0), None);
        // Address change moves the self entry.
        c.set_self(Some(b), 7);
        assert_eq!(c.get(a, T0), None);
        assert_eq!(c.get(b, T0), Some(7));
    }

    #[test]
    fn eviction_is_oldest_learned_first_and_manual_entries_stay() {
        let mut c = ArpCache::new();
        c.set_manual(Ipv4Addr::new(1, 1, 1, 1), 1).unwrap();
        for i in 0..ARP_CACHE_CAPACITY as u32 {
            c.learn(Ipv4Addr::from(0x0a00_0000 + i), i, T0);
        }
        assert_eq!(c.len(), ARP_CACHE_CAPACITY);
        assert_eq!(
            c.get(Ipv4Addr::from(0x0a00_0000), T0),
            None,
            "oldest evicted"
        );
        assert_eq!(c.get(Ipv4Addr::new(1, 1, 1, 1), T0), Some(1));
        assert_eq!(c.get(Ipv4Addr::from(0x0a00_0001), T0), Some(1));
    }

    proptest! {
        #[test]
        fn never_exceeds_bound_under_floods(ops in proptest::collection::vec((0u8..5, 0u32..3000, any::<u32>()), 0..3000)) {
            let mut c = ArpCache::new();
            let mut now = T0;
            for (op, ip, id) in ops {
                let ip = Ipv4Addr::from(0x0a00_0000 + ip);
                match op {
                    0 | 1 => { c.learn(ip, id, now); }
                    2 => { c.learn_if_absent(ip, id, now); }
                    3 => { let _ = c.set_manual(ip, id); }
                    _ => { c.remove(ip); now += Duration::from_secs(30); }
                }
                prop_assert!(c.len() <= ARP_CACHE_CAPACITY + 1);
                prop_assert!(c.order_len() <= 2 * ARP_CACHE_CAPACITY + 17);
            }
        }

        /// The cache against a plain ordered-map model of §6.3/§6.4 with Q-ARP1's bounds:
        /// same lookups, same outcomes, same eviction victim (oldest learned or refreshed).
        #[test]
        fn matches_a_simple_model(ops in proptest::collection::vec((0u8..7, 0u32..1100, 0u32..50), 0..2500)) {
            use alloc::collections::BTreeMap;
            let mut c = ArpCache::new();
            // ip → (id, kind, expires, stamp)
            let mut m: BTreeMap<u32, (u32, EntryKind, Instant, u64)> = BTreeMap::new();
            let mut stamp = 0u64;
            let mut now = T0;
            let counted = |m: &BTreeMap<u32, (u32, EntryKind, Instant, u64)>| {
                m.values().filter(|e| e.1 != EntryKind::SelfEntry).count()
            };
            let evict = |m: &mut BTreeMap<u32, (u32, EntryKind, Instant, u64)>| {
                let victim = m.iter().filter(|(_, e)| e.1 == EntryKind::Learned).min_by_key(|(_, e)| e.3).map(|(k, _)| *k);
                victim.map(|k| m.remove(&k)).is_some()
            };
            for (op, ip, id) in ops {
                let addr = Ipv4Addr::from(0x0a00_0000 + ip);
                let key = u32::from(addr);
                stamp += 1;
                match op {
                    0..=2 => {
                        let want = match m.get(&key).map(|e| e.1) {
                            Some(EntryKind::SelfEntry) => Learned::SelfKept,
                            Some(_) => { m.insert(key, (id, EntryKind::Learned, now + ARP_ENTRY_LIFETIME, stamp)); Learned::Stored }
                            None => {
                                let mut ev = false;
                                let mut full = false;
                                if counted(&m) >= ARP_CACHE_CAPACITY {
                                    if evict(&mut m) { ev = true } else { full = true }
                                }
                                if full { Learned::Full } else {
                                    m.insert(key, (id, EntryKind::Learned, now + ARP_ENTRY_LIFETIME, stamp));
                                    if ev { Learned::StoredEvicting } else { Learned::Stored }
                                }
                            }
                        };
                        prop_assert_eq!(c.learn(addr, id, now), want);
                    }
                    3 => {
                        let is_counted = m.get(&key).is_some_and(|e| e.1 != EntryKind::SelfEntry);
                        let ok = is_counted || counted(&m) < ARP_CACHE_CAPACITY || evict(&mut m);
                        if ok {
                            m.insert(key, (id, EntryKind::Manual, Instant::MAX, stamp));
                        }
                        prop_assert_eq!(c.set_manual(addr, id).is_ok(), ok);
                    }
                    4 => { m.remove(&key); c.remove(addr); }
                    5 => {
                        m.retain(|_, e| e.1 != EntryKind::SelfEntry);
                        m.insert(key, (99, EntryKind::SelfEntry, Instant::MAX, stamp));
                        c.set_self(Some(addr), 99);
                    }
                    _ => { now += Duration::from_secs(u64::from(id) * 20); }
                }
                let want = m.get(&key).filter(|e| e.1 != EntryKind::Learned || e.2 > now).map(|e| e.0);
                prop_assert_eq!(c.get(addr, now), want);
                prop_assert_eq!(c.len(), m.len());
            }
            let want: Vec<(Ipv4Addr, ComputerId, EntryKind)> = m.iter()
                .filter(|(_, e)| e.1 != EntryKind::Learned || e.2 > now)
                .map(|(k, e)| (Ipv4Addr::from(*k), e.0, e.1)).collect();
            prop_assert_eq!(c.entries(now), want);
        }
    }
}
