//! Lua tables as immutable, shareable trees with one deterministic order.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::value::STR_RANK;
use crate::{LuaStr, Value};

/// Why a key cannot go into a table: Lua forbids nil and NaN keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// `t[nil] = v`.
    #[error("table index is nil")]
    Nil,
    /// `t[0/0] = v`.
    #[error("table index is NaN")]
    NaN,
}

/// A Lua table: a map from non-nil, non-NaN keys to non-nil values.
///
/// Entries are kept sorted by key ([`Value::key_cmp`]: booleans, numbers, strings, tables), which
/// is the iteration order, so any output built by walking a table is reproducible. Clones share
/// the entries; [`Table::insert`] and [`Table::remove`] copy them first if they are shared (copy on
/// write), so a value handed to one receiver can never be changed through another.
///
/// Lookups are binary searches; protocol tables have a handful of fields.
#[derive(Clone, Default)]
pub struct Table {
    entries: Arc<Vec<(Value, Value)>>,
}

impl Table {
    /// An empty table.
    pub fn new() -> Self {
        Table::default()
    }

    /// An empty table with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        Table {
            entries: Arc::new(Vec::with_capacity(n)),
        }
    }

    /// Builds a table from pairs; a later pair with an equal key replaces an earlier one, nil
    /// values are skipped (as in Lua).
    pub fn from_pairs<I>(pairs: I) -> Result<Self, KeyError>
    where
        I: IntoIterator<Item = (Value, Value)>,
    {
        let mut v: Vec<(Value, Value)> = Vec::new();
        for (k, val) in pairs {
            check_key(&k)?;
            v.push((k, val));
        }
        // Stable sort keeps insertion order among equal keys; the last of each run wins.
        v.sort_by(|a, b| a.0.key_cmp(&b.0));
        let mut out: Vec<(Value, Value)> = Vec::with_capacity(v.len());
        for (k, val) in v {
            match out.last_mut() {
                Some(last) if last.0.key_cmp(&k) == Ordering::Equal => last.1 = val,
                _ => out.push((k, val)),
            }
        }
        out.retain(|(_, val)| !val.is_nil());
        Ok(Table {
            entries: Arc::new(out),
        })
    }

    /// A table of fields named by static strings: the way protocol encoders build a message in
    /// one go, with the meaning of [`Table::set`] of the same fields in the same order (a later
    /// field with an equal name replaces an earlier one; a nil value removes it). Fields given
    /// in key order cost one comparison each, and the entries are written before they are
    /// shared, so unlike a run of [`Table::set`] calls no copy-on-write check is paid per field.
    pub fn from_fields<const N: usize>(fields: [(&'static str, Value); N]) -> Self {
        // Names in strictly increasing order (what encoders write): no field can replace or
        // remove another, so the entries are the non-nil fields as given.
        if fields
            .windows(2)
            .all(|w| field_cmp(w[0].0.as_bytes(), w[1].0.as_bytes()) == Ordering::Less)
        {
            // One block copy into the heap; nil fields (rare: an absent optional field) are
            // taken out afterwards.
            let mut out: Vec<(Value, Value)> = Vec::from(
                fields.map(|(name, v)| (Value::Str(LuaStr::from_static(name.as_bytes())), v)),
            );
            if out.iter().any(|(_, v)| v.is_nil()) {
                out.retain(|(_, v)| !v.is_nil());
            }
            return Table {
                entries: Arc::new(out),
            };
        }
        let mut out: Vec<(Value, Value)> = Vec::with_capacity(N);
        for (name, value) in fields {
            let key = name.as_bytes();
            let str_key = |k: &Value| match k {
                Value::Str(s) => field_cmp(s.as_bytes(), key),
                // Only string keys are ever written here.
                other => other.kind_rank().cmp(&STR_RANK),
            };
            if value.is_nil() {
                if let Ok(i) = out.binary_search_by(|(k, _)| str_key(k)) {
                    out.remove(i);
                }
                continue;
            }
            let field = (Value::Str(LuaStr::from_static(key)), value);
            if out.last().is_none_or(|(k, _)| str_key(k) == Ordering::Less) {
                out.push(field);
                continue;
            }
            match out.binary_search_by(|(k, _)| str_key(k)) {
                Ok(i) => out[i] = field,
                Err(i) => out.insert(i, field),
            }
        }
        Table {
            entries: Arc::new(out),
        }
    }

    /// A sequence `{v1, v2, …}` with keys 1..=n; nil elements leave holes, as in Lua.
    pub fn array<I>(items: I) -> Self
    where
        I: IntoIterator<Item = Value>,
    {
        let entries: Vec<(Value, Value)> = items
            .into_iter()
            .enumerate()
            .filter(|(_, v)| !v.is_nil())
            .map(|(i, v)| (Value::Num((i + 1) as f64), v))
            .collect();
        Table {
            entries: Arc::new(entries),
        }
    }

    /// Number of entries (not Lua's `#`; see [`Table::sequence_len`]).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in the table's deterministic order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Value, &Value)> + '_ {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The value at `key`, if any.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.entries
            .binary_search_by(|(k, _)| k.key_cmp(key))
            .ok()
            .map(|i| &self.entries[i].1)
    }

    /// The value at the string key `key` (the common case: a protocol field), if any.
    pub fn get_str(&self, key: &[u8]) -> Option<&Value> {
        // Protocol tables have a handful of fields whose names mostly differ in length: a scan
        // comparing lengths first beats a binary search of ordered byte comparisons there.
        if self.entries.len() <= 8 {
            return self
                .entries
                .iter()
                .find(|(k, _)| matches!(k, Value::Str(s) if s.as_bytes() == key))
                .map(|(_, v)| v);
        }
        self.entries
            .binary_search_by(|(k, _)| match k {
                Value::Str(s) => s.as_bytes().cmp(key),
                other => other.kind_rank().cmp(&STR_RANK),
            })
            .ok()
            .map(|i| &self.entries[i].1)
    }

    /// The value at the number key `key`, if any.
    pub fn get_num(&self, key: f64) -> Option<&Value> {
        self.get(&Value::Num(key))
    }

    /// Sets `t[key] = value` (a nil value removes the key) and returns the previous value.
    pub fn insert(&mut self, key: Value, value: Value) -> Result<Option<Value>, KeyError> {
        check_key(&key)?;
        if value.is_nil() {
            return Ok(self.remove(&key));
        }
        let entries = Arc::make_mut(&mut self.entries);
        // Encoders set their fields in key order: appending after the greatest key is one compare.
        if entries
            .last()
            .is_none_or(|(k, _)| k.key_cmp(&key) == core::cmp::Ordering::Less)
        {
            entries.push((key, value));
            return Ok(None);
        }
        match entries.binary_search_by(|(k, _)| k.key_cmp(&key)) {
            Ok(i) => Ok(Some(core::mem::replace(&mut entries[i].1, value))),
            Err(i) => {
                entries.insert(i, (key, value));
                Ok(None)
            }
        }
    }

    /// Sets a field named by a static string: the allocation-free way protocol encoders build
    /// their tables. A nil value removes the field.
    pub fn set(&mut self, field: &'static str, value: Value) {
        // A string key is never nil or NaN.
        let _ = self.insert(Value::Str(LuaStr::from_static(field.as_bytes())), value);
    }

    /// Removes `key` and returns its value.
    pub fn remove(&mut self, key: &Value) -> Option<Value> {
        let i = self
            .entries
            .binary_search_by(|(k, _)| k.key_cmp(key))
            .ok()?;
        Some(Arc::make_mut(&mut self.entries).remove(i).1)
    }

    /// Whether no other handle shares these entries, so that [`Table::insert`] changes them in
    /// place without copying.
    pub fn is_unshared(&mut self) -> bool {
        Arc::get_mut(&mut self.entries).is_some()
    }

    /// Makes this table an unshared copy of `src`. When no other handle shares this table's
    /// entries their storage is reused, so a caller that keeps a spent table can copy into it
    /// without allocating; otherwise the entries are copied into new storage.
    pub fn copy_from(&mut self, src: &Table) {
        match Arc::get_mut(&mut self.entries) {
            Some(v) => {
                v.clear();
                v.extend_from_slice(&src.entries);
            }
            None => self.entries = Arc::new((*src.entries).clone()),
        }
    }

    /// Lua's `#t` for a proper sequence: the largest n such that keys 1..=n are all present.
    pub fn sequence_len(&self) -> usize {
        let mut n = 0usize;
        while self.get_num((n + 1) as f64).is_some() {
            n += 1;
        }
        n
    }

    /// Whether the keys are exactly 1..=len (a Lua array with no holes and no other keys).
    pub fn is_sequence(&self) -> bool {
        self.entries
            .iter()
            .enumerate()
            .all(|(i, (k, _))| matches!(k, Value::Num(n) if *n == (i + 1) as f64))
    }

    /// Whether two handles share the same entries (cheap identity test, not equality).
    pub fn ptr_eq(&self, other: &Table) -> bool {
        Arc::ptr_eq(&self.entries, &other.entries)
    }

    pub(crate) fn entries(&self) -> &[(Value, Value)] {
        &self.entries
    }
}

