//! RFC 4475 torture messages (reconstructed in `tests/vectors/rfc4475`, see its README) and
//! the parser's limits. Every vector must parse or fail as decided below, and no input may
//! panic any of the parser's entry points.

use sip::header::{AuthParams, CSeq, ContactList, NameAddr, Via};
use sip::message::{Message, Method, Request, Response, StatusCode};
use sip::parse::{bad_request_response, frame_stream, parse_uri, Framing, MAX_MESSAGE_SIZE};
use sip::uri::{Host, Uri};
use sip::{parse_message, HeaderName, ParseError};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/rfc4475")
}

fn load(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(format!("{name}.dat"))).expect("vector present")
}

fn request(name: &str) -> Request {
    match parse_message(&load(name)) {
        Ok(Message::Request(r)) => r,
        other => panic!("{name}: expected a request, got {other:?}"),
    }
}

fn response(name: &str) -> Response {
    match parse_message(&load(name)) {
        Ok(Message::Response(r)) => r,
        other => panic!("{name}: expected a response, got {other:?}"),
    }
}

fn name_addr(r: &Request, h: HeaderName) -> NameAddr {
    NameAddr::parse(r.headers.get(&h).expect("header present")).expect("parses")
}

fn vias(headers: &sip::Headers) -> Vec<Via> {
    headers
        .get_all(&HeaderName::Via)
        .flat_map(|v| Via::parse_list(v).expect("via parses"))
        .collect()
}

fn contacts(r: &Request) -> Vec<sip::header::ContactHeader> {
    match ContactList::from_headers(&r.headers).expect("contacts parse") {
        Some(ContactList::Contacts(list)) => list,
        other => panic!("expected contacts, got {other:?}"),
    }
}

fn sip_uri(u: &Uri) -> &sip::uri::SipUri {
    u.as_sip().expect("a sip: URI")
}

/// Runs every entry point on the input; only the absence of a panic is checked.
fn exercise(bytes: &[u8]) {
    let parsed = parse_message(bytes);
    if let Err(e) = &parsed {
        let text = e.to_string();
        assert!(!text.contains(['\r', '\n']), "{text:?}");
        if let Some(resp) = bad_request_response(bytes, e) {
            assert!(!resp.reason.contains(['\r', '\n']));
            let _ = resp.to_bytes();
        }
    }
    let _ = frame_stream(bytes, MAX_MESSAGE_SIZE);
    let _ = frame_stream(bytes, 100);
    for line in String::from_utf8_lossy(bytes).lines() {
        for word in line.split([' ', '<', '>']) {
            let _ = parse_uri(word);
        }
    }
}

#[test]
fn all_vectors_present_and_no_panics() {
    let mut names: Vec<_> = std::fs::read_dir(dir())
        .expect("vector folder")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "dat"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 49, "RFC 4475 has 49 messages");
    for path in names {
        let bytes = std::fs::read(&path).expect("readable");
        exercise(&bytes);
        // Every prefix too: what a stream reader sees while bytes arrive.
        for cut in 0..bytes.len() {
            let prefix = &bytes[..cut];
            let _ = parse_message(prefix);
            let _ = frame_stream(prefix, MAX_MESSAGE_SIZE);
        }
    }
}

// §3.1.1: valid messages. Each must parse, with the tricky fields right.

