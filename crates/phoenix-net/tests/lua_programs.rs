//! Lua programs on simulated computers: the process ABI, the sandbox, the limits, the stack's
//! exact error texts, and determinism (docs/lua-programs.md).

use std::path::{Path, PathBuf};

use modem_value::{Instant, SplitMix64, Value};
use phoenix_net::{run, Report, RunOptions, Scenario};
use syscall_api::{Computer, ComputerConfig, NetworkStack};

/// A scenario folder of its own under the temporary directory, with `files` written into it.
fn folder(test: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("phoenix-lua-{}-{test}", std::process::id()));
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn node(name: &str, id: u32, ip: &str, program: &str) -> String {
    format!(
        "[[node]]\nname = \"{name}\"\nid = {id}\nmodems = [{{ device = \"/top\", wireless = [{id}, 64, 0] }}]\nip = [{{ device = \"/top\", ip = \"{ip}\", netmask = 24 }}]\n{program}\n"
    )
}

fn run_in(dir: &Path, text: &str) -> Report {
    let s = Scenario::from_toml(text).expect("scenario parses");
    let options = RunOptions {
        seed: None,
        trace: true,
        folder: Some(dir.to_path_buf()),
    };
    run(&s, &options, |_| {}, |_, _| {}).expect("scenario runs")
}

fn lines(r: &Report, who: &str) -> Vec<String> {
    let prefix = format!("{who}: ");
    r.transcript
        .iter()
        .filter_map(|(_, l)| l.strip_prefix(&prefix).map(str::to_string))
        .collect()
}

fn result<'a>(r: &'a Report, kind: &str) -> &'a phoenix_net::ActivityResult {
    r.results
        .iter()
        .find(|a| a.kind == kind)
        .unwrap_or_else(|| panic!("no result {kind}: {}", r.summary()))
}

