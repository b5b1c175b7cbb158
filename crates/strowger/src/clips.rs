//! A call's own recordings: what a caller says in a call flow's `record` step, kept for
//! the rest of the call (said again by a `$name` prompt, announced to the target of an
//! assisted transfer) and never stored as a message.
//!
//! Each is a WAV file (8 kHz mono 16-bit PCM) in one folder of the data directory,
//! `flow-recordings/`, owned by its call: a [`Clip`] removes its file when dropped, and the
//! voicemail thread drops a call's clips when the call's dialogue ends. The folder is
//! emptied when the binary starts, so a crash leaves nothing behind for long either.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Samples per second of a clip.
const SAMPLE_RATE: u32 = 8000;
/// The canonical WAV header's length.
const HEADER_LEN: u32 = 44;

/// The folder clips are written in.
#[derive(Debug)]
pub struct ClipFolder {
    dir: PathBuf,
    next: AtomicU64,
}

impl ClipFolder {
    /// Creates `dir` if needed and removes what an earlier run left in it.
    pub fn open(dir: PathBuf) -> std::io::Result<ClipFolder> {
        std::fs::create_dir_all(&dir)?;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "wav") {
                if let Err(e) = std::fs::remove_file(&path) {
                    tracing::warn!(path = %path.display(), error = %e, "old flow recording stays");
                }
            }
        }
        Ok(ClipFolder {
            dir,
            next: AtomicU64::new(1),
        })
    }

    /// Starts a new clip file.
    pub fn start(&self) -> std::io::Result<ClipWriter> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("{n}.wav"));
        let file = File::options().write(true).create_new(true).open(&path)?;
        let mut writer = ClipWriter {
            file: Some(BufWriter::new(file)),
            path,
            data_bytes: 0,
        };
        let header = header(0);
        if let Some(file) = writer.file.as_mut() {
            file.write_all(&header)?;
        }
        Ok(writer)
    }
}

/// A clip being recorded; dropping it unfinished removes its file.
#[derive(Debug)]
pub struct ClipWriter {
    file: Option<BufWriter<File>>,
    path: PathBuf,
    data_bytes: u32,
}

impl ClipWriter {
    /// Appends 8 kHz 16-bit samples.
    pub fn write_samples(&mut self, samples: &[i16]) -> std::io::Result<()> {
        let Some(file) = self.file.as_mut() else {
            return Err(std::io::Error::other("clip already finished"));
        };
        let len = u32::try_from(samples.len() * 2).unwrap_or(u32::MAX);
        // A clip is at most minutes long; a WAV size field holds 4 GB.
        self.data_bytes = self
            .data_bytes
            .checked_add(len)
            .filter(|n| *n < u32::MAX - HEADER_LEN)
            .ok_or_else(|| std::io::Error::other("clip too long for a WAV file"))?;
        let mut buf = Vec::with_capacity(samples.len() * 2);
        for s in samples {
            buf.extend_from_slice(&s.to_le_bytes());
        }
        file.write_all(&buf)
    }

    /// Completes the file (its sizes in the header) and hands it over as a [`Clip`].
    pub fn finish(mut self) -> std::io::Result<Clip> {
        let Some(file) = self.file.take() else {
            return Err(std::io::Error::other("clip already finished"));
        };
        let mut file = file.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&header(self.data_bytes))?;
        file.flush()?;
        Ok(Clip {
            path: std::mem::take(&mut self.path),
        })
    }
}

impl Drop for ClipWriter {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            remove(&self.path);
        }
    }
}

/// A finished clip: its file lives as long as this value.
#[derive(Debug)]
pub struct Clip {
    path: PathBuf,
}

impl Clip {
    /// The WAV file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Clip {
    fn drop(&mut self) {
        remove(&self.path);
    }
}

fn remove(path: &Path) {
    if let Err(e) = std::fs::remove_file(path) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %e, "flow recording not removed");
        }
    }
}

/// The 44-byte header of 8 kHz mono 16-bit PCM with `data_len` bytes of samples.
fn header(data_len: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN as usize);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(data_len + HEADER_LEN - 8).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes()); // PCM
    h.extend_from_slice(&1u16.to_le_bytes()); // mono
    h.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    h.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&16u16.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clip_plays_as_written_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("7.wav"), b"left by a crash").unwrap();
        let folder = ClipFolder::open(dir.path().join("")).unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let mut w = folder.start().unwrap();
        w.write_samples(&vec![1000; 8000]).unwrap();
        let clip = w.finish().unwrap();
        let music = media_engine::Music::load(clip.path()).unwrap();
        assert_eq!(music.duration(), std::time::Duration::from_secs(1));
        // An unfinished one and a finished one are both gone once dropped.
        let unfinished = folder.start().unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        drop(unfinished);
        drop(clip);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
