//! Messages: the envelope, committing a recording as one, listing, state changes,
//! deletion, forwarding and counts.

use crate::error::{io_error, write_error, SqlContext, VoicemailError};
use crate::mailbox::{MailboxId, MessageId};
use crate::store::{to_i64, to_u64, CommitOutcome, MessageStore};
use crate::wav;
use crate::writer::{remove_quietly, sync_dir, AudioWriter, Finished, TEMP_PREFIX};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What a stored item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A message a caller left.
    Message,
    /// A call recording placed in the mailbox.
    Recording,
}

/// Where a message is in its life. Listening to a new message makes it old; saving keeps
/// it from automatic clean-up (which is not part of this crate yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageState {
    /// Not listened to yet.
    New,
    /// Listened to.
    Old,
    /// Listened to and kept on purpose.
    Saved,
}

impl MessageKind {
    fn as_sql(self) -> &'static str {
        match self {
            MessageKind::Message => "message",
            MessageKind::Recording => "recording",
        }
    }
}

impl MessageState {
    pub(crate) fn as_sql(self) -> &'static str {
        match self {
            MessageState::New => "new",
            MessageState::Old => "old",
            MessageState::Saved => "saved",
        }
    }
}

/// The caller's part of an envelope, given when a recording is committed as a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// A message or a call recording.
    pub kind: MessageKind,
    /// The caller's number, if known (not for anonymous calls).
    pub caller_number: Option<String>,
    /// The caller's display name, if given.
    pub caller_name: Option<String>,
    /// When the message was received (unix seconds).
    pub received_at: u64,
    /// Marked urgent by the caller.
    pub urgent: bool,
}

/// A stored message: its envelope and where its audio is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Unique in the store.
    pub id: MessageId,
    /// The mailbox it is in.
    pub mailbox: MailboxId,
    /// A message or a call recording.
    pub kind: MessageKind,
    /// The caller's number, if known.
    pub caller_number: Option<String>,
    /// The caller's display name, if given.
    pub caller_name: Option<String>,
    /// When it was received in this mailbox (unix seconds; for a forwarded copy, when it
    /// was forwarded).
    pub received_at: u64,
    /// The length of the audio.
    pub duration_ms: u64,
    /// New, old or saved.
    pub state: MessageState,
    /// The audio file's name in the mailbox directory (see [`MessageStore::message_path`]).
    pub file: String,
    /// Marked urgent.
    pub urgent: bool,
    /// For a forwarded copy, the mailbox it was forwarded from.
    pub forwarded_from: Option<MailboxId>,
}

/// How many messages a mailbox holds in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailboxCounts {
    /// Not listened to.
    pub new: u32,
    /// Listened to.
    pub old: u32,
    /// Saved.
    pub saved: u32,
}

const COLUMNS: &str = "id, mailbox, kind, caller_number, caller_name, received_at, duration_ms, \
                       state, file, urgent, forwarded_from";

fn bad_column(i: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        rusqlite::types::Type::Text,
        format!("unexpected {what} in the voicemail index").into(),
    )
}

fn mailbox_column(row: &Row<'_>, i: usize) -> rusqlite::Result<MailboxId> {
    let s: String = row.get(i)?;
    MailboxId::new(&s).map_err(|_| bad_column(i, "mailbox name"))
}

fn message_from_row(row: &Row<'_>) -> rusqlite::Result<Message> {
    let kind = match row.get_ref(2)?.as_str()? {
        "message" => MessageKind::Message,
        "recording" => MessageKind::Recording,
        _ => return Err(bad_column(2, "message kind")),
    };
    let state = match row.get_ref(7)?.as_str()? {
        "new" => MessageState::New,
        "old" => MessageState::Old,
        "saved" => MessageState::Saved,
        _ => return Err(bad_column(7, "message state")),
    };
    let forwarded_from: Option<String> = row.get(10)?;
    Ok(Message {
        id: MessageId(to_u64(row.get(0)?)),
        mailbox: mailbox_column(row, 1)?,
        kind,
        caller_number: row.get(3)?,
        caller_name: row.get(4)?,
        received_at: to_u64(row.get(5)?),
        duration_ms: to_u64(row.get(6)?),
        state,
        file: row.get(8)?,
        urgent: row.get(9)?,
        forwarded_from: forwarded_from
            .map(|f| MailboxId::new(&f).map_err(|_| bad_column(10, "mailbox name")))
            .transpose()?,
    })
}

