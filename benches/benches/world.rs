//! Modem deliveries through phoenix-netsim's `World`: one computer broadcasts and every other
//! computer of a wireless network takes the frame through its whole stack (`Computer`), as the
//! simulator does at scale.
//!
//! * rejected: a PLP link frame addressed to another computer, which every receiver drops after
//!   reading its destination (the common case in a busy segment);
//! * ARP-learning: an ARP request for another address, which every receiver must learn from
//!   (Phoenix §6.3 rule 2) before dropping it.
//!
//! The comparison is the floor of the same job: a loop handing the same frame to the same
//! number of receivers that each do only the one destination compare.
//!
//! REPORT lines give deliveries per second (one core) and allocations per delivery.

use std::hint::black_box;
use std::time::Instant as WallClock;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use modem_value::{table, Value};
use phoenix_benches::{allocations_per_op, report, CountingAlloc};
use phoenix_netsim::{Medium, ModemKind, Position, World};
use syscall_api::ComputerConfig;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const N: u32 = 1000;

fn world() -> World {
    let mut w = World::new(Medium::new());
    for i in 0..N {
        let at = ModemKind::Wireless(Position::new(f64::from(i % 40), 64.0, f64::from(i / 40)));
        let n = w.add_computer(
            ComputerConfig::new(i + 1, &[]),
            &[("/top", at)],
            "",
            u64::from(i),
        );
        let ip = format!("10.1.{}.{}", i / 250, i % 250 + 1);
        w.syscall(
            n,
            0,
            true,
            "ipconfig",
            &[
                Value::from("/top"),
                table! {"ip" => ip.as_str(), "netmask" => 16},
            ],
        )
        .unwrap();
    }
    w
}

fn link_frame() -> Value {
    table! {"PhoenixNetworking" => true, "type" => "link", "source" => 1, "destination" => 999_999,
    "payload" => table! {"PhoenixNetworking" => true, "type" => "pip", "source" => "10.1.0.1",
        "destination" => "10.1.9.9", "messageID" => "x", "hopsLeft" => 15,
        "payload" => table! {"type" => "socket"}}}
}

fn arp_request() -> Value {
    table! {"PhoenixNetworking" => true, "type" => "arp", "reply" => false, "source" => 1,
    "sourceIP" => "10.1.0.1", "destinationIP" => "10.1.9.9"}
}

fn broadcast(w: &mut World, frame: &Value) {
    w.transmit(0, "/top", 0, 0, frame);
    w.flush();
}

/// The floor: the same fan-out with one destination compare per receiver.
fn floor(ids: &[u32], frame: &Value) -> usize {
    let dst = frame.get("destination").as_num().unwrap_or(0.0);
    ids.iter()
        .filter(|&&id| f64::from(id) == black_box(dst))
        .count()
}

fn rate(mut f: impl FnMut(), deliveries: u64) -> f64 {
    let rounds = 50u64;
    let t = WallClock::now();
    for _ in 0..rounds {
        f();
    }
    (rounds * deliveries) as f64 / t.elapsed().as_secs_f64()
}

fn bench(c: &mut Criterion) {
    let mut w = world();
    let link = link_frame();
    let arp = arp_request();
    let ids: Vec<u32> = (2..=N).collect();
    let before = w.stats().deliveries;
    broadcast(&mut w, &link);
    let per = w.stats().deliveries - before;
    assert_eq!(per, u64::from(N - 1), "everyone hears the broadcast");

    let mut g = c.benchmark_group("world_deliveries");
    g.throughput(Throughput::Elements(per));
    g.bench_function("rejected_link_frame", |b| {
        b.iter(|| broadcast(&mut w, &link))
    });
    g.bench_function("arp_learning", |b| b.iter(|| broadcast(&mut w, &arp)));
    g.bench_function("floor_one_compare", |b| b.iter(|| floor(&ids, &link)));
    g.finish();

    let rejected = rate(|| broadcast(&mut w, &link), per);
    let learning = rate(|| broadcast(&mut w, &arp), per);
    let bare = rate(
        || {
            black_box(floor(&ids, &link));
        },
        per,
    );
    report("world", "rejected deliveries/s (1000 computers)", rejected);
    report("world", "ARP-learning deliveries/s", learning);
    report(
        "world",
        "floor (one compare per receiver) deliveries/s",
        bare,
    );
    report("world", "rejected: time vs floor", bare / rejected);
    report(
        "world",
        "allocations per rejected delivery",
        allocations_per_op(20, || broadcast(&mut w, &link)) / per as f64,
    );
    report(
        "world",
        "allocations per ARP-learning delivery",
        allocations_per_op(20, || broadcast(&mut w, &arp)) / per as f64,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
