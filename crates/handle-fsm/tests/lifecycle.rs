//! Handle lifecycles (§1, §3.2, §4.2): every method in every status, each transition and the
//! events it raises.

use handle_fsm::http::Encoding;
use handle_fsm::http::{HttpHandle, HttpOptions, Outcome, Response};
use handle_fsm::ws::{encode_frame, Opcode, WsHandle};
use handle_fsm::{HandleError, HandleEvent, NetOutput, Status};
use modem_value::{Instant, SplitMix64, Value};

fn s(x: &str) -> Value {
    Value::from(x)
}

fn response(code: u16, body: &str) -> Response {
    Response::new(
        code,
        "Reason",
        &[
            ("X-Dup".into(), b"a".to_vec()),
            ("x-dup".into(), b"b".to_vec()),
            ("Content-Length".into(), b"999".to_vec()),
        ],
        body.as_bytes().to_vec(),
    )
}

fn events(h: &mut HttpHandle) -> Vec<HandleEvent> {
    std::iter::from_fn(|| h.poll_event()).collect()
}

/// Asserts the read-like methods and close refuse with `status` in their message.
fn http_refuses_reads(h: &mut HttpHandle, st: Status) {
    assert_eq!(h.read(&[]).unwrap_err(), HandleError::Read(st));
    assert_eq!(
        h.response_code().unwrap_err().to_string(),
        format!("attempt to read from a {st} handle")
    );
    assert_eq!(h.response_headers().unwrap_err(), HandleError::Read(st));
    assert_eq!(
        h.close().unwrap_err().to_string(),
        format!("attempt to close a {st} handle")
    );
}

#[test]
fn http_ready_state() {
    let mut h = HttpHandle::new(HttpOptions::new("http://h/"));
    assert_eq!(h.status(), (Status::Ready, None));
    http_refuses_reads(&mut h, Status::Ready);
    assert!(h.take_request().is_none());
    // An outcome before write is ignored.
    h.handle_outcome(Outcome::Success(response(200, "")));
    assert_eq!(h.status().0, Status::Ready);
}

#[test]
fn http_write_once_then_connecting() {
    let mut h = HttpHandle::new(HttpOptions::new("http://h/"));
    h.write(&[s("a="), Value::from(1), Value::Bool(true)])
        .unwrap();
    assert_eq!(h.status(), (Status::Connecting, None));
    assert!(
        events(&mut h).is_empty(),
        "local transitions raise no event"
    );
    let req = h.take_request().unwrap();
    assert_eq!(req.body.as_deref(), Some(&b"a=1true"[..]));
    assert_eq!(req.method, "POST");
    assert!(h.take_request().is_none());
    assert_eq!(
        h.write(&[]).unwrap_err().to_string(),
        "attempt to write to a connecting handle"
    );
    http_refuses_reads(&mut h, Status::Connecting);
}

#[test]
fn http_write_without_args_has_no_body() {
    let mut h = HttpHandle::new(HttpOptions::new("http://h/"));
    h.write(&[]).unwrap();
    let r = h.take_request().unwrap();
    assert_eq!((r.method.as_str(), r.body), ("GET", None));
}

#[test]
fn http_synchronous_refusal_is_error_with_event() {
    let mut h = HttpHandle::new(HttpOptions::new("gopher://h/"));
    h.write(&[]).unwrap();
    assert_eq!(
        h.status(),
        (Status::Error, Some("Invalid protocol 'gopher'"))
    );
    assert_eq!(
        events(&mut h),
        vec![HandleEvent::StatusChange(Status::Error)]
    );
    assert!(h.take_request().is_none());
    http_refuses_reads(&mut h, Status::Error);
    assert_eq!(h.write(&[]).unwrap_err(), HandleError::Write(Status::Error));
}

