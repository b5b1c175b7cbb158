//! Hunt-group mailboxes in the document: `voicemail`, `voicemail_secs` and the group's
//! email settings — defaults, the export round trip, the rules with their paths, audit
//! lines, and call flows that name a group's mailbox; and the group's own queue
//! announcement settings.

mod common;

use common::{assert_rejected_with, base_document};
use store::{changes, Config, VoicemailEmailMode};

/// The base document (alice on 201) with a hunt group "sales" on 300 whose table ends
/// with `fields`, and `extra` before everything.
fn doc(extra: &str, fields: &str) -> String {
    format!(
        "{extra}\n[[hunt_groups]]\nname = \"sales\"\nnumber = \"300\"\nmembers = [\"201\", \"202\"]\n\
         {fields}\n{}",
        base_document()
    )
}

const SMTP: &str = "[system.smtp]\nserver = \"mail.example.com\"\nfrom = \"vm@example.com\"\n";

fn parse(text: &str) -> Config {
    Config::from_toml(text, None).unwrap_or_else(|e| panic!("rejected:\n{e}\n---\n{text}"))
}

#[test]
fn a_group_has_no_mailbox_unless_it_asks_for_one() {
    let c = parse(&doc("", ""));
    let g = &c.hunt_groups[0];
    assert!(!g.voicemail);
    assert_eq!(g.voicemail_secs, 45);
    assert_eq!(g.voicemail_email, None);
    assert_eq!(g.voicemail_email_mode, VoicemailEmailMode::Off);
    assert!(!c.has_mailbox("300"));
    // alice's own mailbox is there by default; an extension without a user has none.
    assert!(c.has_mailbox("201"));
    assert!(!c.has_mailbox("202"));
}

#[test]
fn group_mailbox_settings_round_trip_and_are_audited() {
    // [system.smtp] must come before the first array of tables of [system]'s document.
    let text = doc(
        "",
        "voicemail = true\nvoicemail_secs = 30\nvoicemail_email = \"sales@example.com\"\n\
         voicemail_email_mode = \"copy\"",
    )
    .replacen("\n[[users]]", &format!("\n{SMTP}\n[[users]]"), 1);
    let c = parse(&text);
    let g = &c.hunt_groups[0];
    assert!(g.voicemail);
    assert_eq!(g.voicemail_secs, 30);
    assert_eq!(g.voicemail_email.as_deref(), Some("sales@example.com"));
    assert_eq!(g.voicemail_email_mode, VoicemailEmailMode::Copy);
    assert!(c.has_mailbox("300"));

    let again = parse(&c.to_toml());
    assert_eq!(again, c, "export and read back give the same configuration");

    let before = parse(&doc("", ""));
    let lines = changes(&before, &c);
    for expected in [
        "hunt group sales voicemail false -> true",
        "hunt group sales voicemail_secs 45 -> 30",
        "hunt group sales voicemail_email (none) -> sales@example.com",
        "hunt group sales voicemail_email_mode off -> copy",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected:?} not among {lines:#?}"
        );
    }
}

#[test]
fn group_mailbox_rules() {
    assert_rejected_with(
        &doc("", "voicemail = true\nvoicemail_secs = 4"),
        "hunt_groups[0].voicemail_secs: must be between 5 and 3600 (got 4)",
    );
    assert_rejected_with(
        &doc("", "voicemail_email = \"not an address\""),
        "hunt_groups[0].voicemail_email: must be an email address such as name@example.com \
         (got \"not an address\")",
    );
    assert_rejected_with(
        &doc("", "voicemail_email_mode = \"notify\""),
        "hunt_groups[0].voicemail_email_mode: \"notify\" needs voicemail_email, the address \
         to send to",
    );
    assert_rejected_with(
        &doc(
            "",
            "voicemail_email = \"sales@example.com\"\nvoicemail_email_mode = \"notify\"",
        ),
        "hunt_groups[0].voicemail_email_mode: \"notify\" needs a mail server: add \
         [system.smtp] with server and from",
    );
    assert_rejected_with(
        &doc("", "voicemail_email_mode = \"shout\""),
        "hunt_groups[0].voicemail_email_mode: unknown mode \"shout\" (expected off, notify, \
         copy or forward)",
    );
}

#[test]
fn call_flows_may_leave_mail_in_a_group_mailbox() {
    let flow = "[[call_flows]]\nname = \"desk\"\nnumber = \"800\"\nstart = \"msg\"\n\
                [[call_flows.steps]]\nname = \"msg\"\naction = \"leave_mail\"\nmailbox = \"300\"\n";
    let c = parse(&format!("{flow}\n{}", doc("", "voicemail = true")));
    assert_eq!(c.call_flows.len(), 1);
    assert_rejected_with(
        &format!("{flow}\n{}", doc("", "")),
        "call_flows[0].steps[0].mailbox: no mailbox \"300\" (a user's extension or a hunt \
         group's number, with voicemail)",
    );
}

#[test]
fn queue_announcement_settings_round_trip_with_their_rules() {
    let c = parse(&doc("", ""));
    let g = &c.hunt_groups[0];
    assert_eq!(g.queue_announcement, None);
    assert!(g.queue_announce_place);
    assert_eq!(g.queue_announce_every_secs, 20);

    let c = parse(&doc(
        "",
        "queue_announcement = \"sounds/busy.wav\"\nqueue_announce_place = false\n\
         queue_announce_every_secs = 45",
    ));
    let g = &c.hunt_groups[0];
    assert_eq!(g.queue_announcement.as_deref(), Some("sounds/busy.wav"));
    assert!(!g.queue_announce_place);
    assert_eq!(g.queue_announce_every_secs, 45);
    assert_eq!(parse(&c.to_toml()), c);
    let lines = changes(&parse(&doc("", "")), &c);
    assert!(
        lines.contains(&"hunt group sales queue_announce_every_secs 20 -> 45".to_string()),
        "{lines:#?}"
    );

    assert_rejected_with(
        &doc("", "queue_announce_every_secs = 1"),
        "hunt_groups[0].queue_announce_every_secs: must be between 5 and 600 (got 1)",
    );
    assert_rejected_with(
        &doc("", "queue_announcement = \"\""),
        "hunt_groups[0].queue_announcement: must be the path of a WAV file: 1 to 1024 bytes \
         without control characters",
    );
}
