//! The PSP segment: the `socket` table, in the shapes Phoenix emits.

use modem_value::{DecodeError, LuaStr, Table, Value, WireMessage};

use crate::config::{MAX_SACK_BLOCKS, WINDOW};

/// The largest sequence/acknowledgement/window number accepted: numbers travel as Lua doubles,
/// and every integer up to 2^53 is exact.
pub const MAX_WIRE_NUMBER: u64 = 1 << 53;

/// One PSP message (`type = "socket"`).
///
/// Ports are not part of the message: they are the modem channel (`channel` = the receiver's
/// port, `replyChannel` = the sender's port) and arrive in
/// [`SegmentContext`](crate::SegmentContext).
///
/// Decoding is strict: `PhoenixNetworking` must be truthy and `type` must be `"socket"`;
/// `sequence` is required; `sequence`, `acknowledgement` and `windowSize` must be non-negative
/// integers up to 2^53; the flags must be booleans when present; `payload` must be a string
/// (Phoenix drops a segment whose payload is anything else). Encoding writes exactly the fields
/// that are set, so the constructors below produce Phoenix's shapes; numbers above
/// [`MAX_WIRE_NUMBER`] are written as that maximum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// `sequence`: the message's sequence number (messages are counted, not bytes).
    pub sequence: u64,
    /// `acknowledgement`, if present.
    pub acknowledgement: Option<u64>,
    /// `windowSize`, if present: the sender's receive window in messages.
    pub window_size: Option<u64>,
    /// `synchronize = true` (SYN).
    pub synchronize: bool,
    /// `final = true` (FIN).
    pub fin: bool,
    /// `reset = true` (RST).
    pub reset: bool,
    /// `payload`: the application data of this message.
    pub payload: Option<LuaStr>,
    /// `selectiveAcknowledgementPermitted = true` (SYN and SYN-ACK only): the sender understands
    /// [`Segment::sack`]. This project's extension, not Phoenix's: a Phoenix 0.0.9 peer ignores
    /// the field, never sends it, and so never receives [`Segment::sack`] (see
    /// [`PspConfig::selective_ack`](crate::PspConfig::selective_ack)).
    pub sack_permitted: bool,
    /// `selectiveAcknowledgement = {first1, last1, first2, last2, …}`: sequences received beyond
    /// `acknowledgement`, as inclusive ranges, lowest first, at most [`MAX_SACK_BLOCKS`] of them.
    /// Only sent to a peer that sent [`Segment::sack_permitted`].
    pub sack: Option<SackBlocks>,
}

/// The ranges of a [`Segment::sack`] field: inclusive `(first, last)` sequence ranges, each
/// with `first <= last`, at most [`MAX_SACK_BLOCKS`].
///
/// ```
/// use psp_proto::SackBlocks;
/// let b = SackBlocks::from_sequences([5, 6, 7, 9, 12, 13]);
/// assert_eq!(b.ranges(), &[(5, 7), (9, 9), (12, 13)]);
/// assert!(b.contains(6) && !b.contains(8));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SackBlocks(alloc::vec::Vec<(u64, u64)>);

impl SackBlocks {
    /// Blocks from ascending sequence numbers (the first [`MAX_SACK_BLOCKS`] runs; the rest are
    /// left out, as the lowest holes are the ones a sender repairs first).
    pub fn from_sequences(seqs: impl IntoIterator<Item = u64>) -> Self {
        let mut v: alloc::vec::Vec<(u64, u64)> = alloc::vec::Vec::new();
        for s in seqs {
            let full = v.len() == MAX_SACK_BLOCKS;
            match v.last_mut() {
                Some((_, last)) if s == last.saturating_add(1) => *last = s,
                Some((_, last)) if s <= *last => {}
                _ if full => break,
                _ => v.push((s, s)),
            }
        }
        SackBlocks(v)
    }

    /// Blocks from ranges as they are; `None` if a range has `first > last` or there are more
    /// than [`MAX_SACK_BLOCKS`].
    pub fn from_ranges(ranges: alloc::vec::Vec<(u64, u64)>) -> Option<Self> {
        (ranges.len() <= MAX_SACK_BLOCKS && ranges.iter().all(|(a, b)| a <= b))
            .then_some(SackBlocks(ranges))
    }

