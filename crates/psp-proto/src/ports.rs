//! Ephemeral port choice: uniform in 49152–65535, at most 16384 draws.

use modem_value::RandomSource;

use crate::config::{EPHEMERAL_DRAWS, EPHEMERAL_FIRST, EPHEMERAL_LAST};
use crate::PspError;

/// Draws ports from `rng` until `in_use` says one is free; `Too many open sockets` after
/// [`EPHEMERAL_DRAWS`] draws, as Phoenix does (so a nearly full range can fail even though a
/// port is free: the behaviour is the spec's, and the randomness is injected).
pub fn pick_ephemeral(
    rng: &mut impl RandomSource,
    mut in_use: impl FnMut(u16) -> bool,
) -> Result<u16, PspError> {
    for _ in 0..EPHEMERAL_DRAWS {
        let p = rng.range_inclusive(u64::from(EPHEMERAL_FIRST), u64::from(EPHEMERAL_LAST));
        let p = u16::try_from(p).unwrap_or(EPHEMERAL_LAST);
        if !in_use(p) {
            return Ok(p);
        }
    }
    Err(PspError::TooManyOpenSockets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use modem_value::SplitMix64;

    #[test]
    fn in_range_and_exhaustion() {
        let mut rng = SplitMix64::new(3);
        for _ in 0..1000 {
            let p = pick_ephemeral(&mut rng, |_| false).unwrap();
            assert!(p >= EPHEMERAL_FIRST);
        }
        let mut draws = 0;
        let r = pick_ephemeral(&mut rng, |_| {
            draws += 1;
            true
        });
        assert_eq!(r, Err(PspError::TooManyOpenSockets));
        assert_eq!(draws, EPHEMERAL_DRAWS);
        // A free port is found among used ones.
        let p = pick_ephemeral(&mut rng, |p| p % 7 != 0).unwrap();
        assert_eq!(p % 7, 0);
    }
}
