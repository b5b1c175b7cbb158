//! New session descriptions of our own: a re-INVITE we send one side of a call when call
//! control (not the other phone) changes its media — a transfer target joining the call
//! moves to this call's relay port, a party left on hold by the transferor is resumed.
//! The 2xx is ACKed here and the relay told where the phone now receives.

use super::*;

/// Our re-INVITE waiting for its final response.
#[derive(Debug)]
pub(crate) struct ReOffer {
    pub(super) call: u64,
    side: Side,
    sent: Request,
}

impl Pbx {
    /// Sends `side` of call `id` a re-INVITE offering `body` (already pointed at the relay).
    pub(super) fn send_reoffer(&mut self, now: Instant, id: u64, side: Side, body: Vec<u8>) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        let contact = midcall::our_contact(call, side);
        let built = match side {
            Side::Caller => self.a_request(id, Method::Invite),
            Side::Callee => {
                let Some(w) = call.winner else { return };
                self.next_fork_request(id, w, Method::Invite)
            }
        };
        let Some((mut req, peer)) = built else {
            return;
        };
        req.headers.push(HeaderName::Contact, contact);
        req.headers.push(HeaderName::ContentType, "application/sdp");
        if let Some(call) = self.calls.calls.get_mut(&id) {
            match side {
                Side::Caller => call.a.last_sdp.clone_from(&body),
                Side::Callee => call.b_last_sdp.clone_from(&body),
            }
        }
        req.body = body;
        match self.transactions.send_request(now, req.clone(), peer) {
            Ok(ctx) => {
                self.calls.reoffers.insert(
                    ctx,
                    ReOffer {
                        call: id,
                        side,
                        sent: req,
                    },
                );
            }
            Err(e) => tracing::debug!(error = %e, "re-INVITE not sent"),
        }
    }

    /// Takes the caller off the hold it was left on (by a transferor): a re-INVITE
    /// offering two-way media again, when the last description it had from us holds it.
    pub(super) fn resume_caller_if_held(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        if call.media.is_none() || !holds_the_receiver(&call.a.last_sdp) {
            return;
        }
        if let Some(body) = as_resumed_offer(&call.a.last_sdp, None) {
            self.send_reoffer(now, id, Side::Caller, body);
        }
    }

    /// The answer to our re-INVITE: ACK a 2xx and point the relay at the phone; a phone
    /// that refuses the new media, or is gone, ends the call (it could not talk anyway).
    pub(super) fn on_reoffer_response(&mut self, now: Instant, ctx: ClientTxId, resp: Response) {
        if resp.status.is_provisional() {
            return;
        }
        let Some(r) = self.calls.reoffers.remove(&ctx) else {
            return;
        };
        let Some(call) = self.calls.calls.get(&r.call) else {
            return;
        };
        if !resp.status.is_success() {
            tracing::info!(
                status = resp.status.0,
                "our re-INVITE refused; ending the call"
            );
            return self.hang_up_both(now, r.call, "new media refused in transfer");
        }
        let peer = match r.side {
            Side::Caller => call.a.peer,
            Side::Callee => match call.winner.and_then(|w| call.forks.get(w)) {
                Some(f) => f.peer,
                None => return,
            },
        };
        self.transactions
            .send_stateless(peer, &sip::Message::Request(midcall::ack_for(&r.sent)));
        let remote = sdp::parse(&resp.body).ok().and_then(|sd| {
            let i = sd
                .media
                .iter()
                .position(|m| m.media == "audio" && m.port != 0)?;
            Some(std::net::SocketAddr::new(
                sd.connection_address(i)?,
                sd.media[i].port,
            ))
        });
        if let (Some(ports), Some(remote), Some(relay)) =
            (call.media, remote, self.media_relay.as_mut())
        {
            relay.set_remote(ports.session, r.side, remote);
        }
    }

    /// Our re-INVITE got no answer at all: the phone is gone.
    pub(super) fn on_reoffer_timeout(&mut self, now: Instant, ctx: ClientTxId) {
        if let Some(r) = self.calls.reoffers.remove(&ctx) {
            self.hang_up_both(now, r.call, "no answer to our re-INVITE");
        }
    }
}

/// `body` with its first audio stream made two-way and its origin carrying on from
/// `previous` (the last description that phone had from us; RFC 3264 §8: same origin,
/// version one up), so the phone sees a changed session, not a stranger's.
pub(super) fn as_resumed_offer(body: &[u8], previous: Option<&[u8]>) -> Option<Vec<u8>> {
    let mut sd = sdp::parse(body).ok()?;
    if let Some(i) = sd
        .media
        .iter()
        .position(|m| m.media == "audio" && m.port != 0)
    {
        let _ = sd.set_direction(i, sdp::Direction::SendRecv);
    }
    match previous.and_then(|p| sdp::parse(p).ok()) {
        Some(prev) => {
            sd.origin = prev.origin;
            sd.bump_version();
        }
        None => sd.bump_version(),
    }
    Some(sd.to_bytes())
}

/// Whether the first audio stream of `body` lets the phone it went to send nothing back
/// (`sendonly` or `inactive` from us: that phone is on hold).
pub(super) fn holds_the_receiver(body: &[u8]) -> bool {
    let Ok(sd) = sdp::parse(body) else {
        return false;
    };
    sd.media
        .iter()
        .position(|m| m.media == "audio" && m.port != 0)
        .and_then(|i| sd.direction(i))
        .is_some_and(|d| matches!(d, sdp::Direction::SendOnly | sdp::Direction::Inactive))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELD: &[u8] = b"v=0\r\no=a 7 3 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
    const EARLIER: &[u8] = b"v=0\r\no=z 99 41 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";

    #[test]
    fn a_resumed_offer_is_two_way_and_continues_the_phones_origin() {
        assert!(holds_the_receiver(HELD));
        let out = as_resumed_offer(HELD, Some(EARLIER)).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(!holds_the_receiver(&out), "{text}");
        assert!(text.contains("o=z 99 42 IN IP4 10.0.0.9"), "{text}");
        let own = String::from_utf8(as_resumed_offer(HELD, None).unwrap()).unwrap();
        assert!(own.contains("o=a 7 4 "), "{own}");
    }
}
