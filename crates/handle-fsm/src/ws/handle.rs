//! The Phoenix WebSocket handle, client (`connect{url="ws://…"}`) or server
//! (`listen("ws://…")`, CraftOS-PC's server API).
//!
//! ```text
//! connecting --handshake ok--> open --peer Close / TCP lost--> closed   (event: closed)
//!      |                         `--close()-----------------> closed   (no event)
//!      `------failure----------> error(msg)                            (event: error)
//! ```
//! Incoming messages are appended to one stream buffer read with the stream read rules, each
//! raising `handle_data_ready`; the buffer also remembers where each message ends and whether
//! it was text or binary, so [`WsHandle::read_message`] can take one message at a time (what a
//! stream read already took of a message is not returned again). Data still
//! buffered when the connection ends stays readable and `status()` says `open` until it is
//! drained; then the handle is `closed` and the deferred `closed` event is raised.
//! `write(v...)` sends each argument as its own message, binary unless the encoding is
//! `utf8`/`utf-8`, on client and server handles alike; text must then be valid UTF-8.
//! `close()` sends Close 1000. How the connection ended (the peer's close code and
//! reason, or the code and text we failed it with) is [`WsHandle::close_info`].
//!
//! Call order after every input: drain [`WsHandle::poll_output`] to the network, then
//! [`WsHandle::poll_event`], then re-arm [`WsHandle::poll_timeout`].

use std::collections::VecDeque;

use modem_value::{Instant, LuaStr, RandomSource, Value};
use url::Url;

use super::handshake::{
    check_ws_url, client_request, new_key, ClientHandshake, ServerHandshake, ServerVerdict,
};
use super::session::{close_code, Role, SendError, WsEvent, WsSession};
use crate::http::client::endpoint;
use crate::http::head::{headers_table, Headers, RequestHead};
use crate::http::request::{Encoding, DEFAULT_USER_AGENT};
use crate::limits::{DEFAULT_TIMEOUT, WS_MAX_IN_FLIGHT, WS_MAX_MESSAGE, WS_MAX_UNREAD};
use crate::net::{ConnectFailure, NetOutput};
use crate::read::read_stream;
use crate::status::{HandleError, HandleEvent, Status};

#[derive(Debug)]
enum Phase {
    /// Client: waiting for the TCP connection.
    Connecting { request: Vec<u8>, key: String },
    /// Client: request sent, waiting for 101.
    Handshaking(ClientHandshake),
    /// Server: waiting for the upgrade request.
    Accepting(ServerHandshake),
    /// Handshake done.
    Open,
    /// Failed or finished.
    Done,
}

/// A WebSocket handle.
#[derive(Debug)]
pub struct WsHandle<R> {
    phase: Phase,
    session: WsSession<R>,
    status: Status,
    error: Option<String>,
    encoding: Encoding,
    buffer: VecDeque<u8>,
    /// The messages in `buffer`, oldest first: bytes still unread, and whether binary.
    messages: VecDeque<(usize, bool)>,
    /// The connection is over but buffered data keeps the handle `open`.
    draining: bool,
    events: VecDeque<HandleEvent>,
    outputs: VecDeque<NetOutput>,
    deadline: Option<Instant>,
    close_info: Option<(Option<u16>, Option<String>)>,
    request: Option<RequestHead>,
    response_headers: Headers,
    url: Option<Url>,
}

impl<R: RandomSource> WsHandle<R> {
    fn base(
        role: Role,
        mut rng: R,
        encoding: Encoding,
        phase_for: impl FnOnce(&mut R) -> Phase,
    ) -> Self {
        let phase = phase_for(&mut rng);
        WsHandle {
            phase,
            session: WsSession::new(role, rng),
            status: Status::Connecting,
            error: None,
            encoding,
            buffer: VecDeque::new(),
            messages: VecDeque::new(),
            draining: false,
            events: VecDeque::new(),
            outputs: VecDeque::new(),
            deadline: None,
            close_info: None,
            request: None,
            response_headers: Vec::new(),
            url: None,
        }
    }

