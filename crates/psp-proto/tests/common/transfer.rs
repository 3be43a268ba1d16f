//! A one-way bulk transfer over a seeded lossy link in virtual time, to compare the loss
//! recovery rules: our sender against our receiver, or against a model of Phoenix 0.0.9's
//! receiver (which keeps no out-of-order segment and acknowledges on its 1 s tick).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use modem_value::{Instant, LuaStr, RandomSource, SplitMix64, Value, WireMessage};
use psp_proto::{PspConfig, PspEndpoint, Segment, SegmentContext, State};

const A_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const A_ID: u64 = 1;
const B_ID: u64 = 2;
const PORT: u16 = 80;

/// The link and the transfer.
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    pub seed: u64,
    /// Probability that a segment is lost, each direction.
    pub loss: f64,
    /// One-way delay in ms (no reordering).
    pub delay: u64,
    /// Bytes to move and bytes per message.
    pub bytes: usize,
    pub msg: usize,
}

/// What a run measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Virtual ms from the first write until the receiver had every byte.
    pub ms: u64,
    /// Payload segments of the sender the link dropped.
    pub lost: u64,
    /// Segments the sender re-sent.
    pub retransmitted: u64,
    pub timeouts: u64,
    pub fast_retransmits: u64,
}

/// A Phoenix 0.0.9 receiver as far as loss recovery sees it: accepts only the next expected
/// sequence (anything else is dropped; an old one is re-ACKed), and acknowledges on its 1 s
/// tick with an ACK-only message ("last received") of its own sequence.
struct PhoenixRx {
    rcv_nxt: u64,
    snd_nxt: u64,
    ack_due: bool,
    read: usize,
    /// The sender's port.
    peer_port: u16,
}

enum Rx {
    Ours(Box<PspEndpoint<u8>>),
    Phoenix(Option<PhoenixRx>),
}

struct Link {
    rng: SplitMix64,
    setup: Setup,
    /// (arrival, order) → (to B, segment).
    flight: BTreeMap<(u64, u64), (bool, Value, u16, u16)>,
    order: u64,
    lost: u64,
}

impl Link {
    fn send(&mut self, now: u64, to_b: bool, payload: Value, out_port: u16, in_port: u16) {
        let drop = self.rng.unit_f64() < self.setup.loss;
        if std::env::var("PSP_TRACE").is_ok() {
            let s = Segment::decode(&payload).unwrap();
            eprintln!(
                "{now} {} {} seq={} ack={:?} syn={} fin={} rst={} len={:?}",
                if to_b { "A>B" } else { "B>A" },
                if drop { "LOST" } else { "" },
                s.sequence,
                s.acknowledgement,
                s.synchronize,
                s.fin,
                s.reset,
                s.payload.map(|p| p.len())
            );
        }
        if drop {
            if to_b
                && Segment::decode(&payload)
                    .map(|s| s.payload.is_some())
                    .unwrap_or(false)
            {
                self.lost += 1;
            }
            return;
        }
        self.order += 1;
        self.flight.insert(
            (now + self.setup.delay, self.order),
            (to_b, payload, out_port, in_port),
        );
    }
}

fn ctx(channel: u16, reply: u16, src: Ipv4Addr, dst: Ipv4Addr) -> SegmentContext<u8> {
    SegmentContext {
        interface: 0,
        channel,
        reply_channel: reply,
        source_ip: src,
        local_ip: dst,
    }
}

