//! Errors a local caller gets, and why a received packet was ignored.

use modem_value::DecodeError;

use crate::ModemId;

/// An error from a call the computer itself made (`open`, `send`, `host`, …).
///
/// `Display` is the exact message rednet.lua raises, so a host can hand it to Lua unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RednetError {
    /// `rednet.open/close(name)` where `name` is not an attached modem.
    #[error("No such modem: {0}")]
    NoSuchModem(ModemId),
    /// `rednet.host(protocol, "localhost")`.
    #[error("Reserved hostname")]
    ReservedHostname,
    /// `rednet.host` found another computer answering for the name.
    #[error("Hostname in use")]
    HostnameInUse,
    /// `send` to a recipient whose channel (`recipient % 65500`) is not an integer in 0–65535
    /// (NaN, ±inf, fractional IDs): the modem's `transmit` would raise this.
    #[error("Expected number in range 0-65535")]
    ChannelOutOfRange,
    /// More `receive`/`lookup`/`host` requests are pending than the endpoint's configured bound
    /// (not a rednet.lua error: CraftOS's bound is its coroutine count).
    #[error("Too many pending rednet requests")]
    TooManyRequests,
}

/// Why [`Endpoint::handle_modem_message`](crate::Endpoint::handle_modem_message) ignored a
/// packet: the first acceptance rule it failed, in rule order, or a bound.
///
/// This is diagnostics, not an error: rednet.lua silently drops all of these.
#[derive(Clone, Debug, PartialEq)]
pub enum Ignored {
    /// Rule 1: the channel is neither the computer's ID channel nor 65535.
    WrongChannel,
    /// Rule 2: the payload is not a table, or `nMessageID` is absent, not a number, or NaN.
    BadMessageId(DecodeError),
    /// Rule 2: `nMessageID` was sent or received within the dedup window.
    Duplicate,
    /// Rule 3: `nSender` is neither nil nor a non-NaN number.
    BadSender(DecodeError),
    /// Rule 4: `nRecipient` is not this computer's full ID and the channel is not 65535.
    NotForUs,
    /// Rule 5: rednet is not open (both channels) on the receiving modem, or the modem is unknown.
    ModemNotOpen,
}
