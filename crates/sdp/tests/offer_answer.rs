//! RFC 3264 offer/answer for audio, as the B2BUA answers each leg: codec choice and order,
//! RFC 4733 payload types, direction mirroring including every hold spelling, and the
//! rejection of streams we cannot take.

use std::net::IpAddr;

use sdp::{
    answer, offer, parse, Codec, Direction, LocalCapabilities, NegotiationError, SessionDescription,
};

const RELAY: &str = "198.51.100.1";

fn local() -> LocalCapabilities {
    let addr: IpAddr = RELAY.parse().unwrap();
    let mut caps = LocalCapabilities::new(42, addr, vec![30000, 30002, 30004]);
    caps.session_version = 7;
    caps
}

/// An offer with the given session-level extras and media sections.
fn offer_with(session: &str, media: &str) -> SessionDescription {
    let text = format!(
        "v=0\r\no=- 5 5 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n{session}{media}"
    );
    parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn audio(formats: &str, extra: &str) -> String {
    format!("m=audio 4000 RTP/AVP {formats}\r\n{extra}")
}

fn answered(offer: &SessionDescription) -> SessionDescription {
    let answer = answer(offer, &local()).unwrap();
    // Whatever we answer must itself be valid SDP that prints back exactly.
    let text = answer.to_string();
    assert_eq!(parse(text.as_bytes()).as_ref(), Ok(&answer), "{text}");
    answer
}

fn formats(sdp: &SessionDescription, index: usize) -> Vec<&str> {
    sdp.media[index]
        .formats
        .iter()
        .map(String::as_str)
        .collect()
}

#[test]
fn answer_is_complete_and_exact() {
    let o = offer_with(
        "",
        &audio(
            "0 8 101",
            "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
        ),
    );
    assert_eq!(
        answered(&o).to_string(),
        "v=0\r\n\
         o=- 42 7 IN IP4 198.51.100.1\r\n\
         s=-\r\n\
         c=IN IP4 198.51.100.1\r\n\
         t=0 0\r\n\
         m=audio 30000 RTP/AVP 0 8 101\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n\
         a=fmtp:101 0-16\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n"
    );
}

#[test]
fn offerer_order_of_preference_is_kept() {
    let o = offer_with("", &audio("8 18 0", ""));
    assert_eq!(formats(&answered(&o), 0), ["8", "0"]);
    let mut caps = local();
    caps.codecs = vec![Codec::Pcmu];
    let a = answer(&o, &caps).unwrap();
    assert_eq!(formats(&a, 0), ["0"]);
}

#[test]
fn telephone_event_keeps_the_offerers_payload_type() {
    for pt in [101, 96, 127] {
        let o = offer_with(
            "",
            &audio(
                &format!("0 {pt}"),
                &format!("a=rtpmap:{pt} telephone-event/8000\r\n"),
            ),
        );
        let a = answered(&o);
        assert_eq!(formats(&a, 0), ["0".to_owned(), pt.to_string()]);
        assert_eq!(a.media[0].codecs()[1], Codec::TelephoneEvent { pt });
        assert_eq!(a.media[0].fmtp(&pt.to_string()), Some("0-16"));
    }
}

#[test]
fn telephone_event_at_other_rates_is_ignored() {
    let o = offer_with(
        "",
        &audio(
            "0 101 100",
            "a=rtpmap:101 telephone-event/48000\r\na=rtpmap:100 telephone-event/8000\r\n",
        ),
    );
    assert_eq!(formats(&answered(&o), 0), ["0", "100"]);
}

#[test]
fn no_events_when_we_do_not_support_them() {
    let o = offer_with("", &audio("0 101", "a=rtpmap:101 telephone-event/8000\r\n"));
    let mut caps = local();
    caps.codecs.retain(|c| c.is_voice());
    let a = answer(&o, &caps).unwrap();
    assert_eq!(formats(&a, 0), ["0"]);
    assert!(!a.to_string().contains("telephone-event"));
}

#[test]
fn no_common_codec() {
    let g729 = offer_with("", &audio("18", "a=rtpmap:18 G729/8000\r\n"));
    assert_eq!(
        answer(&g729, &local()),
        Err(NegotiationError::NoCommonCodec)
    );
    // Events alone carry no voice.
    let events = offer_with("", &audio("101", "a=rtpmap:101 telephone-event/8000\r\n"));
    assert_eq!(
        answer(&events, &local()),
        Err(NegotiationError::NoCommonCodec)
    );
    // Nothing offered at all.
    assert_eq!(
        answer(&offer_with("", ""), &local()),
        Err(NegotiationError::NoCommonCodec)
    );
    // Only SRTP: we cannot answer RTP/SAVP yet.
    let srtp = offer_with(
        "",
        "m=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n",
    );
    assert_eq!(
        answer(&srtp, &local()),
        Err(NegotiationError::NoCommonCodec)
    );
    assert_eq!(
        NegotiationError::NoCommonCodec.to_string(),
        "no common codec in any audio stream"
    );
}

#[test]
fn unsupported_streams_are_rejected_in_place() {
    let o = offer_with(
        "",
        &format!(
            "m=video 5000 RTP/AVP 31 34\r\n{}m=image 6000 udptl t38\r\n",
            audio("0", "")
        ),
    );
    let a = answered(&o);
    assert_eq!(a.media.len(), 3);
    assert_eq!((a.media[0].media.as_str(), a.media[0].port), ("video", 0));
    assert_eq!(formats(&a, 0), ["31", "34"]);
    assert!(a.media[0].attributes.is_empty());
    assert_eq!(a.media[1].port, 30002);
    assert_eq!(
        (a.media[2].protocol.as_str(), a.media[2].port),
        ("udptl", 0)
    );
    assert_eq!(formats(&a, 2), ["t38"]);
}

#[test]
fn disabled_offer_streams_and_missing_ports_are_rejected() {
    let o = offer_with(
        "",
        "m=audio 0 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 8\r\nm=audio 4004 RTP/AVP 0\r\n",
    );
    let mut caps = local();
    caps.ports = vec![30000, 30002];
    let a = answer(&o, &caps).unwrap();
    let ports: Vec<u16> = a.media.iter().map(|m| m.port).collect();
    assert_eq!(ports, [0, 30002, 0]);
    caps.ports = vec![30000, 0, 30004];
    assert_eq!(answer(&o, &caps).unwrap().media[2].port, 30004);
    caps.ports.clear();
    assert_eq!(answer(&o, &caps), Err(NegotiationError::NoCommonCodec));
}

#[test]
fn direction_is_mirrored() {
    for (offered, expected) in [
        ("a=sendrecv\r\n", Direction::SendRecv),
        ("", Direction::SendRecv),
        ("a=sendonly\r\n", Direction::RecvOnly),
        ("a=recvonly\r\n", Direction::SendOnly),
        ("a=inactive\r\n", Direction::Inactive),
    ] {
        let a = answered(&offer_with("", &audio("0", offered)));
        assert_eq!(a.direction(0), Some(expected), "{offered:?}");
        assert_eq!(a.media[0].direction_attribute(), Some(expected));
    }
}

#[test]
fn hold_variants() {
    // Session-level attribute, overridden or not at media level.
    let a = answered(&offer_with("a=sendonly\r\n", &audio("0", "")));
    assert_eq!(a.direction(0), Some(Direction::RecvOnly));
    let a = answered(&offer_with("a=sendonly\r\n", &audio("0", "a=sendrecv\r\n")));
    assert_eq!(a.direction(0), Some(Direction::SendRecv));
    // RFC 2543 hold: c=0.0.0.0 at session or media level, alone or with an attribute.
    for (text, offered, expected) in [
        ("c=IN IP4 0.0.0.0", "", Direction::RecvOnly),
        ("c=IN IP4 0.0.0.0", "a=sendonly\r\n", Direction::RecvOnly),
        ("c=IN IP4 0.0.0.0", "a=inactive\r\n", Direction::Inactive),
        ("c=IN IP4 0.0.0.0", "a=recvonly\r\n", Direction::Inactive),
    ] {
        let session = offer_with("", &audio("0", offered)).to_string();
        let held = session.replace("c=IN IP4 192.0.2.9", text);
        let o = parse(held.as_bytes()).unwrap();
        assert_eq!(o.direction(0), Some(expected.reversed()), "{offered:?}");
        assert_eq!(answered(&o).direction(0), Some(expected), "{offered:?}");
        // The answer names its real address, never 0.0.0.0 (RFC 3264 §8.4).
        assert_eq!(answered(&o).connection_address(0), RELAY.parse().ok());
    }
    let media_level = offer_with("", &audio("0", "c=IN IP4 0.0.0.0\r\n"));
    assert_eq!(
        answered(&media_level).direction(0),
        Some(Direction::RecvOnly)
    );
}

#[test]
fn our_own_hold_narrows_the_answer() {
    let mut caps = local();
    caps.direction = Direction::SendOnly;
    let o = offer_with("", &audio("0", ""));
    assert_eq!(
        answer(&o, &caps).unwrap().direction(0),
        Some(Direction::SendOnly)
    );
    let o = offer_with("", &audio("0", "a=sendonly\r\n"));
    assert_eq!(
        answer(&o, &caps).unwrap().direction(0),
        Some(Direction::Inactive)
    );
}

#[test]
fn time_is_copied_from_the_offer() {
    let text = offer_with("", &audio("0", ""))
        .to_string()
        .replace("t=0 0", "t=3034423619 3042462419");
    let a = answered(&parse(text.as_bytes()).unwrap());
    assert!(a.to_string().contains("\r\nt=3034423619 3042462419\r\n"));
}

#[test]
fn ipv6_relay() {
    let mut caps = local();
    caps.address = "2001:db8::5".parse().unwrap();
    let a = answer(&offer_with("", &audio("0", "")), &caps).unwrap();
    let text = a.to_string();
    assert!(text.contains("o=- 42 7 IN IP6 2001:db8::5\r\n"));
    assert!(text.contains("c=IN IP6 2001:db8::5\r\n"));
}

#[test]
fn our_offer() {
    let mut caps = local();
    caps.ports = vec![30000];
    assert_eq!(
        offer(&caps).to_string(),
        "v=0\r\n\
         o=- 42 7 IN IP4 198.51.100.1\r\n\
         s=-\r\n\
         c=IN IP4 198.51.100.1\r\n\
         t=0 0\r\n\
         m=audio 30000 RTP/AVP 0 8 101\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n\
         a=fmtp:101 0-16\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n"
    );
    // A re-INVITE putting the peer on hold, with our preference for A-law and events at 96.
    caps.codecs = vec![Codec::Pcma, Codec::Pcmu, Codec::TelephoneEvent { pt: 96 }];
    caps.direction = Direction::SendOnly;
    caps.ptime = None;
    caps.session_version = 8;
    let o = offer(&caps);
    assert_eq!(formats(&o, 0), ["8", "0", "96"]);
    assert_eq!(o.direction(0), Some(Direction::SendOnly));
    assert_eq!(o.origin.session_version, "8");
    assert_eq!(o.media[0].ptime(), None);
    assert_eq!(parse(&o.to_bytes()), Ok(o.clone()));
    // The peer's answer to it: recvonly, and we can read back what it chose.
    let peer = LocalCapabilities::new(9, "192.0.2.9".parse().unwrap(), vec![4000]);
    let reply = answer(&o, &peer).unwrap();
    assert_eq!(reply.direction(0), Some(Direction::RecvOnly));
    assert_eq!(reply.media[0].codecs()[2], Codec::TelephoneEvent { pt: 96 });
}

#[test]
fn offer_without_codecs_still_valid() {
    let mut caps = local();
    caps.codecs.clear();
    let o = offer(&caps);
    assert_eq!(formats(&o, 0), ["0"]);
    assert!(parse(&o.to_bytes()).is_ok());
}

#[test]
fn dynamic_codec_added_by_the_caller() {
    let o = offer_with(
        "",
        &audio(
            "96 0",
            "a=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\n",
        ),
    );
    let mut caps = local();
    let opus = sdp::RtpMap::parse("111 opus/48000/2");
    caps.codecs.insert(
        0,
        Codec::Other {
            pt: 111,
            rtpmap: opus,
        },
    );
    let a = answer(&o, &caps).unwrap();
    assert_eq!(formats(&a, 0), ["96", "0"]);
    assert_eq!(a.media[0].fmtp("96"), Some("useinbandfec=1"));
}
