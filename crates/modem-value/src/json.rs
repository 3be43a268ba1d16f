//! The one lossless JSON mapping of [`Value`], implemented as `serde` impls.
//!
//! | Lua value | JSON |
//! |---|---|
//! | `nil` | `null` |
//! | boolean | `true` / `false` |
//! | finite number, integral, \|n\| < 2^63 | integer, e.g. `3` (so integers stay integers) |
//! | other finite number (incl. `-0`) | float, e.g. `0.5`, `-0.0`, `1e300` |
//! | NaN, ∞, −∞ | `{"$num": "nan"}`, `{"$num": "inf"}`, `{"$num": "-inf"}` |
//! | string that is valid UTF-8 | string |
//! | any other string | `{"$bytes": "<standard base64, padded>"}` |
//! | empty table | `{}` |
//! | sequence (keys exactly 1..n) | array `[v1, …, vn]` |
//! | table whose keys are all UTF-8 strings not starting with `$` | object |
//! | any other table | `{"$table": [[k1, v1], [k2, v2], …]}` (keys in table order) |
//!
//! Decoding accepts exactly what encoding produces plus what Lua would make of plain JSON:
//! `null` inside an array or as an object member value leaves that slot empty (Lua tables hold no
//! nils). An object whose first key starts with `$` must be one of the three tagged forms with
//! that single key; a `$` key anywhere else is rejected, so no JSON text is ambiguous. `$table`
//! pairs with a nil or NaN key, and duplicate keys, are rejected.
//!
//! The impls work with any self-describing serde format (JSON, CBOR, MessagePack, RON, …); byte
//! arrays offered by binary formats decode as strings. Deserialization recursion is bounded by
//! the format (serde_json stops at 128 levels).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use base64::Engine as _;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::{LuaStr, Table, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Nil => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Num(n) => serialize_num(*n, s),
            Value::Str(st) => serialize_str(st, s),
            Value::Table(t) => serialize_table(t, s),
        }
    }
}

fn serialize_num<S: Serializer>(n: f64, s: S) -> Result<S::Ok, S::Error> {
    if n.is_nan() {
        tagged(s, "$num", "nan")
    } else if n.is_infinite() {
        tagged(s, "$num", if n > 0.0 { "inf" } else { "-inf" })
    } else if n.abs() < TWO_POW_63 && (n as i64) as f64 == n && !(n == 0.0 && n.is_sign_negative())
    {
        s.serialize_i64(n as i64)
    } else {
        s.serialize_f64(n)
    }
}

fn serialize_str<S: Serializer>(st: &LuaStr, s: S) -> Result<S::Ok, S::Error> {
    match st.to_str() {
        Some(text) => s.serialize_str(text),
        None => tagged(s, "$bytes", &B64.encode(st.as_bytes())),
    }
}

fn tagged<S: Serializer>(s: S, tag: &str, text: &str) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(1))?;
    m.serialize_entry(tag, text)?;
    m.end()
}

fn serialize_table<S: Serializer>(t: &Table, s: S) -> Result<S::Ok, S::Error> {
    if t.is_empty() {
        return s.serialize_map(Some(0))?.end();
    }
    if t.is_sequence() {
        let mut seq = s.serialize_seq(Some(t.len()))?;
        for (_, v) in t.iter() {
            seq.serialize_element(v)?;
        }
        return seq.end();
    }
    let plain = t.iter().all(|(k, _)| match k {
        Value::Str(st) => st.to_str().is_some_and(|k| !k.starts_with('$')),
        _ => false,
    });
    let mut m = s.serialize_map(Some(if plain { t.len() } else { 1 }))?;
    if plain {
        for (k, v) in t.iter() {
            // `plain` checked every key is UTF-8.
            let key = k.as_str().and_then(LuaStr::to_str).unwrap_or_default();
            m.serialize_entry(key, v)?;
        }
    } else {
        m.serialize_entry("$table", &Pairs(t))?;
    }
    m.end()
}

