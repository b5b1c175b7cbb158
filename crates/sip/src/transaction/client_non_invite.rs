//! Non-INVITE client transaction: RFC 3261 §17.1.2 (Figure 6).
//!
//! ```text
//!                 request from TU / send, Timer F = 64*T1, Timer E = T1 (unreliable)
//!                          |
//!                          v
//!                    +------------+  Timer E / re-send, E = min(2E, T2)
//!                    |   Trying   |  Timer F or transport error / inform TU -> Terminated
//!                    +------------+
//!           1xx / to TU |         | 200-699 / to TU
//!                       v         |
//!                    +------------+  1xx / to TU
//!                    | Proceeding |  Timer E / re-send, E = T2
//!                    +------------+  Timer F or transport error / inform TU -> Terminated
//!        200-699 / to TU  |       |
//!                         v       v
//!                    +------------+
//!                    | Completed  |  any response: absorbed
//!                    +------------+
//!                          | Timer K (T4 unreliable; 0 reliable: at once)
//!                          v
//!                     Terminated
//! ```

use super::timers::Retransmit;
use super::{
    due, earliest, ClientTxId, Peer, Sink, TimerConfig, TransactionEvent, TransactionState,
};
use crate::message::Response;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

/// What became of a response.
#[derive(Debug)]
pub(super) enum Delivery {
    /// For the TU.
    ToTu(Response),
    /// A retransmission, absorbed.
    Absorbed,
}

/// A non-INVITE client transaction.
#[derive(Debug)]
pub(super) struct ClientNonInvite {
    state: State,
    peer: Peer,
    /// The request as sent, for Timer E retransmissions.
    request: Vec<u8>,
    timer_e: Option<Retransmit>,
    timer_f: Option<Instant>,
    timer_k: Option<Instant>,
}

impl ClientNonInvite {
    /// Starts the transaction and sends the request.
    pub(super) fn start(
        now: Instant,
        peer: Peer,
        request: Vec<u8>,
        cfg: &TimerConfig,
        sink: &mut Sink<'_>,
    ) -> ClientNonInvite {
        sink.send(peer, request.clone());
        ClientNonInvite {
            state: State::Trying,
            peer,
            request,
            timer_e: (!peer.transport.is_reliable()).then(|| Retransmit::start(now, cfg.t1)),
            timer_f: Some(now + cfg.t1_x64()),
            timer_k: None,
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
        earliest([self.timer_e.map(|e| e.at), self.timer_f, self.timer_k])
    }

    pub(super) fn on_response(
        &mut self,
        now: Instant,
        resp: Response,
        cfg: &TimerConfig,
    ) -> Delivery {
        match self.state {
            State::Trying | State::Proceeding if resp.status.is_provisional() => {
                self.state = State::Proceeding;
                Delivery::ToTu(resp)
            }
            State::Trying | State::Proceeding => {
                self.timer_e = None;
                self.timer_f = None;
                self.request = Vec::new();
                if self.peer.transport.is_reliable() {
                    self.state = State::Terminated;
                } else {
                    self.state = State::Completed;
                    self.timer_k = Some(now + cfg.t4);
                }
                Delivery::ToTu(resp)
            }
            State::Completed | State::Terminated => Delivery::Absorbed,
        }
    }

    pub(super) fn on_timeout(
        &mut self,
        now: Instant,
        id: ClientTxId,
        cfg: &TimerConfig,
        sink: &mut Sink<'_>,
    ) {
        match self.state {
            State::Trying | State::Proceeding if due(self.timer_f, now) => {
                sink.event(TransactionEvent::Timeout(id));
                self.terminate();
            }
            State::Trying | State::Proceeding => {
                let proceeding = self.state == State::Proceeding;
                if let Some(e) = self.timer_e.as_mut().filter(|e| e.at <= now) {
                    let next = if proceeding {
                        cfg.t2
                    } else {
                        cfg.doubled_capped(e.interval)
                    };
                    e.rearm(now, next);
                    sink.send(self.peer, self.request.clone());
                }
            }
            State::Completed if due(self.timer_k, now) => self.terminate(),
            State::Completed | State::Terminated => {}
        }
    }

    pub(super) fn on_transport_error(&mut self, sink: &mut Sink<'_>) {
        // Nothing is sent in Completed, so a late error there concerns no one.
        if matches!(self.state, State::Trying | State::Proceeding) {
            sink.event(TransactionEvent::TransportError(sink.id));
            self.terminate();
        }
    }

    fn terminate(&mut self) {
        self.state = State::Terminated;
        self.timer_e = None;
        self.timer_f = None;
        self.timer_k = None;
        self.request = Vec::new();
    }
}
