//! Paging, silent monitoring and intrusion on the core, as stories in simulated time with
//! a scripted relay: who gets which INVITE, which parties the relay is asked for, and how
//! each story ends.

mod common;

use common::calls::*;
use common::Net;
use pbx::{
    Features, HuntGroupEntry, HuntMode, PbxSettings, Peer, ShortCode, ShortCodeFeature as F,
    ShortCodes, UserEntry,
};
use sip::header::HeaderName;
use sip::{Method, Request};
use std::time::Duration;

const EXTENSIONS: &[&str] = &["201", "202", "203", "204", "205", "206"];

/// 201..206 with users; 205 may intrude; 202's calls may be listened to; group 300 is
/// 202, 203, 204 (203 on do-not-disturb). Phones registered for 202..205.
fn office() -> (Net, Caller, Vec<Peer>, ScriptedRelay) {
    let users = EXTENSIONS.iter().map(|ext| {
        let mut u = UserEntry::new(&format!("u{ext}"), ext);
        u.can_intrude = *ext == "205";
        u.cannot_be_intruded = *ext != "202";
        u.dnd = *ext == "203";
        u
    });
    let group = HuntGroupEntry {
        name: "warehouse".into(),
        number: "300".into(),
        mode: HuntMode::Collective,
        members: vec!["202".into(), "203".into(), "204".into()],
        no_answer_after: Duration::from_secs(15),
        overflow: None,
        night_service_to: None,
        in_service: true,
        queue_limit: 0,
        voicemail_after: None,
        time_profile: None,
    };
    let codes = ShortCodes::new(
        [
            ("*34*N#", F::Page),
            ("*39*N#", F::Listen),
            ("*40*N#", F::Intrude),
        ]
        .into_iter()
        .map(|(p, f)| ShortCode::new(p, f).unwrap()),
    );
    let mut net = Net::with_extensions(PbxSettings::default(), EXTENSIONS);
    net.pbx
        .set_features(Features::new(users, [group]).with_short_codes(codes));
    let relay = ScriptedRelay::default();
    net.pbx.set_media_relay(Box::new(relay.clone()));
    let peers = [("202", 5202), ("203", 5203), ("204", 5204), ("205", 5205)]
        .iter()
        .map(|(ext, port)| register_at(&mut net, ext, *port))
        .collect();
    (net, caller_201(), peers, relay)
}

fn log(relay: &ScriptedRelay) -> Vec<String> {
    relay.log.lock().unwrap().clone()
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers.get(&HeaderName::Other(name.into()))
}

/// `who` dials `code`, is answered by the PBX and ACKs: its To tag and the SDP it got.
fn dial_answered(net: &mut Net, who: &mut Caller, code: &str) -> (String, String) {
    who.phone.call_id.push('x');
    let out = who.call(net, &code.replace('#', "%23"));
    let ok = final_response(&out, who.phone.peer);
    assert_eq!(ok.status.0, 200, "{code}: {}", ok.reason);
    let tag = to_tag(&ok);
    net.deliver(who.phone.peer, who.ack_text(&tag).as_bytes());
    (tag, String::from_utf8_lossy(&ok.body).into_owned())
}

/// `who` dials `code` and is refused: the status and reason.
fn dial_refused(net: &mut Net, who: &mut Caller, code: &str) -> (u16, String) {
    who.phone.call_id.push('r');
    let out = who.call(net, &code.replace('#', "%23"));
    let r = final_response(&out, who.phone.peer);
    (r.status.0, r.reason)
}

