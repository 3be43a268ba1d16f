//! ARP messages (`type = "arp"`). They are top-level modem messages on channel 0,
//! not wrapped in PLP, and carry no `payload`.

use core::net::Ipv4Addr;

use modem_value::{DecodeError, Table, Value, WireMessage};

use super::{check_envelope, envelope, id_from, ip_from, opt_ip, ComputerId};
use crate::addr::ip_value;

/// A request: "who has `destination_ip`?".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArpRequest {
    /// The requester's computer ID.
    pub source: ComputerId,
    /// The requester's IP on this interface (absent if it has none).
    pub source_ip: Option<Ipv4Addr>,
    /// The IP being resolved.
    pub destination_ip: Ipv4Addr,
}

/// A reply: "`source_ip` is computer `source`".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArpReply {
    /// The replier's computer ID (the answer).
    pub source: ComputerId,
    /// The replier's IP (the resolved address).
    pub source_ip: Ipv4Addr,
    /// The requester's computer ID.
    pub destination: ComputerId,
    /// The requester's IP, if the request carried one.
    pub destination_ip: Option<Ipv4Addr>,
}

/// An ARP message, distinguished on the wire by the boolean `reply`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArpMessage {
    /// `reply = false`.
    Request(ArpRequest),
    /// `reply = true`.
    Reply(ArpReply),
}

impl ArpMessage {
    /// The sender's computer ID.
    pub fn source(&self) -> ComputerId {
        match self {
            ArpMessage::Request(r) => r.source,
            ArpMessage::Reply(r) => r.source,
        }
    }

    /// The sender's IP, if it gave one (what receivers learn).
    pub fn source_ip(&self) -> Option<Ipv4Addr> {
        match self {
            ArpMessage::Request(r) => r.source_ip,
            ArpMessage::Reply(r) => Some(r.source_ip),
        }
    }
}

/// The ARP fields `[PhoenixNetworking, type, reply, source, sourceIP, destination,
/// destinationIP]` in one pass over the table: every computer of a segment decodes every ARP
/// broadcast (§6.3 learning), so this is a hot path of a large simulated world.
fn scan_arp(t: &Table) -> [&Value; 7] {
    static NIL: Value = Value::Nil;
    let mut out = [&NIL; 7];
    for (k, v) in t.iter() {
        let Value::Str(s) = k else { continue };
        let slot = match s.as_bytes() {
            b"PhoenixNetworking" => 0,
            b"type" => 1,
            b"reply" => 2,
            b"source" => 3,
            b"sourceIP" => 4,
            b"destination" => 5,
            b"destinationIP" => 6,
            _ => continue,
        };
        out[slot] = v;
    }
    out
}

/// The well-formed case in one pass; `None` sends the caller to the field-by-field decoder,
/// which names what is wrong.
fn decode_scanned(value: &Value) -> Option<ArpMessage> {
    let [phoenix, ty, reply, source, source_ip, destination, destination_ip] =
        scan_arp(value.as_table()?);
    let ok_type = matches!(ty, Value::Str(s) if s.as_bytes() == super::TYPE_ARP.as_bytes());
    if !phoenix.is_truthy() || !ok_type {
        return None;
    }
    let source = id_from(source, "source").ok()?;
    match reply {
        Value::Bool(true) => Some(ArpMessage::Reply(ArpReply {
            source,
            source_ip: ip_from(source_ip, "sourceIP").ok()?,
            destination: id_from(destination, "destination").ok()?,
            destination_ip: opt_ip(destination_ip, "destinationIP").ok()?,
        })),
        Value::Bool(false) => Some(ArpMessage::Request(ArpRequest {
            source,
            source_ip: opt_ip(source_ip, "sourceIP").ok()?,
            destination_ip: ip_from(destination_ip, "destinationIP").ok()?,
        })),
        _ => None,
    }
}

impl WireMessage for ArpMessage {
    fn decode(value: &Value) -> Result<Self, DecodeError> {
        if let Some(m) = decode_scanned(value) {
            return Ok(m);
        }
        check_envelope(value, super::TYPE_ARP)?;
        let source = id_from(value.get("source"), "source")?;
        if value.field_bool("reply")? {
            Ok(ArpMessage::Reply(ArpReply {
                source,
                source_ip: ip_from(value.get("sourceIP"), "sourceIP")?,
                destination: id_from(value.get("destination"), "destination")?,
                destination_ip: opt_ip(value.get("destinationIP"), "destinationIP")?,
            }))
        } else {
            Ok(ArpMessage::Request(ArpRequest {
                source,
                source_ip: opt_ip(value.get("sourceIP"), "sourceIP")?,
                destination_ip: ip_from(value.get("destinationIP"), "destinationIP")?,
            }))
        }
    }

    fn encode(&self) -> Value {
        let mut t = envelope(7);
        match self {
            ArpMessage::Request(r) => {
                t.set("destinationIP", ip_value(r.destination_ip));
                t.set("reply", Value::Bool(false));
                t.set("source", Value::Num(f64::from(r.source)));
                if let Some(ip) = r.source_ip {
                    t.set("sourceIP", ip_value(ip));
                }
            }
            ArpMessage::Reply(r) => {
                t.set("destination", Value::Num(f64::from(r.destination)));
                if let Some(ip) = r.destination_ip {
                    t.set("destinationIP", ip_value(ip));
                }
                t.set("reply", Value::Bool(true));
                t.set("source", Value::Num(f64::from(r.source)));
                t.set("sourceIP", ip_value(r.source_ip));
            }
        }
        t.set("type", Value::from_static(super::TYPE_ARP));
        Value::Table(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modem_value::table;

    #[test]
    fn shapes_match_the_spec() {
        let req = ArpMessage::Request(ArpRequest {
            source: 1,
            source_ip: None,
            destination_ip: Ipv4Addr::new(10, 0, 0, 2),
        });
        assert_eq!(
            req.encode(),
            table! { "PhoenixNetworking" => true, "type" => "arp", "reply" => false,
            "source" => 1, "destinationIP" => "10.0.0.2" }
        );
        let rep = table! { "PhoenixNetworking" => true, "type" => "arp", "reply" => true,
        "source" => 2, "sourceIP" => "10.0.0.2", "destination" => 1 };
        let m = ArpMessage::decode(&rep).unwrap();
        assert_eq!(m.source_ip(), Some(Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!(m.encode(), rep);
        let no_reply = table! { "PhoenixNetworking" => true, "type" => "arp", "source" => 2 };
        assert_eq!(
            ArpMessage::decode(&no_reply),
            Err(DecodeError::Missing { field: "reply" })
        );
        let bad_ip = table! { "PhoenixNetworking" => true, "type" => "arp", "reply" => false,
        "source" => 2, "destinationIP" => "10.0.0.300" };
        assert!(ArpMessage::decode(&bad_ip).is_err());
    }
}
