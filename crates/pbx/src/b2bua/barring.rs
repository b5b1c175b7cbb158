//! The head of the dial plan for a new call: emergency numbers first, then short codes,
//! which need the internal right like any internal number. Everything after (extensions,
//! hunt groups, outside numbers, with the rights of the class) is decided by the router
//! (`crate::routing`) as the call is admitted.

use super::*;
use crate::dialplan::{CallClass, CallRight, InternalKind};
use crate::routing::{barred_cause, classify};
use crate::shortcodes::ShortCodeFeature;

impl Pbx {
    /// Acts on a short code dialled by `caller`, or refuses it (403) when the caller's
    /// user lacks the internal right. Returns false when the number is no short code (an
    /// emergency number never is, whatever codes are configured), for the call to be
    /// routed.
    pub(super) fn dial_short_code(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        caller: &str,
    ) -> bool {
        let Some(dialled) = req.uri.user() else {
            return false;
        };
        let class = classify(&self.directory, &self.features, dialled).class;
        if class != CallClass::Internal(InternalKind::ShortCode) {
            return false;
        }
        // Logging in and out must work from any phone: that is how a person with rights
        // takes over a desk whose phone has none.
        let hot_desk = matches!(
            self.features.short_codes().lookup(dialled),
            Some((
                ShortCodeFeature::HotDeskLogin | ShortCodeFeature::HotDeskLogout,
                _
            ))
        );
        if !hot_desk
            && !self
                .features
                .rights_at(caller)
                .contains(&CallRight::Internal)
        {
            let cause = barred_cause(&self.features, class, caller);
            let mut refusal = self.response(req, StatusCode::FORBIDDEN);
            refusal.reason = format!("Forbidden ({cause})");
            self.refuse_call(now, tx, req, caller.to_string(), refusal);
            return true;
        }
        self.short_code(now, source, tx, req, caller)
    }
}
