//! [`Computer`]: one computer's whole network stack, and the plumbing between its layers.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::Ipv4Addr;

use modem_value::{Instant, RandomSource, SplitMix64, Value};
use pip_core::wire::ControlMessage;
use pip_core::{Device, NetEvent, PipStack, SendId, SendOptions, SendOutcome, StackConfig};
use psp_proto::{
    ChannelRequest, ControlKind, ControlReport, HandleId, HandleStatus, PdpEndpoint, PspEndpoint,
    PspEvent, SegmentContext,
};
use rednet_codec::{Endpoint, ModemId, ModemOp, Repeater};

use crate::channels::{ChannelRefs, Edge};
use crate::handles::{HandleTable, ProcessTree};
use crate::io::{Event, ListenerId, Output, Pid, Status, TcpEvent, TcpId};
use crate::kinds::Kind;
use crate::uri::SchemeRegistry;
use crate::web::Web;
use crate::{NetworkStack, SyscallError};

/// Most outputs waiting to be drained. A host that never drains loses the newest ones (and a
/// stack counter says so) instead of the stack growing without bound.
pub const MAX_QUEUED_OUTPUTS: usize = 1 << 20;

/// Most rounds of passing work between layers per input. Every round moves queued items one
/// layer on; the bound only stops a pathological feedback loop (it is never reached by the
/// protocols, whose loopback paths are themselves bounded).
const MAX_PUMP_ROUNDS: usize = 64;

/// Most channels a CC modem holds open at once (`Too many open channels` beyond).
pub const MAX_OPEN_CHANNELS: usize = 128;

/// The virtual loopback interface: traffic on it never reaches the host.
pub const LOOPBACK: &str = pip_core::stack::LOOPBACK_DEVICE;

/// How a computer is built.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ComputerConfig {
    /// `os.getComputerID()`.
    pub id: u32,
    /// The device paths of its modems (e.g. `/top`, `/back`), in `peripheral.getNames()` order.
    pub modems: Vec<String>,
    /// Router mode: forward PIP packets for other addresses. A router asks its host
    /// to hear every channel of each modem ([`Output::HearAll`], at boot).
    pub forwarding: bool,
    /// Router mode on a host that refused [`Output::HearAll`]: the transport ports (modem
    /// channels) to keep open for forwarding, opened in this order until the modem holds
    /// [`MAX_OPEN_CHANNELS`]. See [`NetworkStack::handle_hear_all_refused`].
    pub forward_ports: Vec<u16>,
    /// Whether `listen("http://…")`/`listen("ws://…")` are available (CraftOS-PC's extension).
    pub http_server: bool,
    /// PSP behaviour switches. Keep the default (a stalled gap left by a lost ACK-only message is skipped) when peers may be
    /// Phoenix 0.0.9; turn `skip_stalled_gaps` off when every peer is built on this workspace,
    /// which makes delivery exact under any loss.
    pub psp: psp_proto::PspConfig,
}

impl ComputerConfig {
    /// A plain computer with the given modems.
    pub fn new(id: u32, modems: &[&str]) -> Self {
        ComputerConfig {
            id,
            modems: modems.iter().map(|m| m.to_string()).collect(),
            forwarding: false,
            forward_ports: Vec::new(),
            http_server: true,
            psp: psp_proto::PspConfig::default(),
        }
    }
}

/// Counters of what the stack did that the protocol layers do not count themselves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ComputerStats {
    /// Outputs dropped because the host did not drain them ([`MAX_QUEUED_OUTPUTS`]).
    pub outputs_dropped: u64,
    /// Rednet messages dropped because a handle's queue was full.
    pub rednet_dropped: u64,
    /// Transport payloads of an unknown `type` (neither `socket` nor `datagram`).
    pub unknown_transport: u64,
    /// Channels a router on a limited modem could not open (forwarded ports beyond
    /// [`MAX_OPEN_CHANNELS`], or a reply channel with no held reply channel left to evict).
    pub channels_over_budget: u64,
}

