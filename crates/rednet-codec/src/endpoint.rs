//! The rednet endpoint of one computer: rednet.lua's API and its `rednet.run` daemon.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use modem_value::{Instant, LuaStr, RandomSource, Value, WireMessage};

use crate::config::{EndpointConfig, Stats, Verdict};
use crate::consts::{
    channel_for_recipient, id_as_channel, CHANNEL_BROADCAST, CHANNEL_REPEAT, DEDUP_LIFETIME,
    MAX_MESSAGE_ID, PRUNE_INTERVAL,
};
use crate::idset::{id_key, ExpiringIdSet};
use crate::request::{Completion, Delivered, Request};
use crate::wrapper::{Fields, RednetMessage};
use crate::{Ignored, ModemId, ModemOp, RednetError, Transmit};

#[derive(Clone, Debug)]
struct ModemState {
    id: ModemId,
    id_open: bool,
    broadcast_open: bool,
}

impl ModemState {
    fn rednet_open(&self) -> bool {
        self.id_open && self.broadcast_open
    }
}

/// Rednet for one computer, as rednet.lua's API plus the `rednet.run` daemon, sans-IO.
///
/// # Driving it
/// * Tell it about modems with [`attach_modem`](Self::attach_modem) /
///   [`detach_modem`](Self::detach_modem), **in `peripheral.getNames()` order** — sends transmit
///   on open modems in attach order.
/// * Feed every `modem_message` of an attached modem to
///   [`handle_modem_message`](Self::handle_modem_message); call
///   [`handle_timeout`](Self::handle_timeout) when [`poll_timeout`](Self::poll_timeout)'s instant
///   is reached. Every `handle_*` and API call takes `now` and first fires the timers due at
///   `now`, so a late `handle_timeout` is harmless. `now` never goes backwards: an earlier
///   instant than one seen before is treated as that one.
/// * After every call, drain [`poll_modem_op`](Self::poll_modem_op) (perform the modem calls in
///   order), [`poll_message`](Self::poll_message) (`rednet_message` events) and
///   [`poll_completion`](Self::poll_completion) (finished `receive`/`lookup`/`host`), then
///   re-read `poll_timeout`. The three queues are independent.
/// * If something other than this endpoint opens or closes the rednet channels on a modem
///   (a Lua program calling `modem.close(65535)`), report it with
///   [`handle_channel_change`](Self::handle_channel_change) so that "rednet is open" stays what
///   CraftOS would say.
///
/// # Bounds
/// The dedup set holds at most [`EndpointConfig::dedup_capacity`] IDs, each for ≥ 9.5 s and
/// ≤ 19.5 s (the 10 s prune timer); when it is full, the oldest IDs (those first remembered in
/// the same millisecond) are forgotten early to make room, so a flood of junk IDs cannot lock
/// genuine messages out. The risk, accepted for that: a copy of an evicted message that arrives
/// within its window (a repeater's echo, a replay) is delivered a second time; evictions are
/// counted in [`Stats::dedup_evicted`](crate::Stats). Delivered messages queue
/// up to [`EndpointConfig::message_queue_limit`]; requests, lookup results and DNS answers are
/// bounded likewise (see [`EndpointConfig`]).
#[derive(Debug)]
pub struct Endpoint<R> {
    id: u32,
    own_channel: u16,
    rng: R,
    pub(crate) config: EndpointConfig,
    pub(crate) now: Instant,
    modems: Vec<ModemState>,
    received: ExpiringIdSet,
    prune_at: Option<Instant>,
    pub(crate) ops: VecDeque<ModemOp>,
    pub(crate) messages: VecDeque<Delivered>,
    pub(crate) completions: VecDeque<Completion>,
    local: VecDeque<Delivered>,
    pub(crate) requests: Vec<Request>,
    pub(crate) request_deadline: Option<Instant>,
    pub(crate) next_request: u64,
    pub(crate) hostnames: BTreeMap<LuaStr, LuaStr>,
    stats: Stats,
}

impl<R: RandomSource> Endpoint<R> {
    /// The endpoint of computer `computer_id`, with default bounds, drawing message IDs from
    /// `rng`: one `next_u64` at construction (the secret seed of the dedup table's hash), then
    /// one `range_inclusive(1, 2^31 − 1)` per send.
    pub fn new(computer_id: u32, rng: R) -> Self {
        Self::with_config(computer_id, EndpointConfig::default(), rng)
    }

