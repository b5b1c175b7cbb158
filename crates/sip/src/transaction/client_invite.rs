//! INVITE client transaction: RFC 3261 §17.1.1 (Figure 5) as corrected by RFC 6026 §7.2
//! (the Accepted state, Timer M), plus the ACK for a non-2xx (§17.1.1.3) and the CANCEL
//! (§9.1) it knows how to build.
//!
//! ```text
//!              INVITE from TU / send, Timer B = 64*T1, Timer A = T1 (unreliable)
//!                          |
//!                          v
//!                    +------------+  Timer A / re-send, A = 2A (no cap)
//!                    |  Calling   |  Timer B or transport error / inform TU -> Terminated
//!                    +------------+
//!           1xx / to TU |     |  |  2xx / to TU ------------------------+
//!                       v     |  |                                      |
//!                    +------------+  1xx / to TU                        |
//!                    | Proceeding |  (64*T1 after a CANCEL / inform TU   |
//!                    +------------+   -> Terminated, §9.1)              |
//!     300-699 / send ACK, |  |  2xx / to TU -------------------------+  |
//!          to TU          |  |                                       v  v
//!  (from Calling too)     v  v                                  +------------+
//!                    +------------+  300-699 / re-send ACK      |  Accepted  | 2xx / to TU
//!                    | Completed  |  transport error / inform   +------------+ (other forks)
//!                    +------------+    TU -> Terminated                | Timer M (64*T1)
//!                          | Timer D (32 s unreliable; 0 reliable)     v
//!                          v                                       Terminated
//!                     Terminated
//! ```
//!
//! The ACK for a 2xx is not this transaction's business: it belongs to the dialog (§13.2.2.4).

use super::client_non_invite::Delivery;
use super::key::first_list_element;
use super::timers::Retransmit;
use super::{due, earliest, ClientTxId, Peer, Sink, TimerConfig, TransactionEvent};
use super::{key, TransactionState};
use crate::header::HeaderName;
use crate::message::{Method, Request, Response};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Calling,
    Proceeding,
    Completed,
    Accepted,
    Terminated,
}

/// An INVITE client transaction.
#[derive(Debug)]
pub(super) struct ClientInvite {
    state: State,
    peer: Peer,
    /// The INVITE, kept until a final response: Timer A re-sends it, the ACK and CANCEL copy
    /// from it.
    request: Option<Request>,
    /// The ACK sent for the non-2xx final response, re-sent on its retransmissions.
    ack: Option<Vec<u8>>,
    timer_a: Option<Retransmit>,
    timer_b: Option<Instant>,
    timer_d: Option<Instant>,
    timer_m: Option<Instant>,
    /// §9.1: when a CANCEL was sent, the INVITE is given up 64*T1 later.
    cancel_expiry: Option<Instant>,
}

impl ClientInvite {
    /// Starts the transaction and sends the INVITE.
    pub(super) fn start(
        now: Instant,
        peer: Peer,
        request: Request,
        cfg: &TimerConfig,
        sink: &mut Sink<'_>,
    ) -> ClientInvite {
        sink.send(peer, request.to_bytes());
        ClientInvite {
            state: State::Calling,
            peer,
            request: Some(request),
            ack: None,
            timer_a: (!peer.transport.is_reliable()).then(|| Retransmit::start(now, cfg.t1)),
            timer_b: Some(now + cfg.t1_x64()),
            timer_d: None,
            timer_m: None,
            cancel_expiry: None,
        }
    }

    pub(super) fn state(&self) -> TransactionState {
        match self.state {
            State::Calling => TransactionState::Calling,
            State::Proceeding => TransactionState::Proceeding,
            State::Completed | State::Terminated => TransactionState::Completed,
            State::Accepted => TransactionState::Accepted,
        }
    }

