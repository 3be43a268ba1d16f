//! Typed handle methods: the same calls as [`NetworkStack::handle_method`], with Rust types.
//!
//! Each one passes its arguments as values to the one method implementation (the registry's
//! row for the handle's kind) and converts the result, so the typed and the Lua-valued paths
//! cannot behave differently.

use std::net::Ipv4Addr;

use handle_fsm::Mode;
use modem_value::{Instant, Value};

use crate::io::{HandleId, Pid, Status};
use crate::{Computer, NetworkStack, SyscallError};

fn mode_value(mode: Mode) -> Value {
    match mode {
        Mode::All => Value::from_static("*a"),
        Mode::Line => Value::from_static("*l"),
        Mode::LineWithEnd => Value::from_static("*L"),
        Mode::Number => Value::from_static("*n"),
        Mode::Count(k) => Value::from(k as f64),
    }
}

fn parse_status(v: Option<&Value>) -> Status {
    match v.and_then(Value::as_str).map(|s| s.as_bytes()) {
        Some(b"ready") => Status::Ready,
        Some(b"connecting") => Status::Connecting,
        Some(b"open") => Status::Open,
        Some(b"error") => Status::Error,
        _ => Status::Closed,
    }
}

fn first(mut v: Vec<Value>) -> Option<Value> {
    if v.is_empty() {
        None
    } else {
        Some(v.swap_remove(0)).filter(|x| !x.is_nil())
    }
}

