//! The conformance suite (`conformance/cases/`, run by `scripts/conformance.py`) against this
//! implementation and against variants of it, to show that the suite checks behaviour and not
//! this implementation's random draws:
//! * `phoenix-net host` with the blessed seeds and with other seeds: every case passes;
//! * a different implementation (`tests/conformance_shim.py --renumber`: other ephemeral ports,
//!   sequence numbers, messageIDs, rednet IDs and handle ids): every case passes;
//! * a broken variant (one rule flipped): exactly the cases pinning that rule fail;
//! * Phoenix 0.0.9's `connected` event: the cases pinning Q-EV1 differ from the reference only.
//!
//! `PHOENIX_BLESS=1 cargo test -p phoenix-net --test conformance` rewrites the expected lines from
//! this implementation, keeping matchers and provenance (review the diff: it is the behaviour
//! change).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shim needs only the standard library; it is started with `python3 -S` (no site
/// initialisation), which halves the suite's time since one shim runs per computer of a case.
fn shim() -> String {
    root()
        .join("crates/phoenix-net/tests/conformance_shim.py")
        .display()
        .to_string()
}

/// Runs the runner with `opts` against `command` (the host is appended); returns (exit success,
/// stdout).
fn run(opts: &[&str], command: &[&str]) -> (bool, String) {
    let mut cmd = Command::new("python3");
    cmd.arg(root().join("scripts/conformance.py"))
        .args(opts)
        .arg("--")
        .args(command);
    if !command.is_empty() {
        cmd.arg("--");
    }
    cmd.args([env!("CARGO_BIN_EXE_phoenix-net"), "host", "--no-tcp"]);
    let out = cmd.output().expect("python3 must be installed");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// (status, case) of every summary line.
fn statuses(text: &str) -> Vec<(String, String)> {
    let known = [
        "pass",
        "differs from reference",
        "differs from 0.0.9",
        "error",
    ];
    text.lines()
        .filter_map(|l| {
            let status = l.get(..24)?.trim_end();
            known.contains(&status).then(|| {
                let name = l[25..].split_whitespace().next().unwrap_or("").to_string();
                (status.to_string(), name)
            })
        })
        .collect()
}

fn case_files() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(root().join("conformance/cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

fn assert_all_pass(opts: &[&str], command: &[&str]) {
    let (ok, text) = run(opts, command);
    let s = statuses(&text);
    assert_eq!(s.len(), case_files().len(), "{text}");
    assert!(s.iter().all(|(st, _)| st == "pass"), "{text}");
    assert!(ok, "{text}");
}

#[test]
fn every_case_passes_against_the_host_with_the_blessed_seeds() {
    if std::env::var("PHOENIX_BLESS").is_ok_and(|v| v == "1") {
        let (ok, text) = run(&["--bless"], &[]);
        assert!(ok, "{text}");
        return;
    }
    assert!(case_files().len() >= 40, "the suite has at least 40 cases");
    assert_all_pass(&[], &[]);
}

#[test]
fn every_case_passes_with_other_seeds() {
    assert_all_pass(&["--seed-offset", "7919"], &[]);
}

#[test]
fn every_case_passes_against_a_different_implementation() {
    assert_all_pass(&[], &["python3", "-S", &shim(), "--renumber"]);
}

/// Flipping one rule (the PSP refusal's error text) fails exactly the cases whose expected lines
/// carry that text, and as differences from Phoenix 0.0.9.
#[test]
fn a_broken_rule_fails_exactly_the_cases_pinning_it() {
    let (ok, text) = run(
        &[],
        &["python3", "-S", &shim(), "--renumber", "--flip", "refused"],
    );
    assert!(!ok, "{text}");
    let failing: BTreeSet<String> = statuses(&text)
        .into_iter()
        .filter(|(st, _)| st != "pass")
        .map(|(st, n)| {
            assert_eq!(st, "differs from 0.0.9", "{text}");
            n
        })
        .collect();
    let pinning: BTreeSet<String> = case_files()
        .into_iter()
        .filter(|(_, body)| body.contains("Connection refused"))
        .map(|(n, _)| n)
        .collect();
    assert!(!pinning.is_empty());
    assert_eq!(failing, pinning, "{text}");
}

/// An implementation that emits Phoenix 0.0.9's `connected` (Q-EV1) differs from the reference
/// in exactly the cases with that line, passes when judged against 0.0.9, and the report names
/// the proposal.
#[test]
fn phoenix_behaviour_differs_from_the_reference_only() {
    // Judged against Phoenix 0.0.9, such an implementation passes.
    let (ok, text) = run(
        &["--against", "phoenix-0.0.9"],
        &["python3", "-S", &shim(), "--flip", "connected"],
    );
    assert!(ok, "{text}");
    let differing: BTreeSet<String> = statuses(&text)
        .into_iter()
        .filter(|(st, _)| st != "pass")
        .map(|(st, n)| {
            assert_eq!(st, "differs from reference", "{text}");
            n
        })
        .collect();
    let pinning: BTreeSet<String> = case_files()
        .into_iter()
        .filter(|(_, body)| body.contains("\"$from\":\"Q-EV1\""))
        .map(|(n, _)| n)
        .collect();
    assert!(!pinning.is_empty());
    assert_eq!(differing, pinning, "{text}");
    assert!(text.contains("(Q-EV1)"), "{text}");
}

#[test]
fn junit_report_and_single_case() {
    let dir = std::env::temp_dir().join(format!("phoenix-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("report.xml");
    let (ok, text) = run(
        &[
            "--case",
            "psp_client_refused",
            "--junit",
            file.to_str().unwrap(),
        ],
        &["python3", "-S", &shim(), "--flip", "refused"],
    );
    assert!(!ok, "{text}");
    assert_eq!(statuses(&text).len(), 1, "{text}");
    let xml = std::fs::read_to_string(&file).unwrap();
    assert!(xml.contains("tests=\"1\" failures=\"1\""), "{xml}");
    assert!(xml.contains("name=\"psp_client_refused\""), "{xml}");
    assert!(xml.contains("Connection rejected"), "{xml}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every rule a step pins is listed in conformance/rules.json, and the coverage table builds.
#[test]
fn coverage_table_names_known_rules() {
    let out = Command::new("python3")
        .arg(root().join("scripts/conformance.py"))
        .arg("--coverage")
        .output()
        .expect("python3 must be installed");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("| rule |"), "{text}");
    let doc = std::fs::read_to_string(root().join("docs/conformance.md")).unwrap();
    assert!(
        doc.contains(String::from_utf8_lossy(&out.stdout).trim()),
        "docs/conformance.md's coverage table is stale: regenerate it with scripts/conformance.py --coverage"
    );
}
