//! [`PipStack`]: the link and internet layers of one computer as a sans-IO state machine.
//!
//! # Inputs
//! * [`PipStack::handle_modem_message`]: a modem message on one of the computer's modems.
//! * [`PipStack::handle_timeout`]: time passed (ARP resolutions time out after 2 s).
//! * [`PipStack::send`], [`PipStack::netcontrol`]: packets from the transports and programs.
//! * Configuration: [`PipStack::add_device`], [`PipStack::ipconfig`], route and ARP calls.
//!
//! # Outputs, drained after every input (in this order)
//! [`PipStack::poll_channel`], [`PipStack::poll_transmit`], [`PipStack::poll_delivery`],
//! [`PipStack::poll_event`], [`PipStack::poll_send_result`]; then [`PipStack::poll_timeout`]
//! says when to call [`PipStack::handle_timeout`] next. Each output queue holds at most
//! [`MAX_QUEUED_OUTPUTS`] items; a host that never drains loses the newest (counted in
//! [`Stats::drop_output_full`]), it never makes the stack grow without bound.
//!
//! # Self-delivery
//! A frame whose PLP destination is this computer (every packet on `/lo`, and packets to our
//! own address on a modem) is not transmitted: it goes into a loopback queue that is
//! processed, as if received on the same interface, at the end of the same call (at most
//! [`LOOPBACK_BUDGET`] frames per call; more make `poll_timeout` return "now").
//!
//! # Bounds
//! ARP caches: [`arp::ARP_CACHE_CAPACITY`](crate::arp::ARP_CACHE_CAPACITY) per interface with
//! LRU-by-learning eviction and expiry. Pending resolutions: [`MAX_PENDING_RESOLUTIONS`] next
//! hops, each with at most [`MAX_QUEUED_PER_RESOLUTION`] waiting packets. Seen `messageID`s:
//! [`SEEN_CAPACITY`] for [`SEEN_LIFETIME`].

mod output;
mod receive;
mod send;
mod stats;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use ipnet::Ipv4Net;
use modem_value::{Duration, Instant, RandomSource, Table, Value};

use crate::addr::{directed_broadcast, ip_value, LOOPBACK_IP, LOOPBACK_PREFIX};
use crate::arp::ArpCache;
use crate::route::{Route, RouteTables};
use crate::seen::SeenIds;
use crate::wire::internet::DEFAULT_HOPS;
use crate::wire::{ArpMessage, ArpRequest};
use crate::{ComputerId, ConfigError};

pub use crate::device::Device;
pub use crate::seen::{SEEN_CAPACITY, SEEN_LIFETIME};
pub use output::{ChannelChange, Delivery, NetEvent, SendId, SendOutcome, SendResult, Transmit};
pub use stats::Stats;

/// How long a resolution waits for an ARP answer (one request, no retry).
pub const ARP_TIMEOUT: Duration = Duration::from_secs(2);
/// Most next hops being resolved at once (over all interfaces); a send to another unresolved
/// next hop fails with `No route to host`.
pub const MAX_PENDING_RESOLUTIONS: usize = 256;
/// Most packets waiting on one resolution; further packets fail with `No route to host`.
pub const MAX_QUEUED_PER_RESOLUTION: usize = 32;
/// Most items in each output queue.
pub const MAX_QUEUED_OUTPUTS: usize = 65_536;
/// Most self-delivered frames processed per call.
pub const LOOPBACK_BUDGET: usize = 256;
/// Most self-delivered frames waiting.
pub const MAX_LOOPBACK_QUEUE: usize = 4096;
/// Path of the loopback interface every stack starts with.
pub const LOOPBACK_DEVICE: &str = "/lo";

/// Construction parameters.
#[derive(Clone, Debug)]
pub struct StackConfig {
    /// This computer's ID (`os.getComputerID()`).
    pub computer_id: ComputerId,
    /// Router mode: forward packets for other addresses. Default off, as Phoenix.
    pub forwarding: bool,
    /// Create the loopback interface `/lo` as `127.0.0.1/8`, up (as Phoenix boots). Default on.
    pub loopback: bool,
}

