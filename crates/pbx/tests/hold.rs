//! Hold and music on hold on the core: a party offers `a=sendonly` or `a=inactive` in a
//! re-INVITE or UPDATE, the other party is offered `a=sendonly`, and once it accepts, the
//! relay plays it music (in the G.711 law it answered with) until the holder resumes or
//! the call ends. The scripted relay writes down every command.

mod common;

use common::calls::*;
use common::{entry, Net};
use pbx::{Directory, Features, HuntGroupEntry, HuntMode, Pbx, PbxSettings, Peer};
use sip::auth::NonceSecret;
use sip::header::HeaderName;
use sip::{Method, Request};
use std::time::Duration;

/// The caller's description with `line` added to its audio stream and a new version.
fn caller_sdp(line: &str, version: u32) -> String {
    SDP_A
        .replace("a=rtpmap:101", &format!("{line}a=rtpmap:101"))
        .replace("o=alice 1 1", &format!("o=alice 1 {version}"))
}

/// The callee's description with `line` added, formats as given, and a new version.
fn callee_sdp(line: &str, formats: &str, version: u32) -> String {
    SDP_B
        .replace("a=rtpmap:101", &format!("{line}a=rtpmap:101"))
        .replace("RTP/AVP 0 101", &format!("RTP/AVP {formats}"))
        .replace("o=bob 1 1", &format!("o=bob 1 {version}"))
}

/// A request from the caller in the call's dialog, with this description (or none).
fn from_caller(a: &mut Caller, a_tag: &str, method: &str, sdp: Option<&str>) -> String {
    let text = a.in_dialog(method, a_tag);
    match sdp {
        Some(sdp) => text.replace(
            "Content-Length: 0\r\n\r\n",
            &format!(
                "Contact: <sip:201@127.0.0.1:5070>\r\nContent-Type: application/sdp\r\n\
                 Content-Length: {}\r\n\r\n{sdp}",
                sdp.len()
            ),
        ),
        None => text.replace(
            "Content-Length: 0",
            "Contact: <sip:201@127.0.0.1:5070>\r\nContent-Length: 0",
        ),
    }
}

/// A request from the callee in its dialog with us (`inv` is the INVITE it got).
fn from_callee(inv: &Request, method: Method, cseq: u32, sdp: Option<&str>) -> Vec<u8> {
    from_callee_with(inv, method, cseq, sdp, None)
}

/// Like [`from_callee`], with one more header.
fn from_callee_with(
    inv: &Request,
    method: Method,
    cseq: u32,
    sdp: Option<&str>,
    extra: Option<(HeaderName, &str)>,
) -> Vec<u8> {
    let mut r = Request::new(method.clone(), "sip:201@127.0.0.1:5060".parse().unwrap());
    r.headers.push(
        HeaderName::Via,
        format!("SIP/2.0/UDP 127.0.0.1:5072;branch=z9hG4bK-b{cseq}"),
    );
    r.headers.push(HeaderName::MaxForwards, "70");
    r.headers.push(
        HeaderName::From,
        format!("{};tag=bob", inv.headers.get(&HeaderName::To).unwrap()),
    );
    r.headers.push(
        HeaderName::To,
        inv.headers.get(&HeaderName::From).unwrap().to_string(),
    );
    r.headers.push(
        HeaderName::CallId,
        inv.headers.get(&HeaderName::CallId).unwrap().to_string(),
    );
    r.headers.push(HeaderName::CSeq, format!("{cseq} {method}"));
    r.headers
        .push(HeaderName::Contact, "<sip:202@127.0.0.1:5072>".to_string());
    if let Some((name, value)) = extra {
        r.headers.push(name, value.to_string());
    }
    if let Some(sdp) = sdp {
        r.headers.push(HeaderName::ContentType, "application/sdp");
        r.body = sdp.as_bytes().to_vec();
    }
    r.to_bytes()
}

fn text(body: &[u8]) -> String {
    String::from_utf8(body.to_vec()).unwrap()
}

fn log(relay: &ScriptedRelay) -> Vec<String> {
    relay.log.lock().unwrap().clone()
}

/// The relay's commands after the call was set up (open and the two remotes).
fn music_log(relay: &ScriptedRelay) -> Vec<String> {
    log(relay)
        .into_iter()
        .filter(|l| l.contains("music") || l.starts_with("close"))
        .collect()
}

