//! What the endpoint hands back: delivered messages and completed requests.

use alloc::vec::Vec;

use modem_value::{Instant, LuaStr, Value};

use crate::{ModemId, RednetError};

/// A `rednet_message` event: `rednet_message, sender, message, protocol`.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivered {
    /// `msg.nSender`, or the packet's reply channel when `nSender` is nil; the own ID for a
    /// loopback send. Any non-NaN number (`nSender` is not authenticated and may be forged).
    pub sender: f64,
    /// The user value (`msg.message`).
    pub message: Value,
    /// `msg.sProtocol` as it came: a string, or nil; a forged packet may carry another type,
    /// which rednet.lua passes on too.
    pub protocol: Value,
    /// `msg.nMessageID` (not part of the event; for logs).
    pub message_id: f64,
    /// The modem it arrived on; `None` for a loopback send to the own ID.
    pub modem: Option<ModemId>,
}

impl Delivered {
    /// The protocol if it is a string.
    pub fn protocol_str(&self) -> Option<&LuaStr> {
        self.protocol.as_str()
    }

    /// Whether `rednet.receive(filter)` accepts it: no filter, or `protocol == filter`.
    pub fn matches(&self, filter: Option<&LuaStr>) -> bool {
        match filter {
            None => true,
            Some(f) => self.protocol_str() == Some(f),
        }
    }
}

/// Names a pending `receive`, `lookup` or `host` request until its [`Completion`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// A finished request, drained with [`Endpoint::poll_completion`](crate::Endpoint::poll_completion).
#[derive(Clone, Debug, PartialEq)]
pub enum Completion {
    /// `rednet.receive` returned: the first matching message delivered after the call, or
    /// `None` when the timeout passed first.
    Received {
        /// The request.
        id: RequestId,
        /// The message, or `None` on timeout.
        message: Option<Delivered>,
    },
    /// `rednet.lookup` returned. With a hostname: at most one ID (the own ID for a local match,
    /// else the first responder); without: the own ID if hosted locally, then every responder
    /// within 2 s, in arrival order. Empty means `nil`.
    LookedUp {
        /// The request.
        id: RequestId,
        /// The computer IDs found.
        hosts: Vec<f64>,
    },
    /// `rednet.host` returned (after the lookup that checks the name is free).
    Hosted {
        /// The request.
        id: RequestId,
        /// `Ok` once the name is recorded; `Err(HostnameInUse)` if another computer answered.
        result: Result<(), RednetError>,
    },
}

impl Completion {
    /// The request it completes.
    pub fn id(&self) -> RequestId {
        match self {
            Completion::Received { id, .. }
            | Completion::LookedUp { id, .. }
            | Completion::Hosted { id, .. } => *id,
        }
    }
}

/// What [`Endpoint::host`](crate::Endpoint::host) did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostStatus {
    /// The name is recorded now (already hosted under it, or rednet is closed everywhere so
    /// there is nobody to ask).
    Hosted,
    /// A lookup is checking that nobody else uses the name; a [`Completion::Hosted`] follows
    /// within 2 s.
    Pending(RequestId),
}

#[derive(Clone, Debug)]
pub(crate) enum RequestKind {
    Receive {
        filter: Option<LuaStr>,
    },
    Lookup {
        protocol: LuaStr,
        hostname: Option<LuaStr>,
        results: Vec<f64>,
    },
    Host {
        protocol: LuaStr,
        hostname: LuaStr,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub id: RequestId,
    pub deadline: Option<Instant>,
    pub kind: RequestKind,
}
