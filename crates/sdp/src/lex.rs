//! Lexical checks from the RFC 8866 §9 grammar, shared by the parser and the attribute
//! readers. Each works on `&str` and never indexes, so no input can make it panic.

/// `token-char` of RFC 8866 §9: visible ASCII except the separators.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '!' | '#'
                | '$'
                | '%'
                | '&'
                | '\''
                | '*'
                | '+'
                | '-'
                | '.'
                | '^'
                | '_'
                | '`'
                | '{'
                | '|'
                | '}'
                | '~'
        )
}

/// `token`: one or more token characters.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

/// `proto` of an `m=` line: tokens joined by `/` (`RTP/AVP`, `UDP/TLS/RTP/SAVPF`).
pub(crate) fn is_proto(s: &str) -> bool {
    s.split('/').all(is_token)
}

/// `non-ws-string`: visible characters (including UTF-8 beyond ASCII), no space or control.
pub(crate) fn is_non_ws(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| !c.is_control() && c != ' ')
}

/// `1*DIGIT`. `str::parse` alone would also take a leading `+`, which the grammar does not.
pub(crate) fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// A decimal number without sign or leading zero that fits in a `u64`.
///
/// RFC 8866 forbids leading zeros in times and counts (`POS-DIGIT *DIGIT`) but not in
/// ports or bandwidths; refusing them everywhere costs nothing in practice and means a
/// number the model holds as an integer always prints back as it came.
pub(crate) fn parse_u64(s: &str) -> Option<u64> {
    if is_digits(s) && (s.len() == 1 || !s.starts_with('0')) {
        s.parse().ok()
    } else {
        None
    }
}

/// A decimal number without sign that fits in a `u32`.
pub(crate) fn parse_u32(s: &str) -> Option<u32> {
    parse_u64(s).and_then(|n| u32::try_from(n).ok())
}

/// A decimal number without sign that fits in a `u16` (ports, port counts, channels).
pub(crate) fn parse_u16(s: &str) -> Option<u16> {
    parse_u64(s).and_then(|n| u16::try_from(n).ok())
}

/// An RTP payload type: 0–127 (RFC 3550 §5.1 gives it seven bits).
pub(crate) fn parse_payload_type(s: &str) -> Option<u8> {
    parse_u64(s)
        .and_then(|n| u8::try_from(n).ok())
        .filter(|&pt| pt <= 127)
}

/// `1*DIGIT ["." 1*DIGIT]`: the packet times of `a=ptime`/`a=maxptime`, which some phones
/// write with a fraction.
pub(crate) fn is_decimal(s: &str) -> bool {
    match s.split_once('.') {
        Some((int, frac)) => is_digits(int) && is_digits(frac),
        None => is_digits(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_reject_signs_and_overflow() {
        assert_eq!(parse_u16("65535"), Some(65535));
        assert_eq!(parse_u16("65536"), None);
        assert_eq!(parse_u16("+5"), None);
        assert_eq!(parse_u16("0"), Some(0));
        assert_eq!(parse_u16("04000"), None);
        assert_eq!(parse_u16(""), None);
        assert_eq!(parse_u64("99999999999999999999999"), None);
        assert_eq!(parse_payload_type("127"), Some(127));
        assert_eq!(parse_payload_type("128"), None);
    }

    #[test]
    fn tokens_and_protos() {
        assert!(is_token("telephone-event"));
        assert!(!is_token("a b"));
        assert!(!is_token("a:b"));
        assert!(is_proto("UDP/TLS/RTP/SAVPF"));
        assert!(!is_proto("RTP//AVP"));
        assert!(is_decimal("20") && is_decimal("0.125") && !is_decimal("20."));
        assert!(is_non_ws("é.example") && !is_non_ws("a\tb"));
    }
}
