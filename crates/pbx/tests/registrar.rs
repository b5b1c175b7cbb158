//! Registration stories on the sans-IO core with simulated time and scripted phones: no
//! sockets, no sleeping; the clock jumps to whatever instant the core asks to be woken at.

use pbx::{GuardSettings, PbxEvent, PbxSettings, Peer};
use sip::auth::DigestAlgorithm;
use sip::header::{AuthParams, HeaderName};
use sip::Response;
use std::time::Duration;

mod common;
use common::{Net, Phone};

fn contacts(resp: &Response) -> Vec<String> {
    resp.headers
        .get_all(&HeaderName::Contact)
        .map(str::to_string)
        .collect()
}

#[test]
fn phone_registers_with_digest_and_the_200_lists_the_binding() {
    let mut net = Net::new(PbxSettings::default());
    let mut phone = Phone::new("201", "Secret-201-abc", 5070);
    let resp = phone.register(
        &mut net,
        "Contact: <sip:201@127.0.0.1:5070>\nExpires: 600\n",
    );
    assert_eq!(resp.status.0, 200);
    assert_eq!(
        contacts(&resp),
        vec!["<sip:201@127.0.0.1:5070>;expires=600"]
    );
    let regs = net.pbx.registrations(net.now);
    assert_eq!(regs.len(), 1);
    assert_eq!(regs[0].extension, "201");
    assert_eq!(regs[0].user_agent.as_deref(), Some("TestPhone/1"));
    assert!(net
        .events()
        .iter()
        .any(|e| matches!(e, PbxEvent::Registered { extension, .. } if extension == "201")));
}

#[test]
fn sha256_is_offered_first_when_configured_and_phones_answer_with_it() {
    let mut net = Net::new(PbxSettings {
        digest_algorithms: vec![DigestAlgorithm::Sha256, DigestAlgorithm::Md5],
        ..PbxSettings::default()
    });
    let mut phone = Phone::new("201", "Secret-201-abc", 5070);
    let challenge = net
        .send(phone.peer, &phone.register_text("", None))
        .remove(0);
    let offered: Vec<&str> = challenge
        .headers
        .get_all(&HeaderName::WwwAuthenticate)
        .collect();
    assert_eq!(offered.len(), 2);
    assert!(offered[0].contains("algorithm=SHA-256"), "{offered:?}");
    let authz = phone.answer(&challenge, "Secret-201-abc");
    assert_eq!(authz.get("algorithm"), Some("SHA-256"));
    let resp = net
        .send(
            phone.peer,
            &phone.register_text("Contact: <sip:201@127.0.0.1:5070>\n", Some(&authz)),
        )
        .remove(0);
    assert_eq!(resp.status.0, 200);
}

#[test]
fn the_default_offers_md5_alone() {
    let mut net = Net::new(PbxSettings::default());
    let mut phone = Phone::new("201", "Secret-201-abc", 5070);
    let challenge = net
        .send(phone.peer, &phone.register_text("", None))
        .remove(0);
    let offered: Vec<&str> = challenge
        .headers
        .get_all(&HeaderName::WwwAuthenticate)
        .collect();
    assert_eq!(offered.len(), 1);
    assert!(offered[0].contains("algorithm=MD5"));
}

#[test]
fn unknown_user_is_challenged_exactly_like_a_known_one() {
    let mut net = Net::new(PbxSettings::default());
    let mut known = Phone::new("201", "x", 5070);
    let mut unknown = Phone::new("299", "x", 5071);
    let a = net
        .send(known.peer, &known.register_text("", None))
        .remove(0);
    let b = net
        .send(unknown.peer, &unknown.register_text("", None))
        .remove(0);
    assert_eq!(a.status, b.status);
    let names = |r: &Response| r.headers.iter().map(|h| h.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b));
    let shape = |r: &Response| {
        r.headers
            .get_all(&HeaderName::WwwAuthenticate)
            .map(|v| {
                let p = AuthParams::parse(v).unwrap();
                p.params.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&a), shape(&b));
    // And a wrong answer gets the same 403 for both.
    let bad_known = known.answer(&a, "wrong-password");
    let bad_unknown = unknown.answer(&b, "wrong-password");
    let ra = net.send(known.peer, &known.register_text("", Some(&bad_known)));
    let rb = net.send(unknown.peer, &unknown.register_text("", Some(&bad_unknown)));
    assert_eq!(ra[0].status.0, 403);
    assert_eq!(rb[0].status.0, 403);
}

