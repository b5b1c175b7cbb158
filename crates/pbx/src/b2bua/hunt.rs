//! Carrying out a call's route (see `crate::routing`) stage by stage: each stage rings a set
//! of extensions (every registered contact of each); a stage that times out, or whose
//! phones all fail, gives way to its continuation — the next hunt-group member, a forward
//! target, an overflow destination — until someone answers or nothing is left.

use super::*;
use crate::location::LocationService;
use crate::routing::{Facts, Next, Ring, Router, Step};
use crate::time_profile::LocalTime;

/// Who is in a call and since when each extension has been idle, and what time it is
/// locally: the facts hunt groups and call waiting decide on.
#[derive(Debug, Default)]
pub(crate) struct Presence {
    in_call: HashMap<String, u32>,
    idle_since: HashMap<String, Instant>,
    /// Per rotary group, the member index the next call starts at.
    rotary: HashMap<String, usize>,
    /// The local civil time the shell gave last (time profiles are read against it).
    local_time: Option<LocalTime>,
    /// Callers waiting in each hunt group's queue.
    pub(super) queued: HashMap<String, usize>,
}

impl Presence {
    /// The extensions of an answered call are now busy.
    pub(super) fn answered(&mut self, extensions: &[&str]) {
        for &e in extensions {
            *self.in_call.entry(e.to_string()).or_default() += 1;
        }
    }

    /// Whether `extension` is in an answered call.
    pub(super) fn in_call(&self, extension: &str) -> bool {
        self.in_call.contains_key(extension)
    }

    /// An answered call ended at `now`.
    pub(super) fn hung_up(&mut self, now: Instant, extensions: &[&str]) {
        for &e in extensions {
            if let Some(n) = self.in_call.get_mut(e) {
                *n -= 1;
                if *n == 0 {
                    self.in_call.remove(e);
                }
            }
            self.idle_since.insert(e.to_string(), now);
        }
    }
}

pub(super) struct Moment<'a> {
    location: &'a LocationService,
    presence: &'a Presence,
    now: Instant,
    /// Members ringing for callers taken from a queue: spoken for, though not yet busy.
    offered: std::collections::HashSet<String>,
}

impl<'a> Moment<'a> {
    pub(super) fn new(location: &'a LocationService, presence: &'a Presence, now: Instant) -> Self {
        Moment {
            location,
            presence,
            now,
            offered: Default::default(),
        }
    }

    /// The moment with `offered` members counted as spoken for.
    pub(super) fn with_offered(mut self, offered: std::collections::HashSet<String>) -> Self {
        self.offered = offered;
        self
    }
}

impl Facts for Moment<'_> {
    fn registered(&self, extension: &str) -> bool {
        self.location
            .bindings(extension)
            .iter()
            .any(|b| b.expires_at > self.now)
    }
    fn in_call(&self, extension: &str) -> bool {
        self.presence.in_call.contains_key(extension)
    }
    fn idle_since(&self, extension: &str) -> Option<Instant> {
        self.presence.idle_since.get(extension).copied()
    }
    fn rotary_start(&self, group: &str) -> usize {
        self.presence.rotary.get(group).copied().unwrap_or(0)
    }
    fn local_time(&self) -> Option<LocalTime> {
        self.presence.local_time
    }
    fn queued(&self, group: &str) -> usize {
        self.presence.queued.get(group).copied().unwrap_or(0)
    }
    fn offered(&self, extension: &str) -> bool {
        self.offered.contains(extension)
    }
}

/// Where a call is on its route.
#[derive(Debug, Default)]
pub(super) struct RouteState {
    /// Numbers the call has been sent to (loop detection).
    pub(super) visited: Vec<String>,
    /// The stage now ringing; forks of earlier stages have been CANCELled.
    pub(super) stage: u32,
    pub(super) stage_deadline: Option<Instant>,
    pub(super) on_no_answer: Option<Next>,
    pub(super) on_busy: Option<Next>,
    /// A hunt group's overflow or mailbox: when, and where to.
    pub(super) overflow_at: Option<(Instant, Next)>,
    /// Shown to called phones before the caller's name (a hunt group's name).
    pub(super) label: Option<String>,
    /// The final status the caller was given, and why, when the route ran out.
    pub(super) failure: Option<(u16, String)>,
}

impl Pbx {
    /// The local civil time in the system's time zone, for time profiles. The core never
    /// reads a clock: the shell converts the wall clock and calls this at least once a
    /// second (a minute is the profiles' resolution); tests give whatever moment the story
    /// needs. Until it is first called, groups with a time profile count as in service.
    pub fn set_local_time(&mut self, local: LocalTime) {
        self.calls.presence.local_time = Some(local);
    }

