//! Whole-message parsing: start line, header block (folding undone), validation of the
//! headers the transaction and dialog layers key on, and the body by Content-Length.

use super::lex;
use super::uri::parse_uri_inner;
use super::{ParseError, MAX_HEADERS, MAX_HEADER_LINE, MAX_MESSAGE_SIZE};
use crate::header::{CSeq, ContactList, HeaderName, Headers, NameAddr, Via};
use crate::message::{Message, Method, Request, Response, StatusCode};
use crate::uri::Uri;

/// Parses one whole message (a datagram, or a message framed by [`super::frame_stream`]).
///
/// The body is exactly Content-Length octets: fewer is an error, extra octets on a datagram
/// are dropped (RFC 3261 §18.3). Without Content-Length the rest of the input is the body,
/// which is right for datagrams only; stream framing insists on the header. Leading CRLFs
/// (keep-alives) are skipped and bare LF line ends are accepted.
pub fn parse_message(bytes: &[u8]) -> Result<Message, ParseError> {
    if bytes.len() > MAX_MESSAGE_SIZE {
        return Err(ParseError::TooLarge);
    }
    let bytes = bytes.get(leading_crlf(bytes)..).unwrap_or_default();
    let (head_end, body_start) = find_header_end(bytes).ok_or(ParseError::Incomplete)?;
    let head = bytes.get(..head_end).unwrap_or_default();
    let first_end = head.iter().position(|b| *b == b'\n').unwrap_or(head.len());
    let start_line = head.get(..first_end).unwrap_or_default();
    let start_line = start_line.strip_suffix(b"\r").unwrap_or(start_line);
    let start_line = std::str::from_utf8(start_line).map_err(|_| ParseError::NotUtf8)?;
    let headers = parse_headers(head.get(first_end + 1..).unwrap_or_default())?;
    let rest = bytes.get(body_start..).unwrap_or_default();

    if start_line.starts_with("SIP/") {
        let (status, reason) = parse_status_line(start_line)?;
        let content_length = validate(&headers, None)?;
        Ok(Message::Response(Response {
            status,
            reason,
            body: take_body(rest, content_length)?,
            headers,
        }))
    } else {
        let (method, uri) = parse_request_line(start_line)?;
        let content_length = validate(&headers, Some(&method))?;
        Ok(Message::Request(Request {
            method,
            uri,
            body: take_body(rest, content_length)?,
            headers,
        }))
    }
}

/// How many CR and LF octets precede the start line (keep-alives, stray line ends).
pub(super) fn leading_crlf(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count()
}

/// Finds the empty line that ends the header block: returns where that line starts (the
/// end of the last header's line terminator) and where the body starts.
pub(super) fn find_header_end(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut pos = 0;
    while pos < bytes.len() {
        let nl = pos + bytes.get(pos..)?.iter().position(|b| *b == b'\n')?;
        let line = bytes.get(pos..nl)?;
        if line.is_empty() || line == b"\r" {
            return Some((pos, nl + 1));
        }
        pos = nl + 1;
    }
    None
}

/// Splits the header lines (after the start line) into logical header fields, undoing
/// folding: a line starting with SP or HT continues the previous one, and the line break
/// with the white space around it becomes one SP (RFC 3261 §7.3.1).
pub(super) fn unfold(block: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for raw in block.split(|b| *b == b'\n') {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.is_empty() {
            continue;
        }
        match (line.first(), out.last_mut()) {
            (Some(b' ' | b'\t'), Some(current)) => {
                while current.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
                    current.pop();
                }
                let cont = trim_bytes(line);
                if !cont.is_empty() {
                    current.push(b' ');
                    current.extend_from_slice(cont);
                }
            }
            // A first line that starts with white space is kept whole for the caller to
            // reject: it has no header to continue.
            _ => out.push(line.to_vec()),
        }
    }
    out
}

pub(super) fn trim_bytes(b: &[u8]) -> &[u8] {
    let is_ws = |c: &u8| *c == b' ' || *c == b'\t';
    let start = b.iter().position(|c| !is_ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !is_ws(c)).map_or(start, |e| e + 1);
    b.get(start..end).unwrap_or_default()
}

fn parse_headers(block: &[u8]) -> Result<Headers, ParseError> {
    let mut headers = Headers::default();
    for line in unfold(block) {
        if headers.len() >= MAX_HEADERS {
            return Err(ParseError::TooManyHeaders);
        }
        if line.len() > MAX_HEADER_LINE {
            return Err(ParseError::HeaderTooLong);
        }
        let line = String::from_utf8(line).map_err(|_| ParseError::NotUtf8)?;
        let (name, value) = line.split_once(':').ok_or(ParseError::BadHeaderLine)?;
        // White space may separate the name from the colon ("TO :", RFC 4475 §3.1.1.1).
        let name = name.trim_end_matches(lex::is_wsp);
        // A CR left inside a line would let the value smuggle a line break when forwarded.
        if !lex::is_token(name) || value.contains('\r') {
            return Err(ParseError::BadHeaderLine);
        }
        headers.push(HeaderName::parse(name), lex::trim_wsp(value));
    }
    Ok(headers)
}

