//! An INVITE with `Replaces` (RFC 3891) from one of our phones: the new dialog takes the
//! place of the one named.
//!
//! - A call ringing at a phone: the INVITE picks it up (what a BLF key's pickup sends),
//!   exactly as the pickup short code would.
//! - The answered callee's dialog, or the caller's: the phone takes that party's place —
//!   "call pull" between devices of the same extension; the old device gets BYE. Taking
//!   over another extension's established call is refused (403): that is intrusion, a
//!   right of its own.
//!
//! The other party keeps talking to the relay; only the replaced side's address changes.

use super::handover::LegRef;
use super::reoffer::{as_resumed_offer, holds_the_receiver};
use super::*;
use crate::dialplan::CallRight;
use sip::header::Replaces;

/// Why the replacement cannot be made: the status and words for the phone.
type Refusal = (u16, &'static str);

impl Pbx {
    /// Handles an INVITE that carries Replaces; false when it carries none.
    pub(super) fn invite_with_replaces(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        caller: &str,
    ) -> bool {
        let Some(value) = req.headers.get(&HeaderName::Replaces) else {
            return false;
        };
        let internal = self
            .features
            .rights_at(caller)
            .contains(&CallRight::Internal);
        let outcome = match Replaces::parse(value) {
            Err(_) => Err((400, "unusable Replaces header")),
            // Taking a call over is an internal call: no right, no takeover.
            Ok(_) if !internal => Err((403, "no right to internal calls")),
            Ok(r) => self.replace_dialog(now, source, tx, req, caller, &r),
        };
        if let Err((status, why)) = outcome {
            let mut r = self.response(req, StatusCode(status));
            r.reason = format!("{} ({why})", StatusCode(status).default_reason());
            self.send(now, tx, r, Duration::ZERO);
        }
        true
    }

    fn replace_dialog(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        caller: &str,
        r: &Replaces,
    ) -> Result<(), Refusal> {
        let (id, leg) = self.find_dialog(r).ok_or((481, "no such dialog"))?;
        let call = &self.calls.calls[&id];
        let ringing = call.winner.is_none() && !call.a.final_sent && call.transfer.is_none();
        match leg {
            LegRef::Fork(i) if ringing => {
                let rings = matches!(call.forks[i].state, ForkState::Calling | ForkState::Early);
                if !rings {
                    return Err((481, "that phone no longer rings"));
                }
                self.pickup_call(now, source, tx, req, caller, id)
            }
            _ if r.early_only => Err((486, "the dialog is established (early-only)")),
            LegRef::Fork(i) if call.winner == Some(i) => {
                if call.forks[i].extension != caller {
                    return Err((403, "another extension's call"));
                }
                let session = call.a.last_sdp.clone();
                let (_, new) = self.seat_phone(now, id, source, tx, req, caller, &session)?;
                if let Some(call) = self.calls.calls.get_mut(&id) {
                    call.set_winner(new);
                }
                self.review_recording(now, id);
                self.stop_music(id, Side::Callee);
                self.bye_fork(now, id, i);
                if holds_the_receiver(&session) {
                    if let Some(body) = as_resumed_offer(&session, None) {
                        self.send_reoffer(now, id, Side::Caller, body);
                    }
                }
                Ok(())
            }
            LegRef::Caller if call.winner.is_some() => {
                if call.caller != caller {
                    return Err((403, "another extension's call"));
                }
                self.replace_caller(now, id, source, tx, req)
            }
            _ => Err((481, "the dialog cannot be replaced now")),
        }
    }

    /// The phone's INVITE becomes the caller's dialog of answered call `id`; the old
    /// caller device gets BYE.
    fn replace_caller(
        &mut self,
        now: Instant,
        id: u64,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
    ) -> Result<(), Refusal> {
        let call = &self.calls.calls[&id];
        let ports = call.media.ok_or((488, "needs media through the relay"))?;
        let session =
            sdp::parse(&call.a.last_sdp).map_err(|_| (488, "the other party has no session"))?;
        let offer = sdp::parse(&req.body).map_err(|_| (488, "needs an offer in the INVITE"))?;
        let codec =
            pickup::common_voice_codec(&session, &offer).ok_or((488, "no codec in common"))?;
        let local_host = host_port(&req.uri);
        let ip = self.side_ip(&local_host);
        let answer = pickup::answer_on(&offer, &codec, ip, ports.caller_port)
            .ok_or((488, "no answer for this phone's offer"))?;
        let (Some(call_id), Some(remote_tag), Some(remote_target)) = (
            req.headers.get(&HeaderName::CallId).map(str::to_string),
            tag_of(req.headers.get(&HeaderName::From)),
            contact_uri(&req.headers),
        ) else {
            return Err((400, "incomplete INVITE"));
        };
        // The old device first, while the call still holds its dialog.
        self.bye_leg(now, id, LegRef::Caller);
        self.stop_music(id, Side::Caller);
        if let (Some(remote), Some(relay)) =
            (pickup::first_audio(&offer), self.media_relay.as_mut())
        {
            relay.set_remote(ports.session, Side::Caller, remote);
        }
        let timer = match session_timer::negotiate(req, &self.settings) {
            session_timer::Negotiation::Agreed(terms) => {
                Some(session_timer::SessionTimer::new(terms))
            }
            _ => None,
        };
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return Err((500, "the call ended"));
        };
        let old_key = (call.a.call_id.clone(), call.a.remote_tag.clone());
        let old_tx = call.a.tx;
        call.a = ALeg {
            peer: source,
            tx,
            local_host,
            invite: req.clone(),
            call_id: call_id.clone(),
            remote_tag: remote_tag.clone(),
            local_tag: new_tag(),
            remote_target,
            final_sent: true,
            cseq: 0,
            ok: None,
            reliable: false,
            prack: reliable::PrackState::starting_at(1),
            last_sdp: answer.clone(),
        };
        call.timer = timer;
        self.calls.by_a.remove(&old_key);
        self.calls.by_server_tx.remove(&old_tx);
        self.calls.by_a.insert((call_id, remote_tag), id);
        self.calls.by_server_tx.insert(tx, id);
        let Some(call) = self.calls.calls.get(&id) else {
            return Err((500, "the call ended"));
        };
        let mut ok = self.a_response(call, StatusCode::OK, "OK");
        ok.headers.push(HeaderName::ContentType, "application/sdp");
        ok.body = answer;
        if let Some(call) = self.calls.calls.get_mut(&id) {
            if let Some(t) = call.timer.as_mut() {
                t.stamp_response(&mut ok);
                t.start(now);
            }
        }
        self.send_invite_ok(now, id, ok);
        Ok(())
    }
}
