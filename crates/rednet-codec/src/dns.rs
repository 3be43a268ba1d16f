//! Rednet's DNS: `rednet.host`, `unhost`, `lookup` and the responder in `rednet.run`. Names are per protocol; there is no authority, anyone can answer.

use alloc::vec;
use alloc::vec::Vec;

use modem_value::{Instant, LuaStr, RandomSource, Table, Value};

use crate::consts::{CHANNEL_BROADCAST, DNS_PROTOCOL, LOCALHOST, LOOKUP_WINDOW};
use crate::request::{Completion, Delivered, HostStatus, RequestId, RequestKind};
use crate::{Endpoint, RednetError};

/// `sType` of a DNS query.
pub const LOOKUP: &str = "lookup";
/// `sType` of a DNS answer.
pub const LOOKUP_RESPONSE: &str = "lookup response";

fn is_dns(d: &Delivered) -> bool {
    d.protocol_str()
        .is_some_and(|p| p.as_bytes() == DNS_PROTOCOL.as_bytes())
}

fn has_type(message: &Value, ty: &str) -> bool {
    message
        .get("sType")
        .as_str()
        .is_some_and(|s| s.as_bytes() == ty.as_bytes())
}

/// If `d` is a `lookup response` for `protocol`, the `sHostname` it claims (any value; nil if
/// absent).
pub(crate) fn lookup_response<'a>(d: &'a Delivered, protocol: &LuaStr) -> Option<&'a Value> {
    if !is_dns(d) || !has_type(&d.message, LOOKUP_RESPONSE) {
        return None;
    }
    match d.message.get("sProtocol") {
        Value::Str(p) if p == protocol => Some(d.message.get("sHostname")),
        _ => None,
    }
}

fn lookup_query(protocol: &LuaStr, hostname: Option<&LuaStr>) -> Value {
    let mut t = Table::with_capacity(3);
    t.set("sType", Value::from_static(LOOKUP));
    t.set("sProtocol", Value::Str(protocol.clone()));
    t.set(
        "sHostname",
        hostname.cloned().map_or(Value::Nil, Value::Str),
    );
    Value::Table(t)
}

fn dns() -> Value {
    Value::from_static(DNS_PROTOCOL)
}

impl<R: RandomSource> Endpoint<R> {
    /// `rednet.host(protocol, hostname)`.
    ///
    /// `localhost` is refused ([`RednetError::ReservedHostname`]). If the protocol is already
    /// hosted under this name, nothing happens. Otherwise, if rednet is open anywhere, a lookup
    /// for the name runs for 2 s: a [`Completion::Hosted`] follows with
    /// `Err(HostnameInUse)` as soon as another computer answers for it, or `Ok(())` when the
    /// window closes (the name is then recorded). With rednet closed everywhere the name is
    /// recorded at once.
    pub fn host(
        &mut self,
        now: Instant,
        protocol: LuaStr,
        hostname: LuaStr,
    ) -> Result<HostStatus, RednetError> {
        self.advance_to(now);
        if hostname.as_bytes() == LOCALHOST.as_bytes() {
            return Err(RednetError::ReservedHostname);
        }
        if self.hostnames.get(&protocol) == Some(&hostname) {
            return Ok(HostStatus::Hosted);
        }
        if !self.is_open_any() {
            self.hostnames.insert(protocol, hostname);
            return Ok(HostStatus::Hosted);
        }
        let query = lookup_query(&protocol, Some(&hostname));
        let id = self.add_request(
            Some(self.now() + LOOKUP_WINDOW),
            RequestKind::Host { protocol, hostname },
        )?;
        // A broadcast always has a channel, so this cannot fail.
        let _ = self.send_inner(f64::from(CHANNEL_BROADCAST), query, dns());
        self.pump_local();
        Ok(HostStatus::Pending(id))
    }

    /// `rednet.unhost(protocol)`. Returns the name it was hosted under.
    pub fn unhost(&mut self, protocol: &LuaStr) -> Option<LuaStr> {
        self.hostnames.remove(protocol)
    }

    /// The name this computer hosts `protocol` under.
    pub fn hostname(&self, protocol: &LuaStr) -> Option<&LuaStr> {
        self.hostnames.get(protocol)
    }

    /// `rednet.lookup(protocol, hostname)` as a request; its [`Completion::LookedUp`] may be
    /// queued before this returns.
    ///
    /// Local answers first: hosting `protocol` puts the own ID first in a hostname-less lookup,
    /// and answers `localhost` or the own name with the own ID at once. With rednet closed
    /// everywhere it completes with the local answers. Otherwise it broadcasts
    /// `{sType="lookup", sProtocol=…, sHostname=…}` on protocol `dns` and collects
    /// `lookup response`s for exactly 2 s (with a hostname: until the first matching one).
    pub fn lookup(
        &mut self,
        now: Instant,
        protocol: LuaStr,
        hostname: Option<LuaStr>,
    ) -> Result<RequestId, RednetError> {
        self.advance_to(now);
        if self.pending_requests() >= self.config().max_requests {
            return Err(RednetError::TooManyRequests);
        }
        let own = f64::from(self.computer_id());
        let mut results = Vec::new();
        if let Some(local) = self.hostnames.get(&protocol) {
            match &hostname {
                None => results.push(own),
                Some(h) if h.as_bytes() == LOCALHOST.as_bytes() || h == local => {
                    let id = self.new_request_id();
                    self.complete(Completion::LookedUp {
                        id,
                        hosts: vec![own],
                    });
                    return Ok(id);
                }
                Some(_) => {}
            }
        }
        if !self.is_open_any() {
            let id = self.new_request_id();
            self.complete(Completion::LookedUp { id, hosts: results });
            return Ok(id);
        }
        let query = lookup_query(&protocol, hostname.as_ref());
        let id = self.add_request(
            Some(self.now() + LOOKUP_WINDOW),
            RequestKind::Lookup {
                protocol,
                hostname,
                results,
            },
        )?;
        let _ = self.send_inner(f64::from(CHANNEL_BROADCAST), query, dns());
        self.pump_local();
        Ok(id)
    }

    /// The responder of `rednet.run`: a `lookup` for a protocol this computer hosts, with no
    /// hostname or its own, is answered with
    /// `send(sender, {sType="lookup response", sHostname=…, sProtocol=…}, "dns")`.
    ///
    /// Skipped when the host has let more than `max_queued_ops` operations pile up, and when the
    /// (forgeable) sender has no valid channel — rednet.lua's daemon would die on that transmit.
    pub(crate) fn respond_dns(&mut self, d: &Delivered) {
        if !is_dns(d) || !has_type(&d.message, LOOKUP) {
            return;
        }
        let Value::Str(protocol) = d.message.get("sProtocol") else {
            return;
        };
        let Some(name) = self.hostnames.get(protocol) else {
            return;
        };
        let asked = d.message.get("sHostname");
        if !(asked.is_nil() || asked.as_str() == Some(name)) {
            return;
        }
        if self.ops_len() >= self.config().max_queued_ops {
            return;
        }
        let mut t = Table::with_capacity(3);
        t.set("sType", Value::from_static(LOOKUP_RESPONSE));
        t.set("sHostname", Value::Str(name.clone()));
        t.set("sProtocol", Value::Str(protocol.clone()));
        let _ = self.send_inner(d.sender, Value::Table(t), dns());
    }
}
