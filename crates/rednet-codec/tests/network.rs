//! Sending and multi-computer delivery on the in-memory bus, including CC:Tweaked's
//! rednet_spec scenario of two parallel repeaters.

use modem_value::{table, Duration, Instant, SplitMix64, Value, WireMessage};
use rednet_codec::bus::{Bus, BusEvent};
use rednet_codec::{Endpoint, ModemId, ModemOp, RednetError, RednetMessage, Transmit};

fn transmits(e: &mut Endpoint<SplitMix64>) -> Vec<Transmit> {
    core::iter::from_fn(|| e.poll_modem_op())
        .filter_map(|op| match op {
            ModemOp::Transmit(t) => Some(t),
            _ => None,
        })
        .collect()
}

#[test]
fn send_transmits_target_then_repeat_on_every_open_modem_in_attach_order() {
    let mut e = Endpoint::new(70_000, SplitMix64::new(9));
    let [a, b, c] = ["right", "left", "modem_0"].map(ModemId::from);
    for m in [&a, &b, &c] {
        e.attach_modem(m.clone());
    }
    e.open(&a).unwrap();
    e.open(&c).unwrap();
    let _ = transmits(&mut e);
    assert!(e
        .send(Instant::ZERO, 65_501.0, Value::from("x"), None)
        .unwrap());
    let ts = transmits(&mut e);
    let got: Vec<(String, u16, u16)> = ts
        .iter()
        .map(|t| (t.modem.to_string(), t.channel, t.reply_channel))
        .collect();
    // Reply channel is 70000 % 65500 = 4500; target channel 65501 % 65500 = 1.
    assert_eq!(
        got,
        [
            ("right".into(), 1, 4500),
            ("right".into(), 65533, 4500),
            ("modem_0".into(), 1, 4500),
            ("modem_0".into(), 65533, 4500)
        ]
    );
    // One wrapper, shared by every transmit, exactly rednet.lua's table.
    let m = RednetMessage::decode(&ts[0].payload).unwrap();
    assert!(ts.iter().all(|t| t.payload == ts[0].payload));
    assert!((1.0..=2_147_483_647.0).contains(&m.id) && m.id.fract() == 0.0);
    assert_eq!(
        ts[0].payload,
        table! { "nMessageID" => m.id, "nRecipient" => 65501, "nSender" => 70000, "message" => "x" }
    );
    assert!(
        e.remembers(m.id),
        "own IDs are remembered so repeated echoes are ignored"
    );
    assert_eq!(e.poll_timeout(), Some(Instant::from_secs(10)));
}

#[test]
fn broadcast_uses_65535_as_channel_and_recipient() {
    let mut e = Endpoint::new(3, SplitMix64::new(9));
    let m = ModemId::from("top");
    e.attach_modem(m.clone());
    e.open(&m).unwrap();
    let _ = transmits(&mut e);
    assert!(e
        .broadcast(Instant::ZERO, Value::from(1), Some("p".into()))
        .unwrap());
    let ts = transmits(&mut e);
    assert_eq!((ts[0].channel, ts[1].channel), (65535, 65533));
    assert_eq!(ts[0].payload.get("nRecipient"), &Value::from(65535));
    assert_eq!(ts[0].payload.get("sProtocol"), &Value::from("p"));
}

#[test]
fn send_without_open_modem_returns_false_but_remembers_the_id() {
    let mut e = Endpoint::new(3, SplitMix64::new(9));
    e.attach_modem(ModemId::from("top"));
    assert!(!e.send(Instant::ZERO, 4.0, Value::Nil, None).unwrap());
    assert!(e.poll_modem_op().is_none());
    assert_eq!(e.remembered_ids(), 1);
    assert_eq!(e.stats().transmits, 0);
}

#[test]
fn loopback_delivers_the_inner_message_without_transmitting() {
    let mut e = Endpoint::new(5, SplitMix64::new(9));
    let m = ModemId::from("top");
    e.attach_modem(m.clone());
    e.open(&m).unwrap();
    let _ = transmits(&mut e);
    assert!(e
        .send(Instant::ZERO, 5.0, table! { "k" => 1 }, Some("p".into()))
        .unwrap());
    assert!(e.poll_modem_op().is_none());
    let d = e.poll_message().unwrap();
    assert_eq!(
        (d.sender, d.message, d.protocol, d.modem),
        (5.0, table! { "k" => 1 }, Value::from("p"), None)
    );
    // Works with rednet closed too.
    e.close_all();
    assert!(e.send(Instant::ZERO, 5.0, Value::Nil, None).unwrap());
    assert!(e.poll_message().is_some());
}

