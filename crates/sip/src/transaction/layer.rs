//! [`TransactionLayer`]: every transaction, the maps that find them, the deadline index and
//! the output queues.

use super::client_invite::ClientInvite;
use super::client_non_invite::{ClientNonInvite, Delivery};
use super::server_invite::{AckMeaning, ServerInvite};
use super::server_non_invite::ServerNonInvite;
use super::timers::Deadlines;
use super::{
    ClientTxId, Outputs, Peer, RequestOutcome, ResponseOutcome, ServerTxId, Sink, TimerConfig,
    TransactionError, TransactionEvent, TransactionId, TransactionKey, TransactionState, Transmit,
};
use crate::header::HeaderName;
use crate::message::{Message, Method, Request, Response, StatusCode};
use std::collections::HashMap;
use std::time::Instant;

/// All SIP transactions of one endpoint (RFC 3261 §17, RFC 6026), sans-IO.
///
/// Inputs are `handle_*(now, …)` calls and the TU's [`respond`](Self::respond) and
/// [`send_request`](Self::send_request); outputs are taken with `poll_*()`. Time only comes in
/// through `now`.
///
/// # Driving it
///
/// After feeding any input (a message from the network, a TU action, a transport error, or a
/// timer wake-up), drain the outputs in this order:
///
/// 1. [`poll_transmit`](Self::poll_transmit) until `None`: put each message on the wire (and
///    report a failure with [`handle_transport_error`](Self::handle_transport_error));
/// 2. [`poll_event`](Self::poll_event) until `None`: timeouts, transport errors and
///    terminations for the TU. The queue is unbounded, so it must be drained;
/// 3. [`poll_timeout`](Self::poll_timeout): the instant at which to call
///    [`handle_timeout`](Self::handle_timeout) next (re-read it after every input, since any
///    input may move it; `None` means no timer is running).
///
/// `handle_timeout(now)` does all the work due at or before `now`: calling it with exactly the
/// instant `poll_timeout` returned always makes progress.
///
/// # What the TU must do
///
/// - Answer every [`RequestOutcome::New`] with a final response through `respond`. No timer
///   guards a server transaction waiting for its TU; only the TU knows how long a call may
///   ring.
/// - For a [`RequestOutcome::Cancel`], answer the INVITE with 487 (the CANCEL itself has
///   already been answered with 200).
/// - Retransmit its own 2xx to INVITE (RFC 3261 §13.3.1.4) through `respond` while the
///   transaction is Accepted, and send the ACK for a 2xx itself with
///   [`send_stateless`](Self::send_stateless).
/// - CANCEL a ringing INVITE it gives up on ([`build_cancel`](Self::build_cancel)); an INVITE
///   client transaction in Proceeding has no timer of its own until then.
#[derive(Debug)]
pub struct TransactionLayer {
    config: TimerConfig,
    next_id: u64,
    servers: HashMap<ServerTxId, ServerEntry>,
    server_keys: HashMap<TransactionKey, ServerTxId>,
    clients: HashMap<ClientTxId, ClientEntry>,
    client_keys: HashMap<TransactionKey, ClientTxId>,
    deadlines: Deadlines,
    out: Outputs,
    /// Scratch list for `handle_timeout`, kept to avoid an allocation per call.
    due: Vec<TransactionId>,
}

#[derive(Debug)]
struct ServerEntry {
    key: TransactionKey,
    machine: Server,
}

#[derive(Debug)]
enum Server {
    Invite(ServerInvite),
    NonInvite(ServerNonInvite),
}

#[derive(Debug)]
struct ClientEntry {
    key: TransactionKey,
    machine: Client,
}

#[derive(Debug)]
enum Client {
    /// Boxed: it keeps the INVITE for the ACK and the CANCEL.
    Invite(Box<ClientInvite>),
    NonInvite(ClientNonInvite),
}

impl Server {
    fn deadline(&self) -> Option<Instant> {
        match self {
            Server::Invite(m) => m.deadline(),
            Server::NonInvite(m) => m.deadline(),
        }
    }