#[test]
fn wsinv_short_tortuous_invite() {
    let r = request("wsinv");
    assert_eq!(r.method, Method::Invite);
    let uri = sip_uri(&r.uri);
    assert_eq!(uri.user.as_deref(), Some("vivekg"));
    assert_eq!(uri.host, Host::Domain("chair-dnrc.example.com".into()));
    assert_eq!(uri.param("unknownparam"), Some(None));
    assert_eq!(name_addr(&r, HeaderName::To).tag(), Some("1918181833n"));
    let from = name_addr(&r, HeaderName::From);
    assert_eq!(from.display_name.as_deref(), Some("J Rosenberg \\\""));
    assert_eq!(from.tag(), Some("98asjd8"));
    assert_eq!(r.headers.get(&HeaderName::MaxForwards), Some("0068"));
    let cseq = CSeq::parse(r.headers.get(&HeaderName::CSeq).unwrap()).unwrap();
    assert_eq!((cseq.seq, cseq.method), (9, Method::Invite));
    let v = vias(&r.headers);
    assert_eq!(v.len(), 3);
    assert_eq!(v[0].host, Host::V4([192, 0, 2, 2].into()));
    assert_eq!(v[0].branch(), Some("390skdjuw"));
    assert_eq!(v[1].transport, "TCP");
    assert_eq!(v[1].branch(), Some("z9hG4bK9ikj8"));
    assert_eq!(v[2].branch(), Some("z9hG4bK30239"));
    assert_eq!(r.headers.get(&HeaderName::Subject), Some(""));
    let other = |n: &str| r.headers.get(&HeaderName::Other(n.into()));
    assert_eq!(
        other("NewFangledHeader"),
        Some("newfangled value continued newfangled value")
    );
    assert_eq!(other("UnknownHeaderWithUnusualValue"), Some(";;,,;;,;"));
    let c = contacts(&r);
    assert_eq!(c.len(), 1);
    assert_eq!(
        c[0].addr.display_name.as_deref(),
        Some("Quoted string \"\"")
    );
    assert_eq!(c[0].addr.params.get("newparam"), Some(Some("newvalue")));
    assert_eq!(c[0].addr.params.get("secondparam"), Some(None));
    assert_eq!(c[0].q(), Some(0.33));
    assert_eq!(r.body.len(), 150);
}

#[test]
fn intmeth_wide_range_of_valid_characters() {
    let r = request("intmeth");
    let method = "!interesting-Method0123456789_*+`.%indeed'~";
    assert_eq!(r.method, Method::Extension(method.into()));
    let uri = sip_uri(&r.uri);
    assert_eq!(
        uri.user.as_deref(),
        Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
    );
    assert_eq!(
        uri.password.as_deref(),
        Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
    );
    let v = vias(&r.headers);
    assert_eq!(v[0].branch(), Some("z9hG4bK-.!%66*_+`'~"));
    // Quoted-pairs undone: a backslash escapes each control character.
    let to = name_addr(&r, HeaderName::To);
    assert_eq!(
        to.display_name.as_deref(),
        Some("BEL:\u{7} NUL:\u{0} DEL:\u{7f}")
    );
    let from = name_addr(&r, HeaderName::From);
    assert_eq!(
        from.display_name.as_deref(),
        Some("token1~` token2'+_ token3*%!.-")
    );
    assert_eq!(
        from.params.get("fromParam''~+*_!.-%"),
        Some(Some("работающий"))
    );
    assert_eq!(from.tag(), Some("_token~1'+`*%!-."));
    assert_eq!(
        r.headers.get(&HeaderName::CallId),
        Some("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{")
    );
    let cseq = CSeq::parse(r.headers.get(&HeaderName::CSeq).unwrap()).unwrap();
    assert_eq!(cseq.seq, 139122385);
    assert_eq!(
        r.headers
            .get(&HeaderName::Other("extensionHeader-!.%*+_`'~".into())),
        Some("\u{feff}大停電")
    );
}

#[test]
fn esc01_valid_use_of_escapes() {
    let r = request("esc01");
    assert_eq!(
        sip_uri(&r.uri).user.as_deref(),
        Some("sips:user@example.com")
    );
    assert_eq!(name_addr(&r, HeaderName::To).uri.user(), Some("user"));
    assert_eq!(
        name_addr(&r, HeaderName::From).uri.user(),
        Some("I have spaces")
    );
    let c = contacts(&r);
    let curi = sip_uri(&c[0].addr.uri);
    assert_eq!(curi.user.as_deref(), Some("caller"));
    assert_eq!(curi.param("lr"), Some(None));
    assert_eq!(curi.param("name"), Some(Some("value%41")));
    // Compact forms i and C.
    assert_eq!(
        r.headers.get(&HeaderName::CallId),
        Some("esc01.239409asdfakjkn23onasd0-3234")
    );
    assert_eq!(
        r.headers.get(&HeaderName::ContentType),
        Some("application/sdp")
    );
}

