//! The store's own WAV files: 8 kHz mono 16-bit PCM with the canonical 44-byte header.
//!
//! The writer puts the header down first with zero sizes (a recording's length is not
//! known until it ends) and patches the two size fields at commit; [`read_samples`] reads
//! back exactly that layout and refuses anything else. A general reader for files from
//! elsewhere lives in the media engine; this crate only ever reads what it wrote.

use crate::error::{io_error, VoicemailError};
use std::path::Path;

/// Samples per second of every stored file.
pub const SAMPLE_RATE: u32 = 8000;
/// The length of the header: RIFF (12) + `fmt ` chunk (24) + `data` chunk header (8).
pub(crate) const HEADER_LEN: usize = 44;
/// Where the RIFF chunk size is.
pub(crate) const RIFF_SIZE_AT: u64 = 4;
/// Where the `data` chunk size is.
pub(crate) const DATA_SIZE_AT: u64 = 40;
/// The most data bytes a 32-bit RIFF size can describe after the header.
pub(crate) const MAX_DATA_BYTES: u64 = u32::MAX as u64 - (HEADER_LEN as u64 - 8);

/// Why a file is not one of the store's WAV files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WavProblem {
    /// Shorter than the header, or the header is not the one the store writes.
    #[error("not an 8 kHz mono 16-bit PCM WAV header")]
    UnexpectedHeader,
    /// The header's data size does not match the file (a file never committed).
    #[error("data size {declared} in the header, {actual} bytes in the file")]
    SizeMismatch {
        /// The size the header declares.
        declared: u64,
        /// The bytes after the header.
        actual: u64,
    },
}

/// The header for `data_len` bytes of samples (0 while recording).
pub(crate) fn header(data_len: u32) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    let riff_len = data_len.saturating_add(HEADER_LEN as u32 - 8);
    let byte_rate = SAMPLE_RATE * 2;
    let parts: [&[u8]; 13] = [
        b"RIFF",
        &riff_len.to_le_bytes(),
        b"WAVE",
        b"fmt ",
        &16u32.to_le_bytes(), // fmt chunk length
        &1u16.to_le_bytes(),  // PCM
        &1u16.to_le_bytes(),  // mono
        &SAMPLE_RATE.to_le_bytes(),
        &byte_rate.to_le_bytes(),
        &2u16.to_le_bytes(),  // block align: one 16-bit sample
        &16u16.to_le_bytes(), // bits per sample
        b"data",
        &data_len.to_le_bytes(),
    ];
    let mut at = 0;
    for p in parts {
        h[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    }
    h
}

/// Milliseconds of audio in `samples` samples at [`SAMPLE_RATE`].
pub(crate) fn samples_to_ms(samples: u64) -> u64 {
    samples.saturating_mul(1000) / u64::from(SAMPLE_RATE)
}

/// Reads the samples of a file the store wrote.
pub fn read_samples(path: &Path) -> Result<Vec<i16>, VoicemailError> {
    let bytes = std::fs::read(path).map_err(io_error("read", path))?;
    let bad = |problem| VoicemailError::BadWav {
        path: path.to_owned(),
        problem,
    };
    let Some((head, data)) = bytes.split_at_checked(HEADER_LEN) else {
        return Err(bad(WavProblem::UnexpectedHeader));
    };
    let declared = head
        .get(40..44)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_le_bytes);
    // Everything before the data size, the RIFF size included, must be exactly what
    // `header` writes for that data size.
    if head[..40] != header(declared)[..40] {
        return Err(bad(WavProblem::UnexpectedHeader));
    }
    if u64::from(declared) != data.len() as u64 || data.len() % 2 != 0 {
        return Err(bad(WavProblem::SizeMismatch {
            declared: u64::from(declared),
            actual: data.len() as u64,
        }));
    }
    Ok(data
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_the_canonical_pcm_layout() {
        let h = header(16000);
        assert_eq!(&h[0..4], b"RIFF");
        assert_eq!(u32::from_le_bytes([h[4], h[5], h[6], h[7]]), 16036);
        assert_eq!(&h[8..16], b"WAVEfmt ");
        assert_eq!(u16::from_le_bytes([h[20], h[21]]), 1);
        assert_eq!(u16::from_le_bytes([h[22], h[23]]), 1);
        assert_eq!(u32::from_le_bytes([h[24], h[25], h[26], h[27]]), 8000);
        assert_eq!(u32::from_le_bytes([h[28], h[29], h[30], h[31]]), 16000);
        assert_eq!(u16::from_le_bytes([h[34], h[35]]), 16);
        assert_eq!(&h[36..40], b"data");
        assert_eq!(u32::from_le_bytes([h[40], h[41], h[42], h[43]]), 16000);
    }

    #[test]
    fn reads_back_and_refuses_unpatched_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        let mut bytes = header(4).to_vec();
        bytes.extend_from_slice(&[1, 0, 0xff, 0xff]);
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read_samples(&path).unwrap(), vec![1, -1]);

        // A header still holding the placeholder sizes: a recording never committed.
        let mut raw = header(0).to_vec();
        raw.extend_from_slice(&[1, 0]);
        std::fs::write(&path, &raw).unwrap();
        assert!(matches!(
            read_samples(&path),
            Err(VoicemailError::BadWav {
                problem: WavProblem::SizeMismatch { .. },
                ..
            })
        ));
        std::fs::write(&path, b"RIFF").unwrap();
        assert!(matches!(
            read_samples(&path),
            Err(VoicemailError::BadWav {
                problem: WavProblem::UnexpectedHeader,
                ..
            })
        ));
    }
}
