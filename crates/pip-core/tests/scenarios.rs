//! Scenario tests on the in-memory multi-modem bus (issue 3 "Tests").

mod bus;

use core::net::Ipv4Addr;

use bus::Bus;
use ipnet::Ipv4Net;
use modem_value::{table, LuaStr, Table, Value};
use pip_core::route::{Route, RouteAction};
use pip_core::wire::MessageType;
use pip_core::{Device, NetEvent, SendOptions, SendOutcome};

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn net(s: &str) -> Ipv4Net {
    s.parse().unwrap()
}

fn ping(bus: &mut Bus, n: usize, dst: &str, seq: &str) {
    let now = bus.now;
    bus.stack(n).netcontrol(
        now,
        ip(dst),
        MessageType::Ping,
        Some(LuaStr::from(seq)),
        None,
    );
    bus.settle();
}

fn datagram(text: &str) -> Table {
    match table! { "PhoenixNetworking" => true, "type" => "datagram", "message" => text } {
        Value::Table(t) => t,
        _ => unreachable!(),
    }
}

/// Two hosts on one segment.
fn segment() -> Bus {
    let mut bus = Bus::new();
    let a = bus.add(1, false);
    let b = bus.add(2, false);
    bus.attach(a, "/back", 0, "10.0.0.1", 24);
    bus.attach(b, "/top", 0, "10.0.0.2", 24);
    bus
}

#[test]
fn ipconfig_opens_channel_zero_adds_routes_and_probes() {
    let mut bus = Bus::new();
    let a = bus.add(1, false);
    bus.attach(a, "/back", 0, "10.0.0.1", 24);
    assert!(bus.nodes[a].open.contains(&("/back".to_string(), 0)));
    // Collision probe: sourceIP = destinationIP = the new address (Q-ARP2).
    let probes = bus.sent_by(a, "arp");
    assert_eq!(probes.len(), 1);
    let p = &probes[0].message;
    assert_eq!(p.get("sourceIP"), p.get("destinationIP"));
    assert_eq!(p.get("sourceIP").as_str().unwrap(), "10.0.0.1");
    assert_eq!(p.get("reply"), &Value::Bool(false));
    // Table 0: /lo's two routes and exactly two for /back (Q-RT2), also after a change.
    let t0 = bus.stack(a).routes().list(0).unwrap().to_vec();
    assert_eq!(t0.len(), 4);
    let change = pip_core::IpConfigChange {
        ip: Some(ip("10.0.5.1")),
        prefix: Some(16),
        up: None,
    };
    bus.stack(a).ipconfig("/back", change).unwrap();
    let t0 = bus.stack(a).routes().list(0).unwrap().to_vec();
    assert_eq!(t0.len(), 4);
    assert_eq!(t0[2].net, net("10.0.0.0/16"));
    assert_eq!(t0[3].net, net("10.0.255.255/32"));
    assert_eq!(t0[3].action, RouteAction::Broadcast);
    // ARP self entry moved.
    let arp = bus.stack(a).arp_list("/back").unwrap();
    assert_eq!(arp, vec![(ip("10.0.5.1"), 1)]);
    // Down closes channel 0.
    let down = pip_core::IpConfigChange {
        up: Some(false),
        ..Default::default()
    };
    let cfg = bus.stack(a).ipconfig("/back", down).unwrap();
    assert_eq!(
        cfg.to_value(),
        table! { "ip" => "10.0.5.1", "netmask" => 16, "up" => false }
    );
    bus.settle();
    assert!(!bus.nodes[a].open.contains(&("/back".to_string(), 0)));
    // Errors.
    assert_eq!(
        bus.stack(a)
            .ipconfig("/nope", Default::default())
            .unwrap_err()
            .to_string(),
        "No such device"
    );
    bus.stack(a).add_device("/left").unwrap();
    assert_eq!(bus.stack(a).ipconfig_get("/left").unwrap(), None);
    assert_eq!(
        bus.stack(a)
            .ipconfig("/left", Default::default())
            .unwrap_err()
            .to_string(),
        "bad field 'ip' (expected string, got nil)"
    );
    // Loopback: arplist is empty.
    assert!(bus.stack(a).arp_list("/lo").unwrap().is_empty());
}

