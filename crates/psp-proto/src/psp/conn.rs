//! One PSP connection: sequence bookkeeping, the retransmission queue, the receive side and
//! every transition of Phoenix's machine, with this project's wire-compatible fixes.
//!
//! The endpoint ([`super::PspEndpoint`]) owns the tables (demultiplexing, listeners, channel
//! holds); a connection only changes itself and pushes segments and events into [`Outputs`].
//! When a connection must leave the tables it says so through its state (`Closed`/`Error`) or
//! `half_open_failed`, and the endpoint settles it.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use modem_value::{Instant, LuaStr, WireMessage};

use super::rtt::RttEstimator;
use super::state::State;
use super::Outputs;
use crate::config::*;
use crate::{HandleId, HandleStatus, PspEvent, SackBlocks, Segment, Transmit};

/// A message we sent and the peer has not acknowledged yet.
#[derive(Clone, Debug)]
pub(crate) struct Sent {
    pub seq: u64,
    pub payload: Option<LuaStr>,
    pub fin: bool,
    /// When it first left: the adaptive rule's 18 s failure limit counts from here.
    pub first_sent: Instant,
    /// When it last left: the adaptive retransmission timer runs from the oldest message's.
    pub last_sent: Instant,
    /// Selective acknowledgements: the peer reported holding it.
    pub sacked: bool,
    /// Selective acknowledgements: the transmission number of its latest copy (every
    /// transmission of the connection takes the next one): loss detection asks whether a
    /// message sent after it arrived.
    pub tx: u64,
    /// It was re-sent at least once.
    pub resent: bool,
}

impl Sent {
    /// ACK-only messages at the tail of the queue are never re-sent: a lost one leaves no gap
    /// until a later message follows it, and then it is re-sent with that message.
    fn carries_something(&self) -> bool {
        self.payload.is_some() || self.fin
    }
}

/// The listen record a half-open connection answers for: its URI goes into the
/// `network_request` event when the handshake completes.
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    pub uri: String,
}

/// A loss being repaired under [`Recovery::Adaptive`]: from the first unacknowledged message up
/// to `recover` (the last sequence sent when the loss was detected).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Repair {
    recover: u64,
    /// The highest sequence re-sent in this repair.
    resent_upto: u64,
    /// Carrying messages to re-send on the next acknowledgement that shows progress.
    burst: u64,
    /// When hole-by-hole repair started; after [`RETRANSMIT_INTERVAL`] of it, what is still
    /// outstanding is re-sent at once, so a repair of many holes is never slower than
    /// Phoenix's round.
    since: Instant,
}

/// Counters of a connection's loss recovery.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RecoveryCounters {
    pub retransmitted: u64,
    pub timeouts: u64,
    pub fast_retransmits: u64,
}

/// A gap at the next expected sequence while later segments are buffered.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Gap {
    since: Instant,
    rounds: u32,
    last_round: Instant,
}

#[derive(Debug)]
pub(crate) struct Conn<I> {
    pub id: HandleId,
    pub state: State,
    pub error: Option<String>,
    pub local_port: u16,
    pub remote_ip: Ipv4Addr,
    pub remote_port: u16,
    pub local_ip: Option<Ipv4Addr>,
    pub iface: Option<I>,
    /// Interfaces on which this socket holds one use of `local_port` (each owes a `Close`).
    pub holds: Vec<I>,
    pub registered: bool,
    pub origin: Option<Origin>,
    /// Set when a syn-received connection fails; the endpoint drops it from the backlog (the
    /// listen record never left).
    pub half_open_failed: Option<&'static str>,
    /// Client: the PIP layer reported that the SYN left.
    pub syn_left: bool,

    iss: u64,
    /// Highest sequence the peer acknowledged (Phoenix's `sendSeq`).
    snd_acked: u64,
    /// Next sequence to use (`sendSeqNext`).
    snd_nxt: u64,
    /// The peer's window in messages, at least 1.
    peer_window: u64,
    rtx: VecDeque<Sent>,
    pending: VecDeque<LuaStr>,
    fin_seq: Option<u64>,
    fin_queued: bool,

    /// Next expected sequence (`recvSeq`).
    rcv_nxt: u64,
    ooo: BTreeMap<u64, Segment>,
    ooo_bytes: usize,
    gap: Option<Gap>,
    pub buffer: VecDeque<u8>,

    ack_due: Option<Instant>,
    unacked_rx: u32,
    rto: Option<Instant>,
    retries: u32,
    fin_resends: u32,
    /// The state timer: syn-sent failure, syn-received retry, time-wait expiry, fin-wait-2 limit.
    deadline: Option<Instant>,
    syn_resend_at: Option<Instant>,
    state_retries: u32,
    /// Server: the sequence of the client's handshake ACK. That message's acknowledgement is
    /// "next expected" (Phoenix's shape), one more than what it really acknowledges.
    hs_ack_seq: Option<u64>,

    /// The sender's loss recovery rule (set by the endpoint from its configuration).
    pub mode: Recovery,
    rtt: RttEstimator,
    /// Duplicate acknowledgements in a row (adaptive rule).
    dup_acks: u32,
    repair: Option<Repair>,
    /// The peer showed that it keeps out-of-order messages (a duplicate ACK, or a partial ACK
    /// beyond what we re-sent): a repair then re-sends holes only. Until then a repair re-sends
    /// everything outstanding, as a receiver that drops out-of-order messages (Phoenix 0.0.9)
    /// needs.
    peer_keeps_ooo: bool,
    /// When the peer last acknowledged something new (adaptive rule's failure limit).
    progress_at: Instant,
    /// Receiver: immediate duplicate ACKs sent for the current gap ([`PspConfig::dup_acks`]).
    dup_acks_sent: u32,
    /// Selective acknowledgements offered on our SYN ([`PspConfig::selective_ack`]).
    sack_offered: bool,
    /// Selective acknowledgements agreed by both sides in the handshake.
    sack: bool,
    /// Transmissions so far (selective acknowledgements: see [`Sent::tx`]).
    tx_count: u64,
    /// The highest [`Sent::tx`] the peer has acknowledged, cumulatively or selectively.
    delivered_tx: u64,
    /// Receiver: out-of-order arrivals since our last acknowledgement ([`SACK_ACK_EVERY`]).
    ooo_unacked: u32,
    /// Selective acknowledgements, RFC 8985's state: the round trip of the latest delivered
    /// message, the smallest round trip seen (ms), what detected spurious re-sends added to
    /// the reordering window (ms), and when the next message may be declared lost.
    rack_rtt: Option<u64>,
    min_rtt: Option<u64>,
    reo_extra: u64,
    reo_deadline: Option<Instant>,
    /// Selective acknowledgements: when the retransmission timer last fired. The next expiry
    /// counts from it too, since a probe re-sends only one message.
    timed_out_at: Instant,
    pub counters: RecoveryCounters,
}

