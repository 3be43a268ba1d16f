//! Fuzz target bodies for the rednet crate.
//!
//! * `rednet_decode`: an arbitrary value decoded as a rednet wrapper; a decoded message must
//!   re-encode to itself, and an endpoint must accept the value on the broadcast channel exactly
//!   when it decodes (and on its own channel exactly when, in addition, `nRecipient` is its ID).
//! * `rednet_endpoint`: an arbitrary schedule of frames, sends, broadcasts, opens/closes,
//!   receives, DNS calls and clock steps into an endpoint (with small bounds so that floods hit
//!   them) wired to a repeater that echoes its transmits back; checks the bounds, the timer
//!   invariant, the shape of every transmit and that no ID is delivered twice within 9.5 s
//!   unless a full dedup set evicted IDs in between.

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Result, Unstructured};
use modem_value::{Duration, Instant, LuaStr, SplitMix64, Value, WireMessage};
use rednet_codec::{
    channel_for_recipient, id_key, Endpoint, EndpointConfig, ModemId, ModemOp, RednetMessage,
    Repeater, Transmit, Verdict, CHANNEL_BROADCAST, CHANNEL_REPEAT, DEDUP_LIFETIME,
};

/// The targets of this module, by name.
pub const TARGETS: &[(&str, crate::Target)] = &[
    ("rednet_decode", rednet_decode),
    ("rednet_endpoint", rednet_endpoint),
];

const ME: u32 = 65_505;

/// Decodes an arbitrary value as a rednet message and cross-checks the endpoint's rules.
pub fn rednet_decode(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(v) = Value::arbitrary(&mut u) else {
        return;
    };
    let decoded = RednetMessage::decode(&v);
    if let Ok(m) = &decoded {
        assert!(!m.id.is_nan());
        assert!(m.sender.is_none_or(|s| !s.is_nan()));
        assert_eq!(RednetMessage::decode(&m.encode()).as_ref(), Ok(m));
    }
    let modem = ModemId::from_static("top");
    let for_me = decoded
        .as_ref()
        .is_ok_and(|m| m.recipient_num() == Some(f64::from(ME)));
    for (channel, expect) in [
        (CHANNEL_BROADCAST, decoded.is_ok()),
        (rednet_codec::id_as_channel(ME), for_me),
        (CHANNEL_REPEAT, false),
    ] {
        let mut e = Endpoint::new(ME, SplitMix64::new(1));
        e.attach_modem(modem.clone());
        e.open(&modem).expect("attached");
        let verdict = e.handle_modem_message(Instant::ZERO, &modem, channel, 7, &v);
        assert_eq!(
            verdict == Verdict::Delivered,
            expect,
            "{verdict:?} for {v:?}"
        );
        if expect {
            let d = e.poll_message().expect("delivered");
            let m = decoded.as_ref().expect("decoded");
            assert_eq!(d.sender, m.sender.unwrap_or(7.0));
            assert_eq!((&d.message, &d.protocol), (&m.message, &m.protocol));
            // Duplicate now.
            assert!(matches!(
                e.handle_modem_message(Instant::ZERO, &modem, channel, 7, &v),
                Verdict::Ignored(_)
            ));
        }
    }
    let mut r = Repeater::new(&mut SplitMix64::new(2));
    r.attach_modem(modem.clone());
    let _ = r.handle_modem_message(Instant::ZERO, &modem, CHANNEL_REPEAT, 7, &v);
}

const MODEMS: [ModemId; 3] = [
    ModemId::from_static("left"),
    ModemId::from_static("right"),
    ModemId::from_static("modem_0"),
];

fn modem(u: &mut Unstructured<'_>) -> Result<ModemId> {
    Ok(u.choose(&MODEMS)?.clone())
}

fn channel(u: &mut Unstructured<'_>) -> Result<u16> {
    Ok(match u.int_in_range(0..=4)? {
        0 => CHANNEL_BROADCAST,
        1 => rednet_codec::id_as_channel(ME),
        2 => CHANNEL_REPEAT,
        3 => 5,
        _ => u16::arbitrary(u)?,
    })
}

fn protocol(u: &mut Unstructured<'_>) -> Result<Option<LuaStr>> {
    Ok(match u.int_in_range(0..=3)? {
        0 => None,
        1 => Some(LuaStr::from_static(b"dns")),
        2 => Some(LuaStr::from_static(b"chat")),
        _ => Some(LuaStr::from(Vec::<u8>::arbitrary(u)?)),
    })
}