#[test]
fn computer_65535_broadcasts_to_itself_only() {
    let mut e = Endpoint::new(65_535, SplitMix64::new(9));
    let m = ModemId::from("top");
    e.attach_modem(m.clone());
    e.open(&m).unwrap();
    let _ = transmits(&mut e);
    assert!(e.broadcast(Instant::ZERO, Value::from(1), None).unwrap());
    assert!(transmits(&mut e).is_empty());
    assert_eq!(e.poll_message().unwrap().sender, 65535.0);
}

#[test]
fn recipients_without_a_channel_are_refused() {
    let mut e = Endpoint::new(3, SplitMix64::new(9));
    for r in [f64::NAN, f64::INFINITY, 1.5] {
        assert_eq!(
            e.send(Instant::ZERO, r, Value::Nil, None),
            Err(RednetError::ChannelOutOfRange)
        );
    }
    assert_eq!(e.remembered_ids(), 0);
    assert_eq!(
        RednetError::ChannelOutOfRange.to_string(),
        "Expected number in range 0-65535"
    );
}

#[test]
fn open_close_errors_and_ops() {
    let mut e = Endpoint::new(3, SplitMix64::new(9));
    let top = ModemId::from("top");
    assert_eq!(e.open(&top), Err(RednetError::NoSuchModem(top.clone())));
    assert_eq!(e.open(&top).unwrap_err().to_string(), "No such modem: top");
    assert_eq!(e.close(&top).unwrap_err().to_string(), "No such modem: top");
    assert!(!e.is_open(&top) && !e.is_open_any());
    e.attach_modem(top.clone());
    e.attach_modem(ModemId::from("back"));
    e.open(&top).unwrap();
    assert!(e.is_open(&top) && e.is_open_any() && !e.is_open(&ModemId::from("back")));
    e.close_all();
    let ops: Vec<ModemOp> = core::iter::from_fn(|| e.poll_modem_op()).collect();
    assert_eq!(
        ops,
        [
            ModemOp::Open {
                modem: top.clone(),
                channel: 3
            },
            ModemOp::Open {
                modem: top.clone(),
                channel: 65535
            },
            ModemOp::Close {
                modem: top.clone(),
                channel: 3
            },
            ModemOp::Close {
                modem: top.clone(),
                channel: 65535
            },
        ]
    );
    assert!(!e.is_open_any());
    assert!(e.detach_modem(&top) && !e.detach_modem(&top));
}

