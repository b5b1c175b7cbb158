//! Calls between extensions: a back-to-back user agent (RFC 3261 §6 "B2BUA"). The caller's
//! INVITE ends here (the A leg); we send our own INVITE to every registered contact of the
//! callee (the forks of the B leg), relay provisional and final responses, and tie the two
//! dialogs together until one side hangs up.
//!
//! ```text
//!   A ──INVITE──▶ PBX ──INVITE──▶ B (each contact)      fork states: Calling → Early →
//!   A ◀──100───── PBX ◀──180───── B                                  Answered | Failed
//!   A ◀──180───── PBX ◀──200───── B (first 2xx wins; others CANCELled, a late 2xx is
//!   A ◀──200───── PBX ──ACK─────▶ B  ACKed and BYEd: RFC 5407 §3.1.2)
//!   A ──ACK─────▶ PBX                  (our 2xx to A is retransmitted until this ACK)
//!   A ──BYE─────▶ PBX ──BYE─────▶ B
//! ```
//!
//! Media: unless both extensions allow direct media, every session description is
//! rewritten to point at a relay session of the media engine (see `crate::media`).
//!
//! Files: `setup` (the caller's INVITE, forking), `barring` (emergency numbers, then short
//! codes and their right), `forks` (the B leg and its responses), `dialogs` (the A leg,
//! in-dialog requests), `midcall` (re-INVITE, UPDATE, INFO relayed).
//! Files: `setup` (the caller's INVITE, forking), `forks` (the B leg and its responses),
//! `dialogs` (the A leg, in-dialog requests), `midcall` (re-INVITE, UPDATE, INFO relayed),
//! `hold` (hold seen in relayed offers, music on hold to the held party).

mod account;
mod attended;
mod barring;
mod dialogs;
mod feature_codes;
mod forks;
mod handover;
mod hold;
mod hotdesk;
mod hunt;
mod intrusion;
mod midcall;
mod page;
mod park;
mod parties;
mod pickup;
mod queue;
mod recording;
mod reliable;
mod reoffer;
mod replaces;
mod resend;
pub(crate) mod screen;
mod session_timer;
mod setup;
mod transfer;
mod turnaround;
mod voicemail;

use resend::Resend;

use crate::core::Pbx;
use crate::events::{CallRecord, PbxEvent};
use crate::media::{anchor, host_ip, RelayPorts, Side};
use crate::registrar::host_port;
use crate::routing;
use crate::Peer;
use sip::dialog::{new_branch, new_call_id, new_tag};
use sip::header::{CSeq, HeaderName, NameAddr};
use sip::transaction::{ClientTxId, ServerTxId};
use sip::{Method, Request, Response, StatusCode, Uri};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

/// How long the callee's phones may ring before the caller gets 480.
pub(crate) const RING_TIMEOUT: Duration = Duration::from_secs(180);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ForkState {
    Calling,
    Early,
    Answered,
    Failed(u16),
}

/// One INVITE we sent to one contact of the callee.
#[derive(Debug, Clone)]
struct Fork {
    /// Our INVITE's transaction (none for a phone that called in to pick the call up).
    tx: Option<ClientTxId>,
    invite: Request,
    peer: Peer,
    call_id: String,
    remote_tag: Option<String>,
    remote_target: Option<String>,
    state: ForkState,
    cancel_wanted: bool,
    /// The ACK sent for its 2xx, re-sent if the 2xx is retransmitted (our ACK was lost).
    ack: Option<Request>,
    cseq: u32,
    /// The RSeq of the last reliable provisional response PRACKed (RFC 3262).
    last_rseq: Option<u32>,
    /// The route stage that rang it.
    stage: u32,
    /// The extension whose contact it rings.
    extension: String,
    /// Its own media in the call's relay session, when it is a party beside the two
    /// sides: a paged phone, a supervisor listening in or intruding.
    party: Option<u32>,
}

/// The caller's side: the INVITE we answer and the dialog we share with it.
#[derive(Debug)]
struct ALeg {
    peer: Peer,
    tx: ServerTxId,
    invite: Request,
    call_id: String,
    remote_tag: String,
    local_tag: String,
    /// `host[:port]` by which the caller reached us: our Contact towards it.
    local_host: String,
    remote_target: String,
    final_sent: bool,
    cseq: u32,
    /// Our 2xx (to the INVITE or a re-INVITE), retransmitted until the caller's ACK.
    ok: Option<Resend>,
    /// The caller requires reliable provisional responses (RFC 3262).
    reliable: bool,
    /// 100rel state: the unacknowledged provisional, the ones waiting behind it, a 2xx
    /// held until the PRACK.
    prack: reliable::PrackState,
    /// The last session description we sent the caller (refreshes re-send it).
    last_sdp: Vec<u8>,
}

