//! Two real softphones talk through the server: baresip 201 calls baresip 202, each plays a
//! different sine tone (440 Hz and 1000 Hz, made by sox), and sox measures what each one
//! received: the other's tone, at the level it was sent, relayed through Strowger's media
//! relay.

mod common;

use common::{free_port, require_tool, run_bounded, terminate, wait_bounded, Server};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A baresip process, stopped (by its id) when dropped.
struct Phone {
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for Phone {
    fn drop(&mut self) {
        terminate(&mut self.child, Duration::from_secs(5));
    }
}

fn module_path() -> &'static str {
    if Path::new("/usr/lib/baresip/modules/aufile.so").exists() {
        "/usr/lib/baresip/modules"
    } else {
        "/usr/local/lib/baresip/modules"
    }
}

/// A sine tone as an 8 kHz mono WAV file, made by sox.
fn tone(dir: &Path, hz: u32) -> PathBuf {
    let sox = require_tool("sox", "sox");
    let file = dir.join(format!("tone{hz}.wav"));
    let out = run_bounded(
        Command::new(sox)
            .args(["-n", "-r", "8000", "-c", "1", "-b", "16"])
            .arg(&file)
            .args(["synth", "20", "sine", &hz.to_string(), "vol", "0.5"]),
        Duration::from_secs(20),
    );
    assert!(out.success(), "sox: {}", out.all());
    file
}

/// Starts baresip for `extension` playing `hz`, auto-answering, recording what it receives
/// (sndfile module), optionally dialling `dial` once registered, quitting after `seconds`.
fn start_phone(
    server: &Server,
    extension: &str,
    hz: u32,
    dial: Option<&str>,
    seconds: u32,
) -> Phone {
    let bin = require_tool("baresip", "baresip");
    let dir = tempfile::Builder::new()
        .prefix("strowger-baresip-call-")
        .tempdir()
        .expect("temporary directory");
    let source = tone(dir.path(), hz);
    let snd = dir.path().join("snd");
    std::fs::create_dir_all(&snd).expect("snd dir");
    // baresip also binds TLS on the next port: keep a gap.
    let port = loop {
        let p = free_port();
        if p < 65000 && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            break p;
        }
    };
    let config = format!(
        "poll_method epoll\nsip_listen 127.0.0.1:{port}\n\
         audio_player aufile,/dev/null\naudio_alert aufile,/dev/null\n\
         audio_source aufile,{}\n\
         module_path {}\nmodule stdio.so\nmodule g711.so\nmodule aufile.so\n\
         module sndfile.so\nmodule account.so\nmodule menu.so\nsnd_path {}\n",
        source.display(),
        module_path(),
        snd.display()
    );
    std::fs::write(dir.path().join("config"), config).expect("config");
    std::fs::write(
        dir.path().join("accounts"),
        format!(
            "<sip:{extension}@{};transport=udp>;auth_pass={};answermode=auto;audio_codecs=PCMU\n",
            server.addr(),
            server.password(extension)
        ),
    )
    .expect("accounts");
    let log = std::fs::File::create(dir.path().join("baresip.log")).expect("log");
    let mut cmd = Command::new(bin);
    cmd.arg("-f")
        .arg(dir.path())
        .args(["-t", &seconds.to_string()]);
    if let Some(number) = dial {
        cmd.args(["-e", &format!("/dial sip:{number}@{}", server.addr())]);
    }
    let child = cmd
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone().expect("log")))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start baresip");
    Phone { child, dir }
}

/// (rough frequency in Hz, RMS amplitude) of what a phone received, by `sox stat`.
fn received(phone: &Phone) -> (f64, f64) {
    let snd = phone.dir.path().join("snd");
    let dec = std::fs::read_dir(&snd)
        .expect("snd dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
        .unwrap_or_else(|| panic!("no recording of received audio in {}", snd.display()));
    let out = run_bounded(
        Command::new(require_tool("sox", "sox"))
            .arg(&dec)
            .args(["-n", "stat"]),
        Duration::from_secs(20),
    );
    let text = out.all();
    let field = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split(':').nth(1))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name:?} in sox output:\n{text}"))
    };
    (field("Rough   frequency"), field("RMS     amplitude"))
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
