//! `REFERENCE.md` is the registry rendered: this test fails when the committed file is stale.
//! `UPDATE_REFERENCE=1 cargo test -p syscall-api --test reference` rewrites it.

use std::path::Path;

#[test]
fn reference_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("REFERENCE.md");
    let rendered = syscall_api::registry::render_markdown();
    if std::env::var_os("UPDATE_REFERENCE").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "REFERENCE.md is stale: run `UPDATE_REFERENCE=1 cargo test -p syscall-api --test reference`"
    );
}
