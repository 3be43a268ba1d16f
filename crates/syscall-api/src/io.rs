//! What a host feeds a [`Computer`](crate::Computer) and what it drains from it: the
//! [`NetworkStack`] trait, its [`Output`]s, the [`Event`]s programs receive, and the ids that
//! name handles ([`HandleId`]) and host TCP connections ([`TcpId`]).

use core::fmt;

use modem_value::{Instant, Table, Value};

pub use handle_fsm::{ConnectFailure, NetOutput, Status};
pub use pip_core::Device;

/// A process id as the host's kernel numbers them.
pub type Pid = u32;

/// Names one handle of one computer: the `id` field programs see on a handle and in its events.
///
/// Every handle kind (PSP, PDP, rednet, HTTP, WebSocket, HTTP server request) takes its id from
/// one counter per computer that starts at 0, so an id never names two live handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct HandleId(pub u64);

impl HandleId {
    /// The id as a number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for HandleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<u64> for HandleId {
    fn from(id: u64) -> Self {
        HandleId(id)
    }
}

impl From<HandleId> for u64 {
    fn from(id: HandleId) -> Self {
        id.0
    }
}

impl From<HandleId> for Value {
    fn from(id: HandleId) -> Self {
        Value::from(id.0)
    }
}

/// An event for one process, as Phoenix queues it (`os.pullEvent` returns its name and its
/// parameter table).
///
/// [`Event::name`] and [`Event::params`] give the Lua form; every variant's name and fields are
/// listed in [`crate::reference`](mod@crate::reference) (and a test checks that they agree).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// `handle_status_change{id, status, error}`: a handle's status changed because of the
    /// network (a connection opened, closed or failed). Calls the program makes itself raise
    /// none.
    HandleStatusChange {
        /// The handle.
        id: HandleId,
        /// Its new status.
        status: Status,
        /// With [`Status::Error`]: the message `status()` also returns.
        error: Option<String>,
    },
    /// `handle_data_ready{id}`: the handle has new data to `read`.
    HandleDataReady {
        /// The handle.
        id: HandleId,
    },
    /// `network_request{uri, ip, handle}`: a listener accepted a connection (PSP), got the
    /// first datagram of a new sender (PDP), or received a request (HTTP) or a connection
    /// (WebSocket).
    NetworkRequest {
        /// The URI exactly as passed to `listen`.
        uri: String,
        /// The peer's address: a dotted IP for PSP/PDP, the host's text of the TCP peer for
        /// HTTP; absent for WebSocket.
        ip: Option<String>,
        /// The new handle.
        handle: HandleId,
    },
    /// `network_event{…}`: a PIP event for a process that enabled `netevent`: a control
    /// message ([`NetEvent::Control`](pip_core::NetEvent::Control), params
    /// `{type = "control", messageType, error?, payload?, sender?}`) or a packet for another
    /// address ([`NetEvent::Foreign`](pip_core::NetEvent::Foreign), params: the packet's table).
    NetworkEvent(pip_core::NetEvent),
    /// `modem_message{device, channel, replyChannel, message, distance}`: a raw modem message
    /// on a channel the process listens to (see
    /// [`NetworkStack::raw_listen`]).
    ModemMessage {
        /// The modem's device path.
        device: String,
        /// The channel it arrived on.
        channel: u16,
        /// Its reply channel.
        reply_channel: u16,
        /// The payload.
        message: Value,
        /// Distance to the sender; `None` across dimensions.
        distance: Option<f64>,
    },
    /// `listen_failed{uri, error}`: the host could not carry out an HTTP or WebSocket `listen`
    /// (see [`NetworkStack::handle_tcp_listen_failed`]); the listen record is gone, so the
    /// program may `listen` on that URI again.
    ListenFailed {
        /// The URI exactly as passed to `listen`.
        uri: String,
        /// The host's reason, for example `Address already in use`.
        error: String,
    },
}

