//! What goes into and comes out of the endpoints: the PIP delivery context of a received
//! segment, segments to send, channel requests, control reports and program events.

use alloc::string::String;
use core::net::Ipv4Addr;

use modem_value::{LuaStr, Table, Value};

/// A handle id: the caller (syscall-api) owns the one global counter and passes ids in.
pub type HandleId = u64;

/// Where a received PSP/PDP message came from, as pip-core's delivery reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentContext<I> {
    /// The interface (modem device) the frame arrived on.
    pub interface: I,
    /// The modem channel it arrived on: our (local) port.
    pub channel: u16,
    /// The frame's reply channel: the sender's (remote) port.
    pub reply_channel: u16,
    /// The PIP `source`: the sender's IP.
    pub source_ip: Ipv4Addr,
    /// The PIP `destination`: our IP for this conversation.
    pub local_ip: Ipv4Addr,
}

/// A message to send through pip-core's `send_pip(dst_ip, payload, outPort, inPort)`:
/// modem `channel = out_port` (the peer's port), `replyChannel = in_port` (ours).
#[derive(Clone, Debug, PartialEq)]
pub struct Transmit<I> {
    /// The PIP destination.
    pub dst_ip: Ipv4Addr,
    /// The remote port (modem channel).
    pub out_port: u16,
    /// The local port (modem reply channel).
    pub in_port: u16,
    /// The PIP payload: an encoded [`Segment`](crate::Segment) or [`Datagram`](crate::Datagram).
    pub payload: Value,
    /// The interface the conversation is bound to, when known (the one a client's SYN left from,
    /// the one a server's SYN arrived on, the one a datagram arrived on). A hint: Phoenix routes
    /// every segment normally, and the host may do the same.
    pub via_interface: Option<I>,
}

/// A modem channel to open or close.
///
/// Requests are balanced: every `Open` is matched, later, by exactly one `Close` for the same
/// interface and channel. The host reference-counts them per (interface, channel), as
/// Phoenix's modem driver does, so two sockets sharing a port keep it open until both are done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelRequest<I> {
    /// Open `channel` on `interface`.
    Open {
        /// The interface.
        interface: I,
        /// The modem channel (a port).
        channel: u16,
    },
    /// Release one use of `channel` on `interface`.
    Close {
        /// The interface.
        interface: I,
        /// The modem channel (a port).
        channel: u16,
    },
}

/// The kind of an MCP control message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlKind {
    /// Echo request.
    Ping,
    /// Echo reply. Never affects a socket (Phoenix 0.0.9 let one kill a connecting socket).
    Pong,
    /// An earlier packet could not reach its destination.
    Unreachable,
    /// An earlier packet exceeded its hop budget.
    Timeout,
}

/// An MCP control message delivered to the transport, reduced to what concerns
/// sockets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlReport {
    /// The message type.
    pub kind: ControlKind,
    /// Its `error` text, if any.
    pub error: Option<String>,
    /// `payload.destination` of the packet that caused it, if it carried one.
    pub destination: Option<Ipv4Addr>,
}

/// What `handle:status()` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleStatus {
    /// `"connecting"`.
    Connecting,
    /// `"open"`.
    Open,
    /// `"closed"`.
    Closed,
    /// `"error"` (with a message).
    Error,
}

impl HandleStatus {
    /// The status string.
    pub const fn as_str(self) -> &'static str {
        match self {
            HandleStatus::Connecting => "connecting",
            HandleStatus::Open => "open",
            HandleStatus::Closed => "closed",
            HandleStatus::Error => "error",
        }
    }
}

/// An event for the process owning a handle.
#[derive(Clone, Debug, PartialEq)]
pub enum PspEvent {
    /// `handle_status_change{id, status, error}`: `open` when a client's handshake completes
    /// (Phoenix 0.0.9 sent `connected`), `closed`, or `error` with its message.
    StatusChange {
        /// The handle.
        id: HandleId,
        /// `Open`, `Closed` or `Error`.
        status: HandleStatus,
        /// The error message when `status` is `Error`.
        error: Option<String>,
    },
    /// `handle_data_ready{id}`: payload appended (PSP) or datagram queued (PDP).
    DataReady {
        /// The handle.
        id: HandleId,
    },
    /// `network_request{uri, ip, handle}`: a PSP listener completed a handshake, or a PDP
    /// listener got the first datagram of a new sender. `uri` is the exact listen string (also
    /// for PDP, where Phoenix 0.0.9 sent none).
    NetworkRequest {
        /// The listen URI.
        uri: String,
        /// The client's IP.
        ip: Ipv4Addr,
        /// The new connection's (or pseudo-handle's) id.
        handle: HandleId,
    },
}

impl PspEvent {
    /// The event name.
    pub const fn name(&self) -> &'static str {
        match self {
            PspEvent::StatusChange { .. } => "handle_status_change",
            PspEvent::DataReady { .. } => "handle_data_ready",
            PspEvent::NetworkRequest { .. } => "network_request",
        }
    }

    /// The event's parameter table as a program receives it (`ip` dotted).
    pub fn params(&self) -> Value {
        let mut t = Table::new();
        match self {
            PspEvent::StatusChange { id, status, error } => {
                t.set("id", Value::from(*id));
                t.set("status", Value::from_static(status.as_str()));
                if let Some(e) = error {
                    t.set("error", Value::from(e.as_str()));
                }
            }
            PspEvent::DataReady { id } => t.set("id", Value::from(*id)),
            PspEvent::NetworkRequest { uri, ip, handle } => {
                t.set("uri", Value::from(uri.as_str()));
                t.set("ip", Value::Str(LuaStr::from(alloc::format!("{ip}"))));
                t.set("handle", Value::from(*handle));
            }
        }
        Value::Table(t)
    }
}
