//! Leaving a message, as whole stories on the sans-IO deposit dialogue: what the caller
//! hears, when recording starts and ends, what is stored, and in which order.

mod common;

use common::call::{Call, T0};
use common::{audio, mailbox, open_store};
use voicemail::dialogue::{
    Deposit, DepositCall, DepositReason, DepositSettings, Dialogue, Input, PlayTag,
};
use voicemail::{CommitOutcome, GreetingSlot, MessageState, MessageStore};

/// A call from 202 ("Reception") to mailbox 201, no answer.
fn from_reception() -> DepositCall {
    DepositCall {
        mailbox: mailbox("201"),
        reason: DepositReason::NoAnswer,
        extension: None,
        caller_number: Some("202".into()),
        caller_name: Some("Reception".into()),
        active_profile: None,
    }
}

fn deposit(store: MessageStore, call: DepositCall, settings: DepositSettings) -> Call<Deposit> {
    let d = Deposit::start(T0, call, settings, &store);
    Call::new(d, store)
}

fn record_greeting(store: &mut MessageStore, slot: GreetingSlot, ms: u64) {
    let mb = mailbox("201");
    let mut w = store.start_recording(&mb).unwrap();
    w.write_samples(&audio(ms)).unwrap();
    assert!(matches!(
        store.commit_greeting(w, slot, 1).unwrap(),
        CommitOutcome::Stored(_)
    ));
}

const SYSTEM_GREETING: &str = "play vm-the-person-at number-2 number-0 number-1 \
                               vm-is-not-available vm-leave-message beep";

#[test]
fn greeting_tone_five_seconds_and_hash_leave_a_message() {
    let (_dir, mut store) = open_store();
    record_greeting(&mut store, GreetingSlot::Normal, 2000);
    let mut call = deposit(store, from_reception(), DepositSettings::default());

    assert_eq!(call.first(), ["play [normal greeting] beep"]);
    assert_eq!(
        call.d.poll_timeout(),
        None,
        "nothing is timed while the greeting plays"
    );
    assert_eq!(call.wait(3000), Vec::<String>::new());
    assert_eq!(call.play_ends(), ["record message in 201"]);
    let started = call.now;
    assert_eq!(call.speak(5000), Vec::<String>::new());
    assert_eq!(
        call.key('#'),
        [
            format!("keep message from 202 (Reception) at {}", started / 1000).as_str(),
            "<- stored 5000 ms",
            "changed 201",
            "play vm-message-saved vm-goodbye",
        ]
    );
    assert!(!call.d.is_finished());
    assert_eq!(call.play_ends(), ["hang up"]);
    assert!(call.d.is_finished());

    let new = call
        .store
        .messages(&mailbox("201"), MessageState::New)
        .unwrap();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0].caller_number.as_deref(), Some("202"));
    assert_eq!(new[0].caller_name.as_deref(), Some("Reception"));
    assert_eq!(new[0].received_at, started / 1000);
    assert_eq!(new[0].duration_ms, 5000);
}

#[test]
fn a_message_under_one_second_is_discarded() {
    let (_dir, store) = open_store();
    let mut call = deposit(store, from_reception(), DepositSettings::default());
    assert_eq!(call.first(), [SYSTEM_GREETING]);
    assert_eq!(call.play_ends(), ["record message in 201"]);
    let at = call.now / 1000;
    call.speak(600);
    assert_eq!(
        call.key('#'),
        [
            format!("keep message from 202 (Reception) at {at}").as_str(),
            "<- too short 600 ms",
            "play vm-too-short vm-goodbye",
        ]
    );
    assert_eq!(call.play_ends(), ["hang up"]);
    assert!(call.d.is_finished());
    assert_eq!(call.store.counts(&mailbox("201")).unwrap().new, 0);
    assert!(!call.log.iter().any(|l| l.starts_with("changed")));
}

