//! Wire round trips and strictness of `Segment` and `Datagram`.

use modem_value::{LuaStr, Table, Value, WireMessage};
use proptest::prelude::*;
use psp_proto::config::MAX_SACK_BLOCKS;
use psp_proto::{Datagram, SackBlocks, Segment, MAX_WIRE_NUMBER};

fn sack_blocks() -> impl Strategy<Value = SackBlocks> {
    prop::collection::vec((0..=MAX_WIRE_NUMBER, 0u64..1000), 0..=MAX_SACK_BLOCKS).prop_map(|v| {
        let ranges = v
            .into_iter()
            .map(|(a, n)| (a, a.saturating_add(n).min(MAX_WIRE_NUMBER)))
            .collect();
        SackBlocks::from_ranges(ranges).expect("valid ranges")
    })
}

fn segment() -> impl Strategy<Value = Segment> {
    (
        0..=MAX_WIRE_NUMBER,
        proptest::option::of(0..=MAX_WIRE_NUMBER),
        proptest::option::of(0u64..1000),
        any::<(bool, bool, bool)>(),
        proptest::option::of(prop::collection::vec(any::<u8>(), 0..40)),
        any::<bool>(),
        proptest::option::of(sack_blocks()),
    )
        .prop_map(
            |(sequence, acknowledgement, window_size, (s, f, r), p, sack_permitted, sack)| {
                Segment {
                    sequence,
                    acknowledgement,
                    window_size,
                    synchronize: s,
                    fin: f,
                    reset: r,
                    payload: p.map(LuaStr::from),
                    sack_permitted,
                    sack,
                }
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
        // Candidate `selectiveAcknowledgement` lists: odd lengths, bad numbers, too long.
        prop::collection::vec(
            prop_oneof![(-2i64..40).prop_map(Value::from), Just(Value::Num(0.5))],
            0..70
        )
        .prop_map(|v| Value::Table(Table::array(v))),
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
        sack_permitted: v
            .field_opt_bool("selectiveAcknowledgementPermitted")?
            .unwrap_or(false),
        sack: reference_sack(v, int)?,
    })
}

/// The reference reading of `selectiveAcknowledgement`, one lookup per element.
fn reference_sack(
    v: &Value,
    int: impl Fn(Option<f64>, &'static str) -> Result<Option<u64>, modem_value::DecodeError>,
) -> Result<Option<SackBlocks>, modem_value::DecodeError> {
    use modem_value::DecodeError;
    Ok(match v.get("selectiveAcknowledgement") {
        Value::Nil => None,
        Value::Table(t) => {
            let field = "selectiveAcknowledgement";
            let bad = DecodeError::Invalid {
                field,
                reason: "not a sequence of first/last pairs",
            };
            let n = t.sequence_len();
            if n != t.len() || n % 2 == 1 || n > 2 * MAX_SACK_BLOCKS {
                return Err(bad);
            }
            let mut nums = Vec::new();
            for i in 1..=n {
                match t.get_num(i as f64) {
                    Some(Value::Num(x)) => nums.push(int(Some(*x), field)?.unwrap_or(0)),
                    Some(other) => {
                        return Err(DecodeError::WrongType {
                            field,
                            expected: "number",
                            found: other.kind(),
                        })
                    }
                    None => return Err(bad),
                }
            }
            let ranges: Vec<(u64, u64)> = nums.chunks(2).map(|p| (p[0], p[1])).collect();
            Some(SackBlocks::from_ranges(ranges).ok_or(DecodeError::Invalid {
                field,
                reason: "a range ends before it starts",
            })?)
        }
        other => {
            return Err(DecodeError::WrongType {
                field: "selectiveAcknowledgement",
                expected: "table",
                found: other.kind(),
            })
        }
    })
}

proptest! {
    /// The single-pass decoder agrees with the reference on any table of these fields (and
    /// extra ones), errors included.
    #[test]
    fn decode_matches_reference(
        fields in prop::collection::vec((0usize..13, field_value()), 0..12),
    ) {
        const NAMES: [&str; 13] = ["PhoenixNetworking", "type", "sequence", "acknowledgement",
            "windowSize", "synchronize", "final", "reset", "payload", "extra", "message",
            "selectiveAcknowledgementPermitted", "selectiveAcknowledgement"];
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

/// Ranges from ascending sequences: the runs, lowest first, at most `MAX_SACK_BLOCKS` (a simple
/// model: mark every sequence, then read the runs off).
#[test]
fn sack_blocks_from_sequences_match_a_model() {
    proptest!(|(mut seqs in prop::collection::btree_set(0u64..400, 0..200))| {
        let blocks = SackBlocks::from_sequences(seqs.iter().copied());
        let mut runs: Vec<(u64, u64)> = Vec::new();
        for s in std::mem::take(&mut seqs) {
            match runs.last_mut() {
                Some((_, l)) if *l + 1 == s => *l = s,
                _ => runs.push((s, s)),
            }
        }
        runs.truncate(MAX_SACK_BLOCKS);
        prop_assert_eq!(blocks.ranges(), runs.as_slice());
    });
}

/// The extension's shapes: the offer is a boolean, the blocks a flat list of first/last
/// numbers; a Phoenix segment without them decodes to neither.
#[test]
fn sack_fields_on_the_wire() {
    let mut syn = Segment::syn(11);
    syn.sack_permitted = true;
    let Value::Table(t) = syn.encode() else {
        panic!("a table")
    };
    assert_eq!(
        t.get_str(b"selectiveAcknowledgementPermitted"),
        Some(&Value::Bool(true))
    );
    let mut ack = Segment::data(5, 9, None);
    ack.sack = SackBlocks::from_ranges(vec![(11, 12), (15, 15)]);
    let v = ack.encode();
    assert_eq!(
        v.get("selectiveAcknowledgement"),
        &Value::Table(Table::array([11, 12, 15, 15].map(Value::from)))
    );
    assert_eq!(Segment::decode(&v), Ok(ack));
    let plain = Segment::decode(&Segment::data(5, 9, None).encode()).unwrap();
    assert!(!plain.sack_permitted && plain.sack.is_none());
    for bad in [
        Table::array([Value::from(3)]),
        Table::array([Value::from(4), Value::from(3)]),
        Table::array([Value::from(1), Value::from("2")]),
        Table::array((0..2 * MAX_SACK_BLOCKS as i64 + 2).map(Value::from)),
    ] {
        let mut t = Table::new();
        t.set("PhoenixNetworking", Value::Bool(true));
        t.set("type", Value::from_static("socket"));
        t.set("sequence", Value::from(5));
        t.set("selectiveAcknowledgement", Value::Table(bad));
        assert_eq!(
            Segment::decode(&Value::Table(t)).unwrap_err().field(),
            "selectiveAcknowledgement"
        );
    }
}
