//! Message heads (RFC 9112 §2–§6), strict: `httparse` checks the syntax, then the rules that
//! keep a message's framing unambiguous are applied on top.
//!
//! A parsed head keeps its bytes and only the facts framing needs (lengths, codings,
//! connection options); header fields are read back from those bytes when asked for, so
//! parsing a head costs one copy and no per-field allocation.
//!
//! Rules applied beyond `httparse` (each one refuses the head with a [`HeadError`]):
//! * every line ends in CRLF; a bare LF anywhere in the head, including before the first line,
//!   is refused (§2.2: a lone CR is already refused by `httparse`);
//! * the request-target is ASCII and in origin-form (`/…`), absolute-form (`scheme:…`),
//!   authority-form (`CONNECT` only) or asterisk-form (`OPTIONS` only) (§3.2);
//! * an HTTP/1.1 request has exactly one `Host`, an HTTP/1.0 one at most one, and its value is
//!   a `uri-host [":" port]` or empty (§3.2);
//! * `Content-Length` appears once, as `1*DIGIT` within `u64` (§6.3: no lists, no repeats);
//! * `Transfer-Encoding` is a non-empty list of transfer-codings, `chunked` at most once and
//!   only last; it never comes with `Content-Length` nor in an HTTP/1.0 message (§6.1);
//! * a status code is 100–999 (§4).

use core::mem::MaybeUninit;

use modem_value::{LuaStr, Table, Value};

use crate::limits::{MAX_HEAD, MAX_HEADERS};

/// Header list in wire order: names as sent, values as raw bytes.
pub type Headers = Vec<(String, Vec<u8>)>;

/// Why a head was refused. Every variant but [`HeadError::TooLarge`] is a 400 on the server
/// ([`HeadError::UnsupportedTransferCoding`] a 501).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// Not HTTP/1.x syntax (as `httparse` sees it).
    #[error("malformed head")]
    Malformed,
    /// More than [`MAX_HEAD`] bytes or [`MAX_HEADERS`] lines.
    #[error("head too large")]
    TooLarge,
    /// A line ended in a bare LF (RFC 9112 §2.2).
    #[error("line not ended by CRLF")]
    BareNewline,
    /// An HTTP/1.1 request without `Host` (RFC 9112 §3.2).
    #[error("missing Host")]
    MissingHost,
    /// More than one `Host` line (RFC 9112 §3.2).
    #[error("more than one Host")]
    DuplicateHost,
    /// A `Host` that is not `uri-host [":" port]` (RFC 9112 §3.2).
    #[error("invalid Host")]
    InvalidHost,
    /// A request-target in no form the method allows, or not ASCII (RFC 9112 §3.2).
    #[error("invalid request-target")]
    InvalidTarget,
    /// An empty, repeated, listed or non-numeric `Content-Length` (RFC 9112 §6.3).
    #[error("invalid Content-Length")]
    InvalidContentLength,
    /// Both `Transfer-Encoding` and `Content-Length` (RFC 9112 §6.1).
    #[error("Transfer-Encoding with Content-Length")]
    TransferEncodingWithLength,
    /// An empty or malformed `Transfer-Encoding`, `chunked` twice or not last, or one in an
    /// HTTP/1.0 message (RFC 9112 §6.1), or, in a request, a final coding other than `chunked`
    /// (§6.3).
    #[error("invalid Transfer-Encoding")]
    InvalidTransferEncoding,
    /// A transfer coding this implementation does not decode (RFC 9112 §6.1: 501 for a
    /// request).
    #[error("unsupported transfer coding")]
    UnsupportedTransferCoding,
    /// A status code below 100 (RFC 9112 §4).
    #[error("invalid status code")]
    InvalidStatus,
}

/// What `Transfer-Encoding` says about framing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Transfer {
    /// No `Transfer-Encoding`.
    #[default]
    Absent,
    /// Exactly `chunked`.
    Chunked,
    /// Other codings, then `chunked` (the body is chunked, but its content is still coded).
    CodedChunked,
    /// The final coding is not `chunked` (a response then runs until close, RFC 9112 §6.3).
    NotChunked,
}

