//! Passwords: the strength rule, digest HA1 hashing for extensions, Argon2id hashing for
//! administrators, and generation of strong random passwords.
//!
//! Plain passwords only pass through here on their way to a hash; nothing in this module
//! stores or logs them.

use argon2::password_hash::{phc::PasswordHash, PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use md5::{Digest, Md5};
use rand::seq::SliceRandom;
use rand::{Rng, RngCore};
use sha2::Sha256;
use std::fmt;

/// The shortest acceptable password.
pub const MIN_PASSWORD_LEN: usize = 12;
/// The longest accepted password (longer input is more likely a paste error than a secret).
pub const MAX_PASSWORD_LEN: usize = 128;

/// Why a password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasswordProblem {
    /// Empty.
    Empty,
    /// Longer than [`MAX_PASSWORD_LEN`] characters.
    TooLong,
    /// Contains a control character (a newline, a tab...), which phones cannot type.
    ControlCharacter,
    /// Shorter than [`MIN_PASSWORD_LEN`] or fewer than 3 character classes.
    TooWeak,
    /// Contains the identity it protects (an extension number, a login name).
    ContainsIdentity {
        /// What it contains, e.g. "the extension number".
        what: &'static str,
    },
}

impl fmt::Display for PasswordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordProblem::Empty => f.write_str("must not be empty"),
            PasswordProblem::TooLong => {
                write!(f, "too long: at most {MAX_PASSWORD_LEN} characters")
            }
            PasswordProblem::ControlCharacter => f.write_str("must not contain control characters"),
            PasswordProblem::TooWeak => write!(
                f,
                "too weak: at least {MIN_PASSWORD_LEN} characters with 3 of \
                 lower/upper/digit/symbol"
            ),
            PasswordProblem::ContainsIdentity { what } => {
                write!(f, "too weak: must not contain {what}")
            }
        }
    }
}

/// The checks every password must pass, even when weak passwords are allowed for bulk
/// imports: something a phone can be configured with.
pub fn check_password_form(password: &str) -> Result<(), PasswordProblem> {
    if password.is_empty() {
        return Err(PasswordProblem::Empty);
    }
    if password.chars().count() > MAX_PASSWORD_LEN {
        return Err(PasswordProblem::TooLong);
    }
    if password.chars().any(char::is_control) {
        return Err(PasswordProblem::ControlCharacter);
    }
    Ok(())
}

/// The strength rule: [`check_password_form`], at least [`MIN_PASSWORD_LEN`] characters from
/// at least 3 of the classes lower case, upper case, digit and symbol, and not containing
/// `identity` (compared case-insensitively; `what` names it in the error).
pub fn check_password_strength(
    password: &str,
    identity: &str,
    what: &'static str,
) -> Result<(), PasswordProblem> {
    check_password_form(password)?;
    let (mut lower, mut upper, mut digit, mut symbol) = (false, false, false, false);
    for c in password.chars() {
        if c.is_ascii_digit() {
            digit = true;
        } else if c.is_lowercase() {
            lower = true;
        } else if c.is_uppercase() {
            upper = true;
        } else {
            symbol = true;
        }
    }
    let classes = [lower, upper, digit, symbol].iter().filter(|&&b| b).count();
    if password.chars().count() < MIN_PASSWORD_LEN || classes < 3 {
        return Err(PasswordProblem::TooWeak);
    }
    if !identity.is_empty() && password.to_lowercase().contains(&identity.to_lowercase()) {
        return Err(PasswordProblem::ContainsIdentity { what });
    }
    Ok(())
}

/// Digest HA1 with MD5: `MD5(number ":" realm ":" password)` in lowercase hex.
pub fn ha1_md5(number: &str, realm: &str, password: &str) -> String {
    let mut h = Md5::new();
    feed_ha1(&mut h, number, realm, password);
    hex::encode(h.finalize())
}

/// Digest HA1 with SHA-256 (RFC 7616): `SHA-256(number ":" realm ":" password)`, lowercase
/// hex.
pub fn ha1_sha256(number: &str, realm: &str, password: &str) -> String {
    let mut h = Sha256::new();
    feed_ha1(&mut h, number, realm, password);
    hex::encode(h.finalize())
}

fn feed_ha1(h: &mut impl Digest, number: &str, realm: &str, password: &str) {
    h.update(number.as_bytes());
    h.update(b":");
    h.update(realm.as_bytes());
    h.update(b":");
    h.update(password.as_bytes());
}

/// Hashes an administrator password to an Argon2id PHC string with a fresh random salt.
pub fn hash_admin_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    // Argon2 only fails on a salt outside 8..=64 bytes or invalid parameters; the salt is 16
    // bytes and the parameters are the crate's defaults, so this cannot fail.
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .expect("argon2 with default parameters and a 16-byte salt cannot fail")
}

