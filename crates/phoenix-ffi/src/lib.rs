//! A C ABI for the Phoenix network stack (header: `include/phoenix.h`).
//!
//! Each `PhoenixHost` is one computer's whole stack, driven exactly like `phoenix-net host`:
//! the caller passes one JSON input line at a time and gets back every output line it caused,
//! the last being `deadline` (protocol: `docs/stdio-host.md`). Strings crossing the boundary are
//! NUL-terminated UTF-8; strings returned by the library are freed with `phoenix_string_free`.
//! No function panics across the boundary: a null pointer or non-UTF-8 input gives a null
//! result (or an `error` line), never undefined behaviour on the Rust side.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, CStr, CString};

use phoenix_net::host::Session;
use syscall_api::ComputerConfig;

/// One computer's stack (opaque to C).
pub struct PhoenixHost {
    session: Session,
    /// Output of the boot, handed out with the first input's output.
    pending: Vec<String>,
}

fn to_c(lines: Vec<String>) -> *mut c_char {
    let mut text = lines.join("\n");
    text.retain(|c| c != '\0');
    // No NUL is left, so this cannot fail.
    CString::new(text).map_or(std::ptr::null_mut(), CString::into_raw)
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
    Box::into_raw(Box::new(PhoenixHost { session, pending }))
}

/// Destroys a computer made by `phoenix_host_new` (null is ignored).
///
/// # Safety
/// `host` is null or came from `phoenix_host_new` and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn phoenix_host_free(host: *mut PhoenixHost) {
    if !host.is_null() {
        // SAFETY: `host` came from `Box::into_raw` in `phoenix_host_new`.
        drop(unsafe { Box::from_raw(host) });
    }
}

/// Feeds one JSON input line; returns the output lines it caused, joined with `\n` (free with
/// `phoenix_string_free`). Returns null if `host` or `line` is null.
///
/// # Safety
/// `host` came from `phoenix_host_new`; `line` is a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn phoenix_host_input(
    host: *mut PhoenixHost,
    line: *const c_char,
) -> *mut c_char {
    if host.is_null() || line.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: checked non-null; the caller guarantees it came from `phoenix_host_new`.
    let h = unsafe { &mut *host };
    // SAFETY: the caller passes a valid NUL-terminated string.
    let text = unsafe { CStr::from_ptr(line) }.to_string_lossy();
    let mut out = std::mem::take(&mut h.pending);
    out.extend(h.session.input(&text));
    to_c(out)
}

/// Frees a string returned by this library (null is ignored).
///
/// # Safety
/// `s` is null or came from this library and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn phoenix_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: `s` came from `CString::into_raw`.
        drop(unsafe { CString::from_raw(s) });
    }
}
