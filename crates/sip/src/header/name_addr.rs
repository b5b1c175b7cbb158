//! `name-addr` / `addr-spec` values with header parameters: To, From, Contact, Route,
//! Record-Route, Refer-To ... (RFC 3261 §20.10, §25.1).

use super::Params;
use crate::parse::lex::{self, Reason};
use crate::parse::uri::parse_uri_inner;
use crate::uri::Uri;
use crate::ParseError;
use std::fmt;

/// An address with an optional display name and header parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name, unquoted (quoted-pairs undone); `None` when absent.
    pub display_name: Option<String>,
    /// The URI.
    pub uri: Uri,
    /// Header parameters (`tag`, `expires`, `q` ...), not the URI's own parameters.
    pub params: Params,
}

impl NameAddr {
    /// A bare address without display name or parameters.
    pub fn new(uri: Uri) -> NameAddr {
        NameAddr {
            display_name: None,
            uri,
            params: Params::default(),
        }
    }

    /// Parses `"Quoted \"name\"" <sip:..>;tag=x`, `Name Tokens <uri>;p` or a bare addr-spec
    /// `sip:user@host;tag=x`. In the bare form the URI ends at the first `;`, so what
    /// follows are header parameters (RFC 3261 §20.10), and a URI holding `,` or `?` is
    /// refused because it must be written in angle brackets.
    pub fn parse(s: &str) -> Result<NameAddr, ParseError> {
        NameAddr::parse_inner(s).map_err(|reason| ParseError::BadHeader {
            name: "name-addr".to_string(),
            reason,
        })
    }

    pub(crate) fn parse_inner(s: &str) -> Result<NameAddr, Reason> {
        let s = lex::trim_wsp(s);
        let (display_name, rest) = if s.starts_with('"') {
            let (name, rest) = lex::take_quoted(s)?;
            let rest = lex::skip_wsp(rest);
            if !rest.starts_with('<') {
                return Err("quoted display name without <URI>");
            }
            (Some(name), rest)
        } else if let Some(lt) = s.find('<') {
            let (name, rest) = s.split_at(lt);
            (display_tokens(name)?, rest)
        } else {
            return NameAddr::parse_addr_spec(s);
        };
        let inner = rest.strip_prefix('<').ok_or("expected '<'")?;
        let gt = inner.find('>').ok_or("missing '>'")?;
        let (uri, after) = inner.split_at(gt);
        let uri = parse_uri_inner(uri).map_err(|_| "bad URI")?;
        let params = Params::parse_inner(after.get(1..).unwrap_or(""))?;
        Ok(NameAddr {
            display_name,
            uri,
            params,
        })
    }

    fn parse_addr_spec(s: &str) -> Result<NameAddr, Reason> {
        let (uri, params) = match s.find(';') {
            Some(i) => s.split_at(i),
            None => (s, ""),
        };
        let uri = lex::trim_wsp(uri);
        if uri.contains(['?', ',']) {
            return Err("URI with '?' or ',' must be in angle brackets");
        }
        Ok(NameAddr {
            display_name: None,
            uri: parse_uri_inner(uri).map_err(|_| "bad URI")?,
            params: Params::parse_inner(params)?,
        })
    }

    /// The `tag` parameter's value.
    pub fn tag(&self) -> Option<&str> {
        self.params.get("tag").flatten()
    }
}

/// `display-name = *(token LWS)`: tokens separated by white space, or nothing. The tokens
/// are joined by single spaces. LWS before `<` is optional in practice (RFC 4475 §3.1.1.6).
fn display_tokens(s: &str) -> Result<Option<String>, Reason> {
    let words: Vec<&str> = s.split(lex::is_wsp).filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return Ok(None);
    }
    if !words.iter().all(|w| lex::is_token(w)) {
        return Err("display name must be tokens or a quoted string");
    }
    Ok(Some(words.join(" ")))
}

impl fmt::Display for NameAddr {
    /// Always the name-addr form (`<uri>`), so URI parameters can never be mistaken for
    /// header parameters by the receiver.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.display_name {
            lex::write_quoted(f, name)?;
            f.write_str(" ")?;
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uri::Host;

