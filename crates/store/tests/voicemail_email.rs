//! Voicemail email in the document: the mail server (`[system.smtp]`) and each user's
//! address and mode — defaults, the export round trip (through the SQLite store too),
//! every rule with its path and reason, audit lines, and the password kept out of `Debug`
//! and audit lines.

mod common;

use common::{assert_rejected_with, base_document, errors_of};
use store::{changes, Config, SmtpSettings, VoicemailEmailMode};

/// The base document (alice on 201) with `[system.smtp]` holding `smtp` (none when `None`)
/// and `user` added to alice's fields.
fn doc(smtp: Option<&str>, user: &str) -> String {
    let mut text = base_document();
    if let Some(fields) = smtp {
        text = text.replacen(
            "\n[[users]]",
            &format!("\n[system.smtp]\n{fields}\n[[users]]"),
            1,
        );
    }
    text.replacen(
        "extension = \"201\"\n",
        &format!("extension = \"201\"\n{user}\n"),
        1,
    )
}

const SMTP: &str = "server = \"mail.example.com\"\nfrom = \"voicemail@example.com\"";

fn parse(text: &str) -> Config {
    Config::from_toml(text, None).unwrap_or_else(|e| panic!("rejected:\n{e}\n---\n{text}"))
}

#[test]
fn without_the_settings_no_email_is_sent() {
    let c = parse(&base_document());
    assert_eq!(c.system.smtp, None);
    let alice = c.user("alice").expect("alice");
    assert_eq!(alice.voicemail_email, None);
    assert_eq!(alice.voicemail_email_mode, VoicemailEmailMode::Off);
    let text = c.to_toml();
    assert!(
        text.contains("# [system.smtp]: none, so no voicemail email is sent\n"),
        "{text}"
    );
    assert!(
        text.contains("\nvoicemail_email_mode = \"off\"\n"),
        "{text}"
    );
    assert_eq!(parse(&text), c);
}

#[test]
fn the_smallest_server_section_takes_the_defaults() {
    let c = parse(&doc(
        Some(SMTP),
        "voicemail_email = \"alice@example.com\"\nvoicemail_email_mode = \"notify\"",
    ));
    assert_eq!(
        c.system.smtp,
        Some(SmtpSettings::new(
            "mail.example.com",
            "voicemail@example.com"
        ))
    );
    let smtp = c.system.smtp.as_ref().expect("smtp");
    assert_eq!((smtp.port, smtp.starttls), (25, false));
    assert_eq!((&smtp.username, &smtp.password), (&None, &None));
    let alice = c.user("alice").expect("alice");
    assert_eq!(alice.voicemail_email.as_deref(), Some("alice@example.com"));
    assert_eq!(alice.voicemail_email_mode, VoicemailEmailMode::Notify);
}

