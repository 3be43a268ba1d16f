//! Compiles the C programs in `tests/c/` against `include/phoenix.h` with the system's C
//! compiler, links them to this crate's cdylib and runs them.

use std::path::PathBuf;
use std::process::Command;

/// Compiles `tests/c/NAME.c` and runs it; returns its output.
fn run_c(name: &str) -> std::process::Output {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // The test binary lives in target/<profile>/deps, next to the cdylib cargo built for it.
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let lib_dir = [deps.clone(), deps.parent().unwrap().to_path_buf()]
        .into_iter()
        .find(|d| d.join("libphoenix_ffi.so").exists())
        .expect("libphoenix_ffi.so next to the test binary");
    let exe = deps.join(format!("phoenix_ffi_{name}"));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .arg(manifest.join(format!("tests/c/{name}.c")))
        .arg("-I")
        .arg(manifest.join("include"))
        .arg("-L")
        .arg(&lib_dir)
        .args(["-lphoenix_ffi", "-Wall", "-Werror", "-o"])
        .arg(&exe)
        .status()
        .unwrap_or_else(|e| panic!("the C compiler `{cc}` must be installed: {e}"));
    assert!(status.success(), "compiling {name}.c failed");
    Command::new(&exe)
        .env("LD_LIBRARY_PATH", &lib_dir)
        .output()
        .unwrap()
}

#[test]
fn a_c_program_drives_the_stack_through_the_header() {
    let out = run_c("smoke");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "smoke.c failed:\n{text}");
    assert_eq!(text.matches(": ok").count(), 6, "{text}");
}

/// Double free is undefined behaviour; a debug build of the library catches it and aborts
/// with a message naming the function instead of corrupting the heap.
#[test]
fn a_debug_build_catches_a_double_free() {
    if !cfg!(debug_assertions) {
        return;
    }
    let out = run_c("double_free");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("phoenix_string_free") && err.contains("already freed"),
        "{err}"
    );
}

/// Two in-process computers through the C ABI (tests/c/two_hosts.c): version queries, error
/// codes for NULL and non-UTF-8 arguments, ping, a PSP exchange both ways with a close, and
/// host-provided TCP played by the C program: an HTTP GET against a program's listen and a
/// WebSocket echo.
#[test]
fn a_c_program_runs_two_computers_through_ping_psp_http_and_websocket() {
    let out = run_c("two_hosts");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "two_hosts.c failed:\n{text}");
    assert!(!text.contains("MISSING"), "{text}");
    assert!(text.matches(": ok").count() >= 30, "{text}");
}

/// The build writes `phoenix-ffi.pc` next to the library; pkg-config reads it (when installed).
#[test]
fn the_build_writes_a_pkg_config_file() {
    let deps = std::env::current_exe().unwrap();
    let pc_dir = deps
        .ancestors()
        .find(|d| d.join("phoenix-ffi.pc").exists())
        .expect("phoenix-ffi.pc in an ancestor of the test binary")
        .to_path_buf();
    let pc = std::fs::read_to_string(pc_dir.join("phoenix-ffi.pc")).unwrap();
    assert!(pc.contains("Libs: -L${libdir} -lphoenix_ffi"), "{pc}");
    let include = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include");
    assert!(
        pc.contains(&format!("includedir={}", include.display())),
        "{pc}"
    );
    if let Ok(o) = Command::new("pkg-config")
        .args(["--cflags", "phoenix-ffi"])
        .env("PKG_CONFIG_PATH", &pc_dir)
        .output()
    {
        assert!(o.status.success());
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            format!("-I{}", include.display())
        );
    }
}