/// The peer's advertised window as we honour it: at least 1 (a zero window would stall
/// the connection for good, as PSP has no window probes) and at most our own 256 (no Phoenix
/// peer advertises more, and it bounds what a peer can make us keep in flight).
fn usable_window(w: u64) -> u64 {
    w.clamp(1, WINDOW)
}

/// Initial sequence number: `floor(random() * 2^40)`.
pub(crate) fn initial_sequence(rng: &mut impl modem_value::RandomSource) -> u64 {
    (rng.unit_f64() * (1u64 << 40) as f64) as u64
}

impl<I: Clone> Conn<I> {
    fn blank(
        id: HandleId,
        local_port: u16,
        remote_ip: Ipv4Addr,
        remote_port: u16,
        iss: u64,
    ) -> Self {
        Conn {
            id,
            state: State::Closed,
            error: None,
            local_port,
            remote_ip,
            remote_port,
            local_ip: None,
            iface: None,
            holds: Vec::new(),
            registered: false,
            origin: None,
            half_open_failed: None,
            syn_left: false,
            iss,
            snd_acked: iss,
            snd_nxt: iss.saturating_add(2),
            peer_window: WINDOW,
            rtx: VecDeque::new(),
            pending: VecDeque::new(),
            fin_seq: None,
            fin_queued: false,
            rcv_nxt: 0,
            ooo: BTreeMap::new(),
            ooo_bytes: 0,
            gap: None,
            buffer: VecDeque::new(),
            ack_due: None,
            unacked_rx: 0,
            rto: None,
            retries: 0,
            fin_resends: 0,
            deadline: None,
            syn_resend_at: None,
            state_retries: 0,
            hs_ack_seq: None,
            mode: Recovery::Phoenix,
            rtt: RttEstimator::default(),
            dup_acks: 0,
            repair: None,
            peer_keeps_ooo: false,
            progress_at: Instant::ZERO,
            dup_acks_sent: 0,
            sack_offered: false,
            sack: false,
            tx_count: 0,
            delivered_tx: 0,
            ooo_unacked: 0,
            rack_rtt: None,
            min_rtt: None,
            reo_extra: 0,
            reo_deadline: None,
            timed_out_at: Instant::ZERO,
            counters: RecoveryCounters::default(),
        }
    }

    /// A client socket in syn-sent; its SYN is emitted here.
    #[allow(clippy::too_many_arguments)]
    pub fn connect(
        now: Instant,
        id: HandleId,
        local_port: u16,
        remote_ip: Ipv4Addr,
        remote_port: u16,
        iss: u64,
        offer_sack: bool,
        out: &mut Outputs<I>,
    ) -> Self {
        let mut c = Conn::blank(id, local_port, remote_ip, remote_port, iss);
        c.state = State::SynSent;
        c.deadline = Some(now + SYN_UNSENT_TIMEOUT);
        c.sack_offered = offer_sack;
        c.send_syn(out);
        c
    }

    /// A server socket in syn-received, answering `syn` with a SYN-ACK.
    #[allow(clippy::too_many_arguments)]
    pub fn accept(
        now: Instant,
        id: HandleId,
        iface: I,
        local_port: u16,
        local_ip: Ipv4Addr,
        remote_ip: Ipv4Addr,
        remote_port: u16,
        syn: &Segment,
        iss: u64,
        origin: Origin,
        holds: Vec<I>,
        accept_sack: bool,
        out: &mut Outputs<I>,
    ) -> Self {
        let mut c = Conn::blank(id, local_port, remote_ip, remote_port, iss);
        c.state = State::SynReceived;
        c.sack = accept_sack && syn.sack_permitted;
        c.local_ip = Some(local_ip);
        c.iface = Some(iface);
        c.rcv_nxt = syn.sequence.saturating_add(1);
        c.hs_ack_seq = Some(c.rcv_nxt);
        c.peer_window = usable_window(syn.window_size.unwrap_or(0));
        c.deadline = Some(now + SYN_RECEIVED_FIRST_RETRY);
        c.origin = Some(origin);
        c.holds = holds;
        c.send_syn_ack(out);
        c
    }

    // ----- output helpers -------------------------------------------------------------

    fn emit(&self, out: &mut Outputs<I>, mut seg: Segment) {
        if self.sack
            && self.state == State::Connected
            && !self.ooo.is_empty()
            && seg.acknowledgement.is_some()
            && !seg.reset
            && !seg.synchronize
        {
            seg.sack = Some(SackBlocks::from_sequences(self.ooo.keys().copied()));
        }
        out.transmits.push_back(Transmit {
            dst_ip: self.remote_ip,
            out_port: self.remote_port,
            in_port: self.local_port,
            payload: seg.encode(),
            via_interface: self.iface.clone(),
        });
    }

    fn event_status(&self, out: &mut Outputs<I>, status: HandleStatus) {
        out.events.push_back(PspEvent::StatusChange {
            id: self.id,
            status,
            error: if status == HandleStatus::Error {
                self.error.clone()
            } else {
                None
            },
        });
    }

    fn send_syn(&self, out: &mut Outputs<I>) {
        let mut syn = Segment::syn(self.iss.saturating_add(1));
        syn.sack_permitted = self.sack_offered;
        self.emit(out, syn);
    }

    fn send_syn_ack(&self, out: &mut Outputs<I>) {
        let mut syn_ack = Segment::syn_ack(self.iss.saturating_add(1), self.rcv_nxt);
        syn_ack.sack_permitted = self.sack;
        self.emit(out, syn_ack);
    }

    fn next_tx(&mut self) -> u64 {
        self.tx_count += 1;
        self.tx_count
    }

    /// The acknowledgement of the data phase: the last in-order sequence received.
    fn ack_value(&self) -> u64 {
        self.rcv_nxt.saturating_sub(1)
    }

    fn unacked(&self) -> u64 {
        self.snd_nxt
            .saturating_sub(self.snd_acked)
            .saturating_sub(1)
    }

    /// Sends a new message with the next sequence number and keeps it for retransmission.
    fn send_new(
        &mut self,
        now: Instant,
        out: &mut Outputs<I>,
        payload: Option<LuaStr>,
        fin: bool,
        ack: u64,
    ) {
        let seq = self.snd_nxt;
        self.snd_nxt = self.snd_nxt.saturating_add(1);
        let seg = if fin {
            Segment::fin(seq, ack)
        } else {
            Segment::data(seq, ack, payload.clone())
        };
        self.emit(out, seg);
        let sent = Sent {
            seq,
            payload,
            fin,
            first_sent: now,
            last_sent: now,
            sacked: false,
            tx: self.next_tx(),
            resent: false,
        };
        if sent.carries_something() && self.rto.is_none() {
            self.rto = Some(now + self.rto_interval());
        }
        if fin {
            self.fin_seq = Some(seq);
        }
        self.rtx.push_back(sent);
        self.ack_due = None;
        self.unacked_rx = 0;
        self.ooo_unacked = 0;
    }

    /// Sends an ACK-only message unless the peer already leaves too many unacknowledged.
    fn send_ack_only(&mut self, now: Instant, out: &mut Outputs<I>, ack: u64) {
        if self.unacked() >= MAX_UNACKED {
            self.ack_due = None;
            return;
        }
        self.send_new(now, out, None, false, ack);
    }

