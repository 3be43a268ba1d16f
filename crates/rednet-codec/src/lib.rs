//! Rednet exactly as CC:Tweaked's `rednet.lua` and `repeat.lua` speak it, as sans-IO state
//! machines.
//!
//! Rednet is a thin convention on top of modems: a message is a Lua table
//! `{nMessageID, nRecipient, nSender, message, sProtocol}` ([`RednetMessage`]) transmitted on
//! the recipient's channel (`id % 65500`, [`id_as_channel`]) or on 65535 for a broadcast, and
//! once more on 65533 for repeaters. Receivers accept a packet only if five rules hold, in order
//! (right channel; a table with a non-NaN numeric ID not seen within the window; `nSender` nil
//! or a number; addressed to the full own ID or broadcast; rednet open on that modem), remember
//! its ID for 9.5 s (pruned every 10 s) and deliver `rednet_message(sender, message, protocol)`.
//!
//! * [`Endpoint`] is one computer's rednet: `open`/`close`, `send`/`broadcast`, the receive
//!   path of `rednet.run` with its dedup set, `receive` with filter and timeout, and the `dns`
//!   protocol (`host`, `unhost`, `lookup` and the responder). Calls that wait in Lua
//!   (`receive`, `lookup`, `host`) are requests that finish with a [`Completion`].
//! * [`Repeater`] is `repeat.lua`: 30 s of memory per ID, echo on every modem.
//! * [`bus`] simulates a modem network for tests and examples.
//!
//! Sans-IO: nothing here reads a clock, touches a modem or draws OS randomness. The host passes
//! `now` ([`Instant`](modem_value::Instant)) into every call, drains modem calls
//! ([`ModemOp`]), delivered messages and completions with `poll_*`, and wakes the machine at
//! `poll_timeout()`. Message IDs come from an injected
//! [`RandomSource`](modem_value::RandomSource). Every table a peer can fill is bounded (see
//! [`EndpointConfig`], [`DEFAULT_REPEATER_CAPACITY`]): when a flood fills one, new IDs are
//! dropped and no remembered ID is evicted, so nothing is delivered or forwarded twice within
//! its window. Malformed packets are ignored (with a reason, [`Ignored`]), never an error, never
//! a panic. The crate is `no_std` + `alloc` without its default `std` feature.
//!
//! Where Phoenix differs: broadcasts carry `nRecipient = 65535` as CraftOS's do (Phoenix
//! 0.0.9's `4294967295` is still *accepted* on channel 65535, and a repeater forwards it to
//! channel 1295 exactly as repeat.lua would), and the endpoint answers DNS lookups for the names
//! it hosts, which Phoenix 0.0.9 did not.
//!
//! ```
//! use modem_value::{Instant, SplitMix64, Value};
//! use rednet_codec::{Endpoint, ModemId, ModemOp, Verdict};
//!
//! let modem = ModemId::from_static("top");
//! let mut alice = Endpoint::new(1, SplitMix64::new(1));
//! let mut bob = Endpoint::new(2, SplitMix64::new(2));
//! for e in [&mut alice, &mut bob] {
//!     e.attach_modem(modem.clone());
//!     e.open(&modem).unwrap();
//!     while e.poll_modem_op().is_some() {} // the host opens channels 1|2 and 65535
//! }
//!
//! let now = Instant::ZERO;
//! assert!(alice.send(now, 2.0, Value::from("hello"), Some("chat".into())).unwrap());
//! // Alice asks her modem for two transmits: on Bob's channel, then on 65533 for repeaters.
//! let Some(ModemOp::Transmit(first)) = alice.poll_modem_op() else { panic!() };
//! let Some(ModemOp::Transmit(second)) = alice.poll_modem_op() else { panic!() };
//! assert_eq!((first.channel, second.channel, first.reply_channel), (2, 65533, 1));
//!
//! // The host's modem delivers the first copy to Bob; the second is a duplicate.
//! let v = bob.handle_modem_message(now, &modem, first.channel, first.reply_channel, &first.payload);
//! assert_eq!(v, Verdict::Delivered);
//! let got = bob.poll_message().unwrap();
//! assert_eq!((got.sender, got.message, got.protocol), (1.0, Value::from("hello"), Value::from("chat")));
//! let again = bob.handle_modem_message(now, &modem, 2, 1, &first.payload);
//! assert!(matches!(again, Verdict::Ignored(_)));
//! // Bob's prune timer runs 10 s after the first ID he remembered.
//! assert_eq!(bob.poll_timeout(), Some(Instant::from_secs(10)));
//! ```
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod bus;
mod config;
mod consts;
mod dns;
mod endpoint;
mod error;
mod idset;
mod modem;
mod pending;
mod repeater;
mod request;
mod wrapper;

pub use config::{
    EndpointConfig, Stats, Verdict, DEFAULT_DEDUP_CAPACITY, DEFAULT_MAX_LOOKUP_RESULTS,
    DEFAULT_MAX_QUEUED_OPS, DEFAULT_MAX_REQUESTS, DEFAULT_MESSAGE_QUEUE_LIMIT,
};
pub use consts::{
    as_channel, channel_for_recipient, id_as_channel, lua_mod, CHANNEL_BROADCAST, CHANNEL_GPS,
    CHANNEL_REPEAT, DEDUP_LIFETIME, DNS_PROTOCOL, LOCALHOST, LOOKUP_WINDOW, MAX_ID_CHANNELS,
    MAX_MESSAGE_ID, PRUNE_INTERVAL, REPEATER_MEMORY,
};
pub use dns::{LOOKUP, LOOKUP_RESPONSE};
pub use endpoint::Endpoint;
pub use error::{Ignored, RednetError};
pub use idset::id_key;
pub use modem::{ModemId, ModemOp, Transmit};
pub use repeater::{NotRepeated, Repeater, DEFAULT_REPEATER_CAPACITY};
pub use request::{Completion, Delivered, HostStatus, RequestId};
pub use wrapper::{field, RednetMessage};
