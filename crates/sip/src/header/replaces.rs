//! The Replaces header (RFC 3891 §6.1): names a dialog that a new one takes the place of —
//! the consultation call in an attended transfer, the ringing call in a pickup.
//!
//! It arrives in an INVITE, or %-escaped inside a Refer-To URI
//! (`<sip:203@pbx?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2>`, RFC 3515 §2.1);
//! [`Replaces::from_uri`] takes it from there.

use crate::parse::lex::{self, Reason};
use crate::uri::Uri;
use crate::ParseError;
use std::fmt;

/// A parsed Replaces value. The tags are seen from the side that receives it: `to_tag` is
/// that side's own (local) tag of the dialog, `from_tag` the other party's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaces {
    /// The Call-ID of the dialog.
    pub call_id: String,
    /// The receiver's tag in the dialog.
    pub to_tag: String,
    /// The other party's tag in the dialog.
    pub from_tag: String,
    /// `early-only`: replace the dialog only while it is not yet confirmed.
    pub early_only: bool,
}

impl Replaces {
    /// Parses `callid *(SEMI replaces-param)`; both tags are required.
    pub fn parse(s: &str) -> Result<Replaces, ParseError> {
        Replaces::parse_inner(s).map_err(|reason| ParseError::BadHeader {
            name: "Replaces".to_string(),
            reason,
        })
    }

    fn parse_inner(s: &str) -> Result<Replaces, Reason> {
        let mut parts = lex::trim_wsp(s).split(';');
        let call_id = lex::trim_wsp(parts.next().unwrap_or_default());
        if call_id.is_empty() || call_id.contains(char::is_whitespace) {
            return Err("missing or malformed Call-ID");
        }
        let (mut to_tag, mut from_tag, mut early_only) = (None, None, false);
        for param in parts {
            let (name, value) = match param.split_once('=') {
                Some((n, v)) => (lex::trim_wsp(n), Some(lex::trim_wsp(v))),
                None => (lex::trim_wsp(param), None),
            };
            match (name.to_ascii_lowercase().as_str(), value) {
                ("to-tag", Some(v)) if lex::is_token(v) => to_tag = Some(v.to_string()),
                ("from-tag", Some(v)) if lex::is_token(v) => from_tag = Some(v.to_string()),
                ("to-tag" | "from-tag", _) => return Err("tag is not a token"),
                ("early-only", None) => early_only = true,
                _ => {} // generic-param: ignored (RFC 3891 §6.1)
            }
        }
        Ok(Replaces {
            call_id: call_id.to_string(),
            to_tag: to_tag.ok_or("missing to-tag")?,
            from_tag: from_tag.ok_or("missing from-tag")?,
            early_only,
        })
    }

    /// The Replaces carried as a header of `uri` (a Refer-To target), unescaped; `None`
    /// when it has none, `Some(Err)` when it is there but unusable.
    pub fn from_uri(uri: &Uri) -> Option<Result<Replaces, ParseError>> {
        let (_, raw) = uri
            .as_sip()?
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("replaces"))?;
        let bad = |reason| ParseError::BadHeader {
            name: "Replaces".to_string(),
            reason,
        };
        Some(
            lex::unescape(raw, |c| c != '%')
                .map_err(bad)
                .and_then(|text| Replaces::parse(&text)),
        )
    }
}

impl fmt::Display for Replaces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{};to-tag={};from-tag={}",
            self.call_id, self.to_tag, self.from_tag
        )?;
        if self.early_only {
            f.write_str(";early-only")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_rfc_example_and_round_trips() {
        let r = Replaces::parse("98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff").unwrap();
        assert_eq!(r.call_id, "98732@sip.example.com");
        assert_eq!(r.to_tag, "ff87ff");
        assert_eq!(r.from_tag, "r33th4x0r");
        assert!(!r.early_only);
        let again = Replaces::parse(&r.to_string()).unwrap();
        assert_eq!(again, r);
    }

    #[test]
    fn early_only_and_unknown_parameters() {
        let r = Replaces::parse("a ; to-tag = 1 ;from-tag=2;early-only;x=y").unwrap();
        assert!(r.early_only);
        assert_eq!((r.to_tag.as_str(), r.from_tag.as_str()), ("1", "2"));
    }

    #[test]
    fn refuses_missing_parts() {
        for bad in [
            "",
            ";to-tag=1;from-tag=2",
            "a;to-tag=1",
            "a;from-tag=2",
            "a;to-tag",
        ] {
            assert!(Replaces::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn from_a_refer_to_uri() {
        let uri: Uri = "sip:203@pbx?Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2"
            .parse()
            .unwrap();
        let r = Replaces::from_uri(&uri).unwrap().unwrap();
        assert_eq!(r.call_id, "abc@host");
        assert_eq!((r.to_tag.as_str(), r.from_tag.as_str()), ("1", "2"));
        let plain: Uri = "sip:203@pbx".parse().unwrap();
        assert!(Replaces::from_uri(&plain).is_none());
        let ported: Uri =
            "sip:203@127.0.0.1?Replaces=a%40127.0.0.1:5060%3Bto-tag%3D1%3Bfrom-tag%3D2"
                .parse()
                .unwrap();
        assert_eq!(
            Replaces::from_uri(&ported).unwrap().unwrap().call_id,
            "a@127.0.0.1:5060"
        );
        let broken: Uri = "sip:203@pbx?Replaces=abc%3Bto-tag%3D1".parse().unwrap();
        assert!(Replaces::from_uri(&broken).unwrap().is_err());
    }
}
