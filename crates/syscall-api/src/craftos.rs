//! The rednet API of a plain CraftOS computer, for hosts that emulate one: `rednet.open`/
//! `close`, `rednet.host`/`unhost`/`lookup` with rednet.lua's 2 s timing and early return, and
//! the `repeat` program. Phoenix programs use rednet through handles instead (`connect
//! "rednet://…"`); both share the computer's one rednet endpoint, so a name hosted here is
//! answered for whichever side asks. Each side holds its own claim on a modem's rednet
//! channels: `rednet.close` does not cut off an open rednet handle, and closing the last handle
//! does not undo `rednet.open`.

use std::collections::{BTreeSet, VecDeque};

use modem_value::{Instant, RandomSource, SplitMix64};
use rednet_codec::{Completion, HostStatus, ModemId, Repeater, RequestId};

use crate::computer::Computer;
use crate::SyscallError;

/// Most finished host/lookup requests kept for [`Computer::poll_rednet_completion`]; older ones
/// are dropped when a host never drains them.
pub const MAX_REDNET_COMPLETIONS: usize = 1024;

/// The CraftOS-side rednet state of a computer.
#[derive(Debug, Default)]
pub(crate) struct CraftOs {
    /// Requests made through this API whose completion the host wants.
    pending: BTreeSet<RequestId>,
    done: VecDeque<Completion>,
    /// Modems on which `rednet.open` was called through this API and not closed since. The
    /// computer's rednet endpoint is shared with Phoenix rednet handles, so each side holds its
    /// own claim: a modem's rednet channels close only when neither side still wants them.
    pub(crate) opened: BTreeSet<String>,
    pub(crate) repeater: Option<Repeater>,
}

impl CraftOs {
    /// Keeps `c` for the host if it asked for it.
    pub(crate) fn complete(&mut self, c: Completion) {
        if self.pending.remove(&c.id()) {
            if self.done.len() >= MAX_REDNET_COMPLETIONS {
                self.done.pop_front();
            }
            self.done.push_back(c);
        }
    }
}

impl Computer {
    fn modem_id(&self, modem: &str) -> Result<ModemId, SyscallError> {
        self.modems
            .iter()
            .find(|d| d.as_str() == modem)
            .map(|d| ModemId::from(d.as_str()))
            .ok_or(SyscallError::NoSuchDevice)
    }

    /// `rednet.open(modem)`: opens the computer's ID channel and the broadcast channel there.
    pub fn rednet_open(&mut self, now: Instant, modem: &str) -> Result<(), SyscallError> {
        self.advance(now);
        let m = self.modem_id(modem)?;
        // rednet.lua's open re-opens channels that may already be open; the peripheral does not
        // count, but the computer's channel table does, so an open endpoint is left as it is.
        if !self.rednet.is_open(&m) {
            self.rednet.open(&m)?;
        }
        self.craftos.opened.insert(modem.to_owned());
        self.pump();
        Ok(())
    }

    /// `rednet.close(modem)`, or `rednet.close()` on every modem when `modem` is `None`.
    ///
    /// The channels stay open on a modem that an open Phoenix rednet handle still uses (the
    /// handle keeps receiving); they close when that handle closes.
    pub fn rednet_close(&mut self, now: Instant, modem: Option<&str>) -> Result<(), SyscallError> {
        self.advance(now);
        let names: Vec<String> = match modem {
            Some(name) => {
                self.modem_id(name)?;
                vec![name.to_owned()]
            }
            None => self.modems.iter().map(|d| d.as_str().to_owned()).collect(),
        };
        for name in names {
            self.craftos.opened.remove(&name);
            let m = ModemId::from(name.as_str());
            if self.rednet.is_open(&m) && !self.rednet_handle_uses(&name, None) {
                self.rednet.close(&m)?;
            }
        }
        self.pump();
        Ok(())
    }

    /// `rednet.host(protocol, hostname)`. Returns `None` when the name is recorded at once
    /// (already hosted, or rednet closed everywhere), or the request whose
    /// [`Completion::Hosted`] [`Computer::poll_rednet_completion`] returns within 2 s
    /// (`HostnameInUse` as soon as another computer answers for the name).
    pub fn rednet_host_request(
        &mut self,
        now: Instant,
        protocol: &str,
        hostname: &str,
    ) -> Result<Option<RequestId>, SyscallError> {
        self.advance(now);
        let status = self.rednet.host(now, protocol.into(), hostname.into())?;
        let id = match status {
            HostStatus::Hosted => None,
            HostStatus::Pending(id) => {
                self.craftos.pending.insert(id);
                Some(id)
            }
        };
        self.pump();
        Ok(id)
    }

    /// `rednet.unhost(protocol)`: returns the name it was hosted under.
    pub fn rednet_unhost(&mut self, now: Instant, protocol: &str) -> Option<String> {
        self.advance(now);
        self.rednet
            .unhost(&protocol.into())
            .map(|h| h.to_string_lossy())
    }

    /// `rednet.lookup(protocol, hostname)`: its [`Completion::LookedUp`] comes from
    /// [`Computer::poll_rednet_completion`], at once for a local answer, at the first matching
    /// response with a hostname, else after exactly 2 s.
    pub fn rednet_lookup(
        &mut self,
        now: Instant,
        protocol: &str,
        hostname: Option<&str>,
    ) -> Result<RequestId, SyscallError> {
        self.advance(now);
        let id = self
            .rednet
            .lookup(now, protocol.into(), hostname.map(Into::into))?;
        self.craftos.pending.insert(id);
        self.pump();
        Ok(id)
    }

    /// The next finished [`rednet_host_request`](Computer::rednet_host_request) or
    /// [`rednet_lookup`](Computer::rednet_lookup), in completion order.
    #[must_use]
    pub fn poll_rednet_completion(&mut self) -> Option<Completion> {
        self.craftos.done.pop_front()
    }

    /// Runs (`on`) or stops CC:Tweaked's `repeat` program on every modem: rednet traffic on
    /// channel 65533 is re-sent on every modem, each message ID once per 30 s. Stopping closes
    /// 65533 as `repeat` does when terminated.
    pub fn set_repeater(&mut self, now: Instant, on: bool) {
        self.advance(now);
        match (on, self.craftos.repeater.is_some()) {
            (true, false) => {
                let mut r = Repeater::new(&mut SplitMix64::new(self.rng.next_u64()));
                for d in &self.modems {
                    r.attach_modem(ModemId::from(d.as_str()));
                }
                self.craftos.repeater = Some(r);
            }
            (false, true) => {
                if let Some(mut r) = self.craftos.repeater.take() {
                    r.shutdown();
                    self.apply_repeater_ops(&mut r);
                }
            }
            _ => {}
        }
        self.pump();
    }

    /// Whether the `repeat` program runs.
    pub fn is_repeater(&self) -> bool {
        self.craftos.repeater.is_some()
    }

    /// Moves the repeater's modem calls out; returns whether there were any.
    pub(crate) fn pump_repeater(&mut self) -> bool {
        let Some(mut r) = self.craftos.repeater.take() else {
            return false;
        };
        let progress = self.apply_repeater_ops(&mut r);
        self.craftos.repeater = Some(r);
        progress
    }

    fn apply_repeater_ops(&mut self, r: &mut Repeater) -> bool {
        let mut progress = false;
        while let Some(op) = r.poll_modem_op() {
            progress = true;
            self.rednet_modem_op(op);
        }
        progress
    }
}
