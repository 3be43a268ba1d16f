//! Replays of the exact segment sequences a Phoenix 0.0.9 peer produces (spec §10.2–§10.8:
//! ACK-only messages take sequence numbers, data-phase acknowledgements are "last received",
//! the handshake and the duplicate re-ACK use "next expected", the responder combines its FIN
//! with the ACK), with us as client and as server. Each Phoenix segment is written out as the
//! kernel computes it from its variables, in comments.

mod common;

use common::*;
use modem_value::LuaStr;
use psp_proto::{ChannelRequest, HandleStatus, PspEvent, Segment, State};

fn closed_ev(id: u64) -> PspEvent {
    PspEvent::StatusChange {
        id,
        status: HandleStatus::Closed,
        error: None,
    }
}

#[test]
fn we_are_the_client_of_a_phoenix_server() {
    const ID: u64 = 3;
    let (lp, rp) = (51000u16, 21u16);
    // This replay pins a retransmission at Phoenix's fixed 2 s after a round-trip sample.
    let mut ep = Ep::new(psp_proto::PspConfig {
        recovery: psp_proto::Recovery::Phoenix,
        ..Default::default()
    });
    let mut rng = script(&[port_draw(lp), iss_draw(1000)]);
    ep.connect(ms(0), &mut rng, ID, PEER, Some(rp)).unwrap();
    assert_eq!(segs(&mut ep, lp, rp), vec![Segment::syn(1001)]);
    ep.handle_syn_sent(ms(5), ID, Ok(IF));
    let _ = channels(&mut ep);
    let mut rng = script(&[]);
    let mut rx =
        |ep: &mut Ep, t: u64, s: Segment| ep.handle_segment(ms(t), &mut rng, &ctx(lp, rp), &s);

    // Phoenix listener: ISS' = 5000, recvSeq = 1002 → SYN-ACK {5001, ack 1002, 256, syn}.
    rx(&mut ep, 20, Segment::syn_ack(5001, 1002));
    assert_eq!(segs(&mut ep, lp, rp), vec![ack(1002, 5002)]);
    assert_eq!(
        events(&mut ep),
        vec![PspEvent::StatusChange {
            id: ID,
            status: HandleStatus::Open,
            error: None
        }]
    );

    ep.write(ms(30), ID, LuaStr::from("USER anonymous\r\n"))
        .unwrap();
    assert_eq!(
        segs(&mut ep, lp, rp),
        vec![data(1003, 5001, "USER anonymous\r\n")]
    );

    // Phoenix: handshake ACK took recvSeq 1002→1003, our data 1003→1004; its 1 s tick sends an
    // ACK-only with the next sequence (5002) and ack = recvSeq-1 = 1003.
    rx(&mut ep, 1000, ack(5002, 1003));
    assert_eq!(
        ep.stats(ID).unwrap().unacked,
        0,
        "ack 1003 covers the handshake ACK and the data"
    );
    // Then its reply, sequence 5003, same ack.
    rx(&mut ep, 1010, data(5003, 1003, "331 Password required\r\n"));
    assert_eq!(events(&mut ep), vec![PspEvent::DataReady { id: ID }]);
    assert_eq!(read_all(&mut ep, ID), b"331 Password required\r\n");
    ep.handle_timeout(ms(1110));
    assert_eq!(segs(&mut ep, lp, rp), vec![ack(1004, 5003)]);

    // A write whose ACK from Phoenix is lost: we re-send it; Phoenix sees an old sequence and
    // re-ACKs with recvSeq (next expected, its quirk) — equal to our next sequence.
    ep.write(ms(1200), ID, LuaStr::from("PASS x\r\n")).unwrap();
    assert_eq!(segs(&mut ep, lp, rp), vec![data(1005, 5003, "PASS x\r\n")]);
    ep.handle_timeout(ms(3200));
    // Re-sent: the ACK-only 1004 precedes it and Phoenix may have missed it too.
    assert_eq!(
        segs(&mut ep, lp, rp),
        vec![ack(1004, 5003), data(1005, 5003, "PASS x\r\n")]
    );
    rx(&mut ep, 3210, ack(5004, 1006));
    assert_eq!(
        ep.stats(ID).unwrap().unacked,
        0,
        "the quirky re-ACK releases everything"
    );
    assert_eq!(ep.poll_timeout(), None);

    // Phoenix closes: FIN {5005, ack recvSeq-1 = 1005, final} (no window).
    rx(&mut ep, 4000, Segment::fin(5005, 1005));
    // We answer like Phoenix: our FIN combined with the ACK of theirs.
    assert_eq!(segs(&mut ep, lp, rp), vec![Segment::fin(1006, 5005)]);
    assert_eq!(events(&mut ep), vec![closed_ev(ID)]);
    assert_eq!(ep.state(ID), Some(State::CloseWait));
    // Phoenix in fin-wait: ack 5005 == its sendSeqMax and final → time-wait, then step 7 sends
    // an ACK {5006, ack = our FIN's sequence 1006, 256}.
    rx(&mut ep, 4010, ack(5006, 1006));
    assert_eq!(ep.state(ID), Some(State::Closed));
    assert_eq!(events(&mut ep), vec![closed_ev(ID)]);
    assert_eq!(
        channels(&mut ep),
        vec![ChannelRequest::Close {
            interface: IF,
            channel: lp
        }]
    );
    assert!(segs(&mut ep, lp, rp).is_empty());
}

