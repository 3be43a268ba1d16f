//! Route tables.
//!
//! Routes live in numbered tables. Table 0 is the system's: for each configured interface it
//! holds exactly one `local` route for the interface subnet and one `broadcast` /32 route for
//! its directed broadcast, updated in place when the address changes. Programs add
//! routes to tables ≥ 1; a table exists from its first `add`.
//!
//! Lookup is Phoenix's longest-prefix match across **all** tables; on equal prefix length the
//! higher-numbered table wins, then the earlier-inserted entry (table numbers only break
//! ties). Every change recompiles the tables into an [`LpmTable`] in exactly that
//! priority order, so [`RouteTables::lookup`] answers like [`RouteTables::lookup_linear`] (the
//! literal scan) for every address; a property test checks it.

mod lpm;

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::ToString;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use ipnet::Ipv4Net;
use modem_value::{Table, Value};

use crate::addr::{directed_broadcast, ip_value, network};
use crate::{ConfigError, Device};

pub use lpm::LpmTable;

/// The table programs use when they name none.
pub const DEFAULT_USER_TABLE: u32 = 1;
/// Most tables a stack keeps (table numbers are free, but each is a map entry).
pub const MAX_TABLES: usize = 1024;
/// Most routes a stack keeps across all tables (routes come from privileged programs only;
/// the bound keeps a runaway script from exhausting memory).
pub const MAX_ROUTES: usize = 1 << 20;

/// What a route does with a matching packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteAction {
    /// Forward via the gateway `destination` on `device`.
    Unicast,
    /// Link-broadcast on `device`.
    Broadcast,
    /// The destination is on-link on `device`.
    Local,
    /// Answer "Destination unreachable".
    Unreachable,
    /// Answer "Prohibited".
    Prohibit,
    /// Drop silently.
    Blackhole,
}

impl RouteAction {
    /// Every action, in the order the spec lists them.
    pub const ALL: [RouteAction; 6] = [
        RouteAction::Unicast,
        RouteAction::Broadcast,
        RouteAction::Local,
        RouteAction::Unreachable,
        RouteAction::Prohibit,
        RouteAction::Blackhole,
    ];

    /// The wire/syscall name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RouteAction::Unicast => "unicast",
            RouteAction::Broadcast => "broadcast",
            RouteAction::Local => "local",
            RouteAction::Unreachable => "unreachable",
            RouteAction::Prohibit => "prohibit",
            RouteAction::Blackhole => "blackhole",
        }
    }

    /// Parses a name; the error is Phoenix's `bad field 'action' (invalid option '<x>')`.
    pub fn parse(name: &str) -> Result<RouteAction, ConfigError> {
        RouteAction::ALL
            .into_iter()
            .find(|a| a.as_str() == name)
            .ok_or_else(|| ConfigError::InvalidAction(name.to_string()))
    }

    /// Whether routes with this action name a device (`local`, `unicast`, `broadcast`).
    pub const fn needs_device(self) -> bool {
        matches!(
            self,
            RouteAction::Unicast | RouteAction::Broadcast | RouteAction::Local
        )
    }
}

/// One route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The destination network (`source`/`sourceNetmask` in Phoenix's words), host bits clear.
    pub net: Ipv4Net,
    /// What to do.
    pub action: RouteAction,
    /// The interface, for `local`, `unicast` and `broadcast` (ignored by the other actions).
    pub device: Option<Device>,
    /// The gateway, for `unicast` (Phoenix's `destination`).
    pub gateway: Option<Ipv4Addr>,
}

impl Route {
    /// The route as `routelist` returns it: `{source, sourceNetmask, action, device,
    /// destination}` with dotted strings, a prefix length and the device path.
    pub fn to_value(&self) -> Value {
        let mut t = Table::with_capacity(5);
        t.set("action", Value::from_static(self.action.as_str()));
        t.set("destination", self.gateway.map_or(Value::Nil, ip_value));
        t.set(
            "device",
            self.device
                .as_ref()
                .map_or(Value::Nil, |d| Value::from(d.as_str())),
        );
        t.set("source", ip_value(self.net.network()));
        t.set("sourceNetmask", Value::from(self.net.prefix_len()));
        Value::Table(t)
    }
}

