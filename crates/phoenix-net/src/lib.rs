//! The Phoenix network simulator: the project's main job and the reference host runtime.
//!
//! A [`Scenario`] (a TOML file, see [`scenario`]) describes a world of Phoenix computers
//! (each a full `syscall-api` stack), CraftOS repeaters and CraftOS rednet computers, their
//! modems and where they stand, their addresses and routes, and a list of activities —
//! scripted programs that ping, move files over PSP, exchange PDP datagrams, chat over rednet,
//! look up rednet DNS names and fetch pages from `listen("http://…")` servers. [`run`] builds
//! the world on `phoenix-netsim`'s deterministic medium and runs it on a virtual clock until every
//! activity has finished, producing a transcript, a [`Report`] with a summary table, and
//! optionally a JSON-lines trace of every transmit.
//!
//! Same scenario and seed, same transcript and trace, byte for byte.
//!
//! The binary `phoenix-net` wraps this: `phoenix-net sim [SCENARIO.toml] [--seed N]
//! [--trace FILE] [--quiet] [--progress]` (`phoenix-net help sim` for all options); without a scenario it runs the built-in
//! [`BUILTIN_INTERNET`]. `phoenix-net host` runs one computer's stack over JSON lines on
//! stdin/stdout ([`host`], protocol in `docs/stdio-host.md`).

pub mod activity;
pub mod host;
pub mod lua;
pub mod realnet;
mod runner;
pub mod scenario;

pub use runner::{check, run, ActivityResult, Report, RunOptions};
pub use scenario::{Scenario, ScenarioError};

/// The built-in scenario: three segments joined by two routers, a dozen computers, with ping
/// across routers, a PSP file transfer under 5 % loss, PDP, rednet chat through a repeater and a
/// `dns` lookup, and an HTTP request served by `listen("http://…")`.
pub const BUILTIN_INTERNET: &str = include_str!("../scenarios/internet.toml");
