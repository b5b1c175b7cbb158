//! Blind transfer by the answering party (RFC 3515 REFER, progress by NOTIFY with
//! `message/sipfrag`, RFC 3515 §2.4.5): the callee sends REFER to a number; we accept (202),
//! route that number as a new stage of the call (forwarding, hunt groups and all), and
//! when the target answers it takes the referrer's place. The caller's session does not
//! change: media is anchored on the relay, so only the relay's callee side now points at
//! the target. If the target fails, the referrer hears why by NOTIFY and the call goes on
//! with it (or ends, if it has hung up meanwhile).
//!
//! Attended transfer (Refer-To with Replaces) is in `attended`.
//!
//! The caller hears the ringback tone from the relay while the target rings.
//!
//! A REFER from the caller turns the call around first (see `turnaround`): the caller
//! becomes the answered callee, and the same code transfers (or parks) it.

use super::handover::LegRef;
use super::*;
use crate::dialplan::CallRight;
use crate::routing::{Router, Step};
use crate::shortcodes::ShortCodeFeature;
use sip::header::Replaces;

/// A transfer under way.
#[derive(Debug)]
pub(super) struct Transfer {
    /// The fork of the party that sent REFER (the answered callee, or the caller after
    /// the call turned around).
    referrer: usize,
    /// It has hung up already (blind transfer: many phones do at once).
    referrer_gone: bool,
    /// Forks of this stage and later ring the target.
    pub(super) first_stage: u32,
    /// A screened transfer of a call in voicemail (see `screen`): the answer is not put
    /// through, and a failure leaves the caller in voicemail.
    pub(super) screened: bool,
}

