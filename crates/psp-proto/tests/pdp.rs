//! PDP: client handles, listeners, per-sender pseudo-handles and their bounds.

use std::net::Ipv4Addr;

use modem_value::{table, Instant, SplitMix64, Value, WireMessage};
use psp_proto::config::{MAX_PDP_PSEUDO_PER_LISTENER, MAX_PDP_QUEUE};
use psp_proto::{
    ChannelRequest, Datagram, PdpEndpoint, PdpHandleKind, PspError, PspEvent, SegmentContext,
};

const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const URI: &str = "pdp://0.0.0.0:53";

fn ctx(channel: u16, reply: u16, src: Ipv4Addr) -> SegmentContext<&'static str> {
    SegmentContext {
        interface: "/back",
        channel,
        reply_channel: reply,
        source_ip: src,
        local_ip: ME,
    }
}

fn ip(n: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000 + n)
}

fn dg(v: impl Into<Value>) -> Datagram {
    Datagram { message: v.into() }
}

#[test]
fn listener_makes_one_pseudo_handle_per_sender() {
    let mut ep = PdpEndpoint::new();
    ep.listen(1, URI, Ipv4Addr::UNSPECIFIED, Some(53), ["/back", "/top"])
        .unwrap();
    let chans: Vec<_> = std::iter::from_fn(|| ep.poll_channel()).collect();
    assert_eq!(chans.len(), 2);
    let mut next = 100u64;
    let mut alloc = || {
        next += 1;
        next
    };
    let t = Instant::ZERO;
    ep.handle_datagram(t, &ctx(53, 5000, ip(2)), dg("q1"), &mut alloc);
    // The first datagram of a sender primes its pseudo-handle; the URI is the listen string
    // (Q-EV4).
    assert_eq!(
        ep.poll_event(),
        Some(PspEvent::NetworkRequest {
            uri: URI.into(),
            ip: ip(2),
            handle: 101
        })
    );
    assert_eq!(ep.poll_event(), None);
    ep.handle_datagram(
        t,
        &ctx(53, 5001, ip(2)),
        dg(table! { "n" => 2 }),
        &mut alloc,
    );
    assert_eq!(ep.poll_event(), Some(PspEvent::DataReady { id: 101 }));
    ep.handle_datagram(t, &ctx(53, 6000, ip(3)), dg(3), &mut alloc);
    assert!(matches!(
        ep.poll_event(),
        Some(PspEvent::NetworkRequest { handle: 102, .. })
    ));
    assert_eq!(ep.kind(101), Some(PdpHandleKind::Pseudo));
    assert_eq!(ep.local_ip(101), Some(ME));
    assert_eq!(ep.read(101), Ok(Some(Value::from("q1"))));
    assert_eq!(ep.read(101), Ok(Some(table! { "n" => 2 })));
    // Empty: nil, no side effect (Q-PDP1).
    assert_eq!(ep.read(101), Ok(None));
    assert_eq!(ep.read(101), Ok(None));
    assert_eq!(ep.queued(101), Some(0));
    // Replies go to the sender's latest port, from the listener's port.
    ep.write(101, Value::from("answer")).unwrap();
    let tx = ep.poll_transmit().unwrap();
    assert_eq!((tx.dst_ip, tx.out_port, tx.in_port), (ip(2), 5001, 53));
    assert_eq!(Datagram::decode(&tx.payload), Ok(dg("answer")));
    assert_eq!(
        ep.listen(9, URI, Ipv4Addr::UNSPECIFIED, Some(53), ["/back"]),
        Err(PspError::PortAlreadyOpen)
    );
    assert_eq!(
        ep.listen(9, URI, Ipv4Addr::UNSPECIFIED, None, ["/back"]),
        Err(PspError::MissingPort)
    );
    // Closing a pseudo-handle forgets the sender.
    ep.close(101).unwrap();
    ep.handle_datagram(t, &ctx(53, 5001, ip(2)), dg(4), &mut alloc);
    assert!(matches!(
        ep.poll_event(),
        Some(PspEvent::NetworkRequest { handle: 103, .. })
    ));
    assert_eq!(ep.unlisten(53), Some(1));
    let closes = std::iter::from_fn(|| ep.poll_channel())
        .filter(|c| matches!(c, ChannelRequest::Close { channel: 53, .. }))
        .count();
    assert_eq!(closes, 2);
    assert_eq!(ep.unlisten(53), None);
}

