//! Converting a host's Lua values into [`Value`]s, with CC:Tweaked's and CraftOS-PC's rules.
//!
//! A host (an emulator) holds Lua values in its own heap. What crosses a modem is a deep copy:
//!
//!
//! * nil, booleans, numbers and strings pass unchanged;
//! * tables are copied key by key, raw (no metatables, no `__pairs`);
//! * functions, coroutines and userdata: **CC:Tweaked** drops any pair whose key or value is one
//!   (and a top-level one becomes nil); **CraftOS-PC** turns them into strings (their
//!   `__tostring` or `function: 0x…`).
//!
//! Both hosts preserve shared sub-tables and cycles inside one message. A [`Value`] is a tree, so
//! this helper copies a sub-table reached twice (shared but acyclic) into two equal subtrees, and
//! reports a **cycle** as [`ConvertError::Cycle`]: no Phoenix protocol sends one, and a program
//! that does gets a clear error instead of a silently different message. [`Policy::Strict`] also
//! reports functions and other non-data values as [`ConvertError::NotData`] rather than
//! dropping them. Nesting deeper than [`MAX_DEPTH`] is [`ConvertError::TooDeep`].

use alloc::vec::Vec;

use crate::{LuaStr, Table, Value};

/// Deepest table nesting the conversion accepts.
pub const MAX_DEPTH: usize = 200;

/// One Lua value in a host's heap, as the host describes it to [`convert`].
#[derive(Clone, Debug)]
pub enum HostValue<T> {
    /// `nil`.
    Nil,
    /// A boolean.
    Bool(bool),
    /// A number.
    Num(f64),
    /// A string.
    Str(LuaStr),
    /// A table, by the host's reference to it.
    Table(T),
    /// A function, coroutine or userdata, with the text CraftOS-PC would use for it.
    Other {
        /// Its Lua type name (`"function"`, `"thread"`, `"userdata"`).
        type_name: &'static str,
        /// `tostring(v)` as the host would print it.
        text: LuaStr,
    },
}

/// One raw `(key, value)` pair of a host table.
pub type HostPair<T> = (HostValue<T>, HostValue<T>);

/// Read access to a host's tables.
pub trait LuaHeap {
    /// The host's reference to a table.
    type Table: Clone;
    /// An identity for the table (equal for the same table), used to find cycles.
    fn identity(&self, table: &Self::Table) -> usize;
    /// The table's raw pairs, in any order.
    fn pairs(&self, table: &Self::Table) -> Vec<HostPair<Self::Table>>;
}

/// What to do with functions, coroutines and userdata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Refuse them with [`ConvertError::NotData`].
    Strict,
    /// CC:Tweaked: drop the pair (a top-level one becomes nil).
    CcTweaked,
    /// CraftOS-PC: replace them with their `tostring` text.
    CraftOsPc,
}

/// Why a host value cannot become a [`Value`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// A table contains itself (directly or through its descendants).
    #[error("cannot send a table that contains itself")]
    Cycle,
    /// A function, coroutine or userdata under [`Policy::Strict`].
    #[error("cannot send a {type_name}")]
    NotData {
        /// Its Lua type name.
        type_name: &'static str,
    },
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("table nesting is too deep")]
    TooDeep,
}

/// Deep-copies `root` out of the host heap under `policy`.
pub fn convert<H: LuaHeap>(
    heap: &H,
    root: &HostValue<H::Table>,
    policy: Policy,
) -> Result<Value, ConvertError> {
    let mut path = Vec::new();
    Ok(convert_inner(heap, root, policy, &mut path)?.unwrap_or(Value::Nil))
}

