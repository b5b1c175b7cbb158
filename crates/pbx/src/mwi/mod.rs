//! Message waiting indication: the `message-summary` event package (RFC 3842) over
//! SUBSCRIBE/NOTIFY (RFC 6665), and unsolicited NOTIFYs for phones that never subscribe.
//!
//! The core does not read mailboxes (that would pull the voicemail store into call
//! control): the shell tells it the state of each mailbox with
//! [`Pbx::set_message_summary`] — whether messages wait, and the RFC 3842 body the
//! voicemail crate rendered — and the core keeps the latest per extension. The extension
//! number is the mailbox.
//!
//! A subscription (RFC 6665 §4.1.2 subscriber, §4.2 notifier):
//!
//! ```text
//!  SUBSCRIBE (authenticated, own mailbox) ─200 + Expires─▶ Active ─NOTIFY active;expires=N
//!     Active ── in-dialog SUBSCRIBE ──▶ Active (expiry reset, NOTIFY)
//!     Active ── mailbox changed ──────▶ NOTIFY (one in flight per dialog; changes meanwhile
//!                                        coalesce into one more NOTIFY with the latest state)
//!     Active ── Expires: 0 / expiry ──▶ Ending ─NOTIFY terminated;reason=timeout─▶ gone
//!     any ───── NOTIFY 481, other failure without Retry-After, or no answer ───▶ gone
//! ```
//!
//! Unsubscribing is a refresh with `Expires: 0` (RFC 6665 §4.1.2.3), so the subscription
//! ends by running out: its final NOTIFY says `reason=timeout`, as on expiry (§4.2.2).
//! An initial SUBSCRIBE with `Expires: 0` is a fetch: 200, then one terminated NOTIFY with
//! the current state.
//!
//! Unsolicited NOTIFYs (out of any dialog; many phones light their lamp only from these)
//! go to every registered contact of the extension that has no subscription of its own:
//! whenever the mailbox changes, and — while messages wait — when a contact registers anew
//! (a new binding, or a known one with a new Call-ID: the phone restarted and its lamp is
//! off). Their answers are only logged.
//!
//! Files: this one holds the state and the SUBSCRIBE side; `notify` builds and sends the
//! NOTIFYs and handles their answers and the expiry timers.

mod notify;

use crate::core::Pbx;
use crate::events::{PbxEvent, SubscriptionChange, SubscriptionEnd};
use crate::registrar::host_port;
use crate::Peer;
use sip::header::{CSeq, HeaderName, NameAddr};
use sip::transaction::{ClientTxId, ServerTxId};
use sip::{Request, Response, StatusCode};
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// The event package (RFC 3842 §3.1).
pub(crate) const EVENT: &str = "message-summary";
/// The body type of its NOTIFYs (RFC 3842 §3.3).
pub(crate) const CONTENT_TYPE: &str = "application/simple-message-summary";
/// Shortest subscription we accept; shorter asks get 423 (RFC 6665 §4.2.1.1). A minute
/// keeps a misconfigured phone from refreshing in a tight loop.
pub(crate) const MIN_EXPIRES: u32 = 60;
/// Longest subscription we grant; longer asks are shortened. An hour bounds how long a
/// vanished phone's subscription lingers.
pub(crate) const MAX_EXPIRES: u32 = 3600;
/// The duration when the SUBSCRIBE names none (RFC 3842 §3.2 leaves it to the server).
pub(crate) const DEFAULT_EXPIRES: u32 = 3600;
/// The body sent to a subscriber before the shell has said anything about the mailbox.
const NOTHING_KNOWN: &[u8] = b"Messages-Waiting: no\r\n";

/// What the shell last said about a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Summary {
    waiting: bool,
    body: Vec<u8>,
}

/// (Call-ID, the subscriber's tag, our tag): what identifies a subscription's dialog.
type DialogKey = (String, String, String);

/// Why a subscription is ending; the wire reason and the event follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    Unsubscribed,
    Expired,
    Fetched,
}

