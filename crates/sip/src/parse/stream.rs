//! Message framing on connection transports (TCP, TLS): RFC 3261 §18.3 requires
//! Content-Length there, and RFC 5626 §3.5.1 adds CRLF keep-alives between messages.

use super::lex;
use super::message::{find_header_end, leading_crlf, trim_bytes, unfold};
use super::ParseError;

/// What is at the front of a stream buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framing {
    /// Not enough bytes yet: read more.
    Incomplete,
    /// This many leading CR/LF octets to consume: an RFC 5626 `CRLFCRLF` ping or a stray
    /// line end. (Answering a ping with a `CRLF` pong is the caller's business.)
    KeepAlive(usize),
    /// A whole message of this many octets is at the front; hand it to
    /// [`super::parse_message`] and consume it.
    Message(usize),
    /// The stream cannot be framed any more (no or bad Content-Length, a header block or
    /// message over the limit): close the connection.
    Invalid(ParseError),
}

/// Looks at the front of `buf` and says how much of it forms the next unit. `max_message`
/// caps the whole message (header block and body); it should not exceed
/// [`super::MAX_MESSAGE_SIZE`], which [`super::parse_message`] enforces anyway.
pub fn frame_stream(buf: &[u8], max_message: usize) -> Framing {
    let lead = leading_crlf(buf);
    if lead > 0 {
        return Framing::KeepAlive(lead);
    }
    let Some((head_end, body_start)) = find_header_end(buf) else {
        // Without the empty line yet, only the size can already be judged.
        return if buf.len() > max_message {
            Framing::Invalid(ParseError::TooLarge)
        } else {
            Framing::Incomplete
        };
    };
    if body_start > max_message {
        return Framing::Invalid(ParseError::TooLarge);
    }
    let head = buf.get(..head_end).unwrap_or_default();
    let after_start_line = head
        .iter()
        .position(|b| *b == b'\n')
        .and_then(|nl| head.get(nl + 1..))
        .unwrap_or_default();
    let mut content_length = None;
    for line in unfold(after_start_line) {
        // Malformed lines are left for parse_message to report with the message in hand.
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = trim_bytes(line.get(..colon).unwrap_or_default());
        if !(name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l")) {
            continue;
        }
        if content_length.is_some() {
            return Framing::Invalid(ParseError::DuplicateHeader("Content-Length"));
        }
        let value = trim_bytes(line.get(colon + 1..).unwrap_or_default());
        match std::str::from_utf8(value)
            .ok()
            .and_then(lex::parse_digits::<usize>)
        {
            Some(n) => content_length = Some(n),
            None => {
                return Framing::Invalid(ParseError::bad_header("Content-Length", "not a number"))
            }
        }
    }
    let Some(content_length) = content_length else {
        return Framing::Invalid(ParseError::MissingHeader("Content-Length"));
    };
    match body_start.checked_add(content_length) {
        Some(total) if total <= max_message => {
            if buf.len() < total {
                Framing::Incomplete
            } else {
                Framing::Message(total)
            }
        }
        _ => Framing::Invalid(ParseError::TooLarge),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse_message, MAX_MESSAGE_SIZE};

    const MSG: &[u8] = b"OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h.example.com;branch=z9hG4bK1\r\nFrom: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nl: 4\r\n\r\nbody";

    #[test]
    fn whole_message_then_the_next() {
        let mut buf = MSG.to_vec();
        buf.extend_from_slice(b"\r\n\r\n");
        buf.extend_from_slice(MSG);
        let Framing::Message(n) = frame_stream(&buf, MAX_MESSAGE_SIZE) else {
            panic!("expected a message")
        };
        assert_eq!(n, MSG.len());
        assert!(parse_message(&buf[..n]).is_ok());
        assert_eq!(
            frame_stream(&buf[n..], MAX_MESSAGE_SIZE),
            Framing::KeepAlive(4)
        );
        assert_eq!(
            frame_stream(&buf[n + 4..], MAX_MESSAGE_SIZE),
            Framing::Message(MSG.len())
        );
    }

    #[test]
    fn partial_reads() {
        for cut in 0..MSG.len() {
            assert_eq!(
                frame_stream(&MSG[..cut], MAX_MESSAGE_SIZE),
                Framing::Incomplete,
                "cut at {cut}"
            );
        }
        assert_eq!(frame_stream(b"", 100), Framing::Incomplete);
        assert_eq!(frame_stream(b"\r\n", 100), Framing::KeepAlive(2));
    }

    #[test]
    fn invalid_streams() {
        let no_cl = b"OPTIONS sip:a@example.com SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n";
        assert_eq!(
            frame_stream(no_cl, MAX_MESSAGE_SIZE),
            Framing::Invalid(ParseError::MissingHeader("Content-Length"))
        );
        let neg = b"OPTIONS sip:a@example.com SIP/2.0\r\nContent-Length: -999\r\n\r\n";
        assert!(matches!(
            frame_stream(neg, MAX_MESSAGE_SIZE),
            Framing::Invalid(_)
        ));
        let two = b"X sip:a@b SIP/2.0\r\nContent-Length: 1\r\nl: 1\r\n\r\nab";
        assert!(matches!(
            frame_stream(two, MAX_MESSAGE_SIZE),
            Framing::Invalid(_)
        ));
        let huge = b"X sip:a@b SIP/2.0\r\nContent-Length: 99999999999999999999999\r\n\r\n";
        assert!(matches!(
            frame_stream(huge, MAX_MESSAGE_SIZE),
            Framing::Invalid(_)
        ));
        let big = b"X sip:a@b SIP/2.0\r\nContent-Length: 70000\r\n\r\n";
        assert_eq!(
            frame_stream(big, MAX_MESSAGE_SIZE),
            Framing::Invalid(ParseError::TooLarge)
        );
        let endless = vec![b'a'; 200];
        assert_eq!(
            frame_stream(&endless, 100),
            Framing::Invalid(ParseError::TooLarge)
        );
        assert_eq!(frame_stream(&endless, 1000), Framing::Incomplete);
        let folded = b"X sip:a@b SIP/2.0\r\nContent-Length:\r\n 2\r\n\r\nab";
        assert_eq!(
            frame_stream(folded, MAX_MESSAGE_SIZE),
            Framing::Message(folded.len())
        );
    }
}
