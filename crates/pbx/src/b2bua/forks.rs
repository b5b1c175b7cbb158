//! The B leg: the INVITE sent to each contact of the callee, its responses, the winner's
//! answer relayed to the caller, the other forks CANCELled, requests in a fork's dialog.

use super::*;

impl Pbx {
    /// A response for one of our fork INVITEs (or an in-dialog request we sent).
    pub(crate) fn on_fork_response(&mut self, now: Instant, ctx: ClientTxId, resp: Response) {
        if self.calls.relayed.contains_key(&ctx) {
            return self.on_relayed_response(now, ctx, resp);
        }
        if self.calls.refreshes.contains_key(&ctx) {
            return self.on_refresh_response(now, ctx, resp);
        }
        if self.calls.reoffers.contains_key(&ctx) {
            return self.on_reoffer_response(now, ctx, resp);
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
            if !self.prack_fork(now, id, i, &resp) {
                return; // a retransmitted reliable provisional: PRACKed and relayed once
            }
            let Some(call) = self.calls.calls.get(&id) else {
                return;
            };
            if call.a.final_sent || call.cancelled {
                return;
            }
            let mut r = self.a_response(call, status, &resp.reason);
            r.body = copy_body(&resp.headers, &resp.body, &mut r.headers);
            r.body = self.anchor_for_caller(id, r.body);
            self.send_provisional(now, id, r);
            return;
        }
        if status.is_success() && fork.party.is_some() {
            return self.party_answered(now, id, i, &resp);
        }
        if status.is_success() {
            let (stage, state) = (fork.stage, fork.state);
            let for_transfer = call
                .transfer
                .as_ref()
                .is_some_and(|t| stage >= t.first_stage);
            if for_transfer && state != ForkState::Answered {
                return self.transfer_answered(now, id, i, resp);
            }
            if call.winner == Some(i) || call.screened == Some(i) {
                // The winner (or a screened transfer's target) retransmits its 2xx: our ACK was lost, or (late offer) it is
                // still waiting for the caller's answer.
                if !call.ack_pending {
                    self.resend_fork_ack(id, i);
                }
                return;
            }
            // Late: another fork won, the caller cancelled, or we already gave up (ring
            // timeout, no PRACK) and the caller has its final response.
            let late = call.winner.is_some() || call.cancelled || call.a.final_sent;
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
                if let Some(fork) = self
                    .calls
                    .calls
                    .get_mut(&id)
                    .and_then(|c| c.forks.get_mut(i))
                {
                    // Over for us: without a winner, the call ends once every fork is.
                    fork.state = ForkState::Failed(487);
                }
                self.calls.by_client_tx.remove(&ctx);
                self.maybe_fail_call(now, id);
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
    pub(super) fn answer_call(&mut self, now: Instant, id: u64, winner: usize, resp: Response) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        let mut ok = self.a_response(call, StatusCode::OK, &resp.reason);
        ok.body = copy_body(&resp.headers, &resp.body, &mut ok.headers);
        ok.body = self.anchor_for_caller(id, ok.body);
        self.connect(now, id, winner, ok);
    }

    /// Fork `winner` has the call: the caller gets `ok` (retransmitted until its ACK), the
    /// other phones get CANCEL.
    pub(super) fn connect(&mut self, now: Instant, id: u64, winner: usize, mut ok: Response) {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        call.set_winner(winner);
        call.answered = Some(now);
        let extension = call.forks[winner].extension.clone();
        self.calls
            .presence
            .answered(&[call.caller.as_str(), extension.as_str()]);
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        call.ack_pending = call.a.invite.body.is_empty();
        let others: Vec<usize> = (0..call.forks.len())
            .filter(|&j| {
                j != winner && matches!(call.forks[j].state, ForkState::Calling | ForkState::Early)
            })
            .collect();
        if let Some(call) = self.calls.calls.get_mut(&id) {
            call.a.final_sent = true;
            if !ok.body.is_empty() {
                call.a.last_sdp.clone_from(&ok.body);
            }
            if let Some(timer) = call.timer.as_mut() {
                timer.stamp_response(&mut ok);
                timer.start(now);
            }
        }
        self.send_invite_ok(now, id, ok);
        for j in others {
            self.cancel_fork(now, id, j);
        }
        self.review_recording(now, id);
        self.calls.schedule(id);
    }

    /// A fork failed. When every phone of the ringing stage has, the route moves on
    /// (busy or no-answer continuation) or, with nowhere left to go, the caller gets the
    /// stage's best failure. The call ends once every fork of every stage is over.
    pub(super) fn maybe_fail_call(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        if call.page.is_some() {
            return self.page_check_end(now, id);
        }
        if call.transfer.is_some() {
            let stage = call.route.stage;
            let mut codes = Vec::new();
            for f in call.forks.iter().filter(|f| f.stage == stage) {
                match f.state {
                    ForkState::Failed(c) => codes.push(c),
                    _ => return,
                }
            }
            let busy = !codes.is_empty() && codes.iter().all(|c| matches!(c, 486 | 600));
            if !self.next_stage(now, id, busy) {
                self.transfer_failed(now, id, best_failure(codes.into_iter()));
            }
            return;
        }
        if call.winner.is_some() {
            return;
        }
        if !call.a.final_sent && !call.cancelled {
            let stage = call.route.stage;
            let mut codes = Vec::new();
            for f in call.forks.iter().filter(|f| f.stage == stage) {
                match f.state {
                    ForkState::Failed(c) => codes.push(c),
                    _ => return, // still ringing
                }
            }
            let busy = !codes.is_empty() && codes.iter().all(|c| matches!(c, 486 | 600));
            if self.next_stage(now, id, busy) {
                return;
            }
            let code = best_failure(codes.into_iter());
            let cause = failure_cause(code);
            let Some(call) = self.calls.calls.get_mut(&id) else {
                return;
            };
            call.route.failure = Some((code, cause));
            call.a.final_sent = true;
            let Some(call) = self.calls.calls.get(&id) else {
                return;
            };
            let status = StatusCode(code);
            let (tx, r) = (
                call.a.tx,
                self.a_response(call, status, status.default_reason()),
            );
            self.respond_now(now, tx, r);
        }
        self.end_if_all_failed(now, id);
    }

    /// Ends an unanswered call once every fork of every stage is over.
    pub(super) fn end_if_all_failed(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        if call.winner.is_some()
            || !call
                .forks
                .iter()
                .all(|f| matches!(f.state, ForkState::Failed(_)))
        {
            return;
        }
        let cause = if call.cancelled {
            "cancelled".to_string()
        } else if let Some((_, cause)) = &call.route.failure {
            cause.clone()
        } else {
            failure_cause(best_failure(call.forks.iter().filter_map(
                |f| match f.state {
                    ForkState::Failed(c) => Some(c),
                    _ => None,
                },
            )))
        };
        self.end_call(now, id, &cause);
    }

    /// Sends CANCEL for a fork (or notes it for when its first provisional response comes:
    /// RFC 3261 §9.1 forbids a CANCEL before one).
    pub(super) fn cancel_fork(&mut self, now: Instant, id: u64, i: usize) {
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
                if let Some(cancel) = tx.and_then(|tx| self.transactions.build_cancel(tx)) {
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
    pub(super) fn ack_fork(&mut self, id: u64, i: usize, answer: Option<&Request>) {
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

    pub(super) fn resend_fork_ack(&mut self, id: u64, i: usize) {
        let Some(fork) = self.calls.calls.get(&id).and_then(|c| c.forks.get(i)) else {
            return;
        };
        if let Some(ack) = &fork.ack {
            self.transactions
                .send_stateless(fork.peer, &sip::Message::Request(ack.clone()));
        }
    }

    /// BYE on a fork's dialog.
    pub(super) fn bye_fork(&mut self, now: Instant, id: u64, i: usize) {
        let Some((bye, peer)) = self.next_fork_request(id, i, Method::Bye) else {
            return;
        };
        if let Err(e) = self.transactions.send_request(now, bye, peer) {
            tracing::debug!(error = %e, "BYE not sent");
        }
    }

    /// The next request in a fork's dialog (its CSeq counted up), and where it goes.
    pub(super) fn next_fork_request(
        &mut self,
        id: u64,
        i: usize,
        method: Method,
    ) -> Option<(Request, Peer)> {
        let fork = self.calls.calls.get_mut(&id)?.forks.get_mut(i)?;
        fork.cseq += 1;
        let cseq = fork.cseq;
        let fork = self.calls.calls.get(&id)?.forks.get(i)?;
        Some((self.fork_request(fork, method, cseq), fork.peer))
    }

    /// A request in a fork's dialog: to its Contact, with both tags.
    pub(super) fn fork_request(&self, fork: &Fork, method: Method, cseq: u32) -> Request {
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
    pub(super) fn give_up_ringing(
        &mut self,
        now: Instant,
        id: u64,
        status: StatusCode,
        reason: &str,
    ) {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        if call.transfer.is_some() {
            // The caller is answered: it is the transfer that failed.
            return self.transfer_failed(now, id, status.0);
        }
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
}

/// The record's words for a final failure the phones gave.
fn failure_cause(code: u16) -> String {
    match code {
        486 | 600 => "busy".to_string(),
        408 | 480 => "no answer".to_string(),
        603 => "declined".to_string(),
        c => format!("failed ({c})"),
    }
}
