//! Rednet for CraftOS computers through the stdio protocol (docs/stdio-host.md, "Rednet for
//! CraftOS computers"): `rednet.host` waits 2 s for a conflicting answer, `rednet.lookup` with a
//! hostname returns at the first answer and without one after exactly 2 s, `unhost` stops the
//! answers, and a computer running `repeat` carries lookups between two modem networks.

mod common;

use common::{out_is, text, Host};
use modem_value::{table, Value};

/// Which (host, device) pairs share a modem network.
struct Net {
    hosts: Vec<Host>,
    networks: Vec<Vec<(usize, &'static str)>>,
    /// `rednet_done` lines seen, by host.
    done: Vec<(usize, Value)>,
    now: u64,
}

impl Net {
    fn run(&mut self, mut pending: Vec<(usize, Value)>) {
        let mut rounds = 0;
        while !pending.is_empty() {
            let (from, v) = pending.remove(0);
            rounds += 1;
            assert!(rounds < 20_000, "relay does not settle");
            if out_is(&v, "rednet_done") {
                self.done.push((from, v));
            } else if out_is(&v, "transmit") {
                let dev = text(v.get("device"));
                let ch = v.get("channel").as_num().unwrap() as u16;
                let Some(net) = self
                    .networks
                    .iter()
                    .find(|n| n.iter().any(|&(h, d)| h == from && d == dev))
                else {
                    continue;
                };
                let targets: Vec<(usize, &str)> =
                    net.iter().copied().filter(|&(h, _)| h != from).collect();
                for (to, d) in targets {
                    if !self.hosts[to].open.contains(&(d.to_string(), ch)) {
                        continue;
                    }
                    let line = table! {"op" => "modem", "device" => d, "channel" => ch,
                    "replyChannel" => v.get("replyChannel").clone(),
                    "message" => v.get("message").clone(), "distance" => 5};
                    let out = self.hosts[to].send(&line);
                    pending.extend(out.into_iter().map(|o| (to, o)));
                }
            }
        }
    }

    /// A `rednet` call on host `h`; returns its reply.
    fn rednet(&mut self, h: usize, id: u32, call: Value) -> Value {
        let mut line = call;
        if let Value::Table(t) = &mut line {
            t.set("op", Value::from("rednet"));
            t.set("id", Value::from(id));
        }
        let out = self.hosts[h].send(&line);
        let r = out
            .iter()
            .find(|o| out_is(o, "reply"))
            .cloned()
            .unwrap_or_else(|| panic!("a reply in {out:?}"));
        self.run(out.into_iter().map(|o| (h, o)).collect());
        r
    }

    /// Moves every host's clock to `at` ms.
    fn time(&mut self, at: u64) {
        self.now = at;
        for h in 0..self.hosts.len() {
            let out = self.hosts[h].send(&table! {"op" => "time", "at" => at});
            self.run(out.into_iter().map(|o| (h, o)).collect());
        }
    }

