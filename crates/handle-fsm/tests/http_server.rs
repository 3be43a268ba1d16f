//! The HTTP/1.1 server connection: parsing (pipelining, bodies, keep-alive), the request
//! handle, response bytes, auto-send, idle expiry, and malformed input.

use handle_fsm::http::{HttpServerConnection, RequestId, ServerEvent};
use handle_fsm::{HandleError, NetOutput, Status};
use modem_value::{Instant, Value};

fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}
fn s(x: &str) -> Value {
    Value::from(x)
}

fn outs(c: &mut HttpServerConnection) -> Vec<NetOutput> {
    std::iter::from_fn(|| c.poll_output()).collect()
}
fn sent(c: &mut HttpServerConnection) -> (String, bool) {
    let mut text = String::new();
    let mut closed = false;
    for o in outs(c) {
        match o {
            NetOutput::Send(b) => text.push_str(&String::from_utf8_lossy(&b)),
            NetOutput::Close => closed = true,
            NetOutput::Connect { .. } => panic!("server never connects"),
        }
    }
    (text, closed)
}
fn events(c: &mut HttpServerConnection) -> Vec<ServerEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

#[test]
fn simple_get_and_response() {
    let mut c = HttpServerConnection::new(t(0));
    c.handle_bytes(
        t(1),
        b"GET /hello?x=1 HTTP/1.1\r\nHost: a\r\nX-Y: z\r\n\r\n",
    );
    assert_eq!(events(&mut c), vec![ServerEvent::Request(RequestId(0))]);
    let r = c.request_mut(RequestId(0)).unwrap();
    assert_eq!(
        (r.method(), r.path(), r.status()),
        ("GET", "/hello?x=1", Status::Open)
    );
    assert_eq!(r.request_headers().get("X-Y"), &s("z"));
    assert_eq!(r.read(&[s("a")]).unwrap(), vec![Value::Nil]);
    r.set_response_code(201, None).unwrap();
    r.set_response_header("X-Out", b"1").unwrap();
    r.set_response_header("Content-Length", b"999").unwrap();
    r.write(&[s("hi "), Value::from(5)]).unwrap();
    assert_eq!(sent(&mut c), (String::new(), false), "nothing until close");
    let r = c.request_mut(RequestId(0)).unwrap();
    r.close().unwrap();
    assert_eq!(r.status(), Status::Closed);
    assert_eq!(
        r.write(&[s("x")]).unwrap_err(),
        HandleError::Write(Status::Closed)
    );
    assert_eq!(r.read(&[]).unwrap_err(), HandleError::Read(Status::Closed));
    assert_eq!(
        r.close().unwrap_err().to_string(),
        "attempt to close a closed handle"
    );
    assert_eq!(
        sent(&mut c),
        (
            "HTTP/1.1 201 Created\r\nX-Out: 1\r\nContent-Length: 4\r\n\r\nhi 5".into(),
            false
        )
    );
    assert!(c.request(RequestId(0)).is_none());
}

#[test]
fn bodies_content_length_and_chunked_read_as_streams() {
    let mut c = HttpServerConnection::new(t(0));
    let req = b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nline1\n12abcPUT /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n";
    // Byte at a time: same as all at once.
    for b in req {
        c.handle_bytes(t(0), std::slice::from_ref(b));
    }
    assert_eq!(
        events(&mut c),
        vec![
            ServerEvent::Request(RequestId(0)),
            ServerEvent::Request(RequestId(1))
        ]
    );
    let r = c.request_mut(RequestId(0)).unwrap();
    assert_eq!(
        r.read(&[s("l"), s("n"), s("a")]).unwrap(),
        vec![s("line1"), Value::from(12), s("abc")]
    );
    let r = c.request_mut(RequestId(1)).unwrap();
    assert_eq!(r.method(), "PUT");
    assert_eq!(r.read(&[s("a")]).unwrap(), vec![s("xyz")]);
}

