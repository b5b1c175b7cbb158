//! Wrong passwords and unknown users: both challenged alike, both refused alike, so that a
//! scanner cannot tell assigned numbers from unassigned ones.

mod common;

use common::{authorization, parse_challenge, set_toml_value, Phone, Response, Server, Sipp};
use std::time::Duration;

#[test]
fn sipp_wrong_password_gets_403() {
    let server = Server::start();
    Sipp::new("auth_rejected")
        .user("201", "Not-The-Right-Pass-42")
        .expect_success(&server);
    let st = server.status();
    assert_eq!(st.registrations, 0, "{}", st.text);
    assert!(st.counter("auth-failures") >= 1, "{}", st.text);
}

#[test]
fn sipp_unknown_user_is_challenged_then_gets_403() {
    let server = Server::start();
    Sipp::new("auth_rejected")
        .user("299", "Whatever-Pass-4242")
        .expect_success(&server);
    assert_eq!(server.status().registrations, 0);
}

#[test]
fn sipp_register_over_tcp_with_wrong_password_gets_403() {
    let server = Server::start();
    Sipp::new("auth_rejected")
        .tcp()
        .user("202", "Not-The-Right-Pass-42")
        .expect_success(&server);
}

/// A response reduced to what may not differ between two phones: status, reason, header
/// names in order, and values, except those that name the request (Via, From, To, Call-ID,
/// CSeq) or are fresh per answer (the nonce, the To tag).
fn shape(r: &Response) -> Vec<String> {
    let mut out = vec![format!("{} {}", r.status, r.reason)];
    for (name, value) in &r.headers {
        let lower = name.to_ascii_lowercase();
        let value = match lower.as_str() {
            "via" | "v" | "from" | "f" | "to" | "t" | "call-id" | "i" | "cseq" => String::new(),
            "www-authenticate" | "proxy-authenticate" => mask_nonce(value),
            _ => value.clone(),
        };
        out.push(format!("{lower}: {value}"));
    }
    out.push(format!("body: {}", r.body));
    out
}

fn mask_nonce(value: &str) -> String {
    let Some(i) = value.find("nonce=\"") else {
        return value.to_string();
    };
    let start = i + "nonce=\"".len();
    let end = value[start..].find('"').map_or(value.len(), |e| start + e);
    format!("{}NONCE{}", &value[..start], &value[end..])
}

#[test]
fn unknown_user_is_challenged_exactly_like_a_known_one() {
    let server = Server::start();
    let mut known = Phone::new(&server, "201", &server.password("201"));
    let mut unknown = Phone::new(&server, "299", "Whatever-Pass-4242");
    let (kc, uc) = (known.contact("a"), unknown.contact("a"));
    let k = known
        .register_unauthenticated(&[kc], Some(600))
        .expect("answer for 201");
    let u = unknown
        .register_unauthenticated(&[uc], Some(600))
        .expect("answer for 299");
    assert_eq!(k.status, 401, "{}", k.raw);
    assert_eq!(
        shape(&k),
        shape(&u),
        "401 for a known and an unknown user differ:\n{}\n---\n{}",
        k.raw,
        u.raw
    );
}

#[test]
fn unknown_user_is_refused_exactly_like_a_wrong_password() {
    let server = Server::start();
    let mut wrong = Phone::new(&server, "201", "Not-The-Right-Pass-42");
    let mut unknown = Phone::new(&server, "299", "Not-The-Right-Pass-42");
    let (wc, uc) = (wrong.contact("a"), unknown.contact("a"));
    let w = wrong.register(&[wc], Some(600), "MD5");
    let u = unknown.register(&[uc], Some(600), "MD5");
    assert_eq!(w.status, 403, "{}", w.raw);
    assert_eq!(
        shape(&w),
        shape(&u),
        "refusals for a wrong password and an unknown user differ:\n{}\n---\n{}",
        w.raw,
        u.raw
    );
    // The same with SHA-256.
    server.enable_sha256();
    let (wc, uc) = (wrong.contact("b"), unknown.contact("b"));
    let w = wrong.register(&[wc], Some(600), "SHA-256");
    let u = unknown.register(&[uc], Some(600), "SHA-256");
    assert_eq!(w.status, 403, "{}", w.raw);
    assert_eq!(shape(&w), shape(&u), "{}\n---\n{}", w.raw, u.raw);
}

#[test]
fn forged_nonce_is_challenged_again() {
    let server = Server::start();
    let mut phone = Phone::new(&server, "203", &server.password("203"));
    let contact = phone.contact("a");
    let mut challenge = std::collections::HashMap::new();
    challenge.insert("realm".to_string(), "strowger".to_string());
    challenge.insert("nonce".to_string(), "00000000deadbeef".to_string());
    challenge.insert("qop".to_string(), "auth".to_string());
    challenge.insert("algorithm".to_string(), "MD5".to_string());
    let uri = format!("sip:{}", server.addr());
    let auth = common::authorization(&challenge, "203", &server.password("203"), "REGISTER", &uri);
    let req = phone
        .register_request(&[contact], Some(600))
        .header(format!("Authorization: {auth}"));
    let r = phone
        .udp
        .request(&req, std::time::Duration::from_secs(10))
        .expect("an answer");
    assert_eq!(r.status, 401, "a nonce we did not issue: {}", r.raw);
    assert_eq!(server.status().registrations, 0);
}

#[test]
fn expired_nonce_gets_a_fresh_challenge_with_stale_true() {
    let server = Server::start();
    let doc = set_toml_value(&server.export(), "nonce_lifetime_secs", "10");
    let path = server.write_file("nonce.toml", &doc);
    server.cli_ok(&["config", "apply", path.to_str().unwrap()]);

    let password = server.password("208");
    let mut phone = Phone::new(&server, "208", &password);
    let contact = phone.contact("a");
    let first = phone
        .register_unauthenticated(std::slice::from_ref(&contact), Some(600))
        .expect("a challenge");
    assert_eq!(first.status, 401, "{}", first.raw);
    let challenge = parse_challenge(first.header("WWW-Authenticate").expect("a challenge"));
    assert!(!challenge.contains_key("stale"), "{}", first.raw);

    // Let the nonce expire (lifetime 10 s), then answer it with the right password.
    std::thread::sleep(Duration::from_secs(12));
    let uri = format!("sip:{}", server.addr());
    let auth = authorization(&challenge, "208", &password, "REGISTER", &uri);
    let req = phone
        .register_request(std::slice::from_ref(&contact), Some(600))
        .header(format!("Authorization: {auth}"));
    let r = phone
        .udp
        .request(&req, Duration::from_secs(10))
        .expect("an answer");
    assert_eq!(r.status, 401, "an expired nonce: {}", r.raw);
    let fresh: Vec<_> = r
        .headers_named("WWW-Authenticate")
        .into_iter()
        .map(parse_challenge)
        .collect();
    assert!(
        fresh.iter().all(|c| c
            .get("stale")
            .is_some_and(|s| s.eq_ignore_ascii_case("true"))),
        "stale=true on every challenge: {}",
        r.raw
    );
    assert!(
        fresh
            .iter()
            .all(|c| c.get("nonce") != challenge.get("nonce")),
        "{}",
        r.raw
    );
    // Not counted as a wrong password.
    let st = server.status();
    assert_eq!(st.counter("auth-failures"), 0, "{}", st.text);
    // The fresh nonce works.
    let r = phone.register(&[contact], Some(600), "MD5");
    assert_eq!(r.status, 200, "{}", r.raw);
}