    /// Sends queued writes the peer's window allows, then a queued FIN once they are all out.
    fn flush(&mut self, now: Instant, out: &mut Outputs<I>) {
        if !matches!(self.state, State::Connected | State::FinWait) {
            return;
        }
        while !self.pending.is_empty()
            && self.snd_nxt <= self.snd_acked.saturating_add(self.peer_window)
        {
            let p = self.pending.pop_front();
            let ack = self.ack_value();
            self.send_new(now, out, p, false, ack);
        }
        if self.pending.is_empty() && self.fin_queued && self.fin_seq.is_none() {
            let ack = self.ack_value();
            self.send_new(now, out, None, true, ack);
        }
        if self.sack {
            self.rearm_adaptive();
        }
    }

    fn has_retransmittable(&self) -> bool {
        self.rtx.iter().any(Sent::carries_something)
    }

    /// Re-sends every unacknowledged message up to the last one carrying payload or FIN, with
    /// the current acknowledgement.
    fn retransmit(&mut self, now: Instant, out: &mut Outputs<I>) {
        let Some(last) = self.rtx.iter().rposition(Sent::carries_something) else {
            return;
        };
        let ack = self.ack_value();
        for i in 0..=last {
            self.resend(now, out, i, ack);
        }
        self.ack_due = None;
        self.unacked_rx = 0;
    }

    /// Re-sends `rtx[i]` with acknowledgement `ack`.
    fn resend(&mut self, now: Instant, out: &mut Outputs<I>, i: usize, ack: u64) {
        self.tx_count += 1;
        let tx = self.tx_count;
        let Some(s) = self.rtx.get_mut(i) else {
            return;
        };
        s.last_sent = now;
        s.tx = tx;
        s.resent = true;
        let seg = if s.fin {
            Segment::fin(s.seq, ack)
        } else {
            Segment::data(s.seq, ack, s.payload.clone())
        };
        self.counters.retransmitted += 1;
        self.emit(out, seg);
    }

    fn rto_interval(&self) -> core::time::Duration {
        match self.mode {
            Recovery::Phoenix => RETRANSMIT_INTERVAL,
            Recovery::Adaptive => self.rtt.rto(),
        }
    }

    /// Adaptive rule: the timer runs from when the oldest unacknowledged carrying message last
    /// left, so acknowledgements of later messages do not push it back.
    /// Never later than the failure limit.
    ///
    /// With selective acknowledgements the peer never skips a gap, so a lost ACK-only message
    /// must be re-sent too once anything waits behind it (a carrying message, or writes the
    /// window holds back): the timer then runs from the oldest message the peer does not hold.
    fn rearm_adaptive(&mut self) {
        let rto = self.rtt.rto();
        let progress_at = self.progress_at;
        if self.sack {
            // Anything carrying that is not cumulatively acknowledged waits (held by the peer
            // or not, it is not delivered until every sequence before it arrives), and so do
            // writes the window holds back.
            let waiting = !self.pending.is_empty()
                || (self.fin_queued && self.fin_seq.is_none())
                || self.rtx.iter().any(Sent::carries_something);
            // The failure limit counts from the oldest message not cumulatively acknowledged,
            // held by the peer or not (a hole never repaired is no progress).
            let give_up = self.rtx.front().map(|s| Self::give_up_at(s, progress_at));
            let timed_out_at = self.timed_out_at;
            let oldest = self
                .rtx
                .iter()
                .find(|s| !s.sacked)
                .or(self.rtx.front())
                .filter(|_| waiting);
            self.rto = oldest
                .map(|s| s.last_sent.max(timed_out_at) + rto)
                .map(|t| t.min(give_up.unwrap_or(t)));
            return;
        }
        self.rto = self
            .rtx
            .iter()
            .find(|s| s.carries_something())
            .map(|s| (s.last_sent + rto).min(Self::give_up_at(s, progress_at)));
    }

    /// Adaptive rule: the connection fails when its oldest unacknowledged message has waited
    /// ([`MAX_RETRANSMIT_ROUNDS`] + 1) × [`RETRANSMIT_INTERVAL`] (18 s) since it left or since
    /// the peer last acknowledged anything new, whichever is later: the moment Phoenix's rule
    /// gives up (the expiry after its 8th round without progress), so a silent peer is declared
    /// dead at the same time under both rules.
    fn give_up_at(oldest: &Sent, progress_at: Instant) -> Instant {
        oldest.first_sent.max(progress_at) + RETRANSMIT_INTERVAL * (MAX_RETRANSMIT_ROUNDS + 1)
    }

    /// Adaptive rule: re-sends the next `burst` carrying messages of the repair (with any
    /// ACK-only messages between them, which a Phoenix receiver needs in order), starting after
    /// both the acknowledged and the already re-sent ones.
    fn repair_burst(&mut self, now: Instant, out: &mut Outputs<I>) {
        let Some(mut r) = self.repair else {
            return;
        };
        if r.burst == 0 {
            return;
        }
        let Some(last) = self.rtx.iter().rposition(Sent::carries_something) else {
            return;
        };
        let start = self.snd_acked.max(r.resent_upto).saturating_add(1);
        let ack = self.ack_value();
        let mut carried = 0;
        for i in 0..=last {
            if carried >= r.burst {
                break;
            }
            let Some(s) = self.rtx.get(i) else { break };
            if s.seq < start || s.seq > r.recover {
                continue;
            }
            if s.carries_something() {
                carried += 1;
            }
            r.resent_upto = s.seq;
            self.resend(now, out, i, ack);
        }
        self.repair = Some(r);
        self.ack_due = None;
        self.unacked_rx = 0;
    }

    /// Adaptive rule: a loss is detected (timeout or duplicate ACKs): re-send the first
    /// unacknowledged message only, or everything outstanding while the peer may be one that
    /// drops out-of-order messages.
    ///
    /// A repair that has already lasted a whole Phoenix round re-sends everything outstanding
    /// too (many holes, one per round trip, would be slower than Phoenix's rule).
    fn start_repair(&mut self, now: Instant, out: &mut Outputs<I>) {
        let (since, long) = match self.repair {
            Some(r) if now >= r.since + RETRANSMIT_INTERVAL => (now, true),
            Some(r) => (r.since, false),
            None => (now, false),
        };
        self.repair = Some(Repair {
            recover: self.snd_nxt.saturating_sub(1),
            resent_upto: self.snd_acked,
            burst: if self.peer_keeps_ooo && !long {
                1
            } else {
                WINDOW
            },
            since,
        });
        self.dup_acks = 0;
        self.repair_burst(now, out);
        self.rearm_adaptive();
    }

    // ----- state changes ----------------------------------------------------------------

    /// → error with `msg`, and the event, which carries the message.
    pub fn fail(&mut self, msg: &str, out: &mut Outputs<I>) {
        self.state = State::Error;
        self.error = Some(String::from(msg));
        self.stop_timers();
        self.event_status(out, HandleStatus::Error);
    }

