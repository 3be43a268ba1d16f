//! The modem networks of one world: who hears a transmit, when, and how far away it was.

use std::collections::{BinaryHeap, HashMap, VecDeque};

use modem_value::{Duration, Instant, SplitMix64, Value};

use crate::link::LinkModel;
use crate::range::{Position, RangeConfig};

/// A computer's ID (`os.getComputerID()`).
pub type ComputerId = u32;

/// A modem in the world, as [`Medium::add_modem`] numbered it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModemId(pub usize);

/// The open-channel limit of a CC:Tweaked modem.
pub const MAX_OPEN_CHANNELS: usize = 128;

/// What kind of modem, and where.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ModemKind {
    /// A wireless modem: range-limited, same dimension only.
    Wireless(Position),
    /// An ender (advanced wireless) modem: unlimited range, across dimensions (with no distance).
    Ender(Position),
    /// A wired modem on cable network `cable`. The reported distance is the length of the cable
    /// path, modelled as the Manhattan distance between the two modems (cables run along the
    /// block grid).
    Wired {
        /// The cable network.
        cable: u32,
        /// Where the modem sits.
        at: Position,
    },
}

/// Errors of the modem peripheral's methods; `Display` is CC:Tweaked's text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ModemError {
    /// `open` of a 129th channel.
    #[error("Too many open channels")]
    TooManyChannels,
    /// A channel argument outside 0..=65535 or not an integer.
    #[error("Expected number in range 0-65535")]
    ChannelRange,
    /// The modem id does not exist (was never added or was removed).
    #[error("No such modem")]
    NoSuchModem,
}

/// Converts a Lua channel argument as CC:Tweaked does.
pub fn channel_from_lua(n: f64) -> Result<u16, ModemError> {
    if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) {
        Ok(n as u16)
    } else {
        Err(ModemError::ChannelRange)
    }
}

/// One `modem_message` for one receiving modem.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// The receiving modem.
    pub modem: ModemId,
    /// The computer it is attached to.
    pub computer: ComputerId,
    /// The channel it arrived on.
    pub channel: u16,
    /// The sender's reply channel.
    pub reply_channel: u16,
    /// The payload (shared with the other receivers; values are immutable).
    pub message: Value,
    /// Distance in blocks; `None` between dimensions (ender modems).
    pub distance: Option<f64>,
}

/// Counters of what the medium did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MediumStats {
    /// `transmit` calls from attached modems.
    pub transmits: u64,
    /// Copies handed out by [`Medium::poll_delivery`].
    pub delivered: u64,
    /// Copies the link model dropped.
    pub lost: u64,
    /// Extra copies the link model made.
    pub duplicated: u64,
}

/// A borrowed [`Delivery`]: the payload stays in the medium, shared by every receiver of the
/// transmit, and is not cloned (see [`Medium::poll_delivery_ref`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeliveryRef<'a> {
    /// The receiving modem.
    pub modem: ModemId,
    /// The computer it is attached to.
    pub computer: ComputerId,
    /// The channel it arrived on.
    pub channel: u16,
    /// The sender's reply channel.
    pub reply_channel: u16,
    /// The payload.
    pub message: &'a Value,
    /// Distance in blocks; `None` between dimensions (ender modems).
    pub distance: Option<f64>,
}

/// Which modems can hear each other at all: every wireless and ender modem shares one network,
/// each cable is its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Net {
    Radio,
    Cable(u32),
}

impl Net {
    fn of(kind: &ModemKind) -> Net {
        match kind {
            ModemKind::Wired { cable, .. } => Net::Cable(*cable),
            _ => Net::Radio,
        }
    }
}

#[derive(Clone, Debug)]
struct Modem {
    computer: ComputerId,
    kind: ModemKind,
    /// Open channels, sorted (a handful per modem: a set would cost far more memory).
    open: Vec<u16>,
    attached: bool,
}

/// One copy of a transmit due for one modem (16 bytes: a busy world holds millions).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Due {
    pub(crate) modem: u32,
    /// The slot in `Medium::payloads`.
    pub(crate) payload: u32,
    /// Distance in blocks; NaN between dimensions.
    pub(crate) distance: f64,
}

impl Due {
    pub(crate) fn distance(&self) -> Option<f64> {
        (!self.distance.is_nan()).then_some(self.distance)
    }
}

