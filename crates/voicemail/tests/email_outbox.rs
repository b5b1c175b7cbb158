//! The email outbox on a real directory and a real SQLite index: queueing, due times, the
//! retry delays, sent and failed attempts in each mode, deletion by the owner, restarts,
//! crash reconciliation and the upgrade of an index made before the outbox existed.

mod common;

use common::{envelope, files_in, leave_message, mailbox, open_store};
use voicemail::{
    email_retry_delay, EmailMode, MessageState, MessageStore, VoicemailError, EMAIL_RETRY_MAX_SECS,
    MAX_EMAIL_ERROR_LEN,
};

const NOW: u64 = 1_800_000_000;

#[test]
fn the_retry_delay_doubles_from_30_s_up_to_an_hour() {
    let delays: Vec<u64> = (1..=9).map(email_retry_delay).collect();
    assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
    assert_eq!(email_retry_delay(0), 30);
    assert_eq!(email_retry_delay(u32::MAX), EMAIL_RETRY_MAX_SECS);
}

#[test]
fn a_queued_email_is_due_at_once_and_kept_until_sent() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("202");
    let m = leave_message(&mut store, &mb, 1500, envelope("201", NOW - 5, false));
    let e = store
        .queue_email(m.id, "bob@example.com", EmailMode::Copy, NOW)
        .expect("queued");
    assert_eq!(
        (e.message, &e.mailbox, e.address.as_str(), e.mode),
        (m.id, &mb, "bob@example.com", EmailMode::Copy)
    );
    assert_eq!((e.attempts, e.next_attempt_at, e.created_at), (0, NOW, NOW));
    assert_eq!(e.last_error, None);
    assert!(store.due_emails(NOW - 1, 10).expect("due").is_empty());
    assert_eq!(store.due_emails(NOW, 10).expect("due"), vec![e.clone()]);
    assert_eq!(store.pending_emails().expect("pending"), vec![e.clone()]);

    assert_eq!(store.email_sent(&e).expect("sent"), None);
    assert!(store.pending_emails().expect("pending").is_empty());
    // Copy: the message stays, as it was.
    assert_eq!(store.message(m.id).expect("read"), Some(m.clone()));
    assert!(store.message_path(&m).exists());
}

#[test]
fn an_email_about_a_message_that_does_not_exist_is_refused() {
    let (_dir, mut store) = open_store();
    match store.queue_email(
        voicemail::MessageId(99),
        "a@example.com",
        EmailMode::Notify,
        NOW,
    ) {
        Err(VoicemailError::UnknownMessage(id)) => assert_eq!(id.0, 99),
        other => panic!("{other:?}"),
    }
    assert!(store.pending_emails().expect("pending").is_empty());
}

#[test]
fn failures_are_counted_and_retried_later_never_dropped() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("202");
    let m = leave_message(&mut store, &mb, 1500, envelope("201", NOW, false));
    let mut e = store
        .queue_email(m.id, "bob@example.com", EmailMode::Forward, NOW)
        .expect("queued");
    let mut now = NOW;
    let mut delays = Vec::new();
    for attempt in 1..=12u32 {
        let failed = store
            .email_failed(&e, &format!("connection refused ({attempt})"), now)
            .expect("recorded")
            .expect("still queued");
        assert_eq!(failed.attempts, attempt);
        assert_eq!(
            failed.last_error.as_deref(),
            Some(format!("connection refused ({attempt})").as_str())
        );
        delays.push(failed.next_attempt_at - now);
        // Not due a second before the delay is out; due when it is.
        assert!(store
            .due_emails(failed.next_attempt_at - 1, 10)
            .expect("due")
            .is_empty());
        assert_eq!(
            store.due_emails(failed.next_attempt_at, 10).expect("due"),
            vec![failed.clone()]
        );
        now = failed.next_attempt_at;
        e = failed;
    }
    assert_eq!(
        delays,
        [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600, 3600]
    );
    // Twelve failures in forward mode: the message is still in the mailbox.
    assert_eq!(store.message(m.id).expect("read"), Some(m.clone()));
    assert!(store.message_path(&m).exists());
}

