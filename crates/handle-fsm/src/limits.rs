//! Every bound of the crate in one place. Values marked (CC) are CC:Tweaked's defaults; the
//! others are ours and say what happens when they are hit.

use core::time::Duration;

/// (CC) Request header bytes + body bytes; more → `Request body is too large`.
pub const MAX_UPLOAD: usize = 4 * 1024 * 1024;
/// (CC) Response body bytes, raw and decoded; more → `Response is too large`.
pub const MAX_DOWNLOAD: usize = 16 * 1024 * 1024;
/// (CC) Default request timeout (connect + inactivity).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// (CC) Largest `timeout` option, in seconds.
pub const MAX_TIMEOUT_SECS: f64 = 60.0;
/// (CC) Redirect hops followed before the redirect response itself is returned.
pub const MAX_REDIRECTS: u32 = 16;
/// Bytes of an HTTP head (status/request line + headers), and separately of chunked
/// trailers; more → the response fails with `Response is too large`, a request gets 431.
pub const MAX_HEAD: usize = 64 * 1024;
/// Header lines in one head; more → malformed.
pub const MAX_HEADERS: usize = 128;
/// Bytes of one chunk-size line (size + extensions); more → malformed.
pub const MAX_CHUNK_LINE: usize = 4096;
/// Interim (1xx) responses skipped before the final one; more → malformed.
pub const MAX_INTERIM_RESPONSES: u32 = 8;

/// (CC) Largest WebSocket message, in either direction: outgoing → `Message is too large`,
/// incoming → close 1009 and the handle closes with `Message is too large`.
pub const WS_MAX_MESSAGE: usize = 128 * 1024;
/// (CC) Messages written but not yet taken by the host (`poll_output`); more →
/// `Too many ongoing websocket messages`.
pub const WS_MAX_IN_FLIGHT: usize = 512;
/// (CC) Largest WebSocket handshake response (client side), and request (server side).
pub const WS_MAX_HANDSHAKE: usize = 8192;
/// Unread bytes a WebSocket handle keeps; a message that would overflow it fails the
/// connection with close 1008 (the program is not reading).
pub const WS_MAX_UNREAD: usize = 4 * 1024 * 1024;
/// Time to wait for the peer's Close frame (or its TCP close) after ours before closing the
/// TCP connection ourselves.
pub const WS_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// (CraftOS-PC) A server response the program has not closed is sent after this long.
pub const SERVER_AUTO_SEND: Duration = Duration::from_secs(15);
/// Requests of one connection parsed ahead of the responses (pipelining); further bytes wait
/// in the input buffer, which is bounded by [`MAX_HEAD`] + [`SERVER_MAX_BODY`].
pub const SERVER_MAX_PIPELINE: usize = 16;
/// Largest request body the server accepts; more → 413 and the connection closes.
pub const SERVER_MAX_BODY: usize = MAX_UPLOAD;
/// Largest response body a program may buffer; more → `Response is too large` from `write`.
pub const SERVER_MAX_RESPONSE: usize = MAX_DOWNLOAD;
/// An idle keep-alive connection (no request in progress) is closed after this long.
pub const SERVER_IDLE_TIMEOUT: Duration = Duration::from_secs(30);