impl Ending {
    fn event(self) -> SubscriptionEnd {
        match self {
            Ending::Unsubscribed | Ending::Fetched => SubscriptionEnd::Unsubscribed,
            Ending::Expired => SubscriptionEnd::Expired,
        }
    }
}

/// One phone's subscription to its mailbox: a dialog in which we are the notifier.
#[derive(Debug)]
struct Subscription {
    extension: String,
    dialog: DialogKey,
    /// The SUBSCRIBE's To value (untagged): our From, with our tag added.
    local: String,
    /// The SUBSCRIBE's From value (with the subscriber's tag): our To.
    remote: String,
    /// The subscriber's Contact: the Request-URI of our NOTIFYs.
    remote_target: String,
    /// Where the SUBSCRIBE came from: our NOTIFYs go back there (NAT, TCP), as requests
    /// in a call's caller dialog do.
    peer: Peer,
    /// `host[:port]` by which the phone reached us: our Via and Contact towards it.
    local_host: String,
    /// The Event value as subscribed (an `id` parameter must be echoed, RFC 6665 §8.2.1).
    event: String,
    remote_cseq: u32,
    local_cseq: u32,
    expires_at: Instant,
    /// Set once the subscription is ending: the final NOTIFY is due or on its way.
    ending: Option<Ending>,
    /// Our NOTIFY waiting for its answer. One at a time: a second one could overtake it
    /// over UDP, and the phone must refuse a lower CSeq (RFC 3261 §12.2.2) with 500.
    in_flight: Option<ClientTxId>,
    /// The state changed while a NOTIFY was in flight: send another when it is answered.
    dirty: bool,
    final_sent: bool,
}

/// Which of our NOTIFYs a client transaction carries.
#[derive(Debug, Clone)]
enum Sent {
    /// In the dialog of this subscription.
    Dialog(u64),
    /// Out of dialog, to a registered contact of this extension.
    Unsolicited { extension: String, contact: String },
}

/// The notifier's state: mailbox summaries, subscriptions, our NOTIFYs in flight.
#[derive(Debug, Default)]
pub(crate) struct MessageWaiting {
    summaries: HashMap<String, Summary>,
    subs: HashMap<u64, Subscription>,
    by_dialog: HashMap<DialogKey, u64>,
    by_tx: HashMap<ClientTxId, Sent>,
    /// Expiry instants of the active subscriptions, earliest first.
    expiries: BTreeSet<(Instant, u64)>,
    next_id: u64,
}

impl MessageWaiting {
    /// The earliest instant a subscription expires.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.expiries.first().map(|(at, _)| *at)
    }

    /// The body to send for a mailbox.
    fn body(&self, extension: &str) -> Vec<u8> {
        self.summaries
            .get(extension)
            .map_or_else(|| NOTHING_KNOWN.to_vec(), |s| s.body.clone())
    }
}

/// The event package a SUBSCRIBE names (the token before any parameter), lower-cased.
fn event_package(req: &Request) -> Option<String> {
    let value = req.headers.get(&HeaderName::Event)?;
    let package = value.split(';').next()?.trim();
    (!package.is_empty()).then(|| package.to_ascii_lowercase())
}

/// `Expires` of a SUBSCRIBE: `Ok(None)` when absent, `Err` when not a number.
fn requested_expires(req: &Request) -> Result<Option<u32>, ()> {
    match req.headers.get(&HeaderName::Expires).map(str::trim) {
        None => Ok(None),
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(
            v.parse::<u64>()
                .unwrap_or(u64::MAX)
                .min(u64::from(u32::MAX)) as u32,
        )),
        Some(_) => Err(()),
    }
}

/// True when an `Accept` header (if any) admits our body type (RFC 3842 §3.3: a
/// subscriber that accepts none of it cannot be served).
fn accepts_summary(req: &Request) -> bool {
    let mut values = req.headers.get_all(&HeaderName::Accept).peekable();
    if values.peek().is_none() {
        return true;
    }
    values
        .flat_map(|v| v.split(','))
        .map(|t| t.split(';').next().unwrap_or_default().trim())
        .any(|t| {
            t.eq_ignore_ascii_case(CONTENT_TYPE)
                || t.eq_ignore_ascii_case("application/*")
                || t == "*/*"
        })
}