#[test]
fn we_are_the_server_of_a_phoenix_client() {
    const ID: u64 = 9;
    let (sp, cp) = (21u16, 60001u16);
    let uri = "psp://10.0.0.1:21";
    let mut ep = Ep::default();
    ep.listen(ID, uri, ME, Some(sp), [IF]).unwrap();
    let _ = channels(&mut ep);
    let mut rng = script(&[iss_draw(3000)]);
    // Phoenix client: ISS = 9000 → SYN {9001, 256, syn}.
    ep.handle_segment(ms(0), &mut rng, &ctx(sp, cp), &Segment::syn(9001));
    assert_eq!(segs(&mut ep, sp, cp), vec![Segment::syn_ack(3001, 9002)]);
    let mut rng = script(&[]);
    let mut rx =
        |ep: &mut Ep, t: u64, s: Segment| ep.handle_segment(ms(t), &mut rng, &ctx(sp, cp), &s);

    // Phoenix client: sendSeq = 9002, recvSeq = 3002; handshake ACK {sendSeqNext 9002, ack
    // recvSeq 3002, 256}.
    rx(&mut ep, 10, ack(9002, 3002));
    assert_eq!(
        events(&mut ep),
        vec![PspEvent::NetworkRequest {
            uri: uri.into(),
            ip: PEER,
            handle: ID
        }]
    );
    assert!(segs(&mut ep, sp, cp).is_empty());
    // Its first data: {9003, ack recvSeq-1 = 3001, payload}.
    rx(&mut ep, 20, data(9003, 3001, "LIST\r\n"));
    assert_eq!(read_all(&mut ep, ID), b"LIST\r\n");
    assert_eq!(events(&mut ep), vec![PspEvent::DataReady { id: ID }]);
    ep.write(ms(50), ID, LuaStr::from("150 Here it comes\r\n"))
        .unwrap();
    assert_eq!(
        segs(&mut ep, sp, cp),
        vec![data(3002, 9003, "150 Here it comes\r\n")]
    );
    assert_eq!(
        ep.poll_timeout(),
        Some(ms(2050)),
        "the delayed ACK was piggybacked"
    );
    // Phoenix tick: ACK-only {9004, ack 3002}.
    rx(&mut ep, 1000, ack(9004, 3002));
    assert_eq!(ep.poll_timeout(), None);

    // We close: FIN {3003, ack 9004, final}.
    ep.close(ms(1100), ID).unwrap();
    assert_eq!(segs(&mut ep, sp, cp), vec![Segment::fin(3003, 9004)]);
    // Phoenix in connected: recvSeq = 3004, sendSeqMax = sendSeqNext = 9005, combined FIN+ACK
    // {9005, ack = our FIN 3003, final}.
    rx(&mut ep, 1110, Segment::fin(9005, 3003));
    assert_eq!(ep.state(ID), Some(State::TimeWait));
    // Our final ACK carries their FIN's sequence, which is what Phoenix's close-wait compares
    // with its sendSeqMax (9005).
    assert_eq!(segs(&mut ep, sp, cp), vec![ack(3004, 9005)]);
    assert!(events(&mut ep).is_empty());
    ep.handle_timeout(ms(11110));
    assert_eq!(ep.state(ID), Some(State::Closed));
    assert_eq!(
        channels(&mut ep),
        vec![ChannelRequest::Close {
            interface: IF,
            channel: sp
        }]
    );
}

#[test]
fn phoenix_lost_ack_only_before_its_fin_is_skipped() {
    // Phoenix's delayed ACK-only (7003) is lost, then it closes: FIN 7004 is never re-sent by
    // Phoenix, so the FIN waiting behind the gap is enough to skip it after 4 s.
    const ID: u64 = 9;
    let (sp, cp) = (21u16, 60001u16);
    let mut ep = Ep::default();
    ep.listen(
        ID,
        "psp://0.0.0.0:21",
        std::net::Ipv4Addr::UNSPECIFIED,
        Some(sp),
        [IF],
    )
    .unwrap();
    let mut rng = script(&[iss_draw(3000)]);
    ep.handle_segment(ms(0), &mut rng, &ctx(sp, cp), &Segment::syn(7001));
    ep.handle_segment(ms(10), &mut rng, &ctx(sp, cp), &ack(7002, 3002));
    let _ = sent(&mut ep);
    ep.handle_segment(ms(1000), &mut rng, &ctx(sp, cp), &Segment::fin(7004, 3001));
    assert_eq!(ep.state(ID), Some(State::Connected));
    assert_eq!(ep.poll_timeout(), Some(ms(5000)));
    ep.handle_timeout(ms(5000));
    assert_eq!(ep.state(ID), Some(State::CloseWait));
    assert_eq!(segs(&mut ep, sp, cp), vec![Segment::fin(3002, 7004)]);
}
