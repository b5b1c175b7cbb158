//! HTTP Digest authentication for SIP (RFC 3261 §22, RFC 7616, RFC 8760), sans-IO.
//!
//! - [`Challenger`] (server side) issues `WWW-Authenticate`/`Proxy-Authenticate` values and
//!   verifies `Authorization`/`Proxy-Authorization` values against a stored HA1 — never a
//!   password. Its nonces are stateless: they carry their issue time and an HMAC, so any
//!   node holding the same [`NonceSecret`] can check them, and nothing is stored per
//!   challenge.
//! - [`answer_challenge`] (client side, for trunks and tests) answers a challenge.
//!
//! What is not here: choosing between 401 and 407, which header carries the values, user
//! lookup and nonce-count replay tracking belong to the caller (the registrar, the call
//! server). Time is always passed in as Unix seconds; this module never reads a clock.

mod client;
mod nonce;
mod server;

pub use client::{answer_challenge, pick_challenge};
pub use nonce::NonceSecret;
pub use server::{Challenger, Credentials, Verified};

use md5::Md5;
use sha2::{Digest, Sha256};
use std::fmt;

/// A digest hash algorithm (RFC 7616 §3.2, RFC 8760 for SIP).
///
/// The `-sess` variants are not a separate algorithm here: [`answer_challenge`] answers
/// them, and the server side refuses them (it never offers them), see [`Challenger`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// `MD5`, the RFC 2617 default, still what most phones use.
    Md5,
    /// `SHA-256` (RFC 7616, RFC 8760).
    Sha256,
}

impl DigestAlgorithm {
    /// The name as written in the `algorithm` parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Sha256 => "SHA-256",
        }
    }

    /// Parses an `algorithm` value (case-insensitive). Returns the algorithm and whether it
    /// is the `-sess` variant; `None` for algorithms we do not implement (SHA-512-256 ...).
    pub fn parse(name: &str) -> Option<(DigestAlgorithm, bool)> {
        let (base, sess) = match name.len().checked_sub(5) {
            Some(cut)
                if name.is_char_boundary(cut) && name[cut..].eq_ignore_ascii_case("-sess") =>
            {
                (&name[..cut], true)
            }
            _ => (name, false),
        };
        let alg = if base.eq_ignore_ascii_case("MD5") {
            DigestAlgorithm::Md5
        } else if base.eq_ignore_ascii_case("SHA-256") {
            DigestAlgorithm::Sha256
        } else {
            return None;
        };
        Some((alg, sess))
    }

    /// Length of a hash of this algorithm in lowercase hex.
    pub fn hex_len(self) -> usize {
        match self {
            DigestAlgorithm::Md5 => 32,
            DigestAlgorithm::Sha256 => 64,
        }
    }

    /// H(data) in lowercase hex.
    fn hash(self, data: &[u8]) -> String {
        match self {
            DigestAlgorithm::Md5 => hex::encode(Md5::digest(data)),
            DigestAlgorithm::Sha256 => hex::encode(Sha256::digest(data)),
        }
    }

    /// H of several parts joined with `:` — every digest formula has that shape.
    fn hash_joined(self, parts: &[&str]) -> String {
        self.hash(parts.join(":").as_bytes())
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// HA1 = H(username:realm:password) in lowercase hex (RFC 7616 §3.4.2).
///
/// This is what the configuration store keeps per user, per realm and per algorithm, so
/// that a leaked database does not reveal passwords usable elsewhere.
pub fn ha1(alg: DigestAlgorithm, username: &str, realm: &str, password: &str) -> String {
    alg.hash_joined(&[username, realm, password])
}

/// The quality of protection used in a response. Only `auth` is implemented: `auth-int`
/// would need the body here and no SIP phone relies on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Qop {
    /// RFC 2069 compatibility: no qop, no nc, no cnonce.
    None,
    /// `qop=auth`.
    Auth,
}

/// The inputs of a `response` computation, shared by the client and the server so that
/// both sides cannot drift apart.
struct ResponseInput<'a> {
    alg: DigestAlgorithm,
    ha1: &'a str,
    nonce: &'a str,
    method: &'a str,
    uri: &'a str,
    qop: Qop,
    nc: &'a str,
    cnonce: &'a str,
}

impl ResponseInput<'_> {
    /// The `response` value (RFC 7616 §3.4.1; RFC 2069 form when there is no qop).
    fn response(&self) -> String {
        let ha2 = self.alg.hash_joined(&[self.method, self.uri]);
        match self.qop {
            Qop::Auth => {
                self.alg
                    .hash_joined(&[self.ha1, self.nonce, self.nc, self.cnonce, "auth", &ha2])
            }
            Qop::None => self.alg.hash_joined(&[self.ha1, self.nonce, &ha2]),
        }
    }
}

