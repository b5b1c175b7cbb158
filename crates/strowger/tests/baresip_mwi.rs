//! The message waiting lamp end to end: 202's phone (SIPp, registered, not subscribing)
//! has nothing waiting, so it is sent nothing on registering; 202 is on do not disturb, a
//! real caller (baresip) leaves a message in 202's mailbox, and the phone gets an
//! unsolicited NOTIFY saying one new message waits (RFC 3842 body) once the message is
//! stored.

mod common;

use common::baresip::{start_controlled, tone, Baresip};
use common::callee::{register_as, Callee};
use common::{free_port, wait_for, Server};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn a_message_left_in_a_call_lights_the_lamp_of_the_owners_phone() {
    let server = Server::start();
    server.set_user_settings(&[("user202", "dnd", "true")]);
    let port = free_port();
    let mut phone = Callee::udp("mwi_unsolicited_uas", port);
    register_as(&server, "202", port);

    let dir = Baresip::new_dir();
    let source = tone(dir.path(), 1000);
    let (_p201, mut caller) = start_controlled(&server, "201", dir, &source, &[], "");
    caller.command("dial", &format!("sip:202@{}", server.addr()));
    caller.wait_event("CALL_ESTABLISHED", LIMIT);
    let calls = server.cli_ok(&["calls"]);
    assert!(calls.contains("voicemail 202"), "{calls}");
    std::thread::sleep(Duration::from_secs(10));
    caller.command("hangup", "");
    caller.wait_event("CALL_CLOSED", LIMIT);
    wait_for("the message in mailbox 202", LIMIT, || {
        (!server.mailbox_files("202").is_empty()).then_some(())
    });
    // The scenario ends once it took the NOTIFY ("Messages-Waiting: yes",
    // "Voice-Message: 1/0", no To tag) and answered it.
    phone.finish();
    let got = phone.received();
    assert_eq!(
        got.iter().filter(|m| m.starts_with("NOTIFY ")).count(),
        1,
        "one NOTIFY, sent after the message was stored: {got:?}"
    );
}