/// The caller offers `sdp` in a re-INVITE; the callee answers `answer_sdp`. Returns the
/// offer the callee got and the answer the caller got.
fn caller_reinvite(
    net: &mut Net,
    a: &mut Caller,
    a_tag: &str,
    b: Peer,
    sdp: &str,
    answer_sdp: &str,
) -> (String, String) {
    let out = net.deliver(
        a.phone.peer,
        from_caller(a, a_tag, "INVITE", Some(sdp)).as_bytes(),
    );
    let to_b = requests_to(&out, b);
    assert_eq!(to_b.len(), 1, "the re-INVITE reaches the callee");
    let out = net.deliver(b, &answer(&to_b[0], 200, "bob", Some(answer_sdp)));
    let to_a = responses_to(&out, a.phone.peer);
    assert_eq!(statuses(&to_a), [200]);
    net.deliver(a.phone.peer, a.ack_text(a_tag).as_bytes());
    (text(&to_b[0].body), text(&to_a[0].body))
}

#[test]
fn the_caller_holds_with_sendonly_and_the_callee_hears_music_until_resumed() {
    let (mut net, mut a, b) = setup(&[5072]);
    let relay = ScriptedRelay::default();
    let (_, a_tag) = answered_call_via(&mut net, &mut a, b[0], relay.clone());

    let hold = caller_sdp("a=sendonly\r\n", 2);
    let held = callee_sdp("a=recvonly\r\n", "0 101", 2);
    let (offer, answer) = caller_reinvite(&mut net, &mut a, &a_tag, b[0], &hold, &held);
    assert!(
        offer.contains("a=sendonly") && offer.contains("m=audio 10002"),
        "{offer}"
    );
    assert!(
        answer.contains("a=recvonly") && answer.contains("m=audio 10000"),
        "{answer}"
    );
    assert_eq!(music_log(&relay), ["music 7 Callee system pt 0"]);

    // A session refresh that repeats the hold asks again (the relay ignores it).
    caller_reinvite(
        &mut net,
        &mut a,
        &a_tag,
        b[0],
        &caller_sdp("a=sendonly\r\n", 3),
        &held,
    );
    assert_eq!(music_log(&relay).len(), 2);

    let talk = caller_sdp("a=sendrecv\r\n", 4);
    let (offer, _) = caller_reinvite(&mut net, &mut a, &a_tag, b[0], &talk, SDP_B);
    assert!(offer.contains("a=sendrecv"), "{offer}");
    net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    assert_eq!(
        music_log(&relay),
        [
            "music 7 Callee system pt 0",
            "music 7 Callee system pt 0",
            "stop music 7 Callee",
            "close 7"
        ]
    );
}

#[test]
fn inactive_is_offered_as_sendonly_and_answered_as_inactive_and_hanging_up_stops_the_music() {
    let (mut net, mut a, b) = setup(&[5072]);
    let relay = ScriptedRelay::default();
    let (_, a_tag) = answered_call_via(&mut net, &mut a, b[0], relay.clone());

    // Session-level a=inactive: the callee must still be offered something it listens to.
    let hold = caller_sdp("", 2).replace("t=0 0\r\n", "t=0 0\r\na=inactive\r\n");
    let held = callee_sdp("a=recvonly\r\n", "8 101", 2);
    let (offer, answer) = caller_reinvite(&mut net, &mut a, &a_tag, b[0], &hold, &held);
    let offered = sdp::parse(offer.as_bytes()).unwrap();
    assert_eq!(
        offered.direction(0),
        Some(sdp::Direction::SendOnly),
        "{offer}"
    );
    let answered = sdp::parse(answer.as_bytes()).unwrap();
    assert_eq!(
        answered.direction(0),
        Some(sdp::Direction::Inactive),
        "an inactive offer gets an inactive answer: {answer}"
    );
    assert_eq!(music_log(&relay), ["music 7 Callee system pt 8"]);

    net.deliver(a.phone.peer, a.in_dialog("BYE", &a_tag).as_bytes());
    assert_eq!(
        music_log(&relay),
        [
            "music 7 Callee system pt 8",
            "stop music 7 Callee",
            "close 7"
        ],
        "music stops before the relay session closes"
    );
}