fn recipient(u: &mut Unstructured<'_>) -> Result<f64> {
    Ok(match u.int_in_range(0..=4)? {
        0 => f64::from(ME),
        1 => 65535.0,
        2 => 5.0,
        3 => f64::from(u32::arbitrary(u)?),
        _ => f64::arbitrary(u)?,
    })
}

/// A wrapper that usually passes the first rules, so the fuzzer gets deep quickly.
fn frame(u: &mut Unstructured<'_>) -> Result<Value> {
    if u.ratio(1, 3)? {
        return Value::arbitrary(u);
    }
    let id = if u.ratio(3, 4)? {
        f64::from(u.int_in_range(1..=40u32)?)
    } else {
        f64::arbitrary(u)?
    };
    let m = RednetMessage {
        id,
        recipient: Value::Num(recipient(u)?),
        sender: if u.ratio(1, 5)? {
            None
        } else {
            Some(f64::from(u.int_in_range(0..=9u32)?))
        },
        message: Value::arbitrary(u)?,
        protocol: protocol(u)?.map_or(Value::Nil, Value::Str),
    };
    Ok(m.encode())
}

struct Rig {
    e: Endpoint<SplitMix64>,
    r: Repeater,
    now: Instant,
    /// Last delivery time of every ID delivered from a modem, with the endpoint's eviction
    /// count then.
    delivered: BTreeMap<u64, (Instant, u64)>,
}

impl Rig {
    fn check_transmit(&self, t: &Transmit) {
        assert_eq!(t.reply_channel, self.e.own_channel());
        let m = RednetMessage::decode(&t.payload).expect("own transmits decode");
        assert_eq!(m.sender, Some(f64::from(ME)));
        assert!(m.id >= 1.0 && m.id <= 2_147_483_647.0 && m.id.fract() == 0.0);
        assert!(
            self.e.remembers(m.id) || self.e.remembered_ids() == self.e.config().dedup_capacity
        );
    }

    /// Drains every output; the endpoint's transmits go to the repeater, whose echoes come back
    /// to the endpoint on the modem they were sent from (another computer's repeater would).
    fn settle(&mut self) {
        for _ in 0..64 {
            let mut busy = false;
            while let Some(op) = self.e.poll_modem_op() {
                busy = true;
                if let ModemOp::Transmit(t) = op {
                    self.check_transmit(&t);
                    let _ = self.r.handle_modem_message(
                        self.now,
                        &t.modem,
                        t.channel,
                        t.reply_channel,
                        &t.payload,
                    );
                }
            }
            while let Some(op) = self.r.poll_modem_op() {
                busy = true;
                if let ModemOp::Transmit(t) = op {
                    let target = t
                        .payload
                        .get("nRecipient")
                        .as_num()
                        .and_then(channel_for_recipient);
                    assert!(t.channel == CHANNEL_REPEAT || Some(t.channel) == target);
                    let _ = self.e.handle_modem_message(
                        self.now,
                        &t.modem,
                        t.channel,
                        t.reply_channel,
                        &t.payload,
                    );
                }
            }
            while let Some(d) = self.e.poll_message() {
                if d.modem.is_some() {
                    let key = id_key(d.message_id).expect("delivered IDs are not NaN");
                    let evicted = self.e.stats().dedup_evicted;
                    if let Some(&(last, evicted_then)) = self.delivered.get(&key) {
                        // Only a full set's eviction of the oldest IDs may forget one early.
                        assert!(
                            self.now - last >= DEDUP_LIFETIME || evicted > evicted_then,
                            "ID {} delivered twice within 9.5 s without an eviction",
                            d.message_id
                        );
                    }
                    self.delivered.insert(key, (self.now, evicted));
                }
            }
            while self.e.poll_completion().is_some() {}
            if !busy {
                break;
            }
        }
        let c = self.e.config();
        assert!(self.e.remembered_ids() <= c.dedup_capacity);
        assert!(self.e.queued_messages() <= c.message_queue_limit);
        assert!(self.e.pending_requests() <= c.max_requests);
        assert!(self.r.remembered_ids() <= self.r.capacity());
        if self.e.remembered_ids() > 0 {
            assert!(
                self.e.poll_timeout().is_some(),
                "remembered IDs need the prune timer"
            );
        }
        if self.r.remembered_ids() > 0 {
            assert!(self.r.poll_timeout().is_some());
        }
    }
}

