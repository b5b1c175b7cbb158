//! Parties: phones in a call beside its two sides, each with media of its own in the
//! call's relay session — paged phones (`page`) and supervisors listening in or intruding
//! (`intrusion`). A party is a fork whose `party` is set; it is never the winner, so the
//! two sides' dialogs carry on as before. This file is their life cycle: answered, gone,
//! and released when the call ends.

use super::*;

impl Pbx {
    /// A 2xx for a party's INVITE (a paged phone answered): ACK it and send its media to
    /// where its answer says. A retransmitted 2xx gets the ACK again.
    pub(super) fn party_answered(&mut self, now: Instant, id: u64, i: usize, resp: &Response) {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let Some(fork) = call.forks.get_mut(i) else {
            return;
        };
        if fork.state == ForkState::Answered {
            return self.resend_fork_ack(id, i);
        }
        let over = matches!(fork.state, ForkState::Failed(_)) || fork.cancel_wanted;
        fork.state = ForkState::Answered;
        let (party, media) = (fork.party, call.media);
        self.ack_fork(id, i, None);
        if over {
            // Answered after we gave up on it (a CANCEL crossed the 200): end it at once.
            return self.party_gone(now, id, i, 487, true);
        }
        let remote = sdp::parse(&resp.body)
            .ok()
            .and_then(|sd| pickup::first_audio(&sd));
        if let (Some(party), Some(ports), Some(remote), Some(relay)) =
            (party, media, remote, self.media_relay.as_mut())
        {
            relay.set_party_remote(ports.session, party, remote);
        }
        tracing::info!(call = id, fork = i, "party answered");
    }

    /// Party `i` of call `id` is over (`status`: 200 for a hang-up, else its failure):
    /// its media leaves the session, and BYE goes to it if `bye`. A page with nobody
    /// left ends.
    pub(super) fn party_gone(&mut self, now: Instant, id: u64, i: usize, status: u16, bye: bool) {
        if bye {
            self.bye_fork(now, id, i);
        }
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let Some(fork) = call.forks.get_mut(i) else {
            return;
        };
        fork.state = ForkState::Failed(status);
        call.party_ok.retain(|(j, _)| *j != i);
        let (party, media, paging) = (fork.party.take(), call.media, call.page.is_some());
        if let (Some(party), Some(ports), Some(relay)) = (party, media, self.media_relay.as_mut()) {
            relay.remove_party(ports.session, party);
        }
        if paging {
            self.page_check_end(now, id);
        }
        self.calls.schedule(id);
    }

    /// Whether fork `i` of call `id` is a party.
    pub(super) fn is_party(&self, id: u64, i: usize) -> bool {
        self.calls
            .calls
            .get(&id)
            .and_then(|c| c.forks.get(i))
            .is_some_and(|f| f.party.is_some())
    }

    /// The call is ending: parties that answered get BYE, those still ringing CANCEL.
    pub(super) fn release_parties(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        let parties: Vec<(usize, ForkState)> = call
            .forks
            .iter()
            .enumerate()
            .filter(|(_, f)| f.party.is_some())
            .map(|(i, f)| (i, f.state))
            .collect();
        for (i, state) in parties {
            match state {
                ForkState::Answered => self.bye_fork(now, id, i),
                ForkState::Calling | ForkState::Early => self.cancel_fork(now, id, i),
                ForkState::Failed(_) => {}
            }
        }
    }

    /// Our 2xx to a supervisor's INVITE, retransmitted until its ACK; one that never gets
    /// its ACK ends that party (RFC 3261 §13.3.1.4).
    pub(super) fn party_ok_timers(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let expired: Vec<usize> = call
            .party_ok
            .iter()
            .filter(|(_, r)| r.expired(now))
            .map(|(i, _)| *i)
            .collect();
        let due: Vec<_> = call
            .party_ok
            .iter_mut()
            .filter_map(|(_, r)| r.due(now))
            .collect();
        for (tx, resp) in due {
            self.respond_now(now, tx, resp);
        }
        for i in expired {
            self.party_gone(now, id, i, 408, true);
        }
    }

    /// An ACK in party `i`'s dialog: our 2xx arrived.
    pub(super) fn party_acked(&mut self, id: u64, i: usize) {
        if let Some(call) = self.calls.calls.get_mut(&id) {
            call.party_ok.retain(|(j, _)| *j != i);
            self.calls.schedule(id);
        }
    }
}
