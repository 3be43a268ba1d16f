//! Embedding the stack from Rust: two Phoenix computers on an in-memory medium, driven by the
//! host's own clock loop.
//!
//! The host is everything below `Host`: a medium of a few dozen lines (a transmit reaches every
//! other computer whose modem has the channel open), an in-memory TCP for HTTP (listeners by
//! port, connections paired), and a clock that jumps to the next deadline. The programs are the
//! steps in `main`: addresses, a ping, a 100 KB PSP transfer, a rednet message, and an HTTP
//! request served by the other computer.
//!
//! Run with `cargo run -p syscall-api --example embed`; `cargo test` runs it too.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use syscall_api::{
    Computer, ComputerConfig, ConnectFailure, ConnectOptions, Duration, Event, HandleId, Instant,
    IpConfigChange, ListenerId, MessageType, Mode, NetEvent, NetworkStack, Output, Pid, SplitMix64,
    Status, TcpEvent, TcpId, TcpRequest, Value,
};

/// How long a modem message takes to arrive (one game tick).
const LATENCY: Duration = Duration::from_millis(50);

/// The process making the calls on both computers.
const PID: Pid = 1;

/// The host: the computers, their medium, their TCP, and the clock.
struct Host {
    now: Instant,
    computers: Vec<Computer>,
    /// Channels open on each computer's one modem, `/top`.
    open: Vec<BTreeSet<u16>>,
    /// Transmits in flight: arrival time, sender, channel, reply channel, message.
    air: VecDeque<(Instant, usize, u16, u16, Value)>,
    /// TCP listeners by port (every host name reaches them).
    listeners: BTreeMap<u16, (usize, ListenerId)>,
    /// Connected TCP pairs, both ways.
    pipes: BTreeMap<(usize, TcpId), (usize, TcpId)>,
    /// TCP events not yet delivered.
    tcp: VecDeque<(usize, TcpId, TcpEvent)>,
    /// Events for the programs: computer, process, event.
    events: Vec<(usize, Pid, Event)>,
}

impl Host {
    fn new(ids: &[u32]) -> Host {
        let mut seed = SplitMix64::new(2024);
        let computers: Vec<Computer> = ids
            .iter()
            .map(|&id| Computer::new(ComputerConfig::new(id, &["/top"]), &mut seed))
            .collect();
        Host {
            now: Instant::ZERO,
            open: vec![BTreeSet::new(); computers.len()],
            computers,
            air: VecDeque::new(),
            listeners: BTreeMap::new(),
            pipes: BTreeMap::new(),
            tcp: VecDeque::new(),
            events: Vec::new(),
        }
    }

    /// Applies every output and delivers every message until nothing moves.
    fn settle(&mut self) {
        loop {
            let mut moved = false;
            for i in 0..self.computers.len() {
                while let Some(o) = self.computers[i].poll_output() {
                    moved = true;
                    self.apply(i, o);
                }
            }
            while self.air.front().is_some_and(|m| m.0 <= self.now) {
                let Some((_, from, channel, reply, message)) = self.air.pop_front() else {
                    break;
                };
                moved = true;
                for to in 0..self.computers.len() {
                    if to != from && self.open[to].contains(&channel) {
                        let (c, now) = (&mut self.computers[to], self.now);
                        c.handle_modem_message(now, "/top", channel, reply, &message, Some(8.0));
                    }
                }
            }
            while let Some((i, conn, event)) = self.tcp.pop_front() {
                moved = true;
                self.computers[i].handle_tcp(self.now, conn, event);
            }
            if !moved {
                return;
            }
        }
    }

    fn apply(&mut self, i: usize, o: Output) {
        match o {
            Output::Transmit {
                channel,
                reply_channel,
                message,
                ..
            } => {
                let at = self.now + LATENCY;
                self.air.push_back((at, i, channel, reply_channel, message));
            }
            Output::OpenChannel { channel, .. } => {
                self.open[i].insert(channel);
            }
            Output::CloseChannel { channel, .. } => {
                self.open[i].remove(&channel);
            }
            Output::Event { pid, event } => self.events.push((i, pid, event)),
            Output::Tcp(request) => self.tcp_request(i, request),
            // `HearAll` is for routers; this medium has none.
            _ => {}
        }
    }

