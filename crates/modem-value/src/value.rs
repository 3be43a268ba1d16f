//! The [`Value`] enum: constructors, accessors and typed field access.

use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::{DecodeError, Kind, LuaStr, Table};

/// A Lua value as it crosses a modem.
///
/// Clones are cheap: strings and tables are reference counted. Equality is structural; numbers
/// compare as Lua compares them (`0 == -0`), except that NaN equals NaN so that round trips of
/// values holding NaN can be checked.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// `nil`; also what an absent field reads as.
    #[default]
    Nil,
    /// `true` / `false`.
    Bool(bool),
    /// A number: an IEEE double, as in CC:Tweaked's Lua.
    Num(f64),
    /// A byte string.
    Str(LuaStr),
    /// A table (a tree: it never contains itself).
    Table(Table),
}

static NIL: Value = Value::Nil;

/// Rank of strings among key kinds; [`Table::get_str`] relies on it.
pub(crate) const STR_RANK: u8 = 3;

impl Value {
    /// The Lua type.
    pub fn kind(&self) -> Kind {
        match self {
            Value::Nil => Kind::Nil,
            Value::Bool(_) => Kind::Bool,
            Value::Num(_) => Kind::Num,
            Value::Str(_) => Kind::Str,
            Value::Table(_) => Kind::Table,
        }
    }

    /// A string value backed by static bytes (no allocation).
    pub const fn from_static(s: &'static str) -> Value {
        Value::Str(LuaStr::from_static(s.as_bytes()))
    }

