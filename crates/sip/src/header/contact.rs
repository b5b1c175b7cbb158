//! The Contact header (RFC 3261 §20.10): `*` or a list of addresses with `expires` and `q`.

use super::{HeaderName, Headers, NameAddr};
use crate::parse::lex::{self, Reason};
use crate::ParseError;
use std::fmt;

/// One Contact value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactHeader {
    /// The address and its header parameters.
    pub addr: NameAddr,
}

impl ContactHeader {
    /// The `expires` parameter in seconds. `None` when absent, and also when it is not a
    /// number or exceeds 2**32-1: RFC 4475 §3.1.2.4 lets such a value be treated as if
    /// absent, so the registrar falls back to its default.
    pub fn expires(&self) -> Option<u32> {
        self.addr
            .params
            .get("expires")
            .flatten()
            .and_then(lex::parse_digits::<u32>)
    }

    /// The `q` parameter (`qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`);
    /// `None` when absent or malformed.
    pub fn q(&self) -> Option<f32> {
        let v = self.addr.params.get("q").flatten()?;
        let (int, frac) = v.split_once('.').unwrap_or((v, ""));
        let frac_ok = frac.len() <= 3 && frac.bytes().all(|b| b.is_ascii_digit());
        let ok = match int {
            "0" => frac_ok,
            "1" => frac_ok && frac.bytes().all(|b| b == b'0'),
            _ => false,
        };
        if ok {
            v.parse().ok()
        } else {
            None
        }
    }
}

impl fmt::Display for ContactHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.addr)
    }
}

/// The Contact header field of a message, all lines together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactList {
    /// `Contact: *` (remove all bindings, REGISTER only).
    Star,
    /// One or more addresses.
    Contacts(Vec<ContactHeader>),
}

fn bad(reason: Reason) -> ParseError {
    ParseError::BadHeader {
        name: "Contact".to_string(),
        reason,
    }
}

impl ContactList {
    /// Collects every Contact line (commas outside quotes and brackets separate values).
    /// `Ok(None)` when there is no Contact header; `*` must be the only value.
    pub fn from_headers(headers: &Headers) -> Result<Option<ContactList>, ParseError> {
        let mut star = false;
        let mut contacts = Vec::new();
        let mut values = 0usize;
        for line in headers.get_all(&HeaderName::Contact) {
            for part in lex::split_commas(line) {
                let part = lex::trim_wsp(part);
                values += 1;
                if part.is_empty() {
                    return Err(bad("empty Contact value"));
                }
                if part == "*" {
                    star = true;
                } else {
                    let addr = NameAddr::parse_inner(part).map_err(bad)?;
                    contacts.push(ContactHeader { addr });
                }
            }
        }
        if values == 0 {
            return Ok(None);
        }
        if star {
            if values > 1 {
                return Err(bad("'*' must be the only Contact"));
            }
            return Ok(Some(ContactList::Star));
        }
        Ok(Some(ContactList::Contacts(contacts)))
    }
}

impl fmt::Display for ContactList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContactList::Star => f.write_str("*"),
            ContactList::Contacts(list) => {
                for (i, c) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{c}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[&str]) -> Headers {
        let mut h = Headers::default();
        for l in lines {
            h.push(HeaderName::Contact, *l);
        }
        h
    }

    #[test]
    fn none_and_star() {
        assert_eq!(ContactList::from_headers(&Headers::default()), Ok(None));
        assert_eq!(
            ContactList::from_headers(&headers(&[" * "])),
            Ok(Some(ContactList::Star))
        );
        assert!(ContactList::from_headers(&headers(&["*", "<sip:a@b.example>"])).is_err());
        assert!(ContactList::from_headers(&headers(&["*, *"])).is_err());
        assert!(ContactList::from_headers(&headers(&["<sip:a@b.example>, *"])).is_err());
        assert_eq!(ContactList::Star.to_string(), "*");
    }

    #[test]
    fn list_with_params() {
        let h = headers(&[
            "\"Quoted, with comma\" <sip:jdrosen@example.com> ; newparam = newvalue ; secondparam ; q = 0.33, <sip:b@example.com;transport=tcp>;expires=3600",
            "sip:c@example.com;expires=0;q=1.000",
        ]);
        let Some(ContactList::Contacts(list)) = ContactList::from_headers(&h).unwrap() else {
            panic!("expected contacts")
        };
        assert_eq!(list.len(), 3);
        assert_eq!(
            list[0].addr.display_name.as_deref(),
            Some("Quoted, with comma")
        );
        assert_eq!(list[0].q(), Some(0.33));
        assert_eq!(list[0].expires(), None);
        assert_eq!(list[1].expires(), Some(3600));
        assert_eq!(list[1].q(), None);
        assert_eq!(list[2].expires(), Some(0));
        assert_eq!(list[2].q(), Some(1.0));
        let printed = ContactList::Contacts(list.clone()).to_string();
        assert_eq!(
            printed,
            "\"Quoted, with comma\" <sip:jdrosen@example.com>;newparam=newvalue;secondparam;q=0.33, <sip:b@example.com;transport=tcp>;expires=3600, <sip:c@example.com>;expires=0;q=1.000"
        );
        let again = ContactList::from_headers(&headers(&[&printed])).unwrap();
        assert_eq!(again, Some(ContactList::Contacts(list)));
    }

    #[test]
    fn odd_values() {
        let h = headers(&["<sip:u@h.example>;expires=280297596632815;q=1.5"]);
        let Some(ContactList::Contacts(list)) = ContactList::from_headers(&h).unwrap() else {
            panic!("expected contacts")
        };
        assert_eq!(list[0].expires(), None);
        assert_eq!(list[0].q(), None);
        for q in ["2", "0.1234", "-0", "1.001", "a"] {
            let h = headers(&[&format!("<sip:u@h.example>;q={q}")]);
            let Some(ContactList::Contacts(list)) = ContactList::from_headers(&h).unwrap() else {
                panic!("expected contacts")
            };
            assert_eq!(list[0].q(), None, "{q}");
        }
        assert!(
            ContactList::from_headers(&headers(&["<sip:a@b.example>,,<sip:c@d.example>"])).is_err()
        );
        assert!(ContactList::from_headers(&headers(&[""])).is_err());
        assert!(
            ContactList::from_headers(&headers(&["\"Joe\" <sip:joe@example.org>;;;;"])).is_err()
        );
    }
}
