//! PLP frames (`type = "link"`).

use modem_value::{DecodeError, Table, Value, WireMessage};

use super::{check_scanned_envelope, id_from, opt_id, scan_link, ComputerId};

/// A Phoenix Link Protocol frame: the top-level modem message carrying a PIP packet.
///
/// A missing `destination` is a link broadcast, addressed to every computer on the modem
/// network. Phoenix 0.0.9 receivers drop such frames; this crate accepts them
/// (and still sends them the same way, for the `broadcast` route action).
#[derive(Clone, Debug, PartialEq)]
pub struct LinkFrame {
    /// Computer ID of the sender.
    pub source: ComputerId,
    /// Computer ID of the receiver; `None` = link broadcast.
    pub destination: Option<ComputerId>,
    /// The carried PIP packet (a table; decoded by [`PipPacket`](super::PipPacket)).
    pub payload: Table,
}

impl LinkFrame {
    /// Builds a frame from already scanned fields (the envelope checked by the caller).
    pub(crate) fn from_fields(
        source: &Value,
        destination: &Value,
        payload: &Value,
    ) -> Result<LinkFrame, DecodeError> {
        let (source, destination, payload) = borrow_fields(source, destination, payload)?;
        Ok(LinkFrame {
            source,
            destination,
            payload: payload.clone(),
        })
    }
}

/// Checks already scanned PLP fields and reads them, the payload table borrowed from the frame:
/// `(source, destination, payload)`, in the same order and with the same errors as
/// [`LinkFrame::from_fields`].
pub(crate) fn borrow_fields<'a>(
    source: &Value,
    destination: &Value,
    payload: &'a Value,
) -> Result<(ComputerId, Option<ComputerId>, &'a Table), DecodeError> {
    Ok((
        id_from(source, "source")?,
        opt_id(destination, "destination")?,
        payload.expect_table("payload")?,
    ))
}

impl WireMessage for LinkFrame {
    fn decode(value: &Value) -> Result<Self, DecodeError> {
        let t = value.expect_table("(value)")?;
        let [phoenix, ty, source, destination, payload] = scan_link(t);
        check_scanned_envelope(phoenix, ty, super::TYPE_LINK)?;
        LinkFrame::from_fields(source, destination, payload)
    }

    fn encode(&self) -> Value {
        encode_link(
            self.source,
            self.destination,
            Value::Table(self.payload.clone()),
        )
    }
}

/// Builds a PLP frame around an already encoded payload value (no copy of the payload).
pub fn encode_link(source: ComputerId, destination: Option<ComputerId>, payload: Value) -> Value {
    Value::Table(Table::from_fields([
        ("PhoenixNetworking", Value::Bool(true)),
        (
            "destination",
            destination.map_or(Value::Nil, |d| Value::Num(f64::from(d))),
        ),
        ("payload", payload),
        ("source", Value::Num(f64::from(source))),
        ("type", Value::from_static(super::TYPE_LINK)),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use modem_value::table;

    #[test]
    fn missing_destination_is_broadcast_and_types_are_checked() {
        let v = table! { "PhoenixNetworking" => true, "type" => "link", "source" => 3,
        "payload" => table! { "a" => 1 } };
        let f = LinkFrame::decode(&v).unwrap();
        assert_eq!(f.destination, None);
        assert_eq!(f.encode(), v);
        let bad = table! { "PhoenixNetworking" => true, "type" => "link", "source" => 3,
        "destination" => "x", "payload" => table! {} };
        assert!(matches!(
            LinkFrame::decode(&bad),
            Err(DecodeError::WrongType {
                field: "destination",
                ..
            })
        ));
        let no_payload = table! { "PhoenixNetworking" => true, "type" => "link", "source" => 3 };
        assert_eq!(
            LinkFrame::decode(&no_payload),
            Err(DecodeError::Missing { field: "payload" })
        );
    }
}
