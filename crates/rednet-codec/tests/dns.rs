//! `rednet.host`, `unhost`, `lookup` and the DNS responder (spec §5, §7).

use modem_value::{table, Duration, Instant, LuaStr, SplitMix64, Value};
use rednet_codec::bus::Bus;
use rednet_codec::{Completion, Endpoint, HostStatus, ModemId, ModemOp, RednetError, RequestId};

fn s(x: &str) -> LuaStr {
    LuaStr::from(x)
}

/// Three computers (IDs 1, 2, 3) on one wireless network, rednet open everywhere.
fn net() -> (Bus<SplitMix64>, [usize; 3]) {
    let mut bus = Bus::new();
    let cs = [1u32, 2, 3].map(|id| bus.add_computer(id, SplitMix64::new(u64::from(id) * 77)));
    for &c in &cs {
        let m = bus.add_modem(0);
        bus.attach(c, m, "top");
        bus.open(c, "top").unwrap();
    }
    (bus, cs)
}

fn lookup(bus: &mut Bus<SplitMix64>, c: usize, protocol: &str, host: Option<&str>) -> RequestId {
    let now = bus.now();
    let id = bus
        .endpoint(c)
        .lookup(now, s(protocol), host.map(s))
        .unwrap();
    bus.run();
    id
}

