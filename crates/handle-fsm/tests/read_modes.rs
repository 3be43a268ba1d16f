//! The read-mode engine (§2): each mode on each flavour, the failure rule, argument errors,
//! and a proptest of the stream flavour against a simple reference model.

use std::collections::VecDeque;

use handle_fsm::read::{read_queue, read_stream, HttpBody, Mode, ReadError};
use modem_value::{table, Kind, Value};
use proptest::prelude::*;

fn s(x: &str) -> Value {
    Value::from(x)
}
fn n(x: f64) -> Value {
    Value::Num(x)
}
fn buf(x: &str) -> VecDeque<u8> {
    x.bytes().collect()
}
fn rest(b: &VecDeque<u8>) -> String {
    String::from_utf8(b.iter().copied().collect()).unwrap()
}

#[test]
fn mode_parsing_accepts_star_and_long_names() {
    assert_eq!(Mode::parse(&s("*a")), Ok(Mode::All));
    assert_eq!(Mode::parse(&s("a")), Ok(Mode::All));
    assert_eq!(Mode::parse(&s("*line")), Ok(Mode::Line));
    assert_eq!(Mode::parse(&s("L")), Ok(Mode::LineWithEnd));
    assert_eq!(Mode::parse(&s("*n")), Ok(Mode::Number));
    assert_eq!(Mode::parse(&n(5.0)), Ok(Mode::Count(5)));
    assert_eq!(Mode::parse_all(&[]), Ok(vec![Mode::Line]));
}

#[test]
fn argument_errors_have_the_kernels_text() {
    let e = Mode::parse(&s("*x")).unwrap_err();
    assert_eq!(e.to_string(), "bad argument (invalid mode '*x')");
    assert_eq!(
        Mode::parse(&s("")).unwrap_err().to_string(),
        "bad argument (invalid mode '')"
    );
    assert_eq!(
        Mode::parse(&s("*")).unwrap_err().to_string(),
        "bad argument (invalid mode '*')"
    );
    assert_eq!(
        Mode::parse(&Value::Bool(true)).unwrap_err().to_string(),
        "bad argument (expected string or number, got boolean)"
    );
    assert_eq!(
        Mode::parse(&table! {}).unwrap_err(),
        ReadError::BadType(Kind::Table)
    );
    assert_eq!(
        Mode::parse(&Value::Nil).unwrap_err(),
        ReadError::BadType(Kind::Nil)
    );
    assert_eq!(
        Mode::parse(&n(-1.0)).unwrap_err().to_string(),
        "bad argument (invalid mode '-1')"
    );
    assert_eq!(
        Mode::parse(&n(1.5)).unwrap_err().to_string(),
        "bad argument (invalid mode '1.5')"
    );
    assert!(Mode::parse(&n(f64::NAN)).is_err());
}

#[test]
fn bad_argument_consumes_nothing() {
    let mut b = buf("abc\n");
    assert!(read_stream(&mut b, &[s("*l"), s("*q")]).is_err());
    assert_eq!(rest(&b), "abc\n");
}

#[test]
fn stream_all() {
    let mut b = buf("hello\nworld");
    assert_eq!(
        read_stream(&mut b, &[s("*a")]).unwrap(),
        vec![s("hello\nworld")]
    );
    assert!(b.is_empty());
    assert_eq!(read_stream(&mut b, &[s("*a")]).unwrap(), vec![Value::Nil]);
}

/// `*a` returns every buffered byte in order and empties the buffer, also for a buffer large
/// enough that its storage becomes the string, and when the ring has wrapped.
#[test]
fn stream_all_large_wrapped_buffer() {
    let len = 300 * 1024;
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let mut b: VecDeque<u8> = VecDeque::with_capacity(len + 16);
    // Move the head near the end of the storage (one byte kept, so it does not reset).
    let fill = b.capacity() - 500;
    b.extend(std::iter::repeat_n(0u8, fill));
    b.drain(..fill - 1);
    b.extend(&data);
    b.pop_front();
    assert!(
        !b.as_slices().1.is_empty(),
        "the ring must wrap for this test"
    );
    let got = read_stream(&mut b, &[s("*a")]).unwrap();
    assert_eq!(got[0].as_str().map(|x| x.as_bytes()), Some(&data[..]));
    assert!(b.is_empty());
    b.extend(b"next");
    assert_eq!(read_stream(&mut b, &[s("*a")]).unwrap(), vec![s("next")]);
}

#[test]
fn stream_lines() {
    let mut b = buf("one\ntwo\nthree");
    assert_eq!(read_stream(&mut b, &[]).unwrap(), vec![s("one")]);
    assert_eq!(read_stream(&mut b, &[s("*L")]).unwrap(), vec![s("two\n")]);
    // A partial line is returned whole.
    assert_eq!(read_stream(&mut b, &[s("l")]).unwrap(), vec![s("three")]);
    assert_eq!(read_stream(&mut b, &[s("l")]).unwrap(), vec![Value::Nil]);
    let mut b = buf("\n\n");
    assert_eq!(
        read_stream(&mut b, &[s("l"), s("L")]).unwrap(),
        vec![s(""), s("\n")]
    );
}

