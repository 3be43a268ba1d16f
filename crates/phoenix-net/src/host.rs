//! `phoenix-net host`: one computer's stack over JSON lines on stdin/stdout, for emulators
//! written in other languages. The protocol is documented in `docs/stdio-host.md`.
//!
//! Every line in is one JSON object in modem-value's JSON mapping with an `op`; every line out
//! is one object with an `out`. Time is virtual: it only moves with `time` lines. After each
//! input line the host writes every output the stack produced, then a `deadline` line.
//!
//! Every input line is answered, whatever its bytes: a line that is blank, not UTF-8, longer
//! than the line limit ([`DEFAULT_MAX_LINE`], `--max-line`) or not a valid request gets an
//! `error` line naming the problem, and then its `deadline` like any other line.

use std::io::{BufRead, ErrorKind, Write};

use modem_value::{table, Instant, SplitMix64, Value};
use syscall_api::{Computer, ComputerConfig, NetworkStack, Output, TcpRequest};

mod rednet;
pub mod tcp;

use tcp::TcpInput;

/// The version of the line protocol, sent in the `hello` line that opens every session (and
/// returned by the C ABI's `phoenix_protocol_version`). It changes whenever a line changes
/// incompatibly.
pub const PROTOCOL_VERSION: u32 = 1;

/// The default longest input line, in bytes (without its newline): 1 MiB, ample for any
/// modem message a CC:Tweaked program can send in practice; `--max-line` raises or lowers it.
pub const DEFAULT_MAX_LINE: usize = 1 << 20;

/// One input line as read from a byte stream, before it is decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawLine {
    /// The line's bytes, without the newline (and without a `\r` before it; the limit counts
    /// that `\r`).
    Bytes(Vec<u8>),
    /// The line was longer than the limit; its bytes were read and dropped. `len` is its length.
    TooLong {
        /// The length of the line in bytes.
        len: usize,
        /// The limit it exceeded.
        max: usize,
    },
}

/// Reads newline-terminated lines of any bytes, keeping at most `max` bytes of one line in
/// memory: longer lines are consumed to their end and reported as [`RawLine::TooLong`].
pub struct LineReader<R> {
    inner: R,
    max: usize,
}

impl<R: BufRead> LineReader<R> {
    /// A reader of lines of at most `max` bytes from `inner`.
    pub fn new(inner: R, max: usize) -> LineReader<R> {
        LineReader { inner, max }
    }

    /// The next line, or `None` at the end of the stream. A last line without a newline
    /// counts as a line. Only an I/O error of the stream is an error.
    pub fn next_line(&mut self) -> std::io::Result<Option<RawLine>> {
        let mut buf = Vec::new();
        let mut len = 0usize;
        let mut read_any = false;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                if !read_any {
                    return Ok(None);
                }
                break;
            }
            read_any = true;
            let newline = avail.iter().position(|&b| b == b'\n');
            let chunk = &avail[..newline.unwrap_or(avail.len())];
            len = len.saturating_add(chunk.len());
            if len <= self.max {
                buf.extend_from_slice(chunk);
            } else {
                // Keep reading to the end of the line, but no more of it in memory.
                buf = Vec::new();
            }
            let used = newline.map_or(avail.len(), |i| i + 1);
            self.inner.consume(used);
            if newline.is_some() {
                break;
            }
        }
        if len > self.max {
            return Ok(Some(RawLine::TooLong { len, max: self.max }));
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        Ok(Some(RawLine::Bytes(buf)))
    }
}

/// One computer's stack behind the line protocol, independent of where the lines come from
/// (stdin for `phoenix-net host`, a C caller for the C ABI).
pub struct Session {
    computer: Computer,
    now: Instant,
    lines: usize,
    /// With a [`tcp::TcpHost`] attached, TCP requests are queued here instead of written as
    /// `tcp_*` lines.
    bridge_tcp: bool,
    tcp: Vec<TcpRequest>,
    rednet: rednet::RednetCalls,
}

