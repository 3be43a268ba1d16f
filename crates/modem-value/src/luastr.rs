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
/// ([`LuaStr::from_static`]); other strings share one reference-counted buffer between clones.
/// Equality, ordering and hashing look only at the bytes.
#[derive(Clone)]
pub struct LuaStr(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static [u8]),
    Shared(Arc<[u8]>),
    /// A buffer adopted whole ([`LuaStr::from_vec_in_place`]): large strings are not copied.
    Adopted(Arc<Vec<u8>>),
}

impl LuaStr {
    /// A string backed by static bytes: no allocation, clone is a copy.
    pub const fn from_static(bytes: &'static [u8]) -> Self {
        LuaStr(Repr::Static(bytes))
    }

    /// The empty string.
    pub const fn empty() -> Self {
        LuaStr(Repr::Static(b""))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Static(b) => b,
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
        LuaStr(Repr::Shared(Arc::from(b)))
    }
}
impl From<Vec<u8>> for LuaStr {
    fn from(b: Vec<u8>) -> Self {
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
