//! The Phoenix HTTP(S) client handle: `ready → connecting → open → closed`, or `error`.
//!
//! The handle is only the lifecycle; whoever performs the request feeds it the result with
//! [`HttpHandle::handle_outcome`]. That is either this crate's [`HttpClient`](super::HttpClient)
//! (take the request with [`HttpHandle::take_request`], drive the client over TCP, pass its
//! outcome back) or a host's own HTTP client (CC:Tweaked's `http.request`), which only needs to
//! translate `http_success` / `http_failure` into an [`Outcome`].

use std::collections::VecDeque;

use modem_value::Value;

use super::client::Outcome;
use super::head::{headers_table, pairs, Headers};
use super::request::{HttpOptions, HttpRequest};
use crate::read::HttpBody;
use crate::status::{HandleError, HandleEvent, Status};

#[derive(Debug)]
struct Received {
    code: u16,
    reason: String,
    headers: Headers,
    body: HttpBody,
}

/// An HTTP(S) handle.
#[derive(Debug)]
pub struct HttpHandle {
    options: HttpOptions,
    status: Status,
    error: Option<String>,
    pending: Option<HttpRequest>,
    response: Option<Received>,
    events: VecDeque<HandleEvent>,
}

impl HttpHandle {
    /// A new handle in `ready`; nothing is sent until [`HttpHandle::write`].
    pub fn new(options: HttpOptions) -> Self {
        HttpHandle {
            options,
            status: Status::Ready,
            error: None,
            pending: None,
            response: None,
            events: VecDeque::new(),
        }
    }

    /// The options the handle was created with.
    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    /// `status()`: the status and, in `error`, the message. Never fails.
    pub fn status(&self) -> (Status, Option<&str>) {
        (self.status, self.error.as_deref())
    }

    /// `write(...)`: legal once, in `ready`. The arguments are `tostring`'d and concatenated
    /// into the body (none → no body). A request the host refuses synchronously (bad URL,
    /// method, timeout or header, or too large) moves the handle to `error` with the host's
    /// message and raises `handle_status_change` (so that libsystem's wait ends); otherwise
    /// the handle is `connecting` and [`HttpHandle::take_request`] yields the request.
    pub fn write(&mut self, args: &[Value]) -> Result<(), HandleError> {
        if self.status != Status::Ready {
            return Err(HandleError::Write(self.status));
        }
        let body = if args.is_empty() {
            None
        } else {
            let mut b = Vec::new();
            for a in args {
                b.extend_from_slice(&a.to_lua_string());
            }
            Some(b)
        };
        match self.options.prepare(body) {
            Ok(req) => {
                self.pending = Some(req);
                self.status = Status::Connecting;
            }
            Err(msg) => self.set_error(msg),
        }
        Ok(())
    }

    fn set_error(&mut self, msg: String) {
        self.status = Status::Error;
        self.error = Some(msg);
        self.events
            .push_back(HandleEvent::StatusChange(Status::Error));
    }

    /// The validated request to perform, once after a successful `write`.
    pub fn take_request(&mut self) -> Option<HttpRequest> {
        self.pending.take()
    }

    /// Convenience for hosts without their own HTTP client: the request as a ready-to-drive
    /// [`HttpClient`](super::HttpClient) (once, after a successful `write`).
    pub fn start_client(&mut self, now: modem_value::Instant) -> Option<super::HttpClient> {
        self.take_request().map(|r| super::HttpClient::new(now, r))
    }

    /// The request finished (only meaningful in `connecting`; ignored otherwise). A response
    /// — success or HTTP error status — opens the handle; a transport failure is `error`.
    pub fn handle_outcome(&mut self, outcome: Outcome) {
        if self.status != Status::Connecting {
            return;
        }
        let response = match outcome {
            Outcome::Success(r) => r,
            Outcome::Failure {
                response: Some(r), ..
            } => r,
            Outcome::Failure {
                message,
                response: None,
            } => return self.set_error(message),
        };
        self.response = Some(Received {
            code: response.code,
            reason: response.reason().into_owned(),
            headers: response.merged_headers(),
            body: HttpBody::new(response.body),
        });
        self.status = Status::Open;
        self.events
            .push_back(HandleEvent::StatusChange(Status::Open));
    }

    fn open(&self) -> Result<&Received, HandleError> {
        match (&self.response, self.status) {
            (Some(r), Status::Open) => Ok(r),
            _ => Err(HandleError::Read(self.status)),
        }
    }

    /// `read(mode...)` over the body, only in `open` (the HTTP API's response-handle semantics).
    pub fn read(&mut self, modes: &[Value]) -> Result<Vec<Value>, HandleError> {
        self.open()?;
        match &mut self.response {
            Some(r) => Ok(r.body.read(modes)?),
            None => Err(HandleError::Read(self.status)),
        }
    }

    /// `responseCode()`: code and reason phrase (the reason is an extension), only in `open`.
    pub fn response_code(&self) -> Result<(u16, &str), HandleError> {
        self.open().map(|r| (r.code, r.reason.as_str()))
    }

    /// `responseHeaders()` as a Lua table (repeated names joined with `,`), only in `open`.
    pub fn response_headers(&self) -> Result<Value, HandleError> {
        self.open().map(|r| headers_table(pairs(&r.headers)))
    }

    /// The merged response headers in wire order, only in `open`.
    pub fn response_header_list(&self) -> Result<&Headers, HandleError> {
        self.open().map(|r| &r.headers)
    }

    /// `close()`: only in `open`; drops the body; no event.
    pub fn close(&mut self) -> Result<(), HandleError> {
        if self.status != Status::Open {
            return Err(HandleError::Close(self.status));
        }
        self.status = Status::Closed;
        self.response = None;
        Ok(())
    }

    /// The next event for the program.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<HandleEvent> {
        self.events.pop_front()
    }
}
