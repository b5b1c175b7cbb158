//! The commands voicemail and auto attendants need: the keys a caller presses.

use crate::worker::{Command, VoiceCommand};
use crate::{Leg, MediaEngine, MediaError, SessionId};

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
}
