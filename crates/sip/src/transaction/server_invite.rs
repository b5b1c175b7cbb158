//! INVITE server transaction: RFC 3261 §17.2.1 (Figure 7) as corrected by RFC 6026 §7.1
//! (the Accepted state, Timer L).
//!
//! ```text
//!                INVITE received / pass to TU
//!                (100 Trying sent after `auto_trying` if the TU has not answered)
//!                           |
//!                           v
//!                    +------------+  1xx from TU / send
//!                    | Proceeding |  INVITE retransmission / re-send last 1xx
//!                    +------------+  transport error / inform TU -> Terminated
//!     300-699 from TU   |      |  2xx from TU / send
//!          / send       |      +-----------------------+
//!                       v                              v
//!                +------------+                  +------------+  2xx from TU / send
//!                | Completed  |                  |  Accepted  |  INVITE retransmission:
//!                +------------+                  +------------+    absorbed
//!   INVITE / re-send final; Timer G / re-send,          |         ACK / pass to TU
//!   G = min(2G, T2); transport error / inform TU        |         transport error /
//!   -> Terminated; Timer H / inform TU -> Terminated    |           inform TU (stays)
//!                       | ACK                           | Timer L (64*T1)
//!                       v                               v
//!                +------------+                     Terminated
//!                | Confirmed  |  ACK: absorbed
//!                +------------+
//!                       | Timer I (T4 unreliable; 0 reliable: at once)
//!                       v
//!                   Terminated
//! ```
//!
//! Timer G runs only on unreliable transports; H, I and L start with the state they guard.

use super::timers::Retransmit;
use super::{
    due, earliest, Peer, ServerTxId, Sink, TimerConfig, TransactionError, TransactionEvent,
    TransactionState,
};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Proceeding,
    Completed,
    Confirmed,
    Accepted,
    Terminated,
}

/// What an ACK matching this transaction means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AckMeaning {
    /// The ACK for our non-2xx final response: now Confirmed.
    Confirms,
    /// A repeated or out-of-place ACK: absorbed.
    Absorbed,
    /// RFC 6026: in the Accepted state the ACK (for the 2xx) goes to the TU.
    ForTu,
}

/// An INVITE server transaction.
#[derive(Debug)]
pub(super) struct ServerInvite {
    state: State,
    peer: Peer,
    /// The last response re-sent on INVITE retransmissions: the latest 1xx in Proceeding,
    /// the final response in Completed.
    last: Option<Vec<u8>>,
    /// The To header of the latest response sent, so that the 200 to a CANCEL carries the
    /// same To tag (RFC 3261 §9.2).
    to_header: Option<String>,
    /// The automatic 100 Trying, ready to go, and when.
    trying: Option<(Instant, Vec<u8>)>,
    timer_g: Option<Retransmit>,
    timer_h: Option<Instant>,
    timer_i: Option<Instant>,
    timer_l: Option<Instant>,
}

impl ServerInvite {
    /// A new transaction in Proceeding; `trying` is the 100 to send automatically, if any.
    pub(super) fn new(peer: Peer, trying: Option<(Instant, Vec<u8>)>) -> ServerInvite {
        ServerInvite {
            state: State::Proceeding,
            peer,
            last: None,
            to_header: None,
            trying,
            timer_g: None,
            timer_h: None,
            timer_i: None,
            timer_l: None,
        }
    }

    pub(super) fn state(&self) -> TransactionState {
        match self.state {
            State::Proceeding => TransactionState::Proceeding,
            State::Completed | State::Terminated => TransactionState::Completed,
            State::Confirmed => TransactionState::Confirmed,
            State::Accepted => TransactionState::Accepted,
        }
    }

    pub(super) fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    /// True while no final response has been sent: a CANCEL still has an effect.
    pub(super) fn is_cancellable(&self) -> bool {
        self.state == State::Proceeding
    }

    /// The To header of the latest response sent.
    pub(super) fn to_header(&self) -> Option<&str> {
        self.to_header.as_deref()
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        earliest([
            self.trying.as_ref().map(|(at, _)| *at),
            self.timer_g.map(|g| g.at),
            self.timer_h,
            self.timer_i,
            self.timer_l,
        ])
    }

