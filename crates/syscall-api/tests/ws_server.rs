//! WebSocket handles from `listen("ws://…", {encoding = …})` through the syscall layer: the
//! listener's encoding picks text or binary frames, `readMessage` keeps message boundaries
//! and kinds, and `closeReason` gives the peer's close code and reason.

use syscall_api::modem_value::{table, Instant, SplitMix64, Value};
use syscall_api::{Computer, ComputerConfig, Event, NetworkStack, Output, TcpEvent, TcpRequest};

const UPGRADE: &[u8] =
    b"GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A masked client frame.
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let key = [9u8, 8, 7, 6];
    let mut f = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    f.extend_from_slice(&key);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

struct Setup {
    c: Computer,
    handle: u64,
    sent: Vec<Vec<u8>>,
}

fn drain(c: &mut Computer, sent: &mut Vec<Vec<u8>>, events: &mut Vec<Event>) {
    while let Some(o) = c.poll_output() {
        match o {
            Output::Tcp(TcpRequest::Send { data, .. }) => sent.push(data),
            Output::Event { event, .. } => events.push(event),
            _ => {}
        }
    }
}

fn accepted(options: Option<Value>) -> (Setup, syscall_api::TcpId) {
    let now = Instant::ZERO;
    let mut c = Computer::new(ComputerConfig::new(1, &["/top"]), &mut SplitMix64::new(1));
    let mut args = vec![Value::from("ws://0.0.0.0:8080")];
    args.extend(options);
    c.syscall(now, 1, false, "listen", &args).unwrap();
    let listener = std::iter::from_fn(|| c.poll_output())
        .find_map(|o| match o {
            Output::Tcp(TcpRequest::Listen { listener, .. }) => Some(listener),
            _ => None,
        })
        .unwrap();
    let tcp = c
        .handle_tcp_accept(now, listener, "192.0.2.7:4000")
        .unwrap();
    c.handle_tcp(now, tcp, TcpEvent::Data(UPGRADE.to_vec()));
    let (mut sent, mut events) = (Vec::new(), Vec::new());
    drain(&mut c, &mut sent, &mut events);
    let handle = events
        .iter()
        .find_map(|e| match e {
            Event::NetworkRequest { handle, .. } => Some(handle.0),
            _ => None,
        })
        .expect("network_request for the accepted WebSocket");
    assert!(sent[0].starts_with(b"HTTP/1.1 101 "));
    (Setup { c, handle, sent }, tcp)
}

#[test]
fn listen_encoding_utf8_sends_text_frames() {
    for (options, opcode) in [
        (Some(table! { "encoding" => "utf8" }), 0x81u8),
        (None, 0x82),
    ] {
        let (mut s, _) = accepted(options);
        s.c.handle_method(Instant::ZERO, 1, s.handle, "write", &["echo".into()])
            .unwrap();
        let mut events = Vec::new();
        drain(&mut s.c, &mut s.sent, &mut events);
        let f = s.sent.last().unwrap();
        assert_eq!((f[0], &f[2..]), (opcode, &b"echo"[..]));
    }
}

#[test]
fn listen_refuses_an_unknown_encoding() {
    let mut c = Computer::new(ComputerConfig::new(1, &["/top"]), &mut SplitMix64::new(1));
    let r = c.syscall(
        Instant::ZERO,
        1,
        false,
        "listen",
        &[
            "ws://0.0.0.0:8080".into(),
            table! { "encoding" => "latin1" },
        ],
    );
    assert!(r.is_err());
}

#[test]
fn read_message_and_close_reason() {
    let (mut s, tcp) = accepted(None);
    let now = Instant::ZERO;
    let mut wire = frame(1, b"one");
    wire.extend(frame(2, b"two"));
    s.c.handle_tcp(now, tcp, TcpEvent::Data(wire));
    let m = |s: &mut Setup, name: &str| s.c.handle_method(now, 1, s.handle, name, &[]).unwrap();
    assert_eq!(
        m(&mut s, "closeReason"),
        Vec::<Value>::new(),
        "open: nothing"
    );
    assert_eq!(
        m(&mut s, "readMessage"),
        vec![Value::from("one"), Value::Bool(false)]
    );
    assert_eq!(
        m(&mut s, "readMessage"),
        vec![Value::from("two"), Value::Bool(true)]
    );
    assert_eq!(m(&mut s, "readMessage"), vec![Value::Nil]);
    let mut close = 4001u16.to_be_bytes().to_vec();
    close.extend_from_slice(b"bye");
    s.c.handle_tcp(now, tcp, TcpEvent::Data(frame(8, &close)));
    assert_eq!(
        m(&mut s, "closeReason"),
        vec![Value::from(4001), Value::from("bye")]
    );
}

#[test]
fn typed_read_message_and_close_reason() {
    let (mut s, tcp) = accepted(None);
    let now = Instant::ZERO;
    let id = syscall_api::HandleId(s.handle);
    s.c.handle_tcp(now, tcp, TcpEvent::Data(frame(1, b"hello")));
    assert_eq!(s.c.close_reason(now, 1, id).unwrap(), None);
    assert_eq!(
        s.c.read_message(now, 1, id).unwrap(),
        Some((b"hello".to_vec(), false))
    );
    assert_eq!(s.c.read_message(now, 1, id).unwrap(), None);
    s.c.handle_tcp(now, tcp, TcpEvent::Data(frame(8, &1000u16.to_be_bytes())));
    assert_eq!(
        s.c.close_reason(now, 1, id).unwrap(),
        Some((Some(1000), None))
    );
}