const ABI: &str = r#"
-- The process ABI by hand, then through the syscall module.
local ok, pid = coroutine.yield("syscall", "getpid")
assert(ok == true and pid == 1, "getpid")
assert(syscall.getppid() == 0, "getppid")
assert(syscall.clock() == 0, "clock starts at 0")
local bad, msg = coroutine.yield("syscall", "timer", "soon")
assert(bad == false and msg == "bad argument #1 (expected number, got string)", msg)
local t1 = syscall.timer(0.5)
local t2 = syscall.timer(0.25)
syscall.cancel(t2)
syscall.queueEvent("hello", { n = 7 })
local ev, p = coroutine.yield()
assert(ev == "hello" and p.n == 7, "queued event first")
local seen = {}
syscall.newthread(function(tag)
  local e, q = coroutine.yield()
  seen[#seen + 1] = tag .. ":" .. e
end, "thread")
ev, p = coroutine.yield()
assert(ev == "timer" and p.id == t1, "the cancelled timer never fires")
assert(syscall.clock() == 0.5, "virtual time")
syscall.queueEvent("again")
coroutine.yield()
assert(seen[1] == "thread:timer", "a thread of the process gets the same events")
syscall.syslog({ module = "abi", level = "info" }, "logged", 42)
local inner = coroutine.wrap(function() return syscall.getpid() + 1 end)
assert(inner() == 2, "syscalls pass through a program's own coroutines")
-- Handle objects carry the methods the stack's registry gives their kind.
local d = syscall.connect("pdp://10.0.0.9:7")
assert(d.localIP and d.transfer and d.read and not d.responseCode, "pdp methods")
local r = syscall.connect("rednet://0.0.0.5")
assert(r.read and r.write and not r.localIP, "rednet methods")
local w = syscall.connect("http://nowhere/")
assert(w.responseCode and w.responseHeaders and not w.transfer, "http methods")
assert(d.id ~= r.id and type(d:status()) == "string")
print("abi ok")
syscall.exit(3)
print("never")
"#;

#[test]
fn process_abi_subset_behaves_as_phoenix() {
    let dir = folder("abi", &[("abi.lua", ABI)]);
    let text = format!(
        "name = \"abi\"\n{}",
        node("a", 1, "10.0.0.1", "program = \"abi.lua\"")
    );
    let r = run_in(&dir, &text);
    let out = lines(&r, "a");
    assert!(out.contains(&"[abi info] logged 42".to_string()), "{out:?}");
    assert!(out.contains(&"abi ok".to_string()), "{out:?}");
    assert!(!out.contains(&"never".to_string()), "exit ends the process");
    let res = result(&r, "abi");
    assert!(!res.ok, "exit 3 is a failure");
    assert_eq!(res.detail, "a: exit 3");
}

const SANDBOX: &str = r#"
local function refused(what, f)
  local ok, err = pcall(f)
  if ok then error(what .. " was allowed", 0) end
end
assert(io == nil and debug == nil and dofile == nil and loadfile == nil, "io/debug/dofile/loadfile")
assert(os.execute == nil and os.exit == nil and os.getenv == nil and os.remove == nil, "os")
assert(string.dump == nil, "string.dump")
assert(package.loadlib == nil and package.cpath == nil, "package")
local f, err = load("\27Lua\82\0\1\4\8\4\8\0", "x", "b")
assert(f == nil and err:find("binary"), "bytecode mode")
f, err = load("\27Lua\82\0\1\4\8\4\8\0")
assert(f == nil and err:find("binary"), "bytecode in text mode: " .. tostring(err))
refused("require ../secret", function() require("..secret") end)
refused("require /etc/passwd", function() require("/etc/passwd") end)
refused("require a C module", function() require("socket.core") end)
assert(require("lib.ok") == "ok module", "require inside the folder")
assert(getmetatable("").__index == string)
print("sandbox ok")
"#;

#[test]
fn sandbox_escapes_are_refused() {
    let dir = folder(
        "sandbox",
        &[
            ("progs/sandbox.lua", SANDBOX),
            ("progs/lib/ok.lua", "return 'ok module'"),
            ("secret.lua", "return 'secret'"),
        ],
    );
    let text = format!(
        "name = \"sandbox\"\n{}",
        node(
            "a",
            1,
            "10.0.0.1",
            "program = \"progs/sandbox.lua\"\nexpect = \"sandbox ok\""
        )
    );
    let r = run_in(&dir, &text);
    assert!(result(&r, "sandbox").ok, "{}", r.summary());
}

#[test]
fn an_infinite_loop_and_a_memory_bomb_stop_without_harming_the_others() {
    let dir = folder(
        "limits",
        &[
            ("loop.lua", "local n = 0\nwhile true do n = n + 1 end\n"),
            (
                "sneaky.lua",
                "while true do pcall(function() while true do end end) end\n",
            ),
            (
                "bomb.lua",
                "local t = {}\nwhile true do t[#t + 1] = string.rep('x', 4096) .. #t end\n",
            ),
            ("ping.lua", include_str!("../scenarios/programs/ping.lua")),
        ],
    );
    let text = format!(
        "name = \"limits\"\n[lua]\ninstructions = 100000\nmemory_kb = 2048\n{}{}{}{}{}",
        node("looper", 1, "10.0.0.1", "program = \"loop.lua\""),
        node("sneak", 2, "10.0.0.2", "program = \"sneaky.lua\""),
        node("bomber", 3, "10.0.0.3", "program = \"bomb.lua\""),
        node(
            "pinger",
            4,
            "10.0.0.4",
            "program = \"ping.lua\"\nargs = [\"10.0.0.5\", 3]"
        ),
        node("target", 5, "10.0.0.5", ""),
    );
    let r = run_in(&dir, &text);
    let stopped = |who: &str, why: &str, at: &str| {
        let l = lines(&r, who).join("\n");
        assert!(l.contains(why), "{who}: {l}");
        assert!(l.contains(at), "{who}: traceback names {at}: {l}");
    };
    stopped("looper", "instruction budget", "loop.lua:2");
    stopped("sneak", "instruction budget", "sneaky.lua:1");
    stopped("bomber", "not enough memory", "bomb.lua");
    for k in ["loop", "sneaky", "bomb"] {
        assert!(!result(&r, k).ok, "{k}");
    }
    let ping = result(&r, "ping");
    assert!(
        ping.ok && ping.detail.contains("3/3 replies"),
        "{}",
        ping.detail
    );
}

/// Every networking syscall with wrong arguments, through the raw ABI.
const WRONG: &str = r#"
local calls = {
  { "connect" }, { "connect", 5 }, { "connect", "bogus://x" }, { "connect", "psp://1.2.3.4" },
  { "connect", { url = 5 } }, { "connect", { url = "psp://1.2.3.4:5", device = "/nope" } },
  { "listen" }, { "listen", 5 }, { "listen", "psp://0.0.0.0" }, { "listen", "bogus://x:1" },
  { "unlisten" }, { "unlisten", "psp://0.0.0.0" },
  { "ipconfig" }, { "ipconfig", "/nope" }, { "ipconfig", "/top", 5 },
  { "routelist", "x" }, { "routelist", -1 },
  { "routeadd" }, { "routeadd", { action = "teleport" } },
  { "routeadd", { source = "1.2.3.4", sourceNetmask = 32, action = "unicast" } },
  { "routedel" }, { "routedel", "nonsense" },
  { "arplist" }, { "arplist", "/nope" },
  { "arpadd", "/top" }, { "arpadd", "/top", "1.2.3.4" }, { "arpadd", "/nope", "1.2.3.4", 3 },
  { "arpdel" }, { "arpdel", "/top", "x.y" },
  { "netcontrol" }, { "netcontrol", "1.2.3.4" }, { "netcontrol", "1.2.3.4", "bogus" },
  { "netevent", "x" },
  { "checkuri" },
  { "nosuchcall" },
}
for i, c in ipairs(calls) do
  local ok, err = coroutine.yield("syscall", table.unpack(c))
  print(("%d %s %s"):format(i, tostring(ok), tostring(err)))
end
local ok, err = coroutine.yield("syscall", "__handlecall", 999, "read")
print(("handle %s %s"):format(tostring(ok), tostring(err)))
local h = syscall.connect("pdp://10.0.0.9:7")
h:close()
local ok2, err2 = pcall(function() local x = h:write("late"); return x end)
print("method " .. tostring(ok2) .. " " .. tostring(err2))
ok2, err2 = pcall(function() syscall.listen(5) end)
print("wrapper " .. tostring(err2))
"#;

#[test]
fn wrong_arguments_get_the_stacks_exact_error_texts() {
    let dir = folder("wrong", &[("wrong.lua", WRONG)]);
    let text = format!(
        "name = \"wrong\"\n{}",
        node("a", 1, "10.0.0.1", "program = \"wrong.lua\"")
    );
    let r = run_in(&dir, &text);
    let out = lines(&r, "a");
    // The same calls on a bare stack give the texts a program must see.
    let mut c = Computer::new(ComputerConfig::new(1, &["/top"]), &mut SplitMix64::new(1));
    let s = |x: &str| Value::from(x);
    let t = |pairs: &[(&'static str, Value)]| {
        let mut t = modem_value::Table::new();
        for (k, v) in pairs {
            t.set(k, v.clone());
        }
        Value::Table(t)
    };
    let calls: Vec<(&str, Vec<Value>)> = vec![
        ("connect", vec![]),
        ("connect", vec![Value::from(5)]),
        ("connect", vec![s("bogus://x")]),
        ("connect", vec![s("psp://1.2.3.4")]),
        ("connect", vec![t(&[("url", Value::from(5))])]),
        (
            "connect",
            vec![t(&[("url", s("psp://1.2.3.4:5")), ("device", s("/nope"))])],
        ),
        ("listen", vec![]),
        ("listen", vec![Value::from(5)]),
        ("listen", vec![s("psp://0.0.0.0")]),
        ("listen", vec![s("bogus://x:1")]),
        ("unlisten", vec![]),
        ("unlisten", vec![s("psp://0.0.0.0")]),
        ("ipconfig", vec![]),
        ("ipconfig", vec![s("/nope")]),
        ("ipconfig", vec![s("/top"), Value::from(5)]),
        ("routelist", vec![s("x")]),
        ("routelist", vec![Value::from(-1)]),
        ("routeadd", vec![]),
        ("routeadd", vec![t(&[("action", s("teleport"))])]),
        (
            "routeadd",
            vec![t(&[
                ("source", s("1.2.3.4")),
                ("sourceNetmask", Value::from(32)),
                ("action", s("unicast")),
            ])],
        ),
        ("routedel", vec![]),
        ("routedel", vec![s("nonsense")]),
        ("arplist", vec![]),
        ("arplist", vec![s("/nope")]),
        ("arpadd", vec![s("/top")]),
        ("arpadd", vec![s("/top"), s("1.2.3.4")]),
        ("arpadd", vec![s("/nope"), s("1.2.3.4"), Value::from(3)]),
        ("arpdel", vec![]),
        ("arpdel", vec![s("/top"), s("x.y")]),
        ("netcontrol", vec![]),
        ("netcontrol", vec![s("1.2.3.4")]),
        ("netcontrol", vec![s("1.2.3.4"), s("bogus")]),
        ("netevent", vec![s("x")]),
        ("checkuri", vec![]),
        ("nosuchcall", vec![]),
    ];
    let mut failures = 0;
    for (i, (name, args)) in calls.iter().enumerate() {
        let want = match c.syscall(Instant::ZERO, 1, true, name, args) {
            Ok(v) => format!("{} true {}", i + 1, lua_text(v.first())),
            Err(e) => format!("{} false {e}", i + 1),
        };
        assert!(
            out.contains(&want),
            "{name} {args:?}: want {want:?} in {out:#?}"
        );
        failures += usize::from(want.contains(" false "));
    }
    assert!(failures >= 30, "almost every call is refused ({failures})");
    // Literal texts the Phoenix kernel gives, pinned (spec §15).
    for want in [
        "3 false Invalid protocol bogus",
        "13 false bad argument #1 (expected string, got nil)",
        "14 false No such device",
        "4 false No port specified",
        "6 false No such device",
        "9 false Missing port",
        "32 false bad argument #2 (invalid option 'bogus')",
        "35 false No such syscall: nosuchcall",
        "handle false No such socket",
        "wrapper wrong.lua:30: bad argument #1 (expected string, got number)",
    ] {
        assert!(out.iter().any(|l| l == want), "{want:?} in {out:#?}");
    }
    assert!(
        out.iter()
            .any(|l| l == "method false wrong.lua:28: No such socket"),
        "a handle method raises at the caller's line: {out:#?}"
    );
}

fn lua_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Nil) => "nil".into(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Num(n)) => format!("{n}"),
        Some(Value::Str(s)) => s.to_string_lossy(),
        Some(Value::Table(_)) => "table".into(),
    }
}

