//! Building a [`World`] from a [`Scenario`] and running its activities to the end.

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;
use std::time::Instant as WallClock;

use modem_value::{table, Instant, RandomSource, SplitMix64, Value};
use phoenix_netsim::{
    LinkModel, Medium, MediumStats, ModemKind, NodeId, Position, World, WorldStats,
};
use rednet_codec::Delivered;
use syscall_api::{Computer, ComputerConfig, NetworkStack};

use crate::activity::{Activity, Cx, DnsLookup, PspTransfer, RednetChat};
use crate::lua::{Ending, Files, Limits, LuaHost, ProgramSpec};
use crate::scenario::{ActivitySpec, ModemSpec, NodeKind, Scenario, ScenarioError};

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Replace the scenario's seed.
    pub seed: Option<u64>,
    /// Record every transmit as a JSON line.
    pub trace: bool,
    /// The folder `program` paths (and `require`) are relative to; `None` means the programs
    /// built into the binary (those of the repository's `scenarios/`).
    pub folder: Option<std::path::PathBuf>,
}

/// The outcome of one activity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityResult {
    /// Its kind (an activity kind, or a program's file name without `.lua`).
    pub kind: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// Its result line.
    pub detail: String,
}

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct Report {
    /// The scenario's name.
    pub name: String,
    /// The seed used.
    pub seed: u64,
    /// Transcript lines with their virtual time.
    pub transcript: Vec<(Instant, String)>,
    /// One result per activity.
    pub results: Vec<ActivityResult>,
    /// Counters of the world.
    pub world: WorldStats,
    /// Counters of the medium.
    pub medium: MediumStats,
    /// Computers in the world.
    pub computers: usize,
    /// Virtual time at the end.
    pub virtual_ms: u64,
    /// Wall-clock time of the run.
    pub real: std::time::Duration,
    /// Process events raised.
    pub events: u64,
    /// Syscalls and handle method calls made by Lua programs.
    pub lua_syscalls: u64,
    /// The trace (JSON lines), if asked for.
    pub trace: Vec<String>,
}

impl Report {
    /// Whether every activity succeeded.
    pub fn all_ok(&self) -> bool {
        self.results.iter().all(|r| r.ok)
    }

    /// The summary table, as printed at the end of a run.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let mut groups: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for r in &self.results {
            let g = groups.entry(r.kind.as_str()).or_default();
            g.0 += 1;
            g.1 += usize::from(r.ok);
        }
        s.push_str("activity        result\n");
        for r in self
            .results
            .iter()
            .filter(|r| groups[r.kind.as_str()].0 <= 8)
        {
            s.push_str(&format!(
                "{:<15} {} {}\n",
                r.kind,
                if r.ok { "ok  " } else { "FAIL" },
                r.detail
            ));
        }
        for (kind, (n, ok)) in groups.iter().filter(|(_, (n, _))| *n > 8) {
            s.push_str(&format!(
                "{kind:<15} {} {ok}/{n} succeeded\n",
                if ok == n { "ok  " } else { "FAIL" }
            ));
        }
        let real = self.real.as_secs_f64().max(1e-9);
        let virt = self.virtual_ms as f64 / 1000.0;
        // Events per *virtual* second describe the simulated network; per real second they
        // would only describe the machine running it. A run that ends at t = 0 has no rate.
        let per_virtual = if self.virtual_ms > 0 {
            format!("{:.0} per virtual s", self.events as f64 / virt)
        } else {
            "all at t = 0".to_string()
        };
        s.push_str(&format!(
            "\ncomputers {:>10}\nmessages  {:>10}  (transmits; {} deliveries, {} lost, {} duplicated)\nbytes     {:>10}  (PSP payload; {} over simulated TCP)\nretransm. {:>10}  (PSP segments sent again)\nevents    {:>10}  ({per_virtual})\nvirtual   {:>9.3}s\nreal      {:>9.3}s  ({:.0} deliveries per real s)\n",
            self.computers,
            self.world.transmits,
            self.world.deliveries,
            self.medium.lost,
            self.medium.duplicated,
            self.world.psp_payload_bytes,
            self.world.tcp_bytes,
            self.world.psp_retransmissions,
            self.events,
            virt,
            self.real.as_secs_f64(),
            self.world.deliveries as f64 / real,
        ));
        if self.lua_syscalls > 0 {
            s.push_str(&format!(
                "lua calls {:>10}  (syscalls and handle methods from Lua; {:.0}/s of the whole run)\n",
                self.lua_syscalls,
                self.lua_syscalls as f64 / real
            ));
        }
        s
    }
}

