//! Per-input cost against the number of connections: what a host pays for one input line
//! (`handle_timeout` at the current time, then `poll_timeout` for the `deadline` line) when the
//! computer holds 10, 10 000 or 100 000 connections that have nothing to do.
//!
//! * `psp/idle`: established psp-proto connections with no timer armed;
//! * `psp/armed`: connections each waiting for the acknowledgement of one message (a
//!   retransmission timer armed, not due);
//! * `computer/syn_sent` and `computer/failed`: a whole `Computer` (syscall-api) holding that many
//!   PSP handles, connecting (SYN sent, timers armed) and failed (`Connection timed out`, as a
//!   host sees after a flood of connects to a silent address). A computer holds at most
//!   `MAX_HANDLES` (65 536) handles, so its largest case is 60 000.
//!
//! REPORT lines give ns per input and the ratio to the 10-connection case (goal: ≤ 2).

use std::hint::black_box;
use std::time::Instant as WallClock;

use criterion::{criterion_group, criterion_main, Criterion};
use modem_value::{Instant, LuaStr, SplitMix64, Value, WireMessage};
use phoenix_benches::psp_pair::{ctx, A_IP, B_IP};
use phoenix_benches::report;
use psp_proto::{PspEndpoint, Segment, State};
use syscall_api::{Computer, ComputerConfig, NetworkStack};

const SIZES: [usize; 3] = [10, 10_000, 100_000];
const COMPUTER_SIZES: [usize; 3] = [10, 10_000, 60_000];

/// An endpoint with `n` established connections (the peer's SYN-ACKs are made by hand, so no
/// second endpoint is needed); with `armed`, each has one unacknowledged message in flight.
fn endpoint(n: usize, armed: bool) -> PspEndpoint<u8> {
    let mut ep: PspEndpoint<u8> = PspEndpoint::default();
    let mut rng = SplitMix64::new(5);
    let t = Instant::ZERO;
    for i in 0..n {
        let id = i as u64 + 1;
        // At most 1 000 connections per remote port keeps ephemeral port picking cheap.
        let rport = 1000 + (i / 1000) as u16;
        let local = ep.connect(t, &mut rng, id, B_IP, Some(rport)).unwrap();
        ep.handle_syn_sent(t, id, Ok(0));
        let syn = ep.poll_transmit().unwrap();
        let syn = Segment::decode(&syn.payload).unwrap();
        let c = ctx(local, rport, B_IP, A_IP);
        ep.handle_segment(t, &mut rng, &c, &Segment::syn_ack(7, syn.sequence + 1));
        assert_eq!(ep.state(id), Some(State::Connected));
        if armed {
            ep.write(t, id, LuaStr::from("x")).unwrap();
        }
        while ep.poll_transmit().is_some() {}
        while ep.poll_channel().is_some() {}
        while ep.poll_event().is_some() {}
    }
    ep
}

fn computer(n: usize, failed: bool) -> (Computer, Instant) {
    let mut c = Computer::new(ComputerConfig::new(1, &["/m"]), &mut SplitMix64::new(3));
    let t = Instant::ZERO;
    c.syscall(
        t,
        0,
        true,
        "ipconfig",
        &[
            Value::from("/m"),
            modem_value::table! {"ip" => "10.0.0.1", "netmask" => 24},
        ],
    )
    .unwrap();
    c.syscall(
        t,
        0,
        true,
        "arpset",
        &[Value::from("/m"), Value::from("10.0.0.2"), Value::from(2)],
    )
    .unwrap();
    for i in 0..n {
        let uri = format!("psp://10.0.0.2:{}", 1000 + i / 1000);
        c.syscall(t, 1, false, "connect", &[Value::from(uri.as_str())])
            .unwrap();
        while c.poll_output().is_some() {}
    }
    let now = if failed {
        // Past every connect deadline: each handle is in `error`.
        let end = Instant::from_secs(30);
        c.handle_timeout(end);
        while c.poll_output().is_some() {}
        assert_eq!(c.poll_timeout(), None);
        end
    } else {
        Instant::from_millis(500)
    };
    (c, now)
}

/// Times `iters` inputs with a wall clock (REPORT lines only; criterion does the rest).
fn ns_per(iters: u32, mut f: impl FnMut()) -> f64 {
    let start = WallClock::now();
    for _ in 0..iters {
        f();
    }
    start.elapsed().as_nanos() as f64 / f64::from(iters)
}

fn bench_psp(c: &mut Criterion) {
    let mut g = c.benchmark_group("per_input");
    g.sample_size(20);
    for armed in [false, true] {
        let kind = if armed { "psp/armed" } else { "psp/idle" };
        let mut base = None;
        for n in SIZES {
            let mut ep = endpoint(n, armed);
            let now = Instant::from_millis(1000);
            assert!(ep.poll_timeout().is_none_or(|d| d > now));
            let mut line = || {
                ep.handle_timeout(now);
                black_box(ep.poll_timeout());
            };
            let ns = ns_per(200_000, &mut line);
            let b = *base.get_or_insert(ns);
            report(&format!("{kind}/{n}"), "ns per input", ns);
            report(&format!("{kind}/{n}"), "ratio to 10 connections", ns / b);
            g.bench_function(format!("{kind}/{n}"), |bch| bch.iter(&mut line));
            if !armed {
                // What the input cost before the deadline index: a scan of every connection
                // (the old `poll_timeout`; the old `handle_timeout` scanned once more).
                let ns = ns_per(2_000, || {
                    ep.handle_timeout(now);
                    black_box(ep.scan_timeout());
                });
                report(&format!("psp/idle-scan/{n}"), "ns per input", ns);
            }
        }
    }
    for failed in [false, true] {
        let kind = if failed {
            "computer/failed"
        } else {
            "computer/syn_sent"
        };
        let mut base = None;
        for n in COMPUTER_SIZES {
            let (mut comp, now) = computer(n, failed);
            let mut line = || {
                comp.handle_timeout(now);
                while let Some(o) = comp.poll_output() {
                    black_box(o);
                }
                black_box(comp.poll_timeout());
            };
            let ns = ns_per(200_000, &mut line);
            let b = *base.get_or_insert(ns);
            report(&format!("{kind}/{n}"), "ns per input", ns);
            report(&format!("{kind}/{n}"), "ratio to 10 connections", ns / b);
            g.bench_function(format!("{kind}/{n}"), |bch| bch.iter(&mut line));
        }
    }
    g.finish();
}

criterion_group!(benches, bench_psp);
criterion_main!(benches);
