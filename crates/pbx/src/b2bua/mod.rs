//! Calls between extensions: a back-to-back user agent (RFC 3261 §6 "B2BUA"). The caller's
//! INVITE ends here (the A leg); we send our own INVITE to every registered contact of the
//! callee (the forks of the B leg), relay provisional and final responses, and tie the two
//! dialogs together until one side hangs up.
//!
//! ```text
//!   A ──INVITE──▶ PBX ──INVITE──▶ B (each contact)      fork states: Calling → Early →
//!   A ◀──100───── PBX ◀──180───── B                                  Answered | Failed
//!   A ◀──180───── PBX ◀──200───── B (first 2xx wins; others CANCELled, a late 2xx is
//!   A ◀──200───── PBX ──ACK─────▶ B  ACKed and BYEd: RFC 5407 §3.1.2)
//!   A ──ACK─────▶ PBX                  (our 2xx to A is retransmitted until this ACK)
//!   A ──BYE─────▶ PBX ──BYE─────▶ B
//! ```
//!
//! Media: the session descriptions are passed through unchanged for now, so endpoints send
//! media to each other (direct media); anchoring through the media engine comes next.

mod midcall;

use crate::core::Pbx;
use crate::events::{CallRecord, PbxEvent};
use crate::media::{anchor, host_ip, RelayPorts, Side};
use crate::registrar::host_port;
use crate::Peer;
use sip::dialog::{new_branch, new_call_id, new_tag};
use sip::header::{CSeq, HeaderName, NameAddr};
use sip::transaction::{ClientTxId, ServerTxId};
use sip::{Method, Request, Response, StatusCode, Uri};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

/// How long the callee's phones may ring before the caller gets 480.
pub(crate) const RING_TIMEOUT: Duration = Duration::from_secs(180);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ForkState {
    Calling,
    Early,
    Answered,
    Failed(u16),
}

/// One INVITE we sent to one contact of the callee.
#[derive(Debug)]
struct Fork {
    tx: ClientTxId,
    invite: Request,
    peer: Peer,
    call_id: String,
    remote_tag: Option<String>,
    remote_target: Option<String>,
    state: ForkState,
    cancel_wanted: bool,
    /// The ACK sent for its 2xx, re-sent if the 2xx is retransmitted (our ACK was lost).
    ack: Option<Request>,
    cseq: u32,
}

/// The caller's side: the INVITE we answer and the dialog we share with it.
#[derive(Debug)]
struct ALeg {
    peer: Peer,
    tx: ServerTxId,
    invite: Request,
    call_id: String,
    remote_tag: String,
    local_tag: String,
    /// `host[:port]` by which the caller reached us: our Contact towards it.
    local_host: String,
    remote_target: String,
    final_sent: bool,
    cseq: u32,
    ok: Option<Response>,
    /// The server transaction `ok` answers (the INVITE's, or a re-INVITE's).
    ok_tx: Option<ServerTxId>,
    ok_interval: Duration,
    ok_next: Option<Instant>,
    ok_give_up: Option<Instant>,
}

/// A call of two legs.
#[derive(Debug)]
struct Call {
    caller: String,
    callee: String,
    a: ALeg,
    forks: Vec<Fork>,
    winner: Option<usize>,
    /// The relay session when media is anchored.
    media: Option<RelayPorts>,
    /// Late offer: the winner's 2xx carried the offer; its ACK waits for the caller's
    /// ACK, which carries the answer (RFC 3264 §2).
    ack_pending: bool,
    cancelled: bool,
    started: Instant,
    answered: Option<Instant>,
    ring_deadline: Instant,
}

impl Call {
    /// The next instant a timer of this call is due: the ring timeout while ringing, the
    /// next 2xx retransmission while the caller's ACK is awaited, none after.
    fn deadline(&self) -> Option<Instant> {
        if self.winner.is_some() {
            self.a.ok_next
        } else if self.a.final_sent {
            None
        } else {
            Some(self.ring_deadline)
        }
    }
}

/// Every live call and the indexes that find one from a message.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    next_id: u64,
    calls: HashMap<u64, Call>,
    /// (Call-ID, caller's From tag) of the A leg.
    by_a: HashMap<(String, String), u64>,
    by_server_tx: HashMap<ServerTxId, u64>,
    /// Call-ID of a fork (each fork has its own).
    by_fork_call_id: HashMap<String, (u64, usize)>,
    by_client_tx: HashMap<ClientTxId, (u64, usize)>,
    /// Mid-call requests relayed to the other side, by our client transaction.
    relayed: HashMap<ClientTxId, midcall::Relayed>,
    deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
}