#[test]
fn escnull_escaped_nulls_in_uris() {
    let r = request("escnull");
    assert_eq!(
        name_addr(&r, HeaderName::To).uri.user(),
        Some("null-\0-null")
    );
    let c = contacts(&r);
    let users: Vec<_> = c.iter().map(|c| c.addr.uri.user()).collect();
    assert_eq!(users, vec![Some("\0"), Some("\0\0")]);
    assert!(r.body.is_empty());
}

#[test]
fn esc02_percent_is_not_an_escape_everywhere() {
    let r = request("esc02");
    assert_eq!(r.method, Method::Extension("RE%47IST%45R".into()));
    assert_eq!(
        name_addr(&r, HeaderName::To).display_name.as_deref(),
        Some("%Z%45")
    );
    assert_eq!(vias(&r.headers)[0].branch(), Some("z9hG4bK209%fzsnel234"));
    let users: Vec<_> = contacts(&r)
        .iter()
        .map(|c| c.addr.uri.user().map(String::from))
        .collect();
    assert_eq!(users, vec![Some("alias1".into()), Some("alias3".into())]);
    assert!(r
        .headers
        .get(&HeaderName::Other("C%6Fntact".into()))
        .is_some());
}

#[test]
fn lwsdisp_no_lws_before_angle_bracket() {
    let r = request("lwsdisp");
    assert_eq!(
        name_addr(&r, HeaderName::From).display_name.as_deref(),
        Some("caller")
    );
}

#[test]
fn longreq_long_values() {
    let r = request("longreq");
    let to = name_addr(&r, HeaderName::To);
    assert!(to.display_name.unwrap().ends_with("extreme proportion"));
    let turi = sip_uri(&to.uri);
    assert_eq!(turi.port, Some(6000));
    assert_eq!(turi.params.len(), 3);
    let from = name_addr(&r, HeaderName::From);
    assert_eq!(from.tag().map(str::len), Some(2 + 150 + 3));
    assert_eq!(from.params.len(), 3);
    let v = vias(&r.headers);
    assert_eq!(v.len(), 34);
    assert_eq!(v[0].host, Host::Domain("sip33.example.com".into()));
    assert_eq!(v[33].received(), Some("192.0.2.5"));
    assert_eq!(r.body.len(), 150);
}

#[test]
fn dblreq_extra_octets_after_the_body_are_ignored() {
    let r = request("dblreq");
    assert_eq!(r.method, Method::Register);
    assert!(r.body.is_empty());
    assert_eq!(
        r.headers.get(&HeaderName::CallId),
        Some("dblreq.0ha0isndaksdj99sdfafnl3lk233412")
    );
}

#[test]
fn semiuri_semicolon_in_user_part() {
    let r = request("semiuri");
    let uri = sip_uri(&r.uri);
    assert_eq!(uri.user.as_deref(), Some("user;par=u@example.net"));
    assert_eq!(uri.host, Host::Domain("example.com".into()));
    assert!(uri.params.is_empty());
    assert_eq!(
        r.headers.get(&HeaderName::Accept),
        Some("application/sdp, application/pkcs7-mime, multipart/mixed, multipart/signed, message/sip, message/sipfrag")
    );
}

#[test]
fn transports_all_transport_tokens() {
    let r = request("transports");
    let t: Vec<_> = vias(&r.headers).into_iter().map(|v| v.transport).collect();
    assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
    assert_eq!(
        r.headers.get(&HeaderName::CallId),
        Some("transports.kijh4akdnaqjkwendsasfdj")
    );
}

#[test]
fn mpart01_binary_multipart_body() {
    let r = request("mpart01");
    assert_eq!(r.method, Method::Message);
    assert_eq!(r.body.len(), 553);
    assert!(r.body.contains(&0));
    assert!(r.body.ends_with(b"--7a9cbec02ceef655--\r\n"));
    let v = vias(&r.headers);
    assert_eq!((v[0].port, v[0].rport()), (Some(5070), Some(None)));
}