const ORDER: &str = r#"
local t = { zebra = 1, apple = 2, mango = 3, [10] = "ten", [2] = "two", kiwi = 4 }
local keys = {}
for k in pairs(t) do keys[#keys + 1] = tostring(k) end
print(table.concat(keys, " "))
print(math.random(1, 1000000), math.random(), math.random(6))
"#;

#[test]
fn pairs_and_random_are_the_same_in_every_run() {
    let dir = folder("order", &[("order.lua", ORDER)]);
    let text = format!(
        "name = \"order\"\n{}",
        node("a", 1, "10.0.0.1", "program = \"order.lua\"")
    );
    let a = run_in(&dir, &text);
    let b = run_in(&dir, &text);
    assert_eq!(a.transcript, b.transcript);
    assert_eq!(lines(&a, "a")[0], "2 10 apple kiwi mango zebra");
}

/// The README's ten-line echo server, as printed there, answers a PDP client.
#[test]
fn the_readme_echo_program_works() {
    let readme =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let start = readme
        .find("-- echo.lua PORT")
        .expect("the README shows echo.lua");
    let end = start + readme[start..].find("```").unwrap();
    let echo = &readme[start..end];
    assert!(echo.trim().lines().count() <= 10);
    let dir = folder(
        "readme",
        &[
            ("echo.lua", echo),
            (
                "pdp_client.lua",
                include_str!("../scenarios/programs/pdp_client.lua"),
            ),
        ],
    );
    let text = format!(
        "name = \"readme\"\n{}{}",
        node(
            "server",
            1,
            "10.0.0.1",
            "program = \"echo.lua\"\nargs = [7]\ndaemon = true"
        ),
        node(
            "client",
            2,
            "10.0.0.2",
            "program = \"pdp_client.lua\"\nargs = [\"10.0.0.1\", 7, \"hello\", \"world\"]"
        ),
    );
    let r = run_in(&dir, &text);
    assert!(r.all_ok(), "{}", r.summary());
    assert!(lines(&r, "client").contains(&"got \"echo: world\"".to_string()));
}

/// A program that does not compile is refused, with its `file:line`, by the check before a run
/// and by the run itself.
#[test]
fn a_program_that_does_not_compile_is_refused_with_its_line() {
    let dir = folder("syntax", &[("bad.lua", "local x = 1\nx = = 2\n")]);
    let text = format!(
        "name = \"syntax\"\n{}",
        node("a", 1, "10.0.0.1", "program = \"bad.lua\"")
    );
    let s = Scenario::from_toml(&text).unwrap();
    let options = RunOptions {
        seed: None,
        trace: false,
        folder: Some(dir),
    };
    let e = phoenix_net::check(&s, &options).unwrap_err().to_string();
    assert!(e.contains("a: bad.lua:2:"), "{e}");
    let e = run(&s, &options, |_| {}, |_, _| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("a: bad.lua:2:"), "{e}");
}
