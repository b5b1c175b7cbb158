//! The commands voicemail and auto attendants need: the keys a caller presses, prompts
//! played once.

use std::sync::Arc;

use crate::worker::{Command, VoiceCommand};
use crate::{Leg, MediaEngine, MediaError, Music, SessionId};

impl MediaEngine {
    /// Tells the engine which payload type `leg`'s endpoint uses for RFC 4733
    /// telephone-events (from its SDP: `a=rtpmap:101 telephone-event/8000`), so that each
    /// key it presses is reported once as a [`MediaEvent::Digit`](crate::MediaEvent::Digit),
    /// as soon as the press starts. `None` stops reading keys. The events are relayed to
    /// the other leg as before, when the session relays.
    ///
    /// Errors: [`MediaError::DtmfPayloadType`] for a payload type outside 96–127, and
    /// those of every command.
    pub fn set_dtmf_payload_type(
        &self,
        session: SessionId,
        leg: Leg,
        payload_type: Option<u8>,
    ) -> Result<(), MediaError> {
        if let Some(pt) = payload_type.filter(|pt| !(96..=127).contains(pt)) {
            return Err(MediaError::DtmfPayloadType(pt));
        }
        self.ask(session, |reply| {
            Command::Voice(VoiceCommand::SetDtmf {
                id: session,
                leg,
                payload_type,
                reply,
            })
        })
    }

    /// Plays `music` once to a leg's endpoint (a greeting, a menu, a beep; a sequence of
    /// prompts joined with [`Music::joined`]), in place of what the leg hears, then
    /// reports [`MediaEvent::PlayFinished`](crate::MediaEvent::PlayFinished) with `tag`
    /// and goes back to what the leg heard before: the music on hold the prompt
    /// interrupted (where it was), else its mix, else the other leg's media; for a leg
    /// with no other party, the relay stops sending. It is the leg's own stream, like
    /// music: `payload_type` 0 (PCMU) or 8 (PCMA), one 20 ms packet every 20 ms, the
    /// sequence numbers and timestamps continuing what the endpoint received last, the
    /// last packet padded with silence.
    ///
    /// A prompt is in front of music: [`start_music`](Self::start_music) and
    /// [`stop_music`](Self::stop_music) while it plays change what follows it. Another
    /// `play` replaces it (its `PlayFinished` says `interrupted`). An empty piece is
    /// reported finished at once.
    ///
    /// Errors: [`MediaError::UnsupportedPayloadType`] for any payload type but 0 and 8,
    /// and those of every command.
    pub fn play(
        &self,
        session: SessionId,
        leg: Leg,
        music: Arc<Music>,
        payload_type: u8,
        tag: u64,
    ) -> Result<(), MediaError> {
        if music.encoded(payload_type).is_none() {
            return Err(MediaError::UnsupportedPayloadType(payload_type));
        }
        self.ask(session, |reply| {
            Command::Voice(VoiceCommand::Play {
                id: session,
                leg,
                music,
                payload_type,
                tag,
                reply,
            })
        })
    }

    /// Stops the prompt playing to a leg early: its
    /// [`MediaEvent::PlayFinished`](crate::MediaEvent::PlayFinished) (with `interrupted`)
    /// is delivered before this returns, and the leg goes back to what it heard before.
    /// Returns whether a prompt was playing (`false`: it had already finished, or none
    /// was started).
    pub fn stop_play(&self, session: SessionId, leg: Leg) -> Result<bool, MediaError> {
        self.ask(session, |reply| {
            Command::Voice(VoiceCommand::StopPlay {
                id: session,
                leg,
                reply,
            })
        })
    }
}
