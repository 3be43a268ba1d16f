//! Receiving and router forwarding.

use core::net::Ipv4Addr;

use modem_value::{Instant, RandomSource, Table, Value, WireMessage};

use super::send::Outgoing;
use super::{push_bounded, Delivery, IpConfig, NetEvent, Origin, PipStack};
use crate::arp::Learned;
use crate::wire::link::borrow_fields;
use crate::wire::{
    scan_link, ArpMessage, ArpReply, ComputerId, ControlMessage, MessageType, PipPacket,
};

impl<R: RandomSource> PipStack<R> {
    /// A modem message arrived on `device` (`modem_message` with channel and reply channel).
    /// Anything that is not a well-formed Phoenix frame for this computer on an up, configured
    /// interface is dropped and counted in [`Stats`](super::Stats); nothing panics and a
    /// dropped frame changes no state.
    pub fn handle_modem_message(
        &mut self,
        now: Instant,
        device: &str,
        channel: u16,
        reply_channel: u16,
        message: &Value,
    ) {
        self.now = self.now.max(now);
        match self.iface_index(device) {
            Some(idx) => self.receive_frame(idx, channel, reply_channel, message),
            None => {
                self.stats.frames_received += 1;
                self.stats.drop_unknown_device += 1;
            }
        }
        self.run_loopback();
    }

    /// Like [`PipStack::handle_modem_message`], for a host that shares a modem with other
    /// protocols (rednet): a message that is not a table with a truthy `PhoenixNetworking`
    /// field is left alone (no state or counter changes) and `false` is returned, so the caller
    /// can hand it on; anything else is handled exactly as `handle_modem_message` would and
    /// `true` is returned. The envelope is read once, for both decisions.
    pub fn handle_phoenix_frame(
        &mut self,
        now: Instant,
        device: &str,
        channel: u16,
        reply_channel: u16,
        message: &Value,
    ) -> bool {
        let Some(t) = message.as_table() else {
            return false;
        };
        let fields = scan_link(t);
        if !fields[0].is_truthy() {
            return false;
        }
        self.now = self.now.max(now);
        match self.iface_index(device) {
            Some(idx) => self.receive_scanned(idx, channel, reply_channel, message, fields),
            None => {
                self.stats.frames_received += 1;
                self.stats.drop_unknown_device += 1;
            }
        }
        self.run_loopback();
        true
    }

    pub(super) fn receive_frame(&mut self, idx: usize, channel: u16, reply: u16, msg: &Value) {
        let Some(t) = msg.as_table() else {
            self.stats.frames_received += 1;
            if self.ifaces.get(idx).and_then(|f| f.up_config()).is_none() {
                self.stats.drop_interface_down += 1;
            } else {
                self.stats.drop_not_phoenix += 1;
            }
            return;
        };
        // One pass reads the envelope and, for the common case, the PLP fields.
        self.receive_scanned(idx, channel, reply, msg, scan_link(t));
    }

    fn receive_scanned(
        &mut self,
        idx: usize,
        channel: u16,
        reply: u16,
        msg: &Value,
        [phoenix, ty, source, destination, payload]: [&Value; 5],
    ) {
        self.stats.frames_received += 1;
        let Some(cfg) = self.ifaces.get(idx).and_then(|f| f.up_config()) else {
            self.stats.drop_interface_down += 1;
            return;
        };
        let ty = match ty {
            Value::Str(s) if phoenix.is_truthy() => s.as_bytes(),
            _ => {
                self.stats.drop_not_phoenix += 1;
                return;
            }
        };
        match ty {
            // A frame for another computer is dropped on its destination alone, before the
            // rest is decoded: on a busy segment that is most frames (§5.3 step 2).
            b"link" if matches!(destination, Value::Num(d) if *d != f64::from(self.id)) => {
                self.stats.drop_not_for_us += 1;
            }
            b"link" => match borrow_fields(source, destination, payload) {
                Ok((src, dst, raw)) => self.receive_link(idx, channel, reply, src, dst, raw),
                Err(_) => self.stats.drop_malformed += 1,
            },
            b"arp" => self.receive_arp(idx, cfg, msg),
            _ => self.stats.drop_bad_top_level_type += 1,
        }
    }