/// A copy whose delivery time is its own (random latency, or a clock that went back): kept in
/// a heap ordered by `(at, transmit, copy)`.
#[derive(Clone, Copy, Debug)]
struct Later {
    at: Instant,
    transmit: u64,
    copy: u64,
    due: Due,
}

impl Later {
    fn key(&self) -> (Instant, u64, u64) {
        (self.at, self.transmit, self.copy)
    }
}

impl PartialEq for Later {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Later {}
impl PartialOrd for Later {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Later {
    /// Reversed: the earliest is the greatest, for `BinaryHeap`'s max-first order.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.key().cmp(&self.key())
    }
}

/// A transmit's payload and channels, shared by its copies in flight.
#[derive(Clone, Debug, Default)]
struct Payload {
    message: Value,
    channel: u16,
    reply_channel: u16,
    /// When its FIFO copies are due, and its place in transmit order.
    at: Instant,
    transmit: u64,
    /// Copies still in flight (the slot is reused when it reaches 0).
    copies: u32,
}

/// Every modem of a world and the packets in flight between them, on a virtual clock.
///
/// Delivery follows CC:Tweaked: a transmit is offered to every other
/// modem of the same network (all wireless and ender modems form one network; wired modems one
/// per cable); the sending modem never hears itself, while other modems of the same computer can;
/// the receiver must have the channel open at the moment of the transmit; wireless reach is
/// `distance² ≤ max(senderRange, receiverRange)²`; ender modems reach everything. With the
/// default [`LinkModel`] delivery is immediate and lossless, as in the game; a seeded model adds
/// loss, duplication and latency (and so reordering).
///
/// Cost: a transmit visits only the modems of its network with its channel open (an index per
/// network and channel, kept sorted so delivery order is modem order), plus the promiscuous
/// modems. Its payload is stored once; each copy in flight is a 16-byte record in a queue whose
/// storage is reused, so delivering allocates nothing. When the link's latency is constant,
/// copies are due in transmit order and go to a FIFO; otherwise (or if the caller's clock went
/// back) to a heap.
#[derive(Clone, Debug)]
pub struct Medium {
    modems: Vec<Modem>,
    /// Modems by network and open channel, ascending.
    by_channel: HashMap<(Net, u16), Vec<u32>>,
    /// Modems that hear every channel (routers; see [`Medium::set_promiscuous`]), ascending.
    promiscuous: Vec<u32>,
    ranges: RangeConfig,
    link: LinkModel,
    rng: SplitMix64,
    fifo: VecDeque<Due>,
    /// When the last FIFO transmit is due.
    fifo_last: Instant,
    heap: BinaryHeap<Later>,
    payloads: Vec<Payload>,
    free_payloads: Vec<u32>,
    /// The payload of the copy last lent by [`Medium::poll_delivery_ref`], released on the next
    /// call.
    lent: Option<u32>,
    seq: u64,
    stats: MediumStats,
}

fn insert_sorted(v: &mut Vec<u32>, x: u32) {
    if let Err(i) = v.binary_search(&x) {
        v.insert(i, x);
    }
}

fn remove_sorted(v: &mut Vec<u32>, x: u32) {
    if let Ok(i) = v.binary_search(&x) {
        v.remove(i);
    }
}

impl Medium {
    /// An empty world with default ranges and a perfect link.
    pub fn new() -> Self {
        Medium::with_link(LinkModel::default(), 0)
    }

    /// An empty world whose link imperfections are drawn from `seed`.
    pub fn with_link(link: LinkModel, seed: u64) -> Self {
        Medium {
            modems: Vec::new(),
            by_channel: HashMap::new(),
            promiscuous: Vec::new(),
            ranges: RangeConfig::default(),
            link,
            rng: SplitMix64::new(seed),
            fifo: VecDeque::new(),
            fifo_last: Instant::ZERO,
            heap: BinaryHeap::new(),
            payloads: Vec::new(),
            free_payloads: Vec::new(),
            lent: None,
            seq: 0,
            stats: MediumStats::default(),
        }
    }

    /// Replaces the wireless range settings (e.g. to start a storm).
    pub fn set_ranges(&mut self, ranges: RangeConfig) {
        self.ranges = ranges;
    }

    /// Adds a modem attached to `computer`.
    pub fn add_modem(&mut self, computer: ComputerId, kind: ModemKind) -> ModemId {
        self.modems.push(Modem {
            computer,
            kind,
            open: Vec::new(),
            attached: true,
        });
        ModemId(self.modems.len() - 1)
    }

