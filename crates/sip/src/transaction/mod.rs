//! The SIP transaction layer (RFC 3261 §17, with the RFC 6026 corrections), sans-IO.
//!
//! [`TransactionLayer`] owns every client and server transaction. It is fed requests,
//! responses, transport errors and the current time, and it is asked for datagrams to send,
//! events for the transaction user (TU) and the next instant it must be woken. It never reads
//! a clock or a socket.
//!
//! What lives here: transaction matching ([`TransactionKey`]), the four state machines
//! (`server_invite`, `server_non_invite`, `client_invite`, `client_non_invite`), timer values
//! ([`TimerConfig`]), the ACK a client INVITE transaction builds for a non-2xx final response,
//! and the automatic answers to CANCEL. What does not: dialogs, the ACK for a 2xx and 2xx
//! retransmission scheduling (the dialog layer, RFC 3261 §13), message parsing, sockets.

mod client_invite;
mod client_non_invite;
mod key;
mod layer;
mod server_invite;
mod server_non_invite;
mod timers;

pub use key::{TransactionKey, MAGIC_COOKIE};
pub use layer::TransactionLayer;
pub use timers::TimerConfig;

use crate::message::Response;
use crate::Request;
use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;

/// The kind of transport a message travels on; it decides which timers run (RFC 3261 §17:
/// A, E and G only on unreliable transports; D, I, J and K are zero on reliable ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP: the transaction layer retransmits.
    Unreliable,
    /// TCP, TLS, WebSocket: the transport delivers or reports an error.
    Reliable,
}

impl Transport {
    /// True for [`Transport::Reliable`].
    pub fn is_reliable(self) -> bool {
        matches!(self, Transport::Reliable)
    }
}

/// The far end of a message: an address and how it is reached. The shell maps it back to a
/// socket (UDP) or a connection (TCP/TLS, keyed by the remote address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// The remote address (for a request received, the source address; responses go back
    /// there, which is what `rport` asks for).
    pub addr: SocketAddr,
    /// The transport.
    pub transport: Transport,
}

impl Peer {
    /// A peer reached over UDP.
    pub fn udp(addr: SocketAddr) -> Peer {
        Peer {
            addr,
            transport: Transport::Unreliable,
        }
    }

    /// A peer reached over a reliable transport (TCP, TLS, WebSocket).
    pub fn reliable(addr: SocketAddr) -> Peer {
        Peer {
            addr,
            transport: Transport::Reliable,
        }
    }
}

/// The identifier of a server transaction, unique for the life of a [`TransactionLayer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServerTxId(u64);

/// The identifier of a client transaction, unique for the life of a [`TransactionLayer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientTxId(u64);

impl fmt::Display for ServerTxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "server-tx-{}", self.0)
    }
}

impl fmt::Display for ClientTxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "client-tx-{}", self.0)
    }
}

/// Either kind of transaction identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TransactionId {
    /// A server transaction.
    Server(ServerTxId),
    /// A client transaction.
    Client(ClientTxId),
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransactionId::Server(id) => id.fmt(f),
            TransactionId::Client(id) => id.fmt(f),
        }
    }
}

impl From<ServerTxId> for TransactionId {
    fn from(id: ServerTxId) -> Self {
        TransactionId::Server(id)
    }
}

impl From<ClientTxId> for TransactionId {
    fn from(id: ClientTxId) -> Self {
        TransactionId::Client(id)
    }
}

/// A message to put on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where to send it.
    pub dest: Peer,
    /// The serialised message.
    pub bytes: Vec<u8>,
    /// The transaction that sent it (None for [`TransactionLayer::send_stateless`]); report a
    /// failure to send with [`TransactionLayer::handle_transport_error`].
    pub tx: Option<TransactionId>,
}

/// The state of a live transaction (RFC 3261 §17 and RFC 6026 names). A terminated
/// transaction is removed from the layer at once, so it has no state to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionState {
    /// Client INVITE: request sent, nothing heard yet.
    Calling,
    /// Non-INVITE (client or server): request sent or received, no response yet.
    Trying,
    /// A provisional response was sent or received (server INVITE starts here).
    Proceeding,
    /// A final response (non-2xx for INVITE) was sent or received; absorbing retransmissions.
    Completed,
    /// Server INVITE: the ACK for the non-2xx final response arrived.
    Confirmed,
    /// INVITE, RFC 6026: a 2xx was sent or received; absorbing retransmissions for 64*T1.
    Accepted,
}

/// What [`TransactionLayer::handle_request`] made of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestOutcome {
    /// A new server transaction: pass the request to the TU, which must answer it with
    /// [`TransactionLayer::respond`] (at least one final response; the layer never does).
    New(ServerTxId, Request),
    /// A retransmission of a request already being handled (or a repeated ACK): absorbed.
    /// When the RFC says so the transaction has re-sent its last response (see
    /// [`TransactionLayer::poll_transmit`]).
    Retransmission,
    /// The ACK for a 3xx–6xx final response of this INVITE server transaction: absorbed; the
    /// transaction is now Confirmed. For the TU's information only.
    Ack(ServerTxId),
    /// An ACK that belongs to no transaction (or to an INVITE transaction in the Accepted
    /// state): the ACK for a 2xx, for the dialog layer.
    AckFor2xx(Request),
    /// A CANCEL matching an INVITE server transaction still waiting for its final response.
    /// The layer has already answered the CANCEL with 200; the TU should stop the work and
    /// answer the INVITE `invite` with 487 (Request Terminated).
    Cancel {
        /// The INVITE server transaction being cancelled.
        invite: ServerTxId,
        /// The CANCEL request.
        request: Request,
    },
    /// A request the layer answered itself: a CANCEL for an INVITE that already has a final
    /// response (200, no effect) or for no transaction at all (481). Nothing for the TU.
    Answered(crate::StatusCode),
}

