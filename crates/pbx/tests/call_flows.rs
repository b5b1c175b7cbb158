//! Calls to a call flow's number (an auto attendant), in simulated time: the PBX answers
//! and hands the call to the shell, which runs the flow and routes the caller on.

mod common;

use common::calls::*;
use common::Net;
use pbx::{Features, PbxEvent, PbxSettings, UserEntry, VoicemailCall, VoicemailReason};
use std::time::Duration;

fn office() -> (Net, Caller, pbx::Peer) {
    office_with(PbxSettings::default())
}

fn office_with(settings: PbxSettings) -> (Net, Caller, pbx::Peer) {
    let mut net = Net::with_extensions(settings, &["201", "202", "203"]);
    let mut on_dnd = UserEntry::new("u202", "202");
    on_dnd.voicemail = true;
    on_dnd.dnd = true;
    net.pbx.set_features(
        Features::new([on_dnd], []).with_call_flows([("800".to_string(), "reception".to_string())]),
    );
    net.pbx.set_media_relay(Box::new(ScriptedRelay::default()));
    let phone = register_at(&mut net, "203", 5203);
    (net, caller_201(), phone)
}

/// Calls 800 and acknowledges the PBX's answer; the flow's call.
fn call_attendant(net: &mut Net, a: &mut Caller) -> VoicemailCall {
    call_attendant_tagged(net, a).0
}

/// [`call_attendant`], with the To tag of the caller's dialog.
fn call_attendant_tagged(net: &mut Net, a: &mut Caller) -> (VoicemailCall, String) {
    let out = a.call(net, "800");
    let ok: Vec<_> = responses_to(&out, a.phone.peer)
        .into_iter()
        .filter(|r| r.status.0 >= 200)
        .collect();
    assert_eq!(statuses(&ok), [200], "the attendant answers at once");
    net.deliver(a.phone.peer, a.ack_text(&to_tag(&ok[0])).as_bytes());
    let mut vm = voicemail_calls(net);
    assert_eq!(vm.len(), 1);
    (vm.remove(0), to_tag(&ok[0]))
}

#[test]
fn the_flow_number_is_answered_and_the_choice_rings_an_extension() {
    let (mut net, mut a, phone) = office();
    let vm = call_attendant(&mut net, &mut a);
    assert_eq!(
        (vm.mailbox.as_str(), vm.reason, vm.caller.as_str()),
        ("reception", VoicemailReason::CallFlow, "201")
    );
    assert!(!vm.trusted);
    assert_eq!(
        net.pbx.active_calls(),
        [("201".into(), "attendant reception".into(), true)]
    );
    // The caller pressed the key for 203.
    let at = net.now;
    assert!(net.pbx.route_voicemail_call(at, vm.call, "203").is_ok());
    let out = net.outputs();
    let ring = invites_to(&out, phone);
    assert_eq!(ring.len(), 1);
    net.deliver(phone, &answer(&ring[0], 200, "m203", Some(SDP_B)));
    assert_eq!(net.pbx.active_calls(), [("201".into(), "203".into(), true)]);
}

#[test]
fn a_choice_that_leads_to_a_mailbox_hands_the_call_over_there() {
    let (mut net, mut a, _) = office();
    let vm = call_attendant(&mut net, &mut a);
    let at = net.now;
    // 202 is on do not disturb: its mailbox takes the same call.
    assert!(net.pbx.route_voicemail_call(at, vm.call, "202").is_ok());
    let again = voicemail_calls(&mut net);
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].call, again[0].mailbox.as_str(), again[0].reason),
        (vm.call, "202", VoicemailReason::DoNotDisturb)
    );
    assert_eq!(
        net.pbx.active_calls(),
        [("201".into(), "voicemail 202".into(), true)]
    );
    // An unknown number rings nothing; the call stays with the flow's successor.
    assert_eq!(net.pbx.route_voicemail_call(at, vm.call, "299"), Err(404));
    let _ = net.run_for(Duration::from_millis(100));
    assert!(net.pbx.end_voicemail_call(at, vm.call));
}