#[test]
fn wrong_passwords_are_slowed_then_the_source_is_blocked() {
    let mut net = Net::new(PbxSettings {
        guard: GuardSettings {
            failures_before_block: 4,
            failure_window: Duration::from_secs(60),
            block_for: Duration::from_secs(120),
            slow_down_after: 2,
        },
        ..PbxSettings::default()
    });
    let mut guesser = Phone::new("202", "wrong", 6000);
    for attempt in 1..=4u32 {
        let challenge = net.send(guesser.peer, &guesser.register_text("", None));
        assert_eq!(challenge[0].status.0, 401, "attempt {attempt}");
        let authz = guesser.answer(&challenge[0], "guess");
        let immediate = net.send(guesser.peer, &guesser.register_text("", Some(&authz)));
        if attempt <= 2 {
            assert_eq!(immediate[0].status.0, 403);
        } else {
            // Held back: nothing now, the 403 exactly when the delay is over.
            assert!(immediate.is_empty(), "attempt {attempt} answered at once");
            let due = net.now + Duration::from_secs(u64::from(attempt - 2));
            while net.pbx.poll_timeout().is_some_and(|t| t < due) {
                let t = net.pbx.poll_timeout().unwrap();
                net.now = t;
                net.pbx.handle_timeout(t);
                assert!(net.drain(guesser.peer).is_empty(), "403 before its time");
            }
            assert_eq!(net.pbx.poll_timeout(), Some(due));
            net.now = due;
            net.pbx.handle_timeout(due);
            assert_eq!(net.drain(guesser.peer)[0].status.0, 403);
        }
    }
    assert!(net
        .events()
        .iter()
        .any(|e| matches!(e, PbxEvent::Blocked { .. })));
    // Blocked: the next request from that source gets no answer at all...
    assert!(net
        .send(guesser.peer, &guesser.register_text("", None))
        .is_empty());
    // ...while another phone from elsewhere registers fine.
    let mut other = Phone::new("201", "Secret-201-abc", 7000);
    let mut other_peer = other.peer;
    other_peer.addr = "127.0.0.2:7000".parse().unwrap();
    other.peer = other_peer;
    let resp = other.register(&mut net, "Contact: <sip:201@127.0.0.2:7000>\n");
    assert_eq!(resp.status.0, 200);
    // The block lapses.
    net.advance(Duration::from_secs(121));
    assert_eq!(
        net.send(guesser.peer, &guesser.register_text("", None))[0]
            .status
            .0,
        401
    );
}

#[test]
fn bindings_expire_at_their_time() {
    let mut net = Net::new(PbxSettings::default());
    let mut phone = Phone::new("201", "Secret-201-abc", 5070);
    phone.register(&mut net, "Contact: <sip:201@127.0.0.1:5070>;expires=120\n");
    net.advance(Duration::from_secs(119));
    assert_eq!(net.pbx.registrations(net.now).len(), 1);
    net.advance(Duration::from_secs(2));
    assert_eq!(net.pbx.binding_count(), 0);
    assert!(net
        .events()
        .iter()
        .any(|e| matches!(e, PbxEvent::Expired { count: 1 })));
}

#[test]
fn too_brief_expiry_gets_423_with_min_expires() {
    let mut net = Net::new(PbxSettings::default());
    let mut phone = Phone::new("201", "Secret-201-abc", 5070);
    let resp = phone.register(&mut net, "Contact: <sip:201@127.0.0.1:5070>\nExpires: 30\n");
    assert_eq!(resp.status.0, 423);
    assert_eq!(resp.headers.get(&HeaderName::MinExpires), Some("60"));
    assert_eq!(net.pbx.binding_count(), 0);
}

