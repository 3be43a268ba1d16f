//! PIP packets (`type = "internet"`), carried in PLP frames.

use core::cmp::Ordering;
use core::net::Ipv4Addr;

use modem_value::{DecodeError, LuaStr, RandomSource, Table, Value, WireMessage};

use super::{check_scanned_envelope, ip_from, scan_pip};
use crate::addr::ip_value;

/// Default `hopsLeft` of a new packet.
pub const DEFAULT_HOPS: u32 = 15;
/// Length of the random binary `messageID` Phoenix and this crate send.
pub const MESSAGE_ID_LEN: usize = 32;

/// A PIP `messageID`: a string (Phoenix sends 32 random bytes) or a number (also accepted).
///
/// The order (numbers before strings, then by value/bytes) exists only so that IDs can key a
/// set; a number and a string are never equal, as in Lua.
#[derive(Clone, Debug)]
pub enum MessageId {
    /// A numeric ID (never NaN).
    Num(f64),
    /// A byte-string ID.
    Str(LuaStr),
}

impl MessageId {
    /// A fresh ID of [`MESSAGE_ID_LEN`] random bytes.
    pub fn random(rng: &mut impl RandomSource) -> MessageId {
        let mut b = [0u8; MESSAGE_ID_LEN];
        rng.fill_bytes(&mut b);
        MessageId::Str(LuaStr::from(&b[..]))
    }

    /// The wire value, consuming the ID (no reference count to touch).
    pub fn into_value(self) -> Value {
        match self {
            MessageId::Num(n) => Value::Num(n),
            MessageId::Str(s) => Value::Str(s),
        }
    }

    /// The wire value.
    pub fn to_value(&self) -> Value {
        match self {
            MessageId::Num(n) => Value::Num(*n),
            MessageId::Str(s) => Value::Str(s.clone()),
        }
    }

    /// Reads a `messageID` value.
    pub fn from_value(v: &Value) -> Result<MessageId, DecodeError> {
        match v {
            Value::Num(n) if n.is_nan() => Err(DecodeError::Invalid {
                field: "messageID",
                reason: "NaN",
            }),
            // -0 and 0 are the same Lua key.
            Value::Num(n) => Ok(MessageId::Num(if *n == 0.0 { 0.0 } else { *n })),
            Value::Str(s) => Ok(MessageId::Str(s.clone())),
            Value::Nil => Err(DecodeError::Missing { field: "messageID" }),
            other => Err(DecodeError::WrongType {
                field: "messageID",
                expected: "string or number",
                found: other.kind(),
            }),
        }
    }
}

impl PartialEq for MessageId {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for MessageId {}
impl PartialOrd for MessageId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for MessageId {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (MessageId::Num(a), MessageId::Num(b)) => a.total_cmp(b),
            (MessageId::Num(_), MessageId::Str(_)) => Ordering::Less,
            (MessageId::Str(_), MessageId::Num(_)) => Ordering::Greater,
            (MessageId::Str(a), MessageId::Str(b)) => a.as_bytes().cmp(b.as_bytes()),
        }
    }
}

/// A Phoenix Internet Protocol packet.
#[derive(Clone, Debug, PartialEq)]
pub struct PipPacket {
    /// The sender's IP (the address of the interface it left from).
    pub source: Ipv4Addr,
    /// The final destination.
    pub destination: Ipv4Addr,
    /// Unique per packet; receivers discard duplicates.
    pub message_id: MessageId,
    /// Remaining router hops (a non-negative integer).
    pub hops_left: u32,
    /// The carried `control`, `socket` or `datagram` table.
    pub payload: Table,
}

impl PipPacket {
    /// The `type` of the payload if it is a Phoenix table (`PhoenixNetworking` truthy).
    pub fn payload_type(&self) -> Option<&[u8]> {
        let t = &self.payload;
        if !t
            .get_str(b"PhoenixNetworking")
            .is_some_and(Value::is_truthy)
        {
            return None;
        }
        t.get_str(b"type")
            .and_then(Value::as_str)
            .map(|s| s.as_bytes())
    }
}

