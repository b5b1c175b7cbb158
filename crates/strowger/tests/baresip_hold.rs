//! Music on hold through the server: baresip 201 calls baresip 202, then puts the call on
//! hold with its `hold` command (a re-INVITE with `a=sendonly`). 201 sends only silence, so
//! whatever 202 hears is the music Strowger's relay plays it: sox must find it loud enough,
//! and the call record must count the music packets. 201 then resumes (`resume`), 202 must
//! not have discarded any of what it received, and 201 hangs up.
//!
//! The second test puts a music file of our own on 201's user with `config apply` (a file
//! that does not play is refused first, with its field path) and checks that 202 hears that
//! file, by its frequency.

mod common;

use common::baresip::{silence, start_controlled, tone, Baresip, Control, Ears};
use common::{require_tool, run_bounded, wait_for, Server};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(15);

/// 201 (sending silence) and 202 (with ears on what it plays), both registered and
/// controlled.
fn phones(server: &Server) -> ((Baresip, Control), (Baresip, Control), Ears) {
    let dir = Baresip::new_dir();
    let source = tone(dir.path(), 1000);
    let (ears, config) = Ears::new(dir.path());
    let callee = start_controlled(server, "202", dir, &source, &["alsa"], &config);
    let dir = Baresip::new_dir();
    let source = silence(dir.path());
    let caller = start_controlled(server, "201", dir, &source, &[], "");
    (caller, callee, ears)
}

/// 201 calls 202, holds for `seconds`, resumes, and hangs up. Returns the call record.
fn call_with_hold(
    server: &Server,
    caller: &mut (Baresip, Control),
    callee: &mut (Baresip, Control),
    seconds: u64,
) -> String {
    let (caller_ctl, callee_ctl) = (&mut caller.1, &mut callee.1);
    caller_ctl.command("dial", &format!("sip:202@{}", server.addr()));
    caller_ctl.wait_event("CALL_ESTABLISHED", LIMIT);
    callee_ctl.wait_event("CALL_ESTABLISHED", LIMIT);
    callee_ctl.wait_event("CALL_RTPESTAB", LIMIT);
    std::thread::sleep(Duration::from_secs(1));

    caller_ctl.command("hold", "");
    std::thread::sleep(Duration::from_secs(seconds));
    caller_ctl.command("resume", "");
    std::thread::sleep(Duration::from_secs(1));
    // baresip 1.0 drops packets whose timestamps go backwards on its one receive clock,
    // whatever their SSRC: neither the music nor 201's audio after it may have been.
    let debug = callee_ctl.command("audio_debug", "");
    let discarded = debug
        .split("n_discard:")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<u64>().ok());
    assert_eq!(discarded, Some(0), "202 discarded audio: {debug}");
    caller.0.assert_running();
    callee.0.assert_running();

    caller_ctl.command("hangup", "");
    caller_ctl.wait_event("CALL_CLOSED", LIMIT);
    callee_ctl.wait_event("CALL_CLOSED", LIMIT);
    wait_for("the call record", LIMIT, || {
        let h = server.cli_ok(&["calls", "--history", "1"]);
        h.contains("201 -> 202  200").then_some(h)
    })
}

/// The number before `label` in the call record's callee statistics ("music on hold N
/// pkts").
fn music_packets(record: &str) -> u64 {
    record
        .split("callee: ")
        .nth(1)
        .and_then(|callee| callee.split("music on hold ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_held_baresip_hears_the_built_in_music_from_the_server() {
    let server = Server::start();
    let (mut caller, mut callee, ears) = phones(&server);
    let record = call_with_hold(&server, &mut caller, &mut callee, 5);
    let heard = ears.heard();
    // The built-in piece has an RMS of 0.145 and peaks at 0.7; 201 sent zeros. About
    // 5 s of music in a recording of ~7 s.
    eprintln!("202 heard {heard:?}; record: {record}");
    assert!(
        heard.max > 0.3 && heard.rms > 0.05,
        "202 heard no music while on hold: {heard:?}\n{record}"
    );
    let packets = music_packets(&record);
    assert!(
        (200..=300).contains(&packets),
        "about 5 s of music (250 packets of 20 ms) expected, the record says {packets}: {record}"
    );
}

/// A 600 Hz tone, 8 kHz mono A-law, at `path`; and a CD-quality file that must be refused.
fn music_files(dir: &Path) {
    let sox = require_tool("sox", "sox");
    std::fs::create_dir_all(dir).expect("moh dir");
    for args in [
        &["-r", "8000", "-c", "1", "-e", "a-law", "tone600.wav"][..],
        &["-r", "44100", "-c", "2", "-b", "16", "cd.wav"][..],
    ] {
        let out = run_bounded(
            Command::new(&sox)
                .current_dir(dir)
                .arg("-n")
                .args(args)
                .args(["synth", "10", "sine", "600", "vol", "0.5"]),
            Duration::from_secs(20),
        );
        assert!(out.success(), "sox: {}", out.all());
    }
}

/// The exported document with `music_on_hold = VALUE` added to user201.
fn with_user_music(exported: &str, value: &str) -> String {
    exported.replacen(
        "name = \"user201\"\n",
        &format!("name = \"user201\"\nmusic_on_hold = \"{value}\"\n"),
        1,
    )
}

#[test]
fn the_holders_own_music_file_is_what_the_held_party_hears() {
    let server = Server::start();
    music_files(&server.data_dir().join("moh"));
    let exported = server.export();

    // A file that does not play is refused with its field path; nothing changes.
    let bad = server.write_file("bad.toml", &with_user_music(&exported, "moh/cd.wav"));
    let out = server.cli(&["config", "apply", bad.to_str().unwrap()]);
    assert!(!out.success(), "{out}");
    let text = out.all();
    assert!(
        text.contains("users[0].music_on_hold: ") && text.contains("2 channels"),
        "{text}"
    );
    assert_eq!(
        server.export(),
        exported,
        "the configuration in force stays"
    );

    // A relative path is taken from the data directory; the running server loads it.
    let good = server.write_file("good.toml", &with_user_music(&exported, "moh/tone600.wav"));
    let applied = server.cli_ok(&["config", "apply", good.to_str().unwrap()]);
    assert!(applied.contains("reloaded"), "{applied}");

    let (mut caller, mut callee, ears) = phones(&server);
    let record = call_with_hold(&server, &mut caller, &mut callee, 4);
    let heard = ears.heard();
    eprintln!("202 heard {heard:?}; record: {record}");
    assert!(
        (550.0..650.0).contains(&heard.frequency) && heard.rms > 0.1,
        "202 did not hear 201's 600 Hz music: {heard:?}\n{record}"
    );
}