/// Computer 1 on network A, computer 2 on network B, two repeaters each with a modem on both:
/// every message crosses through both repeaters in parallel (and the repeaters echo each
/// other's copies), yet each is delivered exactly once — CC:Tweaked's rednet_spec scenario.
#[test]
fn two_parallel_repeaters_deliver_exactly_once() {
    let mut bus: Bus<SplitMix64> = Bus::new();
    let a = bus.add_computer(1, SplitMix64::new(1));
    let b = bus.add_computer(2, SplitMix64::new(2));
    let r1 = bus.add_computer(10, SplitMix64::new(10));
    let r2 = bus.add_computer(11, SplitMix64::new(11));
    let ma = bus.add_modem(0);
    let mb = bus.add_modem(1);
    bus.attach(a, ma, "left");
    bus.attach(b, mb, "right");
    for r in [r1, r2] {
        let x = bus.add_modem(0);
        let y = bus.add_modem(1);
        bus.attach(r, x, "top");
        bus.attach(r, y, "bottom");
        bus.add_repeater(r, &mut SplitMix64::new(r as u64));
    }
    bus.open(a, "left").unwrap();
    bus.open(b, "right").unwrap();
    bus.record();

    for i in 0..20 {
        bus.send(a, 2.0, Value::from(i), Some("ping")).unwrap();
        bus.send(b, 1.0, Value::from(100 + i), None).unwrap();
        bus.broadcast(a, Value::from(200 + i), None).unwrap();
        bus.advance(Duration::from_millis(700));
    }
    let at_b: Vec<Value> = bus
        .take_delivered(b)
        .into_iter()
        .map(|d| d.message)
        .collect();
    let at_a: Vec<Value> = bus
        .take_delivered(a)
        .into_iter()
        .map(|d| d.message)
        .collect();
    let want_b: Vec<Value> = (0..20)
        .flat_map(|i| [Value::from(i), Value::from(200 + i)])
        .collect();
    assert_eq!(at_b, want_b);
    assert_eq!(
        at_a,
        (0..20).map(|i| Value::from(100 + i)).collect::<Vec<_>>()
    );
    // The repeaters really did the carrying, in parallel: each forwarded every message once.
    assert_eq!(bus.repeater(r1).unwrap().forwarded(), 60);
    assert_eq!(bus.repeater(r2).unwrap().forwarded(), 60);
    // No rednet delivery at the repeaters (rednet is closed there).
    assert!(bus.take_delivered(r1).is_empty() && bus.take_delivered(r2).is_empty());
    let transcript = bus.take_transcript();
    assert!(transcript.iter().any(|e| matches!(
        e,
        BusEvent::Transmit {
            by_repeater: true,
            ..
        }
    )));

    // 30 s later the repeaters have forgotten everything; the dedup sets emptied too.
    bus.advance(Duration::from_secs(40));
    assert_eq!(bus.repeater(r1).unwrap().remembered_ids(), 0);
    assert_eq!(bus.endpoint(a).remembered_ids(), 0);
    assert_eq!(bus.endpoint(b).poll_timeout(), None);
}

#[test]
fn the_sending_modem_never_hears_itself_but_a_sibling_modem_does() {
    let mut bus: Bus<SplitMix64> = Bus::new();
    let a = bus.add_computer(1, SplitMix64::new(1));
    let m1 = bus.add_modem(0);
    let m2 = bus.add_modem(0);
    bus.attach(a, m1, "left");
    bus.attach(a, m2, "right");
    bus.open(a, "left").unwrap();
    bus.open(a, "right").unwrap();
    bus.broadcast(a, Value::from(1), None).unwrap();
    // Each modem transmits on 65535 (and 65533, which nobody has open). The copy from "left"
    // reaches "right" and vice versa — 2 packets, both ignored as the own ID — but neither
    // modem hears its own transmit (which would make 4).
    assert!(
        bus.take_delivered(a).is_empty(),
        "own broadcasts are remembered"
    );
    assert_eq!(bus.endpoint(a).stats().ignored, 2);
    // A second computer sharing modem m2 (a full-block wired modem) gets everything m2 gets,
    // once: the copies from "left" (via m2) carry one message ID.
    let b = bus.add_computer(2, SplitMix64::new(2));
    bus.attach(b, m2, "modem_0");
    bus.open(b, "modem_0").unwrap();
    bus.broadcast(a, Value::from(2), None).unwrap();
    let got = bus.take_delivered(b);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].modem, Some(ModemId::from("modem_0")));
}

#[test]
fn unicast_to_a_colliding_id_is_not_stolen() {
    let mut bus: Bus<SplitMix64> = Bus::new();
    let ids = [1u32, 2, 65_502];
    let cs: Vec<usize> = ids
        .iter()
        .map(|&id| bus.add_computer(id, SplitMix64::new(u64::from(id))))
        .collect();
    let m: Vec<usize> = ids.iter().map(|_| bus.add_modem(0)).collect();
    for (i, &c) in cs.iter().enumerate() {
        bus.attach(c, m[i], "top");
        bus.open(c, "top").unwrap();
    }
    bus.send(cs[0], 65_502.0, Value::from("for 65502"), None)
        .unwrap();
    bus.send(cs[0], 2.0, Value::from("for 2"), None).unwrap();
    assert_eq!(
        bus.take_delivered(cs[2])
            .into_iter()
            .map(|d| d.message)
            .collect::<Vec<_>>(),
        [Value::from("for 65502")]
    );
    assert_eq!(
        bus.take_delivered(cs[1])
            .into_iter()
            .map(|d| d.message)
            .collect::<Vec<_>>(),
        [Value::from("for 2")]
    );
}
