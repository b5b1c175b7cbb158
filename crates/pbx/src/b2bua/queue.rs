//! Hunt-group queues: when every registered member of a group is busy and its queue has
//! room (`queue_limit`), the caller is answered by the PBX and waits, hearing its place
//! ("you are number two in the queue") and the group's music, in turn with the others.
//! Once a second the head of the queue looks for a free member; one is rung as a transfer
//! rings its target (the caller hears ringback), and whoever answers takes the call. A
//! member who does not answer sends the caller back to the head of the queue. After the
//! group's overflow time the caller goes to its overflow destination instead. A member
//! ringing for a waiting caller is spoken for: the next caller is offered another free
//! member, if there is one, and never the same one twice at once.
//!
//! A blind transfer to such a group puts the transferred caller in the queue too (see
//! `transfer`). Not yet: queue statistics.

use super::*;
use crate::routing::{Next, Step};

/// How often a waiting caller looks for a free member (and its place is said again if it
/// changed).
const QUEUE_CHECK: Duration = Duration::from_secs(1);

/// A caller waiting in a hunt group's queue.
#[derive(Debug, Clone)]
pub(super) struct Queued {
    pub(super) group: String,
    /// When it joined: the order of the queue (kept when a member fails to answer).
    since: Instant,
    pub(super) next_check: Instant,
    /// The place last announced.
    position: usize,
    /// The group's overflow or mailbox: when, and where to.
    overflow: Option<(Instant, Next)>,
}

impl Pbx {
    /// Puts call `id` in `group`'s queue, answering the caller if it was not yet.
    pub(super) fn enqueue(&mut self, now: Instant, id: u64, group: &str) {
        self.enqueue_since(now, id, group, now);
    }

    fn enqueue_since(&mut self, now: Instant, id: u64, group: &str, since: Instant) {
        if let Err(cause) = self.answer_by_pbx(now, id) {
            return self.refuse_ringing(now, id, 486, cause.into());
        }
        let overflow = self
            .features
            .group(group)
            .and_then(routing::group_deadline)
            .map(|(after, next)| (since + after, next));
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        call.queued = Some(Queued {
            group: group.to_string(),
            since,
            next_check: now + QUEUE_CHECK,
            position: 0,
            overflow,
        });
        *self
            .calls
            .presence
            .queued
            .entry(group.to_string())
            .or_default() += 1;
        tracing::info!(call = id, group, "caller waits in the queue");
        self.announce_place(id);
        self.calls.schedule(id);
    }