fn tag_in(value: Option<&str>) -> Option<String> {
    NameAddr::parse(value?).ok()?.tag().map(str::to_string)
}

fn contact_uri(req: &Request) -> Option<String> {
    let value = req.headers.get(&HeaderName::Contact)?;
    let first = value.split(',').next()?;
    NameAddr::parse(first).ok().map(|na| na.uri.to_string())
}

impl Pbx {
    /// The state of `extension`'s mailbox changed (or is told for the first time):
    /// `waiting` when new messages wait, `body` the `application/simple-message-summary`
    /// body (RFC 3842) to send. Every subscription to the mailbox gets a NOTIFY at once,
    /// and every registered contact of the extension without a subscription of its own
    /// an unsolicited one. Telling the same state again sends nothing.
    pub fn set_message_summary(
        &mut self,
        now: Instant,
        extension: &str,
        waiting: bool,
        body: Vec<u8>,
    ) {
        let summary = Summary { waiting, body };
        if self.mwi.summaries.get(extension) == Some(&summary) {
            return;
        }
        self.mwi.summaries.insert(extension.to_string(), summary);
        let mut ids: Vec<u64> = self
            .mwi
            .subs
            .iter()
            .filter(|(_, s)| s.extension == extension && s.ending.is_none())
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        for id in ids {
            self.send_subscription_notify(now, id);
        }
        let contacts: Vec<String> = self
            .location
            .bindings(extension)
            .iter()
            .map(|b| b.contact.clone())
            .collect();
        self.send_unsolicited(now, extension, &contacts);
    }

    /// Whether new messages wait in `extension`'s mailbox, as the shell last said
    /// (`None` when it said nothing).
    pub fn message_waiting(&self, extension: &str) -> Option<bool> {
        self.mwi.summaries.get(extension).map(|s| s.waiting)
    }

    /// Number of live `message-summary` subscriptions (status views, leak checks).
    pub fn mwi_subscription_count(&self) -> usize {
        self.mwi.subs.len()
    }

    /// True when `number` is a hunt group with a mailbox and `extension` one of its
    /// members: the member's phone may watch the group's mailbox.
    fn group_mailbox_of_member(&self, number: &str, extension: &str) -> bool {
        self.features.group(number).is_some_and(|g| {
            g.voicemail_after.is_some() && g.members.iter().any(|m| m == extension)
        })
    }

