//! The authentication guard: counts wrong passwords per source address and per extension,
//! slows the answers once a few have come in a window, and then blocks the source or the
//! extension for a while. This is what keeps password guessers and scanners (sipvicious'
//! `svcrack`) from trying thousands of passwords a second.
//!
//! Memory is bounded: at most [`MAX_TRACKED`] counters are kept; when full, the stalest are
//! swept first, and if all are fresh new failures are still answered (just not tracked).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How many sources plus extensions the guard tracks at most.
pub const MAX_TRACKED: usize = 100_000;

/// The guard's knobs (from the `[security]` section of the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardSettings {
    /// Failures within the window that block the source or extension.
    pub failures_before_block: u32,
    /// The window over which failures are counted.
    pub failure_window: Duration,
    /// How long a block lasts; zero disables blocking.
    pub block_for: Duration,
    /// Failures after which each further answer is delayed.
    pub slow_down_after: u32,
}

impl Default for GuardSettings {
    fn default() -> Self {
        GuardSettings {
            failures_before_block: 10,
            failure_window: Duration::from_secs(60),
            block_for: Duration::from_secs(300),
            slow_down_after: 3,
        }
    }
}

/// What a block applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BlockTarget {
    /// Every request from this address.
    Source(IpAddr),
    /// Authentication as this extension (known or not: unknown numbers are treated alike so
    /// that blocking does not reveal which numbers exist).
    Extension(String),
}

impl std::fmt::Display for BlockTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlockTarget::Source(ip) => write!(f, "source {ip}"),
            BlockTarget::Extension(e) => write!(f, "extension {e}"),
        }
    }
}

#[derive(Debug, Clone)]
struct Counter {
    window_start: Instant,
    failures: u32,
    blocked_until: Option<Instant>,
}

/// The verdict on one failed authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureVerdict {
    /// How long to hold the answer back.
    pub delay: Duration,
    /// Targets that this failure has just blocked (for the log and the audit).
    pub newly_blocked: Vec<(BlockTarget, Duration)>,
}

/// Failure counters and blocks.
#[derive(Debug, Default)]
pub struct AuthGuard {
    settings: GuardSettings,
    counters: HashMap<BlockTarget, Counter>,
}

impl AuthGuard {
    /// A guard with these settings.
    pub fn new(settings: GuardSettings) -> AuthGuard {
        AuthGuard {
            settings,
            counters: HashMap::new(),
        }
    }

    /// Changes the settings; counters stay.
    pub fn set_settings(&mut self, settings: GuardSettings) {
        self.settings = settings;
    }

    /// Is this target blocked now?
    pub fn is_blocked(&self, now: Instant, target: &BlockTarget) -> bool {
        self.counters
            .get(target)
            .and_then(|c| c.blocked_until)
            .is_some_and(|until| until > now)
    }

    /// Records a wrong password from `source` for `extension`.
    pub fn record_failure(
        &mut self,
        now: Instant,
        source: IpAddr,
        extension: &str,
    ) -> FailureVerdict {
        let mut verdict = FailureVerdict {
            delay: Duration::ZERO,
            newly_blocked: Vec::new(),
        };
        for target in [
            BlockTarget::Source(source),
            BlockTarget::Extension(extension.to_string()),
        ] {
            if !self.counters.contains_key(&target) && self.counters.len() >= MAX_TRACKED {
                self.sweep(now);
                if self.counters.len() >= MAX_TRACKED {
                    continue;
                }
            }
            let s = &self.settings;
            let c = self.counters.entry(target.clone()).or_insert(Counter {
                window_start: now,
                failures: 0,
                blocked_until: None,
            });
            if now.duration_since(c.window_start) > s.failure_window {
                c.window_start = now;
                c.failures = 0;
            }
            c.failures = c.failures.saturating_add(1);
            if c.failures > s.slow_down_after {
                // One more second per failure past the threshold, at most four: enough to
                // make guessing slow, short enough that a phone with a typo still gets an
                // answer before its transaction times out (Timer F, 32 s).
                let extra = u64::from((c.failures - s.slow_down_after).min(4));
                verdict.delay = verdict.delay.max(Duration::from_secs(extra));
            }
            let already = c.blocked_until.is_some_and(|u| u > now);
            if !already && !s.block_for.is_zero() && c.failures >= s.failures_before_block {
                c.blocked_until = Some(now + s.block_for);
                verdict.newly_blocked.push((target, s.block_for));
            }
        }
        verdict
    }

    /// Forgets the failures of an extension after it authenticated correctly.
    pub fn record_success(&mut self, extension: &str) {
        let key = BlockTarget::Extension(extension.to_string());
        if let Some(c) = self.counters.get(&key) {
            if c.blocked_until.is_none() {
                self.counters.remove(&key);
            }
        }
    }

    /// Drops counters whose window and block are over.
    pub fn sweep(&mut self, now: Instant) {
        let window = self.settings.failure_window;
        self.counters.retain(|_, c| {
            let blocked = c.blocked_until.is_some_and(|u| u > now);
            blocked || now.duration_since(c.window_start) <= window
        });
    }

    /// Targets blocked now, with the time left.
    pub fn blocked(&self, now: Instant) -> Vec<(BlockTarget, Duration)> {
        self.counters
            .iter()
            .filter_map(|(t, c)| {
                c.blocked_until
                    .filter(|u| *u > now)
                    .map(|u| (t.clone(), u - now))
            })
            .collect()
    }

    /// Number of tracked counters (for tests and status).
    pub fn tracked(&self) -> usize {
        self.counters.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slows_then_blocks_source_and_extension() {
        let mut g = AuthGuard::new(GuardSettings {
            failures_before_block: 5,
            failure_window: Duration::from_secs(60),
            block_for: Duration::from_secs(300),
            slow_down_after: 2,
        });
        let t0 = Instant::now();
        let ip: IpAddr = "127.0.0.9".parse().unwrap();
        let delays: Vec<_> = (0..5)
            .map(|i| g.record_failure(t0 + Duration::from_secs(i), ip, "201"))
            .collect();
        assert_eq!(delays[1].delay, Duration::ZERO);
        assert_eq!(delays[2].delay, Duration::from_secs(1));
        assert_eq!(delays[4].newly_blocked.len(), 2);
        assert!(g.is_blocked(t0 + Duration::from_secs(10), &BlockTarget::Source(ip)));
        assert!(g.is_blocked(
            t0 + Duration::from_secs(10),
            &BlockTarget::Extension("201".into())
        ));
        assert!(!g.is_blocked(t0 + Duration::from_secs(305), &BlockTarget::Source(ip)));
    }

    #[test]
    fn window_resets_counts() {
        let mut g = AuthGuard::new(GuardSettings {
            failures_before_block: 3,
            ..GuardSettings::default()
        });
        let t0 = Instant::now();
        let ip: IpAddr = "127.0.0.9".parse().unwrap();
        g.record_failure(t0, ip, "201");
        g.record_failure(t0, ip, "201");
        let v = g.record_failure(t0 + Duration::from_secs(61), ip, "201");
        assert!(v.newly_blocked.is_empty());
        g.sweep(t0 + Duration::from_secs(200));
        assert_eq!(g.tracked(), 0);
    }
}
