//! Call stories on the sans-IO core: two (or more) scripted phones, the B2BUA between them,
//! simulated time. Each test reads as the call flow it checks.

mod common;

use common::calls::*;
use sip::header::HeaderName;
use sip::Request;
use std::time::Duration;

#[test]
fn a_call_is_answered_and_the_caller_hangs_up() {
    let (mut net, mut a, b) = setup(&[5072]);
    let out = a.call(&mut net, "202");
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [100]);
    let invites = requests_to(&out, b[0]);
    assert_eq!(invites.len(), 1);
    let inv = &invites[0];
    assert_eq!(inv.uri.to_string(), "sip:202@127.0.0.1:5072");
    assert_eq!(inv.body, SDP_A.as_bytes(), "the offer is passed on");
    assert!(inv
        .headers
        .get(&HeaderName::From)
        .unwrap()
        .contains("sip:201@"));

    let out = net.deliver(b[0], &answer(inv, 180, "bob", None));
    let to_a = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&to_a), [180]);
    let a_tag = to_a[0]
        .headers
        .get(&HeaderName::To)
        .unwrap()
        .split("tag=")
        .nth(1)
        .unwrap()
        .to_string();

    net.now += Duration::from_secs(5);
    let out = net.deliver(b[0], &answer(inv, 200, "bob", Some(SDP_B)));
    let ok = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&ok), [200]);
    assert_eq!(ok[0].body, SDP_B.as_bytes(), "the answer is passed back");
    assert!(ok[0].headers.get(&HeaderName::To).unwrap().contains(&a_tag));
    let acks = requests_to(&out, b[0]);
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].method, sip::Method::Ack);
    assert!(acks[0]
        .headers
        .get(&HeaderName::To)
        .unwrap()
        .contains("tag=bob"));

    assert!(net
        .deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes())
        .is_empty());
    assert_eq!(net.pbx.call_count(), 1);
    assert_eq!(net.pbx.active_calls(), [("201".into(), "202".into(), true)]);

    // No retransmission of the 200 once the ACK came.
    assert!(responses_to(&net.run_for(Duration::from_secs(2)), a.phone.peer).is_empty());

    net.now += Duration::from_secs(6);
    let out = net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [200]);
    let byes = requests_to(&out, b[0]);
    assert_eq!(byes.len(), 1);
    assert_eq!(byes[0].method, sip::Method::Bye);
    assert_eq!(byes[0].uri.to_string(), "sip:202@127.0.0.1:5072");
    net.deliver(b[0], &answer(&byes[0], 200, "bob", None));
    let rec = call_ended(&mut net).expect("a call record");
    assert_eq!(rec.caller, "201");
    assert_eq!(rec.callee, "202");
    assert_eq!(rec.status, 200);
    assert_eq!(rec.cause, "caller hung up");
    let answered = rec.answered_ms.expect("answered");
    assert_eq!(answered - rec.started_ms, 5000);
    assert_eq!(rec.ended_ms - answered, 8000);
    assert_eq!(net.pbx.call_count(), 0);
    // Every transaction ends: nothing is left behind.
    net.run_for(Duration::from_secs(40));
    assert_eq!(net.pbx.transaction_count(), 0);
}

#[test]
fn the_callee_hangs_up_and_the_caller_gets_a_bye() {
    let (mut net, mut a, b) = setup(&[5072]);
    let out = a.call(&mut net, "202");
    let inv = requests_to(&out, b[0]).remove(0);
    let out = net.deliver(b[0], &answer(&inv, 200, "bob", Some(SDP_B)));
    let ok = responses_to(&out, a.phone.peer).remove(0);
    let a_tag = to_tag(&ok);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
    let ack = requests_to(&out, b[0]).remove(0);
    // B's BYE in its own dialog with us.
    let mut bye = Request::new(sip::Method::Bye, "sip:201@127.0.0.1:5060".parse().unwrap());
    bye.headers.push(
        HeaderName::Via,
        "SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bK-bbye",
    );
    bye.headers.push(HeaderName::MaxForwards, "70");
    bye.headers.push(
        HeaderName::From,
        ack.headers.get(&HeaderName::To).unwrap().to_string(),
    );
    bye.headers.push(
        HeaderName::To,
        ack.headers.get(&HeaderName::From).unwrap().to_string(),
    );
    bye.headers.push(
        HeaderName::CallId,
        ack.headers.get(&HeaderName::CallId).unwrap().to_string(),
    );
    bye.headers.push(HeaderName::CSeq, "7 BYE");
    let out = net.deliver(b[0], &bye.to_bytes());
    assert_eq!(statuses(&responses_to(&out, b[0])), [200]);
    let to_a = requests_to(&out, a.phone.peer);
    assert_eq!(to_a.len(), 1);
    assert_eq!(to_a[0].method, sip::Method::Bye);
    assert_eq!(to_a[0].uri.to_string(), "sip:201@127.0.0.1:5070");
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
    assert_eq!(call_ended(&mut net).unwrap().cause, "callee hung up");
}

