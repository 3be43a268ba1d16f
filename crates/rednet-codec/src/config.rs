//! The endpoint's bounds, its verdict on a packet, and its counters.

use crate::Ignored;

/// Default bound of the dedup set: IDs remembered at once.
///
/// rednet.lua's table is unbounded. An ID is remembered 9.5–19.5 s, so the bound is reached by
/// a sustained 3 400–6 900 accepted messages/s, far beyond what a Minecraft server's modems
/// carry. Memory at the bound: ≤ 2 MiB of probe table + ≤ 1 MiB of deadline queue.
pub const DEFAULT_DEDUP_CAPACITY: usize = 65_536;
/// Default bound of undrained delivered messages: CraftOS's event queue holds 256 events and
/// drops newer ones when full; so does this queue.
pub const DEFAULT_MESSAGE_QUEUE_LIMIT: usize = 256;
/// Default bound of pending `receive`/`lookup`/`host` requests.
pub const DEFAULT_MAX_REQUESTS: usize = 256;
/// Default bound of IDs one hostname-less `lookup` collects; later responses are ignored.
pub const DEFAULT_MAX_LOOKUP_RESULTS: usize = 1024;
/// Default bound of undrained modem operations above which the DNS responder stays silent, so
/// that peers' lookups cannot grow the queue of a host that drains it late.
pub const DEFAULT_MAX_QUEUED_OPS: usize = 4096;

/// Bounds of an [`Endpoint`](crate::Endpoint); [`Default`] gives the `DEFAULT_*` constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndpointConfig {
    /// Most message IDs remembered at once ([`DEFAULT_DEDUP_CAPACITY`]). While full, each new
    /// ID makes the oldest remembered ones (first remembered in the same millisecond) be
    /// forgotten early, so new messages are still delivered; a late copy of an evicted one
    /// would be delivered again.
    pub dedup_capacity: usize,
    /// Most undrained delivered messages ([`DEFAULT_MESSAGE_QUEUE_LIMIT`]); newer ones are
    /// dropped from the queue (requests still see them).
    pub message_queue_limit: usize,
    /// Most pending requests ([`DEFAULT_MAX_REQUESTS`]).
    pub max_requests: usize,
    /// Most IDs a hostname-less lookup collects ([`DEFAULT_MAX_LOOKUP_RESULTS`]).
    pub max_lookup_results: usize,
    /// Queued modem operations above which DNS answers are skipped ([`DEFAULT_MAX_QUEUED_OPS`]).
    pub max_queued_ops: usize,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig {
            dedup_capacity: DEFAULT_DEDUP_CAPACITY,
            message_queue_limit: DEFAULT_MESSAGE_QUEUE_LIMIT,
            max_requests: DEFAULT_MAX_REQUESTS,
            max_lookup_results: DEFAULT_MAX_LOOKUP_RESULTS,
            max_queued_ops: DEFAULT_MAX_QUEUED_OPS,
        }
    }
}

/// What [`Endpoint::handle_modem_message`](crate::Endpoint::handle_modem_message) did with a packet.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Accepted: remembered and delivered as a `rednet_message`.
    Delivered,
    /// Silently ignored, as rednet.lua ignores it; the reason is for diagnostics.
    Ignored(Ignored),
}

/// Counters for diagnostics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets accepted and delivered.
    pub delivered: u64,
    /// Packets ignored by the acceptance rules.
    pub ignored: u64,
    /// Message IDs forgotten before their time to make room in a full dedup set.
    pub dedup_evicted: u64,
    /// Delivered messages dropped because the message queue was full.
    pub dropped_queue_full: u64,
    /// `send`/`broadcast` calls (including the DNS responder's).
    pub sends: u64,
    /// Transmit operations emitted.
    pub transmits: u64,
}
