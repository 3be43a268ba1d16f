//! A small blocking std-TCP adapter that moves bytes between a sans-IO machine of this crate
//! and a real socket. Test and example code only: the library itself never touches sockets.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration as StdDuration;

use handle_fsm::http::{HttpClient, HttpServerConnection};
use handle_fsm::ws::WsHandle;
use handle_fsm::{ConnectFailure, NetOutput};
use modem_value::{Instant, RandomSource};

/// The inputs and outputs every connection machine of the crate shares.
pub trait Machine {
    /// Next network action.
    fn poll_output(&mut self) -> Option<NetOutput>;
    /// TCP is up.
    fn handle_connected(&mut self, now: Instant);
    /// TCP could not be opened.
    fn handle_connect_failed(&mut self, now: Instant, why: ConnectFailure);
    /// Bytes arrived.
    fn handle_bytes(&mut self, now: Instant, data: &[u8]);
    /// The peer closed.
    fn handle_peer_closed(&mut self, now: Instant);
    /// A deadline passed.
    fn handle_timeout(&mut self, now: Instant);
    /// Next deadline.
    fn poll_timeout(&self) -> Option<Instant>;
}

impl Machine for HttpClient {
    fn poll_output(&mut self) -> Option<NetOutput> {
        HttpClient::poll_output(self)
    }
    fn handle_connected(&mut self, now: Instant) {
        HttpClient::handle_connected(self, now)
    }
    fn handle_connect_failed(&mut self, now: Instant, why: ConnectFailure) {
        HttpClient::handle_connect_failed(self, now, why)
    }
    fn handle_bytes(&mut self, now: Instant, data: &[u8]) {
        HttpClient::handle_bytes(self, now, data)
    }
    fn handle_peer_closed(&mut self, now: Instant) {
        HttpClient::handle_peer_closed(self, now)
    }
    fn handle_timeout(&mut self, now: Instant) {
        HttpClient::handle_timeout(self, now)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        HttpClient::poll_timeout(self)
    }
}

impl<R: RandomSource> Machine for WsHandle<R> {
    fn poll_output(&mut self) -> Option<NetOutput> {
        WsHandle::poll_output(self)
    }
    fn handle_connected(&mut self, now: Instant) {
        WsHandle::handle_connected(self, now)
    }
    fn handle_connect_failed(&mut self, now: Instant, why: ConnectFailure) {
        WsHandle::handle_connect_failed(self, now, why)
    }
    fn handle_bytes(&mut self, now: Instant, data: &[u8]) {
        WsHandle::handle_bytes(self, now, data)
    }
    fn handle_peer_closed(&mut self, now: Instant) {
        WsHandle::handle_peer_closed(self, now)
    }
    fn handle_timeout(&mut self, now: Instant) {
        WsHandle::handle_timeout(self, now)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        WsHandle::poll_timeout(self)
    }
}

impl Machine for HttpServerConnection {
    fn poll_output(&mut self) -> Option<NetOutput> {
        HttpServerConnection::poll_output(self)
    }
    fn handle_connected(&mut self, _now: Instant) {}
    fn handle_connect_failed(&mut self, _now: Instant, _why: ConnectFailure) {}
    fn handle_bytes(&mut self, now: Instant, data: &[u8]) {
        HttpServerConnection::handle_bytes(self, now, data)
    }
    fn handle_peer_closed(&mut self, now: Instant) {
        HttpServerConnection::handle_peer_closed(self, now)
    }
    fn handle_timeout(&mut self, now: Instant) {
        HttpServerConnection::handle_timeout(self, now)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        HttpServerConnection::poll_timeout(self)
    }
}

/// One TCP connection (or none yet) and the clock the machine sees.
pub struct Link {
    stream: Option<TcpStream>,
    start: std::time::Instant,
    /// The peer closed its side.
    pub eof: bool,
    /// We closed (after a `Close` output).
    pub closed: bool,
}

impl Link {
    /// A link for a client machine (it will ask to connect).
    pub fn client() -> Self {
        Link {
            stream: None,
            start: std::time::Instant::now(),
            eof: false,
            closed: false,
        }
    }

    /// A link over an accepted connection.
    pub fn accepted(s: TcpStream) -> Self {
        Link {
            stream: Some(s),
            start: std::time::Instant::now(),
            eof: false,
            closed: false,
        }
    }

    /// Milliseconds since the link was made, as the machine's clock.
    pub fn now(&self) -> Instant {
        Instant::from_millis(self.start.elapsed().as_millis() as u64)
    }

    /// Performs every pending output.
    pub fn flush<M: Machine>(&mut self, m: &mut M) {
        while let Some(o) = m.poll_output() {
            match o {
                NetOutput::Connect { host, port, tls } => {
                    assert!(!tls, "the test adapter speaks plain TCP only");
                    match TcpStream::connect((host.as_str(), port)) {
                        Ok(s) => {
                            s.set_nodelay(true).ok();
                            self.stream = Some(s);
                            self.eof = false;
                            self.closed = false;
                            m.handle_connected(self.now());
                        }
                        Err(_) => {
                            m.handle_connect_failed(self.now(), ConnectFailure::CouldNotConnect)
                        }
                    }
                }
                NetOutput::Send(b) => {
                    if let Some(s) = &mut self.stream {
                        if s.write_all(&b).is_err() {
                            self.eof = true;
                        }
                    }
                }
                NetOutput::Close => {
                    if let Some(s) = self.stream.take() {
                        s.shutdown(Shutdown::Both).ok();
                    }
                    self.closed = true;
                }
            }
        }
    }

    /// One step: flush outputs, wait up to 10 ms for bytes, fire due timers.
    pub fn step<M: Machine>(&mut self, m: &mut M) {
        self.flush(m);
        let mut buf = [0u8; 65536];
        match (&mut self.stream, self.eof) {
            (Some(s), false) => {
                s.set_read_timeout(Some(StdDuration::from_millis(10))).ok();
                match s.read(&mut buf) {
                    Ok(0) => {
                        self.eof = true;
                        m.handle_peer_closed(self.now());
                    }
                    Ok(n) => m.handle_bytes(self.now(), &buf[..n]),
                    Err(e)
                        if matches!(
                            e.kind(),
                            ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                        ) => {}
                    Err(_) => {
                        self.eof = true;
                        m.handle_peer_closed(self.now());
                    }
                }
            }
            _ => std::thread::sleep(StdDuration::from_millis(5)),
        }
        if m.poll_timeout().is_some_and(|d| self.now() >= d) {
            m.handle_timeout(self.now());
        }
        self.flush(m);
    }

    /// Steps until `done` holds (true) or `limit` passes (false).
    pub fn run_until<M: Machine>(
        &mut self,
        m: &mut M,
        limit: StdDuration,
        mut done: impl FnMut(&mut M, &Link) -> bool,
    ) -> bool {
        let end = std::time::Instant::now() + limit;
        loop {
            self.flush(m);
            if done(m, self) {
                return true;
            }
            if std::time::Instant::now() >= end {
                return false;
            }
            self.step(m);
        }
    }
}