impl Session {
    /// A computer built from `config`, seeded with `seed`; also returns the output lines of its
    /// boot: `hello` first, then what the computer asks at boot (a router's `hear_all`), then
    /// `deadline`, so a driver reads the boot batch like the answer to an input.
    pub fn new(config: ComputerConfig, seed: u64) -> (Session, Vec<String>) {
        let id = config.id;
        let mut s = Session {
            computer: Computer::new(config, &mut SplitMix64::new(seed)),
            now: Instant::ZERO,
            lines: 0,
            bridge_tcp: false,
            tcp: Vec::new(),
            rednet: rednet::RednetCalls::default(),
        };
        let hello = table! {
            "out" => "hello", "protocol" => PROTOCOL_VERSION,
            "version" => env!("CARGO_PKG_VERSION"), "id" => id
        };
        let mut out = vec![hello.to_json()];
        out.extend(s.settle());
        (s, out)
    }

    /// Routes TCP requests of HTTP/WebSocket handles to [`Session::take_tcp`] (for a
    /// [`tcp::TcpHost`] such as the real-network adapter) instead of writing them as `tcp_*`
    /// lines.
    pub fn bridge_tcp(&mut self) {
        self.bridge_tcp = true;
    }

    /// The TCP requests queued since the last call (with a bridge attached), in order.
    pub fn take_tcp(&mut self) -> Vec<TcpRequest> {
        std::mem::take(&mut self.tcp)
    }

    /// The current time of the session.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// The next deadline of the stack.
    pub fn deadline(&self) -> Option<Instant> {
        self.computer.poll_timeout()
    }

    /// Moves the clock to `now` (real-time hosts) and runs due timers; returns output lines.
    pub fn tick(&mut self, now: Instant) -> Vec<String> {
        self.now = self.now.max(now);
        self.computer.handle_timeout(self.now);
        self.settle()
    }

    /// A TCP event for connection `conn`; returns output lines.
    #[must_use]
    pub fn tcp_event(
        &mut self,
        conn: syscall_api::TcpId,
        event: syscall_api::TcpEvent,
    ) -> Vec<String> {
        self.computer.handle_tcp(self.now, conn, event);
        self.settle()
    }

    /// A TCP connection accepted on `listener` from `peer`; returns the id the stack gave it
    /// (or `None`: close it) and output lines.
    #[must_use]
    pub fn tcp_accept(
        &mut self,
        listener: syscall_api::ListenerId,
        peer: &str,
    ) -> (Option<syscall_api::TcpId>, Vec<String>) {
        let id = self.computer.handle_tcp_accept(self.now, listener, peer);
        (id, self.settle())
    }

    /// The host could not listen for `listener` (`error` says why); returns output lines
    /// (the owning process's `listen_failed` event).
    #[must_use]
    pub fn tcp_listen_failed(
        &mut self,
        listener: syscall_api::ListenerId,
        error: &str,
    ) -> Vec<String> {
        self.computer
            .handle_tcp_listen_failed(self.now, listener, error);
        self.settle()
    }

    fn settle(&mut self) -> Vec<String> {
        let mut out = self.drain_lines();
        self.rednet.drain(&mut self.computer, &mut out);
        let d = self
            .computer
            .poll_timeout()
            .map_or(Value::Nil, |t| Value::from(t.as_millis()));
        out.push(table! {"out" => "deadline", "at" => d}.to_json());
        out
    }

    fn drain_lines(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(o) = self.computer.poll_output() {
            match o {
                Output::Tcp(r) if self.bridge_tcp => self.tcp.push(r),
                o => out.push(output_line(o).to_json()),
            }
        }
        out
    }

    /// Handles one input line given as raw bytes (without its newline): a line that is not
    /// UTF-8 gets an `error` line naming the first bad byte, then `deadline`.
    pub fn input_bytes(&mut self, line: &[u8]) -> Vec<String> {
        match std::str::from_utf8(line) {
            Ok(text) => self.input(text),
            Err(e) => self.reject(format!(
                "line is not valid UTF-8 (bad byte at offset {}; use {{\"$bytes\": …}} for \
                 binary strings)",
                e.valid_up_to()
            )),
        }
    }

