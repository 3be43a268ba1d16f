//! `phoenix-net host` with real TCP on 127.0.0.1: a program's HTTP handle fetches from a Python
//! `http.server`, and `curl` fetches from a program's `listen("http://…")`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use modem_value::{table, Table, Value};

struct Host {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<Value>,
}

impl Host {
    fn start() -> Host {
        let mut child = Command::new(env!("CARGO_BIN_EXE_phoenix-net"))
            .args(["host", "--id", "1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for l in out.lines().map_while(Result::ok) {
                if tx.send(Value::from_json(&l).expect("JSON line")).is_err() {
                    return;
                }
            }
        });
        Host {
            child,
            stdin,
            lines,
        }
    }

    fn send(&mut self, v: Value) {
        writeln!(self.stdin, "{}", v.to_json()).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Waits (up to 20 s) for a line matching `pred`.
    fn wait(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let v = self
                .lines
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("no {what}"));
            if pred(&v) {
                return v;
            }
        }
    }

    fn call(&mut self, id: u32, v: Value) -> Value {
        let mut v = v;
        if let Value::Table(t) = &mut v {
            t.set("id", Value::from(id));
            t.set("pid", Value::from(1));
        }
        self.send(v);
        self.wait("reply", |l| {
            l.get("out") == &Value::from("reply") && l.get("id") == &Value::from(id)
        })
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn args(v: Vec<Value>) -> Value {
    Value::Table(Table::array(v))
}

#[test]
fn http_handle_fetches_from_python_http_server() {
    let dir = std::env::temp_dir().join(format!("phoenix-real-tcp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hello.txt"), "hello from python\n").unwrap();
    let script = "import http.server, functools, sys\n\
        h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])\n\
        s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), h)\n\
        print(s.server_address[1], flush=True)\n\
        s.serve_forever()\n";
    let mut py = Command::new("python3")
        .args(["-c", script, dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 must be installed");
    let mut port = String::new();
    BufReader::new(py.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    let port = port.trim().to_string();

    let mut h = Host::start();
    let url = format!("http://127.0.0.1:{port}/hello.txt");
    let r = h.call(
        1,
        table! {"op" => "syscall", "name" => "connect", "args" => args(vec![Value::from(url)])},
    );
    let handle = r.get("result").get_key(&Value::from(1)).clone();
    h.call(2, table! {"op" => "method", "handle" => handle.clone(), "method" => "write", "args" => args(vec![])});
    let ev = h.wait("status change", |l| {
        l.get("name") == &Value::from("handle_status_change")
    });
    assert_eq!(
        ev.get("params").get("status"),
        &Value::from("open"),
        "{ev:?}"
    );
    let r = h.call(3, table! {"op" => "method", "handle" => handle.clone(), "method" => "read", "args" => args(vec![Value::from("*a")])});
    assert_eq!(
        r.get("result"),
        &args(vec![Value::from("hello from python\n")])
    );
    let r = h.call(4, table! {"op" => "method", "handle" => handle, "method" => "responseCode", "args" => args(vec![])});
    assert_eq!(
        r.get("result"),
        &args(vec![Value::from(200), Value::from("OK")])
    );
    let _ = py.kill();
    let _ = py.wait();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn curl_fetches_from_a_programs_listen() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut h = Host::start();
    let uri = format!("http://127.0.0.1:{port}");
    let r = h.call(
        1,
        table! {"op" => "syscall", "name" => "listen", "args" => args(vec![Value::from(uri)])},
    );
    assert_eq!(r.get("ok"), &Value::Bool(true), "{r:?}");
    let url = format!("http://127.0.0.1:{port}/greeting");
    let curl = std::thread::spawn(move || {
        // The listener thread may need a moment to bind.
        for _ in 0..50 {
            let out = Command::new("curl")
                .args(["-s", "--max-time", "10", &url])
                .output()
                .expect("curl must be installed");
            if out.status.success() {
                return String::from_utf8_lossy(&out.stdout).into_owned();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("curl never got an answer");
    });
    let req = h.wait("network_request", |l| {
        l.get("name") == &Value::from("network_request")
    });
    let handle = req.get("params").get("handle").clone();
    let r = h.call(2, table! {"op" => "method", "handle" => handle.clone(), "method" => "path", "args" => args(vec![])});
    assert_eq!(r.get("result"), &args(vec![Value::from("/greeting")]));
    h.call(3, table! {"op" => "method", "handle" => handle.clone(), "method" => "write", "args" => args(vec![Value::from("hello, curl")])});
    h.call(
        4,
        table! {"op" => "method", "handle" => handle, "method" => "close", "args" => args(vec![])},
    );
    assert_eq!(curl.join().unwrap(), "hello, curl");
}
