//! The one table of every syscall, handle method and event: what it takes, returns and raises.
//!
//! Each [`SyscallSpec`] and [`MethodSpec`] row carries the function that runs it, so the table
//! *is* the dispatch: [`NetworkStack::syscall`](crate::NetworkStack::syscall) looks the name up
//! here, applies the row's root rule and argument checks, then calls the row. The same rows
//! render the reference ([`crate::reference`](mod@crate::reference), and the file `REFERENCE.md` beside this crate,
//! which a test keeps equal to [`render_markdown`]).
//!
//! Argument checks run in argument order and give CraftOS's texts (`bad argument #2 (expected
//! string, got nil)`). An argument of type [`ArgType::Custom`] is checked by the call itself,
//! and so is every argument after it, because its check depends on values read before it.

use modem_value::Value;
use pip_core::addr;

use crate::args::{Args, SyscallError};
use crate::computer::Computer;
use crate::io::Pid;
use crate::syscalls::{self as sys, Call};

/// What an argument must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArgType {
    /// A string.
    String,
    /// A number.
    Number,
    /// A boolean.
    Boolean,
    /// A table; its fields are listed in [`ArgSpec::fields`] and checked by the call.
    Table,
    /// A string or a number (its value is checked by the call).
    StringOrNumber,
    /// A URI string, or an options table (fields in [`ArgSpec::fields`]).
    StringOrTable,
    /// An IPv4 address: a dotted string or a 32-bit number (`Invalid IP address`).
    Ip,
    /// The path of an interface of this computer: a modem or `/lo` (`No such device`).
    Device,
    /// One string out of a fixed set (`bad argument #n (invalid option 'x')`).
    OneOf(&'static [&'static str]),
    /// A whole number from `min` to 4294967295 (`bad argument #n (number out of range)`).
    WholeNumber {
        /// The smallest value accepted.
        min: u32,
    },
    /// A number from `min` to 4294967295, fractions dropped (`bad argument #n (number out of
    /// range)`).
    Truncated {
        /// The smallest value accepted.
        min: u32,
    },
    /// Any value.
    Any,
    /// Any number of values (the last argument only).
    Values,
    /// Checked by the call itself, described by the text.
    Custom(&'static str),
}

impl ArgType {
    /// The type as the reference writes it.
    pub fn describe(&self) -> String {
        match self {
            ArgType::String => "string".into(),
            ArgType::Number => "number".into(),
            ArgType::Boolean => "boolean".into(),
            ArgType::Table => "table".into(),
            ArgType::StringOrNumber => "string or number".into(),
            ArgType::StringOrTable => "string or table".into(),
            ArgType::Ip => "IP address (string or number)".into(),
            ArgType::Device => "device path (string)".into(),
            ArgType::OneOf(opts) => {
                let quoted: Vec<String> = opts.iter().map(|o| format!("\"{o}\"")).collect();
                format!("one of {}", quoted.join(", "))
            }
            ArgType::WholeNumber { min } => format!("whole number ≥ {min}"),
            ArgType::Truncated { min } => format!("number ≥ {min}"),
            ArgType::Any => "any value".into(),
            ArgType::Values => "values…".into(),
            ArgType::Custom(s) => (*s).into(),
        }
    }
}

/// One field of an options table, or of an event's parameter table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// The key.
    pub name: &'static str,
    /// Its type, as the reference writes it.
    pub ty: &'static str,
    /// Whether it may be absent.
    pub optional: bool,
    /// Its meaning (and default, when absent).
    pub doc: &'static str,
}

/// One positional argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgSpec {
    /// Its name in the reference.
    pub name: &'static str,
    /// What it must be.
    pub ty: ArgType,
    /// Whether it may be nil.
    pub optional: bool,
    /// What nil means, if it may be nil.
    pub default: Option<&'static str>,
    /// Its meaning.
    pub doc: &'static str,
    /// Fields, for a table argument.
    pub fields: &'static [FieldSpec],
}

/// Who may make a syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RootRule {
    /// Anyone.
    Never,
    /// Root only (`Permission denied`).
    Always,
    /// Root only when argument `n` is given. That argument's type is checked first, since its
    /// presence decides the rule.
    WhenGiven(usize),
}

type SyscallFn = fn(&mut Computer, Call<'_>) -> Result<Vec<Value>, SyscallError>;
type MethodFn = fn(&mut Computer, Pid, u64, &str, &[Value]) -> Result<Vec<Value>, SyscallError>;

/// One syscall.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct SyscallSpec {
    /// Its name.
    pub name: &'static str,
    /// Who may call it.
    pub root: RootRule,
    /// Its arguments, in order.
    pub args: &'static [ArgSpec],
    /// What it returns.
    pub returns: &'static str,
    /// The texts it raises besides argument errors (a `{…}` part stands for a value).
    pub errors: &'static [&'static str],
    /// What it does.
    pub doc: &'static str,
    pub(crate) run: SyscallFn,
}

impl core::fmt::Debug for SyscallSpec {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SyscallSpec")
            .field("name", &self.name)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// The kinds of handle, each with its own methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum HandleKind {
    /// A PSP connection, or a PSP listen record (`listen("psp://…")`).
    Psp,
    /// A PDP client, listen record, or a listener's per-sender pseudo-handle.
    Pdp,
    /// A rednet handle (`connect("rednet://…")`).
    Rednet,
    /// An HTTP(S) client handle.
    HttpClient,
    /// A request received by `listen("http://…")`.
    HttpRequest,
    /// A WebSocket, client or accepted.
    WebSocket,
    /// The listen record of `listen("http://…")` or `listen("ws://…")`.
    WebListener,
}

impl HandleKind {
    /// Every kind, in reference order.
    pub const ALL: [HandleKind; 7] = [
        HandleKind::Psp,
        HandleKind::Pdp,
        HandleKind::Rednet,
        HandleKind::HttpClient,
        HandleKind::HttpRequest,
        HandleKind::WebSocket,
        HandleKind::WebListener,
    ];

    /// The kind's name in the reference.
    pub const fn title(self) -> &'static str {
        match self {
            HandleKind::Psp => "PSP",
            HandleKind::Pdp => "PDP",
            HandleKind::Rednet => "Rednet",
            HandleKind::HttpClient => "HTTP client",
            HandleKind::HttpRequest => "HTTP server request",
            HandleKind::WebSocket => "WebSocket",
            HandleKind::WebListener => "HTTP/WebSocket listen record",
        }
    }
}

/// One method of one handle kind.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct MethodSpec {
    /// The handle kind.
    pub kind: HandleKind,
    /// The method name.
    pub name: &'static str,
    /// Its arguments (checked by the method itself, after the handle's state).
    pub args: &'static [ArgSpec],
    /// What it returns.
    pub returns: &'static str,
    /// The texts it raises.
    pub errors: &'static [&'static str],
    /// What it does.
    pub doc: &'static str,
    pub(crate) run: MethodFn,
}

impl core::fmt::Debug for MethodSpec {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MethodSpec")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// One event a process can receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventSpec {
    /// Its name.
    pub name: &'static str,
    /// The fields of its parameter table.
    pub params: &'static [FieldSpec],
    /// When it is raised.
    pub doc: &'static str,
}

