//! Call recording and the voicemail channel pool, in simulated time: the core tells the
//! shell when a call's recording starts (on answer, for users and hunt groups that record
//! their calls, or on a party's record keys), pauses (hold, park), resumes and stops; and
//! callers who find no voicemail channel get a clear busy.

mod common;

use common::calls::*;
use common::Net;
use pbx::{
    ChannelLimits, Features, HuntGroupEntry, HuntMode, PbxEvent, PbxSettings, Peer, RecordingOwner,
    RecordingStarted, RecordingTrigger, Side, UserEntry,
};
use sip::{Method, Request};
use std::time::Duration;

fn user(ext: &str, name: &str) -> UserEntry {
    let mut u = UserEntry::new(&format!("u{ext}"), ext);
    u.full_name = name.into();
    u.voicemail = true;
    u
}

fn users() -> Vec<UserEntry> {
    vec![
        user("201", "Alice"),
        user("202", "Bob"),
        user("203", "Carol"),
        user("204", "Dave"),
    ]
}

fn codes() -> pbx::ShortCodes {
    pbx::ShortCodes::new([
        pbx::ShortCode::new("*37*N#", pbx::ShortCodeFeature::Park).unwrap(),
        pbx::ShortCode::new("*38*N#", pbx::ShortCodeFeature::Unpark).unwrap(),
    ])
}