impl StackConfig {
    /// A host (not a router) with the loopback interface.
    pub fn new(computer_id: ComputerId) -> StackConfig {
        StackConfig {
            computer_id,
            forwarding: false,
            loopback: true,
        }
    }
}

/// An interface's PIP configuration (`ipconfig`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpConfig {
    /// The address.
    pub ip: Ipv4Addr,
    /// The netmask as a prefix length.
    pub prefix: u8,
    /// Whether the interface takes part in networking.
    pub up: bool,
}

impl IpConfig {
    /// `ipconfig`'s result: `{ip = dotted, netmask = prefix length, up}`.
    pub fn to_value(&self) -> Value {
        let mut t = Table::with_capacity(3);
        t.set("ip", ip_value(self.ip));
        t.set("netmask", Value::from(self.prefix));
        t.set("up", Value::Bool(self.up));
        Value::Table(t)
    }

    /// The interface subnet.
    pub fn net(&self) -> Ipv4Net {
        crate::addr::network(self.ip, self.prefix)
    }
}

/// The `info` argument of `ipconfig`: fields to change. Creating a configuration needs `ip`
/// and `prefix`; `up` defaults to `true` on creation (creating opens channel 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IpConfigChange {
    /// New address.
    pub ip: Option<Ipv4Addr>,
    /// New prefix length (0..=32).
    pub prefix: Option<u8>,
    /// New state.
    pub up: Option<bool>,
}

/// Per-send options.
#[derive(Clone, Debug)]
pub struct SendOptions {
    /// `hopsLeft` of the packet (default 15).
    pub hops: u32,
    /// Queue a [`SendResult`] when the packet was sent or failed (PSP connect needs it).
    pub notify: bool,
    /// Only use routes on this interface; otherwise `No route to host`.
    pub device: Option<Device>,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions {
            hops: DEFAULT_HOPS,
            notify: false,
            device: None,
        }
    }
}

#[derive(Clone, Debug)]
struct Interface {
    device: Device,
    loopback: bool,
    config: Option<IpConfig>,
    arp: ArpCache,
}

impl Interface {
    fn up_config(&self) -> Option<IpConfig> {
        self.config.filter(|c| c.up)
    }
}

/// Where a queued packet came from, which decides how its failure is reported.
#[derive(Clone, Debug)]
enum Origin {
    /// Our own send: local `unreachable` event (+ [`SendResult`] if asked).
    Local(Option<SendId>),
    /// Forwarded for `source`: `unreachable` back over the wire unless the packet is
    /// itself an MCP error.
    Forwarded,
}

#[derive(Clone, Debug)]
struct Queued {
    packet: Table,
    out_port: u16,
    in_port: u16,
    origin: Origin,
}

#[derive(Clone, Debug)]
struct Pending {
    deadline: Instant,
    queue: VecDeque<Queued>,
}

#[derive(Clone, Debug)]
struct LoopFrame {
    iface: usize,
    channel: u16,
    reply_channel: u16,
    message: Value,
}

/// The link and internet layers of one computer. See the [module docs](self).
#[derive(Debug)]
pub struct PipStack<R> {
    id: ComputerId,
    rng: R,
    forwarding: bool,
    netevent: bool,
    ifaces: Vec<Interface>,
    routes: RouteTables,
    seen: SeenIds,
    pending: BTreeMap<(usize, u32), Pending>,
    loopback: VecDeque<LoopFrame>,
    out_transmit: VecDeque<Transmit>,
    out_channel: VecDeque<ChannelChange>,
    out_delivery: VecDeque<Delivery>,
    out_event: VecDeque<NetEvent>,
    out_result: VecDeque<SendResult>,
    next_send: u64,
    now: Instant,
    stats: Stats,
    /// The last PLP frame sent and its destination, shared with that transmit (see
    /// `link_frame`).
    link_template: Option<(Option<ComputerId>, Table)>,
    /// The last source (0) and destination (1) address written into a new packet, with its
    /// dotted text (see `ip_text`).
    ip_text: [(Ipv4Addr, Value); 2],
}

