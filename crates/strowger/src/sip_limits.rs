//! Size limits at the network edge.

/// The largest SIP message accepted on any transport (64 KiB, the UDP maximum).
pub const MAX_MESSAGE: usize = 65_535;
