//! A C ABI for the Phoenix network stack (header: `include/phoenix.h`).
//!
//! Each `PhoenixHost` is one computer's whole stack, driven exactly like `phoenix-net host`:
//! the caller passes one JSON input line at a time and gets back every output line it caused,
//! the last being `deadline` (protocol: `docs/stdio-host.md`). Strings crossing the boundary are
//! NUL-terminated UTF-8; strings returned by the library are freed with `phoenix_string_free`.
//!
//! Errors are return values, never undefined behaviour on the Rust side:
//! * an input line that is not UTF-8 (or blank, or not a valid request) is answered with an
//!   `error` line and `deadline`, like the stdio host does; it is never decoded lossily;
//! * a null argument gives a null result;
//! * no panic crosses the boundary: every exported function catches it and returns its error
//!   value (null); a host whose input panicked is *poisoned* and answers null from then on,
//!   because its stack may be half-way through a change.
//!
//! Freeing a host or a string twice, or passing a pointer this library did not return, is
//! undefined behaviour that no C API can make safe. Debug builds of this library keep a set of
//! the live pointers and abort with a message naming the function on such a call.
//!
//! The calls a C program makes, here from Rust:
//!
//! ```
//! use std::ffi::{CStr, CString};
//! use phoenix_ffi::*;
//!
//! let modems = CString::new("/top").unwrap();
//! let line = CString::new(r#"{"op":"syscall","id":1,"pid":1,"root":false,"name":"routelist","args":[]}"#).unwrap();
//! unsafe {
//!     let host = phoenix_host_new(5, modems.as_ptr(), 0, 1);
//!     let out = phoenix_host_input(host, line.as_ptr());
//!     // Newline-separated output lines: the boot's, then the reply, then `deadline`.
//!     let text = CStr::from_ptr(out).to_str().unwrap().to_owned();
//!     assert!(text.contains(r#""out":"reply""#) && text.ends_with(r#"{"out":"deadline"}"#));
//!     phoenix_string_free(out);
//!     phoenix_host_free(host);
//! }
//! ```
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use phoenix_net::host::{Session, PROTOCOL_VERSION};
use syscall_api::modem_value::Value;
use syscall_api::ComputerConfig;

/// The version of this C ABI (`PHOENIX_ABI_VERSION` in the header): it changes whenever a
/// function's signature or an ownership rule changes incompatibly.
pub const ABI_VERSION: u32 = 1;

/// What a `phoenix_*` call that can fail returns (`PhoenixStatus` in the header).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhoenixStatus {
    /// Success.
    Ok = 0,
    /// A required pointer argument was null.
    ErrNull = -1,
    /// A string argument is not UTF-8.
    ErrUtf8 = -2,
    /// The configuration is not valid (see the message of [`phoenix_host_create`]).
    ErrConfig = -3,
    /// An internal panic happened in this call or an earlier one on this host; the host is
    /// unusable (free it).
    ErrPoisoned = -4,
}

/// The version of the line protocol (the `protocol` of the `hello` line).
#[no_mangle]
pub extern "C" fn phoenix_protocol_version() -> u32 {
    PROTOCOL_VERSION
}

/// The version of this C ABI.
#[no_mangle]
pub extern "C" fn phoenix_abi_version() -> u32 {
    ABI_VERSION
}

/// The library's version as a static NUL-terminated string (owned by the library: never free
/// it).
#[no_mangle]
pub extern "C" fn phoenix_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// A short static text for `status` (owned by the library: never free it).
#[no_mangle]
pub extern "C" fn phoenix_status_text(status: c_int) -> *const c_char {
    let t: &'static str = match status {
        0 => "ok\0",
        -1 => "a required pointer argument was NULL\0",
        -2 => "a string argument is not UTF-8\0",
        -3 => "invalid configuration\0",
        -4 => "the host is poisoned by an internal error\0",
        _ => "unknown status\0",
    };
    t.as_ptr().cast()
}

/// One computer's stack (opaque to C).
pub struct PhoenixHost {
    session: Session,
    /// Output of the boot, handed out with the first input's output.
    pending: Vec<String>,
    /// Set when an input panicked: the session is not used again.
    poisoned: bool,
}

/// Runs `f`, turning a panic into `on_panic` so no unwind crosses the C boundary.
fn guard<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(on_panic)
}