    fn is_terminated(&self) -> bool {
        match self {
            Server::Invite(m) => m.is_terminated(),
            Server::NonInvite(m) => m.is_terminated(),
        }
    }

    fn state(&self) -> TransactionState {
        match self {
            Server::Invite(m) => m.state(),
            Server::NonInvite(m) => m.state(),
        }
    }
}

impl Client {
    fn deadline(&self) -> Option<Instant> {
        match self {
            Client::Invite(m) => m.deadline(),
            Client::NonInvite(m) => m.deadline(),
        }
    }

    fn is_terminated(&self) -> bool {
        match self {
            Client::Invite(m) => m.is_terminated(),
            Client::NonInvite(m) => m.is_terminated(),
        }
    }

    fn state(&self) -> TransactionState {
        match self {
            Client::Invite(m) => m.state(),
            Client::NonInvite(m) => m.state(),
        }
    }
}

impl Default for TransactionLayer {
    fn default() -> Self {
        TransactionLayer::new(TimerConfig::default())
    }
}

impl TransactionLayer {
    /// An empty layer with these timer values.
    pub fn new(config: TimerConfig) -> TransactionLayer {
        TransactionLayer {
            config,
            next_id: 0,
            servers: HashMap::new(),
            server_keys: HashMap::new(),
            clients: HashMap::new(),
            client_keys: HashMap::new(),
            deadlines: Deadlines::default(),
            out: Outputs::default(),
            due: Vec::new(),
        }
    }

    /// The timer values in use.
    pub fn config(&self) -> &TimerConfig {
        &self.config
    }

    /// Number of live transactions (server and client).
    pub fn len(&self) -> usize {
        self.servers.len() + self.clients.len()
    }

    /// True when no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The state of a live transaction, `None` once it has terminated.
    pub fn state(&self, id: impl Into<TransactionId>) -> Option<TransactionState> {
        match id.into() {
            TransactionId::Server(id) => self.servers.get(&id).map(|e| e.machine.state()),
            TransactionId::Client(id) => self.clients.get(&id).map(|e| e.machine.state()),
        }
    }

    /// A request received from `source` (RFC 3261 §17.2.3 matching, §9.2 for CANCEL).
    ///
    /// Errors when the request cannot be keyed (no Via, no sent-by; without an RFC 3261
    /// branch, no Call-ID or CSeq): drop it and count it.
    pub fn handle_request(
        &mut self,
        now: Instant,
        req: Request,
        source: Peer,
    ) -> Result<RequestOutcome, TransactionError> {
        let key = TransactionKey::server(&req)?;
        if req.method == Method::Ack {
            return Ok(self.handle_ack(now, &key, req));
        }
        if let Some(&id) = self.server_keys.get(&key) {
            if let Some(entry) = self.servers.get_mut(&id) {
                let old = entry.machine.deadline();
                let mut sink = Sink {
                    id: id.into(),
                    out: &mut self.out,
                };
                match &mut entry.machine {
                    Server::Invite(m) => m.on_request(&mut sink),
                    Server::NonInvite(m) => m.on_request(&mut sink),
                }
                self.settle_server(id, old);
            }
            return Ok(RequestOutcome::Retransmission);
        }
        if req.method == Method::Cancel {
            return Ok(self.handle_cancel(now, key, req, source));
        }
        let id = ServerTxId(self.fresh_id());
        let machine = if req.method == Method::Invite {
            let trying = self.config.auto_trying.map(|after| {
                let trying = Response::for_request(&req, StatusCode::TRYING);
                (now + after, trying.to_bytes())
            });
            Server::Invite(ServerInvite::new(source, trying))
        } else {
            Server::NonInvite(ServerNonInvite::new(source))
        };
        self.deadlines.update(id.into(), None, machine.deadline());
        self.server_keys.insert(key.clone(), id);
        self.servers.insert(id, ServerEntry { key, machine });
        Ok(RequestOutcome::New(id, req))
    }

