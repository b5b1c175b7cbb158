//! Real-world descriptions parse, expose what the B2BUA reads, and print back byte for byte.

use sdp::{parse, Codec, Direction, SessionDescription};

/// baresip 1.0.0 (Debian 12), captured from its INVITE to a local UDP listener.
const BARESIP: &str = "v=0\r\n\
o=- 297509028 485902488 IN IP4 192.0.2.2\r\n\
s=-\r\n\
c=IN IP4 192.0.2.2\r\n\
t=0 0\r\n\
a=tool:baresip 1.0.0\r\n\
m=audio 7328 RTP/AVP 0 8 9 96 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:9 G722/8000\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=fmtp:96 stereo=1;sprop-stereo=1\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=sendrecv\r\n\
a=label:1\r\n\
a=rtcp-rsize\r\n\
a=ssrc:1319905268 cname:sip:alice@127.0.0.1\r\n\
a=minptime:20\r\n\
a=ptime:20\r\n";

/// SIPp 3.6.1 built-in `uac` scenario, with its keywords filled in as SIPp does.
const SIPP_UAC: &str = "v=0\r\n\
o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 6000 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n";

/// SIPp 3.6.1 built-in `uac_pcap` scenario: PCMA with RFC 4733 events.
const SIPP_UAC_PCAP: &str = "v=0\r\n\
o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 6000 RTP/AVP 8 101\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-11,16\r\n";

/// The shape Linphone sends behind NAT: ICE at session and media level, telephone-event at
/// three clock rates, a media-level address and an explicit RTCP port.
const LINPHONE_LIKE: &str = "v=0\r\n\
o=alice 2306 1093 IN IP4 192.168.1.20\r\n\
s=Talk\r\n\
c=IN IP4 192.168.1.20\r\n\
t=0 0\r\n\
a=ice-pwd:31ec21eb38b2ec6d36e8dc7b\r\n\
a=ice-ufrag:0b1e8c5a\r\n\
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\r\n\
a=record:off\r\n\
m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100\r\n\
c=IN IP4 203.0.113.20\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=fmtp:96 useinbandfec=1\r\n\
a=rtpmap:97 speex/16000\r\n\
a=fmtp:97 vbr=on\r\n\
a=rtpmap:98 speex/8000\r\n\
a=fmtp:98 vbr=on\r\n\
a=fmtp:18 annexb=yes\r\n\
a=rtpmap:101 telephone-event/48000\r\n\
a=rtpmap:99 telephone-event/16000\r\n\
a=rtpmap:100 telephone-event/8000\r\n\
a=rtcp:7079\r\n\
a=candidate:1 1 UDP 2130706431 192.168.1.20 7078 typ host\r\n\
a=candidate:1 2 UDP 2130706430 192.168.1.20 7079 typ host\r\n\
a=candidate:2 1 UDP 1694498815 203.0.113.20 7078 typ srflx raddr 192.168.1.20 rport 7078\r\n\
a=candidate:2 2 UDP 1694498814 203.0.113.20 7079 typ srflx raddr 192.168.1.20 rport 7079\r\n\
a=rtcp-fb:* trr-int 1000\r\n\
a=rtcp-fb:* ccm tmmbr\r\n";

/// The shape of a Polycom desk phone offering best-effort SRTP: `a=crypto` on an RTP/AVP
/// stream, a session-level direction, wideband codecs first, events at 127.
const POLYCOM_LIKE: &str = "v=0\r\n\
o=- 1700000123 1700000123 IN IP4 10.0.0.50\r\n\
s=Polycom IP Phone\r\n\
c=IN IP4 10.0.0.50\r\n\
t=0 0\r\n\
a=sendrecv\r\n\
m=audio 2222 RTP/AVP 9 102 0 8 127\r\n\
a=rtpmap:9 G722/8000\r\n\
a=rtpmap:102 G7221/16000\r\n\
a=fmtp:102 bitrate=32000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:127 telephone-event/8000\r\n\
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^31|1:1\r\n\
a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^31|1:1\r\n\
a=encryption:optional\r\n";

/// Audio and video, the video on its own address with bandwidth lines (a softphone with a
/// camera), and an RFC 2543 style hold address on the audio.
const AUDIO_VIDEO_HELD: &str = "v=0\r\n\
o=bob 1 2 IN IP6 2001:db8::20\r\n\
s= \r\n\
i=A call\r\n\
b=AS:512\r\n\
t=0 0\r\n\
m=audio 5004 RTP/AVP 8 0 96\r\n\
c=IN IP4 0.0.0.0\r\n\
a=rtpmap:96 telephone-event/8000\r\n\
m=video 5006 RTP/AVP 31 34\r\n\
i=camera\r\n\
c=IN IP6 2001:db8::21\r\n\
b=AS:384\r\n\
b=TIAS:384000\r\n\
a=recvonly\r\n";