#[test]
fn a_page_reaches_the_free_phones_of_a_group_which_answer_by_themselves() {
    let (mut net, mut a, p, relay) = office();
    // 201 pages the warehouse; the PBX answers at the relay's caller port.
    a.phone.call_id.push('p');
    let out = a.call(&mut net, "*34*300%23");
    let ok = final_response(&out, a.phone.peer);
    assert_eq!(ok.status.0, 200);
    assert!(String::from_utf8_lossy(&ok.body).contains("m=audio 10000 RTP/AVP 0"));
    let a_tag = to_tag(&ok);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
    // 202 and 204 are paged, each on a party port of its own; 203 is on DND.
    let to_202 = invites_to(&out, p[0]).remove(0);
    let to_204 = invites_to(&out, p[2]).remove(0);
    assert!(
        invites_to(&out, p[1]).is_empty(),
        "203 is on do-not-disturb"
    );
    for (inv, port) in [(&to_202, 12000), (&to_204, 12002)] {
        assert_eq!(header(inv, "Answer-Mode"), Some("Auto"));
        assert!(header(inv, "Call-Info").is_some_and(|v| v.ends_with(";answer-after=0")));
        assert!(header(inv, "Alert-Info").is_some_and(|v| v.contains("info=alert-autoanswer")));
        let sdp = String::from_utf8_lossy(&inv.body);
        assert!(sdp.contains(&format!("m=audio {port} RTP/AVP 0")), "{sdp}");
        assert!(sdp.contains("a=sendonly"), "{sdp}");
    }
    // 202 answers by itself; 204 only rings, and gets CANCEL after 10 s.
    net.deliver(p[2], &answer(&to_204, 180, "m204", None));
    let out = net.deliver(p[0], &answer(&to_202, 200, "m202", Some(SDP_B)));
    assert_eq!(methods_to(&out, p[0]), [Method::Ack]);
    let out = net.run_for(Duration::from_secs(11));
    assert_eq!(cancels_to(&out, p[2]), 1);
    net.deliver(p[2], &answer(&to_204, 487, "m204", None));
    assert_eq!(
        net.pbx.active_calls(),
        [("201".into(), "page-300".into(), true)]
    );
    // 201 ends the page: 202 gets BYE, the relay session closes.
    let out = net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    assert_eq!(methods_to(&out, p[0]), [Method::Bye]);
    let record = call_ended(&mut net).expect("a record");
    assert_eq!((record.callee.as_str(), record.status), ("page-300", 200));
    let log = log(&relay);
    for line in [
        "party 7 HearsCaller pt 0",
        "party remote 7 0 127.0.0.1:42000",
        "close 7",
    ] {
        assert!(log.iter().any(|l| l == line), "{line} in {log:?}");
    }
    assert_eq!(net.pbx.call_count(), 0);
}

#[test]
fn the_page_ends_when_the_last_paged_phone_hangs_up() {
    let (mut net, mut a, p, relay) = office();
    let out = a.call(&mut net, "*34*202%23");
    let a_tag = to_tag(&final_response(&out, a.phone.peer));
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
    let inv = invites_to(&out, p[0]).remove(0);
    net.deliver(p[0], &answer(&inv, 200, "m202", Some(SDP_B)));
    // 202 hangs up: nobody is left to hear the page, so the pager gets BYE.
    let out = net.deliver(p[0], bye_from_callee(&inv, "m202", 5202).as_bytes());
    assert_eq!(statuses(&responses_to(&out, p[0])), [200]);
    assert_eq!(methods_to(&out, a.phone.peer), [Method::Bye]);
    assert!(log(&relay).contains(&"remove party 7 0".to_string()));
    assert_eq!(
        call_ended(&mut net).map(|r| r.callee),
        Some("page-202".into())
    );
}

#[test]
fn pages_nobody_can_take_are_refused() {
    let (mut net, mut a, _, _) = office();
    assert_eq!(dial_refused(&mut net, &mut a, "*34*999#").0, 404);
    // 206 has no phone registered.
    let (status, reason) = dial_refused(&mut net, &mut a, "*34*206#");
    assert_eq!(status, 480, "{reason}");
    assert!(reason.contains("nobody free to page"), "{reason}");
}

