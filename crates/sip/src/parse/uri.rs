//! URI parsing: `sip:`/`sips:` per RFC 3261 §19.1 and §25.1, IPv6 references per RFC 5118,
//! other schemes kept opaque.
//!
//! Escapes are undone in the user, password and parameters (the printer re-escapes them, so
//! a parse/print round trip is stable); URI headers are kept as written because their
//! values are themselves escaped header text that only a request built from the URI reads.

use super::lex::{self, Reason};
use super::ParseError;
use crate::uri::{Host, SipUri, Uri};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Parses a URI: `sip:`/`sips:` URIs fully (user, password, host, port, parameters,
/// headers), any other scheme as [`Uri::Other`] with the scheme lower-cased.
pub fn parse_uri(s: &str) -> Result<Uri, ParseError> {
    parse_uri_inner(s).map_err(|reason| ParseError::BadUri(reason.to_string()))
}

impl std::str::FromStr for Uri {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Uri, ParseError> {
        parse_uri(s)
    }
}

/// [`parse_uri`] with a bare reason, for callers that name the header themselves.
pub(crate) fn parse_uri_inner(s: &str) -> Result<Uri, Reason> {
    let (scheme, rest) = s.split_once(':').ok_or("no scheme")?;
    if !valid_scheme(scheme) {
        return Err("bad scheme");
    }
    let scheme = scheme.to_ascii_lowercase();
    match scheme.as_str() {
        "sip" => parse_sip(rest, false).map(Uri::Sip),
        "sips" => parse_sip(rest, true).map(Uri::Sip),
        _ => {
            // Opaque, but it must still stand as one element of a header or request line.
            let bad = |c: char| c.is_whitespace() || c.is_control() || "<>\"".contains(c);
            if rest.is_empty() || rest.chars().any(bad) {
                return Err("bad characters in URI");
            }
            Ok(Uri::Other {
                scheme,
                rest: rest.to_string(),
            })
        }
    }
}

/// `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`
fn valid_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

fn unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.!~*'()".contains(c)
}

fn user_char(c: char) -> bool {
    unreserved(c) || "&=+$,;?/".contains(c)
}

fn password_char(c: char) -> bool {
    unreserved(c) || "&=+$,".contains(c)
}

fn param_char(c: char) -> bool {
    unreserved(c) || "[]/:&+$".contains(c)
}

fn header_char(c: char) -> bool {
    unreserved(c) || "[]/?:+$".contains(c)
}

fn parse_sip(rest: &str, secure: bool) -> Result<SipUri, Reason> {
    // '@' cannot appear unescaped anywhere but at the end of the userinfo, so the first one
    // ends it; the user part may hold ';' and '?' (RFC 4475 §3.1.1.2, §3.1.1.9).
    let (userinfo, hostpart) = match rest.split_once('@') {
        Some((ui, hp)) => (Some(ui), hp),
        None => (None, rest),
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(ui) => {
            let (u, p) = match ui.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (ui, None),
            };
            if u.is_empty() {
                return Err("empty user part");
            }
            let user = lex::unescape(u, user_char).map_err(|_| "bad user part")?;
            let password = match p {
                Some(p) => Some(lex::unescape(p, password_char).map_err(|_| "bad password")?),
                None => None,
            };
            (Some(user), password)
        }
    };
    let (before_headers, headers_str) = match hostpart.split_once('?') {
        Some((b, h)) => (b, Some(h)),
        None => (hostpart, None),
    };
    let mut pieces = before_headers.split(';');
    let (host, port) = parse_hostport(pieces.next().unwrap_or(""))?;
    let mut params = Vec::new();
    for piece in pieces {
        let (name, value) = match piece.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (piece, None),
        };
        let name = lex::unescape(name, param_char).map_err(|_| "bad parameter name")?;
        if name.is_empty() {
            return Err("empty parameter");
        }
        let value = match value {
            Some("") => return Err("empty parameter value"),
            Some(v) => Some(lex::unescape(v, param_char).map_err(|_| "bad parameter value")?),
            None => None,
        };
        params.push((name.to_ascii_lowercase(), value));
    }
    let mut headers = Vec::new();
    if let Some(h) = headers_str {
        for pair in h.split('&') {
            let (name, value) = pair.split_once('=').ok_or("URI header without '='")?;
            if name.is_empty() {
                return Err("empty URI header name");
            }
            // Checked for syntax only: kept escaped, as written.
            lex::unescape(name, header_char).map_err(|_| "bad URI header")?;
            lex::unescape(value, header_char).map_err(|_| "bad URI header")?;
            headers.push((name.to_string(), value.to_string()));
        }
    }
    Ok(SipUri {
        secure,
        user,
        password,
        host,
        port,
        params,
        headers,
    })
}

