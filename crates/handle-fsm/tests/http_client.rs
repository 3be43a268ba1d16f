//! HTTP/1.1 client at the byte level: request construction (§5.2), validation (§5.1),
//! response parsing (framing, chunked edge cases, trailers, gzip/deflate, split feeds),
//! redirects (H5), limits and timeouts.

use std::io::Write;

use handle_fsm::http::{
    ClientOutput, ConnectFailure, HttpClient, HttpOptions, Outcome, Response, ResponseParser,
};
use modem_value::{table, Duration, Instant, Value};

fn opts(url: &str) -> HttpOptions {
    HttpOptions::new(url)
}

fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn get_request_bytes_are_exact() {
    let req = opts("http://example.com/a/b?x=1&y#frag")
        .prepare(None)
        .unwrap();
    assert_eq!(
        text(&req.to_bytes()),
        "GET /a/b?x=1&y HTTP/1.1\r\nUser-Agent: computercraft/1.113.1\r\nAccept-Charset: UTF-8\r\n\
         Host: example.com\r\nConnection: close\r\n\r\n"
    );
}

#[test]
fn empty_path_is_slash_and_port_only_when_not_default() {
    let r = opts("http://example.com").prepare(None).unwrap();
    assert!(text(&r.to_bytes()).starts_with("GET / HTTP/1.1\r\n"));
    assert_eq!(r.host_header(), "example.com");
    let r = opts("http://example.com:80/").prepare(None).unwrap();
    assert_eq!(r.host_header(), "example.com");
    let r = opts("https://example.com:8443/").prepare(None).unwrap();
    assert_eq!(r.host_header(), "example.com:8443");
}

#[test]
fn post_with_body_gets_defaults_and_user_headers_win() {
    let mut o = opts("http://h/p");
    o.headers = vec![
        ("host".into(), b"evil".to_vec()),
        ("Connection".into(), b"keep-alive".to_vec()),
        ("X-A".into(), b"1".to_vec()),
        ("user-agent".into(), b"me".to_vec()),
    ];
    let r = o.prepare(Some(b"a=1".to_vec())).unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(
        text(&r.to_bytes()),
        "POST /p HTTP/1.1\r\nX-A: 1\r\nuser-agent: me\r\nAccept-Charset: UTF-8\r\nHost: h\r\n\
         Connection: close\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\n\
         Content-Length: 3\r\n\r\na=1"
    );
}

#[test]
fn validation_messages_are_cc_tweakeds() {
    let e = |o: HttpOptions| o.prepare(None).unwrap_err();
    assert_eq!(e(opts("example.com/x")), "Must specify http or https");
    assert_eq!(e(opts("ftp://example.com/")), "Invalid protocol 'ftp'");
    assert_eq!(e(opts("http://[::1")), "URL malformed");
    let mut o = opts("http://h/");
    o.method = Some("connect".into());
    assert_eq!(e(o.clone()), "Unsupported HTTP method");
    o.method = Some("patch".into());
    assert_eq!(o.prepare(None).unwrap().method, "PATCH");
    let mut o = opts("http://h/");
    o.timeout = Some(61.0);
    assert_eq!(e(o), "timeout out of range (between 0.0 and 60.0)");
    let mut o = opts("http://h/");
    o.headers = vec![("Bad Name".into(), b"x".to_vec())];
    assert!(e(o).starts_with("Invalid header name"));
    let big = vec![b'x'; 4 * 1024 * 1024];
    assert_eq!(
        opts("http://h/").prepare(Some(big)).unwrap_err(),
        "Request body is too large"
    );
}

#[test]
fn options_from_lua_table() {
    let v = table! {
        "url" => "http://h/x", "method" => "put", "redirect" => false, "encoding" => "utf8",
        "headers" => table! { "A" => "1", "B" => 2 },
    };
    let o = HttpOptions::from_value(&v).unwrap();
    assert_eq!(o.headers, vec![("A".to_string(), b"1".to_vec())]);
    assert!(!o.redirect);
    let r = o.prepare(None).unwrap();
    assert_eq!(r.method, "PUT");
    assert!(HttpOptions::from_value(&table! { "url" => 1 }).is_err());
    assert!(HttpOptions::from_value(&table! { "url" => "x", "encoding" => "latin1" }).is_err());
    assert_eq!(
        HttpOptions::from_value(&Value::from("http://q/"))
            .unwrap()
            .url,
        "http://q/"
    );
}