impl Calls {
    /// Number of live calls.
    pub(crate) fn len(&self) -> usize {
        self.calls.len()
    }

    /// The earliest instant a call timer is due.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.peek().map(|r| r.0 .0)
    }

    fn schedule(&mut self, id: u64) {
        if let Some(at) = self.calls.get(&id).and_then(Call::deadline) {
            self.deadlines.push(Reverse((at, id)));
        }
    }

    /// Active calls for `strowger calls`: (caller, callee, answered).
    pub(crate) fn views(&self) -> Vec<(String, String, bool)> {
        let mut v: Vec<_> = self
            .calls
            .values()
            .map(|c| (c.caller.clone(), c.callee.clone(), c.winner.is_some()))
            .collect();
        v.sort();
        v
    }
}

fn tag_of(value: Option<&str>) -> Option<String> {
    NameAddr::parse(value?).ok()?.tag().map(str::to_string)
}

fn cseq_of(msg_headers: &sip::Headers) -> Option<CSeq> {
    CSeq::parse(msg_headers.get(&HeaderName::CSeq)?).ok()
}

fn contact_uri(headers: &sip::Headers) -> Option<String> {
    let value = headers.get(&HeaderName::Contact)?;
    let first = value.split(',').next()?;
    NameAddr::parse(first).ok().map(|na| na.uri.to_string())
}

fn transport_param(peer: Peer) -> &'static str {
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

/// Copies the body and its Content-Type from one message to another.
fn copy_body(from_headers: &sip::Headers, body: &[u8], to: &mut sip::Headers) -> Vec<u8> {
    if let Some(ct) = from_headers.get(&HeaderName::ContentType) {
        if !body.is_empty() {
            to.push(HeaderName::ContentType, ct.to_string());
        }
    }
    body.to_vec()
}

/// The final status for the caller when every fork failed: a 6xx wins (a global refusal),
/// then busy, then the lowest code (RFC 3261 §16.7 step 6 in spirit).
fn best_failure(codes: impl Iterator<Item = u16>) -> u16 {
    let codes: Vec<u16> = codes.filter(|c| *c != 487).collect();
    if let Some(c) = codes.iter().find(|c| **c >= 600) {
        return *c;
    }
    if codes.contains(&486) {
        return 486;
    }
    codes.into_iter().min().unwrap_or(480)
}

