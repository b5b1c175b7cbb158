//! Requests inside an established call (re-INVITE for hold/resume or a new media offer,
//! UPDATE, INFO with DTMF, and other in-dialog methods): each is sent on in the other leg's
//! dialog and its final response carried back, with session descriptions re-anchored on the
//! relay so that media keeps flowing through it (and `a=sendonly`/`a=inactive` reach the
//! other phone unchanged, which is what puts it on hold).

use super::{copy_body, Call, Pbx};
use crate::media::{anchor, Side};
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
        let built = match from {
            Side::Caller => {
                let Some(fork) = self
                    .calls
                    .calls
                    .get_mut(&id)
                    .and_then(|c| c.forks.get_mut(winner))
                else {
                    return;
                };
                fork.cseq += 1;
                let cseq = fork.cseq;
                let Some(call) = self.calls.calls.get(&id) else {
                    return;
                };
                let fork = &call.forks[winner];
                let mut out = self.fork_request(fork, req.method.clone(), cseq);
                out.headers
                    .push(HeaderName::Contact, our_contact(call, Side::Callee));
                Some((out, fork.peer))
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
        out.body = self.reanchor(id, from, out.body);
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
        let answerer = match r.from {
            Side::Caller => Side::Callee,
            Side::Callee => Side::Caller,
        };
        back.body = self.reanchor(r.call, answerer, back.body);
        if let Some(call) = self.calls.calls.get(&r.call) {
            if r.request.method == Method::Invite && resp.status.is_success() {
                back.headers
                    .push(HeaderName::Contact, our_contact(call, r.from));
            }
        }
        back.headers
            .push(HeaderName::Server, self.settings.server_name.clone());
        if r.request.method == Method::Invite && resp.status.is_success() {
            // ACK the other side's 2xx ourselves (the ACK is end to end per dialog).
            let mut ack = r.sent.clone();
            ack.method = Method::Ack;
            ack.body.clear();
            ack.headers.remove(&HeaderName::ContentType);
            ack.headers.remove(&HeaderName::Contact);
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
            let dest = self.calls.calls.get(&r.call).and_then(|c| match answerer {
                Side::Callee => c.winner.map(|i| c.forks[i].peer),
                Side::Caller => Some(c.a.peer),
            });
            if let Some(dest) = dest {
                self.transactions
                    .send_stateless(dest, &sip::Message::Request(ack));
            }
            if r.from == Side::Caller {
                // Our 2xx to the caller is retransmitted until its ACK, like the first one.
                if let Some(call) = self.calls.calls.get_mut(&r.call) {
                    let t1 = self.transactions.config().t1;
                    call.a.ok = Some(back.clone());
                    call.a.ok_tx = Some(r.server_tx);
                    call.a.ok_interval = t1;
                    call.a.ok_next = Some(now + t1);
                    call.a.ok_give_up = Some(now + t1 * 64);
                }
                self.calls.schedule(r.call);
            }
        }
        self.respond_now(now, r.server_tx, back);
    }

    /// A relayed request timed out on the other side: 408 to the one that asked.
    pub(crate) fn on_relayed_timeout(&mut self, now: Instant, ctx: ClientTxId) {
        if let Some(r) = self.calls.relayed.remove(&ctx) {
            let resp = self.response(&r.request, StatusCode(408));
            self.send(now, r.server_tx, resp, Duration::ZERO);
        }
    }

    /// Points a session description coming from `from` at the relay port of the other side.
    pub(super) fn reanchor(&mut self, id: u64, from: Side, body: Vec<u8>) -> Vec<u8> {
        let Some(call) = self.calls.calls.get(&id) else {
            return body;
        };
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
fn our_contact(call: &Call, side: Side) -> String {
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