    /// Answers one input line as read by a [`LineReader`].
    pub fn input_raw(&mut self, line: &RawLine) -> Vec<String> {
        match line {
            RawLine::Bytes(b) => self.input_bytes(b),
            RawLine::TooLong { len, max } => self.reject(format!(
                "line of {len} bytes is longer than the limit of {max} bytes (--max-line)"
            )),
        }
    }

    /// Counts an input line that cannot be handled and answers it with an `error` line
    /// carrying `message`, then `deadline`.
    pub fn reject(&mut self, message: String) -> Vec<String> {
        self.lines += 1;
        let e = table! {"out" => "error", "line" => self.lines, "message" => message};
        let mut out = vec![e.to_json()];
        out.extend(self.settle());
        out
    }

    /// Handles one input line and returns every output line, the last being `deadline`.
    /// A malformed line yields an `error` line; the session stays usable.
    pub fn input(&mut self, line: &str) -> Vec<String> {
        self.lines += 1;
        let mut out = Vec::new();
        let result = if line.trim().is_empty() {
            Err("empty line (expected a JSON object)".to_string())
        } else {
            handle_line(&mut self.computer, &mut self.now, &mut self.rednet, line)
        };
        match result {
            Ok(Some(reply)) => out.push(reply),
            Ok(None) => {}
            Err(message) => {
                let e = table! {"out" => "error", "line" => self.lines, "message" => message};
                out.push(e.to_json());
            }
        }
        out.extend(self.settle());
        out
    }
}

/// Runs the host loop until `input` ends, holding at most `max_line` bytes of one line.
/// Every line is answered (malformed ones with an `error` line); only an I/O error on `input`
/// or `output` ends the loop early. Lines are read only as fast as they are answered.
pub fn serve(
    config: ComputerConfig,
    seed: u64,
    max_line: usize,
    input: impl BufRead,
    mut output: impl Write,
) -> std::io::Result<()> {
    let (mut session, boot) = Session::new(config, seed);
    for l in boot {
        writeln!(output, "{l}")?;
    }
    // The boot batch is a complete answer: a driver waits for it before writing.
    output.flush()?;
    let mut reader = LineReader::new(input, max_line);
    while let Some(line) = reader.next_line()? {
        for l in session.input_raw(&line) {
            writeln!(output, "{l}")?;
        }
        output.flush()?;
    }
    Ok(())
}

/// The largest integer every JSON reader carries exactly (2^53).
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

fn num(v: &Value, field: &'static str) -> Result<f64, String> {
    v.field_num(field).map_err(|e| e.to_string())
}

/// The `args` array: positional arguments, where a JSON `null` is a nil argument (Lua's holes).
fn args(v: &Value) -> Result<Vec<Value>, String> {
    match v.get("args") {
        Value::Nil => Ok(Vec::new()),
        Value::Table(t) => {
            let mut n = 0usize;
            for (k, _) in t.iter() {
                match k.as_num() {
                    Some(i) if i >= 1.0 && i.fract() == 0.0 && i <= 255.0 => n = n.max(i as usize),
                    _ => {
                        return Err(
                            "bad field 'args' (expected an array of at most 255 values)".into()
                        )
                    }
                }
            }
            Ok((1..=n)
                .map(|i| t.get_num(i as f64).cloned().unwrap_or_default())
                .collect())
        }
        other => Err(format!(
            "bad field 'args' (expected an array, got {})",
            other.kind()
        )),
    }
}

fn u16_field(v: &Value, field: &'static str) -> Result<u16, String> {
    let n = num(v, field)?;
    if n.fract() == 0.0 && (0.0..=65535.0).contains(&n) {
        Ok(n as u16)
    } else {
        Err(format!("bad field '{field}' (expected a channel 0-65535)"))
    }
}

fn u32_field(v: &Value, field: &'static str) -> Result<u32, String> {
    let n = num(v, field)?;
    if n.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(format!(
            "bad field '{field}' (expected a non-negative integer)"
        ))
    }
}

