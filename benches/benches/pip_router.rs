//! pip-core router fast path: a PLP frame carrying a PIP packet arrives on one interface, is
//! validated (PLP + PIP decode, duplicate check), routed (longest-prefix match over 1 000
//! routes), resolved (ARP cache hit), its `hopsLeft` decremented and re-framed for the next
//! hop; the transmit is drained. Target: ≥ 1 M packets/s on one core.
//!
//! There is no other Phoenix router to race; the REPORT lines compare with the floor of the
//! same work done by hand with the typed wire types (decode the frame and packet, encode the
//! packet and a new frame), which skips routing, ARP and duplicate suppression.

use std::hint::black_box;
use std::time::Instant as WallClock;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use modem_value::{Instant, RandomSource, SplitMix64, Value, WireMessage};
use phoenix_benches::{allocations_per_op, report, CountingAlloc};
use pip_core::ipnet::Ipv4Net;
use pip_core::route::{Route, RouteAction};
use pip_core::wire::{LinkFrame, PipPacket};
use pip_core::{Device, IpConfigChange, PipStack, StackConfig};
use std::net::Ipv4Addr;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Distinct packets (more than the 4096 remembered IDs, so each is fresh when it comes round).
const POOL: usize = 8192;
const ROUTES: usize = 1000;

fn router() -> PipStack<SplitMix64> {
    let mut cfg = StackConfig::new(10);
    cfg.forwarding = true;
    let mut s = PipStack::new(cfg, SplitMix64::new(1));
    for (dev, ip) in [("/in", "10.0.0.254"), ("/out", "10.0.1.1")] {
        s.add_device(dev).unwrap();
        s.ipconfig(
            dev,
            IpConfigChange {
                ip: Some(ip.parse().unwrap()),
                prefix: Some(24),
                up: Some(true),
            },
        )
        .unwrap();
    }
    let mut rng = SplitMix64::new(9);
    let out = Device::new("/out");
    for _ in 0..ROUTES {
        let a = Ipv4Addr::from(rng.next_u32() | 0x8000_0000);
        let _ = s.route_add(
            1,
            Route {
                net: Ipv4Net::new(a, 24).unwrap().trunc(),
                action: RouteAction::Unicast,
                device: Some(out.clone()),
                gateway: Some("10.0.1.2".parse().unwrap()),
            },
        );
    }
    s.route_add(
        1,
        Route {
            net: "20.0.0.0/8".parse().unwrap(),
            action: RouteAction::Unicast,
            device: Some(out.clone()),
            gateway: Some("10.0.1.2".parse().unwrap()),
        },
    )
    .unwrap();
    s.arp_set("/out", "10.0.1.2".parse().unwrap(), Some(20))
        .unwrap();
    while s.poll_transmit().is_some() {}
    while s.poll_channel().is_some() {}
    s
}

fn frames() -> Vec<Value> {
    phoenix_benches::router_frames(POOL)
}

struct Fwd {
    s: PipStack<SplitMix64>,
    frames: Vec<Value>,
    i: usize,
    t: u64,
}

impl Fwd {
    #[inline]
    fn step(&mut self) {
        self.t += 1;
        let f = &self.frames[self.i];
        self.i = (self.i + 1) % POOL;
        self.s
            .handle_modem_message(Instant::from_millis(self.t), "/in", 7, 50000, f);
        let t = self.s.poll_transmit();
        debug_assert!(t.is_some());
        black_box(t);
    }
}

/// The floor: decode frame and packet, encode the packet (hops - 1) and a new frame.
fn floor_step(f: &Value) -> Value {
    let frame = LinkFrame::decode(f).unwrap();
    let mut p = PipPacket::decode(&Value::Table(frame.payload)).unwrap();
    p.hops_left -= 1;
    let out = LinkFrame {
        source: 10,
        destination: Some(20),
        payload: match p.encode() {
            Value::Table(t) => t,
            _ => unreachable!(),
        },
    };
    out.encode()
}

/// User + system CPU time of the calling thread in ms (Linux `/proc`, 10 ms resolution).
fn thread_cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 10.0)
}

fn bench(c: &mut Criterion) {
    let mut fwd = Fwd {
        s: router(),
        frames: frames(),
        i: 0,
        t: 0,
    };
    // Warm up (fills the seen set to its steady state) and check that packets are forwarded.
    for _ in 0..2 * POOL {
        fwd.step();
    }
    let before = fwd.s.stats().forwarded;
    fwd.step();
    assert_eq!(fwd.s.stats().forwarded, before + 1, "{:?}", fwd.s.stats());

    let mut g = c.benchmark_group("pip_router");
    g.throughput(Throughput::Elements(1));
    g.bench_function("forward_one_packet", |b| b.iter(|| fwd.step()));
    let frames = frames();
    let mut j = 0;
    g.bench_function("floor_decode_encode", |b| {
        b.iter(|| {
            j = (j + 1) % POOL;
            black_box(floor_step(&frames[j]))
        })
    });
    g.finish();

    let n = 1_000_000;
    let cpu0 = thread_cpu_ms();
    let start = WallClock::now();
    for _ in 0..n {
        fwd.step();
    }
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    if let (Some(a), Some(b)) = (cpu0, thread_cpu_ms()) {
        // CPU time of this thread: what one core does, whatever else the machine runs.
        let cpu_ns = (b - a) * 1e6 / n as f64;
        report("pip_router", "CPU ns/packet (one core)", cpu_ns);
        report(
            "pip_router",
            "packets/s per core (millions)",
            1000.0 / cpu_ns,
        );
    }
    let start = WallClock::now();
    for k in 0..n {
        black_box(floor_step(&frames[k % POOL]));
    }
    let floor = start.elapsed().as_nanos() as f64 / n as f64;
    let allocs = allocations_per_op(100_000, || fwd.step());
    let floor_allocs = allocations_per_op(100_000, || {
        j = (j + 1) % POOL;
        black_box(floor_step(&frames[j]));
    });
    report("pip_router", "ns/packet", ns);
    report("pip_router", "packets/s (millions)", 1000.0 / ns);
    report("pip_router", "allocations/packet", allocs);
    report("pip_router", "floor (decode+encode) ns/packet", floor);
    report("pip_router", "floor allocations/packet", floor_allocs);
    report("pip_router", "ratio floor/router (x)", floor / ns);
}

criterion_group!(benches, bench);
criterion_main!(benches);
