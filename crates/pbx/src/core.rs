//! [`Pbx`]: the sans-IO core that ties the transaction layer, authentication, the registrar
//! and the location service together.
//!
//! Drive it like this (the order matters only in that outputs must be drained after every
//! input):
//! ```text
//! pbx.set_local_time(local)               // the wall clock in the system's time zone,
//!                                         // at least once a second (time profiles)
//! pbx.handle_datagram(now, peer, bytes)   // or handle_timeout(now)
//! while let Some(t) = pbx.poll_transmit() { send t.bytes to t.dest }
//! while let Some(e) = pbx.poll_event() { log / audit it }
//! sleep until pbx.poll_timeout()
//! ```

use crate::events::{PbxEvent, RegistrationView, Stats, Transmit};
use crate::guard::{AuthGuard, BlockTarget};
use crate::location::LocationService;
use crate::registrar::{add_to_tag, handle_register};
use crate::settings::{Directory, PbxSettings};
use crate::Peer;
use sip::auth::{AuthReply, Challenger, DigestAlgorithm, NonceSecret};
use sip::header::{HeaderName, NameAddr};
use sip::transaction::{
    RequestOutcome, ResponseOutcome, ServerTxId, TimerConfig, TransactionEvent, TransactionLayer,
};
use sip::{Message, Method, Request, Response, StatusCode};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::{Duration, Instant};

/// Methods we answer, for `Allow`.
pub(crate) const ALLOW: &str =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, INFO, PRACK, UPDATE, REFER";

/// Option tags we support (RFC 3262 reliable provisionals, RFC 4028 session timers).
pub(crate) const SUPPORTED: &str = "100rel, replaces, timer";

struct Delayed {
    at: Instant,
    seq: u64,
    tx: ServerTxId,
    resp: Response,
}

impl PartialEq for Delayed {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Delayed {}
impl PartialOrd for Delayed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Delayed {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The outcome of checking a request's credentials.
enum AuthCheck {
    /// Authenticated as this extension.
    Ok(String),
    /// Answer with this (after the delay).
    Respond(Response, Duration),
}

/// The call server core. See the module documentation for how to drive it.
pub struct Pbx {
    pub(crate) settings: PbxSettings,
    pub(crate) directory: Directory,
    pub(crate) location: LocationService,
    guard: AuthGuard,
    challenger: Challenger,
    secret: NonceSecret,
    pub(crate) transactions: TransactionLayer,
    epoch: (Instant, u64),
    delayed: BinaryHeap<Reverse<Delayed>>,
    delayed_seq: u64,
    stateless: VecDeque<Transmit>,
    pub(crate) events: VecDeque<PbxEvent>,
    next_sweep: Instant,
    pub(crate) stats: Stats,
    pub(crate) calls: crate::b2bua::Calls,
    pub(crate) media_relay: Option<Box<dyn crate::media::MediaRelay>>,
    pub(crate) features: crate::features::Features,
    pub(crate) mwi: crate::mwi::MessageWaiting,
}

impl Pbx {
    /// A core with these settings and extensions. `now` and `unix_now` (seconds since 1970)
    /// name the same moment: nonces carry wall-clock time so that they survive a restart.
    pub fn new(
        settings: PbxSettings,
        directory: Directory,
        secret: NonceSecret,
        now: Instant,
        unix_now: u64,
    ) -> Pbx {
        let challenger = make_challenger(&secret, &settings);
        Pbx {
            secret,
            guard: AuthGuard::new(settings.guard.clone()),
            challenger,
            settings,
            directory,
            location: LocationService::default(),
            transactions: TransactionLayer::new(TimerConfig::default()),
            epoch: (now, unix_now),
            delayed: BinaryHeap::new(),
            delayed_seq: 0,
            stateless: VecDeque::new(),
            events: VecDeque::new(),
            next_sweep: now + Duration::from_secs(1),
            stats: Stats::default(),
            calls: crate::b2bua::Calls::default(),
            media_relay: None,
            features: crate::features::Features::default(),
            mwi: crate::mwi::MessageWaiting::default(),
        }
    }

    /// Anchors the media of calls through this relay (without one, session descriptions
    /// pass through and endpoints send media to each other).
    pub fn set_media_relay(&mut self, relay: Box<dyn crate::media::MediaRelay>) {
        self.media_relay = Some(relay);
    }

    /// Replaces users and hunt groups (a configuration was applied, or a user changed a
    /// setting by short code).
    pub fn set_features(&mut self, features: crate::features::Features) {
        self.features = features;
    }

