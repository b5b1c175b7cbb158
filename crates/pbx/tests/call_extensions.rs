//! Call stories for the SIP extensions real phones lean on: reliable provisional responses
//! (RFC 3262 100rel/PRACK), session timers (RFC 4028) and offerless re-INVITEs.

mod common;

use common::calls::*;
use common::Net;
use pbx::{PbxSettings, Peer};
use sip::header::HeaderName;
use sip::{Message, Method, Request, Response};
use std::time::Duration;

/// A request from the caller in its dialog, with extra header lines and an optional SDP.
fn caller_request(
    a: &mut Caller,
    method: &str,
    a_tag: &str,
    extra: &str,
    sdp: Option<&str>,
) -> String {
    let body = sdp.unwrap_or("");
    let ct = if sdp.is_some() {
        "Content-Type: application/sdp\r\n"
    } else {
        ""
    };
    a.in_dialog(method, a_tag).replace(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Contact: <sip:201@127.0.0.1:5070>\r\n{extra}{ct}Content-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn header(r: &Response, name: HeaderName) -> Option<&str> {
    r.headers.get(&name)
}

fn prack_text(a: &mut Caller, a_tag: &str, rseq: &str, invite_cseq: u32) -> String {
    caller_request(
        a,
        "PRACK",
        a_tag,
        &format!("RAck: {rseq} {invite_cseq} INVITE\r\n"),
        None,
    )
}

/// The methods of requests, retransmissions folded (UDP client transactions resend).
fn methods(reqs: &[Request]) -> Vec<Method> {
    let mut m: Vec<Method> = reqs.iter().map(|r| r.method.clone()).collect();
    m.dedup();
    m
}

#[test]
fn a_caller_that_requires_100rel_prack_s_early_media_before_the_answer() {
    let (mut net, mut a, b) = setup(&[5072]);
    a.extra_headers = "Require: 100rel\r\nSupported: 100rel\r\n".into();
    let out = a.call(&mut net, "202");
    let inv = requests_to(&out, b[0]).remove(0);
    // Our INVITE offers 100rel to the callee.
    assert!(inv
        .headers
        .get(&HeaderName::Supported)
        .unwrap()
        .contains("100rel"));
    let invite_cseq = a.cseq;

    let out = net.deliver(b[0], &answer(&inv, 183, "bob", Some(SDP_B)));
    let early = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&early), [183]);
    assert_eq!(header(&early[0], HeaderName::Require), Some("100rel"));
    let rseq = header(&early[0], HeaderName::RSeq).unwrap().to_string();
    assert!(!early[0].body.is_empty());
    let a_tag = to_tag(&early[0]);

    // Unacknowledged, the 183 is sent again after T1.
    let again = responses_to(&net.run_for(Duration::from_millis(600)), a.phone.peer);
    assert_eq!(statuses(&again), [183]);
    assert_eq!(header(&again[0], HeaderName::RSeq), Some(rseq.as_str()));

    // The callee answers before the PRACK: the 2xx waits, since the 183 carried SDP.
    let out = net.deliver(b[0], &answer(&inv, 200, "bob", Some(SDP_B)));
    assert!(responses_to(&out, a.phone.peer).is_empty());

    // A PRACK for another RSeq matches nothing: 481.
    let wrong = prack_text(&mut a, &a_tag, "1", invite_cseq);
    let r = responses_to(&net.deliver(a.phone.peer, wrong.as_bytes()), a.phone.peer);
    assert_eq!(statuses(&r), [481]);

    let prack = prack_text(&mut a, &a_tag, &rseq, invite_cseq);
    let out = net.deliver(a.phone.peer, prack.as_bytes());
    let r = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&r), [200, 200]);
    assert!(header(&r[0], HeaderName::CSeq).unwrap().ends_with("PRACK"));
    assert!(header(&r[1], HeaderName::CSeq).unwrap().ends_with("INVITE"));
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
    // No more 183s once answered.
    let later = responses_to(&net.run_for(Duration::from_secs(5)), a.phone.peer);
    assert!(later.is_empty(), "{later:?}");
    assert_eq!(net.pbx.call_count(), 1);
}