#[test]
fn the_callee_holds_by_update_and_the_caller_hears_music_in_its_own_codec() {
    let (mut net, mut a, b) = setup(&[5072]);
    let relay = ScriptedRelay::default();
    let (inv, _) = answered_call_via(&mut net, &mut a, b[0], relay.clone());

    let hold = callee_sdp("a=sendonly\r\n", "0 101", 2);
    let out = net.deliver(b[0], &from_callee(&inv, Method::Update, 10, Some(&hold)));
    let to_a = requests_to(&out, a.phone.peer);
    assert_eq!(to_a[0].method, Method::Update);
    let offer = text(&to_a[0].body);
    assert!(
        offer.contains("a=sendonly") && offer.contains("m=audio 10000"),
        "{offer}"
    );
    assert!(
        music_log(&relay).is_empty(),
        "nothing before the caller accepts"
    );
    // The caller prefers PCMA now.
    let held = caller_sdp("a=recvonly\r\n", 2).replace("RTP/AVP 0 8 101", "RTP/AVP 8 0 101");
    let out = net.deliver(a.phone.peer, &answer(&to_a[0], 200, "x", Some(&held)));
    assert_eq!(statuses(&responses_to(&out, b[0])), [200]);
    assert_eq!(music_log(&relay), ["music 7 Caller system pt 8"]);

    let resume = callee_sdp("", "0 101", 3);
    let out = net.deliver(b[0], &from_callee(&inv, Method::Update, 11, Some(&resume)));
    let to_a = requests_to(&out, a.phone.peer);
    net.deliver(a.phone.peer, &answer(&to_a[0], 200, "x", Some(SDP_A)));
    assert_eq!(
        music_log(&relay),
        ["music 7 Caller system pt 8", "stop music 7 Caller"]
    );
}

#[test]
fn a_blind_transfer_plays_ringback_to_the_caller_until_the_target_answers() {
    let mut net = Net::with_extensions(PbxSettings::default(), &["201", "202", "203"]);
    let b = register_at(&mut net, "202", 5072);
    let target = register_at(&mut net, "203", 5203);
    let mut a = caller_201();
    let relay = ScriptedRelay::default();
    let (inv, _) = answered_call_via(&mut net, &mut a, b, relay.clone());
    // 202 holds 201 (as phones do before transferring), then refers it to 203.
    let hold = callee_sdp("a=sendonly\r\n", "0 101", 2);
    let out = net.deliver(b, &from_callee(&inv, Method::Invite, 10, Some(&hold)));
    let to_a = requests_to(&out, a.phone.peer);
    let held = caller_sdp("a=recvonly\r\n", 2);
    net.deliver(a.phone.peer, &answer(&to_a[0], 200, "x", Some(&held)));
    assert_eq!(music_log(&relay), ["music 7 Caller system pt 0"]);
    let refer_to = Some((HeaderName::ReferTo, "<sip:203@127.0.0.1>"));
    let out = net.deliver(
        b,
        &from_callee_with(&inv, Method::Refer, 11, None, refer_to),
    );
    assert_eq!(statuses(&responses_to(&out, b)), [202]);
    let to_203 = requests_to(&out, target)
        .into_iter()
        .find(|r| r.method == Method::Invite)
        .expect("the target rings");
    let ringing = [
        "music 7 Caller system pt 0",
        "stop music 7 Caller",
        "music 7 Caller ringback tone pt 0",
    ];
    assert_eq!(
        music_log(&relay),
        ringing,
        "the caller hears ringback while 203 rings"
    );
    net.deliver(target, &answer(&to_203, 200, "m203", Some(SDP_B)));
    let mut answered = ringing.to_vec();
    answered.push("stop music 7 Caller");
    assert_eq!(
        music_log(&relay),
        answered,
        "203 answered: the caller hears 203"
    );
}

#[test]
fn a_refused_hold_or_a_deaf_answer_plays_no_music() {
    let (mut net, mut a, b) = setup(&[5072]);
    let relay = ScriptedRelay::default();
    let (_, a_tag) = answered_call_via(&mut net, &mut a, b[0], relay.clone());
    let hold = caller_sdp("a=sendonly\r\n", 2);
    let out = net.deliver(
        a.phone.peer,
        from_caller(&mut a, &a_tag, "INVITE", Some(&hold)).as_bytes(),
    );
    let to_b = requests_to(&out, b[0]);
    let out = net.deliver(b[0], &answer(&to_b[0], 488, "bob", None));
    assert_eq!(statuses(&responses_to(&out, a.phone.peer)), [488]);
    assert!(music_log(&relay).is_empty());
    // No G.711 in the held party's answer: no music either (the relay has nothing else).
    let held = callee_sdp("a=recvonly\r\n", "9 101", 2);
    caller_reinvite(&mut net, &mut a, &a_tag, b[0], &hold, &held);
    assert!(music_log(&relay).is_empty());
    // Nor when the held party answers that it receives nothing.
    let deaf = callee_sdp("a=inactive\r\n", "0 101", 3);
    caller_reinvite(&mut net, &mut a, &a_tag, b[0], &hold, &deaf);
    assert!(music_log(&relay).is_empty());
}

