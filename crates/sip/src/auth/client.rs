//! The client side: answering a challenge (SIP trunks registering with a provider, tests).

use super::{ha1, AuthError, DigestAlgorithm, Malformed, Qop, ResponseInput};
use crate::header::AuthParams;

/// Picks the challenge to answer among those of a 401/407: the Digest challenge with the
/// strongest algorithm we implement (SHA-256 over MD5), the first one on a tie (RFC 7616,
/// RFC 8760). `None` when no challenge is usable.
pub fn pick_challenge<'a>(
    challenges: impl IntoIterator<Item = &'a AuthParams>,
) -> Option<&'a AuthParams> {
    let strength = |c: &AuthParams| {
        if !c.scheme.eq_ignore_ascii_case("Digest") {
            return None;
        }
        let alg = match c.get("algorithm") {
            None => DigestAlgorithm::Md5,
            Some(name) => DigestAlgorithm::parse(name)?.0,
        };
        chosen_qop(c).ok()?;
        Some(match alg {
            DigestAlgorithm::Md5 => 1,
            DigestAlgorithm::Sha256 => 2,
        })
    };
    let mut best: Option<(u8, &AuthParams)> = None;
    for c in challenges {
        if let Some(s) = strength(c) {
            if best.is_none_or(|(b, _)| s > b) {
                best = Some((s, c));
            }
        }
    }
    best.map(|(_, c)| c)
}

/// The qop we answer with: `auth` when offered (the value may list several), none when the
/// challenge has no qop (RFC 2069 servers).
fn chosen_qop(challenge: &AuthParams) -> Result<Qop, AuthError> {
    match challenge.get("qop") {
        None => Ok(Qop::None),
        Some(list) => {
            if list.split(',').any(|q| q.trim() == "auth") {
                Ok(Qop::Auth)
            } else {
                Err(AuthError::UnsupportedQop(list.to_string()))
            }
        }
    }
}

/// Answers a Digest challenge: the `Authorization` (or `Proxy-Authorization`, after a 407)
/// value for a request with `method` and Request-URI `uri`.
///
/// `cnonce` should be fresh and random per nonce; `nc` counts the requests made with this
/// nonce, starting at 1. `-sess` algorithms are supported here (the server side does not
/// offer them). The username is sent as is (no RFC 7616 `userhash`).
pub fn answer_challenge(
    challenge: &AuthParams,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
    cnonce: &str,
    nc: u32,
) -> Result<AuthParams, AuthError> {
    if !challenge.scheme.eq_ignore_ascii_case("Digest") {
        return Err(AuthError::UnsupportedScheme(challenge.scheme.clone()));
    }
    let realm = challenge
        .get("realm")
        .ok_or(Malformed::MissingParam("realm"))?;
    let nonce = challenge
        .get("nonce")
        .ok_or(Malformed::MissingParam("nonce"))?;
    let algorithm_param = challenge.get("algorithm");
    let (alg, session) = match algorithm_param {
        None => (DigestAlgorithm::Md5, false),
        Some(name) => DigestAlgorithm::parse(name)
            .ok_or_else(|| AuthError::UnsupportedAlgorithm(name.to_string()))?,
    };
    let qop = chosen_qop(challenge)?;
    let nc_text = format!("{nc:08x}");

    let mut key = ha1(alg, username, realm, password);
    if session {
        // RFC 7616 §3.4.2: the session key binds the nonce and cnonce into HA1.
        key = alg.hash_joined(&[&key, nonce, cnonce]);
    }
    let response = ResponseInput {
        alg,
        ha1: &key,
        nonce,
        method,
        uri,
        qop,
        nc: &nc_text,
        cnonce,
    }
    .response();

    let mut params = vec![
        ("username".to_string(), username.to_string()),
        ("realm".to_string(), realm.to_string()),
        ("nonce".to_string(), nonce.to_string()),
        ("uri".to_string(), uri.to_string()),
        ("response".to_string(), response),
    ];
    if let Some(name) = algorithm_param {
        // Echo the server's spelling: some servers compare it as a string.
        params.push(("algorithm".to_string(), name.to_string()));
    }
    if qop == Qop::Auth {
        params.push(("cnonce".to_string(), cnonce.to_string()));
        params.push(("qop".to_string(), "auth".to_string()));
        params.push(("nc".to_string(), nc_text));
    }
    if let Some(opaque) = challenge.get("opaque") {
        params.push(("opaque".to_string(), opaque.to_string()));
    }
    Ok(AuthParams {
        scheme: "Digest".to_string(),
        params,
    })
}