fn push_bounded<T>(q: &mut VecDeque<T>, item: T, stats: &mut Stats) {
    if q.len() < MAX_QUEUED_OUTPUTS {
        q.push_back(item);
    } else {
        stats.drop_output_full += 1;
    }
}

impl<R: RandomSource> PipStack<R> {
    /// A stack with no modems (and `/lo` if `config.loopback`).
    pub fn new(config: StackConfig, rng: R) -> PipStack<R> {
        let mut rng = rng;
        let seen = SeenIds::new(&mut rng);
        let mut s = PipStack {
            id: config.computer_id,
            rng,
            forwarding: config.forwarding,
            netevent: false,
            ifaces: Vec::new(),
            routes: RouteTables::new(),
            seen,
            pending: BTreeMap::new(),
            loopback: VecDeque::new(),
            out_transmit: VecDeque::new(),
            out_channel: VecDeque::new(),
            out_delivery: VecDeque::new(),
            out_event: VecDeque::new(),
            out_result: VecDeque::new(),
            next_send: 0,
            now: Instant::ZERO,
            stats: Stats::default(),
            link_template: None,
            ip_text: core::array::from_fn(|_| {
                (Ipv4Addr::UNSPECIFIED, ip_value(Ipv4Addr::UNSPECIFIED))
            }),
        };
        if config.loopback {
            let dev = Device::new(LOOPBACK_DEVICE);
            let cfg = IpConfig {
                ip: LOOPBACK_IP,
                prefix: LOOPBACK_PREFIX,
                up: true,
            };
            s.routes.set_auto_routes(&dev, Some((cfg.ip, cfg.prefix)));
            s.ifaces.push(Interface {
                device: dev,
                loopback: true,
                config: Some(cfg),
                arp: ArpCache::new(),
            });
        }
        s
    }

    /// This computer's ID.
    pub fn computer_id(&self) -> ComputerId {
        self.id
    }

    /// The injected randomness (shared with the transports).
    pub fn rng_mut(&mut self) -> &mut R {
        &mut self.rng
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Router mode.
    pub fn forwarding(&self) -> bool {
        self.forwarding
    }

    /// Turns router mode on or off.
    pub fn set_forwarding(&mut self, on: bool) {
        self.forwarding = on;
    }

    /// Whether [`NetEvent::Foreign`] packets are queued (`netevent` has subscribers).
    pub fn netevent(&self) -> bool {
        self.netevent
    }

    /// Sets whether any process listens to `netevent`; foreign packets are only queued then.
    pub fn set_netevent(&mut self, on: bool) {
        self.netevent = on;
    }

    /// The route tables (read-only; change them with the `route_*` calls).
    pub fn routes(&self) -> &RouteTables {
        &self.routes
    }

    /// Number of remembered PIP `messageID`s (at most [`SEEN_CAPACITY`]).
    pub fn seen_ids_len(&self) -> usize {
        self.seen.len()
    }

    /// Number of entries in the ARP cache of `device` (at most
    /// [`ARP_CACHE_CAPACITY`](crate::arp::ARP_CACHE_CAPACITY) + 1).
    pub fn arp_len(&self, device: &str) -> Result<usize, ConfigError> {
        let idx = self.iface_index(device).ok_or(ConfigError::NoSuchDevice)?;
        Ok(self.ifaces[idx].arp.len())
    }

    /// Number of next hops being resolved.
    pub fn pending_resolutions(&self) -> usize {
        self.pending.len()
    }

    /// Devices, in the order they were added.
    pub fn devices(&self) -> impl Iterator<Item = &Device> + '_ {
        self.ifaces.iter().map(|i| &i.device)
    }

