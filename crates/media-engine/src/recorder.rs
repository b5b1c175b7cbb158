//! Recording taps: what one leg's endpoint sends (a caller leaving a message), or legs A
//! and B mixed (call recording), decoded to 8 kHz linear samples and handed over in
//! 20 ms frames to a consumer on another thread (which writes the file).
//!
//! The relay thread must never wait for the consumer, so frames go through a bounded
//! channel with `try_send`: when the consumer falls behind by a whole channel, frames are
//! dropped and counted ([`RecordingStats::frames_dropped`]), never queued without end.
//!
//! One leg: each G.711 packet (payload type 0 or 8) is decoded as it arrives; frames go
//! out as they fill, so they follow the sender's clock. Packets lost on the way leave a
//! gap in the RTP timestamps, which is filled with silence (at most [`MAX_GAP`] per gap:
//! a sender that stopped for longer is not waited for) so that the recording lasts as
//! long as the call did. A packet older than the last one (a duplicate, or reordered
//! within the network's jitter) is dropped and counted as late: its place was already
//! filled. A new SSRC or a timestamp jump of more than [`MAX_GAP`] either way starts
//! afresh without a gap. Other payload types (telephone-events, comfort noise, other
//! codecs) are ignored and counted.
//!
//! A and B mixed: both legs' packets go into a [`MixInput`] (the mixer's jitter queues),
//! and the relay thread's timer takes one mixed frame every 20 ms, on its own clock.
//!
//! Silence detection, if asked for, measures each frame's energy: a frame whose RMS is
//! at or above the threshold (default [`DEFAULT_SILENCE_THRESHOLD_DBFS`]) is sound.
//! When no sound came for [`RecordOptions::silence_after`] — quiet frames, or no packets
//! at all — the relay reports [`MediaEvent::Silence`](crate::MediaEvent::Silence) once;
//! again only after sound. A paused recording takes nothing in and detects nothing;
//! resuming starts the silence clock afresh.

use std::fmt;
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::{Duration, Instant};

use crate::g711;
use crate::mixer::{audio_payload, LegKey, MixInput};
use crate::player::{FRAME, FRAME_SAMPLES};
use crate::Leg;

/// The longest gap filled with silence: 1 s of lost packets (8,000 samples).
pub const MAX_GAP: Duration = Duration::from_secs(1);
const MAX_GAP_SAMPLES: u32 = 8000;
/// The default silence threshold: an RMS of -45 dBFS (about 184 of 32,768), well above
/// the noise floor of a quiet line and well below speech (-20 to -30 dBFS).
pub const DEFAULT_SILENCE_THRESHOLD_DBFS: f64 = -45.0;
/// Mixed frames the timer may catch up in one turn (200 ms); a thread later than that
/// skips the rest, counted as dropped.
const MAX_CATCH_UP: usize = 10;

/// Identifies a recording (ids are never reused by an engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordingId(pub u64);

impl fmt::Display for RecordingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rec{}", self.0)
    }
}

/// What a recording hears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordSource {
    /// What this leg's endpoint sends: a caller leaving a message.
    Leg(Leg),
    /// Legs A and B mixed: call recording.
    Mixed,
}

/// How a recording is made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecordOptions {
    /// Report [`MediaEvent::Silence`](crate::MediaEvent::Silence) after this long without
    /// sound (at least 20 ms: shorter counts as 20 ms); `None` (the default) detects
    /// nothing.
    pub silence_after: Option<Duration>,
    /// The RMS level, in dB relative to full scale, below which a frame counts as silent
    /// (default [`DEFAULT_SILENCE_THRESHOLD_DBFS`]).
    pub silence_threshold_dbfs: f64,
    /// Frames the channel to the consumer holds (default 50: one second); at least one.
    pub queue_frames: usize,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions {
            silence_after: None,
            silence_threshold_dbfs: DEFAULT_SILENCE_THRESHOLD_DBFS,
            queue_frames: 50,
        }
    }
}

/// 20 ms of audio: 160 linear samples at 8 kHz.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioFrame {
    /// The samples, oldest first.
    pub samples: [i16; FRAME_SAMPLES],
}

impl AudioFrame {
    /// Samples in a frame.
    pub const SAMPLES: usize = FRAME_SAMPLES;
}

/// A recording that runs: its id, to pause, resume and stop it, and the frames.
///
/// The channel ends (`recv` fails) once the recording is stopped, or its session
/// destroyed, and the frames before that were taken.
#[derive(Debug)]
pub struct Recording {
    /// The id to name the recording by.
    pub id: RecordingId,
    /// The recorded audio, a frame every 20 ms of it.
    pub frames: Receiver<AudioFrame>,
}

