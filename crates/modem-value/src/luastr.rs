//! Byte strings as Lua has them: any bytes, cheap to clone, free for compile-time constants.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::borrow::Borrow;
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::ops::Deref;

/// An immutable Lua string: arbitrary bytes (Phoenix's PIP `messageID` is 32 random bytes).
///
/// Protocol field names and constant values are `&'static` and cost no allocation
/// ([`LuaStr::from_static`]); strings of up to [`LuaStr::INLINE_CAP`] bytes (dotted IP
/// addresses, device names, numbers as text) are stored in the value itself, so making, cloning
/// and dropping them touches no heap and no reference count; longer strings share one
/// reference-counted buffer between clones. Equality, ordering and hashing look only at the
/// bytes.
#[derive(Clone)]
pub struct LuaStr(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static [u8]),
    /// `len` bytes at the front of `bytes`; the rest are zero.
    Inline {
        len: u8,
        bytes: InlineBytes,
    },
    Shared(Arc<[u8]>),
    /// A buffer adopted whole ([`LuaStr::from_vec_in_place`]): large strings are not copied.
    Adopted(Arc<Vec<u8>>),
}

/// The bytes of an inline string, aligned like the pointers of the other variants: every
/// variant's payload then sits in the same aligned 16 bytes, and moving a `Value` stays a few
/// whole-word copies (an unaligned inline payload made the compiler copy values piecewise, and
/// the partial stores stalled the loads that followed).
#[derive(Clone, Copy)]
#[repr(C, align(8))]
struct InlineBytes([u8; LuaStr::INLINE_CAP]);

impl LuaStr {
    /// The longest string kept inline (no allocation): the 16 bytes a shared buffer's handle
    /// takes anyway (a dotted IPv4 address needs at most 15).
    pub const INLINE_CAP: usize = 16;

    /// A string backed by static bytes: no allocation, clone is a copy.
    pub const fn from_static(bytes: &'static [u8]) -> Self {
        LuaStr(Repr::Static(bytes))
    }

    /// The empty string.
    pub const fn empty() -> Self {
        LuaStr(Repr::Static(b""))
    }

    /// The bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Static(b) => b,
            Repr::Inline { len, bytes } => &bytes.0[..usize::from(*len)],
            Repr::Shared(b) => b,
            Repr::Adopted(b) => b,
        }
    }

    /// A string that adopts `bytes`' allocation instead of copying it (`From<Vec<u8>>` copies
    /// into an exact-size buffer). Meant for large buffers, where the copy and the fresh pages
    /// it touches cost more than the spare capacity kept alive with the string.
    pub fn from_vec_in_place(bytes: Vec<u8>) -> Self {
        LuaStr(Repr::Adopted(Arc::new(bytes)))
    }

    /// The bytes as UTF-8 text, if they are valid UTF-8.
    pub fn to_str(&self) -> Option<&str> {
        core::str::from_utf8(self.as_bytes()).ok()
    }

    /// The text with invalid UTF-8 sequences replaced by U+FFFD (for messages and logs).
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(self.as_bytes()).into_owned()
    }
}

impl Deref for LuaStr {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for LuaStr {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<[u8]> for LuaStr {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for LuaStr {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl Eq for LuaStr {}

impl PartialEq<[u8]> for LuaStr {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == other
    }
}
impl PartialEq<str> for LuaStr {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl PartialEq<&str> for LuaStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialOrd for LuaStr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for LuaStr {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl Hash for LuaStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl fmt::Debug for LuaStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_str() {
            Some(s) => fmt::Debug::fmt(s, f),
            None => {
                f.write_str("b\"")?;
                for &b in self.as_bytes() {
                    for c in core::ascii::escape_default(b) {
                        fmt::Write::write_char(f, c as char)?;
                    }
                }
                f.write_str("\"")
            }
        }
    }
}

impl fmt::Display for LuaStr {
    /// Lossy UTF-8, for messages; use [`LuaStr::as_bytes`] for the exact bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

impl Default for LuaStr {
    fn default() -> Self {
        LuaStr::empty()
    }
}

impl From<&[u8]> for LuaStr {
    fn from(b: &[u8]) -> Self {
        if b.len() <= LuaStr::INLINE_CAP {
            let mut bytes = InlineBytes([0u8; LuaStr::INLINE_CAP]);
            bytes.0[..b.len()].copy_from_slice(b);
            // The length fits: INLINE_CAP < 256.
            return LuaStr(Repr::Inline {
                len: b.len() as u8,
                bytes,
            });
        }
        LuaStr(Repr::Shared(Arc::from(b)))
    }
}
impl From<Vec<u8>> for LuaStr {
    fn from(b: Vec<u8>) -> Self {
        if b.len() <= LuaStr::INLINE_CAP {
            return LuaStr::from(&b[..]);
        }
        LuaStr(Repr::Shared(Arc::from(b)))
    }
}
impl From<&str> for LuaStr {
    fn from(s: &str) -> Self {
        LuaStr::from(s.as_bytes())
    }
}
impl From<String> for LuaStr {
    fn from(s: String) -> Self {
        LuaStr::from(s.into_bytes())
    }
}
impl<const N: usize> From<&[u8; N]> for LuaStr {
    fn from(b: &[u8; N]) -> Self {
        LuaStr::from(&b[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inline and shared strings are one type to every observer: the same bytes compare, order
    /// and hash alike whichever way they are stored, at and across the inline boundary.
    #[test]
    fn inline_and_shared_strings_are_indistinguishable() {
        use core::hash::BuildHasher;
        let hasher = |s: &LuaStr| FnvBuild.hash_one(s);
        for len in [0, 1, 7, 15, LuaStr::INLINE_CAP, LuaStr::INLINE_CAP + 1, 40] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 1) as u8).collect();
            let a = LuaStr::from(&bytes[..]);
            let b = LuaStr::from(bytes.clone());
            let c = LuaStr::from_vec_in_place(bytes.clone());
            assert_eq!(
                matches!(a.0, Repr::Inline { .. }),
                len <= LuaStr::INLINE_CAP
            );
            for s in [&a, &b, &c, &a.clone()] {
                assert_eq!(s.as_bytes(), &bytes[..]);
                assert_eq!(s.len(), len);
                assert_eq!(*s, c);
                assert_eq!(s.cmp(&c), Ordering::Equal);
                assert_eq!(hasher(s), hasher(&c));
            }
            // Ordering against a neighbour is by bytes, whichever representation each has.
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(a < LuaStr::from(longer));
        }
        // A static string and an inline one with the same bytes are equal.
        assert_eq!(LuaStr::from_static(b"10.0.0.1"), LuaStr::from("10.0.0.1"));
    }

    /// Keeping short strings inline must not make every string (and so every `Value`) larger.
    #[test]
    fn inline_strings_do_not_grow_the_handle() {
        assert_eq!(core::mem::size_of::<LuaStr>(), 24);
        assert_eq!(
            core::mem::size_of::<crate::Value>(),
            core::mem::size_of::<LuaStr>()
        );
    }

    struct FnvBuild;
    struct Fnv(u64);
    impl core::hash::BuildHasher for FnvBuild {
        type Hasher = Fnv;
        fn build_hasher(&self) -> Fnv {
            Fnv(0xcbf2_9ce4_8422_2325)
        }
    }
    impl Hasher for Fnv {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            for &b in bytes {
                self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
            }
        }
    }
}