    /// Routes a dialled number for `caller` from scratch.
    pub(super) fn route_first(
        &self,
        now: Instant,
        caller: &str,
        number: &str,
        visited: &mut Vec<String>,
    ) -> Step {
        let facts = Moment::new(&self.location, &self.calls.presence, now);
        Router {
            directory: &self.directory,
            features: &self.features,
            facts: &facts,
            caller,
        }
        .dial(number, visited)
    }

    /// Rings a stage of a call. Returns the number of INVITEs sent.
    pub(super) fn ring_stage(&mut self, now: Instant, id: u64, ring: Ring) -> usize {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return 0;
        };
        let route = &mut call.route;
        route.stage += 1;
        route.stage_deadline = ring.timeout.map(|t| now + t);
        route.on_no_answer = Some(ring.on_no_answer);
        route.on_busy = Some(ring.on_busy);
        route.label = ring.label;
        if route.overflow_at.is_none() {
            route.overflow_at = ring.overflow.map(|(after, to)| (now + after, to));
        }
        if let Some((group, member)) = ring.offered {
            if let Some(g) = self.features.group(&group) {
                let next = g
                    .members
                    .iter()
                    .position(|m| *m == member)
                    .map_or(0, |i| i + 1);
                self.calls.presence.rotary.insert(group, next);
            }
        }
        let mut sent = 0;
        for ext in &ring.extensions {
            // A user logged in on another desk is rung there (hot desking).
            let bindings: Vec<_> = self
                .location
                .bindings(self.features.device_of(ext))
                .iter()
                .filter(|b| b.expires_at > now)
                .cloned()
                .collect();
            for b in &bindings {
                if self.send_fork(now, id, ext, b) {
                    sent += 1;
                }
            }
        }
        self.calls.schedule(id);
        sent
    }

    /// The current stage is over without an answer (`busy`: every phone said so). Moves to
    /// its continuation; false when there is none (the caller gets the failure).
    pub(super) fn next_stage(&mut self, now: Instant, id: u64, busy: bool) -> bool {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return false;
        };
        let next = if busy {
            call.route.on_busy.take()
        } else {
            call.route.on_no_answer.take()
        };
        call.route.on_busy = None;
        call.route.on_no_answer = None;
        call.route.stage_deadline = None;
        match next {
            Some(next) => self.take_route(now, id, &next),
            None => false,
        }
    }

    /// The phones of the call's current stage get CANCEL.
    pub(super) fn cancel_stage(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        let stage = call.route.stage;
        let ringing: Vec<usize> = (0..call.forks.len())
            .filter(|&i| call.forks[i].stage == stage)
            .collect();
        for i in ringing {
            self.cancel_fork(now, id, i);
        }
    }

    /// Abandons the ringing stage (its phones get CANCEL) and goes where `next` says.
    pub(super) fn divert(&mut self, now: Instant, id: u64, next: &Next) {
        self.cancel_stage(now, id);
        if !self.take_route(now, id, next) {
            self.give_up_ringing(now, id, StatusCode(480), "No Answer");
        }
    }

    /// Follows a continuation: a new stage rings, or the caller gets a refusal. False when
    /// the continuation is empty.
    fn take_route(&mut self, now: Instant, id: u64, next: &Next) -> bool {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return false;
        };
        let mut visited = std::mem::take(&mut call.route.visited);
        let caller = call.caller.clone();
        let facts = Moment::new(&self.location, &self.calls.presence, now);
        let step = Router {
            directory: &self.directory,
            features: &self.features,
            facts: &facts,
            caller: &caller,
        }
        .follow(next, &mut visited);
        if let Some(call) = self.calls.calls.get_mut(&id) {
            call.route.visited = visited;
        }
        match step {
            None => false,
            Some(Step::Refuse { status, cause }) => {
                self.refuse_ringing(now, id, status, cause);
                true
            }
            Some(Step::Ring(ring)) => {
                if self.ring_stage(now, id, *ring) == 0 && !self.next_stage(now, id, false) {
                    self.refuse_ringing(now, id, 480, "not registered".into());
                }
                true
            }
            Some(Step::Queue { group }) => {
                self.enqueue(now, id, &group);
                true
            }
            Some(Step::Voicemail { mailbox, reason }) => {
                self.send_to_voicemail(now, id, &mailbox, reason);
                true
            }
        }
    }

    /// The route ran out: the caller gets `status`; the call ends once every fork is over.
    pub(super) fn refuse_ringing(&mut self, now: Instant, id: u64, status: u16, cause: String) {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let code = StatusCode(status);
        // The reason phrase says why, as refusals before ringing do.
        let reason = format!("{} ({cause})", code.default_reason());
        call.route.failure = Some((status, cause));
        self.give_up_ringing(now, id, code, &reason);
        self.end_if_all_failed(now, id);
    }

    /// The label (hunt group name) to put before the caller's name on a stage's INVITEs.
    pub(super) fn stage_label(&self, id: u64) -> Option<String> {
        self.calls
            .calls
            .get(&id)
            .and_then(|c| c.route.label.clone())
    }
}
