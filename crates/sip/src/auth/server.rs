//! The server side: challenges and verification of credentials from stored HA1 values.

use super::{
    constant_time_eq, AuthError, DigestAlgorithm, Malformed, NonceSecret, Qop, ResponseInput,
};
use crate::header::AuthParams;
use std::time::Duration;

/// Issues challenges for one realm and verifies the answers.
///
/// ```text
///   request without credentials ──► challenge(now, false) ──► 401/407
///   request with credentials ──► verify(now, ...) ─┬─ Ok(Verified)        ──► go on
///                                                  ├─ Err(Stale)          ──► challenge(now, true)
///                                                  └─ Err(other)          ──► err.reply()
/// ```
///
/// Stateless: nothing is remembered between calls, so one `Challenger` can serve every
/// request of the realm from any thread, and nodes sharing the [`NonceSecret`] accept each
/// other's nonces. Nonce-count replay tracking is left to the caller ([`Verified`] carries
/// the nonce and `nc`); within the nonce lifetime a captured request can be replayed, which
/// for REGISTER only refreshes the same binding.
#[derive(Debug, Clone)]
pub struct Challenger {
    secret: NonceSecret,
    realm: String,
    nonce_lifetime: Duration,
    algorithms: Vec<DigestAlgorithm>,
    opaque: Option<String>,
}

/// Digest credentials read from an `Authorization` or `Proxy-Authorization` value, before
/// any check against our secret or the user's HA1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `username`.
    pub username: String,
    /// `realm`.
    pub realm: String,
    /// `nonce`.
    pub nonce: String,
    /// `uri` (the digest-uri, normally the Request-URI as the client sent it).
    pub uri: String,
    /// `response`.
    pub response: String,
    /// The algorithm (`MD5` when absent, RFC 7616 §3.4).
    pub algorithm: DigestAlgorithm,
    /// True for a `-sess` algorithm (which the server refuses).
    pub session: bool,
    /// `qop`, as sent.
    pub qop: Option<String>,
    /// `nc`, as sent (its text is part of the hash).
    pub nc: Option<String>,
    /// `cnonce`.
    pub cnonce: Option<String>,
    /// `opaque`.
    pub opaque: Option<String>,
}

impl Credentials {
    /// Reads credentials from a parsed header value; only checks that the parameters the
    /// computation needs are present and well formed.
    pub fn from_params(authz: &AuthParams) -> Result<Credentials, AuthError> {
        if !authz.scheme.eq_ignore_ascii_case("Digest") {
            return Err(AuthError::UnsupportedScheme(authz.scheme.clone()));
        }
        let required = |name: &'static str| {
            authz
                .get(name)
                .map(str::to_string)
                .ok_or(Malformed::MissingParam(name))
        };
        let (algorithm, session) = match authz.get("algorithm") {
            None => (DigestAlgorithm::Md5, false),
            Some(name) => DigestAlgorithm::parse(name)
                .ok_or_else(|| AuthError::UnsupportedAlgorithm(name.to_string()))?,
        };
        let optional = |name: &str| authz.get(name).map(str::to_string);
        Ok(Credentials {
            username: required("username")?,
            realm: required("realm")?,
            nonce: required("nonce")?,
            uri: required("uri")?,
            response: required("response")?,
            algorithm,
            session,
            qop: optional("qop"),
            nc: optional("nc"),
            cnonce: optional("cnonce"),
            opaque: optional("opaque"),
        })
    }
}

/// Credentials that proved knowledge of the user's password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The authenticated user name (as the client wrote it; the HA1 lookup found it).
    pub username: String,
    /// The algorithm used.
    pub algorithm: DigestAlgorithm,
    /// The digest-uri the response covers; a strict caller may compare it with the
    /// Request-URI (RFC 7616 §3.4).
    pub uri: String,
    /// The nonce, for callers that track nonce counts.
    pub nonce: String,
    /// When we issued the nonce (Unix seconds).
    pub nonce_issued_at: u64,
    /// The nonce count; `None` for RFC 2069 style credentials (no qop).
    pub nc: Option<u32>,
}

impl Challenger {
    /// A challenger for `realm` offering SHA-256 then MD5, with nonces valid five minutes
    /// and no `opaque`.
    pub fn new(secret: NonceSecret, realm: impl Into<String>) -> Challenger {
        Challenger {
            secret,
            realm: realm.into(),
            nonce_lifetime: Duration::from_secs(300),
            algorithms: vec![DigestAlgorithm::Sha256, DigestAlgorithm::Md5],
            opaque: None,
        }
    }