/// A call of two legs.
#[derive(Debug)]
struct Call {
    caller: String,
    callee: String,
    a: ALeg,
    forks: Vec<Fork>,
    winner: Option<usize>,
    /// The relay session when media is anchored.
    media: Option<RelayPorts>,
    /// Late offer: the winner's 2xx carried the offer; its ACK waits for the caller's
    /// ACK, which carries the answer (RFC 3264 §2).
    ack_pending: bool,
    /// Our 2xx to a re-INVITE from the callee, retransmitted until its ACK.
    b_ok: Option<Resend>,
    /// An ACK that must carry the answer the other side will put in its own ACK (a
    /// re-INVITE without SDP: offer in the 2xx, answer in the ACK).
    deferred_ack: Option<midcall::DeferredAck>,
    /// Session timer on the caller's dialog (RFC 4028): agreed at setup, running once
    /// answered.
    timer: Option<session_timer::SessionTimer>,
    /// Where the call is on its route (hunt group members, forwards, overflow).
    route: hunt::RouteState,
    /// A blind transfer by the callee under way.
    transfer: Option<transfer::Transfer>,
    /// A transferor's fork left in the call after an attended transfer, and when we hang
    /// it up ourselves if it has not hung up by then.
    release: Option<(Instant, usize)>,
    /// The account code the caller charged the call to.
    account_code: Option<String>,
    /// Waiting in a hunt group's queue (answered by us, no callee).
    queued: Option<queue::Queued>,
    /// Rung from a queue: the queue and place to go back to if nobody answers.
    requeue: Option<(String, Instant)>,
    /// Waiting in a park slot (no callee: `winner` is none).
    parked: Option<park::Parked>,
    /// A page: the caller talks to every phone that answered (no winner).
    page: Option<page::Page>,
    /// In voicemail (answered by us, no winner): the mailbox, or the call flow's name.
    voicemail: Option<String>,
    /// The call is with a call flow (an auto attendant), not a mailbox.
    in_call_flow: bool,
    /// The fork of a screened transfer's target that answered and has not chosen yet
    /// (not the winner: the caller is still in voicemail).
    screened: Option<usize>,
    /// Call recording: the recording under way, keys pressed.
    recording: recording::RecordingState,
    /// Our 2xx to a supervisor's INVITE (by its fork), retransmitted until its ACK.
    party_ok: Vec<(usize, Resend)>,
    /// Who hears music on hold.
    hold: hold::HoldState,
    /// The last session description we sent the winning callee, when it was not the
    /// INVITE that rang it (a relayed re-INVITE, one of our own).
    b_last_sdp: Vec<u8>,
    /// The last session description each side sent us (caller, callee), as it came:
    /// what a turned-around call offers on the caller's behalf.
    sdp_from: [Vec<u8>; 2],
    /// How the call was placed, once turned around (see `turnaround`) or transferred:
    /// the call record says who called whom, in the caller's dialog; `callee` is whoever
    /// talks to the caller now.
    placed: Option<turnaround::Placed>,
    cancelled: bool,
    started: Instant,
    answered: Option<Instant>,
    ring_deadline: Instant,
}

impl Call {
    /// Phones are ringing for this call: before the answer, or for a transfer's target.
    pub(super) fn ringing(&self) -> bool {
        (self.winner.is_none() && !self.a.final_sent) || self.transfer.is_some()
    }

    /// Keeps the session description `side` sent us (see `sdp_from`).
    pub(super) fn heard_sdp(&mut self, side: Side, body: &[u8]) {
        if !body.is_empty() {
            let slot = &mut self.sdp_from[usize::from(side == Side::Callee)];
            slot.clear();
            slot.extend_from_slice(body);
        }
    }

    /// Keeps who called whom before the parties change (a transfer, a turn-around),
    /// for the call record; the first change keeps it.
    pub(super) fn remember_placing(&mut self) {
        if self.placed.is_none() {
            self.placed = Some(turnaround::Placed {
                caller: self.caller.clone(),
                callee: self.callee.clone(),
                call_id: self.a.call_id.clone(),
            });
        }
    }

