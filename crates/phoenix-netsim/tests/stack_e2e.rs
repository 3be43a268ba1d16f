//! End-to-end tests of whole Phoenix stacks (syscall-api) on the simulated medium: each
//! protocol through the syscall and handle-method path, with exact outcomes.

use modem_value::{table, Duration, Value};
use phoenix_netsim::{EventRecord, Medium, ModemKind, NodeId, Position, World};
use syscall_api::{ComputerConfig, NetworkStack};

const ROOT: bool = true;

/// Two computers (IDs 1 and 2) 10 blocks apart, `/top` configured as 10.0.0.1/24 and
/// 10.0.0.2/24, HTTP host names `a.sim` and `b.sim`.
fn pair() -> (World, NodeId, NodeId) {
    let mut w = World::new(Medium::new());
    let a = w.add_computer(
        ComputerConfig::new(1, &[]),
        &[("/top", ModemKind::Wireless(Position::new(0.0, 64.0, 0.0)))],
        "a.sim",
        11,
    );
    let b = w.add_computer(
        ComputerConfig::new(2, &[]),
        &[("/top", ModemKind::Wireless(Position::new(10.0, 64.0, 0.0)))],
        "b.sim",
        22,
    );
    for (n, ip) in [(a, "10.0.0.1"), (b, "10.0.0.2")] {
        w.syscall(
            n,
            1,
            ROOT,
            "ipconfig",
            &[Value::from("/top"), table! {"ip" => ip, "netmask" => 24}],
        )
        .unwrap();
    }
    (w, a, b)
}

fn events_named<'a>(w: &'a World, node: NodeId, name: &str) -> Vec<&'a EventRecord> {
    w.events()
        .iter()
        .filter(|e| e.node == node && e.name == name)
        .collect()
}

fn id_of(v: &[Value]) -> u64 {
    v[0].as_num().expect("a handle id") as u64
}

#[test]
fn ipconfig_round_trip_and_errors() {
    let (mut w, a, _) = pair();
    let got = w
        .syscall(a, 5, false, "ipconfig", &[Value::from("/top")])
        .unwrap();
    assert_eq!(
        got,
        vec![table! {"ip" => "10.0.0.1", "netmask" => 24, "up" => true}]
    );
    let e = w
        .syscall(
            a,
            5,
            false,
            "ipconfig",
            &[Value::from("/top"), table! {"up" => false}],
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "Permission denied");
    let e = w
        .syscall(a, 5, ROOT, "ipconfig", &[Value::from("/nope")])
        .unwrap_err();
    assert_eq!(e.to_string(), "No such device");
    let e = w
        .syscall(
            a,
            5,
            ROOT,
            "ipconfig",
            &[Value::from("/top"), table! {"ip" => "300.1.1.1"}],
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "Invalid IP address");
}

#[test]
fn ping_gets_a_pong_with_the_echoed_packet() {
    let (mut w, a, _) = pair();
    assert_eq!(
        w.syscall(a, 1, ROOT, "netevent", &[Value::Bool(true)])
            .unwrap(),
        vec![Value::Bool(true)]
    );
    w.syscall(
        a,
        1,
        ROOT,
        "netcontrol",
        &[
            Value::from("10.0.0.2"),
            Value::from("ping"),
            Value::from("7"),
        ],
    )
    .unwrap();
    w.run_for(Duration::from_secs(3));
    let pongs: Vec<_> = events_named(&w, a, "network_event")
        .into_iter()
        .filter(|e| e.params.get("messageType") == &Value::from("pong"))
        .collect();
    assert_eq!(pongs.len(), 1, "{:?}", w.events());
    let p = &pongs[0].params;
    assert_eq!(p.get("sender"), &Value::from("10.0.0.2"));
    // The pong's payload is the whole ping packet; its payload's error is our sequence text.
    assert_eq!(
        p.get("payload").get("payload").get("error"),
        &Value::from("7")
    );
}

