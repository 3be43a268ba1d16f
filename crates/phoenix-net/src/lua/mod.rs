//! Lua programs on simulated Phoenix computers: one Lua 5.2 state per computer, Phoenix's
//! process ABI, a sandbox and limits (documented in `docs/lua-programs.md`).
//!
//! A program runs as a process whose main function is a coroutine. It makes a syscall by
//! yielding `"syscall", name, args…` and is resumed at once with `true, results…` or
//! `false, message`; any other yield waits for the next event of its process and is resumed with
//! the event's name and parameter table. The kernel here serves the networking syscalls through
//! [`World::syscall`]/[`World::method`] (so errors are the stack's exact texts), the process
//! subset (`getpid`, `getppid`, `clock`, `timer`, `cancel`, `exit`, `queueEvent`, `newthread`,
//! `syslog`) itself, and turns handle ids into handle objects whose methods call the stack.
//!
//! Everything is driven by the world's virtual clock, computers run in node order and processes
//! in pid order, `pairs` and `math.random` are deterministic: the same scenario and seed give the
//! same transcript and trace.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use mlua::{
    Function, HookTriggers, Lua, LuaOptions, MultiValue, StdLib, Thread, ThreadStatus, VmState,
};
use modem_value::lua::{convert, HostValue, LuaHeap, Policy};
use modem_value::{Duration, Instant, LuaStr, RandomSource, SplitMix64, Table, Value};
use phoenix_netsim::{EventRecord, NodeId, World};
use syscall_api::io::HandleId;
use syscall_api::{registry, HandleKind, NetworkStack};

const PRELUDE: &str = include_str!("prelude.lua");

/// The programs shipped in the repository's `scenarios/programs/`, built into the binary for
/// the built-in scenario (paths relative to `scenarios/`).
pub const BUILTIN_PROGRAMS: &[(&str, &str)] = &[
    (
        "programs/ping.lua",
        include_str!("../../scenarios/programs/ping.lua"),
    ),
    (
        "programs/psp_server.lua",
        include_str!("../../scenarios/programs/psp_server.lua"),
    ),
    (
        "programs/psp_client.lua",
        include_str!("../../scenarios/programs/psp_client.lua"),
    ),
    (
        "programs/pdp_echo.lua",
        include_str!("../../scenarios/programs/pdp_echo.lua"),
    ),
    (
        "programs/pdp_client.lua",
        include_str!("../../scenarios/programs/pdp_client.lua"),
    ),
    (
        "programs/rednet_chat.lua",
        include_str!("../../scenarios/programs/rednet_chat.lua"),
    ),
    (
        "programs/name_server.lua",
        include_str!("../../scenarios/programs/name_server.lua"),
    ),
    (
        "programs/name_lookup.lua",
        include_str!("../../scenarios/programs/name_lookup.lua"),
    ),
    (
        "programs/http_server.lua",
        include_str!("../../scenarios/programs/http_server.lua"),
    ),
    (
        "programs/http_client.lua",
        include_str!("../../scenarios/programs/http_client.lua"),
    ),
    (
        "programs/lib/bytes.lua",
        include_str!("../../scenarios/programs/lib/bytes.lua"),
    ),
    (
        "programs/neighbour.lua",
        include_str!("../../scenarios/programs/neighbour.lua"),
    ),
];

/// Where program files (and what they `require`) come from.
#[derive(Clone, Debug)]
pub enum Files {
    /// A scenario's folder on disk: `program` paths and `require` names resolve inside it.
    Dir(PathBuf),
    /// [`BUILTIN_PROGRAMS`].
    Builtin,
}

impl Files {
    /// The text of `rel` (a relative path with `/` separators), refusing anything that would
    /// leave the folder.
    pub fn read(&self, rel: &str) -> Result<String, String> {
        let p = Path::new(rel);
        if rel.contains('\\')
            || !p
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(format!("{rel}: outside the scenario's folder"));
        }
        match self {
            Files::Builtin => BUILTIN_PROGRAMS
                .iter()
                .find(|(n, _)| *n == rel)
                .map(|(_, s)| s.to_string())
                .ok_or_else(|| format!("{rel}: no such file")),
            Files::Dir(d) => std::fs::read_to_string(d.join(p)).map_err(|e| format!("{rel}: {e}")),
        }
    }
}

/// Limits of every computer's Lua state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Lua VM instructions a process may run per wake-up (start, or one event).
    pub instructions: u64,
    /// Bytes the computer's Lua state may hold.
    pub memory: usize,
    /// Wake-ups a computer may have at one virtual instant before its next ones wait 1 ms (a
    /// program that queues an event for itself forever still lets time move).
    pub wakeups_per_instant: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            instructions: 2_000_000,
            memory: 16 << 20,
            wakeups_per_instant: 10_000,
        }
    }
}