    /// Sets how long a nonce is accepted after it was issued.
    pub fn with_nonce_lifetime(mut self, lifetime: Duration) -> Challenger {
        self.nonce_lifetime = lifetime;
        self
    }

    /// Sets the algorithms offered, in order of preference (RFC 8760: the most preferred
    /// first). Only these are accepted: dropping MD5 here refuses MD5 answers.
    /// An empty list is replaced by SHA-256 alone rather than locking everyone out.
    pub fn with_algorithms(mut self, algorithms: &[DigestAlgorithm]) -> Challenger {
        self.algorithms = if algorithms.is_empty() {
            vec![DigestAlgorithm::Sha256]
        } else {
            algorithms.to_vec()
        };
        self
    }

    /// Sets an `opaque` value sent in every challenge; answers must return it unchanged.
    pub fn with_opaque(mut self, opaque: impl Into<String>) -> Challenger {
        self.opaque = Some(opaque.into());
        self
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// How long nonces live.
    pub fn nonce_lifetime(&self) -> Duration {
        self.nonce_lifetime
    }

    /// The algorithms offered, most preferred first.
    pub fn algorithms(&self) -> &[DigestAlgorithm] {
        &self.algorithms
    }

    /// One `WWW-Authenticate` (or `Proxy-Authenticate`) value per algorithm offered, in
    /// order of preference, all with the same fresh nonce. Send each as its own header
    /// line: these headers are not comma lists.
    pub fn challenge(&self, now_unix_secs: u64, stale: bool) -> Vec<AuthParams> {
        let nonce = self.secret.issue_random(now_unix_secs, &self.realm);
        self.algorithms
            .iter()
            .map(|alg| {
                let mut params = vec![
                    ("realm".to_string(), self.realm.clone()),
                    ("nonce".to_string(), nonce.clone()),
                ];
                if let Some(opaque) = &self.opaque {
                    params.push(("opaque".to_string(), opaque.clone()));
                }
                if stale {
                    params.push(("stale".to_string(), "true".to_string()));
                }
                params.push(("algorithm".to_string(), alg.as_str().to_string()));
                params.push(("qop".to_string(), "auth".to_string()));
                AuthParams {
                    scheme: "Digest".to_string(),
                    params,
                }
            })
            .collect()
    }

    /// Picks our credentials among the `Authorization` (or `Proxy-Authorization`) values of
    /// a request, e.g. `headers.get_all(&HeaderName::Authorization)`: the first Digest value
    /// for our realm (a request may carry credentials for several realms, RFC 3261 §22.3).
    /// [`AuthError::Missing`] when there are none, [`AuthError::WrongRealm`] when all are
    /// for other realms.
    pub fn find_credentials<'a>(
        &self,
        values: impl IntoIterator<Item = &'a str>,
    ) -> Result<AuthParams, AuthError> {
        let mut other_realm = None;
        for value in values {
            let params = AuthParams::parse(value).map_err(Malformed::Syntax)?;
            if !params.is_digest() {
                continue;
            }
            match params.get("realm") {
                Some(realm) if realm == self.realm => return Ok(params),
                Some(realm) => {
                    other_realm.get_or_insert_with(|| realm.to_string());
                }
                None => return Err(Malformed::MissingParam("realm").into()),
            }
        }
        Err(match other_realm {
            Some(got) => AuthError::WrongRealm {
                expected: self.realm.clone(),
                got,
            },
            None => AuthError::Missing,
        })
    }

    /// Verifies an `Authorization`/`Proxy-Authorization` value for a request with `method`.
    ///
    /// `ha1_lookup(username, algorithm)` returns the stored HA1 (lowercase hex) for this
    /// realm, or `None` for an unknown user. It is only called once the nonce is known to
    /// be ours, so forged nonces never reach the store. An unknown user is checked against
    /// a decoy HA1 with exactly the same work and fails with the same
    /// [`AuthError::Failed`] as a wrong password. A correct answer to an expired nonce
    /// gives [`AuthError::Stale`]; a wrong one stays [`AuthError::Failed`] (RFC 7616 §3.3).
    pub fn verify(
        &self,
        now_unix_secs: u64,
        method: &str,
        authz: &AuthParams,
        ha1_lookup: impl FnOnce(&str, DigestAlgorithm) -> Option<String>,
    ) -> Result<Verified, AuthError> {
        let creds = Credentials::from_params(authz)?;
        let issued_at = self.check_credentials(&creds)?;
        let ha1 = ha1_lookup(&creds.username, creds.algorithm);
        self.check_response(now_unix_secs, method, &creds, issued_at, ha1.as_deref())
    }

