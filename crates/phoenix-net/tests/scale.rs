//! The scale scenarios in a reduced form, so that the test suite stays fast: the 10 000-computer
//! wireless crowd as 1 000 computers, and the 100 000-computer routed world as 10 segments of
//! 100. The full runs are measured by hand (README, performance section); these pin that the same
//! files and shapes work, and the delivery rule they lean on.

use std::fmt::Write;
use std::path::PathBuf;

use phoenix_net::{run, Report, RunOptions, Scenario};

fn scenarios_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios")
}

fn run_text(text: &str) -> Report {
    let s = Scenario::from_toml(text).expect("scenario parses");
    let options = RunOptions {
        seed: None,
        trace: false,
        folder: Some(scenarios_dir()),
    };
    run(&s, &options, |_| {}, |_, _| {}).expect("scenario runs")
}

/// `scenarios/scale.toml` with 1 000 computers and 100 connections.
#[test]
fn scale_scenario_reduced_to_1000_computers() {
    let full = std::fs::read_to_string(scenarios_dir().join("scale.toml")).unwrap();
    assert!(full.contains("count = 10000") && full.contains("connections = 1000"));
    let text = full
        .replace("count = 10000", "count = 1000")
        .replace("connections = 1000", "connections = 100");
    let r = run_text(&text);
    assert!(r.all_ok(), "{}", r.summary());
    assert_eq!(r.computers, 1000);
    // Everyone hears everyone (rednet-and-modem §1.2): member i's collision probe (Phoenix
    // §6.2, sent when its address is set) reaches the i members configured before it, so the
    // probes alone are 1000·999/2 deliveries; the connections' ARP broadcasts add more.
    assert!(
        r.world.deliveries >= 1000 * 999 / 2,
        "{}",
        r.world.deliveries
    );
    assert_eq!(
        r.world.psp_retransmissions, 0,
        "a perfect link loses nothing"
    );
}

/// The shape of `scenarios/scale-100k.toml` (written by `scripts/gen-scale-100k.py`) with
/// `segments` segments of `per` computers.
fn routed_segments(segments: usize, per: usize) -> String {
    let mut s = String::new();
    let w = &mut s;
    writeln!(
        w,
        "name = \"routed segments\"\nseed = 1\nduration_ms = 120000\n"
    )
    .unwrap();
    for k in 0..segments {
        writeln!(
            w,
            "[[crowd]]\nprefix = \"s{k}_\"\ncount = {per}\nfirst_id = {}\nfirst_ip = \"10.{k}.0.1\"\nnetmask = 16\ncable = {}\ngateway = \"10.{k}.255.254\"\n",
            1 + k * per,
            k + 1
        )
        .unwrap();
        writeln!(
            w,
            "[[node]]\nname = \"r{k}\"\nid = {}\nrouter = true\nmodems = [{{ device = \"/seg\", cable = {}, at = [-1, 64, 0] }}, {{ device = \"/core\", cable = 1000, at = [{k}, 64, 5] }}]\nip = [{{ device = \"/seg\", ip = \"10.{k}.255.254\", netmask = 16 }}, {{ device = \"/core\", ip = \"10.255.0.{}\", netmask = 16 }}]\nroutes = [{{ source = \"0.0.0.0\", netmask = 0, action = \"unicast\", device = \"/core\", gateway = \"10.255.255.254\" }}]\n",
            1_000_000 + k,
            k + 1,
            k + 1
        )
        .unwrap();
    }
    writeln!(w, "[[node]]\nname = \"core\"\nid = 2000000\nrouter = true\nmodems = [{{ device = \"/core\", cable = 1000, at = [0, 64, 10] }}]\nip = [{{ device = \"/core\", ip = \"10.255.255.254\", netmask = 16 }}]\nroutes = [").unwrap();
    for k in 0..segments {
        writeln!(w, "  {{ source = \"10.{k}.0.0\", netmask = 16, action = \"unicast\", device = \"/core\", gateway = \"10.255.0.{}\" }},", k + 1).unwrap();
    }
    writeln!(w, "]\n").unwrap();
    for k in 0..segments {
        writeln!(w, "[[activity]]\nkind = \"psp_mesh\"\ncrowd = \"s{k}_\"\nconnections = 10\nbytes = 4096\n").unwrap();
    }
    for k in 0..segments {
        let j = (k + 1) % segments;
        writeln!(
            w,
            "[[node]]\nname = \"c{k}\"\nid = {}\nmodems = [{{ device = \"/top\", cable = {}, at = [-2, 64, 0] }}]\nip = [{{ device = \"/top\", ip = \"10.{k}.254.1\", netmask = 16 }}]\nroutes = [{{ source = \"0.0.0.0\", netmask = 0, action = \"unicast\", device = \"/top\", gateway = \"10.{k}.255.254\" }}]\nprogram = \"programs/psp_client.lua\"\nargs = [\"10.{j}.254.2\", 900, 4096, 256, {k}]\n",
            3_000_000 + k,
            k + 1
        )
        .unwrap();
        writeln!(
            w,
            "[[node]]\nname = \"v{j}\"\nid = {}\nmodems = [{{ device = \"/top\", cable = {}, at = [-3, 64, 0] }}]\nip = [{{ device = \"/top\", ip = \"10.{j}.254.2\", netmask = 16 }}]\nroutes = [{{ source = \"0.0.0.0\", netmask = 0, action = \"unicast\", device = \"/top\", gateway = \"10.{j}.255.254\" }}]\nprogram = \"programs/psp_server.lua\"\nargs = [900, 4096, {k}]\n",
            4_000_000 + j,
            j + 1
        )
        .unwrap();
    }
    s
}

#[test]
fn routed_100k_shape_reduced_to_10_segments_of_100() {
    let full = std::fs::read_to_string(scenarios_dir().join("scale-100k.toml")).unwrap();
    Scenario::from_toml(&full).expect("the full file parses");
    let r = run_text(&routed_segments(10, 100));
    assert!(r.all_ok(), "{}", r.summary());
    assert_eq!(r.computers, 10 * 100 + 10 + 1 + 2 * 10);
    let cross = r.results.iter().filter(|a| a.kind == "psp_server").count();
    assert_eq!(
        cross, 10,
        "one transfer from every segment to the next, through three routers"
    );
    // Segments are separate cables (rednet-and-modem §1.2: wired modems hear only their own
    // cable): the probes are 10 · 100·99/2 deliveries, not 1000·999/2.
    assert!(
        r.world.deliveries < 1000 * 999 / 2,
        "{}",
        r.world.deliveries
    );
}
