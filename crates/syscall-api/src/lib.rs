//! One Phoenix network stack per computer, behind one host-driven trait.
//!
//! A [`Computer`] is the whole networking of one Phoenix computer (PIP addressing and routing,
//! PSP/PDP, rednet, HTTP and WebSocket handles) with no I/O of its own. The host, an emulator or
//! a simulator, drives it through [`NetworkStack`]:
//!
//! * **in**: modem messages ([`NetworkStack::handle_modem_message`]), the clock
//!   ([`NetworkStack::handle_timeout`]), TCP events for HTTP/WebSocket handles
//!   ([`NetworkStack::handle_tcp`], [`NetworkStack::handle_tcp_accept`]), refused channels,
//!   processes starting and ending, and the programs' syscalls and handle methods;
//! * **out**: [`Output`]s (transmit, open/close a channel, queue an [`Event`] for a process, TCP
//!   requests), drained with [`NetworkStack::poll_output`], and the next deadline from
//!   [`NetworkStack::poll_timeout`].
//!
//! Programs' calls come two ways. A host that runs Lua passes values: [`NetworkStack::syscall`]
//! and [`NetworkStack::handle_method`], with Phoenix's exact error texts. A Rust host can call
//! the typed layer: [`Computer::connect`], [`Computer::listen`], [`Computer::set_ipconfig`],
//! [`Computer::arp_set`], ... returning [`HandleId`]s and [`SyscallError`]s it can match on. Both
//! go through the same code; the table in [`registry`] drives the Lua entry points and renders
//! the [`reference`](mod@reference) of every syscall, method and event.
//!
//! ```
//! use syscall_api::{Computer, ComputerConfig, IpConfigChange, NetworkStack, Output, Instant, SplitMix64};
//!
//! let mut c = Computer::new(ComputerConfig::new(1, &["/top"]), &mut SplitMix64::new(7));
//! let now = Instant::ZERO;
//! let change = IpConfigChange { ip: Some([10, 0, 0, 1].into()), prefix: Some(24), up: None };
//! let cfg = c.set_ipconfig(now, "/top", change).unwrap();
//! assert!(cfg.up);
//! // Values convert to the lossless JSON of the stdio protocol.
//! assert_eq!(cfg.to_value().to_json(), r#"{"ip":"10.0.0.1","netmask":24,"up":true}"#);
//! // The interface now listens on channel 0 and announces its address.
//! let outs: Vec<Output> = std::iter::from_fn(|| c.poll_output()).collect();
//! assert!(matches!(&outs[0], Output::OpenChannel { channel: 0, .. }));
//! // The same call from a Lua program, by value; a non-root caller is refused.
//! let err = c.syscall(now, 4, false, "ipconfig", &["/top".into(), syscall_api::Value::Table(Default::default())]);
//! assert_eq!(err.unwrap_err().to_string(), "Permission denied");
//! ```
//!
//! `examples/embed.rs` joins two computers over an in-memory medium: addresses, ping, a PSP
//! transfer, rednet, and HTTP over TCP the host provides.

pub mod args;
mod channels;
mod computer;
mod craftos;
mod handles;
pub mod io;
mod kinds;
mod methods;
pub mod reference;
pub mod registry;
mod syscalls;
mod typed;
pub mod uri;
mod web;

pub use args::SyscallError;
pub use computer::{
    Computer, ComputerConfig, ComputerStats, LOOPBACK, MAX_OPEN_CHANNELS, MAX_QUEUED_OUTPUTS,
};
pub use handles::{HandleError, MAX_HANDLES};
pub use io::{
    ConnectFailure, Device, Event, HandleId, ListenerId, NetOutput, NetworkStack, Output, Pid,
    Status, TcpEvent, TcpId, TcpRequest,
};
pub use registry::HandleKind;
pub use syscalls::ConnectOptions;
pub use web::MAX_TCP;

pub use craftos::MAX_REDNET_COMPLETIONS;
pub use handle_fsm::http::Encoding;
pub use handle_fsm::{HandleError as MethodError, Mode, ReadError};
pub use modem_value::{
    DecodeError, Duration, Instant, Kind as LuaType, LuaStr, RandomSource, SplitMix64, Table, Value,
};
pub use pip_core::ipnet::Ipv4Net;
pub use pip_core::route::{Route, RouteAction, RouteTables};
pub use pip_core::wire::{ControlMessage, MessageType};
pub use pip_core::NetEvent;
pub use pip_core::Stats as PipStats;
pub use pip_core::{ConfigError, IpConfig, IpConfigChange};
pub use psp_proto::{ConnStats, PspConfig, PspEndpoint, PspError, State as PspState};
pub use rednet_codec::{Completion as RednetCompletion, RednetError, RequestId as RednetRequestId};
pub use uri::UriError;

pub use modem_value;

/// Every syscall name this crate serves, in the registry's (alphabetical) order.
pub fn syscall_names() -> impl Iterator<Item = &'static str> {
    registry::SYSCALLS.iter().map(|s| s.name)
}

/// The syscalls only root may make (`ipconfig` only when it changes the configuration).
pub fn root_only() -> impl Iterator<Item = &'static str> {
    registry::SYSCALLS
        .iter()
        .filter(|s| s.root == registry::RootRule::Always)
        .map(|s| s.name)
}