    /// Replaces settings and extensions (a configuration was applied). Bindings of
    /// extensions that still exist stay; those of removed extensions go.
    pub fn apply_config(&mut self, settings: PbxSettings, directory: Directory) {
        if settings.realm != self.settings.realm
            || settings.nonce_lifetime != self.settings.nonce_lifetime
            || settings.digest_algorithms != self.settings.digest_algorithms
        {
            self.challenger = make_challenger(&self.secret, &settings);
        }
        self.guard.set_settings(settings.guard.clone());
        self.location.retain_extensions(|e| directory.contains(e));
        self.settings = settings;
        self.directory = directory;
    }

    /// A datagram (or one framed stream message) arrived from `source`.
    pub fn handle_datagram(&mut self, now: Instant, source: Peer, bytes: &[u8]) {
        match sip::parse_message(bytes) {
            Ok(Message::Request(req)) => self.handle_request(now, source, req),
            Ok(Message::Response(resp)) => self.handle_response(now, resp),
            Err(err) => {
                self.stats.malformed += 1;
                let answer = sip::parse::bad_request_response(bytes, &err);
                let answered = answer.is_some();
                match answer {
                    Some(resp) => self.stateless.push_back(Transmit {
                        dest: source,
                        bytes: resp.to_bytes(),
                    }),
                    None => self.stats.dropped += 1,
                }
                self.events.push_back(PbxEvent::Malformed {
                    source,
                    reason: err.to_string(),
                    answered,
                });
            }
        }
    }

    fn handle_response(&mut self, now: Instant, resp: Response) {
        match self.transactions.handle_response(now, resp) {
            ResponseOutcome::Response(ctx, resp) => {
                if !self.mwi_on_response(now, ctx, &resp) {
                    self.on_fork_response(now, ctx, resp);
                }
            }
            // Retransmissions absorbed; strays (e.g. a 2xx after Timer M) dropped.
            ResponseOutcome::Retransmission | ResponseOutcome::Stray(_) => {}
        }
        self.drain_transaction_events(now);
    }

    /// Transaction events: timeouts go to the calls; the rest only need draining.
    fn drain_transaction_events(&mut self, now: Instant) {
        while let Some(ev) = self.transactions.poll_event() {
            if let TransactionEvent::Timeout(ctx) = ev {
                if !self.mwi_on_timeout(ctx) {
                    self.on_client_timeout(now, ctx);
                }
            }
        }
    }

    fn handle_request(&mut self, now: Instant, source: Peer, mut req: Request) {
        self.stats.requests += 1;
        crate::nat::stamp_received(&mut req, source.addr);
        if self
            .guard
            .is_blocked(now, &BlockTarget::Source(source.addr.ip()))
        {
            // Silence, not 403: a blocked scanner learns nothing and costs us nothing.
            self.stats.blocked_requests += 1;
            return;
        }
        let is_ack = req.method == Method::Ack;
        match self.transactions.handle_request(now, req.clone(), source) {
            Ok(RequestOutcome::New(tx, req)) => self.on_request(now, source, tx, req),
            Ok(RequestOutcome::Cancel { invite, .. }) => self.cancel_call(now, invite),
            Ok(RequestOutcome::AckFor2xx(ack)) => self.on_ack(now, &ack),
            // Retransmissions and requests the layer answered itself.
            Ok(_) => {}
            Err(err) => {
                // The parser let it through but it cannot be keyed (e.g. a Via without
                // sent-by): answer 400 statelessly, never an ACK.
                self.stats.malformed += 1;
                if is_ack {
                    self.stats.dropped += 1;
                } else {
                    let mut resp = self.response(&req, StatusCode::BAD_REQUEST);
                    resp.reason = format!("Bad Request ({err})");
                    self.transactions
                        .send_stateless(source, &Message::Response(resp));
                }
                self.events.push_back(PbxEvent::Malformed {
                    source,
                    reason: err.to_string(),
                    answered: !is_ack,
                });
            }
        }
    }

