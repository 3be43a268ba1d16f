//! The `phoenix-net` command line as a user meets it: `--version`, help per subcommand, errors
//! that name the bad argument and its value (exit status 2), one scenario file, progress only on
//! a terminal or with `--progress`, and every scenario error found before the first line of
//! output.

use std::path::PathBuf;
use std::process::{Command, Output};

fn phoenix_net(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phoenix-net"))
        .args(args)
        .output()
        .expect("phoenix-net binary")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A scratch directory of this test binary, unique per test name, holding the ping program
/// [`TINY`] runs.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("phoenix-net-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("ping.lua"),
        include_str!("../scenarios/programs/ping.lua"),
    )
    .unwrap();
    dir
}

const TINY: &str = r#"
name = "two computers"
seed = 1
duration_ms = 10000

[[node]]
name = "a"
id = 1
modems = [{ device = "/top", wireless = [0, 64, 0] }]
ip = [{ device = "/top", ip = "192.168.1.1", netmask = 24 }]
program = "ping.lua"
args = ["192.168.1.2", 1]

[[node]]
name = "b"
id = 2
modems = [{ device = "/top", wireless = [10, 64, 0] }]
ip = [{ device = "/top", ip = "192.168.1.2", netmask = 24 }]
"#;

#[test]
fn version_prints_name_and_crate_version() {
    let out = phoenix_net(&["--version"]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("phoenix-net {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn each_subcommand_has_its_own_help() {
    let sim = phoenix_net(&["sim", "--help"]);
    assert!(sim.status.success());
    let sim = text(&sim.stdout);
    assert!(sim.contains("Usage: phoenix-net sim"), "{sim}");
    assert!(
        sim.contains("--trace <FILE>") && sim.contains("--progress"),
        "{sim}"
    );
    assert!(sim.contains("Exit status:"), "{sim}");
    let host = phoenix_net(&["help", "host"]);
    assert!(host.status.success());
    let host = text(&host.stdout);
    assert!(host.contains("Usage: phoenix-net host"), "{host}");
    assert!(
        host.contains("--max-line <BYTES>") && host.contains("--no-tcp"),
        "{host}"
    );
}

#[test]
fn unknown_subcommand_is_named_with_status_2() {
    let out = phoenix_net(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("'frobnicate'"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_value_names_the_argument_and_the_value() {
    let out = phoenix_net(&["host", "--id", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("'x'") && err.contains("--id"), "{err}");
    let out = phoenix_net(&["sim", "--seed", "many"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("'many'") && err.contains("--seed"), "{err}");
    let out = phoenix_net(&["host", "--id", "1", "--max-line", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("'0'") && err.contains("--max-line"), "{err}");
}

#[test]
fn host_requires_an_id() {
    let out = phoenix_net(&["host"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--id <N>"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn sim_takes_exactly_one_scenario_file() {
    let out = phoenix_net(&["sim", "a.toml", "b.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("'b.toml'"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn progress_only_when_asked_off_a_terminal() {
    let dir = scratch("progress");
    let file = dir.join("tiny.toml");
    std::fs::write(&file, TINY).unwrap();
    let f = file.to_str().unwrap();
    // stderr is a pipe here: no progress, not even the line-clearing escape.
    let out = phoenix_net(&["sim", f]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{:?}", text(&out.stderr));
    let out = phoenix_net(&["sim", f, "--progress"]);
    assert!(out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("[sim]") && err.ends_with("\r\x1b[K"),
        "{err:?}"
    );
    // The last of --progress/--no-progress wins, as with cargo's flags.
    let out = phoenix_net(&["sim", f, "--progress", "--no-progress"]);
    assert!(out.stderr.is_empty(), "{:?}", text(&out.stderr));
}

#[test]
fn invalid_scenario_is_refused_before_any_output() {
    let dir = scratch("invalid");
    let file = dir.join("bad.toml");
    std::fs::write(&file, TINY.replace("\"ping.lua\"", "\"nobody.lua\"")).unwrap();
    let out = phoenix_net(&["sim", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("nobody"),
        "{}",
        text(&out.stderr)
    );
    let out = phoenix_net(&["sim", dir.join("missing.toml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("missing.toml"));
}

#[test]
fn unwritable_trace_is_refused_before_any_output() {
    let dir = scratch("trace");
    let file = dir.join("tiny.toml");
    std::fs::write(&file, TINY).unwrap();
    let trace = dir.join("no-such-dir").join("trace.jsonl");
    let out = phoenix_net(&[
        "sim",
        file.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("trace.jsonl"));
    let trace = dir.join("trace.jsonl");
    let out = phoenix_net(&[
        "sim",
        file.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let lines = std::fs::read_to_string(&trace).unwrap();
    assert!(lines.lines().count() > 0);
    assert!(text(&out.stdout).contains(&format!("{} transmits written", lines.lines().count())));
}

#[test]
fn failed_activity_exits_with_status_1() {
    let dir = scratch("fail");
    let file = dir.join("unreachable.toml");
    // Nobody answers at .9: the ping fails, the run completes.
    std::fs::write(
        &file,
        TINY.replace("[\"192.168.1.2\", 1]", "[\"192.168.1.9\", 1]"),
    )
    .unwrap();
    let out = phoenix_net(&["sim", "--quiet", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
}

/// Values a Lua program sees are shown as Lua shows them: `rednet.lookup`'s returns as `print`
/// would (`2`, not `2.0`), strings quoted as `textutils.serialize` quotes them (`%q`).
#[test]
fn transcript_and_summary_show_lua_values() {
    let out = phoenix_net(&["sim"]);
    assert!(out.status.success());
    let t = text(&out.stdout);
    assert!(t.contains("cc1: rednet.lookup(\"chat\")\n"), "{t}");
    assert!(t.contains("cc1: lookup answered: 2\n"), "{t}");
    assert!(t.contains("cc1 lookup \"chat\": 2\n"), "{t}");
    assert!(
        t.contains("rednet send \"hello from Phoenix\" to #41"),
        "{t}"
    );
    // %q escapes a newline as a backslash before it.
    assert!(t.contains("asked for /index.html\\\n\""), "{t}");
    assert!(!t.contains("2.0]") && !t.contains("None"), "{t}");
}
