//! Attended transfer (RFC 5589 §7): the transferor X has a call with the transferee T and a
//! consultation call with the target Z, and sends REFER in one of them whose Refer-To
//! carries `Replaces` naming the other (RFC 3891). A phone-to-phone transferee would send
//! Z an INVITE with Replaces; we are both other ends, so we join T and Z ourselves:
//!
//! ```text
//!   call R:  T ─── PBX ─── X  ──REFER(Refer-To: Z?Replaces=<X's dialog in call S>)──▶
//!   call S:  Z ─── PBX ─── X
//!   after:   T ─── PBX ─── Z   (in the call where X was the callee; X is released)
//! ```
//!
//! The joined call is the one in which X answered (its callee slot is where a dialog can
//! move: see `handover`); the party opposite X in the other call moves into that slot and
//! gets a re-INVITE pointing it at this call's relay. If T was left on hold by X, T gets a
//! re-INVITE resuming it. The transferor hears NOTIFY "200 OK" and hangs up the REFER's
//! dialog itself; its other dialog gets BYE from us. When X placed both calls, the call
//! of the REFER is turned around first (see `turnaround`), so X is its callee.

use super::handover::LegRef;
use super::reoffer::as_resumed_offer;
use super::*;
use sip::header::Replaces;

/// How long a transferor has to hang up its call after the final NOTIFY before we do.
pub(super) const TRANSFEROR_GRACE: Duration = Duration::from_secs(32);

