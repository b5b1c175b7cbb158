//! Getting into a mailbox: trusted phones, PINs, the per-call limit and the store's
//! lockout, the forced PIN change, the counts said on entry, and questions that go
//! unanswered.

mod common;

use common::call::{Call, T0};
use common::{envelope, leave_message, mailbox, open_store, open_store_with};
use voicemail::dialogue::{Collect, CollectEntry, CollectSettings, Dialogue, Input};
use voicemail::{LockoutPolicy, MailboxId, MessageStore, PinCheck, StoreOptions};

/// Mailboxes 201, 202 and 203 exist; numbers name them directly.
fn lookup() -> voicemail::dialogue::MailboxLookup {
    Box::new(|typed: &str| {
        ["201", "202", "203"]
            .contains(&typed)
            .then(|| MailboxId::new(typed).expect("valid"))
    })
}

fn collect(mut store: MessageStore, entry: CollectEntry) -> Call<Collect> {
    let d = Collect::start(T0, entry, CollectSettings::default(), lookup(), &mut store);
    Call::new(d, store)
}

const EMPTY: &str =
    "play vm-you-have vm-no vm-new-messages and vm-no vm-saved-messages vm-main-menu";

#[test]
fn a_trusted_phone_hears_the_counts_with_the_right_words() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    leave_message(&mut store, &mb, 2000, envelope("202", 100, false));
    leave_message(&mut store, &mb, 2000, envelope("203", 200, false));
    let heard = leave_message(&mut store, &mb, 2000, envelope("204", 300, false));
    store.mark_old(heard.id).unwrap();
    let mut call = collect(store, CollectEntry::Trusted(mb.clone()));
    assert_eq!(
        call.first(),
        ["play vm-you-have number-2 vm-new-messages and number-1 vm-saved-message vm-main-menu"]
    );
    assert_eq!(call.d.mailbox(), Some(&mb));

    // One new; old and saved ones are both "saved": three.
    let (_dir, mut store) = open_store();
    leave_message(&mut store, &mb, 2000, envelope("202", 100, false));
    for (i, saved) in [false, true, true].into_iter().enumerate() {
        let m = leave_message(
            &mut store,
            &mb,
            2000,
            envelope("203", 200 + i as u64, false),
        );
        if saved {
            store.mark_saved(m.id).unwrap();
        } else {
            store.mark_old(m.id).unwrap();
        }
    }
    let mut call = collect(store, CollectEntry::Trusted(mb.clone()));
    assert_eq!(
        call.first(),
        ["play vm-you-have number-1 vm-new-message and number-3 vm-saved-messages vm-main-menu"]
    );

    let (_dir, store) = open_store();
    let mut call = collect(store, CollectEntry::Trusted(mb));
    assert_eq!(call.first(), [EMPTY]);
}

#[test]
fn the_right_pin_lets_the_owner_in() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    store.set_pin(&mb, "2580", false).unwrap();
    let mut call = collect(store, CollectEntry::Pin(mb.clone()));
    assert_eq!(call.first(), ["play vm-enter-pin"]);
    assert_eq!(call.d.mailbox(), None, "not in before the PIN");
    // Typing over the prompt stops it.
    assert_eq!(call.key('2'), ["stop"]);
    assert_eq!(call.keys("580"), Vec::<String>::new());
    assert_eq!(call.key('#'), [EMPTY]);
    assert_eq!(call.d.mailbox(), Some(&mb));
}

#[test]
fn three_wrong_pins_in_a_call_say_goodbye() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    store.set_pin(&mb, "2580", false).unwrap();
    let mut call = collect(store, CollectEntry::Pin(mb.clone()));
    call.first();
    call.play_ends();
    assert_eq!(call.keys("1111#"), ["play vm-wrong-pin vm-enter-pin"]);
    call.play_ends();
    assert_eq!(call.keys("1112#"), ["play vm-wrong-pin vm-enter-pin"]);
    call.play_ends();
    assert_eq!(call.keys("1113#"), ["play vm-wrong-pin vm-goodbye"]);
    assert_eq!(call.keys("2580#"), Vec::<String>::new(), "no more tries");
    assert_eq!(call.play_ends(), ["hang up"]);
    assert!(call.d.is_finished());
    assert_eq!(call.store.pin_status(&mb).unwrap().failed_attempts, 3);
}

