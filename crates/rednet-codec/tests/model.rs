//! Property: on a bus with random sends, broadcasts, receives, opens/closes and time steps —
//! with or without a repeater duplicating everything, and with computers whose IDs share a
//! channel — every message reaches exactly the computers a few-line model says, exactly once,
//! and every `receive` completes as the model says.

use modem_value::{Duration, LuaStr, SplitMix64, Value};
use proptest::prelude::*;
use rednet_codec::bus::Bus;
use rednet_codec::{Completion, RequestId};

/// 1 and 65501 share channel 1; 2 is alone; 65535 is the broadcast ID itself.
const IDS: [u32; 4] = [1, 65_501, 2, 65_535];
const PROTOCOLS: [Option<&str>; 3] = [None, Some("a"), Some("b")];

#[derive(Clone, Debug)]
enum Op {
    Open(usize),
    Close(usize),
    /// from, recipient (index into IDS, or 4 = an absent computer), protocol
    Send(usize, usize, usize),
    Broadcast(usize, usize),
    /// computer, filter, timeout ms
    Receive(usize, usize, Option<u16>),
    Advance(u16),
}

fn op() -> impl Strategy<Value = Op> {
    let c = 0..IDS.len();
    prop_oneof![
        2 => c.clone().prop_map(Op::Open),
        1 => c.clone().prop_map(Op::Close),
        4 => (c.clone(), 0..=IDS.len(), 0..3usize).prop_map(|(a, b, p)| Op::Send(a, b, p)),
        2 => (c.clone(), 0..3usize).prop_map(|(a, p)| Op::Broadcast(a, p)),
        2 => (c, 0..3usize, proptest::option::of(1..5000u16)).prop_map(|(a, f, t)| Op::Receive(a, f, t)),
        2 => (0..15_000u16).prop_map(Op::Advance),
    ]
}

