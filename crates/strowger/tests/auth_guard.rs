//! Repeated wrong passwords from one source are blocked: the source's requests are dropped
//! silently and the extension refuses even the right password, while other phones go on;
//! the block shows in `strowger status` and in `strowger audit`.

mod common;

use common::{set_toml_value, Phone, Server, SipUdp, Sipp};
use std::time::Duration;

/// The attacker's loopback address (all of 127.0.0.0/8 reaches the server on Linux).
const ATTACKER: &str = "127.0.0.5";

fn apply_guard_settings(server: &Server) {
    let doc = server.export();
    let doc = set_toml_value(&doc, "auth_failures_before_block", "3");
    let doc = set_toml_value(&doc, "slow_down_after", "10");
    let doc = set_toml_value(&doc, "block_secs", "60");
    let path = server.write_file("guard.toml", &doc);
    let out = server.cli_ok(&["config", "apply", path.to_str().unwrap()]);
    assert!(
        out.contains("running server"),
        "apply reached the server: {out}"
    );
}

#[test]
fn wrong_passwords_block_the_source_and_the_extension() {
    let mut server = Server::start();
    apply_guard_settings(&server);

    // Two wrong passwords from the attacker: each challenged and refused.
    Sipp::new("auth_rejected")
        .source_ip(ATTACKER)
        .calls(2)
        .user("202", "Guess-Number-One-1")
        .user("202", "Guess-Number-Two-2")
        .expect_success(&server);
    // The third reaches the limit.
    let mut attacker = Phone::bind(ATTACKER, &server, "202", "Guess-Number-Three-3");
    let contact = attacker.contact("x");
    let third = attacker.register(std::slice::from_ref(&contact), Some(600), "MD5");
    assert_eq!(third.status, 403, "{}", third.raw);

    // From now on the attacker's requests are dropped silently, whatever they are.
    let probe = SipUdp::bind(ATTACKER, server.addr());
    assert!(
        probe
            .options(
                &format!("sip:{}", server.addr()),
                Duration::from_millis(1500)
            )
            .is_none(),
        "OPTIONS from a blocked source answered"
    );
    let req = attacker.register_request(&[contact], Some(600));
    attacker.udp.send(&req.to_bytes());
    attacker.udp.assert_silence(
        Duration::from_millis(1500),
        "REGISTER from a blocked source",
    );

    // Other phones are served.
    server.assert_alive();
    let mut other = Phone::new(&server, "203", &server.password("203"));
    let c = other.contact("a");
    let r = other.register(&[c], Some(600), "MD5");
    assert_eq!(
        r.status, 200,
        "another extension from another source: {}",
        r.raw
    );

    // The attacked extension refuses even its right password for a while.
    let mut owner = Phone::new(&server, "202", &server.password("202"));
    let c = owner.contact("a");
    let r = owner.register(&[c], Some(600), "MD5");
    assert_eq!(
        r.status, 403,
        "blocked extension with the right password: {}",
        r.raw
    );

    let st = server.status();
    assert_eq!(st.blocked_count, 2, "{}", st.text);
    let source = st
        .blocked
        .iter()
        .find(|l| l.starts_with(&format!("source {ATTACKER} ")))
        .unwrap_or_else(|| panic!("source {ATTACKER} not listed as blocked:\n{}", st.text));
    let secs: u64 = source
        .split_whitespace()
        .nth(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no seconds in {source:?}"));
    assert!((1..=60).contains(&secs), "block_secs is 60: {source}");
    assert!(
        st.blocked.iter().any(|l| l.starts_with("extension 202 ")),
        "extension 202 not listed as blocked:\n{}",
        st.text
    );
    assert!(st.counter("blocked-requests") >= 2, "{}", st.text);
    assert!(st.counter("auth-failures") >= 3, "{}", st.text);
    assert_eq!(st.bindings_of("202").len(), 0, "{}", st.text);

    // The block is in the audit trail and the log.
    let audit = server.cli_ok(&["audit"]);
    assert!(
        audit
            .lines()
            .any(|l| l.contains("block") && l.contains(&format!("source {ATTACKER}"))),
        "audit trail:\n{audit}"
    );
    let log = server.log();
    assert!(
        log.lines()
            .any(|l| l.contains("blocked") && l.contains(ATTACKER)),
        "the block is not in the log"
    );
}

#[test]
fn right_password_after_a_few_wrong_ones_is_accepted() {
    let server = Server::start();
    apply_guard_settings(&server);
    // Two failures: below the limit of three.
    let mut phone = Phone::new(&server, "204", "Not-The-Right-Pass-1");
    for line in ["a", "b"] {
        let c = phone.contact(line);
        let r = phone.register(&[c], Some(600), "MD5");
        assert_eq!(r.status, 403, "{}", r.raw);
    }
    phone.password = server.password("204");
    let c = phone.contact("c");
    let r = phone.register(&[c], Some(600), "MD5");
    assert_eq!(r.status, 200, "{}", r.raw);
    let st = server.status();
    assert_eq!(st.blocked_count, 0, "{}", st.text);
}
