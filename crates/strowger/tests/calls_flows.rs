//! Call flows through the real binary, beyond the basic call of `calls_sipp.rs`: TCP on
//! both legs, late offer, early media, CANCEL (plain, and crossing the callee's 200), hold
//! variants, a wrong password on INVITE, in-dialog OPTIONS, and DTMF by INFO.
//!
//! Each test starts its own server and SIPp processes on free loopback ports. The callee is
//! a SIPp UAS registered as 202 (over UDP by the raw client, or over TCP by SIPp itself);
//! the caller is SIPp as 201 with digest. What each side must see is checked inside the
//! scenarios (`tests/sipp/flow_*.xml`: `ereg`/`strcmp` with `check_it`, any unexpected
//! message fails the call); here we check SIPp's exit codes and error logs, the call
//! record, and that no call and no relay port is left behind.

mod common;

use common::callee::*;
use common::{free_port, wait_for, Phone, Server, Sipp};
use std::time::Duration;

/// The audio port of the first session description in `text` that has `origin`.
fn sdp_port(text: &str, origin: &str) -> Option<u16> {
    let at = text.find(origin)?;
    text[at..]
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// How many received responses in a SIPp message trace have this status line start (e.g.
/// "SIP/2.0 487") and this CSeq method.
fn responses(trace: &str, status: &str, method: &str) -> usize {
    received_messages(trace)
        .iter()
        .filter(|m| {
            m.starts_with(status)
                && m.lines().any(|l| {
                    l.strip_prefix("CSeq:")
                        .is_some_and(|v| v.trim().ends_with(&format!(" {method}")))
                })
        })
        .count()
}

/// The received requests with this method (request line starts with it), in order.
fn requests<'a>(msgs: &'a [String], method: &str) -> Vec<&'a String> {
    let prefix = format!("{method} ");
    msgs.iter().filter(|m| m.starts_with(&prefix)).collect()
}

#[test]
fn a_call_over_tcp_reaches_the_callee_on_its_registration_connection() {
    let server = Server::start();
    let mut callee = Callee::tcp(&server, "flow_tcp_callee", "flow_tcp_callee_ooc", "202");
    let binding = wait_for(
        "202 registered over TCP by the SIPp callee",
        Duration::from_secs(20),
        || {
            let st = server.status();
            st.bindings_of("202").first().map(|b| (*b).clone())
        },
    );
    assert!(binding.source.starts_with("tcp:"), "{}", binding.line);
    let run = caller(&server, "call_uac").tcp().run(&server);
    assert_clean(&run, "the TCP caller");
    callee.finish();
    // The callee only has its one TCP connection (-t t1): INVITE, ACK and BYE came on it.
    let log = callee.file("messages.log");
    assert!(
        log.contains("TCP message received") && !log.contains("UDP message"),
        "{log}"
    );
    let msgs = callee.received();
    for method in ["INVITE", "ACK", "BYE"] {
        assert_eq!(requests(&msgs, method).len(), 1, "{method}:\n{log}");
    }
    let invite = requests(&msgs, "INVITE")[0];
    let caller_port = sdp_port(&run.messages, "o=caller").expect("the caller's SDP");
    assert!(
        invite.contains("\nVia: SIP/2.0/TCP ")
            && invite.contains("\no=caller ")
            && invite.contains("\nc=IN IP4 127.0.0.1\n")
            && sdp_port(invite, "o=caller").is_some_and(|p| p != caller_port),
        "the INVITE must come over TCP with the caller's SDP on the relay (the caller's own \
         media port is {caller_port}):\n{invite}"
    );
    // And the caller's answers came back over its TCP connection.
    assert!(
        run.messages.contains("TCP message received") && !run.messages.contains("UDP message"),
        "{run}"
    );
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
}

#[test]
fn late_offer_the_answer_in_the_ack_is_anchored_on_the_relay() {
    let server = Server::start();
    let port = free_port();
    let mut callee = Callee::udp("flow_late_offer_uas", port);
    register_callee(&server, port);
    let run = caller(&server, "flow_late_offer_uac").run(&server);
    assert_clean(&run, "the late-offer caller");
    callee.finish();
    let msgs = callee.received();
    let acks = requests(&msgs, "ACK");
    assert_eq!(acks.len(), 1, "{msgs:#?}");
    assert!(
        acks[0].contains("c=IN IP4 127.0.0.1") && !acks[0].contains("127.0.0.55"),
        "the ACK's answer is not anchored on the relay:\n{}",
        acks[0]
    );
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
}

#[test]
fn early_media_the_183_reaches_the_caller_with_its_session_description() {
    let server = Server::start();
    let port = free_port();
    let mut callee = Callee::udp("flow_early_media_uas", port);
    register_callee(&server, port);
    let run = caller(&server, "flow_early_media_uac").run(&server);
    assert_clean(&run, "the early-media caller");
    callee.finish();
    assert!(
        run.messages.contains("SIP/2.0 183 Session Progress"),
        "{run}"
    );
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
}

