//! The `rednet` input op: CraftOS's rednet API (`open`, `close`, `host`, `unhost`, `lookup`)
//! and the `repeat` program, for hosts that emulate a plain CraftOS computer (documented in
//! `docs/stdio-host.md`, "Rednet for CraftOS computers").

use std::collections::BTreeMap;

use modem_value::{table, Instant, Value};
use syscall_api::{Computer, RednetCompletion, SyscallError};

/// Most `host`/`lookup` calls waiting for their `rednet_done` line (the endpoint refuses more
/// requests than this anyway).
const MAX_WAITING: usize = 1024;

/// The `id`s of `host`/`lookup` calls waiting for their `rednet_done` line.
#[derive(Debug, Default)]
pub(crate) struct RednetCalls {
    waiting: BTreeMap<u64, (Value, &'static str)>,
}

fn opt_str(v: &Value, field: &'static str) -> Result<Option<String>, String> {
    Ok(v.field_opt_str(field)
        .map_err(|e| e.to_string())?
        .map(|s| s.to_string_lossy()))
}

fn req_str(v: &Value, field: &'static str) -> Result<String, String> {
    opt_str(v, field)?.ok_or_else(|| format!("missing field '{field}'"))
}

/// A `rednet_done` line (hand-written like `reply`, so `result` is always an array).
fn done_line(id: &Value, call: &str, r: Result<Vec<Value>, String>) -> String {
    match r {
        Ok(values) => {
            let items: Vec<String> = values.iter().map(Value::to_json).collect();
            format!(
                "{{\"call\":\"{call}\",\"id\":{},\"ok\":true,\"out\":\"rednet_done\",\"result\":[{}]}}",
                id.to_json(),
                items.join(",")
            )
        }
        Err(e) => table! {
            "out" => "rednet_done", "call" => call, "id" => id.clone(), "ok" => false,
            "error" => e
        }
        .to_json(),
    }
}

impl RednetCalls {
    /// Carries out one `rednet` line; returns the `reply` values, and pushes an immediate
    /// `rednet_done` line onto `done` when a `host` call finished at once.
    pub(crate) fn call(
        &mut self,
        c: &mut Computer,
        now: Instant,
        v: &Value,
        done: &mut Vec<String>,
    ) -> Result<Result<Vec<Value>, SyscallError>, String> {
        let call = req_str(v, "call")?;
        let id = v.get("id").clone();
        Ok(match call.as_str() {
            "open" => c.rednet_open(now, &req_str(v, "modem")?).map(|()| vec![]),
            "close" => c
                .rednet_close(now, opt_str(v, "modem")?.as_deref())
                .map(|()| vec![]),
            "host" => {
                if self.waiting.len() >= MAX_WAITING {
                    return Err("too many rednet calls waiting".into());
                }
                let (protocol, hostname) = (req_str(v, "protocol")?, req_str(v, "hostname")?);
                c.rednet_host_request(now, &protocol, &hostname)
                    .map(|pending| {
                        match pending {
                            Some(r) => {
                                self.waiting.insert(r.0, (id, "host"));
                            }
                            None => done.push(done_line(&id, "host", Ok(vec![]))),
                        }
                        vec![]
                    })
            }
            "unhost" => Ok(c
                .rednet_unhost(now, &req_str(v, "protocol")?)
                .map(Value::from)
                .into_iter()
                .collect()),
            "lookup" => {
                if self.waiting.len() >= MAX_WAITING {
                    return Err("too many rednet calls waiting".into());
                }
                let protocol = req_str(v, "protocol")?;
                let hostname = opt_str(v, "hostname")?;
                c.rednet_lookup(now, &protocol, hostname.as_deref())
                    .map(|r| {
                        self.waiting.insert(r.0, (id, "lookup"));
                        vec![]
                    })
            }
            "repeat" => {
                let on = v
                    .field_opt_bool("on")
                    .map_err(|e| e.to_string())?
                    .unwrap_or(true);
                c.set_repeater(now, on);
                Ok(vec![])
            }
            other => return Err(format!("unknown rednet call '{other}'")),
        })
    }

    /// `rednet_done` lines for every finished `host`/`lookup`.
    pub(crate) fn drain(&mut self, c: &mut Computer, out: &mut Vec<String>) {
        while let Some(done) = c.poll_rednet_completion() {
            let Some((id, call)) = self.waiting.remove(&done.id().0) else {
                continue;
            };
            let r = match done {
                RednetCompletion::LookedUp { hosts, .. } => {
                    Ok(hosts.into_iter().map(Value::Num).collect())
                }
                RednetCompletion::Hosted { result, .. } => {
                    result.map(|()| vec![]).map_err(|e| e.to_string())
                }
                RednetCompletion::Received { .. } => continue,
            };
            out.push(done_line(&id, call, r));
        }
    }
}
