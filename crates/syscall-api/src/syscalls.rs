//! The networking syscalls (spec §15, seed `networking-syscalls.md`) with Phoenix's exact errors.

use std::net::Ipv4Addr;

use modem_value::Value;
use pip_core::addr::{self, AddrError};
use pip_core::route::{Route, RouteAction};
use pip_core::{ConfigError, Device, IpConfigChange, PipStack};
use rednet_codec::ModemId;

use crate::args::{Args, Fields, SyscallError};
use crate::computer::{Computer, LOOPBACK};
use crate::handles::Pid;
use crate::kinds::{Kind, RednetHandle};
use crate::uri::{self, Scheme, Uri};

impl From<ConfigError> for SyscallError {
    fn from(e: ConfigError) -> Self {
        SyscallError::Message(e.to_string())
    }
}

impl From<AddrError> for SyscallError {
    fn from(e: AddrError) -> Self {
        SyscallError::Message(ConfigError::from(e).to_string())
    }
}

impl From<psp_proto::PspError> for SyscallError {
    fn from(e: psp_proto::PspError) -> Self {
        SyscallError::Message(e.to_string())
    }
}

impl From<uri::UriError> for SyscallError {
    fn from(e: uri::UriError) -> Self {
        SyscallError::Message(e.to_string())
    }
}

/// The syscalls that only root may make (for `ipconfig`, only with `info`).
pub const ROOT_ONLY: &[&str] = &[
    "routeadd",
    "routedel",
    "arpset",
    "arpadd",
    "arpdel",
    "netcontrol",
    "netevent",
];

/// Every syscall name this crate serves.
pub const SYSCALLS: &[&str] = &[
    "connect",
    "listen",
    "unlisten",
    "ipconfig",
    "routelist",
    "routeadd",
    "routedel",
    "arplist",
    "arpset",
    "arpadd",
    "arpdel",
    "netcontrol",
    "netevent",
    "checkuri",
];

fn port_of(uri: &Uri) -> Result<Option<u16>, SyscallError> {
    match uri.port {
        None => Ok(None),
        Some(p) => u16::try_from(p)
            .map(Some)
            .map_err(|_| SyscallError::msg("Invalid port")),
    }
}

fn host_ip(uri: &Uri) -> Result<Ipv4Addr, SyscallError> {
    Ok(addr::parse_ip(
        uri.host.as_deref().unwrap_or("").as_bytes(),
    )?)
}

fn table_number(v: Option<f64>, default: u32) -> Result<u32, SyscallError> {
    match v {
        None => Ok(default),
        Some(n) if n >= 0.0 && n <= f64::from(u32::MAX) && n.fract() == 0.0 => Ok(n as u32),
        Some(_) => Err(SyscallError::msg("bad argument #1 (number out of range)")),
    }
}

