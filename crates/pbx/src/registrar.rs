//! The registrar (RFC 3261 §10.3): what an authenticated REGISTER does to an extension's
//! bindings, and the 200 that lists them. Authentication happens before this is reached
//! (see `core.rs`); this file only applies the binding rules.
//!
//! Rules applied, in the RFC's order of steps 6–8:
//! - no Contact: a binding query, nothing changes;
//! - `Contact: *` needs `Expires: 0` and removes every binding (unless an existing one has the
//!   same Call-ID and a higher CSeq, step 6);
//! - each contact's expiry is its `expires` parameter, else the `Expires` header, else the
//!   default; above the maximum it is shortened; between 1 and Min-Expires it gets 423;
//! - a known contact with the same Call-ID and a CSeq not higher than stored is out of
//!   order (500); a known contact is refreshed, a new one added, and beyond the contact limit
//!   the oldest binding gives way (a phone that rebooted with a new Call-ID must not lock
//!   itself out).

use crate::location::{Binding, LocationService};
use crate::settings::PbxSettings;
use crate::Peer;
use sip::header::{CSeq, ContactList, HeaderName};
use sip::{Request, Response, StatusCode};
use std::time::{Duration, Instant};

/// Why a REGISTER was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// A header the registrar reads is malformed.
    #[error("bad {header}")]
    BadHeader {
        /// Which header.
        header: &'static str,
    },
    /// `Contact: *` with a non-zero expiry or with other contacts.
    #[error("Contact * needs Expires: 0")]
    BadWildcard,
    /// The expiry asked for is below Min-Expires.
    #[error("interval too brief")]
    IntervalTooBrief {
        /// The minimum, for the Min-Expires header.
        min: u32,
    },
    /// Same Call-ID with a CSeq that is not higher than the stored one.
    #[error("out of order REGISTER")]
    OutOfOrder,
}

impl RegisterError {
    /// The response this error is answered with.
    pub fn response_to(&self, req: &Request) -> Response {
        let mut resp = match self {
            RegisterError::BadHeader { .. } | RegisterError::BadWildcard => {
                let mut r = Response::for_request(req, StatusCode::BAD_REQUEST);
                r.reason = format!("Bad Request ({self})");
                r
            }
            RegisterError::IntervalTooBrief { min } => {
                let mut r = Response::for_request(req, StatusCode::INTERVAL_TOO_BRIEF);
                r.headers.push(HeaderName::MinExpires, min.to_string());
                r
            }
            RegisterError::OutOfOrder => {
                let mut r = Response::for_request(req, StatusCode::SERVER_ERROR);
                r.reason = "Out Of Order REGISTER".into();
                r
            }
        };
        add_to_tag(&mut resp);
        resp
    }
}

/// Adds a To tag to a final response that lacks one (RFC 3261 §8.2.6.2).
pub(crate) fn add_to_tag(resp: &mut Response) {
    if let Some(to) = resp.headers.get(&HeaderName::To) {
        if !to.contains(";tag=") && !to.contains(";TAG=") {
            let tagged = format!("{to};tag={}", sip::dialog::new_tag());
            resp.headers.set(HeaderName::To, tagged);
        }
    }
}

/// What a successful REGISTER did, for events and the log.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RegisterChange {
    /// Contacts bound anew.
    pub added: Vec<String>,
    /// Contacts removed (expires 0, `*`, or replaced at the contact limit).
    pub removed: Vec<String>,
}