#[test]
fn long_expiry_is_shortened_and_per_contact_expires_wins() {
    let mut net = Net::new(PbxSettings::default());
    let mut phone = Phone::new("201", "Secret-201-abc", 5070);
    let resp = phone.register(
        &mut net,
        "Contact: <sip:201@127.0.0.1:5070>;expires=300, <sip:201@127.0.0.1:5072>\nExpires: 99999\n",
    );
    assert_eq!(resp.status.0, 200);
    let mut c = contacts(&resp);
    c.sort();
    assert_eq!(
        c,
        vec![
            "<sip:201@127.0.0.1:5070>;expires=300",
            "<sip:201@127.0.0.1:5072>;expires=3600"
        ]
    );
}

#[test]
fn a_fourth_contact_replaces_the_oldest_and_star_removes_all() {
    let mut net = Net::new(PbxSettings::default());
    for (i, port) in [5070u16, 5071, 5072, 5073].into_iter().enumerate() {
        let mut phone = Phone::new("201", "Secret-201-abc", port);
        let resp = phone.register(
            &mut net,
            &format!(
                "Contact: <sip:201@127.0.0.1:{port}>\nExpires: {}\n",
                600 + i
            ),
        );
        assert_eq!(resp.status.0, 200);
        net.advance(Duration::from_secs(1));
    }
    let regs = net.pbx.registrations(net.now);
    assert_eq!(regs.len(), 3);
    assert!(!regs.iter().any(|r| r.contact.contains(":5070")));
    // A binding query changes nothing and lists all three.
    let mut q = Phone::new("201", "Secret-201-abc", 5090);
    assert_eq!(contacts(&q.register(&mut net, "")).len(), 3);
    // Contact: * with Expires: 0 removes every binding.
    let resp = q.register(&mut net, "Contact: *\nExpires: 0\n");
    assert_eq!(resp.status.0, 200);
    assert!(contacts(&resp).is_empty());
    assert_eq!(net.pbx.binding_count(), 0);
    // Contact: * without Expires: 0 is a 400.
    let resp = q.register(&mut net, "Contact: *\n");
    assert_eq!(resp.status.0, 400);
}

#[test]
fn unregister_one_contact_keeps_the_others() {
    let mut net = Net::new(PbxSettings::default());
    let mut phone = Phone::new("201", "Secret-201-abc", 5070);
    phone.register(
        &mut net,
        "Contact: <sip:201@127.0.0.1:5070>, <sip:201@127.0.0.1:5071>\n",
    );
    let resp = phone.register(&mut net, "Contact: <sip:201@127.0.0.1:5070>;expires=0\n");
    assert_eq!(
        contacts(&resp),
        vec!["<sip:201@127.0.0.1:5071>;expires=3600"]
    );
}

#[test]
fn a_retransmitted_register_gets_the_same_answer_and_transactions_end() {
    let mut net = Net::new(PbxSettings::default());
    let mut phone = Phone::new("201", "Secret-201-abc", 5070);
    let text = phone.register_text("", None);
    let first = net.send(phone.peer, &text);
    let again = net.send(phone.peer, &text);
    assert_eq!(first.len(), 1);
    assert_eq!(again.len(), 1);
    assert_eq!(first[0].to_bytes(), again[0].to_bytes());
    assert!(net.pbx.transaction_count() > 0);
    net.advance(Duration::from_secs(33)); // Timer J = 64*T1
    assert_eq!(net.pbx.transaction_count(), 0);
}

#[test]
fn an_expired_nonce_gets_a_stale_challenge() {
    let mut net = Net::new(PbxSettings::default());
    let mut phone = Phone::new("201", "Secret-201-abc", 5070);
    let challenge = net
        .send(phone.peer, &phone.register_text("", None))
        .remove(0);
    net.advance(Duration::from_secs(400));
    let authz = phone.answer(&challenge, "Secret-201-abc");
    let resp = net
        .send(phone.peer, &phone.register_text("", Some(&authz)))
        .remove(0);
    assert_eq!(resp.status.0, 401);
    assert!(resp
        .headers
        .get_all(&HeaderName::WwwAuthenticate)
        .all(|v| v.contains("stale=true")));
}