/// A `reply` line. Written by hand because `result` is always a JSON array (`[]` when the
/// call returned nothing, `null` for a nil among the values, trailing nils dropped as a Lua
/// table would), which modem-value's table mapping cannot say of an empty table.
fn reply(id: &Value, r: Result<Vec<Value>, syscall_api::SyscallError>) -> String {
    match r {
        Ok(mut values) => {
            while values.last().is_some_and(Value::is_nil) {
                values.pop();
            }
            let items: Vec<String> = values.iter().map(Value::to_json).collect();
            format!(
                "{{\"id\":{},\"ok\":true,\"out\":\"reply\",\"result\":[{}]}}",
                id.to_json(),
                items.join(",")
            )
        }
        Err(e) => table! {
            "out" => "reply", "id" => id.clone(), "ok" => false, "error" => e.to_string()
        }
        .to_json(),
    }
}

fn handle_line(
    c: &mut Computer,
    now: &mut Instant,
    rn: &mut rednet::RednetCalls,
    line: &str,
) -> Result<Option<String>, String> {
    let v = Value::from_json(line).map_err(|e| e.to_string())?;
    if v.as_table().is_none() {
        return Err("expected a JSON object".into());
    }
    let op = v
        .field_str("op")
        .map_err(|e| e.to_string())?
        .to_string_lossy();
    if let Some(t) = tcp::parse_input(&op, &v) {
        return match t? {
            TcpInput::Event(conn, ev) => {
                c.handle_tcp(*now, conn, ev);
                Ok(None)
            }
            TcpInput::Accept { listener, peer } => {
                let conn = c.handle_tcp_accept(*now, listener, &peer);
                Ok(Some(tcp::accepted_line(listener, conn).to_json()))
            }
            TcpInput::ListenFailed { listener, error } => {
                c.handle_tcp_listen_failed(*now, listener, &error);
                Ok(None)
            }
        };
    }
    match op.as_str() {
        "rednet" => {
            let mut done = Vec::new();
            let r = rn.call(c, *now, &v, &mut done)?;
            let mut lines = vec![reply(v.get("id"), r)];
            lines.extend(done);
            Ok(Some(lines.join("\n")))
        }
        "hear_all_refused" => {
            let device = v
                .field_str("device")
                .map_err(|e| e.to_string())?
                .to_string_lossy();
            c.handle_hear_all_refused(*now, &device);
            Ok(None)
        }
        "time" => {
            let at = num(&v, "at")?;
            // Integers up to 2^53 are the ones a JSON number carries exactly.
            if !(at.is_finite() && at >= 0.0 && at.fract() == 0.0 && at <= MAX_EXACT) {
                return Err(format!(
                    "bad field 'at' (expected a non-negative integer of milliseconds, got {})",
                    Value::Num(at).to_lua_string()
                ));
            }
            let t = Instant::from_millis(at as u64);
            if t < *now {
                return Err(format!(
                    "bad field 'at' ({} is before the current time {}; time never moves back)",
                    t.as_millis(),
                    now.as_millis()
                ));
            }
            *now = t;
            c.handle_timeout(*now);
            Ok(None)
        }
        "modem" => {
            let device = v
                .field_str("device")
                .map_err(|e| e.to_string())?
                .to_string_lossy();
            let channel = u16_field(&v, "channel")?;
            let reply_channel = u16_field(&v, "replyChannel")?;
            let distance = v.field_opt_num("distance").map_err(|e| e.to_string())?;
            c.handle_modem_message(
                *now,
                &device,
                channel,
                reply_channel,
                v.get("message"),
                distance,
            );
            Ok(None)
        }
        "channel" => {
            let device = v
                .field_str("device")
                .map_err(|e| e.to_string())?
                .to_string_lossy();
            let channel = u16_field(&v, "channel")?;
            let error = v
                .field_opt_str("error")
                .map_err(|e| e.to_string())?
                .map_or_else(
                    || "Too many open channels".to_string(),
                    |e| e.to_string_lossy(),
                );
            c.handle_channel_failed(*now, &device, channel, &error);
            Ok(None)
        }
        "spawn" => {
            let pid = u32_field(&v, "pid")?;
            let parent = match v.get("parent") {
                Value::Nil => None,
                _ => Some(u32_field(&v, "parent")?),
            };
            c.spawn_process(pid, parent);
            Ok(None)
        }
        "exit" => {
            c.exit_process(*now, u32_field(&v, "pid")?);
            Ok(None)
        }
        "syscall" => {
            let pid = u32_field(&v, "pid")?;
            let root = match v.get("root") {
                Value::Nil => false,
                Value::Bool(b) => *b,
                other => {
                    return Err(format!(
                        "bad field 'root' (expected a boolean, got {})",
                        other.kind()
                    ))
                }
            };
            let name = v
                .field_str("name")
                .map_err(|e| e.to_string())?
                .to_string_lossy();
            let r = c.syscall(*now, pid, root, &name, &args(&v)?);
            Ok(Some(reply(v.get("id"), r)))
        }
        "method" => {
            let pid = u32_field(&v, "pid")?;
            let handle = u32_field(&v, "handle")?;
            let method = v
                .field_str("method")
                .map_err(|e| e.to_string())?
                .to_string_lossy();
            let r = c.handle_method(*now, pid, u64::from(handle), &method, &args(&v)?);
            Ok(Some(reply(v.get("id"), r)))
        }
        other => Err(format!("unknown op '{other}'")),
    }
}

