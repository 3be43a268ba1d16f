//! `arbitrary::Arbitrary` for [`Value`], bounded so that a fuzzer cannot build huge trees.

use alloc::vec::Vec;
use arbitrary::{Arbitrary, Result, Unstructured};

use crate::{LuaStr, Table, Value};

/// Deepest nesting an arbitrary value has.
const MAX_DEPTH: usize = 6;
/// Most entries an arbitrary table has.
const MAX_ENTRIES: usize = 12;

/// Field names and strings the Phoenix and rednet protocols use, so that fuzzers reach past the
/// first field check quickly.
const WORDS: &[&str] = &[
    "PhoenixNetworking",
    "type",
    "link",
    "arp",
    "internet",
    "control",
    "socket",
    "datagram",
    "source",
    "destination",
    "payload",
    "sourceIP",
    "destinationIP",
    "reply",
    "messageID",
    "hopsLeft",
    "messageType",
    "ping",
    "pong",
    "unreachable",
    "timeout",
    "error",
    "sequence",
    "acknowledgement",
    "windowSize",
    "synchronize",
    "final",
    "reset",
    "selectiveAcknowledgement",
    "selectiveAcknowledgementPermitted",
    "message",
    "nMessageID",
    "nRecipient",
    "nSender",
    "sProtocol",
    "sType",
    "sHostname",
    "lookup",
    "lookup response",
    "dns",
    "10.0.0.1",
    "10.0.0.2",
    "127.0.0.1",
    "255.255.255.255",
];

fn value(u: &mut Unstructured<'_>, depth: usize) -> Result<Value> {
    let top = if depth >= MAX_DEPTH { 5 } else { 6 };
    Ok(match u.int_in_range(0..=top)? {
        0 => Value::Nil,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::Num(f64::from(u.int_in_range(-2i32..=70000)?)),
        3 => Value::Num(u.arbitrary()?),
        4 => Value::Str(LuaStr::from(<&[u8]>::arbitrary(u)?)),
        5 => Value::from_static(u.choose(WORDS)?),
        _ => {
            let n = u.int_in_range(0..=MAX_ENTRIES)?;
            let mut pairs = Vec::with_capacity(n);
            for _ in 0..n {
                pairs.push((value(u, depth + 1)?, value(u, depth + 1)?));
            }
            Value::Table(pairs.into_iter().collect::<Table>())
        }
    })
}

impl<'a> Arbitrary<'a> for Value {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        value(u, 0)
    }
}
