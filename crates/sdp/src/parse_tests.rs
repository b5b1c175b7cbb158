//! Unit tests of the grammar rules, one rule per test. Whole real-world descriptions are
//! in `tests/roundtrip.rs` and `tests/malformed.rs`.

use super::*;

const HEAD: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n";

fn with_head(rest: &str) -> Result<SessionDescription, SdpError> {
    parse(format!("{HEAD}{rest}").as_bytes())
}

fn err(rest: &str) -> SdpError {
    match with_head(rest) {
        Ok(sdp) => panic!("accepted: {rest:?} as {sdp:?}"),
        Err(e) => e,
    }
}

fn field(e: &SdpError) -> (usize, &'static str) {
    match e {
        SdpError::InvalidField { line, field, .. } => (*line, field),
        other => panic!("not InvalidField: {other:?}"),
    }
}

#[test]
fn minimal_description_parses() {
    let sdp = with_head("t=0 0\r\n").unwrap();
    assert_eq!(sdp.origin.session_id, "1");
    assert_eq!(sdp.times.len(), 1);
    assert!(sdp.media.is_empty());
}

#[test]
fn session_order_follows_rfc_8866() {
    let all = "i=info\r\nu=http://x\r\ne=a@b\r\ne=c@d\r\np=+1\r\nc=IN IP4 192.0.2.1\r\n\
               b=AS:64\r\nb=CT:128\r\nt=1 2\r\nr=7d 1h 0 25h\r\nt=0 0\r\nz=2882844526 -1h\r\n\
               k=prompt\r\na=tool:x\r\na=recvonly\r\n";
    let sdp = with_head(all).unwrap();
    assert_eq!(sdp.times[0].repeats, ["7d 1h 0 25h"]);
    assert_eq!(sdp.emails.len(), 2);
    assert_eq!(sdp.to_string(), format!("{HEAD}{all}"));

    for (rest, line, kind) in [
        ("c=IN IP4 192.0.2.1\r\ni=late\r\nt=0 0\r\n", 5, 'i'),
        ("t=0 0\r\nc=IN IP4 192.0.2.1\r\n", 5, 'c'),
        ("t=0 0\r\na=x\r\nk=late\r\n", 6, 'k'),
        ("t=0 0\r\nz=0 0\r\nt=0 0\r\n", 6, 't'),
        (
            "c=IN IP4 192.0.2.1\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n",
            5,
            'c',
        ),
        ("i=a\r\ni=b\r\nt=0 0\r\n", 5, 'i'),
        ("c=IN IP4 192.0.2.1\r\nr=1 2 3\r\nt=0 0\r\n", 5, 'r'),
        ("a=tool:x\r\nt=0 0\r\n", 4, 'a'),
        ("t=0 0\r\nv=0\r\n", 5, 'v'),
        ("t=0 0\r\ns=again\r\n", 5, 's'),
    ] {
        match err(rest) {
            SdpError::Misplaced {
                line: l, kind: k, ..
            } => {
                assert_eq!((l, k), (line, kind), "{rest:?}")
            }
            other => panic!("{rest:?}: {other:?}"),
        }
    }
}

#[test]
fn media_order_follows_rfc_8866() {
    let ok = "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\ni=voice\r\n\
              c=IN IP4 192.0.2.2\r\nb=AS:80\r\nk=clear:x\r\na=ptime:20\r\n";
    assert!(with_head(ok).is_ok());
    let base = "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    for (extra, kind, reason) in [
        (
            "a=x\r\nc=IN IP4 192.0.2.1\r\n",
            'c',
            "out of RFC 8866 section 5 order",
        ),
        ("i=a\r\ni=b\r\n", 'i', "only one is allowed"),
        (
            "a=x\r\nt=0 0\r\n",
            't',
            "session-level line inside a media section",
        ),
        (
            "o=- 1 1 IN IP4 192.0.2.1\r\n",
            'o',
            "session-level line inside a media section",
        ),
    ] {
        match err(&format!("{base}{extra}")) {
            SdpError::Misplaced {
                kind: k, reason: r, ..
            } => assert_eq!((k, r), (kind, reason)),
            other => panic!("{extra:?}: {other:?}"),
        }
    }
}

#[test]
fn first_three_lines_are_fixed() {
    let e = parse(b"o=- 1 1 IN IP4 192.0.2.1\r\nv=0\r\n").unwrap_err();
    assert_eq!(e.line(), 1);
    assert!(matches!(e, SdpError::Misplaced { kind: 'o', .. }));
    let e = parse(b"v=0\r\ns=-\r\n").unwrap_err();
    assert!(matches!(
        e,
        SdpError::Misplaced {
            line: 2,
            kind: 's',
            ..
        }
    ));
    assert_eq!(parse(b"v=1\r\n"), Err(SdpError::BadVersion { line: 1 }));
    assert_eq!(parse(b"v=00\r\n"), Err(SdpError::BadVersion { line: 1 }));
    assert_eq!(parse(b""), Err(SdpError::Missing { line: 1, kind: 'v' }));
    assert_eq!(
        parse(b"v=0\r\n"),
        Err(SdpError::Missing { line: 1, kind: 'o' })
    );
    assert_eq!(
        parse(HEAD.as_bytes()),
        Err(SdpError::Missing { line: 3, kind: 't' })
    );
}

