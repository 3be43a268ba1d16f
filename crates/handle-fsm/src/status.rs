//! The common handle contract: status values, the kernel's exact method errors, and
//! the events a handle raises.

use core::fmt;

use crate::read::ReadError;

/// A handle's status, as `status()` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Created, nothing sent yet (HTTP client handles only).
    Ready,
    /// Request or handshake in flight; no I/O possible.
    Connecting,
    /// Established: data may be read (and for some kinds written).
    Open,
    /// Failed before any data moved; `status()` returns the message as its second value.
    Error,
    /// Finished; the handle is dead.
    Closed,
}

impl Status {
    /// The string `status()` returns.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Ready => "ready",
            Status::Connecting => "connecting",
            Status::Open => "open",
            Status::Error => "error",
            Status::Closed => "closed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error a handle method raises in the calling program (a Lua error); `Display` is the
/// exact message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    /// `read` (or a read-only accessor such as `responseCode`) in a status that forbids it.
    #[error("attempt to read from a {0} handle")]
    Read(Status),
    /// `write` in a status that forbids it.
    #[error("attempt to write to a {0} handle")]
    Write(Status),
    /// `close` in a status that forbids it.
    #[error("attempt to close a {0} handle")]
    Close(Status),
    /// A bad argument to `read`.
    #[error(transparent)]
    Mode(#[from] ReadError),
    /// Any other refusal, with the host's message (e.g. `Message is too large`).
    #[error("{0}")]
    Other(String),
}

/// A notification for the program that owns a handle; the syscall layer turns it into a
/// `handle_status_change{id, status}` or `handle_data_ready{id}` event with the handle's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleEvent {
    /// The status changed because of the network (local calls raise no event).
    StatusChange(Status),
    /// New data can be read.
    DataReady,
}
