//! `phoenix-net host` answers every input line, whatever its bytes, with its outputs and exactly
//! one `deadline` (docs/stdio-host.md, "Order of lines"), in both the real-TCP mode and
//! `--no-tcp`; and it validates the host's own inputs (`time`, `root`) like a peer's.

use std::io::Write;
use std::process::{Command, Stdio};

use modem_value::Value;

/// Runs `phoenix-net host --id 1 --modem /top` with `extra` arguments over `input` (all of it
/// written, then stdin closed) and returns the output lines after the boot batch (`hello` up to
/// its `deadline`) and the exit status.
fn host(extra: &[&str], input: &[u8]) -> (Vec<Value>, std::process::ExitStatus) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_phoenix-net"))
        .args(["host", "--id", "1", "--modem", "/top"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("phoenix-net binary");
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    // A separate writer so a large input cannot deadlock against unread output.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let mut lines: Vec<Value> = String::from_utf8(out.stdout)
        .expect("output is UTF-8")
        .lines()
        .map(|l| Value::from_json(l).expect("output is JSON"))
        .collect();
    assert_eq!(lines[0].get("out"), &Value::from("hello"), "{lines:?}");
    let boot_end = lines
        .iter()
        .position(|l| l.get("out") == &Value::from("deadline"))
        .expect("a boot batch ending in deadline");
    lines.drain(..=boot_end);
    (lines, out.status)
}

/// The answers to each input line: groups of output lines, each ending at a `deadline`.
fn answers(lines: &[Value]) -> Vec<Vec<Value>> {
    let mut groups = vec![Vec::new()];
    for l in lines {
        groups.last_mut().unwrap().push(l.clone());
        if l.get("out") == &Value::from("deadline") {
            groups.push(Vec::new());
        }
    }
    let rest = groups.pop().unwrap();
    assert!(rest.is_empty(), "output after the last deadline: {rest:?}");
    groups
}

fn error_text(group: &[Value]) -> Option<String> {
    group
        .iter()
        .find(|l| l.get("out") == &Value::from("error"))
        .map(|l| l.get("message").to_lua_string().to_string_lossy())
}

const MODES: [&[&str]; 2] = [&[], &["--no-tcp"]];

#[test]
fn every_line_whatever_its_bytes_gets_one_deadline() {
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"op\":\"time\",\"at\":1,\"x\":\"\xff\"}\n");
    input.extend_from_slice(b"\n");
    input.extend_from_slice(b"   \r\n");
    input.extend_from_slice(b"\xc3\x28\n");
    input.extend_from_slice(b"{\"op\":\"time\",\"at\":2}\n");
    for mode in MODES {
        let (lines, status) = host(mode, &input);
        assert!(status.success(), "{mode:?}");
        let groups = answers(&lines);
        assert_eq!(groups.len(), 5, "{mode:?}: {lines:?}");
        let e = error_text(&groups[0]).expect("an error for non-UTF-8");
        assert!(
            e.contains("not valid UTF-8") && e.contains("offset 25"),
            "{e}"
        );
        assert!(error_text(&groups[1]).unwrap().contains("empty line"));
        assert!(error_text(&groups[2]).unwrap().contains("empty line"));
        assert!(error_text(&groups[3]).unwrap().contains("offset 0"));
        assert_eq!(error_text(&groups[4]), None, "{mode:?}");
        assert_eq!(groups[4].len(), 1);
    }
}

#[test]
fn a_line_over_the_limit_is_answered_and_the_host_goes_on() {
    let long = format!(
        "{{\"op\":\"time\",\"at\":1,\"pad\":\"{}\"}}\n",
        "x".repeat(5000)
    );
    let input = format!("{long}{{\"op\":\"time\",\"at\":3}}\n{long}");
    for mode in MODES {
        let mut args = mode.to_vec();
        args.extend(["--max-line", "100"]);
        let (lines, status) = host(&args, input.as_bytes());
        assert!(status.success());
        let groups = answers(&lines);
        assert_eq!(groups.len(), 3, "{mode:?}: {lines:?}");
        let e = error_text(&groups[0]).unwrap();
        assert!(
            e.contains("5029 bytes") && e.contains("limit of 100 bytes"),
            "{e}"
        );
        assert_eq!(error_text(&groups[1]), None);
        // The last line has no newline: still a line, still answered.
        assert!(error_text(&groups[2]).unwrap().contains("limit of 100"));
        // Within the default limit the same line is fine.
        let (lines, _) = host(mode, long.as_bytes());
        assert_eq!(error_text(&answers(&lines)[0]), None);
    }
}