    /// A new winning callee; returns the one before. What we sent the old one says
    /// nothing of the new one's session.
    pub(super) fn set_winner(&mut self, i: usize) -> Option<usize> {
        self.b_last_sdp.clear();
        self.winner.replace(i)
    }

    /// The last session description we sent the winning callee (best effort: the offer
    /// that rang it, unless one came after).
    pub(super) fn sent_to_callee(&self) -> Vec<u8> {
        match self.winner.and_then(|w| self.forks.get(w)) {
            Some(_) if !self.b_last_sdp.is_empty() => self.b_last_sdp.clone(),
            Some(f) => f.invite.body.clone(),
            None => Vec::new(),
        }
    }

    /// The next instant a timer of this call is due: the ring timeout while ringing,
    /// retransmissions of our 2xx and reliable provisionals, the session timer.
    pub(super) fn deadline(&self) -> Option<Instant> {
        let ringing = self.ringing();
        [
            ringing.then_some(self.ring_deadline),
            self.route.stage_deadline.filter(|_| ringing),
            self.route
                .overflow_at
                .as_ref()
                .map(|o| o.0)
                .filter(|_| ringing),
            self.a.ok.as_ref().map(Resend::deadline),
            self.b_ok.as_ref().map(Resend::deadline),
            self.a.prack.deadline(),
            self.timer.as_ref().and_then(|t| t.deadline()),
            self.release.map(|r| r.0),
            self.parked.as_ref().map(|p| p.until),
            self.page.as_ref().and_then(|p| p.answer_by),
            self.party_ok.iter().map(|(_, r)| r.deadline()).min(),
            self.queued.as_ref().map(|q| q.next_check),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// Every live call and the indexes that find one from a message.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    next_id: u64,
    calls: HashMap<u64, Call>,
    /// (Call-ID, caller's From tag) of the A leg.
    by_a: HashMap<(String, String), u64>,
    by_server_tx: HashMap<ServerTxId, u64>,
    /// Call-ID of a fork (each fork has its own).
    by_fork_call_id: HashMap<String, (u64, usize)>,
    by_client_tx: HashMap<ClientTxId, (u64, usize)>,
    /// Mid-call requests relayed to the other side, by our client transaction.
    relayed: HashMap<ClientTxId, midcall::Relayed>,
    /// Our session refreshes to callers (RFC 4028), with the request sent.
    refreshes: HashMap<ClientTxId, (u64, Request)>,
    /// Our own re-INVITEs (a transfer moving media), by our client transaction.
    reoffers: HashMap<ClientTxId, reoffer::ReOffer>,
    deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
    /// The one live entry of each call in `deadlines`; any other is stale.
    scheduled: HashMap<u64, Instant>,
    /// Who is in a call, for hunt groups and call waiting.
    presence: hunt::Presence,
    /// Account codes entered on their own, waiting for the caller's next call (until).
    accounts: HashMap<String, (String, Instant)>,
    /// The account code of the INVITE being handled now, for its call or its refusal.
    dialling_account: Option<String>,
    /// Short-code confirmations waiting for their ACK, by (Call-ID, From tag).
    clearing: HashMap<(String, String), feature_codes::Clearing>,
    /// Wrong hot-desk login codes, for the lock-out.
    login_guard: hotdesk::LoginGuard,
}

impl Calls {
    /// Number of live calls.
    pub(crate) fn len(&self) -> usize {
        self.calls.len()
    }

    /// The earliest instant a call timer is due.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.peek().map(|r| r.0 .0)
    }

    /// Files the call's next deadline, replacing the one filed before.
    pub(super) fn schedule(&mut self, id: u64) {
        match self.calls.get(&id).and_then(Call::deadline) {
            Some(at) if self.scheduled.get(&id) != Some(&at) => {
                self.scheduled.insert(id, at);
                self.deadlines.push(Reverse((at, id)));
            }
            Some(_) => {}
            None => {
                self.scheduled.remove(&id);
            }
        }
    }

    /// Active calls for `strowger calls`: (caller, callee, answered).
    pub(crate) fn views(&self) -> Vec<(String, String, bool)> {
        let mut v: Vec<_> = self
            .calls
            .values()
            .map(|c| match (&c.parked, &c.voicemail) {
                (Some(p), _) => (c.caller.clone(), format!("park {}", p.slot), true),
                (None, Some(flow)) if c.in_call_flow => {
                    (c.caller.clone(), format!("attendant {flow}"), true)
                }
                (None, Some(mailbox)) => (c.caller.clone(), format!("voicemail {mailbox}"), true),
                (None, None) => (
                    c.caller.clone(),
                    c.callee.clone(),
                    c.winner.is_some() || c.page.is_some(),
                ),
            })
            .collect();
        v.sort();
        v
    }
}

fn tag_of(value: Option<&str>) -> Option<String> {
    NameAddr::parse(value?).ok()?.tag().map(str::to_string)
}

fn cseq_of(msg_headers: &sip::Headers) -> Option<CSeq> {
    CSeq::parse(msg_headers.get(&HeaderName::CSeq)?).ok()
}

fn contact_uri(headers: &sip::Headers) -> Option<String> {
    let value = headers.get(&HeaderName::Contact)?;
    let first = value.split(',').next()?;
    NameAddr::parse(first).ok().map(|na| na.uri.to_string())
}

fn transport_param(peer: Peer) -> &'static str {
    if peer.transport.is_reliable() {
        ";transport=tcp"
    } else {
        ""
    }
}

