//! Routers and their host's channel limit: a router asks for `HearAll` on every modem at boot;
//! when the host refuses, it opens its forwarded ports, at most `MAX_OPEN_CHANNELS` per modem.

use modem_value::{Instant, SplitMix64};
use syscall_api::{Computer, ComputerConfig, NetworkStack, Output, MAX_OPEN_CHANNELS};

fn drain(c: &mut Computer) -> Vec<Output> {
    std::iter::from_fn(|| c.poll_output()).collect()
}

#[test]
fn a_router_asks_to_hear_all_channels_of_each_modem_and_a_computer_does_not() {
    let mut cfg = ComputerConfig::new(1, &["/left", "/right"]);
    cfg.forwarding = true;
    let mut r = Computer::new(cfg, &mut SplitMix64::new(1));
    let asked: Vec<String> = drain(&mut r)
        .into_iter()
        .filter_map(|o| match o {
            Output::HearAll { device } => Some(device.as_str().to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(asked, ["/left", "/right"]);
    let mut c = Computer::new(ComputerConfig::new(2, &["/top"]), &mut SplitMix64::new(2));
    assert!(!drain(&mut c)
        .iter()
        .any(|o| matches!(o, Output::HearAll { .. })));
}

#[test]
fn a_refused_router_opens_its_forwarded_ports_within_the_channel_limit() {
    let mut cfg = ComputerConfig::new(1, &["/left", "/right"]);
    cfg.forwarding = true;
    // 300 ports, one repeated: the first 128 distinct ones fit.
    cfg.forward_ports = (1..=300).chain([5]).collect();
    let mut r = Computer::new(cfg, &mut SplitMix64::new(1));
    drain(&mut r);
    r.handle_hear_all_refused(Instant::ZERO, "/left");
    let opened: Vec<u16> = drain(&mut r)
        .into_iter()
        .filter_map(|o| match o {
            Output::OpenChannel { device, channel } if device.as_str() == "/left" => Some(channel),
            Output::OpenChannel { device, .. } => panic!("opened on {device:?}"),
            _ => None,
        })
        .collect();
    assert_eq!(opened, (1..=MAX_OPEN_CHANNELS as u16).collect::<Vec<_>>());
    assert_eq!(
        r.stats().channels_over_budget,
        300 - MAX_OPEN_CHANNELS as u64
    );
    // A second refusal of the same modem changes nothing.
    r.handle_hear_all_refused(Instant::ZERO, "/left");
    assert!(drain(&mut r).is_empty());
}

#[test]
fn a_computer_that_is_not_a_router_ignores_a_refusal() {
    let mut cfg = ComputerConfig::new(1, &["/top"]);
    cfg.forward_ports = vec![21];
    let mut c = Computer::new(cfg, &mut SplitMix64::new(1));
    drain(&mut c);
    c.handle_hear_all_refused(Instant::ZERO, "/top");
    assert!(drain(&mut c).is_empty());
}
