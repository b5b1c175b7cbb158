//! Voicemail through the server with real phones (baresip): a caller whose callee has no
//! phone registered hears the greeting and leaves a message (its 1000 Hz tone); the WAV
//! the store keeps is measured by sox; the callee then dials `*17` from its own phone,
//! presses 1 and hears the tone back among the spoken prompts.

mod common;

use common::baresip::{file_stat, silence, start_controlled, tone, Baresip, Control, Ears};
use common::{wait_for, Server};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

fn dial(ctl: &mut Control, server: &Server, number: &str) {
    ctl.command(
        "dial",
        &format!("sip:{}@{}", number.replace('#', "%23"), server.addr()),
    );
}

#[test]
fn a_message_left_with_a_tone_is_stored_and_heard_back_with_the_voicemail_code() {
    let server = Server::start();
    // 201 calls 202, which has no phone: the mailbox answers. 201 plays 1000 Hz through
    // the greeting and the tone, then talks 4 s and hangs up.
    let dir = Baresip::new_dir();
    let source = tone(dir.path(), 1000);
    let (_p201, mut caller) = start_controlled(&server, "201", dir, &source, &[], "");
    dial(&mut caller, &server, "202");
    caller.wait_event("CALL_ESTABLISHED", LIMIT);
    let calls = server.cli_ok(&["calls"]);
    assert!(calls.contains("voicemail 202"), "{calls}");
    // The greeting ("... two zero two is not available ...") and the tone take about
    // eight seconds; then about five of the caller's tone are recorded.
    std::thread::sleep(Duration::from_secs(13));
    caller.command("hangup", "");
    caller.wait_event("CALL_CLOSED", LIMIT);
    let stored = wait_for("the message in mailbox 202", LIMIT, || {
        let m = server.mailbox_files("202");
        (!m.is_empty()).then_some(m)
    });
    assert_eq!(stored.len(), 1, "{stored:?}");
    let whole = file_stat(&stored[0], None);
    eprintln!("stored message: {whole:?}");
    assert!(
        (950.0..1050.0).contains(&whole.frequency) && whole.rms > 0.1,
        "the message is not the caller's tone: {whole:?}"
    );
    assert!(
        (3.0..12.0).contains(&whole.seconds),
        "recorded from the tone to the hang-up: {whole:?}"
    );
    let record = wait_for("the call record", LIMIT, || {
        let h = server.cli_ok(&["calls", "--history", "5"]);
        h.contains("201 -> 202").then_some(h)
    });
    assert!(record.contains("201 -> 202  200"), "{record}");

    // 202 collects from its own phone (trusted: no PIN), presses 1 and hears the message.
    let dir = Baresip::new_dir();
    let quiet = silence(dir.path());
    let (ears, config) = Ears::new(dir.path());
    let (_p202, mut owner) = start_controlled(&server, "202", dir, &quiet, &["alsa"], &config);
    dial(&mut owner, &server, "*17");
    owner.wait_event("CALL_ESTABLISHED", LIMIT);
    std::thread::sleep(Duration::from_secs(3));
    owner.command("sndcode", "1");
    std::thread::sleep(Duration::from_secs(12));
    owner.command("hangup", "");
    owner.wait_event("CALL_CLOSED", LIMIT);
    let band = ears.heard_in_band(950, 1050);
    eprintln!("202 heard, 950-1050 Hz: {band:?}");
    assert!(
        (950.0..1050.0).contains(&band.frequency) && band.rms > 0.05,
        "the message's tone was not heard back: {band:?}"
    );
    // Played, the message is old: the file stays, the lamp goes off (no new message).
    assert_eq!(server.mailbox_files("202").len(), 1);
}