/// One computer's network stack: pip-core, PSP/PDP, rednet and the HTTP/WebSocket handles
/// composed behind [`NetworkStack`].
///
/// Randomness: the host's [`RandomSource`] passed to [`Computer::new`] seeds one generator per
/// layer, so the same source gives the same computer.
pub struct Computer {
    pub(crate) id: u32,
    pub(crate) now: Instant,
    pub(crate) rng: SplitMix64,
    pub(crate) pip: PipStack<SplitMix64>,
    pub(crate) psp: PspEndpoint<Device>,
    pub(crate) pdp: PdpEndpoint<Device>,
    pub(crate) rednet: Endpoint<SplitMix64>,
    pub(crate) web: Web,
    pub(crate) craftos: crate::craftos::CraftOs,
    pub(crate) procs: ProcessTree,
    pub(crate) handles: HandleTable<Kind>,
    pub(crate) channels: ChannelRefs,
    pub(crate) netevent: BTreeSet<Pid>,
    pub(crate) raw: BTreeMap<(Device, u16), BTreeSet<Pid>>,
    pub(crate) modems: Vec<Device>,
    /// PSP connections whose SYN has not been reported sent yet, by (local port, remote ip,
    /// remote port).
    pub(crate) syn_wait: BTreeMap<(u16, Ipv4Addr, u16), HandleId>,
    pub(crate) send_wait: BTreeMap<SendId, HandleId>,
    /// Connections constrained to one interface by `connect{device = …}`, by handle. An entry goes with its
    /// handle ([`forget_handle`](Self::forget_handle)), and it is looked up through the PSP
    /// demultiplexer, so a later connection that reuses the addresses of a failed one is never
    /// pinned to the old device. At most one per handle (`MAX_HANDLES`).
    pub(crate) conn_device: BTreeMap<HandleId, Device>,
    /// PDP listen records by port.
    pub(crate) pdp_listeners: BTreeMap<u16, HandleId>,
    pub(crate) schemes: SchemeRegistry,
    pub(crate) config: ComputerConfig,
    pub(crate) stats: ComputerStats,
    /// Modems whose host refused [`Output::HearAll`], with the reply channels the router holds
    /// open on each, least recently used first.
    limited: BTreeMap<Device, VecDeque<u16>>,
    out: VecDeque<Output>,
}