#[test]
fn attendant_calls_use_attendant_channels_and_keep_theirs_when_handed_to_a_mailbox() {
    let settings = PbxSettings {
        voicemail_channels: pbx::ChannelLimits {
            channels: 2,
            reserve_mailbox: 1,
            ..pbx::ChannelLimits::default()
        },
        ..PbxSettings::default()
    };
    let (mut net, mut a, _) = office_with(settings);
    assert_eq!(a.call_answered_by_pbx(&mut net, "-1", "800").0, 200);
    let first = voicemail_calls(&mut net).remove(0);
    assert_eq!(net.pbx.voicemail_channels().0.attendant, 1);
    // The last channel is the mailboxes' own: a second attendant caller gets busy.
    let (status, reason) = a.call_answered_by_pbx(&mut net, "-2", "800");
    assert_eq!(status, 486);
    assert!(reason.contains("no voicemail channel"), "{reason}");
    // ... while a caller to 202 (on DND) reaches its mailbox.
    assert_eq!(a.call_answered_by_pbx(&mut net, "-3", "202").0, 200);
    let counts = net.pbx.voicemail_channels().0;
    assert_eq!((counts.attendant, counts.mailbox), (1, 1));
    // The pool is full, yet the attendant caller handed on to 202's mailbox keeps its
    // channel, now a mailbox's.
    let at = net.now;
    assert!(net.pbx.route_voicemail_call(at, first.call, "202").is_ok());
    let counts = net.pbx.voicemail_channels().0;
    assert_eq!((counts.attendant, counts.mailbox), (0, 2));
}

/// The attendant office with a relay whose log the test reads.
fn screening_office() -> (
    Net,
    Caller,
    pbx::Peer,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    let (mut net, a, phone) = office();
    let relay = ScriptedRelay::default();
    let log = relay.log.clone();
    net.pbx.set_media_relay(Box::new(relay));
    (net, a, phone, log)
}

fn screen_events(net: &mut Net) -> Vec<PbxEvent> {
    net.events()
        .into_iter()
        .filter(|e| {
            matches!(
                e,
                PbxEvent::ScreenAnswered(_) | PbxEvent::ScreenFailed { .. }
            )
        })
        .collect()
}

fn methods_to(out: &[(pbx::Peer, sip::Message)], peer: pbx::Peer) -> Vec<String> {
    requests_to(out, peer)
        .iter()
        .map(|r| r.method.to_string())
        .collect()
}

/// Screens 203 for the attendant's caller and lets 203 answer; returns 203's INVITE.
fn screened_and_answered(net: &mut Net, vm: &VoicemailCall, phone: pbx::Peer) -> sip::Request {
    let at = net.now;
    assert_eq!(net.pbx.screen_voicemail_call(at, vm.call, "203"), Ok(()));
    let out = net.outputs();
    let ring = invites_to(&out, phone);
    assert_eq!(ring.len(), 1, "203 rings");
    let out = net.deliver(phone, &answer(&ring[0], 200, "m203", Some(SDP_B)));
    assert!(methods_to(&out, phone).contains(&"ACK".to_string()));
    assert_eq!(
        responses_to(&out, vm_caller_peer()).len(),
        0,
        "the caller hears nothing of the answer"
    );
    let events = screen_events(net);
    assert_eq!(
        events,
        [PbxEvent::ScreenAnswered(pbx::ScreenAnswered {
            call: vm.call,
            relay_session: vm.relay_session,
            payload_type: 0,
            dtmf_payload_type: Some(101),
        })]
    );
    ring.into_iter().next().unwrap()
}

fn vm_caller_peer() -> pbx::Peer {
    caller_201().phone.peer
}

#[test]
fn a_screened_target_that_accepts_talks_to_the_caller() {
    let (mut net, mut a, phone, log) = screening_office();
    let vm = call_attendant(&mut net, &mut a);
    screened_and_answered(&mut net, &vm, phone);
    let session = vm.relay_session;
    let lines = log.lock().unwrap().clone();
    assert!(
        lines.contains(&format!("remote {session} Callee 127.0.0.1:42000")),
        "the target is anchored on the callee side: {lines:?}"
    );
    assert_eq!(
        lines.last().map(String::as_str),
        Some(format!("music {session} Caller ringback tone pt 0").as_str()),
        "the caller still hears ringback: {lines:?}"
    );
    // Still the flow's call until the target chooses.
    assert_eq!(
        net.pbx.active_calls(),
        [("201".into(), "attendant reception".into(), true)]
    );
    assert_eq!(net.pbx.voicemail_channels().0.attendant, 1);
    let at = net.now;
    assert!(net.pbx.accept_screened(at, vm.call));
    assert!(!net.pbx.accept_screened(at, vm.call), "only once");
    assert_eq!(net.pbx.active_calls(), [("201".into(), "203".into(), true)]);
    assert_eq!(net.pbx.voicemail_channels().0.attendant, 0);
    assert_eq!(
        log.lock().unwrap().last().map(String::as_str),
        Some(format!("stop music {session} Caller").as_str())
    );
    assert!(
        !net.pbx.end_voicemail_call(at, vm.call),
        "no longer in voicemail"
    );
}