    /// The PBX answers the caller itself (on its own offer's first G.711 codec, at the
    /// relay), so that it hears its place and the music while it waits.
    pub(super) fn answer_by_pbx(&mut self, now: Instant, id: u64) -> Result<(), &'static str> {
        let call = &self.calls.calls[&id];
        if call.a.final_sent {
            return Ok(()); // answered already (back in the queue after a member's no answer)
        }
        let ports = call.media.ok_or("queue needs media through the relay")?;
        let offer = sdp::parse(&call.a.invite.body).map_err(|_| "queue needs an offer")?;
        let codec = pickup::common_voice_codec(&offer, &offer).ok_or("no G.711 offered")?;
        let ip = self.side_ip(&call.a.local_host);
        let answer = pickup::answer_on(&offer, &codec, ip, ports.caller_port)
            .ok_or("no answer to the caller's offer")?;
        let mut ok = self.a_response(call, StatusCode::OK, "OK");
        ok.headers.push(HeaderName::ContentType, "application/sdp");
        ok.body = answer.clone();
        let caller = call.caller.clone();
        // The relay sends to the caller before it has heard from it (prompts, music).
        if let (Some(remote), Some(relay)) =
            (pickup::first_audio(&offer), self.media_relay.as_mut())
        {
            relay.set_remote(ports.session, Side::Caller, remote);
        }
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return Err("the call ended");
        };
        call.a.final_sent = true;
        call.a.last_sdp = answer;
        call.answered = Some(now);
        if let Some(timer) = call.timer.as_mut() {
            timer.stamp_response(&mut ok);
            timer.start(now);
        }
        self.calls.presence.answered(&[caller.as_str()]);
        self.send_invite_ok(now, id, ok);
        Ok(())
    }

    /// The caller's place in its queue (1: next).
    fn place_in_queue(&self, id: u64) -> Option<usize> {
        let q = self.calls.calls.get(&id)?.queued.as_ref()?;
        let ahead = self
            .calls
            .calls
            .iter()
            .filter_map(|(other, c)| Some((other, c.queued.as_ref()?)))
            .filter(|(other, o)| o.group == q.group && (o.since, **other) < (q.since, id))
            .count();
        Some(ahead + 1)
    }

    /// Says the caller's place again if it changed.
    fn announce_place(&mut self, id: u64) {
        let Some(place) = self.place_in_queue(id) else {
            return;
        };
        let Some(q) = self
            .calls
            .calls
            .get_mut(&id)
            .and_then(|c| c.queued.as_mut())
        else {
            return;
        };
        if q.position == place {
            return;
        }
        q.position = place;
        let music = self.features.music_on_hold(&q.group).map(str::to_string);
        let announcement = self.features.queue_announcement(&q.group);
        self.play_queue_announcement(id, place, &announcement, music.as_deref());
    }

    /// Leaves the queue (to ring a member or the overflow, or because the call ends).
    pub(super) fn leave_queue(&mut self, id: u64) -> Option<Queued> {
        let q = self.calls.calls.get_mut(&id)?.queued.take()?;
        if let Some(n) = self.calls.presence.queued.get_mut(&q.group) {
            *n = n.saturating_sub(1);
        }
        Some(q)
    }

    /// A waiting caller's check: overflow when its time is up; at the head of the queue,
    /// a free member rings; its place said again when it moved up.
    pub(super) fn queue_due(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        let Some(q) = call.queued.clone() else {
            return;
        };
        if now < q.next_check {
            return;
        }
        let caller = call.caller.clone();
        match q.overflow.as_ref().filter(|(at, _)| now >= *at) {
            Some((_, Next::Voicemail { mailbox, reason })) => {
                self.leave_queue(id);
                return self.send_to_voicemail(now, id, mailbox, *reason);
            }
            Some((_, Next::Dial(to))) => {
                self.leave_queue(id);
                let route = self.route_for(now, &caller, to);
                return self.ring_from_queue(now, id, route, None);
            }
            _ => {}
        }
        // The head of the queue is offered a free member; once it rings, the next caller
        // is the head and may be offered another (a ringing member is spoken for).
        if self.place_in_queue(id) == Some(1) {
            let (step, visited) = self.route_for_queue(now, &caller, &q.group);
            if matches!(step, Step::Ring(_)) {
                self.leave_queue(id);
                return self.ring_from_queue(now, id, (step, visited), Some((q.group, q.since)));
            }
        }
        self.announce_place(id);
        if let Some(q) = self
            .calls
            .calls
            .get_mut(&id)
            .and_then(|c| c.queued.as_mut())
        {
            q.next_check = now + QUEUE_CHECK;
        }
    }

    /// Where a waiting caller of `group` goes now: like [`Pbx::route_for`], but members
    /// ringing for other callers from a queue are not free.
    fn route_for_queue(&self, now: Instant, caller: &str, group: &str) -> (Step, Vec<String>) {
        let offered = self
            .calls
            .calls
            .values()
            .filter(|c| c.requeue.is_some())
            .flat_map(|c| &c.forks)
            .filter(|f| matches!(f.state, ForkState::Calling | ForkState::Early))
            .map(|f| f.extension.clone())
            .collect();
        let facts =
            hunt::Moment::new(&self.location, &self.calls.presence, now).with_offered(offered);
        self.route_with(&facts, caller, group)
    }

    /// Rings a member (or the overflow) for a caller that waited; `back`: the queue to
    /// return to, in its old place, if nobody answers.
    fn ring_from_queue(
        &mut self,
        now: Instant,
        id: u64,
        route: (Step, Vec<String>),
        back: Option<(String, Instant)>,
    ) {
        if let Some(call) = self.calls.calls.get_mut(&id) {
            call.requeue.clone_from(&back);
        }
        if self
            .ring_for_answered_call(now, id, 0, true, route)
            .is_err()
        {
            self.requeue_or_hang_up(now, id);
        }
    }

    /// Nobody answered a caller rung from the queue: back to its old place, or (from the
    /// overflow) the caller gets BYE.
    pub(super) fn requeue_or_hang_up(&mut self, now: Instant, id: u64) {
        match self.calls.calls.get_mut(&id).and_then(|c| c.requeue.take()) {
            Some((group, since)) => self.enqueue_since(now, id, &group, since),
            None => {
                if let Some((bye, peer)) = self.a_request(id, Method::Bye) {
                    let _ = self.transactions.send_request(now, bye, peer);
                }
                self.end_call(now, id, "nobody took the call from the queue");
            }
        }
    }
}
