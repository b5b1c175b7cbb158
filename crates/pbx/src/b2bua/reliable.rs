//! Reliable provisional responses (RFC 3262, "100rel").
//!
//! Towards the caller: when its INVITE says `Require: 100rel`, every provisional response
//! we relay (180, 183) carries `Require: 100rel` and an `RSeq`, is retransmitted until the
//! caller PRACKs it, and the next one waits its turn (§3: one unacknowledged at a time). A
//! 2xx waits too while the unacknowledged one carries a session description, since the
//! caller may answer that in its PRACK. No PRACK within 64*T1: the INVITE is refused 504.
//!
//! Towards the callee: our INVITEs say `Supported: 100rel`; a reliable provisional from a
//! phone is PRACKed once per RSeq and relayed once (its retransmissions are not).

use super::*;
use std::collections::VecDeque;

/// Provisional responses queued behind an unacknowledged one: more than this and the
/// oldest without a session description is dropped (a phone that rings twice loses
/// nothing by it).
const QUEUE_LIMIT: usize = 4;

/// 100rel bookkeeping of the caller's INVITE.
#[derive(Debug, Default)]
pub(super) struct PrackState {
    /// The last RSeq used (RFC 3262 §3 wants a random start below 2^31).
    rseq: u32,
    outstanding: Option<Outstanding>,
    queue: VecDeque<Response>,
    /// Our 2xx, waiting for the PRACK of a provisional that carried SDP.
    held_ok: Option<Response>,
}

#[derive(Debug)]
struct Outstanding {
    resend: Resend,
    rseq: u32,
    with_sdp: bool,
}

impl PrackState {
    /// A fresh state whose first RSeq is `start` (1 ..= 2^31 - 1).
    pub(super) fn starting_at(start: u32) -> PrackState {
        PrackState {
            rseq: start.clamp(1, 1 << 30),
            ..PrackState::default()
        }
    }

    /// When the unacknowledged provisional is next due.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.outstanding.as_ref().map(|o| o.resend.deadline())
    }
}

/// `RAck: <rseq> <cseq> <method>` (RFC 3262 §7.2).
fn parse_rack(value: &str) -> Option<(u32, u32, Method)> {
    let mut it = value.split_whitespace();
    let rseq = it.next()?.parse().ok()?;
    let cseq = it.next()?.parse().ok()?;
    let method = Method::from_token(it.next()?);
    it.next().is_none().then_some((rseq, cseq, method))
}

/// The RSeq of a reliable provisional response (one that requires 100rel).
pub(super) fn reliable_rseq(resp: &Response) -> Option<u32> {
    let required = resp
        .headers
        .get_all(&HeaderName::Require)
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("100rel"));
    if !required {
        return None;
    }
    resp.headers.get(&HeaderName::RSeq)?.trim().parse().ok()
}

impl Pbx {
    /// Sends a provisional response to the caller: reliably when its INVITE requires it.
    pub(super) fn send_provisional(&mut self, now: Instant, id: u64, resp: Response) {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        if !call.a.reliable {
            let tx = call.a.tx;
            return self.respond_now(now, tx, resp);
        }
        let prack = &mut call.a.prack;
        if prack.outstanding.is_some() {
            if prack.queue.len() >= QUEUE_LIMIT {
                if let Some(i) = prack.queue.iter().position(|r| r.body.is_empty()) {
                    prack.queue.remove(i);
                } else {
                    return; // keep the early media already queued
                }
            }
            prack.queue.push_back(resp);
            return;
        }
        self.send_reliable(now, id, resp);
    }

    fn send_reliable(&mut self, now: Instant, id: u64, mut resp: Response) {
        let t1 = self.transactions.config().t1;
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let prack = &mut call.a.prack;
        prack.rseq = prack.rseq.wrapping_add(1).max(1);
        let rseq = prack.rseq;
        resp.headers.push(HeaderName::Require, "100rel");
        resp.headers.push(HeaderName::RSeq, rseq.to_string());
        let tx = call.a.tx;
        prack.outstanding = Some(Outstanding {
            resend: Resend::new(now, tx, resp.clone(), t1, None),
            rseq,
            with_sdp: !resp.body.is_empty(),
        });
        self.respond_now(now, tx, resp);
        self.calls.schedule(id);
    }