#[test]
fn arp_request_reply_and_learning() {
    let mut bus = segment();
    let (a, b) = (0, 1);
    // A heard B's collision probe when B came up (Q-ARP2), so A already knows B; B came up
    // after A's probe and must resolve A.
    assert!(bus
        .stack(a)
        .arp_list("/back")
        .unwrap()
        .contains(&(ip("10.0.0.2"), 2)));
    assert!(!bus
        .stack(b)
        .arp_list("/top")
        .unwrap()
        .iter()
        .any(|e| e.0 == ip("10.0.0.1")));
    bus.log.clear();
    ping(&mut bus, b, "10.0.0.1", "1");
    // One request from B, one reply from A, both on channel 0.
    let reqs = bus.sent_by(b, "arp");
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].channel, 0);
    assert_eq!(
        reqs[0].message,
        table! { "PhoenixNetworking" => true, "type" => "arp", "reply" => false,
        "source" => 2, "sourceIP" => "10.0.0.2", "destinationIP" => "10.0.0.1" }
    );
    let reps = bus.sent_by(a, "arp");
    assert_eq!(reps.len(), 1);
    assert_eq!(
        reps[0].message,
        table! { "PhoenixNetworking" => true, "type" => "arp", "reply" => true,
        "source" => 1, "sourceIP" => "10.0.0.1", "destination" => 2,
        "destinationIP" => "10.0.0.2" }
    );
    // B learned from the reply; the queued ping went out and was answered.
    assert!(bus
        .stack(b)
        .arp_list("/top")
        .unwrap()
        .contains(&(ip("10.0.0.1"), 1)));
    assert_eq!(bus.controls(b, "pong").len(), 1);
    // A second ping needs no ARP in either direction.
    bus.log.clear();
    ping(&mut bus, b, "10.0.0.1", "2");
    ping(&mut bus, a, "10.0.0.2", "3");
    assert!(bus.sent_by(a, "arp").is_empty());
    assert!(bus.sent_by(b, "arp").is_empty());
    assert_eq!(bus.controls(b, "pong").len(), 2);
    assert_eq!(bus.controls(a, "pong").len(), 1);
    // A third computer learns from the channel-0 broadcasts it overhears.
    let c = bus.add(3, false);
    bus.attach(c, "/c", 0, "10.0.0.3", 24);
    bus.stack(a).arp_set("/back", ip("10.0.0.2"), None).unwrap();
    ping(&mut bus, a, "10.0.0.2", "4");
    assert!(bus
        .stack(c)
        .arp_list("/c")
        .unwrap()
        .contains(&(ip("10.0.0.1"), 1)));
    assert!(bus
        .stack(c)
        .arp_list("/c")
        .unwrap()
        .contains(&(ip("10.0.0.2"), 2)));
}

#[test]
fn ping_across_one_segment() {
    let mut bus = segment();
    let (a, b) = (0, 1);
    ping(&mut bus, a, "10.0.0.2", "7");
    let pings = bus.controls(b, "ping");
    assert_eq!(pings.len(), 1);
    assert_eq!(pings[0].0.as_deref(), Some("10.0.0.1"));
    assert_eq!(pings[0].1.as_deref(), Some("7"));
    let pongs = bus.controls(a, "pong");
    assert_eq!(pongs.len(), 1);
    assert_eq!(pongs[0].0.as_deref(), Some("10.0.0.2"));
    assert_eq!(pongs[0].1, None, "pong has no error");
    // The pong carries the whole ping packet: the sequence is payload.payload.error.
    let payload = &pongs[0].2;
    assert_eq!(payload.get("type").as_str().unwrap(), "internet");
    assert_eq!(payload.get("source").as_str().unwrap(), "10.0.0.1");
    assert_eq!(payload.get("payload").get("error").as_str().unwrap(), "7");
    // The pong frame itself is a PLP frame to A's ID on channel 0.
    let frames = bus.sent_by(b, "link");
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].message.get("destination").as_num(), Some(1.0));
    assert_eq!(frames[0].channel, 0);
    // The event table has Phoenix's network_event shape.
    let ev = bus.nodes[a].events.last().unwrap().to_value();
    assert_eq!(ev.get("type").as_str().unwrap(), "control");
    assert_eq!(ev.get("messageType").as_str().unwrap(), "pong");
    assert_eq!(ev.get("sender").as_str().unwrap(), "10.0.0.2");
}

