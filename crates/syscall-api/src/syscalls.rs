//! The networking syscalls: the typed calls a Rust host makes, and the Lua-valued entry points
//! ([`crate::registry`]'s `run` functions) that convert a program's arguments and call them.
//!
//! Each Lua entry point runs after the registry has applied the syscall's root rule and its
//! declared argument checks; it reads the arguments again (the reads cannot fail any more, or
//! fail with the same text), converts them, and calls the typed function. There is no second
//! implementation of any syscall.

use std::net::Ipv4Addr;

use handle_fsm::http::{Encoding, HttpOptions};
use modem_value::{Instant, LuaStr, Value};
use pip_core::addr;
use pip_core::ipnet::Ipv4Net;
use pip_core::route::{Route, RouteAction};
use pip_core::wire::MessageType;
use pip_core::{ConfigError, Device, IpConfig, IpConfigChange};
use rednet_codec::ModemId;

use crate::args::{Args, Fields, SyscallError};
use crate::computer::{Computer, LOOPBACK};
use crate::io::{HandleId, Pid};
use crate::kinds::{Kind, RednetHandle};
use crate::uri::{self, Scheme, Uri};

/// `connect`'s options: a URI and what the handle kinds read from the options table.
///
/// [`ConnectOptions::new`] gives the defaults (`encoding = "binary"`, no headers, method chosen
/// by the request, redirects followed, the HTTP client's default timeout, every modem).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// The URI (`url` in the options table).
    pub url: String,
    /// PSP and rednet: the one interface to use (`device`); `None` for all of them.
    pub device: Option<String>,
    /// HTTP and WebSocket: how `read` returns bodies and messages.
    pub encoding: Encoding,
    /// HTTP and WebSocket: request headers, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// HTTP: the method (`None`: `POST` when `write` gives a body, else `GET`).
    pub method: Option<String>,
    /// HTTP: follow redirects.
    pub redirect: bool,
    /// HTTP: timeout in seconds (`None`: the client's default; `0`: none).
    pub timeout: Option<f64>,
}

impl ConnectOptions {
    /// Options for `url` with every default.
    pub fn new(url: impl Into<String>) -> Self {
        let h = HttpOptions::new(url);
        ConnectOptions {
            url: h.url,
            device: None,
            encoding: h.encoding,
            headers: h.headers,
            method: h.method,
            redirect: h.redirect,
            timeout: h.timeout,
        }
    }

    /// The same options constrained to interface `device`.
    pub fn with_device(mut self, device: impl Into<String>) -> Self {
        self.device = Some(device.into());
        self
    }

    fn http(&self) -> HttpOptions {
        let mut h = HttpOptions::new(self.url.clone());
        h.encoding = self.encoding;
        h.headers = self.headers.clone();
        h.method = self.method.clone();
        h.redirect = self.redirect;
        h.timeout = self.timeout;
        h
    }

    fn with_http(mut self, h: HttpOptions) -> Self {
        self.encoding = h.encoding;
        self.headers = h.headers;
        self.method = h.method;
        self.redirect = h.redirect;
        self.timeout = h.timeout;
        self
    }
}

/// The arguments of one Lua-valued syscall.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call<'a> {
    pub pid: Pid,
    pub args: Args<'a>,
}

fn port_of(uri: &Uri) -> Result<Option<u16>, SyscallError> {
    match uri.port {
        None => Ok(None),
        Some(p) => u16::try_from(p)
            .map(Some)
            .map_err(|_| SyscallError::InvalidPort),
    }
}

fn host_ip(uri: &Uri) -> Result<Ipv4Addr, SyscallError> {
    Ok(addr::parse_ip(
        uri.host.as_deref().unwrap_or("").as_bytes(),
    )?)
}

/// A whole number in `min..=u32::MAX`, else `bad argument #n (number out of range)`.
pub(crate) fn whole_in_range(n: usize, v: f64, min: u32) -> Result<u32, SyscallError> {
    if v >= f64::from(min) && v <= f64::from(u32::MAX) && v.fract() == 0.0 {
        Ok(v as u32)
    } else {
        Err(SyscallError::OutOfRange { n })
    }
}

// ---------------------------------------------------------------------------------------------
// Lua entry points, in registry order.