#[test]
fn unreason_utf8_reason_phrase() {
    let r = response("unreason");
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.reason, "= 2**3 * 5**2 но сто девяносто девять - простое");
    assert_eq!(r.body.len(), 154);
}

#[test]
fn noreason_empty_reason_phrase() {
    let r = response("noreason");
    assert_eq!(r.status, StatusCode::TRYING);
    assert_eq!(r.reason, "");
}

#[test]
fn valid_vectors_survive_a_print_and_reparse() {
    for name in [
        "wsinv",
        "intmeth",
        "esc01",
        "escnull",
        "esc02",
        "lwsdisp",
        "longreq",
        "dblreq",
        "semiuri",
        "transports",
        "mpart01",
        "unreason",
        "noreason",
    ] {
        let first = parse_message(&load(name)).unwrap();
        let second =
            parse_message(&first.to_bytes()).unwrap_or_else(|e| panic!("{name} reprinted: {e}"));
        let strip = |m: &Message| {
            let mut h = m.headers().clone();
            h.remove(&HeaderName::ContentLength);
            h
        };
        assert_eq!(strip(&first), strip(&second), "{name}");
        match (&first, &second) {
            (Message::Request(a), Message::Request(b)) => {
                assert_eq!(
                    (&a.method, &a.uri, &a.body),
                    (&b.method, &b.uri, &b.body),
                    "{name}"
                );
            }
            (Message::Response(a), Message::Response(b)) => {
                assert_eq!(
                    (a.status, &a.reason, &a.body),
                    (b.status, &b.reason, &b.body)
                );
            }
            _ => panic!("{name}: kind changed"),
        }
    }
}

// §3.1.2: invalid messages. Each decision: what the parser returns, and whether a 400 (or
// 505) can be built for it. The RFC lets an element accept some of these with a fix-up;
// this parser is strict except where noted.

fn is_bad_header(e: &ParseError, header: &str) -> bool {
    matches!(e, ParseError::BadHeader { name, .. } if name == header)
}

#[test]
fn invalid_requests_are_refused_and_answered() {
    type Check = fn(&ParseError) -> bool;
    let cases: &[(&str, Check)] = &[
        // Extra ;;,;,, in Via and ;;;; in Contact.
        ("badinv01", |e| is_bad_header(e, "Via")),
        // Content-Length 9999 on a datagram: 400 (on a stream: wait, tested below).
        ("clerr", |e| {
            matches!(
                e,
                ParseError::BodyTooShort {
                    expected: 9999,
                    got: 154
                }
            )
        }),
        ("ncl", |e| is_bad_header(e, "Content-Length")),
        // CSeq over 2**32 (also Max-Forwards 300, Expires and expires over range).
        ("scalar02", |e| is_bad_header(e, "CSeq")),
        ("quotbal", |e| is_bad_header(e, "To")),
        // Brackets around the Request-URI: refused, not repaired.
        ("ltgtruri", |e| matches!(e, ParseError::BadUri(_))),
        ("lwsruri", |e| *e == ParseError::BadRequestLine),
        // Extra SPs in the request line: the RFC allows rejecting; we do.
        ("lwsstart", |e| *e == ParseError::BadRequestLine),
        ("trws", |e| *e == ParseError::BadRequestLine),
        // Escaped headers in the Request-URI.
        ("escruri", |e| matches!(e, ParseError::BadUri(_))),
        // addr-spec with '?' outside angle brackets.
        ("regbadct", |e| is_bad_header(e, "Contact")),
        // Spaces inside <>: refused rather than ignored.
        ("badaspec", |e| is_bad_header(e, "To")),
        // Unquoted display names with commas (From is checked first).
        ("baddn", |e| is_bad_header(e, "From")),
        ("badvers", |e| *e == ParseError::BadVersion),
        ("mismatch01", |e| *e == ParseError::CSeqMethodMismatch),
        // RFC prefers 501 for an unknown method, but allows 400; a mismatched CSeq is
        // refused by the parser before any method handling sees it.
        ("mismatch02", |e| *e == ParseError::CSeqMethodMismatch),
    ];
    for (name, check) in cases {
        let bytes = load(name);
        let err = parse_message(&bytes).expect_err(name);
        assert!(check(&err), "{name}: unexpected {err:?}");
        let resp = bad_request_response(&bytes, &err)
            .unwrap_or_else(|| panic!("{name}: a response can be built"));
        let expected = if *name == "badvers" { 505 } else { 400 };
        assert_eq!(resp.status, StatusCode(expected), "{name}");
        if expected == 400 {
            assert_eq!(resp.reason, format!("Bad Request ({err})"));
        }
        // The response is itself a valid SIP message, unless the bad part is one of the
        // headers it must echo unchanged (RFC 3261 §8.2.6.2).
        let echoed = ["Via", "From", "To", "Call-ID", "CSeq"];
        match parse_message(&resp.to_bytes()) {
            Ok(_) => {}
            // badvers' Via says SIP/7.0 as well.
            Err(e) => assert!(
                echoed
                    .iter()
                    .any(|h| is_bad_header(&e, h) && is_bad_header(&err, h))
                    || (*name == "badvers" && is_bad_header(&e, "Via")),
                "{name}: response does not parse: {e:?}"
            ),
        }
    }
}