    fn on_request(&mut self, now: Instant, source: Peer, tx: ServerTxId, req: Request) {
        if req.headers.get(&HeaderName::MaxForwards).map(str::trim) == Some("0") {
            return self.reply(now, tx, &req, StatusCode::TOO_MANY_HOPS);
        }
        if req.uri.as_sip().is_none() {
            return self.reply(now, tx, &req, StatusCode::UNSUPPORTED_URI_SCHEME);
        }
        let in_dialog = to_tag(&req).is_some();
        if !matches!(req.method, Method::Ack | Method::Cancel) {
            // RFC 3261 §8.2.2.3: an extension the request requires and we do not support
            // gets 420 naming it.
            let unsupported: Vec<&str> = req
                .headers
                .get_all(&HeaderName::Require)
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .filter(|t| {
                    !SUPPORTED
                        .split(", ")
                        .any(|ours| ours.eq_ignore_ascii_case(t))
                })
                .collect();
            if !unsupported.is_empty() {
                let mut r = self.response(&req, StatusCode::BAD_EXTENSION);
                r.headers
                    .push(HeaderName::Unsupported, unsupported.join(", "));
                return self.send(now, tx, r, Duration::ZERO);
            }
        }
        match req.method {
            Method::Register => self.on_register(now, source, tx, req),
            Method::Invite if !in_dialog => match self.authenticate(now, source, &req) {
                AuthCheck::Respond(resp, delay) => self.send(now, tx, resp, delay),
                AuthCheck::Ok(caller) => self.start_call(now, source, tx, req, caller),
            },
            Method::Subscribe if !in_dialog => match self.authenticate(now, source, &req) {
                AuthCheck::Respond(resp, delay) => self.send(now, tx, resp, delay),
                AuthCheck::Ok(extension) => self.on_subscribe(now, source, tx, req, extension),
            },
            // A refresh or unsubscribe of a message-summary subscription; otherwise the
            // calls may know the dialog.
            Method::Subscribe if self.on_subscribe_in_dialog(now, tx, &req) => {}
            Method::Options if !in_dialog => {
                let status = match req.uri.user() {
                    None => StatusCode::OK,
                    Some(u) if self.directory.contains(u) => StatusCode::OK,
                    Some(_) => StatusCode::NOT_FOUND,
                };
                let mut resp = self.response(&req, status);
                if status == StatusCode::OK {
                    resp.headers.push(HeaderName::Allow, ALLOW);
                    resp.headers.push(HeaderName::Accept, "application/sdp");
                    resp.headers.push(HeaderName::Supported, SUPPORTED);
                    resp.headers
                        .push(HeaderName::Other("Allow-Events".into()), crate::mwi::EVENT);
                }
                self.send(now, tx, resp, Duration::ZERO);
            }
            Method::Ack | Method::Cancel => {}
            Method::Extension(_) => self.reply(now, tx, &req, StatusCode::NOT_IMPLEMENTED),
            // Inside a dialog the dialog itself is the credential: its identifiers were
            // handed out only to the authenticated parties of the call.
            _ if in_dialog => {
                if !self.in_dialog_request(now, tx, &req) {
                    self.reply(now, tx, &req, StatusCode::CALL_DOES_NOT_EXIST);
                }
            }
            _ => {
                let mut resp = self.response(&req, StatusCode::METHOD_NOT_ALLOWED);
                resp.headers.push(HeaderName::Allow, ALLOW);
                self.send(now, tx, resp, Duration::ZERO);
            }
        }
    }

    fn on_register(&mut self, now: Instant, source: Peer, tx: ServerTxId, req: Request) {
        let extension = match self.authenticate(now, source, &req) {
            AuthCheck::Respond(resp, delay) => return self.send(now, tx, resp, delay),
            AuthCheck::Ok(ext) => ext,
        };
        // The address of record is the To URI; a phone may only register itself.
        let aor = req
            .headers
            .get(&HeaderName::To)
            .and_then(|v| NameAddr::parse(v).ok())
            .and_then(|na| na.uri.user().map(str::to_string));
        if aor.as_deref() != Some(extension.as_str()) {
            return self.reply(now, tx, &req, StatusCode::FORBIDDEN);
        }
        // Which contacts were bound, and by which REGISTER Call-ID: a contact new or
        // re-bound with a new Call-ID gets the mailbox's state (see `crate::mwi`).
        let before: Vec<(String, String)> = self
            .location
            .bindings(&extension)
            .iter()
            .map(|b| (b.contact.clone(), b.call_id.clone()))
            .collect();
        match handle_register(
            &self.settings,
            &mut self.location,
            now,
            &extension,
            &req,
            source,
        ) {
            Ok((mut resp, change)) => {
                self.stats.registrations += 1;
                resp.headers
                    .push(HeaderName::Server, self.settings.server_name.clone());
                let call_id = call_id_of(&req);
                for contact in change.added {
                    self.events.push_back(PbxEvent::Registered {
                        extension: extension.clone(),
                        contact,
                        source,
                        call_id: call_id.clone(),
                    });
                }
                for contact in change.removed {
                    self.events.push_back(PbxEvent::Unregistered {
                        extension: extension.clone(),
                        contact,
                    });
                }
                self.send(now, tx, resp, Duration::ZERO);
                self.mwi_registered(now, &extension, &before);
            }
            Err(e) => {
                let resp = e.response_to(&req);
                self.send(now, tx, resp, Duration::ZERO);
            }
        }
    }