#[test]
fn provisionals_wait_their_turn_and_a_missing_prack_refuses_the_call() {
    let (mut net, mut a, b) = setup(&[5072]);
    a.extra_headers = "Require: 100rel\r\n".into();
    let out = a.call(&mut net, "202");
    let inv = requests_to(&out, b[0]).remove(0);
    let first = responses_to(
        &net.deliver(b[0], &answer(&inv, 180, "bob", None)),
        a.phone.peer,
    );
    assert_eq!(statuses(&first), [180]);
    // A second provisional waits until the first is PRACKed (RFC 3262 §3).
    let second = net.deliver(b[0], &answer(&inv, 183, "bob", Some(SDP_B)));
    assert!(responses_to(&second, a.phone.peer).is_empty());
    // No PRACK ever: after 64*T1 the caller gets 504 and the callee a CANCEL.
    let out = net.run_for(Duration::from_secs(33));
    let to_a = responses_to(&out, a.phone.peer);
    assert!(to_a.iter().all(|r| r.status.0 == 180 || r.status.0 == 504));
    assert_eq!(to_a.last().map(|r| r.status.0), Some(504));
    assert!(methods(&requests_to(&out, b[0])).contains(&Method::Cancel));
}

#[test]
fn a_reliable_provisional_from_the_callee_is_pracked_once_and_relayed_once() {
    let (mut net, mut a, b) = setup(&[5072]);
    let out = a.call(&mut net, "202");
    let inv = requests_to(&out, b[0]).remove(0);
    let mut ringing = Response::for_request(&inv, sip::StatusCode(180));
    let to = ringing.headers.get(&HeaderName::To).unwrap().to_string();
    ringing.headers.set(HeaderName::To, format!("{to};tag=bob"));
    ringing
        .headers
        .push(HeaderName::Contact, "<sip:202@127.0.0.1:5072>");
    ringing.headers.push(HeaderName::Require, "100rel");
    ringing.headers.push(HeaderName::RSeq, "4711");
    let out = net.deliver(b[0], &ringing.to_bytes());
    let to_b = requests_to(&out, b[0]);
    assert_eq!(methods(&to_b), [Method::Prack]);
    assert_eq!(
        to_b[0].headers.get(&HeaderName::RAck),
        Some("4711 1 INVITE")
    );
    assert!(to_b[0]
        .headers
        .get(&HeaderName::To)
        .unwrap()
        .contains("tag=bob"));
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [180]);
    // The callee did not hear our PRACK yet and sends the 180 again: nothing new.
    let out = net.deliver(b[0], &ringing.to_bytes());
    assert!(requests_to(&out, b[0]).is_empty());
    assert!(responses_to(&out, a.phone.peer).is_empty());
}

#[test]
fn a_session_interval_below_min_se_gets_422() {
    let (mut net, mut a, _b) = setup(&[5072]);
    a.extra_headers = "Supported: timer\r\nSession-Expires: 60\r\n".into();
    let out = a.call(&mut net, "202");
    let r = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&r), [422]);
    assert_eq!(header(&r[0], HeaderName::MinSe), Some("90"));
    assert_eq!(net.pbx.call_count(), 0);
}

/// A call answered with the caller as refresher of a 90 s session; returns the To tag.
fn timed_call(net: &mut Net, a: &mut Caller, b: Peer) -> (Request, String) {
    a.extra_headers = "Supported: timer\r\nSession-Expires: 90;refresher=uac\r\n".into();
    let out = a.call(net, "202");
    let inv = requests_to(&out, b).remove(0);
    let out = net.deliver(b, &answer(&inv, 200, "bob", Some(SDP_B)));
    let ok = responses_to(&out, a.phone.peer).remove(0);
    assert_eq!(ok.status.0, 200);
    assert_eq!(
        header(&ok, HeaderName::SessionExpires),
        Some("90;refresher=uac")
    );
    assert_eq!(header(&ok, HeaderName::Require), Some("timer"));
    let a_tag = to_tag(&ok);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
    (inv, a_tag)
}