#[test]
fn time_must_be_a_whole_non_negative_number_not_in_the_past() {
    let input = concat!(
        r#"{"op":"time","at":100}"#,
        "\n",
        r#"{"op":"time","at":{"$num":"inf"}}"#,
        "\n",
        r#"{"op":"time","at":-1}"#,
        "\n",
        r#"{"op":"time","at":1.5}"#,
        "\n",
        r#"{"op":"time","at":18446744073709551616}"#,
        "\n",
        r#"{"op":"time","at":99}"#,
        "\n",
        r#"{"op":"time","at":100}"#,
        "\n",
        r#"{"op":"time","at":101}"#,
        "\n",
    );
    let (lines, _) = host(&["--no-tcp"], input.as_bytes());
    let groups = answers(&lines);
    assert_eq!(groups.len(), 8);
    assert_eq!(error_text(&groups[0]), None);
    for (g, shown) in [(1, "inf"), (2, "-1"), (3, "1.5"), (4, "1.844674407371e+19")] {
        let e = error_text(&groups[g]).unwrap_or_else(|| panic!("line {g} accepted"));
        assert!(
            e.contains("non-negative integer") && e.contains(shown),
            "{e}"
        );
    }
    let e = error_text(&groups[5]).unwrap();
    assert!(e.contains("99 is before the current time 100"), "{e}");
    assert_eq!(error_text(&groups[6]), None);
    assert_eq!(error_text(&groups[7]), None);
}

#[test]
fn root_must_be_a_boolean() {
    let call = |root: &str| {
        format!(
            r#"{{"op":"syscall","id":1,"pid":1,{root}"name":"ipconfig","args":["/top",{{"ip":"10.0.0.1","netmask":24}}]}}"#
        )
    };
    for (root, refused) in [
        (r#""root":0,"#, Some("number")),
        (r#""root":"","#, Some("string")),
        (r#""root":[],"#, Some("table")),
        (r#""root":{},"#, Some("table")),
        (r#""root":false,"#, None),
        ("", None),
    ] {
        let (lines, _) = host(&["--no-tcp"], format!("{}\n", call(root)).as_bytes());
        let group = &answers(&lines)[0];
        match refused {
            Some(kind) => {
                let e = error_text(group).unwrap_or_else(|| panic!("{root} accepted"));
                assert!(e.contains("'root'") && e.contains(kind), "{e}");
            }
            // Not root: configuring an interface is refused by the stack, with Phoenix's text.
            None => {
                assert_eq!(error_text(group), None, "{root}");
                assert_eq!(group[0].get("ok"), &Value::Bool(false), "{group:?}");
            }
        }
    }
    let (lines, _) = host(
        &["--no-tcp"],
        format!("{}\n", call(r#""root":true,"#)).as_bytes(),
    );
    assert_eq!(answers(&lines)[0][0].get("ok"), &Value::Bool(true));
}

/// A driver that writes without reading: the host must stop reading stdin once its output
/// pipe is full, instead of queueing every line in memory (the real-TCP mode had an unbounded
/// queue between its stdin thread and the stack).
#[test]
fn a_driver_that_does_not_read_stops_the_host_reading() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    const TOTAL: usize = 32 << 20;
    for mode in MODES {
        let mut child = Command::new(env!("CARGO_BIN_EXE_phoenix-net"))
            .args(["host", "--id", "1"])
            .args(mode)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("phoenix-net binary");
        let mut stdin = child.stdin.take().unwrap();
        let written = Arc::new(AtomicUsize::new(0));
        let counter = written.clone();
        let writer = std::thread::spawn(move || {
            let chunk = "{\"op\":\"time\",\"at\":0}\n".repeat(1000);
            while counter.load(Ordering::Relaxed) < TOTAL {
                if stdin.write_all(chunk.as_bytes()).is_err() {
                    return;
                }
                counter.fetch_add(chunk.len(), Ordering::Relaxed);
            }
        });
        // Wait until the writer is stuck (no progress for a second) or done.
        let mut last = usize::MAX;
        let mut still_since = Instant::now();
        while written.load(Ordering::Relaxed) < TOTAL {
            std::thread::sleep(Duration::from_millis(100));
            let now = written.load(Ordering::Relaxed);
            if now != last {
                last = now;
                still_since = Instant::now();
            } else if still_since.elapsed() > Duration::from_secs(1) {
                break;
            }
        }
        let taken = written.load(Ordering::Relaxed);
        child.kill().unwrap();
        child.wait().unwrap();
        writer.join().unwrap();
        // Pipes, buffers and the bounded queue hold well under 4 MB of 21-byte lines.
        assert!(
            taken < 4 << 20,
            "{mode:?}: the host took {taken} bytes unanswered"
        );
    }
}
