//! The modem networks of one world: who hears a transmit, when, and how far away it was.

use std::collections::{BTreeMap, BTreeSet};

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

#[derive(Clone, Debug)]
struct Modem {
    computer: ComputerId,
    kind: ModemKind,
    open: BTreeSet<u16>,
    attached: bool,
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
#[derive(Clone, Debug)]
pub struct Medium {
    modems: Vec<Modem>,
    /// Modems by open channel: a transmit only looks at the modems that can hear it.
    by_channel: BTreeMap<u16, BTreeSet<usize>>,
    /// Modems that hear every channel (routers; see [`Medium::set_promiscuous`]).
    promiscuous: BTreeSet<usize>,
    ranges: RangeConfig,
    link: LinkModel,
    rng: SplitMix64,
    in_flight: BTreeMap<(Instant, u64), Delivery>,
    seq: u64,
    stats: MediumStats,
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
            by_channel: BTreeMap::new(),
            promiscuous: BTreeSet::new(),
            ranges: RangeConfig::default(),
            link,
            rng: SplitMix64::new(seed),
            in_flight: BTreeMap::new(),
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
            open: BTreeSet::new(),
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
        self.modem_mut(modem)?.kind = kind;
        Ok(())
    }

    /// `modem.open(channel)`: idempotent; the 129th distinct channel is refused.
    pub fn open(&mut self, modem: ModemId, channel: u16) -> Result<(), ModemError> {
        let m = self.modem_mut(modem)?;
        if !m.open.contains(&channel) && m.open.len() >= MAX_OPEN_CHANNELS {
            return Err(ModemError::TooManyChannels);
        }
        m.open.insert(channel);
        self.by_channel.entry(channel).or_default().insert(modem.0);
        Ok(())
    }

    /// `modem.close(channel)`: closing a closed channel is fine.
    pub fn close(&mut self, modem: ModemId, channel: u16) -> Result<(), ModemError> {
        self.modem_mut(modem)?.open.remove(&channel);
        self.unindex(modem, channel);
        Ok(())
    }

    fn unindex(&mut self, modem: ModemId, channel: u16) {
        if let Some(set) = self.by_channel.get_mut(&channel) {
            set.remove(&modem.0);
            if set.is_empty() {
                self.by_channel.remove(&channel);
            }
        }
    }

    /// `modem.closeAll()`.
    pub fn close_all(&mut self, modem: ModemId) -> Result<(), ModemError> {
        let open = std::mem::take(&mut self.modem_mut(modem)?.open);
        for ch in open {
            self.unindex(modem, ch);
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
            self.promiscuous.insert(modem.0);
        } else {
            self.promiscuous.remove(&modem.0);
        }
        Ok(())
    }

    /// `modem.isOpen(channel)`.
    pub fn is_open(&self, modem: ModemId, channel: u16) -> bool {
        self.modems
            .get(modem.0)
            .is_some_and(|m| m.open.contains(&channel))
    }

    /// `modem.isWireless()`.
    pub fn is_wireless(&self, modem: ModemId) -> Option<bool> {
        self.modems
            .get(modem.0)
            .map(|m| !matches!(m.kind, ModemKind::Wired { .. }))
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
        let sender = self.modems.get(from.0).ok_or(ModemError::NoSuchModem)?;
        if !sender.attached {
            return Ok(());
        }
        let sender_kind = sender.kind;
        self.stats.transmits += 1;
        let empty = BTreeSet::new();
        let open = self.by_channel.get(&channel).unwrap_or(&empty);
        let hearers: Vec<usize> = if self.promiscuous.is_empty() {
            open.iter().copied().collect()
        } else {
            open.union(&self.promiscuous).copied().collect()
        };
        for i in hearers {
            let m = &self.modems[i];
            if i == from.0 || !m.attached {
                continue;
            }
            let Some(distance) = reach(&self.ranges, &sender_kind, &m.kind) else {
                continue;
            };
            let copies = self.link.copies(&mut self.rng);
            if copies == 0 {
                self.stats.lost += 1;
            }
            self.stats.duplicated += u64::from(copies.saturating_sub(1));
            for _ in 0..copies {
                let at = now + Duration::from_millis(self.link.latency_ms(&mut self.rng));
                self.seq += 1;
                self.in_flight.insert(
                    (at, self.seq),
                    Delivery {
                        modem: ModemId(i),
                        computer: m.computer,
                        channel,
                        reply_channel,
                        message: message.clone(),
                        distance,
                    },
                );
            }
        }
        Ok(())
    }

    /// The next delivery due at or before `now`, in (time, transmit order).
    #[must_use]
    pub fn poll_delivery(&mut self, now: Instant) -> Option<Delivery> {
        let (&key, _) = self.in_flight.first_key_value()?;
        if key.0 > now {
            return None;
        }
        self.stats.delivered += 1;
        self.in_flight.remove(&key)
    }

    /// When the next delivery is due, if any is in flight.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.in_flight.keys().next().map(|k| k.0)
    }

    /// Copies still in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
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