/// Debug builds: the pointers handed out and not yet freed, to catch double frees and foreign
/// pointers before they corrupt the heap. Release builds check nothing.
#[cfg(debug_assertions)]
mod live {
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    static HOSTS: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());
    static STRINGS: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());

    fn set(strings: bool) -> std::sync::MutexGuard<'static, BTreeSet<usize>> {
        let m = if strings { &STRINGS } else { &HOSTS };
        m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn add(strings: bool, p: usize) {
        set(strings).insert(p);
    }

    /// Aborts unless `p` is live; with `remove`, it is no longer live afterwards.
    pub fn check(strings: bool, p: usize, remove: bool, function: &str) {
        let mut s = set(strings);
        let live = if remove { s.remove(&p) } else { s.contains(&p) };
        if !live {
            drop(s);
            eprintln!(
                "{function}: {p:#x} is not a live {} of this library (already freed?); aborting",
                if strings { "string" } else { "host" }
            );
            std::process::abort();
        }
    }
}

#[cfg(not(debug_assertions))]
mod live {
    pub fn add(_strings: bool, _p: usize) {}
    pub fn check(_strings: bool, _p: usize, _remove: bool, _function: &str) {}
}

fn to_c(lines: Vec<String>) -> *mut c_char {
    let mut text = lines.join("\n");
    text.retain(|c| c != '\0');
    // No NUL is left, so this cannot fail.
    let p = CString::new(text).map_or(std::ptr::null_mut(), CString::into_raw);
    if !p.is_null() {
        live::add(true, p as usize);
    }
    p
}

/// Creates a computer with ID `id` and the modems named in `modems` (comma-separated device
/// paths such as `"/top,/back"`; may be null or empty), as a router if `router` is non-zero,
/// with randomness seeded by `seed`. Returns null if `modems` is not UTF-8.
///
/// # Safety
/// `modems` is null or a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn phoenix_host_new(
    id: u32,
    modems: *const c_char,
    router: c_int,
    seed: u64,
) -> *mut PhoenixHost {
    guard(std::ptr::null_mut(), || {
        let list = if modems.is_null() {
            String::new()
        } else {
            // SAFETY: the caller passes a valid NUL-terminated string.
            match unsafe { CStr::from_ptr(modems) }.to_str() {
                Ok(s) => s.to_string(),
                Err(_) => return std::ptr::null_mut(),
            }
        };
        let names: Vec<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let mut config = ComputerConfig::new(id, &names);
        config.forwarding = router != 0;
        let (session, pending) = Session::new(config, seed);
        let p = Box::into_raw(Box::new(PhoenixHost {
            session,
            pending,
            poisoned: false,
        }));
        live::add(false, p as usize);
        p
    })
}

/// The computer configuration of a `phoenix_host_create` JSON object.
fn parse_config(text: &str) -> Result<(ComputerConfig, u64), String> {
    let v = Value::from_json(text).map_err(|e| e.to_string())?;
    if v.as_table().is_none() {
        return Err("expected a JSON object".into());
    }
    let whole = |field: &'static str, max: f64| -> Result<Option<f64>, String> {
        match v.field_opt_num(field).map_err(|e| e.to_string())? {
            None => Ok(None),
            Some(n) if n.fract() == 0.0 && (0.0..=max).contains(&n) => Ok(Some(n)),
            Some(_) => Err(format!("bad field '{field}' (expected an integer 0-{max})")),
        }
    };
    let id = whole("id", f64::from(u32::MAX))?.ok_or("missing field 'id'")? as u32;
    let seed = whole("seed", 9_007_199_254_740_992.0)?.unwrap_or(0.0) as u64;
    let list = |field: &'static str| -> Result<Vec<Value>, String> {
        match v.get(field) {
            Value::Nil => Ok(Vec::new()),
            Value::Table(t) => {
                let n = t.iter().count();
                (1..=n)
                    .map(|i| {
                        t.get_num(i as f64)
                            .cloned()
                            .ok_or_else(|| format!("bad field '{field}' (expected an array)"))
                    })
                    .collect()
            }
            _ => Err(format!("bad field '{field}' (expected an array)")),
        }
    };
    let modems: Vec<String> = list("modems")?
        .iter()
        .map(|m| {
            m.as_str()
                .map(|s| s.to_string_lossy())
                .ok_or_else(|| "bad field 'modems' (expected strings)".to_string())
        })
        .collect::<Result<_, _>>()?;
    let forward_ports: Vec<u16> = list("forward_ports")?
        .iter()
        .map(|p| match p.as_num() {
            Some(n) if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) => Ok(n as u16),
            _ => Err("bad field 'forward_ports' (expected ports 0-65535)".to_string()),
        })
        .collect::<Result<_, _>>()?;
    let refs: Vec<&str> = modems.iter().map(String::as_str).collect();
    let mut config = ComputerConfig::new(id, &refs);
    config.forwarding = v
        .field_opt_bool("router")
        .map_err(|e| e.to_string())?
        .unwrap_or(false);
    config.forward_ports = forward_ports;
    if let Some(h) = v.field_opt_bool("http_server").map_err(|e| e.to_string())? {
        config.http_server = h;
    }
    if let Some(s) = v
        .field_opt_bool("psp_selective_ack")
        .map_err(|e| e.to_string())?
    {
        config.psp.selective_ack = s;
    }
    Ok((config, seed))
}

