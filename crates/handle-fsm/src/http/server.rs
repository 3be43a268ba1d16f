//! The HTTP/1.1 server behind `listen("http://…")` (CraftOS-PC's server API).
//!
//! One [`HttpServerConnection`] per accepted TCP connection. It parses requests (pipelined,
//! with Content-Length or chunked bodies), raises [`ServerEvent::Request`] once a request is
//! complete, and lets the program answer through the [`ServerRequest`] handle: `read` the body
//! (with the stream read rules), `method`, `path`, `requestHeaders`, `setResponseCode`,
//! `setResponseHeader`, `write` (buffered) and `close` (sends status, headers with
//! `Content-Length`, body). Responses go out in request order. A response the program has not
//! closed after [`SERVER_AUTO_SEND`] is sent as it is. Malformed requests get `400 Bad
//! Request` (oversized heads 431, oversized bodies 413) after the responses already due, and
//! the connection closes.
//!
//! Call order after every input and every program call on a request: drain
//! [`HttpServerConnection::poll_output`], then [`HttpServerConnection::poll_event`], then
//! re-arm [`HttpServerConnection::poll_timeout`].

use std::collections::VecDeque;

use modem_value::{Instant, Value};

use super::body::BodyError;
use super::body::{BodyReader, Framing};
use super::head::{
    has_head_end, headers_table, pairs, parse_request_head, reason_phrase, skip_leading_newlines,
    HeadError, Headers, RequestHead, Transfer,
};
use super::request::check_header;
use crate::limits::{
    MAX_HEAD, SERVER_AUTO_SEND, SERVER_IDLE_TIMEOUT, SERVER_MAX_BODY, SERVER_MAX_PIPELINE,
    SERVER_MAX_RESPONSE,
};
use crate::net::NetOutput;
use crate::read::read_stream;
use crate::status::{HandleError, Status};

/// Identifies a request within its connection (increasing from 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// What the program should hear about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerEvent {
    /// A complete request: raise `network_request` with its handle (status `open`).
    Request(RequestId),
    /// The response was sent by the 15 s auto-send: the handle is now `closed`.
    StatusChange(RequestId, Status),
}

/// A request and the response being built for it (the program's handle).
#[derive(Debug)]
pub struct ServerRequest {
    head: RequestHead,
    body: VecDeque<u8>,
    trailers: Headers,
    status: Status,
    code: u16,
    reason: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
    out: Vec<u8>,
    deadline: Instant,
    keep_alive: bool,
}

impl ServerRequest {
    /// `status()`: `open` until the response is sent.
    pub fn status(&self) -> Status {
        self.status
    }

    /// `method()`.
    pub fn method(&self) -> &str {
        self.head.method()
    }

    /// `path()`: the request target as sent.
    pub fn path(&self) -> &str {
        self.head.target()
    }

    /// The parsed head.
    pub fn head(&self) -> &RequestHead {
        &self.head
    }

    /// `requestHeaders()` as a Lua table (repeated names: the last wins, as in a Lua table
    /// filled in order).
    pub fn request_headers(&self) -> Value {
        headers_table(self.head.fields())
    }

    /// The request's trailer fields (after a chunked body), in wire order, parsed by the same
    /// rules as header fields; empty without a chunked body.
    pub fn trailers(&self) -> &Headers {
        &self.trailers
    }

    /// `requestTrailers()` as a Lua table, as [`ServerRequest::request_headers`].
    pub fn request_trailers(&self) -> Value {
        headers_table(pairs(&self.trailers))
    }

    /// `read(mode...)` over the request body; only while `open`.
    pub fn read(&mut self, modes: &[Value]) -> Result<Vec<Value>, HandleError> {
        if self.status != Status::Open {
            return Err(HandleError::Read(self.status));
        }
        Ok(read_stream(&mut self.body, modes)?)
    }

    fn writable(&self) -> Result<(), HandleError> {
        if self.status != Status::Open {
            return Err(HandleError::Write(self.status));
        }
        Ok(())
    }

