//! The email outbox: voicemail emails waiting to be sent, kept in the index beside the
//! messages they carry, so that neither a crash nor a mail server that is down loses one.
//!
//! ```text
//!  commit_message ──► queue_email ──► due_emails ──► (the shell sends) ─┬─► email_sent
//!                                         ▲                             │
//!                                         └──── email_failed ◄──────────┘
//!                                     (attempts + 1, next try 30 s, 1 min, 2 min … 1 h)
//! ```
//!
//! The store does not send anything: the shell (the binary) takes the due entries, sends
//! each with whatever SMTP client it has, and reports back. An entry is only ever removed
//! by a successful send ([`MessageStore::email_sent`]) or by its message going (deleted by
//! its owner, or dropped by reconciliation because its file was lost): a failed send is
//! retried with a growing delay, capped at an hour, for as long as it takes.
//!
//! In mode [`EmailMode::Forward`] the message itself leaves the mailbox once its email has
//! been sent, by the same steps as [`MessageStore::delete`] (the row in a transaction, then
//! the file); until then it stays in the mailbox like any other.

use crate::error::{SqlContext, VoicemailError};
use crate::mailbox::{MailboxId, MessageId};
use crate::messages::Message;
use crate::store::{to_i64, to_u64, MessageStore};
use crate::writer::remove_quietly;
use rusqlite::{OptionalExtension, Row, TransactionBehavior};

/// The delay before the first retry of a failed email, in seconds.
pub const EMAIL_RETRY_FIRST_SECS: u64 = 30;
/// The longest delay between two attempts at an email, in seconds.
pub const EMAIL_RETRY_MAX_SECS: u64 = 3600;
/// The longest error text kept with an entry (longer texts are cut at a character
/// boundary).
pub const MAX_EMAIL_ERROR_LEN: usize = 1000;

/// What an email about a message carries, and what becomes of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmailMode {
    /// Who called, when and for how long; no recording.
    Notify,
    /// The same with the recording attached; the message stays in the mailbox.
    Copy,
    /// The recording attached, and the message removed from the mailbox once the email has
    /// been sent.
    Forward,
}

impl EmailMode {
    /// Every mode.
    pub const ALL: [EmailMode; 3] = [EmailMode::Notify, EmailMode::Copy, EmailMode::Forward];

    /// The name: `"notify"`, `"copy"` or `"forward"` (as in the configuration document).
    pub fn as_str(self) -> &'static str {
        match self {
            EmailMode::Notify => "notify",
            EmailMode::Copy => "copy",
            EmailMode::Forward => "forward",
        }
    }

    /// True when the email carries the recording.
    pub fn attaches_audio(self) -> bool {
        !matches!(self, EmailMode::Notify)
    }

    fn from_sql(name: &str) -> Option<EmailMode> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// One email waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The entry's id, unique in the store and never reused.
    pub id: u64,
    /// The message the email is about.
    pub message: MessageId,
    /// The message's mailbox.
    pub mailbox: MailboxId,
    /// Where the email goes.
    pub address: String,
    /// What it carries.
    pub mode: EmailMode,
    /// How many attempts have failed so far.
    pub attempts: u32,
    /// When it is due (unix seconds): when it was queued, then after each failure the
    /// failure's time plus [`email_retry_delay`].
    pub next_attempt_at: u64,
    /// What the last failed attempt said.
    pub last_error: Option<String>,
    /// When it was queued (unix seconds).
    pub created_at: u64,
}

/// The delay after the `attempts`-th failed attempt (1 for the first): 30 s, doubling
/// with each further failure, at most [`EMAIL_RETRY_MAX_SECS`].
pub fn email_retry_delay(attempts: u32) -> u64 {
    let doublings = attempts.saturating_sub(1).min(32);
    EMAIL_RETRY_FIRST_SECS
        .saturating_mul(1u64 << doublings)
        .min(EMAIL_RETRY_MAX_SECS)
}