    /// Checks the Authorization of a request. Unknown users go through exactly the same
    /// steps and answers as known ones, so a scanner cannot tell numbers apart.
    fn authenticate(&mut self, now: Instant, source: Peer, req: &Request) -> AuthCheck {
        let unix = self.unix(now);
        if req.headers.get(&HeaderName::Authorization).is_none() {
            return AuthCheck::Respond(self.challenge(req, unix, false), Duration::ZERO);
        }
        // The Authorization for our realm among possibly several (RFC 3261 §22.4).
        let authz = match self
            .challenger
            .find_credentials(req.headers.get_all(&HeaderName::Authorization))
        {
            Ok(a) => a,
            Err(e) => {
                return match e.reply() {
                    AuthReply::BadRequest => {
                        let mut r = self.response(req, StatusCode::BAD_REQUEST);
                        r.reason = "Bad Request (malformed Authorization)".into();
                        AuthCheck::Respond(r, Duration::ZERO)
                    }
                    _ => AuthCheck::Respond(self.challenge(req, unix, false), Duration::ZERO),
                };
            }
        };
        let username = authz.get("username").unwrap_or_default().to_string();
        if self
            .guard
            .is_blocked(now, &BlockTarget::Extension(username.clone()))
        {
            return AuthCheck::Respond(self.response(req, StatusCode::FORBIDDEN), Duration::ZERO);
        }
        let directory = &self.directory;
        let result = self.challenger.verify(
            unix,
            req.method.as_str(),
            &authz,
            |user: &str, alg: DigestAlgorithm| {
                directory.get(user).map(|e| match alg {
                    DigestAlgorithm::Md5 => e.ha1_md5.clone(),
                    DigestAlgorithm::Sha256 => e.ha1_sha256.clone(),
                })
            },
        );
        match result {
            Ok(_) => {
                self.guard.record_success(&username);
                AuthCheck::Ok(username)
            }
            Err(e) => match e.reply() {
                AuthReply::Challenge { stale } => {
                    AuthCheck::Respond(self.challenge(req, unix, stale), Duration::ZERO)
                }
                AuthReply::BadRequest => {
                    let mut r = self.response(req, StatusCode::BAD_REQUEST);
                    r.reason = format!("Bad Request ({e})");
                    AuthCheck::Respond(r, Duration::ZERO)
                }
                AuthReply::Forbidden => {
                    self.stats.auth_failures += 1;
                    self.events.push_back(PbxEvent::AuthFailed {
                        username: username.clone(),
                        source,
                        call_id: call_id_of(req),
                    });
                    let verdict = self.guard.record_failure(now, source.addr.ip(), &username);
                    for (target, duration) in verdict.newly_blocked {
                        self.events
                            .push_back(PbxEvent::Blocked { target, duration });
                    }
                    AuthCheck::Respond(self.response(req, StatusCode::FORBIDDEN), verdict.delay)
                }
            },
        }
    }

    fn challenge(&self, req: &Request, unix: u64, stale: bool) -> Response {
        let mut resp = self.response(req, StatusCode::UNAUTHORIZED);
        for c in self.challenger.challenge(unix, stale) {
            resp.headers
                .push(HeaderName::WwwAuthenticate, c.to_string());
        }
        resp
    }

    /// A response to `req` with a To tag and our Server header.
    pub(crate) fn response(&self, req: &Request, status: StatusCode) -> Response {
        let mut resp = Response::for_request(req, status);
        add_to_tag(&mut resp);
        resp.headers
            .push(HeaderName::Server, self.settings.server_name.clone());
        resp
    }

    pub(crate) fn reply(
        &mut self,
        now: Instant,
        tx: ServerTxId,
        req: &Request,
        status: StatusCode,
    ) {
        let resp = self.response(req, status);
        self.send(now, tx, resp, Duration::ZERO);
    }