    fn take_done(&mut self, h: usize, id: u32) -> Option<Value> {
        let i = self
            .done
            .iter()
            .position(|(x, v)| *x == h && v.get("id") == &Value::from(id))?;
        Some(self.done.remove(i).1)
    }
}

fn ok(r: &Value) {
    assert_eq!(r.get("ok"), &Value::Bool(true), "{r:?}");
}

fn ids(done: &Value) -> Value {
    assert_eq!(done.get("ok"), &Value::Bool(true), "{done:?}");
    done.get("result").clone()
}

fn arr(v: Vec<f64>) -> Value {
    Value::Table(modem_value::Table::array(v.into_iter().map(Value::Num)))
}

fn start(n: u32, modems: &[&[&str]]) -> Vec<Host> {
    (0..n)
        .map(|i| {
            let id = (i + 1).to_string();
            // Distinct seeds: rednet message IDs are random, and a repeated one is dropped.
            let mut a = vec!["--id", id.as_str(), "--seed", id.as_str()];
            for m in modems[i as usize] {
                a.extend(["--modem", m]);
            }
            Host::start(&a)
        })
        .collect()
}

#[test]
fn host_lookup_and_unhost_follow_rednet_lua_timing() {
    let hosts = start(3, &[&["/top"], &["/top"], &["/top"]]);
    let mut net = Net {
        hosts,
        networks: vec![vec![(0, "/top"), (1, "/top"), (2, "/top")]],
        done: Vec::new(),
        now: 0,
    };
    for h in 0..3 {
        ok(&net.rednet(h, 1, table! {"call" => "open", "modem" => "/top"}));
    }
    // rednet.host: the name is recorded after a 2 s lookup nobody answers.
    ok(&net.rednet(
        1,
        2,
        table! {"call" => "host", "protocol" => "chat", "hostname" => "bob"},
    ));
    net.time(1999);
    assert!(
        net.take_done(1, 2).is_none(),
        "host returns after 2 s, not before"
    );
    net.time(2000);
    assert_eq!(
        ids(&net.take_done(1, 2).expect("host done at 2 s")),
        arr(vec![])
    );

    // rednet.lookup with a hostname returns at the first answer, without waiting.
    ok(&net.rednet(
        0,
        3,
        table! {"call" => "lookup", "protocol" => "chat", "hostname" => "bob"},
    ));
    assert_eq!(
        ids(&net.take_done(0, 3).expect("early return")),
        arr(vec![2.0])
    );

    // Without a hostname it collects for exactly 2 s.
    ok(&net.rednet(0, 4, table! {"call" => "lookup", "protocol" => "chat"}));
    net.time(3999);
    assert!(net.take_done(0, 4).is_none());
    net.time(4000);
    assert_eq!(
        ids(&net.take_done(0, 4).expect("done at 2 s")),
        arr(vec![2.0])
    );

    // A second computer cannot take the name: B answers the check.
    ok(&net.rednet(
        2,
        5,
        table! {"call" => "host", "protocol" => "chat", "hostname" => "bob"},
    ));
    let d = net.take_done(2, 5).expect("conflict reported at once");
    assert_eq!(d.get("ok"), &Value::Bool(false));
    assert_eq!(d.get("error"), &Value::from("Hostname in use"));
    // localhost is reserved.
    let r = net.rednet(
        2,
        6,
        table! {"call" => "host", "protocol" => "chat", "hostname" => "localhost"},
    );
    assert_eq!(r.get("error"), &Value::from("Reserved hostname"));

    // unhost returns the name; lookups then find nobody (nil after 2 s).
    let r = net.rednet(1, 7, table! {"call" => "unhost", "protocol" => "chat"});
    assert_eq!(
        r.get("result"),
        &Value::Table(modem_value::Table::array([Value::from("bob")]))
    );
    ok(&net.rednet(
        0,
        8,
        table! {"call" => "lookup", "protocol" => "chat", "hostname" => "bob"},
    ));
    net.time(6000);
    assert_eq!(ids(&net.take_done(0, 8).expect("done at 2 s")), arr(vec![]));
    // Unknown calls are malformed lines.
    let out = net.hosts[0].send(&table! {"op" => "rednet", "call" => "teleport"});
    assert!(out_is(&out[0], "error"), "{out:?}");
}

#[test]
fn a_repeater_carries_a_lookup_between_two_modem_networks() {
    for repeat in [false, true] {
        // 1 on network one, 3 on network two, 2 on both (the repeater).
        let hosts = start(3, &[&["/top"], &["/a", "/b"], &["/top"]]);
        let mut net = Net {
            hosts,
            networks: vec![vec![(0, "/top"), (1, "/a")], vec![(1, "/b"), (2, "/top")]],
            done: Vec::new(),
            now: 0,
        };
        if repeat {
            ok(&net.rednet(1, 1, table! {"call" => "repeat", "on" => true}));
            assert!(net.hosts[1].open.contains(&("/a".to_string(), 65533)));
            assert!(net.hosts[1].open.contains(&("/b".to_string(), 65533)));
        }
        // Hosted before rednet opens: recorded at once.
        ok(&net.rednet(
            2,
            2,
            table! {"call" => "host", "protocol" => "chat", "hostname" => "carol"},
        ));
        assert!(net.take_done(2, 2).is_some());
        for (h, m) in [(0, "/top"), (2, "/top")] {
            ok(&net.rednet(h, 3, table! {"call" => "open", "modem" => m}));
        }
        ok(&net.rednet(
            0,
            4,
            table! {"call" => "lookup", "protocol" => "chat", "hostname" => "carol"},
        ));
        if repeat {
            assert_eq!(
                ids(&net.take_done(0, 4).expect("answer through the repeater")),
                arr(vec![3.0])
            );
        } else {
            net.time(2000);
            assert_eq!(ids(&net.take_done(0, 4).expect("timeout")), arr(vec![]));
        }
    }
}
