//! Silent monitoring and intrusion: a user with `can_intrude` dials `*39*203#` to listen in
//! on extension 203's call unheard, or `*40*203#` to join it, heard by both parties (a
//! three-way call mixed by the relay). The supervisor's phone is answered by the PBX and
//! becomes a party of that call (see `parties`) with its own media in the call's relay
//! session; hanging up leaves the call as it was, and the call ending hangs up the
//! supervisor.
//!
//! Refused: without `can_intrude` (403), a target whose user is `cannot_be_intruded` (the
//! default, 403), a target not in an answered call (404), a call whose media does not go
//! through the relay (488).

use super::page::Refusal;
use super::*;
use crate::media::PartyRole;
use sdp::Codec;

impl Pbx {
    /// `supervisor` dialled the listen (`role` Monitor) or intrude (Intruder) code for
    /// extension `target`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn listen_in(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        supervisor: &str,
        target: &str,
        role: PartyRole,
    ) {
        match self.try_listen_in(now, source, tx, req, supervisor, target, role) {
            Ok(()) => tracing::info!(supervisor, target, ?role, "listening in"),
            Err((status, why)) => {
                let mut r = self.response(req, StatusCode(status));
                r.reason = format!("{} ({why})", StatusCode(status).default_reason());
                self.refuse_call(now, tx, req, supervisor.to_string(), r);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn try_listen_in(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        supervisor: &str,
        target: &str,
        role: PartyRole,
    ) -> Result<(), Refusal> {
        let person = self.features.person_at(supervisor);
        if !self.features.user_at(person).is_some_and(|u| u.can_intrude) {
            return Err((403, "no right to listen in or intrude"));
        }
        if self
            .features
            .user_at(target)
            .is_none_or(|u| u.cannot_be_intruded)
        {
            return Err((403, "that extension's calls are private"));
        }
        let id = self
            .answered_call_of(target)
            .ok_or((404, "no answered call at that extension"))?;
        let ports = self.calls.calls[&id]
            .media
            .ok_or((488, "the call's media does not go through the relay"))?;
        let offer = sdp::parse(&req.body).map_err(|_| (488, "needs an offer in the INVITE"))?;
        let codec = pickup::common_voice_codec(&offer, &offer).ok_or((488, "needs G.711"))?;
        let payload_type = if codec == Codec::Pcmu { 0 } else { 8 };
        let relay = self.media_relay.as_mut().ok_or((503, "no media relay"))?;
        let party = relay
            .add_party(ports.session, role, payload_type)
            .ok_or((503, "no media ports"))?;
        if let Some(remote) = pickup::first_audio(&offer) {
            relay.set_party_remote(ports.session, party.party, remote);
        }
        let ip = self.side_ip(&host_port(&req.uri));
        let seated = pickup::answer_on(&offer, &codec, ip, party.port)
            .ok_or((488, "no answer for this phone's offer"))
            .and_then(|answer| {
                self.seat_dialog(
                    now,
                    id,
                    source,
                    tx,
                    req,
                    supervisor,
                    answer,
                    Some(party.party),
                )
            });
        if seated.is_err() {
            if let Some(relay) = self.media_relay.as_mut() {
                relay.remove_party(ports.session, party.party);
            }
        }
        seated.map(|_| ())
    }

    /// The answered call `extension` is in, as the caller or the answering phone.
    fn answered_call_of(&self, extension: &str) -> Option<u64> {
        self.calls
            .calls
            .iter()
            .filter(|(_, c)| c.page.is_none() && c.parked.is_none())
            .find(|(_, c)| {
                let callee = c.winner.and_then(|i| c.forks.get(i)).map(|f| &f.extension);
                c.winner.is_some()
                    && (c.caller == extension || callee.is_some_and(|e| e == extension))
            })
            .map(|(id, _)| *id)
    }
}
