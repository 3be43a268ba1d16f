//! A deterministic model of ComputerCraft modem networks, for simulators and tests.
//!
//! [`Medium`] holds every modem of a world — wireless, ender and wired — with its open channels
//! and position, and carries transmits between them on a virtual clock exactly as CC:Tweaked's
//! modem peripheral does: range rules ([`RangeConfig`]), the
//! 128-channel limit, "the sender never hears itself", distances, ender modems across
//! dimensions. A seeded [`LinkModel`] adds loss, duplication and latency for protocol tests;
//! with the default model delivery is perfect and immediate, as in the game.
//!
//! Like every crate of the workspace it is sans-IO: the caller passes `now` into
//! [`Medium::transmit`] and drains [`Medium::poll_delivery`] up to the next
//! [`Medium::poll_timeout`]. Same seed and calls, same deliveries.
//!
//! ```
//! use modem_value::{Instant, Value};
//! use phoenix_netsim::{Medium, ModemKind, Position};
//!
//! let mut world = Medium::new();
//! let a = world.add_modem(1, ModemKind::Wireless(Position::new(0.0, 64.0, 0.0)));
//! let b = world.add_modem(2, ModemKind::Wireless(Position::new(30.0, 64.0, 40.0)));
//! world.open(b, 65535).unwrap();
//! world.transmit(Instant::ZERO, a, 65535, 1, &Value::from("hello")).unwrap();
//! let d = world.poll_delivery(Instant::ZERO).unwrap();
//! assert_eq!((d.computer, d.distance), (2, Some(50.0)));
//! ```

mod link;
mod medium;
mod range;
mod world;

pub use link::LinkModel;
pub use medium::{
    channel_from_lua, ComputerId, Delivery, DeliveryRef, Medium, MediumStats, ModemError, ModemId,
    ModemKind, MAX_OPEN_CHANNELS,
};
pub use range::{Position, RangeConfig};
pub use world::{EventRecord, NodeId, TransmitRecord, World, WorldStats};