    /// The endpoint of computer `computer_id` with explicit bounds.
    pub fn with_config(computer_id: u32, config: EndpointConfig, mut rng: R) -> Self {
        let seed = rng.next_u64();
        Endpoint {
            id: computer_id,
            own_channel: id_as_channel(computer_id),
            rng,
            config,
            now: Instant::ZERO,
            modems: Vec::new(),
            received: ExpiringIdSet::new(config.dedup_capacity, seed),
            prune_at: None,
            ops: VecDeque::new(),
            messages: VecDeque::new(),
            completions: VecDeque::new(),
            local: VecDeque::new(),
            requests: Vec::new(),
            request_deadline: None,
            next_request: 1,
            hostnames: BTreeMap::new(),
            stats: Stats::default(),
        }
    }

    /// The computer's ID.
    pub fn computer_id(&self) -> u32 {
        self.id
    }

    /// The channel the computer listens on for unicast (`id % 65500`).
    pub fn own_channel(&self) -> u16 {
        self.own_channel
    }

    /// The bounds in force.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// IDs currently remembered by the dedup set (≤ `dedup_capacity`).
    pub fn remembered_ids(&self) -> usize {
        self.received.len()
    }

    /// Whether `id` is currently remembered (sent or received within its window).
    pub fn remembers(&self, id: f64) -> bool {
        id_key(id).is_some_and(|k| self.received.contains(k))
    }

    /// Undrained delivered messages (≤ `message_queue_limit`).
    pub fn queued_messages(&self) -> usize {
        self.messages.len()
    }

    /// Undrained modem operations.
    pub fn queued_ops(&self) -> usize {
        self.ops.len()
    }

    /// Pending requests (≤ `max_requests`).
    pub fn pending_requests(&self) -> usize {
        self.requests.len()
    }

    // ---- modems -------------------------------------------------------------------------

    /// A modem appeared (`peripheral` event). Rednet starts closed on it. Returns `false` if it
    /// was already attached.
    pub fn attach_modem(&mut self, modem: ModemId) -> bool {
        if self.modem_index(&modem).is_some() {
            return false;
        }
        self.modems.push(ModemState {
            id: modem,
            id_open: false,
            broadcast_open: false,
        });
        true
    }

    /// A modem disappeared (`peripheral_detach`). Its state is forgotten without close
    /// operations (there is nothing to close). Returns `false` if it was not attached.
    pub fn detach_modem(&mut self, modem: &ModemId) -> bool {
        match self.modem_index(modem) {
            Some(i) => {
                self.modems.remove(i);
                true
            }
            None => false,
        }
    }

