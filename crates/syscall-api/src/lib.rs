//! One Phoenix network stack per computer, composed from the workspace's protocol crates.
//!
//! This crate is where a host runtime will drive a whole computer's networking through one trait
//! (modem messages, ticks and TCP bytes in; transmits, channel opens/closes, events and the next
//! deadline out) and where the twelve networking syscalls live. Until it does, hosts compose
//! the protocol crates it re-exports directly.

pub use handle_fsm;
pub use modem_value;
pub use pip_core;
pub use psp_proto;
pub use rednet_codec;
