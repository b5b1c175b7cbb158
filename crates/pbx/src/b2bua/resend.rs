//! Responses we send again on our own until the peer confirms them: a 2xx to an INVITE
//! until its ACK (RFC 3261 §13.3.1.4: the transaction layer leaves that to the dialog) and a
//! reliable provisional response until its PRACK (RFC 3262 §3). Over TCP the transaction
//! layer sends nothing twice, so only the give-up instant matters there.

use sip::transaction::ServerTxId;
use sip::Response;
use std::time::{Duration, Instant};

/// One response being retransmitted.
#[derive(Debug, Clone)]
pub(super) struct Resend {
    /// The server transaction the response answers.
    pub(super) tx: ServerTxId,
    pub(super) resp: Response,
    interval: Duration,
    /// 2xx retransmissions stop growing at T2; reliable provisionals keep doubling.
    cap: Option<Duration>,
    pub(super) next: Instant,
    /// No confirmation by then (64*T1): the peer is gone.
    pub(super) give_up: Instant,
}

impl Resend {
    /// Starts retransmitting `resp` (just sent once) at `t1`, doubling up to `cap`.
    pub(super) fn new(
        now: Instant,
        tx: ServerTxId,
        resp: Response,
        t1: Duration,
        cap: Option<Duration>,
    ) -> Resend {
        Resend {
            tx,
            resp,
            interval: t1,
            cap,
            next: now + t1,
            give_up: now + t1 * 64,
        }
    }

    /// The next instant something is due: a retransmission or giving up.
    pub(super) fn deadline(&self) -> Instant {
        self.next.min(self.give_up)
    }

    /// True when the peer has had 64*T1 to confirm.
    pub(super) fn expired(&self, now: Instant) -> bool {
        now >= self.give_up
    }

    /// If a retransmission is due at `now`, schedules the following one and returns the
    /// response to send.
    pub(super) fn due(&mut self, now: Instant) -> Option<(ServerTxId, Response)> {
        if now < self.next {
            return None;
        }
        self.interval *= 2;
        if let Some(cap) = self.cap {
            self.interval = self.interval.min(cap);
        }
        self.next = now + self.interval;
        Some((self.tx, self.resp.clone()))
    }
}
