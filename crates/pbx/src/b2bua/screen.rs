//! Screened (assisted) transfers of a call in voicemail: a call flow's
//! `assisted_transfer` rings a number for the caller without putting the two through.
//! The target hears who is calling and chooses; only then are they connected.
//!
//! ```text
//!  screen_voicemail_call ─▶ rings like a transfer (the caller hears ringback)
//!     │ nothing rings, no answer, ring timeout ─▶ ScreenFailed   (the caller stays in
//!     │                                                            voicemail)
//!     ▼ the target answers: ACKed, anchored on the relay's callee side, not the winner
//!  ScreenAnswered ─▶ the shell plays to the callee side and hears its keys
//!     │ accept_screened ─▶ the target is the callee: the call leaves voicemail
//!     │ refuse_screened ─▶ BYE to the target; the caller stays in voicemail
//!     │ the target hangs up ─▶ ScreenFailed (487)
//!     │ the caller hangs up ─▶ BYE to the target, the call ends
//! ```
//!
//! The call keeps its voicemail channel and stays "in voicemail" (`voicemail` is set)
//! until the target is accepted: the flow's dialogue still owns the caller. While the
//! target listens, the caller hears ringback (music on the caller side), so it does not
//! hear the announcement or the target; the target, between prompts, may hear the caller.

use super::*;
use crate::events::ScreenAnswered;

/// How long a screened transfer's target may ring before the caller goes back to its
/// call flow: a caller listening to ringback in an attendant should not wait the three
/// minutes of an ordinary call.
pub const SCREEN_RING_TIMEOUT: Duration = Duration::from_secs(30);

impl Pbx {
    /// Rings `number` for call `call`, which is in voicemail (a call flow), without
    /// putting the caller through when it answers: [`PbxEvent::ScreenAnswered`] then
    /// tells the shell, which announces the caller to the target and calls
    /// [`Pbx::accept_screened`] or [`Pbx::refuse_screened`]. The number is routed with the
    /// caller's rights, like [`Pbx::route_voicemail_call`], but only phones ring: a number
    /// that leads to a mailbox, a flow or a hunt group's queue fails. The caller hears
    /// ringback while it rings, for at most [`SCREEN_RING_TIMEOUT`] (then 480).
    /// `Err(status)` when nothing can ring (the caller stays in
    /// voicemail); a failure after that comes as [`PbxEvent::ScreenFailed`]. `Err(491)`
    /// while another screened transfer of the call is under way.
    pub fn screen_voicemail_call(
        &mut self,
        now: Instant,
        call: u64,
        number: &str,
    ) -> Result<(), u16> {
        let Some(c) = self.calls.calls.get(&call) else {
            return Err(481);
        };
        if c.voicemail.is_none() {
            return Err(481);
        }
        if c.transfer.is_some() || c.screened.is_some() {
            return Err(491);
        }
        let caller = c.caller.clone();
        let step = self.route_for(now, &caller, number);
        tracing::info!(call, number, "screened transfer rings");
        let result = self.ring_for_answered_call_as(now, call, 0, true, true, step);
        if let Some(c) = self.calls.calls.get_mut(&call) {
            if c.transfer.is_some() {
                c.ring_deadline = now + SCREEN_RING_TIMEOUT;
            }
        }
        self.calls.schedule(call);
        result
    }

    /// The target of call `call`'s screened transfer takes the call: it becomes the
    /// callee, the caller's ringback stops and the two talk; the call is no longer in
    /// voicemail (its channel is free). False when no screened target has answered.
    pub fn accept_screened(&mut self, now: Instant, call: u64) -> bool {
        let Some(c) = self.calls.calls.get_mut(&call) else {
            return false;
        };
        let Some(i) = c.screened.take() else {
            return false;
        };
        c.voicemail = None;
        c.in_call_flow = false;
        c.remember_placing();
        c.callee.clone_from(&c.forks[i].extension);
        c.set_winner(i);
        let callee = c.callee.clone();
        self.calls.presence.answered(&[callee.as_str()]);
        self.stop_music(call, Side::Caller);
        self.review_recording(now, call);
        self.calls.schedule(call);
        tracing::info!(call, callee, "screened transfer accepted");
        true
    }

    /// The target of call `call`'s screened transfer does not take the call (or did not
    /// choose in time): it gets BYE, the caller's ringback stops, and the caller stays in
    /// voicemail. False when no screened target has answered.
    pub fn refuse_screened(&mut self, now: Instant, call: u64) -> bool {
        let Some(i) = self
            .calls
            .calls
            .get_mut(&call)
            .and_then(|c| c.screened.take())
        else {
            return false;
        };
        self.bye_fork(now, call, i);
        self.screened_fork_over(call, i);
        self.stop_music(call, Side::Caller);
        tracing::info!(call, "screened transfer refused");
        true
    }

