//! Shared helpers for the workspace's criterion benches.
//!
//! [`CountingAlloc`] counts heap allocations so that benches can report allocations per
//! operation next to the time. Install it in a bench binary with
//! `#[global_allocator] static A: CountingAlloc = CountingAlloc;` and measure with
//! [`allocations_per_op`].

pub mod psp_pair;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting every allocation and reallocation.
pub struct CountingAlloc;

// SAFETY: every call is forwarded unchanged to the system allocator; the counter has no effect
// on the memory handed out.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations so far in this process (only counts when [`CountingAlloc`] is installed).
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

/// Runs `op` `n` times and returns the mean number of allocations per run.
pub fn allocations_per_op(n: u64, mut op: impl FnMut()) -> f64 {
    let before = allocations();
    for _ in 0..n {
        op();
    }
    (allocations() - before) as f64 / n.max(1) as f64
}

/// Prints one line of a bench report in a fixed format that the README quotes.
pub fn report(name: &str, what: &str, value: f64) {
    println!("REPORT {name}: {what} = {value:.3}");
}

/// `n` distinct PLP frames from computer 1 to router 10 carrying PIP packets from 10.0.0.1 to
/// 20.0.0.0/8 (each a fresh 32-byte `messageID`), the input of the router benches.
pub fn router_frames(n: usize) -> Vec<modem_value::Value> {
    use modem_value::{table, LuaStr, RandomSource, SplitMix64};
    let mut rng = SplitMix64::new(5);
    (0..n)
        .map(|i| {
            let mut id = [0u8; 32];
            rng.fill_bytes(&mut id);
            let dst = std::net::Ipv4Addr::from(0x1400_0000 + i as u32);
            table! {
                "PhoenixNetworking" => true, "type" => "link", "source" => 1, "destination" => 10,
                "payload" => table! {
                    "PhoenixNetworking" => true, "type" => "internet",
                    "source" => "10.0.0.1", "destination" => dst.to_string(),
                    "messageID" => LuaStr::from(&id[..]), "hopsLeft" => 15,
                    "payload" => table! { "PhoenixNetworking" => true, "type" => "datagram",
                                          "message" => "0123456789abcdef" }
                }
            }
        })
        .collect()
}
