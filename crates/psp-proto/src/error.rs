//! Errors of the calls a program makes (connect, listen, write, read, close).

/// Why a call on a PSP or PDP endpoint failed. The `Display` text is the exact error string
/// Phoenix raises to the program.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PspError {
    /// `connect` without a port.
    #[error("No port specified")]
    NoPortSpecified,
    /// `listen` without a port.
    #[error("Missing port")]
    MissingPort,
    /// Port 0 is reserved for portless traffic and illegal for PSP/PDP.
    #[error("Invalid port")]
    InvalidPort,
    /// A listener already exists on this port.
    #[error("Port already open")]
    PortAlreadyOpen,
    /// No free ephemeral port after 16384 random draws.
    #[error("Too many open sockets")]
    TooManyOpenSockets,
    /// The handle id is unknown to this endpoint.
    #[error("No such socket")]
    NoSuchSocket,
    /// The caller passed a handle id that is already in use here.
    #[error("Handle id already in use")]
    DuplicateId,
    /// `write` outside `connected`.
    #[error("attempt to write to a {0} handle")]
    CannotWrite(&'static str),
    /// `read` in a state that does not allow it.
    #[error("attempt to read from a {0} handle")]
    CannotRead(&'static str),
    /// `close` in a state that does not allow it.
    #[error("attempt to close a {0} handle")]
    CannotClose(&'static str),
    /// Too many writes wait for the peer's window ([`MAX_PENDING_WRITES`](crate::config::MAX_PENDING_WRITES)).
    #[error("Send buffer full")]
    SendBufferFull,
}
