//! Recording into the store without ever exposing half a file.
//!
//! An [`AudioWriter`] writes into `<mailbox>/.tmp-<id>.wav`: the WAV header with zero
//! sizes first, then the samples as they come. Committing (through
//! [`crate::MessageStore::commit_message`] or [`crate::MessageStore::commit_greeting`])
//! patches the sizes, fsyncs the file, renames it to `<id>.wav`, fsyncs the directory and
//! only then inserts the index row. So after a crash at any point there is either a
//! `.tmp-` file (removed when the store is next opened), a complete file without a row
//! (quarantined when the store is next opened), or a complete file with its row; a reader
//! never finds a row whose file is partial.
//!
//! A writer owns only its file, not the store: it can be moved to the media thread that
//! receives the audio while the store stays with its owner. Dropping it without
//! committing removes the temporary file.

use crate::error::{io_error, write_error, VoicemailError};
use crate::mailbox::{MailboxId, MessageId};
use crate::wav::{self, DATA_SIZE_AT, MAX_DATA_BYTES, RIFF_SIZE_AT};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The prefix of temporary files; nothing else in a mailbox directory starts with it.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// Writes one recording (a message, a call recording or a greeting) for a mailbox.
///
/// Obtained from [`crate::MessageStore::start_recording`]; feed it with
/// [`AudioWriter::write_samples`], then hand it back to the store to commit, or call
/// [`AudioWriter::abort`] (dropping it does the same).
#[derive(Debug)]
pub struct AudioWriter {
    mailbox: MailboxId,
    id: MessageId,
    dir: PathBuf,
    temp_path: PathBuf,
    /// `None` once the file is closed: finished, failed or aborted.
    file: Option<BufWriter<File>>,
    data_bytes: u64,
    failed: bool,
    /// Set once the file is renamed into place: from then on it is the store's.
    placed: bool,
}

/// What [`AudioWriter::finish`] left: the file in place, or nothing because it was short.
#[derive(Debug)]
pub(crate) enum Finished {
    /// The file is complete, synced and renamed to `file_name` in the mailbox directory.
    Placed {
        /// The final name.
        file_name: String,
        /// The final path.
        path: PathBuf,
        /// Its length.
        duration_ms: u64,
    },
    /// Shorter than the minimum: the temporary file is removed.
    TooShort {
        /// How long it was.
        duration_ms: u64,
    },
}

