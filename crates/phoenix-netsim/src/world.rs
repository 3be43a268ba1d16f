//! [`World`]: many Phoenix computers on one [`Medium`], driven on a virtual clock.
//!
//! The world is the reference host runtime: it does for each [`Computer`] exactly what an
//! emulator does — applies its channel opens/closes and transmits to the modems, feeds it the
//! modem messages that reach it, wakes it at its deadline, and connects the TCP requests of its
//! HTTP and WebSocket handles to other computers' `listen("http://…")` servers inside the
//! simulation. Events for processes are recorded in order for scripts and tests to inspect.

use std::collections::{BTreeMap, VecDeque};

use modem_value::{Duration, Instant, SplitMix64, Table, Value};
use rednet_codec::{Completion, Delivered, Endpoint, ModemId as RnModem, ModemOp, Repeater};
use syscall_api::io::{ConnectFailure, Device, ListenerId, TcpRequest};
use syscall_api::{Computer, ComputerConfig, NetworkStack, Output, SyscallError, TcpEvent, TcpId};

use crate::medium::{Medium, ModemId, ModemKind};

/// A computer of the world, by the order it was added.
pub type NodeId = usize;

/// A process event a computer raised.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRecord {
    /// When.
    pub at: Instant,
    /// Which computer (node).
    pub node: NodeId,
    /// Which process.
    pub pid: u32,
    /// Event name.
    pub name: &'static str,
    /// Event parameters.
    pub params: Value,
}

/// One transmit, for traces.
#[derive(Clone, Debug, PartialEq)]
pub struct TransmitRecord {
    /// When.
    pub at: Instant,
    /// The sending computer (node).
    pub node: NodeId,
    /// The modem's device path on that computer.
    pub device: String,
    /// Channel.
    pub channel: u16,
    /// Reply channel.
    pub reply_channel: u16,
    /// Payload.
    pub message: Value,
}

impl TransmitRecord {
    /// One JSON line (the trace format of the simulator): time in ms, node, device, channels
    /// and the payload in modem-value's JSON mapping.
    pub fn to_json_line(&self) -> String {
        let mut t = Table::with_capacity(6);
        t.set("t", Value::from(self.at.as_millis()));
        t.set("node", Value::from(self.node));
        t.set("device", Value::from(self.device.as_str()));
        t.set("channel", Value::from(self.channel));
        t.set("replyChannel", Value::from(self.reply_channel));
        t.set("message", self.message.clone());
        Value::Table(t).to_json()
    }
}

/// What runs on a node.
enum Machine {
    /// A Phoenix computer: the whole stack of `syscall-api`.
    Phoenix(Box<Computer>),
    /// A CraftOS computer running `repeat` (rednet-codec's [`Repeater`]).
    Repeater(Box<Repeater>),
    /// A CraftOS computer using the `rednet` API (rednet-codec's [`Endpoint`]).
    CraftOs(Box<Endpoint<SplitMix64>>),
}

struct Node {
    machine: Machine,
    /// device path → modem in the medium.
    modems: BTreeMap<String, ModemId>,
    /// The host name other computers' HTTP/WS clients use to reach this one.
    hostname: String,
    /// Rednet results of a CraftOS node, for scripts.
    completions: Vec<Completion>,
    /// Rednet messages delivered to a CraftOS node, for scripts.
    rednet_inbox: Vec<Delivered>,
}

