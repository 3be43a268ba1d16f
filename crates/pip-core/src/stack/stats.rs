//! Counters of what the stack did with its input, for hosts to log or display.

/// Counters since the stack was created. Every dropped frame increments exactly one of the
/// `drop_*` counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Modem messages given to `handle_modem_message` (and self-delivered frames).
    pub frames_received: u64,
    /// Dropped: the device is not an interface of this stack.
    pub drop_unknown_device: u64,
    /// Dropped: the interface has no configuration or is down.
    pub drop_interface_down: u64,
    /// Dropped: not a Phoenix table (`PhoenixNetworking` falsy or `type` not a string).
    pub drop_not_phoenix: u64,
    /// Dropped: a Phoenix table whose top-level `type` is not `link` or `arp`.
    pub drop_bad_top_level_type: u64,
    /// Dropped: a field missing, of the wrong type or invalid.
    pub drop_malformed: u64,
    /// Dropped: a PLP frame for another computer ID.
    pub drop_not_for_us: u64,
    /// Dropped: the PIP `messageID` was seen within the last 30 s.
    pub drop_duplicate: u64,
    /// Dropped: a PLP payload or PIP payload of a type this stack does not handle.
    pub drop_unknown_type: u64,
    /// Dropped: a PIP packet for another address (handed to `netevent` if enabled).
    pub drop_foreign: u64,
    /// Dropped by a router: `hopsLeft` exhausted (an MCP `timeout` went back).
    pub drop_hops_exhausted: u64,
    /// Dropped by a router: no usable route (an MCP `unreachable` went back unless blackholed).
    pub drop_unroutable: u64,
    /// Dropped: the loopback queue was full.
    pub drop_loopback_full: u64,
    /// Dropped: an output queue was full because the host did not drain it.
    pub drop_output_full: u64,
    /// Packets forwarded by the router.
    pub forwarded: u64,
    /// Transport payloads delivered locally.
    pub delivered: u64,
    /// ARP requests sent (resolutions and collision probes).
    pub arp_requests_sent: u64,
    /// ARP replies sent.
    pub arp_replies_sent: u64,
    /// Learned ARP entries evicted to make room.
    pub arp_evictions: u64,
    /// ARP learnings refused (cache full of manual entries).
    pub arp_learn_refused: u64,
    /// Resolutions that timed out after 2 s.
    pub arp_timeouts: u64,
    /// Packets refused because too many resolutions or queued packets were pending.
    pub arp_queue_full: u64,
    /// Seen `messageID`s forgotten before their 30 s to make room.
    pub seen_evictions: u64,
}
