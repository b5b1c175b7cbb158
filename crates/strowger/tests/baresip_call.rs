//! Two real softphones talk through the server: baresip 201 calls baresip 202, each plays a
//! different sine tone (440 Hz and 1000 Hz, made by sox), and sox measures what each one
//! received: the other's tone, at the level it was sent, relayed through Strowger's media
//! relay.

mod common;

use common::baresip::{heard, recording, tone, Baresip, Setup};
use common::{terminate, wait_bounded, Server};
use std::time::Duration;

/// Starts baresip for `extension` playing `hz`, auto-answering, recording what it receives
/// (sndfile module), optionally dialling `dial` once registered, quitting after `seconds`.
fn start_phone(
    server: &Server,
    extension: &str,
    hz: u32,
    dial: Option<&str>,
    seconds: u32,
) -> Baresip {
    let dir = Baresip::new_dir();
    let source = tone(dir.path(), hz);
    let config = recording(dir.path());
    let args = match dial {
        Some(number) => vec!["-e".into(), format!("/dial sip:{number}@{}", server.addr())],
        None => Vec::new(),
    };
    Baresip::start(
        server,
        dir,
        Setup {
            extension,
            source: &source,
            modules: &["stdio", "sndfile"],
            config,
            args,
            seconds,
        },
    )
}

/// (rough frequency in Hz, RMS amplitude) of what a phone received.
fn received(phone: &Baresip) -> (f64, f64) {
    let heard = heard(phone);
    (heard.frequency, heard.rms)
}

#[test]
fn baresip_calls_baresip_and_each_hears_the_others_tone_through_the_relay() {
    let server = Server::start();
    let mut callee = start_phone(&server, "202", 1000, None, 20);
    common::wait_for("202 registered", Duration::from_secs(15), || {
        (!server.status().bindings_of("202").is_empty()).then_some(())
    });
    let mut caller = start_phone(&server, "201", 440, Some("202"), 8);
    let (status, timed_out) = wait_bounded(&mut caller.child, Duration::from_secs(30));
    assert!(!timed_out, "the caller did not finish");
    assert!(status.is_some());
    terminate(&mut callee.child, Duration::from_secs(10));

    let (caller_hz, caller_rms) = received(&caller);
    let (callee_hz, callee_rms) = received(&callee);
    // The tones were sent at half scale: RMS 0.35. G.711 keeps the level within a few %.
    assert!(
        (900.0..1100.0).contains(&caller_hz),
        "the caller heard {caller_hz} Hz"
    );
    assert!(
        (400.0..480.0).contains(&callee_hz),
        "the callee heard {callee_hz} Hz"
    );
    assert!(
        caller_rms > 0.25 && callee_rms > 0.25,
        "levels {caller_rms} / {callee_rms}"
    );

    let history = server.cli_ok(&["calls", "--history", "1"]);
    assert!(history.contains("201 -> 202  200"), "{history}");
    assert!(
        history.contains("caller: in "),
        "media statistics: {history}"
    );
}
