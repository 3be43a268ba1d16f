//! `listen` binds the address in the URI (docs/stdio-host.md, "Real network and clock"):
//! `listen("http://127.0.0.1:P")` is reachable on loopback 127.0.0.1 only, while
//! `listen("http://0.0.0.0:P")` is reachable on every address, here 127.0.0.2 (Linux routes all
//! of 127.0.0.0/8 to the loopback interface).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use modem_value::{table, Table, Value};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn reachable(ip: [u8; 4], port: u16) -> bool {
    TcpStream::connect_timeout(&SocketAddr::from((ip, port)), Duration::from_secs(2)).is_ok()
}

/// Waits (up to 5 s) until `ip:port` accepts, as the listener thread binds asynchronously.
fn wait_reachable(ip: [u8; 4], port: u16) -> bool {
    (0..50).any(|_| {
        let ok = reachable(ip, port);
        if !ok {
            std::thread::sleep(Duration::from_millis(100));
        }
        ok
    })
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn listen(uri: &str) -> Killed {
    let mut child = Command::new(env!("CARGO_BIN_EXE_phoenix-net"))
        .args(["host", "--id", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let line = table! {"op" => "syscall", "id" => 1, "pid" => 1, "root" => true,
    "name" => "listen", "args" => Value::Table(Table::array([Value::from(uri)]))};
    writeln!(stdin, "{}", line.to_json()).unwrap();
    stdin.flush().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut l = String::new();
        assert!(out.read_line(&mut l).unwrap() > 0, "host ended");
        if l.contains("\"reply\"") {
            assert!(l.contains("\"ok\":true"), "{l}");
            break;
        }
    }
    // Keep stdin open (and the pipes alive) while the test connects.
    std::mem::forget(stdin);
    std::mem::forget(out);
    Killed(child)
}

#[test]
fn a_loopback_listen_is_not_reachable_on_another_address() {
    let port = free_port();
    let _h = listen(&format!("http://127.0.0.1:{port}"));
    assert!(wait_reachable([127, 0, 0, 1], port), "loopback listener up");
    assert!(
        !reachable([127, 0, 0, 2], port),
        "a loopback listen must not bind every interface"
    );
}

#[test]
fn an_unspecified_listen_is_reachable_on_every_address() {
    let port = free_port();
    let _h = listen(&format!("http://0.0.0.0:{port}"));
    assert!(wait_reachable([127, 0, 0, 1], port));
    assert!(reachable([127, 0, 0, 2], port));
}

/// The real-TCP host reports a bind failure to the program: with the port already taken on
/// 127.0.0.1, `listen("http://127.0.0.1:P")` is followed by a `listen_failed` event line.
#[test]
fn a_port_in_use_raises_listen_failed() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let uri = format!("http://127.0.0.1:{port}");
    let mut child = Killed(
        Command::new(env!("CARGO_BIN_EXE_phoenix-net"))
            .args(["host", "--id", "1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stdin = child.0.stdin.take().unwrap();
    let line = table! {"op" => "syscall", "id" => 1, "pid" => 1, "root" => true,
    "name" => "listen", "args" => Value::Table(Table::array([Value::from(uri.as_str())]))};
    writeln!(stdin, "{}", line.to_json()).unwrap();
    stdin.flush().unwrap();
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let event = loop {
        let mut l = String::new();
        assert!(out.read_line(&mut l).unwrap() > 0, "host ended");
        let v = Value::from_json(l.trim()).unwrap();
        if v.get("out") == &Value::from("event") {
            break v;
        }
    };
    assert_eq!(event.get("name"), &Value::from("listen_failed"));
    assert_eq!(event.get("params").get("uri"), &Value::from(uri.as_str()));
    assert!(event.get("params").get("error").as_str().is_some());
    drop(stdin);
    drop(taken);
}
