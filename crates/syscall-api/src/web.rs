//! HTTP and WebSocket handles: handle-fsm's machines wired to the host's TCP connections.
//!
//! The stack never opens a socket. A client handle's machine asks for a connection
//! ([`NetOutput::Connect`]); the stack gives it a fresh [`TcpId`] and passes the request on as
//! [`Output::Tcp`] ([`TcpRequest::Connect`]); the host reports back with
//! [`NetworkStack::handle_tcp`]. Servers (`listen("http://…")`, `listen("ws://…")`) ask the
//! host to listen on the URI's address and port ([`TcpRequest::Listen`], with a fresh
//! [`ListenerId`]); the host reports each accepted connection with
//! [`NetworkStack::handle_tcp_accept`](crate::NetworkStack::handle_tcp_accept), which returns the id to use for it.
//!
//! [`NetworkStack::handle_tcp`]: crate::NetworkStack::handle_tcp

use std::collections::{BTreeMap, BTreeSet};

use handle_fsm::http::{
    Encoding, HttpClient, HttpHandle, HttpOptions, HttpServerConnection, RequestId, ServerEvent,
};
use handle_fsm::ws::WsHandle;
use handle_fsm::{HandleEvent, NetOutput, Status};
use modem_value::{Instant, RandomSource, SplitMix64};
use psp_proto::HandleId;

use crate::computer::Computer;
use crate::io::{Event, ListenerId, Output, Pid, TcpEvent, TcpId, TcpRequest};
use crate::kinds::{HttpState, Kind, WsState};
use crate::SyscallError;

/// Most TCP connections (client and accepted) at once; further accepts are refused.
pub const MAX_TCP: usize = 4096;

#[derive(Debug)]
enum Role {
    /// An HTTP or WebSocket client handle's connection.
    Client(HandleId),
    /// An accepted connection on an HTTP listener.
    HttpServer,
    /// An accepted connection on a WebSocket listener (its handle).
    WsServer(HandleId),
}

#[derive(Debug)]
struct Listener {
    id: HandleId,
    listener: ListenerId,
    uri: String,
    ws: bool,
    /// What accepted WebSocket handles send `write`s as.
    encoding: Encoding,
}

#[derive(Debug)]
struct ServerConn {
    conn: HttpServerConnection,
    port: u16,
    peer: String,
    requests: BTreeMap<RequestId, HandleId>,
}

/// The web side of one computer.
#[derive(Debug)]
pub(crate) struct Web {
    rng: SplitMix64,
    next_tcp: u64,
    next_listener: u64,
    tcp: BTreeMap<TcpId, Role>,
    listeners: BTreeMap<u16, Listener>,
    servers: BTreeMap<TcpId, ServerConn>,
    /// HTTP and WebSocket handles whose machines may have work.
    active: BTreeSet<HandleId>,
    deadline: Option<Instant>,
}

impl Web {
    pub(crate) fn new(rng: SplitMix64) -> Self {
        Web {
            rng,
            next_tcp: 0,
            next_listener: 0,
            tcp: BTreeMap::new(),
            listeners: BTreeMap::new(),
            servers: BTreeMap::new(),
            active: BTreeSet::new(),
            deadline: None,
        }
    }

    fn new_tcp(&mut self, role: Role) -> TcpId {
        let id = TcpId(self.next_tcp);
        self.next_tcp += 1;
        self.tcp.insert(id, role);
        id
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    pub(crate) fn listener_on(&self, port: u16) -> Option<HandleId> {
        self.listeners.get(&port).map(|l| l.id)
    }
}

fn status_event(id: HandleId, status: Status, error: Option<&str>) -> Event {
    Event::HandleStatusChange {
        id: id.into(),
        status,
        error: error.map(str::to_string),
    }
}

impl Computer {
    /// `connect` for http/https: a handle in `ready`.
    pub(crate) fn connect_http(
        &mut self,
        pid: Pid,
        opts: HttpOptions,
    ) -> Result<HandleId, SyscallError> {
        let state = HttpState {
            handle: HttpHandle::new(opts),
            client: None,
            tcp: None,
        };
        let id = self.handles.insert(pid, Kind::Http(Box::new(state)))?;
        self.web.active.insert(id);
        Ok(id)
    }

    /// `connect` for ws/wss: a handle in `connecting`, or [`SyscallError::Refused`] on a
    /// synchronous refusal.
    pub(crate) fn connect_ws(
        &mut self,
        pid: Pid,
        opts: HttpOptions,
    ) -> Result<HandleId, SyscallError> {
        let rng = SplitMix64::new(self.web.rng.next_u64());
        let handle = match WsHandle::connect(self.now, &opts.url, &opts.headers, opts.encoding, rng)
        {
            Ok(h) => h,
            Err(msg) => return Err(SyscallError::Refused(msg.to_string())),
        };
        let state = WsState {
            handle,
            tcp: None,
            listen_uri: None,
            announced: true,
        };
        let id = self.handles.insert(pid, Kind::Ws(Box::new(state)))?;
        self.web.active.insert(id);
        Ok(id)
    }

