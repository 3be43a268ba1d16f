//! Property tests: every wire type round-trips through its encoding, and decoders never
//! panic on arbitrary values.

use core::net::Ipv4Addr;

use modem_value::{LuaStr, Table, Value, WireMessage};
use pip_core::wire::{
    ArpMessage, ArpReply, ArpRequest, ControlMessage, Frame, LinkFrame, MessageId, MessageType,
    PipPacket,
};
use proptest::prelude::*;

fn arb_ip() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn arb_table() -> impl Strategy<Value = Table> {
    proptest::collection::vec(("[a-z]{1,6}", any::<i32>()), 0..4).prop_map(|kv| {
        kv.into_iter()
            .map(|(k, v)| (Value::from(k), Value::from(v)))
            .collect()
    })
}

fn arb_id() -> impl Strategy<Value = MessageId> {
    prop_oneof![
        any::<i64>().prop_map(|n| MessageId::Num(n as f64)),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(|b| MessageId::Str(LuaStr::from(b))),
    ]
}

fn arb_pip() -> impl Strategy<Value = PipPacket> {
    (arb_ip(), arb_ip(), arb_id(), any::<u32>(), arb_table()).prop_map(
        |(source, destination, message_id, hops_left, payload)| PipPacket {
            source,
            destination,
            message_id,
            hops_left,
            payload,
        },
    )
}

fn arb_arp() -> impl Strategy<Value = ArpMessage> {
    prop_oneof![
        (any::<u32>(), proptest::option::of(arb_ip()), arb_ip()).prop_map(|(s, sip, dip)| {
            ArpMessage::Request(ArpRequest {
                source: s,
                source_ip: sip,
                destination_ip: dip,
            })
        }),
        (
            any::<u32>(),
            arb_ip(),
            any::<u32>(),
            proptest::option::of(arb_ip())
        )
            .prop_map(|(s, sip, d, dip)| ArpMessage::Reply(ArpReply {
                source: s,
                source_ip: sip,
                destination: d,
                destination_ip: dip,
            })),
    ]
}

fn arb_control() -> impl Strategy<Value = ControlMessage> {
    let types = [
        MessageType::Ping,
        MessageType::Pong,
        MessageType::Unreachable,
        MessageType::Timeout,
    ];
    (
        0usize..4,
        proptest::option::of("[ -~]{0,10}"),
        proptest::option::of(arb_table()),
    )
        .prop_map(move |(t, e, p)| ControlMessage {
            message_type: types[t],
            error: e.map(LuaStr::from),
            payload: p,
        })
}

fn table_of(v: Value) -> Table {
    match v {
        Value::Table(t) => t,
        _ => Table::new(),
    }
}

proptest! {
    #[test]
    fn pip_round_trips(p in arb_pip()) {
        prop_assert_eq!(PipPacket::decode(&p.encode()), Ok(p));
    }

    #[test]
    fn arp_round_trips(a in arb_arp()) {
        prop_assert_eq!(ArpMessage::decode(&a.encode()), Ok(a.clone()));
        prop_assert_eq!(Frame::decode(&a.encode()), Ok(Frame::Arp(a)));
    }

    #[test]
    fn control_round_trips(c in arb_control()) {
        prop_assert_eq!(ControlMessage::decode(&c.encode()), Ok(c));
    }

    #[test]
    fn link_round_trips(src in any::<u32>(), dst in proptest::option::of(any::<u32>()), p in arb_pip()) {
        let f = LinkFrame { source: src, destination: dst, payload: table_of(p.encode()) };
        prop_assert_eq!(LinkFrame::decode(&f.encode()), Ok(f.clone()));
        prop_assert_eq!(Frame::decode(&f.encode()), Ok(Frame::Link(f)));
    }

    #[test]
    fn text_addresses_round_trip(ip in arb_ip()) {
        let s = pip_core::addr::format_ip(ip);
        prop_assert_eq!(pip_core::addr::parse_ip(s.as_bytes()), Ok(ip));
    }

    #[test]
    fn removing_a_required_field_fails(p in arb_pip(), which in 0usize..6) {
        let field = ["source", "destination", "messageID", "hopsLeft", "payload", "type"][which];
        let mut t = table_of(p.encode());
        t.insert(Value::from(field), Value::Nil).unwrap();
        prop_assert!(PipPacket::decode(&Value::Table(t)).is_err());
    }
}