/// The facts about a head that framing and connection management need, gathered while it is
/// parsed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// The `Content-Length`, if present.
    pub content_length: Option<u64>,
    /// The `Transfer-Encoding`.
    pub transfer: Transfer,
    /// `Connection: close`.
    pub close: bool,
    /// `Connection: keep-alive`.
    pub keep_alive: bool,
    /// `Connection: upgrade`.
    pub connection_upgrade: bool,
    /// An `Upgrade` field is present.
    pub upgrade: bool,
    /// `Expect: 100-continue`.
    pub expect_continue: bool,
    /// A `Content-Encoding` field is present.
    pub content_encoding: bool,
    hosts: u8,
}

/// A parsed response head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    raw: Vec<u8>,
    reason: core::ops::Range<usize>,
    /// Minor version (`HTTP/1.x`).
    pub version: u8,
    /// Status code.
    pub code: u16,
    /// Framing facts.
    pub facts: Facts,
}

/// A parsed request head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    raw: Vec<u8>,
    method: core::ops::Range<usize>,
    target: core::ops::Range<usize>,
    /// Minor version (`HTTP/1.x`).
    pub version: u8,
    /// Framing facts.
    pub facts: Facts,
}

/// The header fields of a head, read from its bytes in wire order.
#[derive(Clone, Debug)]
pub struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    /// The fields after the start line of a complete, validated head.
    fn after_start_line(raw: &'a [u8]) -> Self {
        let start = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(raw.len(), |p| p + 2);
        Fields {
            rest: raw.get(start..).unwrap_or(&[]),
        }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a str, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let end = self.rest.windows(2).position(|w| w == b"\r\n")?;
        let line = &self.rest[..end];
        self.rest = &self.rest[end + 2..];
        if line.is_empty() {
            self.rest = &[];
            return None;
        }
        let colon = line.iter().position(|&c| c == b':').unwrap_or(line.len());
        // A validated name is a token, hence ASCII.
        let name = std::str::from_utf8(&line[..colon]).unwrap_or("");
        let value = trim_ows(line.get(colon + 1..).unwrap_or(&[]));
        Some((name, value))
    }
}

fn trim_ows(v: &[u8]) -> &[u8] {
    let ows = |c: &u8| *c == b' ' || *c == b'\t';
    let start = v.iter().position(|c| !ows(c)).unwrap_or(v.len());
    let end = v.iter().rposition(|c| !ows(c)).map_or(start, |e| e + 1);
    &v[start..end]
}

macro_rules! field_accessors {
    () => {
        /// The header fields in wire order (names as sent, values without surrounding
        /// whitespace).
        pub fn fields(&self) -> Fields<'_> {
            Fields::after_start_line(&self.raw)
        }

        /// The header fields as an owned list.
        pub fn headers(&self) -> Headers {
            self.fields()
                .map(|(n, v)| (n.to_string(), v.to_vec()))
                .collect()
        }

        /// The first value of a header (case-insensitive name).
        pub fn header(&self, name: &str) -> Option<&[u8]> {
            self.fields()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        }

        /// Whether a comma-separated header (any occurrence) lists `token`
        /// (case-insensitive).
        pub fn has_token(&self, name: &str, token: &str) -> bool {
            self.fields()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .any(|(_, v)| list_has(v, token))
        }

        /// The head's bytes, start line through the empty line.
        pub fn as_bytes(&self) -> &[u8] {
            &self.raw
        }
    };
}

impl ResponseHead {
    field_accessors!();