impl core::fmt::Debug for Computer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Computer")
            .field("id", &self.id)
            .field("now", &self.now)
            .field("modems", &self.modems)
            .field("handles", &self.handles.ids().count())
            .field("queued_outputs", &self.out.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Computer {
    /// A computer with its modems attached and unconfigured (only `/lo` is up, as Phoenix
    /// boots).
    pub fn new(config: ComputerConfig, rng: &mut impl RandomSource) -> Self {
        let mut seed = || SplitMix64::new(rng.next_u64());
        let mut stack_cfg = StackConfig::new(config.id);
        stack_cfg.forwarding = config.forwarding;
        let mut pip = PipStack::new(stack_cfg, seed());
        let mut rednet = Endpoint::new(config.id, seed());
        let mut modems = Vec::new();
        for m in &config.modems {
            if m == LOOPBACK {
                continue;
            }
            if let Ok(d) = pip.add_device(m) {
                rednet.attach_modem(ModemId::from(m.as_str()));
                modems.push(d);
            }
        }
        let mut c = Computer {
            id: config.id,
            now: Instant::ZERO,
            rng: seed(),
            pip,
            psp: PspEndpoint::new(config.psp),
            pdp: PdpEndpoint::new(),
            rednet,
            web: Web::new(seed()),
            craftos: crate::craftos::CraftOs::default(),
            procs: ProcessTree::default(),
            handles: HandleTable::default(),
            channels: ChannelRefs::default(),
            netevent: BTreeSet::new(),
            raw: BTreeMap::new(),
            modems,
            syn_wait: BTreeMap::new(),
            send_wait: BTreeMap::new(),
            conn_device: BTreeMap::new(),
            pdp_listeners: BTreeMap::new(),
            schemes: SchemeRegistry::default(),
            config,
            stats: ComputerStats::default(),
            limited: BTreeMap::new(),
            out: VecDeque::new(),
        };
        if c.config.forwarding {
            for device in c.modems.clone() {
                c.push(Output::HearAll { device });
            }
        }
        c.pump();
        c
    }

    /// The computer's ID.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The PIP layer's counters (packets sent, received, forwarded, and dropped by reason).
    pub fn pip_stats(&self) -> &pip_core::Stats {
        self.pip.stats()
    }

    /// The handles process `pid` owns, ascending.
    pub fn handles_of(&self, pid: Pid) -> Vec<crate::io::HandleId> {
        self.handles
            .owned_by(pid)
            .map(crate::io::HandleId)
            .collect()
    }

    /// The PSP layer (read-only: connection states and statistics).
    pub fn psp(&self) -> &PspEndpoint<Device> {
        &self.psp
    }

    /// Counters of the composition layer.
    pub fn stats(&self) -> ComputerStats {
        self.stats
    }

    /// The modems (interfaces other than `/lo`).
    pub fn modems(&self) -> &[Device] {
        &self.modems
    }

    /// Registers a module URI scheme (accepted by `checkuri`; `connect`/`listen` on it fail
    /// with `Invalid protocol`, because its handler lives in the host's kernel module).
    pub fn register_scheme(&mut self, scheme: &str) -> bool {
        self.schemes.register(scheme)
    }

    /// See [`NetworkStack::handle_hear_all_refused`].
    pub(crate) fn hear_all_refused(&mut self, now: Instant, device: &str) {
        self.advance(now);
        let Some(d) = self.device(device) else {
            return;
        };
        if !self.config.forwarding || self.limited.contains_key(&d) {
            return;
        }
        self.limited.insert(d.clone(), VecDeque::new());
        let mut seen = BTreeSet::new();
        for port in self.config.forward_ports.clone() {
            if !seen.insert(port) {
                continue;
            }
            if !self.channels.is_open(&d, port) && self.channels.open_on(&d) >= MAX_OPEN_CHANNELS {
                self.stats.channels_over_budget += 1;
                continue;
            }
            self.acquire(&d, port);
        }
        self.pump();
    }

    /// On a limited modem, keeps `channel` open as a reply channel (see
    /// [`NetworkStack::handle_hear_all_refused`]).
    fn hold_reply_channel(&mut self, d: &Device, channel: u16) {
        let Some(held) = self.limited.get_mut(d) else {
            return;
        };
        if let Some(i) = held.iter().position(|&c| c == channel) {
            held.remove(i);
            held.push_back(channel);
            return;
        }
        if self.channels.is_open(d, channel) {
            return;
        }
        if self.channels.open_on(d) >= MAX_OPEN_CHANNELS {
            let Some(old) = held.pop_front() else {
                self.stats.channels_over_budget += 1;
                return;
            };
            self.release(d, old);
        }
        if let Some(held) = self.limited.get_mut(d) {
            held.push_back(channel);
        }
        self.acquire(d, channel);
    }

    /// Registers `hostname` for `protocol` with the rednet DNS responder, as
    /// `rednet.host` does: `Reserved hostname` for `localhost`; while rednet is open somewhere
    /// a 2 s lookup first checks that no other computer answers for the name (a conflict is
    /// dropped silently, as the host has no program waiting for the answer).
    pub fn rednet_host(
        &mut self,
        now: Instant,
        protocol: &str,
        hostname: &str,
    ) -> Result<(), SyscallError> {
        self.advance(now);
        self.rednet.host(now, protocol.into(), hostname.into())?;
        self.pump();
        Ok(())
    }

    pub(crate) fn advance(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

    pub(crate) fn push(&mut self, o: Output) {
        if self.out.len() >= MAX_QUEUED_OUTPUTS {
            self.stats.outputs_dropped += 1;
            return;
        }
        self.out.push_back(o);
    }

    pub(crate) fn event(&mut self, pid: Pid, event: Event) {
        self.push(Output::Event { pid, event });
    }

    /// An event about handle `id` for its owner (dropped if the handle is gone).
    pub(crate) fn handle_event(&mut self, id: HandleId, event: Event) {
        if let Some(pid) = self.handles.owner(id) {
            self.event(pid, event);
        }
    }

    pub(crate) fn acquire(&mut self, d: &Device, channel: u16) {
        if self.channels.acquire(d, channel) == Edge::Open && d.as_str() != LOOPBACK {
            self.push(Output::OpenChannel {
                device: d.clone(),
                channel,
            });
            self.rednet
                .handle_channel_change(&ModemId::from(d.as_str()), channel, true);
        }
    }

    pub(crate) fn release(&mut self, d: &Device, channel: u16) {
        if self.channels.release(d, channel) == Edge::Close && d.as_str() != LOOPBACK {
            self.push(Output::CloseChannel {
                device: d.clone(),
                channel,
            });
            self.rednet
                .handle_channel_change(&ModemId::from(d.as_str()), channel, false);
        }
    }

    fn device(&self, name: &str) -> Option<Device> {
        self.modems.iter().find(|d| d.as_str() == name).cloned()
    }

    /// Moves work between the layers until every queue is drained into `out`.
    pub(crate) fn pump(&mut self) {
        for _ in 0..MAX_PUMP_ROUNDS {
            let mut progress = false;
            progress |= self.pump_pip();
            progress |= self.pump_psp();
            progress |= self.pump_pdp();
            progress |= self.pump_rednet();
            progress |= self.pump_repeater();
            progress |= self.pump_web();
            if !progress {
                return;
            }
        }
    }

    /// Moves pip-core's transmits to the output queue; returns whether there were any.
    fn drain_pip_transmits(&mut self) -> bool {
        let mut progress = false;
        while let Some(t) = self.pip.poll_transmit() {
            progress = true;
            if t.device.as_str() != LOOPBACK {
                self.hold_reply_channel(&t.device, t.reply_channel);
                self.push(Output::Transmit {
                    device: t.device,
                    channel: t.channel,
                    reply_channel: t.reply_channel,
                    message: t.message,
                });
            }
        }
        progress
    }

    fn pump_pip(&mut self) -> bool {
        let mut progress = false;
        while let Some(c) = self.pip.poll_channel() {
            progress = true;
            if c.open {
                self.acquire(&c.device, c.channel);
            } else {
                self.release(&c.device, c.channel);
            }
        }
        progress |= self.drain_pip_transmits();
        while let Some(d) = self.pip.poll_delivery() {
            progress = true;
            // The delivery is consumed: its device and payload move on without a copy.
            let channel = d.channel;
            let ctx = SegmentContext {
                interface: d.device,
                channel,
                reply_channel: d.reply_channel,
                source_ip: d.source_ip,
                local_ip: d.local_ip,
            };
            let payload = Value::Table(d.packet.payload);
            match payload.get("type").as_str().map(|s| s.as_bytes()) {
                Some(b"socket") => {
                    let _ = self
                        .psp
                        .handle_segment_value(self.now, &mut self.rng, &ctx, &payload);
                }
                Some(b"datagram") => {
                    let owner = self
                        .pdp_listeners
                        .get(&channel)
                        .and_then(|l| self.handles.owner(*l));
                    let handles = &mut self.handles;
                    // A pseudo-handle needs an id from the one counter, owned by the listener's
                    // process. With the handle table full (`MAX_HANDLES`) it gets the id
                    // `u64::MAX`, which no process owns: its datagrams are held (bounded by PDP's
                    // own limits) but raise no event and cannot be read, until the program frees
                    // handles.
                    let mut alloc = || match owner {
                        Some(pid) => handles.insert(pid, Kind::Pdp).unwrap_or(u64::MAX),
                        None => u64::MAX,
                    };
                    let _ = self
                        .pdp
                        .handle_datagram_value(self.now, &ctx, &payload, &mut alloc);
                }
                _ => self.stats.unknown_transport += 1,
            }
        }
        while let Some(e) = self.pip.poll_event() {
            progress = true;
            if let NetEvent::Control { message, .. } = &e {
                self.psp.handle_control(&control_report(message));
            }
            // An address collision has no `network_event` shape in Phoenix: it stays a
            // statistic of the PIP layer.
            if !matches!(e, NetEvent::AddressCollision { .. }) {
                let subs: Vec<Pid> = self.netevent.iter().copied().collect();
                for pid in subs {
                    self.event(pid, Event::NetworkEvent(e.clone()));
                }
            }
        }
        while let Some(r) = self.pip.poll_send_result() {
            progress = true;
            if let Some(id) = self.send_wait.remove(&r.id) {
                match r.outcome {
                    SendOutcome::Sent { device, .. } => {
                        self.psp.handle_syn_sent(self.now, id, Ok(device))
                    }
                    SendOutcome::Failed { error } => {
                        self.psp.handle_syn_sent(self.now, id, Err(error))
                    }
                    // A blackhole route: nothing is reported; the connect deadline ends it.
                    SendOutcome::Dropped => {}
                }
            }
        }
        progress
    }

    fn channel_request(&mut self, r: ChannelRequest<Device>) {
        match r {
            ChannelRequest::Open { interface, channel } => self.acquire(&interface, channel),
            ChannelRequest::Close { interface, channel } => self.release(&interface, channel),
        }
    }

    fn pump_psp(&mut self) -> bool {
        let mut progress = false;
        while let Some(r) = self.psp.poll_channel() {
            progress = true;
            self.channel_request(r);
        }
        while let Some(t) = self.psp.poll_transmit() {
            progress = true;
            let key = (t.in_port, t.dst_ip, t.out_port);
            let syn_of = self.syn_wait.remove(&key);
            let options = SendOptions {
                notify: syn_of.is_some(),
                // Most connections are bound to no device: skip the demux lookup then.
                device: if self.conn_device.is_empty() {
                    None
                } else {
                    self.psp
                        .handle_at(t.in_port, t.dst_ip, t.out_port)
                        .and_then(|id| self.conn_device.get(&id))
                        .cloned()
                },
                ..SendOptions::default()
            };
            let Value::Table(payload) = t.payload else {
                continue;
            };
            let sid = self
                .pip
                .send(self.now, t.dst_ip, payload, t.out_port, t.in_port, options);
            if let Some(id) = syn_of {
                self.send_wait.insert(sid, id);
            }
        }
        while let Some(e) = self.psp.poll_event() {
            progress = true;
            self.transport_event(e);
        }
        progress
    }

    fn pump_pdp(&mut self) -> bool {
        let mut progress = false;
        while let Some(r) = self.pdp.poll_channel() {
            progress = true;
            self.channel_request(r);
        }
        while let Some(t) = self.pdp.poll_transmit() {
            progress = true;
            let Value::Table(payload) = t.payload else {
                continue;
            };
            let _ = self.pip.send(
                self.now,
                t.dst_ip,
                payload,
                t.out_port,
                t.in_port,
                SendOptions::default(),
            );
        }
        while let Some(e) = self.pdp.poll_event() {
            progress = true;
            self.transport_event(e);
        }
        progress
    }

    fn transport_event(&mut self, e: PspEvent) {
        let (id, event) = match e {
            PspEvent::StatusChange { id, status, error } => (
                id,
                Event::HandleStatusChange {
                    id: id.into(),
                    status: match status {
                        HandleStatus::Connecting => Status::Connecting,
                        HandleStatus::Open => Status::Open,
                        HandleStatus::Closed => Status::Closed,
                        HandleStatus::Error => Status::Error,
                    },
                    error,
                },
            ),
            PspEvent::DataReady { id } => (id, Event::HandleDataReady { id: id.into() }),
            PspEvent::NetworkRequest { uri, ip, handle } => (
                handle,
                Event::NetworkRequest {
                    uri,
                    ip: Some(ip.to_string()),
                    handle: handle.into(),
                },
            ),
        };
        self.handle_event(id, event);
    }

    /// Applies one modem call of the rednet endpoint or the repeater.
    pub(crate) fn rednet_modem_op(&mut self, op: ModemOp) {
        match op {
            ModemOp::Open { modem, channel } => {
                if let Some(d) = self.device(&modem.to_string()) {
                    self.acquire(&d, channel);
                }
            }
            ModemOp::Close { modem, channel } => {
                if let Some(d) = self.device(&modem.to_string()) {
                    self.release(&d, channel);
                }
            }
            ModemOp::Transmit(t) => {
                if let Some(d) = self.device(&t.modem.to_string()) {
                    self.push(Output::Transmit {
                        device: d,
                        channel: t.channel,
                        reply_channel: t.reply_channel,
                        message: t.payload,
                    });
                }
            }
        }
    }

    fn pump_rednet(&mut self) -> bool {
        let mut progress = false;
        while let Some(op) = self.rednet.poll_modem_op() {
            progress = true;
            self.rednet_modem_op(op);
        }
        while let Some(m) = self.rednet.poll_message() {
            progress = true;
            self.deliver_rednet(m);
        }
        while let Some(c) = self.rednet.poll_completion() {
            progress = true;
            self.craftos.complete(c);
        }
        progress
    }
}

fn control_report(m: &ControlMessage) -> ControlReport {
    use pip_core::wire::MessageType;
    let kind = match m.message_type {
        MessageType::Ping => ControlKind::Ping,
        MessageType::Pong => ControlKind::Pong,
        MessageType::Unreachable => ControlKind::Unreachable,
        MessageType::Timeout => ControlKind::Timeout,
    };
    let destination = m
        .payload
        .as_ref()
        .and_then(|p| p.get_str(b"destination"))
        .and_then(|v| v.as_str())
        .and_then(|s| pip_core::addr::parse_ip(s.as_bytes()).ok());
    ControlReport {
        kind,
        error: m.error.as_ref().map(|e| e.to_string_lossy()),
        destination,
    }
}

impl NetworkStack for Computer {
    fn handle_modem_message(
        &mut self,
        now: Instant,
        device: &str,
        channel: u16,
        reply_channel: u16,
        message: &Value,
        distance: Option<f64>,
    ) {
        self.advance(now);
        if !self.modems.iter().any(|d| d.as_str() == device) {
            return;
        }
        // pip-core reads the envelope once and says whether the frame was Phoenix; anything
        // else on the modem is rednet's.
        let phoenix = self
            .pip
            .handle_phoenix_frame(now, device, channel, reply_channel, message);
        if !phoenix && message.as_table().is_some() {
            let _ = self.rednet.handle_modem_message(
                now,
                &ModemId::from(device),
                channel,
                reply_channel,
                message,
            );
            if let Some(r) = self.craftos.repeater.as_mut() {
                let _ = r.handle_modem_message(
                    now,
                    &ModemId::from(device),
                    channel,
                    reply_channel,
                    message,
                );
            }
        }
        // The common case on a busy network: a Phoenix frame that pip-core dropped or kept
        // without output, and no raw listener. Only pip-core was touched and it has nothing for
        // the other layers, so there is nothing to pump.
        if phoenix && self.raw.is_empty() {
            if !self.pip.has_output() {
                return;
            }
            // A router's forwarded packet: pip-core produced transmits only. Moving them out
            // reaches no other layer unless a reply channel had to be opened or closed (that
            // tells rednet), so the full pump runs only then.
            if self.pip.has_only_transmits() {
                let queued = self.out.len();
                let mut moved = 0;
                while let Some(t) = self.pip.poll_transmit() {
                    if t.device.as_str() != LOOPBACK {
                        self.hold_reply_channel(&t.device, t.reply_channel);
                        self.push(Output::Transmit {
                            device: t.device,
                            channel: t.channel,
                            reply_channel: t.reply_channel,
                            message: t.message,
                        });
                        moved += 1;
                    }
                }
                if self.out.len() != queued + moved || self.pip.has_output() {
                    self.pump();
                }
                return;
            }
        }
        let raw = if self.raw.is_empty() {
            None
        } else {
            self.device(device)
                .and_then(|d| self.raw.get(&(d, channel)))
        };
        if let Some(pids) = raw {
            let pids: Vec<Pid> = pids.iter().copied().collect();
            let event = Event::ModemMessage {
                device: device.to_string(),
                channel,
                reply_channel,
                message: message.clone(),
                distance,
            };
            for pid in pids {
                self.event(pid, event.clone());
            }
        }
        self.pump();
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
        self.pip.handle_timeout(now);
        self.psp.handle_timeout(now);
        self.rednet.handle_timeout(now);
        if let Some(r) = self.craftos.repeater.as_mut() {
            r.handle_timeout(now);
        }
        self.web_timeout(now);
        self.pump();
    }

    fn handle_tcp(&mut self, now: Instant, conn: TcpId, event: TcpEvent) {
        self.advance(now);
        self.web_tcp(now, conn, event);
        self.pump();
    }

    fn syscall(
        &mut self,
        now: Instant,
        pid: Pid,
        root: bool,
        name: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, SyscallError> {
        self.enter(now, pid);
        let r = crate::registry::run_syscall(self, pid, root, name, args);
        self.pump();
        r
    }

    fn handle_method(
        &mut self,
        now: Instant,
        pid: Pid,
        handle: u64,
        method: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, SyscallError> {
        self.enter(now, pid);
        let r = self.dispatch_method(pid, handle, method, args);
        self.pump();
        r
    }

    /// Records that process `pid` exists, started by `parent` (for the ownership rule).
    fn spawn_process(&mut self, pid: Pid, parent: Option<Pid>) {
        self.procs.spawn(pid, parent);
    }

    /// Process `pid` ended: its handles are closed and forgotten, its listeners and
    /// subscriptions dropped.
    fn exit_process(&mut self, now: Instant, pid: Pid) {
        self.advance(now);
        let ids: Vec<HandleId> = self.handles.owned_by(pid).collect();
        for id in ids {
            self.forget_handle(id);
        }
        self.netevent.remove(&pid);
        let raw: Vec<(Device, u16)> = self
            .raw
            .iter()
            .filter(|(_, s)| s.contains(&pid))
            .map(|(k, _)| k.clone())
            .collect();
        for (d, ch) in raw {
            self.raw_listen(now, pid, d.as_str(), ch, false);
        }
        self.procs.exit(pid);
        self.pump();
    }

    /// Starts (`on`) or stops raw `modem_message` delivery of `channel` on `device` to `pid`
    /// (what `devlisten` plus `modem.open` give a Phoenix process). The channel stays open while
    /// any listener holds it. Returns false for an unknown device.
    fn raw_listen(&mut self, now: Instant, pid: Pid, device: &str, channel: u16, on: bool) -> bool {
        self.advance(now);
        let Some(d) = self.modems.iter().find(|d| d.as_str() == device).cloned() else {
            return false;
        };
        let key = (d.clone(), channel);
        let set = self.raw.entry(key.clone()).or_default();
        let changed = if on {
            set.insert(pid)
        } else {
            set.remove(&pid)
        };
        if set.is_empty() {
            self.raw.remove(&key);
        }
        if changed {
            if on {
                self.acquire(&d, channel);
            } else {
                self.release(&d, channel);
            }
        }
        self.pump();
        true
    }

    /// The host could not open `channel` on modem `device` (e.g. `Too many open channels`, the
    /// 128-channel limit). As Phoenix does, time-wait PSP connections are reaped first (their
    /// channels are released); the failure is then reported to PSP: a connecting client fails with
    /// `message` (and sends the "could not open" RST), a listener stops using that modem. Every
    /// user of that channel on that modem is forgotten, since the channel is not open.
    fn handle_channel_failed(&mut self, now: Instant, device: &str, channel: u16, message: &str) {
        self.advance(now);
        let Some(d) = self.device(device) else {
            return;
        };
        self.psp.reap_time_wait();
        self.channels.forget(&d, channel);
        self.psp.handle_channel_failed(&d, channel, message);
        self.pump();
    }

    fn handle_tcp_accept(
        &mut self,
        now: Instant,
        listener: ListenerId,
        peer: &str,
    ) -> Option<TcpId> {
        self.tcp_accept(now, listener, peer)
    }

    fn handle_tcp_listen_failed(&mut self, now: Instant, listener: ListenerId, reason: &str) {
        self.tcp_listen_failed(now, listener, reason);
    }

    fn handle_hear_all_refused(&mut self, now: Instant, device: &str) {
        self.hear_all_refused(now, device);
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        [
            self.pip.poll_timeout(),
            self.psp.poll_timeout(),
            self.rednet.poll_timeout(),
            self.web.poll_timeout(),
            self.craftos
                .repeater
                .as_ref()
                .and_then(Repeater::poll_timeout),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modem_value::table;

    /// The per-connection device choice of `connect{device = …}` is cleaned up with its handle (every
    /// program-filled map has an owner that removes its entries).
    #[test]
    fn connect_device_entries_go_with_their_handles() {
        let mut c = Computer::new(ComputerConfig::new(1, &["/a"]), &mut SplitMix64::new(9));
        let t = Instant::ZERO;
        c.syscall(
            t,
            0,
            true,
            "ipconfig",
            &[
                Value::from("/a"),
                table! {"ip" => "10.0.0.1", "netmask" => 24},
            ],
        )
        .unwrap();
        c.syscall(
            t,
            0,
            true,
            "arpset",
            &[Value::from("/a"), Value::from("10.0.0.2"), Value::from(2)],
        )
        .unwrap();
        for pid in 1..=3 {
            let opts = table! {"url" => "psp://10.0.0.2:80", "device" => "/a"};
            c.syscall(t, pid, false, "connect", &[opts]).unwrap();
        }
        while c.poll_output().is_some() {}
        assert_eq!(c.conn_device.len(), 3);
        // Every connect fails (nobody answers), then the processes end.
        c.handle_timeout(Instant::from_secs(30));
        for pid in 1..=3 {
            c.exit_process(Instant::from_secs(30), pid);
        }
        assert!(c.conn_device.is_empty(), "{:?}", c.conn_device);
        assert_eq!(c.psp.connection_count(), 0);
    }
}