    /// An authenticated SUBSCRIBE outside any dialog from `extension`.
    pub(crate) fn on_subscribe(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: Request,
        extension: String,
    ) {
        if event_package(&req).as_deref() != Some(EVENT) {
            return self.refuse_event(now, tx, &req);
        }
        // The mailbox is the Request-URI's user: the phone's own number (or none, which
        // names the own mailbox too), or the number of a hunt group the phone's user is a
        // member of, when the group has a mailbox. Any other mailbox is not its business.
        let mailbox = match req.uri.user() {
            None => extension.clone(),
            Some(u) if u == extension => extension.clone(),
            Some(u) if self.group_mailbox_of_member(u, &extension) => u.to_string(),
            Some(u) if self.directory.contains(u) || self.features.group(u).is_some() => {
                return self.reply(now, tx, &req, StatusCode::FORBIDDEN)
            }
            Some(_) => return self.reply(now, tx, &req, StatusCode::NOT_FOUND),
        };
        if !accepts_summary(&req) {
            return self.reply(now, tx, &req, StatusCode(406));
        }
        let Some(expires) = self.granted_expires(now, tx, &req) else {
            return;
        };
        let (Some(remote_target), Some(cseq), Some(remote_tag)) = (
            contact_uri(&req),
            req.headers
                .get(&HeaderName::CSeq)
                .and_then(|v| CSeq::parse(v).ok()),
            tag_in(req.headers.get(&HeaderName::From)),
        ) else {
            let mut resp = self.response(&req, StatusCode::BAD_REQUEST);
            resp.reason = "Bad Request (SUBSCRIBE needs a Contact, a CSeq and a From tag)".into();
            return self.respond_now(now, tx, resp);
        };
        let mut resp = self.response(&req, StatusCode::OK);
        let local_tag = tag_in(resp.headers.get(&HeaderName::To)).unwrap_or_default();
        let local_host = host_port(&req.uri);
        self.finish_subscribe_response(&mut resp, expires, &mailbox, &local_host, source);
        self.respond_now(now, tx, resp);

        let id = self.mwi.next_id;
        self.mwi.next_id += 1;
        let dialog = (
            req.headers
                .get(&HeaderName::CallId)
                .unwrap_or_default()
                .to_string(),
            remote_tag,
            local_tag,
        );
        let expires_at = now + Duration::from_secs(u64::from(expires));
        let sub = Subscription {
            extension: mailbox.clone(),
            dialog: dialog.clone(),
            local: req
                .headers
                .get(&HeaderName::To)
                .unwrap_or_default()
                .to_string(),
            remote: req
                .headers
                .get(&HeaderName::From)
                .unwrap_or_default()
                .to_string(),
            remote_target: remote_target.clone(),
            peer: source,
            local_host,
            event: req
                .headers
                .get(&HeaderName::Event)
                .unwrap_or(EVENT)
                .trim()
                .to_string(),
            remote_cseq: cseq.seq,
            local_cseq: 0,
            expires_at,
            ending: None,
            in_flight: None,
            dirty: false,
            final_sent: false,
        };
        self.mwi.subs.insert(id, sub);
        if expires == 0 {
            // A fetch: the state once, in a NOTIFY that also ends it (RFC 6665 §4.4.3).
            self.end_subscription(now, id, Ending::Fetched);
            return;
        }
        self.mwi.by_dialog.insert(dialog, id);
        self.mwi.expiries.insert((expires_at, id));
        self.events.push_back(PbxEvent::MessageWaitingSubscription {
            extension: mailbox,
            contact: remote_target,
            change: SubscriptionChange::Started { expires },
        });
        self.send_subscription_notify(now, id);
    }

    /// A SUBSCRIBE inside a dialog: a refresh or an unsubscribe of one of our
    /// subscriptions. False when no subscription has this dialog (the caller tries calls,
    /// then answers 481).
    pub(crate) fn on_subscribe_in_dialog(
        &mut self,
        now: Instant,
        tx: ServerTxId,
        req: &Request,
    ) -> bool {
        let key = (
            req.headers
                .get(&HeaderName::CallId)
                .unwrap_or_default()
                .to_string(),
            tag_in(req.headers.get(&HeaderName::From)).unwrap_or_default(),
            tag_in(req.headers.get(&HeaderName::To)).unwrap_or_default(),
        );
        let Some(&id) = self.mwi.by_dialog.get(&key) else {
            return false;
        };
        if event_package(req).as_deref() != Some(EVENT) {
            self.refuse_event(now, tx, req);
            return true;
        }
        let cseq = req
            .headers
            .get(&HeaderName::CSeq)
            .and_then(|v| CSeq::parse(v).ok())
            .map(|c| c.seq);
        let in_order = match (cseq, self.mwi.subs.get(&id)) {
            (Some(c), Some(sub)) => c > sub.remote_cseq,
            _ => false,
        };
        if !in_order {
            // RFC 3261 §12.2.2: a lower or equal CSeq is out of order.
            self.reply(now, tx, req, StatusCode::SERVER_ERROR);
            return true;
        }
        let Some(expires) = self.granted_expires(now, tx, req) else {
            return true;
        };
        let Some(sub) = self.mwi.subs.get_mut(&id) else {
            return false;
        };
        sub.remote_cseq = cseq.unwrap_or(sub.remote_cseq);
        if let Some(target) = contact_uri(req) {
            sub.remote_target = target;
        }
        let (extension, local_host, peer) =
            (sub.extension.clone(), sub.local_host.clone(), sub.peer);
        let mut resp = Response::for_request(req, StatusCode::OK);
        resp.headers
            .push(HeaderName::Server, self.settings.server_name.clone());
        self.finish_subscribe_response(&mut resp, expires, &extension, &local_host, peer);
        self.respond_now(now, tx, resp);
        if expires == 0 {
            self.end_subscription(now, id, Ending::Unsubscribed);
            return true;
        }
        if let Some(sub) = self.mwi.subs.get_mut(&id) {
            self.mwi.expiries.remove(&(sub.expires_at, id));
            sub.expires_at = now + Duration::from_secs(u64::from(expires));
            self.mwi.expiries.insert((sub.expires_at, id));
        }
        // RFC 6665 §4.2.1.2: a refresh is confirmed with a NOTIFY of the current state.
        self.send_subscription_notify(now, id);
        true
    }

