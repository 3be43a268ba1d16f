//! How the state machines name modems and what they ask of them.

use core::fmt;

use modem_value::{LuaStr, Value};

/// The name a computer knows one of its modems by: the peripheral name CraftOS would give it
/// (`"left"`, `"top"`, `"modem_3"`, …), chosen by the host.
///
/// It is what `rednet.open(name)` takes and what `No such modem: <name>` prints. Clones are
/// cheap ([`ModemId::from_static`] costs nothing; other names share one buffer), and two ids are
/// the same modem iff their bytes are equal. Hosts that number their modems can use
/// `ModemId::from(format!("modem_{n}"))`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModemId(LuaStr);

impl ModemId {
    /// A modem name from a compile-time string (no allocation).
    pub const fn from_static(name: &'static str) -> Self {
        ModemId(LuaStr::from_static(name.as_bytes()))
    }

    /// The name as a Lua string.
    pub fn as_lua_str(&self) -> &LuaStr {
        &self.0
    }
}

impl From<&str> for ModemId {
    fn from(s: &str) -> Self {
        ModemId(LuaStr::from(s))
    }
}

impl From<alloc::string::String> for ModemId {
    fn from(s: alloc::string::String) -> Self {
        ModemId(LuaStr::from(s))
    }
}

impl From<LuaStr> for ModemId {
    fn from(s: LuaStr) -> Self {
        ModemId(s)
    }
}

impl fmt::Display for ModemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_string_lossy())
    }
}

impl fmt::Debug for ModemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ModemId({:?})", self.0.to_string_lossy())
    }
}

/// One `modem.transmit(channel, replyChannel, payload)` call.
#[derive(Clone, Debug, PartialEq)]
pub struct Transmit {
    /// The modem to transmit on.
    pub modem: ModemId,
    /// `channel`.
    pub channel: u16,
    /// `replyChannel`.
    pub reply_channel: u16,
    /// The payload; shared, not copied, between the transmits of one send (the modem copies it
    /// per receiver).
    pub payload: Value,
}

/// A modem peripheral call a state machine asks the host to make, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum ModemOp {
    /// `modem.open(channel)`.
    Open {
        /// The modem.
        modem: ModemId,
        /// The channel.
        channel: u16,
    },
    /// `modem.close(channel)`.
    Close {
        /// The modem.
        modem: ModemId,
        /// The channel.
        channel: u16,
    },
    /// `modem.transmit(...)`.
    Transmit(Transmit),
}

impl ModemOp {
    /// The modem the call is for.
    pub fn modem(&self) -> &ModemId {
        match self {
            ModemOp::Open { modem, .. } | ModemOp::Close { modem, .. } => modem,
            ModemOp::Transmit(t) => &t.modem,
        }
    }
}
