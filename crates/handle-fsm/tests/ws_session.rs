//! RFC 6455 sessions: framing, masking, fragmentation, control frames, close handshake,
//! UTF-8 validation, limits, and split feeds (proptest).

use handle_fsm::ws::frame::{apply_mask, encode_frame, parse_header, FrameError, Opcode};
use handle_fsm::ws::session::valid_close_code;
use handle_fsm::ws::{Role, WsEvent, WsSession};
use handle_fsm::NetOutput;
use modem_value::{Instant, SplitMix64};
use proptest::prelude::*;

fn now() -> Instant {
    Instant::ZERO
}

/// A frame as a client would send it (masked).
fn cframe(fin: bool, op: Opcode, p: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    encode_frame(&mut v, fin, op, p, Some([1, 2, 3, 4]));
    v
}

fn server() -> WsSession<SplitMix64> {
    WsSession::new(Role::Server, SplitMix64::new(9))
}

fn events(s: &mut WsSession<SplitMix64>) -> Vec<WsEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}
fn outs(s: &mut WsSession<SplitMix64>) -> Vec<NetOutput> {
    std::iter::from_fn(|| s.poll_output()).collect()
}

fn msg(d: &[u8], binary: bool) -> WsEvent {
    WsEvent::Message {
        data: d.to_vec(),
        binary,
    }
}

fn closed_with(code: u16) -> impl Fn(&[WsEvent]) -> bool {
    move |e: &[WsEvent]| matches!(e.last(), Some(WsEvent::Closed { code: Some(c), .. }) if *c == code)
}

#[test]
fn header_lengths_and_errors() {
    for len in [0usize, 125, 126, 65535, 65536] {
        let mut v = Vec::new();
        encode_frame(&mut v, true, Opcode::Binary, &vec![7; len], None);
        let (h, n) = parse_header(&v).unwrap().unwrap();
        assert_eq!((h.len, n + len), (len as u64, v.len()));
        for cut in 0..n {
            assert_eq!(parse_header(&v[..cut]).unwrap(), None);
        }
    }
    assert_eq!(parse_header(&[0x83, 0]), Err(FrameError::ReservedOpcode(3)));
    assert_eq!(
        parse_header(&[0x82, 126, 0, 5]),
        Err(FrameError::BadLength),
        "non-minimal length"
    );
    assert_eq!(
        parse_header(&[0x82, 127, 0x80, 0, 0, 0, 0, 1, 0, 0]),
        Err(FrameError::BadLength)
    );
}

#[test]
fn mask_is_an_involution_at_any_offset() {
    let data: Vec<u8> = (0..100u8).collect();
    for off in 0..4 {
        let mut d = data.clone();
        apply_mask(&mut d, [9, 8, 7, 6], off);
        let expect: Vec<u8> = data
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ [9, 8, 7, 6][(i + off) % 4])
            .collect();
        assert_eq!(d, expect);
        apply_mask(&mut d, [9, 8, 7, 6], off);
        assert_eq!(d, data);
    }
}

#[test]
fn fragmented_message_with_interleaved_ping() {
    let mut s = server();
    let wire = [
        cframe(false, Opcode::Text, b"hel"),
        cframe(true, Opcode::Ping, b"pp"),
        cframe(false, Opcode::Continuation, b"lo "),
        cframe(true, Opcode::Continuation, "wörld".as_bytes()),
    ]
    .concat();
    s.handle_bytes(now(), &wire);
    assert_eq!(events(&mut s), vec![msg("hello wörld".as_bytes(), false)]);
    assert_eq!(
        outs(&mut s),
        vec![NetOutput::Send(vec![0x8a, 2, b'p', b'p'])],
        "pong echoes the ping"
    );
}