/// `hostport = host [ ":" port ]`, with `host` possibly an IPv6 reference.
pub(crate) fn parse_hostport(s: &str) -> Result<(Host, Option<u16>), Reason> {
    let (host, port) = if s.starts_with('[') {
        let end = s.find(']').ok_or("unclosed IPv6 reference")?;
        let (host, after) = s.split_at(end + 1);
        if after.is_empty() {
            (host, None)
        } else {
            (
                host,
                Some(after.strip_prefix(':').ok_or("junk after host")?),
            )
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let host = parse_host(host)?;
    let port = match port {
        Some(p) => Some(lex::parse_digits::<u16>(p).ok_or("bad port")?),
        None => None,
    };
    Ok((host, port))
}

/// `host = hostname / IPv4address / IPv6reference`; domain names are lower-cased.
pub(crate) fn parse_host(s: &str) -> Result<Host, Reason> {
    if let Some(inner) = s.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or("bad IPv6 reference")?;
        return inner
            .parse::<Ipv6Addr>()
            .map(Host::V6)
            .map_err(|_| "bad IPv6 address");
    }
    if s.is_empty() {
        return Err("empty host");
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        // A top label cannot start with a digit, so all-digit hosts must be IPv4.
        return s
            .parse::<Ipv4Addr>()
            .map(Host::V4)
            .map_err(|_| "bad IPv4 address");
    }
    if valid_hostname(s) {
        Ok(Host::Domain(s.to_ascii_lowercase()))
    } else {
        Err("bad host name")
    }
}

/// `hostname = *( domainlabel "." ) toplabel [ "." ]`
fn valid_hostname(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() || s.len() > 253 {
        return false;
    }
    let count = s.split('.').count();
    s.split('.').enumerate().all(|(i, label)| {
        let b = label.as_bytes();
        let (Some(first), Some(last)) = (b.first(), b.last()) else {
            return false;
        };
        b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && first.is_ascii_alphanumeric()
            && last.is_ascii_alphanumeric()
            && (i + 1 < count || first.is_ascii_alphabetic())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(s: &str) -> SipUri {
        match parse_uri(s) {
            Ok(Uri::Sip(u)) => u,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn full_sip_uri() {
        let u = sip("sips:alice:secret@Atlanta.Example.COM:5061;transport=TCP;lr?subject=project%20x&priority=urgent");
        assert!(u.secure);
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!(u.password.as_deref(), Some("secret"));
        assert_eq!(u.host, Host::Domain("atlanta.example.com".into()));
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.param("transport"), Some(Some("TCP")));
        assert_eq!(u.param("LR"), Some(None));
        assert_eq!(u.headers[0], ("subject".into(), "project%20x".into()));
        assert_eq!(
            u.to_string(),
            "sips:alice:secret@atlanta.example.com:5061;transport=TCP;lr?subject=project%20x&priority=urgent"
        );
    }

    #[test]
    fn escapes_in_user_and_params() {
        let u = sip("sip:sips%3Auser%40example.com@example.net");
        assert_eq!(u.user.as_deref(), Some("sips:user@example.com"));
        let u = sip("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31");
        assert_eq!(u.user.as_deref(), Some("caller"));
        assert_eq!(u.param("lr"), Some(None));
        // Unescaped once only (RFC 4475 §3.1.1.3): value%41 is not valueA.
        assert_eq!(u.param("name"), Some(Some("value%41")));
        let again = sip(&u.to_string());
        assert_eq!(again, u);
        let u = sip("sip:null-%00-null@example.com");
        assert_eq!(u.user.as_deref(), Some("null-\0-null"));
    }

    #[test]
    fn user_part_with_semicolon_and_question_mark() {
        let u = sip("sip:user;par=u%40example.net@example.com");
        assert_eq!(u.user.as_deref(), Some("user;par=u@example.net"));
        assert!(u.params.is_empty());
        let u = sip("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com");
        assert_eq!(
            u.user.as_deref(),
            Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
        );
        assert_eq!(
            u.password.as_deref(),
            Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
        );
    }

    #[test]
    fn ipv6_references() {
        let u = sip("sip:[2001:db8::10]:5070;maddr=[2001:db8::20]");
        assert_eq!(u.host, Host::V6("2001:db8::10".parse().unwrap()));
        assert_eq!(u.port, Some(5070));
        assert_eq!(u.param("maddr"), Some(Some("[2001:db8::20]")));
        assert_eq!(
            u.to_string(),
            "sip:[2001:db8::10]:5070;maddr=[2001:db8::20]"
        );
        // RFC 5118 §4.3: legal, the 5070 is part of the address.
        let u = sip("sip:user@[2001:db8::10:5070]");
        assert_eq!(u.port, None);
        let u = sip("sip:[::ffff:192.0.2.1]");
        assert!(matches!(u.host, Host::V6(_)));
        // RFC 5118 §4.2: an IPv6 address needs brackets.
        assert!(parse_uri("sip:user@2001:db8::10").is_err());
        assert!(parse_uri("sip:[2001:db8::10").is_err());
        assert!(parse_uri("sip:[2001:db8::10]x").is_err());
        assert!(parse_uri("sip:[2001:db8:::10]").is_err());
    }

    #[test]
    fn hosts() {
        assert_eq!(
            sip("sip:192.0.2.1:5060").host,
            Host::V4([192, 0, 2, 1].into())
        );
        assert_eq!(
            sip("sip:example.com.").host,
            Host::Domain("example.com.".into())
        );
        for bad in [
            "sip:",
            "sip:@example.com",
            "sip:user@",
            "sip:999.1.1.1",
            "sip:1.2.3",
            "sip:-a.example.com",
            "sip:a-.example.com",
            "sip:a..example.com",
            "sip:example.123",
            "sip:exa mple.com",
            "sip:example.com:",
            "sip:example.com:65536",
            "sip:example.com:-1",
            "sip:example.com;",
            "sip:example.com;;lr",
            "sip:example.com;a=",
            "sip:example.com?x",
            "sip:example.com?=x",
            "sip:us er@example.com",
            "sip:a%2@example.com",
            " sip:example.com",
            "sip:example.com ",
            "<sip:example.com>",
        ] {
            assert!(parse_uri(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn other_schemes() {
        assert_eq!(
            parse_uri("TEL:+1-555-0100").unwrap(),
            Uri::Other {
                scheme: "tel".into(),
                rest: "+1-555-0100".into()
            }
        );
        assert!(matches!(
            "soap.beep://192.0.2.103:3002".parse::<Uri>(),
            Ok(Uri::Other { ref scheme, .. }) if scheme == "soap.beep"
        ));
        assert!(parse_uri("isbn:2983792873").is_ok());
        assert!(parse_uri("1abc:x").is_err());
        assert!(parse_uri("nocolon").is_err());
        assert!(parse_uri("http:").is_err());
        assert!(parse_uri("http:a b").is_err());
    }
}
