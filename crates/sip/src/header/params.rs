//! Header parameters: the `;name=value;flag` tail of Via, To, From, Contact and friends
//! (RFC 3261 §25.1 `generic-param`).
//!
//! Values are stored unquoted. Whether a value was quoted on the wire is remembered, because
//! for some parameters quoting changes the meaning (RFC 3840 feature tags: a quoted string
//! is not the same as a token), and printing must not silently turn one into the other.

use crate::parse::lex::{self, Reason};
use crate::ParseError;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Param {
    name: String,
    value: Option<String>,
    quoted: bool,
}

/// An ordered list of header parameters. Names compare case-insensitively and keep the
/// spelling they were received or set with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    list: Vec<Param>,
}

impl Params {
    /// An empty list.
    pub fn new() -> Params {
        Params::default()
    }

    /// Parses `;a=b;c;d="quoted value"` (white space allowed around `;` and `=`). An empty
    /// string is an empty list; a missing `;`, an empty name or an empty value is an error.
    pub fn parse(s: &str) -> Result<Params, ParseError> {
        Params::parse_inner(s).map_err(|reason| ParseError::BadHeader {
            name: "parameters".to_string(),
            reason,
        })
    }

    pub(crate) fn parse_inner(s: &str) -> Result<Params, Reason> {
        let mut list = Vec::new();
        let mut rest = lex::skip_wsp(s);
        while !rest.is_empty() {
            rest = rest
                .strip_prefix(';')
                .ok_or("expected ';' before parameter")?;
            rest = lex::skip_wsp(rest);
            let (name, after) = lex::take_token(rest);
            if name.is_empty() {
                return Err("empty parameter");
            }
            rest = lex::skip_wsp(after);
            let mut value = None;
            let mut quoted = false;
            if let Some(after_eq) = rest.strip_prefix('=') {
                rest = lex::skip_wsp(after_eq);
                if rest.starts_with('"') {
                    let (v, after) = lex::take_quoted(rest)?;
                    value = Some(v);
                    quoted = true;
                    rest = after;
                } else {
                    // gen-value = token / host: an IPv6 address brings ':' '[' ']'.
                    let end = rest.find(|c| !is_value_char(c)).unwrap_or(rest.len());
                    let (v, after) = rest.split_at(end);
                    if v.is_empty() {
                        return Err("empty parameter value");
                    }
                    value = Some(v.to_string());
                    rest = after;
                }
                rest = lex::skip_wsp(rest);
            }
            list.push(Param {
                name: name.to_string(),
                value,
                quoted,
            });
        }
        Ok(Params { list })
    }

    /// `None` when absent, `Some(None)` for a flag (`;lr`), `Some(Some(v))` for a value.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.list
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_deref())
    }

    /// True when the parameter is present, with or without a value.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets a parameter, replacing the first of that name in place (and dropping any
    /// duplicates) or appending it. The value is quoted on output only if it needs to be.
    pub fn set(&mut self, name: impl Into<String>, value: Option<String>) {
        let name = name.into();
        let mut replaced = false;
        self.list.retain_mut(|p| {
            if !p.name.eq_ignore_ascii_case(&name) {
                return true;
            }
            if replaced {
                return false;
            }
            replaced = true;
            p.value = value.clone();
            p.quoted = false;
            true
        });
        if !replaced {
            self.list.push(Param {
                name,
                value,
                quoted: false,
            });
        }
    }

    /// Sets a parameter whose value must be written as a quoted string (e.g. RFC 3840
    /// `+sip.instance`).
    pub fn set_quoted(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.set(name.clone(), Some(value.into()));
        if let Some(p) = self
            .list
            .iter_mut()
            .find(|p| p.name.eq_ignore_ascii_case(&name))
        {
            p.quoted = true;
        }
    }

    /// Removes every parameter of that name.
    pub fn remove(&mut self, name: &str) {
        self.list.retain(|p| !p.name.eq_ignore_ascii_case(name));
    }

    /// The parameters in order, as `(name, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.list
            .iter()
            .map(|p| (p.name.as_str(), p.value.as_deref()))
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// Characters of an unquoted `gen-value` (token or host).
fn is_value_char(c: char) -> bool {
    lex::is_token_char(c) || c == ':' || c == '[' || c == ']'
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.list {
            write!(f, ";{}", p.name)?;
            if let Some(v) = &p.value {
                f.write_str("=")?;
                if p.quoted || v.is_empty() || !v.chars().all(is_value_char) {
                    lex::write_quoted(f, v)?;
                } else {
                    f.write_str(v)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        let p = Params::parse(";tag=abc;lr;q=0.5;x=\"a b\"").unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(p.get("TAG"), Some(Some("abc")));
        assert_eq!(p.get("lr"), Some(None));
        assert_eq!(p.get("x"), Some(Some("a b")));
        assert_eq!(p.get("nope"), None);
        assert_eq!(p.to_string(), ";tag=abc;lr;q=0.5;x=\"a b\"");
    }

    #[test]
    fn white_space_everywhere() {
        let p = Params::parse(
            "  ;   tag    = 1918181833n ; newparam =  newvalue ;  secondparam ; q = 0.33",
        )
        .unwrap();
        assert_eq!(p.get("tag"), Some(Some("1918181833n")));
        assert_eq!(p.get("newparam"), Some(Some("newvalue")));
        assert_eq!(p.get("secondparam"), Some(None));
        assert_eq!(p.get("q"), Some(Some("0.33")));
        assert_eq!(
            p.to_string(),
            ";tag=1918181833n;newparam=newvalue;secondparam;q=0.33"
        );
    }

    #[test]
    fn quoting_is_kept() {
        let p =
            Params::parse(";+sip.instance=\"<urn:uuid:1>\";feature=\"token\";received=2001:db8::1")
                .unwrap();
        assert_eq!(p.get("+sip.instance"), Some(Some("<urn:uuid:1>")));
        assert_eq!(
            p.to_string(),
            ";+sip.instance=\"<urn:uuid:1>\";feature=\"token\";received=2001:db8::1"
        );
        let p = Params::parse(";name=\"say \\\"hi\\\"\"").unwrap();
        assert_eq!(p.get("name"), Some(Some("say \"hi\"")));
        assert_eq!(p.to_string(), ";name=\"say \\\"hi\\\"\"");
    }

    #[test]
    fn errors() {
        for bad in [
            ";",
            ";;",
            "tag=x",
            ";tag=",
            ";tag=\"open",
            ";a=b c",
            ";a b",
            ";=x",
            ";a=b,c",
        ] {
            assert!(Params::parse(bad).is_err(), "{bad:?} should fail");
        }
        assert!(Params::parse("").unwrap().is_empty());
        assert!(Params::parse("   ").unwrap().is_empty());
    }

    #[test]
    fn set_and_remove() {
        let mut p = Params::parse(";a=1;B=2;b=3").unwrap();
        p.set("b", Some("x y".into()));
        assert_eq!(p.to_string(), ";a=1;B=\"x y\"");
        p.set("c", None);
        p.set_quoted("d", "tok");
        assert_eq!(p.to_string(), ";a=1;B=\"x y\";c;d=\"tok\"");
        p.remove("A");
        assert_eq!(p.to_string(), ";B=\"x y\";c;d=\"tok\"");
        p.set("e", Some(String::new()));
        assert!(p.to_string().ends_with(";e=\"\""));
        assert_eq!(p.iter().count(), 4);
    }
}
