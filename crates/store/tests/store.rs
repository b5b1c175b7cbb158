//! The SQLite store on real files: versions, audit trail, concurrent handles, failures.

mod common;

use common::base_document;
use store::{Config, Credentials, Store, StoreError, DATABASE_FILE};

fn base() -> Config {
    Config::from_toml(&base_document(), None).expect("valid")
}

#[test]
fn open_creates_directory_and_wal_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("nested").join("data");
    let mut store = Store::open(&data).expect("open");
    assert_eq!(store.path(), data.join(DATABASE_FILE));
    assert_eq!(store.current().expect("current"), None);
    assert_eq!(store.current_version().expect("version"), None);
    store.apply(&base(), "admin", "test").expect("apply");
    // In WAL mode commits go to the -wal file beside the database while it is open.
    assert!(data.join(format!("{DATABASE_FILE}-wal")).exists());
    drop(store);
    // Reopening finds the schema in place and the configuration kept.
    let store = Store::open(&data).expect("reopen");
    assert_eq!(store.current().expect("current").map(|(v, _)| v), Some(1));
}

#[test]
fn apply_creates_versions_and_audit_rows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path()).expect("open");
    let first = base();
    assert_eq!(store.apply(&first, "admin", "cli").expect("apply"), 1);
    let (version, current) = store.current().expect("current").expect("some");
    assert_eq!((version, &current), (1, &first));

    let audit = store.audit(100).expect("audit");
    let details: Vec<&str> = audit.iter().map(|e| e.detail.as_str()).collect();
    assert_eq!(
        details,
        [
            "administrator admin added",
            "user alice added",
            "extension 203 added",
            "extension 202 added",
            "extension 201 added",
            "system.realm \"strowger\" -> \"test\"",
            "system.name \"Strowger\" -> \"Test\"",
            "version 1 applied (7 changes)",
        ]
    );
    assert!(audit
        .iter()
        .all(|e| e.config_version == Some(1) && e.actor == "admin"));
    assert_eq!(
        audit.last().map(|e| e.action.as_str()),
        Some("config.apply")
    );

    let mut second = first.clone();
    second.registrar.min_expires = 120;
    second.extensions[2].credentials = Credentials::from_password("203", "test", "New-Password-99");
    let mut ext = second.extensions[0].clone();
    ext.number = "211".to_owned();
    second.extensions.push(ext);
    second.users.clear();
    assert_eq!(
        store.apply(&second, "bob", "web 192.0.2.7").expect("apply"),
        2
    );
    let details: Vec<String> = store
        .audit(5)
        .expect("audit")
        .into_iter()
        .map(|e| e.detail)
        .collect();
    assert_eq!(
        details,
        [
            "user alice removed",
            "extension 211 added",
            "extension 203 password changed",
            "registrar.min_expires 60 -> 120",
            "version 2 applied (4 changes)",
        ]
    );
    let history = store.history(10).expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!((history[0].version, history[0].author.as_str()), (2, "bob"));
    assert_eq!(history[0].source, "web 192.0.2.7");
    assert_eq!(store.config_at(1).expect("v1"), Some(first));
    assert_eq!(store.config_at(9).expect("v9"), None);
}

#[test]
fn applying_the_same_configuration_creates_no_version() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path()).expect("open");
    let config = base();
    assert_eq!(store.apply(&config, "admin", "cli").expect("apply"), 1);
    assert_eq!(store.apply(&config, "admin", "cli").expect("again"), 1);
    assert_eq!(store.current_version().expect("version"), Some(1));
    let newest = &store.audit(1).expect("audit")[0];
    assert_eq!(newest.detail, "no changes; version 1 stays in force");
}

#[test]
fn failed_apply_leaves_the_previous_version_in_force() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path()).expect("open");
    let good = base();
    store.apply(&good, "admin", "cli").expect("apply");
    let audit_before = store.audit(1000).expect("audit").len();

    let mut bad = good.clone();
    bad.registrar.min_expires = 0;
    bad.extensions[1].number = "201".to_owned();
    match store.apply(&bad, "admin", "cli") {
        Err(StoreError::Invalid(errors)) => {
            let text = errors.to_string();
            assert!(text.contains("registrar.min_expires: must be between 1 and 3600 (got 0)"));
            assert!(text.contains("extensions[1].number: duplicate of extensions[0].number"));
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert_eq!(store.current().expect("current"), Some((1, good)));
    assert_eq!(store.audit(1000).expect("audit").len(), audit_before);
}

#[test]
fn rejected_calls_settings_leave_the_previous_version_in_force() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path()).expect("open");
    let mut good = base();
    good.calls.min_se_secs = 120;
    good.calls.session_expires_secs = 600;
    store.apply(&good, "admin", "cli").expect("apply");
    assert_eq!(store.current().expect("current"), Some((1, good.clone())));
    let audit_before = store.audit(1000).expect("audit").len();

    let mut bad = good.clone();
    bad.calls.min_se_secs = 900;
    match store.apply(&bad, "admin", "cli") {
        Err(StoreError::Invalid(errors)) => assert_eq!(
            errors.to_string(),
            "calls.session_expires_secs: must be 0 (no session timer) or between 900 \
             (calls.min_se_secs) and 86400 (got 600)"
        ),
        other => panic!("expected a validation error, got {other:?}"),
    }
    bad.calls.min_se_secs = 89;
    match store.apply(&bad, "admin", "cli") {
        Err(StoreError::Invalid(errors)) => assert_eq!(
            errors.to_string(),
            "calls.min_se_secs: must be between 90 and 86400 (got 89)"
        ),
        other => panic!("expected a validation error, got {other:?}"),
    }
    let mut bad = good.clone();
    bad.calls.park_timeout_secs = 5;
    match store.apply(&bad, "admin", "cli") {
        Err(StoreError::Invalid(errors)) => assert_eq!(
            errors.to_string(),
            "calls.park_timeout_secs: must be between 10 and 3600 (got 5)"
        ),
        other => panic!("expected a validation error, got {other:?}"),
    }
    assert_eq!(store.current().expect("current"), Some((1, good)));
    assert_eq!(store.audit(1000).expect("audit").len(), audit_before);
}