    /// Attached modems, in attach order.
    pub fn modems(&self) -> impl Iterator<Item = &ModemId> + '_ {
        self.modems.iter().map(|m| &m.id)
    }

    /// `rednet.open(modem)`: opens the ID channel and 65535 on it (always both calls, as
    /// rednet.lua does; opening is idempotent).
    pub fn open(&mut self, modem: &ModemId) -> Result<(), RednetError> {
        let i = self
            .modem_index(modem)
            .ok_or_else(|| RednetError::NoSuchModem(modem.clone()))?;
        let m = &mut self.modems[i];
        m.id_open = true;
        m.broadcast_open = true;
        let (a, b) = (self.own_channel, CHANNEL_BROADCAST);
        self.ops.push_back(ModemOp::Open {
            modem: modem.clone(),
            channel: a,
        });
        self.ops.push_back(ModemOp::Open {
            modem: modem.clone(),
            channel: b,
        });
        Ok(())
    }

    /// `rednet.close(modem)`: closes both channels on it.
    pub fn close(&mut self, modem: &ModemId) -> Result<(), RednetError> {
        let i = self
            .modem_index(modem)
            .ok_or_else(|| RednetError::NoSuchModem(modem.clone()))?;
        let m = &mut self.modems[i];
        m.id_open = false;
        m.broadcast_open = false;
        self.ops.push_back(ModemOp::Close {
            modem: modem.clone(),
            channel: self.own_channel,
        });
        self.ops.push_back(ModemOp::Close {
            modem: modem.clone(),
            channel: CHANNEL_BROADCAST,
        });
        Ok(())
    }

    /// `rednet.close()`: closes rednet on every modem where it is open, in attach order.
    pub fn close_all(&mut self) {
        let open: Vec<ModemId> = self
            .modems
            .iter()
            .filter(|m| m.rednet_open())
            .map(|m| m.id.clone())
            .collect();
        for m in open {
            // Every name comes from the attached list, so close cannot fail.
            let _ = self.close(&m);
        }
    }

    /// `rednet.isOpen(modem)`: both rednet channels open on it (`false` if unknown).
    pub fn is_open(&self, modem: &ModemId) -> bool {
        self.modem_index(modem)
            .is_some_and(|i| self.modems[i].rednet_open())
    }

    /// `rednet.isOpen()`: rednet open on any modem.
    pub fn is_open_any(&self) -> bool {
        self.modems.iter().any(ModemState::rednet_open)
    }

    /// Someone else opened or closed `channel` on `modem`; only the two rednet channels
    /// matter. Unknown modems are ignored.
    pub fn handle_channel_change(&mut self, modem: &ModemId, channel: u16, open: bool) {
        if let Some(i) = self.modem_index(modem) {
            let m = &mut self.modems[i];
            if channel == self.own_channel {
                m.id_open = open;
            } else if channel == CHANNEL_BROADCAST {
                m.broadcast_open = open;
            }
        }
    }

    fn modem_index(&self, modem: &ModemId) -> Option<usize> {
        self.modems.iter().position(|m| m.id == *modem)
    }

    // ---- sending ------------------------------------------------------------------------

    /// `rednet.send(recipient, message, protocol)`.
    ///
    /// Draws a message ID in [1, 2^31−1] and remembers it for 9.5 s (so the copy a repeater
    /// echoes back is ignored). To the own ID: nothing is transmitted; the message is delivered
    /// locally (the inner message, as rednet.lua has since #1308) and `Ok(true)` returned.
    /// Otherwise, on every modem where rednet is open, in attach order: transmit on the
    /// recipient's channel (`recipient % 65500`, or 65535), then on 65533, reply channel
    /// `own % 65500`. Returns whether any modem was used (not whether anyone received it).
    ///
    /// `recipient` is a Lua number; one without a valid channel (NaN, ±inf, fractional) is
    /// refused with [`RednetError::ChannelOutOfRange`] before anything happens.
    pub fn send(
        &mut self,
        now: Instant,
        recipient: f64,
        message: Value,
        protocol: Option<LuaStr>,
    ) -> Result<bool, RednetError> {
        self.advance(now);
        let r = self.send_inner(recipient, message, protocol.map_or(Value::Nil, Value::Str));
        self.pump();
        r
    }

    /// `rednet.broadcast(message, protocol)`: `send` to 65535 (so a computer whose ID is 65535
    /// delivers its broadcasts to itself only, as rednet.lua does).
    pub fn broadcast(
        &mut self,
        now: Instant,
        message: Value,
        protocol: Option<LuaStr>,
    ) -> Result<bool, RednetError> {
        self.send(now, f64::from(CHANNEL_BROADCAST), message, protocol)
    }

    pub(crate) fn send_inner(
        &mut self,
        recipient: f64,
        message: Value,
        protocol: Value,
    ) -> Result<bool, RednetError> {
        let loopback = recipient == f64::from(self.id);
        let channel = if loopback {
            self.own_channel
        } else {
            channel_for_recipient(recipient).ok_or(RednetError::ChannelOutOfRange)?
        };
        self.stats.sends += 1;
        let id = self.rng.range_inclusive(1, u64::from(MAX_MESSAGE_ID)) as u32;
        // Our own ID is remembered so a repeater's echo of it is not delivered to us (a full
        // set makes room by forgetting its oldest IDs).
        self.remember(f64::from(id));
        if loopback {
            self.local.push_back(Delivered {
                sender: f64::from(self.id),
                message,
                protocol,
                message_id: f64::from(id),
                modem: None,
            });
            return Ok(true);
        }
        let payload = RednetMessage {
            id: f64::from(id),
            recipient: Value::Num(recipient),
            sender: Some(f64::from(self.id)),
            message,
            protocol,
        }
        .encode();
        let mut sent = false;
        for m in self.modems.iter().filter(|m| m.rednet_open()) {
            for ch in [channel, CHANNEL_REPEAT] {
                self.ops.push_back(ModemOp::Transmit(Transmit {
                    modem: m.id.clone(),
                    channel: ch,
                    reply_channel: self.own_channel,
                    payload: payload.clone(),
                }));
                self.stats.transmits += 1;
            }
            sent = true;
        }
        Ok(sent)
    }

    /// `received[id] = os.clock() + 9.5`, starting the prune timer if none runs.
    fn remember(&mut self, id: f64) -> bool {
        let Some(key) = id_key(id) else { return false };
        let (new, evicted) = self
            .received
            .insert_evicting(key, self.now + DEDUP_LIFETIME);
        self.stats.dedup_evicted += evicted as u64;
        if self.prune_at.is_none() {
            self.prune_at = Some(self.now + PRUNE_INTERVAL);
        }
        new
    }

    // ---- receiving ----------------------------------------------------------------------

    /// A `modem_message` arrived on `modem`: applies rednet.lua's acceptance rules in their
    /// order and, if all hold, remembers the ID and delivers
    /// `rednet_message(nSender or reply_channel, message, sProtocol)`.
    ///
    /// A packet failing a rule changes nothing and is reported as [`Verdict::Ignored`] with the
    /// first rule it failed; it is never an error and never panics.
    pub fn handle_modem_message(
        &mut self,
        now: Instant,
        modem: &ModemId,
        channel: u16,
        reply_channel: u16,
        payload: &Value,
    ) -> Verdict {
        self.advance(now);
        let verdict = match self.accept(modem, channel, reply_channel, payload) {
            Ok(d) => {
                self.stats.delivered += 1;
                self.dispatch(d);
                Verdict::Delivered
            }
            Err(why) => {
                self.stats.ignored += 1;
                Verdict::Ignored(why)
            }
        };
        if !self.local.is_empty() {
            self.pump();
        }
        verdict
    }

    fn accept(
        &mut self,
        modem: &ModemId,
        channel: u16,
        reply_channel: u16,
        payload: &Value,
    ) -> Result<Delivered, Ignored> {
        // Rule 1.
        if channel != self.own_channel && channel != CHANNEL_BROADCAST {
            return Err(Ignored::WrongChannel);
        }
        // Rule 2.
        let table = payload
            .expect_table("(value)")
            .map_err(Ignored::BadMessageId)?;
        let fields = Fields::of(table);
        let id = fields.id().map_err(Ignored::BadMessageId)?;
        let key = id_key(id).ok_or(Ignored::Duplicate)?;
        let probe = self.received.probe(key);
        if probe.is_live() {
            return Err(Ignored::Duplicate);
        }
        // Rule 3.
        let sender = fields.sender().map_err(Ignored::BadSender)?;
        // Rule 4: the full ID, not the channel.
        if channel != CHANNEL_BROADCAST && fields.recipient.as_num() != Some(f64::from(self.id)) {
            return Err(Ignored::NotForUs);
        }
        // Rule 5.
        let i = self.modem_index(modem).ok_or(Ignored::ModemNotOpen)?;
        if !self.modems[i].rednet_open() {
            return Err(Ignored::ModemNotOpen);
        }
        // A full set forgets its oldest IDs rather than refuse this one: under a flood of junk
        // IDs genuine messages still get through (an evicted ID may then be accepted twice).
        let (_, evicted) = self
            .received
            .insert_evicting(key, self.now + DEDUP_LIFETIME);
        self.stats.dedup_evicted += evicted as u64;
        if self.prune_at.is_none() {
            self.prune_at = Some(self.now + PRUNE_INTERVAL);
        }
        Ok(Delivered {
            sender: sender.unwrap_or(f64::from(reply_channel)),
            message: fields.message.clone(),
            protocol: fields.protocol.clone(),
            message_id: id,
            modem: Some(modem.clone()),
        })
    }

    /// One `rednet_message` event: pending requests see it, the DNS responder sees it, and it
    /// is queued for the host.
    fn dispatch(&mut self, d: Delivered) {
        if !self.requests.is_empty() {
            self.feed_requests(&d);
        }
        if !self.hostnames.is_empty() {
            self.respond_dns(&d);
        }
        if self.messages.len() < self.config.message_queue_limit {
            self.messages.push_back(d);
        } else {
            self.stats.dropped_queue_full += 1;
        }
    }

    /// Dispatches loopback deliveries queued by sends, in order, like CraftOS's event queue
    /// (a DNS answer to oneself is itself a loopback send, handled in a later round).
    fn pump(&mut self) {
        while let Some(d) = self.local.pop_front() {
            self.dispatch(d);
        }
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
        self.pump();
    }

    /// The next instant at which [`handle_timeout`](Self::handle_timeout) has work: the prune
    /// timer or a request's deadline. `None` when nothing is scheduled.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.prune_at, self.request_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn advance(&mut self, now: Instant) {
        self.now = self.now.max(now);
        let now = self.now;
        if let Some(at) = self.prune_at {
            if now >= at {
                self.received.expire(now);
                self.prune_at = (!self.received.is_empty()).then(|| now + PRUNE_INTERVAL);
            }
        }
        if self.request_deadline.is_some_and(|d| now >= d) {
            self.expire_requests(now);
        }
    }

    // ---- output queues ------------------------------------------------------------------

    /// The next modem call to make (open, close, transmit), in order.
    #[must_use]
    pub fn poll_modem_op(&mut self) -> Option<ModemOp> {
        self.ops.pop_front()
    }

    /// The next delivered `rednet_message`.
    #[must_use]
    pub fn poll_message(&mut self) -> Option<Delivered> {
        self.messages.pop_front()
    }

    /// The next finished request.
    #[must_use]
    pub fn poll_completion(&mut self) -> Option<Completion> {
        self.completions.pop_front()
    }

    pub(crate) fn now(&self) -> Instant {
        self.now
    }

    pub(crate) fn advance_to(&mut self, now: Instant) {
        self.advance(now);
    }

    pub(crate) fn pump_local(&mut self) {
        self.pump();
    }

    pub(crate) fn ops_len(&self) -> usize {
        self.ops.len()
    }
}
