//! Property test: what `PipStack::send` does for a random destination over random route tables
//! equals a small model of §7.3 built on the literal §8.3 scan (`lookup_linear`).

use core::net::Ipv4Addr;

use ipnet::Ipv4Net;
use modem_value::{Instant, SplitMix64, Table};
use pip_core::route::{Route, RouteAction};
use pip_core::{Device, IpConfigChange, PipStack, SendOptions, SendOutcome, StackConfig};
use proptest::prelude::*;

/// What the model predicts for one send.
#[derive(Debug, PartialEq)]
enum Expect {
    Outcome(SendOutcome),
    /// Waiting for ARP: no result yet, one ARP request for this next hop.
    Resolving(Ipv4Addr),
}

const DEVICES: [&str; 4] = ["/up", "/down", "/lo", "/bare"];
const KNOWN: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 3)];

fn arb_route() -> impl Strategy<Value = (u32, Route)> {
    (
        1u32..4,
        0u32..4,
        any::<u32>(),
        0u8..=32,
        0usize..6,
        0usize..4,
        0usize..4,
    )
        .prop_map(|(table, pool, r, len, a, d, g)| {
            let addr = Ipv4Addr::from(0x0a00_0000 | (pool << 8) | (r & 0x0000_00ff));
            let gw = [
                KNOWN[0],
                KNOWN[1],
                Ipv4Addr::new(10, 0, 0, 9),
                Ipv4Addr::new(127, 0, 0, 5),
            ][g];
            (
                table,
                Route {
                    net: Ipv4Net::new(addr, len).unwrap(),
                    action: RouteAction::ALL[a],
                    device: Some(Device::new(DEVICES[d])),
                    gateway: Some(gw),
                },
            )
        })
}

fn stack() -> PipStack<SplitMix64> {
    let mut s = PipStack::new(StackConfig::new(1), SplitMix64::new(4));
    for (d, ip, up) in [("/up", "10.0.0.1", true), ("/down", "10.0.1.1", false)] {
        s.add_device(d).unwrap();
        s.ipconfig(
            d,
            IpConfigChange {
                ip: ip.parse().ok(),
                prefix: Some(24),
                up: Some(up),
            },
        )
        .unwrap();
    }
    s.add_device("/bare").unwrap();
    for (i, ip) in KNOWN.iter().enumerate() {
        s.arp_set("/up", *ip, Some(2 + i as u32)).unwrap();
    }
    s
}

fn model(s: &PipStack<SplitMix64>, dst: Ipv4Addr) -> Expect {
    let failed = |error| Expect::Outcome(SendOutcome::Failed { error });
    let Some(r) = s.routes().lookup_linear(dst) else {
        return failed("No route to host");
    };
    let hop = match r.action {
        RouteAction::Unreachable => return failed("Destination unreachable"),
        RouteAction::Prohibit => return failed("Prohibited"),
        RouteAction::Blackhole => return Expect::Outcome(SendOutcome::Dropped),
        RouteAction::Broadcast => None,
        RouteAction::Local => Some(dst),
        RouteAction::Unicast => r.gateway,
    };
    let dev = r.device.clone().unwrap();
    let cfg = match s.ipconfig_get(dev.as_str()).unwrap() {
        Some(c) if c.up => c,
        _ => return failed("Network is down"),
    };
    let sent = Expect::Outcome(SendOutcome::Sent {
        device: dev.clone(),
        source_ip: cfg.ip,
    });
    match hop {
        None => sent,
        Some(_) if dev.as_str() == "/lo" => sent,
        Some(h) if KNOWN.contains(&h) || h == cfg.ip => sent,
        Some(h) => Expect::Resolving(h),
    }
}

proptest! {
    #[test]
    fn send_follows_the_model(
        routes in proptest::collection::vec(arb_route(), 0..12),
        dsts in proptest::collection::vec((0u32..4, any::<u8>()), 1..12),
    ) {
        let mut s = stack();
        for (t, r) in routes {
            let _ = s.route_add(t, r);
        }
        while s.poll_transmit().is_some() {}
        for (pool, host) in dsts {
            let dst = Ipv4Addr::from(0x0a00_0000 | (pool << 8) | u32::from(host));
            let expect = model(&s, dst);
            let pending_before = s.pending_resolutions();
            let opts = SendOptions { notify: true, ..SendOptions::default() };
            let id = s.send(Instant::from_secs(1), dst, Table::new(), 0, 0, opts);
            let result = s.poll_send_result();
            let transmits: Vec<_> = std::iter::from_fn(|| s.poll_transmit()).collect();
            while s.poll_event().is_some() {}
            match expect {
                Expect::Outcome(o) => {
                    let r = result.expect("a result");
                    prop_assert_eq!(r.id, id);
                    prop_assert_eq!(r.outcome, o);
                }
                Expect::Resolving(hop) => {
                    prop_assert!(result.is_none());
                    let new_request = s.pending_resolutions() > pending_before;
                    let arp: Vec<_> = transmits.iter()
                        .filter(|t| t.message.get("type").as_str().is_some_and(|x| x == "arp"))
                        .collect();
                    // One request per next hop: only the first send to it asks.
                    prop_assert_eq!(arp.len(), usize::from(new_request));
                    for t in arp {
                        let asked = t.message.get("destinationIP").as_str().unwrap().to_string_lossy();
                        prop_assert_eq!(asked, hop.to_string());
                    }
                }
            }
        }
    }
}
