//! A hunt group's own queue announcement through the server with real phones (baresip):
//! the group's only member is registered but on do not disturb, so a caller waits in the
//! queue and hears the group's announcement file (an 1800 Hz tone made by sox; its zero crossings read a little low) between
//! stretches of music; sox finds the tone in what the caller's phone played.

mod common;

use common::baresip::{silence, start_controlled, tone, Baresip, Ears};
use common::Server;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn a_waiting_caller_hears_the_groups_own_announcement() {
    let server = Server::start();
    let words = tone(server.scratch(), 1800);
    let doc = format!(
        "{}\n[[hunt_groups]]\nname = \"sales\"\nnumber = \"300\"\nmembers = [\"202\"]\n\
         queue_announcement = \"{}\"\nqueue_announce_place = false\n\
         queue_announce_every_secs = 5\n",
        server.export(),
        words.display()
    );
    // A file that does not play is refused with the field's path.
    let broken = server.write_file("broken.wav", "not a wav");
    let refused = server.write_file(
        "refused.toml",
        &doc.replace(&words.display().to_string(), &broken.display().to_string()),
    );
    let out = server.cli(&["config", "apply", refused.to_str().expect("a path")]);
    assert!(!out.success());
    assert!(
        out.all().contains("hunt_groups[0].queue_announcement"),
        "{out}"
    );
    let file = server.write_file("queue.toml", &doc);
    let applied = server.cli_ok(&["config", "apply", file.to_str().expect("a path")]);
    assert!(applied.contains("reloaded"), "{applied}");

    // 202 is there but on do not disturb: callers to the group wait for it.
    let dir = Baresip::new_dir();
    let quiet = silence(dir.path());
    let (_p202, _member) = start_controlled(&server, "202", dir, &quiet, &[], "");
    server.set_user_settings(&[("user202", "dnd", "true")]);

    let dir = Baresip::new_dir();
    let quiet = silence(dir.path());
    let (ears, config) = Ears::new(dir.path());
    let (_p201, mut caller) = start_controlled(&server, "201", dir, &quiet, &["alsa"], &config);
    caller.command("dial", &format!("sip:300@{}", server.addr()));
    caller.wait_event("CALL_ESTABLISHED", LIMIT);
    std::thread::sleep(Duration::from_secs(6));
    let calls = server.cli_ok(&["calls"]);
    assert!(calls.contains("300"), "{calls}");
    caller.command("hangup", "");
    caller.wait_event("CALL_CLOSED", LIMIT);
    let band = ears.heard_in_band(1750, 1850);
    eprintln!("201 heard, 1750-1850 Hz: {band:?}");
    assert!(
        (1650.0..1900.0).contains(&band.frequency) && band.rms > 0.05,
        "the group's announcement was not heard: {band:?}"
    );
}
