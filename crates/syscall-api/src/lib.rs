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
pub mod channels;
mod computer;
pub mod handles;
pub mod io;
mod kinds;
mod methods;
mod syscalls;
pub mod uri;
mod web;

pub use args::SyscallError;
pub use computer::{
    Computer, ComputerConfig, ComputerStats, LOOPBACK, MAX_OPEN_CHANNELS, MAX_QUEUED_OUTPUTS,
};
pub use io::{ListenerId, NetworkStack, Output, TcpEvent, TcpId, TcpRequest};
pub use syscalls::{ROOT_ONLY, SYSCALLS};
pub use web::MAX_TCP;

pub use modem_value;