#[test]
fn busy_callee_gives_486_and_a_record() {
    let (mut net, mut a, b) = setup(&[5072]);
    let out = a.call(&mut net, "202");
    let inv = requests_to(&out, b[0]).remove(0);
    let out = net.deliver(b[0], &answer(&inv, 486, "bob", None));
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [486]);
    let rec = call_ended(&mut net).unwrap();
    assert_eq!((rec.status, rec.cause.as_str()), (486, "busy"));
    assert_eq!(net.pbx.call_count(), 0);
}

#[test]
fn unassigned_and_unregistered_numbers() {
    let (mut net, mut a, _) = setup(&[]);
    let out = a.call(&mut net, "299");
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [404]);
    // Refused calls are recorded too: every attempt ends in a record.
    let record = call_ended(&mut net).expect("a record of the refused call");
    assert_eq!(
        (record.callee.as_str(), record.status, record.cause.as_str()),
        ("299", 404, "unassigned number")
    );
    assert_eq!(record.answered_ms, None);
    a.phone.call_id.push('2');
    let out = a.call(&mut net, "202");
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [480]);
    let record = call_ended(&mut net).expect("a record of the refused call");
    assert_eq!(
        (record.status, record.cause.as_str()),
        (480, "not registered")
    );
    assert_eq!(net.pbx.call_count(), 0);
}

#[test]
fn every_contact_rings_and_the_first_answer_wins() {
    let (mut net, mut a, b) = setup(&[5072, 5073, 5074]);
    let out = a.call(&mut net, "202");
    let invites: Vec<Request> = b.iter().map(|p| requests_to(&out, *p).remove(0)).collect();
    for (i, inv) in invites.iter().enumerate() {
        net.deliver(b[i], &answer(inv, 180, &format!("b{i}"), None));
    }
    let out = net.deliver(b[1], &answer(&invites[1], 200, "b1", Some(SDP_B)));
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [200]);
    // The others get CANCEL, the winner an ACK.
    for i in [0, 2] {
        let reqs = requests_to(&out, b[i]);
        assert_eq!(reqs.len(), 1, "fork {i}");
        assert_eq!(reqs[0].method, sip::Method::Cancel);
    }
    assert_eq!(requests_to(&out, b[1])[0].method, sip::Method::Ack);
}

#[test]
fn the_caller_cancels_and_gets_487() {
    let (mut net, mut a, b) = setup(&[5072]);
    let out = a.call(&mut net, "202");
    let inv = requests_to(&out, b[0]).remove(0);
    net.deliver(b[0], &answer(&inv, 180, "bob", None));
    let cancel = a.cancel_text("202");
    let out = net.deliver(a.phone.peer, cancel.as_bytes());
    let to_a = statuses(&responses_to(&out, a.phone.peer));
    assert!(to_a.contains(&200) && to_a.contains(&487), "{to_a:?}");
    let to_b = requests_to(&out, b[0]);
    assert_eq!(to_b[0].method, sip::Method::Cancel);
    net.deliver(b[0], &answer(&to_b[0], 200, "bob", None));
    net.deliver(b[0], &answer(&inv, 487, "bob", None));
    let rec = call_ended(&mut net).unwrap();
    assert_eq!((rec.status, rec.cause.as_str()), (487, "cancelled"));
}