/// What to run on one computer.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramSpec {
    /// The file, relative to the scenario's folder.
    pub path: String,
    /// The main function's arguments.
    pub args: Vec<Value>,
    /// Whether the process may make root-only syscalls.
    pub root: bool,
    /// A daemon is not waited for and only reported when it fails.
    pub daemon: bool,
    /// A line the program must print (a substring) for its run to count as a success.
    pub expect: Option<String>,
}

/// How a program ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Still running when the run stopped.
    Running,
    /// Returned or called `exit`; the exit value as text (`nil` when none).
    Exited(String),
    /// Raised an error or exceeded a limit; the message with its traceback.
    Crashed(String),
}

/// One program's outcome.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The computer's name.
    pub node: String,
    /// The program's spec.
    pub spec: ProgramSpec,
    /// How it ended.
    pub ending: Ending,
    /// Its last printed line.
    pub last_line: Option<String>,
    /// Whether it printed a line containing `spec.expect`.
    pub expected_seen: bool,
}

impl Outcome {
    /// Success: exited with nil, true or 0, and printed the expected line if one is named.
    pub fn ok(&self) -> bool {
        let exit_ok = match &self.ending {
            Ending::Exited(v) => v == "nil" || v == "true" || v == "0",
            Ending::Running => self.spec.daemon,
            Ending::Crashed(_) => false,
        };
        exit_ok && (self.spec.expect.is_none() || self.expected_seen)
    }
}

/// Lua values as the workspace's converter sees them.
struct Heap;

fn host_value(v: &mlua::Value) -> HostValue<mlua::Table> {
    match v {
        mlua::Value::Nil => HostValue::Nil,
        mlua::Value::Boolean(b) => HostValue::Bool(*b),
        mlua::Value::Integer(i) => HostValue::Num(*i as f64),
        mlua::Value::Number(n) => HostValue::Num(*n),
        mlua::Value::String(s) => HostValue::Str(LuaStr::from(s.as_bytes().to_vec())),
        mlua::Value::Table(t) => HostValue::Table(t.clone()),
        other => HostValue::Other {
            type_name: other.type_name(),
            text: LuaStr::from(format!("{}: {:p}", other.type_name(), other.to_pointer())),
        },
    }
}

impl LuaHeap for Heap {
    type Table = mlua::Table;
    fn identity(&self, t: &mlua::Table) -> usize {
        t.to_pointer() as usize
    }
    fn pairs(&self, t: &mlua::Table) -> Vec<(HostValue<mlua::Table>, HostValue<mlua::Table>)> {
        let mut out = Vec::new();
        let _ = t.for_each(|k: mlua::Value, v: mlua::Value| {
            out.push((host_value(&k), host_value(&v)));
            Ok(())
        });
        out
    }
}

/// A Lua value as a stack [`Value`] (deep copy; functions dropped as CC:Tweaked does).
fn to_value(v: &mlua::Value) -> Result<Value, String> {
    convert(&Heap, &host_value(v), Policy::CcTweaked).map_err(|e| e.to_string())
}

/// A stack [`Value`] as a Lua value.
fn to_lua(lua: &Lua, v: &Value) -> mlua::Result<mlua::Value> {
    Ok(match v {
        Value::Nil => mlua::Value::Nil,
        Value::Bool(b) => mlua::Value::Boolean(*b),
        Value::Num(n) => mlua::Value::Number(*n),
        Value::Str(s) => mlua::Value::String(lua.create_string(s.as_bytes())?),
        Value::Table(t) => {
            let out = lua.create_table_with_capacity(0, t.len())?;
            for (k, val) in t.iter() {
                out.raw_set(to_lua(lua, k)?, to_lua(lua, val)?)?;
            }
            mlua::Value::Table(out)
        }
    })
}

/// State the Rust helpers inside a Lua state share with the kernel.
struct Shared {
    log: RefCell<Vec<String>>,
    killed: Cell<bool>,
    budget: Cell<i64>,
    over: Cell<Option<&'static str>>,
    /// Where the program was at the last budget check (`file:line`), for errors that carry no
    /// position of their own (running out of memory).
    last_pos: RefCell<String>,
    now: Cell<Instant>,
    rng: RefCell<SplitMix64>,
    files: Files,
    dir: String,
}

/// Hook granularity: the budget is checked every this many VM instructions.
const HOOK_EVERY: u32 = 1000;

struct Th {
    thread: Thread,
    start: Option<MultiValue>,
}

