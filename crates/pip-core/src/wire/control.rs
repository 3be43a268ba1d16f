//! MCP messages (`type = "control"`), carried inside PIP packets.

use modem_value::{DecodeError, LuaStr, Table, Value, WireMessage};

use super::{check_envelope, envelope};

/// The four MCP message types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// Echo request; answered with [`MessageType::Pong`].
    Ping,
    /// Echo reply; its payload is the whole ping packet.
    Pong,
    /// An earlier packet could not reach its destination.
    Unreachable,
    /// An earlier packet exceeded its hop budget.
    Timeout,
}

impl MessageType {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            MessageType::Ping => "ping",
            MessageType::Pong => "pong",
            MessageType::Unreachable => "unreachable",
            MessageType::Timeout => "timeout",
        }
    }

    /// Parses `netcontrol`'s type argument; the error is Phoenix's
    /// `bad argument #2 (invalid option '<x>')`.
    pub fn parse_netcontrol(name: &str) -> Result<MessageType, crate::ConfigError> {
        MessageType::from_bytes(name.as_bytes()).ok_or_else(|| crate::ConfigError::InvalidOption {
            arg: 2,
            option: alloc::string::ToString::to_string(name),
        })
    }

    /// Parses a wire name.
    pub fn from_bytes(b: &[u8]) -> Option<MessageType> {
        Some(match b {
            b"ping" => MessageType::Ping,
            b"pong" => MessageType::Pong,
            b"unreachable" => MessageType::Unreachable,
            b"timeout" => MessageType::Timeout,
            _ => return None,
        })
    }
}

/// An MCP message.
///
/// Compatibility note: Phoenix 0.0.9's `netcontrol` with a 4th argument puts that
/// number into `payload`. Such a numeric `payload` decodes as absent; any other non-table
/// `payload` is an error.
#[derive(Clone, Debug, PartialEq)]
pub struct ControlMessage {
    /// `messageType`.
    pub message_type: MessageType,
    /// `error`: free text (the ping tool puts its sequence number here).
    pub error: Option<LuaStr>,
    /// `payload`: the PIP packet this message is about, if any.
    pub payload: Option<Table>,
}

impl WireMessage for ControlMessage {
    fn decode(value: &Value) -> Result<Self, DecodeError> {
        check_envelope(value, super::TYPE_CONTROL)?;
        let mt = value.field_str("messageType")?;
        let message_type = MessageType::from_bytes(mt.as_bytes()).ok_or(DecodeError::Invalid {
            field: "messageType",
            reason: "not ping, pong, unreachable or timeout",
        })?;
        let payload = match value.get("payload") {
            Value::Num(_) => None,
            _ => value.field_opt_table("payload")?.cloned(),
        };
        Ok(ControlMessage {
            message_type,
            error: value.field_opt_str("error")?.cloned(),
            payload,
        })
    }

    fn encode(&self) -> Value {
        let mut t = envelope(5);
        if let Some(e) = &self.error {
            t.set("error", Value::Str(e.clone()));
        }
        t.set(
            "messageType",
            Value::from_static(self.message_type.as_str()),
        );
        if let Some(p) = &self.payload {
            t.set("payload", Value::Table(p.clone()));
        }
        t.set("type", Value::from_static(super::TYPE_CONTROL));
        Value::Table(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modem_value::table;

    #[test]
    fn decode_checks_type_and_accepts_numeric_payload_quirk() {
        let v = table! { "PhoenixNetworking" => true, "type" => "control", "messageType" => "ping",
        "error" => "1", "payload" => 15 };
        let m = ControlMessage::decode(&v).unwrap();
        assert_eq!(m.message_type, MessageType::Ping);
        assert_eq!(m.payload, None);
        let bad =
            table! { "PhoenixNetworking" => true, "type" => "control", "messageType" => "echo" };
        assert!(ControlMessage::decode(&bad).is_err());
        assert_eq!(
            MessageType::parse_netcontrol("echo")
                .unwrap_err()
                .to_string(),
            "bad argument #2 (invalid option 'echo')"
        );
        assert_eq!(MessageType::parse_netcontrol("pong"), Ok(MessageType::Pong));
        let bad_payload = table! { "PhoenixNetworking" => true, "type" => "control",
        "messageType" => "pong", "payload" => "x" };
        assert!(ControlMessage::decode(&bad_payload).is_err());
    }
}