#[test]
fn unreachable_host_is_reported_after_the_arp_timeout() {
    let (mut w, a, _) = pair();
    w.syscall(a, 1, ROOT, "netevent", &[Value::Bool(true)])
        .unwrap();
    w.syscall(
        a,
        1,
        ROOT,
        "netcontrol",
        &[Value::from("10.0.0.9"), Value::from("ping")],
    )
    .unwrap();
    w.run_for(Duration::from_millis(1900));
    assert!(events_named(&w, a, "network_event").is_empty());
    w.run_for(Duration::from_millis(200));
    let ev = events_named(&w, a, "network_event");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].params.get("messageType"), &Value::from("unreachable"));
    assert_eq!(ev[0].params.get("error"), &Value::from("No route to host"));
    assert_eq!(ev[0].params.get("sender"), &Value::Nil);
}

#[test]
fn psp_connection_carries_data_both_ways_and_closes() {
    let (mut w, a, b) = pair();
    w.syscall(b, 1, false, "listen", &[Value::from("psp://0.0.0.0:21")])
        .unwrap();
    let c = id_of(
        &w.syscall(a, 1, false, "connect", &[Value::from("psp://10.0.0.2:21")])
            .unwrap(),
    );
    // The medium is instant, so ARP, SYN, SYN-ACK and ACK all happened within the call.
    assert_eq!(
        w.method(a, 1, c, "status", &[]).unwrap(),
        vec![Value::from("open")]
    );
    let opened = events_named(&w, a, "handle_status_change");
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0].params, table! {"id" => c, "status" => "open"});
    let req = events_named(&w, b, "network_request");
    assert_eq!(req.len(), 1);
    assert_eq!(req[0].params.get("uri"), &Value::from("psp://0.0.0.0:21"));
    assert_eq!(req[0].params.get("ip"), &Value::from("10.0.0.1"));
    let s = req[0].params.get("handle").as_num().unwrap() as u64;

    w.method(a, 1, c, "write", &[Value::from("hello\n"), Value::from(42)])
        .unwrap();
    w.run_for(Duration::from_secs(1));
    assert_eq!(
        w.method(b, 1, s, "read", &[Value::from("*l"), Value::from("*n")])
            .unwrap(),
        vec![Value::from("hello"), Value::from(42)]
    );
    w.method(b, 1, s, "write", &[Value::from("pong")]).unwrap();
    w.run_for(Duration::from_secs(1));
    assert_eq!(
        w.method(a, 1, c, "read", &[Value::from("*a")]).unwrap(),
        vec![Value::from("pong")]
    );
    assert_eq!(
        w.method(a, 1, c, "localIP", &[]).unwrap(),
        vec![Value::from("10.0.0.1")]
    );

    w.method(a, 1, c, "close", &[]).unwrap();
    w.run_for(Duration::from_secs(15));
    let closed = events_named(&w, b, "handle_status_change");
    assert!(
        closed
            .iter()
            .any(|e| e.params == table! {"id" => s, "status" => "closed"}),
        "{closed:?}"
    );
    assert_eq!(
        w.method(b, 1, s, "status", &[]).unwrap(),
        vec![Value::from("closed")]
    );
    let e = w.method(b, 1, s, "write", &[Value::from("x")]).unwrap_err();
    assert!(e.to_string().starts_with("attempt to write to a"), "{e}");
}

#[test]
fn psp_to_a_closed_port_times_out() {
    // Nobody has channel 99 open at B, so the SYN is never heard (as on a real modem).
    let (mut w, a, _) = pair();
    w.enable_trace();
    let c = id_of(
        &w.syscall(a, 1, false, "connect", &[Value::from("psp://10.0.0.2:99")])
            .unwrap(),
    );
    w.run_for(Duration::from_millis(4900));
    assert_eq!(
        w.method(a, 1, c, "status", &[]).unwrap(),
        vec![Value::from("connecting")]
    );
    w.run_for(Duration::from_millis(200));
    assert_eq!(
        w.method(a, 1, c, "status", &[]).unwrap(),
        vec![
            Value::from("error"),
            Value::from("Connection timed out (syn-sent)")
        ]
    );
    let ev = events_named(&w, a, "handle_status_change");
    assert_eq!(ev.len(), 1);
    assert_eq!(
        ev[0].params.get("error"),
        &Value::from("Connection timed out (syn-sent)")
    );
    // Q-PSP6: the SYN was sent twice (at 0 s and 2 s), on channel 99 from an ephemeral port.
    let syns: Vec<_> = w
        .trace()
        .iter()
        .filter(|t| {
            t.message.get("payload").get("payload").get("synchronize") == &Value::Bool(true)
        })
        .collect();
    assert_eq!(syns.len(), 2);
    assert!(syns
        .iter()
        .all(|t| t.channel == 99 && t.reply_channel >= 49152));
}