/// Creates a computer from a JSON configuration `config`:
/// `{"id": N, "modems": ["/top", …], "router": bool, "forward_ports": [P, …], "seed": N,
/// "http_server": bool, "psp_selective_ack": bool}` (only `id` is required). On success stores the host in `*out_host`
/// and the boot batch (`hello` … `deadline`, newline-separated; free with
/// `phoenix_string_free`) in `*out_boot`, and returns `PHOENIX_OK`. Otherwise stores null in
/// both and returns `PHOENIX_ERR_NULL` (a null pointer argument), `PHOENIX_ERR_UTF8` or
/// `PHOENIX_ERR_CONFIG`; with `PHOENIX_ERR_CONFIG` and a non-null `out_boot`, `*out_boot` holds
/// the reason (free it too).
///
/// # Safety
/// `config` is null or a valid NUL-terminated string; `out_host` and `out_boot` are null or
/// valid for a pointer write.
#[no_mangle]
pub unsafe extern "C" fn phoenix_host_create(
    config: *const c_char,
    out_host: *mut *mut PhoenixHost,
    out_boot: *mut *mut c_char,
) -> PhoenixStatus {
    if out_host.is_null() || out_boot.is_null() {
        return PhoenixStatus::ErrNull;
    }
    // SAFETY: both checked non-null; the caller guarantees they are writable.
    unsafe {
        *out_host = std::ptr::null_mut();
        *out_boot = std::ptr::null_mut();
    }
    if config.is_null() {
        return PhoenixStatus::ErrNull;
    }
    guard(PhoenixStatus::ErrPoisoned, || {
        // SAFETY: the caller passes a valid NUL-terminated string.
        let Ok(text) = unsafe { CStr::from_ptr(config) }.to_str() else {
            return PhoenixStatus::ErrUtf8;
        };
        match parse_config(text) {
            Ok((cfg, seed)) => {
                let (session, boot) = Session::new(cfg, seed);
                let p = Box::into_raw(Box::new(PhoenixHost {
                    session,
                    pending: Vec::new(),
                    poisoned: false,
                }));
                live::add(false, p as usize);
                // SAFETY: checked non-null above.
                unsafe {
                    *out_host = p;
                    *out_boot = to_c(boot);
                }
                PhoenixStatus::Ok
            }
            Err(reason) => {
                // SAFETY: checked non-null above.
                unsafe { *out_boot = to_c(vec![reason]) };
                PhoenixStatus::ErrConfig
            }
        }
    })
}

/// Feeds one input line (NUL-terminated UTF-8, without its newline) to `host`. On success
/// stores the output lines it caused (newline-separated, the last being `deadline`; free with
/// `phoenix_string_free`) in `*out_lines` and returns `PHOENIX_OK`. A line that is UTF-8 but not
/// a valid request is still `PHOENIX_OK`: the protocol answers it with an `error` line. Returns
/// `PHOENIX_ERR_NULL` for a null argument, `PHOENIX_ERR_UTF8` for a line that is not UTF-8 (the
/// stack sees nothing) and `PHOENIX_ERR_POISONED` for a host broken by an internal panic; then
/// `*out_lines` is null.
///
/// # Safety
/// `host` is null or came from this library and was not freed; `line` is null or a valid
/// NUL-terminated string; `out_lines` is null or valid for a pointer write.
#[no_mangle]
pub unsafe extern "C" fn phoenix_host_send(
    host: *mut PhoenixHost,
    line: *const c_char,
    out_lines: *mut *mut c_char,
) -> PhoenixStatus {
    if out_lines.is_null() {
        return PhoenixStatus::ErrNull;
    }
    // SAFETY: checked non-null; the caller guarantees it is writable.
    unsafe { *out_lines = std::ptr::null_mut() };
    if host.is_null() || line.is_null() {
        return PhoenixStatus::ErrNull;
    }
    live::check(false, host as usize, false, "phoenix_host_send");
    // SAFETY: the caller passes a valid NUL-terminated string.
    if unsafe { CStr::from_ptr(line) }.to_str().is_err() {
        return PhoenixStatus::ErrUtf8;
    }
    // SAFETY: `host` is live (checked in debug builds; the caller's contract otherwise).
    let p = unsafe { phoenix_host_input(host, line) };
    if p.is_null() {
        return PhoenixStatus::ErrPoisoned;
    }
    // SAFETY: checked non-null above.
    unsafe { *out_lines = p };
    PhoenixStatus::Ok
}