    #[test]
    fn quoted_display_name() {
        let a = NameAddr::parse(
            r#""J Rosenberg \\\""       <sip:jdrosen@example.com>  ;  tag = 98asjd8"#,
        )
        .unwrap();
        assert_eq!(a.display_name.as_deref(), Some("J Rosenberg \\\""));
        assert_eq!(a.uri.user(), Some("jdrosen"));
        assert_eq!(a.tag(), Some("98asjd8"));
        assert_eq!(
            a.to_string(),
            r#""J Rosenberg \\\"" <sip:jdrosen@example.com>;tag=98asjd8"#
        );
        assert_eq!(NameAddr::parse(&a.to_string()).unwrap(), a);
    }

    #[test]
    fn token_display_name() {
        let a = NameAddr::parse(
            "token1~` token2'+_   token3*%!.- <sip:mundane@example.com>;tag=_token~1'+`*%!-.",
        )
        .unwrap();
        assert_eq!(
            a.display_name.as_deref(),
            Some("token1~` token2'+_ token3*%!.-")
        );
        assert_eq!(a.tag(), Some("_token~1'+`*%!-."));
        let a = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(a.display_name.as_deref(), Some("caller"));
        let a = NameAddr::parse("<sip:caller@example.com>").unwrap();
        assert_eq!(a.display_name, None);
        assert_eq!(a.to_string(), "<sip:caller@example.com>");
    }

    #[test]
    fn addr_spec_params_belong_to_the_header() {
        let a = NameAddr::parse("sip:+19725552222@gw1.example.net;unknownparam").unwrap();
        assert!(a.params.contains("unknownparam"));
        assert!(a.uri.as_sip().unwrap().params.is_empty());
        assert_eq!(
            a.to_string(),
            "<sip:+19725552222@gw1.example.net>;unknownparam"
        );
        let b = NameAddr::parse("<sip:+19725552222@gw1.example.net;unknownparam>").unwrap();
        assert!(b.params.is_empty());
        assert_eq!(b.uri.as_sip().unwrap().param("unknownparam"), Some(None));
        let c =
            NameAddr::parse("sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n").unwrap();
        assert_eq!(c.tag(), Some("1918181833n"));
    }

    #[test]
    fn other_schemes_and_ipv6() {
        let a = NameAddr::parse("isbn:2983792873").unwrap();
        assert!(matches!(a.uri, Uri::Other { .. }));
        let a = NameAddr::parse("<http://www.example.com>;tag=3234233").unwrap();
        assert_eq!(a.tag(), Some("3234233"));
        let a = NameAddr::parse("\"Bob\" <sip:bob@[2001:db8::1]:5060>").unwrap();
        assert_eq!(
            a.uri.as_sip().unwrap().host,
            Host::V6("2001:db8::1".parse().unwrap())
        );
        assert_eq!(a.to_string(), "\"Bob\" <sip:bob@[2001:db8::1]:5060>");
    }

    #[test]
    fn errors() {
        for bad in [
            "",
            "\"Mr. J. User <sip:j.user@example.com>",
            "\"Watson, Thomas\" < sip:t.watson@example.org >",
            "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            "\"quoted\" sip:x@example.com",
            "<sip:x@example.com",
            "<sip:x@example.com>;;",
            "<sip:x@example.com> junk",
            "<sip:x@example.com>, <sip:y@example.com>",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "sip:a@example.com, sip:b@example.com",
            "<>",
            "<not a uri>",
        ] {
            assert!(NameAddr::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn printing_escapes_display_names() {
        let mut a = NameAddr::new("sip:a@example.com".parse().unwrap());
        a.display_name = Some("evil\"\r\nVia: x".into());
        a.params.set("tag", Some("1".into()));
        let s = a.to_string();
        assert!(!s.contains('\r') && !s.contains('\n'));
        assert_eq!(s, "\"evil\\\"  Via: x\" <sip:a@example.com>;tag=1");
        let back = NameAddr::parse(&s).unwrap();
        assert_eq!(back.display_name.as_deref(), Some("evil\"  Via: x"));
    }
}
