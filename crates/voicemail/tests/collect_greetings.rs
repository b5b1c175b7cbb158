//! The greetings menu: recording the greeting and the name (kept on `#`, silence or the
//! maximum length; discarded on `*` or a hang-up; too short not kept), hearing and
//! deleting them — and a caller then hearing the new greeting.

mod common;

use common::call::{Call, T0};
use common::{files_in, mailbox, open_store};
use voicemail::dialogue::{
    Collect, CollectEntry, CollectSettings, Deposit, DepositCall, DepositReason, DepositSettings,
    Dialogue, Input,
};
use voicemail::{GreetingSlot, MessageStore};

/// The owner of 201 in the greetings menu (played to its end).
fn in_greetings_menu(store: MessageStore, settings: CollectSettings) -> Call<Collect> {
    let mut store = store;
    let d = Collect::start(
        T0,
        CollectEntry::Trusted(mailbox("201")),
        settings,
        Box::new(|_: &str| None),
        &mut store,
    );
    let mut call = Call::new(d, store);
    call.first();
    assert_eq!(call.key('3'), ["stop", "play vm-greetings-menu"]);
    call.play_ends();
    call
}

#[test]
fn a_recorded_greeting_is_kept_heard_played_to_callers_and_deleted() {
    let (_dir, store) = open_store();
    let mut call = in_greetings_menu(store, CollectSettings::default());
    assert_eq!(call.key('2'), ["play vm-no-greeting vm-greetings-menu"]);
    call.play_ends();
    assert_eq!(call.key('1'), ["play vm-record-greeting beep"]);
    assert_eq!(
        call.key('#'),
        Vec::<String>::new(),
        "# before the tone does nothing"
    );
    assert_eq!(call.play_ends(), ["record normal greeting in 201"]);
    call.speak(3000);
    let at = call.now / 1000;
    assert_eq!(
        call.key('#'),
        [
            format!("keep normal greeting at {at}").as_str(),
            "<- stored 3000 ms",
            "play vm-greeting-saved vm-greetings-menu"
        ]
    );
    let g = call
        .store
        .greeting(&mailbox("201"), &GreetingSlot::Normal)
        .unwrap()
        .expect("the greeting is stored");
    assert_eq!((g.duration_ms, g.recorded_at), (3000, at));
    assert_eq!(
        call.key('2'),
        ["stop", "play [normal greeting] vm-greetings-menu"]
    );

    // A caller now hears it.
    let store = call.store;
    let deposit = Deposit::start(
        call.now,
        DepositCall {
            mailbox: mailbox("201"),
            reason: DepositReason::NoAnswer,
            extension: None,
            caller_number: None,
            caller_name: None,
            active_profile: None,
        },
        DepositSettings::default(),
        &store,
    );
    let mut caller = Call::new(deposit, store);
    assert_eq!(caller.first(), ["play [normal greeting] beep"]);

    // Back to the owner, on the same store: delete it, twice.
    let mut call = in_greetings_menu(caller.store, CollectSettings::default());
    assert_eq!(
        call.key('3'),
        ["play vm-greeting-deleted vm-greetings-menu"]
    );
    call.play_ends();
    assert_eq!(call.key('3'), ["play vm-no-greeting vm-greetings-menu"]);
    assert_eq!(
        call.store
            .greeting(&mailbox("201"), &GreetingSlot::Normal)
            .unwrap(),
        None
    );
    assert_eq!(call.key('*'), ["stop", "play vm-main-menu"]);
}

#[test]
fn a_name_too_short_is_not_kept() {
    let (_dir, store) = open_store();
    let mut call = in_greetings_menu(store, CollectSettings::default());
    assert_eq!(call.key('4'), ["play vm-record-name beep"]);
    assert_eq!(call.play_ends(), ["record name in 201"]);
    call.speak(300);
    let at = call.now / 1000;
    assert_eq!(
        call.key('#'),
        [
            format!("keep name at {at}").as_str(),
            "<- too short 300 ms",
            "play vm-nothing-recorded vm-greetings-menu"
        ]
    );
    call.play_ends();
    assert_eq!(call.key('5'), ["play vm-no-name vm-greetings-menu"]);
}

#[test]
fn silence_or_the_maximum_length_keep_the_recording() {
    let (_dir, store) = open_store();
    let settings = CollectSettings {
        max_name_ms: 4000,
        ..CollectSettings::default()
    };
    let mut call = in_greetings_menu(store, settings);
    call.key('4');
    call.play_ends();
    let started = call.now;
    assert_eq!(call.d.poll_timeout(), Some(started + 4000));
    assert_eq!(
        call.speak(6000),
        [
            format!("keep name at {}", (started + 4000) / 1000).as_str(),
            "<- stored 4000 ms",
            "play vm-name-saved vm-greetings-menu"
        ]
    );
    call.play_ends();
    assert_eq!(call.key('5'), ["play [name] vm-greetings-menu"]);

    call.play_ends();
    call.key('1');
    call.play_ends();
    call.speak(2000);
    let out = call.send(Input::Silence);
    assert_eq!(
        out[1..],
        [
            "<- stored 2000 ms",
            "play vm-greeting-saved vm-greetings-menu"
        ]
    );
}

#[test]
fn star_or_a_hang_up_while_recording_keep_the_old_greeting() {
    let (_dir, store) = open_store();
    let mut call = in_greetings_menu(store, CollectSettings::default());
    call.key('1');
    call.play_ends();
    call.speak(2000);
    assert_eq!(
        call.key('*'),
        ["discard", "play vm-nothing-recorded vm-greetings-menu"]
    );
    assert_eq!(call.d.poll_timeout(), None, "the length timer is gone");
    call.play_ends();
    // `*` before the tone goes back to the menu too.
    call.key('1');
    assert_eq!(call.key('*'), ["stop", "play vm-greetings-menu"]);
    call.play_ends();
    call.key('1');
    call.play_ends();
    call.speak(2000);
    assert_eq!(call.send(Input::HungUp), ["discard"]);
    assert!(call.d.is_finished());
    let mb = mailbox("201");
    assert_eq!(call.store.greetings(&mb).unwrap(), []);
    assert_eq!(files_in(&call.store.mailbox_dir(&mb)), Vec::<String>::new());
}

#[test]
fn a_full_disk_while_recording_a_greeting_is_told() {
    let (_dir, store) = open_store();
    let mut call = in_greetings_menu(store, CollectSettings::default());
    call.key('1');
    call.play_ends();
    call.speak(1000);
    assert_eq!(
        call.writer_fails(),
        ["<- disk full", "play vm-recording-failed vm-greetings-menu"]
    );
    assert_eq!(call.d.poll_timeout(), None);
}
