//! Compiles `tests/c/smoke.c` against `include/phoenix.h` with the system's C compiler, links it
//! to this crate's cdylib and runs it.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn a_c_program_drives_the_stack_through_the_header() {
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
    let exe = deps.join("phoenix_ffi_smoke");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .arg(manifest.join("tests/c/smoke.c"))
        .arg("-I")
        .arg(manifest.join("include"))
        .arg("-L")
        .arg(&lib_dir)
        .args(["-lphoenix_ffi", "-Wall", "-Werror", "-o"])
        .arg(&exe)
        .status()
        .unwrap_or_else(|e| panic!("the C compiler `{cc}` must be installed: {e}"));
    assert!(status.success(), "compiling smoke.c failed");
    let out = Command::new(&exe)
        .env("LD_LIBRARY_PATH", &lib_dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "smoke.c failed:\n{text}");
    assert_eq!(text.matches(": ok").count(), 4, "{text}");
}