/// Applies a REGISTER for `extension`; on success returns the 200 listing every binding
/// with its remaining `expires`.
pub fn handle_register(
    settings: &PbxSettings,
    location: &mut LocationService,
    now: Instant,
    extension: &str,
    req: &Request,
    source: Peer,
) -> Result<(Response, RegisterChange), RegisterError> {
    let call_id = req
        .headers
        .get(&HeaderName::CallId)
        .ok_or(RegisterError::BadHeader { header: "Call-ID" })?
        .to_string();
    let cseq = req
        .headers
        .get(&HeaderName::CSeq)
        .and_then(|v| CSeq::parse(v).ok())
        .ok_or(RegisterError::BadHeader { header: "CSeq" })?
        .seq;
    let header_expires = match req.headers.get(&HeaderName::Expires) {
        None => None,
        Some(v) => Some(parse_delta(v).ok_or(RegisterError::BadHeader { header: "Expires" })?),
    };
    let contacts = ContactList::from_headers(&req.headers)
        .map_err(|_| RegisterError::BadHeader { header: "Contact" })?;
    let user_agent = req.headers.get(&HeaderName::UserAgent).map(str::to_string);
    let registrar = host_port(&req.uri);

    let mut list = location.bindings(extension).to_vec();
    list.retain(|b| b.expires_at > now);
    let mut change = RegisterChange::default();
    match contacts {
        None => {}
        Some(ContactList::Star) => {
            if header_expires != Some(0) {
                return Err(RegisterError::BadWildcard);
            }
            if list.iter().any(|b| b.call_id == call_id && b.cseq >= cseq) {
                return Err(RegisterError::OutOfOrder);
            }
            change.removed = list.drain(..).map(|b| b.contact).collect();
        }
        Some(ContactList::Contacts(contacts)) => {
            // Check every contact before changing anything: a REGISTER is all or nothing.
            let mut wanted = Vec::with_capacity(contacts.len());
            for c in &contacts {
                let uri = c.addr.uri.to_string();
                let asked = c
                    .expires()
                    .or(header_expires)
                    .unwrap_or(settings.default_expires);
                if asked != 0 && asked < settings.min_expires {
                    return Err(RegisterError::IntervalTooBrief {
                        min: settings.min_expires,
                    });
                }
                if let Some(b) = list.iter().find(|b| b.contact == uri) {
                    if b.call_id == call_id && b.cseq >= cseq {
                        return Err(RegisterError::OutOfOrder);
                    }
                }
                wanted.push((uri, asked.min(settings.max_expires), c.q()));
            }
            for (uri, expires, q) in wanted {
                let existing = list.iter().position(|b| b.contact == uri);
                if expires == 0 {
                    if let Some(i) = existing {
                        change.removed.push(list.remove(i).contact);
                    }
                    continue;
                }
                let expires_at = now + Duration::from_secs(u64::from(expires));
                match existing {
                    Some(i) => {
                        let b = &mut list[i];
                        b.expires_at = expires_at;
                        b.call_id.clone_from(&call_id);
                        b.cseq = cseq;
                        b.source = source;
                        b.q = q;
                        b.user_agent.clone_from(&user_agent);
                        b.registrar.clone_from(&registrar);
                    }
                    None => {
                        if list.len() >= settings.max_contacts.max(1) {
                            // The limit is reached: the binding refreshed longest ago goes.
                            if let Some(oldest) = list
                                .iter()
                                .enumerate()
                                .min_by_key(|(_, b)| b.expires_at)
                                .map(|(i, _)| i)
                            {
                                change.removed.push(list.remove(oldest).contact);
                            }
                        }
                        change.added.push(uri.clone());
                        list.push(Binding {
                            contact: uri,
                            expires_at,
                            call_id: call_id.clone(),
                            cseq,
                            source,
                            q,
                            user_agent: user_agent.clone(),
                            bound_at: now,
                            registrar: registrar.clone(),
                        });
                    }
                }
            }
        }
    }

    let mut resp = Response::for_request(req, StatusCode::OK);
    for b in &list {
        let left = b.expires_at.saturating_duration_since(now).as_secs();
        resp.headers.push(
            HeaderName::Contact,
            format!("<{}>;expires={left}", b.contact),
        );
    }
    location.set(extension, list);
    add_to_tag(&mut resp);
    Ok((resp, change))
}

/// Parses a delta-seconds value (RFC 3261 §25.1); huge values are capped, not refused.
fn parse_delta(v: &str) -> Option<u32> {
    let v = v.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        v.parse::<u64>()
            .unwrap_or(u64::MAX)
            .min(u64::from(u32::MAX)) as u32,
    )
}

/// `host[:port]` of a SIP URI, as it would be written in a Via or Contact.
pub(crate) fn host_port(uri: &sip::Uri) -> String {
    match uri.as_sip() {
        Some(u) => match u.port {
            Some(p) => format!("{}:{p}", u.host),
            None => u.host.to_string(),
        },
        None => String::from("invalid"),
    }
}
