//! Business call features on the core, as whole stories in simulated time: hunt groups,
//! forwarding, do-not-disturb, loops, overflow, night service.

mod common;

use common::calls::*;
use common::Net;
use pbx::{Features, Forwarding, HuntGroupEntry, HuntMode, PbxSettings, Peer, UserEntry};
use sip::header::HeaderName;
use sip::{Message, Method, Request};
use std::time::Duration;

const EXTENSIONS: &[&str] = &["201", "202", "203", "204", "205", "206", "207"];

/// A core with extensions 201..207, these features, and phones registered for `phones`
/// (extension, port).
fn office(features: Features, phones: &[(&str, u16)]) -> (Net, Caller, Vec<Peer>) {
    let mut net = Net::with_extensions(PbxSettings::default(), EXTENSIONS);
    net.pbx.set_features(features);
    let peers = phones
        .iter()
        .map(|(ext, port)| register_at(&mut net, ext, *port))
        .collect();
    (net, caller_201(), peers)
}

fn group(mode: HuntMode, members: &[&str]) -> HuntGroupEntry {
    HuntGroupEntry {
        name: "sales".into(),
        number: "300".into(),
        mode,
        members: members.iter().map(|m| m.to_string()).collect(),
        no_answer_after: Duration::from_secs(15),
        overflow: None,
        night_service_to: None,
        in_service: true,
        queue_limit: 0,
        voicemail_after: None,
        time_profile: None,
    }
}

fn user(ext: &str, f: impl FnOnce(&mut UserEntry)) -> UserEntry {
    let mut u = UserEntry::new(&format!("u{ext}"), ext);
    f(&mut u);
    u
}

/// The phone answers the CANCEL and its INVITE (200 and 487), as a phone does.
fn accept_cancel(net: &mut Net, peer: Peer, invite: &Request, out: &[(Peer, Message)]) {
    for c in requests_to(out, peer)
        .iter()
        .filter(|r| r.method == Method::Cancel)
    {
        net.deliver(peer, &answer(c, 200, "x", None));
    }
    net.deliver(peer, &answer(invite, 487, "x", None));
}

#[test]
fn sequential_hunt_group_moves_to_the_next_member_when_one_does_not_answer() {
    // "201 calls hunt group 300; 206 does not answer in 15 s; the call goes to 207."
    let features = Features::new([], [group(HuntMode::Sequential, &["206", "207"])]);
    let (mut net, mut a, p) = office(features, &[("206", 5206), ("207", 5207)]);
    let out = a.call(&mut net, "300");
    let to_206 = invites_to(&out, p[0]);
    assert_eq!(to_206.len(), 1);
    assert!(invites_to(&out, p[1]).is_empty(), "one member at a time");
    // The group's name comes first in what the member's phone shows.
    let from = to_206[0].headers.get(&HeaderName::From).unwrap();
    assert!(from.starts_with("\"sales: Alice\""), "{from}");
    net.deliver(p[0], &answer(&to_206[0], 180, "m206", None));

    let out = net.run_for(Duration::from_secs(14));
    assert!(invites_to(&out, p[1]).is_empty());
    let out = net.run_for(Duration::from_secs(2));
    assert_eq!(cancels_to(&out, p[0]), 1, "206 stops ringing");
    let to_207 = invites_to(&out, p[1]);
    assert_eq!(to_207.len(), 1, "207 rings after 15 s");
    accept_cancel(&mut net, p[0], &to_206[0], &out);

    let out = net.deliver(p[1], &answer(&to_207[0], 200, "m207", Some(SDP_B)));
    let ok = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&ok), [200]);
    let a_tag = to_tag(&ok[0]);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
    assert_eq!(net.pbx.active_calls(), [("201".into(), "300".into(), true)]);
}

#[test]
fn collective_group_rings_all_and_the_first_answer_wins() {
    let features = Features::new([], [group(HuntMode::Collective, &["202", "203"])]);
    let (mut net, mut a, p) = office(features, &[("202", 5202), ("203", 5203)]);
    let out = a.call(&mut net, "300");
    let (i2, i3) = (invites_to(&out, p[0]), invites_to(&out, p[1]));
    assert_eq!((i2.len(), i3.len()), (1, 1));
    net.deliver(p[0], &answer(&i2[0], 180, "m202", None));
    net.deliver(p[1], &answer(&i3[0], 180, "m203", None));
    let out = net.deliver(p[1], &answer(&i3[0], 200, "m203", Some(SDP_B)));
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [200]);
    assert_eq!(cancels_to(&out, p[0]), 1);
}

#[test]
fn a_busy_member_is_skipped_and_the_idle_longest_is_offered_first() {
    let features = Features::new(
        [],
        [
            group(HuntMode::LongestWaiting, &["202", "203", "204"]),
            HuntGroupEntry {
                number: "301".into(),
                ..group(HuntMode::Collective, &["205"])
            },
        ],
    );
    let (mut net, mut a, p) = office(features, &[("202", 5202), ("203", 5203), ("204", 5204)]);
    // 202 takes a call and hangs up: it is now the most recently busy.
    let out = a.call(&mut net, "300");
    let to_202 = invites_to(&out, p[0]);
    assert_eq!(
        to_202.len(),
        1,
        "nobody has had a call: config order, 202 first"
    );
    let out = net.deliver(p[0], &answer(&to_202[0], 200, "m202", Some(SDP_B)));
    let a_tag = to_tag(&responses_to(&out, a.phone.peer)[0]);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
    // While 202 talks, a second caller's call skips it.
    let mut b = Caller {
        phone: common::Phone::new("205", "Secret-205-abc", 5305),
        ..caller_201()
    };
    let out = b.call(&mut net, "300");
    assert!(invites_to(&out, p[0]).is_empty(), "202 is in a call");
    let to_203 = invites_to(&out, p[1]);
    assert_eq!(to_203.len(), 1, "203 is next");
    net.deliver(p[1], &answer(&to_203[0], 180, "m203", None));
    net.deliver(b.phone.peer, b.cancel_text("300").as_bytes());
    let out = net.outputs();
    accept_cancel(&mut net, p[1], &to_203[0], &out);
    // 201 hangs up; 202 is now the one idle the shortest: 203 is offered first.
    net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    let _ = net.run_for(Duration::from_secs(1));
    b.phone.call_id.push('2');
    let out = b.call(&mut net, "300");
    assert!(invites_to(&out, p[0]).is_empty());
    assert_eq!(invites_to(&out, p[1]).len(), 1);
}

