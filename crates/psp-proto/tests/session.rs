//! Deterministic session tests in the style of smoltcp's socket tests: every segment we emit is
//! checked field by field.

mod common;

use std::time::Duration;

use psp_proto::config::{MAX_RTO, MIN_RTO};

use common::*;
use modem_value::{LuaStr, SplitMix64};
use psp_proto::{
    ChannelRequest, ControlKind, ControlReport, HandleStatus, PspError, PspEvent, Segment, State,
};

const CID: u64 = 1; // client handle
const SID: u64 = 7; // listen record / accepted connection
const LPORT: u16 = 50000; // client's ephemeral port
const SPORT: u16 = 80; // server port
const CPORT: u16 = 40000; // remote client's port
const URI: &str = "psp://0.0.0.0:80";

fn status_ev(id: u64, s: HandleStatus, e: Option<&str>) -> PspEvent {
    PspEvent::StatusChange {
        id,
        status: s,
        error: e.map(String::from),
    }
}

/// A connecting client (SYN out, SYN reported sent at t=0): ISS 1000.
fn connecting() -> Ep {
    connecting_with(psp_proto::PspConfig::default())
}

fn connecting_with(cfg: psp_proto::PspConfig) -> Ep {
    let mut ep = Ep::new(cfg);
    let mut rng = script(&[port_draw(LPORT), iss_draw(1000)]);
    let port = ep.connect(ms(0), &mut rng, CID, PEER, Some(SPORT)).unwrap();
    assert_eq!(port, LPORT);
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![Segment::syn(1001)]);
    assert_eq!(ep.status(CID), Some((HandleStatus::Connecting, None)));
    ep.handle_syn_sent(ms(0), CID, Ok(IF));
    assert_eq!(
        channels(&mut ep),
        vec![ChannelRequest::Open {
            interface: IF,
            channel: LPORT
        }]
    );
    ep
}

/// A connected client: ISS 1000, peer ISS 5000. Next send 1003, next expected 5002.
fn client() -> Ep {
    client_with(psp_proto::PspConfig::default())
}

fn phoenix_cfg() -> psp_proto::PspConfig {
    psp_proto::PspConfig {
        recovery: psp_proto::Recovery::Phoenix,
        ..Default::default()
    }
}

fn client_with(cfg: psp_proto::PspConfig) -> Ep {
    let mut ep = connecting_with(cfg);
    let mut rng = script(&[]);
    ep.handle_segment(
        ms(10),
        &mut rng,
        &ctx(LPORT, SPORT),
        &Segment::syn_ack(5001, 1002),
    );
    // The handshake ACK carries the next expected sequence (Phoenix's shape).
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![ack(1002, 5002)]);
    assert_eq!(
        events(&mut ep),
        vec![status_ev(CID, HandleStatus::Open, None)]
    );
    assert_eq!(ep.status(CID), Some((HandleStatus::Open, None)));
    assert_eq!(ep.local_ip(CID), Some(ME));
    ep
}

/// A listener on port 80 that received a SYN (peer ISS 7000, ours 3000): one handshake in its
/// backlog.
fn half_open() -> Ep {
    let mut ep = Ep::default();
    ep.listen(SID, URI, std::net::Ipv4Addr::UNSPECIFIED, Some(SPORT), [IF])
        .unwrap();
    assert_eq!(
        channels(&mut ep),
        vec![ChannelRequest::Open {
            interface: IF,
            channel: SPORT
        }]
    );
    assert_eq!(ep.state(SID), Some(State::Listening));
    let mut rng = script(&[iss_draw(3000)]);
    ep.handle_segment(ms(0), &mut rng, &ctx(SPORT, CPORT), &Segment::syn(7001));
    assert_eq!(
        segs(&mut ep, SPORT, CPORT),
        vec![Segment::syn_ack(3001, 7002)]
    );
    assert_eq!(ep.half_open_count(), 1);
    assert_eq!(
        ep.state(SID),
        Some(State::Listening),
        "the listen record stays until a handshake completes"
    );
    assert_eq!(ep.listener(SPORT), Some(SID));
    ep
}

/// An accepted connection: next send 3002, next expected 7003.
fn server() -> Ep {
    let mut ep = half_open();
    let mut rng = script(&[]);
    ep.handle_segment(ms(10), &mut rng, &ctx(SPORT, CPORT), &ack(7002, 3002));
    assert_eq!(segs(&mut ep, SPORT, CPORT), vec![]);
    assert_eq!(
        events(&mut ep),
        vec![PspEvent::NetworkRequest {
            uri: URI.into(),
            ip: PEER,
            handle: SID
        }]
    );
    assert_eq!(ep.state(SID), Some(State::Connected));
    assert_eq!(
        ep.listener(SPORT),
        None,
        "the listen record became the connection"
    );
    assert_eq!(ep.half_open_count(), 0);
    ep
}

fn feed(ep: &mut Ep, t: u64, local: u16, remote: u16, seg: Segment) {
    let mut rng = script(&[]);
    ep.handle_segment(ms(t), &mut rng, &ctx(local, remote), &seg);
}

#[test]
fn handshake_as_client_and_server() {
    let mut c = client();
    assert_eq!(
        c.poll_timeout(),
        None,
        "a trailing ACK-only is never re-sent"
    );
    let mut s = server();
    assert_eq!(s.poll_timeout(), None);
    assert_eq!(s.local_ip(SID), Some(ME));
    assert!(channels(&mut c).is_empty() && channels(&mut s).is_empty());
}