    /// A head built from parts (for responses a host's own client produced); the facts are
    /// left empty, as nothing is framed by them.
    pub(crate) fn synthesize(code: u16, reason: &str, headers: &[(String, Vec<u8>)]) -> Self {
        let mut raw = format!("HTTP/1.1 {code:03} ").into_bytes();
        let start = raw.len();
        raw.extend(reason.bytes().filter(|&c| c != b'\r' && c != b'\n'));
        let end = raw.len();
        raw.extend_from_slice(b"\r\n");
        for (n, v) in headers {
            raw.extend_from_slice(n.as_bytes());
            raw.extend_from_slice(b": ");
            raw.extend(v.iter().copied().filter(|&c| c != b'\r' && c != b'\n'));
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"\r\n");
        ResponseHead {
            raw,
            reason: start..end,
            version: 1,
            code,
            facts: Facts::default(),
        }
    }

    /// The reason phrase as sent (lossy UTF-8).
    pub fn reason(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.raw.get(self.reason.clone()).unwrap_or(&[]))
    }
}

impl RequestHead {
    field_accessors!();

    /// The method as sent.
    pub fn method(&self) -> &str {
        self.raw
            .get(self.method.clone())
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    /// The request-target as sent.
    pub fn target(&self) -> &str {
        self.raw
            .get(self.target.clone())
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    /// Whether the connection persists after this request (RFC 9112 §9.3).
    pub fn keep_alive(&self) -> bool {
        if self.version == 0 {
            self.facts.keep_alive && !self.facts.close
        } else {
            !self.facts.close
        }
    }
}

fn list_has(v: &[u8], token: &str) -> bool {
    v.split(|&c| c == b',')
        .any(|t| trim_ows(t).eq_ignore_ascii_case(token.as_bytes()))
}

/// Whether `buf` (whose first `old` bytes were already searched) now holds an end of head.
/// Searching only the new bytes keeps byte-at-a-time feeding linear. A bare-LF end is found
/// too, so that such a head is parsed (and refused) rather than waited on.
pub fn has_head_end(buf: &[u8], old: usize) -> bool {
    let from = old.saturating_sub(3);
    let tail = buf.get(from..).unwrap_or(&[]);
    tail.windows(2).any(|w| w == b"\n\n") || tail.windows(3).any(|w| w == b"\n\r\n")
}

/// Drops empty lines (CRLF) before a message's first line (RFC 9112 §2.2 lets a recipient
/// ignore them), so that [`has_head_end`] only ever finds real header terminators and feeding
/// a head in pieces finds the same end as feeding it whole. A bare CR or LF there is
/// [`HeadError::BareNewline`]. Returns how many bytes were dropped.
pub fn skip_leading_newlines(buf: &mut Vec<u8>) -> Result<usize, HeadError> {
    let n = blank_prefix(buf)?;
    if n > 0 {
        buf.drain(..n);
    }
    Ok(n)
}

/// The length of the run of CRLF pairs at the start of `buf`, or
/// [`HeadError::BareNewline`] if a bare CR or LF follows it.
pub fn blank_prefix(buf: &[u8]) -> Result<usize, HeadError> {
    let n = leading_crlfs(buf);
    match buf.get(n) {
        Some(b'\n') => Err(HeadError::BareNewline),
        Some(b'\r') if buf.len() > n + 1 => Err(HeadError::BareNewline),
        _ => Ok(n),
    }
}

/// The length of the run of CRLF pairs at the start of `buf`.
pub fn leading_crlfs(buf: &[u8]) -> usize {
    buf.chunks_exact(2).take_while(|p| *p == b"\r\n").count() * 2
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

/// Every line of a head `httparse` accepted ends in CRLF. `httparse` treats every LF as a line
/// end and refuses a CR not followed by LF, so only the line ends need looking at: the empty
/// lines before the start line, the two bytes before each field name (the end of the line
/// before it) and the last four bytes (the last line's end and the empty line). That is a
/// handful of comparisons instead of a pass over the head, which runs for every head received.
fn crlf_only(head: &[u8], names: &[httparse::Header<'_>]) -> bool {
    if blank_prefix(head).is_err() || !head.ends_with(b"\r\n\r\n") {
        return false;
    }
    names.iter().all(|h| {
        let at = offset(head, h.name).start;
        at >= 2 && head.get(at - 2..at) == Some(b"\r\n")
    })
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// What the `Transfer-Encoding` lines said so far.
#[derive(Default)]
struct Codings {
    lines: bool,
    any: bool,
    chunked: u32,
    other_before_chunked: bool,
    last_chunked: bool,
}

impl Codings {
    /// One `Transfer-Encoding` line: `transfer-coding *( OWS ";" OWS transfer-parameter )`
    /// items.
    fn add(&mut self, v: &[u8]) -> Result<(), HeadError> {
        self.lines = true;
        for item in v.split(|&c| c == b',') {
            let item = trim_ows(item);
            if item.is_empty() {
                // RFC 9110 §5.6.1.2: empty list elements are ignored.
                continue;
            }
            let name_end = item
                .iter()
                .position(|&c| !is_tchar(c))
                .unwrap_or(item.len());
            let (name, params) = item.split_at(name_end);
            if name.is_empty() || !params_ok(params) {
                return Err(HeadError::InvalidTransferEncoding);
            }
            self.any = true;
            if name.eq_ignore_ascii_case(b"chunked") {
                // chunked takes no parameters and is applied at most once (RFC 9112 §7).
                self.chunked += 1;
                if self.chunked > 1 || !params.is_empty() {
                    return Err(HeadError::InvalidTransferEncoding);
                }
                self.last_chunked = true;
            } else {
                if self.chunked == 0 {
                    self.other_before_chunked = true;
                }
                self.last_chunked = false;
            }
        }
        Ok(())
    }

    fn transfer(&self) -> Transfer {
        match (self.any, self.last_chunked, self.other_before_chunked) {
            (false, _, _) => Transfer::Absent,
            (true, true, false) => Transfer::Chunked,
            (true, true, true) => Transfer::CodedChunked,
            (true, false, _) => Transfer::NotChunked,
        }
    }
}

/// `*( OWS ";" OWS token "=" ( token / quoted-string ) )`.
fn params_ok(mut p: &[u8]) -> bool {
    loop {
        p = trim_ows(p);
        if p.is_empty() {
            return true;
        }
        let Some(rest) = p.strip_prefix(b";") else {
            return false;
        };
        let rest = trim_ows(rest);
        let n = rest.iter().take_while(|&&c| is_tchar(c)).count();
        if n == 0 || rest.get(n) != Some(&b'=') {
            return false;
        }
        match value_len(&rest[n + 1..]) {
            Some(m) => p = &rest[n + 1 + m..],
            None => return false,
        }
    }
}

/// The length of a `token / quoted-string` at the start of `v`.
pub(crate) fn value_len(v: &[u8]) -> Option<usize> {
    if v.first() == Some(&b'"') {
        let mut i = 1;
        while let Some(&c) = v.get(i) {
            match c {
                b'"' => return Some(i + 1),
                b'\\' => {
                    let q = *v.get(i + 1)?;
                    if !(q == b'\t' || q == b' ' || (0x21..=0x7e).contains(&q) || q >= 0x80) {
                        return None;
                    }
                    i += 2;
                }
                b'\t' | b' ' | 0x21 | 0x23..=0x5b | 0x5d..=0x7e | 0x80..=0xff => i += 1,
                _ => return None,
            }
        }
        None
    } else {
        let n = v.iter().take_while(|&&c| is_tchar(c)).count();
        (n > 0).then_some(n)
    }
}

/// `uri-host [":" port]`, or empty (RFC 9112 §3.2, RFC 3986 §3.2.2).
fn host_ok(v: &[u8]) -> bool {
    let port = if v.first() == Some(&b'[') {
        let Some(close) = v.iter().position(|&c| c == b']') else {
            return false;
        };
        let inner = &v[1..close];
        if inner.is_empty()
            || !inner
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || b":.-_~!$&'()*+,;=".contains(&c))
        {
            return false;
        }
        &v[close + 1..]
    } else {
        let end = v.iter().position(|&c| c == b':').unwrap_or(v.len());
        let host = &v[..end];
        let ok = host
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&c));
        if !ok {
            return false;
        }
        &v[end..]
    };
    match port.split_first() {
        None => true,
        Some((b':', digits)) => digits.iter().all(u8::is_ascii_digit),
        Some(_) => false,
    }
}

/// Gathers [`Facts`] from the fields, applying the per-field rules.
#[inline]
fn gather(headers: &[httparse::Header<'_>], version: u8) -> Result<Facts, HeadError> {
    let mut f = Facts::default();
    let mut te = Codings::default();
    let mut cl_lines = 0u32;
    for h in headers {
        let n = h.name.as_bytes();
        let v = h.value;
        // Dispatch on length first: most fields are none of these.
        match n.len() {
            4 if n.eq_ignore_ascii_case(b"host") => {
                f.hosts = f.hosts.saturating_add(1);
                if !host_ok(v) {
                    return Err(HeadError::InvalidHost);
                }
            }
            6 if n.eq_ignore_ascii_case(b"expect") => {
                f.expect_continue |= v.eq_ignore_ascii_case(b"100-continue");
            }
            7 if n.eq_ignore_ascii_case(b"upgrade") => f.upgrade = true,
            10 if n.eq_ignore_ascii_case(b"connection") => {
                for t in v.split(|&c| c == b',') {
                    let t = trim_ows(t);
                    f.close |= t.eq_ignore_ascii_case(b"close");
                    f.keep_alive |= t.eq_ignore_ascii_case(b"keep-alive");
                    f.connection_upgrade |= t.eq_ignore_ascii_case(b"upgrade");
                }
            }
            14 if n.eq_ignore_ascii_case(b"content-length") => {
                cl_lines += 1;
                if cl_lines > 1 || v.is_empty() || v.len() > 20 {
                    return Err(HeadError::InvalidContentLength);
                }
                let mut len: u64 = 0;
                for &c in v {
                    if !c.is_ascii_digit() {
                        return Err(HeadError::InvalidContentLength);
                    }
                    len = len
                        .checked_mul(10)
                        .and_then(|l| l.checked_add(u64::from(c - b'0')))
                        .ok_or(HeadError::InvalidContentLength)?;
                }
                f.content_length = Some(len);
            }
            16 if n.eq_ignore_ascii_case(b"content-encoding") => f.content_encoding = true,
            17 if n.eq_ignore_ascii_case(b"transfer-encoding") => {
                te.add(v)?;
            }
            _ => {}
        }
    }
    f.transfer = te.transfer();
    if te.lines {
        if !te.any || version == 0 {
            return Err(HeadError::InvalidTransferEncoding);
        }
        if f.content_length.is_some() {
            return Err(HeadError::TransferEncodingWithLength);
        }
    }
    Ok(f)
}

fn offset(buf: &[u8], s: &str) -> core::ops::Range<usize> {
    let start = (s.as_ptr() as usize).wrapping_sub(buf.as_ptr() as usize);
    start..start + s.len()
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

#[inline]
fn parse_response_head_n<const N: usize>(
    buf: &[u8],
) -> Result<Option<(ResponseHead, usize)>, HeadError> {
    // Uninitialised slots: filling N empty headers first would cost as much as the parse.
    let mut hs = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; N];
    let mut r = httparse::Response::new(&mut []);
    let status = httparse::ParserConfig::default()
        .parse_response_with_uninit_headers(&mut r, buf, &mut hs)
        .map_err(map_err)?;
    let Some(n) = head_length(status, buf.len())? else {
        return Ok(None);
    };
    let head = &buf[..n];
    if !crlf_only(head, r.headers) {
        return Err(HeadError::BareNewline);
    }
    let code = r.code.unwrap_or(0);
    if code < 100 {
        return Err(HeadError::InvalidStatus);
    }
    let version = r.version.unwrap_or(1);
    let facts = gather(r.headers, version)?;
    // httparse gives an empty reason for obs-text; find it on the status line instead.
    let skip = leading_crlfs(head);
    // The status line holds no CR but its end.
    let line_end = head[skip..]
        .iter()
        .position(|&c| c == b'\r')
        .map_or(head.len(), |p| p + skip);
    // `HTTP/1.x NNN ` is 13 bytes.
    let reason_start = (skip + 13).min(line_end);
    Ok(Some((
        ResponseHead {
            reason: reason_start - skip..line_end - skip,
            raw: head[skip..].to_vec(),
            version,
            code,
            facts,
        },
        n,
    )))
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

fn target_ok(method: &str, t: &str) -> bool {
    let b = t.as_bytes();
    if !t.is_ascii() {
        return false;
    }
    match b.first() {
        Some(b'/') => true,
        Some(b'*') => b.len() == 1 && method == "OPTIONS",
        _ if method == "CONNECT" => !b.contains(&b'/') && host_ok(b) && b.contains(&b':'),
        Some(c) if c.is_ascii_alphabetic() => {
            // absolute-form: scheme ":" hier-part.
            let n = b
                .iter()
                .take_while(|&&c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
                .count();
            b.get(n) == Some(&b':')
        }
        _ => false,
    }
}

fn parse_request_head_n<const N: usize>(
    buf: &[u8],
) -> Result<Option<(RequestHead, usize)>, HeadError> {
    let mut hs = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; N];
    let mut r = httparse::Request::new(&mut []);
    let status = r.parse_with_uninit_headers(buf, &mut hs).map_err(map_err)?;
    let Some(n) = head_length(status, buf.len())? else {
        return Ok(None);
    };
    let head = &buf[..n];
    if !crlf_only(head, r.headers) {
        return Err(HeadError::BareNewline);
    }
    let version = r.version.unwrap_or(1);
    let method = r.method.unwrap_or("");
    let target = r.path.unwrap_or("");
    if !target_ok(method, target) {
        return Err(HeadError::InvalidTarget);
    }
    let facts = gather(r.headers, version)?;
    match facts.hosts {
        0 if version == 1 => return Err(HeadError::MissingHost),
        0 | 1 => {}
        _ => return Err(HeadError::DuplicateHost),
    }
    match facts.transfer {
        Transfer::Absent | Transfer::Chunked => {}
        Transfer::CodedChunked => return Err(HeadError::UnsupportedTransferCoding),
        Transfer::NotChunked => return Err(HeadError::InvalidTransferEncoding),
    }
    let skip = leading_crlfs(head);
    let m = offset(head, method);
    let t = offset(head, target);
    Ok(Some((
        RequestHead {
            raw: head[skip..].to_vec(),
            method: m.start - skip..m.end - skip,
            target: t.start - skip..t.end - skip,
            version,
            facts,
        },
        n,
    )))
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
    header_all(h, name).any(|v| list_has(v, token))
}

/// Merges repeated names (case-insensitive; the first spelling wins) by joining values with
/// `,`, in first-seen order.
pub fn merge_headers<'a>(h: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Headers {
    let mut out: Headers = Vec::new();
    for (n, v) in h {
        match out.iter_mut().find(|(m, _)| m.eq_ignore_ascii_case(n)) {
            Some((_, acc)) => {
                acc.push(b',');
                acc.extend_from_slice(v);
            }
            None => out.push((n.to_string(), v.to_vec())),
        }
    }
    out
}

/// A header list as a Lua table `{[name] = value}`.
pub fn headers_table<'a>(h: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Value {
    let mut t = Table::new();
    for (n, v) in h {
        // Names come from a parsed head and are never nil or NaN, so insert cannot fail.
        let _ = t.insert(Value::Str(LuaStr::from(n)), Value::Str(LuaStr::from(v)));
    }
    Value::Table(t)
}

/// Borrowed `(name, value)` pairs of an owned header list.
pub fn pairs(h: &[(String, Vec<u8>)]) -> impl Iterator<Item = (&str, &[u8])> {
    h.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
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