/// Why an attended transfer cannot be made: the status and words for the transferor.
type Refusal = (u16, &'static str);

impl Pbx {
    /// A REFER with Replaces from leg `from` of call `id`.
    pub(super) fn on_attended_refer(
        &mut self,
        now: Instant,
        id: u64,
        from: LegRef,
        tx: ServerTxId,
        req: &Request,
        replaces: &Replaces,
    ) {
        match self.join_for_transfer(now, id, from, replaces) {
            Err((status, why)) => {
                let mut r = self.response(req, StatusCode(status));
                r.reason = format!("{} ({why})", StatusCode(status).default_reason());
                self.send(now, tx, r, Duration::ZERO);
            }
            Ok(joined) => {
                let mut accepted = self.response(req, StatusCode(202));
                accepted.reason = "Accepted".into();
                self.send(now, tx, accepted, Duration::ZERO);
                let refer_in_home = joined.home == id;
                // In the joined call the transferor is the callee (turned around if need be).
                let leg = if refer_in_home {
                    LegRef::Fork(joined.slot)
                } else {
                    from
                };
                self.notify_leg(now, id, leg, "SIP/2.0 200 OK", true);
                self.finish_join(now, joined, refer_in_home);
            }
        }
    }

    /// Checks the transfer and moves the target into the joined call.
    fn join_for_transfer(
        &mut self,
        now: Instant,
        id: u64,
        from: LegRef,
        replaces: &Replaces,
    ) -> Result<Joined, Refusal> {
        let (other, other_leg) = self
            .find_dialog(replaces)
            .ok_or((481, "the dialog to replace does not exist"))?;
        if other == id {
            return Err((400, "the dialog to replace is the one transferring"));
        }
        for (call, leg) in [(id, from), (other, other_leg)] {
            let c = &self.calls.calls[&call];
            let answered = match leg {
                LegRef::Caller => c.winner.is_some(),
                LegRef::Fork(i) => c.winner == Some(i),
            };
            if !answered || c.transfer.is_some() {
                return Err((403, "both calls must be answered and not in a transfer"));
            }
            if c.media.is_none() {
                return Err((488, "attended transfer needs media through the relay"));
            }
        }
        if self.extension_on(id, from) != self.extension_on(other, other_leg) {
            return Err((403, "the dialog to replace is not the transferor's"));
        }
        // Join into the call where the transferor is the callee.
        let (home, slot, away, away_leg) = match (from, other_leg) {
            (LegRef::Fork(i), _) => (id, i, other, other_leg),
            (LegRef::Caller, LegRef::Fork(j)) => (other, j, id, from),
            // The transferor placed both calls: the REFER's call turns around, so that
            // the transferor is its callee.
            (LegRef::Caller, LegRef::Caller) => {
                let i = self.turn_around(id)?;
                (id, i, other, other_leg)
            }
        };
        let mover = self
            .opposite_as_fork(away, away_leg)
            .ok_or((500, "the other party is gone"))?;
        let previous_sdp = self.last_sdp_to(away, away_leg);
        let Some(call) = self.calls.calls.get_mut(&home) else {
            return Err((500, "the call ended"));
        };
        let new = call.forks.len();
        let (x_ext, z_ext) = (call.forks[slot].extension.clone(), mover.extension.clone());
        self.calls
            .by_fork_call_id
            .insert(mover.call_id.clone(), (home, new));
        if let Some(tx) = mover.tx {
            self.calls.by_client_tx.insert(tx, (home, new));
        }
        call.forks.push(mover);
        call.remember_placing();
        call.callee.clone_from(&z_ext);
        call.set_winner(new);
        call.b_ok = None;
        call.deferred_ack = None;
        self.calls.presence.hung_up(now, &[x_ext.as_str()]);
        self.calls.presence.answered(&[z_ext.as_str()]);
        self.review_recording(now, home);
        Ok(Joined {
            home,
            slot,
            away,
            away_leg,
            previous_sdp,
        })
    }

    /// After the move: the other call ends (the transferor's dialog in it gets BYE, as
    /// the target would send it, RFC 5589 §7.1), the media of the moved party (and of a
    /// held transferee) is set right. The transferor's dialog in this call is left for it
    /// to hang up on the final NOTIFY, as phones do; if it has not within
    /// [`TRANSFEROR_GRACE`], we do.
    fn finish_join(&mut self, now: Instant, j: Joined, refer_in_home: bool) {
        if refer_in_home {
            if let Some(call) = self.calls.calls.get_mut(&j.home) {
                call.release = Some((now + TRANSFEROR_GRACE, j.slot));
            }
            self.calls.schedule(j.home);
        } else {
            self.bye_fork(now, j.home, j.slot);
        }
        self.bye_leg(now, j.away, j.away_leg);
        self.end_call(now, j.away, "joined to another call by attended transfer");
        // Nobody is on hold in the joined call: the transferee talks to the target.
        self.stop_music(j.home, Side::Caller);
        self.stop_music(j.home, Side::Callee);
        let Some(call) = self.calls.calls.get(&j.home) else {
            return;
        };
        let (Some(ports), Some(w)) = (call.media, call.winner) else {
            return;
        };
        let template = call.a.last_sdp.clone();
        let host = call.forks[w]
            .invite
            .headers
            .get(&HeaderName::Via)
            .and_then(|v| v.split_whitespace().nth(1))
            .and_then(|v| v.split(';').next())
            .unwrap_or_default()
            .to_string();
        let ip = self.side_ip(&host);
        let offer = anchor(&template, ip, ports.callee_port)
            .and_then(|(body, _)| as_resumed_offer(&body, j.previous_sdp.as_deref()));
        match offer {
            Some(body) => self.send_reoffer(now, j.home, Side::Callee, body),
            None => return self.hang_up_both(now, j.home, "no session to offer the target"),
        }
        self.resume_caller_if_held(now, j.home);
    }

    /// The last session description we sent the party opposite `leg` (best effort: for a
    /// callee, the offer that rang it).
    fn last_sdp_to(&self, id: u64, leg: LegRef) -> Option<Vec<u8>> {
        let call = self.calls.calls.get(&id)?;
        let body = match leg {
            LegRef::Caller => call.sent_to_callee(),
            LegRef::Fork(_) => call.a.last_sdp.clone(),
        };
        (!body.is_empty()).then_some(body)
    }

    /// NOTIFY with REFER progress in the dialog of `leg`.
    pub(super) fn notify_leg(
        &mut self,
        now: Instant,
        id: u64,
        leg: LegRef,
        line: &str,
        last: bool,
    ) {
        let built = match leg {
            LegRef::Fork(i) => self.next_fork_request(id, i, Method::Notify),
            LegRef::Caller => self.a_request(id, Method::Notify),
        };
        let Some((mut notify, peer)) = built else {
            return;
        };
        notify.headers.push(HeaderName::Event, "refer");
        notify.headers.push(
            HeaderName::SubscriptionState,
            if last {
                "terminated;reason=noresource".to_string()
            } else {
                "active;expires=60".to_string()
            },
        );
        notify
            .headers
            .push(HeaderName::ContentType, "message/sipfrag;version=2.0");
        notify.body = format!("{line}\r\n").into_bytes();
        if let Err(e) = self.transactions.send_request(now, notify, peer) {
            tracing::debug!(error = %e, "NOTIFY for REFER not sent");
        }
    }
}

/// A transfer's join, between moving the target and tidying up.
struct Joined {
    /// The call that goes on.
    home: u64,
    /// The transferor's fork in it.
    slot: usize,
    /// The call that ends.
    away: u64,
    /// The transferor's leg in it.
    away_leg: LegRef,
    /// What the moved party last had from us.
    previous_sdp: Option<Vec<u8>>,
}
