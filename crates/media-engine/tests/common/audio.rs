//! Audio for the prompt and recording tests: tones as WAV pieces and as RTP payloads,
//! G.711 µ-law both ways, and measures (RMS, zero crossings) to check what was heard.

use std::sync::Arc;

use media_engine::Music;

/// A sine of `freq` Hz at `amplitude` for `ms` milliseconds, 8 kHz, from sample `start`.
pub fn sine(freq: f64, amplitude: f64, start: usize, len: usize) -> Vec<i16> {
    (start..start + len)
        .map(|n| {
            let t = n as f64 / 8000.0;
            (amplitude * (2.0 * std::f64::consts::PI * freq * t).sin()).round() as i16
        })
        .collect()
}

/// A piece of `ms` milliseconds of a `freq` Hz sine, as a 16-bit PCM WAV read by `Music`.
pub fn tone_music(freq: f64, amplitude: f64, ms: usize) -> Arc<Music> {
    let samples = sine(freq, amplitude, 0, ms * 8);
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    file.extend_from_slice(b"WAVEfmt ");
    file.extend_from_slice(&16u32.to_le_bytes());
    file.extend_from_slice(&1u16.to_le_bytes()); // PCM
    file.extend_from_slice(&1u16.to_le_bytes()); // mono
    file.extend_from_slice(&8000u32.to_le_bytes());
    file.extend_from_slice(&16000u32.to_le_bytes());
    file.extend_from_slice(&2u16.to_le_bytes());
    file.extend_from_slice(&16u16.to_le_bytes());
    file.extend_from_slice(b"data");
    file.extend_from_slice(&(data.len() as u32).to_le_bytes());
    file.extend_from_slice(&data);
    Arc::new(Music::from_wav(format!("{freq} Hz"), &file).expect("a valid WAV"))
}

/// Encodes a linear sample as µ-law (G.711, the classic biased-segment algorithm).
pub fn ulaw(sample: i16) -> u8 {
    let sign = if sample < 0 { 0x00 } else { 0x80 };
    let magnitude = (i32::from(sample).abs() >> 2).min(8159) + 33;
    let segment = (32 - (magnitude as u32).leading_zeros() as i32 - 6).clamp(0, 7);
    let mantissa = (magnitude >> (segment + 1)) & 0x0f;
    !((segment << 4) as u8 | mantissa as u8) & 0x7f | sign
}

/// Decodes a µ-law code.
pub fn unulaw(code: u8) -> i16 {
    let code = !code;
    let segment = (code >> 4) & 7;
    let magnitude = (((i32::from(code & 0x0f) << 3) + 0x84) << segment) - 0x84;
    (if code & 0x80 != 0 {
        -magnitude
    } else {
        magnitude
    }) as i16
}

/// A PCMU RTP packet carrying `samples`.
pub fn pcmu(seq: u16, ts: u32, ssrc: u32, samples: &[i16]) -> Vec<u8> {
    let mut p = vec![0x80, 0];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend(samples.iter().map(|&s| ulaw(s)));
    p
}

/// Root mean square of samples.
pub fn rms(samples: &[i16]) -> f64 {
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len().max(1) as f64).sqrt()
}

/// Sign changes between neighbouring samples: 2 per cycle of a tone.
pub fn zero_crossings(samples: &[i16]) -> usize {
    samples
        .windows(2)
        .filter(|w| (w[0] < 0) != (w[1] < 0))
        .count()
}

/// The fields of a received RTP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtp {
    pub marker: bool,
    pub pt: u8,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
    pub payload: Vec<u8>,
}

impl Rtp {
    pub fn parse(bytes: &[u8]) -> Rtp {
        assert!(
            bytes.len() >= 12 && bytes[0] >> 6 == 2,
            "not RTP: {bytes:?}"
        );
        Rtp {
            marker: bytes[1] & 0x80 != 0,
            pt: bytes[1] & 0x7f,
            seq: u16::from_be_bytes([bytes[2], bytes[3]]),
            ts: u32::from_be_bytes(bytes[4..8].try_into().unwrap()),
            ssrc: u32::from_be_bytes(bytes[8..12].try_into().unwrap()),
            payload: bytes[12..].to_vec(),
        }
    }

    /// The payload decoded as µ-law.
    pub fn pcm(&self) -> Vec<i16> {
        self.payload.iter().map(|&c| unulaw(c)).collect()
    }
}