#[test]
fn data_both_ways_with_delayed_ack() {
    let mut ep = client();
    ep.write(ms(20), CID, LuaStr::from("hello")).unwrap();
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![data(1003, 5001, "hello")]);
    assert_eq!(ep.poll_timeout(), Some(ms(2020)), "retransmission armed");
    // The peer acknowledges and sends data in one message.
    feed(&mut ep, 30, LPORT, SPORT, data(5002, 1003, "world"));
    assert_eq!(events(&mut ep), vec![PspEvent::DataReady { id: CID }]);
    assert_eq!(read_all(&mut ep, CID), b"world");
    // Delayed ACK exactly 100 ms later (Q-PSP12).
    assert_eq!(ep.poll_timeout(), Some(ms(130)));
    ep.handle_timeout(ms(129));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![]);
    ep.handle_timeout(ms(130));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![ack(1004, 5002)]);
    assert_eq!(ep.poll_timeout(), None);
    // A write piggybacks the acknowledgement, cancelling the delayed ACK.
    feed(&mut ep, 200, LPORT, SPORT, data(5003, 1004, "again"));
    ep.write(ms(210), CID, LuaStr::from("x")).unwrap();
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![data(1005, 5003, "x")]);
    // The 10 ms round trip of "hello" was sampled: the timeout is RFC 6298's, at its floor.
    assert_eq!(ep.stats(CID).unwrap().srtt, Some(Duration::from_millis(10)));
    assert_eq!(ep.poll_timeout(), Some(ms(210) + MIN_RTO));
}

#[test]
fn out_of_order_segments_are_buffered_and_duplicates_re_acked() {
    let mut ep = server();
    feed(&mut ep, 20, SPORT, CPORT, data(7004, 3001, "b"));
    assert!(events(&mut ep).is_empty());
    assert_eq!(ep.stats(SID).unwrap().out_of_order, 1);
    feed(&mut ep, 21, SPORT, CPORT, data(7003, 3001, "a"));
    assert_eq!(read_all(&mut ep, SID), b"ab");
    assert_eq!(ep.stats(SID).unwrap().next_expected, 7005);
    // A duplicate is re-ACKed with the last in-order sequence (Q-PSP2), coalesced to `now`.
    feed(&mut ep, 30, SPORT, CPORT, data(7003, 3001, "a"));
    assert_eq!(ep.poll_timeout(), Some(ms(30)));
    ep.handle_timeout(ms(30));
    assert_eq!(segs(&mut ep, SPORT, CPORT), vec![ack(3002, 7004)]);
    assert_eq!(read_all(&mut ep, SID), b"");
}

#[test]
fn peer_window_is_honoured() {
    let mut ep = connecting();
    // A SYN-ACK advertising a window of 2 messages.
    let mut sa = Segment::syn_ack(5001, 1002);
    sa.window_size = Some(2);
    feed(&mut ep, 10, LPORT, SPORT, sa);
    let _ = segs(&mut ep, LPORT, SPORT);
    for w in ["a", "b", "c", "d"] {
        ep.write(ms(20), CID, LuaStr::from(w)).unwrap();
    }
    // Acked up to 1001, window 2: sequences up to 1003 may be sent; 1002 was the handshake ACK.
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![data(1003, 5001, "a")]);
    assert_eq!(ep.stats(CID).unwrap().pending_writes, 3);
    let mut a = ack(5002, 1003);
    a.window_size = Some(2);
    feed(&mut ep, 30, LPORT, SPORT, a);
    assert_eq!(
        segs(&mut ep, LPORT, SPORT),
        vec![data(1004, 5002, "b"), data(1005, 5002, "c")]
    );
}

/// Adaptive rule: RFC 6298 from Phoenix's initial 2 s (no sample yet; backoff is capped at the
/// same 2 s), each timeout
/// re-sending the first unacknowledged message (with the ACK-only message before it), and the
/// connection failing 18 s after the message first left, when Phoenix's 8 rounds give up.
#[test]
fn adaptive_retransmission_backs_off_then_times_out() {
    let mut ep = client();
    ep.write(ms(0), CID, LuaStr::from("p")).unwrap();
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![data(1003, 5001, "p")]);
    for t in (2000..=16000).step_by(2000) {
        assert_eq!(ep.poll_timeout(), Some(ms(t)));
        ep.handle_timeout(ms(t));
        assert_eq!(
            segs(&mut ep, LPORT, SPORT),
            vec![ack(1002, 5001), data(1003, 5001, "p")],
            "t={t}"
        );
    }
    assert_eq!(ep.stats(CID).unwrap().rto, MAX_RTO);
    assert_eq!(ep.poll_timeout(), Some(ms(18000)));
    ep.handle_timeout(ms(18000));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![]);
    assert_eq!(
        events(&mut ep),
        vec![status_ev(
            CID,
            HandleStatus::Error,
            Some("Connection timed out")
        )]
    );
    assert_eq!(ep.stats(CID).unwrap().timeouts, 8);
}

