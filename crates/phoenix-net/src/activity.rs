//! Scripted programs: what the simulated computers' processes do.
//!
//! Each activity is a small state machine driven by the runner: [`Activity::tick`] when its
//! wake time comes (and once at its start time), [`Activity::event`] for every event raised for
//! one of its processes. Activities only use what a real program has: syscalls, handle methods
//! and events (and, on CraftOS nodes, the `rednet` API).

use std::collections::{BTreeMap, VecDeque};

use modem_value::{Duration, Instant, Value};
use phoenix_netsim::{EventRecord, NodeId, World};
use rednet_codec::{Completion, Delivered, RequestId};

/// What an activity can reach while it runs.
pub struct Cx<'a> {
    /// The world.
    pub world: &'a mut World,
    /// Transcript lines produced so far (the runner prints and keeps them).
    pub log: &'a mut Vec<(Instant, String)>,
    /// Rednet messages received by CraftOS nodes and not yet claimed.
    pub inboxes: &'a mut BTreeMap<NodeId, VecDeque<Delivered>>,
    /// Finished rednet requests of CraftOS nodes, not yet claimed.
    pub completions: &'a mut BTreeMap<NodeId, Vec<Completion>>,
}

/// `s` as a Lua program shows a string with `textutils.serialize`: `"hi"`, `"a\"b"`.
fn lua_quoted(s: &str) -> String {
    Value::from(s).to_lua_serialized().to_string_lossy()
}

/// Values as Lua's `print` of several returns shows them (joined with `, ` rather than a tab):
/// `2`, not `2.0`; `nil` when there are none.
fn lua_returns(values: &[f64]) -> String {
    if values.is_empty() {
        return "nil".into();
    }
    values
        .iter()
        .map(|v| Value::Num(*v).to_lua_serialized().to_string_lossy())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Cx<'_> {
    fn say(&mut self, who: &str, text: impl Into<String>) {
        let now = self.world.now();
        self.log.push((now, format!("{who}: {}", text.into())));
    }
}