#[test]
fn a_200_that_crosses_the_cancel_is_acked_and_byed() {
    // RFC 5407 §3.1.2: the callee accepted our CANCEL but had already answered.
    let (mut net, mut a, b) = setup(&[5072]);
    let out = a.call(&mut net, "202");
    let inv = requests_to(&out, b[0]).remove(0);
    net.deliver(b[0], &answer(&inv, 180, "bob", None));
    let cancel = a.cancel_text("202");
    net.deliver(a.phone.peer, cancel.as_bytes());
    let out = net.deliver(b[0], &answer(&inv, 200, "bob", Some(SDP_B)));
    let to_b: Vec<_> = requests_to(&out, b[0])
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(to_b, [sip::Method::Ack, sip::Method::Bye]);
    assert!(
        responses_to(&out, a.phone.peer).is_empty(),
        "the caller keeps its 487"
    );
    // Nothing is left of the call: it ends with its record at once.
    assert_eq!(net.pbx.call_count(), 0);
    let record = call_ended(&mut net).expect("a call record");
    assert_eq!((record.status, record.cause.as_str()), (487, "cancelled"));
}

#[test]
fn the_200_is_retransmitted_until_the_ack_and_the_call_dies_without_one() {
    let (mut net, mut a, b) = setup(&[5072]);
    let out = a.call(&mut net, "202");
    let inv = requests_to(&out, b[0]).remove(0);
    net.deliver(b[0], &answer(&inv, 200, "bob", Some(SDP_B)));
    let out = net.run_for(Duration::from_millis(3600));
    // T1 doubling: 0.5, 1.5, 3.5 s.
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [200, 200, 200]);
    let out = net.run_for(Duration::from_secs(40));
    let byes = requests_to(&out, b[0]);
    assert!(byes.iter().any(|r| r.method == sip::Method::Bye));
    assert!(requests_to(&out, a.phone.peer)
        .iter()
        .any(|r| r.method == sip::Method::Bye));
    assert_eq!(call_ended(&mut net).unwrap().cause, "no ACK from caller");
}

#[test]
fn an_unanswered_fork_that_never_rings_times_out_to_408_as_no_answer() {
    let (mut net, mut a, _b) = setup(&[5072]);
    a.call(&mut net, "202");
    let out = net.run_for(Duration::from_secs(33));
    let to_a = statuses(&responses_to(&out, a.phone.peer));
    // The 408 and its retransmissions (the test phone never ACKs it).
    assert!(
        !to_a.is_empty() && to_a.iter().all(|s| *s == 408),
        "{to_a:?}"
    );
    assert_eq!(call_ended(&mut net).unwrap().cause, "no answer");
}

#[test]
fn a_bye_for_no_call_gets_481() {
    let (mut net, mut a, _) = setup(&[]);
    let out = net.deliver(a.phone.peer, a.in_dialog("BYE", "nope").as_bytes());
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [481]);
}

#[test]
fn a_malformed_offer_gets_488_and_no_call_starts() {
    let (mut net, mut a, b) = setup(&[5072]);
    a.phone.call_id.push_str("-bad");
    let out = a.call_with_body(&mut net, "202", "v=0\r\nm=audio nonsense\r\n");
    let to_a = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&to_a), [488]);
    let warning = to_a[0]
        .headers
        .get(&HeaderName::Other("Warning".into()))
        .expect("a Warning says why");
    assert!(warning.starts_with("399 strowger "), "{warning}");
    assert!(
        requests_to(&out, b[0]).is_empty(),
        "the callee is not disturbed"
    );
    assert_eq!(net.pbx.call_count(), 0);
}

#[test]
fn late_offer_the_answer_in_the_callers_ack_reaches_the_callee() {
    let (mut net, mut a, b) = setup(&[5072]);
    // INVITE without a body: the callee's 200 carries the offer.
    let out = a.call_with_body(&mut net, "202", "");
    let inv = requests_to(&out, b[0]).remove(0);
    assert!(inv.body.is_empty());
    let out = net.deliver(b[0], &answer(&inv, 200, "bob", Some(SDP_B)));
    let ok = responses_to(&out, a.phone.peer).remove(0);
    assert_eq!(
        ok.body,
        SDP_B.as_bytes(),
        "the callee's offer goes to the caller"
    );
    assert!(
        requests_to(&out, b[0]).is_empty(),
        "no ACK before the caller's answer"
    );
    // The callee retransmits its 200 meanwhile: still no ACK, and no BYE.
    let out = net.deliver(b[0], &answer(&inv, 200, "bob", Some(SDP_B)));
    assert!(requests_to(&out, b[0]).is_empty());
    let a_tag = to_tag(&ok);
    let ack = a.ack_text(&a_tag).replace(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP_A}",
            SDP_A.len()
        ),
    );
    let out = net.deliver(a.phone.peer, ack.as_bytes());
    let acks = requests_to(&out, b[0]);
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].method, sip::Method::Ack);
    assert_eq!(
        acks[0].body,
        SDP_A.as_bytes(),
        "the caller's answer goes to the callee"
    );
    // A later retransmitted 200 gets the same ACK again, never a BYE.
    let out = net.deliver(b[0], &answer(&inv, 200, "bob", Some(SDP_B)));
    let again = requests_to(&out, b[0]);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].method, sip::Method::Ack);
    assert_eq!(again[0].body, SDP_A.as_bytes());
}

