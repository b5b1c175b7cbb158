//! Where a call goes: the dialled number resolved to the phones to ring now and what to do
//! when they do not answer or are busy. Pure decisions over the configuration
//! ([`Features`], the directory) and a few facts about the moment ([`Facts`]: who is in a
//! call, who is registered); the B2BUA carries them out stage by stage.
//!
//! A number is classified by the dial plan ([`crate::dialplan`]: emergency, short code,
//! extension, hunt group, then the outside classes), and the class checked against the
//! rights of whoever dials it: the caller, a user whose forward it is, a user who transfers
//! the call ([`Dialler`]). A barred class is refused with 403 and the reason. Then a hunt
//! group rings its members (or its night service, outside its time profile), an extension
//! rings with its user's forwarding and do-not-disturb applied, an outside number finds no
//! route (no trunks yet: 503), anything else is 404.
//!
//! Forwarding loops (A forwards to B, B to A) are cut: a number met a second time in the
//! same call rings as is, its own forwarding ignored, and no call is forwarded more than
//! [`MAX_HOPS`] times. A forward its user may not make ends the call with 403 at once.

use crate::dialplan::{CallClass, Classified, InternalKind, Numbering};
use crate::events::VoicemailReason;
use crate::features::{Features, HuntGroupEntry, HuntMode};
use crate::settings::Directory;
use crate::time_profile::LocalTime;
use std::time::{Duration, Instant};

/// Forwarding hops one call may take before it rings where it is.
pub(crate) const MAX_HOPS: usize = 8;

/// Times a one-at-a-time hunt group goes round its members before the caller gets busy.
const MAX_HUNT_CYCLES: u32 = 10;

/// What the router needs to know about the moment.
pub(crate) trait Facts {
    /// The extension has a live registration.
    fn registered(&self, extension: &str) -> bool;
    /// The extension is in an answered call.
    fn in_call(&self, extension: &str) -> bool;
    /// When the extension's last call ended (`None`: not since start).
    fn idle_since(&self, extension: &str) -> Option<Instant>;
    /// Index into a rotary group's members at which the next call starts.
    fn rotary_start(&self, group: &str) -> usize;
    /// The local civil time, for time profiles (`None`: the shell has given none yet, and
    /// groups with a profile count as in service rather than sending every call to night
    /// service).
    fn local_time(&self) -> Option<LocalTime>;
    /// How many callers wait in a hunt group's queue.
    fn queued(&self, group: &str) -> usize {
        let _ = group;
        0
    }
    /// The extension rings for a caller taken from a queue: not to be offered another
    /// call until it answers or stops ringing.
    fn offered(&self, extension: &str) -> bool {
        let _ = extension;
        false
    }
}

/// The next thing to do with a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Ring these phones.
    Ring(Box<Ring>),
    /// Every member of this hunt group is busy: the caller waits in its queue.
    Queue {
        /// The group's number.
        group: String,
    },
    /// The caller leaves a message in this mailbox (or, for
    /// [`VoicemailReason::CallFlow`], is answered by this call flow).
    Voicemail {
        /// The mailbox (its user's number), or the call flow's name.
        mailbox: String,
        /// Why the call went there.
        reason: VoicemailReason,
    },
    /// Give the caller this final status.
    Refuse {
        /// SIP status code.
        status: u16,
        /// Why, for the call record.
        cause: String,
    },
}

/// One stage of ringing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ring {
    /// Extensions whose phones all ring.
    pub(crate) extensions: Vec<String>,
    /// Ring this long at most, then `on_no_answer`.
    pub(crate) timeout: Option<Duration>,
    /// When nobody answers (in time, or no phone could be reached).
    pub(crate) on_no_answer: Next,
    /// When every phone rang busy.
    pub(crate) on_busy: Next,
    /// Shown to the called phones as the caller's display prefix (a hunt group's name).
    pub(crate) label: Option<String>,
    /// A hunt group's overflow or mailbox: after this long in the group, go there.
    pub(crate) overflow: Option<(Duration, Next)>,
    /// A rotary group offered the call to this member (group number, member).
    pub(crate) offered: Option<(String, String)>,
}

/// What follows a stage that did not end in an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Next {
    /// Nothing: the caller gets the stage's failure.
    Fail,
    /// Resolve this number on the system's authority (an overflow or night-service
    /// destination the administrator configured): no rights are checked.
    Dial(String),
    /// Resolve this number as a user's forward (on busy, on no answer): checked against the
    /// rights of the user at extension `by`.
    Forward {
        /// The forward target.
        to: String,
        /// The extension of the user whose forward it is.
        by: String,
    },
    /// The user's mailbox.
    Voicemail {
        /// The mailbox (its user's number).
        mailbox: String,
        /// Why the call goes there.
        reason: VoicemailReason,
    },
    /// Offer the call to the next member of a one-at-a-time hunt group.
    Hunt {
        /// The group's number.
        group: String,
        /// Members still to try in this round.
        remaining: Vec<String>,
        /// Rounds left after this one.
        cycles_left: u32,
    },
}