impl Event {
    /// The event's name as `os.pullEvent` returns it.
    pub const fn name(&self) -> &'static str {
        match self {
            Event::HandleStatusChange { .. } => "handle_status_change",
            Event::HandleDataReady { .. } => "handle_data_ready",
            Event::NetworkRequest { .. } => "network_request",
            Event::NetworkEvent(_) => "network_event",
            Event::ModemMessage { .. } => "modem_message",
            Event::ListenFailed { .. } => "listen_failed",
        }
    }

    /// The event's parameter table as a program receives it.
    pub fn params(&self) -> Value {
        match self {
            Event::HandleStatusChange { id, status, error } => Value::Table(Table::from_fields([
                ("error", error.as_deref().map_or(Value::Nil, Value::from)),
                ("id", Value::from(*id)),
                ("status", Value::from_static(status.as_str())),
            ])),
            // One per received segment on a busy connection: built in one go.
            Event::HandleDataReady { id } => {
                Value::Table(Table::from_fields([("id", Value::from(*id))]))
            }
            Event::NetworkRequest { uri, ip, handle } => Value::Table(Table::from_fields([
                ("handle", Value::from(*handle)),
                ("ip", ip.as_deref().map_or(Value::Nil, Value::from)),
                ("uri", Value::from(uri.as_str())),
            ])),
            Event::NetworkEvent(e) => e.to_value(),
            Event::ModemMessage {
                device,
                channel,
                reply_channel,
                message,
                distance,
            } => {
                let mut t = Table::with_capacity(5);
                t.set("device", Value::from(device.as_str()));
                t.set("channel", Value::from(*channel));
                t.set("replyChannel", Value::from(*reply_channel));
                t.set("message", message.clone());
                t.set("distance", distance.map_or(Value::Nil, Value::Num));
                Value::Table(t)
            }
            Event::ListenFailed { uri, error } => {
                let mut t = Table::with_capacity(2);
                t.set("uri", Value::from(uri.as_str()));
                t.set("error", Value::from(error.as_str()));
                Value::Table(t)
            }
        }
    }

    /// The Lua form in one call: `(name, params)`.
    pub fn into_lua(self) -> (&'static str, Value) {
        (self.name(), self.params())
    }
}

/// Names one TCP (or TLS) connection the stack asked the host to open, for HTTP and WebSocket
/// handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TcpId(pub u64);

