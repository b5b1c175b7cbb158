//! Greetings and the recorded name: which slots a mailbox has, replacing one atomically,
//! and choosing what a caller hears.
//!
//! A mailbox has at most one greeting per slot: the normal greeting, a temporary one
//! ("I am out of the office until Monday", optionally with an expiry time), one per time
//! profile ("out of hours"), and the recorded name the system uses in its own prompts.
//! Greetings are recorded with the same [`AudioWriter`] as messages and live in the
//! mailbox directory beside them; the index says which file is which.

use crate::error::{SqlContext, VoicemailError};
use crate::mailbox::MailboxId;
use crate::store::{to_i64, to_u64, CommitOutcome, MessageStore};
use crate::writer::{remove_quietly, AudioWriter, Finished};
use rusqlite::{OptionalExtension, TransactionBehavior};
use std::path::PathBuf;

/// Which greeting of a mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GreetingSlot {
    /// The greeting played when nothing more specific applies.
    Normal,
    /// A temporary greeting, played instead of all others until it expires.
    Temporary {
        /// When it stops being played (unix seconds); `None`: until removed. Not part of
        /// the slot's identity: any `Temporary` names the one temporary slot.
        expires_at: Option<u64>,
    },
    /// The greeting for while the named time profile is active (profile names come from
    /// the configuration's time profiles).
    Profile(String),
    /// The mailbox owner's recorded name, for the system's own prompts.
    Name,
}

impl GreetingSlot {
    /// The slot's key columns: (slot, profile).
    fn key(&self) -> (&'static str, &str) {
        match self {
            GreetingSlot::Normal => ("normal", ""),
            GreetingSlot::Temporary { .. } => ("temporary", ""),
            GreetingSlot::Profile(p) => ("profile", p),
            GreetingSlot::Name => ("name", ""),
        }
    }

    fn expires_at(&self) -> Option<u64> {
        match self {
            GreetingSlot::Temporary { expires_at } => *expires_at,
            _ => None,
        }
    }

    /// The slot from its stored columns; `None` for a slot name this program does not know.
    pub(crate) fn from_sql(slot: &str, profile: String, expires_at: Option<u64>) -> Option<Self> {
        Some(match slot {
            "normal" => GreetingSlot::Normal,
            "temporary" => GreetingSlot::Temporary { expires_at },
            "profile" => GreetingSlot::Profile(profile),
            "name" => GreetingSlot::Name,
            _ => return None,
        })
    }
}

/// A stored greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    /// Whose.
    pub mailbox: MailboxId,
    /// Which (with the expiry, for a temporary greeting).
    pub slot: GreetingSlot,
    /// The audio file's name in the mailbox directory (see
    /// [`MessageStore::greeting_path`]).
    pub file: String,
    /// The length of the audio.
    pub duration_ms: u64,
    /// When it was recorded (unix seconds).
    pub recorded_at: u64,
}

impl Greeting {
    /// True for a temporary greeting whose expiry is at or before `now`.
    pub fn is_expired(&self, now: u64) -> bool {
        matches!(self.slot, GreetingSlot::Temporary { expires_at: Some(t) } if t <= now)
    }
}

impl MessageStore {
    /// Commits `writer`'s recording as the greeting in `slot` of its mailbox, replacing the
    /// one there: the new file is put in place, the row replaced in a transaction, and only
    /// then the old file removed. A recording shorter than
    /// [`crate::StoreOptions::min_greeting_ms`] is discarded and the old greeting kept.
    pub fn commit_greeting(
        &mut self,
        mut writer: AudioWriter,
        slot: GreetingSlot,
        now: u64,
    ) -> Result<CommitOutcome<Greeting>, VoicemailError> {
        if let GreetingSlot::Profile(p) = &slot {
            if p.is_empty() {
                return Err(VoicemailError::EmptyProfileName);
            }
        }
        let min_ms = self.options.min_greeting_ms;
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
        let greeting = Greeting {
            mailbox: writer.mailbox().clone(),
            slot,
            file,
            duration_ms,
            recorded_at: now,
        };
        let replaced = match self.replace_greeting_row(&greeting) {
            Ok(old) => old,
            Err(e) => {
                remove_quietly(&path);
                return Err(e);
            }
        };
        if let Some(old) = replaced {
            remove_quietly(&self.mailbox_dir(&greeting.mailbox).join(old));
        }
        Ok(CommitOutcome::Stored(greeting))
    }