/// `None` means "drop this" (CC:Tweaked's rule for non-data values).
fn convert_inner<H: LuaHeap>(
    heap: &H,
    v: &HostValue<H::Table>,
    policy: Policy,
    path: &mut Vec<usize>,
) -> Result<Option<Value>, ConvertError> {
    Ok(Some(match v {
        HostValue::Nil => Value::Nil,
        HostValue::Bool(b) => Value::Bool(*b),
        HostValue::Num(n) => Value::Num(*n),
        HostValue::Str(s) => Value::Str(s.clone()),
        HostValue::Other { type_name, text } => match policy {
            Policy::Strict => return Err(ConvertError::NotData { type_name }),
            Policy::CcTweaked => return Ok(None),
            Policy::CraftOsPc => Value::Str(text.clone()),
        },
        HostValue::Table(t) => {
            let id = heap.identity(t);
            if path.contains(&id) {
                return Err(ConvertError::Cycle);
            }
            if path.len() >= MAX_DEPTH {
                return Err(ConvertError::TooDeep);
            }
            path.push(id);
            let mut out = Table::new();
            for (k, val) in heap.pairs(t) {
                let k = convert_inner(heap, &k, policy, path)?;
                let val = convert_inner(heap, &val, policy, path)?;
                if let (Some(k), Some(val)) = (k, val) {
                    // Lua itself never holds a nil or NaN key; a host that reports one loses it.
                    let _ = out.insert(k, val);
                }
            }
            path.pop();
            Value::Table(out)
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// A toy heap: table i holds the pairs at index i.
    struct Heap(Vec<Vec<(HostValue<usize>, HostValue<usize>)>>);
    impl LuaHeap for Heap {
        type Table = usize;
        fn identity(&self, t: &usize) -> usize {
            *t
        }
        fn pairs(&self, t: &usize) -> Vec<(HostValue<usize>, HostValue<usize>)> {
            self.0.get(*t).cloned().unwrap_or_default()
        }
    }

    fn s(x: &str) -> HostValue<usize> {
        HostValue::Str(LuaStr::from(x))
    }
    fn func() -> HostValue<usize> {
        HostValue::Other {
            type_name: "function",
            text: LuaStr::from("function: 0x1234"),
        }
    }

    #[test]
    fn cycle_is_an_error_shared_subtable_is_copied() {
        let cyc = Heap(vec![vec![(s("self"), HostValue::Table(0))]]);
        assert_eq!(
            convert(&cyc, &HostValue::Table(0), Policy::CcTweaked),
            Err(ConvertError::Cycle)
        );
        let shared = Heap(vec![
            vec![(s("a"), HostValue::Table(1)), (s("b"), HostValue::Table(1))],
            vec![(s("x"), HostValue::Num(1.0))],
        ]);
        let v = convert(&shared, &HostValue::Table(0), Policy::Strict).unwrap();
        assert_eq!(v.get("a"), v.get("b"));
        assert_eq!(v.get("a").get("x"), &Value::from(1));
    }

    #[test]
    fn functions_by_policy() {
        let h = Heap(vec![vec![
            (s("f"), func()),
            (func(), s("v")),
            (s("k"), s("v")),
        ]]);
        let root = HostValue::Table(0);
        assert_eq!(
            convert(&h, &root, Policy::Strict),
            Err(ConvertError::NotData {
                type_name: "function"
            })
        );
        let cc = convert(&h, &root, Policy::CcTweaked).unwrap();
        assert_eq!(cc.as_table().unwrap().len(), 1);
        let cpc = convert(&h, &root, Policy::CraftOsPc).unwrap();
        assert_eq!(cpc.get("f"), &Value::from("function: 0x1234"));
        assert_eq!(cpc.get("function: 0x1234"), &Value::from("v"));
        assert_eq!(convert(&h, &func(), Policy::CcTweaked), Ok(Value::Nil));
    }

    #[test]
    fn depth_is_bounded() {
        let deep = Heap(
            (0..MAX_DEPTH + 5)
                .map(|i| vec![(s("n"), HostValue::Table(i + 1))])
                .collect(),
        );
        assert_eq!(
            convert(&deep, &HostValue::Table(0), Policy::Strict),
            Err(ConvertError::TooDeep)
        );
    }
}