#[test]
fn the_stores_lockout_is_told_and_outlives_the_call() {
    let options = StoreOptions {
        lockout: LockoutPolicy {
            max_failures: 2,
            lock_secs: 600,
        },
        ..StoreOptions::default()
    };
    let (_dir, mut store) = open_store_with(options);
    let mb = mailbox("201");
    store.set_pin(&mb, "2580", false).unwrap();
    let mut call = collect(store, CollectEntry::Pin(mb.clone()));
    call.first();
    assert_eq!(
        call.keys("1111#"),
        ["stop", "play vm-wrong-pin vm-enter-pin"]
    );
    assert_eq!(call.keys("1112#"), ["stop", "play vm-locked vm-goodbye"]);
    assert_eq!(call.play_ends(), ["hang up"]);

    // A minute later, the right PIN: still locked.
    let mut store = call.store;
    let d = Collect::start(
        T0 + 60_000,
        CollectEntry::Pin(mb.clone()),
        CollectSettings::default(),
        lookup(),
        &mut store,
    );
    let mut call = Call::new(d, store);
    call.now = T0 + 60_000;
    call.first();
    assert_eq!(call.keys("2580#"), ["stop", "play vm-locked vm-goodbye"]);
    assert_eq!(call.play_ends(), ["hang up"]);
    assert!(matches!(
        call.store.verify_pin(&mb, "2580", T0 / 1000 + 601),
        Ok(PinCheck::Accepted { .. })
    ));
}

#[test]
fn from_outside_mailbox_then_pin_and_unknown_mailboxes_look_like_wrong_pins() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    store.set_pin(&mb, "2580", false).unwrap();
    let mut call = collect(store, CollectEntry::AskMailbox);
    assert_eq!(call.first(), ["play vm-enter-mailbox"]);
    call.play_ends();
    assert_eq!(call.keys("999#"), ["play vm-enter-pin"]);
    call.play_ends();
    assert_eq!(call.keys("2580#"), ["play vm-wrong-pin vm-enter-mailbox"]);
    // `*` starts a number again.
    assert_eq!(call.keys("20*"), ["stop", "play vm-enter-mailbox"]);
    assert_eq!(call.keys("201#"), ["stop", "play vm-enter-pin"]);
    assert_eq!(call.keys("2580#"), ["stop", EMPTY]);
    assert_eq!(call.d.mailbox(), Some(&mb));
}

#[test]
fn a_pin_set_by_the_administrator_must_be_changed_first() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    store.set_pin(&mb, "2580", true).unwrap();
    let mut call = collect(store, CollectEntry::Pin(mb.clone()));
    call.first();
    call.play_ends();
    assert_eq!(
        call.keys("2580#"),
        ["play vm-must-change-pin vm-enter-new-pin"]
    );
    assert_eq!(call.d.mailbox(), None, "not in before the new PIN");
    // The policy's refusals are said, and the new PIN asked again.
    assert_eq!(
        call.keys("1234#"),
        ["stop", "play vm-pin-sequence vm-enter-new-pin"]
    );
    assert_eq!(
        call.keys("73#"),
        [
            "stop",
            "play vm-pin-too-short number-4 vm-digits vm-enter-new-pin"
        ]
    );
    assert_eq!(
        call.keys("201#"),
        [
            "stop",
            "play vm-pin-too-short number-4 vm-digits vm-enter-new-pin"
        ]
    );
    // A forced change cannot be escaped with `*`.
    assert_eq!(call.keys("7*"), ["stop", "play vm-enter-new-pin"]);
    assert_eq!(call.keys("7391#"), ["stop", "play vm-repeat-new-pin"]);
    assert_eq!(
        call.keys("7392#"),
        ["stop", "play vm-pins-differ vm-enter-new-pin"]
    );
    assert_eq!(call.keys("7391#"), ["stop", "play vm-repeat-new-pin"]);
    assert_eq!(
        call.keys("7391#"),
        [
            "stop",
            "play vm-pin-changed vm-you-have vm-no vm-new-messages and vm-no vm-saved-messages \
             vm-main-menu"
        ]
    );
    assert_eq!(call.d.mailbox(), Some(&mb));
    assert_eq!(
        call.store.verify_pin(&mb, "7391", T0 / 1000).unwrap(),
        PinCheck::Accepted { must_change: false }
    );
    assert!(matches!(
        call.store.verify_pin(&mb, "2580", T0 / 1000).unwrap(),
        PinCheck::Wrong { .. }
    ));
}

