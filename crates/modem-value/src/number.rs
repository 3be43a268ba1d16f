//! Lua's number-to-text conversion (`LUAI_NUMFFORMAT`, `"%.14g"`).

use alloc::format;
use alloc::string::String;

/// Formats `n` as PUC Lua 5.2's `tostring` does: `%.14g`, with `inf`, `-inf` and `nan`
/// (`-nan` is never produced: the sign of a NaN is not observable in Lua).
pub(crate) fn format_lua_number(n: f64) -> String {
    if n.is_nan() {
        return String::from(if n.is_sign_negative() { "-nan" } else { "nan" });
    }
    if n.is_infinite() {
        return String::from(if n < 0.0 { "-inf" } else { "inf" });
    }
    if n == 0.0 {
        return String::from(if n.is_sign_negative() { "-0" } else { "0" });
    }
    // %g with precision P=14: take the exponent X of the value rounded to P significant digits;
    // use fixed notation with P-1-X decimals when -4 <= X < P, else scientific; then strip
    // trailing zeros.
    let sci = format!("{:.13e}", n);
    let (mantissa, exp) = match sci.split_once('e') {
        Some(parts) => parts,
        None => return sci,
    };
    let x: i32 = exp.parse().unwrap_or(0);
    if (-4..14).contains(&x) {
        let decimals = (13 - x) as usize;
        let fixed = format!("{:.*}", decimals, n);
        strip_zeros(&fixed)
    } else {
        let m = strip_zeros(mantissa);
        let sign = if x < 0 { '-' } else { '+' };
        format!("{}e{}{:02}", m, sign, x.unsigned_abs())
    }
}

fn strip_zeros(s: &str) -> String {
    if s.contains('.') {
        String::from(s.trim_end_matches('0').trim_end_matches('.'))
    } else {
        String::from(s)
    }
}

#[cfg(test)]
mod tests {
    use super::format_lua_number as f;

    #[test]
    fn matches_c_printf_g14() {
        // Expected strings are what C's printf("%.14g") prints.
        assert_eq!(f(1.0), "1");
        assert_eq!(f(-3.0), "-3");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(1.0 / 3.0), "0.33333333333333");
        assert_eq!(f(2147483647.0), "2147483647");
        assert_eq!(f(4294967295.0), "4294967295");
        assert_eq!(f(1e14), "1e+14");
        assert_eq!(f(99999999999999.0), "99999999999999");
        assert_eq!(f(2f64.powi(53)), "9.007199254741e+15");
        assert_eq!(f(1e-5), "1e-05");
        assert_eq!(f(0.0001), "0.0001");
        assert_eq!(f(1.5e300), "1.5e+300");
        assert_eq!(f(f64::INFINITY), "inf");
        assert_eq!(f(f64::NEG_INFINITY), "-inf");
        assert_eq!(f(f64::NAN), "nan");
        assert_eq!(f(-0.0), "-0");
        assert_eq!(f(123.456), "123.456");
    }
}
