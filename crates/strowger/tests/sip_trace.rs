//! The SIP trace: switched on and off at run time with `strowger trace on|off`, it logs every
//! message in and out; the switch is audited.

mod common;

use common::{unique, wait_for, Req, Server, SipUdp};
use std::time::Duration;

fn options_with_call_id(server: &Server, udp: &SipUdp, call_id: &str) {
    let req = Req::new(
        "OPTIONS",
        &format!("sip:{}", server.addr()),
        udp.local(),
        "UDP",
        call_id,
    );
    let r = udp
        .request(&req, Duration::from_secs(5))
        .expect("an answer");
    assert_eq!(r.status, 200, "{}", r.raw);
}

#[test]
fn trace_switches_on_and_off_at_run_time() {
    let server = Server::start();
    let udp = SipUdp::new(server.addr());
    assert!(server.status().text.contains("sip trace: off"));

    let quiet_before = format!("before-{}", unique());
    options_with_call_id(&server, &udp, &quiet_before);

    let out = server.cli_ok(&["trace", "on"]);
    assert!(out.contains("on"), "{out}");
    assert!(server.status().text.contains("sip trace: on"));
    let traced = format!("traced-{}", unique());
    options_with_call_id(&server, &udp, &traced);
    // Both directions are in the log: the request and our answer.
    wait_for(
        "the traced messages in the log",
        Duration::from_secs(5),
        || {
            let log = server.log();
            let hits = log.matches(traced.as_str()).count();
            (hits >= 2 && log.contains("OPTIONS sip:") && log.contains("SIP/2.0 200")).then_some(())
        },
    );

    server.cli_ok(&["trace", "off"]);
    assert!(server.status().text.contains("sip trace: off"));
    let quiet_after = format!("after-{}", unique());
    options_with_call_id(&server, &udp, &quiet_after);
    std::thread::sleep(Duration::from_millis(300));
    let log = server.log();
    assert!(!log.contains(&quiet_before), "traced while off (before)");
    assert!(!log.contains(&quiet_after), "traced while off (after)");

    let audit = server.cli_ok(&["audit"]);
    assert!(audit.contains("trace"), "the switch is audited:\n{audit}");
}
