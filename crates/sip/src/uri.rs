//! SIP and SIPS URIs (RFC 3261 §19.1), with IPv6 references (RFC 5118). Parsing is in
//! `parse_uri`; printing is `Display`. Other schemes (tel:, mailto: ...) are kept as
//! [`Uri::Other`] so that a message carrying them still parses and can be refused with 416.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The host part of a SIP URI or Via.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A domain name, stored lower-case.
    Domain(String),
    /// An IPv4 address.
    V4(Ipv4Addr),
    /// An IPv6 address (written in brackets).
    V6(Ipv6Addr),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::V4(a) => write!(f, "{a}"),
            Host::V6(a) => write!(f, "[{a}]"),
        }
    }
}

/// A `sip:` or `sips:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    /// True for `sips:`.
    pub secure: bool,
    /// The user part, unescaped.
    pub user: Option<String>,
    /// The password part (deprecated but legal), unescaped.
    pub password: Option<String>,
    /// The host.
    pub host: Host,
    /// The port, when given.
    pub port: Option<u16>,
    /// URI parameters (`;transport=tcp;lr`), names lower-case, %-escapes undone (the
    /// printer escapes again).
    pub params: Vec<(String, Option<String>)>,
    /// URI headers (`?subject=...`), as written.
    pub headers: Vec<(String, String)>,
}

impl SipUri {
    /// A URI `sip:user@host[:port]` with no parameters.
    pub fn new(user: Option<&str>, host: Host, port: Option<u16>) -> SipUri {
        SipUri {
            secure: false,
            user: user.map(str::to_string),
            password: None,
            host,
            port,
            params: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// The value of a URI parameter (name compared case-insensitively); `Some(None)` for a
    /// flag such as `lr`.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }
}

/// Any URI found where SIP expects one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uri {
    /// `sip:` or `sips:`.
    Sip(SipUri),
    /// Any other absolute URI (`tel:`, `mailto:`, `http:` ...), kept verbatim.
    Other {
        /// The scheme, lower-case.
        scheme: String,
        /// Everything after the colon.
        rest: String,
    },
}

impl Uri {
    /// The SIP URI, if this is one.
    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            Uri::Other { .. } => None,
        }
    }

    /// The user part of a SIP URI.
    pub fn user(&self) -> Option<&str> {
        self.as_sip().and_then(|u| u.user.as_deref())
    }
}

/// Characters that may stand unescaped in the user part (RFC 3261 §25.1 `user`).
fn user_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.!~*'()&=+$,;?/".contains(c)
}

/// Characters that may stand unescaped in a parameter name or value (`paramchar`).
fn param_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.!~*'()[]/:&+$".contains(c)
}

fn escape(out: &mut fmt::Formatter<'_>, s: &str, ok: fn(char) -> bool) -> fmt::Result {
    for b in s.bytes() {
        let c = b as char;
        if b.is_ascii() && ok(c) {
            fmt::Write::write_char(out, c)?;
        } else {
            write!(out, "%{b:02X}")?;
        }
    }
    Ok(())
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(user) = &self.user {
            escape(f, user, user_char_ok)?;
            if let Some(pw) = &self.password {
                f.write_str(":")?;
                escape(f, pw, |c| {
                    c.is_ascii_alphanumeric() || "-_.!~*'()&=+$,".contains(c)
                })?;
            }
            f.write_str("@")?;
        }
        write!(f, "{}", self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        for (n, v) in &self.params {
            f.write_str(";")?;
            escape(f, n, param_char_ok)?;
            if let Some(v) = v {
                f.write_str("=")?;
                escape(f, v, param_char_ok)?;
            }
        }
        for (i, (n, v)) in self.headers.iter().enumerate() {
            f.write_str(if i == 0 { "?" } else { "&" })?;
            write!(f, "{n}={v}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(u) => write!(f, "{u}"),
            Uri::Other { scheme, rest } => write!(f, "{scheme}:{rest}"),
        }
    }
}