#[test]
fn pdp_datagrams_create_pseudo_handles() {
    let (mut w, a, b) = pair();
    w.syscall(b, 1, false, "listen", &[Value::from("pdp://0.0.0.0:53")])
        .unwrap();
    let c = id_of(
        &w.syscall(a, 1, false, "connect", &[Value::from("pdp://10.0.0.2:53")])
            .unwrap(),
    );
    w.method(
        a,
        1,
        c,
        "write",
        &[table! {"q" => "x"}, Value::from("ignored")],
    )
    .unwrap();
    w.run_for(Duration::from_secs(3));
    let req = events_named(&w, b, "network_request");
    assert_eq!(req.len(), 1);
    assert_eq!(req[0].params.get("uri"), &Value::from("pdp://0.0.0.0:53"));
    let p = req[0].params.get("handle").as_num().unwrap() as u64;
    assert_eq!(
        w.method(b, 1, p, "read", &[]).unwrap(),
        vec![table! {"q" => "x"}]
    );
    assert_eq!(w.method(b, 1, p, "read", &[]).unwrap(), vec![Value::Nil]);
    w.method(b, 1, p, "write", &[Value::from("answer")])
        .unwrap();
    w.run_for(Duration::from_secs(1));
    assert_eq!(
        w.method(a, 1, c, "read", &[]).unwrap(),
        vec![Value::from("answer")]
    );
}

#[test]
fn rednet_handles_send_receive_and_broadcast() {
    let (mut w, a, b) = pair();
    let to_b = id_of(
        &w.syscall(
            a,
            1,
            false,
            "connect",
            &[Value::from("rednet+chat://0.0.0.2")],
        )
        .unwrap(),
    );
    let any = id_of(
        &w.syscall(
            b,
            1,
            false,
            "connect",
            &[Value::from("rednet://255.255.255.255")],
        )
        .unwrap(),
    );
    let chat_only = id_of(
        &w.syscall(
            b,
            1,
            false,
            "connect",
            &[Value::from("rednet+other://0.0.0.1")],
        )
        .unwrap(),
    );
    w.method(a, 1, to_b, "write", &[Value::from("hi"), table! {"n" => 1}])
        .unwrap();
    w.run_for(Duration::from_millis(100));
    assert_eq!(
        w.method(b, 1, any, "read", &[Value::from("*a"), Value::from("*a")])
            .unwrap(),
        vec![Value::from("hi"), table! {"n" => 1}]
    );
    // Wrong protocol: nothing for this handle.
    assert_eq!(
        w.method(b, 1, chat_only, "read", &[Value::from("*a")])
            .unwrap(),
        vec![Value::Nil]
    );
    // The wire format is CC:Tweaked's: nRecipient is the full ID.
    w.enable_trace();
    let bc = id_of(
        &w.syscall(
            a,
            1,
            false,
            "connect",
            &[Value::from("rednet://255.255.255.255")],
        )
        .unwrap(),
    );
    w.method(a, 1, bc, "write", &[Value::from("all")]).unwrap();
    let t = &w.trace()[0];
    assert_eq!((t.channel, t.reply_channel), (65535, 1));
    assert_eq!(t.message.get("nRecipient"), &Value::from(65535)); // Q-RN2
    w.method(a, 1, bc, "close", &[]).unwrap();
    assert_eq!(
        w.method(a, 1, bc, "status", &[]).unwrap(),
        vec![Value::from("closed")]
    );
}