fn check_key(k: &Value) -> Result<(), KeyError> {
    match k {
        Value::Nil => Err(KeyError::Nil),
        Value::Num(n) if n.is_nan() => Err(KeyError::NaN),
        _ => Ok(()),
    }
}

impl PartialEq for Table {
    fn eq(&self, other: &Self) -> bool {
        self.ptr_eq(other) || self.entries[..] == other.entries[..]
    }
}

impl core::fmt::Debug for Table {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl FromIterator<(Value, Value)> for Table {
    /// Collects pairs; pairs whose key is nil or NaN are dropped, as CC:Tweaked drops
    /// unconvertible keys.
    fn from_iter<I: IntoIterator<Item = (Value, Value)>>(iter: I) -> Self {
        let pairs = iter.into_iter().filter(|(k, _)| check_key(k).is_ok());
        // Every key was checked above.
        Table::from_pairs(pairs).unwrap_or_default()
    }
}

/// Byte order of two field names, deciding on the first byte when it differs (as it does for
/// most neighbouring protocol field names) without a call into `memcmp`.
fn field_cmp(a: &[u8], b: &[u8]) -> Ordering {
    match (a.first(), b.first()) {
        (Some(x), Some(y)) if x != y => x.cmp(y),
        _ => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// Copy on write: `copy_from` reuses storage only when no other handle can see it, so a
    /// table handed out earlier never changes.
    #[test]
    fn copy_from_reuses_only_unshared_storage() {
        let src = Table::from_pairs([(Value::from("a"), Value::from(1))]).unwrap();
        let mut spent = Table::from_pairs([(Value::from("z"), Value::from(9))]).unwrap();
        let held = spent.clone();
        assert!(!spent.is_unshared());
        spent.copy_from(&src);
        assert_eq!(
            held.get_str(b"z"),
            Some(&Value::from(9)),
            "held copy changed"
        );
        assert!(spent.is_unshared());
        let before = spent.entries.as_ptr();
        drop(held);
        spent.copy_from(&src);
        assert_eq!(
            spent.entries.as_ptr(),
            before,
            "unshared storage was not reused"
        );
        assert!(spent == src && !spent.ptr_eq(&src));
        spent.set("b", Value::from(2));
        assert_eq!(src.get_str(b"b"), None, "source changed through the copy");
    }

    #[test]
    fn insert_keeps_order_and_replaces() {
        let mut t = Table::new();
        t.insert(Value::from("b"), Value::from(2)).unwrap();
        t.insert(Value::from(1), Value::from("one")).unwrap();
        t.insert(Value::from(true), Value::from(1)).unwrap();
        t.insert(Value::from("a"), Value::from(1)).unwrap();
        let keys: Vec<Value> = t.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(
            keys,
            vec![
                Value::from(true),
                Value::from(1),
                Value::from("a"),
                Value::from("b")
            ]
        );
        assert_eq!(
            t.insert(Value::from("a"), Value::from(5)).unwrap(),
            Some(Value::from(1))
        );
        assert_eq!(t.get_str(b"a"), Some(&Value::from(5)));
        assert_eq!(t.get_str(b"zz"), None);
        assert_eq!(t.get_num(1.0), Some(&Value::from("one")));
    }

    #[test]
    fn nil_and_nan_keys_are_rejected_nil_values_remove() {
        let mut t = Table::new();
        assert_eq!(t.insert(Value::Nil, Value::from(1)), Err(KeyError::Nil));
        assert_eq!(
            t.insert(Value::Num(f64::NAN), Value::from(1)),
            Err(KeyError::NaN)
        );
        t.insert(Value::from("x"), Value::from(1)).unwrap();
        t.insert(Value::from("x"), Value::Nil).unwrap();
        assert!(t.is_empty());
    }

    #[test]
    fn clones_do_not_see_later_writes() {
        let mut a = Table::new();
        a.set("k", Value::from(1));
        let b = a.clone();
        assert!(a.ptr_eq(&b));
        a.set("k", Value::from(2));
        assert_eq!(b.get_str(b"k"), Some(&Value::from(1)));
        assert_eq!(a.get_str(b"k"), Some(&Value::from(2)));
    }

    #[test]
    fn minus_zero_and_zero_are_one_key() {
        let mut t = Table::new();
        t.insert(Value::Num(0.0), Value::from("a")).unwrap();
        t.insert(Value::Num(-0.0), Value::from("b")).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t.get_num(0.0), Some(&Value::from("b")));
    }

    #[test]
    fn sequences() {
        let t = Table::array([Value::from(1), Value::from(2), Value::Nil, Value::from(4)]);
        assert_eq!(t.len(), 3);
        assert_eq!(t.sequence_len(), 2);
        assert!(!t.is_sequence());
        assert!(Table::array([Value::from("a"), Value::from("b")]).is_sequence());
        assert!(Table::new().is_sequence());
    }

    #[test]
    fn from_pairs_last_wins() {
        let t = Table::from_pairs([
            (Value::from("a"), Value::from(1)),
            (Value::from("a"), Value::from(2)),
        ])
        .unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t.get_str(b"a"), Some(&Value::from(2)));
    }
}