#[test]
fn http_success_opens_and_reads() {
    let mut h = HttpHandle::new(HttpOptions::new("http://h/"));
    h.write(&[]).unwrap();
    h.handle_outcome(Outcome::Success(response(200, "line1\r\n42")));
    assert_eq!(h.status(), (Status::Open, None));
    assert_eq!(
        events(&mut h),
        vec![HandleEvent::StatusChange(Status::Open)]
    );
    assert_eq!(h.response_code().unwrap(), (200, "Reason"));
    let hdr = h.response_headers().unwrap();
    assert_eq!(hdr.get("X-Dup"), &s("a,b"));
    assert_eq!(hdr.get("Content-Length"), &s("9"));
    assert_eq!(
        h.read(&[s("*l"), s("*n"), s("*a")]).unwrap(),
        vec![s("line1"), Value::from(42), s("")]
    );
    assert_eq!(h.write(&[]).unwrap_err(), HandleError::Write(Status::Open));
    h.close().unwrap();
    assert_eq!(h.status(), (Status::Closed, None));
    assert!(events(&mut h).is_empty(), "close raises no event");
    http_refuses_reads(&mut h, Status::Closed);
    assert_eq!(
        h.write(&[]).unwrap_err(),
        HandleError::Write(Status::Closed)
    );
    // A late outcome changes nothing.
    h.handle_outcome(Outcome::error("x"));
    assert_eq!(h.status().0, Status::Closed);
}

#[test]
fn http_failure_with_response_is_open() {
    let mut h = HttpHandle::new(HttpOptions::new("http://h/"));
    h.write(&[]).unwrap();
    h.handle_outcome(Outcome::from_response(response(404, "nope")));
    assert_eq!(h.status().0, Status::Open);
    assert_eq!(h.response_code().unwrap().0, 404);
    assert_eq!(h.read(&[s("a")]).unwrap(), vec![s("nope")]);
}

#[test]
fn http_failure_without_response_is_error() {
    let mut h = HttpHandle::new(HttpOptions::new("http://h/"));
    h.write(&[]).unwrap();
    h.handle_outcome(Outcome::error("Timed out"));
    assert_eq!(h.status(), (Status::Error, Some("Timed out")));
    assert_eq!(
        events(&mut h),
        vec![HandleEvent::StatusChange(Status::Error)]
    );
    http_refuses_reads(&mut h, Status::Error);
}

#[test]
fn http_bad_read_mode_in_open() {
    let mut h = HttpHandle::new(HttpOptions::new("http://h/"));
    h.write(&[]).unwrap();
    h.handle_outcome(Outcome::Success(response(200, "x")));
    assert_eq!(
        h.read(&[s("*z")]).unwrap_err().to_string(),
        "bad argument (invalid mode '*z')"
    );
}

// ---- WebSocket ----

type Ws = WsHandle<SplitMix64>;

fn now() -> Instant {
    Instant::from_millis(0)
}

fn outs(h: &mut Ws) -> Vec<NetOutput> {
    std::iter::from_fn(|| h.poll_output()).collect()
}

fn wevents(h: &mut Ws) -> Vec<HandleEvent> {
    std::iter::from_fn(|| h.poll_event()).collect()
}

/// A client handle taken through a successful handshake.
fn open_client(enc: Encoding) -> Ws {
    let mut h = Ws::connect(now(), "ws://example.com/chat", &[], enc, SplitMix64::new(1)).unwrap();
    let o = outs(&mut h);
    assert_eq!(
        o,
        vec![NetOutput::Connect {
            host: "example.com".into(),
            port: 80,
            tls: false
        }]
    );
    assert_eq!(h.status().0, Status::Connecting);
    h.handle_connected(now());
    let req = match &outs(&mut h)[..] {
        [NetOutput::Send(b)] => String::from_utf8(b.clone()).unwrap(),
        o => panic!("{o:?}"),
    };
    let key = req
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap()
        .to_string();
    let accept = handle_fsm::ws::accept_key(key.as_bytes());
    h.handle_bytes(
        now(),
        format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").as_bytes(),
    );
    assert_eq!(h.status(), (Status::Open, None));
    assert_eq!(
        wevents(&mut h),
        vec![HandleEvent::StatusChange(Status::Open)]
    );
    h
}

fn server_frame(op: Opcode, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    encode_frame(&mut v, true, op, payload, None);
    v
}

fn ws_refuses(h: &mut Ws, st: Status) {
    assert_eq!(h.read(&[]).unwrap_err(), HandleError::Read(st));
    assert_eq!(
        h.write(&[s("x")]).unwrap_err().to_string(),
        format!("attempt to write to a {st} handle")
    );
    assert_eq!(h.close(now()).unwrap_err(), HandleError::Close(st));
}