    pub(super) fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        earliest([
            self.timer_a.map(|a| a.at),
            self.timer_b,
            self.timer_d,
            self.timer_m,
            self.cancel_expiry,
        ])
    }

    pub(super) fn on_response(
        &mut self,
        now: Instant,
        resp: Response,
        cfg: &TimerConfig,
        sink: &mut Sink<'_>,
    ) -> Delivery {
        let waiting = matches!(self.state, State::Calling | State::Proceeding);
        let status = resp.status;
        if status.is_provisional() {
            if !waiting {
                return Delivery::Absorbed;
            }
            self.state = State::Proceeding;
            self.timer_a = None;
            self.timer_b = None;
            return Delivery::ToTu(resp);
        }
        if status.is_success() {
            return match self.state {
                State::Calling | State::Proceeding => {
                    self.clear_timers();
                    self.request = None;
                    self.state = State::Accepted;
                    self.timer_m = Some(now + cfg.t1_x64());
                    Delivery::ToTu(resp)
                }
                // RFC 6026: every 2xx (retransmission or another fork) goes to the TU.
                State::Accepted => Delivery::ToTu(resp),
                State::Completed | State::Terminated => Delivery::Absorbed,
            };
        }
        match self.state {
            State::Calling | State::Proceeding => {
                self.clear_timers();
                if let Some(request) = self.request.take() {
                    let ack = build_ack(&request, &resp).to_bytes();
                    sink.send(self.peer, ack.clone());
                    self.ack = Some(ack);
                }
                if self.peer.transport.is_reliable() {
                    self.terminate();
                } else {
                    self.state = State::Completed;
                    self.timer_d = Some(now + cfg.timer_d);
                }
                Delivery::ToTu(resp)
            }
            State::Completed => {
                if let Some(ack) = &self.ack {
                    sink.send(self.peer, ack.clone());
                }
                Delivery::Absorbed
            }
            State::Accepted | State::Terminated => Delivery::Absorbed,
        }
    }

    pub(super) fn on_timeout(&mut self, now: Instant, id: ClientTxId, sink: &mut Sink<'_>) {
        match self.state {
            State::Calling | State::Proceeding
                if due(self.timer_b, now) || due(self.cancel_expiry, now) =>
            {
                sink.event(TransactionEvent::Timeout(id));
                self.terminate();
            }
            State::Calling => {
                if let Some(a) = self.timer_a.as_mut().filter(|a| a.at <= now) {
                    a.rearm(now, a.interval * 2);
                    if let Some(request) = &self.request {
                        sink.send(self.peer, request.to_bytes());
                    }
                }
            }
            State::Completed if due(self.timer_d, now) => self.terminate(),
            State::Accepted if due(self.timer_m, now) => self.terminate(),
            _ => {}
        }
    }

    /// The TU sent a CANCEL for this INVITE: give the INVITE 64*T1 more for its final
    /// response (RFC 3261 §9.1), so that a silent far end cannot keep it alive.
    pub(super) fn on_cancel_sent(&mut self, now: Instant, cfg: &TimerConfig) {
        if matches!(self.state, State::Calling | State::Proceeding) && self.cancel_expiry.is_none()
        {
            self.cancel_expiry = Some(now + cfg.t1_x64());
        }
    }

    pub(super) fn on_transport_error(&mut self, sink: &mut Sink<'_>) {
        // In Accepted the transaction sends nothing; the dialog owns the ACK.
        if matches!(
            self.state,
            State::Calling | State::Proceeding | State::Completed
        ) {
            sink.event(TransactionEvent::TransportError(sink.id));
            self.terminate();
        }
    }

    /// The CANCEL for this INVITE (§9.1), while it has no final response.
    pub(super) fn build_cancel(&self) -> Option<Request> {
        if !matches!(self.state, State::Calling | State::Proceeding) {
            return None;
        }
        let invite = self.request.as_ref()?;
        let (seq, _) = key::cseq(&invite.headers).ok()?;
        let mut cancel = Request::new(Method::Cancel, invite.uri.clone());
        copy_top_via(invite, &mut cancel);
        copy(invite, &mut cancel, &HeaderName::Route);
        copy(invite, &mut cancel, &HeaderName::From);
        copy(invite, &mut cancel, &HeaderName::To);
        copy(invite, &mut cancel, &HeaderName::CallId);
        cancel
            .headers
            .push(HeaderName::CSeq, format!("{seq} CANCEL"));
        cancel.headers.push(HeaderName::MaxForwards, "70");
        Some(cancel)
    }

    fn clear_timers(&mut self) {
        self.timer_a = None;
        self.timer_b = None;
        self.cancel_expiry = None;
    }

    fn terminate(&mut self) {
        self.clear_timers();
        self.state = State::Terminated;
        self.timer_d = None;
        self.timer_m = None;
        self.request = None;
        self.ack = None;
    }
}

