//! Dialogs (RFC 3261 §12): the state two user agents share between a dialog-creating
//! request (INVITE, SUBSCRIBE, REFER) and its end, and the requests sent within it.
//!
//! ```text
//!   UAC: 1xx with To tag ──► Early ──(2xx: route set recomputed)──► Confirmed
//!        2xx ──────────────────────────────────────────────────────► Confirmed
//!   UAS: request + our tag ──► Early ──(confirm(): we sent a 2xx)──► Confirmed
//! ```
//!
//! Termination (BYE, a non-2xx final response to an early dialog, expiry of a subscription)
//! is the caller's decision: it drops the [`Dialog`]. Transactions, Via and timers are not
//! here; the caller adds a Via to requests from [`Dialog::create_request`].
//!
//! Also here: fresh tags, branches and Call-IDs ([`new_tag`], [`new_branch`],
//! [`new_call_id`]).

use crate::header::{CSeq, ContactList, HeaderName, Headers, NameAddr};
use crate::message::{Method, Request, Response, StatusCode};
use crate::parse::lex;
use crate::uri::Uri;
use crate::ParseError;
use rand::Rng;

/// The Via branch prefix of RFC 3261 §8.1.1.7: marks branches unique per transaction.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

/// Sequence numbers stay below 2**31 (RFC 3261 §8.1.1.5).
const MAX_SEQ: u32 = (1 << 31) - 1;

/// A random tag for a From or To header: 64 random bits, well over the 32 that RFC 3261
/// §19.3 asks for.
pub fn new_tag() -> String {
    format!("{:016x}", rand::thread_rng().gen::<u64>())
}

/// A random Via branch starting with the magic cookie; 96 random bits so that branches
/// never repeat across the life of a node.
pub fn new_branch() -> String {
    let mut rng = rand::thread_rng();
    format!(
        "{MAGIC_COOKIE}{:016x}{:08x}",
        rng.gen::<u64>(),
        rng.gen::<u32>()
    )
}

/// A random Call-ID (128 bits) qualified with `host`, as RFC 3261 §8.1.1.4 suggests; no
/// `@host` part when `host` is empty.
pub fn new_call_id(host: &str) -> String {
    let id = format!("{:032x}", rand::thread_rng().gen::<u128>());
    if host.is_empty() {
        id
    } else {
        format!("{id}@{host}")
    }
}

/// What identifies a dialog (RFC 3261 §12): Call-ID and both tags, seen from our side.
/// Compared exactly (case-sensitive), as the RFC compares Call-IDs and tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// The Call-ID.
    pub call_id: String,
    /// Our tag (From tag of requests we send, To tag of requests we receive).
    pub local_tag: String,
    /// The peer's tag; empty when an RFC 2543 peer sent none.
    pub remote_tag: String,
}

impl DialogId {
    /// The dialog a received request belongs to: local tag from To, remote tag from From.
    /// `None` when the request is outside any dialog (no To tag) or lacks the headers.
    pub fn of_incoming_request(req: &Request) -> Option<DialogId> {
        let h = &req.headers;
        let local_tag = NameAddr::parse(h.get(&HeaderName::To)?)
            .ok()?
            .tag()?
            .to_string();
        let from = NameAddr::parse(h.get(&HeaderName::From)?).ok()?;
        Some(DialogId {
            call_id: h.get(&HeaderName::CallId)?.to_string(),
            local_tag,
            remote_tag: from.tag().unwrap_or_default().to_string(),
        })
    }

    /// The dialog a received response belongs to: local tag from From, remote tag from To.
    /// `None` when the To tag is absent (no dialog yet) or headers are missing.
    pub fn of_incoming_response(resp: &Response) -> Option<DialogId> {
        let h = &resp.headers;
        let from = NameAddr::parse(h.get(&HeaderName::From)?).ok()?;
        let to = NameAddr::parse(h.get(&HeaderName::To)?).ok()?;
        Some(DialogId {
            call_id: h.get(&HeaderName::CallId)?.to_string(),
            local_tag: from.tag()?.to_string(),
            remote_tag: to.tag()?.to_string(),
        })
    }
}

/// Whether the dialog has been confirmed by a 2xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    /// Created by a provisional response; may still fail or fork.
    Early,
    /// A 2xx was sent or received.
    Confirmed,
}