/// All route tables of one stack, with the compiled lookup structure.
#[derive(Clone, Debug, Default)]
pub struct RouteTables {
    tables: BTreeMap<u32, Vec<Route>>,
    /// The networks of each user table, for the `Route already exists` check.
    keys: BTreeMap<u32, BTreeSet<Ipv4Net>>,
    /// Routes in lookup priority order (tables descending, insertion order); the LPM's values
    /// index this.
    compiled: Vec<Route>,
    lpm: LpmTable,
    len: usize,
}

impl RouteTables {
    /// Empty tables (not even table 0).
    pub fn new() -> RouteTables {
        RouteTables::default()
    }

    /// Adds a user route to `table` (≥ 1). The network is truncated to its prefix. Devices are
    /// not checked here (the stack checks them); required fields are.
    pub fn add(&mut self, table: u32, route: Route) -> Result<(), ConfigError> {
        self.insert(table, route)?;
        self.recompile();
        Ok(())
    }

    /// Adds many routes to `table` and recompiles the lookup structure once (bulk loading:
    /// [`RouteTables::add`] recompiles after every route). Stops at the first error; the
    /// routes added before it stay.
    pub fn add_all(
        &mut self,
        table: u32,
        routes: impl IntoIterator<Item = Route>,
    ) -> Result<(), ConfigError> {
        let mut result = Ok(());
        for r in routes {
            result = self.insert(table, r);
            if result.is_err() {
                break;
            }
        }
        self.recompile();
        result
    }

    fn insert(&mut self, table: u32, mut route: Route) -> Result<(), ConfigError> {
        if table == 0 {
            return Err(ConfigError::TableOutOfRange);
        }
        route.net = route.net.trunc();
        if route.action.needs_device() && route.device.is_none() {
            return Err(ConfigError::MissingField("device"));
        }
        if route.action == RouteAction::Unicast && route.gateway.is_none() {
            return Err(ConfigError::MissingField("destination"));
        }
        if !route.action.needs_device() {
            route.device = None;
        }
        if route.action != RouteAction::Unicast {
            route.gateway = None;
        }
        if !self.tables.contains_key(&table) && self.tables.len() >= MAX_TABLES {
            return Err(ConfigError::TableOutOfRange);
        }
        if self.len >= MAX_ROUTES {
            return Err(ConfigError::TableOutOfRange);
        }
        let keys = self.keys.entry(table).or_default();
        if !keys.insert(route.net) {
            return Err(ConfigError::RouteExists);
        }
        self.tables.entry(table).or_default().push(route);
        self.len += 1;
        Ok(())
    }

    /// Removes the route for `net` from `table` (≥ 1); a missing route is not an error.
    pub fn remove(&mut self, table: u32, net: Ipv4Net) -> Result<(), ConfigError> {
        if table == 0 {
            return Err(ConfigError::TableOutOfRange);
        }
        let net = net.trunc();
        let entries = self
            .tables
            .get_mut(&table)
            .ok_or(ConfigError::NoSuchTable)?;
        if let Some(keys) = self.keys.get_mut(&table) {
            keys.remove(&net);
        }
        let before = entries.len();
        entries.retain(|r| r.net != net);
        if entries.len() != before {
            self.len -= before - entries.len();
            self.recompile();
        }
        Ok(())
    }

    /// The routes of `table` in insertion order, or `None` if it does not exist.
    pub fn list(&self, table: u32) -> Option<&[Route]> {
        self.tables.get(&table).map(Vec::as_slice)
    }

    /// `routelist`'s result: a Lua sequence of [`Route::to_value`] tables, or nil.
    pub fn list_value(&self, table: u32) -> Value {
        self.list(table).map_or(Value::Nil, |routes| {
            Value::Table(Table::array(routes.iter().map(Route::to_value)))
        })
    }

