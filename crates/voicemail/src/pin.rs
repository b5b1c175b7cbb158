//! Mailbox PINs: the complexity rule, the lockout rule, and hashing.
//!
//! A PIN is typed on a keypad, so it is digits only and short; what makes one weak is
//! being guessable at a glance (`1111`, `1234`, `4321`, the mailbox's own number), and
//! what protects a short secret is the lockout after a few wrong tries (see
//! `access.rs`). PINs are stored as Argon2id PHC strings, like the administrators'
//! passwords in the configuration store; the plain PIN only passes through here.

use crate::error::VoicemailError;
use crate::mailbox::MailboxId;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use rand::RngCore;
use std::fmt;

/// What a new PIN must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinPolicy {
    /// The fewest digits. Default 4.
    pub min_len: usize,
    /// The most digits (longer input is more likely a mistake). Default 16.
    pub max_len: usize,
}

impl Default for PinPolicy {
    fn default() -> Self {
        PinPolicy {
            min_len: 4,
            max_len: 16,
        }
    }
}

/// Why a new PIN is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinRefusal {
    /// Fewer digits than the policy's minimum.
    TooShort {
        /// The minimum.
        min: usize,
    },
    /// More digits than the policy's maximum.
    TooLong {
        /// The maximum.
        max: usize,
    },
    /// Something other than the digits 0-9 (a keypad has no other way to enter it).
    NotDigits,
    /// One digit repeated (`0000`, `77777`).
    AllSameDigit,
    /// A run of consecutive digits up or down (`1234`, `4321`; `7890` and `0987` too, the
    /// way they run on a keypad's top row and back).
    Sequence,
    /// The mailbox's own number.
    MailboxNumber,
}

impl fmt::Display for PinRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinRefusal::TooShort { min } => write!(f, "too short: at least {min} digits"),
            PinRefusal::TooLong { max } => write!(f, "too long: at most {max} digits"),
            PinRefusal::NotDigits => f.write_str("only the digits 0-9 are allowed"),
            PinRefusal::AllSameDigit => f.write_str("must not be one digit repeated"),
            PinRefusal::Sequence => f.write_str("must not be a run of consecutive digits"),
            PinRefusal::MailboxNumber => f.write_str("must not be the mailbox number"),
        }
    }
}

impl PinPolicy {
    /// Checks a new PIN for `mailbox`.
    pub fn check(&self, pin: &str, mailbox: &MailboxId) -> Result<(), PinRefusal> {
        if !pin.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PinRefusal::NotDigits);
        }
        // All ASCII from here: bytes are characters.
        if pin.len() < self.min_len.max(1) {
            return Err(PinRefusal::TooShort {
                min: self.min_len.max(1),
            });
        }
        if pin.len() > self.max_len {
            return Err(PinRefusal::TooLong { max: self.max_len });
        }
        let digits: Vec<u8> = pin.bytes().map(|b| b - b'0').collect();
        if digits.windows(2).all(|w| w[0] == w[1]) {
            return Err(PinRefusal::AllSameDigit);
        }
        let up = digits.windows(2).all(|w| w[1] == (w[0] + 1) % 10);
        let down = digits.windows(2).all(|w| w[0] == (w[1] + 1) % 10);
        if up || down {
            return Err(PinRefusal::Sequence);
        }
        if pin == mailbox.as_str() {
            return Err(PinRefusal::MailboxNumber);
        }
        Ok(())
    }
}

/// When wrong PINs lock a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Wrong PINs in a row that lock the mailbox. Default 5; 0 never locks.
    pub max_failures: u32,
    /// How long a lock lasts, in seconds. Default 900 (15 minutes).
    pub lock_secs: u64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        LockoutPolicy {
            max_failures: 5,
            lock_secs: 15 * 60,
        }
    }
}

/// Hashes a PIN to an Argon2id PHC string with a fresh random salt.
pub(crate) fn hash_pin(pin: &str) -> Result<String, VoicemailError> {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    Argon2::default()
        .hash_password_with_salt(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(VoicemailError::PinHash)
}

/// True when `pin` matches the PHC string `hash`; a malformed hash matches nothing.
pub(crate) fn verify_pin_hash(hash: &str, pin: &str) -> bool {
    Argon2::default()
        .verify_password(pin.as_bytes(), hash)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pin: &str) -> Result<(), PinRefusal> {
        PinPolicy::default().check(pin, &MailboxId::new("2017").unwrap())
    }

    #[test]
    fn policy_refusals() {
        assert_eq!(check("123"), Err(PinRefusal::TooShort { min: 4 }));
        assert_eq!(check(""), Err(PinRefusal::TooShort { min: 4 }));
        assert_eq!(check(&"5".repeat(17)), Err(PinRefusal::TooLong { max: 16 }));
        assert_eq!(check("12a4"), Err(PinRefusal::NotDigits));
        assert_eq!(check("１２３４"), Err(PinRefusal::NotDigits));
        assert_eq!(check("0000"), Err(PinRefusal::AllSameDigit));
        for run in [
            "1234",
            "4321",
            "0123",
            "56789",
            "7890",
            "0987",
            "9876543210",
        ] {
            assert_eq!(check(run), Err(PinRefusal::Sequence), "{run}");
        }
        assert_eq!(check("2017"), Err(PinRefusal::MailboxNumber));
        assert_eq!(
            check("25802580258025802"),
            Err(PinRefusal::TooLong { max: 16 })
        );
        for ok in ["2580", "1357", "1243", "7102", "90210", "1122"] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn hash_round_trip() {
        let h = hash_pin("2580").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_pin_hash(&h, "2580"));
        assert!(!verify_pin_hash(&h, "2581"));
        assert!(!verify_pin_hash("2580", "2580"));
    }
}
