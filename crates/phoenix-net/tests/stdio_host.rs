//! `phoenix-net host` as a process: malformed lines are answered with errors and the host keeps
//! going; two hosts joined by a small relay (the test plays the modems) complete a PSP exchange.

use modem_value::{table, Value};

mod common;

use common::Host;

/// A host of the two-computer tests: `--id N --modem /top --seed N` in the default real-TCP mode.
fn start(id: u32, extra: &[&str]) -> Host {
    let id = id.to_string();
    let mut a = vec![
        "--id",
        id.as_str(),
        "--modem",
        "/top",
        "--seed",
        id.as_str(),
    ];
    a.extend_from_slice(extra);
    let h = Host::start_mode(&a, false);
    assert_eq!(h.boot[0].get("protocol"), &Value::from(1), "{:?}", h.boot);
    h
}

/// Plays the modems: every transmit of one host reaches the other if it has the channel open.
/// Returns every event seen, as (host index, event).
fn relay(hosts: &mut [Host; 2], pending: Vec<(usize, Value)>) -> Vec<(usize, Value)> {
    relay_logged(hosts, pending, &mut Vec::new())
}

/// [`relay`], also collecting every modem message each host sent.
fn relay_logged(
    hosts: &mut [Host; 2],
    mut pending: Vec<(usize, Value)>,
    sent: &mut Vec<(usize, Value)>,
) -> Vec<(usize, Value)> {
    let mut events = Vec::new();
    let mut rounds = 0;
    while let Some((from, v)) = pending.pop() {
        rounds += 1;
        assert!(rounds < 10_000, "relay does not settle");
        match v
            .get("out")
            .as_str()
            .map(|s| s.to_string_lossy())
            .as_deref()
        {
            Some("event") => events.push((from, v)),
            Some("transmit") => {
                sent.push((from, v.get("message").clone()));
                let to = 1 - from;
                let ch = v.get("channel").as_num().unwrap() as u16;
                if hosts[to].open.contains(&("/top".to_string(), ch)) {
                    let line = table! {"op" => "modem", "device" => "/top", "channel" => ch,
                    "replyChannel" => v.get("replyChannel").clone(), "message" => v.get("message").clone(),
                    "distance" => 4};
                    let out = hosts[to].send(&line);
                    pending.extend(out.into_iter().map(|o| (to, o)));
                }
            }
            _ => {}
        }
    }
    events
}

#[test]
fn malformed_lines_are_answered_and_the_host_keeps_going() {
    let mut h = start(1, &[]);
    for bad in [
        "nonsense",
        "[1,2]",
        r#"{"op":"fly"}"#,
        r#"{"op":"modem","device":"/top","channel":70000,"replyChannel":0}"#,
    ] {
        let out = h.send_raw(bad);
        assert_eq!(out[0].get("out"), &Value::from("error"), "{bad}: {out:?}");
    }
    let (r, _) = h.call_with_id(9, "ipconfig", vec![Value::from("/nope")]);
    assert_eq!(
        r,
        table! {"out" => "reply", "id" => 9, "ok" => false, "error" => "No such device"}
    );
    let (r, _) = h.call_with_id(10, "ipconfig", vec![Value::from("/lo")]);
    assert_eq!(
        r.get("result"),
        &Value::Table(modem_value::Table::array([
            table! {"ip" => "127.0.0.1", "netmask" => 8, "up" => true}
        ]))
    );
}

#[test]
fn two_hosts_joined_by_a_relay_complete_a_psp_exchange() {
    let mut hosts = [start(1, &[]), start(2, &[])];
    let mut pending = Vec::new();
    for (i, ip) in [(0, "10.0.0.1"), (1, "10.0.0.2")] {
        let (r, out) = hosts[i].call_with_id(
            1,
            "ipconfig",
            vec![Value::from("/top"), table! {"ip" => ip, "netmask" => 24}],
        );
        assert_eq!(r.get("ok"), &Value::Bool(true));
        pending.extend(out.into_iter().map(|o| (i, o)));
    }
    relay(&mut hosts, pending);
    let (r, out) = hosts[1].call_with_id(2, "listen", vec![Value::from("psp://0.0.0.0:21")]);
    assert_eq!(r.get("ok"), &Value::Bool(true), "{r:?}");
    relay(&mut hosts, out.into_iter().map(|o| (1, o)).collect());
    let (r, out) = hosts[0].call_with_id(3, "connect", vec![Value::from("psp://10.0.0.2:21")]);
    let handle = r
        .get("result")
        .get_key(&Value::from(1))
        .as_num()
        .expect("a handle");
    let events = relay(&mut hosts, out.into_iter().map(|o| (0, o)).collect());
    assert!(
        events
            .iter()
            .any(|(h, e)| *h == 0 && e.get("params").get("status") == &Value::from("open")),
        "{events:?}"
    );
    let server = events
        .iter()
        .find(|(h, e)| *h == 1 && e.get("name") == &Value::from("network_request"))
        .map(|(_, e)| e.get("params").get("handle").as_num().unwrap())
        .expect("network_request on the server");
    let (r, out) = hosts[0].method(
        &Value::from(handle),
        "write",
        vec![Value::from("hello over stdio")],
    );
    assert_eq!(r.get("ok"), &Value::Bool(true));
    relay(&mut hosts, out.into_iter().map(|o| (0, o)).collect());
    let (r, _) = hosts[1].method(&Value::from(server), "read", vec![Value::from("*a")]);
    assert_eq!(
        r.get("result"),
        &Value::Table(modem_value::Table::array([Value::from("hello over stdio")]))
    );
}

/// `--psp-selective-ack` reaches the stack: the client's SYN offers selective acknowledgements
/// and the server's SYN-ACK answers the offer; without the flag neither carries the field.
#[test]
fn psp_selective_ack_flag_offers_and_answers_in_the_handshake() {
    for flag in [true, false] {
        let extra: &[&str] = if flag { &["--psp-selective-ack"] } else { &[] };
        let mut hosts = [start(1, extra), start(2, extra)];
        let mut pending = Vec::new();
        for (i, ip) in [(0, "10.0.0.1"), (1, "10.0.0.2")] {
            let (_, out) = hosts[i].call_with_id(
                1,
                "ipconfig",
                vec![Value::from("/top"), table! {"ip" => ip, "netmask" => 24}],
            );
            pending.extend(out.into_iter().map(|o| (i, o)));
        }
        relay(&mut hosts, pending);
        let (_, out) = hosts[1].call_with_id(2, "listen", vec![Value::from("psp://0.0.0.0:21")]);
        relay(&mut hosts, out.into_iter().map(|o| (1, o)).collect());
        let (_, out) = hosts[0].call_with_id(3, "connect", vec![Value::from("psp://10.0.0.2:21")]);
        let mut sent = Vec::new();
        relay_logged(
            &mut hosts,
            out.into_iter().map(|o| (0, o)).collect(),
            &mut sent,
        );
        let socket = |m: &Value| m.get("payload").get("payload").clone();
        let syns: Vec<(usize, Value)> = sent
            .iter()
            .map(|(h, m)| (*h, socket(m)))
            .filter(|(_, s)| s.get("synchronize") == &Value::Bool(true))
            .collect();
        assert_eq!(syns.len(), 2, "{sent:?}");
        for (h, s) in &syns {
            assert_eq!(
                s.get("selectiveAcknowledgementPermitted"),
                &if flag { Value::Bool(true) } else { Value::Nil },
                "host {h}: {s:?}"
            );
        }
    }
}