    /// → closed with the `closed` event.
    fn close_now(&mut self, out: &mut Outputs<I>) {
        self.state = State::Closed;
        self.stop_timers();
        self.event_status(out, HandleStatus::Closed);
    }

    /// Enters a final state (closed or error): no timer stays armed and every queue's memory is
    /// given back, because the record itself lives on until the program's handle goes away (an
    /// `error` handle cannot even be closed, as in Phoenix). Only the unread bytes (still
    /// readable) and the error text stay.
    fn stop_timers(&mut self) {
        self.deadline = None;
        self.syn_resend_at = None;
        self.rto = None;
        self.reo_deadline = None;
        self.ack_due = None;
        self.gap = None;
        self.ooo = BTreeMap::new();
        self.ooo_bytes = 0;
        self.pending = VecDeque::new();
        self.rtx = VecDeque::new();
        self.origin = None;
        if self.buffer.is_empty() {
            self.buffer = VecDeque::new();
        }
    }

    fn enter_time_wait(&mut self, now: Instant) {
        self.state = State::TimeWait;
        self.deadline = Some(now + TIME_WAIT);
        self.rto = None;
        self.reo_deadline = None;
        self.rtx.clear();
    }

    // ----- program calls ----------------------------------------------------------------

    pub fn write(
        &mut self,
        now: Instant,
        data: LuaStr,
        out: &mut Outputs<I>,
    ) -> Result<(), crate::PspError> {
        if self.state != State::Connected {
            return Err(crate::PspError::CannotWrite(self.state.name()));
        }
        if self.pending.len() >= MAX_PENDING_WRITES {
            return Err(crate::PspError::SendBufferFull);
        }
        self.pending.push_back(data);
        self.flush(now, out);
        Ok(())
    }

    /// `close()` on a connection.
    pub fn close(&mut self, now: Instant, out: &mut Outputs<I>) -> Result<(), crate::PspError> {
        match self.state {
            State::FinWait | State::Closing | State::Closed => Ok(()),
            State::SynSent => {
                // Not Phoenix's FIN into the void: tell a server that may hold a half-open
                // connection for us to restore its listener, then forget the socket.
                self.emit(out, Segment::rst(self.snd_nxt, None));
                self.state = State::Closed;
                self.stop_timers();
                Ok(())
            }
            State::SynReceived | State::Connected => {
                self.state = State::FinWait;
                self.fin_queued = true;
                self.deadline = None;
                self.flush(now, out);
                Ok(())
            }
            s => Err(crate::PspError::CannotClose(s.name())),
        }
    }

    /// The PIP layer reports where the SYN left.
    pub fn syn_left(&mut self, now: Instant, iface: I) {
        self.syn_left = true;
        self.iface = Some(iface);
        if self.state == State::SynSent {
            self.deadline = Some(now + SYN_SENT_TIMEOUT);
            self.syn_resend_at = Some(now + SYN_RESEND_AFTER);
        }
    }

    /// A half-open connection the listener gives up (another one completed, the backlog was
    /// full, or the program unlistened): a RST tells the peer at once, as any later segment of
    /// its would be answered.
    pub fn reset_half_open(&self, out: &mut Outputs<I>) {
        self.emit(out, Segment::rst(self.snd_nxt, None));
    }

    /// The client's port could not be opened: the "could not open" RST, then error.
    pub fn port_failed(&mut self, msg: &str, out: &mut Outputs<I>) {
        self.emit(out, Segment::rst_port_failed(self.snd_nxt));
        self.fail(msg, out);
    }

    // ----- received segments --------------------------------------------------------------

    pub fn on_segment(
        &mut self,
        now: Instant,
        cfg: &PspConfig,
        local_ip: Ipv4Addr,
        seg: &Segment,
        out: &mut Outputs<I>,
    ) {
        if self.state == State::SynSent {
            self.on_syn_sent(now, local_ip, seg, out);
        } else if self.state.is_synchronized() {
            self.on_synchronized(now, cfg, seg, out);
        }
    }

    fn on_syn_sent(
        &mut self,
        now: Instant,
        local_ip: Ipv4Addr,
        seg: &Segment,
        out: &mut Outputs<I>,
    ) {
        if seg.reset {
            self.fail("Connection refused", out);
            return;
        }
        let acceptable = seg.synchronize
            && matches!(seg.acknowledgement, Some(a) if a >= self.snd_acked && a <= self.snd_nxt);
        if !acceptable {
            self.emit(out, Segment::rst(seg.acknowledgement.unwrap_or(0), None));
            self.fail("Connection refused", out);
            return;
        }
        self.local_ip = Some(local_ip);
        self.sack = self.sack_offered && seg.sack_permitted;
        self.snd_acked = self.iss.saturating_add(1);
        self.rcv_nxt = seg.sequence.saturating_add(1);
        self.peer_window = usable_window(seg.window_size.unwrap_or(WINDOW));
        self.state = State::Connected;
        self.deadline = None;
        self.syn_resend_at = None;
        // The handshake ACK carries the next expected sequence, as Phoenix's does.
        let ack = self.rcv_nxt;
        self.send_new(now, out, None, false, ack);
        self.event_status(out, HandleStatus::Open);
    }