/// A scripted program.
pub trait Activity {
    /// The activity's kind, for grouping results.
    fn kind(&self) -> &'static str;
    /// The (node, pid) pairs whose events it wants.
    fn processes(&self) -> Vec<(NodeId, u32)>;
    /// When it next wants [`Activity::tick`] (`None`: only on events).
    fn wake(&self) -> Option<Instant>;
    /// Its wake time came.
    fn tick(&mut self, cx: &mut Cx<'_>);
    /// An event for one of its processes.
    fn event(&mut self, cx: &mut Cx<'_>, ev: &EventRecord);
    /// Whether it has finished.
    fn done(&self) -> bool;
    /// Whether it succeeded, and a one-line result.
    fn result(&self) -> (bool, String);
}

fn handle_of(v: &Result<Vec<Value>, syscall_api::SyscallError>) -> Option<u64> {
    v.as_ref().ok()?.first()?.as_num().map(|n| n as u64)
}

/// A string parameter as text (empty when absent).
fn text(v: &Value) -> String {
    v.as_str().map(|s| s.to_string_lossy()).unwrap_or_default()
}

fn ev_id(ev: &EventRecord, field: &str) -> Option<u64> {
    ev.params.get(field).as_num().map(|n| n as u64)
}

/// `ping`.
pub struct Ping {
    pub(crate) node: NodeId,
    pub(crate) name: String,
    pub(crate) pid: u32,
    pub(crate) to: String,
    pub(crate) count: u32,
    pub(crate) start: Instant,
    pub(crate) started: bool,
    pub(crate) sent: u32,
    pub(crate) next_send: Option<Instant>,
    pub(crate) outstanding: BTreeMap<u32, Instant>,
    pub(crate) replies: u32,
    pub(crate) rtts: Vec<u64>,
}

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

impl Activity for Ping {
    fn kind(&self) -> &'static str {
        "ping"
    }
    fn processes(&self) -> Vec<(NodeId, u32)> {
        vec![(self.node, self.pid)]
    }
    fn wake(&self) -> Option<Instant> {
        if !self.started {
            return Some(self.start);
        }
        let expiry = self.outstanding.values().map(|t| *t + PROBE_TIMEOUT).min();
        [self.next_send, expiry].into_iter().flatten().min()
    }
    fn tick(&mut self, cx: &mut Cx<'_>) {
        let now = cx.world.now();
        if !self.started {
            self.started = true;
            let _ = cx
                .world
                .syscall(self.node, self.pid, true, "netevent", &[Value::Bool(true)]);
            self.next_send = Some(now);
        }
        let expired: Vec<u32> = self
            .outstanding
            .iter()
            .filter(|(_, t)| **t + PROBE_TIMEOUT <= now)
            .map(|(s, _)| *s)
            .collect();
        for s in expired {
            self.outstanding.remove(&s);
            cx.say(
                &self.name,
                format!("ping {} seq={s}: Host is down", self.to),
            );
        }
        if self.next_send.is_some_and(|t| t <= now) && self.sent < self.count {
            self.sent += 1;
            let seq = self.sent;
            self.outstanding.insert(seq, now);
            let r = cx.world.syscall(
                self.node,
                self.pid,
                true,
                "netcontrol",
                &[
                    Value::from(self.to.as_str()),
                    Value::from("ping"),
                    Value::from(seq.to_string()),
                ],
            );
            if let Err(e) = r {
                cx.say(&self.name, format!("ping {}: {e}", self.to));
                self.outstanding.remove(&seq);
            }
            self.next_send = (self.sent < self.count).then(|| now + Duration::from_secs(1));
        }
    }
    fn event(&mut self, cx: &mut Cx<'_>, ev: &EventRecord) {
        if ev.name != "network_event" {
            return;
        }
        let p = &ev.params;
        let seq = p
            .get("payload")
            .get("payload")
            .get("error")
            .as_str()
            .and_then(|s| s.to_string_lossy().parse::<u32>().ok());
        let Some(seq) = seq else { return };
        let Some(&sent_at) = self.outstanding.get(&seq) else {
            return;
        };
        match p
            .get("messageType")
            .as_str()
            .map(|s| s.to_string_lossy())
            .as_deref()
        {
            Some("pong") if p.get("sender") == &Value::from(self.to.as_str()) => {
                self.outstanding.remove(&seq);
                self.replies += 1;
                let rtt = (ev.at - sent_at).as_millis() as u64;
                self.rtts.push(rtt);
                cx.say(
                    &self.name,
                    format!("reply from {}: seq={seq} time={rtt} ms", self.to),
                );
            }
            Some("unreachable") | Some("timeout") => {
                self.outstanding.remove(&seq);
                let err = p
                    .get("error")
                    .as_str()
                    .map(|e| e.to_string_lossy())
                    .unwrap_or_default();
                cx.say(&self.name, format!("ping {} seq={seq}: {err}", self.to));
            }
            _ => {}
        }
    }
    fn done(&self) -> bool {
        self.started && self.sent == self.count && self.outstanding.is_empty()
    }
    fn result(&self) -> (bool, String) {
        let avg = if self.rtts.is_empty() {
            String::new()
        } else {
            format!(
                ", avg {} ms",
                self.rtts.iter().sum::<u64>() / self.rtts.len() as u64
            )
        };
        (
            self.replies > 0,
            format!(
                "{} → {}: {}/{} replies{avg}",
                self.name, self.to, self.replies, self.count
            ),
        )
    }
}

/// `psp_transfer` (and each connection of `psp_mesh`).
pub struct PspTransfer {
    pub(crate) kind: &'static str,
    pub(crate) quiet: bool,
    pub(crate) client: (NodeId, u32, String),
    pub(crate) server: (NodeId, u32, String),
    pub(crate) server_ip: String,
    pub(crate) port: u16,
    pub(crate) data: Vec<u8>,
    pub(crate) chunk: usize,
    pub(crate) start: Instant,
    pub(crate) started: Option<Instant>,
    pub(crate) conn: Option<u64>,
    pub(crate) accepted: Option<u64>,
    pub(crate) received: Vec<u8>,
    pub(crate) finished: Option<Instant>,
    pub(crate) error: Option<String>,
}

impl PspTransfer {
    /// A transfer of `data` from `client` to `server` (node, pid, name) listening on `port` at
    /// `server_ip`, in writes of `chunk` bytes, starting at `start`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        kind: &'static str,
        client: (NodeId, u32, String),
        server: (NodeId, u32, String),
        server_ip: String,
        port: u16,
        data: Vec<u8>,
        chunk: usize,
        start: Instant,
    ) -> Self {
        PspTransfer {
            kind,
            quiet: false,
            client,
            server,
            server_ip,
            port,
            data,
            chunk,
            start,
            started: None,
            conn: None,
            accepted: None,
            received: Vec::new(),
            finished: None,
            error: None,
        }
    }

