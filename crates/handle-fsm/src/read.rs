//! The read-mode engine: one implementation of `read(mode...)` for stream buffers
//! (PSP, WebSocket, server request bodies), message queues (rednet) and HTTP response bodies.
//!
//! Modes are parsed and validated **before** anything is consumed, so a bad argument never eats
//! data. Then each mode is applied in order; the first mode that cannot be satisfied yields nil
//! and so does every mode after it (without consuming anything).
//!
//! Decisions where the spec is silent:
//! * A mode string is accepted by its first character after an optional `*`, as Lua's
//!   `io.read` does (`"*line"` ≡ `"*l"`); the empty string and `"*"` are invalid.
//! * A numeric count must be a non-negative integer (counts work as documented);
//!   a negative, fractional, infinite or NaN count is `bad argument (invalid mode '<n>')`.
//! * `0` returns `""` when data is available, nil otherwise (as `io.read(0)`).

use std::collections::VecDeque;

use modem_value::{Kind, LuaStr, Value};

/// One parsed read mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `*a`: everything available.
    All,
    /// `*l`: a line without its newline.
    Line,
    /// `*L`: a line with its newline.
    LineWithEnd,
    /// `*n`: a number (a run of ASCII digits).
    Number,
    /// *k*: up to *k* bytes.
    Count(usize),
}

/// Why `read` rejected its arguments; `Display` gives the kernel's exact message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// An argument that is neither a string nor a number.
    #[error("bad argument (expected string or number, got {0})")]
    BadType(Kind),
    /// A string or number that names no mode (the text is the argument as `tostring` shows it).
    #[error("bad argument (invalid mode '{0}')")]
    InvalidMode(String),
}

impl Mode {
    /// Parses one argument of `read`.
    pub fn parse(v: &Value) -> Result<Mode, ReadError> {
        match v {
            Value::Str(s) => {
                let b = s.as_bytes();
                let b = b.strip_prefix(b"*").unwrap_or(b);
                match b.first() {
                    Some(b'a') => Ok(Mode::All),
                    Some(b'l') => Ok(Mode::Line),
                    Some(b'L') => Ok(Mode::LineWithEnd),
                    Some(b'n') => Ok(Mode::Number),
                    _ => Err(ReadError::InvalidMode(s.to_string_lossy())),
                }
            }
            Value::Num(n) => {
                if n.is_finite() && *n >= 0.0 && n.fract() == 0.0 {
                    // Saturating: a count beyond the address space reads everything there is.
                    Ok(Mode::Count(if *n >= usize::MAX as f64 {
                        usize::MAX
                    } else {
                        *n as usize
                    }))
                } else {
                    Err(ReadError::InvalidMode(v.to_lua_string().to_string_lossy()))
                }
            }
            other => Err(ReadError::BadType(other.kind())),
        }
    }

    /// Parses all arguments; no argument means `"*l"`.
    pub fn parse_all(modes: &[Value]) -> Result<Vec<Mode>, ReadError> {
        if modes.is_empty() {
            return Ok(vec![Mode::Line]);
        }
        modes.iter().map(Mode::parse).collect()
    }
}

/// Something `read` can take values from. Each method returns `None` when the mode cannot be
/// satisfied, and must then leave the source as it was unless the flavour says otherwise.
pub trait ReadSource {
    /// `*a`.
    fn read_all(&mut self) -> Option<Value>;
    /// `*l` (`keep_newline = false`) or `*L` (`true`).
    fn read_line(&mut self, keep_newline: bool) -> Option<Value>;
    /// `*n`.
    fn read_number(&mut self) -> Option<Value>;
    /// *k*.
    fn read_count(&mut self, k: usize) -> Option<Value>;
}

/// Runs `read(modes...)` against any source: validates every mode, then applies them in order;
/// once one yields nil, the rest yield nil without touching the source.
pub fn read_with<S: ReadSource + ?Sized>(
    src: &mut S,
    modes: &[Value],
) -> Result<Vec<Value>, ReadError> {
    let parsed = Mode::parse_all(modes)?;
    let mut out = Vec::with_capacity(parsed.len());
    let mut failed = false;
    for m in parsed {
        let v = if failed {
            None
        } else {
            match m {
                Mode::All => src.read_all(),
                Mode::Line => src.read_line(false),
                Mode::LineWithEnd => src.read_line(true),
                Mode::Number => src.read_number(),
                Mode::Count(k) => src.read_count(k),
            }
        };
        match v {
            Some(v) => out.push(v),
            None => {
                failed = true;
                out.push(Value::Nil);
            }
        }
    }
    Ok(out)
}