    /// Detaches a modem (broken or unloaded): it neither sends nor receives until re-attached.
    pub fn set_attached(&mut self, modem: ModemId, attached: bool) -> Result<(), ModemError> {
        self.modem_mut(modem)?.attached = attached;
        Ok(())
    }

    /// Moves a modem.
    pub fn set_kind(&mut self, modem: ModemId, kind: ModemKind) -> Result<(), ModemError> {
        let m = self.modem_mut(modem)?;
        let (old, new) = (Net::of(&m.kind), Net::of(&kind));
        m.kind = kind;
        if old != new {
            let open = m.open.clone();
            for ch in open {
                self.unindex(old, modem, ch);
                insert_sorted(
                    self.by_channel.entry((new, ch)).or_default(),
                    modem.0 as u32,
                );
            }
        }
        Ok(())
    }

    /// `modem.open(channel)`: idempotent; the 129th distinct channel is refused.
    pub fn open(&mut self, modem: ModemId, channel: u16) -> Result<(), ModemError> {
        let m = self.modem_mut(modem)?;
        let Err(at) = m.open.binary_search(&channel) else {
            return Ok(());
        };
        if m.open.len() >= MAX_OPEN_CHANNELS {
            return Err(ModemError::TooManyChannels);
        }
        m.open.insert(at, channel);
        let net = Net::of(&m.kind);
        insert_sorted(
            self.by_channel.entry((net, channel)).or_default(),
            modem.0 as u32,
        );
        Ok(())
    }

    /// `modem.close(channel)`: closing a closed channel is fine.
    pub fn close(&mut self, modem: ModemId, channel: u16) -> Result<(), ModemError> {
        let m = self.modem_mut(modem)?;
        if let Ok(at) = m.open.binary_search(&channel) {
            m.open.remove(at);
            let net = Net::of(&m.kind);
            self.unindex(net, modem, channel);
        }
        Ok(())
    }

    fn unindex(&mut self, net: Net, modem: ModemId, channel: u16) {
        if let Some(set) = self.by_channel.get_mut(&(net, channel)) {
            remove_sorted(set, modem.0 as u32);
            if set.is_empty() {
                self.by_channel.remove(&(net, channel));
            }
        }
    }

    /// `modem.closeAll()`.
    pub fn close_all(&mut self, modem: ModemId) -> Result<(), ModemError> {
        let m = self.modem_mut(modem)?;
        let open = std::mem::take(&mut m.open);
        let net = Net::of(&m.kind);
        for ch in open {
            self.unindex(net, modem, ch);
        }
        Ok(())
    }

    /// Lets a modem hear every channel, open or not.
    ///
    /// Phoenix carries transport ports as modem channels, so a router must hear the ports of
    /// every conversation it forwards, which a CC:Tweaked modem (128 open channels) cannot.
    /// Emulators can; the simulator gives router modems this ability.
    pub fn set_promiscuous(&mut self, modem: ModemId, on: bool) -> Result<(), ModemError> {
        self.modem_mut(modem)?;
        if on {
            insert_sorted(&mut self.promiscuous, modem.0 as u32);
        } else {
            remove_sorted(&mut self.promiscuous, modem.0 as u32);
        }
        Ok(())
    }

    /// `modem.isOpen(channel)`.
    pub fn is_open(&self, modem: ModemId, channel: u16) -> bool {
        self.modems
            .get(modem.0)
            .is_some_and(|m| m.open.binary_search(&channel).is_ok())
    }

    /// `modem.isWireless()`.
    pub fn is_wireless(&self, modem: ModemId) -> Option<bool> {
        self.modems
            .get(modem.0)
            .map(|m| !matches!(m.kind, ModemKind::Wired { .. }))
    }

    /// Number of modems ever added.
    pub fn modem_count(&self) -> usize {
        self.modems.len()
    }

    /// The computer a modem is attached to.
    pub fn computer_of(&self, modem: ModemId) -> Option<ComputerId> {
        self.modems.get(modem.0).map(|m| m.computer)
    }

    /// `modem.transmit(channel, replyChannel, payload)` at `now`. A detached sender sends nothing.
    pub fn transmit(
        &mut self,
        now: Instant,
        from: ModemId,
        channel: u16,
        reply_channel: u16,
        message: &Value,
    ) -> Result<(), ModemError> {
        self.transmit_with(now, from, channel, reply_channel, || message.clone())
    }