#[test]
fn stream_lines_across_the_ring_seam() {
    let mut b: VecDeque<u8> = VecDeque::with_capacity(8);
    b.extend(b"xxxxxx");
    b.drain(..6);
    b.extend(b"ab\ncdefg\n");
    assert_eq!(
        read_stream(&mut b, &[s("l"), s("l")]).unwrap(),
        vec![s("ab"), s("cdefg")]
    );
}

#[test]
fn stream_number() {
    let mut b = buf("abc 123def45");
    assert_eq!(read_stream(&mut b, &[s("*n")]).unwrap(), vec![n(123.0)]);
    assert_eq!(rest(&b), "def45");
    assert_eq!(read_stream(&mut b, &[s("n")]).unwrap(), vec![n(45.0)]);
    assert!(b.is_empty());
    // No digits: nil and the buffer is unchanged; sign and decimals are not recognised.
    let mut b = buf("-x.");
    assert_eq!(read_stream(&mut b, &[s("n")]).unwrap(), vec![Value::Nil]);
    assert_eq!(rest(&b), "-x.");
    let mut b = buf("-1.5");
    assert_eq!(
        read_stream(&mut b, &[s("n"), s("n")]).unwrap(),
        vec![n(1.0), n(5.0)]
    );
}

#[test]
fn stream_counts() {
    let mut b = buf("abcdef");
    assert_eq!(
        read_stream(&mut b, &[n(2.0), n(0.0), n(10.0)]).unwrap(),
        vec![s("ab"), s(""), s("cdef")]
    );
    assert_eq!(read_stream(&mut b, &[n(0.0)]).unwrap(), vec![Value::Nil]);
    let mut b = buf("xy");
    assert_eq!(read_stream(&mut b, &[n(1e300)]).unwrap(), vec![s("xy")]);
}

#[test]
fn failed_mode_nils_the_rest_without_consuming() {
    let mut b = buf("no digits\nmore");
    let r = read_stream(&mut b, &[s("l"), s("n"), s("l")]).unwrap();
    assert_eq!(r, vec![s("no digits"), Value::Nil, Value::Nil]);
    assert_eq!(rest(&b), "more");
    let mut e = VecDeque::new();
    assert_eq!(
        read_stream(&mut e, &[s("a"), s("l"), n(1.0)]).unwrap(),
        vec![Value::Nil; 3]
    );
}

#[test]
fn queue_all_pops_raw_values() {
    let t = table! { "x" => 1 };
    let mut q: VecDeque<Value> = vec![t.clone(), s("b")].into();
    assert_eq!(read_queue(&mut q, &[s("*a")]).unwrap(), vec![t]);
    assert_eq!(
        read_queue(&mut q, &[s("*a"), s("*a")]).unwrap(),
        vec![s("b"), Value::Nil]
    );
}

#[test]
fn queue_lines_remove_consumed_heads() {
    let mut q: VecDeque<Value> = vec![s("a\nb"), n(42.0), s("last\n")].into();
    assert_eq!(read_queue(&mut q, &[s("l")]).unwrap(), vec![s("a")]);
    assert_eq!(read_queue(&mut q, &[s("L")]).unwrap(), vec![s("b")]);
    // Numbers are tostring'd for non-*a modes.
    assert_eq!(read_queue(&mut q, &[s("l")]).unwrap(), vec![s("42")]);
    assert_eq!(read_queue(&mut q, &[s("L")]).unwrap(), vec![s("last\n")]);
    // The kernel's quirk (an empty head forever) is gone.
    assert!(q.is_empty());
    assert_eq!(read_queue(&mut q, &[s("l")]).unwrap(), vec![Value::Nil]);
}

#[test]
fn queue_number_skips_heads_without_digits() {
    let mut q: VecDeque<Value> = vec![s("none"), Value::Bool(true), s("x12y34")].into();
    assert_eq!(read_queue(&mut q, &[s("n")]).unwrap(), vec![n(12.0)]);
    assert_eq!(q.len(), 1);
    assert_eq!(q[0], s("y34"));
    assert_eq!(
        read_queue(&mut q, &[s("n"), s("n")]).unwrap(),
        vec![n(34.0), Value::Nil]
    );
    assert!(q.is_empty());
}

#[test]
fn queue_counts_span_heads() {
    let mut q: VecDeque<Value> = vec![s("abc"), s("de"), n(7.0)].into();
    assert_eq!(read_queue(&mut q, &[n(4.0)]).unwrap(), vec![s("abcd")]);
    assert_eq!(q[0], s("e"));
    assert_eq!(read_queue(&mut q, &[n(10.0)]).unwrap(), vec![s("e7")]);
    assert!(q.is_empty());
    assert_eq!(read_queue(&mut q, &[n(1.0)]).unwrap(), vec![Value::Nil]);
}

