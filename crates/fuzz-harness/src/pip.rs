//! Fuzz target bodies for `pip-core`: decoding of every message type, and one configured
//! stack (a router or a host, with routes of all six actions) driven by arbitrary frames,
//! ticks, sends and configuration calls.

use std::net::Ipv4Addr;

use arbitrary::{Result, Unstructured};
use modem_value::{table, Instant, LuaStr, SplitMix64, Table, Value, WireMessage};
use pip_core::addr;
use pip_core::arp::ARP_CACHE_CAPACITY;
use pip_core::ipnet::Ipv4Net;
use pip_core::route::{Route, RouteAction};
use pip_core::stack::{MAX_PENDING_RESOLUTIONS, SEEN_CAPACITY};
use pip_core::wire::{ArpMessage, ControlMessage, Frame, LinkFrame, MessageType, PipPacket};
use pip_core::{Device, IpConfigChange, PipStack, SendOptions, StackConfig};

/// The targets of this module, by name.
pub const TARGETS: &[(&str, crate::Target)] =
    &[("pip_decode", pip_decode), ("pip_stack", pip_stack)];

fn round_trip<M: WireMessage + PartialEq + std::fmt::Debug>(v: &Value) {
    if let Ok(m) = M::decode(v) {
        assert_eq!(M::decode(&m.encode()).as_ref(), Ok(&m));
    }
}

/// Strict decoding of arbitrary values as every pip-core message type, plus the address
/// parsers on raw bytes: never panics, and whatever decodes re-encodes to the same message.
pub fn pip_decode(data: &[u8]) {
    let _ = addr::parse_ip(data);
    let _ = addr::parse_cidr(data, 32);
    let mut u = Unstructured::new(data);
    let Ok(v) = u.arbitrary::<Value>() else {
        return;
    };
    round_trip::<Frame>(&v);
    round_trip::<LinkFrame>(&v);
    round_trip::<ArpMessage>(&v);
    round_trip::<PipPacket>(&v);
    round_trip::<ControlMessage>(&v);
    let _ = addr::ip_from_value(&v);
    let _ = addr::prefix_from_value(&v);
    // Nested: a link frame's payload as a packet, a packet's payload as MCP.
    if let Ok(f) = LinkFrame::decode(&v) {
        let p = Value::Table(f.payload);
        round_trip::<PipPacket>(&p);
        round_trip::<ControlMessage>(&p.get("payload").clone());
    }
}

const IPS: [Ipv4Addr; 10] = [
    Ipv4Addr::new(10, 0, 0, 5),
    Ipv4Addr::new(10, 0, 0, 6),
    Ipv4Addr::new(10, 0, 0, 255),
    Ipv4Addr::new(10, 0, 1, 5),
    Ipv4Addr::new(10, 0, 1, 9),
    Ipv4Addr::new(10, 2, 0, 1),
    Ipv4Addr::new(10, 3, 0, 1),
    Ipv4Addr::new(127, 0, 0, 1),
    Ipv4Addr::new(255, 255, 255, 255),
    Ipv4Addr::new(192, 168, 7, 7),
];
const DEVICES: [&str; 4] = ["/a", "/b", "/lo", "/x"];
const ME: u32 = 5;

fn ip(u: &mut Unstructured<'_>) -> Result<Ipv4Addr> {
    if u.ratio(1, 8)? {
        Ok(Ipv4Addr::from(u.arbitrary::<u32>()?))
    } else {
        u.choose(&IPS).copied()
    }
}

