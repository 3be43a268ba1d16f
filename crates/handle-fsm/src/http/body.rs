//! Message-body framing shared by the client (responses) and the server (requests):
//! Content-Length, chunked with trailers, close-delimited; plus gzip/deflate decoding.

use std::io::Write;

use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};

use crate::limits::{MAX_CHUNK_LINE, MAX_HEAD};

/// Why a body could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// A compressed body that does not decode, or a body cut short.
    #[error("malformed body")]
    Malformed,
    /// A chunk-size line that is not `1*HEXDIG *chunk-ext CRLF` (or overflows), or chunk data
    /// not followed by CRLF (RFC 9112 §7.1).
    #[error("malformed chunk")]
    Chunk,
    /// A trailer line that is not a valid field line (RFC 9112 §7.1.2, §5).
    #[error("malformed trailer field")]
    Trailer,
    /// More bytes than the limit allows.
    #[error("body too large")]
    TooLarge,
}

/// How the end of a body is found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the peer closes.
    Close,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Chunk {
    Size,
    Data(u64),
    DataEnd,
    Trailers,
}

/// Incremental body reader: feed raw bytes, it appends the payload to a `Vec` and reports
/// where the body ends.
#[derive(Debug)]
pub struct BodyReader {
    framing: Framing,
    chunk: Chunk,
    line: Vec<u8>,
    trailer_bytes: usize,
    /// Raw trailer section (header lines), for the caller to parse.
    pub trailers: Vec<(String, Vec<u8>)>,
    done: bool,
    limit: usize,
    received: usize,
}

impl BodyReader {
    /// A reader for `framing`, failing with [`BodyError::TooLarge`] past `limit` payload bytes.
    pub fn new(framing: Framing, limit: usize) -> Self {
        BodyReader {
            framing,
            chunk: Chunk::Size,
            line: Vec::new(),
            trailer_bytes: 0,
            trailers: Vec::new(),
            done: matches!(framing, Framing::Empty | Framing::Length(0)),
            limit,
            received: 0,
        }
    }

