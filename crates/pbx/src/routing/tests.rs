use super::*;
use crate::features::{Forwarding, HuntGroupEntry, UserEntry};
use crate::settings::ExtensionEntry;
use std::collections::{HashMap, HashSet};

#[derive(Default)]
pub(super) struct Now {
    pub(super) registered: HashSet<String>,
    pub(super) in_call: HashSet<String>,
    pub(super) idle: HashMap<String, Instant>,
    pub(super) rotary: usize,
    pub(super) local: Option<LocalTime>,
}

impl Facts for Now {
    fn registered(&self, e: &str) -> bool {
        self.registered.contains(e)
    }
    fn in_call(&self, e: &str) -> bool {
        self.in_call.contains(e)
    }
    fn idle_since(&self, e: &str) -> Option<Instant> {
        self.idle.get(e).copied()
    }
    fn rotary_start(&self, _: &str) -> usize {
        self.rotary
    }
    fn local_time(&self) -> Option<LocalTime> {
        self.local
    }
}

pub(super) fn directory() -> Directory {
    Directory::new((201..=206).map(|n| ExtensionEntry {
        number: n.to_string(),
        ha1_md5: String::new(),
        ha1_sha256: String::new(),
        direct_media: false,
    }))
}

pub(super) fn all_registered() -> Now {
    Now {
        registered: (201..=206).map(|n| n.to_string()).collect(),
        ..Now::default()
    }
}

pub(super) fn group(mode: HuntMode) -> HuntGroupEntry {
    HuntGroupEntry {
        name: "sales".into(),
        number: "300".into(),
        mode,
        members: vec!["201".into(), "202".into(), "203".into()],
        no_answer_after: Duration::from_secs(15),
        overflow: None,
        night_service_to: None,
        in_service: true,
        queue_limit: 0,
        voicemail_after: None,
        time_profile: None,
    }
}

pub(super) fn route(features: &Features, facts: &Now, number: &str) -> (Step, Vec<String>) {
    let dir = directory();
    let r = Router {
        directory: &dir,
        features,
        facts,
        caller: "206",
    };
    let mut visited = Vec::new();
    (r.dial(number, &mut visited), visited)
}

pub(super) fn rung(step: &Step) -> Vec<&str> {
    match step {
        Step::Ring(r) => r.extensions.iter().map(String::as_str).collect(),
        Step::Refuse { status, cause } => panic!("refused {status} {cause}"),
        Step::Queue { group } => panic!("queued in {group}"),
        Step::Voicemail { mailbox, reason } => panic!("to mailbox {mailbox} ({reason:?})"),
    }
}

pub(super) fn user(ext: &str, f: impl FnOnce(&mut UserEntry)) -> UserEntry {
    let mut u = UserEntry::new(&format!("u{ext}"), ext);
    f(&mut u);
    u
}

#[test]
fn an_extension_rings_and_an_unknown_number_is_404() {
    let f = Features::default();
    let now = all_registered();
    assert_eq!(rung(&route(&f, &now, "201").0), ["201"]);
    assert_eq!(route(&f, &now, "299").0, refuse(404, "unassigned number"));
    let nobody = Now::default();
    assert_eq!(route(&f, &nobody, "201").0, refuse(480, "not registered"));
}

#[test]
fn forward_unconditional_goes_straight_to_the_target() {
    let f = Features::new(
        [user("201", |u| {
            u.forward.unconditional = Some("202".into())
        })],
        [],
    );
    let (step, visited) = route(&f, &all_registered(), "201");
    assert_eq!(rung(&step), ["202"]);
    assert_eq!(visited, ["201", "202"]);
}

#[test]
fn a_forwarding_loop_rings_where_it_closes() {
    let f = Features::new(
        [
            user("201", |u| u.forward.unconditional = Some("202".into())),
            user("202", |u| u.forward.unconditional = Some("201".into())),
        ],
        [],
    );
    let (step, visited) = route(&f, &all_registered(), "201");
    // 201 -> 202 -> 201 again: 201 rings, its forwarding ignored.
    assert_eq!(rung(&step), ["201"]);
    assert_eq!(visited, ["201", "202", "201"]);
    let Step::Ring(r) = step else { unreachable!() };
    assert_eq!((r.on_busy, r.on_no_answer), (Next::Fail, Next::Fail));
}

#[test]
fn no_answer_and_busy_forwards_are_the_stage_continuations() {
    let f = Features::new(
        [user("201", |u| {
            u.forward = Forwarding {
                busy: Some("203".into()),
                no_answer: Some("204".into()),
                no_answer_after: Duration::from_secs(20),
                ..Forwarding::default()
            }
        })],
        [],
    );
    let Step::Ring(r) = route(&f, &all_registered(), "201").0 else {
        panic!()
    };
    assert_eq!(r.timeout, Some(Duration::from_secs(20)));
    // The user's forwards, to be checked against that user's rights when taken.
    let forward = |to: &str| Next::Forward {
        to: to.into(),
        by: "201".into(),
    };
    assert_eq!(r.on_no_answer, forward("204"));
    assert_eq!(r.on_busy, forward("203"));
    // Not registered: the no-answer forward applies at once.
    let mut now = all_registered();
    now.registered.remove("201");
    assert_eq!(rung(&route(&f, &now, "201").0), ["204"]);
}