fn via_transport(peer: Peer) -> &'static str {
    if peer.transport.is_reliable() {
        "TCP"
    } else {
        "UDP"
    }
}

/// Copies the body and its Content-Type from one message to another.
fn copy_body(from_headers: &sip::Headers, body: &[u8], to: &mut sip::Headers) -> Vec<u8> {
    if let Some(ct) = from_headers.get(&HeaderName::ContentType) {
        if !body.is_empty() {
            to.push(HeaderName::ContentType, ct.to_string());
        }
    }
    body.to_vec()
}

/// The final status for the caller when every fork failed: a 6xx wins (a global refusal),
/// then busy, then the lowest code (RFC 3261 §16.7 step 6 in spirit).
fn best_failure(codes: impl Iterator<Item = u16>) -> u16 {
    let codes: Vec<u16> = codes.filter(|c| *c != 487).collect();
    if let Some(c) = codes.iter().find(|c| **c >= 600) {
        return *c;
    }
    if codes.contains(&486) {
        return 486;
    }
    codes.into_iter().min().unwrap_or(480)
}

impl Pbx {
    /// Call timers: the ring timeout, retransmissions awaiting ACK or PRACK, session timers.
    pub(crate) fn handle_call_timers(&mut self, now: Instant) {
        if !self.calls.clearing.is_empty() {
            self.sweep_clearing(now);
        }
        while let Some(Reverse((at, id))) = self.calls.deadlines.peek().copied() {
            if at > now {
                break;
            }
            self.calls.deadlines.pop();
            if self.calls.scheduled.get(&id) != Some(&at) {
                continue; // superseded by a later schedule
            }
            self.calls.scheduled.remove(&id);
            let Some(call) = self.calls.calls.get(&id) else {
                continue;
            };
            if call.deadline() == Some(at) {
                self.run_call_timers(now, id);
            }
            // Due or moved without being filed again: file what is due next.
            self.calls.schedule(id);
        }
    }

    fn run_call_timers(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        if call.ringing() {
            if now >= call.ring_deadline {
                self.give_up_ringing(now, id, StatusCode(480), "No Answer");
            } else if let Some((_, next)) = call.route.overflow_at.take_if(|(at, _)| now >= *at) {
                self.divert(now, id, &next);
            } else if call.route.stage_deadline.is_some_and(|d| now >= d) {
                call.route.stage_deadline = None;
                // Nobody answered in time: this stage's phones get CANCEL, the next rings.
                self.cancel_stage(now, id);
                if !self.next_stage(now, id, false) {
                    self.give_up_ringing(now, id, StatusCode(480), "No Answer");
                }
            }
        }
        self.prack_timers(now, id);
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        if let Some((_, i)) = call.release.take_if(|(at, _)| now >= *at) {
            self.bye_fork(now, id, i);
        }
        if self
            .calls
            .calls
            .get(&id)
            .and_then(|c| c.parked.as_ref())
            .is_some_and(|p| now >= p.until)
        {
            self.park_timed_out(now, id);
        }
        self.queue_due(now, id);
        self.page_answer_time_up(now, id);
        self.party_ok_timers(now, id);
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        if call.a.ok.as_ref().is_some_and(|r| r.expired(now)) {
            // RFC 3261 §13.3.1.4: no ACK for our 2xx: the call is dead; end both sides.
            return self.hang_up_both(now, id, "no ACK from caller");
        }
        if call.b_ok.as_ref().is_some_and(|r| r.expired(now)) {
            return self.hang_up_both(now, id, "no ACK from callee");
        }
        let due: Vec<_> = [call.a.ok.as_mut(), call.b_ok.as_mut()]
            .into_iter()
            .flatten()
            .filter_map(|r| r.due(now))
            .collect();
        for (tx, resp) in due {
            self.respond_now(now, tx, resp);
        }
        self.session_timer_due(now, id);
    }

