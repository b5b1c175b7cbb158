//! Playing music to one leg: the RTP stream the relay sends in place of the other party's
//! audio (RFC 3550 §5.1), and the clock that says when its next packet is due.
//!
//! Sans-IO: the relay thread passes `now` in and sends the packets this writes; nothing
//! here reads a clock or a socket, so the pacing rules are tested with made-up instants.
//!
//! The stream has its own SSRC, a sequence number that goes up by one per packet, a
//! timestamp that goes up by 160 per 20 ms packet (8 kHz G.711), and the marker bit on the
//! first packet of each spell of music (RFC 3551 §4.1: the start of a talkspurt).
//!
//! Its numbers continue those of what the endpoint received last: the other party's stream
//! (relayed) or the previous spell of music, whichever came later — the sequence number
//! one on, the timestamp on by the time that passed, as after a silence. RFC 3550 lets a
//! receiver start afresh on a new SSRC, but phones do not all do so: baresip 1.0 keeps one
//! timestamp clock per stream and drops every packet whose timestamp jumps backwards
//! ("rtp timestamp wraps backwards -- discard"), so music with numbers of its own would
//! go unheard, and so would the other party's audio after the music stopped. Continuing
//! the numbers keeps both sides of the switch in step.
//!
//! Packets are due every 20 ms counted from the first one, not from when the previous one
//! went out, so a thread woken a little late does not drift. A thread woken very late
//! (more than [`MAX_LATE`]) skips the packets it missed instead of sending a burst the
//! phone's jitter buffer would throw away.
//!
//! Prompts (voicemail greetings, menus) are pieces played once on the same stream, so
//! their numbers continue like music's. A prompt is in front of everything: music on hold
//! started or stopped while a prompt plays changes what comes after it, not the prompt.
//! When a prompt ends (the last packet padded with silence) the stream goes back to the
//! music it interrupted, from where it was; else it stops, and the relay goes back to the
//! leg's mix or to relaying the other party (for a leg without one: silence), and reports
//! the prompt's tag.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::mixer::MixInput;
use crate::Music;

/// One packet's worth of audio.
pub(crate) const FRAME: Duration = Duration::from_millis(20);
/// Samples (and G.711 bytes) per packet at 8 kHz.
pub(crate) const FRAME_SAMPLES: usize = 160;
/// Later than this, missed packets are skipped rather than sent at once.
pub(crate) const MAX_LATE: Duration = Duration::from_millis(100);
/// The fixed RTP header: no CSRC, no extension.
const RTP_HEADER_LEN: usize = 12;

/// Where an RTP stream to the endpoint was: the sequence number and timestamp of a packet,
/// and when it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RtpPosition {
    pub(crate) seq: u16,
    pub(crate) timestamp: u32,
    pub(crate) at: Instant,
}

impl RtpPosition {
    /// The position of an RTP packet (at least a fixed header: checked by the relay).
    pub(crate) fn of(packet: &[u8], at: Instant) -> Option<RtpPosition> {
        Some(RtpPosition {
            seq: u16::from_be_bytes(packet.get(2..4)?.try_into().ok()?),
            timestamp: u32::from_be_bytes(packet.get(4..8)?.try_into().ok()?),
            at,
        })
    }
}

/// Where the stream's audio comes from.
#[derive(Debug)]
enum Content {
    /// A piece of music, looping; `offset` is the next sample to send.
    Music { music: Arc<Music>, offset: usize },
    /// A prompt, played once; then `tag` is reported.
    Prompt {
        music: Arc<Music>,
        offset: usize,
        tag: u64,
    },
    /// The leg's mix of other legs (see [`crate::mixer`]), passed to each poll.
    Mix,
}

/// Music on hold waiting behind a prompt, to go on where it was.
#[derive(Debug)]
struct HeldMusic {
    music: Arc<Music>,
    payload_type: u8,
    offset: usize,
}

