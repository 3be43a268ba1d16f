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
//!   response parsing (chunked, trailers, gzip/deflate, limits), redirects,
//!   timeouts; the [`http::HttpHandle`] lifecycle, which a host with its own HTTP client can
//!   drive with response-level [`http::Outcome`]s; and the server of `listen("http://…")`.
//! * [`ws`] — WebSocket framing, handshake, sessions and the Phoenix WebSocket handle, client
//!   and server side.
//! * [`admission`] — the host-wide limits (16 running + 512 queued requests, 4 WebSockets).
//!
//! Every machine takes inputs through `handle_*(now, …)` methods, where `now` is the host's
//! injected [`modem_value::Instant`], and is drained through `#[must_use]` `poll_*` methods
//! (outputs to the network first, then events, then `poll_timeout` for the next deadline).
//! Nothing here opens sockets, reads clocks or draws OS randomness; WebSocket mask keys come
//! from an injected [`modem_value::RandomSource`]. Every buffer a peer can fill is bounded by a
//! constant of [`limits`].
//!
//! ```
//! use handle_fsm::http::{HttpHandle, HttpOptions};
//! use handle_fsm::{NetOutput, Status};
//! use modem_value::{Instant, Value};
//!
//! let now = Instant::ZERO;
//! let mut handle = HttpHandle::new(HttpOptions::new("http://example.com/hello"));
//! handle.write(&[]).unwrap(); // ready → connecting; nothing has been sent yet
//! let mut client = handle.start_client(now).unwrap();
//! assert_eq!(
//!     client.poll_output(),
//!     Some(NetOutput::Connect { host: "example.com".into(), port: 80, tls: false })
//! );
//! client.handle_connected(now); // the host opened TCP
//! let Some(NetOutput::Send(request)) = client.poll_output() else { unreachable!() };
//! assert!(request.starts_with(b"GET /hello HTTP/1.1\r\n"));
//! client.handle_bytes(now, b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhi\n42\n");
//! assert_eq!(client.poll_output(), Some(NetOutput::Close));
//! handle.handle_outcome(client.poll_outcome().unwrap());
//! assert_eq!(handle.status().0, Status::Open);
//! let v = handle.read(&[Value::from("*l"), Value::from("*n")]).unwrap();
//! assert_eq!(v, vec![Value::from("hi"), Value::from(42)]);
//! assert_eq!(handle.response_code().unwrap(), (200, "OK"));
//! ```

pub mod admission;
pub mod http;
pub mod limits;
pub mod net;
pub mod read;
pub mod status;
pub mod ws;

pub use net::{ConnectFailure, NetOutput};
pub use read::{read_queue, read_stream, HttpBody, Mode, ReadError};
pub use status::{HandleError, HandleEvent, Status};