#[test]
fn self_delivery_on_loopback_and_own_address() {
    let mut bus = segment();
    let a = 0;
    bus.log.clear();
    ping(&mut bus, a, "127.0.0.1", "1");
    ping(&mut bus, a, "10.0.0.1", "2");
    assert!(bus.log.is_empty(), "nothing transmitted: {:?}", bus.log);
    let pongs = bus.controls(a, "pong");
    assert_eq!(pongs.len(), 2);
    assert_eq!(pongs[0].0.as_deref(), Some("127.0.0.1"));
    assert_eq!(pongs[1].0.as_deref(), Some("10.0.0.1"));
}

#[test]
fn unreachable_after_the_two_second_arp_timeout() {
    let mut bus = segment();
    let a = 0;
    let now = bus.now;
    let id = bus.stack(a).send(
        now,
        ip("10.0.0.9"),
        datagram("x"),
        5,
        49152,
        SendOptions {
            notify: true,
            ..SendOptions::default()
        },
    );
    bus.settle();
    assert_eq!(
        bus.stack(a).poll_timeout(),
        Some(now + modem_value::Duration::from_secs(2))
    );
    // A second send to the same next hop waits on the same single request.
    let now = bus.now;
    bus.stack(a).send(
        now,
        ip("10.0.0.9"),
        datagram("y"),
        5,
        49152,
        SendOptions::default(),
    );
    bus.settle();
    assert_eq!(
        bus.sent_by(a, "arp")
            .iter()
            .filter(|t| t
                .message
                .get("destinationIP")
                .as_str()
                .is_some_and(|s| s == "10.0.0.9"))
            .count(),
        1
    );
    bus.advance(1999);
    assert!(bus.controls(a, "unreachable").is_empty());
    assert!(bus.nodes[a].results.is_empty());
    bus.advance(1);
    let un = bus.controls(a, "unreachable");
    assert_eq!(un.len(), 2);
    assert_eq!(un[0].0, None, "locally synthesized: no sender");
    assert_eq!(un[0].1.as_deref(), Some("No route to host"));
    assert_eq!(un[0].2.get("destination").as_str().unwrap(), "10.0.0.9");
    assert_eq!(un[1].2.get("payload").get("message").as_str().unwrap(), "y");
    assert_eq!(bus.nodes[a].results.len(), 1);
    assert_eq!(bus.nodes[a].results[0].id, id);
    assert_eq!(
        bus.nodes[a].results[0].outcome,
        SendOutcome::Failed {
            error: "No route to host"
        }
    );
    assert_eq!(bus.stack(a).poll_timeout(), None);
    assert_eq!(bus.stack(a).stats().arp_timeouts, 1);
}

