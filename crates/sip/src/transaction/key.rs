//! Transaction matching (RFC 3261 §17.1.3 for responses, §17.2.3 for requests) and the few
//! header reads it needs.
//!
//! Server side, a request whose top Via branch starts with the magic cookie `z9hG4bK` is
//! keyed on branch + sent-by + method, where ACK is keyed as INVITE (so the ACK for a non-2xx
//! finds its INVITE transaction) and CANCEL keeps its own method (so it has a transaction of
//! its own; the layer finds the INVITE it cancels by swapping the method).
//!
//! Requests without the magic cookie (RFC 2543 senders) are not matched with the full §17.2.3
//! RFC 2543 procedure. They are keyed on the branch (if any), sent-by, Call-ID, CSeq number and
//! method (ACK again as INVITE). This leaves out the Request-URI, the From tag and the To tag:
//! it is enough to absorb retransmissions and to pair an ACK or a CANCEL with its INVITE from
//! such a sender, and two distinct requests from one sender never share Call-ID and CSeq
//! number.
//!
//! Client side, a response matches on its top Via branch (which this layer's TU generated)
//! and its CSeq method.
//!
//! The header reads here are deliberately small: the parser has validated the messages before
//! they reach this layer, so only the pieces the keys need are pulled from the raw values.

use super::TransactionError;
use crate::header::{HeaderName, Headers};
use crate::message::{Method, Request, Response};

/// The magic cookie that starts every RFC 3261 branch parameter (§8.1.1.7).
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// The key a transaction is found by. Build one with [`TransactionKey::server`] for a
/// received request, [`TransactionKey::client`] for a request about to be sent, or
/// [`TransactionKey::response`] for a received response.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TransactionKey(Inner);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Inner {
    /// §17.2.3 for branches with the magic cookie.
    Server {
        branch: String,
        sent_by: String,
        method: Method,
    },
    /// Requests without the magic cookie (see the module documentation).
    Legacy {
        branch: Option<String>,
        sent_by: String,
        call_id: String,
        cseq: u32,
        method: Method,
    },
    /// §17.1.3: a response to our own request.
    Client { branch: String, method: Method },
}

impl TransactionKey {
    /// The server transaction key of a received request (ACK keyed as INVITE).
    pub fn server(req: &Request) -> Result<TransactionKey, TransactionError> {
        let via = TopVia::read(&req.headers)?;
        let method = match req.method {
            Method::Ack => Method::Invite,
            ref m => m.clone(),
        };
        match via.branch {
            Some(branch) if branch.starts_with(MAGIC_COOKIE) => Ok(TransactionKey(Inner::Server {
                branch: branch.to_string(),
                sent_by: via.sent_by,
                method,
            })),
            branch => {
                let call_id = req
                    .headers
                    .get(&HeaderName::CallId)
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .ok_or(TransactionError::MissingCallId)?;
                let (cseq, _) = cseq(&req.headers)?;
                Ok(TransactionKey(Inner::Legacy {
                    branch: branch.map(str::to_string),
                    sent_by: via.sent_by,
                    call_id: call_id.to_string(),
                    cseq,
                    method,
                }))
            }
        }
    }

    /// The client transaction key of a request about to be sent. Its top Via must carry an
    /// RFC 3261 branch and its CSeq method must be the request method.
    pub fn client(req: &Request) -> Result<TransactionKey, TransactionError> {
        let via = TopVia::read(&req.headers)?;
        let branch = via
            .branch
            .filter(|b| b.starts_with(MAGIC_COOKIE))
            .ok_or(TransactionError::MissingBranch)?;
        let (_, cseq_method) = cseq(&req.headers)?;
        let cseq_method = Method::from_token(cseq_method);
        if cseq_method != req.method {
            return Err(TransactionError::CSeqMethodMismatch {
                request: req.method.clone(),
                cseq: cseq_method,
            });
        }
        Ok(TransactionKey(Inner::Client {
            branch: branch.to_string(),
            method: req.method.clone(),
        }))
    }

    /// The key of the client transaction a received response belongs to.
    pub fn response(resp: &Response) -> Result<TransactionKey, TransactionError> {
        let via = TopVia::read(&resp.headers)?;
        let branch = via.branch.ok_or(TransactionError::MissingBranch)?;
        let (_, method) = cseq(&resp.headers)?;
        Ok(TransactionKey(Inner::Client {
            branch: branch.to_string(),
            method: Method::from_token(method),
        }))
    }

