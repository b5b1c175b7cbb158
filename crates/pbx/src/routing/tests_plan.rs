//! The dial plan in routing: rights checked against whoever dials (caller, forwarding
//! user, the system), emergency numbers always allowed, outside calls with no route yet,
//! and hunt groups following their time profiles.

use super::tests::{all_registered, group, route, rung, user, Now};
use super::*;
use crate::dialplan::{CallRight, DialPlan};
use crate::features::UserEntry;
use crate::time_profile::{CivilDate, DateWindow, TimeProfile, Weekday, WeeklyWindow};

const ABROAD: &str = "0033140000000";
const NATIONAL: &str = "02079460000";

/// The caller in `route` is 206; here it is a user with these rights.
fn caller_with(rights: &[CallRight]) -> UserEntry {
    user("206", |u| u.rights = rights.to_vec())
}

fn no_route() -> Step {
    refuse(503, NO_OUTSIDE_ROUTE)
}

#[test]
fn a_class_outside_the_callers_rights_is_refused_with_the_reason() {
    let f = Features::new(
        [caller_with(&[CallRight::Internal, CallRight::National])],
        [],
    );
    let now = all_registered();
    assert_eq!(
        route(&f, &now, ABROAD).0,
        refuse(403, "call class international barred for user u206")
    );
    assert_eq!(
        route(&f, &now, "09098790000").0,
        refuse(403, "call class premium barred for user u206")
    );
    assert_eq!(
        route(&f, &now, "123456").0,
        refuse(403, "call class local barred for user u206")
    );
    // Allowed outside calls find no way out yet: said so, not faked.
    assert_eq!(route(&f, &now, NATIONAL).0, no_route());
    assert_eq!(rung(&route(&f, &now, "201").0), ["201"]);
    // Unassigned numbers stay 404 whatever the rights.
    assert_eq!(route(&f, &now, "299").0, refuse(404, "unassigned number"));
}

#[test]
fn internal_calls_need_the_internal_right_too() {
    let f = Features::new([caller_with(&[CallRight::National])], []);
    let now = all_registered();
    assert_eq!(
        route(&f, &now, "201").0,
        refuse(403, "call class internal barred for user u206")
    );
    let f = Features::new(
        [caller_with(&[CallRight::National])],
        [group(HuntMode::Collective)],
    );
    assert_eq!(
        route(&f, &now, "300").0,
        refuse(403, "call class internal barred for user u206")
    );
    assert_eq!(route(&f, &now, NATIONAL).0, no_route());
}

#[test]
fn emergency_numbers_need_no_right_at_all() {
    let nobody = Features::new([caller_with(&[])], []);
    let no_user = Features::default();
    for f in [&nobody, &no_user] {
        for number in ["112", "999", "911"] {
            assert_eq!(
                route(f, &all_registered(), number).0,
                Step::Refuse {
                    status: 503,
                    cause: format!("emergency number {number}: {NO_OUTSIDE_ROUTE}"),
                },
            );
        }
    }
    assert_eq!(
        route(&nobody, &all_registered(), "201").0,
        refuse(403, "call class internal barred for user u206")
    );
}

#[test]
fn an_extension_without_a_user_may_call_internal_numbers_only() {
    let f = Features::default();
    let now = all_registered();
    assert_eq!(rung(&route(&f, &now, "201").0), ["201"]);
    assert_eq!(
        route(&f, &now, NATIONAL).0,
        refuse(
            403,
            "call class national barred for extension 206 (no user)"
        )
    );
}

#[test]
fn a_forward_is_checked_against_the_forwarding_users_rights() {
    // 201 may not call abroad and forwards there; the caller may: still barred.
    let f = Features::new(
        [
            caller_with(&CallRight::DEFAULT),
            user("201", |u| {
                u.rights = vec![CallRight::Internal];
                u.forward.unconditional = Some(ABROAD.into());
            }),
        ],
        [],
    );
    let (step, visited) = route(&f, &all_registered(), "201");
    assert_eq!(
        step,
        refuse(403, "call class international barred for user u201")
    );
    assert_eq!(visited, ["201", ABROAD], "one refusal, no storm");

    // 201 may; the caller may make internal calls only: the forward is 201's to make.
    let f = Features::new(
        [
            caller_with(&[CallRight::Internal]),
            user("201", |u| u.forward.unconditional = Some(ABROAD.into())),
        ],
        [],
    );
    assert_eq!(route(&f, &all_registered(), "201").0, no_route());
}

