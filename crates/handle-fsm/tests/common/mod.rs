//! Code shared by integration tests.
pub mod tcp;