impl Computer {
    fn call(
        &mut self,
        now: Instant,
        pid: Pid,
        id: HandleId,
        method: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, SyscallError> {
        self.handle_method(now, pid, id.0, method, args)
    }

    /// `status()`: the handle's status, and its error message in [`Status::Error`].
    pub fn status(
        &mut self,
        now: Instant,
        pid: Pid,
        id: HandleId,
    ) -> Result<(Status, Option<String>), SyscallError> {
        let v = self.call(now, pid, id, "status", &[])?;
        let error = v
            .get(1)
            .and_then(Value::as_str)
            .map(|s| s.to_string_lossy());
        Ok((parse_status(v.first()), error))
    }

    /// `read(mode)`: a string (or a number for [`Mode::Number`]; a whole datagram for PDP,
    /// a message for rednet), or `None` when nothing can be read yet.
    pub fn read(
        &mut self,
        now: Instant,
        pid: Pid,
        id: HandleId,
        mode: Mode,
    ) -> Result<Option<Value>, SyscallError> {
        Ok(first(self.call(
            now,
            pid,
            id,
            "read",
            &[mode_value(mode)],
        )?))
    }

    /// `write(data)`: one value (bytes for stream handles, one datagram or message for PDP,
    /// rednet and WebSocket, the body for an HTTP client's request).
    pub fn write(
        &mut self,
        now: Instant,
        pid: Pid,
        id: HandleId,
        data: impl Into<Value>,
    ) -> Result<(), SyscallError> {
        self.call(now, pid, id, "write", &[data.into()]).map(drop)
    }

    /// `write()` with no data: sends an HTTP client's request without a body.
    pub fn send_request(
        &mut self,
        now: Instant,
        pid: Pid,
        id: HandleId,
    ) -> Result<(), SyscallError> {
        self.call(now, pid, id, "write", &[]).map(drop)
    }

    /// `close()`.
    pub fn close(&mut self, now: Instant, pid: Pid, id: HandleId) -> Result<(), SyscallError> {
        self.call(now, pid, id, "close", &[]).map(drop)
    }

    /// `transfer()` (PSP and PDP): makes `pid` the handle's owner.
    pub fn transfer(&mut self, now: Instant, pid: Pid, id: HandleId) -> Result<(), SyscallError> {
        self.call(now, pid, id, "transfer", &[]).map(drop)
    }

    /// `localIP()` (PSP and PDP): the local address, once there is one.
    pub fn local_ip(
        &mut self,
        now: Instant,
        pid: Pid,
        id: HandleId,
    ) -> Result<Option<Ipv4Addr>, SyscallError> {
        let v = first(self.call(now, pid, id, "localIP", &[])?);
        Ok(v.and_then(|v| pip_core::addr::parse_ip(v.as_str()?.as_bytes()).ok()))
    }

    /// `responseCode()` (HTTP client): the status code and the reason phrase.
    pub fn response_code(
        &mut self,
        now: Instant,
        pid: Pid,
        id: HandleId,
    ) -> Result<(u16, String), SyscallError> {
        let v = self.call(now, pid, id, "responseCode", &[])?;
        let code = v.first().and_then(Value::as_num).unwrap_or(0.0) as u16;
        let reason = v
            .get(1)
            .and_then(Value::as_str)
            .map(|s| s.to_string_lossy())
            .unwrap_or_default();
        Ok((code, reason))
    }

    /// `responseHeaders()` (HTTP client): a table of name → value.
    pub fn response_headers(
        &mut self,
        now: Instant,
        pid: Pid,
        id: HandleId,
    ) -> Result<Value, SyscallError> {
        Ok(first(self.call(now, pid, id, "responseHeaders", &[])?).unwrap_or_default())
    }

    /// `method()` (HTTP server request).
    pub fn request_method(
        &mut self,
        now: Instant,
        pid: Pid,
        id: HandleId,
    ) -> Result<String, SyscallError> {
        let v = first(self.call(now, pid, id, "method", &[])?);
        Ok(v.and_then(|v| v.as_str().map(|s| s.to_string_lossy()))
            .unwrap_or_default())
    }

    /// `path()` (HTTP server request).
    pub fn request_path(
        &mut self,
        now: Instant,
        pid: Pid,
        id: HandleId,
    ) -> Result<String, SyscallError> {
        let v = first(self.call(now, pid, id, "path", &[])?);
        Ok(v.and_then(|v| v.as_str().map(|s| s.to_string_lossy()))
            .unwrap_or_default())
    }

    /// `requestHeaders()` (HTTP server request): a table of name → value.
    pub fn request_headers(
        &mut self,
        now: Instant,
        pid: Pid,
        id: HandleId,
    ) -> Result<Value, SyscallError> {
        Ok(first(self.call(now, pid, id, "requestHeaders", &[])?).unwrap_or_default())
    }

    /// `readMessage()` (WebSocket): the next whole message and whether it was binary; `None`
    /// when no message is buffered.
    pub fn read_message(
        &mut self,
        now: Instant,
        pid: Pid,
        id: HandleId,
    ) -> Result<Option<(Vec<u8>, bool)>, SyscallError> {
        let v = self.call(now, pid, id, "readMessage", &[])?;
        Ok(match (v.first().and_then(Value::as_str), v.get(1)) {
            (Some(s), Some(kind)) => Some((s.as_bytes().to_vec(), kind.as_bool() == Some(true))),
            _ => None,
        })
    }

    /// `closeReason()` (WebSocket): the close code and reason (each `None` when absent), or
    /// `None` while open or after a local `close()`.
    #[allow(clippy::type_complexity)]
    pub fn close_reason(
        &mut self,
        now: Instant,
        pid: Pid,
        id: HandleId,
    ) -> Result<Option<(Option<u16>, Option<String>)>, SyscallError> {
        let v = self.call(now, pid, id, "closeReason", &[])?;
        if v.is_empty() {
            return Ok(None);
        }
        let code = v.first().and_then(Value::as_num).map(|c| c as u16);
        let reason = v
            .get(1)
            .and_then(Value::as_str)
            .map(|s| s.to_string_lossy());
        Ok(Some((code, reason)))
    }

    /// `requestTrailers()` (HTTP server request): the trailers of a chunked body, name → value.
    pub fn request_trailers(
        &mut self,
        now: Instant,
        pid: Pid,
        id: HandleId,
    ) -> Result<Value, SyscallError> {
        Ok(first(self.call(now, pid, id, "requestTrailers", &[])?).unwrap_or_default())
    }

    /// `setResponseCode(code, reason)` (HTTP server request).
    pub fn set_response_code(
        &mut self,
        now: Instant,
        pid: Pid,
        id: HandleId,
        code: u16,
        reason: Option<&str>,
    ) -> Result<(), SyscallError> {
        let mut args = vec![Value::from(code)];
        if let Some(r) = reason {
            args.push(Value::from(r));
        }
        self.call(now, pid, id, "setResponseCode", &args).map(drop)
    }

    /// `setResponseHeader(name, value)` (HTTP server request).
    pub fn set_response_header(
        &mut self,
        now: Instant,
        pid: Pid,
        id: HandleId,
        name: &str,
        value: &str,
    ) -> Result<(), SyscallError> {
        self.call(
            now,
            pid,
            id,
            "setResponseHeader",
            &[name.into(), value.into()],
        )
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ComputerConfig, ConnectOptions};
    use modem_value::SplitMix64;

    /// The typed methods give what the Lua-valued ones give, converted: a WebSocket still
    /// connecting refuses reads with the handle's text and has no close reason yet.
    #[test]
    fn typed_methods_follow_the_lua_ones() {
        let mut c = Computer::new(ComputerConfig::new(1, &["/top"]), &mut SplitMix64::new(3));
        let now = Instant::ZERO;
        let ws = c
            .connect(now, 1, &ConnectOptions::new("ws://example.com/"))
            .unwrap();
        assert_eq!(c.status(now, 1, ws).unwrap(), (Status::Connecting, None));
        assert_eq!(
            c.read_message(now, 1, ws).unwrap_err().to_string(),
            "attempt to read from a connecting handle"
        );
        assert_eq!(c.close_reason(now, 1, ws).unwrap(), None);
        // Another process that is not a descendant does not see the handle.
        assert_eq!(
            c.status(now, 2, ws).unwrap_err().to_string(),
            "No such socket"
        );
        let http = c
            .connect(now, 1, &ConnectOptions::new("http://example.com/"))
            .unwrap();
        assert_eq!(c.status(now, 1, http).unwrap(), (Status::Ready, None));
        assert_eq!(
            c.response_code(now, 1, http).unwrap_err().to_string(),
            "attempt to read from a ready handle"
        );
    }
}
