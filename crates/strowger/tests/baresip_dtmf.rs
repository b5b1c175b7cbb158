//! DTMF through the server: baresip 201 calls baresip 202, and once the call is up 201
//! sends the keys 1, 5 and # as RFC 4733 telephone-events in its RTP stream. 202 must
//! report each one, in order and once, as a received event, and its RTP must have come from
//! Strowger's media relay, not from 201.
//!
//! Both phones are driven through baresip's `ctrl_tcp` module (commands `dial`, `sndcode`,
//! `hangup`; events `CALL_ESTABLISHED`, `CALL_RTPESTAB`, `CALL_DTMF_START`, `CALL_CLOSED`).

mod common;

use common::baresip::{json_str, start_controlled, tone, Baresip, Control};
use common::{terminate, wait_for, Server};
use std::time::Duration;

/// The phones' own RTP ports, outside the relay's (the server's default, 10000–20000), so
/// that the source of what a phone receives tells whether it came through the relay.
const RTP_PORTS: [(u16, u16); 2] = [(40000, 40999), (41000, 41999)];
const RELAY_PORTS: std::ops::RangeInclusive<u16> = 10000..=20000;

const DIGITS: [&str; 3] = ["1", "5", "#"];

/// Starts baresip for `extension` playing a `hz` tone, controlled through ctrl_tcp, its RTP
/// on the ports `rtp`, registered.
fn start_phone(server: &Server, extension: &str, hz: u32, rtp: (u16, u16)) -> (Baresip, Control) {
    let dir = Baresip::new_dir();
    let source = tone(dir.path(), hz);
    let config = format!("rtp_ports {}-{}", rtp.0, rtp.1);
    start_controlled(server, extension, dir, &source, &[], &config)
}

/// The port a phone received its RTP from, from its log line
/// "stream: incoming rtp for 'audio' established, receiving from 127.0.0.1:PORT".
fn rtp_source_port(phone: &Baresip) -> u16 {
    let log = phone.log();
    log.lines()
        .find_map(|l| l.split("established, receiving from 127.0.0.1:").nth(1))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no \"receiving from\" line in baresip's log:\n{log}"))
}

/// The keys in baresip's "received event: 'K' (end=E)" log lines with end=`end`.
fn logged_events(phone: &Baresip, end: u8) -> Vec<String> {
    let want = format!("{end})");
    phone
        .log()
        .lines()
        .filter_map(|l| l.split("received event: '").nth(1))
        .filter_map(|rest| rest.split_once("' (end="))
        .filter(|(_, e)| e.starts_with(&want))
        .map(|(key, _)| key.to_string())
        .collect()
}

/// The first number after `label` in the call record, e.g. "caller: in " → packets.
fn number_after(text: &str, label: &str) -> u64 {
    text.split(label)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label:?} in the call record:\n{text}"))
}

#[test]
fn rfc4733_digits_from_one_baresip_reach_the_other_through_the_relay() {
    let server = Server::start();
    let (mut callee, mut callee_ctl) = start_phone(&server, "202", 1000, RTP_PORTS[1]);
    let (mut caller, mut caller_ctl) = start_phone(&server, "201", 440, RTP_PORTS[0]);

    caller_ctl.command("dial", &format!("sip:202@{}", server.addr()));
    let limit = Duration::from_secs(15);
    caller_ctl.wait_event("CALL_ESTABLISHED", limit);
    callee_ctl.wait_event("CALL_ESTABLISHED", limit);
    // RTP flows both ways before the first key.
    caller_ctl.wait_event("CALL_RTPESTAB", limit);
    callee_ctl.wait_event("CALL_RTPESTAB", limit);

    for digit in DIGITS {
        caller_ctl.command("sndcode", digit);
        std::thread::sleep(Duration::from_millis(300));
    }

    let mut received = Vec::new();
    for _ in DIGITS {
        match callee_ctl.try_wait_event("CALL_DTMF_START", Duration::from_secs(10)) {
            Some(event) => received.push(json_str(&event, "param").unwrap_or("?").to_string()),
            None => break,
        }
    }
    caller.assert_running();
    callee.assert_running();
    let caller_log = caller.log();
    for digit in DIGITS {
        assert!(
            caller_log.contains(&format!("audio: send DTMF digit: '{digit}'")),
            "201 did not send {digit} as a telephone-event:\n{caller_log}"
        );
    }
    assert_eq!(
        received, DIGITS,
        "202's CALL_DTMF_START events (201 sent {DIGITS:?})"
    );
    // The same in 202's log: each key begun and ended once, in order (RTP events; a SIP INFO
    // would be logged as "call: received DTMF:").
    assert_eq!(
        logged_events(&callee, 0),
        DIGITS,
        "202's log:\n{}",
        callee.log()
    );
    assert_eq!(
        logged_events(&callee, 1),
        DIGITS,
        "202's log:\n{}",
        callee.log()
    );
    assert!(
        !callee.log().contains("call: received DTMF:"),
        "{}",
        callee.log()
    );

    // Each phone's RTP came from the relay, not from the other phone.
    for (name, phone) in [("201", &caller), ("202", &callee)] {
        let port = rtp_source_port(phone);
        assert!(
            RELAY_PORTS.contains(&port),
            "{name} received RTP from port {port}, not from the relay's {RELAY_PORTS:?}"
        );
    }

    caller_ctl.command("hangup", "");
    caller_ctl.wait_event("CALL_CLOSED", limit);
    callee_ctl.wait_event("CALL_CLOSED", limit);
    let history = wait_for("the call record", limit, || {
        let h = server.cli_ok(&["calls", "--history", "1"]);
        h.contains("201 -> 202  200").then_some(h)
    });
    assert!(
        number_after(&history, "caller: in ") > 0 && number_after(&history, "callee: in ") > 0,
        "media relayed both ways: {history}"
    );

    let (_, killed) = terminate(&mut caller.child, Duration::from_secs(10));
    assert!(!killed, "201 did not stop on SIGTERM");
    let (_, killed) = terminate(&mut callee.child, Duration::from_secs(10));
    assert!(!killed, "202 did not stop on SIGTERM");
}
