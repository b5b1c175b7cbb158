//! Bodies a PBX meets in the wild that are not SDP, or not valid SDP: each is refused with
//! the line at fault, never a panic. The caller answers them with 488.

use sdp::{parse, SdpError};

/// A valid offer to break in different ways.
const GOOD: &str = "v=0\r\n\
o=- 1 1 IN IP4 192.0.2.1\r\n\
s=-\r\n\
c=IN IP4 192.0.2.1\r\n\
t=0 0\r\n\
m=audio 4000 RTP/AVP 0 101\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n";

fn broken(from: &str, to: &str) -> SdpError {
    assert!(GOOD.contains(from), "{from:?}");
    let text = GOOD.replacen(from, to, 1);
    let e = parse(text.as_bytes()).expect_err(&text);
    assert!(!e.to_string().contains(['\r', '\n']));
    e
}

#[test]
fn good_is_good() {
    assert!(parse(GOOD.as_bytes()).is_ok());
}

#[test]
fn missing_version_line() {
    let e = broken("v=0\r\n", "");
    assert!(
        matches!(
            e,
            SdpError::Misplaced {
                line: 1,
                kind: 'o',
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "line 1: 'o=' not allowed here: the first line must be v="
    );
}

#[test]
fn bad_ports() {
    for port in ["70000", "-1", "4000a", "", "0x10", "99999999999999999999"] {
        let e = broken("m=audio 4000", &format!("m=audio {port}"));
        assert_eq!(
            e,
            SdpError::InvalidField {
                line: 6,
                kind: 'm',
                field: "port"
            },
            "{port:?}"
        );
    }
    let e = broken("a=fmtp:101 0-16", "a=rtcp:65536");
    assert_eq!(
        e,
        SdpError::InvalidAttribute {
            line: 8,
            name: "rtcp"
        }
    );
}

#[test]
fn media_before_time() {
    let text = GOOD.replace("t=0 0\r\n", "");
    let e = parse(text.as_bytes()).unwrap_err();
    assert!(
        matches!(
            e,
            SdpError::Misplaced {
                line: 5,
                kind: 'm',
                ..
            }
        ),
        "{e:?}"
    );
    // And a time line after the media is inside the media section.
    let e = parse(format!("{text}t=0 0\r\n").as_bytes()).unwrap_err();
    assert_eq!(e.line(), 5);
}

#[test]
fn garbage() {
    let cases: [(&[u8], usize); 8] = [
        (b"hello world", 1),
        (b"<html><body>no</body></html>\r\n", 1),
        (b"\x00\x01\x02", 1),
        (b"v=0\r\n\xc3\x28=x", 2),
        (b"{\"sdp\": \"v=0\"}", 1),
        (b"\r\n\r\nv=0\r\n", 1),
        (b"v=0 \r\n", 1),
        (
            b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio\xff 1 RTP/AVP 0\r\n",
            5,
        ),
    ];
    for (input, line) in cases {
        let e = parse(input).expect_err(&String::from_utf8_lossy(input));
        assert_eq!(
            e.line(),
            line,
            "{e:?} for {:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn a_sip_message_is_not_a_description() {
    let e = parse(b"INVITE sip:bob@example.com SIP/2.0\r\nVia: x\r\n\r\nv=0\r\n").unwrap_err();
    assert_eq!(e, SdpError::MalformedLine { line: 1 });
}

#[test]
fn truncated_bodies_name_what_is_missing() {
    // A body cut short by a wrong Content-Length.
    let cut = &GOOD[..GOOD.find("t=0").unwrap_or(0)];
    assert_eq!(
        parse(cut.as_bytes()),
        Err(SdpError::Missing { line: 4, kind: 't' })
    );
    let cut = &GOOD[..GOOD.find("m=audio 4000").unwrap_or(0) + 10];
    assert_eq!(
        parse(cut.as_bytes()),
        Err(SdpError::InvalidField {
            line: 6,
            kind: 'm',
            field: "proto"
        })
    );
}

#[test]
fn no_address_for_media() {
    let e = broken("c=IN IP4 192.0.2.1\r\n", "");
    assert_eq!(e, SdpError::MissingConnection { line: 5, media: 0 });
}

#[test]
fn wrong_address_family() {
    let e = broken("c=IN IP4 192.0.2.1", "c=IN IP4 ::1");
    assert_eq!(
        e,
        SdpError::InvalidField {
            line: 4,
            kind: 'c',
            field: "connection-address"
        }
    );
}

#[test]
fn obsolete_or_foreign_line_types() {
    let e = broken("a=rtpmap", "x=rtpmap");
    assert_eq!(e, SdpError::UnknownType { line: 7, kind: 'x' });
    let e = broken("s=-", "S=-");
    assert_eq!(e, SdpError::MalformedLine { line: 3 });
}

#[test]
fn broken_telephone_event_mapping() {
    let e = broken("telephone-event/8000", "telephone-event");
    assert_eq!(
        e,
        SdpError::InvalidAttribute {
            line: 7,
            name: "rtpmap"
        }
    );
}

#[test]
fn huge_inputs_stop_at_the_limits() {
    let mut text = GOOD.to_owned();
    text.push_str(&"a=x-filler:0123456789\r\n".repeat(5000));
    let e = parse(text.as_bytes()).unwrap_err();
    assert!(
        matches!(e, SdpError::TooManyLines { line: 1025, .. }),
        "{e:?}"
    );
    let e = parse(&vec![b'\n'; 1 << 20]).unwrap_err();
    assert_eq!(e, SdpError::Missing { line: 1, kind: 'v' });
    let long_line = format!("v=0\r\no=- 1 1 IN IP4 {}\r\n", "a".repeat(1 << 20));
    assert!(parse(long_line.as_bytes()).is_err());
}
