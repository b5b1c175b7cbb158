//! The SIP trace: every message in and out, logged under the `sip_trace` target when switched
//! on (at start with `--sip-trace`, or at run time with `strowger trace on|off`). A flag
//! checked per message, so it costs nothing when off.

use pbx::Peer;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A shared on/off switch for the trace.
#[derive(Debug, Clone, Default)]
pub struct SipTrace(Arc<AtomicBool>);

impl SipTrace {
    /// Switches the trace on or off.
    pub fn set(&self, on: bool) {
        self.0.store(on, Ordering::Relaxed);
    }

    /// Whether the trace is on.
    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Logs a message received from `peer`.
    pub fn incoming(&self, peer: Peer, bytes: &[u8]) {
        if self.is_on() {
            tracing::info!(target: "sip_trace", "<<< from {} ({:?})\n{}", peer.addr, peer.transport, String::from_utf8_lossy(bytes));
        }
    }

    /// Logs a message sent to `peer`.
    pub fn outgoing(&self, peer: Peer, bytes: &[u8]) {
        if self.is_on() {
            tracing::info!(target: "sip_trace", ">>> to {} ({:?})\n{}", peer.addr, peer.transport, String::from_utf8_lossy(bytes));
        }
    }
}