pub(crate) fn lua_arpadd(c: &mut Computer, call: Call<'_>) -> Result<Vec<Value>, SyscallError> {
    let a = call.args;
    let dev = c.device_check(&a.str(1)?.to_string_lossy())?;
    let ip = addr::ip_from_value(a.str_or_num(2)?)?;
    let id = a.opt_num(3)?.map(|n| whole_in_range(3, n, 0)).transpose()?;
    c.arp_set_inner(&dev, ip, id)?;
    Ok(vec![])
}

pub(crate) fn lua_arpdel(c: &mut Computer, call: Call<'_>) -> Result<Vec<Value>, SyscallError> {
    let a = call.args;
    let dev = c.device_check(&a.str(1)?.to_string_lossy())?;
    let ip = addr::ip_from_value(a.str_or_num(2)?)?;
    c.arp_set_inner(&dev, ip, None)?;
    Ok(vec![])
}

pub(crate) fn lua_arplist(c: &mut Computer, call: Call<'_>) -> Result<Vec<Value>, SyscallError> {
    let dev = call.args.str(1)?.to_string_lossy();
    c.device_check(&dev)?;
    Ok(vec![c.pip.arp_list_value(&dev)?])
}

pub(crate) fn lua_checkuri(c: &mut Computer, call: Call<'_>) -> Result<Vec<Value>, SyscallError> {
    let ok = match call.args.get(1).as_str() {
        Some(s) => c.check_uri(&s.to_string_lossy()),
        None => false,
    };
    Ok(vec![Value::Bool(ok)])
}

pub(crate) fn lua_connect(c: &mut Computer, call: Call<'_>) -> Result<Vec<Value>, SyscallError> {
    let options = call.args.get(1);
    let (url, device) = match options {
        Value::Str(s) => (s.to_string_lossy(), None),
        Value::Table(_) => {
            let f = Fields(options);
            let url = f.str("url")?.to_string_lossy();
            (url, f.opt_str("device")?.map(|d| d.to_string_lossy()))
        }
        other => {
            return Err(SyscallError::BadArgument {
                n: 1,
                expected: "string or table",
                got: other.kind(),
            })
        }
    };
    // The URI is parsed before the HTTP fields are read, so its errors come first.
    let scheme = uri::parse(&url, &c.schemes)?.scheme;
    let mut opts = ConnectOptions::new(url);
    opts.device = device;
    if matches!(
        scheme,
        Scheme::Http | Scheme::Https | Scheme::Ws | Scheme::Wss
    ) {
        opts = opts.with_http(HttpOptions::from_value(options)?);
    }
    match c.connect_inner(call.pid, &opts) {
        Ok(id) => Ok(vec![Value::from(id)]),
        Err(SyscallError::Refused(msg)) => Ok(vec![Value::Nil, Value::from(msg)]),
        Err(e) => Err(e),
    }
}

pub(crate) fn lua_ipconfig(c: &mut Computer, call: Call<'_>) -> Result<Vec<Value>, SyscallError> {
    let a = call.args;
    let info = a.opt_table(2)?;
    let dev = c.device_check(&a.str(1)?.to_string_lossy())?;
    let Some(_) = info else {
        return Ok(vec![c.ipconfig(&dev)?.map_or(Value::Nil, |i| i.to_value())]);
    };
    let f = Fields(a.get(2));
    let change = IpConfigChange {
        ip: f
            .opt_str_or_num("ip")?
            .map(addr::ip_from_value)
            .transpose()?,
        prefix: f
            .opt_str_or_num("netmask")?
            .map(addr::prefix_from_value)
            .transpose()?,
        up: f.opt_bool("up")?,
    };
    Ok(vec![c.set_ipconfig_inner(&dev, change)?.to_value()])
}

pub(crate) fn lua_listen(c: &mut Computer, call: Call<'_>) -> Result<Vec<Value>, SyscallError> {
    let text = call.args.str(1)?.to_string_lossy();
    let encoding = match call.args.opt_table(2)? {
        Some(t) => Encoding::from_value(
            t.get(&Value::from_static("encoding"))
                .unwrap_or(&Value::Nil),
        )
        .map_err(|e| SyscallError::msg(e.to_string()))?,
        None => Encoding::Binary,
    };
    c.listen_inner(call.pid, &text, encoding)?;
    Ok(vec![])
}

