//! Integration tests against real peers on 127.0.0.1, through the std-TCP adapter of
//! `tests/common/tcp.rs`:
//! * the HTTP client against a Python `http.server` (plain, chunked, gzip, redirects, 404,
//!   close-delimited, POST, timeout);
//! * the HTTP server against `curl` (keep-alive reuse, POST, chunked upload) and a raw
//!   malformed request;
//! * the WebSocket client against a Python `websockets` server, and the WebSocket server
//!   against a Python `websockets` client.
//!
//! These need `python3` with the `websockets` package (`python3 -m pip install websockets`)
//! and `curl`; a missing tool FAILS the test with that instruction rather than skipping.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::tcp::Link;
use handle_fsm::http::{
    Encoding, HttpClient, HttpHandle, HttpOptions, HttpServerConnection, ServerEvent,
};
use handle_fsm::ws::WsHandle;
use handle_fsm::{HandleEvent, Status};
use modem_value::{SplitMix64, Value};

fn s(x: &str) -> Value {
    Value::from(x)
}

/// Kills the child process on drop (only the one this test started).
struct Peer(Child);
impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn require_python_websockets() {
    let ok = Command::new("python3")
        .args(["-c", "import websockets"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "this integration test needs python3 with the `websockets` package: run `python3 -m pip install websockets`"
    );
}

fn require_curl() {
    let ok = Command::new("curl")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "this integration test needs curl: install it (e.g. `apt-get install -y curl`)"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `python3 -c script`, which binds a port of its own choosing (so that tests running in
/// parallel never race for one) and prints it on its first line; returns the peer and the port.
fn python_peer(script: &str) -> (Peer, u16) {
    use std::io::BufRead;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 must be installed for the integration tests");
    let stdout = child.stdout.take().expect("piped stdout");
    let peer = Peer(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("python peer prints its port");
    let port: u16 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("python peer did not start: {line:?}"));
    (peer, port)
}

const HTTP_SERVER: &str = r#"
import sys, gzip, time, http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, code, body, headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD": self.wfile.write(body)
    def do_HEAD(self): self.do_GET()
    def do_GET(self):
        p = self.path
        if p == "/plain": self.reply(200, b"hello\nworld\n", [("X-Multi", "a"), ("X-Multi", "b")])
        elif p == "/gzip": self.reply(200, gzip.compress(b"zipped " * 100), [("Content-Encoding", "gzip")])
        elif p == "/redirect": self.reply(302, b"", [("Location", "/plain")])
        elif p == "/chain": self.reply(301, b"", [("Location", "redirect")])
        elif p == "/missing": self.reply(404, b"nope")
        elif p == "/slow": time.sleep(3); self.reply(200, b"late")
        elif p == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Sum")
            self.end_headers()
            for part in (b"one\n", b"two\n", b"3"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\nX-Sum: 9\r\n\r\n")
        elif p == "/close":
            self.close_connection = True
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"until the end")
        else: self.reply(400, b"?")
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        info = "%s|%s|%s|%s" % (self.headers["User-Agent"], self.headers["Content-Type"], self.headers["Connection"], self.headers["Accept-Charset"])
        self.reply(201, body + b"|" + info.encode())
    do_PUT = do_POST
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"#;

/// Runs one request through the crate's client over real TCP and into a handle.
fn fetch(opts: HttpOptions, body: &[Value]) -> HttpHandle {
    let mut h = HttpHandle::new(opts);
    h.write(body).unwrap();
    if h.status().0 == Status::Error {
        return h;
    }
    let mut link = Link::client();
    let mut c = HttpClient::new(link.now(), h.take_request().expect("request"));
    assert!(
        link.run_until(&mut c, Duration::from_secs(20), |c, _| c.is_done()),
        "request did not finish"
    );
    link.flush(&mut c);
    h.handle_outcome(c.poll_outcome().expect("outcome"));
    h
}

#[test]
fn http_client_against_python_http_server() {
    let (_py, port) = python_peer(HTTP_SERVER);
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");

    let mut h = fetch(HttpOptions::new(url("/plain")), &[]);
    assert_eq!(h.status().0, Status::Open);
    assert_eq!(
        h.poll_event(),
        Some(HandleEvent::StatusChange(Status::Open))
    );
    assert_eq!(h.response_code().unwrap(), (200, "OK"));
    assert_eq!(h.response_headers().unwrap().get("X-Multi"), &s("a,b"));
    assert_eq!(
        h.read(&[s("l"), s("L"), s("l")]).unwrap(),
        vec![s("hello"), s("world\n"), Value::Nil]
    );
    h.close().unwrap();

    let mut h = fetch(HttpOptions::new(url("/chunked")), &[]);
    assert_eq!(h.read(&[s("a")]).unwrap(), vec![s("one\ntwo\n3")]);
    assert_eq!(
        h.response_headers().unwrap().get("X-Sum"),
        &s("9"),
        "trailers are merged"
    );

    let mut h = fetch(HttpOptions::new(url("/gzip")), &[]);
    assert_eq!(h.read(&[s("a")]).unwrap(), vec![s(&"zipped ".repeat(100))]);
    assert_eq!(
        h.response_headers().unwrap().get("Content-Length"),
        &s("700")
    );

    let mut h = fetch(HttpOptions::new(url("/chain")), &[]);
    assert_eq!(h.response_code().unwrap().0, 200, "301 → 302 → /plain");
    assert_eq!(h.read(&[s("l")]).unwrap(), vec![s("hello")]);

    let mut o = HttpOptions::new(url("/redirect"));
    o.redirect = false;
    let h = fetch(o, &[]);
    assert_eq!(h.response_code().unwrap().0, 302);

    let mut h = fetch(HttpOptions::new(url("/missing")), &[]);
    assert_eq!(
        h.status().0,
        Status::Open,
        "HTTP errors still open the handle"
    );
    assert_eq!(h.response_code().unwrap(), (404, "Not Found"));
    assert_eq!(h.read(&[s("a")]).unwrap(), vec![s("nope")]);

    let mut h = fetch(HttpOptions::new(url("/close")), &[]);
    assert_eq!(h.read(&[s("a")]).unwrap(), vec![s("until the end")]);

    let mut h = fetch(
        HttpOptions::new(url("/echo")),
        &[s("k=v&n="), Value::from(5)],
    );
    assert_eq!(h.response_code().unwrap().0, 201);
    assert_eq!(
        h.read(&[s("a")]).unwrap(),
        vec![s("k=v&n=5|computercraft/1.113.1|application/x-www-form-urlencoded; charset=utf-8|close|UTF-8")]
    );

    let mut o = HttpOptions::new(url("/head"));
    o.method = Some("HEAD".into());
    let h = fetch(o, &[]);
    assert_eq!(h.response_code().unwrap().0, 400);

    let mut o = HttpOptions::new(url("/slow"));
    o.timeout = Some(1.0);
    let h = fetch(o, &[]);
    assert_eq!(h.status(), (Status::Error, Some("Timed out")));

    let dead = free_port();
    let h = fetch(HttpOptions::new(format!("http://127.0.0.1:{dead}/")), &[]);
    assert_eq!(h.status(), (Status::Error, Some("Could not connect")));
}

/// Serves connections with the crate's HTTP server and a small "program" that echoes the
/// method, path and body. Returns the port and the count of accepted connections.
fn start_http_server() -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in l.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut link = Link::accepted(stream);
                let mut c = HttpServerConnection::new(link.now());
                link.run_until(&mut c, Duration::from_secs(20), |c, link| {
                    while let Some(ev) = c.poll_event() {
                        if let ServerEvent::Request(id) = ev {
                            let r = c.request_mut(id).unwrap();
                            let body = r.read(&[s("a")]).unwrap().remove(0);
                            let line = format!(
                                "{} {} [{}]",
                                r.method(),
                                r.path(),
                                body.as_str()
                                    .map(|b| b.to_string_lossy())
                                    .unwrap_or_default()
                            );
                            if r.path() == "/missing" {
                                r.set_response_code(404, None).unwrap();
                            }
                            r.set_response_header("X-Handled-By", b"phoenix").unwrap();
                            r.write(&[s(&line)]).unwrap();
                            r.close().unwrap();
                        }
                    }
                    c.is_closed() || (link.eof && c.pending() == 0)
                });
                link.flush(&mut c);
            });
        }
    });
    (port, accepted)
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-s", "-S", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn http_server_against_curl() {
    require_curl();
    let (port, accepted) = start_http_server();
    let base = format!("http://127.0.0.1:{port}");

    let out = curl(&["-i", &format!("{base}/one?x=1"), &format!("{base}/missing")]);
    assert!(out.contains("HTTP/1.1 200 OK\r\n"), "{out}");
    assert!(
        out.contains("x-handled-by: phoenix\r\n") || out.contains("X-Handled-By: phoenix\r\n"),
        "{out}"
    );
    assert!(out.contains("GET /one?x=1 []"), "{out}");
    assert!(
        out.contains("HTTP/1.1 404 Not Found\r\n") && out.contains("GET /missing []"),
        "{out}"
    );
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "curl reused the keep-alive connection"
    );

    let out = curl(&["--data-binary", "payload=1", &format!("{base}/post")]);
    assert_eq!(out, "POST /post [payload=1]");

    let out = curl(&[
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        "chunky body",
        &format!("{base}/up"),
    ]);
    assert_eq!(out, "POST /up [chunky body]");

    // 2 MB: curl sends `Expect: 100-continue` for large bodies.
    let big = "b".repeat(2_000_000);
    let file = std::env::temp_dir().join(format!("phoenix-handle-fsm-upload-{port}"));
    std::fs::write(&file, &big).unwrap();
    let out = curl(&[
        "-X",
        "PUT",
        "--data-binary",
        &format!("@{}", file.display()),
        &format!("{base}/big"),
    ]);
    std::fs::remove_file(&file).ok();
    assert_eq!(out.len(), "PUT /big []".len() + big.len());

    let mut raw = TcpStream::connect(("127.0.0.1", port)).unwrap();
    raw.write_all(b"NOT HTTP AT ALL\r\n\r\n").unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut resp = String::new();
    raw.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{resp}");
}

