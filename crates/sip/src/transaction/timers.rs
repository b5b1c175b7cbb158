//! Timer values (RFC 3261 §17 and Table 4 of Appendix A, RFC 6026 §8.4 for L and M) and the
//! deadline index that makes `poll_timeout` cheap with tens of thousands of transactions.
//!
//! | timer | what | unreliable | reliable |
//! | --- | --- | --- | --- |
//! | A | INVITE request retransmit, doubling | T1, 2T1, 4T1 ... | — |
//! | B | INVITE client gives up | 64*T1 | 64*T1 |
//! | D | INVITE client absorbs final retransmissions | `timer_d` (32 s) | 0 |
//! | E | non-INVITE request retransmit, doubling to T2 | T1 ... T2 | — |
//! | F | non-INVITE client gives up | 64*T1 | 64*T1 |
//! | G | INVITE final response retransmit, doubling to T2 | T1 ... T2 | — |
//! | H | INVITE server waits for ACK | 64*T1 | 64*T1 |
//! | I | INVITE server absorbs ACK retransmissions | T4 | 0 |
//! | J | non-INVITE server absorbs request retransmissions | 64*T1 | 0 |
//! | K | non-INVITE client absorbs response retransmissions | T4 | 0 |
//! | L | INVITE server, Accepted state (RFC 6026) | 64*T1 | 64*T1 |
//! | M | INVITE client, Accepted state (RFC 6026) | 64*T1 | 64*T1 |
//!
//! A timer of zero is not scheduled: the transaction terminates on the spot.

use super::TransactionId;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// The transaction timer base values. `t1` must be non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// RTT estimate, the first retransmission interval (default 500 ms).
    pub t1: Duration,
    /// The largest retransmission interval for non-INVITE requests and INVITE responses
    /// (default 4 s).
    pub t2: Duration,
    /// How long a message may live in the network (default 5 s).
    pub t4: Duration,
    /// Timer D on unreliable transports (RFC 3261: at least 32 s; default 32 s).
    pub timer_d: Duration,
    /// When an INVITE server transaction sends `100 Trying` by itself if the TU has sent no
    /// response yet (RFC 3261 §17.2.1: "unless the TU will respond within 200 ms"; default
    /// 200 ms). `None` leaves the 100 entirely to the TU.
    pub auto_trying: Option<Duration>,
}

impl Default for TimerConfig {
    fn default() -> Self {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            timer_d: Duration::from_secs(32),
            auto_trying: Some(Duration::from_millis(200)),
        }
    }
}

impl TimerConfig {
    /// 64*T1: timers B, F, H, J (unreliable), L and M.
    pub fn t1_x64(&self) -> Duration {
        self.t1 * 64
    }

    /// The next retransmission interval after `interval`, doubled and capped at T2 (timers E
    /// and G).
    pub(super) fn doubled_capped(&self, interval: Duration) -> Duration {
        (interval * 2).min(self.t2)
    }
}

/// A retransmission timer (A, E or G): the next firing and the current interval.
#[derive(Debug, Clone, Copy)]
pub(super) struct Retransmit {
    pub(super) at: Instant,
    pub(super) interval: Duration,
}

impl Retransmit {
    /// First firing after `now`, at T1.
    pub(super) fn start(now: Instant, t1: Duration) -> Retransmit {
        Retransmit {
            at: now + t1,
            interval: t1,
        }
    }

    /// Re-arms from `now` with a new interval.
    pub(super) fn rearm(&mut self, now: Instant, interval: Duration) {
        self.interval = interval;
        self.at = now + interval;
    }
}

/// Every scheduled deadline as (instant, transaction), ordered. Invariant kept by the layer:
/// each live transaction appears exactly once, with its earliest deadline, or not at all
/// when it has none.
#[derive(Debug, Default)]
pub(super) struct Deadlines {
    set: BTreeSet<(Instant, TransactionId)>,
}

impl Deadlines {
    /// Moves `id` from `old` to `new`.
    pub(super) fn update(&mut self, id: TransactionId, old: Option<Instant>, new: Option<Instant>) {
        if old == new {
            return;
        }
        if let Some(old) = old {
            self.set.remove(&(old, id));
        }
        if let Some(new) = new {
            self.set.insert((new, id));
        }
    }

    /// The earliest deadline.
    pub(super) fn first(&self) -> Option<Instant> {
        self.set.first().map(|&(at, _)| at)
    }

    /// Removes every entry due at `now` and appends its transaction to `due`.
    pub(super) fn take_due(&mut self, now: Instant, due: &mut Vec<TransactionId>) {
        while let Some(&(at, id)) = self.set.first() {
            if at > now {
                break;
            }
            self.set.pop_first();
            due.push(id);
        }
    }

    /// Number of scheduled transactions.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.set.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::ServerTxId;

    #[test]
    fn doubling_caps_at_t2() {
        let cfg = TimerConfig::default();
        let mut i = cfg.t1;
        let mut seen = Vec::new();
        for _ in 0..5 {
            seen.push(i.as_millis());
            i = cfg.doubled_capped(i);
        }
        assert_eq!(seen, [500, 1000, 2000, 4000, 4000]);
        assert_eq!(cfg.t1_x64(), Duration::from_secs(32));
    }

    #[test]
    fn deadlines_move_and_drain_in_order() {
        let t0 = Instant::now();
        let a = TransactionId::Server(ServerTxId(1));
        let b = TransactionId::Server(ServerTxId(2));
        let mut d = Deadlines::default();
        d.update(a, None, Some(t0 + Duration::from_secs(5)));
        d.update(b, None, Some(t0 + Duration::from_secs(3)));
        assert_eq!(d.first(), Some(t0 + Duration::from_secs(3)));
        d.update(
            b,
            Some(t0 + Duration::from_secs(3)),
            Some(t0 + Duration::from_secs(9)),
        );
        assert_eq!(d.first(), Some(t0 + Duration::from_secs(5)));
        assert_eq!(d.len(), 2);
        let mut due = Vec::new();
        d.take_due(t0 + Duration::from_secs(5), &mut due);
        assert_eq!(due, [a]);
        d.take_due(t0 + Duration::from_secs(100), &mut due);
        assert_eq!(due, [a, b]);
        assert_eq!(d.first(), None);
    }
}
