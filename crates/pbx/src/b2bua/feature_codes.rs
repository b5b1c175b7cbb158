//! Short codes dialled from a phone: the setting changes at once (the core routes by it
//! from the next call) and is reported as [`PbxEvent::FeatureChanged`] for the shell to keep
//! in the configuration. The phone is answered and, once it ACKs, cleared with BYE: the
//! brief connect is its confirmation. Pickup connects the phone to a ringing call
//! (`pickup`), unpark to a parked call (`park`; parking itself is a transfer to the park
//! code); hot desking is in `hotdesk`; collecting voicemail is in `voicemail`; account
//! codes are in `account`.

use super::*;
use crate::events::FeatureChange;
use crate::shortcodes::ShortCodeFeature;

/// A confirmation call waiting for the phone's ACK before we clear it.
#[derive(Debug)]
pub(crate) struct Clearing {
    bye: Request,
    peer: Peer,
    give_up: Instant,
}

impl Pbx {
    /// The dialled string is a short code: act on it. Returns false when it is not one.
    pub(super) fn short_code(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        caller: &str,
    ) -> bool {
        let Some(dialled) = req.uri.user() else {
            return false;
        };
        let Some((feature, arg)) = self.features.short_codes().lookup(dialled) else {
            return false;
        };
        let arg = arg.to_string();
        match feature {
            ShortCodeFeature::PickupDirected => {
                self.pickup(now, source, tx, req, caller, Some(&arg));
                return true;
            }
            ShortCodeFeature::PickupGroup => {
                self.pickup(now, source, tx, req, caller, None);
                return true;
            }
            ShortCodeFeature::Unpark => {
                self.unpark(now, source, tx, req, caller, &arg);
                return true;
            }
            ShortCodeFeature::VoicemailCollect => {
                self.collect_voicemail(now, source, tx, req, caller, None);
                return true;
            }
            ShortCodeFeature::VoicemailCollectMailbox => {
                self.collect_voicemail(now, source, tx, req, caller, Some(&arg));
                return true;
            }
            ShortCodeFeature::Page => {
                self.page(now, source, tx, req, caller, &arg);
                return true;
            }
            ShortCodeFeature::Listen | ShortCodeFeature::Intrude => {
                let role = if feature == ShortCodeFeature::Listen {
                    crate::media::PartyRole::Monitor
                } else {
                    crate::media::PartyRole::Intruder
                };
                self.listen_in(now, source, tx, req, caller, &arg, role);
                return true;
            }
            _ => {}
        }
        let change = match feature {
            ShortCodeFeature::DndOn => Some(FeatureChange::Dnd(true)),
            ShortCodeFeature::DndOff => Some(FeatureChange::Dnd(false)),
            ShortCodeFeature::ForwardUnconditionalOn => {
                Some(FeatureChange::ForwardUnconditional(Some(arg.clone())))
            }
            ShortCodeFeature::ForwardUnconditionalOff => {
                Some(FeatureChange::ForwardUnconditional(None))
            }
            ShortCodeFeature::HuntGroupJoin | ShortCodeFeature::HuntGroupLeave => {
                Some(FeatureChange::HuntGroupMember {
                    group: arg.clone(),
                    joined: feature == ShortCodeFeature::HuntGroupJoin,
                })
            }
            ShortCodeFeature::NightServiceOn | ShortCodeFeature::NightServiceOff => {
                Some(FeatureChange::NightService {
                    group: arg.clone(),
                    on: feature == ShortCodeFeature::NightServiceOn,
                })
            }
            _ => None,
        };
        let Some(change) = change else {
            let mut r = self.response(req, StatusCode::NOT_IMPLEMENTED);
            r.reason = format!("Not Implemented ({feature:?} not yet available)");
            self.send(now, tx, r, Duration::ZERO);
            return true;
        };
        if let Err(why) = self.apply_feature_change(caller, &change) {
            let mut r = self.response(req, StatusCode::NOT_FOUND);
            r.reason = format!("Not Found ({why})");
            self.send(now, tx, r, Duration::ZERO);
            return true;
        }
        self.events.push_back(PbxEvent::FeatureChanged {
            extension: caller.to_string(),
            change: change.clone(),
        });
        self.answer_and_clear(now, source, tx, req, &describe(&change));
        true
    }

    fn apply_feature_change(
        &mut self,
        extension: &str,
        change: &FeatureChange,
    ) -> Result<(), String> {
        match change {
            FeatureChange::Dnd(on) => self.features.user_at_mut(extension).dnd = *on,
            FeatureChange::ForwardUnconditional(to) => {
                self.features.user_at_mut(extension).forward.unconditional = to.clone();
            }
            FeatureChange::HuntGroupMember { group, joined } => {
                let g = self
                    .features
                    .group_mut(group)
                    .ok_or_else(|| format!("no hunt group {group}"))?;
                g.members.retain(|m| m != extension);
                if *joined {
                    g.members.push(extension.to_string());
                }
            }
            FeatureChange::NightService { group, on } => {
                self.features
                    .group_mut(group)
                    .ok_or_else(|| format!("no hunt group {group}"))?
                    .in_service = !on;
            }
            // Hot desking is done by `hotdesk`, which reports it once done.
            FeatureChange::HotDesk(_) => {}
        }
        Ok(())
    }