#[test]
fn ws_connecting_refuses_everything() {
    let mut h = Ws::connect(now(), "ws://h/", &[], Encoding::Binary, SplitMix64::new(1)).unwrap();
    ws_refuses(&mut h, Status::Connecting);
}

#[test]
fn ws_connect_url_checks() {
    let e = |u: &str| Ws::connect(now(), u, &[], Encoding::Binary, SplitMix64::new(1)).unwrap_err();
    assert_eq!(e("http://h/"), "Invalid scheme 'http'");
    assert_eq!(e("ws://[::1"), "URL malformed");
    let h = Ws::connect(
        now(),
        "example.com:81/x",
        &[],
        Encoding::Binary,
        SplitMix64::new(1),
    )
    .unwrap();
    assert_eq!(h.url().unwrap().as_str(), "ws://example.com:81/x");
}

#[test]
fn ws_handshake_failure_is_error() {
    let mut h = Ws::connect(now(), "ws://h/", &[], Encoding::Binary, SplitMix64::new(1)).unwrap();
    let _ = outs(&mut h);
    h.handle_connected(now());
    let _ = outs(&mut h);
    h.handle_bytes(
        now(),
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    );
    assert_eq!(
        h.status(),
        (
            Status::Error,
            Some("Invalid handshake response getStatus: 404 Not Found")
        )
    );
    assert_eq!(
        wevents(&mut h),
        vec![HandleEvent::StatusChange(Status::Error)]
    );
    assert_eq!(outs(&mut h), vec![NetOutput::Close]);
    ws_refuses(&mut h, Status::Error);
}

#[test]
fn ws_bad_accept_and_timeout_and_connect_failure() {
    let mut h = Ws::connect(now(), "ws://h/", &[], Encoding::Binary, SplitMix64::new(1)).unwrap();
    h.handle_connected(now());
    h.handle_bytes(now(), b"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n");
    assert_eq!(h.status(), (Status::Error, Some("Invalid challenge")));

    let mut h = Ws::connect(now(), "ws://h/", &[], Encoding::Binary, SplitMix64::new(1)).unwrap();
    assert_eq!(h.poll_timeout(), Some(Instant::from_secs(30)));
    h.handle_timeout(Instant::from_secs(30));
    assert_eq!(h.status(), (Status::Error, Some("Timed out")));

    let mut h = Ws::connect(now(), "wss://h/", &[], Encoding::Binary, SplitMix64::new(1)).unwrap();
    h.handle_connect_failed(now(), handle_fsm::ConnectFailure::Tls);
    assert_eq!(
        h.status(),
        (Status::Error, Some("Could not create a secure connection"))
    );
}

#[test]
fn ws_open_reads_stream_and_writes_messages() {
    let mut h = open_client(Encoding::Binary);
    h.handle_bytes(
        now(),
        &[
            server_frame(Opcode::Text, b"hello\n"),
            server_frame(Opcode::Binary, b"12 x"),
        ]
        .concat(),
    );
    assert_eq!(
        wevents(&mut h),
        vec![HandleEvent::DataReady, HandleEvent::DataReady],
        "one event per message"
    );
    assert_eq!(
        h.read(&[s("l"), s("n"), s("a")]).unwrap(),
        vec![s("hello"), Value::from(12), s(" x")]
    );
    h.handle_bytes(now(), &server_frame(Opcode::Binary, b""));
    assert!(
        wevents(&mut h).is_empty(),
        "an empty message raises nothing"
    );
    h.write(&[s("a"), Value::from(2)]).unwrap();
    let o = outs(&mut h);
    assert_eq!(o.len(), 2, "one message per argument");
    for f in &o {
        let NetOutput::Send(b) = f else { panic!() };
        assert_eq!(b[0], 0x82, "binary by default (H1)");
        assert_eq!(b[1] & 0x80, 0x80, "client frames are masked");
    }
}

#[test]
fn ws_utf8_encoding_sends_text_and_rejects_bad_utf8() {
    let mut h = open_client(Encoding::Utf8);
    h.write(&[s("é")]).unwrap();
    let NetOutput::Send(b) = &outs(&mut h)[0] else {
        panic!()
    };
    assert_eq!(b[0], 0x81);
    assert_eq!(
        h.write(&[Value::from(vec![0xffu8])])
            .unwrap_err()
            .to_string(),
        "Message is not valid UTF-8"
    );
    let big = Value::from(vec![b'x'; 128 * 1024 + 1]);
    assert_eq!(
        h.write(&[big]).unwrap_err().to_string(),
        "Message is too large"
    );
}