    /// Writes the greeting's row, returning the file of the row it replaced.
    fn replace_greeting_row(&mut self, g: &Greeting) -> Result<Option<String>, VoicemailError> {
        let (slot, profile) = g.slot.key();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("starting to store a greeting")?;
        let old: Option<String> = tx
            .query_row(
                "SELECT file FROM greetings WHERE mailbox = ?1 AND slot = ?2 AND profile = ?3",
                [g.mailbox.as_str(), slot, profile],
                |r| r.get(0),
            )
            .optional()
            .ctx("reading the greeting replaced")?;
        tx.execute(
            "INSERT OR REPLACE INTO greetings \
             (mailbox, slot, profile, expires_at, file, duration_ms, recorded_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![
                g.mailbox.as_str(),
                slot,
                profile,
                g.slot.expires_at().map(to_i64),
                g.file,
                to_i64(g.duration_ms),
                to_i64(g.recorded_at),
            ],
        )
        .ctx("storing a greeting")?;
        tx.commit().ctx("committing a greeting")?;
        Ok(old)
    }

    /// All greetings of `mailbox`, the recorded name included, expired ones too.
    pub fn greetings(&self, mailbox: &MailboxId) -> Result<Vec<Greeting>, VoicemailError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT slot, profile, expires_at, file, duration_ms, recorded_at \
                 FROM greetings WHERE mailbox = ?1 ORDER BY slot, profile",
            )
            .ctx("listing greetings")?;
        let rows = stmt
            .query_map([mailbox.as_str()], |r| {
                let slot: String = r.get(0)?;
                let expires: Option<i64> = r.get(2)?;
                Ok((slot, r.get(1)?, expires, r.get(3)?, r.get(4)?, r.get(5)?))
            })
            .ctx("listing greetings")?;
        let mut out = Vec::new();
        for row in rows {
            let (slot, profile, expires, file, duration, recorded): (
                String,
                String,
                Option<i64>,
                String,
                i64,
                i64,
            ) = row.ctx("listing greetings")?;
            // A slot this version does not know (a newer program wrote it) is skipped.
            let Some(slot) = GreetingSlot::from_sql(&slot, profile, expires.map(to_u64)) else {
                continue;
            };
            out.push(Greeting {
                mailbox: mailbox.clone(),
                slot,
                file,
                duration_ms: to_u64(duration),
                recorded_at: to_u64(recorded),
            });
        }
        Ok(out)
    }

    /// The greeting in `slot` (any `Temporary` names the temporary slot), if recorded.
    pub fn greeting(
        &self,
        mailbox: &MailboxId,
        slot: &GreetingSlot,
    ) -> Result<Option<Greeting>, VoicemailError> {
        Ok(self
            .greetings(mailbox)?
            .into_iter()
            .find(|g| g.slot.key() == slot.key()))
    }

    /// The recorded name of `mailbox`, if any.
    pub fn recorded_name(&self, mailbox: &MailboxId) -> Result<Option<Greeting>, VoicemailError> {
        self.greeting(mailbox, &GreetingSlot::Name)
    }

    /// What a caller to `mailbox` hears at `now` while `active_profile` (the time profile
    /// in force, if any) applies: the temporary greeting if it has not expired, else that
    /// profile's greeting, else the normal one, else `None` (the caller plays a system
    /// prompt, with the recorded name if there is one).
    pub fn greeting_for(
        &self,
        mailbox: &MailboxId,
        now: u64,
        active_profile: Option<&str>,
    ) -> Result<Option<Greeting>, VoicemailError> {
        let all = self.greetings(mailbox)?;
        let pick = |wanted: &dyn Fn(&GreetingSlot) -> bool| all.iter().find(|g| wanted(&g.slot));
        let chosen = pick(&|s| matches!(s, GreetingSlot::Temporary { .. }))
            .filter(|g| !g.is_expired(now))
            .or_else(|| {
                active_profile
                    .and_then(|p| pick(&|s| matches!(s, GreetingSlot::Profile(q) if q == p)))
            })
            .or_else(|| pick(&|s| *s == GreetingSlot::Normal));
        Ok(chosen.cloned())
    }

    /// Removes the greeting in `slot`: the row in a transaction, then the file. Returns
    /// whether there was one.
    pub fn delete_greeting(
        &mut self,
        mailbox: &MailboxId,
        slot: &GreetingSlot,
    ) -> Result<bool, VoicemailError> {
        let (slot, profile) = slot.key();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("starting to delete a greeting")?;
        let file: Option<String> = tx
            .query_row(
                "DELETE FROM greetings WHERE mailbox = ?1 AND slot = ?2 AND profile = ?3 \
                 RETURNING file",
                [mailbox.as_str(), slot, profile],
                |r| r.get(0),
            )
            .optional()
            .ctx("deleting a greeting")?;
        tx.commit().ctx("committing a greeting deletion")?;
        if let Some(f) = &file {
            remove_quietly(&self.mailbox_dir(mailbox).join(f));
        }
        Ok(file.is_some())
    }

    /// Where a greeting's audio is.
    pub fn greeting_path(&self, greeting: &Greeting) -> PathBuf {
        self.mailbox_dir(&greeting.mailbox).join(&greeting.file)
    }
}