#[test]
fn do_not_disturb_gives_busy_or_the_busy_forward_except_for_listed_callers() {
    let f = Features::new([user("201", |u| u.dnd = true)], []);
    assert_eq!(
        route(&f, &all_registered(), "201").0,
        refuse(486, "do not disturb")
    );
    let f = Features::new(
        [user("201", |u| {
            u.dnd = true;
            u.forward.busy = Some("203".into());
        })],
        [],
    );
    assert_eq!(rung(&route(&f, &all_registered(), "201").0), ["203"]);
    // The caller (206) is an exception: it rings through.
    let f = Features::new(
        [user("201", |u| {
            u.dnd = true;
            u.dnd_exceptions = vec!["206".into()];
        })],
        [],
    );
    assert_eq!(rung(&route(&f, &all_registered(), "201").0), ["201"]);
}

#[test]
fn call_waiting_off_makes_a_user_in_a_call_busy() {
    let mut now = all_registered();
    now.in_call.insert("201".into());
    let f = Features::default();
    assert_eq!(rung(&route(&f, &now, "201").0), ["201"]);
    let f = Features::new([user("201", |u| u.call_waiting = false)], []);
    assert_eq!(route(&f, &now, "201").0, refuse(486, "busy"));
}

#[test]
fn a_collective_group_rings_every_available_member() {
    let mut g = group(HuntMode::Collective);
    g.members.push("204".into());
    let f = Features::new([user("203", |u| u.dnd = true)], [g]);
    let mut now = all_registered();
    now.in_call.insert("202".into());
    let (step, _) = route(&f, &now, "300");
    // 202 is in a call and 203 on DND: skipped.
    assert_eq!(rung(&step), ["201", "204"]);
    let Step::Ring(r) = step else { unreachable!() };
    assert_eq!(r.label.as_deref(), Some("sales"));
}

#[test]
fn a_sequential_group_offers_members_one_by_one_and_goes_round() {
    let f = Features::new([], [group(HuntMode::Sequential)]);
    let now = all_registered();
    let dir = directory();
    let r = Router {
        directory: &dir,
        features: &f,
        facts: &now,
        caller: "206",
    };
    let mut visited = Vec::new();
    let mut step = r.dial("300", &mut visited);
    let mut order = Vec::new();
    for _ in 0..4 {
        let Step::Ring(ring) = step else { panic!() };
        order.push(ring.extensions[0].clone());
        assert_eq!(ring.timeout, Some(Duration::from_secs(15)));
        step = r.follow(&ring.on_no_answer, &mut visited).unwrap();
    }
    assert_eq!(order, ["201", "202", "203", "201"]);
}

#[test]
fn rotary_starts_after_the_last_member_offered_and_longest_waiting_by_idle_time() {
    let f = Features::new([], [group(HuntMode::Rotary)]);
    let mut now = all_registered();
    now.rotary = 2;
    assert_eq!(rung(&route(&f, &now, "300").0), ["203"]);
    let f = Features::new([], [group(HuntMode::LongestWaiting)]);
    let t = Instant::now();
    now.idle.insert("201".into(), t + Duration::from_secs(5));
    now.idle.insert("203".into(), t);
    // 202 never had a call: idle longest; then 203, then 201.
    assert_eq!(rung(&route(&f, &now, "300").0), ["202"]);
    now.in_call.insert("202".into());
    assert_eq!(rung(&route(&f, &now, "300").0), ["203"]);
}

#[test]
fn all_members_busy_overflows_or_is_busy_and_night_service_diverts() {
    let mut g = group(HuntMode::Collective);
    let mut now = all_registered();
    for m in ["201", "202", "203"] {
        now.in_call.insert(m.into());
    }
    let f = Features::new([], [g.clone()]);
    assert_eq!(route(&f, &now, "300").0, refuse(486, "all members busy"));
    g.overflow = Some((Duration::from_secs(30), "205".into()));
    let f = Features::new([], [g.clone()]);
    assert_eq!(rung(&route(&f, &now, "300").0), ["205"]);
    g.in_service = false;
    g.night_service_to = Some("204".into());
    let f = Features::new([], [g]);
    assert_eq!(rung(&route(&f, &all_registered(), "300").0), ["204"]);
}

#[test]
fn a_group_overflowing_to_itself_is_cut() {
    let mut g = group(HuntMode::Collective);
    g.overflow = Some((Duration::from_secs(30), "300".into()));
    let mut now = all_registered();
    for m in ["201", "202", "203"] {
        now.in_call.insert(m.into());
    }
    let f = Features::new([], [g]);
    assert_eq!(route(&f, &now, "300").0, refuse(482, "forwarding loop"));
}