#[test]
fn longest_prefix_routing_with_all_six_actions() {
    let mut bus = segment();
    let c = bus.add(3, false);
    bus.attach(c, "/c", 0, "10.1.5.5", 16);
    let (a, b) = (0, 1);
    let dev = || Some(Device::new("/back"));
    let r = |n: &str, action, gw: Option<&str>| Route {
        net: net(n),
        action,
        device: dev(),
        gateway: gw.map(ip),
    };
    let s = bus.stack(a);
    s.route_add(1, r("10.1.0.0/16", RouteAction::Unicast, Some("10.0.0.2")))
        .unwrap();
    s.route_add(1, r("10.1.2.0/24", RouteAction::Unreachable, None))
        .unwrap();
    s.route_add(1, r("10.1.3.0/24", RouteAction::Prohibit, None))
        .unwrap();
    s.route_add(1, r("10.1.4.0/24", RouteAction::Blackhole, None))
        .unwrap();
    s.route_add(1, r("10.1.5.5/32", RouteAction::Local, None))
        .unwrap();
    s.route_add(1, r("10.9.0.0/16", RouteAction::Broadcast, None))
        .unwrap();
    assert_eq!(
        s.route_add(1, r("10.9.0.0/16", RouteAction::Local, None))
            .unwrap_err()
            .to_string(),
        "Route already exists"
    );
    assert_eq!(
        s.route_add(
            1,
            Route {
                device: Some(Device::new("/zz")),
                ..r("1.0.0.0/8", RouteAction::Local, None)
            }
        )
        .unwrap_err()
        .to_string(),
        "No such device"
    );
    bus.nodes[b].stack.set_netevent(true);
    let notify = SendOptions {
        notify: true,
        ..SendOptions::default()
    };
    let send = |bus: &mut Bus, dst: &str| {
        bus.log.clear();
        let now = bus.now;
        bus.stack(a)
            .send(now, ip(dst), datagram(dst), 0, 0, notify.clone());
        bus.settle();
    };
    // unicast: ARP for the gateway (forgotten first: A heard B's probe), PLP frame to the gateway's ID, PIP destination unchanged.
    bus.stack(a).arp_set("/back", ip("10.0.0.2"), None).unwrap();
    send(&mut bus, "10.1.7.7");
    let arp = bus.sent_by(a, "arp");
    assert_eq!(
        arp[0].message.get("destinationIP").as_str().unwrap(),
        "10.0.0.2"
    );
    let link = bus.sent_by(a, "link");
    assert_eq!(link.len(), 1);
    assert_eq!(link[0].message.get("destination").as_num(), Some(2.0));
    assert_eq!(
        link[0]
            .message
            .get("payload")
            .get("destination")
            .as_str()
            .unwrap(),
        "10.1.7.7"
    );
    assert_eq!(
        link[0]
            .message
            .get("payload")
            .get("source")
            .as_str()
            .unwrap(),
        "10.0.0.1"
    );
    // B is not a router: the packet is foreign there, handed to netevent.
    assert!(matches!(
        bus.nodes[b].events.last(),
        Some(NetEvent::Foreign { .. })
    ));
    // unreachable / prohibit: local MCP with the exact error strings.
    send(&mut bus, "10.1.2.3");
    send(&mut bus, "10.1.3.3");
    let un = bus.controls(a, "unreachable");
    assert_eq!(un.len(), 2);
    assert_eq!(un[0].1.as_deref(), Some("Destination unreachable"));
    assert_eq!(un[1].1.as_deref(), Some("Prohibited"));
    assert!(bus.log.is_empty());
    // blackhole: nothing at all, the send reports Dropped.
    send(&mut bus, "10.1.4.4");
    assert!(bus.log.is_empty());
    assert_eq!(bus.controls(a, "unreachable").len(), 2);
    // local: on-link, ARP for the destination itself; C receives the datagram.
    bus.stack(a).arp_set("/back", ip("10.1.5.5"), None).unwrap();
    send(&mut bus, "10.1.5.5");
    let arp = bus.sent_by(a, "arp");
    assert_eq!(
        arp[0].message.get("destinationIP").as_str().unwrap(),
        "10.1.5.5"
    );
    assert_eq!(bus.nodes[c].deliveries.len(), 1);
    assert_eq!(bus.nodes[c].deliveries[0].source_ip, ip("10.0.0.1"));
    assert_eq!(bus.nodes[c].deliveries[0].source_id, 1);
    // broadcast: a PLP frame without destination.
    send(&mut bus, "10.9.1.1");
    let link = bus.sent_by(a, "link");
    assert_eq!(link.len(), 1);
    assert_eq!(link[0].message.get("destination"), &Value::Nil);
    // No route at all.
    send(&mut bus, "192.168.1.1");
    assert_eq!(
        bus.controls(a, "unreachable")[2].1.as_deref(),
        Some("No route to host")
    );
    let outcomes: Vec<SendOutcome> = bus.nodes[a]
        .results
        .iter()
        .map(|r| r.outcome.clone())
        .collect();
    let sent = SendOutcome::Sent {
        device: Device::new("/back"),
        source_ip: ip("10.0.0.1"),
    };
    assert_eq!(
        outcomes,
        vec![
            sent.clone(),
            SendOutcome::Failed {
                error: "Destination unreachable"
            },
            SendOutcome::Failed {
                error: "Prohibited"
            },
            SendOutcome::Dropped,
            sent.clone(),
            sent,
            SendOutcome::Failed {
                error: "No route to host"
            },
        ]
    );
    // routelist shape and routedel by CIDR (Q-RT3).
    let list = bus.stack(a).route_list(1);
    assert_eq!(list.as_table().unwrap().len(), 6);
    let cidr = pip_core::addr::parse_cidr(b"10.1.4.0/24", 32).unwrap();
    bus.stack(a).route_remove(1, cidr).unwrap();
    assert_eq!(bus.stack(a).routes().list(1).unwrap().len(), 5);
    assert_eq!(
        bus.stack(a).route_remove(5, cidr).unwrap_err().to_string(),
        "Route table does not exist"
    );
}