/// (sender, payload tag, protocol)
type Msg = (f64, i64, Option<&'static str>);

struct PendingReceive {
    id: RequestId,
    filter: Option<&'static str>,
    deadline: Option<u64>,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    #[test]
    fn every_message_is_delivered_exactly_once_where_the_model_says(
        ops in proptest::collection::vec(op(), 1..60),
        with_repeater: bool,
        seed: u64,
    ) {
        let mut bus: Bus<SplitMix64> = Bus::new();
        let cs: Vec<usize> = IDS
            .iter()
            .enumerate()
            .map(|(i, &id)| bus.add_computer(id, SplitMix64::new(seed ^ ((i as u64 + 1) * 0x9e37))))
            .collect();
        for &c in &cs {
            let m = bus.add_modem(0);
            bus.attach(c, m, "top");
        }
        if with_repeater {
            let r = bus.add_computer(500, SplitMix64::new(seed));
            let m = bus.add_modem(0);
            bus.attach(r, m, "back");
            bus.add_repeater(r, &mut SplitMix64::new(!seed));
        }

        // The model: who has rednet open, the clock, pending receives.
        let mut open = [false; IDS.len()];
        let mut now = 0u64;
        let mut pending: Vec<Vec<PendingReceive>> = (0..IDS.len()).map(|_| Vec::new()).collect();
        let mut tag = 0i64;

        for op in ops {
            let mut expect: Vec<Vec<Msg>> = vec![Vec::new(); IDS.len()];
            let mut expect_done: Vec<Vec<(RequestId, Option<Msg>)>> = vec![Vec::new(); IDS.len()];
            match op {
                Op::Open(c) => { bus.open(cs[c], "top").unwrap(); open[c] = true; }
                Op::Close(c) => { bus.close(cs[c], "top").unwrap(); open[c] = false; }
                Op::Send(from, to, p) => {
                    tag += 1;
                    let recipient = IDS.get(to).map_or(9999.0, |&id| f64::from(id));
                    let proto = PROTOCOLS[p];
                    bus.send(cs[from], recipient, Value::from(tag), proto).unwrap();
                    model_send(&mut expect, &open, from, recipient, (f64::from(IDS[from]), tag, proto));
                }
                Op::Broadcast(from, p) => {
                    tag += 1;
                    let proto = PROTOCOLS[p];
                    bus.broadcast(cs[from], Value::from(tag), proto).unwrap();
                    model_send(&mut expect, &open, from, 65535.0, (f64::from(IDS[from]), tag, proto));
                }
                Op::Receive(c, f, t) => {
                    let filter = PROTOCOLS[f];
                    let at = bus.now();
                    let id = bus
                        .endpoint(cs[c])
                        .receive(at, filter.map(LuaStr::from), t.map(|ms| Duration::from_millis(u64::from(ms))))
                        .unwrap();
                    bus.run();
                    pending[c].push(PendingReceive { id, filter, deadline: t.map(|ms| now + u64::from(ms)) });
                }
                Op::Advance(ms) => {
                    bus.advance(Duration::from_millis(u64::from(ms)));
                    now += u64::from(ms);
                    for (c, list) in pending.iter_mut().enumerate() {
                        let mut due: Vec<(u64, RequestId)> = list
                            .iter()
                            .filter_map(|r| r.deadline.filter(|&d| d <= now).map(|d| (d, r.id)))
                            .collect();
                        due.sort();
                        list.retain(|r| r.deadline.is_none_or(|d| d > now));
                        expect_done[c].extend(due.into_iter().map(|(_, id)| (id, None)));
                    }
                }
            }
            // Receives complete on the messages delivered now, in request order.
            for c in 0..IDS.len() {
                for m in &expect[c] {
                    pending[c].retain(|r| {
                        let hit = r.filter.is_none() || r.filter == m.2;
                        if hit {
                            expect_done[c].push((r.id, Some(*m)));
                        }
                        !hit
                    });
                }
            }
            for c in 0..IDS.len() {
                let got: Vec<Msg> = bus.take_delivered(cs[c]).iter().map(as_msg).collect();
                prop_assert_eq!(&got, &expect[c], "deliveries at computer {}", IDS[c]);
                let done: Vec<(RequestId, Option<Msg>)> = bus
                    .take_completions(cs[c])
                    .into_iter()
                    .map(|x| match x {
                        Completion::Received { id, message } => (id, message.as_ref().map(as_msg)),
                        other => panic!("unexpected {other:?}"),
                    })
                    .collect();
                prop_assert_eq!(&done, &expect_done[c], "receives at computer {}", IDS[c]);
            }
        }
        // Memory is bounded by what was sent in the last 20 s, and empties when idle.
        bus.advance(Duration::from_secs(60));
        for &c in &cs {
            prop_assert_eq!(bus.endpoint(c).remembered_ids(), 0);
        }
    }
}

fn as_msg(d: &rednet_codec::Delivered) -> Msg {
    let tag = d.message.as_num().expect("payloads are numbers") as i64;
    let proto = d.protocol_str().map(|p| match p.as_bytes() {
        b"a" => "a",
        b"b" => "b",
        _ => panic!("unknown protocol"),
    });
    (d.sender, tag, proto)
}

/// The model of one `send(recipient)` (a broadcast is a send to 65535): loopback when the
/// recipient is the sender's own ID; otherwise, if the sender has rednet open, every other open
/// computer with that full ID (any, for 65535).
fn model_send(expect: &mut [Vec<Msg>], open: &[bool], from: usize, recipient: f64, m: Msg) {
    let loopback = f64::from(IDS[from]) == recipient;
    for (c, &id) in IDS.iter().enumerate() {
        let hit = if loopback {
            c == from
        } else {
            c != from
                && open[from]
                && open[c]
                && (recipient == 65535.0 || f64::from(id) == recipient)
        };
        if hit {
            expect[c].push(m);
        }
    }
}
