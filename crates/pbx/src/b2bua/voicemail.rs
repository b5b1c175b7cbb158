//! Calls answered for voicemail: a caller leaving a message (the callee's user has a
//! mailbox and did not answer, was busy or on do not disturb, with no forward to take the
//! call) or a user collecting messages (`*17`). The PBX answers the caller on the relay
//! and hands the call to the shell as a [`VoicemailCall`] event; the mailbox dialogue —
//! greeting, recording, menus — runs there, on the relay session's caller side, with the
//! mailbox store. The call stays here, winner-less like a queued one, until the shell ends
//! it ([`Pbx::end_voicemail_call`]), routes it on ([`Pbx::route_voicemail_call`]: "press 0
//! for the operator", calling a message's sender back), or the caller hangs up.
//!
//! A transfer whose target rings out into the target's mailbox is not taken there (the
//! referrer gets the call back, as on any failed transfer); a blind transfer to a user who
//! is straight away unavailable (on DND, busy without call waiting, no phone) is.

use super::*;
use crate::events::{VoicemailCall, VoicemailReason};
use crate::routing::Step;

impl Pbx {
    /// Call `id` goes to `mailbox` for `reason`: answered by the PBX, handed to the shell.
    pub(super) fn send_to_voicemail(
        &mut self,
        now: Instant,
        id: u64,
        mailbox: &str,
        reason: VoicemailReason,
    ) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        if call.transfer.is_some() {
            return self.transfer_failed(now, id, 480);
        }
        let function = match reason {
            VoicemailReason::CallFlow => crate::channels::ChannelUse::Attendant,
            _ => crate::channels::ChannelUse::Mailbox,
        };
        // A call handed on from a flow to a mailbox keeps the channel it holds.
        let holds_one = call.voicemail.is_some();
        if !holds_one && !self.channel_free(function) {
            // A clear busy, never an answer into silence.
            tracing::warn!(call = id, mailbox, "no voicemail channel free");
            return self.refuse_ringing(now, id, 486, "no voicemail channel free".into());
        }
        let (status, cause) = match reason {
            VoicemailReason::NoAnswer | VoicemailReason::Collect => (480, "no answer"),
            VoicemailReason::Busy => (486, "busy"),
            VoicemailReason::DoNotDisturb => (486, "do not disturb"),
            VoicemailReason::CallFlow => (480, "the call flow could not answer"),
        };
        if call.media.is_none() {
            // Direct media between the phones was allowed: the mailbox needs the relay.
            let ports = self.media_relay.as_mut().and_then(|r| r.open());
            if let Some(call) = self.calls.calls.get_mut(&id) {
                call.media = ports;
            }
        }
        if let Err(why) = self.answer_by_pbx(now, id) {
            tracing::info!(call = id, mailbox, why, "voicemail could not answer");
            return self.refuse_ringing(now, id, status, cause.into());
        }
        // Ringback from a transfer or a queue's music stops: the mailbox speaks now.
        self.stop_music(id, Side::Caller);
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        call.voicemail = Some(mailbox.to_string());
        call.in_call_flow = reason == VoicemailReason::CallFlow;
        let Some(ports) = call.media else {
            return;
        };
        let answer = sdp::parse(&call.a.last_sdp).ok();
        let payload_type = hold::music_payload_type(&call.a.last_sdp, false).unwrap_or(0);
        let dtmf_payload_type = answer.as_ref().and_then(|sd| {
            let m = sd
                .media
                .iter()
                .find(|m| m.media == "audio" && m.port != 0)?;
            m.codecs().into_iter().find_map(|c| match c {
                sdp::Codec::TelephoneEvent { pt } => Some(pt),
                _ => None,
            })
        });
        let caller_name = call
            .a
            .invite
            .headers
            .get(&HeaderName::From)
            .and_then(|v| NameAddr::parse(v).ok())
            .and_then(|na| na.display_name);
        let trusted = reason == VoicemailReason::Collect
            && call.caller == mailbox
            && self
                .features
                .user_at(mailbox)
                .is_some_and(|u| u.voicemail_trusted);
        let event = VoicemailCall {
            call: id,
            call_id: call.a.call_id.clone(),
            relay_session: ports.session,
            payload_type,
            dtmf_payload_type,
            mailbox: mailbox.to_string(),
            reason,
            caller: call.caller.clone(),
            caller_name,
            trusted,
        };
        tracing::info!(call = id, mailbox, ?reason, "answered for voicemail");
        self.events.push_back(PbxEvent::VoicemailCall(event));
        self.calls.schedule(id);
    }

    /// The voicemail short codes: `*17` (`mailbox` `None`), the caller collects the
    /// messages of its own user's mailbox; `*18*N#` (`Some(N)`), of mailbox N — a user's
    /// or a hunt group's — with its PIN (none asked only of the owner on its own trusted
    /// phone).
    pub(super) fn collect_voicemail(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        caller: &str,
        mailbox: Option<&str>,
    ) {
        let refusal = match mailbox {
            None => match self.features.user_at(caller) {
                None => Some((404, "no user at this extension")),
                Some(u) if !u.voicemail => Some((404, "no mailbox")),
                Some(_) => None,
            },
            Some(number) => {
                (!self.features.has_mailbox(number)).then_some((404, "no such mailbox"))
            }
        };
        let refusal = refusal.or_else(|| {
            self.media_relay
                .is_none()
                .then_some((503, "voicemail needs the media relay"))
        });
        let dialog = page::dialog_of(req);
        let (refusal, dialog) = match (refusal, dialog) {
            (Some(r), _) => (Some(r), None),
            (None, None) => (Some((400, "incomplete INVITE")), None),
            (None, Some(d)) => (None, Some(d)),
        };
        let Some((call_id, remote_tag, remote_target)) = dialog else {
            let (status, why) = refusal.unwrap_or((500, "no dialog"));
            let mut r = self.response(req, StatusCode(status));
            r.reason = format!("{} ({why})", StatusCode(status).default_reason());
            return self.refuse_call(now, tx, req, caller.to_string(), r);
        };
        let ports = self.media_relay.as_mut().and_then(|r| r.open());
        let admitted = setup::Admitted {
            callee: "voicemail".into(),
            first: setup::First::Feature,
            visited: Vec::new(),
            call_id,
            remote_tag,
            remote_target,
            timer_terms: None,
            reliable: false,
            media: ports,
        };
        let id = self.insert_call(now, source, tx, req.clone(), caller.to_string(), admitted);
        self.send_to_voicemail(now, id, mailbox.unwrap_or(caller), VoicemailReason::Collect);
    }

    /// The shell's voicemail dialogue is over: the caller gets BYE and the call ends.
    /// False when the call is not (or no longer) in voicemail.
    pub fn end_voicemail_call(&mut self, now: Instant, call: u64) -> bool {
        if !self.in_voicemail(call) {
            return false;
        }
        let ringing = self
            .calls
            .calls
            .get(&call)
            .and_then(|c| c.transfer.as_ref());
        if let Some(first_stage) = ringing.map(|t| t.first_stage) {
            // A screened transfer's target rings: it stops.
            self.cancel_transfer_forks(now, call, first_stage, None);
        }
        if let Some((bye, peer)) = self.a_request(call, Method::Bye) {
            if let Err(e) = self.transactions.send_request(now, bye, peer) {
                tracing::debug!(error = %e, "BYE to voicemail caller not sent");
            }
        }
        self.end_call(now, call, "voicemail finished");
        true
    }

    /// The caller in voicemail goes on to `number` (the operator, the sender of a
    /// message called back, an auto attendant's choice), routed with the caller's rights;
    /// the caller hears ringback, and if nobody answers the call ends. A number that
    /// leads straight to a mailbox or a call flow (a user on do not disturb, another
    /// attendant) hands the call over there: a new [`PbxEvent::VoicemailCall`] for the
    /// same call. `Err(status)` when nothing can ring (the call stays in voicemail).
    pub fn route_voicemail_call(
        &mut self,
        now: Instant,
        call: u64,
        number: &str,
    ) -> Result<(), u16> {
        if !self.in_voicemail(call) {
            return Err(481);
        }
        let caller = self.calls.calls[&call].caller.clone();
        let step = self.route_for(now, &caller, number);
        match &step.0 {
            Step::Voicemail {
                reason: VoicemailReason::Collect,
                ..
            } => return Err(480),
            Step::Voicemail { mailbox, reason } => {
                let (mailbox, reason) = (mailbox.clone(), *reason);
                self.send_to_voicemail(now, call, &mailbox, reason);
                return Ok(());
            }
            _ => {}
        }
        let mailbox = self.calls.calls.get_mut(&call).and_then(|c| {
            c.voicemail
                .take()
                .map(|m| (m, std::mem::take(&mut c.in_call_flow)))
        });
        let result = self.ring_for_answered_call(now, call, 0, true, step);
        if result.is_err() {
            if let Some(c) = self.calls.calls.get_mut(&call) {
                if let Some((mailbox, in_call_flow)) = mailbox {
                    c.voicemail = Some(mailbox);
                    c.in_call_flow = in_call_flow;
                }
            }
        }
        self.calls.schedule(call);
        result
    }

    fn in_voicemail(&self, call: u64) -> bool {
        self.calls
            .calls
            .get(&call)
            .is_some_and(|c| c.voicemail.is_some())
    }
}
