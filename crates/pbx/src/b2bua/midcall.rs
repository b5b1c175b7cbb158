//! Requests inside an established call (re-INVITE for hold/resume or a new media offer,
//! UPDATE, INFO with DTMF, and other in-dialog methods): each is sent on in the other leg's
//! dialog and its final response carried back, with session descriptions re-anchored on the
//! relay so that media keeps flowing through it. An offer that holds the other party is
//! seen on the way (see `hold`): the held phone is offered `a=sendonly` and hears music
//! from the relay once it accepts.

use super::hold::{with_direction, HoldOffer};
use super::session_timer::{self, Agreement, Negotiation};
use super::{copy_body, Call, Pbx, Resend};
use crate::media::{anchor, Side};
use crate::Peer;
use sip::header::HeaderName;
use sip::transaction::{ClientTxId, ServerTxId};
use sip::{Method, Request, Response, StatusCode};
use std::time::{Duration, Instant};

/// A request relayed from one leg to the other, waiting for its final response.
#[derive(Debug)]
pub(crate) struct Relayed {
    pub(super) call: u64,
    from: Side,
    server_tx: ServerTxId,
    request: Request,
    /// The request we sent (for the ACK of an INVITE's 2xx).
    sent: Request,
    /// New session timer terms the caller put in its refresh.
    terms: Option<Agreement>,
    /// What its offer said about holding the other side, applied once accepted.
    hold: Option<HoldOffer>,
}

/// Our ACK for the other side's 2xx to a re-INVITE without SDP: that 2xx carried the offer,
/// so the ACK must carry the answer, which comes in the ACK of the side that asked.
#[derive(Debug)]
pub(crate) struct DeferredAck {
    to: Side,
    ack: Request,
    peer: Peer,
    /// The offer in the 2xx held with `a=inactive` (offered as `sendonly`): the answer
    /// must say `inactive` when it reaches the side that offered.
    answer_inactive: bool,
}

/// The ACK for a 2xx to `sent` (an INVITE of ours): same dialog and CSeq number, a new
/// branch (RFC 3261 §13.2.2.4).
pub(super) fn ack_for(sent: &Request) -> Request {
    let mut ack = sent.clone();
    ack.method = Method::Ack;
    ack.body.clear();
    for name in [
        HeaderName::ContentType,
        HeaderName::Contact,
        HeaderName::SessionExpires,
        HeaderName::Supported,
    ] {
        ack.headers.remove(&name);
    }
    let seq = ack
        .headers
        .get(&HeaderName::CSeq)
        .and_then(|v| v.split_whitespace().next())
        .unwrap_or("1")
        .to_string();
    ack.headers.set(HeaderName::CSeq, format!("{seq} ACK"));
    if let Some(via) = ack.headers.get(&HeaderName::Via).map(str::to_string) {
        let fresh = via
            .split(";branch=")
            .next()
            .map(|v| format!("{v};branch={};rport", sip::dialog::new_branch()))
            .unwrap_or(via);
        ack.headers.set(HeaderName::Via, fresh);
    }
    ack
}

fn is_session_refresh(method: &Method) -> bool {
    matches!(method, Method::Invite | Method::Update)
}