#[test]
fn forward_on_busy_and_on_no_answer() {
    let features = Features::new(
        [user("202", |u| {
            u.forward = Forwarding {
                busy: Some("203".into()),
                no_answer: Some("204".into()),
                no_answer_after: Duration::from_secs(10),
                ..Forwarding::default()
            }
        })],
        [],
    );
    let (mut net, mut a, p) = office(features, &[("202", 5202), ("203", 5203), ("204", 5204)]);
    // Busy: 202 answers 486, the call goes to 203.
    let out = a.call(&mut net, "202");
    let i = invites_to(&out, p[0]).remove(0);
    let out = net.deliver(p[0], &answer(&i, 486, "m202", None));
    assert_eq!(invites_to(&out, p[1]).len(), 1, "forwarded on busy to 203");
    assert!(
        responses_to(&out, a.phone.peer).is_empty(),
        "the caller waits"
    );
    net.deliver(a.phone.peer, a.cancel_text("202").as_bytes());
    let _ = net.run_for(Duration::from_secs(40));

    // No answer: after 10 s 202 gets CANCEL and 204 rings.
    a.phone.call_id.push('2');
    let out = a.call(&mut net, "202");
    let i = invites_to(&out, p[0]).remove(0);
    net.deliver(p[0], &answer(&i, 180, "m202", None));
    let out = net.run_for(Duration::from_secs(11));
    assert_eq!(cancels_to(&out, p[0]), 1);
    assert_eq!(
        invites_to(&out, p[2]).len(),
        1,
        "forwarded on no answer to 204"
    );
}

#[test]
fn do_not_disturb_refuses_with_busy_and_a_record_saying_why() {
    let features = Features::new([user("202", |u| u.dnd = true)], []);
    let (mut net, mut a, p) = office(features, &[("202", 5202)]);
    let out = a.call(&mut net, "202");
    assert!(invites_to(&out, p[0]).is_empty());
    let r = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&r), [486]);
    let record = call_ended(&mut net).expect("a record");
    assert_eq!(record.cause, "do not disturb");
}

#[test]
fn a_forwarding_loop_rings_where_it_closes_instead_of_storming() {
    let features = Features::new(
        [
            user("202", |u| u.forward.unconditional = Some("203".into())),
            user("203", |u| u.forward.unconditional = Some("202".into())),
        ],
        [],
    );
    let (mut net, mut a, p) = office(features, &[("202", 5202), ("203", 5203)]);
    let out = a.call(&mut net, "202");
    // 202 -> 203 -> 202: 202's phone rings, once.
    assert_eq!(invites_to(&out, p[0]).len(), 1);
    assert!(invites_to(&out, p[1]).is_empty());
}

#[test]
fn a_group_overflows_after_its_time_and_night_service_diverts() {
    let mut g = group(HuntMode::Collective, &["202"]);
    g.overflow = Some((Duration::from_secs(30), "204".into()));
    let (mut net, mut a, p) = office(
        Features::new([], [g.clone()]),
        &[("202", 5202), ("204", 5204)],
    );
    let out = a.call(&mut net, "300");
    let i = invites_to(&out, p[0]).remove(0);
    net.deliver(p[0], &answer(&i, 180, "m202", None));
    let out = net.run_for(Duration::from_secs(31));
    assert_eq!(cancels_to(&out, p[0]), 1, "the group stops ringing");
    assert_eq!(invites_to(&out, p[1]).len(), 1, "the overflow number rings");

    g.in_service = false;
    g.night_service_to = Some("204".into());
    let (mut net, mut a, p) = office(Features::new([], [g]), &[("202", 5202), ("204", 5204)]);
    let out = a.call(&mut net, "300");
    assert!(invites_to(&out, p[0]).is_empty());
    assert_eq!(invites_to(&out, p[1]).len(), 1, "night service goes to 204");
}

fn short_codes() -> pbx::ShortCodes {
    use pbx::{ShortCode, ShortCodeFeature as F};
    pbx::ShortCodes::new(
        [
            ("*08", F::DndOn),
            ("*09", F::DndOff),
            ("*14*N#", F::ForwardUnconditionalOn),
            ("*15", F::ForwardUnconditionalOff),
            ("*45*N#", F::HuntGroupJoin),
            ("*46*N#", F::HuntGroupLeave),
            ("*37*N#", F::Park),
        ]
        .into_iter()
        .map(|(p, f)| ShortCode::new(p, f).unwrap()),
    )
}

/// 201 dials a short code: answered, and cleared with BYE after the ACK.
fn dial_code(net: &mut Net, a: &mut Caller, code: &str) -> pbx::FeatureChange {
    a.phone.call_id.push('c');
    // '#' is not allowed in a SIP URI's user part: phones send it as %23.
    let out = a.call(net, &code.replace('#', "%23"));
    let ok = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&ok), [200], "{code} is confirmed");
    assert!(String::from_utf8_lossy(&ok[0].body).contains("m=audio 0 "));
    let out = net.deliver(a.phone.peer, a.ack_text(&to_tag(&ok[0])).as_bytes());
    let bye = requests_to(&out, a.phone.peer);
    assert_eq!(bye.len(), 1);
    assert_eq!(bye[0].method, Method::Bye);
    net.events()
        .into_iter()
        .find_map(|e| match e {
            pbx::PbxEvent::FeatureChanged { extension, change } => {
                assert_eq!(extension, "201");
                Some(change)
            }
            _ => None,
        })
        .expect("the change is reported for the configuration")
}

#[test]
fn short_codes_switch_dnd_and_forwarding_and_the_next_call_follows_them() {
    let features =
        Features::new([], [group(HuntMode::Collective, &["202"])]).with_short_codes(short_codes());
    let (mut net, mut a, p) = office(features, &[("201", 5201), ("203", 5203)]);
    let mut b = Caller {
        phone: common::Phone::new("202", "Secret-202-abc", 5302),
        ..caller_201()
    };
    assert_eq!(
        dial_code(&mut net, &mut a, "*08"),
        pbx::FeatureChange::Dnd(true)
    );
    let out = b.call(&mut net, "201");
    assert_eq!(statuses(&responses_to(&out, b.phone.peer)), [486]);
    assert_eq!(
        dial_code(&mut net, &mut a, "*09"),
        pbx::FeatureChange::Dnd(false)
    );
    b.phone.call_id.push('2');
    let out = b.call(&mut net, "201");
    assert_eq!(invites_to(&out, p[0]).len(), 1, "201 rings again");
    net.deliver(b.phone.peer, b.cancel_text("201").as_bytes());

    assert_eq!(
        dial_code(&mut net, &mut a, "*14*203#"),
        pbx::FeatureChange::ForwardUnconditional(Some("203".into()))
    );
    b.phone.call_id.push('3');
    let out = b.call(&mut net, "201");
    assert_eq!(invites_to(&out, p[1]).len(), 1, "forwarded to 203");
    assert!(invites_to(&out, p[0]).is_empty());
}

