//! The reference of every syscall, handle method and event, rendered from [`crate::registry`].
//!
//! This page is the file `REFERENCE.md` of this crate, which a test keeps equal to
//! [`crate::registry::render_markdown`].
#![doc = include_str!("../REFERENCE.md")]