struct Proc {
    ppid: u32,
    threads: Vec<Th>,
    queue: VecDeque<(mlua::Value, mlua::Value)>,
}

/// Most events waiting in one process's queue; further ones are dropped (a program that never
/// waits must not grow the simulator without bound).
const MAX_QUEUE: usize = 4096;

struct Computer {
    lua: Lua,
    k_handle: Function,
    /// Method names per handle kind (`None`: a handle already gone), as Lua sequences.
    method_names: BTreeMap<Option<HandleKind>, mlua::Table>,
    name: String,
    node: NodeId,
    shared: Rc<Shared>,
    procs: BTreeMap<u32, Proc>,
    next_tid: u32,
    next_timer: u64,
    timers: BTreeMap<u64, (Instant, u64)>,
    ready_at: Option<Instant>,
    wakeups: (Instant, u32),
    exit_value: Option<String>,
    outcome: Outcome,
}

/// What a thread's run ended with.
enum Stop {
    Waiting,
    Finished(MultiValue),
    Exit(String),
    Crashed(String),
}

/// Every Lua computer of a run.
pub struct LuaHost {
    computers: BTreeMap<NodeId, Computer>,
    /// `(ready_at, node)` of every computer with work, so a run never scans them all.
    ready: BTreeSet<(Instant, NodeId)>,
    /// Non-daemon programs still running.
    running: usize,
    timers: BTreeMap<(Instant, u64), (NodeId, u32, u64)>,
    timer_seq: u64,
    limits: Limits,
    /// Syscalls (and handle method calls) made by programs.
    pub syscalls: u64,
    /// Transcript lines not yet taken.
    log: Vec<(Instant, String)>,
    /// A host that only checks programs: one scratch state and the paths already compiled.
    checker: Option<(Lua, BTreeSet<String>)>,
}

/// The pid of a computer's program.
pub const MAIN_PID: u32 = 1;

fn lua_err(e: mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { traceback, cause } => {
            format!("{}\n{traceback}", lua_err((*cause).clone()))
        }
        mlua::Error::RuntimeError(s) => s,
        mlua::Error::SyntaxError { message, .. } => message,
        mlua::Error::MemoryError(s) => format!("not enough memory ({s})"),
        mlua::Error::WithContext { context, cause } => {
            format!("{context}: {}", lua_err((*cause).clone()))
        }
        other => other.to_string(),
    }
}

fn text_of(v: &mlua::Value) -> String {
    match v {
        mlua::Value::Nil => "nil".into(),
        mlua::Value::Boolean(b) => b.to_string(),
        mlua::Value::Integer(i) => i.to_string(),
        mlua::Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
        mlua::Value::Number(n) => n.to_string(),
        mlua::Value::String(s) => s.to_string_lossy(),
        other => other.type_name().to_string(),
    }
}

impl LuaHost {
    /// An empty host with `limits`.
    pub fn new(limits: Limits) -> Self {
        LuaHost {
            computers: BTreeMap::new(),
            ready: BTreeSet::new(),
            running: 0,
            timers: BTreeMap::new(),
            timer_seq: 0,
            limits,
            syscalls: 0,
            log: Vec::new(),
            checker: None,
        }
    }

    /// A host whose [`LuaHost::add`] only reads and compiles each distinct program once (what
    /// checking a scenario needs, without a Lua state per computer).
    pub fn checker(limits: Limits) -> Self {
        let mut h = LuaHost::new(limits);
        h.checker = Some((
            Lua::new_with(StdLib::NONE, LuaOptions::default()).expect("a bare Lua state"),
            BTreeSet::new(),
        ));
        h
    }

