//! Replays every conformance vector of `conformance/cases/` through the stdio host protocol
//! ([`Session`], which drives syscall-api's public `NetworkStack`) and checks the outputs, line
//! for line. `PHOENIX_BLESS=1 cargo test -p phoenix-net --test conformance` (re)writes the
//! expected outputs from this implementation.

use std::path::PathBuf;

use modem_value::Value;
use phoenix_net::host::Session;
use syscall_api::ComputerConfig;

fn cases() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../conformance/cases");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("conformance/cases")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

fn run_case(case: &Value) -> Vec<Vec<Value>> {
    let comp = case.get("computer");
    let modems: Vec<String> = comp
        .get("modems")
        .as_table()
        .map(|t| {
            t.iter()
                .filter_map(|(_, v)| v.as_str())
                .map(|s| s.to_string_lossy())
                .collect()
        })
        .unwrap_or_default();
    let refs: Vec<&str> = modems.iter().map(String::as_str).collect();
    let id = comp.get("id").as_num().expect("computer.id") as u32;
    let seed = comp.get("seed").as_num().unwrap_or(0.0) as u64;
    let (mut s, _boot) = Session::new(ComputerConfig::new(id, &refs), seed);
    let steps = case.get("steps").as_table().expect("steps");
    (1..=steps.len())
        .map(|i| {
            let step = steps.get_num(i as f64).expect("step");
            s.input(&step.get("in").to_json())
                .iter()
                .map(|l| Value::from_json(l).expect("output is JSON"))
                .collect()
        })
        .collect()
}

/// One step per line, so that a changed expectation is a one-line diff.
fn write_case(path: &PathBuf, case: &Value, outs: &[Vec<Value>]) {
    let mut text = String::from("{\n");
    for key in ["name", "description", "computer"] {
        text.push_str(&format!(" \"{key}\": {},\n", case.get(key).to_json()));
    }
    text.push_str(" \"steps\": [\n");
    let steps = case.get("steps").as_table().unwrap();
    for (i, out) in outs.iter().enumerate() {
        let step = steps.get_num((i + 1) as f64).unwrap();
        let out = Value::Table(modem_value::Table::array(out.iter().cloned()));
        let sep = if i + 1 == outs.len() { "" } else { "," };
        text.push_str(&format!(
            "  {{\"in\": {},\n   \"out\": {}}}{sep}\n",
            step.get("in").to_json(),
            out.to_json()
        ));
    }
    text.push_str(" ]\n}\n");
    std::fs::write(path, text).unwrap();
}

#[test]
fn every_vector_replays_exactly() {
    let bless = std::env::var("PHOENIX_BLESS").is_ok_and(|v| v == "1");
    let all = cases();
    assert!(all.len() >= 6, "conformance vectors are missing");
    for path in all {
        let case = Value::from_json(&std::fs::read_to_string(&path).unwrap()).expect("case parses");
        let outs = run_case(&case);
        if bless {
            write_case(&path, &case, &outs);
            continue;
        }
        let steps = case.get("steps").as_table().unwrap();
        for (i, got) in outs.iter().enumerate() {
            let step = steps.get_num((i + 1) as f64).unwrap();
            let want = step.get("out");
            let got = Value::Table(modem_value::Table::array(got.iter().cloned()));
            assert_eq!(
                &got,
                want,
                "{} step {}: input {}",
                path.display(),
                i + 1,
                step.get("in").to_json()
            );
        }
    }
}

/// The documented runner for other implementations passes against this one, exactly and loosely.
#[test]
fn the_runner_script_passes_against_the_stdio_host() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    for loose in [false, true] {
        let mut cmd = std::process::Command::new("python3");
        cmd.arg(root.join("scripts/conformance.py"));
        if loose {
            cmd.arg("--loose");
        }
        let out = cmd
            .args(["--", env!("CARGO_BIN_EXE_phoenix-net"), "host"])
            .output()
            .expect("python3 must be installed");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{text}");
        assert!(text.contains(" passed, 0 failed"), "{text}");
    }
}