fn looked_up(bus: &mut Bus<SplitMix64>, c: usize) -> Vec<(RequestId, Vec<f64>)> {
    bus.take_completions(c)
        .into_iter()
        .map(|x| match x {
            Completion::LookedUp { id, hosts } => (id, hosts),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

#[test]
fn errors_have_the_exact_strings() {
    assert_eq!(
        RednetError::ReservedHostname.to_string(),
        "Reserved hostname"
    );
    assert_eq!(RednetError::HostnameInUse.to_string(), "Hostname in use");
}

#[test]
fn localhost_is_reserved() {
    let mut e = Endpoint::new(1, SplitMix64::new(1));
    assert_eq!(
        e.host(Instant::ZERO, s("chat"), s("localhost")),
        Err(RednetError::ReservedHostname)
    );
    assert_eq!(e.hostname(&s("chat")), None);
}

#[test]
fn host_with_rednet_closed_records_at_once_and_lookup_answers_locally() {
    let mut e = Endpoint::new(4, SplitMix64::new(1));
    assert_eq!(
        e.host(Instant::ZERO, s("chat"), s("alice")),
        Ok(HostStatus::Hosted)
    );
    assert_eq!(e.hostname(&s("chat")), Some(&s("alice")));
    // Hosting again under the same name is a no-op.
    assert_eq!(
        e.host(Instant::ZERO, s("chat"), s("alice")),
        Ok(HostStatus::Hosted)
    );
    for h in [None, Some("alice"), Some("localhost")] {
        let id = e.lookup(Instant::ZERO, s("chat"), h.map(s)).unwrap();
        assert_eq!(
            e.poll_completion(),
            Some(Completion::LookedUp {
                id,
                hosts: vec![4.0]
            })
        );
    }
    // Closed, other name: no answer, nothing broadcast.
    let id = e.lookup(Instant::ZERO, s("chat"), Some(s("bob"))).unwrap();
    assert_eq!(
        e.poll_completion(),
        Some(Completion::LookedUp { id, hosts: vec![] })
    );
    assert!(e.poll_modem_op().is_none());
    assert_eq!(e.unhost(&s("chat")), Some(s("alice")));
    let id = e.lookup(Instant::ZERO, s("chat"), None).unwrap();
    assert_eq!(
        e.poll_completion(),
        Some(Completion::LookedUp { id, hosts: vec![] })
    );
}

#[test]
fn lookup_broadcasts_the_exact_query() {
    let mut e = Endpoint::new(4, SplitMix64::new(1));
    let top = ModemId::from("top");
    e.attach_modem(top.clone());
    e.open(&top).unwrap();
    while e.poll_modem_op().is_some() {}
    let _ = e.lookup(Instant::ZERO, s("chat"), Some(s("bob"))).unwrap();
    let Some(ModemOp::Transmit(t)) = e.poll_modem_op() else {
        panic!()
    };
    assert_eq!(t.channel, 65535);
    assert_eq!(t.payload.get("sProtocol"), &Value::from("dns"));
    assert_eq!(t.payload.get("nRecipient"), &Value::from(65535));
    assert_eq!(
        t.payload.get("message"),
        &table! { "sType" => "lookup", "sProtocol" => "chat", "sHostname" => "bob" }
    );
    assert_eq!(e.poll_timeout(), Some(Instant::from_secs(2)));
}

#[test]
fn lookup_without_hostname_collects_for_two_seconds() {
    let (mut bus, [a, b, c]) = net();
    for (x, name) in [(b, "bob"), (c, "carol")] {
        let now = bus.now();
        assert!(matches!(
            bus.endpoint(x).host(now, s("chat"), s(name)),
            Ok(HostStatus::Pending(_))
        ));
        bus.run();
    }
    bus.advance(Duration::from_secs(2));
    for x in [b, c] {
        assert!(matches!(
            bus.take_completions(x)[..],
            [Completion::Hosted { result: Ok(()), .. }]
        ));
    }
    let q = lookup(&mut bus, a, "chat", None);
    // The answers are in, but the window is still open.
    assert!(bus.take_completions(a).is_empty());
    bus.advance(Duration::from_millis(1999));
    assert!(bus.take_completions(a).is_empty());
    bus.advance(Duration::from_millis(1));
    assert_eq!(looked_up(&mut bus, a), [(q, vec![2.0, 3.0])]);
    // Other protocols get no answers.
    let q = lookup(&mut bus, a, "mail", None);
    bus.advance(Duration::from_secs(2));
    assert_eq!(looked_up(&mut bus, a), [(q, vec![])]);
}

#[test]
fn lookup_with_hostname_returns_the_first_match_at_once() {
    let (mut bus, [a, b, c]) = net();
    let now = bus.now();
    bus.endpoint(b).host(now, s("chat"), s("bob")).unwrap();
    bus.endpoint(c).host(now, s("chat"), s("carol")).unwrap();
    bus.run();
    bus.advance(Duration::from_secs(3));
    let _ = (bus.take_completions(b), bus.take_completions(c));
    let q = lookup(&mut bus, a, "chat", Some("carol"));
    assert_eq!(looked_up(&mut bus, a), [(q, vec![3.0])]);
    let q = lookup(&mut bus, a, "chat", Some("dave"));
    bus.advance(Duration::from_secs(2));
    assert_eq!(looked_up(&mut bus, a), [(q, vec![])]);
    // The host itself answers for its own name locally, even with peers around.
    let q = lookup(&mut bus, b, "chat", Some("bob"));
    assert_eq!(looked_up(&mut bus, b), [(q, vec![2.0])]);
    // Own ID first for a hostname-less lookup of a protocol it hosts.
    let q = lookup(&mut bus, b, "chat", None);
    bus.advance(Duration::from_secs(2));
    assert_eq!(looked_up(&mut bus, b), [(q, vec![2.0, 3.0])]);
}

#[test]
fn host_fails_when_another_computer_has_the_name() {
    let (mut bus, [a, b, _]) = net();
    let now = bus.now();
    bus.endpoint(b).host(now, s("chat"), s("bob")).unwrap();
    bus.advance(Duration::from_secs(2));
    let _ = bus.take_completions(b);
    let now = bus.now();
    let HostStatus::Pending(req) = bus.endpoint(a).host(now, s("chat"), s("bob")).unwrap() else {
        panic!("rednet is open: the name must be checked")
    };
    bus.run();
    let done = bus.take_completions(a);
    assert_eq!(
        done,
        [Completion::Hosted {
            id: req,
            result: Err(RednetError::HostnameInUse)
        }]
    );
    assert_eq!(bus.endpoint(a).hostname(&s("chat")), None);
    // After b unhosts, the name is free.
    bus.endpoint(b).unhost(&s("chat"));
    let now = bus.now();
    bus.endpoint(a).host(now, s("chat"), s("bob")).unwrap();
    bus.advance(Duration::from_secs(2));
    assert!(matches!(
        bus.take_completions(a)[..],
        [Completion::Hosted { result: Ok(()), .. }]
    ));
    assert_eq!(bus.endpoint(a).hostname(&s("chat")), Some(&s("bob")));
}

#[test]
fn responder_answers_only_matching_queries() {
    let mut e = Endpoint::new(9, SplitMix64::new(1));
    let top = ModemId::from("top");
    e.attach_modem(top.clone());
    e.host(Instant::ZERO, s("chat"), s("nine")).unwrap();
    e.open(&top).unwrap();
    while e.poll_modem_op().is_some() {}
    let query = |id: u32, q: Value| {
        table! { "nMessageID" => id, "nRecipient" => 65535, "nSender" => 4, "message" => q, "sProtocol" => "dns" }
    };
    let answers = |e: &mut Endpoint<SplitMix64>| -> Vec<Value> {
        core::iter::from_fn(|| e.poll_modem_op())
            .filter_map(|op| match op {
                ModemOp::Transmit(t) if t.channel != 65533 => Some(t.payload),
                _ => None,
            })
            .collect()
    };
    let now = Instant::ZERO;
    let _ = e.handle_modem_message(
        now,
        &top,
        65535,
        4,
        &query(1, table! { "sType" => "lookup", "sProtocol" => "chat" }),
    );
    let got = answers(&mut e);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].get("nRecipient"), &Value::from(4));
    assert_eq!(got[0].get("sProtocol"), &Value::from("dns"));
    assert_eq!(
        got[0].get("message"),
        &table! { "sType" => "lookup response", "sHostname" => "nine", "sProtocol" => "chat" }
    );
    let _ = e.handle_modem_message(
        now,
        &top,
        65535,
        4,
        &query(
            2,
            table! { "sType" => "lookup", "sProtocol" => "chat", "sHostname" => "nine" },
        ),
    );
    assert_eq!(answers(&mut e).len(), 1);
    for (i, q) in [
        table! { "sType" => "lookup", "sProtocol" => "chat", "sHostname" => "other" },
        table! { "sType" => "lookup", "sProtocol" => "mail" },
        table! { "sType" => "lookup response", "sProtocol" => "chat" },
        Value::from("lookup"),
    ]
    .into_iter()
    .enumerate()
    {
        let _ = e.handle_modem_message(now, &top, 65535, 4, &query(10 + i as u32, q));
        assert!(answers(&mut e).is_empty());
    }
    // Not on protocol "dns": no answer.
    let v = table! { "nMessageID" => 50, "nRecipient" => 65535, "nSender" => 4, "message" => table! { "sType" => "lookup", "sProtocol" => "chat" } };
    let _ = e.handle_modem_message(now, &top, 65535, 4, &v);
    assert!(answers(&mut e).is_empty());
    // A forged sender without a channel gets no answer and breaks nothing.
    let v = table! { "nMessageID" => 51, "nRecipient" => 65535, "nSender" => 0.5, "message" => table! { "sType" => "lookup", "sProtocol" => "chat" }, "sProtocol" => "dns" };
    let _ = e.handle_modem_message(now, &top, 65535, 4, &v);
    assert!(answers(&mut e).is_empty());
}

#[test]
fn a_computer_answers_its_own_loopback_lookup() {
    // ID 65535 broadcasts to itself: lookup → own responder → loopback answer → collected.
    let mut e = Endpoint::new(65_535, SplitMix64::new(1));
    let top = ModemId::from("top");
    e.attach_modem(top.clone());
    e.host(Instant::ZERO, s("chat"), s("me")).unwrap();
    e.open(&top).unwrap();
    let q = e.lookup(Instant::ZERO, s("chat"), None).unwrap();
    e.handle_timeout(Instant::from_secs(2));
    assert_eq!(
        e.poll_completion(),
        Some(Completion::LookedUp {
            id: q,
            hosts: vec![65535.0, 65535.0]
        })
    );
}

#[test]
fn requests_are_bounded_and_cancellable() {
    let config = rednet_codec::EndpointConfig {
        max_requests: 2,
        ..Default::default()
    };
    let mut e = Endpoint::with_config(1, config, SplitMix64::new(1));
    let r1 = e.receive(Instant::ZERO, None, None).unwrap();
    let _ = e
        .receive(Instant::ZERO, None, Some(Duration::from_secs(1)))
        .unwrap();
    assert_eq!(
        e.receive(Instant::ZERO, None, None),
        Err(RednetError::TooManyRequests)
    );
    assert!(e.cancel(r1) && !e.cancel(r1));
    assert_eq!(e.pending_requests(), 1);
}