    /// [`Medium::transmit`] of a message the caller gives up: the medium keeps it instead of a
    /// copy, which spares a reference count round trip per transmit.
    pub fn transmit_owned(
        &mut self,
        now: Instant,
        from: ModemId,
        channel: u16,
        reply_channel: u16,
        message: Value,
    ) -> Result<(), ModemError> {
        let mut message = Some(message);
        self.transmit_with(now, from, channel, reply_channel, || {
            message.take().unwrap_or_default()
        })
    }

    /// The transmit; `message` is called once, when the first copy is queued.
    fn transmit_with(
        &mut self,
        now: Instant,
        from: ModemId,
        channel: u16,
        reply_channel: u16,
        mut message: impl FnMut() -> Value,
    ) -> Result<(), ModemError> {
        let sender = self.modems.get(from.0).ok_or(ModemError::NoSuchModem)?;
        if !sender.attached {
            return Ok(());
        }
        let sender_kind = sender.kind;
        let net = Net::of(&sender_kind);
        self.stats.transmits += 1;
        let open: &[u32] = self
            .by_channel
            .get(&(net, channel))
            .map_or(&[], |v| v.as_slice());
        self.seq += 1;
        let transmit = self.seq;
        let constant = self.link.latency_min_ms >= self.link.latency_max_ms;
        let fifo_at = now + Duration::from_millis(self.link.latency_min_ms);
        let to_fifo = constant && fifo_at >= self.fifo_last;
        let mut payload: Option<u32> = None;
        let mut copy = 0u64;
        // Ascending merge of the channel's modems and the promiscuous ones.
        let (mut a, mut b) = (0, 0);
        loop {
            let i = match (open.get(a), self.promiscuous.get(b)) {
                (Some(&x), Some(&y)) if x == y => {
                    a += 1;
                    b += 1;
                    x
                }
                (Some(&x), Some(&y)) if x < y => {
                    a += 1;
                    x
                }
                (_, Some(&y)) => {
                    b += 1;
                    y
                }
                (Some(&x), None) => {
                    a += 1;
                    x
                }
                (None, None) => break,
            };
            let m = &self.modems[i as usize];
            if i as usize == from.0 || !m.attached {
                continue;
            }
            let Some(distance) = reach(&self.ranges, &sender_kind, &m.kind) else {
                continue;
            };
            let copies = self.link.copies(&mut self.rng);
            if copies == 0 {
                self.stats.lost += 1;
                continue;
            }
            self.stats.duplicated += u64::from(copies - 1);
            let slot = match payload {
                Some(p) => p,
                None => {
                    let p = Payload {
                        message: message(),
                        channel,
                        reply_channel,
                        at: fifo_at,
                        transmit,
                        copies: 0,
                    };
                    let p = match self.free_payloads.pop() {
                        Some(f) => {
                            self.payloads[f as usize] = p;
                            f
                        }
                        None => {
                            self.payloads.push(p);
                            (self.payloads.len() - 1) as u32
                        }
                    };
                    payload = Some(p);
                    p
                }
            };
            let due = Due {
                modem: i,
                payload: slot,
                distance: distance.unwrap_or(f64::NAN),
            };
            for _ in 0..copies {
                self.payloads[slot as usize].copies += 1;
                if to_fifo {
                    self.fifo.push_back(due);
                } else {
                    let at = now + Duration::from_millis(self.link.latency_ms(&mut self.rng));
                    copy += 1;
                    self.heap.push(Later {
                        at,
                        transmit,
                        copy,
                        due,
                    });
                }
            }
        }
        if to_fifo && payload.is_some() {
            self.fifo_last = fifo_at;
        }
        Ok(())
    }

    /// Frees the payload lent last, if its last copy was delivered.
    fn release_lent(&mut self) {
        if let Some(p) = self.lent.take() {
            let slot = &mut self.payloads[p as usize];
            slot.copies -= 1;
            if slot.copies == 0 {
                slot.message = Value::Nil;
                self.free_payloads.push(p);
            }
        }
    }

    fn fifo_key(&self) -> Option<(Instant, u64)> {
        self.fifo.front().map(|d| {
            let p = &self.payloads[d.payload as usize];
            (p.at, p.transmit)
        })
    }

    fn pop_due(&mut self, now: Instant) -> Option<Due> {
        let f = self.fifo_key();
        let h = self.heap.peek().map(|l| (l.at, l.transmit));
        let (at, from_fifo) = match (f, h) {
            (Some(f), Some(h)) => (f.0.min(h.0), f < h),
            (Some(f), None) => (f.0, true),
            (None, Some(h)) => (h.0, false),
            (None, None) => return None,
        };
        if at > now {
            return None;
        }
        self.stats.delivered += 1;
        if from_fifo {
            self.fifo.pop_front()
        } else {
            self.heap.pop().map(|l| l.due)
        }
    }

