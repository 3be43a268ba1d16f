//! An open WebSocket connection (after the handshake), either role: framing, masking,
//! fragmentation, ping/pong, the close handshake, UTF-8 validation and the message limit.
//!
//! Call order after every input: drain [`WsSession::poll_output`], then
//! [`WsSession::poll_event`], then re-arm [`WsSession::poll_timeout`].

use std::collections::VecDeque;

use modem_value::{Instant, RandomSource};

use super::frame::{apply_mask, encode_frame, parse_header, unmask_into, FrameHeader, Opcode};
use crate::limits::{WS_CLOSE_TIMEOUT, WS_MAX_MESSAGE};
use crate::net::NetOutput;

/// Which end of the connection this is (clients mask, servers must not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Sends masked frames, expects unmasked ones.
    Client,
    /// Sends unmasked frames, expects masked ones.
    Server,
}

/// RFC 6455 close codes this crate sends.
pub mod close_code {
    /// Normal closure.
    pub const NORMAL: u16 = 1000;
    /// Protocol error.
    pub const PROTOCOL: u16 = 1002;
    /// Invalid payload (bad UTF-8).
    pub const INVALID_PAYLOAD: u16 = 1007;
    /// Policy violation (here: the program does not read).
    pub const POLICY: u16 = 1008;
    /// Message too big.
    pub const TOO_BIG: u16 = 1009;
}

/// Whether a received close code is allowed on the wire (RFC 6455 §7.4).
pub fn valid_close_code(c: u16) -> bool {
    matches!(c, 1000..=1003 | 1007..=1011 | 3000..=4999)
}

/// What happened on the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WsEvent {
    /// A complete message.
    Message {
        /// Payload (text messages are valid UTF-8).
        data: Vec<u8>,
        /// Binary (opcode 2) rather than text.
        binary: bool,
    },
    /// The connection is over (not raised for a close the program started).
    Closed {
        /// The peer's close code, or the code we failed the connection with.
        code: Option<u16>,
        /// The peer's reason (nil when empty), or our error text.
        reason: Option<String>,
    },
}

/// Why a message cannot be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Larger than [`WS_MAX_MESSAGE`].
    #[error("Message is too large")]
    TooLarge,
    /// The connection is closing or closed.
    #[error("Connection closed")]
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Open,
    /// We sent Close and wait for the peer's.
    CloseSent,
    /// Close frames exchanged; waiting for the TCP close (client) before closing ourselves.
    Closing,
    /// TCP closed (or asked to be).
    Closed,
}

#[derive(Debug)]
struct Partial {
    binary: bool,
    data: Vec<u8>,
    utf8_ok: usize,
}

/// One WebSocket connection after its handshake.
#[derive(Debug)]
pub struct WsSession<R> {
    role: Role,
    rng: R,
    state: State,
    inbuf: Vec<u8>,
    partial: Option<Partial>,
    outputs: VecDeque<NetOutput>,
    events: VecDeque<WsEvent>,
    deadline: Option<Instant>,
    max_message: usize,
}

impl<R: RandomSource> WsSession<R> {
    /// An open session; `rng` supplies client mask keys.
    pub fn new(role: Role, rng: R) -> Self {
        WsSession {
            role,
            rng,
            state: State::Open,
            inbuf: Vec::new(),
            partial: None,
            outputs: VecDeque::new(),
            events: VecDeque::new(),
            deadline: None,
            max_message: WS_MAX_MESSAGE,
        }
    }

    /// Lowers the incoming message limit below [`WS_MAX_MESSAGE`] (e.g. for a program that
    /// has little room left to buffer); larger values are clamped.
    pub fn set_max_message(&mut self, n: usize) {
        self.max_message = n.min(WS_MAX_MESSAGE);
    }

    /// Whether messages can still be sent.
    pub fn is_open(&self) -> bool {
        self.state == State::Open
    }

    /// Whether the TCP connection has been closed (or its close requested).
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    fn push_frame(&mut self, opcode: Opcode, payload: &[u8]) {
        let mask = match self.role {
            Role::Client => {
                let mut k = [0u8; 4];
                self.rng.fill_bytes(&mut k);
                Some(k)
            }
            Role::Server => None,
        };
        let mut out = Vec::with_capacity(payload.len() + 14);
        encode_frame(&mut out, true, opcode, payload, mask);
        self.outputs.push_back(NetOutput::Send(out));
    }