#[test]
fn an_offer_in_the_2xx_to_a_re_invite_without_sdp_can_hold_too() {
    let (mut net, mut a, b) = setup(&[5072]);
    let relay = ScriptedRelay::default();
    let (_, a_tag) = answered_call_via(&mut net, &mut a, b[0], relay.clone());
    // The caller refreshes without SDP; the callee, holding, offers inactive in its 200.
    let out = net.deliver(
        a.phone.peer,
        from_caller(&mut a, &a_tag, "INVITE", None).as_bytes(),
    );
    let to_b = requests_to(&out, b[0]);
    assert!(to_b[0].body.is_empty());
    let offer = callee_sdp("a=inactive\r\n", "0 8 101", 2);
    let out = net.deliver(b[0], &answer(&to_b[0], 200, "bob", Some(&offer)));
    let to_a = responses_to(&out, a.phone.peer);
    let relayed = sdp::parse(&to_a[0].body).unwrap();
    assert_eq!(relayed.direction(0), Some(sdp::Direction::SendOnly));
    assert_eq!(music_log(&relay), ["music 7 Caller system pt 0"]);
    // The caller's answer comes in its ACK and reaches the callee as inactive.
    let answer_sdp = caller_sdp("a=recvonly\r\n", 2);
    let ack = a.ack_text(&a_tag).replace(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{answer_sdp}",
            answer_sdp.len()
        ),
    );
    let out = net.deliver(a.phone.peer, ack.as_bytes());
    let acks = requests_to(&out, b[0]);
    assert_eq!(acks[0].method, Method::Ack);
    let answered = sdp::parse(&acks[0].body).unwrap();
    assert_eq!(answered.direction(0), Some(sdp::Direction::Inactive));
}

#[test]
fn the_holders_music_plays_users_and_hunt_groups_own() {
    let music = [
        ("201", "/srv/moh/alice.wav"),
        ("202", "/srv/moh/bob.wav"),
        ("300", "/srv/moh/sales.wav"),
    ]
    .map(|(n, m)| (n.to_string(), m.to_string()));
    let sales = HuntGroupEntry {
        name: "sales".into(),
        number: "300".into(),
        mode: HuntMode::Collective,
        members: vec!["202".into()],
        no_answer_after: Duration::from_secs(15),
        overflow: None,
        night_service_to: None,
        in_service: true,
        queue_limit: 0,
        voicemail_after: None,
        time_profile: None,
    };
    let features = Features::new([], [sales]).with_music_on_hold(music);

    // A direct call: the caller holds → the caller's music; the callee holds → its own.
    let (mut net, mut a, b) = setup(&[5072]);
    net.pbx.set_features(features.clone());
    let relay = ScriptedRelay::default();
    let (inv, a_tag) = answered_call_via(&mut net, &mut a, b[0], relay.clone());
    let held = callee_sdp("a=recvonly\r\n", "0 101", 2);
    caller_reinvite(
        &mut net,
        &mut a,
        &a_tag,
        b[0],
        &caller_sdp("a=sendonly\r\n", 2),
        &held,
    );
    let out = net.deliver(
        b[0],
        &from_callee(
            &inv,
            Method::Update,
            10,
            Some(&held.replace("recvonly", "sendonly")),
        ),
    );
    let to_a = requests_to(&out, a.phone.peer);
    net.deliver(
        a.phone.peer,
        &answer(&to_a[0], 200, "x", Some(&caller_sdp("a=recvonly\r\n", 3))),
    );
    assert_eq!(
        music_log(&relay),
        [
            "music 7 Callee /srv/moh/alice.wav pt 0",
            "music 7 Caller /srv/moh/bob.wav pt 0"
        ]
    );

    // A call to the hunt group answered by 202: 202 holds with the group's music.
    let (mut net, mut a, b) = setup(&[5072]);
    net.pbx.set_features(features);
    let relay = ScriptedRelay::default();
    net.pbx.set_media_relay(Box::new(relay.clone()));
    let out = a.call(&mut net, "300");
    let inv = requests_to(&out, b[0]).remove(0);
    let out = net.deliver(b[0], &answer(&inv, 200, "bob", Some(SDP_B)));
    let a_tag = to_tag(&responses_to(&out, a.phone.peer)[0]);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
    let out = net.deliver(
        b[0],
        &from_callee(
            &inv,
            Method::Update,
            10,
            Some(&held.replace("recvonly", "sendonly")),
        ),
    );
    let to_a = requests_to(&out, a.phone.peer);
    net.deliver(
        a.phone.peer,
        &answer(&to_a[0], 200, "x", Some(&caller_sdp("a=recvonly\r\n", 2))),
    );
    assert_eq!(
        music_log(&relay),
        ["music 7 Caller /srv/moh/sales.wav pt 0"]
    );
}