    /// `connect{url, encoding?, headers?}` for ws/wss: checks the URL (a synchronous refusal
    /// is `Err(message)`, for `connect` to return `nil, message`) and starts connecting; the
    /// first output is the TCP connect. The connect + handshake timeout is 30 s (`Timed out`).
    pub fn connect(
        now: Instant,
        url: &str,
        headers: &[(String, Vec<u8>)],
        encoding: Encoding,
        rng: R,
    ) -> Result<Self, String> {
        let url = check_ws_url(url)?;
        let mut h = WsHandle::base(Role::Client, rng, encoding, |rng| {
            let mut nonce = [0u8; 16];
            rng.fill_bytes(&mut nonce);
            let key = new_key(nonce);
            let request = client_request(&url, headers, &key, DEFAULT_USER_AGENT);
            Phase::Connecting { request, key }
        });
        let (host, port, tls) = endpoint(&url);
        h.outputs.push_back(NetOutput::Connect { host, port, tls });
        h.deadline = Some(now + DEFAULT_TIMEOUT);
        h.url = Some(url);
        Ok(h)
    }

    /// A server-side handle for an accepted TCP connection, waiting for the upgrade request.
    /// It becomes `open` (event `StatusChange(Open)`, for the syscall layer to raise
    /// `network_request`) once the handshake succeeds; a bad request is answered 4xx, closed,
    /// and the handle is `error`.
    pub fn accept(now: Instant, encoding: Encoding, rng: R) -> Self {
        let mut h = WsHandle::base(Role::Server, rng, encoding, |_| {
            Phase::Accepting(ServerHandshake::new())
        });
        h.deadline = Some(now + DEFAULT_TIMEOUT);
        h
    }

    /// The target URL (client handles).
    pub fn url(&self) -> Option<&Url> {
        self.url.as_ref()
    }

    /// The upgrade request (server handles, once open): path and headers.
    pub fn request(&self) -> Option<&RequestHead> {
        self.request.as_ref()
    }

    /// The upgrade request's headers as a Lua table (server handles).
    pub fn request_headers(&self) -> Value {
        self.request
            .as_ref()
            .map_or(Value::Nil, |r| headers_table(r.fields()))
    }

    /// The 101 response's headers (client handles, once open).
    pub fn response_headers(&self) -> &Headers {
        &self.response_headers
    }

    /// How the connection ended: the peer's close code (`None` if its Close frame had no
    /// code) and reason (`None` if empty), or the code and text we failed it with; `None`
    /// while open, after a local `close()`, or when the TCP connection simply ended.
    pub fn close_info(&self) -> Option<&(Option<u16>, Option<String>)> {
        self.close_info.as_ref()
    }

    /// `status()`.
    pub fn status(&self) -> (Status, Option<&str>) {
        (self.status, self.error.as_deref())
    }

    fn fail_handshake(&mut self, msg: String, close: bool) {
        if close {
            self.outputs.push_back(NetOutput::Close);
        }
        self.phase = Phase::Done;
        self.deadline = None;
        self.status = Status::Error;
        self.error = Some(msg);
        self.events
            .push_back(HandleEvent::StatusChange(Status::Error));
    }

    fn opened(&mut self, now: Instant, rest: Vec<u8>) {
        self.phase = Phase::Open;
        self.deadline = None;
        self.status = Status::Open;
        self.events
            .push_back(HandleEvent::StatusChange(Status::Open));
        if !rest.is_empty() {
            self.session.handle_bytes(now, &rest);
            self.pump();
        }
    }

    /// The TCP (and TLS) connection is up (client handles).
    pub fn handle_connected(&mut self, _now: Instant) {
        if let Phase::Connecting { request, key } = std::mem::replace(&mut self.phase, Phase::Done)
        {
            self.outputs.push_back(NetOutput::Send(request));
            self.phase = Phase::Handshaking(ClientHandshake::new(key));
        }
    }