#[test]
fn joining_a_hunt_group_by_short_code_makes_the_phone_ring_for_it() {
    let features =
        Features::new([], [group(HuntMode::Collective, &["202"])]).with_short_codes(short_codes());
    let (mut net, mut a, p) = office(features, &[("201", 5201), ("202", 5202)]);
    assert_eq!(
        dial_code(&mut net, &mut a, "*45*300#"),
        pbx::FeatureChange::HuntGroupMember {
            group: "300".into(),
            joined: true
        }
    );
    let mut c = Caller {
        phone: common::Phone::new("203", "Secret-203-abc", 5303),
        ..caller_201()
    };
    let out = c.call(&mut net, "300");
    assert_eq!(
        invites_to(&out, p[0]).len(),
        1,
        "201 now rings for the group"
    );
    assert_eq!(invites_to(&out, p[1]).len(), 1);
    // A group that does not exist: 404, nothing changes.
    a.phone.call_id.push('x');
    let out = a.call(&mut net, "*45*399%23");
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [404]);
    // A feature not built yet says so.
    a.phone.call_id.push('y');
    let out = a.call(&mut net, "*37*1%23");
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [501]);
}

/// 202's REFER (CSeq `cseq`) in its call `inv` with 201, to `target`.
fn refer_from_202(inv: &Request, cseq: u32, target: &str) -> Vec<u8> {
    let refer_to = format!("Refer-To: <sip:{target}@127.0.0.1>\r\n");
    callee_request(inv, 5202, "m202", "REFER", cseq, &refer_to)
}

fn sipfrag(req: &Request) -> String {
    String::from_utf8_lossy(&req.body).trim().to_string()
}

#[test]
fn the_callee_transfers_blind_and_the_target_takes_its_place() {
    let (mut net, mut a, p) = office(Features::default(), &[("202", 5202), ("203", 5203)]);
    net.pbx.set_media_relay(Box::new(ScriptedRelay::default()));
    // 201 calls 202, 202 answers.
    let (inv, a_tag) = first_call(&mut net, &mut a, p[0]);

    // 202 transfers the caller to 203.
    let refer = refer_from_202(&inv, 2, "203");
    let out = net.deliver(p[0], &refer);
    assert_eq!(statuses(&responses_to(&out, p[0])), [202]);
    let notify = requests_to(&out, p[0]);
    assert_eq!(notify[0].method, Method::Notify);
    assert_eq!(notify[0].headers.get(&HeaderName::Event), Some("refer"));
    assert_eq!(sipfrag(&notify[0]), "SIP/2.0 100 Trying");
    let to_203 = invites_to(&out, p[1]);
    assert_eq!(to_203.len(), 1, "the target rings");
    // The target is offered the relay, not the caller's own address.
    assert!(String::from_utf8_lossy(&to_203[0].body).contains("m=audio 10002"));
    assert!(
        requests_to(&out, a.phone.peer).is_empty(),
        "the caller's session is untouched"
    );

    // 203 answers: 202 hears 200 by NOTIFY and is released; 201 now talks to 203.
    let out = net.deliver(p[1], &answer(&to_203[0], 200, "m203", Some(SDP_B)));
    let to_202: Vec<Method> = requests_to(&out, p[0])
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert!(
        to_202.contains(&Method::Notify) && to_202.contains(&Method::Bye),
        "{to_202:?}"
    );
    let last = requests_to(&out, p[0])
        .into_iter()
        .find(|r| r.method == Method::Notify)
        .unwrap();
    assert_eq!(sipfrag(&last), "SIP/2.0 200 OK");
    assert!(last
        .headers
        .get(&HeaderName::SubscriptionState)
        .unwrap()
        .starts_with("terminated"));
    assert_eq!(requests_to(&out, p[1])[0].method, Method::Ack);
    // The caller hangs up: the BYE reaches 203.
    let out = net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    assert_eq!(
        requests_to(&out, p[1]).last().map(|r| r.method.clone()),
        Some(Method::Bye)
    );
    assert_eq!(net.pbx.call_count(), 0);
}

#[test]
fn a_failed_blind_transfer_returns_the_call_to_the_referrer() {
    let features = Features::new([user("203", |u| u.dnd = true)], []);
    let (mut net, mut a, p) = office(features, &[("202", 5202), ("203", 5203), ("204", 5204)]);
    let (inv, _) = first_call(&mut net, &mut a, p[0]);
    // 203 is on DND: refused at once.
    let refer = refer_from_202(&inv, 2, "203");
    let out = net.deliver(p[0], &refer);
    let frags: Vec<String> = requests_to(&out, p[0]).iter().map(sipfrag).collect();
    assert_eq!(frags, ["SIP/2.0 100 Trying", "SIP/2.0 486 Busy Here"]);
    // 204 busy: the phone says 486; the referrer hears it, the call goes on.
    let refer = refer_from_202(&inv, 3, "204");
    let out = net.deliver(p[0], &refer);
    let to_204 = invites_to(&out, p[2]).remove(0);
    let out = net.deliver(p[2], &answer(&to_204, 486, "m204", None));
    let frags: Vec<String> = requests_to(&out, p[0]).iter().map(sipfrag).collect();
    assert_eq!(frags, ["SIP/2.0 486 Busy Here"]);
    assert!(requests_to(&out, a.phone.peer).is_empty());
    assert_eq!(net.pbx.active_calls(), [("201".into(), "202".into(), true)]);
}

#[test]
fn a_ringing_call_is_picked_up_directed_and_by_group() {
    let features = Features::new([], [group(HuntMode::Collective, &["202", "203"])])
        .with_short_codes(pbx::ShortCodes::new([
            pbx::ShortCode::new("*30", pbx::ShortCodeFeature::PickupGroup).unwrap(),
            pbx::ShortCode::new("*31*N#", pbx::ShortCodeFeature::PickupDirected).unwrap(),
        ]));
    let (mut net, mut a, p) = office(features, &[("202", 5202), ("203", 5203)]);
    net.pbx.set_media_relay(Box::new(ScriptedRelay::default()));
    let mut x = Caller {
        phone: common::Phone::new("202", "Secret-202-abc", 5302),
        ..caller_201()
    };
    // Nothing rings yet.
    let out = x.call_with_body(&mut net, "*31*203%23", SDP_B);
    assert_eq!(statuses(&responses_to(&out, x.phone.peer)), [404]);

    for (k, code) in ["*31*203%23", "*30"].into_iter().enumerate() {
        // Each call opens its own relay session (see ScriptedRelay).
        let (a_port, x_port) = (10000 + 4 * k, 10002 + 4 * k);
        a.phone.call_id.push('p');
        x.phone.call_id.push('p');
        let out = a.call(&mut net, "203");
        let to_203 = invites_to(&out, p[1]).remove(0);
        net.deliver(p[1], &answer(&to_203, 180, "m203", None));
        // 202 picks the call up from its desk.
        let out = x.call_with_body(&mut net, code, SDP_B);
        let x_ok = responses_to(&out, x.phone.peer);
        assert_eq!(statuses(&x_ok), [200], "{code}");
        let x_sdp = String::from_utf8_lossy(&x_ok[0].body).to_string();
        assert!(
            x_sdp.contains(&format!("m=audio {x_port} RTP/AVP 0")),
            "{x_sdp}"
        );
        let a_ok = responses_to(&out, a.phone.peer);
        assert_eq!(statuses(&a_ok), [200]);
        let a_sdp = String::from_utf8_lossy(&a_ok[0].body).to_string();
        // An answer to the caller's own offer (PCMU first in both), at the relay.
        assert!(
            a_sdp.contains(&format!("m=audio {a_port} RTP/AVP 0")),
            "{a_sdp}"
        );
        assert_eq!(cancels_to(&out, p[1]), 1, "203 stops ringing");
        accept_cancel(&mut net, p[1], &to_203, &out);
        let a_tag = to_tag(&a_ok[0]);
        net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
        net.deliver(x.phone.peer, x.ack_text(&to_tag(&x_ok[0])).as_bytes());
        assert_eq!(net.pbx.active_calls(), [("201".into(), "203".into(), true)]);
        // The picker hangs up: the caller gets BYE, the call is over.
        let bye = x.in_dialog("BYE", &to_tag(&x_ok[0]));
        let out = net.deliver(x.phone.peer, bye.as_bytes());
        assert_eq!(statuses(&responses_to(&out, x.phone.peer)), [200]);
        assert_eq!(requests_to(&out, a.phone.peer)[0].method, Method::Bye);
        assert_eq!(net.pbx.call_count(), 0);
    }
}

