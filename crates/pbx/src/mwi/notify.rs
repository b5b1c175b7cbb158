//! Our NOTIFYs: in a subscription's dialog (RFC 6665 §4.2.2) and unsolicited to
//! registered contacts; what their answers and timeouts do; subscription expiry.

use super::{Ending, Sent, CONTENT_TYPE, EVENT};
use crate::core::Pbx;
use crate::events::{PbxEvent, SubscriptionChange, SubscriptionEnd};
use crate::Peer;
use sip::dialog::{new_branch, new_call_id, new_tag};
use sip::header::HeaderName;
use sip::transaction::ClientTxId;
use sip::{Method, Request, Response, Uri};
use std::time::Instant;

pub(super) fn transport_param(peer: Peer) -> &'static str {
    if peer.transport.is_reliable() {
        ";transport=tcp"
    } else {
        ""
    }
}

fn via_transport(peer: Peer) -> &'static str {
    if peer.transport.is_reliable() {
        "TCP"
    } else {
        "UDP"
    }
}

/// RFC 6665 §4.2.2: a NOTIFY failed when it timed out or got a final non-2xx answer
/// without Retry-After; a 481 always ends the subscription.
fn failed(resp: &Response) -> bool {
    let status = resp.status.0;
    if status < 300 {
        return false;
    }
    let retry_after = resp
        .headers
        .iter()
        .any(|h| h.name.as_str().eq_ignore_ascii_case("Retry-After"));
    status == 481 || !retry_after
}

/// The common headers of a NOTIFY with our body.
fn add_summary(req: &mut Request, event: &str, state: &str, body: Vec<u8>, server: &str) {
    let h = &mut req.headers;
    h.push(HeaderName::Event, event.to_string());
    h.push(HeaderName::SubscriptionState, state.to_string());
    h.push(HeaderName::Other("Allow-Events".into()), EVENT);
    h.push(HeaderName::UserAgent, server.to_string());
    h.push(HeaderName::ContentType, CONTENT_TYPE);
    req.body = body;
}

impl Pbx {
    /// Sends subscription `id` its NOTIFY: the current state while active, the final
    /// `terminated` one once ending. With a NOTIFY still unanswered it only notes that
    /// another is due (sent with the then latest state when the answer comes).
    pub(super) fn send_subscription_notify(&mut self, now: Instant, id: u64) {
        let Some(extension) = self.mwi.subs.get(&id).map(|s| s.extension.clone()) else {
            return;
        };
        let body = self.mwi.body(&extension);
        let Some(sub) = self.mwi.subs.get_mut(&id) else {
            return;
        };
        if sub.final_sent {
            return;
        }
        if sub.in_flight.is_some() {
            sub.dirty = true;
            return;
        }
        sub.dirty = false;
        let state = match sub.ending {
            Some(_) => {
                sub.final_sent = true;
                "terminated;reason=timeout".to_string()
            }
            None => format!(
                "active;expires={}",
                sub.expires_at.saturating_duration_since(now).as_secs()
            ),
        };
        let Ok(target) = sub.remote_target.parse::<Uri>() else {
            return self.drop_subscription(id, SubscriptionEnd::NotifyFailed { status: 0 });
        };
        sub.local_cseq += 1;
        let mut req = Request::new(Method::Notify, target);
        let h = &mut req.headers;
        h.push(
            HeaderName::Via,
            format!(
                "SIP/2.0/{} {};branch={};rport",
                via_transport(sub.peer),
                sub.local_host,
                new_branch()
            ),
        );
        h.push(HeaderName::MaxForwards, "70");
        h.push(
            HeaderName::From,
            format!("{};tag={}", sub.local, sub.dialog.2),
        );
        h.push(HeaderName::To, sub.remote.clone());
        h.push(HeaderName::CallId, sub.dialog.0.clone());
        h.push(HeaderName::CSeq, format!("{} NOTIFY", sub.local_cseq));
        h.push(
            HeaderName::Contact,
            format!(
                "<sip:{}@{}{}>",
                sub.extension,
                sub.local_host,
                transport_param(sub.peer)
            ),
        );
        let (event, peer) = (sub.event.clone(), sub.peer);
        add_summary(&mut req, &event, &state, body, &self.settings.server_name);
        match self.transactions.send_request(now, req, peer) {
            Ok(ctx) => {
                if let Some(sub) = self.mwi.subs.get_mut(&id) {
                    sub.in_flight = Some(ctx);
                }
                self.mwi.by_tx.insert(ctx, Sent::Dialog(id));
            }
            Err(e) => {
                tracing::debug!(error = %e, "message-summary NOTIFY not sent");
                self.drop_subscription(id, SubscriptionEnd::NotifyFailed { status: 0 });
            }
        }
    }

