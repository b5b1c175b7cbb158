//! Non-INVITE server transaction: RFC 3261 §17.2.2 (Figure 8).
//!
//! ```text
//!              request received / pass to TU
//!                          |
//!                          v
//!                    +------------+
//!                    |   Trying   |  request retransmission: absorbed, nothing sent
//!                    +------------+
//!          1xx from TU |          | 200-699 from TU / send
//!               / send v          |
//!                    +------------+
//!                    | Proceeding |  1xx from TU / send;
//!                    +------------+  request retransmission / re-send last 1xx
//!    200-699 from TU     |        |
//!               / send   v        v
//!                    +------------+
//!                    | Completed  |  request retransmission / re-send the final response;
//!                    +------------+  other responses from the TU refused
//!                          | Timer J (64*T1 unreliable; 0 reliable: at once)
//!                          v
//!                     Terminated      (transport error in any state: inform TU, terminate)
//! ```

use super::{
    due, Peer, ServerTxId, Sink, TimerConfig, TransactionError, TransactionEvent, TransactionState,
};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

/// A non-INVITE server transaction (also used for CANCEL, which the layer answers itself).
#[derive(Debug)]
pub(super) struct ServerNonInvite {
    state: State,
    peer: Peer,
    /// The last response sent, re-sent on request retransmissions.
    last: Option<Vec<u8>>,
    timer_j: Option<Instant>,
}

impl ServerNonInvite {
    pub(super) fn new(peer: Peer) -> ServerNonInvite {
        ServerNonInvite {
            state: State::Trying,
            peer,
            last: None,
            timer_j: None,
        }
    }

    pub(super) fn state(&self) -> TransactionState {
        match self.state {
            State::Trying => TransactionState::Trying,
            State::Proceeding => TransactionState::Proceeding,
            State::Completed | State::Terminated => TransactionState::Completed,
        }
    }

    pub(super) fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        self.timer_j
    }

    /// A retransmission of the request.
    pub(super) fn on_request(&mut self, sink: &mut Sink<'_>) {
        if matches!(self.state, State::Proceeding | State::Completed) {
            if let Some(last) = &self.last {
                sink.send(self.peer, last.clone());
            }
        }
    }

    /// A response from the TU, already serialised.
    pub(super) fn on_response(
        &mut self,
        now: Instant,
        id: ServerTxId,
        status: u16,
        bytes: Vec<u8>,
        cfg: &TimerConfig,
        sink: &mut Sink<'_>,
    ) -> Result<(), TransactionError> {
        if !matches!(self.state, State::Trying | State::Proceeding) {
            return Err(TransactionError::ResponseNotAllowed {
                id,
                status,
                state: self.state(),
            });
        }
        let provisional = status < 200;
        let reliable = self.peer.transport.is_reliable();
        if provisional {
            self.state = State::Proceeding;
        } else if reliable {
            // Timer J is zero: nothing to absorb on a reliable transport.
            self.state = State::Terminated;
        } else {
            self.state = State::Completed;
            self.timer_j = Some(now + cfg.t1_x64());
        }
        if self.state == State::Terminated {
            sink.send(self.peer, bytes);
        } else {
            self.last = Some(bytes.clone());
            sink.send(self.peer, bytes);
        }
        Ok(())
    }

    pub(super) fn on_timeout(&mut self, now: Instant) {
        if self.state == State::Completed && due(self.timer_j, now) {
            self.terminate();
        }
    }

    pub(super) fn on_transport_error(&mut self, sink: &mut Sink<'_>) {
        sink.event(TransactionEvent::TransportError(sink.id));
        self.terminate();
    }

    fn terminate(&mut self) {
        self.state = State::Terminated;
        self.timer_j = None;
        self.last = None;
    }
}
