//! The bodies of the workspace's fuzz targets.
//!
//! Each cargo-fuzz target in `fuzz/fuzz_targets/NAME.rs` is one line that calls the function
//! registered here under `NAME`, so `cargo test` (see `tests/replay_corpus.rs`) runs every file of
//! `fuzz/corpus/NAME/` through exactly the code the fuzzer runs. A target must never panic: the
//! only assertions inside are invariants of the code under test.
//!
//! Structured inputs are built with [`arbitrary`] from the fuzzer's bytes; `Value`'s
//! `Arbitrary` impl is bounded in depth and size and biased towards protocol field names.
//!
//! ```
//! // What `cargo test` does with the committed corpus, for one input of every target.
//! for (name, target) in fuzz_harness::targets() {
//!     target(b"\x01\x02 any bytes at all");
//!     assert!(!name.is_empty());
//! }
//! ```

pub mod http;
pub mod pip;
pub mod psp;
pub mod rednet;
pub mod stack;
pub mod value;

/// A fuzz target body: takes the fuzzer's bytes, must not panic.
pub type Target = fn(&[u8]);

/// Every target, by the name of its cargo-fuzz binary and corpus directory.
pub fn targets() -> Vec<(&'static str, Target)> {
    let mut all = Vec::new();
    all.extend_from_slice(rednet::TARGETS);
    all.extend_from_slice(pip::TARGETS);
    all.extend_from_slice(psp::TARGETS);
    all.extend_from_slice(http::TARGETS);
    all.extend_from_slice(value::TARGETS);
    all.extend_from_slice(stack::TARGETS);
    all
}