    fn iface_index(&self, device: &str) -> Option<usize> {
        self.ifaces.iter().position(|i| i.device == *device)
    }

    fn iface_of(&self, device: &Device) -> Option<usize> {
        self.ifaces.iter().position(|i| i.device == *device)
    }

    /// Adds a modem (an interface with no configuration yet).
    pub fn add_device(&mut self, path: &str) -> Result<Device, ConfigError> {
        if self.iface_index(path).is_some() {
            return Err(ConfigError::DeviceExists);
        }
        let device = Device::new(path);
        self.ifaces.push(Interface {
            device: device.clone(),
            loopback: false,
            config: None,
            arp: ArpCache::new(),
        });
        Ok(device)
    }

    /// Removes a modem (detached): closes channel 0 if it was open, removes its auto routes
    /// and every user route naming it, and fails packets waiting on it with `Network is down`.
    pub fn remove_device(&mut self, now: Instant, path: &str) -> Result<(), ConfigError> {
        self.now = now;
        let idx = self.iface_index(path).ok_or(ConfigError::NoSuchDevice)?;
        self.remove_ipconfig(path)?;
        let device = self.ifaces[idx].device.clone();
        self.routes.remove_device_routes(&device);
        self.fail_pending_where(|(i, _)| *i == idx, "Network is down");
        self.ifaces.remove(idx);
        // Indices above `idx` shifted down by one.
        let pending = core::mem::take(&mut self.pending);
        self.pending = pending
            .into_iter()
            .map(|((i, ip), p)| ((if i > idx { i - 1 } else { i }, ip), p))
            .collect();
        self.loopback.retain(|f| f.iface != idx);
        for f in self.loopback.iter_mut() {
            if f.iface > idx {
                f.iface -= 1;
            }
        }
        Ok(())
    }

    /// The configuration of `device` (`ipconfig(device)`), `None` if never configured.
    pub fn ipconfig_get(&self, device: &str) -> Result<Option<IpConfig>, ConfigError> {
        let idx = self.iface_index(device).ok_or(ConfigError::NoSuchDevice)?;
        Ok(self.ifaces[idx].config)
    }

    /// `ipconfig(device, info)`: creates or changes the configuration and returns it.
    ///
    /// Effects: channel 0 is opened when the interface becomes up and closed when it goes
    /// down; the table-0 routes follow the address; the ARP self entry moves to
    /// the new address; a collision probe is sent when an up interface gets an address
    /// or an addressed interface comes up.
    pub fn ipconfig(
        &mut self,
        device: &str,
        change: IpConfigChange,
    ) -> Result<IpConfig, ConfigError> {
        let idx = self.iface_index(device).ok_or(ConfigError::NoSuchDevice)?;
        if change.prefix.is_some_and(|p| p > 32) {
            return Err(ConfigError::InvalidNetmask);
        }
        let old = self.ifaces[idx].config;
        let new = match old {
            None => IpConfig {
                ip: change.ip.ok_or(ConfigError::MissingField("ip"))?,
                prefix: change.prefix.ok_or(ConfigError::MissingField("netmask"))?,
                up: change.up.unwrap_or(true),
            },
            Some(o) => IpConfig {
                ip: change.ip.unwrap_or(o.ip),
                prefix: change.prefix.unwrap_or(o.prefix),
                up: change.up.unwrap_or(o.up),
            },
        };
        let iface = &mut self.ifaces[idx];
        iface.config = Some(new);
        let device = iface.device.clone();
        let loopback = iface.loopback;
        let was_up = old.is_some_and(|o| o.up);
        let addr_changed = old.is_none_or(|o| o.ip != new.ip || o.prefix != new.prefix);
        if addr_changed {
            self.routes
                .set_auto_routes(&device, Some((new.ip, new.prefix)));
            if !loopback {
                let id = self.id;
                self.ifaces[idx].arp.set_self(Some(new.ip), id);
            }
        }
        if !loopback {
            if !was_up && new.up {
                push_bounded(
                    &mut self.out_channel,
                    ChannelChange {
                        device: device.clone(),
                        channel: 0,
                        open: true,
                    },
                    &mut self.stats,
                );
            } else if was_up && !new.up {
                push_bounded(
                    &mut self.out_channel,
                    ChannelChange {
                        device: device.clone(),
                        channel: 0,
                        open: false,
                    },
                    &mut self.stats,
                );
            }
            let ip_is_new = old.is_none_or(|o| o.ip != new.ip);
            if new.up && (ip_is_new || !was_up) {
                let probe = ArpMessage::Request(ArpRequest {
                    source: self.id,
                    source_ip: Some(new.ip),
                    destination_ip: new.ip,
                });
                self.transmit_arp(idx, &probe);
            }
        }
        Ok(new)
    }

