//! The RFC 6455 §4 opening handshake, both sides.

use base64::Engine as _;
use url::Url;

use crate::http::head::{
    has_head_end, header, header_has_token, parse_request_head, parse_response_head,
    skip_leading_newlines, Headers, RequestHead,
};
use crate::http::request::{host_header, request_target};
use crate::limits::WS_MAX_HANDSHAKE;

const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`.
pub fn accept_key(key: &[u8]) -> String {
    let mut h = sha1_smol::Sha1::new();
    h.update(key);
    h.update(GUID);
    base64::engine::general_purpose::STANDARD.encode(h.digest().bytes())
}

/// A fresh `Sec-WebSocket-Key` from 16 random bytes.
pub fn new_key(nonce: [u8; 16]) -> String {
    base64::engine::general_purpose::STANDARD.encode(nonce)
}

/// CC:Tweaked's WebSocket URL checks: no host → `ws://` is prefixed; the scheme must be
/// `ws` or `wss`.
pub fn check_ws_url(s: &str) -> Result<Url, String> {
    let parsed = match Url::parse(s) {
        Ok(u) if u.has_host() => Ok(u),
        Ok(_) | Err(url::ParseError::RelativeUrlWithoutBase) => Url::parse(&format!("ws://{s}")),
        Err(e) => Err(e),
    };
    let url = parsed.map_err(|_| "URL malformed".to_string())?;
    match url.scheme() {
        "ws" | "wss" => {}
        other => return Err(format!("Invalid scheme '{other}'")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("URL malformed".into());
    }
    Ok(url)
}

/// The client's upgrade request. User headers come first (a user `Sec-WebSocket-Protocol`
/// is the offered subprotocol); the handshake headers are always ours; no `Origin` and no
/// extensions are offered.
pub fn client_request(
    url: &Url,
    user_headers: &[(String, Vec<u8>)],
    key: &str,
    user_agent: &str,
) -> Vec<u8> {
    const OURS: [&str; 6] = [
        "host",
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
    ];
    let mut out = format!("GET {} HTTP/1.1\r\n", request_target(url)).into_bytes();
    let mut has_ua = false;
    for (n, v) in user_headers {
        if OURS.iter().any(|o| n.eq_ignore_ascii_case(o)) {
            continue;
        }
        has_ua |= n.eq_ignore_ascii_case("user-agent");
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    if !has_ua {
        out.extend_from_slice(format!("User-Agent: {user_agent}\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "Host: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n",
            host_header(url)
        )
        .as_bytes(),
    );
    out
}

/// Client side: collects the server's response and checks it.
#[derive(Debug)]
pub struct ClientHandshake {
    key: String,
    buf: Vec<u8>,
}

impl ClientHandshake {
    /// Waits for the answer to a request sent with `key`.
    pub fn new(key: String) -> Self {
        ClientHandshake {
            key,
            buf: Vec::new(),
        }
    }

    /// Feeds bytes: `Ok(None)` needs more, `Ok(Some((headers, rest)))` is an accepted upgrade
    /// with the bytes that followed it (already frames), `Err(message)` a refusal.
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<(Headers, Vec<u8>)>, String> {
        let old = self.buf.len();
        self.buf.extend_from_slice(data);
        let Ok(dropped) = skip_leading_newlines(&mut self.buf) else {
            return Err("Invalid handshake response".into());
        };
        let old = old - dropped.min(old);
        if !has_head_end(&self.buf, old) {
            if self.buf.len() > WS_MAX_HANDSHAKE {
                return Err("Handshake response is too large".into());
            }
            return Ok(None);
        }
        let (head, n) = match parse_response_head(&self.buf) {
            Ok(Some(x)) => x,
            Ok(None) if self.buf.len() <= WS_MAX_HANDSHAKE => return Ok(None),
            Ok(None) => return Err("Handshake response is too large".into()),
            Err(_) => return Err("Invalid handshake response".into()),
        };
        if n > WS_MAX_HANDSHAKE {
            return Err("Handshake response is too large".into());
        }
        // Netty's messages, which CC:Tweaked passes through.
        if head.code != 101 {
            return Err(format!(
                "Invalid handshake response getStatus: {} {}",
                head.code,
                head.reason()
            ));
        }
        let h = &head.headers();
        if !header(h, "upgrade").is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"websocket"))
        {
            let v = String::from_utf8_lossy(header(h, "upgrade").unwrap_or(b"null"));
            return Err(format!("Invalid handshake response upgrade: {v}"));
        }
        if !header_has_token(h, "connection", "upgrade") {
            let v = String::from_utf8_lossy(header(h, "connection").unwrap_or(b"null"));
            return Err(format!("Invalid handshake response connection: {v}"));
        }
        let expected = accept_key(self.key.as_bytes());
        if header(h, "sec-websocket-accept").map(<[u8]>::trim_ascii) != Some(expected.as_bytes()) {
            return Err("Invalid challenge".into());
        }
        if header(h, "sec-websocket-extensions").is_some_and(|v| !v.trim_ascii().is_empty()) {
            return Err("Invalid WebSocket Extension handshake".into());
        }
        let rest = self.buf.split_off(n);
        Ok(Some((head.headers(), rest)))
    }
}

/// Server side: collects the client's upgrade request.
#[derive(Debug, Default)]
pub struct ServerHandshake {
    buf: Vec<u8>,
}

/// The server's verdict on a complete upgrade request.
#[derive(Debug, PartialEq, Eq)]
pub enum ServerVerdict {
    /// Accepted: send `response`, then frames follow (`rest` already received).
    Accept {
        /// The request head.
        request: RequestHead,
        /// The 101 response to send.
        response: Vec<u8>,
        /// Bytes after the request.
        rest: Vec<u8>,
    },
    /// Refused: send `response` and close.
    Reject {
        /// A 4xx response.
        response: Vec<u8>,
    },
}

fn reject(code: u16, reason: &str, extra: &str) -> ServerVerdict {
    ServerVerdict::Reject {
        response: format!(
            "HTTP/1.1 {code} {reason}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .into_bytes(),
    }
}

impl ServerHandshake {
    /// Waits for a request.
    pub fn new() -> Self {
        ServerHandshake::default()
    }

    /// Feeds bytes: `None` needs more.
    pub fn feed(&mut self, data: &[u8]) -> Option<ServerVerdict> {
        let old = self.buf.len();
        self.buf.extend_from_slice(data);
        let Ok(dropped) = skip_leading_newlines(&mut self.buf) else {
            return Some(reject(400, "Bad Request", ""));
        };
        let old = old - dropped.min(old);
        if !has_head_end(&self.buf, old) {
            return (self.buf.len() > WS_MAX_HANDSHAKE)
                .then(|| reject(431, "Request Header Fields Too Large", ""));
        }
        let (head, n) = match parse_request_head(&self.buf) {
            Ok(Some(x)) if x.1 <= WS_MAX_HANDSHAKE => x,
            Ok(None) if self.buf.len() <= WS_MAX_HANDSHAKE => return None,
            Ok(_) | Err(crate::http::head::HeadError::TooLarge) => {
                return Some(reject(431, "Request Header Fields Too Large", ""))
            }
            Err(_) => return Some(reject(400, "Bad Request", "")),
        };
        let h = &head.headers();
        if head.method() != "GET" || head.version != 1 {
            return Some(reject(400, "Bad Request", ""));
        }
        if !header_has_token(h, "upgrade", "websocket")
            || !header_has_token(h, "connection", "upgrade")
        {
            return Some(reject(426, "Upgrade Required", "Upgrade: websocket\r\n"));
        }
        if header(h, "sec-websocket-version").map(<[u8]>::trim_ascii) != Some(b"13") {
            return Some(reject(
                426,
                "Upgrade Required",
                "Sec-WebSocket-Version: 13\r\n",
            ));
        }
        let key = header(h, "sec-websocket-key")
            .map(<[u8]>::trim_ascii)
            .unwrap_or(b"");
        let decoded = base64::engine::general_purpose::STANDARD.decode(key);
        if decoded.map(|k| k.len()) != Ok(16) {
            return Some(reject(400, "Bad Request", ""));
        }
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n\r\n",
            accept_key(key)
        )
        .into_bytes();
        let rest = self.buf.split_off(n);
        Some(ServerVerdict::Accept {
            request: head,
            response,
            rest,
        })
    }
}
