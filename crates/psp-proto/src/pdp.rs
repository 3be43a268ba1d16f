//! PDP: datagram client handles, listeners and per-sender pseudo-handles.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use modem_value::{DecodeError, Instant, RandomSource, Value, WireMessage};

use crate::config::{MAX_PDP_PSEUDO_PER_LISTENER, MAX_PDP_QUEUE, PDP_PSEUDO_MIN_IDLE};
use crate::ports::pick_ephemeral;
use crate::psp::Outputs;
use crate::{ChannelRequest, Datagram, HandleId, PspError, PspEvent, SegmentContext, Transmit};

/// What a PDP handle is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PdpHandleKind {
    /// Made by `connect("pdp://ip:port")`: sends to that address, receives on its local port
    /// from anyone.
    Client,
    /// Made by a listener for one sender IP: replies go to that sender.
    Pseudo,
}

#[derive(Debug)]
struct Handle<I> {
    kind: PdpHandleKind,
    local_port: u16,
    local_ip: Option<Ipv4Addr>,
    remote_ip: Ipv4Addr,
    remote_port: u16,
    queue: VecDeque<Value>,
    holds: Vec<I>,
    via: Option<I>,
    last_active: Instant,
}

#[derive(Debug)]
struct Listener<I> {
    id: HandleId,
    uri: String,
    ip: Ipv4Addr,
    holds: Vec<I>,
    /// Sender IP → pseudo-handle.
    pseudo: BTreeMap<u32, HandleId>,
}

/// The PDP side of one computer's stack. Same shape as [`PspEndpoint`](crate::PspEndpoint):
/// calls and received datagrams in, channel requests / transmits / events out (drain in that
/// order). PDP has no timers; pseudo-handle expiry is evaluated when a new sender arrives.
#[derive(Debug)]
pub struct PdpEndpoint<I> {
    handles: BTreeMap<HandleId, Handle<I>>,
    clients: BTreeMap<u16, HandleId>,
    listeners: BTreeMap<u16, Listener<I>>,
    out: Outputs<I>,
}

impl<I: Clone + PartialEq> Default for PdpEndpoint<I> {
    fn default() -> Self {
        PdpEndpoint::new()
    }
}

impl<I: Clone + PartialEq> PdpEndpoint<I> {
    /// An endpoint with no handles.
    pub fn new() -> Self {
        PdpEndpoint {
            handles: BTreeMap::new(),
            clients: BTreeMap::new(),
            listeners: BTreeMap::new(),
            out: Outputs::default(),
        }
    }

    fn id_in_use(&self, id: HandleId) -> bool {
        self.handles.contains_key(&id) || self.listeners.values().any(|l| l.id == id)
    }

    /// `connect("pdp://ip:port")`: a client handle on a free ephemeral port, opened on
    /// `interfaces` (Phoenix: every modem). Returns the local port.
    pub fn connect(
        &mut self,
        now: Instant,
        rng: &mut impl RandomSource,
        id: HandleId,
        remote_ip: Ipv4Addr,
        remote_port: Option<u16>,
        interfaces: impl IntoIterator<Item = I>,
    ) -> Result<u16, PspError> {
        let port = remote_port.ok_or(PspError::NoPortSpecified)?;
        if port == 0 {
            return Err(PspError::InvalidPort);
        }
        if self.id_in_use(id) {
            return Err(PspError::DuplicateId);
        }
        let local = pick_ephemeral(rng, |p| {
            self.clients.contains_key(&p) || self.listeners.contains_key(&p)
        })?;
        let holds: Vec<I> = interfaces.into_iter().collect();
        for i in &holds {
            self.out.channels.push_back(ChannelRequest::Open {
                interface: i.clone(),
                channel: local,
            });
        }
        self.clients.insert(local, id);
        self.handles.insert(
            id,
            Handle {
                kind: PdpHandleKind::Client,
                local_port: local,
                local_ip: None,
                remote_ip,
                remote_port: port,
                queue: VecDeque::new(),
                holds,
                via: None,
                last_active: now,
            },
        );
        Ok(local)
    }

