//! Helpers shared by the integration tests: a store in a fresh temporary directory and
//! recordings of a given length.

#![allow(dead_code)]

pub mod call;

use voicemail::{
    CommitOutcome, MailboxId, Message, MessageKind, MessageStore, NewMessage, SAMPLE_RATE,
};

/// A mailbox by name (the tests only use valid ones).
pub fn mailbox(name: &str) -> MailboxId {
    MailboxId::new(name).expect("a valid mailbox name")
}

/// A store in a new temporary data directory (kept alive by the returned guard).
pub fn open_store() -> (tempfile::TempDir, MessageStore) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (store, report) = MessageStore::open(dir.path()).expect("the store opens");
    assert!(report.is_clean(), "{report:?}");
    (dir, store)
}

/// A store with `options` in a new temporary data directory.
pub fn open_store_with(options: voicemail::StoreOptions) -> (tempfile::TempDir, MessageStore) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (store, _) = MessageStore::open_with(dir.path(), options).expect("the store opens");
    (dir, store)
}

/// `ms` milliseconds of a ramp (so that files differ in content, not only length).
pub fn audio(ms: u64) -> Vec<i16> {
    let n = usize::try_from(ms * u64::from(SAMPLE_RATE) / 1000).expect("fits");
    (0..n).map(|i| (i % 2000) as i16).collect()
}

/// An envelope from `number` at `at`.
pub fn envelope(number: &str, at: u64, urgent: bool) -> NewMessage {
    NewMessage {
        kind: MessageKind::Message,
        caller_number: Some(number.to_owned()),
        caller_name: Some(format!("Caller {number}")),
        received_at: at,
        urgent,
    }
}

/// Records `ms` of audio into `to` as 20 ms packets and commits it; panics unless stored.
pub fn leave_message(
    store: &mut MessageStore,
    to: &MailboxId,
    ms: u64,
    env: NewMessage,
) -> Message {
    let mut w = store.start_recording(to).expect("recording starts");
    for packet in audio(ms).chunks(160) {
        w.write_samples(packet).expect("samples written");
    }
    match store.commit_message(w, env).expect("commit") {
        CommitOutcome::Stored(m) => m,
        other => panic!("not stored: {other:?}"),
    }
}

/// The names of the files in `dir`, sorted (hidden ones included).
pub fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}
