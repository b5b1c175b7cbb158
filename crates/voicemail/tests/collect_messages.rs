//! Listening to messages: the envelope and the audio, new becoming old, and the keys that
//! delete, save, forward, call back and move about, with the store checked after each.

mod common;

use common::call::{Call, T0};
use common::{envelope, leave_message, mailbox, open_store};
use voicemail::dialogue::{Collect, CollectEntry, CollectSettings, Dialogue};
use voicemail::{MailboxId, Message, MessageKind, MessageState, MessageStore, NewMessage};

fn lookup() -> voicemail::dialogue::MailboxLookup {
    Box::new(|typed: &str| {
        ["201", "202", "203"]
            .contains(&typed)
            .then(|| MailboxId::new(typed).expect("valid"))
    })
}

/// Mailbox 201 with two new messages, from 202 then 203, and the caller in its main menu
/// (the menu has finished playing).
fn two_new() -> (tempfile::TempDir, Call<Collect>, Message, Message) {
    let (dir, mut store) = open_store();
    let mb = mailbox("201");
    let first = leave_message(&mut store, &mb, 2000, envelope("202", 100, false));
    let second = leave_message(&mut store, &mb, 3000, envelope("203", 200, false));
    let call = in_main_menu(store);
    (dir, call, first, second)
}

fn in_main_menu(mut store: MessageStore) -> Call<Collect> {
    let d = Collect::start(
        T0,
        CollectEntry::Trusted(mailbox("201")),
        CollectSettings::default(),
        lookup(),
        &mut store,
    );
    let mut call = Call::new(d, store);
    call.first();
    call.play_ends();
    call
}

/// "Message N from 2 0 x" and the audio.
fn message_from(place: &str, from: &str, m: &Message) -> String {
    format!("vm-message {place} vm-from {from} [message {}]", m.id)
}

fn state(call: &Call<Collect>, m: &Message) -> Option<MessageState> {
    call.store.message(m.id).unwrap().map(|m| m.state)
}

#[test]
fn new_messages_play_in_order_and_become_old() {
    let (_dir, mut call, first, second) = two_new();
    let from_202 = message_from("number-1", "number-2 number-0 number-2", &first);
    let from_203 = message_from("number-2", "number-2 number-0 number-3", &second);
    assert_eq!(
        call.key('1'),
        ["changed 201", format!("play {from_202}").as_str()]
    );
    assert_eq!(state(&call, &first), Some(MessageState::Old));
    assert_eq!(state(&call, &second), Some(MessageState::New));
    assert_eq!(call.play_ends(), ["play vm-message-options"]);
    assert_eq!(call.play_ends(), Vec::<String>::new());
    assert_eq!(
        call.key('6'),
        ["changed 201", format!("play {from_203}").as_str()]
    );
    assert_eq!(state(&call, &second), Some(MessageState::Old));
    call.play_ends();
    assert_eq!(
        call.key('6'),
        ["stop", "play vm-no-more-messages vm-main-menu"]
    );
    assert_eq!(call.store.counts(&mailbox("201")).unwrap().new, 0);

    // Now both are "saved" (heard), and 1 finds nothing new.
    call.play_ends();
    assert_eq!(call.key('1'), ["play vm-no-messages vm-main-menu"]);
    assert_eq!(
        call.key('2'),
        ["stop", format!("play {from_202}").as_str()],
        "heard messages are played again under 2, and do not change the mailbox"
    );
}

#[test]
fn seven_deletes_and_the_next_message_follows() {
    let (_dir, mut call, first, second) = two_new();
    call.key('1');
    assert_eq!(
        call.key('7'),
        [
            "stop",
            "changed 201",
            format!(
                "play vm-message-deleted {}",
                message_from("number-1", "number-2 number-0 number-3", &second)
            )
            .as_str(),
        ]
    );
    assert_eq!(state(&call, &first), None);
    let dir = call.store.mailbox_dir(&mailbox("201"));
    assert!(!dir.join(&first.file).exists(), "the file is gone");
    call.play_ends();
    assert_eq!(
        call.key('7'),
        [
            "stop",
            "changed 201",
            "play vm-message-deleted vm-no-more-messages vm-main-menu"
        ]
    );
    assert_eq!(
        call.store.counts(&mailbox("201")).unwrap(),
        Default::default()
    );
}

#[test]
fn nine_saves_and_moves_on() {
    let (_dir, mut call, first, second) = two_new();
    call.key('1');
    call.play_ends();
    assert_eq!(
        call.key('9'),
        [
            "stop",
            "changed 201",
            format!(
                "play vm-message-kept {}",
                message_from("number-2", "number-2 number-0 number-3", &second)
            )
            .as_str(),
        ]
    );
    assert_eq!(state(&call, &first), Some(MessageState::Saved));
    assert_eq!(state(&call, &second), Some(MessageState::Old));
}