fn output_line(o: Output) -> Value {
    match o {
        Output::Transmit {
            device,
            channel,
            reply_channel,
            message,
        } => table! {
            "out" => "transmit", "device" => device.as_str(), "channel" => channel,
            "replyChannel" => reply_channel, "message" => message
        },
        Output::OpenChannel { device, channel } => {
            table! {"out" => "open", "device" => device.as_str(), "channel" => channel}
        }
        Output::CloseChannel { device, channel } => {
            table! {"out" => "close", "device" => device.as_str(), "channel" => channel}
        }
        Output::Event { pid, event } => {
            let (name, params) = event.into_lua();
            table! {"out" => "event", "pid" => pid, "name" => name, "params" => params}
        }
        Output::HearAll { device } => table! {"out" => "hear_all", "device" => device.as_str()},
        Output::Tcp(r) => tcp::request_line(r),
        // `Output` is `#[non_exhaustive]`: every variant of this version has its line above; a
        // newer stack's output this host cannot encode is reported, never silently dropped.
        _ => table! {
            "out" => "error", "line" => 0,
            "message" => "the stack produced an output this host version cannot encode"
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The model: split at every newline (a trailing newline ends the last line, it does not
    /// start an empty one), strip one `\r` before the newline, and report a line longer than
    /// `max` bytes (counting that `\r`) by its length only.
    fn model(input: &[u8], max: usize) -> Vec<RawLine> {
        let mut parts: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
        if parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
        parts
            .into_iter()
            .map(|p| {
                if p.len() > max {
                    RawLine::TooLong { len: p.len(), max }
                } else {
                    RawLine::Bytes(p.strip_suffix(b"\r").unwrap_or(p).to_vec())
                }
            })
            .collect()
    }

    proptest! {
        /// `LineReader` against the model, for any bytes, any limit and any buffer size (so
        /// lines straddle the reader's buffer boundaries).
        #[test]
        fn line_reader_matches_the_model(
            input in proptest::collection::vec(
                prop_oneof![Just(b'\n'), Just(b'\r'), Just(b'a'), any::<u8>()],
                0..300,
            ),
            max in 0usize..40,
            capacity in 1usize..17,
        ) {
            let mut reader =
                LineReader::new(std::io::BufReader::with_capacity(capacity, &input[..]), max);
            let mut got = Vec::new();
            while let Some(line) = reader.next_line().unwrap() {
                got.push(line);
            }
            prop_assert_eq!(got, model(&input, max));
        }
    }
}
