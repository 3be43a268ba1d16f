//! Each of rednet.lua's acceptance rules (spec §5), in order, rejecting what it must — and the
//! dedup window's exact lifetime.

use modem_value::{table, DecodeError, Instant, Kind, SplitMix64, Value};
use rednet_codec::{Endpoint, Ignored, ModemId, ModemOp, Verdict};

const ME: u32 = 7;
const TOP: ModemId = ModemId::from_static("top");

fn endpoint() -> Endpoint<SplitMix64> {
    let mut e = Endpoint::new(ME, SplitMix64::new(42));
    e.attach_modem(TOP);
    e.open(&TOP).unwrap();
    let ops: Vec<_> = core::iter::from_fn(|| e.poll_modem_op()).collect();
    assert_eq!(
        ops,
        [
            ModemOp::Open {
                modem: TOP,
                channel: 7
            },
            ModemOp::Open {
                modem: TOP,
                channel: 65535
            }
        ]
    );
    e
}

fn msg(id: impl Into<Value>, recipient: impl Into<Value>, sender: impl Into<Value>) -> Value {
    table! { "nMessageID" => id.into(), "nRecipient" => recipient.into(), "nSender" => sender.into(), "message" => "hi", "sProtocol" => "p" }
}

fn at(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

#[test]
fn a_valid_unicast_is_delivered_with_its_fields() {
    let mut e = endpoint();
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 7, 3, &msg(10, 7, 3)),
        Verdict::Delivered
    );
    let d = e.poll_message().unwrap();
    assert_eq!((d.sender, d.message_id), (3.0, 10.0));
    assert_eq!(
        (d.message, d.protocol, d.modem),
        (Value::from("hi"), Value::from("p"), Some(TOP))
    );
    assert!(e.poll_message().is_none());
}

#[test]
fn rule1_wrong_channel() {
    let mut e = endpoint();
    for ch in [8, 65533, 65534, 0] {
        assert_eq!(
            e.handle_modem_message(at(0), &TOP, ch, 3, &msg(10, 7, 3)),
            Verdict::Ignored(Ignored::WrongChannel)
        );
    }
    // Nothing was remembered: the same ID on the right channel is still new.
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 7, 3, &msg(10, 7, 3)),
        Verdict::Delivered
    );
}

#[test]
fn rule1_full_id_channel_mapping() {
    // ID 65507 listens on 7 and compares the full ID.
    let mut e = Endpoint::new(65_507, SplitMix64::new(1));
    e.attach_modem(TOP);
    e.open(&TOP).unwrap();
    assert_eq!(e.own_channel(), 7);
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 7, 3, &msg(1, 65_507, 3)),
        Verdict::Delivered
    );
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 7, 3, &msg(2, 7, 3)),
        Verdict::Ignored(Ignored::NotForUs)
    );
}

#[test]
fn rule2_not_a_table_or_bad_ids() {
    let mut e = endpoint();
    let bad = |v: &Verdict| matches!(v, Verdict::Ignored(Ignored::BadMessageId(_)));
    assert!(bad(&e.handle_modem_message(
        at(0),
        &TOP,
        7,
        3,
        &Value::from("hello")
    )));
    assert!(bad(&e.handle_modem_message(at(0), &TOP, 7, 3, &Value::Nil)));
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 7, 3, &msg(Value::Nil, 7, 3)),
        Verdict::Ignored(Ignored::BadMessageId(DecodeError::Missing {
            field: "nMessageID"
        }))
    );
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 7, 3, &msg("10", 7, 3)),
        Verdict::Ignored(Ignored::BadMessageId(DecodeError::WrongType {
            field: "nMessageID",
            expected: "number",
            found: Kind::Str
        }))
    );
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 7, 3, &msg(f64::NAN, 7, 3)),
        Verdict::Ignored(Ignored::BadMessageId(DecodeError::Invalid {
            field: "nMessageID",
            reason: "NaN"
        }))
    );
    // NaN twice is still rejected as NaN (a NaN key can never be remembered).
    assert!(bad(&e.handle_modem_message(
        at(0),
        &TOP,
        7,
        3,
        &msg(f64::NAN, 7, 3)
    )));
    // Odd but numeric IDs are accepted, as by rednet.lua.
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 7, 3, &msg(-1.5, 7, 3)),
        Verdict::Delivered
    );
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 7, 3, &msg(f64::INFINITY, 7, 3)),
        Verdict::Delivered
    );
    assert_eq!(e.stats().delivered, 2);
}