/// Why a dialog could not be created or a request does not fit it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DialogError {
    /// A header the dialog needs is absent.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// A header the dialog needs does not parse.
    #[error("bad {header} header: {source}")]
    BadHeader {
        /// The header's name.
        header: &'static str,
        /// The parser's complaint.
        #[source]
        source: ParseError,
    },
    /// From (of our request) or To (of a provisional response) has no tag.
    #[error("{0} header has no tag")]
    MissingTag(&'static str),
    /// The request's To already carries a tag: it belongs to an existing dialog.
    #[error("request already has a To tag")]
    AlreadyInDialog,
    /// The Contact is not exactly one SIP or SIPS URI (RFC 3261 §8.1.1.8).
    #[error("unusable Contact: {reason}")]
    BadContact {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Only 101–299 responses create dialogs.
    #[error("a {0} response does not create a dialog")]
    NotDialogCreating(StatusCode),
    /// The request's CSeq is lower than the last one received in the dialog.
    #[error("CSeq {got} is lower than {last}")]
    CSeqOutOfOrder {
        /// The request's sequence number.
        got: u32,
        /// The highest received so far.
        last: u32,
    },
}

impl DialogError {
    /// The status to answer a request with: 500 for an out-of-order CSeq (RFC 3261
    /// §12.2.2), 400 otherwise.
    pub fn status_code(&self) -> StatusCode {
        match self {
            DialogError::CSeqOutOfOrder { .. } => StatusCode::SERVER_ERROR,
            DialogError::MissingHeader(_)
            | DialogError::BadHeader { .. }
            | DialogError::MissingTag(_)
            | DialogError::AlreadyInDialog
            | DialogError::BadContact { .. }
            | DialogError::NotDialogCreating(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// One dialog's state (RFC 3261 §12.1). Created by [`Dialog::from_uas`] or
/// [`Dialog::from_uac`]; the caller keys its dialogs by [`Dialog::id`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    id: DialogId,
    state: DialogState,
    local_uri: NameAddr,
    remote_uri: NameAddr,
    remote_target: Uri,
    route_set: Vec<NameAddr>,
    local_seq: Option<u32>,
    remote_seq: Option<u32>,
    secure: bool,
    local_contact: Option<NameAddr>,
}

fn header<'a>(
    h: &'a Headers,
    name: HeaderName,
    label: &'static str,
) -> Result<&'a str, DialogError> {
    h.get(&name).ok_or(DialogError::MissingHeader(label))
}

fn name_addr(h: &Headers, name: HeaderName, label: &'static str) -> Result<NameAddr, DialogError> {
    NameAddr::parse_inner(header(h, name, label)?).map_err(|reason| DialogError::BadHeader {
        header: label,
        source: ParseError::bad_header(label, reason),
    })
}

fn cseq(h: &Headers) -> Result<CSeq, DialogError> {
    CSeq::parse(header(h, HeaderName::CSeq, "CSeq")?).map_err(|source| DialogError::BadHeader {
        header: "CSeq",
        source,
    })
}

/// The address without its tag: the tag lives in the [`DialogId`], and is added back when
/// a request is built.
fn without_tag(mut addr: NameAddr) -> NameAddr {
    addr.params.remove("tag");
    addr
}

/// Every Record-Route value in order (several lines, several values per line).
fn record_routes(h: &Headers) -> Result<Vec<NameAddr>, DialogError> {
    let bad = |reason| DialogError::BadHeader {
        header: "Record-Route",
        source: ParseError::bad_header("Record-Route", reason),
    };
    let mut routes = Vec::new();
    for line in h.get_all(&HeaderName::RecordRoute) {
        for part in lex::split_commas(line) {
            let part = lex::trim_wsp(part);
            if part.is_empty() {
                return Err(bad("empty value"));
            }
            routes.push(NameAddr::parse_inner(part).map_err(bad)?);
        }
    }
    Ok(routes)
}

/// The remote target from a Contact header: `Ok(None)` when there is none.
fn contact_target(h: &Headers) -> Result<Option<Uri>, DialogError> {
    let list = ContactList::from_headers(h).map_err(|source| DialogError::BadHeader {
        header: "Contact",
        source,
    })?;
    match list {
        None => Ok(None),
        Some(ContactList::Star) => Err(DialogError::BadContact { reason: "'*'" }),
        Some(ContactList::Contacts(mut list)) => {
            if list.len() != 1 {
                return Err(DialogError::BadContact {
                    reason: "more than one address",
                });
            }
            let uri = list.remove(0).addr.uri;
            if uri.as_sip().is_none() {
                return Err(DialogError::BadContact {
                    reason: "not a SIP URI",
                });
            }
            Ok(Some(uri))
        }
    }
}

fn is_sips(uri: &Uri) -> bool {
    uri.as_sip().is_some_and(|u| u.secure)
}

impl Dialog {
    /// The dialog a UAS creates when it answers `request` with a 1xx/2xx carrying
    /// `local_tag` in To (RFC 3261 §12.1.1). It starts [`DialogState::Early`]; call
    /// [`Dialog::confirm`] once a 2xx is sent.
    ///
    /// `secure` follows the Request-URI's `sips:` scheme; the caller must also have
    /// received the request over TLS for that to mean anything.
    pub fn from_uas(request: &Request, local_tag: &str) -> Result<Dialog, DialogError> {
        let h = &request.headers;
        let call_id = header(h, HeaderName::CallId, "Call-ID")?.to_string();
        let from = name_addr(h, HeaderName::From, "From")?;
        let to = name_addr(h, HeaderName::To, "To")?;
        if to.tag().is_some() {
            return Err(DialogError::AlreadyInDialog);
        }
        let remote_target = contact_target(h)?.ok_or(DialogError::MissingHeader("Contact"))?;
        Ok(Dialog {
            id: DialogId {
                call_id,
                local_tag: local_tag.to_string(),
                remote_tag: from.tag().unwrap_or_default().to_string(),
            },
            state: DialogState::Early,
            local_uri: to,
            remote_uri: without_tag(from),
            remote_target,
            route_set: record_routes(h)?,
            local_seq: None,
            remote_seq: Some(cseq(h)?.seq),
            secure: is_sips(&request.uri),
            local_contact: None,
        })
    }

    /// The dialog a UAC creates from its `request` and a 101–299 `response` to it (RFC
    /// 3261 §12.1.2): Early for 1xx, Confirmed for 2xx. The route set is the response's
    /// Record-Route reversed.
    pub fn from_uac(request: &Request, response: &Response) -> Result<Dialog, DialogError> {
        let status = response.status;
        if !(101..300).contains(&status.0) {
            return Err(DialogError::NotDialogCreating(status));
        }
        let (req, resp) = (&request.headers, &response.headers);
        let from = name_addr(req, HeaderName::From, "From")?;
        let local_tag = from
            .tag()
            .ok_or(DialogError::MissingTag("From"))?
            .to_string();
        let to = name_addr(resp, HeaderName::To, "To")?;
        // An RFC 2543 peer may answer 2xx without a tag; a 1xx without one makes no dialog.
        let remote_tag = match to.tag() {
            Some(t) => t.to_string(),
            None if status.is_success() => String::new(),
            None => return Err(DialogError::MissingTag("To")),
        };
        let remote_target = match contact_target(resp)? {
            Some(uri) => uri,
            // A provisional response may omit Contact; the 2xx will bring the real target.
            None if status.is_provisional() => request.uri.clone(),
            None => return Err(DialogError::MissingHeader("Contact")),
        };
        let mut route_set = record_routes(resp)?;
        route_set.reverse();
        Ok(Dialog {
            id: DialogId {
                call_id: header(req, HeaderName::CallId, "Call-ID")?.to_string(),
                local_tag,
                remote_tag,
            },
            state: if status.is_success() {
                DialogState::Confirmed
            } else {
                DialogState::Early
            },
            local_uri: without_tag(from),
            remote_uri: without_tag(to),
            remote_target,
            route_set,
            local_seq: Some(cseq(req)?.seq),
            remote_seq: None,
            secure: is_sips(&request.uri),
            local_contact: None,
        })
    }

    /// The dialog's identifier.
    pub fn id(&self) -> &DialogId {
        &self.id
    }

    /// Early or confirmed.
    pub fn state(&self) -> DialogState {
        self.state
    }

    /// Our address (From of our requests), without tag.
    pub fn local_uri(&self) -> &NameAddr {
        &self.local_uri
    }

    /// The peer's address (To of our requests), without tag.
    pub fn remote_uri(&self) -> &NameAddr {
        &self.remote_uri
    }

    /// Where requests go: the peer's Contact.
    pub fn remote_target(&self) -> &Uri {
        &self.remote_target
    }

    /// The Route headers of our requests, in the order they are written.
    pub fn route_set(&self) -> &[NameAddr] {
        &self.route_set
    }

    /// The CSeq number of our last request; `None` before we sent one (UAS dialogs).
    pub fn local_seq(&self) -> Option<u32> {
        self.local_seq
    }

    /// The highest CSeq number received from the peer.
    pub fn remote_seq(&self) -> Option<u32> {
        self.remote_seq
    }

    /// True when the dialog was set up with a `sips:` Request-URI.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Sets the Contact written into our target-refresh requests (INVITE, UPDATE,
    /// SUBSCRIBE, NOTIFY, REFER); without it those requests carry no Contact.
    pub fn set_local_contact(&mut self, contact: NameAddr) {
        self.local_contact = Some(contact);
    }

    /// UAS side: we sent a 2xx, the dialog is confirmed.
    pub fn confirm(&mut self) {
        self.state = DialogState::Confirmed;
    }

    /// UAC side: a further response for this dialog. A 2xx to an early dialog confirms it
    /// and recomputes the route set (RFC 3261 §13.2.2.4); any 1xx/2xx with a Contact
    /// refreshes the remote target. Other statuses change nothing here.
    pub fn update_from_response(&mut self, response: &Response) -> Result<(), DialogError> {
        if !(101..300).contains(&response.status.0) {
            return Ok(());
        }
        if response.status.is_success() && self.state == DialogState::Early {
            let mut route_set = record_routes(&response.headers)?;
            route_set.reverse();
            self.route_set = route_set;
            self.state = DialogState::Confirmed;
        }
        self.update_target(&response.headers)
    }

    /// Target refresh (RFC 3261 §12.2): a re-INVITE, UPDATE or their 2xx with a Contact
    /// replaces the remote target. Pass the headers of the request or response; nothing
    /// changes when it has no Contact.
    pub fn update_target(&mut self, headers: &Headers) -> Result<(), DialogError> {
        if let Some(uri) = contact_target(headers)? {
            self.remote_target = uri;
        }
        Ok(())
    }

    /// Checks a request received in this dialog against the remote sequence number (RFC
    /// 3261 §12.2.2) and records its CSeq. A lower number is refused
    /// ([`DialogError::status_code`] gives 500). ACK and CANCEL are not checked: they reuse
    /// the CSeq of the request they belong to, and ACK cannot be answered anyway.
    pub fn validate_remote_cseq(&mut self, req: &Request) -> Result<(), DialogError> {
        if matches!(req.method, Method::Ack | Method::Cancel) {
            return Ok(());
        }
        let got = cseq(&req.headers)?.seq;
        match self.remote_seq {
            Some(last) if got < last => Err(DialogError::CSeqOutOfOrder { got, last }),
            _ => {
                self.remote_seq = Some(got);
                Ok(())
            }
        }
    }

    /// Builds a request within the dialog (RFC 3261 §12.2.1.1): Request-URI and Route from
    /// the remote target and route set (loose or strict routing), From/To with the tags,
    /// Call-ID, Max-Forwards and the next CSeq. ACK (for a 2xx) and CANCEL reuse the
    /// current CSeq number instead of taking the next one. The caller adds Via and body.
    pub fn create_request(&mut self, method: Method) -> Request {
        let seq = match (&method, self.local_seq) {
            (Method::Ack | Method::Cancel, Some(seq)) => seq,
            // RFC 3261 §8.1.1.5 only bounds the first number; 1 keeps simulations readable.
            (_, None) => 1,
            (_, Some(seq)) => seq.saturating_add(1).min(MAX_SEQ),
        };
        self.local_seq = Some(seq);

        let (uri, routes) = self.request_target();
        let mut req = Request::new(method, uri);
        let h = &mut req.headers;
        for route in routes {
            h.push(HeaderName::Route, route.to_string());
        }
        h.push(HeaderName::MaxForwards, "70");
        let mut from = self.local_uri.clone();
        from.params.set("tag", Some(self.id.local_tag.clone()));
        h.push(HeaderName::From, from.to_string());
        let mut to = self.remote_uri.clone();
        if !self.id.remote_tag.is_empty() {
            to.params.set("tag", Some(self.id.remote_tag.clone()));
        }
        h.push(HeaderName::To, to.to_string());
        h.push(HeaderName::CallId, self.id.call_id.clone());
        let cseq = CSeq {
            seq,
            method: req.method.clone(),
        };
        h.push(HeaderName::CSeq, cseq.to_string());
        let refreshes_target = matches!(
            req.method,
            Method::Invite | Method::Update | Method::Subscribe | Method::Notify | Method::Refer
        );
        if let (true, Some(contact)) = (refreshes_target, &self.local_contact) {
            h.push(HeaderName::Contact, contact.to_string());
        }
        req
    }

    /// The Request-URI and Route values of the next request.
    fn request_target(&self) -> (Uri, Vec<NameAddr>) {
        let Some(first) = self.route_set.first() else {
            return (self.remote_target.clone(), Vec::new());
        };
        // Non-SIP route entries cannot be a Request-URI; treat them as loose.
        let strict = first.uri.as_sip().is_some_and(|u| u.param("lr").is_none());
        if !strict {
            return (self.remote_target.clone(), self.route_set.clone());
        }
        // Strict routing (RFC 2543 proxies): the first route becomes the Request-URI, the
        // remote target is appended as the last route.
        let mut uri = first.uri.clone();
        if let Uri::Sip(sip) = &mut uri {
            // Table 1 of RFC 3261 §19.1.1: no `method` parameter and no headers there.
            sip.params
                .retain(|(n, _)| !n.eq_ignore_ascii_case("method"));
            sip.headers.clear();
        }
        let mut routes: Vec<NameAddr> = self.route_set[1..].to_vec();
        routes.push(NameAddr::new(self.remote_target.clone()));
        (uri, routes)
    }
}
