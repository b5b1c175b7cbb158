//! Just enough of RIFF/WAVE to read telephone audio: 8 kHz mono, as 16-bit linear PCM or
//! as G.711 µ-law/A-law bytes, and a precise reason for anything else.
//!
//! A WAVE file is a `RIFF` chunk of type `WAVE` holding sub-chunks, each an ASCII id, a
//! little-endian 32-bit length and the data, padded to an even length. `fmt ` says how the
//! samples are coded (format tag 1 = PCM, 6 = A-law, 7 = µ-law, 0xFFFE = "extensible",
//! whose sub-format GUID starts with one of those tags); `data` holds them. Other chunks
//! (`LIST` with tags, `fact`, ...) are skipped. Nothing here panics on any input.

/// The only sample rate a G.711 stream carries.
pub(crate) const RATE: u32 = 8000;

/// How the samples of a file are coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// 16-bit signed little-endian linear PCM.
    Linear16,
    /// G.711 µ-law bytes.
    Ulaw,
    /// G.711 A-law bytes.
    Alaw,
}

/// The audio of a file, still in its own coding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wav<'a> {
    pub(crate) encoding: Encoding,
    /// The bytes of the `data` chunk (a whole number of samples).
    pub(crate) data: &'a [u8],
}

impl Wav<'_> {
    /// The number of samples.
    pub(crate) fn samples(&self) -> usize {
        match self.encoding {
            Encoding::Linear16 => self.data.len() / 2,
            Encoding::Ulaw | Encoding::Alaw => self.data.len(),
        }
    }
}

/// Why a file is not audio we can play.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WavProblem {
    /// It does not start with a `RIFF` header of type `WAVE`.
    #[error("not a WAV file (no RIFF/WAVE header)")]
    NotWav,
    /// A chunk the file needs is not there.
    #[error("no {0:?} chunk")]
    MissingChunk(&'static str),
    /// A chunk is shorter than its contents need.
    #[error("the {0:?} chunk is cut short")]
    Truncated(&'static str),
    /// The samples are coded in a way we do not decode (the WAVE format tag).
    #[error("sample format {0:#06x} is not supported (use 16-bit PCM, G.711 µ-law or A-law)")]
    UnsupportedFormat(u16),
    /// A sample rate other than 8000 Hz.
    #[error("{0} Hz sample rate: telephone audio is 8000 Hz (resample it, e.g. `sox in.wav -r 8000 -c 1 out.wav`)")]
    UnsupportedRate(u32),
    /// More than one channel.
    #[error("{0} channels: only mono is supported")]
    UnsupportedChannels(u16),
    /// A sample width that does not go with the format (PCM must be 16-bit, G.711 8-bit).
    #[error("{bits}-bit samples of format {format:#06x}: PCM must be 16-bit, G.711 8-bit")]
    UnsupportedBits {
        /// The format tag.
        format: u16,
        /// The bits per sample the file declares.
        bits: u16,
    },
    /// The `data` chunk holds no whole sample.
    #[error("no audio in the file")]
    Empty,
}

/// Format tags (RFC 2361 lists them).
const WAVE_FORMAT_PCM: u16 = 0x0001;
const WAVE_FORMAT_ALAW: u16 = 0x0006;
const WAVE_FORMAT_MULAW: u16 = 0x0007;
const WAVE_FORMAT_EXTENSIBLE: u16 = 0xfffe;

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// Reads a WAVE file held in memory.
pub(crate) fn parse(bytes: &[u8]) -> Result<Wav<'_>, WavProblem> {
    if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err(WavProblem::NotWav);
    }
    let mut format = None;
    let mut data = None;
    let mut at = 12;
    // Each turn moves `at` forward by at least 8, so the loop ends.
    while let (Some(id), Some(len)) = (bytes.get(at..at + 4), u32_at(bytes, at + 4)) {
        let body = at + 8;
        let len = len as usize;
        match id {
            b"fmt " => {
                let chunk = bytes
                    .get(body..body.saturating_add(len))
                    .ok_or(WavProblem::Truncated("fmt "))?;
                format = Some(read_format(chunk)?);
            }
            b"data" => {
                // Files written while streaming often leave the length at 0 or
                // 0xFFFFFFFF: take what is there.
                let end = body.saturating_add(len).min(bytes.len());
                data = Some(bytes.get(body..end).unwrap_or_default());
                break;
            }
            _ => {}
        }
        at = body.saturating_add(len).saturating_add(len % 2);
    }
    let encoding = format.ok_or(WavProblem::MissingChunk("fmt "))?;
    let data = data.ok_or(WavProblem::MissingChunk("data"))?;
    let data = match encoding {
        // An odd byte at the end is half a sample.
        Encoding::Linear16 => &data[..data.len() & !1],
        Encoding::Ulaw | Encoding::Alaw => data,
    };
    if data.is_empty() {
        return Err(WavProblem::Empty);
    }
    Ok(Wav { encoding, data })
}

