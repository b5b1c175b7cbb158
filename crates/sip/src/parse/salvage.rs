//! Answering a request that failed to parse (RFC 3261 §8.2.2, §16.3; RFC 4475 asks for a
//! 400 in most malformed cases): the headers a response needs are picked out leniently,
//! line by line, from bytes the strict parser refused.

use super::lex;
use super::message::{find_header_end, leading_crlf, unfold};
use super::ParseError;
use crate::header::{HeaderName, NameAddr};
use crate::message::{Response, StatusCode};

/// Builds the response to a request that failed with `err`, or `None` when no response may
/// or can be sent: the bytes are a response (`SIP/...`), an ACK (never answered), have no
/// method token, or lack one of Via, From, To, Call-ID and CSeq (the response could not be
/// matched or routed). The caller then drops the bytes and counts them.
///
/// The status is `400 Bad Request (<what was wrong>)`, except `505 Version Not Supported`
/// for another SIP version and `513 Message Too Large` for an oversized message, as RFC
/// 3261 §21.5.20 and §21.5.14 prescribe. Via lines are copied in order, the other four
/// once; a To without a tag gets one derived from the request, so that retransmissions of
/// the same bad request draw the same response.
pub fn bad_request_response(bytes: &[u8], err: &ParseError) -> Option<Response> {
    let bytes = bytes.get(leading_crlf(bytes)..)?;
    if bytes.starts_with(b"SIP/") {
        return None;
    }
    let first_end = bytes
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(bytes.len());
    let first = bytes.get(..first_end)?;
    let method = first.split(|b| *b == b' ').next()?;
    let method = std::str::from_utf8(method).ok()?;
    if !lex::is_token(method) || method == "ACK" {
        return None;
    }
    let head_end = find_header_end(bytes).map_or(bytes.len(), |(end, _)| end);
    let block = bytes.get(first_end + 1..head_end).unwrap_or_default();

    let mut vias = Vec::new();
    let (mut from, mut to, mut call_id, mut cseq) = (None, None, None, None);
    for line in unfold(block) {
        let Ok(line) = std::str::from_utf8(&line) else {
            continue;
        };
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = lex::trim_wsp(name);
        let value = lex::trim_wsp(value);
        // Never echo a control character back: it could break the response's framing.
        if !lex::is_token(name)
            || value.is_empty()
            || value.chars().any(|c| c != '\t' && c.is_control())
        {
            continue;
        }
        match HeaderName::parse(name) {
            HeaderName::Via => vias.push(value.to_string()),
            HeaderName::From => {
                from.get_or_insert_with(|| value.to_string());
            }
            HeaderName::To => {
                to.get_or_insert_with(|| value.to_string());
            }
            HeaderName::CallId => {
                call_id.get_or_insert_with(|| value.to_string());
            }
            HeaderName::CSeq => {
                cseq.get_or_insert_with(|| value.to_string());
            }
            _ => {}
        }
    }
    let (from, to, call_id, cseq) = (from?, to?, call_id?, cseq?);
    if vias.is_empty() {
        return None;
    }

    let mut resp = match err {
        ParseError::BadVersion => Response::new(StatusCode(505)),
        ParseError::TooLarge => Response::new(StatusCode(513)),
        _ => {
            let mut r = Response::new(StatusCode::BAD_REQUEST);
            r.reason = format!("Bad Request ({err})");
            r
        }
    };
    let to = match NameAddr::parse_inner(&to) {
        // RFC 3261 §8.2.6.2: a final response outside a dialog carries a To tag.
        Ok(addr) if addr.tag().is_none() => {
            let tag = stable_tag(&[&call_id, &from, &cseq, vias.first().map_or("", |v| v)]);
            format!("{to};tag={tag}")
        }
        _ => to,
    };
    for via in vias {
        resp.headers.push(HeaderName::Via, via);
    }
    resp.headers.push(HeaderName::From, from);
    resp.headers.push(HeaderName::To, to);
    resp.headers.push(HeaderName::CallId, call_id);
    resp.headers.push(HeaderName::CSeq, cseq);
    Some(resp)
}