/// Reads `hopsLeft`: a non-negative integral number below 2^32.
pub(crate) fn hops_from(v: &Value) -> Result<u32, DecodeError> {
    match v {
        Value::Num(n) => super::id_of_num(*n).ok_or(DecodeError::Invalid {
            field: "hopsLeft",
            reason: "not a non-negative integer",
        }),
        Value::Nil => Err(DecodeError::Missing { field: "hopsLeft" }),
        other => Err(DecodeError::WrongType {
            field: "hopsLeft",
            expected: "number",
            found: other.kind(),
        }),
    }
}

impl PipPacket {
    /// [`WireMessage::decode`] of a value already known to be a table.
    pub(crate) fn decode_table(t: &Table) -> Result<Self, DecodeError> {
        let [phoenix, ty, source, destination, message_id, hops, payload] = scan_pip(t);
        check_scanned_envelope(phoenix, ty, super::TYPE_INTERNET)?;
        Ok(PipPacket {
            source: ip_from(source, "source")?,
            destination: ip_from(destination, "destination")?,
            message_id: MessageId::from_value(message_id)?,
            hops_left: hops_from(hops)?,
            payload: payload.expect_table("payload")?.clone(),
        })
    }
}

impl WireMessage for PipPacket {
    fn decode(value: &Value) -> Result<Self, DecodeError> {
        PipPacket::decode_table(value.expect_table("(value)")?)
    }

    fn encode(&self) -> Value {
        Value::Table(encode_packet(
            ip_value(self.destination),
            self.hops_left,
            self.message_id.to_value(),
            self.payload.clone(),
            ip_value(self.source),
        ))
    }
}

/// A PIP packet table from its field values (addresses as dotted text); without `source` when
/// it is nil (a packet that failed before an outgoing interface gave it one).
pub(crate) fn encode_packet(
    destination: Value,
    hops_left: u32,
    message_id: Value,
    payload: Table,
    source: Value,
) -> Table {
    Table::from_fields([
        ("PhoenixNetworking", Value::Bool(true)),
        ("destination", destination),
        ("hopsLeft", Value::Num(f64::from(hops_left))),
        ("messageID", message_id),
        ("payload", Value::Table(payload)),
        ("source", source),
        ("type", Value::from_static(super::TYPE_INTERNET)),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use modem_value::{table, SplitMix64};

    #[test]
    fn decode_encode_and_ids() {
        let mut rng = SplitMix64::new(1);
        let id = MessageId::random(&mut rng);
        assert!(matches!(&id, MessageId::Str(s) if s.len() == 32));
        let p = PipPacket {
            source: Ipv4Addr::new(10, 0, 0, 1),
            destination: Ipv4Addr::new(10, 0, 0, 2),
            message_id: id,
            hops_left: 15,
            payload: Table::new(),
        };
        let v = p.encode();
        assert_eq!(v.get("source").as_str().unwrap(), "10.0.0.1");
        assert_eq!(PipPacket::decode(&v).unwrap(), p);
        let num_id = table! { "PhoenixNetworking" => true, "type" => "internet",
        "source" => "1.2.3.4", "destination" => "1.2.3.5", "messageID" => 7,
        "hopsLeft" => 15, "payload" => table!{} };
        assert_eq!(
            PipPacket::decode(&num_id).unwrap().message_id,
            MessageId::Num(7.0)
        );
        assert_ne!(MessageId::Num(1.0), MessageId::Str(LuaStr::from("1")));
        let bad_hops = table! { "PhoenixNetworking" => true, "type" => "internet",
        "source" => "1.2.3.4", "destination" => "1.2.3.5", "messageID" => 7,
        "hopsLeft" => -1, "payload" => table!{} };
        assert!(PipPacket::decode(&bad_hops).is_err());
    }
}