#[test]
fn root_only_syscalls_refuse_other_users() {
    let (mut w, a, _) = pair();
    for (name, args) in [
        (
            "routeadd",
            vec![table! {"source" => "0.0.0.0", "sourceNetmask" => 0, "action" => "blackhole"}],
        ),
        ("routedel", vec![Value::from("0.0.0.0/0")]),
        (
            "arpset",
            vec![Value::from("/top"), Value::from("10.0.0.5"), Value::from(5)],
        ),
        (
            "arpadd",
            vec![Value::from("/top"), Value::from("10.0.0.5"), Value::from(5)],
        ),
        ("arpdel", vec![Value::from("/top"), Value::from("10.0.0.5")]),
        (
            "netcontrol",
            vec![Value::from("10.0.0.2"), Value::from("ping")],
        ),
        ("netevent", vec![]),
    ] {
        let e = w.syscall(a, 7, false, name, &args).unwrap_err();
        assert_eq!(e.to_string(), "Permission denied", "{name}");
        assert!(w.syscall(a, 7, ROOT, name, &args).is_ok(), "{name} as root");
    }
}

#[test]
fn routes_and_arp_through_syscalls() {
    let (mut w, a, _) = pair();
    let add = |g: &str| table! {"source" => "192.168.0.0", "sourceNetmask" => 16, "action" => "unicast", "device" => "/top", "destination" => g};
    w.syscall(a, 1, ROOT, "routeadd", &[add("10.0.0.2")])
        .unwrap();
    let e = w
        .syscall(a, 1, ROOT, "routeadd", &[add("10.0.0.3")])
        .unwrap_err();
    assert_eq!(e.to_string(), "Route already exists");
    let e = w
        .syscall(
            a,
            1,
            ROOT,
            "routeadd",
            &[table! {"source" => "1.0.0.0", "sourceNetmask" => 8, "action" => "teleport"}],
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "bad field 'action' (invalid option 'teleport')"
    );
    let list = w.syscall(a, 1, false, "routelist", &[]).unwrap();
    assert_eq!(
        list[0].get_key(&Value::from(1)),
        &table! {"source" => "192.168.0.0", "sourceNetmask" => 16, "action" => "unicast", "device" => "/top", "destination" => "10.0.0.2"}
    );
    w.syscall(a, 1, ROOT, "routedel", &[Value::from("192.168.0.0/16")])
        .unwrap();
    assert_eq!(
        w.syscall(a, 1, false, "routelist", &[]).unwrap(),
        vec![Value::Table(Default::default())]
    );
    assert_eq!(
        w.syscall(a, 1, false, "routelist", &[Value::from(7)])
            .unwrap(),
        vec![Value::Nil]
    );
    let e = w
        .syscall(
            a,
            1,
            ROOT,
            "routedel",
            &[Value::from("1.0.0.0/8"), Value::Nil, Value::from(7)],
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "Route table does not exist");

    w.syscall(
        a,
        1,
        ROOT,
        "arpset",
        &[Value::from("/top"), Value::from("10.0.0.7"), Value::from(7)],
    )
    .unwrap();
    let arp = w
        .syscall(a, 1, false, "arplist", &[Value::from("/top")])
        .unwrap();
    assert_eq!(arp[0].get("10.0.0.7"), &Value::from(7));
    w.syscall(
        a,
        1,
        ROOT,
        "arpdel",
        &[Value::from("/top"), Value::from("10.0.0.7")],
    )
    .unwrap();
    let arp = w
        .syscall(a, 1, false, "arplist", &[Value::from("/top")])
        .unwrap();
    assert_eq!(arp[0].get("10.0.0.7"), &Value::Nil);
}

