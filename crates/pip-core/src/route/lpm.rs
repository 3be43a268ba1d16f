//! A longest-prefix-match table over IPv4: a multibit trie of stride 8 whose nodes are
//! compressed with bitmaps and popcounts, in the style of Poptrie (Asai & Ohara, SIGCOMM 2015).
//!
//! Each node covers one byte of the address. Its 256 slots are either a child node (for
//! prefixes longer than the node's byte) or a leaf holding the best value for that slot,
//! computed at build time ("leaf pushing"). Two 256-bit maps say which slots are children and
//! where a run of equal leaves starts; children and leaf runs are stored contiguously, so the
//! index of a slot's child or leaf is a base plus a popcount. A lookup reads at most four nodes
//! and one leaf, allocates nothing, and its cost does not depend on the number of prefixes.
//!
//! Tables with at least [`DIRECT_THRESHOLD`] prefixes also get a directly indexed first level
//! over the top 16 bits (DIR-16, 256 KiB), which saves one to two node reads per lookup; small
//! tables (a typical computer has a handful of routes) stay a few kilobytes.
//!
//! The table is immutable: route changes rebuild it (routes change rarely; lookups happen for
//! every packet). Memory is about 96 bytes per node, one node per distinct 8/16/24-bit prefix
//! under which a longer prefix exists, plus one `u32` per leaf run.

use alloc::vec;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use ipnet::Ipv4Net;

const NONE: u32 = u32::MAX;
/// Prefix count from which the directly indexed first level is built.
pub const DIRECT_THRESHOLD: usize = 256;
/// In a direct entry: the rest is the index of a depth-2 node.
const DIRECT_NODE: u32 = 0x8000_0000;
/// In a direct entry: no value.
const DIRECT_NONE: u32 = 0x7fff_ffff;

#[derive(Clone, Copy, Debug, Default)]
struct Node {
    child_bm: [u64; 4],
    leaf_bm: [u64; 4],
    /// Index in `nodes` of the first child whose slot lies in word `w`.
    child_base: [u32; 4],
    /// Index in `leaves` of the first run starting in word `w`.
    leaf_base: [u32; 4],
}

/// An immutable longest-prefix-match table mapping IPv4 prefixes to `u32` values.
///
/// Values must be below `u32::MAX` (used as "no value"); [`LpmTable::build`] skips others.
#[derive(Clone, Debug)]
pub struct LpmTable {
    nodes: Vec<Node>,
    leaves: Vec<u32>,
    /// Empty, or 65 536 entries indexed by the top 16 address bits: a value (< `DIRECT_NONE`),
    /// `DIRECT_NONE`, or `DIRECT_NODE | index` of the node for the third byte.
    direct: Vec<u32>,
}

impl Default for LpmTable {
    fn default() -> Self {
        LpmTable::build(&[])
    }
}

/// Where a walk ended.
enum Step {
    Leaf(u32),
    Node(usize),
}

/// One prefix during the build: (address bits, prefix length, value).
type Entry = (u32, u8, u32);

impl LpmTable {
    /// Builds the table. When the same prefix (address and length) appears more than once,
    /// the **first** occurrence wins, so callers list entries in priority order.
    pub fn build(prefixes: &[(Ipv4Net, u32)]) -> LpmTable {
        LpmTable::build_with(prefixes, prefixes.len() >= DIRECT_THRESHOLD)
    }

    /// [`LpmTable::build`] choosing whether to build the direct first level (for tests and
    /// measurements; `build` decides by size).
    pub fn build_with(prefixes: &[(Ipv4Net, u32)], direct: bool) -> LpmTable {
        let mut entries: Vec<Entry> = prefixes
            .iter()
            .filter(|(_, v)| *v != NONE)
            .map(|(n, v)| (u32::from(n.network()), n.prefix_len(), *v))
            .collect();
        // Stable: equal prefixes keep their priority order, and dedup keeps the first.
        entries.sort_by_key(|&(a, l, _)| (a, l));
        entries.dedup_by_key(|&mut (a, l, _)| (a, l));
        let default = entries
            .iter()
            .find(|&&(_, l, _)| l == 0)
            .map_or(NONE, |e| e.2);
        entries.retain(|&(_, l, _)| l > 0);
        let big_values =
            entries.iter().any(|e| e.2 >= DIRECT_NONE) || default >= DIRECT_NONE && default != NONE;
        let mut t = LpmTable {
            nodes: vec![Node::default()],
            leaves: Vec::new(),
            direct: Vec::new(),
        };
        t.build_node(0, &entries, 0, default);
        if direct && !big_values {
            t.build_direct();
        }
        t
    }