/// What a recording did, from [`stop_recording`](crate::MediaEngine::stop_recording).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordingStats {
    /// Frames handed to the consumer.
    pub frames_delivered: u64,
    /// Frames lost because the consumer's channel was full (or gone), or the relay
    /// thread was too late to make them (mixed recordings).
    pub frames_dropped: u64,
    /// Packets of the recorded legs that were not G.711 (telephone-events, comfort noise,
    /// other codecs), or had no payload where their header said.
    pub packets_ignored: u64,
    /// Packets older than what was already recorded (duplicates, reordered): dropped.
    pub packets_late: u64,
    /// Silent samples put in for lost packets.
    pub gap_samples: u64,
}

/// Where a leg recording is in the sender's stream.
#[derive(Debug, Clone, Copy)]
struct Track {
    ssrc: u32,
    /// The timestamp the next packet should have.
    next: u32,
}

#[derive(Debug)]
enum Input {
    Leg {
        key: LegKey,
        track: Option<Track>,
        /// The frame being filled (boxed: the mixed variant is much smaller).
        frame: Box<[i16; FRAME_SAMPLES]>,
        filled: usize,
    },
    Mixed {
        mix: MixInput,
        /// When the next frame is due (`None` while paused).
        due: Option<Instant>,
    },
}

/// When a recording last heard sound.
#[derive(Debug)]
struct SilenceDetector {
    after: Duration,
    /// A frame's sum of squares at or above this is sound.
    threshold: u64,
    /// Sound was last heard (or the clock last restarted) then.
    since: Instant,
    reported: bool,
}

impl SilenceDetector {
    fn hear(&mut self, samples: &[i16; FRAME_SAMPLES], now: Instant) {
        let energy: u64 = samples
            .iter()
            .map(|&s| (i64::from(s) * i64::from(s)) as u64)
            .sum();
        if energy >= self.threshold {
            self.since = now;
            self.reported = false;
        }
    }
}

/// One recording as the relay thread holds it, in its session.
#[derive(Debug)]
pub(crate) struct Recorder {
    pub(crate) id: RecordingId,
    input: Input,
    frames: SyncSender<AudioFrame>,
    paused: bool,
    silence: Option<SilenceDetector>,
    stats: RecordingStats,
}

impl Recorder {
    /// A recording of `source` (A and B mixed when `None`) from `now`, delivering into
    /// `frames`.
    pub(crate) fn new(
        id: RecordingId,
        source: Option<LegKey>,
        options: &RecordOptions,
        frames: SyncSender<AudioFrame>,
        now: Instant,
    ) -> Self {
        let input = match source {
            Some(key) => Input::Leg {
                key,
                track: None,
                frame: Box::new([0; FRAME_SAMPLES]),
                filled: 0,
            },
            None => Input::Mixed {
                mix: MixInput::new(&[0, 1]),
                due: Some(now),
            },
        };
        let silence = options.silence_after.map(|after| {
            let rms = 32768.0 * 10f64.powf(options.silence_threshold_dbfs / 20.0);
            SilenceDetector {
                // Not zero: the check re-arms `after` later, and must not spin.
                after: after.max(FRAME),
                // A NaN threshold becomes 0: everything is sound.
                threshold: (rms * rms * FRAME_SAMPLES as f64) as u64,
                since: now,
                reported: false,
            }
        });
        Recorder {
            id,
            input,
            frames,
            paused: false,
            silence,
            stats: RecordingStats::default(),
        }
    }

    /// Takes an RTP packet (checked by the relay: version 2, a whole header) that the
    /// endpoint of leg `from` sent, at the relay thread's turn `now`.
    pub(crate) fn push(&mut self, from: LegKey, rtp: &[u8], now: Instant) {
        if self.paused {
            return;
        }
        let hears = match &self.input {
            Input::Leg { key, .. } => *key == from,
            Input::Mixed { .. } => from < 2,
        };
        if !hears {
            return;
        }
        let payload = audio_payload(rtp).filter(|(_, payload)| !payload.is_empty());
        let (decode, payload): (fn(u8) -> i16, _) = match payload {
            Some((0, payload)) => (g711::ulaw_to_linear, payload),
            Some((8, payload)) => (g711::alaw_to_linear, payload),
            _ => {
                self.stats.packets_ignored += 1;
                return;
            }
        };
        match &mut self.input {
            Input::Mixed { mix, .. } => mix.push(from, rtp),
            Input::Leg { .. } => self.push_leg(rtp, payload, decode, now),
        }
    }