    /// The two-step form of [`Challenger::verify`], for callers whose HA1 lookup cannot be
    /// a closure: read the header with [`Credentials::from_params`], look up the HA1 for
    /// `creds.username` and `creds.algorithm`, then call this with it (`None` when the user
    /// is unknown).
    pub fn verify_credentials(
        &self,
        now_unix_secs: u64,
        method: &str,
        creds: &Credentials,
        ha1: Option<&str>,
    ) -> Result<Verified, AuthError> {
        let issued_at = self.check_credentials(creds)?;
        self.check_response(now_unix_secs, method, creds, issued_at, ha1)
    }

    /// Everything that does not need the user: realm, algorithm, qop, opaque, nonce origin.
    /// Returns the nonce's issue time.
    fn check_credentials(&self, creds: &Credentials) -> Result<u64, AuthError> {
        if creds.realm != self.realm {
            return Err(AuthError::WrongRealm {
                expected: self.realm.clone(),
                got: creds.realm.clone(),
            });
        }
        if creds.session || !self.algorithms.contains(&creds.algorithm) {
            let mut name = creds.algorithm.as_str().to_string();
            if creds.session {
                name.push_str("-sess");
            }
            return Err(AuthError::UnsupportedAlgorithm(name));
        }
        qop_of(creds)?;
        if let Some(ours) = &self.opaque {
            if creds.opaque.as_deref() != Some(ours.as_str()) {
                return Err(AuthError::OpaqueMismatch);
            }
        }
        self.secret
            .check(&creds.nonce, &self.realm)
            .ok_or(AuthError::BadNonce)
    }

    fn check_response(
        &self,
        now_unix_secs: u64,
        method: &str,
        creds: &Credentials,
        issued_at: u64,
        ha1: Option<&str>,
    ) -> Result<Verified, AuthError> {
        let (qop, nc) = qop_of(creds)?;
        // The decoy is computed on every call, not only for unknown users, so that both
        // paths do the same work.
        let decoy = self
            .secret
            .decoy_ha1(&self.realm, &creds.username, creds.algorithm.hex_len());
        let known = ha1.is_some();
        let ha1 = ha1.unwrap_or(&decoy).to_ascii_lowercase();
        let expected = ResponseInput {
            alg: creds.algorithm,
            ha1: &ha1,
            nonce: &creds.nonce,
            method,
            uri: &creds.uri,
            qop,
            nc: creds.nc.as_deref().unwrap_or(""),
            cnonce: creds.cnonce.as_deref().unwrap_or(""),
        }
        .response();
        let given = creds.response.to_ascii_lowercase();
        let matches = constant_time_eq(expected.as_bytes(), given.as_bytes());
        if !(matches && known) {
            return Err(AuthError::Failed {
                username: creds.username.clone(),
            });
        }
        let age = now_unix_secs.saturating_sub(issued_at);
        // A nonce from the future means our clock went back; treat it like an old one so
        // the phone simply gets a fresh nonce.
        let from_future = issued_at > now_unix_secs.saturating_add(self.nonce_lifetime.as_secs());
        if age > self.nonce_lifetime.as_secs() || from_future {
            return Err(AuthError::Stale {
                username: creds.username.clone(),
            });
        }
        Ok(Verified {
            username: creds.username.clone(),
            algorithm: creds.algorithm,
            uri: creds.uri.clone(),
            nonce: creds.nonce.clone(),
            nonce_issued_at: issued_at,
            nc,
        })
    }
}

/// The qop of credentials and, with `qop=auth`, the parsed nonce count; `nc` and `cnonce`
/// are required then (RFC 7616 §3.4).
fn qop_of(creds: &Credentials) -> Result<(Qop, Option<u32>), AuthError> {
    match creds.qop.as_deref() {
        None => Ok((Qop::None, None)),
        // Exactly "auth": the qop text is hashed, so a variant spelling would need its own
        // hash input for no benefit.
        Some("auth") => {
            let nc = creds.nc.as_deref().ok_or(Malformed::MissingParam("nc"))?;
            if creds.cnonce.is_none() {
                return Err(Malformed::MissingParam("cnonce").into());
            }
            let valid = nc.len() == 8 && nc.bytes().all(|b| b.is_ascii_hexdigit());
            let count = u32::from_str_radix(nc, 16)
                .ok()
                .filter(|_| valid)
                .ok_or_else(|| Malformed::BadNonceCount(nc.to_string()))?;
            Ok((Qop::Auth, Some(count)))
        }
        Some(other) => Err(AuthError::UnsupportedQop(other.to_string())),
    }
}
