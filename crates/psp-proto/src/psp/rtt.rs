//! Round-trip estimation and the retransmission timeout of RFC 6298, in whole milliseconds.
//!
//! A sample is taken whenever an acknowledgement releases payload or FIN messages: the time
//! since the latest send of any of them. Nothing the peer acknowledges can have been caused by
//! a later send, so the sample never exceeds the true round trip of what the peer answered; it
//! is short only when an acknowledgement answers an earlier copy than the latest (a spurious
//! re-send), and the [`MIN_RTO`] floor bounds the harm. Karn's rule (no sample from re-sent
//! messages) would leave a lossy bulk transfer without any sample at all: a write sends a whole
//! window at once, and after the first loss every acknowledgement covers a repaired hole, so
//! the timeout would stay at the initial 2 s. ACK-only messages are never sampled (they are
//! acknowledged whenever the peer next sends, which measures the peer's traffic, not the
//! path).

use crate::config::{MAX_RTO, MIN_RTO, RETRANSMIT_INTERVAL};

const fn ms(d: core::time::Duration) -> u64 {
    d.as_millis() as u64
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct RttEstimator {
    /// Smoothed round trip; `None` until the first sample.
    srtt: Option<u64>,
    rttvar: u64,
    /// The timeout computed from the samples (RFC 6298 §2), before backoff.
    rto: u64,
    /// Timeouts since the peer last acknowledged something new (RFC 6298 §5.5 doubles per timeout).
    backoff: u32,
}

impl Default for RttEstimator {
    fn default() -> Self {
        RttEstimator {
            srtt: None,
            rttvar: 0,
            rto: ms(RETRANSMIT_INTERVAL),
            backoff: 0,
        }
    }
}

impl RttEstimator {
    /// The current retransmission timeout.
    pub fn rto(&self) -> core::time::Duration {
        let backed_off = self.rto.saturating_mul(1u64 << self.backoff.min(16));
        core::time::Duration::from_millis(backed_off.min(ms(MAX_RTO)))
    }

    /// The smoothed round trip, once sampled.
    pub fn srtt(&self) -> Option<u64> {
        self.srtt
    }

    /// The round-trip variation (RFC 6298's RTTVAR), once sampled.
    pub fn rttvar(&self) -> Option<u64> {
        self.srtt.map(|_| self.rttvar)
    }

    /// The peer acknowledged something new. The backoff ends: the path works again (RFC 6298
    /// RFC 6298 §5.7 lets a new sample collapse the timeout; a repair acknowledges only re-sent
    /// messages, which give no sample, so progress has to).
    pub fn on_progress(&mut self) {
        self.backoff = 0;
    }

    /// A round-trip sample of `r` ms.
    pub fn on_sample(&mut self, r: u64) {
        // RFC 6298 §2.2 and §2.3 (alpha = 1/8, beta = 1/4, K = 4, G = 1 ms).
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(s) => {
                self.rttvar = (3 * self.rttvar + s.abs_diff(r)) / 4;
                self.srtt = Some((7 * s + r) / 8);
            }
        }
        let s = self.srtt.unwrap_or(r);
        self.rto = (s + (4 * self.rttvar).max(1)).clamp(ms(MIN_RTO), ms(MAX_RTO));
    }

    /// The retransmission timer expired: back off (RFC 6298 §5.5).
    pub fn on_timeout(&mut self) {
        self.backoff = self.backoff.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sample_then_smoothing_clamped_and_backed_off() {
        let mut r = RttEstimator::default();
        assert_eq!(r.rto().as_millis(), 2000, "Phoenix's 2 s before any sample");
        r.on_sample(100);
        // RFC 6298 §2.2: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4·RTTVAR.
        assert_eq!(r.srtt(), Some(100));
        assert_eq!(r.rto().as_millis(), 300);
        r.on_sample(20);
        assert_eq!(r.srtt(), Some((7 * 100 + 20) / 8));
        assert_eq!(r.rttvar, (3 * 50 + 80) / 4);
        for _ in 0..30 {
            r.on_sample(1);
        }
        assert_eq!(r.rto(), MIN_RTO, "never below the floor");
        let base = r.rto();
        r.on_timeout();
        assert_eq!(r.rto(), base * 2);
        for _ in 0..40 {
            r.on_timeout();
        }
        assert_eq!(r.rto(), MAX_RTO);
        r.on_progress();
        assert_eq!(r.rto(), base, "progress ends the backoff");
        r.on_sample(5000);
        assert_eq!(r.rto(), MAX_RTO, "never above the ceiling");
    }
}
