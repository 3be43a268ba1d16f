//! Selective acknowledgements (`PspConfig::selective_ack`): the handshake offer, the receiver's
//! report, the sender's repair. Every segment is checked field by field, as in `session.rs`.

mod common;

use common::*;
use modem_value::{LuaStr, WireMessage};
use psp_proto::{PspConfig, Recovery, SackBlocks, Segment};

const CID: u64 = 1;
const SID: u64 = 7;
const LPORT: u16 = 50000;
const SPORT: u16 = 80;
const CPORT: u16 = 40000;
const URI: &str = "psp://0.0.0.0:80";

fn sack_cfg() -> PspConfig {
    PspConfig {
        selective_ack: true,
        ..PspConfig::default()
    }
}

fn syn_offering(seq: u64) -> Segment {
    let mut s = Segment::syn(seq);
    s.sack_permitted = true;
    s
}

fn syn_ack_offering(seq: u64, ack: u64) -> Segment {
    let mut s = Segment::syn_ack(seq, ack);
    s.sack_permitted = true;
    s
}

fn with_sack(mut s: Segment, ranges: &[(u64, u64)]) -> Segment {
    s.sack = SackBlocks::from_ranges(ranges.to_vec());
    s
}

/// A client configured with `cfg`, connected to a peer whose SYN-ACK is `syn_ack` (ISS 1000,
/// peer ISS 5000: next send 1003, next expected 5002). Returns the SYN it sent.
fn client(cfg: PspConfig, syn_ack: Segment) -> (Ep, Segment) {
    let mut ep = Ep::new(cfg);
    let mut rng = script(&[port_draw(LPORT), iss_draw(1000)]);
    ep.connect(ms(0), &mut rng, CID, PEER, Some(SPORT)).unwrap();
    let syn = segs(&mut ep, LPORT, SPORT).remove(0);
    ep.handle_syn_sent(ms(0), CID, Ok(IF));
    let _ = channels(&mut ep);
    ep.handle_segment(ms(10), &mut script(&[]), &ctx(LPORT, SPORT), &syn_ack);
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![ack(1002, 5002)]);
    let _ = events(&mut ep);
    (ep, syn)
}

/// A listener configured with `cfg` answering `syn` (peer ISS 7000, ours 3000); the SYN-ACK.
fn answer(cfg: PspConfig, syn: Segment) -> Segment {
    let mut ep = Ep::new(cfg);
    ep.listen(SID, URI, std::net::Ipv4Addr::UNSPECIFIED, Some(SPORT), [IF])
        .unwrap();
    ep.handle_segment(
        ms(0),
        &mut script(&[iss_draw(3000)]),
        &ctx(SPORT, CPORT),
        &syn,
    );
    segs(&mut ep, SPORT, CPORT).remove(0)
}

/// The offer rides on the SYN and is answered on the SYN-ACK only when both sides want it
/// (RFC 2018 §2's SACK-permitted, as a field). Without it every shape is Phoenix's (§10.2).
#[test]
fn the_offer_is_made_and_answered_only_when_both_sides_want_it() {
    let (_, syn) = client(sack_cfg(), Segment::syn_ack(5001, 1002));
    assert_eq!(syn, syn_offering(1001));
    let (_, syn) = client(PspConfig::default(), Segment::syn_ack(5001, 1002));
    assert_eq!(syn, Segment::syn(1001));
    // Phoenix's rounds cannot repair what the receiver would stop skipping: no offer.
    let phoenix = PspConfig {
        recovery: Recovery::Phoenix,
        ..sack_cfg()
    };
    let (_, syn) = client(phoenix, Segment::syn_ack(5001, 1002));
    assert_eq!(syn, Segment::syn(1001));

    assert_eq!(
        answer(sack_cfg(), syn_offering(7001)),
        syn_ack_offering(3001, 7002)
    );
    assert_eq!(
        answer(sack_cfg(), Segment::syn(7001)),
        Segment::syn_ack(3001, 7002)
    );
    assert_eq!(
        answer(PspConfig::default(), syn_offering(7001)),
        Segment::syn_ack(3001, 7002)
    );
}

