//! Music on hold as the relay plays it: a piece of audio read once from a WAV file and held
//! in memory in both G.711 laws, so that a relay thread only ever copies 160 ready-made
//! bytes into a packet — no decoding, no file access, no allocation while it plays.
//!
//! One [`Music`] is shared (in an `Arc`) by every call that plays it; the binary loads the
//! files named in the configuration when it applies it, and hands them to the engine with
//! each [`start_music`](crate::MediaEngine::start_music).

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use crate::g711;
use crate::wav::{self, Encoding, WavProblem};

/// The longest piece accepted: ten minutes (4.8 MB per law in memory). Hold music loops,
/// so longer pieces buy nothing but memory.
pub const MAX_MUSIC_SECONDS: u32 = 600;

/// Largest file read: ten minutes of 16-bit PCM plus room for tags and other chunks.
const MAX_FILE_BYTES: u64 = MAX_MUSIC_SECONDS as u64 * wav::RATE as u64 * 2 + (1 << 20);

/// A piece of music on hold, ready to play in PCMU or PCMA.
#[derive(Clone, PartialEq, Eq)]
pub struct Music {
    name: String,
    pcmu: Vec<u8>,
    pcma: Vec<u8>,
}

impl fmt::Debug for Music {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Music")
            .field("name", &self.name)
            .field("duration", &self.duration())
            .finish()
    }
}

impl Music {
    /// Reads a WAV file held in memory: 8 kHz mono, 16-bit PCM or G.711 µ-law/A-law.
    /// `name` says where it came from, for errors and logs (a path, or "built-in").
    pub fn from_wav(name: impl Into<String>, bytes: &[u8]) -> Result<Music, MusicError> {
        let name = name.into();
        let fail = |problem| MusicError {
            file: name.clone(),
            problem,
        };
        let audio = wav::parse(bytes).map_err(|p| fail(MusicProblem::Wav(p)))?;
        let samples = audio.samples();
        if samples > MAX_MUSIC_SECONDS as usize * wav::RATE as usize {
            return Err(fail(MusicProblem::TooLong {
                seconds: samples as u64 / u64::from(wav::RATE),
            }));
        }
        // Both laws are kept: a law converts to the other only through linear, and doing
        // it once here keeps the relay threads to plain copies.
        let (pcmu, pcma) = match audio.encoding {
            Encoding::Linear16 => audio
                .data
                .chunks_exact(2)
                .map(|b| {
                    let s = i16::from_le_bytes([b[0], b[1]]);
                    (g711::linear_to_ulaw(s), g711::linear_to_alaw(s))
                })
                .unzip(),
            Encoding::Ulaw => (
                audio.data.to_vec(),
                audio
                    .data
                    .iter()
                    .map(|&c| g711::linear_to_alaw(g711::ulaw_to_linear(c)))
                    .collect(),
            ),
            Encoding::Alaw => (
                audio
                    .data
                    .iter()
                    .map(|&c| g711::linear_to_ulaw(g711::alaw_to_linear(c)))
                    .collect(),
                audio.data.to_vec(),
            ),
        };
        Ok(Music { name, pcmu, pcma })
    }

    /// The ringback tone callers hear while a call rings for them (ITU-T E.180 for
    /// Europe: 425 Hz, one second on, four off), at -13 dBm0 or so, generated rather than
    /// shipped as a file.
    pub fn ringback_tone() -> Music {
        let rate = f64::from(wav::RATE);
        let samples = (0..5 * wav::RATE).map(|n| {
            let t = f64::from(n) / rate;
            if t < 1.0 {
                // Whole cycles only (425 in a second), so the loop has no click.
                (7000.0 * (2.0 * std::f64::consts::PI * 425.0 * t).sin()) as i16
            } else {
                0
            }
        });
        let (pcmu, pcma) = samples
            .map(|s| (g711::linear_to_ulaw(s), g711::linear_to_alaw(s)))
            .unzip();
        Music {
            name: "ringback".into(),
            pcmu,
            pcma,
        }
    }

    /// The pieces one after the other, as one piece called `name` (an announcement and
    /// the music that follows it, played in a loop).
    pub fn joined(name: impl Into<String>, parts: &[&Music]) -> Music {
        Music {
            name: name.into(),
            pcmu: parts.iter().flat_map(|m| m.pcmu.iter().copied()).collect(),
            pcma: parts.iter().flat_map(|m| m.pcma.iter().copied()).collect(),
        }
    }

    /// The first `length` of the piece (all of it when shorter).
    pub fn first(&self, length: Duration) -> Music {
        let samples = usize::try_from(length.as_millis() * u128::from(wav::RATE) / 1000)
            .unwrap_or(usize::MAX)
            .min(self.pcmu.len());
        Music {
            name: self.name.clone(),
            pcmu: self.pcmu[..samples].to_vec(),
            pcma: self.pcma[..samples].to_vec(),
        }
    }

    /// Reads a WAV file from disk (see [`from_wav`](Self::from_wav)); the error names the
    /// path. Files larger than ten minutes of audio are refused before they are read.
    pub fn load(path: &Path) -> Result<Music, MusicError> {
        let name = path.display().to_string();
        let read = || -> std::io::Result<Option<Vec<u8>>> {
            let file = std::fs::File::open(path)?;
            let mut bytes = Vec::new();
            file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
            Ok((bytes.len() as u64 <= MAX_FILE_BYTES).then_some(bytes))
        };
        match read() {
            Ok(Some(bytes)) => Music::from_wav(name, &bytes),
            Ok(None) => Err(MusicError {
                file: name,
                problem: MusicProblem::TooLarge {
                    bytes: MAX_FILE_BYTES,
                },
            }),
            Err(e) => Err(MusicError {
                file: name,
                problem: MusicProblem::Read(e.to_string()),
            }),
        }
    }

