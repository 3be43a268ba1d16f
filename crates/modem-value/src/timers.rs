//! [`DeadlineIndex`]: the armed timers of many keyed things, ordered by deadline.
//!
//! A state machine holding thousands of connections must answer "when is the next deadline?"
//! after every input. Scanning every connection makes each input cost O(connections); this index
//! keeps each key's one armed deadline in an ordered set beside a key → deadline map, so:
//!
//! * [`first`](DeadlineIndex::first) is O(log n) (the smallest element of the set);
//! * [`set`](DeadlineIndex::set) re-arms, disarms or keeps a key's deadline in O(log n), and does
//!   nothing to the ordered set when the deadline did not change (callers re-arm after every
//!   input, and most inputs leave the deadline alone);
//! * [`take_due`](DeadlineIndex::take_due) removes and returns every key due at `now` in one
//!   pass, O(k log n) for k due keys, without allocating when nothing is due.
//!
//! Entries are exact, never stale: re-arming removes the old `(deadline, key)` pair first, so the
//! set never holds two entries for one key and needs no lazy deletion (timers that are re-armed on
//! nearly every segment would otherwise pile up in a heap).
//!
//! The caller computes a key's deadline in one place and calls `set` with it after every change;
//! a key taken by `take_due` is disarmed until the caller sets it again. Keys due again at the
//! same `now` after being run therefore wait for the next `take_due` call, which rules out a loop
//! inside one call.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;

use crate::Instant;

/// See the module docs. `K` is the key of the timed things (a handle id, an address…).
#[derive(Clone, Debug)]
pub struct DeadlineIndex<K> {
    by_time: BTreeSet<(Instant, K)>,
    armed: BTreeMap<K, Instant>,
}

impl<K> Default for DeadlineIndex<K> {
    fn default() -> Self {
        DeadlineIndex {
            by_time: BTreeSet::new(),
            armed: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Copy> DeadlineIndex<K> {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Arms `key` at `deadline`, or disarms it with `None`. Returns whether anything changed.
    pub fn set(&mut self, key: K, deadline: Option<Instant>) -> bool {
        match deadline {
            Some(d) => match self.armed.insert(key, d) {
                Some(old) if old == d => false,
                Some(old) => {
                    self.by_time.remove(&(old, key));
                    self.by_time.insert((d, key));
                    true
                }
                None => {
                    self.by_time.insert((d, key));
                    true
                }
            },
            None => self.remove(key),
        }
    }

    /// Disarms `key`. Returns whether it was armed.
    pub fn remove(&mut self, key: K) -> bool {
        match self.armed.remove(&key) {
            Some(old) => {
                self.by_time.remove(&(old, key));
                true
            }
            None => false,
        }
    }

    /// The deadline `key` is armed at.
    pub fn get(&self, key: K) -> Option<Instant> {
        self.armed.get(&key).copied()
    }

    /// The earliest armed deadline.
    pub fn first(&self) -> Option<Instant> {
        self.by_time.first().map(|&(d, _)| d)
    }

    /// The earliest armed deadline and its key (the smallest key among equal deadlines).
    pub fn first_entry(&self) -> Option<(Instant, K)> {
        self.by_time.first().copied()
    }

    /// Disarms and returns every key armed at or before `now`, earliest first (equal deadlines
    /// in key order).
    pub fn take_due(&mut self, now: Instant) -> Vec<K> {
        let mut due = Vec::new();
        while let Some(&(d, k)) = self.by_time.first() {
            if d > now {
                break;
            }
            self.by_time.pop_first();
            self.armed.remove(&k);
            due.push(k);
        }
        due
    }

    /// Number of armed keys.
    pub fn len(&self) -> usize {
        self.armed.len()
    }

    /// Whether no key is armed.
    pub fn is_empty(&self) -> bool {
        self.armed.is_empty()
    }

    /// Disarms every key.
    pub fn clear(&mut self) {
        self.by_time.clear();
        self.armed.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use proptest::prelude::*;

    #[test]
    fn reinsertion_moves_the_deadline_instead_of_adding_one() {
        let mut ix = DeadlineIndex::new();
        assert!(ix.set(1u32, Some(Instant::from_millis(10))));
        assert!(ix.set(1, Some(Instant::from_millis(50))));
        assert!(!ix.set(1, Some(Instant::from_millis(50))));
        assert_eq!(ix.len(), 1);
        // An entry re-armed later must not fire at its old deadline.
        assert!(ix.take_due(Instant::from_millis(10)).is_empty());
        assert_eq!(ix.take_due(Instant::from_millis(50)), [1]);
        assert!(ix.is_empty());
        assert_eq!(ix.first(), None);
    }

    #[test]
    fn several_keys_share_one_deadline() {
        let mut ix = DeadlineIndex::new();
        for k in [3u32, 1, 2] {
            ix.set(k, Some(Instant::from_millis(7)));
        }
        ix.set(9, Some(Instant::from_millis(8)));
        assert_eq!(ix.first_entry(), Some((Instant::from_millis(7), 1)));
        assert_eq!(ix.take_due(Instant::from_millis(7)), [1, 2, 3]);
        assert_eq!(ix.first(), Some(Instant::from_millis(8)));
        assert!(ix.remove(9));
        assert!(!ix.remove(9));
    }

    #[derive(Clone, Debug)]
    enum Op {
        Set(u8, Option<u16>),
        Remove(u8),
        TakeDue(u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..16, proptest::option::of(0u16..200)).prop_map(|(k, d)| Op::Set(k, d)),
            (0u8..16).prop_map(Op::Remove),
            (0u16..200).prop_map(Op::TakeDue),
        ]
    }

    proptest! {
        /// The index behaves as a plain key → deadline map scanned for its minimum.
        #[test]
        fn matches_a_scanned_map(ops in proptest::collection::vec(op(), 0..200)) {
            let mut ix = DeadlineIndex::new();
            let mut model: BTreeMap<u8, u16> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Set(k, d) => {
                        let changed = ix.set(k, d.map(|d| Instant::from_millis(d.into())));
                        let before = match d {
                            Some(d) => model.insert(k, d),
                            None => model.remove(&k),
                        };
                        prop_assert_eq!(changed, before != d);
                    }
                    Op::Remove(k) => {
                        prop_assert_eq!(ix.remove(k), model.remove(&k).is_some());
                    }
                    Op::TakeDue(now) => {
                        let mut want: Vec<(u16, u8)> = model
                            .iter()
                            .filter(|(_, &d)| d <= now)
                            .map(|(&k, &d)| (d, k))
                            .collect();
                        want.sort();
                        model.retain(|_, d| *d > now);
                        let got = ix.take_due(Instant::from_millis(now.into()));
                        let want: Vec<u8> = want.into_iter().map(|(_, k)| k).collect();
                        prop_assert_eq!(got, want);
                    }
                }
                prop_assert_eq!(ix.len(), model.len());
                prop_assert_eq!(
                    ix.first().map(|d| d.as_millis()),
                    model.values().min().map(|&d| u64::from(d))
                );
                for (&k, &d) in &model {
                    prop_assert_eq!(ix.get(k), Some(Instant::from_millis(d.into())));
                }
            }
        }
    }
}
