//! Call pickup: a phone answers a call that rings elsewhere by dialling a short code —
//! directed (`*31*203#`: the call ringing at 203) or group (`*30`: a call ringing at a
//! member of a hunt group the user belongs to). The picking phone's INVITE becomes the
//! call's answering leg: we answer both parties ourselves (each gets an answer to its own
//! offer, on one common codec, at the relay) and the phones that rang get CANCEL.
//!
//! The picking phone's dialog is kept as a fork (see `handover`), so requests in it — BYE,
//! re-INVITE, REFER — go through the same code as any answered callee's. Unparking
//! (`park`) seats a phone the same way.

use super::handover::{uas_dialog_as_fork, UasDialog};
use super::*;
use sdp::{Codec, LocalCapabilities};

/// Why a pickup could not be made: the status and words for the picking phone.
use super::page::Refusal;

impl Pbx {
    /// `target`: the extension for a directed pickup, `None` for group pickup.
    pub(super) fn pickup(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        picker: &str,
        target: Option<&str>,
    ) {
        if let Err((status, why)) = self.try_pickup(now, source, tx, req, picker, target) {
            let mut r = self.response(req, StatusCode(status));
            r.reason = format!("{} ({why})", StatusCode(status).default_reason());
            self.send(now, tx, r, Duration::ZERO);
        }
    }

    fn try_pickup(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        picker: &str,
        target: Option<&str>,
    ) -> Result<(), Refusal> {
        let id = self
            .ringing_call_for(picker, target)
            .ok_or((404, "no call ringing to pick up"))?;
        self.pickup_call(now, source, tx, req, picker, id)
    }

    /// The phone's INVITE answers ringing call `id`.
    pub(super) fn pickup_call(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        picker: &str,
        id: u64,
    ) -> Result<(), Refusal> {
        let call = &self.calls.calls[&id];
        let a_offer = call.a.invite.body.clone();
        let a_host = call.a.local_host.clone();
        let caller_port = call.media.map(|m| m.caller_port);
        let (codec, i) = self.seat_phone(now, id, source, tx, req, picker, &a_offer)?;
        let a_ip = self.side_ip(&a_host);
        let a_answer = sdp::parse(&a_offer)
            .ok()
            .zip(caller_port)
            .and_then(|(offer, port)| answer_on(&offer, &codec, a_ip, port));
        let Some(call) = self.calls.calls.get(&id) else {
            return Err((500, "the call ended"));
        };
        let mut a_ok = self.a_response(call, StatusCode::OK, "OK");
        a_ok.headers
            .push(HeaderName::ContentType, "application/sdp");
        a_ok.body = a_answer.unwrap_or_default();
        self.connect(now, id, i, a_ok);
        Ok(())
    }