/// A To tag that depends only on the request (64-bit FNV-1a, in hex): stateless, yet the
/// same for every retransmission.
fn stable_tag(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_message;

    const BAD_CSEQ: &[u8] = b"INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP b.example.com;branch=z9hG4bK2\r\nFrom: <sip:alice@example.com>;tag=88\r\nTo: Bob <sip:bob@example.com>\r\nCall-ID: c1\r\nCSeq: 1 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn answers_a_bad_request() {
        let err = parse_message(BAD_CSEQ).unwrap_err();
        assert_eq!(err, ParseError::CSeqMethodMismatch);
        let resp = bad_request_response(BAD_CSEQ, &err).unwrap();
        assert_eq!(resp.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            resp.reason,
            "Bad Request (CSeq method does not match request method)"
        );
        let vias: Vec<_> = resp.headers.get_all(&HeaderName::Via).collect();
        assert_eq!(vias.len(), 2);
        assert!(vias[0].contains("a.example.com"));
        let to = resp.headers.get(&HeaderName::To).unwrap();
        assert!(to.starts_with("Bob <sip:bob@example.com>;tag="));
        assert_eq!(resp.headers.get(&HeaderName::CSeq), Some("1 BYE"));
        // Same request, same tag.
        let again = bad_request_response(BAD_CSEQ, &err).unwrap();
        assert_eq!(again.headers.get(&HeaderName::To), Some(to));
        // The response itself parses.
        assert!(parse_message(&resp.to_bytes()).is_ok());
    }

    #[test]
    fn no_answer() {
        let err = ParseError::BadRequestLine;
        let ack = b"ACK sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 ACK\r\n\r\n";
        assert!(bad_request_response(ack, &err).is_none());
        let resp =
            b"SIP/2.0 200 OK\r\nVia: x\r\nFrom: x\r\nTo: x\r\nCall-ID: x\r\nCSeq: 1 X\r\n\r\n";
        assert!(bad_request_response(resp, &err).is_none());
        let insuf = b"INVITE sip:user@example.com SIP/2.0\r\nCSeq: 193942 INVITE\r\nVia: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\r\n\r\n";
        assert!(bad_request_response(insuf, &err).is_none());
        assert!(bad_request_response(b"", &err).is_none());
        assert!(bad_request_response(b"\xff\xfe garbage", &err).is_none());
    }

    #[test]
    fn version_and_size() {
        let badvers = b"OPTIONS sip:t.watson@example.org SIP/7.0\r\nVia: SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw\r\nFrom: A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe\r\nTo: T. Watson <sip:t.watson@example.org>\r\nCall-ID: badvers.31417@c.example.com\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n";
        let err = parse_message(badvers).unwrap_err();
        assert_eq!(err, ParseError::BadVersion);
        let resp = bad_request_response(badvers, &err).unwrap();
        assert_eq!(resp.status, StatusCode(505));
        let resp = bad_request_response(BAD_CSEQ, &ParseError::TooLarge).unwrap();
        assert_eq!(resp.status, StatusCode(513));
    }

    #[test]
    fn skips_lines_it_cannot_echo() {
        let msg = b"INVITE sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: \x01bad\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\nCall-ID: \xff\r\nCall-ID: ok\r\nCSeq: 1 INVITE\r\n\r\n";
        let resp = bad_request_response(msg, &ParseError::BadRequestLine).unwrap();
        assert_eq!(
            resp.headers.get(&HeaderName::From),
            Some("<sip:a@example.com>;tag=1")
        );
        assert_eq!(
            resp.headers.get(&HeaderName::To),
            Some("<sip:b@example.com>;tag=2")
        );
        assert_eq!(resp.headers.get(&HeaderName::CallId), Some("ok"));
    }
}
