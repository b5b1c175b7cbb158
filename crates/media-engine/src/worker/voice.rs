//! The relay thread's side of what voicemail and auto attendants need: reading the keys
//! callers press, and playing prompts once.

use std::sync::Arc;
use std::time::Instant;

use crate::dtmf::DtmfReceiver;
use crate::worker::{Reply, Worker};
use crate::{Leg, MediaEvent, Music, SessionId};

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
                    Ok(false) => self.stream_starts(id, now),
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
                    self.stream_starts(id, now);
                }
                let _ = reply.send(result);
            }
        }
    }
}