    fn say(&self, cx: &mut Cx<'_>, who: &str, text: String) {
        if !self.quiet {
            cx.say(who, text);
        }
    }

    fn drain(&mut self, cx: &mut Cx<'_>, id: u64) {
        let (node, pid) = (self.server.0, self.server.1);
        while let Ok(v) = cx.world.method(node, pid, id, "read", &[Value::from("*a")]) {
            match v.first().and_then(Value::as_str) {
                Some(s) if !s.is_empty() => self.received.extend_from_slice(s.as_bytes()),
                _ => break,
            }
        }
    }
}

impl Activity for PspTransfer {
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn processes(&self) -> Vec<(NodeId, u32)> {
        vec![
            (self.client.0, self.client.1),
            (self.server.0, self.server.1),
        ]
    }
    fn wake(&self) -> Option<Instant> {
        self.started.is_none().then_some(self.start)
    }
    fn tick(&mut self, cx: &mut Cx<'_>) {
        if self.started.is_some() {
            return;
        }
        self.started = Some(cx.world.now());
        let listen = format!("psp://0.0.0.0:{}", self.port);
        if let Err(e) = cx.world.syscall(
            self.server.0,
            self.server.1,
            false,
            "listen",
            &[Value::from(listen.as_str())],
        ) {
            self.error = Some(format!("listen: {e}"));
            return;
        }
        self.say(cx, &self.server.2.clone(), format!("listen(\"{listen}\")"));
        let uri = format!("psp://{}:{}", self.server_ip, self.port);
        let r = cx.world.syscall(
            self.client.0,
            self.client.1,
            false,
            "connect",
            &[Value::from(uri.as_str())],
        );
        match handle_of(&r) {
            Some(h) => {
                self.conn = Some(h);
                self.say(
                    cx,
                    &self.client.2.clone(),
                    format!("connect(\"{uri}\") = handle {h}"),
                );
            }
            None => {
                self.error = Some(match r {
                    Err(e) => format!("connect: {e}"),
                    Ok(v) => format!("connect returned no handle: {v:?}"),
                })
            }
        }
    }
    fn event(&mut self, cx: &mut Cx<'_>, ev: &EventRecord) {
        if self.error.is_some() || self.finished.is_some() {
            return;
        }
        let is_client = (ev.node, ev.pid) == (self.client.0, self.client.1);
        if is_client && ev.name == "handle_status_change" && ev_id(ev, "id") == self.conn {
            let status = ev
                .params
                .get("status")
                .as_str()
                .map(|s| s.to_string_lossy())
                .unwrap_or_default();
            match status.as_str() {
                "open" => {
                    let Some(h) = self.conn else { return };
                    let args: Vec<Value> = self
                        .data
                        .chunks(self.chunk.max(1))
                        .map(Value::from)
                        .collect();
                    self.say(
                        cx,
                        &self.client.2.clone(),
                        format!(
                            "handle {h} open; writing {} bytes in {} messages, then close()",
                            self.data.len(),
                            args.len()
                        ),
                    );
                    if let Err(e) = cx
                        .world
                        .method(self.client.0, self.client.1, h, "write", &args)
                    {
                        self.error = Some(format!("write: {e}"));
                        return;
                    }
                    if let Err(e) = cx
                        .world
                        .method(self.client.0, self.client.1, h, "close", &[])
                    {
                        self.error = Some(format!("close: {e}"));
                    }
                }
                "error" => {
                    let e = ev
                        .params
                        .get("error")
                        .as_str()
                        .map(|s| s.to_string_lossy())
                        .unwrap_or_default();
                    self.say(
                        cx,
                        &self.client.2.clone(),
                        format!("connection failed: {e}"),
                    );
                    self.error = Some(e);
                }
                _ => {}
            }
            return;
        }
        if (ev.node, ev.pid) != (self.server.0, self.server.1) {
            return;
        }
        match ev.name {
            "network_request" if self.accepted.is_none() => {
                self.accepted = ev_id(ev, "handle");
                let ip = ev
                    .params
                    .get("ip")
                    .as_str()
                    .map(|s| s.to_string_lossy())
                    .unwrap_or_default();
                self.say(
                    cx,
                    &self.server.2.clone(),
                    format!(
                        "network_request from {ip}: handle {}",
                        self.accepted.unwrap_or(0)
                    ),
                );
            }
            "handle_data_ready" if ev_id(ev, "id") == self.accepted && self.accepted.is_some() => {
                let id = self.accepted.unwrap_or(0);
                self.drain(cx, id);
            }
            "handle_status_change"
                if ev_id(ev, "id") == self.accepted && self.accepted.is_some() =>
            {
                let id = self.accepted.unwrap_or(0);
                self.drain(cx, id);
                let status = ev
                    .params
                    .get("status")
                    .as_str()
                    .map(|s| s.to_string_lossy())
                    .unwrap_or_default();
                if status == "closed" {
                    let now = cx.world.now();
                    self.finished = Some(now);
                    let secs = (now - self.started.unwrap_or(now)).as_secs_f64();
                    let ok = self.received == self.data;
                    self.say(
                        cx,
                        &self.server.2.clone(),
                        format!(
                            "peer closed; received {} bytes in {secs:.1} s, {}",
                            self.received.len(),
                            if ok {
                                "every byte intact"
                            } else {
                                "DATA MISMATCH"
                            }
                        ),
                    );
                } else if status == "error" {
                    self.error = Some(text(ev.params.get("error")));
                }
            }
            _ => {}
        }
    }
    fn done(&self) -> bool {
        self.error.is_some() || self.finished.is_some()
    }
    fn result(&self) -> (bool, String) {
        let ok = self.error.is_none() && self.finished.is_some() && self.received == self.data;
        let secs = match (self.started, self.finished) {
            (Some(s), Some(f)) => (f - s).as_secs_f64(),
            _ => 0.0,
        };
        let detail = match &self.error {
            Some(e) => format!("failed: {e}"),
            None if self.finished.is_none() => format!(
                "unfinished: {}/{} bytes",
                self.received.len(),
                self.data.len()
            ),
            None => format!("{} bytes in {secs:.1} s virtual", self.received.len()),
        };
        (
            ok,
            format!(
                "{} → {}:{}: {detail}",
                self.client.2, self.server.2, self.port
            ),
        )
    }
}