#[test]
fn the_pin_can_be_changed_from_the_main_menu_or_not() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("2017");
    store.set_pin(&mb, "2580", false).unwrap();
    let mut call = collect(store, CollectEntry::Trusted(mb.clone()));
    call.first();
    assert_eq!(call.key('4'), ["stop", "play vm-enter-new-pin"]);
    assert_eq!(call.keys("9*"), ["stop", "play vm-main-menu"]);
    assert_eq!(call.key('4'), ["stop", "play vm-enter-new-pin"]);
    assert_eq!(
        call.keys("2017#"),
        ["stop", "play vm-pin-mailbox vm-enter-new-pin"]
    );
    assert_eq!(
        call.keys("4444#"),
        ["stop", "play vm-pin-same-digit vm-enter-new-pin"]
    );
    assert_eq!(call.keys("4680#"), ["stop", "play vm-repeat-new-pin"]);
    assert_eq!(
        call.keys("4680#"),
        ["stop", "play vm-pin-changed vm-main-menu"]
    );
    assert_eq!(
        call.store.verify_pin(&mb, "4680", T0 / 1000).unwrap(),
        PinCheck::Accepted { must_change: false }
    );
}

#[test]
fn an_unanswered_menu_is_said_three_more_times_then_goodbye() {
    let (_dir, store) = open_store();
    let mut call = collect(store, CollectEntry::Trusted(mailbox("201")));
    call.first();
    // No timer while the prompt plays, however long it takes.
    assert_eq!(call.d.poll_timeout(), None);
    assert_eq!(call.wait(60_000), Vec::<String>::new());
    for _ in 0..3 {
        assert_eq!(call.play_ends(), Vec::<String>::new());
        assert_eq!(call.d.poll_timeout(), Some(call.now + 5000));
        assert_eq!(call.wait(5000), ["play vm-main-menu"]);
    }
    call.play_ends();
    assert_eq!(call.wait(5000), ["play vm-goodbye"]);
    assert_eq!(call.play_ends(), ["hang up"]);
    assert!(call.d.is_finished());
    assert_eq!(call.d.poll_timeout(), None);
}

#[test]
fn a_pause_after_some_digits_ends_the_number() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    store.set_pin(&mb, "2580", false).unwrap();
    let mut call = collect(store, CollectEntry::Pin(mb));
    call.first();
    call.play_ends();
    call.keys("25");
    // Each digit gives the caller 5 s more.
    assert_eq!(call.wait(4000), Vec::<String>::new());
    call.keys("80");
    assert_eq!(call.wait(4999), Vec::<String>::new());
    assert_eq!(call.wait(1), [EMPTY]);
}

#[test]
fn hanging_up_ends_the_dialogue_without_a_hang_up() {
    let (_dir, store) = open_store();
    let mut call = collect(store, CollectEntry::AskMailbox);
    call.first();
    call.keys("20");
    assert_eq!(call.send(Input::HungUp), Vec::<String>::new());
    assert!(call.d.is_finished());
    assert_eq!(call.d.poll_timeout(), None);
    assert_eq!(call.keys("1#"), Vec::<String>::new());
}
