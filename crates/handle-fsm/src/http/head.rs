//! Message heads, parsed with `httparse`, and header-map helpers.

use modem_value::{LuaStr, Table, Value};

use crate::limits::{MAX_HEAD, MAX_HEADERS};

/// Header list in wire order: names as sent, values as raw bytes.
pub type Headers = Vec<(String, Vec<u8>)>;

/// Why a head could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// Not HTTP/1.x syntax.
    #[error("malformed head")]
    Malformed,
    /// More than [`MAX_HEAD`] bytes or [`MAX_HEADERS`] lines.
    #[error("head too large")]
    TooLarge,
}

/// A parsed response head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// Minor version (`HTTP/1.x`).
    pub version: u8,
    /// Status code.
    pub code: u16,
    /// Reason phrase as sent (lossy UTF-8).
    pub reason: String,
    /// Headers.
    pub headers: Headers,
}

/// A parsed request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    /// Minor version (`HTTP/1.x`).
    pub version: u8,
    /// Method as sent.
    pub method: String,
    /// Request target as sent.
    pub target: String,
    /// Headers.
    pub headers: Headers,
}

/// Whether `buf` (whose first `old` bytes were already searched) now holds an end of head.
/// Searching only the new bytes keeps byte-at-a-time feeding linear.
pub fn has_head_end(buf: &[u8], old: usize) -> bool {
    let from = old.saturating_sub(3);
    let tail = buf.get(from..).unwrap_or(&[]);
    tail.windows(2).any(|w| w == b"\n\n") || tail.windows(3).any(|w| w == b"\n\r\n")
}

/// Drops CR/LF bytes before a message's first line (RFC 9112 §2.2 lets a recipient ignore
/// empty lines there), so that [`has_head_end`] only ever finds real header terminators and
/// feeding a head in pieces finds the same end as feeding it whole. Returns how many were
/// dropped.
pub fn skip_leading_newlines(buf: &mut Vec<u8>) -> usize {
    let n = buf
        .iter()
        .take_while(|&&c| c == b'\r' || c == b'\n')
        .count();
    if n > 0 {
        buf.drain(..n);
    }
    n
}

fn collect(headers: &[httparse::Header<'_>]) -> Headers {
    headers
        .iter()
        .map(|h| (h.name.to_string(), h.value.to_vec()))
        .collect()
}

fn map_err(e: httparse::Error) -> HeadError {
    match e {
        httparse::Error::TooManyHeaders => HeadError::TooLarge,
        _ => HeadError::Malformed,
    }
}

/// The length of a complete head, `None` while it is incomplete; a head (complete or not)
/// beyond [`MAX_HEAD`] is [`HeadError::TooLarge`].
fn head_length(
    status: httparse::Status<usize>,
    buffered: usize,
) -> Result<Option<usize>, HeadError> {
    match status {
        httparse::Status::Partial if buffered > MAX_HEAD => Err(HeadError::TooLarge),
        httparse::Status::Partial => Ok(None),
        httparse::Status::Complete(n) if n > MAX_HEAD => Err(HeadError::TooLarge),
        httparse::Status::Complete(n) => Ok(Some(n)),
    }
}

/// Parses a response head at the start of `buf`: `Ok(None)` if incomplete, else the head and
/// its length in bytes.
pub fn parse_response_head(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, HeadError> {
    // Most heads are small: try a small header array first (cheaper to set up).
    match parse_response_head_n::<24>(buf) {
        Err(HeadError::TooLarge) if buf.len() <= MAX_HEAD => {
            parse_response_head_n::<MAX_HEADERS>(buf)
        }
        r => r,
    }
}

fn parse_response_head_n<const N: usize>(
    buf: &[u8],
) -> Result<Option<(ResponseHead, usize)>, HeadError> {
    let mut hs = [httparse::EMPTY_HEADER; N];
    let mut r = httparse::Response::new(&mut hs);
    let status = r.parse(buf).map_err(map_err)?;
    match head_length(status, buf.len())? {
        None => Ok(None),
        Some(n) => Ok(Some((
            ResponseHead {
                version: r.version.unwrap_or(1),
                code: r.code.unwrap_or(0),
                reason: r.reason.unwrap_or("").to_string(),
                headers: collect(r.headers),
            },
            n,
        ))),
    }
}

/// Parses a request head at the start of `buf`, as [`parse_response_head`].
pub fn parse_request_head(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
    match parse_request_head_n::<24>(buf) {
        Err(HeadError::TooLarge) if buf.len() <= MAX_HEAD => {
            parse_request_head_n::<MAX_HEADERS>(buf)
        }
        r => r,
    }
}

fn parse_request_head_n<const N: usize>(
    buf: &[u8],
) -> Result<Option<(RequestHead, usize)>, HeadError> {
    let mut hs = [httparse::EMPTY_HEADER; N];
    let mut r = httparse::Request::new(&mut hs);
    let status = r.parse(buf).map_err(map_err)?;
    match head_length(status, buf.len())? {
        None => Ok(None),
        Some(n) => Ok(Some((
            RequestHead {
                version: r.version.unwrap_or(1),
                method: r.method.unwrap_or("").to_string(),
                target: r.path.unwrap_or("").to_string(),
                headers: collect(r.headers),
            },
            n,
        ))),
    }
}

/// The first value of a header (case-insensitive name).
pub fn header<'a>(h: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    h.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// Every value of a header, in order.
pub fn header_all<'a>(
    h: &'a [(String, Vec<u8>)],
    name: &'a str,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    h.iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// Whether a comma-separated header (any occurrence) lists `token` (case-insensitive).
pub fn header_has_token(h: &[(String, Vec<u8>)], name: &str, token: &str) -> bool {
    header_all(h, name).any(|v| {
        v.split(|&c| c == b',')
            .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

/// Merges repeated names (case-insensitive; the first spelling wins) by joining values with
/// `,`, in first-seen order.
pub fn merge_headers(h: &[(String, Vec<u8>)]) -> Headers {
    let mut out: Headers = Vec::new();
    for (n, v) in h {
        match out.iter_mut().find(|(m, _)| m.eq_ignore_ascii_case(n)) {
            Some((_, acc)) => {
                acc.push(b',');
                acc.extend_from_slice(v);
            }
            None => out.push((n.clone(), v.clone())),
        }
    }
    out
}

/// A header list as a Lua table `{[name] = value}`.
pub fn headers_table(h: &[(String, Vec<u8>)]) -> Value {
    let mut t = Table::new();
    for (n, v) in h {
        // Names come from a parsed head and are never nil or NaN, so insert cannot fail.
        let _ = t.insert(
            Value::Str(LuaStr::from(n.as_str())),
            Value::Str(LuaStr::from(v.as_slice())),
        );
    }
    Value::Table(t)
}

/// The standard reason phrase for a status code (empty for unknown codes).
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Payload Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}