    /// The connection could not be made (client handles).
    pub fn handle_connect_failed(&mut self, _now: Instant, why: ConnectFailure) {
        if matches!(self.phase, Phase::Connecting { .. }) {
            self.fail_handshake(why.message().into(), false);
        }
    }

    /// Bytes arrived.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) {
        match &mut self.phase {
            Phase::Handshaking(hs) => match hs.feed(data) {
                Ok(None) => {}
                Ok(Some((headers, rest))) => {
                    self.response_headers = headers;
                    self.opened(now, rest);
                }
                Err(msg) => self.fail_handshake(msg, true),
            },
            Phase::Accepting(hs) => match hs.feed(data) {
                None => {}
                Some(ServerVerdict::Accept {
                    request,
                    response,
                    rest,
                }) => {
                    self.outputs.push_back(NetOutput::Send(response));
                    self.request = Some(request);
                    self.opened(now, rest);
                }
                Some(ServerVerdict::Reject { response }) => {
                    self.outputs.push_back(NetOutput::Send(response));
                    self.fail_handshake("Invalid handshake request".into(), true);
                }
            },
            Phase::Open => {
                self.session.handle_bytes(now, data);
                self.pump();
            }
            Phase::Connecting { .. } | Phase::Done => {}
        }
    }

    /// The peer closed the TCP connection.
    pub fn handle_peer_closed(&mut self, now: Instant) {
        match self.phase {
            Phase::Open => {
                self.session.handle_peer_closed(now);
                self.pump();
            }
            Phase::Connecting { .. } | Phase::Handshaking(_) | Phase::Accepting(_) => {
                self.fail_handshake("Could not connect".into(), false)
            }
            Phase::Done => {}
        }
    }

    /// Time passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_some_and(|d| now >= d) {
            let connected = !matches!(self.phase, Phase::Connecting { .. });
            self.fail_handshake("Timed out".into(), connected);
        }
        if matches!(self.phase, Phase::Open) {
            self.session.handle_timeout(now);
            self.pump();
        }
    }

    /// Moves session outputs and events into the handle's.
    fn pump(&mut self) {
        while let Some(o) = self.session.poll_output() {
            self.outputs.push_back(o);
        }
        while let Some(e) = self.session.poll_event() {
            match e {
                WsEvent::Message { data, binary } => {
                    if self.status != Status::Open || self.draining {
                        continue;
                    }
                    if self.buffer.len() + data.len() > WS_MAX_UNREAD {
                        self.session
                            .fail(close_code::POLICY, "Receive buffer is full");
                        continue;
                    }
                    // One `handle_data_ready` per message, as the kernel raises them; an empty
                    // message adds nothing to read and raises nothing.
                    if !data.is_empty() {
                        self.messages.push_back((data.len(), binary));
                        self.buffer.extend(data);
                        self.events.push_back(HandleEvent::DataReady);
                    }
                }
                WsEvent::Closed { code, reason } => {
                    if self.close_info.is_none() {
                        self.close_info = Some((code, reason));
                    }
                    self.ended();
                }
            }
        }
        while let Some(o) = self.session.poll_output() {
            self.outputs.push_back(o);
        }
        if self.session.is_closed() {
            self.phase = Phase::Done;
        }
    }

    /// The connection ended under an open handle.
    fn ended(&mut self) {
        if self.status != Status::Open || self.draining {
            return;
        }
        if self.buffer.is_empty() {
            self.status = Status::Closed;
            self.events
                .push_back(HandleEvent::StatusChange(Status::Closed));
        } else {
            self.draining = true;
        }
    }

    /// `read(mode...)`: only while `open`.
    pub fn read(&mut self, modes: &[Value]) -> Result<Vec<Value>, HandleError> {
        if self.status != Status::Open {
            return Err(HandleError::Read(self.status));
        }
        let before = self.buffer.len();
        let out = read_stream(&mut self.buffer, modes)?;
        self.consumed(before - self.buffer.len());
        self.after_read();
        Ok(out)
    }

    /// Drops `n` bytes read from the stream from the message boundaries.
    fn consumed(&mut self, mut n: usize) {
        while n > 0 {
            let Some((left, _)) = self.messages.front_mut() else {
                return;
            };
            let take = n.min(*left);
            *left -= take;
            n -= take;
            if *left == 0 {
                self.messages.pop_front();
            }
        }
    }

    /// `readMessage()`: the next message (what is left of it, if stream reads took part of
    /// it) and whether it was binary; `None` when nothing is buffered. Only while `open`.
    pub fn read_message(&mut self) -> Result<Option<(Vec<u8>, bool)>, HandleError> {
        if self.status != Status::Open {
            return Err(HandleError::Read(self.status));
        }
        let Some((n, binary)) = self.messages.pop_front() else {
            return Ok(None);
        };
        let data: Vec<u8> = self.buffer.drain(..n.min(self.buffer.len())).collect();
        self.after_read();
        Ok(Some((data, binary)))
    }

    /// A drained, ended connection closes the handle now.
    fn after_read(&mut self) {
        if self.draining && self.buffer.is_empty() {
            self.draining = false;
            self.status = Status::Closed;
            self.events
                .push_back(HandleEvent::StatusChange(Status::Closed));
        }
    }

    /// `write(v...)`: only while `open`; each argument one message. While an ended
    /// connection is drained writes are discarded, as on a socket whose peer is gone.
    pub fn write(&mut self, args: &[Value]) -> Result<(), HandleError> {
        if self.status != Status::Open {
            return Err(HandleError::Write(self.status));
        }
        let binary = self.encoding == Encoding::Binary;
        let msgs: Vec<LuaStr> = args.iter().map(Value::to_lua_string).collect();
        let in_flight = self
            .outputs
            .iter()
            .filter(|o| matches!(o, NetOutput::Send(_)))
            .count();
        if in_flight + msgs.len() > WS_MAX_IN_FLIGHT {
            return Err(HandleError::Other(
                "Too many ongoing websocket messages".into(),
            ));
        }
        for m in &msgs {
            if m.len() > WS_MAX_MESSAGE {
                return Err(HandleError::Other(SendError::TooLarge.to_string()));
            }
            if !binary && m.to_str().is_none() {
                return Err(HandleError::Other("Message is not valid UTF-8".into()));
            }
        }
        for m in &msgs {
            if self.session.send(m, binary).is_err() {
                break;
            }
        }
        self.pump();
        Ok(())
    }

    /// `close()`: only while `open`; sends Close 1000, no event, unread data dropped.
    pub fn close(&mut self, now: Instant) -> Result<(), HandleError> {
        if self.status != Status::Open {
            return Err(HandleError::Close(self.status));
        }
        self.status = Status::Closed;
        self.draining = false;
        self.buffer.clear();
        self.messages.clear();
        self.session.close(now, close_code::NORMAL, "");
        self.pump();
        Ok(())
    }

    /// Sends a ping (for keep-alive; not part of the Phoenix handle API).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), HandleError> {
        self.session
            .ping(payload)
            .map_err(|e| HandleError::Other(e.to_string()))?;
        self.pump();
        Ok(())
    }

    /// Next network action.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<NetOutput> {
        self.outputs.pop_front()
    }

    /// Next event for the program.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<HandleEvent> {
        self.events.pop_front()
    }

    /// When [`WsHandle::handle_timeout`] must next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Open => self.session.poll_timeout(),
            _ => self.deadline,
        }
    }

    /// Whether the TCP connection is finished with (nothing more will be output).
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Done) && self.outputs.is_empty()
    }
}
