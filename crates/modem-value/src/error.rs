//! The typed error of strict decoding, shared by every wire type of the workspace.

use core::fmt;

/// The Lua type of a [`Value`](crate::Value), as `type(v)` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `nil` (also: an absent field).
    Nil,
    /// `boolean`.
    Bool,
    /// `number`.
    Num,
    /// `string`.
    Str,
    /// `table`.
    Table,
}

impl Kind {
    /// The name Lua's `type()` gives.
    pub const fn lua_name(self) -> &'static str {
        match self {
            Kind::Nil => "nil",
            Kind::Bool => "boolean",
            Kind::Num => "number",
            Kind::Str => "string",
            Kind::Table => "table",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.lua_name())
    }
}

/// Why a value is not the message a decoder expected.
///
/// Every variant names the field (a static protocol field name such as `"nMessageID"`; `"(value)"`
/// for the message itself), so a host can log exactly what a peer got wrong. Decoding never
/// panics and never changes any state: a decoder either returns the whole message or this error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The field is absent (nil) but the protocol requires it.
    #[error("missing field '{field}'")]
    Missing {
        /// The field name.
        field: &'static str,
    },
    /// The field has the wrong Lua type.
    #[error("bad field '{field}' ({expected} expected, got {found})")]
    WrongType {
        /// The field name.
        field: &'static str,
        /// What the protocol wants, e.g. `"number"` or `"string or number"`.
        expected: &'static str,
        /// What was there.
        found: Kind,
    },
    /// The field has the right type but a value the protocol does not allow.
    #[error("bad field '{field}' ({reason})")]
    Invalid {
        /// The field name.
        field: &'static str,
        /// What is wrong, e.g. `"NaN"`.
        reason: &'static str,
    },
}

impl DecodeError {
    /// The field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            DecodeError::Missing { field }
            | DecodeError::WrongType { field, .. }
            | DecodeError::Invalid { field, .. } => field,
        }
    }
}
