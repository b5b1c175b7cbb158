//! Dialogs that change hands between calls: finding the dialog a Replaces header names
//! (RFC 3891), and turning a caller's dialog — where we are the UAS — into the same shape
//! as a callee's, so that a party can move from one call into another's callee slot.
//!
//! A moved dialog keeps its Call-ID, tags and CSeq numbers: to the phone nothing changes
//! but the media address, which a re-INVITE of ours then moves (see `reoffer`).

use super::*;
use sip::header::Replaces;

/// One side of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LegRef {
    /// The caller's dialog (the A leg).
    Caller,
    /// A fork of the B leg.
    Fork(usize),
}

/// The tags of a fork's dialog: (ours, the phone's).
fn fork_tags(fork: &Fork) -> (Option<String>, Option<String>) {
    let ours = tag_of(fork.invite.headers.get(&HeaderName::From));
    let theirs = fork
        .remote_tag
        .clone()
        .or_else(|| tag_of(fork.invite.headers.get(&HeaderName::To)));
    (ours, theirs)
}

impl Pbx {
    /// The call and leg of the dialog `r` names. The to-tag is ours and the from-tag the
    /// phone's (RFC 3891 §3); phones that swap them are common enough to accept too —
    /// tags are random, so the swapped reading cannot match another dialog by chance.
    pub(super) fn find_dialog(&self, r: &Replaces) -> Option<(u64, LegRef)> {
        for (ours, theirs) in [(&r.to_tag, &r.from_tag), (&r.from_tag, &r.to_tag)] {
            if let Some(&id) = self.calls.by_a.get(&(r.call_id.clone(), theirs.clone())) {
                if self
                    .calls
                    .calls
                    .get(&id)
                    .is_some_and(|c| &c.a.local_tag == ours)
                {
                    return Some((id, LegRef::Caller));
                }
            }
            if let Some(&(id, i)) = self.calls.by_fork_call_id.get(&r.call_id) {
                let fork = self.calls.calls.get(&id).and_then(|c| c.forks.get(i));
                if fork.is_some_and(|f| fork_tags(f) == (Some(ours.clone()), Some(theirs.clone())))
                {
                    return Some((id, LegRef::Fork(i)));
                }
            }
        }
        None
    }

    /// The extension on a leg of a call.
    pub(super) fn extension_on(&self, id: u64, leg: LegRef) -> Option<String> {
        let call = self.calls.calls.get(&id)?;
        match leg {
            LegRef::Caller => Some(call.caller.clone()),
            LegRef::Fork(i) => call.forks.get(i).map(|f| f.extension.clone()),
        }
    }

    /// Hangs up one leg of a call from our side (BYE), leaving the rest of the call alone.
    pub(super) fn bye_leg(&mut self, now: Instant, id: u64, leg: LegRef) {
        match leg {
            LegRef::Fork(i) => self.bye_fork(now, id, i),
            LegRef::Caller => {
                if let Some((bye, peer)) = self.a_request(id, Method::Bye) {
                    if let Err(e) = self.transactions.send_request(now, bye, peer) {
                        tracing::debug!(error = %e, "BYE to caller not sent");
                    }
                }
            }
        }
    }

    /// The answered party opposite `leg` in call `id`, as a fork that can be placed in
    /// another call: the winning fork itself, or the caller's dialog seen as one.
    pub(super) fn opposite_as_fork(&self, id: u64, leg: LegRef) -> Option<Fork> {
        let call = self.calls.calls.get(&id)?;
        match leg {
            LegRef::Caller => call.winner.and_then(|w| call.forks.get(w)).cloned(),
            LegRef::Fork(_) => {
                let a = &call.a;
                let local = a.invite.headers.get(&HeaderName::To)?;
                let remote = a.invite.headers.get(&HeaderName::From)?;
                Some(uas_dialog_as_fork(UasDialog {
                    peer: a.peer,
                    call_id: a.call_id.clone(),
                    local: format!("{local};tag={}", a.local_tag),
                    remote: remote.to_string(),
                    remote_target: a.remote_target.clone(),
                    local_host: a.local_host.clone(),
                    cseq: a.cseq,
                    extension: call.caller.clone(),
                    stage: call.route.stage,
                }))
            }
        }
    }
}

/// A dialog in which the phone sent the INVITE and we answered.
pub(super) struct UasDialog {
    pub(super) peer: Peer,
    pub(super) call_id: String,
    /// Our From value in requests we send: the phone's To, with our tag.
    pub(super) local: String,
    /// The phone's From (with its tag).
    pub(super) remote: String,
    /// The phone's Contact.
    pub(super) remote_target: String,
    /// `host[:port]` by which the phone reaches us.
    pub(super) local_host: String,
    /// The last CSeq number we used in the dialog.
    pub(super) cseq: u32,
    pub(super) extension: String,
    pub(super) stage: u32,
}

/// A UAS dialog kept as a fork: its "INVITE" is the dialog seen from our side (From: us,
/// To: the phone), so requests we send in it — BYE, re-INVITE, NOTIFY — go through the
/// same code as any answered callee's.
pub(super) fn uas_dialog_as_fork(d: UasDialog) -> Fork {
    let uri = d.remote_target.parse::<Uri>().ok();
    let mut dialog = Request::new(
        Method::Invite,
        uri.unwrap_or_else(|| Uri::Other {
            scheme: "invalid".into(),
            rest: String::new(),
        }),
    );
    dialog.headers.push(
        HeaderName::Via,
        format!(
            "SIP/2.0/{} {};branch={}",
            via_transport(d.peer),
            d.local_host,
            new_branch()
        ),
    );
    dialog.headers.push(HeaderName::From, d.local);
    dialog.headers.push(HeaderName::To, d.remote);
    Fork {
        tx: None,
        invite: dialog,
        peer: d.peer,
        call_id: d.call_id,
        remote_tag: None, // the To above carries the phone's tag
        remote_target: Some(d.remote_target),
        state: ForkState::Answered,
        cancel_wanted: false,
        ack: None,
        cseq: d.cseq,
        last_rseq: None,
        stage: d.stage,
        extension: d.extension,
        party: None,
    }
}
