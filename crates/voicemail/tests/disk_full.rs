//! A recording that runs out of room: a real write failure from the kernel, not a mock.
//!
//! The test re-runs this test binary as a child process with a small file-size limit
//! (`ulimit -f`, with SIGXFSZ ignored so the kernel answers `EFBIG` instead of killing
//! the process). In the child, a recording grows past the limit: the write fails, the
//! writer reports [`VoicemailError::DiskFull`] with its path, and removes its file. The
//! parent then reopens the store without the limit and finds neither a file nor a row.
//! (`/dev/full`, which answers `ENOSPC`, is used by the writer's unit test.)

#![cfg(unix)]

mod common;

use common::{audio, envelope, files_in, mailbox};
use std::process::Command;
use voicemail::{MessageStore, VoicemailError};

const CHILD_DIR: &str = "VOICEMAIL_DISK_FULL_CHILD_DIR";

#[test]
fn a_full_disk_leaves_neither_file_nor_row() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    // 2048 blocks: 1 MiB in dash (512-byte blocks), 2 MiB in bash; the child writes 8 MiB.
    let output = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 2048 && exec \"$0\" \"$@\"")
        .arg(&exe)
        .args([
            "--exact",
            "child_records_until_the_disk_is_full",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("CHILD-OK"),
        "child failed: {}\n{stdout}\n{stderr}",
        output.status
    );

    let (store, report) = MessageStore::open(dir.path()).unwrap();
    assert!(report.is_clean(), "nothing to repair: {report:?}");
    let mb = mailbox("201");
    assert!(files_in(&store.mailbox_dir(&mb)).is_empty());
    assert_eq!(store.counts(&mb).unwrap(), Default::default());
    assert!(store.summaries().unwrap().is_empty());
}

/// The child's half; does nothing unless started by the test above.
#[test]
fn child_records_until_the_disk_is_full() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let (mut store, _) = MessageStore::open(std::path::Path::new(&dir)).unwrap();
    let mb = mailbox("201");
    let mut w = store.start_recording(&mb).unwrap();
    let temp = w.temp_path().to_owned();
    let second = audio(1000);
    let mut failure = None;
    for _ in 0..262 {
        if let Err(e) = w.write_samples(&second) {
            failure = Some(e);
            break;
        }
    }
    let err = failure.expect("the file-size limit stops the recording");
    match &err {
        VoicemailError::DiskFull { path, .. } => assert_eq!(path, &temp),
        other => panic!("expected DiskFull, got {other:?}"),
    }
    assert!(err.to_string().contains(".tmp-"), "{err}");
    assert!(!temp.exists(), "the partial file is removed at once");
    // The failed writer cannot be committed.
    assert!(matches!(
        store.commit_message(w, envelope("202", 1, false)),
        Err(VoicemailError::WriterFailed { .. })
    ));
    assert!(files_in(&store.mailbox_dir(&mb)).is_empty());
    println!("CHILD-OK");
}
