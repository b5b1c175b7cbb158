//! Calls that reach a mailbox, in simulated time: the PBX answers the caller on the relay
//! and hands the call to the shell (a `VoicemailCall` event); the shell ends it or routes
//! it on.

mod common;

use common::calls::*;
use common::Net;
use pbx::{Features, PbxSettings, Peer, UserEntry, VoicemailReason};
use sip::{Method, Request};
use std::time::Duration;

fn user(ext: &str, f: impl FnOnce(&mut UserEntry)) -> UserEntry {
    let mut u = UserEntry::new(&format!("u{ext}"), ext);
    u.voicemail = true;
    f(&mut u);
    u
}

/// 201..204, users with mailboxes as `users` says, `*17` to collect; phones for `phones`.
fn office(users: Vec<UserEntry>, phones: &[(&str, u16)]) -> (Net, Caller, Vec<Peer>) {
    let mut net = Net::with_extensions(PbxSettings::default(), &["201", "202", "203", "204"]);
    net.pbx.set_features(
        Features::new(users, []).with_short_codes(pbx::ShortCodes::new([pbx::ShortCode::new(
            "*17",
            pbx::ShortCodeFeature::VoicemailCollect,
        )
        .unwrap()])),
    );
    net.pbx.set_media_relay(Box::new(ScriptedRelay::default()));
    let peers = phones
        .iter()
        .map(|(ext, port)| register_at(&mut net, ext, *port))
        .collect();
    (net, caller_201(), peers)
}

#[test]
fn an_unanswered_call_goes_to_the_mailbox_and_the_shell_ends_it() {
    let (mut net, mut a, p) = office(vec![user("202", |_| {})], &[("202", 5202)]);
    let out = a.call(&mut net, "202");
    let inv = invites_to(&out, p[0]).remove(0);
    net.deliver(p[0], &answer(&inv, 180, "m202", None));
    assert!(voicemail_calls(&mut net).is_empty());
    // 15 s without an answer: the phone gets CANCEL, the caller our 200 at the relay.
    let out = net.run_for(Duration::from_millis(15_100));
    assert_eq!(cancels_to(&out, p[0]), 1);
    let ok = finals(&out, a.phone.peer);
    assert_eq!(statuses(&ok), [200]);
    let body = String::from_utf8_lossy(&ok[0].body).to_string();
    assert!(body.contains("m=audio 10000 RTP/AVP 0 101"), "{body}");
    let a_tag = to_tag(&ok[0]);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
    let vm = voicemail_calls(&mut net);
    assert_eq!(vm.len(), 1);
    let vm = &vm[0];
    assert_eq!(
        (vm.mailbox.as_str(), vm.reason, vm.caller.as_str()),
        ("202", VoicemailReason::NoAnswer, "201")
    );
    assert_eq!((vm.payload_type, vm.dtmf_payload_type), (0, Some(101)));
    assert_eq!(vm.caller_name.as_deref(), Some("Alice"));
    assert_eq!(vm.relay_session, 7);
    assert!(!vm.trusted);
    assert_eq!(vm.call_id, a.phone.call_id);
    assert_eq!(
        net.pbx.active_calls(),
        [("201".into(), "voicemail 202".into(), true)]
    );
    // The dialogue is over: the caller gets BYE; the record says so.
    let at = net.now;
    assert!(net.pbx.end_voicemail_call(at, vm.call));
    let out = net.outputs();
    assert_eq!(requests_to(&out, a.phone.peer)[0].method, Method::Bye);
    let record = call_ended(&mut net).expect("a record");
    assert_eq!(
        (record.status, record.cause.as_str(), record.callee.as_str()),
        (200, "voicemail finished", "202")
    );
    assert!(!net.pbx.end_voicemail_call(at, vm.call), "only once");
}

#[test]
fn busy_and_do_not_disturb_go_to_the_mailbox_and_a_forward_comes_first() {
    let users = vec![
        user("202", |_| {}),
        user("203", |u| u.dnd = true),
        user("204", |u| u.forward.no_answer = Some("203".into())),
    ];
    let (mut net, mut a, p) = office(users, &[("202", 5202), ("204", 5204)]);
    // 202 answers busy.
    let out = a.call(&mut net, "202");
    let inv = invites_to(&out, p[0]).remove(0);
    let out = net.deliver(p[0], &answer(&inv, 486, "m202", None));
    assert_eq!(statuses(&finals(&out, a.phone.peer)), [200]);
    let vm = voicemail_calls(&mut net);
    assert_eq!(
        (vm[0].mailbox.as_str(), vm[0].reason),
        ("202", VoicemailReason::Busy)
    );
    // 203 is on DND: its mailbox answers at once.
    a.phone.call_id.push('b');
    let out = a.call(&mut net, "203");
    assert_eq!(statuses(&finals(&out, a.phone.peer)), [200]);
    let vm = voicemail_calls(&mut net);
    assert_eq!(
        (vm[0].mailbox.as_str(), vm[0].reason),
        ("203", VoicemailReason::DoNotDisturb)
    );
    // 204 forwards on no answer to 203 (on DND): 203's mailbox, not 204's.
    a.phone.call_id.push('c');
    a.call(&mut net, "204");
    net.run_for(Duration::from_millis(15_100));
    let vm = voicemail_calls(&mut net);
    assert_eq!(
        (vm[0].mailbox.as_str(), vm[0].reason),
        ("203", VoicemailReason::DoNotDisturb)
    );
}

