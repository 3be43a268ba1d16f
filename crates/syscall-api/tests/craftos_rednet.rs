//! The CraftOS rednet API and Phoenix rednet handles share one rednet endpoint per computer.
//! Each side holds its own claim on a modem's rednet channels (the computer's ID channel and
//! 65535): closing one side's use must not cut the other side off, and the channels close when
//! neither wants them any more.

use modem_value::{Instant, SplitMix64, Value};
use syscall_api::{Computer, ComputerConfig, NetworkStack, Output};

const NOW: Instant = Instant::ZERO;

fn drain(c: &mut Computer) -> Vec<Output> {
    std::iter::from_fn(|| c.poll_output()).collect()
}

/// Channels closed on `/top` by the outputs.
fn closed(out: &[Output]) -> Vec<u16> {
    out.iter()
        .filter_map(|o| match o {
            Output::CloseChannel { device, channel } if device.as_str() == "/top" => Some(*channel),
            _ => None,
        })
        .collect()
}

fn computer() -> Computer {
    let mut c = Computer::new(ComputerConfig::new(7, &["/top"]), &mut SplitMix64::new(7));
    c.spawn_process(1, None);
    drain(&mut c);
    c
}

fn rednet_handle(c: &mut Computer) -> u64 {
    let r = c
        .syscall(
            NOW,
            1,
            false,
            "connect",
            &[Value::from("rednet://255.255.255.255")],
        )
        .expect("connect rednet");
    let id = r[0].as_num().expect("handle id") as u64;
    drain(c);
    id
}

#[test]
fn closing_the_last_phoenix_handle_keeps_channels_that_rednet_open_asked_for() {
    let mut c = computer();
    c.rednet_open(NOW, "/top").unwrap();
    drain(&mut c);
    let h = rednet_handle(&mut c);
    c.handle_method(NOW, 1, h, "close", &[]).unwrap();
    let out = drain(&mut c);
    assert!(
        closed(&out).is_empty(),
        "rednet.open's channels were closed: {out:?}"
    );
    // rednet.close now releases the last claim.
    c.rednet_close(NOW, Some("/top")).unwrap();
    let mut ch = closed(&drain(&mut c));
    ch.sort_unstable();
    assert_eq!(ch, [7, 65535]);
}

#[test]
fn rednet_close_keeps_channels_an_open_phoenix_handle_listens_on() {
    let mut c = computer();
    let h = rednet_handle(&mut c);
    c.rednet_open(NOW, "/top").unwrap();
    drain(&mut c);
    c.rednet_close(NOW, None).unwrap();
    let out = drain(&mut c);
    assert!(
        closed(&out).is_empty(),
        "the handle's channels were closed: {out:?}"
    );
    c.handle_method(NOW, 1, h, "close", &[]).unwrap();
    let mut ch = closed(&drain(&mut c));
    ch.sort_unstable();
    assert_eq!(ch, [7, 65535]);
}
