//! Hold and music on hold (RFC 3264 §8.4; RFC 6337 §5.3 on how phones spell hold).
//!
//! A party that holds the other offers `a=sendonly` (it may still send, say its own
//! music) or `a=inactive` (nothing either way), at session or media level, or the old
//! `c=0.0.0.0`, in a re-INVITE or UPDATE. When the call's media runs through the relay,
//! the held party hears music from the server instead:
//!
//! ```text
//!   X ──re-INVITE (sendonly | inactive)──▶ PBX ──re-INVITE (sendonly)──▶ Y
//!   X ◀──200 (recvonly | inactive)──────── PBX ◀──200 (recvonly)──────── Y
//!                                   relay: music to Y, as PCMU or PCMA as Y answered
//!   X ──re-INVITE (sendrecv | recvonly)──▶ PBX ──re-INVITE ─────────────▶ Y
//!   X ◀──200 ───────────────────────────── PBX ◀──200 ────────────────── Y
//!                                   relay: the music stops, X and Y hear each other
//! ```
//!
//! Y is always offered `sendonly`, so that it answers `recvonly` and plays what it
//! receives; an `inactive` offer is turned into `sendonly` on the way, and Y's answer into
//! `inactive` on the way back, so that X gets the answer its offer asks for. The music
//! starts (or stops) when Y accepts the offer (its 2xx): a refused re-INVITE changes
//! nothing, and neither does an answer in which Y receives nothing. For a re-INVITE without SDP, the offer is in Y's own 2xx, so Y is the one
//! holding; the music then starts at once, in the first of PCMU/PCMA Y offered.
//!
//! Which music: that of the party who holds — its user's `music_on_hold`, or, for a
//! callee who answered a hunt-group call, the group's — else the system's.
//!
//! Not here: hold announced in the first INVITE of a call, and music when media flows
//! directly between the phones (no relay to play it).

use super::*;
use sdp::{Codec, Direction, SessionDescription};

/// What an offer from one party says about holding the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HoldOffer {
    /// It holds the other party; `inactive`: with `a=inactive`, so the answer it gets
    /// must say `inactive` too.
    Hold {
        /// The offer said `inactive` (rewritten to `sendonly` for the held party).
        inactive: bool,
    },
    /// It sends and receives again (or only receives): it holds nobody.
    Resume,
}

/// Who hears music in a call: the party on the other side of each hold.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct HoldState {
    music_to_caller: bool,
    music_to_callee: bool,
}

impl HoldState {
    fn get(&self, side: Side) -> bool {
        match side {
            Side::Caller => self.music_to_caller,
            Side::Callee => self.music_to_callee,
        }
    }

    fn set(&mut self, side: Side, on: bool) {
        match side {
            Side::Caller => self.music_to_caller = on,
            Side::Callee => self.music_to_callee = on,
        }
    }

    /// Music plays to either party: the call is on hold (or a party hears ringback).
    pub(super) fn any(&self) -> bool {
        self.music_to_caller || self.music_to_callee
    }

    /// The call turned around: each party is now on the other side.
    pub(super) fn swap(&mut self) {
        std::mem::swap(&mut self.music_to_caller, &mut self.music_to_callee);
    }
}

/// The first audio stream that is not refused (port 0).
fn first_audio(sd: &SessionDescription) -> Option<usize> {
    sd.media
        .iter()
        .position(|m| m.media == "audio" && m.port != 0)
}

/// Reads an offer for hold, turning `a=inactive` into `a=sendonly` in `body` (the held
/// party then answers `recvonly` and plays what it receives: the music). `None` when the
/// body is not a description with an audio stream.
pub(crate) fn read_offer(body: &mut Vec<u8>) -> Option<HoldOffer> {
    let mut sd = sdp::parse(body).ok()?;
    let i = first_audio(&sd)?;
    match sd.direction(i)? {
        Direction::SendRecv | Direction::RecvOnly => Some(HoldOffer::Resume),
        Direction::SendOnly => Some(HoldOffer::Hold { inactive: false }),
        Direction::Inactive => {
            // `c=0.0.0.0` with `recvonly` is also inactive; the relay's address replaces
            // it when the body is anchored, and the attribute then says it all.
            sd.set_direction(i, Direction::SendOnly).ok()?;
            *body = sd.to_bytes();
            Some(HoldOffer::Hold { inactive: true })
        }
    }
}