/// `read` on a stream buffer: PSP and WebSocket handles, server request bodies.
///
/// The buffer is a plain `VecDeque<u8>` so that transports can own it without depending on
/// this crate's types.
pub fn read_stream(buf: &mut VecDeque<u8>, modes: &[Value]) -> Result<Vec<Value>, ReadError> {
    read_with(&mut Stream(buf), modes)
}

/// `read` on a message queue (rednet), with one fix to Phoenix: an element is removed
/// as soon as it is fully consumed.
pub fn read_queue(queue: &mut VecDeque<Value>, modes: &[Value]) -> Result<Vec<Value>, ReadError> {
    read_with(&mut Queue(queue), modes)
}

fn bytes_value(b: Vec<u8>) -> Value {
    Value::Str(LuaStr::from(b))
}

/// Finds the first run of ASCII digits: `(start, end)`.
fn digit_run(b: &[u8]) -> Option<(usize, usize)> {
    let start = b.iter().position(u8::is_ascii_digit)?;
    let len = b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
    Some((start, start + len))
}

fn digits_value(d: &[u8]) -> Value {
    // Only ASCII digits reach here, so parsing cannot fail; an absurdly long run becomes inf,
    // as Lua's tonumber would.
    let n = std::str::from_utf8(d)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(f64::INFINITY);
    Value::Num(n)
}

/// Removes the first `n` bytes (at most `buf.len()`) as one copy of each contiguous half, not a
/// byte-at-a-time drain: stream reads of whole messages sit on the data path.
fn take_front(buf: &mut VecDeque<u8>, n: usize) -> Vec<u8> {
    let n = n.min(buf.len());
    let (a, b) = buf.as_slices();
    let from_a = n.min(a.len());
    let mut out = Vec::with_capacity(n);
    out.extend_from_slice(&a[..from_a]);
    out.extend_from_slice(&b[..n - from_a]);
    buf.drain(..n);
    out
}

/// From this many buffered bytes on, `read("*a")` hands the buffer's own storage to the string
/// instead of copying it: a copy of a large buffer costs more (memory bandwidth and fresh pages
/// for the new string) than growing a new buffer for what arrives next.
const ADOPT_AT: usize = 64 * 1024;

/// Takes the whole buffer as one string. A small buffer is copied once and keeps its capacity,
/// so a stream that is read as fast as it fills does not reallocate each time; a large one
/// ([`ADOPT_AT`]) becomes the string itself, with no copy, and the buffer starts empty.
fn drain_all(buf: &mut VecDeque<u8>) -> LuaStr {
    if buf.len() >= ADOPT_AT {
        // `Vec::from(VecDeque)` reuses the allocation (moving the halves together in place
        // when the ring has wrapped).
        return LuaStr::from_vec_in_place(Vec::from(core::mem::take(buf)));
    }
    let s = LuaStr::from(&*buf.make_contiguous());
    buf.clear();
    s
}

/// The stream flavour over a borrowed `VecDeque<u8>`.
struct Stream<'a>(&'a mut VecDeque<u8>);

impl ReadSource for Stream<'_> {
    fn read_all(&mut self) -> Option<Value> {
        if self.0.is_empty() {
            return None;
        }
        Some(Value::Str(drain_all(self.0)))
    }

    fn read_line(&mut self, keep: bool) -> Option<Value> {
        if self.0.is_empty() {
            return None;
        }
        let (a, b) = self.0.as_slices();
        let nl = a
            .iter()
            .position(|&c| c == b'\n')
            .or_else(|| b.iter().position(|&c| c == b'\n').map(|i| i + a.len()));
        Some(match nl {
            Some(i) => {
                let mut line = take_front(self.0, i + 1);
                if !keep {
                    line.pop();
                }
                bytes_value(line)
            }
            None => Value::Str(drain_all(self.0)),
        })
    }

    fn read_number(&mut self) -> Option<Value> {
        let (s, e) = digit_run(self.0.make_contiguous())?;
        let digits: Vec<u8> = self.0.drain(..e).skip(s).collect();
        Some(digits_value(&digits))
    }

    fn read_count(&mut self, k: usize) -> Option<Value> {
        if self.0.is_empty() {
            return None;
        }
        let n = k.min(self.0.len());
        Some(bytes_value(take_front(self.0, n)))
    }
}

