//! Incremental HTTP/1.1 response parser: head (httparse), interim 1xx responses skipped, body
//! by Content-Length / chunked (+ trailers) / connection close, gzip/deflate decoded, limits.

use super::body::{BodyError, BodyReader, ContentDecoder, Framing};
use super::head::{
    has_head_end, header, header_all, merge_headers, parse_response_head, reason_phrase, HeadError,
    Headers, ResponseHead,
};
use crate::limits::{MAX_DOWNLOAD, MAX_INTERIM_RESPONSES};

/// A complete response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub code: u16,
    /// Reason phrase (the standard one if the server sent none).
    pub reason: String,
    /// Headers then trailers, in wire order, as sent.
    pub raw_headers: Headers,
    /// The body, decoded.
    pub body: Vec<u8>,
}

impl Response {
    /// The headers as the response handle shows them: repeated names joined with `,`,
    /// trailers merged, a present `Content-Length` rewritten to the decoded body length (and
    /// `Content-Encoding` removed once decoded, as Netty's decompressor does).
    pub fn merged_headers(&self) -> Headers {
        let mut h = merge_headers(&self.raw_headers);
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
    /// Not HTTP, bad framing, or a body that does not decode.
    #[error("malformed response")]
    Malformed,
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
            HeadError::Malformed => ResponseError::Malformed,
            HeadError::TooLarge => ResponseError::TooLarge,
        }
    }
}

impl From<BodyError> for ResponseError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::Malformed => ResponseError::Malformed,
            BodyError::TooLarge => ResponseError::TooLarge,
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
    pub fn status_and_headers(&self) -> Option<(u16, &Headers)> {
        match &self.state {
            State::Body { head, .. } => Some((head.code, &head.headers)),
            State::Done(r) => Some((r.code, &r.raw_headers)),
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
                    let skip = data
                        .iter()
                        .take_while(|&&c| c == b'\r' || c == b'\n')
                        .count();
                    let d = &data[skip..];
                    match has_head_end(d, 0)
                        .then(|| parse_response_head(d))
                        .transpose()?
                    {
                        Some(Some((head, n))) => {
                            data = &d[n..];
                            self.on_head(head)?;
                        }
                        _ => {
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
        let decoder = match header(&head.headers, "content-encoding") {
            Some(c) => ContentDecoder::for_coding(c, MAX_DOWNLOAD),
            None => ContentDecoder::Identity,
        };
        let reader = BodyReader::new(framing, MAX_DOWNLOAD);
        let done = reader.is_done();
        self.state = State::Body {
            head,
            reader,
            decoder,
        };
        if done {
            self.complete()?;
        }
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
        let mut raw_headers = head.headers;
        if !identity {
            raw_headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-encoding"));
        }
        raw_headers.extend(reader.trailers);
        let reason = if head.reason.is_empty() {
            reason_phrase(head.code).to_string()
        } else {
            head.reason
        };
        self.state = State::Done(Response {
            code: head.code,
            reason,
            raw_headers,
            body,
        });
        Ok(())
    }
}

/// RFC 9112 §6.3 for responses: no body for HEAD/1xx/204/304; chunked if the last transfer
/// coding is chunked; else Content-Length (all copies equal); else until close.
pub fn framing_for(head: &ResponseHead, head_request: bool) -> Result<Framing, ResponseError> {
    if head_request || (100..200).contains(&head.code) || head.code == 204 || head.code == 304 {
        return Ok(Framing::Empty);
    }
    if let Some(f) = transfer_framing(&head.headers)? {
        return Ok(f);
    }
    match content_length(&head.headers)? {
        Some(n) if n > MAX_DOWNLOAD as u64 => Err(ResponseError::TooLarge),
        Some(n) => Ok(Framing::Length(n)),
        None => Ok(Framing::Close),
    }
}

/// `Some(Chunked)` / `Some(Close)` from Transfer-Encoding, `None` without one.
pub(crate) fn transfer_framing(h: &Headers) -> Result<Option<Framing>, ResponseError> {
    let mut last: Option<Vec<u8>> = None;
    for v in header_all(h, "transfer-encoding") {
        for t in v.split(|&c| c == b',') {
            let t = t.trim_ascii();
            if !t.is_empty() {
                last = Some(t.to_ascii_lowercase());
            }
        }
    }
    Ok(match last {
        None => None,
        Some(t) if t == b"chunked" => Some(Framing::Chunked),
        Some(_) => Some(Framing::Close),
    })
}

/// The Content-Length, if any; differing or non-numeric copies are malformed.
pub(crate) fn content_length(h: &Headers) -> Result<Option<u64>, ResponseError> {
    let mut found: Option<u64> = None;
    for v in header_all(h, "content-length") {
        for part in v.split(|&c| c == b',') {
            let p = part.trim_ascii();
            if p.is_empty() || p.len() > 19 || !p.iter().all(u8::is_ascii_digit) {
                return Err(ResponseError::Malformed);
            }
            let n: u64 = std::str::from_utf8(p)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or(ResponseError::Malformed)?;
            if found.is_some_and(|f| f != n) {
                return Err(ResponseError::Malformed);
            }
            found = Some(n);
        }
    }
    Ok(found)
}
