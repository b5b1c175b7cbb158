//! `music_on_hold` through the binary: `config check`/`config apply` load the files a
//! document names (relative paths from the data directory) and refuse it whole, with the
//! field's path and the reason, when one does not play; the running server loads them on
//! reload and keeps its configuration when a file has gone in the meantime; `serve` starts
//! even then, playing the system's music instead.

mod common;

use common::{require_tool, run_bounded, Server};
use std::process::Command;
use std::time::Duration;

/// Writes a 2 s 8 kHz µ-law tone at `moh/NAME` in the data directory.
fn music_file(server: &Server, name: &str) {
    let dir = server.data_dir().join("moh");
    std::fs::create_dir_all(&dir).expect("moh dir");
    let out = run_bounded(
        Command::new(require_tool("sox", "sox"))
            .args(["-n", "-r", "8000", "-c", "1", "-e", "u-law"])
            .arg(dir.join(name))
            .args(["synth", "2", "sine", "500"]),
        Duration::from_secs(20),
    );
    assert!(out.success(), "sox: {}", out.all());
}

/// The exported document with `music_on_hold = "VALUE"` in `[system]`.
fn with_system_music(exported: &str, value: &str) -> String {
    exported.replacen(
        "realm = \"strowger\"\n",
        &format!("realm = \"strowger\"\nmusic_on_hold = \"{value}\"\n"),
        1,
    )
}

#[test]
fn music_files_are_checked_when_applied_and_when_the_server_reloads() {
    let mut server = Server::start();
    let before = server.export();

    // Not there: refused by check and apply, with the path and the reason.
    let missing = server.write_file("missing.toml", &with_system_music(&before, "moh/a.wav"));
    for cmd in ["check", "apply"] {
        let out = server.cli(&["config", cmd, missing.to_str().unwrap()]);
        assert!(!out.success(), "config {cmd}: {out}");
        let text = out.all();
        assert!(
            text.contains("system.music_on_hold: ") && text.contains("cannot read it"),
            "config {cmd}: {text}"
        );
    }
    assert_eq!(server.export(), before, "nothing changed");

    // There: applied, loaded by the running server, exported.
    music_file(&server, "a.wav");
    let applied = server.cli_ok(&["config", "apply", missing.to_str().unwrap()]);
    assert!(applied.contains("reloaded"), "{applied}");
    let exported = server.export();
    assert!(
        exported.contains("music_on_hold = \"moh/a.wav\""),
        "{exported}"
    );

    // The file goes; a change that reaches the server another way (an import) is not
    // taken by it, and says why.
    std::fs::remove_file(server.data_dir().join("moh/a.wav")).unwrap();
    let csv = server.write_file(
        "one.csv",
        "number,password,name\n1001,Str0ng-Pass-Alpha,A\n",
    );
    let out = server.cli(&["import", "extensions", csv.to_str().unwrap()]);
    assert!(!out.success(), "{out}");
    let text = out.all();
    assert!(
        text.contains("music on hold does not play") && text.contains("system.music_on_hold"),
        "{text}"
    );
    server.assert_alive();

    // A restart with the file still missing starts, with the built-in music instead.
    server.restart();
    server.assert_alive();
    let log = server.log();
    assert!(
        log.contains("music on hold does not play; the system's plays instead"),
        "{}",
        common::tail(&log, 30)
    );
}