/// The message-queue flavour over a borrowed `VecDeque<Value>`.
struct Queue<'a>(&'a mut VecDeque<Value>);

impl Queue<'_> {
    /// The head as the string the non-`*a` modes see.
    fn head_bytes(&self) -> Option<LuaStr> {
        self.0.front().map(Value::to_lua_string)
    }

    /// Replaces the head by what is left of its string, or removes it when nothing is.
    fn leave(&mut self, s: &LuaStr, consumed: usize) {
        let rest = s.get(consumed..).unwrap_or(&[]);
        if rest.is_empty() {
            self.0.pop_front();
        } else if let Some(h) = self.0.front_mut() {
            *h = Value::Str(LuaStr::from(rest));
        }
    }
}

impl ReadSource for Queue<'_> {
    fn read_all(&mut self) -> Option<Value> {
        self.0.pop_front()
    }

    fn read_line(&mut self, keep: bool) -> Option<Value> {
        let s = self.head_bytes()?;
        let (line, consumed) = match s.iter().position(|&c| c == b'\n') {
            Some(i) => (&s[..if keep { i + 1 } else { i }], i + 1),
            None => (&s[..], s.len()),
        };
        let v = Value::Str(LuaStr::from(line));
        self.leave(&s, consumed);
        Some(v)
    }

    fn read_number(&mut self) -> Option<Value> {
        loop {
            let s = self.head_bytes()?;
            match digit_run(&s) {
                Some((a, e)) => {
                    let v = digits_value(&s[a..e]);
                    self.leave(&s, e);
                    return Some(v);
                }
                None => {
                    self.0.pop_front();
                }
            }
        }
    }

    fn read_count(&mut self, k: usize) -> Option<Value> {
        self.0.front()?;
        let mut out = Vec::new();
        while out.len() < k {
            let Some(s) = self.head_bytes() else { break };
            let take = (k - out.len()).min(s.len());
            out.extend_from_slice(&s[..take]);
            self.leave(&s, take);
        }
        Some(bytes_value(out))
    }
}

/// A fully received HTTP response body read with the host response handle's semantics:
/// `*a` gives `""` at the end instead of nil, lines end at `\n` with a preceding `\r` stripped
/// (a lone `\r` is kept), `*n` discards non-digits up to the first digit even when it then
/// finds none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpBody {
    data: Vec<u8>,
    pos: usize,
}

impl HttpBody {
    /// A body positioned at its start.
    pub fn new(data: Vec<u8>) -> Self {
        HttpBody { data, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> &[u8] {
        self.data.get(self.pos..).unwrap_or(&[])
    }

    /// The whole body, read or not.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// `read(modes...)` on this body.
    pub fn read(&mut self, modes: &[Value]) -> Result<Vec<Value>, ReadError> {
        read_with(self, modes)
    }
}

impl ReadSource for HttpBody {
    fn read_all(&mut self) -> Option<Value> {
        let v = bytes_value(self.remaining().to_vec());
        self.pos = self.data.len();
        Some(v)
    }

    fn read_line(&mut self, keep: bool) -> Option<Value> {
        let rest = self.remaining();
        if rest.is_empty() {
            return None;
        }
        let (line, consumed) = match rest.iter().position(|&c| c == b'\n') {
            Some(i) => {
                let content_end = if i > 0 && rest[i - 1] == b'\r' {
                    i - 1
                } else {
                    i
                };
                let end = if keep { i + 1 } else { content_end };
                (rest[..end].to_vec(), i + 1)
            }
            None => (rest.to_vec(), rest.len()),
        };
        self.pos += consumed;
        Some(bytes_value(line))
    }

    fn read_number(&mut self) -> Option<Value> {
        let rest = self.remaining();
        match digit_run(rest) {
            Some((a, e)) => {
                let v = digits_value(&rest[a..e]);
                self.pos += e;
                Some(v)
            }
            None => {
                self.pos = self.data.len();
                None
            }
        }
    }

    fn read_count(&mut self, k: usize) -> Option<Value> {
        let rest = self.remaining();
        if rest.is_empty() {
            return None;
        }
        let n = k.min(rest.len());
        let v = bytes_value(rest[..n].to_vec());
        self.pos += n;
        Some(v)
    }
}
