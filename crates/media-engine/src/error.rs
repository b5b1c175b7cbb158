//! The one error type of the crate.

use std::io;

/// What can go wrong when commanding the media engine.
///
/// Network input never produces an error: a bad datagram is dropped and counted in the
/// session statistics. These errors are about the commands themselves.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// No RTP/RTCP port pair is free in the configured range (or every free pair is bound
    /// by some other program). Call control usually answers such a call with 503.
    #[error("no free RTP/RTCP port pair in {first}-{last}")]
    PoolExhausted {
        /// First port of the configured range.
        first: u16,
        /// Last port of the configured range.
        last: u16,
    },
    /// The recording is not (or no longer) one of the session's.
    #[error("media session {session}: no recording {recording}")]
    UnknownRecording {
        /// The session.
        session: crate::SessionId,
        /// The recording named.
        recording: crate::RecordingId,
    },
    /// The session id is not (or no longer) known to the engine.
    #[error("unknown media session {0}")]
    UnknownSession(crate::SessionId),
    /// The leg is not one the command can act on: an extra leg that is not (or no longer)
    /// in the session, leg A or B where only extra legs will do, or a listener of a leg
    /// other than A or B.
    #[error("media session {session}: {leg:?} {reason}")]
    InvalidLeg {
        /// The session.
        session: crate::SessionId,
        /// The leg named.
        leg: crate::Leg,
        /// Why it will not do.
        reason: &'static str,
    },
    /// An operating-system call failed.
    #[error("{context}: {source}")]
    Io {
        /// What the engine was doing, e.g. which address it was binding.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
    /// Music, prompts and mixes are sent only as PCMU (0) or PCMA (8).
    #[error("audio cannot be played or mixed as payload type {0} (only 0 PCMU, 8 PCMA)")]
    UnsupportedPayloadType(u8),
    /// Telephone-events must use a dynamic payload type (96–127), as SDP negotiates them
    /// (`a=rtpmap:<pt> telephone-event/8000`).
    #[error("telephone-events cannot use payload type {0} (only dynamic ones, 96-127)")]
    DtmfPayloadType(u8),
    /// The relay thread is gone (it stopped after an unrecoverable poll error, or the
    /// engine is shutting down), so the command could not be carried out.
    #[error("the media relay thread has stopped")]
    EngineStopped,
}

impl MediaError {
    /// Wraps an IO error with the context a reader of the log needs.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        MediaError::Io {
            context: context.into(),
            source,
        }
    }
}