    fn on_synchronized(
        &mut self,
        now: Instant,
        cfg: &PspConfig,
        seg: &Segment,
        out: &mut Outputs<I>,
    ) {
        // 1. Old segment.
        if seg.sequence < self.rcv_nxt {
            if seg.reset {
                // Phoenix's unknown-socket RST carries our old acknowledgement, so it is "old";
                // a closing socket just closes (a late segment of ours reached a peer that had
                // already finished), an open one fails.
                match self.state {
                    State::Closing | State::CloseWait | State::TimeWait => self.close_now(out),
                    _ => self.fail("Connection reset by peer", out),
                }
                return;
            }
            match self.state {
                // The client did not get our SYN-ACK.
                State::SynReceived => self.send_syn_ack(out),
                _ => {
                    if self.state == State::TimeWait && seg.fin {
                        self.deadline = Some(now + TIME_WAIT);
                    }
                    if self.sack {
                        self.on_old_with_sack(now, seg, out);
                    } else {
                        // Re-ACK with the last in-order sequence, coalesced: every
                        // duplicate of one retransmission round shares one ACK.
                        self.ack_due = Some(now);
                    }
                }
            }
            return;
        }
        // 2. Reset.
        if seg.reset {
            match self.state {
                State::SynReceived => self.half_open_failed = Some("Connection reset by peer"),
                State::Connected | State::FinWait => self.fail("Connection reset by peer", out),
                _ => self.close_now(out),
            }
            return;
        }
        // 3. SYN on an existing connection.
        if seg.synchronize {
            self.emit(out, Segment::rst(seg.acknowledgement.unwrap_or(0), None));
            if self.state == State::SynReceived {
                self.half_open_failed = Some("Connection reset by host");
            } else {
                self.fail("Connection reset by host", out);
            }
            return;
        }
        // 4. Without an acknowledgement a segment is ignored.
        let Some(ack) = seg.acknowledgement else {
            return;
        };
        // 5. Acknowledgement, by state. The handshake ACK (and a late duplicate of it, which a
        // reordering link can deliver after our first data) says "next expected"; read it as
        // every other acknowledgement, "last received".
        let ack_cum = if Some(seg.sequence) == self.hs_ack_seq {
            ack.saturating_sub(1)
        } else {
            ack
        };
        match self.state {
            State::SynReceived => {
                if ack < self.iss || ack > self.snd_nxt {
                    self.emit(out, Segment::rst(ack, None));
                    self.half_open_failed = Some("Connection reset by host");
                    return;
                }
                self.state = State::Connected;
                self.snd_acked = self.iss.saturating_add(1);
                self.deadline = None;
                if let Some(w) = seg.window_size {
                    self.peer_window = usable_window(w);
                }
                if let Some(o) = self.origin.take() {
                    out.events.push_back(PspEvent::NetworkRequest {
                        uri: o.uri,
                        ip: self.remote_ip,
                        handle: self.id,
                    });
                }
                self.cumulative_ack(now, ack_cum, seg.sack.as_ref(), out);
            }
            State::CloseWait => {
                self.cumulative_ack(now, ack_cum, seg.sack.as_ref(), out);
                if self.fin_seq.is_some_and(|f| ack >= f) {
                    self.close_now(out);
                }
                return;
            }
            State::TimeWait => {
                if seg.fin {
                    self.deadline = Some(now + TIME_WAIT);
                    self.send_ack_only(now, out, seg.sequence);
                }
                return;
            }
            State::Connected | State::FinWait | State::Closing => {
                let (acked_before, window_before) = (self.snd_acked, self.peer_window);
                self.cumulative_ack(now, ack_cum, seg.sack.as_ref(), out);
                if self.state == State::Connected {
                    if let Some(w) = seg.window_size {
                        self.peer_window = usable_window(w);
                    }
                }
                // A duplicate ACK (RFC 5681's definition, in messages): an ACK-only message that
                // is new, acknowledges exactly what was acknowledged, leaves the window alone,
                // while carrying messages are outstanding.
                if ack_cum == acked_before
                    && seg.payload.is_none()
                    && !seg.fin
                    && self.peer_window == window_before
                    && self.has_retransmittable()
                {
                    self.on_duplicate_ack(now, out);
                }
                let fin_acked = self.fin_seq.is_some_and(|f| ack >= f);
                if fin_acked && self.state == State::Closing {
                    self.enter_time_wait(now);
                } else if fin_acked && self.state == State::FinWait {
                    if seg.fin {
                        self.enter_time_wait(now);
                    } else if self.deadline.is_none() {
                        // Our FIN is acknowledged but the peer's FIN has not come (a re-ACK of a
                        // re-sent FIN, or a TCP-style peer). Phoenix 0.0.9 answers with RST and
                        // errors; with re-sent FINs and consistent re-ACKs that
                        // would break clean closes, so wait a bounded time for the FIN instead.
                        self.deadline = Some(now + FIN_WAIT_2_TIMEOUT);
                    }
                }
            }
            _ => return,
        }
        // 6–7. Data and FIN.
        if self.state == State::Connected {
            if seg.sequence == self.rcv_nxt {
                let had_gap = !self.ooo.is_empty();
                if self.accept_in_order(now, seg, out) {
                    self.drain_out_of_order(now, out);
                }
                self.dup_acks_sent = 0;
                if self.sack && had_gap && self.ack_due.is_some() {
                    // Tell the sender at once what the repair filled and what is still missing
                    // (when payload came with it: an ACK for an ACK-only would start a chain).
                    self.ack_now(now);
                } else if cfg.dup_acks && had_gap && self.ack_due.is_some() {
                    // The segment fills (part of) a gap: acknowledge at once (RFC 5681 §4.2), so
                    // the sender learns the next hole one round trip after repairing this one.
                    let ack = self.ack_value();
                    self.send_ack_only(now, out, ack);
                }
            } else if seg.sequence < self.rcv_nxt.saturating_add(WINDOW) {
                let new = !self.ooo.contains_key(&seg.sequence);
                self.store_out_of_order(now, seg);
                if self.sack && (seg.payload.is_some() || seg.fin) {
                    // RFC 5681 §4.2: acknowledge out-of-order arrivals at once: one ACK for all
                    // that arrive together, and one every [`SACK_ACK_EVERY`] of them. Not for an
                    // ACK-only message: two peers with gaps would answer each other's ACKs for
                    // ever; it is reported with whatever we send next.
                    self.ooo_unacked = self.ooo_unacked.saturating_add(1);
                    if self.ooo_unacked >= SACK_ACK_EVERY {
                        let ack = self.ack_value();
                        self.send_ack_only(now, out, ack);
                    } else {
                        self.ack_now(now);
                    }
                } else if cfg.dup_acks
                    && new
                    && self.dup_acks_sent < DUP_ACKS_PER_GAP
                    && self.ooo.contains_key(&seg.sequence)
                {
                    self.dup_acks_sent += 1;
                    let ack = self.ack_value();
                    self.send_ack_only(now, out, ack);
                }
                self.maybe_skip_gap(now, cfg, out);
            }
        } else {
            // Only `connected` delivers data; in the closing states just count the sequence
            // and act on a FIN wherever it sits (Phoenix does not order FINs either).
            // Only the exact next sequence advances: jumping over a missing one would make a
            // FIN still in flight look old.
            if seg.sequence == self.rcv_nxt {
                self.rcv_nxt = seg.sequence.saturating_add(1);
            }
            if seg.fin {
                self.on_fin_closing(now, seg.sequence, out);
            }
        }
        // New window room (acks) is used after the data step, so sends carry the latest ack.
        self.flush(now, out);
    }

    /// Selective acknowledgements: a copy of a message we already delivered. The peer re-sends
    /// ACK-only messages too (every sequence must arrive), so such copies are common, and each
    /// carries an acknowledgement and a report as fresh as any: take them in. Re-acknowledge
    /// only a copy that carried payload or FIN; answering an ACK-only with a new ACK-only would
    /// feed a chain of messages that each need delivering.
    fn on_old_with_sack(&mut self, now: Instant, seg: &Segment, out: &mut Outputs<I>) {
        if matches!(
            self.state,
            State::Connected | State::FinWait | State::Closing | State::CloseWait
        ) {
            if let Some(ack) = seg.acknowledgement {
                let ack_cum = if Some(seg.sequence) == self.hs_ack_seq {
                    ack.saturating_sub(1)
                } else {
                    ack
                };
                self.cumulative_ack(now, ack_cum, seg.sack.as_ref(), out);
            }
        }
        if seg.payload.is_some() || seg.fin {
            self.ack_now(now);
        }
        self.flush(now, out);
    }

