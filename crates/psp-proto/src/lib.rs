//! The Phoenix Socket Protocol (PSP) and Phoenix Datagram Protocol (PDP), sans-IO.
//!
//! PSP is Phoenix's TCP: a reliable, ordered stream of *messages* between two ports, carried in
//! PIP packets whose modem channel is the receiver's port and reply channel the sender's. PDP is
//! its UDP. This crate is the transport layer of
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
//! The state machine is Phoenix 0.0.9's (message-counted sequence numbers, cumulative
//! acknowledgements, the constant 256-message window, the combined FIN+ACK, every error string),
//! with wire-compatible fixes: ACK-only and FIN messages are re-sent until acknowledged and a
//! peer's lost ACK-only gap is tolerated (see [`PspConfig::skip_stalled_gaps`]); duplicate
//! re-ACKs carry the last in-order sequence; FINs are re-sent and closing is bounded; time-wait
//! is reaped after 10 s; a handshake that fails in syn-received (by RST, timeout or a bad ACK)
//! restores the listen record; SYN and SYN-ACK are re-sent; the peer's window is honoured;
//! unanswered retransmission ends in `Connection timed out`; the delayed ACK is due exactly
//! 100 ms after data; connections are keyed by local port, remote IP and remote port; events say
//! `open` (Phoenix said `connected`) and carry error messages; PDP's `network_request` carries
//! the URI and reading an empty queue returns nothing. Deviations from Phoenix that the fixes force are documented
//! where they happen (e.g. fin-wait waits for the peer's FIN instead of answering an early ACK of
//! ours with RST).
//!
//! Retransmission follows [`Recovery::Adaptive`] by default (an RFC 6298 timeout from measured
//! round trips, repair of the first unacknowledged message first, fast retransmit on duplicate
//! ACKs), which sends the same segments as Phoenix, only at other times;
//! [`Recovery::Phoenix`] keeps Phoenix's fixed 2 s go-back-N rounds. Two stacks of this crate can
//! agree on selective acknowledgements ([`PspConfig::selective_ack`], off by default: a field
//! Phoenix 0.0.9 ignores, offered on the SYN), after which only the messages the receiver
//! reports missing are re-sent. A listen record keeps a
//! small backlog of handshakes ([`config::LISTEN_BACKLOG`]) and still yields one connection.
//!
//! Nothing a peer sends can panic the machine or grow memory without bound: [`config`] lists
//! every limit (half-open connections, out-of-order segments, receive buffer, unacknowledged
//! and queued messages, PDP pseudo-handles and queues) and what happens at it.
//!
//! The crate is `no_std` + `alloc` with `default-features = false`.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use modem_value::{Instant, LuaStr, SplitMix64};
//! use psp_proto::{PspEndpoint, PspEvent, SegmentContext};
//!
//! let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
//! let (mut client, mut server) = (PspEndpoint::default(), PspEndpoint::default());
//! let mut rng = SplitMix64::new(1);
//! let now = Instant::ZERO;
//! server.listen(7, "psp://0.0.0.0:80", Ipv4Addr::UNSPECIFIED, Some(80), ["/top"]).unwrap();
//! client.connect(now, &mut rng, 1, b, Some(80)).unwrap();
//! // The PIP layer below reports where the SYN went; nothing else is timed in this example.
//! client.handle_syn_sent(now, 1, Ok("/top"));
//!
//! // The host's part: carry each side's segments to the other (here: instantly, no loss).
//! fn relay(from: &mut PspEndpoint<&'static str>, to: &mut PspEndpoint<&'static str>,
//!          from_ip: Ipv4Addr, rng: &mut SplitMix64) -> bool {
//!     let mut moved = false;
//!     while let Some(t) = from.poll_transmit() {
//!         let ctx = SegmentContext { interface: "/top", channel: t.out_port,
//!             reply_channel: t.in_port, source_ip: from_ip, local_ip: t.dst_ip };
//!         let _ = to.handle_segment_value(Instant::ZERO, rng, &ctx, &t.payload);
//!         moved = true;
//!     }
//!     moved
//! }
//! let mut pump = |c: &mut PspEndpoint<_>, s: &mut PspEndpoint<_>| {
//!     while relay(c, s, a, &mut rng) | relay(s, c, b, &mut rng) {}
//! };
//! pump(&mut client, &mut server);
//! // The listen record became the connection; the program learns of it by an event.
//! assert!(std::iter::from_fn(|| server.poll_event())
//!     .any(|e| matches!(e, PspEvent::NetworkRequest { handle: 7, .. })));
//!
//! client.write(now, 1, LuaStr::from("hello")).unwrap();
//! pump(&mut client, &mut server);
//! let received: Vec<u8> = server.recv_buffer(7).unwrap().drain(..).collect();
//! assert_eq!(received, b"hello");
//! ```
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
pub use segment::{SackBlocks, Segment, MAX_WIRE_NUMBER};
