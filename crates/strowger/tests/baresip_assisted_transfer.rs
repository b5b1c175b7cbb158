//! A call flow's `record` and `assisted_transfer` steps with real phones (baresip): the
//! caller (202, a 1000 Hz tone) is asked for its name, which is recorded, then 203 (a
//! 1400 Hz tone, answering by itself) is rung screened: it hears the announcement with
//! the recorded name and presses 1 to take the call — then each hears the other's tone —
//! or 2 to refuse it — then the caller goes on to the step's `on_fail`, leaving 201 a
//! message that holds its tone.

mod common;

use common::baresip::{file_stat, start_controlled, Baresip, Control, Ears};
use common::{require_tool, run_bounded, wait_for, Server};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

/// The flow on 300: the caller's name (2 s), then 203 screened, else 201's mailbox.
const FLOW: &str = r#"
[[call_flows]]
name = "screened"
number = "300"
start = "ask-name"

[[call_flows.steps]]
name = "ask-name"
action = "record"
say = ["attendant-say-name"]
variable = "name"
max_secs = 2
next = "screen"

[[call_flows.steps]]
name = "screen"
action = "assisted_transfer"
to = "203"
announce = ["attendant-call-from", "$name"]
on_fail = "mail"

[[call_flows.steps]]
name = "mail"
action = "leave_mail"
mailbox = "201"
say = ["$name"]
"#;

/// A server with [`FLOW`] applied.
fn server_with_flow() -> Server {
    let server = Server::start();
    let doc = format!("{}{FLOW}", server.export());
    let path = server.write_file("screened.toml", &doc);
    server.cli_ok(&["config", "apply", path.to_str().expect("utf-8 path")]);
    server
}

/// A sine tone of `secs` seconds as an 8 kHz mono WAV file (the common helper's is 20 s,
/// too short for a caller that goes through a whole flow before it is heard).
fn long_tone(dir: &Path, hz: u32, secs: u32) -> PathBuf {
    let file = dir.join(format!("long{hz}.wav"));
    let out = run_bounded(
        Command::new(require_tool("sox", "sox"))
            .args(["-n", "-r", "8000", "-c", "1", "-b", "16"])
            .arg(&file)
            .args([
                "synth",
                &secs.to_string(),
                "sine",
                &hz.to_string(),
                "vol",
                "0.5",
            ]),
        Duration::from_secs(20),
    );
    assert!(out.success(), "sox: {}", out.all());
    file
}

/// A phone playing `hz` that listens with [`Ears`].
fn phone(server: &Server, extension: &str, hz: u32) -> (Baresip, Control, Ears) {
    let dir = Baresip::new_dir();
    let source = long_tone(dir.path(), hz, 60);
    let (ears, config) = Ears::new(dir.path());
    let (p, ctl) = start_controlled(server, extension, dir, &source, &["alsa"], &config);
    (p, ctl, ears)
}

#[test]
fn a_screened_target_that_presses_1_talks_to_the_caller() {
    let server = server_with_flow();
    let (_p203, mut target, target_ears) = phone(&server, "203", 1400);
    let (_p202, mut caller, caller_ears) = phone(&server, "202", 1000);
    caller.command("dial", &format!("sip:300@{}", server.addr()));
    caller.wait_event("CALL_ESTABLISHED", LIMIT);
    // "Say your name", the beep, 2 s of the caller's tone, "please hold": then 203 rings
    // and answers by itself, and is still only announced the call.
    target.wait_event("CALL_ESTABLISHED", LIMIT);
    let calls = server.cli_ok(&["calls"]);
    assert!(calls.contains("attendant screened"), "{calls}");
    std::thread::sleep(Duration::from_secs(2));
    target.command("sndcode", "1");
    let calls = wait_for("202 talking to 203", LIMIT, || {
        let c = server.cli_ok(&["calls"]);
        (c.contains("202") && c.contains("203") && !c.contains("attendant")).then_some(c)
    });
    eprintln!("{calls}");
    std::thread::sleep(Duration::from_secs(4));
    caller.command("hangup", "");
    caller.wait_event("CALL_CLOSED", LIMIT);
    target.wait_event("CALL_CLOSED", LIMIT);
    let caller_heard = caller_ears.heard_in_band(1350, 1450);
    let target_heard = target_ears.heard_in_band(950, 1050);
    eprintln!(
        "202 heard, 1350-1450 Hz: {caller_heard:?}; 203 heard, 950-1050 Hz: {target_heard:?}"
    );
    // sox's rough frequency reads a pure 1400 Hz at 8 kHz as 1330.
    assert!(
        (1300.0..1450.0).contains(&caller_heard.frequency) && caller_heard.rms > 0.05,
        "the caller did not hear the target: {caller_heard:?}"
    );
    assert!(
        (950.0..1050.0).contains(&target_heard.frequency) && target_heard.rms > 0.05,
        "the target did not hear the caller: {target_heard:?}"
    );
    let left = std::fs::read_dir(server.data_dir().join("flow-recordings"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(left, 0, "the recorded name outlived its call");
}

#[test]
fn a_screened_target_that_presses_2_sends_the_caller_to_on_fail() {
    let server = server_with_flow();
    let (_p203, mut target, target_ears) = phone(&server, "203", 1400);
    let dir = Baresip::new_dir();
    let source = long_tone(dir.path(), 1000, 60);
    let (_p202, mut caller) = start_controlled(&server, "202", dir, &source, &[], "");
    caller.command("dial", &format!("sip:300@{}", server.addr()));
    caller.wait_event("CALL_ESTABLISHED", LIMIT);
    target.wait_event("CALL_ESTABLISHED", LIMIT);
    // "You have a call from", the 2 s name, then the keys: the target refuses.
    std::thread::sleep(Duration::from_secs(6));
    target.command("sndcode", "2");
    target.wait_event("CALL_CLOSED", LIMIT);
    // The caller hears its name and the beep, and leaves a message of its tone.
    std::thread::sleep(Duration::from_secs(8));
    // The flow's leave_mail runs within the flow: the call is still the attendant's,
    // 203 is no longer in it.
    let calls = server.cli_ok(&["calls"]);
    assert!(calls.contains("attendant screened"), "{calls}");
    assert!(!calls.contains("203"), "{calls}");
    caller.command("hangup", "");
    caller.wait_event("CALL_CLOSED", LIMIT);
    let stored = wait_for("a message in mailbox 201", LIMIT, || {
        let m = server.mailbox_files("201");
        (!m.is_empty()).then_some(m)
    });
    let message = file_stat(&stored[0], None);
    eprintln!("stored message: {message:?}");
    assert!(
        (950.0..1050.0).contains(&message.frequency) && message.rms > 0.1,
        "the message is not the caller's tone: {message:?}"
    );
    // The target heard the recorded name (the caller's tone) in the announcement.
    let heard = target_ears.heard_in_band(950, 1050);
    eprintln!("203 heard, 950-1050 Hz: {heard:?}");
    assert!(
        (950.0..1050.0).contains(&heard.frequency) && heard.rms > 0.03,
        "the target did not hear the caller's recorded name: {heard:?}"
    );
    let left = wait_for("no recorded name left", LIMIT, || {
        let n = std::fs::read_dir(server.data_dir().join("flow-recordings"))
            .map(|d| d.count())
            .unwrap_or(0);
        (n == 0).then_some(n)
    });
    assert_eq!(left, 0);
}
