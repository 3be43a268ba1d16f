//! The embedding example (`examples/embed.rs`) runs as a test: two computers, ipconfig, ping,
//! a 100 KB PSP transfer, rednet and HTTP over the host's in-memory TCP.

#[path = "../examples/embed.rs"]
mod embed;

#[test]
fn embedding_example_runs() {
    embed::main();
}
