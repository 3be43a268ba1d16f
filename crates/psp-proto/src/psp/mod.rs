//! The PSP endpoint of one computer: listeners, connections, demultiplexing and the outputs.

mod conn;
mod rtt;
mod state;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use modem_value::{DeadlineIndex, DecodeError, Instant, LuaStr, RandomSource, Value, WireMessage};

use crate::config::{PspConfig, LISTEN_BACKLOG, MAX_HALF_OPEN};
use crate::ports::pick_ephemeral;
use crate::{
    ChannelRequest, ControlKind, ControlReport, HandleId, HandleStatus, PspError, PspEvent,
    Segment, SegmentContext, Transmit,
};
use conn::{initial_sequence, Conn, Origin};
pub use state::State;

/// Output queues shared by the endpoint and its connections.
#[derive(Debug)]
pub(crate) struct Outputs<I> {
    pub transmits: VecDeque<Transmit<I>>,
    pub channels: VecDeque<ChannelRequest<I>>,
    pub events: VecDeque<PspEvent>,
}

impl<I> Default for Outputs<I> {
    fn default() -> Self {
        Outputs {
            transmits: VecDeque::new(),
            channels: VecDeque::new(),
            events: VecDeque::new(),
        }
    }
}

/// A listen record.
#[derive(Debug)]
struct Listener<I> {
    id: HandleId,
    uri: String,
    ip: Ipv4Addr,
    holds: Vec<I>,
    /// Its half-open connections in the backlog, oldest first (at most [`LISTEN_BACKLOG`]).
    pending: VecDeque<u64>,
}

/// Counters of one connection's queues, for tests, monitoring and the bound checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnStats {
    /// Sent messages not yet acknowledged (≤ [`MAX_UNACKED`](crate::config::MAX_UNACKED) plus
    /// the peer's window).
    pub unacked: usize,
    /// Writes waiting for the peer's window.
    pub pending_writes: usize,
    /// Out-of-order segments buffered.
    pub out_of_order: usize,
    /// Received bytes not yet read.
    pub buffered: usize,
    /// The next sequence number this side will use.
    pub next_send: u64,
    /// The next sequence number this side expects.
    pub next_expected: u64,
    /// Messages re-sent (every copy counts).
    pub retransmitted: u64,
    /// Retransmission timeouts that fired.
    pub timeouts: u64,
    /// Fast retransmissions (duplicate ACKs, adaptive rule).
    pub fast_retransmits: u64,
    /// Smoothed round trip (adaptive rule, once sampled).
    pub srtt: Option<core::time::Duration>,
    /// The current retransmission timeout.
    pub rto: core::time::Duration,
}

type DemuxKey = (u16, u32, u16);

/// The PSP side of one computer's network stack, generic over the host's interface key `I`
/// (a device path, an index…).
///
/// Inputs: [`connect`](Self::connect), [`listen`](Self::listen), [`write`](Self::write),
/// [`close`](Self::close) and the other program calls; received segments
/// ([`handle_segment`](Self::handle_segment)); PIP send reports
/// ([`handle_syn_sent`](Self::handle_syn_sent)); channel failures; control reports; ticks
/// ([`handle_timeout`](Self::handle_timeout)).
///
/// Outputs, drained after every input in this order: [`poll_channel`](Self::poll_channel)
/// (open a port before anything is sent from it), [`poll_transmit`](Self::poll_transmit),
/// [`poll_event`](Self::poll_event); then [`poll_timeout`](Self::poll_timeout) for the next
/// deadline. Output queues grow only with inputs, so a host that drains after each input keeps
/// them small.
#[derive(Debug)]
pub struct PspEndpoint<I> {
    cfg: PspConfig,
    conns: BTreeMap<HandleId, Conn<I>>,
    demux: BTreeMap<DemuxKey, HandleId>,
    listeners: BTreeMap<u16, Listener<I>>,
    /// Half-open connections (syn-received) by an internal serial: they belong to a listen
    /// record, not yet to a handle. The first to complete its handshake becomes the listener's
    /// handle (one-shot `listen`); the others are reset.
    backlog: BTreeMap<u64, Conn<I>>,
    backlog_demux: BTreeMap<DemuxKey, u64>,
    backlog_timers: DeadlineIndex<u64>,
    next_serial: u64,
    /// Every connection's next deadline, ordered (re-armed in [`settle`](Self::settle) after each
    /// change), so `poll_timeout` does not scan idle connections.
    timers: DeadlineIndex<HandleId>,
    out: Outputs<I>,
}

