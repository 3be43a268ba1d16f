//! The host-provided TCP sub-protocol: [`TcpRequest`]s written as `tcp_*` output lines, and the
//! `tcp_*` input lines that answer them (documented in `docs/stdio-host.md`).
//!
//! One vocabulary for every host: the stdio host with `--no-tcp` and the C ABI write the
//! requests as lines for the embedding program; the real-network adapter (`realnet`) applies
//! them to sockets through [`TcpHost`]. Either way the answers reach the stack through the same
//! [`Session`](super::Session) calls.

use modem_value::{table, Value};
use syscall_api::io::ConnectFailure;
use syscall_api::{ListenerId, TcpEvent, TcpId, TcpRequest};

/// Something that carries out the stack's TCP requests (a real socket layer, a simulator's
/// pipes). Its answers go back through [`Session::tcp_event`](super::Session::tcp_event) and
/// [`Session::tcp_accept`](super::Session::tcp_accept).
pub trait TcpHost {
    /// Carries out `r`.
    fn request(&mut self, r: TcpRequest);
}

/// The stable name of a connect failure in `tcp_failed` lines.
pub fn failure_kind(f: ConnectFailure) -> &'static str {
    match f {
        ConnectFailure::CouldNotConnect => "could_not_connect",
        ConnectFailure::Tls => "tls",
        ConnectFailure::UnknownHost => "unknown_host",
        ConnectFailure::NotPermitted => "not_permitted",
    }
}

/// The failure named `kind` in a `tcp_failed` line.
pub fn parse_failure_kind(kind: &str) -> Option<ConnectFailure> {
    Some(match kind {
        "could_not_connect" => ConnectFailure::CouldNotConnect,
        "tls" => ConnectFailure::Tls,
        "unknown_host" => ConnectFailure::UnknownHost,
        "not_permitted" => ConnectFailure::NotPermitted,
        _ => return None,
    })
}

/// The output line of a request.
pub fn request_line(r: TcpRequest) -> Value {
    match r {
        TcpRequest::Connect {
            conn,
            host,
            port,
            tls,
        } => table! {
            "out" => "tcp_connect", "conn" => conn.0, "host" => host, "port" => port,
            "tls" => tls
        },
        TcpRequest::Send { conn, data } => {
            table! {"out" => "tcp_send", "conn" => conn.0, "data" => Value::from(data)}
        }
        TcpRequest::Close { conn } => table! {"out" => "tcp_close", "conn" => conn.0},
        TcpRequest::Listen {
            listener,
            address,
            port,
        } => table! {
            "out" => "tcp_listen", "listener" => listener.0, "address" => address,
            "port" => port
        },
        TcpRequest::Unlisten { listener } => {
            table! {"out" => "tcp_unlisten", "listener" => listener.0}
        }
    }
}

/// The answer line of a `tcp_accept` input: the connection id the stack chose, or a refusal
/// (the host closes the socket).
pub fn accepted_line(listener: ListenerId, conn: Option<TcpId>) -> Value {
    match conn {
        Some(c) => table! {"out" => "tcp_accepted", "listener" => listener.0, "conn" => c.0},
        None => table! {"out" => "tcp_rejected", "listener" => listener.0},
    }
}

/// A `tcp_*` input line, decoded.
#[derive(Debug, PartialEq)]
pub enum TcpInput {
    /// An event on a connection.
    Event(TcpId, TcpEvent),
    /// A connection accepted on a listener from `peer`.
    Accept {
        /// The listener.
        listener: ListenerId,
        /// The peer's address as text.
        peer: String,
    },
    /// The host could not carry out the listen request of `listener`.
    ListenFailed {
        /// The listener.
        listener: ListenerId,
        /// The host's reason.
        error: String,
    },
}

fn id_field(v: &Value, field: &'static str) -> Result<u64, String> {
    let n = v.field_num(field).map_err(|e| e.to_string())?;
    if n.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&n) {
        Ok(n as u64)
    } else {
        Err(format!("bad field '{field}' (expected an id)"))
    }
}

