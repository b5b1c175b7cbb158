//! Message waiting indication through the real binary: one message is left in 201's
//! mailbox in the server's data directory (with the voicemail crate, while the server is
//! stopped); the server reads the store when it starts, and SIPp phones learn of the
//! message by SUBSCRIBE/NOTIFY (RFC 3842) and by unsolicited NOTIFY.

mod common;

use common::callee::{register_as, Callee};
use common::{free_port, Server, Sipp};
use std::path::Path;
use voicemail::{CommitOutcome, MailboxId, MessageKind, MessageStore, NewMessage, SAMPLE_RATE};

/// Stores a two-second message from 202 in `mailbox`, as the deposit flow would.
fn leave_message(data_dir: &Path, mailbox: &str) {
    let (mut store, _) = MessageStore::open(data_dir).expect("open the voicemail store");
    let mailbox = MailboxId::new(mailbox).expect("mailbox name");
    let mut writer = store.start_recording(&mailbox).expect("start a recording");
    let samples: Vec<i16> = (0..2 * SAMPLE_RATE)
        .map(|i| if i % 16 < 8 { 4000 } else { -4000 })
        .collect();
    writer.write_samples(&samples).expect("write 2 s of audio");
    let envelope = NewMessage {
        kind: MessageKind::Message,
        caller_number: Some("202".into()),
        caller_name: None,
        received_at: 1_800_000_000,
        urgent: false,
    };
    match store.commit_message(writer, envelope).expect("commit") {
        CommitOutcome::Stored(_) => {}
        other => panic!("message not stored: {other:?}"),
    }
}

/// A server whose data directory holds one new message for 201 when it starts. The first
/// start creates the configuration (and prints the passwords); the message goes in while
/// the server is stopped, and the second start must read it.
fn server_with_a_message_for_201() -> Server {
    let mut server = Server::start();
    server.stop();
    leave_message(server.data_dir(), "201");
    server.restart();
    server
}

#[test]
fn a_phone_that_subscribes_gets_the_count_and_the_final_notify() {
    let server = server_with_a_message_for_201();
    let run = Sipp::new("mwi_subscribe_uac")
        .user("201", &server.password("201"))
        .ooc("mwi_notify_ooc")
        .expect_success(&server);
    assert!(
        run.messages
            .contains("Subscription-State: terminated;reason=timeout"),
        "{run}"
    );
    let log = server.log();
    assert!(log.contains("message-waiting subscription"), "{log}");
}

#[test]
fn a_phone_that_does_not_subscribe_gets_an_unsolicited_notify_on_registering() {
    let server = server_with_a_message_for_201();
    let port = free_port();
    let mut phone = Callee::udp("mwi_unsolicited_uas", port);
    register_as(&server, "201", port);
    phone.finish();
    let got = phone.received();
    assert!(
        got.iter()
            .any(|m| m.starts_with("NOTIFY ") && m.contains("Voice-Message: 1/0")),
        "{got:?}"
    );
}

#[test]
fn a_store_that_cannot_be_opened_is_logged_and_calls_go_on() {
    let mut server = Server::start();
    server.stop();
    // A file where the store's directory should be: the store cannot open.
    let dir = server.data_dir().join(voicemail::VOICEMAIL_DIR);
    std::fs::remove_dir_all(&dir).expect("remove the voicemail directory");
    std::fs::write(&dir, b"not a directory").expect("write a file in its place");
    server.restart();
    server.assert_alive();
    let log = server.log();
    assert!(
        log.contains("voicemail store cannot be opened"),
        "{}",
        common::tail(&log, 40)
    );
    // Registering still works, and nothing is NOTIFYed for a mailbox nobody could read.
    let run = Sipp::new("register")
        .user("201", &server.password("201"))
        .expect_success(&server);
    assert!(!run.messages.contains("NOTIFY"), "{run}");
}
