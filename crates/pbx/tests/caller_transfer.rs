//! Transfers and park by the calling party, in simulated time: the call turns around (the
//! callee takes the caller's side) and the callee's transfer code does the rest. Each
//! phone keeps its dialog; the relay is told the sides swapped.

mod common;

use common::calls::*;
use common::Net;
use pbx::{Features, PbxSettings, Peer};
use sip::header::HeaderName;
use sip::{Method, Request};
use std::sync::{Arc, Mutex};

fn office(phones: &[(&str, u16)]) -> (Net, Caller, Vec<Peer>, Arc<Mutex<Vec<String>>>) {
    let mut net = Net::with_extensions(PbxSettings::default(), &["201", "202", "203", "204"]);
    net.pbx
        .set_features(Features::default().with_short_codes(pbx::ShortCodes::new([
            pbx::ShortCode::new("*37*N#", pbx::ShortCodeFeature::Park).unwrap(),
            pbx::ShortCode::new("*38*N#", pbx::ShortCodeFeature::Unpark).unwrap(),
        ])));
    let relay = ScriptedRelay::default();
    let log = relay.log.clone();
    net.pbx.set_media_relay(Box::new(relay));
    let peers = phones
        .iter()
        .map(|(ext, port)| register_at(&mut net, ext, *port))
        .collect();
    (net, caller_201(), peers, log)
}

/// A request from 201 in its dialog (To tag `a_tag`), with extra header lines.
fn from_201(a: &mut Caller, method: &str, a_tag: &str, extra: &str) -> Vec<u8> {
    a.in_dialog(method, a_tag)
        .replace(
            "Content-Length: 0\r\n",
            &format!("{extra}Content-Length: 0\r\n"),
        )
        .into_bytes()
}

fn refer_to(target: &str) -> String {
    format!("Refer-To: <sip:{target}@127.0.0.1>\r\n")
}

fn sipfrag(req: &Request) -> String {
    String::from_utf8_lossy(&req.body).trim().to_string()
}

fn methods(reqs: &[Request]) -> Vec<Method> {
    reqs.iter().map(|r| r.method.clone()).collect()
}

