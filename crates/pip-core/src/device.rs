//! Names of modem devices (interfaces).

use alloc::sync::Arc;
use core::fmt;

/// A modem device path such as `/back` or `/lo`, naming one interface.
///
/// Cheap to clone (shared); equality compares the text (with a pointer fast path).
#[derive(Clone, PartialOrd, Ord)]
pub struct Device(Arc<str>);

impl Device {
    /// A device named `path`.
    pub fn new(path: &str) -> Device {
        Device(Arc::from(path))
    }

    /// The path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq for Device {
    fn eq(&self, other: &Device) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || *self.0 == *other.0
    }
}
impl Eq for Device {}

impl core::hash::Hash for Device {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl PartialEq<str> for Device {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl From<&str> for Device {
    fn from(s: &str) -> Device {
        Device::new(s)
    }
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