#[test]
fn http_body_all_is_empty_string_at_end() {
    let mut b = HttpBody::new(b"ab".to_vec());
    assert_eq!(b.read(&[s("a"), s("a")]).unwrap(), vec![s("ab"), s("")]);
    assert_eq!(b.read(&[s("l")]).unwrap(), vec![Value::Nil]);
    assert_eq!(b.read(&[n(3.0)]).unwrap(), vec![Value::Nil]);
}

#[test]
fn http_body_lines_strip_crlf_keep_lone_cr() {
    let mut b = HttpBody::new(b"a\r\nb\rc\nd\r\ne".to_vec());
    assert_eq!(b.read(&[s("l")]).unwrap(), vec![s("a")]);
    assert_eq!(b.read(&[s("l")]).unwrap(), vec![s("b\rc")]);
    assert_eq!(b.read(&[s("L")]).unwrap(), vec![s("d\r\n")]);
    assert_eq!(b.read(&[s("L"), s("L")]).unwrap(), vec![s("e"), Value::Nil]);
}

#[test]
fn http_body_number_consumes_up_to_digits() {
    let mut b = HttpBody::new(b"x12 y".to_vec());
    assert_eq!(b.read(&[s("n"), n(1.0)]).unwrap(), vec![n(12.0), s(" ")]);
    // No digit before the end: nil, and the non-digits are gone.
    assert_eq!(b.read(&[s("n")]).unwrap(), vec![Value::Nil]);
    assert_eq!(b.remaining(), b"");
    assert_eq!(b.read(&[n(2.0)]).unwrap(), vec![Value::Nil]);
}

/// Reference model of the stream flavour over a `Vec<u8>`.
fn model(b: &mut Vec<u8>, m: Mode) -> Option<Vec<u8>> {
    if b.is_empty() && m != Mode::Number {
        return None;
    }
    match m {
        Mode::All => Some(std::mem::take(b)),
        Mode::Line | Mode::LineWithEnd => {
            let end = b
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |i| i + 1);
            let mut l: Vec<u8> = b.drain(..end).collect();
            if m == Mode::Line && l.last() == Some(&b'\n') {
                l.pop();
            }
            Some(l)
        }
        Mode::Number => {
            let st = b.iter().position(u8::is_ascii_digit)?;
            let e = st + b[st..].iter().take_while(|c| c.is_ascii_digit()).count();
            let d = b[st..e].to_vec();
            b.drain(..e);
            Some(d)
        }
        Mode::Count(k) => {
            let k = k.min(b.len());
            Some(b.drain(..k).collect())
        }
    }
}

fn mode_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(s("*a")),
        Just(s("*l")),
        Just(s("L")),
        Just(s("n")),
        (0u32..8).prop_map(|k| n(f64::from(k))),
    ]
}

proptest! {
    #[test]
    fn stream_matches_model(data in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'7'), Just(b'a'), any::<u8>()], 0..40),
                            modes in proptest::collection::vec(mode_strategy(), 1..6)) {
        let mut real: VecDeque<u8> = data.iter().copied().collect();
        let mut reference = data.clone();
        let out = read_stream(&mut real, &modes).unwrap();
        let mut failed = false;
        for (v, m) in out.iter().zip(&modes) {
            let expect = if failed { None } else { model(&mut reference, Mode::parse(m).unwrap()) };
            match (expect, v) {
                (None, Value::Nil) => failed = true,
                (Some(d), Value::Num(x)) => prop_assert_eq!(std::str::from_utf8(&d).unwrap().parse::<f64>().unwrap(), *x),
                (Some(d), Value::Str(got)) => prop_assert_eq!(&d[..], got.as_bytes()),
                (e, g) => prop_assert!(false, "model {:?} got {:?}", e, g),
            }
        }
        prop_assert_eq!(real.iter().copied().collect::<Vec<_>>(), reference);
    }

    #[test]
    fn queue_count_concatenates_like_a_stream(msgs in proptest::collection::vec("[a-z\n]{0,6}", 0..6), k in 0usize..30) {
        let mut q: VecDeque<Value> = msgs.iter().map(|m| s(m)).collect();
        let all: String = msgs.concat();
        let out = read_queue(&mut q, &[n(k as f64)]).unwrap();
        if msgs.is_empty() {
            prop_assert_eq!(&out[0], &Value::Nil);
        } else {
            let take = k.min(all.len());
            prop_assert_eq!(&out[0], &s(&all[..take]));
            let left: String = q.iter().map(|v| v.to_lua_string().to_string_lossy()).collect();
            prop_assert_eq!(left, all[take..].to_string());
            prop_assert!(q.iter().all(|v| !v.to_lua_string().is_empty()) || msgs.iter().any(|m| m.is_empty()));
        }
    }
}