impl Node {
    fn poll_timeout(&self) -> Option<Instant> {
        match &self.machine {
            Machine::Phoenix(c) => c.poll_timeout(),
            Machine::Repeater(r) => r.poll_timeout(),
            Machine::CraftOs(e) => e.poll_timeout(),
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        match &mut self.machine {
            Machine::Phoenix(c) => c.handle_timeout(now),
            Machine::Repeater(r) => r.handle_timeout(now),
            Machine::CraftOs(e) => e.handle_timeout(now),
        }
    }

    fn handle_modem_message(
        &mut self,
        now: Instant,
        device: &str,
        channel: u16,
        reply: u16,
        message: &Value,
        distance: Option<f64>,
    ) {
        match &mut self.machine {
            Machine::Phoenix(c) => {
                c.handle_modem_message(now, device, channel, reply, message, distance)
            }
            Machine::Repeater(r) => {
                let _ =
                    r.handle_modem_message(now, &RnModem::from(device), channel, reply, message);
            }
            Machine::CraftOs(e) => {
                let _ =
                    e.handle_modem_message(now, &RnModem::from(device), channel, reply, message);
            }
        }
    }

    /// The next output, with the rednet machines' modem operations translated.
    fn poll_output(&mut self) -> Option<Output> {
        let op = match &mut self.machine {
            Machine::Phoenix(c) => return c.poll_output(),
            Machine::Repeater(r) => r.poll_modem_op(),
            Machine::CraftOs(e) => {
                while let Some(c) = e.poll_completion() {
                    self.completions.push(c);
                }
                while let Some(m) = e.poll_message() {
                    self.rednet_inbox.push(m);
                }
                e.poll_modem_op()
            }
        }?;
        Some(match op {
            ModemOp::Open { modem, channel } => Output::OpenChannel {
                device: Device::new(&modem.to_string()),
                channel,
            },
            ModemOp::Close { modem, channel } => Output::CloseChannel {
                device: Device::new(&modem.to_string()),
                channel,
            },
            ModemOp::Transmit(t) => Output::Transmit {
                device: Device::new(&t.modem.to_string()),
                channel: t.channel,
                reply_channel: t.reply_channel,
                message: t.payload,
            },
        })
    }
}

/// Counters of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorldStats {
    /// Transmits applied to the medium.
    pub transmits: u64,
    /// Modem messages delivered to computers.
    pub deliveries: u64,
    /// Process events raised.
    pub events: u64,
    /// Bytes moved over simulated TCP.
    pub tcp_bytes: u64,
    /// PSP segments sent again: a `socket` message whose sequence number its sender had
    /// already used on the same ports (retransmissions of data, FINs and handshakes).
    pub psp_retransmissions: u64,
    /// Bytes of PSP payload transmitted (first transmissions only).
    pub psp_payload_bytes: u64,
}

/// Many computers on one medium, driven as an emulator drives them (see the crate docs).
pub struct World {
    medium: Medium,
    nodes: Vec<Node>,
    /// Medium modem → (node, device path).
    modem_owner: Vec<(NodeId, String)>,
    now: Instant,
    events: Vec<EventRecord>,
    trace: Option<Vec<TransmitRecord>>,
    stats: WorldStats,
    listeners: BTreeMap<(String, u16), (NodeId, ListenerId)>,
    pipes: BTreeMap<(NodeId, TcpId), (NodeId, TcpId)>,
    tcp_queue: VecDeque<(NodeId, TcpId, TcpEvent)>,
    /// Highest PSP sequence sent per (node, channel, reply channel), for retransmission counts.
    psp_seq: BTreeMap<(NodeId, u16, u16), f64>,
}

impl World {
    /// An empty world on `medium`.
    pub fn new(medium: Medium) -> Self {
        World {
            medium,
            nodes: Vec::new(),
            modem_owner: Vec::new(),
            now: Instant::ZERO,
            events: Vec::new(),
            trace: None,
            stats: WorldStats::default(),
            listeners: BTreeMap::new(),
            pipes: BTreeMap::new(),
            tcp_queue: VecDeque::new(),
            psp_seq: BTreeMap::new(),
        }
    }

    /// Records every transmit from now on (see [`World::trace`]).
    pub fn enable_trace(&mut self) {
        self.trace.get_or_insert_with(Vec::new);
    }

