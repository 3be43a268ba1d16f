//! Incremental HTTP/1.1 response parser: head (httparse), interim 1xx responses skipped, body
//! by Content-Length / chunked (+ trailers) / connection close, gzip/deflate decoded, limits.

use std::borrow::Cow;

use super::body::{BodyError, BodyReader, ContentDecoder, Framing};
use super::head::{
    blank_prefix, has_head_end, merge_headers, pairs, parse_response_head, reason_phrase,
    skip_leading_newlines, HeadError, Headers, ResponseHead, Transfer,
};
use crate::limits::{MAX_DOWNLOAD, MAX_INTERIM_RESPONSES};

/// Trailer fields never merged into the headers a program sees (RFC 9110 §6.5.1: fields that
/// frame, route or describe the content must not come from trailers).
const TRAILER_DENY: [&str; 8] = [
    "content-length",
    "transfer-encoding",
    "host",
    "content-encoding",
    "content-type",
    "content-range",
    "trailer",
    "connection",
];

/// A complete response. The head is kept as received; header lists are built when asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub code: u16,
    head: ResponseHead,
    /// `Content-Encoding` was decoded (and is left out of the headers).
    decoded: bool,
    /// Trailer fields, in wire order, as sent.
    pub trailers: Headers,
    /// The body, decoded.
    pub body: Vec<u8>,
}

impl Response {
    /// A response from its parts, for hosts whose own HTTP client produced it.
    pub fn new(code: u16, reason: &str, headers: &[(String, Vec<u8>)], body: Vec<u8>) -> Self {
        Response {
            code,
            head: ResponseHead::synthesize(code, reason, headers),
            decoded: false,
            trailers: Vec::new(),
            body,
        }
    }

    /// The reason phrase (the standard one if the server sent none).
    pub fn reason(&self) -> Cow<'_, str> {
        let r = self.head.reason();
        if r.is_empty() {
            Cow::Borrowed(reason_phrase(self.code))
        } else {
            r
        }
    }

    /// The head as received.
    pub fn head(&self) -> &ResponseHead {
        &self.head
    }

    /// Headers then (permitted) trailers, in wire order, as sent; `Content-Encoding` is left
    /// out once the body was decoded.
    pub fn raw_headers(&self) -> Headers {
        let decoded = self.decoded;
        self.head
            .fields()
            .filter(|(n, _)| !(decoded && n.eq_ignore_ascii_case("content-encoding")))
            .chain(
                pairs(&self.trailers)
                    .filter(|(n, _)| !TRAILER_DENY.iter().any(|d| n.eq_ignore_ascii_case(d))),
            )
            .map(|(n, v)| (n.to_string(), v.to_vec()))
            .collect()
    }

    /// The headers as the response handle shows them: repeated names joined with `,`,
    /// trailers merged, a present `Content-Length` rewritten to the decoded body length (and
    /// `Content-Encoding` removed once decoded, as Netty's decompressor does).
    pub fn merged_headers(&self) -> Headers {
        let raw = self.raw_headers();
        let mut h = merge_headers(pairs(&raw));
        for (n, v) in h.iter_mut() {
            if n.eq_ignore_ascii_case("content-length") {
                *v = self.body.len().to_string().into_bytes();
            }
        }
        h
    }
}

/// Why a response could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// Too many interim responses, or a body that does not decode.
    #[error("malformed response")]
    Malformed,
    /// A head that breaks a rule of RFC 9112 (never read past).
    #[error("malformed response head: {0}")]
    Head(HeadError),
    /// A chunked body that breaks a rule of RFC 9112 §7.
    #[error("malformed response body: {0}")]
    Body(BodyError),
    /// Past [`MAX_DOWNLOAD`] or the head limits.
    #[error("Response is too large")]
    TooLarge,
    /// The connection ended before the response did.
    #[error("connection closed before the response was complete")]
    Truncated,
}

