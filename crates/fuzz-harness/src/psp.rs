//! Fuzz target bodies for `psp-proto`: segment/datagram decoding, and one PSP endpoint driven
//! by arbitrary segments, ticks and program calls.

use std::net::Ipv4Addr;

use arbitrary::{Result, Unstructured};
use modem_value::{Instant, LuaStr, SplitMix64, Value, WireMessage};
use psp_proto::config::{MAX_OUT_OF_ORDER, MAX_PENDING_WRITES, MAX_UNACKED, WINDOW};
use psp_proto::{
    ControlKind, ControlReport, Datagram, PspEndpoint, Segment, SegmentContext, MAX_WIRE_NUMBER,
};

/// The targets of this module, by name.
pub const TARGETS: &[(&str, crate::Target)] =
    &[("psp_decode", psp_decode), ("psp_session", psp_session)];

/// Strict decoding of arbitrary values: never panics, and whatever decodes re-encodes to a
/// value that decodes to the same message.
pub fn psp_decode(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(v) = u.arbitrary::<Value>() else {
        return;
    };
    if let Ok(s) = Segment::decode(&v) {
        assert_eq!(Segment::decode(&s.encode()), Ok(s));
    }
    if let Ok(d) = Datagram::decode(&v) {
        assert_eq!(Datagram::decode(&d.encode()), Ok(d));
    }
}

const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const PORT: u16 = 80;

/// One endpoint with a listener and a connecting client, then arbitrary inputs: segments
/// aimed near the live sequence numbers, raw values, ticks, writes, closes, re-listens, reads,
/// control reports, purges. Checks: no panic, every queue within its bound, and after
/// `handle_timeout(now)` no deadline is left at or before `now` (a host would spin).
pub fn psp_session(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = session(&mut u);
}