#[test]
fn a_long_error_is_clipped_at_a_character_boundary() {
    let (_dir, mut store) = open_store();
    let m = leave_message(
        &mut store,
        &mailbox("202"),
        1500,
        envelope("201", NOW, false),
    );
    let e = store
        .queue_email(m.id, "bob@example.com", EmailMode::Notify, NOW)
        .expect("queued");
    let error = "é".repeat(MAX_EMAIL_ERROR_LEN);
    let failed = store
        .email_failed(&e, &error, NOW)
        .expect("recorded")
        .expect("queued");
    let kept = failed.last_error.expect("error kept");
    assert!(kept.len() <= MAX_EMAIL_ERROR_LEN && kept.len() >= MAX_EMAIL_ERROR_LEN - 1);
    assert!(error.starts_with(&kept));
}

#[test]
fn a_forwarded_message_leaves_the_mailbox_once_sent() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("202");
    let m = leave_message(&mut store, &mb, 1500, envelope("201", NOW, false));
    let other = leave_message(&mut store, &mb, 1500, envelope("203", NOW, false));
    let e = store
        .queue_email(m.id, "bob@example.com", EmailMode::Forward, NOW)
        .expect("queued");
    let keep = store
        .queue_email(other.id, "bob@example.com", EmailMode::Forward, NOW)
        .expect("queued");
    let path = store.message_path(&m);

    // A failed attempt first: still there.
    let e = store
        .email_failed(&e, "timed out", NOW)
        .expect("recorded")
        .expect("queued");
    assert!(path.exists());

    assert_eq!(store.email_sent(&e).expect("sent"), Some(m.clone()));
    assert_eq!(store.message(m.id).expect("read"), None);
    assert!(!path.exists());
    assert_eq!(store.counts(&mb).expect("counts").new, 1);
    // The other message and its email are untouched.
    assert_eq!(store.pending_emails().expect("pending"), vec![keep]);
    assert_eq!(files_in(&store.mailbox_dir(&mb)), vec![other.file.clone()]);
    // Reporting the same success twice does nothing more.
    assert_eq!(store.email_sent(&e).expect("sent again"), None);
}

#[test]
fn deleting_a_message_withdraws_its_emails() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("202");
    let m = leave_message(&mut store, &mb, 1500, envelope("201", NOW, false));
    let e = store
        .queue_email(m.id, "bob@example.com", EmailMode::Forward, NOW)
        .expect("queued");
    store.delete(m.id).expect("deleted");
    assert!(store.pending_emails().expect("pending").is_empty());

    // A sender that took the entry before the deletion reports back: nothing happens, and
    // a newer entry (which never reuses the id) is not touched.
    let later = leave_message(&mut store, &mb, 1500, envelope("203", NOW, false));
    let e2 = store
        .queue_email(later.id, "bob@example.com", EmailMode::Forward, NOW)
        .expect("queued");
    assert!(
        e2.id > e.id,
        "ids are never reused: {} after {}",
        e2.id,
        e.id
    );
    assert_eq!(store.email_sent(&e).expect("stale success"), None);
    assert_eq!(
        store.email_failed(&e, "late", NOW).expect("stale failure"),
        None
    );
    assert_eq!(store.pending_emails().expect("pending"), vec![e2]);
    assert_eq!(
        store.message(later.id).expect("read").map(|m| m.state),
        Some(MessageState::New)
    );
}

#[test]
fn a_changed_mail_server_brings_waiting_emails_forward() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("202");
    let m = leave_message(&mut store, &mb, 1500, envelope("201", NOW, false));
    let e = store
        .queue_email(m.id, "bob@example.com", EmailMode::Notify, NOW)
        .expect("queued");
    let e = store
        .email_failed(&e, "refused", NOW)
        .expect("recorded")
        .expect("queued");
    assert!(store.due_emails(NOW + 10, 10).expect("due").is_empty());
    assert_eq!(store.retry_emails_now(NOW + 10).expect("forward"), 1);
    let due = store.due_emails(NOW + 10, 10).expect("due");
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].id, due[0].attempts), (e.id, 1));
    assert_eq!(store.retry_emails_now(NOW + 10).expect("again"), 0);
}

#[test]
fn due_emails_come_oldest_first_and_limited() {
    let (_dir, mut store) = open_store();
    let mb = mailbox("202");
    let mut ids = Vec::new();
    for i in 0..5 {
        let m = leave_message(&mut store, &mb, 1100, envelope("201", NOW, false));
        ids.push(
            store
                .queue_email(m.id, "bob@example.com", EmailMode::Notify, NOW + 10 - i)
                .expect("queued")
                .id,
        );
    }
    let due: Vec<u64> = store
        .due_emails(NOW + 100, 3)
        .expect("due")
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(due, [ids[4], ids[3], ids[2]]);
}