impl From<HeadError> for ResponseError {
    fn from(e: HeadError) -> Self {
        match e {
            HeadError::TooLarge => ResponseError::TooLarge,
            e => ResponseError::Head(e),
        }
    }
}

impl From<BodyError> for ResponseError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge => ResponseError::TooLarge,
            BodyError::Malformed => ResponseError::Malformed,
            e => ResponseError::Body(e),
        }
    }
}

#[derive(Debug)]
enum State {
    Head,
    Body {
        head: ResponseHead,
        reader: BodyReader,
        decoder: ContentDecoder,
    },
    Done(Response),
    Taken,
}

/// Feed bytes with [`ResponseParser::feed`]; once [`ResponseParser::head`] is `Some` the head is
/// known (a client can decide on redirects without the body); once
/// [`ResponseParser::is_done`], take the response.
#[derive(Debug)]
pub struct ResponseParser {
    state: State,
    buf: Vec<u8>,
    head_request: bool,
    interim: u32,
    raw: Vec<u8>,
}

impl ResponseParser {
    /// A parser for the response to a request; `head_request` for `HEAD` (no body follows).
    pub fn new(head_request: bool) -> Self {
        ResponseParser {
            state: State::Head,
            buf: Vec::new(),
            head_request,
            interim: 0,
            raw: Vec::new(),
        }
    }

    /// The final head, once parsed.
    pub fn head(&self) -> Option<&ResponseHead> {
        match &self.state {
            State::Body { head, .. } => Some(head),
            _ => None,
        }
    }

    /// Status code and headers of the final response as soon as its head is parsed (also
    /// once it is done, until taken).
    pub fn status_and_headers(&self) -> Option<(u16, &ResponseHead)> {
        match &self.state {
            State::Body { head, .. } => Some((head.code, head)),
            State::Done(r) => Some((r.code, &r.head)),
            _ => None,
        }
    }

    /// Whether the whole response has been received.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    /// The response, once done (only once).
    pub fn take(&mut self) -> Option<Response> {
        match std::mem::replace(&mut self.state, State::Taken) {
            State::Done(r) => Some(r),
            other => {
                self.state = other;
                None
            }
        }
    }

    /// Feeds received bytes; bytes after the end of the response are ignored.
    pub fn feed(&mut self, mut data: &[u8]) -> Result<(), ResponseError> {
        while !data.is_empty() {
            match &mut self.state {
                State::Head if self.buf.is_empty() => {
                    // Fast path: a head that arrives whole is parsed where it lies.
                    let skip = blank_prefix(data)?;
                    let d = &data[skip..];
                    // No end-of-head search first: httparse says when the head is incomplete.
                    // An error before any end of head is only reported once one arrives, as
                    // when the head comes in pieces (the result must not depend on the split).
                    match parse_response_head(d) {
                        Ok(Some((head, n))) => {
                            data = &d[n..];
                            self.on_head(head)?;
                        }
                        Err(e) if has_head_end(d, 0) => return Err(e.into()),
                        Ok(None) | Err(_) => {
                            self.buf.extend_from_slice(d);
                            data = &[];
                            if self.buf.len() > crate::limits::MAX_HEAD {
                                return Err(ResponseError::TooLarge);
                            }
                        }
                    }
                }
                State::Head => {
                    let old = self.buf.len();
                    self.buf.extend_from_slice(data);
                    data = &[];
                    let old = old - skip_leading_newlines(&mut self.buf)?.min(old);
                    if !has_head_end(&self.buf, old) {
                        if self.buf.len() > crate::limits::MAX_HEAD {
                            return Err(ResponseError::TooLarge);
                        }
                        continue;
                    }
                    let Some((head, n)) = parse_response_head(&self.buf)? else {
                        continue;
                    };
                    let rest = self.buf.split_off(n);
                    self.buf.clear();
                    self.on_head(head)?;
                    if !rest.is_empty() {
                        return self.feed(&rest);
                    }
                }
                State::Body { reader, .. } => {
                    let n = reader.feed(data, &mut self.raw)?;
                    data = &data[n..];
                    if reader.is_done() {
                        self.complete()?;
                    }
                }
                State::Done(_) | State::Taken => return Ok(()),
            }
        }
        Ok(())
    }

