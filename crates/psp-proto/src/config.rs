//! Every constant of the protocol and every bound on what a peer can make us store.
//!
//! Timings are the spec's; bounds are ours, chosen so that
//! no peer — a SYN flood, a stream of segments for unknown sockets, a sender that ignores our
//! window, a PDP sender spraying new addresses — can grow memory without limit.

use core::time::Duration;

/// The receive window every PSP segment advertises, in messages (constant in Phoenix;
/// this stack advertises it too, and honours the peer's).
pub const WINDOW: u64 = 256;

/// First ephemeral port.
pub const EPHEMERAL_FIRST: u16 = 49152;
/// Last ephemeral port.
pub const EPHEMERAL_LAST: u16 = 65535;
/// Random draws before `Too many open sockets`.
pub const EPHEMERAL_DRAWS: u32 = 16384;

/// syn-sent: the connection fails this long after its SYN left.
pub const SYN_SENT_TIMEOUT: Duration = Duration::from_secs(5);
/// syn-sent: the SYN is sent once more this long after it left.
pub const SYN_RESEND_AFTER: Duration = Duration::from_secs(2);
/// syn-sent, before the PIP layer reported that the SYN left (ARP resolution can take 2 s): the
/// connection fails this long after `connect` if the report never comes (a packet can
/// vanish without a report).
pub const SYN_UNSENT_TIMEOUT: Duration = Duration::from_secs(7);

/// syn-received: first retry this long after the SYN-ACK.
pub const SYN_RECEIVED_FIRST_RETRY: Duration = Duration::from_secs(5);
/// syn-received: later retries (each re-sends the SYN-ACK).
pub const SYN_RECEIVED_RETRY: Duration = Duration::from_secs(2);
/// syn-received: the half-open connection fails when the retry counter exceeds this.
pub const SYN_RECEIVED_MAX_RETRIES: u32 = 3;

/// Retransmission interval (fixed): the timeout of [`Recovery::Phoenix`] and the
/// initial timeout of [`Recovery::Adaptive`] (before the first round-trip sample).
pub const RETRANSMIT_INTERVAL: Duration = Duration::from_secs(2);
/// [`Recovery::Adaptive`]: the retransmission timeout never goes below this. It must exceed a
/// peer's delayed ACK ([`DELAYED_ACK`], 100 ms) plus a few 50 ms game ticks, or a peer that is
/// merely slow to acknowledge would see spurious retransmissions.
pub const MIN_RTO: Duration = Duration::from_millis(250);
/// [`Recovery::Adaptive`]: the timeout (and its exponential backoff) never exceeds Phoenix's
/// fixed interval, so the adaptive rule is never the slower sender: PSP has no congestion
/// control, and a Phoenix peer re-sends whole windows every 2 s whatever we do. A peer that
/// acknowledges on a 1 s tick measures about 1 s ± 0.5 s, which RFC 6298 would turn into 3 s.
pub const MAX_RTO: Duration = RETRANSMIT_INTERVAL;
/// [`Recovery::Adaptive`]: this many duplicate acknowledgements in a row start a fast
/// retransmission (RFC 5681 §3.2).
pub const DUP_ACK_THRESHOLD: u32 = 3;
/// [`PspConfig::dup_acks`]: immediate duplicate ACKs a receiver sends per gap (enough for the
/// sender's [`DUP_ACK_THRESHOLD`]; each is a message the peer must receive in order).
pub const DUP_ACKS_PER_GAP: u32 = 4;
/// [`PspConfig::selective_ack`]: ranges in one `selectiveAcknowledgement` field (the lowest
/// ones; a 256-message window has at most 128 gaps, and the first holes are what a sender
/// repairs first). Also the most a decoder accepts.
pub const MAX_SACK_BLOCKS: usize = 32;
/// [`PspConfig::selective_ack`], receiver: besides one immediate acknowledgement per batch of
/// out-of-order arrivals, an ACK-only message every this many of them, so one lost
/// acknowledgement does not leave the sender waiting for its timeout.
pub const SACK_ACK_EVERY: u32 = 16;

