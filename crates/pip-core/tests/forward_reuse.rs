//! Router forwarding reuses the storage of frames it sent once their transmits are gone, and
//! never changes a transmit that a caller still holds (copy on write, spec §5.3 forwarding rule:
//! only `hopsLeft` changes in the forwarded packet).

use modem_value::{table, Instant, LuaStr, SplitMix64, Value};
use pip_core::route::{Route, RouteAction};
use pip_core::{Device, IpConfigChange, PipStack, StackConfig};

fn router() -> PipStack<SplitMix64> {
    let mut cfg = StackConfig::new(10);
    cfg.forwarding = true;
    let mut s = PipStack::new(cfg, SplitMix64::new(1));
    for (dev, ip) in [("/in", "10.0.0.254"), ("/out", "10.0.1.1")] {
        s.add_device(dev).unwrap();
        let change = IpConfigChange {
            ip: Some(ip.parse().unwrap()),
            prefix: Some(24),
            up: Some(true),
        };
        s.ipconfig(dev, change).unwrap();
    }
    s.route_add(
        1,
        Route {
            net: "20.0.0.0/8".parse().unwrap(),
            action: RouteAction::Unicast,
            device: Some(Device::new("/out")),
            gateway: Some("10.0.1.2".parse().unwrap()),
        },
    )
    .unwrap();
    s.arp_set("/out", "10.0.1.2".parse().unwrap(), Some(20))
        .unwrap();
    while s.poll_transmit().is_some() {}
    while s.poll_channel().is_some() {}
    s
}

fn packet(i: u8, hops: u32) -> Value {
    table! {
        "PhoenixNetworking" => true, "type" => "internet",
        "source" => "10.0.0.1", "destination" => format!("20.0.0.{i}"),
        "messageID" => LuaStr::from(&[i; 32][..]), "hopsLeft" => hops,
        "extra" => "kept",
        "payload" => table! { "PhoenixNetworking" => true, "type" => "datagram",
                              "message" => format!("m{i}") }
    }
}

fn frame(src: u32, dst: u32, payload: Value) -> Value {
    table! {
        "PhoenixNetworking" => true, "type" => "link", "source" => src, "destination" => dst,
        "payload" => payload
    }
}

/// Forwards packets 1..=n; `hold` keeps every transmit alive until the end.
fn run(hold: bool) {
    let mut s = router();
    let mut held = Vec::new();
    let inputs: Vec<Value> = (1..=20).map(|i| frame(1, 10, packet(i, 15))).collect();
    for (k, f) in inputs.iter().enumerate() {
        s.handle_modem_message(Instant::from_millis(k as u64), "/in", 7, 9, f);
        let t = s.poll_transmit().expect("forwarded");
        assert!(s.poll_transmit().is_none());
        assert_eq!(t.device.as_str(), "/out");
        assert_eq!((t.channel, t.reply_channel), (7, 9));
        let want = frame(10, 20, packet(k as u8 + 1, 14));
        assert_eq!(t.message, want, "forwarded frame {k}");
        if hold {
            held.push((t.message, want));
        }
    }
    for (k, (got, want)) in held.iter().enumerate() {
        assert_eq!(got, want, "held transmit {k} changed by a later forward");
    }
    for (k, f) in inputs.iter().enumerate() {
        assert_eq!(
            *f,
            frame(1, 10, packet(k as u8 + 1, 15)),
            "input {k} changed"
        );
    }
    assert_eq!(s.stats().forwarded, 20);
}

#[test]
fn forwarded_frames_are_exact_when_transmits_are_dropped() {
    run(false);
}

#[test]
fn held_transmits_and_inputs_never_change() {
    run(true);
}

/// `handle_phoenix_frame` reads the envelope once for both decisions: a message without a
/// truthy `PhoenixNetworking` (rednet sharing the modem) is left for the caller with no state
/// or counter change, and every Phoenix frame is handled exactly as `handle_modem_message`
/// handles it (same transmits, same counters; spec §5.3 receive steps).
#[test]
fn phoenix_frame_entry_matches_modem_message_and_skips_others() {
    let t = Instant::from_millis(5);
    let mut a = router();
    let mut b = router();
    let before = b.stats().clone();
    for other in [
        Value::from("hello"),
        table! { "message" => "rednet", "nMessageID" => 7 },
        table! { "PhoenixNetworking" => false, "type" => "link" },
    ] {
        assert!(!b.handle_phoenix_frame(t, "/in", 1, 2, &other));
    }
    assert_eq!(b.stats(), &before);
    assert!(!b.has_output());
    let frames = [
        frame(1, 10, packet(1, 8)),
        frame(1, 10, packet(1, 8)),
        frame(1, 11, packet(2, 8)),
        frame(1, 10, packet(3, 0)),
        table! { "PhoenixNetworking" => true, "type" => "bogus" },
        frame(1, 10, Value::from(3)),
    ];
    for (dev, f) in frames.iter().flat_map(|f| [("/in", f), ("/nope", f)]) {
        a.handle_modem_message(t, dev, 1, 2, f);
        assert!(b.handle_phoenix_frame(t, dev, 1, 2, f));
        assert_eq!(a.stats(), b.stats());
        loop {
            let (x, y) = (a.poll_transmit(), b.poll_transmit());
            assert_eq!(x, y);
            if x.is_none() {
                break;
            }
        }
    }
}