    /// The inclusive ranges.
    pub fn ranges(&self) -> &[(u64, u64)] {
        &self.0
    }

    /// Whether `seq` lies in one of the ranges.
    pub fn contains(&self, seq: u64) -> bool {
        self.0.iter().any(|&(a, b)| a <= seq && seq <= b)
    }

    /// Whether there is no range.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Segment {
    /// A segment with only `sequence` set (a building block; not a shape Phoenix sends alone).
    pub const fn bare(sequence: u64) -> Self {
        Segment {
            sequence,
            acknowledgement: None,
            window_size: None,
            synchronize: false,
            fin: false,
            reset: false,
            payload: None,
            sack_permitted: false,
            sack: None,
        }
    }

    /// Client SYN: `sequence`, `windowSize = 256`, `synchronize`.
    pub const fn syn(sequence: u64) -> Self {
        let mut s = Segment::bare(sequence);
        s.window_size = Some(WINDOW);
        s.synchronize = true;
        s
    }

    /// Server SYN-ACK: `sequence`, `acknowledgement` (client SYN + 1), `windowSize = 256`,
    /// `synchronize`.
    pub const fn syn_ack(sequence: u64, acknowledgement: u64) -> Self {
        let mut s = Segment::syn(sequence);
        s.acknowledgement = Some(acknowledgement);
        s
    }

    /// DATA or ACK-only message: `sequence`, `acknowledgement`, `windowSize = 256`, optional
    /// `payload`.
    pub fn data(sequence: u64, acknowledgement: u64, payload: Option<LuaStr>) -> Self {
        let mut s = Segment::bare(sequence);
        s.acknowledgement = Some(acknowledgement);
        s.window_size = Some(WINDOW);
        s.payload = payload;
        s
    }

    /// FIN (also Phoenix's combined FIN+ACK): `sequence`, `acknowledgement`, `final`; no window.
    pub const fn fin(sequence: u64, acknowledgement: u64) -> Self {
        let mut s = Segment::bare(sequence);
        s.acknowledgement = Some(acknowledgement);
        s.fin = true;
        s
    }

    /// Generic RST: `sequence`, optional `acknowledgement`, `reset`.
    pub const fn rst(sequence: u64, acknowledgement: Option<u64>) -> Self {
        let mut s = Segment::bare(sequence);
        s.acknowledgement = acknowledgement;
        s.reset = true;
        s
    }

    /// The RST a client sends when it could not open its port: `sequence`, `windowSize = 0`,
    /// `reset`.
    pub const fn rst_port_failed(sequence: u64) -> Self {
        let mut s = Segment::bare(sequence);
        s.window_size = Some(0);
        s.reset = true;
        s
    }
}

fn wire_int(v: Option<f64>, field: &'static str) -> Result<Option<u64>, DecodeError> {
    match v {
        None => Ok(None),
        Some(n) if n.is_nan() => Err(DecodeError::Invalid {
            field,
            reason: "NaN",
        }),
        Some(n) if n < 0.0 => Err(DecodeError::Invalid {
            field,
            reason: "negative",
        }),
        Some(n) if n > MAX_WIRE_NUMBER as f64 => Err(DecodeError::Invalid {
            field,
            reason: "above 2^53",
        }),
        Some(n) if (n as u64) as f64 != n => Err(DecodeError::Invalid {
            field,
            reason: "not an integer",
        }),
        // In range and integral: the conversion is exact.
        Some(n) => Ok(Some(n as u64)),
    }
}

/// A number for the wire. Values above 2^53 are written as 2^53: only a peer that uses sequence
/// numbers at the very top of the range can make us compute one (its sequence + 1, or + its
/// window in an unknown-socket RST), and the receiver's decoder would reject it otherwise.
fn wire_num(n: u64) -> Value {
    Value::Num(n.min(MAX_WIRE_NUMBER) as f64)
}

/// The error of a field with the wrong type (or absent when `required`), as the typed getters of
/// `modem-value` report it.
fn typed(
    field: &'static str,
    expected: &'static str,
    found: &Value,
    required: bool,
) -> DecodeError {
    if required && found.is_nil() {
        DecodeError::Missing { field }
    } else {
        DecodeError::WrongType {
            field,
            expected,
            found: found.kind(),
        }
    }
}

