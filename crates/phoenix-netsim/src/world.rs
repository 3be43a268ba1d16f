//! [`World`]: many Phoenix computers on one [`Medium`], driven on a virtual clock.
//!
//! The world is the reference host runtime: it does for each [`Computer`] exactly what an
//! emulator does — applies its channel opens/closes and transmits to the modems, feeds it the
//! modem messages that reach it, wakes it at its deadline, and connects the TCP requests of its
//! HTTP and WebSocket handles to other computers' `listen("http://…")` servers inside the
//! simulation. Events for processes are recorded in order for scripts and tests to inspect.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use modem_value::{Duration, Instant, SplitMix64, Table, Value};
use rednet_codec::{Completion, Delivered, Endpoint, ModemId as RnModem, ModemOp, Repeater};
use syscall_api::io::{ConnectFailure, Device, ListenerId, TcpRequest};
use syscall_api::{
    Computer, ComputerConfig, Event, NetworkStack, Output, SyscallError, TcpEvent, TcpId,
};

use crate::medium::{Due, Medium, ModemId, ModemKind};

/// Most copies taken from the medium per delivery batch (16 MiB of records).
const MAX_BATCH: usize = 1 << 20;

/// Stable-sorts `batch` by receiving modem (every one below `modems`): a counting sort when the
/// batch is large against the number of modems, a merge sort otherwise.
fn group_by_modem(batch: &mut Vec<Due>, scratch: &mut Vec<Due>, modems: usize) {
    if batch.len() < 2 {
        return;
    }
    if batch.len() < modems / 4 {
        batch.sort_by_key(|d| d.modem);
        return;
    }
    let mut start = vec![0u32; modems + 1];
    for d in batch.iter() {
        start[d.modem as usize + 1] += 1;
    }
    for i in 1..start.len() {
        start[i] += start[i - 1];
    }
    scratch.clear();
    scratch.resize(
        batch.len(),
        Due {
            modem: 0,
            payload: 0,
            distance: 0.0,
        },
    );
    for d in batch.iter() {
        let i = d.modem as usize;
        scratch[start[i] as usize] = *d;
        start[i] += 1;
    }
    std::mem::swap(batch, scratch);
}

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
///
/// Cost: the world only visits the computers that have something to do. Computers touched by
/// an input are queued (`dirty`) and drained of their outputs in node order; each computer's
/// deadline is kept in an ordered index, so a step at time `t` wakes exactly the computers due
/// at `t`, and an idle computer costs nothing per step.
pub struct World {
    medium: Medium,
    nodes: Vec<Node>,
    /// Medium modem → (node, device path).
    modem_owner: Vec<(NodeId, Box<str>)>,
    /// Nodes that received an input since their outputs were last drained (`in_dirty` says
    /// which are queued).
    dirty: Vec<NodeId>,
    in_dirty: Vec<bool>,
    /// Each node's deadline as last read, and the same as an ordered index.
    deadline: Vec<Option<Instant>>,
    deadlines: BTreeSet<(Instant, NodeId)>,
    /// Whether [`World::syscall`] and [`World::method`] leave their effects to the next flush.
    deferred: bool,
    /// Copies being delivered, and scratch space to group them (kept between rounds).
    batch: Vec<Due>,
    batch_scratch: Vec<Due>,
    now: Instant,
    events: Vec<EventRecord>,
    trace: Option<Vec<TransmitRecord>>,
    stats: WorldStats,
    listeners: BTreeMap<(String, u16), (NodeId, ListenerId)>,
    pipes: BTreeMap<(NodeId, TcpId), (NodeId, TcpId)>,
    tcp_queue: VecDeque<(NodeId, TcpId, TcpEvent)>,
    /// Highest PSP sequence sent per (node, channel, reply channel), for retransmission counts.
    psp_seq: BTreeMap<(NodeId, u16, u16), f64>,
    /// The params of the last `handle_data_ready` logged, with its handle id: a connection
    /// raises one per segment, all alike, and tables are immutable values, so the log shares
    /// one table between them instead of building one per segment.
    ready_params: Option<(u64, Value)>,
}

