//! Phoenix IPv4 addresses as text and numbers.
//!
//! Phoenix keeps an address as a 32-bit number and writes it as four dotted octets. Its parser
//! accepts the classic `inet_aton` shapes `N`, `A.B`, `A.B.C` and `A.B.C.D` (digits only).
//! Phoenix 0.0.9 does not range-check the parts; this parser rejects any part
//! wider than its slot (`A.B.C.D`: every part ≤ 255; `A.B.C`: `C` ≤ 65535; `A.B`: `B` ≤
//! 16777215) with [`AddrError::InvalidIp`], whose text is Phoenix's `Invalid IP address`.

use alloc::string::String;
use core::net::Ipv4Addr;

use ipnet::Ipv4Net;
use modem_value::{LuaStr, Value};

/// Why a textual or numeric address or netmask is unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddrError {
    /// Not one of the four textual shapes, a part out of range, or a non-finite number.
    #[error("Invalid IP address")]
    InvalidIp,
    /// A prefix length outside 0..=32 or a dotted mask whose text is not an address.
    #[error("Invalid netmask")]
    InvalidNetmask,
}

/// `127.0.0.1`, the address of the loopback interface `/lo`.
pub const LOOPBACK_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
/// Prefix length of the loopback interface (`127.0.0.0/8`).
pub const LOOPBACK_PREFIX: u8 = 8;
/// `255.255.255.255`: the limited broadcast (local on every interface; rednet URIs'
/// "every computer").
pub const LIMITED_BROADCAST: Ipv4Addr = Ipv4Addr::BROADCAST;
/// `0.0.0.0`: "all interfaces" in `listen` URIs.
pub const ANY: Ipv4Addr = Ipv4Addr::UNSPECIFIED;

/// Parses Phoenix's textual address forms, refusing parts wider than their slot.
///
/// ```
/// # use core::net::Ipv4Addr;
/// use pip_core::addr::parse_ip;
/// assert_eq!(parse_ip(b"10.0.0.1"), Ok(Ipv4Addr::new(10, 0, 0, 1)));
/// assert_eq!(parse_ip(b"10.258"), Ok(Ipv4Addr::new(10, 0, 1, 2)));
/// assert_eq!(parse_ip(b"167772161"), Ok(Ipv4Addr::new(10, 0, 0, 1)));
/// assert!(parse_ip(b"10.0.0.256").is_err());
/// assert!(parse_ip(b" 10.0.0.1").is_err());
/// ```
pub fn parse_ip(text: &[u8]) -> Result<Ipv4Addr, AddrError> {
    let mut parts = [0u64; 4];
    let mut n = 0usize;
    let mut cur: u64 = 0;
    let mut digits = 0usize;
    for &b in text {
        match b {
            b'0'..=b'9' => {
                cur = cur * 10 + u64::from(b - b'0');
                digits += 1;
                // Anything above 2^32 is out of range for every slot; stop before overflow.
                if cur > u64::from(u32::MAX) {
                    return Err(AddrError::InvalidIp);
                }
            }
            b'.' => {
                if digits == 0 || n >= 3 {
                    return Err(AddrError::InvalidIp);
                }
                parts[n] = cur;
                n += 1;
                cur = 0;
                digits = 0;
            }
            _ => return Err(AddrError::InvalidIp),
        }
    }
    if digits == 0 {
        return Err(AddrError::InvalidIp);
    }
    parts[n] = cur;
    // The last part fills every remaining byte; the leading parts are one byte each.
    let tail_bits = 8 * (4 - n as u32);
    let tail_max = if tail_bits == 32 {
        u64::from(u32::MAX)
    } else {
        (1u64 << tail_bits) - 1
    };
    if parts[..n].iter().any(|&p| p > 255) || parts[n] > tail_max {
        return Err(AddrError::InvalidIp);
    }
    let mut v: u64 = 0;
    for (i, &p) in parts[..n].iter().enumerate() {
        v |= p << (24 - 8 * i as u32);
    }
    v |= parts[n];
    Ok(Ipv4Addr::from(v as u32))
}

