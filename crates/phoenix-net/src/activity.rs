//! Activities: what the simulator itself drives where no Lua program does — the CraftOS side
//! of rednet (`rednet_chat`, `dns_lookup`) and the many PSP connections of a scale run
//! (`psp_mesh`). Phoenix computers run Lua programs instead ([`crate::lua`]).
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

fn ev_id(ev: &EventRecord, field: &str) -> Option<u64> {
    ev.params.get(field).as_num().map(|n| n as u64)
}

/// One connection of `psp_mesh`: a listener, a client that writes and closes, a check of every
/// byte.
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

/// `rednet_chat`: the CraftOS side(s) of a rednet chat. A CraftOS `from` sends the messages
/// half a second apart with `rednet.send`; a CraftOS `to` receives and checks them. A Phoenix side
/// is its Lua program's job (rednet handles), which reports through its own result.
pub struct RednetChat {
    /// Sender: CraftOS node (or `None` for a Phoenix program), computer ID, name.
    pub(crate) from: (Option<NodeId>, u32, String),
    /// Receiver: CraftOS node (or `None` for a Phoenix program), computer ID, name.
    pub(crate) to: (Option<NodeId>, u32, String),
    pub(crate) protocol: Option<String>,
    pub(crate) messages: Vec<String>,
    pub(crate) start: Instant,
    pub(crate) started: bool,
    pub(crate) next: usize,
    pub(crate) next_at: Option<Instant>,
    pub(crate) received: Vec<String>,
    pub(crate) until: Option<Instant>,
    pub(crate) poll_at: Option<Instant>,
}

/// How long a CraftOS receiver waits for a Phoenix program's messages.
const PROGRAM_CHAT_WAIT: Duration = Duration::from_secs(15);

impl Activity for RednetChat {
    fn kind(&self) -> &'static str {
        "rednet_chat"
    }
    fn processes(&self) -> Vec<(NodeId, u32)> {
        Vec::new()
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
            if self.from.0.is_some() {
                self.next_at = Some(now);
            } else {
                self.next = self.messages.len();
                self.until = Some(now + PROGRAM_CHAT_WAIT);
            }
        }
        if let (Some(node), true) = (
            self.from.0,
            self.next_at.is_some_and(|t| t <= now) && self.next < self.messages.len(),
        ) {
            let m = self.messages[self.next].clone();
            self.next += 1;
            cx.say(
                &self.from.2,
                format!("rednet send {} to #{}", lua_quoted(&m), self.to.1),
            );
            let proto = self.protocol.clone().map(|p| p.as_str().into());
            if let Some(e) = cx.world.craftos_mut(node) {
                let _ = e.send(now, f64::from(self.to.1), Value::from(m.as_str()), proto);
            }
            cx.world.flush();
            self.next_at =
                (self.next < self.messages.len()).then(|| now + Duration::from_millis(500));
            if self.next >= self.messages.len() {
                self.until = Some(now + Duration::from_secs(3));
            }
        }
        if let Some(node) = self.to.0 {
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
        self.poll_at = self.to.0.map(|_| now + Duration::from_millis(100));
    }
    fn event(&mut self, _cx: &mut Cx<'_>, _ev: &EventRecord) {}
    fn done(&self) -> bool {
        self.started
            && self.next >= self.messages.len()
            && (self.to.0.is_none()
                || self.received.len() >= self.messages.len()
                || self.until.is_none())
    }
    fn result(&self) -> (bool, String) {
        if self.to.0.is_none() {
            return (
                true,
                format!(
                    "{} → {}: {} messages sent (the program checks them)",
                    self.from.2,
                    self.to.2,
                    self.messages.len()
                ),
            );
        }
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
