//! The Phoenix Socket Protocol (PSP) and Phoenix Datagram Protocol (PDP), sans-IO.
//!
//! PSP is Phoenix's TCP: a reliable, ordered stream of *messages* between two ports, carried in
//! PIP packets whose modem channel is the receiver's port and reply channel the sender's (spec
//! `phoenix-network.md` §2.3, §10). PDP is its UDP (§11). This crate is the transport layer of
//! one computer, and nothing else: it knows no modems, routes or clocks.
//!
//! * [`Segment`] and [`Datagram`] are the wire messages ([`WireMessage`](modem_value::WireMessage)):
//!   strict decoding, encoding in exactly the shapes Phoenix 0.0.9 emits.
//! * [`PspEndpoint`] holds the listen records and connections of a computer. Everything comes in
//!   as a call with the current [`Instant`](modem_value::Instant): program calls (`connect`,
//!   `listen`, `write`, `close`, …, with handle ids chosen by the caller), received segments with
//!   their PIP context ([`SegmentContext`]), PIP send reports, MCP control reports and ticks.
//!   Everything goes out through queues drained with `poll_channel`, `poll_transmit`,
//!   `poll_event`, and `poll_timeout` gives the next deadline. Same inputs, same outputs.
//! * [`PdpEndpoint`] does the same for datagrams: client handles, listeners and per-sender
//!   pseudo-handles.
//!
//! Received bytes of a connection sit in a plain `VecDeque<u8>` ([`PspEndpoint::recv_buffer`])
//! so that the read-mode engine of `handle-fsm` can consume them without this crate depending on
//! it.
//!
//! # Behaviour
//! The state machine is Phoenix 0.0.9's (§10.4–§10.10: message-counted sequence numbers,
//! cumulative acknowledgements, the constant 256-message window, the combined FIN+ACK, every
//! error string), with the wire-compatible fixes the spec proposes, all implemented:
//! ACK-only and FIN messages are re-sent until acknowledged and a peer's lost ACK-only gap is
//! tolerated (Q-PSP1, see [`PspConfig::skip_stalled_gaps`]); duplicate re-ACKs carry the last
//! in-order sequence (Q-PSP2); FINs are re-sent and closing is bounded (Q-PSP3); time-wait is
//! reaped after 10 s (Q-PSP4); a handshake that fails in syn-received restores the listen record
//! (Q-PSP5, extended from RST to timeouts and bad ACKs); SYN and SYN-ACK are re-sent (Q-PSP6);
//! the peer's window is honoured (Q-PSP7); unanswered retransmission ends in `Connection timed
//! out` (Q-PSP8); the delayed ACK is due exactly 100 ms after data (Q-PSP12); connections are
//! keyed by local port, remote IP and remote port (Q-PSP13); events say `open` and carry error
//! messages (Q-EV1–Q-EV3); PDP's `network_request` carries the URI (Q-EV4) and reading an empty
//! queue returns nothing (Q-PDP1). Deviations from Phoenix that the fixes force are documented
//! where they happen (e.g. fin-wait waits for the peer's FIN instead of answering an early ACK of
//! ours with RST).
//!
//! Retransmission follows [`Recovery::Adaptive`] by default (an RFC 6298 timeout from measured
//! round trips, repair of the first unacknowledged message first, fast retransmit on duplicate
//! ACKs), which sends the same segments as Phoenix, only at other times;
//! [`Recovery::Phoenix`] keeps Phoenix's fixed 2 s go-back-N rounds. A listen record keeps a
//! small backlog of handshakes ([`config::LISTEN_BACKLOG`]) and still yields one connection.
//!
//! Nothing a peer sends can panic the machine or grow memory without bound: [`config`] lists
//! every limit (half-open connections, out-of-order segments, receive buffer, unacknowledged
//! and queued messages, PDP pseudo-handles and queues) and what happens at it.
//!
//! The crate is `no_std` + `alloc` with `default-features = false`.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod config;
mod datagram;
mod error;
mod io;
mod pdp;
pub mod ports;
mod psp;
mod segment;

pub use config::{PspConfig, Recovery};
pub use datagram::Datagram;
pub use error::PspError;
pub use io::{
    ChannelRequest, ControlKind, ControlReport, HandleId, HandleStatus, PspEvent, SegmentContext,
    Transmit,
};
pub use pdp::{PdpEndpoint, PdpHandleKind};
pub use psp::{ConnStats, PspEndpoint, State};
pub use segment::{Segment, MAX_WIRE_NUMBER};
