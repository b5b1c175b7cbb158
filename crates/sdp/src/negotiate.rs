//! Offer/answer (RFC 3264) for audio: building our offer, and answering a peer's.
//!
//! The B2BUA answers each leg itself, with the relay's address and ports, so the rules
//! here are the answerer's duties of RFC 3264 §6: one answer stream per offer stream in
//! the same order, unsupported or unwanted streams rejected with port 0, the offerer's
//! payload type numbers and order of preference kept, and the direction mirrored.

use std::net::IpAddr;

use crate::codec::{Codec, TELEPHONE_EVENT_FMTP};
use crate::direction::Direction;
use crate::model::{Attribute, Connection, MediaDescription, Origin, SessionDescription};

/// What we can do, and where we receive: the input of [`offer`] and [`answer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalCapabilities {
    /// `sess-id` of our `o=`: unique per leg (pick it at random).
    pub session_id: u64,
    /// `sess-version` of our `o=`: one more for each changed description in the dialog.
    pub session_version: u64,
    /// The address we receive media on, written in `o=` and the session `c=`.
    pub address: IpAddr,
    /// Our RTP port per media section index. An offer gets one audio stream per entry; an
    /// answer accepts offer stream `i` only on `ports[i]` (missing or 0: rejected).
    pub ports: Vec<u16>,
    /// Codecs we support, in our order of preference (used for offers; answers keep the
    /// offerer's order). `TelephoneEvent { pt }` gives the number we offer with.
    pub codecs: Vec<Codec>,
    /// `a=ptime` to ask for, if any.
    pub ptime: Option<u32>,
    /// What we want: `SendRecv` normally, `SendOnly` or `Inactive` when we hold.
    pub direction: Direction,
}

impl LocalCapabilities {
    /// G.711 µ-law, A-law and `telephone-event` at 101, 20 ms packets, send and receive.
    pub fn new(session_id: u64, address: IpAddr, ports: Vec<u16>) -> Self {
        LocalCapabilities {
            session_id,
            session_version: 0,
            address,
            ports,
            codecs: vec![Codec::Pcmu, Codec::Pcma, Codec::TelephoneEvent { pt: 101 }],
            ptime: Some(20),
            direction: Direction::SendRecv,
        }
    }

    fn supports(&self, offered: &Codec) -> bool {
        self.codecs.iter().any(|c| c.same_format(offered))
    }

    /// The skeleton both offers and answers start from: `o=`, `s=-`, `c=`, `t=0 0`.
    fn description(&self) -> SessionDescription {
        let origin = Origin::new(self.session_id, self.session_version, self.address);
        let mut sdp = SessionDescription::new(origin);
        sdp.connection = Some(Connection::new(self.address));
        sdp
    }
}

/// Why no answer could be made. The caller refuses the offer with 488 Not Acceptable Here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NegotiationError {
    /// No stream of the offer is RTP/AVP audio with a voice codec we support (on a port we
    /// were given), including an offer without any media.
    #[error("no common codec in any audio stream")]
    NoCommonCodec,
}

/// Our offer: one `RTP/AVP` audio stream per port in `local.ports`, with our codecs in our
/// order, for calls we place, late offer (an INVITE without SDP) and re-INVITEs.
///
/// An empty codec list offers PCMU, since an `m=` line needs a format and every SIP phone
/// has that one.
pub fn offer(local: &LocalCapabilities) -> SessionDescription {
    let fallback = [Codec::Pcmu];
    let codecs = if local.codecs.is_empty() {
        &fallback[..]
    } else {
        &local.codecs[..]
    };
    let mut sdp = local.description();
    for &port in &local.ports {
        let media = audio_section(port, codecs, None, local.ptime, local.direction);
        sdp.media.push(media);
    }
    sdp
}

