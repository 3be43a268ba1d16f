//! Two psp-proto endpoints wired back to back in memory: the "psp-proto alone" side of the
//! transport benches.

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use modem_value::{Instant, LuaStr, SplitMix64};
use psp_proto::{PspEndpoint, SegmentContext, Transmit};

/// Address of endpoint A.
pub const A_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// Address of endpoint B.
pub const B_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// B's listening port.
pub const PORT: u16 = 80;
/// Bytes per message of the bulk transfers.
pub const MSG: usize = 1024;

/// The PIP context of a segment arriving on `channel` from `src` for `dst`.
pub fn ctx(channel: u16, reply: u16, src: Ipv4Addr, dst: Ipv4Addr) -> SegmentContext<u8> {
    SegmentContext {
        interface: 0,
        channel,
        reply_channel: reply,
        source_ip: src,
        local_ip: dst,
    }
}

/// Moves `data` (messages of `MSG` bytes) from A to B; returns the bytes B read and the number of
/// segments exchanged.
pub fn psp_bulk(data: &[LuaStr]) -> (usize, usize) {
    let mut a: PspEndpoint<u8> = PspEndpoint::default();
    let mut b: PspEndpoint<u8> = PspEndpoint::default();
    let mut rng = SplitMix64::new(7);
    b.listen(
        2,
        "psp://0.0.0.0:80",
        Ipv4Addr::UNSPECIFIED,
        Some(PORT),
        [0],
    )
    .unwrap();
    a.connect(Instant::ZERO, &mut rng, 1, B_IP, Some(PORT))
        .unwrap();
    a.handle_syn_sent(Instant::ZERO, 1, Ok(0));
    let mut now = 0u64;
    let mut next_write = 0usize;
    let mut read = 0usize;
    let mut segments = 0usize;
    let mut wire: VecDeque<(bool, Transmit<u8>)> = VecDeque::new();
    loop {
        let t = Instant::from_millis(now);
        if a.state(1) == Some(psp_proto::State::Connected) {
            while next_write < data.len() {
                // Keep at most one window in flight: the rest would wait in the send queue.
                if a.stats(1).is_some_and(|s| s.unacked >= 256) {
                    break;
                }
                a.write(t, 1, data[next_write].clone()).unwrap();
                next_write += 1;
            }
        }
        while a.poll_channel().is_some() {}
        while b.poll_channel().is_some() {}
        while a.poll_event().is_some() {}
        while b.poll_event().is_some() {}
        while let Some(tx) = a.poll_transmit() {
            wire.push_back((true, tx));
        }
        while let Some(tx) = b.poll_transmit() {
            wire.push_back((false, tx));
        }
        if let Some(buf) = b.recv_buffer(2) {
            read += buf.len();
            buf.clear();
        }
        if read == data.len() * MSG {
            return (read, segments);
        }
        if wire.is_empty() {
            // Nothing in flight: jump to the next deadline (the delayed ACK).
            let d = [a.poll_timeout(), b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let Some(d) = d else { return (read, segments) };
            now = now.max(d.as_millis());
            let t = Instant::from_millis(now);
            a.handle_timeout(t);
            b.handle_timeout(t);
            continue;
        }
        while let Some((to_b, tx)) = wire.pop_front() {
            segments += 1;
            let (ep, c) = if to_b {
                (&mut b, ctx(tx.out_port, tx.in_port, A_IP, B_IP))
            } else {
                (&mut a, ctx(tx.out_port, tx.in_port, B_IP, A_IP))
            };
            ep.handle_segment_value(t, &mut rng, &c, &tx.payload)
                .unwrap();
        }
    }
}