/// Adaptive rule, fast retransmit: three duplicate ACKs re-send only the first unacknowledged
/// message at once; the partial ACK that follows clocks out the next hole.
#[test]
fn three_duplicate_acks_repair_one_hole_each_round_trip() {
    let mut ep = client();
    for w in ["a", "b", "c", "d", "e", "f"] {
        ep.write(ms(0), CID, LuaStr::from(w)).unwrap();
    }
    assert_eq!(segs(&mut ep, LPORT, SPORT).len(), 6);
    // The peer got 1003 ("a"), lost 1004 ("b") and 1006 ("d"); it acknowledges 1003 with an
    // ACK-only message for every later arrival (1005, 1007, 1008).
    feed(&mut ep, 100, LPORT, SPORT, ack(5002, 1003));
    feed(&mut ep, 101, LPORT, SPORT, ack(5003, 1003));
    feed(&mut ep, 102, LPORT, SPORT, ack(5004, 1003));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![]);
    feed(&mut ep, 103, LPORT, SPORT, ack(5005, 1003));
    // (Re-sent while the triggering message is processed, so it acknowledges the one before.)
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![data(1004, 5004, "b")]);
    assert_eq!(ep.stats(CID).unwrap().fast_retransmits, 1);
    // "b" fills the hole: the peer acknowledges up to 1005, showing it kept "c".
    feed(&mut ep, 200, LPORT, SPORT, ack(5006, 1005));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![data(1006, 5005, "d")]);
    feed(&mut ep, 300, LPORT, SPORT, ack(5007, 1008));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![]);
    assert_eq!(ep.stats(CID).unwrap().unacked, 0);
    assert_eq!(ep.stats(CID).unwrap().retransmitted, 2);
    assert_eq!(
        ep.poll_timeout(),
        None,
        "nothing outstanding, nothing armed"
    );
}

#[test]
fn retransmission_after_loss_then_timeout() {
    let mut ep = client_with(phoenix_cfg());
    ep.write(ms(0), CID, LuaStr::from("p")).unwrap();
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![data(1003, 5001, "p")]);
    // The handshake ACK precedes a payload message, so it is re-sent with it (Q-PSP1 a).
    for round in 1..=8u64 {
        let t = round * 2000;
        assert_eq!(ep.poll_timeout(), Some(ms(t)));
        ep.handle_timeout(ms(t));
        assert_eq!(
            segs(&mut ep, LPORT, SPORT),
            vec![ack(1002, 5001), data(1003, 5001, "p")],
            "round {round}"
        );
    }
    ep.handle_timeout(ms(18000));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![]);
    assert_eq!(
        events(&mut ep),
        vec![status_ev(
            CID,
            HandleStatus::Error,
            Some("Connection timed out")
        )]
    );
    assert_eq!(
        ep.status(CID),
        Some((HandleStatus::Error, Some("Connection timed out")))
    );
    assert_eq!(
        channels(&mut ep),
        vec![ChannelRequest::Close {
            interface: IF,
            channel: LPORT
        }]
    );
}

#[test]
fn ack_releases_and_resets_retransmission() {
    let mut ep = client();
    ep.write(ms(0), CID, LuaStr::from("p")).unwrap();
    let _ = segs(&mut ep, LPORT, SPORT);
    ep.handle_timeout(ms(2000));
    assert_eq!(segs(&mut ep, LPORT, SPORT).len(), 2);
    feed(&mut ep, 2500, LPORT, SPORT, ack(5002, 1003));
    assert_eq!(ep.stats(CID).unwrap().unacked, 0);
    assert_eq!(ep.poll_timeout(), None);
}

#[test]
fn we_close_first_then_time_wait_expires() {
    let mut ep = client();
    ep.close(ms(0), CID).unwrap();
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![Segment::fin(1003, 5001)]);
    assert_eq!(ep.state(CID), Some(State::FinWait));
    assert_eq!(ep.status(CID), Some((HandleStatus::Closed, None)));
    assert_eq!(
        ep.write(ms(0), CID, LuaStr::from("x")),
        Err(PspError::CannotWrite("fin-wait"))
    );
    ep.close(ms(0), CID).unwrap(); // no-op in fin-wait
                                   // Phoenix's combined FIN+ACK.
    feed(&mut ep, 50, LPORT, SPORT, Segment::fin(5002, 1003));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![ack(1004, 5002)]);
    assert_eq!(ep.state(CID), Some(State::TimeWait));
    assert!(events(&mut ep).is_empty());
    // A re-sent FIN is re-ACKed and restarts time-wait.
    feed(&mut ep, 3000, LPORT, SPORT, Segment::fin(5002, 1003));
    ep.handle_timeout(ms(3000));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![ack(1005, 5002)]);
    assert_eq!(ep.poll_timeout(), Some(ms(13000)));
    ep.handle_timeout(ms(12999));
    assert_eq!(ep.state(CID), Some(State::TimeWait));
    ep.handle_timeout(ms(13000));
    assert_eq!(ep.state(CID), Some(State::Closed));
    assert_eq!(
        channels(&mut ep),
        vec![ChannelRequest::Close {
            interface: IF,
            channel: LPORT
        }]
    );
    assert!(events(&mut ep).is_empty());
    // The port is free again: a segment for it now gets the unknown-socket RST.
    feed(&mut ep, 13001, LPORT, SPORT, ack(5003, 1004));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![Segment::rst(1004, None)]);
}