#[test]
fn a_cancel_after_ringing_gives_487_and_cancels_the_callee() {
    let server = Server::start();
    let port = free_port();
    let mut callee = Callee::udp("flow_cancel_uas", port);
    register_callee(&server, port);
    let run = caller(&server, "flow_cancel_uac").run(&server);
    assert_clean(&run, "the cancelling caller");
    callee.finish();
    assert_eq!(requests(&callee.received(), "CANCEL").len(), 1);
    // One 487, not retransmitted: our ACK matched the INVITE transaction.
    assert_eq!(
        responses(&run.messages, "SIP/2.0 487", "INVITE"),
        1,
        "{run}"
    );
    assert_call_over(&server, &["201 -> 202  487"]);
}

#[test]
fn a_cancel_crossing_the_callees_200_ends_both_sides() {
    let server = Server::start();
    let port = free_port();
    let mut callee = Callee::udp("flow_cancel_race_uas", port);
    register_callee(&server, port);
    let run = caller(&server, "flow_cancel_uac").run(&server);
    assert_clean(&run, "the cancelling caller");
    // The caller got 487 and never the callee's 200; the callee's 200 was ACKed and its
    // dialog ended with BYE (RFC 5407 §3.1.2).
    assert_eq!(
        responses(&run.messages, "SIP/2.0 487", "INVITE"),
        1,
        "{run}"
    );
    assert_eq!(
        responses(&run.messages, "SIP/2.0 200", "INVITE"),
        0,
        "{run}"
    );
    callee.finish();
    assert_call_over(&server, &["201 -> 202  487"]);
}

#[test]
fn hold_with_inactive_and_with_a_zero_address_then_resume() {
    let server = Server::start();
    let port = free_port();
    let mut callee = Callee::udp("flow_hold_uas", port);
    register_callee(&server, port);
    let run = caller(&server, "flow_hold_uac").run(&server);
    assert_clean(&run, "the holding caller");
    callee.finish();
    // The call's INVITE and three re-INVITEs, each relayed once; the a=inactive hold
    // reached the callee as a=sendonly (it hears music on hold), and so did the c=0.0.0.0
    // hold, on the relay's address.
    let msgs = callee.received();
    let invites = requests(&msgs, "INVITE");
    assert_eq!(invites.len(), 4, "{msgs:#?}");
    assert!(
        invites[1].contains("\na=sendonly") && !invites[1].contains("inactive"),
        "{}",
        invites[1]
    );
    assert!(
        invites[2].contains("\na=sendonly") && !invites[2].contains("0.0.0.0"),
        "{}",
        invites[2]
    );
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
}

#[test]
fn an_invite_with_a_wrong_password_gets_403_and_rings_nobody() {
    let server = Server::start();
    // 202 is registered on a raw socket: it must hear nothing.
    let mut phone = Phone::new(&server, "202", &server.password("202"));
    let contact = format!("<sip:202@{}>", phone.udp.local());
    let r = phone.register(&[contact], Some(600), "MD5");
    assert_eq!(r.status, 200, "{}", r.raw);
    let run = Sipp::new("flow_auth_rejected_uac")
        .user("201", "Not-The-Right-Pass-42")
        .key("callee", "202")
        .run(&server);
    assert_clean(&run, "the caller with a wrong password");
    // One 403, not retransmitted during the scenario's last second: our ACK matched.
    assert_eq!(
        responses(&run.messages, "SIP/2.0 403", "INVITE"),
        1,
        "{run}"
    );
    let st = server.status();
    assert!(st.counter("auth-failures") >= 1, "{}", st.text);
    phone
        .udp
        .assert_silence(Duration::from_millis(500), "a refused INVITE");
    let calls = server.cli_ok(&["calls", "--history", "5"]);
    assert!(
        calls.contains("active calls: 0") && !calls.contains("201 -> 202"),
        "{calls}"
    );
    assert_call_over(&server, &[]);
}

#[test]
fn an_options_inside_the_call_is_answered_200_by_the_server() {
    let server = Server::start();
    let port = free_port();
    let mut callee = Callee::udp("call_uas", port);
    register_callee(&server, port);
    let run = caller(&server, "flow_options_uac").run(&server);
    assert_clean(&run, "the caller sending OPTIONS");
    callee.finish();
    assert!(requests(&callee.received(), "OPTIONS").is_empty());
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
}

#[test]
fn dtmf_by_info_reaches_the_callee_with_its_body() {
    let server = Server::start();
    let port = free_port();
    let mut callee = Callee::udp("flow_info_uas", port);
    register_callee(&server, port);
    let run = caller(&server, "flow_info_uac").run(&server);
    assert_clean(&run, "the caller sending INFO");
    callee.finish();
    let msgs = callee.received();
    let infos = requests(&msgs, "INFO");
    assert_eq!(infos.len(), 2, "{msgs:#?}");
    assert!(infos[0].ends_with("Signal=5\nDuration=160"), "{}", infos[0]);
    assert!(infos[1].ends_with("\n\n5"), "{}", infos[1]);
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
}