/// A receiver that agreed reports what it holds beyond the cumulative acknowledgement, at once
/// (one ACK for everything that arrived together), and again when a hole is filled.
#[test]
fn the_receiver_reports_what_it_holds_beyond_the_hole() {
    let (mut ep, _) = client(sack_cfg(), syn_ack_offering(5001, 1002));
    let c = ctx(LPORT, SPORT);
    let mut rng = script(&[]);
    ep.handle_segment(ms(100), &mut rng, &c, &data(5002, 1002, "a"));
    // 5003 lost; 5004, 5005 and 5007 arrive together.
    for seq in [5004, 5005, 5007] {
        ep.handle_segment(ms(100), &mut rng, &c, &data(seq, 1002, "x"));
    }
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![]);
    ep.handle_timeout(ms(100));
    assert_eq!(
        segs(&mut ep, LPORT, SPORT),
        vec![with_sack(ack(1003, 5002), &[(5004, 5005), (5007, 5007)])]
    );
    // The hole is filled: acknowledged at once, with the next hole's report.
    ep.handle_segment(ms(150), &mut rng, &c, &data(5003, 1002, "b"));
    ep.handle_timeout(ms(150));
    assert_eq!(
        segs(&mut ep, LPORT, SPORT),
        vec![with_sack(ack(1004, 5005), &[(5007, 5007)])]
    );
    assert_eq!(read_all(&mut ep, CID), b"abxx");
}

/// Without the peer's answer nothing of the extension is used: a receiver sends Phoenix's
/// shapes, the delayed ACK and no report.
#[test]
fn an_unanswered_offer_sends_phoenix_shapes_only() {
    let (mut ep, _) = client(sack_cfg(), Segment::syn_ack(5001, 1002));
    let c = ctx(LPORT, SPORT);
    let mut rng = script(&[]);
    ep.handle_segment(ms(100), &mut rng, &c, &data(5002, 1002, "a"));
    ep.handle_segment(ms(100), &mut rng, &c, &data(5004, 1002, "x"));
    ep.handle_timeout(ms(100));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![]);
    ep.handle_timeout(ms(200));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![ack(1003, 5002)]);
}

/// The sender re-sends exactly the messages shown missing, once a message sent after them has
/// arrived and they have had its round trip plus the reordering window to arrive too
/// (RFC 8985 §6.2: here 100 ms + RTTVAR 50 ms after they left, on the reordering timer); a
/// re-sent copy only when what left after it arrived.
#[test]
fn the_sender_re_sends_exactly_what_is_missing() {
    let (mut ep, _) = client(sack_cfg(), syn_ack_offering(5001, 1002));
    let c = ctx(LPORT, SPORT);
    let mut rng = script(&[]);
    for p in ["1", "2", "3", "4", "5", "6", "7", "8"] {
        ep.write(ms(20), CID, LuaStr::from(p)).unwrap();
    }
    let first: Vec<u64> = segs(&mut ep, LPORT, SPORT)
        .iter()
        .map(|s| s.sequence)
        .collect();
    assert_eq!(first, (1003..=1010).collect::<Vec<_>>());
    // 1003 acknowledged; 1004 and 1007 missing; 1005-1006 and 1008-1010 held.
    let report = with_sack(ack(5002, 1003), &[(1005, 1006), (1008, 1010)]);
    ep.handle_segment(ms(120), &mut rng, &c, &report);
    assert_eq!(
        segs(&mut ep, LPORT, SPORT),
        vec![],
        "they may still be on the way"
    );
    assert_eq!(ep.poll_timeout(), Some(ms(170)));
    ep.handle_timeout(ms(169));
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![]);
    ep.handle_timeout(ms(170));
    let resent = segs(&mut ep, LPORT, SPORT);
    assert_eq!(
        resent,
        vec![data(1004, 5002, "2"), data(1007, 5002, "5")],
        "only the holes, with their original sequence and payload"
    );
    assert_eq!(ep.stats(CID).unwrap().retransmitted, 2);
    // The same report again shows nothing new: the re-sent copies are younger than anything
    // acknowledged, so nothing more is re-sent.
    let again = with_sack(ack(5003, 1003), &[(1005, 1006), (1008, 1010)]);
    ep.handle_segment(ms(175), &mut rng, &c, &again);
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![]);
    // Everything acknowledged: no timer left.
    ep.handle_segment(ms(220), &mut rng, &c, &ack(5004, 1010));
    assert_eq!(ep.stats(CID).unwrap().unacked, 0);
    assert_eq!(ep.poll_timeout(), None);
}