/// What is playing now.
#[derive(Debug)]
struct Playing {
    content: Content,
    payload_type: u8,
    /// When the next packet is due.
    due: Instant,
    /// The next packet starts a spell of music.
    marker: bool,
}

/// The music stream of one leg: its RTP identity, kept across spells, and what plays.
#[derive(Debug)]
pub(crate) struct MusicStream {
    ssrc: u32,
    /// The sequence number of the next packet.
    seq: u16,
    /// The timestamp of the next packet, were it sent right after the last one.
    timestamp: u32,
    /// When the last packet sent was due.
    last_due: Option<Instant>,
    playing: Option<Playing>,
    /// Music on hold behind the prompt that plays.
    held: Option<HeldMusic>,
    /// The tag of a prompt that played to its end, for the relay to report.
    finished: Option<u64>,
}

impl MusicStream {
    /// A stream that has sent nothing yet, with a random SSRC and random starting sequence
    /// number and timestamp (RFC 3550 §5.1 asks for random starts).
    pub(crate) fn new() -> Self {
        let r = random_u64();
        Self::with_identity(r as u32, (r >> 32) as u16, random_u64() as u32)
    }

    /// A stream with a chosen identity (tests).
    pub(crate) fn with_identity(ssrc: u32, seq: u16, timestamp: u32) -> Self {
        MusicStream {
            ssrc,
            seq,
            timestamp,
            last_due: None,
            playing: None,
            held: None,
            finished: None,
        }
    }

    /// Whether music or a prompt (not a mix) is playing.
    pub(crate) fn is_playing(&self) -> bool {
        self.playing
            .as_ref()
            .is_some_and(|p| !matches!(p.content, Content::Mix))
    }

    /// The tag of the prompt that plays, if one does.
    pub(crate) fn prompt(&self) -> Option<u64> {
        match self.playing.as_ref()?.content {
            Content::Prompt { tag, .. } => Some(tag),
            _ => None,
        }
    }