/// True when `password` matches the Argon2 PHC string `hash`. A malformed hash matches
/// nothing.
pub fn verify_admin_password(hash: &str, password: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Whether `hash` is an Argon2id PHC string this program can verify; the reason if not.
pub fn check_admin_hash(hash: &str) -> Result<(), String> {
    match PasswordHash::new(hash) {
        Ok(parsed) if parsed.algorithm.as_str() == "argon2id" => {
            if parsed.salt.is_none() || parsed.hash.is_none() {
                Err("not a complete argon2id PHC string (salt or hash missing)".to_owned())
            } else {
                Ok(())
            }
        }
        Ok(parsed) => Err(format!(
            "must be an argon2id PHC string (got algorithm {})",
            parsed.algorithm.as_str()
        )),
        Err(e) => Err(format!("not a PHC string ($argon2id$v=19$...): {e}")),
    }
}

const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"-_.+=@%!";

/// A random password of `len` characters (at least 4) that passes
/// [`check_password_strength`] for `identity`. Look-alike characters (l, 1, I, O, 0) are left
/// out because these passwords are typed into phones from a printout.
pub fn generate_password(len: usize, identity: &str) -> String {
    let len = len.max(MIN_PASSWORD_LEN);
    let mut rng = rand::thread_rng();
    let all: Vec<u8> = [LOWER, UPPER, DIGITS, SYMBOLS].concat();
    loop {
        // One of each class guarantees the class rule; the rest is uniform over all classes.
        let mut chars: Vec<u8> = [LOWER, UPPER, DIGITS, SYMBOLS]
            .iter()
            .map(|set| set[rng.gen_range(0..set.len())])
            .collect();
        while chars.len() < len {
            chars.push(all[rng.gen_range(0..all.len())]);
        }
        chars.shuffle(&mut rng);
        let password: String = chars.into_iter().map(char::from).collect();
        // Containing the identity is rare (a 3-digit number in 16 characters); draw again.
        if check_password_strength(&password, identity, "the identity").is_ok() {
            return password;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strength_rule() {
        assert_eq!(
            check_password_strength("short1A!", "", "x"),
            Err(PasswordProblem::TooWeak)
        );
        assert_eq!(
            check_password_strength("alllowercaseletters", "", "x"),
            Err(PasswordProblem::TooWeak)
        );
        // Two classes only.
        assert_eq!(
            check_password_strength("abcdefgh12345", "", "x"),
            Err(PasswordProblem::TooWeak)
        );
        assert!(check_password_strength("abcdefgh1234X", "", "x").is_ok());
        assert!(check_password_strength("abcdefgh-1234", "", "x").is_ok());
        assert_eq!(
            check_password_strength("Secret-201-pass", "201", "the extension number"),
            Err(PasswordProblem::ContainsIdentity {
                what: "the extension number"
            })
        );
        assert_eq!(check_password_form(""), Err(PasswordProblem::Empty));
        assert_eq!(
            check_password_form("a\tb"),
            Err(PasswordProblem::ControlCharacter)
        );
        assert_eq!(
            check_password_form(&"a".repeat(129)),
            Err(PasswordProblem::TooLong)
        );
    }

    #[test]
    fn ha1_matches_rfc_2617_example() {
        // RFC 2617 §3.5: Mufasa / testrealm@host.com / Circle Of Life.
        assert_eq!(
            ha1_md5("Mufasa", "testrealm@host.com", "Circle Of Life"),
            "939e7578ed9e3c518a452acee763bce9"
        );
        // RFC 7616 §3.9.1: Mufasa / http-auth@example.org / Circle of Life.
        assert_eq!(
            ha1_sha256("Mufasa", "http-auth@example.org", "Circle of Life"),
            "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232"
        );
    }

    #[test]
    fn generated_passwords_are_strong() {
        for _ in 0..200 {
            let p = generate_password(16, "201");
            assert_eq!(p.len(), 16);
            assert!(check_password_strength(&p, "201", "x").is_ok(), "{p}");
        }
    }

    #[test]
    fn admin_hash_round_trip() {
        let h = hash_admin_password("Correct-Horse-9");
        assert!(h.starts_with("$argon2id$"));
        assert!(check_admin_hash(&h).is_ok());
        assert!(verify_admin_password(&h, "Correct-Horse-9"));
        assert!(!verify_admin_password(&h, "Correct-Horse-8"));
        assert!(check_admin_hash("$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$aGFzaA").is_err());
        assert!(check_admin_hash("plain").is_err());
        assert!(!verify_admin_password("plain", "plain"));
    }
}
