//! The simulator end to end: the built-in scenario succeeds, every scenario file in the
//! repository parses and runs, and the same seed gives a byte-identical trace.

use phoenix_net::{run, Report, RunOptions, Scenario, BUILTIN_INTERNET};

fn run_text(text: &str, seed: Option<u64>) -> Report {
    let s = Scenario::from_toml(text).expect("scenario parses");
    run(&s, &RunOptions { seed, trace: true }, |_| {}, |_, _| {}).expect("scenario runs")
}

#[test]
fn builtin_internet_succeeds() {
    let r = run_text(BUILTIN_INTERNET, None);
    assert!(r.all_ok(), "{}", r.summary());
    assert_eq!(r.computers, 12);
    let kinds: Vec<&str> = r.results.iter().map(|a| a.kind).collect();
    for k in [
        "ping",
        "psp_transfer",
        "pdp",
        "rednet_chat",
        "dns_lookup",
        "http",
    ] {
        assert!(kinds.contains(&k), "{k} missing");
    }
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
        let t = r.results.iter().find(|a| a.kind == "psp_transfer").unwrap();
        assert!(t.ok, "seed {seed}: {}", t.detail);
    }
}

#[test]
fn repository_scenarios_run() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
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
            "name = \"x\"\n[[activity]]\nkind = \"ping\"\nfrom = \"nobody\"\nto = \"1.2.3.4\"",
            "no node named nobody",
        ),
        ("name = \"x\"\nbogus = 3", "unknown field"),
    ] {
        let e = Scenario::from_toml(text)
            .and_then(|s| run(&s, &RunOptions::default(), |_| {}, |_, _| {}).map(|_| ()));
        let msg = e.expect_err(text).to_string();
        assert!(msg.contains(want), "{text}: {msg}");
    }
}