/// The payload type to play music in to the author of `body`: the first of PCMU and
/// PCMA in its audio stream. With `must_receive` (`body` is the held party's answer),
/// `None` when it answered that it receives nothing (`inactive`, `sendonly`).
pub(crate) fn music_payload_type(body: &[u8], must_receive: bool) -> Option<u8> {
    let sd = sdp::parse(body).ok()?;
    let i = first_audio(&sd)?;
    if must_receive && !sd.direction(i)?.receives() {
        return None;
    }
    sd.media[i]
        .codecs()
        .iter()
        .find(|c| matches!(c, Codec::Pcmu | Codec::Pcma))
        .map(Codec::payload_type)
}

/// `body` with the direction of its first audio stream set to `direction`; unchanged if
/// it is not a description with an audio stream.
pub(crate) fn with_direction(body: Vec<u8>, direction: Direction) -> Vec<u8> {
    let Ok(mut sd) = sdp::parse(&body) else {
        return body;
    };
    match first_audio(&sd) {
        Some(i) if sd.set_direction(i, direction).is_ok() => sd.to_bytes(),
        _ => body,
    }
}

impl Pbx {
    /// Reads an offer relayed in call `id` for hold (see [`read_offer`]); only when the
    /// call's media runs through the relay, which is what plays the music.
    pub(super) fn hold_offer(&self, id: u64, body: &mut Vec<u8>) -> Option<HoldOffer> {
        let call = self.calls.calls.get(&id)?;
        if call.media.is_none() || body.is_empty() {
            return None;
        }
        read_offer(body)
    }

    /// The other party accepted `holder`'s offer: music starts to it, in the payload type
    /// its answer `held_sdp` names (unless it answered that it receives nothing), or stops.
    /// For an offer in a 2xx, `held_sdp` is that offer (the answer comes later, in the
    /// ACK): `answered` false.
    pub(super) fn apply_hold(
        &mut self,
        id: u64,
        holder: Side,
        offer: HoldOffer,
        held_sdp: &[u8],
        answered: bool,
    ) {
        let held = holder.other();
        match offer {
            HoldOffer::Resume => self.stop_music(id, held),
            HoldOffer::Hold { .. } => {
                let Some(call) = self.calls.calls.get(&id) else {
                    return;
                };
                let Some(ports) = call.media else {
                    return;
                };
                let Some(payload_type) = music_payload_type(held_sdp, answered) else {
                    tracing::debug!(
                        call = id,
                        "held party receives nothing, or neither PCMU nor PCMA: no music"
                    );
                    return;
                };
                let music = self.hold_music(call, holder);
                if let Some(relay) = self.media_relay.as_mut() {
                    relay.start_music(ports.session, held, music.as_deref(), payload_type);
                }
                if let Some(call) = self.calls.calls.get_mut(&id) {
                    call.hold.set(held, true);
                }
            }
        }
        self.recording_hold_changed(id);
    }

    /// Plays the ringback tone to `side` (a transferred caller waiting for the target), in
    /// the first G.711 codec of the description it last had from us; stopped like music.
    pub(super) fn play_ringback(&mut self, id: u64, side: Side) {
        self.stop_music(id, side);
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let (Some(ports), Some(payload_type)) =
            (call.media, music_payload_type(&call.a.last_sdp, false))
        else {
            return;
        };
        call.hold.set(side, true);
        if let Some(relay) = self.media_relay.as_mut() {
            relay.start_music(
                ports.session,
                side,
                Some(crate::media::RINGBACK_TONE),
                payload_type,
            );
        }
        self.recording_hold_changed(id);
    }

    /// Tells a caller waiting in a queue its place, then plays `music` (the group's; `None`
    /// the system's), replacing what it heard.
    pub(super) fn play_queue_announcement(
        &mut self,
        id: u64,
        place: usize,
        announcement: &crate::media::QueueAnnouncement,
        music: Option<&str>,
    ) {
        self.stop_music(id, Side::Caller);
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        let (Some(ports), Some(payload_type)) =
            (call.media, music_payload_type(&call.a.last_sdp, false))
        else {
            return;
        };
        call.hold.set(Side::Caller, true);
        if let Some(relay) = self.media_relay.as_mut() {
            relay.start_queue_announcement(
                ports.session,
                Side::Caller,
                place,
                announcement,
                music,
                payload_type,
            );
        }
    }