    /// The same key for another method: how a CANCEL finds the INVITE it cancels (§9.2), or
    /// a client CANCEL the INVITE transaction it belongs to.
    pub fn with_method(&self, method: Method) -> TransactionKey {
        let mut key = self.clone();
        match &mut key.0 {
            Inner::Server { method: m, .. }
            | Inner::Legacy { method: m, .. }
            | Inner::Client { method: m, .. } => *m = method,
        }
        key
    }

    /// True for a key built from an RFC 3261 (magic cookie) branch.
    pub fn is_rfc3261(&self) -> bool {
        !matches!(self.0, Inner::Legacy { .. })
    }

    /// The branch parameter the key was built from, if any.
    pub fn branch(&self) -> Option<&str> {
        match &self.0 {
            Inner::Server { branch, .. } | Inner::Client { branch, .. } => Some(branch),
            Inner::Legacy { branch, .. } => branch.as_deref(),
        }
    }
}

/// The parts of the top Via the keys use.
struct TopVia<'a> {
    /// host[:port], lower-case, without whitespace.
    sent_by: String,
    /// The branch parameter, if present and non-empty.
    branch: Option<&'a str>,
}

impl<'a> TopVia<'a> {
    fn read(headers: &'a Headers) -> Result<TopVia<'a>, TransactionError> {
        let raw = headers
            .get(&HeaderName::Via)
            .ok_or(TransactionError::MissingVia)?;
        let first = first_list_element(raw);
        let (head, params) = first.split_once(';').unwrap_or((first, ""));
        // head is `SIP / 2.0 / UDP host:port` (LWS is allowed around the slashes).
        let (_, after_protocol) = head
            .rsplit_once('/')
            .ok_or(TransactionError::MalformedVia)?;
        let (_transport, sent_by) = after_protocol
            .trim_start()
            .split_once(char::is_whitespace)
            .ok_or(TransactionError::MalformedVia)?;
        let sent_by: String = sent_by
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if sent_by.is_empty() {
            return Err(TransactionError::MalformedVia);
        }
        let branch = params.split(';').find_map(|param| {
            let (name, value) = param.split_once('=')?;
            let value = value.trim();
            (name.trim().eq_ignore_ascii_case("branch") && !value.is_empty()).then_some(value)
        });
        Ok(TopVia { sent_by, branch })
    }
}

/// The first element of a comma-separated header value (commas inside quotes or angle
/// brackets do not count).
pub(super) fn first_list_element(raw: &str) -> &str {
    let mut quoted = false;
    let mut escaped = false;
    let mut angle = false;
    for (i, c) in raw.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => return raw[..i].trim(),
            _ => {}
        }
    }
    raw.trim()
}

