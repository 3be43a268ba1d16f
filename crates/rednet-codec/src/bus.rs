//! An in-memory modem network for tests, examples, fuzzing and benchmarks.
//!
//! The bus plays the part of CC:Tweaked's modems for [`Endpoint`]s and
//! [`Repeater`]s:
//! * a modem belongs to one *network* (a wired cable network, or the set of wireless modems in
//!   range of each other); a transmit is offered to every **other** modem of the network — the
//!   sending modem never hears itself, but another modem of the same computer does;
//! * a receiving modem must have the channel open, and then *every computer attached to it*
//!   gets the `modem_message` (a full-block wired modem can touch several computers); channel
//!   state belongs to the modem, so it is shared by those computers;
//! * payloads are shared, not deep-copied: [`Value`]s are immutable, so no receiver can see
//!   another's changes, which is what the copy in CC guarantees.
//!
//! Everything happens at the bus's current instant, in a fixed order (computers and modems in
//! creation order, packets first-in first-out), so a run is reproducible. [`Bus::run`]
//! delivers until nothing is in flight; [`Bus::advance`] moves time forward, firing every
//! timer at its exact deadline.

use alloc::collections::{BTreeSet, VecDeque};
use alloc::vec::Vec;
use core::time::Duration;

use modem_value::{Instant, LuaStr, RandomSource, Value};

use crate::{Completion, Delivered, Endpoint, ModemId, ModemOp, RednetError, Repeater};

/// Something that happened on the bus, for transcripts.
#[derive(Clone, Debug, PartialEq)]
pub enum BusEvent {
    /// A computer transmitted.
    Transmit {
        /// When.
        at: Instant,
        /// The transmitting computer's ID.
        computer: u32,
        /// Its name for the modem.
        modem: ModemId,
        /// Channel.
        channel: u16,
        /// Reply channel.
        reply_channel: u16,
        /// Payload.
        payload: Value,
        /// Whether the repeater (not rednet) of the computer sent it.
        by_repeater: bool,
    },
    /// A computer opened or closed a channel on one of its modems.
    Channel {
        /// When.
        at: Instant,
        /// The computer's ID.
        computer: u32,
        /// Its name for the modem.
        modem: ModemId,
        /// The channel.
        channel: u16,
        /// Opened (`true`) or closed.
        open: bool,
        /// Whether the repeater (not rednet) of the computer asked for it.
        by_repeater: bool,
    },
    /// A computer's rednet delivered a message.
    Delivered {
        /// When.
        at: Instant,
        /// The receiving computer's ID.
        computer: u32,
        /// The message.
        message: Delivered,
    },
    /// A computer's request finished.
    Completed {
        /// When.
        at: Instant,
        /// The computer's ID.
        computer: u32,
        /// The completion.
        completion: Completion,
    },
}

struct Node<R> {
    endpoint: Endpoint<R>,
    repeater: Option<Repeater>,
    /// (local name, bus modem index), in attach order.
    modems: Vec<(ModemId, usize)>,
    delivered: Vec<Delivered>,
    completions: Vec<Completion>,
}

struct BusModem {
    network: u32,
    open: BTreeSet<u16>,
    /// (computer index, that computer's name for the modem).
    attached: Vec<(usize, ModemId)>,
}

struct Packet {
    from: usize,
    channel: u16,
    reply_channel: u16,
    payload: Value,
}

/// See the module docs. Computers and modems are named by the index their `add_*` returned.
pub struct Bus<R> {
    now: Instant,
    nodes: Vec<Node<R>>,
    modems: Vec<BusModem>,
    in_flight: VecDeque<Packet>,
    transcript: Option<Vec<BusEvent>>,
    packets: u64,
}

impl<R: RandomSource> Default for Bus<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R: RandomSource> Bus<R> {
    /// An empty bus at instant zero.
    pub fn new() -> Self {
        Bus {
            now: Instant::ZERO,
            nodes: Vec::new(),
            modems: Vec::new(),
            in_flight: VecDeque::new(),
            transcript: None,
            packets: 0,
        }
    }

    /// Starts recording a transcript of transmits, deliveries and completions.
    pub fn record(&mut self) {
        self.transcript.get_or_insert_with(Vec::new);
    }

    /// The transcript recorded since the last call.
    pub fn take_transcript(&mut self) -> Vec<BusEvent> {
        self.transcript
            .as_mut()
            .map(core::mem::take)
            .unwrap_or_default()
    }

