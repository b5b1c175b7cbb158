//! Logging in to a mailbox: setting PINs, checking them, and locking a mailbox after too
//! many wrong ones. The count and the lock are rows in the index, so a restart does not
//! give a guesser a fresh set of tries.

use crate::error::{SqlContext, VoicemailError};
use crate::mailbox::MailboxId;
use crate::pin::{hash_pin, verify_pin_hash};
use crate::store::{to_i64, to_u64, MessageStore};
use rusqlite::{OptionalExtension, TransactionBehavior};

/// The answer to a PIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinCheck {
    /// Right. If `must_change`, the caller must choose a new PIN before anything else
    /// (first login after an administrator set it).
    Accepted {
        /// A new PIN must be chosen now.
        must_change: bool,
    },
    /// Wrong.
    Wrong {
        /// Tries left before the mailbox locks; `None` when lockout is off.
        attempts_left: Option<u32>,
    },
    /// The mailbox is locked (by this attempt or earlier ones); no PIN is checked until
    /// `until` (unix seconds).
    LockedOut {
        /// When the lock ends.
        until: u64,
    },
    /// The mailbox has no PIN set.
    NoPin,
}

/// A mailbox's PIN state, without the PIN.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PinStatus {
    /// A PIN is set.
    pub has_pin: bool,
    /// It must be changed at the next login.
    pub must_change: bool,
    /// Wrong PINs since the last right one or the last lock.
    pub failed_attempts: u32,
    /// When the current (or last) lock ends, unix seconds.
    pub locked_until: Option<u64>,
}

impl MessageStore {
    /// Sets the PIN of `mailbox` after checking it against the
    /// [`crate::StoreOptions::pin_policy`]. An administrator setting an initial PIN passes
    /// `must_change = true`; a user changing their own passes `false`. Either way the
    /// failure count and any lock are cleared.
    pub fn set_pin(
        &mut self,
        mailbox: &MailboxId,
        pin: &str,
        must_change: bool,
    ) -> Result<(), VoicemailError> {
        self.options
            .pin_policy
            .check(pin, mailbox)
            .map_err(VoicemailError::PinRefused)?;
        let hash = hash_pin(pin)?;
        self.conn
            .execute(
                "INSERT INTO mailboxes (mailbox, pin_hash, must_change, failed_attempts, locked_until)
                 VALUES (?1, ?2, ?3, 0, NULL)
                 ON CONFLICT (mailbox) DO UPDATE SET pin_hash = ?2, must_change = ?3,
                     failed_attempts = 0, locked_until = NULL",
                rusqlite::params![mailbox.as_str(), hash, must_change],
            )
            .ctx("setting a PIN")?;
        Ok(())
    }

    /// Removes the PIN of `mailbox` (then [`MessageStore::verify_pin`] answers
    /// [`PinCheck::NoPin`]).
    pub fn clear_pin(&mut self, mailbox: &MailboxId) -> Result<(), VoicemailError> {
        self.conn
            .execute(
                "UPDATE mailboxes SET pin_hash = NULL, must_change = 0, failed_attempts = 0,
                     locked_until = NULL WHERE mailbox = ?1",
                [mailbox.as_str()],
            )
            .ctx("clearing a PIN")?;
        Ok(())
    }

    /// Checks `pin` for `mailbox` at `now` (unix seconds). While the mailbox is locked the
    /// PIN is not even looked at. A right PIN resets the failure count; the
    /// [`crate::LockoutPolicy::max_failures`]-th wrong one in a row locks the mailbox for
    /// [`crate::LockoutPolicy::lock_secs`] and starts a fresh count for after the lock.
    pub fn verify_pin(
        &mut self,
        mailbox: &MailboxId,
        pin: &str,
        now: u64,
    ) -> Result<PinCheck, VoicemailError> {
        let row: Option<(Option<String>, bool, Option<i64>)> = self
            .conn
            .query_row(
                "SELECT pin_hash, must_change, locked_until FROM mailboxes WHERE mailbox = ?1",
                [mailbox.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .ctx("reading a mailbox's PIN")?;
        let Some((Some(hash), must_change, locked_until)) = row else {
            return Ok(PinCheck::NoPin);
        };
        if let Some(until) = locked_until.map(to_u64).filter(|&t| t > now) {
            return Ok(PinCheck::LockedOut { until });
        }
        // Argon2 takes tens of milliseconds; it runs outside the write transaction so a
        // slow check holds no lock.
        if verify_pin_hash(&hash, pin) {
            self.conn
                .execute(
                    "UPDATE mailboxes SET failed_attempts = 0, locked_until = NULL
                     WHERE mailbox = ?1",
                    [mailbox.as_str()],
                )
                .ctx("resetting the failure count")?;
            return Ok(PinCheck::Accepted { must_change });
        }
        self.count_failure(mailbox, now)
    }

    fn count_failure(&mut self, mailbox: &MailboxId, now: u64) -> Result<PinCheck, VoicemailError> {
        let policy = self.options.lockout;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .ctx("starting to count a wrong PIN")?;
        let failed: i64 = tx
            .query_row(
                "UPDATE mailboxes SET failed_attempts = failed_attempts + 1 WHERE mailbox = ?1
                 RETURNING failed_attempts",
                [mailbox.as_str()],
                |r| r.get(0),
            )
            .ctx("counting a wrong PIN")?;
        let failed = u32::try_from(failed).unwrap_or(u32::MAX);
        let check = if policy.max_failures == 0 {
            PinCheck::Wrong {
                attempts_left: None,
            }
        } else if failed >= policy.max_failures {
            let until = now.saturating_add(policy.lock_secs);
            tx.execute(
                "UPDATE mailboxes SET failed_attempts = 0, locked_until = ?2 WHERE mailbox = ?1",
                rusqlite::params![mailbox.as_str(), to_i64(until)],
            )
            .ctx("locking a mailbox")?;
            tracing::warn!(%mailbox, failed, until, "mailbox locked after wrong PINs");
            PinCheck::LockedOut { until }
        } else {
            PinCheck::Wrong {
                attempts_left: Some(policy.max_failures - failed),
            }
        };
        tx.commit().ctx("committing a wrong PIN")?;
        Ok(check)
    }

    /// Lifts a lock and clears the failure count (an administrator's action).
    pub fn unlock(&mut self, mailbox: &MailboxId) -> Result<(), VoicemailError> {
        self.conn
            .execute(
                "UPDATE mailboxes SET failed_attempts = 0, locked_until = NULL WHERE mailbox = ?1",
                [mailbox.as_str()],
            )
            .ctx("unlocking a mailbox")?;
        Ok(())
    }

    /// The PIN state of `mailbox` (all defaults for a mailbox never given a PIN).
    pub fn pin_status(&self, mailbox: &MailboxId) -> Result<PinStatus, VoicemailError> {
        let status = self
            .conn
            .query_row(
                "SELECT pin_hash IS NOT NULL, must_change, failed_attempts, locked_until
                 FROM mailboxes WHERE mailbox = ?1",
                [mailbox.as_str()],
                |r| {
                    let failed: i64 = r.get(2)?;
                    let until: Option<i64> = r.get(3)?;
                    Ok(PinStatus {
                        has_pin: r.get(0)?,
                        must_change: r.get(1)?,
                        failed_attempts: u32::try_from(failed).unwrap_or(u32::MAX),
                        locked_until: until.map(to_u64),
                    })
                },
            )
            .optional()
            .ctx("reading a mailbox's PIN state")?;
        Ok(status.unwrap_or_default())
    }
}
