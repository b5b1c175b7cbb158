//! The index schema, as an ordered list of migrations tracked by `PRAGMA user_version`
//! (the same scheme as the configuration store's).
//!
//! Migrations are only ever appended: migration N takes the index from schema N-1 to N.
//! Each runs in its own `BEGIN IMMEDIATE` transaction that re-reads the version first, so
//! two processes opening a new index at once do not both run it.

use crate::error::VoicemailError;
use rusqlite::Connection;
use std::path::Path;
use store::MigrationFailure;

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
    // 2: the email outbox. AUTOINCREMENT so that an id is never reused: a sender holding
    // an entry across a slow send must never remove another entry that took its id.
    "CREATE TABLE email_outbox (
         id              INTEGER PRIMARY KEY AUTOINCREMENT,
         message_id      INTEGER NOT NULL,     -- messages.id
         mailbox         TEXT NOT NULL,
         address         TEXT NOT NULL,
         mode            TEXT NOT NULL CHECK (mode IN ('notify', 'copy', 'forward')),
         attempts        INTEGER NOT NULL DEFAULT 0,
         next_attempt_at INTEGER NOT NULL,     -- unix seconds
         last_error      TEXT,
         created_at      INTEGER NOT NULL      -- unix seconds
     );
     CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at);
     CREATE INDEX email_outbox_by_message ON email_outbox (message_id);",
];

/// Brings the index at `path` to the latest schema (the runner is the configuration
/// store's: one scheme for every SQLite file of a node).
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), VoicemailError> {
    store::run_migrations(conn, MIGRATIONS, "voicemail index").map_err(|e| match e {
        MigrationFailure::TooNew { found, supported } => VoicemailError::SchemaTooNew {
            path: path.to_owned(),
            found,
            supported,
        },
        MigrationFailure::Sqlite { context, source } => VoicemailError::Sqlite { context, source },
    })
}
