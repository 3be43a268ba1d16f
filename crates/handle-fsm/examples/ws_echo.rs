//! WebSocket echo over real TCP, driving this crate's sans-IO WebSocket handle with a small
//! blocking adapter (the one the integration tests use). Used by `scripts/autobahn/run.sh`.
//!
//! * `ws_echo server PORT` — accepts connections on 127.0.0.1:PORT (one thread each) and
//!   echoes every message back, text as text, binary as binary (Autobahn's fuzzingclient).
//! * `ws_echo client URL AGENT` — runs Autobahn's fuzzingserver protocol: asks
//!   `URL/getCaseCount`, then for each case connects to `URL/runCase?case=N&agent=AGENT` and
//!   echoes, then `URL/updateReports?agent=AGENT`.
//!
//! The Phoenix handle merges messages into one stream, but an echo peer needs message
//! boundaries and types, so this example composes the handshake types and [`WsSession`]
//! directly — the same pieces `WsHandle` is built from.

#[path = "../tests/common/tcp.rs"]
mod tcp;

use std::net::TcpListener;
use std::time::Duration;

use handle_fsm::ws::handshake::{
    check_ws_url, client_request, new_key, ClientHandshake, ServerHandshake, ServerVerdict,
};
use handle_fsm::ws::{Role, WsEvent, WsSession};
use handle_fsm::{ConnectFailure, NetOutput};
use modem_value::{Instant, RandomSource, SplitMix64};
use tcp::{Link, Machine};

/// A handshake-then-echo machine for either role.
struct Echo {
    session: Option<WsSession<SplitMix64>>,
    server_hs: Option<ServerHandshake>,
    /// Client side: the request to send once connected, then the handshake in progress.
    client_req: Option<Vec<u8>>,
    client_hs: Option<ClientHandshake>,
    outputs: std::collections::VecDeque<NetOutput>,
    done: bool,
    /// Keep the first message instead of echoing it (for `getCaseCount`).
    capture: Option<Option<Vec<u8>>>,
}

impl Echo {
    fn pump(&mut self) {
        if let Some(s) = &mut self.session {
            while let Some(e) = s.poll_event() {
                match e {
                    WsEvent::Message { data, binary } => match &mut self.capture {
                        Some(slot) => *slot = slot.take().or(Some(data)),
                        None => {
                            let _ = s.send(&data, binary);
                        }
                    },
                    WsEvent::Closed { .. } => {}
                }
            }
            while let Some(o) = s.poll_output() {
                self.outputs.push_back(o);
            }
            if s.is_closed() {
                self.done = true;
            }
        }
    }
}

impl Machine for Echo {
    fn poll_output(&mut self) -> Option<NetOutput> {
        self.outputs.pop_front()
    }
    fn handle_connected(&mut self, _now: Instant) {
        if let Some(r) = self.client_req.take() {
            self.outputs.push_back(NetOutput::Send(r));
        }
    }
    fn handle_connect_failed(&mut self, _now: Instant, _why: ConnectFailure) {
        self.done = true;
    }
    fn handle_bytes(&mut self, now: Instant, data: &[u8]) {
        if let Some(hs) = &mut self.server_hs {
            match hs.feed(data) {
                None => {}
                Some(ServerVerdict::Accept { response, rest, .. }) => {
                    self.outputs.push_back(NetOutput::Send(response));
                    self.server_hs = None;
                    let mut s = WsSession::new(Role::Server, SplitMix64::new(0));
                    s.handle_bytes(now, &rest);
                    self.session = Some(s);
                    self.pump();
                }
                Some(ServerVerdict::Reject { response }) => {
                    self.outputs.push_back(NetOutput::Send(response));
                    self.outputs.push_back(NetOutput::Close);
                    self.done = true;
                }
            }
            return;
        }
        if let Some(hs) = &mut self.client_hs {
            match hs.feed(data) {
                Ok(None) => {}
                Ok(Some((_headers, rest))) => {
                    self.client_hs = None;
                    let mut s =
                        WsSession::new(Role::Client, SplitMix64::new(now.as_millis() ^ 0x5eed));
                    s.handle_bytes(now, &rest);
                    self.session = Some(s);
                    self.pump();
                }
                Err(e) => {
                    eprintln!("ws_echo: handshake failed: {e}");
                    self.outputs.push_back(NetOutput::Close);
                    self.done = true;
                }
            }
            return;
        }
        if let Some(s) = &mut self.session {
            s.handle_bytes(now, data);
        }
        self.pump();
    }
    fn handle_peer_closed(&mut self, now: Instant) {
        if let Some(s) = &mut self.session {
            s.handle_peer_closed(now);
        }
        self.done = true;
    }
    fn handle_timeout(&mut self, now: Instant) {
        if let Some(s) = &mut self.session {
            s.handle_timeout(now);
        }
        self.pump();
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.session.as_ref().and_then(|s| s.poll_timeout())
    }
}

