//! `music_on_hold` in `[system]`, `[[users]]` and `[[hunt_groups]]`: read, checked for
//! form (the binary checks that the file plays), exported and read back unchanged, and
//! reported in the change summary.

mod common;

use common::*;
use store::{changes, Config};

fn document(system: &str, user: &str, group: &str) -> String {
    base_document()
        .replace("realm = \"test\"\n", &format!("realm = \"test\"\n{system}"))
        .replace(
            "extension = \"201\"\n",
            &format!("extension = \"201\"\n{user}"),
        )
        + &format!(
            "\n[[hunt_groups]]\nname = \"sales\"\nnumber = \"300\"\nmembers = [\"202\"]\n{group}"
        )
}

#[test]
fn read_exported_and_read_back() {
    let text = document(
        "music_on_hold = \"moh/office.wav\"\n",
        "music_on_hold = \"/srv/moh/alice.wav\"\n",
        "music_on_hold = \"moh/sales \\\"2026\\\".wav\"\n",
    );
    let config = Config::from_toml(&text, None).expect("valid");
    assert_eq!(
        config.system.music_on_hold.as_deref(),
        Some("moh/office.wav")
    );
    assert_eq!(
        config.users[0].music_on_hold.as_deref(),
        Some("/srv/moh/alice.wav")
    );
    assert_eq!(
        config.hunt_groups[0].music_on_hold.as_deref(),
        Some("moh/sales \"2026\".wav")
    );
    let exported = config.to_toml();
    assert!(
        exported.contains("music_on_hold = \"moh/office.wav\""),
        "{exported}"
    );
    let again = Config::from_toml(&exported, None).expect("the export reads back");
    assert_eq!(again, config);
}

#[test]
fn absent_means_the_built_in_and_the_systems() {
    let config = Config::from_toml(&document("", "", ""), None).unwrap();
    assert_eq!(config.system.music_on_hold, None);
    assert_eq!(config.users[0].music_on_hold, None);
    assert_eq!(config.hunt_groups[0].music_on_hold, None);
    assert!(!config.to_toml().contains("music_on_hold"));
    assert_eq!(Config::default().system.music_on_hold, None);
}

#[test]
fn a_path_must_look_like_one() {
    let reason = "must be the path of a WAV file: 1 to 1024 bytes without control characters";
    assert_rejected_with(
        &document("music_on_hold = \"\"\n", "", ""),
        &format!("system.music_on_hold: {reason}"),
    );
    assert_rejected_with(
        &document("", "music_on_hold = \"a\\tb.wav\"\n", ""),
        &format!("users[0].music_on_hold: {reason}"),
    );
    let long = "x".repeat(1025);
    assert_rejected_with(
        &document("", "", &format!("music_on_hold = \"{long}\"\n")),
        &format!("hunt_groups[0].music_on_hold: {reason}"),
    );
    let errors = errors_of(&document("music_on_hold = 5\n", "", ""));
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("system.music_on_hold: ")),
        "{errors:?}"
    );
}

#[test]
fn changes_are_summarised() {
    let old = Config::from_toml(&document("", "", ""), None).unwrap();
    let new = Config::from_toml(
        &document(
            "music_on_hold = \"moh/office.wav\"\n",
            "music_on_hold = \"moh/alice.wav\"\n",
            "music_on_hold = \"moh/sales.wav\"\n",
        ),
        None,
    )
    .unwrap();
    let lines = changes(&old, &new);
    for expected in [
        "system.music_on_hold (built-in) -> \"moh/office.wav\"",
        "user alice music_on_hold (none) -> moh/alice.wav",
        "hunt group sales music_on_hold (none) -> moh/sales.wav",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected:?} in {lines:#?}"
        );
    }
    assert!(changes(&new, &new).is_empty());
}
