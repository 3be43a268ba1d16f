//! The sans-IO HTTP/1.1 client: one request, its redirects, its timeout.
//!
//! Call order for the host, after every input (`handle_*`):
//! 1. drain [`HttpClient::poll_output`] (connect / send / close, in order);
//! 2. check [`HttpClient::poll_outcome`] (once `Some`, the client is finished);
//! 3. re-arm its timer from [`HttpClient::poll_timeout`] and call
//!    [`HttpClient::handle_timeout`] when it passes.
//!
//! After a [`ClientOutput::Close`] the host must not deliver more input from that connection;
//! a following [`ClientOutput::Connect`] starts the next hop.

use std::collections::VecDeque;

use modem_value::Instant;
use url::Url;

use super::head::ResponseHead;
use super::request::{check_url, HttpRequest};
use super::response::{Response, ResponseError, ResponseParser};
use crate::limits::MAX_REDIRECTS;
pub use crate::net::{ConnectFailure, NetOutput as ClientOutput};

/// How a request ended (CC:Tweaked's `http_success` / `http_failure`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Final status 200–399.
    Success(Response),
    /// Any other status (`message` is the reason phrase, `response` is set), or a transport
    /// error (`message` is CC:Tweaked's text, no response).
    Failure {
        /// The error text.
        message: String,
        /// The response, for an HTTP error status.
        response: Option<Response>,
    },
}

impl Outcome {
    /// Success for 200–399, failure-with-response otherwise.
    pub fn from_response(r: Response) -> Outcome {
        if (200..400).contains(&r.code) {
            Outcome::Success(r)
        } else {
            Outcome::Failure {
                message: r.reason().into_owned(),
                response: Some(r),
            }
        }
    }

    /// A transport failure.
    pub fn error(message: impl Into<String>) -> Outcome {
        Outcome::Failure {
            message: message.into(),
            response: None,
        }
    }
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Phase {
    Connecting,
    Exchanging,
    Done,
}

/// One HTTP request from first connect to outcome.
#[derive(Debug)]
pub struct HttpClient {
    req: HttpRequest,
    phase: Phase,
    parser: ResponseParser,
    hops: u32,
    outputs: VecDeque<ClientOutput>,
    deadline: Option<Instant>,
    outcome: Option<Outcome>,
}

/// `(host, port, tls)` of a validated URL.
pub fn endpoint(url: &Url) -> (String, u16, bool) {
    let tls = matches!(url.scheme(), "https" | "wss");
    let host = match url.host() {
        // Connect to the bare address, not the bracketed URL form.
        Some(url::Host::Ipv6(a)) => a.to_string(),
        Some(h) => h.to_string(),
        None => String::new(),
    };
    let port = url
        .port_or_known_default()
        .unwrap_or(if tls { 443 } else { 80 });
    (host, port, tls)
}

impl HttpClient {
    /// Starts the request: the first output is the connect.
    pub fn new(now: Instant, req: HttpRequest) -> Self {
        let mut c = HttpClient {
            parser: ResponseParser::new(req.method == "HEAD"),
            req,
            phase: Phase::Connecting,
            hops: 0,
            outputs: VecDeque::new(),
            deadline: None,
            outcome: None,
        };
        c.start_hop(now);
        c
    }

    /// The request of the current hop (its URL changes on redirects).
    pub fn request(&self) -> &HttpRequest {
        &self.req
    }

    /// Redirects followed so far.
    pub fn hops(&self) -> u32 {
        self.hops
    }

    fn start_hop(&mut self, now: Instant) {
        let (host, port, tls) = endpoint(&self.req.url);
        self.outputs
            .push_back(ClientOutput::Connect { host, port, tls });
        self.phase = Phase::Connecting;
        self.parser = ResponseParser::new(self.req.method == "HEAD");
        self.arm(now);
    }

    fn arm(&mut self, now: Instant) {
        self.deadline = self.req.timeout.map(|t| now + t);
    }

