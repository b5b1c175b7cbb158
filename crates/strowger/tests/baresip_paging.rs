//! Paging and silent monitoring through the server with real phones (baresip, which
//! answers by itself). sox measures what the listening phone played: the pager's or the
//! monitored caller's 1000 Hz tone, mixed by the relay and sent from the party's own port.

mod common;

use common::baresip::{silence, start_controlled, tone, Baresip, Control, Ears};
use common::{wait_for, Server};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(15);

/// A phone for `extension` playing `hz` (0: silence); with ears when `listening`.
fn phone(
    server: &Server,
    extension: &str,
    hz: u32,
    listening: bool,
) -> ((Baresip, Control), Option<Ears>) {
    let dir = Baresip::new_dir();
    let source = if hz == 0 {
        silence(dir.path())
    } else {
        tone(dir.path(), hz)
    };
    if listening {
        let (ears, config) = Ears::new(dir.path());
        let phone = start_controlled(server, extension, dir, &source, &["alsa"], &config);
        (phone, Some(ears))
    } else {
        (
            start_controlled(server, extension, dir, &source, &[], ""),
            None,
        )
    }
}

fn dial(ctl: &mut Control, server: &Server, number: &str) {
    ctl.command(
        "dial",
        &format!("sip:{}@{}", number.replace('#', "%23"), server.addr()),
    );
}

fn record_with(server: &Server, text: &str) -> String {
    wait_for(&format!("a call record with {text}"), LIMIT, || {
        let h = server.cli_ok(&["calls", "--history", "5"]);
        h.contains(text).then_some(h)
    })
}

#[test]
fn a_paged_phone_answers_by_itself_and_hears_the_pager() {
    let server = Server::start();
    let ((_p201, mut pager), _) = phone(&server, "201", 1000, false);
    let ((mut p202, mut paged), ears) = phone(&server, "202", 0, true);
    dial(&mut pager, &server, "*34*202#");
    pager.wait_event("CALL_ESTABLISHED", LIMIT);
    paged.wait_event("CALL_ESTABLISHED", LIMIT);
    std::thread::sleep(Duration::from_secs(3));
    pager.command("hangup", "");
    paged.wait_event("CALL_CLOSED", LIMIT);
    p202.assert_running();
    let record = record_with(&server, "page-202");
    let heard = ears.expect("ears").heard();
    eprintln!("202 heard {heard:?}; record: {record}");
    assert!(
        (950.0..1050.0).contains(&heard.frequency) && heard.rms > 0.1,
        "the paged phone did not hear the pager's 1000 Hz: {heard:?}\n{record}"
    );
}

#[test]
fn a_supervisor_listens_in_on_a_call_unheard() {
    let server = Server::start();
    // user203 may listen in; user201 lets its calls be listened to.
    server.set_user_settings(&[
        ("user201", "cannot_be_intruded", "false"),
        ("user203", "can_intrude", "true"),
    ]);

    let ((_p201, mut caller), _) = phone(&server, "201", 1000, false);
    let ((_p202, mut callee), _) = phone(&server, "202", 0, false);
    let ((_p203, mut supervisor), ears) = phone(&server, "203", 0, true);
    dial(&mut caller, &server, "202");
    caller.wait_event("CALL_ESTABLISHED", LIMIT);
    callee.wait_event("CALL_ESTABLISHED", LIMIT);

    dial(&mut supervisor, &server, "*39*201#");
    supervisor.wait_event("CALL_ESTABLISHED", LIMIT);
    std::thread::sleep(Duration::from_secs(3));
    supervisor.command("hangup", "");
    supervisor.wait_event("CALL_CLOSED", LIMIT);
    // The monitored call goes on after the supervisor leaves.
    let calls = server.cli_ok(&["calls"]);
    assert!(calls.contains("201") && calls.contains("202"), "{calls}");
    caller.command("hangup", "");
    callee.wait_event("CALL_CLOSED", LIMIT);
    let record = record_with(&server, "201 -> 202  200");
    let heard = ears.expect("ears").heard();
    eprintln!("203 heard {heard:?}; record: {record}");
    assert!(
        (950.0..1050.0).contains(&heard.frequency) && heard.rms > 0.1,
        "the supervisor did not hear 201's 1000 Hz: {heard:?}\n{record}"
    );
}
