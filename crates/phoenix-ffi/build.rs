//! Writes `phoenix-ffi.pc` next to the built library (`target/<profile>/phoenix-ffi.pc`), so a
//! C or C++ build in the tree finds the header and the library of this build with
//! `PKG_CONFIG_PATH=target/<profile> pkg-config --cflags --libs phoenix-ffi` (for an installed
//! copy, `scripts/install-ffi.sh` writes its own `phoenix-ffi.pc`).

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out.
    let Some(profile_dir) = out.ancestors().nth(3).map(Path::to_path_buf) else {
        return;
    };
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    // `cargo package` verifies the crate by building its unpacked copy under
    // `<target>/package/`, in the same target directory: that build must not repoint the tree's
    // `phoenix-ffi.pc` at the copy's header.
    if profile_dir
        .parent()
        .is_some_and(|target| manifest.starts_with(target))
    {
        return;
    }
    let pc = format!(
        "libdir={}\nincludedir={}\n\nName: phoenix-ffi\nDescription: {}\nVersion: {}\n\
         Libs: -L${{libdir}} -lphoenix_ffi\nCflags: -I${{includedir}}\n",
        profile_dir.display(),
        manifest.join("include").display(),
        std::env::var("CARGO_PKG_DESCRIPTION").unwrap_or_default(),
        std::env::var("CARGO_PKG_VERSION").unwrap_or_default(),
    );
    // A read-only or unusual target directory only costs the convenience file.
    if let Err(e) = std::fs::write(profile_dir.join("phoenix-ffi.pc"), pc) {
        println!("cargo:warning=phoenix-ffi.pc not written: {e}");
    }
}