fn parse_all(data: &[u8], head: bool) -> Result<Response, String> {
    let mut p = ResponseParser::new(head);
    p.feed(data).map_err(|e| e.to_string())?;
    if !p.is_done() {
        p.finish_eof().map_err(|e| e.to_string())?;
    }
    p.take().ok_or_else(|| "not done".into())
}

fn parse_bytewise(data: &[u8], head: bool) -> Result<Response, String> {
    let mut p = ResponseParser::new(head);
    for b in data {
        p.feed(std::slice::from_ref(b)).map_err(|e| e.to_string())?;
    }
    if !p.is_done() {
        p.finish_eof().map_err(|e| e.to_string())?;
    }
    p.take().ok_or_else(|| "not done".into())
}

/// Every split point gives the same result as one feed and as byte-at-a-time.
fn same_everywhere(data: &[u8]) -> Result<Response, String> {
    let whole = parse_all(data, false);
    assert_eq!(parse_bytewise(data, false), whole);
    for cut in 0..=data.len() {
        let mut p = ResponseParser::new(false);
        let r = p
            .feed(&data[..cut])
            .and_then(|_| p.feed(&data[cut..]))
            .map_err(|e| e.to_string())
            .and_then(|_| {
                if !p.is_done() {
                    p.finish_eof().map_err(|e| e.to_string())?;
                }
                p.take().ok_or_else(|| "not done".to_string())
            });
        assert_eq!(r, whole, "split at {cut}");
    }
    whole
}

const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n\
5;ext=1\r\nhello\r\n0A\r\n, world!!!\r\n1 ; a = \"q\\\"\" ;b\r\n?\r\n0\r\nX-Trailer: t\r\nX-A: 2\r\n\r\n";

#[test]
fn chunked_with_extensions_and_trailers() {
    let r = same_everywhere(CHUNKED).unwrap();
    assert_eq!(r.code, 200);
    assert_eq!(r.reason(), "OK");
    assert_eq!(text(&r.body), "hello, world!!!?");
    let merged = r.merged_headers();
    assert!(merged.contains(&("X-A".into(), b"1,2".to_vec())));
    assert!(merged.contains(&("X-Trailer".into(), b"t".to_vec())));
}

#[test]
fn chunked_edge_cases() {
    let h = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let bad = |body: &str| parse_all(format!("{h}{body}").as_bytes(), false);
    assert!(bad("zz\r\n").is_err());
    assert!(
        bad("5\r\nhelloXX\r\n0\r\n\r\n").is_err(),
        "missing CRLF after data"
    );
    assert!(bad("fffffffffffffffff\r\n").is_err(), "size overflow");
    assert!(bad("5\r\nhel").is_err(), "truncated");
    assert_eq!(text(&bad("0\r\n\r\n").unwrap().body), "");
    // Bare LF line ends are refused (RFC 9112 §7.1).
    assert!(bad("3\nabc\n0\n\n").is_err());
    let long_ext = format!("1;{}\r\n", "e".repeat(5000));
    assert!(bad(&long_ext).is_err());
}

