//! Wire round trips and strictness of `Segment` and `Datagram`.

use modem_value::{LuaStr, Table, Value, WireMessage};
use proptest::prelude::*;
use psp_proto::{Datagram, Segment, MAX_WIRE_NUMBER};

fn segment() -> impl Strategy<Value = Segment> {
    (
        0..=MAX_WIRE_NUMBER,
        proptest::option::of(0..=MAX_WIRE_NUMBER),
        proptest::option::of(0u64..1000),
        any::<(bool, bool, bool)>(),
        proptest::option::of(prop::collection::vec(any::<u8>(), 0..40)),
    )
        .prop_map(
            |(sequence, acknowledgement, window_size, (s, f, r), p)| Segment {
                sequence,
                acknowledgement,
                window_size,
                synchronize: s,
                fin: f,
                reset: r,
                payload: p.map(LuaStr::from),
            },
        )
}

fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>().prop_map(Value::Num),
        (-5i64..5).prop_map(Value::from),
        "[a-z]{0,4}".prop_map(Value::from),
        Just(Value::Table(Table::new())),
    ]
}

/// The straightforward decoder (one typed lookup per field), as the reference model of the
/// single-pass decoder in the crate.
fn reference_decode(v: &Value) -> Result<Segment, modem_value::DecodeError> {
    use modem_value::DecodeError;
    v.expect_table("(value)")?;
    if !v.get("PhoenixNetworking").is_truthy() {
        return Err(DecodeError::Missing {
            field: "PhoenixNetworking",
        });
    }
    if v.field_str("type")?.as_bytes() != b"socket" {
        return Err(DecodeError::Invalid {
            field: "type",
            reason: "wrong message type",
        });
    }
    let int = |n: Option<f64>, field: &'static str| -> Result<Option<u64>, DecodeError> {
        match n {
            None => Ok(None),
            Some(n) if n.is_nan() => Err(DecodeError::Invalid {
                field,
                reason: "NaN",
            }),
            Some(n) if n < 0.0 => Err(DecodeError::Invalid {
                field,
                reason: "negative",
            }),
            Some(n) if n > MAX_WIRE_NUMBER as f64 => Err(DecodeError::Invalid {
                field,
                reason: "above 2^53",
            }),
            Some(n) if n.fract() != 0.0 => Err(DecodeError::Invalid {
                field,
                reason: "not an integer",
            }),
            Some(n) => Ok(Some(n as u64)),
        }
    };
    Ok(Segment {
        sequence: int(Some(v.field_num("sequence")?), "sequence")?.unwrap_or(0),
        acknowledgement: int(v.field_opt_num("acknowledgement")?, "acknowledgement")?,
        window_size: int(v.field_opt_num("windowSize")?, "windowSize")?,
        synchronize: v.field_opt_bool("synchronize")?.unwrap_or(false),
        fin: v.field_opt_bool("final")?.unwrap_or(false),
        reset: v.field_opt_bool("reset")?.unwrap_or(false),
        payload: v.field_opt_str("payload")?.cloned(),
    })
}

proptest! {
    /// The single-pass decoder agrees with the reference on any table of these fields (and
    /// extra ones), errors included.
    #[test]
    fn decode_matches_reference(
        fields in prop::collection::vec((0usize..11, field_value()), 0..12),
    ) {
        const NAMES: [&str; 11] = ["PhoenixNetworking", "type", "sequence", "acknowledgement",
            "windowSize", "synchronize", "final", "reset", "payload", "extra", "message"];
        let mut t = Table::new();
        t.set("PhoenixNetworking", Value::Bool(true));
        t.set("type", Value::from_static("socket"));
        t.set("sequence", Value::from(5));
        for (i, v) in fields {
            t.set(NAMES[i], v);
        }
        let v = Value::Table(t);
        prop_assert_eq!(Segment::decode(&v), reference_decode(&v));
    }

    #[test]
    fn segment_round_trips(s in segment()) {
        prop_assert_eq!(Segment::decode(&s.encode()), Ok(s));
    }

    #[test]
    fn datagram_round_trips(v in field_value()) {
        let d = Datagram { message: v };
        prop_assert_eq!(Datagram::decode(&d.encode()), Ok(d));
    }

    /// Any field of any type: decode returns a segment whose fields are exactly the valid
    /// inputs, or an error naming a field; never a panic.
    #[test]
    fn decode_is_total_and_strict(
        seq in field_value(), ack in field_value(), win in field_value(),
        syn in field_value(), fin in field_value(), payload in field_value(),
    ) {
        let mut t = Table::new();
        t.set("PhoenixNetworking", Value::Bool(true));
        t.set("type", Value::from_static("socket"));
        t.set("sequence", seq.clone());
        t.set("acknowledgement", ack);
        t.set("windowSize", win);
        t.set("synchronize", syn.clone());
        t.set("final", fin);
        t.set("payload", payload.clone());
        match Segment::decode(&Value::Table(t)) {
            Ok(s) => {
                prop_assert_eq!(Value::Num(s.sequence as f64), seq);
                prop_assert_eq!(s.synchronize, syn == Value::Bool(true));
                prop_assert_eq!(s.payload.map(Value::Str), if payload.is_nil() { None } else { Some(payload) });
            }
            Err(e) => prop_assert!(
                ["sequence", "acknowledgement", "windowSize", "synchronize", "final", "payload"]
                    .contains(&e.field())
            ),
        }
    }
}