#[test]
fn ws_at_most_512_messages_in_flight() {
    let mut h = open_client(Encoding::Binary);
    let args: Vec<Value> = (0..512).map(Value::from).collect();
    h.write(&args).unwrap();
    assert_eq!(
        h.write(&[s("one more")]).unwrap_err().to_string(),
        "Too many ongoing websocket messages"
    );
    assert_eq!(outs(&mut h).len(), 512);
    h.write(&[s("now fine")]).unwrap();
}

#[test]
fn ws_local_close_sends_1000_without_event() {
    let mut h = open_client(Encoding::Binary);
    h.close(now()).unwrap();
    assert_eq!(h.status(), (Status::Closed, None));
    assert!(wevents(&mut h).is_empty());
    let o = outs(&mut h);
    let NetOutput::Send(b) = &o[0] else {
        panic!("{o:?}")
    };
    assert_eq!(b[0], 0x88);
    // Masked payload of length 2 carrying 1000.
    let key = [b[2], b[3], b[4], b[5]];
    assert_eq!([b[6] ^ key[0], b[7] ^ key[1]], 1000u16.to_be_bytes());
    ws_refuses(&mut h, Status::Closed);
    // The peer's Close reply ends the TCP connection.
    h.handle_bytes(now(), &server_frame(Opcode::Close, &1000u16.to_be_bytes()));
    assert_eq!(outs(&mut h), vec![NetOutput::Close]);
    assert!(h.is_finished());
}

#[test]
fn ws_local_close_times_out() {
    let mut h = open_client(Encoding::Binary);
    h.close(now()).unwrap();
    let _ = outs(&mut h);
    let d = h.poll_timeout().unwrap();
    h.handle_timeout(d);
    assert_eq!(outs(&mut h), vec![NetOutput::Close]);
}

#[test]
fn ws_peer_close_raises_closed_event() {
    let mut h = open_client(Encoding::Binary);
    let mut p = 1001u16.to_be_bytes().to_vec();
    p.extend_from_slice(b"bye");
    h.handle_bytes(now(), &server_frame(Opcode::Close, &p));
    assert_eq!(h.status().0, Status::Closed);
    assert_eq!(
        wevents(&mut h),
        vec![HandleEvent::StatusChange(Status::Closed)]
    );
    assert_eq!(h.close_info(), Some(&(Some(1001), Some("bye".into()))));
    ws_refuses(&mut h, Status::Closed);
}

#[test]
fn ws_buffered_data_stays_readable_after_close_h3() {
    let mut h = open_client(Encoding::Binary);
    h.handle_bytes(now(), &server_frame(Opcode::Binary, b"left\nover"));
    h.handle_peer_closed(now());
    assert_eq!(h.status().0, Status::Open);
    assert_eq!(wevents(&mut h), vec![HandleEvent::DataReady]);
    assert_eq!(h.read(&[s("l")]).unwrap(), vec![s("left")]);
    assert_eq!(h.status().0, Status::Open);
    assert_eq!(h.read(&[s("a")]).unwrap(), vec![s("over")]);
    assert_eq!(h.status().0, Status::Closed);
    assert_eq!(
        wevents(&mut h),
        vec![HandleEvent::StatusChange(Status::Closed)]
    );
}

#[test]
fn ws_incoming_message_too_large_closes_1009() {
    let mut h = open_client(Encoding::Binary);
    h.handle_bytes(
        now(),
        &server_frame(Opcode::Binary, &vec![0u8; 128 * 1024 + 1]),
    );
    assert_eq!(h.status().0, Status::Closed);
    assert_eq!(
        h.close_info(),
        Some(&(Some(1009), Some("Message is too large".into())))
    );
    let o = outs(&mut h);
    let NetOutput::Send(b) = &o[0] else { panic!() };
    assert_eq!(b[0], 0x88);
    assert_eq!(o.last(), Some(&NetOutput::Close));
}

