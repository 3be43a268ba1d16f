//! The vocabulary between a connection machine and the host that moves its bytes.

/// What a connection machine asks the host to do with its TCP (or TLS) connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetOutput {
    /// Open a TCP connection (TLS on top when `tls`) to `host:port`, then call
    /// the machine's `handle_connected` or `handle_connect_failed`.
    Connect {
        /// Host name or address literal.
        host: String,
        /// Port.
        port: u16,
        /// Whether to run TLS (https/wss).
        tls: bool,
    },
    /// Send these bytes on the connection.
    Send(Vec<u8>),
    /// Close the connection.
    Close,
}

/// Why the host could not connect; each maps to CC:Tweaked's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectFailure {
    /// Refused, unreachable, reset: `Could not connect`.
    CouldNotConnect,
    /// TLS handshake failed: `Could not create a secure connection`.
    Tls,
    /// DNS failed: `Unknown host`.
    UnknownHost,
    /// The address policy denied it: `Domain not permitted`.
    NotPermitted,
}

impl ConnectFailure {
    /// CC:Tweaked's message.
    pub const fn message(self) -> &'static str {
        match self {
            ConnectFailure::CouldNotConnect => "Could not connect",
            ConnectFailure::Tls => "Could not create a secure connection",
            ConnectFailure::UnknownHost => "Unknown host",
            ConnectFailure::NotPermitted => "Domain not permitted",
        }
    }
}
