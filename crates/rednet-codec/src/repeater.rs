//! The `repeat` program: a computer that re-transmits rednet traffic so that it crosses
//! between modems and beyond wireless range.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use modem_value::{Instant, RandomSource, Value};

use crate::consts::{channel_for_recipient, CHANNEL_REPEAT, REPEATER_MEMORY};
use crate::idset::{id_key, ExpiringIdSet};
use crate::wrapper::field;
use crate::{ModemId, ModemOp, Transmit};

/// Default bound of the repeater's memory: IDs forwarded within the last 30 s. At the bound
/// that is a sustained ~2 200 forwarded messages/s; memory ≤ 2 MiB of probe table + ≤ 1 MiB of
/// deadline queue.
pub const DEFAULT_REPEATER_CAPACITY: usize = 65_536;

/// Why [`Repeater::handle_modem_message`] did not forward a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotRepeated {
    /// Not on channel 65533.
    WrongChannel,
    /// The payload is not a table.
    NotATable,
    /// `nMessageID` is nil/false (repeat.lua's test), or not a non-NaN number (see
    /// [`Repeater`] for why non-number IDs are not forwarded).
    BadMessageId,
    /// `nRecipient` is not a number.
    BadRecipient,
    /// `nRecipient % 65500` is not an integer channel (a fractional or infinite recipient).
    NoChannel,
    /// Forwarded within the last 30 s.
    Duplicate,
    /// The memory is at capacity: new IDs are dropped, never a remembered one evicted, so
    /// nothing is forwarded twice.
    MemoryFull,
}

/// repeat.lua as a sans-IO state machine.
///
/// A packet on channel 65533 whose payload is a table with an `nMessageID` and a numeric
/// `nRecipient`, not seen within 30 s, is remembered for 30 s (one timer per ID) and transmitted
/// on **every** attached modem — including the one it came from — first on 65533, then on the
/// target channel (65535 for a broadcast, else `nRecipient % 65500`), with the original reply
/// channel and the table unchanged.
///
/// Deviations, all for packets no rednet.lua emits: repeat.lua accepts any truthy `nMessageID`;
/// this repeater forwards only non-NaN numbers. (repeat.lua dies on a NaN ID — `t[nan] = true`
/// raises — and forwards a table-ID packet forever, since every copy is a fresh table; a string
/// ID would be forwarded once.) A recipient without a valid channel, which makes repeat.lua's
/// `transmit` raise and the program exit, is dropped.
///
/// Drive it like the [`Endpoint`](crate::Endpoint): `handle_*` with `now`, drain
/// [`poll_modem_op`](Self::poll_modem_op), wake at [`poll_timeout`](Self::poll_timeout).
#[derive(Debug)]
pub struct Repeater {
    modems: Vec<ModemId>,
    seen: ExpiringIdSet,
    ops: VecDeque<ModemOp>,
    now: Instant,
    forwarded: u64,
}

impl Repeater {
    /// A repeater with no modems and the default memory bound; `rng` seeds the ID table.
    pub fn new(rng: &mut impl RandomSource) -> Self {
        Self::with_capacity(DEFAULT_REPEATER_CAPACITY, rng)
    }

    /// A repeater remembering at most `capacity` IDs.
    pub fn with_capacity(capacity: usize, rng: &mut impl RandomSource) -> Self {
        Repeater {
            modems: Vec::new(),
            seen: ExpiringIdSet::new(capacity, rng.next_u64()),
            ops: VecDeque::new(),
            now: Instant::ZERO,
            forwarded: 0,
        }
    }

    /// Adds a modem (in `peripheral.getNames()` order) and opens 65533 on it, as repeat.lua
    /// does for every modem at start. Returns `false` if it was already attached.
    pub fn attach_modem(&mut self, modem: ModemId) -> bool {
        if self.modems.contains(&modem) {
            return false;
        }
        self.ops.push_back(ModemOp::Open {
            modem: modem.clone(),
            channel: CHANNEL_REPEAT,
        });
        self.modems.push(modem);
        true
    }

    /// Forgets a modem that went away (no close: it is gone).
    pub fn detach_modem(&mut self, modem: &ModemId) -> bool {
        let before = self.modems.len();
        self.modems.retain(|m| m != modem);
        self.modems.len() != before
    }

    /// Closes 65533 on every modem, as repeat.lua does when terminated; the modems stay
    /// attached (a later `attach_modem` of the same name is a no-op, so re-open by detaching).
    pub fn shutdown(&mut self) {
        for m in &self.modems {
            self.ops.push_back(ModemOp::Close {
                modem: m.clone(),
                channel: CHANNEL_REPEAT,
            });
        }
    }

    /// Attached modems, in order.
    pub fn modems(&self) -> &[ModemId] {
        &self.modems
    }

    /// IDs remembered now (≤ capacity).
    pub fn remembered_ids(&self) -> usize {
        self.seen.len()
    }

    /// The memory bound.
    pub fn capacity(&self) -> usize {
        self.seen.capacity()
    }

    /// Messages forwarded so far.
    pub fn forwarded(&self) -> u64 {
        self.forwarded
    }

    /// A `modem_message` on any modem (repeat.lua does not check which). Returns the reason
    /// when it is not forwarded.
    pub fn handle_modem_message(
        &mut self,
        now: Instant,
        _modem: &ModemId,
        channel: u16,
        reply_channel: u16,
        payload: &Value,
    ) -> Result<(), NotRepeated> {
        self.handle_timeout(now);
        if channel != CHANNEL_REPEAT {
            return Err(NotRepeated::WrongChannel);
        }
        if payload.as_table().is_none() {
            return Err(NotRepeated::NotATable);
        }
        let key = payload
            .get(field::MESSAGE_ID)
            .as_num()
            .and_then(id_key)
            .ok_or(NotRepeated::BadMessageId)?;
        let recipient = payload
            .get(field::RECIPIENT)
            .as_num()
            .ok_or(NotRepeated::BadRecipient)?;
        if self.seen.contains(key) {
            return Err(NotRepeated::Duplicate);
        }
        let target = channel_for_recipient(recipient).ok_or(NotRepeated::NoChannel)?;
        self.seen
            .insert(key, self.now + REPEATER_MEMORY)
            .map_err(|_| NotRepeated::MemoryFull)?;
        for m in &self.modems {
            for ch in [CHANNEL_REPEAT, target] {
                self.ops.push_back(ModemOp::Transmit(Transmit {
                    modem: m.clone(),
                    channel: ch,
                    reply_channel,
                    payload: payload.clone(),
                }));
            }
        }
        self.forwarded += 1;
        Ok(())
    }

    /// Forgets IDs whose 30 s have passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        self.seen.expire(self.now);
    }

    /// When the next remembered ID is forgotten.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.seen.next_deadline()
    }

    /// The next modem call to make, in order.
    #[must_use]
    pub fn poll_modem_op(&mut self) -> Option<ModemOp> {
        self.ops.pop_front()
    }
}
