//! The commands voicemail and auto attendants need: the keys a caller presses, prompts
//! played once, and recordings.

use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::Arc;

use crate::worker::{Command, VoiceCommand};
use crate::{
    Leg, MediaEngine, MediaError, Music, RecordOptions, RecordSource, Recording, RecordingId,
    RecordingStats, SessionId,
};

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

    /// Starts recording `source` of a session: what one leg's endpoint sends (a caller
    /// leaving a message; an unused leg B does not matter), or legs A and B mixed (call
    /// recording). The relay thread decodes G.711 (payload types 0 and 8; others are
    /// ignored and counted) and delivers 20 ms frames of 8 kHz linear samples into
    /// [`Recording::frames`], a channel of `options.queue_frames` frames, read by a
    /// consumer on another thread; when it is full, frames are dropped and counted, never
    /// waited for. Packets lost on the way are filled with silence (at most
    /// [`MAX_GAP`](crate::MAX_GAP) per gap) so that the recording lasts as long as the
    /// call; a mixed recording takes a frame every 20 ms on the relay's clock. With
    /// `options.silence_after`, [`MediaEvent::Silence`](crate::MediaEvent::Silence)
    /// reports a silent spell that long. See `recorder` for the details.
    ///
    /// A session may have several recordings. They end with
    /// [`stop_recording`](Self::stop_recording), or with the session.
    ///
    /// Errors: [`MediaError::InvalidLeg`] for a leg not in the session, and those of
    /// every command.
    pub fn start_recording(
        &self,
        session: SessionId,
        source: RecordSource,
        options: RecordOptions,
    ) -> Result<Recording, MediaError> {
        let id = RecordingId(self.next_recording.fetch_add(1, Ordering::Relaxed));
        let (frames, receiver) = mpsc::sync_channel(options.queue_frames.max(1));
        self.ask(session, |reply| {
            Command::Voice(VoiceCommand::StartRecording {
                id: session,
                recording: id,
                source,
                options,
                frames,
                reply,
            })
        })?;
        Ok(Recording {
            id,
            frames: receiver,
        })
    }

    /// Pauses a recording (a call put on hold): nothing is recorded, no gap is filled for
    /// the pause, and no silence is detected, until
    /// [`resume_recording`](Self::resume_recording). Pausing a paused one changes
    /// nothing.
    ///
    /// Errors: [`MediaError::UnknownRecording`] and those of every command.
    pub fn pause_recording(
        &self,
        session: SessionId,
        recording: RecordingId,
    ) -> Result<(), MediaError> {
        self.ask(session, |reply| {
            Command::Voice(VoiceCommand::PauseRecording {
                id: session,
                recording,
                pause: true,
                reply,
            })
        })
    }

    /// Resumes a paused recording (resuming one that runs changes nothing).
    ///
    /// Errors: [`MediaError::UnknownRecording`] and those of every command.
    pub fn resume_recording(
        &self,
        session: SessionId,
        recording: RecordingId,
    ) -> Result<(), MediaError> {
        self.ask(session, |reply| {
            Command::Voice(VoiceCommand::PauseRecording {
                id: session,
                recording,
                pause: false,
                reply,
            })
        })
    }

    /// Ends a recording: a last part-filled frame goes out padded with silence, then the
    /// channel closes (the consumer's `recv` fails once it has taken every frame).
    /// Returns what the recording did: frames delivered and dropped, packets ignored.
    ///
    /// Errors: [`MediaError::UnknownRecording`] and those of every command.
    pub fn stop_recording(
        &self,
        session: SessionId,
        recording: RecordingId,
    ) -> Result<RecordingStats, MediaError> {
        self.ask(session, |reply| {
            Command::Voice(VoiceCommand::StopRecording {
                id: session,
                recording,
                reply,
            })
        })
    }
}