struct Pairs<'a>(&'a Table);
impl Serialize for Pairs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (k, v) in self.0.iter() {
            seq.serialize_element(&(k, v))?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Lua value in the modem-value JSON mapping")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Num(n as f64))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Num(n as f64))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::Num(n))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::from(s))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::from(s))
    }
    fn visit_bytes<E>(self, b: &[u8]) -> Result<Value, E> {
        Ok(Value::from(b))
    }
    fn visit_byte_buf<E>(self, b: Vec<u8>) -> Result<Value, E> {
        Ok(Value::from(b))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            items.push(v);
        }
        Ok(Value::Table(Table::array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let Some(first) = map.next_key::<String>()? else {
            return Ok(Value::Table(Table::new()));
        };
        if first.starts_with('$') {
            let v = match first.as_str() {
                "$num" => {
                    let text: String = map.next_value()?;
                    Value::Num(match text.as_str() {
                        "nan" => f64::NAN,
                        "inf" => f64::INFINITY,
                        "-inf" => f64::NEG_INFINITY,
                        _ => {
                            return Err(de::Error::custom(
                                "$num must be \"nan\", \"inf\" or \"-inf\"",
                            ))
                        }
                    })
                }
                "$bytes" => {
                    let text: String = map.next_value()?;
                    let bytes = B64
                        .decode(text.as_bytes())
                        .map_err(|_| de::Error::custom("$bytes is not valid base64"))?;
                    Value::from(bytes)
                }
                "$table" => {
                    let pairs: Vec<(Value, Value)> = map.next_value()?;
                    let mut t = Table::with_capacity(pairs.len());
                    for (k, v) in pairs {
                        let previous = t.insert(k, v).map_err(de::Error::custom)?;
                        if previous.is_some() {
                            return Err(de::Error::custom("$table has a duplicate key"));
                        }
                    }
                    Value::Table(t)
                }
                _ => return Err(de::Error::custom("unknown $ tag in a JSON object")),
            };
            if map.next_key::<de::IgnoredAny>()?.is_some() {
                return Err(de::Error::custom(
                    "a $ tagged object must have exactly one key",
                ));
            }
            return Ok(v);
        }
        let mut pairs: Vec<(Value, Value)> = Vec::new();
        let v: Value = map.next_value()?;
        pairs.push((Value::from(first), v));
        while let Some(k) = map.next_key::<String>()? {
            if k.starts_with('$') {
                return Err(de::Error::custom(
                    "object key starting with '$' outside a $table",
                ));
            }
            let v: Value = map.next_value()?;
            pairs.push((Value::from(k), v));
        }
        // String keys are never nil or NaN.
        Table::from_pairs(pairs)
            .map(Value::Table)
            .map_err(de::Error::custom)
    }
}

#[cfg(feature = "json")]
mod text {
    use super::*;

    /// Why a JSON text is not a value in the mapping.
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    #[derive(Debug, thiserror::Error)]
    #[error("invalid modem-value JSON: {0}")]
    pub struct JsonError(#[from] serde_json::Error);

    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    impl Value {
        /// The value as compact JSON text in the [mapping](crate::json).
        pub fn to_json(&self) -> String {
            // Serializing a Value into memory cannot fail: every key is a string.
            serde_json::to_string(self).unwrap_or_default()
        }

        /// Parses JSON text in the [mapping](crate::json).
        pub fn from_json(text: &str) -> Result<Value, JsonError> {
            Ok(serde_json::from_str(text)?)
        }
    }
}

#[cfg(feature = "json")]
pub use text::JsonError;

#[cfg(all(test, feature = "json"))]
mod tests {
    use super::*;
    use crate::table;
    use alloc::vec;

    fn rt(v: &Value) -> Value {
        Value::from_json(&v.to_json()).unwrap()
    }

    #[test]
    fn documented_examples() {
        assert_eq!(Value::Nil.to_json(), "null");
        assert_eq!(Value::from(3).to_json(), "3");
        assert_eq!(Value::from(0.5).to_json(), "0.5");
        assert_eq!(Value::Num(-0.0).to_json(), "-0.0");
        assert_eq!(Value::Num(f64::NAN).to_json(), r#"{"$num":"nan"}"#);
        assert_eq!(
            Value::Num(f64::NEG_INFINITY).to_json(),
            r#"{"$num":"-inf"}"#
        );
        assert_eq!(
            Value::from(&b"\xff\x00"[..]).to_json(),
            r#"{"$bytes":"/wA="}"#
        );
        assert_eq!(table! {}.to_json(), "{}");
        assert_eq!(
            Value::Table(Table::array(vec![Value::from(1), Value::from("a")])).to_json(),
            r#"[1,"a"]"#
        );
        assert_eq!(
            table! {"b" => 1, "a" => true}.to_json(),
            r#"{"a":true,"b":1}"#
        );
        assert_eq!(
            table! {2 => "x", "$k" => 1}.to_json(),
            r#"{"$table":[[2,"x"],["$k",1]]}"#
        );
    }

    #[test]
    fn round_trips_special_cases() {
        for v in [
            Value::Num(f64::NAN),
            Value::Num(-0.0),
            Value::Num(1e300),
            Value::Num(-9.007199254740993e15),
            Value::from(&b"\x80abc"[..]),
            table! { 1.5 => 1, true => "t", "x" => table! { "$bytes" => 2 } },
        ] {
            let back = rt(&v);
            assert_eq!(back, v);
            if let Value::Num(n) = v {
                assert_eq!(
                    back.as_num().unwrap().is_sign_negative(),
                    n.is_sign_negative()
                );
            }
        }
    }

    #[test]
    fn rejects_ambiguous_or_invalid() {
        for bad in [
            r#"{"$num":"zero"}"#,
            r#"{"$bytes":"!!"}"#,
            r#"{"$num":"nan","x":1}"#,
            r#"{"a":1,"$b":2}"#,
            r#"{"$what":1}"#,
            r#"{"$table":[[null,1]]}"#,
            r#"{"$table":[[{"$num":"nan"},1]]}"#,
            r#"{"$table":[[1,1],[1,2]]}"#,
        ] {
            assert!(Value::from_json(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn nulls_leave_holes_like_lua() {
        let v = Value::from_json(r#"[1,null,3]"#).unwrap();
        let t = v.as_table().unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t.get_num(3.0), Some(&Value::from(3)));
        let v = Value::from_json(r#"{"a":null,"b":1}"#).unwrap();
        assert_eq!(v, table! {"b" => 1});
    }
}