#[test]
fn a_retransmitted_200_from_the_winner_is_acked_again_not_byed() {
    let (mut net, mut a, b) = setup(&[5072]);
    let out = a.call(&mut net, "202");
    let inv = requests_to(&out, b[0]).remove(0);
    net.deliver(b[0], &answer(&inv, 200, "bob", Some(SDP_B)));
    let out = net.deliver(b[0], &answer(&inv, 200, "bob", Some(SDP_B)));
    let methods: Vec<_> = requests_to(&out, b[0])
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(methods, [sip::Method::Ack]);
    assert_eq!(net.pbx.call_count(), 1);
}

/// A relay that hands out fixed ports and writes down what it is told.
#[test]
fn media_is_anchored_on_the_relay_both_ways() {
    let (mut net, mut a, b) = setup(&[5072]);
    let relay = ScriptedRelay::default();
    net.pbx.set_media_relay(Box::new(relay.clone()));
    let out = a.call(&mut net, "202");
    let inv = requests_to(&out, b[0]).remove(0);
    let offer = String::from_utf8(inv.body.clone()).unwrap();
    assert!(offer.contains("m=audio 10002 RTP/AVP 0 8 101"), "{offer}");
    assert!(offer.contains("c=IN IP4 127.0.0.1"), "{offer}");
    let out = net.deliver(b[0], &answer(&inv, 200, "bob", Some(SDP_B)));
    let ok = responses_to(&out, a.phone.peer).remove(0);
    let answer_sdp = String::from_utf8(ok.body.clone()).unwrap();
    assert!(
        answer_sdp.contains("m=audio 10000 RTP/AVP 0 101"),
        "{answer_sdp}"
    );
    assert!(
        answer_sdp.contains("o=bob 1 2 IN IP4 127.0.0.1"),
        "{answer_sdp}"
    );
    let a_tag = to_tag(&ok);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
    net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    let rec = call_ended(&mut net).unwrap();
    assert_eq!(rec.media, "a->b 10 packets");
    assert_eq!(
        *relay.log.lock().unwrap(),
        [
            "open",
            "remote 7 Caller 127.0.0.1:40000",
            "remote 7 Callee 127.0.0.1:42000",
            "close 7"
        ]
    );
}

#[test]
fn no_media_ports_left_gives_503() {
    let (mut net, mut a, b) = setup(&[5072]);
    net.pbx.set_media_relay(Box::new(ScriptedRelay {
        exhausted: true,
        ..ScriptedRelay::default()
    }));
    let out = a.call(&mut net, "202");
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [503]);
    assert!(requests_to(&out, b[0]).is_empty());
}

#[test]
fn hold_by_re_invite_reaches_the_other_phone_through_the_relay() {
    let (mut net, mut a, b) = setup(&[5072]);
    let (_, a_tag) = answered_call(&mut net, &mut a, b[0]);
    let hold = SDP_A
        .replace("a=rtpmap:101", "a=sendonly\r\na=rtpmap:101")
        .replace("o=alice 1 1", "o=alice 1 2");
    let reinvite = a
        .in_dialog("INVITE", &a_tag)
        .replace(
            "Content-Length: 0\r\n\r\n",
            &format!(
                "Contact: <sip:201@127.0.0.1:5070>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{hold}",
                hold.len()
            ),
        );
    let out = net.deliver(a.phone.peer, reinvite.as_bytes());
    let to_b = requests_to(&out, b[0]);
    assert_eq!(to_b.len(), 1);
    assert_eq!(to_b[0].method, sip::Method::Invite);
    assert!(to_b[0]
        .headers
        .get(&HeaderName::To)
        .unwrap()
        .contains("tag=bob"));
    let offer = String::from_utf8(to_b[0].body.clone()).unwrap();
    assert!(offer.contains("a=sendonly"), "{offer}");
    assert!(offer.contains("m=audio 10002"), "{offer}");
    let held = SDP_B.replace("a=rtpmap:101", "a=recvonly\r\na=rtpmap:101");
    let out = net.deliver(b[0], &answer(&to_b[0], 200, "bob", Some(&held)));
    let to_a = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&to_a), [200]);
    let ans = String::from_utf8(to_a[0].body.clone()).unwrap();
    assert!(
        ans.contains("a=recvonly") && ans.contains("m=audio 10000"),
        "{ans}"
    );
    let acks = requests_to(&out, b[0]);
    assert_eq!(acks.len(), 1);
    assert_eq!(acks[0].method, sip::Method::Ack);
    assert!(acks[0]
        .headers
        .get(&HeaderName::CSeq)
        .unwrap()
        .ends_with("ACK"));
    // The caller's ACK ends the 2xx retransmissions.
    let ack = a.ack_text(&a_tag);
    assert!(net.deliver(a.phone.peer, ack.as_bytes()).is_empty());
    assert!(responses_to(&net.run_for(Duration::from_secs(2)), a.phone.peer).is_empty());
    assert_eq!(net.pbx.call_count(), 1);
}