/// `pdp`.
pub struct Pdp {
    pub(crate) client: (NodeId, u32, String),
    pub(crate) server: (NodeId, u32, String),
    pub(crate) server_ip: String,
    pub(crate) port: u16,
    pub(crate) messages: Vec<String>,
    pub(crate) start: Instant,
    pub(crate) started: bool,
    pub(crate) handle: Option<u64>,
    pub(crate) pseudo: Vec<u64>,
    pub(crate) acks: Vec<String>,
    pub(crate) give_up: Option<Instant>,
}

impl Pdp {
    fn serve(&mut self, cx: &mut Cx<'_>, id: u64) {
        let (node, pid) = (self.server.0, self.server.1);
        while let Ok(v) = cx.world.method(node, pid, id, "read", &[]) {
            let Some(m) = v
                .first()
                .and_then(Value::as_str)
                .map(|s| s.to_string_lossy())
            else {
                break;
            };
            cx.say(
                &self.server.2,
                format!("datagram {} on handle {id}; answering", lua_quoted(&m)),
            );
            let _ = cx
                .world
                .method(node, pid, id, "write", &[Value::from(format!("ack:{m}"))]);
        }
    }
}

impl Activity for Pdp {
    fn kind(&self) -> &'static str {
        "pdp"
    }
    fn processes(&self) -> Vec<(NodeId, u32)> {
        vec![
            (self.client.0, self.client.1),
            (self.server.0, self.server.1),
        ]
    }
    fn wake(&self) -> Option<Instant> {
        if self.started {
            self.give_up.filter(|_| !self.done())
        } else {
            Some(self.start)
        }
    }
    fn tick(&mut self, cx: &mut Cx<'_>) {
        let now = cx.world.now();
        if self.started {
            if self.give_up.is_some_and(|t| t <= now) {
                self.give_up = None;
            }
            return;
        }
        self.started = true;
        self.give_up = Some(now + Duration::from_secs(10));
        let listen = format!("pdp://0.0.0.0:{}", self.port);
        let _ = cx.world.syscall(
            self.server.0,
            self.server.1,
            false,
            "listen",
            &[Value::from(listen.as_str())],
        );
        let uri = format!("pdp://{}:{}", self.server_ip, self.port);
        let r = cx.world.syscall(
            self.client.0,
            self.client.1,
            false,
            "connect",
            &[Value::from(uri.as_str())],
        );
        self.handle = handle_of(&r);
        let Some(h) = self.handle else { return };
        for m in self.messages.clone() {
            cx.say(
                &self.client.2,
                format!("datagram {} → {uri}", lua_quoted(&m)),
            );
            let _ = cx.world.method(
                self.client.0,
                self.client.1,
                h,
                "write",
                &[Value::from(m.as_str())],
            );
        }
    }
    fn event(&mut self, cx: &mut Cx<'_>, ev: &EventRecord) {
        if (ev.node, ev.pid) == (self.server.0, self.server.1) {
            let id = match ev.name {
                "network_request" => ev_id(ev, "handle"),
                "handle_data_ready" => ev_id(ev, "id"),
                _ => None,
            };
            if let Some(id) = id {
                if !self.pseudo.contains(&id) {
                    self.pseudo.push(id);
                }
                self.serve(cx, id);
            }
        } else if ev.name == "handle_data_ready" && ev_id(ev, "id") == self.handle {
            let Some(h) = self.handle else { return };
            while let Ok(v) = cx
                .world
                .method(self.client.0, self.client.1, h, "read", &[])
            {
                let Some(m) = v
                    .first()
                    .and_then(Value::as_str)
                    .map(|s| s.to_string_lossy())
                else {
                    break;
                };
                cx.say(&self.client.2, format!("got {}", lua_quoted(&m)));
                self.acks.push(m);
            }
        }
    }
    fn done(&self) -> bool {
        self.started && (self.acks.len() >= self.messages.len() || self.give_up.is_none())
    }
    fn result(&self) -> (bool, String) {
        (
            !self.acks.is_empty(),
            format!(
                "{} → {}:{}: {}/{} datagrams answered (PDP is unreliable)",
                self.client.2,
                self.server.2,
                self.port,
                self.acks.len(),
                self.messages.len()
            ),
        )
    }
}