fn records(net: &mut Net) -> Vec<pbx::CallRecord> {
    net.events()
        .into_iter()
        .filter_map(|e| match e {
            pbx::PbxEvent::CallEnded(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// 201 calls 202, which answers; returns 202's INVITE and 201's To tag.
fn call_202(net: &mut Net, a: &mut Caller, p202: Peer) -> (Request, String) {
    let out = a.call(net, "202");
    let inv = invites_to(&out, p202).remove(0);
    let out = net.deliver(p202, &answer(&inv, 200, "m202", Some(SDP_B)));
    let a_tag = to_tag(&responses_to(&out, a.phone.peer)[0]);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
    (inv, a_tag)
}

#[test]
fn the_caller_transfers_blind_and_the_callee_talks_to_the_target() {
    let (mut net, mut a, p, log) = office(&[("202", 5202), ("203", 5203)]);
    let (inv, a_tag) = call_202(&mut net, &mut a, p[0]);
    let call_id = a.phone.call_id.clone();

    let out = net.deliver(
        a.phone.peer,
        &from_201(&mut a, "REFER", &a_tag, &refer_to("203")),
    );
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [202]);
    let notify = requests_to(&out, a.phone.peer);
    assert_eq!(methods(&notify), [Method::Notify]);
    assert_eq!(sipfrag(&notify[0]), "SIP/2.0 100 Trying");
    // In 201's own dialog: its Call-ID, our tag as From, its tag as To.
    assert_eq!(
        notify[0].headers.get(&HeaderName::CallId),
        Some(call_id.as_str())
    );
    assert!(notify[0]
        .headers
        .get(&HeaderName::To)
        .unwrap()
        .contains("alice-tag"));
    // 203 is offered the port 201 used: it takes 201's place on the relay.
    let to_203 = invites_to(&out, p[1]).remove(0);
    let offer = String::from_utf8_lossy(&to_203.body).to_string();
    assert!(offer.contains("m=audio 10000 "), "{offer}");
    assert!(
        requests_to(&out, p[0]).is_empty(),
        "202's session is untouched"
    );
    let relay_log = log.lock().unwrap().clone();
    let swap = relay_log
        .iter()
        .position(|l| l == "swap 7")
        .expect("sides swapped");
    let ringback = relay_log
        .iter()
        .position(|l| l.starts_with("music 7 Caller ringback tone"))
        .expect("202 hears ringback on the caller side");
    assert!(swap < ringback, "{relay_log:?}");
    assert_eq!(net.pbx.active_calls(), [("202".into(), "201".into(), true)]);

    // 203 answers: 201 hears 200 by NOTIFY and gets BYE; 203 gets ACK.
    let out = net.deliver(p[1], &answer(&to_203, 200, "m203", Some(SDP_B)));
    let to_201 = requests_to(&out, a.phone.peer);
    assert_eq!(methods(&to_201), [Method::Notify, Method::Bye]);
    assert_eq!(sipfrag(&to_201[0]), "SIP/2.0 200 OK");
    assert_eq!(
        to_201[1].headers.get(&HeaderName::CallId),
        Some(call_id.as_str())
    );
    assert_eq!(methods(&requests_to(&out, p[1])), [Method::Ack]);
    assert!(requests_to(&out, p[0]).is_empty(), "202 was not on hold");
    assert_eq!(net.pbx.active_calls(), [("202".into(), "203".into(), true)]);
    let out = net.deliver(a.phone.peer, &answer(&to_201[1], 200, &a_tag, None));
    assert!(out.is_empty(), "{out:?}");

    // 202 hangs up in its own dialog: the BYE reaches 203.
    let out = net.deliver(p[0], &callee_request(&inv, 5202, "m202", "BYE", 2, ""));
    assert_eq!(statuses(&responses_to(&out, p[0])), [200]);
    let bye = requests_to(&out, p[1]).pop().expect("BYE to 203");
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(net.pbx.call_count(), 0);
    // The record says how the call was placed.
    let r = records(&mut net).pop().unwrap();
    assert_eq!((r.caller.as_str(), r.callee.as_str()), ("201", "202"));
    assert_eq!(r.call_id, call_id);
    assert_eq!((r.status, r.cause.as_str()), (200, "callee hung up"));
}

#[test]
fn a_failed_transfer_by_the_caller_leaves_it_talking_to_the_callee() {
    let (mut net, mut a, p, _) = office(&[("202", 5202), ("203", 5203)]);
    let (inv, a_tag) = call_202(&mut net, &mut a, p[0]);
    let out = net.deliver(
        a.phone.peer,
        &from_201(&mut a, "REFER", &a_tag, &refer_to("203")),
    );
    let to_203 = invites_to(&out, p[1]).remove(0);
    let out = net.deliver(p[1], &answer(&to_203, 486, "m203", None));
    let frags: Vec<String> = requests_to(&out, a.phone.peer)
        .iter()
        .map(sipfrag)
        .collect();
    assert_eq!(frags, ["SIP/2.0 486 Busy Here"]);
    // Still one call, 201 and 202 in it; 201 hangs up and the BYE reaches 202.
    assert_eq!(net.pbx.call_count(), 1);
    let out = net.deliver(a.phone.peer, from_201(&mut a, "BYE", &a_tag, "").as_slice());
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [200]);
    let bye = requests_to(&out, p[0]).pop().expect("BYE to 202");
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(
        bye.headers.get(&HeaderName::CallId),
        inv.headers.get(&HeaderName::CallId)
    );
    assert_eq!(net.pbx.call_count(), 0);
}

#[test]
fn a_callee_the_caller_held_is_resumed_when_the_target_answers() {
    let (mut net, mut a, p, _) = office(&[("202", 5202), ("203", 5203)]);
    let (inv, a_tag) = call_202(&mut net, &mut a, p[0]);
    // 201 holds 202: the sendonly offer reaches 202, which answers recvonly.
    let held = SDP_A.replace("o=alice 1 1", "o=alice 1 2") + "a=sendonly\r\n";
    let hold = String::from_utf8(from_201(&mut a, "INVITE", &a_tag, ""))
        .unwrap()
        .replace(
            "Content-Length: 0\r\n\r\n",
            &format!(
                "Contact: <sip:201@127.0.0.1:5060>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{held}",
                held.len()
            ),
        );
    let out = net.deliver(a.phone.peer, hold.as_bytes());
    let to_202 = invites_to(&out, p[0]).remove(0);
    assert!(String::from_utf8_lossy(&to_202.body).contains("a=sendonly"));
    let recvonly = SDP_B.to_string() + "a=recvonly\r\n";
    let out = net.deliver(p[0], &answer(&to_202, 200, "m202", Some(&recvonly)));
    let ok = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&ok), [200]);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());

    // 201 transfers 202 to 203; 203 answers.
    let out = net.deliver(
        a.phone.peer,
        &from_201(&mut a, "REFER", &a_tag, &refer_to("203")),
    );
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [202]);
    let to_203 = invites_to(&out, p[1]).remove(0);
    let out = net.deliver(p[1], &answer(&to_203, 200, "m203", Some(SDP_B)));
    // 202 is taken off hold in its own dialog, at its own relay port, two-way.
    let resume = invites_to(&out, p[0]).pop().expect("re-INVITE to 202");
    assert_eq!(
        resume.headers.get(&HeaderName::CallId),
        inv.headers.get(&HeaderName::CallId)
    );
    let offer = String::from_utf8_lossy(&resume.body).to_string();
    assert!(
        offer.contains("a=sendrecv") && !offer.contains("sendonly"),
        "{offer}"
    );
    assert!(offer.contains("m=audio 10002 "), "{offer}");
    let out = net.deliver(p[0], &answer(&resume, 200, "m202", Some(SDP_B)));
    assert_eq!(methods(&requests_to(&out, p[0])), [Method::Ack]);
}

