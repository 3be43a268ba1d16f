//! Host-provided TCP (docs/stdio-host.md, "Host-provided TCP"): two `phoenix-net host --no-tcp`
//! processes whose TCP the test plays from their `tcp_*` lines alone. A client program's HTTP
//! GET reaches a server program's `listen("http://…")` and gets its answer; a WebSocket client
//! and a server program echo a message and close.

mod common;

use std::collections::BTreeMap;

use common::{args, out_is, text, Host};
use modem_value::{table, Value};

/// The test's TCP network: listeners by (host index, port), connections paired across hosts.
#[derive(Default)]
struct Net {
    listeners: BTreeMap<(usize, u16), u64>,
    /// (host, conn) → (other host, its conn).
    pairs: BTreeMap<(usize, u64), (usize, u64)>,
    events: Vec<(usize, Value)>,
    listen_addresses: Vec<String>,
}

fn num(v: &Value, f: &str) -> u64 {
    v.get(f).as_num().unwrap_or_else(|| panic!("{f} in {v:?}")) as u64
}

impl Net {
    /// Carries out every `tcp_*` request in `pending` (and the ones their answers cause).
    fn run(&mut self, hosts: &mut [Host; 2], mut pending: Vec<(usize, Value)>) {
        let mut rounds = 0;
        while !pending.is_empty() {
            let (from, v) = pending.remove(0);
            rounds += 1;
            assert!(rounds < 10_000, "TCP relay does not settle");
            let mut to_send: Vec<(usize, Value)> = Vec::new();
            if out_is(&v, "event") {
                self.events.push((from, v));
            } else if out_is(&v, "tcp_listen") {
                self.listen_addresses.push(text(v.get("address")));
                let port = num(&v, "port") as u16;
                self.listeners.insert((from, port), num(&v, "listener"));
            } else if out_is(&v, "tcp_unlisten") {
                let l = num(&v, "listener");
                self.listeners.retain(|k, id| !(k.0 == from && *id == l));
            } else if out_is(&v, "tcp_connect") {
                let conn = num(&v, "conn");
                let to = 1 - from;
                let port = num(&v, "port") as u16;
                assert_eq!(v.get("tls"), &Value::Bool(false));
                match self.listeners.get(&(to, port)).copied() {
                    Some(listener) => {
                        let out = hosts[to].send(&table! {"op" => "tcp_accept",
                            "listener" => listener, "peer" => "10.9.0.1"});
                        let acc = out
                            .iter()
                            .find(|l| out_is(l, "tcp_accepted"))
                            .unwrap_or_else(|| panic!("tcp_accepted in {out:?}"));
                        assert_eq!(num(acc, "listener"), listener);
                        let theirs = num(acc, "conn");
                        self.pairs.insert((from, conn), (to, theirs));
                        self.pairs.insert((to, theirs), (from, conn));
                        pending.extend(out.into_iter().map(|o| (to, o)));
                        to_send.push((from, table! {"op" => "tcp_connected", "conn" => conn}));
                    }
                    None => to_send.push((
                        from,
                        table! {"op" => "tcp_failed", "conn" => conn, "kind" => "could_not_connect"},
                    )),
                }
            } else if out_is(&v, "tcp_send") {
                if let Some(&(to, c)) = self.pairs.get(&(from, num(&v, "conn"))) {
                    to_send.push((
                        to,
                        table! {"op" => "tcp_data", "conn" => c, "data" => v.get("data").clone()},
                    ));
                }
            } else if out_is(&v, "tcp_close") {
                if let Some((to, c)) = self.pairs.remove(&(from, num(&v, "conn"))) {
                    self.pairs.remove(&(to, c));
                    to_send.push((to, table! {"op" => "tcp_closed", "conn" => c}));
                }
            }
            for (to, line) in to_send {
                let out = hosts[to].send(&line);
                pending.extend(out.into_iter().map(|o| (to, o)));
            }
        }
    }

