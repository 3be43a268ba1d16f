//! Fuzz target bodies for the psp crate.

/// The targets of this module, by name.
pub const TARGETS: &[(&str, crate::Target)] = &[];