/// What [`TransactionLayer::handle_response`] made of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseOutcome {
    /// A response for the TU: a provisional, the final response, or (RFC 6026 Accepted
    /// state) any further 2xx for an INVITE, which may come from other forks.
    Response(ClientTxId, Response),
    /// A retransmission absorbed by its transaction (the ACK for a non-2xx was re-sent).
    Retransmission,
    /// No client transaction matches (RFC 3261 §17.1.3). A 2xx for an INVITE arriving after
    /// Timer M is such a response; the dialog layer may still want it (to ACK it again).
    Stray(Response),
}

/// An event for the TU, taken with [`TransactionLayer::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionEvent {
    /// Timer B or F fired (no final response within 64*T1), or an INVITE cancelled 64*T1
    /// ago still has no final response (RFC 3261 §9.1). Act as for a 408.
    Timeout(ClientTxId),
    /// Timer H fired: the ACK for a 3xx–6xx final response never came.
    AckTimeout(ServerTxId),
    /// The shell reported a transport error for this transaction; unless it is in the
    /// Accepted state, it has been terminated.
    TransportError(TransactionId),
    /// The transaction ended and has been removed; its id is no longer valid. Also reported
    /// for the CANCEL transactions the layer answers itself, whose ids the TU never saw:
    /// ignore ids you do not know.
    Terminated(TransactionId),
}

/// Why the transaction layer refused an input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransactionError {
    /// The message has no Via header.
    #[error("the message has no Via header")]
    MissingVia,
    /// The top Via header has no `SIP/2.0/<transport> <sent-by>` part.
    #[error("the top Via header has no sent-protocol and sent-by")]
    MalformedVia,
    /// A request sent through a client transaction lacks a `branch` starting with
    /// [`MAGIC_COOKIE`] in its top Via.
    #[error("the top Via has no branch starting with z9hG4bK")]
    MissingBranch,
    /// The CSeq header is missing or is not `<number> <method>`.
    #[error("the CSeq header is missing or malformed")]
    MalformedCSeq,
    /// The Call-ID header is missing (needed to key requests without an RFC 3261 branch).
    #[error("the Call-ID header is missing")]
    MissingCallId,
    /// The method in CSeq differs from the request method.
    #[error("CSeq method {cseq} differs from the request method {request}")]
    CSeqMethodMismatch {
        /// The request line's method.
        request: crate::Method,
        /// The method in CSeq.
        cseq: crate::Method,
    },
    /// ACK is never sent in a client transaction (RFC 3261 §17.1.1.3 and §13.2.2.4); send it
    /// with [`TransactionLayer::send_stateless`].
    #[error("ACK is not sent through a client transaction")]
    AckIsNotATransaction,
    /// A client transaction with that branch and method already exists.
    #[error("a client transaction with branch {0} already exists")]
    DuplicateBranch(String),
    /// No live transaction has that id (it may have terminated).
    #[error("no live transaction {0}")]
    UnknownTransaction(TransactionId),
    /// The status code is outside 100–699.
    #[error("status code {0} is outside 100-699")]
    InvalidStatus(u16),
    /// The transaction's state does not accept this response from the TU (for example a
    /// second final response).
    #[error("{id} cannot send a {status} response in the {state:?} state")]
    ResponseNotAllowed {
        /// The server transaction.
        id: ServerTxId,
        /// The refused status code.
        status: u16,
        /// The transaction's state.
        state: TransactionState,
    },
}

/// The output queues shared by all transactions.
#[derive(Debug, Default)]
struct Outputs {
    transmits: VecDeque<Transmit>,
    events: VecDeque<TransactionEvent>,
}

/// What one transaction may write to the output queues, tagged with its id.
struct Sink<'a> {
    id: TransactionId,
    out: &'a mut Outputs,
}

impl Sink<'_> {
    fn send(&mut self, dest: Peer, bytes: Vec<u8>) {
        self.out.transmits.push_back(Transmit {
            dest,
            bytes,
            tx: Some(self.id),
        });
    }

    fn event(&mut self, event: TransactionEvent) {
        self.out.events.push_back(event);
    }
}

/// The earliest of a few optional deadlines.
fn earliest<const N: usize>(
    deadlines: [Option<std::time::Instant>; N],
) -> Option<std::time::Instant> {
    deadlines.into_iter().flatten().min()
}

/// True when an optional deadline has come.
fn due(deadline: Option<std::time::Instant>, now: std::time::Instant) -> bool {
    deadline.is_some_and(|at| at <= now)
}
