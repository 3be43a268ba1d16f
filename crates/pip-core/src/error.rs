//! Errors of configuration calls. Their `Display` is the exact text Phoenix's syscalls raise,
//! so a syscall layer can pass it to the program unchanged. (Permission checks belong to the
//! syscall layer, not here.)

use alloc::string::String;

use crate::addr::AddrError;

/// Why a configuration call (ipconfig, route, arp, netcontrol) was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The device is not an interface of this stack.
    #[error("No such device")]
    NoSuchDevice,
    /// `add_device` with a path already in use.
    #[error("Device already exists")]
    DeviceExists,
    /// An address argument is not a valid IP.
    #[error("Invalid IP address")]
    InvalidIp,
    /// A netmask argument is neither a prefix length 0..=32 nor a dotted mask.
    #[error("Invalid netmask")]
    InvalidNetmask,
    /// `routeadd` into a table with the same `source` and `sourceNetmask`.
    #[error("Route already exists")]
    RouteExists,
    /// `routedel` on a table that was never created.
    #[error("Route table does not exist")]
    NoSuchTable,
    /// Table 0 is managed by the system; user routes live in tables ≥ 1.
    #[error("bad field 'table' (number out of range)")]
    TableOutOfRange,
    /// `routeadd` with an unknown action.
    #[error("bad field 'action' (invalid option '{0}')")]
    InvalidAction(String),
    /// An argument that must be one of a set of strings (e.g. `netcontrol`'s type, argument 2).
    #[error("bad argument #{arg} (invalid option '{option}')")]
    InvalidOption {
        /// 1-based argument position.
        arg: u8,
        /// What was given.
        option: String,
    },
    /// A field this call requires is absent (e.g. `device` of a `local` route, `ip` when
    /// creating an interface configuration).
    #[error("bad field '{0}' (expected string, got nil)")]
    MissingField(&'static str),
    /// The interface's ARP table holds only manual and self entries and is full.
    #[error("ARP table full")]
    ArpTableFull,
}

impl From<AddrError> for ConfigError {
    fn from(e: AddrError) -> ConfigError {
        match e {
            AddrError::InvalidIp => ConfigError::InvalidIp,
            AddrError::InvalidNetmask => ConfigError::InvalidNetmask,
        }
    }
}