/// Moves `setup.bytes` from our sender (configured `a_cfg`) to our receiver (`Some(b_cfg)`) or
/// to the Phoenix model (`None`). Panics if the transfer does not finish within 10 virtual
/// minutes.
pub fn transfer(setup: Setup, a_cfg: PspConfig, b_cfg: Option<PspConfig>) -> Outcome {
    let mut a: PspEndpoint<u8> = PspEndpoint::new(a_cfg);
    let mut rx = match b_cfg {
        Some(c) => {
            let mut b = PspEndpoint::new(c);
            b.listen(
                B_ID,
                "psp://0.0.0.0:80",
                Ipv4Addr::UNSPECIFIED,
                Some(PORT),
                [0],
            )
            .unwrap();
            Rx::Ours(Box::new(b))
        }
        None => Rx::Phoenix(None),
    };
    let mut link = Link {
        rng: SplitMix64::new(setup.seed),
        setup,
        flight: BTreeMap::new(),
        order: 0,
        lost: 0,
    };
    let mut rng = SplitMix64::new(setup.seed ^ 0xabcdef);
    let mut now = 0u64;
    a.connect(Instant::ZERO, &mut rng, A_ID, B_IP, Some(PORT))
        .unwrap();
    a.handle_syn_sent(Instant::ZERO, A_ID, Ok(0));
    let msgs = setup.bytes.div_ceil(setup.msg);
    let mut wrote = false;
    let mut start = 0;
    let mut remaining = setup.bytes;
    loop {
        let t = Instant::from_millis(now);
        if !wrote && a.state(A_ID) == Some(State::Connected) {
            for i in 0..msgs {
                let len = setup.msg.min(setup.bytes - i * setup.msg);
                a.write(t, A_ID, LuaStr::from(vec![b'x'; len])).unwrap();
            }
            wrote = true;
            start = now;
        }
        while a.poll_channel().is_some() {}
        while a.poll_event().is_some() {}
        while let Some(tx) = a.poll_transmit() {
            link.send(now, true, tx.payload, tx.out_port, tx.in_port);
        }
        let read = match &mut rx {
            Rx::Ours(b) => {
                while b.poll_channel().is_some() {}
                while b.poll_event().is_some() {}
                while let Some(tx) = b.poll_transmit() {
                    link.send(now, false, tx.payload, tx.out_port, tx.in_port);
                }
                b.recv_buffer(B_ID).map_or(0, |buf| {
                    let n = buf.len();
                    buf.clear();
                    n
                })
            }
            Rx::Phoenix(m) => m.as_mut().map_or(0, |m| std::mem::take(&mut m.read)),
        };
        remaining -= read;
        if wrote && remaining == 0 {
            let s = a.stats(A_ID).unwrap();
            return Outcome {
                ms: now - start,
                lost: link.lost,
                retransmitted: s.retransmitted,
                timeouts: s.timeouts,
                fast_retransmits: s.fast_retransmits,
            };
        }
        assert!(
            now < 600_000,
            "transfer did not finish: {:?}",
            a.stats(A_ID)
        );
        // Next event: a delivery, a timer of A or B, or the Phoenix model's next tick.
        let model_tick = match &rx {
            Rx::Phoenix(Some(m)) if m.ack_due => Some((now / 1000 + 1) * 1000),
            _ => None,
        };
        let b_timer = match &rx {
            Rx::Ours(b) => b.poll_timeout().map(Instant::as_millis),
            Rx::Phoenix(_) => None,
        };
        let next = [
            link.flight.keys().next().map(|k| k.0),
            a.poll_timeout().map(Instant::as_millis),
            b_timer,
            model_tick,
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or_else(|| {
            panic!(
                "stalled at {now} ms with {remaining} bytes left: A {:?} {:?}",
                a.state(A_ID),
                a.stats(A_ID)
            )
        });
        now = now.max(next);
        let t = Instant::from_millis(now);
        while let Some(e) = link.flight.first_entry() {
            if e.key().0 > now {
                break;
            }
            let (to_b, v, out_port, in_port) = e.remove();
            if !to_b {
                let c = ctx(out_port, in_port, B_IP, A_IP);
                a.handle_segment_value(t, &mut rng, &c, &v).unwrap();
                continue;
            }
            match &mut rx {
                Rx::Ours(b) => {
                    let c = ctx(out_port, in_port, A_IP, B_IP);
                    b.handle_segment_value(t, &mut rng, &c, &v).unwrap();
                }
                Rx::Phoenix(m) => {
                    let s = Segment::decode(&v).unwrap();
                    if let Some(reply) = phoenix_rx(m, &s, in_port) {
                        link.send(now, false, reply.encode(), in_port, out_port);
                    }
                }
            }
        }
        a.handle_timeout(t);
        match &mut rx {
            Rx::Ours(b) => b.handle_timeout(t),
            Rx::Phoenix(Some(m)) if m.ack_due && now.is_multiple_of(1000) => {
                m.ack_due = false;
                let ack = Segment::data(m.snd_nxt, m.rcv_nxt - 1, None);
                m.snd_nxt += 1;
                let port = m.peer_port;
                link.send(now, false, ack.encode(), port, PORT);
            }
            Rx::Phoenix(_) => {}
        }
    }
}

/// The Phoenix model's answer to one segment (the SYN-ACK; data is acknowledged on the tick).
fn phoenix_rx(m: &mut Option<PhoenixRx>, s: &Segment, peer_port: u16) -> Option<Segment> {
    if s.synchronize {
        let iss = 9000;
        *m = Some(PhoenixRx {
            rcv_nxt: s.sequence + 1,
            snd_nxt: iss + 2,
            ack_due: false,
            read: 0,
            peer_port,
        });
        return Some(Segment::syn_ack(iss + 1, s.sequence + 1));
    }
    let m = m.as_mut()?;
    if s.sequence == m.rcv_nxt {
        m.rcv_nxt += 1;
        if let Some(p) = &s.payload {
            m.read += p.len();
            m.ack_due = true;
        }
    } else if s.sequence < m.rcv_nxt {
        // An old duplicate: re-ACKed on the tick.
        m.ack_due = true;
    }
    None
}
