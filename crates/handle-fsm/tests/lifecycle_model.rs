//! Proptests of the handle lifecycles against small reference models: random sequences of
//! program calls and network inputs; after every step status, method results and events must
//! match the model.

use std::collections::VecDeque;

use handle_fsm::http::{Encoding, HttpHandle, HttpOptions, Outcome, Response};
use handle_fsm::ws::{encode_frame, Opcode, WsHandle};
use handle_fsm::{HandleError, HandleEvent, NetOutput, Status};
use modem_value::{Instant, SplitMix64, Value};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum HttpOp {
    Write,
    Success,
    ErrorStatus,
    Failure,
    Read,
    Code,
    Close,
}

fn http_op() -> impl Strategy<Value = HttpOp> {
    prop_oneof![
        Just(HttpOp::Write),
        Just(HttpOp::Success),
        Just(HttpOp::ErrorStatus),
        Just(HttpOp::Failure),
        Just(HttpOp::Read),
        Just(HttpOp::Code),
        Just(HttpOp::Close),
    ]
}

fn resp(code: u16) -> Response {
    Response::new(code, "R", &[], b"abc".to_vec())
}

proptest! {
    #[test]
    fn http_handle_matches_model(ops in proptest::collection::vec(http_op(), 0..30), bad_url in any::<bool>()) {
        let url = if bad_url { "nope://x/" } else { "http://x/" };
        let mut h = HttpHandle::new(HttpOptions::new(url));
        let mut st = Status::Ready;
        for op in ops {
            let mut expect_event = None;
            match op {
                HttpOp::Write => {
                    let r = h.write(&[]);
                    if st == Status::Ready {
                        prop_assert!(r.is_ok());
                        st = if bad_url { expect_event = Some(Status::Error); Status::Error } else { Status::Connecting };
                    } else {
                        prop_assert_eq!(r, Err(HandleError::Write(st)));
                    }
                }
                HttpOp::Success | HttpOp::ErrorStatus | HttpOp::Failure => {
                    h.handle_outcome(match op {
                        HttpOp::Success => Outcome::Success(resp(200)),
                        HttpOp::ErrorStatus => Outcome::from_response(resp(500)),
                        _ => Outcome::error("Could not connect"),
                    });
                    if st == Status::Connecting {
                        st = if matches!(op, HttpOp::Failure) { Status::Error } else { Status::Open };
                        expect_event = Some(st);
                    }
                }
                HttpOp::Read => {
                    let r = h.read(&[Value::from(1)]);
                    if st == Status::Open { prop_assert!(r.is_ok()); } else { prop_assert_eq!(r, Err(HandleError::Read(st))); }
                }
                HttpOp::Code => {
                    let r = h.response_code().map(|(c, _)| c);
                    if st == Status::Open { prop_assert!(r.is_ok()); } else { prop_assert_eq!(r, Err(HandleError::Read(st))); }
                }
                HttpOp::Close => {
                    let r = h.close();
                    if st == Status::Open { prop_assert!(r.is_ok()); st = Status::Closed; } else { prop_assert_eq!(r, Err(HandleError::Close(st))); }
                }
            }
            prop_assert_eq!(h.status().0, st);
            prop_assert_eq!(h.poll_event(), expect_event.map(HandleEvent::StatusChange));
            prop_assert_eq!(h.poll_event(), None);
        }
    }
}

#[derive(Clone, Debug)]
enum WsOp {
    Handshake,
    Data(Vec<u8>),
    PeerClose,
    TcpLost,
    Read(u8),
    Write,
    Close,
}

fn ws_op() -> impl Strategy<Value = WsOp> {
    prop_oneof![
        Just(WsOp::Handshake),
        proptest::collection::vec(b'a'..=b'z', 1..20).prop_map(WsOp::Data),
        Just(WsOp::PeerClose),
        Just(WsOp::TcpLost),
        (1u8..10).prop_map(WsOp::Read),
        Just(WsOp::Write),
        Just(WsOp::Close),
    ]
}

fn server_frame(op: Opcode, p: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    encode_frame(&mut v, true, op, p, None);
    v
}

