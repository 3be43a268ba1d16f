//! Property tests against plain reference models written straight from the spec:
//! * the endpoint's receive path — rules 1–5 in order, the `received` table with its 9.5 s
//!   deadlines and the 10 s prune timer that restarts only while entries remain (spec §5, §5.1);
//! * the repeater — 30 s of memory per ID, forwarding rules of repeat.lua (spec §6).

use std::collections::BTreeMap;

use modem_value::{table, Instant, RandomSource, SplitMix64, Value};
use proptest::prelude::*;
use rednet_codec::{Endpoint, Ignored, ModemId, ModemOp, NotRepeated, Repeater, Verdict};

const ME: u32 = 65_507; // channel 7
const MODEMS: [&str; 2] = ["left", "right"];

#[derive(Clone, Debug)]
enum Op {
    /// modem, channel, id, recipient, sender
    Frame(usize, u16, Value, Value, Value),
    Advance(u32),
    Open(usize),
    Close(usize),
    Send(f64),
}

fn id() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => (1..12u32).prop_map(Value::from),
        1 => Just(Value::Num(f64::NAN)),
        1 => Just(Value::Num(-0.0)),
        1 => Just(Value::Num(0.0)),
        1 => Just(Value::from("3")),
        1 => Just(Value::Nil),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let channel = prop_oneof![Just(7u16), Just(65535u16), Just(65533u16), Just(8u16)];
    let recipient = prop_oneof![
        Just(Value::from(ME)),
        Just(Value::from(7)),
        Just(Value::from(65535)),
        Just(Value::Nil),
        Just(Value::from("x")),
    ];
    let sender = prop_oneof![
        3 => (0..5u32).prop_map(Value::from),
        1 => Just(Value::Nil),
        1 => Just(Value::Num(f64::NAN)),
        1 => Just(Value::from("s")),
    ];
    prop_oneof![
        8 => (0..2usize, channel, id(), recipient, sender).prop_map(|(m, c, i, r, s)| Op::Frame(m, c, i, r, s)),
        3 => prop_oneof![0..3000u32, 9000..12_000u32, Just(9500u32), Just(10_000u32)].prop_map(Op::Advance),
        2 => (0..2usize).prop_map(Op::Open),
        1 => (0..2usize).prop_map(Op::Close),
        1 => prop_oneof![Just(f64::from(ME)), Just(3.0), Just(65535.0)].prop_map(Op::Send),
    ]
}

/// rednet.lua's receive state, written the way rednet.lua does it.
#[derive(Default)]
struct Model {
    received: BTreeMap<u64, u64>,
    prune_timer: Option<u64>,
    open: [bool; 2],
}

impl Model {
    fn remember(&mut self, now: u64, id: f64) {
        self.received.insert((id + 0.0).to_bits(), now + 9500);
        if self.prune_timer.is_none() {
            self.prune_timer = Some(now + 10_000);
        }
    }

    fn prune(&mut self, now: u64) {
        self.received.retain(|_, d| *d > now);
        self.prune_timer = (!self.received.is_empty()).then_some(now + 10_000);
    }

    /// The rules of spec §5 in order; `Ok(sender)` when delivered.
    fn receive(
        &mut self,
        now: u64,
        modem: usize,
        channel: u16,
        msg: &Value,
    ) -> Result<f64, &'static str> {
        if channel != 7 && channel != 65535 {
            return Err("channel");
        }
        let id = match msg.get("nMessageID") {
            Value::Num(n) if !n.is_nan() => *n,
            _ => return Err("id"),
        };
        if self.received.contains_key(&(id + 0.0).to_bits()) {
            return Err("duplicate");
        }
        let sender = match msg.get("nSender") {
            Value::Nil => None,
            Value::Num(n) if !n.is_nan() => Some(*n),
            _ => return Err("sender"),
        };
        if !(msg.get("nRecipient") == &Value::from(ME) || channel == 65535) {
            return Err("recipient");
        }
        if !self.open[modem] {
            return Err("modem");
        }
        self.remember(now, id);
        Ok(sender.unwrap_or(99.0))
    }
}