fn session(u: &mut Unstructured<'_>) -> Result<()> {
    let mut ep: PspEndpoint<u8> = PspEndpoint::new(psp_proto::PspConfig {
        skip_stalled_gaps: u.arbitrary()?,
        recovery: if u.arbitrary()? {
            psp_proto::Recovery::Adaptive
        } else {
            psp_proto::Recovery::Phoenix
        },
        dup_acks: u.arbitrary()?,
        selective_ack: u.arbitrary()?,
    });
    let mut rng = SplitMix64::new(u.arbitrary()?);
    let mut now = 0u64;
    let mut next_id = 10u64;
    let _ = ep.listen(
        1,
        "psp://0.0.0.0:80",
        Ipv4Addr::UNSPECIFIED,
        Some(PORT),
        [0],
    );
    let client_port = ep
        .connect(Instant::ZERO, &mut rng, 2, PEER, Some(PORT))
        .ok();
    let mut ids = vec![1u64, 2];
    for _ in 0..u.int_in_range(0..=200)? {
        if u.is_empty() {
            break;
        }
        let t = Instant::from_millis(now);
        match u.int_in_range(0..=11)? {
            0..=3 => {
                // A segment for the client connection or the listener's port.
                let to_client = u.arbitrary::<bool>()? && client_port.is_some();
                let id = if to_client { 2 } else { *u.choose(&ids)? };
                let stats = ep.stats(id);
                let ctx = SegmentContext {
                    interface: u.int_in_range(0..=1)?,
                    channel: if to_client {
                        client_port.unwrap_or(1)
                    } else {
                        PORT
                    },
                    reply_channel: if to_client {
                        PORT
                    } else {
                        u.int_in_range(39999..=40001)?
                    },
                    source_ip: if u.arbitrary()? {
                        PEER
                    } else {
                        Ipv4Addr::new(10, 0, 0, 3)
                    },
                    local_ip: ME,
                };
                let near = |base: Option<u64>, u: &mut Unstructured<'_>| -> Result<u64> {
                    Ok(match base {
                        Some(b) if u.arbitrary()? => {
                            b.saturating_add_signed(i64::from(u.int_in_range(-4i8..=4)?))
                        }
                        _ => u.int_in_range(0..=MAX_WIRE_NUMBER)?,
                    })
                };
                let seg = Segment {
                    sequence: near(stats.map(|s| s.next_expected), u)?,
                    acknowledgement: if u.arbitrary()? {
                        Some(near(stats.map(|s| s.next_send), u)?)
                    } else {
                        None
                    },
                    window_size: if u.arbitrary()? {
                        Some(u.int_in_range(0..=300)?)
                    } else {
                        None
                    },
                    synchronize: u.ratio(1, 6)?,
                    fin: u.ratio(1, 6)?,
                    reset: u.ratio(1, 10)?,
                    payload: if u.arbitrary()? {
                        Some(LuaStr::from(u.arbitrary::<&[u8]>()?))
                    } else {
                        None
                    },
                    sack_permitted: u.ratio(1, 4)?,
                    sack: if u.ratio(1, 3)? {
                        // Ranges around what the connection has in flight, or anywhere.
                        let mut ranges = Vec::new();
                        for _ in 0..u.int_in_range(0..=4)? {
                            let first = near(stats.map(|s| s.next_send), u)?;
                            let len: u8 = u.arbitrary()?;
                            ranges.push((first, first.saturating_add(u64::from(len))));
                        }
                        psp_proto::SackBlocks::from_ranges(ranges)
                    } else {
                        None
                    },
                };
                ep.handle_segment(t, &mut rng, &ctx, &seg);
            }
            4 => {
                let v: Value = u.arbitrary()?;
                let ctx = SegmentContext {
                    interface: 0,
                    channel: PORT,
                    reply_channel: 40000,
                    source_ip: PEER,
                    local_ip: ME,
                };
                let _ = ep.handle_segment_value(t, &mut rng, &ctx, &v);
            }
            5 | 6 => {
                now += u64::from(u.int_in_range(0u16..=5000)?);
                let t = Instant::from_millis(now);
                ep.handle_timeout(t);
                if let Some(d) = ep.poll_timeout() {
                    assert!(d > t, "deadline {d:?} left at or before {t:?}");
                }
            }
            7 => {
                let id = *u.choose(&ids)?;
                let _ = ep.write(t, id, LuaStr::from(u.arbitrary::<&[u8]>()?));
            }
            8 => {
                let id = *u.choose(&ids)?;
                let _ = ep.close(t, id);
            }
            9 => {
                next_id += 1;
                if ep
                    .listen(
                        next_id,
                        "psp://0.0.0.0:80",
                        Ipv4Addr::UNSPECIFIED,
                        Some(PORT),
                        [0],
                    )
                    .is_ok()
                {
                    ids.push(next_id);
                }
            }
            10 => {
                let id = *u.choose(&ids)?;
                if let Some(b) = ep.recv_buffer(id) {
                    let n = u.int_in_range(0..=b.len())?;
                    b.drain(..n);
                }
                let _ = ep.status(id);
                let _ = ep.check_read(id);
                if u.ratio(1, 8)? {
                    ep.release(id);
                }
            }
            _ => {
                let kind = *u.choose(&[
                    ControlKind::Ping,
                    ControlKind::Pong,
                    ControlKind::Unreachable,
                    ControlKind::Timeout,
                ])?;
                ep.handle_control(&ControlReport {
                    kind,
                    error: None,
                    destination: Some(PEER),
                });
                if u.ratio(1, 4)? {
                    ep.handle_syn_sent(t, 2, Ok(1));
                }
                if u.ratio(1, 8)? {
                    ep.reap_time_wait();
                }
            }
        }
        while ep.poll_channel().is_some() {}
        while let Some(tx) = ep.poll_transmit() {
            assert!(
                Segment::decode(&tx.payload).is_ok(),
                "we only send valid segments"
            );
        }
        while ep.poll_event().is_some() {}
        for &id in &ids {
            if let Some(s) = ep.stats(id) {
                assert!(s.unacked as u64 <= MAX_UNACKED + WINDOW + 1, "{s:?}");
                assert!(s.out_of_order <= MAX_OUT_OF_ORDER, "{s:?}");
                assert!(s.pending_writes <= MAX_PENDING_WRITES, "{s:?}");
            }
        }
        assert!(ep.half_open_count() <= psp_proto::config::MAX_HALF_OPEN);
        assert_eq!(
            ep.poll_timeout(),
            ep.scan_timeout(),
            "the deadline index disagrees with a scan of every connection"
        );
    }
    Ok(())
}
