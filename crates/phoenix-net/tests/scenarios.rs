//! The simulator end to end: the built-in scenario (Lua programs on every Phoenix computer)
//! succeeds, every scenario file in the repository parses and runs, and the same seed gives a
//! byte-identical trace and transcript.

use std::path::PathBuf;

use phoenix_net::{run, Report, RunOptions, Scenario, BUILTIN_INTERNET};

fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
}

fn run_text(text: &str, seed: Option<u64>) -> Report {
    let s = Scenario::from_toml(text).expect("scenario parses");
    let options = RunOptions {
        seed,
        trace: true,
        folder: Some(scenarios_dir()),
    };
    run(&s, &options, |_| {}, |_, _| {}).expect("scenario runs")
}

#[test]
fn builtin_internet_succeeds() {
    let r = run_text(BUILTIN_INTERNET, None);
    assert!(r.all_ok(), "{}", r.summary());
    assert_eq!(r.computers, 14);
    let kinds: Vec<&str> = r.results.iter().map(|a| a.kind.as_str()).collect();
    // Every shipped program that is not a daemon reports a result; daemons appear only when
    // they fail, so the clients that need them stand for them.
    for k in [
        "ping",
        "psp_client",
        "psp_server",
        "pdp_client",
        "rednet_chat",
        "name_lookup",
        "http_client",
        "http_server",
        "dns_lookup",
    ] {
        assert!(kinds.contains(&k), "{k} missing");
    }
    let said = |who: &str, what: &str| {
        r.transcript
            .iter()
            .any(|(_, l)| l.starts_with(who) && l.contains(what))
    };
    assert!(said("c1:", "every byte intact"));
    assert!(said("b2:", "answering"), "the PDP echo daemon served");
    assert!(said("c3:", "query \"c1\""), "the name server served");
    assert!(said("a2:", "read \"hi back from CraftOS\""));
    assert!(said(
        "cc1:",
        "rednet_message from #2: \"hello from Phoenix\""
    ));
    // The transfer crossed two routers under 5 % loss, so something was re-sent.
    assert!(r.world.psp_retransmissions > 0);
    assert!(r.medium.lost > 0);
}

#[test]
fn same_seed_same_trace_other_seed_other_trace() {
    let a = run_text(BUILTIN_INTERNET, Some(5));
    let b = run_text(BUILTIN_INTERNET, Some(5));
    assert!(!a.trace.is_empty());
    assert_eq!(a.trace, b.trace);
    assert_eq!(a.transcript, b.transcript);
    let c = run_text(BUILTIN_INTERNET, Some(6));
    assert_ne!(a.trace, c.trace);
}

#[test]
fn psp_transfers_are_exact_under_loss_for_many_seeds() {
    for seed in 1..=12 {
        let r = run_text(BUILTIN_INTERNET, Some(seed));
        let t = r.results.iter().find(|a| a.kind == "psp_server").unwrap();
        assert!(t.ok, "seed {seed}: {}", t.detail);
    }
}

/// Selective acknowledgements (on by default in simulations) against `psp_selective_ack = false`
/// on both ends of `lossy-psp.toml` (20 % loss, duplicates, reordering): every byte still
/// arrives exactly, for many seeds, and the selective repair re-sends fewer segments in all.
#[test]
fn selective_acks_in_a_scenario_are_exact_and_re_send_less() {
    let sack = std::fs::read_to_string(scenarios_dir().join("lossy-psp.toml")).unwrap();
    let plain = sack.replace(
        "name = \"sender\"",
        "name = \"sender\"\npsp_selective_ack = false",
    );
    let plain = plain.replace(
        "name = \"receiver\"",
        "name = \"receiver\"\npsp_selective_ack = false",
    );
    assert_eq!(plain.matches("psp_selective_ack").count(), 2);
    let (mut with, mut without) = (0, 0);
    for seed in 1..=8 {
        let a = run_text(&plain, Some(seed));
        let b = run_text(&sack, Some(seed));
        for r in [&a, &b] {
            // The pinger may lose all its pings at 20 % loss; the transfer must complete.
            let t = r.results.iter().find(|x| x.kind == "psp_server").unwrap();
            assert!(t.ok, "seed {seed}: {}", r.summary());
        }
        eprintln!(
            "seed {seed}: re-sent {} without, {} with selective acks",
            a.world.psp_retransmissions, b.world.psp_retransmissions
        );
        without += a.world.psp_retransmissions;
        with += b.world.psp_retransmissions;
    }
    assert!(with < without, "{with} vs {without}");
}