#[test]
fn a_phone_may_not_register_another_extension() {
    let mut net = Net::new(PbxSettings::default());
    let mut phone = Phone::new("201", "Secret-201-abc", 5070);
    let challenge = net
        .send(phone.peer, &phone.register_text("", None))
        .remove(0);
    let authz = phone.answer(&challenge, "Secret-201-abc");
    let text = phone
        .register_text("", Some(&authz))
        .replace("To: <sip:201@", "To: <sip:202@");
    assert_eq!(net.send(phone.peer, &text)[0].status.0, 403);
}

#[test]
fn options_answers_200_for_assigned_and_404_for_unassigned_numbers() {
    let mut net = Net::new(PbxSettings::default());
    let peer = Peer::udp("127.0.0.1:5080".parse().unwrap());
    let options = |user: &str, branch: u32| {
        format!(
            "OPTIONS sip:{user}127.0.0.1 SIP/2.0\n\
             Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-opt{branch}\n\
             Max-Forwards: 70\n\
             From: <sip:probe@127.0.0.1>;tag=p\n\
             To: <sip:{user}127.0.0.1>\n\
             Call-ID: opt{branch}\n\
             CSeq: 1 OPTIONS\n\
             Content-Length: 0\n\n"
        )
    };
    assert_eq!(net.send(peer, &options("201@", 1))[0].status.0, 200);
    assert_eq!(net.send(peer, &options("299@", 2))[0].status.0, 404);
    assert_eq!(net.send(peer, &options("", 3))[0].status.0, 200);
}

#[test]
fn malformed_requests_get_400_or_are_dropped_and_counted() {
    let mut net = Net::new(PbxSettings::default());
    let peer = Peer::udp("127.0.0.1:5080".parse().unwrap());
    let bad_cseq = format!(
        "OPTIONS sip:127.0.0.1 SIP/2.0\n\
         Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-bad\n\
         From: <sip:probe@127.0.0.1>;tag=p\n\
         To: <sip:127.0.0.1>\n\
         Call-ID: bad1\n\
         CSeq: 1 {}\n\
         Content-Length: 0\n\n",
        "X".repeat(300)
    );
    // The 400 echoes the bad CSeq back (RFC 3261 §8.2.6.2 copies it), so read it raw.
    net.pbx
        .handle_datagram(net.now, peer, bad_cseq.replace('\n', "\r\n").as_bytes());
    let raw = net.pbx.poll_transmit().expect("a 400");
    assert!(
        raw.bytes.starts_with(b"SIP/2.0 400 "),
        "{:?}",
        String::from_utf8_lossy(&raw.bytes)
    );
    assert!(net.pbx.poll_transmit().is_none());
    assert!(net.send(peer, "\u{1}\u{2}garbage").is_empty());
    let s = net.pbx.stats();
    assert_eq!(s.malformed, 2);
    assert_eq!(s.dropped, 1);
    assert_eq!(net.pbx.transaction_count(), 0);
}

#[test]
fn a_stray_ack_is_absorbed_silently() {
    let mut net = Net::new(PbxSettings::default());
    let peer = Peer::udp("127.0.0.1:5080".parse().unwrap());
    let ack = "ACK sip:201@127.0.0.1 SIP/2.0\n\
               Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-ack\n\
               Max-Forwards: 70\n\
               From: <sip:probe@127.0.0.1>;tag=p\n\
               To: <sip:201@127.0.0.1>;tag=x\n\
               Call-ID: ack1\n\
               CSeq: 1 ACK\n\
               Content-Length: 0\n\n";
    assert!(net.send(peer, ack).is_empty());
    assert_eq!(net.pbx.transaction_count(), 0);
}