#[test]
fn without_a_mailbox_an_unanswered_call_still_fails() {
    let (mut net, mut a, p) = office(vec![user("202", |u| u.voicemail = false)], &[("202", 5202)]);
    let out = a.call(&mut net, "202");
    let inv = invites_to(&out, p[0]).remove(0);
    net.deliver(p[0], &answer(&inv, 180, "m202", None));
    let out = net.run_for(Duration::from_secs(181));
    assert_eq!(finals(&out, a.phone.peer)[0].status.0, 480);
    assert!(voicemail_calls(&mut net).is_empty());
}

#[test]
fn the_voicemail_code_collects_the_callers_own_mailbox_from_its_trusted_phone() {
    let (mut net, mut a, _) = office(vec![user("201", |_| {})], &[]);
    let out = a.call(&mut net, "*17");
    let ok = finals(&out, a.phone.peer);
    assert_eq!(statuses(&ok), [200]);
    let vm = voicemail_calls(&mut net);
    assert_eq!(
        (vm[0].mailbox.as_str(), vm[0].reason, vm[0].trusted),
        ("201", VoicemailReason::Collect, true)
    );
    net.deliver(a.phone.peer, a.ack_text(&to_tag(&ok[0])).as_bytes());
    // The caller hangs up: the record, with the same Call-ID, tells the shell.
    net.deliver(a.phone.peer, a.in_dialog("BYE", &to_tag(&ok[0])).as_bytes());
    let record = call_ended(&mut net).expect("a record");
    assert_eq!(record.call_id, vm[0].call_id);
    assert_eq!(record.cause, "caller hung up");
    let at = net.now;
    assert!(!net.pbx.end_voicemail_call(at, vm[0].call));
}

#[test]
fn the_voicemail_code_without_a_mailbox_is_refused() {
    let (mut net, mut a, _) = office(vec![user("201", |u| u.voicemail = false)], &[]);
    let out = a.call(&mut net, "*17");
    let r = finals(&out, a.phone.peer);
    assert_eq!(statuses(&r), [404]);
    assert!(r[0].reason.contains("no mailbox"), "{}", r[0].reason);
}

#[test]
fn a_caller_in_voicemail_is_routed_on_to_the_operator() {
    let (mut net, mut a, p) = office(vec![user("202", |u| u.dnd = true)], &[("203", 5203)]);
    let out = a.call(&mut net, "202");
    let ok = finals(&out, a.phone.peer);
    net.deliver(a.phone.peer, a.ack_text(&to_tag(&ok[0])).as_bytes());
    let vm = voicemail_calls(&mut net).remove(0);
    let at = net.now;
    assert_eq!(net.pbx.route_voicemail_call(at, vm.call, "204"), Err(480));
    assert!(net.pbx.route_voicemail_call(at, vm.call, "203").is_ok());
    let out = net.outputs();
    let ring: Vec<Request> = invites_to(&out, p[0]);
    assert_eq!(ring.len(), 1);
    net.deliver(p[0], &answer(&ring[0], 200, "m203", Some(SDP_B)));
    assert_eq!(net.pbx.active_calls(), [("201".into(), "203".into(), true)]);
    assert!(
        !net.pbx.end_voicemail_call(at, vm.call),
        "no longer in voicemail"
    );
}

#[test]
fn a_blind_transfer_to_a_user_on_dnd_leaves_a_message() {
    let (mut net, mut a, p) = office(vec![user("203", |u| u.dnd = true)], &[("202", 5202)]);
    let (inv, _) = answered_call(&mut net, &mut a, p[0]);
    let refer = callee_request(
        &inv,
        5202,
        "m202",
        "REFER",
        2,
        "Refer-To: <sip:203@127.0.0.1>\r\n",
    );
    let out = net.deliver(p[0], &refer);
    assert_eq!(statuses(&responses_to(&out, p[0])), [202]);
    let notify = requests_to(&out, p[0]);
    assert_eq!(
        String::from_utf8_lossy(&notify[0].body).trim(),
        "SIP/2.0 200 OK"
    );
    let vm = voicemail_calls(&mut net);
    assert_eq!(
        (vm[0].mailbox.as_str(), vm[0].reason, vm[0].caller.as_str()),
        ("203", VoicemailReason::DoNotDisturb, "201")
    );
    assert!(
        requests_to(&out, a.phone.peer).is_empty(),
        "the caller was answered long ago"
    );
}