    fn finish(&mut self, outcome: Outcome, close: bool) {
        if close {
            self.outputs.push_back(ClientOutput::Close);
        }
        self.phase = Phase::Done;
        self.deadline = None;
        self.outcome = Some(outcome);
    }

    /// The connection is up (TLS included): the request is sent.
    pub fn handle_connected(&mut self, now: Instant) {
        if self.phase != Phase::Connecting {
            return;
        }
        self.phase = Phase::Exchanging;
        self.outputs
            .push_back(ClientOutput::Send(self.req.to_bytes()));
        self.arm(now);
    }

    /// The connection could not be made.
    pub fn handle_connect_failed(&mut self, _now: Instant, why: ConnectFailure) {
        if self.phase == Phase::Connecting {
            self.finish(Outcome::error(why.message()), false);
        }
    }

    /// Bytes arrived.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) {
        if self.phase != Phase::Exchanging {
            return;
        }
        self.arm(now);
        if let Err(e) = self.parser.feed(data) {
            self.fail(e);
            return;
        }
        self.progress(now);
    }

    /// The peer closed the connection (or it broke).
    pub fn handle_peer_closed(&mut self, now: Instant) {
        match self.phase {
            Phase::Connecting => self.finish(Outcome::error("Could not connect"), false),
            Phase::Exchanging => {
                if let Err(e) = self.parser.finish_eof() {
                    self.fail(e);
                    return;
                }
                self.progress(now);
            }
            Phase::Done => {}
        }
    }

    /// Time passed; fails with `Timed out` once the deadline is reached.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_some_and(|d| now >= d) && self.phase != Phase::Done {
            let connected = self.phase == Phase::Exchanging;
            self.finish(Outcome::error("Timed out"), connected);
        }
    }

    fn fail(&mut self, e: ResponseError) {
        let msg = match e {
            ResponseError::TooLarge => "Response is too large",
            // Netty reports a broken or garbled response as a lost connection.
            ResponseError::Malformed
            | ResponseError::Head(_)
            | ResponseError::Body(_)
            | ResponseError::Truncated => "Could not connect",
        };
        self.finish(Outcome::error(msg), true);
    }

    fn progress(&mut self, now: Instant) {
        let redirect = self
            .parser
            .status_and_headers()
            .and_then(|(code, h)| Some((code, self.redirect_target(code, h)?)));
        if let Some((code, target)) = redirect {
            self.hops += 1;
            if code == 303 {
                self.req.method = "GET".into();
                self.req.body = None;
                self.req.headers.retain(|(n, _)| {
                    !n.eq_ignore_ascii_case("content-length")
                        && !n.eq_ignore_ascii_case("content-type")
                });
            }
            self.req.url = target;
            self.outputs.push_back(ClientOutput::Close);
            self.start_hop(now);
            return;
        }
        if let Some(r) = self.parser.take() {
            self.finish(Outcome::from_response(r), true);
        }
    }

    /// Follows 301, 302, 303, 307, 308 with a `Location`, at most
    /// [`MAX_REDIRECTS`] hops, only to a valid http(s) URL different from the current one.
    fn redirect_target(&self, code: u16, head: &ResponseHead) -> Option<Url> {
        if !self.req.redirect || self.hops >= MAX_REDIRECTS {
            return None;
        }
        if !matches!(code, 301 | 302 | 303 | 307 | 308) {
            return None;
        }
        let loc = std::str::from_utf8(head.header("location")?).ok()?;
        let next = self.req.url.join(loc.trim()).ok()?;
        let next = check_url(next.as_str()).ok()?;
        (next != self.req.url).then_some(next)
    }

    /// The next thing to do on the network.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<ClientOutput> {
        self.outputs.pop_front()
    }

    /// The outcome, once finished (returned once).
    #[must_use]
    pub fn poll_outcome(&mut self) -> Option<Outcome> {
        if self.outputs.is_empty() {
            self.outcome.take()
        } else {
            None
        }
    }

    /// When [`HttpClient::handle_timeout`] must next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether the client has finished (outcome produced).
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }
}