/// `SIP-Version` must be SIP/2.0 (case-insensitive, RFC 3261 §7.1). Another well-formed
/// version is `BadVersion` (answer 505); anything else is a malformed start line.
fn check_version(v: &str, malformed: ParseError) -> Result<(), ParseError> {
    if v.eq_ignore_ascii_case("SIP/2.0") {
        return Ok(());
    }
    let numbers = v
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("SIP/"))
        .and_then(|_| v.get(4..))
        .and_then(|n| n.split_once('.'));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match numbers {
        Some((major, minor)) if digits(major) && digits(minor) => Err(ParseError::BadVersion),
        _ => Err(malformed),
    }
}

/// `Method SP Request-URI SP SIP-Version`, with exactly one SP between the parts.
fn parse_request_line(line: &str) -> Result<(Method, Uri), ParseError> {
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::BadRequestLine);
    };
    if !lex::is_token(method) || method.len() > lex::MAX_METHOD_LEN {
        return Err(ParseError::BadRequestLine);
    }
    check_version(version, ParseError::BadRequestLine)?;
    if uri.is_empty() {
        return Err(ParseError::BadRequestLine);
    }
    let uri = parse_uri_inner(uri).map_err(|r| ParseError::BadUri(r.to_string()))?;
    // RFC 3261 §19.1.1: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
    if uri.as_sip().is_some_and(|u| !u.headers.is_empty()) {
        return Err(ParseError::BadUri("headers in Request-URI".to_string()));
    }
    Ok((Method::from_token(method), uri))
}

/// `SIP-Version SP Status-Code SP Reason-Phrase`. A missing SP after the code is accepted
/// (RFC 4475 §3.1.1.13 calls that liberal but harmless).
fn parse_status_line(line: &str) -> Result<(StatusCode, String), ParseError> {
    let (version, rest) = line.split_once(' ').ok_or(ParseError::BadStatusLine)?;
    check_version(version, ParseError::BadStatusLine)?;
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    let code = if code.len() == 3 {
        lex::parse_digits::<u16>(code)
    } else {
        None
    }
    .filter(|c| (100..=699).contains(c))
    .ok_or(ParseError::BadStatusLine)?;
    if reason.chars().any(|c| c != '\t' && c.is_control()) {
        return Err(ParseError::BadStatusLine);
    }
    Ok((StatusCode(code), reason.to_string()))
}

/// Single-valued headers that must not repeat (RFC 4475 §3.3.8, §3.3.9).
const SINGLE: &[(HeaderName, &str)] = &[
    (HeaderName::From, "From"),
    (HeaderName::To, "To"),
    (HeaderName::CallId, "Call-ID"),
    (HeaderName::CSeq, "CSeq"),
    (HeaderName::ContentLength, "Content-Length"),
    (HeaderName::MaxForwards, "Max-Forwards"),
];

/// Checks the headers every message must have and that the core reads without further
/// checks; returns Content-Length. `method` is the request method (None for responses).
fn validate(headers: &Headers, method: Option<&Method>) -> Result<Option<usize>, ParseError> {
    for (name, label) in SINGLE {
        if headers.count(name) > 1 {
            return Err(ParseError::DuplicateHeader(label));
        }
    }
    let required = |name: HeaderName, label: &'static str| {
        headers
            .get(&name)
            .map(str::to_string)
            .ok_or(ParseError::MissingHeader(label))
    };
    required(HeaderName::Via, "Via")?;
    let from = required(HeaderName::From, "From")?;
    let to = required(HeaderName::To, "To")?;
    let call_id = required(HeaderName::CallId, "Call-ID")?;
    let cseq = required(HeaderName::CSeq, "CSeq")?;

    for line in headers.get_all(&HeaderName::Via) {
        Via::parse_list(line)?;
    }
    NameAddr::parse_inner(&from).map_err(|r| ParseError::bad_header("From", r))?;
    NameAddr::parse_inner(&to).map_err(|r| ParseError::bad_header("To", r))?;
    // callid = word ["@" word] in the grammar, but real Call-IDs stray from it (base64 '='),
    // and only equality matters: refuse just what cannot be one opaque word.
    if call_id.is_empty() || call_id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ParseError::bad_header("Call-ID", "not a single word"));
    }
    let cseq = CSeq::parse(&cseq)?;
    if let Some(method) = method {
        if &cseq.method != method {
            return Err(ParseError::CSeqMethodMismatch);
        }
    }
    if let Some(mf) = headers.get(&HeaderName::MaxForwards) {
        lex::parse_digits::<u8>(mf)
            .ok_or_else(|| ParseError::bad_header("Max-Forwards", "not a number from 0 to 255"))?;
    }
    ContactList::from_headers(headers)?;
    headers
        .get(&HeaderName::ContentLength)
        .map(|v| {
            lex::parse_digits::<usize>(v)
                .ok_or_else(|| ParseError::bad_header("Content-Length", "not a number"))
        })
        .transpose()
}

fn take_body(rest: &[u8], content_length: Option<usize>) -> Result<Vec<u8>, ParseError> {
    match content_length {
        None => Ok(rest.to_vec()),
        Some(n) => rest
            .get(..n)
            .map(<[u8]>::to_vec)
            .ok_or(ParseError::BodyTooShort {
                expected: n,
                got: rest.len(),
            }),
    }
}