    /// The transmits recorded since [`World::enable_trace`].
    pub fn trace(&self) -> &[TransmitRecord] {
        self.trace.as_deref().unwrap_or(&[])
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Counters.
    pub fn stats(&self) -> WorldStats {
        self.stats
    }

    /// The medium (for its statistics).
    pub fn medium(&self) -> &Medium {
        &self.medium
    }

    /// Adds a computer whose modems are `modems` (device path and placement), seeded with
    /// `seed`. Its HTTP host name is `hostname`.
    pub fn add_computer(
        &mut self,
        config: ComputerConfig,
        modems: &[(&str, ModemKind)],
        hostname: &str,
        seed: u64,
    ) -> NodeId {
        let mut cfg = config;
        cfg.modems = modems.iter().map(|(d, _)| d.to_string()).collect();
        let computer_id = cfg.id;
        let computer = Computer::new(cfg, &mut SplitMix64::new(seed));
        self.add_node(
            computer_id,
            Machine::Phoenix(Box::new(computer)),
            modems,
            hostname,
        )
    }

    /// Adds a CraftOS computer running `repeat` on all its modems.
    pub fn add_repeater(&mut self, id: u32, modems: &[(&str, ModemKind)], seed: u64) -> NodeId {
        let mut r = Repeater::new(&mut SplitMix64::new(seed));
        for (d, _) in modems {
            r.attach_modem(RnModem::from(*d));
        }
        self.add_node(id, Machine::Repeater(Box::new(r)), modems, "")
    }

    /// Adds a CraftOS computer whose programs use the `rednet` API (drive it with
    /// [`World::craftos_mut`]); rednet is opened on every modem.
    pub fn add_craftos(&mut self, id: u32, modems: &[(&str, ModemKind)], seed: u64) -> NodeId {
        let mut e = Endpoint::new(id, SplitMix64::new(seed));
        for (d, _) in modems {
            let m = RnModem::from(*d);
            e.attach_modem(m.clone());
            let _ = e.open(&m);
        }
        self.add_node(id, Machine::CraftOs(Box::new(e)), modems, "")
    }

    fn add_node(
        &mut self,
        computer_id: u32,
        machine: Machine,
        modems: &[(&str, ModemKind)],
        hostname: &str,
    ) -> NodeId {
        let node = self.nodes.len();
        let mut map = BTreeMap::new();
        for (device, kind) in modems {
            let m = self.medium.add_modem(computer_id, *kind);
            self.modem_owner.push((node, device.to_string()));
            map.insert(device.to_string(), m);
        }
        self.nodes.push(Node {
            machine,
            modems: map,
            hostname: hostname.to_string(),
            completions: Vec::new(),
            rednet_inbox: Vec::new(),
        });
        self.flush();
        node
    }

    /// The rednet API of a CraftOS node; call [`World::flush`] after using it.
    pub fn craftos_mut(&mut self, node: NodeId) -> Option<&mut Endpoint<SplitMix64>> {
        match &mut self.nodes.get_mut(node)?.machine {
            Machine::CraftOs(e) => Some(e),
            _ => None,
        }
    }

    /// Takes the finished rednet requests (`receive`, `lookup`, `host`) of a CraftOS node.
    pub fn take_completions(&mut self, node: NodeId) -> Vec<Completion> {
        self.nodes
            .get_mut(node)
            .map(|n| std::mem::take(&mut n.completions))
            .unwrap_or_default()
    }

    /// Takes the `rednet_message`s a CraftOS node received.
    pub fn take_rednet_inbox(&mut self, node: NodeId) -> Vec<Delivered> {
        self.nodes
            .get_mut(node)
            .map(|n| std::mem::take(&mut n.rednet_inbox))
            .unwrap_or_default()
    }

    /// Number of computers.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the world has no computers.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// A Phoenix computer, to inspect it (`None` for other nodes).
    pub fn computer(&self, node: NodeId) -> Option<&Computer> {
        match &self.nodes.get(node)?.machine {
            Machine::Phoenix(c) => Some(c),
            _ => None,
        }
    }

    /// A Phoenix computer, for host-level calls (processes, raw listeners); call
    /// [`World::flush`] after changing it.
    ///
    /// # Panics
    /// If `node` is not a Phoenix computer (a bug in the calling script).
    pub fn computer_mut(&mut self, node: NodeId) -> &mut Computer {
        match &mut self.nodes[node].machine {
            Machine::Phoenix(c) => c,
            _ => panic!("node {node} is not a Phoenix computer"),
        }
    }

    /// A syscall on `node` by `pid`, with everything it causes applied.
    pub fn syscall(
        &mut self,
        node: NodeId,
        pid: u32,
        root: bool,
        name: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, SyscallError> {
        let now = self.now;
        let r = match self.nodes.get_mut(node).map(|n| &mut n.machine) {
            Some(Machine::Phoenix(c)) => c.syscall(now, pid, root, name, args),
            _ => Err(SyscallError::msg("not a Phoenix computer")),
        };
        self.flush();
        r
    }

    /// A handle method on `node` by `pid`, with everything it causes applied.
    pub fn method(
        &mut self,
        node: NodeId,
        pid: u32,
        handle: u64,
        method: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, SyscallError> {
        let now = self.now;
        let r = match self.nodes.get_mut(node).map(|n| &mut n.machine) {
            Some(Machine::Phoenix(c)) => c.handle_method(now, pid, handle, method, args),
            _ => Err(SyscallError::msg("not a Phoenix computer")),
        };
        self.flush();
        r
    }

    /// Every event recorded so far, in order.
    pub fn events(&self) -> &[EventRecord] {
        &self.events
    }

    /// Removes and returns the recorded events.
    pub fn take_events(&mut self) -> Vec<EventRecord> {
        std::mem::take(&mut self.events)
    }

    /// The earliest deadline of the medium and every computer.
    pub fn next_deadline(&self) -> Option<Instant> {
        let mut next = self.medium.poll_timeout();
        for n in &self.nodes {
            next = match (next, n.poll_timeout()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        next
    }

    /// Runs the world until `until`, handling every deadline on the way in time order.
    pub fn run_until(&mut self, until: Instant) {
        while let Some(t) = self.next_deadline() {
            if t > until {
                break;
            }
            self.now = self.now.max(t);
            self.step();
        }
        self.now = self.now.max(until);
    }

    /// Runs the world for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    /// Runs until `pred` holds (checked after every step) or `limit` of virtual time passed.
    /// Returns whether `pred` held.
    pub fn run_until_event(
        &mut self,
        limit: Duration,
        mut pred: impl FnMut(&World) -> bool,
    ) -> bool {
        let until = self.now + limit;
        loop {
            if pred(self) {
                return true;
            }
            match self.next_deadline() {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    self.step();
                }
                _ => {
                    self.now = until;
                    return pred(self);
                }
            }
        }
    }

    fn step(&mut self) {
        let now = self.now;
        for n in &mut self.nodes {
            if n.poll_timeout().is_some_and(|t| t <= now) {
                n.handle_timeout(now);
            }
        }
        self.flush();
    }

    /// Applies every output of every computer and delivers everything due now, until quiet.
    pub fn flush(&mut self) {
        loop {
            let mut progress = false;
            for node in 0..self.nodes.len() {
                while let Some(o) = self.nodes[node].poll_output() {
                    progress = true;
                    self.apply(node, o);
                }
            }
            while let Some((node, tcp, ev)) = self.tcp_queue.pop_front() {
                progress = true;
                if let TcpEvent::Data(d) = &ev {
                    self.stats.tcp_bytes += d.len() as u64;
                }
                let now = self.now;
                if let Machine::Phoenix(c) = &mut self.nodes[node].machine {
                    c.handle_tcp(now, tcp, ev);
                }
            }
            while let Some(d) = self.medium.poll_delivery(self.now) {
                progress = true;
                self.stats.deliveries += 1;
                let Some((node, device)) = self.modem_owner.get(d.modem.0).cloned() else {
                    continue;
                };
                let now = self.now;
                self.nodes[node].handle_modem_message(
                    now,
                    &device,
                    d.channel,
                    d.reply_channel,
                    &d.message,
                    d.distance,
                );
            }
            if !progress {
                return;
            }
        }
    }

    fn modem(&self, node: NodeId, device: &str) -> Option<ModemId> {
        self.nodes[node].modems.get(device).copied()
    }

    fn apply(&mut self, node: NodeId, o: Output) {
        match o {
            Output::Transmit {
                device,
                channel,
                reply_channel,
                message,
            } => {
                let Some(m) = self.modem(node, device.as_str()) else {
                    return;
                };
                self.stats.transmits += 1;
                self.count_psp(node, channel, reply_channel, &message);
                if let Some(trace) = self.trace.as_mut() {
                    trace.push(TransmitRecord {
                        at: self.now,
                        node,
                        device: device.to_string(),
                        channel,
                        reply_channel,
                        message: message.clone(),
                    });
                }
                let _ = self
                    .medium
                    .transmit(self.now, m, channel, reply_channel, &message);
            }
            Output::OpenChannel { device, channel } => {
                if let Some(m) = self.modem(node, device.as_str()) {
                    // The 129th channel fails on a real modem too; the stack sees no reply.
                    let _ = self.medium.open(m, channel);
                }
            }
            Output::CloseChannel { device, channel } => {
                if let Some(m) = self.modem(node, device.as_str()) {
                    let _ = self.medium.close(m, channel);
                }
            }
            Output::Event { pid, event } => {
                let (name, params) = event.into_lua();
                self.stats.events += 1;
                self.events.push(EventRecord {
                    at: self.now,
                    node,
                    pid,
                    name,
                    params,
                });
            }
            Output::HearAll { device } => {
                // A router must hear the transport ports (modem channels) of everything it
                // forwards; the simulated medium can deliver every channel, so it never refuses.
                if let Some(m) = self.modem(node, device.as_str()) {
                    let _ = self.medium.set_promiscuous(m, true);
                }
            }
            Output::Tcp(r) => self.tcp(node, r),
            // Outputs added to the stack later have no counterpart in this medium yet.
            _ => {}
        }
    }

    fn count_psp(&mut self, node: NodeId, channel: u16, reply: u16, frame: &Value) {
        let seg = frame.get("payload").get("payload");
        if seg.get("type").as_str().is_none_or(|t| t != "socket") {
            return;
        }
        let Some(seq) = seg.get("sequence").as_num() else {
            return;
        };
        let key = (node, channel, reply);
        match self.psp_seq.get(&key) {
            Some(&max) if seq <= max => self.stats.psp_retransmissions += 1,
            _ => {
                self.psp_seq.insert(key, seq);
                if let Some(p) = seg.get("payload").as_str() {
                    self.stats.psp_payload_bytes += p.len() as u64;
                }
            }
        }
    }

    fn tcp(&mut self, node: NodeId, r: TcpRequest) {
        match r {
            // Listeners are reached by host name, whatever address the program bound.
            TcpRequest::Listen { listener, port, .. } => {
                let host = self.nodes[node].hostname.clone();
                self.listeners.insert((host, port), (node, listener));
            }
            TcpRequest::Unlisten { listener } => {
                self.listeners.retain(|_, v| *v != (node, listener));
            }
            TcpRequest::Connect {
                conn,
                host,
                port,
                tls,
            } => {
                let target = self.listeners.get(&(host, port)).copied();
                let peer_name = self.nodes[node].hostname.clone();
                let accepted = match target {
                    Some((t, listener)) if !tls => {
                        let now = self.now;
                        match &mut self.nodes[t].machine {
                            Machine::Phoenix(c) => c
                                .handle_tcp_accept(now, listener, &peer_name)
                                .map(|id| (t, id)),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                match accepted {
                    Some(other) => {
                        self.pipes.insert((node, conn), other);
                        self.pipes.insert(other, (node, conn));
                        self.tcp_queue.push_back((node, conn, TcpEvent::Connected));
                    }
                    None => self.tcp_queue.push_back((
                        node,
                        conn,
                        TcpEvent::Failed(ConnectFailure::CouldNotConnect),
                    )),
                }
            }
            TcpRequest::Send { conn, data } => {
                if let Some(&(n, c)) = self.pipes.get(&(node, conn)) {
                    self.tcp_queue.push_back((n, c, TcpEvent::Data(data)));
                }
            }
            TcpRequest::Close { conn } => {
                if let Some(other) = self.pipes.remove(&(node, conn)) {
                    self.pipes.remove(&other);
                    self.tcp_queue
                        .push_back((other.0, other.1, TcpEvent::Closed));
                }
            }
        }
    }
}