fn opt_num(v: &Value, field: &'static str) -> Result<Option<f64>, DecodeError> {
    match v {
        Value::Nil => Ok(None),
        Value::Num(n) => Ok(Some(*n)),
        other => Err(typed(field, "number", other, false)),
    }
}

fn opt_bool(v: &Value, field: &'static str) -> Result<bool, DecodeError> {
    match v {
        Value::Nil => Ok(false),
        Value::Bool(b) => Ok(*b),
        other => Err(typed(field, "boolean", other, false)),
    }
}

/// `selectiveAcknowledgement`: a Lua sequence of an even number (at most
/// 2 × [`MAX_SACK_BLOCKS`]) of wire integers, read as `(first, last)` pairs with `first <= last`.
fn decode_sack(v: &Value) -> Result<Option<SackBlocks>, DecodeError> {
    const FIELD: &str = "selectiveAcknowledgement";
    let t = match v {
        Value::Nil => return Ok(None),
        Value::Table(t) => t,
        other => return Err(typed(FIELD, "table", other, false)),
    };
    if t.len() % 2 != 0 || t.len() > 2 * MAX_SACK_BLOCKS || !t.is_sequence() {
        return Err(DecodeError::Invalid {
            field: FIELD,
            reason: "not a sequence of first/last pairs",
        });
    }
    let mut nums = t.iter().map(|(_, n)| match n {
        Value::Num(n) => wire_int(Some(*n), FIELD).map(|n| n.unwrap_or(0)),
        other => Err(typed(FIELD, "number", other, false)),
    });
    let mut ranges = alloc::vec::Vec::with_capacity(t.len() / 2);
    while let Some(first) = nums.next() {
        let last = nums.next().unwrap_or(Ok(0))?;
        ranges.push((first?, last));
    }
    SackBlocks::from_ranges(ranges)
        .map(Some)
        .ok_or(DecodeError::Invalid {
            field: FIELD,
            reason: "a range ends before it starts",
        })
}

pub(crate) use pip_core::wire::check_envelope;

impl WireMessage for Segment {
    fn decode(value: &Value) -> Result<Self, DecodeError> {
        // One pass over the (sorted, small) table instead of a lookup per field: this is the
        // receive path's hottest code. Validation then runs field by field in a fixed order, so
        // the error reported is the same as with the typed getters.
        let t = value.expect_table("(value)")?;
        let nil = Value::Nil;
        let mut f: [&Value; 11] = [&nil; 11];
        for (k, v) in t.iter() {
            let Value::Str(k) = k else { continue };
            let slot = match k.as_bytes() {
                b"PhoenixNetworking" => 0,
                b"type" => 1,
                b"sequence" => 2,
                b"acknowledgement" => 3,
                b"windowSize" => 4,
                b"synchronize" => 5,
                b"final" => 6,
                b"reset" => 7,
                b"payload" => 8,
                b"selectiveAcknowledgementPermitted" => 9,
                b"selectiveAcknowledgement" => 10,
                _ => continue,
            };
            f[slot] = v;
        }
        if !f[0].is_truthy() {
            return Err(DecodeError::Missing {
                field: "PhoenixNetworking",
            });
        }
        match f[1] {
            Value::Str(ty) if ty.as_bytes() == b"socket" => {}
            Value::Str(_) => {
                return Err(DecodeError::Invalid {
                    field: "type",
                    reason: "wrong message type",
                })
            }
            other => return Err(typed("type", "string", other, true)),
        }
        let sequence = match f[2] {
            Value::Num(n) => wire_int(Some(*n), "sequence")?.unwrap_or(0),
            other => return Err(typed("sequence", "number", other, true)),
        };
        Ok(Segment {
            sequence,
            acknowledgement: wire_int(opt_num(f[3], "acknowledgement")?, "acknowledgement")?,
            window_size: wire_int(opt_num(f[4], "windowSize")?, "windowSize")?,
            synchronize: opt_bool(f[5], "synchronize")?,
            fin: opt_bool(f[6], "final")?,
            reset: opt_bool(f[7], "reset")?,
            payload: match f[8] {
                Value::Nil => None,
                Value::Str(p) => Some(p.clone()),
                other => return Err(typed("payload", "string", other, false)),
            },
            sack_permitted: opt_bool(f[9], "selectiveAcknowledgementPermitted")?,
            sack: decode_sack(f[10])?,
        })
    }