pub(crate) fn lua_netcontrol(c: &mut Computer, call: Call<'_>) -> Result<Vec<Value>, SyscallError> {
    let a = call.args;
    let ip = addr::ip_from_value(a.str_or_num(1)?)?;
    let ty = a.option(2, CONTROL_TYPES)?;
    let ty = MessageType::parse_netcontrol(ty)?;
    let err = a.opt_str(3)?.cloned();
    let hops = a.opt_num(4)?.map(hops_arg).transpose()?;
    c.netcontrol_inner(ip, ty, err, hops);
    Ok(vec![])
}

/// `netcontrol`'s message types.
pub(crate) const CONTROL_TYPES: &[&str] = &["ping", "pong", "unreachable", "timeout"];

/// `netcontrol`'s hop count: 1 to 2³²−1, fractions truncated.
pub(crate) fn hops_arg(n: f64) -> Result<u32, SyscallError> {
    if (1.0..=f64::from(u32::MAX)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(SyscallError::OutOfRange { n: 4 })
    }
}

pub(crate) fn lua_netevent(c: &mut Computer, call: Call<'_>) -> Result<Vec<Value>, SyscallError> {
    let on = call.args.opt_bool(1)?;
    Ok(vec![Value::Bool(c.netevent_inner(call.pid, on))])
}

pub(crate) fn lua_routeadd(c: &mut Computer, call: Call<'_>) -> Result<Vec<Value>, SyscallError> {
    let opts = call.args.get(1);
    if opts.as_table().is_none() {
        return Err(SyscallError::BadArgument {
            n: 1,
            expected: "table",
            got: opts.kind(),
        });
    }
    let f = Fields(opts);
    let source = f.opt_str_or_num("source")?.ok_or(SyscallError::BadField {
        field: "source",
        expected: "string",
        got: modem_value::Kind::Nil,
    })?;
    let ip = addr::ip_from_value(source)?;
    let prefix = f
        .opt_str_or_num("sourceNetmask")?
        .map(addr::prefix_from_value)
        .transpose()?
        .unwrap_or(32);
    let action = RouteAction::parse(f.option("action", ROUTE_ACTIONS)?)?;
    let device = f.opt_str("device")?.map(|d| d.to_string_lossy());
    if action.needs_device() && device.is_none() {
        return Err(SyscallError::BadField {
            field: "device",
            expected: "string",
            got: modem_value::Kind::Nil,
        });
    }
    let device = match device {
        Some(d) => Some(Device::new(&c.device_check(&d)?)),
        None => None,
    };
    let gateway = f
        .opt_str_or_num("destination")?
        .map(addr::ip_from_value)
        .transpose()?;
    if action == RouteAction::Unicast && gateway.is_none() {
        return Err(SyscallError::BadField {
            field: "destination",
            expected: "string",
            got: modem_value::Kind::Nil,
        });
    }
    let table = match f.opt_num("table")? {
        None => 1,
        Some(n) if n >= 1.0 && n <= f64::from(u32::MAX) && n.fract() == 0.0 => n as u32,
        Some(_) => return Err(ConfigError::TableOutOfRange.into()),
    };
    let route = Route {
        net: addr::network(ip, prefix),
        action,
        device,
        gateway: if action == RouteAction::Unicast {
            gateway
        } else {
            None
        },
    };
    c.route_add_inner(table, route)?;
    Ok(vec![])
}

/// `routeadd`'s actions.
pub(crate) const ROUTE_ACTIONS: &[&str] = &[
    "unicast",
    "broadcast",
    "local",
    "unreachable",
    "prohibit",
    "blackhole",
];

pub(crate) fn lua_routedel(c: &mut Computer, call: Call<'_>) -> Result<Vec<Value>, SyscallError> {
    let a = call.args;
    let source = a.str_or_num(1)?;
    let mask = match a.get(2) {
        Value::Nil => 32,
        v @ (Value::Num(_) | Value::Str(_)) => addr::prefix_from_value(v)?,
        other => {
            return Err(SyscallError::BadArgument {
                n: 2,
                expected: "number or string",
                got: other.kind(),
            })
        }
    };
    let net = match source {
        // A `a.b.c.d/n` source carries its own mask, which wins over the mask argument.
        Value::Str(s) => addr::parse_cidr(s.as_bytes(), mask)?,
        v => addr::network(addr::ip_from_value(v)?, mask),
    };
    let table = match a.opt_num(3)? {
        None => 1,
        Some(n) => whole_in_range(3, n, 1)?,
    };
    c.route_del_inner(table, net)?;
    Ok(vec![])
}