proptest! {
    #[test]
    fn ws_handle_matches_model(ops in proptest::collection::vec(ws_op(), 0..30)) {
        let now = Instant::ZERO;
        let mut h = WsHandle::connect(now, "ws://x/", &[], Encoding::Binary, SplitMix64::new(1)).unwrap();
        h.handle_connected(now);
        let mut key = String::new();
        while let Some(o) = h.poll_output() {
            if let NetOutput::Send(b) = o {
                let t = String::from_utf8_lossy(&b).into_owned();
                if let Some(k) = t.lines().find_map(|l| l.strip_prefix("Sec-WebSocket-Key: ")) { key = k.to_string(); }
            }
        }
        // Model: status, unread bytes, whether the connection is gone (draining per H3).
        let mut st = Status::Connecting;
        let mut buf: VecDeque<u8> = VecDeque::new();
        let mut gone = false;
        // Bytes that reached the handshake parser before the 101 make it fail.
        let mut garbage = false;
        for op in ops {
            let mut events = Vec::new();
            match op {
                WsOp::Handshake => {
                    let accept = handle_fsm::ws::accept_key(key.as_bytes());
                    h.handle_bytes(now, format!("HTTP/1.1 101 S\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").as_bytes());
                    if st == Status::Connecting && garbage {
                        st = Status::Error;
                        events.push(HandleEvent::StatusChange(Status::Error));
                    } else if st == Status::Connecting {
                        st = Status::Open;
                        events.push(HandleEvent::StatusChange(Status::Open));
                    } else if st == Status::Open && !gone {
                        // An HTTP head is not a frame: protocol error, the connection ends.
                        gone = true;
                        if buf.is_empty() { st = Status::Closed; events.push(HandleEvent::StatusChange(Status::Closed)); }
                    }
                }
                WsOp::Data(d) => {
                    h.handle_bytes(now, &server_frame(Opcode::Binary, &d));
                    garbage |= st == Status::Connecting;
                    if st == Status::Open && !gone {
                        events.push(HandleEvent::DataReady);
                        buf.extend(d);
                    }
                }
                WsOp::PeerClose | WsOp::TcpLost => {
                    if matches!(op, WsOp::PeerClose) {
                        h.handle_bytes(now, &server_frame(Opcode::Close, &1000u16.to_be_bytes()));
                    } else {
                        h.handle_peer_closed(now);
                    }
                    garbage |= st == Status::Connecting;
                    if st == Status::Connecting && matches!(op, WsOp::TcpLost) {
                        st = Status::Error;
                        events.push(HandleEvent::StatusChange(Status::Error));
                    } else if st == Status::Open && !gone {
                        gone = true;
                        if buf.is_empty() { st = Status::Closed; events.push(HandleEvent::StatusChange(Status::Closed)); }
                    }
                }
                WsOp::Read(k) => {
                    let r = h.read(&[Value::from(k)]);
                    if st == Status::Open {
                        let n = usize::from(k).min(buf.len());
                        let want: Vec<u8> = buf.drain(..n).collect();
                        let got = r.unwrap().remove(0);
                        if n == 0 { prop_assert_eq!(got, Value::Nil); } else { prop_assert_eq!(got, Value::from(want)); }
                        if gone && buf.is_empty() { st = Status::Closed; events.push(HandleEvent::StatusChange(Status::Closed)); }
                    } else {
                        prop_assert_eq!(r, Err(HandleError::Read(st)));
                    }
                }
                WsOp::Write => {
                    let r = h.write(&[Value::from("m")]);
                    if st == Status::Open { prop_assert!(r.is_ok()); } else { prop_assert_eq!(r, Err(HandleError::Write(st))); }
                }
                WsOp::Close => {
                    let r = h.close(now);
                    if st == Status::Open { prop_assert!(r.is_ok()); st = Status::Closed; buf.clear(); } else { prop_assert_eq!(r, Err(HandleError::Close(st))); }
                }
            }
            while h.poll_output().is_some() {}
            prop_assert_eq!(h.status().0, st);
            let got: Vec<_> = std::iter::from_fn(|| h.poll_event()).collect();
            prop_assert_eq!(got, events);
        }
    }
}