    /// A PLP frame from computer `frame_source` to `frame_dest`; `raw` is its packet table,
    /// borrowed from the frame (copied only where a layer keeps the whole packet).
    fn receive_link(
        &mut self,
        idx: usize,
        channel: u16,
        reply: u16,
        frame_source: ComputerId,
        frame_dest: Option<ComputerId>,
        raw: &Table,
    ) {
        if frame_dest.is_some_and(|d| d != self.id) {
            self.stats.drop_not_for_us += 1;
            return;
        }
        let packet = match PipPacket::decode_table(raw) {
            Ok(p) => p,
            Err(e) => {
                // Not a PIP packet at all vs. a broken one.
                if matches!(e.field(), "type" | "PhoenixNetworking") {
                    self.stats.drop_unknown_type += 1;
                } else {
                    self.stats.drop_malformed += 1;
                }
                return;
            }
        };
        let (new, evicted) = self.seen.insert(&packet.message_id, self.now);
        if evicted {
            self.stats.seen_evictions += 1;
        }
        if !new {
            self.stats.drop_duplicate += 1;
            return;
        }
        let dst = packet.destination;
        let local = self.is_local_on(idx, dst) || (self.forwarding && self.is_local_anywhere(dst));
        if !local {
            // Link broadcasts reach every router on the segment; forwarding them would
            // duplicate the packet, so only frames addressed to us are forwarded.
            if self.forwarding && frame_dest.is_some() && !self.ifaces[idx].loopback {
                self.forward(raw.clone(), packet, channel, reply);
            } else {
                self.stats.drop_foreign += 1;
                if self.netevent {
                    let device = self.ifaces[idx].device.clone();
                    push_bounded(
                        &mut self.out_event,
                        NetEvent::Foreign {
                            device,
                            packet: Value::Table(raw.clone()),
                        },
                        &mut self.stats,
                    );
                }
            }
            return;
        }
        if !self.ifaces[idx].loopback {
            let learned =
                self.ifaces[idx]
                    .arp
                    .learn_if_absent(packet.source, frame_source, self.now);
            self.after_learning(idx, packet.source, frame_source, learned);
        }
        match packet.payload_type() {
            Some(b"control") => self.receive_control(raw.clone(), packet),
            Some(b"socket") | Some(b"datagram") => {
                self.stats.delivered += 1;
                let delivery = Delivery {
                    device: self.ifaces[idx].device.clone(),
                    channel,
                    reply_channel: reply,
                    source_ip: packet.source,
                    local_ip: packet.destination,
                    source_id: frame_source,
                    packet,
                };
                push_bounded(&mut self.out_delivery, delivery, &mut self.stats);
            }
            _ => self.stats.drop_unknown_type += 1,
        }
    }

    fn after_learning(
        &mut self,
        idx: usize,
        ip: Ipv4Addr,
        id: ComputerId,
        learned: Option<Learned>,
    ) {
        match learned {
            Some(Learned::Stored) => self.resolved(idx, ip, id),
            Some(Learned::StoredEvicting) => {
                self.stats.arp_evictions += 1;
                self.resolved(idx, ip, id);
            }
            Some(Learned::Full) => self.stats.arp_learn_refused += 1,
            Some(Learned::SelfKept) | None => {}
        }
    }

    /// MCP on receipt: every message goes to subscribers; `ping` is answered with a
    /// `pong` carrying the whole received packet.
    fn receive_control(&mut self, raw: Table, packet: PipPacket) {
        let Ok(message) = ControlMessage::decode(&Value::Table(packet.payload.clone())) else {
            self.stats.drop_malformed += 1;
            return;
        };
        if message.message_type == MessageType::Ping {
            self.send_control(packet.source, MessageType::Pong, None, Some(raw));
        }
        push_bounded(
            &mut self.out_event,
            NetEvent::Control {
                sender: Some(packet.source),
                message,
            },
            &mut self.stats,
        );
    }

    /// ARP on receipt: answer rule, collision report, learning rule.
    fn receive_arp(&mut self, idx: usize, cfg: IpConfig, msg: &Value) {
        if self.ifaces[idx].loopback {
            self.stats.drop_unknown_type += 1;
            return;
        }
        let Ok(arp) = ArpMessage::decode(msg) else {
            self.stats.drop_malformed += 1;
            return;
        };
        let source = arp.source();
        if source == self.id {
            // Our own probe or reply, reflected back by the host: nothing to learn.
            self.stats.drop_not_for_us += 1;
            return;
        }
        if arp.source_ip() == Some(cfg.ip) {
            let device = self.ifaces[idx].device.clone();
            push_bounded(
                &mut self.out_event,
                NetEvent::AddressCollision {
                    device,
                    ip: cfg.ip,
                    other: source,
                },
                &mut self.stats,
            );
        }
        if let ArpMessage::Request(r) = &arp {
            if r.destination_ip == cfg.ip && r.source_ip != Some(r.destination_ip) {
                let reply = ArpMessage::Reply(ArpReply {
                    source: self.id,
                    source_ip: cfg.ip,
                    destination: r.source,
                    destination_ip: r.source_ip,
                });
                self.transmit_arp(idx, &reply);
            }
        }
        if let Some(ip) = arp.source_ip() {
            let learned = self.ifaces[idx].arp.learn(ip, source, self.now);
            self.after_learning(idx, ip, source, Some(learned));
        }
    }

    /// Router forwarding: decrement `hopsLeft`, keep `messageID`, `source` and
    /// `destination` (and any other field), route as a sent packet without re-stamping the source.
    /// The modem channels are kept: they are the transport ports.
    fn forward(&mut self, raw: Table, packet: PipPacket, channel: u16, reply: u16) {
        if packet.hops_left <= 1 {
            self.stats.drop_hops_exhausted += 1;
            if !super::send::is_mcp_error_packet(&raw) {
                self.send_control(
                    packet.source,
                    MessageType::Timeout,
                    Some("Time to live exceeded"),
                    Some(raw),
                );
            }
            return;
        }
        // The received table is shared with the caller's frame, so changing `hopsLeft` needs
        // a copy; the storage of the last forwarded packet is reused for it when it is free.
        let mut out = match self.spent_packet() {
            Some(mut t) => {
                t.copy_from(&raw);
                t
            }
            None => raw,
        };
        out.set("hopsLeft", Value::Num(f64::from(packet.hops_left - 1)));
        let route = self.hop_of(self.routes.lookup(packet.destination));
        self.dispatch(
            route,
            Outgoing::Forwarded(out),
            packet.destination,
            channel,
            reply,
            Origin::Forwarded,
        );
    }
}
