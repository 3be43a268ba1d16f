//! A `phoenix-net host` child process driven in lock-step: each input line is answered up to
//! its `deadline` line before the next one is written.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use modem_value::{table, Table, Value};

pub struct Host {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// Channels open per device, from `open`/`close` lines.
    pub open: BTreeSet<(String, u16)>,
    /// Devices the host asked to hear every channel of.
    pub hear_all: BTreeSet<String>,
    /// The boot batch (`hello` up to `deadline`).
    pub boot: Vec<Value>,
}

pub fn out_is(v: &Value, kind: &str) -> bool {
    v.get("out") == &Value::from(kind)
}

pub fn text(v: &Value) -> String {
    v.to_lua_string().to_string_lossy()
}

pub fn args(v: Vec<Value>) -> Value {
    Value::Table(Table::array(v))
}

impl Host {
    /// `phoenix-net host` with `extra` arguments (`--id`, `--modem`, …) and `--no-tcp`.
    pub fn start(extra: &[&str]) -> Host {
        Host::start_mode(extra, true)
    }

    /// `phoenix-net host` with `extra` arguments, in `--no-tcp` mode or (false) in the default
    /// real-TCP mode, whose stdin goes through a bounded queue.
    pub fn start_mode(extra: &[&str], no_tcp: bool) -> Host {
        let mut child = Command::new(env!("CARGO_BIN_EXE_phoenix-net"))
            .arg("host")
            .args(extra)
            .args(no_tcp.then_some("--no-tcp"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("phoenix-net binary");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut h = Host {
            child,
            stdin,
            stdout,
            open: BTreeSet::new(),
            hear_all: BTreeSet::new(),
            boot: Vec::new(),
        };
        h.boot = h.read_until_deadline();
        assert!(out_is(&h.boot[0], "hello"), "{:?}", h.boot);
        h
    }

    /// Sends one line and returns every output line up to and including the `deadline`.
    pub fn send(&mut self, v: &Value) -> Vec<Value> {
        writeln!(self.stdin, "{}", v.to_json()).unwrap();
        self.stdin.flush().unwrap();
        self.read_until_deadline()
    }

    /// Sends one raw line (not necessarily JSON) and returns the output up to the `deadline`.
    pub fn send_raw(&mut self, line: &str) -> Vec<Value> {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
        self.read_until_deadline()
    }

    fn read_until_deadline(&mut self) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "host ended early"
            );
            let v = Value::from_json(line.trim()).expect("host writes JSON");
            let dev = text(v.get("device"));
            if out_is(&v, "open") {
                self.open
                    .insert((dev, v.get("channel").as_num().unwrap() as u16));
            } else if out_is(&v, "close") {
                self.open
                    .remove(&(dev, v.get("channel").as_num().unwrap() as u16));
            } else if out_is(&v, "hear_all") {
                self.hear_all.insert(dev);
            }
            let done = out_is(&v, "deadline");
            out.push(v);
            if done {
                return out;
            }
        }
    }

    /// A syscall by process 1 (as root); returns the reply and every output line.
    pub fn call(&mut self, name: &str, a: Vec<Value>) -> (Value, Vec<Value>) {
        self.call_with_id(0, name, a)
    }

    /// [`Host::call`] with the request `id` the reply must echo.
    pub fn call_with_id(&mut self, id: u32, name: &str, a: Vec<Value>) -> (Value, Vec<Value>) {
        let out = self.send(
            &table! {"op" => "syscall", "id" => id, "pid" => 1, "root" => true,
            "name" => name, "args" => args(a)},
        );
        let r = out
            .iter()
            .find(|v| out_is(v, "reply"))
            .cloned()
            .expect("a reply");
        (r, out)
    }

    /// A handle method by process 1; returns the reply and every output line.
    pub fn method(&mut self, handle: &Value, m: &str, a: Vec<Value>) -> (Value, Vec<Value>) {
        let out = self.send(&table! {"op" => "method", "id" => 0, "pid" => 1,
        "handle" => handle.clone(), "method" => m, "args" => args(a)});
        let r = out
            .iter()
            .find(|v| out_is(v, "reply"))
            .cloned()
            .expect("a reply");
        (r, out)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