    /// Where the music came from, as given when it was loaded.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How long the piece plays before it starts again.
    pub fn duration(&self) -> Duration {
        Duration::from_micros(self.pcmu.len() as u64 * 1_000_000 / u64::from(wav::RATE))
    }

    /// The samples in the law of `payload_type` (0 PCMU, 8 PCMA); `None` for any other.
    pub(crate) fn encoded(&self, payload_type: u8) -> Option<&[u8]> {
        match payload_type {
            0 => Some(&self.pcmu),
            8 => Some(&self.pcma),
            _ => None,
        }
    }
}

/// A music file that cannot be played, with its name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("music on hold {file}: {problem}")]
pub struct MusicError {
    /// The file (its path, or the name it was given).
    pub file: String,
    /// What is wrong with it.
    pub problem: MusicProblem,
}

/// What is wrong with a music file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MusicProblem {
    /// The file could not be read (the operating system's words).
    #[error("cannot read it: {0}")]
    Read(String),
    /// It is not a WAV file we can play.
    #[error(transparent)]
    Wav(WavProblem),
    /// It plays longer than [`MAX_MUSIC_SECONDS`].
    #[error("{seconds} s long: at most {MAX_MUSIC_SECONDS} s (hold music loops)")]
    TooLong {
        /// Its length.
        seconds: u64,
    },
    /// The file is larger than ten minutes of audio could be.
    #[error(
        "larger than {bytes} bytes: at most {MAX_MUSIC_SECONDS} s of audio (hold music loops)"
    )]
    TooLarge {
        /// The limit.
        bytes: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wav::tests::wav;

    #[test]
    fn pieces_join_and_shorten() {
        let tone = Music::ringback_tone();
        let two = Music::joined("two", &[&tone, &tone.first(Duration::from_secs(1))]);
        assert_eq!(two.duration(), Duration::from_secs(6));
        assert_eq!(two.name(), "two");
        assert_eq!(
            two.encoded(0).unwrap()[..8000],
            tone.encoded(0).unwrap()[..8000]
        );
        assert_eq!(two.encoded(8).unwrap().len(), 48_000);
        assert_eq!(
            tone.first(Duration::from_secs(60)).duration(),
            tone.duration()
        );
    }

    #[test]
    fn the_ringback_tone_is_one_second_of_425_hz_in_five() {
        let tone = Music::ringback_tone();
        assert_eq!(tone.duration(), Duration::from_secs(5));
        let linear: Vec<i16> = tone
            .encoded(0)
            .unwrap()
            .iter()
            .map(|&c| g711::ulaw_to_linear(c))
            .collect();
        let rate = wav::RATE as usize;
        let (on, off) = linear.split_at(rate);
        assert!(
            off.iter().all(|s| s.abs() < 16),
            "silent after the first second"
        );
        let peak = on.iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((6000..8000).contains(&peak), "peak {peak}");
        // 425 Hz: 850 sign changes in the second.
        let crossings = on.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
        assert!(
            (845..=855).contains(&crossings),
            "{crossings} zero crossings"
        );
        assert_eq!(tone.encoded(8).unwrap().len(), linear.len());
    }

    #[test]
    fn pcm_is_encoded_in_both_laws() {
        let samples: Vec<u8> = [0i16, 1000, -1000, 32767]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let m = Music::from_wav("tune.wav", &wav(1, 1, 8000, 16, &samples)).unwrap();
        assert_eq!(m.encoded(0), Some(&[0xff, 0xce, 0x4e, 0x80][..]));
        assert_eq!(m.encoded(8), Some(&[0xd5, 0xfa, 0x7a, 0xaa][..]));
        assert_eq!(m.encoded(9), None);
        assert_eq!(m.name(), "tune.wav");
        assert_eq!(m.duration(), Duration::from_micros(500));
    }

    #[test]
    fn a_law_file_keeps_its_bytes_and_gains_the_other_law() {
        let m = Music::from_wav("a", &wav(6, 1, 8000, 8, &[0xd5, 0xaa])).unwrap();
        assert_eq!(m.encoded(8), Some(&[0xd5, 0xaa][..]));
        // A-law's smallest step is +8 (it has no zero), which µ-law can tell from 0.
        assert_eq!(m.encoded(0), Some(&[0xfe, 0x80][..]));
        let m = Music::from_wav("u", &wav(7, 1, 8000, 8, &[0xff, 0x80])).unwrap();
        assert_eq!(m.encoded(0), Some(&[0xff, 0x80][..]));
        assert_eq!(m.encoded(8), Some(&[0xd5, 0xaa][..]));
    }

    #[test]
    fn errors_name_the_file_and_the_reason() {
        let e = Music::from_wav("cd.wav", &wav(1, 2, 44100, 16, &[0; 8])).unwrap_err();
        assert_eq!(e.file, "cd.wav");
        assert_eq!(
            e.problem,
            MusicProblem::Wav(WavProblem::UnsupportedChannels(2))
        );
        assert!(
            e.to_string()
                .starts_with("music on hold cd.wav: 2 channels"),
            "{e}"
        );
        let long = vec![0xff; (MAX_MUSIC_SECONDS as usize + 1) * 8000];
        let e = Music::from_wav("long.wav", &wav(7, 1, 8000, 8, &long)).unwrap_err();
        assert_eq!(e.problem, MusicProblem::TooLong { seconds: 601 });
        let e = Music::load(Path::new("/nonexistent/hold.wav")).unwrap_err();
        assert_eq!(e.file, "/nonexistent/hold.wav");
        assert!(matches!(e.problem, MusicProblem::Read(_)), "{e}");
    }
}