#[test]
fn peer_closes_first_half_close_then_full_close() {
    let mut ep = server();
    feed(&mut ep, 20, SPORT, CPORT, data(7003, 3001, "last words"));
    let _ = events(&mut ep);
    feed(&mut ep, 30, SPORT, CPORT, Segment::fin(7004, 3001));
    // Our FIN is combined with the ACK of theirs, at once.
    assert_eq!(segs(&mut ep, SPORT, CPORT), vec![Segment::fin(3002, 7004)]);
    assert_eq!(
        events(&mut ep),
        vec![status_ev(SID, HandleStatus::Closed, None)]
    );
    assert_eq!(ep.state(SID), Some(State::CloseWait));
    // Half-closed: buffered data is still readable, status stays open until it is read.
    assert_eq!(ep.status(SID), Some((HandleStatus::Open, None)));
    assert_eq!(ep.check_read(SID), Ok(()));
    assert_eq!(
        ep.write(ms(31), SID, LuaStr::from("no")),
        Err(PspError::CannotWrite("close-wait"))
    );
    assert_eq!(
        ep.close(ms(31), SID),
        Err(PspError::CannotClose("close-wait"))
    );
    assert_eq!(read_all(&mut ep, SID), b"last words");
    assert_eq!(ep.status(SID), Some((HandleStatus::Closed, None)));
    // The peer's final ACK (its own new sequence, acknowledging our FIN).
    feed(&mut ep, 40, SPORT, CPORT, ack(7005, 3002));
    assert_eq!(ep.state(SID), Some(State::Closed));
    assert_eq!(
        events(&mut ep),
        vec![status_ev(SID, HandleStatus::Closed, None)]
    );
    assert_eq!(
        channels(&mut ep),
        vec![ChannelRequest::Close {
            interface: IF,
            channel: SPORT
        }]
    );
    assert_eq!(ep.check_read(SID), Ok(()));
}

#[test]
fn fin_is_re_sent_then_close_is_forced() {
    let mut ep = server();
    feed(&mut ep, 0, SPORT, CPORT, Segment::fin(7003, 3001));
    assert_eq!(segs(&mut ep, SPORT, CPORT), vec![Segment::fin(3002, 7003)]);
    let _ = events(&mut ep);
    for t in [2000, 4000, 6000] {
        ep.handle_timeout(ms(t));
        assert_eq!(
            segs(&mut ep, SPORT, CPORT),
            vec![Segment::fin(3002, 7003)],
            "t={t}"
        );
    }
    ep.handle_timeout(ms(8000));
    assert_eq!(segs(&mut ep, SPORT, CPORT), vec![]);
    assert_eq!(ep.state(SID), Some(State::Closed));
    assert_eq!(
        events(&mut ep),
        vec![status_ev(SID, HandleStatus::Closed, None)]
    );
}

#[test]
fn simultaneous_close() {
    let mut ep = client();
    ep.close(ms(0), CID).unwrap();
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![Segment::fin(1003, 5001)]);
    // Their FIN crosses ours: it does not acknowledge our FIN.
    feed(&mut ep, 10, LPORT, SPORT, Segment::fin(5002, 1002));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![ack(1004, 5002)]);
    assert_eq!(ep.state(CID), Some(State::Closing));
    // Their ACK of our FIN (Phoenix sends it with the next sequence).
    feed(&mut ep, 20, LPORT, SPORT, ack(5003, 1003));
    assert_eq!(ep.state(CID), Some(State::TimeWait));
    assert!(segs(&mut ep, LPORT, SPORT).is_empty());
    ep.handle_timeout(ms(10020));
    assert_eq!(ep.state(CID), Some(State::Closed));
}

#[test]
fn fin_wait_waits_for_the_fin_after_an_early_ack() {
    let mut ep = client();
    ep.close(ms(0), CID).unwrap();
    let _ = segs(&mut ep, LPORT, SPORT);
    feed(&mut ep, 10, LPORT, SPORT, ack(5002, 1003));
    assert_eq!(ep.state(CID), Some(State::FinWait));
    assert!(
        segs(&mut ep, LPORT, SPORT).is_empty(),
        "no RST (deviation from Phoenix)"
    );
    feed(&mut ep, 20, LPORT, SPORT, Segment::fin(5003, 1003));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![ack(1004, 5003)]);
    assert_eq!(ep.state(CID), Some(State::TimeWait));
    // Without the FIN the wait is bounded.
    let mut ep = client();
    ep.close(ms(0), CID).unwrap();
    feed(&mut ep, 10, LPORT, SPORT, ack(5002, 1003));
    ep.handle_timeout(ms(6010));
    assert_eq!(ep.state(CID), Some(State::Closed));
}

