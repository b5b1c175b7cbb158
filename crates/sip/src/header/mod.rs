//! Header names, the ordered header list, and typed views of the headers the core reads.
//!
//! One file per typed header (`via.rs`, `name_addr.rs`, `cseq.rs`, `contact.rs`,
//! `auth_params.rs`): the type, its parser, its printer and its round-trip tests.

mod auth_params;
mod contact;
mod cseq;
mod name_addr;
mod params;
mod replaces;
mod via;

pub use auth_params::AuthParams;
pub use contact::{ContactHeader, ContactList};
pub use cseq::CSeq;
pub use name_addr::NameAddr;
pub use params::Params;
pub use replaces::Replaces;
pub use via::Via;

use std::fmt;

/// A header name, with the common ones as variants. Comparison is case-insensitive and
/// compact forms (RFC 3261 §7.3.3) map to their long form when parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HeaderName {
    /// Via (compact `v`)
    Via,
    /// From (compact `f`)
    From,
    /// To (compact `t`)
    To,
    /// Call-ID (compact `i`)
    CallId,
    /// CSeq
    CSeq,
    /// Contact (compact `m`)
    Contact,
    /// Max-Forwards
    MaxForwards,
    /// Expires
    Expires,
    /// Min-Expires
    MinExpires,
    /// Content-Length (compact `l`)
    ContentLength,
    /// Content-Type (compact `c`)
    ContentType,
    /// Route
    Route,
    /// Record-Route
    RecordRoute,
    /// Authorization
    Authorization,
    /// Proxy-Authorization
    ProxyAuthorization,
    /// WWW-Authenticate
    WwwAuthenticate,
    /// Proxy-Authenticate
    ProxyAuthenticate,
    /// User-Agent
    UserAgent,
    /// Server
    Server,
    /// Allow
    Allow,
    /// Supported (compact `k`)
    Supported,
    /// Require
    Require,
    /// Unsupported
    Unsupported,
    /// Accept
    Accept,
    /// Date
    Date,
    /// Subject (compact `s`)
    Subject,
    /// Event (compact `o`)
    Event,
    /// Session-Expires (compact `x`, RFC 4028)
    SessionExpires,
    /// Min-SE (RFC 4028)
    MinSe,
    /// RSeq (RFC 3262)
    RSeq,
    /// RAck (RFC 3262)
    RAck,
    /// Refer-To (compact `r`, RFC 3515)
    ReferTo,
    /// Referred-By (compact `b`, RFC 3892)
    ReferredBy,
    /// Subscription-State (RFC 6665)
    SubscriptionState,
    /// Replaces (RFC 3891)
    Replaces,
    /// Any other header, stored as received.
    Other(String),
}

impl HeaderName {
    /// Parses a header name (case-insensitive, compact forms accepted).
    pub fn parse(name: &str) -> HeaderName {
        let known = |s: &str| name.eq_ignore_ascii_case(s);
        if name.len() == 1 {
            match name.as_bytes()[0].to_ascii_lowercase() {
                b'v' => return HeaderName::Via,
                b'f' => return HeaderName::From,
                b't' => return HeaderName::To,
                b'i' => return HeaderName::CallId,
                b'm' => return HeaderName::Contact,
                b'l' => return HeaderName::ContentLength,
                b'c' => return HeaderName::ContentType,
                b'k' => return HeaderName::Supported,
                b's' => return HeaderName::Subject,
                b'o' => return HeaderName::Event,
                b'x' => return HeaderName::SessionExpires,
                b'r' => return HeaderName::ReferTo,
                b'b' => return HeaderName::ReferredBy,
                _ => {}
            }
        }
        for (candidate, long) in KNOWN {
            if known(long) {
                return candidate.clone();
            }
        }
        HeaderName::Other(name.to_string())
    }