impl Pbx {
    /// Relays an in-dialog request of an answered call to the other side.
    pub(crate) fn relay_in_dialog(
        &mut self,
        now: Instant,
        id: u64,
        from: Side,
        tx: ServerTxId,
        req: &Request,
    ) {
        let Some(call) = self.calls.calls.get(&id) else {
            return self.reply(now, tx, req, StatusCode::CALL_DOES_NOT_EXIST);
        };
        let Some(winner) = call.winner else {
            // Before the answer there is no dialog on the other side to carry it.
            return self.reply(now, tx, req, StatusCode(491));
        };
        if req.method == Method::Invite
            && self
                .calls
                .relayed
                .values()
                .any(|r| r.call == id && r.request.method == Method::Invite)
        {
            // RFC 3261 §14.2: one re-INVITE at a time.
            return self.reply(now, tx, req, StatusCode(491));
        }
        let mut terms = None;
        if from == Side::Caller
            && is_session_refresh(&req.method)
            && req.headers.get(&HeaderName::SessionExpires).is_some()
        {
            match session_timer::negotiate(req, &self.settings) {
                Negotiation::TooBrief(min_se) => {
                    let r = session_timer::too_brief(self, req, min_se);
                    return self.send(now, tx, r, Duration::ZERO);
                }
                Negotiation::Agreed(t) => terms = Some(t),
                Negotiation::Off => {}
            }
        }
        let built = match from {
            Side::Caller => {
                self.next_fork_request(id, winner, req.method.clone())
                    .map(|(mut out, peer)| {
                        if let Some(call) = self.calls.calls.get(&id) {
                            out.headers
                                .push(HeaderName::Contact, our_contact(call, Side::Callee));
                        }
                        (out, peer)
                    })
            }
            Side::Callee => self
                .a_request(id, req.method.clone())
                .map(|(mut out, peer)| {
                    if let Some(call) = self.calls.calls.get(&id) {
                        out.headers
                            .push(HeaderName::Contact, our_contact(call, Side::Caller));
                    }
                    (out, peer)
                }),
        };
        let Some((mut out, peer)) = built else {
            return self.reply(now, tx, req, StatusCode::SERVER_ERROR);
        };
        out.body = copy_body(&req.headers, &req.body, &mut out.headers);
        let hold = if is_session_refresh(&req.method) {
            self.hold_offer(id, &mut out.body)
        } else {
            None
        };
        out.body = self.reanchor(id, from, out.body);
        if let Some(call) = self.calls.calls.get_mut(&id) {
            if from == Side::Callee && is_session_refresh(&req.method) {
                if let Some(timer) = &call.timer {
                    timer.stamp_request(&mut out);
                }
            }
            if !out.body.is_empty() {
                match from {
                    Side::Callee => call.a.last_sdp.clone_from(&out.body),
                    Side::Caller => call.b_last_sdp.clone_from(&out.body),
                }
            }
        }
        match self.transactions.send_request(now, out.clone(), peer) {
            Ok(ctx) => {
                self.calls.relayed.insert(
                    ctx,
                    Relayed {
                        call: id,
                        from,
                        server_tx: tx,
                        request: req.clone(),
                        sent: out,
                        terms,
                        hold,
                    },
                );
            }
            Err(_) => self.reply(now, tx, req, StatusCode::SERVER_ERROR),
        }
    }

    /// The other side answered a relayed request: carry the final response back.
    pub(crate) fn on_relayed_response(&mut self, now: Instant, ctx: ClientTxId, resp: Response) {
        if resp.status.is_provisional() {
            return;
        }
        let Some(r) = self.calls.relayed.remove(&ctx) else {
            return;
        };
        let mut back = Response::for_request(&r.request, resp.status);
        back.reason.clone_from(&resp.reason);
        back.body = copy_body(&resp.headers, &resp.body, &mut back.headers);
        // The answer came from the other side: re-anchor it towards the side that asked.
        let answerer = r.from.other();
        let ok = resp.status.is_success();
        // Hold starts or ends once the other side accepted the offer.
        let mut answer_inactive = false;
        if ok {
            if let Some(offer) = r.hold {
                self.apply_hold(r.call, r.from, offer, &back.body, true);
                if offer == (HoldOffer::Hold { inactive: true }) {
                    back.body = with_direction(back.body, sdp::Direction::Inactive);
                }
            } else if r.request.method == Method::Invite && r.request.body.is_empty() {
                // No SDP in the re-INVITE: this 2xx is the answerer's own offer.
                if let Some(offer) = self.hold_offer(r.call, &mut back.body) {
                    self.apply_hold(r.call, answerer, offer, &back.body, false);
                    answer_inactive = offer == (HoldOffer::Hold { inactive: true });
                }
            }
        }
        back.body = self.reanchor(r.call, answerer, back.body);
        if let Some(call) = self.calls.calls.get(&r.call) {
            if r.request.method == Method::Invite && resp.status.is_success() {
                back.headers
                    .push(HeaderName::Contact, our_contact(call, r.from));
            }
        }
        back.headers
            .push(HeaderName::Server, self.settings.server_name.clone());
        if ok && is_session_refresh(&r.request.method) {
            self.session_refreshed(now, r.call, r.terms);
            if r.from == Side::Caller {
                if let Some(timer) = self.calls.calls.get(&r.call).and_then(|c| c.timer.as_ref()) {
                    timer.stamp_response(&mut back);
                }
            }
        }
        if r.from == Side::Caller && !back.body.is_empty() {
            if let Some(call) = self.calls.calls.get_mut(&r.call) {
                call.a.last_sdp.clone_from(&back.body);
            }
        }
        if r.request.method == Method::Invite && ok {
            self.ack_relayed_ok(r.call, answerer, &r, &resp, answer_inactive);
            // Our 2xx is retransmitted until the ACK, like the first one.
            let t1 = self.transactions.config().t1;
            let t2 = self.transactions.config().t2;
            if let Some(call) = self.calls.calls.get_mut(&r.call) {
                let resend = Some(Resend::new(now, r.server_tx, back.clone(), t1, Some(t2)));
                match r.from {
                    Side::Caller => call.a.ok = resend,
                    Side::Callee => call.b_ok = resend,
                }
            }
            self.calls.schedule(r.call);
        }
        let gone = matches!(resp.status.0, 408 | 481);
        self.respond_now(now, r.server_tx, back);
        if gone {
            // RFC 3261 §12.2.1.2: the other side's dialog is gone, so is the call.
            self.hang_up_both(now, r.call, "dialog gone (408/481 in call)");
        }
    }

