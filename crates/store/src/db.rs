//! The SQLite store: one database file per node holding every applied configuration version
//! and the audit trail.
//!
//! The server and the CLI open the same file at once, so the database runs in WAL mode with
//! a busy timeout, and every change is one `BEGIN IMMEDIATE` transaction. Times are read from
//! the system clock here (unix seconds): the store is an edge of the system, and records are
//! stamped when they are written.

use crate::audit::insert_audit;
use crate::diff::changes;
use crate::error::{SqlContext, StoreError};
use crate::migrations::migrate;
use crate::model::Config;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The database file's name inside the data directory.
pub const DATABASE_FILE: &str = "strowger.db";

/// How long a writer waits for another process's write to finish before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// An open configuration store. Each handle owns one SQLite connection; open one per thread
/// or process (handles are `Send`, not `Sync`).
#[derive(Debug)]
pub struct Store {
    pub(crate) conn: Connection,
    path: PathBuf,
}

/// One applied configuration version, without its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// The version number (1 for the first applied configuration).
    pub version: u64,
    /// When it was applied (unix seconds).
    pub applied_at: u64,
    /// Who applied it.
    pub author: String,
    /// From where (e.g. "cli", "web 192.0.2.7", "first start").
    pub source: String,
}

impl Store {
    /// Opens (creating if needed) `strowger.db` in `data_dir`, creating the directory too, and
    /// brings its schema up to date.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::CreateDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(DATABASE_FILE);
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(open_err)?;
        // The timeout must be set first: switching to WAL needs a lock another process
        // opening the same new file may hold.
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // Two connections switching a new file to WAL at once can deadlock on the lock
        // upgrade; SQLite then answers SQLITE_BUSY at once instead of waiting, so the
        // switch is retried (bounded) rather than failing the open.
        let mut tries = 0;
        let mode: String = loop {
            match conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0)) {
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 100 =>
                {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                other => break other.map_err(open_err)?,
            }
        };
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(path = %path.display(), %mode, "database is not in WAL mode");
        }
        // NORMAL is safe with WAL: a power cut may lose the last commits, never corrupt.
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(open_err)?;
        migrate(&mut conn, &path)?;
        Ok(Store { conn, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The configuration in force and its version, or `None` before the first apply.
    pub fn current(&self) -> Result<Option<(u64, Config)>, StoreError> {
        let row: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT version, document FROM config_versions ORDER BY version DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .ctx("reading the current configuration")?;
        row.map(|(v, doc)| parse_stored(to_u64(v), &doc).map(|c| (to_u64(v), c)))
            .transpose()
    }

    /// The configuration of an earlier `version` (for comparison or roll-back), if stored.
    pub fn config_at(&self, version: u64) -> Result<Option<Config>, StoreError> {
        let doc: Option<String> = self
            .conn
            .query_row(
                "SELECT document FROM config_versions WHERE version = ?1",
                [to_i64(version)],
                |row| row.get(0),
            )
            .optional()
            .ctx("reading a configuration version")?;
        doc.map(|d| parse_stored(version, &d)).transpose()
    }

    /// The highest applied version, or `None` before the first apply. A cheap query for a
    /// running server to notice that another process (the CLI) applied a configuration.
    pub fn current_version(&self) -> Result<Option<u64>, StoreError> {
        let v: Option<i64> = self
            .conn
            .query_row("SELECT max(version) FROM config_versions", [], |row| {
                row.get(0)
            })
            .ctx("reading the current version")?;
        Ok(v.map(to_u64))
    }

    /// SQLite's `PRAGMA data_version`: changes whenever another connection commits to the
    /// database (not on this handle's own commits). Cheaper still than
    /// [`Store::current_version`]; compare with the value seen last.
    pub fn data_version(&self) -> Result<u64, StoreError> {
        let v: i64 = self
            .conn
            .query_row("PRAGMA data_version", [], |row| row.get(0))
            .ctx("reading the data version")?;
        Ok(to_u64(v))
    }

    /// The newest `limit` applied versions, newest first.
    pub fn history(&self, limit: usize) -> Result<Vec<VersionInfo>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT version, applied_at, author, source FROM config_versions
                 ORDER BY version DESC LIMIT ?1",
            )
            .ctx("reading the version history")?;
        let rows = stmt
            .query_map([to_i64(limit as u64)], |row| {
                Ok(VersionInfo {
                    version: to_u64(row.get(0)?),
                    applied_at: to_u64(row.get(1)?),
                    author: row.get(2)?,
                    source: row.get(3)?,
                })
            })
            .ctx("reading the version history")?;
        rows.collect::<Result<_, _>>()
            .ctx("reading the version history")
    }

    /// Validates `config` and makes it the configuration in force, in one transaction with
    /// the audit rows that summarise the change (see [`crate::changes`]). Returns the new
    /// version.
    ///
    /// A configuration equal to the one in force creates no version: the current version is
    /// returned and the attempt is audited as "no changes". On any error nothing is written
    /// and the previous version stays in force.
    ///
    /// `config` should come from [`Config::from_toml`] with the current configuration as
    /// `previous`, which enforces the rules that need the past (the realm change rule).
    pub fn apply(&mut self, config: &Config, actor: &str, source: &str) -> Result<u64, StoreError> {
        // Without `only_if_empty` a version number always comes back.
        self.apply_inner(config, actor, source, false)
            .map(|v| v.unwrap_or_default())
    }

    /// Applies `config` as version 1 only if no configuration exists yet, atomically; returns
    /// `None` (and writes nothing) if one does. For first start: two processes starting on an
    /// empty database must not both install a default with different random passwords, and
    /// only the one that got `Some` may show the default credentials.
    pub fn apply_first(
        &mut self,
        config: &Config,
        actor: &str,
        source: &str,
    ) -> Result<Option<u64>, StoreError> {
        self.apply_inner(config, actor, source, true)
    }

    fn apply_inner(
        &mut self,
        config: &Config,
        actor: &str,
        source: &str,
        only_if_empty: bool,
    ) -> Result<Option<u64>, StoreError> {
        config.validate().map_err(StoreError::Invalid)?;
        let document = config.to_toml();
        let now = unix_now();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("starting to apply a configuration")?;
        // Read the previous version inside the write transaction, so that the version
        // number and the change summary cannot race with another writer.
        let previous: Option<(i64, String)> = tx
            .query_row(
                "SELECT version, document FROM config_versions ORDER BY version DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .ctx("reading the previous configuration")?;
        if only_if_empty && previous.is_some() {
            return Ok(None);
        }
        let mut summary = Vec::new();
        let next = match &previous {
            None => {
                summary = changes(&Config::default(), config);
                1
            }
            Some((version, doc)) => {
                match Config::from_toml(doc, None) {
                    Ok(old) if old == *config => {
                        insert_audit(
                            &tx,
                            now,
                            actor,
                            source,
                            "config.apply",
                            &format!("no changes; version {version} stays in force"),
                            Some(*version),
                        )?;
                        tx.commit().ctx("recording an unchanged apply")?;
                        return Ok(Some(to_u64(*version)));
                    }
                    Ok(old) => summary = changes(&old, config),
                    // A stored document that no longer validates must not block the
                    // configuration that replaces it; the audit says so.
                    Err(errors) => summary.push(format!(
                        "version {version} could not be read ({} problems); replaced whole",
                        errors.len()
                    )),
                }
                version.saturating_add(1)
            }
        };
        tx.execute(
            "INSERT INTO config_versions (version, applied_at, author, source, document)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![next, to_i64(now), actor, source, document],
        )
        .ctx("storing the configuration version")?;
        insert_audit(
            &tx,
            now,
            actor,
            source,
            "config.apply",
            &format!("version {next} applied ({} changes)", summary.len()),
            Some(next),
        )?;
        for line in &summary {
            insert_audit(&tx, now, actor, source, "config.change", line, Some(next))?;
        }
        tx.commit().ctx("committing the configuration")?;
        tracing::info!(
            version = next,
            actor,
            source,
            changes = summary.len(),
            "configuration applied"
        );
        Ok(Some(to_u64(next)))
    }
}

fn parse_stored(version: u64, document: &str) -> Result<Config, StoreError> {
    Config::from_toml(document, None)
        .map_err(|errors| StoreError::StoredDocumentInvalid { version, errors })
}

/// Unix seconds now; 0 if the clock is before 1970 (then the audit order, by id, still
/// holds).
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// SQLite integers are signed; versions, ids and times are never negative.
pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// The reverse of [`to_u64`], saturating (no value we store comes near 2^63).
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
