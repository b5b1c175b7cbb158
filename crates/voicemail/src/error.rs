//! The one error type of the crate, with what the store was doing and on which file.

use crate::mailbox::MailboxId;
use crate::pin::PinRefusal;
use crate::wav::WavProblem;
use crate::MessageId;
use std::io;
use std::path::PathBuf;

/// A failure of the voicemail store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VoicemailError {
    /// A mailbox name that cannot be a directory name of the store.
    #[error("invalid mailbox {name:?}: {reason}")]
    InvalidMailbox {
        /// The name as given.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A directory of the store could not be created.
    #[error("cannot create directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The index database could not be opened or configured.
    #[error("cannot open voicemail index {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The index was written by a newer program whose schema this one does not know.
    #[error(
        "voicemail index {path} has schema version {found}, newer than this program \
         supports ({supported}); upgrade the program"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The schema version found in the file.
        found: i64,
        /// The newest schema version this program knows.
        supported: i64,
    },
    /// An SQLite operation failed.
    #[error("voicemail index error while {context}: {source}")]
    Sqlite {
        /// What the store was doing.
        context: &'static str,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The disk (or the file-size limit, or the quota) is full. Whatever was being written
    /// has been removed: neither a file nor an index row is left behind.
    #[error("no space left writing {path}: {source}")]
    DiskFull {
        /// The file that could not be written.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// Writing audio failed for another reason; as with [`VoicemailError::DiskFull`],
    /// nothing is left behind.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file that could not be written.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// Another file-system operation failed (rename, remove, directory listing, read).
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What the store was doing, e.g. "rename into place".
        action: &'static str,
        /// The file or directory concerned.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A writer was used after one of its writes failed; its file is already gone.
    #[error("the recording {path} failed earlier and was discarded")]
    WriterFailed {
        /// The temporary file the writer had.
        path: PathBuf,
    },
    /// A recording would outgrow what a WAV header can describe (4 GiB of samples).
    #[error("the recording {path} is too long for a WAV file")]
    TooLongForWav {
        /// The temporary file, now removed.
        path: PathBuf,
    },
    /// One of the store's audio files is not the WAV it wrote.
    #[error("{path} is not a readable voicemail WAV file: {problem}")]
    BadWav {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: WavProblem,
    },
    /// No message has this id.
    #[error("no voicemail message {0}")]
    UnknownMessage(MessageId),
    /// A message was asked to be forwarded to the mailbox it is in.
    #[error("message {id} is already in mailbox {mailbox}")]
    ForwardToSelf {
        /// The message.
        id: MessageId,
        /// Its mailbox.
        mailbox: MailboxId,
    },
    /// A greeting for a time profile was given an empty profile name.
    #[error("a time-profile greeting needs the profile's name")]
    EmptyProfileName,
    /// A new PIN breaks the [`crate::PinPolicy`].
    #[error("PIN refused: {0}")]
    PinRefused(PinRefusal),
    /// Hashing a PIN failed (only with unusable Argon2 parameters).
    #[error("cannot hash the PIN: {0}")]
    PinHash(#[source] argon2::password_hash::Error),
}

/// Attaches what the store was doing to an SQLite error.
pub(crate) trait SqlContext<T> {
    /// Maps the error to [`VoicemailError::Sqlite`] with `context`.
    fn ctx(self, context: &'static str) -> Result<T, VoicemailError>;
}

impl<T> SqlContext<T> for Result<T, rusqlite::Error> {
    fn ctx(self, context: &'static str) -> Result<T, VoicemailError> {
        self.map_err(|source| VoicemailError::Sqlite { context, source })
    }
}

/// True for the errors that mean "no room": a full disk, the process's file-size limit
/// (`EFBIG`), or a quota.
pub(crate) fn is_no_space(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::FileTooLarge | io::ErrorKind::QuotaExceeded
    )
}

/// The error for a failed write of audio to `path`: [`VoicemailError::DiskFull`] when
/// there is no room, else [`VoicemailError::Write`].
pub(crate) fn write_error(path: &std::path::Path, source: io::Error) -> VoicemailError {
    let path = path.to_owned();
    if is_no_space(&source) {
        VoicemailError::DiskFull { path, source }
    } else {
        VoicemailError::Write { path, source }
    }
}

/// Attaches an action and a path to an I/O error.
pub(crate) fn io_error<'p>(
    action: &'static str,
    path: &'p std::path::Path,
) -> impl FnOnce(io::Error) -> VoicemailError + 'p {
    move |source| VoicemailError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}