    /// ACKs the other side's 2xx to a relayed re-INVITE ourselves (the ACK is end to end
    /// per dialog) — at once, or, when that 2xx carried an offer (the re-INVITE had no
    /// SDP), once the asking side's ACK brings the answer.
    fn ack_relayed_ok(
        &mut self,
        id: u64,
        answerer: Side,
        r: &Relayed,
        resp: &Response,
        answer_inactive: bool,
    ) {
        let ack = ack_for(&r.sent);
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let peer = match answerer {
            Side::Callee => match call.winner.and_then(|i| call.forks.get(i)) {
                Some(f) => f.peer,
                None => return,
            },
            Side::Caller => call.a.peer,
        };
        if r.request.body.is_empty() && !resp.body.is_empty() {
            call.deferred_ack = Some(DeferredAck {
                to: answerer,
                ack,
                peer,
                answer_inactive,
            });
        } else {
            self.transactions
                .send_stateless(peer, &sip::Message::Request(ack));
        }
    }

    /// The ACK from `from` completes a re-INVITE without SDP: send our deferred ACK to the
    /// other side with the answer it carries, re-anchored on the relay.
    pub(super) fn deliver_deferred_ack(&mut self, id: u64, from: Side, ack_in: &Request) {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        if !call.deferred_ack.as_ref().is_some_and(|d| d.to != from) {
            return;
        }
        let Some(DeferredAck {
            to,
            mut ack,
            peer,
            answer_inactive,
        }) = call.deferred_ack.take()
        else {
            return;
        };
        ack.body = copy_body(&ack_in.headers, &ack_in.body, &mut ack.headers);
        if answer_inactive {
            ack.body = with_direction(ack.body, sdp::Direction::Inactive);
        }
        ack.body = self.reanchor(id, from, ack.body);
        if to == Side::Caller && !ack.body.is_empty() {
            if let Some(call) = self.calls.calls.get_mut(&id) {
                call.a.last_sdp.clone_from(&ack.body);
            }
        }
        self.transactions
            .send_stateless(peer, &sip::Message::Request(ack));
    }

    /// A relayed request timed out on the other side: 408 to the one that asked.
    pub(crate) fn on_relayed_timeout(&mut self, now: Instant, ctx: ClientTxId) {
        if let Some(r) = self.calls.relayed.remove(&ctx) {
            let resp = self.response(&r.request, StatusCode(408));
            self.send(now, r.server_tx, resp, Duration::ZERO);
            // The other side is unreachable: end the call rather than leave it half dead.
            self.hang_up_both(now, r.call, "no answer in call (408)");
        }
    }

    /// Points a session description coming from `from` at the relay port of the other side.
    pub(super) fn reanchor(&mut self, id: u64, from: Side, body: Vec<u8>) -> Vec<u8> {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return body;
        };
        call.heard_sdp(from, &body);
        let (Some(ports), false) = (call.media, body.is_empty()) else {
            return body;
        };
        // What the other side sees: the relay port reserved for it, at the address it knows.
        let (port, host) = match from {
            Side::Caller => {
                let host = call
                    .winner
                    .and_then(|i| call.forks.get(i))
                    .and_then(|f| f.invite.headers.get(&HeaderName::Via))
                    .and_then(|v| v.split_whitespace().nth(1))
                    .and_then(|v| v.split(';').next())
                    .unwrap_or_default()
                    .to_string();
                (ports.callee_port, host)
            }
            Side::Callee => (ports.caller_port, call.a.local_host.clone()),
        };
        let ip = self.side_ip(&host);
        match anchor(&body, ip, port) {
            Some((new, remote)) => {
                if let (Some(remote), Some(relay)) = (remote, self.media_relay.as_mut()) {
                    relay.set_remote(ports.session, from, remote);
                }
                new
            }
            None => body,
        }
    }
}

/// Our Contact towards `side` of the call.
pub(super) fn our_contact(call: &Call, side: Side) -> String {
    match side {
        Side::Caller => format!(
            "<sip:{}@{}{}>",
            call.callee,
            call.a.local_host,
            super::transport_param(call.a.peer)
        ),
        Side::Callee => {
            let fork = call.winner.and_then(|i| call.forks.get(i));
            let host = fork
                .and_then(|f| f.invite.headers.get(&HeaderName::Via))
                .and_then(|v| v.split_whitespace().nth(1))
                .and_then(|v| v.split(';').next())
                .unwrap_or_default();
            let transport = fork.map_or("", |f| super::transport_param(f.peer));
            format!("<sip:{}@{host}{transport}>", call.caller)
        }
    }
}
