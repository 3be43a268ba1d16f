//! The workspace's declared `rust-version` is true: it is what the locked dependency tree needs.
//!
//! Reads `cargo metadata` for the workspace (every package of `Cargo.lock`, including dev- and
//! platform-specific dependencies) and compares each dependency's `rust-version` with the one
//! every workspace member declares. A `cargo update` that pulls in a crate needing a newer Rust
//! fails here (the MSRV-aware resolver, `resolver = "3"`, avoids that by itself); so does a
//! declared version higher than any dependency needs. The workspace's own code is held to the
//! declared version by clippy's `incompatible_msrv` lint.

use std::path::PathBuf;
use std::process::Command;

use modem_value::Value;

fn parse(v: &str) -> Vec<u32> {
    let mut parts: Vec<u32> = v
        .split('.')
        .map(|p| p.parse().unwrap_or_else(|_| panic!("bad rust-version {v}")))
        .collect();
    parts.resize(3, 0);
    parts
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(|s| s.to_string_lossy())
}

#[test]
fn declared_rust_version_is_what_the_locked_tree_needs() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--manifest-path",
        ])
        .arg(root.join("Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta = Value::from_json(std::str::from_utf8(&out.stdout).unwrap()).unwrap();
    let members: Vec<String> = meta
        .get("workspace_members")
        .as_table()
        .unwrap()
        .iter()
        .filter_map(|(_, v)| text(v))
        .collect();
    let mut declared = None;
    let mut needed: Vec<(Vec<u32>, String)> = Vec::new();
    for (_, p) in meta.get("packages").as_table().unwrap().iter() {
        let id = text(p.get("id")).unwrap();
        let name = format!(
            "{} {}",
            text(p.get("name")).unwrap(),
            text(p.get("version")).unwrap()
        );
        let rv = text(p.get("rust_version"));
        if members.contains(&id) {
            let rv = rv.unwrap_or_else(|| panic!("{name} declares no rust-version"));
            match &declared {
                None => declared = Some(rv),
                Some(d) => assert_eq!(d, &rv, "{name}: every member inherits one rust-version"),
            }
        } else if let Some(rv) = rv {
            needed.push((parse(&rv), name));
        }
    }
    let declared = declared.expect("workspace members");
    let d = parse(&declared);
    let too_new: Vec<&String> = needed
        .iter()
        .filter(|(v, _)| *v > d)
        .map(|(_, n)| n)
        .collect();
    assert!(
        too_new.is_empty(),
        "rust-version {declared} is too old for {too_new:?}"
    );
    let (max, by) = needed
        .iter()
        .max()
        .expect("dependencies with a rust-version");
    assert_eq!(
        &d, max,
        "rust-version {declared} is higher than the tree needs ({max:?}, {by}): lower it"
    );
}