const WS_SERVER: &str = r#"
import asyncio, sys, websockets
async def handler(ws, *legacy_path):
    # websockets >= 14 has ws.request.path; the legacy server (<= 13) has ws.path.
    path = ws.request.path if getattr(ws, "request", None) is not None else ws.path
    if path == "/close":
        await ws.recv()
        await ws.close(4001, "bye")
        return
    async for m in ws:
        await ws.send(m)
async def main():
    async with websockets.serve(handler, "127.0.0.1", 0, max_size=2**20) as server:
        print(list(server.sockets)[0].getsockname()[1], flush=True)
        await asyncio.Future()
asyncio.run(main())
"#;

type Ws = WsHandle<SplitMix64>;

fn read_until(h: &mut Ws, link: &mut Link, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    link.run_until(h, Duration::from_secs(10), |h, _| {
        if h.status().0 == Status::Open {
            if let Ok(v) = h.read(&[s("a")]) {
                if let Some(b) = v[0].as_str() {
                    got.extend_from_slice(b);
                }
            }
        }
        got.len() >= want || h.status().0 != Status::Open
    });
    got
}

#[test]
fn ws_client_against_python_websockets() {
    require_python_websockets();
    let (_py, port) = python_peer(WS_SERVER);

    for enc in [Encoding::Binary, Encoding::Utf8] {
        let mut link = Link::client();
        let mut h = Ws::connect(
            link.now(),
            &format!("ws://127.0.0.1:{port}/echo"),
            &[],
            enc,
            SplitMix64::new(7),
        )
        .unwrap();
        assert!(
            link.run_until(&mut h, Duration::from_secs(10), |h, _| h.status().0
                != Status::Connecting)
        );
        assert_eq!(h.status(), (Status::Open, None));
        h.write(&[s("héllo\n"), Value::from(42), s("\n")]).unwrap();
        let got = read_until(&mut h, &mut link, "héllo\n42\n".len());
        assert_eq!(String::from_utf8(got).unwrap(), "héllo\n42\n");
        let big = "z".repeat(100_000);
        h.write(&[s(&big)]).unwrap();
        assert_eq!(read_until(&mut h, &mut link, big.len()).len(), big.len());
        h.close(link.now()).unwrap();
        assert_eq!(h.status().0, Status::Closed);
        assert!(
            link.run_until(&mut h, Duration::from_secs(10), |h, l| h.is_finished()
                || l.eof),
            "close handshake completes"
        );
    }

    let mut link = Link::client();
    let mut h = Ws::connect(
        link.now(),
        &format!("ws://127.0.0.1:{port}/close"),
        &[],
        Encoding::Binary,
        SplitMix64::new(8),
    )
    .unwrap();
    assert!(
        link.run_until(&mut h, Duration::from_secs(10), |h, _| h.status().0
            == Status::Open)
    );
    h.write(&[s("x")]).unwrap();
    assert!(
        link.run_until(&mut h, Duration::from_secs(10), |h, _| h.status().0
            == Status::Closed)
    );
    assert_eq!(h.close_info(), Some(&(Some(4001), Some("bye".into()))));
    let evs: Vec<_> = std::iter::from_fn(|| h.poll_event()).collect();
    assert_eq!(evs.last(), Some(&HandleEvent::StatusChange(Status::Closed)));
}

