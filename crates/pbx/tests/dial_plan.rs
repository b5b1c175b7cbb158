//! The dial plan and users' rights on the core, as whole stories in simulated time: barred
//! call classes refused with the reason in the call record, emergency numbers that need no
//! right, short codes under the internal right, forwards and blind transfers checked
//! against the rights of the user who makes them, and a hunt group following its time
//! profile to night service by the local time the shell gives.

mod common;

use common::calls::*;
use common::Net;
use pbx::time_profile::{DateWindow, Weekday, WeeklyWindow};
use pbx::{
    CallRecord, CallRight, CivilDate, DialPlan, Features, HuntGroupEntry, HuntMode, LocalTime,
    PbxEvent, PbxSettings, Peer, ShortCode, ShortCodeFeature, ShortCodes, TimeProfile, UserEntry,
};
use sip::{Message, Method, Request, Response};
use std::time::Duration;

const EXTENSIONS: &[&str] = &["201", "202", "203", "204"];
const ABROAD: &str = "0033140000000";
const NATIONAL: &str = "02079460000";
const NO_ROUTE: &str = "no route to an outside line: no trunks configured";

/// A core with extensions 201..204, these features, and phones registered for `phones`
/// (extension, port); the caller is 201.
fn office(features: Features, phones: &[(&str, u16)]) -> (Net, Caller, Vec<Peer>) {
    let mut net = Net::with_extensions(PbxSettings::default(), EXTENSIONS);
    net.pbx.set_features(features);
    let peers = phones
        .iter()
        .map(|(ext, port)| register_at(&mut net, ext, *port))
        .collect();
    (net, caller_201(), peers)
}

fn user(ext: &str, rights: &[CallRight], f: impl FnOnce(&mut UserEntry)) -> UserEntry {
    let mut u = UserEntry::new(&format!("u{ext}"), ext);
    u.rights = rights.to_vec();
    f(&mut u);
    u
}

/// 201 dials `number` (a fresh call) and is refused: the final response and the record.
fn refused(net: &mut Net, a: &mut Caller, number: &str) -> (Response, CallRecord) {
    a.phone.call_id.push('n');
    let out = a.call(net, number);
    let finals: Vec<Response> = responses_to(&out, a.phone.peer)
        .into_iter()
        .filter(|r| r.status.0 >= 200)
        .collect();
    assert_eq!(finals.len(), 1, "one final answer to {number}");
    let record = call_ended(net).expect("a call record");
    (finals.into_iter().next().unwrap(), record)
}

fn invites_to(out: &[(Peer, Message)], peer: Peer) -> Vec<Request> {
    requests_to(out, peer)
        .into_iter()
        .filter(|r| r.method == Method::Invite)
        .collect()
}

#[test]
fn a_barred_class_is_refused_with_403_and_the_reason_in_the_record() {
    let features = Features::new(
        [user(
            "201",
            &[CallRight::Internal, CallRight::National],
            |_| {},
        )],
        [],
    );
    let (mut net, mut a, _) = office(features, &[]);
    let (r, record) = refused(&mut net, &mut a, ABROAD);
    assert_eq!(r.status.0, 403);
    assert_eq!(
        r.reason,
        "Forbidden (call class international barred for user u201)"
    );
    assert_eq!(
        (record.callee.as_str(), record.status, record.cause.as_str()),
        (ABROAD, 403, "call class international barred for user u201")
    );
    // A class the user holds gets as far as there is a way: no trunks yet.
    let (r, record) = refused(&mut net, &mut a, NATIONAL);
    assert_eq!(
        (r.status.0, r.reason.as_str()),
        (503, &*format!("Service Unavailable ({NO_ROUTE})"))
    );
    assert_eq!((record.status, record.cause.as_str()), (503, NO_ROUTE));
}