    fn handle_ack(&mut self, now: Instant, key: &TransactionKey, req: Request) -> RequestOutcome {
        let Some(&id) = self.server_keys.get(key) else {
            return RequestOutcome::AckFor2xx(req);
        };
        let Some(ServerEntry {
            machine: Server::Invite(m),
            ..
        }) = self.servers.get_mut(&id)
        else {
            return RequestOutcome::AckFor2xx(req);
        };
        let old = m.deadline();
        let meaning = m.on_ack(now, &self.config);
        self.settle_server(id, old);
        match meaning {
            AckMeaning::Confirms => RequestOutcome::Ack(id),
            AckMeaning::Absorbed => RequestOutcome::Retransmission,
            AckMeaning::ForTu => RequestOutcome::AckFor2xx(req),
        }
    }

    /// A new CANCEL (§9.2): answered here, 200 when it matches an INVITE server transaction,
    /// 481 otherwise, in a non-INVITE server transaction of its own that absorbs its
    /// retransmissions. Only INVITEs are matched: cancelling a non-INVITE gets 481.
    fn handle_cancel(
        &mut self,
        now: Instant,
        key: TransactionKey,
        req: Request,
        source: Peer,
    ) -> RequestOutcome {
        let invite = self
            .server_keys
            .get(&key.with_method(Method::Invite))
            .and_then(|&id| match self.servers.get(&id) {
                Some(ServerEntry {
                    machine: Server::Invite(m),
                    ..
                }) => Some((id, m)),
                _ => None,
            });
        let (status, cancelled, to) = match invite {
            Some((id, m)) => (
                StatusCode::OK,
                m.is_cancellable().then_some(id),
                m.to_header().map(str::to_string),
            ),
            None => (StatusCode::CALL_DOES_NOT_EXIST, None, None),
        };
        let mut resp = Response::for_request(&req, status);
        if let Some(to) = to {
            resp.headers.set(HeaderName::To, to);
        }
        let id = ServerTxId(self.fresh_id());
        let mut machine = ServerNonInvite::new(source);
        let mut sink = Sink {
            id: id.into(),
            out: &mut self.out,
        };
        // A fresh transaction in Trying always accepts a final response.
        let _ = machine.on_response(now, id, status.0, resp.to_bytes(), &self.config, &mut sink);
        if !machine.is_terminated() {
            self.deadlines.update(id.into(), None, machine.deadline());
            self.server_keys.insert(key.clone(), id);
            let machine = Server::NonInvite(machine);
            self.servers.insert(id, ServerEntry { key, machine });
        }
        match cancelled {
            Some(invite) => RequestOutcome::Cancel {
                invite,
                request: req,
            },
            None => RequestOutcome::Answered(status),
        }
    }

    /// The TU's response in server transaction `id`: sent to the request's source and the
    /// state machine advanced. The TU builds it ([`Response::for_request`], plus a To tag).
    pub fn respond(
        &mut self,
        now: Instant,
        id: ServerTxId,
        resp: Response,
    ) -> Result<(), TransactionError> {
        let status = resp.status.0;
        if !(100..=699).contains(&status) {
            return Err(TransactionError::InvalidStatus(status));
        }
        let entry = self
            .servers
            .get_mut(&id)
            .ok_or(TransactionError::UnknownTransaction(id.into()))?;
        let old = entry.machine.deadline();
        let mut sink = Sink {
            id: id.into(),
            out: &mut self.out,
        };
        let bytes = resp.to_bytes();
        let result = match &mut entry.machine {
            Server::Invite(m) => {
                let to = resp.headers.get(&HeaderName::To);
                m.on_response(now, id, status, to, bytes, &self.config, &mut sink)
            }
            Server::NonInvite(m) => m.on_response(now, id, status, bytes, &self.config, &mut sink),
        };
        self.settle_server(id, old);
        result
    }