#[test]
fn rst_in_every_state() {
    // listening: ignored.
    let mut ep = Ep::default();
    ep.listen(SID, URI, std::net::Ipv4Addr::UNSPECIFIED, Some(SPORT), [IF])
        .unwrap();
    feed(&mut ep, 0, SPORT, CPORT, Segment::rst(5, None));
    assert_eq!(ep.state(SID), Some(State::Listening));
    assert!(segs(&mut ep, SPORT, CPORT).is_empty());

    // syn-sent: refused.
    let mut ep = connecting();
    feed(&mut ep, 10, LPORT, SPORT, Segment::rst(0, Some(1002)));
    assert_eq!(
        events(&mut ep),
        vec![status_ev(
            CID,
            HandleStatus::Error,
            Some("Connection refused")
        )]
    );
    assert_eq!(
        ep.status(CID),
        Some((HandleStatus::Error, Some("Connection refused")))
    );

    // syn-received: the listener is restored (Q-PSP5), with its id, URI and channel.
    let mut ep = half_open();
    feed(&mut ep, 10, SPORT, CPORT, Segment::rst(7002, None));
    assert_eq!(ep.state(SID), Some(State::Listening));
    assert_eq!(ep.listener(SPORT), Some(SID));
    assert!(events(&mut ep).is_empty() && channels(&mut ep).is_empty());
    assert_eq!(ep.half_open_count(), 0);

    // connected and fin-wait: reset by peer.
    for close_first in [false, true] {
        let mut ep = client();
        if close_first {
            ep.close(ms(0), CID).unwrap();
        }
        feed(&mut ep, 10, LPORT, SPORT, Segment::rst(5002, None));
        assert_eq!(
            events(&mut ep),
            vec![status_ev(
                CID,
                HandleStatus::Error,
                Some("Connection reset by peer")
            )]
        );
        assert_eq!(ep.state(CID), Some(State::Error));
        assert_eq!(channels(&mut ep).len(), 1);
    }
    // An old RST (Phoenix's unknown-socket RST carries our old acknowledgement) too.
    let mut ep = client();
    feed(&mut ep, 10, LPORT, SPORT, Segment::rst(1002, None));
    assert_eq!(ep.state(CID), Some(State::Error));

    // closing, close-wait, time-wait: closed.
    let mut closing = client();
    closing.close(ms(0), CID).unwrap();
    feed(&mut closing, 10, LPORT, SPORT, Segment::fin(5002, 1002));
    let mut close_wait = client();
    feed(&mut close_wait, 10, LPORT, SPORT, Segment::fin(5002, 1002));
    let mut time_wait = client();
    time_wait.close(ms(0), CID).unwrap();
    feed(&mut time_wait, 10, LPORT, SPORT, Segment::fin(5002, 1003));
    for (mut ep, st) in [
        (closing, State::Closing),
        (close_wait, State::CloseWait),
        (time_wait, State::TimeWait),
    ] {
        assert_eq!(ep.state(CID), Some(st));
        let _ = events(&mut ep);
        feed(&mut ep, 20, LPORT, SPORT, Segment::rst(5003, None));
        assert_eq!(ep.state(CID), Some(State::Closed), "from {st:?}");
        assert_eq!(
            events(&mut ep),
            vec![status_ev(CID, HandleStatus::Closed, None)]
        );
    }
}

#[test]
fn syn_sent_timeout_with_one_syn_resend() {
    let mut ep = connecting();
    assert_eq!(ep.poll_timeout(), Some(ms(2000)));
    ep.handle_timeout(ms(2000));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![Segment::syn(1001)]);
    assert_eq!(ep.poll_timeout(), Some(ms(5000)));
    ep.handle_timeout(ms(4999));
    assert!(events(&mut ep).is_empty());
    ep.handle_timeout(ms(5000));
    assert_eq!(
        events(&mut ep),
        vec![status_ev(
            CID,
            HandleStatus::Error,
            Some("Connection timed out (syn-sent)")
        )]
    );
    assert_eq!(channels(&mut ep).len(), 1);
    assert_eq!(ep.poll_timeout(), None);
}

#[test]
fn syn_received_timeout_restores_listener_or_errors() {
    let mut ep = half_open();
    for t in [5000, 7000, 9000] {
        assert_eq!(ep.poll_timeout(), Some(ms(t)));
        ep.handle_timeout(ms(t));
        assert_eq!(
            segs(&mut ep, SPORT, CPORT),
            vec![Segment::syn_ack(3001, 7002)],
            "t={t}"
        );
    }
    ep.handle_timeout(ms(11000));
    assert!(segs(&mut ep, SPORT, CPORT).is_empty());
    assert_eq!(ep.listener(SPORT), Some(SID));
    assert!(events(&mut ep).is_empty());
    assert_eq!(ep.half_open_count(), 0);
    assert_eq!(ep.poll_timeout(), None);
    // The listen record never left, so the port cannot be listened on twice meanwhile; closing
    // it resets the handshake in its backlog and leaves nothing behind.
    let mut ep = half_open();
    assert_eq!(
        ep.listen(8, URI, std::net::Ipv4Addr::UNSPECIFIED, Some(SPORT), [IF]),
        Err(psp_proto::PspError::PortAlreadyOpen)
    );
    ep.close(ms(100), SID).unwrap();
    assert_eq!(segs(&mut ep, SPORT, CPORT), vec![Segment::rst(3002, None)]);
    assert_eq!(
        channels(&mut ep),
        vec![ChannelRequest::Close {
            interface: IF,
            channel: SPORT
        }]
    );
    assert_eq!((ep.half_open_count(), ep.connection_count()), (0, 0));
    assert_eq!(ep.poll_timeout(), None);
    assert!(events(&mut ep).is_empty());
}

#[test]
fn duplicate_syn_in_syn_received_resends_syn_ack() {
    let mut ep = half_open();
    feed(&mut ep, 100, SPORT, CPORT, Segment::syn(7001));
    assert_eq!(
        segs(&mut ep, SPORT, CPORT),
        vec![Segment::syn_ack(3001, 7002)]
    );
    assert_eq!(ep.half_open_count(), 1);
}

#[test]
fn bad_ack_in_syn_received_is_reset() {
    let mut ep = half_open();
    feed(&mut ep, 10, SPORT, CPORT, ack(7002, 9999));
    assert_eq!(segs(&mut ep, SPORT, CPORT), vec![Segment::rst(9999, None)]);
    assert_eq!(ep.listener(SPORT), Some(SID));
}

#[test]
fn syn_on_connected_socket_resets() {
    let mut ep = server();
    feed(&mut ep, 10, SPORT, CPORT, Segment::syn(9000));
    assert_eq!(segs(&mut ep, SPORT, CPORT), vec![Segment::rst(0, None)]);
    assert_eq!(
        events(&mut ep),
        vec![status_ev(
            SID,
            HandleStatus::Error,
            Some("Connection reset by host")
        )]
    );
}