#[test]
fn emergency_numbers_get_through_without_any_right() {
    let plan = DialPlan {
        external_prefix: Some("9".into()),
        ..DialPlan::default()
    };
    let features = Features::new([user("201", &[], |_| {})], []).with_dial_plan(plan);
    let (mut net, mut a, _) = office(features, &[]);
    for (dialled, number) in [("112", "112"), ("999", "999"), ("9112", "112")] {
        let (r, record) = refused(&mut net, &mut a, dialled);
        let cause = format!("emergency number {number}: {NO_ROUTE}");
        assert_eq!(
            r.status.0, 503,
            "{dialled}: past the rights, to the missing trunk"
        );
        assert_eq!(record.cause, cause);
    }
    // Anything else is barred for this user.
    let (r, _) = refused(&mut net, &mut a, "202");
    assert_eq!(r.status.0, 403);
    // An extension no user is on may make emergency calls too.
    let (mut net, mut a, _) = office(Features::default(), &[]);
    let (r, record) = refused(&mut net, &mut a, "999");
    assert_eq!((r.status.0, record.status), (503, 503));
    let (r, record) = refused(&mut net, &mut a, NATIONAL);
    assert_eq!(r.status.0, 403);
    assert_eq!(
        record.cause,
        "call class national barred for extension 201 (no user)"
    );
}

#[test]
fn short_codes_need_the_internal_right_but_hot_desk_login_does_not() {
    let codes = ShortCodes::new([
        ShortCode::new("*08", ShortCodeFeature::DndOn).unwrap(),
        ShortCode::new("*35*N#", ShortCodeFeature::HotDeskLogin).unwrap(),
    ]);
    let features = Features::new([user("201", &[], |_| {})], []).with_short_codes(codes);
    let (mut net, mut a, _) = office(features, &[]);
    let (r, record) = refused(&mut net, &mut a, "*08");
    assert_eq!(r.status.0, 403);
    assert_eq!(record.cause, "call class internal barred for user u201");
    let changed = std::iter::from_fn(|| net.pbx.poll_event())
        .any(|e| matches!(e, PbxEvent::FeatureChanged { .. }));
    assert!(!changed, "the barred short code changed nothing");
    // Hot-desk login is let through the rights (and refused for its own reason: there is
    // no user 202 to log in as, said as for a wrong code).
    a.phone.call_id.push('h');
    let out = a.call(&mut net, "*35*202*1234%23");
    let r = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&r), [403]);
    assert!(
        r[0].reason.contains("wrong number or login code"),
        "{}",
        r[0].reason
    );
}

#[test]
fn a_forward_outside_the_forwarding_users_rights_ends_in_one_refusal() {
    let internal_only = [CallRight::Internal];
    let features = Features::new(
        [
            user("202", &internal_only, |u| {
                u.forward.unconditional = Some(ABROAD.into())
            }),
            user("203", &internal_only, |u| {
                u.forward.busy = Some(ABROAD.into())
            }),
        ],
        [],
    );
    let (mut net, mut a, p) = office(features, &[("202", 5202), ("203", 5203)]);
    // 201 may call abroad, but the forward is 202's: barred before anything rings.
    a.phone.call_id.push('u');
    let out = a.call(&mut net, "202");
    assert!(invites_to(&out, p[0]).is_empty());
    let finals = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&finals), [403]);
    assert_eq!(
        call_ended(&mut net).expect("record").cause,
        "call class international barred for user u202"
    );

    // 203 is busy; its busy forward is barred: the caller is refused once, no new stage.
    a.phone.call_id.push('b');
    let out = a.call(&mut net, "203");
    let to_203 = invites_to(&out, p[1]).remove(0);
    let out = net.deliver(p[1], &answer(&to_203, 486, "m203", None));
    let finals: Vec<Response> = responses_to(&out, a.phone.peer)
        .into_iter()
        .filter(|r| r.status.0 >= 200)
        .collect();
    assert_eq!(statuses(&finals), [403]);
    assert_eq!(
        finals[0].reason,
        "Forbidden (call class international barred for user u203)"
    );
    assert!(invites_to(&out, p[0]).is_empty() && invites_to(&out, p[1]).is_empty());
    net.deliver(a.phone.peer, a.ack_text("x").as_bytes());
    let record = call_ended(&mut net).expect("record");
    assert_eq!(
        (record.status, record.cause.as_str()),
        (403, "call class international barred for user u203")
    );
    assert_eq!(net.pbx.call_count(), 0);
}

