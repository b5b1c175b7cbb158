//! Session timers on the caller's dialog (RFC 4028): the call is refreshed by a re-INVITE
//! or UPDATE at least every session interval, and one that is not refreshed in time is
//! dead — a phone that lost power, a NAT that forgot us — and is ended with BYE on both
//! sides, so that no call (nor its media ports, nor its record) hangs on for ever.
//!
//! At setup we agree an interval and a refresher with the caller: its `Session-Expires`
//! when it names one (422 with our `Min-SE` when that is below our minimum and the caller
//! supports timers, since it can then retry), otherwise our default. The caller refreshes
//! when it supports timers; otherwise we do, with UPDATE when it allows that, else with a
//! re-INVITE repeating the last session description we gave it. Any successful re-INVITE
//! or UPDATE in the caller's dialog, whichever side sent it, counts as a refresh (§10).
//! The callee's dialog carries no timer of ours: refreshes are relayed into it, and a
//! callee that stops answering them fails the relayed refresh and so the call.

use super::*;
use crate::settings::PbxSettings;

/// Who sends the refreshes on the caller's dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refresher {
    /// The caller (`refresher=uac` in our 2xx to its INVITE).
    Caller,
    /// This server (`refresher=uas`).
    Us,
}

/// What the caller's INVITE and our settings agree on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Agreement {
    /// The session interval in seconds.
    pub(crate) interval: u32,
    pub(crate) refresher: Refresher,
    /// The caller said `Supported: timer`: our responses then carry `Require: timer`.
    pub(crate) caller_supports: bool,
}

/// The outcome of negotiating a request's session timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Negotiation {
    /// No timer (the caller asked for none and ours is switched off).
    Off,
    /// A timer with these terms.
    Agreed(Agreement),
    /// Refuse with 422 and this Min-SE: the interval asked for is too brief.
    TooBrief(u32),
}

fn has_option_tag(req: &Request, tag: &str) -> bool {
    [HeaderName::Supported, HeaderName::Require]
        .iter()
        .flat_map(|name| req.headers.get_all(name).collect::<Vec<_>>())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(tag))
}

/// `Session-Expires: <delta>[;refresher=uac|uas]` (RFC 4028 §4).
fn parse_session_expires(value: &str) -> Option<(u32, Option<&str>)> {
    let mut parts = value.split(';');
    let delta = parts.next()?.trim().parse().ok()?;
    let refresher = parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("refresher"))
        .map(|(_, v)| v.trim());
    Some((delta, refresher))
}

/// Negotiates the session timer of a request from the caller (its INVITE or a refresh).
/// The roles in the request are the caller's: `uac` is the caller, `uas` is us.
pub(crate) fn negotiate(req: &Request, settings: &PbxSettings) -> Negotiation {
    let supports = has_option_tag(req, "timer");
    let asked_min = req
        .headers
        .get(&HeaderName::MinSe)
        .and_then(|v| v.split(';').next()?.trim().parse::<u32>().ok())
        .unwrap_or(0);
    let min = settings.min_se.max(asked_min);
    let asked = req
        .headers
        .get(&HeaderName::SessionExpires)
        .and_then(parse_session_expires);
    let (interval, refresher) = match asked {
        Some((delta, _)) if delta < settings.min_se && supports => {
            return Negotiation::TooBrief(min);
        }
        // A caller without timer support cannot retry after a 422; raise the interval
        // instead (RFC 4028 errata 1687).
        Some((delta, refresher)) => (delta.max(min), refresher),
        None if settings.session_expires == 0 => return Negotiation::Off,
        None => (settings.session_expires.max(min), None),
    };
    let refresher = match refresher {
        Some(r) if r.eq_ignore_ascii_case("uas") => Refresher::Us,
        Some(r) if r.eq_ignore_ascii_case("uac") && supports => Refresher::Caller,
        // Only a caller that supports timers can be trusted to refresh.
        _ if supports => Refresher::Caller,
        _ => Refresher::Us,
    };
    Negotiation::Agreed(Agreement {
        interval,
        refresher,
        caller_supports: supports,
    })
}

/// A running (or agreed, not yet running) session timer.
#[derive(Debug)]
pub(crate) struct SessionTimer {
    pub(crate) terms: Agreement,
    /// No refresh by then: the call is dead (interval minus the lesser of 32 s and a
    /// third of it, RFC 4028 §10).
    expires_at: Option<Instant>,
    /// When we send our refresh (half the interval), if we are the refresher.
    refresh_at: Option<Instant>,
    /// Our refresh request is under way.
    refreshing: bool,
}

impl SessionTimer {
    /// A timer on these terms, started when the call is answered.
    pub(crate) fn new(terms: Agreement) -> SessionTimer {
        SessionTimer {
            terms,
            expires_at: None,
            refresh_at: None,
            refreshing: false,
        }
    }