#[test]
fn invalid_responses_are_dropped() {
    // CSeq over 2**32: "an element receiving this response will simply discard it".
    let err = parse_message(&load("scalarlg")).unwrap_err();
    assert!(is_bad_header(&err, "CSeq"));
    assert!(bad_request_response(&load("scalarlg"), &err).is_none());
    // Status code 4294967301.
    let err = parse_message(&load("bigcode")).unwrap_err();
    assert_eq!(err, ParseError::BadStatusLine);
    assert!(bad_request_response(&load("bigcode"), &err).is_none());
}

#[test]
fn baddate_is_accepted() {
    // Decision: the parser does not interpret Date (nothing in the core uses it), which
    // RFC 4475 §3.1.2.12 explicitly allows.
    let r = request("baddate");
    assert_eq!(
        r.headers.get(&HeaderName::Date),
        Some("Fri, 01 Jan 2010 16:00:00 EST")
    );
}

#[test]
fn framing_of_bad_lengths_on_a_stream() {
    // clerr over TCP: wait for more data (the caller's timer closes the connection).
    assert_eq!(
        frame_stream(&load("clerr"), MAX_MESSAGE_SIZE),
        Framing::Incomplete
    );
    // ncl over TCP: unrecoverable, close.
    assert!(matches!(
        frame_stream(&load("ncl"), MAX_MESSAGE_SIZE),
        Framing::Invalid(_)
    ));
    // inv2543 has no Content-Length: fine on a datagram, fatal on a stream.
    assert_eq!(
        frame_stream(&load("inv2543"), MAX_MESSAGE_SIZE),
        Framing::Invalid(ParseError::MissingHeader("Content-Length"))
    );
    // mcl01: two Content-Length values.
    assert_eq!(
        frame_stream(&load("mcl01"), MAX_MESSAGE_SIZE),
        Framing::Invalid(ParseError::DuplicateHeader("Content-Length"))
    );
    let dbl = load("dblreq");
    let Framing::Message(n) = frame_stream(&dbl, MAX_MESSAGE_SIZE) else {
        panic!("dblreq frames")
    };
    assert!(matches!(parse_message(&dbl[..n]), Ok(Message::Request(_))));
}

// §3.2, §3.3, §3.4: transaction and application semantics. These are syntactically valid
// (the parser accepts them and leaves the semantics to the layers above) except the
// single-value violations, which the parser refuses.