/// Connected: after this many unanswered retransmission rounds the connection fails with
/// `Connection timed out`. Under [`Recovery::Adaptive`], whose rounds are uneven, the same
/// limit in time: the connection fails when its oldest unacknowledged message has waited this
/// many intervals plus one (18 s, when Phoenix's rule gives up) since it left or since the last
/// progress.
pub const MAX_RETRANSMIT_ROUNDS: u32 = 8;
/// Closing states: the FIN is re-sent at most this many times, then the socket is forced
/// closed.
pub const MAX_FIN_RESENDS: u32 = 3;
/// fin-wait after our FIN was acknowledged without the peer's FIN (a TCP-style half close, or a
/// re-ACK of a retransmitted FIN): how long to wait for the peer's FIN before forcing closed.
pub const FIN_WAIT_2_TIMEOUT: Duration = Duration::from_secs(6);

/// Delayed ACK: due exactly this long after the first unacknowledged payload arrived.
pub const DELAYED_ACK: Duration = Duration::from_millis(100);
/// An ACK-only message is sent at once when this many payload messages are unacknowledged, so
/// that a sender limited by the 256-message window never waits for the delayed ACK.
pub const ACK_EVERY: u32 = 128;

/// time-wait lasts this long, then the socket is reaped.
pub const TIME_WAIT: Duration = Duration::from_secs(10);

/// Receive side: a gap at the next expected sequence is skipped once it has lasted this long
/// (see [`PspConfig::skip_stalled_gaps`]).
pub const GAP_SKIP_AFTER: Duration = Duration::from_secs(4);
/// …and the peer has re-sent later sequences in at least this many distinct retransmission
/// rounds (or a FIN is waiting behind the gap: Phoenix never re-sends a FIN).
pub const GAP_SKIP_ROUNDS: u32 = 2;

/// Out-of-order segments buffered per connection (never more than the window: a sequence at or
/// beyond `next expected + WINDOW` is dropped).
pub const MAX_OUT_OF_ORDER: usize = WINDOW as usize;
/// Received bytes buffered per connection (unread + out of order). An in-order payload that would
/// exceed it is dropped unacknowledged, so the sender re-sends it later: wire-compatible
/// back-pressure, since the advertised window is a constant.
pub const MAX_RECV_BUFFER: usize = 1 << 20;
/// Messages sent and not yet acknowledged per connection (payload, ACK-only and FIN). New payload
/// messages are already limited by the peer's window; this also caps the ACK-only messages a
/// peer can provoke (re-ACKs of duplicates) without ever acknowledging them: beyond it, re-ACKs
/// are not sent.
pub const MAX_UNACKED: u64 = 1024;
/// Writes accepted but not yet sent because the peer's window is full. Beyond it,
/// `write` fails with `Send buffer full`.
pub const MAX_PENDING_WRITES: usize = 4096;

/// Half-open (syn-received) connections one listen record keeps while their handshakes run.
/// The first to complete becomes the listener's connection (one per `listen`) and the
/// others are reset. A SYN to a full backlog pushes out the oldest handshake (silently; a
/// genuine client re-sends its SYN after 2 s), so spoofed SYNs cannot hold a listener: one alone
/// takes one slot of eight, and locking a listener out takes eight SYNs per handshake round
/// trip, sustained.
pub const LISTEN_BACKLOG: usize = 8;

/// Half-open (syn-received) connections in one endpoint, across all listeners' backlogs. A SYN
/// beyond it (to a listener whose own backlog is not full) is answered with RST.
pub const MAX_HALF_OPEN: usize = 1024;

/// PDP: per-sender pseudo-handles per listener. When full, the least recently active one idle
/// for at least [`PDP_PSEUDO_MIN_IDLE`] is dropped for the new sender; otherwise the new
/// sender's datagram is dropped.
pub const MAX_PDP_PSEUDO_PER_LISTENER: usize = 64;
/// PDP: how long a pseudo-handle must have been idle before a new sender may evict it.
pub const PDP_PSEUDO_MIN_IDLE: Duration = Duration::from_secs(30);
/// PDP: datagrams queued per handle; a datagram arriving at a full queue is dropped.
pub const MAX_PDP_QUEUE: usize = 256;