const ALL: [(&str, &str); 6] = [
    ("baresip", BARESIP),
    ("sipp uac", SIPP_UAC),
    ("sipp uac_pcap", SIPP_UAC_PCAP),
    ("linphone-like", LINPHONE_LIKE),
    ("polycom-like", POLYCOM_LIKE),
    ("audio+video held", AUDIO_VIDEO_HELD),
];

fn parsed(text: &str) -> SessionDescription {
    parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_vector_prints_back_exactly() {
    for (name, text) in ALL {
        let sdp = parse(text.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(sdp.to_string(), text, "{name}");
        assert_eq!(sdp.to_bytes(), text.as_bytes(), "{name}");
    }
}

#[test]
fn every_vector_parses_with_bare_lf_to_the_same_model() {
    for (name, text) in ALL {
        let lf = text.replace("\r\n", "\n");
        assert_eq!(parse(lf.as_bytes()), parse(text.as_bytes()), "{name}");
    }
}

#[test]
fn baresip_codecs_and_attributes() {
    let sdp = parsed(BARESIP);
    let m = &sdp.media[0];
    assert_eq!(sdp.origin.session_version, "485902488");
    assert_eq!(sdp.attribute_value("tool"), Some("baresip 1.0.0"));
    assert_eq!(m.codecs()[..2], [Codec::Pcmu, Codec::Pcma]);
    assert_eq!(m.codecs()[4], Codec::TelephoneEvent { pt: 101 });
    assert_eq!(m.fmtp("96"), Some("stereo=1;sprop-stereo=1"));
    assert_eq!(m.ptime(), Some(20));
    assert!(m.has_attribute("rtcp-rsize"));
    assert_eq!(sdp.direction(0), Some(Direction::SendRecv));
    assert_eq!(sdp.connection_address(0), "192.0.2.2".parse().ok());
}

#[test]
fn linphone_media_level_address_and_events_at_8000() {
    let sdp = parsed(LINPHONE_LIKE);
    let m = &sdp.media[0];
    assert_eq!(sdp.connection_address(0), "203.0.113.20".parse().ok());
    assert_eq!(m.rtcp().map(|r| r.port), Some(7079));
    let events: Vec<_> = m
        .codecs()
        .into_iter()
        .filter(|c| matches!(c, Codec::TelephoneEvent { .. }))
        .collect();
    assert_eq!(events, [Codec::TelephoneEvent { pt: 100 }]);
    assert_eq!(
        m.attributes
            .iter()
            .filter(|a| a.name == "candidate")
            .count(),
        4
    );
}

#[test]
fn polycom_crypto_is_kept_verbatim_in_order() {
    let sdp = parsed(POLYCOM_LIKE);
    let crypto: Vec<_> = sdp.media[0]
        .attributes
        .iter()
        .filter(|a| a.name == "crypto")
        .filter_map(|a| a.value.as_deref())
        .collect();
    assert_eq!(crypto.len(), 2);
    assert!(crypto[0].starts_with("1 AES_CM_128_HMAC_SHA1_80 inline:d0Rm"));
    assert!(crypto[0].ends_with("|2^31|1:1"));
    assert_eq!(sdp.media[0].direction_attribute(), None);
    assert_eq!(sdp.direction_attribute(), Some(Direction::SendRecv));
}

#[test]
fn held_audio_and_receive_only_video() {
    let sdp = parsed(AUDIO_VIDEO_HELD);
    assert_eq!(sdp.direction(0), Some(Direction::SendOnly));
    assert_eq!(sdp.direction(1), Some(Direction::RecvOnly));
    assert_eq!(sdp.direction(2), None);
    assert_eq!(sdp.connection_address(0), "0.0.0.0".parse().ok());
    assert_eq!(sdp.connection_address(1), "2001:db8::21".parse().ok());
    assert_eq!(sdp.media[1].bandwidths.len(), 2);
    assert_eq!(sdp.media[1].title.as_deref(), Some("camera"));
}

#[test]
fn relay_rewrite_of_a_real_offer() {
    let mut sdp = parsed(LINPHONE_LIKE);
    sdp.rewrite_connection("198.51.100.1".parse().unwrap());
    sdp.set_port(0, 30000).unwrap();
    for ice in ["candidate", "ice-pwd", "ice-ufrag"] {
        sdp.media[0].remove_attributes(ice);
    }
    sdp.bump_version();
    let text = sdp.to_string();
    assert!(text.starts_with(
        "v=0\r\no=alice 2306 1094 IN IP4 198.51.100.1\r\ns=Talk\r\nc=IN IP4 198.51.100.1\r\n"
    ));
    assert!(text
        .contains("m=audio 30000 RTP/AVP 96 97 98 0 8 18 101 99 100\r\nc=IN IP4 198.51.100.1\r\n"));
    assert!(!text.contains("a=rtcp:"));
    assert!(!text.contains("a=candidate"));
    assert_eq!(parse(text.as_bytes()), Ok(sdp));
}