pub(crate) fn lua_routelist(c: &mut Computer, call: Call<'_>) -> Result<Vec<Value>, SyscallError> {
    let t = match call.args.opt_num(1)? {
        None => 1,
        Some(n) => whole_in_range(1, n, 0)?,
    };
    Ok(vec![c.route_list(t)])
}

pub(crate) fn lua_unlisten(c: &mut Computer, call: Call<'_>) -> Result<Vec<Value>, SyscallError> {
    let text = call.args.str(1)?.to_string_lossy();
    c.unlisten_inner(call.pid, &text)?;
    Ok(vec![])
}

// ---------------------------------------------------------------------------------------------
// The typed calls. Each public one takes the current instant, runs the call, and moves the
// stack's work on, exactly as `NetworkStack::syscall` does for the Lua entry points. The root
// rule is the Lua layer's: a Rust host calling these acts with the kernel's authority.

impl Computer {
    /// Advances the clock and makes sure `pid` is known (a host may skip `spawn_process`).
    pub(crate) fn enter(&mut self, now: Instant, pid: Pid) {
        self.advance(now);
        if !self.procs.exists(pid) {
            self.procs.spawn(pid, None);
        }
    }

    fn typed<T>(
        &mut self,
        now: Instant,
        pid: Pid,
        f: impl FnOnce(&mut Self) -> Result<T, SyscallError>,
    ) -> Result<T, SyscallError> {
        self.enter(now, pid);
        let r = f(self);
        self.pump();
        r
    }

    /// `connect`: opens a handle for process `pid` (see [`crate::reference`](mod@crate::reference) for what each
    /// scheme does). A WebSocket URL the client refuses is [`SyscallError::Refused`] (a Lua
    /// program gets `nil, message`).
    pub fn connect(
        &mut self,
        now: Instant,
        pid: Pid,
        options: &ConnectOptions,
    ) -> Result<HandleId, SyscallError> {
        self.typed(now, pid, |c| c.connect_inner(pid, options))
    }

    /// `listen`: starts accepting PSP connections, PDP datagrams, or (with
    /// [`ComputerConfig::http_server`](crate::ComputerConfig::http_server)) HTTP requests and
    /// WebSocket connections on `uri`; each arrival raises [`Event::NetworkRequest`](crate::Event::NetworkRequest).
    pub fn listen(&mut self, now: Instant, pid: Pid, uri: &str) -> Result<(), SyscallError> {
        self.typed(now, pid, |c| c.listen_inner(pid, uri, Encoding::Binary))
    }

    /// `listen(uri, {encoding = …})`: as [`Computer::listen`], with the encoding accepted
    /// WebSocket handles write with (text frames for [`Encoding::Utf8`]).
    pub fn listen_with_encoding(
        &mut self,
        now: Instant,
        pid: Pid,
        uri: &str,
        encoding: Encoding,
    ) -> Result<(), SyscallError> {
        self.typed(now, pid, |c| c.listen_inner(pid, uri, encoding))
    }

    /// `unlisten`: stops a `listen` (handles already accepted stay). Not listening is no error.
    pub fn unlisten(&mut self, now: Instant, pid: Pid, uri: &str) -> Result<(), SyscallError> {
        self.typed(now, pid, |c| c.unlisten_inner(pid, uri))
    }

    /// `ipconfig(device)`: the interface's address, prefix length and state; `None` while it
    /// has no address.
    pub fn ipconfig(&self, device: &str) -> Result<Option<IpConfig>, SyscallError> {
        self.device_check(device)?;
        Ok(self.pip.ipconfig_get(device)?)
    }

    /// `ipconfig(device, info)`: changes the interface's address, prefix or state (fields left
    /// `None` keep their value) and returns the result.
    pub fn set_ipconfig(
        &mut self,
        now: Instant,
        device: &str,
        change: IpConfigChange,
    ) -> Result<IpConfig, SyscallError> {
        self.advance(now);
        let r = self.set_ipconfig_inner(device, change);
        self.pump();
        r
    }