    /// The duration to grant a SUBSCRIBE, or `None` when it was refused here (423 with
    /// Min-Expires, or 400 for an unreadable Expires).
    fn granted_expires(&mut self, now: Instant, tx: ServerTxId, req: &Request) -> Option<u32> {
        match requested_expires(req) {
            Err(()) => {
                let mut resp = self.response(req, StatusCode::BAD_REQUEST);
                resp.reason = "Bad Request (Expires is not a number)".into();
                self.respond_now(now, tx, resp);
                None
            }
            Ok(None) => Some(DEFAULT_EXPIRES),
            Ok(Some(0)) => Some(0),
            Ok(Some(asked)) if asked < MIN_EXPIRES => {
                let mut resp = self.response(req, StatusCode::INTERVAL_TOO_BRIEF);
                resp.headers
                    .push(HeaderName::MinExpires, MIN_EXPIRES.to_string());
                self.respond_now(now, tx, resp);
                None
            }
            Ok(Some(asked)) => Some(asked.min(MAX_EXPIRES)),
        }
    }

    /// 489 Bad Event naming the one package we serve (RFC 6665 §8.2.2).
    fn refuse_event(&mut self, now: Instant, tx: ServerTxId, req: &Request) {
        let mut resp = self.response(req, StatusCode(489));
        resp.reason = "Bad Event".into();
        resp.headers
            .push(HeaderName::Other("Allow-Events".into()), EVENT);
        self.respond_now(now, tx, resp);
    }

    /// The headers every 200 to a SUBSCRIBE carries: the granted Expires (RFC 6665
    /// §4.2.1.1) and our Contact (it establishes or refreshes a dialog).
    fn finish_subscribe_response(
        &self,
        resp: &mut Response,
        expires: u32,
        extension: &str,
        local_host: &str,
        peer: Peer,
    ) {
        resp.headers.push(HeaderName::Expires, expires.to_string());
        resp.headers.push(
            HeaderName::Contact,
            format!(
                "<sip:{extension}@{local_host}{}>",
                notify::transport_param(peer)
            ),
        );
        resp.headers
            .push(HeaderName::Other("Allow-Events".into()), EVENT);
    }

    /// Ends a subscription: out of the dialog table and the timers at once (later
    /// requests in its dialog get 481), the final NOTIFY sent when the line is free.
    fn end_subscription(&mut self, now: Instant, id: u64, why: Ending) {
        let Some(sub) = self.mwi.subs.get_mut(&id) else {
            return;
        };
        if sub.ending.is_some() {
            return;
        }
        sub.ending = Some(why);
        let (dialog, at) = (sub.dialog.clone(), sub.expires_at);
        let (extension, contact) = (sub.extension.clone(), sub.remote_target.clone());
        self.mwi.by_dialog.remove(&dialog);
        self.mwi.expiries.remove(&(at, id));
        if why != Ending::Fetched {
            self.events.push_back(PbxEvent::MessageWaitingSubscription {
                extension,
                contact,
                change: SubscriptionChange::Ended(why.event()),
            });
        }
        self.send_subscription_notify(now, id);
    }
}