impl Computer {
    pub(crate) fn dispatch_syscall(
        &mut self,
        pid: Pid,
        root: bool,
        name: &str,
        args: &[Value],
    ) -> Result<Vec<Value>, SyscallError> {
        let a = Args(args);
        if ROOT_ONLY.contains(&name) && !root {
            return Err(SyscallError::PermissionDenied);
        }
        match name {
            "connect" => self.sys_connect(pid, a),
            "listen" => self.sys_listen(pid, a).map(|()| vec![]),
            "unlisten" => self.sys_unlisten(pid, a).map(|()| vec![]),
            "ipconfig" => self.sys_ipconfig(root, a).map(|v| vec![v]),
            "routelist" => {
                let t = table_number(a.opt_num(1)?, 1)?;
                Ok(vec![self.pip.route_list(t)])
            }
            "routeadd" => self.sys_routeadd(a).map(|()| vec![]),
            "routedel" => self.sys_routedel(a).map(|()| vec![]),
            "arplist" => {
                let dev = self.device_arg(a, 1)?;
                Ok(vec![self.pip.arp_list_value(&dev)?])
            }
            "arpset" | "arpadd" => {
                let dev = self.device_arg(a, 1)?;
                let ip = addr::ip_from_value(a.str_or_num(2)?)?;
                let id = match a.opt_num(3)? {
                    None => None,
                    Some(n) if n >= 0.0 && n <= f64::from(u32::MAX) && n.fract() == 0.0 => {
                        Some(n as u32)
                    }
                    Some(_) => {
                        return Err(SyscallError::msg("bad argument #3 (number out of range)"))
                    }
                };
                self.pip.arp_set(&dev, ip, id)?;
                Ok(vec![])
            }
            "arpdel" => {
                let dev = self.device_arg(a, 1)?;
                let ip = addr::ip_from_value(a.str_or_num(2)?)?;
                self.pip.arp_set(&dev, ip, None)?;
                Ok(vec![])
            }
            "netcontrol" => {
                let ip = addr::ip_from_value(a.str_or_num(1)?)?;
                let ty = a.option(2, &["ping", "pong", "unreachable", "timeout"])?;
                let mt = PipStack::<modem_value::SplitMix64>::parse_control_type(ty)?;
                let err = a.opt_str(3)?.cloned();
                let hops = match a.opt_num(4)? {
                    None => None,
                    Some(n) if (1.0..=f64::from(u32::MAX)).contains(&n) => Some(n as u32),
                    Some(_) => {
                        return Err(SyscallError::msg("bad argument #4 (number out of range)"))
                    }
                };
                self.pip.netcontrol(self.now, ip, mt, err, hops);
                Ok(vec![])
            }
            "netevent" => {
                if let Some(on) = a.opt_bool(1)? {
                    if on {
                        self.netevent.insert(pid);
                    } else {
                        self.netevent.remove(&pid);
                    }
                    self.pip.set_netevent(!self.netevent.is_empty());
                }
                Ok(vec![Value::Bool(self.netevent.contains(&pid))])
            }
            "checkuri" => Ok(vec![Value::Bool(self.check_uri(a.get(1)))]),
            _ => Err(SyscallError::msg(format!("No such syscall: {name}"))),
        }
    }

    /// A device path argument; `No such device` if it is not an interface of this computer.
    fn device_arg(&self, a: Args<'_>, n: usize) -> Result<String, SyscallError> {
        let s = a.str(n)?.to_string_lossy();
        if s == LOOPBACK || self.modems.iter().any(|d| d.as_str() == s) {
            Ok(s)
        } else {
            Err(SyscallError::msg("No such device"))
        }
    }