/// The CSeq number and method token.
pub(super) fn cseq(headers: &Headers) -> Result<(u32, &str), TransactionError> {
    let raw = headers
        .get(&HeaderName::CSeq)
        .ok_or(TransactionError::MalformedCSeq)?;
    let mut parts = raw.split_whitespace();
    let number = parts
        .next()
        .and_then(|n| n.parse::<u32>().ok())
        .ok_or(TransactionError::MalformedCSeq)?;
    let method = parts.next().ok_or(TransactionError::MalformedCSeq)?;
    if parts.next().is_some() {
        return Err(TransactionError::MalformedCSeq);
    }
    Ok((number, method))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uri::{Host, SipUri, Uri};

    fn request(method: Method, via: &str, cseq: &str) -> Request {
        let uri = Uri::Sip(SipUri::new(
            Some("bob"),
            Host::Domain("b.example".into()),
            None,
        ));
        let mut req = Request::new(method, uri);
        req.headers.push(HeaderName::Via, via);
        req.headers.push(HeaderName::CallId, "abc@host");
        req.headers.push(HeaderName::CSeq, cseq);
        req
    }

    #[test]
    fn rfc3261_key_ignores_case_of_host_and_whitespace() {
        let a = request(
            Method::Invite,
            "SIP/2.0/UDP Host.Example:5060;branch=z9hG4bK1;rport",
            "1 INVITE",
        );
        let b = request(
            Method::Invite,
            "SIP / 2.0 / UDP  host.example : 5060 ; rport ; BRANCH = z9hG4bK1, SIP/2.0/UDP x",
            "1 INVITE",
        );
        let ka = TransactionKey::server(&a).unwrap();
        assert_eq!(ka, TransactionKey::server(&b).unwrap());
        assert!(ka.is_rfc3261());
        assert_eq!(ka.branch(), Some("z9hG4bK1"));
    }

    #[test]
    fn ack_matches_invite_and_cancel_does_not() {
        let via = "SIP/2.0/UDP h:5060;branch=z9hG4bKx";
        let invite = TransactionKey::server(&request(Method::Invite, via, "1 INVITE")).unwrap();
        let ack = TransactionKey::server(&request(Method::Ack, via, "1 ACK")).unwrap();
        let cancel = TransactionKey::server(&request(Method::Cancel, via, "1 CANCEL")).unwrap();
        assert_eq!(invite, ack);
        assert_ne!(invite, cancel);
        assert_eq!(cancel.with_method(Method::Invite), invite);
    }

    #[test]
    fn sent_by_and_branch_both_count() {
        let a = request(
            Method::Options,
            "SIP/2.0/UDP h:5060;branch=z9hG4bKx",
            "1 OPTIONS",
        );
        let b = request(
            Method::Options,
            "SIP/2.0/UDP h:5061;branch=z9hG4bKx",
            "1 OPTIONS",
        );
        let c = request(
            Method::Options,
            "SIP/2.0/UDP h:5060;branch=z9hG4bKy",
            "1 OPTIONS",
        );
        let ka = TransactionKey::server(&a).unwrap();
        assert_ne!(ka, TransactionKey::server(&b).unwrap());
        assert_ne!(ka, TransactionKey::server(&c).unwrap());
    }

    #[test]
    fn legacy_key_uses_call_id_and_cseq_number() {
        let via = "SIP/2.0/UDP h:5060;branch=1234";
        let invite = request(Method::Invite, via, "7 INVITE");
        let ack = request(Method::Ack, via, "7 ACK");
        let next = request(Method::Invite, via, "8 INVITE");
        let k = TransactionKey::server(&invite).unwrap();
        assert!(!k.is_rfc3261());
        assert_eq!(k, TransactionKey::server(&ack).unwrap());
        assert_ne!(k, TransactionKey::server(&next).unwrap());
        let no_branch = request(Method::Invite, "SIP/2.0/UDP h", "7 INVITE");
        assert_eq!(TransactionKey::server(&no_branch).unwrap().branch(), None);
    }

    #[test]
    fn client_key_requires_cookie_and_matching_cseq() {
        let ok = request(Method::Invite, "SIP/2.0/UDP h;branch=z9hG4bKa", "1 INVITE");
        assert!(TransactionKey::client(&ok).is_ok());
        let legacy = request(Method::Invite, "SIP/2.0/UDP h;branch=a", "1 INVITE");
        assert_eq!(
            TransactionKey::client(&legacy),
            Err(TransactionError::MissingBranch)
        );
        let mismatch = request(Method::Invite, "SIP/2.0/UDP h;branch=z9hG4bKa", "1 BYE");
        assert!(matches!(
            TransactionKey::client(&mismatch),
            Err(TransactionError::CSeqMethodMismatch { .. })
        ));
    }

    #[test]
    fn malformed_headers_are_errors_not_panics() {
        for (via, cseq, err) in [
            ("", "1 INVITE", TransactionError::MalformedVia),
            ("SIP/2.0/UDP", "1 INVITE", TransactionError::MalformedVia),
            (
                "SIP/2.0/UDP ;branch=x",
                "1 INVITE",
                TransactionError::MalformedVia,
            ),
            (
                "SIP/2.0/UDP h;branch=1",
                "x INVITE",
                TransactionError::MalformedCSeq,
            ),
            (
                "SIP/2.0/UDP h;branch=1",
                "1",
                TransactionError::MalformedCSeq,
            ),
        ] {
            let req = request(Method::Invite, via, cseq);
            assert_eq!(TransactionKey::server(&req), Err(err), "{via} / {cseq}");
        }
        let mut req = request(Method::Invite, "v", "1 INVITE");
        req.headers.remove(&HeaderName::Via);
        assert_eq!(
            TransactionKey::server(&req),
            Err(TransactionError::MissingVia)
        );
    }

    #[test]
    fn first_list_element_skips_quoted_commas() {
        assert_eq!(first_list_element(" a;x=\"1,2\" , b"), "a;x=\"1,2\"");
        assert_eq!(first_list_element("<sip:a,b>;p, c"), "<sip:a,b>;p");
        assert_eq!(first_list_element("only"), "only");
    }
}