/// Why credentials were not accepted. Each variant says what the caller should do through
/// [`AuthError::reply`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The request carries no credentials for us.
    #[error("no credentials")]
    Missing,
    /// The header value is not usable Digest credentials (or, client side, not a usable
    /// challenge).
    #[error("malformed digest header: {0}")]
    Malformed(Malformed),
    /// The scheme is not `Digest`.
    #[error("unsupported authentication scheme {0:?}")]
    UnsupportedScheme(String),
    /// The credentials are for another realm.
    #[error("realm {got:?} is not ours ({expected:?})")]
    WrongRealm {
        /// The realm we challenge with.
        expected: String,
        /// The realm in the credentials.
        got: String,
    },
    /// An algorithm we do not implement or do not offer.
    #[error("unsupported digest algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// A qop we do not implement (`auth-int`) or a challenge offering none we know.
    #[error("unsupported qop {0:?}")]
    UnsupportedQop(String),
    /// The `opaque` value is not the one we sent.
    #[error("opaque value does not match")]
    OpaqueMismatch,
    /// The nonce was not issued with our secret (forged, mangled, or from another system).
    #[error("nonce not issued by us")]
    BadNonce,
    /// The response is right but the nonce has expired: challenge again with `stale=true`
    /// and the phone will retry without asking its user.
    #[error("stale nonce for {username:?}")]
    Stale {
        /// The authenticated user.
        username: String,
    },
    /// Wrong password, or an unknown user — deliberately the same error.
    #[error("authentication failed for {username:?}")]
    Failed {
        /// The user name the credentials claim.
        username: String,
    },
}

/// What exactly is wrong with a malformed header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Malformed {
    /// A required parameter is absent.
    #[error("missing parameter {0}")]
    MissingParam(&'static str),
    /// The header value does not parse as `scheme name=value, ...`.
    #[error("{0}")]
    Syntax(crate::ParseError),
    /// `nc` is not 8 hex digits.
    #[error("nonce count {0:?} is not 8 hex digits")]
    BadNonceCount(String),
}

impl From<Malformed> for AuthError {
    fn from(m: Malformed) -> AuthError {
        AuthError::Malformed(m)
    }
}

/// How a server should answer a request whose credentials failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthReply {
    /// 400 Bad Request: the header cannot be read.
    BadRequest,
    /// 401/407 with fresh challenges from [`Challenger::challenge`], passing `stale`.
    Challenge {
        /// Whether to mark the challenges `stale=true`.
        stale: bool,
    },
    /// 403 Forbidden: the credentials were read and are wrong. Challenging again would let
    /// a phone with a wrong password loop.
    Forbidden,
}

impl AuthError {
    /// The recommended answer to the request (RFC 3261 §22.2–22.3, RFC 7616 §3.3).
    pub fn reply(&self) -> AuthReply {
        match self {
            AuthError::Malformed(_) => AuthReply::BadRequest,
            AuthError::Missing
            | AuthError::UnsupportedScheme(_)
            | AuthError::WrongRealm { .. }
            | AuthError::UnsupportedAlgorithm(_)
            | AuthError::UnsupportedQop(_)
            | AuthError::OpaqueMismatch
            | AuthError::BadNonce => AuthReply::Challenge { stale: false },
            AuthError::Stale { .. } => AuthReply::Challenge { stale: true },
            AuthError::Failed { .. } => AuthReply::Forbidden,
        }
    }
}

/// Compares two byte strings in time independent of where they differ, so that a guesser
/// cannot learn a response byte by byte. The length is not secret (it follows from the
/// algorithm).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold into an early-exit comparison.
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names() {
        assert_eq!(
            DigestAlgorithm::parse("md5"),
            Some((DigestAlgorithm::Md5, false))
        );
        assert_eq!(
            DigestAlgorithm::parse("SHA-256-sess"),
            Some((DigestAlgorithm::Sha256, true))
        );
        assert_eq!(
            DigestAlgorithm::parse("MD5-Sess"),
            Some((DigestAlgorithm::Md5, true))
        );
        assert_eq!(DigestAlgorithm::parse("SHA-512-256"), None);
        assert_eq!(DigestAlgorithm::parse("-sess"), None);
        assert_eq!(DigestAlgorithm::parse("é-sess"), None);
        assert_eq!(DigestAlgorithm::parse(""), None);
        assert_eq!(DigestAlgorithm::Sha256.to_string(), "SHA-256");
    }

    #[test]
    fn ha1_rfc2617_example() {
        // RFC 2617 §3.5: HA1 for Mufasa / testrealm@host.com / "Circle Of Life".
        assert_eq!(
            ha1(
                DigestAlgorithm::Md5,
                "Mufasa",
                "testrealm@host.com",
                "Circle Of Life"
            ),
            "939e7578ed9e3c518a452acee763bce9"
        );
    }

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn replies() {
        assert_eq!(
            AuthError::Stale {
                username: "a".into()
            }
            .reply(),
            AuthReply::Challenge { stale: true }
        );
        assert_eq!(
            AuthError::BadNonce.reply(),
            AuthReply::Challenge { stale: false }
        );
        assert_eq!(
            AuthError::Malformed(Malformed::MissingParam("nonce")).reply(),
            AuthReply::BadRequest
        );
        assert_eq!(
            AuthError::Failed {
                username: "a".into()
            }
            .reply(),
            AuthReply::Forbidden
        );
    }
}
