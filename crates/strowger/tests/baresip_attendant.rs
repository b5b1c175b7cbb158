//! The default auto attendant (call flow `reception` on 200) with real phones (baresip):
//! a caller dials an extension's digits after the welcome and is put through to that
//! phone, whose tone it then hears; a caller who presses 0 for the operator (201, no
//! phone registered) ends in 201's mailbox and leaves a message there.

mod common;

use common::baresip::{file_stat, silence, start_controlled, tone, Baresip, Control, Ears};
use common::{wait_for, Server};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

fn dial(ctl: &mut Control, server: &Server, number: &str) {
    ctl.command("dial", &format!("sip:{number}@{}", server.addr()));
}

/// Presses `keys` one by one (RFC 4733 events), as a person would.
fn press(ctl: &mut Control, keys: &str) {
    for key in keys.chars() {
        ctl.command("sndcode", &key.to_string());
        std::thread::sleep(Duration::from_millis(400));
    }
}

#[test]
fn the_attendant_puts_a_dialled_extension_through() {
    let server = Server::start();
    // 203 answers by itself and plays 1400 Hz.
    let dir = Baresip::new_dir();
    let source = tone(dir.path(), 1400);
    let (_p203, mut callee) = start_controlled(&server, "203", dir, &source, &[], "");
    // 202 listens.
    let dir = Baresip::new_dir();
    let quiet = silence(dir.path());
    let (ears, config) = Ears::new(dir.path());
    let (_p202, mut caller) = start_controlled(&server, "202", dir, &quiet, &["alsa"], &config);
    dial(&mut caller, &server, "200");
    caller.wait_event("CALL_ESTABLISHED", LIMIT);
    let calls = server.cli_ok(&["calls"]);
    assert!(calls.contains("attendant reception"), "{calls}");
    // Into the welcome, the caller dials 203.
    std::thread::sleep(Duration::from_secs(2));
    press(&mut caller, "203");
    callee.wait_event("CALL_ESTABLISHED", LIMIT);
    let calls = wait_for("202 talking to 203", LIMIT, || {
        let c = server.cli_ok(&["calls"]);
        (c.contains("202") && c.contains("203") && !c.contains("attendant")).then_some(c)
    });
    eprintln!("{calls}");
    std::thread::sleep(Duration::from_secs(4));
    caller.command("hangup", "");
    caller.wait_event("CALL_CLOSED", LIMIT);
    let band = ears.heard_in_band(1350, 1450);
    eprintln!("202 heard, 1350-1450 Hz: {band:?}");
    // sox's rough frequency reads a pure 1400 Hz at 8 kHz as 1330.
    assert!(
        (1300.0..1450.0).contains(&band.frequency) && band.rms > 0.05,
        "the caller did not hear the extension it dialled: {band:?}"
    );
}

#[test]
fn the_operator_choice_ends_in_the_operators_mailbox_when_nobody_is_there() {
    let server = Server::start();
    let dir = Baresip::new_dir();
    let source = tone(dir.path(), 1000);
    let (_p202, mut caller) = start_controlled(&server, "202", dir, &source, &[], "");
    dial(&mut caller, &server, "200");
    caller.wait_event("CALL_ESTABLISHED", LIMIT);
    std::thread::sleep(Duration::from_secs(2));
    press(&mut caller, "0");
    // "Please hold..." then 201's greeting and the tone; then the caller's tone is kept.
    std::thread::sleep(Duration::from_secs(16));
    caller.command("hangup", "");
    caller.wait_event("CALL_CLOSED", LIMIT);
    let stored = wait_for("a message in mailbox 201", LIMIT, || {
        let m = server.mailbox_files("201");
        (!m.is_empty()).then_some(m)
    });
    let whole = file_stat(&stored[0], None);
    eprintln!("stored message: {whole:?}");
    assert!(
        (950.0..1050.0).contains(&whole.frequency) && whole.rms > 0.1,
        "the message is not the caller's tone: {whole:?}"
    );
}