/// The Refer-To of an attended transfer replacing dialog (call_id, to_tag, from_tag),
/// escaped as a URI header value must be.
fn refer_to_replacing(call_id: &str, to_tag: &str, from_tag: &str) -> String {
    let call_id = call_id.replace('@', "%40");
    format!(
        "Refer-To: <sip:203@127.0.0.1?Replaces={call_id}%3Bto-tag%3D{to_tag}%3Bfrom-tag%3D{from_tag}>\r\n"
    )
}

fn methods(reqs: &[Request]) -> Vec<Method> {
    reqs.iter().map(|r| r.method.clone()).collect()
}

/// 201 is in a call with 202 (answered, media on the relay's first session).
fn first_call(net: &mut Net, a: &mut Caller, p202: Peer) -> (Request, String) {
    call_answered(net, a, "202", p202, "m202")
}

/// `from` calls `number`, whose phone at `callee` answers with To tag `tag`, and `from`
/// ACKs: the INVITE the callee got and the To tag `from` got.
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

/// After 202's REFER (in its call with 201, `inv`) joined 201 and 203: 202 has 202
/// Accepted, NOTIFY 200 and a BYE in its consultation dialog; 203 has a re-INVITE
/// pointing it at the first call's relay port; answering it, 203 gets ACK; 202 hangs up
/// its first call itself; 201's BYE then reaches 203 and no call is left.
fn assert_joined(
    net: &mut Net,
    (a, a_tag): (&mut Caller, &str),
    inv: &Request,
    out: &[(Peer, Message)],
    p: &[Peer],
) {
    assert_eq!(statuses(&responses_to(out, p[0])), [202]);
    let to_202 = requests_to(out, p[0]);
    assert_eq!(methods(&to_202), [Method::Notify, Method::Bye]);
    assert_eq!(sipfrag(&to_202[0]), "SIP/2.0 200 OK");
    assert_ne!(
        to_202[1].headers.get(&HeaderName::CallId),
        inv.headers.get(&HeaderName::CallId),
        "the BYE is for the replaced (consultation) dialog"
    );
    let reinvite = invites_to(out, p[1]).remove(0);
    let offer = String::from_utf8_lossy(&reinvite.body).to_string();
    assert!(
        offer.contains("m=audio 10002 "),
        "first call's callee port: {offer}"
    );
    assert!(offer.contains("a=sendrecv"), "{offer}");
    assert!(
        requests_to(out, a.phone.peer).is_empty(),
        "201 was not on hold"
    );
    let records: Vec<String> = net
        .events()
        .into_iter()
        .filter_map(|e| match e {
            pbx::PbxEvent::CallEnded(r) => Some(r.cause),
            _ => None,
        })
        .collect();
    assert_eq!(records, ["joined to another call by attended transfer"]);
    let to_tag_203 = tag_of_to(&reinvite);
    let out = net.deliver(p[1], &answer(&reinvite, 200, &to_tag_203, Some(SDP_B)));
    assert_eq!(methods(&requests_to(&out, p[1])), [Method::Ack]);
    // 202 hangs up on the final NOTIFY, as phones do: nothing else happens.
    let out = net.deliver(p[0], &callee_request(inv, 5202, "m202", "BYE", 9, ""));
    assert_eq!(statuses(&responses_to(&out, p[0])), [200]);
    assert!(requests_to(&out, p[1]).is_empty() && requests_to(&out, a.phone.peer).is_empty());
    let out = net.deliver(a.phone.peer, a.in_dialog("BYE", a_tag).as_bytes());
    let bye = requests_to(&out, p[1]).pop().expect("the BYE goes to 203");
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(
        bye.headers.get(&HeaderName::CallId),
        reinvite.headers.get(&HeaderName::CallId),
        "in 203's own dialog"
    );
    assert_eq!(net.pbx.call_count(), 0);
}

/// The tag already in a request's To (an in-dialog request carries the phone's tag).
fn tag_of_to(req: &Request) -> String {
    let to = req.headers.get(&HeaderName::To).unwrap();
    to.split(";tag=").nth(1).unwrap_or("t203").to_string()
}

#[test]
fn attended_transfer_joins_the_caller_to_the_callee_the_transferor_consulted() {
    let (mut net, mut a, p) = office(Features::default(), &[("202", 5202), ("203", 5203)]);
    net.pbx.set_media_relay(Box::new(ScriptedRelay::default()));
    let (inv, a_tag) = first_call(&mut net, &mut a, p[0]);
    // 202 consults 203.
    let mut b = caller_on("202", 5202);
    let (_, q_tag) = call_answered(&mut net, &mut b, "203", p[1], "m203");
    assert_eq!(net.pbx.call_count(), 2);

    // 202 transfers 201 to 203, replacing its consultation dialog (tags from our side).
    let refer_to = refer_to_replacing(&b.phone.call_id, &q_tag, "alice-tag");
    let refer = callee_request(&inv, 5202, "m202", "REFER", 2, &refer_to);
    let out = net.deliver(p[0], &refer);
    assert_joined(&mut net, (&mut a, &a_tag), &inv, &out, &p);
}

