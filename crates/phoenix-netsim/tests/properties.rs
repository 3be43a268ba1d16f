//! The medium against a model of CC:Tweaked's delivery rule, and its determinism.

use modem_value::{Instant, Value};
use phoenix_netsim::{LinkModel, Medium, ModemKind, Position};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Setup {
    xs: Vec<f64>,
    open: Vec<bool>,
    sends: Vec<(usize, u32)>,
}

fn setup() -> impl Strategy<Value = Setup> {
    (2usize..8).prop_flat_map(|n| {
        (
            proptest::collection::vec(0.0f64..200.0, n),
            proptest::collection::vec(any::<bool>(), n),
            proptest::collection::vec((0..n, 0u32..1000), 1..20),
        )
            .prop_map(|(xs, open, sends)| Setup { xs, open, sends })
    })
}

fn build(s: &Setup, link: LinkModel, seed: u64) -> Medium {
    let mut m = Medium::with_link(link, seed);
    for (i, &x) in s.xs.iter().enumerate() {
        let id = m.add_modem(i as u32, ModemKind::Wireless(Position::new(x, 64.0, 0.0)));
        if s.open[i] {
            m.open(id, 42).unwrap();
        }
    }
    m
}

proptest! {
    /// On a perfect link, each transmit reaches exactly the other open modems within 64 blocks.
    #[test]
    fn perfect_link_matches_model(s in setup()) {
        let mut m = build(&s, LinkModel::default(), 0);
        for &(from, payload) in &s.sends {
            m.transmit(Instant::ZERO, phoenix_netsim::ModemId(from), 42, 0, &Value::from(payload)).unwrap();
            let mut got: Vec<usize> = std::iter::from_fn(|| m.poll_delivery(Instant::ZERO))
                .map(|d| { assert_eq!(d.message, Value::from(payload)); d.modem.0 })
                .collect();
            got.sort();
            let want: Vec<usize> = (0..s.xs.len())
                .filter(|&i| i != from && s.open[i] && (s.xs[i] - s.xs[from]).abs() <= 64.0)
                .collect();
            prop_assert_eq!(got, want);
        }
    }

    /// Same seed, same deliveries; copies arrive in time order.
    #[test]
    fn lossy_link_is_deterministic(s in setup(), seed in any::<u64>()) {
        let link = LinkModel { loss: 0.2, duplicate: 0.2, latency_min_ms: 5, latency_max_ms: 200 };
        let run = |seed| {
            let mut m = build(&s, link, seed);
            for (t, &(from, payload)) in s.sends.iter().enumerate() {
                m.transmit(Instant::from_millis(t as u64 * 10), phoenix_netsim::ModemId(from), 42, 0, &Value::from(payload)).unwrap();
            }
            let mut out = Vec::new();
            let mut last = Instant::ZERO;
            while let Some(t) = m.poll_timeout() {
                assert!(t >= last);
                last = t;
                while let Some(d) = m.poll_delivery(t) { out.push((t, d.modem, d.message)); }
            }
            (out, m.stats())
        };
        let (a, sa) = run(seed);
        let (b, sb) = run(seed);
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(sa, sb);
        prop_assert_eq!(sa.delivered as usize, a.len());
    }
}