#[test]
fn ws_server_accepts_and_rejects() {
    let mut h = Ws::accept(now(), Encoding::Binary, SplitMix64::new(3));
    assert_eq!(h.status().0, Status::Connecting);
    h.handle_bytes(now(), b"GET /room HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    assert_eq!(h.status().0, Status::Open);
    assert_eq!(h.request().unwrap().target(), "/room");
    let o = outs(&mut h);
    let NetOutput::Send(b) = &o[0] else { panic!() };
    assert!(String::from_utf8_lossy(b)
        .contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    // An unmasked client frame is a protocol error.
    h.handle_bytes(now(), &server_frame(Opcode::Text, b"x"));
    assert_eq!(h.close_info().unwrap().0, Some(1002));

    let mut h = Ws::accept(now(), Encoding::Binary, SplitMix64::new(3));
    h.handle_bytes(now(), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(h.status().0, Status::Error);
    let o = outs(&mut h);
    assert!(matches!(&o[0], NetOutput::Send(b) if b.starts_with(b"HTTP/1.1 426")));
    assert_eq!(o[1], NetOutput::Close);
}

/// A masked client frame, as a server handle receives it.
fn client_frame(op: Opcode, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    encode_frame(&mut v, true, op, payload, Some([1, 2, 3, 4]));
    v
}

fn open_server(enc: Encoding) -> Ws {
    let mut h = Ws::accept(now(), enc, SplitMix64::new(3));
    h.handle_bytes(
        now(),
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    assert_eq!(h.status().0, Status::Open);
    let _ = outs(&mut h);
    let _ = wevents(&mut h);
    h
}

#[test]
fn ws_server_handles_honour_the_encoding_h1() {
    // H1 on accepted handles too: utf8 writes text frames (opcode 1), binary writes binary.
    for (enc, first) in [(Encoding::Utf8, 0x81u8), (Encoding::Binary, 0x82)] {
        let mut h = open_server(enc);
        h.write(&[s("hi")]).unwrap();
        let o = outs(&mut h);
        let NetOutput::Send(b) = &o[0] else {
            panic!("{o:?}")
        };
        assert_eq!(b[0], first, "{enc:?}");
        assert_eq!(&b[2..], b"hi", "servers never mask");
    }
}

#[test]
fn ws_read_message_keeps_boundaries_and_kinds() {
    let mut h = open_server(Encoding::Binary);
    h.handle_bytes(now(), &client_frame(Opcode::Text, b"first"));
    h.handle_bytes(now(), &client_frame(Opcode::Binary, b"second\n"));
    h.handle_bytes(now(), &client_frame(Opcode::Text, b"third"));
    assert_eq!(
        wevents(&mut h),
        vec![HandleEvent::DataReady; 3],
        "one handle_data_ready per message"
    );
    assert_eq!(h.read_message().unwrap(), Some((b"first".to_vec(), false)));
    // A stream read takes part of the next message: readMessage returns the rest of it.
    assert_eq!(h.read(&[Value::from(3.0)]).unwrap(), vec![s("sec")]);
    assert_eq!(h.read_message().unwrap(), Some((b"ond\n".to_vec(), true)));
    // Stream reads still see one stream across messages (H2).
    h.handle_bytes(now(), &client_frame(Opcode::Text, b"fourth"));
    assert_eq!(h.read(&[s("a")]).unwrap(), vec![s("thirdfourth")]);
    assert_eq!(h.read_message().unwrap(), None);
}

#[test]
fn ws_read_message_drains_then_closes_h3() {
    let mut h = open_server(Encoding::Binary);
    h.handle_bytes(now(), &client_frame(Opcode::Text, b"last"));
    let mut p = 4000u16.to_be_bytes().to_vec();
    p.extend_from_slice(b"done");
    h.handle_bytes(now(), &client_frame(Opcode::Close, &p));
    assert_eq!(h.status().0, Status::Open, "data left to read");
    assert_eq!(h.close_info(), Some(&(Some(4000), Some("done".into()))));
    assert_eq!(h.read_message().unwrap(), Some((b"last".to_vec(), false)));
    assert_eq!(h.status().0, Status::Closed);
    assert!(wevents(&mut h).contains(&HandleEvent::StatusChange(Status::Closed)));
    assert_eq!(h.read_message(), Err(HandleError::Read(Status::Closed)));
}

#[test]
fn ws_local_close_leaves_no_close_info() {
    let mut h = open_server(Encoding::Binary);
    h.close(now()).unwrap();
    assert_eq!(h.close_info(), None);
}