/// Behaviour switches of a PSP endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PspConfig {
    /// Skip a sequence number that stays missing while the peer keeps re-sending
    /// later ones (at least [`GAP_SKIP_AFTER`] and [`GAP_SKIP_ROUNDS`] rounds, or a FIN waits
    /// behind it). It can only be a Phoenix 0.0.9 peer's lost ACK-only message, which Phoenix
    /// never re-sends, *unless* the link dropped the same payload message in every one of those
    /// rounds; then that message is lost. On by default (the spec's proposal); turn it off
    /// between peers that all re-send ACK-only messages (every peer built on this crate does),
    /// which makes delivery exact.
    pub skip_stalled_gaps: bool,
    /// When and which unacknowledged messages are re-sent. Both rules send the same segments
    /// with the same fields, so either works with any peer.
    pub recovery: Recovery,
    /// Receiver side: acknowledge at once (with an ACK-only message carrying the last in-order
    /// sequence) when a segment arrives out of order, at most [`DUP_ACKS_PER_GAP`] times per
    /// gap, and when a segment fills a gap. These duplicate ACKs let an adaptive sender repair
    /// a loss after one round trip instead of a timeout. Off by default: each is a message the
    /// peer must receive in order, and a Phoenix 0.0.9 sender ignores them.
    pub dup_acks: bool,
    /// Offer (client) or accept (server) selective acknowledgements: this project's extension of
    /// the wire format, used only when both sides offer it in the handshake
    /// (`selectiveAcknowledgementPermitted = true` on the SYN and the SYN-ACK). The receiver
    /// then reports what it holds beyond the cumulative acknowledgement
    /// (`selectiveAcknowledgement = {first, last, …}`, see [`Segment::sack`](crate::Segment)),
    /// acknowledges out-of-order arrivals at once, and never skips a gap (the peer re-sends
    /// every lost message, ACK-only ones included); an adaptive sender re-sends exactly the
    /// messages shown lost (RFC 8985's time rule) instead of one hole per round trip.
    ///
    /// A Phoenix 0.0.9 peer ignores the offer, so nothing else changes with it; but a client's
    /// SYN then carries one more field than Phoenix's, which is why it is off by default.
    /// Needs [`Recovery::Adaptive`] (ignored under [`Recovery::Phoenix`]).
    pub selective_ack: bool,
}

/// The sender's loss recovery rule (see the crate README for the algorithm).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// Phoenix 0.0.9's: every [`RETRANSMIT_INTERVAL`] (2 s, restarted by every acknowledgement
    /// of new data) re-send every unacknowledged message (go-back-N); fail after
    /// [`MAX_RETRANSMIT_ROUNDS`] rounds. For exact replays of Phoenix's timing.
    Phoenix,
    /// RFC 6298 retransmission timeout from measured round trips (2 s until the first sample,
    /// then between [`MIN_RTO`] and [`MAX_RTO`], Karn's rule, exponential backoff), timed from
    /// when the oldest unacknowledged message was last sent, not pushed back by later
    /// acknowledgements; a timeout or [`DUP_ACK_THRESHOLD`] duplicate ACKs re-send only the
    /// first unacknowledged message, and each acknowledgement that then shows progress clocks
    /// out the next ones (NewReno partial ACKs, RFC 6582), doubling the burst while the peer
    /// shows it keeps nothing out of order.
    Adaptive,
}

impl PspConfig {
    /// Selective acknowledgements are offered and accepted only with [`Recovery::Adaptive`]:
    /// a peer that agrees to them stops skipping gaps, trusting us to re-send every lost
    /// message, which the selective repair does and Phoenix's rounds do not.
    pub(crate) fn offers_sack(&self) -> bool {
        self.selective_ack && self.recovery == Recovery::Adaptive
    }
}

impl Default for PspConfig {
    fn default() -> Self {
        PspConfig {
            skip_stalled_gaps: true,
            recovery: Recovery::Adaptive,
            dup_acks: false,
            selective_ack: false,
        }
    }
}