    fn close_tcp(&mut self) {
        if self.state != State::Closed {
            self.state = State::Closed;
            self.deadline = None;
            self.outputs.push_back(NetOutput::Close);
        }
    }

    /// Sends one message as a single frame.
    pub fn send(&mut self, data: &[u8], binary: bool) -> Result<(), SendError> {
        if self.state != State::Open {
            return Err(SendError::Closed);
        }
        if data.len() > WS_MAX_MESSAGE {
            return Err(SendError::TooLarge);
        }
        self.push_frame(if binary { Opcode::Binary } else { Opcode::Text }, data);
        Ok(())
    }

    /// Sends a ping.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        if self.state != State::Open {
            return Err(SendError::Closed);
        }
        if payload.len() > 125 {
            return Err(SendError::TooLarge);
        }
        self.push_frame(Opcode::Ping, payload);
        Ok(())
    }

    /// Starts the close handshake (no event is raised for it); the TCP connection is closed
    /// when the peer answers, or after [`WS_CLOSE_TIMEOUT`].
    pub fn close(&mut self, now: Instant, code: u16, reason: &str) {
        if self.state != State::Open {
            return;
        }
        let mut p = code.to_be_bytes().to_vec();
        p.extend_from_slice(&reason.as_bytes()[..reason.len().min(123)]);
        self.push_frame(Opcode::Close, &p);
        self.state = State::CloseSent;
        self.deadline = Some(now + WS_CLOSE_TIMEOUT);
    }

    /// Fails the connection: Close frame with `code`, TCP closed, `Closed` event with our
    /// `reason`.
    pub fn fail(&mut self, code: u16, reason: &str) {
        if self.state == State::Closed {
            return;
        }
        if self.state == State::Open {
            let mut p = code.to_be_bytes().to_vec();
            p.extend_from_slice(reason.as_bytes().get(..123).unwrap_or(reason.as_bytes()));
            self.push_frame(Opcode::Close, &p);
        }
        self.partial = None;
        self.inbuf = Vec::new();
        self.events.push_back(WsEvent::Closed {
            code: Some(code),
            reason: Some(reason.to_string()),
        });
        self.close_tcp();
    }

    /// Bytes arrived.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8]) {
        if matches!(self.state, State::Closed | State::Closing) {
            return;
        }
        if self.inbuf.is_empty() {
            let used = self.process(now, data);
            if self.state != State::Closed {
                self.inbuf
                    .extend_from_slice(data.get(used..).unwrap_or(&[]));
            }
        } else {
            self.inbuf.extend_from_slice(data);
            let buf = std::mem::take(&mut self.inbuf);
            let used = self.process(now, &buf);
            if self.state != State::Closed {
                let mut buf = buf;
                buf.drain(..used.min(buf.len()));
                self.inbuf = buf;
            }
        }
    }

    /// Parses and handles every complete frame at the start of `buf`; returns bytes used.
    fn process(&mut self, now: Instant, buf: &[u8]) -> usize {
        let mut at = 0;
        while self.state != State::Closed && self.state != State::Closing {
            let rest = buf.get(at..).unwrap_or(&[]);
            let (h, hl) = match parse_header(rest) {
                Ok(Some(x)) => x,
                Ok(None) => break,
                Err(e) => {
                    self.fail(close_code::PROTOCOL, &e.to_string());
                    break;
                }
            };
            if let Err((code, why)) = self.check_header(&h) {
                self.fail(code, why);
                break;
            }
            // check_header bounded len by the message limit, so this fits in usize.
            let len = h.len as usize;
            let Some(payload) = rest.get(hl..hl + len) else {
                break;
            };
            at += hl + len;
            self.frame(now, &h, payload);
        }
        at
    }

    fn check_header(&self, h: &FrameHeader) -> Result<(), (u16, &'static str)> {
        if h.rsv != 0 {
            return Err((close_code::PROTOCOL, "reserved bits set"));
        }
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => return Err((close_code::PROTOCOL, "unmasked client frame")),
            (Role::Client, true) => return Err((close_code::PROTOCOL, "masked server frame")),
            _ => {}
        }
        if h.opcode.is_control() {
            if !h.fin || h.len > 125 {
                return Err((close_code::PROTOCOL, "bad control frame"));
            }
            return Ok(());
        }
        match (h.opcode, &self.partial) {
            (Opcode::Continuation, None) => {
                return Err((close_code::PROTOCOL, "unexpected continuation"))
            }
            (Opcode::Text | Opcode::Binary, Some(_)) => {
                return Err((close_code::PROTOCOL, "expected continuation"))
            }
            _ => {}
        }
        let have = self.partial.as_ref().map_or(0, |p| p.data.len()) as u64;
        if have.saturating_add(h.len) > self.max_message as u64 {
            return Err((close_code::TOO_BIG, "Message is too large"));
        }
        Ok(())
    }

    fn frame(&mut self, now: Instant, h: &FrameHeader, payload: &[u8]) {
        if h.opcode.is_control() {
            let mut p = payload.to_vec();
            if let Some(k) = h.mask {
                apply_mask(&mut p, k, 0);
            }
            return self.control(now, h.opcode, &p);
        }
        if self.state != State::Open {
            // After our Close, data is discarded (RFC 6455 §5.5.1).
            return;
        }
        let partial = self.partial.get_or_insert_with(|| Partial {
            binary: h.opcode == Opcode::Binary,
            data: Vec::new(),
            utf8_ok: 0,
        });
        match h.mask {
            Some(k) => unmask_into(&mut partial.data, payload, k, 0),
            None => partial.data.extend_from_slice(payload),
        }
        if !partial.binary {
            // Validate as fragments arrive, so bad text fails fast.
            match std::str::from_utf8(&partial.data[partial.utf8_ok..]) {
                Ok(_) => partial.utf8_ok = partial.data.len(),
                Err(e) if e.error_len().is_none() && !h.fin => partial.utf8_ok += e.valid_up_to(),
                Err(_) => {
                    return self.fail(close_code::INVALID_PAYLOAD, "Invalid UTF-8 in text message")
                }
            }
        }
        if h.fin {
            if let Some(p) = self.partial.take() {
                self.events.push_back(WsEvent::Message {
                    data: p.data,
                    binary: p.binary,
                });
            }
        }
    }

    fn control(&mut self, now: Instant, op: Opcode, p: &[u8]) {
        match op {
            Opcode::Ping => {
                if self.state == State::Open {
                    self.push_frame(Opcode::Pong, p);
                }
            }
            Opcode::Pong => {}
            _ => self.peer_close(now, p),
        }
    }

    fn peer_close(&mut self, now: Instant, p: &[u8]) {
        let (code, reason) = match p.len() {
            0 => (None, None),
            1 => return self.fail(close_code::PROTOCOL, "bad close frame"),
            _ => {
                let code = u16::from_be_bytes([p[0], p[1]]);
                if !valid_close_code(code) {
                    return self.fail(close_code::PROTOCOL, "invalid close code");
                }
                let Ok(reason) = std::str::from_utf8(&p[2..]) else {
                    return self.fail(close_code::INVALID_PAYLOAD, "Invalid UTF-8 in close reason");
                };
                (Some(code), (!reason.is_empty()).then(|| reason.to_string()))
            }
        };
        let was_open = self.state == State::Open;
        if was_open {
            // Echo the code (RFC 6455 §5.5.1), then report the close.
            let echo = code.map(|c| c.to_be_bytes().to_vec()).unwrap_or_default();
            self.push_frame(Opcode::Close, &echo);
            self.events.push_back(WsEvent::Closed { code, reason });
        }
        self.partial = None;
        match self.role {
            // The server closes the TCP connection first (RFC 6455 §7.1.1).
            Role::Server => self.close_tcp(),
            Role::Client if was_open => {
                self.state = State::Closing;
                self.deadline = Some(now + WS_CLOSE_TIMEOUT);
            }
            Role::Client => self.close_tcp(),
        }
    }

    /// The peer closed TCP (or it broke).
    pub fn handle_peer_closed(&mut self, _now: Instant) {
        if self.state == State::Open {
            self.events.push_back(WsEvent::Closed {
                code: None,
                reason: Some("Connection closed".into()),
            });
        }
        if self.state != State::Closed {
            self.state = State::Closed;
            self.deadline = None;
        }
    }

    /// Time passed: a close handshake that took too long ends with our TCP close.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_some_and(|d| now >= d) {
            self.close_tcp();
        }
    }

    /// Next network action.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<NetOutput> {
        self.outputs.pop_front()
    }

    /// Next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<WsEvent> {
        self.events.pop_front()
    }

    /// When [`WsSession::handle_timeout`] must next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }
}