    /// `routelist(table)`: the routes of `table` as Phoenix returns them (a list of
    /// `{source, sourceNetmask, action, device?, destination?}`), or nil if it does not exist.
    /// [`Computer::routes`] gives the same tables typed.
    pub fn route_list(&self, table: u32) -> Value {
        self.pip.route_list(table)
    }

    /// Every route table, typed.
    pub fn routes(&self) -> &pip_core::route::RouteTables {
        self.pip.routes()
    }

    /// `routeadd`: adds `route` to `table` (1 and above).
    pub fn route_add(
        &mut self,
        now: Instant,
        table: u32,
        route: Route,
    ) -> Result<(), SyscallError> {
        self.advance(now);
        let r = self.route_add_inner(table, route);
        self.pump();
        r
    }

    /// `routedel`: removes the route for `net` from `table`.
    pub fn route_del(
        &mut self,
        now: Instant,
        table: u32,
        net: Ipv4Net,
    ) -> Result<(), SyscallError> {
        self.advance(now);
        let r = self.route_del_inner(table, net);
        self.pump();
        r
    }

    /// `arplist(device)`: the usable address → computer ID entries of an interface.
    pub fn arp_list(&self, device: &str) -> Result<Vec<(Ipv4Addr, u32)>, SyscallError> {
        self.device_check(device)?;
        Ok(self.pip.arp_list(device)?)
    }

    /// `arpset`/`arpadd(device, ip, id)` with `Some(id)`, `arpdel(device, ip)` with `None`.
    pub fn arp_set(
        &mut self,
        now: Instant,
        device: &str,
        ip: Ipv4Addr,
        id: Option<u32>,
    ) -> Result<(), SyscallError> {
        self.advance(now);
        let r = self.arp_set_inner(device, ip, id);
        self.pump();
        r
    }

    /// `netcontrol(ip, type, error, hops)`: sends a control message (ping, pong, unreachable,
    /// timeout) to `ip`.
    pub fn netcontrol(
        &mut self,
        now: Instant,
        ip: Ipv4Addr,
        message_type: MessageType,
        error: Option<&str>,
        hops: Option<u32>,
    ) {
        self.advance(now);
        self.netcontrol_inner(ip, message_type, error.map(LuaStr::from), hops);
        self.pump();
    }

    /// `netevent(on)`: subscribes (`Some(true)`) or unsubscribes (`Some(false)`) process `pid`
    /// to [`Event::NetworkEvent`](crate::Event::NetworkEvent); returns whether it is subscribed.
    pub fn netevent(&mut self, now: Instant, pid: Pid, on: Option<bool>) -> bool {
        self.enter(now, pid);
        let r = self.netevent_inner(pid, on);
        self.pump();
        r
    }

    /// `checkuri`: whether `uri` parses, its scheme is served, and it names what its scheme
    /// needs (PSP/PDP: an IP and a port other than 0; rednet: a host that is an IP; HTTP: a URL
    /// the client would request; WebSocket: a URL with a host). Module schemes are accepted.
    pub fn check_uri(&self, uri: &str) -> bool {
        let Ok(uri) = uri::parse(uri, &self.schemes) else {
            return false;
        };
        match &uri.scheme {
            Scheme::Psp | Scheme::Pdp => {
                host_ip(&uri).is_ok() && matches!(port_of(&uri), Ok(Some(p)) if p != 0)
            }
            Scheme::Rednet { .. } => uri
                .host
                .as_deref()
                .is_some_and(|h| addr::parse_ip(h.as_bytes()).is_ok()),
            Scheme::Http | Scheme::Https => {
                HttpOptions::new(uri.text.clone()).prepare(None).is_ok()
            }
            Scheme::Ws | Scheme::Wss => url::Url::parse(&uri.text)
                .is_ok_and(|u| u.host_str().is_some_and(|h| !h.is_empty())),
            Scheme::Module(_) => true,
        }
    }

    /// A device path of this computer (a modem or `/lo`), else `No such device`.
    pub(crate) fn device_check(&self, device: &str) -> Result<String, SyscallError> {
        if device == LOOPBACK || self.modems.iter().any(|d| d.as_str() == device) {
            Ok(device.to_string())
        } else {
            Err(SyscallError::NoSuchDevice)
        }
    }