    /// `setResponseCode(code[, reason])`: 100–599; the reason defaults to the standard one.
    pub fn set_response_code(
        &mut self,
        code: u16,
        reason: Option<&str>,
    ) -> Result<(), HandleError> {
        self.writable()?;
        if !(100..=599).contains(&code) {
            return Err(HandleError::Other(
                "bad argument (invalid status code)".into(),
            ));
        }
        if reason.is_some_and(|r| r.contains(['\r', '\n'])) {
            return Err(HandleError::Other(
                "bad argument (invalid reason phrase)".into(),
            ));
        }
        self.code = code;
        self.reason = reason.map(str::to_string);
        Ok(())
    }

    /// `setResponseHeader(name, value)`: replaces an earlier value of the same name.
    /// `Content-Length`, `Transfer-Encoding` and `Connection` are managed by the server and
    /// ignored here.
    pub fn set_response_header(&mut self, name: &str, value: &[u8]) -> Result<(), HandleError> {
        self.writable()?;
        check_header(name, value).map_err(HandleError::Other)?;
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.to_vec()));
        Ok(())
    }

    /// `write(...)`: `tostring`s and buffers the arguments.
    pub fn write(&mut self, args: &[Value]) -> Result<(), HandleError> {
        self.writable()?;
        let add: usize = args.iter().map(|a| a.to_lua_string().len()).sum();
        if self.out.len().saturating_add(add) > SERVER_MAX_RESPONSE {
            return Err(HandleError::Other("Response is too large".into()));
        }
        for a in args {
            self.out.extend_from_slice(&a.to_lua_string());
        }
        Ok(())
    }

    /// `close()`: the response is sent (in request order) and the handle is `closed`.
    pub fn close(&mut self) -> Result<(), HandleError> {
        if self.status != Status::Open {
            return Err(HandleError::Close(self.status));
        }
        self.status = Status::Closed;
        Ok(())
    }

    fn response_bytes(&self, close: bool) -> Vec<u8> {
        let reason = self.reason.as_deref().unwrap_or(reason_phrase(self.code));
        let mut o = format!("HTTP/1.1 {} {}\r\n", self.code, reason).into_bytes();
        for (n, v) in &self.headers {
            if ["content-length", "transfer-encoding", "connection"]
                .iter()
                .any(|m| n.eq_ignore_ascii_case(m))
            {
                continue;
            }
            o.extend_from_slice(n.as_bytes());
            o.extend_from_slice(b": ");
            o.extend_from_slice(v);
            o.extend_from_slice(b"\r\n");
        }
        let bodyless = (100..200).contains(&self.code) || self.code == 204 || self.code == 304;
        if !bodyless {
            o.extend_from_slice(format!("Content-Length: {}\r\n", self.out.len()).as_bytes());
        }
        if close {
            o.extend_from_slice(b"Connection: close\r\n");
        } else if self.head.version == 0 {
            o.extend_from_slice(b"Connection: keep-alive\r\n");
        }
        o.extend_from_slice(b"\r\n");
        if !bodyless && self.head.method() != "HEAD" {
            o.extend_from_slice(&self.out);
        }
        o
    }
}

#[derive(Debug)]
enum Parse {
    Head,
    Body(Box<PendingBody>),
    /// No more requests on this connection (close requested or error queued).
    Stopped,
}

#[derive(Debug)]
struct PendingBody {
    head: RequestHead,
    reader: BodyReader,
    body: Vec<u8>,
    keep_alive: bool,
}

/// One accepted HTTP connection.
#[derive(Debug)]
pub struct HttpServerConnection {
    inbuf: Vec<u8>,
    scanned: usize,
    parse: Parse,
    requests: VecDeque<(RequestId, ServerRequest)>,
    next_id: u64,
    /// Response to send after the pending ones, then close (400/413/431).
    error: Option<Vec<u8>>,
    outputs: VecDeque<NetOutput>,
    events: VecDeque<ServerEvent>,
    idle_deadline: Option<Instant>,
    peer_closed: bool,
    closed: bool,
    /// The latest `now` seen, for work resumed from `poll_output`.
    now: Instant,
}

impl HttpServerConnection {
    /// A freshly accepted connection.
    pub fn new(now: Instant) -> Self {
        HttpServerConnection {
            inbuf: Vec::new(),
            scanned: 0,
            parse: Parse::Head,
            requests: VecDeque::new(),
            next_id: 0,
            error: None,
            outputs: VecDeque::new(),
            events: VecDeque::new(),
            idle_deadline: Some(now + SERVER_IDLE_TIMEOUT),
            peer_closed: false,
            closed: false,
            now,
        }
    }