#[test]
fn info_from_the_callee_reaches_the_caller_and_the_answer_comes_back() {
    let (mut net, mut a, b) = setup(&[5072]);
    let (inv, _) = answered_call(&mut net, &mut a, b[0]);
    let mut info = Request::new(sip::Method::Info, "sip:201@127.0.0.1:5060".parse().unwrap());
    info.headers.push(
        HeaderName::Via,
        "SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bK-info1",
    );
    info.headers.push(HeaderName::MaxForwards, "70");
    info.headers.push(
        HeaderName::From,
        format!("{};tag=bob", inv.headers.get(&HeaderName::To).unwrap()),
    );
    info.headers.push(
        HeaderName::To,
        inv.headers.get(&HeaderName::From).unwrap().to_string(),
    );
    info.headers.push(
        HeaderName::CallId,
        inv.headers.get(&HeaderName::CallId).unwrap().to_string(),
    );
    info.headers.push(HeaderName::CSeq, "5 INFO");
    info.headers
        .push(HeaderName::ContentType, "application/dtmf-relay");
    info.body = b"Signal=5\r\nDuration=160\r\n".to_vec();
    let out = net.deliver(b[0], &info.to_bytes());
    let to_a = requests_to(&out, a.phone.peer);
    assert_eq!(to_a.len(), 1);
    assert_eq!(to_a[0].method, sip::Method::Info);
    assert_eq!(to_a[0].body, info.body);
    assert_eq!(
        to_a[0].headers.get(&HeaderName::ContentType),
        Some("application/dtmf-relay")
    );
    let out = net.deliver(a.phone.peer, &answer(&to_a[0], 200, "x", None));
    let to_b = responses_to(&out, b[0]);
    assert_eq!(statuses(&to_b), [200]);
    assert!(to_b[0]
        .headers
        .get(&HeaderName::CSeq)
        .unwrap()
        .starts_with("5 INFO"));
}

#[test]
fn a_required_extension_we_lack_gets_420_naming_it() {
    let (mut net, mut a, _) = setup(&[5072]);
    let text = a.invite_text("202", None).replace(
        "Max-Forwards: 70\r\n",
        "Max-Forwards: 70\r\nRequire: 100rel, precondition\r\n",
    );
    let out = net.deliver(a.phone.peer, text.as_bytes());
    let r = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&r), [420]);
    // 100rel we support; only the other is named.
    assert_eq!(
        r[0].headers.get(&HeaderName::Unsupported),
        Some("precondition")
    );
}

#[test]
fn a_200_after_the_ring_timeout_is_acked_and_byed_not_relayed() {
    let (mut net, mut a, b) = setup(&[5072]);
    let out = a.call(&mut net, "202");
    let inv = requests_to(&out, b[0]).remove(0);
    net.deliver(b[0], &answer(&inv, 180, "bob", None));
    let out = net.run_for(std::time::Duration::from_secs(181));
    assert!(statuses(&responses_to(&out, a.phone.peer)).contains(&480));
    let out = net.deliver(b[0], &answer(&inv, 200, "bob", Some(SDP_B)));
    let to_b: Vec<_> = requests_to(&out, b[0])
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(to_b, [sip::Method::Ack, sip::Method::Bye]);
    assert!(responses_to(&out, a.phone.peer).is_empty());
    assert_eq!(net.pbx.call_count(), 0);
}