#[test]
fn pipelined_responses_go_out_in_order() {
    let mut c = HttpServerConnection::new(t(0));
    c.handle_bytes(t(0), b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /4 HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(
        events(&mut c).len(),
        3,
        "nothing is parsed after Connection: close"
    );
    c.request_mut(RequestId(1))
        .unwrap()
        .write(&[s("two")])
        .unwrap();
    c.request_mut(RequestId(1)).unwrap().close().unwrap();
    assert_eq!(sent(&mut c).0, "", "response 2 waits for response 1");
    c.request_mut(RequestId(0)).unwrap().close().unwrap();
    let (text, closed) = sent(&mut c);
    assert_eq!(text, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\ntwo");
    assert!(!closed);
    c.request_mut(RequestId(2)).unwrap().close().unwrap();
    let (text, closed) = sent(&mut c);
    assert!(text.ends_with("Connection: close\r\n\r\n"));
    assert!(closed);
}

#[test]
fn pipeline_is_bounded_and_resumes() {
    let mut c = HttpServerConnection::new(t(0));
    let many = "GET / HTTP/1.1\r\nHost: h\r\n\r\n".repeat(20);
    c.handle_bytes(t(0), many.as_bytes());
    assert_eq!(events(&mut c).len(), 16);
    for i in 0..16 {
        c.request_mut(RequestId(i)).unwrap().close().unwrap();
    }
    let _ = outs(&mut c);
    assert_eq!(
        events(&mut c).len(),
        4,
        "parsing resumes once responses are out"
    );
}

#[test]
fn head_and_http10() {
    let mut c = HttpServerConnection::new(t(0));
    c.handle_bytes(t(0), b"HEAD / HTTP/1.0\r\n\r\n");
    let r = c.request_mut(RequestId(0)).unwrap();
    r.write(&[s("body")]).unwrap();
    r.close().unwrap();
    assert_eq!(
        sent(&mut c),
        (
            "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\n".into(),
            true
        )
    );
}

#[test]
fn malformed_requests_get_400_after_due_responses() {
    let mut c = HttpServerConnection::new(t(0));
    c.handle_bytes(
        t(0),
        b"GET /ok HTTP/1.1\r\nHost: h\r\n\r\nthis is not http\r\n\r\n",
    );
    assert_eq!(events(&mut c), vec![ServerEvent::Request(RequestId(0))]);
    assert_eq!(sent(&mut c).0, "");
    c.request_mut(RequestId(0)).unwrap().close().unwrap();
    let (text, closed) = sent(&mut c);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
    assert!(text
        .ends_with("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
    assert!(closed);
    c.handle_bytes(t(0), b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert!(events(&mut c).is_empty(), "nothing after the close");
}

#[test]
fn limits_give_413_and_431() {
    for (req, code) in [
        (
            format!(
                "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: {}\r\n\r\n",
                5 * 1024 * 1024
            ),
            "413",
        ),
        (
            format!(
                "GET / HTTP/1.1\r\nHost: h\r\nX: {}\r\n\r\n",
                "a".repeat(70_000)
            ),
            "431",
        ),
        (
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n".to_string(),
            "400",
        ),
        (
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n".to_string(),
            "400",
        ),
        (
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_string(),
            "400",
        ),
    ] {
        let mut c = HttpServerConnection::new(t(0));
        c.handle_bytes(t(0), req.as_bytes());
        let (text, closed) = sent(&mut c);
        assert!(
            text.starts_with(&format!("HTTP/1.1 {code} ")),
            "{code}: {text}"
        );
        assert!(closed);
    }
}

#[test]
fn auto_send_after_15s() {
    let mut c = HttpServerConnection::new(t(0));
    c.handle_bytes(t(1000), b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    let _ = events(&mut c);
    c.request_mut(RequestId(0))
        .unwrap()
        .write(&[s("partial")])
        .unwrap();
    assert_eq!(c.poll_timeout(), Some(t(16_000)));
    c.handle_timeout(t(15_999));
    assert_eq!(sent(&mut c).0, "");
    c.handle_timeout(t(16_000));
    assert_eq!(
        events(&mut c),
        vec![ServerEvent::StatusChange(RequestId(0), Status::Closed)]
    );
    assert_eq!(
        sent(&mut c).0,
        "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\npartial"
    );
}

#[test]
fn idle_connections_expire() {
    let mut c = HttpServerConnection::new(t(0));
    assert_eq!(c.poll_timeout(), Some(t(30_000)));
    c.handle_timeout(t(30_000));
    assert_eq!(outs(&mut c), vec![NetOutput::Close]);
    assert!(c.is_closed());
}

#[test]
fn peer_close_flushes_then_closes() {
    let mut c = HttpServerConnection::new(t(0));
    c.handle_bytes(t(0), b"GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /partial HT");
    c.handle_peer_closed(t(0));
    assert_eq!(events(&mut c).len(), 1);
    assert_eq!(sent(&mut c), (String::new(), false));
    c.request_mut(RequestId(0)).unwrap().close().unwrap();
    let (text, closed) = sent(&mut c);
    assert!(text.starts_with("HTTP/1.1 200"));
    assert!(closed);
}

#[test]
fn bad_response_arguments() {
    let mut c = HttpServerConnection::new(t(0));
    c.handle_bytes(t(0), b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    let r = c.request_mut(RequestId(0)).unwrap();
    assert!(r.set_response_code(99, None).is_err());
    assert!(r.set_response_code(200, Some("a\r\nb")).is_err());
    assert!(r.set_response_header("Bad Name", b"x").is_err());
    assert!(r.set_response_header("X", b"a\nb").is_err());
    r.set_response_code(404, Some("Gone Fishing")).unwrap();
    r.close().unwrap();
    assert!(r.set_response_code(200, None).is_err());
    assert!(sent(&mut c).0.starts_with("HTTP/1.1 404 Gone Fishing\r\n"));
}

#[test]
fn expect_continue() {
    let mut c = HttpServerConnection::new(t(0));
    c.handle_bytes(
        t(0),
        b"PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
    );
    assert_eq!(sent(&mut c).0, "HTTP/1.1 100 Continue\r\n\r\n");
    c.handle_bytes(t(0), b"ok");
    assert_eq!(events(&mut c), vec![ServerEvent::Request(RequestId(0))]);
}

mod model {
    //! Proptest against a list of requests: pipelined and split anyhow, the server sees
    //! exactly those requests, in order, with their bodies.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn pipelined_requests_parse_as_sent(reqs in proptest::collection::vec(("[a-z]{1,8}", proptest::collection::vec(any::<u8>(), 0..300), any::<bool>()), 1..10),
                                            cuts in proptest::collection::vec(1usize..100, 1..20)) {
            let mut wire = Vec::new();
            for (path, body, chunked) in &reqs {
                if *chunked {
                    wire.extend_from_slice(format!("POST /{path} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n").as_bytes());
                    for c in body.chunks(37) {
                        wire.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                        wire.extend_from_slice(c);
                        wire.extend_from_slice(b"\r\n");
                    }
                    wire.extend_from_slice(b"0\r\n\r\n");
                } else {
                    wire.extend_from_slice(format!("PUT /{path} HTTP/1.1\r\nHost: h\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
                    wire.extend_from_slice(body);
                }
            }
            let mut c = HttpServerConnection::new(t(0));
            let mut at = 0;
            for n in cuts.iter().cycle() {
                if at >= wire.len() { break; }
                let end = (at + n).min(wire.len());
                c.handle_bytes(t(0), &wire[at..end]);
                at = end;
            }
            let evs = events(&mut c);
            prop_assert_eq!(evs.len(), reqs.len());
            for (i, (path, body, chunked)) in reqs.iter().enumerate() {
                let r = c.request_mut(RequestId(i as u64)).unwrap();
                prop_assert_eq!(r.path(), format!("/{path}"));
                prop_assert_eq!(r.method(), if *chunked { "POST" } else { "PUT" });
                let got = r.read(&[s("a")]).unwrap().remove(0);
                let got = got.as_str().map(|b| b.to_vec()).unwrap_or_default();
                prop_assert_eq!(&got, body);
            }
        }
    }
}