/// The ACK for a 3xx–6xx final response (§17.1.1.3): Request-URI, Call-ID, From, the CSeq
/// number and Route from the INVITE; a single Via, the INVITE's top one (so the same branch);
/// To from the response (with its tag).
fn build_ack(invite: &Request, resp: &Response) -> Request {
    let mut ack = Request::new(Method::Ack, invite.uri.clone());
    copy_top_via(invite, &mut ack);
    copy(invite, &mut ack, &HeaderName::Route);
    copy(invite, &mut ack, &HeaderName::From);
    match resp.headers.get(&HeaderName::To) {
        Some(to) => ack.headers.push(HeaderName::To, to),
        None => copy(invite, &mut ack, &HeaderName::To),
    }
    copy(invite, &mut ack, &HeaderName::CallId);
    let seq = key::cseq(&invite.headers).map(|(n, _)| n).unwrap_or(0);
    ack.headers.push(HeaderName::CSeq, format!("{seq} ACK"));
    ack.headers.push(HeaderName::MaxForwards, "70");
    ack
}

fn copy_top_via(from: &Request, to: &mut Request) {
    if let Some(via) = from.headers.get(&HeaderName::Via) {
        to.headers.push(HeaderName::Via, first_list_element(via));
    }
}

fn copy(from: &Request, to: &mut Request, name: &HeaderName) {
    for value in from.headers.get_all(name) {
        to.headers.push(name.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::StatusCode;
    use crate::uri::{Host, SipUri, Uri};

    fn invite() -> Request {
        let uri = Uri::Sip(SipUri::new(
            Some("bob"),
            Host::Domain("b.example".into()),
            None,
        ));
        let mut req = Request::new(Method::Invite, uri);
        req.headers.push(
            HeaderName::Via,
            "SIP/2.0/UDP a.example;branch=z9hG4bKtop, SIP/2.0/UDP p.example;branch=z9hG4bKp",
        );
        req.headers
            .push(HeaderName::Via, "SIP/2.0/UDP q.example;branch=z9hG4bKq");
        req.headers
            .push(HeaderName::Route, "<sip:proxy.example;lr>");
        req.headers
            .push(HeaderName::From, "<sip:alice@a.example>;tag=f1");
        req.headers.push(HeaderName::To, "<sip:bob@b.example>");
        req.headers.push(HeaderName::CallId, "c1");
        req.headers.push(HeaderName::CSeq, "42 INVITE");
        req.headers.push(HeaderName::Other("X-Extra".into()), "1");
        req
    }

    #[test]
    fn ack_follows_17_1_1_3() {
        let inv = invite();
        let mut resp = Response::for_request(&inv, StatusCode(486));
        resp.headers
            .set(HeaderName::To, "<sip:bob@b.example>;tag=t9");
        let ack = build_ack(&inv, &resp);
        assert_eq!(ack.method, Method::Ack);
        assert_eq!(ack.uri, inv.uri);
        let h = &ack.headers;
        assert_eq!(
            h.get_all(&HeaderName::Via).collect::<Vec<_>>(),
            ["SIP/2.0/UDP a.example;branch=z9hG4bKtop"]
        );
        assert_eq!(h.get(&HeaderName::To), Some("<sip:bob@b.example>;tag=t9"));
        assert_eq!(
            h.get(&HeaderName::From),
            Some("<sip:alice@a.example>;tag=f1")
        );
        assert_eq!(h.get(&HeaderName::CallId), Some("c1"));
        assert_eq!(h.get(&HeaderName::CSeq), Some("42 ACK"));
        assert_eq!(h.get(&HeaderName::Route), Some("<sip:proxy.example;lr>"));
        assert_eq!(h.get(&HeaderName::Other("X-Extra".into())), None);
    }

    #[test]
    fn cancel_follows_9_1() {
        let inv = invite();
        let mut sink_out = super::super::Outputs::default();
        let mut sink = Sink {
            id: super::super::TransactionId::Client(ClientTxId(1)),
            out: &mut sink_out,
        };
        let peer = Peer::udp("192.0.2.1:5060".parse().unwrap());
        let now = Instant::now();
        let tx = ClientInvite::start(now, peer, inv.clone(), &TimerConfig::default(), &mut sink);
        let cancel = tx.build_cancel().unwrap();
        assert_eq!(cancel.method, Method::Cancel);
        assert_eq!(cancel.uri, inv.uri);
        let h = &cancel.headers;
        assert_eq!(h.count(&HeaderName::Via), 1);
        assert_eq!(
            h.get(&HeaderName::Via),
            Some("SIP/2.0/UDP a.example;branch=z9hG4bKtop")
        );
        assert_eq!(h.get(&HeaderName::To), Some("<sip:bob@b.example>"));
        assert_eq!(h.get(&HeaderName::CSeq), Some("42 CANCEL"));
        assert_eq!(h.get(&HeaderName::Route), Some("<sip:proxy.example;lr>"));
        assert_eq!(sink_out.transmits.len(), 1);
    }
}