impl Pbx {
    /// An authenticated INVITE outside a dialog from `caller`.
    pub(crate) fn start_call(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: Request,
        caller: String,
    ) {
        let Some(callee) = req.uri.user().map(str::to_string) else {
            return self.reply(now, tx, &req, StatusCode::NOT_FOUND);
        };
        if !self.directory.contains(&callee) {
            return self.reply(now, tx, &req, StatusCode::NOT_FOUND);
        }
        let bindings: Vec<_> = self
            .location
            .bindings(&callee)
            .iter()
            .filter(|b| b.expires_at > now)
            .cloned()
            .collect();
        if bindings.is_empty() {
            return self.reply(now, tx, &req, StatusCode(480));
        }
        let (Some(call_id), Some(remote_tag)) = (
            req.headers.get(&HeaderName::CallId).map(str::to_string),
            tag_of(req.headers.get(&HeaderName::From)),
        ) else {
            return self.reply(now, tx, &req, StatusCode::BAD_REQUEST);
        };
        let Some(remote_target) = contact_uri(&req.headers) else {
            let mut r = self.response(&req, StatusCode::BAD_REQUEST);
            r.reason = "Bad Request (no usable Contact)".into();
            return self.send(now, tx, r, Duration::ZERO);
        };
        if !remote_target.starts_with("sip:") && !remote_target.starts_with("sips:") {
            return self.reply(now, tx, &req, StatusCode::UNSUPPORTED_URI_SCHEME);
        }
        if let Some(refusal) = self.check_offer(&req) {
            return self.send(now, tx, refusal, Duration::ZERO);
        }
        let key = (call_id.clone(), remote_tag.clone());
        if self.calls.by_a.contains_key(&key) {
            // A second INVITE with the same dialog identifiers but a new branch: a loop or
            // a confused phone (RFC 3261 §8.2.2.2 merged request).
            return self.reply(now, tx, &req, StatusCode(482));
        }
        // Media goes through the relay unless both extensions may talk directly.
        let direct = self.directory.get(&caller).is_some_and(|e| e.direct_media)
            && self.directory.get(&callee).is_some_and(|e| e.direct_media);
        let media = match (&mut self.media_relay, direct) {
            (Some(relay), false) => match relay.open() {
                Some(ports) => Some(ports),
                None => {
                    let mut r = self.response(&req, StatusCode::SERVICE_UNAVAILABLE);
                    r.reason = "Service Unavailable (no media ports)".into();
                    return self.send(now, tx, r, Duration::ZERO);
                }
            },
            _ => None,
        };
        let mut trying = Response::for_request(&req, StatusCode::TRYING);
        trying
            .headers
            .push(HeaderName::Server, self.settings.server_name.clone());
        self.respond_now(now, tx, trying);

        let id = self.calls.next_id;
        self.calls.next_id += 1;
        let local_tag = new_tag();
        let max_forwards = req
            .headers
            .get(&HeaderName::MaxForwards)
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(70)
            .saturating_sub(1);
        let display = NameAddr::parse(req.headers.get(&HeaderName::From).unwrap_or_default())
            .ok()
            .and_then(|na| na.display_name);
        let mut forks = Vec::with_capacity(bindings.len());
        for b in &bindings {
            let dest = b.target();
            let fork_call_id = new_call_id(&b.registrar);
            let fork_tag = new_tag();
            let Ok(target) = b.contact.parse::<Uri>() else {
                continue;
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
            let from_name = display
                .as_deref()
                .map(|d| format!("\"{}\" ", d.replace(['"', '\\'], "")))
                .unwrap_or_default();
            h.push(
                HeaderName::From,
                format!("{from_name}<sip:{caller}@{}>;tag={fork_tag}", b.registrar),
            );
            h.push(HeaderName::To, format!("<sip:{callee}@{}>", b.registrar));
            h.push(HeaderName::CallId, fork_call_id.clone());
            h.push(HeaderName::CSeq, "1 INVITE");
            h.push(
                HeaderName::Contact,
                format!("<sip:{caller}@{}{}>", b.registrar, transport_param(dest)),
            );
            h.push(HeaderName::Allow, crate::core::ALLOW);
            h.push(HeaderName::UserAgent, self.settings.server_name.clone());
            invite.body = copy_body(&req.headers, &req.body, &mut invite.headers);
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
            match self.transactions.send_request(now, invite.clone(), dest) {
                Ok(ctx) => {
                    self.calls.by_client_tx.insert(ctx, (id, forks.len()));
                    self.calls
                        .by_fork_call_id
                        .insert(fork_call_id.clone(), (id, forks.len()));
                    forks.push(Fork {
                        tx: ctx,
                        invite,
                        peer: dest,
                        call_id: fork_call_id,
                        remote_tag: None,
                        remote_target: None,
                        state: ForkState::Calling,
                        cancel_wanted: false,
                        ack: None,
                        cseq: 1,
                    });
                }
                Err(e) => tracing::debug!(error = %e, "fork INVITE not sent"),
            }
        }
        if forks.is_empty() {
            if let (Some(ports), Some(relay)) = (media, self.media_relay.as_mut()) {
                relay.close(ports.session);
            }
            return self.reply(now, tx, &req, StatusCode(480));
        }
        let a = ALeg {
            peer: source,
            tx,
            local_host: host_port(&req.uri),
            invite: req,
            call_id,
            remote_tag,
            local_tag,
            remote_target,
            final_sent: false,
            cseq: 0,
            ok: None,
            ok_tx: None,
            ok_interval: Duration::ZERO,
            ok_next: None,
            ok_give_up: None,
        };
        self.calls.by_a.insert(key, id);
        self.calls.by_server_tx.insert(tx, id);
        self.calls.calls.insert(
            id,
            Call {
                caller,
                callee,
                a,
                forks,
                winner: None,
                media,
                ack_pending: false,
                cancelled: false,
                started: now,
                answered: None,
                ring_deadline: now + RING_TIMEOUT,
            },
        );
        self.calls.schedule(id);
    }

    /// Refuses an INVITE whose body we cannot use: a session description that does not
    /// parse gets 488 with the reason in a Warning (RFC 3261 §20.43, code 399), any other
    /// body type 415. An INVITE without a body is a late offer and passes.
    fn check_offer(&self, req: &Request) -> Option<Response> {
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
    fn side_ip(&self, host_port: &str) -> std::net::IpAddr {
        host_ip(host_port)
            .filter(|ip| !ip.is_unspecified())
            .or_else(|| self.media_relay.as_ref().map(|r| r.default_ip()))
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
    }

    /// Points a callee's session description (in a 18x or 2xx) at the relay's caller-side
    /// port, and tells the relay where the callee receives.
    fn anchor_for_caller(&mut self, id: u64, body: Vec<u8>) -> Vec<u8> {
        let Some(call) = self.calls.calls.get(&id) else {
            return body;
        };
        let (Some(ports), false) = (call.media, body.is_empty()) else {
            return body;
        };
        let ip = self.side_ip(&call.a.local_host.clone());
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

    /// A response to the caller's INVITE, from our side of the A dialog.
    fn a_response(&self, call: &Call, status: StatusCode, reason: &str) -> Response {
        let mut r = Response::for_request(&call.a.invite, status);
        r.reason = reason.to_string();
        if let Some(to) = r.headers.get(&HeaderName::To) {
            if tag_of(Some(to)).is_none() {
                let tagged = format!("{to};tag={}", call.a.local_tag);
                r.headers.set(HeaderName::To, tagged);
            }
        }
        if status.0 > 100 && status.0 < 300 {
            r.headers.push(
                HeaderName::Contact,
                format!(
                    "<sip:{}@{}{}>",
                    call.callee,
                    call.a.local_host,
                    transport_param(call.a.peer)
                ),
            );
        }
        r.headers
            .push(HeaderName::Server, self.settings.server_name.clone());
        r
    }

    /// A response for one of our fork INVITEs (or an in-dialog request we sent).
    pub(crate) fn on_fork_response(&mut self, now: Instant, ctx: ClientTxId, resp: Response) {
        if self.calls.relayed.contains_key(&ctx) {
            return self.on_relayed_response(now, ctx, resp);
        }
        let Some(&(id, i)) = self.calls.by_client_tx.get(&ctx) else {
            return;
        };
        let is_invite = cseq_of(&resp.headers).is_some_and(|c| c.method == Method::Invite);
        if !is_invite {
            return;
        }
        let status = resp.status;
        if status.0 == 100 {
            return;
        }
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let fork = &mut call.forks[i];
        if let Some(tag) = tag_of(resp.headers.get(&HeaderName::To)) {
            fork.remote_tag = Some(tag);
        }
        if let Some(target) = contact_uri(&resp.headers) {
            fork.remote_target = Some(target);
        }
        if status.is_provisional() {
            if fork.state == ForkState::Calling {
                fork.state = ForkState::Early;
            }
            if fork.cancel_wanted {
                self.cancel_fork(now, id, i);
                return;
            }
            let Some(call) = self.calls.calls.get(&id) else {
                return;
            };
            if call.a.final_sent || call.cancelled {
                return;
            }
            let mut r = self.a_response(call, status, &resp.reason);
            r.body = copy_body(&resp.headers, &resp.body, &mut r.headers);
            let tx = call.a.tx;
            r.body = self.anchor_for_caller(id, r.body);
            self.respond_now(now, tx, r);
            return;
        }
        if status.is_success() {
            if call.winner == Some(i) {
                // The winner retransmits its 2xx: our ACK was lost, or (late offer) it is
                // still waiting for the caller's answer.
                if !call.ack_pending {
                    self.resend_fork_ack(id, i);
                }
                return;
            }
            let late = call.winner.is_some() || call.cancelled;
            fork.state = ForkState::Answered;
            let late_offer = call.a.invite.body.is_empty();
            if late || !late_offer {
                self.ack_fork(id, i, None);
            }
            if late {
                // RFC 5407 §3.1.2: the callee answered after we gave up on it (CANCEL
                // crossed the 200, or another phone answered first). It now holds a
                // dialog: confirm it and end it at once.
                self.bye_fork(now, id, i);
                return;
            }
            self.answer_call(now, id, i, resp);
            return;
        }
        // 3xx–6xx: this fork is over.
        fork.state = ForkState::Failed(status.0);
        self.calls.by_client_tx.remove(&ctx);
        self.maybe_fail_call(now, id);
    }

    /// The first 2xx: relay it to the caller, CANCEL the other forks.
    fn answer_call(&mut self, now: Instant, id: u64, winner: usize, resp: Response) {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        call.winner = Some(winner);
        call.answered = Some(now);
        call.ack_pending = call.a.invite.body.is_empty();
        let others: Vec<usize> = (0..call.forks.len())
            .filter(|&j| {
                j != winner && matches!(call.forks[j].state, ForkState::Calling | ForkState::Early)
            })
            .collect();
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        let mut ok = self.a_response(call, StatusCode::OK, &resp.reason);
        ok.body = copy_body(&resp.headers, &resp.body, &mut ok.headers);
        let tx = call.a.tx;
        ok.body = self.anchor_for_caller(id, ok.body);
        self.respond_now(now, tx, ok.clone());
        if let Some(call) = self.calls.calls.get_mut(&id) {
            let t1 = self.transactions.config().t1;
            call.a.final_sent = true;
            call.a.ok = Some(ok);
            call.a.ok_interval = t1;
            call.a.ok_next = Some(now + t1);
            call.a.ok_give_up = Some(now + t1 * 64);
        }
        for j in others {
            self.cancel_fork(now, id, j);
        }
        self.calls.schedule(id);
    }

    /// When every fork has failed, the caller gets the best failure.
    fn maybe_fail_call(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        if call.winner.is_some() {
            return;
        }
        let all_failed = call
            .forks
            .iter()
            .all(|f| matches!(f.state, ForkState::Failed(_)));
        if !all_failed {
            return;
        }
        let code = best_failure(call.forks.iter().filter_map(|f| match f.state {
            ForkState::Failed(c) => Some(c),
            _ => None,
        }));
        let cause = if call.cancelled {
            "cancelled".to_string()
        } else {
            match code {
                486 | 600 => "busy".to_string(),
                408 | 480 => "no answer".to_string(),
                603 => "declined".to_string(),
                c => format!("failed ({c})"),
            }
        };
        let answer = (!call.a.final_sent).then(|| {
            let code = StatusCode(code);
            (
                call.a.tx,
                self.a_response(call, code, code.default_reason()),
            )
        });
        if let Some((tx, r)) = answer {
            self.respond_now(now, tx, r);
        }
        self.end_call(now, id, &cause);
    }

    /// Sends CANCEL for a fork (or notes it for when its first provisional response comes:
    /// RFC 3261 §9.1 forbids a CANCEL before one).
    fn cancel_fork(&mut self, now: Instant, id: u64, i: usize) {
        let Some(fork) = self
            .calls
            .calls
            .get_mut(&id)
            .and_then(|c| c.forks.get_mut(i))
        else {
            return;
        };
        match fork.state {
            ForkState::Calling => fork.cancel_wanted = true,
            ForkState::Early => {
                fork.cancel_wanted = false;
                let (tx, peer) = (fork.tx, fork.peer);
                if let Some(cancel) = self.transactions.build_cancel(tx) {
                    if let Err(e) = self.transactions.send_request(now, cancel, peer) {
                        tracing::debug!(error = %e, "CANCEL not sent");
                    }
                }
            }
            ForkState::Answered | ForkState::Failed(_) => {}
        }
    }

    /// ACK for a fork's 2xx (a request of its own, RFC 3261 §13.2.2.4), carrying the
    /// caller's answer in a late-offer call.
    fn ack_fork(&mut self, id: u64, i: usize, answer: Option<&Request>) {
        let Some(fork) = self.calls.calls.get(&id).and_then(|c| c.forks.get(i)) else {
            return;
        };
        let mut ack = self.fork_request(fork, Method::Ack, 1);
        let peer = fork.peer;
        if let Some(from) = answer {
            ack.body = copy_body(&from.headers, &from.body, &mut ack.headers);
            let media = self.calls.calls.get(&id).and_then(|c| c.media);
            let registrar = fork
                .invite
                .headers
                .get(&HeaderName::Via)
                .and_then(|v| v.split_whitespace().nth(1))
                .and_then(|v| v.split(';').next())
                .unwrap_or_default()
                .to_string();
            if let (Some(ports), false) = (media, ack.body.is_empty()) {
                let ip = self.side_ip(&registrar);
                if let Some((body, remote)) = anchor(&ack.body, ip, ports.callee_port) {
                    ack.body = body;
                    if let (Some(remote), Some(relay)) = (remote, self.media_relay.as_mut()) {
                        relay.set_remote(ports.session, Side::Caller, remote);
                    }
                }
            }
        }
        self.transactions
            .send_stateless(peer, &sip::Message::Request(ack.clone()));
        if let Some(fork) = self
            .calls
            .calls
            .get_mut(&id)
            .and_then(|c| c.forks.get_mut(i))
        {
            fork.ack = Some(ack);
        }
    }

    fn resend_fork_ack(&mut self, id: u64, i: usize) {
        let Some(fork) = self.calls.calls.get(&id).and_then(|c| c.forks.get(i)) else {
            return;
        };
        if let Some(ack) = &fork.ack {
            self.transactions
                .send_stateless(fork.peer, &sip::Message::Request(ack.clone()));
        }
    }

    /// BYE on a fork's dialog.
    fn bye_fork(&mut self, now: Instant, id: u64, i: usize) {
        let Some(fork) = self
            .calls
            .calls
            .get_mut(&id)
            .and_then(|c| c.forks.get_mut(i))
        else {
            return;
        };
        fork.cseq += 1;
        let cseq = fork.cseq;
        let Some(fork) = self.calls.calls.get(&id).and_then(|c| c.forks.get(i)) else {
            return;
        };
        let bye = self.fork_request(fork, Method::Bye, cseq);
        let peer = fork.peer;
        if let Err(e) = self.transactions.send_request(now, bye, peer) {
            tracing::debug!(error = %e, "BYE not sent");
        }
    }

    /// A request in a fork's dialog: to its Contact, with both tags.
    fn fork_request(&self, fork: &Fork, method: Method, cseq: u32) -> Request {
        let target = fork
            .remote_target
            .as_deref()
            .and_then(|t| t.parse::<Uri>().ok())
            .unwrap_or_else(|| fork.invite.uri.clone());
        let mut req = Request::new(method.clone(), target);
        let via_host = fork
            .invite
            .headers
            .get(&HeaderName::Via)
            .and_then(|v| v.split_whitespace().nth(1))
            .and_then(|v| v.split(';').next())
            .unwrap_or("invalid")
            .to_string();
        req.headers.push(
            HeaderName::Via,
            format!(
                "SIP/2.0/{} {via_host};branch={};rport",
                via_transport(fork.peer),
                new_branch()
            ),
        );
        req.headers.push(HeaderName::MaxForwards, "70");
        for name in [HeaderName::From, HeaderName::To] {
            if let Some(v) = fork.invite.headers.get(&name) {
                let v = if name == HeaderName::To {
                    match &fork.remote_tag {
                        Some(t) => format!("{v};tag={t}"),
                        None => v.to_string(),
                    }
                } else {
                    v.to_string()
                };
                req.headers.push(name, v);
            }
        }
        req.headers.push(HeaderName::CallId, fork.call_id.clone());
        req.headers
            .push(HeaderName::CSeq, format!("{cseq} {method}"));
        req.headers
            .push(HeaderName::UserAgent, self.settings.server_name.clone());
        req
    }

    /// A request in the caller's dialog (we are its UAS side).
    fn a_request(&mut self, id: u64, method: Method) -> Option<(Request, Peer)> {
        let call = self.calls.calls.get_mut(&id)?;
        call.a.cseq += 1;
        let a = &call.a;
        let target = a.remote_target.parse::<Uri>().ok()?;
        let mut req = Request::new(method.clone(), target);
        req.headers.push(
            HeaderName::Via,
            format!(
                "SIP/2.0/{} {};branch={};rport",
                via_transport(a.peer),
                a.local_host,
                new_branch()
            ),
        );
        req.headers.push(HeaderName::MaxForwards, "70");
        let to_value = a.invite.headers.get(&HeaderName::To)?;
        req.headers
            .push(HeaderName::From, format!("{to_value};tag={}", a.local_tag));
        req.headers.push(
            HeaderName::To,
            a.invite.headers.get(&HeaderName::From)?.to_string(),
        );
        req.headers.push(HeaderName::CallId, a.call_id.clone());
        req.headers
            .push(HeaderName::CSeq, format!("{} {method}", a.cseq));
        req.headers
            .push(HeaderName::UserAgent, self.settings.server_name.clone());
        Some((req, a.peer))
    }

    /// The caller CANCELled its INVITE (the layer has already answered the CANCEL).
    pub(crate) fn cancel_call(&mut self, now: Instant, invite: ServerTxId) {
        let Some(&id) = self.calls.by_server_tx.get(&invite) else {
            return;
        };
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        if call.a.final_sent {
            return;
        }
        call.cancelled = true;
        self.give_up_ringing(now, id, StatusCode(487), "Request Terminated");
    }

    /// Ends the ringing: the caller gets `status`, every fork is CANCELled. The call stays
    /// until the forks have answered the CANCEL (or a late 200 has been ACKed and BYEd).
    fn give_up_ringing(&mut self, now: Instant, id: u64, status: StatusCode, reason: &str) {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        call.a.final_sent = true;
        let forks: Vec<usize> = (0..call.forks.len()).collect();
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        let r = self.a_response(call, status, reason);
        let tx = call.a.tx;
        self.respond_now(now, tx, r);
        for i in forks {
            self.cancel_fork(now, id, i);
        }
    }

    /// An ACK outside any transaction: the caller confirming our 2xx.
    pub(crate) fn on_ack(&mut self, req: &Request) {
        let (Some(call_id), Some(tag)) = (
            req.headers.get(&HeaderName::CallId),
            tag_of(req.headers.get(&HeaderName::From)),
        ) else {
            return;
        };
        let Some(&id) = self.calls.by_a.get(&(call_id.to_string(), tag)) else {
            return;
        };
        let mut pending = None;
        if let Some(call) = self.calls.calls.get_mut(&id) {
            call.a.ok_next = None;
            call.a.ok_give_up = None;
            call.a.ok = None;
            if call.ack_pending {
                call.ack_pending = false;
                pending = call.winner;
            }
        }
        if let Some(i) = pending {
            self.ack_fork(id, i, Some(req));
        }
    }

    /// A request inside a dialog (To tag present). Returns false when no call knows it, so
    /// the caller answers 481.
    pub(crate) fn in_dialog_request(
        &mut self,
        now: Instant,
        tx: ServerTxId,
        req: &Request,
    ) -> bool {
        let call_id = req
            .headers
            .get(&HeaderName::CallId)
            .unwrap_or_default()
            .to_string();
        let from_tag = tag_of(req.headers.get(&HeaderName::From)).unwrap_or_default();
        let from_a = self.calls.by_a.get(&(call_id.clone(), from_tag)).copied();
        let from_b = self.calls.by_fork_call_id.get(&call_id).copied();
        match (&req.method, from_a, from_b) {
            (Method::Bye, Some(id), _) => {
                self.reply(now, tx, req, StatusCode::OK);
                let winner = self.calls.calls.get(&id).and_then(|c| c.winner);
                if let Some(i) = winner {
                    self.bye_fork(now, id, i);
                    self.end_call(now, id, "caller hung up");
                } else {
                    // BYE before the answer: as good as a CANCEL.
                    let invite = self.calls.calls.get(&id).map(|c| c.a.tx);
                    if let Some(invite) = invite {
                        self.cancel_call(now, invite);
                    }
                }
                true
            }
            (Method::Bye, None, Some((id, i))) => {
                self.reply(now, tx, req, StatusCode::OK);
                let is_winner = self.calls.calls.get(&id).and_then(|c| c.winner) == Some(i);
                if is_winner {
                    if let Some((bye, peer)) = self.a_request(id, Method::Bye) {
                        if let Err(e) = self.transactions.send_request(now, bye, peer) {
                            tracing::debug!(error = %e, "BYE to caller not sent");
                        }
                    }
                    self.end_call(now, id, "callee hung up");
                }
                true
            }
            (Method::Options, Some(_), _) | (Method::Options, None, Some(_)) => {
                let mut r = self.response(req, StatusCode::OK);
                r.headers.push(HeaderName::Allow, crate::core::ALLOW);
                self.send(now, tx, r, Duration::ZERO);
                true
            }
            (_, Some(id), _) => {
                self.relay_in_dialog(now, id, Side::Caller, tx, req);
                true
            }
            (_, None, Some((id, i))) => {
                let is_winner = self.calls.calls.get(&id).and_then(|c| c.winner) == Some(i);
                if is_winner {
                    self.relay_in_dialog(now, id, Side::Callee, tx, req);
                } else {
                    self.reply(now, tx, req, StatusCode::CALL_DOES_NOT_EXIST);
                }
                true
            }
            _ => false,
        }
    }

    /// A client transaction timed out (no final response within 64*T1).
    pub(crate) fn on_client_timeout(&mut self, now: Instant, ctx: ClientTxId) {
        if self.calls.relayed.contains_key(&ctx) {
            return self.on_relayed_timeout(now, ctx);
        }
        let Some((id, i)) = self.calls.by_client_tx.remove(&ctx) else {
            return;
        };
        if let Some(fork) = self
            .calls
            .calls
            .get_mut(&id)
            .and_then(|c| c.forks.get_mut(i))
        {
            if matches!(fork.state, ForkState::Calling | ForkState::Early) {
                fork.state = ForkState::Failed(408);
            }
        }
        self.maybe_fail_call(now, id);
    }

    /// Call timers: 2xx retransmission to the caller until its ACK, and the ring timeout.
    pub(crate) fn handle_call_timers(&mut self, now: Instant) {
        while let Some(Reverse((at, id))) = self.calls.deadlines.peek().copied() {
            if at > now {
                break;
            }
            self.calls.deadlines.pop();
            let Some(call) = self.calls.calls.get_mut(&id) else {
                continue;
            };
            if call.deadline() != Some(at) {
                continue; // superseded by a later schedule
            }
            if call.winner.is_none() {
                if now >= call.ring_deadline && !call.a.final_sent {
                    self.give_up_ringing(now, id, StatusCode(480), "No Answer");
                }
                continue;
            }
            if call.a.ok_give_up.is_some_and(|g| now >= g) {
                // RFC 3261 §13.3.1.4: no ACK for our 2xx: the call is dead; end both sides.
                let winner = call.winner;
                if let Some(i) = winner {
                    self.bye_fork(now, id, i);
                }
                if let Some((bye, peer)) = self.a_request(id, Method::Bye) {
                    let _ = self.transactions.send_request(now, bye, peer);
                }
                self.end_call(now, id, "no ACK from caller");
                continue;
            }
            if let (Some(ok), Some(next)) = (call.a.ok.clone(), call.a.ok_next) {
                if next <= now {
                    let t2 = self.transactions.config().t2;
                    call.a.ok_interval = (call.a.ok_interval * 2).min(t2);
                    call.a.ok_next = Some(now + call.a.ok_interval);
                    let tx = call.a.ok_tx.unwrap_or(call.a.tx);
                    self.respond_now(now, tx, ok);
                }
            }
            self.calls.schedule(id);
        }
    }

    /// Forgets a call and reports its record.
    fn end_call(&mut self, now: Instant, id: u64, cause: &str) {
        let Some(call) = self.calls.calls.remove(&id) else {
            return;
        };
        self.calls
            .by_a
            .remove(&(call.a.call_id.clone(), call.a.remote_tag.clone()));
        self.calls.by_server_tx.remove(&call.a.tx);
        for f in &call.forks {
            self.calls.by_fork_call_id.remove(&f.call_id);
            self.calls.by_client_tx.remove(&f.tx);
        }
        self.calls.relayed.retain(|_, r| r.call != id);
        let status = if call.answered.is_some() {
            200
        } else if call.cancelled {
            487
        } else {
            best_failure(call.forks.iter().filter_map(|f| match f.state {
                ForkState::Failed(c) => Some(c),
                _ => None,
            }))
        };
        let media = match (call.media, self.media_relay.as_mut()) {
            (Some(ports), Some(relay)) => relay.close(ports.session),
            _ => String::new(),
        };
        let record = CallRecord {
            media,
            call_id: call.a.call_id,
            caller: call.caller,
            callee: call.callee,
            started_ms: self.unix_ms(call.started),
            answered_ms: call.answered.map(|t| self.unix_ms(t)),
            ended_ms: self.unix_ms(now),
            status,
            cause: cause.to_string(),
        };
        self.events.push_back(PbxEvent::CallEnded(record));
    }
}