#[test]
fn without_the_relay_the_offer_passes_untouched_and_nothing_plays() {
    // Both extensions may send media directly: no relay session, no music to play.
    let direct = |n: &str| {
        let mut e = entry(n, &format!("Secret-{n}-abc"));
        e.direct_media = true;
        e
    };
    let now = std::time::Instant::now();
    let mut net = Net {
        pbx: Pbx::new(
            PbxSettings::default(),
            Directory::new([direct("201"), direct("202")]),
            NonceSecret::from_bytes([7; 32]),
            now,
            1_800_000_000,
        ),
        now,
    };
    let b = register_at(&mut net, "202", 5072);
    let mut a = caller_201();
    let relay = ScriptedRelay::default();
    let (_, a_tag) = answered_call_via(&mut net, &mut a, b, relay.clone());
    let hold = caller_sdp("a=inactive\r\n", 2);
    let (offer, _) = caller_reinvite(&mut net, &mut a, &a_tag, b, &hold, SDP_B);
    assert!(offer.contains("a=inactive"), "{offer}");
    assert!(log(&relay).is_empty(), "{:?}", log(&relay));
}

/// A core with 201–203, the park codes and 202's own music; 202 and 203 registered.
fn park_office() -> (Net, Caller, Peer, Peer, ScriptedRelay) {
    let mut net = Net::with_extensions(PbxSettings::default(), &["201", "202", "203"]);
    let codes = pbx::ShortCodes::new([
        pbx::ShortCode::new("*37*N#", pbx::ShortCodeFeature::Park).unwrap(),
        pbx::ShortCode::new("*38*N#", pbx::ShortCodeFeature::Unpark).unwrap(),
    ]);
    net.pbx.set_features(
        Features::default()
            .with_short_codes(codes)
            .with_music_on_hold([("202".to_string(), "/srv/moh/bob.wav".to_string())]),
    );
    let b = register_at(&mut net, "202", 5202);
    let c = register_at(&mut net, "203", 5203);
    (net, caller_201(), b, c, ScriptedRelay::default())
}

/// 202 (in `inv`'s call) transfers the call to park slot 1.
fn park_in_slot_1(net: &mut Net, inv: &Request, b: Peer, cseq: u32) {
    let refer = callee_request(
        inv,
        5202,
        "bob",
        "REFER",
        cseq,
        "Refer-To: <sip:*37*1%23@127.0.0.1>\r\n",
    );
    assert_eq!(statuses(&responses_to(&net.deliver(b, &refer), b)), [202]);
}

/// 203 takes the call in slot 1 back; returns what the core sent.
fn unpark_from_203(net: &mut Net) -> Vec<(Peer, sip::Message)> {
    let mut c = Caller {
        phone: common::Phone::new("203", "Secret-203-abc", 5203),
        cseq: 0,
        branch: 0,
        extra_headers: String::new(),
    };
    c.call_with_body(net, "*38*1%23", SDP_B)
}

#[test]
fn a_parked_caller_hears_the_parkers_music_until_taken_back() {
    let (mut net, mut a, b, c, relay) = park_office();
    let (inv, _) = answered_call_via(&mut net, &mut a, b, relay.clone());
    park_in_slot_1(&mut net, &inv, b, 2);
    // 201 offered PCMU first; 202's music plays to it while it waits.
    assert_eq!(music_log(&relay), ["music 7 Caller /srv/moh/bob.wav pt 0"]);
    let out = unpark_from_203(&mut net);
    assert_eq!(statuses(&responses_to(&out, c)), [200]);
    assert_eq!(
        music_log(&relay),
        [
            "music 7 Caller /srv/moh/bob.wav pt 0",
            "stop music 7 Caller"
        ]
    );
}

