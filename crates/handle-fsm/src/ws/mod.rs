//! WebSocket (RFC 6455): frames, the opening handshake, sessions, and the Phoenix handle.

pub mod frame;
pub mod handle;
pub mod handshake;
pub mod session;

pub use frame::{apply_mask, encode_frame, parse_header, FrameHeader, Opcode};
pub use handle::WsHandle;
pub use handshake::accept_key;
pub use session::{Role, WsEvent, WsSession};
