//! The whole stack (syscall-api's `Computer`) against its protocol crates alone, in one run:
//!
//! * a router computer forwarding PIP packets between two segments, fed through
//!   `NetworkStack::handle_modem_message` and drained through `poll_output`, against pip-core's
//!   `PipStack` doing the same forwarding;
//! * a PSP bulk transfer (1 MiB in 1 KiB messages) between two computers through the full
//!   syscall and handle-method path on phoenix-netsim's instant medium, against two psp-proto endpoints
//!   wired back to back.
//!
//! REPORT lines give packets/s and messages/s and the overhead ratio (stack time / crate time).

use std::hint::black_box;
use std::time::Instant as WallClock;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use modem_value::{table, Duration, Instant, LuaStr, Value};
use phoenix_benches::psp_pair::{psp_bulk, MSG};
use phoenix_benches::{allocations_per_op, report, router_frames, CountingAlloc};
use phoenix_netsim::{Medium, ModemKind, Position, World};
use pip_core::{IpConfigChange, PipStack, StackConfig};
use syscall_api::{Computer, ComputerConfig, NetworkStack};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

const POOL: usize = 8192;
const MSGS: usize = 1024;

fn router_computer() -> Computer {
    let mut cfg = ComputerConfig::new(10, &["/in", "/out"]);
    cfg.forwarding = true;
    let mut c = Computer::new(cfg, &mut modem_value::SplitMix64::new(1));
    let now = Instant::ZERO;
    for (dev, ip) in [("/in", "10.0.0.254"), ("/out", "10.0.1.1")] {
        c.syscall(
            now,
            0,
            true,
            "ipconfig",
            &[Value::from(dev), table! {"ip" => ip, "netmask" => 24}],
        )
        .unwrap();
    }
    c.syscall(
        now,
        0,
        true,
        "routeadd",
        &[table! {"source" => "20.0.0.0", "sourceNetmask" => 8,
        "action" => "unicast", "device" => "/out", "destination" => "10.0.1.2"}],
    )
    .unwrap();
    c.syscall(
        now,
        0,
        true,
        "arpset",
        &[
            Value::from("/out"),
            Value::from("10.0.1.2"),
            Value::from(20),
        ],
    )
    .unwrap();
    while c.poll_output().is_some() {}
    c
}