#[test]
fn attended_transfer_joins_the_caller_to_a_party_that_called_the_transferor() {
    let (mut net, mut a, p) = office(Features::default(), &[("202", 5202), ("203", 5203)]);
    net.pbx.set_media_relay(Box::new(ScriptedRelay::default()));
    let (inv, a_tag) = first_call(&mut net, &mut a, p[0]);
    // 203 calls 202 too; 202 answers that second call.
    let mut c = caller_on("203", 5203);
    let (to_202, _) = call_answered(&mut net, &mut c, "202", p[0], "m202b");

    // 202 names its dialog with us in the second call, tags the wrong way round (some
    // phones do): still found.
    let ours = to_202
        .headers
        .get(&HeaderName::From)
        .unwrap()
        .split(";tag=")
        .nth(1)
        .unwrap()
        .to_string();
    let call_id = to_202.headers.get(&HeaderName::CallId).unwrap().to_string();
    let refer_to = refer_to_replacing(&call_id, "m202b", &ours);
    let refer = callee_request(&inv, 5202, "m202", "REFER", 2, &refer_to);
    let out = net.deliver(p[0], &refer);
    let reinvite = invites_to(&out, p[1]);
    assert!(!reinvite.is_empty(), "{:?}", responses_to(&out, p[0]));
    assert_eq!(
        reinvite[0].headers.get(&HeaderName::CallId),
        Some(c.phone.call_id.as_str()),
        "203 keeps its own dialog"
    );
    assert_joined(&mut net, (&mut a, &a_tag), &inv, &out, &p);
}

#[test]
fn attended_transfer_naming_no_dialog_is_refused_and_the_call_goes_on() {
    let (mut net, mut a, p) = office(Features::default(), &[("202", 5202), ("203", 5203)]);
    net.pbx.set_media_relay(Box::new(ScriptedRelay::default()));
    let (inv, _) = first_call(&mut net, &mut a, p[0]);
    for (cseq, refer_to, status) in [
        (2, refer_to_replacing("nope", "x", "y"), 481),
        (
            3,
            "Refer-To: <sip:203@127.0.0.1?Replaces=only-a-call-id>\r\n".into(),
            400,
        ),
    ] {
        let refer = callee_request(&inv, 5202, "m202", "REFER", cseq, &refer_to);
        let out = net.deliver(p[0], &refer);
        assert_eq!(statuses(&responses_to(&out, p[0])), [status]);
    }
    assert_eq!(net.pbx.active_calls(), [("201".into(), "202".into(), true)]);
}

#[test]
fn a_transferee_left_on_hold_is_resumed_when_joined() {
    let (mut net, mut a, p) = office(Features::default(), &[("202", 5202), ("203", 5203)]);
    net.pbx.set_media_relay(Box::new(ScriptedRelay::default()));
    let (inv, a_tag) = first_call(&mut net, &mut a, p[0]);
    // 202 puts 201 on hold: its sendonly offer reaches 201, which answers recvonly.
    let held = SDP_B.replace("o=bob 1 1", "o=bob 1 2") + "a=sendonly\r\n";
    let hold = String::from_utf8(callee_request(&inv, 5202, "m202", "INVITE", 2, ""))
        .unwrap()
        .replace(
            "Content-Length: 0\r\n\r\n",
            &format!(
                "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{held}",
                held.len()
            ),
        );
    let out = net.deliver(p[0], hold.as_bytes());
    let to_201 = requests_to(&out, a.phone.peer).remove(0);
    assert!(String::from_utf8_lossy(&to_201.body).contains("a=sendonly"));
    let recvonly = SDP_A.to_string() + "a=recvonly\r\n";
    let out = net.deliver(a.phone.peer, &answer(&to_201, 200, &a_tag, Some(&recvonly)));
    assert_eq!(statuses(&responses_to(&out, p[0])), [200]);

    // 202 consults 203 and transfers.
    let mut b = caller_on("202", 5202);
    let (_, q_tag) = call_answered(&mut net, &mut b, "203", p[1], "m203");
    let refer_to = refer_to_replacing(&b.phone.call_id, &q_tag, "alice-tag");
    let out = net.deliver(
        p[0],
        &callee_request(&inv, 5202, "m202", "REFER", 3, &refer_to),
    );
    assert_eq!(statuses(&responses_to(&out, p[0])), [202]);
    let moved = invites_to(&out, p[1]).remove(0);
    net.deliver(p[1], &answer(&moved, 200, &tag_of_to(&moved), Some(SDP_B)));
    // 201 is taken off hold (same origin, next version), 203 joins two-way.
    let resume = requests_to(&out, a.phone.peer).remove(0);
    assert_eq!(resume.method, Method::Invite);
    let offer = String::from_utf8_lossy(&resume.body).to_string();
    assert!(
        offer.contains("a=sendrecv") && !offer.contains("sendonly"),
        "{offer}"
    );
    assert!(offer.contains("m=audio 10000 "), "{offer}");
    let out = net.deliver(a.phone.peer, &answer(&resume, 200, &a_tag, Some(SDP_A)));
    assert_eq!(methods(&requests_to(&out, a.phone.peer)), [Method::Ack]);
    // 202 never hangs up its first call: after 32 s we do.
    let first_call_bye = |out: &[(Peer, Message)]| {
        requests_to(out, p[0]).into_iter().any(|r| {
            r.method == Method::Bye
                && r.headers.get(&HeaderName::CallId) == inv.headers.get(&HeaderName::CallId)
        })
    };
    assert!(!first_call_bye(&net.run_for(Duration::from_secs(31))));
    assert!(first_call_bye(&net.run_for(Duration::from_secs(2))));
}

fn park_codes() -> pbx::ShortCodes {
    pbx::ShortCodes::new([
        pbx::ShortCode::new("*37*N#", pbx::ShortCodeFeature::Park).unwrap(),
        pbx::ShortCode::new("*38*N#", pbx::ShortCodeFeature::Unpark).unwrap(),
    ])
}

/// 202 (in `inv`'s call) transfers the call to park slot 1 and hangs up on the NOTIFY.
fn park_in_slot_1(net: &mut Net, inv: &Request, p202: Peer, cseq: u32) -> Vec<String> {
    let refer = callee_request(
        inv,
        5202,
        "m202",
        "REFER",
        cseq,
        "Refer-To: <sip:*37*1%23@127.0.0.1>\r\n",
    );
    let out = net.deliver(p202, &refer);
    assert_eq!(statuses(&responses_to(&out, p202)), [202]);
    let frags = requests_to(&out, p202).iter().map(sipfrag).collect();
    net.deliver(
        p202,
        &callee_request(inv, 5202, "m202", "BYE", cseq + 1, ""),
    );
    frags
}

