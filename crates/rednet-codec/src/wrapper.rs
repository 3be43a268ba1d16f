//! The rednet wrapper table: what rednet.lua hands to `modem.transmit`.

use modem_value::{DecodeError, LuaStr, Table, Value, WireMessage};

use crate::consts::CHANNEL_BROADCAST;

/// Field names, exactly as rednet.lua spells them.
pub mod field {
    /// The message ID.
    pub const MESSAGE_ID: &str = "nMessageID";
    /// The full recipient ID, or 65535 for a broadcast.
    pub const RECIPIENT: &str = "nRecipient";
    /// The sender's computer ID.
    pub const SENDER: &str = "nSender";
    /// The user's value.
    pub const MESSAGE: &str = "message";
    /// The protocol name; absent when nil.
    pub const PROTOCOL: &str = "sProtocol";
}

/// A rednet message as it travels between modems:
/// `{nMessageID=…, nRecipient=…, nSender=…, message=…, sProtocol=…}`.
///
/// Decoding applies exactly the *stateless* parts of rednet.lua's acceptance rules in
/// their order: the payload is a table, `nMessageID` is a number and not NaN, `nSender` is nil or
/// a number and not NaN. Everything else is carried as it came, because rednet.lua accepts it:
/// `nRecipient` is only ever compared (a broadcast-channel message with a string or no
/// `nRecipient` is delivered), `message` is any value, and `sProtocol` is delivered as whatever
/// value it is (a string from every real sender). The stateful rules (channel, duplicate,
/// recipient, modem open) are the [`Endpoint`](crate::Endpoint)'s.
///
/// `encode` writes the five fields rednet.lua writes, leaving out nil ones (`sProtocol` when
/// there is no protocol).
#[derive(Clone, Debug, PartialEq)]
pub struct RednetMessage {
    /// `nMessageID`: any non-NaN number; rednet.lua draws integers in [1, 2^31−1].
    pub id: f64,
    /// `nRecipient`: the full recipient ID, or 65535 for a broadcast (normally a number).
    pub recipient: Value,
    /// `nSender`: the sender's ID; `None` when absent (receivers then report the reply channel).
    pub sender: Option<f64>,
    /// `message`: the user value.
    pub message: Value,
    /// `sProtocol`: normally a string; nil when absent.
    pub protocol: Value,
}

impl RednetMessage {
    /// The wrapper rednet.lua builds for `send(recipient, message, protocol)` on computer
    /// `sender` with message ID `id`.
    pub fn new(
        id: u32,
        recipient: f64,
        sender: u32,
        message: Value,
        protocol: Option<LuaStr>,
    ) -> Self {
        RednetMessage {
            id: f64::from(id),
            recipient: Value::Num(recipient),
            sender: Some(f64::from(sender)),
            message,
            protocol: protocol.map_or(Value::Nil, Value::Str),
        }
    }

    /// `nRecipient` if it is a number.
    pub fn recipient_num(&self) -> Option<f64> {
        self.recipient.as_num()
    }

    /// Whether `nRecipient` is the broadcast address 65535.
    pub fn is_broadcast(&self) -> bool {
        self.recipient_num() == Some(f64::from(CHANNEL_BROADCAST))
    }

    /// `sProtocol` if it is a string.
    pub fn protocol_str(&self) -> Option<&LuaStr> {
        self.protocol.as_str()
    }
}

/// The five wrapper fields of a payload table, read in one pass (nil when absent).
///
/// Equivalent to five `Value::get` calls, but one walk over the entries with constant-length
/// comparisons instead of five binary searches — the receive path's largest cost otherwise.
pub(crate) struct Fields<'a> {
    pub id: &'a Value,
    pub recipient: &'a Value,
    pub sender: &'a Value,
    pub message: &'a Value,
    pub protocol: &'a Value,
}

static NIL: Value = Value::Nil;

impl<'a> Fields<'a> {
    pub(crate) fn of(table: &'a Table) -> Self {
        let mut f = Fields {
            id: &NIL,
            recipient: &NIL,
            sender: &NIL,
            message: &NIL,
            protocol: &NIL,
        };
        for (k, v) in table.iter() {
            if let Value::Str(s) = k {
                match s.as_bytes() {
                    b"message" => f.message = v,
                    b"nMessageID" => f.id = v,
                    b"nRecipient" => f.recipient = v,
                    b"nSender" => f.sender = v,
                    b"sProtocol" => f.protocol = v,
                    _ => {}
                }
            }
        }
        f
    }

    /// Rule 2's stateless half for an already-read table: `nMessageID` a number, not NaN.
    pub(crate) fn id(&self) -> Result<f64, DecodeError> {
        match self.id {
            Value::Num(n) if n.is_nan() => Err(DecodeError::Invalid {
                field: field::MESSAGE_ID,
                reason: "NaN",
            }),
            Value::Num(n) => Ok(*n),
            Value::Nil => Err(DecodeError::Missing {
                field: field::MESSAGE_ID,
            }),
            other => Err(DecodeError::WrongType {
                field: field::MESSAGE_ID,
                expected: "number",
                found: other.kind(),
            }),
        }
    }