impl<I: Clone + PartialEq> Default for PspEndpoint<I> {
    fn default() -> Self {
        PspEndpoint::new(PspConfig::default())
    }
}

fn key(local: u16, ip: Ipv4Addr, remote: u16) -> DemuxKey {
    (local, u32::from(ip), remote)
}

impl<I: Clone + PartialEq> PspEndpoint<I> {
    /// An endpoint with no sockets.
    pub fn new(cfg: PspConfig) -> Self {
        PspEndpoint {
            cfg,
            conns: BTreeMap::new(),
            demux: BTreeMap::new(),
            listeners: BTreeMap::new(),
            backlog: BTreeMap::new(),
            backlog_demux: BTreeMap::new(),
            backlog_timers: DeadlineIndex::new(),
            next_serial: 0,
            timers: DeadlineIndex::new(),
            out: Outputs::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &PspConfig {
        &self.cfg
    }

    fn id_in_use(&self, id: HandleId) -> bool {
        self.conns.contains_key(&id) || self.listeners.values().any(|l| l.id == id)
    }

    // ----- program calls --------------------------------------------------------------

    /// `connect("psp://ip:port")`: picks an ephemeral port, sends the SYN and returns
    /// the local port. The socket is `connecting` until the SYN-ACK. Report where the SYN left
    /// with [`handle_syn_sent`](Self::handle_syn_sent).
    pub fn connect(
        &mut self,
        now: Instant,
        rng: &mut impl RandomSource,
        id: HandleId,
        remote_ip: Ipv4Addr,
        remote_port: Option<u16>,
    ) -> Result<u16, PspError> {
        let port = remote_port.ok_or(PspError::NoPortSpecified)?;
        if port == 0 {
            return Err(PspError::InvalidPort);
        }
        if self.id_in_use(id) {
            return Err(PspError::DuplicateId);
        }
        let local = pick_ephemeral(rng, |p| {
            self.listeners.contains_key(&p) || self.demux.contains_key(&key(p, remote_ip, port))
        })?;
        let iss = initial_sequence(rng);
        let mut c = Conn::connect(
            now,
            id,
            local,
            remote_ip,
            port,
            iss,
            self.cfg.offers_sack(),
            &mut self.out,
        );
        c.registered = true;
        c.mode = self.cfg.recovery;
        self.demux.insert(key(local, remote_ip, port), id);
        self.conns.insert(id, c);
        self.settle(id);
        Ok(local)
    }

    /// `listen("psp://ip:port")`: one listen record on `port`, accepting one
    /// connection. `interfaces` are the configured, up interfaces whose IP is `ip` (all of them
    /// for `0.0.0.0`); the port is opened on each. `uri` is kept for `network_request`.
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
                pending: VecDeque::new(),
            },
        );
        Ok(())
    }

    /// `unlisten`: drops the listen record of `port` and releases its channels; an
    /// idle port is a silent no-op. Established connections stay; handshakes still in its
    /// backlog are reset. Returns the listener's id, if there was one.
    pub fn unlisten(&mut self, port: u16) -> Option<HandleId> {
        let l = self.listeners.remove(&port)?;
        for s in &l.pending {
            self.drop_half_open(*s, true);
        }
        for i in l.holds {
            self.out.channels.push_back(ChannelRequest::Close {
                interface: i,
                channel: port,
            });
        }
        Some(l.id)
    }

    /// `write(data)`: one DATA message (each argument of the program's `write` is one call).
    /// Sent at once if the peer's window allows, else queued.
    pub fn write(&mut self, now: Instant, id: HandleId, data: LuaStr) -> Result<(), PspError> {
        let c = self.conns.get_mut(&id).ok_or(PspError::NoSuchSocket)?;
        let r = c.write(now, data, &mut self.out);
        self.settle(id);
        r
    }

    /// `close()`. On a listen record it unlistens. On a connection it sends our FIN
    /// after any queued writes (fin-wait); in syn-sent it resets the attempt; in
    /// close-wait/time-wait/error it fails with `attempt to close a <state> handle`.
    pub fn close(&mut self, now: Instant, id: HandleId) -> Result<(), PspError> {
        if let Some(port) = self
            .listeners
            .iter()
            .find(|(_, l)| l.id == id)
            .map(|(p, _)| *p)
        {
            self.unlisten(port);
            return Ok(());
        }
        let c = self.conns.get_mut(&id).ok_or(PspError::NoSuchSocket)?;
        let r = c.close(now, &mut self.out);
        self.settle(id);
        r
    }

    /// Whether `read` is allowed now (connected, fin-wait, close-wait, closed); else the error
    /// `attempt to read from a <state> handle`.
    pub fn check_read(&self, id: HandleId) -> Result<(), PspError> {
        let s = self.state(id).ok_or(PspError::NoSuchSocket)?;
        match s {
            State::Connected | State::FinWait | State::CloseWait | State::Closed => Ok(()),
            s => Err(PspError::CannotRead(s.name())),
        }
    }

    /// The received, unread bytes of a connection. The read modes (handle-fsm) consume from the
    /// front.
    pub fn recv_buffer(&mut self, id: HandleId) -> Option<&mut VecDeque<u8>> {
        self.conns.get_mut(&id).map(|c| &mut c.buffer)
    }

    /// `status()`: the status and, in the error state, the message.
    pub fn status(&self, id: HandleId) -> Option<(HandleStatus, Option<&str>)> {
        if self.listeners.values().any(|l| l.id == id) {
            return Some((HandleStatus::Connecting, None));
        }
        self.conns.get(&id).map(|c| c.status())
    }

    /// The state of a handle.
    pub fn state(&self, id: HandleId) -> Option<State> {
        if self.listeners.values().any(|l| l.id == id) {
            return Some(State::Listening);
        }
        self.conns.get(&id).map(|c| c.state)
    }

    /// `localIP()`: our IP in this connection, once known (after the handshake for a client).
    pub fn local_ip(&self, id: HandleId) -> Option<Ipv4Addr> {
        self.conns.get(&id).and_then(|c| c.local_ip)
    }

    /// `(local port, remote IP, remote port)` of a connection.
    pub fn addresses(&self, id: HandleId) -> Option<(u16, Ipv4Addr, u16)> {
        self.conns
            .get(&id)
            .map(|c| (c.local_port, c.remote_ip, c.remote_port))
    }

    /// Queue sizes of a connection.
    pub fn stats(&self, id: HandleId) -> Option<ConnStats> {
        self.conns.get(&id).map(|c| c.stats())
    }

    /// The live connection (not closed or failed) with these addresses, if any: the one a
    /// segment from `remote_ip:remote_port` to `local_port` reaches.
    pub fn handle_at(
        &self,
        local_port: u16,
        remote_ip: Ipv4Addr,
        remote_port: u16,
    ) -> Option<HandleId> {
        self.demux
            .get(&key(local_port, remote_ip, remote_port))
            .copied()
    }

    /// The id of the listen record on `port`, if any.
    pub fn listener(&self, port: u16) -> Option<HandleId> {
        self.listeners.get(&port).map(|l| l.id)
    }

    /// Number of connection records (any state, until [`release`](Self::release)).
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// Number of half-open (syn-received) connections in the listeners' backlogs, at most
    /// [`MAX_HALF_OPEN`](crate::config::MAX_HALF_OPEN) in all and
    /// [`LISTEN_BACKLOG`](crate::config::LISTEN_BACKLOG) per listener. They are not connection
    /// records yet (no handle is theirs until the handshake completes).
    pub fn half_open_count(&self) -> usize {
        self.backlog.len()
    }

    /// Forgets a handle: a connection is dropped whatever its state (its channels are
    /// released; nothing is sent), a listen record is unlistened. The caller does this when the
    /// program's handle goes away. Returns whether the id was known.
    pub fn release(&mut self, id: HandleId) -> bool {
        if let Some(port) = self
            .listeners
            .iter()
            .find(|(_, l)| l.id == id)
            .map(|(p, _)| *p)
        {
            self.unlisten(port);
            return true;
        }
        let Some(mut c) = self.conns.remove(&id) else {
            return false;
        };
        self.timers.remove(id);
        if c.registered {
            self.demux
                .remove(&key(c.local_port, c.remote_ip, c.remote_port));
        }
        for i in c.holds.drain(..) {
            self.out.channels.push_back(ChannelRequest::Close {
                interface: i,
                channel: c.local_port,
            });
        }
        true
    }

    // ----- network and host inputs ------------------------------------------------------

    /// The PIP send of connection `id`'s SYN completed on `result = Ok(interface)` (the port is
    /// then opened there and the 5 s connect deadline starts), or failed with `Err(message)`
    /// (the socket fails with that message and an event).
    pub fn handle_syn_sent(&mut self, now: Instant, id: HandleId, result: Result<I, &str>) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        if c.state != State::SynSent || c.syn_left {
            return;
        }
        match result {
            Ok(iface) => {
                self.out.channels.push_back(ChannelRequest::Open {
                    interface: iface.clone(),
                    channel: c.local_port,
                });
                c.holds.push(iface.clone());
                c.syn_left(now, iface);
            }
            Err(msg) => c.fail(msg, &mut self.out),
        }
        self.settle(id);
    }

    /// The host could not open `channel` on `interface` (the modem's channel limit). Call
    /// [`reap_time_wait`](Self::reap_time_wait) and retry first, as Phoenix does; report the
    /// second failure here. A connecting client sends the "could not open" RST and fails with
    /// `message`; a listener stops using that interface. The failed open owes no `Close`.
    pub fn handle_channel_failed(&mut self, interface: &I, channel: u16, message: &str) {
        if let Some(l) = self.listeners.get_mut(&channel) {
            if let Some(pos) = l.holds.iter().position(|i| i == interface) {
                l.holds.remove(pos);
            }
        }
        let ids: Vec<HandleId> = self
            .conns
            .values()
            .filter(|c| c.local_port == channel && c.holds.iter().any(|i| i == interface))
            .map(|c| c.id)
            .collect();
        for id in ids {
            if let Some(c) = self.conns.get_mut(&id) {
                if let Some(pos) = c.holds.iter().position(|i| i == interface) {
                    c.holds.remove(pos);
                }
                if c.state == State::SynSent {
                    c.port_failed(message, &mut self.out);
                }
            }
            self.settle(id);
        }
    }

    /// The forced purge Phoenix runs when a modem is out of channels: every time-wait socket is closed now (the host calls this when
    /// opening a channel failed, before retrying). Returns how many were reaped.
    pub fn reap_time_wait(&mut self) -> usize {
        let ids: Vec<HandleId> = self
            .conns
            .values()
            .filter(|c| c.state == State::TimeWait)
            .map(|c| c.id)
            .collect();
        for &id in &ids {
            if let Some(c) = self.conns.get_mut(&id) {
                c.state = State::Closed;
            }
            self.settle(id);
        }
        ids.len()
    }

    /// An MCP control message. Only an `unreachable` or `timeout` whose offending packet
    /// was addressed to a connecting socket's remote IP fails that socket (with the message's
    /// error text and an event); `ping`/`pong` never touch a socket.
    pub fn handle_control(&mut self, report: &ControlReport) {
        let default = match report.kind {
            ControlKind::Unreachable => "Destination unreachable",
            ControlKind::Timeout => "Time to live exceeded",
            ControlKind::Ping | ControlKind::Pong => return,
        };
        let Some(dst) = report.destination else {
            return;
        };
        let msg = report.error.as_deref().unwrap_or(default);
        let ids: Vec<HandleId> = self
            .conns
            .values()
            .filter(|c| c.state == State::SynSent && c.remote_ip == dst)
            .map(|c| c.id)
            .collect();
        for id in ids {
            if let Some(c) = self.conns.get_mut(&id) {
                c.fail(msg, &mut self.out);
            }
            self.settle(id);
        }
    }

    /// A received `socket` table with its PIP context: decodes it strictly (a malformed
    /// segment is dropped and its error returned, as Phoenix drops it) and processes it.
    pub fn handle_segment_value(
        &mut self,
        now: Instant,
        rng: &mut impl RandomSource,
        ctx: &SegmentContext<I>,
        value: &Value,
    ) -> Result<(), DecodeError> {
        let seg = Segment::decode(value)?;
        self.handle_segment(now, rng, ctx, &seg);
        Ok(())
    }

    /// A received, decoded segment with its PIP context. `rng` supplies the
    /// initial sequence number when a SYN reaches a listener.
    pub fn handle_segment(
        &mut self,
        now: Instant,
        rng: &mut impl RandomSource,
        ctx: &SegmentContext<I>,
        seg: &Segment,
    ) {
        if ctx.channel == 0 || ctx.reply_channel == 0 {
            return;
        }
        if let Some(&id) = self
            .demux
            .get(&key(ctx.channel, ctx.source_ip, ctx.reply_channel))
        {
            if let Some(c) = self.conns.get_mut(&id) {
                c.on_segment(now, &self.cfg, ctx.local_ip, seg, &mut self.out);
            }
            self.settle(id);
            return;
        }
        if let Some(&s) =
            self.backlog_demux
                .get(&key(ctx.channel, ctx.source_ip, ctx.reply_channel))
        {
            if let Some(c) = self.backlog.get_mut(&s) {
                c.on_segment(now, &self.cfg, ctx.local_ip, seg, &mut self.out);
            }
            self.settle_half_open(s);
            return;
        }
        let listening = self
            .listeners
            .get(&ctx.channel)
            .is_some_and(|l| l.ip == Ipv4Addr::UNSPECIFIED || l.ip == ctx.local_ip);
        if listening {
            self.on_listener_segment(now, rng, ctx, seg);
        } else {
            self.reply_unknown(ctx, seg);
        }
    }

    /// RST to a segment no socket wants; never to a RST (two hosts without sockets would
    /// otherwise bounce RSTs forever). Stateless, so a flood costs no memory.
    fn reply_unknown(&mut self, ctx: &SegmentContext<I>, seg: &Segment) {
        if seg.reset {
            return;
        }
        let rst = match seg.acknowledgement {
            Some(a) => Segment::rst(a, None),
            None => Segment::rst(
                0,
                Some(seg.sequence.saturating_add(seg.window_size.unwrap_or(0))),
            ),
        };
        self.reply(ctx, rst);
    }

    fn reply(&mut self, ctx: &SegmentContext<I>, seg: Segment) {
        self.out.transmits.push_back(Transmit {
            dst_ip: ctx.source_ip,
            out_port: ctx.reply_channel,
            in_port: ctx.channel,
            payload: seg.encode(),
            via_interface: Some(ctx.interface.clone()),
        });
    }

    fn on_listener_segment(
        &mut self,
        now: Instant,
        rng: &mut impl RandomSource,
        ctx: &SegmentContext<I>,
        seg: &Segment,
    ) {
        if seg.reset {
            return;
        }
        if let Some(a) = seg.acknowledgement {
            self.reply(ctx, Segment::rst(a, None));
            return;
        }
        if !seg.synchronize {
            return;
        }
        let Some(l) = self.listeners.get_mut(&ctx.channel) else {
            return;
        };
        if l.pending.len() >= LISTEN_BACKLOG {
            // A full backlog gives up its oldest handshake (a SYN cache): spoofed SYNs cannot
            // hold a listener, they can only push each other out.
            if let Some(old) = l.pending.pop_front() {
                self.drop_half_open(old, false);
            }
        } else if self.backlog.len() >= MAX_HALF_OPEN {
            self.reply_unknown(ctx, seg);
            return;
        }
        let Some(l) = self.listeners.get_mut(&ctx.channel) else {
            return;
        };
        let serial = self.next_serial;
        self.next_serial += 1;
        l.pending.push_back(serial);
        let iss = initial_sequence(rng);
        let origin = Origin { uri: l.uri.clone() };
        let mut c = Conn::accept(
            now,
            l.id,
            ctx.interface.clone(),
            ctx.channel,
            ctx.local_ip,
            ctx.source_ip,
            ctx.reply_channel,
            seg,
            iss,
            origin,
            Vec::new(),
            self.cfg.offers_sack(),
            &mut self.out,
        );
        c.mode = self.cfg.recovery;
        self.backlog_demux
            .insert(key(ctx.channel, ctx.source_ip, ctx.reply_channel), serial);
        self.backlog.insert(serial, c);
        self.settle_half_open(serial);
    }

    /// Forgets half-open connection `serial` (and its listener's note of it), with a RST to the
    /// peer if `reset`.
    fn drop_half_open(&mut self, serial: u64, reset: bool) {
        self.backlog_timers.remove(serial);
        let Some(c) = self.backlog.remove(&serial) else {
            return;
        };
        self.backlog_demux
            .remove(&key(c.local_port, c.remote_ip, c.remote_port));
        if let Some(l) = self.listeners.get_mut(&c.local_port) {
            l.pending.retain(|&s| s != serial);
        }
        if reset {
            c.reset_half_open(&mut self.out);
        }
    }

    /// After an input to half-open connection `serial`: a failed handshake leaves the backlog
    /// (the listen record never left, so the restore is implicit and the program sees
    /// nothing); a completed one becomes the listener's connection under the listener's id,
    /// taking its channels, and the listener's other handshakes are reset (one connection per
    /// `listen`).
    fn settle_half_open(&mut self, serial: u64) {
        let Some(c) = self.backlog.get(&serial) else {
            self.backlog_timers.remove(serial);
            return;
        };
        if c.half_open_failed.is_some() {
            self.drop_half_open(serial, false);
            return;
        }
        if c.state == State::SynReceived {
            self.backlog_timers.set(serial, c.next_deadline(&self.cfg));
            return;
        }
        let Some(mut c) = self.backlog.remove(&serial) else {
            return;
        };
        self.backlog_timers.remove(serial);
        let k = key(c.local_port, c.remote_ip, c.remote_port);
        self.backlog_demux.remove(&k);
        let Some(l) = self.listeners.remove(&c.local_port) else {
            // A backlog never outlives its listener (unlisten resets it); reset, keep nothing.
            c.reset_half_open(&mut self.out);
            return;
        };
        for &s in &l.pending {
            if s != serial {
                self.drop_half_open(s, true);
            }
        }
        c.holds = l.holds;
        c.registered = true;
        self.demux.insert(k, l.id);
        self.conns.insert(l.id, c);
        self.settle(l.id);
    }

    /// Brings the tables (and the deadline index) in line with a connection's new state. Every
    /// input that can change a connection ends here, so the index is re-armed in one place.
    fn settle(&mut self, id: HandleId) {
        self.settle_tables(id);
        match self.conns.get(&id) {
            Some(c) => self.timers.set(id, c.next_deadline(&self.cfg)),
            None => self.timers.remove(id),
        };
    }

    fn settle_tables(&mut self, id: HandleId) {
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        // Handshakes fail in the backlog; a connection record is past syn-received.
        if let Some(reason) = c.half_open_failed.take() {
            c.fail(reason, &mut self.out);
        }
        if matches!(c.state, State::Closed | State::Error) && c.registered {
            c.registered = false;
            self.demux
                .remove(&key(c.local_port, c.remote_ip, c.remote_port));
            for i in c.holds.drain(..) {
                self.out.channels.push_back(ChannelRequest::Close {
                    interface: i,
                    channel: c.local_port,
                });
            }
        }
    }

    /// Runs every timer due at `now`: SYN re-send and connect timeout, syn-received retries,
    /// retransmission rounds, delayed ACKs, FIN re-sends, time-wait expiry.
    ///
    /// Only the connections whose deadline has come are visited (O(k log n) for k of them). A
    /// connection whose timer is re-armed to `now` or earlier while it runs (a coalesced re-ACK)
    /// runs again at the next call, never twice in one.
    pub fn handle_timeout(&mut self, now: Instant) {
        for s in self.backlog_timers.take_due(now) {
            if let Some(c) = self.backlog.get_mut(&s) {
                c.on_timeout(now, &self.cfg, &mut self.out);
            }
            self.settle_half_open(s);
        }
        for id in self.timers.take_due(now) {
            if let Some(c) = self.conns.get_mut(&id) {
                c.on_timeout(now, &self.cfg, &mut self.out);
            }
            self.settle(id);
        }
    }

    /// The earliest deadline of any socket, if one is armed. O(log n): read from the deadline
    /// index, whatever the number of connections.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.timers.first(), self.backlog_timers.first()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// [`poll_timeout`](Self::poll_timeout) recomputed by scanning every connection: the oracle
    /// that tests and fuzz targets compare the deadline index with. O(n); not for hosts.
    #[doc(hidden)]
    #[must_use]
    pub fn scan_timeout(&self) -> Option<Instant> {
        self.conns
            .values()
            .chain(self.backlog.values())
            .filter_map(|c| c.next_deadline(&self.cfg))
            .min()
    }

    /// The next segment to hand to pip-core's send.
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