    /// Moves up to `max` copies due at or before `now` into `out`, in delivery order. Each
    /// must be given back with [`Medium::release`] once its payload has been read.
    pub(crate) fn drain_due(&mut self, now: Instant, out: &mut Vec<Due>, max: usize) {
        self.release_lent();
        if self.heap.is_empty() {
            // The common case, constant latency: a run of the FIFO.
            while out.len() < max {
                match self.fifo_key() {
                    Some((at, _)) if at <= now => {}
                    _ => break,
                }
                let Some(d) = self.fifo.pop_front() else {
                    break;
                };
                self.stats.delivered += 1;
                out.push(d);
            }
            return;
        }
        while out.len() < max {
            match self.pop_due(now) {
                Some(d) => out.push(d),
                None => break,
            }
        }
    }

    /// The payload, channel and reply channel of a copy taken by [`Medium::drain_due`].
    pub(crate) fn payload(&self, slot: u32) -> (&Value, u16, u16) {
        let p = &self.payloads[slot as usize];
        (&p.message, p.channel, p.reply_channel)
    }

    /// Gives back one copy taken by [`Medium::drain_due`].
    pub(crate) fn release(&mut self, slot: u32) {
        let p = &mut self.payloads[slot as usize];
        p.copies -= 1;
        if p.copies == 0 {
            p.message = Value::Nil;
            self.free_payloads.push(slot);
        }
    }

    /// The next delivery due at or before `now`, in (time, transmit order), without copying its
    /// payload: the borrow lasts until the next call on the medium.
    #[must_use]
    pub fn poll_delivery_ref(&mut self, now: Instant) -> Option<DeliveryRef<'_>> {
        self.release_lent();
        let c = self.pop_due(now)?;
        self.lent = Some(c.payload);
        let p = &self.payloads[c.payload as usize];
        Some(DeliveryRef {
            modem: ModemId(c.modem as usize),
            computer: self.modems[c.modem as usize].computer,
            channel: p.channel,
            reply_channel: p.reply_channel,
            message: &p.message,
            distance: c.distance(),
        })
    }

    /// The next delivery due at or before `now`, in (time, transmit order).
    #[must_use]
    pub fn poll_delivery(&mut self, now: Instant) -> Option<Delivery> {
        let d = self.poll_delivery_ref(now)?;
        Some(Delivery {
            modem: d.modem,
            computer: d.computer,
            channel: d.channel,
            reply_channel: d.reply_channel,
            message: d.message.clone(),
            distance: d.distance,
        })
    }

    /// When the next delivery is due, if any is in flight.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let f = self.fifo_key().map(|k| k.0);
        let h = self.heap.peek().map(|l| l.at);
        match (f, h) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Copies still in flight.
    pub fn in_flight(&self) -> usize {
        self.fifo.len() + self.heap.len()
    }

    /// What the medium did so far.
    pub fn stats(&self) -> MediumStats {
        self.stats
    }

    fn modem_mut(&mut self, id: ModemId) -> Result<&mut Modem, ModemError> {
        self.modems.get_mut(id.0).ok_or(ModemError::NoSuchModem)
    }
}

impl Default for Medium {
    fn default() -> Self {
        Medium::new()
    }
}

