//! Hunt-group mailboxes, in simulated time: a call the group does not answer in its
//! mailbox time, a caller who finds every member busy and no room to wait, a queued
//! caller whose time runs out, and a group in night service without a destination all
//! leave a message in the group's mailbox (a `VoicemailCall` for the group's number);
//! an overflow due first still wins; `*18*N#` collects any mailbox with its PIN.

mod common;

use common::calls::*;
use common::Net;
use pbx::{
    Features, HuntGroupEntry, HuntMode, PbxSettings, Peer, ShortCode, ShortCodeFeature, ShortCodes,
    UserEntry, VoicemailReason,
};
use sip::Request;
use std::time::Duration;

/// Hunt group "sales" on 300 with `members`, a mailbox taking calls after 30 s.
fn sales(mode: HuntMode, members: &[&str], f: impl FnOnce(&mut HuntGroupEntry)) -> HuntGroupEntry {
    let mut g = HuntGroupEntry {
        name: "sales".into(),
        number: "300".into(),
        mode,
        members: members.iter().map(|m| m.to_string()).collect(),
        no_answer_after: Duration::from_secs(10),
        overflow: None,
        night_service_to: None,
        in_service: true,
        queue_limit: 0,
        voicemail_after: Some(Duration::from_secs(30)),
        time_profile: None,
    };
    f(&mut g);
    g
}

fn user(ext: &str) -> UserEntry {
    let mut u = UserEntry::new(&format!("u{ext}"), ext);
    u.voicemail = true;
    u
}

/// 201..205, the group, the collect codes; phones for 202 and 203.
fn office(group: HuntGroupEntry) -> (Net, Caller, Peer, Peer) {
    let mut net =
        Net::with_extensions(PbxSettings::default(), &["201", "202", "203", "204", "205"]);
    let codes = ShortCodes::new([
        ShortCode::new("*17", ShortCodeFeature::VoicemailCollect).unwrap(),
        ShortCode::new("*18*N#", ShortCodeFeature::VoicemailCollectMailbox).unwrap(),
    ]);
    net.pbx
        .set_features(Features::new([user("202"), user("203")], [group]).with_short_codes(codes));
    net.pbx.set_media_relay(Box::new(ScriptedRelay::default()));
    let p202 = register_at(&mut net, "202", 5202);
    let p203 = register_at(&mut net, "203", 5203);
    (net, caller_201(), p202, p203)
}

/// `from` calls `number`, answered by the phone at `callee` with To tag `tag`.
fn talking(net: &mut Net, from: &mut Caller, number: &str, callee: Peer, tag: &str) -> Request {
    let out = from.call(net, number);
    let inv = invites_to(&out, callee).remove(0);
    let out = net.deliver(callee, &answer(&inv, 200, tag, Some(SDP_B)));
    let from_tag = to_tag(&responses_to(&out, from.phone.peer)[0]);
    net.deliver(from.phone.peer, from.ack_text(&from_tag).as_bytes());
    inv
}

#[test]
fn a_group_call_unanswered_in_the_mailbox_time_leaves_a_message_for_the_group() {
    for mode in [HuntMode::Collective, HuntMode::Sequential] {
        let (mut net, mut a, p202, p203) = office(sales(mode, &["202", "203"], |_| {}));
        let out = a.call(&mut net, "300");
        let rung: Vec<_> = [p202, p203]
            .into_iter()
            .flat_map(|p| invites_to(&out, p).into_iter().map(move |i| (p, i)))
            .collect();
        assert!(!rung.is_empty(), "{mode:?}: a member rings");
        for (p, inv) in &rung {
            net.deliver(*p, &answer(inv, 180, "ringing", None));
        }
        // Nobody answers: after 30 s the ringing phones get CANCEL and the group's
        // mailbox answers the caller (the sequential group has moved on to 203 at 10 s
        // and back to 202 at 20 s by then).
        let out = net.run_for(Duration::from_millis(29_000));
        assert!(
            finals(&out, a.phone.peer).is_empty(),
            "{mode:?}: still ringing"
        );
        assert!(voicemail_calls(&mut net).is_empty());
        let out = net.run_for(Duration::from_millis(1_100));
        if mode == HuntMode::Collective {
            assert_eq!(cancels_to(&out, p202) + cancels_to(&out, p203), 2);
        }
        assert_eq!(statuses(&finals(&out, a.phone.peer)), [200], "{mode:?}");
        let vm = voicemail_calls(&mut net);
        assert_eq!(vm.len(), 1, "{mode:?}");
        assert_eq!(
            (vm[0].mailbox.as_str(), vm[0].reason, vm[0].caller.as_str()),
            ("300", VoicemailReason::NoAnswer, "201"),
            "{mode:?}"
        );
    }
}

