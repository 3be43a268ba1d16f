//! One Phoenix network stack per computer, composed from the workspace's protocol crates.
//!
//! This crate is where a host runtime drives a whole computer's networking through one trait
//! (modem messages, ticks and TCP bytes in; transmits, channel opens/closes, events and the next
//! deadline out) and where the twelve networking syscalls live. It is being built up in pieces;
//! what is here today:
//!
//! * [`uri`]: the URI grammar and exact scheme table of `connect`/`listen`/`checkuri`
//!   (spec §14, proposal Q-URI1), extensible with module schemes;
//! * [`handles`]: the one handle-id counter for every handle kind and the ownership rule
//!   (owner or descendant, else `No such socket`), including `transfer`.
//!
//! The protocol crates are re-exported so that a host can depend on this crate alone.

pub mod handles;
pub mod uri;

pub use handle_fsm;
pub use modem_value;
pub use pip_core;
pub use psp_proto;
pub use rednet_codec;
