//! Dialogs (RFC 3261 §12) through the public API: UAS and UAC dialog creation, in-dialog
//! requests, route sets (loose and strict), CSeq checks, target refresh and fresh
//! identifiers.

use sip::dialog::{
    new_branch, new_call_id, new_tag, Dialog, DialogError, DialogId, DialogState, MAGIC_COOKIE,
};
use sip::header::NameAddr;
use sip::{HeaderName, Headers, Method, Request, Response, StatusCode};

fn msg_headers(lines: &[(HeaderName, &str)]) -> Headers {
    let mut h = Headers::default();
    for (n, v) in lines {
        h.push(n.clone(), *v);
    }
    h
}

/// Alice calls Bob through two record-routing proxies (RFC 3261 §24.2 style).
fn invite() -> Request {
    let mut req = Request::new(Method::Invite, "sip:bob@biloxi.example".parse().unwrap());
    req.headers = msg_headers(&[
        (HeaderName::Via, "SIP/2.0/UDP p2.example;branch=z9hG4bK2"),
        (
            HeaderName::RecordRoute,
            "<sip:p2.example;lr>, <sip:p1.example;lr>",
        ),
        (
            HeaderName::From,
            "\"Alice\" <sip:alice@atlanta.example>;tag=a1",
        ),
        (HeaderName::To, "Bob <sip:bob@biloxi.example>"),
        (HeaderName::CallId, "c1@atlanta.example"),
        (HeaderName::CSeq, "314 INVITE"),
        (HeaderName::Contact, "<sip:alice@192.0.2.1:5060>"),
    ]);
    req
}

fn ok_response(req: &Request, status: u16, to_tag: Option<&str>) -> Response {
    let mut resp = Response::for_request(req, StatusCode(status));
    let to = if let Some(tag) = to_tag {
        format!("Bob <sip:bob@biloxi.example>;tag={tag}")
    } else {
        "Bob <sip:bob@biloxi.example>".to_string()
    };
    resp.headers.set(HeaderName::To, to);
    resp.headers
        .push(HeaderName::Contact, "<sip:bob@192.0.2.4>");
    resp
}

fn get(req: &Request, name: HeaderName) -> Vec<String> {
    req.headers.get_all(&name).map(str::to_string).collect()
}

#[test]
fn uas_dialog_from_invite() {
    let mut d = Dialog::from_uas(&invite(), "b9").unwrap();
    assert_eq!(d.id().call_id, "c1@atlanta.example");
    assert_eq!(
        (d.id().local_tag.as_str(), d.id().remote_tag.as_str()),
        ("b9", "a1")
    );
    assert_eq!(d.state(), DialogState::Early);
    assert_eq!(d.remote_target().to_string(), "sip:alice@192.0.2.1:5060");
    assert_eq!(d.remote_seq(), Some(314));
    assert_eq!(d.local_seq(), None);
    assert!(!d.is_secure());
    assert_eq!(d.remote_uri().tag(), None);
    // The UAS keeps the Record-Route order.
    let routes: Vec<String> = d.route_set().iter().map(|r| r.to_string()).collect();
    assert_eq!(routes, ["<sip:p2.example;lr>", "<sip:p1.example;lr>"]);
    d.confirm();
    assert_eq!(d.state(), DialogState::Confirmed);

    let bye = d.create_request(Method::Bye);
    assert_eq!(bye.uri.to_string(), "sip:alice@192.0.2.1:5060");
    assert_eq!(get(&bye, HeaderName::Route), routes);
    assert_eq!(
        get(&bye, HeaderName::From),
        ["\"Bob\" <sip:bob@biloxi.example>;tag=b9"]
    );
    assert_eq!(
        get(&bye, HeaderName::To),
        ["\"Alice\" <sip:alice@atlanta.example>;tag=a1"]
    );
    assert_eq!(get(&bye, HeaderName::CallId), ["c1@atlanta.example"]);
    assert_eq!(get(&bye, HeaderName::CSeq), ["1 BYE"]);
    assert_eq!(get(&bye, HeaderName::MaxForwards), ["70"]);
    assert!(get(&bye, HeaderName::Contact).is_empty());
    // The request a dialog builds is in that dialog from the peer's side.
    let seen_by_alice = DialogId::of_incoming_request(&bye).unwrap();
    assert_eq!(seen_by_alice.local_tag, "a1");
    assert_eq!(seen_by_alice.remote_tag, "b9");
}