/// `None`: not reachable. `Some(distance)`: reachable, with the distance to report.
fn reach(ranges: &RangeConfig, a: &ModemKind, b: &ModemKind) -> Option<Option<f64>> {
    use ModemKind::*;
    match (a, b) {
        (Wired { cable: ca, at: pa }, Wired { cable: cb, at: pb }) => (ca == cb)
            .then(|| Some((pa.x - pb.x).abs() + (pa.y - pb.y).abs() + (pa.z - pb.z).abs())),
        (Wired { .. }, _) | (_, Wired { .. }) => None,
        (Ender(pa), Ender(pb) | Wireless(pb)) | (Wireless(pa), Ender(pb)) => Some(pa.distance(pb)),
        (Wireless(pa), Wireless(pb)) => ranges.in_range(pa, pb).then(|| pa.distance(pb)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modem_value::table;

    fn drain(m: &mut Medium, now: Instant) -> Vec<Delivery> {
        std::iter::from_fn(|| m.poll_delivery(now)).collect()
    }

    #[test]
    fn sender_never_hears_itself_other_modems_of_same_computer_do() {
        let mut m = Medium::new();
        let a = m.add_modem(1, ModemKind::Wireless(Position::new(0.0, 64.0, 0.0)));
        let a2 = m.add_modem(1, ModemKind::Wireless(Position::new(1.0, 64.0, 0.0)));
        let b = m.add_modem(2, ModemKind::Wireless(Position::new(3.0, 64.0, 4.0)));
        for x in [a, a2, b] {
            m.open(x, 7).unwrap();
        }
        m.transmit(Instant::ZERO, a, 7, 9, &table! {"x" => 1})
            .unwrap();
        let got = drain(&mut m, Instant::ZERO);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].modem, a2);
        assert_eq!(got[1].modem, b);
        assert_eq!(got[1].distance, Some(5.0));
        assert_eq!(got[1].reply_channel, 9);
    }

    #[test]
    fn closed_channel_out_of_range_other_cable_and_detached_hear_nothing() {
        let mut m = Medium::new();
        let a = m.add_modem(1, ModemKind::Wireless(Position::new(0.0, 64.0, 0.0)));
        let closed = m.add_modem(2, ModemKind::Wireless(Position::new(1.0, 64.0, 0.0)));
        let far = m.add_modem(3, ModemKind::Wireless(Position::new(100.0, 64.0, 0.0)));
        let wired = m.add_modem(
            4,
            ModemKind::Wired {
                cable: 1,
                at: Position::new(0.0, 64.0, 0.0),
            },
        );
        let detached = m.add_modem(5, ModemKind::Wireless(Position::new(2.0, 64.0, 0.0)));
        for x in [far, wired, detached] {
            m.open(x, 1).unwrap();
        }
        m.set_attached(detached, false).unwrap();
        m.transmit(Instant::ZERO, a, 1, 1, &Value::Nil).unwrap();
        assert!(drain(&mut m, Instant::ZERO).is_empty());
        assert!(!m.is_open(closed, 1));
    }

    #[test]
    fn ender_reaches_across_dimensions_without_distance() {
        let mut m = Medium::new();
        let a = m.add_modem(1, ModemKind::Ender(Position::new(0.0, 64.0, 0.0)));
        let nether = Position {
            dimension: 1,
            ..Position::new(5000.0, 64.0, 0.0)
        };
        let b = m.add_modem(2, ModemKind::Wireless(nether));
        m.open(b, 3).unwrap();
        m.transmit(Instant::ZERO, a, 3, 3, &Value::from("hi"))
            .unwrap();
        let got = drain(&mut m, Instant::ZERO);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].distance, None);
    }

    #[test]
    fn wired_distance_is_cable_length() {
        let mut m = Medium::new();
        let a = m.add_modem(
            1,
            ModemKind::Wired {
                cable: 7,
                at: Position::new(0.0, 0.0, 0.0),
            },
        );
        let b = m.add_modem(
            2,
            ModemKind::Wired {
                cable: 7,
                at: Position::new(3.0, 1.0, 4.0),
            },
        );
        m.open(b, 0).unwrap();
        m.transmit(Instant::ZERO, a, 0, 0, &Value::Nil).unwrap();
        assert_eq!(drain(&mut m, Instant::ZERO)[0].distance, Some(8.0));
    }

    #[test]
    fn channel_limit_and_argument_check() {
        let mut m = Medium::new();
        let a = m.add_modem(1, ModemKind::Wireless(Position::new(0.0, 0.0, 0.0)));
        for c in 0..128 {
            m.open(a, c).unwrap();
        }
        m.open(a, 5).unwrap();
        assert_eq!(m.open(a, 200), Err(ModemError::TooManyChannels));
        assert_eq!(
            ModemError::TooManyChannels.to_string(),
            "Too many open channels"
        );
        assert_eq!(channel_from_lua(65535.0), Ok(65535));
        assert_eq!(channel_from_lua(65536.0), Err(ModemError::ChannelRange));
        assert_eq!(channel_from_lua(1.5), Err(ModemError::ChannelRange));
        assert_eq!(channel_from_lua(-1.0), Err(ModemError::ChannelRange));
        assert_eq!(channel_from_lua(f64::NAN), Err(ModemError::ChannelRange));
        assert_eq!(m.open(ModemId(9), 1), Err(ModemError::NoSuchModem));
    }
}