    /// `listen("http://…")` / `listen("ws://…")`: port 80 by default.
    pub(crate) fn listen_web(
        &mut self,
        pid: Pid,
        uri: &str,
        address: Option<&str>,
        port: u16,
        ws: bool,
        encoding: Encoding,
    ) -> Result<(), SyscallError> {
        if self.web.listeners.contains_key(&port) {
            return Err(SyscallError::PortAlreadyOpen);
        }
        let id = self.handles.insert(pid, Kind::WebListener { port })?;
        let listener = ListenerId(self.web.next_listener);
        self.web.next_listener += 1;
        self.web.listeners.insert(
            port,
            Listener {
                id,
                listener,
                uri: uri.to_string(),
                ws,
                encoding,
            },
        );
        self.push(Output::Tcp(TcpRequest::Listen {
            listener,
            address: address.unwrap_or("0.0.0.0").to_string(),
            port,
        }));
        Ok(())
    }

    /// `unlisten` of an HTTP/WS URI: existing connections stay.
    pub(crate) fn unlisten_web(&mut self, pid: Pid, port: u16) -> Result<(), SyscallError> {
        let Some(l) = self.web.listeners.get(&port) else {
            return Ok(());
        };
        let owner = self.handles.owner(l.id).unwrap_or(pid);
        if !self.procs.is_self_or_descendant(pid, owner) {
            return Err(SyscallError::PortOwnedByOther);
        }
        let (id, listener) = (l.id, l.listener);
        self.web.listeners.remove(&port);
        self.handles.remove(id);
        self.push(Output::Tcp(TcpRequest::Unlisten { listener }));
        Ok(())
    }

    /// See [`NetworkStack::handle_tcp_listen_failed`](crate::NetworkStack::handle_tcp_listen_failed).
    pub(crate) fn tcp_listen_failed(&mut self, now: Instant, listener: ListenerId, reason: &str) {
        self.advance(now);
        let Some(port) = self
            .web
            .listeners
            .iter()
            .find(|(_, l)| l.listener == listener)
            .map(|(port, _)| *port)
        else {
            return;
        };
        if let Some(l) = self.web.listeners.remove(&port) {
            let owner = self.handles.owner(l.id);
            self.handles.remove(l.id);
            if let Some(pid) = owner {
                self.event(
                    pid,
                    Event::ListenFailed {
                        uri: l.uri,
                        error: reason.to_string(),
                    },
                );
            }
        }
        self.pump();
    }

    /// See [`NetworkStack::handle_tcp_accept`](crate::NetworkStack::handle_tcp_accept).
    pub(crate) fn tcp_accept(
        &mut self,
        now: Instant,
        listener: ListenerId,
        peer: &str,
    ) -> Option<TcpId> {
        self.advance(now);
        if self.web.tcp.len() >= MAX_TCP {
            return None;
        }
        let (port, lid, ws, encoding) = {
            let (port, l) = self
                .web
                .listeners
                .iter()
                .find(|(_, l)| l.listener == listener)?;
            (*port, l.id, l.ws, l.encoding)
        };
        let owner = self.handles.owner(lid)?;
        let tcp = if ws {
            let uri = self.web.listeners.get(&port).map(|l| l.uri.clone());
            let rng = SplitMix64::new(self.web.rng.next_u64());
            let state = WsState {
                handle: WsHandle::accept(now, encoding, rng),
                tcp: None,
                listen_uri: uri,
                announced: false,
            };
            let id = self.handles.insert(owner, Kind::Ws(Box::new(state))).ok()?;
            let tcp = self.web.new_tcp(Role::WsServer(id));
            if let Some(Kind::Ws(st)) = self.handles.get_internal_mut(id) {
                st.tcp = Some(tcp);
            }
            self.web.active.insert(id);
            tcp
        } else {
            let tcp = self.web.new_tcp(Role::HttpServer);
            self.web.servers.insert(
                tcp,
                ServerConn {
                    conn: HttpServerConnection::new(now),
                    port,
                    peer: peer.to_string(),
                    requests: BTreeMap::new(),
                },
            );
            tcp
        };
        self.pump();
        Some(tcp)
    }