#[test]
fn client_receives_from_anyone_and_closes_its_channels() {
    let mut ep = PdpEndpoint::new();
    let mut rng = SplitMix64::new(5);
    assert_eq!(
        ep.connect(Instant::ZERO, &mut rng, 1, ip(9), None, ["/back"]),
        Err(PspError::NoPortSpecified)
    );
    let port = ep
        .connect(
            Instant::ZERO,
            &mut rng,
            1,
            ip(9),
            Some(53),
            ["/back", "/top"],
        )
        .unwrap();
    assert!(port >= 49152);
    assert_eq!(std::iter::from_fn(|| ep.poll_channel()).count(), 2);
    ep.write(1, table! { "q" => "x" }).unwrap();
    let tx = ep.poll_transmit().unwrap();
    assert_eq!((tx.dst_ip, tx.out_port, tx.in_port), (ip(9), 53, port));
    let mut alloc = || 99u64;
    ep.handle_datagram(Instant::ZERO, &ctx(port, 53, ip(4)), dg(1), &mut alloc);
    assert_eq!(ep.poll_event(), Some(PspEvent::DataReady { id: 1 }));
    assert_eq!(ep.read(1), Ok(Some(Value::from(1))));
    assert_eq!(ep.local_ip(1), None);
    ep.close(1).unwrap();
    assert_eq!(std::iter::from_fn(|| ep.poll_channel()).count(), 2);
    ep.handle_datagram(Instant::ZERO, &ctx(port, 53, ip(4)), dg(1), &mut alloc);
    assert_eq!(ep.poll_event(), None);
    assert_eq!(ep.read(1), Err(PspError::NoSuchSocket));
}

#[test]
fn bounds_on_queues_and_pseudo_handles() {
    let mut ep = PdpEndpoint::new();
    ep.listen(1, URI, Ipv4Addr::UNSPECIFIED, Some(53), ["/back"])
        .unwrap();
    let mut next = 1000u64;
    let mut alloc = || {
        next += 1;
        next
    };
    // One sender fills its queue; the rest is dropped.
    for i in 0..(MAX_PDP_QUEUE + 50) {
        ep.handle_datagram(Instant::ZERO, &ctx(53, 1, ip(1)), dg(i as u32), &mut alloc);
    }
    assert_eq!(ep.queued(1001), Some(MAX_PDP_QUEUE));
    // A spray of new senders: at most MAX pseudo-handles while they are fresh…
    for n in 2..300 {
        ep.handle_datagram(Instant::ZERO, &ctx(53, 1, ip(n)), dg(0), &mut alloc);
    }
    assert_eq!(ep.pseudo_count(53), MAX_PDP_PSEUDO_PER_LISTENER);
    // …and idle ones are evicted for new senders later.
    let later = Instant::from_secs(31);
    ep.handle_datagram(later, &ctx(53, 1, ip(500)), dg(0), &mut alloc);
    assert_eq!(ep.pseudo_count(53), MAX_PDP_PSEUDO_PER_LISTENER);
    while ep.poll_event().is_some() {}
    ep.handle_datagram(later, &ctx(53, 1, ip(500)), dg(1), &mut alloc);
    assert!(matches!(ep.poll_event(), Some(PspEvent::DataReady { .. })));
    // Port 0 on either side and foreign listen addresses are dropped.
    ep.handle_datagram(later, &ctx(53, 0, ip(600)), dg(0), &mut alloc);
    assert_eq!(ep.poll_event(), None);
    let mut ep2 = PdpEndpoint::new();
    ep2.listen(1, "pdp://10.9.9.9:53", ip(0x090909), Some(53), ["/back"])
        .unwrap();
    ep2.handle_datagram(later, &ctx(53, 7, ip(2)), dg(0), &mut alloc);
    assert_eq!(ep2.poll_event(), None);
}

