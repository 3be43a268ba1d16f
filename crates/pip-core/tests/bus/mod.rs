//! An in-memory multi-modem bus for scenario tests: computers with modems attached to numbered
//! segments (modem networks). A transmit reaches every *other* modem of the segment that has
//! the channel open (as CC modems behave); routers can be promiscuous (hear every channel).
#![allow(dead_code)]

use std::collections::BTreeSet;

use modem_value::{Instant, SplitMix64, Value};
use pip_core::wire::ComputerId;
use pip_core::{Delivery, IpConfigChange, NetEvent, PipStack, SendResult, StackConfig, Transmit};

pub struct Node {
    pub stack: PipStack<SplitMix64>,
    /// (device path, segment)
    pub modems: Vec<(String, usize)>,
    pub open: BTreeSet<(String, u16)>,
    pub promiscuous: bool,
    pub deliveries: Vec<Delivery>,
    pub events: Vec<NetEvent>,
    pub results: Vec<SendResult>,
}

pub struct Bus {
    pub nodes: Vec<Node>,
    pub now: Instant,
    /// Every transmit, with the index of the node that sent it.
    pub log: Vec<(usize, Transmit)>,
    in_flight: Vec<(usize, Transmit)>,
}

impl Bus {
    pub fn new() -> Bus {
        Bus {
            nodes: Vec::new(),
            now: Instant::from_secs(100),
            log: Vec::new(),
            in_flight: Vec::new(),
        }
    }

    /// Adds a computer; returns its index.
    pub fn add(&mut self, id: ComputerId, forwarding: bool) -> usize {
        let mut cfg = StackConfig::new(id);
        cfg.forwarding = forwarding;
        self.nodes.push(Node {
            stack: PipStack::new(cfg, SplitMix64::new(u64::from(id) * 7919 + 1)),
            modems: Vec::new(),
            open: BTreeSet::new(),
            promiscuous: forwarding,
            deliveries: Vec::new(),
            events: Vec::new(),
            results: Vec::new(),
        });
        self.nodes.len() - 1
    }

    /// Attaches a modem `dev` of node `n` to `segment` and configures `ip/prefix`, up.
    pub fn attach(&mut self, n: usize, dev: &str, segment: usize, ip: &str, prefix: u8) {
        let node = &mut self.nodes[n];
        node.stack.add_device(dev).unwrap();
        node.modems.push((dev.to_string(), segment));
        node.stack
            .ipconfig(
                dev,
                IpConfigChange {
                    ip: Some(ip.parse().unwrap()),
                    prefix: Some(prefix),
                    up: None,
                },
            )
            .unwrap();
        self.settle();
    }

    pub fn stack(&mut self, n: usize) -> &mut PipStack<SplitMix64> {
        &mut self.nodes[n].stack
    }

    fn drain(&mut self) {
        for (i, node) in self.nodes.iter_mut().enumerate() {
            while let Some(c) = node.stack.poll_channel() {
                let key = (c.device.as_str().to_string(), c.channel);
                if c.open {
                    node.open.insert(key);
                } else {
                    node.open.remove(&key);
                }
            }
            while let Some(t) = node.stack.poll_transmit() {
                self.log.push((i, t.clone()));
                self.in_flight.push((i, t));
            }
            while let Some(d) = node.stack.poll_delivery() {
                node.deliveries.push(d);
            }
            while let Some(e) = node.stack.poll_event() {
                node.events.push(e);
            }
            while let Some(r) = node.stack.poll_send_result() {
                node.results.push(r);
            }
        }
    }

    /// Delivers frames until nothing is in flight.
    pub fn settle(&mut self) {
        for _ in 0..10_000 {
            self.drain();
            if self.in_flight.is_empty() {
                return;
            }
            let frames = std::mem::take(&mut self.in_flight);
            for (from, t) in frames {
                let seg = self.nodes[from]
                    .modems
                    .iter()
                    .find(|(d, _)| d == t.device.as_str())
                    .map(|m| m.1)
                    .expect("transmit on an attached modem");
                for to in 0..self.nodes.len() {
                    if to == from {
                        continue;
                    }
                    let receivers: Vec<String> = self.nodes[to]
                        .modems
                        .iter()
                        .filter(|(_, s)| *s == seg)
                        .map(|(d, _)| d.clone())
                        .collect();
                    for dev in receivers {
                        let node = &mut self.nodes[to];
                        let open = node.promiscuous && node.open.contains(&(dev.clone(), 0))
                            || node.open.contains(&(dev.clone(), t.channel));
                        if open {
                            let now = self.now;
                            node.stack.handle_modem_message(
                                now,
                                &dev,
                                t.channel,
                                t.reply_channel,
                                &t.message,
                            );
                        }
                    }
                }
            }
        }
        panic!("bus did not settle");
    }

    /// Lets `ms` milliseconds pass, firing every timeout on the way.
    pub fn advance(&mut self, ms: u64) {
        let end = Instant::from_millis(self.now.as_millis() + ms);
        loop {
            let next = self
                .nodes
                .iter()
                .filter_map(|n| n.stack.poll_timeout())
                .filter(|t| *t <= end)
                .min();
            let Some(t) = next else { break };
            self.now = self.now.max(t);
            let now = self.now;
            for n in self.nodes.iter_mut() {
                if n.stack.poll_timeout().is_some_and(|d| d <= now) {
                    n.stack.handle_timeout(now);
                }
            }
            self.settle();
        }
        self.now = end;
        self.settle();
    }

    /// Opens a channel on a modem of node `n` (what a transport does for its port).
    pub fn open(&mut self, n: usize, dev: &str, ch: u16) {
        self.nodes[n].open.insert((dev.to_string(), ch));
    }

    /// Control events of node `n` of the given type, as (sender, error, payload).
    pub fn controls(&self, n: usize, ty: &str) -> Vec<(Option<String>, Option<String>, Value)> {
        self.nodes[n]
            .events
            .iter()
            .filter_map(|e| match e {
                NetEvent::Control { sender, message } if message.message_type.as_str() == ty => {
                    Some((
                        sender.map(|s| s.to_string()),
                        message.error.as_ref().map(|e| e.to_string_lossy()),
                        message.payload.clone().map_or(Value::Nil, Value::Table),
                    ))
                }
                _ => None,
            })
            .collect()
    }

    /// Frames node `n` transmitted whose top-level type is `ty`.
    pub fn sent_by(&self, n: usize, ty: &str) -> Vec<Transmit> {
        self.log
            .iter()
            .filter(|(i, t)| *i == n && t.message.get("type").as_str().is_some_and(|s| s == ty))
            .map(|(_, t)| t.clone())
            .collect()
    }
}