#[test]
fn semantic_vectors_parse() {
    let r = request("badbranch");
    assert_eq!(vias(&r.headers)[0].branch(), Some("z9hG4bK"));

    let r = request("unkscm");
    assert!(matches!(&r.uri, Uri::Other { scheme, .. } if scheme == "nobodyknowsthisscheme"));
    let r = request("novelsc");
    assert!(
        matches!(&r.uri, Uri::Other { scheme, rest } if scheme == "soap.beep" && rest == "//192.0.2.103:3002")
    );

    let r = request("unksm2");
    assert!(matches!(
        name_addr(&r, HeaderName::To).uri,
        Uri::Other { .. }
    ));
    assert_eq!(name_addr(&r, HeaderName::From).tag(), Some("3234233"));
    assert!(matches!(contacts(&r)[0].addr.uri, Uri::Other { ref scheme, .. } if scheme == "name"));

    let r = request("bext01");
    assert_eq!(
        r.headers.get(&HeaderName::Require),
        Some("nothingSupportsThis, nothingSupportsThisEither")
    );

    let r = request("invut");
    assert_eq!(r.body, b"<audio>\r\n <pcmu port=\"443\"/>\r\n</audio>\r\n");

    let r = request("regaut01");
    let auth = AuthParams::parse(r.headers.get(&HeaderName::Authorization).unwrap()).unwrap();
    assert_eq!(auth.scheme, "NoOneKnowsThisScheme");
    assert_eq!(auth.get("opaque-data"), Some("here"));

    let r = response("bcast");
    assert_eq!(
        vias(&r.headers)[1].host,
        Host::V4([255, 255, 255, 255].into())
    );

    let r = request("zeromf");
    assert_eq!(r.headers.get(&HeaderName::MaxForwards), Some("0"));

    // Contact addr-spec: ;unknownparam is a header parameter, not a URI parameter.
    let r = request("cparam01");
    let c = contacts(&r);
    assert!(c[0].addr.params.contains("unknownparam"));
    assert!(sip_uri(&c[0].addr.uri).params.is_empty());
    let r = request("cparam02");
    let c = contacts(&r);
    assert!(c[0].addr.params.is_empty());
    assert_eq!(sip_uri(&c[0].addr.uri).param("unknownparam"), Some(None));

    let r = request("regescrt");
    assert_eq!(
        sip_uri(&contacts(&r)[0].addr.uri).headers,
        vec![("Route".to_string(), "%3Csip:sip.example.com%3E".to_string())]
    );

    let r = request("sdp01");
    assert_eq!(
        r.headers.get(&HeaderName::Accept),
        Some("text/nobodyKnowsThis")
    );

    // RFC 2543 request: no Max-Forwards, no branch, no Content-Length (the datagram's rest
    // is the body), and ;user=phone outside brackets belongs to the To header.
    let r = request("inv2543");
    assert!(r.headers.get(&HeaderName::MaxForwards).is_none());
    assert_eq!(vias(&r.headers)[0].branch(), None);
    assert!(r.body.starts_with(b"v=0\r\n") && r.body.ends_with(b"RTP/AVP 0\r\n"));
    assert_eq!(
        name_addr(&r, HeaderName::To).params.get("user"),
        Some(Some("phone"))
    );
}

#[test]
fn semantic_vectors_refused() {
    // Missing To, From, Call-ID: 400, but nothing to build it from.
    let err = parse_message(&load("insuf")).unwrap_err();
    assert_eq!(err, ParseError::MissingHeader("From"));
    assert!(bad_request_response(&load("insuf"), &err).is_none());
    // Two From, To, Call-ID, CSeq, Max-Forwards.
    let err = parse_message(&load("multi01")).unwrap_err();
    assert_eq!(err, ParseError::DuplicateHeader("From"));
    let resp = bad_request_response(&load("multi01"), &err).unwrap();
    assert_eq!(resp.status, StatusCode::BAD_REQUEST);
    // Two Content-Length values.
    let err = parse_message(&load("mcl01")).unwrap_err();
    assert_eq!(err, ParseError::DuplicateHeader("Content-Length"));
    assert!(bad_request_response(&load("mcl01"), &err).is_some());
}
