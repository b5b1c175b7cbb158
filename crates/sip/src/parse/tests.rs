//! Whole-message tests beyond RFC 4475: limits, line ends, folding, compact forms, IPv6,
//! bodies.

use super::*;
use crate::header::{ContactList, NameAddr, Via};
use crate::message::{Message, Method, Request};
use crate::uri::Host;
use crate::HeaderName;

/// A valid request with `extra` header lines and `body` (Content-Length set to match).
fn build(extra: &str, body: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\nMax-Forwards: 70\r\nTo: Bob <sip:bob@example.com>\r\nFrom: Alice <sip:alice@example.com>;tag=1928301774\r\nCall-ID: a84b4c76e66710@pc33.example.com\r\nCSeq: 314159 INVITE\r\n{extra}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    m.extend_from_slice(body);
    m
}

fn req(bytes: &[u8]) -> Request {
    match parse_message(bytes) {
        Ok(Message::Request(r)) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

#[test]
fn plain_invite() {
    let r = req(&build("", b"v=0\r\n"));
    assert_eq!(r.method, Method::Invite);
    assert_eq!(r.uri.user(), Some("bob"));
    assert_eq!(r.headers.len(), 7);
    assert_eq!(r.body, b"v=0\r\n");
}

#[test]
fn sixty_four_kib_header_is_too_large() {
    let big = format!("X-Big: {}\r\n", "a".repeat(64 * 1024));
    assert_eq!(parse_message(&build(&big, b"")), Err(ParseError::TooLarge));
    // Over the per-header limit but under the message limit.
    let long = format!("X-Long: {}\r\n", "a".repeat(MAX_HEADER_LINE));
    assert_eq!(
        parse_message(&build(&long, b"")),
        Err(ParseError::HeaderTooLong)
    );
    // Just under the per-header limit is fine, folded or not.
    let ok = format!("X-Ok: {}\r\n", "a".repeat(MAX_HEADER_LINE - 8));
    assert!(parse_message(&build(&ok, b"")).is_ok());
    let folded = format!(
        "X-Folded: {}\r\n {}\r\n",
        "a".repeat(5000),
        "b".repeat(5000)
    );
    assert_eq!(
        parse_message(&build(&folded, b"")),
        Err(ParseError::HeaderTooLong)
    );
}

#[test]
fn header_count_limit() {
    // build() writes 7 headers of its own.
    let extra: String = (0..MAX_HEADERS - 7)
        .map(|i| format!("X-{i}: v\r\n"))
        .collect();
    assert!(parse_message(&build(&extra, b"")).is_ok());
    let extra = format!("{extra}X-One-More: v\r\n");
    assert_eq!(
        parse_message(&build(&extra, b"")),
        Err(ParseError::TooManyHeaders)
    );
}

#[test]
fn cseq_method_of_300_characters() {
    let m = build("", b"");
    let text = String::from_utf8(m).unwrap();
    let long = "A".repeat(300);
    let bad = text.replace("CSeq: 314159 INVITE", &format!("CSeq: 314159 {long}"));
    assert!(matches!(
        parse_message(bad.as_bytes()),
        Err(ParseError::BadHeader { ref name, .. }) if name == "CSeq"
    ));
    let both = bad.replace("INVITE sip:", &format!("{long} sip:"));
    assert_eq!(
        parse_message(both.as_bytes()),
        Err(ParseError::BadRequestLine)
    );
}

#[test]
fn empty_and_multipart_bodies_are_just_bytes() {
    let r = req(&build("Content-Type: multipart/mixed;boundary=b1\r\n", b""));
    assert!(r.body.is_empty());
    let part = b"--b1\r\n\r\n--b1--\r\n";
    let r = req(&build(
        "Content-Type: multipart/mixed;boundary=b1\r\n",
        part,
    ));
    assert_eq!(r.body, part);
    let binary = [0u8, 0xff, b'\r', b'\n', b'\r', b'\n', 0x80];
    assert_eq!(req(&build("", &binary)).body, binary);
}

#[test]
fn ipv6_everywhere() {
    let m = b"INVITE sip:[2001:db8::10]:5070;transport=udp SIP/2.0\r\nVia: SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bKas3-111;received=[2001:db8::9:255];rport=5061\r\nMax-Forwards: 70\r\nTo: <sip:bob@[2001:db8::10]>\r\nFrom: \"Alice\" <sip:alice@[2001:db8::9:1]>;tag=1\r\nCall-ID: v6@[2001:db8::9:1]\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@[2001:db8::9:1]:5060>\r\nl: 0\r\n\r\n";
    let r = req(m);
    let uri = r.uri.as_sip().unwrap();
    assert_eq!(uri.host, Host::V6("2001:db8::10".parse().unwrap()));
    assert_eq!(uri.port, Some(5070));
    let via = Via::top(&r.headers).unwrap();
    assert_eq!(via.host, Host::V6("2001:db8::9:1".parse().unwrap()));
    assert_eq!(via.rport(), Some(Some(5061)));
    let to = NameAddr::parse(r.headers.get(&HeaderName::To).unwrap()).unwrap();
    assert_eq!(to.to_string(), "<sip:bob@[2001:db8::10]>");
    let bad =
        String::from_utf8_lossy(m).replace("[2001:db8::9:1]:5060;branch", "2001:db8::9:1;branch");
    assert!(parse_message(bad.as_bytes()).is_err());
}

#[test]
fn compact_forms() {
    let m = b"OPTIONS sip:a@example.com SIP/2.0\r\nv: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\nf: <sip:b@example.com>;tag=1\r\nt: sip:a@example.com\r\ni: cid\r\nCSeq: 1 OPTIONS\r\nm: <sip:b@h.example.com>\r\nc: text/plain\r\nk: path\r\ns: hi\r\no: presence\r\nl: 2\r\n\r\nok";
    let r = req(m);
    for (name, value) in [
        (HeaderName::Via, "SIP/2.0/UDP h.example.com;branch=z9hG4bK1"),
        (HeaderName::From, "<sip:b@example.com>;tag=1"),
        (HeaderName::To, "sip:a@example.com"),
        (HeaderName::CallId, "cid"),
        (HeaderName::Contact, "<sip:b@h.example.com>"),
        (HeaderName::ContentType, "text/plain"),
        (HeaderName::Supported, "path"),
        (HeaderName::Subject, "hi"),
        (HeaderName::Event, "presence"),
        (HeaderName::ContentLength, "2"),
    ] {
        assert_eq!(r.headers.get(&name), Some(value), "{name}");
    }
    assert_eq!(r.body, b"ok");
}

#[test]
fn folded_headers() {
    let m = build(
        "Subject: first line\r\n   second line\r\n\tthird line   \r\nContact:\r\n <sip:a@h.example.com>\r\n  ;expires=60\r\n",
        b"",
    );
    let r = req(&m);
    assert_eq!(
        r.headers.get(&HeaderName::Subject),
        Some("first line second line third line")
    );
    let Ok(Some(ContactList::Contacts(c))) = ContactList::from_headers(&r.headers) else {
        panic!("contact")
    };
    assert_eq!(c[0].expires(), Some(60));
    // A continuation with nothing to continue.
    let bad = b"OPTIONS sip:a@example.com SIP/2.0\r\n folded: x\r\n\r\n";
    assert_eq!(parse_message(bad), Err(ParseError::BadHeaderLine));
}

#[test]
fn line_ends_and_keepalives() {
    let crlf = build("", b"hi");
    let lf = String::from_utf8(crlf.clone())
        .unwrap()
        .replace("\r\n", "\n")
        .into_bytes();
    let a = req(&crlf);
    let b = req(&lf);
    assert_eq!(a.headers, b.headers);
    assert_eq!(b.body, b"hi");
    let mut pinged = b"\r\n\r\n".to_vec();
    pinged.extend_from_slice(&crlf);
    assert!(parse_message(&pinged).is_ok());
    // A lone CR inside a header line is refused rather than passed on.
    let cr = String::from_utf8(crlf)
        .unwrap()
        .replace("Max-Forwards: 70", "Max-Forwards: 70\rX: y");
    assert_eq!(parse_message(cr.as_bytes()), Err(ParseError::BadHeaderLine));
}

#[test]
fn body_length_rules() {
    let mut m = build("", b"abc");
    m.extend_from_slice(b"trailing junk");
    assert_eq!(req(&m).body, b"abc");
    let short = String::from_utf8(build("", b"abc"))
        .unwrap()
        .replace("Content-Length: 3", "Content-Length: 10");
    assert_eq!(
        parse_message(short.as_bytes()),
        Err(ParseError::BodyTooShort {
            expected: 10,
            got: 3
        })
    );
    let none = String::from_utf8(build("", b"rest is body"))
        .unwrap()
        .replace("Content-Length: 12\r\n", "");
    assert_eq!(req(none.as_bytes()).body, b"rest is body");
    for bad in ["five", "-1", "1 2", "0x10", ""] {
        let m = String::from_utf8(build("", b""))
            .unwrap()
            .replace("Content-Length: 0", &format!("Content-Length: {bad}"));
        assert!(parse_message(m.as_bytes()).is_err(), "{bad:?}");
    }
}

#[test]
fn mandatory_and_single_headers() {
    let base = String::from_utf8(build("", b"")).unwrap();
    for (line, missing) in [
        (
            "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n",
            "Via",
        ),
        ("To: Bob <sip:bob@example.com>\r\n", "To"),
        (
            "From: Alice <sip:alice@example.com>;tag=1928301774\r\n",
            "From",
        ),
        ("Call-ID: a84b4c76e66710@pc33.example.com\r\n", "Call-ID"),
        ("CSeq: 314159 INVITE\r\n", "CSeq"),
    ] {
        let m = base.replace(line, "");
        assert_eq!(
            parse_message(m.as_bytes()),
            Err(ParseError::MissingHeader(missing))
        );
    }
    let m = base.replace("Max-Forwards: 70\r\n", "");
    assert!(
        parse_message(m.as_bytes()).is_ok(),
        "Max-Forwards is optional"
    );
    for bad in ["256", "-1", "x"] {
        let m = base.replace("Max-Forwards: 70", &format!("Max-Forwards: {bad}"));
        assert!(parse_message(m.as_bytes()).is_err(), "{bad}");
    }
    let m = base.replace("Call-ID: a84b", "Call-ID: a b");
    assert!(parse_message(m.as_bytes()).is_err());
    let m = base.replace(
        "CSeq: 314159 INVITE\r\n",
        "CSeq: 314159 INVITE\r\nCSeq: 314159 INVITE\r\n",
    );
    assert_eq!(
        parse_message(m.as_bytes()),
        Err(ParseError::DuplicateHeader("CSeq"))
    );
}

#[test]
fn start_lines() {
    let base = String::from_utf8(build("", b"")).unwrap();
    for (line, err) in [
        ("INVITE sip:bob@example.com SIP/3.0", ParseError::BadVersion),
        (
            "INVITE sip:bob@example.com SIP/2.0 ",
            ParseError::BadRequestLine,
        ),
        (
            "INVITE  sip:bob@example.com SIP/2.0",
            ParseError::BadRequestLine,
        ),
        (
            "INVITE sip:bob@example.com\tSIP/2.0",
            ParseError::BadRequestLine,
        ),
        (
            "INVITE sip:bob@example.com HTTP/1.1",
            ParseError::BadRequestLine,
        ),
        ("INVITE sip:bob@example.com", ParseError::BadRequestLine),
        (
            "INV\u{e9}TE sip:bob@example.com SIP/2.0",
            ParseError::BadRequestLine,
        ),
        (
            "INVITE <sip:bob@example.com> SIP/2.0",
            ParseError::BadUri("bad scheme".into()),
        ),
    ] {
        let m = base.replace("INVITE sip:bob@example.com SIP/2.0", line);
        assert_eq!(parse_message(m.as_bytes()), Err(err), "{line:?}");
    }
    let m = base.replace(
        "INVITE sip:bob@example.com SIP/2.0",
        "INVITE sip:bob@example.com sip/2.0",
    );
    assert!(
        parse_message(m.as_bytes()).is_ok(),
        "version is case-insensitive"
    );
    let resp = "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nTo: <sip:a@b.example>;tag=2\r\nFrom: <sip:c@d.example>;tag=1\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    assert!(
        matches!(parse_message(resp.as_bytes()), Ok(Message::Response(r)) if r.reason == "Ringing")
    );
    for line in [
        "SIP/2.0 99 Low",
        "SIP/2.0 700 High",
        "SIP/2.0 2000 OK",
        "SIP/2.0 abc OK",
        "SIP/2.0",
        "SIP/2.0 200 A\u{1}B",
    ] {
        let m = resp.replace("SIP/2.0 180 Ringing", line);
        assert_eq!(
            parse_message(m.as_bytes()),
            Err(ParseError::BadStatusLine),
            "{line:?}"
        );
    }
    let m = resp.replace("SIP/2.0 180 Ringing", "SIP/2.0 180");
    assert!(
        parse_message(m.as_bytes()).is_ok(),
        "liberal: no SP after the code"
    );
    let m = resp.replace("SIP/2.0 180", "SIP/3.0 180");
    assert_eq!(parse_message(m.as_bytes()), Err(ParseError::BadVersion));
}

#[test]
fn encodings_and_odd_inputs() {
    // The 'B' of "Bob" in the To header becomes an invalid UTF-8 octet.
    let mut bytes = build("", b"");
    let pos = bytes.iter().position(|b| *b == b'B').unwrap();
    bytes[pos] = 0xff;
    assert_eq!(parse_message(&bytes), Err(ParseError::NotUtf8));
    assert_eq!(parse_message(b""), Err(ParseError::Incomplete));
    assert_eq!(parse_message(b"\r\n\r\n"), Err(ParseError::Incomplete));
    assert_eq!(
        parse_message(b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\n"),
        Err(ParseError::Incomplete)
    );
    assert_eq!(parse_message(b"\n\n"), Err(ParseError::Incomplete));
    assert!(parse_message(b"INVITE sip:a@b SIP/2.0\r\nNoColon\r\n\r\n").is_err());
    assert!(parse_message(b"INVITE sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n").is_err());
    assert!(parse_message(b"INVITE sip:a@b SIP/2.0\r\n: x\r\n\r\n").is_err());
}

#[test]
fn errors_display_without_line_breaks() {
    let errors = [
        ParseError::Incomplete,
        ParseError::TooLarge,
        ParseError::TooManyHeaders,
        ParseError::HeaderTooLong,
        ParseError::BadRequestLine,
        ParseError::BadStatusLine,
        ParseError::BadVersion,
        ParseError::BadUri("bad host name".into()),
        ParseError::BadHeaderLine,
        ParseError::NotUtf8,
        ParseError::MissingHeader("To"),
        ParseError::DuplicateHeader("CSeq"),
        ParseError::bad_header("CSeq", "method too long"),
        ParseError::CSeqMethodMismatch,
        ParseError::BodyTooShort {
            expected: 2,
            got: 1,
        },
    ];
    for e in errors {
        let s = e.to_string();
        assert!(!s.is_empty() && !s.contains(['\r', '\n']), "{s:?}");
    }
    assert_eq!(
        ParseError::bad_header("CSeq", "method too long").to_string(),
        "bad CSeq header: method too long"
    );
}
