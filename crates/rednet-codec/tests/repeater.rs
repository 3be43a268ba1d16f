//! repeat.lua (spec §6) and `rednet.receive` requests.

use modem_value::{table, Duration, Instant, LuaStr, SplitMix64, Value};
use rednet_codec::{Completion, Endpoint, ModemId, ModemOp, NotRepeated, Repeater};

fn ops(r: &mut Repeater) -> Vec<ModemOp> {
    core::iter::from_fn(|| r.poll_modem_op()).collect()
}

fn msg(id: impl Into<Value>, recipient: impl Into<Value>) -> Value {
    table! { "nMessageID" => id.into(), "nRecipient" => recipient.into(), "nSender" => 1, "message" => "m" }
}

fn repeater() -> (Repeater, [ModemId; 2]) {
    let mut r = Repeater::new(&mut SplitMix64::new(5));
    let ms = [ModemId::from("left"), ModemId::from("right")];
    for m in &ms {
        assert!(r.attach_modem(m.clone()));
    }
    assert!(!r.attach_modem(ms[0].clone()));
    assert_eq!(
        ops(&mut r),
        [
            ModemOp::Open {
                modem: ms[0].clone(),
                channel: 65533
            },
            ModemOp::Open {
                modem: ms[1].clone(),
                channel: 65533
            }
        ]
    );
    (r, ms)
}

