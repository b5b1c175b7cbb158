//! Setting up a call: the caller's INVITE checked, media reserved, every contact of the
//! callee forked.

use super::*;

/// What admission found out about a call it let through.
pub(super) struct Admitted {
    pub(super) callee: String,
    /// The first stage of the call's route.
    pub(super) first: First,
    pub(super) visited: Vec<String>,
    pub(super) call_id: String,
    pub(super) remote_tag: String,
    pub(super) remote_target: String,
    pub(super) timer_terms: Option<session_timer::Agreement>,
    pub(super) reliable: bool,
    pub(super) media: Option<RelayPorts>,
}

/// Where a new call goes first.
#[derive(Debug)]
pub(super) enum First {
    /// Phones to ring.
    Ring(Box<crate::routing::Ring>),
    /// A hunt group's queue (its number).
    Queue(String),
    /// A mailbox.
    Voicemail {
        mailbox: String,
        reason: crate::events::VoicemailReason,
    },
    /// Nowhere by routing: the feature that admitted the call (a page) takes it on.
    Feature,
}

/// The cause written into the record of a call refused before anything rang.
fn refusal_cause(status: u16) -> String {
    match status {
        400 => "bad request".into(),
        403 => "barred".into(),
        404 => "unassigned number".into(),
        415 => "unsupported body".into(),
        416 => "unsupported URI scheme".into(),
        422 => "session interval too brief".into(),
        480 => "not registered".into(),
        488 => "unacceptable session description".into(),
        503 => "no media ports".into(),
        c => format!("refused ({c})"),
    }
}

impl Pbx {
    /// An authenticated INVITE outside a dialog from `caller`: refused with a record of
    /// the attempt, or forked to the callee's contacts.
    pub(crate) fn start_call(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: Request,
        caller: String,
    ) {
        if self.hot_desk_code(now, source, tx, &req, &caller) {
            return;
        }
        // From a hot desk, the person logged in there calls (their rights, their number).
        let caller = self.features.person_at(&caller).to_string();
        let Some(req) = self.take_account_code(now, source, tx, req, &caller) else {
            return;
        };
        if self.invite_with_replaces(now, source, tx, &req, &caller)
            || self.dial_short_code(now, source, tx, &req, &caller)
        {
            return;
        }
        match self.admit_call(now, &req, &caller) {
            Ok(admitted) => self.fork_call(now, source, tx, req, caller, admitted),
            Err(refusal) => self.refuse_call(now, tx, &req, caller, refusal),
        }
    }

    /// Sends a refusal and, unless the INVITE merely repeated a live call's (482), writes
    /// the call record: every call attempt ends in one.
    pub(super) fn refuse_call(
        &mut self,
        now: Instant,
        tx: ServerTxId,
        req: &Request,
        caller: String,
        refusal: Response,
    ) {
        let status = refusal.status.0;
        // "Busy Here (do not disturb)": the words in brackets say why, else the status does.
        let cause = refusal
            .reason
            .strip_suffix(')')
            .and_then(|r| r.split_once(" (").map(|(_, why)| why.to_string()))
            .unwrap_or_else(|| refusal_cause(status));
        self.send(now, tx, refusal, Duration::ZERO);
        if status == 482 {
            return;
        }
        let at = self.unix_ms(now);
        self.events.push_back(PbxEvent::CallEnded(CallRecord {
            call_id: req
                .headers
                .get(&HeaderName::CallId)
                .unwrap_or_default()
                .to_string(),
            caller,
            callee: req
                .uri
                .user()
                .map_or_else(|| req.uri.to_string(), str::to_string),
            started_ms: at,
            answered_ms: None,
            ended_ms: at,
            status,
            cause,
            account_code: self.calls.dialling_account.take(),
            media: String::new(),
        }));
    }