#[test]
fn a_caller_held_then_parked_keeps_its_music_and_is_resumed_when_taken_back() {
    let (mut net, mut a, b, c, relay) = park_office();
    let (inv, _) = answered_call_via(&mut net, &mut a, b, relay.clone());
    // 202 holds 201 first (as a phone's park key does), then parks it.
    let hold = callee_sdp("a=sendonly\r\n", "0 101", 2);
    let out = net.deliver(b, &from_callee(&inv, Method::Invite, 10, Some(&hold)));
    let to_a = requests_to(&out, a.phone.peer);
    let held = caller_sdp("a=recvonly\r\n", 2);
    net.deliver(a.phone.peer, &answer(&to_a[0], 200, "x", Some(&held)));
    park_in_slot_1(&mut net, &inv, b, 11);
    // Parking asks for the same music again at most, which the relay ignores.
    let log = music_log(&relay);
    assert!(
        log.iter()
            .all(|l| l == "music 7 Caller /srv/moh/bob.wav pt 0"),
        "{log:?}"
    );
    // Taken back: 201 gets our re-INVITE resuming it, and the music stops.
    let out = unpark_from_203(&mut net);
    assert_eq!(statuses(&responses_to(&out, c)), [200]);
    let resume = requests_to(&out, a.phone.peer);
    assert_eq!(resume[0].method, Method::Invite);
    assert!(!String::from_utf8_lossy(&resume[0].body).contains("sendonly"));
    let log = music_log(&relay);
    assert_eq!(
        log.last().map(String::as_str),
        Some("stop music 7 Caller"),
        "{log:?}"
    );
    assert_eq!(
        log.iter().filter(|l| l.starts_with("stop")).count(),
        1,
        "{log:?}"
    );
}

#[test]
fn an_attended_transfer_resuming_the_held_transferee_stops_its_music() {
    let (mut net, mut a, b, c, relay) = park_office();
    let (inv, _) = answered_call_via(&mut net, &mut a, b, relay.clone());
    // 202 holds 201: 201 hears 202's music.
    let hold = callee_sdp("a=sendonly\r\n", "0 101", 2);
    let out = net.deliver(b, &from_callee(&inv, Method::Invite, 10, Some(&hold)));
    let to_a = requests_to(&out, a.phone.peer);
    net.deliver(
        a.phone.peer,
        &answer(&to_a[0], 200, "x", Some(&caller_sdp("a=recvonly\r\n", 2))),
    );
    assert_eq!(music_log(&relay), ["music 7 Caller /srv/moh/bob.wav pt 0"]);
    // 202 consults 203, then transfers 201 to it (REFER with Replaces).
    let mut consult = Caller {
        phone: common::Phone::new("202", "Secret-202-abc", 5202),
        cseq: 0,
        branch: 0,
        extra_headers: String::new(),
    };
    let out = consult.call(&mut net, "203");
    let to_203 = requests_to(&out, c)
        .into_iter()
        .find(|r| r.method == Method::Invite)
        .unwrap();
    let out = net.deliver(c, &answer(&to_203, 200, "m203", Some(SDP_B)));
    let q_tag = to_tag(&responses_to(&out, b)[0]);
    net.deliver(b, consult.ack_text(&q_tag).as_bytes());
    let call_id = consult.phone.call_id.replace('@', "%40");
    let refer_to =
        format!("<sip:203@127.0.0.1?Replaces={call_id}%3Bto-tag%3D{q_tag}%3Bfrom-tag%3Dalice-tag>");
    let refer = from_callee_with(
        &inv,
        Method::Refer,
        11,
        None,
        Some((HeaderName::ReferTo, &refer_to)),
    );
    let out = net.deliver(b, &refer);
    assert_eq!(statuses(&responses_to(&out, b)), [202]);
    // Our re-INVITE takes 201 off hold: its music stops with it.
    let resume = requests_to(&out, a.phone.peer);
    assert_eq!(resume[0].method, Method::Invite);
    let log = music_log(&relay);
    assert_eq!(
        log.iter().filter(|l| l.contains("music 7 Caller")).count(),
        2,
        "{log:?}"
    );
    assert!(log.contains(&"stop music 7 Caller".to_string()), "{log:?}");
}