    /// A transfer ringing now is a screened one.
    pub(super) fn is_screening(&self, id: u64) -> bool {
        self.calls
            .calls
            .get(&id)
            .and_then(|c| c.transfer.as_ref())
            .is_some_and(|t| t.screened)
    }

    /// The screened target (fork `i`) answered: confirmed, anchored, announced to the
    /// shell; the caller goes on hearing ringback.
    pub(super) fn screen_answered(&mut self, now: Instant, id: u64, i: usize, resp: Response) {
        self.ack_fork(id, i, None);
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let Some(t) = call.transfer.take() else {
            return;
        };
        call.forks[i].state = ForkState::Answered;
        call.screened = Some(i);
        let payload_type = hold::music_payload_type(&resp.body, false).unwrap_or(0);
        let dtmf_payload_type = telephone_event(&resp.body);
        // The relay's callee side now points at the target; anchoring stops the caller's
        // ringback, which goes on until the target chooses.
        let _ = self.anchor_for_caller(id, resp.body);
        self.play_ringback(id, Side::Caller);
        self.cancel_transfer_forks(now, id, t.first_stage, Some(i));
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        let Some(ports) = call.media else {
            // Without the relay nothing can be played to the target: it is refused.
            tracing::warn!(call = id, "screened transfer without media relay");
            self.refuse_screened(now, id);
            self.events.push_back(PbxEvent::ScreenFailed {
                call: id,
                status: 488,
            });
            return;
        };
        tracing::info!(call = id, target = %call.forks[i].extension, "screened target answered");
        self.events
            .push_back(PbxEvent::ScreenAnswered(ScreenAnswered {
                call: id,
                relay_session: ports.session,
                payload_type,
                dtmf_payload_type,
            }));
        self.calls.schedule(id);
    }

    /// Nothing rang, nobody answered, or the ringing timed out: the caller stays in
    /// voicemail and the shell hears why.
    pub(super) fn screen_failed(&mut self, now: Instant, id: u64, status: u16) {
        let Some(t) = self
            .calls
            .calls
            .get_mut(&id)
            .and_then(|c| c.transfer.take())
        else {
            return;
        };
        self.cancel_transfer_forks(now, id, t.first_stage, None);
        self.stop_music(id, Side::Caller);
        tracing::info!(call = id, status, "screened transfer failed");
        self.events
            .push_back(PbxEvent::ScreenFailed { call: id, status });
        self.calls.schedule(id);
    }

    /// BYE from fork `i`: if it is a screened target that has not chosen, the screening
    /// is over and the caller stays in voicemail. False when it is not.
    pub(super) fn screened_hung_up(&mut self, id: u64, i: usize) -> bool {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return false;
        };
        if call.screened != Some(i) {
            return false;
        }
        call.screened = None;
        self.screened_fork_over(id, i);
        self.stop_music(id, Side::Caller);
        tracing::info!(call = id, "screened target hung up");
        self.events.push_back(PbxEvent::ScreenFailed {
            call: id,
            status: 487,
        });
        self.calls.schedule(id);
        true
    }

    /// The call ends while a screened target listens: it gets BYE too.
    pub(super) fn release_screened(&mut self, now: Instant, id: u64) {
        if let Some(i) = self
            .calls
            .calls
            .get_mut(&id)
            .and_then(|c| c.screened.take())
        {
            self.bye_fork(now, id, i);
        }
    }

    /// A screened target's dialog is over: its fork counts as failed.
    fn screened_fork_over(&mut self, id: u64, i: usize) {
        if let Some(fork) = self
            .calls
            .calls
            .get_mut(&id)
            .and_then(|c| c.forks.get_mut(i))
        {
            fork.state = ForkState::Failed(487);
        }
    }
}

/// The payload type of RFC 4733 telephone events in a session description's first
/// audio stream, if it has them.
fn telephone_event(body: &[u8]) -> Option<u8> {
    let sd = sdp::parse(body).ok()?;
    let m = sd
        .media
        .iter()
        .find(|m| m.media == "audio" && m.port != 0)?;
    m.codecs().into_iter().find_map(|c| match c {
        sdp::Codec::TelephoneEvent { pt } => Some(pt),
        _ => None,
    })
}
