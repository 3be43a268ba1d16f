//! Replays every committed fuzz corpus file through its target, so CI covers the corpora without
//! a fuzzer. A target without a corpus fails the test: seeds must be committed with the target.

use std::path::PathBuf;

#[test]
fn every_corpus_file_runs_clean() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for (name, target) in fuzz_harness::targets() {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
            panic!("fuzz target {name} has no corpus at {}: {e}", dir.display())
        });
        let mut n = 0;
        for entry in entries {
            let path = entry.expect("readable corpus entry").path();
            if path.is_file() {
                let data = std::fs::read(&path).expect("readable corpus file");
                target(&data);
                n += 1;
            }
        }
        assert!(n > 0, "fuzz target {name} has an empty corpus");
        println!("{name}: {n} corpus files replayed");
    }
}

#[test]
fn fuzz_crate_declares_every_target() {
    let manifest = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/Cargo.toml"),
    )
    .expect("fuzz/Cargo.toml");
    for (name, _) in fuzz_harness::targets() {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml lacks a [[bin]] for {name}"
        );
    }
}
