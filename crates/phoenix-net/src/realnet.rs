//! The stdio host's connection to the real network: HTTP and WebSocket handles over real TCP
//! (TLS with rustls and the webpki roots for https/wss), `listen("http://…")`/`listen("ws://…")`
//! on real ports, and optionally the real clock.
//!
//! This is the I/O edge of the project, outside every sans-IO crate: one thread reads stdin, one
//! thread per connection and per listener moves bytes, and the main loop feeds everything into
//! the [`Session`] in arrival order.
//!
//! Memory stays bounded whatever the driver sends: every thread feeds the main loop through one
//! channel of [`QUEUE`] messages, so the stdin reader holds at most `QUEUE + 1` lines of at most
//! `--max-line` bytes each, and a connection thread at most one 16 KiB read, before it waits for
//! the main loop (which itself waits when the driver does not read stdout).

use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant as WallClock};

use modem_value::Instant;
use syscall_api::io::ConnectFailure;
use syscall_api::{ListenerId, TcpEvent, TcpId, TcpRequest};

use crate::host::tcp::TcpHost;
use crate::host::{LineReader, RawLine, Session};

/// How long a connect may take before it counts as `Could not connect`.
const CONNECT_TIMEOUT: StdDuration = StdDuration::from_secs(10);
/// How often a connection thread looks for bytes to send while it waits for bytes to read.
const POLL: StdDuration = StdDuration::from_millis(10);
/// Messages (input lines, TCP events, accepted connections) waiting for the main loop at most;
/// a thread with one more waits, so stdin is read only as fast as it is answered.
pub const QUEUE: usize = 16;

enum Msg {
    Line(RawLine),
    Eof,
    Tcp(TcpId, TcpEvent),
    Accept {
        listener: ListenerId,
        stream: TcpStream,
        peer: String,
    },
    ListenFailed(ListenerId, String),
}

enum Out {
    Bytes(Vec<u8>),
    Close,
}

/// A byte stream a connection thread owns: plain TCP or TLS over it.
trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

fn tls_config() -> Arc<rustls::ClientConfig> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

fn open(host: &str, port: u16, tls: bool) -> Result<Box<dyn Stream>, ConnectFailure> {
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|_| ConnectFailure::UnknownHost)?
        .next()
        .ok_or(ConnectFailure::UnknownHost)?;
    let tcp = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
        .map_err(|_| ConnectFailure::CouldNotConnect)?;
    let _ = tcp.set_nodelay(true);
    tcp.set_read_timeout(Some(POLL))
        .map_err(|_| ConnectFailure::CouldNotConnect)?;
    if !tls {
        return Ok(Box::new(tcp));
    }
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|_| ConnectFailure::Tls)?;
    let conn =
        rustls::ClientConnection::new(tls_config(), name).map_err(|_| ConnectFailure::Tls)?;
    Ok(Box::new(rustls::StreamOwned::new(conn, tcp)))
}

/// Moves bytes between `stream` and the session until either side closes.
fn pump(id: TcpId, mut stream: Box<dyn Stream>, rx: Receiver<Out>, tx: SyncSender<Msg>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        loop {
            match rx.try_recv() {
                Ok(Out::Bytes(b)) => {
                    if stream.write_all(&b).and_then(|()| stream.flush()).is_err() {
                        let _ = tx.send(Msg::Tcp(id, TcpEvent::Closed));
                        return;
                    }
                }
                Ok(Out::Close) | Err(std::sync::mpsc::TryRecvError::Disconnected) => return,
                Err(std::sync::mpsc::TryRecvError::Empty) => break,
            }
        }
        match stream.read(&mut buf) {
            Ok(0) => {
                let _ = tx.send(Msg::Tcp(id, TcpEvent::Closed));
                return;
            }
            Ok(n) => {
                let _ = tx.send(Msg::Tcp(id, TcpEvent::Data(buf[..n].to_vec())));
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {
                let _ = tx.send(Msg::Tcp(id, TcpEvent::Closed));
                return;
            }
        }
    }
}

/// The real-network [`TcpHost`]: one thread per connection and per listener.
struct Bridge {
    tx: SyncSender<Msg>,
    conns: BTreeMap<TcpId, Sender<Out>>,
    listeners: BTreeMap<ListenerId, Arc<AtomicBool>>,
}

/// The socket address to bind for a `tcp_listen` `address`: an IP literal as given (loopback
/// stays loopback), `localhost` as 127.0.0.1, anything else resolved.
fn bind_addr(address: &str, port: u16) -> Option<std::net::SocketAddr> {
    let host = address.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return Some(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Some(std::net::SocketAddr::new(ip, port));
    }
    (host, port).to_socket_addrs().ok()?.next()
}