    /// Answers the phone (media refused: nothing is sent to it) and clears the call with
    /// BYE once it ACKs (RFC 3261 §15: not before).
    pub(super) fn answer_and_clear(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: &Request,
        what: &str,
    ) {
        let local_tag = new_tag();
        let mut ok = Response::for_request(req, StatusCode::OK);
        ok.reason = format!("OK ({what})");
        if let Some(to) = ok.headers.get(&HeaderName::To).map(str::to_string) {
            ok.headers
                .set(HeaderName::To, format!("{to};tag={local_tag}"));
        }
        let local_host = host_port(&req.uri);
        // The request URI as our Contact: its user part comes back escaped ('#' as %23).
        ok.headers
            .push(HeaderName::Contact, format!("<{}>", req.uri));
        ok.headers
            .push(HeaderName::Server, self.settings.server_name.clone());
        ok.headers.push(HeaderName::ContentType, "application/sdp");
        ok.body = no_media(&req.body);
        self.respond_now(now, tx, ok.clone());

        let (Some(call_id), Some(remote_tag), Some(target)) = (
            req.headers.get(&HeaderName::CallId).map(str::to_string),
            tag_of(req.headers.get(&HeaderName::From)),
            contact_uri(&req.headers).and_then(|c| c.parse::<Uri>().ok()),
        ) else {
            return;
        };
        let mut bye = Request::new(Method::Bye, target);
        bye.headers.push(
            HeaderName::Via,
            format!(
                "SIP/2.0/{} {local_host};branch={};rport",
                via_transport(source),
                new_branch()
            ),
        );
        bye.headers.push(HeaderName::MaxForwards, "70");
        if let Some(to) = ok.headers.get(&HeaderName::To) {
            bye.headers.push(HeaderName::From, to.to_string());
        }
        if let Some(from) = req.headers.get(&HeaderName::From) {
            bye.headers.push(HeaderName::To, from.to_string());
        }
        bye.headers.push(HeaderName::CallId, call_id.clone());
        bye.headers.push(HeaderName::CSeq, "1 BYE");
        bye.headers
            .push(HeaderName::UserAgent, self.settings.server_name.clone());
        let give_up = now + self.transactions.config().t1 * 64;
        self.calls.clearing.insert(
            (call_id, remote_tag),
            Clearing {
                bye,
                peer: source,
                give_up,
            },
        );
    }

    /// The ACK for a confirmation's 2xx: clear the call. False when it was not one.
    pub(super) fn clear_confirmed(&mut self, now: Instant, key: &(String, String)) -> bool {
        let Some(c) = self.calls.clearing.remove(key) else {
            return false;
        };
        if let Err(e) = self.transactions.send_request(now, c.bye, c.peer) {
            tracing::debug!(error = %e, "BYE for a short code not sent");
        }
        true
    }

    /// Forgets confirmations whose ACK never came.
    pub(super) fn sweep_clearing(&mut self, now: Instant) {
        self.calls.clearing.retain(|_, c| c.give_up > now);
    }
}

/// In words, for the 200's reason phrase (shown in traces, and by some phones).
pub(super) fn describe(change: &FeatureChange) -> String {
    match change {
        FeatureChange::Dnd(true) => "do not disturb on".into(),
        FeatureChange::Dnd(false) => "do not disturb off".into(),
        FeatureChange::ForwardUnconditional(Some(to)) => format!("forwarding to {to}"),
        FeatureChange::ForwardUnconditional(None) => "forwarding off".into(),
        FeatureChange::HuntGroupMember {
            group,
            joined: true,
        } => format!("joined {group}"),
        FeatureChange::HuntGroupMember { group, .. } => format!("left {group}"),
        FeatureChange::NightService { group, on: true } => format!("{group} night service"),
        FeatureChange::NightService { group, .. } => format!("{group} in service"),
        FeatureChange::HotDesk(Some(at)) => format!("logged in on {at}"),
        FeatureChange::HotDesk(None) => "logged out".into(),
    }
}

/// A session description that refuses every stream of the offer (port 0, RFC 3264 §6), or
/// offers one refused audio stream when there was no offer.
fn no_media(offer: &[u8]) -> Vec<u8> {
    if let Ok(mut sd) = sdp::parse(offer) {
        for i in 0..sd.media.len() {
            let _ = sd.set_port(i, 0);
        }
        return sd.to_bytes();
    }
    b"v=0\r\no=strowger 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n"
        .to_vec()
}