    pub(crate) fn connect_inner(
        &mut self,
        pid: Pid,
        o: &ConnectOptions,
    ) -> Result<HandleId, SyscallError> {
        let uri = uri::parse(&o.url, &self.schemes)?;
        let device = o.device.as_deref();
        let id = match &uri.scheme {
            Scheme::Http | Scheme::Https => self.connect_http(pid, o.http())?,
            Scheme::Ws | Scheme::Wss => self.connect_ws(pid, o.http())?,
            Scheme::Psp => self.connect_psp(pid, &uri, device)?,
            Scheme::Pdp => self.connect_pdp(pid, &uri)?,
            Scheme::Rednet { protocol } => {
                let protocol = protocol.clone();
                self.connect_rednet(pid, &uri, protocol, device)?
            }
            Scheme::Module(s) => return Err(uri::UriError::UnknownScheme(s.clone()).into()),
        };
        Ok(HandleId(id))
    }

    fn option_device(&self, device: Option<&str>) -> Result<Option<Device>, SyscallError> {
        match device {
            None => Ok(None),
            Some(d) if d == LOOPBACK => Ok(Some(Device::new(LOOPBACK))),
            Some(d) => self
                .modems
                .iter()
                .find(|m| m.as_str() == d)
                .cloned()
                .map(Some)
                .ok_or(SyscallError::NoSuchDevice),
        }
    }

    fn connect_psp(
        &mut self,
        pid: Pid,
        uri: &Uri,
        device: Option<&str>,
    ) -> Result<u64, SyscallError> {
        let device = self.option_device(device)?;
        let ip = host_ip(uri)?;
        let port = port_of(uri)?;
        let id = self.handles.peek_next_id();
        let local = self.psp.connect(self.now, &mut self.rng, id, ip, port)?;
        let hid = self.handles.insert(pid, Kind::Psp)?;
        debug_assert_eq!(hid, id);
        let key = (local, ip, port.unwrap_or(0));
        self.syn_wait.insert(key, id);
        if let Some(d) = device {
            self.conn_device.insert(id, d);
        }
        Ok(id)
    }

    fn connect_pdp(&mut self, pid: Pid, uri: &Uri) -> Result<u64, SyscallError> {
        let ip = host_ip(uri)?;
        let port = port_of(uri)?;
        let id = self.handles.peek_next_id();
        let ifaces: Vec<Device> = self.pip.devices().cloned().collect();
        self.pdp
            .connect(self.now, &mut self.rng, id, ip, port, ifaces)?;
        self.handles.insert(pid, Kind::Pdp)?;
        Ok(id)
    }

    fn connect_rednet(
        &mut self,
        pid: Pid,
        uri: &Uri,
        protocol: Option<String>,
        device: Option<&str>,
    ) -> Result<u64, SyscallError> {
        let host = uri.host.as_deref().ok_or(SyscallError::MissingHost)?;
        let ip = addr::parse_ip(host.as_bytes())?;
        let target = (ip != Ipv4Addr::BROADCAST).then(|| u32::from(ip));
        let modems: Vec<Device> = match device {
            Some(d) => vec![self
                .modems
                .iter()
                .find(|m| m.as_str() == d)
                .cloned()
                .ok_or(SyscallError::NoSuchDevice)?],
            None => self.modems.clone(),
        };
        if modems.is_empty() {
            return Err(SyscallError::NoModem);
        }
        for m in &modems {
            if !self.rednet.is_open(&ModemId::from(m.as_str())) {
                self.rednet.open(&ModemId::from(m.as_str()))?;
            }
        }
        let h = RednetHandle {
            target,
            protocol: protocol.map(|p| p.as_str().into()),
            modems,
            queue: Default::default(),
            closed: false,
        };
        Ok(self.handles.insert(pid, Kind::Rednet(h))?)
    }

    /// Up interfaces whose address is `ip` (all up interfaces for `0.0.0.0`).
    fn interfaces_for(&self, ip: Ipv4Addr) -> Vec<Device> {
        self.pip
            .devices()
            .filter(|d| {
                matches!(self.pip.ipconfig_get(d.as_str()), Ok(Some(c)) if c.up && (ip == Ipv4Addr::UNSPECIFIED || c.ip == ip))
            })
            .cloned()
            .collect()
    }