/// Destroys a computer made by `phoenix_host_new` (null is ignored).
///
/// # Safety
/// `host` is null or came from `phoenix_host_new` and is not used afterwards; freeing it twice
/// is undefined behaviour (debug builds abort with a message).
#[no_mangle]
pub unsafe extern "C" fn phoenix_host_free(host: *mut PhoenixHost) {
    if host.is_null() {
        return;
    }
    live::check(false, host as usize, true, "phoenix_host_free");
    guard((), || {
        // SAFETY: `host` came from `Box::into_raw` in `phoenix_host_new`.
        drop(unsafe { Box::from_raw(host) });
    });
}

/// Feeds one input line (without its newline); returns the output lines it caused, joined with
/// `\n` (free with `phoenix_string_free`). A line that is not UTF-8 is answered with an `error`
/// line and `deadline`. Returns null if `host` or `line` is null, or if the host is poisoned by
/// an internal panic (this call's or an earlier one's).
///
/// # Safety
/// `host` came from `phoenix_host_new` and was not freed; `line` is a valid NUL-terminated
/// string.
#[no_mangle]
pub unsafe extern "C" fn phoenix_host_input(
    host: *mut PhoenixHost,
    line: *const c_char,
) -> *mut c_char {
    if host.is_null() || line.is_null() {
        return std::ptr::null_mut();
    }
    live::check(false, host as usize, false, "phoenix_host_input");
    // SAFETY: checked non-null; the caller guarantees it came from `phoenix_host_new`.
    if unsafe { (*host).poisoned } {
        return std::ptr::null_mut();
    }
    let out = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: as above; no other reference to the host exists during this call.
        let h = unsafe { &mut *host };
        // SAFETY: the caller passes a valid NUL-terminated string.
        let bytes = unsafe { CStr::from_ptr(line) }.to_bytes();
        let mut out = std::mem::take(&mut h.pending);
        out.extend(h.session.input_bytes(bytes));
        to_c(out)
    }));
    out.unwrap_or_else(|_| {
        // SAFETY: as above; the closure's borrow ended with the unwind.
        unsafe { (*host).poisoned = true };
        std::ptr::null_mut()
    })
}

/// Frees a string returned by this library (null is ignored).
///
/// # Safety
/// `s` is null or came from this library and is not used afterwards; freeing it twice is
/// undefined behaviour (debug builds abort with a message).
#[no_mangle]
pub unsafe extern "C" fn phoenix_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    live::check(true, s as usize, true, "phoenix_string_free");
    guard((), || {
        // SAFETY: `s` came from `CString::into_raw`.
        drop(unsafe { CString::from_raw(s) });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic inside an exported function becomes its error value instead of unwinding into C
    /// (unwinding across `extern "C"` aborts the process).
    #[test]
    fn guard_turns_a_panic_into_the_error_value() {
        let p: *mut c_char = guard(std::ptr::null_mut(), || panic!("inside the stack"));
        assert!(p.is_null());
        assert_eq!(guard(0, || 7), 7);
    }

    /// `psp_selective_ack` reaches the PSP configuration; absent means off; a non-boolean is a
    /// configuration error naming the field.
    #[test]
    fn psp_selective_ack_is_read_from_the_configuration() {
        let (c, _) = parse_config(r#"{"id": 1, "psp_selective_ack": true}"#).unwrap();
        assert!(c.psp.selective_ack);
        let (c, _) = parse_config(r#"{"id": 1}"#).unwrap();
        assert!(!c.psp.selective_ack);
        let e = parse_config(r#"{"id": 1, "psp_selective_ack": 1}"#).unwrap_err();
        assert!(e.contains("psp_selective_ack"), "{e}");
    }

    /// A poisoned host answers null and can still be freed.
    #[test]
    fn a_poisoned_host_answers_null() {
        // SAFETY: a host from this library, a NUL-terminated line, freed once.
        unsafe {
            let h = phoenix_host_new(1, std::ptr::null(), 0, 1);
            (*h).poisoned = true;
            let line = CString::new(r#"{"op":"time","at":1}"#).unwrap();
            assert!(phoenix_host_input(h, line.as_ptr()).is_null());
            phoenix_host_free(h);
        }
    }
}
