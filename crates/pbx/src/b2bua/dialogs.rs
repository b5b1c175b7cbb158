//! The A leg (the caller's dialog, where we are the UAS) and requests inside either dialog.

use super::handover::LegRef;
use super::*;

impl Pbx {
    /// A response to the caller's INVITE, from our side of the A dialog.
    pub(super) fn a_response(&self, call: &Call, status: StatusCode, reason: &str) -> Response {
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

    /// A request in the caller's dialog (we are its UAS side).
    pub(super) fn a_request(&mut self, id: u64, method: Method) -> Option<(Request, Peer)> {
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

    /// An ACK for a 2xx of ours: the caller confirming the call (or a re-INVITE), or the
    /// callee confirming a re-INVITE it sent. A late offer's answer rides on it and goes on
    /// in the ACK we owe the other side.
    pub(crate) fn on_ack(&mut self, now: Instant, req: &Request) {
        let call_id = req.headers.get(&HeaderName::CallId).unwrap_or_default();
        let tag = tag_of(req.headers.get(&HeaderName::From)).unwrap_or_default();
        let key = (call_id.to_string(), tag);
        if self.clear_confirmed(now, &key) {
            return;
        }
        let (id, side) = match self.calls.by_a.get(&key) {
            Some(&id) => (id, Side::Caller),
            None => match self.calls.by_fork_call_id.get(call_id) {
                Some(&(id, i)) if self.calls.calls.get(&id).and_then(|c| c.winner) == Some(i) => {
                    (id, Side::Callee)
                }
                Some(&(id, i)) if self.is_party(id, i) => return self.party_acked(id, i),
                _ => return,
            },
        };
        let mut pending = None;
        if let Some(call) = self.calls.calls.get_mut(&id) {
            match side {
                Side::Caller => {
                    call.a.ok = None;
                    if call.ack_pending {
                        call.ack_pending = false;
                        pending = call.winner;
                    }
                }
                Side::Callee => call.b_ok = None,
            }
        }
        if let Some(i) = pending {
            self.ack_fork(id, i, Some(req));
        }
        self.deliver_deferred_ack(id, side, req);
        self.calls.schedule(id);
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
                let transfer = self
                    .calls
                    .calls
                    .get(&id)
                    .and_then(|c| c.transfer.as_ref().map(|t| t.first_stage));
                if let Some(first_stage) = transfer {
                    // Hung up while its transfer rang: the target stops ringing.
                    self.cancel_transfer_forks(now, id, first_stage, None);
                }
                let answered = self.calls.calls.get(&id).is_some_and(|c| c.a.final_sent);
                if let Some(i) = winner {
                    self.bye_fork(now, id, i);
                    self.end_call(now, id, self.hung_up_cause(id, Side::Caller));
                } else if answered {
                    // Parked, or ringing back after a transfer: nobody else to tell.
                    self.end_call(now, id, self.hung_up_cause(id, Side::Caller));
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
                if self.is_party(id, i) {
                    self.party_gone(now, id, i, 200, false);
                    return true;
                }
                if self.referrer_hung_up(id, i) {
                    return true; // the caller waits for the transfer target
                }
                if self.screened_hung_up(id, i) {
                    return true; // the caller goes back to its call flow
                }
                if let Some(call) = self.calls.calls.get_mut(&id) {
                    // A transferor (or parker) hanging up on the final NOTIFY, as it should.
                    if call.release.take_if(|r| r.1 == i).is_some() {
                        self.calls.schedule(id);
                    }
                }
                let is_winner = self.calls.calls.get(&id).and_then(|c| c.winner) == Some(i);
                if is_winner {
                    if let Some((bye, peer)) = self.a_request(id, Method::Bye) {
                        if let Err(e) = self.transactions.send_request(now, bye, peer) {
                            tracing::debug!(error = %e, "BYE to caller not sent");
                        }
                    }
                    self.end_call(now, id, self.hung_up_cause(id, Side::Callee));
                }
                true
            }
            (Method::Refer, None, Some((id, i))) => {
                if self.calls.calls.get(&id).and_then(|c| c.winner) == Some(i) {
                    self.on_refer(now, id, LegRef::Fork(i), tx, req);
                } else {
                    self.reply(now, tx, req, StatusCode::CALL_DOES_NOT_EXIST);
                }
                true
            }
            (Method::Refer, Some(id), _) => {
                if self
                    .calls
                    .calls
                    .get(&id)
                    .is_some_and(|c| c.winner.is_some())
                {
                    self.on_refer(now, id, LegRef::Caller, tx, req);
                } else {
                    self.reply(now, tx, req, StatusCode(491));
                }
                true
            }
            (Method::Prack, Some(id), _) => {
                self.on_prack(now, id, tx, req);
                true
            }
            // We never send the callee a reliable provisional response.
            (Method::Prack, None, Some(_)) => {
                self.reply(now, tx, req, StatusCode::CALL_DOES_NOT_EXIST);
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
        if self.calls.refreshes.contains_key(&ctx) {
            return self.on_refresh_timeout(now, ctx);
        }
        if self.calls.reoffers.contains_key(&ctx) {
            return self.on_reoffer_timeout(now, ctx);
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
}