    /// Loads `spec` on Phoenix computer `node` (named `name`), seeding its `math.random` with
    /// `seed`. The program starts at the first [`LuaHost::run`].
    pub fn add(
        &mut self,
        node: NodeId,
        name: &str,
        spec: ProgramSpec,
        files: &Files,
        seed: u64,
    ) -> Result<(), String> {
        let source = files.read(&spec.path)?;
        if let Some((lua, seen)) = &mut self.checker {
            if seen.insert(spec.path.clone()) {
                lua.load(source.as_str())
                    .set_name(format!("@{}", spec.path))
                    .set_mode(mlua::ChunkMode::Text)
                    .into_function()
                    .map_err(lua_err)?;
            }
            return Ok(());
        }
        let dir = match spec.path.rfind('/') {
            Some(i) => spec.path[..i + 1].to_string(),
            None => String::new(),
        };
        let lua = Lua::new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::COROUTINE | StdLib::BIT,
            LuaOptions::default(),
        )
        .map_err(lua_err)?;
        let shared = Rc::new(Shared {
            log: RefCell::new(Vec::new()),
            killed: Cell::new(false),
            budget: Cell::new(0),
            over: Cell::new(None),
            last_pos: RefCell::new(String::new()),
            now: Cell::new(Instant::ZERO),
            rng: RefCell::new(SplitMix64::new(seed)),
            files: files.clone(),
            dir,
        });
        let k = install(&lua, &shared).map_err(lua_err)?;
        let get = |n: &str| k.get::<Function>(n).map_err(lua_err);
        let (k_handle, k_program) = (get("handle")?, get("program")?);
        let (main, err): (Option<Function>, Option<String>) = k_program
            .call((source, spec.path.as_str()))
            .map_err(lua_err)?;
        let main = main.ok_or_else(|| err.unwrap_or_default())?;
        let thread = lua.create_thread(main).map_err(lua_err)?;
        let mut args = MultiValue::new();
        for a in &spec.args {
            args.push_back(to_lua(&lua, a).map_err(lua_err)?);
        }
        // The heap the kernel itself uses is not the program's to spend.
        let base = lua.used_memory();
        lua.set_memory_limit(base + self.limits.memory)
            .map_err(lua_err)?;
        let mut procs = BTreeMap::new();
        procs.insert(
            MAIN_PID,
            Proc {
                ppid: 0,
                threads: vec![Th {
                    thread,
                    start: Some(args),
                }],
                queue: VecDeque::new(),
            },
        );
        if !spec.daemon {
            self.running += 1;
        }
        self.ready.insert((Instant::ZERO, node));
        let outcome = Outcome {
            node: name.to_string(),
            spec,
            ending: Ending::Running,
            last_line: None,
            expected_seen: false,
        };
        self.computers.insert(
            node,
            Computer {
                lua,
                k_handle,
                method_names: BTreeMap::new(),
                name: name.to_string(),
                node,
                shared,
                procs,
                next_tid: 1,
                next_timer: 1,
                timers: BTreeMap::new(),
                ready_at: Some(Instant::ZERO),
                wakeups: (Instant::ZERO, 0),
                exit_value: None,
                outcome,
            },
        );
        Ok(())
    }

    /// Whether no program runs.
    pub fn is_empty(&self) -> bool {
        self.computers.is_empty()
    }

    /// Hands a world event to the process it is for (if it is a Lua process); a
    /// `network_request`'s handle becomes a handle object.
    pub fn deliver(&mut self, world: &World, ev: &EventRecord) {
        let Some(c) = self.computers.get_mut(&ev.node) else {
            return;
        };
        if !c.procs.contains_key(&ev.pid) {
            return;
        }
        let Ok(params) = to_lua(&c.lua, &ev.params) else {
            return;
        };
        if let (mlua::Value::Table(t), "network_request") = (&params, ev.name) {
            if let Ok(Some(id)) = t.get::<Option<f64>>("handle") {
                let Ok(h) = c.handle_object(world, id) else {
                    return;
                };
                let _ = t.set("handle", h);
            }
        }
        let Ok(name) = c.lua.create_string(ev.name) else {
            return;
        };
        let name = mlua::Value::String(name);
        let before = c.ready_at;
        c.push_event(ev.pid, name, params, ev.at);
        let after = c.ready_at;
        self.reindex(ev.node, before, after);
    }

    fn reindex(&mut self, node: NodeId, before: Option<Instant>, after: Option<Instant>) {
        if before != after {
            if let Some(t) = before {
                self.ready.remove(&(t, node));
            }
            if let Some(t) = after {
                self.ready.insert((t, node));
            }
        }
    }

    /// The earliest instant some program needs to run (a due timer or pending events).
    pub fn next_wake(&self) -> Option<Instant> {
        let t = self.timers.keys().next().map(|k| k.0);
        let r = self.ready.iter().next().map(|k| k.0);
        [t, r].into_iter().flatten().min()
    }

    /// Whether some program has work at `now`.
    pub fn has_work(&self, now: Instant) -> bool {
        self.next_wake().is_some_and(|t| t <= now)
    }

    /// Whether every non-daemon program has ended.
    pub fn finished(&self) -> bool {
        self.running == 0
    }

    /// Takes the transcript lines produced since the last call.
    pub fn take_log(&mut self) -> Vec<(Instant, String)> {
        std::mem::take(&mut self.log)
    }

    /// Every program's outcome, in node order.
    pub fn outcomes(&self) -> Vec<Outcome> {
        self.computers.values().map(|c| c.outcome.clone()).collect()
    }

    /// Fires due timers and runs every computer that has work at the world's current time.
    pub fn run(&mut self, world: &mut World) {
        let now = world.now();
        while let Some((&(t, seq), &(node, pid, id))) = self.timers.iter().next() {
            if t > now {
                break;
            }
            self.timers.remove(&(t, seq));
            if let Some(c) = self.computers.get_mut(&node) {
                c.timers.remove(&id);
                let mut p = Table::with_capacity(1);
                p.set("id", Value::from(id));
                let before = c.ready_at;
                if let (Ok(name), Ok(params)) = (
                    c.lua.create_string("timer"),
                    to_lua(&c.lua, &Value::Table(p)),
                ) {
                    c.push_event(pid, mlua::Value::String(name), params, now);
                }
                let after = c.ready_at;
                self.reindex(node, before, after);
            }
        }
        let due: Vec<NodeId> = self
            .ready
            .range(..=(now, NodeId::MAX))
            .map(|(_, n)| *n)
            .collect();
        for node in due {
            let Some(mut c) = self.computers.remove(&node) else {
                continue;
            };
            let before = c.ready_at;
            let was_running = !c.outcome.spec.daemon && c.outcome.ending == Ending::Running;
            c.run(world, self);
            if was_running && c.outcome.ending != Ending::Running {
                self.running -= 1;
            }
            let after = c.ready_at;
            self.computers.insert(node, c);
            self.reindex(node, before, after);
        }
    }
}