    /// Whether this is nil.
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    /// Lua truthiness: everything but `nil` and `false`.
    pub fn is_truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false))
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&LuaStr> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The table, if this is one.
    pub fn as_table(&self) -> Option<&Table> {
        match self {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    /// `self[field]` for a string field: nil when absent or when `self` is not a table (reading a
    /// field never fails; the typed getters below say why a value is unusable).
    pub fn get(&self, field: &str) -> &Value {
        match self {
            Value::Table(t) => t.get_str(field.as_bytes()).unwrap_or(&NIL),
            _ => &NIL,
        }
    }

    /// `self[key]` for any key: nil when absent or when `self` is not a table.
    pub fn get_key(&self, key: &Value) -> &Value {
        match self {
            Value::Table(t) => t.get(key).unwrap_or(&NIL),
            _ => &NIL,
        }
    }

    /// Required number field.
    pub fn field_num(&self, field: &'static str) -> Result<f64, DecodeError> {
        match self.get(field) {
            Value::Num(n) => Ok(*n),
            other => Err(missing_or_wrong(field, "number", other)),
        }
    }

    /// Optional number field (absent → `None`; present with another type → error).
    pub fn field_opt_num(&self, field: &'static str) -> Result<Option<f64>, DecodeError> {
        match self.get(field) {
            Value::Nil => Ok(None),
            Value::Num(n) => Ok(Some(*n)),
            other => Err(wrong(field, "number", other)),
        }
    }

    /// Required string field.
    pub fn field_str(&self, field: &'static str) -> Result<&LuaStr, DecodeError> {
        match self.get(field) {
            Value::Str(s) => Ok(s),
            other => Err(missing_or_wrong(field, "string", other)),
        }
    }

    /// Optional string field.
    pub fn field_opt_str(&self, field: &'static str) -> Result<Option<&LuaStr>, DecodeError> {
        match self.get(field) {
            Value::Nil => Ok(None),
            Value::Str(s) => Ok(Some(s)),
            other => Err(wrong(field, "string", other)),
        }
    }

    /// Required boolean field.
    pub fn field_bool(&self, field: &'static str) -> Result<bool, DecodeError> {
        match self.get(field) {
            Value::Bool(b) => Ok(*b),
            other => Err(missing_or_wrong(field, "boolean", other)),
        }
    }

    /// Optional boolean field.
    pub fn field_opt_bool(&self, field: &'static str) -> Result<Option<bool>, DecodeError> {
        match self.get(field) {
            Value::Nil => Ok(None),
            Value::Bool(b) => Ok(Some(*b)),
            other => Err(wrong(field, "boolean", other)),
        }
    }

    /// Required table field.
    pub fn field_table(&self, field: &'static str) -> Result<&Table, DecodeError> {
        match self.get(field) {
            Value::Table(t) => Ok(t),
            other => Err(missing_or_wrong(field, "table", other)),
        }
    }

    /// Optional table field.
    pub fn field_opt_table(&self, field: &'static str) -> Result<Option<&Table>, DecodeError> {
        match self.get(field) {
            Value::Nil => Ok(None),
            Value::Table(t) => Ok(Some(t)),
            other => Err(wrong(field, "table", other)),
        }
    }

    /// Checks that this value is a table; `what` names it in the error (e.g. `"payload"`).
    pub fn expect_table(&self, what: &'static str) -> Result<&Table, DecodeError> {
        match self {
            Value::Table(t) => Ok(t),
            other => Err(missing_or_wrong(what, "table", other)),
        }
    }

    /// Lua's `tostring(v)`, byte-exact for nil, booleans, numbers (PUC Lua 5.2 `%.14g`, the
    /// format CC:Tweaked's Cobalt follows) and strings.
    ///
    /// Lua prints a table as `table: 0x…` with its heap address, which would make output depend
    /// on memory layout; here the digits are a hash of the table's contents, so the text is
    /// reproducible and equal tables print alike.
    pub fn to_lua_string(&self) -> LuaStr {
        match self {
            Value::Nil => LuaStr::from_static(b"nil"),
            Value::Bool(true) => LuaStr::from_static(b"true"),
            Value::Bool(false) => LuaStr::from_static(b"false"),
            Value::Num(n) => LuaStr::from(crate::number::format_lua_number(*n)),
            Value::Str(s) => s.clone(),
            Value::Table(_) => {
                let mut h = Fnv(0xcbf2_9ce4_8422_2325);
                self.hash_into(&mut h);
                LuaStr::from(alloc::format!("table: 0x{:08x}", h.0 as u32))
            }
        }
    }

    /// Total order used for table keys: booleans < numbers < strings < tables; within a kind,
    /// `false < true`, numbers ascending (`-0 == 0`), strings by bytes, tables by entries.
    /// Nil sorts first and NaN after every other number; neither is ever a key.
    pub fn key_cmp(&self, other: &Value) -> Ordering {
        match (self, other) {
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Num(a), Value::Num(b)) => num_cmp(*a, *b),
            (Value::Str(a), Value::Str(b)) => a.as_bytes().cmp(b.as_bytes()),
            (Value::Table(a), Value::Table(b)) => {
                let (ea, eb) = (a.entries(), b.entries());
                for ((ka, va), (kb, vb)) in ea.iter().zip(eb.iter()) {
                    let o = ka.key_cmp(kb).then_with(|| va.key_cmp(vb));
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                ea.len().cmp(&eb.len())
            }
            (a, b) => a.kind_rank().cmp(&b.kind_rank()),
        }
    }

    pub(crate) fn kind_rank(&self) -> u8 {
        match self {
            Value::Nil => 0,
            Value::Bool(_) => 1,
            Value::Num(_) => 2,
            Value::Str(_) => STR_RANK,
            Value::Table(_) => 4,
        }
    }

    fn hash_into(&self, h: &mut Fnv) {
        match self {
            Value::Nil => h.write(&[0]),
            Value::Bool(b) => h.write(&[1, *b as u8]),
            Value::Num(n) => {
                h.write(&[2]);
                let n = if *n == 0.0 { 0.0 } else { *n };
                h.write(&n.to_bits().to_le_bytes());
            }
            Value::Str(s) => {
                h.write(&[3]);
                h.write(&(s.len() as u64).to_le_bytes());
                h.write(s.as_bytes());
            }
            Value::Table(t) => {
                h.write(&[4]);
                h.write(&(t.len() as u64).to_le_bytes());
                for (k, v) in t.iter() {
                    k.hash_into(h);
                    v.hash_into(h);
                }
            }
        }
    }
}

fn num_cmp(a: f64, b: f64) -> Ordering {
    match a.partial_cmp(&b) {
        Some(o) => o,
        None => a.is_nan().cmp(&b.is_nan()),
    }
}

fn wrong(field: &'static str, expected: &'static str, found: &Value) -> DecodeError {
    DecodeError::WrongType {
        field,
        expected,
        found: found.kind(),
    }
}

fn missing_or_wrong(field: &'static str, expected: &'static str, found: &Value) -> DecodeError {
    if found.is_nil() {
        DecodeError::Missing { field }
    } else {
        wrong(field, expected, found)
    }
}

struct Fnv(u64);
impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Num(a), Value::Num(b)) => a == b || (a.is_nan() && b.is_nan()),
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Table(a), Value::Table(b)) => a == b,
            _ => false,
        }
    }
}