#[test]
fn handles_are_private_to_their_process_tree() {
    let (mut w, a, b) = pair();
    w.syscall(b, 1, false, "listen", &[Value::from("psp://0.0.0.0:21")])
        .unwrap();
    w.computer_mut(a).spawn_process(1, None);
    w.computer_mut(a).spawn_process(2, Some(1));
    w.computer_mut(a).spawn_process(3, None);
    let c = id_of(
        &w.syscall(a, 1, false, "connect", &[Value::from("psp://10.0.0.2:21")])
            .unwrap(),
    );
    w.run_for(Duration::from_secs(1));
    // A child may use it; an unrelated process may not even see it.
    assert_eq!(
        w.method(a, 2, c, "status", &[]).unwrap(),
        vec![Value::from("open")]
    );
    for m in ["status", "read", "write", "close", "transfer"] {
        let e = w.method(a, 3, c, m, &[]).unwrap_err();
        assert_eq!(e.to_string(), "No such socket", "{m}");
    }
    // Events go to the owner only.
    assert!(w
        .events()
        .iter()
        .filter(|e| e.node == a)
        .all(|e| e.pid == 1));
    // transfer moves ownership to the child; the parent is then an outsider.
    w.method(a, 2, c, "transfer", &[]).unwrap();
    assert_eq!(
        w.method(a, 1, c, "status", &[]).unwrap_err().to_string(),
        "No such socket"
    );
    assert!(w.method(a, 2, c, "status", &[]).is_ok());
    // The listen record became the connection; the server listens again (Phoenix's
    // re-listen pattern), and that record cannot be removed by another process.
    w.syscall(b, 1, false, "listen", &[Value::from("psp://0.0.0.0:21")])
        .unwrap();
    w.computer_mut(b).spawn_process(9, None);
    let e = w
        .syscall(b, 9, false, "unlisten", &[Value::from("psp://0.0.0.0:21")])
        .unwrap_err();
    assert_eq!(e.to_string(), "Port open in another process");
}

#[test]
fn uri_and_argument_errors() {
    let (mut w, a, _) = pair();
    let cases: &[(&str, &[Value], &str)] = &[
        (
            "connect",
            &[Value::from("gopher://x")],
            "Invalid protocol gopher",
        ),
        ("connect", &[Value::from("not a uri")], "Invalid URI"),
        (
            "connect",
            &[Value::from("psp://10.0.0.2")],
            "No port specified",
        ),
        (
            "connect",
            &[Value::from(5)],
            "bad argument #1 (expected string or table, got number)",
        ),
        ("connect", &[table! {"url" => "rednet://"}], "Missing host"),
        (
            "connect",
            &[table! {"url" => "rednet://0.0.0.2", "device" => "/nope"}],
            "No such device",
        ),
        ("listen", &[Value::from("psp://0.0.0.0")], "Missing port"),
        (
            "listen",
            &[Value::from("psp://10.9.9.9:5")],
            "Address not available",
        ),
        (
            "listen",
            &[Value::from("rednet://0.0.0.1")],
            "Invalid protocol rednet",
        ),
        (
            "netevent",
            &[Value::from("x")],
            "bad argument #1 (expected boolean, got string)",
        ),
    ];
    for (name, args, want) in cases {
        let e = w.syscall(a, 1, ROOT, name, args).unwrap_err();
        assert_eq!(e.to_string(), *want, "{name} {args:?}");
    }
    w.syscall(a, 1, false, "listen", &[Value::from("psp://0.0.0.0:5")])
        .unwrap();
    let e = w
        .syscall(a, 1, false, "listen", &[Value::from("psp://0.0.0.0:5")])
        .unwrap_err();
    assert_eq!(e.to_string(), "Port already open");
    // Q-PSP11: unlisten of an idle port is silent.
    w.syscall(a, 1, false, "unlisten", &[Value::from("psp://0.0.0.0:6")])
        .unwrap();
    for (uri, ok) in [
        ("psp://10.0.0.2:21", true),
        ("psp://10.0.0.2", false),
        ("pdp://1.2.3.999:5", false),
        ("rednet://0.0.0.4", true),
        ("rednet:", false),
        ("http://example.com/", true),
        ("gopher://x", false),
    ] {
        assert_eq!(
            w.syscall(a, 1, false, "checkuri", &[Value::from(uri)])
                .unwrap(),
            vec![Value::Bool(ok)],
            "{uri}"
        );
    }
}