#[test]
fn the_maximum_length_ends_the_recording_at_its_deadline() {
    let (_dir, store) = open_store();
    let settings = DepositSettings {
        max_message_ms: 10_000,
        ..DepositSettings::default()
    };
    let mut call = deposit(store, from_reception(), settings);
    call.first();
    assert_eq!(call.play_ends(), ["record message in 201"]);
    let started = call.now;
    assert_eq!(call.d.poll_timeout(), Some(started + 10_000));
    // The caller goes on talking; at exactly 10 s the recording is kept.
    let during = call.speak(12_000);
    assert_eq!(
        during,
        [
            format!("keep message from 202 (Reception) at {}", started / 1000).as_str(),
            "<- stored 10000 ms",
            "changed 201",
            "play vm-max-length vm-message-saved vm-goodbye",
        ]
    );
    assert!(!call.recording());
    assert_eq!(call.play_ends(), ["hang up"]);
    let new = call
        .store
        .messages(&mailbox("201"), MessageState::New)
        .unwrap();
    assert_eq!(new[0].duration_ms, 10_000);
}

#[test]
fn silence_ends_the_message_like_hash() {
    let (_dir, store) = open_store();
    let mut call = deposit(store, from_reception(), DepositSettings::default());
    call.first();
    call.play_ends();
    call.speak(3000);
    let at = call.now / 1000 - 3;
    assert_eq!(
        call.send(Input::Silence),
        [
            format!("keep message from 202 (Reception) at {at}").as_str(),
            "<- stored 3000 ms",
            "changed 201",
            "play vm-message-saved vm-goodbye",
        ]
    );
    assert_eq!(
        call.d.poll_timeout(),
        None,
        "the maximum-length timer is gone"
    );
}

#[test]
fn hanging_up_while_recording_keeps_the_message_and_says_nothing() {
    let (_dir, store) = open_store();
    let mut call = deposit(store, from_reception(), DepositSettings::default());
    call.first();
    call.play_ends();
    call.speak(4000);
    let out = call.send(Input::HungUp);
    assert_eq!(out.len(), 3, "{out:?}");
    assert!(out[0].starts_with("keep message from 202"), "{out:?}");
    assert_eq!(out[1..], ["<- stored 4000 ms", "changed 201"]);
    assert!(call.d.is_finished());
    assert_eq!(call.d.poll_timeout(), None);
    assert_eq!(call.store.counts(&mailbox("201")).unwrap().new, 1);
}

#[test]
fn hanging_up_during_the_greeting_leaves_nothing() {
    let (_dir, store) = open_store();
    let mut call = deposit(store, from_reception(), DepositSettings::default());
    call.first();
    assert_eq!(call.send(Input::HungUp), Vec::<String>::new());
    assert!(call.d.is_finished());
    assert!(!call.recording());
    assert_eq!(call.store.counts(&mailbox("201")).unwrap().new, 0);
}

#[test]
fn star_skips_the_greeting_to_the_tone() {
    let (_dir, mut store) = open_store();
    record_greeting(&mut store, GreetingSlot::Normal, 2000);
    let mut call = deposit(store, from_reception(), DepositSettings::default());
    call.first();
    let skipped = call.d.poll_timeout();
    assert_eq!(
        call.key('5'),
        Vec::<String>::new(),
        "other keys are ignored"
    );
    assert_eq!(call.key('*'), ["stop", "play beep"]);
    assert_eq!(skipped, None);
    assert_eq!(call.play_ends(), ["record message in 201"]);
    assert_eq!(
        call.key('*'),
        Vec::<String>::new(),
        "* does nothing while recording"
    );
}

#[test]
fn the_end_of_a_replaced_play_is_ignored() {
    let (_dir, store) = open_store();
    let mut call = deposit(store, from_reception(), DepositSettings::default());
    call.first();
    // The greeting's tag is 0: the first play of the dialogue.
    assert_eq!(call.key('#'), ["stop", "play beep"]);
    assert_eq!(
        call.send(Input::PlayFinished(PlayTag(0))),
        Vec::<String>::new(),
        "the skipped greeting's end starts no recording"
    );
    assert_eq!(call.play_ends(), ["record message in 201"]);
}

