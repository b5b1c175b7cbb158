//! The index schema, as an ordered list of migrations tracked by `PRAGMA user_version`
//! (the same scheme as the configuration store's).
//!
//! Migrations are only ever appended: migration N takes the index from schema N-1 to N.
//! Each runs in its own `BEGIN IMMEDIATE` transaction that re-reads the version first, so
//! two processes opening a new index at once do not both run it.

use crate::error::{SqlContext, VoicemailError};
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// The schema steps; index i holds the SQL taking schema i to schema i+1.
const MIGRATIONS: &[&str] = &[
    // 1: messages, greetings, mailbox PIN state, and the id counter.
    "CREATE TABLE id_counter (
         only INTEGER PRIMARY KEY CHECK (only = 1),
         next INTEGER NOT NULL
     );
     INSERT INTO id_counter (only, next) VALUES (1, 1);
     CREATE TABLE messages (
         id             INTEGER PRIMARY KEY,   -- from id_counter, never reused
         mailbox        TEXT NOT NULL,
         kind           TEXT NOT NULL CHECK (kind IN ('message', 'recording')),
         caller_number  TEXT,
         caller_name    TEXT,
         received_at    INTEGER NOT NULL,      -- unix seconds
         duration_ms    INTEGER NOT NULL,
         state          TEXT NOT NULL CHECK (state IN ('new', 'old', 'saved')),
         file           TEXT NOT NULL,         -- inside the mailbox directory
         urgent         INTEGER NOT NULL DEFAULT 0,
         forwarded_from TEXT,
         UNIQUE (mailbox, file)
     );
     CREATE INDEX messages_by_state ON messages (mailbox, state, received_at);
     CREATE TABLE greetings (
         mailbox     TEXT NOT NULL,
         slot        TEXT NOT NULL CHECK (slot IN ('normal', 'temporary', 'profile', 'name')),
         profile     TEXT NOT NULL DEFAULT '', -- the time profile, for slot 'profile'
         expires_at  INTEGER,                  -- unix seconds, for slot 'temporary'
         file        TEXT NOT NULL,
         duration_ms INTEGER NOT NULL,
         recorded_at INTEGER NOT NULL,         -- unix seconds
         PRIMARY KEY (mailbox, slot, profile),
         UNIQUE (mailbox, file)
     );
     CREATE TABLE mailboxes (
         mailbox         TEXT PRIMARY KEY,
         pin_hash        TEXT,                 -- Argon2id PHC string
         must_change     INTEGER NOT NULL DEFAULT 0,
         failed_attempts INTEGER NOT NULL DEFAULT 0,
         locked_until    INTEGER               -- unix seconds
     );",
];

/// The schema version this program writes.
pub(crate) fn latest() -> i64 {
    // The list is short; the conversion cannot overflow.
    i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
}

fn user_version(conn: &Connection) -> Result<i64, VoicemailError> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
        .ctx("reading the schema version")
}

/// Brings the index at `path` to the latest schema.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), VoicemailError> {
    loop {
        let found = user_version(conn)?;
        if found > latest() {
            return Err(VoicemailError::SchemaTooNew {
                path: path.to_owned(),
                found,
                supported: latest(),
            });
        }
        if found == latest() {
            return Ok(());
        }
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("starting a schema migration")?;
        // Another process may have migrated while we waited for the write lock.
        let current = user_version(&tx)?;
        if current == found {
            let step = usize::try_from(current).unwrap_or(usize::MAX);
            let Some(sql) = MIGRATIONS.get(step) else {
                return Ok(());
            };
            tx.execute_batch(sql).ctx("running a schema migration")?;
            // PRAGMA takes no bound parameters; the value is our own integer.
            tx.execute_batch(&format!("PRAGMA user_version = {}", current + 1))
                .ctx("recording the schema version")?;
            tracing::info!(schema = current + 1, "voicemail index schema migrated");
        }
        tx.commit().ctx("committing a schema migration")?;
    }
}
