//! Hot desking: a person logs in on any extension with their number and login code
//! (`*35*205*1234#`), and from then on calls to their number ring that extension's phones
//! and calls from it are theirs (their rights, their number in the record). Logging out
//! (`*36`) on that extension, or in there as someone else, or at home, ends it.
//!
//! Like other short codes, the change is confirmed by a brief answer and reported as
//! [`PbxEvent::FeatureChanged`] (on the user's number) for the configuration to keep.
//!
//! Login codes are short, so guessing is bounded: after [`MAX_WRONG_CODES`] wrong codes
//! for a number, logging in as that number is refused for [`LOCK_OUT`], even with the
//! right code. Any number tried is counted, assigned or not, so the lock-out does not
//! tell which numbers exist either.

use super::feature_codes::describe;
use super::*;
use crate::events::FeatureChange;
use crate::shortcodes::ShortCodeFeature;

/// Wrong login codes for one number before its logins are refused for a while.
pub(super) const MAX_WRONG_CODES: u32 = 5;
/// How long logins as a number stay refused after too many wrong codes.
pub(super) const LOCK_OUT: Duration = Duration::from_secs(15 * 60);
/// Numbers whose failures are remembered at most; older entries go first.
const REMEMBERED: usize = 10_000;

/// Wrong hot-desk login codes by the number tried.
#[derive(Debug, Default)]
pub(crate) struct LoginGuard {
    /// Number → (wrong codes in a row, the last one's time, locked until).
    failures: HashMap<String, (u32, Instant, Option<Instant>)>,
}

impl LoginGuard {
    /// Until when logins as `number` are refused, if they are at `now`.
    fn locked_until(&self, number: &str, now: Instant) -> Option<Instant> {
        self.failures
            .get(number)
            .and_then(|f| f.2)
            .filter(|until| now < *until)
    }

    /// A wrong code for `number`: the lock-out starts at the last allowed one.
    fn failed(&mut self, number: &str, now: Instant) {
        if self.failures.len() >= REMEMBERED {
            self.failures
                .retain(|_, f| f.2.is_some_and(|until| now < until));
            if self.failures.len() >= REMEMBERED {
                // Locked everywhere at once: forget the oldest failure.
                if let Some(oldest) = self
                    .failures
                    .iter()
                    .min_by_key(|(_, f)| f.1)
                    .map(|(n, _)| n.clone())
                {
                    self.failures.remove(&oldest);
                }
            }
        }
        let entry = self
            .failures
            .entry(number.to_string())
            .or_insert((0, now, None));
        if entry.2.is_some_and(|until| now >= until) {
            *entry = (0, now, None); // the lock-out is over: count afresh
        }
        entry.0 += 1;
        entry.1 = now;
        if entry.0 >= MAX_WRONG_CODES {
            entry.2 = Some(now + LOCK_OUT);
        }
    }

    fn succeeded(&mut self, number: &str) {
        self.failures.remove(number);
    }
}

impl Pbx {
    /// Acts on a hot-desk short code dialled on extension `device`; false for any other
    /// number.
    pub(super) fn hot_desk_code(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        device: &str,
    ) -> bool {
        let Some(dialled) = req.uri.user() else {
            return false;
        };
        let outcome = match self.features.short_codes().lookup(dialled) {
            Some((ShortCodeFeature::HotDeskLogin, arg)) => {
                let (number, code) = arg.split_once('*').unwrap_or((arg, ""));
                let (number, code) = (number.to_string(), code.to_string());
                if self.calls.login_guard.locked_until(&number, now).is_some() {
                    let mut r = self.response(req, StatusCode::FORBIDDEN);
                    r.reason = "Forbidden (too many wrong codes: try again later)".into();
                    self.send(now, tx, r, Duration::ZERO);
                    return true;
                }
                let result = self.features.log_in(device, &number, &code);
                match result {
                    Ok(_) => self.calls.login_guard.succeeded(&number),
                    Err(_) => self.calls.login_guard.failed(&number, now),
                }
                result
                    .map(|previous| {
                        let mut changes = Vec::new();
                        if let Some(p) = previous {
                            changes.push((p, FeatureChange::HotDesk(None)));
                        }
                        let at = (device != number).then(|| device.to_string());
                        changes.push((number, FeatureChange::HotDesk(at)));
                        changes
                    })
                    .map_err(|why| (StatusCode::FORBIDDEN, why))
            }
            Some((ShortCodeFeature::HotDeskLogout, _)) => self
                .features
                .log_out(device)
                .map(|number| vec![(number, FeatureChange::HotDesk(None))])
                .ok_or((StatusCode::NOT_FOUND, "nobody is logged in here")),
            _ => return false,
        };
        match outcome {
            Ok(changes) => {
                let words = changes.last().map(|(_, c)| describe(c)).unwrap_or_default();
                for (extension, change) in changes {
                    tracing::info!(%extension, device, ?change, "hot desk");
                    self.events
                        .push_back(PbxEvent::FeatureChanged { extension, change });
                }
                self.answer_and_clear(now, source, tx, req, &words);
            }
            Err((status, why)) => {
                let mut r = self.response(req, status);
                r.reason = format!("{} ({why})", status.default_reason());
                self.send(now, tx, r, Duration::ZERO);
            }
        }
        true
    }
}