impl Pbx {
    /// A REFER in an answered call, from leg `from`: attended transfer when its Refer-To
    /// carries Replaces (see `attended`), else blind transfer by the callee.
    pub(super) fn on_refer(
        &mut self,
        now: Instant,
        id: u64,
        from: LegRef,
        tx: ServerTxId,
        req: &Request,
    ) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        if call.transfer.is_some() {
            return self.reply(now, tx, req, StatusCode(491));
        }
        let refer_to = req
            .headers
            .get(&HeaderName::ReferTo)
            .and_then(|v| NameAddr::parse(v).ok());
        let Some(refer_to) = refer_to else {
            let mut r = self.response(req, StatusCode::BAD_REQUEST);
            r.reason = "Bad Request (no usable Refer-To)".into();
            return self.send(now, tx, r, Duration::ZERO);
        };
        match (Replaces::from_uri(&refer_to.uri), from) {
            (Some(Ok(replaces)), _) => self.on_attended_refer(now, id, from, tx, req, &replaces),
            (Some(Err(_)), _) => {
                let mut r = self.response(req, StatusCode::BAD_REQUEST);
                r.reason = "Bad Request (unusable Replaces in Refer-To)".into();
                self.send(now, tx, r, Duration::ZERO)
            }
            // The caller transfers (or parks): turned around, it is the callee.
            (None, LegRef::Caller) => match self.turn_around(id) {
                Ok(i) => self.blind_transfer(now, id, i, tx, req, &refer_to),
                Err((status, why)) => {
                    let mut r = self.response(req, StatusCode(status));
                    r.reason = format!("{} ({why})", StatusCode(status).default_reason());
                    self.send(now, tx, r, Duration::ZERO)
                }
            },
            (None, LegRef::Fork(i)) => self.blind_transfer(now, id, i, tx, req, &refer_to),
        }
    }

    /// Blind transfer by the answered callee (fork `i`) to the Refer-To user.
    fn blind_transfer(
        &mut self,
        now: Instant,
        id: u64,
        i: usize,
        tx: ServerTxId,
        req: &Request,
        refer_to: &NameAddr,
    ) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        let Some(target) = refer_to.uri.user().map(str::to_string) else {
            return self.reply(now, tx, req, StatusCode::NOT_FOUND);
        };
        let referrer_ext = call.forks[i].extension.clone();
        if let Some((ShortCodeFeature::Park, slot)) = self.features.short_codes().lookup(&target) {
            let internal = self.features.rights_at(&referrer_ext);
            if !internal.contains(&CallRight::Internal) {
                let mut r = self.response(req, StatusCode::FORBIDDEN);
                r.reason = "Forbidden (no right to internal calls: park)".into();
                return self.send(now, tx, r, Duration::ZERO);
            }
            let slot = slot.to_string();
            return self.park(now, id, i, tx, req, &slot);
        }
        let step = self.route_for(now, &referrer_ext, &target);
        let mut accepted = self.response(req, StatusCode(202));
        accepted.reason = "Accepted".into();
        self.send(now, tx, accepted, Duration::ZERO);
        match &step.0 {
            Step::Queue { group } => return self.transfer_away(now, id, i, Away::Queue(group)),
            Step::Voicemail { mailbox, reason } => {
                return self.transfer_away(now, id, i, Away::Voicemail(mailbox, *reason))
            }
            _ => {}
        }
        self.notify_referrer(now, id, i, "SIP/2.0 100 Trying", false);
        if let Err(status) = self.ring_for_answered_call(now, id, i, false, step) {
            let line = format!("SIP/2.0 {status} {}", StatusCode(status).default_reason());
            self.notify_referrer(now, id, i, &line, true);
        }
    }

    /// Blind transfer to a hunt group whose members are all busy, or straight to a
    /// mailbox (the target is on DND, not registered, busy without call waiting): the
    /// transfer is done (the referrer hears 200 and is released, as from park) and the
    /// caller waits in the group's queue like any caller of the group, or leaves a
    /// message.
    fn transfer_away(&mut self, now: Instant, id: u64, i: usize, to: Away<'_>) {
        self.notify_referrer(now, id, i, "SIP/2.0 200 OK", true);
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let referrer = call.forks[i].extension.clone();
        call.remember_placing();
        call.callee = match to {
            Away::Queue(group) => group.to_string(),
            Away::Voicemail(mailbox, _) => mailbox.to_string(),
        };
        call.winner = None;
        call.b_ok = None;
        call.deferred_ack = None;
        // The referrer hangs up on the final NOTIFY; if it does not, we do.
        call.release = Some((now + super::attended::TRANSFEROR_GRACE, i));
        self.calls.presence.hung_up(now, &[referrer.as_str()]);
        self.stop_music(id, Side::Callee);
        tracing::info!(call = id, referrer, ?to, "transferred away");
        match to {
            Away::Queue(group) => self.enqueue(now, id, group),
            Away::Voicemail(mailbox, reason) => self.send_to_voicemail(now, id, mailbox, reason),
        }
    }

    /// Where dialling `target` from `caller` goes now, and the numbers it passed on the way.
    pub(super) fn route_for(
        &self,
        now: Instant,
        caller: &str,
        target: &str,
    ) -> (Step, Vec<String>) {
        let facts = hunt::Moment::new(&self.location, &self.calls.presence, now);
        self.route_with(&facts, caller, target)
    }

    /// Where dialling `target` from `caller` goes, given these facts.
    pub(super) fn route_with(
        &self,
        facts: &hunt::Moment<'_>,
        caller: &str,
        target: &str,
    ) -> (Step, Vec<String>) {
        let mut visited = Vec::new();
        let step = Router {
            directory: &self.directory,
            features: &self.features,
            facts,
            caller,
        }
        .dial(target, &mut visited);
        (step, visited)
    }

    /// Rings a new callee for an answered call as a new stage of its route; whoever
    /// answers takes the place of fork `referrer` (which may be gone already: a parked
    /// call calling back). `Err(status)` when nothing could ring.
    pub(super) fn ring_for_answered_call(
        &mut self,
        now: Instant,
        id: u64,
        referrer: usize,
        referrer_gone: bool,
        (step, visited): (Step, Vec<String>),
    ) -> Result<(), u16> {
        self.ring_for_answered_call_as(now, id, referrer, referrer_gone, false, (step, visited))
    }

    /// [`Self::ring_for_answered_call`], screened or not (see `screen`).
    pub(super) fn ring_for_answered_call_as(
        &mut self,
        now: Instant,
        id: u64,
        referrer: usize,
        referrer_gone: bool,
        screened: bool,
        (step, visited): (Step, Vec<String>),
    ) -> Result<(), u16> {
        let ring = match step {
            Step::Refuse { status, .. } => return Err(status),
            // Only a blind transfer queues (`transfer_away`); a parked call ringing
            // back, or a queued caller's overflow, finds the group busy.
            Step::Queue { .. } => return Err(486),
            // Only a blind transfer goes on to a mailbox (`transfer_away`).
            Step::Voicemail { .. } => return Err(480),
            Step::Ring(ring) => ring,
        };
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return Ok(());
        };
        call.transfer = Some(Transfer {
            referrer,
            referrer_gone,
            first_stage: call.route.stage + 1,
            screened,
        });
        call.ring_deadline = now + RING_TIMEOUT;
        call.route.visited = visited;
        call.route.overflow_at = None;
        call.route.failure = None;
        // The caller hears ringback while the target rings, not the referrer.
        self.play_ringback(id, Side::Caller);
        if self.ring_stage(now, id, *ring) == 0 && !self.next_stage(now, id, false) {
            self.transfer_failed(now, id, 480);
        }
        Ok(())
    }

    /// NOTIFY in the referrer's dialog with the progress of its REFER.
    pub(super) fn notify_referrer(
        &mut self,
        now: Instant,
        id: u64,
        i: usize,
        line: &str,
        last: bool,
    ) {
        self.notify_leg(now, id, LegRef::Fork(i), line, last);
    }

    /// The transfer target answered (fork `i`): it takes the referrer's place.
    pub(super) fn transfer_answered(&mut self, now: Instant, id: u64, i: usize, resp: Response) {
        if self.is_screening(id) {
            return self.screen_answered(now, id, i, resp);
        }
        self.ack_fork(id, i, None);
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let Some(t) = call.transfer.take() else {
            return;
        };
        call.requeue = None;
        call.forks[i].state = ForkState::Answered;
        call.remember_placing();
        call.callee.clone_from(&call.forks[i].extension);
        let old = call.set_winner(i);
        let (old_ext, new_ext) = (
            old.map(|o| call.forks[o].extension.clone())
                .unwrap_or_default(),
            call.forks[i].extension.clone(),
        );
        self.calls.presence.hung_up(now, &[old_ext.as_str()]);
        self.calls.presence.answered(&[new_ext.as_str()]);
        // Only the relay's callee side changes: the caller keeps talking to the relay.
        let _ = self.anchor_for_caller(id, resp.body);
        self.review_recording(now, id);
        // A transferee the referrer left on hold talks to the target two-way.
        self.resume_caller_if_held(now, id);
        if !t.referrer_gone {
            self.notify_referrer(now, id, t.referrer, "SIP/2.0 200 OK", true);
            self.bye_fork(now, id, t.referrer);
        }
        self.cancel_transfer_forks(now, id, t.first_stage, Some(i));
    }

    /// The target could not be reached: the referrer hears why and keeps the call, or,
    /// having hung up, the caller gets BYE.
    pub(super) fn transfer_failed(&mut self, now: Instant, id: u64, status: u16) {
        if self.is_screening(id) {
            return self.screen_failed(now, id, status);
        }
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let Some(t) = call.transfer.take() else {
            return;
        };
        self.cancel_transfer_forks(now, id, t.first_stage, None);
        self.stop_music(id, Side::Caller);
        if t.referrer_gone && call_requeues(self, id) {
            return self.requeue_or_hang_up(now, id);
        }
        if t.referrer_gone {
            if let Some((bye, peer)) = self.a_request(id, Method::Bye) {
                let _ = self.transactions.send_request(now, bye, peer);
            }
            return self.end_call(now, id, "transfer failed");
        }
        let line = format!("SIP/2.0 {status} {}", StatusCode(status).default_reason());
        self.notify_referrer(now, id, t.referrer, &line, true);
    }

    /// The referrer hung up during the transfer: the caller waits for the target.
    /// Returns false when no transfer by this fork is under way.
    pub(super) fn referrer_hung_up(&mut self, id: u64, i: usize) -> bool {
        match self
            .calls
            .calls
            .get_mut(&id)
            .and_then(|c| c.transfer.as_mut())
        {
            Some(t) if t.referrer == i => {
                t.referrer_gone = true;
                true
            }
            _ => false,
        }
    }

    /// CANCELs the forks still ringing for a transfer (all but `keep`).
    pub(super) fn cancel_transfer_forks(
        &mut self,
        now: Instant,
        id: u64,
        first_stage: u32,
        keep: Option<usize>,
    ) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        let ringing: Vec<usize> = call
            .forks
            .iter()
            .enumerate()
            .filter(|(j, f)| f.stage >= first_stage && Some(*j) != keep)
            .map(|(j, _)| j)
            .collect();
        for j in ringing {
            self.cancel_fork(now, id, j);
        }
    }
}

/// Where a blind transfer sends the call when nothing rings.
#[derive(Debug, Clone, Copy)]
enum Away<'a> {
    /// A busy hunt group's queue.
    Queue(&'a str),
    /// A user's mailbox.
    Voicemail(&'a str, crate::events::VoicemailReason),
}

/// The call was rung from a hunt group's queue and goes back to it if nobody answers.
fn call_requeues(pbx: &Pbx, id: u64) -> bool {
    pbx.calls
        .calls
        .get(&id)
        .is_some_and(|c| c.requeue.is_some())
}