/// The reordering timer re-sends what a later message overtook; then timeouts escalate: the
/// first is a probe (RFC 8985 §7: only the last message the peer does
/// not hold), the second re-sends what the peer does not hold, the third forgets the reports
/// (RFC 2018 §8: a receiver may drop what it reported) and re-sends everything.
#[test]
fn timeouts_probe_then_re_send_the_unreported_then_everything() {
    let (mut ep, _) = client(sack_cfg(), syn_ack_offering(5001, 1002));
    let c = ctx(LPORT, SPORT);
    let mut rng = script(&[]);
    for p in ["1", "2", "3"] {
        ep.write(ms(20), CID, LuaStr::from(p)).unwrap();
    }
    let _ = segs(&mut ep, LPORT, SPORT);
    // 1004 reported held: 1003, sent before it, is lost once its time is up; 1005 was sent
    // after it, so only a timeout can tell.
    ep.handle_segment(
        ms(120),
        &mut rng,
        &c,
        &with_sack(ack(5002, 1002), &[(1004, 1004)]),
    );
    let mut rounds = Vec::new();
    let mut last = ms(0);
    for _ in 0..4 {
        // Nothing is declared lost by the report alone; a timer is armed.
        let t = ep.poll_timeout().unwrap();
        assert!(t > last, "{t:?} after {last:?}, rounds {rounds:?}");
        last = t;
        ep.handle_timeout(t);
        let seqs: Vec<u64> = segs(&mut ep, LPORT, SPORT)
            .iter()
            .map(|s| s.sequence)
            .collect();
        if !seqs.is_empty() {
            rounds.push(seqs);
        }
    }
    assert_eq!(
        rounds,
        vec![
            vec![1003],
            vec![1005],
            vec![1003, 1005],
            vec![1003, 1004, 1005]
        ]
    );
}

/// Reports are the peer's input: ranges far outside what we hold, or covering sequences we
/// never sent, mark only the messages we keep and never panic.
#[test]
fn wild_reports_touch_only_what_we_hold() {
    let (mut ep, _) = client(sack_cfg(), syn_ack_offering(5001, 1002));
    let c = ctx(LPORT, SPORT);
    let mut rng = script(&[]);
    ep.write(ms(20), CID, LuaStr::from("1")).unwrap();
    ep.write(ms(20), CID, LuaStr::from("2")).unwrap();
    let _ = segs(&mut ep, LPORT, SPORT);
    let wild = with_sack(
        ack(5002, 1002),
        &[
            (0, 5),
            (1004, psp_proto::MAX_WIRE_NUMBER),
            (0, psp_proto::MAX_WIRE_NUMBER),
        ],
    );
    ep.handle_segment_value(ms(30), &mut rng, &c, &wild.encode())
        .unwrap();
    // Everything is "held", so nothing is re-sent and nothing is released.
    assert_eq!(segs(&mut ep, LPORT, SPORT), vec![]);
    assert_eq!(ep.stats(CID).unwrap().unacked, 2);
}
