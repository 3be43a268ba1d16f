//! Typed Phoenix messages: PLP frames ([`link`]), [`arp`], PIP packets ([`internet`]) and MCP
//! messages ([`control`]).
//!
//! Every type implements [`WireMessage`]: `decode` is strict (required fields present with the
//! types of the spec's tables, IP strings in Phoenix's forms with every part in range, computer IDs non-negative
//! integers) and never panics; `encode` writes exactly the spec's shape with
//! `PhoenixNetworking = true`. Fields a message does not define are ignored on decode and never
//! written. Payloads the layer does not interpret stay [`Table`]s.
//!
//! The envelope check follows Phoenix 0.0.9: `PhoenixNetworking` must be truthy (not
//! necessarily `true`) and `type` must be the expected string.

pub mod arp;
pub mod control;
pub mod internet;
pub mod link;

use core::net::Ipv4Addr;

use modem_value::{DecodeError, Table, Value, WireMessage};

pub use arp::{ArpMessage, ArpReply, ArpRequest};
pub use control::{ControlMessage, MessageType};
pub use internet::{MessageId, PipPacket};
pub use link::LinkFrame;

/// A ComputerCraft computer ID, as carried in PLP `source`/`destination` and ARP.
pub type ComputerId = u32;

/// `type` of a PLP frame.
pub const TYPE_LINK: &str = "link";
/// `type` of an ARP message.
pub const TYPE_ARP: &str = "arp";
/// `type` of a PIP packet.
pub const TYPE_INTERNET: &str = "internet";
/// `type` of an MCP message.
pub const TYPE_CONTROL: &str = "control";
/// `type` of a PSP segment (interpreted by `psp-proto`).
pub const TYPE_SOCKET: &str = "socket";
/// `type` of a PDP datagram (interpreted by `psp-proto`).
pub const TYPE_DATAGRAM: &str = "datagram";

/// A top-level modem message the stack understands: only `link` and `arp`.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// A PLP frame.
    Link(LinkFrame),
    /// An ARP request or reply.
    Arp(ArpMessage),
}

impl WireMessage for Frame {
    fn decode(value: &Value) -> Result<Self, DecodeError> {
        value.expect_table("(value)")?;
        if !value.get("PhoenixNetworking").is_truthy() {
            return Err(DecodeError::Missing {
                field: "PhoenixNetworking",
            });
        }
        let ty = value.field_str("type")?;
        match ty.as_bytes() {
            b"link" => LinkFrame::decode(value).map(Frame::Link),
            b"arp" => ArpMessage::decode(value).map(Frame::Arp),
            _ => Err(DecodeError::Invalid {
                field: "type",
                reason: "only 'link' and 'arp' are accepted at top level",
            }),
        }
    }

    fn encode(&self) -> Value {
        match self {
            Frame::Link(f) => f.encode(),
            Frame::Arp(a) => a.encode(),
        }
    }
}

/// The `type` of a Phoenix table if it is one (`PhoenixNetworking` truthy, `type` a string).
pub fn phoenix_type(value: &Value) -> Option<&[u8]> {
    let t = value.as_table()?;
    let [phoenix, ty] = scan(t, &["PhoenixNetworking", "type"]);
    if !phoenix.is_truthy() {
        return None;
    }
    ty.as_str().map(|s| s.as_bytes())
}

static NIL: Value = Value::Nil;

/// Reads the string-keyed fields `names` of `t` in one pass over its entries (absent = nil).
///
/// One pass with a length-first comparison is several times cheaper than one binary search
/// per field, and decoding is on every packet's path.
#[inline(always)]
pub(crate) fn scan<'a, const N: usize>(t: &'a Table, names: &[&'static str; N]) -> [&'a Value; N] {
    let mut out = [&NIL; N];
    for (k, v) in t.iter() {
        if let Value::Str(s) = k {
            let kb = s.as_bytes();
            if let Some(i) = names.iter().position(|n| n.as_bytes() == kb) {
                out[i] = v;
            }
        }
    }
    out
}

/// The PLP fields `[PhoenixNetworking, type, source, destination, payload]` in one pass; a
/// `match` on literal keys compiles to a length switch and inline compares (the hot path).
pub(crate) fn scan_link(t: &Table) -> [&Value; 5] {
    let mut out = [&NIL; 5];
    for (k, v) in t.iter() {
        let Value::Str(s) = k else { continue };
        let slot = match s.as_bytes() {
            b"PhoenixNetworking" => &mut out[0],
            b"type" => &mut out[1],
            b"source" => &mut out[2],
            b"destination" => &mut out[3],
            b"payload" => &mut out[4],
            _ => continue,
        };
        *slot = v;
    }
    out
}

/// The PIP fields `[PhoenixNetworking, type, source, destination, messageID, hopsLeft,
/// payload]` in one pass (see [`scan_link`]).
pub(crate) fn scan_pip(t: &Table) -> [&Value; 7] {
    let mut out = [&NIL; 7];
    for (k, v) in t.iter() {
        let Value::Str(s) = k else { continue };
        let slot = match s.as_bytes() {
            b"PhoenixNetworking" => &mut out[0],
            b"type" => &mut out[1],
            b"source" => &mut out[2],
            b"destination" => &mut out[3],
            b"messageID" => &mut out[4],
            b"hopsLeft" => &mut out[5],
            b"payload" => &mut out[6],
            _ => continue,
        };
        *slot = v;
    }
    out
}