macro_rules! from_num {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value { Value::Num(n as f64) }
        }
    )*};
}
from_num!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize, f32, f64);

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(LuaStr::from(s))
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(LuaStr::from(s))
    }
}
impl From<&[u8]> for Value {
    fn from(b: &[u8]) -> Value {
        Value::Str(LuaStr::from(b))
    }
}
impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Value {
        Value::Str(LuaStr::from(b))
    }
}
impl From<LuaStr> for Value {
    fn from(s: LuaStr) -> Value {
        Value::Str(s)
    }
}
impl From<Table> for Value {
    fn from(t: Table) -> Value {
        Value::Table(t)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Value {
        o.map_or(Value::Nil, Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table;

    #[test]
    fn typed_getters_name_field_and_types() {
        let v = table! { "n" => 1, "s" => "x", "b" => true, "t" => table! {} };
        assert_eq!(v.field_num("n"), Ok(1.0));
        assert_eq!(v.field_str("s").unwrap(), "x");
        assert_eq!(v.field_bool("b"), Ok(true));
        assert!(v.field_table("t").is_ok());
        assert_eq!(
            v.field_num("missing"),
            Err(DecodeError::Missing { field: "missing" })
        );
        let e = v.field_num("s").unwrap_err();
        assert_eq!(
            e,
            DecodeError::WrongType {
                field: "s",
                expected: "number",
                found: Kind::Str
            }
        );
        assert_eq!(
            alloc::string::ToString::to_string(&e),
            "bad field 's' (number expected, got string)"
        );
        assert_eq!(v.field_opt_num("missing"), Ok(None));
        assert!(v.field_opt_str("n").is_err());
        assert_eq!(Value::from(3).get("x"), &Value::Nil);
    }

    #[test]
    fn tostring_matches_lua() {
        let s = |v: Value| v.to_lua_string().to_string_lossy();
        assert_eq!(s(Value::Nil), "nil");
        assert_eq!(s(Value::from(true)), "true");
        assert_eq!(s(Value::from(42)), "42");
        assert_eq!(s(Value::from(-0.5)), "-0.5");
        assert_eq!(s(Value::from("héllo")), "héllo");
        let a = s(table! { "a" => 1 });
        assert!(a.starts_with("table: 0x") && a.len() == 17, "{a}");
        assert_eq!(a, s(table! { "a" => 1 }));
        assert_ne!(a, s(table! { "a" => 2 }));
    }

    #[test]
    fn nan_equals_nan_for_round_trips() {
        assert_eq!(Value::Num(f64::NAN), Value::Num(f64::NAN));
        assert_eq!(Value::Num(0.0), Value::Num(-0.0));
        assert_ne!(Value::from(1), Value::from("1"));
    }
}
