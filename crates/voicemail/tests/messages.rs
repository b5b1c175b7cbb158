//! Leaving, listing, changing, deleting and forwarding messages on a real directory and
//! a real SQLite index.

mod common;

use common::{audio, envelope, files_in, leave_message, mailbox, open_store};
use voicemail::{
    CommitOutcome, MailboxCounts, MessageState, MessageStore, MessageSummary, VoicemailError,
};

#[test]
fn a_committed_message_has_its_file_row_and_audio() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    let m = leave_message(&mut store, &mb, 2500, envelope("202", 1_000, false));
    assert_eq!(m.duration_ms, 2500);
    assert_eq!(m.state, MessageState::New);
    assert_eq!(m.file, format!("{}.wav", m.id));
    assert_eq!(store.message(m.id).unwrap(), Some(m.clone()));
    assert_eq!(store.read_audio(&m).unwrap(), audio(2500));
    // Only the committed file: no temporary left behind.
    assert_eq!(files_in(&store.mailbox_dir(&mb)), vec![m.file.clone()]);
    // The file plays anywhere: a plain 44-byte PCM header before the samples.
    let bytes = std::fs::read(store.message_path(&m)).unwrap();
    assert_eq!(bytes.len(), 44 + 2 * 20_000);
    assert_eq!(&bytes[..4], b"RIFF");
}

#[test]
fn a_hang_up_during_the_greeting_leaves_no_message() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    let mut w = store.start_recording(&mb).unwrap();
    w.write_samples(&audio(600)).unwrap();
    let outcome = store
        .commit_message(w, envelope("202", 1_000, false))
        .unwrap();
    assert_eq!(
        outcome,
        CommitOutcome::TooShort {
            duration_ms: 600,
            min_ms: 1000
        }
    );
    assert!(files_in(&store.mailbox_dir(&mb)).is_empty());
    assert_eq!(store.counts(&mb).unwrap(), MailboxCounts::default());
}

#[test]
fn an_abandoned_writer_leaves_nothing() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    let mut w = store.start_recording(&mb).unwrap();
    w.write_samples(&audio(3000)).unwrap();
    let temp = w.temp_path().to_owned();
    assert!(temp.exists());
    w.abort();
    assert!(!temp.exists());
    let w = store.start_recording(&mb).unwrap();
    drop(w);
    assert!(files_in(&store.mailbox_dir(&mb)).is_empty());
}

#[test]
fn listing_is_by_state_urgent_first_then_oldest_first() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    let late = leave_message(&mut store, &mb, 1000, envelope("203", 3_000, false));
    let early = leave_message(&mut store, &mb, 1000, envelope("202", 1_000, false));
    let urgent = leave_message(&mut store, &mb, 1000, envelope("204", 5_000, true));
    let ids = |s: &MessageStore, st| -> Vec<_> {
        s.messages(&mb, st).unwrap().iter().map(|m| m.id).collect()
    };
    assert_eq!(
        ids(&store, MessageState::New),
        vec![urgent.id, early.id, late.id]
    );

    store.mark_old(early.id).unwrap();
    store.mark_saved(urgent.id).unwrap();
    assert_eq!(ids(&store, MessageState::New), vec![late.id]);
    assert_eq!(ids(&store, MessageState::Old), vec![early.id]);
    assert_eq!(ids(&store, MessageState::Saved), vec![urgent.id]);
    assert_eq!(
        store.counts(&mb).unwrap(),
        MailboxCounts {
            new: 1,
            old: 1,
            saved: 1
        }
    );
    // Saved counts as heard for the lamp; urgency is kept per side.
    assert_eq!(
        store.summary(&mb).unwrap(),
        MessageSummary {
            new: 1,
            old: 2,
            new_urgent: 0,
            old_urgent: 1
        }
    );
    assert!(matches!(
        store.mark_old(voicemail::MessageId(999)),
        Err(VoicemailError::UnknownMessage(_))
    ));
}

#[test]
fn delete_removes_row_then_file_and_tolerates_a_missing_file() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("201");
    let a = leave_message(&mut store, &mb, 1000, envelope("202", 1_000, false));
    let b = leave_message(&mut store, &mb, 1000, envelope("203", 2_000, false));
    store.delete(a.id).unwrap();
    assert_eq!(store.message(a.id).unwrap(), None);
    assert!(!store.message_path(&a).exists());

    // Someone removed b's file by hand: deleting b still succeeds.
    std::fs::remove_file(store.message_path(&b)).unwrap();
    store.delete(b.id).unwrap();
    assert_eq!(store.counts(&mb).unwrap(), MailboxCounts::default());
    assert!(matches!(
        store.delete(b.id),
        Err(VoicemailError::UnknownMessage(id)) if id == b.id
    ));
}

#[test]
fn forwarding_copies_the_audio_as_a_new_message() {
    let (_dir, mut store) = open_store();
    let (from, to) = (mailbox("201"), mailbox("sales"));
    let original = leave_message(&mut store, &from, 1500, envelope("0201555", 1_000, true));
    store.mark_saved(original.id).unwrap();

    let copy = store.forward(original.id, &to, 9_000).unwrap();
    assert_ne!(copy.id, original.id);
    assert_eq!(copy.mailbox, to);
    assert_eq!(copy.state, MessageState::New);
    assert_eq!(copy.received_at, 9_000);
    assert_eq!(copy.forwarded_from, Some(from.clone()));
    assert_eq!(copy.caller_number.as_deref(), Some("0201555"));
    assert!(copy.urgent);
    assert_eq!(store.read_audio(&copy).unwrap(), audio(1500));
    assert_eq!(files_in(&store.mailbox_dir(&to)), vec![copy.file.clone()]);

    // The copy is independent: deleting the original leaves it.
    store.delete(original.id).unwrap();
    assert_eq!(store.read_audio(&copy).unwrap(), audio(1500));
    assert_eq!(store.counts(&to).unwrap().new, 1);

    assert!(matches!(
        store.forward(copy.id, &to, 9_001),
        Err(VoicemailError::ForwardToSelf { .. })
    ));
}

#[test]
fn messages_and_ids_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mb = mailbox("201");
    let first = {
        let (mut store, _) = MessageStore::open(dir.path()).unwrap();
        leave_message(&mut store, &mb, 1000, envelope("202", 1_000, false))
    };
    let (mut store, report) = MessageStore::open(dir.path()).unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(store.message(first.id).unwrap(), Some(first.clone()));
    let second = leave_message(&mut store, &mb, 1000, envelope("202", 2_000, false));
    assert!(second.id > first.id, "ids are never reused");
    let all = store.summaries().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, mb);
    assert_eq!(all[0].1.new, 2);
}
