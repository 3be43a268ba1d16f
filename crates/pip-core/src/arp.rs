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

use alloc::collections::{BTreeMap, VecDeque};
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

#[derive(Clone, Copy, Debug)]
struct Entry {
    id: ComputerId,
    kind: EntryKind,
    expires: Instant,
    stamp: u64,
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
#[derive(Clone, Debug, Default)]
pub struct ArpCache {
    map: BTreeMap<u32, Entry>,
    /// Learned entries in learning order, as `(ip, stamp)`; records whose stamp no longer
    /// matches the entry are stale and skipped.
    order: VecDeque<(u32, u64)>,
    next_stamp: u64,
    /// Entries that are not the self entry.
    counted: usize,
}

impl ArpCache {
    /// An empty cache.
    pub fn new() -> ArpCache {
        ArpCache::default()
    }

    /// The computer ID for `ip`, if known and not expired.
    #[inline]
    pub fn get(&self, ip: Ipv4Addr, now: Instant) -> Option<ComputerId> {
        self.map
            .get(&u32::from(ip))
            .filter(|e| e.kind != EntryKind::Learned || e.expires > now)
            .map(|e| e.id)
    }

    /// Whether a usable entry for `ip` exists.
    pub fn contains(&self, ip: Ipv4Addr, now: Instant) -> bool {
        self.get(ip, now).is_some()
    }

    /// Number of entries including the self entry (at most [`ARP_CACHE_CAPACITY`] + 1).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Usable entries, ascending by address.
    pub fn entries(&self, now: Instant) -> Vec<(Ipv4Addr, ComputerId, EntryKind)> {
        self.map
            .iter()
            .filter(|(_, e)| e.kind != EntryKind::Learned || e.expires > now)
            .map(|(ip, e)| (Ipv4Addr::from(*ip), e.id, e.kind))
            .collect()
    }

    /// ARP learning: stores `ip → id`, overwriting learned and manual entries,
    /// never the self entry.
    pub fn learn(&mut self, ip: Ipv4Addr, id: ComputerId, now: Instant) -> Learned {
        let key = u32::from(ip);
        let mut evicted = false;
        match self.map.get(&key).map(|e| e.kind) {
            Some(EntryKind::SelfEntry) => return Learned::SelfKept,
            Some(_) => {}
            None => {
                if self.counted >= ARP_CACHE_CAPACITY {
                    if !self.evict_one() {
                        return Learned::Full;
                    }
                    evicted = true;
                }
                self.counted += 1;
            }
        }
        let stamp = self.bump();
        self.map.insert(
            key,
            Entry {
                id,
                kind: EntryKind::Learned,
                expires: now + ARP_ENTRY_LIFETIME,
                stamp,
            },
        );
        self.order.push_back((key, stamp));
        self.compact();
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
        let counted = matches!(
            self.map.get(&key).map(|e| e.kind),
            Some(EntryKind::Manual | EntryKind::Learned)
        );
        if !counted {
            // A self entry overridden by hand becomes a counted manual entry.
            if self.counted >= ARP_CACHE_CAPACITY && !self.evict_one() {
                return Err(crate::ConfigError::ArpTableFull);
            }
            self.counted += 1;
        }
        let stamp = self.bump();
        self.map.insert(
            key,
            Entry {
                id,
                kind: EntryKind::Manual,
                expires: Instant::MAX,
                stamp,
            },
        );
        Ok(())
    }

    /// Removes the entry for `ip` (`arpset` with a nil ID).
    pub fn remove(&mut self, ip: Ipv4Addr) {
        if let Some(e) = self.map.remove(&u32::from(ip)) {
            if e.kind != EntryKind::SelfEntry {
                self.counted -= 1;
            }
        }
    }

    /// Replaces the self entry: removes the old one (if any) and maps `ip` to `own`.
    pub fn set_self(&mut self, ip: Option<Ipv4Addr>, own: ComputerId) {
        let old: Vec<u32> = self
            .map
            .iter()
            .filter(|(_, e)| e.kind == EntryKind::SelfEntry)
            .map(|(k, _)| *k)
            .collect();
        for k in old {
            self.map.remove(&k);
        }
        if let Some(ip) = ip {
            if let Some(e) = self.map.remove(&u32::from(ip)) {
                if e.kind != EntryKind::SelfEntry {
                    self.counted -= 1;
                }
            }
            let stamp = self.bump();
            self.map.insert(
                u32::from(ip),
                Entry {
                    id: own,
                    kind: EntryKind::SelfEntry,
                    expires: Instant::MAX,
                    stamp,
                },
            );
        }
    }

    fn bump(&mut self) -> u64 {
        self.next_stamp += 1;
        self.next_stamp
    }

    /// Evicts the learned entry learned longest ago; false if there is none.
    fn evict_one(&mut self) -> bool {
        while let Some((key, stamp)) = self.order.pop_front() {
            if let Some(e) = self.map.get(&key) {
                if e.kind == EntryKind::Learned && e.stamp == stamp {
                    self.map.remove(&key);
                    self.counted -= 1;
                    return true;
                }
            }
        }
        false
    }

    /// Drops stale order records once they outnumber live entries, keeping `order` bounded by
    /// about twice the capacity.
    fn compact(&mut self) {
        if self.order.len() > 2 * ARP_CACHE_CAPACITY + 16 {
            let map = &self.map;
            self.order.retain(|(k, s)| {
                map.get(k)
                    .is_some_and(|e| e.kind == EntryKind::Learned && e.stamp == *s)
            });
        }
    }

    /// Length of the internal order queue (for bound checks in tests).
    #[doc(hidden)]
    pub fn order_len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: Instant = Instant::ZERO;

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
    }
}