    /// Removes the configuration of `device` (closing channel 0 if it was up, removing its
    /// table-0 routes and self entry). Not an error if it had none.
    pub fn remove_ipconfig(&mut self, device: &str) -> Result<(), ConfigError> {
        let idx = self.iface_index(device).ok_or(ConfigError::NoSuchDevice)?;
        let iface = &mut self.ifaces[idx];
        let Some(old) = iface.config.take() else {
            return Ok(());
        };
        let dev = iface.device.clone();
        if !iface.loopback {
            iface.arp.set_self(None, self.id);
            if old.up {
                push_bounded(
                    &mut self.out_channel,
                    ChannelChange {
                        device: dev.clone(),
                        channel: 0,
                        open: false,
                    },
                    &mut self.stats,
                );
            }
        }
        self.routes.set_auto_routes(&dev, None);
        Ok(())
    }

    /// `routeadd`: adds a user route to `table` (≥ 1). The device must exist.
    pub fn route_add(&mut self, table: u32, route: Route) -> Result<(), ConfigError> {
        if route.action.needs_device() {
            if let Some(d) = &route.device {
                if self.iface_of(d).is_none() {
                    return Err(ConfigError::NoSuchDevice);
                }
            }
        }
        self.routes.add(table, route)
    }

    /// `routedel`: removes the route for `net` from `table` (≥ 1). A missing route is not an
    /// error; a missing table is (`Route table does not exist`). Use
    /// [`addr::parse_cidr`](crate::addr::parse_cidr) for the `a.b.c.d/n` form.
    pub fn route_remove(&mut self, table: u32, net: Ipv4Net) -> Result<(), ConfigError> {
        self.routes.remove(table, net)
    }

    /// `routelist(table)`: the table in the spec's shape, or nil if it does not exist.
    pub fn route_list(&self, table: u32) -> Value {
        self.routes.list_value(table)
    }

    /// `arplist(device)`: the usable entries (empty for the loopback interface).
    pub fn arp_list(&self, device: &str) -> Result<Vec<(Ipv4Addr, ComputerId)>, ConfigError> {
        let idx = self.iface_index(device).ok_or(ConfigError::NoSuchDevice)?;
        let iface = &self.ifaces[idx];
        if iface.loopback {
            return Ok(Vec::new());
        }
        Ok(iface
            .arp
            .entries(self.now)
            .into_iter()
            .map(|(ip, id, _)| (ip, id))
            .collect())
    }

    /// `arplist(device)` as Phoenix returns it: `{[dotted ip] = id}`.
    pub fn arp_list_value(&self, device: &str) -> Result<Value, ConfigError> {
        let mut t = Table::new();
        for (ip, id) in self.arp_list(device)? {
            // A string key is never nil or NaN.
            let _ = t.insert(ip_value(ip), Value::from(id));
        }
        Ok(Value::Table(t))
    }