    /// Whether the body is complete.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Consumes from `data` (stopping at the end of the body) and appends payload to `out`.
    /// Returns the number of bytes of `data` consumed.
    pub fn feed(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<usize, BodyError> {
        let mut i = 0;
        while i < data.len() && !self.done {
            match self.framing {
                Framing::Empty => self.done = true,
                Framing::Close => {
                    self.payload(&data[i..], out)?;
                    i = data.len();
                }
                Framing::Length(rem) => {
                    let n = usize::try_from(rem)
                        .unwrap_or(usize::MAX)
                        .min(data.len() - i);
                    self.payload(&data[i..i + n], out)?;
                    i += n;
                    let left = rem - n as u64;
                    self.framing = Framing::Length(left);
                    self.done = left == 0;
                }
                Framing::Chunked => i += self.chunked(&data[i..], out)?,
            }
        }
        Ok(i)
    }

    /// The peer closed: fine for a close-delimited body, an error for an unfinished one.
    pub fn finish_eof(&mut self) -> Result<(), BodyError> {
        if self.framing == Framing::Close {
            self.done = true;
        }
        if self.done {
            Ok(())
        } else {
            Err(BodyError::Malformed)
        }
    }

    fn payload(&mut self, d: &[u8], out: &mut Vec<u8>) -> Result<(), BodyError> {
        self.received = self.received.saturating_add(d.len());
        if self.received > self.limit {
            return Err(BodyError::TooLarge);
        }
        out.extend_from_slice(d);
        Ok(())
    }

    /// One step of the chunked state machine; returns bytes consumed (at least one).
    fn chunked(&mut self, d: &[u8], out: &mut Vec<u8>) -> Result<usize, BodyError> {
        match self.chunk {
            Chunk::Data(rem) => {
                let n = usize::try_from(rem).unwrap_or(usize::MAX).min(d.len());
                self.payload(&d[..n], out)?;
                let left = rem - n as u64;
                self.chunk = if left == 0 {
                    Chunk::DataEnd
                } else {
                    Chunk::Data(left)
                };
                Ok(n)
            }
            Chunk::Size | Chunk::DataEnd | Chunk::Trailers => {
                let (consumed, complete) = match d.iter().position(|&c| c == b'\n') {
                    Some(p) => (p + 1, true),
                    None => (d.len(), false),
                };
                let trailers = self.chunk == Chunk::Trailers;
                let cap = if trailers { MAX_HEAD } else { MAX_CHUNK_LINE };
                if self.line.len() + consumed > cap {
                    return Err(if trailers {
                        BodyError::TooLarge
                    } else {
                        BodyError::Chunk
                    });
                }
                self.line.extend_from_slice(&d[..consumed]);
                if complete {
                    // Reuse the line buffer's allocation from line to line.
                    let mut line = std::mem::take(&mut self.line);
                    let r = match line.strip_suffix(b"\r\n") {
                        // A CR anywhere else is never part of a valid line.
                        Some(l) if !l.contains(&b'\r') => self.end_of_line(l),
                        _ if trailers => Err(BodyError::Trailer),
                        _ => Err(BodyError::Chunk),
                    };
                    line.clear();
                    self.line = line;
                    r?;
                }
                Ok(consumed)
            }
        }
    }

    fn end_of_line(&mut self, line: &[u8]) -> Result<(), BodyError> {
        match self.chunk {
            Chunk::Size => {
                let size = parse_chunk_size(line)?;
                self.chunk = if size == 0 {
                    Chunk::Trailers
                } else {
                    Chunk::Data(size)
                };
            }
            Chunk::DataEnd => {
                if !line.is_empty() {
                    return Err(BodyError::Chunk);
                }
                self.chunk = Chunk::Size;
            }
            Chunk::Trailers => {
                if line.is_empty() {
                    self.done = true;
                    return Ok(());
                }
                self.trailer_bytes += line.len() + 2;
                if self.trailer_bytes > MAX_HEAD {
                    return Err(BodyError::TooLarge);
                }
                if self.trailers.len() >= crate::limits::MAX_HEADERS {
                    return Err(BodyError::TooLarge);
                }
                let (name, value) = parse_field_line(line).ok_or(BodyError::Trailer)?;
                self.trailers.push((name.to_string(), value.to_vec()));
            }
            Chunk::Data(_) => {}
        }
        Ok(())
    }
}

/// A field line without its CRLF, by the rules `httparse` applies to a head: a token name
/// directly followed by `:`, a value of visible characters, obs-text, SP and HTAB, surrounding
/// whitespace dropped; a line starting with whitespace (obs-fold) is refused (RFC 9112 §5).
pub fn parse_field_line(line: &[u8]) -> Option<(&str, &[u8])> {
    let colon = line.iter().position(|&c| c == b':')?;
    let name = &line[..colon];
    let tchar = |c: &u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.iter().all(tchar) {
        return None;
    }
    let value = &line[colon + 1..];
    if !value
        .iter()
        .all(|&c| c == b'\t' || (0x20..=0x7e).contains(&c) || c >= 0x80)
    {
        return None;
    }
    let ows = |c: &u8| *c == b' ' || *c == b'\t';
    let start = value.iter().position(|c| !ows(c)).unwrap_or(value.len());
    let end = value.iter().rposition(|c| !ows(c)).map_or(start, |e| e + 1);
    Some((std::str::from_utf8(name).ok()?, &value[start..end]))
}

/// `chunk-size *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )` (RFC 9112 §7.1, §7.1.1):
/// hex digits with an overflow check, then extensions that are checked but not kept.
pub fn parse_chunk_size(line: &[u8]) -> Result<u64, BodyError> {
    let digits = line.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(BodyError::Chunk);
    }
    let mut n: u64 = 0;
    for &c in &line[..digits] {
        let d = (c as char).to_digit(16).ok_or(BodyError::Chunk)?;
        n = n
            .checked_mul(16)
            .map(|m| m | u64::from(d))
            .ok_or(BodyError::Chunk)?;
    }
    let bws = |s: &[u8]| -> usize { s.iter().take_while(|&&c| c == b' ' || c == b'\t').count() };
    let mut rest = &line[digits..];
    while !rest.is_empty() {
        rest = &rest[bws(rest)..];
        rest = rest.strip_prefix(b";").ok_or(BodyError::Chunk)?;
        rest = &rest[bws(rest)..];
        let name = rest
            .iter()
            .take_while(|&&c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
            .count();
        if name == 0 {
            return Err(BodyError::Chunk);
        }
        rest = &rest[name..];
        let ws = bws(rest);
        if rest.get(ws) == Some(&b'=') {
            rest = &rest[ws + 1..];
            rest = &rest[bws(rest)..];
            let v = super::head::value_len(rest).ok_or(BodyError::Chunk)?;
            rest = &rest[v..];
        } else if ws == rest.len() {
            // Trailing whitespace after an extension name is BWS before nothing: refused.
            if ws > 0 {
                return Err(BodyError::Chunk);
            }
        }
    }
    Ok(n)
}

/// A `Write` into a `Vec` that refuses to grow past a limit (guards against compression
/// bombs).
#[derive(Debug)]
pub struct LimitedVec {
    /// The bytes written so far.
    pub buf: Vec<u8>,
    limit: usize,
    /// Set when a write was refused.
    pub overflowed: bool,
}

impl Write for LimitedVec {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.buf.len().saturating_add(b.len()) > self.limit {
            self.overflowed = true;
            return Err(std::io::Error::other("too large"));
        }
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `Content-Encoding` decoding: gzip, deflate (zlib-wrapped or raw, detected as browsers do)
/// or identity (any unknown coding passes through unchanged).
#[derive(Debug)]
pub enum ContentDecoder {
    /// No decoding.
    Identity,
    /// gzip / x-gzip.
    Gzip(Box<GzDecoder<LimitedVec>>),
    /// deflate, before its first two bytes are known.
    DeflatePending(Vec<u8>),
    /// deflate with a zlib header.
    Zlib(Box<ZlibDecoder<LimitedVec>>),
    /// deflate without one.
    Raw(Box<DeflateDecoder<LimitedVec>>),
}

impl ContentDecoder {
    /// The decoder for a `Content-Encoding` value.
    pub fn for_coding(coding: &[u8], limit: usize) -> Self {
        let lv = LimitedVec {
            buf: Vec::new(),
            limit,
            overflowed: false,
        };
        let c = coding.trim_ascii();
        if c.eq_ignore_ascii_case(b"gzip") || c.eq_ignore_ascii_case(b"x-gzip") {
            ContentDecoder::Gzip(Box::new(GzDecoder::new(lv)))
        } else if c.eq_ignore_ascii_case(b"deflate") {
            ContentDecoder::DeflatePending(Vec::new())
        } else {
            ContentDecoder::Identity
        }
    }