/// Phoenix's `numberToIP`: always four dotted octets.
pub fn format_ip(ip: Ipv4Addr) -> String {
    let mut buf = [0u8; 15];
    let n = dotted(ip, &mut buf);
    // Only ASCII digits and dots were written.
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// [`format_ip`] as a wire string value.
pub fn ip_value(ip: Ipv4Addr) -> Value {
    // Every PIP packet carries two addresses: formatted on the stack, out of `core::fmt`, into
    // a string short enough to be kept inline (no allocation).
    let mut buf = [0u8; 15];
    let n = dotted(ip, &mut buf);
    Value::Str(LuaStr::from(&buf[..n]))
}

/// Writes `ip` as four dotted decimal octets into `buf`; returns the length (7 to 15).
fn dotted(ip: Ipv4Addr, buf: &mut [u8; 15]) -> usize {
    let mut n = 0;
    for (i, o) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if o >= 100 {
            buf[n] = b'0' + o / 100;
            n += 1;
        }
        if o >= 10 {
            buf[n] = b'0' + (o / 10) % 10;
            n += 1;
        }
        buf[n] = b'0' + o % 10;
        n += 1;
    }
    n
}

/// An "ip as number" argument: the number masked to 32 bits after flooring, as Lua's `bit32`
/// functions treat it (so `-1` is `255.255.255.255`). NaN and infinities are invalid.
pub fn ip_from_number(n: f64) -> Result<Ipv4Addr, AddrError> {
    if !n.is_finite() {
        return Err(AddrError::InvalidIp);
    }
    let m = floor(n) % 4_294_967_296.0;
    let m = if m < 0.0 { m + 4_294_967_296.0 } else { m };
    Ok(Ipv4Addr::from(m as u32))
}

/// An address argument as syscalls take it: a string or a number (masked to 32 bits).
pub fn ip_from_value(v: &Value) -> Result<Ipv4Addr, AddrError> {
    match v {
        Value::Str(s) => parse_ip(s.as_bytes()),
        Value::Num(n) => ip_from_number(*n),
        _ => Err(AddrError::InvalidIp),
    }
}

/// A netmask argument: a number is a prefix length (0..=32), a string a dotted mask whose
/// prefix is its count of leading one bits.
pub fn prefix_from_value(v: &Value) -> Result<u8, AddrError> {
    match v {
        Value::Num(n) if n.is_finite() && *n >= 0.0 && *n <= 32.0 && floor(*n) == *n => {
            Ok(*n as u8)
        }
        Value::Str(s) => parse_ip(s.as_bytes())
            .map(prefix_of_mask)
            .map_err(|_| AddrError::InvalidNetmask),
        _ => Err(AddrError::InvalidNetmask),
    }
}

/// The mask of a prefix length: `~(2^(32-p) - 1)`; lengths above 32 are treated as 32.
pub fn mask_of_prefix(prefix: u8) -> Ipv4Addr {
    let p = u32::from(prefix.min(32));
    Ipv4Addr::from(if p == 0 { 0 } else { u32::MAX << (32 - p) })
}

/// The prefix length of a mask: its count of leading one bits (what Phoenix does; bits after
/// the first zero are ignored).
pub fn prefix_of_mask(mask: Ipv4Addr) -> u8 {
    u32::from(mask).leading_ones() as u8
}

/// The network `ip/prefix` with host bits cleared (prefix lengths above 32 are treated as 32).
pub fn network(ip: Ipv4Addr, prefix: u8) -> Ipv4Net {
    // A prefix ≤ 32 is always accepted by `Ipv4Net::new`.
    Ipv4Net::new(ip, prefix.min(32))
        .map(|n| n.trunc())
        .unwrap_or_default()
}

/// The directed broadcast `(ip & mask) | ~mask` of an interface subnet.
pub fn directed_broadcast(ip: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    let m = u32::from(mask_of_prefix(prefix));
    Ipv4Addr::from((u32::from(ip) & m) | !m)
}

/// Parses `a.b.c.d/n` or a plain address (then `default_prefix` applies); the network
/// is truncated to its prefix.
pub fn parse_cidr(text: &[u8], default_prefix: u8) -> Result<Ipv4Net, AddrError> {
    match text.iter().position(|&b| b == b'/') {
        None => Ok(network(parse_ip(text)?, default_prefix)),
        Some(i) => {
            let (ip, rest) = text.split_at(i);
            let ip = parse_ip(ip)?;
            let digits = rest.get(1..).unwrap_or_default();
            if digits.is_empty() || digits.len() > 2 || !digits.iter().all(u8::is_ascii_digit) {
                return Err(AddrError::InvalidNetmask);
            }
            let p = digits
                .iter()
                .fold(0u32, |a, &d| a * 10 + u32::from(d - b'0'));
            if p > 32 {
                return Err(AddrError::InvalidNetmask);
            }
            Ok(network(ip, p as u8))
        }
    }
}