    /// Fills the direct first level by walking the first two trie levels.
    fn build_direct(&mut self) {
        let mut direct = vec![DIRECT_NONE; 1 << 16];
        for (hi, slot) in direct.iter_mut().enumerate() {
            let a = (hi as u32) << 16;
            *slot = match self.walk(a, 2) {
                Step::Leaf(v) if v == NONE => DIRECT_NONE,
                Step::Leaf(v) => v,
                Step::Node(i) => DIRECT_NODE | i as u32,
            };
        }
        self.direct = direct;
    }

    /// Walks from the root through at most `levels` nodes.
    #[inline(always)]
    fn walk_from(&self, a: u32, mut idx: usize, mut shift: u32, levels: u32) -> Step {
        for _ in 0..levels {
            let Some(node) = self.nodes.get(idx) else {
                return Step::Leaf(NONE);
            };
            let b = (a >> shift) & 0xff;
            let w = (b >> 6) as usize;
            let bit = b & 63;
            let upto = u64::MAX >> (63 - bit); // bits 0..=bit
            let cw = node.child_bm[w];
            if (cw >> bit) & 1 == 1 {
                idx = node.child_base[w] as usize + (cw & (upto >> 1)).count_ones() as usize;
                match shift.checked_sub(8) {
                    Some(s) => shift = s,
                    None => return Step::Leaf(NONE),
                }
                continue;
            }
            let rank = (node.leaf_bm[w] & upto).count_ones();
            let v = (node.leaf_base[w] + rank)
                .checked_sub(1)
                .and_then(|li| self.leaves.get(li as usize))
                .copied()
                .unwrap_or(NONE);
            return Step::Leaf(v);
        }
        Step::Node(idx)
    }

    fn walk(&self, a: u32, levels: u32) -> Step {
        self.walk_from(a, 0, 24, levels)
    }

    fn build_node(&mut self, idx: usize, entries: &[Entry], depth: u32, default: u32) {
        let shift = 24 - 8 * depth;
        let top = (8 * depth + 8) as u8;
        let mut slots = [default; 256];
        let mut here: Vec<Entry> = entries.iter().copied().filter(|e| e.1 <= top).collect();
        // Shorter prefixes first, so that longer ones overwrite the slots they cover.
        here.sort_by_key(|e| e.1);
        for &(a, l, v) in &here {
            let start = ((a >> shift) & 0xff) as usize;
            let count = 1usize << (top - l);
            for s in slots.iter_mut().skip(start).take(count) {
                *s = v;
            }
        }
        let deeper: Vec<Entry> = entries.iter().copied().filter(|e| e.1 > top).collect();
        let mut child_slots: Vec<(usize, usize, usize)> = Vec::new(); // (slot, from, to) in `deeper`
        let mut i = 0;
        while i < deeper.len() {
            let slot = ((deeper[i].0 >> shift) & 0xff) as usize;
            let mut j = i + 1;
            while j < deeper.len() && ((deeper[j].0 >> shift) & 0xff) as usize == slot {
                j += 1;
            }
            child_slots.push((slot, i, j));
            i = j;
        }
        let mut node = Node::default();
        for &(slot, _, _) in &child_slots {
            node.child_bm[slot >> 6] |= 1u64 << (slot & 63);
        }
        let first_child = self.nodes.len() as u32;
        let leaf_start = self.leaves.len() as u32;
        let mut prev = NONE;
        for (slot, &value) in slots.iter().enumerate() {
            let is_child = node.child_bm[slot >> 6] >> (slot & 63) & 1 == 1;
            // A child slot continues the previous run so it costs no leaf.
            let v = if is_child && slot > 0 { prev } else { value };
            if slot == 0 || v != prev {
                node.leaf_bm[slot >> 6] |= 1u64 << (slot & 63);
                self.leaves.push(v);
            }
            prev = v;
        }
        let (mut c, mut l) = (first_child, leaf_start);
        for w in 0..4 {
            node.child_base[w] = c;
            node.leaf_base[w] = l;
            c += node.child_bm[w].count_ones();
            l += node.leaf_bm[w].count_ones();
        }
        self.nodes[idx] = node;
        self.nodes
            .resize(self.nodes.len() + child_slots.len(), Node::default());
        for (k, &(slot, from, to)) in child_slots.iter().enumerate() {
            let sub = deeper.get(from..to).unwrap_or_default();
            self.build_node(first_child as usize + k, sub, depth + 1, slots[slot]);
        }
    }