fn router_pip() -> PipStack<modem_value::SplitMix64> {
    let mut cfg = StackConfig::new(10);
    cfg.forwarding = true;
    let mut s = PipStack::new(cfg, modem_value::SplitMix64::new(1));
    for (dev, ip) in [("/in", "10.0.0.254"), ("/out", "10.0.1.1")] {
        s.add_device(dev).unwrap();
        let change = IpConfigChange {
            ip: Some(ip.parse().unwrap()),
            prefix: Some(24),
            up: Some(true),
        };
        s.ipconfig(dev, change).unwrap();
    }
    s.route_add(
        1,
        pip_core::route::Route {
            net: "20.0.0.0/8".parse().unwrap(),
            action: pip_core::route::RouteAction::Unicast,
            device: Some(pip_core::Device::new("/out")),
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

/// Forwards `n` frames through the whole computer; returns transmits seen.
fn forward_stack(c: &mut Computer, frames: &[Value], t0: &mut u64, n: usize) -> usize {
    let mut out = 0;
    for _ in 0..n {
        *t0 += 1;
        c.handle_modem_message(
            Instant::from_millis(*t0),
            "/in",
            7,
            50000,
            &frames[*t0 as usize % POOL],
            Some(3.0),
        );
        while let Some(o) = c.poll_output() {
            out += usize::from(matches!(o, syscall_api::Output::Transmit { .. }));
            black_box(o);
        }
    }
    out
}

fn forward_pip(
    s: &mut PipStack<modem_value::SplitMix64>,
    frames: &[Value],
    t0: &mut u64,
    n: usize,
) -> usize {
    let mut out = 0;
    for _ in 0..n {
        *t0 += 1;
        s.handle_modem_message(
            Instant::from_millis(*t0),
            "/in",
            7,
            50000,
            &frames[*t0 as usize % POOL],
        );
        while let Some(t) = s.poll_transmit() {
            out += 1;
            black_box(t);
        }
    }
    out
}

/// 1 MiB from computer 1 to computer 2 through connect/listen/write/read on an instant medium.
fn stack_bulk(data: &[Value]) -> usize {
    let mut w = World::new(Medium::new());
    let at = |x| ModemKind::Wireless(Position::new(x, 64.0, 0.0));
    let a = w.add_computer(ComputerConfig::new(1, &[]), &[("/top", at(0.0))], "a", 1);
    let b = w.add_computer(ComputerConfig::new(2, &[]), &[("/top", at(5.0))], "b", 2);
    for (n, ip) in [(a, "10.0.0.1"), (b, "10.0.0.2")] {
        w.syscall(
            n,
            1,
            true,
            "ipconfig",
            &[Value::from("/top"), table! {"ip" => ip, "netmask" => 24}],
        )
        .unwrap();
    }
    w.syscall(b, 1, false, "listen", &[Value::from("psp://0.0.0.0:80")])
        .unwrap();
    let c = w
        .syscall(a, 1, false, "connect", &[Value::from("psp://10.0.0.2:80")])
        .unwrap()[0]
        .as_num()
        .unwrap() as u64;
    let s = w
        .events()
        .iter()
        .find(|e| e.node == b && e.name == "network_request")
        .and_then(|e| e.params.get("handle").as_num())
        .unwrap() as u64;
    w.method(a, 1, c, "write", data).unwrap();
    let mut read = 0;
    let total = data.len() * MSG;
    while read < total {
        while let Some(v) = w.method(b, 1, s, "read", &[Value::from("*a")]).unwrap()[0]
            .as_str()
            .cloned()
        {
            read += v.len();
        }
        if read >= total {
            break;
        }
        let next = w
            .next_deadline()
            .unwrap_or(w.now() + Duration::from_millis(100));
        w.run_until(next);
    }
    read
}

fn bench(c: &mut Criterion) {
    let frames = router_frames(POOL);
    let mut comp = router_computer();
    let mut pip = router_pip();
    let (mut t1, mut t2) = (0u64, 0u64);
    assert_eq!(forward_stack(&mut comp, &frames, &mut t1, 16), 16);
    assert_eq!(forward_pip(&mut pip, &frames, &mut t2, 16), 16);

    let mut g = c.benchmark_group("router_forward");
    g.throughput(Throughput::Elements(1));
    g.bench_function("whole_stack", |b| {
        b.iter(|| forward_stack(&mut comp, &frames, &mut t1, 1))
    });
    g.bench_function("pip_core_alone", |b| {
        b.iter(|| forward_pip(&mut pip, &frames, &mut t2, 1))
    });
    g.finish();

    // Alternating chunks, so that a change in the machine's load during the run weighs on both.
    let (chunks, chunk) = (20, 10_000);
    let n = chunks * chunk;
    let (mut stack_s, mut pip_s) = (0.0, 0.0);
    for _ in 0..chunks {
        let start = WallClock::now();
        forward_stack(&mut comp, &frames, &mut t1, chunk);
        stack_s += start.elapsed().as_secs_f64();
        let start = WallClock::now();
        forward_pip(&mut pip, &frames, &mut t2, chunk);
        pip_s += start.elapsed().as_secs_f64();
    }
    report("stack_router", "packets/s", n as f64 / stack_s);
    report("pip_router_alone", "packets/s", n as f64 / pip_s);
    report(
        "stack_router",
        "overhead ratio (stack time / pip-core time)",
        stack_s / pip_s,
    );
    report(
        "stack_router",
        "allocations/packet",
        allocations_per_op(100_000, || {
            forward_stack(&mut comp, &frames, &mut t1, 1);
        }),
    );
    report(
        "pip_router_alone",
        "allocations/packet",
        allocations_per_op(100_000, || {
            forward_pip(&mut pip, &frames, &mut t2, 1);
        }),
    );

    let msgs: Vec<LuaStr> = (0..MSGS)
        .map(|i| LuaStr::from(vec![(i % 251) as u8; MSG]))
        .collect();
    let values: Vec<Value> = msgs.iter().cloned().map(Value::Str).collect();
    assert_eq!(stack_bulk(&values), MSGS * MSG);
    assert_eq!(psp_bulk(&msgs).0, MSGS * MSG);
    let mut g = c.benchmark_group("psp_bulk_1MiB");
    g.throughput(Throughput::Bytes((MSGS * MSG) as u64));
    g.sample_size(10);
    g.bench_function("whole_stack", |b| b.iter(|| black_box(stack_bulk(&values))));
    g.bench_function("psp_proto_alone", |b| b.iter(|| black_box(psp_bulk(&msgs))));
    g.finish();

    // Interleaved runs, best of each: on a shared machine a burst of load during one side's
    // back-to-back runs would otherwise skew the ratio either way.
    let runs = 9;
    let (mut stack_s, mut psp_s) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..runs {
        let start = WallClock::now();
        black_box(stack_bulk(&values));
        stack_s = stack_s.min(start.elapsed().as_secs_f64());
        let start = WallClock::now();
        black_box(psp_bulk(&msgs));
        psp_s = psp_s.min(start.elapsed().as_secs_f64());
    }
    report("stack_psp_bulk", "messages/s", MSGS as f64 / stack_s);
    report("psp_bulk_alone", "messages/s", MSGS as f64 / psp_s);
    report(
        "stack_psp_bulk",
        "overhead ratio (stack time / psp-proto time)",
        stack_s / psp_s,
    );
    report(
        "stack_psp_bulk",
        "allocations/message",
        allocations_per_op(1, || {
            black_box(stack_bulk(&values));
        }) / MSGS as f64,
    );
    report(
        "psp_bulk_alone",
        "allocations/message",
        allocations_per_op(1, || {
            black_box(psp_bulk(&msgs));
        }) / MSGS as f64,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