#[test]
fn an_overflow_due_first_wins_and_one_due_later_never_comes() {
    // Overflow at 20 s, before the mailbox's 30 s: 204 rings.
    let (mut net, mut a, _, _) = office(sales(HuntMode::Collective, &["202", "203"], |g| {
        g.overflow = Some((Duration::from_secs(20), "204".into()));
    }));
    let p204 = register_at(&mut net, "204", 5204);
    a.call(&mut net, "300");
    let out = net.run_for(Duration::from_millis(20_100));
    assert_eq!(invites_to(&out, p204).len(), 1, "the overflow rings");
    assert!(voicemail_calls(&mut net).is_empty());

    // Overflow at 60 s, after the mailbox's 30 s: the mailbox takes the call.
    let (mut net, mut a, _, _) = office(sales(HuntMode::Collective, &["202", "203"], |g| {
        g.overflow = Some((Duration::from_secs(60), "204".into()));
    }));
    let p204 = register_at(&mut net, "204", 5204);
    a.call(&mut net, "300");
    let out = net.run_for(Duration::from_millis(30_100));
    assert!(invites_to(&out, p204).is_empty());
    let vm = voicemail_calls(&mut net);
    assert_eq!(vm[0].mailbox, "300");
}

#[test]
fn every_member_busy_and_no_queue_goes_to_the_mailbox_at_once() {
    let (mut net, _, p202, p203) = office(sales(HuntMode::Sequential, &["202", "203"], |_| {}));
    let mut d = caller_on("204", 5204);
    talking(&mut net, &mut d, "202", p202, "m202");
    let mut e = caller_on("205", 5205);
    talking(&mut net, &mut e, "203", p203, "m203");
    let mut a = caller_201();
    let out = a.call(&mut net, "300");
    assert_eq!(statuses(&finals(&out, a.phone.peer)), [200]);
    let vm = voicemail_calls(&mut net);
    assert_eq!(
        (vm[0].mailbox.as_str(), vm[0].reason),
        ("300", VoicemailReason::Busy)
    );
}

#[test]
fn every_member_refusing_a_collective_call_goes_to_the_mailbox() {
    let (mut net, mut a, p202, p203) = office(sales(HuntMode::Collective, &["202", "203"], |_| {}));
    let out = a.call(&mut net, "300");
    let (i202, i203) = (
        invites_to(&out, p202).remove(0),
        invites_to(&out, p203).remove(0),
    );
    net.deliver(p202, &answer(&i202, 486, "m202", None));
    let out = net.deliver(p203, &answer(&i203, 486, "m203", None));
    assert_eq!(statuses(&finals(&out, a.phone.peer)), [200]);
    let vm = voicemail_calls(&mut net);
    assert_eq!(
        (vm[0].mailbox.as_str(), vm[0].reason),
        ("300", VoicemailReason::Busy)
    );
}

