//! pip-core route lookup: the popcount multibit trie ([`LpmTable`], and the full
//! [`RouteTables::lookup`] on top of it) against `prefix-trie` 0.9 (`PrefixMap::get_lpm`) and
//! the tree-bitmap trie (`ip_network_table-deps-treebitmap` 0.5, a maintained fork: the
//! crates.io crate `treebitmap` is not available), on the same random tables and addresses at
//! 16, 1 000 and 100 000 routes.
//!
//! REPORT lines: ns per lookup for each structure, the ratios (other / ours: > 1 means ours is
//! faster) and allocations per lookup.

use std::hint::black_box;
use std::time::Instant as WallClock;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ip_network_table_deps_treebitmap::IpLookupTable;
use modem_value::{RandomSource, SplitMix64};
use phoenix_benches::{allocations_per_op, report, CountingAlloc};
use pip_core::ipnet::Ipv4Net;
use pip_core::route::{LpmTable, Route, RouteAction, RouteTables};
use pip_core::Device;
use prefix_trie::PrefixMap;
use std::net::Ipv4Addr;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const SIZES: [usize; 3] = [16, 1_000, 100_000];
const PROBES: usize = 4096;

/// A BGP-like mix of prefix lengths: mostly /24, then /16../23, some longer and shorter.
fn random_table(n: usize, rng: &mut SplitMix64) -> Vec<Ipv4Net> {
    let mut v = Vec::with_capacity(n);
    while v.len() < n {
        let r = rng.range_inclusive(0, 99);
        let len = match r {
            0..=59 => 24,
            60..=79 => rng.range_inclusive(16, 23) as u8,
            80..=89 => rng.range_inclusive(25, 32) as u8,
            _ => rng.range_inclusive(8, 15) as u8,
        };
        let a = Ipv4Addr::from(rng.next_u32());
        v.push(Ipv4Net::new(a, len).unwrap().trunc());
    }
    v
}

/// Half the probes fall inside a route of the table, half are uniform.
fn probes(table: &[Ipv4Net], rng: &mut SplitMix64) -> Vec<Ipv4Addr> {
    (0..PROBES)
        .map(|i| {
            if i % 2 == 0 {
                let n = table[rng.range_inclusive(0, table.len() as u64 - 1) as usize];
                let host = rng.next_u32() & !u32::from(n.netmask());
                Ipv4Addr::from(u32::from(n.network()) | host)
            } else {
                Ipv4Addr::from(rng.next_u32())
            }
        })
        .collect()
}

struct Structures {
    ours: LpmTable,
    tables: RouteTables,
    trie: PrefixMap<Ipv4Net, u32>,
    tbm: IpLookupTable<Ipv4Addr, u32>,
}

fn build(table: &[Ipv4Net]) -> Structures {
    let entries: Vec<(Ipv4Net, u32)> = table
        .iter()
        .enumerate()
        .map(|(i, n)| (*n, i as u32))
        .collect();
    let t = WallClock::now();
    let ours = LpmTable::build(&entries);
    report(
        &format!("pip_route/{}", table.len()),
        "LpmTable build ms",
        t.elapsed().as_secs_f64() * 1000.0,
    );
    let mut tables = RouteTables::new();
    let dev = Device::new("/back");
    // Duplicated prefixes are refused ("Route already exists"); skip them.
    let mut seen = std::collections::HashSet::new();
    let routes: Vec<Route> = table
        .iter()
        .filter(|n| seen.insert(**n))
        .map(|n| Route {
            net: *n,
            action: RouteAction::Local,
            device: Some(dev.clone()),
            gateway: None,
        })
        .collect();
    let t = WallClock::now();
    tables.add_all(1, routes).unwrap();
    report(
        &format!("pip_route/{}", table.len()),
        "RouteTables bulk build ms",
        t.elapsed().as_secs_f64() * 1000.0,
    );
    let mut trie = PrefixMap::new();
    let mut tbm = IpLookupTable::new();
    // First occurrence wins, as in LpmTable (the random table may repeat a prefix).
    for (n, i) in entries.iter().rev() {
        trie.insert(*n, *i);
        tbm.insert(n.network(), u32::from(n.prefix_len()), *i);
    }
    Structures {
        ours,
        tables,
        trie,
        tbm,
    }
}