    /// Answers a phone's INVITE (with an offer) ourselves and seats it in call `id` as its
    /// answering party — a new fork (see `handover`), its media on the relay's callee side
    /// — on a voice codec it shares with `session` (the other party's description).
    /// Returns that codec and the fork; the caller's side is left to the caller.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn seat_phone(
        &mut self,
        now: Instant,
        id: u64,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        extension: &str,
        session: &[u8],
    ) -> Result<(Codec, usize), Refusal> {
        let ports = self.calls.calls[&id]
            .media
            .ok_or((488, "needs media through the relay"))?;
        let other = sdp::parse(session).map_err(|_| (488, "the other party has no session"))?;
        let x_offer = sdp::parse(&req.body).map_err(|_| (488, "needs an offer in the INVITE"))?;
        let codec = common_voice_codec(&other, &x_offer).ok_or((488, "no codec in common"))?;
        let x_ip = self.side_ip(&host_port(&req.uri));
        let x_answer = answer_on(&x_offer, &codec, x_ip, ports.callee_port)
            .ok_or((488, "no answer for this phone's offer"))?;
        if let (Some(remote), Some(relay)) = (first_audio(&x_offer), self.media_relay.as_mut()) {
            relay.set_remote(ports.session, Side::Callee, remote);
        }
        let i = self.seat_dialog(now, id, source, tx, req, extension, x_answer, None)?;
        Ok((codec, i))
    }

    /// Answers a phone's INVITE ourselves with `answer` and keeps its dialog in call `id`
    /// as a new fork (see `handover`); `party` is its own media in the relay session (a
    /// supervisor listening in), else it takes the callee's side. Returns the fork.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn seat_dialog(
        &mut self,
        now: Instant,
        id: u64,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        extension: &str,
        answer: Vec<u8>,
        party: Option<u32>,
    ) -> Result<usize, Refusal> {
        let x_host = host_port(&req.uri);
        let (Some(x_call_id), Some(x_from), Some(x_to), Some(x_contact)) = (
            req.headers.get(&HeaderName::CallId).map(str::to_string),
            req.headers.get(&HeaderName::From).map(str::to_string),
            req.headers.get(&HeaderName::To).map(str::to_string),
            contact_uri(&req.headers),
        ) else {
            return Err((400, "incomplete INVITE"));
        };
        // The phone's dialog, from our side.
        let local_tag = new_tag();
        let mut x_ok = Response::for_request(req, StatusCode::OK);
        x_ok.headers
            .set(HeaderName::To, format!("{x_to};tag={local_tag}"));
        x_ok.headers
            .push(HeaderName::Contact, format!("<{}>", req.uri));
        x_ok.headers
            .push(HeaderName::Server, self.settings.server_name.clone());
        x_ok.headers
            .push(HeaderName::ContentType, "application/sdp");
        x_ok.body = answer;
        let t1 = self.transactions.config().t1;
        let t2 = self.transactions.config().t2;
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return Err((500, "the call ended"));
        };
        let i = call.forks.len();
        let mut fork = uas_dialog_as_fork(UasDialog {
            peer: source,
            call_id: x_call_id.clone(),
            local: format!("{x_to};tag={local_tag}"),
            remote: x_from,
            remote_target: x_contact,
            local_host: x_host,
            cseq: 0,
            extension: extension.to_string(),
            stage: call.route.stage,
        });
        fork.party = party;
        call.forks.push(fork);
        let resend = Resend::new(now, tx, x_ok.clone(), t1, Some(t2));
        if party.is_some() {
            call.party_ok.push((i, resend));
        } else {
            call.b_ok = Some(resend);
        }
        self.calls.by_fork_call_id.insert(x_call_id, (id, i));
        self.respond_now(now, tx, x_ok);
        self.calls.schedule(id);
        Ok(i)
    }

    /// The oldest call ringing (unanswered, not given up) at `target`, or, for group
    /// pickup, at a member of a hunt group `picker` belongs to.
    fn ringing_call_for(&self, picker: &str, target: Option<&str>) -> Option<u64> {
        let wanted = |ext: &str| match target {
            Some(t) => ext == t,
            None => ext != picker && self.features.share_a_group(picker, ext),
        };
        self.calls
            .calls
            .iter()
            .filter(|(_, c)| c.winner.is_none() && !c.a.final_sent && c.transfer.is_none())
            .filter(|(_, c)| {
                c.forks.iter().any(|f| {
                    matches!(f.state, ForkState::Calling | ForkState::Early) && wanted(&f.extension)
                })
            })
            .min_by_key(|(_, c)| c.started)
            .map(|(id, _)| *id)
    }
}

/// The first voice codec of `a`'s first audio stream that `b` offers too (G.711 only: the
/// relay does not transcode).
pub(super) fn common_voice_codec(
    a: &sdp::SessionDescription,
    b: &sdp::SessionDescription,
) -> Option<Codec> {
    let audio = |sd: &sdp::SessionDescription| {
        sd.media
            .iter()
            .find(|m| m.media == "audio" && m.port != 0)
            .map(|m| m.codecs())
            .unwrap_or_default()
    };
    let theirs = audio(b);
    audio(a)
        .into_iter()
        .filter(|c| matches!(c, Codec::Pcmu | Codec::Pcma))
        .find(|c| theirs.iter().any(|t| t.same_format(c)))
}

/// Where the first audio stream of a description receives RTP.
pub(super) fn first_audio(sd: &sdp::SessionDescription) -> Option<std::net::SocketAddr> {
    let i = sd
        .media
        .iter()
        .position(|m| m.media == "audio" && m.port != 0)?;
    Some(std::net::SocketAddr::new(
        sd.connection_address(i)?,
        sd.media[i].port,
    ))
}

/// Our answer to `offer` with `codec` (and telephone events) at `ip:port`.
pub(super) fn answer_on(
    offer: &sdp::SessionDescription,
    codec: &Codec,
    ip: std::net::IpAddr,
    port: u16,
) -> Option<Vec<u8>> {
    let mut caps = LocalCapabilities::new(u64::from(rand_u32()), ip, vec![port]);
    caps.codecs = vec![codec.clone(), Codec::TelephoneEvent { pt: 101 }];
    sdp::answer(offer, &caps).ok().map(|sd| sd.to_bytes())
}

fn rand_u32() -> u32 {
    u32::from_str_radix(&new_tag()[..8], 16).unwrap_or(1)
}