impl AudioWriter {
    /// Creates `.tmp-<id>.wav` in `dir` (the mailbox directory, which exists) and writes
    /// the header with placeholder sizes.
    pub(crate) fn create(
        dir: PathBuf,
        mailbox: MailboxId,
        id: MessageId,
    ) -> Result<AudioWriter, VoicemailError> {
        let temp_path = dir.join(format!("{TEMP_PREFIX}{id}.wav"));
        // create_new: a leftover of the same name would mean two writers for one id.
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp_path)
            .map_err(|e| write_error(&temp_path, e))?;
        let mut w = AudioWriter {
            mailbox,
            id,
            dir,
            temp_path,
            file: Some(BufWriter::with_capacity(16 * 1024, file)),
            data_bytes: 0,
            failed: false,
            placed: false,
        };
        w.write_bytes(&wav::header(0))?;
        w.data_bytes = 0;
        Ok(w)
    }

    /// The mailbox this recording is for.
    pub fn mailbox(&self) -> &MailboxId {
        &self.mailbox
    }

    /// The id the message (or greeting file) will have once committed.
    pub fn id(&self) -> MessageId {
        self.id
    }

    /// The temporary file being written.
    pub fn temp_path(&self) -> &Path {
        &self.temp_path
    }

    /// How many samples have been written.
    pub fn samples(&self) -> u64 {
        self.data_bytes / 2
    }

    /// How long the recording is so far, in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        wav::samples_to_ms(self.samples())
    }

    /// Appends 8 kHz 16-bit samples.
    ///
    /// On failure (a full disk: [`VoicemailError::DiskFull`]) the temporary file is removed
    /// at once and the writer refuses everything afterwards
    /// ([`VoicemailError::WriterFailed`]).
    pub fn write_samples(&mut self, samples: &[i16]) -> Result<(), VoicemailError> {
        let len = samples.len() as u64 * 2;
        if self.data_bytes.saturating_add(len) > MAX_DATA_BYTES {
            self.fail();
            return Err(VoicemailError::TooLongForWav {
                path: self.temp_path.clone(),
            });
        }
        // Converted in stack-sized pieces: one call per 20 ms packet is the usual rate.
        let mut buf = [0u8; 1024];
        for chunk in samples.chunks(buf.len() / 2) {
            for (i, s) in chunk.iter().enumerate() {
                buf[2 * i..2 * i + 2].copy_from_slice(&s.to_le_bytes());
            }
            self.write_bytes(&buf[..chunk.len() * 2])?;
        }
        Ok(())
    }

    /// Discards the recording and removes its temporary file.
    pub fn abort(mut self) {
        self.fail();
    }

    fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), VoicemailError> {
        let Some(file) = self.file.as_mut() else {
            return Err(VoicemailError::WriterFailed {
                path: self.temp_path.clone(),
            });
        };
        if let Err(e) = file.write_all(bytes) {
            let err = write_error(&self.temp_path, e);
            self.fail();
            return Err(err);
        }
        self.data_bytes += bytes.len() as u64;
        Ok(())
    }

    /// Closes and removes the temporary file; the writer refuses all further use.
    fn fail(&mut self) {
        self.failed = true;
        // Dropping the BufWriter would try to flush into the failed file; take the file
        // out without flushing instead.
        if let Some(w) = self.file.take() {
            let (file, _unflushed) = w.into_parts();
            drop(file);
        }
        remove_quietly(&self.temp_path);
    }

    /// Completes the file: patches the sizes, fsyncs, renames it to `<id>.wav` and fsyncs
    /// the directory. A recording shorter than `min_ms` is removed instead. On any error the
    /// temporary (or renamed) file is removed.
    pub(crate) fn finish(&mut self, min_ms: u64) -> Result<Finished, VoicemailError> {
        let Some(w) = self.file.take() else {
            return Err(VoicemailError::WriterFailed {
                path: self.temp_path.clone(),
            });
        };
        let duration_ms = self.duration_ms();
        if duration_ms < min_ms {
            let (file, _unflushed) = w.into_parts();
            drop(file);
            remove_quietly(&self.temp_path);
            self.failed = true;
            return Ok(Finished::TooShort { duration_ms });
        }
        let result = self.complete(w);
        if result.is_err() {
            self.failed = true;
            remove_quietly(&self.temp_path);
        }
        result.map(|(file_name, path)| Finished::Placed {
            file_name,
            path,
            duration_ms,
        })
    }

    fn complete(&mut self, w: BufWriter<File>) -> Result<(String, PathBuf), VoicemailError> {
        let temp = &self.temp_path;
        let mut file = w
            .into_inner()
            .map_err(|e| write_error(temp, e.into_error()))?;
        // The size check in write_samples keeps both values within u32.
        let data_len = u32::try_from(self.data_bytes)
            .map_err(|_| VoicemailError::TooLongForWav { path: temp.clone() })?;
        let header = wav::header(data_len);
        let patch = |file: &mut File, at: u64| -> std::io::Result<()> {
            file.seek(SeekFrom::Start(at))?;
            let at = usize::try_from(at).unwrap_or(0);
            file.write_all(&header[at..at + 4])
        };
        patch(&mut file, RIFF_SIZE_AT).map_err(|e| write_error(temp, e))?;
        patch(&mut file, DATA_SIZE_AT).map_err(|e| write_error(temp, e))?;
        // Delayed allocation can report a full disk only here.
        file.sync_all().map_err(|e| write_error(temp, e))?;
        drop(file);
        let file_name = format!("{}.wav", self.id);
        let path = self.dir.join(&file_name);
        std::fs::rename(temp, &path).map_err(io_error("rename into place", temp))?;
        self.placed = true;
        if let Err(e) = sync_dir(&self.dir) {
            // The rename may not be durable; take the file back out so that no row is
            // written for it.
            remove_quietly(&path);
            return Err(e);
        }
        Ok((file_name, path))
    }
}

