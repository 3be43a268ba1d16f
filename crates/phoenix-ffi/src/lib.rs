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

use phoenix_net::host::Session;
use syscall_api::ComputerConfig;

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