/// Something the host must do or deliver, drained with
/// [`NetworkStack::poll_output`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
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
    /// Queue `event` for process `pid` (a Lua host queues
    /// [`event.name()`](Event::name) with [`event.params()`](Event::params)).
    Event {
        /// The receiving process.
        pid: Pid,
        /// The event.
        event: Event,
    },
    /// A TCP action for an HTTP or WebSocket handle or listener.
    Tcp(TcpRequest),
    /// A router asks its host to deliver every channel heard on `device` (sent once per modem
    /// at boot). A real CC modem opens at most 128 channels, so a host may refuse with [`NetworkStack::handle_hear_all_refused`];
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
/// [`NetworkStack::handle_tcp_accept`]), listener ids
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
    /// [`NetworkStack::handle_tcp_accept`], or report that it cannot with
    /// [`NetworkStack::handle_tcp_listen_failed`].
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
#[non_exhaustive]
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
///
/// Every input a host receives from the world is here. What stays inherent on
/// [`Computer`](crate::Computer) is not an input but set-up and inspection
/// ([`Computer::register_scheme`](crate::Computer::register_scheme),
/// [`Computer::rednet_host`](crate::Computer::rednet_host), statistics) and the typed calls
/// ([`Computer::connect`](crate::Computer::connect), ...), which take Rust types a second
/// implementation of the trait would not share.
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

    /// The host accepted a TCP connection on `listener` (a [`TcpRequest::Listen`] the stack
    /// asked for). `peer` is the remote end as the host writes it (for example
    /// `203.0.113.5:41234`); it reaches the program unchanged as `network_request`'s `ip` for
    /// HTTP requests. Returns the id to report the connection's events under with
    /// [`handle_tcp`](NetworkStack::handle_tcp), or `None` when that listener is gone or the
    /// stack holds [`MAX_TCP`](crate::MAX_TCP) connections: the host then closes the socket.
    #[must_use]
    fn handle_tcp_accept(
        &mut self,
        now: Instant,
        listener: ListenerId,
        peer: &str,
    ) -> Option<TcpId>;

    /// The host could not carry out the [`TcpRequest::Listen`] for `listener` (the address is
    /// in use or not local, permission denied, ...); `reason` is its text. The listen record
    /// is removed, as if the program had called `unlisten` (no [`TcpRequest::Unlisten`] is
    /// asked for: the host holds nothing), and the owning process gets
    /// [`Event::ListenFailed`] with the URI it gave and `reason`. An unknown or already
    /// removed listener is ignored (the failure raced an `unlisten`).
    fn handle_tcp_listen_failed(&mut self, now: Instant, listener: ListenerId, reason: &str);

    /// The modem `device` refused to open `channel` (for example `Too many open channels`, a
    /// modem's limit of 128). As Phoenix does, PSP connections in time-wait are reaped first
    /// (their channels are released); then a connecting PSP client on that channel fails with
    /// `message` and a listener stops using that modem. The stack forgets every use of that
    /// channel on that modem, since it is not open.
    fn handle_channel_failed(&mut self, now: Instant, device: &str, channel: u16, message: &str);

    /// The host refused [`Output::HearAll`] for modem `device` (it delivers only open channels,
    /// as a CC modem does). The router then opens [`ComputerConfig::forward_ports`](crate::ComputerConfig::forward_ports) there, in
    /// order, while the modem holds fewer than [`MAX_OPEN_CHANNELS`](crate::MAX_OPEN_CHANNELS) channels, and from then on
    /// holds open the reply channel of every packet it transmits on that modem, so replies to
    /// a client's ephemeral port come back through it. Held reply channels share what is left
    /// of the budget; when it is used up the least recently used held reply channel is closed
    /// for the new one. Ignored when the computer is not a router or `device` is unknown.
    fn handle_hear_all_refused(&mut self, now: Instant, device: &str);

    /// Process `pid` exists, started by `parent` (`None` for a process without one). Handles
    /// belong to processes: a handle's methods may be called by its owner and the owner's
    /// descendants only. A process the stack has not been told of is created without a parent
    /// at its first call.
    fn spawn_process(&mut self, pid: Pid, parent: Option<Pid>);

    /// Process `pid` ended: its handles are closed and forgotten, its listeners and
    /// subscriptions dropped; its children are re-parented to its parent.
    fn exit_process(&mut self, now: Instant, pid: Pid);

    /// Starts (`on`) or stops raw `modem_message` delivery of `channel` on modem `device` to
    /// `pid` (what a Phoenix process gets from `devlisten` and `modem.open`). The channel stays
    /// open while any listener or protocol holds it. Returns false for an unknown device.
    fn raw_listen(&mut self, now: Instant, pid: Pid, device: &str, channel: u16, on: bool) -> bool;

    /// A syscall from process `pid` (`root` if it runs as root), with its arguments as values.
    /// Returns the syscall's results, or its error (the text a program's `pcall` sees).
    ///
    /// Every name, argument, result and error text is in [`crate::reference`](mod@crate::reference);
    /// an unknown name is [`SyscallError::NoSuchSyscall`](crate::SyscallError::NoSuchSyscall).
    /// `connect` returns the new handle's id: a Lua host wraps it in a handle object whose
    /// methods call [`handle_method`](NetworkStack::handle_method).
    fn syscall(
        &mut self,
        now: Instant,
        pid: Pid,
        root: bool,
        name: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, crate::SyscallError>;

    /// A method call on handle `handle` by process `pid`, with its arguments as values.
    ///
    /// Which methods a handle has depends on its kind:
    /// [`Computer::handle_kind`](crate::Computer::handle_kind) names it and
    /// [`registry::methods_of`](crate::registry::methods_of) lists that kind's methods (a Lua
    /// host builds the handle object's method table from them). A handle the caller may not use
    /// is `No such socket`; a method its kind lacks is `No such method`.
    fn handle_method(
        &mut self,
        now: Instant,
        pid: Pid,
        handle: u64,
        method: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, crate::SyscallError>;

    /// The next effect for the host, if any.
    #[must_use]
    fn poll_output(&mut self) -> Option<Output>;

    /// When [`handle_timeout`](NetworkStack::handle_timeout) must next be called.
    #[must_use]
    fn poll_timeout(&self) -> Option<Instant>;
}
