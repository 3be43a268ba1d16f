//! The link and internet layers of the Phoenix network stack, sans-IO.
//!
//! Phoenix (an OS for ComputerCraft computers) speaks a TCP/IP-like stack over modems whose
//! messages are Lua values (see `modem-value`). This crate implements everything below the
//! transports, wire-compatible with Phoenix 0.0.9 (spec `phoenix-network.md` §1–§9):
//!
//! * [`addr`]: Phoenix's textual IPv4 forms (with the range check of Q-IP1), prefixes and masks.
//! * [`wire`]: typed PLP frames, ARP, PIP packets and MCP messages, each a strict
//!   [`WireMessage`](modem_value::WireMessage).
//! * [`route`]: numbered route tables with Phoenix's exact longest-prefix tie-break, compiled
//!   into a popcount-compressed multibit trie ([`route::LpmTable`]) for fast lookups.
//! * [`arp`]: the bounded per-interface ARP cache.
//! * [`stack`]: [`PipStack`], one state machine per computer: interfaces, ARP resolution with
//!   queued packets, PIP send and receive, duplicate suppression, opt-in router forwarding and
//!   MCP (ping/pong, unreachable, timeout).
//!
//! # Driving a stack
//! The host feeds modem messages with [`PipStack::handle_modem_message`], lets time pass with
//! [`PipStack::handle_timeout`] (at the latest by [`PipStack::poll_timeout`]), and sends
//! transport payloads with [`PipStack::send`]. After every call it drains the outputs, in this
//! order: [`PipStack::poll_channel`] (channel opens/closes, so that channels are open before
//! traffic on them), [`PipStack::poll_transmit`], [`PipStack::poll_delivery`],
//! [`PipStack::poll_event`], [`PipStack::poll_send_result`]. Nothing reads a clock or the OS's
//! randomness: instants come with each call and randomness from the injected
//! [`RandomSource`](modem_value::RandomSource).
//!
//! # Decisions where the spec proposes fixes (§19)
//! Q-LNK1 (missing PLP `destination` = link broadcast), Q-LNK2 (only `link`/`arp` at top level),
//! Q-ARP2 (collision probe), Q-ARP3 (`arp_set(.., None)` removes), Q-PIP1 (opt-in forwarding),
//! Q-PIP2 (broadcast destinations delivered locally), Q-PIP3 (seen IDs expire after 30 s,
//! bounded), Q-PIP4 (`Network is down`), Q-PIP5 (local `unreachable` has no sender), Q-RT1..3,
//! Q-IP1, Q-MCP1 (`netcontrol`'s hops argument sets `hopsLeft`), Q-MCP2 (routers report
//! unroutable packets over the wire) are all implemented as proposed.
//!
//! The crate is `no_std` + `alloc` with `default-features = false`.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod addr;
pub mod arp;
mod device;
mod error;
pub mod route;
mod seen;
pub mod stack;
pub mod wire;

pub use device::Device;
pub use error::ConfigError;
pub use stack::{
    ChannelChange, Delivery, IpConfig, IpConfigChange, NetEvent, PipStack, SendId, SendOptions,
    SendOutcome, SendResult, StackConfig, Stats, Transmit,
};
pub use wire::ComputerId;

/// The `ipnet` crate, whose [`Ipv4Net`](ipnet::Ipv4Net) this crate uses at its API.
pub use ipnet;