impl World {
    /// An empty world on `medium`.
    pub fn new(medium: Medium) -> Self {
        World {
            medium,
            nodes: Vec::new(),
            modem_owner: Vec::new(),
            dirty: Vec::new(),
            in_dirty: Vec::new(),
            deadline: Vec::new(),
            deadlines: BTreeSet::new(),
            deferred: false,
            batch: Vec::new(),
            batch_scratch: Vec::new(),
            now: Instant::ZERO,
            events: Vec::new(),
            trace: None,
            stats: WorldStats::default(),
            listeners: BTreeMap::new(),
            pipes: BTreeMap::new(),
            tcp_queue: VecDeque::new(),
            psp_seq: BTreeMap::new(),
            ready_params: None,
        }
    }

    /// With `on`, [`World::syscall`] and [`World::method`] apply the computer's outputs (channel
    /// opens and transmits reach the medium at once) but deliver nothing; the caller calls
    /// [`World::flush`] once after a round of calls. A script driving many computers at one
    /// instant then costs one delivery pass per round instead of one per call (each computer
    /// takes the round's broadcasts in a row). Off by default.
    pub fn set_deferred(&mut self, on: bool) {
        self.deferred = on;
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
            self.modem_owner.push((node, Box::from(*device)));
            map.insert(device.to_string(), m);
        }
        self.nodes.push(Node {
            machine,
            modems: map,
            hostname: hostname.to_string(),
            completions: Vec::new(),
            rednet_inbox: Vec::new(),
        });
        self.in_dirty.push(false);
        self.deadline.push(None);
        self.touch(node);
        self.flush();
        node
    }

    /// Queues `node` for draining its outputs and re-reading its deadline.
    fn touch(&mut self, node: NodeId) {
        if let Some(d) = self.in_dirty.get_mut(node) {
            if !*d {
                *d = true;
                self.dirty.push(node);
            }
        }
    }

    /// Applies `node`'s outputs now and re-reads its deadline; nothing is delivered.
    fn drain_outputs(&mut self, node: NodeId) {
        if node >= self.nodes.len() {
            return;
        }
        while let Some(o) = self.nodes[node].poll_output() {
            self.apply(node, o);
        }
        self.sync_deadline(node);
        // The same bound as in `flush`: a deferred round of a thousand broadcasts to ten
        // thousand computers would otherwise queue ten million copies (16 bytes each).
        if self.medium.in_flight() >= MAX_BATCH {
            self.deliver_due();
        }
    }

    /// Re-reads `node`'s deadline into the index.
    fn sync_deadline(&mut self, node: NodeId) {
        let new = self.nodes[node].poll_timeout();
        let old = std::mem::replace(&mut self.deadline[node], new);
        if old != new {
            if let Some(t) = old {
                self.deadlines.remove(&(t, node));
            }
            if let Some(t) = new {
                self.deadlines.insert((t, node));
            }
        }
    }

    /// The rednet API of a CraftOS node; call [`World::flush`] after using it.
    pub fn craftos_mut(&mut self, node: NodeId) -> Option<&mut Endpoint<SplitMix64>> {
        self.touch(node);
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
        self.touch(node);
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
        self.settle_call(node);
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
        self.settle_call(node);
        r
    }

    /// Applies what a syscall or handle method on `node` caused: at once in deferred mode
    /// (delivery waits for the round's end), else through a full flush.
    fn settle_call(&mut self, node: NodeId) {
        if self.deferred {
            self.drain_outputs(node);
        } else {
            self.touch(node);
            self.flush();
        }
    }

    /// A transmit from `node`'s modem `device`, as if its computer had sent it (for tests and
    /// benches that feed the world frames no stack would make). Delivered by the next flush.
    /// Returns false for an unknown modem.
    pub fn transmit(
        &mut self,
        node: NodeId,
        device: &str,
        channel: u16,
        reply_channel: u16,
        message: &Value,
    ) -> bool {
        let Some(m) = self
            .nodes
            .get(node)
            .and_then(|n| n.modems.get(device))
            .copied()
        else {
            return false;
        };
        self.stats.transmits += 1;
        let _ = self
            .medium
            .transmit(self.now, m, channel, reply_channel, message);
        true
    }

    /// Every event recorded so far, in order.
    pub fn events(&self) -> &[EventRecord] {
        &self.events
    }

    /// Removes and returns the recorded events.
    pub fn take_events(&mut self) -> Vec<EventRecord> {
        std::mem::take(&mut self.events)
    }

    /// The earliest deadline of the medium and every computer (as of the last
    /// [`World::flush`]).
    pub fn next_deadline(&self) -> Option<Instant> {
        let node = self.deadlines.first().map(|(t, _)| *t);
        match (self.medium.poll_timeout(), node) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
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
        let mut due: Vec<NodeId> = Vec::new();
        while let Some(&(t, n)) = self.deadlines.first() {
            if t > now {
                break;
            }
            self.deadlines.pop_first();
            self.deadline[n] = None;
            due.push(n);
        }
        due.sort_unstable();
        for n in due {
            self.nodes[n].handle_timeout(now);
            self.touch(n);
        }
        self.flush();
    }

    /// Applies every output of every computer and delivers everything due now, until quiet.
    pub fn flush(&mut self) {
        loop {
            let mut progress = false;
            if !self.dirty.is_empty() {
                let mut list = std::mem::take(&mut self.dirty);
                list.sort_unstable();
                for &node in &list {
                    self.in_dirty[node] = false;
                    while let Some(o) = self.nodes[node].poll_output() {
                        progress = true;
                        self.apply(node, o);
                    }
                    self.sync_deadline(node);
                    // Bounds the copies in flight (a round of a thousand broadcasts to ten
                    // thousand computers would hold ten million). Each computer still takes
                    // its copies in transmit order.
                    if self.medium.in_flight() >= MAX_BATCH {
                        self.deliver_due();
                    }
                }
                // Keep the allocation for the next round.
                if self.dirty.is_empty() {
                    list.clear();
                    self.dirty = list;
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
                self.touch(node);
            }
            if self.deliver_due() {
                progress = true;
            }
            if !progress && self.dirty.is_empty() {
                return;
            }
        }
    }

    /// Delivers the copies due now, grouped by receiving modem.
    ///
    /// Each computer receives its copies in the order the medium has them, and no computer sees
    /// another's outputs before the round ends, so grouping changes nothing a computer can
    /// observe; it lets one computer's memory stay in cache while it takes a run of broadcasts
    /// instead of every broadcast walking every computer's memory.
    fn deliver_due(&mut self) -> bool {
        let now = self.now;
        let mut batch = std::mem::take(&mut self.batch);
        let mut any = false;
        loop {
            batch.clear();
            self.medium.drain_due(now, &mut batch, MAX_BATCH);
            if batch.is_empty() {
                break;
            }
            any = true;
            group_by_modem(
                &mut batch,
                &mut self.batch_scratch,
                self.medium.modem_count(),
            );
            for d in &batch {
                self.stats.deliveries += 1;
                let Some((node, device)) = self.modem_owner.get(d.modem as usize) else {
                    continue;
                };
                let node = *node;
                let (message, channel, reply) = self.medium.payload(d.payload);
                self.nodes[node].handle_modem_message(
                    now,
                    device,
                    channel,
                    reply,
                    message,
                    d.distance(),
                );
                if !self.in_dirty[node] {
                    self.in_dirty[node] = true;
                    self.dirty.push(node);
                }
            }
            for d in &batch {
                self.medium.release(d.payload);
            }
        }
        self.batch = batch;
        any
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
                    .transmit_owned(self.now, m, channel, reply_channel, message);
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
                let (name, params) = match event {
                    Event::HandleDataReady { id } => {
                        let params = match &self.ready_params {
                            Some((last, p)) if *last == id.0 => p.clone(),
                            _ => {
                                let p = event.params();
                                self.ready_params = Some((id.0, p.clone()));
                                p
                            }
                        };
                        (event.name(), params)
                    }
                    other => other.into_lua(),
                };
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
        let Some(seg) = frame.get("payload").get("payload").as_table() else {
            return;
        };
        // Every transmit passes here: one pass over the segment's fields.
        let (mut ty, mut seq, mut data) = (&Value::Nil, &Value::Nil, &Value::Nil);
        for (k, v) in seg.iter() {
            if let Value::Str(k) = k {
                match k.as_bytes() {
                    b"type" => ty = v,
                    b"sequence" => seq = v,
                    b"payload" => data = v,
                    _ => {}
                }
            }
        }
        if ty.as_str().is_none_or(|t| t != "socket") {
            return;
        }
        let Some(seq) = seq.as_num() else {
            return;
        };
        let key = (node, channel, reply);
        match self.psp_seq.get(&key) {
            Some(&max) if seq <= max => self.stats.psp_retransmissions += 1,
            _ => {
                self.psp_seq.insert(key, seq);
                if let Some(p) = data.as_str() {
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
                            Machine::Phoenix(c) => {
                                let r = c
                                    .handle_tcp_accept(now, listener, &peer_name)
                                    .map(|id| (t, id));
                                self.touch(t);
                                r
                            }
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