    pub(crate) fn web_tcp(&mut self, now: Instant, conn: TcpId, event: TcpEvent) {
        match self.web.tcp.get(&conn) {
            Some(Role::Client(id)) => {
                let id = *id;
                match self.handles.get_internal_mut(id) {
                    Some(Kind::Http(st)) if st.tcp == Some(conn) => {
                        if let Some(c) = st.client.as_mut() {
                            match event {
                                TcpEvent::Connected => c.handle_connected(now),
                                TcpEvent::Failed(why) => c.handle_connect_failed(now, why),
                                TcpEvent::Data(d) => c.handle_bytes(now, &d),
                                TcpEvent::Closed => c.handle_peer_closed(now),
                            }
                        }
                    }
                    Some(Kind::Ws(st)) => feed_ws(&mut st.handle, now, event),
                    _ => {}
                }
                self.web.active.insert(id);
            }
            Some(Role::WsServer(id)) => {
                let id = *id;
                if let Some(Kind::Ws(st)) = self.handles.get_internal_mut(id) {
                    feed_ws(&mut st.handle, now, event);
                }
                self.web.active.insert(id);
            }
            Some(Role::HttpServer) => {
                if let Some(s) = self.web.servers.get_mut(&conn) {
                    match event {
                        TcpEvent::Data(d) => s.conn.handle_bytes(now, &d),
                        TcpEvent::Closed | TcpEvent::Failed(_) => s.conn.handle_peer_closed(now),
                        TcpEvent::Connected => {}
                    }
                }
            }
            None => {}
        }
    }

    pub(crate) fn web_timeout(&mut self, now: Instant) {
        let ids: Vec<HandleId> = self.web.active.iter().copied().collect();
        for id in ids {
            match self.handles.get_internal_mut(id) {
                Some(Kind::Http(st)) => {
                    if let Some(c) = st.client.as_mut() {
                        c.handle_timeout(now);
                    }
                }
                Some(Kind::Ws(st)) => st.handle.handle_timeout(now),
                _ => {}
            }
        }
        for s in self.web.servers.values_mut() {
            s.conn.handle_timeout(now);
        }
    }