const fn arg(name: &'static str, ty: ArgType, doc: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        ty,
        optional: false,
        default: None,
        doc,
        fields: &[],
    }
}

const fn opt(name: &'static str, ty: ArgType, default: &'static str, doc: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        ty,
        optional: true,
        default: Some(default),
        doc,
        fields: &[],
    }
}

const fn field(
    name: &'static str,
    ty: &'static str,
    optional: bool,
    doc: &'static str,
) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        optional,
        doc,
    }
}

const LISTEN_FIELDS: &[FieldSpec] = &[field(
    "encoding",
    "\"binary\", \"utf8\" or \"utf-8\"",
    true,
    "WebSocket: the frames `write` sends on accepted handles: binary, or text for `utf8` \
     (default `\"binary\"`), as for a client handle's `encoding`.",
)];

const CONNECT_FIELDS: &[FieldSpec] = &[
    field("url", "string", false, "The URI to connect to."),
    field(
        "device",
        "string",
        true,
        "PSP and rednet: the one interface to use; all of them when absent.",
    ),
    field(
        "encoding",
        "\"binary\", \"utf8\" or \"utf-8\"",
        true,
        "HTTP and WebSocket: how `read` returns data (default `\"binary\"`).",
    ),
    field(
        "headers",
        "table of string → string",
        true,
        "HTTP and WebSocket: request headers (pairs that are not both strings are skipped).",
    ),
    field(
        "method",
        "string",
        true,
        "HTTP: the request method, any case (default `POST` when `write` gives a body, else `GET`).",
    ),
    field(
        "redirect",
        "boolean",
        true,
        "HTTP: follow redirects (default true).",
    ),
    field(
        "timeout",
        "number",
        true,
        "HTTP: seconds, 0 to 60, 0 for none (default 30). Phoenix's own kernel does not pass it on; this stack does.",
    ),
];

const IPCONFIG_FIELDS: &[FieldSpec] = &[
    field(
        "ip",
        "string or number",
        true,
        "The address, dotted or as a 32-bit number; absent keeps the current one.",
    ),
    field(
        "netmask",
        "number or string",
        true,
        "The prefix length (0–32) or a dotted mask; absent keeps the current one.",
    ),
    field(
        "up",
        "boolean",
        true,
        "Whether the interface takes part in networking.",
    ),
];

const ROUTE_FIELDS: &[FieldSpec] = &[
    field("source", "string or number", false, "The network's first address."),
    field(
        "sourceNetmask",
        "number or string",
        true,
        "The network's prefix length or dotted mask (default 32, one address).",
    ),
    field(
        "action",
        "\"unicast\", \"broadcast\", \"local\", \"unreachable\", \"prohibit\" or \"blackhole\"",
        false,
        "Send to `destination`; broadcast on `device`; deliver on the local network of `device`; answer with an unreachable or prohibited control message; drop silently.",
    ),
    field(
        "device",
        "string",
        true,
        "The interface; required by `unicast`, `broadcast` and `local`.",
    ),
    field(
        "destination",
        "string or number",
        true,
        "The gateway; required by `unicast`.",
    ),
    field(
        "table",
        "number",
        true,
        "The route table, a whole number from 1 (default 1).",
    ),
];

