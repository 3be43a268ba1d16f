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
    /// Listen for TCP connections on `port` (for `listen("http://…")`/`listen("ws://…")`);
    /// report each accepted one with
    /// [`Computer::handle_tcp_accept`](crate::Computer::handle_tcp_accept).
    TcpListen {
        /// The port.
        port: u16,
    },
    /// Stop listening on `port` (connections already accepted stay).
    TcpUnlisten {
        /// The port.
        port: u16,
    },
    /// A TCP/TLS action for an HTTP or WebSocket handle.
    Tcp {
        /// The connection.
        conn: TcpId,
        /// Connect, send bytes, or close.
        op: NetOutput,
    },
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
