//! Checking syscall arguments as Phoenix's kernel does, with its exact error texts.
//!
//! Syscalls receive their arguments as Lua values. The kernel checks them with `expect`/`field`
//! helpers whose messages follow CraftOS's `cc.expect`: `bad argument #2 (expected string, got
//! nil)` and `bad field 'action' (expected string, got number)`; an enumerated string outside its
//! set is `bad argument #2 (invalid option 'x')` / `bad field 'action' (invalid option 'x')`.

use modem_value::{Kind, LuaStr, Table, Value};

/// A syscall's or handle method's failure; `Display` is the exact text the program's `pcall`
/// sees.
///
/// Errors of the layers below keep their own type ([`Psp`](SyscallError::Psp),
/// [`Config`](SyscallError::Config), [`Uri`](SyscallError::Uri), ...) so a Rust host can match on
/// them; the table in [`crate::reference`](mod@crate::reference) lists which call raises which text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyscallError {
    /// Argument `n` (1-based) has the wrong type.
    #[error("bad argument #{n} (expected {expected}, got {got})")]
    BadArgument {
        /// 1-based position.
        n: usize,
        /// E.g. `"string"` or `"string or number"`.
        expected: &'static str,
        /// The Lua type found.
        got: Kind,
    },
    /// Argument `n` is a string outside its set of options.
    #[error("bad argument #{n} (invalid option '{option}')")]
    InvalidOption {
        /// 1-based position.
        n: usize,
        /// What was passed.
        option: String,
    },
    /// Argument `n` is a number outside the range the call accepts.
    #[error("bad argument #{n} (number out of range)")]
    OutOfRange {
        /// 1-based position.
        n: usize,
    },
    /// A field of an options table has the wrong type.
    #[error("bad field '{field}' (expected {expected}, got {got})")]
    BadField {
        /// The field name.
        field: &'static str,
        /// E.g. `"string"`.
        expected: &'static str,
        /// The Lua type found.
        got: Kind,
    },
    /// A field of an options table is a string outside its set of options.
    #[error("bad field '{field}' (invalid option '{option}')")]
    InvalidFieldOption {
        /// The field name.
        field: &'static str,
        /// What was passed.
        option: String,
    },
    /// A root-only syscall called by a non-root process.
    #[error("Permission denied")]
    PermissionDenied,
    /// The syscall name is not one this stack serves.
    #[error("No such syscall: {0}")]
    NoSuchSyscall(String),
    /// The handle's kind has no method of that name.
    #[error("No such method")]
    NoSuchMethod,
    /// A device path that is not an interface of this computer.
    #[error("No such device")]
    NoSuchDevice,
    /// A rednet `connect` on a computer without modems.
    #[error("Could not find a modem")]
    NoModem,
    /// A rednet URI without a host.
    #[error("Missing host")]
    MissingHost,
    /// A PSP/PDP `unlisten` URI without a port.
    #[error("Missing port")]
    MissingPort,
    /// A port above 65535.
    #[error("Invalid port")]
    InvalidPort,
    /// `listen` on an address no up interface has.
    #[error("Address not available")]
    AddressNotAvailable,
    /// `listen("http://…")`/`listen("ws://…")` on a port already served.
    #[error("Port already open")]
    PortAlreadyOpen,
    /// `unlisten` of a port a process outside the caller's family listens on.
    #[error("Port open in another process")]
    PortOwnedByOther,
    /// A method on an HTTP server request whose connection has gone.
    #[error("attempt to use a closed file")]
    ClosedFile,
    /// `connect` gave no handle: the Lua entry point returns `nil` and this message instead of
    /// raising it (a WebSocket URL the client refuses, e.g. `Invalid scheme`).
    #[error("{0}")]
    Refused(String),
    /// The URI did not parse or its scheme is not served.
    #[error(transparent)]
    Uri(#[from] crate::uri::UriError),
    /// PIP configuration: interfaces, addresses, routes, ARP.
    #[error(transparent)]
    Config(#[from] pip_core::ConfigError),
    /// PSP or PDP: ports, sockets, handle states.
    #[error(transparent)]
    Psp(#[from] psp_proto::PspError),
    /// The handle table: unknown handle or too many.
    #[error(transparent)]
    Handle(#[from] crate::handles::HandleError),
    /// An HTTP, WebSocket or rednet handle method refused in the handle's state.
    #[error(transparent)]
    Method(#[from] handle_fsm::HandleError),
    /// `read`'s mode arguments.
    #[error(transparent)]
    Read(#[from] handle_fsm::ReadError),
    /// Rednet (opening a modem, hosting a name).
    #[error(transparent)]
    Rednet(#[from] rednet_codec::RednetError),
    /// `connect`'s HTTP/WebSocket options table.
    #[error(transparent)]
    Options(#[from] modem_value::DecodeError),
    /// Any other error, with its text (for hosts and kernel modules that extend the stack).
    #[error("{0}")]
    Message(String),
}

impl From<pip_core::addr::AddrError> for SyscallError {
    fn from(e: pip_core::addr::AddrError) -> Self {
        SyscallError::Config(e.into())
    }
}

impl SyscallError {
    /// An error with the given text ([`SyscallError::Message`]).
    pub fn msg(text: impl Into<String>) -> Self {
        SyscallError::Message(text.into())
    }
}

/// Positional arguments of one syscall.
#[derive(Clone, Copy, Debug)]
pub struct Args<'a>(pub &'a [Value]);

impl<'a> Args<'a> {
    /// Argument `n` (1-based); nil when absent.
    pub fn get(&self, n: usize) -> &'a Value {
        static NIL: Value = Value::Nil;
        n.checked_sub(1).and_then(|i| self.0.get(i)).unwrap_or(&NIL)
    }

    fn bad(&self, n: usize, expected: &'static str) -> SyscallError {
        SyscallError::BadArgument {
            n,
            expected,
            got: self.get(n).kind(),
        }
    }

    /// A required string.
    pub fn str(&self, n: usize) -> Result<&'a LuaStr, SyscallError> {
        self.get(n).as_str().ok_or_else(|| self.bad(n, "string"))
    }

    /// An optional string.
    pub fn opt_str(&self, n: usize) -> Result<Option<&'a LuaStr>, SyscallError> {
        match self.get(n) {
            Value::Nil => Ok(None),
            Value::Str(s) => Ok(Some(s)),
            _ => Err(self.bad(n, "string")),
        }
    }

    /// A required number.
    pub fn num(&self, n: usize) -> Result<f64, SyscallError> {
        self.get(n).as_num().ok_or_else(|| self.bad(n, "number"))
    }

    /// An optional number.
    pub fn opt_num(&self, n: usize) -> Result<Option<f64>, SyscallError> {
        match self.get(n) {
            Value::Nil => Ok(None),
            Value::Num(x) => Ok(Some(*x)),
            _ => Err(self.bad(n, "number")),
        }
    }

    /// An optional boolean.
    pub fn opt_bool(&self, n: usize) -> Result<Option<bool>, SyscallError> {
        match self.get(n) {
            Value::Nil => Ok(None),
            Value::Bool(b) => Ok(Some(*b)),
            _ => Err(self.bad(n, "boolean")),
        }
    }

    /// An optional table.
    pub fn opt_table(&self, n: usize) -> Result<Option<&'a Table>, SyscallError> {
        match self.get(n) {
            Value::Nil => Ok(None),
            Value::Table(t) => Ok(Some(t)),
            _ => Err(self.bad(n, "table")),
        }
    }

    /// A required string or number (IP arguments accept both).
    pub fn str_or_num(&self, n: usize) -> Result<&'a Value, SyscallError> {
        match self.get(n) {
            v @ (Value::Str(_) | Value::Num(_)) => Ok(v),
            _ => Err(self.bad(n, "string or number")),
        }
    }

    /// A required string out of `options`.
    pub fn option(&self, n: usize, options: &[&'static str]) -> Result<&'static str, SyscallError> {
        let s = self.str(n)?;
        options
            .iter()
            .find(|o| s.as_bytes() == o.as_bytes())
            .copied()
            .ok_or_else(|| SyscallError::InvalidOption {
                n,
                option: s.to_string_lossy(),
            })
    }
}

/// Field access on an options table with the kernel's `bad field` errors.
#[derive(Clone, Copy, Debug)]
pub struct Fields<'a>(pub &'a Value);

impl<'a> Fields<'a> {
    fn bad(&self, field: &'static str, expected: &'static str) -> SyscallError {
        SyscallError::BadField {
            field,
            expected,
            got: self.0.get(field).kind(),
        }
    }

    /// An optional string field.
    pub fn opt_str(&self, field: &'static str) -> Result<Option<&'a LuaStr>, SyscallError> {
        match self.0.get(field) {
            Value::Nil => Ok(None),
            Value::Str(s) => Ok(Some(s)),
            _ => Err(self.bad(field, "string")),
        }
    }

    /// A required string field.
    pub fn str(&self, field: &'static str) -> Result<&'a LuaStr, SyscallError> {
        self.opt_str(field)?
            .ok_or_else(|| self.bad(field, "string"))
    }

    /// An optional number field.
    pub fn opt_num(&self, field: &'static str) -> Result<Option<f64>, SyscallError> {
        match self.0.get(field) {
            Value::Nil => Ok(None),
            Value::Num(x) => Ok(Some(*x)),
            _ => Err(self.bad(field, "number")),
        }
    }

    /// An optional boolean field.
    pub fn opt_bool(&self, field: &'static str) -> Result<Option<bool>, SyscallError> {
        match self.0.get(field) {
            Value::Nil => Ok(None),
            Value::Bool(b) => Ok(Some(*b)),
            _ => Err(self.bad(field, "boolean")),
        }
    }

    /// An optional table field.
    pub fn opt_table(&self, field: &'static str) -> Result<Option<&'a Table>, SyscallError> {
        match self.0.get(field) {
            Value::Nil => Ok(None),
            Value::Table(t) => Ok(Some(t)),
            _ => Err(self.bad(field, "table")),
        }
    }

    /// An optional string-or-number field (IPs, netmasks).
    pub fn opt_str_or_num(&self, field: &'static str) -> Result<Option<&'a Value>, SyscallError> {
        match self.0.get(field) {
            Value::Nil => Ok(None),
            v @ (Value::Str(_) | Value::Num(_)) => Ok(Some(v)),
            _ => Err(self.bad(field, "string or number")),
        }
    }

    /// A required string field out of `options`.
    pub fn option(
        &self,
        field: &'static str,
        options: &[&'static str],
    ) -> Result<&'static str, SyscallError> {
        let s = self.str(field)?;
        options
            .iter()
            .find(|o| s.as_bytes() == o.as_bytes())
            .copied()
            .ok_or_else(|| SyscallError::InvalidFieldOption {
                field,
                option: s.to_string_lossy(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modem_value::table;

    #[test]
    fn argument_errors_have_kernel_text() {
        let v = [Value::from(1), Value::from("ping")];
        let a = Args(&v);
        assert_eq!(
            a.str(1).unwrap_err().to_string(),
            "bad argument #1 (expected string, got number)"
        );
        assert_eq!(
            a.num(3).unwrap_err().to_string(),
            "bad argument #3 (expected number, got nil)"
        );
        assert_eq!(a.opt_str(3), Ok(None));
        assert_eq!(a.option(2, &["ping", "pong"]), Ok("ping"));
        assert_eq!(
            a.option(2, &["pong"]).unwrap_err().to_string(),
            "bad argument #2 (invalid option 'ping')"
        );
        assert_eq!(a.str_or_num(1), Ok(&Value::from(1)));
        assert_eq!(a.get(0), &Value::Nil);
    }

    #[test]
    fn field_errors_have_kernel_text() {
        let t = table! { "action" => "teleport", "source" => 3 };
        let f = Fields(&t);
        assert_eq!(
            f.option("action", &["unicast", "local"])
                .unwrap_err()
                .to_string(),
            "bad field 'action' (invalid option 'teleport')"
        );
        assert_eq!(
            f.str("source").unwrap_err().to_string(),
            "bad field 'source' (expected string, got number)"
        );
        assert_eq!(f.opt_bool("up"), Ok(None));
        assert_eq!(
            SyscallError::PermissionDenied.to_string(),
            "Permission denied"
        );
    }
}
