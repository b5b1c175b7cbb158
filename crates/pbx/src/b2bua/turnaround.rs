//! Turning a call around: the answered callee takes the caller's side and the caller
//! becomes the callee, so that what the callee can do — blind transfer, park, attended
//! transfer (see `transfer`, `park`, `attended`) — the caller can do too, through the
//! same code.
//!
//! ```text
//!   before:  A (caller, our UAS dialog) ─── PBX ─── B (winning fork, our UAC dialog)
//!   after:   B (caller side)            ─── PBX ─── A (winning fork: `uas_dialog_as_fork`)
//! ```
//!
//! Nothing goes on the wire: each phone keeps its dialog (Call-ID, tags, CSeq numbers)
//! and its media port on the relay; only our bookkeeping and the relay's idea of which
//! of its legs is the caller's change sides. A call is turned only when it is quiet —
//! answered, acknowledged, no request of ours or theirs in flight, no transfer, park,
//! queue or page — so no state tied to a side is half way through a change.
//!
//! The call record keeps the original direction (`Call::placed`).

use super::handover::{uas_dialog_as_fork, UasDialog};
use super::*;

/// Who called whom, and the caller's Call-ID: a turned call's record.
#[derive(Debug)]
pub(super) struct Placed {
    pub(super) caller: String,
    pub(super) callee: String,
    pub(super) call_id: String,
}

/// Why a call cannot be turned around now: the status and words for the phone.
pub(super) type Refusal = (u16, &'static str);

impl Pbx {
    /// Turns call `id` around (see the module doc). Returns the fork that is now the
    /// former caller's dialog: the answered callee of the turned call.
    pub(super) fn turn_around(&mut self, id: u64) -> Result<usize, Refusal> {
        self.check_quiet(id)?;
        let call = self
            .calls
            .calls
            .get_mut(&id)
            .ok_or((481, "the call ended"))?;
        let w = call.winner.ok_or((491, "the call is not answered"))?;
        let winner = call.forks[w].clone();
        let a_local = call.a.invite.headers.get(&HeaderName::To).unwrap_or("");
        let a_remote = call.a.invite.headers.get(&HeaderName::From).unwrap_or("");
        let old_a = uas_dialog_as_fork(UasDialog {
            peer: call.a.peer,
            call_id: call.a.call_id.clone(),
            local: format!("{a_local};tag={}", call.a.local_tag),
            remote: a_remote.to_string(),
            remote_target: call.a.remote_target.clone(),
            local_host: call.a.local_host.clone(),
            cseq: call.a.cseq,
            extension: call.caller.clone(),
            stage: call.route.stage,
        });
        // What the new caller side offers a transfer's target: its own session, two-way.
        call.sdp_from.swap(0, 1);
        let offer = hold::with_direction(call.sdp_from[0].clone(), sdp::Direction::SendRecv);
        let new_a = aleg_from_fork(&winner, call.a.tx, call.sent_to_callee(), offer)
            .ok_or((500, "the callee's dialog is unusable"))?;
        let old_key = (call.a.call_id.clone(), call.a.remote_tag.clone());
        let new_key = (new_a.call_id.clone(), new_a.remote_tag.clone());
        call.remember_placing();
        let a_sdp = std::mem::take(&mut call.a.last_sdp);
        let n = call.forks.len();
        call.forks.push(old_a);
        call.set_winner(n);
        call.a = new_a;
        call.b_last_sdp = a_sdp;
        std::mem::swap(&mut call.caller, &mut call.callee);
        call.hold.swap();
        // The session timer was agreed with the caller's dialog, which is now a fork:
        // the phone refreshes on its own schedule, relayed like any re-INVITE.
        call.timer = None;
        if let Some(ports) = call.media.as_mut() {
            std::mem::swap(&mut ports.caller_port, &mut ports.callee_port);
        }
        let media = call.media;
        let (a_tx, b_tx) = (call.a.tx, winner.tx);
        self.calls.by_a.remove(&old_key);
        self.calls.by_a.insert(new_key, id);
        self.calls.by_server_tx.remove(&a_tx);
        self.calls.by_fork_call_id.remove(&winner.call_id);
        self.calls.by_fork_call_id.insert(old_key.0, (id, n));
        if let Some(tx) = b_tx {
            self.calls.by_client_tx.remove(&tx);
        }
        if let (Some(ports), Some(relay)) = (media, self.media_relay.as_mut()) {
            relay.swap_sides(ports.session);
        }
        Ok(n)
    }

    /// Who hung up, in the words of the call record: as the call was placed, so the
    /// caller side of a turned call is its callee.
    pub(super) fn hung_up_cause(&self, id: u64, side: Side) -> &'static str {
        let turned = self
            .calls
            .calls
            .get(&id)
            .is_some_and(|c| c.placed.as_ref().is_some_and(|p| p.caller != c.caller));
        match (side, turned) {
            (Side::Caller, false) | (Side::Callee, true) => "caller hung up",
            (Side::Callee, false) | (Side::Caller, true) => "callee hung up",
        }
    }

    /// The call is answered and nothing is under way in it that belongs to one side.
    fn check_quiet(&self, id: u64) -> Result<(), Refusal> {
        let call = self.calls.calls.get(&id).ok_or((481, "the call ended"))?;
        let busy = call.winner.is_none()
            || !call.a.final_sent
            || call.a.ok.is_some()
            || call.b_ok.is_some()
            || call.ack_pending
            || call.deferred_ack.is_some()
            || call.transfer.is_some()
            || call.release.is_some()
            || call.parked.is_some()
            || call.queued.is_some()
            || call.page.is_some()
            || call.forks.iter().any(|f| f.party.is_some())
            || self.calls.relayed.values().any(|r| r.call == id)
            || self.calls.reoffers.values().any(|r| r.call == id)
            || self.calls.refreshes.values().any(|r| r.0 == id);
        if busy {
            return Err((491, "the call is changing: try again"));
        }
        Ok(())
    }
}

