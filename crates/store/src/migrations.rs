//! The database schema, as an ordered list of migrations tracked by `PRAGMA user_version`.
//!
//! Migrations are only ever appended: migration N takes a database from schema N-1 to N.
//! Each runs in its own `BEGIN IMMEDIATE` transaction that re-reads the version first, so
//! two processes opening a new database at once (the server and the CLI) do not both run it.

use crate::error::StoreError;
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// The schema steps; index i holds the SQL taking schema i to schema i+1.
const MIGRATIONS: &[&str] = &[
    // 1: configuration versions and the audit trail.
    "CREATE TABLE config_versions (
         version    INTEGER PRIMARY KEY,
         applied_at INTEGER NOT NULL,   -- unix seconds
         author     TEXT NOT NULL,
         source     TEXT NOT NULL,
         document   TEXT NOT NULL       -- the exported TOML document
     );
     CREATE TABLE audit (
         id             INTEGER PRIMARY KEY AUTOINCREMENT,
         at             INTEGER NOT NULL, -- unix seconds
         actor          TEXT NOT NULL,
         source         TEXT NOT NULL,
         action         TEXT NOT NULL,
         detail         TEXT NOT NULL,
         config_version INTEGER REFERENCES config_versions(version)
     );
     CREATE INDEX audit_at ON audit(at);",
    // 2: call detail records.
    "CREATE TABLE call_records (
         id          INTEGER PRIMARY KEY AUTOINCREMENT,
         call_id     TEXT NOT NULL,
         caller      TEXT NOT NULL,
         callee      TEXT NOT NULL,
         started_ms  INTEGER NOT NULL,  -- unix milliseconds
         answered_ms INTEGER,
         ended_ms    INTEGER NOT NULL,
         status      INTEGER NOT NULL,  -- the final SIP status the caller got
         cause       TEXT NOT NULL,
         media       TEXT NOT NULL DEFAULT ''  -- media statistics, when relayed
     );
     CREATE INDEX call_records_started ON call_records(started_ms);",
    // 3: the account code a call was charged to (entered by short code before dialling).
    "ALTER TABLE call_records ADD COLUMN account_code TEXT;",
];

/// Why a schema could not be brought up to date by [`run_migrations`].
#[derive(Debug)]
pub enum MigrationFailure {
    /// The file was written by a newer program.
    TooNew {
        /// The schema version found in the file.
        found: i64,
        /// The newest schema version the migrations given reach.
        supported: i64,
    },
    /// An SQLite operation failed.
    Sqlite {
        /// What was being done.
        context: &'static str,
        /// What SQLite said.
        source: rusqlite::Error,
    },
}

fn user_version(conn: &Connection) -> Result<i64, MigrationFailure> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|source| MigrationFailure::Sqlite {
            context: "reading the schema version",
            source,
        })
}

/// Brings a database to the last of `migrations` (index i holds the SQL taking schema i
/// to i+1; the version is kept in `PRAGMA user_version`). Each step runs in its own
/// `BEGIN IMMEDIATE` transaction that re-reads the version first, so that two processes
/// opening a new database at once do not both run it. `what` names the database in the
/// log. Shared with the other SQLite files of a node (the voicemail index).
pub fn run_migrations(
    conn: &mut Connection,
    migrations: &[&str],
    what: &str,
) -> Result<(), MigrationFailure> {
    let latest = i64::try_from(migrations.len()).unwrap_or(i64::MAX);
    let sqlite = |context| move |source| MigrationFailure::Sqlite { context, source };
    loop {
        let found = user_version(conn)?;
        if found > latest {
            return Err(MigrationFailure::TooNew {
                found,
                supported: latest,
            });
        }
        if found == latest {
            return Ok(());
        }
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sqlite("starting a schema migration"))?;
        // Another process may have migrated while we waited for the write lock.
        let current = user_version(&tx)?;
        if current == found {
            let step = usize::try_from(current).unwrap_or(usize::MAX);
            let Some(sql) = migrations.get(step) else {
                return Ok(());
            };
            tx.execute_batch(sql)
                .map_err(sqlite("running a schema migration"))?;
            // PRAGMA takes no bound parameters; the value is our own integer.
            tx.execute_batch(&format!("PRAGMA user_version = {}", current + 1))
                .map_err(sqlite("recording the schema version"))?;
            tracing::info!(schema = current + 1, database = what, "schema migrated");
        }
        tx.commit()
            .map_err(sqlite("committing a schema migration"))?;
    }
}

/// Brings the database at `path` to the latest schema.
pub(crate) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    run_migrations(conn, MIGRATIONS, "configuration database").map_err(|e| match e {
        MigrationFailure::TooNew { found, supported } => StoreError::SchemaTooNew {
            path: path.to_owned(),
            found,
            supported,
        },
        MigrationFailure::Sqlite { context, source } => StoreError::Sqlite { context, source },
    })
}
