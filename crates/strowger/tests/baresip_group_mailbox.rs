//! A hunt group's mailbox through the server with real phones (baresip): a caller to a
//! group with nobody there leaves a message (its 1000 Hz tone) in the group's mailbox;
//! the administrator gives the mailbox a PIN with `strowger mailbox set-pin` (through the
//! running server, audited); another phone dials `*18*300#`, types the PIN, is made to
//! choose a new one, presses 1 and hears the tone back.

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

/// Presses `keys` one after another, as a person would.
fn keys(ctl: &mut Control, keys: &str) {
    for key in keys.chars() {
        ctl.command("sndcode", &key.to_string());
        std::thread::sleep(Duration::from_millis(400));
    }
}

#[test]
fn a_message_for_a_hunt_group_is_collected_with_the_pin_the_administrator_set() {
    let server = Server::start();
    let doc = format!(
        "{}\n[[hunt_groups]]\nname = \"sales\"\nnumber = \"300\"\nmembers = [\"202\"]\n\
         voicemail = true\nvoicemail_secs = 5\n",
        server.export()
    );
    let file = server.write_file("group.toml", &doc);
    let applied = server.cli_ok(&["config", "apply", file.to_str().expect("a path")]);
    assert!(applied.contains("reloaded"), "{applied}");

    // Before any PIN, an administrator is told which numbers have no mailbox at all.
    let out = server.cli_with_input(&["mailbox", "set-pin", "299"], "2580\n");
    assert!(!out.success());
    assert!(out.stderr.contains("\"299\" has no mailbox"), "{out}");
    // A PIN the rules refuse is refused with the reason, and nothing changes.
    let out = server.cli_with_input(&["mailbox", "set-pin", "300"], "1234\n");
    assert!(!out.success());
    assert!(out.stderr.contains("consecutive digits"), "{out}");

    // 201 calls the group; 202, its member, has no phone: the group's mailbox answers.
    let dir = Baresip::new_dir();
    let source = tone(dir.path(), 1000);
    let (_p201, mut caller) = start_controlled(&server, "201", dir, &source, &[], "");
    dial(&mut caller, &server, "300");
    caller.wait_event("CALL_ESTABLISHED", LIMIT);
    let calls = server.cli_ok(&["calls"]);
    assert!(calls.contains("voicemail 300"), "{calls}");
    std::thread::sleep(Duration::from_secs(13));
    caller.command("hangup", "");
    caller.wait_event("CALL_CLOSED", LIMIT);
    let stored = wait_for("the message in mailbox 300", LIMIT, || {
        let m = server.mailbox_files("300");
        (!m.is_empty()).then_some(m)
    });
    let whole = file_stat(&stored[0], None);
    eprintln!("stored message: {whole:?}");
    assert!(
        (950.0..1050.0).contains(&whole.frequency) && whole.rms > 0.1,
        "the group's message is not the caller's tone: {whole:?}"
    );

    // The administrator sets the group mailbox's PIN through the running server.
    let out = server.cli_with_input(&["mailbox", "set-pin", "300"], "2580\n");
    assert!(out.success(), "{out}");
    assert!(out.stdout.contains("mailbox 300: PIN set"), "{out}");
    let audit = server.cli_ok(&["audit", "--limit", "5"]);
    assert!(audit.contains("voicemail.pin_set"), "{audit}");
    assert!(!audit.contains("2580"), "never the PIN: {audit}");

    // 203 dials *18*300#: the PIN, then a new one twice (forced), then 1 to listen.
    let dir = Baresip::new_dir();
    let quiet = silence(dir.path());
    let (ears, config) = Ears::new(dir.path());
    let (_p203, mut collector) = start_controlled(&server, "203", dir, &quiet, &["alsa"], &config);
    dial(&mut collector, &server, "*18*300#");
    collector.wait_event("CALL_ESTABLISHED", LIMIT);
    std::thread::sleep(Duration::from_secs(2));
    keys(&mut collector, "2580#");
    std::thread::sleep(Duration::from_secs(2));
    keys(&mut collector, "1357#");
    std::thread::sleep(Duration::from_secs(2));
    keys(&mut collector, "1357#");
    std::thread::sleep(Duration::from_secs(2));
    keys(&mut collector, "1");
    std::thread::sleep(Duration::from_secs(14));
    collector.command("hangup", "");
    collector.wait_event("CALL_CLOSED", LIMIT);
    let band = ears.heard_in_band(950, 1050);
    eprintln!("203 heard, 950-1050 Hz: {band:?}");
    assert!(
        (950.0..1050.0).contains(&band.frequency) && band.rms > 0.05,
        "the group's message was not heard back: {band:?}"
    );
}