#[test]
fn a_parked_call_is_taken_back_from_another_phone() {
    let features = Features::default().with_short_codes(park_codes());
    let (mut net, mut a, p) = office(features, &[("202", 5202), ("203", 5203)]);
    let relay = ScriptedRelay::default();
    let log = relay.log.clone();
    net.pbx.set_media_relay(Box::new(relay));
    let (inv, a_tag) = first_call(&mut net, &mut a, p[0]);
    assert_eq!(park_in_slot_1(&mut net, &inv, p[0], 2), ["SIP/2.0 200 OK"]);
    let music = |log: &std::sync::Arc<std::sync::Mutex<Vec<String>>>| -> Vec<String> {
        log.lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("music"))
            .cloned()
            .collect()
    };
    assert_eq!(music(&log).len(), 1, "the parked caller hears music");
    assert!(music(&log)[0].contains("Caller"), "{:?}", music(&log));
    assert_eq!(
        net.pbx.active_calls(),
        [("201".into(), "park 1".into(), true)]
    );
    // Slot 2 is empty; slot 1 is answered at the relay's callee port.
    let mut c = caller_on("203", 5203);
    let out = c.call_with_body(&mut net, "*38*2%23", SDP_B);
    assert_eq!(statuses(&responses_to(&out, p[1])), [404]);
    c.phone.call_id.push('x');
    let out = c.call_with_body(&mut net, "*38*1%23", SDP_B);
    let ok = responses_to(&out, p[1]);
    assert_eq!(statuses(&ok), [200]);
    assert!(String::from_utf8_lossy(&ok[0].body).contains("m=audio 10002 RTP/AVP 0"));
    assert!(
        requests_to(&out, a.phone.peer).is_empty(),
        "201 was not on hold"
    );
    net.deliver(p[1], c.ack_text(&to_tag(&ok[0])).as_bytes());
    assert_eq!(net.pbx.active_calls(), [("201".into(), "203".into(), true)]);
    assert_eq!(
        music(&log).last().map(String::as_str),
        Some("stop music 7 Caller")
    );
    // 201 hangs up: the BYE reaches 203 in the dialog 203 began.
    let out = net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    let bye = requests_to(&out, p[1]).pop().unwrap();
    assert_eq!(bye.method, Method::Bye);
    assert_eq!(
        bye.headers.get(&HeaderName::CallId),
        Some(c.phone.call_id.as_str())
    );
    assert_eq!(net.pbx.call_count(), 0);
}

#[test]
fn a_parked_call_rings_its_parker_after_the_timeout_and_a_taken_slot_refuses() {
    let features = Features::default().with_short_codes(park_codes());
    let (mut net, mut a, p) = office(features, &[("202", 5202), ("203", 5203)]);
    net.pbx.set_media_relay(Box::new(ScriptedRelay::default()));
    let (inv, a_tag) = first_call(&mut net, &mut a, p[0]);
    park_in_slot_1(&mut net, &inv, p[0], 2);
    // Another call to 203, parked to the same slot: 486, and 203 keeps it.
    let mut b = caller_on("202", 5202);
    let (to_203, q_tag) = call_answered(&mut net, &mut b, "203", p[1], "m203");
    let refer = callee_request(
        &to_203,
        5203,
        "m203",
        "REFER",
        2,
        "Refer-To: <sip:*37*1%23@127.0.0.1>\r\n",
    );
    let out = net.deliver(p[1], &refer);
    let frags: Vec<String> = requests_to(&out, p[1]).iter().map(sipfrag).collect();
    assert_eq!(frags, ["SIP/2.0 486 Busy Here"]);
    net.deliver(p[0], b.in_dialog("BYE", &q_tag).as_bytes());
    assert_eq!(net.pbx.call_count(), 1);

    // Nobody takes slot 1 back: after 120 s it rings 202 again; 202 answers.
    let invites = |out: &[(Peer, Message)]| {
        invites_to(out, p[0])
            .into_iter()
            .filter(|r| r.headers.get(&HeaderName::CallId) != inv.headers.get(&HeaderName::CallId))
            .collect::<Vec<_>>()
    };
    assert!(invites(&net.run_for(Duration::from_secs(119))).is_empty());
    let mut back = invites(&net.run_for(Duration::from_secs(2)));
    assert_eq!(back.len(), 1, "the parker rings");
    let callback = back.remove(0);
    let out = net.deliver(p[0], &answer(&callback, 200, "m202c", Some(SDP_B)));
    assert_eq!(methods(&requests_to(&out, p[0])), [Method::Ack]);
    let out = net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    assert_eq!(
        requests_to(&out, p[0]).pop().map(|r| r.method),
        Some(Method::Bye)
    );
}

/// The Replaces header naming the dialog of our INVITE `inv`, answered with tag `theirs`.
fn replaces_of(inv: &Request, theirs: &str) -> String {
    let ours = inv
        .headers
        .get(&HeaderName::From)
        .unwrap()
        .split(";tag=")
        .nth(1)
        .unwrap()
        .to_string();
    let call_id = inv.headers.get(&HeaderName::CallId).unwrap();
    format!("Replaces: {call_id};to-tag={ours};from-tag={theirs}\r\n")
}

#[test]
fn an_invite_with_replaces_picks_up_a_ringing_call_and_pulls_an_answered_one() {
    let (mut net, mut a, p) = office(Features::default(), &[("202", 5202), ("203", 5203)]);
    net.pbx.set_media_relay(Box::new(ScriptedRelay::default()));
    // 201 calls 203, which rings; 202 picks it up with INVITE + Replaces (a BLF key).
    let out = a.call(&mut net, "203");
    let to_203 = invites_to(&out, p[1]).remove(0);
    net.deliver(p[1], &answer(&to_203, 180, "m203", None));
    let mut x = caller_on("202", 5202);
    x.extra_headers = replaces_of(&to_203, "m203");
    let out = x.call_with_body(&mut net, "203", SDP_B);
    assert_eq!(statuses(&responses_to(&out, p[0])), [200]);
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [200]);
    assert_eq!(cancels_to(&out, p[1]), 1, "203 stops ringing");
    accept_cancel(&mut net, p[1], &to_203, &out);
    let a_tag = to_tag(&responses_to(&out, a.phone.peer)[0]);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
    let x_tag = to_tag(&responses_to(&out, p[0])[0]);
    net.deliver(p[0], x.ack_text(&x_tag).as_bytes());

    // Unknown dialog: 481. Another extension taking over the answered call: 403.
    let mut y = caller_on("203", 5203);
    y.extra_headers = "Replaces: nope;to-tag=a;from-tag=b\r\n".into();
    let out = y.call_with_body(&mut net, "202", SDP_B);
    assert_eq!(statuses(&responses_to(&out, p[1])), [481]);
    y.phone.call_id.push('y');
    let picked = format!(
        "Replaces: {};to-tag={x_tag};from-tag=alice-tag\r\n",
        x.phone.call_id
    );
    y.extra_headers.clone_from(&picked);
    let out = y.call_with_body(&mut net, "202", SDP_B);
    assert_eq!(statuses(&responses_to(&out, p[1])), [403]);

    // 202's desk phone pulls the call from its mobile (another device of 202).
    let mut desk = caller_on("202", 5212);
    desk.extra_headers = picked;
    let out = desk.call_with_body(&mut net, "201", SDP_B);
    let ok = responses_to(&out, desk.phone.peer);
    assert_eq!(statuses(&ok), [200]);
    assert!(String::from_utf8_lossy(&ok[0].body).contains("m=audio 10002 "));
    assert_eq!(
        requests_to(&out, p[0]).pop().map(|r| r.method),
        Some(Method::Bye),
        "the old device is released"
    );
    net.deliver(desk.phone.peer, desk.ack_text(&to_tag(&ok[0])).as_bytes());
    let out = net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    assert_eq!(
        requests_to(&out, desk.phone.peer).pop().map(|r| r.method),
        Some(Method::Bye)
    );
    assert_eq!(net.pbx.call_count(), 0);
}