    /// Unsolicited NOTIFYs with the mailbox's state to those of `contacts` (bound to
    /// `extension`) that have no subscription of their own. Nothing when the shell has
    /// not told the mailbox's state: a system without voicemail sends none.
    pub(super) fn send_unsolicited(&mut self, now: Instant, extension: &str, contacts: &[String]) {
        let Some(summary) = self.mwi.summaries.get(extension) else {
            return;
        };
        let body = summary.body.clone();
        let bindings: Vec<_> = self
            .location
            .bindings(extension)
            .iter()
            .filter(|b| contacts.contains(&b.contact))
            .filter(|b| {
                // A phone that subscribed hears it in its dialog; matched by its Contact
                // or by the address it sends from.
                !self.mwi.subs.values().any(|s| {
                    s.extension == extension
                        && s.ending.is_none()
                        && (s.remote_target == b.contact || s.peer == b.source)
                })
            })
            .cloned()
            .collect();
        for b in bindings {
            let Ok(target) = b.contact.parse::<Uri>() else {
                continue;
            };
            let dest = b.target();
            let mut req = Request::new(Method::Notify, target);
            let h = &mut req.headers;
            h.push(
                HeaderName::Via,
                format!(
                    "SIP/2.0/{} {};branch={};rport",
                    via_transport(dest),
                    b.registrar,
                    new_branch()
                ),
            );
            h.push(HeaderName::MaxForwards, "70");
            h.push(
                HeaderName::From,
                format!("<sip:{extension}@{}>;tag={}", b.registrar, new_tag()),
            );
            h.push(HeaderName::To, format!("<sip:{extension}@{}>", b.registrar));
            h.push(HeaderName::CallId, new_call_id(&b.registrar));
            h.push(HeaderName::CSeq, "1 NOTIFY");
            h.push(
                HeaderName::Contact,
                format!("<sip:{extension}@{}{}>", b.registrar, transport_param(dest)),
            );
            // No subscription stands behind it; "active" is what phones that take
            // unsolicited NOTIFYs expect to see, if they look at all.
            add_summary(
                &mut req,
                EVENT,
                "active",
                body.clone(),
                &self.settings.server_name,
            );
            match self.transactions.send_request(now, req, dest) {
                Ok(ctx) => {
                    self.mwi.by_tx.insert(
                        ctx,
                        Sent::Unsolicited {
                            extension: extension.to_string(),
                            contact: b.contact.clone(),
                        },
                    );
                }
                Err(e) => tracing::debug!(error = %e, "unsolicited NOTIFY not sent"),
            }
        }
    }