#[test]
fn the_caller_parks_its_call_and_another_phone_takes_it() {
    let (mut net, mut a, p, log) = office(&[("202", 5202), ("203", 5203)]);
    let (_, a_tag) = call_202(&mut net, &mut a, p[0]);
    let out = net.deliver(
        a.phone.peer,
        &from_201(&mut a, "REFER", &a_tag, &refer_to("*37*1%23")),
    );
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [202]);
    let frags: Vec<String> = requests_to(&out, a.phone.peer)
        .iter()
        .map(sipfrag)
        .collect();
    assert_eq!(frags, ["SIP/2.0 200 OK"]);
    assert_eq!(
        net.pbx.active_calls(),
        [("202".into(), "park 1".into(), true)]
    );
    assert!(log
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.starts_with("music 7 Caller system")));
    net.deliver(a.phone.peer, &from_201(&mut a, "BYE", &a_tag, ""));
    // 203 unparks: answered at the port 201 used; 202 now talks to 203.
    let mut c = caller_on("203", 5203);
    let out = c.call_with_body(&mut net, "*38*1%23", SDP_B);
    let ok = responses_to(&out, p[1]);
    assert_eq!(statuses(&ok), [200]);
    assert!(String::from_utf8_lossy(&ok[0].body).contains("m=audio 10000 "));
    net.deliver(p[1], c.ack_text(&to_tag(&ok[0])).as_bytes());
    assert_eq!(net.pbx.active_calls(), [("202".into(), "203".into(), true)]);
}

#[test]
fn attended_transfer_between_two_calls_the_transferor_placed() {
    let (mut net, mut a, p, _) = office(&[("202", 5202), ("203", 5203)]);
    let (inv_202, a_tag) = call_202(&mut net, &mut a, p[0]);
    let first_call_id = a.phone.call_id.clone();
    // 201 consults 203 in a second call of its own.
    a.phone.call_id.push_str("-second");
    let out = a.call(&mut net, "203");
    let inv_203 = invites_to(&out, p[1]).remove(0);
    let out = net.deliver(p[1], &answer(&inv_203, 200, "m203", Some(SDP_B)));
    let q_tag = to_tag(&responses_to(&out, a.phone.peer)[0]);
    net.deliver(a.phone.peer, a.ack_text(&q_tag).as_bytes());
    let second_call_id = std::mem::replace(&mut a.phone.call_id, first_call_id.clone());
    assert_eq!(net.pbx.call_count(), 2);

    // 201 refers 202 (first call) to 203, replacing its second dialog.
    let replaces = format!(
        "Refer-To: <sip:203@127.0.0.1?Replaces={}%3Bto-tag%3D{q_tag}%3Bfrom-tag%3Dalice-tag>\r\n",
        second_call_id.replace('@', "%40")
    );
    let out = net.deliver(a.phone.peer, &from_201(&mut a, "REFER", &a_tag, &replaces));
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [202]);
    let to_201 = requests_to(&out, a.phone.peer);
    assert_eq!(methods(&to_201), [Method::Notify, Method::Bye]);
    assert_eq!(sipfrag(&to_201[0]), "SIP/2.0 200 OK");
    assert_eq!(
        to_201[0].headers.get(&HeaderName::CallId),
        Some(first_call_id.as_str())
    );
    assert_eq!(
        to_201[1].headers.get(&HeaderName::CallId),
        Some(second_call_id.as_str()),
        "the consultation dialog is hung up by us"
    );
    // 203 is moved to the first call's relay port of 201's side, in its own dialog.
    let moved = invites_to(&out, p[1]).remove(0);
    assert_eq!(
        moved.headers.get(&HeaderName::CallId),
        inv_203.headers.get(&HeaderName::CallId)
    );
    let offer = String::from_utf8_lossy(&moved.body).to_string();
    assert!(
        offer.contains("m=audio 10000 ") && offer.contains("a=sendrecv"),
        "{offer}"
    );
    let out = net.deliver(p[1], &answer(&moved, 200, "m203", Some(SDP_B)));
    assert_eq!(methods(&requests_to(&out, p[1])), [Method::Ack]);
    assert_eq!(net.pbx.active_calls(), [("202".into(), "203".into(), true)]);
    // 201 hangs up its first dialog on the NOTIFY; then 202's BYE reaches 203.
    let out = net.deliver(a.phone.peer, &from_201(&mut a, "BYE", &a_tag, ""));
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [200]);
    assert!(requests_to(&out, p[0]).is_empty() && requests_to(&out, p[1]).is_empty());
    let out = net.deliver(p[0], &callee_request(&inv_202, 5202, "m202", "BYE", 2, ""));
    let bye = requests_to(&out, p[1]).pop().expect("BYE to 203");
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(net.pbx.call_count(), 0);
}