#[test]
fn the_caller_pulls_its_call_to_another_of_its_phones() {
    let (mut net, mut a, p) = office(Features::default(), &[("202", 5202)]);
    net.pbx.set_media_relay(Box::new(ScriptedRelay::default()));
    let (_, a_tag) = first_call(&mut net, &mut a, p[0]);
    let mut other = caller_on("201", 5071);
    other.phone.call_id = "pull-1".into();
    other.extra_headers = format!(
        "Replaces: {};to-tag={a_tag};from-tag=alice-tag\r\n",
        a.phone.call_id
    );
    let out = other.call_with_body(&mut net, "202", SDP_A);
    let ok = responses_to(&out, other.phone.peer);
    assert_eq!(statuses(&ok), [200]);
    assert!(String::from_utf8_lossy(&ok[0].body).contains("m=audio 10000 "));
    assert_eq!(
        requests_to(&out, a.phone.peer).pop().map(|r| r.method),
        Some(Method::Bye),
        "the first phone is released"
    );
    assert!(requests_to(&out, p[0]).is_empty(), "202 notices nothing");
    let o_tag = to_tag(&ok[0]);
    net.deliver(other.phone.peer, other.ack_text(&o_tag).as_bytes());
    // The new phone hangs up: 202 gets BYE.
    let out = net.deliver(other.phone.peer, other.in_dialog("BYE", &o_tag).as_bytes());
    assert_eq!(
        requests_to(&out, p[0]).pop().map(|r| r.method),
        Some(Method::Bye)
    );
    assert_eq!(net.pbx.call_count(), 0);
}

#[test]
fn taking_over_or_parking_a_call_needs_the_internal_right() {
    let features =
        Features::new([user("202", |u| u.rights.clear())], []).with_short_codes(park_codes());
    let (mut net, mut a, p) = office(features, &[("202", 5202), ("203", 5203)]);
    net.pbx.set_media_relay(Box::new(ScriptedRelay::default()));
    // 201 calls 203, which rings; 202 (no rights) tries to pick it up with Replaces.
    let out = a.call(&mut net, "203");
    let to_203 = invites_to(&out, p[1]).remove(0);
    net.deliver(p[1], &answer(&to_203, 180, "m203", None));
    let mut x = caller_on("202", 5202);
    x.extra_headers = replaces_of(&to_203, "m203");
    let out = x.call_with_body(&mut net, "203", SDP_B);
    assert_eq!(statuses(&responses_to(&out, p[0])), [403]);
    // 203 answers and parks it: allowed (203 has no user, so internal calls only).
    let out = net.deliver(p[1], &answer(&to_203, 200, "m203", Some(SDP_B)));
    let a_tag = to_tag(&responses_to(&out, a.phone.peer)[0]);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
    let refer = callee_request(
        &to_203,
        5203,
        "m203",
        "REFER",
        2,
        "Refer-To: <sip:*37*1%23@127.0.0.1>\r\n",
    );
    let out = net.deliver(p[1], &refer);
    assert_eq!(statuses(&responses_to(&out, p[1])), [202]);
    assert_eq!(
        net.pbx.active_calls(),
        [("201".into(), "park 1".into(), true)]
    );
}

/// Dials a short code from `phone` and returns the changes reported, by user number.
fn dial_code_from(
    net: &mut Net,
    phone: &mut Caller,
    code: &str,
) -> Vec<(String, pbx::FeatureChange)> {
    phone.phone.call_id.push('h');
    let out = phone.call(net, &code.replace('#', "%23"));
    let ok = responses_to(&out, phone.phone.peer);
    assert_eq!(statuses(&ok), [200], "{code} is confirmed");
    net.deliver(phone.phone.peer, phone.ack_text(&to_tag(&ok[0])).as_bytes());
    net.events()
        .into_iter()
        .filter_map(|e| match e {
            pbx::PbxEvent::FeatureChanged { extension, change } => Some((extension, change)),
            _ => None,
        })
        .collect()
}

#[test]
fn five_wrong_login_codes_lock_the_number_out_for_a_while() {
    let codes =
        pbx::ShortCodes::new([
            pbx::ShortCode::new("*35*N#", pbx::ShortCodeFeature::HotDeskLogin).unwrap(),
        ]);
    let features = Features::new([user("205", |u| u.login_code = Some("1234".into()))], [])
        .with_short_codes(codes);
    let (mut net, _, p) = office(features, &[("206", 5206)]);
    let mut desk = caller_on("206", 5206);
    let mut try_code = |net: &mut Net, number: &str, code: &str| {
        desk.phone.call_id.push('w');
        let out = desk.call(net, &format!("*35*{number}*{code}%23"));
        let r = responses_to(&out, p[0]).remove(0);
        (r.status.0, r.reason)
    };
    for _ in 0..5 {
        assert_eq!(try_code(&mut net, "205", "0000").0, 403);
    }
    // Locked: even the right code is refused, and says why.
    let (status, reason) = try_code(&mut net, "205", "1234");
    assert_eq!(status, 403);
    assert!(reason.contains("too many wrong codes"), "{reason}");
    // An unassigned number is counted and locked the same way: no hint it is unassigned.
    for _ in 0..5 {
        try_code(&mut net, "299", "0000");
    }
    let (_, reason) = try_code(&mut net, "299", "0000");
    assert!(reason.contains("too many wrong codes"), "{reason}");
    // After the lock-out the right code works again.
    net.run_for(Duration::from_secs(15 * 60 + 1));
    assert_eq!(try_code(&mut net, "205", "1234").0, 200);
}