/// Our answer to an offer (RFC 3264 §6).
///
/// Each audio `RTP/AVP` stream with at least one voice codec we support is accepted on our
/// port for its index, with the common codecs in the offerer's order and the offerer's
/// payload types, `telephone-event` included (RFC 4733 §2.5.1). Its direction mirrors the
/// offer's (`sendonly` → `recvonly`, `recvonly` → `sendonly`, `inactive` → `inactive`, and
/// `c=0.0.0.0` counts as hold), narrowed by `local.direction`. Every other stream is
/// answered with port 0 and the offer's formats, so the `m=` lines still line up. `t=` is
/// copied from the offer, as §6 requires.
pub fn answer(
    offer: &SessionDescription,
    local: &LocalCapabilities,
) -> Result<SessionDescription, NegotiationError> {
    let mut sdp = local.description();
    if !offer.times.is_empty() {
        sdp.times.clone_from(&offer.times);
    }
    let mut accepted = false;
    for (index, offered) in offer.media.iter().enumerate() {
        let media = match accept(offer, index, local) {
            Some(media) => {
                accepted = true;
                media
            }
            None => rejected(offered),
        };
        sdp.media.push(media);
    }
    if accepted {
        Ok(sdp)
    } else {
        Err(NegotiationError::NoCommonCodec)
    }
}

/// The answer stream for offer stream `index`, if we can take it.
fn accept(
    offer: &SessionDescription,
    index: usize,
    local: &LocalCapabilities,
) -> Option<MediaDescription> {
    let offered = offer.media.get(index)?;
    // RTP/SAVP (SDES) and AVPF would need an answer in the same profile, which the relay
    // does not speak yet: refusing the stream is the honest answer.
    let audio = offered.media.eq_ignore_ascii_case("audio")
        && offered.protocol.eq_ignore_ascii_case("RTP/AVP");
    if !audio || offered.port == 0 {
        return None;
    }
    let port = local.ports.get(index).copied().filter(|&p| p != 0)?;
    let mut chosen: Vec<Codec> = Vec::new();
    for codec in offered.codecs() {
        let pt = codec.payload_type();
        let duplicate = chosen.iter().any(|c| {
            c.payload_type() == pt
                || matches!(
                    (c, &codec),
                    (Codec::TelephoneEvent { .. }, Codec::TelephoneEvent { .. })
                )
        });
        if !duplicate && local.supports(&codec) {
            chosen.push(codec);
        }
    }
    if !chosen.iter().any(Codec::is_voice) {
        return None;
    }
    let direction = offer
        .direction(index)?
        .reversed()
        .intersect(local.direction);
    Some(audio_section(
        port,
        &chosen,
        Some(offered),
        local.ptime,
        direction,
    ))
}

/// A rejected stream: same media and protocol, port 0, the offer's formats (RFC 3264 §6
/// asks for at least one and suggests these).
fn rejected(offered: &MediaDescription) -> MediaDescription {
    MediaDescription::new(
        offered.media.clone(),
        0,
        offered.protocol.clone(),
        offered.formats.clone(),
    )
}

/// An `m=audio` section with an `a=rtpmap` per codec, the `a=fmtp` each needs, `a=ptime`
/// and an explicit direction (phones differ on defaults; stating it avoids the question).
fn audio_section(
    port: u16,
    codecs: &[Codec],
    offered: Option<&MediaDescription>,
    ptime: Option<u32>,
    direction: Direction,
) -> MediaDescription {
    let formats = codecs
        .iter()
        .map(|c| c.payload_type().to_string())
        .collect();
    let mut media = MediaDescription::new("audio", port, "RTP/AVP", formats);
    for codec in codecs {
        let pt = codec.payload_type();
        if let Some(map) = codec.rtpmap() {
            media
                .attributes
                .push(Attribute::with_value("rtpmap", map.to_string()));
        }
        let params = match codec {
            Codec::TelephoneEvent { .. } => Some(TELEPHONE_EVENT_FMTP),
            // Another codec's parameters are the offerer's to set; echoing them is the
            // safe choice for the codecs a caller may add (G.722 has none, Opus's are
            // symmetric).
            Codec::Other { .. } => offered.and_then(|o| o.fmtp(&pt.to_string())),
            Codec::Pcmu | Codec::Pcma => None,
        };
        if let Some(params) = params {
            media
                .attributes
                .push(Attribute::with_value("fmtp", format!("{pt} {params}")));
        }
    }
    if let Some(ptime) = ptime {
        media
            .attributes
            .push(Attribute::with_value("ptime", ptime.to_string()));
    }
    media.attributes.push(Attribute::flag(direction.as_str()));
    media
}