    /// Sends our 2xx to the caller's INVITE and retransmits it until the ACK — unless a
    /// reliable provisional with SDP is still unacknowledged, in which case it waits for
    /// the PRACK (RFC 3262 §3).
    pub(super) fn send_invite_ok(&mut self, now: Instant, id: u64, ok: Response) {
        let t1 = self.transactions.config().t1;
        let t2 = self.transactions.config().t2;
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let prack = &mut call.a.prack;
        if prack.outstanding.as_ref().is_some_and(|o| o.with_sdp) {
            prack.held_ok = Some(ok);
            return;
        }
        // A final response ends the provisional ones, acknowledged or not.
        prack.outstanding = None;
        prack.queue.clear();
        let tx = call.a.tx;
        call.a.ok = Some(Resend::new(now, tx, ok.clone(), t1, Some(t2)));
        self.respond_now(now, tx, ok);
        self.calls.schedule(id);
    }

    /// A PRACK from the caller.
    pub(super) fn on_prack(&mut self, now: Instant, id: u64, tx: ServerTxId, req: &Request) {
        let rack = req.headers.get(&HeaderName::RAck).and_then(parse_rack);
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let invite_cseq = cseq_of(&call.a.invite.headers).map(|c| c.seq);
        let prack = &mut call.a.prack;
        let matches = match (&prack.outstanding, rack) {
            (Some(o), Some((rseq, cseq, Method::Invite))) => {
                o.rseq == rseq && Some(cseq) == invite_cseq
            }
            _ => false,
        };
        if !matches {
            // §3: a PRACK that matches no unacknowledged provisional response.
            return self.reply(now, tx, req, StatusCode::CALL_DOES_NOT_EXIST);
        }
        prack.outstanding = None;
        let held = prack.held_ok.take();
        let next = prack.queue.pop_front();
        self.reply(now, tx, req, StatusCode::OK);
        if let Some(ok) = held {
            self.send_invite_ok(now, id, ok);
        } else if let Some(next) = next {
            self.send_reliable(now, id, next);
        }
        self.calls.schedule(id);
    }

    /// Retransmits the unacknowledged provisional, or gives up on a caller that never
    /// PRACKs it.
    pub(super) fn prack_timers(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let Some(o) = call.a.prack.outstanding.as_mut() else {
            return;
        };
        if !o.resend.expired(now) {
            if let Some((tx, resp)) = o.resend.due(now) {
                self.respond_now(now, tx, resp);
            }
            return;
        }
        call.a.prack.outstanding = None;
        call.a.prack.queue.clear();
        let held = call.a.prack.held_ok.take().is_some();
        if held {
            // The callee answered and we held its 2xx for the PRACK: end its side.
            let tx = call.a.tx;
            let Some(call) = self.calls.calls.get(&id) else {
                return;
            };
            let refusal = self.a_response(call, StatusCode(504), "No PRACK");
            self.respond_now(now, tx, refusal);
            if let Some(i) = self.calls.calls.get(&id).and_then(|c| c.winner) {
                self.bye_fork(now, id, i);
            }
            self.end_call(now, id, "no PRACK from caller");
        } else {
            self.give_up_ringing(now, id, StatusCode(504), "No PRACK");
        }
    }

    /// PRACKs a reliable provisional response from a fork; false when it is a
    /// retransmission (already PRACKed and relayed).
    pub(super) fn prack_fork(&mut self, now: Instant, id: u64, i: usize, resp: &Response) -> bool {
        let Some(rseq) = reliable_rseq(resp) else {
            return true;
        };
        let invite_cseq = cseq_of(&resp.headers).map_or(1, |c| c.seq);
        let Some(fork) = self
            .calls
            .calls
            .get_mut(&id)
            .and_then(|c| c.forks.get_mut(i))
        else {
            return false;
        };
        if fork.last_rseq.is_some_and(|last| rseq <= last) {
            return false;
        }
        fork.last_rseq = Some(rseq);
        let Some((mut prack, peer)) = self.next_fork_request(id, i, Method::Prack) else {
            return false;
        };
        prack
            .headers
            .push(HeaderName::RAck, format!("{rseq} {invite_cseq} INVITE"));

        if let Err(e) = self.transactions.send_request(now, prack, peer) {
            tracing::debug!(error = %e, "PRACK not sent");
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rack_parses_three_fields_only() {
        assert_eq!(
            parse_rack("776656 1 INVITE"),
            Some((776656, 1, Method::Invite))
        );
        assert_eq!(parse_rack(" 5  2 INVITE "), Some((5, 2, Method::Invite)));
        assert_eq!(parse_rack("5 2"), None);
        assert_eq!(parse_rack("x 2 INVITE"), None);
        assert_eq!(parse_rack("5 2 INVITE extra"), None);
    }
}
