//! PINs: the policy on setting one, change on first login, and the lockout after wrong
//! PINs, which survives a restart. Time is passed in, never read.

mod common;

use common::mailbox;
use voicemail::{MessageStore, PinCheck, PinRefusal, PinStatus, VoicemailError};

const T0: u64 = 1_700_000_000;

#[test]
fn the_policy_refuses_weak_pins_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = MessageStore::open(dir.path()).unwrap();
    let mb = mailbox("2468");
    for (pin, why) in [
        ("12", PinRefusal::TooShort { min: 4 }),
        ("5555", PinRefusal::AllSameDigit),
        ("3456", PinRefusal::Sequence),
        ("6543", PinRefusal::Sequence),
        ("2468", PinRefusal::MailboxNumber),
        ("12#4", PinRefusal::NotDigits),
    ] {
        match store.set_pin(&mb, pin, false) {
            Err(VoicemailError::PinRefused(r)) => assert_eq!(r, why, "{pin}"),
            other => panic!("{pin}: {other:?}"),
        }
    }
    assert_eq!(store.pin_status(&mb).unwrap(), PinStatus::default());
    assert_eq!(store.verify_pin(&mb, "1234", T0).unwrap(), PinCheck::NoPin);
}

#[test]
fn first_login_must_change_the_pin() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = MessageStore::open(dir.path()).unwrap();
    let mb = mailbox("201");
    store.set_pin(&mb, "7391", true).unwrap();
    assert_eq!(
        store.verify_pin(&mb, "7391", T0).unwrap(),
        PinCheck::Accepted { must_change: true }
    );
    store.set_pin(&mb, "8026", false).unwrap();
    assert_eq!(
        store.verify_pin(&mb, "7391", T0).unwrap(),
        PinCheck::Wrong {
            attempts_left: Some(4)
        }
    );
    assert_eq!(
        store.verify_pin(&mb, "8026", T0).unwrap(),
        PinCheck::Accepted { must_change: false }
    );
    // The stored secret is a hash, never the PIN.
    let conn = rusqlite::Connection::open(
        dir.path()
            .join(voicemail::VOICEMAIL_DIR)
            .join(voicemail::INDEX_FILE),
    )
    .unwrap();
    let hash: String = conn
        .query_row(
            "SELECT pin_hash FROM mailboxes WHERE mailbox = '201'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains("8026"));
}

#[test]
fn five_wrong_pins_lock_for_fifteen_minutes_even_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mb = mailbox("201");
    {
        let (mut store, _) = MessageStore::open(dir.path()).unwrap();
        store.set_pin(&mb, "7391", false).unwrap();
        // A right PIN resets the count: two wrong, one right, then four wrong do not lock.
        for left in [4, 3] {
            assert_eq!(
                store.verify_pin(&mb, "0000", T0).unwrap(),
                PinCheck::Wrong {
                    attempts_left: Some(left)
                }
            );
        }
        assert!(matches!(
            store.verify_pin(&mb, "7391", T0).unwrap(),
            PinCheck::Accepted { .. }
        ));
        for left in [4, 3, 2, 1] {
            assert_eq!(
                store.verify_pin(&mb, "0000", T0 + 1).unwrap(),
                PinCheck::Wrong {
                    attempts_left: Some(left)
                }
            );
        }
        assert_eq!(
            store.pin_status(&mb).unwrap().failed_attempts,
            4,
            "the count is in the index"
        );
    }
    // The process restarts before the fifth try: the count was kept.
    let (mut store, _) = MessageStore::open(dir.path()).unwrap();
    let until = T0 + 2 + 900;
    assert_eq!(
        store.verify_pin(&mb, "0000", T0 + 2).unwrap(),
        PinCheck::LockedOut { until }
    );
    drop(store);

    // Restarted again while locked: still locked, and the right PIN is not even checked.
    let (mut store, _) = MessageStore::open(dir.path()).unwrap();
    assert_eq!(
        store.verify_pin(&mb, "7391", until - 1).unwrap(),
        PinCheck::LockedOut { until }
    );
    // At the lock's end the right PIN works again and clears the state.
    assert_eq!(
        store.verify_pin(&mb, "7391", until).unwrap(),
        PinCheck::Accepted { must_change: false }
    );
    assert_eq!(
        store.pin_status(&mb).unwrap(),
        PinStatus {
            has_pin: true,
            must_change: false,
            failed_attempts: 0,
            locked_until: None
        }
    );
}

#[test]
fn an_administrator_can_unlock() {
    let dir = tempfile::tempdir().unwrap();
    let options = voicemail::StoreOptions {
        lockout: voicemail::LockoutPolicy {
            max_failures: 2,
            lock_secs: 60,
        },
        ..Default::default()
    };
    let (mut store, _) = MessageStore::open_with(dir.path(), options).unwrap();
    let mb = mailbox("201");
    store.set_pin(&mb, "7391", false).unwrap();
    assert!(matches!(
        store.verify_pin(&mb, "1", T0).unwrap(),
        PinCheck::Wrong {
            attempts_left: Some(1)
        }
    ));
    assert_eq!(
        store.verify_pin(&mb, "1", T0).unwrap(),
        PinCheck::LockedOut { until: T0 + 60 }
    );
    store.unlock(&mb).unwrap();
    assert!(matches!(
        store.verify_pin(&mb, "7391", T0 + 1).unwrap(),
        PinCheck::Accepted { .. }
    ));
}