    /// A REGISTER for `extension` succeeded; `before` held its bindings as (contact,
    /// Call-ID) until then. While messages wait, contacts bound anew, or re-bound with a
    /// new Call-ID (the phone restarted), are told so unsolicited. With none waiting they
    /// are not: a phone starts with its lamp off, and phones that take no unsolicited
    /// NOTIFY would only answer each registration's with an error.
    pub(crate) fn mwi_registered(
        &mut self,
        now: Instant,
        extension: &str,
        before: &[(String, String)],
    ) {
        if !self.mwi.summaries.get(extension).is_some_and(|s| s.waiting) {
            return;
        }
        let fresh: Vec<String> = self
            .location
            .bindings(extension)
            .iter()
            .filter(|b| {
                !before
                    .iter()
                    .any(|(c, id)| *c == b.contact && *id == b.call_id)
            })
            .map(|b| b.contact.clone())
            .collect();
        if !fresh.is_empty() {
            self.send_unsolicited(now, extension, &fresh);
        }
    }

    /// The answer to a client transaction: true when it was one of our NOTIFYs.
    pub(crate) fn mwi_on_response(
        &mut self,
        now: Instant,
        ctx: ClientTxId,
        resp: &Response,
    ) -> bool {
        if !self.mwi.by_tx.contains_key(&ctx) {
            return false;
        }
        if resp.status.0 < 200 {
            return true;
        }
        let status = resp.status.0;
        match self.mwi.by_tx.remove(&ctx) {
            Some(Sent::Dialog(id)) => {
                if failed(resp) {
                    self.drop_subscription(id, SubscriptionEnd::NotifyFailed { status });
                } else {
                    self.notify_settled(now, id);
                }
            }
            // Phones that do not take unsolicited NOTIFYs say so; nothing to undo.
            Some(Sent::Unsolicited { extension, contact }) if status >= 300 => {
                tracing::debug!(%extension, %contact, status, "unsolicited NOTIFY refused");
            }
            Some(Sent::Unsolicited { .. }) | None => {}
        }
        true
    }

    /// A client transaction timed out: true when it was one of our NOTIFYs.
    pub(crate) fn mwi_on_timeout(&mut self, ctx: ClientTxId) -> bool {
        match self.mwi.by_tx.remove(&ctx) {
            Some(Sent::Dialog(id)) => {
                self.drop_subscription(id, SubscriptionEnd::NotifyTimedOut);
                true
            }
            Some(Sent::Unsolicited { extension, contact }) => {
                tracing::debug!(%extension, %contact, "unsolicited NOTIFY unanswered");
                true
            }
            None => false,
        }
    }

    /// Subscriptions whose time has come end with their final NOTIFY.
    pub(crate) fn mwi_handle_timeout(&mut self, now: Instant) {
        while let Some(&(at, id)) = self.mwi.expiries.first() {
            if at > now {
                break;
            }
            self.mwi.expiries.remove(&(at, id));
            self.end_subscription(now, id, Ending::Expired);
        }
    }

    /// A NOTIFY of subscription `id` was answered with success: the final one ends it;
    /// otherwise a change that came meanwhile goes out now.
    fn notify_settled(&mut self, now: Instant, id: u64) {
        let Some(sub) = self.mwi.subs.get_mut(&id) else {
            return;
        };
        sub.in_flight = None;
        if sub.final_sent {
            self.mwi.subs.remove(&id);
        } else if sub.dirty || sub.ending.is_some() {
            self.send_subscription_notify(now, id);
        }
    }

    /// Removes a subscription at once, without a further NOTIFY (the phone does not
    /// answer or refused ours). An ending one was announced already.
    fn drop_subscription(&mut self, id: u64, why: SubscriptionEnd) {
        let Some(sub) = self.mwi.subs.remove(&id) else {
            return;
        };
        self.mwi.by_dialog.remove(&sub.dialog);
        self.mwi.expiries.remove(&(sub.expires_at, id));
        if let Some(ctx) = sub.in_flight {
            self.mwi.by_tx.remove(&ctx);
        }
        if sub.ending.is_none() {
            self.events.push_back(PbxEvent::MessageWaitingSubscription {
                extension: sub.extension,
                contact: sub.remote_target,
                change: SubscriptionChange::Ended(why),
            });
        }
    }
}