#[test]
fn bad_syn_ack_is_refused() {
    let mut ep = connecting();
    feed(&mut ep, 10, LPORT, SPORT, ack(5001, 1002)); // not a SYN
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![Segment::rst(1002, None)]);
    assert_eq!(
        ep.status(CID),
        Some((HandleStatus::Error, Some("Connection refused")))
    );
}

#[test]
fn unknown_sockets_get_rst_statelessly() {
    let mut ep = Ep::default();
    let mut rng = SplitMix64::new(1);
    ep.handle_segment(ms(0), &mut rng, &ctx(1234, 999), &ack(50, 77));
    assert_eq!(segs(&mut ep, 1234, 999), vec![Segment::rst(77, None)]);
    ep.handle_segment(ms(0), &mut rng, &ctx(1234, 999), &Segment::syn(50));
    assert_eq!(segs(&mut ep, 1234, 999), vec![Segment::rst(0, Some(306))]);
    // Never a RST to a RST, nothing on port 0.
    ep.handle_segment(ms(0), &mut rng, &ctx(1234, 999), &Segment::rst(1, None));
    ep.handle_segment(ms(0), &mut rng, &ctx(0, 999), &Segment::syn(50));
    ep.handle_segment(ms(0), &mut rng, &ctx(1234, 0), &Segment::syn(50));
    assert!(sent(&mut ep).is_empty());
    assert_eq!(ep.connection_count(), 0);
    // A listener answers non-SYNs carrying an acknowledgement with RST and stays.
    ep.listen(SID, URI, std::net::Ipv4Addr::UNSPECIFIED, Some(SPORT), [IF])
        .unwrap();
    ep.handle_segment(ms(0), &mut rng, &ctx(SPORT, CPORT), &ack(1, 2));
    assert_eq!(segs(&mut ep, SPORT, CPORT), vec![Segment::rst(2, None)]);
    assert_eq!(ep.state(SID), Some(State::Listening));
}

/// Spoofed SYNs cannot hold a listener: its backlog keeps the newest `LISTEN_BACKLOG`
/// handshakes, a genuine client still connects, and the listener stays one-shot for the program
/// (the first completed handshake is its connection, the others are reset).
#[test]
fn syn_flood_cannot_hold_a_listener() {
    use psp_proto::config::LISTEN_BACKLOG;
    let mut ep = Ep::default();
    ep.listen(SID, URI, std::net::Ipv4Addr::UNSPECIFIED, Some(SPORT), [IF])
        .unwrap();
    let _ = channels(&mut ep);
    let mut rng = SplitMix64::new(9);
    for p in 1..=2000u16 {
        ep.handle_segment(ms(0), &mut rng, &ctx(SPORT, p), &Segment::syn(u64::from(p)));
    }
    assert_eq!(ep.connection_count(), 0);
    assert_eq!(ep.half_open_count(), LISTEN_BACKLOG);
    let out = sent(&mut ep);
    assert_eq!(out.len(), 2000);
    assert!(
        out.iter().all(|(_, s)| s.synchronize && !s.reset),
        "every SYN is answered"
    );
    assert_eq!(ep.state(SID), Some(State::Listening));
    assert!(events(&mut ep).is_empty());

    // A genuine client (port CPORT) completes its handshake during the flood.
    let mut rng = script(&[iss_draw(3000)]);
    ep.handle_segment(ms(50), &mut rng, &ctx(SPORT, CPORT), &Segment::syn(7001));
    assert_eq!(
        segs(&mut ep, SPORT, CPORT),
        vec![Segment::syn_ack(3001, 7002)]
    );
    feed(&mut ep, 60, SPORT, CPORT, ack(7002, 3002));
    assert_eq!(
        events(&mut ep),
        vec![PspEvent::NetworkRequest {
            uri: URI.into(),
            ip: PEER,
            handle: SID
        }]
    );
    assert_eq!(ep.state(SID), Some(State::Connected));
    assert_eq!(ep.listener(SPORT), None, "one connection per listen");
    let resets = sent(&mut ep);
    assert_eq!(resets.len(), LISTEN_BACKLOG - 1);
    assert!(resets.iter().all(|(t, s)| s.reset && t.out_port != CPORT));
    assert_eq!(ep.half_open_count(), 0);
    assert!(channels(&mut ep).is_empty(), "the connection took the port");
    // A late ACK of a spoofed handshake finds no listener: RST, no state.
    feed(&mut ep, 70, SPORT, 1999, ack(2000, 5));
    assert!(sent(&mut ep)[0].1.reset);
    assert_eq!(ep.connection_count(), 1);
}

#[test]
fn demux_by_remote_ip_and_port() {
    let mut ep = server();
    // Same remote port, other IP: not this connection (Q-PSP13) — no listener either → RST.
    let mut rng = script(&[]);
    let mut other = ctx(SPORT, CPORT);
    other.source_ip = std::net::Ipv4Addr::new(10, 0, 0, 3);
    ep.handle_segment(ms(10), &mut rng, &other, &data(7003, 3001, "x"));
    let out = sent(&mut ep);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0.dst_ip, other.source_ip);
    assert_eq!(out[0].1, Segment::rst(3001, None));
    assert_eq!(read_all(&mut ep, SID), b"");
    // A second connection on the same port after re-listening.
    ep.listen(8, URI, std::net::Ipv4Addr::UNSPECIFIED, Some(SPORT), [IF])
        .unwrap();
    let mut rng = script(&[iss_draw(4000)]);
    ep.handle_segment(ms(20), &mut rng, &other, &Segment::syn(100));
    assert_eq!(sent(&mut ep)[0].1, Segment::syn_ack(4001, 101));
    assert_eq!(ep.state(8), Some(State::Listening));
    assert_eq!(ep.half_open_count(), 1);
    assert_eq!(ep.state(SID), Some(State::Connected));
}

