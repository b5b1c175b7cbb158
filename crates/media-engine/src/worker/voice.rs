//! The relay thread's side of what voicemail and auto attendants need: reading the keys
//! callers press, playing prompts once, and recording.

use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::Instant;

use crate::dtmf::DtmfReceiver;
use crate::recorder::Recorder;
use crate::relay::RelaySession;
use crate::worker::{Reply, Worker};
use crate::{
    AudioFrame, Leg, MediaError, MediaEvent, Music, RecordOptions, RecordSource, RecordingId,
    RecordingStats, SessionId,
};

/// Commands for voicemail and auto attendants, carried by `Command::Voice`.
#[derive(Debug)]
pub(crate) enum VoiceCommand {
    /// Reads telephone-events of this payload type on the leg (`None`: stops).
    SetDtmf {
        id: SessionId,
        leg: Leg,
        payload_type: Option<u8>,
        reply: Reply<()>,
    },
    /// Plays `music` once to the leg (payload type checked by the engine: 0 or 8).
    Play {
        id: SessionId,
        leg: Leg,
        music: Arc<Music>,
        payload_type: u8,
        tag: u64,
        reply: Reply<()>,
    },
    /// Cuts the leg's prompt short; replies whether one played.
    StopPlay {
        id: SessionId,
        leg: Leg,
        reply: Reply<bool>,
    },
    StartRecording {
        id: SessionId,
        recording: RecordingId,
        source: RecordSource,
        options: RecordOptions,
        frames: SyncSender<AudioFrame>,
        reply: Reply<()>,
    },
    /// Pauses (`pause`) or resumes a recording.
    PauseRecording {
        id: SessionId,
        recording: RecordingId,
        pause: bool,
        reply: Reply<()>,
    },
    /// Ends a recording; replies with its statistics once its channel is closed.
    StopRecording {
        id: SessionId,
        recording: RecordingId,
        reply: Reply<RecordingStats>,
    },
}

impl Worker {
    pub(super) fn execute_voice(&mut self, command: VoiceCommand) {
        // A clone (an `Arc`), so that events can be sent while a leg is borrowed.
        let events = self.events.clone();
        match command {
            VoiceCommand::SetDtmf {
                id,
                leg,
                payload_type,
                reply,
            } => {
                let result = self.leg_mut(id, leg).map(|l| {
                    // The same type again keeps what the receiver remembers, so that a
                    // repeated answer does not report the press under way twice.
                    if l.dtmf.as_ref().map(DtmfReceiver::payload_type) != payload_type {
                        l.dtmf = payload_type.map(DtmfReceiver::new);
                    }
                });
                let _ = reply.send(result);
            }
            VoiceCommand::Play {
                id,
                leg,
                music,
                payload_type,
                tag,
                reply,
            } => {
                let now = Instant::now();
                let result = self.leg_mut(id, leg).map(|l| {
                    tracing::debug!(session = %id, ?leg, music = music.name(), tag, "prompt starts");
                    if music.encoded(payload_type).is_none_or(<[u8]>::is_empty) {
                        // Nothing to play: it ends at once, like a prompt that ran out.
                        l.interrupt_prompt(id, leg.key(), now, &events);
                        return true;
                    }
                    let relayed = l.relayed;
                    if let Some(before) = l.music.play(now, music, payload_type, tag, relayed) {
                        events.emit(MediaEvent::PlayFinished {
                            session: id,
                            leg,
                            tag: before,
                            interrupted: true,
                        });
                    }
                    false
                });
                match result {
                    Ok(true) => events.emit(MediaEvent::PlayFinished {
                        session: id,
                        leg,
                        tag,
                        interrupted: false,
                    }),
                    Ok(false) => self.timers_changed(id, now),
                    Err(_) => {}
                }
                let _ = reply.send(result.map(drop));
            }
            VoiceCommand::StopPlay { id, leg, reply } => {
                let now = Instant::now();
                let result = self
                    .leg_mut(id, leg)
                    .map(|l| l.interrupt_prompt(id, leg.key(), now, &events));
                if let Ok(true) = result {
                    // The leg may go back to a mix, due at once.
                    self.timers_changed(id, now);
                }
                let _ = reply.send(result);
            }
            VoiceCommand::StartRecording {
                id,
                recording,
                source,
                options,
                frames,
                reply,
            } => {
                let now = Instant::now();
                let key = match source {
                    RecordSource::Leg(leg) => self.leg_mut(id, leg).map(|_| Some(leg.key())),
                    RecordSource::Mixed => self.session_mut(id).map(|_| None),
                };
                let result = key.and_then(|key| {
                    let recorder = Recorder::new(recording, key, &options, frames, now);
                    self.session_mut(id)?.recorders.push(recorder);
                    tracing::debug!(session = %id, %recording, ?source, "recording starts");
                    Ok(())
                });
                if result.is_ok() {
                    self.timers_changed(id, now);
                }
                let _ = reply.send(result);
            }
            VoiceCommand::PauseRecording {
                id,
                recording,
                pause,
                reply,
            } => {
                let now = Instant::now();
                let result = self.session_mut(id).and_then(|s| {
                    let recorder = recorder(s, recording)?;
                    if pause {
                        recorder.pause();
                    } else {
                        recorder.resume(now);
                    }
                    Ok(())
                });
                if result.is_ok() && !pause {
                    self.timers_changed(id, now);
                }
                let _ = reply.send(result);
            }
            VoiceCommand::StopRecording {
                id,
                recording,
                reply,
            } => {
                let result = self.session_mut(id).and_then(|s| {
                    let at = s.recorders.iter().position(|r| r.id == recording);
                    let at = at.ok_or(MediaError::UnknownRecording {
                        session: id,
                        recording,
                    })?;
                    tracing::debug!(session = %id, %recording, "recording stops");
                    Ok(s.recorders.swap_remove(at).finish(Instant::now()))
                });
                let _ = reply.send(result);
            }
        }
    }
}

/// The session's recording `id`.
fn recorder(session: &mut RelaySession, id: RecordingId) -> Result<&mut Recorder, MediaError> {
    let session_id = session.id;
    session
        .recorders
        .iter_mut()
        .find(|r| r.id == id)
        .ok_or(MediaError::UnknownRecording {
            session: session_id,
            recording: id,
        })
}
