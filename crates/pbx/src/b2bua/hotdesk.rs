//! Hot desking: a person logs in on any extension with their number and login code
//! (`*35*205*1234#`), and from then on calls to their number ring that extension's phones
//! and calls from it are theirs (their rights, their number in the record). Logging out
//! (`*36`) on that extension, or in there as someone else, or at home, ends it.
//!
//! Like other short codes, the change is confirmed by a brief answer and reported as
//! [`PbxEvent::FeatureChanged`] (on the user's number) for the configuration to keep.

use super::feature_codes::describe;
use super::*;
use crate::events::FeatureChange;
use crate::shortcodes::ShortCodeFeature;

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
                self.features
                    .log_in(device, &number, &code)
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