impl Computer {
    /// The handle object of handle `id`, with the methods the stack's registry gives its kind.
    fn handle_object(&mut self, world: &World, id: f64) -> mlua::Result<mlua::Value> {
        let kind = world
            .computer(self.node)
            .and_then(|c| c.handle_kind(HandleId(id as u64)));
        let names = match self.method_names.get(&kind) {
            Some(t) => t.clone(),
            None => {
                let t = match kind {
                    Some(k) => self
                        .lua
                        .create_sequence_from(registry::methods_of(k).map(|m| m.name))?,
                    None => self
                        .lua
                        .create_sequence_from(["status", "read", "write", "close"])?,
                };
                self.method_names.insert(kind, t.clone());
                t
            }
        };
        self.k_handle.call((id, names))
    }

    fn push_event(&mut self, pid: u32, name: mlua::Value, params: mlua::Value, at: Instant) {
        let Some(p) = self.procs.get_mut(&pid) else {
            return;
        };
        if p.queue.len() >= MAX_QUEUE {
            return;
        }
        p.queue.push_back((name, params));
        self.ready_at = Some(self.ready_at.map_or(at, |r| r.min(at)));
    }

    fn say(&self, host: &mut LuaHost, now: Instant, text: String) {
        host.log.push((now, format!("{}: {text}", self.name)));
    }

    fn flush_log(&mut self, host: &mut LuaHost, now: Instant) {
        let lines = std::mem::take(&mut *self.shared.log.borrow_mut());
        for l in lines {
            if let Some(e) = &self.outcome.spec.expect {
                if l.contains(e.as_str()) {
                    self.outcome.expected_seen = true;
                }
            }
            self.outcome.last_line = Some(l.clone());
            host.log.push((now, format!("{}: {l}", self.name)));
        }
    }

    /// Runs every process with work until all wait (or the wake-up cap defers the rest).
    fn run(&mut self, world: &mut World, host: &mut LuaHost) {
        let now = world.now();
        self.shared.now.set(now);
        if self.wakeups.0 != now {
            self.wakeups = (now, 0);
        }
        self.ready_at = None;
        loop {
            let next = self.procs.iter().find_map(|(pid, p)| {
                let fresh = p.threads.iter().position(|t| t.start.is_some());
                match fresh {
                    Some(i) => Some((*pid, Some(i))),
                    None if !p.queue.is_empty() => Some((*pid, None)),
                    None => None,
                }
            });
            let Some((pid, fresh)) = next else { break };
            if self.wakeups.1 >= host.limits.wakeups_per_instant {
                self.ready_at = Some(now + Duration::from_millis(1));
                break;
            }
            self.wakeups.1 += 1;
            match fresh {
                Some(i) => {
                    let args = self
                        .procs
                        .get_mut(&pid)
                        .and_then(|p| p.threads[i].start.take())
                        .unwrap_or_default();
                    self.wake(world, host, pid, i, args);
                }
                None => {
                    let Some((name, params)) =
                        self.procs.get_mut(&pid).and_then(|p| p.queue.pop_front())
                    else {
                        continue;
                    };
                    let n = self.procs.get(&pid).map_or(0, |p| p.threads.len());
                    for i in 0..n {
                        let args: MultiValue = [name.clone(), params.clone()].into_iter().collect();
                        if !self.wake(world, host, pid, i, args) {
                            break;
                        }
                    }
                }
            }
            self.flush_log(host, now);
        }
        self.flush_log(host, now);
        // Events that arrived for this computer while it ran.
        if self.procs.values().any(|p| !p.queue.is_empty()) && self.ready_at.is_none() {
            self.ready_at = Some(now);
        }
    }

