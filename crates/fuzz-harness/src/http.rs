//! Fuzz target bodies for `handle-fsm`: HTTP response and request parsing, WebSocket frames and
//! a stateful WebSocket session.

use arbitrary::Unstructured;
use handle_fsm::http::head::parse_request_head;
use handle_fsm::http::{
    HttpClient, HttpOptions, HttpServerConnection, ResponseParser, ServerEvent,
};
use handle_fsm::ws::frame::{apply_mask, encode_frame, parse_header};
use handle_fsm::ws::handshake::ServerHandshake;
use handle_fsm::ws::{Role, WsEvent, WsSession};
use handle_fsm::NetOutput;
use modem_value::{Instant, SplitMix64, Value};

/// The targets of this module, by name.
pub const TARGETS: &[(&str, crate::Target)] = &[
    ("http_response", http_response),
    ("http_request", http_request),
    ("ws_frame", ws_frame),
    ("ws_session", ws_session),
];

/// Outcome of parsing a response fed in the given pieces.
fn parse_pieces(
    head_request: bool,
    data: &[u8],
    step: usize,
) -> Result<Option<handle_fsm::http::Response>, handle_fsm::http::ResponseError> {
    let mut p = ResponseParser::new(head_request);
    for chunk in data.chunks(step.max(1)) {
        p.feed(chunk)?;
    }
    if !p.is_done() {
        p.finish_eof()?;
    }
    Ok(p.take())
}

/// The response parser: any bytes, fed whole or in pieces, give the same result; the client
/// around it never panics and always finishes.
pub fn http_response(data: &[u8]) {
    let Some((&ctl, body)) = data.split_first() else {
        return;
    };
    let head_request = ctl & 1 != 0;
    let step = usize::from(ctl >> 1) + 1;
    let whole = parse_pieces(head_request, body, body.len());
    let split = parse_pieces(head_request, body, step);
    assert_eq!(whole, split, "split feeding changed the result");
    if let Ok(Some(r)) = &whole {
        // The merged view rewrites Content-Length to the real length.
        for (n, v) in r.merged_headers() {
            if n.eq_ignore_ascii_case("content-length") {
                assert_eq!(v, r.body.len().to_string().into_bytes());
            }
        }
    }

    let Ok(req) = HttpOptions::new("http://fuzz.invalid/a?b").prepare(None) else {
        return;
    };
    let mut c = HttpClient::new(Instant::ZERO, req);
    let mut now = 0u64;
    for chunk in body.chunks(step) {
        while c.poll_output().is_some() {}
        c.handle_connected(Instant::from_millis(now));
        c.handle_bytes(Instant::from_millis(now), chunk);
        now += 1;
    }
    c.handle_peer_closed(Instant::from_millis(now));
    while c.poll_output().is_some() {}
    // A redirect may be waiting for its next connection; time always ends it.
    c.handle_timeout(Instant::from_secs(1000));
    while c.poll_output().is_some() {}
    assert!(c.is_done(), "the client must finish on close or timeout");
}

/// The server connection: arbitrary request bytes in pieces, with a program answering every
/// request; never panics, responses only after requests, and input stops after a close.
pub fn http_request(data: &[u8]) {
    let Some((&ctl, body)) = data.split_first() else {
        return;
    };
    let step = usize::from(ctl) + 1;
    let mut c = HttpServerConnection::new(Instant::ZERO);
    let mut requests = 0usize;
    let mut responses = 0usize;
    let mut closed = false;
    for (i, chunk) in body.chunks(step).enumerate() {
        let now = Instant::from_millis(i as u64 * 100);
        c.handle_bytes(now, chunk);
        while let Some(ev) = c.poll_event() {
            if let ServerEvent::Request(id) = ev {
                requests += 1;
                if let Some(r) = c.request_mut(id) {
                    let _ = r.read(&[Value::from("*l"), Value::from("*n"), Value::from(3)]);
                    let _ = r.set_response_header(r.path().to_string().as_str(), b"v");
                    let _ = r.write(&[Value::from(r.method().to_string())]);
                    if ctl & 1 == 0 {
                        let _ = r.close();
                    }
                }
            }
        }
        while let Some(o) = c.poll_output() {
            assert!(!closed, "output after close");
            match o {
                NetOutput::Send(b) if b.starts_with(b"HTTP/1.1 1") => {}
                NetOutput::Send(_) => responses += 1,
                NetOutput::Close => closed = true,
                NetOutput::Connect { .. } => panic!("a server never connects"),
            }
        }
    }
    c.handle_peer_closed(Instant::from_secs(100));
    c.handle_timeout(Instant::from_secs(200));
    while let Some(o) = c.poll_output() {
        if matches!(o, NetOutput::Send(_)) {
            responses += 1;
        }
    }
    // One response per request, plus at most one error response.
    assert!(
        responses <= requests + 1,
        "{responses} responses for {requests} requests"
    );

    // Strictness: a head httparse refuses is refused; one both accept reads the same.
    let mut slots = [httparse::EMPTY_HEADER; 128];
    let mut theirs = httparse::Request::new(&mut slots);
    let verdict = theirs.parse(body);
    match (verdict, parse_request_head(body)) {
        (Err(_), ours) => assert!(ours.is_err(), "httparse refused a head we accepted"),
        (Ok(httparse::Status::Complete(n)), Ok(Some((h, m)))) => {
            assert_eq!(n, m);
            assert_eq!(theirs.method, Some(h.method()));
            assert_eq!(theirs.path, Some(h.target()));
            assert!(theirs
                .headers
                .iter()
                .map(|f| (f.name, f.value))
                .eq(h.fields()));
        }
        _ => {}
    }

    let mut hs = ServerHandshake::new();
    for chunk in body.chunks(step) {
        if hs.feed(chunk).is_some() {
            break;
        }
    }
}