#[test]
fn events_are_audited_newest_first() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("open");
    store
        .record_event("system", "server", "server.start", "server started")
        .expect("event");
    store
        .record_event(
            "system",
            "127.0.0.5",
            "security.block",
            "source 127.0.0.5 blocked",
        )
        .expect("event");
    let audit = store.audit(10).expect("audit");
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].action, "security.block");
    assert_eq!(audit[0].source, "127.0.0.5");
    assert_eq!(audit[1].detail, "server started");
    assert!(audit[0].id > audit[1].id);
    assert_eq!(audit[0].config_version, None);
    assert!(audit[0].at > 1_600_000_000);
    assert_eq!(store.audit(1).expect("audit").len(), 1);
}

#[test]
fn two_handles_see_each_others_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cli = Store::open(dir.path()).expect("open cli");
    let server = Store::open(dir.path()).expect("open server");
    let seen = server.data_version().expect("data version");
    assert_eq!(server.current_version().expect("version"), None);
    cli.apply(&base(), "admin", "cli").expect("apply");
    assert_ne!(server.data_version().expect("data version"), seen);
    assert_eq!(server.current_version().expect("version"), Some(1));
    assert_eq!(
        server.current().expect("current").map(|(_, c)| c),
        Some(base())
    );
}

#[test]
fn concurrent_writers_in_threads_serialise() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = base();
    let handles: Vec<_> = (0..4u32)
        .map(|t| {
            let path = dir.path().to_owned();
            let mut config = config.clone();
            std::thread::spawn(move || {
                // Every thread opens the new database at once: migration and WAL setup race.
                let mut store = Store::open(&path).expect("open");
                for i in 0..5u32 {
                    config.registrar.max_contacts = 1 + (t * 5 + i) % 20;
                    config.system.name = format!("writer {t} step {i}");
                    store
                        .apply(&config, &format!("writer{t}"), "test")
                        .expect("apply");
                    store
                        .record_event("writer", "test", "test.event", "event")
                        .expect("event");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
    let store = Store::open(dir.path()).expect("open");
    assert_eq!(store.current_version().expect("version"), Some(20));
    let versions: Vec<u64> = store
        .history(100)
        .expect("history")
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions, (1..=20).rev().collect::<Vec<_>>());
}

#[test]
fn database_from_a_newer_program_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    drop(Store::open(dir.path()).expect("open"));
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).expect("raw open");
    conn.execute_batch("PRAGMA user_version = 99")
        .expect("set version");
    drop(conn);
    match Store::open(dir.path()) {
        Err(StoreError::SchemaTooNew { found: 99, .. }) => {}
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[test]
fn a_stored_document_that_no_longer_validates_can_be_replaced() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path()).expect("open");
    store.apply(&base(), "admin", "cli").expect("apply");
    let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).expect("raw open");
    conn.execute(
        "UPDATE config_versions SET document = 'broken = ' WHERE version = 1",
        [],
    )
    .expect("damage");
    match store.current() {
        Err(StoreError::StoredDocumentInvalid { version: 1, .. }) => {}
        other => panic!("expected StoredDocumentInvalid, got {other:?}"),
    }
    assert_eq!(store.apply(&base(), "admin", "repair").expect("apply"), 2);
    assert_eq!(store.current().expect("current").map(|(v, _)| v), Some(2));
}

#[test]
fn apply_first_installs_only_on_an_empty_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path()).expect("open");
    let config = base();
    assert_eq!(
        store
            .apply_first(&config, "system", "first start")
            .expect("first"),
        Some(1)
    );
    let mut other = config.clone();
    other.system.name = "Other".to_owned();
    assert_eq!(
        store
            .apply_first(&other, "system", "first start")
            .expect("second"),
        None
    );
    assert_eq!(store.current().expect("current"), Some((1, config)));
}