thread_local! {
    /// Whether `office`'s hunt group has a mailbox of its own.
    static GROUP_MAILBOX: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// 201..204 with mailboxes, `recorded` recording their calls, a hunt group 300 (202,
/// 203; with a mailbox when `GROUP_MAILBOX` says so); phones for `phones`; the relay's
/// log.
fn office(
    settings: PbxSettings,
    users: Vec<UserEntry>,
    recorded: &[&str],
    phones: &[(&str, u16)],
) -> (Net, Caller, Vec<Peer>, ScriptedRelay) {
    let mut net = Net::with_extensions(settings, &["201", "202", "203", "204"]);
    let group = HuntGroupEntry {
        name: "sales".into(),
        number: "300".into(),
        mode: HuntMode::Collective,
        members: vec!["202".into(), "203".into()],
        no_answer_after: Duration::from_secs(15),
        overflow: None,
        night_service_to: None,
        in_service: true,
        queue_limit: 0,
        voicemail_after: GROUP_MAILBOX
            .with(|m| m.get())
            .then_some(Duration::from_secs(45)),
        time_profile: None,
    };
    net.pbx.set_features(
        Features::new(users, [group])
            .with_short_codes(codes())
            .with_call_recording(recorded.iter().map(|n| n.to_string())),
    );
    let relay = ScriptedRelay::default();
    net.pbx.set_media_relay(Box::new(relay.clone()));
    let peers = phones
        .iter()
        .map(|(ext, port)| register_at(&mut net, ext, *port))
        .collect();
    (net, caller_201(), peers, relay)
}

/// `from` calls `number`, the phone at `callee` answers (To tag `tag`), `from` ACKs.
fn call_answered(
    net: &mut Net,
    from: &mut Caller,
    number: &str,
    callee: Peer,
    tag: &str,
) -> (Request, String) {
    let out = from.call(net, number);
    let inv = invites_to(&out, callee).remove(0);
    let out = net.deliver(callee, &answer(&inv, 200, tag, Some(SDP_B)));
    let from_tag = to_tag(&responses_to(&out, from.phone.peer)[0]);
    net.deliver(from.phone.peer, from.ack_text(&from_tag).as_bytes());
    (inv, from_tag)
}

/// What the core told the shell about recordings, in order, in words.
fn recording_events(net: &mut Net) -> Vec<String> {
    net.events()
        .into_iter()
        .filter_map(|e| match e {
            PbxEvent::RecordingStarted(r) => Some(format!(
                "started {} {:?} {}",
                r.relay_session,
                r.trigger,
                r.owners
                    .iter()
                    .map(|o| format!("{}<-{}", o.mailbox, o.other_number))
                    .collect::<Vec<_>>()
                    .join(",")
            )),
            PbxEvent::RecordingPaused { .. } => Some("paused".into()),
            PbxEvent::RecordingResumed { .. } => Some("resumed".into()),
            PbxEvent::RecordingStopped { .. } => Some("stopped".into()),
            PbxEvent::CallEnded(_) => Some("call ended".into()),
            _ => None,
        })
        .collect()
}

fn started(net: &mut Net) -> Vec<RecordingStarted> {
    net.events()
        .into_iter()
        .filter_map(|e| match e {
            PbxEvent::RecordingStarted(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// A re-INVITE from 201 in its call (To tag `a_tag`) with `sdp`, answered by 202 (`b`).
fn caller_reinvite(net: &mut Net, a: &mut Caller, a_tag: &str, b: Peer, sdp: &str) {
    let text = a.in_dialog("INVITE", a_tag).replace(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Contact: <sip:201@127.0.0.1:5070>\r\nContent-Type: application/sdp\r\n\
             Content-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        ),
    );
    let out = net.deliver(a.phone.peer, text.as_bytes());
    let to_b = requests_to(&out, b);
    assert_eq!(to_b.len(), 1, "the re-INVITE reaches the callee");
    let held_answer = SDP_B.replace("o=bob 1 1", "o=bob 1 2");
    let out = net.deliver(b, &answer(&to_b[0], 200, "bob", Some(&held_answer)));
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [200]);
    net.deliver(a.phone.peer, a.ack_text(a_tag).as_bytes());
}

fn sdp_a(direction: &str, version: u32) -> String {
    SDP_A
        .replace("a=rtpmap:101", &format!("a={direction}\r\na=rtpmap:101"))
        .replace("o=alice 1 1", &format!("o=alice 1 {version}"))
}

#[test]
fn a_recording_user_calling_is_recorded_from_answer_until_the_call_ends() {
    let (mut net, mut a, p, _) =
        office(PbxSettings::default(), users(), &["201"], &[("202", 5202)]);
    let out = a.call(&mut net, "202");
    let inv = invites_to(&out, p[0]).remove(0);
    net.deliver(p[0], &answer(&inv, 180, "bob", None));
    assert!(
        started(&mut net).is_empty(),
        "nothing recorded while ringing"
    );
    let out = net.deliver(p[0], &answer(&inv, 200, "bob", Some(SDP_B)));
    let a_tag = to_tag(&responses_to(&out, a.phone.peer)[0]);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
    let events = net.events();
    let rec = events
        .iter()
        .find_map(|e| match e {
            PbxEvent::RecordingStarted(r) => Some(r.clone()),
            _ => None,
        })
        .expect("recording starts on answer");
    assert_eq!(rec.relay_session, 7);
    assert_eq!(rec.call_id, a.phone.call_id);
    assert_eq!(rec.trigger, RecordingTrigger::Automatic);
    assert_eq!(
        rec.owners,
        [RecordingOwner {
            mailbox: "201".into(),
            other_number: "202".into(),
            other_name: Some("Bob".into()),
        }]
    );
    let (counts, _) = net.pbx.voicemail_channels();
    assert_eq!(counts.recording, 1);
    // 201 hangs up: the recording stops before the call record.
    net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    assert_eq!(recording_events(&mut net), ["stopped", "call ended"]);
    assert_eq!(net.pbx.voicemail_channels().0.recording, 0);
}

#[test]
fn the_called_user_gets_its_own_copy_with_the_callers_name() {
    let (mut net, mut a, p, _) = office(
        PbxSettings::default(),
        users(),
        &["201", "202"],
        &[("202", 5202)],
    );
    call_answered(&mut net, &mut a, "202", p[0], "bob");
    let rec = started(&mut net).remove(0);
    assert_eq!(
        rec.owners,
        [
            RecordingOwner {
                mailbox: "201".into(),
                other_number: "202".into(),
                other_name: Some("Bob".into()),
            },
            RecordingOwner {
                mailbox: "202".into(),
                other_number: "201".into(),
                // The caller's display name, from its From.
                other_name: Some("Alice".into()),
            },
        ]
    );
}

#[test]
fn users_who_do_not_record_and_users_without_a_mailbox_are_not_recorded() {
    let mut u = users();
    u[1].voicemail = false;
    let (mut net, mut a, p, _) = office(
        PbxSettings::default(),
        u,
        &["202"],
        &[("202", 5202), ("203", 5203)],
    );
    call_answered(&mut net, &mut a, "202", p[0], "bob");
    assert!(started(&mut net).is_empty(), "202 has no mailbox");
    a.phone.call_id.push('b');
    call_answered(&mut net, &mut a, "203", p[1], "carol");
    assert!(started(&mut net).is_empty(), "neither records");
}

#[test]
fn a_hunt_group_call_is_recorded_into_the_answering_members_mailbox() {
    let (mut net, mut a, p, _) = office(
        PbxSettings::default(),
        users(),
        &["300"],
        &[("202", 5202), ("203", 5203)],
    );
    let out = a.call(&mut net, "300");
    let inv = invites_to(&out, p[1]).remove(0);
    net.deliver(p[1], &answer(&inv, 200, "carol", Some(SDP_B)));
    let rec = started(&mut net).remove(0);
    assert_eq!(
        rec.owners,
        [RecordingOwner {
            mailbox: "203".into(),
            other_number: "201".into(),
            other_name: Some("Alice".into()),
        }]
    );
    // Called directly, the member's calls are not the group's.
    a.phone.call_id.push('b');
    let (counts, _) = net.pbx.voicemail_channels();
    assert_eq!(counts.recording, 1);
    let mut d = caller_on("204", 5204);
    register_at(&mut net, "204", 5204);
    let out = d.call(&mut net, "202");
    let inv = invites_to(&out, p[0]).remove(0);
    net.deliver(p[0], &answer(&inv, 200, "bob", Some(SDP_B)));
    assert!(started(&mut net).is_empty());
}

#[test]
fn a_hunt_group_with_a_mailbox_keeps_its_recorded_calls_there() {
    GROUP_MAILBOX.with(|m| m.set(true));
    let (mut net, mut a, p, _) = office(
        PbxSettings::default(),
        users(),
        &["300"],
        &[("202", 5202), ("203", 5203)],
    );
    let out = a.call(&mut net, "300");
    let inv = invites_to(&out, p[1]).remove(0);
    net.deliver(p[1], &answer(&inv, 200, "carol", Some(SDP_B)));
    let rec = started(&mut net).remove(0);
    assert_eq!(
        rec.owners,
        [RecordingOwner {
            mailbox: "300".into(),
            other_number: "201".into(),
            other_name: Some("Alice".into()),
        }],
        "the group's mailbox, not the member's"
    );
}

#[test]
fn hold_pauses_the_recording_and_resume_resumes_it() {
    let (mut net, mut a, p, _) =
        office(PbxSettings::default(), users(), &["201"], &[("202", 5202)]);
    let (_, a_tag) = call_answered(&mut net, &mut a, "202", p[0], "bob");
    assert_eq!(recording_events(&mut net), ["started 7 Automatic 201<-202"]);
    caller_reinvite(&mut net, &mut a, &a_tag, p[0], &sdp_a("sendonly", 2));
    assert_eq!(recording_events(&mut net), ["paused"]);
    caller_reinvite(&mut net, &mut a, &a_tag, p[0], &sdp_a("sendrecv", 3));
    assert_eq!(recording_events(&mut net), ["resumed"]);
    net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    assert_eq!(recording_events(&mut net), ["stopped", "call ended"]);
}

/// 202 (in `inv`'s call) parks it in slot 1 and hangs up on the NOTIFY.
fn park(net: &mut Net, inv: &Request, p202: Peer) {
    let refer = callee_request(
        inv,
        5202,
        "bob",
        "REFER",
        2,
        "Refer-To: <sip:*37*1%23@127.0.0.1>\r\n",
    );
    let out = net.deliver(p202, &refer);
    assert_eq!(statuses(&responses_to(&out, p202)), [202]);
    net.deliver(p202, &callee_request(inv, 5202, "bob", "BYE", 3, ""));
}

/// `taker` (registered at `port`) takes the call parked in slot 1.
fn unpark(net: &mut Net, taker: &'static str, port: u16, peer: Peer) {
    let mut c = caller_on(taker, port);
    c.phone.call_id.push_str("-unpark");
    let out = c.call_with_body(net, "*38*1%23", SDP_B);
    let ok = responses_to(&out, peer);
    assert_eq!(statuses(&ok), [200]);
    net.deliver(peer, c.ack_text(&to_tag(&ok[0])).as_bytes());
}

#[test]
fn a_parked_call_pauses_and_resumes_when_the_parker_takes_it_back() {
    let (mut net, mut a, p, _) =
        office(PbxSettings::default(), users(), &["201"], &[("202", 5202)]);
    let (inv, a_tag) = call_answered(&mut net, &mut a, "202", p[0], "bob");
    assert_eq!(recording_events(&mut net), ["started 7 Automatic 201<-202"]);
    park(&mut net, &inv, p[0]);
    assert_eq!(recording_events(&mut net), ["paused"]);
    unpark(&mut net, "202", 5202, p[0]);
    assert_eq!(recording_events(&mut net), ["resumed"]);
    net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    assert_eq!(recording_events(&mut net), ["stopped", "call ended"]);
}

#[test]
fn a_parked_call_taken_by_another_stops_the_recording_and_records_the_new_pair() {
    let (mut net, mut a, p, _) = office(
        PbxSettings::default(),
        users(),
        &["201"],
        &[("202", 5202), ("203", 5203)],
    );
    let (inv, _) = call_answered(&mut net, &mut a, "202", p[0], "bob");
    park(&mut net, &inv, p[0]);
    assert_eq!(
        recording_events(&mut net),
        ["started 7 Automatic 201<-202", "paused"]
    );
    unpark(&mut net, "203", 5203, p[1]);
    // The new pair's recording starts while the parked caller still hears music, so it
    // starts paused and resumes as the music stops.
    assert_eq!(
        recording_events(&mut net),
        [
            "stopped",
            "started 7 Automatic 201<-203",
            "paused",
            "resumed"
        ]
    );
}

#[test]
fn the_record_keys_start_and_stop_a_recording_into_the_pressers_mailbox() {
    let (mut net, mut a, p, relay) = office(PbxSettings::default(), users(), &[], &[("202", 5202)]);
    let (_, a_tag) = call_answered(&mut net, &mut a, "202", p[0], "bob");
    let keys: Vec<String> = relay
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("keys"))
        .cloned()
        .collect();
    assert_eq!(keys, ["keys 7 Caller pt 101", "keys 7 Callee pt 101"]);
    assert!(started(&mut net).is_empty());
    let now = net.now;
    // Other keys go by; the sequence counts wherever it ends.
    for d in ['5', '*', '*', '1'] {
        assert!(net.pbx.handle_key(now, 7, Side::Callee, d));
    }
    assert_eq!(recording_events(&mut net), ["started 7 Keys 202<-201"]);
    // The caller is no owner: its keys do not stop it.
    net.pbx.handle_key(now, 7, Side::Caller, '*');
    net.pbx.handle_key(now, 7, Side::Caller, '1');
    assert!(recording_events(&mut net).is_empty());
    net.pbx.handle_key(now, 7, Side::Callee, '*');
    net.pbx.handle_key(now, 7, Side::Callee, '1');
    assert_eq!(recording_events(&mut net), ["stopped"]);
    assert!(
        !net.pbx.handle_key(now, 99, Side::Callee, '*'),
        "no such call"
    );
    net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    assert_eq!(recording_events(&mut net), ["call ended"]);
}

#[test]
fn keys_stop_an_automatic_recording_for_good_and_start_it_again() {
    let (mut net, mut a, p, _) =
        office(PbxSettings::default(), users(), &["201"], &[("202", 5202)]);
    let (_, a_tag) = call_answered(&mut net, &mut a, "202", p[0], "bob");
    let now = net.now;
    net.pbx.handle_key(now, 7, Side::Caller, '*');
    net.pbx.handle_key(now, 7, Side::Caller, '1');
    // Hold and resume do not bring it back.
    caller_reinvite(&mut net, &mut a, &a_tag, p[0], &sdp_a("sendonly", 2));
    caller_reinvite(&mut net, &mut a, &a_tag, p[0], &sdp_a("sendrecv", 3));
    net.pbx.handle_key(now, 7, Side::Caller, '*');
    net.pbx.handle_key(now, 7, Side::Caller, '1');
    assert_eq!(
        recording_events(&mut net),
        [
            "started 7 Automatic 201<-202",
            "stopped",
            "started 7 Keys 201<-202"
        ]
    );
}

#[test]
fn without_record_keys_no_keys_are_read() {
    let mut settings = PbxSettings::default();
    settings.recording.record_keys.clear();
    let (mut net, mut a, p, relay) = office(settings, users(), &[], &[("202", 5202)]);
    call_answered(&mut net, &mut a, "202", p[0], "bob");
    assert!(!relay
        .log
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.starts_with("keys")));
    let now = net.now;
    assert!(!net.pbx.handle_key(now, 7, Side::Caller, '*'));
}

/// Settings with this channel pool.
fn pool(limits: ChannelLimits) -> PbxSettings {
    PbxSettings {
        voicemail_channels: limits,
        ..PbxSettings::default()
    }
}

fn dnd_204() -> Vec<UserEntry> {
    let mut u = users();
    u[3].dnd = true;
    u
}

#[test]
fn a_caller_who_finds_no_voicemail_channel_gets_busy_saying_so() {
    let settings = pool(ChannelLimits {
        channels: 1,
        ..ChannelLimits::default()
    });
    let (mut net, mut a, _, _) = office(settings, dnd_204(), &[], &[]);
    assert_eq!(a.call_answered_by_pbx(&mut net, "-1", "204").0, 200);
    let (status, reason) = a.call_answered_by_pbx(&mut net, "-2", "204");
    assert_eq!(status, 486);
    assert!(reason.contains("no voicemail channel"), "{reason}");
    assert_eq!(net.pbx.voicemail_channels().0.mailbox, 1);
}

#[test]
fn channels_reserved_for_recording_are_kept_from_mailboxes() {
    let settings = pool(ChannelLimits {
        channels: 2,
        reserve_recording: 1,
        ..ChannelLimits::default()
    });
    let (mut net, mut a, p, _) = office(settings, dnd_204(), &["203"], &[("203", 5203)]);
    assert_eq!(a.call_answered_by_pbx(&mut net, "-1", "204").0, 200);
    assert_eq!(
        a.call_answered_by_pbx(&mut net, "-2", "204").0,
        486,
        "the rest is reserved"
    );
    // The reserved channel records.
    a.phone.call_id.push_str("-3");
    call_answered(&mut net, &mut a, "203", p[0], "carol");
    assert_eq!(started(&mut net).len(), 1);
    let (counts, limits) = net.pbx.voicemail_channels();
    assert_eq!(
        (counts.mailbox, counts.recording, limits.channels),
        (1, 1, 2)
    );
}

#[test]
fn a_recording_that_finds_no_channel_is_not_started_and_the_call_goes_on() {
    let settings = pool(ChannelLimits {
        channels: 2,
        reserve_mailbox: 1,
        reserve_recording: 0,
        reserve_attendant: 1,
    });
    let (mut net, mut a, p, _) = office(settings, users(), &["201"], &[("202", 5202)]);
    let (_, a_tag) = call_answered(&mut net, &mut a, "202", p[0], "bob");
    assert!(started(&mut net).is_empty(), "every channel is reserved");
    assert_eq!(net.pbx.active_calls(), [("201".into(), "202".into(), true)]);
    let out = net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    assert_eq!(requests_to(&out, p[0])[0].method, Method::Bye);
}

#[test]
fn a_blind_transfer_stops_the_recording_and_records_the_new_pair() {
    let (mut net, mut a, p, _) = office(
        PbxSettings::default(),
        users(),
        &["201"],
        &[("202", 5202), ("203", 5203)],
    );
    let (inv, a_tag) = call_answered(&mut net, &mut a, "202", p[0], "bob");
    let refer = callee_request(
        &inv,
        5202,
        "bob",
        "REFER",
        2,
        "Refer-To: <sip:203@127.0.0.1>\r\n",
    );
    let out = net.deliver(p[0], &refer);
    let to_203 = invites_to(&out, p[1]).remove(0);
    // While 203 rings the transferee hears ringback: the recording pauses.
    assert_eq!(
        recording_events(&mut net),
        ["started 7 Automatic 201<-202", "paused"]
    );
    net.deliver(p[1], &answer(&to_203, 200, "carol", Some(SDP_B)));
    assert_eq!(
        recording_events(&mut net),
        ["stopped", "started 7 Automatic 201<-203"]
    );
    net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    assert_eq!(recording_events(&mut net), ["stopped", "call ended"]);
}
