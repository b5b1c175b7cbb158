//! A simulated crash: the store is abandoned with a recording in progress, a row whose
//! file is gone and a file whose row is gone; reopening repairs all three and says so.

mod common;

use common::{audio, envelope, files_in, leave_message, mailbox};
use voicemail::{DroppedRow, GreetingSlot, MessageState, MessageStore, QUARANTINE_DIR};

#[test]
fn reopening_after_a_crash_reconciles_files_and_index() {
    let dir = tempfile::tempdir().unwrap();
    let (mb, other) = (mailbox("201"), mailbox("202"));

    let (kept, lost_file, lost_row, temp, greeting_file) = {
        let (mut store, _) = MessageStore::open(dir.path()).unwrap();
        let kept = leave_message(&mut store, &mb, 1000, envelope("300", 1_000, false));
        let lost_file = leave_message(&mut store, &mb, 1000, envelope("301", 2_000, false));
        let lost_row = leave_message(&mut store, &other, 1000, envelope("302", 3_000, false));

        // A greeting whose file will vanish too.
        let mut w = store.start_recording(&mb).unwrap();
        w.write_samples(&audio(1000)).unwrap();
        let voicemail::CommitOutcome::Stored(g) =
            store.commit_greeting(w, GreetingSlot::Normal, 10).unwrap()
        else {
            panic!("greeting stored");
        };

        // A recording in progress when the process dies: the writer's destructor never
        // runs, so its temporary file stays.
        let mut w = store.start_recording(&mb).unwrap();
        w.write_samples(&audio(700)).unwrap();
        let temp = w.temp_path().to_owned();
        std::mem::forget(w);
        assert!(temp.exists());

        (kept, lost_file, lost_row, temp, store.greeting_path(&g))
    };

    // Damage done while the store is closed: a file lost (row orphaned), and a row lost
    // (file orphaned: what a crash between rename and insert leaves).
    let root = dir.path().join(voicemail::VOICEMAIL_DIR);
    std::fs::remove_file(root.join("201").join(&lost_file.file)).unwrap();
    std::fs::remove_file(&greeting_file).unwrap();
    {
        let conn = rusqlite::Connection::open(root.join(voicemail::INDEX_FILE)).unwrap();
        let n = conn
            .execute("DELETE FROM messages WHERE id = ?1", [lost_row.id.0 as i64])
            .unwrap();
        assert_eq!(n, 1);
    }

    let (store, report) = MessageStore::open(dir.path()).unwrap();
    assert!(!report.is_clean());
    assert_eq!(report.temp_files_removed, vec![temp.clone()]);
    assert!(!temp.exists());

    let mut dropped = report.rows_dropped.clone();
    dropped.sort_by_key(|d| format!("{d:?}"));
    assert_eq!(
        dropped,
        vec![
            DroppedRow::Greeting {
                mailbox: "201".into(),
                slot: GreetingSlot::Normal,
                file: greeting_file
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            },
            DroppedRow::Message {
                id: lost_file.id,
                mailbox: "201".into(),
                file: lost_file.file.clone(),
            },
        ]
    );
    assert_eq!(store.message(lost_file.id).unwrap(), None);
    assert_eq!(store.greeting_for(&mb, 20, None).unwrap(), None);

    let orphan = root.join("202").join(&lost_row.file);
    let quarantined = root.join(QUARANTINE_DIR).join("202").join(&lost_row.file);
    assert_eq!(
        report.quarantined,
        vec![(orphan.clone(), quarantined.clone())]
    );
    assert!(!orphan.exists());
    // Kept, not destroyed: the audio is still whole.
    assert_eq!(voicemail::read_samples(&quarantined).unwrap(), audio(1000));

    // What was consistent is untouched.
    assert_eq!(
        store.messages(&mb, MessageState::New).unwrap(),
        vec![kept.clone()]
    );
    assert_eq!(files_in(&root.join("201")), vec![kept.file.clone()]);
    assert!(files_in(&root.join("202")).is_empty());
    drop(store);

    // A second open finds nothing more to do.
    let (_store, again) = MessageStore::open(dir.path()).unwrap();
    assert!(again.is_clean(), "{again:?}");
}

#[test]
fn stray_files_that_are_not_audio_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join(voicemail::VOICEMAIL_DIR);
    std::fs::create_dir_all(root.join("201")).unwrap();
    std::fs::create_dir_all(root.join("not a mailbox")).unwrap();
    std::fs::write(root.join("201").join("notes.txt"), b"x").unwrap();
    std::fs::write(root.join("not a mailbox").join("9.wav"), b"x").unwrap();
    let (_store, report) = MessageStore::open(dir.path()).unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert!(root.join("201").join("notes.txt").exists());
    assert!(root.join("not a mailbox").join("9.wav").exists());
}