    fn tcp_request(&mut self, i: usize, request: TcpRequest) {
        match request {
            TcpRequest::Listen { listener, port, .. } => {
                self.listeners.insert(port, (i, listener));
            }
            TcpRequest::Unlisten { listener } => self.listeners.retain(|_, l| *l != (i, listener)),
            TcpRequest::Connect { conn, port, .. } => {
                let now = self.now;
                let accepted = self
                    .listeners
                    .get(&port)
                    .copied()
                    .and_then(|(j, listener)| {
                        let peer = format!("10.0.0.{}:50000", i + 1);
                        let c = &mut self.computers[j];
                        c.handle_tcp_accept(now, listener, &peer).map(|id| (j, id))
                    });
                let event = match accepted {
                    Some(other) => {
                        self.pipes.insert((i, conn), other);
                        self.pipes.insert(other, (i, conn));
                        TcpEvent::Connected
                    }
                    None => TcpEvent::Failed(ConnectFailure::CouldNotConnect),
                };
                self.tcp.push_back((i, conn, event));
            }
            TcpRequest::Send { conn, data } => {
                if let Some(&(j, other)) = self.pipes.get(&(i, conn)) {
                    self.tcp.push_back((j, other, TcpEvent::Data(data)));
                }
            }
            TcpRequest::Close { conn } => {
                if let Some((j, other)) = self.pipes.remove(&(i, conn)) {
                    self.pipes.remove(&(j, other));
                    self.tcp.push_back((j, other, TcpEvent::Closed));
                }
            }
        }
    }

    /// The clock loop: settle, check `done`, jump to the earliest deadline (a computer's timer
    /// or a message's arrival) and run the timers due then. Gives up when nothing is scheduled
    /// within `limit`.
    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&mut Host) -> bool) -> bool {
        let end = self.now + limit;
        loop {
            self.settle();
            if done(self) {
                return true;
            }
            let timers = self.computers.iter().filter_map(|c| c.poll_timeout());
            match timers.chain(self.air.front().map(|m| m.0)).min() {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    for c in &mut self.computers {
                        if c.poll_timeout().is_some_and(|d| d <= self.now) {
                            c.handle_timeout(self.now);
                        }
                    }
                }
                _ => return false,
            }
        }
    }

    /// Takes the first event for computer `i` that `pick` accepts.
    fn take<T>(&mut self, i: usize, pick: impl Fn(&Event) -> Option<T>) -> Option<T> {
        let at = self
            .events
            .iter()
            .position(|(c, _, e)| *c == i && pick(e).is_some())?;
        pick(&self.events.remove(at).2)
    }
}

fn opened(id: HandleId) -> impl Fn(&Event) -> Option<()> {
    move |e| match e {
        Event::HandleStatusChange {
            id: h,
            status: Status::Open,
            ..
        } if *h == id => Some(()),
        _ => None,
    }
}

fn request() -> impl Fn(&Event) -> Option<HandleId> {
    |e| match e {
        Event::NetworkRequest { handle, .. } => Some(*handle),
        _ => None,
    }
}

fn text(v: Option<Value>) -> String {
    v.and_then(|v| v.as_str().map(|s| s.to_string_lossy()))
        .unwrap_or_default()
}