const COLUMNS: &str =
    "id, message_id, mailbox, address, mode, attempts, next_attempt_at, last_error, created_at";

fn entry_from_row(row: &Row<'_>) -> rusqlite::Result<OutboxEntry> {
    let bad = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("unexpected {what} in the voicemail outbox").into(),
        )
    };
    let mailbox: String = row.get(2)?;
    let mode: String = row.get(4)?;
    Ok(OutboxEntry {
        id: to_u64(row.get(0)?),
        message: MessageId(to_u64(row.get(1)?)),
        mailbox: MailboxId::new(&mailbox).map_err(|_| bad(2, "mailbox name"))?,
        address: row.get(3)?,
        mode: EmailMode::from_sql(&mode).ok_or_else(|| bad(4, "email mode"))?,
        attempts: u32::try_from(to_u64(row.get(5)?)).unwrap_or(u32::MAX),
        next_attempt_at: to_u64(row.get(6)?),
        last_error: row.get(7)?,
        created_at: to_u64(row.get(8)?),
    })
}

/// `text` cut to at most [`MAX_EMAIL_ERROR_LEN`] bytes, at a character boundary.
fn clipped(text: &str) -> &str {
    if text.len() <= MAX_EMAIL_ERROR_LEN {
        return text;
    }
    let mut end = MAX_EMAIL_ERROR_LEN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl MessageStore {
    /// Queues an email about message `message` to `address`, due at once (`now`, unix
    /// seconds). Call it right after the message is committed: from then on the email is
    /// as durable as the message. Fails with [`VoicemailError::UnknownMessage`] when the
    /// message does not exist.
    pub fn queue_email(
        &mut self,
        message: MessageId,
        address: &str,
        mode: EmailMode,
        now: u64,
    ) -> Result<OutboxEntry, VoicemailError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("starting to queue an email")?;
        let mailbox: Option<String> = tx
            .query_row(
                "SELECT mailbox FROM messages WHERE id = ?1",
                [to_i64(message.0)],
                |r| r.get(0),
            )
            .optional()
            .ctx("reading a message")?;
        if mailbox.is_none() {
            return Err(VoicemailError::UnknownMessage(message));
        }
        let entry = tx
            .query_row(
                &format!(
                    "INSERT INTO email_outbox (message_id, mailbox, address, mode, attempts, \
                     next_attempt_at, last_error, created_at) \
                     VALUES (?1, ?2, ?3, ?4, 0, ?5, NULL, ?5) RETURNING {COLUMNS}"
                ),
                rusqlite::params![
                    to_i64(message.0),
                    mailbox,
                    address,
                    mode.as_str(),
                    to_i64(now)
                ],
                entry_from_row,
            )
            .ctx("queueing an email")?;
        tx.commit().ctx("committing a queued email")?;
        Ok(entry)
    }

    /// Up to `limit` entries due at `now` (unix seconds), the longest due first. Entries
    /// whose message is gone (only possible when the index was edited by hand; the next
    /// opening drops them) are never due.
    pub fn due_emails(&self, now: u64, limit: usize) -> Result<Vec<OutboxEntry>, VoicemailError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM email_outbox WHERE next_attempt_at <= ?1 \
                 AND EXISTS (SELECT 1 FROM messages WHERE messages.id = email_outbox.message_id) \
                 ORDER BY next_attempt_at, id LIMIT ?2"
            ))
            .ctx("listing due emails")?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt
            .query_map(rusqlite::params![to_i64(now), limit], entry_from_row)
            .ctx("listing due emails")?;
        rows.collect::<Result<Vec<_>, _>>()
            .ctx("listing due emails")
    }

    /// Every entry of the outbox, due or not, the soonest due first.
    pub fn pending_emails(&self) -> Result<Vec<OutboxEntry>, VoicemailError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM email_outbox ORDER BY next_attempt_at, id"
            ))
            .ctx("listing pending emails")?;
        let rows = stmt
            .query_map([], entry_from_row)
            .ctx("listing pending emails")?;
        rows.collect::<Result<Vec<_>, _>>()
            .ctx("listing pending emails")
    }

    /// Records that `entry`'s email was sent: the entry is removed. In mode
    /// [`EmailMode::Forward`] the message goes too, in the same transaction (with any other
    /// email still pending about it), and then its file; the message is returned so that
    /// the caller can update the mailbox's lamp. Returns `None` otherwise, and when the
    /// message or the entry had gone meanwhile (deleted by its owner while the email was
    /// on its way): nothing is left to do then.
    pub fn email_sent(&mut self, entry: &OutboxEntry) -> Result<Option<Message>, VoicemailError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("starting to record a sent email")?;
        let removed = tx
            .execute(
                "DELETE FROM email_outbox WHERE id = ?1 AND message_id = ?2",
                [to_i64(entry.id), to_i64(entry.message.0)],
            )
            .ctx("removing a sent email")?;
        let mut forwarded = None;
        if removed == 1 && entry.mode == EmailMode::Forward {
            forwarded = crate::messages::read_message(&tx, entry.message)?;
            if forwarded.is_some() {
                tx.execute(
                    "DELETE FROM messages WHERE id = ?1",
                    [to_i64(entry.message.0)],
                )
                .ctx("deleting a forwarded message")?;
                tx.execute(
                    "DELETE FROM email_outbox WHERE message_id = ?1",
                    [to_i64(entry.message.0)],
                )
                .ctx("deleting a forwarded message's emails")?;
            }
        }
        tx.commit().ctx("committing a sent email")?;
        if let Some(message) = &forwarded {
            remove_quietly(&self.message_path(message));
        }
        Ok(forwarded)
    }

    /// Records that an attempt at `entry`'s email failed at `now` with `error` (kept,
    /// clipped to [`MAX_EMAIL_ERROR_LEN`]): one more attempt counted, the next due after
    /// [`email_retry_delay`]. The entry stays for as long as it takes. Returns it as it is
    /// now, or `None` when it had gone meanwhile (its message deleted).
    pub fn email_failed(
        &mut self,
        entry: &OutboxEntry,
        error: &str,
        now: u64,
    ) -> Result<Option<OutboxEntry>, VoicemailError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("starting to record a failed email")?;
        let attempts: Option<i64> = tx
            .query_row(
                "SELECT attempts FROM email_outbox WHERE id = ?1 AND message_id = ?2",
                [to_i64(entry.id), to_i64(entry.message.0)],
                |r| r.get(0),
            )
            .optional()
            .ctx("reading a failed email")?;
        let Some(attempts) = attempts else {
            return Ok(None);
        };
        let attempts = u32::try_from(to_u64(attempts))
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let next = now.saturating_add(email_retry_delay(attempts));
        let updated = tx
            .query_row(
                &format!(
                    "UPDATE email_outbox SET attempts = ?2, next_attempt_at = ?3, \
                     last_error = ?4 WHERE id = ?1 RETURNING {COLUMNS}"
                ),
                rusqlite::params![
                    to_i64(entry.id),
                    i64::from(attempts),
                    to_i64(next),
                    clipped(error)
                ],
                entry_from_row,
            )
            .ctx("recording a failed email")?;
        tx.commit().ctx("committing a failed email")?;
        Ok(Some(updated))
    }

    /// Makes every entry waiting for a retry due at `now` (for when the mail server's
    /// settings changed: there is no point waiting out a delay earned with the old ones).
    /// Attempts are still counted. Returns how many entries were brought forward.
    pub fn retry_emails_now(&mut self, now: u64) -> Result<usize, VoicemailError> {
        self.conn
            .execute(
                "UPDATE email_outbox SET next_attempt_at = ?1 WHERE next_attempt_at > ?1",
                [to_i64(now)],
            )
            .ctx("bringing emails forward")
    }
}