    fn sys_connect(&mut self, pid: Pid, a: Args<'_>) -> Result<Vec<Value>, SyscallError> {
        let options = a.get(1);
        let url = match options {
            Value::Str(s) => s.to_string_lossy(),
            Value::Table(_) => Fields(options).str("url")?.to_string_lossy(),
            other => {
                return Err(SyscallError::BadArgument {
                    n: 1,
                    expected: "string or table",
                    got: other.kind(),
                })
            }
        };
        let device = if options.as_table().is_some() {
            Fields(options)
                .opt_str("device")?
                .map(|d| d.to_string_lossy())
        } else {
            None
        };
        let uri = uri::parse(&url, &self.schemes)?;
        match &uri.scheme {
            Scheme::Http | Scheme::Https => Ok(vec![self.connect_http(pid, options)?]),
            Scheme::Ws | Scheme::Wss => self.connect_ws(pid, options),
            Scheme::Psp => self.connect_psp(pid, &uri, device.as_deref()),
            Scheme::Pdp => self.connect_pdp(pid, &uri),
            Scheme::Rednet { protocol } => {
                let protocol = protocol.clone();
                self.connect_rednet(pid, &uri, protocol, device.as_deref())
            }
            Scheme::Module(s) => Err(SyscallError::msg(format!("Invalid protocol {s}"))),
        }
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
                .ok_or_else(|| SyscallError::msg("No such device")),
        }
    }

    fn connect_psp(
        &mut self,
        pid: Pid,
        uri: &Uri,
        device: Option<&str>,
    ) -> Result<Vec<Value>, SyscallError> {
        let device = self.option_device(device)?;
        let ip = host_ip(uri)?;
        let port = port_of(uri)?;
        let id = self.handles.peek_next_id();
        let local = self.psp.connect(self.now, &mut self.rng, id, ip, port)?;
        let hid = self
            .handles
            .insert(pid, Kind::Psp)
            .map_err(|e| SyscallError::msg(e.to_string()))?;
        debug_assert_eq!(hid, id);
        let key = (local, ip, port.unwrap_or(0));
        self.syn_wait.insert(key, id);
        if let Some(d) = device {
            self.conn_device.insert(key, d);
        }
        Ok(vec![Value::from(id)])
    }

    fn all_interfaces(&self) -> Vec<Device> {
        self.pip.devices().cloned().collect()
    }

    fn connect_pdp(&mut self, pid: Pid, uri: &Uri) -> Result<Vec<Value>, SyscallError> {
        let ip = host_ip(uri)?;
        let port = port_of(uri)?;
        let id = self.handles.peek_next_id();
        let ifaces = self.all_interfaces();
        self.pdp
            .connect(self.now, &mut self.rng, id, ip, port, ifaces)?;
        self.handles
            .insert(pid, Kind::Pdp)
            .map_err(|e| SyscallError::msg(e.to_string()))?;
        Ok(vec![Value::from(id)])
    }

    fn connect_rednet(
        &mut self,
        pid: Pid,
        uri: &Uri,
        protocol: Option<String>,
        device: Option<&str>,
    ) -> Result<Vec<Value>, SyscallError> {
        let host = uri
            .host
            .as_deref()
            .ok_or_else(|| SyscallError::msg("Missing host"))?;
        let ip = addr::parse_ip(host.as_bytes())?;
        let target = (ip != Ipv4Addr::BROADCAST).then(|| u32::from(ip));
        let modems: Vec<Device> = match device {
            Some(d) => vec![self
                .modems
                .iter()
                .find(|m| m.as_str() == d)
                .cloned()
                .ok_or_else(|| SyscallError::msg("No such device"))?],
            None => self.modems.clone(),
        };
        if modems.is_empty() {
            return Err(SyscallError::msg("Could not find a modem"));
        }
        for m in &modems {
            if !self.rednet.is_open(&ModemId::from(m.as_str())) {
                self.rednet
                    .open(&ModemId::from(m.as_str()))
                    .map_err(|e| SyscallError::msg(e.to_string()))?;
            }
        }
        let h = RednetHandle {
            target,
            protocol: protocol.map(|p| p.as_str().into()),
            modems,
            queue: Default::default(),
            closed: false,
        };
        let id = self
            .handles
            .insert(pid, Kind::Rednet(h))
            .map_err(|e| SyscallError::msg(e.to_string()))?;
        Ok(vec![Value::from(id)])
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

    fn sys_listen(&mut self, pid: Pid, a: Args<'_>) -> Result<(), SyscallError> {
        let text = a.str(1)?.to_string_lossy();
        let uri = uri::parse(&text, &self.schemes)?;
        match &uri.scheme {
            Scheme::Psp | Scheme::Pdp => {
                let ip = host_ip(&uri)?;
                let port = port_of(&uri)?;
                let ifaces = self.interfaces_for(ip);
                if ip != Ipv4Addr::UNSPECIFIED && ifaces.is_empty() {
                    // Q-PSP10.
                    return Err(SyscallError::msg("Address not available"));
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
                self.handles
                    .insert(pid, kind)
                    .map_err(|e| SyscallError::msg(e.to_string()))?;
                Ok(())
            }
            Scheme::Http | Scheme::Ws if self.config.http_server => {
                let port = port_of(&uri)?.unwrap_or(80);
                let ws = uri.scheme == Scheme::Ws;
                self.listen_web(pid, &uri.text, uri.host.as_deref(), port, ws)
            }
            other => Err(SyscallError::msg(format!(
                "Invalid protocol {}",
                other.as_string()
            ))),
        }
    }

    fn sys_unlisten(&mut self, pid: Pid, a: Args<'_>) -> Result<(), SyscallError> {
        let text = a.str(1)?.to_string_lossy();
        let uri = uri::parse(&text, &self.schemes)?;
        let port = port_of(&uri)?;
        let listener = match (&uri.scheme, port) {
            (Scheme::Psp, Some(p)) => self.psp.listener(p),
            (Scheme::Pdp, Some(p)) => self.pdp_listeners.get(&p).copied(),
            (Scheme::Http | Scheme::Ws, p) if self.config.http_server => {
                return self.unlisten_web(pid, p.unwrap_or(80));
            }
            (Scheme::Psp | Scheme::Pdp, None) => return Err(SyscallError::msg("Missing port")),
            (other, _) => {
                return Err(SyscallError::msg(format!(
                    "Invalid protocol {}",
                    other.as_string()
                )))
            }
        };
        // Q-PSP11: not listening is a silent no-op.
        let Some(lid) = listener else {
            return Ok(());
        };
        if let Some(owner) = self.handles.owner(lid) {
            if !self.procs.is_self_or_descendant(pid, owner) {
                return Err(SyscallError::msg("Port open in another process"));
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

    fn sys_ipconfig(&mut self, root: bool, a: Args<'_>) -> Result<Value, SyscallError> {
        let info = a.opt_table(2)?;
        if info.is_some() && !root {
            return Err(SyscallError::PermissionDenied);
        }
        let dev = self.device_arg(a, 1)?;
        let Some(_) = info else {
            return Ok(self
                .pip
                .ipconfig_get(&dev)?
                .map_or(Value::Nil, |c| c.to_value()));
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
        Ok(self.pip.ipconfig(&dev, change)?.to_value())
    }

    fn sys_routeadd(&mut self, a: Args<'_>) -> Result<(), SyscallError> {
        let opts = a.get(1);
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
        let action = RouteAction::parse(f.option(
            "action",
            &[
                "unicast",
                "broadcast",
                "local",
                "unreachable",
                "prohibit",
                "blackhole",
            ],
        )?)?;
        let device = f.opt_str("device")?.map(|d| d.to_string_lossy());
        if action.needs_device() && device.is_none() {
            return Err(SyscallError::BadField {
                field: "device",
                expected: "string",
                got: modem_value::Kind::Nil,
            });
        }
        let device = match device {
            Some(d) => Some(Device::new(&self.device_arg(Args(&[Value::from(d)]), 1)?)),
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
        Ok(self.pip.route_add(table, route)?)
    }

    fn sys_routedel(&mut self, a: Args<'_>) -> Result<(), SyscallError> {
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
            // Q-RT3: `a.b.c.d/n` overrides the mask argument.
            Value::Str(s) => addr::parse_cidr(s.as_bytes(), mask)?,
            v => addr::network(addr::ip_from_value(v)?, mask),
        };
        let table = match a.opt_num(3)? {
            None => 1,
            Some(n) if n >= 1.0 && n <= f64::from(u32::MAX) && n.fract() == 0.0 => n as u32,
            Some(_) => return Err(SyscallError::msg("bad argument #3 (number out of range)")),
        };
        Ok(self.pip.route_remove(table, net)?)
    }

    /// Q-CHK1: the URI parses, its scheme is served, and psp/pdp have a port and a valid IP,
    /// rednet a host, http/ws a URL the HTTP client would accept.
    pub(crate) fn check_uri(&self, v: &Value) -> bool {
        let Some(s) = v.as_str() else {
            return false;
        };
        let Ok(uri) = uri::parse(&s.to_string_lossy(), &self.schemes) else {
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
            Scheme::Http | Scheme::Https => handle_fsm::http::HttpOptions::new(uri.text.clone())
                .prepare(None)
                .is_ok(),
            Scheme::Ws | Scheme::Wss => url::Url::parse(&uri.text)
                .is_ok_and(|u| u.host_str().is_some_and(|h| !h.is_empty())),
            Scheme::Module(_) => true,
        }
    }
}