/// On whose rights a number is dialled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialler<'a> {
    /// The user at this extension (or an extension without a user): the caller, a user
    /// forwarding calls, a user transferring a call.
    Extension(&'a str),
    /// The configuration itself: the administrator's overflow and night service.
    System,
}

/// The internal numbering the dial plan classifies against.
struct Internal<'a> {
    directory: &'a Directory,
    features: &'a Features,
}

impl Numbering for Internal<'_> {
    fn is_short_code(&self, dialled: &str) -> bool {
        self.features.short_codes().lookup(dialled).is_some()
    }
    fn is_extension(&self, number: &str) -> bool {
        self.directory.contains(number)
    }
    fn is_hunt_group(&self, number: &str) -> bool {
        self.features.group(number).is_some()
    }
    fn is_call_flow(&self, number: &str) -> bool {
        self.features.call_flow(number).is_some()
    }
}

/// The class of a dialled number in this system's dial plan and numbering.
pub(crate) fn classify(directory: &Directory, features: &Features, dialled: &str) -> Classified {
    features.dial_plan().classify(
        dialled,
        &Internal {
            directory,
            features,
        },
    )
}

/// Why a call of `class` from `ext` is refused: "call class international barred for user
/// alice", or "... for extension 209 (no user)".
pub(crate) fn barred_cause(features: &Features, class: CallClass, ext: &str) -> String {
    let who = match features.user_at(ext) {
        Some(user) => format!("user {}", user.name),
        None => format!("extension {ext} (no user)"),
    };
    format!("call class {} barred for {who}", class.as_str())
}

/// The cause of an outside call that has nowhere to go yet.
pub(crate) const NO_OUTSIDE_ROUTE: &str = "no route to an outside line: no trunks configured";

/// Routing for one call: who calls, and the numbers it has been sent to so far. `caller`
/// is the extension whose rights the first number is dialled on (the calling phone, or the
/// user transferring the call).
pub(crate) struct Router<'a> {
    pub(crate) directory: &'a Directory,
    pub(crate) features: &'a Features,
    pub(crate) facts: &'a dyn Facts,
    pub(crate) caller: &'a str,
}