    fn encode(&self) -> Value {
        let mut t = Table::with_capacity(9);
        t.set("PhoenixNetworking", Value::Bool(true));
        t.set("type", Value::from_static("socket"));
        t.set("sequence", wire_num(self.sequence));
        if let Some(a) = self.acknowledgement {
            t.set("acknowledgement", wire_num(a));
        }
        if let Some(w) = self.window_size {
            t.set("windowSize", wire_num(w));
        }
        if self.synchronize {
            t.set("synchronize", Value::Bool(true));
        }
        if self.fin {
            t.set("final", Value::Bool(true));
        }
        if self.reset {
            t.set("reset", Value::Bool(true));
        }
        if let Some(p) = &self.payload {
            t.set("payload", Value::Str(p.clone()));
        }
        if self.sack_permitted {
            t.set("selectiveAcknowledgementPermitted", Value::Bool(true));
        }
        if let Some(b) = &self.sack {
            let nums = b
                .ranges()
                .iter()
                .flat_map(|&(a, z)| [wire_num(a), wire_num(z)]);
            t.set("selectiveAcknowledgement", Value::Table(Table::array(nums)));
        }
        Value::Table(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modem_value::table;

    #[test]
    fn shapes_match_spec_10_2() {
        assert_eq!(
            Segment::syn(11).encode(),
            table! { "PhoenixNetworking" => true, "type" => "socket", "sequence" => 11,
            "windowSize" => 256, "synchronize" => true }
        );
        assert_eq!(
            Segment::fin(5, 9).encode(),
            table! { "PhoenixNetworking" => true, "type" => "socket", "sequence" => 5,
            "acknowledgement" => 9, "final" => true }
        );
        assert_eq!(
            Segment::rst_port_failed(3).encode(),
            table! { "PhoenixNetworking" => true, "type" => "socket", "sequence" => 3,
            "windowSize" => 0, "reset" => true }
        );
        assert_eq!(
            Segment::data(1, 2, Some(LuaStr::from("hi"))).encode(),
            table! { "PhoenixNetworking" => true, "type" => "socket", "sequence" => 1,
            "acknowledgement" => 2, "windowSize" => 256, "payload" => "hi" }
        );
    }

    #[test]
    fn strict_decode() {
        let ok = table! { "PhoenixNetworking" => true, "type" => "socket", "sequence" => 4 };
        assert_eq!(Segment::decode(&ok), Ok(Segment::bare(4)));
        let no_seq = table! { "PhoenixNetworking" => true, "type" => "socket" };
        assert_eq!(
            Segment::decode(&no_seq),
            Err(DecodeError::Missing { field: "sequence" })
        );
        let bad_payload = table! { "PhoenixNetworking" => true, "type" => "socket",
        "sequence" => 4, "payload" => 5 };
        assert_eq!(
            Segment::decode(&bad_payload).unwrap_err().field(),
            "payload"
        );
        let frac = table! { "PhoenixNetworking" => true, "type" => "socket", "sequence" => 4.5 };
        assert_eq!(Segment::decode(&frac).unwrap_err().field(), "sequence");
        let neg = table! { "PhoenixNetworking" => true, "type" => "socket", "sequence" => 1,
        "acknowledgement" => -1 };
        assert_eq!(
            Segment::decode(&neg).unwrap_err().field(),
            "acknowledgement"
        );
        let wrong_type =
            table! { "PhoenixNetworking" => true, "type" => "datagram", "sequence" => 1 };
        assert_eq!(Segment::decode(&wrong_type).unwrap_err().field(), "type");
        let not_phoenix = table! { "type" => "socket", "sequence" => 1 };
        assert_eq!(
            Segment::decode(&not_phoenix).unwrap_err().field(),
            "PhoenixNetworking"
        );
        let flag = table! { "PhoenixNetworking" => true, "type" => "socket", "sequence" => 1,
        "reset" => "yes" };
        assert_eq!(Segment::decode(&flag).unwrap_err().field(), "reset");
        assert!(Segment::decode(&Value::from(3)).is_err());
    }
}
