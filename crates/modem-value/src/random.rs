//! The injected source of randomness.

/// Where a state machine gets its random numbers: rednet message IDs, PIP `messageID`s, PSP
/// initial sequence numbers, ephemeral ports.
///
/// The host implements it (over its OS RNG, a seeded PRNG, a fuzzer's bytes, …); the same
/// sequence of numbers gives the same outputs. Only [`RandomSource::next_u64`] is required.
pub trait RandomSource {
    /// 64 uniformly random bits.
    fn next_u64(&mut self) -> u64;

    /// 32 uniformly random bits.
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Fills `buf` with random bytes.
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let r = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
    }

    /// A uniform integer in `lo..=hi` (`lo` if `hi < lo`), without modulo bias.
    fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = hi - lo;
        if span == u64::MAX {
            return self.next_u64();
        }
        let n = span + 1;
        // Rejection sampling on the top of the range keeps every outcome equally likely.
        let zone = u64::MAX - (u64::MAX - n + 1) % n;
        loop {
            let r = self.next_u64();
            if r <= zone {
                return lo + r % n;
            }
        }
    }

    /// A uniform float in `[0, 1)` with 53 random bits, like Lua's `math.random()`.
    fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

impl<R: RandomSource + ?Sized> RandomSource for &mut R {
    fn next_u64(&mut self) -> u64 {
        (**self).next_u64()
    }
}

/// SplitMix64: a tiny, fast, seedable generator for tests, simulators and benchmarks.
///
/// Not for anything that needs unpredictability against an adversary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator whose whole output is determined by `seed`.
    pub const fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
}

impl RandomSource for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_in_range() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        for _ in 0..1000 {
            let x = a.range_inclusive(1, 2_147_483_647);
            assert_eq!(x, b.range_inclusive(1, 2_147_483_647));
            assert!((1..=2_147_483_647).contains(&x));
            let f = a.unit_f64();
            b.unit_f64();
            assert!((0.0..1.0).contains(&f));
        }
        assert_eq!(a.range_inclusive(5, 5), 5);
        assert_eq!(a.range_inclusive(9, 3), 9);
        let mut buf = [0u8; 13];
        a.fill_bytes(&mut buf);
        assert!(buf.iter().any(|&x| x != 0));
    }

    #[test]
    fn small_range_hits_every_value() {
        let mut r = SplitMix64::new(1);
        let mut seen = [false; 6];
        for _ in 0..600 {
            seen[r.range_inclusive(10, 15) as usize - 10] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