#[test]
fn rule2_duplicate_within_window_then_accepted_after() {
    let mut e = endpoint();
    assert_eq!(
        e.handle_modem_message(at(1000), &TOP, 7, 3, &msg(10, 7, 3)),
        Verdict::Delivered
    );
    // Same ID, any channel/sender: duplicate. -0/0 are the same key too.
    assert_eq!(
        e.handle_modem_message(at(2000), &TOP, 65535, 4, &msg(10, 65535, 4)),
        Verdict::Ignored(Ignored::Duplicate)
    );
    assert_eq!(
        e.handle_modem_message(at(2000), &TOP, 7, 3, &msg(0.0, 7, 3)),
        Verdict::Delivered
    );
    assert_eq!(
        e.handle_modem_message(at(2000), &TOP, 7, 3, &msg(-0.0, 7, 3)),
        Verdict::Ignored(Ignored::Duplicate)
    );
    // The prune timer started at the first insert: t = 1 s + 10 s. At 10.4 s (9.4 s after insert)
    // the ID is still remembered.
    assert_eq!(e.poll_timeout(), Some(at(11_000)));
    assert_eq!(
        e.handle_modem_message(at(10_400), &TOP, 7, 3, &msg(10, 7, 3)),
        Verdict::Ignored(Ignored::Duplicate)
    );
    // At the prune tick (10 s after insert ≥ 9.5 s) it is forgotten…
    e.handle_timeout(at(11_000));
    assert!(!e.remembers(10.0));
    // …while 0 (inserted at 2 s, deadline 11.5 s) survives this prune and the timer restarts.
    assert!(e.remembers(0.0));
    assert_eq!(e.poll_timeout(), Some(at(21_000)));
    assert_eq!(
        e.handle_modem_message(at(11_000), &TOP, 7, 3, &msg(10, 7, 3)),
        Verdict::Delivered
    );
    // 0 is remembered until the 21 s tick: 19 s, within CC's ≤ 19.5 s.
    assert_eq!(
        e.handle_modem_message(at(20_999), &TOP, 7, 3, &msg(0.0, 7, 3)),
        Verdict::Ignored(Ignored::Duplicate)
    );
    assert_eq!(
        e.handle_modem_message(at(21_000), &TOP, 7, 3, &msg(0.0, 7, 3)),
        Verdict::Delivered
    );
}

#[test]
fn prune_timer_stops_when_the_set_empties() {
    let mut e = endpoint();
    assert_eq!(e.poll_timeout(), None);
    let _ = e.handle_modem_message(at(0), &TOP, 7, 3, &msg(1, 7, 3));
    assert_eq!(e.poll_timeout(), Some(at(10_000)));
    e.handle_timeout(at(10_000));
    assert_eq!((e.remembered_ids(), e.poll_timeout()), (0, None));
}

#[test]
fn rule3_sender_must_be_nil_or_a_number() {
    let mut e = endpoint();
    for s in [
        Value::from("3"),
        Value::from(true),
        table! { "a" => 1 },
        Value::Num(f64::NAN),
    ] {
        let v = e.handle_modem_message(at(0), &TOP, 7, 3, &msg(10, 7, s));
        assert!(
            matches!(v, Verdict::Ignored(Ignored::BadSender(_))),
            "{v:?}"
        );
    }
    // A missing sender falls back to the reply channel.
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 7, 1234, &msg(10, 7, Value::Nil)),
        Verdict::Delivered
    );
    assert_eq!(e.poll_message().unwrap().sender, 1234.0);
}

#[test]
fn rule4_wrong_recipient_only_on_non_broadcast_channels() {
    let mut e = endpoint();
    for r in [
        Value::from(8),
        Value::from("7"),
        Value::Nil,
        Value::from(65535),
    ] {
        assert_eq!(
            e.handle_modem_message(at(0), &TOP, 7, 3, &msg(10, r, 3)),
            Verdict::Ignored(Ignored::NotForUs)
        );
    }
    // On 65535 the recipient is not checked at all.
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 65535, 3, &msg(10, 8, 3)),
        Verdict::Delivered
    );
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 65535, 3, &msg(11, "x", 3)),
        Verdict::Delivered
    );
}

#[test]
fn rule5_closed_or_unknown_modem() {
    let mut e = endpoint();
    let back = ModemId::from("back");
    assert_eq!(
        e.handle_modem_message(at(0), &back, 7, 3, &msg(10, 7, 3)),
        Verdict::Ignored(Ignored::ModemNotOpen)
    );
    e.attach_modem(back.clone());
    assert_eq!(
        e.handle_modem_message(at(0), &back, 7, 3, &msg(10, 7, 3)),
        Verdict::Ignored(Ignored::ModemNotOpen)
    );
    // Half open (someone closed 65535 behind rednet's back) is not open.
    e.handle_channel_change(&TOP, 65535, false);
    assert!(!e.is_open(&TOP));
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 7, 3, &msg(10, 7, 3)),
        Verdict::Ignored(Ignored::ModemNotOpen)
    );
    e.handle_channel_change(&TOP, 65535, true);
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 7, 3, &msg(10, 7, 3)),
        Verdict::Delivered
    );
    e.close(&TOP).unwrap();
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 7, 3, &msg(11, 7, 3)),
        Verdict::Ignored(Ignored::ModemNotOpen)
    );
}