/// Every syscall, sorted by name.
pub static SYSCALLS: &[SyscallSpec] = &[
    SyscallSpec {
        name: "arpadd",
        root: RootRule::Always,
        args: &[
            arg("device", ArgType::Device, "The interface."),
            arg("ip", ArgType::Ip, "The address."),
            opt(
                "id",
                ArgType::WholeNumber { min: 0 },
                "remove the entry",
                "The computer ID that has the address.",
            ),
        ],
        returns: "nothing",
        errors: &["Permission denied", "No such device", "Invalid IP address", "ARP table full"],
        doc: "Sets a manual address → computer ID entry on an interface (same as `arpset`). \
              Manual entries do not expire. Packets waiting for the address are sent. On `/lo` it \
              does nothing. The seed document names only `arpadd`; `arpset` is the name Phoenix's \
              kernel uses, and both are served.",
        run: sys::lua_arpadd,
    },
    SyscallSpec {
        name: "arpdel",
        root: RootRule::Always,
        args: &[
            arg("device", ArgType::Device, "The interface."),
            arg("ip", ArgType::Ip, "The address."),
        ],
        returns: "nothing",
        errors: &["Permission denied", "No such device", "Invalid IP address"],
        doc: "Removes the address's entry (learned or manual) from an interface's ARP table.",
        run: sys::lua_arpdel,
    },
    SyscallSpec {
        name: "arplist",
        root: RootRule::Never,
        args: &[arg("device", ArgType::Device, "The interface.")],
        returns: "a table of dotted IP → computer ID (empty for `/lo`)",
        errors: &["No such device"],
        doc: "Lists the usable ARP entries of an interface.",
        run: sys::lua_arplist,
    },
    SyscallSpec {
        name: "arpset",
        root: RootRule::Always,
        args: &[
            arg("device", ArgType::Device, "The interface."),
            arg("ip", ArgType::Ip, "The address."),
            opt(
                "id",
                ArgType::WholeNumber { min: 0 },
                "remove the entry",
                "The computer ID that has the address.",
            ),
        ],
        returns: "nothing",
        errors: &["Permission denied", "No such device", "Invalid IP address", "ARP table full"],
        doc: "Sets a manual address → computer ID entry on an interface, or removes the entry \
              when `id` is nil. Same as `arpadd`.",
        run: sys::lua_arpadd,
    },
    SyscallSpec {
        name: "checkuri",
        root: RootRule::Never,
        args: &[arg("uri", ArgType::Any, "The URI; any other value gives false.")],
        returns: "boolean",
        errors: &[],
        doc: "Whether `connect` could use the URI: it parses, its scheme is served, and it has \
              what the scheme needs (PSP and PDP: an IP address and a port other than 0; rednet: \
              a host that is an IP address; HTTP: a URL the HTTP client accepts; WebSocket: a URL \
              with a host). Schemes registered for kernel modules are accepted. Never raises.",
        run: sys::lua_checkuri,
    },
    SyscallSpec {
        name: "connect",
        root: RootRule::Never,
        args: &[ArgSpec {
            name: "options",
            ty: ArgType::StringOrTable,
            optional: false,
            default: None,
            doc: "A URI, or a table with the URI in `url` and options.",
            fields: CONNECT_FIELDS,
        }],
        returns: "the new handle's id; for a WebSocket URL the client refuses, nil and the message",
        errors: &[
            "bad field 'url' (expected string, got {type})",
            "Invalid URI",
            "Invalid protocol {scheme}",
            "No such device",
            "Invalid IP address",
            "Invalid port",
            "Missing host",
            "Could not find a modem",
            "No port specified",
            "Too many open sockets",
            "Too many open handles",
        ],
        doc: "Opens a handle. The scheme picks the kind, matched exactly and without regard to \
              case: `http`/`https` (an HTTP client handle in `ready`: the request is sent by the \
              first `write`), `ws`/`wss` (a WebSocket in `connecting`), `psp` (a PSP connection \
              in `connecting`; without a port it fails `No port specified`), `pdp` (a PDP \
              client, `open` at once), `rednet` or `rednet+<protocol>` (a rednet handle, `open` \
              at once; the host is the target computer ID written as an IP, \
              `255.255.255.255` for all). Any other scheme, including one a kernel module \
              registered, is `Invalid protocol <scheme>`. Status changes arrive as \
              `handle_status_change` events.",
        run: sys::lua_connect,
    },
    SyscallSpec {
        name: "ipconfig",
        root: RootRule::WhenGiven(2),
        args: &[
            arg("device", ArgType::Device, "The interface."),
            ArgSpec {
                name: "info",
                ty: ArgType::Table,
                optional: true,
                default: Some("only read the configuration"),
                doc: "Settings to change, in the shape of the result.",
                fields: IPCONFIG_FIELDS,
            },
        ],
        returns: "`{ip = dotted string, netmask = prefix length, up = boolean}`, or nil while the \
                  interface has no address",
        errors: &[
            "Permission denied",
            "No such device",
            "Invalid IP address",
            "Invalid netmask",
        ],
        doc: "Reads an interface's PIP configuration and, with `info` (root only), changes it \
              first. Setting an address brings the interface up unless `up` says otherwise.",
        run: sys::lua_ipconfig,
    },
    SyscallSpec {
        name: "listen",
        root: RootRule::Never,
        args: &[
            arg(
                "uri",
                ArgType::String,
                "`psp://ip:port`, `pdp://ip:port`, `http://host:port` or `ws://host:port`; the path is ignored.",
            ),
            ArgSpec {
                name: "options",
                ty: ArgType::Table,
                optional: true,
                default: Some("none"),
                doc: "Options for the handles the listener creates.",
                fields: LISTEN_FIELDS,
            },
        ],
        returns: "nothing",
        errors: &[
            "Invalid URI",
            "Invalid protocol {scheme}",
            "Invalid IP address",
            "Invalid port",
            "Address not available",
            "Port already open",
            "Too many open handles",
        ],
        doc: "Accepts connections on the URI until `unlisten`. Each one raises `network_request` \
              with a new handle. PSP and PDP listen on the interfaces whose address is the URI's \
              IP (all of them for `0.0.0.0`); an address no up interface has is `Address not \
              available`. HTTP and WebSocket listening (a CraftOS-PC extension) is available \
              when the host enables it and uses port 80 by default; the host provides the TCP \
              listener.",
        run: sys::lua_listen,
    },
    SyscallSpec {
        name: "netcontrol",
        root: RootRule::Always,
        args: &[
            arg("ip", ArgType::Ip, "The destination."),
            arg(
                "type",
                ArgType::OneOf(sys::CONTROL_TYPES),
                "The control message type.",
            ),
            opt("error", ArgType::String, "none", "The message's error text."),
            opt(
                "hops",
                ArgType::Truncated { min: 1 },
                "the default hop limit",
                "The hop limit. Phoenix's kernel takes a fourth argument but puts it in the \
                 payload, so its hop limit stays 15; here it is the hop limit.",
            ),
        ],
        returns: "nothing",
        errors: &["Permission denied", "Invalid IP address"],
        doc: "Sends a control message without payload (a ping is answered by a pong, which \
              `netevent` subscribers see).",
        run: sys::lua_netcontrol,
    },
    SyscallSpec {
        name: "netevent",
        root: RootRule::Always,
        args: &[opt(
            "on",
            ArgType::Boolean,
            "leave the subscription as it is",
            "Whether this process receives `network_event`.",
        )],
        returns: "boolean: whether the process is subscribed",
        errors: &["Permission denied"],
        doc: "Subscribes or unsubscribes the calling process to `network_event` (control \
              messages, and packets for other addresses), and reports the state.",
        run: sys::lua_netevent,
    },
    SyscallSpec {
        name: "routeadd",
        root: RootRule::Always,
        args: &[ArgSpec {
            name: "options",
            ty: ArgType::Table,
            optional: false,
            default: None,
            doc: "The route.",
            fields: ROUTE_FIELDS,
        }],
        returns: "nothing",
        errors: &[
            "Permission denied",
            "bad field 'source' (expected string, got nil)",
            "bad field 'action' (invalid option '{x}')",
            "bad field 'device' (expected string, got nil)",
            "bad field 'destination' (expected string, got nil)",
            "bad field 'table' (number out of range)",
            "No such device",
            "Invalid IP address",
            "Invalid netmask",
            "Route already exists",
        ],
        doc: "Adds a route to a route table, creating the table.",
        run: sys::lua_routeadd,
    },
    SyscallSpec {
        name: "routedel",
        root: RootRule::Always,
        args: &[
            arg(
                "source",
                ArgType::StringOrNumber,
                "The network: an address, or `a.b.c.d/n` as the seed document's example writes \
                 it (Phoenix's kernel refused that form; here its prefix wins over `netmask`).",
            ),
            opt(
                "netmask",
                ArgType::Custom("number or string"),
                "32",
                "The prefix length or dotted mask, as Phoenix's kernel takes it (the seed \
                 document lists only source and table).",
            ),
            opt(
                "table",
                ArgType::WholeNumber { min: 1 },
                "1",
                "The route table.",
            ),
        ],
        returns: "nothing",
        errors: &[
            "Permission denied",
            "Invalid IP address",
            "Invalid netmask",
            "Route table does not exist",
        ],
        doc: "Removes the route for a network. A missing route is no error; a missing table is.",
        run: sys::lua_routedel,
    },
    SyscallSpec {
        name: "routelist",
        root: RootRule::Never,
        args: &[opt(
            "table",
            ArgType::WholeNumber { min: 0 },
            "1",
            "The route table.",
        )],
        returns: "a list of `{source, sourceNetmask, action, device?, destination?}`, or nil if \
                  the table does not exist",
        errors: &[],
        doc: "Lists a route table's entries in lookup order.",
        run: sys::lua_routelist,
    },
    SyscallSpec {
        name: "unlisten",
        root: RootRule::Never,
        args: &[arg("uri", ArgType::String, "A URI given to `listen`.")],
        returns: "nothing",
        errors: &[
            "Invalid URI",
            "Invalid protocol {scheme}",
            "Invalid port",
            "Missing port",
            "Port open in another process",
        ],
        doc: "Stops listening on the URI's port; handles already accepted stay. Not listening \
              there is no error. Only the listening process or its descendants may stop it.",
        run: sys::lua_unlisten,
    },
];

const READ_ARGS: &[ArgSpec] = &[opt(
    "mode…",
    ArgType::Custom("\"*a\", \"*l\", \"*L\", \"*n\" or a count"),
    "\"*l\"",
    "What to read, as `io.read`: all, a line, a line with its newline, a number, or up to \
     that many bytes. One result per mode; nil from the first mode that cannot be satisfied.",
)];

const WRITE_ARGS: &[ArgSpec] = &[arg(
    "data…",
    ArgType::Values,
    "The values to send, each converted with `tostring`.",
)];

const NO_ARGS: &[ArgSpec] = &[];