/// Decodes the `tcp_*` input `op` of line `v`; `None` if `op` is not one of them.
pub fn parse_input(op: &str, v: &Value) -> Option<Result<TcpInput, String>> {
    let conn = || id_field(v, "conn").map(TcpId);
    let r = match op {
        "tcp_connected" => conn().map(|c| TcpInput::Event(c, TcpEvent::Connected)),
        "tcp_closed" => conn().map(|c| TcpInput::Event(c, TcpEvent::Closed)),
        "tcp_data" => conn().and_then(|c| match v.get("data") {
            Value::Str(s) => Ok(TcpInput::Event(c, TcpEvent::Data(s.as_bytes().to_vec()))),
            other => Err(format!(
                "bad field 'data' (expected a string, got {})",
                other.kind()
            )),
        }),
        "tcp_failed" => conn().and_then(|c| {
            let kind = v
                .field_str("kind")
                .map_err(|e| e.to_string())?
                .to_string_lossy();
            let f = parse_failure_kind(&kind)
                .ok_or_else(|| format!("bad field 'kind' (unknown failure '{kind}')"))?;
            Ok(TcpInput::Event(c, TcpEvent::Failed(f)))
        }),
        "tcp_accept" => id_field(v, "listener").and_then(|l| {
            let peer = v
                .field_str("peer")
                .map_err(|e| e.to_string())?
                .to_string_lossy();
            Ok(TcpInput::Accept {
                listener: ListenerId(l),
                peer,
            })
        }),
        "tcp_listen_failed" => id_field(v, "listener").and_then(|l| {
            let error = v
                .field_str("error")
                .map_err(|e| e.to_string())?
                .to_string_lossy();
            Ok(TcpInput::ListenFailed {
                listener: ListenerId(l),
                error,
            })
        }),
        _ => return None,
    };
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_kind_round_trips() {
        for f in [
            ConnectFailure::CouldNotConnect,
            ConnectFailure::Tls,
            ConnectFailure::UnknownHost,
            ConnectFailure::NotPermitted,
        ] {
            assert_eq!(parse_failure_kind(failure_kind(f)), Some(f));
        }
        assert_eq!(parse_failure_kind("Could not connect"), None);
    }

    /// docs/stdio-host.md: `tcp_send` data is a string in modem-value's JSON mapping, so bytes
    /// that are not UTF-8 travel as `$bytes`.
    #[test]
    fn send_carries_binary_data_losslessly() {
        let line = request_line(TcpRequest::Send {
            conn: TcpId(3),
            data: vec![0xff, 0, b'a'],
        })
        .to_json();
        assert!(line.contains("\"$bytes\""), "{line}");
        let back = Value::from_json(&line).unwrap();
        let input = parse_input("tcp_data", &back).unwrap().unwrap();
        assert_eq!(
            input,
            TcpInput::Event(TcpId(3), TcpEvent::Data(vec![0xff, 0, b'a']))
        );
    }

    #[test]
    fn malformed_inputs_are_errors() {
        let v = Value::from_json(r#"{"conn":-1}"#).unwrap();
        assert!(parse_input("tcp_connected", &v).unwrap().is_err());
        let v = Value::from_json(r#"{"conn":1,"kind":"boom"}"#).unwrap();
        assert!(parse_input("tcp_failed", &v).unwrap().is_err());
        let v = Value::from_json(r#"{"conn":1,"data":5}"#).unwrap();
        assert!(parse_input("tcp_data", &v).unwrap().is_err());
        assert!(parse_input("syscall", &v).is_none());
        let v = Value::from_json(r#"{"listener":1}"#).unwrap();
        assert!(parse_input("tcp_listen_failed", &v).unwrap().is_err());
        let v = Value::from_json(r#"{"listener":1,"error":"Address already in use"}"#).unwrap();
        assert_eq!(
            parse_input("tcp_listen_failed", &v).unwrap(),
            Ok(TcpInput::ListenFailed {
                listener: ListenerId(1),
                error: "Address already in use".into()
            })
        );
    }
}