#[test]
fn listen_and_connect_errors() {
    let mut ep = Ep::default();
    let any = std::net::Ipv4Addr::UNSPECIFIED;
    assert_eq!(
        ep.listen(1, "psp://0.0.0.0", any, None, [IF]),
        Err(PspError::MissingPort)
    );
    assert_eq!(PspError::MissingPort.to_string(), "Missing port");
    assert_eq!(
        ep.listen(1, URI, any, Some(0), [IF]),
        Err(PspError::InvalidPort)
    );
    ep.listen(1, URI, any, Some(SPORT), [IF]).unwrap();
    assert_eq!(
        ep.listen(2, URI, any, Some(SPORT), [IF]),
        Err(PspError::PortAlreadyOpen)
    );
    assert_eq!(PspError::PortAlreadyOpen.to_string(), "Port already open");
    let mut rng = SplitMix64::new(1);
    assert_eq!(
        ep.connect(ms(0), &mut rng, 3, PEER, None),
        Err(PspError::NoPortSpecified)
    );
    assert_eq!(PspError::NoPortSpecified.to_string(), "No port specified");
    assert_eq!(
        ep.connect(ms(0), &mut rng, 3, PEER, Some(0)),
        Err(PspError::InvalidPort)
    );
    assert_eq!(
        ep.connect(ms(0), &mut rng, 1, PEER, Some(5)),
        Err(PspError::DuplicateId)
    );
    // Every draw lands on a port in use.
    ep.listen(4, "psp://0.0.0.0:50000", any, Some(LPORT), [IF])
        .unwrap();
    let mut rng = script(&vec![port_draw(LPORT); 16384]);
    assert_eq!(
        ep.connect(ms(0), &mut rng, 3, PEER, Some(5)),
        Err(PspError::TooManyOpenSockets)
    );
    assert_eq!(
        PspError::TooManyOpenSockets.to_string(),
        "Too many open sockets"
    );
    // unlisten releases the channel; a second unlisten is silent (Q-PSP11).
    let _ = channels(&mut ep);
    assert_eq!(ep.unlisten(SPORT), Some(1));
    assert_eq!(
        channels(&mut ep),
        vec![ChannelRequest::Close {
            interface: IF,
            channel: SPORT
        }]
    );
    assert_eq!(ep.unlisten(SPORT), None);
    assert_eq!(ep.check_read(4), Err(PspError::CannotRead("listening")));
}

#[test]
fn control_messages_only_fail_the_socket_they_concern() {
    let mut ep = connecting();
    let pong = ControlReport {
        kind: ControlKind::Pong,
        error: None,
        destination: Some(PEER),
    };
    ep.handle_control(&pong);
    let other = ControlReport {
        kind: ControlKind::Unreachable,
        error: Some("No route to host".into()),
        destination: Some(std::net::Ipv4Addr::new(9, 9, 9, 9)),
    };
    ep.handle_control(&other);
    assert_eq!(ep.state(CID), Some(State::SynSent));
    let hit = ControlReport {
        destination: Some(PEER),
        ..other
    };
    ep.handle_control(&hit);
    assert_eq!(
        events(&mut ep),
        vec![status_ev(
            CID,
            HandleStatus::Error,
            Some("No route to host")
        )]
    );
    // A connected socket is never failed by control messages.
    let mut ep = client();
    ep.handle_control(&hit);
    assert_eq!(ep.state(CID), Some(State::Connected));
}

#[test]
fn syn_send_failure_and_channel_failure() {
    let mut ep = Ep::default();
    let mut rng = script(&[port_draw(LPORT), iss_draw(1000)]);
    ep.connect(ms(0), &mut rng, CID, PEER, Some(SPORT)).unwrap();
    let _ = sent(&mut ep);
    ep.handle_syn_sent(ms(0), CID, Err("Network is down"));
    assert_eq!(
        events(&mut ep),
        vec![status_ev(CID, HandleStatus::Error, Some("Network is down"))]
    );
    assert!(channels(&mut ep).is_empty(), "no channel was opened");

    let mut ep = connecting();
    ep.handle_channel_failed(&IF, LPORT, "Too many open channels");
    assert_eq!(
        segs(&mut ep, LPORT, SPORT),
        vec![Segment::rst_port_failed(1002)]
    );
    assert_eq!(
        events(&mut ep),
        vec![status_ev(
            CID,
            HandleStatus::Error,
            Some("Too many open channels")
        )]
    );
    assert!(
        channels(&mut ep).is_empty(),
        "the failed open owes no close"
    );
}

#[test]
fn syn_sent_close_resets_and_time_wait_purge() {
    let mut ep = connecting();
    ep.close(ms(1), CID).unwrap();
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![Segment::rst(1002, None)]);
    assert_eq!(ep.state(CID), Some(State::Closed));
    assert_eq!(channels(&mut ep).len(), 1);

    let mut ep = client();
    ep.close(ms(0), CID).unwrap();
    feed(&mut ep, 10, LPORT, SPORT, Segment::fin(5002, 1003));
    assert_eq!(ep.reap_time_wait(), 1);
    assert_eq!(ep.state(CID), Some(State::Closed));
    assert!(ep.release(CID));
    assert_eq!(ep.connection_count(), 0);
}