#[test]
fn every_field_round_trips_through_the_export_and_the_store() {
    let c = parse(&doc(
        Some(
            "server = \"192.0.2.25\"\nport = 587\nfrom = \"pbx+vm@example.com\"\n\
             starttls = true\nusername = \"pbx\"\npassword = \"s3cret \\\"quoted\\\"\"",
        ),
        "voicemail_email = \"alice.example@example.co.uk\"\nvoicemail_email_mode = \"forward\"",
    ));
    let smtp = c.system.smtp.clone().expect("smtp");
    assert_eq!(
        smtp,
        SmtpSettings {
            server: "192.0.2.25".into(),
            port: 587,
            from: "pbx+vm@example.com".into(),
            starttls: true,
            username: Some("pbx".into()),
            password: Some("s3cret \"quoted\"".into()),
        }
    );
    let text = c.to_toml();
    for expected in [
        "\n[system.smtp]\nserver = \"192.0.2.25\"\nport = 587\nfrom = \"pbx+vm@example.com\"\n\
         starttls = true\nusername = \"pbx\"\npassword = \"s3cret \\\"quoted\\\"\"\n",
        "\nvoicemail_email = \"alice.example@example.co.uk\"\nvoicemail_email_mode = \"forward\"\n",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
    let back = parse(&text);
    assert_eq!(back, c);
    assert_eq!(back.to_toml(), text);
    assert!(changes(&c, &back).is_empty());

    // The store keeps the document as exported: the password must survive it, since the
    // server needs it in plain.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = store::Store::open(dir.path()).expect("open");
    store.apply(&c, "admin", "test").expect("apply");
    assert_eq!(store.current().expect("current"), Some((1, c)));
}

#[test]
fn each_mode_has_its_name() {
    for (name, mode) in [
        ("off", VoicemailEmailMode::Off),
        ("notify", VoicemailEmailMode::Notify),
        ("copy", VoicemailEmailMode::Copy),
        ("forward", VoicemailEmailMode::Forward),
    ] {
        let c = parse(&doc(
            Some(SMTP),
            &format!("voicemail_email = \"a@example.com\"\nvoicemail_email_mode = \"{name}\""),
        ));
        assert_eq!(c.user("alice").expect("alice").voicemail_email_mode, mode);
        assert_eq!(mode.as_str(), name);
        assert_eq!(VoicemailEmailMode::parse(name), Some(mode));
    }
    // An address without a mode is kept, and sends nothing.
    let c = parse(&doc(None, "voicemail_email = \"a@example.com\""));
    assert_eq!(
        c.user("alice").expect("alice").voicemail_email_mode,
        VoicemailEmailMode::Off
    );
}

#[test]
fn the_server_section_is_checked_field_by_field() {
    let cases: &[(&str, &str)] = &[
        (
            "from = \"vm@example.com\"",
            "system.smtp.server: required field missing",
        ),
        (
            "server = \"mail.example.com\"",
            "system.smtp.from: required field missing",
        ),
        (
            "server = \"mail example.com\"\nfrom = \"vm@example.com\"",
            "system.smtp.server: must be a host name (mail.example.com) or an IP address \
             (got \"mail example.com\")",
        ),
        (
            "server = \"mail.example.com:25\"\nfrom = \"vm@example.com\"",
            "system.smtp.server: must be a host name (mail.example.com) or an IP address \
             (got \"mail.example.com:25\")",
        ),
        (
            "server = \"mail.example.com\"\nfrom = \"Voicemail <vm@example.com>\"",
            "system.smtp.from: must be an email address such as name@example.com \
             (got \"Voicemail <vm@example.com>\")",
        ),
        (
            "server = \"mail.example.com\"\nfrom = \"vm@example.com\"\nport = 0",
            "system.smtp.port: must be between 1 and 65535 (got 0)",
        ),
        (
            "server = \"mail.example.com\"\nfrom = \"vm@example.com\"\nport = 65536",
            "system.smtp.port: must be between 1 and 65535 (got 65536)",
        ),
        (
            "server = \"mail.example.com\"\nfrom = \"vm@example.com\"\nport = \"25\"",
            "system.smtp.port: must be a whole number (got string)",
        ),
        (
            "server = \"mail.example.com\"\nfrom = \"vm@example.com\"\nstarttls = \"yes\"",
            "system.smtp.starttls: must be true or false (got string)",
        ),
        (
            "server = \"mail.example.com\"\nfrom = \"vm@example.com\"\nusername = \"pbx\"",
            "system.smtp.password: required when username is set (username and password \
             go together)",
        ),
        (
            "server = \"mail.example.com\"\nfrom = \"vm@example.com\"\npassword = \"x\"",
            "system.smtp.username: required when password is set (username and password \
             go together)",
        ),
        (
            "server = \"mail.example.com\"\nfrom = \"vm@example.com\"\nusername = \"\"\n\
             password = \"x\"",
            "system.smtp.username: must be 1 to 512 characters without control characters",
        ),
        (
            "server = \"mail.example.com\"\nfrom = \"vm@example.com\"\ntls = true",
            "system.smtp.tls: unknown field",
        ),
    ];
    for (fields, expected) in cases {
        assert_rejected_with(&doc(Some(fields), ""), expected);
    }
    // A wrong type for the whole section.
    let text = base_document().replacen("realm = \"test\"\n", "realm = \"test\"\nsmtp = 25\n", 1);
    assert_rejected_with(&text, "system.smtp: must be a table (got integer)");
}

#[test]
fn a_bad_password_is_refused_without_being_repeated() {
    let errors = errors_of(&doc(
        Some(&format!(
            "{SMTP}\nusername = \"pbx\"\npassword = \"Secret-Tab\\tInside\""
        )),
        "",
    ));
    assert_eq!(
        errors,
        ["system.smtp.password: must be 1 to 512 characters without control characters"]
    );
}

#[test]
fn users_email_settings_are_checked_with_their_paths() {
    assert_rejected_with(
        &doc(Some(SMTP), "voicemail_email = \"alice at example.com\""),
        "users[0].voicemail_email: must be an email address such as name@example.com \
         (got \"alice at example.com\")",
    );
    assert_rejected_with(
        &doc(
            Some(SMTP),
            "voicemail_email = \"a@example.com\"\nvoicemail_email_mode = \"attach\"",
        ),
        "users[0].voicemail_email_mode: unknown mode \"attach\" (expected off, notify, copy \
         or forward)",
    );
    assert_rejected_with(
        &doc(Some(SMTP), "voicemail_email_mode = \"copy\""),
        "users[0].voicemail_email_mode: \"copy\" needs voicemail_email, the address to send to",
    );
    assert_rejected_with(
        &doc(
            None,
            "voicemail_email = \"a@example.com\"\nvoicemail_email_mode = \"forward\"",
        ),
        "users[0].voicemail_email_mode: \"forward\" needs a mail server: add [system.smtp] \
         with server and from",
    );
    // A rejected address is reported once, not again as a missing one.
    let errors = errors_of(&doc(
        Some(SMTP),
        "voicemail_email = 7\nvoicemail_email_mode = \"notify\"",
    ));
    assert_eq!(
        errors,
        ["users[0].voicemail_email: must be a string (got integer: write it in quotes)"]
    );
    // A server section rejected whole is not blamed on the user as well.
    let text = doc(
        None,
        "voicemail_email = \"a@example.com\"\nvoicemail_email_mode = \"notify\"",
    )
    .replacen("realm = \"test\"\n", "realm = \"test\"\nsmtp = 25\n", 1);
    assert_eq!(
        errors_of(&text),
        ["system.smtp: must be a table (got integer)"]
    );
}

#[test]
fn the_audit_says_what_changed_but_never_the_password() {
    let base = parse(&doc(None, ""));
    let mut with = base.clone();
    let mut smtp = SmtpSettings::new("mail.example.com", "vm@example.com");
    with.system.smtp = Some(smtp.clone());
    assert_eq!(
        changes(&base, &with),
        ["system.smtp added (mail.example.com:25)"]
    );
    assert_eq!(changes(&with, &base), ["system.smtp removed"]);

    let mut changed = with.clone();
    smtp.port = 587;
    smtp.starttls = true;
    smtp.from = "pbx@example.com".into();
    smtp.username = Some("pbx".into());
    smtp.password = Some("Very-Secret-1".into());
    changed.system.smtp = Some(smtp.clone());
    changed.users[0].voicemail_email = Some("alice@example.com".into());
    changed.users[0].voicemail_email_mode = VoicemailEmailMode::Copy;
    assert_eq!(
        changes(&with, &changed),
        [
            "system.smtp.port 25 -> 587",
            "system.smtp.from vm@example.com -> pbx@example.com",
            "system.smtp.starttls false -> true",
            "system.smtp.username (none) -> pbx",
            "system.smtp.password set",
            "user alice voicemail_email (none) -> alice@example.com",
            "user alice voicemail_email_mode off -> copy",
        ]
    );
    let mut again = changed.clone();
    smtp.password = Some("Other-Secret-2".into());
    again.system.smtp = Some(smtp.clone());
    assert_eq!(changes(&changed, &again), ["system.smtp.password changed"]);
    smtp.password = None;
    smtp.username = None;
    let mut removed = again.clone();
    removed.system.smtp = Some(smtp);
    assert_eq!(
        changes(&again, &removed),
        [
            "system.smtp.username pbx -> (none)",
            "system.smtp.password removed"
        ]
    );
    let all = [
        changes(&with, &changed),
        changes(&changed, &again),
        changes(&again, &removed),
    ]
    .concat()
    .concat();
    assert!(!all.contains("Secret"), "{all}");
}

#[test]
fn debug_output_hides_the_password() {
    let c = parse(&doc(
        Some(&format!(
            "{SMTP}\nusername = \"pbx\"\npassword = \"Do-Not-Log-Me-42\""
        )),
        "",
    ));
    let shown = format!("{c:?}");
    assert!(!shown.contains("Do-Not-Log-Me-42"), "{shown}");
    assert!(shown.contains("password: Some(\"<hidden>\")"), "{shown}");
    assert!(shown.contains("username: Some(\"pbx\")"), "{shown}");
}