/// Which side of a rednet chat is which.
#[derive(Clone, Debug)]
pub enum RednetSide {
    /// A Phoenix computer using rednet handles.
    Phoenix {
        /// Node.
        node: NodeId,
        /// Process.
        pid: u32,
    },
    /// A CraftOS computer using the rednet API.
    CraftOs {
        /// Node.
        node: NodeId,
    },
}

/// `rednet_chat`.
pub struct RednetChat {
    pub(crate) from: (RednetSide, u32, String),
    pub(crate) to: (RednetSide, u32, String),
    pub(crate) protocol: Option<String>,
    pub(crate) messages: Vec<String>,
    pub(crate) start: Instant,
    pub(crate) started: bool,
    pub(crate) send_handle: Option<u64>,
    pub(crate) recv_handle: Option<u64>,
    pub(crate) next: usize,
    pub(crate) next_at: Option<Instant>,
    pub(crate) received: Vec<String>,
    pub(crate) until: Option<Instant>,
    pub(crate) poll_at: Option<Instant>,
}

fn id_ip(id: u32) -> String {
    let b = id.to_be_bytes();
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

impl RednetChat {
    fn scheme(&self) -> String {
        match &self.protocol {
            Some(p) => format!("rednet+{p}"),
            None => "rednet".into(),
        }
    }
}

impl Activity for RednetChat {
    fn kind(&self) -> &'static str {
        "rednet_chat"
    }
    fn processes(&self) -> Vec<(NodeId, u32)> {
        let mut v = Vec::new();
        for side in [&self.from.0, &self.to.0] {
            if let RednetSide::Phoenix { node, pid } = side {
                v.push((*node, *pid));
            }
        }
        v
    }
    fn wake(&self) -> Option<Instant> {
        if !self.started {
            return Some(self.start);
        }
        if self.done() {
            return None;
        }
        [self.next_at, self.until, self.poll_at]
            .into_iter()
            .flatten()
            .min()
    }
    fn tick(&mut self, cx: &mut Cx<'_>) {
        let now = cx.world.now();
        if !self.started {
            self.started = true;
            self.next_at = Some(now);
            if let RednetSide::Phoenix { node, pid } = self.to.0 {
                let uri = format!("{}://{}", self.scheme(), id_ip(self.from.1));
                self.recv_handle =
                    handle_of(
                        &cx.world
                            .syscall(node, pid, false, "connect", &[Value::from(uri)]),
                    );
            }
            if let RednetSide::Phoenix { node, pid } = self.from.0 {
                let uri = format!("{}://{}", self.scheme(), id_ip(self.to.1));
                self.send_handle = handle_of(&cx.world.syscall(
                    node,
                    pid,
                    false,
                    "connect",
                    &[Value::from(uri.as_str())],
                ));
                cx.say(&self.from.2, format!("connect(\"{uri}\")"));
            }
        }
        if self.next_at.is_some_and(|t| t <= now) && self.next < self.messages.len() {
            let m = self.messages[self.next].clone();
            self.next += 1;
            cx.say(
                &self.from.2,
                format!("rednet send {} to #{}", lua_quoted(&m), self.to.1),
            );
            match self.from.0 {
                RednetSide::Phoenix { node, pid } => {
                    if let Some(h) = self.send_handle {
                        let _ = cx
                            .world
                            .method(node, pid, h, "write", &[Value::from(m.as_str())]);
                    }
                }
                RednetSide::CraftOs { node } => {
                    let proto = self.protocol.clone().map(|p| p.as_str().into());
                    if let Some(e) = cx.world.craftos_mut(node) {
                        let _ = e.send(now, f64::from(self.to.1), Value::from(m.as_str()), proto);
                    }
                    cx.world.flush();
                }
            }
            self.next_at =
                (self.next < self.messages.len()).then(|| now + Duration::from_millis(500));
            if self.next >= self.messages.len() {
                self.until = Some(now + Duration::from_secs(3));
            }
        }
        if let RednetSide::CraftOs { node } = self.to.0 {
            let from = f64::from(self.from.1);
            let proto = self.protocol.clone();
            let inbox = cx.inboxes.entry(node).or_default();
            let mut mine = Vec::new();
            inbox.retain(|d| {
                let proto_ok = proto
                    .as_deref()
                    .is_none_or(|p| d.protocol == Value::from(p));
                if d.sender == from && proto_ok {
                    mine.push(d.message.to_lua_serialized().to_string_lossy());
                    false
                } else {
                    true
                }
            });
            for m in mine {
                cx.say(
                    &self.to.2,
                    format!("rednet_message from #{}: {m}", self.from.1),
                );
                self.received.push(m);
            }
        }
        if self.until.is_some_and(|t| t <= now) {
            self.until = None;
        }
        // A CraftOS receiver has no events to wake it: look at its inbox every 100 ms.
        self.poll_at = matches!(self.to.0, RednetSide::CraftOs { .. })
            .then(|| now + Duration::from_millis(100));
    }
    fn event(&mut self, cx: &mut Cx<'_>, ev: &EventRecord) {
        let RednetSide::Phoenix { node, pid } = self.to.0 else {
            return;
        };
        if (ev.node, ev.pid) != (node, pid)
            || ev.name != "handle_data_ready"
            || ev_id(ev, "id") != self.recv_handle
        {
            return;
        }
        let Some(h) = self.recv_handle else { return };
        while let Ok(v) = cx.world.method(node, pid, h, "read", &[Value::from("*a")]) {
            let Some(m) = v
                .first()
                .filter(|v| !v.is_nil())
                .map(|v| v.to_lua_serialized().to_string_lossy())
            else {
                break;
            };
            cx.say(&self.to.2, format!("read {m} from #{}", self.from.1));
            self.received.push(m);
        }
    }
    fn done(&self) -> bool {
        self.started
            && (self.received.len() >= self.messages.len()
                || (self.next >= self.messages.len() && self.until.is_none()))
    }
    fn result(&self) -> (bool, String) {
        (
            !self.received.is_empty(),
            format!(
                "{} → {}: {}/{} messages delivered",
                self.from.2,
                self.to.2,
                self.received.len(),
                self.messages.len()
            ),
        )
    }
}

