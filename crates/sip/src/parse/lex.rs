//! Lexical pieces of the RFC 3261 §25 grammar shared by the message parser, the URI parser
//! and the typed headers: tokens, quoted strings, linear white space, %-escapes and the
//! comma split of list headers.
//!
//! Everything here works on `&str` slices that were already unfolded (no CR or LF left), and
//! reports problems as a short static reason that the caller wraps into a
//! [`crate::ParseError`] naming the header it was parsing.

/// Longest method token accepted (request line and CSeq). RFC 3261 sets no limit, but
/// every registered method is under 16 characters; a cap keeps an attacker's kilobyte
/// "method" out of transaction keys and logs.
pub(crate) const MAX_METHOD_LEN: usize = 64;

/// A short, static description of what was wrong; callers add the header name.
pub(crate) type Reason = &'static str;

/// `token` characters (RFC 3261 §25.1): alphanumerics and `-.!%*_+`'~`.
pub(crate) fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c)
}

/// True for a non-empty string made only of token characters.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

/// Space or horizontal tab: the only white space left once folding is undone.
pub(crate) fn is_wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Skips leading spaces and tabs.
pub(crate) fn skip_wsp(s: &str) -> &str {
    s.trim_start_matches(is_wsp)
}

/// Trims spaces and tabs on both sides (not other Unicode white space, which is data).
pub(crate) fn trim_wsp(s: &str) -> &str {
    s.trim_matches(is_wsp)
}

/// Splits off the longest prefix of token characters: `(token, rest)`.
pub(crate) fn take_token(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !is_token_char(c)).unwrap_or(s.len());
    s.split_at(end)
}

/// Parses a `quoted-string` at the start of `s` (which must begin with `"`), undoing
/// `quoted-pair` escapes. Returns the unquoted text and what follows the closing quote.
pub(crate) fn take_quoted(s: &str) -> Result<(String, &str), Reason> {
    let mut chars = s.char_indices();
    match chars.next() {
        Some((_, '"')) => {}
        _ => return Err("expected a quoted string"),
    }
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, s.get(i + 1..).unwrap_or_default())),
            '\\' => match chars.next() {
                // quoted-pair may escape any octet but CR and LF (which cannot occur here).
                Some((_, esc)) => out.push(esc),
                None => return Err("unterminated quoted string"),
            },
            // qdtext admits white space but no other control character unescaped.
            c if c != '\t' && ((c as u32) < 0x20 || c as u32 == 0x7f) => {
                return Err("control character in quoted string")
            }
            _ => out.push(c),
        }
    }
    Err("unterminated quoted string")
}

/// Writes `s` as a quoted string, escaping `"`, `\` and the control characters that qdtext
/// does not allow. CR and LF cannot be escaped (quoted-pair excludes them) and would let a
/// value inject header lines, so they become spaces.
pub(crate) fn write_quoted(out: &mut std::fmt::Formatter<'_>, s: &str) -> std::fmt::Result {
    use std::fmt::Write;
    out.write_char('"')?;
    for c in s.chars() {
        match c {
            '\r' | '\n' => out.write_char(' ')?,
            '"' | '\\' => {
                out.write_char('\\')?;
                out.write_char(c)?;
            }
            '\t' => out.write_char(c)?,
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.write_char('\\')?;
                out.write_char(c)?;
            }
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

/// Splits a list header value at commas that are outside quoted strings and angle brackets
/// (RFC 3261 §7.3.1). Pieces are returned untrimmed; an unbalanced quote or bracket is left
/// for the element parser to reject.
pub(crate) fn split_commas(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut in_angle = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_quotes = false;
            }
            continue;
        }
        match c {
            '"' => in_quotes = true,
            '<' => in_angle = true,
            '>' => in_angle = false,
            ',' if !in_angle => {
                parts.push(s.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(s.get(start..).unwrap_or_default());
    parts
}

/// Decodes `%HH` escapes. Any `%` not followed by two hex digits is an error; characters
/// outside `allowed` (and not part of an escape) are an error too.
pub(crate) fn unescape(s: &str, allowed: fn(char) -> bool) -> Result<String, Reason> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).and_then(|h| (*h as char).to_digit(16));
            let lo = bytes.get(i + 2).and_then(|h| (*h as char).to_digit(16));
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                _ => return Err("bad %-escape"),
            }
            i += 3;
        } else {
            if !b.is_ascii() || !allowed(b as char) {
                return Err("character not allowed");
            }
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "escaped octets are not UTF-8")
}

/// Parses an unsigned decimal made only of ASCII digits (leading zeros allowed), refusing
/// signs, spaces and overflow, which `str::parse` would partly accept.
pub(crate) fn parse_digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Strip leading zeros so that "0000000000000068" does not look like an overflow.
    let trimmed = s.trim_start_matches('0');
    let digits = if trimmed.is_empty() { "0" } else { trimmed };
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert!(is_token("!interesting-Method0123456789_*+`.%indeed'~"));
        assert!(!is_token(""));
        assert!(!is_token("a b"));
        assert_eq!(take_token("abc;d"), ("abc", ";d"));
    }

    #[test]
    fn quoted() {
        let (v, rest) = take_quoted(r#""J Rosenberg \\\"" <x>"#).unwrap();
        assert_eq!(v, "J Rosenberg \\\"");
        assert_eq!(rest, " <x>");
        assert!(take_quoted("\"open").is_err());
        assert!(take_quoted("\"ends in escape\\").is_err());
        assert!(take_quoted("x").is_err());
    }

    #[test]
    fn commas() {
        let parts = split_commas(r#""a, b" <sip:x>, <sip:y;p="1,2">, c"#);
        assert_eq!(parts, vec![r#""a, b" <sip:x>"#, " <sip:y;p=\"1,2\">", " c"]);
        assert_eq!(split_commas(""), vec![""]);
    }

    #[test]
    fn percent() {
        assert_eq!(unescape("a%20b", |_| true).unwrap(), "a b");
        assert!(unescape("a%2", |_| true).is_err());
        assert!(unescape("a%zz", |_| true).is_err());
        assert!(unescape("%FF", |_| true).is_err());
        assert!(unescape("a b", |c| c != ' ').is_err());
    }

    #[test]
    fn digits() {
        assert_eq!(parse_digits::<u32>("0009"), Some(9));
        assert_eq!(parse_digits::<u32>("+9"), None);
        assert_eq!(parse_digits::<u32>(""), None);
        assert_eq!(parse_digits::<u32>("36893488147419103232"), None);
        assert_eq!(parse_digits::<u8>("00000000000000000255"), Some(255));
    }
}