/// The callee's dialog (a fork that answered) seen from the caller's side: the "INVITE"
/// is the dialog as the phone would have sent it (From: the phone, To: us), so the
/// caller-side code builds its requests and matches the phone's as for any caller.
fn aleg_from_fork(fork: &Fork, tx: ServerTxId, last_sdp: Vec<u8>, offer: Vec<u8>) -> Option<ALeg> {
    let ours = NameAddr::parse(fork.invite.headers.get(&HeaderName::From)?).ok()?;
    let local_tag = ours.tag()?.to_string();
    let mut local = ours;
    local.params.remove("tag");
    let theirs = NameAddr::parse(fork.invite.headers.get(&HeaderName::To)?).ok()?;
    let remote_tag = fork
        .remote_tag
        .clone()
        .or(theirs.tag().map(str::to_string))?;
    let mut remote = theirs;
    remote.params.set("tag", Some(remote_tag.clone()));
    let remote_target = fork
        .remote_target
        .clone()
        .unwrap_or_else(|| fork.invite.uri.to_string());
    let local_host = fork
        .invite
        .headers
        .get(&HeaderName::Via)
        .and_then(|v| v.split_whitespace().nth(1))
        .and_then(|v| v.split(';').next())?
        .to_string();
    let mut invite = Request::new(Method::Invite, fork.invite.uri.clone());
    invite.headers.push(HeaderName::From, remote.to_string());
    invite.headers.push(HeaderName::To, local.to_string());
    invite
        .headers
        .push(HeaderName::CallId, fork.call_id.clone());
    if !offer.is_empty() {
        invite
            .headers
            .push(HeaderName::ContentType, "application/sdp");
    }
    invite.body = offer;
    Some(ALeg {
        peer: fork.peer,
        tx,
        invite,
        call_id: fork.call_id.clone(),
        remote_tag,
        local_tag,
        local_host,
        remote_target,
        final_sent: true,
        cseq: fork.cseq,
        ok: None,
        reliable: false,
        prack: reliable::PrackState::default(),
        last_sdp,
    })
}
