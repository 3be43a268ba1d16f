//! HTTP/1.1 framing, table-driven: raw requests through the server connection and raw
//! responses through the response parser, each row naming the RFC 9112 / RFC 9110 rule it
//! pins and its verdict. Every row is fed whole and byte by byte, and both must give the
//! verdict. The classic request-smuggling shapes (CL.TE, TE.CL, TE.TE with an obfuscated
//! Transfer-Encoding, duplicate Content-Length, obs-fold, bare LF) are refused or framed one
//! way only.
//!
//! A proptest then checks the head parser against `httparse`: whatever `httparse` refuses is
//! refused, and where both accept, method, target, version and fields agree.

use handle_fsm::http::head::{parse_request_head, parse_response_head};
use handle_fsm::http::{HttpServerConnection, ResponseParser, ServerEvent};
use handle_fsm::NetOutput;
use modem_value::{Instant, Value};

/// What the server must do with a row's bytes: the bodies of the requests delivered to the
/// program (each answered 200 at once), the status codes sent, and whether the connection
/// was closed.
#[derive(Debug, PartialEq, Eq)]
struct Srv {
    bodies: Vec<Vec<u8>>,
    codes: Vec<u16>,
    closed: bool,
}

fn srv(bodies: &[&str], codes: &[u16], closed: bool) -> Srv {
    Srv {
        bodies: bodies.iter().map(|b| b.as_bytes().to_vec()).collect(),
        codes: codes.to_vec(),
        closed,
    }
}

/// A request refused with `code`, nothing delivered, the connection closed.
fn refused(code: u16) -> Srv {
    srv(&[], &[code], true)
}

/// One request with `body` delivered and answered, the connection kept.
fn one(body: &str) -> Srv {
    srv(&[body], &[200], false)
}

fn run_server<'a>(pieces: impl Iterator<Item = &'a [u8]>) -> Srv {
    let now = Instant::ZERO;
    let mut c = HttpServerConnection::new(now);
    let mut wire = Vec::new();
    let mut bodies = Vec::new();
    let mut closed = false;
    let mut drain = |c: &mut HttpServerConnection, wire: &mut Vec<u8>, closed: &mut bool| loop {
        let mut progress = false;
        while let Some(o) = c.poll_output() {
            progress = true;
            match o {
                NetOutput::Send(b) => wire.extend_from_slice(&b),
                NetOutput::Close => *closed = true,
                NetOutput::Connect { .. } => panic!("a server never connects"),
            }
        }
        while let Some(e) = c.poll_event() {
            progress = true;
            if let ServerEvent::Request(id) = e {
                let r = c.request_mut(id).expect("a raised request exists");
                let body = r.read(&[Value::from("a")]).expect("read");
                bodies.push(
                    body[0]
                        .as_str()
                        .map(|s| s.as_bytes().to_vec())
                        .unwrap_or_default(),
                );
                r.close().expect("close");
            }
        }
        if !progress {
            break;
        }
    };
    for p in pieces {
        c.handle_bytes(now, p);
        drain(&mut c, &mut wire, &mut closed);
    }
    let text = String::from_utf8_lossy(&wire).into_owned();
    let codes = text
        .split("HTTP/1.1 ")
        .skip(1)
        .map(|s| s[..3].parse().expect("status code"))
        .collect();
    Srv {
        bodies,
        codes,
        closed,
    }
}

const H: &str = "Host: a\r\n";

