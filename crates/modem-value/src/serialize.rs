//! `textutils.serialize` and `string.format("%q", s)` as CC:Tweaked prints them, for showing a
//! [`Value`] to a person the way a Lua program would.

use alloc::vec::Vec;

use crate::number::format_lua_number;
use crate::{LuaStr, Value};

/// Lua's reserved words, which `textutils.serialize` never writes as a bare key.
const KEYWORDS: [&[u8]; 22] = [
    b"and",
    b"break",
    b"do",
    b"else",
    b"elseif",
    b"end",
    b"false",
    b"for",
    b"function",
    b"goto",
    b"if",
    b"in",
    b"local",
    b"nil",
    b"not",
    b"or",
    b"repeat",
    b"return",
    b"then",
    b"true",
    b"until",
    b"while",
];

/// Appends `s` quoted as `string.format("%q", s)` does (Lua 5.2+, Cobalt): `"`, `\` and newline
/// get a backslash before them; other control bytes (and DEL) become `\N`, or `\0NN` when a
/// digit follows; every other byte is copied as is.
fn quote_lua_into(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for (i, &c) in s.iter().enumerate() {
        match c {
            b'"' | b'\\' | b'\n' => {
                out.push(b'\\');
                out.push(c);
            }
            0..=0x1f | 0x7f => {
                out.push(b'\\');
                if s.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    out.extend_from_slice(&[b'0' + c / 100, b'0' + c / 10 % 10, b'0' + c % 10]);
                } else {
                    out.extend_from_slice(format_lua_number(f64::from(c)).as_bytes());
                }
            }
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

/// A bare key of `textutils.serialize`: an identifier that is not a reserved word.
fn is_identifier(s: &[u8]) -> bool {
    matches!(s.first(), Some(c) if c.is_ascii_alphabetic() || *c == b'_')
        && s.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && !KEYWORDS.contains(&s)
}

fn serialize_into(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Str(s) => quote_lua_into(s.as_bytes(), out),
        Value::Num(n) if n.is_nan() => out.extend_from_slice(b"0/0"),
        Value::Num(n) if *n == f64::INFINITY => out.extend_from_slice(b"1/0"),
        Value::Num(n) if *n == f64::NEG_INFINITY => out.extend_from_slice(b"-1/0"),
        Value::Table(t) if t.is_empty() => out.extend_from_slice(b"{}"),
        Value::Table(t) => {
            out.push(b'{');
            // The sequence part first, as `ipairs` sees it, then every other key.
            let n = t.sequence_len();
            for i in 1..=n {
                if let Some(item) = t.get_num(i as f64) {
                    serialize_into(item, out);
                    out.push(b',');
                }
            }
            for (k, item) in t.iter() {
                let in_sequence = k
                    .as_num()
                    .is_some_and(|x| x >= 1.0 && x <= n as f64 && x == (x as usize) as f64);
                if in_sequence {
                    continue;
                }
                match k {
                    Value::Str(s) if is_identifier(s.as_bytes()) => {
                        out.extend_from_slice(s.as_bytes());
                    }
                    _ => {
                        out.push(b'[');
                        serialize_into(k, out);
                        out.push(b']');
                    }
                }
                out.push(b'=');
                serialize_into(item, out);
                out.push(b',');
            }
            out.push(b'}');
        }
        other => out.extend_from_slice(other.to_lua_string().as_bytes()),
    }
}

impl Value {
    /// `textutils.serialize(v, { compact = true })` as CC:Tweaked writes it: strings quoted with
    /// `%q`, numbers as `tostring` (`2`, not `2.0`; `0/0`, `1/0`, `-1/0` for NaN and the
    /// infinities), tables as `{1,2,key="v",[3.5]=true,}` with the sequence first and the
    /// other keys in this crate's deterministic order (Lua's `pairs` order is unspecified).
    pub fn to_lua_serialized(&self) -> LuaStr {
        let mut out = Vec::new();
        serialize_into(self, &mut out);
        LuaStr::from(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table;

    fn ser(v: &Value) -> alloc::string::String {
        v.to_lua_serialized().to_string_lossy()
    }

    /// `string.format("%q", ...)`, Lua 5.2 `lstrlib.c` `addquoted` (what Cobalt follows).
    #[test]
    fn strings_quote_like_percent_q() {
        assert_eq!(ser(&Value::from("hi")), r#""hi""#);
        assert_eq!(ser(&Value::from("a\"b\\c")), r#""a\"b\\c""#);
        assert_eq!(ser(&Value::from("a\nb")), "\"a\\\nb\"");
        assert_eq!(ser(&Value::from("\r")), r#""\13""#);
        assert_eq!(ser(&Value::from("\x001")), r#""\0001""#);
        assert_eq!(ser(&Value::from("\x00a")), r#""\0a""#);
        assert_eq!(ser(&Value::from("\x7f")), r#""\127""#);
        let bytes = Value::from(&b"\xff\xfe"[..]);
        assert_eq!(bytes.to_lua_serialized().as_bytes(), b"\"\xff\xfe\"");
    }

    /// `textutils.serialize`'s number rules: `tostring`, except NaN and the infinities.
    #[test]
    fn numbers_print_as_lua_does() {
        assert_eq!(ser(&Value::from(2.0)), "2");
        assert_eq!(ser(&Value::from(0.1)), "0.1");
        assert_eq!(ser(&Value::from(1e15)), "1e+15");
        assert_eq!(ser(&Value::Num(f64::NAN)), "0/0");
        assert_eq!(ser(&Value::Num(f64::INFINITY)), "1/0");
        assert_eq!(ser(&Value::Num(f64::NEG_INFINITY)), "-1/0");
        assert_eq!(ser(&Value::Bool(true)), "true");
        assert_eq!(ser(&Value::Nil), "nil");
    }

    /// Compact tables: sequence first, identifier keys bare, other keys bracketed, a comma
    /// after every entry, `{}` when empty.
    #[test]
    fn tables_serialize_compactly() {
        let t = Value::Table(crate::Table::array([Value::from(2.0), Value::from("x")]));
        assert_eq!(ser(&t), r#"{2,"x",}"#);
        let t = table! {"type" => "arp", "end" => 1, "my key" => true};
        assert_eq!(ser(&t), r#"{["end"]=1,["my key"]=true,type="arp",}"#);
        assert_eq!(ser(&Value::Table(crate::Table::new())), "{}");
        let mut t = crate::Table::array([Value::from(1.0)]);
        t.insert(Value::from(3.0), Value::from(3.0)).unwrap();
        t.insert(Value::Bool(false), Value::from(0.5)).unwrap();
        assert_eq!(ser(&Value::Table(t)), "{1,[false]=0.5,[3]=3,}");
    }
}
