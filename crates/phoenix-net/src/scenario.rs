//! Scenario files: the world (computers, modems, addresses, routes) and what happens in it.
//!
//! A scenario is a TOML document (examples in the repository's `scenarios/`):
//!
//! ```toml
//! name = "two computers"
//! seed = 7                       # every random choice of the run derives from it
//! duration_ms = 20000            # virtual time limit
//!
//! [link]                         # optional: imperfections of every modem link
//! loss = 0.05                    # probability a copy is lost
//! duplicate = 0.0                # probability a copy arrives twice
//! latency_min_ms = 5
//! latency_max_ms = 40
//!
//! [[node]]
//! name = "a"                     # also its HTTP host name
//! id = 1                         # computer ID
//! kind = "phoenix"               # phoenix | repeater | craftos
//! router = false                 # forward packets for others
//! modems = [{ device = "/top", wireless = [0, 64, 0] }]   # or ender = [..], or cable = 1, at = [..]
//! ip = [{ device = "/top", ip = "10.0.0.1", netmask = 24 }]
//! routes = [{ source = "0.0.0.0", netmask = 0, action = "unicast", device = "/top", gateway = "10.0.0.254" }]
//! dns = [{ protocol = "chat", hostname = "alice" }]
//! program = "programs/ping.lua"  # a Lua program, relative to the scenario's folder
//! args = ["10.0.0.2", 3]         # its arguments
//! root = true                    # root-only syscalls allowed (default)
//! daemon = false                 # not waited for; reported only when it fails
//! expect = "3/3 replies"         # a line it must print to succeed
//!
//! [lua]                          # optional limits of every computer's Lua state
//! instructions = 2000000         # VM instructions per wake-up
//! memory_kb = 16384
//!
//! [[node]]
//! name = "cc"
//! id = 9
//! kind = "craftos"
//! modems = [{ device = "back", wireless = [-50, 64, 0] }]
//!
//! [[activity]]                   # what the CraftOS side does: rednet_chat | dns_lookup | psp_mesh
//! kind = "rednet_chat"
//! at_ms = 0
//! from = "cc"
//! to = "a"
//! protocol = "chat"
//! messages = ["hello"]
//! ```
//!
//! Programs are described in the repository's `docs/lua-programs.md`. `[[crowd]]` tables add many
//! similar Phoenix computers at once (for scale runs): `count`, `first_id`, `first_ip`
//! (consecutive addresses), `netmask`, a square area of side `side` blocks on which their wireless
//! modems are placed at random (or `cable = N`: wired modems on cable network N), an optional
//! default route (`gateway`), and the same program fields as a node.

use serde::Deserialize;

/// A whole scenario file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Title for the transcript.
    pub name: String,
    /// Seed of every random choice of the run.
    #[serde(default)]
    pub seed: u64,
    /// Virtual time limit in milliseconds (default 120 000).
    #[serde(default = "default_duration")]
    pub duration_ms: u64,
    /// Link imperfections.
    #[serde(default)]
    pub link: Link,
    /// The computers.
    #[serde(default, rename = "node")]
    pub nodes: Vec<NodeSpec>,
    /// Limits of the Lua programs.
    #[serde(default)]
    pub lua: LuaLimits,
    /// Generated computers.
    #[serde(default, rename = "crowd")]
    pub crowds: Vec<Crowd>,
    /// What happens.
    #[serde(default, rename = "activity")]
    pub activities: Vec<ActivitySpec>,
}

fn default_duration() -> u64 {
    120_000
}

/// `[link]`.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Link {
    /// Loss probability per copy.
    #[serde(default)]
    pub loss: f64,
    /// Duplication probability per copy.
    #[serde(default)]
    pub duplicate: f64,
    /// Fewest milliseconds per copy.
    #[serde(default)]
    pub latency_min_ms: u64,
    /// Most milliseconds per copy.
    #[serde(default)]
    pub latency_max_ms: u64,
}

/// `[lua]`: limits of every computer's Lua state.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LuaLimits {
    /// VM instructions a process may run per wake-up (default 2 000 000).
    #[serde(default = "default_instructions")]
    pub instructions: u64,
    /// Kibibytes a computer's programs may allocate (default 16 384).
    #[serde(default = "default_memory_kb")]
    pub memory_kb: u64,
}

impl Default for LuaLimits {
    fn default() -> Self {
        LuaLimits {
            instructions: default_instructions(),
            memory_kb: default_memory_kb(),
        }
    }
}

fn default_instructions() -> u64 {
    2_000_000
}
fn default_memory_kb() -> u64 {
    16 * 1024
}
fn default_true() -> bool {
    true
}

/// What runs on a node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// A Phoenix computer (the whole stack).
    #[default]
    Phoenix,
    /// A CraftOS computer running `repeat`.
    Repeater,
    /// A CraftOS computer using the `rednet` API.
    Craftos,
}

/// `[[node]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Unique name; the HTTP host name of the node.
    pub name: String,
    /// Computer ID.
    pub id: u32,
    /// What runs on it.
    #[serde(default)]
    pub kind: NodeKind,
    /// Router mode.
    #[serde(default)]
    pub router: bool,
    /// Offer and accept PSP selective acknowledgements (`PspConfig::selective_ack`; default
    /// true: every PSP peer in a simulation is this workspace's). `false` gives the computer
    /// the wire behaviour of a default `Computer`.
    #[serde(default = "default_true")]
    pub psp_selective_ack: bool,
    /// Its modems.
    pub modems: Vec<ModemSpec>,
    /// Interface addresses (Phoenix nodes).
    #[serde(default)]
    pub ip: Vec<IpSpec>,
    /// Routes added to table 1 (Phoenix nodes).
    #[serde(default)]
    pub routes: Vec<RouteSpec>,
    /// Rednet DNS names it answers for (Phoenix nodes).
    #[serde(default)]
    pub dns: Vec<DnsSpec>,
    /// A Lua program (a file relative to the scenario's folder, e.g. `programs/ping.lua`).
    #[serde(default)]
    pub program: Option<String>,
    /// Arguments of the program's main function (strings, numbers, booleans).
    #[serde(default)]
    pub args: Vec<toml::Value>,
    /// Whether the program may make root-only syscalls (default true).
    #[serde(default = "default_true")]
    pub root: bool,
    /// A daemon program is not waited for and only reported when it fails.
    #[serde(default)]
    pub daemon: bool,
    /// A substring of a line the program must print to succeed.
    #[serde(default)]
    pub expect: Option<String>,
}