/// The programs: one step per feature, each checked.
pub fn main() {
    const A: usize = 0;
    const B: usize = 1;
    let mut host = Host::new(&[1, 2]);
    let second = Duration::from_secs(1);

    // ipconfig: one address per computer on one network. Setting an address brings `/top` up.
    for (i, ip) in [(A, [10, 0, 0, 1]), (B, [10, 0, 0, 2])] {
        let change = IpConfigChange {
            ip: Some(ip.into()),
            prefix: Some(24),
            up: None,
        };
        let cfg = host.computers[i]
            .set_ipconfig(host.now, "/top", change)
            .unwrap();
        println!("computer {} is {}/{}", i + 1, cfg.ip, cfg.prefix);
    }

    // Ping: subscribe to network events, send a ping, wait for the pong.
    let now = host.now;
    host.computers[A].netevent(now, PID, Some(true));
    host.computers[A].netcontrol(now, [10, 0, 0, 2].into(), MessageType::Ping, None, None);
    let pong = |e: &Event| match e {
        Event::NetworkEvent(NetEvent::Control { message, .. })
            if message.message_type == MessageType::Pong =>
        {
            Some(())
        }
        _ => None,
    };
    assert!(
        host.run_until(second * 5, |h| h.take(A, pong).is_some()),
        "no pong"
    );
    println!("ping 10.0.0.2: pong at {} ms", host.now.as_millis());

    // PSP: B listens, A connects and sends 100 KB in 1 KB writes, B reads it all.
    let now = host.now;
    host.computers[B]
        .listen(now, PID, "psp://0.0.0.0:21")
        .unwrap();
    let conn = host.computers[A]
        .connect(now, PID, &ConnectOptions::new("psp://10.0.0.2:21"))
        .unwrap();
    // A sees `open` when B's answer arrives; B's `network_request` comes with A's last ACK.
    let (mut open, mut accepted) = (false, None);
    let connected = host.run_until(second * 10, |h| {
        open |= h.take(A, opened(conn)).is_some();
        accepted = accepted.or_else(|| h.take(B, request()));
        open && accepted.is_some()
    });
    let accepted = accepted.filter(|_| connected).expect("no connection");
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    for chunk in data.chunks(1000) {
        let now = host.now;
        host.computers[A]
            .write(now, PID, conn, Value::from(chunk.to_vec()))
            .unwrap();
    }
    let mut received = Vec::new();
    let done = host.run_until(second * 120, |h| {
        let now = h.now;
        if let Ok(Some(v)) = h.computers[B].read(now, PID, accepted, Mode::All) {
            received.extend_from_slice(v.as_str().map_or(&[][..], |s| s.as_bytes()));
        }
        received.len() >= data.len()
    });
    assert!(
        done && received == data,
        "PSP transfer incomplete: {} bytes",
        received.len()
    );
    println!(
        "PSP: {} bytes by {} ms",
        received.len(),
        host.now.as_millis()
    );
    let now = host.now;
    host.computers[A].close(now, PID, conn).unwrap();

    // Rednet: A sends to computer 2; B's handle takes messages from anyone.
    let now = host.now;
    let to_b = host.computers[A]
        .connect(now, PID, &ConnectOptions::new("rednet://0.0.0.2"))
        .unwrap();
    let from_any = host.computers[B]
        .connect(now, PID, &ConnectOptions::new("rednet://255.255.255.255"))
        .unwrap();
    host.settle();
    let now = host.now;
    host.computers[A]
        .write(now, PID, to_b, "hello over rednet")
        .unwrap();
    let ready =
        |e: &Event| matches!(e, Event::HandleDataReady { id } if *id == from_any).then_some(());
    assert!(
        host.run_until(second * 5, |h| h.take(B, ready).is_some()),
        "no rednet message"
    );
    let now = host.now;
    let message = text(
        host.computers[B]
            .read(now, PID, from_any, Mode::Line)
            .unwrap(),
    );
    assert_eq!(message, "hello over rednet");
    println!("rednet: {message:?}");

    // HTTP: B serves `listen("http://…")` over the host's TCP; A requests a page.
    let now = host.now;
    host.computers[B]
        .listen(now, PID, "http://0.0.0.0:8080")
        .unwrap();
    // The host applies B's listen before A's connect reaches it.
    host.settle();
    let page = host.computers[A]
        .connect(
            now,
            PID,
            &ConnectOptions::new("http://computer-2:8080/hello"),
        )
        .unwrap();
    host.computers[A].send_request(now, PID, page).unwrap();
    assert!(
        host.run_until(second * 5, |h| h.take(B, request()).is_some_and(|r| {
            let now = h.now;
            let c = &mut h.computers[B];
            assert_eq!(c.request_path(now, PID, r).unwrap(), "/hello");
            c.write(now, PID, r, "hello over HTTP").unwrap();
            c.close(now, PID, r).unwrap();
            true
        }))
    );
    assert!(
        host.run_until(second * 5, |h| h.take(A, opened(page)).is_some()),
        "no response"
    );
    let now = host.now;
    let (code, reason) = host.computers[A].response_code(now, PID, page).unwrap();
    let body = text(host.computers[A].read(now, PID, page, Mode::All).unwrap());
    assert_eq!((code, body.as_str()), (200, "hello over HTTP"));
    println!("HTTP: {code} {reason}: {body:?}");
}