fn stack(u: &mut Unstructured<'_>) -> Result<PipStack<SplitMix64>> {
    let mut cfg = StackConfig::new(ME);
    cfg.forwarding = u.arbitrary()?;
    let mut s = PipStack::new(cfg, SplitMix64::new(u.arbitrary()?));
    for (d, a) in [("/a", "10.0.0.5"), ("/b", "10.0.1.5")] {
        let _ = s.add_device(d);
        let _ = s.ipconfig(
            d,
            IpConfigChange {
                ip: a.parse().ok(),
                prefix: Some(24),
                up: Some(true),
            },
        );
    }
    let r = |n: &str, action, dev: Option<&str>, gw: Option<&str>| Route {
        net: n.parse().unwrap_or_default(),
        action,
        device: dev.map(Device::new),
        gateway: gw.and_then(|g| g.parse().ok()),
    };
    for route in [
        r(
            "0.0.0.0/0",
            RouteAction::Unicast,
            Some("/a"),
            Some("10.0.0.6"),
        ),
        r(
            "10.2.0.0/16",
            RouteAction::Unicast,
            Some("/b"),
            Some("10.0.1.9"),
        ),
        r("10.3.0.0/16", RouteAction::Unreachable, None, None),
        r("10.4.0.0/16", RouteAction::Prohibit, None, None),
        r("10.5.0.0/16", RouteAction::Blackhole, None, None),
        r("10.6.0.0/16", RouteAction::Broadcast, Some("/b"), None),
        r("192.168.0.0/16", RouteAction::Local, Some("/a"), None),
    ] {
        let _ = s.route_add(1, route);
    }
    Ok(s)
}

fn plausible_frame(u: &mut Unstructured<'_>) -> Result<Value> {
    let payload: Value = match u.int_in_range(0..=3)? {
        0 => table! { "PhoenixNetworking" => true, "type" => "control",
        "messageType" => *u.choose(&["ping", "pong", "unreachable", "timeout", "x"])?,
        "error" => "e" },
        1 => table! { "PhoenixNetworking" => true, "type" => "datagram", "message" => "m" },
        2 => table! { "PhoenixNetworking" => true, "type" => "socket", "sequence" => 1 },
        _ => u.arbitrary()?,
    };
    let message_id: Value = if u.arbitrary()? {
        Value::from(u.int_in_range(0..=40u32)?)
    } else {
        Value::from(LuaStr::from(u.arbitrary::<[u8; 4]>()?.to_vec()))
    };
    let pip = table! {
        "PhoenixNetworking" => true, "type" => "internet",
        "source" => ip(u)?.to_string(), "destination" => ip(u)?.to_string(),
        "messageID" => message_id, "hopsLeft" => u.int_in_range(0..=3u32)?,
        "payload" => payload,
    };
    let dest: Option<u32> = if u.arbitrary()? {
        Some(*u.choose(&[ME, 6, 9])?)
    } else {
        None
    };
    Ok(table! {
        "PhoenixNetworking" => true, "type" => "link",
        "source" => *u.choose(&[6u32, 9, ME])?, "destination" => dest, "payload" => pip,
    })
}

fn plausible_arp(u: &mut Unstructured<'_>) -> Result<Value> {
    let reply: bool = u.arbitrary()?;
    let mut t = Table::new();
    t.set("PhoenixNetworking", Value::Bool(true));
    t.set("type", Value::from("arp"));
    t.set("reply", Value::Bool(reply));
    t.set("source", Value::from(u.int_in_range(0..=20u32)?));
    if reply || u.arbitrary()? {
        t.set("sourceIP", Value::from(ip(u)?.to_string()));
    }
    t.set("destinationIP", Value::from(ip(u)?.to_string()));
    t.set("destination", Value::from(ME));
    Ok(Value::Table(t))
}