#[test]
fn rules_apply_in_order() {
    let mut e = endpoint();
    // Wrong channel wins over everything else.
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 9, 3, &Value::Nil),
        Verdict::Ignored(Ignored::WrongChannel)
    );
    let _ = e.handle_modem_message(at(0), &TOP, 7, 3, &msg(10, 7, 3));
    // Duplicate is checked before the sender and the recipient.
    assert_eq!(
        e.handle_modem_message(at(0), &TOP, 7, 3, &msg(10, 8, "x")),
        Verdict::Ignored(Ignored::Duplicate)
    );
    // Sender before recipient; recipient before modem.
    assert!(matches!(
        e.handle_modem_message(at(0), &TOP, 7, 3, &msg(11, 8, "x")),
        Verdict::Ignored(Ignored::BadSender(_))
    ));
    let side = ModemId::from("side");
    assert_eq!(
        e.handle_modem_message(at(0), &side, 7, 3, &msg(11, 8, 3)),
        Verdict::Ignored(Ignored::NotForUs)
    );
}

#[test]
fn a_full_dedup_set_forgets_its_oldest_ids_for_new_ones() {
    let config = rednet_codec::EndpointConfig {
        dedup_capacity: 4,
        ..Default::default()
    };
    let mut e = Endpoint::with_config(ME, config, SplitMix64::new(3));
    e.attach_modem(TOP);
    e.open(&TOP).unwrap();
    for (t, id) in [(0, 1), (0, 2), (1, 3), (2, 4)] {
        assert_eq!(
            e.handle_modem_message(at(t), &TOP, 7, 3, &msg(id, 7, 3)),
            Verdict::Delivered
        );
    }
    // Full: the IDs remembered first (both at t = 0) make room for the new one.
    assert_eq!(
        e.handle_modem_message(at(3), &TOP, 7, 3, &msg(5, 7, 3)),
        Verdict::Delivered
    );
    assert_eq!(e.stats().dedup_evicted, 2);
    assert_eq!(e.remembered_ids(), 3);
    for id in 3..=5 {
        assert_eq!(
            e.handle_modem_message(at(4), &TOP, 7, 3, &msg(id, 7, 3)),
            Verdict::Ignored(Ignored::Duplicate)
        );
    }
    // The documented price: a late copy of an evicted message is delivered again.
    assert_eq!(
        e.handle_modem_message(at(5), &TOP, 7, 3, &msg(1, 7, 3)),
        Verdict::Delivered
    );
}

/// Under a flood that fills the dedup set (65 536 junk broadcasts with distinct IDs), a genuine
/// message is still delivered instead of being dropped until the prune timer runs.
#[test]
fn junk_broadcast_flood_does_not_lock_out_a_genuine_message() {
    let mut e = Endpoint::new(ME, SplitMix64::new(4));
    e.attach_modem(TOP);
    e.open(&TOP).unwrap();
    let cap = e.config().dedup_capacity;
    assert_eq!(cap, rednet_codec::DEFAULT_DEDUP_CAPACITY);
    for id in 0..cap as u32 {
        let junk = msg(1_000_000.0 + f64::from(id), 65535, 9);
        let v = e.handle_modem_message(at(u64::from(id / 64)), &TOP, 65535, 9, &junk);
        assert_eq!(v, Verdict::Delivered);
        while e.poll_message().is_some() {}
    }
    assert_eq!(e.remembered_ids(), cap);
    let genuine = msg(42, ME, 5);
    assert_eq!(
        e.handle_modem_message(at(1100), &TOP, 7, 5, &genuine),
        Verdict::Delivered
    );
    assert!(e.poll_message().is_some());
    // …and remembered: its duplicate is still refused.
    assert_eq!(
        e.handle_modem_message(at(1101), &TOP, 7, 5, &genuine),
        Verdict::Ignored(Ignored::Duplicate)
    );
    assert!(e.remembered_ids() <= cap);
}

#[test]
fn message_queue_is_bounded_like_the_event_queue() {
    let config = rednet_codec::EndpointConfig {
        message_queue_limit: 3,
        ..Default::default()
    };
    let mut e = Endpoint::with_config(ME, config, SplitMix64::new(3));
    e.attach_modem(TOP);
    e.open(&TOP).unwrap();
    for id in 1..=5 {
        assert_eq!(
            e.handle_modem_message(at(0), &TOP, 7, 3, &msg(id, 7, 3)),
            Verdict::Delivered
        );
    }
    assert_eq!(e.queued_messages(), 3);
    assert_eq!(e.stats().dropped_queue_full, 2);
    let ids: Vec<f64> = core::iter::from_fn(|| e.poll_message())
        .map(|d| d.message_id)
        .collect();
    assert_eq!(ids, [1.0, 2.0, 3.0]);
}

#[test]
fn clock_going_backwards_is_clamped() {
    let mut e = endpoint();
    let _ = e.handle_modem_message(at(5000), &TOP, 7, 3, &msg(1, 7, 3));
    // An earlier instant is treated as 5 s: the ID is still remembered at "3 s".
    assert_eq!(
        e.handle_modem_message(at(3000), &TOP, 7, 3, &msg(1, 7, 3)),
        Verdict::Ignored(Ignored::Duplicate)
    );
    assert_eq!(e.poll_timeout(), Some(at(15_000)));
}