macro_rules! method {
    ($kind:ident, $name:literal, $args:expr, $returns:literal, [$($err:literal),* $(,)?], $doc:expr, $run:expr) => {
        MethodSpec {
            kind: HandleKind::$kind,
            name: $name,
            args: $args,
            returns: $returns,
            errors: &[$($err),*],
            doc: $doc,
            run: $run,
        }
    };
}

fn psp(c: &mut Computer, _: Pid, id: u64, m: &str, a: &[Value]) -> MethodResult {
    c.psp_method(id, m, a)
}
fn pdp(c: &mut Computer, _: Pid, id: u64, m: &str, a: &[Value]) -> MethodResult {
    c.pdp_method(id, m, a)
}
fn rednet(c: &mut Computer, _: Pid, id: u64, m: &str, a: &[Value]) -> MethodResult {
    c.rednet_method(id, m, a)
}
fn web(c: &mut Computer, pid: Pid, id: u64, m: &str, a: &[Value]) -> MethodResult {
    c.web_method(pid, id, m, a)
}
fn transfer(c: &mut Computer, pid: Pid, id: u64, _: &str, _: &[Value]) -> MethodResult {
    c.handles.transfer(&c.procs, pid, id)?;
    Ok(vec![])
}
type MethodResult = Result<Vec<Value>, SyscallError>;

const STATUS_DOC: &str = "The handle's status, and the error message when it is `error`.";
const TRANSFER_DOC: &str = "Makes the calling process the handle's owner. The caller must \
    already be allowed to use it (the owner or a descendant); the former owner then no longer \
    is, unless it descends from the caller. An extension of this stack.";
const LOCAL_IP_DOC: &str = "The local address the connection uses, or nil before it has one.";

/// Every handle method, sorted by kind and then name.
pub static METHODS: &[MethodSpec] = &[
    method!(
        Psp,
        "close",
        NO_ARGS,
        "nothing",
        ["attempt to close a {status} handle"],
        "Starts an orderly close: data already written is delivered first; the handle is \
         `closed` once the peer acknowledges (no event for the program's own close).",
        psp
    ),
    method!(
        Psp,
        "localIP",
        NO_ARGS,
        "dotted string or nil",
        [],
        LOCAL_IP_DOC,
        psp
    ),
    method!(
        Psp,
        "read",
        READ_ARGS,
        "one value per mode",
        [
            "attempt to read from a {status} handle",
            "bad argument (expected string or number, got {type})",
            "bad argument (invalid mode '{mode}')"
        ],
        "Reads received bytes, in order. Allowed while `open`, and after the peer closed while \
         data remains.",
        psp
    ),
    method!(
        Psp,
        "status",
        NO_ARGS,
        "`connecting`, `open`, `closed` or `error`; the message",
        [],
        STATUS_DOC,
        psp
    ),
    method!(
        Psp,
        "transfer",
        NO_ARGS,
        "nothing",
        ["No such socket"],
        TRANSFER_DOC,
        transfer
    ),
    method!(
        Psp,
        "write",
        WRITE_ARGS,
        "nothing",
        ["attempt to write to a {status} handle", "Send buffer full"],
        "Queues the values' bytes for sending; only while `open`.",
        psp
    ),
    method!(
        Pdp,
        "close",
        NO_ARGS,
        "nothing",
        ["attempt to close a {status} handle"],
        "Closes the handle; a listen record also stops listening.",
        pdp
    ),
    method!(
        Pdp,
        "localIP",
        NO_ARGS,
        "dotted string or nil",
        [],
        LOCAL_IP_DOC,
        pdp
    ),
    method!(
        Pdp,
        "read",
        READ_ARGS,
        "one datagram, or nil when none is queued",
        ["attempt to read from a {status} handle"],
        "Takes the oldest received datagram whole. The mode is accepted and ignored: a \
         datagram is never split.",
        pdp
    ),
    method!(
        Pdp,
        "status",
        NO_ARGS,
        "`open` or `closed`",
        [],
        "Whether the handle is open.",
        pdp
    ),
    method!(
        Pdp,
        "transfer",
        NO_ARGS,
        "nothing",
        ["No such socket"],
        TRANSFER_DOC,
        transfer
    ),
    method!(
        Pdp,
        "write",
        WRITE_ARGS,
        "nothing",
        ["attempt to write to a {status} handle"],
        "Sends the first value as one datagram (any value a modem can carry).",
        pdp
    ),
    method!(
        Rednet,
        "close",
        NO_ARGS,
        "nothing",
        ["attempt to close a closed handle"],
        "Closes the handle; rednet is closed on each modem no other handle uses.",
        rednet
    ),
    method!(
        Rednet,
        "read",
        READ_ARGS,
        "one message per mode",
        [
            "attempt to read from a closed handle",
            "bad argument (expected string or number, got {type})",
            "bad argument (invalid mode '{mode}')"
        ],
        "Takes received messages, oldest first: messages from the target (any sender for \
         `255.255.255.255`) with the handle's protocol (any, when it has none).",
        rednet
    ),
    method!(
        Rednet,
        "status",
        NO_ARGS,
        "`open` or `closed`",
        [],
        "Whether the handle is open. An extension: Phoenix's rednet handles have no status.",
        rednet
    ),
    method!(
        Rednet,
        "write",
        WRITE_ARGS,
        "nothing",
        [
            "attempt to write to a closed handle",
            "Too many pending rednet requests"
        ],
        "Sends each value as one rednet message to the target (a broadcast for \
         `255.255.255.255`), with the handle's protocol.",
        rednet
    ),
    method!(
        HttpClient,
        "close",
        NO_ARGS,
        "nothing",
        ["attempt to close a {status} handle"],
        "Drops the response; only while `open`. No event.",
        web
    ),
    method!(
        HttpClient,
        "read",
        READ_ARGS,
        "one value per mode",
        [
            "attempt to read from a {status} handle",
            "bad argument (expected string or number, got {type})",
            "bad argument (invalid mode '{mode}')"
        ],
        "Reads the response body; only while `open`.",
        web
    ),
    method!(
        HttpClient,
        "responseCode",
        NO_ARGS,
        "the status code and the reason phrase",
        ["attempt to read from a {status} handle"],
        "The response's status code; only while `open`. The reason phrase as a second value \
         is an extension.",
        web
    ),
    method!(
        HttpClient,
        "responseHeaders",
        NO_ARGS,
        "a table of name → value",
        ["attempt to read from a {status} handle"],
        "The response headers (repeated names joined as the HTTP API joins them); only while \
         `open`.",
        web
    ),
    method!(
        HttpClient,
        "status",
        NO_ARGS,
        "`ready`, `connecting`, `open`, `closed` or `error`; the message",
        [],
        STATUS_DOC,
        web
    ),
    method!(
        HttpClient,
        "write",
        WRITE_ARGS,
        "nothing",
        ["attempt to write to a {status} handle"],
        "Sends the request with the values as its body (none: no body). Allowed exactly once, \
         in `ready`; the handle is then `connecting`, or `error` with the client's message if \
         the request is refused at once (bad URL, method, header or timeout).",
        web
    ),
    method!(
        HttpRequest,
        "close",
        NO_ARGS,
        "nothing",
        [
            "attempt to use a closed file",
            "attempt to close a {status} handle"
        ],
        "Sends the response (responses go out in request order) and closes the handle.",
        web
    ),
    method!(
        HttpRequest,
        "method",
        NO_ARGS,
        "string",
        ["attempt to use a closed file"],
        "The request method.",
        web
    ),
    method!(
        HttpRequest,
        "path",
        NO_ARGS,
        "string",
        ["attempt to use a closed file"],
        "The request target (path and query).",
        web
    ),
    method!(
        HttpRequest,
        "read",
        READ_ARGS,
        "one value per mode",
        [
            "attempt to use a closed file",
            "attempt to read from a {status} handle"
        ],
        "Reads the request body; only while `open`.",
        web
    ),
    method!(
        HttpRequest,
        "requestHeaders",
        NO_ARGS,
        "a table of name → value",
        ["attempt to use a closed file"],
        "The request headers (the last of repeated names).",
        web
    ),
    method!(
        HttpRequest,
        "requestTrailers",
        NO_ARGS,
        "a table of name → value",
        ["attempt to use a closed file"],
        "The trailer fields that followed a chunked request body (the last of repeated \
         names); empty without a chunked body. They are parsed by the header rules and never \
         mixed into `requestHeaders`.",
        web
    ),
    method!(
        HttpRequest,
        "setResponseCode",
        &[
            arg("code", ArgType::Number, "100 to 599."),
            opt(
                "reason",
                ArgType::String,
                "the standard phrase",
                "The reason phrase."
            )
        ],
        "nothing",
        [
            "attempt to use a closed file",
            "bad argument #1 (expected number, got {type})"
        ],
        "Sets the response status (default 200).",
        web
    ),
    method!(
        HttpRequest,
        "setResponseHeader",
        &[
            arg("name", ArgType::String, "The header name."),
            arg("value", ArgType::String, "Its value.")
        ],
        "nothing",
        [
            "attempt to use a closed file",
            "bad argument #1 (expected string, got {type})"
        ],
        "Sets a response header, replacing an earlier one of the same name. The server manages \
         `Content-Length`, `Transfer-Encoding` and `Connection` itself.",
        web
    ),
    method!(
        HttpRequest,
        "status",
        NO_ARGS,
        "`open` or `closed`",
        ["attempt to use a closed file"],
        "Whether the response can still be written.",
        web
    ),
    method!(
        HttpRequest,
        "write",
        WRITE_ARGS,
        "nothing",
        [
            "attempt to use a closed file",
            "attempt to write to a {status} handle"
        ],
        "Appends the values to the response body.",
        web
    ),
    method!(
        WebSocket,
        "close",
        NO_ARGS,
        "nothing",
        ["attempt to close a {status} handle"],
        "Sends a normal close (1000) and closes the handle; unread messages are dropped. No \
         event.",
        web
    ),
    method!(
        WebSocket,
        "closeReason",
        NO_ARGS,
        "the close code and the reason, each nil when absent; nothing while the connection is \
         open or after a local `close()`",
        [],
        "How the connection ended: the code and reason of the peer's Close frame, or the code \
         and text this side failed the connection with (1002 protocol error, 1007 invalid \
         UTF-8, 1008 receive buffer full, 1009 message too large), or nil and \
         `Connection closed` when the TCP connection ended without a Close. Works in any \
         status.",
        web
    ),
    method!(
        WebSocket,
        "read",
        READ_ARGS,
        "one value per mode",
        [
            "attempt to read from a {status} handle",
            "bad argument (expected string or number, got {type})",
            "bad argument (invalid mode '{mode}')"
        ],
        "Reads received message data as one stream; only while `open`.",
        web
    ),
    method!(
        WebSocket,
        "readMessage",
        NO_ARGS,
        "the next message and whether it was binary, or nil when none is buffered",
        ["attempt to read from a {status} handle"],
        "Takes one received message whole, with its kind (`false` for a text frame, `true` \
         for binary); what `read` already took of that message is not returned again. Never \
         waits: wait for `handle_data_ready` first. Only while `open`.",
        web
    ),
    method!(
        WebSocket,
        "status",
        NO_ARGS,
        "`connecting`, `open`, `closed` or `error`; the message",
        [],
        STATUS_DOC,
        web
    ),
    method!(
        WebSocket,
        "write",
        WRITE_ARGS,
        "nothing",
        [
            "attempt to write to a {status} handle",
            "Message is too large"
        ],
        "Sends each value as one message (text or binary by the handle's encoding); only while \
         `open`.",
        web
    ),
    method!(
        WebListener,
        "close",
        NO_ARGS,
        "nothing",
        ["Port open in another process"],
        "Stops listening, as `unlisten`.",
        web
    ),
    method!(
        WebListener,
        "status",
        NO_ARGS,
        "`open`",
        [],
        "Always `open` while listening.",
        web
    ),
];

