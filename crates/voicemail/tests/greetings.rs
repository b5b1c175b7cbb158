//! Greetings: which one a caller hears, replacement without a gap, and the recorded name.

mod common;

use common::{audio, files_in, mailbox, open_store};
use voicemail::{CommitOutcome, Greeting, GreetingSlot, MailboxId, MessageStore};

fn record(store: &mut MessageStore, mb: &MailboxId, slot: GreetingSlot, ms: u64) -> Greeting {
    let mut w = store.start_recording(mb).unwrap();
    w.write_samples(&audio(ms)).unwrap();
    match store.commit_greeting(w, slot, 100).unwrap() {
        CommitOutcome::Stored(g) => g,
        other => panic!("not stored: {other:?}"),
    }
}

#[test]
fn temporary_then_profile_then_normal_then_none() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    assert_eq!(store.greeting_for(&mb, 0, Some("night")).unwrap(), None);

    let normal = record(&mut store, &mb, GreetingSlot::Normal, 1000);
    let night = record(&mut store, &mb, GreetingSlot::Profile("night".into()), 1100);
    let away = record(
        &mut store,
        &mb,
        GreetingSlot::Temporary {
            expires_at: Some(5_000),
        },
        1200,
    );
    let name = record(&mut store, &mb, GreetingSlot::Name, 800);

    assert_eq!(
        store.greeting_for(&mb, 4_999, Some("night")).unwrap(),
        Some(away.clone())
    );
    // Expired at 5000: the profile's greeting, or the normal one outside the profile.
    assert_eq!(
        store.greeting_for(&mb, 5_000, Some("night")).unwrap(),
        Some(night.clone())
    );
    assert_eq!(
        store.greeting_for(&mb, 5_000, Some("lunch")).unwrap(),
        Some(normal.clone())
    );
    assert_eq!(
        store.greeting_for(&mb, 5_000, None).unwrap(),
        Some(normal.clone())
    );
    // The recorded name is never played as a greeting.
    assert_eq!(store.recorded_name(&mb).unwrap(), Some(name.clone()));

    assert!(store.delete_greeting(&mb, &GreetingSlot::Normal).unwrap());
    assert!(!store.delete_greeting(&mb, &GreetingSlot::Normal).unwrap());
    assert!(!store.greeting_path(&normal).exists());
    assert_eq!(store.greeting_for(&mb, 5_000, None).unwrap(), None);
    assert_eq!(store.greetings(&mb).unwrap().len(), 3);
}

#[test]
fn a_temporary_greeting_without_expiry_stays_until_removed() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    record(&mut store, &mb, GreetingSlot::Normal, 1000);
    let away = record(
        &mut store,
        &mb,
        GreetingSlot::Temporary { expires_at: None },
        1000,
    );
    assert_eq!(store.greeting_for(&mb, u64::MAX, None).unwrap(), Some(away));
    // Any Temporary names the one temporary slot, whatever expiry it carries.
    assert!(store
        .delete_greeting(
            &mb,
            &GreetingSlot::Temporary {
                expires_at: Some(1)
            }
        )
        .unwrap());
    assert_eq!(
        store.greeting_for(&mb, 0, None).unwrap().map(|g| g.slot),
        Some(GreetingSlot::Normal)
    );
}

#[test]
fn re_recording_replaces_the_file_and_a_short_take_keeps_the_old_one() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    let first = record(&mut store, &mb, GreetingSlot::Normal, 1000);
    let second = record(&mut store, &mb, GreetingSlot::Normal, 2000);
    assert_ne!(first.file, second.file);
    assert!(!store.greeting_path(&first).exists());
    assert_eq!(files_in(&store.mailbox_dir(&mb)), vec![second.file.clone()]);
    assert_eq!(
        voicemail::read_samples(&store.greeting_path(&second)).unwrap(),
        audio(2000)
    );

    let mut w = store.start_recording(&mb).unwrap();
    w.write_samples(&audio(200)).unwrap();
    assert_eq!(
        store.commit_greeting(w, GreetingSlot::Normal, 200).unwrap(),
        CommitOutcome::TooShort {
            duration_ms: 200,
            min_ms: 500
        }
    );
    assert_eq!(
        store.greeting_for(&mb, 300, None).unwrap(),
        Some(second.clone())
    );
    assert_eq!(files_in(&store.mailbox_dir(&mb)), vec![second.file]);
}

#[test]
fn greetings_do_not_count_as_messages() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    record(&mut store, &mb, GreetingSlot::Normal, 1000);
    assert_eq!(store.counts(&mb).unwrap(), Default::default());
    assert!(!store.summary(&mb).unwrap().waiting());
    let mut w = store.start_recording(&mb).unwrap();
    w.write_samples(&audio(1000)).unwrap();
    assert!(matches!(
        store.commit_greeting(w, GreetingSlot::Profile(String::new()), 1),
        Err(voicemail::VoicemailError::EmptyProfileName)
    ));
    assert_eq!(files_in(&store.mailbox_dir(&mb)).len(), 1);
}