    /// (Re)starts the interval at `now`.
    pub(crate) fn start(&mut self, now: Instant) {
        let interval = u64::from(self.terms.interval);
        let margin = (interval / 3).min(32);
        self.expires_at = Some(now + Duration::from_secs(interval - margin));
        self.refresh_at = (self.terms.refresher == Refresher::Us)
            .then(|| now + Duration::from_secs(interval / 2));
        self.refreshing = false;
    }

    /// The next instant the timer needs attention.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        let refresh = self.refresh_at.filter(|_| !self.refreshing);
        [self.expires_at, refresh].into_iter().flatten().min()
    }

    /// `Session-Expires` for a response to the caller (roles as the caller sees them).
    fn response_value(&self) -> String {
        let who = match self.terms.refresher {
            Refresher::Caller => "uac",
            Refresher::Us => "uas",
        };
        format!("{};refresher={who}", self.terms.interval)
    }

    /// `Session-Expires` for a request we send to the caller (we are its UAC then).
    fn request_value(&self) -> String {
        let who = match self.terms.refresher {
            Refresher::Caller => "uas",
            Refresher::Us => "uac",
        };
        format!("{};refresher={who}", self.terms.interval)
    }

    /// Adds the timer to a 2xx we send the caller for its INVITE or refresh.
    pub(crate) fn stamp_response(&self, resp: &mut Response) {
        resp.headers
            .push(HeaderName::SessionExpires, self.response_value());
        if self.terms.caller_supports {
            resp.headers.push(HeaderName::Require, "timer");
        }
    }

    /// Adds the timer to a re-INVITE or UPDATE we send the caller.
    pub(crate) fn stamp_request(&self, req: &mut Request) {
        req.headers
            .push(HeaderName::SessionExpires, self.request_value());
        req.headers.push(HeaderName::Supported, "timer");
    }
}

/// A 422 for a request whose session interval is below `min_se`.
pub(crate) fn too_brief(pbx: &Pbx, req: &Request, min_se: u32) -> Response {
    let mut r = pbx.response(req, StatusCode(422));
    r.headers.push(HeaderName::MinSe, min_se.to_string());
    r
}

impl Pbx {
    /// A successful re-INVITE or UPDATE in the caller's dialog: the session lives on, on
    /// the new terms when the caller sent some.
    pub(super) fn session_refreshed(&mut self, now: Instant, id: u64, terms: Option<Agreement>) {
        let Some(timer) = self.calls.calls.get_mut(&id).and_then(|c| c.timer.as_mut()) else {
            return;
        };
        if let Some(terms) = terms {
            timer.terms = terms;
        }
        timer.start(now);
        self.calls.schedule(id);
    }

    /// The session timer fired: refresh (if it is our turn) or end a dead call.
    pub(super) fn session_timer_due(&mut self, now: Instant, id: u64) {
        let Some(timer) = self.calls.calls.get_mut(&id).and_then(|c| c.timer.as_mut()) else {
            return;
        };
        if timer.expires_at.is_some_and(|t| now >= t) {
            return self.hang_up_both(now, id, "session timer expired");
        }
        if timer.refreshing || timer.refresh_at.is_none_or(|t| now < t) {
            return;
        }
        timer.refreshing = true;
        self.send_session_refresh(now, id);
    }

    /// Our refresh of the caller's dialog: UPDATE without a body when the caller allows
    /// it, else a re-INVITE repeating the session description it already has.
    fn send_session_refresh(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        let allows_update = call
            .a
            .invite
            .headers
            .get_all(&HeaderName::Allow)
            .flat_map(|v| v.split(','))
            .any(|m| m.trim().eq_ignore_ascii_case("UPDATE"));
        let method = if allows_update || call.a.last_sdp.is_empty() {
            Method::Update
        } else {
            Method::Invite
        };
        let sdp = call.a.last_sdp.clone();
        let contact = midcall::our_contact(call, Side::Caller);
        let Some((mut req, peer)) = self.a_request(id, method.clone()) else {
            return;
        };
        req.headers.push(HeaderName::Contact, contact);
        if let Some(timer) = self.calls.calls.get(&id).and_then(|c| c.timer.as_ref()) {
            timer.stamp_request(&mut req);
        }
        if method == Method::Invite {
            req.headers.push(HeaderName::ContentType, "application/sdp");
            req.body = sdp;
        }
        match self.transactions.send_request(now, req.clone(), peer) {
            Ok(ctx) => {
                self.calls.refreshes.insert(ctx, (id, req));
            }
            Err(e) => tracing::debug!(error = %e, "session refresh not sent"),
        }
    }

