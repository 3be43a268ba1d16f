//! psp-proto: the in-order receive path, and a bulk transfer between two endpoints in memory
//! compared with smoltcp's TCP over its loopback device moving the same bytes.
//!
//! REPORT lines: received segments/s (target ≥ 2 M/s on one core), allocations per segment,
//! bulk messages/s and bytes/s for PSP and smoltcp, and the PSP/smoltcp throughput ratio.
//! The comparison is not like for like — smoltcp moves a byte stream through IPv4+TCP header
//! encoding and checksums, PSP moves Lua tables (one allocation-backed table per message) — but
//! it is the job an emulator asks of either: move these bytes between two stacks in memory.

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Instant as WallClock;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use modem_value::{Instant, LuaStr, SplitMix64, Value, WireMessage};
use phoenix_benches::psp_pair::{ctx, psp_bulk, A_IP, B_IP, MSG, PORT};
use phoenix_benches::{allocations_per_op, report, CountingAlloc};
use psp_proto::{PspEndpoint, Segment};

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Segments per batch of the receive measurement.
const BATCH: usize = 1024;
/// Payload of each received segment.
const SEG_PAYLOAD: usize = 16;

/// Bulk transfer: message count (of `MSG` bytes: 1 MiB).
const MSGS: usize = 1024;

/// A server endpoint with one accepted connection (id 1) from 10.0.0.1:40000, whose next
/// expected sequence is returned.
fn accepted() -> (PspEndpoint<u8>, u64) {
    let mut ep = PspEndpoint::default();
    let mut rng = SplitMix64::new(1);
    ep.listen(
        1,
        "psp://0.0.0.0:80",
        Ipv4Addr::UNSPECIFIED,
        Some(PORT),
        [0],
    )
    .unwrap();
    let c = ctx(PORT, 40000, A_IP, B_IP);
    ep.handle_segment(Instant::ZERO, &mut rng, &c, &Segment::syn(100));
    let syn_ack = Segment::decode(&ep.poll_transmit().unwrap().payload).unwrap();
    ep.handle_segment(
        Instant::ZERO,
        &mut rng,
        &c,
        &Segment::data(101, syn_ack.sequence + 1, None),
    );
    while ep.poll_event().is_some() {}
    while ep.poll_channel().is_some() {}
    (ep, 102)
}

/// Encoded DATA segments `first..first + n`, as a peer sends them (built outside the timing),
/// acknowledging everything the receiver sent so far (its ACKs).
fn data_segments(ep: &PspEndpoint<u8>, first: u64, n: usize) -> Vec<Value> {
    let payload = LuaStr::from(vec![b'x'; SEG_PAYLOAD]);
    let ack = ep.stats(1).map_or(0, |s| s.next_send - 1);
    (0..n as u64)
        .map(|i| Segment::data(first + i, ack, Some(payload.clone())).encode())
        .collect()
}

/// Feeds one batch of in-order segments, decoding each from its table, then drains the bytes
/// and the events as a host would.
fn receive_batch(ep: &mut PspEndpoint<u8>, segs: &[Value], t: Instant) {
    let c = ctx(PORT, 40000, A_IP, B_IP);
    let mut rng = SplitMix64::new(2);
    for v in segs {
        ep.handle_segment_value(t, &mut rng, &c, v).unwrap();
    }
    let buf = ep.recv_buffer(1).unwrap();
    black_box(buf.len());
    buf.clear();
    while let Some(e) = ep.poll_event() {
        black_box(e);
    }
    while let Some(tx) = ep.poll_transmit() {
        black_box(tx);
    }
}