    /// Releases everything up to `ack` (Phoenix's `sendSeq < A <= sendSeqNext`; `A` means "all
    /// sequences up to A received"), takes in the peer's selective acknowledgements, and
    /// re-sends what they show lost.
    fn cumulative_ack(
        &mut self,
        now: Instant,
        ack: u64,
        sack: Option<&SackBlocks>,
        out: &mut Outputs<I>,
    ) {
        let progress = self.release(now, ack);
        if self.sack {
            if let Some(b) = sack {
                self.take_sack(now, b);
            }
            self.repair_from_sack(now, out);
            self.rearm_adaptive();
            return;
        }
        if progress && self.mode == Recovery::Adaptive {
            self.repair_after_progress(now, out);
        }
    }

    /// The cumulative part of an acknowledgement; whether it acknowledged anything new.
    fn release(&mut self, now: Instant, ack: u64) -> bool {
        if ack > self.snd_nxt {
            return false;
        }
        let a = ack.min(self.snd_nxt.saturating_sub(1));
        if a <= self.snd_acked {
            return false;
        }
        self.snd_acked = a;
        // The round-trip sample: from the latest send of any released carrying message (see
        // `rtt.rs` for why not Karn's rule).
        let mut newest: Option<Instant> = None;
        while self.rtx.front().is_some_and(|s| s.seq <= a) {
            if let Some(s) = self.rtx.pop_front() {
                if self.sack && !s.sacked {
                    self.on_delivered(now, &s);
                }
                if s.carries_something() {
                    newest = Some(newest.map_or(s.last_sent, |n| n.max(s.last_sent)));
                }
            }
        }
        self.retries = 0;
        self.dup_acks = 0;
        if self.mode == Recovery::Phoenix {
            self.rto = if self.has_retransmittable() {
                Some(now + RETRANSMIT_INTERVAL)
            } else {
                None
            };
            return true;
        }
        self.rtt.on_progress();
        if let Some(sent) = newest {
            self.rtt
                .on_sample(now.saturating_duration_since(sent).as_millis() as u64);
        }
        self.progress_at = now;
        true
    }

    /// Selective acknowledgements: marks the messages in `b` as held by the peer. Only the
    /// messages we keep are visited, whatever ranges a peer sends.
    fn take_sack(&mut self, now: Instant, b: &SackBlocks) {
        let Some(base) = self.rtx.front().map(|s| s.seq) else {
            return;
        };
        // Clamped in u64 before any index is formed: a peer's range may lie anywhere below 2^53.
        let held = self.rtx.len() as u64;
        for &(first, last) in b.ranges() {
            let from = first.max(base) - base;
            let Some(to) = last.checked_sub(base) else {
                continue;
            };
            if from >= held {
                continue;
            }
            let to = to.min(held - 1);
            for i in from..=to {
                // The queue holds consecutive sequences from `base`; the check keeps a report
                // from ever marking another message than the one it names.
                let Some(s) = self.rtx.get_mut(i as usize) else {
                    break;
                };
                if s.seq != base + i {
                    continue;
                }
                if !s.sacked {
                    s.sacked = true;
                    let s = s.clone();
                    self.on_delivered(now, &s);
                }
            }
        }
    }

    /// Selective acknowledgements: `s` reached the peer (newly reported held, or released by
    /// the cumulative acknowledgement).
    fn on_delivered(&mut self, now: Instant, s: &Sent) {
        let rtt = now.saturating_duration_since(s.last_sent).as_millis() as u64;
        // An acknowledgement sooner than any round trip is for an earlier copy: the re-send was
        // spurious, the original was only late (RFC 8985 §6.2 step 1; Eifel's test). Widen
        // the reordering window (doubling).
        let early = s.resent && self.min_rtt.is_some_and(|m| rtt < m);
        if early {
            let quarter = self.min_rtt.unwrap_or(0) / 4;
            let ceiling = MAX_RTO.as_millis() as u64;
            self.reo_extra = (self.reo_extra.saturating_mul(2))
                .saturating_add(quarter.max(1))
                .min(ceiling);
        } else if !s.resent {
            self.min_rtt = Some(self.min_rtt.map_or(rtt, |m| m.min(rtt)));
        }
        if s.tx > self.delivered_tx {
            self.delivered_tx = s.tx;
            if !early {
                self.rack_rtt = Some(rtt);
            }
        }
    }

    /// RFC 8985's reordering window (ms): how much later than the message sent after it a
    /// message may still arrive. The round trips' variation (RFC 6298's RTTVAR) and a quarter
    /// of the smallest round trip, whichever is larger, plus what spurious re-sends taught,
    /// at most the smoothed round trip. Before any round-trip sample, one whole round trip.
    fn reo_wnd(&self) -> u64 {
        let Some(var) = self.rtt.rttvar() else {
            return self.rack_rtt.unwrap_or(0);
        };
        let w = var
            .max(self.min_rtt.unwrap_or(0) / 4)
            .saturating_add(self.reo_extra);
        w.min(self.rtt.srtt().unwrap_or(w))
    }