/// Frame headers: a parsed header re-encodes to the same header, and masking is an
/// involution at any offset.
pub fn ws_frame(data: &[u8]) {
    if let Ok(Some((h, n))) = parse_header(data) {
        assert!((2..=14).contains(&n));
        let payload_len = usize::try_from(h.len)
            .unwrap_or(usize::MAX)
            .min(data.len() - n);
        if payload_len as u64 == h.len {
            let payload = &data[n..n + payload_len];
            let mut out = Vec::new();
            encode_frame(&mut out, h.fin, h.opcode, payload, h.mask);
            let (h2, n2) = parse_header(&out)
                .expect("own frame parses")
                .expect("complete");
            assert_eq!(
                (h2.fin, h2.opcode, h2.mask, h2.len),
                (h.fin, h.opcode, h.mask, h.len)
            );
            let mut back = out[n2..].to_vec();
            if let Some(k) = h.mask {
                apply_mask(&mut back, k, 0);
            }
            assert_eq!(back, payload);
        }
    }
    if data.len() >= 5 {
        let key = [data[0], data[1], data[2], data[3]];
        let off = usize::from(data[4] % 4);
        let mut buf = data[5..].to_vec();
        apply_mask(&mut buf, key, off);
        for (i, (a, b)) in buf.iter().zip(&data[5..]).enumerate() {
            assert_eq!(*a, b ^ key[(i + off) % 4]);
        }
    }
}

#[derive(Debug)]
enum Op {
    Bytes(Vec<u8>),
    Send(Vec<u8>, bool),
    Ping(Vec<u8>),
    Close(u16),
    Tick(u16),
    PeerClosed,
}

fn op(u: &mut Unstructured<'_>) -> arbitrary::Result<Op> {
    Ok(match u.int_in_range(0u8..=5)? {
        0 | 1 => Op::Bytes(u.arbitrary()?),
        2 => Op::Send(u.arbitrary()?, u.arbitrary()?),
        3 => Op::Ping(u.arbitrary()?),
        4 => match u.int_in_range(0u8..=2)? {
            0 => Op::Close(u.arbitrary()?),
            1 => Op::Tick(u.arbitrary()?),
            _ => Op::PeerClosed,
        },
        _ => Op::Tick(u.arbitrary()?),
    })
}

/// A session in either role driven by arbitrary peer bytes and local calls: at most one
/// `Closed` event, nothing sent after the TCP close, text messages are valid UTF-8.
pub fn ws_session(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let role = if u.arbitrary::<bool>().unwrap_or(false) {
        Role::Client
    } else {
        Role::Server
    };
    let mut s = WsSession::new(role, SplitMix64::new(u.arbitrary().unwrap_or(0)));
    let mut now = Instant::ZERO;
    let mut closes = 0;
    let mut tcp_closed = false;
    while !u.is_empty() {
        let Ok(next) = op(&mut u) else { break };
        match next {
            Op::Bytes(b) => s.handle_bytes(now, &b),
            Op::Send(b, bin) => {
                let _ = s.send(&b, bin);
            }
            Op::Ping(b) => {
                let _ = s.ping(&b);
            }
            Op::Close(code) => s.close(now, code, "bye"),
            Op::Tick(ms) => {
                now += modem_value::Duration::from_millis(u64::from(ms) * 10);
                s.handle_timeout(now);
            }
            Op::PeerClosed => s.handle_peer_closed(now),
        }
        while let Some(o) = s.poll_output() {
            assert!(!tcp_closed, "output after our TCP close");
            if o == NetOutput::Close {
                tcp_closed = true;
            }
        }
        while let Some(e) = s.poll_event() {
            match e {
                WsEvent::Closed { .. } => closes += 1,
                WsEvent::Message { data, binary } => {
                    assert!(
                        binary || std::str::from_utf8(&data).is_ok(),
                        "text must be UTF-8"
                    );
                    assert!(data.len() <= handle_fsm::limits::WS_MAX_MESSAGE);
                }
            }
        }
        assert!(closes <= 1, "more than one Closed event");
    }
}
