//! What only a call flow asks of the voicemail thread: the call's own recordings (a
//! `record` step, see [`crate::clips`]) and the target of a screened transfer, which is
//! on the other leg of the caller's relay session — prompts are played to it and its keys
//! heard there.

use super::{assemble, Service, SILENCE_ENDS_RECORDING};
use media_engine::{Leg, RecordOptions, RecordSource, SessionId};
use std::sync::Arc;
use voicemail::dialogue::{Input, PlayItem, PlayTag};

impl Service {
    /// Starts recording the caller into a new clip to be kept as `name`. A clip that
    /// cannot be made is logged: the flow goes on, and the clip plays as nothing.
    pub(super) fn start_clip(&mut self, id: SessionId, name: String) {
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        let writer = match self.parts.clips.start() {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "flow recording not started");
                return;
            }
        };
        let options = RecordOptions {
            silence_after: Some(SILENCE_ENDS_RECORDING),
            ..RecordOptions::default()
        };
        match self
            .parts
            .engine
            .start_recording(id, RecordSource::Leg(s.leg), options)
        {
            Ok(recording) => s.clip_recording = Some((recording, writer, name)),
            Err(e) => tracing::warn!(error = %e, "flow recording not started"),
        }
    }

    /// Ends the clip being recorded and keeps it under its name (replacing one of that
    /// name, whose file goes).
    pub(super) fn finish_clip(&mut self, id: SessionId) {
        self.drain(id);
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        let Some((recording, mut writer, name)) = s.clip_recording.take() else {
            return;
        };
        let _ = self.parts.engine.stop_recording(id, recording.id);
        // What the relay made before it stopped.
        while let Ok(frame) = recording.frames.try_recv() {
            if let Err(e) = writer.write_samples(&frame.samples) {
                tracing::warn!(error = %e, "flow recording not kept");
                return;
            }
        }
        match writer.finish() {
            Ok(clip) => {
                s.clips.insert(name, clip);
            }
            Err(e) => tracing::warn!(error = %e, "flow recording not kept"),
        }
    }

    /// Plays `items` to the screened target; the input for the dialogue at once when
    /// nothing can play (the target is gone, the engine refused).
    pub(super) fn play_to_target(
        &mut self,
        id: SessionId,
        tag: PlayTag,
        items: &[PlayItem],
    ) -> Option<Input> {
        let s = self.sessions.get_mut(&id)?;
        let Some((leg, payload_type)) = s.target else {
            return Some(Input::PlayFinished(tag));
        };
        let music = assemble(&self.parts.prompts, items, &s.clips);
        let engine_tag = self.next_tag;
        self.next_tag += 1;
        match self
            .parts
            .engine
            .play(id, leg, Arc::new(music), payload_type, engine_tag)
        {
            Ok(()) => {
                s.target_playing = Some((engine_tag, tag));
                None
            }
            Err(e) => {
                tracing::debug!(error = %e, "prompt to the screened target not played");
                s.target_playing = None;
                Some(Input::PlayFinished(tag))
            }
        }
    }

    /// The target of a screened transfer answered: its keys are heard, prompts can be
    /// played to it.
    pub(super) fn screen_answered(&mut self, answered: pbx::ScreenAnswered) {
        let Some(id) = self.session_of(answered.call) else {
            return;
        };
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        let leg = other_leg(s.leg);
        s.target = Some((leg, answered.payload_type));
        if let Err(e) = self
            .parts
            .engine
            .set_dtmf_payload_type(id, leg, answered.dtmf_payload_type)
        {
            tracing::warn!(error = %e, "the screened target's keys will not be heard");
        }
        self.feed(id, Input::ScreenAnswered);
    }

    /// The screened target is gone (or never came): nothing more plays to it or is
    /// heard from it.
    pub(super) fn forget_target(&mut self, id: SessionId) {
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        s.target_playing = None;
        if let Some((leg, _)) = s.target.take() {
            let _ = self.parts.engine.stop_play(id, leg);
            let _ = self.parts.engine.set_dtmf_payload_type(id, leg, None);
        }
    }
}

/// The other of a relay session's two legs: where a screened transfer's target is.
fn other_leg(leg: Leg) -> Leg {
    match leg {
        Leg::A => Leg::B,
        _ => Leg::A,
    }
}
