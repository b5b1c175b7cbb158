//! Hunt-group queues with more than one free member, in simulated time: waiting callers
//! are offered free members in queue order, each member to one caller at a time.

mod common;

use common::calls::*;
use common::Net;
use pbx::{Features, HuntGroupEntry, HuntMode, PbxSettings, Peer};
use sip::{Message, Method, Request};
use std::time::Duration;

fn sales(members: &[&str]) -> HuntGroupEntry {
    HuntGroupEntry {
        name: "sales".into(),
        number: "300".into(),
        mode: HuntMode::Sequential,
        members: members.iter().map(|m| m.to_string()).collect(),
        no_answer_after: Duration::from_secs(15),
        overflow: None,
        night_service_to: None,
        in_service: true,
        queue_limit: 5,
        voicemail_after: None,
        time_profile: None,
    }
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

/// `from` calls the group and is answered by the PBX to wait.
fn waits(net: &mut Net, from: &mut Caller) {
    let out = from.call(net, "300");
    let ok: Vec<_> = responses_to(&out, from.phone.peer)
        .into_iter()
        .filter(|r| r.status.0 >= 200)
        .collect();
    assert_eq!(statuses(&ok), [200], "answered to wait");
    net.deliver(from.phone.peer, from.ack_text(&to_tag(&ok[0])).as_bytes());
}

/// The caller (the From user) of each INVITE sent to `peer`.
fn callers_rung(out: &[(Peer, Message)], peer: Peer) -> Vec<String> {
    invites_to(out, peer)
        .iter()
        .map(|r| {
            let from = r.headers.get(&sip::header::HeaderName::From).unwrap();
            from.split("sip:").nth(1).unwrap()[..3].to_string()
        })
        .collect()
}

#[test]
fn two_free_members_take_the_two_waiting_callers_at_once_one_each() {
    let mut net = Net::with_extensions(
        PbxSettings::default(),
        &["201", "202", "203", "204", "205", "206"],
    );
    net.pbx
        .set_features(Features::new([], [sales(&["202", "203"])]));
    let (p202, p203) = (
        register_at(&mut net, "202", 5202),
        register_at(&mut net, "203", 5203),
    );
    net.pbx.set_media_relay(Box::new(ScriptedRelay::default()));
    // Both members are busy with outside callers 205 and 206.
    let mut e = caller_on("205", 5205);
    let busy_202 = talking(&mut net, &mut e, "202", p202, "m202");
    let mut f = caller_on("206", 5206);
    let busy_203 = talking(&mut net, &mut f, "203", p203, "m203");
    // 201, then 204, wait in the queue.
    let mut a = caller_201();
    waits(&mut net, &mut a);
    let mut d = caller_on("204", 5204);
    waits(&mut net, &mut d);

    // Both members hang up; within a second each rings for one caller, in queue order:
    // never the same member for both.
    net.deliver(p202, &callee_request(&busy_202, 5202, "m202", "BYE", 5, ""));
    net.deliver(p203, &callee_request(&busy_203, 5203, "m203", "BYE", 5, ""));
    let out = net.run_for(Duration::from_millis(2100));
    let (to_202, to_203) = (callers_rung(&out, p202), callers_rung(&out, p203));
    assert_eq!(to_202.len() + to_203.len(), 2, "{to_202:?} {to_203:?}");
    assert_eq!((to_202.len(), to_203.len()), (1, 1), "one caller each");
    let mut rung = [to_202[0].clone(), to_203[0].clone()];
    rung.sort();
    assert_eq!(rung, ["201", "204"]);
    // The head of the queue gets the first free member of the sequential group.
    assert_eq!(to_202, ["201"]);

    // 202 answers its caller: that call is talking, the other still rings 203.
    let ring_202 = invites_to(&out, p202).remove(0);
    let out = net.deliver(p202, &answer(&ring_202, 200, "m202q", Some(SDP_B)));
    assert_eq!(
        requests_to(&out, p202)
            .iter()
            .map(|r| r.method.clone())
            .collect::<Vec<_>>(),
        [Method::Ack]
    );
    assert_eq!(net.pbx.call_count(), 2);
}

#[test]
fn a_call_transferred_blind_to_a_busy_group_waits_in_its_queue() {
    let mut net = Net::with_extensions(PbxSettings::default(), &["201", "202", "204", "205"]);
    net.pbx.set_features(Features::new([], [sales(&["202"])]));
    let p202 = register_at(&mut net, "202", 5202);
    let p204 = register_at(&mut net, "204", 5204);
    let relay = ScriptedRelay::default();
    let log = relay.log.clone();
    net.pbx.set_media_relay(Box::new(relay));
    let mut e = caller_on("205", 5205);
    let busy_202 = talking(&mut net, &mut e, "202", p202, "m202");
    // 201 talks to 204, which transfers it to the group: accepted and done at once.
    let mut a = caller_201();
    let inv = talking(&mut net, &mut a, "204", p204, "m204");
    let refer = callee_request(
        &inv,
        5204,
        "m204",
        "REFER",
        2,
        "Refer-To: <sip:300@127.0.0.1>\r\n",
    );
    let out = net.deliver(p204, &refer);
    assert_eq!(statuses(&responses_to(&out, p204)), [202]);
    let frags: Vec<String> = requests_to(&out, p204)
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).trim().to_string())
        .collect();
    assert_eq!(frags, ["SIP/2.0 200 OK"]);
    assert!(
        log.lock()
            .unwrap()
            .contains(&"queue 8 Caller place 1 system pt 0".to_string()),
        "{:?}",
        log.lock().unwrap()
    );
    // 204 hangs up on the NOTIFY; 201 waits. 202 frees up and rings for 201.
    let out = net.deliver(p204, &callee_request(&inv, 5204, "m204", "BYE", 3, ""));
    assert_eq!(statuses(&responses_to(&out, p204)), [200]);
    assert!(requests_to(&out, a.phone.peer).is_empty(), "201 stays");
    net.deliver(p202, &callee_request(&busy_202, 5202, "m202", "BYE", 5, ""));
    let out = net.run_for(Duration::from_millis(1100));
    assert_eq!(callers_rung(&out, p202), ["201"]);
    let ring = invites_to(&out, p202).remove(0);
    net.deliver(p202, &answer(&ring, 200, "m202q", Some(SDP_B)));
    assert_eq!(net.pbx.active_calls(), [("201".into(), "202".into(), true)]);
}

