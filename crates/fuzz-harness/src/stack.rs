//! Fuzz target bodies for syscall-api: two whole stacks on a simulated medium, driven by
//! arbitrary syscalls, handle methods, modem frames and ticks.

use std::collections::BTreeMap;

use arbitrary::{Result, Unstructured};
use modem_value::{table, Duration, Value};
use phoenix_netsim::{Medium, ModemKind, Position, World};
use syscall_api::{ComputerConfig, NetworkStack};

/// The targets of this module, by name.
pub const TARGETS: &[(&str, crate::Target)] = &[("stack_world", stack_world)];

const METHODS: &[&str] = &[
    "status",
    "read",
    "write",
    "close",
    "transfer",
    "localIP",
    "responseCode",
    "responseHeaders",
    "method",
    "path",
    "setResponseCode",
    "bogus",
];
const URIS: &[&str] = &[
    "psp://10.0.0.2:21",
    "psp://0.0.0.0:21",
    "pdp://10.0.0.2:53",
    "pdp://0.0.0.0:53",
    "rednet://0.0.0.2",
    "rednet+chat://255.255.255.255",
    "http://b:80/",
    "ws://b:81",
    "psp://10.0.0.1:7",
    "gopher://x",
    "psp://10.0.0.9:5",
];

fn arg(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=3)? {
        0 => Value::from_static(u.choose(URIS)?),
        1 => Value::from_static(u.choose(&["/top", "/lo", "*a", "*l", "ping", "10.0.0.2"])?),
        2 => Value::from(u.int_in_range(0u32..=70)?),
        _ => u.arbitrary()?,
    })
}

/// No panic, bounded queues, and no process ever uses another (unrelated) process's handle.
pub fn stack_world(data: &[u8]) {
    let _ = run(&mut Unstructured::new(data));
}

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let mut w = World::new(Medium::new());
    let mut nodes = Vec::new();
    for (i, (ip, x)) in [("10.0.0.1", 0.0), ("10.0.0.2", 10.0)]
        .into_iter()
        .enumerate()
    {
        let id = i as u32 + 1;
        let n = w.add_computer(
            ComputerConfig::new(id, &[]),
            &[("/top", ModemKind::Wireless(Position::new(x, 64.0, 0.0)))],
            ["a", "b"][i],
            u64::from(id),
        );
        let _ = w.syscall(
            n,
            1,
            true,
            "ipconfig",
            &[Value::from("/top"), table! {"ip" => ip, "netmask" => 24}],
        );
        nodes.push(n);
    }
    // Handles each (node, pid) created, to check isolation.
    let mut created: BTreeMap<(usize, u64), u32> = BTreeMap::new();
    for _ in 0..u.int_in_range(0..=64)? {
        let node = *u.choose(&nodes)?;
        let pid = u.int_in_range(1u32..=3)?;
        match u.int_in_range(0..=3)? {
            0 => {
                let names: Vec<&str> = syscall_api::syscall_names().collect();
                let name = *u.choose(&names)?;
                let args: Vec<Value> = (0..u.int_in_range(0..=3)?)
                    .map(|_| arg(u))
                    .collect::<Result<_>>()?;
                let root = u.arbitrary()?;
                if let Ok(v) = w.syscall(node, pid, root, name, &args) {
                    if name == "connect" {
                        if let Some(h) = v.first().and_then(Value::as_num) {
                            created.insert((node, h as u64), pid);
                        }
                    }
                }
            }
            1 => {
                let handle = u.int_in_range(0u64..=12)?;
                let method = *u.choose(METHODS)?;
                let args: Vec<Value> = (0..u.int_in_range(0..=3)?)
                    .map(|_| arg(u))
                    .collect::<Result<_>>()?;
                let r = w.method(node, pid, handle, method, &args);
                if let Some(&owner) = created.get(&(node, handle)) {
                    if owner != pid {
                        assert_eq!(
                            r.map_err(|e| e.to_string()),
                            Err("No such socket".to_string()),
                            "pid {pid} used pid {owner}'s handle {handle}"
                        );
                    }
                }
            }
            2 => {
                let v: Value = u.arbitrary()?;
                let ch = *u.choose(&[0u16, 21, 53, 1, 2, 65535, 65533])?;
                let reply = u.arbitrary()?;
                let now = w.now();
                w.computer_mut(node)
                    .handle_modem_message(now, "/top", ch, reply, &v, None);
                w.flush();
            }
            _ => w.run_for(Duration::from_millis(u.int_in_range(0u64..=6000)?)),
        }
    }
    w.run_for(Duration::from_secs(30));
    Ok(())
}