    /// When the next packet is due, if music is playing.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.playing.as_ref().map(|p| p.due)
    }

    /// Starts (or changes) the music; the first packet is due at once. `relayed` is the
    /// last packet relayed to the endpoint, if any, whose numbers the music continues when
    /// it is more recent than the last music packet. Starting what already plays changes
    /// nothing, so that a repeated hold (a session refresh while on hold) does not restart
    /// the tune. While a prompt plays, the music waits behind it. The caller checks
    /// `payload_type` (0 or 8).
    pub(crate) fn start(
        &mut self,
        now: Instant,
        music: Arc<Music>,
        payload_type: u8,
        relayed: Option<RtpPosition>,
    ) {
        if let Some(p) = &mut self.playing {
            if let Content::Prompt { .. } = p.content {
                // Behind the prompt; the same piece again keeps its place.
                if !self.held.as_ref().is_some_and(|h| {
                    Arc::ptr_eq(&h.music, &music) && h.payload_type == payload_type
                }) {
                    self.held = Some(HeldMusic {
                        music,
                        payload_type,
                        offset: 0,
                    });
                }
                return;
            }
            if let Content::Music { music: current, .. } = &p.content {
                if Arc::ptr_eq(current, &music) && p.payload_type == payload_type {
                    return;
                }
            }
            // Another piece, another codec after a re-negotiation, or music in place of
            // a mix: from the top, in the stream's rhythm.
            p.content = Content::Music { music, offset: 0 };
            p.payload_type = payload_type;
            p.marker = true;
            return;
        }
        self.begin(
            now,
            Content::Music { music, offset: 0 },
            payload_type,
            relayed,
        );
    }

    /// Starts (or goes back to) sending the leg's mix, as [`start`](Self::start) does
    /// music: the packets' audio comes from the `MixInput` passed to each poll.
    pub(crate) fn start_mix(
        &mut self,
        now: Instant,
        payload_type: u8,
        relayed: Option<RtpPosition>,
    ) {
        if let Some(p) = &mut self.playing {
            if matches!(p.content, Content::Prompt { .. }) {
                return; // the mix follows the prompt
            }
            if !matches!(p.content, Content::Mix) || p.payload_type != payload_type {
                p.content = Content::Mix;
                p.payload_type = payload_type;
                p.marker = true;
            }
            return;
        }
        self.begin(now, Content::Mix, payload_type, relayed);
    }

    /// A new spell, its numbers continuing what the endpoint received last.
    fn begin(
        &mut self,
        now: Instant,
        content: Content,
        payload_type: u8,
        relayed: Option<RtpPosition>,
    ) {
        // The last packet the endpoint got: the other party's, or our own last one (whose
        // successor's numbers `seq` and `timestamp` already hold).
        let own = self.last_due.map(|at| RtpPosition {
            seq: self.seq.wrapping_sub(1),
            timestamp: self.timestamp.wrapping_sub(FRAME_SAMPLES as u32),
            at,
        });
        let last = match (own, relayed) {
            (Some(own), Some(relayed)) if own.at >= relayed.at => Some(own),
            (own, relayed) => relayed.or(own),
        };
        if let Some(last) = last {
            // On by the time that passed, as if silence had been sent, and at least one
            // packet's worth; the sequence number by one (nothing was lost).
            let gap = now.saturating_duration_since(last.at).max(FRAME);
            let samples = gap.as_micros() * FRAME_SAMPLES as u128 / FRAME.as_micros();
            self.seq = last.seq.wrapping_add(1);
            self.timestamp = last.timestamp.wrapping_add(samples as u32);
        }
        self.playing = Some(Playing {
            content,
            payload_type,
            due: now,
            marker: true,
        });
    }

    /// Plays `music` once, in front of what plays (the caller checks `payload_type`: 0
    /// or 8; and that the piece is not empty). Music on hold it interrupts goes on after
    /// it; a prompt it interrupts is over: its tag is returned, to be reported.
    pub(crate) fn play(
        &mut self,
        now: Instant,
        music: Arc<Music>,
        payload_type: u8,
        tag: u64,
        relayed: Option<RtpPosition>,
    ) -> Option<u64> {
        let prompt = Content::Prompt {
            music,
            offset: 0,
            tag,
        };
        let Some(p) = &mut self.playing else {
            self.begin(now, prompt, payload_type, relayed);
            return None;
        };
        let before = std::mem::replace(&mut p.content, prompt);
        let before_type = std::mem::replace(&mut p.payload_type, payload_type);
        p.marker = true;
        match before {
            Content::Music { music, offset } => {
                self.held = Some(HeldMusic {
                    music,
                    payload_type: before_type,
                    offset,
                });
                None
            }
            Content::Prompt { tag, .. } => Some(tag),
            Content::Mix => None,
        }
    }

    /// Cuts the prompt short, if one plays, and returns its tag; what it interrupted
    /// goes on (see [`end_prompt`](Self::end_prompt)).
    pub(crate) fn stop_prompt(&mut self) -> Option<u64> {
        let tag = self.prompt()?;
        self.end_prompt();
        Some(tag)
    }

    /// The tag of a prompt that played to its end since the last call.
    pub(crate) fn take_finished(&mut self) -> Option<u64> {
        self.finished.take()
    }

    /// After a prompt: the music it held back goes on, in the stream's rhythm, or the
    /// stream stops (the relay then starts the leg's mix, if it has one).
    fn end_prompt(&mut self) {
        match (self.held.take(), &mut self.playing) {
            (Some(held), Some(p)) => {
                p.content = Content::Music {
                    music: held.music,
                    offset: held.offset,
                };
                p.payload_type = held.payload_type;
                p.marker = true;
            }
            _ => self.playing = None,
        }
    }

    /// Stops the music (the stream's identity stays for the next spell), or the mix. A
    /// prompt plays on: only the music behind it is forgotten.
    pub(crate) fn stop(&mut self) {
        self.held = None;
        if self.prompt().is_none() {
            self.playing = None;
        }
    }

    /// Writes the RTP packet due at `now`, if one is, into `buf` (cleared first); a mix
    /// takes its audio from `mix` (silence without one). Call it until it returns false
    /// to catch up after a late wake-up.
    pub(crate) fn poll_packet(
        &mut self,
        now: Instant,
        buf: &mut Vec<u8>,
        mix: Option<&mut MixInput>,
    ) -> bool {
        let Some(p) = &mut self.playing else {
            return false;
        };
        if now < p.due {
            return false;
        }
        let late = now - p.due;
        if late > MAX_LATE {
            let missed = (late.as_micros() / FRAME.as_micros()) as u32;
            p.due += FRAME * missed;
            match &mut p.content {
                Content::Music { music, offset } => {
                    let len = music.encoded(p.payload_type).map_or(1, |s| s.len().max(1));
                    *offset = (*offset + missed as usize * FRAME_SAMPLES) % len;
                }
                // A prompt that ran out meanwhile sends one packet of silence and ends.
                Content::Prompt { music, offset, .. } => {
                    let len = music.encoded(p.payload_type).map_or(0, <[u8]>::len);
                    *offset = (*offset + missed as usize * FRAME_SAMPLES).min(len);
                }
                Content::Mix => {}
            }
            self.timestamp = self
                .timestamp
                .wrapping_add(missed.wrapping_mul(FRAME_SAMPLES as u32));
        }
        buf.clear();
        buf.push(0x80); // version 2, no padding, no extension, no CSRC
        buf.push(if p.marker { 0x80 } else { 0 } | (p.payload_type & 0x7f));
        buf.extend_from_slice(&self.seq.to_be_bytes());
        buf.extend_from_slice(&self.timestamp.to_be_bytes());
        buf.extend_from_slice(&self.ssrc.to_be_bytes());
        let mut ended = None;
        match &mut p.content {
            Content::Music { music, offset } => {
                let Some(samples) = music.encoded(p.payload_type).filter(|s| !s.is_empty()) else {
                    return false; // not a payload type we hold (the engine checks, so never)
                };
                // The piece loops: a packet may end one pass and begin the next (several,
                // for a piece shorter than a packet; each turn takes at least one sample).
                let mut missing = FRAME_SAMPLES;
                while missing > 0 {
                    let take = missing.min(samples.len() - *offset);
                    buf.extend_from_slice(&samples[*offset..*offset + take]);
                    *offset = (*offset + take) % samples.len();
                    missing -= take;
                }
            }
            Content::Prompt { music, offset, tag } => {
                let samples = music.encoded(p.payload_type).unwrap_or_default();
                let rest = samples.get(*offset..).unwrap_or_default();
                let take = rest.len().min(FRAME_SAMPLES);
                buf.extend_from_slice(&rest[..take]);
                buf.resize(RTP_HEADER_LEN + FRAME_SAMPLES, silence(p.payload_type));
                *offset += take;
                if *offset >= samples.len() {
                    ended = Some(*tag);
                }
            }
            Content::Mix => match mix {
                Some(mix) => mix.mix_frame(p.payload_type, buf),
                None => buf.resize(RTP_HEADER_LEN + FRAME_SAMPLES, silence(p.payload_type)),
            },
        }
        debug_assert_eq!(buf.len(), RTP_HEADER_LEN + FRAME_SAMPLES);
        self.seq = self.seq.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(FRAME_SAMPLES as u32);
        self.last_due = Some(p.due);
        p.due += FRAME;
        p.marker = false;
        if let Some(tag) = ended {
            self.finished = Some(tag);
            self.end_prompt();
        }
        true
    }
}

/// The code of a silent sample: µ-law for 0, else A-law.
fn silence(payload_type: u8) -> u8 {
    if payload_type == 0 {
        0xff
    } else {
        0xd5
    }
}

/// 64 random bits from the standard library's per-process random keys (the ones that
/// seed `HashMap`), so that SSRCs need no extra crate.
fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
    );
    h.finish()
}

#[cfg(test)]
mod tests;