impl MessageStore {
    /// Commits `writer`'s recording as a new message in its mailbox: the file is completed
    /// and put in place, then the index row is inserted in a transaction. A recording
    /// shorter than [`crate::StoreOptions::min_message_ms`] is discarded and reported as
    /// [`CommitOutcome::TooShort`]. On any error neither the file nor a row remains.
    pub fn commit_message(
        &mut self,
        mut writer: AudioWriter,
        envelope: NewMessage,
    ) -> Result<CommitOutcome<Message>, VoicemailError> {
        let min_ms = self.options.min_message_ms;
        let (file, path, duration_ms) = match writer.finish(min_ms)? {
            Finished::TooShort { duration_ms } => {
                return Ok(CommitOutcome::TooShort {
                    duration_ms,
                    min_ms,
                })
            }
            Finished::Placed {
                file_name,
                path,
                duration_ms,
            } => (file_name, path, duration_ms),
        };
        let message = Message {
            id: writer.id(),
            mailbox: writer.mailbox().clone(),
            kind: envelope.kind,
            caller_number: envelope.caller_number,
            caller_name: envelope.caller_name,
            received_at: envelope.received_at,
            duration_ms,
            state: MessageState::New,
            file,
            urgent: envelope.urgent,
            forwarded_from: None,
        };
        self.insert_placed(&message, &path)?;
        Ok(CommitOutcome::Stored(message))
    }

    /// Inserts the row of a message whose file is already in place; on failure the file is
    /// removed so that nothing is left half-stored.
    fn insert_placed(&mut self, m: &Message, path: &Path) -> Result<(), VoicemailError> {
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .ctx("starting to store a message")?;
            tx.execute(
                &format!("INSERT INTO messages ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
                rusqlite::params![
                    to_i64(m.id.0),
                    m.mailbox.as_str(),
                    m.kind.as_sql(),
                    m.caller_number,
                    m.caller_name,
                    to_i64(m.received_at),
                    to_i64(m.duration_ms),
                    m.state.as_sql(),
                    m.file,
                    m.urgent,
                    m.forwarded_from.as_ref().map(MailboxId::as_str),
                ],
            )
            .ctx("storing a message")?;
            tx.commit().ctx("committing a message")
        })();
        if result.is_err() {
            remove_quietly(path);
        }
        result
    }

    /// The message with this id, if it exists.
    pub fn message(&self, id: MessageId) -> Result<Option<Message>, VoicemailError> {
        read_message(&self.conn, id)
    }

    /// The messages of `mailbox` in `state`, in playing order: urgent ones first, then
    /// oldest first (ties by id, which is the order they were recorded).
    pub fn messages(
        &self,
        mailbox: &MailboxId,
        state: MessageState,
    ) -> Result<Vec<Message>, VoicemailError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM messages WHERE mailbox = ?1 AND state = ?2 \
                 ORDER BY urgent DESC, received_at, id"
            ))
            .ctx("listing messages")?;
        let rows = stmt
            .query_map([mailbox.as_str(), state.as_sql()], message_from_row)
            .ctx("listing messages")?;
        rows.collect::<Result<Vec<_>, _>>().ctx("listing messages")
    }

    /// Moves a message to `state`.
    pub fn set_state(&mut self, id: MessageId, state: MessageState) -> Result<(), VoicemailError> {
        let n = self
            .conn
            .execute(
                "UPDATE messages SET state = ?2 WHERE id = ?1",
                rusqlite::params![to_i64(id.0), state.as_sql()],
            )
            .ctx("changing a message's state")?;
        if n == 0 {
            return Err(VoicemailError::UnknownMessage(id));
        }
        Ok(())
    }

    /// Marks a message old (listened to).
    pub fn mark_old(&mut self, id: MessageId) -> Result<(), VoicemailError> {
        self.set_state(id, MessageState::Old)
    }

    /// Marks a message saved.
    pub fn mark_saved(&mut self, id: MessageId) -> Result<(), VoicemailError> {
        self.set_state(id, MessageState::Saved)
    }

    /// Deletes a message: the row in a transaction (with any email about it still waiting
    /// in the outbox), then the file. A file already gone is not an error; a file that
    /// cannot be removed is logged and left for the next reconciliation to quarantine (the
    /// message is deleted either way).
    pub fn delete(&mut self, id: MessageId) -> Result<(), VoicemailError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("starting to delete a message")?;
        let Some(message) = read_message(&tx, id)? else {
            return Err(VoicemailError::UnknownMessage(id));
        };
        tx.execute("DELETE FROM messages WHERE id = ?1", [to_i64(id.0)])
            .ctx("deleting a message")?;
        // An email not sent yet about a message its owner deleted has nothing to carry.
        tx.execute(
            "DELETE FROM email_outbox WHERE message_id = ?1",
            [to_i64(id.0)],
        )
        .ctx("deleting a message's pending emails")?;
        tx.commit().ctx("committing a deletion")?;
        remove_quietly(&self.message_path(&message));
        Ok(())
    }

    /// Copies a message into mailbox `to` as a new message (state New, received `now`,
    /// remembering where it came from). The copy is written like a recording: a temporary
    /// file, synced and renamed, then the row. The original is untouched.
    pub fn forward(
        &mut self,
        id: MessageId,
        to: &MailboxId,
        now: u64,
    ) -> Result<Message, VoicemailError> {
        let source = self
            .message(id)?
            .ok_or(VoicemailError::UnknownMessage(id))?;
        if &source.mailbox == to {
            return Err(VoicemailError::ForwardToSelf {
                id,
                mailbox: to.clone(),
            });
        }
        let dir = self.ensure_mailbox_dir(to)?;
        let new_id = self.allocate_id()?;
        let (file, path) = copy_into_place(&self.message_path(&source), &dir, new_id)?;
        let copy = Message {
            id: new_id,
            mailbox: to.clone(),
            received_at: now,
            state: MessageState::New,
            file,
            forwarded_from: Some(source.mailbox.clone()),
            ..source
        };
        self.insert_placed(&copy, &path)?;
        Ok(copy)
    }

    /// How many messages `mailbox` holds in each state.
    pub fn counts(&self, mailbox: &MailboxId) -> Result<MailboxCounts, VoicemailError> {
        let mut counts = MailboxCounts::default();
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT state, count(*) FROM messages WHERE mailbox = ?1 GROUP BY state",
            )
            .ctx("counting messages")?;
        let mut rows = stmt.query([mailbox.as_str()]).ctx("counting messages")?;
        while let Some(row) = rows.next().ctx("counting messages")? {
            let state: String = row.get(0).ctx("counting messages")?;
            let n: i64 = row.get(1).ctx("counting messages")?;
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            match state.as_str() {
                "new" => counts.new = n,
                "old" => counts.old = n,
                "saved" => counts.saved = n,
                _ => {}
            }
        }
        Ok(counts)
    }

    /// Where a message's audio is.
    pub fn message_path(&self, message: &Message) -> PathBuf {
        self.mailbox_dir(&message.mailbox).join(&message.file)
    }

    /// The samples of a message (8 kHz, 16-bit).
    pub fn read_audio(&self, message: &Message) -> Result<Vec<i16>, VoicemailError> {
        wav::read_samples(&self.message_path(message))
    }
}

