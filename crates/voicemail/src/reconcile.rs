//! Bringing files and index back into agreement when the store opens.
//!
//! The write order (temporary file, rename, then row; row deleted, then file) means a crash
//! can leave only three kinds of disagreement, each with one repair:
//!
//! | found | cause | repair |
//! | --- | --- | --- |
//! | `.tmp-*` file | a recording in progress | removed: it was never committed |
//! | row without its file | file deleted by hand, or lost with a disk | row dropped |
//! | `.wav` without a row | crash between rename and insert, or delete and unlink | moved to `.quarantine/<mailbox>/` |
//!
//! Emails still in the outbox about a message whose row is gone (dropped here) are dropped
//! with it: there is nothing left for them to carry.

use crate::error::{io_error, SqlContext, VoicemailError};
use crate::greeting::GreetingSlot;
use crate::mailbox::{MailboxId, MessageId};
use crate::store::{to_u64, MessageStore, QUARANTINE_DIR};
use crate::writer::{sync_dir, TEMP_PREFIX};
use rusqlite::TransactionBehavior;
use std::collections::HashSet;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// What opening the store repaired. Empty after a clean stop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciliation {
    /// Temporary files of recordings that were never committed, removed.
    pub temp_files_removed: Vec<PathBuf>,
    /// Index rows whose audio file was missing, dropped.
    pub rows_dropped: Vec<DroppedRow>,
    /// Audio files without an index row: where each was, and where it was moved to.
    pub quarantined: Vec<(PathBuf, PathBuf)>,
    /// Emails still waiting in the outbox about messages that are gone (their row was
    /// dropped): the messages' ids, one per email dropped.
    pub emails_dropped: Vec<MessageId>,
}

impl Reconciliation {
    /// True when nothing needed repair.
    pub fn is_clean(&self) -> bool {
        self.temp_files_removed.is_empty()
            && self.rows_dropped.is_empty()
            && self.quarantined.is_empty()
            && self.emails_dropped.is_empty()
    }
}

/// An index row dropped because its file was gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DroppedRow {
    /// A message.
    Message {
        /// Its id.
        id: MessageId,
        /// Its mailbox (as stored).
        mailbox: String,
        /// The missing file's name.
        file: String,
    },
    /// A greeting or recorded name.
    Greeting {
        /// Its mailbox (as stored).
        mailbox: String,
        /// Which greeting.
        slot: GreetingSlot,
        /// The missing file's name.
        file: String,
    },
}

/// Runs the repairs in the table above and reports them.
pub(crate) fn reconcile(store: &mut MessageStore) -> Result<Reconciliation, VoicemailError> {
    let mut report = Reconciliation::default();
    let root = store.root.clone();
    let tx = store
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .ctx("starting reconciliation")?;
    let mut referenced: HashSet<(String, String)> = HashSet::new();

    let messages: Vec<(i64, String, String)> = {
        let mut stmt = tx
            .prepare("SELECT id, mailbox, file FROM messages")
            .ctx("reading message files")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .ctx("reading message files")?;
        rows.collect::<Result<_, _>>()
            .ctx("reading message files")?
    };
    for (id, mailbox, file) in messages {
        if file_exists(&root, &mailbox, &file)? {
            referenced.insert((mailbox, file));
        } else {
            tx.execute("DELETE FROM messages WHERE id = ?1", [id])
                .ctx("dropping a message without its file")?;
            report.rows_dropped.push(DroppedRow::Message {
                id: MessageId(to_u64(id)),
                mailbox,
                file,
            });
        }
    }

    let greetings: Vec<(String, String, String, Option<i64>, String)> = {
        let mut stmt = tx
            .prepare("SELECT mailbox, slot, profile, expires_at, file FROM greetings")
            .ctx("reading greeting files")?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .ctx("reading greeting files")?;
        rows.collect::<Result<_, _>>()
            .ctx("reading greeting files")?
    };
    for (mailbox, slot, profile, expires_at, file) in greetings {
        if file_exists(&root, &mailbox, &file)? {
            referenced.insert((mailbox, file));
            continue;
        }
        tx.execute(
            "DELETE FROM greetings WHERE mailbox = ?1 AND slot = ?2 AND profile = ?3",
            [&mailbox, &slot, &profile],
        )
        .ctx("dropping a greeting without its file")?;
        // The schema's CHECK admits only the slots from_sql knows.
        if let Some(slot) = GreetingSlot::from_sql(&slot, profile, expires_at.map(to_u64)) {
            report.rows_dropped.push(DroppedRow::Greeting {
                mailbox,
                slot,
                file,
            });
        }
    }
    // Emails about messages that are gone (dropped above, or removed from the index by
    // hand) have nothing left to carry.
    let orphans: Vec<i64> = {
        let mut stmt = tx
            .prepare(
                "DELETE FROM email_outbox WHERE message_id NOT IN (SELECT id FROM messages) \
                 RETURNING message_id",
            )
            .ctx("dropping emails without their message")?;
        let rows = stmt
            .query_map([], |r| r.get(0))
            .ctx("dropping emails without their message")?;
        rows.collect::<Result<_, _>>()
            .ctx("dropping emails without their message")?
    };
    report
        .emails_dropped
        .extend(orphans.into_iter().map(|id| MessageId(to_u64(id))));
    tx.commit().ctx("committing reconciliation")?;

    sweep_directories(&root, &referenced, &mut report)?;
    Ok(report)
}