impl Router<'_> {
    /// The first step for a number dialled by `caller`. `visited` collects the numbers
    /// the call has been sent to (for loop detection) and is kept with the call.
    pub(crate) fn dial(&self, number: &str, visited: &mut Vec<String>) -> Step {
        self.dial_as(number, Dialler::Extension(self.caller), visited)
    }

    fn dial_as(&self, number: &str, by: Dialler<'_>, visited: &mut Vec<String>) -> Step {
        let looped = visited.iter().any(|v| v == number) || visited.len() >= MAX_HOPS;
        visited.push(number.to_string());
        let classified = classify(self.directory, self.features, number);
        if let (Some(right), Dialler::Extension(ext)) = (classified.class.right(), by) {
            if !self.features.rights_at(ext).contains(&right) {
                return self.barred(classified.class, ext);
            }
        }
        match classified.class {
            CallClass::Internal(InternalKind::HuntGroup) => match self.features.group(number) {
                Some(_) if looped => refuse(482, "forwarding loop"),
                Some(group) => self.group_step(group, visited, MAX_HUNT_CYCLES),
                None => refuse(404, "unassigned number"),
            },
            CallClass::Internal(InternalKind::Extension) => {
                self.extension_step(number, looped, visited)
            }
            CallClass::Internal(InternalKind::CallFlow) => match self.features.call_flow(number) {
                Some(flow) => Step::Voicemail {
                    mailbox: flow.to_string(),
                    reason: VoicemailReason::CallFlow,
                },
                None => refuse(404, "unassigned number"),
            },
            // Dialled from a phone, a short code is acted on before routing; reached as a
            // forward or transfer target it has no phone to ring.
            CallClass::Internal(InternalKind::ShortCode) => Step::Refuse {
                status: 404,
                cause: format!("short code {number} is not a call destination"),
            },
            CallClass::Unknown => refuse(404, "unassigned number"),
            class => self.outside(class, &classified.number),
        }
    }

    /// 403 for a class the user at `ext` may not call.
    fn barred(&self, class: CallClass, ext: &str) -> Step {
        Step::Refuse {
            status: 403,
            cause: barred_cause(self.features, class, ext),
        }
    }

    /// An allowed outside call (or an emergency call). Outgoing routes to trunks slot in
    /// here; until there are trunks the honest answer is that there is no way out.
    fn outside(&self, class: CallClass, number: &str) -> Step {
        if class == CallClass::Emergency {
            // Never quietly: an emergency call that cannot be placed is an alarm.
            tracing::error!(
                caller = self.caller,
                number,
                "emergency call with no route to an outside line (no trunks configured)"
            );
            return Step::Refuse {
                status: 503,
                cause: format!("emergency number {number}: {NO_OUTSIDE_ROUTE}"),
            };
        }
        refuse(503, NO_OUTSIDE_ROUTE)
    }

    /// The step after a stage ended unanswered; `None` when there is none.
    pub(crate) fn follow(&self, next: &Next, visited: &mut Vec<String>) -> Option<Step> {
        match next {
            Next::Fail => None,
            Next::Dial(number) => Some(self.dial_as(number, Dialler::System, visited)),
            Next::Forward { to, by } => Some(self.dial_as(to, Dialler::Extension(by), visited)),
            Next::Voicemail { mailbox, reason } => Some(Step::Voicemail {
                mailbox: mailbox.clone(),
                reason: *reason,
            }),
            Next::Hunt {
                group,
                remaining,
                cycles_left,
            } => {
                let g = self.features.group(group)?;
                let left: Vec<String> = remaining
                    .iter()
                    .filter(|m| self.available(m))
                    .cloned()
                    .collect();
                if !left.is_empty() {
                    return Some(self.hunt_ring(g, left, None, *cycles_left));
                }
                if *cycles_left == 0 {
                    return Some(
                        group_mailbox(g, VoicemailReason::NoAnswer)
                            .and_then(|next| self.follow(&next, visited))
                            .unwrap_or_else(|| refuse(486, "no member answered")),
                    );
                }
                // A new round; the overflow deadline set by the first keeps running.
                match self.group_step(g, visited, cycles_left - 1) {
                    Step::Ring(mut ring) => {
                        ring.overflow = None;
                        Some(Step::Ring(ring))
                    }
                    refusal => Some(refusal),
                }
            }
        }
    }

    fn extension_step(&self, ext: &str, plain: bool, visited: &mut Vec<String>) -> Step {
        let user = self.features.user_at(ext);
        let fwd = user.map(|u| &u.forward);
        if !plain {
            if let Some(target) = fwd.and_then(|f| f.unconditional.as_deref()) {
                return self.dial_as(target, Dialler::Extension(ext), visited);
            }
        }
        let forward_to = |target: Option<&String>| match (plain, target) {
            (false, Some(t)) => Next::Forward {
                to: t.clone(),
                by: ext.to_string(),
            },
            _ => Next::Fail,
        };
        // Where no forward takes the call, the user's mailbox does (if it has one).
        let or_mailbox = |next: Next, reason: VoicemailReason| match (next, user) {
            (Next::Fail, Some(u)) if u.voicemail => Next::Voicemail {
                mailbox: ext.to_string(),
                reason,
            },
            (next, _) => next,
        };
        let busy_forward = forward_to(fwd.and_then(|f| f.busy.as_ref()));
        let on_busy = or_mailbox(busy_forward.clone(), VoicemailReason::Busy);
        let on_no_answer = or_mailbox(
            forward_to(fwd.and_then(|f| f.no_answer.as_ref())),
            VoicemailReason::NoAnswer,
        );
        let dnd = user.is_some_and(|u| u.dnd && !u.dnd_exceptions.iter().any(|e| e == self.caller));
        if dnd {
            let next = or_mailbox(busy_forward, VoicemailReason::DoNotDisturb);
            return self
                .follow(&next, visited)
                .unwrap_or_else(|| refuse(486, "do not disturb"));
        }
        let waiting = user.is_none_or(|u| u.call_waiting);
        if !waiting && self.facts.in_call(ext) {
            return self
                .follow(&on_busy, visited)
                .unwrap_or_else(|| refuse(486, "busy"));
        }
        if !self.facts.registered(self.features.device_of(ext)) {
            return self
                .follow(&on_no_answer, visited)
                .unwrap_or_else(|| refuse(480, "not registered"));
        }
        let timeout = (on_no_answer != Next::Fail)
            .then(|| fwd.map_or(Duration::from_secs(15), |f| f.no_answer_after));
        Step::Ring(Box::new(Ring {
            extensions: vec![ext.to_string()],
            timeout,
            on_no_answer,
            on_busy,
            label: None,
            overflow: None,
            offered: None,
        }))
    }

    /// A member can be offered a call: registered, not in a call nor ringing for a queued
    /// caller, not on do-not-disturb.
    fn available(&self, member: &str) -> bool {
        self.facts.registered(self.features.device_of(member))
            && !self.facts.in_call(member)
            && !self.facts.offered(member)
            && !self.features.user_at(member).is_some_and(|u| u.dnd)
    }

    fn group_step(&self, g: &HuntGroupEntry, visited: &mut Vec<String>, cycles: u32) -> Step {
        let outside_hours = g
            .time_profile
            .as_ref()
            .filter(|p| self.facts.local_time().is_some_and(|now| !p.is_active(now)));
        if !g.in_service || outside_hours.is_some() {
            let mailbox = group_mailbox(g, VoicemailReason::NoAnswer);
            return match (&g.night_service_to, mailbox) {
                (Some(target), _) => self.dial_as(target, Dialler::System, visited),
                (None, Some(next)) => self
                    .follow(&next, visited)
                    .unwrap_or_else(|| refuse(480, "night service")),
                (None, None) => Step::Refuse {
                    status: 480,
                    cause: match outside_hours {
                        Some(p) => format!(
                            "night service: hunt group {} is outside time profile {}",
                            g.name, p.name
                        ),
                        None => format!("night service: hunt group {} is out of service", g.name),
                    },
                },
            };
        }
        let mut order: Vec<String> = match g.mode {
            HuntMode::Rotary => {
                let start = self.facts.rotary_start(&g.number) % g.members.len().max(1);
                g.members[start..]
                    .iter()
                    .chain(&g.members[..start])
                    .cloned()
                    .collect()
            }
            _ => g.members.clone(),
        };
        order.retain(|m| self.available(m));
        if g.mode == HuntMode::LongestWaiting {
            // Never called since start counts as idle longest; the sort is stable, so
            // ties keep the configured order.
            order.sort_by_key(|m| self.facts.idle_since(m));
        }
        if order.is_empty() {
            // Registered members all busy: wait for one, if the queue has room (a group
            // with nobody registered has nobody to wait for).
            let someone = g
                .members
                .iter()
                .any(|m| self.facts.registered(self.features.device_of(m)));
            if someone && self.facts.queued(&g.number) < g.queue_limit {
                return Step::Queue {
                    group: g.number.clone(),
                };
            }
            // Busy when someone is there to be busy; nobody registered is no answer.
            let reason = if someone {
                VoicemailReason::Busy
            } else {
                VoicemailReason::NoAnswer
            };
            return match (&g.overflow, group_mailbox(g, reason)) {
                (Some((_, target)), _) => self.dial(target, visited),
                (None, Some(next)) => self
                    .follow(&next, visited)
                    .unwrap_or_else(|| refuse(486, "all members busy")),
                (None, None) => refuse(486, "all members busy"),
            };
        }
        if g.mode == HuntMode::Collective {
            // Every member refusing (busy, declined) ends in the group's mailbox, if any.
            let on_fail = |reason| group_mailbox(g, reason).unwrap_or(Next::Fail);
            return Step::Ring(Box::new(Ring {
                extensions: order,
                timeout: None,
                on_no_answer: on_fail(VoicemailReason::NoAnswer),
                on_busy: on_fail(VoicemailReason::Busy),
                label: Some(g.name.clone()),
                overflow: group_deadline(g),
                offered: None,
            }));
        }
        self.hunt_ring(g, order, group_deadline(g), cycles)
    }

    fn hunt_ring(
        &self,
        g: &HuntGroupEntry,
        mut order: Vec<String>,
        overflow: Option<(Duration, Next)>,
        cycles_left: u32,
    ) -> Step {
        let first = order.remove(0);
        let next = Next::Hunt {
            group: g.number.clone(),
            remaining: order,
            cycles_left,
        };
        Step::Ring(Box::new(Ring {
            extensions: vec![first.clone()],
            timeout: Some(g.no_answer_after),
            on_no_answer: next.clone(),
            on_busy: next,
            label: Some(g.name.clone()),
            overflow,
            offered: Some((g.number.clone(), first)),
        }))
    }
}

/// A hunt group's mailbox as a continuation, when the group has one.
fn group_mailbox(g: &HuntGroupEntry, reason: VoicemailReason) -> Option<Next> {
    g.voicemail_after.map(|_| Next::Voicemail {
        mailbox: g.number.clone(),
        reason,
    })
}

/// When a call still unanswered in hunt group `g` leaves it, and where to: the overflow
/// or the group's mailbox, whichever is due first (the overflow on a tie: it still gives
/// the caller a person).
pub(crate) fn group_deadline(g: &HuntGroupEntry) -> Option<(Duration, Next)> {
    let overflow = g
        .overflow
        .clone()
        .map(|(after, to)| (after, Next::Dial(to)));
    let mailbox = g
        .voicemail_after
        .zip(group_mailbox(g, VoicemailReason::NoAnswer));
    match (overflow, mailbox) {
        (Some(o), Some(m)) => Some(if m.0 < o.0 { m } else { o }),
        (o, m) => o.or(m),
    }
}

fn refuse(status: u16, cause: &str) -> Step {
    Step::Refuse {
        status,
        cause: cause.to_string(),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_plan;