#[test]
fn line_shape_is_checked() {
    for (input, line) in [
        ("v=0\r\nhello\r\n", 2),
        ("v=0\r\nO=x\r\n", 2),
        ("v=0\r\n=x\r\n", 2),
        ("v=0\r\no\r\n", 2),
        ("v=0\r\n\r\no=x\r\n", 2),
        ("v=0\ro=- 1 1 IN IP4 192.0.2.1\r\n", 1),
        ("v=0\r\no=- 1 1 IN\0 IP4 192.0.2.1\r\n", 2),
    ] {
        assert_eq!(
            parse(input.as_bytes()),
            Err(SdpError::MalformedLine { line }),
            "{input:?}"
        );
    }
    assert_eq!(
        parse(b"v=0\r\no=\xff\r\n"),
        Err(SdpError::NotUtf8 { line: 2 })
    );
    assert_eq!(
        parse(b"v=0\r\nx=1\r\n"),
        Err(SdpError::UnknownType { line: 2, kind: 'x' })
    );
}

#[test]
fn lenient_line_ends_and_trailing_empty_lines() {
    let crlf = format!("{HEAD}c=IN IP4 192.0.2.1\r\nt=0 0\r\n");
    let lf = crlf.replace("\r\n", "\n");
    let unterminated = crlf.trim_end().to_owned();
    let padded = format!("{crlf}\r\n\r\n");
    for input in [&lf, &unterminated, &padded] {
        assert_eq!(parse(input.as_bytes()).unwrap().to_string(), crlf);
    }
}

#[test]
fn empty_session_name_is_accepted_and_repaired() {
    let sdp = parse(b"v=0\no=- 1 1 IN IP4 192.0.2.1\ns=\nt=0 0\n").unwrap();
    assert_eq!(sdp.session_name, "");
    assert!(sdp.to_string().contains("\r\ns=-\r\n"));
    let sdp = parse(b"v=0\no=- 1 1 IN IP4 192.0.2.1\ns= \nt=0 0\n").unwrap();
    assert!(sdp.to_string().contains("\r\ns= \r\n"));
}

#[test]
fn origin_fields() {
    let o = |o: &str| parse(format!("v=0\r\no={o}\r\ns=-\r\nt=0 0\r\n").as_bytes());
    assert!(o("jdoe 2890844526 2890842807 IN IP4 10.47.16.5").is_ok());
    assert!(o("- 0 0 IN IP6 2001:db8::1").is_ok());
    assert!(o("- 1 1 IN IP4 host.example.com").is_ok());
    assert!(o("- 1 1 ATM NSAP 47.0091.8100").is_ok());
    for (value, name) in [
        ("- 1 1 IN IP4", "number of fields"),
        ("- 1 1 IN IP4 192.0.2.1 extra", "number of fields"),
        ("- 1  1 IN IP4 192.0.2.1", "number of fields"),
        ("- 1  IN IP4 192.0.2.1", "sess-version"),
        ("- x 1 IN IP4 192.0.2.1", "sess-id"),
        ("- 1 +1 IN IP4 192.0.2.1", "sess-version"),
        ("- 1 1 IN IP4 192.0.2.256", "unicast-address"),
        ("- 1 1 IN IP4 2001:db8::1", "unicast-address"),
        ("- 1 1 IN IP6 2001:db8:::1", "unicast-address"),
        ("- 1 1 IN IP4 224.2.1.1/127", "unicast-address"),
        ("- 1 1 I:N IP4 192.0.2.1", "nettype"),
    ] {
        assert_eq!(field(&o(value).unwrap_err()), (2, name), "{value}");
    }
}

#[test]
fn connection_fields() {
    assert!(with_head("c=IN IP4 224.2.1.1/127/3\r\nt=0 0\r\n").is_ok());
    assert!(with_head("c=IN IP6 ff15::101/3\r\nt=0 0\r\n").is_ok());
    assert!(with_head("c=IN IP4 0.0.0.0\r\nt=0 0\r\n").is_ok());
    for (value, name) in [
        ("IN IP4", "number of fields"),
        ("IN IP4 192.0.2.1 x", "number of fields"),
        ("IN IP4 1.2.3", "connection-address"),
        ("IN IP4 192.0.2.1/x", "connection-address"),
        ("IN IP4 224.2.1.1/1/2/3", "connection-address"),
        ("IN IP6 ff15::101/3/4", "connection-address"),
        ("IN IP4 bad_host", "connection-address"),
        ("IN IP/4 192.0.2.1", "addrtype"),
    ] {
        assert_eq!(
            field(&err(&format!("c={value}\r\nt=0 0\r\n"))),
            (4, name),
            "{value}"
        );
    }
}