fn reason(v: &Verdict) -> Result<(), &'static str> {
    match v {
        Verdict::Delivered => Ok(()),
        Verdict::Ignored(Ignored::WrongChannel) => Err("channel"),
        Verdict::Ignored(Ignored::BadMessageId(_)) => Err("id"),
        Verdict::Ignored(Ignored::Duplicate) => Err("duplicate"),
        Verdict::Ignored(Ignored::BadSender(_)) => Err("sender"),
        Verdict::Ignored(Ignored::NotForUs) => Err("recipient"),
        Verdict::Ignored(Ignored::ModemNotOpen) => Err("modem"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn endpoint_receive_path_matches_rednet_lua(ops in proptest::collection::vec(op(), 1..120), seed: u64) {
        let mut e = Endpoint::new(ME, SplitMix64::new(seed));
        // The endpoint's random source, replayed: one draw seeds its ID table, then one per send.
        let mut shadow = SplitMix64::new(seed);
        shadow.next_u64();
        let modems = MODEMS.map(ModemId::from);
        for m in &modems {
            e.attach_modem(m.clone());
        }
        let mut model = Model::default();
        let mut now = 0u64;
        for op in ops {
            match op {
                Op::Frame(m, ch, id, r, s) => {
                    let msg = table! { "nMessageID" => id, "nRecipient" => r, "nSender" => s, "message" => "m" };
                    let got = e.handle_modem_message(Instant::from_millis(now), &modems[m], ch, 99, &msg);
                    let want = model.receive(now, m, ch, &msg);
                    prop_assert_eq!(reason(&got), want.map(|_| ()), "{:?} at {}", msg, now);
                    if let Ok(sender) = want {
                        prop_assert_eq!(e.poll_message().map(|d| d.sender), Some(sender));
                    }
                }
                Op::Advance(ms) => {
                    // A host that wakes the endpoint exactly at every deadline.
                    let target = now + u64::from(ms);
                    while let Some(t) = e.poll_timeout().filter(|t| t.as_millis() <= target) {
                        prop_assert_eq!(Some(t.as_millis()), model.prune_timer);
                        e.handle_timeout(t);
                        model.prune(t.as_millis());
                    }
                    prop_assert!(model.prune_timer.is_none_or(|p| p > target));
                    now = target;
                }
                Op::Open(m) => {
                    e.open(&modems[m]).unwrap();
                    model.open[m] = true;
                }
                Op::Close(m) => {
                    e.close(&modems[m]).unwrap();
                    model.open[m] = false;
                }
                Op::Send(to) => {
                    e.send(Instant::from_millis(now), to, Value::Nil, None).unwrap();
                    // IDs come from the injected source: one draw in [1, 2^31 - 1] per send.
                    let id = shadow.range_inclusive(1, 2_147_483_647) as f64;
                    let mut seen_id = None;
                    while let Some(op) = e.poll_modem_op() {
                        if let ModemOp::Transmit(t) = op {
                            seen_id = t.payload.get("nMessageID").as_num();
                        }
                    }
                    if let Some(d) = e.poll_message() {
                        seen_id = Some(d.message_id);
                    }
                    if let Some(seen) = seen_id {
                        prop_assert_eq!(seen, id);
                    }
                    model.remember(now, id);
                }
            }
            while e.poll_modem_op().is_some() {}
            prop_assert_eq!(e.remembered_ids(), model.received.len());
            prop_assert_eq!(e.poll_timeout().map(|t| t.as_millis()), model.prune_timer);
            for key in model.received.keys() {
                prop_assert!(e.remembers(f64::from_bits(*key)));
            }
        }
    }
}

#[derive(Clone, Debug)]
enum ROp {
    /// channel, id, recipient
    Frame(u16, Value, Value),
    Advance(u32),
}

fn rop() -> impl Strategy<Value = ROp> {
    let channel = prop_oneof![4 => Just(65533u16), 1 => Just(65535u16)];
    let recipient = prop_oneof![
        (0..70_000u32).prop_map(Value::from),
        Just(Value::from(65535)),
        Just(Value::from(2.5)),
        Just(Value::from("r")),
    ];
    prop_oneof![
        4 => (channel, id(), recipient).prop_map(|(c, i, r)| ROp::Frame(c, i, r)),
        1 => prop_oneof![0..5000u32, 29_000..31_000u32].prop_map(ROp::Advance),
    ]
}

proptest! {
    #[test]
    fn repeater_matches_repeat_lua(ops in proptest::collection::vec(rop(), 1..150)) {
        let mut r = Repeater::new(&mut SplitMix64::new(5));
        let modems = MODEMS.map(ModemId::from);
        for m in &modems {
            r.attach_modem(m.clone());
        }
        while r.poll_modem_op().is_some() {}
        // tReceivedMessages with one 30 s timer per ID.
        let mut seen: BTreeMap<u64, u64> = BTreeMap::new();
        let mut now = 0u64;
        for op in ops {
            match op {
                ROp::Frame(ch, id, rcpt) => {
                    let msg = table! { "nMessageID" => id.clone(), "nRecipient" => rcpt.clone(), "message" => 1 };
                    seen.retain(|_, d| *d > now);
                    let key = id.as_num().filter(|n| !n.is_nan()).map(|n| (n + 0.0).to_bits());
                    let target = rcpt.as_num().and_then(rednet_codec::channel_for_recipient);
                    let want: Result<u16, NotRepeated> = match (ch, key, rcpt.as_num()) {
                        (ch, _, _) if ch != 65533 => Err(NotRepeated::WrongChannel),
                        (_, None, _) => Err(NotRepeated::BadMessageId),
                        (_, _, None) => Err(NotRepeated::BadRecipient),
                        (_, Some(k), Some(_)) => match (seen.get(&k), target) {
                            (Some(_), _) => Err(NotRepeated::Duplicate),
                            (None, None) => Err(NotRepeated::NoChannel),
                            (None, Some(t)) => {
                                seen.insert(k, now + 30_000);
                                Ok(t)
                            }
                        },
                    };
                    let got = r.handle_modem_message(Instant::from_millis(now), &modems[1], ch, 42, &msg);
                    prop_assert_eq!(got, want.map(|_| ()));
                    let out: Vec<(String, u16, u16)> = core::iter::from_fn(|| r.poll_modem_op())
                        .map(|op| match op {
                            ModemOp::Transmit(t) => {
                                assert_eq!(t.payload, msg);
                                (t.modem.to_string(), t.channel, t.reply_channel)
                            }
                            other => panic!("{other:?}"),
                        })
                        .collect();
                    let expect: Vec<(String, u16, u16)> = match want {
                        Ok(t) => MODEMS.iter().flat_map(|m| [(m.to_string(), 65533, 42), (m.to_string(), t, 42)]).collect(),
                        Err(_) => vec![],
                    };
                    prop_assert_eq!(out, expect);
                }
                ROp::Advance(ms) => {
                    now += u64::from(ms);
                    r.handle_timeout(Instant::from_millis(now));
                    seen.retain(|_, d| *d > now);
                }
            }
            prop_assert_eq!(r.remembered_ids(), seen.len());
            prop_assert_eq!(r.poll_timeout().map(|t| t.as_millis()), seen.values().min().copied());
        }
    }
}