    /// A complete head: skip an interim response, else start the body.
    fn on_head(&mut self, head: ResponseHead) -> Result<(), ResponseError> {
        if (100..200).contains(&head.code) && head.code != 101 {
            self.interim += 1;
            if self.interim > MAX_INTERIM_RESPONSES {
                return Err(ResponseError::Malformed);
            }
            // State stays Head: what follows is examined from scratch.
            return Ok(());
        }
        self.start_body(head)
    }

    /// The peer closed the connection.
    pub fn finish_eof(&mut self) -> Result<(), ResponseError> {
        match &mut self.state {
            State::Head => Err(ResponseError::Truncated),
            State::Body { reader, .. } => {
                reader.finish_eof().map_err(|_| ResponseError::Truncated)?;
                self.complete()
            }
            State::Done(_) | State::Taken => Ok(()),
        }
    }

    fn start_body(&mut self, head: ResponseHead) -> Result<(), ResponseError> {
        let framing = framing_for(&head, self.head_request)?;
        let decoder = match head.facts.content_encoding {
            true => ContentDecoder::for_coding(
                head.header("content-encoding").unwrap_or(b""),
                MAX_DOWNLOAD,
            ),
            false => ContentDecoder::Identity,
        };
        if matches!(framing, Framing::Empty | Framing::Length(0)) {
            // Nothing to read or decode: the response is complete with its head.
            self.state = State::Done(Response {
                code: head.code,
                head,
                decoded: !decoder.is_identity(),
                trailers: Vec::new(),
                body: Vec::new(),
            });
            return Ok(());
        }
        self.state = State::Body {
            head,
            reader: BodyReader::new(framing, MAX_DOWNLOAD),
            decoder,
        };
        Ok(())
    }

    fn complete(&mut self) -> Result<(), ResponseError> {
        let State::Body {
            head,
            reader,
            decoder,
        } = std::mem::replace(&mut self.state, State::Taken)
        else {
            return Ok(());
        };
        let raw = std::mem::take(&mut self.raw);
        let identity = decoder.is_identity();
        let body = if identity || raw.is_empty() {
            raw
        } else {
            let mut decoder = decoder;
            decoder.write(&raw, MAX_DOWNLOAD)?;
            decoder.finish(MAX_DOWNLOAD)?.unwrap_or_default()
        };
        self.state = State::Done(Response {
            code: head.code,
            head,
            decoded: !identity,
            trailers: reader.trailers,
            body,
        });
        Ok(())
    }
}

/// RFC 9112 §6.3 for responses: no body for HEAD/1xx/204/304; chunked if the final transfer
/// coding is chunked (other codings before it are not decoded: refused); until close if it is
/// not; else Content-Length; else until close. Both Transfer-Encoding and Content-Length were
/// refused when the head was parsed.
pub fn framing_for(head: &ResponseHead, head_request: bool) -> Result<Framing, ResponseError> {
    if head_request || (100..200).contains(&head.code) || head.code == 204 || head.code == 304 {
        return Ok(Framing::Empty);
    }
    match head.facts.transfer {
        Transfer::Chunked => return Ok(Framing::Chunked),
        Transfer::CodedChunked => {
            return Err(ResponseError::Head(HeadError::UnsupportedTransferCoding))
        }
        Transfer::NotChunked => return Ok(Framing::Close),
        Transfer::Absent => {}
    }
    match head.facts.content_length {
        Some(n) if n > MAX_DOWNLOAD as u64 => Err(ResponseError::TooLarge),
        Some(n) => Ok(Framing::Length(n)),
        None => Ok(Framing::Close),
    }
}
