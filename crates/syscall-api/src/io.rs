//! What a host feeds a [`Computer`](crate::Computer) and what it drains from it.

use modem_value::{Instant, Value};

use crate::handles::Pid;

pub use handle_fsm::{ConnectFailure, NetOutput};
pub use pip_core::Device;

/// Names one TCP (or TLS) connection the stack asked the host to open, for HTTP and WebSocket
/// handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TcpId(pub u64);

/// Something the host must do or deliver, drained with
/// [`NetworkStack::poll_output`].
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    /// `modem.transmit(channel, reply_channel, message)` on `device`.
    Transmit {
        /// The modem.
        device: Device,
        /// Destination channel.
        channel: u16,
        /// Reply channel.
        reply_channel: u16,
        /// The payload.
        message: Value,
    },
    /// Open `channel` on `device` (the first user of that channel there wants it).
    OpenChannel {
        /// The modem.
        device: Device,
        /// The channel.
        channel: u16,
    },
    /// Close `channel` on `device` (its last user released it).
    CloseChannel {
        /// The modem.
        device: Device,
        /// The channel.
        channel: u16,
    },
    /// Queue event `name` with `params` for process `pid`.
    Event {
        /// The receiving process.
        pid: Pid,
        /// `handle_status_change`, `handle_data_ready`, `network_request`, `network_event` or
        /// `modem_message`.
        name: &'static str,
        /// The event's parameter table.
        params: Value,
    },
    /// A TCP action for an HTTP or WebSocket handle or listener.
    Tcp(TcpRequest),
    /// A router asks its host to deliver every channel heard on `device` (sent once per modem
    /// at boot). A real CC modem opens at most 128 channels, so a host may refuse with [`Computer::handle_hear_all_refused`](crate::Computer::handle_hear_all_refused);
    /// the router then opens its configured forwarded ports
    /// ([`ComputerConfig::forward_ports`](crate::ComputerConfig::forward_ports)) and the reply
    /// channels of what it forwards, within the 128-channel budget.
    HearAll {
        /// The modem.
        device: Device,
    },
}

/// Names one listening TCP socket the stack asked the host for (`listen("http://…")`,
/// `listen("ws://…")`). A new `listen` on the same port gets a new id, so an accept that
/// raced an `unlisten` cannot reach the next listener.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListenerId(pub u64);

/// What the stack asks of the host's TCP: the one vocabulary every host (the stdio lines, the
/// C ABI, the real-network adapter, the simulator) implements. Every id is chosen by the
/// stack: connection ids ([`TcpId`]) for connects and for accepted connections (returned by
/// [`Computer::handle_tcp_accept`](crate::Computer::handle_tcp_accept)), listener ids
/// ([`ListenerId`]) for listens.
///
/// Not `#[non_exhaustive]`: a host must apply every request, so a new variant should break
/// every host at compile time.
#[must_use]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpRequest {
    /// Open a TCP connection to `host:port` (TLS on top when `tls`), then report
    /// [`TcpEvent::Connected`] or [`TcpEvent::Failed`] for `conn`.
    Connect {
        /// The connection.
        conn: TcpId,
        /// Host name or address literal.
        host: String,
        /// Port.
        port: u16,
        /// Whether to run TLS (https/wss), verifying the server's certificate for `host`.
        tls: bool,
    },
    /// Send `data` on `conn`.
    Send {
        /// The connection.
        conn: TcpId,
        /// The bytes.
        data: Vec<u8>,
    },
    /// Close `conn` (both directions); report nothing more for it.
    Close {
        /// The connection.
        conn: TcpId,
    },
    /// Listen for TCP connections on `address:port` and report each accepted one with
    /// [`Computer::handle_tcp_accept`](crate::Computer::handle_tcp_accept).
    Listen {
        /// The listener.
        listener: ListenerId,
        /// The address to bind, from the URI's host: `0.0.0.0` (all interfaces) when the URI
        /// has none; a loopback address stays loopback.
        address: String,
        /// The port.
        port: u16,
    },
    /// Stop listening (connections already accepted stay).
    Unlisten {
        /// The listener.
        listener: ListenerId,
    },
}

impl TcpRequest {
    /// The request of a connection machine's output on connection `conn`.
    pub fn from_net(conn: TcpId, o: NetOutput) -> Self {
        match o {
            NetOutput::Connect { host, port, tls } => TcpRequest::Connect {
                conn,
                host,
                port,
                tls,
            },
            NetOutput::Send(data) => TcpRequest::Send { conn, data },
            NetOutput::Close => TcpRequest::Close { conn },
        }
    }
}

/// A TCP event the host reports for a connection it opened for the stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpEvent {
    /// The connection (and TLS handshake, for https/wss) is established.
    Connected,
    /// It could not be established.
    Failed(handle_fsm::ConnectFailure),
    /// Bytes arrived.
    Data(Vec<u8>),
    /// The peer closed its side (or the connection broke).
    Closed,
}

/// The one interface host runtimes drive: every input is a `handle_*` call with the current
/// instant, every effect comes out of [`poll_output`](NetworkStack::poll_output), and
/// [`poll_timeout`](NetworkStack::poll_timeout) says when to call
/// [`handle_timeout`](NetworkStack::handle_timeout) next.
///
/// Call order: after any input, drain `poll_output` until it returns `None`, then read
/// `poll_timeout`. Outputs come in the order they must be applied (a channel is opened before
/// the first transmit that expects replies on it).
pub trait NetworkStack {
    /// A modem on this computer received a message (`modem_message`): its device, the channel,
    /// the reply channel, the payload and the distance (nil across dimensions).
    fn handle_modem_message(
        &mut self,
        now: Instant,
        device: &str,
        channel: u16,
        reply_channel: u16,
        message: &Value,
        distance: Option<f64>,
    );

    /// Time passed; run every timer due at `now`.
    fn handle_timeout(&mut self, now: Instant);

    /// A TCP event for a connection the stack asked for.
    fn handle_tcp(&mut self, now: Instant, conn: TcpId, event: TcpEvent);

    /// A syscall from process `pid` (`root` if it runs as root), with its arguments as values.
    /// Returns the syscall's results, or its error (the text a program's `pcall` sees).
    fn syscall(
        &mut self,
        now: Instant,
        pid: Pid,
        root: bool,
        name: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, crate::SyscallError>;

    /// A method call on handle `handle` by process `pid`.
    fn handle_method(
        &mut self,
        now: Instant,
        pid: Pid,
        handle: u64,
        method: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, crate::SyscallError>;

    /// The next effect for the host, if any.
    fn poll_output(&mut self) -> Option<Output>;

    /// When [`handle_timeout`](NetworkStack::handle_timeout) must next be called.
    fn poll_timeout(&self) -> Option<Instant>;
}