/// A configured stack fed arbitrary and plausible frames, ticks, sends and configuration
/// calls. Checks: no panic; ARP caches, seen IDs and pending resolutions within their bounds;
/// after `handle_timeout(now)` no deadline is left at or before `now`.
pub fn pip_stack(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = run(&mut u);
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let mut s = stack(u)?;
    let mut now = 1000u64;
    for _ in 0..200 {
        if u.is_empty() {
            break;
        }
        let dev = *u.choose(&DEVICES)?;
        match u.int_in_range(0..=9)? {
            0 => {
                let v: Value = u.arbitrary()?;
                s.handle_modem_message(
                    Instant::from_millis(now),
                    dev,
                    u.arbitrary()?,
                    u.arbitrary()?,
                    &v,
                );
            }
            1..=3 => {
                let v = plausible_frame(u)?;
                s.handle_modem_message(
                    Instant::from_millis(now),
                    dev,
                    u.int_in_range(0..=2)?,
                    0,
                    &v,
                );
            }
            4 => {
                let v = plausible_arp(u)?;
                s.handle_modem_message(Instant::from_millis(now), dev, 0, 0, &v);
            }
            5 => {
                now += u64::from(u.int_in_range(0..=5000u32)?);
                let t = Instant::from_millis(now);
                s.handle_timeout(t);
                if let Some(d) = s.poll_timeout() {
                    assert!(d > t, "deadline {d:?} left at or before {t:?}");
                }
            }
            6 => {
                let payload = table! { "PhoenixNetworking" => true, "type" => "datagram" };
                let Value::Table(p) = payload else { continue };
                let opts = SendOptions {
                    hops: u.int_in_range(0..=3)?,
                    notify: u.arbitrary()?,
                    device: if u.arbitrary()? {
                        Some(Device::new(dev))
                    } else {
                        None
                    },
                };
                s.send(
                    Instant::from_millis(now),
                    ip(u)?,
                    p,
                    u.arbitrary()?,
                    u.arbitrary()?,
                    opts,
                );
            }
            7 => {
                let mt =
                    *u.choose(&[MessageType::Ping, MessageType::Pong, MessageType::Timeout])?;
                s.netcontrol(
                    Instant::from_millis(now),
                    ip(u)?,
                    mt,
                    None,
                    Some(u.int_in_range(0..=3)?),
                );
            }
            8 => {
                let change = IpConfigChange {
                    ip: if u.arbitrary()? { Some(ip(u)?) } else { None },
                    prefix: if u.arbitrary()? {
                        Some(u.int_in_range(0..=33)?)
                    } else {
                        None
                    },
                    up: u.arbitrary()?,
                };
                let _ = s.ipconfig(dev, change);
                if u.ratio(1, 10)? {
                    let _ = s.remove_ipconfig(dev);
                }
                if u.ratio(1, 20)? {
                    let _ = s.remove_device(Instant::from_millis(now), dev);
                    let _ = s.add_device(dev);
                }
            }
            _ => {
                let a = ip(u)?;
                match u.int_in_range(0..=3)? {
                    0 => {
                        let _ = s.arp_set(
                            dev,
                            a,
                            if u.arbitrary()? {
                                Some(u.arbitrary()?)
                            } else {
                                None
                            },
                        );
                    }
                    1 => {
                        let net = Ipv4Net::new(a, u.int_in_range(0..=32)?).unwrap_or_default();
                        let action = *u.choose(&RouteAction::ALL)?;
                        let _ = s.route_add(
                            u.int_in_range(0..=3)?,
                            Route {
                                net,
                                action,
                                device: Some(Device::new(dev)),
                                gateway: Some(ip(u)?),
                            },
                        );
                    }
                    2 => {
                        let net = Ipv4Net::new(a, u.int_in_range(0..=32)?).unwrap_or_default();
                        let _ = s.route_remove(u.int_in_range(0..=3)?, net);
                    }
                    _ => s.set_netevent(u.arbitrary()?),
                }
            }
        }
        while s.poll_channel().is_some() {}
        while s.poll_transmit().is_some() {}
        while s.poll_delivery().is_some() {}
        while s.poll_event().is_some() {}
        while s.poll_send_result().is_some() {}
        for d in DEVICES {
            if let Ok(n) = s.arp_len(d) {
                assert!(n <= ARP_CACHE_CAPACITY + 1);
            }
        }
        assert!(s.seen_ids_len() <= SEEN_CAPACITY);
        assert!(s.pending_resolutions() <= MAX_PENDING_RESOLUTIONS);
        // Every remaining route lookup agrees with the literal scan of every route in priority order.
        let a = ip(u)?;
        assert_eq!(s.routes().lookup(a), s.routes().lookup_linear(a));
    }
    Ok(())
}