#[test]
fn network_is_down_for_a_route_on_a_down_interface() {
    let mut bus = segment();
    let a = 0;
    let down = pip_core::IpConfigChange {
        up: Some(false),
        ..Default::default()
    };
    bus.stack(a).ipconfig("/back", down).unwrap();
    ping(&mut bus, a, "10.0.0.2", "1");
    let un = bus.controls(a, "unreachable");
    assert_eq!(un.len(), 1);
    assert_eq!(un[0].1.as_deref(), Some("Network is down"));
}

#[test]
fn broadcast_routes_reach_every_host_of_the_segment() {
    let mut bus = segment();
    let c = bus.add(3, false);
    bus.attach(c, "/c", 0, "10.0.0.3", 24);
    let a = 0;
    let now = bus.now;
    bus.open(1, "/top", 9);
    bus.open(c, "/c", 9);
    bus.stack(a).send(
        now,
        ip("10.0.0.255"),
        datagram("hi"),
        9,
        9,
        SendOptions::default(),
    );
    bus.settle();
    let frames = bus.sent_by(a, "link");
    assert_eq!(frames.len(), 1);
    assert_eq!(
        frames[0].message.get("destination"),
        &Value::Nil,
        "link broadcast"
    );
    assert_eq!(frames[0].channel, 9);
    for n in [1, c] {
        let d = &bus.nodes[n].deliveries;
        assert_eq!(d.len(), 1, "node {n}");
        assert_eq!(d[0].local_ip, ip("10.0.0.255"));
        assert_eq!(d[0].channel, 9);
        assert_eq!(
            d[0].payload()
                .get_str(b"message")
                .unwrap()
                .as_str()
                .unwrap(),
            "hi"
        );
    }
    // Limited broadcast is local too (Q-PIP2).
    let s = bus.stack(a);
    s.route_add(
        1,
        Route {
            net: net("255.255.255.255/32"),
            action: RouteAction::Broadcast,
            device: Some(Device::new("/back")),
            gateway: None,
        },
    )
    .unwrap();
    let now = bus.now;
    bus.stack(a).send(
        now,
        ip("255.255.255.255"),
        datagram("all"),
        9,
        9,
        SendOptions::default(),
    );
    bus.settle();
    assert_eq!(bus.nodes[1].deliveries.len(), 2);
    assert_eq!(bus.nodes[c].deliveries.len(), 2);
}