    /// Stops the music to `side`, if it plays.
    pub(super) fn stop_music(&mut self, id: u64, side: Side) {
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return;
        };
        if !call.hold.get(side) {
            return;
        }
        call.hold.set(side, false);
        if let (Some(ports), Some(relay)) = (call.media, self.media_relay.as_mut()) {
            relay.stop_music(ports.session, side);
        }
        self.recording_hold_changed(id);
    }

    /// Stops every music of a call that is ending (before its relay session closes).
    pub(super) fn stop_all_music(&mut self, call: &Call) {
        let Some(ports) = call.media else {
            return;
        };
        for side in [Side::Caller, Side::Callee] {
            if call.hold.get(side) {
                if let Some(relay) = self.media_relay.as_mut() {
                    relay.stop_music(ports.session, side);
                }
            }
        }
    }

    /// The music configured for a hold by `holder`: the caller's user's; for the callee,
    /// the hunt group's when it answered a call to a group it is a member of (the latest
    /// such group on the call's route), else its user's. `None` is the system's.
    fn hold_music(&self, call: &Call, holder: Side) -> Option<String> {
        let music = |number: &str| self.features.music_on_hold(number).map(str::to_string);
        match holder {
            Side::Caller => music(&call.caller),
            Side::Callee => {
                let extension = call
                    .winner
                    .and_then(|i| call.forks.get(i))?
                    .extension
                    .as_str();
                call.route
                    .visited
                    .iter()
                    .rev()
                    .filter(|n| {
                        self.features
                            .group(n)
                            .is_some_and(|g| g.members.iter().any(|m| m == extension))
                    })
                    .find_map(|n| music(n))
                    .or_else(|| music(extension))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=x 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 9 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";

    fn offer(extra_session: &str, extra_media: &str) -> Vec<u8> {
        OFFER
            .replace("t=0 0\r\n", &format!("t=0 0\r\n{extra_session}"))
            .replace(
                "a=rtpmap:101 telephone-event/8000\r\n",
                &format!("a=rtpmap:101 telephone-event/8000\r\n{extra_media}"),
            )
            .into_bytes()
    }

    #[test]
    fn every_spelling_of_hold_and_of_resume() {
        let hold = Some(HoldOffer::Hold { inactive: false });
        let inactive = Some(HoldOffer::Hold { inactive: true });
        let resume = Some(HoldOffer::Resume);
        for (session, media, expected) in [
            ("", "a=sendonly\r\n", hold),
            ("a=sendonly\r\n", "", hold),
            ("", "a=inactive\r\n", inactive),
            ("a=inactive\r\n", "", inactive),
            ("a=inactive\r\n", "a=sendrecv\r\n", resume),
            ("", "", resume),
            ("", "a=recvonly\r\n", resume),
        ] {
            let mut body = offer(session, media);
            assert_eq!(read_offer(&mut body), expected, "{session:?} {media:?}");
        }
        let mut old_style = OFFER
            .replace("IN IP4 192.0.2.1\r\nt=", "IN IP4 0.0.0.0\r\nt=")
            .into_bytes();
        assert_eq!(read_offer(&mut old_style), hold, "c=0.0.0.0");
        assert_eq!(read_offer(&mut b"not sdp".to_vec()), None);
    }

    #[test]
    fn inactive_is_offered_as_sendonly() {
        for (session, media) in [("a=inactive\r\n", ""), ("", "a=inactive\r\n")] {
            let mut body = offer(session, media);
            read_offer(&mut body);
            let sd = sdp::parse(&body).unwrap();
            assert_eq!(
                sd.direction(0),
                Some(Direction::SendOnly),
                "{session:?} {media:?}"
            );
        }
    }

    #[test]
    fn music_in_the_first_g711_codec_of_the_party() {
        assert_eq!(music_payload_type(&offer("", ""), true), Some(8));
        let pcmu_first = OFFER.replace("RTP/AVP 9 8 0", "RTP/AVP 0 8");
        assert_eq!(music_payload_type(pcmu_first.as_bytes(), true), Some(0));
        let g722_only = OFFER.replace("RTP/AVP 9 8 0 101", "RTP/AVP 9 101");
        assert_eq!(music_payload_type(g722_only.as_bytes(), true), None);
        let refused = OFFER.replace("m=audio 4000", "m=audio 0");
        assert_eq!(music_payload_type(refused.as_bytes(), true), None);
        // An answer that receives nothing gets no music; an offer (in a 2xx) may say so.
        let deaf = offer("", "a=inactive\r\n");
        assert_eq!(music_payload_type(&deaf, true), None);
        assert_eq!(music_payload_type(&offer("", "a=sendonly\r\n"), true), None);
        assert_eq!(
            music_payload_type(&offer("", "a=sendonly\r\n"), false),
            Some(8)
        );
    }

    #[test]
    fn an_answer_is_made_inactive() {
        let body = with_direction(offer("", "a=recvonly\r\n"), Direction::Inactive);
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.contains("a=inactive") && !text.contains("recvonly"),
            "{text}"
        );
        assert_eq!(
            with_direction(b"junk".to_vec(), Direction::Inactive),
            b"junk"
        );
    }
}