#[test]
fn uac_dialog_from_2xx() {
    let req = invite();
    let resp = ok_response(&req, 200, Some("b9"));
    let mut d = Dialog::from_uac(&req, &resp).unwrap();
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(
        (d.id().local_tag.as_str(), d.id().remote_tag.as_str()),
        ("a1", "b9")
    );
    assert_eq!(d.local_seq(), Some(314));
    assert_eq!(d.remote_target().to_string(), "sip:bob@192.0.2.4");
    // The UAC reverses the Record-Route.
    let routes: Vec<String> = d.route_set().iter().map(|r| r.to_string()).collect();
    assert_eq!(routes, ["<sip:p1.example;lr>", "<sip:p2.example;lr>"]);
    assert_eq!(DialogId::of_incoming_response(&resp).as_ref(), Some(d.id()));

    let ack = d.create_request(Method::Ack);
    assert_eq!(get(&ack, HeaderName::CSeq), ["314 ACK"]);
    d.set_local_contact(NameAddr::new("sip:alice@192.0.2.1".parse().unwrap()));
    let reinvite = d.create_request(Method::Invite);
    assert_eq!(get(&reinvite, HeaderName::CSeq), ["315 INVITE"]);
    assert_eq!(
        get(&reinvite, HeaderName::Contact),
        ["<sip:alice@192.0.2.1>"]
    );
    assert_eq!(
        get(&reinvite, HeaderName::To),
        ["\"Bob\" <sip:bob@biloxi.example>;tag=b9"]
    );
    let bye = d.create_request(Method::Bye);
    assert_eq!(get(&bye, HeaderName::CSeq), ["316 BYE"]);
    assert_eq!(d.local_seq(), Some(316));
}

#[test]
fn uac_early_dialog_then_confirmed() {
    let req = invite();
    let mut ringing = ok_response(&req, 180, Some("b9"));
    ringing.headers.remove(&HeaderName::Contact);
    ringing.headers.remove(&HeaderName::RecordRoute);
    let mut d = Dialog::from_uac(&req, &ringing).unwrap();
    assert_eq!(d.state(), DialogState::Early);
    assert!(d.route_set().is_empty());
    assert_eq!(d.remote_target(), &req.uri);
    d.update_from_response(&ok_response(&req, 200, Some("b9")))
        .unwrap();
    assert_eq!(d.state(), DialogState::Confirmed);
    assert_eq!(d.route_set().len(), 2);
    assert_eq!(d.remote_target().to_string(), "sip:bob@192.0.2.4");
    // A 4xx changes nothing.
    d.update_from_response(&Response::for_request(&req, StatusCode(486)))
        .unwrap();
    assert_eq!(d.state(), DialogState::Confirmed);
}

#[test]
fn creation_errors() {
    let req = invite();
    assert_eq!(
        Dialog::from_uac(&req, &ok_response(&req, 100, Some("b9"))),
        Err(DialogError::NotDialogCreating(StatusCode(100)))
    );
    assert_eq!(
        Dialog::from_uac(&req, &ok_response(&req, 180, None)),
        Err(DialogError::MissingTag("To"))
    );
    // An RFC 2543 2xx without tag still makes a dialog.
    let d = Dialog::from_uac(&req, &ok_response(&req, 200, None)).unwrap();
    assert_eq!(d.id().remote_tag, "");
    let mut no_contact = ok_response(&req, 200, Some("b9"));
    no_contact.headers.remove(&HeaderName::Contact);
    assert_eq!(
        Dialog::from_uac(&req, &no_contact),
        Err(DialogError::MissingHeader("Contact"))
    );

    let mut tagged = invite();
    tagged
        .headers
        .set(HeaderName::To, "<sip:bob@biloxi.example>;tag=x");
    assert_eq!(
        Dialog::from_uas(&tagged, "b9"),
        Err(DialogError::AlreadyInDialog)
    );
    let mut two = invite();
    two.headers
        .push(HeaderName::Contact, "<sip:alice@192.0.2.2>");
    assert!(matches!(
        Dialog::from_uas(&two, "b9"),
        Err(DialogError::BadContact { .. })
    ));
    let mut bad_rr = invite();
    bad_rr
        .headers
        .push(HeaderName::RecordRoute, "<sip:p0.example;lr>,,");
    let err = Dialog::from_uas(&bad_rr, "b9").unwrap_err();
    assert!(matches!(
        err,
        DialogError::BadHeader {
            header: "Record-Route",
            ..
        }
    ));
    assert_eq!(err.status_code(), StatusCode::BAD_REQUEST);
    let mut no_call_id = invite();
    no_call_id.headers.remove(&HeaderName::CallId);
    assert_eq!(
        Dialog::from_uas(&no_call_id, "b9"),
        Err(DialogError::MissingHeader("Call-ID"))
    );
}

