//! Property tests of the value model against simple reference behaviour.

use modem_value::{LuaStr, Table, Value};
use proptest::prelude::*;

/// Any value: numbers of every kind (incl. NaN, ±inf, -0, huge and tiny), non-UTF-8 strings,
/// nested tables with keys of every kind.
fn any_value() -> impl Strategy<Value = Value> {
    let num = prop_oneof![
        any::<i32>().prop_map(f64::from),
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(9_007_199_254_740_993.0),
        Just(1e300),
    ];
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Bool),
        num.prop_map(Value::Num),
        ".{0,8}".prop_map(Value::from),
        proptest::collection::vec(any::<u8>(), 0..12).prop_map(Value::from),
        Just(Value::from("$table")),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec((inner.clone(), inner.clone()), 0..8)
                .prop_map(|pairs| Value::Table(pairs.into_iter().collect::<Table>())),
            proptest::collection::vec(inner, 0..6)
                .prop_map(|items| Value::Table(Table::array(items))),
        ]
    })
}

proptest! {
    #[test]
    fn json_round_trip_is_lossless(v in any_value()) {
        let text = v.to_json();
        let back = Value::from_json(&text).unwrap();
        prop_assert_eq!(&back, &v, "via {}", text);
        // Encoding is a function of the value: equal values give equal text.
        prop_assert_eq!(back.to_json(), text);
    }

    #[test]
    fn json_round_trip_keeps_number_bits(n in any::<f64>()) {
        let back = Value::from_json(&Value::Num(n).to_json()).unwrap();
        let m = back.as_num().unwrap();
        prop_assert!(m.to_bits() == n.to_bits() || (m.is_nan() && n.is_nan()));
    }

    #[test]
    fn table_matches_a_linear_model(ops in proptest::collection::vec((0u8..6, 0u8..3, any::<bool>()), 0..64)) {
        // Reference model: a Vec of (key, value) with linear search and Lua assignment semantics.
        let mut model: Vec<(Value, Value)> = Vec::new();
        let mut t = Table::new();
        let snapshot = t.clone();
        for (k, v, del) in ops {
            let key = if k % 2 == 0 { Value::from(f64::from(k)) } else { Value::from(format!("k{k}")) };
            let val = if del { Value::Nil } else { Value::from(v) };
            t.insert(key.clone(), val.clone()).unwrap();
            model.retain(|(mk, _)| mk != &key);
            if !val.is_nil() {
                model.push((key, val));
            }
        }
        prop_assert_eq!(t.len(), model.len());
        for (k, v) in &model {
            prop_assert_eq!(t.get(k), Some(v));
        }
        // Iteration order is sorted by key_cmp and independent of insertion order.
        let keys: Vec<&Value> = t.iter().map(|(k, _)| k).collect();
        prop_assert!(keys.windows(2).all(|w| w[0].key_cmp(w[1]) == std::cmp::Ordering::Less));
        // Copy on write: the clone taken before the writes is untouched.
        prop_assert!(snapshot.is_empty());
    }

    #[test]
    fn decoding_arbitrary_json_never_panics(text in ".{0,64}") {
        let _ = Value::from_json(&text);
    }

    #[test]
    fn lua_strings_are_byte_exact(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let s = LuaStr::from(bytes.clone());
        prop_assert_eq!(s.as_bytes(), &bytes[..]);
        prop_assert_eq!(Value::Str(s.clone()).to_lua_string(), s);
    }
}

/// Field names for `from_fields`: static, sharing prefixes and differing in case, as protocol
/// field names do.
const FIELD_NAMES: [&str; 6] = [
    "PhoenixNetworking",
    "payload",
    "pay",
    "type",
    "Type",
    "source",
];

proptest! {
    /// `Table::from_fields` builds the same table as `Table::set` of the same fields in the
    /// same order: nil skipped, a later equal name replacing an earlier one, entries in key
    /// order whatever order they were given in.
    #[test]
    fn from_fields_equals_sets_in_order(
        fields in proptest::array::uniform6((0usize..6, prop_oneof![
            Just(Value::Nil),
            any::<i16>().prop_map(|n| Value::Num(f64::from(n))),
            ".{0,30}".prop_map(Value::from),
        ]))
    ) {
        let fields = fields.map(|(i, v)| (FIELD_NAMES[i], v));
        let mut by_set = Table::new();
        for (name, v) in fields.clone() {
            by_set.set(name, v);
        }
        let built = Table::from_fields(fields.clone());
        prop_assert_eq!(&built, &by_set);
        let keys: Vec<&Value> = built.iter().map(|(k, _)| k).collect();
        prop_assert!(keys.windows(2).all(|w| w[0].key_cmp(w[1]).is_lt()));

        // The same values under the six names in key order (the encoders' case, a path of its
        // own): nil fields are left out.
        let mut names = FIELD_NAMES;
        names.sort_unstable();
        let in_order: [(&str, Value); 6] =
            core::array::from_fn(|i| (names[i], fields[i].1.clone()));
        let mut by_set = Table::new();
        for (name, v) in in_order.clone() {
            by_set.set(name, v);
        }
        prop_assert_eq!(Table::from_fields(in_order), by_set);
    }
}