    /// The bus's current instant.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Packets offered to modems so far (one per transmit).
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Adds a computer; returns its index.
    pub fn add_computer(&mut self, computer_id: u32, rng: R) -> usize {
        self.nodes.push(Node {
            endpoint: Endpoint::new(computer_id, rng),
            repeater: None,
            modems: Vec::new(),
            delivered: Vec::new(),
            completions: Vec::new(),
        });
        self.nodes.len() - 1
    }

    /// Adds a modem on `network`; returns its index.
    pub fn add_modem(&mut self, network: u32) -> usize {
        self.modems.push(BusModem {
            network,
            open: BTreeSet::new(),
            attached: Vec::new(),
        });
        self.modems.len() - 1
    }

    /// Attaches modem `modem` to computer `computer` under the name `name`.
    ///
    /// # Panics
    /// On an index that no `add_*` returned (a bug in the test using the bus).
    pub fn attach(&mut self, computer: usize, modem: usize, name: &str) {
        let id = ModemId::from(name);
        self.modems[modem].attached.push((computer, id.clone()));
        let node = &mut self.nodes[computer];
        node.modems.push((id.clone(), modem));
        node.endpoint.attach_modem(id.clone());
        if let Some(r) = &mut node.repeater {
            r.attach_modem(id);
        }
        self.run();
    }

    /// Starts repeat.lua on `computer`, on all its modems.
    pub fn add_repeater(&mut self, computer: usize, rng: &mut impl RandomSource) {
        let node = &mut self.nodes[computer];
        let mut r = Repeater::new(rng);
        for (name, _) in &node.modems {
            r.attach_modem(name.clone());
        }
        node.repeater = Some(r);
        self.run();
    }

    /// The rednet endpoint of `computer`; call [`Bus::run`] after driving it directly.
    pub fn endpoint(&mut self, computer: usize) -> &mut Endpoint<R> {
        &mut self.nodes[computer].endpoint
    }

    /// The repeater of `computer`, if it runs one.
    pub fn repeater(&self, computer: usize) -> Option<&Repeater> {
        self.nodes[computer].repeater.as_ref()
    }

    /// Number of computers.
    pub fn computers(&self) -> usize {
        self.nodes.len()
    }

    /// `rednet.open(name)` on `computer`, then delivers.
    pub fn open(&mut self, computer: usize, name: &str) -> Result<(), RednetError> {
        let r = self.nodes[computer].endpoint.open(&ModemId::from(name));
        self.run();
        r
    }

    /// `rednet.close(name)` on `computer`, then delivers.
    pub fn close(&mut self, computer: usize, name: &str) -> Result<(), RednetError> {
        let r = self.nodes[computer].endpoint.close(&ModemId::from(name));
        self.run();
        r
    }

    /// `rednet.send` from `computer`, then delivers everything that follows.
    pub fn send(
        &mut self,
        computer: usize,
        recipient: f64,
        message: Value,
        protocol: Option<&str>,
    ) -> Result<bool, RednetError> {
        let now = self.now;
        let r =
            self.nodes[computer]
                .endpoint
                .send(now, recipient, message, protocol.map(LuaStr::from));
        self.run();
        r
    }

    /// `rednet.broadcast` from `computer`, then delivers.
    pub fn broadcast(
        &mut self,
        computer: usize,
        message: Value,
        protocol: Option<&str>,
    ) -> Result<bool, RednetError> {
        let now = self.now;
        let r = self.nodes[computer]
            .endpoint
            .broadcast(now, message, protocol.map(LuaStr::from));
        self.run();
        r
    }

    /// Messages `computer` delivered since the last call.
    pub fn take_delivered(&mut self, computer: usize) -> Vec<Delivered> {
        core::mem::take(&mut self.nodes[computer].delivered)
    }

    /// Requests of `computer` that finished since the last call.
    pub fn take_completions(&mut self, computer: usize) -> Vec<Completion> {
        core::mem::take(&mut self.nodes[computer].completions)
    }

