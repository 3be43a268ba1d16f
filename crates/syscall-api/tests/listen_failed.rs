//! A host that cannot carry out an HTTP/WebSocket `listen` reports it with
//! `NetworkStack::handle_tcp_listen_failed`: the owning process gets `listen_failed{uri, error}`,
//! the listen record is gone (no stale `unlisten`, no accepts), and `listen` works again.

use syscall_api::modem_value::{Instant, SplitMix64, Value};
use syscall_api::{Computer, ComputerConfig, Event, ListenerId, NetworkStack, Output, TcpRequest};

fn outputs(c: &mut Computer) -> Vec<Output> {
    std::iter::from_fn(|| c.poll_output()).collect()
}

fn listen(c: &mut Computer, pid: u32, uri: &str) -> ListenerId {
    c.syscall(Instant::ZERO, pid, false, "listen", &[Value::from(uri)])
        .unwrap();
    outputs(c)
        .into_iter()
        .find_map(|o| match o {
            Output::Tcp(TcpRequest::Listen { listener, .. }) => Some(listener),
            _ => None,
        })
        .expect("a Listen request")
}

fn computer() -> Computer {
    let mut c = Computer::new(ComputerConfig::new(1, &["/top"]), &mut SplitMix64::new(1));
    c.spawn_process(1, None);
    c.spawn_process(2, None);
    c
}

#[test]
fn listen_failure_raises_event_and_removes_the_record() {
    let now = Instant::ZERO;
    let uri = "http://127.0.0.1:8080/x";
    let mut c = computer();
    let first = listen(&mut c, 2, uri);
    // A second listen on the same port is refused while the record stands.
    assert!(c.syscall(now, 2, false, "listen", &[uri.into()]).is_err());
    let handles_before = c.handles_of(2).len();

    c.handle_tcp_listen_failed(now, first, "Address already in use");
    let out = outputs(&mut c);
    assert_eq!(
        out,
        vec![Output::Event {
            pid: 2,
            event: Event::ListenFailed {
                uri: uri.into(),
                error: "Address already in use".into(),
            },
        }],
        "only the event: the host holds no listener, so no Unlisten is asked for"
    );
    let (name, params) = Event::ListenFailed {
        uri: uri.into(),
        error: "e".into(),
    }
    .into_lua();
    assert_eq!(name, "listen_failed");
    assert_eq!(params.get("uri"), &Value::from(uri));
    assert_eq!(c.handles_of(2).len(), handles_before - 1);

    // The record is gone: accepts on it are refused, `unlisten` asks the host for nothing.
    assert_eq!(c.handle_tcp_accept(now, first, "192.0.2.7:4000"), None);
    c.syscall(now, 2, false, "unlisten", &[uri.into()]).unwrap();
    assert_eq!(outputs(&mut c), vec![]);

    // A repeated failure report for the same listener is ignored.
    c.handle_tcp_listen_failed(now, first, "Address already in use");
    assert_eq!(outputs(&mut c), vec![]);

    // `listen` works again, under a fresh listener id that accepts.
    let second = listen(&mut c, 2, uri);
    assert_ne!(second, first);
    assert!(c.handle_tcp_accept(now, second, "192.0.2.7:4000").is_some());
}

#[test]
fn listen_failure_for_unknown_listener_is_ignored() {
    let mut c = computer();
    let l = listen(&mut c, 1, "ws://0.0.0.0:9000");
    c.handle_tcp_listen_failed(Instant::ZERO, ListenerId(l.0 + 100), "x");
    assert_eq!(outputs(&mut c), vec![]);
    // The real listener is untouched.
    assert!(c
        .handle_tcp_accept(Instant::ZERO, l, "192.0.2.7:4000")
        .is_some());
}
