//! Names of mailboxes and ids of messages.
//!
//! A mailbox is named after what it belongs to (an extension number such as `201`, a hunt
//! group's name such as `sales`). The name becomes a directory of the store, so it is
//! checked once here and carried as a [`MailboxId`] afterwards.

use crate::error::VoicemailError;
use std::fmt;

/// The longest mailbox name.
pub const MAX_MAILBOX_LEN: usize = 64;

/// The name of a mailbox: 1 to [`MAX_MAILBOX_LEN`] ASCII letters, digits, `-`, `_` or `+`.
///
/// Those characters are safe as a directory name on every file system and can never name
/// a parent directory or a hidden file, which the store's own files (`.tmp-*`,
/// `.quarantine`) rely on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MailboxId(String);

impl MailboxId {
    /// Checks `name` and wraps it.
    pub fn new(name: &str) -> Result<MailboxId, VoicemailError> {
        let refuse = |reason| VoicemailError::InvalidMailbox {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() {
            return Err(refuse("empty"));
        }
        if name.len() > MAX_MAILBOX_LEN {
            return Err(refuse("longer than 64 characters"));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+'))
        {
            return Err(refuse("only letters, digits, '-', '_' and '+' are allowed"));
        }
        Ok(MailboxId(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MailboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for MailboxId {
    type Err = VoicemailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MailboxId::new(s)
    }
}

/// The id of a stored message, unique in the store and never reused. The audio file of
/// message `n` is `<mailbox>/<n>.wav`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageId(pub u64);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_safe_directories() {
        for ok in ["201", "sales", "Hunt_Group-2", "+441234", "a"] {
            assert_eq!(
                MailboxId::new(ok).map(|m| m.to_string()).ok(),
                Some(ok.into())
            );
        }
        for bad in [
            "",
            ".",
            "..",
            ".tmp",
            "a/b",
            "a b",
            "ü",
            "a\\b",
            &"9".repeat(65),
        ] {
            assert!(MailboxId::new(bad).is_err(), "{bad:?}");
        }
    }
}