#[test]
fn busy_and_no_answer_forwards_carry_whose_they_are() {
    let f = Features::new(
        [user("201", |u| {
            u.rights = vec![CallRight::Internal];
            u.forward.no_answer = Some(ABROAD.into());
            u.forward.busy = Some("202".into());
        })],
        [],
    );
    let now = all_registered();
    let Step::Ring(r) = route(&f, &now, "201").0 else {
        panic!("201 rings first")
    };
    let dir = super::tests::directory();
    let router = Router {
        directory: &dir,
        features: &f,
        facts: &now,
        caller: "206",
    };
    let mut visited = vec!["201".to_string()];
    assert_eq!(
        router.follow(&r.on_no_answer, &mut visited),
        Some(refuse(403, "call class international barred for user u201"))
    );
    let on_busy = router.follow(&r.on_busy, &mut visited).expect("a step");
    assert_eq!(rung(&on_busy), ["202"]);
    // Not registered: the no-answer forward is taken at once, and barred at once.
    let mut away = all_registered();
    away.registered.remove("201");
    assert_eq!(
        route(&f, &away, "201").0,
        refuse(403, "call class international barred for user u201")
    );
}

#[test]
fn the_administrators_destinations_need_no_right() {
    // An extension without a user calls a group whose night service is an outside number.
    let mut g = group(HuntMode::Collective);
    g.in_service = false;
    g.night_service_to = Some(NATIONAL.into());
    let f = Features::new([], [g]);
    assert_eq!(route(&f, &all_registered(), "300").0, no_route());
}

#[test]
fn a_short_code_is_no_destination() {
    let codes = crate::shortcodes::ShortCodes::new([crate::shortcodes::ShortCode::new(
        "*17",
        crate::shortcodes::ShortCodeFeature::VoicemailCollect,
    )
    .expect("code")]);
    let f = Features::new(
        [user("201", |u| {
            u.forward.unconditional = Some("*17".into())
        })],
        [],
    )
    .with_short_codes(codes);
    assert_eq!(
        route(&f, &all_registered(), "201").0,
        refuse(404, "short code *17 is not a call destination")
    );
}

#[test]
fn the_outside_line_prefix_comes_from_the_plan() {
    let plan = DialPlan {
        external_prefix: Some("9".into()),
        ..DialPlan::default()
    };
    let f = Features::new([caller_with(&[CallRight::Internal])], []).with_dial_plan(plan);
    let now = all_registered();
    assert_eq!(
        route(&f, &now, "900331400000").0,
        refuse(403, "call class international barred for user u206")
    );
    assert_eq!(route(&f, &now, ABROAD).0, refuse(404, "unassigned number"));
    assert_eq!(
        route(&f, &now, "9112").0,
        Step::Refuse {
            status: 503,
            cause: format!("emergency number 112: {NO_OUTSIDE_ROUTE}"),
        },
    );
}

fn office_hours() -> TimeProfile {
    TimeProfile {
        name: "office-hours".into(),
        weekly: vec![WeeklyWindow {
            days: Weekday::ALL[..5].to_vec(),
            start: 9 * 60,
            end: 17 * 60,
        }],
        dates: vec![DateWindow {
            date: CivilDate::new(2026, 12, 25).expect("date"),
            start: 0,
            end: 24 * 60,
            active: false,
        }],
    }
}

fn at(y: u16, mo: u8, d: u8, h: u8, mi: u8) -> Now {
    Now {
        local: LocalTime::new(CivilDate::new(y, mo, d).expect("date"), h, mi),
        ..all_registered()
    }
}

#[test]
fn a_group_follows_its_time_profile_to_night_service() {
    let mut g = group(HuntMode::Collective);
    g.time_profile = Some(office_hours());
    g.night_service_to = Some("204".into());
    let f = Features::new([], [g.clone()]);
    // Wednesday 2026-12-23, 10:00: in service.
    assert_eq!(
        rung(&route(&f, &at(2026, 12, 23, 10, 0), "300").0),
        ["201", "202", "203"]
    );
    // The same day at 17:00 (the end is excluded), and a Saturday: night service.
    assert_eq!(rung(&route(&f, &at(2026, 12, 23, 17, 0), "300").0), ["204"]);
    assert_eq!(rung(&route(&f, &at(2026, 12, 26, 10, 0), "300").0), ["204"]);
    // A Friday that is a holiday by date.
    assert_eq!(rung(&route(&f, &at(2026, 12, 25, 10, 0), "300").0), ["204"]);
    // No local time given yet: in service rather than everything to night service.
    assert_eq!(
        rung(&route(&f, &all_registered(), "300").0),
        ["201", "202", "203"]
    );

    // Without a night-service number the caller hears why.
    g.night_service_to = None;
    let f = Features::new([], [g.clone()]);
    assert_eq!(
        route(&f, &at(2026, 12, 23, 20, 0), "300").0,
        refuse(
            480,
            "night service: hunt group sales is outside time profile office-hours"
        )
    );
    // Night service by hand wins inside the profile's hours.
    g.in_service = false;
    let f = Features::new([], [g]);
    assert_eq!(
        route(&f, &at(2026, 12, 23, 10, 0), "300").0,
        refuse(480, "night service: hunt group sales is out of service")
    );
}
