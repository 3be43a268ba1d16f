//! One Phoenix network stack per computer, composed from the workspace's protocol crates.
//!
//! This crate is where a host runtime drives a whole computer's networking through one trait
//! (modem messages, ticks and TCP bytes in; transmits, channel opens/closes, events and the next
//! deadline out) and where the twelve networking syscalls live. It is being built up in pieces;
//! what is here today:
//!
//! * [`uri`]: the URI grammar and exact scheme table of `connect`/`listen`/`checkuri`
//!   (spec §14, proposal Q-URI1), extensible with module schemes;
//! * [`args`]: argument and options-table checks with the kernel's exact `bad argument` /
//!   `bad field` texts, and [`args::SyscallError`];
//! * [`handles`]: the one handle-id counter for every handle kind and the ownership rule
//!   (owner or descendant, else `No such socket`), including `transfer`.

pub mod args;
pub mod handles;
pub mod uri;

pub use modem_value;
