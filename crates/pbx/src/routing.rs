//! Where a call goes: the dialled number resolved to the phones to ring now and what to do
//! when they do not answer or are busy. Pure decisions over the configuration
//! ([`Features`], the directory) and a few facts about the moment ([`Facts`]: who is in a
//! call, who is registered); the B2BUA carries them out stage by stage.
//!
//! Order of resolution for a number: hunt group, then extension (with its user's
//! forwarding and do-not-disturb), else 404. Forwarding loops (A forwards to B, B to A)
//! are cut: a number met a second time in the same call rings as is, its own forwarding
//! ignored, and no call is forwarded more than [`MAX_HOPS`] times.

use crate::features::{Features, HuntGroupEntry, HuntMode};
use crate::settings::Directory;
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
}

/// The next thing to do with a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Ring these phones.
    Ring(Box<Ring>),
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
    /// A hunt group's overflow: after this long in the group, go to the number.
    pub(crate) overflow: Option<(Duration, String)>,
    /// A rotary group offered the call to this member (group number, member).
    pub(crate) offered: Option<(String, String)>,
}

/// What follows a stage that did not end in an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Next {
    /// Nothing: the caller gets the stage's failure.
    Fail,
    /// Resolve this number (a forward target, an overflow or night-service destination).
    Dial(String),
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

/// Routing for one call: who calls, and the numbers it has been sent to so far.
pub(crate) struct Router<'a> {
    pub(crate) directory: &'a Directory,
    pub(crate) features: &'a Features,
    pub(crate) facts: &'a dyn Facts,
    pub(crate) caller: &'a str,
}

impl Router<'_> {
    /// The first step for a dialled number. `visited` collects the numbers the call has
    /// been sent to (for loop detection) and is kept with the call.
    pub(crate) fn dial(&self, number: &str, visited: &mut Vec<String>) -> Step {
        let looped = visited.iter().any(|v| v == number) || visited.len() >= MAX_HOPS;
        visited.push(number.to_string());
        if let Some(group) = self.features.group(number) {
            if looped {
                return refuse(482, "forwarding loop");
            }
            return self.group_step(group, visited, MAX_HUNT_CYCLES);
        }
        if self.directory.contains(number) {
            return self.extension_step(number, looped, visited);
        }
        refuse(404, "unassigned number")
    }

    /// The step after a stage ended unanswered; `None` when there is none.
    pub(crate) fn follow(&self, next: &Next, visited: &mut Vec<String>) -> Option<Step> {
        match next {
            Next::Fail => None,
            Next::Dial(number) => Some(self.dial(number, visited)),
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
                    return Some(refuse(486, "no member answered"));
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
                return self.dial(target, visited);
            }
        }
        let forward_to = |target: Option<&String>| match (plain, target) {
            (false, Some(t)) => Next::Dial(t.clone()),
            _ => Next::Fail,
        };
        let on_busy = forward_to(fwd.and_then(|f| f.busy.as_ref()));
        let on_no_answer = forward_to(fwd.and_then(|f| f.no_answer.as_ref()));
        let dnd = user.is_some_and(|u| u.dnd && !u.dnd_exceptions.iter().any(|e| e == self.caller));
        if dnd {
            return self
                .follow(&on_busy, visited)
                .unwrap_or_else(|| refuse(486, "do not disturb"));
        }
        let waiting = user.is_none_or(|u| u.call_waiting);
        if !waiting && self.facts.in_call(ext) {
            return self
                .follow(&on_busy, visited)
                .unwrap_or_else(|| refuse(486, "busy"));
        }
        if !self.facts.registered(ext) {
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

    /// A member can be offered a call: registered, not in a call, not on do-not-disturb.
    fn available(&self, member: &str) -> bool {
        self.facts.registered(member)
            && !self.facts.in_call(member)
            && !self.features.user_at(member).is_some_and(|u| u.dnd)
    }

    fn group_step(&self, g: &HuntGroupEntry, visited: &mut Vec<String>, cycles: u32) -> Step {
        if !g.in_service {
            return match &g.night_service_to {
                Some(target) => self.dial(target, visited),
                None => refuse(480, "night service"),
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
            return match &g.overflow {
                Some((_, target)) => self.dial(target, visited),
                None => refuse(486, "all members busy"),
            };
        }
        if g.mode == HuntMode::Collective {
            return Step::Ring(Box::new(Ring {
                extensions: order,
                timeout: None,
                on_no_answer: Next::Fail,
                on_busy: Next::Fail,
                label: Some(g.name.clone()),
                overflow: g.overflow.clone(),
                offered: None,
            }));
        }
        self.hunt_ring(g, order, g.overflow.clone(), cycles)
    }

    fn hunt_ring(
        &self,
        g: &HuntGroupEntry,
        mut order: Vec<String>,
        overflow: Option<(Duration, String)>,
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

fn refuse(status: u16, cause: &str) -> Step {
    Step::Refuse {
        status,
        cause: cause.to_string(),
    }
}

#[cfg(test)]
mod tests;
