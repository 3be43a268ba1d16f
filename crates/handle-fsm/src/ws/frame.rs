//! RFC 6455 §5 frames: header parsing, masking, encoding.

/// A frame opcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opcode {
    /// 0x0: continuation of a fragmented message.
    Continuation,
    /// 0x1: text (UTF-8).
    Text,
    /// 0x2: binary.
    Binary,
    /// 0x8: close.
    Close,
    /// 0x9: ping.
    Ping,
    /// 0xA: pong.
    Pong,
}

impl Opcode {
    /// Decodes the 4-bit opcode; reserved values are `None`.
    pub const fn from_u8(b: u8) -> Option<Opcode> {
        Some(match b {
            0 => Opcode::Continuation,
            1 => Opcode::Text,
            2 => Opcode::Binary,
            8 => Opcode::Close,
            9 => Opcode::Ping,
            10 => Opcode::Pong,
            _ => return None,
        })
    }

    /// The 4-bit value.
    pub const fn as_u8(self) -> u8 {
        match self {
            Opcode::Continuation => 0,
            Opcode::Text => 1,
            Opcode::Binary => 2,
            Opcode::Close => 8,
            Opcode::Ping => 9,
            Opcode::Pong => 10,
        }
    }

    /// Close, ping and pong.
    pub const fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// A parsed frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Final fragment.
    pub fin: bool,
    /// RSV1..3 as the low three bits.
    pub rsv: u8,
    /// Opcode.
    pub opcode: Opcode,
    /// Masking key, if masked.
    pub mask: Option<[u8; 4]>,
    /// Payload length.
    pub len: u64,
}

/// Why bytes are not a valid frame header (every case is a protocol error, close 1002).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Opcode 3–7 or 11–15.
    #[error("reserved opcode {0}")]
    ReservedOpcode(u8),
    /// A 64-bit length with the top bit set, or a length not in its minimal encoding.
    #[error("invalid payload length")]
    BadLength,
}

/// Parses a header at the start of `buf`: `Ok(None)` if more bytes are needed, else the
/// header and its size in bytes (2–14).
pub fn parse_header(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, FrameError> {
    let (Some(&b0), Some(&b1)) = (buf.first(), buf.get(1)) else {
        return Ok(None);
    };
    let opcode = Opcode::from_u8(b0 & 0x0f).ok_or(FrameError::ReservedOpcode(b0 & 0x0f))?;
    let masked = b1 & 0x80 != 0;
    let (len, mut at) = match b1 & 0x7f {
        126 => {
            let Some(b) = buf.get(2..4) else {
                return Ok(None);
            };
            let n = u64::from(u16::from_be_bytes([b[0], b[1]]));
            if n < 126 {
                return Err(FrameError::BadLength);
            }
            (n, 4)
        }
        127 => {
            let Some(b) = buf.get(2..10) else {
                return Ok(None);
            };
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            let n = u64::from_be_bytes(a);
            if n >> 63 != 0 || n <= 0xffff {
                return Err(FrameError::BadLength);
            }
            (n, 10)
        }
        n => (u64::from(n), 2),
    };
    let mask = if masked {
        let Some(b) = buf.get(at..at + 4) else {
            return Ok(None);
        };
        at += 4;
        Some([b[0], b[1], b[2], b[3]])
    } else {
        None
    };
    Ok(Some((
        FrameHeader {
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 0x07,
            opcode,
            mask,
            len,
        },
        at,
    )))
}

/// XORs `data` with the mask `key`, where `data[0]` is payload byte number `offset`.
///
/// The bytes before the first 32-byte boundary go one at a time; the rest a 64-bit word at a
/// time. A payload sits after a 2–14 byte header, so without that step every word would
/// straddle an alignment boundary and the loop would run well below a plain XOR loop over an
/// aligned buffer (the bench compares the two).
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    let lead = data.as_ptr().align_offset(32).min(data.len());
    let (head, body) = data.split_at_mut(lead);
    for (i, b) in head.iter_mut().enumerate() {
        *b ^= key[(offset + i) % 4];
    }
    let offset = offset + lead;
    let mut k = [0u8; 4];
    for (i, b) in k.iter_mut().enumerate() {
        *b = key[(offset + i) % 4];
    }
    let word = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let mut chunks = body.chunks_exact_mut(8);
    for c in &mut chunks {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        let v = u64::from_ne_bytes(a) ^ word;
        c.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= k[i % 4];
    }
}

/// Appends `src` XOR the mask to `dst`, where `src[0]` is payload byte number `offset`.
///
/// One pass over `src`, a 64-bit word at a time, writing into zero-filled room (a write-only
/// pass, cheaper than copying first and unmasking after).
pub fn unmask_into(dst: &mut Vec<u8>, src: &[u8], key: [u8; 4], offset: usize) {
    let start = dst.len();
    dst.resize(start + src.len(), 0);
    let Some(out) = dst.get_mut(start..) else {
        return;
    };
    let mut k = [0u8; 4];
    for (i, b) in k.iter_mut().enumerate() {
        *b = key[(offset + i) % 4];
    }
    let word = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let mut o = out.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (oc, sc) in (&mut o).zip(&mut s) {
        let mut a = [0u8; 8];
        a.copy_from_slice(sc);
        oc.copy_from_slice(&(u64::from_ne_bytes(a) ^ word).to_ne_bytes());
    }
    for (i, (ob, sb)) in o.into_remainder().iter_mut().zip(s.remainder()).enumerate() {
        *ob = sb ^ k[i % 4];
    }
}

/// A frame decoded in place by [`decode_in_place`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InPlaceFrame {
    /// The header.
    pub header: FrameHeader,
    /// Where the (now unmasked) payload lies in the buffer.
    pub payload: core::ops::Range<usize>,
}

/// Decodes the frame at the start of `buf` without copying: the payload is unmasked where it
/// lies. `Ok(None)` if the frame is incomplete (nothing is changed then). For hosts that own
/// their receive buffer and want frames without the session's message assembly.
pub fn decode_in_place(buf: &mut [u8]) -> Result<Option<InPlaceFrame>, FrameError> {
    let Some((header, n)) = parse_header(buf)? else {
        return Ok(None);
    };
    let Ok(len) = usize::try_from(header.len) else {
        return Ok(None);
    };
    let Some(end) = n.checked_add(len) else {
        return Ok(None);
    };
    let Some(payload) = buf.get_mut(n..end) else {
        return Ok(None);
    };
    if let Some(k) = header.mask {
        apply_mask(payload, k, 0);
    }
    Ok(Some(InPlaceFrame {
        header,
        payload: n..end,
    }))
}

/// Appends one frame to `out`; with `mask` the payload is masked (client → server).
pub fn encode_frame(
    out: &mut Vec<u8>,
    fin: bool,
    opcode: Opcode,
    payload: &[u8],
    mask: Option<[u8; 4]>,
) {
    out.push(if fin { 0x80 } else { 0 } | opcode.as_u8());
    let m = if mask.is_some() { 0x80 } else { 0 };
    let len = payload.len();
    if len < 126 {
        out.push(m | len as u8);
    } else if len <= 0xffff {
        out.push(m | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(m | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    match mask {
        Some(k) => {
            out.extend_from_slice(&k);
            unmask_into(out, payload, k, 0);
        }
        None => out.extend_from_slice(payload),
    }
}