    /// Moves time forward by `d`, firing every timer of every computer at its deadline (and
    /// delivering what follows from it) on the way.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        loop {
            let next = self
                .nodes
                .iter()
                .flat_map(|n| {
                    [
                        n.endpoint.poll_timeout(),
                        n.repeater.as_ref().and_then(Repeater::poll_timeout),
                    ]
                })
                .flatten()
                .filter(|&t| t <= target)
                .min();
            let Some(at) = next else { break };
            self.now = self.now.max(at);
            let now = self.now;
            for n in &mut self.nodes {
                if n.endpoint.poll_timeout().is_some_and(|t| t <= now) {
                    n.endpoint.handle_timeout(now);
                }
                if let Some(r) = &mut n.repeater {
                    if r.poll_timeout().is_some_and(|t| t <= now) {
                        r.handle_timeout(now);
                    }
                }
            }
            self.run();
        }
        self.now = target;
    }

    /// Performs every pending modem operation and delivers every packet in flight, until the
    /// network is quiet.
    pub fn run(&mut self) {
        loop {
            let mut busy = false;
            for c in 0..self.nodes.len() {
                busy |= self.drain_node(c);
            }
            let Some(p) = self.in_flight.pop_front() else {
                if busy {
                    continue;
                }
                return;
            };
            self.deliver(p);
        }
    }

    fn drain_node(&mut self, c: usize) -> bool {
        let mut busy = false;
        while let Some(op) = self.nodes[c].endpoint.poll_modem_op() {
            self.apply(c, op, false);
            busy = true;
        }
        while let Some(op) = self.nodes[c]
            .repeater
            .as_mut()
            .and_then(Repeater::poll_modem_op)
        {
            self.apply(c, op, true);
            busy = true;
        }
        let at = self.now;
        let node = &mut self.nodes[c];
        let computer = node.endpoint.computer_id();
        while let Some(m) = node.endpoint.poll_message() {
            if let Some(t) = &mut self.transcript {
                t.push(BusEvent::Delivered {
                    at,
                    computer,
                    message: m.clone(),
                });
            }
            node.delivered.push(m);
        }
        while let Some(done) = node.endpoint.poll_completion() {
            if let Some(t) = &mut self.transcript {
                t.push(BusEvent::Completed {
                    at,
                    computer,
                    completion: done.clone(),
                });
            }
            node.completions.push(done);
        }
        busy
    }

    fn apply(&mut self, c: usize, op: ModemOp, by_repeater: bool) {
        let Some(&(_, m)) = self.nodes[c].modems.iter().find(|(n, _)| n == op.modem()) else {
            return;
        };
        match op {
            ModemOp::Open { channel, .. } | ModemOp::Close { channel, .. } => {
                let open = matches!(op, ModemOp::Open { .. });
                if let Some(tr) = &mut self.transcript {
                    tr.push(BusEvent::Channel {
                        at: self.now,
                        computer: self.nodes[c].endpoint.computer_id(),
                        modem: op.modem().clone(),
                        channel,
                        open,
                        by_repeater,
                    });
                }
                if open {
                    self.modems[m].open.insert(channel);
                } else {
                    self.modems[m].open.remove(&channel);
                }
                // Channel state is the modem's: tell the other computers sharing it.
                for (other, name) in self.modems[m].attached.clone() {
                    if other != c {
                        self.nodes[other]
                            .endpoint
                            .handle_channel_change(&name, channel, open);
                    }
                }
            }
            ModemOp::Transmit(t) => {
                if let Some(tr) = &mut self.transcript {
                    tr.push(BusEvent::Transmit {
                        at: self.now,
                        computer: self.nodes[c].endpoint.computer_id(),
                        modem: t.modem.clone(),
                        channel: t.channel,
                        reply_channel: t.reply_channel,
                        payload: t.payload.clone(),
                        by_repeater,
                    });
                }
                self.in_flight.push_back(Packet {
                    from: m,
                    channel: t.channel,
                    reply_channel: t.reply_channel,
                    payload: t.payload,
                });
            }
        }
    }

    fn deliver(&mut self, p: Packet) {
        self.packets += 1;
        let network = self.modems[p.from].network;
        let now = self.now;
        for m in 0..self.modems.len() {
            let modem = &self.modems[m];
            if m == p.from || modem.network != network || !modem.open.contains(&p.channel) {
                continue;
            }
            for (c, name) in modem.attached.clone() {
                let node = &mut self.nodes[c];
                let _ = node.endpoint.handle_modem_message(
                    now,
                    &name,
                    p.channel,
                    p.reply_channel,
                    &p.payload,
                );
                if let Some(r) = &mut node.repeater {
                    let _ =
                        r.handle_modem_message(now, &name, p.channel, p.reply_channel, &p.payload);
                }
            }
        }
    }
}