fn serve(port: u16) {
    let l = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    eprintln!("ws_echo: listening on 127.0.0.1:{port}");
    for s in l.incoming().flatten() {
        std::thread::spawn(move || {
            s.set_nodelay(true).ok();
            let mut link = Link::accepted(s);
            let mut m = Echo {
                session: None,
                server_hs: Some(ServerHandshake::new()),
                client_req: None,
                client_hs: None,
                outputs: Default::default(),
                done: false,
                capture: None,
            };
            link.run_until(&mut m, Duration::from_secs(600), |m, l| {
                (m.done && m.outputs.is_empty()) || l.closed || l.eof
            });
            link.flush(&mut m);
        });
    }
}

fn connect(url: &str, rng_seed: u64) -> (Echo, Link) {
    let url = check_ws_url(url).expect("valid url");
    let mut rng = SplitMix64::new(rng_seed);
    let mut nonce = [0u8; 16];
    rng.fill_bytes(&mut nonce);
    let key = new_key(nonce);
    let req = client_request(&url, &[], &key, "phoenix-ws-echo");
    let (host, port, tls) = handle_fsm::http::endpoint(&url);
    let mut outputs = std::collections::VecDeque::new();
    outputs.push_back(NetOutput::Connect { host, port, tls });
    (
        Echo {
            session: None,
            server_hs: None,
            client_req: Some(req),
            client_hs: Some(ClientHandshake::new(key)),
            outputs,
            done: false,
            capture: None,
        },
        Link::client(),
    )
}

/// Connects and returns the first text message (for getCaseCount).
fn first_message(url: &str) -> Option<String> {
    let (mut m, mut link) = connect(url, 1);
    m.capture = Some(None);
    link.run_until(&mut m, Duration::from_secs(30), |m, l| {
        matches!(m.capture, Some(Some(_))) || m.done || l.eof
    });
    let got = m.capture.take().flatten();
    if let Some(s) = &mut m.session {
        s.close(link.now(), 1000, "");
    }
    link.run_until(&mut m, Duration::from_secs(5), |m, l| {
        m.done || l.closed || l.eof
    });
    got.map(|d| String::from_utf8_lossy(&d).into_owned())
}

fn client(base: &str, agent: &str) {
    let n: u32 = first_message(&format!("{base}/getCaseCount"))
        .and_then(|s| s.trim().parse().ok())
        .expect("case count");
    eprintln!("ws_echo: {n} cases");
    for case in 1..=n {
        let (mut m, mut link) = connect(
            &format!("{base}/runCase?case={case}&agent={agent}"),
            u64::from(case),
        );
        link.run_until(&mut m, Duration::from_secs(120), |m, l| {
            m.done || l.closed || l.eof
        });
        link.flush(&mut m);
    }
    let (mut m, mut link) = connect(&format!("{base}/updateReports?agent={agent}"), 7);
    link.run_until(&mut m, Duration::from_secs(60), |m, l| {
        m.done || l.closed || l.eof
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("server") => serve(args.get(2).and_then(|p| p.parse().ok()).unwrap_or(9001)),
        Some("client") => client(
            args.get(2).map_or("ws://127.0.0.1:9001", String::as_str),
            args.get(3).map_or("phoenix", String::as_str),
        ),
        _ => eprintln!("usage: ws_echo server PORT | ws_echo client URL AGENT"),
    }
}
