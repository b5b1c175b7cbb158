//! Calls between extensions through the real binary: a SIPp caller (as 201, with digest)
//! and a SIPp callee registered as 202.

mod common;

use common::callee::{assert_call_over, register_callee, Callee};
use common::{free_port, Phone, Server, Sipp};

/// A fresh server; SIPp 202 plays `uas`, SIPp 201 calls 202 with `uac`; both must succeed.
/// 202's user has no mailbox: the callee's answer (busy, ...) reaches the caller as it is.
fn call_202(uas: &str, uac: &str) -> Server {
    let server = Server::start();
    server.set_user_settings(&[("user202", "voicemail", "false")]);
    let port = free_port();
    let mut callee = Callee::udp(uas, port);
    register_callee(&server, port);
    Sipp::new(uac)
        .user("201", &server.password("201"))
        .key("callee", "202")
        .expect_success(&server);
    callee.finish();
    server
}

#[test]
fn a_call_is_set_up_answered_and_hung_up_with_a_call_record() {
    let server = call_202("call_uas", "call_uac");
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
}

#[test]
fn a_busy_callee_gives_the_caller_486() {
    let server = call_202("busy_uas", "call_uac_busy");
    assert_call_over(&server, &["201 -> 202  486", "busy"]);
}

#[test]
fn calls_to_unassigned_and_unregistered_numbers_fail_cleanly() {
    let server = Server::start();
    let mut caller = Phone::new(&server, "201", &server.password("201"));
    // Nobody registered as 203: 480; 299 is no extension: 404 — both after the challenge.
    for (number, code) in [("203", 480), ("299", 404)] {
        let r = caller.invite_with_auth(number);
        assert_eq!(r.status, code, "{number}: {}", r.raw);
    }
}

#[test]
fn a_malformed_session_description_gets_488_with_a_warning() {
    let server = Server::start();
    let port = free_port();
    register_callee(&server, port);
    let mut caller = Phone::new(&server, "201", &server.password("201"));
    let r = caller.invite_with_auth_body(
        "202",
        Some((
            "application/sdp",
            b"v=0\r\nm=audio not-a-port RTP/AVP 0\r\n",
        )),
    );
    assert_eq!(r.status, 488, "{}", r.raw);
    assert!(
        r.header("Warning")
            .is_some_and(|w| w.starts_with("399 strowger")),
        "{}",
        r.raw
    );
    let r = caller.invite_with_auth_body("202", Some(("text/plain", b"hello")));
    assert_eq!(r.status, 415, "{}", r.raw);
    assert!(server.cli_ok(&["calls"]).contains("active calls: 0"));
    assert_call_over(&server, &[]);
}

#[test]
fn media_is_relayed_through_the_server_both_ways() {
    let server = Server::start();
    let port = free_port();
    let mut callee = Callee::udp_with("call_uas", port, &["-rtp_echo"]);
    register_callee(&server, port);
    // Two and a half seconds of A-law silence, 160-byte packets every 20 ms.
    let audio = callee.work.path().join("silence.al");
    std::fs::write(&audio, vec![0xD5u8; 8000 * 3]).expect("write audio");
    // SIPp does not substitute keys inside <exec>: write the file name into a copy.
    let scenario = std::fs::read_to_string(common::sipp_dir().join("call_uac_rtp.xml"))
        .expect("scenario")
        .replace("[rtpfile]", audio.to_str().expect("utf-8 path"));
    let scenario_path = callee.work.path().join("call_uac_rtp.xml");
    std::fs::write(&scenario_path, scenario).expect("write scenario");
    Sipp::from_file(scenario_path)
        .user("201", &server.password("201"))
        .key("callee", "202")
        .expect_success(&server);
    callee.finish();
    let history = server.cli_ok(&["calls", "--history", "1"]);
    let media = history
        .lines()
        .find(|l| l.trim_start().starts_with("media "))
        .unwrap_or_else(|| panic!("no media statistics in:\n{history}"));
    // "media caller: in N pkts/..., out M pkts/...; callee: in K pkts/..."
    let count = |label: &str| -> u64 {
        media
            .split(label)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {label:?} in {media}"))
    };
    let caller_in = count("caller: in ");
    let callee_in = count("callee: in ");
    assert!(
        caller_in >= 50,
        "the caller's stream reached the relay: {media}"
    );
    assert!(
        callee_in >= 50,
        "the callee's echo reached the relay: {media}"
    );
    assert_call_over(&server, &[]);
}

#[test]
fn hold_by_re_invite_passes_through_the_pbx() {
    let server = call_202("call_uas_hold", "call_uac_hold");
    assert_call_over(&server, &[]);
}

#[test]
fn reliable_provisionals_are_pracked_on_both_legs() {
    let server = call_202("prack_uas", "prack_uac");
    assert_call_over(&server, &["201 -> 202  200"]);
}

#[test]
fn session_timers_422_below_min_se_then_agreed_and_refreshed() {
    let server = call_202("timer_uas", "timer_uac");
    assert_call_over(&server, &["201 -> 202  422", "session interval too brief"]);
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
}
