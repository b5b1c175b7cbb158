//! Mixing: the audio one leg hears when it hears more than one other leg (an intruder
//! hears both parties, and each party hears the other and the intruder), or hears
//! another leg in a stream of its own (a paged phone hears the pager).
//!
//! Each source leg has a queue of decoded samples. The relay pushes a source's RTP payload
//! (G.711 only: PCMU or PCMA; other payload types such as telephone events are not audio
//! and are skipped) as it arrives; every 20 ms the leg's own stream (see
//! [`crate::player`]) takes 160 samples from every source, adds them (saturating) and
//! encodes the sum in the leg's payload type.
//!
//! The queues are a minimal jitter buffer: a source is not taken from until it holds
//! [`START_DEPTH`] samples, so that packets arriving a little early or late do not leave
//! holes; one that runs dry starts buffering again (a missed frame is silence from that
//! source), and one that grows past [`MAX_DEPTH`] (its sender's clock runs faster than
//! ours) loses its oldest samples. Sans-IO and clock-free: the relay thread decides when.

use std::collections::VecDeque;

use crate::g711;
use crate::player::FRAME_SAMPLES;

/// Samples a source must hold before it is mixed: two packets of 20 ms.
const START_DEPTH: usize = 2 * FRAME_SAMPLES;
/// Samples a source may hold: 100 ms. More is latency nobody wants.
const MAX_DEPTH: usize = 5 * FRAME_SAMPLES;

/// Which leg of a session, as an index: 0 is A, 1 is B, 2 + n is extra leg n.
pub(crate) type LegKey = usize;

/// The decoded audio of one source waiting to be mixed.
#[derive(Debug)]
struct SourceQueue {
    from: LegKey,
    samples: VecDeque<i16>,
    /// Taken from (reached `START_DEPTH` since it last ran dry).
    flowing: bool,
}

/// What one leg hears: a queue per source leg.
#[derive(Debug)]
pub(crate) struct MixInput {
    sources: Vec<SourceQueue>,
    /// Scratch space for the sum of one frame.
    sum: Vec<i32>,
}

impl MixInput {
    /// A mix of `sources` (leg keys), nothing queued yet.
    pub(crate) fn new(sources: &[LegKey]) -> Self {
        MixInput {
            sources: sources
                .iter()
                .map(|&from| SourceQueue {
                    from,
                    samples: VecDeque::with_capacity(MAX_DEPTH),
                    flowing: false,
                })
                .collect(),
            sum: vec![0; FRAME_SAMPLES],
        }
    }

    /// The legs mixed, in order.
    pub(crate) fn sources(&self) -> impl Iterator<Item = LegKey> + '_ {
        self.sources.iter().map(|s| s.from)
    }

    /// Whether the mix takes audio from `from`.
    pub(crate) fn hears(&self, from: LegKey) -> bool {
        self.sources.iter().any(|s| s.from == from)
    }

    /// Queues the audio of one RTP packet from leg `from`: `rtp` is the whole packet, as
    /// checked by the relay (version 2, at least a fixed header). Payload types other
    /// than 0 (PCMU) and 8 (PCMA) are skipped, as are legs this mix does not hear.
    pub(crate) fn push(&mut self, from: LegKey, rtp: &[u8]) {
        let Some(source) = self.sources.iter_mut().find(|s| s.from == from) else {
            return;
        };
        let Some((payload_type, payload)) = audio_payload(rtp) else {
            return;
        };
        let decode = match payload_type {
            0 => g711::ulaw_to_linear,
            8 => g711::alaw_to_linear,
            _ => return,
        };
        source
            .samples
            .extend(payload.iter().map(|&code| decode(code)));
        let excess = source.samples.len().saturating_sub(MAX_DEPTH);
        source.samples.drain(..excess);
    }

    /// Takes one 20 ms frame from every source, mixes it and appends it to `out` encoded
    /// as `payload_type` (0 PCMU, else PCMA). A source without audio adds silence.
    pub(crate) fn mix_frame(&mut self, payload_type: u8, out: &mut Vec<u8>) {
        self.sum_frame();
        let encode = if payload_type == 0 {
            g711::linear_to_ulaw
        } else {
            g711::linear_to_alaw
        };
        out.extend(self.sum.iter().map(|&s| encode(saturate(s))));
    }

    /// Takes one 20 ms frame from every source and mixes it into `out` as linear samples
    /// (a call recording). A source without audio adds silence.
    pub(crate) fn mix_linear(&mut self, out: &mut [i16; FRAME_SAMPLES]) {
        self.sum_frame();
        for (out, &sum) in out.iter_mut().zip(&self.sum) {
            *out = saturate(sum);
        }
    }

    /// Sums one frame of every flowing source into `sum`.
    fn sum_frame(&mut self) {
        self.sum.iter_mut().for_each(|s| *s = 0);
        for source in &mut self.sources {
            if !source.flowing && source.samples.len() >= START_DEPTH {
                source.flowing = true;
            }
            if !source.flowing {
                continue;
            }
            if source.samples.len() < FRAME_SAMPLES {
                // Ran dry: what is left plays now, then the source buffers again.
                source.flowing = false;
            }
            let take = source.samples.len().min(FRAME_SAMPLES);
            for (sum, sample) in self.sum.iter_mut().zip(source.samples.drain(..take)) {
                *sum += i32::from(sample);
            }
        }
    }
}

