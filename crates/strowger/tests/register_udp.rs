//! Registration with digest authentication over UDP: SIPp phones, and a raw client for the
//! SHA-256 digest and the details of the challenge.

mod common;

use common::{parse_challenge, Phone, Server, Sipp};

#[test]
fn sipp_registers_with_digest_over_udp() {
    let server = Server::start();
    Sipp::new("register")
        .user("201", &server.password("201"))
        .expect_success(&server);

    let st = server.status();
    assert_eq!(st.registrations, 1, "{}", st.text);
    let b = st.bindings_of("201");
    assert_eq!(b.len(), 1, "one binding for 201:\n{}", st.text);
    assert!(b[0].contact.contains("sip:201@127.0.0.1:"), "{}", b[0].line);
    assert!(b[0].source.contains("127.0.0.1:"), "{}", b[0].line);
    assert!(
        b[0].source.contains("Unreliable") || b[0].source.to_lowercase().contains("udp"),
        "registered over UDP: {}",
        b[0].line
    );
    assert!((3500..=3600).contains(&b[0].expires), "{}", b[0].line);
    assert_eq!(b[0].user_agent, "SIPp-strowger-test", "{}", b[0].line);
    assert!(st.counter("registrations") >= 1, "{}", st.text);

    // Passwords are never logged.
    let log = server.log();
    for (ext, pw) in server.passwords() {
        assert!(
            !log.contains(pw.as_str()),
            "the password of {ext} is in the log"
        );
    }
}

#[test]
fn ten_sipp_phones_register_at_once() {
    let server = Server::start();
    let mut sipp = Sipp::new("register").calls(10);
    for (ext, pw) in server.passwords() {
        sipp = sipp.user(ext, pw);
    }
    sipp.expect_success(&server);
    let st = server.status();
    assert_eq!(st.registrations, 10, "{}", st.text);
    for n in 201..=210 {
        assert_eq!(st.bindings_of(&n.to_string()).len(), 1, "{}", st.text);
    }
}

#[test]
fn challenge_offers_md5_by_default_and_sha256_first_when_enabled() {
    let server = Server::start();
    let mut phone = Phone::new(&server, "201", &server.password("201"));
    let contact = phone.contact("a");
    let r = phone
        .register_unauthenticated(&[contact], Some(600))
        .expect("an answer to REGISTER");
    assert_eq!(r.status, 401, "{}", r.raw);
    let challenges: Vec<_> = r
        .headers_named("WWW-Authenticate")
        .into_iter()
        .map(parse_challenge)
        .collect();
    let mut algorithms: Vec<String> = challenges
        .iter()
        .map(|c| c.get("algorithm").cloned().unwrap_or_else(|| "MD5".into()))
        .collect();
    algorithms.sort();
    assert_eq!(algorithms, ["MD5"], "MD5 alone by default: {}", r.raw);
    for c in &challenges {
        assert_eq!(
            c.get("realm").map(String::as_str),
            Some("strowger"),
            "{}",
            r.raw
        );
        assert!(c.get("nonce").is_some_and(|n| n.len() >= 16), "{}", r.raw);
        assert!(
            c.get("qop")
                .is_some_and(|q| q.split(',').any(|x| x.trim() == "auth")),
            "{}",
            r.raw
        );
    }
    // Nothing was registered by the challenged request.
    assert_eq!(server.status().registrations, 0);
    // With SHA-256 switched on it is offered first (RFC 8760), MD5 still after it.
    server.enable_sha256();
    let contact = phone.contact("b");
    let r = phone
        .register_unauthenticated(&[contact], Some(600))
        .expect("an answer to REGISTER");
    let offered: Vec<String> = r
        .headers_named("WWW-Authenticate")
        .into_iter()
        .map(parse_challenge)
        .map(|c| c.get("algorithm").cloned().unwrap_or_else(|| "MD5".into()))
        .collect();
    assert_eq!(offered, ["SHA-256", "MD5"], "{}", r.raw);
}

#[test]
fn raw_client_registers_with_sha256_and_md5() {
    let server = Server::start();
    server.enable_sha256();
    let mut sha = Phone::new(&server, "202", &server.password("202"));
    let contact = sha.contact("sha");
    let r = sha.register(std::slice::from_ref(&contact), Some(600), "SHA-256");
    assert_eq!(r.status, 200, "{}", r.raw);
    let contacts = r.contacts();
    assert_eq!(contacts.len(), 1, "{}", r.raw);
    assert!(contacts[0].starts_with(&contact), "{}", r.raw);
    assert!(
        contacts[0].contains(";expires=600") || contacts[0].contains(";expires=599"),
        "{}",
        r.raw
    );
    // rport (RFC 3581): the response says where the request came from.
    let via = r.header("Via").expect("Via");
    let port = sha.udp.local().port();
    assert!(via.contains(&format!("rport={port}")), "{via}");
    assert!(via.contains("received=127.0.0.1"), "{via}");

    let mut md5 = Phone::new(&server, "203", &server.password("203"));
    let contact = md5.contact("md5");
    let r = md5.register(&[contact], Some(600), "MD5");
    assert_eq!(r.status, 200, "{}", r.raw);

    let st = server.status();
    assert_eq!(st.bindings_of("202").len(), 1, "{}", st.text);
    assert_eq!(st.bindings_of("203").len(), 1, "{}", st.text);
    assert!(
        st.bindings_of("202")[0].contact.contains("line=sha"),
        "{}",
        st.text
    );
}

#[test]
fn expiry_is_capped_at_max_expires() {
    let server = Server::start();
    let mut phone = Phone::new(&server, "204", &server.password("204"));
    let contact = phone.contact("long");
    let r = phone.register(&[contact], Some(100_000), "MD5");
    assert_eq!(r.status, 200, "{}", r.raw);
    let c = r.contacts();
    assert_eq!(c.len(), 1, "{}", r.raw);
    let expires: u64 = c[0]
        .split(";expires=")
        .nth(1)
        .and_then(|v| v.split(';').next())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no ;expires= in {}", c[0]));
    assert!(
        (3590..=3600).contains(&expires),
        "max_expires is 3600: {}",
        r.raw
    );
}

#[test]
fn restart_keeps_configuration_and_prints_no_passwords() {
    let mut server = Server::start();
    let banner = server.restart();
    for (ext, pw) in server.passwords() {
        assert!(
            !banner.contains(pw.as_str()),
            "password of {ext} printed again:\n{banner}"
        );
    }
    assert!(banner.contains("201"), "{banner}");
    // The passwords of the first start still work.
    let mut phone = Phone::new(&server, "205", &server.password("205"));
    let contact = phone.contact("a");
    let r = phone.register(&[contact], Some(600), "MD5");
    assert_eq!(r.status, 200, "{}", r.raw);
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let mut server = Server::start();
    let sock = server.data_dir().join("control.sock");
    assert!(sock.exists(), "control socket while running");
    let status = server.stop().expect("an exit status");
    assert!(status.success(), "strowger serve exited with {status}");
    assert!(!sock.exists(), "control socket left behind");
    let out = server.cli(&["status"]);
    assert!(!out.success(), "status without a server must fail: {out}");
    assert!(out.stderr.contains("no server is running"), "{out}");
}