    pub(crate) fn listen_inner(
        &mut self,
        pid: Pid,
        text: &str,
        encoding: Encoding,
    ) -> Result<(), SyscallError> {
        let uri = uri::parse(text, &self.schemes)?;
        match &uri.scheme {
            Scheme::Psp | Scheme::Pdp => {
                let ip = host_ip(&uri)?;
                let port = port_of(&uri)?;
                let ifaces = self.interfaces_for(ip);
                if ip != Ipv4Addr::UNSPECIFIED && ifaces.is_empty() {
                    return Err(SyscallError::AddressNotAvailable);
                }
                let id = self.handles.peek_next_id();
                if uri.scheme == Scheme::Psp {
                    self.psp.listen(id, &uri.text, ip, port, ifaces)?;
                } else {
                    self.pdp.listen(id, &uri.text, ip, port, ifaces)?;
                    if let Some(p) = port {
                        self.pdp_listeners.insert(p, id);
                    }
                }
                let kind = if uri.scheme == Scheme::Psp {
                    Kind::Psp
                } else {
                    Kind::Pdp
                };
                self.handles.insert(pid, kind)?;
                Ok(())
            }
            Scheme::Http | Scheme::Ws if self.config.http_server => {
                let port = port_of(&uri)?.unwrap_or(80);
                let ws = uri.scheme == Scheme::Ws;
                self.listen_web(pid, &uri.text, uri.host.as_deref(), port, ws, encoding)
            }
            other => Err(uri::UriError::UnknownScheme(other.as_string()).into()),
        }
    }

    pub(crate) fn unlisten_inner(&mut self, pid: Pid, text: &str) -> Result<(), SyscallError> {
        let uri = uri::parse(text, &self.schemes)?;
        let port = port_of(&uri)?;
        let listener = match (&uri.scheme, port) {
            (Scheme::Psp, Some(p)) => self.psp.listener(p),
            (Scheme::Pdp, Some(p)) => self.pdp_listeners.get(&p).copied(),
            (Scheme::Http | Scheme::Ws, p) if self.config.http_server => {
                return self.unlisten_web(pid, p.unwrap_or(80));
            }
            (Scheme::Psp | Scheme::Pdp, None) => return Err(SyscallError::MissingPort),
            (other, _) => return Err(uri::UriError::UnknownScheme(other.as_string()).into()),
        };
        // Not listening is a silent no-op.
        let Some(lid) = listener else {
            return Ok(());
        };
        if let Some(owner) = self.handles.owner(lid) {
            if !self.procs.is_self_or_descendant(pid, owner) {
                return Err(SyscallError::PortOwnedByOther);
            }
        }
        if let Some(p) = port {
            if uri.scheme == Scheme::Psp {
                self.psp.unlisten(p);
            } else {
                self.pdp.unlisten(p);
                self.pdp_listeners.remove(&p);
            }
        }
        self.handles.remove(lid);
        Ok(())
    }

    fn set_ipconfig_inner(
        &mut self,
        device: &str,
        change: IpConfigChange,
    ) -> Result<IpConfig, SyscallError> {
        self.device_check(device)?;
        Ok(self.pip.ipconfig(device, change)?)
    }

    fn route_add_inner(&mut self, table: u32, route: Route) -> Result<(), SyscallError> {
        if let Some(d) = &route.device {
            self.device_check(d.as_str())?;
        }
        Ok(self.pip.route_add(table, route)?)
    }

    fn route_del_inner(&mut self, table: u32, net: Ipv4Net) -> Result<(), SyscallError> {
        Ok(self.pip.route_remove(table, net)?)
    }

    fn arp_set_inner(
        &mut self,
        device: &str,
        ip: Ipv4Addr,
        id: Option<u32>,
    ) -> Result<(), SyscallError> {
        self.device_check(device)?;
        Ok(self.pip.arp_set(device, ip, id)?)
    }

    fn netcontrol_inner(
        &mut self,
        ip: Ipv4Addr,
        message_type: MessageType,
        error: Option<LuaStr>,
        hops: Option<u32>,
    ) {
        self.pip.netcontrol(self.now, ip, message_type, error, hops);
    }

    fn netevent_inner(&mut self, pid: Pid, on: Option<bool>) -> bool {
        if let Some(on) = on {
            if on {
                self.netevent.insert(pid);
            } else {
                self.netevent.remove(&pid);
            }
            self.pip.set_netevent(!self.netevent.is_empty());
        }
        self.netevent.contains(&pid)
    }
}
