//! Reference-counted modem channels, as Phoenix's modem driver keeps them.
//!
//! Several users want the same channel on the same modem: PIP wants 0, a PSP listener and two
//! of its connections share a port, rednet handles share `id % 65500` and 65535, raw listeners
//! open what they like. The peripheral channel is opened on the first use and closed when the
//! last user releases it.

use std::collections::BTreeMap;

use pip_core::Device;

/// Use counts per (device, channel).
#[derive(Clone, Debug, Default)]
pub struct ChannelRefs {
    counts: BTreeMap<(Device, u16), u32>,
}

/// What the peripheral must do after a change of use count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// First user: open the channel.
    Open,
    /// Last user gone: close the channel.
    Close,
    /// Nothing to do.
    None,
}

impl ChannelRefs {
    /// One more user of `channel` on `device`.
    pub fn acquire(&mut self, device: &Device, channel: u16) -> Edge {
        let c = self.counts.entry((device.clone(), channel)).or_insert(0);
        *c = c.saturating_add(1);
        if *c == 1 {
            Edge::Open
        } else {
            Edge::None
        }
    }

    /// One user fewer. Releasing a channel nobody holds is ignored.
    pub fn release(&mut self, device: &Device, channel: u16) -> Edge {
        let key = (device.clone(), channel);
        match self.counts.get_mut(&key) {
            Some(c) if *c > 1 => {
                *c -= 1;
                Edge::None
            }
            Some(_) => {
                self.counts.remove(&key);
                Edge::Close
            }
            None => Edge::None,
        }
    }

    /// Forgets every use of `channel` on `device` (the peripheral refused to open it).
    pub fn forget(&mut self, device: &Device, channel: u16) {
        self.counts.remove(&(device.clone(), channel));
    }

    /// Whether anyone holds `channel` on `device`.
    pub fn is_open(&self, device: &Device, channel: u16) -> bool {
        self.counts.contains_key(&(device.clone(), channel))
    }

    /// Channels held on `device`.
    pub fn open_on(&self, device: &Device) -> usize {
        self.counts.keys().filter(|(d, _)| d == device).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_opens_last_closes() {
        let mut r = ChannelRefs::default();
        let d = Device::new("/top");
        assert_eq!(r.acquire(&d, 5), Edge::Open);
        assert_eq!(r.acquire(&d, 5), Edge::None);
        assert_eq!(r.release(&d, 5), Edge::None);
        assert!(r.is_open(&d, 5));
        assert_eq!(r.release(&d, 5), Edge::Close);
        assert_eq!(r.release(&d, 5), Edge::None);
        assert!(!r.is_open(&d, 5));
        assert_eq!(r.acquire(&Device::new("/back"), 5), Edge::Open);
        assert_eq!(r.open_on(&d), 0);
    }
}