#[test]
fn a_group_with_its_own_announcement_says_it_to_waiting_callers() {
    let mut net = Net::with_extensions(PbxSettings::default(), &["201", "202", "204", "205"]);
    let words = pbx::QueueAnnouncement {
        words: Some("sales-busy.wav".into()),
        say_place: false,
        music_between: Duration::from_secs(45),
    };
    let features = Features::new([], [sales(&["202"])])
        .with_queue_announcements([("300".to_string(), words.clone())]);
    assert_eq!(features.queue_announcement("300"), words);
    assert_eq!(
        features.queue_announcement("301"),
        pbx::QueueAnnouncement::default(),
        "groups without their own: the built-in words with the place"
    );
    net.pbx.set_features(features);
    let p202 = register_at(&mut net, "202", 5202);
    let relay = ScriptedRelay::default();
    let log = relay.log.clone();
    net.pbx.set_media_relay(Box::new(relay));
    let mut e = caller_on("205", 5205);
    talking(&mut net, &mut e, "202", p202, "m202");
    let mut a = caller_201();
    waits(&mut net, &mut a);
    let mut d = caller_on("204", 5204);
    waits(&mut net, &mut d);
    let said: Vec<String> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("queue "))
        .cloned()
        .collect();
    assert_eq!(
        said,
        [
            "queue 8 Caller say sales-busy.wav no place system pt 0",
            "queue 9 Caller say sales-busy.wav no place system pt 0"
        ]
    );
}
