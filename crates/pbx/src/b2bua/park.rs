//! Call park: the answering party sends the call away to a park slot by transferring it
//! blind to the park short code (`*37*1#`: slot 1) — what SIP phones' transfer key does —
//! and anyone takes it back by dialling the unpark code (`*38*1#`) from any phone. While
//! parked, the caller's dialog stays with us and its media on the relay; nobody is on the
//! callee side. Unparking seats the phone there as pickup does (`pickup::seat_phone`), and
//! resumes the caller if the parker had left it on hold. A call not taken back within the
//! park timeout rings the parker again (as a transfer with the referrer gone: if that
//! fails too, the caller gets BYE).
//!
//! The parked caller hears the parker's music on hold (see `hold`).
//!
//! The calling party parks the same way: its REFER turns the call around first (see
//! `turnaround`).

use super::*;

/// A call waiting in a park slot.
#[derive(Debug)]
pub(super) struct Parked {
    pub(super) slot: String,
    /// Who parked it (rung again when the time is up).
    parker: String,
    /// The parker's fork, gone or going.
    parker_fork: usize,
    pub(super) until: Instant,
}

impl Pbx {
    /// The answered callee (fork `i`) transfers the call to park slot `slot`.
    pub(super) fn park(
        &mut self,
        now: Instant,
        id: u64,
        i: usize,
        tx: ServerTxId,
        req: &Request,
        slot: &str,
    ) {
        let mut accepted = self.response(req, StatusCode(202));
        accepted.reason = "Accepted".into();
        self.send(now, tx, accepted, Duration::ZERO);
        if self.parked_in(slot).is_some() {
            // The slot is taken: the parker hears so and keeps the call.
            return self.notify_referrer(now, id, i, "SIP/2.0 486 Busy Here", true);
        }
        self.notify_referrer(now, id, i, "SIP/2.0 200 OK", true);
        let timeout = self.settings.park_timeout;
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let parker = call.forks[i].extension.clone();
        // The caller waits to the parker's music on hold.
        let session = call.a.last_sdp.clone();
        self.apply_hold(
            id,
            Side::Callee,
            hold::HoldOffer::Hold { inactive: false },
            &session,
            // Our own description, not the caller's answer: no "receives nothing" check.
            false,
        );
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        call.winner = None;
        call.b_ok = None;
        call.deferred_ack = None;
        call.parked = Some(Parked {
            slot: slot.to_string(),
            parker: parker.clone(),
            parker_fork: i,
            until: now + timeout,
        });
        // The parker hangs up on the final NOTIFY; if it does not, we do.
        call.release = Some((now + super::attended::TRANSFEROR_GRACE, i));
        self.calls.presence.hung_up(now, &[parker.as_str()]);
        self.recording_hold_changed(id);
        self.calls.schedule(id);
        tracing::info!(slot, parker, "call parked");
    }

    /// The call parked in `slot`, if any.
    fn parked_in(&self, slot: &str) -> Option<u64> {
        self.calls
            .calls
            .iter()
            .find(|(_, c)| c.parked.as_ref().is_some_and(|p| p.slot == slot))
            .map(|(id, _)| *id)
    }

    /// A phone dialled the unpark code for `slot`: it answers the parked call.
    pub(super) fn unpark(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        taker: &str,
        slot: &str,
    ) {
        let Some(id) = self.parked_in(slot) else {
            let mut r = self.response(req, StatusCode::NOT_FOUND);
            r.reason = format!("Not Found (nothing parked in slot {slot})");
            return self.send(now, tx, r, Duration::ZERO);
        };
        let session = self.calls.calls[&id].a.last_sdp.clone();
        let i = match self.seat_phone(now, id, source, tx, req, taker, &session) {
            Ok((_, i)) => i,
            Err((status, why)) => {
                let mut r = self.response(req, StatusCode(status));
                r.reason = format!("{} ({why})", StatusCode(status).default_reason());
                return self.send(now, tx, r, Duration::ZERO);
            }
        };
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        call.parked = None;
        call.remember_placing();
        call.callee = taker.to_string();
        call.set_winner(i);
        // Before the music stops: a recording of the parker's call goes on only if the
        // parker took the call back.
        self.review_recording(now, id);
        self.stop_music(id, Side::Caller);
        self.calls.presence.answered(&[taker]);
        self.resume_caller_if_held(now, id);
        self.calls.schedule(id);
        tracing::info!(slot, taker, "call unparked");
    }

    /// Nobody took the parked call back in time: ring the parker.
    pub(super) fn park_timed_out(&mut self, now: Instant, id: u64) {
        let Some(parked) = self.calls.calls.get_mut(&id).and_then(|c| c.parked.take()) else {
            return;
        };
        let route = self.route_for(now, &parked.parker, &parked.parker);
        if self
            .ring_for_answered_call(now, id, parked.parker_fork, true, route)
            .is_err()
        {
            if let Some((bye, peer)) = self.a_request(id, Method::Bye) {
                let _ = self.transactions.send_request(now, bye, peer);
            }
            self.end_call(now, id, "parked call not taken back; parker unreachable");
        }
    }
}