#[test]
fn repository_scenarios_run() {
    let dir = scenarios_dir();
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml")
            && !path
                .file_name()
                .is_some_and(|f| f.to_string_lossy().contains("scale"))
        {
            let r = run_text(&std::fs::read_to_string(&path).unwrap(), None);
            assert!(r.all_ok(), "{}: {}", path.display(), r.summary());
            n += 1;
        }
    }
    assert!(n >= 2);
}

#[test]
fn bad_scenarios_are_refused_with_a_reason() {
    for (text, want) in [
        ("name = 1", "invalid type"),
        (
            "name = \"x\"\n[[node]]\nname = \"a\"\nid = 1\nmodems = [{ device = \"/top\" }]",
            "exactly one of",
        ),
        (
            "name = \"x\"\n[[activity]]\nkind = \"rednet_chat\"\nfrom = \"nobody\"\nto = \"b\"\nmessages = []",
            "no node named nobody",
        ),
        (
            "name = \"x\"\n[[node]]\nname = \"a\"\nid = 1\nmodems = [{ device = \"/top\", wireless = [0, 0, 0] }]\nprogram = \"programs/missing.lua\"",
            "programs/missing.lua: no such file",
        ),
        (
            "name = \"x\"\n[[node]]\nname = \"a\"\nid = 1\nmodems = [{ device = \"/top\", wireless = [0, 0, 0] }]\nprogram = \"../secret.lua\"",
            "outside the scenario's folder",
        ),
        ("name = \"x\"\nbogus = 3", "unknown field"),
    ] {
        let e = Scenario::from_toml(text)
            .and_then(|s| run(&s, &RunOptions::default(), |_| {}, |_, _| {}).map(|_| ()));
        let msg = e.expect_err(text).to_string();
        assert!(msg.contains(want), "{text}: {msg}");
    }
}

/// The programs of the scale scenarios, on a small crowd: every computer's neighbour answers,
/// and the syscall-rate program makes all its calls.
#[test]
fn scale_programs_run_on_a_small_crowd() {
    let crowd = std::fs::read_to_string(scenarios_dir().join("scale-lua.toml"))
        .unwrap()
        .replace("count = 10000", "count = 20")
        .replace("1, 10000]", "1, 20]");
    let r = run_text(&crowd, None);
    assert!(r.all_ok(), "{}", r.summary());
    assert_eq!(r.computers, 20);
    let n = r.results.iter().filter(|a| a.kind == "neighbour").count();
    assert_eq!(n, 20);
    let tick = std::fs::read_to_string(scenarios_dir().join("scale-lua-tick.toml"))
        .unwrap()
        .replace("count = 10000", "count = 20");
    let r = run_text(&tick, None);
    assert!(r.all_ok(), "{}", r.summary());
    assert_eq!(r.results.iter().filter(|a| a.kind == "tick").count(), 20);
    let rate = std::fs::read_to_string(scenarios_dir().join("scale-syscalls.toml"))
        .unwrap()
        .replace("args = [100000]", "args = [2000]");
    let r = run_text(&rate, None);
    assert!(r.all_ok(), "{}", r.summary());
    // Three batches of 2 000 calls, the connect, and one timer per batch.
    assert!(r.lua_syscalls >= 6001, "{}", r.lua_syscalls);
}
