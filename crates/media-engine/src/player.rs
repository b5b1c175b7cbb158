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
    /// The leg's mix of other legs (see [`crate::mixer`]), passed to each poll.
    Mix,
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
        }
    }

    /// Whether music (not a mix) is playing.
    pub(crate) fn is_playing(&self) -> bool {
        matches!(
            self.playing,
            Some(Playing {
                content: Content::Music { .. },
                ..
            })
        )
    }

    /// When the next packet is due, if music is playing.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.playing.as_ref().map(|p| p.due)
    }

    /// Starts (or changes) the music; the first packet is due at once. `relayed` is the
    /// last packet relayed to the endpoint, if any, whose numbers the music continues when
    /// it is more recent than the last music packet. Starting what already plays changes
    /// nothing, so that a repeated hold (a session refresh while on hold) does not restart
    /// the tune. The caller checks `payload_type` (0 or 8).
    pub(crate) fn start(
        &mut self,
        now: Instant,
        music: Arc<Music>,
        payload_type: u8,
        relayed: Option<RtpPosition>,
    ) {
        if let Some(p) = &mut self.playing {
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

    /// Stops the music; the stream's identity stays for the next spell.
    pub(crate) fn stop(&mut self) {
        self.playing = None;
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
            if let Content::Music { music, offset } = &mut p.content {
                let len = music.encoded(p.payload_type).map_or(1, |s| s.len().max(1));
                *offset = (*offset + missed as usize * FRAME_SAMPLES) % len;
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
            Content::Mix => match mix {
                Some(mix) => mix.mix_frame(p.payload_type, buf),
                None => {
                    let silence = if p.payload_type == 0 { 0xff } else { 0xd5 };
                    buf.resize(RTP_HEADER_LEN + FRAME_SAMPLES, silence);
                }
            },
        }
        debug_assert_eq!(buf.len(), RTP_HEADER_LEN + FRAME_SAMPLES);
        self.seq = self.seq.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(FRAME_SAMPLES as u32);
        self.last_due = Some(p.due);
        p.due += FRAME;
        p.marker = false;
        true
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
mod tests {
    use super::*;
    use crate::wav::tests::wav;

    /// Music whose µ-law bytes count 0, 1, 2, … (`len` of them), to see where packets cut.
    fn counting(len: usize) -> Arc<Music> {
        let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
        Arc::new(Music::from_wav("count", &wav(7, 1, 8000, 8, &data)).unwrap())
    }

    struct Packet {
        marker: bool,
        pt: u8,
        seq: u16,
        ts: u32,
        ssrc: u32,
        payload: Vec<u8>,
    }

    fn take(s: &mut MusicStream, now: Instant) -> Option<Packet> {
        let mut buf = Vec::new();
        if !s.poll_packet(now, &mut buf, None) {
            return None;
        }
        assert_eq!(buf.len(), 172);
        assert_eq!(buf[0], 0x80);
        Some(Packet {
            marker: buf[1] & 0x80 != 0,
            pt: buf[1] & 0x7f,
            seq: u16::from_be_bytes([buf[2], buf[3]]),
            ts: u32::from_be_bytes(buf[4..8].try_into().unwrap()),
            ssrc: u32::from_be_bytes(buf[8..12].try_into().unwrap()),
            payload: buf[12..].to_vec(),
        })
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn packets_every_20_ms_with_counting_seq_and_timestamps() {
        let t0 = Instant::now();
        let mut s = MusicStream::with_identity(0xabcd, 65534, u32::MAX - 100);
        assert_eq!(s.next_due(), None);
        s.start(t0, counting(400), 0, None);
        let first = take(&mut s, t0).unwrap();
        assert!(first.marker);
        assert_eq!(
            (first.pt, first.seq, first.ts, first.ssrc),
            (0, 65534, u32::MAX - 100, 0xabcd)
        );
        assert_eq!(first.payload[0], 0);
        assert!(take(&mut s, t0).is_none(), "one packet per 20 ms");
        assert_eq!(s.next_due(), Some(t0 + 20 * MS));
        assert!(take(&mut s, t0 + 19 * MS).is_none());
        // A wake-up 3 ms late sends the packet; the next is still due at 40 ms, not 43.
        let second = take(&mut s, t0 + 23 * MS).unwrap();
        assert!(!second.marker);
        assert_eq!((second.seq, second.ts), (65535, 59), "both wrap");
        assert_eq!(s.next_due(), Some(t0 + 40 * MS));
        let third = take(&mut s, t0 + 40 * MS).unwrap();
        assert_eq!((third.seq, third.ts), (0, 219));
        // 400 samples: the third packet holds 320..400 then 0..80 (the loop).
        assert_eq!(third.payload[79], (399 % 256) as u8);
        assert_eq!(third.payload[80], 0);
    }

    #[test]
    fn a_short_piece_loops_inside_one_packet() {
        let t0 = Instant::now();
        let mut s = MusicStream::with_identity(1, 0, 0);
        s.start(t0, counting(7), 0, None);
        let p = take(&mut s, t0).unwrap();
        let expected: Vec<u8> = (0..160).map(|i| (i % 7) as u8).collect();
        assert_eq!(p.payload, expected);
        let p = take(&mut s, t0 + 20 * MS).unwrap();
        assert_eq!(p.payload[0], 160 % 7);
    }

    #[test]
    fn a_late_thread_catches_up_a_little_and_skips_a_lot() {
        let t0 = Instant::now();
        let mut s = MusicStream::with_identity(1, 0, 0);
        s.start(t0, counting(16_000), 0, None);
        take(&mut s, t0).unwrap();
        // 60 ms late: the missed packets go out at once, in order.
        let now = t0 + 80 * MS;
        let burst: Vec<_> = std::iter::from_fn(|| take(&mut s, now)).collect();
        assert_eq!(
            burst.iter().map(|p| p.seq).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        // A second late by 1 s: no burst; the timestamp and the music move on with time.
        let now = t0 + 1100 * MS;
        let p = take(&mut s, now).unwrap();
        assert_eq!(p.seq, 5, "no sequence gap: nothing was lost on the wire");
        assert_eq!(p.ts, 1100 / 20 * 160);
        assert!(take(&mut s, now).is_none());
        assert_eq!(s.next_due(), Some(t0 + 1120 * MS));
    }

    #[test]
    fn stop_then_start_continues_seq_and_jumps_the_timestamp() {
        let t0 = Instant::now();
        let music = counting(1000);
        let mut s = MusicStream::with_identity(9, 100, 1000);
        s.start(t0, music.clone(), 0, None);
        take(&mut s, t0).unwrap();
        take(&mut s, t0 + 20 * MS).unwrap();
        s.stop();
        assert!(!s.is_playing());
        assert!(take(&mut s, t0 + 40 * MS).is_none());
        // Two seconds after the last packet (due at 20 ms); the relayed stream's last
        // packet is older than that: our own numbers go on.
        let t1 = t0 + 2020 * MS;
        let older = RtpPosition {
            seq: 5000,
            timestamp: 77,
            at: t0 + 10 * MS,
        };
        s.start(t1, music.clone(), 0, Some(older));
        let p = take(&mut s, t1).unwrap();
        assert!(p.marker);
        assert_eq!((p.seq, p.ts, p.ssrc), (102, 1160 + 2000 * 8, 9));
        assert_eq!(p.payload[0], 0, "from the top");
        // Starting what plays changes nothing; another codec starts from the top.
        s.start(t1, music.clone(), 0, None);
        let p = take(&mut s, t1 + 20 * MS).unwrap();
        assert!(!p.marker);
        assert_eq!(p.payload[0], 160);
        s.start(t1 + 25 * MS, music, 8, None);
        let p = take(&mut s, t1 + 40 * MS).unwrap();
        assert!(p.marker);
        assert_eq!((p.pt, p.seq), (8, 104));
    }

    #[test]
    fn music_continues_the_numbers_of_the_stream_the_endpoint_received_last() {
        let t0 = Instant::now();
        let music = counting(1000);
        let mut s = MusicStream::with_identity(9, 100, 1000);
        // The other party's last packet, relayed 50 ms ago, and no music yet.
        let relayed = RtpPosition {
            seq: 65535,
            timestamp: u32::MAX - 79,
            at: t0,
        };
        let now = t0 + 50 * MS;
        s.start(now, music.clone(), 0, Some(relayed));
        let p = take(&mut s, now).unwrap();
        assert_eq!((p.seq, p.ts, p.ssrc), (0, 320, 9), "one on, 400 samples on");
        take(&mut s, now + 20 * MS).unwrap();
        s.stop();
        // Relayed traffic after the music: the next spell follows it, not the music.
        let relayed = RtpPosition {
            seq: 40,
            timestamp: 8000,
            at: now + 500 * MS,
        };
        // Just after it: at least one packet on.
        s.start(now + 505 * MS, music, 0, Some(relayed));
        let p = take(&mut s, now + 505 * MS).unwrap();
        assert_eq!((p.seq, p.ts), (41, 8160));
    }

    #[test]
    fn a_position_is_read_from_any_bytes() {
        let t = Instant::now();
        let packet = [0x80, 0, 0x12, 0x34, 0, 0, 1, 0, 0, 0, 0, 9];
        assert_eq!(
            RtpPosition::of(&packet, t),
            Some(RtpPosition {
                seq: 0x1234,
                timestamp: 256,
                at: t
            })
        );
        assert_eq!(RtpPosition::of(&packet[..6], t), None);
    }

    #[test]
    fn random_identities_differ() {
        let (a, b) = (MusicStream::new(), MusicStream::new());
        assert_ne!((a.ssrc, a.seq, a.timestamp), (b.ssrc, b.seq, b.timestamp));
    }
}