/// The message with this id, if it exists, read on `conn` (the store's connection or a
/// transaction on it).
pub(crate) fn read_message(
    conn: &Connection,
    id: MessageId,
) -> Result<Option<Message>, VoicemailError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM messages WHERE id = ?1"),
        [to_i64(id.0)],
        message_from_row,
    )
    .optional()
    .ctx("reading a message")
}

/// Copies `src` to `<dir>/<id>.wav` through a synced temporary file and a rename, so the
/// copy is complete or absent. Returns the new file's name and path.
fn copy_into_place(
    src: &Path,
    dir: &Path,
    id: MessageId,
) -> Result<(String, PathBuf), VoicemailError> {
    let temp = dir.join(format!("{TEMP_PREFIX}{id}.wav"));
    // Read whole (a message is a few megabytes at most) so that a failure reading the
    // original and a failure writing the copy are told apart.
    let bytes = std::fs::read(src).map_err(io_error("read for forwarding", src))?;
    let mut output = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .map_err(|e| write_error(&temp, e))?;
    let written = output.write_all(&bytes).and_then(|()| output.sync_all());
    drop(output);
    if let Err(e) = written {
        remove_quietly(&temp);
        return Err(write_error(&temp, e));
    }
    let file_name = format!("{id}.wav");
    let path = dir.join(&file_name);
    if let Err(e) = std::fs::rename(&temp, &path) {
        remove_quietly(&temp);
        return Err(io_error("rename into place", &temp)(e));
    }
    if let Err(e) = sync_dir(dir) {
        remove_quietly(&path);
        return Err(e);
    }
    Ok((file_name, path))
}
