//! Calls to a call flow's number (an auto attendant), in simulated time: the PBX answers
//! and hands the call to the shell, which runs the flow and routes the caller on.

mod common;

use common::calls::*;
use common::Net;
use pbx::{Features, PbxEvent, PbxSettings, UserEntry, VoicemailCall, VoicemailReason};
use std::time::Duration;

fn voicemail_calls(net: &mut Net) -> Vec<VoicemailCall> {
    net.events()
        .into_iter()
        .filter_map(|e| match e {
            PbxEvent::VoicemailCall(v) => Some(v),
            _ => None,
        })
        .collect()
}

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
    let out = a.call(net, "800");
    let ok: Vec<_> = responses_to(&out, a.phone.peer)
        .into_iter()
        .filter(|r| r.status.0 >= 200)
        .collect();
    assert_eq!(statuses(&ok), [200], "the attendant answers at once");
    net.deliver(a.phone.peer, a.ack_text(&to_tag(&ok[0])).as_bytes());
    let mut vm = voicemail_calls(net);
    assert_eq!(vm.len(), 1);
    vm.remove(0)
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