    fn take_events(&mut self, host: usize, name: &str) -> Vec<Value> {
        let mut found = Vec::new();
        self.events.retain(|(h, e)| {
            if *h == host && e.get("name") == &Value::from(name) {
                found.push(e.get("params").clone());
                false
            } else {
                true
            }
        });
        found
    }
}

fn hosts() -> [Host; 2] {
    [
        Host::start(&["--id", "1", "--seed", "1"]),
        Host::start(&["--id", "2", "--seed", "2"]),
    ]
}

fn result(r: &Value) -> Value {
    assert_eq!(r.get("ok"), &Value::Bool(true), "{r:?}");
    r.get("result").clone()
}

fn first(r: &Value) -> Value {
    result(r).get_key(&Value::from(1)).clone()
}

#[test]
fn an_http_get_reaches_a_programs_listen_through_host_tcp_lines() {
    let mut h = hosts();
    let mut net = Net::default();
    let (r, out) = h[1].call("listen", vec![Value::from("http://127.0.0.1:8080")]);
    assert_eq!(result(&r), args(vec![]), "an empty result is []");
    net.run(&mut h, out.into_iter().map(|o| (1, o)).collect());
    // Q: listen binds what the URI names; loopback stays loopback.
    assert_eq!(net.listen_addresses, vec!["127.0.0.1".to_string()]);

    let (r, out) = h[0].call(
        "connect",
        vec![Value::from("http://server.test:8080/greeting")],
    );
    let client = first(&r);
    net.run(&mut h, out.into_iter().map(|o| (0, o)).collect());
    let (_, out) = h[0].method(&client, "write", vec![]);
    net.run(&mut h, out.into_iter().map(|o| (0, o)).collect());

    let req = net.take_events(1, "network_request");
    assert_eq!(req.len(), 1, "{:?}", net.events);
    assert_eq!(req[0].get("ip"), &Value::from("10.9.0.1"));
    let server = req[0].get("handle").clone();
    let (r, _) = h[1].method(&server, "path", vec![]);
    assert_eq!(first(&r), Value::from("/greeting"));
    let (_, out) = h[1].method(&server, "write", vec![Value::from("hello over lines")]);
    net.run(&mut h, out.into_iter().map(|o| (1, o)).collect());
    let (_, out) = h[1].method(&server, "close", vec![]);
    net.run(&mut h, out.into_iter().map(|o| (1, o)).collect());

    let st = net.take_events(0, "handle_status_change");
    assert!(
        st.iter().any(|p| p.get("status") == &Value::from("open")),
        "{st:?} {:?}",
        net.events
    );
    let (r, _) = h[0].method(&client, "read", vec![Value::from("*a")]);
    assert_eq!(first(&r), Value::from("hello over lines"));
    let (r, _) = h[0].method(&client, "responseCode", vec![]);
    assert_eq!(result(&r), args(vec![Value::from(200), Value::from("OK")]));
}

#[test]
fn a_websocket_echo_runs_over_host_tcp_lines() {
    let mut h = hosts();
    let mut net = Net::default();
    let (r, out) = h[1].call("listen", vec![Value::from("ws://0.0.0.0:8081")]);
    result(&r);
    net.run(&mut h, out.into_iter().map(|o| (1, o)).collect());
    assert_eq!(net.listen_addresses, vec!["0.0.0.0".to_string()]);

    let (r, out) = h[0].call(
        "connect",
        vec![table! {"url" => "ws://server.test:8081/echo", "encoding" => "utf8"}],
    );
    let client = first(&r);
    net.run(&mut h, out.into_iter().map(|o| (0, o)).collect());
    let (r, _) = h[0].method(&client, "status", vec![]);
    assert_eq!(first(&r), Value::from("open"), "{:?}", net.events);
    let req = net.take_events(1, "network_request");
    assert_eq!(req.len(), 1, "{:?}", net.events);
    let server = req[0].get("handle").clone();

    let (_, out) = h[0].method(&client, "write", vec![Value::from("ping \u{e9}")]);
    net.run(&mut h, out.into_iter().map(|o| (0, o)).collect());
    let (r, _) = h[1].method(&server, "read", vec![Value::from("*a")]);
    let got = first(&r);
    assert_eq!(got, Value::from("ping \u{e9}"));
    let (_, out) = h[1].method(&server, "write", vec![got]);
    net.run(&mut h, out.into_iter().map(|o| (1, o)).collect());
    let (r, _) = h[0].method(&client, "read", vec![Value::from("*a")]);
    assert_eq!(first(&r), Value::from("ping \u{e9}"));

    let (_, out) = h[0].method(&client, "close", vec![]);
    net.run(&mut h, out.into_iter().map(|o| (0, o)).collect());
    let st = net.take_events(1, "handle_status_change");
    assert!(
        st.iter().any(|p| p.get("status") == &Value::from("closed")),
        "{st:?}"
    );
    assert!(
        net.pairs.is_empty(),
        "every connection closed: {:?}",
        net.pairs
    );
}