    /// Ends an answered call from our side: BYE to both parties.
    pub(super) fn hang_up_both(&mut self, now: Instant, id: u64, cause: &str) {
        if let Some(i) = self.calls.calls.get(&id).and_then(|c| c.winner) {
            self.bye_fork(now, id, i);
        }
        if let Some((bye, peer)) = self.a_request(id, Method::Bye) {
            if let Err(e) = self.transactions.send_request(now, bye, peer) {
                tracing::debug!(error = %e, "BYE to caller not sent");
            }
        }
        self.end_call(now, id, cause);
    }

    /// Forgets a call and reports its record.
    pub(super) fn end_call(&mut self, now: Instant, id: u64, cause: &str) {
        self.release_screened(now, id);
        self.stop_recording(id);
        self.leave_queue(id);
        self.release_parties(now, id);
        let Some(call) = self.calls.calls.remove(&id) else {
            return;
        };
        self.calls.scheduled.remove(&id);
        // Only entries still pointing here: a dialog moved to another call keeps its own.
        let a_key = (call.a.call_id.clone(), call.a.remote_tag.clone());
        if self.calls.by_a.get(&a_key) == Some(&id) {
            self.calls.by_a.remove(&a_key);
        }
        self.calls.by_server_tx.remove(&call.a.tx);
        for f in &call.forks {
            if self.calls.by_fork_call_id.get(&f.call_id).map(|e| e.0) == Some(id) {
                self.calls.by_fork_call_id.remove(&f.call_id);
            }
            if let Some(tx) = f.tx {
                if self.calls.by_client_tx.get(&tx).map(|e| e.0) == Some(id) {
                    self.calls.by_client_tx.remove(&tx);
                }
            }
        }
        self.calls.relayed.retain(|_, r| r.call != id);
        self.calls.refreshes.retain(|_, r| r.0 != id);
        self.calls.reoffers.retain(|_, r| r.call != id);
        if call.answered.is_some() {
            match call.winner.and_then(|i| call.forks.get(i)) {
                Some(f) => self
                    .calls
                    .presence
                    .hung_up(now, &[call.caller.as_str(), f.extension.as_str()]),
                // Parked, or ringing back after a transfer: only the caller was in it.
                None => self.calls.presence.hung_up(now, &[call.caller.as_str()]),
            }
        }
        let status = if call.answered.is_some() {
            200
        } else if call.cancelled {
            487
        } else if let Some((status, _)) = &call.route.failure {
            *status
        } else {
            best_failure(call.forks.iter().filter_map(|f| match f.state {
                ForkState::Failed(c) => Some(c),
                _ => None,
            }))
        };
        self.stop_all_music(&call);
        let media = match (call.media, self.media_relay.as_mut()) {
            (Some(ports), Some(relay)) => relay.close(ports.session),
            _ => String::new(),
        };
        // A turned call is recorded the way it was placed.
        let placed = call.placed.unwrap_or(turnaround::Placed {
            caller: call.caller,
            callee: call.callee,
            call_id: call.a.call_id,
        });
        let record = CallRecord {
            media,
            call_id: placed.call_id,
            caller: placed.caller,
            callee: placed.callee,
            started_ms: self.unix_ms(call.started),
            answered_ms: call.answered.map(|t| self.unix_ms(t)),
            ended_ms: self.unix_ms(now),
            status,
            cause: cause.to_string(),
            account_code: call.account_code,
        };
        self.events.push_back(PbxEvent::CallEnded(record));
    }
}
