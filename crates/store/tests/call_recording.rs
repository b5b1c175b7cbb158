//! Call recording settings and the voicemail channel pool in the document: `record_calls`
//! on users and hunt groups, `[calls] record_keys`, `[voicemail]` channels and
//! reservations — read, checked with their field paths, exported and compared.

mod common;

use common::{base_document, errors_of};
use store::Config;

/// `[calls]` and `[voicemail]` go before the arrays of tables in a document.
fn with_sections(sections: &str) -> String {
    format!("{sections}\n{}", base_document())
}

#[test]
fn defaults_without_the_fields() {
    let c = Config::from_toml(&base_document(), None).unwrap();
    assert_eq!(c.voicemail.channels, 250);
    assert_eq!(
        (
            c.voicemail.reserve_mailbox,
            c.voicemail.reserve_attendant,
            c.voicemail.reserve_recording
        ),
        (0, 0, 0)
    );
    assert_eq!(c.calls.record_keys, "*1");
    assert!(!c.users[0].record_calls);
}

#[test]
fn users_and_hunt_groups_record_their_calls() {
    let doc = base_document().replace(
        "extension = \"201\"\n",
        "extension = \"201\"\nrecord_calls = true\n",
    ) + "\n[[hunt_groups]]\nname = \"sales\"\nnumber = \"300\"\nmembers = [\"201\", \"202\"]\nrecord_calls = true\n";
    let c = Config::from_toml(&doc, None).unwrap();
    assert!(c.users[0].record_calls);
    assert!(c.hunt_groups[0].record_calls);
    let back = Config::from_toml(&c.to_toml(), None).unwrap();
    assert_eq!(back, c);
    let before = Config::from_toml(&base_document(), None).unwrap();
    let changes = store::changes(&before, &c);
    assert!(
        changes.contains(&"user alice record_calls false -> true".to_string()),
        "{changes:?}"
    );
    let bad = doc.replacen("record_calls = true", "record_calls = 1", 1);
    let errors = errors_of(&bad);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("users[0].record_calls")),
        "{errors:?}"
    );
}

#[test]
fn reservations_beyond_the_pool_are_refused_with_the_path_and_the_sums() {
    let errors = errors_of(&with_sections(
        "[voicemail]\nchannels = 10\nreserve_mailbox = 6\nreserve_recording = 5\n",
    ));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("voicemail.reserve_recording")
            && errors[0].contains("add up to 11 channels, more than the 10"),
        "{}",
        errors[0]
    );
    let fits =
        with_sections("[voicemail]\nchannels = 10\nreserve_mailbox = 5\nreserve_recording = 5\n");
    assert!(errors_of(&fits).is_empty());
}

#[test]
fn a_pool_of_none_and_unknown_keys_are_refused() {
    let errors = errors_of(&with_sections("[voicemail]\nchannels = 0\n"));
    assert!(errors[0].starts_with("voicemail.channels"), "{errors:?}");
    let errors = errors_of(&with_sections("[voicemail]\nchanels = 3\n"));
    assert!(errors[0].starts_with("voicemail.chanels"), "{errors:?}");
}

#[test]
fn record_keys_are_two_to_eight_telephone_keys_or_none() {
    for good in ["##9", "", "*1"] {
        let doc = with_sections(&format!("[calls]\nrecord_keys = {good:?}\n"));
        assert!(errors_of(&doc).is_empty(), "{good:?}");
    }
    for bad in ["*a", "*", "*123456789"] {
        let errors = errors_of(&with_sections(&format!("[calls]\nrecord_keys = {bad:?}\n")));
        assert_eq!(errors.len(), 1, "{bad}: {errors:?}");
        assert!(errors[0].starts_with("calls.record_keys"), "{errors:?}");
    }
}

#[test]
fn the_pool_is_exported_and_compared() {
    let doc = with_sections(
        "[voicemail]\nchannels = 40\nreserve_attendant = 2\n[calls]\nrecord_keys = \"#7\"\n",
    );
    let c = Config::from_toml(&doc, None).unwrap();
    let text = c.to_toml();
    assert!(text.contains("[voicemail]\nchannels = 40\n"), "{text}");
    let back = Config::from_toml(&text, None).unwrap();
    assert_eq!(back, c);
    let before = Config::from_toml(&base_document(), None).unwrap();
    let changes = store::changes(&before, &c);
    for line in [
        "voicemail.channels 250 -> 40",
        "voicemail.reserve_attendant 0 -> 2",
        "calls.record_keys \"*1\" -> \"#7\"",
    ] {
        assert!(changes.iter().any(|l| l == line), "{line} in {changes:?}");
    }
}