    /// `listen("pdp://ip:port")`, opening the port on `interfaces`.
    pub fn listen(
        &mut self,
        id: HandleId,
        uri: &str,
        ip: Ipv4Addr,
        port: Option<u16>,
        interfaces: impl IntoIterator<Item = I>,
    ) -> Result<(), PspError> {
        let port = port.ok_or(PspError::MissingPort)?;
        if port == 0 {
            return Err(PspError::InvalidPort);
        }
        if self.listeners.contains_key(&port) {
            return Err(PspError::PortAlreadyOpen);
        }
        if self.id_in_use(id) {
            return Err(PspError::DuplicateId);
        }
        let holds: Vec<I> = interfaces.into_iter().collect();
        for i in &holds {
            self.out.channels.push_back(ChannelRequest::Open {
                interface: i.clone(),
                channel: port,
            });
        }
        self.listeners.insert(
            port,
            Listener {
                id,
                uri: String::from(uri),
                ip,
                holds,
                pseudo: BTreeMap::new(),
            },
        );
        Ok(())
    }

    /// `unlisten`: closes the listener's channels and drops it (silent when not listening).
    /// Its pseudo-handles stay usable for replies.
    pub fn unlisten(&mut self, port: u16) -> Option<HandleId> {
        let l = self.listeners.remove(&port)?;
        for i in l.holds {
            self.out.channels.push_back(ChannelRequest::Close {
                interface: i,
                channel: port,
            });
        }
        Some(l.id)
    }

    /// `write(v)`: one datagram carrying `message` (the first argument, unconverted).
    pub fn write(&mut self, id: HandleId, message: Value) -> Result<(), PspError> {
        let h = self.handles.get(&id).ok_or(PspError::NoSuchSocket)?;
        self.out.transmits.push_back(Transmit {
            dst_ip: h.remote_ip,
            out_port: h.remote_port,
            in_port: h.local_port,
            payload: Datagram { message }.encode(),
            via_interface: h.via.clone(),
        });
        Ok(())
    }

    /// `read()`: the oldest queued message, or `None` when the queue is empty, with no other
    /// effect. Read modes do not apply to PDP.
    pub fn read(&mut self, id: HandleId) -> Result<Option<Value>, PspError> {
        let h = self.handles.get_mut(&id).ok_or(PspError::NoSuchSocket)?;
        Ok(h.queue.pop_front())
    }

    /// Messages waiting on a handle.
    pub fn queued(&self, id: HandleId) -> Option<usize> {
        self.handles.get(&id).map(|h| h.queue.len())
    }

    /// What kind of handle `id` is.
    pub fn kind(&self, id: HandleId) -> Option<PdpHandleKind> {
        self.handles.get(&id).map(|h| h.kind)
    }

    /// `localIP()`: nil for clients; for a pseudo-handle, our address its sender used.
    pub fn local_ip(&self, id: HandleId) -> Option<Ipv4Addr> {
        self.handles.get(&id).and_then(|h| h.local_ip)
    }

    /// Whether `id` is a live PDP handle (its `status()` is then always `"open"`).
    pub fn contains(&self, id: HandleId) -> bool {
        self.handles.contains_key(&id)
    }

    /// Number of pseudo-handles of the listener on `port`.
    pub fn pseudo_count(&self, port: u16) -> usize {
        self.listeners.get(&port).map_or(0, |l| l.pseudo.len())
    }

    /// `close()`: a client stops receiving and releases its channels (Phoenix
    /// 0.0.9 left them open); a pseudo-handle is forgotten (a later datagram from that sender
    /// makes a new one).
    pub fn close(&mut self, id: HandleId) -> Result<(), PspError> {
        let h = self.handles.remove(&id).ok_or(PspError::NoSuchSocket)?;
        match h.kind {
            PdpHandleKind::Client => {
                self.clients.remove(&h.local_port);
                for i in h.holds {
                    self.out.channels.push_back(ChannelRequest::Close {
                        interface: i,
                        channel: h.local_port,
                    });
                }
            }
            PdpHandleKind::Pseudo => {
                if let Some(l) = self.listeners.get_mut(&h.local_port) {
                    l.pseudo.retain(|_, v| *v != id);
                }
            }
        }
        Ok(())
    }