    /// Numbers of the existing tables, ascending.
    pub fn table_numbers(&self) -> impl Iterator<Item = u32> + '_ {
        self.tables.keys().copied()
    }

    /// Total number of routes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no routes at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sets (or with `None` removes) the two table-0 routes of `device` for the interface
    /// address `ip/prefix`: `local` on the subnet and `broadcast` on its directed broadcast.
    /// Existing auto routes of the device are updated in place.
    pub fn set_auto_routes(&mut self, device: &Device, addr: Option<(Ipv4Addr, u8)>) {
        let t0 = self.tables.entry(0).or_default();
        let before = t0.len();
        match addr {
            None => t0.retain(|r| r.device.as_ref() != Some(device)),
            Some((ip, prefix)) => {
                let local = Route {
                    net: network(ip, prefix),
                    action: RouteAction::Local,
                    device: Some(device.clone()),
                    gateway: None,
                };
                let bcast = Route {
                    net: network(directed_broadcast(ip, prefix), 32),
                    action: RouteAction::Broadcast,
                    device: Some(device.clone()),
                    gateway: None,
                };
                let mut local = Some(local);
                let mut bcast = Some(bcast);
                for r in t0.iter_mut() {
                    if r.device.as_ref() == Some(device) {
                        match r.action {
                            RouteAction::Local => {
                                if let Some(l) = local.take() {
                                    *r = l;
                                }
                            }
                            RouteAction::Broadcast => {
                                if let Some(b) = bcast.take() {
                                    *r = b;
                                }
                            }
                            _ => {}
                        }
                    }
                }
                t0.extend(local);
                t0.extend(bcast);
            }
        }
        self.len = self.len + t0.len() - before;
        self.recompile();
    }

    /// Removes every user route naming `device` (when the device is detached).
    pub fn remove_device_routes(&mut self, device: &Device) {
        for (n, routes) in self.tables.iter_mut() {
            routes.retain(|r| r.device.as_ref() != Some(device));
            if let Some(keys) = self.keys.get_mut(n) {
                *keys = routes.iter().map(|r| r.net).collect();
            }
        }
        self.len = self.tables.values().map(Vec::len).sum();
        self.recompile();
    }

    fn recompile(&mut self) {
        self.compiled = self
            .tables
            .iter()
            .rev()
            .flat_map(|(_, routes)| routes.iter().cloned())
            .collect();
        let prefixes: Vec<(Ipv4Net, u32)> = self
            .compiled
            .iter()
            .enumerate()
            .map(|(i, r)| (r.net, i as u32))
            .collect();
        self.lpm = LpmTable::build(&prefixes);
    }

    /// The best route for `dst`, through the compiled trie. Never allocates.
    #[inline]
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<&Route> {
        self.lpm
            .lookup(dst)
            .and_then(|i| self.compiled.get(i as usize))
    }

    /// The best route for `dst` among routes on `device`, in the same priority order.
    /// A linear scan: only used when a program pins a device.
    pub fn lookup_on_device(&self, dst: Ipv4Addr, device: &Device) -> Option<&Route> {
        let mut best: Option<&Route> = None;
        for r in &self.compiled {
            if r.device.as_ref() == Some(device)
                && r.net.contains(&dst)
                && best.is_none_or(|b| r.net.prefix_len() > b.net.prefix_len())
            {
                best = Some(r);
            }
        }
        best
    }

    /// The literal scan Phoenix does: tables from the highest number down, entries in insertion order,
    /// a later candidate replacing the best only with a strictly longer prefix. The reference
    /// [`RouteTables::lookup`] is tested against.
    pub fn lookup_linear(&self, dst: Ipv4Addr) -> Option<&Route> {
        let mut best: Option<&Route> = None;
        for routes in self.tables.values().rev() {
            for r in routes {
                if r.net.contains(&dst)
                    && best.is_none_or(|b| r.net.prefix_len() > b.net.prefix_len())
                {
                    best = Some(r);
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    fn route(n: &str, action: RouteAction, dev: Option<&str>, gw: Option<&str>) -> Route {
        Route {
            net: net(n),
            action,
            device: dev.map(Device::new),
            gateway: gw.map(|g| g.parse().unwrap()),
        }
    }

    #[test]
    fn add_remove_list_and_errors() {
        let mut t = RouteTables::new();
        let lo = Device::new("/lo");
        t.set_auto_routes(&lo, Some((Ipv4Addr::new(127, 0, 0, 1), 8)));
        assert_eq!(t.list(0).unwrap().len(), 2);
        assert_eq!(
            t.list(0).unwrap()[1].net,
            net("127.255.255.255/32"),
            "broadcast route"
        );
        // Changing the address updates in place instead of appending.
        t.set_auto_routes(&lo, Some((Ipv4Addr::new(127, 0, 0, 1), 16)));
        assert_eq!(t.list(0).unwrap().len(), 2);
        assert_eq!(t.list(0).unwrap()[0].net, net("127.0.0.0/16"));

        let gw = route(
            "0.0.0.0/0",
            RouteAction::Unicast,
            Some("/back"),
            Some("10.0.0.1"),
        );
        t.add(1, gw.clone()).unwrap();
        assert_eq!(t.add(1, gw.clone()), Err(ConfigError::RouteExists));
        assert_eq!(t.add(0, gw.clone()), Err(ConfigError::TableOutOfRange));
        assert_eq!(
            t.add(
                1,
                route("1.0.0.0/8", RouteAction::Unicast, Some("/back"), None)
            ),
            Err(ConfigError::MissingField("destination"))
        );
        assert_eq!(
            t.add(1, route("1.0.0.0/8", RouteAction::Local, None, None)),
            Err(ConfigError::MissingField("device"))
        );
        // The source is masked before storing.
        t.add(
            2,
            route("10.1.2.3/8", RouteAction::Prohibit, Some("/x"), None),
        )
        .unwrap();
        assert_eq!(t.list(2).unwrap()[0].net, net("10.0.0.0/8"));
        assert_eq!(t.list(2).unwrap()[0].device, None);
        assert_eq!(
            t.remove(7, net("10.0.0.0/8")),
            Err(ConfigError::NoSuchTable)
        );
        t.remove(2, net("10.9.9.9/8")).unwrap();
        assert_eq!(t.list(2).unwrap().len(), 0);
        t.remove(2, net("10.0.0.0/8")).unwrap(); // silent when absent
        let v = t.list_value(1);
        let first = v.get_key(&Value::from(1));
        assert_eq!(first.get("action").as_str().unwrap(), "unicast");
        assert_eq!(first.get("source").as_str().unwrap(), "0.0.0.0");
        assert_eq!(first.get("sourceNetmask").as_num(), Some(0.0));
        assert_eq!(first.get("destination").as_str().unwrap(), "10.0.0.1");
        assert_eq!(first.get("device").as_str().unwrap(), "/back");
        assert_eq!(t.list_value(9), Value::Nil);
        assert_eq!(
            RouteAction::parse("bogus").unwrap_err().to_string(),
            "bad field 'action' (invalid option 'bogus')"
        );
    }

    #[test]
    fn tie_break_prefers_higher_table_then_earlier_entry() {
        let mut t = RouteTables::new();
        t.add(1, route("10.0.0.0/8", RouteAction::Blackhole, None, None))
            .unwrap();
        t.add(3, route("10.0.0.0/8", RouteAction::Prohibit, None, None))
            .unwrap();
        t.add(2, route("10.0.0.0/8", RouteAction::Unreachable, None, None))
            .unwrap();
        let a = Ipv4Addr::new(10, 1, 1, 1);
        assert_eq!(t.lookup(a).unwrap().action, RouteAction::Prohibit);
        t.add(1, route("10.1.0.0/16", RouteAction::Blackhole, None, None))
            .unwrap();
        assert_eq!(t.lookup(a).unwrap().action, RouteAction::Blackhole);
        assert_eq!(t.lookup(a), t.lookup_linear(a));
    }

    fn arb_route() -> impl Strategy<Value = (u32, Route)> {
        (0u32..4, 0u32..4, any::<u32>(), 0u8..=32, 0usize..6).prop_map(
            |(table, pool, r, len, a)| {
                let addr = Ipv4Addr::from((pool << 30) | (r & 0x0f0f_00ff));
                let action = RouteAction::ALL[a];
                (
                    table,
                    Route {
                        net: Ipv4Net::new(addr, len).unwrap(),
                        action,
                        device: Some(Device::new("/d")),
                        gateway: Some(Ipv4Addr::new(1, 2, 3, 4)),
                    },
                )
            },
        )
    }

    proptest! {
        #[test]
        fn lookup_equals_linear_scan(
            routes in proptest::collection::vec(arb_route(), 0..50),
            probes in proptest::collection::vec(any::<u32>(), 1..50),
            autos in proptest::collection::vec((any::<u32>(), 0u8..=32), 0..4),
        ) {
            let mut t = RouteTables::new();
            for (i, (ip, p)) in autos.iter().enumerate() {
                let d = Device::new(if i % 2 == 0 { "/a" } else { "/b" });
                t.set_auto_routes(&d, Some((Ipv4Addr::from(*ip), *p)));
            }
            for (table, r) in &routes {
                let _ = t.add(*table, r.clone());
            }
            let mut addrs: Vec<Ipv4Addr> = probes.into_iter().map(Ipv4Addr::from).collect();
            for (_, r) in &routes {
                addrs.push(r.net.network());
                addrs.push(r.net.broadcast());
            }
            for a in addrs {
                let fast = t.lookup(a);
                let slow = t.lookup_linear(a);
                // Same route *object*: same prefix and the same tie-break winner.
                prop_assert_eq!(fast, slow, "addr {}", a);
            }
        }
    }
}