#[test]
fn a_call_nobody_refreshes_is_ended_on_both_sides() {
    let (mut net, mut a, b) = setup(&[5072]);
    timed_call(&mut net, &mut a, b[0]);
    // Expiry at 90 - min(32, 30) = 60 s without a refresh.
    let out = net.run_for(Duration::from_secs(59));
    assert!(requests_to(&out, b[0]).is_empty());
    let out = net.run_for(Duration::from_secs(2));
    assert_eq!(methods(&requests_to(&out, b[0])), [Method::Bye]);
    assert_eq!(methods(&requests_to(&out, a.phone.peer)), [Method::Bye]);
    let record = call_ended(&mut net).expect("a call record");
    assert_eq!(record.cause, "session timer expired");
    assert_eq!(net.pbx.call_count(), 0);
}

#[test]
fn an_update_from_the_caller_refreshes_the_session() {
    let (mut net, mut a, b) = setup(&[5072]);
    let (_, a_tag) = timed_call(&mut net, &mut a, b[0]);
    net.run_for(Duration::from_secs(40));
    let update = caller_request(
        &mut a,
        "UPDATE",
        &a_tag,
        "Supported: timer\r\nSession-Expires: 90;refresher=uac\r\n",
        None,
    );
    let out = net.deliver(a.phone.peer, update.as_bytes());
    let relayed = requests_to(&out, b[0]);
    assert_eq!(methods(&relayed), [Method::Update]);
    let out = net.deliver(b[0], &answer(&relayed[0], 200, "bob", None));
    let ok = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&ok), [200]);
    assert_eq!(
        header(&ok[0], HeaderName::SessionExpires),
        Some("90;refresher=uac")
    );
    // 40 s later (80 s into the call) it still lives: the refresh restarted the interval.
    let out = net.run_for(Duration::from_secs(40));
    assert!(requests_to(&out, b[0]).is_empty());
    assert_eq!(net.pbx.call_count(), 1);
    // A refresh asking for less than Min-SE is refused.
    let brief = caller_request(
        &mut a,
        "UPDATE",
        &a_tag,
        "Supported: timer\r\nSession-Expires: 30\r\n",
        None,
    );
    let r = responses_to(&net.deliver(a.phone.peer, brief.as_bytes()), a.phone.peer);
    assert_eq!(statuses(&r), [422]);
}

#[test]
fn we_refresh_a_caller_without_timer_support_and_end_the_call_when_it_is_gone() {
    let settings = PbxSettings {
        session_expires: 120,
        ..PbxSettings::default()
    };
    let (mut net, mut a, b) = setup_with(settings, &[5072]);
    a.extra_headers = "Allow: INVITE, ACK, BYE, CANCEL, UPDATE\r\n".into();
    let out = a.call(&mut net, "202");
    let inv = requests_to(&out, b[0]).remove(0);
    let out = net.deliver(b[0], &answer(&inv, 200, "bob", Some(SDP_B)));
    let ok = responses_to(&out, a.phone.peer).remove(0);
    assert_eq!(
        header(&ok, HeaderName::SessionExpires),
        Some("120;refresher=uas")
    );
    assert_eq!(header(&ok, HeaderName::Require), None);
    let a_tag = to_tag(&ok);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());

    // At half the interval we send UPDATE; the caller answers; the call goes on.
    let out = net.run_for(Duration::from_secs(61));
    let refresh = requests_to(&out, a.phone.peer);
    assert_eq!(methods(&refresh), [Method::Update]);
    assert_eq!(
        refresh[0].headers.get(&HeaderName::SessionExpires),
        Some("120;refresher=uac")
    );
    net.deliver(a.phone.peer, &answer(&refresh[0], 200, "alice-tag", None));
    assert_eq!(net.pbx.call_count(), 1);

    // The next refresh goes unanswered (the phone lost power): both sides get BYE.
    let out = net.run_for(Duration::from_secs(60 + 33));
    let to_a = requests_to(&out, a.phone.peer);
    assert_eq!(to_a.first().map(|r| r.method.clone()), Some(Method::Update));
    assert!(methods(&requests_to(&out, b[0])).contains(&Method::Bye));
    assert_eq!(net.pbx.call_count(), 0);
}