#[test]
fn a_refused_target_is_hung_up_on_and_the_caller_stays_with_the_flow() {
    let (mut net, mut a, phone, log) = screening_office();
    let vm = call_attendant(&mut net, &mut a);
    screened_and_answered(&mut net, &vm, phone);
    let at = net.now;
    assert!(net.pbx.refuse_screened(at, vm.call));
    let out = net.outputs();
    assert_eq!(methods_to(&out, phone), ["BYE"]);
    assert!(
        requests_to(&out, vm_caller_peer()).is_empty(),
        "no BYE to the caller"
    );
    assert_eq!(
        log.lock().unwrap().last().map(String::as_str),
        Some(format!("stop music {} Caller", vm.relay_session).as_str())
    );
    assert!(
        screen_events(&mut net).is_empty(),
        "the shell asked: no event"
    );
    assert_eq!(
        net.pbx.active_calls(),
        [("201".into(), "attendant reception".into(), true)]
    );
    // The flow goes on: the caller may be screened again, and the call ended.
    assert_eq!(net.pbx.screen_voicemail_call(at, vm.call, "203"), Ok(()));
    let out = net.outputs();
    let ring = invites_to(&out, phone);
    net.deliver(phone, &answer(&ring[0], 180, "m203b", None));
    assert!(net.pbx.end_voicemail_call(at, vm.call));
    let out = net.outputs();
    assert_eq!(cancels_to(&out, phone), 1, "203 stops ringing");
    assert!(call_ended(&mut net).is_some());
}

#[test]
fn a_target_that_hangs_up_or_is_busy_sends_the_caller_back_to_the_flow() {
    let (mut net, mut a, phone, _) = screening_office();
    let vm = call_attendant(&mut net, &mut a);
    let ring = screened_and_answered(&mut net, &vm, phone);
    // 203 hangs up while it hears the announcement.
    let out = net.deliver(phone, &callee_request(&ring, 5203, "m203", "BYE", 2, ""));
    assert_eq!(statuses(&responses_to(&out, phone)), [200]);
    assert!(requests_to(&out, vm_caller_peer()).is_empty());
    assert_eq!(
        screen_events(&mut net),
        [PbxEvent::ScreenFailed {
            call: vm.call,
            status: 487
        }]
    );
    let at = net.now;
    assert!(
        !net.pbx.refuse_screened(at, vm.call),
        "nothing left to refuse"
    );
    // Screened again, 203 is busy.
    assert_eq!(net.pbx.screen_voicemail_call(at, vm.call, "203"), Ok(()));
    let out = net.outputs();
    let ring = invites_to(&out, phone);
    net.deliver(phone, &answer(&ring[0], 486, "m203b", None));
    assert_eq!(
        screen_events(&mut net),
        [PbxEvent::ScreenFailed {
            call: vm.call,
            status: 486
        }]
    );
    assert_eq!(
        net.pbx.active_calls(),
        [("201".into(), "attendant reception".into(), true)]
    );
    // A number nothing can ring fails at once; a mailbox is no target either.
    assert_eq!(net.pbx.screen_voicemail_call(at, vm.call, "299"), Err(404));
    assert_eq!(net.pbx.screen_voicemail_call(at, vm.call, "202"), Err(480));
    assert!(net.pbx.end_voicemail_call(at, vm.call));
}

#[test]
fn a_caller_who_hangs_up_during_the_screening_ends_the_targets_call_too() {
    let (mut net, mut a, phone, _) = screening_office();
    let (vm, tag) = call_attendant_tagged(&mut net, &mut a);
    screened_and_answered(&mut net, &vm, phone);
    let bye = a.in_dialog("BYE", &tag);
    let out = net.deliver(a.phone.peer, bye.as_bytes());
    assert_eq!(methods_to(&out, phone), ["BYE"], "the target is hung up on");
    assert!(call_ended(&mut net).is_some());
}

#[test]
fn a_screened_target_that_never_answers_times_out_into_the_flow() {
    let (mut net, mut a, phone, _) = screening_office();
    let vm = call_attendant(&mut net, &mut a);
    let at = net.now;
    assert_eq!(net.pbx.screen_voicemail_call(at, vm.call, "203"), Ok(()));
    let out = net.outputs();
    let ring = invites_to(&out, phone);
    net.deliver(phone, &answer(&ring[0], 180, "m203", None));
    let out = net.run_for(Duration::from_secs(29));
    assert_eq!(cancels_to(&out, phone), 0, "still ringing after 29 s");
    assert!(screen_events(&mut net).is_empty());
    let out = net.run_for(Duration::from_secs(2));
    assert!(
        cancels_to(&out, phone) >= 1,
        "the target stops ringing at 30 s"
    );
    let events = screen_events(&mut net);
    assert!(
        matches!(events[..], [PbxEvent::ScreenFailed { call, status: 480 }] if call == vm.call),
        "{events:?}"
    );
    assert!(requests_to(&out, vm_caller_peer())
        .iter()
        .all(|r| r.method != sip::Method::Bye));
    assert!(net.pbx.end_voicemail_call(net.now, vm.call));
}
