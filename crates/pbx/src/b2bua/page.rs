//! Paging: `*34*300#` pages hunt group 300's phones (`*34*203#` one extension). The PBX
//! answers the caller and sends every free phone of the group an INVITE that asks it to
//! answer by itself — RFC 5373 `Answer-Mode: Auto`, plus the `Call-Info: …;answer-after=0`
//! and `Alert-Info: …;info=alert-autoanswer` that desk phones of several makers read —
//! offering audio it only receives (`a=sendonly` from us). Each phone that answers becomes
//! a party of the call's relay session that hears the caller: one-way audio.
//!
//! The page ends when the caller hangs up (answered phones get BYE, ringing ones CANCEL),
//! or when every phone has hung up or failed (the caller gets BYE). Phones that have not
//! answered within [`PAGE_ANSWER_TIME`] get CANCEL: a page is now or never. Busy phones,
//! phones on do-not-disturb and the caller's own are left out.

use super::*;
use crate::location::Binding;
use crate::media::PartyRole;
use sdp::Codec;

/// How long paged phones have to answer by themselves.
pub(super) const PAGE_ANSWER_TIME: Duration = Duration::from_secs(10);

/// Why a page (or a listen-in) could not be made: the status and words for the caller.
pub(super) type Refusal = (u16, &'static str);

/// A page under way.
#[derive(Debug, Clone)]
pub(super) struct Page {
    /// Phones still ringing at this instant get CANCEL.
    pub(super) answer_by: Option<Instant>,
}

impl Pbx {
    /// `caller` dialled the page code for `target` (a hunt group or an extension).
    pub(super) fn page(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        caller: &str,
        target: &str,
    ) {
        if let Err((status, why)) = self.try_page(now, source, tx, req, caller, target) {
            let mut r = self.response(req, StatusCode(status));
            r.reason = format!("{} ({why})", StatusCode(status).default_reason());
            self.refuse_call(now, tx, req, caller.to_string(), r);
        }
    }

    fn try_page(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        caller: &str,
        target: &str,
    ) -> Result<(), Refusal> {
        let phones = self.page_phones(now, caller, target)?;
        if self.media_relay.is_none() {
            return Err((503, "paging needs the media relay"));
        }
        let offer = sdp::parse(&req.body).map_err(|_| (488, "paging needs an offer"))?;
        let codec =
            pickup::common_voice_codec(&offer, &offer).ok_or((488, "paging needs G.711"))?;
        let payload_type = if codec == Codec::Pcmu { 0 } else { 8 };
        let (call_id, remote_tag, remote_target) =
            dialog_of(req).ok_or((400, "incomplete INVITE"))?;
        if self
            .calls
            .by_a
            .contains_key(&(call_id.clone(), remote_tag.clone()))
        {
            return Err((482, "merged request"));
        }
        let ports = self
            .media_relay
            .as_mut()
            .and_then(|r| r.open())
            .ok_or((503, "no media ports"))?;
        let admitted = setup::Admitted {
            callee: format!("page-{target}"),
            first: setup::First::Feature,
            visited: Vec::new(),
            call_id,
            remote_tag,
            remote_target,
            timer_terms: None,
            reliable: false,
            media: Some(ports),
        };
        let id = self.insert_call(now, source, tx, req.clone(), caller.to_string(), admitted);
        if let Some(call) = self.calls.calls.get_mut(&id) {
            call.page = Some(Page {
                answer_by: Some(now + PAGE_ANSWER_TIME),
            });
        }
        if let Err(why) = self.answer_by_pbx(now, id) {
            self.refuse_ringing(now, id, 488, why.into());
            return Ok(());
        }
        let sent = phones
            .iter()
            .filter(|(ext, b)| self.send_page_fork(now, id, ext, b, payload_type))
            .count();
        tracing::info!(caller, target, phones = sent, "page");
        if sent == 0 {
            self.page_check_end(now, id);
        }
        self.calls.schedule(id);
        Ok(())
    }

    /// The phones to page: every registered contact of the target's extensions that is
    /// free (not in a call, not on do-not-disturb) and not the caller's.
    fn page_phones(
        &self,
        now: Instant,
        caller: &str,
        target: &str,
    ) -> Result<Vec<(String, Binding)>, Refusal> {
        let extensions = match self.features.group(target) {
            Some(g) => g.members.clone(),
            None if self.directory.get(target).is_some() => vec![target.to_string()],
            None => return Err((404, "no hunt group or extension to page")),
        };
        let phones: Vec<(String, Binding)> = extensions
            .iter()
            .filter(|e| *e != caller && !self.calls.presence.in_call(e))
            .filter(|e| !self.features.user_at(e).is_some_and(|u| u.dnd))
            .flat_map(|e| {
                self.location
                    .bindings(self.features.device_of(e))
                    .iter()
                    .filter(|b| b.expires_at > now)
                    .map(move |b| (e.clone(), b.clone()))
            })
            .collect();
        if phones.is_empty() {
            return Err((480, "nobody free to page"));
        }
        Ok(phones)
    }

    /// Pages one phone: a party of the call's relay session that hears the caller, and an
    /// INVITE asking the phone to answer by itself. False when either could not be had.
    fn send_page_fork(
        &mut self,
        now: Instant,
        id: u64,
        extension: &str,
        b: &Binding,
        payload_type: u8,
    ) -> bool {
        let Some(ports) = self.calls.calls.get(&id).and_then(|c| c.media) else {
            return false;
        };
        let Some(relay) = self.media_relay.as_mut() else {
            return false;
        };
        let Some(party) = relay.add_party(ports.session, PartyRole::HearsCaller, payload_type)
        else {
            return false;
        };
        let sent = match self.fork_invite(id, b) {
            Some((mut invite, dest)) => {
                let ip = self.side_ip(&b.registrar);
                invite.body = page_offer(ip, party.port, payload_type);
                let h = &mut invite.headers;
                h.set(HeaderName::ContentType, "application/sdp");
                h.push(HeaderName::Other("Answer-Mode".into()), "Auto");
                h.push(
                    HeaderName::Other("Call-Info".into()),
                    format!("<sip:{}>;answer-after=0", b.registrar),
                );
                h.push(
                    HeaderName::Other("Alert-Info".into()),
                    format!("<sip:{}>;info=alert-autoanswer;delay=0", b.registrar),
                );
                self.launch_fork(now, id, extension, invite, dest, Some(party.party))
            }
            None => false,
        };
        if !sent {
            if let Some(relay) = self.media_relay.as_mut() {
                relay.remove_party(ports.session, party.party);
            }
        }
        sent
    }

    /// Ends the page once no phone is left ringing or listening: the caller gets BYE.
    pub(super) fn page_check_end(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        let live = call.forks.iter().any(|f| {
            matches!(
                f.state,
                ForkState::Calling | ForkState::Early | ForkState::Answered
            )
        });
        if live {
            return;
        }
        if let Some((bye, peer)) = self.a_request(id, Method::Bye) {
            if let Err(e) = self.transactions.send_request(now, bye, peer) {
                tracing::debug!(error = %e, "BYE to pager not sent");
            }
        }
        self.end_call(now, id, "page over");
    }

    /// The answer time is up: phones still ringing get CANCEL.
    pub(super) fn page_answer_time_up(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let Some(page) = call.page.as_mut() else {
            return;
        };
        if page.answer_by.is_none_or(|at| now < at) {
            return;
        }
        page.answer_by = None;
        let ringing: Vec<usize> = (0..call.forks.len())
            .filter(|&i| matches!(call.forks[i].state, ForkState::Calling | ForkState::Early))
            .collect();
        for i in ringing {
            self.cancel_fork(now, id, i);
        }
    }
}

/// The offer a paged phone gets: `payload_type` (0 PCMU or 8 PCMA) at `ip:port`, which
/// we only send from.
fn page_offer(ip: std::net::IpAddr, port: u16, payload_type: u8) -> Vec<u8> {
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let name = if payload_type == 0 { "PCMU" } else { "PCMA" };
    let session = u32::from_str_radix(&new_tag()[..8], 16).unwrap_or(1);
    format!(
        "v=0\r\no=strowger {session} 1 IN {family} {ip}\r\ns=page\r\nc=IN {family} {ip}\r\n\
         t=0 0\r\nm=audio {port} RTP/AVP {payload_type}\r\n\
         a=rtpmap:{payload_type} {name}/8000\r\na=sendonly\r\n"
    )
    .into_bytes()
}

/// The caller's dialog identifiers in its INVITE: Call-ID, From tag and Contact URI.
pub(super) fn dialog_of(req: &Request) -> Option<(String, String, String)> {
    let call_id = req.headers.get(&HeaderName::CallId)?.to_string();
    let tag = tag_of(req.headers.get(&HeaderName::From))?;
    let target = contact_uri(&req.headers)?;
    (target.starts_with("sip:") || target.starts_with("sips:")).then_some((call_id, tag, target))
}
