//! The contract every protocol message of the workspace implements.

use crate::{DecodeError, Value};

/// A protocol message that travels as a [`Value`].
///
/// * `decode` is strict and total: required fields present with the right types, values in the
///   ranges the spec allows, otherwise a [`DecodeError`] naming the field. It never panics, for
///   any value.
/// * `encode` produces the exact table shape the spec prescribes (absent optional fields are
///   absent, not `false`).
/// * For every message `m`, `decode(&m.encode()) == Ok(m)`; each crate property-tests this.
pub trait WireMessage: Sized {
    /// Strictly decodes a message from a received value.
    fn decode(value: &Value) -> Result<Self, DecodeError>;
    /// Encodes the message as the value to transmit.
    fn encode(&self) -> Value;
}
