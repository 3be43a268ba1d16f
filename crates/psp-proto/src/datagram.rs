//! The PDP datagram: the `datagram` table PIP carries.

use modem_value::{DecodeError, Table, Value, WireMessage};

use crate::segment::check_envelope;

/// One PDP message (`type = "datagram"`): its content travels in `message` (not `payload`) and
/// may be any value, unconverted. A missing `message` decodes as nil, which a reader cannot tell
/// from an empty queue; Phoenix queues it the same way.
#[derive(Clone, Debug, PartialEq)]
pub struct Datagram {
    /// `message`: the datagram's content.
    pub message: Value,
}

impl WireMessage for Datagram {
    fn decode(value: &Value) -> Result<Self, DecodeError> {
        check_envelope(value, "datagram")?;
        Ok(Datagram {
            message: value.get("message").clone(),
        })
    }

    fn encode(&self) -> Value {
        let mut t = Table::with_capacity(3);
        t.set("PhoenixNetworking", Value::Bool(true));
        t.set("type", Value::from_static("datagram"));
        t.set("message", self.message.clone());
        Value::Table(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modem_value::table;

    #[test]
    fn shape_and_strictness() {
        let d = Datagram {
            message: table! { "x" => 1 },
        };
        assert_eq!(
            d.encode(),
            table! { "PhoenixNetworking" => true, "type" => "datagram", "message" => table! { "x" => 1 } }
        );
        assert_eq!(Datagram::decode(&d.encode()), Ok(d));
        let wrong = table! { "PhoenixNetworking" => true, "type" => "socket", "message" => 1 };
        assert_eq!(Datagram::decode(&wrong).unwrap_err().field(), "type");
        let nil = table! { "PhoenixNetworking" => true, "type" => "datagram" };
        assert_eq!(Datagram::decode(&nil).map(|d| d.message), Ok(Value::Nil));
    }
}