    /// A retransmission of the INVITE.
    pub(super) fn on_request(&mut self, sink: &mut Sink<'_>) {
        if matches!(self.state, State::Proceeding | State::Completed) {
            if let Some(last) = &self.last {
                sink.send(self.peer, last.clone());
            }
        }
    }

    /// An ACK matching the transaction (same key as the INVITE).
    pub(super) fn on_ack(&mut self, now: Instant, cfg: &TimerConfig) -> AckMeaning {
        match self.state {
            State::Completed => {
                self.timer_g = None;
                self.timer_h = None;
                self.last = None;
                if self.peer.transport.is_reliable() {
                    self.state = State::Terminated;
                } else {
                    self.state = State::Confirmed;
                    self.timer_i = Some(now + cfg.t4);
                }
                AckMeaning::Confirms
            }
            State::Accepted => AckMeaning::ForTu,
            State::Proceeding | State::Confirmed | State::Terminated => AckMeaning::Absorbed,
        }
    }

    /// A response from the TU, already serialised; `to` is its To header.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn on_response(
        &mut self,
        now: Instant,
        id: ServerTxId,
        status: u16,
        to: Option<&str>,
        bytes: Vec<u8>,
        cfg: &TimerConfig,
        sink: &mut Sink<'_>,
    ) -> Result<(), TransactionError> {
        let allowed = match self.state {
            State::Proceeding => true,
            // RFC 6026: the TU's 2xx retransmissions (or other 2xx) pass through.
            State::Accepted => (200..300).contains(&status),
            State::Completed | State::Confirmed | State::Terminated => false,
        };
        if !allowed {
            return Err(TransactionError::ResponseNotAllowed {
                id,
                status,
                state: self.state(),
            });
        }
        self.trying = None;
        if let Some(to) = to {
            self.to_header = Some(to.to_string());
        }
        if self.state == State::Proceeding {
            if status < 200 {
                self.last = Some(bytes.clone());
            } else if status < 300 {
                self.state = State::Accepted;
                self.last = None;
                self.timer_l = Some(now + cfg.t1_x64());
            } else {
                self.state = State::Completed;
                self.last = Some(bytes.clone());
                if !self.peer.transport.is_reliable() {
                    self.timer_g = Some(Retransmit::start(now, cfg.t1));
                }
                self.timer_h = Some(now + cfg.t1_x64());
            }
        }
        sink.send(self.peer, bytes);
        Ok(())
    }

    pub(super) fn on_timeout(
        &mut self,
        now: Instant,
        id: ServerTxId,
        cfg: &TimerConfig,
        sink: &mut Sink<'_>,
    ) {
        if self.trying.as_ref().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, bytes)) = self.trying.take() {
                self.last = Some(bytes.clone());
                sink.send(self.peer, bytes);
            }
        }
        match self.state {
            State::Completed if due(self.timer_h, now) => {
                sink.event(TransactionEvent::AckTimeout(id));
                self.terminate();
            }
            State::Completed => {
                if let Some(g) = self.timer_g.as_mut().filter(|g| g.at <= now) {
                    g.rearm(now, cfg.doubled_capped(g.interval));
                    if let Some(last) = &self.last {
                        sink.send(self.peer, last.clone());
                    }
                }
            }
            State::Confirmed if due(self.timer_i, now) => self.terminate(),
            State::Accepted if due(self.timer_l, now) => self.terminate(),
            _ => {}
        }
    }

    pub(super) fn on_transport_error(&mut self, sink: &mut Sink<'_>) {
        sink.event(TransactionEvent::TransportError(sink.id));
        if self.state != State::Accepted {
            self.terminate();
        }
    }

    fn terminate(&mut self) {
        self.state = State::Terminated;
        self.trying = None;
        self.timer_g = None;
        self.timer_h = None;
        self.timer_i = None;
        self.timer_l = None;
        self.last = None;
    }
}