/// A (10.0.0.1) — R1 — (10.0.1.0/24) — R2 — B (10.0.2.2): two routers between the hosts.
fn routed() -> Bus {
    let mut bus = Bus::new();
    let a = bus.add(1, false);
    let r1 = bus.add(10, true);
    let r2 = bus.add(20, true);
    let b = bus.add(2, false);
    bus.attach(a, "/m", 0, "10.0.0.1", 24);
    bus.attach(r1, "/r0", 0, "10.0.0.254", 24);
    bus.attach(r1, "/r1", 1, "10.0.1.1", 24);
    bus.attach(r2, "/r1", 1, "10.0.1.2", 24);
    bus.attach(r2, "/r2", 2, "10.0.2.254", 24);
    bus.attach(b, "/m", 2, "10.0.2.2", 24);
    let uni = |n: &str, gw: &str, dev: &str| Route {
        net: net(n),
        action: RouteAction::Unicast,
        device: Some(Device::new(dev)),
        gateway: Some(ip(gw)),
    };
    bus.stack(a)
        .route_add(1, uni("0.0.0.0/0", "10.0.0.254", "/m"))
        .unwrap();
    bus.stack(b)
        .route_add(1, uni("0.0.0.0/0", "10.0.2.254", "/m"))
        .unwrap();
    bus.stack(r1)
        .route_add(1, uni("10.0.2.0/24", "10.0.1.2", "/r1"))
        .unwrap();
    bus.stack(r2)
        .route_add(1, uni("10.0.0.0/24", "10.0.1.1", "/r1"))
        .unwrap();
    bus
}

#[test]
fn two_routers_ping_and_datagram() {
    let mut bus = routed();
    let (a, r1, b) = (0, 1, 3);
    ping(&mut bus, a, "10.0.2.2", "1");
    let pings = bus.controls(b, "ping");
    assert_eq!(pings.len(), 1);
    assert_eq!(
        pings[0].0.as_deref(),
        Some("10.0.0.1"),
        "source kept by routers"
    );
    let pongs = bus.controls(a, "pong");
    assert_eq!(pongs.len(), 1);
    assert_eq!(pongs[0].0.as_deref(), Some("10.0.2.2"));
    // hopsLeft was decremented once per router: 15 → 13 at B.
    assert_eq!(pongs[0].2.get("hopsLeft").as_num(), Some(13.0));
    assert_eq!(bus.stack(r1).stats().forwarded, 2);
    // A datagram on port 9 keeps its channels across both routers.
    bus.open(b, "/m", 9);
    let now = bus.now;
    bus.stack(a).send(
        now,
        ip("10.0.2.2"),
        datagram("via"),
        9,
        50000,
        SendOptions::default(),
    );
    bus.settle();
    let d = &bus.nodes[b].deliveries;
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].channel, d[0].reply_channel), (9, 50000));
    assert_eq!(d[0].source_ip, ip("10.0.0.1"));
    assert_eq!(d[0].source_id, 20, "PLP source is the last router");
    assert_eq!(d[0].packet.hops_left, 13);
}

#[test]
fn hop_exhaustion_sends_timeout_back() {
    let mut bus = routed();
    let (a, r1, b) = (0, 1, 3);
    // hopsLeft 2: R1 forwards with 1, R2 drops and reports.
    let now = bus.now;
    bus.stack(a)
        .netcontrol(now, ip("10.0.2.2"), MessageType::Ping, None, Some(2));
    bus.settle();
    assert!(bus.controls(b, "ping").is_empty());
    let t = bus.controls(a, "timeout");
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].0.as_deref(), Some("10.0.1.2"), "reported by R2");
    assert_eq!(t[0].1.as_deref(), Some("Time to live exceeded"));
    assert_eq!(t[0].2.get("destination").as_str().unwrap(), "10.0.2.2");
    assert_eq!(bus.stack(2).stats().drop_hops_exhausted, 1);
    // hopsLeft 1: the first router drops it.
    let now = bus.now;
    bus.stack(a)
        .netcontrol(now, ip("10.0.2.2"), MessageType::Ping, None, Some(1));
    bus.settle();
    let t = bus.controls(a, "timeout");
    assert_eq!(t.len(), 2);
    assert_eq!(t[1].0.as_deref(), Some("10.0.0.254"));
    assert_eq!(bus.stack(r1).stats().drop_hops_exhausted, 1);
}

