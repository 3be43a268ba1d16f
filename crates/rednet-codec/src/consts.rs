//! Rednet's channels, timings and the ID → channel mapping.

use core::time::Duration;

/// Channel every broadcast goes to, and `nRecipient` of a broadcast.
pub const CHANNEL_BROADCAST: u16 = 65535;
/// Channel repeaters listen on; every send is transmitted a second time on it.
pub const CHANNEL_REPEAT: u16 = 65533;
/// `gps.CHANNEL_GPS`: not rednet, but occupied in practice.
pub const CHANNEL_GPS: u16 = 65534;
/// Number of channels used for computer IDs: IDs map to `id % MAX_ID_CHANNELS`.
pub const MAX_ID_CHANNELS: u16 = 65500;
/// Largest message ID rednet.lua draws (`math.random(1, 2147483647)`).
pub const MAX_MESSAGE_ID: u32 = 2_147_483_647;

/// How long after it is sent or received an ID counts as seen (`os.clock() + 9.5`).
pub const DEDUP_LIFETIME: Duration = Duration::from_millis(9500);
/// Period of rednet.lua's prune timer, which forgets IDs whose deadline has passed.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(10);
/// How long repeat.lua remembers an ID it forwarded (one 30 s timer per message).
pub const REPEATER_MEMORY: Duration = Duration::from_secs(30);
/// How long `rednet.lookup` collects `lookup response`s.
pub const LOOKUP_WINDOW: Duration = Duration::from_secs(2);

/// Protocol name of rednet's DNS.
pub const DNS_PROTOCOL: &str = "dns";
/// Hostname nobody may host; `lookup(p, "localhost")` answers with the own ID.
pub const LOCALHOST: &str = "localhost";

/// The channel a computer listens on for unicast rednet: `id % 65500`.
///
/// IDs ≥ 65500 share channels with smaller ones (65500 → 0); receivers still compare the full
/// ID in `nRecipient`, so colliding computers do not steal each other's messages.
///
/// ```
/// assert_eq!(rednet_codec::id_as_channel(7), 7);
/// assert_eq!(rednet_codec::id_as_channel(65500), 0);
/// assert_eq!(rednet_codec::id_as_channel(131_001), 1);
/// ```
pub const fn id_as_channel(id: u32) -> u16 {
    (id % MAX_ID_CHANNELS as u32) as u16
}

/// Lua's `a % b` on numbers: `a - floor(a / b) * b` (the result has the sign of `b`).
pub fn lua_mod(a: f64, b: f64) -> f64 {
    a - libm_floor(a / b) * b
}

/// `f64::floor` lives in std; this is the same for every finite and non-finite input.
fn libm_floor(x: f64) -> f64 {
    if !x.is_finite() || x.abs() >= 4_503_599_627_370_496.0 {
        // Non-finite values and values ≥ 2^52 are already integral (or NaN/inf).
        return x;
    }
    let t = x as i64 as f64;
    if t > x {
        t - 1.0
    } else {
        t
    }
}

/// The channel rednet.lua transmits a message for `recipient` on: 65535 for a broadcast,
/// otherwise `recipient % 65500`. `None` when that is not a channel a modem accepts (an integer
/// in 0–65535): NaN, infinities and fractional recipients.
pub fn channel_for_recipient(recipient: f64) -> Option<u16> {
    if recipient == f64::from(CHANNEL_BROADCAST) {
        return Some(CHANNEL_BROADCAST);
    }
    as_channel(lua_mod(recipient, f64::from(MAX_ID_CHANNELS)))
}

/// `n` as a modem channel if it is an integer in 0–65535.
pub fn as_channel(n: f64) -> Option<u16> {
    if (0.0..=65535.0).contains(&n) && libm_floor(n) == n {
        Some(n as u16)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lua_modulo_is_floored() {
        assert_eq!(lua_mod(7.0, 65500.0), 7.0);
        assert_eq!(lua_mod(65500.0, 65500.0), 0.0);
        assert_eq!(lua_mod(-5.0, 65500.0), 65495.0);
        assert_eq!(lua_mod(65501.5, 65500.0), 1.5);
        assert!(lua_mod(f64::INFINITY, 65500.0).is_nan());
        assert!(lua_mod(f64::NAN, 65500.0).is_nan());
        assert_eq!(libm_floor(-0.5), -1.0);
        assert_eq!(libm_floor(2.0), 2.0);
        assert_eq!(libm_floor(-2.0), -2.0);
    }

    #[test]
    fn recipient_channels() {
        assert_eq!(channel_for_recipient(65535.0), Some(65535));
        assert_eq!(channel_for_recipient(65533.0), Some(33));
        assert_eq!(channel_for_recipient(4_294_967_295.0), Some(1295));
        assert_eq!(channel_for_recipient(-1.0), Some(65499));
        assert_eq!(channel_for_recipient(1.5), None);
        assert_eq!(channel_for_recipient(f64::NAN), None);
        assert_eq!(channel_for_recipient(f64::INFINITY), None);
        assert_eq!(as_channel(65536.0), None);
        assert_eq!(as_channel(-0.0), Some(0));
    }
}
