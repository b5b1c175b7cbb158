//! Why a session description was refused. Every variant names the line (counted from 1)
//! and what was wrong, so that a 488 can carry a useful `Warning` and a trace points at the
//! culprit. The texts hold no input bytes, so they never contain CR or LF.

/// A parse failure of [`parse`](crate::parse). The caller answers it with 488 Not
/// Acceptable Here (or drops an ACK/PRACK body and ends the call).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpError {
    /// The input ended before a required line (`v=` for empty input, `t=`, …).
    #[error("line {line}: description ends without a '{kind}=' line")]
    Missing {
        /// The last line read (1 for empty input).
        line: usize,
        /// The type letter of the missing line.
        kind: char,
    },
    /// A line that is not `<letter>=<value>`, an empty line, or a control character (NUL,
    /// or CR not followed by LF) inside a line.
    #[error("line {line}: not a '<type>=<value>' line")]
    MalformedLine {
        /// The line.
        line: usize,
    },
    /// A line whose value is not UTF-8 (RFC 8866 §5: the default charset).
    #[error("line {line}: not valid UTF-8")]
    NotUtf8 {
        /// The line.
        line: usize,
    },
    /// A type letter RFC 8866 does not define; §5 tells parsers to refuse the whole
    /// description rather than guess.
    #[error("line {line}: unknown line type '{kind}='")]
    UnknownType {
        /// The line.
        line: usize,
        /// Its type letter.
        kind: char,
    },
    /// A known line where RFC 8866 §5 does not allow it (out of order, repeated, or
    /// session-only inside a media section).
    #[error("line {line}: '{kind}=' not allowed here: {reason}")]
    Misplaced {
        /// The line.
        line: usize,
        /// Its type letter.
        kind: char,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// `v=` other than `v=0`.
    #[error("line {line}: unsupported protocol version (only v=0 exists)")]
    BadVersion {
        /// The line.
        line: usize,
    },
    /// A field that does not follow the grammar: wrong count, bad number, port out of range…
    #[error("line {line}: invalid {field} in '{kind}=' line")]
    InvalidField {
        /// The line.
        line: usize,
        /// Its type letter.
        kind: char,
        /// Which field, named as in RFC 8866 §9 (`port`, `sess-version`, …).
        field: &'static str,
    },
    /// An attribute this crate interprets (`rtpmap`, `fmtp`, `ptime`, `rtcp`, a
    /// direction) whose value does not follow its grammar.
    #[error("line {line}: invalid 'a={name}' attribute")]
    InvalidAttribute {
        /// The line.
        line: usize,
        /// The attribute name.
        name: &'static str,
    },
    /// A media section with a port but no connection address, at its level or the
    /// session's (RFC 8866 §5.7).
    #[error("line {line}: media section {media} has no connection address")]
    MissingConnection {
        /// The line of its `m=`.
        line: usize,
        /// Its index, counted from 0.
        media: usize,
    },
    /// More lines than [`MAX_LINES`](crate::MAX_LINES).
    #[error("line {line}: more than {limit} lines")]
    TooManyLines {
        /// The first line over the limit.
        line: usize,
        /// The limit.
        limit: usize,
    },
    /// More media sections than [`MAX_MEDIA`](crate::MAX_MEDIA).
    #[error("line {line}: more than {limit} media sections")]
    TooManyMedia {
        /// The `m=` line over the limit.
        line: usize,
        /// The limit.
        limit: usize,
    },
}

impl SdpError {
    /// The line the error is about, counted from 1.
    pub fn line(&self) -> usize {
        match *self {
            SdpError::Missing { line, .. }
            | SdpError::MalformedLine { line }
            | SdpError::NotUtf8 { line }
            | SdpError::UnknownType { line, .. }
            | SdpError::Misplaced { line, .. }
            | SdpError::BadVersion { line }
            | SdpError::InvalidField { line, .. }
            | SdpError::InvalidAttribute { line, .. }
            | SdpError::MissingConnection { line, .. }
            | SdpError::TooManyLines { line, .. }
            | SdpError::TooManyMedia { line, .. } => line,
        }
    }
}
