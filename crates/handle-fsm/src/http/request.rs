//! HTTP request options, their validation and the bytes of the request.

use core::time::Duration;

use modem_value::{DecodeError, LuaStr, Value};
use url::Url;

use crate::limits::{DEFAULT_TIMEOUT, MAX_TIMEOUT_SECS, MAX_UPLOAD};

/// The `User-Agent` sent when the program sets none (CC:Tweaked sends
/// `computercraft/<mod version>`; hosts may override it with [`HttpRequest::user_agent`]).
pub const DEFAULT_USER_AGENT: &str = "computercraft/1.113.1";

/// Methods the request API accepts (the ROM wrapper's list; the native layer rejects
/// `CONNECT`). Matching is case-insensitive; the method is sent upper-cased.
pub const METHODS: [&str; 8] = [
    "GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH", "TRACE",
];

/// The `encoding` option. HTTP bodies are binary-safe either way (CC:Tweaked ≥ 1.109);
/// for WebSocket handles it picks text or binary frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Encoding {
    /// `"binary"` (the default).
    #[default]
    Binary,
    /// `"utf8"` / `"utf-8"`.
    Utf8,
}

impl Encoding {
    /// Parses the option; nil means binary.
    pub fn from_value(v: &Value) -> Result<Encoding, DecodeError> {
        match v {
            Value::Nil => Ok(Encoding::Binary),
            Value::Str(s) => match s.as_bytes() {
                b"binary" => Ok(Encoding::Binary),
                b"utf8" | b"utf-8" => Ok(Encoding::Utf8),
                _ => Err(DecodeError::Invalid {
                    field: "encoding",
                    reason: "expected \"utf8\", \"utf-8\" or \"binary\"",
                }),
            },
            other => Err(DecodeError::WrongType {
                field: "encoding",
                expected: "string",
                found: other.kind(),
            }),
        }
    }
}

/// The options of `connect{url, encoding?, headers?, method?, redirect?, timeout?}` for an
/// HTTP(S) handle, as given (validated only when the request is made, as the host does).
#[derive(Clone, Debug, PartialEq)]
pub struct HttpOptions {
    /// The URL.
    pub url: String,
    /// Body encoding.
    pub encoding: Encoding,
    /// Request headers in the table's order; only string→string pairs are kept.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The method, as given (`None`: `POST` with a body, else `GET`).
    pub method: Option<String>,
    /// Follow redirects (default true).
    pub redirect: bool,
    /// Timeout in seconds (default 30; Phoenix's `connect` does not forward one, hosts may).
    pub timeout: Option<f64>,
}

impl HttpOptions {
    /// Options for a plain URL.
    pub fn new(url: impl Into<String>) -> Self {
        HttpOptions {
            url: url.into(),
            encoding: Encoding::Binary,
            headers: Vec::new(),
            method: None,
            redirect: true,
            timeout: None,
        }
    }

    /// Reads the options from `connect`'s argument (a URL string or an options table).
    pub fn from_value(v: &Value) -> Result<Self, DecodeError> {
        if let Value::Str(s) = v {
            return Ok(HttpOptions::new(s.to_string_lossy()));
        }
        let url = v.field_str("url")?.to_string_lossy();
        let mut o = HttpOptions::new(url);
        o.encoding = Encoding::from_value(v.get("encoding"))?;
        o.headers = headers_from_table(v.field_opt_table("headers")?);
        o.method = v.field_opt_str("method")?.map(LuaStr::to_string_lossy);
        o.redirect = v.field_opt_bool("redirect")?.unwrap_or(true);
        o.timeout = v.field_opt_num("timeout")?;
        Ok(o)
    }

    /// Validates the options with `body` (nil = none) into a request, or gives the host's
    /// synchronous refusal message.
    pub fn prepare(&self, body: Option<Vec<u8>>) -> Result<HttpRequest, String> {
        let url = check_url(&self.url)?;
        let method = match &self.method {
            Some(m) => {
                let up = m.to_ascii_uppercase();
                if !METHODS.contains(&up.as_str()) {
                    return Err("Unsupported HTTP method".into());
                }
                up
            }
            None if body.is_some() => "POST".into(),
            None => "GET".into(),
        };
        let timeout = match self.timeout {
            None => Some(DEFAULT_TIMEOUT),
            Some(t) if !(0.0..=MAX_TIMEOUT_SECS).contains(&t) => {
                return Err("timeout out of range (between 0.0 and 60.0)".into())
            }
            // CC:Tweaked treats 0 as "no timeout".
            Some(0.0) => None,
            Some(t) => Some(Duration::from_millis((t * 1000.0) as u64)),
        };
        for (name, value) in &self.headers {
            check_header(name, value)?;
        }
        let req = HttpRequest {
            method,
            url,
            headers: self.headers.clone(),
            body,
            redirect: self.redirect,
            timeout,
            user_agent: DEFAULT_USER_AGENT.into(),
        };
        if req.encoded_len() > MAX_UPLOAD {
            return Err("Request body is too large".into());
        }
        Ok(req)
    }
}