    /// A received `datagram` table: strictly decoded (dropped with its error if malformed),
    /// then delivered.
    pub fn handle_datagram_value(
        &mut self,
        now: Instant,
        ctx: &SegmentContext<I>,
        value: &Value,
        alloc_id: &mut impl FnMut() -> HandleId,
    ) -> Result<(), DecodeError> {
        let d = Datagram::decode(value)?;
        self.handle_datagram(now, ctx, d, alloc_id);
        Ok(())
    }

    /// A received datagram: to the client handle on the arrival port, else to the
    /// listener there (a new sender IP gets a pseudo-handle, whose id `alloc_id` supplies, and a
    /// `network_request`), else dropped. Port 0 on either side is dropped.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        ctx: &SegmentContext<I>,
        d: Datagram,
        alloc_id: &mut impl FnMut() -> HandleId,
    ) {
        if ctx.channel == 0 || ctx.reply_channel == 0 {
            return;
        }
        if let Some(&id) = self.clients.get(&ctx.channel) {
            self.enqueue(now, id, d.message);
            return;
        }
        let Some(l) = self.listeners.get_mut(&ctx.channel) else {
            return;
        };
        if l.ip != Ipv4Addr::UNSPECIFIED && l.ip != ctx.local_ip {
            return;
        }
        let src = u32::from(ctx.source_ip);
        if let Some(&id) = l.pseudo.get(&src) {
            if let Some(h) = self.handles.get_mut(&id) {
                h.remote_port = ctx.reply_channel;
                h.via = Some(ctx.interface.clone());
            }
            self.enqueue(now, id, d.message);
            return;
        }
        if l.pseudo.len() >= MAX_PDP_PSEUDO_PER_LISTENER {
            // Evict the least recently active pseudo-handle if it has been idle long enough.
            let handles = &self.handles;
            let oldest = l
                .pseudo
                .iter()
                .filter_map(|(ip, id)| handles.get(id).map(|h| (h.last_active, *ip, *id)))
                .min();
            match oldest {
                Some((t, ip, id)) if now.saturating_duration_since(t) >= PDP_PSEUDO_MIN_IDLE => {
                    l.pseudo.remove(&ip);
                    self.handles.remove(&id);
                }
                _ => return,
            }
        }
        let id = alloc_id();
        if self.handles.contains_key(&id) || id == l.id {
            return;
        }
        l.pseudo.insert(src, id);
        let uri = l.uri.clone();
        let mut queue = VecDeque::new();
        queue.push_back(d.message);
        self.handles.insert(
            id,
            Handle {
                kind: PdpHandleKind::Pseudo,
                local_port: ctx.channel,
                local_ip: Some(ctx.local_ip),
                remote_ip: ctx.source_ip,
                remote_port: ctx.reply_channel,
                queue,
                holds: Vec::new(),
                via: Some(ctx.interface.clone()),
                last_active: now,
            },
        );
        self.out.events.push_back(PspEvent::NetworkRequest {
            uri,
            ip: ctx.source_ip,
            handle: id,
        });
    }

    fn enqueue(&mut self, now: Instant, id: HandleId, message: Value) {
        let Some(h) = self.handles.get_mut(&id) else {
            return;
        };
        h.last_active = now;
        if h.queue.len() >= MAX_PDP_QUEUE {
            return;
        }
        h.queue.push_back(message);
        self.out.events.push_back(PspEvent::DataReady { id });
    }

    /// The next datagram to hand to pip-core's send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit<I>> {
        self.out.transmits.pop_front()
    }

    /// The next channel open/close request.
    #[must_use]
    pub fn poll_channel(&mut self) -> Option<ChannelRequest<I>> {
        self.out.channels.pop_front()
    }

    /// The next event for a program.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<PspEvent> {
        self.out.events.pop_front()
    }
}