/// A sum clamped to the sample range: loud sources saturate instead of wrapping.
fn saturate(sum: i32) -> i16 {
    sum.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

/// The payload type and payload of an RTP packet, without CSRCs, header extension and
/// padding (RFC 3550 §5.1, §5.3.1); `None` when the lengths do not add up.
pub(crate) fn audio_payload(rtp: &[u8]) -> Option<(u8, &[u8])> {
    let first = *rtp.first()?;
    let payload_type = rtp.get(1)? & 0x7f;
    let csrcs = usize::from(first & 0x0f);
    let mut start = 12 + 4 * csrcs;
    if first & 0x10 != 0 {
        let words = rtp.get(start + 2..start + 4)?;
        start += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    }
    let mut end = rtp.len();
    if first & 0x20 != 0 {
        end = end.checked_sub(usize::from(*rtp.last()?))?;
    }
    Some((payload_type, rtp.get(start..end)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(payload_type: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x80, payload_type, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4];
        p.extend_from_slice(payload);
        p
    }

    fn ulaw_frame(level: i16) -> Vec<u8> {
        vec![g711::linear_to_ulaw(level); FRAME_SAMPLES]
    }

    fn decoded(out: &[u8]) -> Vec<i16> {
        out.iter().map(|&c| g711::ulaw_to_linear(c)).collect()
    }

    #[test]
    fn two_sources_add_after_two_frames_of_buffering() {
        let mut mix = MixInput::new(&[0, 1]);
        mix.push(0, &packet(0, &ulaw_frame(1000)));
        mix.push(1, &packet(8, &[g711::linear_to_alaw(2000); FRAME_SAMPLES]));
        let mut out = Vec::new();
        mix.mix_frame(0, &mut out);
        assert!(
            decoded(&out).iter().all(|&s| s.abs() < 10),
            "still buffering"
        );
        mix.push(0, &packet(0, &ulaw_frame(1000)));
        mix.push(1, &packet(8, &[g711::linear_to_alaw(2000); FRAME_SAMPLES]));
        out.clear();
        mix.mix_frame(0, &mut out);
        assert_eq!(out.len(), FRAME_SAMPLES);
        let s = decoded(&out)[0];
        assert!((2900..=3100).contains(&s), "1000 + 2000 mixed: {s}");
    }

    #[test]
    fn loud_sources_saturate_instead_of_wrapping() {
        let mut mix = MixInput::new(&[0, 2]);
        for _ in 0..2 {
            mix.push(0, &packet(0, &ulaw_frame(30000)));
            mix.push(2, &packet(0, &ulaw_frame(30000)));
        }
        let mut out = Vec::new();
        mix.mix_frame(0, &mut out);
        assert!(decoded(&out).iter().all(|&s| s > 30000));
        let mut mix = MixInput::new(&[0, 2]);
        for _ in 0..2 {
            mix.push(0, &packet(0, &ulaw_frame(-30000)));
            mix.push(2, &packet(0, &ulaw_frame(-30000)));
        }
        let mut linear = [0; FRAME_SAMPLES];
        mix.mix_linear(&mut linear);
        assert!(linear.iter().all(|&s| s == i16::MIN));
    }

    #[test]
    fn unheard_legs_and_other_payload_types_are_skipped() {
        let mut mix = MixInput::new(&[0]);
        assert!(mix.hears(0) && !mix.hears(1));
        for _ in 0..3 {
            mix.push(1, &packet(0, &ulaw_frame(5000)));
            mix.push(0, &packet(101, &[1, 0, 0, 160]));
        }
        let mut out = Vec::new();
        mix.mix_frame(8, &mut out);
        let silence = g711::linear_to_alaw(0);
        assert!(out.iter().all(|&c| c == silence));
    }

    #[test]
    fn a_fast_source_is_capped_and_a_dry_one_buffers_again() {
        let mut mix = MixInput::new(&[0]);
        for _ in 0..20 {
            mix.push(0, &packet(0, &ulaw_frame(1000)));
        }
        assert_eq!(mix.sources[0].samples.len(), MAX_DEPTH);
        let mut out = Vec::new();
        for _ in 0..5 {
            out.clear();
            mix.mix_frame(0, &mut out);
            assert!(decoded(&out)[0] > 900);
        }
        out.clear();
        mix.mix_frame(0, &mut out);
        assert!(decoded(&out)[0].abs() < 10, "dry");
        mix.push(0, &packet(0, &ulaw_frame(1000)));
        out.clear();
        mix.mix_frame(0, &mut out);
        assert!(
            decoded(&out)[0].abs() < 10,
            "one frame is not enough to restart"
        );
    }

    #[test]
    fn payloads_skip_csrcs_extensions_and_padding() {
        // One CSRC, an extension of one word, two bytes of padding.
        let mut p = vec![0xb1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
        p.extend_from_slice(&[9, 9, 9, 9]); // CSRC
        p.extend_from_slice(&[0xbe, 0xde, 0, 1, 7, 7, 7, 7]); // extension
        p.extend_from_slice(&[42, 43]); // payload
        p.extend_from_slice(&[0, 2]); // padding
        assert_eq!(audio_payload(&p), Some((0, &[42u8, 43][..])));
        assert_eq!(audio_payload(&p[..20]), None);
        assert_eq!(
            audio_payload(&[0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 200]),
            None
        );
    }
}