/// Keeps the string→string pairs of a headers table, in the table's order.
pub fn headers_from_table(t: Option<&modem_value::Table>) -> Vec<(String, Vec<u8>)> {
    let Some(t) = t else { return Vec::new() };
    t.iter()
        .filter_map(|(k, v)| match (k, v) {
            (Value::Str(k), Value::Str(v)) => Some((k.to_string_lossy(), v.as_bytes().to_vec())),
            _ => None,
        })
        .collect()
}

/// CC:Tweaked's URL checks, in its order and with its messages.
pub fn check_url(s: &str) -> Result<Url, String> {
    let url = match Url::parse(s) {
        Ok(u) => u,
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            return Err("Must specify http or https".into())
        }
        Err(_) => return Err("URL malformed".into()),
    };
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(format!("Invalid protocol '{other}'")),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("URL malformed".into());
    }
    Ok(url)
}

/// A header name must be an HTTP token; a value must not contain CR, LF or NUL.
pub fn check_header(name: &str, value: &[u8]) -> Result<(), String> {
    let token = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(format!("Invalid header name '{name}'"));
    }
    if value.iter().any(|&c| c == b'\r' || c == b'\n' || c == 0) {
        return Err(format!("Invalid value for header '{name}'"));
    }
    Ok(())
}

/// A validated request: what the client sends for one hop.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest {
    /// Upper-cased method.
    pub method: String,
    /// The target; its fragment is never sent.
    pub url: Url,
    /// Headers from the program.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Body, if any.
    pub body: Option<Vec<u8>>,
    /// Follow redirects.
    pub redirect: bool,
    /// Connect + inactivity timeout (`None`: none).
    pub timeout: Option<Duration>,
    /// `User-Agent` used when the program sets none.
    pub user_agent: String,
}

fn has_header(h: &[(String, Vec<u8>)], name: &str) -> bool {
    h.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

impl HttpRequest {
    /// `host[:port]` as sent in `Host` (the port only when it is not the scheme's default).
    pub fn host_header(&self) -> String {
        host_header(&self.url)
    }

    /// `path?query`, `/` for an empty path; the fragment is dropped.
    pub fn target(&self) -> String {
        request_target(&self.url)
    }

    /// The headers as sent, in order: the program's (minus `Host` and `Connection`), then
    /// `User-Agent` and `Accept-Charset` if absent, `Host`, `Connection: close`, and with a
    /// body `Content-Type` and `Content-Length` if absent.
    pub fn final_headers(&self) -> Vec<(String, Vec<u8>)> {
        let mut h: Vec<(String, Vec<u8>)> = self
            .headers
            .iter()
            .filter(|(n, _)| {
                !n.eq_ignore_ascii_case("host") && !n.eq_ignore_ascii_case("connection")
            })
            .cloned()
            .collect();
        if !has_header(&h, "user-agent") {
            h.push(("User-Agent".into(), self.user_agent.as_bytes().to_vec()));
        }
        if !has_header(&h, "accept-charset") {
            h.push(("Accept-Charset".into(), b"UTF-8".to_vec()));
        }
        h.push(("Host".into(), self.host_header().into_bytes()));
        h.push(("Connection".into(), b"close".to_vec()));
        if let Some(body) = &self.body {
            if !has_header(&h, "content-type") {
                h.push((
                    "Content-Type".into(),
                    b"application/x-www-form-urlencoded; charset=utf-8".to_vec(),
                ));
            }
            if !has_header(&h, "content-length") {
                h.push(("Content-Length".into(), body.len().to_string().into_bytes()));
            }
        }
        h
    }

    /// The request's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.write_head(&mut out);
        if let Some(b) = &self.body {
            out.extend_from_slice(b);
        }
        out
    }

    fn write_head(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.target().as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        for (n, v) in self.final_headers() {
            out.extend_from_slice(n.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(&v);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }

    /// Header bytes + body bytes (what the upload limit counts).
    pub fn encoded_len(&self) -> usize {
        let mut head = Vec::new();
        self.write_head(&mut head);
        head.len() + self.body.as_ref().map_or(0, Vec::len)
    }
}

/// `host[:port]` of a URL (port only when not the scheme's default).
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// `path?query` of a URL, `/` for an empty path.
pub fn request_target(url: &Url) -> String {
    let mut t = url.path().to_string();
    if t.is_empty() {
        t.push('/');
    }
    if let Some(q) = url.query() {
        t.push('?');
        t.push_str(q);
    }
    t
}