fn read_format(chunk: &[u8]) -> Result<Encoding, WavProblem> {
    let short = WavProblem::Truncated("fmt ");
    let mut tag = u16_at(chunk, 0).ok_or(short.clone())?;
    let channels = u16_at(chunk, 2).ok_or(short.clone())?;
    let rate = u32_at(chunk, 4).ok_or(short.clone())?;
    let bits = u16_at(chunk, 14).ok_or(short.clone())?;
    if tag == WAVE_FORMAT_EXTENSIBLE {
        // cbSize (16), valid bits (18), channel mask (20), then the sub-format GUID (24)
        // whose first two bytes are the real tag.
        tag = u16_at(chunk, 24).ok_or(short)?;
    }
    let encoding = match tag {
        WAVE_FORMAT_PCM => Encoding::Linear16,
        WAVE_FORMAT_MULAW => Encoding::Ulaw,
        WAVE_FORMAT_ALAW => Encoding::Alaw,
        other => return Err(WavProblem::UnsupportedFormat(other)),
    };
    if channels != 1 {
        return Err(WavProblem::UnsupportedChannels(channels));
    }
    if rate != RATE {
        return Err(WavProblem::UnsupportedRate(rate));
    }
    let expected_bits = match encoding {
        Encoding::Linear16 => 16,
        Encoding::Ulaw | Encoding::Alaw => 8,
    };
    if bits != expected_bits {
        return Err(WavProblem::UnsupportedBits { format: tag, bits });
    }
    Ok(encoding)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A WAVE file: `fmt ` with these fields (16 bytes), an optional extra chunk, `data`.
    pub(crate) fn wav(tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
        let mut fmt = Vec::new();
        fmt.extend_from_slice(&tag.to_le_bytes());
        fmt.extend_from_slice(&channels.to_le_bytes());
        fmt.extend_from_slice(&rate.to_le_bytes());
        let block = u32::from(channels) * u32::from(bits / 8);
        fmt.extend_from_slice(&(rate * block).to_le_bytes());
        fmt.extend_from_slice(&(block as u16).to_le_bytes());
        fmt.extend_from_slice(&bits.to_le_bytes());
        let mut chunks = Vec::new();
        chunk(&mut chunks, b"fmt ", &fmt);
        chunk(&mut chunks, b"LIST", b"INFOodd");
        chunk(&mut chunks, b"data", data);
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(4 + chunks.len() as u32).to_le_bytes());
        out.extend_from_slice(b"WAVE");
        out.extend_from_slice(&chunks);
        out
    }

    fn chunk(out: &mut Vec<u8>, id: &[u8; 4], body: &[u8]) {
        out.extend_from_slice(id);
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(body);
        if body.len() % 2 == 1 {
            out.push(0);
        }
    }

    #[test]
    fn reads_the_three_telephone_codings() {
        let pcm = wav(1, 1, 8000, 16, &[1, 0, 2, 0, 3]);
        let w = parse(&pcm).unwrap();
        assert_eq!(w.encoding, Encoding::Linear16);
        assert_eq!(w.data, [1, 0, 2, 0], "the odd byte is dropped");
        assert_eq!(w.samples(), 2);
        let ulaw = wav(7, 1, 8000, 8, &[0xff, 0x7f, 0x80]);
        assert_eq!(parse(&ulaw).unwrap().encoding, Encoding::Ulaw);
        assert_eq!(parse(&ulaw).unwrap().samples(), 3);
        let alaw = wav(6, 1, 8000, 8, &[0xd5]);
        assert_eq!(parse(&alaw).unwrap().encoding, Encoding::Alaw);
    }

    #[test]
    fn names_what_is_wrong() {
        assert_eq!(parse(b"RIFX....WAVE"), Err(WavProblem::NotWav));
        assert_eq!(parse(b""), Err(WavProblem::NotWav));
        assert_eq!(
            parse(&wav(3, 1, 8000, 32, &[0; 8])),
            Err(WavProblem::UnsupportedFormat(3)),
            "float"
        );
        assert_eq!(
            parse(&wav(1, 1, 44100, 16, &[0; 8])),
            Err(WavProblem::UnsupportedRate(44100))
        );
        assert_eq!(
            parse(&wav(1, 2, 8000, 16, &[0; 8])),
            Err(WavProblem::UnsupportedChannels(2))
        );
        assert_eq!(
            parse(&wav(1, 1, 8000, 8, &[0; 8])),
            Err(WavProblem::UnsupportedBits { format: 1, bits: 8 })
        );
        assert_eq!(parse(&wav(7, 1, 8000, 8, &[])), Err(WavProblem::Empty));
        let no_data = &wav(7, 1, 8000, 8, &[1])[..12 + 8 + 16];
        assert_eq!(parse(no_data), Err(WavProblem::MissingChunk("data")));
        let mut cut = wav(7, 1, 8000, 8, &[1]);
        cut.truncate(12 + 8 + 10);
        assert_eq!(parse(&cut), Err(WavProblem::Truncated("fmt ")));
    }

    #[test]
    fn extensible_takes_the_sub_format_and_a_streamed_length_is_clamped() {
        let base = wav(0xfffe, 1, 8000, 16, &[0; 4]);
        // Grow `fmt ` to 40 bytes with the PCM sub-format GUID's first two bytes at 24.
        let mut ext = base[20..36].to_vec();
        ext.extend_from_slice(&22u16.to_le_bytes());
        ext.extend_from_slice(&16u16.to_le_bytes());
        ext.extend_from_slice(&4u32.to_le_bytes());
        ext.extend_from_slice(&[
            1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71,
        ]);
        let mut file = base[..12].to_vec();
        file.extend_from_slice(b"fmt ");
        file.extend_from_slice(&(ext.len() as u32).to_le_bytes());
        file.extend_from_slice(&ext);
        file.extend_from_slice(b"data");
        file.extend_from_slice(&u32::MAX.to_le_bytes());
        file.extend_from_slice(&[5, 0, 6, 0]);
        let w = parse(&file).unwrap();
        assert_eq!(
            (w.encoding, w.data),
            (Encoding::Linear16, &[5, 0, 6, 0][..])
        );
    }

    #[test]
    fn any_bytes_give_an_answer_not_a_panic() {
        let good = wav(1, 1, 8000, 16, &[1, 2, 3, 4]);
        for cut in 0..good.len() {
            let _ = parse(&good[..cut]);
        }
        let mut state = 0x1234_5678u32;
        for _ in 0..2000 {
            let mut bytes = good.clone();
            for b in bytes.iter_mut() {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                if state >> 28 == 0 {
                    *b = (state >> 8) as u8;
                }
            }
            let _ = parse(&bytes);
        }
    }
}