#[test]
fn a_re_invite_without_sdp_carries_the_answer_in_the_ack() {
    let (mut net, mut a, b) = setup(&[5072]);
    let (_, a_tag) = answered_call(&mut net, &mut a, b[0]);
    let reinvite = caller_request(&mut a, "INVITE", &a_tag, "", None);
    let out = net.deliver(a.phone.peer, reinvite.as_bytes());
    let to_b = requests_to(&out, b[0]);
    assert_eq!(methods(&to_b), [Method::Invite]);
    assert!(to_b[0].body.is_empty());
    // The callee offers in its 2xx; the caller gets that offer, anchored on the relay.
    let out = net.deliver(b[0], &answer(&to_b[0], 200, "bob", Some(SDP_B)));
    let ok = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&ok), [200]);
    assert!(String::from_utf8_lossy(&ok[0].body).contains("m=audio 10000"));
    // Our ACK to the callee waits for the answer.
    assert!(requests_to(&out, b[0]).is_empty());
    let ack = a.ack_text(&a_tag).replace(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP_A}",
            SDP_A.len()
        ),
    );
    let out = net.deliver(a.phone.peer, ack.as_bytes());
    let acks = requests_to(&out, b[0]);
    assert_eq!(methods(&acks), [Method::Ack]);
    let body = String::from_utf8_lossy(&acks[0].body).to_string();
    assert!(body.contains("m=audio 10002"), "{body}");
    assert_eq!(
        acks[0].headers.get(&HeaderName::ContentType),
        Some("application/sdp")
    );
}

#[test]
fn our_2xx_to_the_callees_re_invite_is_retransmitted_until_its_ack() {
    let (mut net, mut a, b) = setup(&[5072]);
    let (inv, a_tag) = answered_call(&mut net, &mut a, b[0]);
    // The callee re-INVITEs in its dialog (From/To swapped from our INVITE).
    let from = inv.headers.get(&HeaderName::From).unwrap().to_string();
    let to = inv.headers.get(&HeaderName::To).unwrap().to_string();
    let call_id = inv.headers.get(&HeaderName::CallId).unwrap().to_string();
    let text = format!(
        "INVITE sip:201@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bK-b-re;rport\r\n\
         Max-Forwards: 70\r\nFrom: {to};tag=bob\r\nTo: {from}\r\nCall-ID: {call_id}\r\nCSeq: 10 INVITE\r\n\
         Contact: <sip:202@127.0.0.1:5072>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP_B}",
        SDP_B.len()
    );
    let out = net.deliver(b[0], text.as_bytes());
    let to_a = requests_to(&out, a.phone.peer);
    assert_eq!(methods(&to_a), [Method::Invite]);
    assert!(to_a[0]
        .headers
        .get(&HeaderName::To)
        .unwrap()
        .contains("tag=alice-tag"));
    assert!(to_a[0]
        .headers
        .get(&HeaderName::From)
        .unwrap()
        .contains(&a_tag));
    net.deliver(
        a.phone.peer,
        &answer(&to_a[0], 200, "alice-tag", Some(SDP_A)),
    );
    // Unacknowledged, our 2xx reaches the callee again and again.
    let out = net.run_for(Duration::from_secs(2));
    let again: Vec<_> = out
        .iter()
        .filter(|(p, m)| *p == b[0] && matches!(m, Message::Response(r) if r.status.0 == 200))
        .collect();
    assert!(again.len() >= 2, "{again:?}");
    // Its ACK stops them.
    let ack = text
        .replace("INVITE sip:", "ACK sip:")
        .replace("CSeq: 10 INVITE", "CSeq: 10 ACK")
        .replace("z9hG4bK-b-re", "z9hG4bK-b-ack");
    let ack = ack.split("Contact:").next().unwrap().to_string() + "Content-Length: 0\r\n\r\n";
    let to_tag_b = responses_to(&out, b[0])[0]
        .headers
        .get(&HeaderName::To)
        .unwrap()
        .to_string();
    let ack = ack.replace(&format!("To: {from}"), &format!("To: {to_tag_b}"));
    net.deliver(b[0], ack.as_bytes());
    let out = net.run_for(Duration::from_secs(10));
    assert!(responses_to(&out, b[0]).is_empty());
    assert_eq!(net.pbx.call_count(), 1);
}