    /// Selective acknowledgements: re-sends every message the peer does not hold that RFC 8985's
    /// rule declares lost: a message sent after it has been acknowledged, and it has had that
    /// message's round trip plus the reordering window ([`Conn::reo_wnd`]) to arrive. A
    /// re-sent copy takes a new transmission number and send time, so it is judged afresh.
    /// Arms the reordering timer for the first message that is not lost yet but may become so.
    fn repair_from_sack(&mut self, now: Instant, out: &mut Outputs<I>) {
        let ack = self.ack_value();
        let Some(rack_rtt) = self.rack_rtt else {
            return;
        };
        // Never sooner than the smallest round trip, nor in the same millisecond: nothing could
        // have answered a copy yet.
        let floor = self.min_rtt.unwrap_or(0).max(1);
        let wait =
            core::time::Duration::from_millis(rack_rtt.max(floor).saturating_add(self.reo_wnd()));
        let mut next: Option<Instant> = None;
        for i in 0..self.rtx.len() {
            let Some(s) = self.rtx.get(i) else { break };
            if s.sacked || s.tx >= self.delivered_tx {
                continue;
            }
            let at = s.last_sent + wait;
            if now >= at {
                self.resend(now, out, i, ack);
            } else {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        self.reo_deadline = next;
    }

    /// Selective acknowledgements, timeout. The first in a row is a probe (RFC 8985's tail loss
    /// probe): only the last message the peer does not hold is re-sent, to draw a report
    /// (a lost acknowledgement looks the same as lost messages, and re-sending everything
    /// would duplicate what arrived). The second re-sends every message the peer does not hold
    /// (ACK-only ones too: the peer waits for every sequence); from the third on, the reports
    /// are forgotten and everything outstanding is re-sent (RFC 2018 §8: a receiver may drop
    /// what it reported).
    fn timeout_with_sack(&mut self, now: Instant, out: &mut Outputs<I>) {
        self.retries += 1;
        self.timed_out_at = now;
        if self.retries >= 3 {
            for s in &mut self.rtx {
                s.sacked = false;
            }
        }
        let ack = self.ack_value();
        if self.retries == 1 {
            let last = self
                .rtx
                .iter()
                .rposition(|s| !s.sacked && s.carries_something())
                .or_else(|| self.rtx.iter().rposition(|s| !s.sacked));
            if let Some(i) = last {
                self.resend(now, out, i, ack);
            }
        } else {
            for i in 0..self.rtx.len() {
                if self.rtx.get(i).is_some_and(|s| !s.sacked) {
                    self.resend(now, out, i, ack);
                }
            }
        }
        self.ack_due = None;
        self.unacked_rx = 0;
        self.rearm_adaptive();
    }

    /// Adaptive rule without selective acknowledgements: the peer acknowledged something new
    /// during a repair.
    fn repair_after_progress(&mut self, now: Instant, out: &mut Outputs<I>) {
        let a = self.snd_acked;
        // The copy of the next hole that left last has had time to arrive.
        let settle = self
            .rtt
            .srtt()
            .map_or(self.rtt.rto(), core::time::Duration::from_millis);
        let hole_settled = self
            .rtx
            .front()
            .is_some_and(|s| s.last_sent + settle <= now);
        if let Some(r) = &mut self.repair {
            if a >= r.recover {
                self.repair = None;
            } else if self.peer_keeps_ooo && now >= r.since + RETRANSMIT_INTERVAL && hole_settled {
                // Many holes: one per round trip has taken a whole Phoenix round; re-send
                // everything still outstanding once, then go on hole by hole.
                r.resent_upto = a;
                r.burst = WINDOW;
                r.since = now;
            } else if a > r.resent_upto {
                // A partial acknowledgement (RFC 6582) beyond what we re-sent: the peer keeps
                // out-of-order messages, so only the next hole (at a + 1) needs re-sending.
                self.peer_keeps_ooo = true;
                r.burst = 1;
            } else if self.peer_keeps_ooo {
                // What followed the hole was lost too: re-send twice as many, like slow start.
                r.burst = (r.burst * 2).min(WINDOW);
            } else if hole_settled {
                // No sign the peer keeps anything out of order: go back to the hole and re-send
                // everything outstanding (Phoenix's rule, clocked by its acknowledgements).
                r.resent_upto = a;
                r.burst = WINDOW;
            } else {
                r.burst = 0;
            }
            self.repair_burst(now, out);
        }
        self.rearm_adaptive();
    }

    /// Adaptive rule, sender side: an acknowledgement that acknowledged nothing new.
    fn on_duplicate_ack(&mut self, now: Instant, out: &mut Outputs<I>) {
        if self.mode != Recovery::Adaptive || self.repair.is_some() || self.sack {
            return;
        }
        // Only a receiver that stores an out-of-order message has a reason to repeat its ACK
        // (a Phoenix 0.0.9 peer acknowledges on its tick, and only progress).
        self.peer_keeps_ooo = true;
        self.dup_acks += 1;
        if self.dup_acks >= DUP_ACK_THRESHOLD {
            self.counters.fast_retransmits += 1;
            self.start_repair(now, out);
        }
    }

    /// Delivers the in-order segment `seg` (sequence == rcv_nxt) in `connected`. Returns false
    /// when its payload does not fit the receive buffer (it stays unacknowledged).
    fn accept_in_order(&mut self, now: Instant, seg: &Segment, out: &mut Outputs<I>) -> bool {
        if let Some(p) = &seg.payload {
            if self.buffer.len().saturating_add(p.len()) > MAX_RECV_BUFFER {
                return false;
            }
            self.buffer.extend(p.as_bytes());
            out.events.push_back(PspEvent::DataReady { id: self.id });
            self.unacked_rx = self.unacked_rx.saturating_add(1);
            if self.ack_due.is_none() {
                self.ack_due = Some(now + DELAYED_ACK);
            }
        }
        self.rcv_nxt = seg.sequence.saturating_add(1);
        if seg.fin {
            self.on_fin_connected(now, out);
        } else if self.unacked_rx >= ACK_EVERY {
            let ack = self.ack_value();
            self.send_ack_only(now, out, ack);
        }
        true
    }

    /// An acknowledgement due now, sent when this batch of input is over (at the next
    /// `handle_timeout`), so everything that arrives together shares one.
    fn ack_now(&mut self, now: Instant) {
        self.ack_due = Some(self.ack_due.map_or(now, |d| d.min(now)));
    }

    fn store_out_of_order(&mut self, now: Instant, seg: &Segment) {
        if self.ooo.contains_key(&seg.sequence) {
            // The peer re-sends what we hold: one retransmission round, counted once a second.
            if let Some(g) = &mut self.gap {
                if now >= g.last_round + core::time::Duration::from_secs(1) {
                    g.rounds = g.rounds.saturating_add(1);
                    g.last_round = now;
                }
            }
            return;
        }
        let len = seg.payload.as_ref().map_or(0, |p| p.len());
        if self.ooo.len() >= MAX_OUT_OF_ORDER
            || self
                .buffer
                .len()
                .saturating_add(self.ooo_bytes)
                .saturating_add(len)
                > MAX_RECV_BUFFER
        {
            return;
        }
        self.ooo_bytes += len;
        self.ooo.insert(seg.sequence, seg.clone());
        if self.gap.is_none() {
            self.gap = Some(Gap {
                since: now,
                rounds: 0,
                last_round: now,
            });
        }
    }

    fn drain_out_of_order(&mut self, now: Instant, out: &mut Outputs<I>) {
        while self.state == State::Connected {
            // Entries below the next expected sequence can no longer be delivered.
            while let Some((&s, _)) = self.ooo.first_key_value() {
                if s >= self.rcv_nxt {
                    break;
                }
                if let Some(seg) = self.ooo.remove(&s) {
                    self.ooo_bytes -= seg.payload.as_ref().map_or(0, |p| p.len());
                }
            }
            let Some(seg) = self.ooo.remove(&self.rcv_nxt) else {
                break;
            };
            let len = seg.payload.as_ref().map_or(0, |p| p.len());
            self.ooo_bytes -= len;
            if !self.accept_in_order(now, &seg, out) {
                self.ooo_bytes += len;
                self.ooo.insert(seg.sequence, seg);
                break;
            }
            // Progress: any remaining gap starts over.
            self.gap = None;
        }
        if self.ooo.is_empty() {
            self.gap = None;
        } else if self.gap.is_none() {
            self.gap = Some(Gap {
                since: now,
                rounds: 0,
                last_round: now,
            });
        }
    }

    fn gap_has_fin(&self) -> bool {
        self.ooo.values().any(|s| s.fin)
    }

    /// Skips a missing sequence that can only be a Phoenix peer's lost ACK-only.
    fn maybe_skip_gap(&mut self, now: Instant, cfg: &PspConfig, out: &mut Outputs<I>) {
        if !cfg.skip_stalled_gaps || self.sack || self.state != State::Connected {
            return;
        }
        let Some(g) = self.gap else { return };
        if now < g.since + GAP_SKIP_AFTER || (g.rounds < GAP_SKIP_ROUNDS && !self.gap_has_fin()) {
            return;
        }
        self.rcv_nxt = self.rcv_nxt.saturating_add(1);
        self.gap = None;
        self.drain_out_of_order(now, out);
    }

    /// The peer's FIN arrived in order in `connected` (or ends the handshake): answer with our
    /// FIN combined with its ACK, as Phoenix does, and report `closed`.
    fn on_fin_connected(&mut self, now: Instant, out: &mut Outputs<I>) {
        self.pending.clear();
        self.ooo.clear();
        self.ooo_bytes = 0;
        self.gap = None;
        self.state = State::CloseWait;
        let ack = self.ack_value();
        self.send_new(now, out, None, true, ack);
        self.event_status(out, HandleStatus::Closed);
    }

    fn on_fin_closing(&mut self, now: Instant, fin_seq: u64, out: &mut Outputs<I>) {
        self.rcv_nxt = self.rcv_nxt.max(fin_seq.saturating_add(1));
        match self.state {
            State::FinWait => {
                // Simultaneous close: our FIN is not acknowledged yet (otherwise step 5 moved us
                // to time-wait). Queued writes can no longer matter to the peer.
                self.pending.clear();
                self.flush(now, out);
                self.send_ack_only(now, out, fin_seq);
                self.state = State::Closing;
                self.deadline = None;
            }
            State::TimeWait => {
                self.deadline = Some(now + TIME_WAIT);
                self.send_ack_only(now, out, fin_seq);
            }
            _ => self.send_ack_only(now, out, fin_seq),
        }
    }

    // ----- timers -------------------------------------------------------------------------

    pub fn next_deadline(&self, cfg: &PspConfig) -> Option<Instant> {
        let mut d = self.deadline;
        for t in [
            self.syn_resend_at,
            self.ack_due,
            self.rto,
            self.reo_deadline,
        ] {
            d = match (d, t) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        if cfg.skip_stalled_gaps
            && !self.sack
            && self.state == State::Connected
            && self.gap_has_fin()
        {
            if let Some(g) = self.gap {
                let t = g.since + GAP_SKIP_AFTER;
                d = Some(d.map_or(t, |d| d.min(t)));
            }
        }
        d
    }

    pub fn on_timeout(&mut self, now: Instant, cfg: &PspConfig, out: &mut Outputs<I>) {
        if self.syn_resend_at.is_some_and(|t| now >= t) {
            self.syn_resend_at = None;
            if self.state == State::SynSent {
                self.send_syn(out);
            }
        }
        if self.deadline.is_some_and(|t| now >= t) {
            self.deadline = None;
            match self.state {
                State::SynSent => {
                    self.fail("Connection timed out (syn-sent)", out);
                    return;
                }
                State::SynReceived => {
                    self.state_retries += 1;
                    if self.state_retries > SYN_RECEIVED_MAX_RETRIES {
                        self.half_open_failed = Some("Connection timed out (syn-received)");
                        return;
                    }
                    self.send_syn_ack(out);
                    self.deadline = Some(now + SYN_RECEIVED_RETRY);
                }
                State::TimeWait => {
                    // Reaped after 10 s; the program saw `closed` already.
                    self.state = State::Closed;
                    self.stop_timers();
                    return;
                }
                State::FinWait => {
                    self.close_now(out);
                    return;
                }
                _ => {}
            }
        }
        if self.reo_deadline.is_some_and(|t| now >= t) {
            self.reo_deadline = None;
            if self.sack {
                self.repair_from_sack(now, out);
                self.rearm_adaptive();
            }
        }
        if self.rto.is_some_and(|t| now >= t) {
            self.rto = None;
            let first = self
                .rtx
                .iter()
                .find(|s| s.carries_something())
                .map(|s| s.fin);
            let fin_only = self.rtx.front().is_some_and(|s| s.fin);
            match first {
                _ if self.sack && !fin_only => {
                    let progress_at = self.progress_at;
                    let oldest = self.rtx.front();
                    if oldest.is_some_and(|s| now >= Self::give_up_at(s, progress_at)) {
                        self.fail("Connection timed out", out);
                        return;
                    }
                    self.counters.timeouts += 1;
                    self.rtt.on_timeout();
                    self.timeout_with_sack(now, out);
                }
                None => {}
                Some(true) if fin_only => {
                    // Only our FIN is outstanding. While messages before it are
                    // unacknowledged the peer may not have reached it yet: the ordinary round
                    // limit (and error) applies instead.
                    if self.fin_resends >= MAX_FIN_RESENDS {
                        self.close_now(out);
                        return;
                    }
                    self.fin_resends += 1;
                    self.retransmit(now, out);
                    // Both rules: a lone FIN is re-sent every 2 s; nothing waits on it.
                    self.rto = Some(now + RETRANSMIT_INTERVAL);
                }
                Some(_) if self.mode == Recovery::Adaptive => {
                    let progress_at = self.progress_at;
                    let oldest = self.rtx.iter().find(|s| s.carries_something());
                    if oldest.is_some_and(|s| now >= Self::give_up_at(s, progress_at)) {
                        self.fail("Connection timed out", out);
                        return;
                    }
                    self.counters.timeouts += 1;
                    self.rtt.on_timeout();
                    self.start_repair(now, out);
                }
                Some(_) => {
                    if self.retries >= MAX_RETRANSMIT_ROUNDS {
                        self.fail("Connection timed out", out);
                        return;
                    }
                    self.retries += 1;
                    self.counters.timeouts += 1;
                    self.retransmit(now, out);
                    self.rto = Some(now + RETRANSMIT_INTERVAL);
                }
            }
        }
        if self.ack_due.is_some_and(|t| now >= t) {
            self.ack_due = None;
            if self.state.is_synchronized() && self.state != State::SynReceived {
                let ack = self.ack_value();
                self.send_ack_only(now, out, ack);
            }
        }
        if self.gap.is_some() {
            self.maybe_skip_gap(now, cfg, out);
        }
    }

    // ----- queries ------------------------------------------------------------------------

    pub fn status(&self) -> (HandleStatus, Option<&str>) {
        match self.state {
            State::Listening | State::SynSent | State::SynReceived => {
                (HandleStatus::Connecting, None)
            }
            State::Connected => (HandleStatus::Open, None),
            _ if !self.buffer.is_empty() => (HandleStatus::Open, None),
            State::Error => (HandleStatus::Error, self.error.as_deref()),
            _ => (HandleStatus::Closed, None),
        }
    }

    pub fn stats(&self) -> super::ConnStats {
        super::ConnStats {
            unacked: self.rtx.len(),
            pending_writes: self.pending.len(),
            out_of_order: self.ooo.len(),
            buffered: self.buffer.len(),
            next_send: self.snd_nxt,
            next_expected: self.rcv_nxt,
            retransmitted: self.counters.retransmitted,
            timeouts: self.counters.timeouts,
            fast_retransmits: self.counters.fast_retransmits,
            srtt: self.rtt.srtt().map(core::time::Duration::from_millis),
            rto: self.rto_interval(),
        }
    }
}
