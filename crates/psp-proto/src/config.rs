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

/// Retransmission interval (fixed).
pub const RETRANSMIT_INTERVAL: Duration = Duration::from_secs(2);
/// Connected: after this many unanswered retransmission rounds the connection fails with
/// `Connection timed out`.
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

/// Half-open (syn-received) connections in one endpoint. A listen record accepts one connection
/// at a time, so a listener never holds more than one; this caps the total across
/// listeners. A SYN beyond it is answered with RST.
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
}

impl Default for PspConfig {
    fn default() -> Self {
        PspConfig {
            skip_stalled_gaps: true,
        }
    }
}
