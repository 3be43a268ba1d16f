//! Routers on real hosts (docs/stdio-host.md, "Routers"): three `phoenix-net host` processes,
//! two computers on different subnets and a router with two modems, joined by a relay that
//! delivers a transmit only on a channel the receiving modem has open, as a CC modem does. The
//! relay refuses every `hear_all`, so the router forwards with its `--forward-port` channels
//! and the reply channels it holds; ping and a PSP exchange (data both ways, close) cross it.

mod common;

use common::{out_is, text, Host};
use modem_value::{table, Value};

const A: usize = 0;
const B: usize = 1;
const R: usize = 2;

/// The cables: (host, device) pairs that hear each other.
type End = (usize, &'static str);
const LINKS: [(End, End); 2] = [((A, "/top"), (R, "/left")), ((B, "/top"), (R, "/right"))];

fn peer(host: usize, device: &str) -> Option<(usize, &'static str)> {
    LINKS.iter().find_map(|&(x, y)| {
        if x.0 == host && x.1 == device {
            Some(y)
        } else if y.0 == host && y.1 == device {
            Some(x)
        } else {
            None
        }
    })
}

struct Net {
    hosts: [Host; 3],
    events: Vec<(usize, Value)>,
    delivered: usize,
    dropped: usize,
}

impl Net {
    fn run(&mut self, mut pending: Vec<(usize, Value)>) {
        let mut rounds = 0;
        while !pending.is_empty() {
            let (from, v) = pending.remove(0);
            rounds += 1;
            assert!(rounds < 20_000, "relay does not settle");
            if out_is(&v, "event") {
                self.events.push((from, v));
            } else if out_is(&v, "transmit") {
                let Some((to, dev)) = peer(from, &text(v.get("device"))) else {
                    continue;
                };
                let ch = v.get("channel").as_num().unwrap() as u16;
                if !self.hosts[to].open.contains(&(dev.to_string(), ch)) {
                    self.dropped += 1;
                    continue;
                }
                self.delivered += 1;
                let line = table! {"op" => "modem", "device" => dev, "channel" => ch,
                "replyChannel" => v.get("replyChannel").clone(),
                "message" => v.get("message").clone(), "distance" => 8};
                let out = self.hosts[to].send(&line);
                pending.extend(out.into_iter().map(|o| (to, o)));
            }
        }
    }

    fn call(&mut self, h: usize, name: &str, a: Vec<Value>) -> Value {
        let (r, out) = self.hosts[h].call(name, a);
        assert_eq!(r.get("ok"), &Value::Bool(true), "{name}: {r:?}");
        self.run(out.into_iter().map(|o| (h, o)).collect());
        r.get("result").get_key(&Value::from(1)).clone()
    }

    fn method(&mut self, h: usize, handle: &Value, m: &str, a: Vec<Value>) -> Value {
        let (r, out) = self.hosts[h].method(handle, m, a);
        assert_eq!(r.get("ok"), &Value::Bool(true), "{m}: {r:?}");
        self.run(out.into_iter().map(|o| (h, o)).collect());
        r.get("result").get_key(&Value::from(1)).clone()
    }

    fn events(&self, h: usize, name: &str) -> Vec<Value> {
        self.events
            .iter()
            .filter(|(x, e)| *x == h && e.get("name") == &Value::from(name))
            .map(|(_, e)| e.get("params").clone())
            .collect()
    }
}

fn route_via(gw: &str) -> Value {
    table! {"source" => "0.0.0.0", "sourceNetmask" => 0, "action" => "unicast",
    "device" => "/top", "destination" => gw}
}

fn network(router_extra: &[&str]) -> Net {
    let mut router = vec![
        "--id", "3", "--modem", "/left", "--modem", "/right", "--router", "--seed", "3",
    ];
    router.extend_from_slice(router_extra);
    let hosts = [
        Host::start(&["--id", "1", "--modem", "/top", "--seed", "1"]),
        Host::start(&["--id", "2", "--modem", "/top", "--seed", "2"]),
        Host::start(&router),
    ];
    let mut net = Net {
        hosts,
        events: Vec::new(),
        delivered: 0,
        dropped: 0,
    };
    // The router asks to hear every channel of both modems at boot; plain computers do not.
    for d in ["/left", "/right"] {
        assert!(net.hosts[R].hear_all.contains(d), "{:?}", net.hosts[R].boot);
    }
    assert!(net.hosts[A].hear_all.is_empty());
    for d in ["/left", "/right"] {
        let out = net.hosts[R].send(&table! {"op" => "hear_all_refused", "device" => d});
        net.run(out.into_iter().map(|o| (R, o)).collect());
    }
    for (h, dev, ip) in [
        (A, "/top", "10.0.1.2"),
        (B, "/top", "10.0.2.2"),
        (R, "/left", "10.0.1.1"),
        (R, "/right", "10.0.2.1"),
    ] {
        net.call(
            h,
            "ipconfig",
            vec![Value::from(dev), table! {"ip" => ip, "netmask" => 24}],
        );
    }
    net.call(A, "routeadd", vec![route_via("10.0.1.1")]);
    net.call(B, "routeadd", vec![route_via("10.0.2.1")]);
    net
}

#[test]
fn without_forwarded_ports_a_refused_router_passes_ping_but_not_psp() {
    let mut net = network(&[]);
    net.call(B, "listen", vec![Value::from("psp://0.0.0.0:21")]);
    let client = net.call(A, "connect", vec![Value::from("psp://10.0.2.2:21")]);
    let (r, _) = net.hosts[A].method(&client, "status", vec![]);
    assert_eq!(
        r.get("result").get_key(&Value::from(1)),
        &Value::from("connecting")
    );
    assert!(net.events(B, "network_request").is_empty());
    assert!(net.dropped > 0);
}

#[test]
fn ping_and_psp_cross_a_router_whose_host_refuses_hear_all() {
    let mut net = network(&["--forward-port", "21"]);
    for d in ["/left", "/right"] {
        assert!(
            net.hosts[R].open.contains(&(d.to_string(), 21)),
            "the forwarded port is open on {d}: {:?}",
            net.hosts[R].open
        );
    }

    // Ping across the router (PIP control travels on channel 0).
    net.call(A, "netevent", vec![Value::Bool(true)]);
    net.call(
        A,
        "netcontrol",
        vec![
            Value::from("10.0.2.2"),
            Value::from("ping"),
            Value::from("x"),
        ],
    );
    let pongs: Vec<Value> = net
        .events(A, "network_event")
        .into_iter()
        .filter(|p| p.get("messageType") == &Value::from("pong"))
        .collect();
    assert_eq!(pongs.len(), 1, "{:?}", net.events);
    assert_eq!(pongs[0].get("sender"), &Value::from("10.0.2.2"));

    // PSP: the client's SYN travels on channel 21 (a forwarded port); the server's answers on
    // the client's ephemeral port, which the router holds open because it forwarded the SYN
    // with that reply channel.
    net.call(B, "listen", vec![Value::from("psp://0.0.0.0:21")]);
    let client = net.call(A, "connect", vec![Value::from("psp://10.0.2.2:21")]);
    let (r, _) = net.hosts[A].method(&client, "status", vec![]);
    assert_eq!(
        r.get("result").get_key(&Value::from(1)),
        &Value::from("open"),
        "{:?}",
        net.events
    );
    let server = net
        .events(B, "network_request")
        .first()
        .map(|p| p.get("handle").clone())
        .expect("network_request on the server");
    let ephemeral: Vec<u16> = net.hosts[R]
        .open
        .iter()
        .filter(|(d, c)| d == "/right" && *c != 0 && *c != 21)
        .map(|(_, c)| *c)
        .collect();
    assert_eq!(
        ephemeral.len(),
        1,
        "one held reply channel: {:?}",
        net.hosts[R].open
    );

    net.method(A, &client, "write", vec![Value::from("from A")]);
    assert_eq!(
        net.method(B, &server, "read", vec![Value::from("*a")]),
        Value::from("from A")
    );
    net.method(B, &server, "write", vec![Value::from("from B")]);
    assert_eq!(
        net.method(A, &client, "read", vec![Value::from("*a")]),
        Value::from("from B")
    );
    net.method(A, &client, "close", vec![]);
    assert!(
        net.events(B, "handle_status_change")
            .iter()
            .any(|p| p.get("status") == &Value::from("closed")),
        "{:?}",
        net.events
    );
    assert!(net.delivered > 0);
}