    /// The handle of a request not yet answered (or answered but not yet flushed).
    pub fn request(&self, id: RequestId) -> Option<&ServerRequest> {
        self.requests.iter().find(|(i, _)| *i == id).map(|(_, r)| r)
    }

    /// The mutable handle of a request; call [`HttpServerConnection::poll_output`] after
    /// changing it.
    pub fn request_mut(&mut self, id: RequestId) -> Option<&mut ServerRequest> {
        self.requests
            .iter_mut()
            .find(|(i, _)| *i == id)
            .map(|(_, r)| r)
    }

    /// Requests waiting for their response.
    pub fn pending(&self) -> usize {
        self.requests.len()
    }

    /// Whether the connection is finished (close output issued).
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    fn fail(&mut self, code: u16) {
        let r = format!(
            "HTTP/1.1 {code} {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            reason_phrase(code)
        );
        self.error = Some(r.into_bytes());
        self.parse = Parse::Stopped;
        self.inbuf = Vec::new();
    }

    /// Bytes arrived.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) {
        self.now = now;
        if self.closed || matches!(self.parse, Parse::Stopped) {
            return;
        }
        self.inbuf.extend_from_slice(data);
        if self.inbuf.len() > MAX_HEAD + SERVER_MAX_BODY {
            // Only reachable when the program stalls a full pipeline: stop reading.
            self.fail(503);
        }
        self.parse_requests(now);
        self.update_idle(now);
    }

    fn parse_requests(&mut self, now: Instant) {
        loop {
            match &mut self.parse {
                Parse::Stopped => return,
                Parse::Head => {
                    if self.requests.len() >= SERVER_MAX_PIPELINE {
                        return;
                    }
                    let Ok(dropped) = skip_leading_newlines(&mut self.inbuf) else {
                        return self.fail(400);
                    };
                    self.scanned -= dropped.min(self.scanned);
                    if !has_head_end(&self.inbuf, self.scanned) {
                        self.scanned = self.inbuf.len();
                        if self.inbuf.len() > MAX_HEAD {
                            self.fail(431);
                        }
                        return;
                    }
                    let (head, n) = match parse_request_head(&self.inbuf) {
                        Ok(Some(x)) => x,
                        Ok(None) => {
                            self.scanned = self.inbuf.len();
                            return;
                        }
                        Err(HeadError::TooLarge) => return self.fail(431),
                        Err(HeadError::UnsupportedTransferCoding) => return self.fail(501),
                        Err(_) => return self.fail(400),
                    };
                    self.inbuf.drain(..n);
                    self.scanned = 0;
                    if head.method() == "CONNECT" {
                        // A tunnel is not something a program's handler can serve.
                        return self.fail(501);
                    }
                    let framing = request_framing(&head);
                    if matches!(framing, Framing::Length(l) if l > SERVER_MAX_BODY as u64) {
                        return self.fail(413);
                    }
                    // An upgrade offer is declined (RFC 9110 §7.8) by answering normally; what
                    // the client sends after it may not be HTTP, so the connection ends with
                    // that answer.
                    let keep_alive = head.keep_alive() && !head.facts.upgrade;
                    if framing != Framing::Empty
                        && self.requests.is_empty()
                        && head.facts.expect_continue
                    {
                        self.outputs
                            .push_back(NetOutput::Send(b"HTTP/1.1 100 Continue\r\n\r\n".to_vec()));
                    }
                    self.parse = Parse::Body(Box::new(PendingBody {
                        head,
                        reader: BodyReader::new(framing, SERVER_MAX_BODY),
                        body: Vec::new(),
                        keep_alive,
                    }));
                }
                Parse::Body(pending) => {
                    let PendingBody { reader, body, .. } = &mut **pending;
                    if !reader.is_done() {
                        match reader.feed(&self.inbuf, body) {
                            Ok(n) => {
                                self.inbuf.drain(..n);
                            }
                            Err(BodyError::TooLarge) => return self.fail(413),
                            Err(_) => return self.fail(400),
                        }
                        if !reader.is_done() {
                            return;
                        }
                    }
                    let Parse::Body(pending) = std::mem::replace(&mut self.parse, Parse::Head)
                    else {
                        return;
                    };
                    let PendingBody {
                        head,
                        body,
                        keep_alive,
                        reader,
                    } = *pending;
                    let id = RequestId(self.next_id);
                    self.next_id += 1;
                    self.requests.push_back((
                        id,
                        ServerRequest {
                            head,
                            body: body.into(),
                            trailers: reader.trailers,
                            status: Status::Open,
                            code: 200,
                            reason: None,
                            headers: Vec::new(),
                            out: Vec::new(),
                            deadline: now + SERVER_AUTO_SEND,
                            keep_alive,
                        },
                    ));
                    self.events.push_back(ServerEvent::Request(id));
                    if !keep_alive {
                        self.parse = Parse::Stopped;
                        self.inbuf = Vec::new();
                    }
                }
            }
        }
    }

    /// The peer closed (or half-closed) the connection: an unfinished request is dropped;
    /// responses already due are still sent, then the connection closes.
    pub fn handle_peer_closed(&mut self, now: Instant) {
        self.now = now;
        self.peer_closed = true;
        // Request bodies are never close-delimited: an unfinished request is lost.
        self.parse = Parse::Stopped;
        self.inbuf = Vec::new();
        self.update_idle(now);
    }

    /// Time passed: auto-sends overdue responses, closes idle connections.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        for (id, r) in self.requests.iter_mut() {
            if r.status == Status::Open && now >= r.deadline {
                r.status = Status::Closed;
                self.events
                    .push_back(ServerEvent::StatusChange(*id, Status::Closed));
            }
        }
        if self.idle_deadline.is_some_and(|d| now >= d) && self.requests.is_empty() && !self.closed
        {
            self.closed = true;
            self.outputs.push_back(NetOutput::Close);
        }
        self.update_idle(now);
    }

    fn update_idle(&mut self, now: Instant) {
        let idle =
            self.requests.is_empty() && self.inbuf.is_empty() && matches!(self.parse, Parse::Head);
        self.idle_deadline = if idle && !self.closed {
            Some(now + SERVER_IDLE_TIMEOUT)
        } else {
            None
        };
    }

    /// Moves finished responses (in order) to the output queue.
    fn flush(&mut self) {
        while let Some((_, r)) = self.requests.front() {
            if r.status != Status::Closed || self.closed {
                break;
            }
            let close = !r.keep_alive;
            self.outputs
                .push_back(NetOutput::Send(r.response_bytes(close)));
            self.requests.pop_front();
            if close {
                self.closed = true;
                self.outputs.push_back(NetOutput::Close);
            }
        }
        if self.requests.is_empty() && !self.closed {
            if let Some(e) = self.error.take() {
                self.outputs.push_back(NetOutput::Send(e));
                self.closed = true;
                self.outputs.push_back(NetOutput::Close);
            } else if self.peer_closed {
                self.closed = true;
                self.outputs.push_back(NetOutput::Close);
            }
        }
    }

    /// Next network action (flushes responses the program has closed).
    #[must_use]
    pub fn poll_output(&mut self) -> Option<NetOutput> {
        self.flush();
        if !self.closed && self.requests.len() < SERVER_MAX_PIPELINE && !self.inbuf.is_empty() {
            // A pipeline that was full has room again.
            self.parse_requests(self.now);
        }
        self.update_idle(self.now);
        self.outputs.pop_front()
    }

    /// Next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// The earliest auto-send or idle deadline.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let auto = self
            .requests
            .iter()
            .filter(|(_, r)| r.status == Status::Open)
            .map(|(_, r)| r.deadline)
            .min();
        match (auto, self.idle_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Request body framing (RFC 9112 §6.3): chunked, Content-Length, or none. Every other
/// combination was refused when the head was parsed.
fn request_framing(head: &RequestHead) -> Framing {
    if head.facts.transfer == Transfer::Chunked {
        return Framing::Chunked;
    }
    match head.facts.content_length {
        Some(0) | None => Framing::Empty,
        Some(n) => Framing::Length(n),
    }
}