/// Drives an endpoint and a repeater with an arbitrary schedule.
pub fn rednet_endpoint(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(seed) = u64::arbitrary(&mut u) else {
        return;
    };
    let config = EndpointConfig {
        dedup_capacity: 24,
        message_queue_limit: 6,
        max_requests: 4,
        max_lookup_results: 3,
        max_queued_ops: 32,
    };
    let mut rig = Rig {
        e: Endpoint::with_config(ME, config, SplitMix64::new(seed)),
        r: Repeater::with_capacity(16, &mut SplitMix64::new(!seed)),
        now: Instant::ZERO,
        delivered: BTreeMap::new(),
    };
    for m in &MODEMS[..2] {
        rig.e.attach_modem(m.clone());
        rig.r.attach_modem(m.clone());
    }
    let _ = run(&mut u, &mut rig);
}

fn run(u: &mut Unstructured<'_>, rig: &mut Rig) -> Result<()> {
    for _ in 0..256 {
        if u.is_empty() {
            break;
        }
        let now = rig.now;
        match u.int_in_range(0..=13)? {
            0..=3 => {
                let (m, ch, reply, v) = (modem(u)?, channel(u)?, u16::arbitrary(u)?, frame(u)?);
                let _ = rig.e.handle_modem_message(now, &m, ch, reply, &v);
                let _ = rig.r.handle_modem_message(now, &m, ch, reply, &v);
            }
            4 => {
                let step = match u.int_in_range(0..=3)? {
                    0 => u64::from(u.int_in_range(0..=100u16)?),
                    1 => 9_500,
                    2 => 10_000,
                    _ => u64::from(u16::arbitrary(u)?),
                };
                rig.now = now + Duration::from_millis(step);
                if u.ratio(1, 2)? {
                    rig.e.handle_timeout(rig.now);
                    rig.r.handle_timeout(rig.now);
                }
            }
            5 => {
                let (to, msg, p) = (recipient(u)?, Value::arbitrary(u)?, protocol(u)?);
                let _ = rig.e.send(now, to, msg, p);
            }
            6 => {
                let (msg, p) = (Value::arbitrary(u)?, protocol(u)?);
                let _ = rig.e.broadcast(now, msg, p);
            }
            7 => {
                let _ = rig.e.open(&modem(u)?);
            }
            8 => {
                if u.ratio(1, 4)? {
                    rig.e.close_all();
                } else {
                    let _ = rig.e.close(&modem(u)?);
                }
            }
            9 => {
                let timeout = if u.ratio(1, 3)? {
                    None
                } else {
                    Some(Duration::from_millis(u64::from(u16::arbitrary(u)?)))
                };
                let _ = rig.e.receive(now, protocol(u)?, timeout);
            }
            10 => {
                let host = if u.ratio(1, 2)? { None } else { protocol(u)? };
                let _ = rig.e.lookup(now, LuaStr::from_static(b"chat"), host);
            }
            11 => {
                let name = protocol(u)?.unwrap_or(LuaStr::from_static(b"localhost"));
                let _ = rig.e.host(now, LuaStr::from_static(b"chat"), name);
            }
            12 => {
                if u.ratio(1, 2)? {
                    rig.e.unhost(&LuaStr::from_static(b"chat"));
                } else {
                    let _ = rig
                        .e
                        .cancel(rednet_codec::RequestId(u.int_in_range(0..=20u64)?));
                }
            }
            _ => {
                let (m, ch, open) = (modem(u)?, channel(u)?, bool::arbitrary(u)?);
                rig.e.handle_channel_change(&m, ch, open);
            }
        }
        rig.settle();
    }
    // Quiet for a minute: everything is forgotten and no timer is left but requests without a
    // timeout.
    rig.now += Duration::from_secs(60);
    rig.e.handle_timeout(rig.now);
    rig.r.handle_timeout(rig.now);
    rig.settle();
    assert_eq!(rig.e.remembered_ids(), 0);
    assert_eq!(rig.r.remembered_ids(), 0);
    Ok(())
}