    /// The canonical (long) name as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            HeaderName::Other(s) => s,
            known => KNOWN
                .iter()
                .find(|(n, _)| n == known)
                .map(|(_, s)| *s)
                .unwrap_or("X-Unknown"),
        }
    }

    /// True when the header may carry several comma-separated values (RFC 3261 §7.3.1).
    /// The auth headers are not lists even though their values contain commas.
    pub fn is_list(&self) -> bool {
        matches!(
            self,
            HeaderName::Via
                | HeaderName::Contact
                | HeaderName::Route
                | HeaderName::RecordRoute
                | HeaderName::Allow
                | HeaderName::Supported
                | HeaderName::Require
                | HeaderName::Unsupported
                | HeaderName::Accept
        )
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const KNOWN: &[(HeaderName, &str)] = &[
    (HeaderName::Via, "Via"),
    (HeaderName::From, "From"),
    (HeaderName::To, "To"),
    (HeaderName::CallId, "Call-ID"),
    (HeaderName::CSeq, "CSeq"),
    (HeaderName::Contact, "Contact"),
    (HeaderName::MaxForwards, "Max-Forwards"),
    (HeaderName::Expires, "Expires"),
    (HeaderName::MinExpires, "Min-Expires"),
    (HeaderName::ContentLength, "Content-Length"),
    (HeaderName::ContentType, "Content-Type"),
    (HeaderName::Route, "Route"),
    (HeaderName::RecordRoute, "Record-Route"),
    (HeaderName::Authorization, "Authorization"),
    (HeaderName::ProxyAuthorization, "Proxy-Authorization"),
    (HeaderName::WwwAuthenticate, "WWW-Authenticate"),
    (HeaderName::ProxyAuthenticate, "Proxy-Authenticate"),
    (HeaderName::UserAgent, "User-Agent"),
    (HeaderName::Server, "Server"),
    (HeaderName::Allow, "Allow"),
    (HeaderName::Supported, "Supported"),
    (HeaderName::Require, "Require"),
    (HeaderName::Unsupported, "Unsupported"),
    (HeaderName::Accept, "Accept"),
    (HeaderName::Date, "Date"),
    (HeaderName::Subject, "Subject"),
    (HeaderName::Event, "Event"),
    (HeaderName::SessionExpires, "Session-Expires"),
    (HeaderName::MinSe, "Min-SE"),
    (HeaderName::RSeq, "RSeq"),
    (HeaderName::RAck, "RAck"),
    (HeaderName::ReferTo, "Refer-To"),
    (HeaderName::ReferredBy, "Referred-By"),
    (HeaderName::SubscriptionState, "Subscription-State"),
    (HeaderName::Replaces, "Replaces"),
];

/// One header line: a name and its raw value (folding already undone, outer whitespace
/// trimmed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The header's name.
    pub name: HeaderName,
    /// The raw value.
    pub value: String,
}

/// The headers of a message in wire order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    list: Vec<Header>,
}

impl Headers {
    /// Appends a header.
    pub fn push(&mut self, name: HeaderName, value: impl Into<String>) {
        self.list.push(Header {
            name,
            value: value.into(),
        });
    }

    /// Inserts a header before all others (used for a new top Via).
    pub fn push_front(&mut self, name: HeaderName, value: impl Into<String>) {
        self.list.insert(
            0,
            Header {
                name,
                value: value.into(),
            },
        );
    }

    /// Replaces every header of that name with one value (appended if absent).
    pub fn set(&mut self, name: HeaderName, value: impl Into<String>) {
        let value = value.into();
        if let Some(pos) = self.list.iter().position(|h| h.name == name) {
            self.list[pos].value = value;
            let mut i = 0;
            self.list.retain(|h| {
                i += 1;
                i - 1 == pos || h.name != name
            });
        } else {
            self.push(name, value);
        }
    }

    /// Removes every header of that name.
    pub fn remove(&mut self, name: &HeaderName) {
        self.list.retain(|h| &h.name != name);
    }

    /// The first value of that name.
    pub fn get(&self, name: &HeaderName) -> Option<&str> {
        self.list
            .iter()
            .find(|h| &h.name == name)
            .map(|h| h.value.as_str())
    }

    /// Every header line of that name, in order.
    pub fn get_all<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a str> + 'a {
        self.list
            .iter()
            .filter(move |h| &h.name == name)
            .map(|h| h.value.as_str())
    }

    /// How many header lines of that name there are.
    pub fn count(&self, name: &HeaderName) -> usize {
        self.list.iter().filter(|h| &h.name == name).count()
    }

    /// All header lines in order.
    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.list.iter()
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when there are no headers.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}