#[test]
fn a_queued_caller_goes_to_the_mailbox_when_its_time_is_up() {
    let (mut net, _, p202, _) = office(sales(HuntMode::Sequential, &["202"], |g| {
        g.queue_limit = 5;
    }));
    let mut d = caller_on("204", 5204);
    talking(&mut net, &mut d, "202", p202, "m202");
    let mut a = caller_201();
    let out = a.call(&mut net, "300");
    assert_eq!(
        statuses(&finals(&out, a.phone.peer)),
        [200],
        "answered to wait"
    );
    assert!(
        voicemail_calls(&mut net).is_empty(),
        "waiting, not in the mailbox"
    );
    net.run_for(Duration::from_millis(29_000));
    assert!(voicemail_calls(&mut net).is_empty());
    net.run_for(Duration::from_millis(2_100));
    let vm = voicemail_calls(&mut net);
    assert_eq!(vm.len(), 1);
    assert_eq!(
        (vm[0].mailbox.as_str(), vm[0].reason),
        ("300", VoicemailReason::NoAnswer)
    );
    assert_eq!(
        net.pbx
            .active_calls()
            .iter()
            .filter(|c| c.1 == "voicemail 300")
            .count(),
        1,
        "{:?}",
        net.pbx.active_calls()
    );
}

#[test]
fn night_service_without_a_destination_goes_to_the_mailbox() {
    let (mut net, mut a, _, _) = office(sales(HuntMode::Collective, &["202", "203"], |g| {
        g.in_service = false;
    }));
    let out = a.call(&mut net, "300");
    assert_eq!(statuses(&finals(&out, a.phone.peer)), [200]);
    let vm = voicemail_calls(&mut net);
    assert_eq!(vm[0].mailbox, "300");

    // With a destination, the destination comes first.
    let (mut net, mut a, _, _) = office(sales(HuntMode::Collective, &["202", "203"], |g| {
        g.in_service = false;
        g.night_service_to = Some("204".into());
    }));
    let p204 = register_at(&mut net, "204", 5204);
    let out = a.call(&mut net, "300");
    assert_eq!(invites_to(&out, p204).len(), 1);
    assert!(voicemail_calls(&mut net).is_empty());
}

#[test]
fn a_group_without_a_mailbox_still_refuses_busy() {
    let (mut net, mut a, p202, p203) = office(sales(HuntMode::Collective, &["202", "203"], |g| {
        g.voicemail_after = None;
    }));
    let out = a.call(&mut net, "300");
    let (i202, i203) = (
        invites_to(&out, p202).remove(0),
        invites_to(&out, p203).remove(0),
    );
    net.deliver(p202, &answer(&i202, 486, "m202", None));
    let out = net.deliver(p203, &answer(&i203, 486, "m203", None));
    assert_eq!(statuses(&finals(&out, a.phone.peer)), [486]);
    assert!(voicemail_calls(&mut net).is_empty());
}

#[test]
fn any_mailbox_is_collected_with_its_pin_by_the_mailbox_code() {
    let (mut net, _, _, _) = office(sales(HuntMode::Collective, &["202", "203"], |_| {}));
    let mut b = caller_on("202", 5302);
    // The group's mailbox, from a member's phone: the PIN is asked (never trusted).
    let out = b.call(&mut net, "*18*300%23");
    assert_eq!(statuses(&finals(&out, b.phone.peer)), [200]);
    let vm = voicemail_calls(&mut net);
    assert_eq!(
        (vm[0].mailbox.as_str(), vm[0].reason, vm[0].trusted),
        ("300", VoicemailReason::Collect, false)
    );
    // Another user's mailbox, from 202: asked for 203's PIN.
    b.phone.call_id.push('b');
    b.call(&mut net, "*18*203%23");
    let vm = voicemail_calls(&mut net);
    assert_eq!((vm[0].mailbox.as_str(), vm[0].trusted), ("203", false));
    // The own mailbox by number, from the own trusted phone: straight in.
    b.phone.call_id.push('c');
    b.call(&mut net, "*18*202%23");
    let vm = voicemail_calls(&mut net);
    assert_eq!((vm[0].mailbox.as_str(), vm[0].trusted), ("202", true));
    // A number without a mailbox: 404, and no voicemail call.
    b.phone.call_id.push('d');
    let out = b.call(&mut net, "*18*204%23");
    assert_eq!(statuses(&finals(&out, b.phone.peer)), [404]);
    assert!(voicemail_calls(&mut net).is_empty());
}
