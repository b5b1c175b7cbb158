//! The store itself: the `voicemail/` directory under the data directory, its SQLite
//! index, and opening both (with crash reconciliation).
//!
//! ```text
//! <data_dir>/voicemail/
//!     index.sqlite          the index (WAL): messages, greetings, PIN state, email outbox
//!     201/                  one directory per mailbox
//!         17.wav            message 17 (or a greeting: the index says which)
//!         .tmp-18.wav       a recording in progress
//!     .quarantine/201/      complete files found without an index row
//! ```
//!
//! Message operations live in `messages.rs`, greetings in `greeting.rs`, PINs in
//! `access.rs`, the email outbox in `outbox.rs`; each is an `impl MessageStore` block over the connection held here.

use crate::error::{SqlContext, VoicemailError};
use crate::mailbox::{MailboxId, MessageId};
use crate::migrations::migrate;
use crate::pin::{LockoutPolicy, PinPolicy};
use crate::reconcile::{reconcile, Reconciliation};
use crate::writer::{sync_dir, AudioWriter};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The store's directory inside the data directory.
pub const VOICEMAIL_DIR: &str = "voicemail";
/// The index file's name inside [`VOICEMAIL_DIR`].
pub const INDEX_FILE: &str = "index.sqlite";
/// Where complete audio files without an index row are moved, inside [`VOICEMAIL_DIR`].
/// The leading dot keeps it from ever being taken for a mailbox.
pub const QUARANTINE_DIR: &str = ".quarantine";

/// How long a writer waits for another connection's write before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The store's tunables; [`StoreOptions::default`] gives a phone system's usual values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// Messages shorter than this are discarded on commit (a caller who hangs up during
    /// the greeting leaves no message). Default 1000 ms.
    pub min_message_ms: u64,
    /// Greetings and recorded names shorter than this are discarded. Default 500 ms.
    pub min_greeting_ms: u64,
    /// What a new PIN must satisfy.
    pub pin_policy: PinPolicy,
    /// When wrong PINs lock a mailbox.
    pub lockout: LockoutPolicy,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            min_message_ms: 1000,
            min_greeting_ms: 500,
            pin_policy: PinPolicy::default(),
            lockout: LockoutPolicy::default(),
        }
    }
}

/// What a commit did: stored the recording, or discarded it as too short.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum CommitOutcome<T> {
    /// Stored; the file is in place and the index row written.
    Stored(T),
    /// Shorter than the minimum: discarded, nothing stored.
    TooShort {
        /// How long the recording was.
        duration_ms: u64,
        /// The minimum it had to reach.
        min_ms: u64,
    },
}

/// An open voicemail store. It owns one SQLite connection (`Send`, not `Sync`): keep it
/// on one thread and hand [`AudioWriter`]s to the threads that record.
///
/// Only one store may be open on a data directory at a time: opening one reconciles the
/// directory, which removes the temporary files of any recording in progress.
#[derive(Debug)]
pub struct MessageStore {
    pub(crate) conn: Connection,
    pub(crate) root: PathBuf,
    pub(crate) options: StoreOptions,
}

impl MessageStore {
    /// Opens (creating if needed) the store under `data_dir` with default options. See
    /// [`MessageStore::open_with`].
    pub fn open(data_dir: &Path) -> Result<(MessageStore, Reconciliation), VoicemailError> {
        MessageStore::open_with(data_dir, StoreOptions::default())
    }

    /// Opens (creating if needed) `<data_dir>/voicemail/`, brings the index schema up to
    /// date, and reconciles files and index after a crash: leftover `.tmp-*` files are
    /// removed, index rows whose file is gone are dropped, and complete `.wav` files
    /// without a row are moved to [`QUARANTINE_DIR`] (kept, not deleted: such a file is a
    /// message whose row was never written, and an administrator may want it). The report
    /// says what was done.
    pub fn open_with(
        data_dir: &Path,
        options: StoreOptions,
    ) -> Result<(MessageStore, Reconciliation), VoicemailError> {
        let root = data_dir.join(VOICEMAIL_DIR);
        std::fs::create_dir_all(&root).map_err(|source| VoicemailError::CreateDir {
            path: root.clone(),
            source,
        })?;
        let path = root.join(INDEX_FILE);
        let mut conn = open_index(&path)?;
        migrate(&mut conn, &path)?;
        let mut store = MessageStore {
            conn,
            root,
            options,
        };
        let report = reconcile(&mut store)?;
        if !report.is_clean() {
            tracing::warn!(?report, "voicemail store reconciled after an unclean stop");
        }
        Ok((store, report))
    }

    /// The store's directory (`<data_dir>/voicemail`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// The directory of `mailbox`'s files.
    pub fn mailbox_dir(&self, mailbox: &MailboxId) -> PathBuf {
        self.root.join(mailbox.as_str())
    }

    /// Starts a recording (a message, a call recording or a greeting) for `mailbox`,
    /// creating the mailbox directory if needed. The writer's id is reserved at once and
    /// never reused, whether or not the recording is committed.
    pub fn start_recording(&mut self, mailbox: &MailboxId) -> Result<AudioWriter, VoicemailError> {
        let dir = self.ensure_mailbox_dir(mailbox)?;
        let id = self.allocate_id()?;
        AudioWriter::create(dir, mailbox.clone(), id)
    }

    /// Creates the mailbox directory (durably) if it does not exist yet.
    pub(crate) fn ensure_mailbox_dir(
        &self,
        mailbox: &MailboxId,
    ) -> Result<PathBuf, VoicemailError> {
        let dir = self.mailbox_dir(mailbox);
        if !dir.is_dir() {
            std::fs::create_dir_all(&dir).map_err(|source| VoicemailError::CreateDir {
                path: dir.clone(),
                source,
            })?;
            sync_dir(&self.root)?;
        }
        Ok(dir)
    }

    /// Takes the next id from the counter (one statement, so atomic by itself).
    pub(crate) fn allocate_id(&mut self) -> Result<MessageId, VoicemailError> {
        let id: i64 = self
            .conn
            .query_row(
                "UPDATE id_counter SET next = next + 1 WHERE only = 1 RETURNING next - 1",
                [],
                |row| row.get(0),
            )
            .ctx("allocating a message id")?;
        Ok(MessageId(to_u64(id)))
    }
}

fn open_index(path: &Path) -> Result<Connection, VoicemailError> {
    let open_err = |source| VoicemailError::Open {
        path: path.to_owned(),
        source,
    };
    let conn = Connection::open(path).map_err(open_err)?;
    // The timeout must be set first: switching to WAL needs a lock another connection
    // opening the same new file may hold.
    conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(open_err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(path = %path.display(), %mode, "voicemail index is not in WAL mode");
    }
    // FULL, not NORMAL: a committed message must survive a power cut, since its caller
    // has hung up and cannot leave it again. The write rate is a few rows per minute.
    conn.execute_batch("PRAGMA synchronous = FULL;")
        .map_err(open_err)?;
    Ok(conn)
}

/// Unix seconds and counts go into SQLite as i64; values beyond i64 (never met in
/// practice) saturate rather than wrap.
pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The reverse of [`to_i64`]; a negative value (only from a hand-edited index) reads as 0.
pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