/// `dns_lookup`.
pub struct DnsLookup {
    pub(crate) node: NodeId,
    pub(crate) name: String,
    pub(crate) protocol: String,
    pub(crate) hostname: Option<String>,
    pub(crate) start: Instant,
    pub(crate) request: Option<RequestId>,
    pub(crate) started: bool,
    pub(crate) answer: Option<Vec<f64>>,
    pub(crate) poll_at: Option<Instant>,
}

impl Activity for DnsLookup {
    fn kind(&self) -> &'static str {
        "dns_lookup"
    }
    fn processes(&self) -> Vec<(NodeId, u32)> {
        Vec::new()
    }
    fn wake(&self) -> Option<Instant> {
        if !self.started {
            Some(self.start)
        } else if self.answer.is_none() {
            self.poll_at
        } else {
            None
        }
    }
    fn tick(&mut self, cx: &mut Cx<'_>) {
        let now = cx.world.now();
        if !self.started {
            self.started = true;
            let host = self.hostname.clone().map(|h| h.as_str().into());
            if let Some(e) = cx.world.craftos_mut(self.node) {
                self.request = e.lookup(now, self.protocol.as_str().into(), host).ok();
            }
            cx.world.flush();
            cx.say(
                &self.name,
                match &self.hostname {
                    Some(h) => format!(
                        "rednet.lookup({}, {})",
                        lua_quoted(&self.protocol),
                        lua_quoted(h)
                    ),
                    None => format!("rednet.lookup({})", lua_quoted(&self.protocol)),
                },
            );
        }
        let done = cx.completions.entry(self.node).or_default();
        if let Some(pos) = done.iter().position(|c| Some(c.id()) == self.request) {
            if let Completion::LookedUp { hosts, .. } = done.remove(pos) {
                cx.say(
                    &self.name,
                    format!("lookup answered: {}", lua_returns(&hosts)),
                );
                self.answer = Some(hosts);
            }
        }
        self.poll_at = Some(now + Duration::from_millis(250));
    }
    fn event(&mut self, _cx: &mut Cx<'_>, _ev: &EventRecord) {}
    fn done(&self) -> bool {
        self.answer.is_some()
    }
    fn result(&self) -> (bool, String) {
        let found = self.answer.as_ref().is_some_and(|a| !a.is_empty());
        (
            found,
            format!(
                "{} lookup {}: {}",
                self.name,
                lua_quoted(&self.protocol),
                lua_returns(self.answer.as_deref().unwrap_or_default())
            ),
        )
    }
}