#[test]
fn a_blind_transfer_is_checked_against_the_transferring_users_rights() {
    let features = Features::new([user("202", &[CallRight::Internal], |_| {})], []);
    let (mut net, mut a, p) = office(features, &[("202", 5202)]);
    let out = a.call(&mut net, "202");
    let inv = invites_to(&out, p[0]).remove(0);
    let out = net.deliver(p[0], &answer(&inv, 200, "m202", Some(SDP_B)));
    let a_tag = to_tag(&responses_to(&out, a.phone.peer)[0]);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());

    let refer_to = |target: &str| format!("Refer-To: <sip:{target}@127.0.0.1>\r\n");
    let refer = callee_request(&inv, 5202, "m202", "REFER", 2, &refer_to(ABROAD));
    let out = net.deliver(p[0], &refer);
    assert_eq!(statuses(&responses_to(&out, p[0])), [202]);
    let frags: Vec<String> = requests_to(&out, p[0])
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).trim().to_string())
        .collect();
    assert_eq!(frags, ["SIP/2.0 100 Trying", "SIP/2.0 403 Forbidden"]);
    // The call goes on with the referrer.
    assert_eq!(net.pbx.active_calls(), [("201".into(), "202".into(), true)]);

    // An internal target is within 202's rights.
    let refer = callee_request(&inv, 5202, "m202", "REFER", 3, &refer_to("299"));
    let out = net.deliver(p[0], &refer);
    let frags: Vec<String> = requests_to(&out, p[0])
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).trim().to_string())
        .collect();
    assert_eq!(frags, ["SIP/2.0 100 Trying", "SIP/2.0 404 Not Found"]);
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
            date: CivilDate::new(2026, 12, 25).unwrap(),
            start: 0,
            end: 24 * 60,
            active: false,
        }],
    }
}

fn local(y: u16, mo: u8, d: u8, h: u8, mi: u8) -> LocalTime {
    LocalTime::new(CivilDate::new(y, mo, d).unwrap(), h, mi).unwrap()
}

#[test]
fn a_hunt_group_follows_its_time_profile_by_the_local_time_given() {
    let group = HuntGroupEntry {
        name: "sales".into(),
        number: "300".into(),
        mode: HuntMode::Collective,
        members: vec!["202".into()],
        no_answer_after: Duration::from_secs(15),
        overflow: None,
        night_service_to: Some("203".into()),
        in_service: true,
        queue_limit: 0,
        voicemail_after: None,
        time_profile: Some(office_hours()),
    };
    let (mut net, mut a, p) = office(
        Features::new([], [group.clone()]),
        &[("202", 5202), ("203", 5203)],
    );
    let rung = |net: &mut Net, a: &mut Caller, at: LocalTime| {
        net.pbx.set_local_time(at);
        a.phone.call_id.push('t');
        let out = a.call(net, "300");
        (invites_to(&out, p[0]).len(), invites_to(&out, p[1]).len())
    };
    // Wednesday 10:00: the member rings; 20:00 and Christmas Day: the night service.
    assert_eq!(rung(&mut net, &mut a, local(2026, 12, 23, 10, 0)), (1, 0));
    assert_eq!(rung(&mut net, &mut a, local(2026, 12, 23, 20, 0)), (0, 1));
    assert_eq!(rung(&mut net, &mut a, local(2026, 12, 25, 10, 0)), (0, 1));
    assert_eq!(rung(&mut net, &mut a, local(2026, 12, 28, 9, 0)), (1, 0));

    // Without a night service number the caller is told why.
    let group = HuntGroupEntry {
        night_service_to: None,
        ..group
    };
    net.pbx.set_features(Features::new([], [group]));
    net.pbx.set_local_time(local(2026, 12, 26, 11, 0));
    while net.pbx.poll_event().is_some() {}
    let (r, record) = refused(&mut net, &mut a, "300");
    assert_eq!(r.status.0, 480);
    assert_eq!(
        record.cause,
        "night service: hunt group sales is outside time profile office-hours"
    );
}