/// One modem and where it is.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModemSpec {
    /// Device path (`/top`) for Phoenix, side name (`top`) for CraftOS nodes.
    pub device: String,
    /// A wireless modem at `[x, y, z]`.
    #[serde(default)]
    pub wireless: Option<[f64; 3]>,
    /// An ender modem at `[x, y, z]`.
    #[serde(default)]
    pub ender: Option<[f64; 3]>,
    /// A wired modem on this cable network…
    #[serde(default)]
    pub cable: Option<u32>,
    /// …at `[x, y, z]`.
    #[serde(default)]
    pub at: Option<[f64; 3]>,
}

/// An interface address.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IpSpec {
    /// The modem.
    pub device: String,
    /// Dotted address.
    pub ip: String,
    /// Prefix length.
    pub netmask: u8,
}

/// A route for table 1.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSpec {
    /// Network address.
    pub source: String,
    /// Prefix length.
    pub netmask: u8,
    /// `unicast`, `local`, `broadcast`, `unreachable`, `prohibit`, `blackhole`.
    pub action: String,
    /// Interface.
    #[serde(default)]
    pub device: Option<String>,
    /// Gateway (unicast).
    #[serde(default)]
    pub gateway: Option<String>,
}

/// A rednet DNS registration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsSpec {
    /// Protocol.
    pub protocol: String,
    /// Host name.
    pub hostname: String,
}

/// `[[crowd]]`: many Phoenix computers on one wireless network.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Crowd {
    /// Name prefix: members are `<prefix><index>`.
    pub prefix: String,
    /// How many.
    pub count: u32,
    /// ID of the first member (the others follow).
    pub first_id: u32,
    /// Address of the first member (the others follow).
    pub first_ip: String,
    /// Prefix length of every member's `/top`.
    pub netmask: u8,
    /// Side of the square area (blocks) the wireless modems are spread over.
    #[serde(default)]
    pub side: f64,
    /// Wired instead of wireless: every member's `/top` is on cable network `cable`, one block
    /// apart along a line (a segment of its own; routers join segments).
    #[serde(default)]
    pub cable: Option<u32>,
    /// A default route (`0.0.0.0/0` unicast on `/top`) through this gateway on every member.
    #[serde(default)]
    pub gateway: Option<String>,
    /// A Lua program (a file relative to the scenario's folder, e.g. `programs/ping.lua`).
    #[serde(default)]
    pub program: Option<String>,
    /// Arguments of the program's main function (strings, numbers, booleans).
    #[serde(default)]
    pub args: Vec<toml::Value>,
    /// Whether the program may make root-only syscalls (default true).
    #[serde(default = "default_true")]
    pub root: bool,
    /// A daemon program is not waited for and only reported when it fails.
    #[serde(default)]
    pub daemon: bool,
    /// A substring of a line the program must print to succeed.
    #[serde(default)]
    pub expect: Option<String>,
}

/// `[[activity]]`: a scripted program run by the simulator.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActivitySpec {
    /// `rednet_chat`: the CraftOS side(s) of a chat: a CraftOS `from` sends each message to
    /// `to` half a second apart; a CraftOS `to` receives and checks them. A Phoenix side is its
    /// Lua program's job.
    RednetChat {
        /// Start time.
        #[serde(default)]
        at_ms: u64,
        /// Sender node.
        from: String,
        /// Receiver node.
        to: String,
        /// Protocol (`sProtocol`).
        #[serde(default)]
        protocol: Option<String>,
        /// Messages.
        messages: Vec<String>,
    },
    /// `dns_lookup`: `rednet.lookup(protocol, hostname)` on a CraftOS node.
    DnsLookup {
        /// Start time.
        #[serde(default)]
        at_ms: u64,
        /// CraftOS node.
        from: String,
        /// Protocol.
        protocol: String,
        /// Host name (all hosts if absent).
        #[serde(default)]
        hostname: Option<String>,
    },
    /// `psp_mesh`: `connections` PSP connections at once between random pairs of a crowd, each
    /// moving `bytes` bytes (scale runs).
    PspMesh {
        /// Start time.
        #[serde(default)]
        at_ms: u64,
        /// The crowd's name prefix.
        crowd: String,
        /// Concurrent connections.
        connections: u32,
        /// Bytes per connection.
        bytes: usize,
        /// Port the servers listen on.
        #[serde(default = "default_mesh_port")]
        port: u16,
    },
}

fn default_mesh_port() -> u16 {
    7000
}

/// Why a scenario file is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Not valid TOML, or not this schema.
    #[error("scenario is not valid: {0}")]
    Parse(#[from] toml::de::Error),
    /// A reference or value the schema cannot check.
    #[error("scenario is not valid: {0}")]
    Invalid(String),
}

impl Scenario {
    /// Parses a scenario file.
    pub fn from_toml(text: &str) -> Result<Scenario, ScenarioError> {
        Ok(toml::from_str(text)?)
    }
}
