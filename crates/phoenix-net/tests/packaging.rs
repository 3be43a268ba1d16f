//! Every publishable crate of the workspace carries what crates.io shows and the licenses
//! require: both license texts, a README, a description, documentation, keywords and
//! categories, and a version on every dependency that is a workspace member (without one,
//! `cargo publish` refuses the crate). `.ci/run` additionally builds each from its `.crate`.

use std::path::PathBuf;
use std::process::Command;

use modem_value::Value;

fn text(v: &Value) -> Option<String> {
    v.as_str().map(|s| s.to_string_lossy())
}

fn items(v: &Value) -> Vec<Value> {
    v.as_table()
        .map(|t| t.iter().map(|(_, x)| x.clone()).collect())
        .unwrap_or_default()
}

#[test]
fn publishable_crates_carry_licenses_readme_and_metadata() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(&root)
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success());
    let meta = Value::from_json(std::str::from_utf8(&out.stdout).unwrap()).unwrap();
    let members: Vec<String> = items(meta.get("packages"))
        .iter()
        .filter_map(|p| text(p.get("name")))
        .collect();
    let mut checked = Vec::new();
    for p in items(meta.get("packages")) {
        let name = text(p.get("name")).unwrap();
        // `publish = false` is an empty list of registries; absent means crates.io.
        if p.get("publish").as_table().is_some_and(|t| t.is_empty()) {
            continue;
        }
        for field in ["description", "license", "documentation", "readme"] {
            assert!(text(p.get(field)).is_some(), "{name}: no {field}");
        }
        for field in ["keywords", "categories"] {
            assert!(!items(p.get(field)).is_empty(), "{name}: no {field}");
        }
        for d in items(p.get("dependencies")) {
            let dep = text(d.get("name")).unwrap();
            let is_dev = text(d.get("kind")).as_deref() == Some("dev");
            if members.contains(&dep) && !is_dev {
                assert_ne!(
                    text(d.get("req")).as_deref(),
                    Some("*"),
                    "{name}: dependency {dep} has no version"
                );
            }
        }
        let list = Command::new(&cargo)
            .args([
                "package",
                "--list",
                "--allow-dirty",
                "--offline",
                "-p",
                &name,
            ])
            .current_dir(&root)
            .output()
            .expect("cargo package --list runs");
        assert!(
            list.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&list.stderr)
        );
        let files = String::from_utf8_lossy(&list.stdout);
        for f in ["LICENSE-MIT", "LICENSE-APACHE", "README.md"] {
            assert!(files.lines().any(|l| l == f), "{name} does not package {f}");
        }
        checked.push(name);
    }
    for lib in [
        "modem-value",
        "psp-proto",
        "syscall-api",
        "phoenix-net",
        "phoenix-ffi",
    ] {
        assert!(checked.iter().any(|c| c == lib), "{lib} is not publishable");
    }
}