#[test]
fn router_reports_unroutable_packets() {
    let mut bus = routed();
    let (a, r1) = (0, 1);
    bus.stack(r1)
        .route_add(
            1,
            Route {
                net: net("10.7.0.0/16"),
                action: RouteAction::Prohibit,
                device: None,
                gateway: None,
            },
        )
        .unwrap();
    ping(&mut bus, a, "10.5.5.5", "1");
    ping(&mut bus, a, "10.7.0.1", "2");
    let un = bus.controls(a, "unreachable");
    assert_eq!(un.len(), 2);
    assert_eq!(
        un[0].0.as_deref(),
        Some("10.0.0.254"),
        "sent by the router over the wire"
    );
    assert_eq!(un[0].1.as_deref(), Some("No route to host"));
    assert_eq!(un[1].1.as_deref(), Some("Prohibited"));
    // The router's error about an error is never sent (no cascades).
    assert_eq!(bus.stack(r1).stats().drop_unroutable, 2);
}

#[test]
fn duplicates_and_malformed_frames_are_dropped_and_counted() {
    let mut bus = segment();
    let b = 1;
    let frame = table! {
        "PhoenixNetworking" => true, "type" => "link", "source" => 1, "destination" => 2,
        "payload" => table! {
            "PhoenixNetworking" => true, "type" => "internet", "source" => "10.0.0.1",
            "destination" => "10.0.0.2", "messageID" => 42, "hopsLeft" => 15,
            "payload" => table! { "PhoenixNetworking" => true, "type" => "control", "messageType" => "pong" }
        }
    };
    let now = bus.now;
    let s = bus.stack(b);
    s.handle_modem_message(now, "/top", 0, 0, &frame);
    s.handle_modem_message(now, "/top", 0, 0, &frame);
    assert_eq!(s.stats().drop_duplicate, 1);
    for bad in [
        Value::from(3),
        table! { "type" => "link" },
        table! { "PhoenixNetworking" => true, "type" => "internet" },
        table! { "PhoenixNetworking" => true, "type" => "link", "source" => "x", "payload" => table!{} },
        table! { "PhoenixNetworking" => true, "type" => "arp", "source" => 1 },
    ] {
        s.handle_modem_message(now, "/top", 0, 0, &bad);
    }
    s.handle_modem_message(now, "/nope", 0, 0, &frame);
    let st = s.stats().clone();
    assert_eq!(st.drop_not_phoenix, 2);
    assert_eq!(st.drop_bad_top_level_type, 1);
    assert_eq!(st.drop_malformed, 2);
    assert_eq!(st.drop_unknown_device, 1);
    // Same messageID again after 30 s is new again (Q-PIP3).
    let later = now + modem_value::Duration::from_secs(30);
    s.handle_modem_message(later, "/top", 0, 0, &frame);
    assert_eq!(s.stats().drop_duplicate, 1);
    bus.settle();
    assert_eq!(bus.controls(b, "pong").len(), 2);
}

#[test]
fn arp_answer_rule_collisions_and_manual_entries() {
    let mut bus = segment();
    let (a, b) = (0, 1);
    bus.log.clear();
    // A probe of B's own address by someone else is not answered, but is a collision.
    let probe = table! { "PhoenixNetworking" => true, "type" => "arp", "reply" => false,
    "source" => 9, "sourceIP" => "10.0.0.2", "destinationIP" => "10.0.0.2" };
    let now = bus.now;
    bus.stack(b).handle_modem_message(now, "/top", 0, 0, &probe);
    bus.settle();
    assert!(bus.sent_by(b, "arp").is_empty());
    assert!(bus.nodes[b]
        .events
        .iter()
        .any(|e| matches!(e, NetEvent::AddressCollision { other: 9, .. })));
    // The self entry is kept.
    assert!(bus
        .stack(b)
        .arp_list("/top")
        .unwrap()
        .contains(&(ip("10.0.0.2"), 2)));
    // Manual set and remove (Q-ARP3); a manual entry is used without ARP.
    bus.stack(a)
        .arp_set("/back", ip("10.0.0.2"), Some(2))
        .unwrap();
    bus.log.clear();
    ping(&mut bus, a, "10.0.0.2", "1");
    assert!(bus.sent_by(a, "arp").is_empty());
    assert_eq!(bus.controls(a, "pong").len(), 1);
    bus.stack(a).arp_set("/back", ip("10.0.0.2"), None).unwrap();
    assert!(!bus
        .stack(a)
        .arp_list("/back")
        .unwrap()
        .iter()
        .any(|e| e.0 == ip("10.0.0.2")));
    let v = bus.stack(b).arp_list_value("/top").unwrap();
    assert_eq!(v.get("10.0.0.1").as_num(), Some(1.0));
    assert_eq!(
        bus.stack(a)
            .arp_set("/x", ip("1.2.3.4"), Some(1))
            .unwrap_err()
            .to_string(),
        "No such device"
    );
}