    /// Runs thread `i` of `pid` with `input` until it waits; false if the process ended.
    fn wake(
        &mut self,
        world: &mut World,
        host: &mut LuaHost,
        pid: u32,
        i: usize,
        input: MultiValue,
    ) -> bool {
        let Some(th) = self.procs.get(&pid).and_then(|p| p.threads.get(i)) else {
            return false;
        };
        let thread = th.thread.clone();
        if thread.status() != ThreadStatus::Resumable {
            return true;
        }
        self.shared.budget.set(host.limits.instructions as i64);
        self.shared.killed.set(false);
        self.shared.over.set(None);
        self.shared.last_pos.borrow_mut().clear();
        let stop = self.drive(world, host, pid, &thread, input);
        let now = world.now();
        match stop {
            Stop::Waiting => true,
            Stop::Finished(vals) if i == 0 => {
                let v = vals.front().map_or_else(|| "nil".to_string(), text_of);
                self.end_process(world, host, pid, Ending::Exited(v));
                false
            }
            Stop::Finished(_) => {
                // A finished extra thread is just gone; indices of the others stay valid
                // until the process ends.
                true
            }
            Stop::Exit(v) => {
                self.end_process(world, host, pid, Ending::Exited(v));
                false
            }
            Stop::Crashed(msg) => {
                self.flush_log(host, now);
                self.say(host, now, format!("process {pid} stopped: {msg}"));
                self.end_process(world, host, pid, Ending::Crashed(msg));
                false
            }
        }
    }

    fn end_process(&mut self, world: &mut World, host: &mut LuaHost, pid: u32, ending: Ending) {
        let now = world.now();
        self.flush_log(host, now);
        self.procs.remove(&pid);
        let mine: Vec<(u64, (Instant, u64))> = self
            .timers
            .iter()
            .map(|(id, v)| (*id, *v))
            .filter(|(id, (t, seq))| {
                host.timers
                    .get(&(*t, *seq))
                    .is_some_and(|(_, p, tid)| *p == pid && tid == id)
            })
            .collect();
        for (id, (t, seq)) in mine {
            self.timers.remove(&id);
            host.timers.remove(&(t, seq));
        }
        world.computer_mut(self.node).exit_process(now, pid);
        world.flush();
        if pid == MAIN_PID {
            self.outcome.ending = ending;
        }
        // Unreachable threads and handles go now, not at some later collection.
        let _ = self.lua.gc_collect();
    }

    fn drive(
        &mut self,
        world: &mut World,
        host: &mut LuaHost,
        pid: u32,
        thread: &Thread,
        mut input: MultiValue,
    ) -> Stop {
        loop {
            let r = thread.resume::<MultiValue>(input);
            let vals = match r {
                Err(e) => {
                    let memory = matches!(e, mlua::Error::MemoryError(_));
                    let mut msg = lua_err(e);
                    if memory {
                        msg = format!("{msg}; last seen at {}", self.shared.last_pos.borrow());
                    }
                    if let Some(why) = self.shared.over.get() {
                        msg = format!("{why}\n{msg}");
                    }
                    return Stop::Crashed(msg);
                }
                Ok(v) => v,
            };
            if thread.status() != ThreadStatus::Resumable {
                return Stop::Finished(vals);
            }
            let is_syscall = matches!(vals.front(), Some(mlua::Value::String(s)) if s.as_bytes() == b"syscall".as_slice());
            if !is_syscall {
                return Stop::Waiting;
            }
            host.syscalls += 1;
            let mut it = vals.into_iter();
            it.next();
            let name = match it.next() {
                Some(mlua::Value::String(s)) => s.to_string_lossy(),
                _ => String::new(),
            };
            let args: Vec<mlua::Value> = it.collect();
            let result = match self.syscall(world, host, pid, &name, args) {
                Ok(Some(vals)) => {
                    let mut out = MultiValue::new();
                    out.push_back(mlua::Value::Boolean(true));
                    out.extend(vals);
                    out
                }
                Ok(None) => {
                    let v = self.exit_value.take().unwrap_or_else(|| "nil".into());
                    return Stop::Exit(v);
                }
                Err(msg) => {
                    let mut out = MultiValue::new();
                    out.push_back(mlua::Value::Boolean(false));
                    match self.lua.create_string(&msg) {
                        Ok(s) => out.push_back(mlua::Value::String(s)),
                        Err(e) => return Stop::Crashed(lua_err(e)),
                    }
                    out
                }
            };
            input = result;
        }
    }

