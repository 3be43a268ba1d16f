//! The vocabulary between a connection machine and the host that moves its bytes.

/// What a connection machine asks the host to do with its TCP (or TLS) connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetOutput {
    /// Open a TCP connection (TLS on top when `tls`) to `host:port`, then report the outcome
    /// to the machine that asked: [`HttpClient::handle_connected`] or
    /// [`HttpClient::handle_connect_failed`] (the same two methods on [`WsHandle`]). A host of
    /// a whole computer reports it with `syscall-api`'s `NetworkStack::handle_tcp` instead.
    ///
    /// [`HttpClient::handle_connected`]: crate::http::HttpClient::handle_connected
    /// [`HttpClient::handle_connect_failed`]: crate::http::HttpClient::handle_connect_failed
    /// [`WsHandle`]: crate::ws::WsHandle
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

/// Why the host could not connect. The handle turns it into CC:Tweaked's message
/// ([`ConnectFailure::message`]), which the program sees as the handle's `error` status.
///
/// A host picks the variant from what its socket layer said: any refusal, timeout, reset or
/// unreachable network is [`CouldNotConnect`](ConnectFailure::CouldNotConnect); a failed TLS
/// handshake or certificate check is [`Tls`](ConnectFailure::Tls); a name that does not
/// resolve is [`UnknownHost`](ConnectFailure::UnknownHost); an address the host's own policy
/// forbids (CC:Tweaked blocks private and loopback ranges by default) is
/// [`NotPermitted`](ConnectFailure::NotPermitted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectFailure {
    /// The connection was refused, timed out, reset, or the network is unreachable:
    /// `Could not connect`.
    CouldNotConnect,
    /// The TLS handshake or the server's certificate failed:
    /// `Could not create a secure connection`.
    Tls,
    /// The host name does not resolve: `Unknown host`.
    UnknownHost,
    /// The host's address policy forbids the destination: `Domain not permitted`.
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