impl TcpHost for Bridge {
    fn request(&mut self, r: TcpRequest) {
        match r {
            TcpRequest::Connect {
                conn,
                host,
                port,
                tls,
            } => {
                let (otx, orx) = channel();
                self.conns.insert(conn, otx);
                let tx = self.tx.clone();
                std::thread::spawn(move || match open(&host, port, tls) {
                    Ok(s) => {
                        let _ = tx.send(Msg::Tcp(conn, TcpEvent::Connected));
                        pump(conn, s, orx, tx);
                    }
                    Err(f) => {
                        let _ = tx.send(Msg::Tcp(conn, TcpEvent::Failed(f)));
                    }
                });
            }
            TcpRequest::Send { conn, data } => {
                if let Some(c) = self.conns.get(&conn) {
                    let _ = c.send(Out::Bytes(data));
                }
            }
            TcpRequest::Close { conn } => {
                if let Some(c) = self.conns.remove(&conn) {
                    let _ = c.send(Out::Close);
                }
            }
            TcpRequest::Listen {
                listener,
                address,
                port,
            } => {
                let stop = Arc::new(AtomicBool::new(false));
                self.listeners.insert(listener, stop.clone());
                let tx = self.tx.clone();
                std::thread::spawn(move || {
                    let bound = match bind_addr(&address, port) {
                        Some(a) => TcpListener::bind(a).map_err(|e| e.to_string()),
                        None => Err(format!("Unknown address {address}")),
                    };
                    let l = match bound {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = tx.send(Msg::ListenFailed(listener, e));
                            return;
                        }
                    };
                    let _ = l.set_nonblocking(true);
                    while !stop.load(Ordering::Relaxed) {
                        match l.accept() {
                            Ok((stream, peer)) => {
                                let _ = stream.set_nonblocking(false);
                                let msg = Msg::Accept {
                                    listener,
                                    stream,
                                    peer: peer.ip().to_string(),
                                };
                                if tx.send(msg).is_err() {
                                    return;
                                }
                            }
                            Err(_) => std::thread::sleep(POLL),
                        }
                    }
                });
            }
            TcpRequest::Unlisten { listener } => {
                if let Some(stop) = self.listeners.remove(&listener) {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}

impl Bridge {
    fn accepted(&mut self, id: TcpId, stream: TcpStream) {
        let (otx, orx) = channel();
        self.conns.insert(id, otx);
        let tx = self.tx.clone();
        let _ = stream.set_read_timeout(Some(POLL));
        let _ = stream.set_nodelay(true);
        std::thread::spawn(move || pump(id, Box::new(stream), orx, tx));
    }
}

/// Runs the stdio host with real TCP (and the real clock if `real_time`) until stdin ends,
/// holding at most `max_line` bytes of one input line. Every line is answered (malformed ones
/// with an `error` line); a read error on stdin ends the input like its end does.
pub fn serve_real(
    mut session: Session,
    boot: Vec<String>,
    real_time: bool,
    max_line: usize,
    input: impl BufRead + Send + 'static,
    mut output: impl Write,
) -> std::io::Result<()> {
    session.bridge_tcp();
    let (tx, rx) = sync_channel(QUEUE);
    let reader = tx.clone();
    std::thread::spawn(move || {
        let mut lines = LineReader::new(input, max_line);
        while let Ok(Some(line)) = lines.next_line() {
            if reader.send(Msg::Line(line)).is_err() {
                return;
            }
        }
        let _ = reader.send(Msg::Eof);
    });
    let mut bridge = Bridge {
        tx,
        conns: BTreeMap::new(),
        listeners: BTreeMap::new(),
    };
    let start = WallClock::now();
    let clock = |s: &Session| {
        if real_time {
            Instant::from_millis(start.elapsed().as_millis() as u64)
        } else {
            s.now()
        }
    };
    let write = |lines: Vec<String>, out: &mut dyn Write| -> std::io::Result<()> {
        for l in lines {
            writeln!(out, "{l}")?;
        }
        out.flush()
    };
    write(boot, &mut output)?;
    loop {
        let wait = match (real_time, session.deadline()) {
            (true, Some(d)) => {
                StdDuration::from_millis(d.as_millis().saturating_sub(clock(&session).as_millis()))
            }
            _ => StdDuration::from_secs(3600),
        };
        let msg = match rx.recv_timeout(wait) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => {
                let now = clock(&session);
                write(session.tick(now), &mut output)?;
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        };
        if real_time {
            let now = clock(&session);
            let lines = session.tick(now);
            // Only timer effects are worth a line here; a bare deadline would be noise.
            if lines.len() > 1 {
                write(lines, &mut output)?;
            }
        }
        let lines = match msg {
            Msg::Line(l) => session.input_raw(&l),
            Msg::Eof => return Ok(()),
            Msg::Tcp(id, ev) => session.tcp_event(id, ev),
            Msg::ListenFailed(listener, error) => {
                bridge.listeners.remove(&listener);
                session.tcp_listen_failed(listener, &error)
            }
            Msg::Accept {
                listener,
                stream,
                peer,
            } => {
                let (id, lines) = session.tcp_accept(listener, &peer);
                match id {
                    Some(id) => bridge.accepted(id, stream),
                    None => {
                        let _ = stream.shutdown(Shutdown::Both);
                    }
                }
                lines
            }
        };
        write(lines, &mut output)?;
        for r in session.take_tcp() {
            bridge.request(r);
        }
    }
}