/// Every event, sorted by name.
pub static EVENTS: &[EventSpec] = &[
    EventSpec {
        name: "handle_data_ready",
        params: &[field("id", "number", false, "The handle.")],
        doc: "A handle has new data to `read` (PSP bytes, a PDP datagram, a rednet message, an \
              HTTP body, a WebSocket message).",
    },
    EventSpec {
        name: "handle_status_change",
        params: &[
            field("id", "number", false, "The handle."),
            field("status", "string", false, "The new status."),
            field("error", "string", true, "With `error`: the message `status()` also returns."),
        ],
        doc: "A handle's status changed because of the network: a connection opened, was \
              closed by the peer, or failed. Phoenix 0.0.9 reported an opened PSP connection as \
              `connected`; this stack says `open`, the status `status()` returns.",
    },
    EventSpec {
        name: "listen_failed",
        params: &[
            field("uri", "string", false, "The URI exactly as given to `listen`."),
            field("error", "string", false, "The host's reason, for example `Address already in use`."),
        ],
        doc: "The host could not listen for an HTTP or WebSocket `listen` (the address is in use \
              or not local, ...). The listen record is gone: `unlisten` finds nothing and \
              `listen` on the URI may be called again. A Phoenix extension (CraftOS-PC's \
              `http.addListener` reports `Could not open server: …` at once instead).",
    },
    EventSpec {
        name: "modem_message",
        params: &[
            field("device", "string", false, "The modem."),
            field("channel", "number", false, "The channel."),
            field("replyChannel", "number", false, "The reply channel."),
            field("message", "any", false, "The payload."),
            field("distance", "number", true, "Distance to the sender; absent across dimensions."),
        ],
        doc: "A raw modem message on a channel the process listens to (the host asked for it \
              with `NetworkStack::raw_listen`).",
    },
    EventSpec {
        name: "network_event",
        params: &[
            field("type", "string", false, "`control` for a control message; a packet for another address is passed whole."),
            field("messageType", "string", true, "`ping`, `pong`, `unreachable` or `timeout`."),
            field("error", "string", true, "The control message's error text."),
            field("payload", "table", true, "The control message's payload."),
            field("sender", "string", true, "Who sent it; absent for messages made locally."),
        ],
        doc: "A PIP event for processes subscribed with `netevent`.",
    },
    EventSpec {
        name: "network_request",
        params: &[
            field("uri", "string", false, "The URI exactly as given to `listen`."),
            field("ip", "string", true, "The peer: a dotted IP for PSP and PDP, the host's text for HTTP; absent for WebSocket."),
            field("handle", "number", false, "The new handle."),
        ],
        doc: "A listener accepted a PSP connection, got the first datagram of a new PDP sender \
              (its handle holds that sender's datagrams), received an HTTP request, or accepted \
              a WebSocket connection.",
    },
];

