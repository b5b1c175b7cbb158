//! Credentials and challenges: the value of Authorization, Proxy-Authorization,
//! WWW-Authenticate and Proxy-Authenticate (RFC 3261 §25.1, RFC 7616 syntax).
//!
//! Printing rule, correct in both directions: every value is quoted except
//! - `algorithm`, `nc`, `stale`, `userhash` and `charset`, which are tokens wherever they
//!   appear;
//! - `qop` in credentials, where it is a single token (`qop=auth`). Credentials are told
//!   from challenges by the `response` parameter, which only credentials carry; in a
//!   challenge `qop` is a quoted list (`qop="auth,auth-int"`).
//!
//! Quoting a value that is a token does not change its meaning (`auth-param` allows either),
//! so unknown parameters are always quoted.

use crate::parse::lex::{self, Reason};
use crate::ParseError;
use std::fmt;

/// An auth scheme and its parameters, values unquoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthParams {
    /// The scheme as received (`Digest`); compare case-insensitively.
    pub scheme: String,
    /// The parameters in order, values unquoted.
    pub params: Vec<(String, String)>,
}

fn bad(reason: Reason) -> ParseError {
    ParseError::BadHeader {
        name: "auth".to_string(),
        reason,
    }
}

/// Parameters whose values are tokens and are written without quotes.
const TOKEN_VALUED: &[&str] = &["algorithm", "nc", "stale", "userhash", "charset"];

impl AuthParams {
    /// A scheme with no parameters yet.
    pub fn new(scheme: impl Into<String>) -> AuthParams {
        AuthParams {
            scheme: scheme.into(),
            params: Vec::new(),
        }
    }

    /// Parses `Scheme name=value, name="quoted value", ...`. Empty list elements are
    /// skipped (RFC 7230 §7); a token68 form (`Basic dXNlcg==`) is refused, since SIP uses
    /// only the parameter form.
    pub fn parse(s: &str) -> Result<AuthParams, ParseError> {
        let s = lex::trim_wsp(s);
        let (scheme, rest) = lex::take_token(s);
        if scheme.is_empty() {
            return Err(bad("missing auth scheme"));
        }
        let after = lex::skip_wsp(rest);
        if after.len() == rest.len() && !rest.is_empty() {
            return Err(bad("missing space after auth scheme"));
        }
        let mut params = Vec::new();
        for part in lex::split_commas(after) {
            let part = lex::trim_wsp(part);
            if part.is_empty() {
                continue;
            }
            params.push(parse_param(part).map_err(bad)?);
        }
        Ok(AuthParams {
            scheme: scheme.to_string(),
            params,
        })
    }

    /// The value of a parameter (name compared case-insensitively).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Sets a parameter, replacing the first of that name or appending it.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        let value = value.into();
        match self
            .params
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            Some(slot) => slot.1 = value,
            None => self.params.push((name, value)),
        }
    }

    /// True when the scheme is `Digest` (case-insensitive).
    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }

    fn quote(&self, name: &str) -> bool {
        if TOKEN_VALUED.iter().any(|t| t.eq_ignore_ascii_case(name)) {
            return false;
        }
        !(name.eq_ignore_ascii_case("qop") && self.get("response").is_some())
    }
}

/// `auth-param = token EQUAL ( token / quoted-string )`
fn parse_param(part: &str) -> Result<(String, String), Reason> {
    let (name, rest) = lex::take_token(part);
    if name.is_empty() {
        return Err("empty parameter name");
    }
    let rest = lex::skip_wsp(rest);
    let rest = rest.strip_prefix('=').ok_or("parameter without '='")?;
    let rest = lex::skip_wsp(rest);
    let (value, rest) = if rest.starts_with('"') {
        lex::take_quoted(rest)?
    } else {
        let (v, rest) = lex::take_token(rest);
        if v.is_empty() {
            return Err("empty parameter value");
        }
        (v.to_string(), rest)
    };
    if !lex::trim_wsp(rest).is_empty() {
        return Err("junk after parameter value");
    }
    Ok((name.to_string(), value))
}

impl fmt::Display for AuthParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheme)?;
        for (i, (name, value)) in self.params.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ", " })?;
            write!(f, "{name}=")?;
            // A token-valued parameter that was given something else must still be quoted,
            // or the output would not parse.
            if self.quote(name) || !lex::is_token(value) {
                lex::write_quoted(f, value)?;
            } else {
                f.write_str(value)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREDENTIALS: &str = r#"Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=MD5"#;

    #[test]
    fn credentials_round_trip() {
        let a = AuthParams::parse(CREDENTIALS).unwrap();
        assert!(a.is_digest());
        assert_eq!(a.get("USERNAME"), Some("bob"));
        assert_eq!(a.get("uri"), Some("sip:bob@biloxi.com"));
        assert_eq!(a.get("qop"), Some("auth"));
        assert_eq!(a.get("nc"), Some("00000001"));
        assert_eq!(a.get("missing"), None);
        assert_eq!(a.to_string(), CREDENTIALS);
    }

    #[test]
    fn challenge_quotes_qop() {
        let c = AuthParams::parse(
            "Digest realm=\"atlanta.com\",\r\n domain=\"sip:ss1.carrier.com\", qop=\"auth,auth-int\",nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, algorithm=MD5"
                .replace("\r\n", "")
                .as_str(),
        )
        .unwrap();
        assert_eq!(c.get("qop"), Some("auth,auth-int"));
        assert_eq!(c.get("opaque"), Some(""));
        assert_eq!(
            c.to_string(),
            "Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\", qop=\"auth,auth-int\", nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, algorithm=MD5"
        );
        let mut c = AuthParams::new("Digest");
        c.set("realm", "pbx");
        c.set("qop", "auth");
        c.set("nonce", "n");
        c.set("Realm", "pbx2");
        assert_eq!(
            c.to_string(),
            "Digest realm=\"pbx2\", qop=\"auth\", nonce=\"n\""
        );
    }

    #[test]
    fn escapes_and_odd_schemes() {
        let a = AuthParams::parse(r#"Digest username="a\"b\\c", realm="r""#).unwrap();
        assert_eq!(a.get("username"), Some("a\"b\\c"));
        assert_eq!(a.to_string(), r#"Digest username="a\"b\\c", realm="r""#);
        let a = AuthParams::parse("NoOneKnowsThisScheme opaque-data=here").unwrap();
        assert_eq!(a.get("opaque-data"), Some("here"));
        let a = AuthParams::parse("Digest").unwrap();
        assert!(a.params.is_empty());
        let a = AuthParams::parse("Digest , realm=x,,").unwrap();
        assert_eq!(a.params.len(), 1);
        let mut a = AuthParams::new("Digest");
        a.set("algorithm", "not a token");
        assert_eq!(a.to_string(), "Digest algorithm=\"not a token\"");
    }

    #[test]
    fn errors() {
        for bad in [
            "",
            "=x",
            "Digest realm",
            "Digest realm=",
            "Digest realm=\"open",
            "Digest realm=a b",
            "Basic dXNlcjpwYXNz",
            "Basic dXNlcjpwYXNz==",
            "Digestrealm=x",
            "Digest realm=\"x\" junk",
        ] {
            assert!(AuthParams::parse(bad).is_err(), "{bad:?} should fail");
        }
    }
}