#[test]
fn numbers_in_b_and_t() {
    assert_eq!(field(&err("b=AS\r\nt=0 0\r\n")), (4, "bwtype"));
    assert_eq!(field(&err("b=AS:-1\r\nt=0 0\r\n")), (4, "bandwidth"));
    assert_eq!(field(&err("t=0\r\n")), (4, "number of fields"));
    assert_eq!(field(&err("t=0 x\r\n")), (4, "stop-time"));
    assert_eq!(field(&err("t=0 0 0\r\n")), (4, "stop-time"));
    assert_eq!(field(&err("t=00 0\r\n")), (4, "start-time"));
    assert_eq!(field(&err("b=AS:064\r\nt=0 0\r\n")), (4, "bandwidth"));
    assert_eq!(field(&err("t=0 0\r\nr=\r\n")), (5, "value (empty)"));
}

#[test]
fn media_line_fields() {
    let m = |m: &str| with_head(&format!("c=IN IP4 192.0.2.1\r\nt=0 0\r\nm={m}\r\n"));
    let sdp = m("audio 49170/2 RTP/AVP 0 8").unwrap();
    assert_eq!(
        (sdp.media[0].port, sdp.media[0].port_count),
        (49170, Some(2))
    );
    assert!(m("image 5004 udptl t38").is_ok());
    assert!(m("application 9 UDP/BFCP *").is_ok());
    assert!(m("audio 65535 RTP/AVP 127").is_ok());
    for (value, name) in [
        ("audio 65536 RTP/AVP 0", "port"),
        ("audio -1 RTP/AVP 0", "port"),
        ("audio 4000/0 RTP/AVP 0", "number of ports"),
        ("audio 4000 RTP/AVP", "fmt (none given)"),
        ("audio 4000 RTP/AVP 0 ", "fmt"),
        ("audio 4000 RTP/AVP 128", "fmt"),
        ("audio 4000 RTP/AVP PCMU", "fmt"),
        ("audio 4000 RTP//AVP 0", "proto"),
        ("audio 04000 RTP/AVP 0", "port"),
        ("audio 4000 RTP/AVP 00", "fmt"),
        ("audio", "port"),
        ("au:dio 4000 RTP/AVP 0", "media"),
    ] {
        assert_eq!(field(&m(value).unwrap_err()), (6, name), "{value}");
    }
}

#[test]
fn interpreted_attributes_are_checked() {
    let a = |a: &str| {
        with_head(&format!(
            "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\na={a}\r\n"
        ))
    };
    for good in [
        "rtpmap:0 PCMU/8000",
        "fmtp:101 0-15",
        "ptime:20",
        "ptime:0.125",
        "maxptime:40",
        "rtcp:53020 IN IP4 192.0.2.1",
        "crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32",
        "weird:",
        "x-anything:with: colons",
    ] {
        assert!(a(good).is_ok(), "{good}");
    }
    for (bad, name) in [
        ("rtpmap:0 PCMU", "rtpmap"),
        ("rtpmap", "rtpmap"),
        ("fmtp:101", "fmtp"),
        ("fmtp:101 ", "fmtp"),
        ("ptime:abc", "ptime"),
        ("maxptime:", "maxptime"),
        ("rtcp:x", "rtcp"),
        ("sendonly:now", "sendonly"),
        ("inactive:", "inactive"),
    ] {
        assert_eq!(
            a(bad),
            Err(SdpError::InvalidAttribute { line: 7, name }),
            "{bad}"
        );
    }
    assert_eq!(field(&a("bad name:1").unwrap_err()), (7, "att-field"));
    assert_eq!(field(&a(":1").unwrap_err()), (7, "att-field"));
}

#[test]
fn every_stream_with_a_port_needs_an_address() {
    let e = with_head("t=0 0\r\nm=audio 0 RTP/AVP 0\r\nm=audio 4000 RTP/AVP 0\r\n").unwrap_err();
    assert_eq!(e, SdpError::MissingConnection { line: 6, media: 1 });
    assert!(with_head("t=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.0.2.1\r\n").is_ok());
}

#[test]
fn limits() {
    let many_attrs = "a=x\r\n".repeat(MAX_LINES - 4);
    assert!(with_head(&format!("t=0 0\r\n{many_attrs}")).is_ok());
    let e = with_head(&format!("t=0 0\r\n{many_attrs}a=x\r\n")).unwrap_err();
    assert_eq!(
        e,
        SdpError::TooManyLines {
            line: MAX_LINES + 1,
            limit: MAX_LINES
        }
    );
    let media = "m=audio 0 RTP/AVP 0\r\n".repeat(MAX_MEDIA);
    assert!(with_head(&format!("t=0 0\r\n{media}")).is_ok());
    let e = with_head(&format!("t=0 0\r\n{media}m=audio 0 RTP/AVP 0\r\n")).unwrap_err();
    assert_eq!(
        e,
        SdpError::TooManyMedia {
            line: 5 + MAX_MEDIA,
            limit: MAX_MEDIA
        }
    );
}

#[test]
fn error_texts_name_the_line_and_hold_no_line_breaks() {
    let e = err("m=audio 4000 RTP/AVP 0\r\n");
    let text = e.to_string();
    assert_eq!(
        text,
        "line 4: 'm=' not allowed here: t= must come before it"
    );
    assert!(!text.contains(['\r', '\n']));
}