#[test]
fn echoes_on_every_modem_repeat_then_target_keeping_reply_and_table() {
    let (mut r, ms) = repeater();
    let p = msg(77, 65_503);
    assert_eq!(
        r.handle_modem_message(Instant::ZERO, &ms[1], 65533, 1234, &p),
        Ok(())
    );
    let got: Vec<(String, u16, u16, bool)> = ops(&mut r)
        .into_iter()
        .map(|op| match op {
            ModemOp::Transmit(t) => (
                t.modem.to_string(),
                t.channel,
                t.reply_channel,
                t.payload == p,
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        [
            ("left".into(), 65533, 1234, true),
            ("left".into(), 3, 1234, true),
            ("right".into(), 65533, 1234, true),
            ("right".into(), 3, 1234, true),
        ]
    );
    // Broadcasts go out on 65535.
    assert_eq!(
        r.handle_modem_message(Instant::ZERO, &ms[0], 65533, 9, &msg(78, 65535)),
        Ok(())
    );
    assert_eq!(
        ops(&mut r)
            .iter()
            .filter_map(|op| match op {
                ModemOp::Transmit(t) => Some(t.channel),
                _ => None,
            })
            .collect::<Vec<_>>(),
        [65533, 65535, 65533, 65535]
    );
}

#[test]
fn rejects_what_repeat_lua_does_not_forward() {
    let (mut r, ms) = repeater();
    let now = Instant::ZERO;
    let h = |r: &mut Repeater, ch: u16, v: &Value| r.handle_modem_message(now, &ms[0], ch, 1, v);
    assert_eq!(h(&mut r, 65535, &msg(1, 2)), Err(NotRepeated::WrongChannel));
    assert_eq!(
        h(&mut r, 65533, &Value::from("x")),
        Err(NotRepeated::NotATable)
    );
    assert_eq!(
        h(&mut r, 65533, &msg(Value::Nil, 2)),
        Err(NotRepeated::BadMessageId)
    );
    assert_eq!(
        h(&mut r, 65533, &msg(false, 2)),
        Err(NotRepeated::BadMessageId)
    );
    assert_eq!(
        h(&mut r, 65533, &msg(f64::NAN, 2)),
        Err(NotRepeated::BadMessageId)
    );
    assert_eq!(
        h(&mut r, 65533, &msg("id", 2)),
        Err(NotRepeated::BadMessageId)
    );
    assert_eq!(
        h(&mut r, 65533, &msg(1, "2")),
        Err(NotRepeated::BadRecipient)
    );
    assert_eq!(
        h(&mut r, 65533, &msg(1, Value::Nil)),
        Err(NotRepeated::BadRecipient)
    );
    assert_eq!(h(&mut r, 65533, &msg(1, 2.5)), Err(NotRepeated::NoChannel));
    assert!(ops(&mut r).is_empty());
    assert_eq!(r.remembered_ids(), 0);
}

#[test]
fn remembers_each_id_for_exactly_30_seconds() {
    let (mut r, ms) = repeater();
    assert_eq!(
        r.handle_modem_message(Instant::from_secs(1), &ms[0], 65533, 1, &msg(5, 2)),
        Ok(())
    );
    assert_eq!(
        r.handle_modem_message(Instant::from_secs(2), &ms[0], 65533, 1, &msg(6, 2)),
        Ok(())
    );
    assert_eq!(r.poll_timeout(), Some(Instant::from_secs(31)));
    assert_eq!(
        r.handle_modem_message(Instant::from_millis(30_999), &ms[1], 65533, 1, &msg(5, 2)),
        Err(NotRepeated::Duplicate)
    );
    r.handle_timeout(Instant::from_secs(31));
    assert_eq!(r.poll_timeout(), Some(Instant::from_secs(32)));
    assert_eq!(
        r.handle_modem_message(Instant::from_secs(31), &ms[1], 65533, 1, &msg(5, 2)),
        Ok(())
    );
    assert_eq!(
        r.handle_modem_message(Instant::from_secs(31), &ms[1], 65533, 1, &msg(6, 2)),
        Err(NotRepeated::Duplicate)
    );
}

#[test]
fn full_memory_drops_new_ids_and_keeps_old_ones() {
    let mut r = Repeater::with_capacity(2, &mut SplitMix64::new(1));
    let m = ModemId::from("top");
    r.attach_modem(m.clone());
    let now = Instant::ZERO;
    assert_eq!(
        r.handle_modem_message(now, &m, 65533, 1, &msg(1, 2)),
        Ok(())
    );
    assert_eq!(
        r.handle_modem_message(now, &m, 65533, 1, &msg(2, 2)),
        Ok(())
    );
    assert_eq!(
        r.handle_modem_message(now, &m, 65533, 1, &msg(3, 2)),
        Err(NotRepeated::MemoryFull)
    );
    assert_eq!(
        r.handle_modem_message(now, &m, 65533, 1, &msg(1, 2)),
        Err(NotRepeated::Duplicate)
    );
    assert_eq!(r.forwarded(), 2);
    r.shutdown();
    assert_eq!(
        ops(&mut r).last(),
        Some(&ModemOp::Close {
            modem: m,
            channel: 65533
        })
    );
}

fn open_endpoint() -> (Endpoint<SplitMix64>, ModemId) {
    let mut e = Endpoint::new(7, SplitMix64::new(3));
    let m = ModemId::from("top");
    e.attach_modem(m.clone());
    e.open(&m).unwrap();
    while e.poll_modem_op().is_some() {}
    (e, m)
}

fn unicast(id: u32, proto: Option<&str>) -> Value {
    table! { "nMessageID" => id, "nRecipient" => 7, "nSender" => 3, "message" => id, "sProtocol" => proto }
}

#[test]
fn receive_filters_by_protocol_and_times_out() {
    let (mut e, m) = open_endpoint();
    let t0 = Instant::ZERO;
    let any = e.receive(t0, None, Some(Duration::from_secs(5))).unwrap();
    let chat = e
        .receive(t0, Some(LuaStr::from("chat")), Some(Duration::from_secs(5)))
        .unwrap();
    let forever = e.receive(t0, Some(LuaStr::from("never")), None).unwrap();
    assert_eq!(e.poll_timeout(), Some(Instant::from_secs(5)));
    let _ = e.handle_modem_message(Instant::from_secs(1), &m, 7, 3, &unicast(1, None));
    match e.poll_completion() {
        Some(Completion::Received {
            id,
            message: Some(d),
        }) => {
            assert_eq!((id, d.message), (any, Value::from(1)));
        }
        other => panic!("{other:?}"),
    }
    assert!(e.poll_completion().is_none());
    let _ = e.handle_modem_message(Instant::from_secs(2), &m, 7, 3, &unicast(2, Some("chat")));
    assert!(
        matches!(e.poll_completion(), Some(Completion::Received { id, message: Some(_) }) if id == chat)
    );
    // The messages are also events for whoever drains poll_message.
    assert_eq!(e.queued_messages(), 2);
    // A fresh receive times out at its deadline exactly.
    let late = e
        .receive(
            Instant::from_secs(3),
            None,
            Some(Duration::from_millis(1500)),
        )
        .unwrap();
    assert_eq!(e.poll_timeout(), Some(Instant::from_millis(4500)));
    e.handle_timeout(Instant::from_millis(4499));
    assert!(e.poll_completion().is_none());
    e.handle_timeout(Instant::from_millis(4500));
    assert_eq!(
        e.poll_completion(),
        Some(Completion::Received {
            id: late,
            message: None
        })
    );
    assert_eq!(e.pending_requests(), 1);
    assert!(e.cancel(forever));
    // Only the prune timer remains.
    assert_eq!(e.poll_timeout(), Some(Instant::from_secs(11)));
}

#[test]
fn receive_only_sees_messages_after_the_call_and_loopback_counts() {
    let (mut e, m) = open_endpoint();
    let _ = e.handle_modem_message(Instant::ZERO, &m, 7, 3, &unicast(1, None));
    let r = e.receive(Instant::ZERO, None, None).unwrap();
    assert!(e.poll_completion().is_none());
    e.send(Instant::ZERO, 7.0, Value::from("self"), None)
        .unwrap();
    match e.poll_completion() {
        Some(Completion::Received {
            id,
            message: Some(d),
        }) => assert_eq!((id, d.sender, d.message), (r, 7.0, Value::from("self"))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn phoenix_0_0_9_broadcasts_are_accepted_and_forwarded_like_craftos_does() {
    // Phoenix 0.0.9 broadcasts with nRecipient = 4294967295 on channel 65535.
    let p = table! { "nMessageID" => 99, "nRecipient" => 4_294_967_295u32, "nSender" => 3, "message" => "x" };
    let (mut e, m) = open_endpoint();
    assert_eq!(
        e.handle_modem_message(Instant::ZERO, &m, 65535, 3, &p),
        rednet_codec::Verdict::Delivered
    );
    // repeat.lua forwards it to 4294967295 % 65500 = 1295, not to 65535.
    let (mut r, ms) = repeater();
    assert_eq!(
        r.handle_modem_message(Instant::ZERO, &ms[0], 65533, 3, &p),
        Ok(())
    );
    let chans: Vec<u16> = ops(&mut r)
        .iter()
        .filter_map(|op| match op {
            ModemOp::Transmit(t) => Some(t.channel),
            _ => None,
        })
        .collect();
    assert_eq!(chans, [65533, 1295, 65533, 1295]);
}