    /// `arpset(device, ip, id)`; `None` removes the entry. A no-op on the loopback
    /// interface, where every address is this computer. Packets waiting for `ip` are sent.
    pub fn arp_set(
        &mut self,
        device: &str,
        ip: Ipv4Addr,
        id: Option<ComputerId>,
    ) -> Result<(), ConfigError> {
        let idx = self.iface_index(device).ok_or(ConfigError::NoSuchDevice)?;
        if self.ifaces[idx].loopback {
            return Ok(());
        }
        match id {
            None => self.ifaces[idx].arp.remove(ip),
            Some(id) => {
                self.ifaces[idx].arp.set_manual(ip, id)?;
                self.resolved(idx, ip, id);
            }
        }
        Ok(())
    }

    /// Whether any output queue holds something (a host can skip draining when not).
    pub fn has_output(&self) -> bool {
        !(self.out_transmit.is_empty()
            && self.out_channel.is_empty()
            && self.out_delivery.is_empty()
            && self.out_event.is_empty()
            && self.out_result.is_empty())
    }

    /// Whether the only pending outputs are transmits (what forwarding a packet leaves): a
    /// caller may then drain [`PipStack::poll_transmit`] alone.
    pub fn has_only_transmits(&self) -> bool {
        self.out_channel.is_empty()
            && self.out_delivery.is_empty()
            && self.out_event.is_empty()
            && self.out_result.is_empty()
    }

    /// The next instant [`PipStack::handle_timeout`] must be called at, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if !self.loopback.is_empty() {
            return Some(self.now);
        }
        self.pending.values().map(|p| p.deadline).min()
    }

    /// Lets time pass: fails resolutions older than [`ARP_TIMEOUT`] with `No route to host`,
    /// forgets expired `messageID`s, and processes deferred self-deliveries.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        let now = self.now;
        self.seen.expire(now);
        let expired: Vec<(usize, u32)> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(k, _)| *k)
            .collect();
        for k in expired {
            if let Some(p) = self.pending.remove(&k) {
                self.stats.arp_timeouts += 1;
                for q in p.queue {
                    self.fail_queued(q, "No route to host");
                }
            }
        }
        self.run_loopback();
    }

    fn fail_pending_where(&mut self, pred: impl Fn(&(usize, u32)) -> bool, error: &'static str) {
        let keys: Vec<(usize, u32)> = self.pending.keys().copied().filter(|k| pred(k)).collect();
        for k in keys {
            if let Some(p) = self.pending.remove(&k) {
                for q in p.queue {
                    self.fail_queued(q, error);
                }
            }
        }
    }

    /// Next transmit.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out_transmit.pop_front()
    }

    /// Next channel open/close.
    #[must_use]
    pub fn poll_channel(&mut self) -> Option<ChannelChange> {
        self.out_channel.pop_front()
    }

    /// Next transport payload for this computer.
    #[must_use]
    pub fn poll_delivery(&mut self) -> Option<Delivery> {
        self.out_delivery.pop_front()
    }

    /// Next MCP / netevent / collision event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<NetEvent> {
        self.out_event.pop_front()
    }

    /// Next send completion.
    #[must_use]
    pub fn poll_send_result(&mut self) -> Option<SendResult> {
        self.out_result.pop_front()
    }

    /// Whether `dst` is addressed to interface `idx`: its address, its directed broadcast, or
    /// the limited broadcast.
    fn is_local_on(&self, idx: usize, dst: Ipv4Addr) -> bool {
        self.ifaces
            .get(idx)
            .and_then(Interface::up_config)
            .is_some_and(|c| {
                c.ip == dst
                    || dst == Ipv4Addr::BROADCAST
                    || directed_broadcast(c.ip, c.prefix) == dst
            })
    }

    /// Whether `dst` is an address of any up interface (a router's weak-host check).
    fn is_local_anywhere(&self, dst: Ipv4Addr) -> bool {
        (0..self.ifaces.len()).any(|i| self.is_local_on(i, dst))
    }
}
