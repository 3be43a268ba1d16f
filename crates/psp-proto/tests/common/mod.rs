//! Shared helpers of the psp-proto integration tests.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use modem_value::{Instant, LuaStr, RandomSource, WireMessage};
use psp_proto::{ChannelRequest, PspEndpoint, PspEvent, Segment, SegmentContext, Transmit};

/// A random source that returns scripted values (then zeros), so ports and initial sequence
/// numbers are known in advance.
pub struct Script(pub VecDeque<u64>);

impl RandomSource for Script {
    fn next_u64(&mut self) -> u64 {
        self.0.pop_front().unwrap_or(0)
    }
}

/// The raw value that makes `range_inclusive(49152, 65535)` return `port`.
pub fn port_draw(port: u16) -> u64 {
    u64::from(port - 49152)
}

/// The raw value that makes the initial sequence number `iss`.
pub fn iss_draw(iss: u64) -> u64 {
    iss << 24
}

pub fn script(vals: &[u64]) -> Script {
    Script(vals.iter().copied().collect())
}

pub const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const IF: &str = "/back";

pub type Ep = PspEndpoint<&'static str>;

pub fn ctx(channel: u16, reply: u16) -> SegmentContext<&'static str> {
    SegmentContext {
        interface: IF,
        channel,
        reply_channel: reply,
        source_ip: PEER,
        local_ip: ME,
    }
}

pub fn ms(t: u64) -> Instant {
    Instant::from_millis(t)
}

/// Drains transmits, decoding each payload as a segment.
pub fn sent(ep: &mut Ep) -> Vec<(Transmit<&'static str>, Segment)> {
    let mut v = Vec::new();
    while let Some(t) = ep.poll_transmit() {
        let s = Segment::decode(&t.payload).expect("we only send valid segments");
        v.push((t, s));
    }
    v
}

/// Drains transmits and returns only the segments, checking they all go to `dst:port` from
/// `from`.
pub fn segs(ep: &mut Ep, from: u16, to: u16) -> Vec<Segment> {
    sent(ep)
        .into_iter()
        .map(|(t, s)| {
            assert_eq!(
                (t.dst_ip, t.out_port, t.in_port),
                (PEER, to, from),
                "addressing of {s:?}"
            );
            s
        })
        .collect()
}

pub fn events(ep: &mut Ep) -> Vec<PspEvent> {
    std::iter::from_fn(|| ep.poll_event()).collect()
}

pub fn channels(ep: &mut Ep) -> Vec<ChannelRequest<&'static str>> {
    std::iter::from_fn(|| ep.poll_channel()).collect()
}

pub fn data(seq: u64, ack: u64, payload: &str) -> Segment {
    Segment::data(seq, ack, Some(LuaStr::from(payload)))
}

pub fn ack(seq: u64, ack: u64) -> Segment {
    Segment::data(seq, ack, None)
}

pub fn read_all(ep: &mut Ep, id: u64) -> Vec<u8> {
    ep.recv_buffer(id)
        .map(|b| b.drain(..).collect())
        .unwrap_or_default()
}
pub mod transfer;