#[test]
fn gap_of_a_lost_phoenix_ack_only_is_skipped() {
    // As server: the Phoenix client's handshake ACK (7002) is lost; its data at 7003 is
    // re-sent every 2 s and never the ACK-only.
    let mut ep = half_open();
    feed(&mut ep, 10, SPORT, CPORT, data(7003, 3002, "hi"));
    assert_eq!(
        ep.state(SID),
        Some(State::Connected),
        "the ack completes the handshake"
    );
    let _ = events(&mut ep);
    assert_eq!(read_all(&mut ep, SID), b"");
    feed(&mut ep, 2010, SPORT, CPORT, data(7003, 3002, "hi"));
    assert_eq!(read_all(&mut ep, SID), b"");
    feed(&mut ep, 4010, SPORT, CPORT, data(7003, 3002, "hi"));
    assert_eq!(read_all(&mut ep, SID), b"hi");
    assert_eq!(ep.stats(SID).unwrap().next_expected, 7004);
}

#[test]
fn gap_is_kept_when_skipping_is_off() {
    let mut ep = Ep::new(psp_proto::PspConfig {
        skip_stalled_gaps: false,
        ..Default::default()
    });
    ep.listen(SID, URI, std::net::Ipv4Addr::UNSPECIFIED, Some(SPORT), [IF])
        .unwrap();
    let mut rng = script(&[iss_draw(3000)]);
    ep.handle_segment(ms(0), &mut rng, &ctx(SPORT, CPORT), &Segment::syn(7001));
    for t in [10, 2010, 4010, 6010] {
        feed(&mut ep, t, SPORT, CPORT, data(7003, 3002, "hi"));
    }
    assert_eq!(read_all(&mut ep, SID), b"");
    feed(&mut ep, 6020, SPORT, CPORT, ack(7002, 3002));
    assert_eq!(read_all(&mut ep, SID), b"hi");
}

#[test]
fn reordered_handshake_ack_does_not_acknowledge_our_first_data() {
    // The client's data overtakes its handshake ACK; that ACK says "next expected" = 3002,
    // which is by then the sequence of our first data message.
    let mut ep = half_open();
    feed(&mut ep, 10, SPORT, CPORT, data(7003, 3001, "a"));
    assert_eq!(ep.state(SID), Some(State::Connected));
    ep.write(ms(11), SID, LuaStr::from("x")).unwrap();
    assert_eq!(segs(&mut ep, SPORT, CPORT), vec![data(3002, 7001, "x")]);
    feed(&mut ep, 12, SPORT, CPORT, ack(7002, 3002));
    assert_eq!(read_all(&mut ep, SID), b"a");
    assert_eq!(
        ep.stats(SID).unwrap().unacked,
        1,
        "3002 is still unacknowledged"
    );
}

#[test]
fn fin_overtaken_by_a_later_segment_is_still_processed() {
    let mut ep = client();
    ep.close(ms(0), CID).unwrap();
    let _ = segs(&mut ep, LPORT, SPORT);
    // The peer's ACK-only after its FIN+ACK arrives first.
    feed(&mut ep, 10, LPORT, SPORT, ack(5003, 1003));
    assert_eq!(ep.state(CID), Some(State::FinWait));
    feed(&mut ep, 20, LPORT, SPORT, Segment::fin(5002, 1003));
    assert_eq!(ep.state(CID), Some(State::TimeWait));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![ack(1004, 5002)]);
}

#[test]
fn error_status_waits_for_buffered_data() {
    let mut ep = client();
    feed(&mut ep, 10, LPORT, SPORT, data(5002, 1002, "unread"));
    feed(&mut ep, 20, LPORT, SPORT, Segment::rst(5003, None));
    assert_eq!(ep.state(CID), Some(State::Error));
    // [K] checks the buffer first: open while undelivered data remains, then the error.
    assert_eq!(ep.status(CID), Some((HandleStatus::Open, None)));
    assert_eq!(ep.check_read(CID), Err(PspError::CannotRead("error")));
    ep.recv_buffer(CID).unwrap().clear();
    assert_eq!(
        ep.status(CID),
        Some((HandleStatus::Error, Some("Connection reset by peer")))
    );
    assert_eq!(ep.close(ms(30), CID), Err(PspError::CannotClose("error")));
}

#[test]
fn half_open_connections_are_capped_across_listeners() {
    use psp_proto::config::MAX_HALF_OPEN;
    let mut ep = Ep::default();
    let any = std::net::Ipv4Addr::UNSPECIFIED;
    let mut rng = SplitMix64::new(4);
    for i in 0..=MAX_HALF_OPEN as u16 {
        let port = 1000 + i;
        ep.listen(u64::from(port), "psp://0.0.0.0", any, Some(port), [IF])
            .unwrap();
        ep.handle_segment(ms(0), &mut rng, &ctx(port, CPORT), &Segment::syn(1));
    }
    assert_eq!(ep.half_open_count(), MAX_HALF_OPEN);
    let last = 1000 + MAX_HALF_OPEN as u16;
    assert_eq!(
        ep.state(u64::from(last)),
        Some(State::Listening),
        "the extra SYN was refused"
    );
    let out = sent(&mut ep);
    assert_eq!(out.last().unwrap().1, Segment::rst(0, Some(257)));
}