    pub(crate) fn send(&mut self, now: Instant, tx: ServerTxId, resp: Response, delay: Duration) {
        if delay.is_zero() {
            self.respond_now(now, tx, resp);
        } else {
            self.delayed_seq += 1;
            self.delayed.push(Reverse(Delayed {
                at: now + delay,
                seq: self.delayed_seq,
                tx,
                resp,
            }));
        }
    }

    pub(crate) fn respond_now(&mut self, now: Instant, tx: ServerTxId, resp: Response) {
        if let Err(e) = self.transactions.respond(now, tx, resp) {
            // Only possible if the transaction ended meanwhile; nothing left to answer.
            tracing::debug!(error = %e, "response not sent");
        }
    }

    /// Time has come to `now`: transaction timers, held-back answers, binding expiry.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.transactions.handle_timeout(now);
        self.drain_transaction_events(now);
        self.handle_call_timers(now);
        self.mwi_handle_timeout(now);
        while self.delayed.peek().is_some_and(|d| d.0.at <= now) {
            if let Some(Reverse(d)) = self.delayed.pop() {
                self.respond_now(now, d.tx, d.resp);
            }
        }
        if now >= self.next_sweep {
            let count = self.location.expire(now);
            if count > 0 {
                self.events.push_back(PbxEvent::Expired { count });
            }
            self.guard.sweep(now);
            self.next_sweep = now + Duration::from_secs(1);
        }
    }

    /// The next instant at which [`Self::handle_timeout`] must be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut next = self.next_sweep;
        if let Some(t) = self.transactions.poll_timeout() {
            next = next.min(t);
        }
        if let Some(d) = self.delayed.peek() {
            next = next.min(d.0.at);
        }
        if let Some(t) = self.calls.next_deadline() {
            next = next.min(t);
        }
        if let Some(t) = self.mwi.next_deadline() {
            next = next.min(t);
        }
        Some(next)
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if let Some(t) = self.stateless.pop_front() {
            return Some(t);
        }
        self.transactions.poll_transmit().map(|t| Transmit {
            dest: t.dest,
            bytes: t.bytes,
        })
    }

    /// The next event to log.
    pub fn poll_event(&mut self) -> Option<PbxEvent> {
        self.events.pop_front()
    }

    /// Every live binding.
    pub fn registrations(&self, now: Instant) -> Vec<RegistrationView> {
        self.location
            .snapshot()
            .into_iter()
            .flat_map(|(ext, list)| {
                list.into_iter()
                    .filter(move |b| b.expires_at > now)
                    .map(move |b| RegistrationView {
                        extension: ext.clone(),
                        contact: b.contact,
                        source: b.source,
                        expires_in: b.expires_at.saturating_duration_since(now).as_secs(),
                        user_agent: b.user_agent,
                    })
            })
            .collect()
    }

    /// Targets blocked now.
    pub fn blocked(&self, now: Instant) -> Vec<(BlockTarget, Duration)> {
        self.guard.blocked(now)
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Number of live server and client transactions (leak checks).
    pub fn transaction_count(&self) -> usize {
        self.transactions.len()
    }

    /// Number of live calls.
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// Live calls as (caller, callee, answered), for `strowger calls`.
    pub fn active_calls(&self) -> Vec<(String, String, bool)> {
        self.calls.views()
    }

    /// Number of live bindings.
    pub fn binding_count(&self) -> usize {
        self.location.len()
    }

    /// Unix milliseconds of an instant (for call records).
    pub(crate) fn unix_ms(&self, at: Instant) -> u64 {
        self.epoch.1 * 1000 + at.saturating_duration_since(self.epoch.0).as_millis() as u64
    }

    fn unix(&self, now: Instant) -> u64 {
        self.epoch.1 + now.saturating_duration_since(self.epoch.0).as_secs()
    }
}

fn call_id_of(req: &Request) -> String {
    req.headers
        .get(&HeaderName::CallId)
        .unwrap_or_default()
        .to_string()
}

/// The To tag of a request, if any (a tag means the request claims to be in a dialog).
fn to_tag(req: &Request) -> Option<String> {
    let to = req.headers.get(&HeaderName::To)?;
    NameAddr::parse(to).ok()?.tag().map(str::to_string)
}

fn make_challenger(secret: &NonceSecret, settings: &PbxSettings) -> Challenger {
    Challenger::new(secret.clone(), settings.realm.clone())
        .with_nonce_lifetime(settings.nonce_lifetime)
        .with_algorithms(&settings.digest_algorithms)
}