#[test]
fn http_request_served_by_listen_inside_the_simulation() {
    let (mut w, a, b) = pair();
    w.syscall(b, 1, false, "listen", &[Value::from("http://b.sim:8080")])
        .unwrap();
    let h = id_of(
        &w.syscall(
            a,
            1,
            false,
            "connect",
            &[Value::from("http://b.sim:8080/hello?x=1")],
        )
        .unwrap(),
    );
    assert_eq!(
        w.method(a, 1, h, "status", &[]).unwrap(),
        vec![Value::from("ready")]
    );
    w.method(a, 1, h, "write", &[]).unwrap();
    w.run_for(Duration::from_millis(10));
    let req = events_named(&w, b, "network_request");
    assert_eq!(req.len(), 1, "{:?}", w.events());
    let r = req[0].params.get("handle").as_num().unwrap() as u64;
    assert_eq!(
        w.method(b, 1, r, "method", &[]).unwrap(),
        vec![Value::from("GET")]
    );
    assert_eq!(
        w.method(b, 1, r, "path", &[]).unwrap(),
        vec![Value::from("/hello?x=1")]
    );
    w.method(b, 1, r, "setResponseCode", &[Value::from(201)])
        .unwrap();
    w.method(b, 1, r, "write", &[Value::from("made it")])
        .unwrap();
    w.method(b, 1, r, "close", &[]).unwrap();
    w.run_for(Duration::from_millis(10));
    assert_eq!(
        w.method(a, 1, h, "status", &[]).unwrap(),
        vec![Value::from("open")]
    );
    assert_eq!(
        w.method(a, 1, h, "responseCode", &[]).unwrap(),
        vec![Value::from(201), Value::from("Created")]
    );
    assert_eq!(
        w.method(a, 1, h, "read", &[Value::from("*a")]).unwrap(),
        vec![Value::from("made it")]
    );
}