/// Checks envelope fields already read by [`scan`].
pub(crate) fn check_scanned_envelope(
    phoenix: &Value,
    ty: &Value,
    expected: &'static str,
) -> Result<(), DecodeError> {
    if !phoenix.is_truthy() {
        return Err(DecodeError::Missing {
            field: "PhoenixNetworking",
        });
    }
    match ty {
        Value::Str(s) if s.as_bytes() == expected.as_bytes() => Ok(()),
        Value::Str(_) => Err(DecodeError::Invalid {
            field: "type",
            reason: "unexpected message type",
        }),
        Value::Nil => Err(DecodeError::Missing { field: "type" }),
        other => Err(DecodeError::WrongType {
            field: "type",
            expected: "string",
            found: other.kind(),
        }),
    }
}

/// Checks the common envelope of a message of type `ty`: a table whose
/// `PhoenixNetworking` is truthy and whose `type` is `ty`. Every Phoenix wire type of the
/// workspace (here and in psp-proto) starts its decode with it.
pub fn check_envelope(value: &Value, ty: &'static str) -> Result<(), DecodeError> {
    value.expect_table("(value)")?;
    if !value.get("PhoenixNetworking").is_truthy() {
        return Err(DecodeError::Missing {
            field: "PhoenixNetworking",
        });
    }
    if value.field_str("type")?.as_bytes() != ty.as_bytes() {
        return Err(DecodeError::Invalid {
            field: "type",
            reason: "unexpected message type",
        });
    }
    Ok(())
}

/// A new table holding the envelope (`PhoenixNetworking = true`); callers add `type` and their
/// fields, in key order for the cheapest insertion.
pub fn envelope(capacity: usize) -> Table {
    let mut t = Table::with_capacity(capacity);
    t.set("PhoenixNetworking", Value::Bool(true));
    t
}

/// Reads a computer ID (a non-negative integral number below 2^32).
pub(crate) fn id_from(v: &Value, field: &'static str) -> Result<ComputerId, DecodeError> {
    match v {
        Value::Num(n) => id_of_num(*n).ok_or(DecodeError::Invalid {
            field,
            reason: "not a computer ID",
        }),
        Value::Nil => Err(DecodeError::Missing { field }),
        other => Err(DecodeError::WrongType {
            field,
            expected: "number",
            found: other.kind(),
        }),
    }
}

pub(crate) fn id_of_num(n: f64) -> Option<ComputerId> {
    // `n as u32` saturates; the round trip check rejects fractions, negatives and overflow.
    let id = n as u32;
    (f64::from(id) == n).then_some(id)
}

pub(crate) fn opt_id(v: &Value, field: &'static str) -> Result<Option<ComputerId>, DecodeError> {
    match v {
        Value::Nil => Ok(None),
        other => id_from(other, field).map(Some),
    }
}

/// Reads a dotted IP string field.
pub(crate) fn ip_from(v: &Value, field: &'static str) -> Result<Ipv4Addr, DecodeError> {
    match v {
        Value::Str(s) => crate::addr::parse_ip(s.as_bytes()).map_err(|_| DecodeError::Invalid {
            field,
            reason: "Invalid IP address",
        }),
        Value::Nil => Err(DecodeError::Missing { field }),
        other => Err(DecodeError::WrongType {
            field,
            expected: "string",
            found: other.kind(),
        }),
    }
}

pub(crate) fn opt_ip(v: &Value, field: &'static str) -> Result<Option<Ipv4Addr>, DecodeError> {
    match v {
        Value::Nil => Ok(None),
        other => ip_from(other, field).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modem_value::table;

    #[test]
    fn top_level_dispatch_is_link_and_arp_only() {
        let pip =
            table! { "PhoenixNetworking" => true, "type" => "internet", "source" => "1.2.3.4" };
        assert!(matches!(
            Frame::decode(&pip),
            Err(DecodeError::Invalid { field: "type", .. })
        ));
        let not_phoenix = table! { "type" => "link", "source" => 1, "payload" => table!{} };
        assert_eq!(
            Frame::decode(&not_phoenix),
            Err(DecodeError::Missing {
                field: "PhoenixNetworking"
            })
        );
        let link = table! { "PhoenixNetworking" => 1, "type" => "link", "source" => 1, "payload" => table!{} };
        assert!(matches!(Frame::decode(&link), Ok(Frame::Link(_))));
        assert!(Frame::decode(&Value::from("x")).is_err());
    }

    #[test]
    fn ids_are_nonnegative_integers() {
        assert_eq!(id_of_num(5.0), Some(5));
        assert_eq!(id_of_num(-1.0), None);
        assert_eq!(id_of_num(1.5), None);
        assert_eq!(id_of_num(f64::NAN), None);
        assert_eq!(id_of_num(4294967296.0), None);
        assert_eq!(id_of_num(4294967295.0), Some(u32::MAX));
    }
}