/// The syscall named `name`.
pub fn syscall(name: &str) -> Option<&'static SyscallSpec> {
    SYSCALLS
        .binary_search_by(|s| s.name.cmp(name))
        .ok()
        .map(|i| &SYSCALLS[i])
}

/// Method `name` of handle kind `kind`.
pub fn method(kind: HandleKind, name: &str) -> Option<&'static MethodSpec> {
    METHODS
        .binary_search_by(|m| (m.kind, m.name).cmp(&(kind, name)))
        .ok()
        .map(|i| &METHODS[i])
}

/// The methods of one handle kind.
pub fn methods_of(kind: HandleKind) -> impl Iterator<Item = &'static MethodSpec> {
    METHODS.iter().filter(move |m| m.kind == kind)
}

/// The event named `name`.
pub fn event(name: &str) -> Option<&'static EventSpec> {
    EVENTS.iter().find(|e| e.name == name)
}

/// Applies `spec`'s root rule and declared argument checks, in the order the reference gives.
pub(crate) fn check(
    c: &Computer,
    spec: &SyscallSpec,
    root: bool,
    args: Args<'_>,
) -> Result<(), SyscallError> {
    let conditional = match spec.root {
        RootRule::Never => None,
        RootRule::Always if !root => return Err(SyscallError::PermissionDenied),
        RootRule::Always => None,
        RootRule::WhenGiven(n) => {
            if let Some(a) = spec.args.get(n - 1) {
                if check_arg(c, a, n, args)? == Flow::Stop {
                    return Ok(());
                }
            }
            if !args.get(n).is_nil() && !root {
                return Err(SyscallError::PermissionDenied);
            }
            Some(n)
        }
    };
    for (i, a) in spec.args.iter().enumerate() {
        let n = i + 1;
        if Some(n) == conditional {
            continue;
        }
        if check_arg(c, a, n, args)? == Flow::Stop {
            break;
        }
    }
    Ok(())
}

#[derive(PartialEq, Eq)]
enum Flow {
    Next,
    Stop,
}

fn check_arg(c: &Computer, a: &ArgSpec, n: usize, args: Args<'_>) -> Result<Flow, SyscallError> {
    let v = args.get(n);
    if matches!(a.ty, ArgType::Custom(_) | ArgType::Values) {
        return Ok(Flow::Stop);
    }
    if a.optional && v.is_nil() {
        return Ok(Flow::Next);
    }
    let bad = |expected| SyscallError::BadArgument {
        n,
        expected,
        got: v.kind(),
    };
    match a.ty {
        ArgType::String => {
            args.str(n)?;
        }
        ArgType::Number => {
            args.num(n)?;
        }
        ArgType::Boolean => {
            if !matches!(v, Value::Bool(_)) {
                return Err(bad("boolean"));
            }
        }
        ArgType::Table => {
            if v.as_table().is_none() {
                return Err(bad("table"));
            }
        }
        ArgType::StringOrNumber => {
            args.str_or_num(n)?;
        }
        ArgType::StringOrTable => {
            if !matches!(v, Value::Str(_) | Value::Table(_)) {
                return Err(bad("string or table"));
            }
        }
        ArgType::Ip => {
            addr::ip_from_value(args.str_or_num(n)?)?;
        }
        ArgType::Device => {
            c.device_check(&args.str(n)?.to_string_lossy())?;
        }
        ArgType::OneOf(options) => {
            args.option(n, options)?;
        }
        ArgType::WholeNumber { min } => {
            sys::whole_in_range(n, args.num(n)?, min)?;
        }
        ArgType::Truncated { min } => {
            let x = args.num(n)?;
            if !(f64::from(min)..=f64::from(u32::MAX)).contains(&x) {
                return Err(SyscallError::OutOfRange { n });
            }
        }
        ArgType::Any | ArgType::Custom(_) | ArgType::Values => {}
    }
    Ok(Flow::Next)
}

/// Runs syscall `name` for the Lua entry point: look-up, root rule, checks, the call.
pub(crate) fn run_syscall(
    c: &mut Computer,
    pid: Pid,
    root: bool,
    name: &str,
    args: &[Value],
) -> Result<Vec<Value>, SyscallError> {
    let spec = syscall(name).ok_or_else(|| SyscallError::NoSuchSyscall(name.to_string()))?;
    let args = Args(args);
    check(c, spec, root, args)?;
    (spec.run)(c, Call { pid, args })
}

/// Runs method `name` on handle `id` of kind `kind`.
pub(crate) fn run_method(
    c: &mut Computer,
    kind: HandleKind,
    pid: Pid,
    id: u64,
    name: &str,
    args: &[Value],
) -> Result<Vec<Value>, SyscallError> {
    let spec = method(kind, name).ok_or(SyscallError::NoSuchMethod)?;
    (spec.run)(c, pid, id, name, args)
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn render_args(out: &mut String, args: &[ArgSpec]) {
    if args.is_empty() {
        out.push_str("Arguments: none.\n\n");
        return;
    }
    out.push_str("| # | argument | type | default | meaning |\n|---|---|---|---|---|\n");
    for (i, a) in args.iter().enumerate() {
        let default = match (a.optional, a.default) {
            (false, _) => "required".to_string(),
            (true, Some(d)) => md_cell(d),
            (true, None) => "nil".to_string(),
        };
        out.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            i + 1,
            a.name,
            md_cell(&a.ty.describe()),
            default,
            md_cell(a.doc)
        ));
    }
    out.push('\n');
    for a in args.iter().filter(|a| !a.fields.is_empty()) {
        out.push_str(&format!("Fields of `{}`:\n\n", a.name));
        render_fields(out, a.fields);
    }
}

fn render_fields(out: &mut String, fields: &[FieldSpec]) {
    out.push_str("| field | type | meaning |\n|---|---|---|\n");
    for f in fields {
        let ty = if f.optional {
            format!("{} (optional)", f.ty)
        } else {
            f.ty.to_string()
        };
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            f.name,
            md_cell(&ty),
            md_cell(f.doc)
        ));
    }
    out.push('\n');
}

fn render_errors(out: &mut String, errors: &[&str]) {
    if errors.is_empty() {
        out.push_str("Errors: none besides argument errors.\n\n");
        return;
    }
    let list: Vec<String> = errors.iter().map(|e| format!("`{e}`")).collect();
    out.push_str(&format!("Errors: {}.\n\n", list.join(", ")));
}

