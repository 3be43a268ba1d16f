//! The link and internet layers of the Phoenix network stack, sans-IO.
//!
//! Phoenix (an OS for ComputerCraft computers) speaks a TCP/IP-like stack over modems whose
//! messages are Lua values (see `modem-value`). This crate implements everything below the
//! transports, wire-compatible with Phoenix 0.0.9:
//!
//! * [`addr`]: Phoenix's textual IPv4 forms (a part above 255 is `Invalid IP address`, where Phoenix accepted it), prefixes and masks.
//! * [`wire`]: typed PLP frames, ARP, PIP packets and MCP messages, each a strict
//!   [`WireMessage`](modem_value::WireMessage).
//! * [`route`]: numbered route tables with Phoenix's exact longest-prefix tie-break, compiled
//!   into a popcount-compressed multibit trie ([`route::LpmTable`], with a directly indexed
//!   first level for large tables) for fast lookups.
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
//! ```
//! use modem_value::{Instant, LuaStr, SplitMix64};
//! use pip_core::wire::MessageType;
//! use pip_core::{IpConfigChange, NetEvent, PipStack, StackConfig};
//!
//! // Two computers whose modems "/back" share one modem network.
//! let mut a = PipStack::new(StackConfig::new(1), SplitMix64::new(1));
//! let mut b = PipStack::new(StackConfig::new(2), SplitMix64::new(2));
//! for (s, ip) in [(&mut a, "10.0.0.1"), (&mut b, "10.0.0.2")] {
//!     s.add_device("/back").unwrap();
//!     let cfg = IpConfigChange { ip: ip.parse().ok(), prefix: Some(24), up: Some(true) };
//!     s.ipconfig("/back", cfg).unwrap();
//!     while s.poll_channel().is_some() {} // the host opens channel 0 on the modem
//!     while s.poll_transmit().is_some() {} // collision probes; nobody listens yet
//! }
//! let now = Instant::from_secs(1);
//! a.netcontrol(now, "10.0.0.2".parse().unwrap(), MessageType::Ping, Some(LuaStr::from("1")), None);
//! // Carry frames between the two until both are quiet (ARP request, reply, ping, pong).
//! loop {
//!     let mut moved = false;
//!     while let Some(t) = a.poll_transmit() {
//!         b.handle_modem_message(now, "/back", t.channel, t.reply_channel, &t.message);
//!         moved = true;
//!     }
//!     while let Some(t) = b.poll_transmit() {
//!         a.handle_modem_message(now, "/back", t.channel, t.reply_channel, &t.message);
//!         moved = true;
//!     }
//!     if !moved { break; }
//! }
//! let pong = std::iter::from_fn(|| a.poll_event()).find_map(|e| match e {
//!     NetEvent::Control { sender, message } if message.message_type == MessageType::Pong => sender,
//!     _ => None,
//! });
//! assert_eq!(pong, Some("10.0.0.2".parse().unwrap()));
//! ```
//!
//! # Where this crate fixes Phoenix 0.0.9
//! A link frame without `destination` is a link broadcast; only `link` and `arp` frames are
//! accepted at the top level; an address is probed for collisions before use; `arp_set` with no
//! ID removes the entry; forwarding is opt-in (router mode); packets to a broadcast destination
//! are also delivered locally; remembered packet IDs expire after 30 s and are bounded; sending
//! on a down interface fails with `Network is down`; an `unreachable` made locally has no
//! sender; IP parts above 255 are refused; `netcontrol`'s hop argument sets `hopsLeft`; routers
//! report packets they cannot route to the sender over the wire. Each is wire-compatible.
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
