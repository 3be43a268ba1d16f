//! The Phoenix network simulator: the project's main job and the reference host runtime.
//!
//! A [`Scenario`] (a TOML file, see [`scenario`]) describes a world of Phoenix computers
//! (each a full `syscall-api` stack), CraftOS repeaters and CraftOS rednet computers, their
//! modems and where they stand, their addresses and routes, the Lua program each Phoenix computer
//! runs ([`lua`]: Phoenix's process ABI on a Lua 5.2 state per computer, sandboxed and limited),
//! and activities for what programs cannot drive (the CraftOS side of rednet, PSP meshes for scale
//! runs). [`run`] builds the world on `phoenix-netsim`'s deterministic medium and runs it on a
//! virtual clock until every program and activity has finished, producing a transcript, a
//! [`Report`] with a summary table, and optionally a JSON-lines trace of every transmit.
//!
//! Same scenario and seed, same transcript and trace, byte for byte.
//!
//! The binary `phoenix-net` wraps this: `phoenix-net sim [SCENARIO.toml] [--seed N]
//! [--trace FILE] [--quiet] [--progress]` (`phoenix-net help sim` for all options); without a scenario it runs the built-in
//! [`BUILTIN_INTERNET`]. `phoenix-net host` runs one computer's stack over JSON lines on
//! stdin/stdout ([`host`], protocol in `docs/stdio-host.md`).
//!
//! The same line protocol in-process, as an emulator written in another language drives it:
//!
//! ```
//! use phoenix_net::host::Session;
//! use syscall_api::ComputerConfig;
//!
//! let (mut host, boot) = Session::new(ComputerConfig::new(1, &["/top"]), 7);
//! assert!(boot[0].contains(r#""out":"hello""#));
//! let out = host.input(r#"{"op":"syscall","id":1,"pid":1,"root":true,"name":"ipconfig","args":["/top",{"ip":"10.0.0.1","netmask":24}]}"#);
//! assert!(out[0].contains(r#""result":[{"ip":"10.0.0.1","netmask":24,"up":true}]"#));
//! assert!(out.iter().any(|l| l.contains(r#""out":"transmit""#))); // the address is announced
//! assert!(out.last().unwrap().contains(r#""out":"deadline""#));
//! ```

pub mod activity;
pub mod host;
pub mod lua;
pub mod realnet;
mod runner;
pub mod scenario;

pub use runner::{check, run, ActivityResult, Report, RunOptions};
pub use scenario::{Scenario, ScenarioError};

/// The built-in scenario: three segments joined by two routers, fourteen computers whose Lua
/// programs ([`lua::BUILTIN_PROGRAMS`]) ping across the routers, move a file over PSP under 5 %
/// loss, exchange PDP datagrams, chat over rednet with a CraftOS computer through a repeater,
/// look a name up and fetch a page from a `listen("http://…")` server.
pub const BUILTIN_INTERNET: &str = include_str!("../scenarios/internet.toml");