#[test]
fn a_supervisor_listens_in_unheard_then_intrudes_and_the_call_end_hangs_up() {
    let (mut net, mut a, p, relay) = office();
    // 201 calls 202, who answers.
    let out = a.call(&mut net, "202");
    let inv = invites_to(&out, p[0]).remove(0);
    let out = net.deliver(p[0], &answer(&inv, 200, "m202", Some(SDP_B)));
    let a_tag = to_tag(&responses_to(&out, a.phone.peer)[0]);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());

    // 205 listens in: answered on a party port, as a monitor.
    let mut s = caller_on("205", 5205);
    let (s_tag, sdp) = dial_answered(&mut net, &mut s, "*39*202#");
    assert!(sdp.contains("m=audio 12000 RTP/AVP 0"), "{sdp}");
    assert!(log(&relay).contains(&"party 7 Monitor pt 0".to_string()));
    // Its ACK is taken: no 200 retransmission later.
    let out = net.run_for(Duration::from_secs(5));
    assert!(responses_to(&out, s.phone.peer).is_empty());
    // It hangs up: the call goes on.
    let out = net.deliver(s.phone.peer, s.in_dialog("BYE", &s_tag).as_bytes());
    assert_eq!(statuses(&responses_to(&out, s.phone.peer)), [200]);
    assert!(log(&relay).contains(&"remove party 7 0".to_string()));
    assert_eq!(net.pbx.active_calls(), [("201".into(), "202".into(), true)]);

    // 205 intrudes; then 202 hangs up: 201 and 205 both get BYE.
    let (_, sdp) = dial_answered(&mut net, &mut s, "*40*202#");
    assert!(sdp.contains("m=audio 12002 RTP/AVP 0"), "{sdp}");
    assert!(log(&relay).contains(&"party 7 Intruder pt 0".to_string()));
    let out = net.deliver(p[0], bye_from_callee(&inv, "m202", 5202).as_bytes());
    assert_eq!(methods_to(&out, a.phone.peer), [Method::Bye]);
    assert_eq!(methods_to(&out, s.phone.peer), [Method::Bye]);
    assert_eq!(net.pbx.call_count(), 0);
}

#[test]
fn listening_in_needs_the_right_and_a_target_that_allows_it() {
    let (mut net, mut a, p, _) = office();
    let out = a.call(&mut net, "204");
    let inv = invites_to(&out, p[2]).remove(0);
    net.deliver(p[2], &answer(&inv, 200, "m204", Some(SDP_B)));
    // 206 has no right; 204's calls are private; 202 is in no call.
    let mut x = caller_on("206", 5206);
    assert_eq!(dial_refused(&mut net, &mut x, "*39*204#").0, 403);
    let mut s = caller_on("205", 5205);
    let (status, reason) = dial_refused(&mut net, &mut s, "*39*204#");
    assert_eq!(status, 403);
    assert!(reason.contains("private"), "{reason}");
    assert_eq!(dial_refused(&mut net, &mut s, "*40*202#").0, 404);
}

/// A BYE from the phone at `port` that answered `inv` with To tag `tag`.
fn bye_from_callee(inv: &Request, tag: &str, port: u16) -> String {
    format!(
        "BYE {} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-bye-{tag}\r\n\
         Max-Forwards: 70\r\nFrom: {};tag={tag}\r\nTo: {}\r\nCall-ID: {}\r\n\
         CSeq: 9 BYE\r\nContent-Length: 0\r\n\r\n",
        header(inv, "Contact")
            .or_else(|| inv.headers.get(&HeaderName::Contact))
            .map(|c| c.trim_matches(['<', '>']).to_string())
            .unwrap_or_default(),
        inv.headers.get(&HeaderName::To).unwrap(),
        inv.headers.get(&HeaderName::From).unwrap(),
        inv.headers.get(&HeaderName::CallId).unwrap(),
    )
}

/// The final response sent to `peer`.
fn final_response(out: &[(Peer, sip::Message)], peer: Peer) -> sip::Response {
    responses_to(out, peer)
        .into_iter()
        .find(|r| r.status.0 >= 200)
        .expect("a final response")
}

/// The methods of the requests sent to `peer`.
fn methods_to(out: &[(Peer, sip::Message)], peer: Peer) -> Vec<Method> {
    requests_to(out, peer)
        .into_iter()
        .map(|r| r.method)
        .collect()
}