impl Drop for AudioWriter {
    fn drop(&mut self) {
        if !self.placed && !self.failed {
            self.fail();
        }
    }
}

/// Makes the directory entries of `dir` (a rename, a new file) durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), VoicemailError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_error("sync directory", dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Removes `path`, logging (not failing on) anything but "already gone": used on paths
/// that are being abandoned anyway.
pub(crate) fn remove_quietly(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot remove file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writer(dir: &Path) -> AudioWriter {
        AudioWriter::create(dir.to_owned(), MailboxId::new("201").unwrap(), MessageId(7)).unwrap()
    }

    #[test]
    fn a_writer_can_move_to_a_media_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<AudioWriter>();
    }

    #[test]
    fn finish_patches_sizes_and_renames() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = writer(dir.path());
        assert!(w.temp_path().exists());
        w.write_samples(&vec![100i16; 8000]).unwrap();
        assert_eq!(w.duration_ms(), 1000);
        let Finished::Placed {
            file_name,
            path,
            duration_ms,
        } = w.finish(1000).unwrap()
        else {
            panic!("a one-second recording is long enough");
        };
        drop(w);
        assert_eq!((file_name.as_str(), duration_ms), ("7.wav", 1000));
        assert_eq!(wav::read_samples(&path).unwrap(), vec![100i16; 8000]);
        assert!(!dir.path().join(".tmp-7.wav").exists());
    }

    #[test]
    fn short_recordings_and_drops_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = writer(dir.path());
        w.write_samples(&[0; 7999]).unwrap();
        assert!(matches!(
            w.finish(1000),
            Ok(Finished::TooShort { duration_ms: 999 })
        ));
        assert!(matches!(
            w.write_samples(&[0]),
            Err(VoicemailError::WriterFailed { .. })
        ));
        drop(w);
        let w = writer(dir.path());
        drop(w);
        let w = writer(dir.path());
        w.abort();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    #[cfg(unix)]
    fn dev_full_is_a_typed_disk_full_error() {
        // The temporary file is a link to /dev/full, which fails every write with ENOSPC:
        // the real error a full disk gives, on the writer's own code path.
        if !Path::new("/dev/full").exists() {
            return; // not a Linux-like host
        }
        let dir = tempfile::tempdir().unwrap();
        let temp_path = dir.path().join(".tmp-1.wav");
        std::os::unix::fs::symlink("/dev/full", &temp_path).unwrap();
        let file = OpenOptions::new().write(true).open(&temp_path).unwrap();
        let mut w = AudioWriter {
            mailbox: MailboxId::new("201").unwrap(),
            id: MessageId(1),
            dir: dir.path().to_owned(),
            temp_path: temp_path.clone(),
            file: Some(BufWriter::with_capacity(16, file)),
            data_bytes: 0,
            failed: false,
            placed: false,
        };
        let err = w.write_samples(&[1; 64]).unwrap_err();
        assert!(
            matches!(&err, VoicemailError::DiskFull { path, .. } if *path == temp_path),
            "{err:?}"
        );
        assert!(err.to_string().contains(".tmp-1.wav"), "{err}");
        // The link is gone (remove_file removes a link, never its target).
        assert!(std::fs::symlink_metadata(&temp_path).is_err());
        assert!(Path::new("/dev/full").exists());
        assert!(matches!(
            w.write_samples(&[1]),
            Err(VoicemailError::WriterFailed { .. })
        ));
        assert!(matches!(
            w.finish(0),
            Err(VoicemailError::WriterFailed { .. })
        ));
    }
}