#[test]
fn phoenix_rednet_reaches_craftos_through_a_repeater_and_answers_dns() {
    let mut w = World::new(Medium::new());
    let at = |x: f64| ModemKind::Wireless(Position::new(x, 64.0, 0.0));
    let a = w.add_computer(
        ComputerConfig::new(1, &[]),
        &[("/top", at(0.0))],
        "a.sim",
        1,
    );
    w.add_repeater(2, &[("top", at(50.0))], 2);
    let c = w.add_craftos(3, &[("back", at(100.0))], 3);
    let now = w.now();
    w.computer_mut(a).rednet_host(now, "chat", "alice").unwrap();
    let h = id_of(
        &w.syscall(
            a,
            1,
            false,
            "connect",
            &[Value::from("rednet+chat://0.0.0.3")],
        )
        .unwrap(),
    );
    w.method(a, 1, h, "write", &[Value::from("hello")]).unwrap();
    w.run_for(Duration::from_millis(100));
    let inbox = w.take_rednet_inbox(c);
    assert_eq!(
        inbox.len(),
        1,
        "exactly once through the repeater: {inbox:?}"
    );
    assert_eq!(
        (inbox[0].sender, &inbox[0].message),
        (1.0, &Value::from("hello"))
    );
    assert_eq!(inbox[0].protocol, Value::from("chat"));

    // CraftOS answers on the Phoenix handle's protocol; Phoenix receives it once.
    let now = w.now();
    w.craftos_mut(c)
        .unwrap()
        .send(now, 1.0, Value::from("hi back"), Some("chat".into()))
        .unwrap();
    w.flush();
    w.run_for(Duration::from_millis(100));
    assert_eq!(
        w.method(a, 1, h, "read", &[Value::from("*a"), Value::from("*a")])
            .unwrap(),
        vec![Value::from("hi back"), Value::Nil]
    );

    // rednet.lookup from CraftOS finds the Phoenix host through the repeater (Q-RN3).
    let now = w.now();
    w.craftos_mut(c)
        .unwrap()
        .lookup(now, "chat".into(), None)
        .unwrap();
    w.flush();
    w.run_for(Duration::from_secs(3));
    let done = w.take_completions(c);
    assert_eq!(done.len(), 1);
    match &done[0] {
        rednet_codec::Completion::LookedUp { hosts, .. } => assert_eq!(hosts, &vec![1.0]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn more_syscall_paths_and_errors() {
    let (mut w, a, b) = pair();
    // netevent: root may query; the answer is the caller's own state.
    assert_eq!(
        w.syscall(a, 3, ROOT, "netevent", &[]).unwrap(),
        vec![Value::Bool(false)]
    );
    // ipconfig with a dotted netmask; down and up again toggle channel 0 on the modem.
    let got = w
        .syscall(
            a,
            1,
            ROOT,
            "ipconfig",
            &[
                Value::from("/top"),
                table! {"netmask" => "255.255.0.0", "up" => false},
            ],
        )
        .unwrap();
    assert_eq!(
        got,
        vec![table! {"ip" => "10.0.0.1", "netmask" => 16, "up" => false}]
    );
    assert!(!w.medium().is_open(phoenix_netsim::ModemId(0), 0));
    w.syscall(
        a,
        1,
        ROOT,
        "ipconfig",
        &[Value::from("/top"), table! {"up" => true, "netmask" => 24}],
    )
    .unwrap();
    assert!(w.medium().is_open(phoenix_netsim::ModemId(0), 0));
    // The loopback interface is configured at boot.
    assert_eq!(
        w.syscall(a, 1, false, "ipconfig", &[Value::from("/lo")])
            .unwrap(),
        vec![table! {"ip" => "127.0.0.1", "netmask" => 8, "up" => true}]
    );
    let cases: &[(&str, &[Value], &str)] = &[
        (
            "routelist",
            &[Value::from(-1)],
            "bad argument #1 (number out of range)",
        ),
        (
            "routeadd",
            &[Value::from("x")],
            "bad argument #1 (expected table, got string)",
        ),
        (
            "routeadd",
            &[table! {"source" => "1.0.0.0", "sourceNetmask" => 8, "action" => "local"}],
            "bad field 'device' (expected string, got nil)",
        ),
        (
            "routeadd",
            &[
                table! {"source" => "1.0.0.0", "sourceNetmask" => 8, "action" => "unicast", "device" => "/top"},
            ],
            "bad field 'destination' (expected string, got nil)",
        ),
        (
            "routeadd",
            &[
                table! {"source" => "1.0.0.0", "sourceNetmask" => 8, "action" => "local", "device" => "/nope"},
            ],
            "No such device",
        ),
        (
            "arpset",
            &[
                Value::from("/top"),
                Value::from("10.0.0.300"),
                Value::from(3),
            ],
            "Invalid IP address",
        ),
        ("arplist", &[Value::from("/nope")], "No such device"),
        (
            "netcontrol",
            &[Value::from("10.0.0.2"), Value::from("shout")],
            "bad argument #2 (invalid option 'shout')",
        ),
        (
            "connect",
            &[Value::from("pdp://10.0.0.2")],
            "No port specified",
        ),
        (
            "connect",
            &[Value::from("psp://10.0.0.2:70000")],
            "Invalid URI",
        ),
        (
            "connect",
            &[Value::from("psp://10.0.0.2:0")],
            "Invalid port",
        ),
        ("unlisten", &[Value::from("psp://0.0.0.0")], "Missing port"),
        ("teleport", &[], "No such syscall: teleport"),
    ];
    for (name, args, want) in cases {
        let e = w.syscall(a, 1, ROOT, name, args).unwrap_err();
        assert_eq!(e.to_string(), *want, "{name} {args:?}");
    }
    // arpset with a nil id removes the entry (Q-ARP3).
    w.syscall(
        a,
        1,
        ROOT,
        "arpset",
        &[Value::from("/top"), Value::from("10.0.0.9"), Value::from(9)],
    )
    .unwrap();
    w.syscall(
        a,
        1,
        ROOT,
        "arpset",
        &[Value::from("/top"), Value::from("10.0.0.9")],
    )
    .unwrap();
    let arp = w
        .syscall(a, 1, false, "arplist", &[Value::from("/top")])
        .unwrap();
    assert_eq!(arp[0].get("10.0.0.9"), &Value::Nil);
    // Methods: unknown ones, and rednet handles after close.
    let h = id_of(
        &w.syscall(b, 1, false, "connect", &[Value::from("rednet://0.0.0.1")])
            .unwrap(),
    );
    assert_eq!(
        w.method(b, 1, h, "fly", &[]).unwrap_err().to_string(),
        "No such method"
    );
    w.method(b, 1, h, "close", &[]).unwrap();
    assert_eq!(
        w.method(b, 1, h, "read", &[]).unwrap_err().to_string(),
        "attempt to read from a closed handle"
    );
    assert_eq!(
        w.method(b, 1, h, "close", &[]).unwrap_err().to_string(),
        "attempt to close a closed handle"
    );
    // Read modes are checked.
    let h = id_of(
        &w.syscall(b, 1, false, "connect", &[Value::from("rednet://0.0.0.1")])
            .unwrap(),
    );
    assert_eq!(
        w.method(b, 1, h, "read", &[Value::from("*x")])
            .unwrap_err()
            .to_string(),
        "bad argument (invalid mode '*x')"
    );
}

#[test]
fn computer_without_modems_cannot_use_rednet() {
    let mut w = World::new(Medium::new());
    let a = w.add_computer(ComputerConfig::new(1, &[]), &[], "a.sim", 1);
    let e = w
        .syscall(a, 1, false, "connect", &[Value::from("rednet://0.0.0.2")])
        .unwrap_err();
    assert_eq!(e.to_string(), "Could not find a modem");
    // HTTP/WS servers are CraftOS-PC's extension: off, the schemes are not served.
    let mut cfg = ComputerConfig::new(2, &[]);
    cfg.http_server = false;
    let b = w.add_computer(cfg, &[], "b.sim", 2);
    let e = w
        .syscall(b, 1, false, "listen", &[Value::from("http://b.sim:80")])
        .unwrap_err();
    assert_eq!(e.to_string(), "Invalid protocol http");
}

#[test]
fn websocket_inside_the_simulation() {
    let (mut w, a, b) = pair();
    w.syscall(b, 1, false, "listen", &[Value::from("ws://b.sim:81")])
        .unwrap();
    let c = id_of(
        &w.syscall(
            a,
            1,
            false,
            "connect",
            &[table! {"url" => "ws://b.sim:81/chat", "encoding" => "utf8"}],
        )
        .unwrap(),
    );
    w.run_for(Duration::from_millis(10));
    assert_eq!(
        w.method(a, 1, c, "status", &[]).unwrap(),
        vec![Value::from("open")]
    );
    let req = events_named(&w, b, "network_request");
    assert_eq!(req.len(), 1, "{:?}", w.events());
    assert_eq!(req[0].params.get("uri"), &Value::from("ws://b.sim:81"));
    let s = req[0].params.get("handle").as_num().unwrap() as u64;
    w.method(
        a,
        1,
        c,
        "write",
        &[Value::from("ping\n"), Value::from("two")],
    )
    .unwrap();
    w.run_for(Duration::from_millis(10));
    assert_eq!(
        w.method(b, 1, s, "read", &[Value::from("*l"), Value::from("*a")])
            .unwrap(),
        vec![Value::from("ping"), Value::from("two")]
    );
    w.method(b, 1, s, "write", &[Value::from("pong")]).unwrap();
    w.run_for(Duration::from_millis(10));
    assert_eq!(
        w.method(a, 1, c, "read", &[Value::from("*a")]).unwrap(),
        vec![Value::from("pong")]
    );
    w.method(a, 1, c, "close", &[]).unwrap();
    w.run_for(Duration::from_millis(10));
    let st = events_named(&w, b, "handle_status_change");
    assert!(
        st.iter()
            .any(|e| e.params.get("status") == &Value::from("closed")),
        "{st:?}"
    );
}