    /// Starts a client transaction for `req` and sends it to `dest` (whose transport decides
    /// the timers). The TU has filled every header: the top Via must carry a fresh branch
    /// starting with [`MAGIC_COOKIE`](super::MAGIC_COOKIE) (a CANCEL reuses its INVITE's
    /// branch), and CSeq must name the request method.
    pub fn send_request(
        &mut self,
        now: Instant,
        req: Request,
        dest: Peer,
    ) -> Result<ClientTxId, TransactionError> {
        if req.method == Method::Ack {
            return Err(TransactionError::AckIsNotATransaction);
        }
        let key = TransactionKey::client(&req)?;
        if self.client_keys.contains_key(&key) {
            let branch = key.branch().unwrap_or_default().to_string();
            return Err(TransactionError::DuplicateBranch(branch));
        }
        if req.method == Method::Cancel {
            self.note_cancel(now, &key);
        }
        let id = ClientTxId(self.fresh_id());
        let mut sink = Sink {
            id: id.into(),
            out: &mut self.out,
        };
        let machine = if req.method == Method::Invite {
            Client::Invite(Box::new(ClientInvite::start(
                now,
                dest,
                req,
                &self.config,
                &mut sink,
            )))
        } else {
            let bytes = req.to_bytes();
            Client::NonInvite(ClientNonInvite::start(
                now,
                dest,
                bytes,
                &self.config,
                &mut sink,
            ))
        };
        self.deadlines.update(id.into(), None, machine.deadline());
        self.client_keys.insert(key.clone(), id);
        self.clients.insert(id, ClientEntry { key, machine });
        Ok(id)
    }

    /// A CANCEL is going out: its INVITE transaction gets the §9.1 deadline.
    fn note_cancel(&mut self, now: Instant, cancel_key: &TransactionKey) {
        let invite_key = cancel_key.with_method(Method::Invite);
        let Some(&id) = self.client_keys.get(&invite_key) else {
            return;
        };
        if let Some(ClientEntry {
            machine: Client::Invite(m),
            ..
        }) = self.clients.get_mut(&id)
        {
            let old = m.deadline();
            m.on_cancel_sent(now, &self.config);
            self.settle_client(id, old);
        }
    }

    /// The CANCEL for INVITE client transaction `id` (RFC 3261 §9.1), to be sent with
    /// [`send_request`](Self::send_request) to the same peer. `None` when `id` is not an
    /// INVITE still waiting for its final response. RFC 3261 asks not to send it before a
    /// provisional response has arrived.
    pub fn build_cancel(&self, id: ClientTxId) -> Option<Request> {
        match &self.clients.get(&id)?.machine {
            Client::Invite(m) => m.build_cancel(),
            Client::NonInvite(_) => None,
        }
    }

    /// A response received from the network (RFC 3261 §17.1.3 matching). Responses without
    /// a usable Via branch or CSeq cannot match and are returned as stray.
    pub fn handle_response(&mut self, now: Instant, resp: Response) -> ResponseOutcome {
        let Ok(key) = TransactionKey::response(&resp) else {
            return ResponseOutcome::Stray(resp);
        };
        let Some(&id) = self.client_keys.get(&key) else {
            return ResponseOutcome::Stray(resp);
        };
        let Some(entry) = self.clients.get_mut(&id) else {
            return ResponseOutcome::Stray(resp);
        };
        let old = entry.machine.deadline();
        let mut sink = Sink {
            id: id.into(),
            out: &mut self.out,
        };
        let delivery = match &mut entry.machine {
            Client::Invite(m) => m.on_response(now, resp, &self.config, &mut sink),
            Client::NonInvite(m) => m.on_response(now, resp, &self.config),
        };
        self.settle_client(id, old);
        match delivery {
            Delivery::ToTu(resp) => ResponseOutcome::Response(id, resp),
            Delivery::Absorbed => ResponseOutcome::Retransmission,
        }
    }

