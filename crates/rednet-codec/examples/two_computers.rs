//! Two in-memory computers and a repeater exchange rednet traffic; every transmit and delivery
//! is printed.
//!
//! Alice (ID 1) and Bob (ID 2) have wireless modems out of each other's range; computer 10 runs
//! `repeat` with a modem in range of each. Bob hosts the `chat` protocol as `bob`, Alice looks
//! him up, they exchange messages, Alice broadcasts, and the clock runs on until every dedup
//! set and the repeater's memory have emptied. Seeded, so the transcript is the same on every
//! run.
//!
//! ```text
//! cargo run --release -p rednet-codec --example two_computers
//! ```

use std::fmt::Write as _;

use modem_value::{Duration, LuaStr, SplitMix64, Value};
use rednet_codec::bus::{Bus, BusEvent};
use rednet_codec::{Completion, HostStatus};

fn main() {
    let mut bus: Bus<SplitMix64> = Bus::new();
    let alice = bus.add_computer(1, SplitMix64::new(0xA11CE));
    let bob = bus.add_computer(2, SplitMix64::new(0xB0B));
    let relay = bus.add_computer(10, SplitMix64::new(0x10));
    // Two wireless "networks": the sets of modems in range of each other.
    let (west, east) = (0, 1);
    bus.record();
    let m = bus.add_modem(west);
    bus.attach(alice, m, "back");
    let m = bus.add_modem(east);
    bus.attach(bob, m, "top");
    let m = bus.add_modem(west);
    bus.attach(relay, m, "left");
    let m = bus.add_modem(east);
    bus.attach(relay, m, "right");
    bus.add_repeater(relay, &mut SplitMix64::new(0x5EED));
    bus.record();

    step(
        &mut bus,
        "Alice and Bob open rednet; computer 10 runs `repeat`",
    );
    bus.open(alice, "back").expect("attached");
    bus.open(bob, "top").expect("attached");
    show(&mut bus);

    step(
        &mut bus,
        "Bob: rednet.host(\"chat\", \"bob\") — first checks nobody answers for the name",
    );
    let now = bus.now();
    let status = bus
        .endpoint(bob)
        .host(now, LuaStr::from("chat"), LuaStr::from("bob"))
        .expect("not localhost");
    assert!(matches!(status, HostStatus::Pending(_)));
    bus.run();
    show(&mut bus);
    bus.advance(Duration::from_secs(2));
    show(&mut bus);

    step(&mut bus, "Alice: rednet.lookup(\"chat\", \"bob\")");
    let now = bus.now();
    bus.endpoint(alice)
        .lookup(now, LuaStr::from("chat"), Some(LuaStr::from("bob")))
        .expect("few requests");
    bus.run();
    show(&mut bus);

    step(
        &mut bus,
        "Bob waits in rednet.receive(\"chat\", 5); Alice sends to 2",
    );
    let now = bus.now();
    bus.endpoint(bob)
        .receive(
            now,
            Some(LuaStr::from("chat")),
            Some(Duration::from_secs(5)),
        )
        .expect("few requests");
    bus.advance(Duration::from_millis(250));
    bus.send(alice, 2.0, Value::from("hello, bob!"), Some("chat"))
        .expect("valid recipient");
    show(&mut bus);

    step(&mut bus, "Bob replies; Alice broadcasts");
    bus.advance(Duration::from_millis(500));
    bus.send(bob, 1.0, Value::from("hi alice"), Some("chat"))
        .expect("valid recipient");
    bus.advance(Duration::from_millis(500));
    bus.broadcast(alice, Value::from("anyone out there?"), None)
        .expect("broadcast");
    show(&mut bus);

    step(
        &mut bus,
        "40 s of silence: dedup sets prune every 10 s, the repeater forgets after 30 s",
    );
    bus.advance(Duration::from_secs(40));
    show(&mut bus);
    for (c, name) in [(alice, "Alice"), (bob, "Bob")] {
        let e = bus.endpoint(c);
        println!(
            "  {name}: {} IDs remembered, next timer {:?}, {} delivered, {} ignored",
            e.remembered_ids(),
            e.poll_timeout(),
            e.stats().delivered,
            e.stats().ignored
        );
    }
    let r = bus.repeater(relay).expect("repeater");
    println!(
        "  repeater: {} messages forwarded, {} IDs remembered; {} packets on the air in total",
        r.forwarded(),
        r.remembered_ids(),
        bus.packets()
    );
}

fn step(bus: &mut Bus<SplitMix64>, what: &str) {
    println!("\n== t = {:>6.3} s: {what}", bus.now().as_secs_f64());
}

fn show(bus: &mut Bus<SplitMix64>) {
    for e in bus.take_transcript() {
        match e {
            BusEvent::Transmit {
                at,
                computer,
                modem,
                channel,
                reply_channel,
                payload,
                by_repeater,
            } => {
                let who = if by_repeater { "repeat" } else { "rednet" };
                println!(
                    "  {:>6.3}s  #{computer:<2} {who} tx on {modem:<5} ch {channel:>5} reply {reply_channel:>5}  {}",
                    at.as_secs_f64(),
                    lua(&payload)
                );
            }
            BusEvent::Channel {
                at,
                computer,
                modem,
                channel,
                open,
                by_repeater,
            } => {
                let who = if by_repeater { "repeat" } else { "rednet" };
                let what = if open { "open " } else { "close" };
                println!(
                    "  {:>6.3}s  #{computer:<2} {who} {what} on {modem:<5} ch {channel:>5}",
                    at.as_secs_f64()
                );
            }
            BusEvent::Delivered {
                at,
                computer,
                message,
            } => println!(
                "  {:>6.3}s  #{computer:<2} rednet_message  from {} {} protocol {}",
                at.as_secs_f64(),
                lua(&Value::Num(message.sender)),
                lua(&message.message),
                lua(&message.protocol)
            ),
            BusEvent::Completed {
                at,
                computer,
                completion,
            } => {
                let what = match completion {
                    Completion::Received {
                        message: Some(m), ..
                    } => {
                        format!(
                            "receive returned {} {}",
                            lua(&Value::Num(m.sender)),
                            lua(&m.message)
                        )
                    }
                    Completion::Received { message: None, .. } => "receive timed out".to_string(),
                    Completion::LookedUp { hosts, .. } => format!("lookup returned {hosts:?}"),
                    Completion::Hosted { result, .. } => match result {
                        Ok(()) => "host succeeded".to_string(),
                        Err(e) => format!("host failed: {e}"),
                    },
                };
                println!("  {:>6.3}s  #{computer:<2} {what}", at.as_secs_f64());
            }
        }
    }
}

/// A value as a Lua table constructor.
fn lua(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("{:?}", s.to_string_lossy()),
        Value::Table(t) => {
            let mut out = String::from("{");
            for (i, (k, v)) in t.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match k {
                    Value::Str(s) => out.push_str(&s.to_string_lossy()),
                    other => {
                        let _ = write!(out, "[{}]", lua(other));
                    }
                }
                let _ = write!(out, "={}", lua(v));
            }
            out.push('}');
            out
        }
        other => other.to_lua_string().to_string_lossy(),
    }
}