/// The reference in Markdown: every syscall, every method per handle kind, every event.
pub fn render_markdown() -> String {
    let mut out = String::new();
    out.push_str(
        "# Syscall, handle and event reference\n\n\
         Generated from the table in `crates/syscall-api/src/registry.rs`; do not edit by hand \
         (run `UPDATE_REFERENCE=1 cargo test -p syscall-api --test reference`).\n\n\
         Every error is raised with exactly the text shown (`{…}` stands for a value). Argument \
         errors follow CraftOS: `bad argument #n (expected T, got U)`, `bad argument #n \
         (invalid option 'x')`, `bad argument #n (number out of range)`, and `bad field 'f' \
         (…)` for options tables. An unknown syscall is `No such syscall: <name>`; an unknown \
         method `No such method`; a handle the caller may not use (it belongs to a process \
         that is neither the caller nor one of its ancestors) `No such socket`.\n\n\
         ## Syscalls\n\n",
    );
    for s in SYSCALLS {
        let sig: Vec<String> = s
            .args
            .iter()
            .map(|a| {
                if a.optional {
                    format!("{}?", a.name)
                } else {
                    a.name.to_string()
                }
            })
            .collect();
        out.push_str(&format!(
            "### `{}({})`\n\n{}\n\n",
            s.name,
            sig.join(", "),
            md_cell(s.doc)
        ));
        let who = match s.root {
            RootRule::Never => "any process".to_string(),
            RootRule::Always => "root only".to_string(),
            RootRule::WhenGiven(n) => format!(
                "any process; root only when `{}` is given",
                s.args.get(n - 1).map_or("?", |a| a.name)
            ),
        };
        out.push_str(&format!("Who: {who}.\n\n"));
        render_args(&mut out, s.args);
        out.push_str(&format!("Returns: {}.\n\n", md_cell(s.returns)));
        render_errors(&mut out, s.errors);
    }
    out.push_str("## Handle methods\n\n");
    for kind in HandleKind::ALL {
        out.push_str(&format!("### {} handles\n\n", kind.title()));
        for m in methods_of(kind) {
            let sig: Vec<&str> = m.args.iter().map(|a| a.name).collect();
            out.push_str(&format!(
                "#### `{}({})`\n\n{}\n\n",
                m.name,
                sig.join(", "),
                md_cell(m.doc)
            ));
            render_args(&mut out, m.args);
            out.push_str(&format!("Returns: {}.\n\n", md_cell(m.returns)));
            render_errors(&mut out, m.errors);
        }
    }
    out.push_str("## Events\n\n");
    for e in EVENTS {
        out.push_str(&format!("### `{}`\n\n{}\n\n", e.name, md_cell(e.doc)));
        render_fields(&mut out, e.params);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{Event, HandleId, Status};
    use crate::{ComputerConfig, NetworkStack, TcpEvent};
    use modem_value::{Instant, SplitMix64, Table};

    fn computer() -> Computer {
        let mut c = Computer::new(ComputerConfig::new(1, &["/top"]), &mut SplitMix64::new(1));
        let info = modem_value::table! { "ip" => "10.0.0.1", "netmask" => 24 };
        c.syscall(Instant::ZERO, 1, true, "ipconfig", &["/top".into(), info])
            .unwrap();
        while c.poll_output().is_some() {}
        c
    }

    #[test]
    fn tables_are_sorted_and_unique() {
        assert!(SYSCALLS.windows(2).all(|w| w[0].name < w[1].name));
        assert!(METHODS
            .windows(2)
            .all(|w| (w[0].kind, w[0].name) < (w[1].kind, w[1].name)));
        assert!(EVENTS.windows(2).all(|w| w[0].name < w[1].name));
        for s in SYSCALLS {
            assert_eq!(syscall(s.name).map(|x| x.name), Some(s.name));
        }
        for m in METHODS {
            assert_eq!(method(m.kind, m.name).map(|x| x.name), Some(m.name));
        }
    }

    /// As rustls-ffi's docgen refuses undocumented items, the reference refuses empty entries.
    #[test]
    fn every_entry_is_documented() {
        let args = SYSCALLS
            .iter()
            .flat_map(|s| s.args)
            .chain(METHODS.iter().flat_map(|m| m.args));
        for a in args {
            assert!(!a.doc.is_empty() && !a.name.is_empty(), "{a:?}");
            assert!(a.fields.iter().all(|f| !f.doc.is_empty()), "{a:?}");
            assert_eq!(a.optional, a.default.is_some(), "{a:?}");
        }
        for s in SYSCALLS {
            assert!(!s.doc.is_empty() && !s.returns.is_empty(), "{}", s.name);
        }
        for m in METHODS {
            assert!(!m.doc.is_empty() && !m.returns.is_empty(), "{}", m.name);
        }
        for e in EVENTS {
            assert!(!e.doc.is_empty() && e.params.iter().all(|f| !f.doc.is_empty()));
        }
        for kind in HandleKind::ALL {
            assert!(methods_of(kind).count() > 0, "{kind:?}");
        }
    }

    /// The declared checks are the implementation's own: whenever the registry refuses an
    /// argument list, the syscall run without the registry's checks refuses it with the same
    /// text. A declared type that the call reads differently, or in another order, fails here.
    #[test]
    fn declared_checks_agree_with_the_calls() {
        let samples: Vec<Value> = vec![
            Value::Nil,
            "x".into(),
            "/top".into(),
            "/lo".into(),
            "10.0.0.2".into(),
            "ping".into(),
            "psp://10.0.0.2:5".into(),
            Value::from(5),
            Value::Num(1.5),
            Value::from(-1),
            Value::Bool(true),
            Value::Table(Table::new()),
        ];
        let mut checked = 0;
        for spec in SYSCALLS {
            let arity = spec.args.len().min(3);
            let mut idx = vec![0usize; arity];
            loop {
                let args: Vec<Value> = idx.iter().map(|&i| samples[i].clone()).collect();
                let mut c = computer();
                if let Err(e) = check(&c, spec, true, Args(&args)) {
                    let direct = (spec.run)(
                        &mut c,
                        Call {
                            pid: 1,
                            args: Args(&args),
                        },
                    );
                    assert_eq!(direct, Err(e), "{}({args:?})", spec.name);
                    checked += 1;
                }
                // Next combination (odometer).
                let mut k = 0;
                while k < arity {
                    idx[k] += 1;
                    if idx[k] < samples.len() {
                        break;
                    }
                    idx[k] = 0;
                    k += 1;
                }
                if k == arity {
                    break;
                }
            }
        }
        assert!(checked > 1000, "{checked}");
    }

    #[test]
    fn root_rules() {
        let mut c = computer();
        let now = Instant::ZERO;
        for s in SYSCALLS.iter().filter(|s| s.root == RootRule::Always) {
            assert_eq!(
                c.syscall(now, 2, false, s.name, &[]),
                Err(SyscallError::PermissionDenied),
                "{}",
                s.name
            );
        }
        // `ipconfig`: reading is open to all, changing is root's; a bad `info` is reported
        // before the rule, since its presence decides the rule.
        assert!(c
            .syscall(now, 2, false, "ipconfig", &["/top".into()])
            .is_ok());
        let t = Value::Table(Table::new());
        assert_eq!(
            c.syscall(now, 2, false, "ipconfig", &["/top".into(), t]),
            Err(SyscallError::PermissionDenied)
        );
        assert_eq!(
            c.syscall(now, 2, false, "ipconfig", &["/top".into(), "x".into()])
                .unwrap_err()
                .to_string(),
            "bad argument #2 (expected table, got string)"
        );
        assert_eq!(
            c.syscall(now, 2, false, "nosuch", &[])
                .unwrap_err()
                .to_string(),
            "No such syscall: nosuch"
        );
    }

    /// One live handle of every kind, by kind.
    fn handles_of_every_kind(c: &mut Computer) -> Vec<(HandleKind, u64)> {
        let now = Instant::ZERO;
        for uri in [
            "pdp://10.0.0.2:7",
            "rednet://0.0.0.2",
            "http://example.com/",
            "ws://example.com/",
        ] {
            c.syscall(now, 1, false, "connect", &[uri.into()]).unwrap();
        }
        for uri in ["psp://0.0.0.0:5", "http://0.0.0.0:8080"] {
            c.syscall(now, 1, false, "listen", &[uri.into()]).unwrap();
        }
        let listener = std::iter::from_fn(|| c.poll_output())
            .find_map(|o| match o {
                crate::Output::Tcp(crate::TcpRequest::Listen { listener, .. }) => Some(listener),
                _ => None,
            })
            .unwrap();
        let tcp = c
            .handle_tcp_accept(now, listener, "192.0.2.7:4000")
            .unwrap();
        c.handle_tcp(
            now,
            tcp,
            TcpEvent::Data(b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n".to_vec()),
        );
        let mut out = Vec::new();
        for id in c.handles_of(1) {
            out.push((c.handle_kind(id).unwrap(), id.0));
        }
        let mut kinds: Vec<HandleKind> = out.iter().map(|(k, _)| *k).collect();
        kinds.sort();
        kinds.dedup();
        assert_eq!(kinds, HandleKind::ALL.to_vec());
        out
    }

    /// Every row reaches an implementation on a live handle of its kind, and each kind's
    /// implementation knows no method name of another kind that its rows lack.
    #[test]
    fn method_rows_and_implementations_agree() {
        let mut c = computer();
        let handles = handles_of_every_kind(&mut c);
        let mut names: Vec<&str> = METHODS.iter().map(|m| m.name).collect();
        names.sort();
        names.dedup();
        // `close` last: it may end the handle.
        names.sort_by_key(|n| *n == "close");
        for &(kind, id) in &handles {
            let run = methods_of(kind).next().unwrap().run;
            for name in names.iter().filter(|n| method(kind, n).is_none()) {
                assert_eq!(
                    run(&mut c, 1, id, name, &[]),
                    Err(SyscallError::NoSuchMethod),
                    "{kind:?} implements {name} without a row"
                );
                assert_eq!(
                    c.handle_method(Instant::ZERO, 1, id, name, &[]),
                    Err(SyscallError::NoSuchMethod)
                );
            }
            for name in names.iter().filter(|n| method(kind, n).is_some()) {
                let r = c.handle_method(Instant::ZERO, 1, id, name, &[]);
                assert_ne!(r, Err(SyscallError::NoSuchMethod), "{kind:?}:{name}");
            }
        }
    }

    /// Every variant of [`Event`], to check against the rows.
    fn event_samples() -> Vec<Event> {
        let all = vec![
            Event::HandleStatusChange {
                id: HandleId(1),
                status: Status::Error,
                error: Some("x".into()),
            },
            Event::HandleDataReady { id: HandleId(1) },
            Event::NetworkRequest {
                uri: "psp://0.0.0.0:5".into(),
                ip: Some("10.0.0.2".into()),
                handle: HandleId(2),
            },
            Event::NetworkEvent(pip_core::NetEvent::Control {
                sender: Some([10, 0, 0, 2].into()),
                message: pip_core::wire::ControlMessage {
                    message_type: pip_core::wire::MessageType::Pong,
                    error: Some("x".into()),
                    payload: None,
                },
            }),
            Event::ModemMessage {
                device: "/top".into(),
                channel: 1,
                reply_channel: 2,
                message: "hi".into(),
                distance: Some(3.0),
            },
            Event::ListenFailed {
                uri: "http://127.0.0.1:8080".into(),
                error: "Address already in use".into(),
            },
        ];
        // A new variant must be added above: this match has no wildcard.
        for e in &all {
            match e {
                Event::HandleStatusChange { .. }
                | Event::HandleDataReady { .. }
                | Event::NetworkRequest { .. }
                | Event::NetworkEvent(_)
                | Event::ModemMessage { .. }
                | Event::ListenFailed { .. } => {}
            }
        }
        all
    }

    #[test]
    fn events_agree_with_rows() {
        let samples = event_samples();
        for e in &samples {
            let spec = event(e.name()).unwrap_or_else(|| panic!("{} has no row", e.name()));
            let params = e.params();
            let t = params.as_table().unwrap();
            for (k, _) in t.iter() {
                let k = k.as_str().unwrap().to_string_lossy();
                assert!(
                    spec.params.iter().any(|f| f.name == k),
                    "{}.{k} has no row",
                    spec.name
                );
            }
            for f in spec.params.iter().filter(|f| !f.optional) {
                assert!(
                    !params.get(f.name).is_nil(),
                    "{}.{} missing",
                    spec.name,
                    f.name
                );
            }
        }
        for spec in EVENTS {
            assert!(
                samples.iter().any(|e| e.name() == spec.name),
                "{}",
                spec.name
            );
        }
    }

    /// Typed errors keep Phoenix's exact texts.
    #[test]
    fn error_texts() {
        use crate::uri::UriError;
        let golden: &[(SyscallError, &str)] = &[
            (SyscallError::PermissionDenied, "Permission denied"),
            (SyscallError::NoSuchMethod, "No such method"),
            (SyscallError::NoSuchDevice, "No such device"),
            (SyscallError::NoModem, "Could not find a modem"),
            (SyscallError::MissingHost, "Missing host"),
            (SyscallError::MissingPort, "Missing port"),
            (SyscallError::InvalidPort, "Invalid port"),
            (SyscallError::AddressNotAvailable, "Address not available"),
            (SyscallError::PortAlreadyOpen, "Port already open"),
            (
                SyscallError::PortOwnedByOther,
                "Port open in another process",
            ),
            (SyscallError::ClosedFile, "attempt to use a closed file"),
            (
                SyscallError::OutOfRange { n: 3 },
                "bad argument #3 (number out of range)",
            ),
            (
                SyscallError::NoSuchSyscall("x".into()),
                "No such syscall: x",
            ),
            (UriError::Invalid.into(), "Invalid URI"),
            (
                UriError::UnknownScheme("ftp".into()).into(),
                "Invalid protocol ftp",
            ),
            (
                pip_core::ConfigError::RouteExists.into(),
                "Route already exists",
            ),
            (
                pip_core::addr::AddrError::InvalidIp.into(),
                "Invalid IP address",
            ),
            (psp_proto::PspError::NoSuchSocket.into(), "No such socket"),
            (
                crate::handles::HandleError::TooMany.into(),
                "Too many open handles",
            ),
            (
                handle_fsm::HandleError::Read(Status::Closed).into(),
                "attempt to read from a closed handle",
            ),
        ];
        for (e, text) in golden {
            assert_eq!(e.to_string(), *text);
        }
    }
}
