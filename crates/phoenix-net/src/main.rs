//! `phoenix-net`: the simulator's command line.

use std::io::Write;
use std::process::ExitCode;

use phoenix_net::{run, RunOptions, Scenario, BUILTIN_INTERNET};

const USAGE: &str = "usage: phoenix-net sim [SCENARIO.toml] [--seed N] [--trace FILE] [--quiet]
       phoenix-net host --id N [--modem PATH]... [--router] [--seed N] [--real-time] [--no-tcp]

Runs a simulated Phoenix network on a virtual clock and prints a transcript and a summary.
Without SCENARIO, runs the built-in internet (three segments, two routers, a dozen computers).
  --seed N      replace the scenario's seed
  --trace FILE  write every transmit as one JSON line to FILE
  --quiet       print only the summary

host runs one computer's stack over JSON lines on stdin/stdout (docs/stdio-host.md); HTTP and
WebSocket handles use real TCP (TLS for https/wss) unless --no-tcp; --real-time drives timers
from the real clock instead of `time` lines.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("sim") => sim(&args[1..]),
        Some("host") => host(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn sim(args: &[String]) -> ExitCode {
    let mut file = None;
    let mut options = RunOptions::default();
    let mut trace_file = None;
    let mut quiet = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seed" => match it.next().and_then(|s| s.parse().ok()) {
                Some(n) => options.seed = Some(n),
                None => return usage_error("--seed needs a number"),
            },
            "--trace" => match it.next() {
                Some(f) => {
                    trace_file = Some(f.clone());
                    options.trace = true;
                }
                None => return usage_error("--trace needs a file"),
            },
            "--quiet" => quiet = true,
            s if s.starts_with('-') => return usage_error(&format!("unknown option {s}")),
            s => file = Some(s.to_string()),
        }
    }
    let text = match &file {
        Some(f) => match std::fs::read_to_string(f) {
            Ok(t) => {
                // Program paths are relative to the scenario's folder.
                options.folder = Some(
                    std::path::Path::new(f)
                        .parent()
                        .map(std::path::Path::to_path_buf)
                        .unwrap_or_default(),
                );
                t
            }
            Err(e) => {
                eprintln!("phoenix-net: cannot read {f}: {e}");
                return ExitCode::from(2);
            }
        },
        None => BUILTIN_INTERNET.to_string(),
    };
    let scenario = match Scenario::from_toml(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("phoenix-net: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "== {} (seed {}) ==",
        scenario.name,
        options.seed.unwrap_or(scenario.seed)
    );
    let progress = |p: &str| {
        eprint!("\r[sim] {p}    ");
        let _ = std::io::stderr().flush();
    };
    let line = |t: modem_value::Instant, l: &str| {
        if !quiet {
            println!("[{:>8.3}s] {l}", t.as_secs_f64());
        }
    };
    let report = match run(&scenario, &options, progress, line) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("phoenix-net: {e}");
            return ExitCode::from(2);
        }
    };
    eprint!("\r\x1b[K");
    println!("\n{}", report.summary());
    if let Some(f) = trace_file {
        let mut body = report.trace.join("\n");
        body.push('\n');
        if let Err(e) = std::fs::write(&f, body) {
            eprintln!("phoenix-net: cannot write {f}: {e}");
            return ExitCode::from(2);
        }
        println!("trace: {} transmits written to {f}", report.trace.len());
    }
    if report.all_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn host(args: &[String]) -> ExitCode {
    let mut id = None;
    let mut modems: Vec<String> = Vec::new();
    let mut router = false;
    let mut seed = 0u64;
    let mut real_time = false;
    let mut tcp = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--id" => id = it.next().and_then(|s| s.parse::<u32>().ok()),
            "--modem" => match it.next() {
                Some(m) => modems.push(m.clone()),
                None => return usage_error("--modem needs a device path"),
            },
            "--router" => router = true,
            "--real-time" => real_time = true,
            "--no-tcp" => tcp = false,
            "--seed" => match it.next().and_then(|s| s.parse().ok()) {
                Some(n) => seed = n,
                None => return usage_error("--seed needs a number"),
            },
            s => return usage_error(&format!("unknown argument {s}")),
        }
    }
    let Some(id) = id else {
        return usage_error("host needs --id N");
    };
    let refs: Vec<&str> = modems.iter().map(String::as_str).collect();
    let mut config = syscall_api::ComputerConfig::new(id, &refs);
    config.forwarding = router;
    let stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let result = if tcp || real_time {
        let (session, boot) = phoenix_net::host::Session::new(config, seed);
        let stdin = std::io::BufReader::new(std::io::stdin());
        phoenix_net::realnet::serve_real(session, boot, real_time, stdin, stdout)
    } else {
        phoenix_net::host::serve(config, seed, std::io::stdin().lock(), stdout)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("phoenix-net host: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage_error(msg: &str) -> ExitCode {
    eprintln!("phoenix-net: {msg}\n{USAGE}");
    ExitCode::from(2)
}
