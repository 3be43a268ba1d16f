//! `phoenix-net`: the simulator's command line.

use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use phoenix_net::host::DEFAULT_MAX_LINE;
use phoenix_net::{check, run, RunOptions, Scenario, BUILTIN_INTERNET};

const EXIT_CODES: &str = "\
Exit status:
  0  success: every activity of the scenario succeeded (sim), or stdin ended (host)
  1  the scenario ran but an activity failed or did not finish (sim), or an I/O error on
     stdin/stdout ended the host
  2  bad command line, unreadable or invalid scenario, or a trace file that cannot be written";

/// A simulated network of Phoenix (ComputerCraft) computers, and Phoenix's network stack for
/// emulators.
#[derive(Parser, Debug)]
#[command(name = "phoenix-net", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario on a virtual clock and print its transcript and summary.
    #[command(after_help = EXIT_CODES)]
    Sim(SimArgs),
    /// Run one computer's stack over JSON lines on stdin/stdout (docs/stdio-host.md).
    #[command(after_help = EXIT_CODES)]
    Host(HostArgs),
}

#[derive(Args, Debug)]
struct SimArgs {
    /// The scenario file (TOML); without it, the built-in internet (three segments, two
    /// routers, a dozen computers).
    #[arg(value_name = "SCENARIO.toml")]
    scenario: Option<PathBuf>,
    /// Replace the scenario's seed.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Write every transmit as one JSON line to FILE.
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// Print only the summary, not the transcript.
    #[arg(long, short)]
    quiet: bool,
    /// Show a progress line on stderr even when it is not a terminal.
    #[arg(long, overrides_with = "no_progress")]
    progress: bool,
    /// Never show the progress line (by default it is shown when stderr is a terminal).
    #[arg(long, overrides_with = "progress")]
    no_progress: bool,
}

#[derive(Args, Debug)]
struct HostArgs {
    /// The computer's ID.
    #[arg(long, value_name = "N")]
    id: u32,
    /// A modem's device path (for example `/top`); repeat for more modems.
    #[arg(long = "modem", value_name = "PATH")]
    modems: Vec<String>,
    /// Forward packets between interfaces (a router).
    #[arg(long)]
    router: bool,
    /// A port (modem channel) a router keeps open for forwarding when its host refuses
    /// `hear_all`; repeat for more (at most 128 channels per modem in all).
    #[arg(long = "forward-port", value_name = "P", requires = "router")]
    forward_ports: Vec<u16>,
    /// Offer and accept PSP selective acknowledgements (a field Phoenix 0.0.9 ignores; used
    /// only when the peer agrees in the handshake): much faster repair of lossy transfers
    /// between stacks that both have it.
    #[arg(long)]
    psp_selective_ack: bool,
    /// Seed of the stack's randomness.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,
    /// Run timers from the real clock instead of `time` lines.
    #[arg(long)]
    real_time: bool,
    /// Write HTTP/WebSocket TCP requests as `tcp_*` lines for the embedding program to carry
    /// out, instead of opening real connections.
    #[arg(long)]
    no_tcp: bool,
    /// Longest input line in bytes; a longer line is read to its end, dropped and answered
    /// with an `error` line.
    #[arg(
        long,
        value_name = "BYTES",
        default_value_t = DEFAULT_MAX_LINE as u64,
        value_parser = clap::value_parser!(u64).range(1..=(isize::MAX as u64))
    )]
    max_line: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Sim(a) => sim(a),
        Command::Host(a) => host(a),
    }
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("phoenix-net: {msg}");
    ExitCode::from(2)
}

fn sim(args: SimArgs) -> ExitCode {
    let text = match &args.scenario {
        Some(f) => match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => return fail(format_args!("cannot read {}: {e}", f.display())),
        },
        None => BUILTIN_INTERNET.to_string(),
    };
    let scenario = match Scenario::from_toml(&text) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let options = RunOptions {
        seed: args.seed,
        trace: args.trace.is_some(),
        // Program paths are relative to the scenario's folder; the built-in scenario's programs
        // are built into the binary.
        folder: args.scenario.as_ref().map(|f| {
            f.parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default()
        }),
    };
    // Everything that can be wrong is found before the first line goes to stdout.
    if let Err(e) = check(&scenario, &options) {
        return fail(e);
    }
    let mut trace_out = match &args.trace {
        Some(f) => match File::create(f) {
            Ok(file) => Some((f, std::io::BufWriter::new(file))),
            Err(e) => return fail(format_args!("cannot write {}: {e}", f.display())),
        },
        None => None,
    };
    let show_progress = args.progress || (!args.no_progress && std::io::stderr().is_terminal());
    let quiet = args.quiet;
    println!(
        "== {} (seed {}) ==",
        scenario.name,
        options.seed.unwrap_or(scenario.seed)
    );
    let mut shown = false;
    if show_progress {
        shown = true;
        eprint!("\r[sim] starting");
    }
    let progress = |p: &str| {
        if show_progress {
            shown = true;
            eprint!("\r[sim] {p}    ");
            let _ = std::io::stderr().flush();
        }
    };
    let line = |t: modem_value::Instant, l: &str| {
        if !quiet {
            println!("[{:>8.3}s] {l}", t.as_secs_f64());
        }
    };
    let result = run(&scenario, &options, progress, line);
    if shown {
        eprint!("\r\x1b[K");
    }
    let report = match result {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    println!("\n{}", report.summary());
    if let Some((f, out)) = &mut trace_out {
        let written = report
            .trace
            .iter()
            .try_for_each(|l| writeln!(out, "{l}"))
            .and_then(|()| out.flush());
        if let Err(e) = written {
            return fail(format_args!("cannot write {}: {e}", f.display()));
        }
        println!(
            "trace: {} transmits written to {}",
            report.trace.len(),
            f.display()
        );
    }
    if report.all_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn host(args: HostArgs) -> ExitCode {
    let refs: Vec<&str> = args.modems.iter().map(String::as_str).collect();
    let mut config = syscall_api::ComputerConfig::new(args.id, &refs);
    config.forwarding = args.router;
    config.forward_ports = args.forward_ports;
    config.psp.selective_ack = args.psp_selective_ack;
    // The range of the argument keeps this within usize.
    let max_line = usize::try_from(args.max_line).unwrap_or(usize::MAX);
    let stdout = std::io::BufWriter::new(std::io::stdout().lock());
    let result = if !args.no_tcp || args.real_time {
        let (session, boot) = phoenix_net::host::Session::new(config, args.seed);
        let stdin = std::io::BufReader::new(std::io::stdin());
        phoenix_net::realnet::serve_real(session, boot, args.real_time, max_line, stdin, stdout)
    } else {
        phoenix_net::host::serve(config, args.seed, max_line, std::io::stdin().lock(), stdout)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("phoenix-net host: {e}");
            ExitCode::FAILURE
        }
    }
}