#[rustfmt::skip]
fn request_rows() -> Vec<(&'static str, String, Srv)> {
    let post = |fields: &str, body: &str| format!("POST / HTTP/1.1\r\n{H}{fields}\r\n{body}");
    let chunked = |body: &str| post("Transfer-Encoding: chunked\r\n", body);
    vec![
        // RFC 9112 §2.1–§2.2: message format and line endings.
        ("9112 §3: a minimal request", format!("GET / HTTP/1.1\r\n{H}\r\n"), one("")),
        ("9112 §2.2: empty lines (CRLF) before the request line are ignored", format!("\r\n\r\nGET / HTTP/1.1\r\n{H}\r\n"), one("")),
        ("9112 §2.2: a bare LF before the request line", format!("\nGET / HTTP/1.1\r\n{H}\r\n"), refused(400)),
        ("9112 §2.2: bare LF ends the request line", format!("GET / HTTP/1.1\n{H}\r\n"), refused(400)),
        ("9112 §2.2: bare LF ends a field line", "GET / HTTP/1.1\r\nHost: a\n\r\n".into(), refused(400)),
        ("9112 §2.2: bare LF ends the head", format!("GET / HTTP/1.1\r\n{H}\n"), refused(400)),
        ("9112 §2.2: every line ends in bare LF", "GET / HTTP/1.1\nHost: a\n\n".into(), refused(400)),
        ("9112 §2.2: bare CR in the request line", format!("GET /\r HTTP/1.1\r\n{H}\r\n"), refused(400)),
        ("9112 §2.2: bare CR inside a field value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n".into(), refused(400)),
        ("9112 §2.2: bare CR as a line end", "GET / HTTP/1.1\rHost: a\r\n\r\n".into(), refused(400)),
        ("9112 §2.2: smuggling by bare LF before Content-Length", format!("POST / HTTP/1.1\r\n{H}X: y\nContent-Length: 26\r\n\r\nGET /smuggled HTTP/1.1\r\n{H}\r\n"), refused(400)),
        ("9112 §2.2: whitespace before the first field line", format!("GET / HTTP/1.1\r\n {H}\r\n"), refused(400)),
        // RFC 9112 §3: request line.
        ("9110 §9.1: methods are case-sensitive tokens (lower case is another method)", format!("get / HTTP/1.1\r\n{H}\r\n"), one("")),
        ("9112 §3.1: a method must be a token", format!("G(T / HTTP/1.1\r\n{H}\r\n"), refused(400)),
        ("9112 §3: exactly one SP between parts", format!("GET  / HTTP/1.1\r\n{H}\r\n"), refused(400)),
        ("9112 §3: HTAB is not a separator", format!("GET\t/ HTTP/1.1\r\n{H}\r\n"), refused(400)),
        ("9112 §3: nothing after the version", format!("GET / HTTP/1.1 \r\n{H}\r\n"), refused(400)),
        ("9112 §2.3: HTTP/0.9 request line", "GET /\r\n\r\n".into(), refused(400)),
        ("9112 §2.3: the version is case-sensitive", format!("GET / http/1.1\r\n{H}\r\n"), refused(400)),
        ("9112 §2.3: only HTTP/1.0 and HTTP/1.1", format!("GET / HTTP/2.0\r\n{H}\r\n"), refused(400)),
        // RFC 9112 §3.2: request-target.
        ("9112 §3.2: a control byte in the target", format!("GET /a\x01b HTTP/1.1\r\n{H}\r\n"), refused(400)),
        ("9112 §3.2: DEL in the target", format!("GET /a\x7f HTTP/1.1\r\n{H}\r\n"), refused(400)),
        ("9112 §3.2: a non-ASCII target", format!("GET /caf\u{e9} HTTP/1.1\r\n{H}\r\n"), refused(400)),
        ("9112 §3.2.4: asterisk-form with OPTIONS", format!("OPTIONS * HTTP/1.1\r\n{H}\r\n"), one("")),
        ("9112 §3.2.4: asterisk-form only with OPTIONS", format!("GET * HTTP/1.1\r\n{H}\r\n"), refused(400)),
        ("9112 §3.2.2: absolute-form", format!("GET http://a/x HTTP/1.1\r\n{H}\r\n"), one("")),
        ("9112 §3.2: a target in no form", format!("GET example.com HTTP/1.1\r\n{H}\r\n"), refused(400)),
        ("9112 §3.2: a target starting with ?", format!("GET ?q HTTP/1.1\r\n{H}\r\n"), refused(400)),
        ("9110 §9.3.6: CONNECT is not served (501, close)", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n".into(), refused(501)),
        // RFC 9112 §3.2: Host.
        ("9112 §3.2: HTTP/1.1 without Host", "GET / HTTP/1.1\r\n\r\n".into(), refused(400)),
        ("9112 §3.2: two Host lines", format!("GET / HTTP/1.1\r\n{H}{H}\r\n"), refused(400)),
        ("9112 §3.2: two Host lines, HTTP/1.0", format!("GET / HTTP/1.0\r\n{H}{H}\r\n"), refused(400)),
        ("9112 §3.2: HTTP/1.0 may omit Host (and closes by default)", "GET / HTTP/1.0\r\n\r\n".into(), srv(&[""], &[200], true)),
        ("9112 §3.2: an empty Host is allowed", "GET / HTTP/1.1\r\nHost:\r\n\r\n".into(), one("")),
        ("9112 §3.2: host and port", "GET / HTTP/1.1\r\nHost: a:8080\r\n\r\n".into(), one("")),
        ("9112 §3.2: IP-literal host", "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n".into(), one("")),
        ("9112 §3.2: a Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n".into(), refused(400)),
        ("9112 §3.2: a Host with a path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n".into(), refused(400)),
        ("9112 §3.2: a Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n".into(), refused(400)),
        ("9112 §3.2: a non-numeric port", "GET / HTTP/1.1\r\nHost: a:x\r\n\r\n".into(), refused(400)),
        // RFC 9112 §5, RFC 9110 §5.5: field lines.
        ("9112 §5.1: whitespace between name and colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n".into(), refused(400)),
        ("9112 §5.2: obs-fold", format!("GET / HTTP/1.1\r\n{H}X: a\r\n b\r\n\r\n"), refused(400)),
        ("9110 §5.1: a name with a space", format!("GET / HTTP/1.1\r\n{H}X Y: z\r\n\r\n"), refused(400)),
        ("9110 §5.1: an empty name", format!("GET / HTTP/1.1\r\n{H}: z\r\n\r\n"), refused(400)),
        ("9112 §5: a line without a colon", format!("GET / HTTP/1.1\r\n{H}Xyz\r\n\r\n"), refused(400)),
        ("9110 §5.5: NUL in a value", format!("GET / HTTP/1.1\r\n{H}X: a\0b\r\n\r\n"), refused(400)),
        ("9110 §5.5: DEL in a value", format!("GET / HTTP/1.1\r\n{H}X: a\x7fb\r\n\r\n"), refused(400)),
        ("9110 §5.5: HTAB inside a value", format!("GET / HTTP/1.1\r\n{H}X: a\tb\r\n\r\n"), one("")),
        // RFC 9112 §6.3: Content-Length.
        ("9112 §6.3: Content-Length frames the body", post("Content-Length: 5\r\n", "hello"), one("hello")),
        ("9112 §6.3: Content-Length 0", post("Content-Length: 0\r\n", ""), one("")),
        ("9110 §8.6: leading zeros are digits", post("Content-Length: 005\r\n", "hello"), one("hello")),
        ("9110 §8.6: an empty Content-Length", post("Content-Length: \r\n", ""), refused(400)),
        ("9110 §8.6: a signed Content-Length", post("Content-Length: +5\r\n", "hello"), refused(400)),
        ("9110 §8.6: a negative Content-Length", post("Content-Length: -1\r\n", ""), refused(400)),
        ("9110 §8.6: a hex Content-Length", post("Content-Length: 0x5\r\n", "hello"), refused(400)),
        ("9110 §8.6: digits with inner space", post("Content-Length: 5 5\r\n", "hello"), refused(400)),
        ("9112 §6.3: a Content-Length list, even of equal values", post("Content-Length: 5, 5\r\n", "hello"), refused(400)),
        ("9112 §6.3: duplicate Content-Length lines, equal", post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"), refused(400)),
        ("9112 §6.3: duplicate Content-Length lines, different (smuggling)", post("Content-Length: 5\r\nContent-Length: 0\r\n", "hello"), refused(400)),
        ("9112 §6.3: a Content-Length beyond u64", post("Content-Length: 99999999999999999999999\r\n", ""), refused(400)),
        ("9112 §6.3: a Content-Length beyond the body limit", post("Content-Length: 18446744073709551615\r\n", ""), refused(413)),
        // RFC 9112 §6.1: Transfer-Encoding.
        ("9112 §6.1: chunked", chunked("5\r\nhello\r\n0\r\n\r\n"), one("hello")),
        ("9112 §6.1: coding names are case-insensitive", post("Transfer-Encoding: Chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"), one("hello")),
        ("9112 §6.1: OWS around the coding", post("Transfer-Encoding: \t chunked \r\n", "5\r\nhello\r\n0\r\n\r\n"), one("hello")),
        ("9112 §6.1: CL.TE: Content-Length then Transfer-Encoding", post("Content-Length: 6\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\nG"), refused(400)),
        ("9112 §6.1: TE.CL: Transfer-Encoding then Content-Length", post("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", "8\r\nSMUGGLED\r\n0\r\n\r\n"), refused(400)),
        ("9112 §6.1: an empty Transfer-Encoding next to Content-Length", post("Transfer-Encoding:\r\nContent-Length: 5\r\n", "hello"), refused(400)),
        ("9112 §6.1: an empty Transfer-Encoding", post("Transfer-Encoding: \r\n", ""), refused(400)),
        ("9112 §6.1: chunked twice", post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"), refused(400)),
        ("9112 §6.1: chunked twice, on two lines", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n"), refused(400)),
        ("9112 §6.1: a coding after chunked", post("Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n"), refused(400)),
        ("9112 §6.3: a final coding other than chunked", post("Transfer-Encoding: gzip\r\n", ""), refused(400)),
        ("9112 §6.3: identity is no longer a coding", post("Transfer-Encoding: identity\r\n", ""), refused(400)),
        ("9112 §6.1: an unsupported coding before chunked (501)", post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"), refused(501)),
        ("9112 §6.1: TE.TE: an obfuscated second Transfer-Encoding", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n", "0\r\n\r\n"), refused(400)),
        ("9112 §6.1: TE.TE: xchunked is not chunked", post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"), refused(400)),
        ("9112 §6.1: TE.TE: a quoted coding", post("Transfer-Encoding: \"chunked\"\r\n", "0\r\n\r\n"), refused(400)),
        ("9112 §6.1: TE.TE: chunked does not take parameters", post("Transfer-Encoding: chunked;q=1\r\n", "0\r\n\r\n"), refused(400)),
        ("9112 §5.1: TE.TE: space before the colon", post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n"), refused(400)),
        ("9112 §5.2: TE.TE: chunked in an obs-fold", post("Transfer-Encoding:\r\n chunked\r\n", "0\r\n\r\n"), refused(400)),
        ("9110 §5.1: TE.TE: Transfer_Encoding is another field (framed by Content-Length)", post("Transfer_Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n"), one("0\r\n\r\n")),
        ("9112 §6.1: Transfer-Encoding in HTTP/1.0", format!("POST / HTTP/1.0\r\n{H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), refused(400)),
        // RFC 9112 §7.1: chunk lines.
        ("9112 §7.1: upper-case hex size", chunked("A\r\n0123456789\r\n0\r\n\r\n"), one("0123456789")),
        ("9112 §7.1.1: a chunk extension", chunked("5;a=b\r\nhello\r\n0\r\n\r\n"), one("hello")),
        ("9112 §7.1.1: a name-only extension", chunked("5;a\r\nhello\r\n0\r\n\r\n"), one("hello")),
        ("9112 §7.1.1: a quoted-string extension with a quoted-pair", chunked("5;a=\"x \\\" y\"\r\nhello\r\n0\r\n\r\n"), one("hello")),
        ("9112 §7.1.1: BWS around ; and =", chunked("5 ; a = b\r\nhello\r\n0\r\n\r\n"), one("hello")),
        ("9112 §7.1.1: an extension on the last chunk", chunked("5\r\nhello\r\n0;x=1\r\n\r\n"), one("hello")),
        ("9112 §7.1: whitespace after the size", chunked("5 \r\nhello\r\n0\r\n\r\n"), refused(400)),
        ("9112 §7.1: whitespace before the size", chunked(" 5\r\nhello\r\n0\r\n\r\n"), refused(400)),
        ("9112 §7.1: a bare CR inside the size line", chunked("5\r\r;ABCD\r\nhello\r\n0\r\n\r\n"), refused(400)),
        ("9112 §7.1.1: an unbalanced quote in an extension", chunked("5;a=\"x\r\nhello\r\n0\r\n\r\n"), refused(400)),
        ("9112 §7.1.1: NUL in an extension", chunked("5;a\0\r\nhello\r\n0\r\n\r\n"), refused(400)),
        ("9112 §7.1.1: an extension without a name", chunked("5;=b\r\nhello\r\n0\r\n\r\n"), refused(400)),
        ("9112 §7.1: 0x prefix", chunked("0x5\r\nhello\r\n0\r\n\r\n"), refused(400)),
        ("9112 §7.1: a negative size", chunked("-5\r\nhello\r\n0\r\n\r\n"), refused(400)),
        ("9112 §7.1: an empty size line", chunked("\r\nhello\r\n0\r\n\r\n"), refused(400)),
        ("9112 §7.1: a size that overflows 64 bits", chunked("10000000000000000\r\nx\r\n"), refused(400)),
        ("9112 §7.1: a bare LF after the size", chunked("5\nhello\r\n0\r\n\r\n"), refused(400)),
        ("9112 §7.1: no CRLF after the data", chunked("5\r\nhelloX\r\n0\r\n\r\n"), refused(400)),
        ("9112 §7.1: a bare LF after the data", chunked("5\r\nhello\n0\r\n\r\n"), refused(400)),
        // RFC 9112 §7.1.2: trailers, by the field-line rules.
        ("9112 §7.1.2: a trailer field", chunked("5\r\nhello\r\n0\r\nX-T: v\r\n\r\n"), one("hello")),
        ("9112 §7.1.2: a trailer in obs-fold", chunked("0\r\nX-T: v\r\n w\r\n\r\n"), refused(400)),
        ("9112 §7.1.2: a trailer line without a colon", chunked("0\r\nX-T\r\n\r\n"), refused(400)),
        ("9112 §7.1.2: a trailer ended by bare LF", chunked("0\r\nX-T: v\n\r\n"), refused(400)),
        ("9112 §7.1.2: space before a trailer's colon", chunked("0\r\nX-T : v\r\n\r\n"), refused(400)),
        ("9112 §7.1.2: NUL in a trailer value", chunked("0\r\nX-T: a\0\r\n\r\n"), refused(400)),
        // RFC 9112 §9: persistence and pipelining.
        ("9112 §9.3: pipelined requests", format!("GET /1 HTTP/1.1\r\n{H}\r\nGET /2 HTTP/1.1\r\n{H}\r\n"), srv(&["", ""], &[200, 200], false)),
        ("9112 §9.6: Connection: close ends the connection", format!("GET /1 HTTP/1.1\r\n{H}Connection: close\r\n\r\nGET /2 HTTP/1.1\r\n{H}\r\n"), srv(&[""], &[200], true)),
        ("9112 §9.3: HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".into(), one("")),
        ("9112 §9.3: a 400 after a good request, then close", format!("GET / HTTP/1.1\r\n{H}\r\nGET / HTTP/1.1\n\n"), srv(&[""], &[200, 400], true)),
        ("9112 §9.3: nothing is parsed after a 400", format!("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n{H}\r\n"), refused(400)),
        ("9112 §6.3: a body after a bad chunk is never a request", chunked(&format!("zz\r\n\r\nGET /smuggled HTTP/1.1\r\n{H}\r\n")), refused(400)),
        ("9110 §7.8: an h2c upgrade is declined: answered, then closed", format!("GET / HTTP/1.1\r\n{H}Connection: Upgrade\r\nUpgrade: h2c\r\n\r\nGET / HTTP/1.1\r\n{H}\r\n"), srv(&[""], &[200], true)),
        ("9110 §7.8: a websocket upgrade on an HTTP listener is declined the same way", format!("GET / HTTP/1.1\r\n{H}Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"), srv(&[""], &[200], true)),
        ("9110 §10.1.1: Expect: 100-continue gets 100 first", post("Expect: 100-continue\r\nContent-Length: 2\r\n", "hi"), srv(&["hi"], &[100, 200], false)),
    ]
}

#[test]
fn request_table_whole_and_byte_by_byte() {
    let rows = request_rows();
    assert!(rows.len() >= 80, "{} rows", rows.len());
    for (rule, raw, want) in &rows {
        let b = raw.as_bytes();
        let whole = run_server(std::iter::once(b));
        assert_eq!(&whole, want, "{rule} (whole): {raw:?}");
        let bytewise = run_server(b.chunks(1));
        assert_eq!(&bytewise, want, "{rule} (byte by byte): {raw:?}");
    }
}

/// What the response parser must make of a row: the body, or an error.
#[derive(Debug, PartialEq, Eq)]
enum Resp {
    Body(Vec<u8>),
    Error,
}

fn body(b: &str) -> Resp {
    Resp::Body(b.as_bytes().to_vec())
}

fn run_response<'a>(pieces: impl Iterator<Item = &'a [u8]>) -> Resp {
    let mut p = ResponseParser::new(false);
    for piece in pieces {
        if p.feed(piece).is_err() {
            return Resp::Error;
        }
    }
    if !p.is_done() && p.finish_eof().is_err() {
        return Resp::Error;
    }
    match p.take() {
        Some(r) => Resp::Body(r.body),
        None => Resp::Error,
    }
}

#[rustfmt::skip]
fn response_rows() -> Vec<(&'static str, &'static [u8], Resp)> {
    use Resp::Error;
    vec![
        ("9112 §6.3: Content-Length", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabEXTRA", body("ab")),
        ("9112 §2.2: empty lines before the status line are ignored", b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", body("x")),
        ("9112 §2.2: a bare LF before the status line", b"\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", Error),
        ("9112 §2.2: bare LF ends the status line", b"HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\nx", Error),
        ("9112 §2.2: bare LF ends a field line", b"HTTP/1.1 200 OK\r\nContent-Length: 1\n\r\nx", Error),
        ("9112 §2.2: bare LF ends the head", b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\nx", Error),
        ("9112 §2.2: bare CR in a value", b"HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 1\r\n\r\nx", Error),
        ("9112 §4: a status code below 100", b"HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n", Error),
        ("9112 §4: a four-digit status code", b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", Error),
        ("9112 §4: obs-text in the reason phrase", b"HTTP/1.1 200 \xe9t\xe9\r\nContent-Length: 1\r\n\r\nx", body("x")),
        ("9112 §5.1: whitespace before a colon", b"HTTP/1.1 200 OK\r\nContent-Length : 1\r\n\r\nx", Error),
        ("9112 §5.2: obs-fold", b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 1\r\n\r\nx", Error),
        ("9110 §5.5: NUL in a value", b"HTTP/1.1 200 OK\r\nX: \0\r\nContent-Length: 1\r\n\r\nx", Error),
        ("9112 §6.1: Transfer-Encoding with Content-Length is never read by length", b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", Error),
        ("9112 §6.1: chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", body("x")),
        ("9112 §6.3: a final coding other than chunked: until close", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw", body("raw")),
        ("9112 §6.3: chunked not last: until close", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nraw", body("raw")),
        ("9112 §6.1: chunked twice", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", Error),
        ("9112 §6.1: a coding before chunked is not decoded: refused", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", Error),
        ("9112 §6.1: an empty Transfer-Encoding", b"HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\nContent-Length: 1\r\n\r\nx", Error),
        ("9112 §6.1: Transfer-Encoding in HTTP/1.0", b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", Error),
        ("9112 §6.3: duplicate Content-Length", b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", Error),
        ("9112 §6.3: a Content-Length list", b"HTTP/1.1 200 OK\r\nContent-Length: 1,1\r\n\r\nx", Error),
        ("9110 §8.6: an empty Content-Length", b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\nx", Error),
        ("9110 §8.6: a non-numeric Content-Length", b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nx", Error),
        ("9112 §6.3: neither length nor coding: until close", b"HTTP/1.1 200 OK\r\n\r\nuntil close", body("until close")),
        ("9112 §6.3: a body cut short by close", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", Error),
        ("9112 §6.3: 204 has no body", b"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n", body("")),
        ("9110 §15.2: interim 100 then the final response", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", body("x")),
        ("9112 §7.1: whitespace after the chunk size", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1 \r\nx\r\n0\r\n\r\n", Error),
        ("9112 §7.1: a bare CR in the chunk size line", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\r;a\r\nx\r\n0\r\n\r\n", Error),
        ("9112 §7.1.1: a quoted extension", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;a=\"b;c\"\r\nx\r\n0\r\n\r\n", body("x")),
        ("9112 §7.1: bare LF chunk lines", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\n0\n\n", Error),
        ("9112 §7.1.2: a trailer field", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nX-T: v\r\n\r\n", body("x")),
        ("9112 §7.1.2: a trailer in obs-fold", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: v\r\n w\r\n\r\n", Error),
    ]
}

#[test]
fn response_table_whole_and_byte_by_byte() {
    for (rule, raw, want) in response_rows() {
        assert_eq!(run_response(std::iter::once(raw)), want, "{rule} (whole)");
        assert_eq!(run_response(raw.chunks(1)), want, "{rule} (byte by byte)");
    }
}

#[test]
fn request_trailers_are_exposed() {
    // RFC 9112 §7.1.2: trailers are parsed with the field rules and kept apart from the head.
    let mut c = HttpServerConnection::new(Instant::ZERO);
    c.handle_bytes(
        Instant::ZERO,
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nX-Sum:  abc \r\nX-B: 1\r\n\r\n",
    );
    let Some(ServerEvent::Request(id)) = c.poll_event() else {
        panic!("request expected")
    };
    let r = c.request(id).unwrap();
    assert_eq!(
        r.trailers(),
        &vec![
            ("X-Sum".to_string(), b"abc".to_vec()),
            ("X-B".to_string(), b"1".to_vec())
        ]
    );
    assert_eq!(r.head().header("x-sum"), None, "trailers are not headers");
}

#[test]
fn response_trailers_never_override_framing_fields() {
    // RFC 9110 §6.5.1: a trailer must not supply framing or content metadata.
    let mut p = ResponseParser::new(false);
    p.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nContent-Length: 99\r\nContent-Type: evil\r\nX-T: v\r\n\r\n")
        .unwrap();
    let r = p.take().unwrap();
    let h = r.raw_headers();
    assert!(h
        .iter()
        .all(|(n, _)| n != "Content-Length" && n != "Content-Type"));
    assert!(h.contains(&("X-T".to_string(), b"v".to_vec())));
    assert_eq!(r.trailers.len(), 3, "all trailers stay visible as trailers");
}

mod against_httparse {
    //! Heads built from pieces that are mostly valid, with hostile bytes spliced in.
    use super::*;
    use proptest::prelude::*;

    fn piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => "[A-Za-z0-9-]{1,8}".prop_map(|s| s.into_bytes()),
            1 => Just(b"\r\n".to_vec()),
            1 => Just(b"\n".to_vec()),
            1 => Just(b"\r".to_vec()),
            1 => Just(b" ".to_vec()),
            1 => Just(b"\t".to_vec()),
            1 => Just(b":".to_vec()),
            1 => Just(b"\0".to_vec()),
            1 => Just(vec![0xe9]),
            1 => Just(b"/".to_vec()),
        ]
    }

    fn field() -> impl Strategy<Value = Vec<u8>> {
        (
            prop_oneof![
                Just("Host".to_string()),
                Just("Content-Length".to_string()),
                Just("Transfer-Encoding".to_string()),
                "[A-Za-z-]{1,10}"
            ],
            proptest::collection::vec(piece(), 0..4),
            any::<bool>(),
        )
            .prop_map(|(n, v, crlf)| {
                let mut l = n.into_bytes();
                l.extend_from_slice(b": ");
                l.extend(v.concat());
                l.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
                l
            })
    }

    fn request() -> impl Strategy<Value = Vec<u8>> {
        (
            prop_oneof![Just("GET"), Just("POST"), Just("OPTIONS"), Just("G T")],
            proptest::collection::vec(piece(), 0..3),
            prop_oneof![
                Just(" HTTP/1.1\r\n"),
                Just(" HTTP/1.0\r\n"),
                Just(" HTTP/1.1\n")
            ],
            proptest::collection::vec(field(), 0..6),
            prop_oneof![Just("\r\n"), Just("\n")],
        )
            .prop_map(|(m, t, v, fs, end)| {
                let mut r = format!("{m} /").into_bytes();
                r.extend(t.concat());
                r.extend_from_slice(v.as_bytes());
                r.extend(fs.concat());
                r.extend_from_slice(end.as_bytes());
                r
            })
    }

    fn response() -> impl Strategy<Value = Vec<u8>> {
        (
            prop_oneof![
                Just("HTTP/1.1 200 OK"),
                Just("HTTP/1.0 404 "),
                Just("HTTP/1.1 2x0 A")
            ],
            proptest::collection::vec(field(), 0..6),
            prop_oneof![Just("\r\n"), Just("\n")],
        )
            .prop_map(|(l, fs, end)| {
                let mut r = format!("{l}\r\n").into_bytes();
                r.extend(fs.concat());
                r.extend_from_slice(end.as_bytes());
                r
            })
    }

    proptest! {
        #[test]
        fn requests_refused_by_httparse_are_refused_and_accepted_ones_agree(raw in request()) {
            let mut hs = [httparse::EMPTY_HEADER; 128];
            let mut theirs = httparse::Request::new(&mut hs);
            let t = theirs.parse(&raw);
            let ours = parse_request_head(&raw);
            match (t, ours) {
                (Err(_), ours) => prop_assert!(ours.is_err(), "httparse refused, we did not: {:?}", String::from_utf8_lossy(&raw)),
                (Ok(httparse::Status::Complete(n)), Ok(Some((h, m)))) => {
                    prop_assert_eq!(n, m);
                    prop_assert_eq!(theirs.method.unwrap(), h.method());
                    prop_assert_eq!(theirs.path.unwrap(), h.target());
                    prop_assert_eq!(theirs.version.unwrap(), h.version);
                    let their_fields: Vec<(&str, &[u8])> = theirs.headers.iter().map(|f| (f.name, f.value)).collect();
                    let our_fields: Vec<(&str, &[u8])> = h.fields().collect();
                    prop_assert_eq!(their_fields, our_fields);
                }
                (Ok(httparse::Status::Partial), ours) => prop_assert!(matches!(ours, Ok(None))),
                (Ok(_), _) => {}
            }
        }

        #[test]
        fn responses_refused_by_httparse_are_refused_and_accepted_ones_agree(raw in response()) {
            let mut hs = [httparse::EMPTY_HEADER; 128];
            let mut theirs = httparse::Response::new(&mut hs);
            let t = theirs.parse(&raw);
            let ours = parse_response_head(&raw);
            match (t, ours) {
                (Err(_), ours) => prop_assert!(ours.is_err()),
                (Ok(httparse::Status::Complete(n)), Ok(Some((h, m)))) => {
                    prop_assert_eq!(n, m);
                    prop_assert_eq!(theirs.code.unwrap(), h.code);
                    prop_assert_eq!(theirs.version.unwrap(), h.version);
                    let their_fields: Vec<(&str, &[u8])> = theirs.headers.iter().map(|f| (f.name, f.value)).collect();
                    let our_fields: Vec<(&str, &[u8])> = h.fields().collect();
                    prop_assert_eq!(their_fields, our_fields);
                }
                (Ok(httparse::Status::Partial), ours) => prop_assert!(matches!(ours, Ok(None))),
                (Ok(_), _) => {}
            }
        }
    }
}

mod split_independence {
    //! A request stream built from framing-relevant pieces (valid and hostile) gives the same
    //! requests, responses and close whether it arrives whole or in pieces: framing that
    //! depended on packet boundaries would be a smuggling vector.
    use super::*;
    use proptest::prelude::*;

    const PIECES: &[&str] = &[
        "GET / HTTP/1.1\r\n",
        "POST /a HTTP/1.1\r\n",
        "GET / HTTP/1.0\r\n",
        "Host: a\r\n",
        "Content-Length: 5\r\n",
        "Content-Length: 0\r\n",
        "Transfer-Encoding: chunked\r\n",
        "Transfer-Encoding: gzip, chunked\r\n",
        "\r\n",
        "\r\n",
        "\n",
        "\r",
        "5\r\nhello\r\n",
        "0\r\n",
        "X: y\r\n",
        " ",
        ";a=\"b\"",
        "Connection: close\r\n",
        "Connection: keep-alive\r\n",
        "Upgrade: h2c\r\n",
        "Expect: 100-continue\r\n",
        "\0",
        ":",
        "1f",
        "hello",
    ];

    proptest! {
        #[test]
        fn server_verdicts_do_not_depend_on_the_split(
            picks in proptest::collection::vec(0..PIECES.len(), 0..16),
            step in 1usize..8,
        ) {
            let wire: String = picks.iter().map(|&i| PIECES[i]).collect();
            let b = wire.as_bytes();
            let whole = run_server(std::iter::once(b));
            prop_assert_eq!(run_server(b.chunks(step)), whole, "{:?}", wire);
        }
    }
}