#[test]
fn a_refused_connect_fails_with_ccs_message() {
    let mut h = hosts();
    let mut net = Net::default();
    let (r, out) = h[0].call("connect", vec![Value::from("http://nobody.test:9/")]);
    let client = first(&r);
    net.run(&mut h, out.into_iter().map(|o| (0, o)).collect());
    let (_, out) = h[0].method(&client, "write", vec![]);
    net.run(&mut h, out.into_iter().map(|o| (0, o)).collect());
    let st = net.take_events(0, "handle_status_change");
    assert!(
        st.iter()
            .any(|p| p.get("error") == &Value::from("Could not connect")),
        "{st:?}"
    );
}

#[test]
fn an_accept_on_an_unknown_listener_is_rejected() {
    let mut h = Host::start(&["--id", "3"]);
    let out = h.send(&table! {"op" => "tcp_accept", "listener" => 41, "peer" => "10.0.0.9"});
    assert_eq!(
        out[0],
        table! {"out" => "tcp_rejected", "listener" => 41},
        "{out:?}"
    );
    let out = h.send(&table! {"op" => "tcp_failed", "conn" => 1, "kind" => "sideways"});
    assert!(out_is(&out[0], "error"), "{out:?}");
}

/// docs/stdio-host.md, `tcp_listen_failed`: the host reports that it could not listen; the
/// program gets `listen_failed{uri, error}`, `unlisten` then asks for nothing, and a second
/// `listen` on the same URI is accepted with a fresh listener id.
#[test]
fn a_failed_listen_raises_listen_failed_and_frees_the_uri() {
    let mut h = Host::start(&["--id", "1"]);
    let uri = "http://127.0.0.1:8080";
    let listener_of = |out: &[Value]| {
        let l = out
            .iter()
            .find(|o| out_is(o, "tcp_listen"))
            .unwrap_or_else(|| panic!("tcp_listen in {out:?}"));
        num(l, "listener")
    };
    let (r, out) = h.call("listen", vec![Value::from(uri)]);
    result(&r);
    let first = listener_of(&out);

    let out = h.send(&table! {"op" => "tcp_listen_failed", "listener" => first,
    "error" => "Address already in use"});
    let ev = out
        .iter()
        .find(|o| out_is(o, "event"))
        .unwrap_or_else(|| panic!("an event in {out:?}"));
    assert_eq!(ev.get("name"), &Value::from("listen_failed"));
    assert_eq!(ev.get("params").get("uri"), &Value::from(uri));
    assert_eq!(
        ev.get("params").get("error"),
        &Value::from("Address already in use")
    );

    let (r, out) = h.call("unlisten", vec![Value::from(uri)]);
    result(&r);
    assert!(
        !out.iter().any(|o| out_is(o, "tcp_unlisten")),
        "no stale listener to stop: {out:?}"
    );
    let (r, out) = h.call("listen", vec![Value::from(uri)]);
    result(&r);
    assert_ne!(listener_of(&out), first);

    let out = h.send(&table! {"op" => "tcp_listen_failed", "listener" => first});
    assert!(out_is(&out[0], "error"), "missing error field: {out:?}");
}
