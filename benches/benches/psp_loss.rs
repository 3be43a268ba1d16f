//! PSP loss recovery over a seeded lossy link (10 % loss each way, 50 ms one way, 200 kB in
//! 1 kB messages): the adaptive rule (alone, with receiver duplicate ACKs, with selective
//! acknowledgements) against Phoenix's fixed rounds, between two psp-proto stacks and against a
//! model of Phoenix 0.0.9's receiver. REPORT lines give virtual seconds
//! (deterministic) and re-sent segments per lost one; criterion times the simulation itself.

#[path = "../../crates/psp-proto/tests/common/transfer.rs"]
#[allow(dead_code)]
mod transfer;

use criterion::{criterion_group, criterion_main, Criterion};
use phoenix_benches::report;
use psp_proto::{PspConfig, Recovery};
use transfer::{transfer, Setup};

fn cfg(recovery: Recovery, dup_acks: bool) -> PspConfig {
    PspConfig {
        skip_stalled_gaps: false,
        recovery,
        dup_acks,
        selective_ack: false,
    }
}

/// Both sides offer selective acknowledgements.
fn sack() -> PspConfig {
    PspConfig {
        selective_ack: true,
        ..PspConfig::default()
    }
}

fn bench(c: &mut Criterion) {
    let setup = Setup {
        seed: 1,
        loss: 0.10,
        delay: 50,
        bytes: 200_000,
        msg: 1000,
    };
    let runs = [
        ("fixed", cfg(Recovery::Phoenix, false), true),
        ("adaptive", cfg(Recovery::Adaptive, false), true),
        ("adaptive+dup_acks", cfg(Recovery::Adaptive, true), true),
        ("adaptive+selective_ack", sack(), true),
        ("phoenix_rx/fixed", cfg(Recovery::Phoenix, false), false),
        ("phoenix_rx/adaptive", cfg(Recovery::Adaptive, false), false),
    ];
    let mut g = c.benchmark_group("psp_loss");
    g.sample_size(10);
    let mut base = [0u64; 2];
    for (name, cfg, ours) in runs {
        let rx = ours.then_some(cfg);
        let o = transfer(setup, cfg, rx);
        let slot = usize::from(!ours);
        if base[slot] == 0 {
            base[slot] = o.ms;
        }
        report(name, "virtual seconds", o.ms as f64 / 1000.0);
        report(
            name,
            "speed-up over fixed rounds",
            base[slot] as f64 / o.ms as f64,
        );
        report(
            name,
            "re-sent per lost segment",
            o.retransmitted as f64 / o.lost.max(1) as f64,
        );
        g.bench_function(name, |b| b.iter(|| transfer(setup, cfg, rx)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