    /// Rule 3: `nSender` nil or a number, not NaN.
    pub(crate) fn sender(&self) -> Result<Option<f64>, DecodeError> {
        match self.sender {
            Value::Nil => Ok(None),
            Value::Num(n) if n.is_nan() => Err(DecodeError::Invalid {
                field: field::SENDER,
                reason: "NaN",
            }),
            Value::Num(n) => Ok(Some(*n)),
            other => Err(DecodeError::WrongType {
                field: field::SENDER,
                expected: "number",
                found: other.kind(),
            }),
        }
    }
}

impl WireMessage for RednetMessage {
    fn decode(value: &Value) -> Result<Self, DecodeError> {
        let fields = Fields::of(value.expect_table("(value)")?);
        let id = fields.id()?;
        let sender = fields.sender()?;
        Ok(RednetMessage {
            id,
            recipient: fields.recipient.clone(),
            sender,
            message: fields.message.clone(),
            protocol: fields.protocol.clone(),
        })
    }

    fn encode(&self) -> Value {
        let mut t = Table::with_capacity(5);
        // Table::set ignores nil values, which is exactly "omitted when nil".
        t.set(field::MESSAGE_ID, Value::Num(self.id));
        t.set(field::RECIPIENT, self.recipient.clone());
        t.set(field::SENDER, self.sender.map_or(Value::Nil, Value::Num));
        t.set(field::MESSAGE, self.message.clone());
        t.set(field::PROTOCOL, self.protocol.clone());
        Value::Table(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modem_value::{table, Kind};
    use proptest::prelude::*;

    #[test]
    fn encodes_the_exact_rednet_table() {
        let m = RednetMessage::new(12345, 7.0, 3, Value::from("hi"), Some(LuaStr::from("chat")));
        assert_eq!(
            m.encode(),
            table! { "nMessageID" => 12345, "nRecipient" => 7, "nSender" => 3, "message" => "hi", "sProtocol" => "chat" }
        );
        let m = RednetMessage::new(1, 65535.0, 3, Value::Nil, None);
        let v = m.encode();
        assert_eq!(
            v,
            table! { "nMessageID" => 1, "nRecipient" => 65535, "nSender" => 3 }
        );
        assert!(v.as_table().unwrap().get_str(b"sProtocol").is_none());
        assert!(m.is_broadcast());
    }

    #[test]
    fn decode_rejects_in_rule_order() {
        assert!(matches!(
            RednetMessage::decode(&Value::from("x")),
            Err(DecodeError::WrongType {
                found: Kind::Str,
                ..
            })
        ));
        assert_eq!(
            RednetMessage::decode(&table! { "nSender" => f64::NAN }),
            Err(DecodeError::Missing {
                field: "nMessageID"
            })
        );
        assert_eq!(
            RednetMessage::decode(&table! { "nMessageID" => f64::NAN }),
            Err(DecodeError::Invalid {
                field: "nMessageID",
                reason: "NaN"
            })
        );
        assert_eq!(
            RednetMessage::decode(&table! { "nMessageID" => 1, "nSender" => "a" })
                .unwrap_err()
                .field(),
            "nSender"
        );
        assert_eq!(
            RednetMessage::decode(&table! { "nMessageID" => 1, "nSender" => f64::NAN }),
            Err(DecodeError::Invalid {
                field: "nSender",
                reason: "NaN"
            })
        );
        // What rednet.lua accepts, this accepts: odd recipients and protocols, no sender.
        let m = RednetMessage::decode(
            &table! { "nMessageID" => 1.5, "nRecipient" => "x", "sProtocol" => 4 },
        )
        .unwrap();
        assert_eq!(
            (m.id, m.sender, m.recipient_num(), m.protocol_str()),
            (1.5, None, None, None)
        );
        assert_eq!(m.protocol, Value::from(4));
    }

    fn any_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Nil),
            any::<bool>().prop_map(Value::Bool),
            any::<f64>().prop_map(Value::Num),
            ".{0,8}".prop_map(Value::from),
            (any::<i32>(), ".{0,4}").prop_map(|(n, s)| table! { "n" => n, "s" => s }),
        ]
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(
            id in any::<f64>().prop_filter("not NaN", |f| !f.is_nan()),
            recipient in any_value(),
            sender in proptest::option::of(any::<f64>().prop_filter("not NaN", |f| !f.is_nan())),
            message in any_value(),
            protocol in any_value(),
        ) {
            let m = RednetMessage { id, recipient, sender, message, protocol };
            prop_assert_eq!(RednetMessage::decode(&m.encode()), Ok(m));
        }
    }
}