#[test]
fn the_outbox_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let failed = {
        let (mut store, _) = MessageStore::open(dir.path()).expect("open");
        let m = leave_message(
            &mut store,
            &mailbox("202"),
            1500,
            envelope("201", NOW, false),
        );
        let e = store
            .queue_email(m.id, "bob@example.com", EmailMode::Copy, NOW)
            .expect("queued");
        store
            .email_failed(&e, "refused", NOW)
            .expect("recorded")
            .expect("queued")
    };
    let (store, report) = MessageStore::open(dir.path()).expect("reopen");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(store.pending_emails().expect("pending"), vec![failed]);
}

#[test]
fn reconciliation_drops_emails_whose_message_is_gone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (lost, kept) = {
        let (mut store, _) = MessageStore::open(dir.path()).expect("open");
        let mb = mailbox("202");
        let lost = leave_message(&mut store, &mb, 1500, envelope("201", NOW, false));
        let kept = leave_message(&mut store, &mb, 1500, envelope("203", NOW, false));
        store
            .queue_email(lost.id, "bob@example.com", EmailMode::Forward, NOW)
            .expect("queued");
        let kept_entry = store
            .queue_email(kept.id, "bob@example.com", EmailMode::Forward, NOW)
            .expect("queued");
        std::fs::remove_file(store.message_path(&lost)).expect("lose the file");
        (lost, kept_entry)
    };
    // An entry about a message that never existed (a hand-edited or damaged index).
    {
        let path = dir
            .path()
            .join(voicemail::VOICEMAIL_DIR)
            .join(voicemail::INDEX_FILE);
        let conn = rusqlite::Connection::open(path).expect("index");
        conn.execute(
            "INSERT INTO email_outbox (message_id, mailbox, address, mode, next_attempt_at, \
             created_at) VALUES (777, '202', 'x@example.com', 'copy', 0, 0)",
            [],
        )
        .expect("orphan inserted");
    }
    let (store, report) = MessageStore::open(dir.path()).expect("reopen");
    let mut dropped = report.emails_dropped.clone();
    dropped.sort();
    assert_eq!(dropped, [lost.id, voicemail::MessageId(777)]);
    assert!(!report.is_clean());
    assert_eq!(store.pending_emails().expect("pending"), vec![kept]);
}

#[test]
fn an_index_from_before_the_outbox_is_upgraded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let m = {
        let (mut store, _) = MessageStore::open(dir.path()).expect("open");
        leave_message(
            &mut store,
            &mailbox("202"),
            1500,
            envelope("201", NOW, false),
        )
    };
    // Back to schema 1, as a program without the outbox left it.
    {
        let path = dir
            .path()
            .join(voicemail::VOICEMAIL_DIR)
            .join(voicemail::INDEX_FILE);
        let conn = rusqlite::Connection::open(path).expect("index");
        conn.execute_batch("DROP TABLE email_outbox; PRAGMA user_version = 1;")
            .expect("downgraded");
    }
    let (mut store, report) = MessageStore::open(dir.path()).expect("upgrade");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(store.message(m.id).expect("read"), Some(m.clone()));
    let e = store
        .queue_email(m.id, "bob@example.com", EmailMode::Notify, NOW)
        .expect("queued after the upgrade");
    assert_eq!(store.due_emails(NOW, 1).expect("due"), vec![e]);
}

#[test]
fn an_email_whose_message_vanished_by_hand_is_never_due() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut store, _) = MessageStore::open(dir.path()).expect("open");
    let m = leave_message(
        &mut store,
        &mailbox("202"),
        1500,
        envelope("201", NOW, false),
    );
    store
        .queue_email(m.id, "bob@example.com", EmailMode::Copy, NOW)
        .expect("queued");
    // Another connection removes the message row behind the store's back.
    let path = dir
        .path()
        .join(voicemail::VOICEMAIL_DIR)
        .join(voicemail::INDEX_FILE);
    let conn = rusqlite::Connection::open(path).expect("index");
    conn.execute("DELETE FROM messages WHERE id = ?1", [m.id.0 as i64])
        .expect("row removed");
    assert!(store.due_emails(NOW, 10).expect("due").is_empty());
    assert_eq!(store.pending_emails().expect("pending").len(), 1);
    drop(store);
    let (store, report) = MessageStore::open(dir.path()).expect("reopen");
    assert_eq!(report.emails_dropped, [m.id]);
    assert!(store.pending_emails().expect("pending").is_empty());
}