    /// Moves the web machines' outputs and events out; recomputes the web deadline.
    pub(crate) fn pump_web(&mut self) -> bool {
        // With no HTTP or WebSocket machine and no accepted connection there is nothing to move
        // and no deadline; this is every pump of a computer that does not use the web.
        if self.web.active.is_empty() && self.web.servers.is_empty() {
            self.web.deadline = None;
            return false;
        }
        let mut progress = false;
        let mut out: Vec<Output> = Vec::new();
        let mut events: Vec<(HandleId, Event)> = Vec::new();
        let mut finished: Vec<HandleId> = Vec::new();
        let mut deadline: Option<Instant> = None;
        let now = self.now;
        let ids: Vec<HandleId> = self.web.active.iter().copied().collect();
        for id in ids {
            match self.handles.get_internal_mut(id) {
                Some(Kind::Http(st)) => {
                    if let Some(req) = st.handle.take_request() {
                        st.client = Some(HttpClient::new(now, req));
                    }
                    if let Some(c) = st.client.as_mut() {
                        while let Some(o) = c.poll_output() {
                            progress = true;
                            if matches!(o, NetOutput::Connect { .. }) {
                                if let Some(old) = st.tcp.take() {
                                    self.web.tcp.remove(&old);
                                }
                                st.tcp = Some(self.web.new_tcp(Role::Client(id)));
                            }
                            if let Some(t) = st.tcp {
                                out.push(Output::Tcp(TcpRequest::from_net(t, o)));
                            }
                        }
                        if let Some(outcome) = c.poll_outcome() {
                            progress = true;
                            st.handle.handle_outcome(outcome);
                            st.client = None;
                            if let Some(t) = st.tcp.take() {
                                self.web.tcp.remove(&t);
                            }
                        }
                    }
                    while let Some(ev) = st.handle.poll_event() {
                        progress = true;
                        events.push(handle_event_params(id, ev, st.handle.status()));
                    }
                    match st.client.as_ref() {
                        Some(c) => deadline = min_opt(deadline, c.poll_timeout()),
                        None if st.handle.status().0 != Status::Ready => finished.push(id),
                        None => {}
                    }
                }
                Some(Kind::Ws(st)) => {
                    while let Some(o) = st.handle.poll_output() {
                        progress = true;
                        if matches!(o, NetOutput::Connect { .. }) && st.tcp.is_none() {
                            st.tcp = Some(self.web.new_tcp(Role::Client(id)));
                        }
                        if let Some(t) = st.tcp {
                            out.push(Output::Tcp(TcpRequest::from_net(t, o)));
                        }
                    }
                    while let Some(ev) = st.handle.poll_event() {
                        progress = true;
                        if !st.announced && ev == HandleEvent::StatusChange(Status::Open) {
                            st.announced = true;
                            events.push((
                                id,
                                Event::NetworkRequest {
                                    uri: st.listen_uri.clone().unwrap_or_default(),
                                    ip: None,
                                    handle: id.into(),
                                },
                            ));
                        } else if st.announced {
                            events.push(handle_event_params(id, ev, st.handle.status()));
                        }
                    }
                    deadline = min_opt(deadline, st.handle.poll_timeout());
                    if st.handle.is_finished() {
                        if let Some(t) = st.tcp.take() {
                            self.web.tcp.remove(&t);
                        }
                        finished.push(id);
                    }
                }
                _ => finished.push(id),
            }
        }
        for id in finished {
            self.web.active.remove(&id);
        }
        // Accepted HTTP connections.
        let mut new_requests: Vec<(TcpId, RequestId, u16, String)> = Vec::new();
        let mut closed_conns = Vec::new();
        for (tcp, s) in self.web.servers.iter_mut() {
            while let Some(o) = s.conn.poll_output() {
                progress = true;
                out.push(Output::Tcp(TcpRequest::from_net(*tcp, o)));
            }
            while let Some(ev) = s.conn.poll_event() {
                progress = true;
                match ev {
                    ServerEvent::Request(rid) => {
                        new_requests.push((*tcp, rid, s.port, s.peer.clone()))
                    }
                    ServerEvent::StatusChange(rid, status) => {
                        if let Some(&hid) = s.requests.get(&rid) {
                            events.push((hid, status_event(hid, status, None)));
                        }
                    }
                }
            }
            deadline = min_opt(deadline, s.conn.poll_timeout());
            if s.conn.is_closed() {
                closed_conns.push(*tcp);
            }
        }
        for (tcp, rid, port, peer) in new_requests {
            let Some(l) = self.web.listeners.get(&port) else {
                continue;
            };
            let (lid, uri) = (l.id, l.uri.clone());
            let Some(owner) = self.handles.owner(lid) else {
                continue;
            };
            let Ok(hid) = self
                .handles
                .insert(owner, Kind::HttpRequest { tcp, request: rid })
            else {
                continue;
            };
            if let Some(s) = self.web.servers.get_mut(&tcp) {
                s.requests.insert(rid, hid);
            }
            events.push((
                hid,
                Event::NetworkRequest {
                    uri,
                    ip: Some(peer),
                    handle: hid.into(),
                },
            ));
        }
        for tcp in closed_conns {
            self.web.servers.remove(&tcp);
            self.web.tcp.remove(&tcp);
        }
        self.web.deadline = deadline;
        for o in out {
            self.push(o);
        }
        for (id, event) in events {
            self.handle_event(id, event);
        }
        progress
    }

    /// The accepted connection and request of an `HttpRequest` handle.
    pub(crate) fn server_request(
        &mut self,
        tcp: TcpId,
        request: RequestId,
    ) -> Option<&mut handle_fsm::http::ServerRequest> {
        self.web.servers.get_mut(&tcp)?.conn.request_mut(request)
    }

    /// Drops the listen record `id` of `port` (its owner ended).
    pub(crate) fn forget_web_listener(&mut self, port: u16, id: HandleId) {
        if self.web.listener_on(port) == Some(id) {
            if let Some(l) = self.web.listeners.remove(&port) {
                self.push(Output::Tcp(TcpRequest::Unlisten {
                    listener: l.listener,
                }));
            }
        }
    }

    /// Marks a web handle as having work (after a method call on it).
    pub(crate) fn web_touch(&mut self, id: HandleId) {
        self.web.active.insert(id);
    }
}

fn feed_ws(h: &mut WsHandle<SplitMix64>, now: Instant, event: TcpEvent) {
    match event {
        TcpEvent::Connected => h.handle_connected(now),
        TcpEvent::Failed(why) => h.handle_connect_failed(now, why),
        TcpEvent::Data(d) => h.handle_bytes(now, &d),
        TcpEvent::Closed => h.handle_peer_closed(now),
    }
}

/// The event a handle machine raised, for its owner; `error` is the handle's current error
/// message, attached to `error` status changes.
fn handle_event_params(
    id: HandleId,
    ev: HandleEvent,
    (_, error): (Status, Option<&str>),
) -> (HandleId, Event) {
    match ev {
        HandleEvent::StatusChange(s) => {
            let err = if s == Status::Error { error } else { None };
            (id, status_event(id, s, err))
        }
        HandleEvent::DataReady => (id, Event::HandleDataReady { id: id.into() }),
    }
}

fn min_opt(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