    /// The caller answered our refresh. 408 and 481 mean the dialog is gone (RFC 4028
    /// §10); any other final answer shows the caller alive.
    pub(super) fn on_refresh_response(&mut self, now: Instant, ctx: ClientTxId, resp: Response) {
        if resp.status.is_provisional() {
            return;
        }
        let Some((id, sent)) = self.calls.refreshes.remove(&ctx) else {
            return;
        };
        if sent.method == Method::Invite && resp.status.is_success() {
            let peer = self.calls.calls.get(&id).map(|c| c.a.peer);
            if let Some(peer) = peer {
                self.transactions
                    .send_stateless(peer, &sip::Message::Request(midcall::ack_for(&sent)));
            }
        }
        match resp.status.0 {
            408 | 481 => self.hang_up_both(now, id, "session refresh failed"),
            _ => self.session_refreshed(now, id, None),
        }
    }

    /// Our refresh got no answer at all.
    pub(super) fn on_refresh_timeout(&mut self, now: Instant, ctx: ClientTxId) {
        if let Some((id, _)) = self.calls.refreshes.remove(&ctx) {
            self.hang_up_both(now, id, "session refresh unanswered");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite(headers: &[(&str, &str)]) -> Request {
        let mut text = String::from(
            "INVITE sip:202@pbx SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n\
             From: <sip:201@pbx>;tag=1\r\nTo: <sip:202@pbx>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n",
        );
        for (n, v) in headers {
            text.push_str(&format!("{n}: {v}\r\n"));
        }
        text.push_str("Content-Length: 0\r\n\r\n");
        match sip::parse_message(text.as_bytes()) {
            Ok(sip::Message::Request(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    fn agreed(interval: u32, refresher: Refresher, caller_supports: bool) -> Negotiation {
        Negotiation::Agreed(Agreement {
            interval,
            refresher,
            caller_supports,
        })
    }

    #[test]
    fn a_brief_interval_from_a_timer_aware_caller_gets_422() {
        let s = PbxSettings::default();
        let r = invite(&[("Supported", "timer"), ("Session-Expires", "60")]);
        assert_eq!(negotiate(&r, &s), Negotiation::TooBrief(90));
        // Its own Min-SE raises ours in the 422.
        let r = invite(&[("k", "timer"), ("x", "60"), ("Min-SE", "120")]);
        assert_eq!(negotiate(&r, &s), Negotiation::TooBrief(120));
    }

    #[test]
    fn a_brief_interval_from_an_unaware_caller_is_raised() {
        let s = PbxSettings::default();
        let r = invite(&[("Session-Expires", "60")]);
        assert_eq!(negotiate(&r, &s), agreed(90, Refresher::Us, false));
    }

    #[test]
    fn the_callers_terms_are_kept() {
        let s = PbxSettings::default();
        let r = invite(&[
            ("Supported", "100rel, timer"),
            ("Session-Expires", "300;refresher=uac"),
        ]);
        assert_eq!(negotiate(&r, &s), agreed(300, Refresher::Caller, true));
        let r = invite(&[
            ("Supported", "timer"),
            ("Session-Expires", "300;refresher=uas"),
        ]);
        assert_eq!(negotiate(&r, &s), agreed(300, Refresher::Us, true));
        let r = invite(&[("Supported", "timer"), ("Session-Expires", "300")]);
        assert_eq!(negotiate(&r, &s), agreed(300, Refresher::Caller, true));
    }

    #[test]
    fn without_a_request_our_default_applies_or_none() {
        let mut s = PbxSettings::default();
        assert_eq!(
            negotiate(&invite(&[]), &s),
            agreed(1800, Refresher::Us, false)
        );
        let r = invite(&[("Supported", "timer")]);
        assert_eq!(negotiate(&r, &s), agreed(1800, Refresher::Caller, true));
        s.session_expires = 0;
        assert_eq!(negotiate(&invite(&[]), &s), Negotiation::Off);
    }

    #[test]
    fn expiry_leaves_a_third_or_32_seconds_of_margin() {
        let t0 = Instant::now();
        let mut t = SessionTimer::new(Agreement {
            interval: 90,
            refresher: Refresher::Us,
            caller_supports: false,
        });
        assert_eq!(t.deadline(), None);
        t.start(t0);
        assert_eq!(t.refresh_at, Some(t0 + Duration::from_secs(45)));
        assert_eq!(t.expires_at, Some(t0 + Duration::from_secs(60)));
        assert_eq!(t.deadline(), Some(t0 + Duration::from_secs(45)));
        t.terms.interval = 1800;
        t.start(t0);
        assert_eq!(t.expires_at, Some(t0 + Duration::from_secs(1768)));
    }
}