#[test]
fn remote_cseq_must_not_go_back() {
    let mut d = Dialog::from_uas(&invite(), "b9").unwrap();
    let mut req = Request::new(Method::Bye, "sip:bob@192.0.2.4".parse().unwrap());
    req.headers.push(HeaderName::CSeq, "313 BYE");
    let err = d.validate_remote_cseq(&req).unwrap_err();
    assert_eq!(
        err,
        DialogError::CSeqOutOfOrder {
            got: 313,
            last: 314
        }
    );
    assert_eq!(err.status_code(), StatusCode::SERVER_ERROR);
    req.headers.set(HeaderName::CSeq, "400 BYE");
    assert_eq!(d.validate_remote_cseq(&req), Ok(()));
    assert_eq!(d.remote_seq(), Some(400));
    // ACK reuses its INVITE's number and is never refused.
    let mut ack = Request::new(Method::Ack, "sip:bob@192.0.2.4".parse().unwrap());
    ack.headers.push(HeaderName::CSeq, "314 ACK");
    assert_eq!(d.validate_remote_cseq(&ack), Ok(()));
    assert_eq!(d.remote_seq(), Some(400));
}

#[test]
fn target_refresh() {
    let mut d = Dialog::from_uas(&invite(), "b9").unwrap();
    d.update_target(&Headers::default()).unwrap();
    assert_eq!(d.remote_target().to_string(), "sip:alice@192.0.2.1:5060");
    let h = msg_headers(&[(
        HeaderName::Contact,
        "<sip:alice@198.51.100.7;transport=tcp>",
    )]);
    d.update_target(&h).unwrap();
    assert_eq!(
        d.remote_target().to_string(),
        "sip:alice@198.51.100.7;transport=tcp"
    );
    let star = msg_headers(&[(HeaderName::Contact, "*")]);
    assert!(d.update_target(&star).is_err());
}

#[test]
fn strict_routing() {
    let mut req = invite();
    req.headers.set(
        HeaderName::RecordRoute,
        "<sip:old.example;method=INVITE?x=y>, <sip:p1.example;lr>",
    );
    let mut d = Dialog::from_uas(&req, "b9").unwrap();
    let bye = d.create_request(Method::Bye);
    assert_eq!(bye.uri.to_string(), "sip:old.example");
    assert_eq!(
        get(&bye, HeaderName::Route),
        ["<sip:p1.example;lr>", "<sip:alice@192.0.2.1:5060>"]
    );
}

#[test]
fn sips_makes_a_secure_dialog() {
    let mut req = invite();
    req.uri = "sips:bob@biloxi.example".parse().unwrap();
    assert!(Dialog::from_uas(&req, "b9").unwrap().is_secure());
}

#[test]
fn fresh_identifiers() {
    let b = new_branch();
    assert!(b.starts_with(MAGIC_COOKIE));
    assert_eq!(b.len(), MAGIC_COOKIE.len() + 24);
    assert_ne!(b, new_branch());
    let t = new_tag();
    assert_eq!(t.len(), 16);
    assert!(t.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(t, new_tag());
    let c = new_call_id("pbx.example");
    assert!(c.ends_with("@pbx.example"));
    assert_eq!(c.len(), 32 + 1 + "pbx.example".len());
    assert!(!new_call_id("").contains('@'));
    assert_eq!(DialogId::of_incoming_request(&invite()), None);
}