#[test]
fn zero_goes_to_the_operator_when_there_is_one() {
    let (_dir, store) = open_store();
    let settings = DepositSettings {
        operator: Some("200".into()),
        ..DepositSettings::default()
    };
    let mut call = deposit(store, from_reception(), settings);
    call.first();
    assert_eq!(call.key('0'), ["stop", "play vm-please-hold"]);
    assert!(!call.d.is_finished());
    assert_eq!(call.play_ends(), ["transfer to 200"]);
    assert!(call.d.is_finished());

    // Without an operator, 0 does nothing.
    let (_dir, store) = open_store();
    let mut call = deposit(store, from_reception(), DepositSettings::default());
    call.first();
    assert_eq!(call.key('0'), Vec::<String>::new());
    assert_eq!(call.play_ends(), ["record message in 201"]);
}

#[test]
fn a_full_disk_while_recording_is_told_and_stores_nothing() {
    let (_dir, store) = open_store();
    let mut call = deposit(store, from_reception(), DepositSettings::default());
    call.first();
    call.play_ends();
    call.speak(2000);
    assert_eq!(
        call.writer_fails(),
        ["<- disk full", "play vm-not-saved vm-goodbye"]
    );
    assert_eq!(call.d.poll_timeout(), None);
    assert_eq!(call.play_ends(), ["hang up"]);
    assert_eq!(call.store.counts(&mailbox("201")).unwrap().new, 0);
}

/// What a caller hears before the tone, for a store prepared by `prepare`, at `T0`.
fn heard(call: DepositCall, prepare: impl FnOnce(&mut MessageStore)) -> String {
    let (_dir, mut store) = open_store();
    prepare(&mut store);
    let mut c = deposit(store, call, DepositSettings::default());
    let first = c.first();
    assert_eq!(first.len(), 1, "{first:?}");
    first[0].clone()
}

#[test]
fn which_greeting_plays() {
    let now_s = T0 / 1000;
    let temporary = |expires_at| GreetingSlot::Temporary { expires_at };
    let all = |expires_at: Option<u64>| {
        move |s: &mut MessageStore| {
            record_greeting(s, GreetingSlot::Normal, 1000);
            record_greeting(s, GreetingSlot::Profile("night".into()), 1000);
            record_greeting(s, temporary(expires_at), 1000);
            record_greeting(s, GreetingSlot::Name, 800);
        }
    };
    let at_night = DepositCall {
        active_profile: Some("night".into()),
        ..from_reception()
    };

    // A temporary greeting that has not expired wins over everything.
    assert_eq!(
        heard(at_night.clone(), all(Some(now_s + 1))),
        "play [temporary greeting] beep"
    );
    assert_eq!(
        heard(at_night.clone(), all(None)),
        "play [temporary greeting] beep"
    );
    // Expired: the active profile's greeting, else the normal one.
    assert_eq!(
        heard(at_night.clone(), all(Some(now_s))),
        "play [night greeting] beep"
    );
    assert_eq!(
        heard(from_reception(), all(Some(now_s))),
        "play [normal greeting] beep"
    );
    // Only a name: the system prompt says it; busy says "is on another call".
    let name_only = |s: &mut MessageStore| record_greeting(s, GreetingSlot::Name, 800);
    assert_eq!(
        heard(from_reception(), name_only),
        "play [name] vm-is-not-available vm-leave-message beep"
    );
    let busy = DepositCall {
        reason: DepositReason::Busy,
        ..from_reception()
    };
    assert_eq!(
        heard(busy.clone(), name_only),
        "play [name] vm-is-busy vm-leave-message beep"
    );
    // Nothing recorded: the number digit by digit.
    assert_eq!(heard(from_reception(), |_| {}), SYSTEM_GREETING);
    assert_eq!(
        heard(busy, |_| {}),
        "play vm-the-person-at number-2 number-0 number-1 vm-is-busy vm-leave-message beep"
    );
    // A mailbox named after a hunt group says the number it is given, or no number.
    let sales = DepositCall {
        mailbox: mailbox("sales"),
        ..from_reception()
    };
    assert_eq!(
        heard(sales.clone(), |_| {}),
        "play vm-person-not-available vm-leave-message beep"
    );
    let sales_700 = DepositCall {
        extension: Some("700".into()),
        ..sales
    };
    assert_eq!(
        heard(sales_700, |_| {}),
        "play vm-the-person-at number-7 number-0 number-0 vm-is-not-available vm-leave-message beep"
    );
}
