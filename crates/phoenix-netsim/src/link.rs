//! Seeded imperfections of the medium: loss, duplication, latency (and so reordering).

use modem_value::RandomSource;

/// How each copy of a transmit fares on its way to one receiver.
///
/// The game's modems are perfect (every in-range copy arrives on the next tick); the default
/// model is too. Simulations of lossy links raise `loss` and `duplicate`, and spread latency
/// between `latency_min_ms` and `latency_max_ms` so that copies overtake each other.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkModel {
    /// Probability in `[0, 1]` that a copy is lost.
    pub loss: f64,
    /// Probability in `[0, 1]` that a surviving copy arrives twice.
    pub duplicate: f64,
    /// Fewest milliseconds a copy takes.
    pub latency_min_ms: u64,
    /// Most milliseconds a copy takes (uniform in between).
    pub latency_max_ms: u64,
}

impl Default for LinkModel {
    fn default() -> Self {
        LinkModel {
            loss: 0.0,
            duplicate: 0.0,
            latency_min_ms: 0,
            latency_max_ms: 0,
        }
    }
}

impl LinkModel {
    /// How many copies of one packet reach one receiver: 0, 1 or 2.
    pub fn copies(&self, rng: &mut impl RandomSource) -> u32 {
        if self.loss > 0.0 && rng.unit_f64() < self.loss {
            return 0;
        }
        if self.duplicate > 0.0 && rng.unit_f64() < self.duplicate {
            return 2;
        }
        1
    }

    /// The latency of one copy.
    pub fn latency_ms(&self, rng: &mut impl RandomSource) -> u64 {
        if self.latency_max_ms <= self.latency_min_ms {
            return self.latency_min_ms;
        }
        rng.range_inclusive(self.latency_min_ms, self.latency_max_ms)
    }
}