#[test]
fn hot_desking_calls_follow_the_user_to_the_desk_they_logged_in_on() {
    let codes = pbx::ShortCodes::new([
        pbx::ShortCode::new("*35*N#", pbx::ShortCodeFeature::HotDeskLogin).unwrap(),
        pbx::ShortCode::new("*36", pbx::ShortCodeFeature::HotDeskLogout).unwrap(),
    ]);
    let features = Features::new([user("205", |u| u.login_code = Some("1234".into()))], [])
        .with_short_codes(codes);
    let (mut net, mut a, p) = office(features, &[("205", 5205), ("206", 5206), ("202", 5202)]);
    let mut desk = caller_on("206", 5206);
    // A wrong code is refused; the right one logs 205 in on 206.
    desk.phone.call_id.push('w');
    let out = desk.call(&mut net, "*35*205*9999%23");
    assert_eq!(statuses(&responses_to(&out, p[1])), [403]);
    assert_eq!(
        dial_code_from(&mut net, &mut desk, "*35*205*1234#"),
        [(
            "205".to_string(),
            pbx::FeatureChange::HotDesk(Some("206".into()))
        )]
    );
    // Calls to 205 ring the desk, not 205's own phone.
    let out = a.call(&mut net, "205");
    assert_eq!(invites_to(&out, p[1]).len(), 1, "the desk rings");
    assert!(invites_to(&out, p[0]).is_empty(), "the home phone does not");
    a.phone.call_id.push('n');
    // Calls from the desk are 205's.
    let out = desk.call(&mut net, "202");
    assert_eq!(invites_to(&out, p[2]).len(), 1);
    assert!(net
        .pbx
        .active_calls()
        .contains(&("205".into(), "202".into(), false)));
    // Logging out: calls go home again.
    assert_eq!(
        dial_code_from(&mut net, &mut desk, "*36"),
        [("205".to_string(), pbx::FeatureChange::HotDesk(None))]
    );
    let out = a.call(&mut net, "205");
    assert_eq!(invites_to(&out, p[0]).len(), 1, "home again");
    // Nobody is logged in now: *36 says so.
    desk.phone.call_id.push('z');
    let out = desk.call(&mut net, "*36");
    assert_eq!(statuses(&responses_to(&out, p[1])), [404]);
}

#[test]
fn an_account_code_goes_into_the_record_of_the_call_it_was_entered_for() {
    let codes = pbx::ShortCodes::new([
        pbx::ShortCode::new("*22*N#", pbx::ShortCodeFeature::AccountCode).unwrap(),
        pbx::ShortCode::new("*08", pbx::ShortCodeFeature::DndOn).unwrap(),
    ]);
    let (mut net, mut a, p) = office(
        Features::default().with_short_codes(codes),
        &[("202", 5202)],
    );
    let records = |net: &mut Net| -> Vec<(String, Option<String>)> {
        net.events()
            .into_iter()
            .filter_map(|e| match e {
                pbx::PbxEvent::CallEnded(r) => Some((r.callee, r.account_code)),
                _ => None,
            })
            .collect()
    };
    // Code and number in one go: the call goes to 202 with the code.
    let out = a.call(&mut net, "*22*4711*202%23");
    let inv = invites_to(&out, p[0]).remove(0);
    assert_eq!(inv.uri.user(), Some("202"));
    net.deliver(p[0], &answer(&inv, 486, "m202", None));
    assert_eq!(records(&mut net), [("202".into(), Some("4711".into()))]);
    // The code alone is confirmed and charged to the next call, only that one.
    a.phone.call_id.push('1');
    let out = a.call(&mut net, "*22*99%23");
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [200]);
    let _ = records(&mut net);
    for (k, expected) in [(2, Some("99".to_string())), (3, None)] {
        a.phone.call_id.push_str(&k.to_string());
        let out = a.call(&mut net, "202");
        let inv = invites_to(&out, p[0]).remove(0);
        net.deliver(p[0], &answer(&inv, 486, "m202", None));
        assert_eq!(records(&mut net), [("202".into(), expected)]);
    }
    // A code left waiting expires after a minute.
    a.phone.call_id.push('4');
    a.call(&mut net, "*22*7%23");
    net.run_for(Duration::from_secs(61));
    let _ = records(&mut net);
    a.phone.call_id.push('5');
    let out = a.call(&mut net, "202");
    let inv = invites_to(&out, p[0]).remove(0);
    net.deliver(p[0], &answer(&inv, 486, "m202", None));
    assert_eq!(records(&mut net), [("202".into(), None)]);
}

#[test]
fn callers_wait_in_a_busy_groups_queue_hear_their_place_and_get_the_next_free_member() {
    let mut sales = group(HuntMode::Sequential, &["202"]);
    sales.queue_limit = 2;
    let (mut net, mut a, p) = office(Features::new([], [sales]), &[("202", 5202)]);
    let relay = ScriptedRelay::default();
    let log = relay.log.clone();
    net.pbx.set_media_relay(Box::new(relay));
    let queue_log = || -> Vec<String> {
        log.lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("queue") || l.contains("music"))
            .cloned()
            .collect()
    };
    // 202 is busy with 203.
    let mut c = caller_on("203", 5203);
    let (busy_call, _) = call_answered(&mut net, &mut c, "202", p[0], "m202");

    // 201 and then 204 call the group: both are answered by the PBX and told their place.
    let finals = |out: &[(Peer, Message)], peer: Peer| -> Vec<sip::Response> {
        responses_to(out, peer)
            .into_iter()
            .filter(|r| r.status.0 >= 200)
            .collect()
    };
    let out = a.call(&mut net, "300");
    let ok = finals(&out, a.phone.peer);
    assert_eq!(statuses(&ok), [200], "answered to wait");
    assert!(String::from_utf8_lossy(&ok[0].body).contains("m=audio 10004 RTP/AVP 0"));
    let a_tag = to_tag(&ok[0]);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
    let mut d = caller_on("204", 5204);
    let out = d.call(&mut net, "300");
    assert_eq!(statuses(&finals(&out, d.phone.peer)), [200]);
    assert_eq!(
        queue_log(),
        [
            "queue 8 Caller place 1 system pt 0",
            "queue 9 Caller place 2 system pt 0"
        ]
    );
    // The queue is full: a third caller gets busy.
    let mut e = caller_on("205", 5205);
    let out = e.call(&mut net, "300");
    assert_eq!(statuses(&finals(&out, e.phone.peer)), [486]);

    // 202 hangs up: within a second it rings for 201, the head of the queue; 204 moves up.
    net.deliver(
        p[0],
        &callee_request(&busy_call, 5202, "m202", "BYE", 5, ""),
    );
    let out = net.run_for(Duration::from_millis(1100));
    let ring = invites_to(&out, p[0]);
    assert_eq!(ring.len(), 1, "202 rings for the head of the queue");
    assert!(queue_log().contains(&"music 8 Caller ringback tone pt 0".to_string()));
    assert!(queue_log().contains(&"queue 9 Caller place 1 system pt 0".to_string()));
    let out = net.deliver(p[0], &answer(&ring[0], 200, "m202q", Some(SDP_B)));
    assert_eq!(methods(&requests_to(&out, p[0])), [Method::Ack]);
    assert_eq!(
        queue_log().last().map(String::as_str),
        Some("stop music 8 Caller")
    );
    // 201 and 202 talk: 201's BYE reaches 202.
    let out = net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    assert_eq!(
        requests_to(&out, p[0]).pop().map(|r| r.method),
        Some(Method::Bye)
    );
}