#[test]
fn protocol_errors_close_with_1002() {
    let cases: Vec<Vec<u8>> = vec![
        cframe(true, Opcode::Continuation, b"x"),
        [
            cframe(false, Opcode::Text, b"a"),
            cframe(true, Opcode::Binary, b"b"),
        ]
        .concat(),
        cframe(false, Opcode::Ping, b""),
        cframe(true, Opcode::Ping, &[0; 126]),
        {
            let mut f = cframe(true, Opcode::Text, b"x");
            f[0] |= 0x40;
            f
        },
        {
            let mut v = Vec::new();
            encode_frame(&mut v, true, Opcode::Text, b"x", None);
            v
        },
        vec![0x83, 0x80, 0, 0, 0, 0],
        cframe(true, Opcode::Close, &[3]),
        cframe(true, Opcode::Close, &1005u16.to_be_bytes()),
        cframe(true, Opcode::Close, &999u16.to_be_bytes()),
    ];
    for (i, c) in cases.iter().enumerate() {
        let mut s = server();
        s.handle_bytes(now(), c);
        let e = events(&mut s);
        assert!(closed_with(1002)(&e), "case {i}: {e:?}");
        let o = outs(&mut s);
        assert_eq!(o.last(), Some(&NetOutput::Close), "case {i}");
        assert!(s.is_closed());
    }
}

#[test]
fn bad_utf8_closes_with_1007_even_across_fragments() {
    let mut s = server();
    s.handle_bytes(now(), &cframe(true, Opcode::Text, &[0xce, 0xba, 0xff]));
    assert!(closed_with(1007)(&events(&mut s)));
    // A code point split across fragments is fine; an invalid byte in the first fragment
    // fails before the message ends.
    let mut s = server();
    s.handle_bytes(
        now(),
        &[
            cframe(false, Opcode::Text, &[0xce]),
            cframe(true, Opcode::Continuation, &[0xba]),
        ]
        .concat(),
    );
    assert_eq!(events(&mut s), vec![msg("κ".as_bytes(), false)]);
    let mut s = server();
    s.handle_bytes(now(), &cframe(false, Opcode::Text, &[0xff]));
    assert!(closed_with(1007)(&events(&mut s)));
    let mut s = server();
    s.handle_bytes(now(), &cframe(true, Opcode::Text, &[0xce]));
    assert!(
        closed_with(1007)(&events(&mut s)),
        "truncated code point at the end"
    );
    let mut s = server();
    let mut p = 1000u16.to_be_bytes().to_vec();
    p.push(0xff);
    s.handle_bytes(now(), &cframe(true, Opcode::Close, &p));
    assert!(closed_with(1007)(&events(&mut s)));
}

#[test]
fn too_big_closes_with_1009() {
    let mut s = server();
    s.handle_bytes(
        now(),
        &[
            cframe(false, Opcode::Binary, &vec![0; 100_000]),
            cframe(true, Opcode::Continuation, &vec![0; 40_000]),
        ]
        .concat(),
    );
    let e = events(&mut s);
    assert!(closed_with(1009)(&e), "{e:?}");
    // The check uses the header alone: no payload needs to arrive.
    let mut s = server();
    s.handle_bytes(now(), &[0x82, 0xff, 0, 0, 0, 0, 0x10, 0, 0, 0, 1, 2, 3, 4]);
    assert!(closed_with(1009)(&events(&mut s)));
}

#[test]
fn close_handshake_server_side() {
    let mut s = server();
    let mut p = 4000u16.to_be_bytes().to_vec();
    p.extend_from_slice(b"done");
    s.handle_bytes(now(), &cframe(true, Opcode::Close, &p));
    assert_eq!(
        events(&mut s),
        vec![WsEvent::Closed {
            code: Some(4000),
            reason: Some("done".into())
        }]
    );
    assert_eq!(
        outs(&mut s),
        vec![NetOutput::Send(vec![0x88, 2, 0x0f, 0xa0]), NetOutput::Close]
    );
    // Empty close: replied with an empty close; reason nil.
    let mut s = server();
    s.handle_bytes(now(), &cframe(true, Opcode::Close, b""));
    assert_eq!(
        events(&mut s),
        vec![WsEvent::Closed {
            code: None,
            reason: None
        }]
    );
    assert_eq!(outs(&mut s)[0], NetOutput::Send(vec![0x88, 0]));
}

