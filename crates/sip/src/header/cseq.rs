//! The CSeq header (RFC 3261 §20.16): a sequence number and the request method.

use crate::message::Method;
use crate::parse::lex::{self, Reason, MAX_METHOD_LEN};
use crate::ParseError;
use std::fmt;

/// Largest sequence number: RFC 3261 §8.1.1.5 requires it to be below 2**31.
const MAX_SEQ: u32 = (1 << 31) - 1;

/// A parsed CSeq value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// The sequence number (below 2**31).
    pub seq: u32,
    /// The method.
    pub method: Method,
}

impl CSeq {
    /// Parses `1*DIGIT LWS Method`.
    pub fn parse(s: &str) -> Result<CSeq, ParseError> {
        CSeq::parse_inner(s).map_err(|reason| ParseError::BadHeader {
            name: "CSeq".to_string(),
            reason,
        })
    }

    fn parse_inner(s: &str) -> Result<CSeq, Reason> {
        let s = lex::trim_wsp(s);
        let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (digits, rest) = s.split_at(digits_end);
        let seq = lex::parse_digits::<u32>(digits)
            .filter(|n| *n <= MAX_SEQ)
            .ok_or("sequence number missing or not below 2**31")?;
        let method = lex::skip_wsp(rest);
        if method.len() == rest.len() {
            return Err("missing space before method");
        }
        if !lex::is_token(method) {
            return Err("method is not a token");
        }
        if method.len() > MAX_METHOD_LEN {
            return Err("method too long");
        }
        Ok(CSeq {
            seq,
            method: Method::from_token(method),
        })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let c = CSeq::parse("4711 INVITE").unwrap();
        assert_eq!(c.seq, 4711);
        assert_eq!(c.method, Method::Invite);
        assert_eq!(c.to_string(), "4711 INVITE");
        assert_eq!(CSeq::parse(&c.to_string()).unwrap(), c);
    }

    #[test]
    fn leading_zeros_and_white_space() {
        let c = CSeq::parse(" 0009   INVITE ").unwrap();
        assert_eq!((c.seq, c.method), (9, Method::Invite));
        let c = CSeq::parse("139122385 !interesting-Method0123456789_*+`.%indeed'~").unwrap();
        assert_eq!(
            c.method,
            Method::Extension("!interesting-Method0123456789_*+`.%indeed'~".into())
        );
    }

    #[test]
    fn limits() {
        assert!(CSeq::parse("2147483647 ACK").is_ok());
        assert!(CSeq::parse("2147483648 ACK").is_err());
        assert!(CSeq::parse("36893488147419103232 REGISTER").is_err());
        let long = format!("1 {}", "A".repeat(300));
        assert!(CSeq::parse(&long).is_err());
        assert!(CSeq::parse(&format!("1 {}", "A".repeat(MAX_METHOD_LEN))).is_ok());
    }

    #[test]
    fn errors() {
        for bad in [
            "",
            "INVITE",
            "1",
            "1INVITE",
            "-1 INVITE",
            "1 INV ITE",
            "1 INVITE;x",
            "x1 INVITE",
            "1.5 INVITE",
        ] {
            assert!(CSeq::parse(bad).is_err(), "{bad:?} should fail");
        }
    }
}