const WS_CLIENT: &str = r#"
import asyncio, sys, websockets
async def main():
    async with websockets.connect("ws://127.0.0.1:%s/room" % sys.argv[1], max_size=2**20) as ws:
        await ws.send("text message")
        a = await ws.recv()
        await ws.send(b"\x00\x01\xff")
        b = await ws.recv()
        await ws.send("y" * 100000)
        c = await ws.recv()
        print(repr(a)); print(repr(b)); print(len(c))
    print("close", ws.close_code)
asyncio.run(main())
"#;

#[test]
fn ws_server_against_python_websockets_client() {
    require_python_websockets();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (stream, _) = l.accept().unwrap();
        let mut link = Link::accepted(stream);
        let mut h = Ws::accept(link.now(), Encoding::Binary, SplitMix64::new(1));
        let mut path = None;
        link.run_until(&mut h, Duration::from_secs(20), |h, _| {
            if h.status().0 == Status::Open {
                path.get_or_insert_with(|| h.request().unwrap().target().to_string());
                let v = h.read(&[s("a")]).unwrap();
                if !v[0].is_nil() {
                    h.write(&v).unwrap();
                }
            }
            h.status().0 != Status::Open && h.status().0 != Status::Connecting
        });
        (path, h.close_info().cloned())
    });
    let out = Command::new("python3")
        .args(["-c", WS_CLIENT, &port.to_string()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // Binary encoding (H1): everything comes back as binary frames (bytes in Python).
    assert_eq!(
        text,
        "b'text message'\nb'\\x00\\x01\\xff'\n100000\nclose 1000\n"
    );
    let (path, close) = server.join().unwrap();
    assert_eq!(path.as_deref(), Some("/room"));
    assert_eq!(close, Some((Some(1000), None)));
}