#[test]
fn hostile_floods_stay_within_bounds() {
    let mut bus = segment();
    let b = 1;
    let now = bus.now;
    let s = bus.stack(b);
    for i in 0..5000u32 {
        let rep = table! { "PhoenixNetworking" => true, "type" => "arp", "reply" => true,
        "source" => i + 100, "sourceIP" => Ipv4Addr::from(0x0a01_0000 + i).to_string(),
        "destination" => 2 };
        s.handle_modem_message(now, "/top", 0, 0, &rep);
        let pkt = table! {
            "PhoenixNetworking" => true, "type" => "link", "source" => 1, "destination" => 2,
            "payload" => table! {
                "PhoenixNetworking" => true, "type" => "internet", "source" => "10.0.0.1",
                "destination" => "10.0.0.77", "messageID" => f64::from(i), "hopsLeft" => 15,
                "payload" => table! {}
            }
        };
        s.handle_modem_message(now, "/top", 0, 0, &pkt);
        assert!(s.arp_len("/top").unwrap() <= pip_core::arp::ARP_CACHE_CAPACITY + 1);
        assert!(s.seen_ids_len() <= pip_core::stack::SEEN_CAPACITY);
    }
    assert!(s.stats().arp_evictions > 0);
    assert!(s.stats().seen_evictions > 0);
    // Sends to thousands of unresolved addresses: bounded pending resolutions.
    for i in 0..1000u32 {
        s.send(
            now,
            Ipv4Addr::from(0x0a00_0000 + (i % 250) + 3),
            Table::new(),
            0,
            0,
            SendOptions::default(),
        );
        assert!(s.pending_resolutions() <= pip_core::stack::MAX_PENDING_RESOLUTIONS);
    }
}

#[test]
fn device_pinned_sends_and_device_removal() {
    let mut bus = segment();
    let a = 0;
    let now = bus.now;
    // Q-PSP14: a send pinned to a device only uses routes on that device.
    bus.stack(a).add_device("/left").unwrap();
    let pinned = SendOptions {
        notify: true,
        device: Some(Device::new("/left")),
        ..SendOptions::default()
    };
    bus.stack(a)
        .send(now, ip("10.0.0.2"), datagram("x"), 0, 0, pinned);
    bus.settle();
    assert_eq!(
        bus.nodes[a].results.last().unwrap().outcome,
        SendOutcome::Failed {
            error: "No route to host"
        }
    );
    // A packet waiting for ARP on a removed device fails with "Network is down"; the device's
    // channel 0 is closed and its routes are gone.
    let opts = SendOptions {
        notify: true,
        ..SendOptions::default()
    };
    bus.stack(a)
        .send(now, ip("10.0.0.77"), datagram("y"), 0, 0, opts);
    bus.settle();
    assert_eq!(bus.stack(a).pending_resolutions(), 1);
    bus.stack(a).remove_device(now, "/back").unwrap();
    bus.settle();
    assert_eq!(bus.stack(a).pending_resolutions(), 0);
    assert_eq!(
        bus.nodes[a].results.last().unwrap().outcome,
        SendOutcome::Failed {
            error: "Network is down"
        }
    );
    assert!(!bus.nodes[a].open.contains(&("/back".to_string(), 0)));
    assert!(bus
        .stack(a)
        .routes()
        .list(0)
        .unwrap()
        .iter()
        .all(|r| r.device.as_ref().is_some_and(|d| d.as_str() == "/lo")));
    assert_eq!(bus.stack(a).poll_timeout(), None);
    assert_eq!(
        bus.stack(a).ipconfig_get("/back").unwrap_err().to_string(),
        "No such device"
    );
}
