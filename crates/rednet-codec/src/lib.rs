//! (work in progress: see the crate description)
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;
