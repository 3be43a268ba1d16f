//! The values that cross a ComputerCraft modem, and the small vocabulary every Phoenix crate shares.
//!
//! A modem does not carry bytes: `modem.transmit(channel, reply, payload)` carries a **Lua value**,
//! deep-copied for each receiving computer. Every protocol of the
//! Phoenix stack — rednet tables, PLP frames, ARP, PIP, MCP, PSP segments, PDP datagrams — is such a
//! value, so every crate of this workspace speaks [`Value`].
//!
//! * [`Value`] is `nil`, boolean, number (an IEEE double; integral numbers stay integral), byte
//!   string ([`LuaStr`], arbitrary bytes, not necessarily UTF-8) or [`Table`]. Clones are cheap
//!   (reference counted), because one transmit fans out to many receivers; tables are immutable
//!   trees that copy on write.
//! * Tables iterate in one deterministic order (booleans, then numbers, then strings, then tables;
//!   each ascending), so everything built on them is reproducible.
//! * Typed field access ([`Value::field_num`], [`Value::field_str`], …) returns a [`DecodeError`]
//!   naming the field, the type expected and the type found; protocol messages implement
//!   [`WireMessage`] on top of it. Nothing in this crate panics on any value.
//! * [`lua`] converts a host's Lua heap into a [`Value`], reporting cycles and functions as typed
//!   errors (a `Value` is a tree).
//! * The `serde` impls define one lossless JSON mapping (see [`json`]); with the `json`
//!   feature [`Value::to_json`] and [`Value::from_json`] use it directly.
//! * [`Instant`] is the injected monotonic clock every state machine is driven by, and
//!   [`RandomSource`] the injected randomness (with [`SplitMix64`], a seedable source for tests and
//!   simulators). No crate of the stack reads a clock or draws OS randomness.
//! * [`DeadlineIndex`] keeps the armed timers of many keyed things ordered by deadline, so a
//!   state machine's `poll_timeout` costs O(log n) whatever the number of idle connections.
//!
//! The crate is `no_std` + `alloc` with `default-features = false`.
//!
//! ```
//! use modem_value::{table, Value};
//!
//! // What `modem.transmit(1, 1, {type = "ping", hops = 15})` carries.
//! let msg = table! { "type" => "ping", "hops" => 15 };
//! assert_eq!(msg.field_num("hops"), Ok(15.0));
//! assert_eq!(
//!     msg.field_str("sender").unwrap_err().to_string(),
//!     "missing field 'sender'"
//! );
//! // Lossless JSON for hosts outside Rust (the `json` feature).
//! let text = msg.to_json();
//! assert_eq!(Value::from_json(&text).unwrap(), msg);
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

mod error;
pub mod json;
pub mod lua;
mod luastr;
mod number;
mod random;
mod serialize;
mod table;
mod time;
pub mod timers;
mod value;
mod wire;

#[cfg(feature = "arbitrary")]
mod arbitrary_impl;

pub use error::{DecodeError, Kind};
pub use luastr::LuaStr;
pub use random::{RandomSource, SplitMix64};
pub use table::{KeyError, Table};
pub use time::Instant;
pub use timers::DeadlineIndex;
pub use value::Value;
pub use wire::WireMessage;

/// `core::time::Duration`, re-exported so that users of [`Instant`] need no other import.
pub use core::time::Duration;

/// Builds a [`Value::Table`] from `key => value` pairs; nil values are skipped, as in a Lua table
/// constructor.
///
/// ```
/// use modem_value::{table, Value};
/// let frame = table! { "type" => "link", "source" => 4, "payload" => table! { "a" => true } };
/// assert_eq!(frame.get("source").as_num(), Some(4.0));
/// ```
///
/// # Panics
/// Panics if a key is nil or NaN, which a Lua table constructor rejects too; keys written in
/// source code are never either.
#[macro_export]
macro_rules! table {
    () => { $crate::Value::Table($crate::Table::new()) };
    ($($k:expr => $v:expr),+ $(,)?) => {{
        let mut t = $crate::Table::new();
        $( t.insert($crate::Value::from($k), $crate::Value::from($v)).expect("table! key must not be nil or NaN"); )+
        $crate::Value::Table(t)
    }};
}