    /// One syscall: `Ok(Some(results))`, `Err(message)`, or `Ok(None)` for `exit` (its value,
    /// as text, left in `exit_value`).
    fn syscall(
        &mut self,
        world: &mut World,
        host: &mut LuaHost,
        pid: u32,
        name: &str,
        args: Vec<mlua::Value>,
    ) -> Result<Option<Vec<mlua::Value>>, String> {
        let now = world.now();
        let lua = self.lua.clone();
        let num = |i: usize| -> Result<f64, String> {
            match args.get(i) {
                Some(mlua::Value::Integer(n)) => Ok(*n as f64),
                Some(mlua::Value::Number(n)) => Ok(*n),
                other => Err(format!(
                    "bad argument #{} (expected number, got {})",
                    i + 1,
                    other.map_or("nil", |v| v.type_name())
                )),
            }
        };
        let one = |v: mlua::Value| Ok(Some(vec![v]));
        match name {
            "getpid" => one(mlua::Value::Number(f64::from(pid))),
            "getppid" => one(mlua::Value::Number(f64::from(
                self.procs.get(&pid).map_or(0, |p| p.ppid),
            ))),
            "clock" => one(mlua::Value::Number(now.as_secs_f64())),
            "timer" => {
                let secs = num(0)?;
                if !secs.is_finite() || secs < 0.0 {
                    return Err("bad argument #1 (number out of range)".into());
                }
                let ms = (secs * 1000.0).ceil().min(1e15) as u64;
                let id = self.next_timer;
                self.next_timer += 1;
                let at = now + Duration::from_millis(ms);
                host.timer_seq += 1;
                host.timers
                    .insert((at, host.timer_seq), (self.node, pid, id));
                self.timers.insert(id, (at, host.timer_seq));
                one(mlua::Value::Number(id as f64))
            }
            "cancel" => {
                let id = num(0)? as u64;
                if let Some((t, seq)) = self.timers.remove(&id) {
                    host.timers.remove(&(t, seq));
                }
                Ok(Some(vec![]))
            }
            "exit" => {
                let v = args.first().map_or_else(|| "nil".to_string(), text_of);
                self.exit_value = Some(v);
                Ok(None)
            }
            "queueEvent" => {
                let ev = match args.first() {
                    Some(s @ mlua::Value::String(_)) => s.clone(),
                    other => {
                        return Err(format!(
                            "bad argument #1 (expected string, got {})",
                            other.map_or("nil", |v| v.type_name())
                        ))
                    }
                };
                let params = match args.get(1) {
                    Some(t @ mlua::Value::Table(_)) => t.clone(),
                    None | Some(mlua::Value::Nil) => {
                        mlua::Value::Table(lua.create_table().map_err(lua_err)?)
                    }
                    Some(other) => {
                        return Err(format!(
                            "bad argument #2 (expected table, got {})",
                            other.type_name()
                        ))
                    }
                };
                self.push_event(pid, ev, params, now);
                Ok(Some(vec![]))
            }
            "newthread" => {
                let f = match args.first() {
                    Some(mlua::Value::Function(f)) => f.clone(),
                    other => {
                        return Err(format!(
                            "bad argument #1 (expected function, got {})",
                            other.map_or("nil", |v| v.type_name())
                        ))
                    }
                };
                let thread = lua.create_thread(f).map_err(lua_err)?;
                let rest: MultiValue = args.into_iter().skip(1).collect();
                let tid = self.next_tid;
                self.next_tid += 1;
                if let Some(p) = self.procs.get_mut(&pid) {
                    p.threads.push(Th {
                        thread,
                        start: Some(rest),
                    });
                }
                self.ready_at = Some(now);
                one(mlua::Value::Number(f64::from(tid)))
            }
            "syslog" => {
                let mut parts = Vec::new();
                let tag = match args.first() {
                    Some(mlua::Value::Table(t)) => {
                        let level: Option<String> = t.get("level").ok();
                        let module: Option<String> = t.get("module").ok();
                        [module, level]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" ")
                    }
                    Some(v) => {
                        parts.push(text_of(v));
                        String::new()
                    }
                    None => String::new(),
                };
                parts.extend(args.iter().skip(1).map(text_of));
                let tag = if tag.is_empty() { "syslog".into() } else { tag };
                self.shared
                    .log
                    .borrow_mut()
                    .push(format!("[{tag}] {}", parts.join(" ")));
                Ok(Some(vec![]))
            }
            "__handlecall" => {
                let id = num(0)?;
                let method = match args.get(1) {
                    Some(mlua::Value::String(s)) => s.to_string_lossy(),
                    _ => return Err("No such method".into()),
                };
                let rest = args[2..]
                    .iter()
                    .map(to_value)
                    .collect::<Result<Vec<_>, _>>()?;
                let r = world
                    .method(self.node, pid, id as u64, &method, &rest)
                    .map_err(|e| e.to_string())?;
                self.results(&r)
            }
            _ => {
                let vals = args.iter().map(to_value).collect::<Result<Vec<_>, _>>()?;
                let r = world
                    .syscall(self.node, pid, self.outcome.spec.root, name, &vals)
                    .map_err(|e| e.to_string())?;
                let mut out = self.results(&r)?.unwrap_or_default();
                if name == "connect" {
                    if let Some(mlua::Value::Number(id)) = out.first().cloned() {
                        out[0] = self.handle_object(world, id).map_err(lua_err)?;
                    }
                }
                Ok(Some(out))
            }
        }
    }

    fn results(&self, r: &[Value]) -> Result<Option<Vec<mlua::Value>>, String> {
        r.iter()
            .map(|v| to_lua(&self.lua, v).map_err(lua_err))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

/// Sets up the sandbox and limits of a fresh state; returns the kernel's private table.
fn install(lua: &Lua, shared: &Rc<Shared>) -> mlua::Result<mlua::Table> {
    let r = lua.create_table()?;
    let s = shared.clone();
    r.set(
        "log",
        lua.create_function(move |_, line: mlua::String| {
            s.log.borrow_mut().push(line.to_string_lossy());
            Ok(())
        })?,
    )?;
    let s = shared.clone();
    r.set(
        "killed",
        lua.create_function(move |_, ()| Ok(s.killed.get()))?,
    )?;
    let s = shared.clone();
    r.set(
        "clock",
        lua.create_function(move |_, ()| Ok(s.now.get().as_secs_f64()))?,
    )?;
    let s = shared.clone();
    r.set(
        "random",
        lua.create_function(move |_, (m, n): (Option<f64>, Option<f64>)| {
            let x = s.rng.borrow_mut().unit_f64();
            let range = |lo: f64, hi: f64| -> mlua::Result<f64> {
                if lo > hi {
                    return Err(mlua::Error::RuntimeError(
                        "bad argument to 'random' (interval is empty)".into(),
                    ));
                }
                Ok((lo + (x * (hi - lo + 1.0)).floor()).min(hi))
            };
            match (m, n) {
                (None, _) => Ok(x),
                (Some(m), None) => range(1.0, m.floor()),
                (Some(m), Some(n)) => range(m.floor(), n.floor()),
            }
        })?,
    )?;
    let s = shared.clone();
    r.set(
        "randomseed",
        lua.create_function(move |_, seed: f64| {
            *s.rng.borrow_mut() = SplitMix64::new(seed.to_bits());
            Ok(())
        })?,
    )?;
    let s = shared.clone();
    r.set(
        "require_source",
        lua.create_function(move |lua, name: String| {
            let bad = name.is_empty()
                || name.starts_with('.')
                || name.contains("..")
                || name.contains('/')
                || name.contains('\\');
            let rel = format!("{}{}.lua", s.dir, name.replace('.', "/"));
            let not_found = || {
                (
                    mlua::Value::Nil,
                    mlua::Value::String(
                        lua.create_string(format!(
                            "module '{name}' not found (only Lua files of the scenario's folder can be required)"
                        ))
                        .expect("a short string"),
                    ),
                )
            };
            if bad {
                return Ok(not_found());
            }
            match s.files.read(&rel) {
                Ok(src) => Ok((
                    mlua::Value::String(lua.create_string(src)?),
                    mlua::Value::String(lua.create_string(&rel)?),
                )),
                Err(_) => Ok(not_found()),
            }
        })?,
    )?;
    let k: mlua::Table = lua.load(PRELUDE).set_name("=kernel").call(r)?;
    let s = shared.clone();
    lua.set_global_hook(
        HookTriggers::new().every_nth_instruction(HOOK_EVERY),
        move |_, debug| {
            let left = s.budget.get() - i64::from(HOOK_EVERY);
            s.budget.set(left);
            let src = debug.source();
            let pos = format!(
                "{}:{}",
                src.short_src.as_deref().unwrap_or("?"),
                debug.current_line().unwrap_or(0)
            );
            if left < 0 {
                s.killed.set(true);
                s.over
                    .set(Some("instruction budget of one wake-up exceeded"));
                return Err(mlua::Error::RuntimeError(format!(
                    "{pos}: too long without yielding"
                )));
            }
            *s.last_pos.borrow_mut() = pos;
            Ok(VmState::Continue)
        },
    )?;
    Ok(k)
}