    /// The checks a new call must pass, in order; the last reserves its media ports.
    fn admit_call(
        &mut self,
        now: Instant,
        req: &Request,
        caller: &str,
    ) -> Result<Admitted, Response> {
        let refuse = |pbx: &Pbx, code: u16| pbx.response(req, StatusCode(code));
        let Some(callee) = req.uri.user().map(str::to_string) else {
            return Err(refuse(self, 404));
        };
        let mut visited = Vec::new();
        let first = match self.route_first(now, caller, &callee, &mut visited) {
            crate::routing::Step::Ring(ring) => First::Ring(ring),
            crate::routing::Step::Queue { group } => First::Queue(group),
            crate::routing::Step::Voicemail { mailbox, reason } => {
                First::Voicemail { mailbox, reason }
            }
            crate::routing::Step::Refuse { status, cause } => {
                let mut r = refuse(self, status);
                r.reason = format!("{} ({cause})", StatusCode(status).default_reason());
                return Err(r);
            }
        };
        let (Some(call_id), Some(remote_tag)) = (
            req.headers.get(&HeaderName::CallId).map(str::to_string),
            tag_of(req.headers.get(&HeaderName::From)),
        ) else {
            return Err(refuse(self, 400));
        };
        let Some(remote_target) = contact_uri(&req.headers) else {
            let mut r = refuse(self, 400);
            r.reason = "Bad Request (no usable Contact)".into();
            return Err(r);
        };
        if !remote_target.starts_with("sip:") && !remote_target.starts_with("sips:") {
            return Err(refuse(self, 416));
        }
        if let Some(refusal) = self.check_offer(req) {
            return Err(refusal);
        }
        let timer_terms = match session_timer::negotiate(req, &self.settings) {
            session_timer::Negotiation::TooBrief(min_se) => {
                return Err(session_timer::too_brief(self, req, min_se));
            }
            session_timer::Negotiation::Agreed(terms) => Some(terms),
            session_timer::Negotiation::Off => None,
        };
        let reliable = req
            .headers
            .get_all(&HeaderName::Require)
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("100rel"));
        if self
            .calls
            .by_a
            .contains_key(&(call_id.clone(), remote_tag.clone()))
        {
            // A second INVITE with the same dialog identifiers but a new branch: a loop or
            // a confused phone (RFC 3261 §8.2.2.2 merged request).
            return Err(refuse(self, 482));
        }
        // Media goes through the relay unless both extensions may talk directly.
        let direct = self.directory.get(caller).is_some_and(|e| e.direct_media)
            && self.directory.get(&callee).is_some_and(|e| e.direct_media)
            // A recorded call is recorded on the relay.
            && !self.recording_needs_relay(caller, &callee);
        let media = match (&mut self.media_relay, direct) {
            (Some(relay), false) => match relay.open() {
                Some(ports) => Some(ports),
                None => {
                    let mut r = refuse(self, 503);
                    r.reason = "Service Unavailable (no media ports)".into();
                    return Err(r);
                }
            },
            _ => None,
        };
        Ok(Admitted {
            callee,
            first,
            visited,
            call_id,
            remote_tag,
            remote_target,
            timer_terms,
            reliable,
            media,
        })
    }

    /// Keeps the call and rings its first stage.
    fn fork_call(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: Request,
        caller: String,
        admitted: Admitted,
    ) {
        let mut admitted = admitted;
        let first = std::mem::replace(&mut admitted.first, First::Feature);
        let id = self.insert_call(now, source, tx, req, caller, admitted);
        let ring = match first {
            First::Ring(ring) => *ring,
            First::Queue(group) => return self.enqueue(now, id, &group),
            First::Voicemail { mailbox, reason } => {
                return self.send_to_voicemail(now, id, &mailbox, reason)
            }
            First::Feature => return,
        };
        if self.ring_stage(now, id, ring) == 0 && !self.next_stage(now, id, false) {
            let Some(call) = self.calls.calls.get_mut(&id) else {
                return;
            };
            call.route.failure = Some((480, "not registered".into()));
            self.give_up_ringing(now, id, StatusCode(480), "Temporarily Unavailable");
            self.end_if_all_failed(now, id);
        }
    }

    /// Keeps a call whose caller's INVITE was admitted (100 Trying sent), nothing rung
    /// yet; returns its id.
    pub(super) fn insert_call(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: Request,
        caller: String,
        admitted: Admitted,
    ) -> u64 {
        let Admitted {
            callee,
            first: _,
            visited,
            call_id,
            remote_tag,
            remote_target,
            timer_terms,
            reliable,
            media,
        } = admitted;
        let key = (call_id.clone(), remote_tag.clone());
        let mut trying = Response::for_request(&req, StatusCode::TRYING);
        trying
            .headers
            .push(HeaderName::Server, self.settings.server_name.clone());
        self.respond_now(now, tx, trying);

        let id = self.calls.next_id;
        self.calls.next_id += 1;
        let a_offer = req.body.clone();
        let a = ALeg {
            peer: source,
            tx,
            local_host: host_port(&req.uri),
            invite: req,
            call_id,
            remote_tag,
            local_tag: new_tag(),
            remote_target,
            final_sent: false,
            cseq: 0,
            ok: None,
            reliable,
            prack: reliable::PrackState::starting_at(rand_rseq()),
            last_sdp: Vec::new(),
        };
        self.calls.by_a.insert(key, id);
        self.calls.by_server_tx.insert(tx, id);
        self.calls.calls.insert(
            id,
            Call {
                caller,
                callee,
                a,
                forks: Vec::new(),
                winner: None,
                media,
                ack_pending: false,
                b_ok: None,
                deferred_ack: None,
                timer: timer_terms.map(session_timer::SessionTimer::new),
                route: hunt::RouteState {
                    visited,
                    ..hunt::RouteState::default()
                },
                transfer: None,
                release: None,
                parked: None,
                queued: None,
                requeue: None,
                page: None,
                voicemail: None,
                in_call_flow: false,
                screened: None,
                recording: Default::default(),
                party_ok: Vec::new(),
                account_code: self.calls.dialling_account.take(),
                hold: hold::HoldState::default(),
                b_last_sdp: Vec::new(),
                placed: None,
                sdp_from: [a_offer, Vec::new()],
                cancelled: false,
                started: now,
                answered: None,
                ring_deadline: now + RING_TIMEOUT,
            },
        );
        id
    }

    /// Sends the call's INVITE to one contact of `extension` as a fork of the current
    /// stage. False when it could not be sent.
    pub(super) fn send_fork(
        &mut self,
        now: Instant,
        id: u64,
        extension: &str,
        b: &crate::location::Binding,
    ) -> bool {
        let Some((mut invite, dest)) = self.fork_invite(id, b) else {
            return false;
        };
        let media = self.calls.calls.get(&id).and_then(|c| c.media);
        if let Some(ports) = media {
            if !invite.body.is_empty() {
                let ip = self.side_ip(&b.registrar);
                if let Some((body, remote)) = anchor(&invite.body, ip, ports.callee_port) {
                    invite.body = body;
                    if let (Some(remote), Some(relay)) = (remote, self.media_relay.as_mut()) {
                        relay.set_remote(ports.session, Side::Caller, remote);
                    }
                }
            }
        }
        self.launch_fork(now, id, extension, invite, dest, None)
    }

    /// The INVITE of a new fork of call `id` to contact `b`, with the caller's body as it
    /// came (not yet anchored), and where it goes.
    pub(super) fn fork_invite(
        &self,
        id: u64,
        b: &crate::location::Binding,
    ) -> Option<(Request, Peer)> {
        let label = self.stage_label(id);
        let call = self.calls.calls.get(&id)?;
        let target = b.contact.parse::<Uri>().ok()?;
        let req = &call.a.invite;
        let (caller, callee) = (call.caller.clone(), call.callee.clone());
        let dest = b.target();
        let fork_call_id = new_call_id(&b.registrar);
        let max_forwards = req
            .headers
            .get(&HeaderName::MaxForwards)
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(70)
            .saturating_sub(1);
        let display = NameAddr::parse(req.headers.get(&HeaderName::From).unwrap_or_default())
            .ok()
            .and_then(|na| na.display_name);
        // A hunt group's calls show the group's name first (members know how to answer).
        let shown = match (label, display) {
            (Some(l), Some(d)) => Some(format!("{l}: {d}")),
            (Some(l), None) => Some(l),
            (None, d) => d,
        };
        let mut invite = Request::new(Method::Invite, target);
        let h = &mut invite.headers;
        h.push(
            HeaderName::Via,
            format!(
                "SIP/2.0/{} {};branch={};rport",
                via_transport(dest),
                b.registrar,
                new_branch()
            ),
        );
        h.push(HeaderName::MaxForwards, max_forwards.to_string());
        let from_name = shown
            .as_deref()
            .map(|d| format!("\"{}\" ", d.replace(['"', '\\'], "")))
            .unwrap_or_default();
        h.push(
            HeaderName::From,
            format!(
                "{from_name}<sip:{caller}@{}>;tag={}",
                b.registrar,
                new_tag()
            ),
        );
        h.push(HeaderName::To, format!("<sip:{callee}@{}>", b.registrar));
        h.push(HeaderName::CallId, fork_call_id);
        h.push(HeaderName::CSeq, "1 INVITE");
        h.push(
            HeaderName::Contact,
            format!("<sip:{caller}@{}{}>", b.registrar, transport_param(dest)),
        );
        h.push(HeaderName::Allow, crate::core::ALLOW);
        h.push(HeaderName::Supported, "100rel");
        h.push(HeaderName::UserAgent, self.settings.server_name.clone());
        invite.body = copy_body(&req.headers, &req.body, &mut invite.headers);
        Some((invite, dest))
    }

    /// Sends a fork's INVITE and keeps the fork in call `id`, in the current stage;
    /// `party` is its own media in the relay session (a paged phone). False when it could
    /// not be sent.
    pub(super) fn launch_fork(
        &mut self,
        now: Instant,
        id: u64,
        extension: &str,
        invite: Request,
        dest: Peer,
        party: Option<u32>,
    ) -> bool {
        let Some(fork_call_id) = invite.headers.get(&HeaderName::CallId).map(str::to_string) else {
            return false;
        };
        let ctx = match self.transactions.send_request(now, invite.clone(), dest) {
            Ok(ctx) => ctx,
            Err(e) => {
                tracing::debug!(error = %e, "fork INVITE not sent");
                return false;
            }
        };
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return false;
        };
        let i = call.forks.len();
        call.forks.push(Fork {
            tx: Some(ctx),
            invite,
            peer: dest,
            call_id: fork_call_id.clone(),
            remote_tag: None,
            remote_target: None,
            state: ForkState::Calling,
            cancel_wanted: false,
            ack: None,
            cseq: 1,
            last_rseq: None,
            stage: call.route.stage,
            extension: extension.to_string(),
            party,
        });
        self.calls.by_client_tx.insert(ctx, (id, i));
        self.calls.by_fork_call_id.insert(fork_call_id, (id, i));
        true
    }

    /// Refuses an INVITE whose body we cannot use: a session description that does not
    /// parse gets 488 with the reason in a Warning (RFC 3261 §20.43, code 399), any other
    /// body type 415. An INVITE without a body is a late offer and passes.
    pub(super) fn check_offer(&self, req: &Request) -> Option<Response> {
        if req.body.is_empty() {
            return None;
        }
        let content_type = req
            .headers
            .get(&HeaderName::ContentType)
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if content_type != "application/sdp" {
            let mut r = self.response(req, StatusCode(415));
            r.headers.push(HeaderName::Accept, "application/sdp");
            return Some(r);
        }
        match sdp::parse(&req.body) {
            Ok(_) => None,
            Err(e) => {
                let mut r = self.response(req, StatusCode(488));
                let text = e.to_string().replace(['"', '\\'], "'");
                r.headers.push(
                    HeaderName::Other("Warning".into()),
                    format!("399 strowger \"bad session description: {text}\""),
                );
                Some(r)
            }
        }
    }

    /// The IP to write into SDP for a side reached at `host_port`: that host when it is an
    /// IP address (the address the phone itself used for us), else the relay's default.
    pub(super) fn side_ip(&self, host_port: &str) -> std::net::IpAddr {
        host_ip(host_port)
            .filter(|ip| !ip.is_unspecified())
            .or_else(|| self.media_relay.as_ref().map(|r| r.default_ip()))
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
    }

    /// Points a callee's session description (in a 18x or 2xx) at the relay's caller-side
    /// port, and tells the relay where the callee receives.
    pub(super) fn anchor_for_caller(&mut self, id: u64, body: Vec<u8>) -> Vec<u8> {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return body;
        };
        call.heard_sdp(Side::Callee, &body);
        let (Some(ports), false) = (call.media, body.is_empty()) else {
            return body;
        };
        let host = call.a.local_host.clone();
        let ip = self.side_ip(&host);
        // A new callee (a transfer's target) ends the hold its predecessor had the caller on.
        self.stop_music(id, Side::Caller);
        match anchor(&body, ip, ports.caller_port) {
            Some((new, remote)) => {
                if let (Some(remote), Some(relay)) = (remote, self.media_relay.as_mut()) {
                    relay.set_remote(ports.session, Side::Callee, remote);
                }
                new
            }
            None => body,
        }
    }
}

/// A random first RSeq (RFC 3262 §3: uniform below 2^31).
fn rand_rseq() -> u32 {
    u32::from_str_radix(&new_tag()[..8], 16).unwrap_or(1) & 0x3fff_ffff
}
