//! Phoenix handles over bytes: the handle lifecycle, the read-mode engine, and HTTP/1.1 and
//! WebSocket (RFC 6455) clients and servers, all sans-IO.
//!
//! Phoenix programs see network connections as *handles* (`status`, `read`, `write`, `close`;
//! spec `http-ws-handles.md`). This crate implements them so that a host only has to move
//! bytes over TCP (and TLS for https/wss):
//!
//! * [`read`] — the one read-mode engine (`*a *l *L *n` and counts) for stream buffers (a
//!   plain `VecDeque<u8>`, as PSP keeps it), rednet message queues and HTTP bodies.
//! * [`status`] — status values, the kernel's exact method errors, handle events.
//! * [`http`] — CC:Tweaked-compatible HTTP/1.1: request validation and construction,
//!   response parsing (chunked, trailers, gzip/deflate, limits), redirects (proposal H5),
//!   timeouts; the [`http::HttpHandle`] lifecycle, which a host with its own HTTP client can
//!   drive with response-level [`http::Outcome`]s; and the server of `listen("http://…")`.
//! * [`ws`] — WebSocket framing, handshake, sessions and the Phoenix WebSocket handle, client
//!   and server side.
//!
//! Every machine takes inputs through `handle_*(now, …)` methods, where `now` is the host's
//! injected [`modem_value::Instant`], and is drained through `#[must_use]` `poll_*` methods
//! (outputs to the network first, then events, then `poll_timeout` for the next deadline).
//! Nothing here opens sockets, reads clocks or draws OS randomness; WebSocket mask keys come
//! from an injected [`modem_value::RandomSource`]. Every buffer a peer can fill is bounded by a
//! constant of [`limits`].

pub mod http;
pub mod limits;
pub mod net;
pub mod read;
pub mod status;
pub mod ws;

pub use net::{ConnectFailure, NetOutput};
pub use read::{read_queue, read_stream, HttpBody, Mode, ReadError};
pub use status::{HandleError, HandleEvent, Status};