/// `http`.
pub struct Http {
    pub(crate) client: (NodeId, u32, String),
    pub(crate) server: (NodeId, u32, String),
    pub(crate) port: u16,
    pub(crate) path: String,
    pub(crate) start: Instant,
    pub(crate) started: bool,
    pub(crate) handle: Option<u64>,
    pub(crate) body: Option<String>,
    pub(crate) code: Option<u16>,
    pub(crate) error: Option<String>,
}

impl Activity for Http {
    fn kind(&self) -> &'static str {
        "http"
    }
    fn processes(&self) -> Vec<(NodeId, u32)> {
        vec![
            (self.client.0, self.client.1),
            (self.server.0, self.server.1),
        ]
    }
    fn wake(&self) -> Option<Instant> {
        (!self.started).then_some(self.start)
    }
    fn tick(&mut self, cx: &mut Cx<'_>) {
        self.started = true;
        let listen = format!("http://{}:{}", self.server.2, self.port);
        if let Err(e) = cx.world.syscall(
            self.server.0,
            self.server.1,
            false,
            "listen",
            &[Value::from(listen.as_str())],
        ) {
            self.error = Some(format!("listen: {e}"));
            return;
        }
        cx.say(&self.server.2, format!("listen(\"{listen}\")"));
        let url = format!("http://{}:{}{}", self.server.2, self.port, self.path);
        self.handle = handle_of(&cx.world.syscall(
            self.client.0,
            self.client.1,
            false,
            "connect",
            &[Value::from(url.as_str())],
        ));
        let Some(h) = self.handle else {
            self.error = Some("connect failed".into());
            return;
        };
        cx.say(&self.client.2, format!("connect(\"{url}\"); write()"));
        let _ = cx
            .world
            .method(self.client.0, self.client.1, h, "write", &[]);
    }
    fn event(&mut self, cx: &mut Cx<'_>, ev: &EventRecord) {
        if (ev.node, ev.pid) == (self.server.0, self.server.1) && ev.name == "network_request" {
            let Some(r) = ev_id(ev, "handle") else { return };
            let (n, p) = (self.server.0, self.server.1);
            let path = cx
                .world
                .method(n, p, r, "path", &[])
                .ok()
                .and_then(|v| {
                    v.first()
                        .and_then(Value::as_str)
                        .map(|s| s.to_string_lossy())
                })
                .unwrap_or_default();
            cx.say(
                &self.server.2,
                format!("network_request: GET {path}; answering 200"),
            );
            let _ = cx.world.method(
                n,
                p,
                r,
                "setResponseHeader",
                &[Value::from("Content-Type"), Value::from("text/plain")],
            );
            let _ = cx.world.method(
                n,
                p,
                r,
                "write",
                &[Value::from(format!(
                    "Hello from {}, you asked for {path}\n",
                    self.server.2
                ))],
            );
            let _ = cx.world.method(n, p, r, "close", &[]);
        }
        if (ev.node, ev.pid) == (self.client.0, self.client.1)
            && ev.name == "handle_status_change"
            && ev_id(ev, "id") == self.handle
        {
            let Some(h) = self.handle else { return };
            let (n, p) = (self.client.0, self.client.1);
            match ev
                .params
                .get("status")
                .as_str()
                .map(|s| s.to_string_lossy())
                .as_deref()
            {
                Some("open") => {
                    self.code = cx
                        .world
                        .method(n, p, h, "responseCode", &[])
                        .ok()
                        .and_then(|v| v.first().and_then(Value::as_num))
                        .map(|c| c as u16);
                    self.body = cx
                        .world
                        .method(n, p, h, "read", &[Value::from("*a")])
                        .ok()
                        .and_then(|v| {
                            v.first()
                                .and_then(Value::as_str)
                                .map(|s| s.to_string_lossy())
                        });
                    let _ = cx.world.method(n, p, h, "close", &[]);
                    cx.say(
                        &self.client.2,
                        format!(
                            "response {}: {}",
                            self.code.unwrap_or(0),
                            lua_quoted(self.body.as_deref().unwrap_or_default())
                        ),
                    );
                }
                Some("error") => {
                    self.error = Some(text(ev.params.get("error")));
                }
                _ => {}
            }
        }
    }
    fn done(&self) -> bool {
        self.error.is_some() || self.body.is_some()
    }
    fn result(&self) -> (bool, String) {
        match &self.error {
            Some(e) => (
                false,
                format!(
                    "{} GET http://{}:{}{}: {e}",
                    self.client.2, self.server.2, self.port, self.path
                ),
            ),
            None => (
                self.code == Some(200),
                format!(
                    "{} GET http://{}:{}{}: {} ({} bytes)",
                    self.client.2,
                    self.server.2,
                    self.port,
                    self.path,
                    self.code.unwrap_or(0),
                    self.body.as_ref().map_or(0, String::len)
                ),
            ),
        }
    }
}