fn bench_receive(c: &mut Criterion) {
    let mut g = c.benchmark_group("psp_receive_in_order");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("decode+deliver", |b| {
        b.iter_batched(
            || {
                let (ep, next) = accepted();
                let segs = data_segments(&ep, next, BATCH);
                (ep, segs)
            },
            |(mut ep, segs)| {
                receive_batch(&mut ep, &segs, Instant::from_millis(1));
                // Returned so that dropping them is not timed.
                (ep, segs)
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();

    // Wall-clock rate over a long in-order run on one connection, plus allocations/segment.
    let (mut ep, mut next) = accepted();
    let rounds = 400;
    let mut secs = 0.0;
    for r in 0..rounds {
        let segs = data_segments(&ep, next, BATCH);
        next += BATCH as u64;
        // 100 ms of virtual time per batch: the delayed ACK goes out between batches.
        let t = Instant::from_millis(r as u64 * 100);
        let start = WallClock::now();
        receive_batch(&mut ep, &segs, t);
        ep.handle_timeout(t + core::time::Duration::from_millis(100));
        secs += start.elapsed().as_secs_f64();
    }
    let stats = ep.stats(1).unwrap();
    assert_eq!(stats.next_expected, next, "every segment was delivered");
    assert!(
        stats.unacked <= 16,
        "the receiver's ACKs are acknowledged: {stats:?}"
    );
    report("psp_receive", "segments/s", (rounds * BATCH) as f64 / secs);
    let more = data_segments(&ep, next, BATCH);
    let allocs = allocations_per_op(1, || {
        receive_batch(&mut ep, &more, Instant::from_secs(1000))
    });
    report("psp_receive", "allocations/segment", allocs / BATCH as f64);
}

/// The same bytes through two smoltcp TCP sockets on one interface over its loopback device.
fn smoltcp_bulk(data: &[u8]) -> usize {
    use smoltcp::iface::{Config, Interface, SocketSet};
    use smoltcp::phy::{Loopback, Medium};
    use smoltcp::socket::tcp;
    use smoltcp::time::Instant as SInstant;
    use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};

    let mut device = Loopback::new(Medium::Ip);
    let mut iface = Interface::new(
        Config::new(HardwareAddress::Ip),
        &mut device,
        SInstant::ZERO,
    );
    iface.update_ip_addrs(|a| {
        a.push(IpCidr::new(IpAddress::v4(127, 0, 0, 1), 8)).unwrap();
    });
    // 65535: no window scaling (smoltcp 0.12.0 underflows in `last_scaled_window` with a scaled
    // window on loopback).
    let buf = || tcp::SocketBuffer::new(vec![0u8; 65535]);
    let mut sockets = SocketSet::new(vec![]);
    let server = sockets.add(tcp::Socket::new(buf(), buf()));
    let client = sockets.add(tcp::Socket::new(buf(), buf()));
    sockets.get_mut::<tcp::Socket>(server).listen(1234).unwrap();
    sockets
        .get_mut::<tcp::Socket>(client)
        .connect(iface.context(), (IpAddress::v4(127, 0, 0, 1), 1234), 65000)
        .unwrap();
    let (mut sent, mut read) = (0usize, 0usize);
    let mut now = SInstant::ZERO;
    let mut sink = vec![0u8; 65536];
    while read < data.len() {
        iface.poll(now, &mut device, &mut sockets);
        let c = sockets.get_mut::<tcp::Socket>(client);
        if c.can_send() && sent < data.len() {
            sent += c.send_slice(&data[sent..]).unwrap();
        }
        let s = sockets.get_mut::<tcp::Socket>(server);
        while s.can_recv() {
            let n = s.recv_slice(&mut sink).unwrap();
            if n == 0 {
                break;
            }
            read += n;
        }
        if let Some(d) = iface.poll_delay(now, &sockets) {
            now += d;
        }
    }
    read
}

fn bench_bulk(c: &mut Criterion) {
    let msgs: Vec<LuaStr> = (0..MSGS)
        .map(|i| LuaStr::from(vec![(i % 251) as u8; MSG]))
        .collect();
    let bytes: Vec<u8> = msgs.iter().flat_map(|m| m.as_bytes().to_vec()).collect();
    let total = bytes.len();
    assert_eq!(psp_bulk(&msgs).0, total);
    assert_eq!(smoltcp_bulk(&bytes), total);

    let mut g = c.benchmark_group("bulk_1MiB");
    g.throughput(Throughput::Bytes(total as u64));
    g.sample_size(20);
    g.bench_function("psp", |b| b.iter(|| black_box(psp_bulk(&msgs))));
    g.bench_function("smoltcp_tcp_loopback", |b| {
        b.iter(|| black_box(smoltcp_bulk(&bytes)))
    });
    g.finish();

    // Same-run wall-clock comparison for the report.
    let runs = 20;
    let start = WallClock::now();
    let mut segs = 0;
    for _ in 0..runs {
        segs = psp_bulk(&msgs).1;
    }
    let psp_secs = start.elapsed().as_secs_f64() / runs as f64;
    let start = WallClock::now();
    for _ in 0..runs {
        black_box(smoltcp_bulk(&bytes));
    }
    let tcp_secs = start.elapsed().as_secs_f64() / runs as f64;
    report("psp_bulk", "messages/s", MSGS as f64 / psp_secs);
    report("psp_bulk", "MB/s", total as f64 / psp_secs / 1e6);
    report("psp_bulk", "segments per transfer", segs as f64);
    report("smoltcp_bulk", "MB/s", total as f64 / tcp_secs / 1e6);
    report(
        "psp_bulk",
        "throughput ratio psp/smoltcp",
        tcp_secs / psp_secs,
    );
}

criterion_group!(benches, bench_receive, bench_bulk);
criterion_main!(benches);