    /// Records one packet of the leg: the silence of a gap before it, then its audio.
    fn push_leg(&mut self, rtp: &[u8], payload: &[u8], decode: fn(u8) -> i16, now: Instant) {
        let Recorder {
            input,
            frames,
            silence,
            stats,
            ..
        } = self;
        let Input::Leg {
            track,
            frame,
            filled,
            ..
        } = input
        else {
            return;
        };
        // `audio_payload` found a payload, so the fixed header is whole.
        let word = |at: usize| {
            rtp.get(at..at + 4)
                .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        let (timestamp, ssrc) = (word(4), word(8));
        let mut gap = 0;
        if let Some(t) = track.filter(|t| t.ssrc == ssrc) {
            let ahead = timestamp.wrapping_sub(t.next);
            let behind = t.next.wrapping_sub(timestamp);
            if behind != 0 && behind <= MAX_GAP_SAMPLES {
                stats.packets_late += 1;
                return;
            }
            if ahead <= MAX_GAP_SAMPLES {
                gap = ahead;
            }
            // Further either way: a new timeline, recorded on without a gap.
        }
        *track = Some(Track {
            ssrc,
            next: timestamp.wrapping_add(payload.len() as u32),
        });
        stats.gap_samples += u64::from(gap);
        let gap = std::iter::repeat_n(0, gap as usize);
        for sample in gap.chain(payload.iter().map(|&code| decode(code))) {
            frame[*filled] = sample;
            *filled += 1;
            if *filled == FRAME_SAMPLES {
                *filled = 0;
                deliver(frames, silence, stats, frame, now);
            }
        }
    }

    /// The relay thread's timer: makes the mixed frames due by `now` and checks for
    /// silence. Returns true when silence is to be reported.
    pub(crate) fn on_timer(&mut self, now: Instant) -> bool {
        if self.paused {
            return false;
        }
        if let Input::Mixed { due: Some(due), .. } = self.input {
            let mut due = due;
            let mut frame = [0; FRAME_SAMPLES];
            let mut made = 0;
            while due <= now {
                if made == MAX_CATCH_UP {
                    let missed = (now - due).as_micros() / FRAME.as_micros() + 1;
                    self.stats.frames_dropped += missed as u64;
                    due += FRAME * missed as u32;
                    break;
                }
                if let Input::Mixed { mix, .. } = &mut self.input {
                    mix.mix_linear(&mut frame);
                }
                deliver(
                    &self.frames,
                    &mut self.silence,
                    &mut self.stats,
                    &frame,
                    now,
                );
                due += FRAME;
                made += 1;
            }
            if let Input::Mixed { due: d, .. } = &mut self.input {
                *d = Some(due);
            }
        }
        let Some(silence) = &mut self.silence else {
            return false;
        };
        if now < silence.since + silence.after {
            return false;
        }
        // Checked again a whole `after` later (a heartbeat while silence lasts).
        silence.since = now;
        !std::mem::replace(&mut silence.reported, true)
    }

    /// When [`on_timer`](Self::on_timer) has work next: the next mixed frame, or the
    /// moment silence would have lasted long enough.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        if self.paused {
            return None;
        }
        let frame = match self.input {
            Input::Mixed { due, .. } => due,
            Input::Leg { .. } => None,
        };
        let silence = self.silence.as_ref().map(|s| s.since + s.after);
        frame.into_iter().chain(silence).min()
    }

    /// Stops taking audio in until [`resume`](Self::resume).
    pub(crate) fn pause(&mut self) {
        self.paused = true;
    }

    /// Takes audio in again: no gap is filled for the pause, mixing starts afresh, and
    /// the silence clock restarts at `now`.
    pub(crate) fn resume(&mut self, now: Instant) {
        if !self.paused {
            return;
        }
        self.paused = false;
        match &mut self.input {
            Input::Leg { track, .. } => *track = None,
            Input::Mixed { mix, due } => {
                *mix = MixInput::new(&[0, 1]);
                *due = Some(now);
            }
        }
        if let Some(silence) = &mut self.silence {
            silence.since = now;
            silence.reported = false;
        }
    }

    /// Ends the recording: a part-filled frame goes out padded with silence, and the
    /// channel closes when the recorder is dropped.
    pub(crate) fn finish(mut self, now: Instant) -> RecordingStats {
        let Recorder {
            input,
            frames,
            silence,
            stats,
            ..
        } = &mut self;
        if let Input::Leg { frame, filled, .. } = input {
            if *filled > 0 {
                frame[*filled..].fill(0);
                *filled = 0;
                deliver(frames, silence, stats, frame, now);
            }
        }
        self.stats
    }
}

/// Hands a frame to the consumer (or counts it dropped) after silence detection heard it.
fn deliver(
    frames: &SyncSender<AudioFrame>,
    silence: &mut Option<SilenceDetector>,
    stats: &mut RecordingStats,
    samples: &[i16; FRAME_SAMPLES],
    now: Instant,
) {
    if let Some(silence) = silence {
        silence.hear(samples, now);
    }
    match frames.try_send(AudioFrame { samples: *samples }) {
        Ok(()) => stats.frames_delivered += 1,
        Err(_) => stats.frames_dropped += 1,
    }
}

#[cfg(test)]
mod tests;
