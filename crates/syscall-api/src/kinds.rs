//! What a handle id stands for.

use std::collections::VecDeque;

use handle_fsm::http::{HttpClient, HttpHandle, RequestId};
use handle_fsm::ws::WsHandle;
use modem_value::{LuaStr, SplitMix64, Value};
use pip_core::Device;

use crate::io::TcpId;

/// A rednet handle: a target, an optional protocol, its modems, its queue.
#[derive(Debug)]
pub struct RednetHandle {
    /// The target computer ID, or `None` for `255.255.255.255` (broadcast / any sender).
    pub target: Option<u32>,
    /// `sProtocol` (from `rednet+<protocol>`).
    pub protocol: Option<LuaStr>,
    /// The modems rednet was opened on for this handle.
    pub modems: Vec<Device>,
    /// Received messages, oldest first.
    pub queue: VecDeque<Value>,
    /// `close()` was called (`status()` is then `closed`).
    pub closed: bool,
}

/// Most messages a rednet handle queues; further ones are dropped (and counted) until the
/// program reads.
pub const MAX_REDNET_QUEUE: usize = 4096;

/// An HTTP client handle and the request machine performing it.
#[derive(Debug)]
pub struct HttpState {
    /// The lifecycle the program sees.
    pub handle: HttpHandle,
    /// The request in flight, until its outcome.
    pub client: Option<HttpClient>,
    /// Its current TCP connection.
    pub tcp: Option<TcpId>,
}

/// A WebSocket handle (client or accepted server side) and its TCP connection.
#[derive(Debug)]
pub struct WsState {
    /// The handle machine.
    pub handle: WsHandle<SplitMix64>,
    /// Its TCP connection (assigned at the first connect output for clients).
    pub tcp: Option<TcpId>,
    /// For accepted connections: the listen URI, for `network_request` once open.
    pub listen_uri: Option<String>,
    /// Whether `network_request` was raised (server side).
    pub announced: bool,
}

/// The kinds of handle.
#[derive(Debug)]
pub enum Kind {
    /// A PSP connection or listen record (state lives in `psp-proto`).
    Psp,
    /// A PDP client, listener or pseudo-handle (state lives in `psp-proto`).
    Pdp,
    /// A rednet handle.
    Rednet(RednetHandle),
    /// An HTTP(S) client handle.
    Http(Box<HttpState>),
    /// A WebSocket handle.
    Ws(Box<WsState>),
    /// A request received by `listen("http://…")`: the request body to read, the response to
    /// write.
    HttpRequest {
        /// The accepted connection.
        tcp: TcpId,
        /// The request on it.
        request: RequestId,
    },
    /// An HTTP or WebSocket listen record (`listen("http://…")`/`listen("ws://…")`).
    WebListener {
        /// The port.
        port: u16,
    },
}

impl Kind {
    /// The kind as the registry names it.
    pub(crate) fn handle_kind(&self) -> crate::registry::HandleKind {
        use crate::registry::HandleKind as K;
        match self {
            Kind::Psp => K::Psp,
            Kind::Pdp => K::Pdp,
            Kind::Rednet(_) => K::Rednet,
            Kind::Http(_) => K::HttpClient,
            Kind::Ws(_) => K::WebSocket,
            Kind::HttpRequest { .. } => K::HttpRequest,
            Kind::WebListener { .. } => K::WebListener,
        }
    }
}
