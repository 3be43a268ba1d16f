//! The states of a PSP socket.

/// The state of a PSP socket, named as Phoenix names it in its error messages
/// (`attempt to write to a fin-wait handle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// A listen record waiting for a SYN.
    Listening,
    /// Client: SYN sent, waiting for the SYN-ACK.
    SynSent,
    /// Server: SYN received, SYN-ACK sent, waiting for the handshake ACK.
    SynReceived,
    /// Data flows both ways.
    Connected,
    /// We sent (or will send, after queued writes) our FIN and wait for the peer's.
    FinWait,
    /// Both FINs crossed (simultaneous close); waiting for the ACK of ours.
    Closing,
    /// The peer's FIN arrived and we answered with FIN+ACK; waiting for the ACK of ours.
    CloseWait,
    /// Both FINs acknowledged; lingering to re-ACK a re-sent FIN.
    TimeWait,
    /// Finished.
    Closed,
    /// Failed (the message is kept with the socket).
    Error,
}

impl State {
    /// The state's name as Phoenix spells it.
    pub const fn name(self) -> &'static str {
        match self {
            State::Listening => "listening",
            State::SynSent => "syn-sent",
            State::SynReceived => "syn-received",
            State::Connected => "connected",
            State::FinWait => "fin-wait",
            State::Closing => "closing",
            State::CloseWait => "close-wait",
            State::TimeWait => "time-wait",
            State::Closed => "closed",
            State::Error => "error",
        }
    }

    /// Whether the handshake is done and the socket is not yet finished: segments are
    /// processed by the synchronized path.
    pub(crate) const fn is_synchronized(self) -> bool {
        matches!(
            self,
            State::SynReceived
                | State::Connected
                | State::FinWait
                | State::Closing
                | State::CloseWait
                | State::TimeWait
        )
    }
}