#[test]
fn close_handshake_client_side_waits_for_server_tcp_close() {
    let mut c = WsSession::new(Role::Client, SplitMix64::new(1));
    let mut f = Vec::new();
    encode_frame(&mut f, true, Opcode::Close, &1000u16.to_be_bytes(), None);
    c.handle_bytes(now(), &f);
    let o = outs(&mut c);
    assert_eq!(o.len(), 1, "close reply only; the server closes TCP first");
    assert_eq!(c.poll_timeout(), Some(Instant::from_secs(5)));
    c.handle_timeout(Instant::from_secs(5));
    assert_eq!(outs(&mut c), vec![NetOutput::Close]);
}

#[test]
fn data_after_our_close_is_discarded() {
    let mut s = server();
    s.close(now(), 1000, "");
    let _ = outs(&mut s);
    s.handle_bytes(now(), &cframe(true, Opcode::Text, b"late"));
    assert!(events(&mut s).is_empty());
    assert!(s.send(b"x", false).is_err());
    s.handle_bytes(now(), &cframe(true, Opcode::Close, &1000u16.to_be_bytes()));
    assert_eq!(outs(&mut s), vec![NetOutput::Close]);
    assert!(events(&mut s).is_empty(), "no event for a close we started");
}

#[test]
fn close_codes() {
    for c in [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
    ] {
        assert!(valid_close_code(c), "{c}");
    }
    for c in [
        0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000,
    ] {
        assert!(!valid_close_code(c), "{c}");
    }
}

#[test]
fn client_masks_with_injected_randomness() {
    let mut a = WsSession::new(Role::Client, SplitMix64::new(5));
    let mut b = WsSession::new(Role::Client, SplitMix64::new(5));
    a.send(b"same", true).unwrap();
    b.send(b"same", true).unwrap();
    let (fa, fb) = (outs(&mut a), outs(&mut b));
    assert_eq!(fa, fb, "same seed, same bytes");
    let NetOutput::Send(f) = &fa[0] else { panic!() };
    let (h, n) = parse_header(f).unwrap().unwrap();
    let mut p = f[n..].to_vec();
    apply_mask(&mut p, h.mask.unwrap(), 0);
    assert_eq!(p, b"same");
}

proptest! {
    #[test]
    fn split_feeds_give_the_same_events(msgs in proptest::collection::vec((proptest::collection::vec(any::<u8>(), 0..300), any::<bool>(), 1usize..4), 1..5),
                                       cuts in proptest::collection::vec(1usize..50, 1..40)) {
        let mut wire = Vec::new();
        let mut expect = Vec::new();
        for (data, binary, parts) in &msgs {
            let data: Vec<u8> = if *binary { data.clone() } else { String::from_utf8_lossy(data).into_owned().into_bytes() };
            let chunk = data.len().div_ceil(*parts).max(1);
            let pieces: Vec<&[u8]> = if data.is_empty() { vec![&[][..]] } else { data.chunks(chunk).collect() };
            for (i, p) in pieces.iter().enumerate() {
                let op = if i > 0 { Opcode::Continuation } else if *binary { Opcode::Binary } else { Opcode::Text };
                wire.extend(cframe(i + 1 == pieces.len(), op, p));
            }
            expect.push(msg(&data, *binary));
        }
        let mut whole = server();
        whole.handle_bytes(now(), &wire);
        prop_assert_eq!(events(&mut whole), expect.clone());
        let mut split = server();
        let mut at = 0;
        for c in cuts.iter().cycle() {
            if at >= wire.len() { break; }
            let end = (at + c).min(wire.len());
            split.handle_bytes(now(), &wire[at..end]);
            at = end;
        }
        prop_assert_eq!(events(&mut split), expect);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut s = server();
        s.handle_bytes(now(), &data);
        let _ = events(&mut s);
        let _ = outs(&mut s);
        let mut c = WsSession::new(Role::Client, SplitMix64::new(1));
        c.handle_bytes(now(), &data);
        let _ = std::iter::from_fn(|| c.poll_event()).count();
    }
}