fn modem_kind(m: &ModemSpec) -> Result<ModemKind, ScenarioError> {
    let p = |a: [f64; 3]| Position::new(a[0], a[1], a[2]);
    match (m.wireless, m.ender, m.cable, m.at) {
        (Some(w), None, None, None) => Ok(ModemKind::Wireless(p(w))),
        (None, Some(e), None, None) => Ok(ModemKind::Ender(p(e))),
        (None, None, Some(c), at) => Ok(ModemKind::Wired {
            cable: c,
            at: p(at.unwrap_or([0.0; 3])),
        }),
        _ => Err(ScenarioError::Invalid(format!(
            "modem {} needs exactly one of wireless, ender or cable",
            m.device
        ))),
    }
}

struct Built {
    world: World,
    names: BTreeMap<String, NodeId>,
    ids: BTreeMap<String, u32>,
    ips: BTreeMap<String, String>,
    kinds: BTreeMap<String, NodeKind>,
    crowds: BTreeMap<String, Vec<String>>,
    lua: LuaHost,
}

/// Crowd members configured per flush while building.
const CROWD_CHUNK: u32 = 128;

/// A scenario's program fields as a [`ProgramSpec`] (`None` without `program`).
fn program_spec(
    program: &Option<String>,
    args: &[toml::Value],
    root: bool,
    daemon: bool,
    expect: &Option<String>,
) -> Result<Option<ProgramSpec>, ScenarioError> {
    let Some(path) = program else {
        return Ok(None);
    };
    let args = args
        .iter()
        .map(|a| match a {
            toml::Value::String(s) => Ok(Value::from(s.as_str())),
            toml::Value::Integer(i) => Ok(Value::Num(*i as f64)),
            toml::Value::Float(f) => Ok(Value::Num(*f)),
            toml::Value::Boolean(b) => Ok(Value::Bool(*b)),
            other => Err(ScenarioError::Invalid(format!(
                "{path}: argument {other} is not a string, number or boolean"
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(ProgramSpec {
        path: path.clone(),
        args,
        root,
        daemon,
        expect: expect.clone(),
    }))
}

/// Builds the world; with `check_only`, programs are read and compiled but get no Lua state.
fn build(
    scn: &Scenario,
    seed: u64,
    files: &Files,
    check_only: bool,
) -> Result<Built, ScenarioError> {
    let limits = Limits {
        instructions: scn.lua.instructions,
        memory: usize::try_from(scn.lua.memory_kb.saturating_mul(1024)).unwrap_or(usize::MAX),
        ..Limits::default()
    };
    let link = LinkModel {
        loss: scn.link.loss,
        duplicate: scn.link.duplicate,
        latency_min_ms: scn.link.latency_min_ms,
        latency_max_ms: scn.link.latency_max_ms,
    };
    let mut rng = SplitMix64::new(seed);
    let mut world = World::new(Medium::with_link(link, rng.next_u64()));
    let mut b = Built {
        world: World::new(Medium::new()),
        names: BTreeMap::new(),
        ids: BTreeMap::new(),
        ips: BTreeMap::new(),
        kinds: BTreeMap::new(),
        crowds: BTreeMap::new(),
        lua: if check_only {
            LuaHost::checker(limits)
        } else {
            LuaHost::new(limits)
        },
    };
    let bad = |m: String| ScenarioError::Invalid(m);
    for n in &scn.nodes {
        if b.names.contains_key(&n.name) {
            return Err(bad(format!("two nodes are named {}", n.name)));
        }
        let modems: Vec<(String, ModemKind)> = n
            .modems
            .iter()
            .map(|m| Ok((m.device.clone(), modem_kind(m)?)))
            .collect::<Result<_, ScenarioError>>()?;
        let refs: Vec<(&str, ModemKind)> = modems.iter().map(|(d, k)| (d.as_str(), *k)).collect();
        let node_seed = rng.next_u64();
        let node = match n.kind {
            NodeKind::Phoenix => {
                let mut cfg = sim_config(n.id);
                cfg.forwarding = n.router;
                cfg.psp.selective_ack = n.psp_selective_ack;
                let node = world.add_computer(cfg, &refs, &n.name, node_seed);
                for ip in &n.ip {
                    world
                        .syscall(
                            node,
                            0,
                            true,
                            "ipconfig",
                            &[
                                Value::from(ip.device.as_str()),
                                table! {"ip" => ip.ip.as_str(), "netmask" => ip.netmask},
                            ],
                        )
                        .map_err(|e| bad(format!("{}: ipconfig {}: {e}", n.name, ip.device)))?;
                }
                for r in &n.routes {
                    let mut t = table! {"source" => r.source.as_str(), "sourceNetmask" => r.netmask, "action" => r.action.as_str()};
                    if let Value::Table(tt) = &mut t {
                        if let Some(d) = &r.device {
                            tt.set("device", Value::from(d.as_str()));
                        }
                        if let Some(g) = &r.gateway {
                            tt.set("destination", Value::from(g.as_str()));
                        }
                    }
                    world
                        .syscall(node, 0, true, "routeadd", &[t])
                        .map_err(|e| {
                            bad(format!(
                                "{}: routeadd {}/{}: {e}",
                                n.name, r.source, r.netmask
                            ))
                        })?;
                }
                for d in &n.dns {
                    let now = world.now();
                    world
                        .computer_mut(node)
                        .rednet_host(now, &d.protocol, &d.hostname)
                        .map_err(|e| bad(format!("{}: dns {}: {e}", n.name, d.hostname)))?;
                    world.flush();
                }
                node
            }
            NodeKind::Repeater => world.add_repeater(n.id, &refs, node_seed),
            NodeKind::Craftos => world.add_craftos(n.id, &refs, node_seed),
        };
        if let Some(spec) = program_spec(&n.program, &n.args, n.root, n.daemon, &n.expect)? {
            if n.kind != NodeKind::Phoenix {
                return Err(bad(format!(
                    "{}: only Phoenix computers run programs",
                    n.name
                )));
            }
            b.lua
                .add(node, &n.name, spec, files, node_seed.rotate_left(29))
                .map_err(|e| bad(format!("{}: {e}", n.name)))?;
        }
        b.names.insert(n.name.clone(), node);
        b.ids.insert(n.name.clone(), n.id);
        b.kinds.insert(n.name.clone(), n.kind);
        if let Some(ip) = n.ip.first() {
            b.ips.insert(n.name.clone(), ip.ip.clone());
        }
    }
    for c in &scn.crowds {
        let first: Ipv4Addr = c
            .first_ip
            .parse()
            .map_err(|_| bad(format!("crowd {}: bad first_ip", c.prefix)))?;
        let mut members = Vec::new();
        // Members are configured in chunks whose outputs are applied together: each member's
        // collision probe still reaches exactly the members configured before it, and every
        // computer takes a chunk's probes in a row instead of one flush per probe walking all
        // of them (see `World::flush`).
        let mut next = 0;
        while next < c.count {
            let chunk = next..(next + CROWD_CHUNK).min(c.count);
            next = chunk.end;
            let mut added = Vec::new();
            for i in chunk {
                let name = format!("{}{i}", c.prefix);
                let id = c.first_id + i;
                let ip = Ipv4Addr::from(u32::from(first).wrapping_add(i)).to_string();
                let kind = match c.cable {
                    Some(cable) => ModemKind::Wired {
                        cable,
                        at: Position::new(f64::from(i), 64.0, 0.0),
                    },
                    None => {
                        let x = rng.unit_f64() * c.side;
                        let z = rng.unit_f64() * c.side;
                        ModemKind::Wireless(Position::new(x, 64.0, z))
                    }
                };
                let node_seed = rng.next_u64();
                let node = world.add_computer(sim_config(id), &[("/top", kind)], &name, node_seed);
                if let Some(spec) = program_spec(&c.program, &c.args, c.root, c.daemon, &c.expect)?
                {
                    b.lua
                        .add(node, &name, spec, files, node_seed.rotate_left(29))
                        .map_err(|e| bad(format!("{name}: {e}")))?;
                }
                added.push((node, name, id, ip));
            }
            let now = world.now();
            for (node, name, id, ip) in added {
                let index = id - c.first_id;
                // Validation configures a stand-alone computer for the first and the last member
                // only (the others differ in their address alone): configuring them all in the
                // world would deliver every member's collision probe to every other, most of a
                // large scenario's start-up, twice.
                let mut alone = None;
                let computer = if !check_only {
                    world.computer_mut(node)
                } else if index == 0 || index + 1 == c.count {
                    let cfg = ComputerConfig::new(id, &["/top"]);
                    alone.insert(Computer::new(cfg, &mut SplitMix64::new(u64::from(id))))
                } else {
                    b.names.insert(name.clone(), node);
                    b.ids.insert(name.clone(), id);
                    b.kinds.insert(name.clone(), NodeKind::Phoenix);
                    b.ips.insert(name.clone(), ip);
                    members.push(name);
                    continue;
                };
                computer
                    .syscall(
                        now,
                        0,
                        true,
                        "ipconfig",
                        &[
                            Value::from("/top"),
                            table! {"ip" => ip.as_str(), "netmask" => c.netmask},
                        ],
                    )
                    .map_err(|e| bad(format!("{name}: ipconfig: {e}")))?;
                if let Some(g) = &c.gateway {
                    let route = table! {"source" => "0.0.0.0", "sourceNetmask" => 0,
                    "action" => "unicast", "device" => "/top", "destination" => g.as_str()};
                    computer
                        .syscall(now, 0, true, "routeadd", &[route])
                        .map_err(|e| bad(format!("{name}: routeadd via {g}: {e}")))?;
                }
                b.names.insert(name.clone(), node);
                b.ids.insert(name.clone(), id);
                b.kinds.insert(name.clone(), NodeKind::Phoenix);
                b.ips.insert(name.clone(), ip);
                members.push(name);
            }
            world.flush();
        }
        b.crowds.insert(c.prefix.clone(), members);
    }
    b.world = world;
    Ok(b)
}

/// Every PSP peer in a simulation is this workspace's, which re-sends ACK-only messages, so
/// skipping a stalled gap (meant for Phoenix 0.0.9 peers' lost ACK-only messages) is off: delivery
/// is exact under any loss. For the same reason simulated computers agree on selective
/// acknowledgements (a node can say `psp_selective_ack = false`).
fn sim_config(id: u32) -> ComputerConfig {
    let mut cfg = ComputerConfig::new(id, &[]);
    cfg.psp.skip_stalled_gaps = false;
    cfg.psp.selective_ack = true;
    cfg
}

fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut r = SplitMix64::new(seed);
    let mut v = vec![0u8; len];
    r.fill_bytes(&mut v);
    v
}

fn activities(
    scn: &Scenario,
    b: &Built,
    seed: u64,
) -> Result<Vec<Box<dyn Activity>>, ScenarioError> {
    let mut out: Vec<Box<dyn Activity>> = Vec::new();
    let mut pid = 100u32;
    let mut next_pid = || {
        pid += 1;
        pid
    };
    let node = |n: &str| {
        b.names
            .get(n)
            .copied()
            .ok_or_else(|| ScenarioError::Invalid(format!("no node named {n}")))
    };
    let ip_of = |n: &str| {
        b.ips
            .get(n)
            .cloned()
            .ok_or_else(|| ScenarioError::Invalid(format!("{n} has no IP")))
    };
    let mut rng = SplitMix64::new(seed ^ 0x5eed);
    for a in &scn.activities {
        match a {
            ActivitySpec::RednetChat {
                at_ms,
                from,
                to,
                protocol,
                messages,
            } => {
                let side = |n: &str| -> Result<(Option<NodeId>, u32, String), ScenarioError> {
                    let id = b
                        .ids
                        .get(n)
                        .copied()
                        .ok_or_else(|| ScenarioError::Invalid(format!("no node named {n}")))?;
                    let craftos = match b.kinds.get(n) {
                        Some(NodeKind::Craftos) => Some(node(n)?),
                        Some(NodeKind::Phoenix) => None,
                        _ => return Err(ScenarioError::Invalid(format!("{n} cannot chat"))),
                    };
                    Ok((craftos, id, n.to_string()))
                };
                let from = side(from)?;
                let to = side(to)?;
                if from.0.is_none() && to.0.is_none() {
                    return Err(ScenarioError::Invalid(format!(
                        "rednet_chat {} → {}: Phoenix computers chat with Lua programs",
                        from.2, to.2
                    )));
                }
                out.push(Box::new(RednetChat {
                    from,
                    to,
                    protocol: protocol.clone(),
                    messages: messages.clone(),
                    start: Instant::from_millis(*at_ms),
                    started: false,
                    next: 0,
                    next_at: None,
                    received: Vec::new(),
                    until: None,
                    poll_at: None,
                }))
            }
            ActivitySpec::DnsLookup {
                at_ms,
                from,
                protocol,
                hostname,
            } => {
                if b.kinds.get(from.as_str()) != Some(&NodeKind::Craftos) {
                    return Err(ScenarioError::Invalid(format!(
                        "{from} is not a CraftOS node"
                    )));
                }
                out.push(Box::new(DnsLookup {
                    node: node(from)?,
                    name: from.clone(),
                    protocol: protocol.clone(),
                    hostname: hostname.clone(),
                    start: Instant::from_millis(*at_ms),
                    request: None,
                    started: false,
                    answer: None,
                    poll_at: None,
                }))
            }
            ActivitySpec::PspMesh {
                at_ms,
                crowd,
                connections,
                bytes,
                port,
            } => {
                let members = b
                    .crowds
                    .get(crowd)
                    .ok_or_else(|| ScenarioError::Invalid(format!("no crowd {crowd}")))?;
                if members.len() < 2 {
                    return Err(ScenarioError::Invalid(format!(
                        "crowd {crowd} is too small"
                    )));
                }
                for i in 0..*connections {
                    let n = members.len() as u64;
                    let s = rng.range_inclusive(0, n - 1) as usize;
                    let mut c = rng.range_inclusive(0, n - 2) as usize;
                    if c >= s {
                        c += 1;
                    }
                    let (sn, cn) = (&members[s], &members[c]);
                    let mut t = PspTransfer::new(
                        "psp_mesh",
                        (node(cn)?, next_pid(), cn.clone()),
                        (node(sn)?, next_pid(), sn.clone()),
                        ip_of(sn)?,
                        port.wrapping_add(i as u16).max(1),
                        payload(*bytes, rng.next_u64()),
                        256,
                        Instant::from_millis(*at_ms),
                    );
                    // A thousand transfers would drown the transcript; the summary counts them.
                    t.quiet = true;
                    out.push(Box::new(t));
                }
            }
        }
    }
    Ok(out)
}

/// Most rounds of events and ticks handled at one instant before time must move on.
const MAX_ROUNDS_PER_INSTANT: usize = 100_000;

/// Finds every error [`run`] would report for `scenario` (names, references, modem kinds,
/// crowd and chat definitions) without running it, so a caller can refuse a scenario before
/// printing anything.
pub fn check(scenario: &Scenario, options: &RunOptions) -> Result<(), ScenarioError> {
    let seed = options.seed.unwrap_or(scenario.seed);
    let b = build(scenario, seed, &files_of(options), true)?;
    activities(scenario, &b, seed)?;
    Ok(())
}

fn files_of(options: &RunOptions) -> Files {
    match &options.folder {
        Some(d) => Files::Dir(d.clone()),
        None => Files::Builtin,
    }
}

/// Runs `scenario`; `progress` is called about once a second of wall time with a status line,
/// and `line` with each transcript line as it happens.
pub fn run(
    scenario: &Scenario,
    options: &RunOptions,
    mut progress: impl FnMut(&str),
    mut line: impl FnMut(Instant, &str),
) -> Result<Report, ScenarioError> {
    let started = WallClock::now();
    let seed = options.seed.unwrap_or(scenario.seed);
    let mut b = build(scenario, seed, &files_of(options), false)?;
    if options.trace {
        b.world.enable_trace();
    }
    let mut acts = activities(scenario, &b, seed)?;
    let mut route: BTreeMap<(NodeId, u32), Vec<usize>> = BTreeMap::new();
    for (i, a) in acts.iter().enumerate() {
        for p in a.processes() {
            route.entry(p).or_default().push(i);
        }
    }
    let craftos: Vec<NodeId> = b
        .kinds
        .iter()
        .filter(|(_, k)| **k == NodeKind::Craftos)
        .filter_map(|(n, _)| b.names.get(n).copied())
        .collect();
    let end = Instant::from_millis(scenario.duration_ms);
    let mut log: Vec<(Instant, String)> = Vec::new();
    let mut printed = 0usize;
    let mut inboxes: BTreeMap<NodeId, VecDeque<Delivered>> = BTreeMap::new();
    let mut completions = BTreeMap::new();
    let mut events = 0u64;
    let mut last_progress = WallClock::now();
    // Setup events (none expected) are not part of the run.
    b.world.take_events();
    // Activities' calls in one round are applied together (see `World::set_deferred`).
    b.world.set_deferred(true);
    loop {
        for _ in 0..MAX_ROUNDS_PER_INSTANT {
            for &n in &craftos {
                inboxes
                    .entry(n)
                    .or_default()
                    .extend(b.world.take_rednet_inbox(n));
                completions
                    .entry(n)
                    .or_insert_with(Vec::new)
                    .extend(b.world.take_completions(n));
            }
            let evs = b.world.take_events();
            let now = b.world.now();
            let due: Vec<usize> = (0..acts.len())
                .filter(|&i| !acts[i].done() && acts[i].wake().is_some_and(|t| t <= now))
                .collect();
            for ev in &evs {
                b.lua.deliver(&b.world, ev);
            }
            if evs.is_empty() && due.is_empty() && !b.lua.has_work(now) {
                break;
            }
            b.lua.run(&mut b.world);
            log.extend(b.lua.take_log());
            events += evs.len() as u64;
            let mut cx = Cx {
                world: &mut b.world,
                log: &mut log,
                inboxes: &mut inboxes,
                completions: &mut completions,
            };
            for ev in &evs {
                if let Some(list) = route.get(&(ev.node, ev.pid)) {
                    for &i in list {
                        acts[i].event(&mut cx, ev);
                    }
                }
            }
            for i in due {
                acts[i].tick(&mut cx);
            }
            b.world.flush();
        }
        for (t, l) in &log[printed..] {
            line(*t, l);
        }
        printed = log.len();
        if acts.iter().all(|a| a.done()) && b.lua.finished() {
            break;
        }
        let next = acts
            .iter()
            .filter(|a| !a.done())
            .filter_map(|a| a.wake())
            .chain(b.world.next_deadline())
            .chain(b.lua.next_wake())
            .min();
        match next {
            Some(t) if t <= end => b.world.run_until(t.max(b.world.now())),
            _ => {
                b.world.run_until(end);
                break;
            }
        }
        if last_progress.elapsed().as_secs() >= 1 {
            last_progress = WallClock::now();
            let done = acts.iter().filter(|a| a.done()).count();
            progress(&format!(
                "t={:.1}s  activities {done}/{}  transmits {}  events {events}",
                b.world.now().as_secs_f64(),
                acts.len(),
                b.world.stats().transmits
            ));
        }
    }
    let mut results: Vec<ActivityResult> = b
        .lua
        .outcomes()
        .into_iter()
        .filter(|o| !o.spec.daemon || !o.ok())
        .map(|o| {
            let kind = o
                .spec
                .path
                .rsplit('/')
                .next()
                .unwrap_or(&o.spec.path)
                .trim_end_matches(".lua")
                .to_string();
            let detail = match &o.ending {
                Ending::Crashed(e) => {
                    format!("{}: stopped: {}", o.node, e.lines().next().unwrap_or(""))
                }
                Ending::Running if !o.spec.daemon => format!("{}: still running", o.node),
                Ending::Exited(v) if v != "nil" && v != "true" && v != "0" => {
                    format!("{}: exit {v}", o.node)
                }
                _ if o.spec.expect.is_some() && !o.expected_seen => format!(
                    "{}: never printed {:?}",
                    o.node,
                    o.spec.expect.clone().unwrap_or_default()
                ),
                _ => format!("{}: {}", o.node, o.last_line.clone().unwrap_or_default()),
            };
            ActivityResult {
                ok: o.ok(),
                kind,
                detail,
            }
        })
        .collect();
    results.extend(acts.iter().map(|a| {
        let (ok, detail) = a.result();
        ActivityResult {
            kind: a.kind().to_string(),
            ok: ok && a.done(),
            detail,
        }
    }));
    let trace = b.world.trace().iter().map(|t| t.to_json_line()).collect();
    Ok(Report {
        name: scenario.name.clone(),
        seed,
        transcript: log,
        results,
        world: b.world.stats(),
        medium: b.world.medium().stats(),
        computers: b.world.len(),
        virtual_ms: b.world.now().as_millis(),
        real: started.elapsed(),
        events,
        lua_syscalls: b.lua.syscalls,
        trace,
    })
}