#[test]
fn malformed_datagrams_are_rejected() {
    let mut ep: PdpEndpoint<&str> = PdpEndpoint::new();
    ep.listen(1, URI, Ipv4Addr::UNSPECIFIED, Some(53), ["/back"])
        .unwrap();
    let mut alloc = || 5u64;
    let bad = table! { "PhoenixNetworking" => true, "type" => "socket", "message" => 1 };
    assert!(ep
        .handle_datagram_value(Instant::ZERO, &ctx(53, 1, ip(1)), &bad, &mut alloc)
        .is_err());
    let good = dg("x").encode();
    assert!(ep
        .handle_datagram_value(Instant::ZERO, &ctx(53, 1, ip(1)), &good, &mut alloc)
        .is_ok());
    assert_eq!(ep.read(5), Ok(Some(Value::from("x"))));
}

mod model {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, VecDeque};

    #[derive(Clone, Debug)]
    enum Op {
        /// A datagram from sender `n` carrying `v`.
        Recv(u8, i32),
        /// `read()` on the handle of sender `n`.
        Read(u8),
        /// `close()` on the handle of sender `n`.
        Close(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..6, any::<i32>()).prop_map(|(n, v)| Op::Recv(n, v)),
            3 => (0u8..6).prop_map(Op::Read),
            1 => (0u8..6).prop_map(Op::Close),
        ]
    }

    proptest! {
        /// Against a model of one FIFO per sender (bounded, nil when empty, forgotten on close):
        /// same reads, one `network_request` per new handle, one `handle_data_ready` per queued
        /// datagram after the first.
        #[test]
        fn pseudo_handles_match_a_queue_per_sender(ops in prop::collection::vec(op(), 0..200)) {
            let mut ep = PdpEndpoint::new();
            ep.listen(1, URI, Ipv4Addr::UNSPECIFIED, Some(53), ["/back"]).unwrap();
            let mut next = 10u64;
            let mut model: BTreeMap<u8, (u64, VecDeque<i32>)> = BTreeMap::new();
            for op in ops {
                match op {
                    Op::Recv(n, v) => {
                        let mut alloc = || { next += 1; next };
                        ep.handle_datagram(Instant::ZERO, &ctx(53, 9, ip(u32::from(n) + 1)), dg(v), &mut alloc);
                        let ev = ep.poll_event();
                        match model.get_mut(&n) {
                            Some((id, q)) => {
                                if q.len() < MAX_PDP_QUEUE {
                                    q.push_back(v);
                                    prop_assert_eq!(ev, Some(PspEvent::DataReady { id: *id }));
                                } else {
                                    prop_assert_eq!(ev, None);
                                }
                            }
                            None => {
                                let id = next;
                                model.insert(n, (id, VecDeque::from([v])));
                                prop_assert_eq!(ev, Some(PspEvent::NetworkRequest {
                                    uri: URI.into(), ip: ip(u32::from(n) + 1), handle: id }));
                            }
                        }
                        prop_assert_eq!(ep.poll_event(), None);
                    }
                    Op::Read(n) => {
                        if let Some((id, q)) = model.get_mut(&n) {
                            prop_assert_eq!(ep.read(*id), Ok(q.pop_front().map(Value::from)));
                        }
                    }
                    Op::Close(n) => {
                        if let Some((id, _)) = model.remove(&n) {
                            prop_assert_eq!(ep.close(id), Ok(()));
                            prop_assert_eq!(ep.read(id), Err(PspError::NoSuchSocket));
                        }
                    }
                }
                prop_assert_eq!(ep.pseudo_count(53), model.len());
            }
        }
    }
}