    /// The shell could not send a message of transaction `id` (see [`Transmit::tx`]), or its
    /// connection failed. The transaction informs the TU and, in most states, terminates.
    pub fn handle_transport_error(&mut self, _now: Instant, id: TransactionId) {
        let mut sink = Sink {
            id,
            out: &mut self.out,
        };
        match id {
            TransactionId::Server(sid) => {
                if let Some(entry) = self.servers.get_mut(&sid) {
                    let old = entry.machine.deadline();
                    match &mut entry.machine {
                        Server::Invite(m) => m.on_transport_error(&mut sink),
                        Server::NonInvite(m) => m.on_transport_error(&mut sink),
                    }
                    self.settle_server(sid, old);
                }
            }
            TransactionId::Client(cid) => {
                if let Some(entry) = self.clients.get_mut(&cid) {
                    let old = entry.machine.deadline();
                    match &mut entry.machine {
                        Client::Invite(m) => m.on_transport_error(&mut sink),
                        Client::NonInvite(m) => m.on_transport_error(&mut sink),
                    }
                    self.settle_client(cid, old);
                }
            }
        }
    }

    /// Runs every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut due = std::mem::take(&mut self.due);
        self.deadlines.take_due(now, &mut due);
        for id in due.drain(..) {
            let mut sink = Sink {
                id,
                out: &mut self.out,
            };
            match id {
                TransactionId::Server(sid) => {
                    if let Some(entry) = self.servers.get_mut(&sid) {
                        match &mut entry.machine {
                            Server::Invite(m) => m.on_timeout(now, sid, &self.config, &mut sink),
                            Server::NonInvite(m) => m.on_timeout(now),
                        }
                        // The entry left the index when it came due.
                        self.settle_server(sid, None);
                    }
                }
                TransactionId::Client(cid) => {
                    if let Some(entry) = self.clients.get_mut(&cid) {
                        match &mut entry.machine {
                            Client::Invite(m) => m.on_timeout(now, cid, &mut sink),
                            Client::NonInvite(m) => m.on_timeout(now, cid, &self.config, &mut sink),
                        }
                        self.settle_client(cid, None);
                    }
                }
            }
        }
        self.due = due;
    }

    /// The earliest instant at which [`handle_timeout`](Self::handle_timeout) has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.first()
    }

    /// The next message to put on the wire.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.transmits.pop_front()
    }

    /// The next event for the TU.
    pub fn poll_event(&mut self) -> Option<TransactionEvent> {
        self.out.events.pop_front()
    }

    /// Queues a message outside any transaction: the ACK for a 2xx, a 2xx retransmitted by
    /// the dialog layer after its transaction ended, a stateless reply to a malformed request.
    pub fn send_stateless(&mut self, dest: Peer, message: &Message) {
        self.out.transmits.push_back(Transmit {
            dest,
            bytes: message.to_bytes(),
            tx: None,
        });
    }

    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// After a server transaction handled an input: re-index its deadline, or remove it.
    fn settle_server(&mut self, id: ServerTxId, old: Option<Instant>) {
        let Some(entry) = self.servers.get(&id) else {
            return;
        };
        if entry.machine.is_terminated() {
            self.deadlines.update(id.into(), old, None);
            if let Some(entry) = self.servers.remove(&id) {
                self.server_keys.remove(&entry.key);
            }
            let id = TransactionId::Server(id);
            self.out.events.push_back(TransactionEvent::Terminated(id));
        } else {
            let new = entry.machine.deadline();
            self.deadlines.update(id.into(), old, new);
        }
    }

    /// After a client transaction handled an input: re-index its deadline, or remove it.
    fn settle_client(&mut self, id: ClientTxId, old: Option<Instant>) {
        let Some(entry) = self.clients.get(&id) else {
            return;
        };
        if entry.machine.is_terminated() {
            self.deadlines.update(id.into(), old, None);
            if let Some(entry) = self.clients.remove(&id) {
                self.client_keys.remove(&entry.key);
            }
            let id = TransactionId::Client(id);
            self.out.events.push_back(TransactionEvent::Terminated(id));
        } else {
            let new = entry.machine.deadline();
            self.deadlines.update(id.into(), old, new);
        }
    }
}
