//! Call recording through the server with real phones (baresip): user 201 records its
//! calls (`record_calls = true`); 201 plays a 600 Hz tone and 202 a 1400 Hz tone while
//! they talk. The recording kept in 201's mailbox must hold both tones (one mixed WAV,
//! measured by sox in each band against a band where neither plays), last about as long
//! as the call, and its envelope must name 202 as the other party.
//!
//! The second test records by keys instead: 202 presses `*1` during the call (RFC 4733
//! telephone-events), and the recording lands in 202's own mailbox.

mod common;

use common::baresip::{file_stat, start_controlled, tone, Baresip, Control};
use common::{wait_for, Server};
use std::path::Path;
use std::time::{Duration, Instant};
use voicemail::{MailboxId, MessageKind, MessageState, MessageStore};

const LIMIT: Duration = Duration::from_secs(20);

fn phone(server: &Server, extension: &str, hz: u32) -> (Baresip, Control) {
    let dir = Baresip::new_dir();
    let source = tone(dir.path(), hz);
    start_controlled(server, extension, dir, &source, &[], "")
}

/// 201 calls 202; both talk for `talk`, with `during` run once the call is up; 201 hangs
/// up. Returns how long the call was up, as the test saw it.
fn call(
    server: &Server,
    caller: &mut Control,
    callee: &mut Control,
    talk: Duration,
    during: impl FnOnce(&mut Control),
) -> Duration {
    caller.command("dial", &format!("sip:202@{}", server.addr()));
    caller.wait_event("CALL_ESTABLISHED", LIMIT);
    callee.wait_event("CALL_ESTABLISHED", LIMIT);
    let up = Instant::now();
    during(callee);
    std::thread::sleep(talk);
    caller.command("hangup", "");
    caller.wait_event("CALL_CLOSED", LIMIT);
    up.elapsed()
}

/// Checks that `wav` holds both tones, mixed, and lasts about `call` (the recording may
/// start a little after the phones see the call up, and its end is the relay's).
fn assert_both_tones(wav: &Path, call: Duration, at_least: f64) {
    let whole = file_stat(wav, None);
    let caller = file_stat(wav, Some((550, 650)));
    let callee = file_stat(wav, Some((1350, 1450)));
    let neither = file_stat(wav, Some((950, 1050)));
    eprintln!("recording {whole:?}\n 600 Hz {caller:?}\n 1400 Hz {callee:?}\n 1000 Hz {neither:?}");
    assert!(
        caller.rms > 0.05 && caller.rms > 10.0 * neither.rms,
        "the caller's 600 Hz tone is not in the recording: {caller:?} (1000 Hz band {neither:?})"
    );
    assert!(
        callee.rms > 0.05 && callee.rms > 10.0 * neither.rms,
        "the callee's 1400 Hz tone is not in the recording: {callee:?} (1000 Hz band {neither:?})"
    );
    let secs = call.as_secs_f64();
    assert!(
        whole.seconds >= at_least && whole.seconds <= secs + 1.0,
        "the recording lasts {} s, the call {secs:.1} s",
        whole.seconds
    );
}

/// The recordings' envelopes in `mailbox`, read from the store once the server stopped.
fn envelopes(server: &Server, mailbox: &str) -> Vec<voicemail::Message> {
    let (store, _) = MessageStore::open(server.data_dir()).expect("the store opens");
    store
        .messages(&MailboxId::new(mailbox).unwrap(), MessageState::New)
        .expect("messages")
}

#[test]
fn a_user_who_records_calls_gets_both_parties_mixed_in_the_mailbox() {
    let mut server = Server::start();
    server.set_user_settings(&[("user201", "record_calls", "true")]);
    let (_p202, mut callee) = phone(&server, "202", 1400);
    let (_p201, mut caller) = phone(&server, "201", 600);
    let up = call(
        &server,
        &mut caller,
        &mut callee,
        Duration::from_secs(6),
        |_| {},
    );
    let stored = wait_for("the recording in mailbox 201", LIMIT, || {
        let m = server.mailbox_files("201");
        (!m.is_empty()).then_some(m)
    });
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_both_tones(&stored[0], up, up.as_secs_f64() - 2.0);
    assert!(
        server.mailbox_files("202").is_empty(),
        "202 does not record its calls"
    );
    let status = server.cli_ok(&["status"]);
    assert!(
        status.contains("voicemail channels: 0 in use of 250"),
        "{status}"
    );
    server.stop();
    let kept = envelopes(&server, "201");
    assert_eq!(kept.len(), 1, "{kept:?}");
    let m = &kept[0];
    assert_eq!(m.kind, MessageKind::Recording);
    assert_eq!(m.caller_number.as_deref(), Some("202"), "the other party");
    assert!(
        m.duration_ms as f64 / 1000.0 <= up.as_secs_f64() + 1.0 && m.duration_ms >= 3000,
        "{m:?}"
    );
}

#[test]
fn the_record_keys_record_a_call_into_the_pressers_mailbox() {
    let mut server = Server::start();
    let (_p202, mut callee) = phone(&server, "202", 1400);
    let (_p201, mut caller) = phone(&server, "201", 600);
    let up = call(
        &server,
        &mut caller,
        &mut callee,
        Duration::from_secs(6),
        |callee| {
            callee.wait_event("CALL_RTPESTAB", LIMIT);
            for key in ["*", "1"] {
                callee.command("sndcode", key);
                std::thread::sleep(Duration::from_millis(300));
            }
        },
    );
    let stored = wait_for("the recording in mailbox 202", LIMIT, || {
        let m = server.mailbox_files("202");
        (!m.is_empty()).then_some(m)
    });
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_both_tones(&stored[0], up, 3.0);
    assert!(server.mailbox_files("201").is_empty());
    server.stop();
    let kept = envelopes(&server, "202");
    assert_eq!(kept[0].kind, MessageKind::Recording);
    assert_eq!(kept[0].caller_number.as_deref(), Some("201"));
}