    /// Whether this decodes anything.
    pub fn is_identity(&self) -> bool {
        matches!(self, ContentDecoder::Identity)
    }

    /// Feeds compressed bytes.
    pub fn write(&mut self, d: &[u8], limit: usize) -> Result<(), BodyError> {
        if let ContentDecoder::DeflatePending(p) = self {
            p.extend_from_slice(d);
            if p.len() < 2 {
                return Ok(());
            }
            let pending = std::mem::take(p);
            let lv = LimitedVec {
                buf: Vec::new(),
                limit,
                overflowed: false,
            };
            // A zlib header: CM = 8 and the 16-bit header is a multiple of 31.
            let zlib = pending[0] & 0x0f == 8
                && (u16::from(pending[0]) << 8 | u16::from(pending[1])) % 31 == 0;
            *self = if zlib {
                ContentDecoder::Zlib(Box::new(ZlibDecoder::new(lv)))
            } else {
                ContentDecoder::Raw(Box::new(DeflateDecoder::new(lv)))
            };
            return self.write(&pending, limit);
        }
        let r = match self {
            ContentDecoder::Identity | ContentDecoder::DeflatePending(_) => return Ok(()),
            ContentDecoder::Gzip(g) => g.write_all(d).map_err(|_| g.get_ref().overflowed),
            ContentDecoder::Zlib(z) => z.write_all(d).map_err(|_| z.get_ref().overflowed),
            ContentDecoder::Raw(z) => z.write_all(d).map_err(|_| z.get_ref().overflowed),
        };
        r.map_err(|over| {
            if over {
                BodyError::TooLarge
            } else {
                BodyError::Malformed
            }
        })
    }

    /// Ends the stream and returns the decoded bytes (`None` for identity).
    pub fn finish(self, limit: usize) -> Result<Option<Vec<u8>>, BodyError> {
        let map = |over: bool| {
            if over {
                BodyError::TooLarge
            } else {
                BodyError::Malformed
            }
        };
        match self {
            ContentDecoder::Identity => Ok(None),
            ContentDecoder::DeflatePending(p) if p.is_empty() => Ok(Some(Vec::new())),
            ContentDecoder::DeflatePending(p) => {
                // One byte cannot be a deflate stream.
                let _ = (p, limit);
                Err(BodyError::Malformed)
            }
            ContentDecoder::Gzip(mut g) => {
                g.try_finish().map_err(|_| map(g.get_ref().overflowed))?;
                g.finish()
                    .map(|lv| Some(lv.buf))
                    .map_err(|_| BodyError::Malformed)
            }
            ContentDecoder::Zlib(mut z) => {
                z.try_finish().map_err(|_| map(z.get_ref().overflowed))?;
                z.finish()
                    .map(|lv| Some(lv.buf))
                    .map_err(|_| BodyError::Malformed)
            }
            ContentDecoder::Raw(mut z) => {
                z.try_finish().map_err(|_| map(z.get_ref().overflowed))?;
                z.finish()
                    .map(|lv| Some(lv.buf))
                    .map_err(|_| BodyError::Malformed)
            }
        }
    }
}