    /// The value of the longest prefix containing `addr`, if any. Never allocates.
    #[inline]
    pub fn lookup(&self, addr: Ipv4Addr) -> Option<u32> {
        let a = u32::from(addr);
        let step = match self.direct.get((a >> 16) as usize) {
            Some(&e) if e & DIRECT_NODE != 0 => {
                self.walk_from(a, (e & !DIRECT_NODE) as usize, 8, 2)
            }
            Some(&e) => return (e != DIRECT_NONE).then_some(e),
            None => self.walk(a, 4),
        };
        match step {
            Step::Leaf(v) => (v != NONE).then_some(v),
            Step::Node(_) => None,
        }
    }

    /// Number of trie nodes (a measure of memory use: about 96 bytes each).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn linear(prefixes: &[(Ipv4Net, u32)], a: Ipv4Addr) -> Option<u32> {
        let mut best: Option<(u8, u32)> = None;
        for (n, v) in prefixes {
            let n = n.trunc();
            if n.contains(&a) && best.is_none_or(|(l, _)| n.prefix_len() > l) {
                best = Some((n.prefix_len(), *v));
            }
        }
        best.map(|b| b.1)
    }

    #[test]
    fn basics() {
        let net = |s: &str| s.parse::<Ipv4Net>().unwrap();
        let t = LpmTable::build(&[
            (net("0.0.0.0/0"), 0),
            (net("10.0.0.0/8"), 1),
            (net("10.1.0.0/16"), 2),
            (net("10.1.2.3/32"), 3),
            (net("10.1.0.0/16"), 9), // duplicate: the first wins
            (net("192.168.0.0/23"), 4),
        ]);
        let l = |s: &str| t.lookup(s.parse().unwrap());
        assert_eq!(l("1.1.1.1"), Some(0));
        assert_eq!(l("10.9.9.9"), Some(1));
        assert_eq!(l("10.1.9.9"), Some(2));
        assert_eq!(l("10.1.2.3"), Some(3));
        assert_eq!(l("10.1.2.4"), Some(2));
        assert_eq!(l("192.168.1.255"), Some(4));
        assert_eq!(l("192.168.2.0"), Some(0));
        assert_eq!(LpmTable::default().lookup(Ipv4Addr::LOCALHOST), None);
    }

    fn arb_prefix() -> impl Strategy<Value = Ipv4Net> {
        // Addresses from a small pool make overlaps and shared nodes likely.
        (0u32..8, any::<u32>(), 0u8..=32).prop_map(|(pool, r, len)| {
            let a = (pool << 29) | (r & 0x00ff_00ff);
            Ipv4Net::new(Ipv4Addr::from(a), len).unwrap().trunc()
        })
    }

    proptest! {
        #[test]
        fn equals_linear_scan(
            prefixes in proptest::collection::vec((arb_prefix(), 0u32..1000), 0..60),
            probes in proptest::collection::vec(any::<u32>(), 1..60),
        ) {
            let t = LpmTable::build_with(&prefixes, false);
            let d = LpmTable::build_with(&prefixes, true);
            let mut addrs: Vec<Ipv4Addr> = probes.into_iter().map(Ipv4Addr::from).collect();
            // Also probe each prefix's first and last address and their neighbours.
            for (n, _) in &prefixes {
                let lo = u32::from(n.network());
                let hi = u32::from(n.broadcast());
                for x in [lo, hi, lo.wrapping_sub(1), hi.wrapping_add(1)] {
                    addrs.push(Ipv4Addr::from(x));
                }
            }
            for a in addrs {
                prop_assert_eq!(t.lookup(a), linear(&prefixes, a), "addr {}", a);
                prop_assert_eq!(d.lookup(a), linear(&prefixes, a), "direct, addr {}", a);
            }
        }
    }
}