fn ns_per_lookup(addrs: &[Ipv4Addr], mut f: impl FnMut(Ipv4Addr) -> u32) -> f64 {
    let rounds = 400;
    let start = WallClock::now();
    let mut acc = 0u32;
    for _ in 0..rounds {
        for &a in addrs {
            acc = acc.wrapping_add(f(a));
        }
    }
    black_box(acc);
    start.elapsed().as_nanos() as f64 / (rounds * addrs.len()) as f64
}

fn bench(c: &mut Criterion) {
    let mut rng = SplitMix64::new(2026);
    for &n in &SIZES {
        let table = random_table(n, &mut rng);
        let addrs = probes(&table, &mut rng);
        let s = build(&table);
        // Same answers from all three (ours vs prefix-trie vs tree-bitmap).
        for &a in &addrs {
            let ours = s.ours.lookup(a);
            let pt = s.trie.get_lpm(&Ipv4Net::from(a)).map(|(_, v)| *v);
            let tb = s.tbm.longest_match(a).map(|(_, _, v)| *v);
            assert_eq!(ours, pt, "prefix-trie disagrees at {a}");
            assert_eq!(ours, tb, "treebitmap disagrees at {a}");
        }

        let mut g = c.benchmark_group(format!("pip_route/{n}"));
        g.throughput(Throughput::Elements(addrs.len() as u64));
        g.bench_function(BenchmarkId::new("pip_core_lpm", n), |b| {
            b.iter(|| {
                let mut acc = 0u32;
                for &a in &addrs {
                    acc = acc.wrapping_add(s.ours.lookup(black_box(a)).unwrap_or(0));
                }
                acc
            })
        });
        g.bench_function(BenchmarkId::new("pip_core_route_tables", n), |b| {
            b.iter(|| {
                let mut acc = 0u32;
                for &a in &addrs {
                    acc = acc.wrapping_add(
                        s.tables
                            .lookup(black_box(a))
                            .map_or(0, |r| r.net.prefix_len() as u32),
                    );
                }
                acc
            })
        });
        g.bench_function(BenchmarkId::new("prefix_trie", n), |b| {
            b.iter(|| {
                let mut acc = 0u32;
                for &a in &addrs {
                    acc = acc.wrapping_add(
                        s.trie
                            .get_lpm(&Ipv4Net::from(black_box(a)))
                            .map_or(0, |(_, v)| *v),
                    );
                }
                acc
            })
        });
        g.bench_function(BenchmarkId::new("treebitmap", n), |b| {
            b.iter(|| {
                let mut acc = 0u32;
                for &a in &addrs {
                    acc = acc
                        .wrapping_add(s.tbm.longest_match(black_box(a)).map_or(0, |(_, _, v)| *v));
                }
                acc
            })
        });
        g.finish();

        let ours = ns_per_lookup(&addrs, |a| s.ours.lookup(black_box(a)).unwrap_or(0));
        let tables = ns_per_lookup(&addrs, |a| {
            s.tables
                .lookup(black_box(a))
                .map_or(0, |r| u32::from(r.net.prefix_len()))
        });
        let pt = ns_per_lookup(&addrs, |a| {
            s.trie
                .get_lpm(&Ipv4Net::from(black_box(a)))
                .map_or(0, |(_, v)| *v)
        });
        let tb = ns_per_lookup(&addrs, |a| {
            s.tbm.longest_match(black_box(a)).map_or(0, |(_, _, v)| *v)
        });
        let name = format!("pip_route/{n}");
        report(&name, "pip-core LpmTable ns/lookup", ours);
        report(&name, "pip-core RouteTables ns/lookup", tables);
        report(&name, "prefix-trie ns/lookup", pt);
        report(&name, "treebitmap ns/lookup", tb);
        report(&name, "speedup vs prefix-trie (x)", pt / ours);
        report(&name, "speedup vs treebitmap (x)", tb / ours);
        report(&name, "RouteTables speedup vs prefix-trie (x)", pt / tables);
        report(&name, "trie nodes", s.ours.node_count() as f64);
        let mut i = 0;
        let allocs = allocations_per_op(100_000, || {
            black_box(s.tables.lookup(addrs[i % addrs.len()]));
            i += 1;
        });
        report(&name, "allocations/lookup", allocs);
        assert_eq!(allocs, 0.0, "route lookups must not allocate");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