#[test]
fn eight_forwards_to_another_mailbox_which_gets_the_message() {
    let (_dir, mut call, first, _) = two_new();
    call.key('1');
    call.play_ends();
    assert_eq!(call.key('8'), ["stop", "play vm-forward-to"]);
    // Not a mailbox, or this one: refused.
    assert_eq!(
        call.keys("999#"),
        ["stop", "play vm-no-such-mailbox vm-message-options"]
    );
    call.key('8');
    assert_eq!(
        call.keys("201#"),
        ["stop", "play vm-no-such-mailbox vm-message-options"]
    );
    call.key('8');
    assert_eq!(
        call.keys("20*"),
        ["stop", "play vm-message-options"],
        "* cancels"
    );
    call.key('8');
    assert_eq!(
        call.keys("203#"),
        [
            "stop",
            "changed 203",
            "play vm-message-forwarded vm-message-options"
        ]
    );
    let copies = call
        .store
        .messages(&mailbox("203"), MessageState::New)
        .unwrap();
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0].forwarded_from, Some(mailbox("201")));
    assert_eq!(copies[0].caller_number.as_deref(), Some("202"));
    assert_eq!(copies[0].received_at, T0 / 1000);
    assert_eq!(
        call.store.read_audio(&copies[0]).unwrap(),
        call.store.read_audio(&first).unwrap()
    );
    assert_eq!(
        state(&call, &first),
        Some(MessageState::Old),
        "the original stays"
    );
}

#[test]
fn zero_calls_the_caller_back() {
    let (_dir, mut call, _, _) = two_new();
    call.key('1');
    assert_eq!(call.key('0'), ["stop", "play vm-please-hold"]);
    assert!(!call.d.is_finished());
    assert_eq!(call.key('6'), Vec::<String>::new(), "keys do nothing now");
    assert_eq!(call.play_ends(), ["transfer to 202"]);
    assert!(call.d.is_finished());
}

#[test]
fn an_anonymous_message_says_so_and_cannot_be_called_back() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    let anonymous = NewMessage {
        kind: MessageKind::Message,
        caller_number: None,
        caller_name: None,
        received_at: 100,
        urgent: false,
    };
    let m = leave_message(&mut store, &mb, 2000, anonymous);
    let mut call = in_main_menu(store);
    assert_eq!(
        call.key('1'),
        [
            "changed 201",
            format!(
                "play vm-message number-1 vm-from-unknown [message {}]",
                m.id
            )
            .as_str()
        ]
    );
    assert_eq!(
        call.key('0'),
        ["stop", "play vm-no-caller-number vm-message-options"]
    );
}

#[test]
fn moving_about_previous_repeat_skip_and_back_to_the_menu() {
    let (_dir, mut call, first, second) = two_new();
    let one = format!(
        "play {}",
        message_from("number-1", "number-2 number-0 number-2", &first)
    );
    let two = format!(
        "play {}",
        message_from("number-2", "number-2 number-0 number-3", &second)
    );
    call.key('1');
    assert_eq!(
        call.key('4'),
        [
            "stop".to_string(),
            one.replace("play ", "play vm-first-message ")
        ]
    );
    assert_eq!(call.key('5'), ["stop".to_string(), one.clone()]);
    // # while it plays: to the end, the options; # after: the next message.
    assert_eq!(call.key('#'), ["stop", "play vm-message-options"]);
    assert_eq!(
        call.key('#'),
        ["stop".to_string(), "changed 201".into(), two.clone()]
    );
    assert_eq!(call.key('4'), ["stop".to_string(), one]);
    assert_eq!(call.key('1'), Vec::<String>::new(), "1 means nothing here");
    assert_eq!(call.key('*'), ["stop", "play vm-main-menu"]);
    assert_eq!(call.key('*'), ["stop", "play vm-main-menu"]);
    assert_eq!(call.key('#'), ["stop", "play vm-goodbye"]);
    assert_eq!(call.play_ends(), ["hang up"]);
}

#[test]
fn urgent_messages_come_first_and_say_so() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    leave_message(&mut store, &mb, 2000, envelope("202", 100, false));
    let urgent = leave_message(&mut store, &mb, 2000, envelope("203", 200, true));
    let mut call = in_main_menu(store);
    assert_eq!(
        call.key('1'),
        [
            "changed 201".to_string(),
            format!(
                "play vm-urgent {}",
                message_from("number-1", "number-2 number-0 number-3", &urgent)
            )
        ]
    );
}

#[test]
fn saved_messages_are_the_old_and_the_saved_ones_in_order() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    let old = leave_message(&mut store, &mb, 2000, envelope("202", 300, false));
    let saved = leave_message(&mut store, &mb, 2000, envelope("203", 100, false));
    leave_message(&mut store, &mb, 2000, envelope("204", 50, false));
    store.mark_old(old.id).unwrap();
    store.mark_saved(saved.id).unwrap();
    let mut call = in_main_menu(store);
    assert_eq!(
        call.key('2'),
        [format!(
            "play {}",
            message_from("number-1", "number-2 number-0 number-3", &saved)
        )]
    );
    call.play_ends();
    assert_eq!(
        call.key('6'),
        [
            "stop".to_string(),
            format!(
                "play {}",
                message_from("number-2", "number-2 number-0 number-2", &old)
            )
        ]
    );
}

#[test]
fn unanswered_message_options_end_the_call() {
    let (_dir, mut call, _, _) = two_new();
    call.key('1');
    call.play_ends();
    for _ in 0..3 {
        call.play_ends();
        assert_eq!(call.wait(5000), ["play vm-message-options"]);
    }
    call.play_ends();
    assert_eq!(call.wait(5000), ["play vm-goodbye"]);
    assert_eq!(call.play_ends(), ["hang up"]);
}
