//! HTTP/1.1: request options and construction, response parsing, the sans-IO client, the
//! Phoenix handle, and the server for `listen("http://…")`.

pub mod body;
pub mod client;
pub mod handle;
pub mod head;
pub mod request;
pub mod response;
pub mod server;

pub use client::{endpoint, ClientOutput, ConnectFailure, HttpClient, Outcome};
pub use handle::HttpHandle;
pub use head::Headers;
pub use request::{Encoding, HttpOptions, HttpRequest};
pub use response::{Response, ResponseError, ResponseParser};
pub use server::{HttpServerConnection, RequestId, ServerEvent, ServerRequest};
