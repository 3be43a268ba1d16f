//! What a [`PipStack`](super::PipStack) asks its host to do or tells it.

use core::net::Ipv4Addr;

use modem_value::{Table, Value};

use crate::addr::ip_value;
use crate::wire::{ControlMessage, PipPacket};
use crate::{ComputerId, Device};

/// `modem.transmit(channel, reply_channel, message)` on `device`.
#[derive(Clone, Debug, PartialEq)]
pub struct Transmit {
    /// The interface.
    pub device: Device,
    /// Destination channel (the remote port, 0 for portless traffic).
    pub channel: u16,
    /// Reply channel (the local port).
    pub reply_channel: u16,
    /// The frame (a PLP or ARP table).
    pub message: Value,
}

/// Open or close a channel on a modem (channel 0 when an interface goes up or down).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelChange {
    /// The interface.
    pub device: Device,
    /// The channel.
    pub channel: u16,
    /// `true` = open, `false` = close.
    pub open: bool,
}

/// A transport payload (`socket` or `datagram`) addressed to this computer, with the context
/// the transports need.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// The interface it arrived on.
    pub device: Device,
    /// The modem channel it arrived on (the local port).
    pub channel: u16,
    /// The modem reply channel (the remote port).
    pub reply_channel: u16,
    /// The packet's `source`.
    pub source_ip: Ipv4Addr,
    /// The packet's `destination` (one of our addresses, or a broadcast address).
    pub local_ip: Ipv4Addr,
    /// The PLP `source`: the computer the frame came from (the last router, if routed).
    pub source_id: ComputerId,
    /// The whole packet; `packet.payload` is the transport table.
    pub packet: PipPacket,
}

impl Delivery {
    /// The transport table (`packet.payload`).
    pub fn payload(&self) -> &Table {
        &self.packet.payload
    }
}

/// Something for `netevent` subscribers and the transports.
#[derive(Clone, Debug, PartialEq)]
pub enum NetEvent {
    /// An MCP message received, or synthesized locally (then `sender` is `None`).
    /// Hosts give it to `netevent` processes and to PSP sockets in `syn-sent`.
    Control {
        /// The source IP of the carrying packet; `None` for a locally synthesized message.
        sender: Option<Ipv4Addr>,
        /// The message.
        message: ControlMessage,
    },
    /// A PIP packet that arrived on `device` for another address and was not forwarded
    /// (only queued while `netevent` is enabled).
    Foreign {
        /// The interface.
        device: Device,
        /// The raw packet table.
        packet: Value,
    },
    /// Another computer claims one of our addresses; the configuration is kept.
    AddressCollision {
        /// The interface.
        device: Device,
        /// Our address.
        ip: Ipv4Addr,
        /// The other computer.
        other: ComputerId,
    },
}

impl NetEvent {
    /// The `network_event` parameter table Phoenix gives `netevent` processes, or nil
    /// for events Phoenix has no shape for ([`NetEvent::AddressCollision`]).
    pub fn to_value(&self) -> Value {
        match self {
            NetEvent::Control { sender, message } => {
                let mut t = Table::with_capacity(5);
                if let Some(e) = &message.error {
                    t.set("error", Value::Str(e.clone()));
                }
                t.set(
                    "messageType",
                    Value::from_static(message.message_type.as_str()),
                );
                if let Some(p) = &message.payload {
                    t.set("payload", Value::Table(p.clone()));
                }
                if let Some(s) = sender {
                    t.set("sender", ip_value(*s));
                }
                t.set("type", Value::from_static("control"));
                Value::Table(t)
            }
            NetEvent::Foreign { packet, .. } => packet.clone(),
            NetEvent::AddressCollision { .. } => Value::Nil,
        }
    }
}

/// Names one [`PipStack::send`](super::PipStack::send) call in its [`SendResult`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SendId(pub u64);

/// How a send ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// Handed to the modem (or delivered to ourselves) on `device`, with `source_ip` as the
    /// packet's source.
    Sent {
        /// The outgoing interface.
        device: Device,
        /// The packet's `source` (the interface address).
        source_ip: Ipv4Addr,
    },
    /// Dropped by a `blackhole` route (no error is reported to the program).
    Dropped,
    /// Not sent; `error` is the text of the locally synthesized `unreachable`
    /// (`No route to host`, `Destination unreachable`, `Prohibited`, `Network is down`).
    Failed {
        /// The error text.
        error: &'static str,
    },
}

/// The completion of a send that asked for one ([`SendOptions::notify`](super::SendOptions)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendResult {
    /// Which send.
    pub id: SendId,
    /// How it ended.
    pub outcome: SendOutcome,
}