/// For `rednet://` URIs: an address in `0.0.0.0/8` *is* a computer ID.
pub fn rednet_id(ip: Ipv4Addr) -> Option<u32> {
    let v = u32::from(ip);
    (v >> 24 == 0).then_some(v)
}

/// `floor` without `std` (f64::floor lives in std).
fn floor(x: f64) -> f64 {
    // Beyond 2^52 every double is integral; below it truncation then correction is exact.
    if x.abs() >= 4_503_599_627_370_496.0 {
        return x;
    }
    let t = x as i64 as f64;
    if t > x {
        t - 1.0
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_ranges() {
        let ok = |s: &str| parse_ip(s.as_bytes()).map(u32::from);
        assert_eq!(ok("1.2.3.4"), Ok(0x0102_0304));
        assert_eq!(ok("1.2.772"), Ok(0x0102_0304));
        assert_eq!(ok("1.131844"), Ok(0x0102_0304));
        assert_eq!(ok("0"), Ok(0));
        assert_eq!(ok("4294967295"), Ok(u32::MAX));
        assert_eq!(ok("010.0.0.1"), Ok(0x0a00_0001));
        for bad in [
            "",
            ".",
            "1.",
            ".1",
            "1..2",
            "1.2.3.4.5",
            "4294967296",
            "1.2.3.256",
            "256.1",
            "1.16777216",
            "1.2.65536",
            "-1",
            "+1",
            "1.2.3.4 ",
            "a.b.c.d",
            "1.2.3.4/8",
            "99999999999999999999",
        ] {
            assert_eq!(ok(bad), Err(AddrError::InvalidIp), "{bad}");
        }
        assert_eq!(AddrError::InvalidIp.to_string(), "Invalid IP address");
    }

    #[test]
    fn numbers_masks_and_specials() {
        assert_eq!(ip_from_number(-1.0), Ok(Ipv4Addr::BROADCAST));
        assert_eq!(ip_from_number(4294967297.0), Ok(Ipv4Addr::new(0, 0, 0, 1)));
        assert_eq!(ip_from_number(1.5), Ok(Ipv4Addr::new(0, 0, 0, 1)));
        assert!(ip_from_number(f64::NAN).is_err());
        assert_eq!(mask_of_prefix(0), Ipv4Addr::UNSPECIFIED);
        assert_eq!(mask_of_prefix(24), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(mask_of_prefix(32), Ipv4Addr::BROADCAST);
        for p in 0..=32 {
            assert_eq!(prefix_of_mask(mask_of_prefix(p)), p);
        }
        assert_eq!(prefix_from_value(&Value::from("255.255.0.0")), Ok(16));
        assert_eq!(
            prefix_from_value(&Value::from(33)),
            Err(AddrError::InvalidNetmask)
        );
        assert_eq!(
            directed_broadcast(Ipv4Addr::new(10, 1, 2, 3), 16),
            Ipv4Addr::new(10, 1, 255, 255)
        );
        assert_eq!(
            parse_cidr(b"10.1.2.3/8", 32).unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_cidr(b"10.1.2.3", 32).unwrap().to_string(),
            "10.1.2.3/32"
        );
        assert!(parse_cidr(b"10.1.2.3/33", 32).is_err());
        assert_eq!(rednet_id(Ipv4Addr::new(0, 0, 2, 56)), Some(568));
        assert_eq!(format_ip(Ipv4Addr::new(10, 0, 0, 1)), "10.0.0.1");
        // Every octet width, against the standard library's rendering.
        for o in [0u8, 7, 9, 10, 42, 99, 100, 109, 110, 199, 200, 255] {
            let ip = Ipv4Addr::new(o, 255 - o, o / 2, 100);
            assert_eq!(format_ip(ip), ip.to_string());
            assert_eq!(ip_value(ip), Value::from(ip.to_string().as_str()));
        }
    }
}