/// Whether `<root>/<mailbox>/<file>` exists. Only "not found" counts as missing: a row is
/// never dropped because of a permission problem or a flaky disk.
fn file_exists(root: &Path, mailbox: &str, file: &str) -> Result<bool, VoicemailError> {
    // A stored name that is not a plain mailbox/file name cannot be one of ours.
    if MailboxId::new(mailbox).is_err() || file.contains(['/', '\\']) || file.starts_with('.') {
        return Ok(false);
    }
    let path = root.join(mailbox).join(file);
    match std::fs::symlink_metadata(&path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_error("inspect", &path)(e)),
    }
}

/// Removes temporary files and quarantines unreferenced `.wav` files in every mailbox
/// directory. Anything else (directories that are not mailboxes, other files) is left.
fn sweep_directories(
    root: &Path,
    referenced: &HashSet<(String, String)>,
    report: &mut Reconciliation,
) -> Result<(), VoicemailError> {
    for entry in std::fs::read_dir(root).map_err(io_error("list", root))? {
        let entry = entry.map_err(io_error("list", root))?;
        let Some(mailbox) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let is_dir = entry
            .file_type()
            .map_err(io_error("inspect", &entry.path()))?
            .is_dir();
        if !is_dir || MailboxId::new(&mailbox).is_err() {
            continue;
        }
        let dir = entry.path();
        let mut changed = false;
        for file in std::fs::read_dir(&dir).map_err(io_error("list", &dir))? {
            let file = file.map_err(io_error("list", &dir))?;
            let Some(name) = file.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let path = file.path();
            if name.starts_with(TEMP_PREFIX) {
                std::fs::remove_file(&path).map_err(io_error("remove", &path))?;
                report.temp_files_removed.push(path);
                changed = true;
            } else if name.ends_with(".wav")
                && !referenced.contains(&(mailbox.clone(), name.clone()))
            {
                let to = quarantine(root, &mailbox, &name, &path)?;
                report.quarantined.push((path, to));
                changed = true;
            }
        }
        if changed {
            sync_dir(&dir)?;
        }
    }
    Ok(())
}

/// Moves `path` to `<root>/.quarantine/<mailbox>/<name>`, adding `.1`, `.2`... before the
/// extension if a file of that name is already there.
fn quarantine(
    root: &Path,
    mailbox: &str,
    name: &str,
    path: &Path,
) -> Result<PathBuf, VoicemailError> {
    let dir = root.join(QUARANTINE_DIR).join(mailbox);
    std::fs::create_dir_all(&dir).map_err(|source| VoicemailError::CreateDir {
        path: dir.clone(),
        source,
    })?;
    let stem = name.strip_suffix(".wav").unwrap_or(name);
    let mut to = dir.join(name);
    let mut n = 0;
    while to.exists() {
        n += 1;
        to = dir.join(format!("{stem}.{n}.wav"));
    }
    std::fs::rename(path, &to).map_err(io_error("quarantine", path))?;
    sync_dir(&dir)?;
    Ok(to)
}