#[test]
fn content_length_and_close_delimited() {
    let r =
        same_everywhere(b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabcEXTRA").unwrap();
    assert_eq!((r.code, text(&r.body)), (404, "abc".into()));
    let r = same_everywhere(b"HTTP/1.0 200 OK\r\n\r\nuntil close").unwrap();
    assert_eq!(text(&r.body), "until close");
    assert!(parse_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", false).is_err());
    assert!(parse_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nab", false).is_err());
    assert!(parse_all(b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false).is_err());
    // RFC 9112 §6.3 lets a recipient refuse a list even of equal values: refused.
    assert!(parse_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab", false).is_err());
    // HEAD and 204/304 have no body whatever the headers say.
    let r = parse_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true).unwrap();
    assert_eq!(r.body, b"");
    let mut p = ResponseParser::new(false);
    p.feed(b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n")
        .unwrap();
    assert!(p.is_done());
}

#[test]
fn interim_responses_are_skipped_and_reason_defaults() {
    let r =
        same_everywhere(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 \r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    assert_eq!((r.code, &*r.reason()), (201, "Created"));
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    assert!(parse_all(b"SMTP ready\r\n\r\n", false).is_err());
    assert!(parse_all(b"", false).is_err());
    let huge = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(70_000));
    assert_eq!(
        parse_all(huge.as_bytes(), false).unwrap_err(),
        "Response is too large"
    );
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_and_deflate_are_decoded() {
    let body = b"the quick brown fox ".repeat(50);
    let gz = gzip(&body);
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        gz.len()
    )
    .into_bytes();
    resp.extend_from_slice(&gz);
    let r = same_everywhere(&resp).unwrap();
    assert_eq!(r.body, body);
    let m = r.merged_headers();
    assert!(m.contains(&("Content-Length".into(), body.len().to_string().into_bytes())));
    assert!(!m.iter().any(|(n, _)| n == "Content-Encoding"));
    // deflate, zlib-wrapped and raw.
    for zlib in [true, false] {
        let z = if zlib {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&body).unwrap();
            e.finish().unwrap()
        } else {
            let mut e =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(&body).unwrap();
            e.finish().unwrap()
        };
        let mut resp = b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n\r\n".to_vec();
        resp.extend_from_slice(&z);
        assert_eq!(parse_all(&resp, false).unwrap().body, body, "zlib={zlib}");
    }
    let mut resp = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
    resp.extend_from_slice(b"not gzip at all");
    assert!(parse_all(&resp, false).is_err());
}

#[test]
fn decompression_bomb_hits_the_download_limit() {
    let zeros = vec![0u8; 17 * 1024 * 1024];
    let gz = gzip(&zeros);
    let mut resp = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
    resp.extend_from_slice(&gz);
    assert_eq!(
        parse_all(&resp, false).unwrap_err(),
        "Response is too large"
    );
}

fn drain(c: &mut HttpClient) -> Vec<ClientOutput> {
    std::iter::from_fn(|| c.poll_output()).collect()
}

fn run(url: &str, replies: &[&[u8]]) -> (Vec<ClientOutput>, Outcome) {
    let mut c = HttpClient::new(t(0), opts(url).prepare(None).unwrap());
    let mut outs = drain(&mut c);
    for r in replies {
        c.handle_connected(t(1));
        outs.extend(drain(&mut c));
        c.handle_bytes(t(2), r);
        outs.extend(drain(&mut c));
        if let Some(o) = c.poll_outcome() {
            return (outs, o);
        }
    }
    c.handle_peer_closed(t(3));
    outs.extend(drain(&mut c));
    let o = c.poll_outcome().expect("outcome");
    (outs, o)
}

#[test]
fn client_success_and_failure_with_response() {
    let (outs, o) = run(
        "https://h:8443/x",
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"],
    );
    assert_eq!(
        outs[0],
        ClientOutput::Connect {
            host: "h".into(),
            port: 8443,
            tls: true
        }
    );
    assert!(matches!(&outs[1], ClientOutput::Send(b) if b.starts_with(b"GET /x HTTP/1.1\r\n")));
    assert_eq!(outs[2], ClientOutput::Close);
    assert!(matches!(o, Outcome::Success(r) if r.body == b"hi"));
    let (_, o) = run(
        "http://h/",
        &[b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n"],
    );
    assert!(
        matches!(o, Outcome::Failure { message, response: Some(r) } if message == "Oops" && r.code == 500)
    );
}

#[test]
fn redirects_follow_h5() {
    let (outs, o) = run(
        "http://a/start",
        &[
            b"HTTP/1.1 301 Moved\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n",
            b"HTTP/1.1 308 P\r\nLocation: http://b:81/x?q\r\nContent-Length: 5\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        ],
    );
    let connects: Vec<_> = outs
        .iter()
        .filter(|o| matches!(o, ClientOutput::Connect { .. }))
        .collect();
    assert_eq!(connects.len(), 3);
    assert_eq!(
        connects[2],
        &ClientOutput::Connect {
            host: "b".into(),
            port: 81,
            tls: false
        }
    );
    let sends: Vec<String> = outs
        .iter()
        .filter_map(|o| match o {
            ClientOutput::Send(b) => Some(text(b)),
            _ => None,
        })
        .collect();
    assert!(sends[1].starts_with("GET /next HTTP/1.1\r\n"));
    assert!(sends[2].starts_with("GET /x?q HTTP/1.1\r\n") && sends[2].contains("Host: b:81\r\n"));
    assert!(matches!(o, Outcome::Success(r) if r.code == 200));
    // 300 and 305 are not followed (H5); nor is a redirect without Location, or to itself.
    for head in [
        "HTTP/1.1 300 M\r\nLocation: /n\r\n",
        "HTTP/1.1 305 P\r\nLocation: /n\r\n",
        "HTTP/1.1 302 F\r\n",
        "HTTP/1.1 302 F\r\nLocation: http://a/start\r\n",
        "HTTP/1.1 302 F\r\nLocation: ftp://x/\r\n",
    ] {
        let resp = format!("{head}Content-Length: 0\r\n\r\n");
        let (_, o) = run("http://a/start", &[resp.as_bytes()]);
        assert!(
            matches!(o, Outcome::Success(r) if (300..400).contains(&r.code)),
            "{head}"
        );
    }
}

#[test]
fn redirect_303_switches_to_get_and_307_keeps_post() {
    for (code, method, body) in [(303, "GET", false), (307, "POST", true)] {
        let mut c = HttpClient::new(
            t(0),
            opts("http://a/").prepare(Some(b"data".to_vec())).unwrap(),
        );
        let _ = drain(&mut c);
        c.handle_connected(t(0));
        let _ = drain(&mut c);
        c.handle_bytes(
            t(0),
            format!("HTTP/1.1 {code} R\r\nLocation: /b\r\n\r\n").as_bytes(),
        );
        let _ = drain(&mut c);
        c.handle_connected(t(0));
        let send = drain(&mut c)
            .into_iter()
            .find_map(|o| match o {
                ClientOutput::Send(b) => Some(text(&b)),
                _ => None,
            })
            .unwrap();
        assert!(send.starts_with(&format!("{method} /b HTTP/1.1")), "{send}");
        assert_eq!(send.ends_with("\r\n\r\ndata"), body);
        assert_eq!(send.contains("Content-Length"), body);
    }
}

#[test]
fn redirect_hops_are_capped_at_16() {
    let mut c = HttpClient::new(t(0), opts("http://a/0").prepare(None).unwrap());
    let mut connects = 0;
    for i in 1..=20 {
        connects += drain(&mut c)
            .iter()
            .filter(|o| matches!(o, ClientOutput::Connect { .. }))
            .count();
        c.handle_connected(t(0));
        let _ = drain(&mut c);
        c.handle_bytes(
            t(0),
            format!("HTTP/1.1 302 F\r\nLocation: /{i}\r\nContent-Length: 0\r\n\r\n").as_bytes(),
        );
        if c.is_done() {
            break;
        }
    }
    let _ = drain(&mut c);
    assert_eq!(connects, 17);
    assert_eq!(c.hops(), 16);
    assert!(matches!(c.poll_outcome(), Some(Outcome::Success(r)) if r.code == 302));
}

#[test]
fn redirect_disabled() {
    let mut o = opts("http://a/");
    o.redirect = false;
    let mut c = HttpClient::new(t(0), o.prepare(None).unwrap());
    c.handle_connected(t(0));
    c.handle_bytes(
        t(0),
        b"HTTP/1.1 301 M\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n",
    );
    let _ = drain(&mut c);
    assert!(matches!(c.poll_outcome(), Some(Outcome::Success(r)) if r.code == 301));
}

#[test]
fn timeouts_on_the_injected_clock() {
    let mut c = HttpClient::new(t(1000), opts("http://a/").prepare(None).unwrap());
    assert_eq!(c.poll_timeout(), Some(t(31_000)));
    c.handle_timeout(t(30_999));
    assert!(!c.is_done());
    c.handle_connected(t(5000));
    assert_eq!(c.poll_timeout(), Some(t(35_000)));
    // Inactivity: each received byte re-arms it.
    c.handle_bytes(t(20_000), b"HTTP/1.1 200");
    assert_eq!(c.poll_timeout(), Some(t(50_000)));
    c.handle_timeout(t(50_000));
    let outs = drain(&mut c);
    assert_eq!(outs.last(), Some(&ClientOutput::Close));
    assert_eq!(c.poll_outcome(), Some(Outcome::error("Timed out")));
    assert_eq!(c.poll_timeout(), None);

    let mut o = opts("http://a/");
    o.timeout = Some(0.5);
    let c = HttpClient::new(t(0), o.prepare(None).unwrap());
    assert_eq!(c.poll_timeout(), Some(t(500)));
    o.timeout = Some(0.0);
    let c = HttpClient::new(t(0), o.prepare(None).unwrap());
    assert_eq!(c.poll_timeout(), None);
    let _ = Duration::ZERO;
}

#[test]
fn transport_failures_use_cc_strings() {
    for (f, m) in [
        (ConnectFailure::CouldNotConnect, "Could not connect"),
        (ConnectFailure::Tls, "Could not create a secure connection"),
        (ConnectFailure::UnknownHost, "Unknown host"),
        (ConnectFailure::NotPermitted, "Domain not permitted"),
    ] {
        let mut c = HttpClient::new(t(0), opts("http://a/").prepare(None).unwrap());
        let _ = drain(&mut c);
        c.handle_connect_failed(t(0), f);
        assert_eq!(c.poll_outcome(), Some(Outcome::error(m)));
    }
    let (_, o) = run(
        "http://a/",
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nshort"],
    );
    assert_eq!(o, Outcome::error("Could not connect"));
    let (_, o) = run(
        "http://a/",
        &[b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n"],
    );
    assert_eq!(o, Outcome::error("Response is too large"));
}

#[test]
fn download_limit_close_delimited() {
    let mut c = HttpClient::new(t(0), opts("http://a/").prepare(None).unwrap());
    c.handle_connected(t(0));
    c.handle_bytes(t(0), b"HTTP/1.1 200 OK\r\n\r\n");
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..17 {
        c.handle_bytes(t(0), &chunk);
    }
    let _ = drain(&mut c);
    assert_eq!(
        c.poll_outcome(),
        Some(Outcome::error("Response is too large"))
    );
}

#[test]
fn leading_blank_lines_are_skipped_whatever_the_split() {
    let r = same_everywhere(b"\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx").unwrap();
    assert_eq!(r.body, b"x");
    // Found by the http_response fuzz target: blank lines then garbage.
    assert!(same_everywhere(b"\n\n\r\n\r\n\r\xff\x01\x00<8\x86").is_err());
}

mod model {
    //! Proptests against the simplest model: the body that was framed is the body parsed,
    //! whatever the framing, chunk sizes and feed splits.
    use super::*;
    use proptest::prelude::*;

    fn frame(body: &[u8], mode: u8, chunk: usize) -> Vec<u8> {
        let mut r = b"HTTP/1.1 200 OK\r\nX: y\r\n".to_vec();
        match mode % 3 {
            0 => {
                r.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
                r.extend_from_slice(body);
            }
            1 => {
                r.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                for c in body.chunks(chunk.max(1)) {
                    r.extend_from_slice(format!("{:X};e=1\r\n", c.len()).as_bytes());
                    r.extend_from_slice(c);
                    r.extend_from_slice(b"\r\n");
                }
                r.extend_from_slice(b"0\r\nT: 1\r\n\r\n");
            }
            _ => {
                r.extend_from_slice(b"\r\n");
                r.extend_from_slice(body);
            }
        }
        r
    }

    proptest! {
        #[test]
        fn framed_body_round_trips(body in proptest::collection::vec(any::<u8>(), 0..2000), mode in 0u8..3,
                                   chunk in 1usize..300, cuts in proptest::collection::vec(1usize..200, 1..20)) {
            let wire = frame(&body, mode, chunk);
            let mut p = ResponseParser::new(false);
            let mut at = 0;
            for c in cuts.iter().cycle() {
                if at >= wire.len() { break; }
                let end = (at + c).min(wire.len());
                p.feed(&wire[at..end]).unwrap();
                at = end;
            }
            if !p.is_done() {
                p.finish_eof().unwrap();
            }
            let r = p.take().unwrap();
            prop_assert_eq!(r.body, body);
            prop_assert_eq!(r.code, 200);
        }
    }
}
