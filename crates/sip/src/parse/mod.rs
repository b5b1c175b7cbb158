//! The strict SIP parser (RFC 3261 §7 and §25): whole messages, URIs, stream framing for
//! connection transports, and the salvage of a `400 Bad Request` from a request that
//! failed to parse.
//!
//! Strict where it protects the core (framing, the transaction-keying headers, limits),
//! lenient only where RFC 4475 asks parsers to be (bare LF line ends, LWS before `<`).
//! Every function here takes untrusted bytes and never panics.

pub(crate) mod lex;
mod message;
mod salvage;
mod stream;
pub(crate) mod uri;

#[cfg(test)]
mod tests;

pub use message::parse_message;
pub use salvage::bad_request_response;
pub use stream::{frame_stream, Framing};
pub use uri::parse_uri;

/// Largest message accepted, in octets (a UDP datagram cannot be larger anyway).
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024;
/// Most header fields (lines after unfolding) accepted in one message.
pub const MAX_HEADERS: usize = 256;
/// Longest header field (name, colon and unfolded value) accepted, in octets.
pub const MAX_HEADER_LINE: usize = 8 * 1024;

/// Why a message, URI or header value did not parse. The `Display` text is a short phrase
/// without CR or LF, fit for a `400 Bad Request (...)` reason phrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The bytes end before the header block does (no empty line).
    #[error("incomplete message")]
    Incomplete,
    /// The message is larger than [`MAX_MESSAGE_SIZE`] (or the stream's limit).
    #[error("message too large")]
    TooLarge,
    /// More than [`MAX_HEADERS`] header fields.
    #[error("too many header fields")]
    TooManyHeaders,
    /// A header field longer than [`MAX_HEADER_LINE`].
    #[error("header field too long")]
    HeaderTooLong,
    /// The request line is not `Method SP Request-URI SP SIP-Version`.
    #[error("malformed request line")]
    BadRequestLine,
    /// The status line is not `SIP-Version SP 3DIGIT SP Reason-Phrase`.
    #[error("malformed status line")]
    BadStatusLine,
    /// A well-formed SIP version other than 2.0 (answer 505).
    #[error("SIP version not supported")]
    BadVersion,
    /// A URI that does not parse; the text says what was wrong with it.
    #[error("bad URI: {0}")]
    BadUri(String),
    /// A header line without a colon, or whose name is not a token.
    #[error("malformed header line")]
    BadHeaderLine,
    /// The start line or a header is not valid UTF-8.
    #[error("header not UTF-8")]
    NotUtf8,
    /// A mandatory header is missing.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// A header that must appear once appears more than once.
    #[error("more than one {0} header")]
    DuplicateHeader(&'static str),
    /// A header value that does not parse.
    #[error("bad {name} header: {reason}")]
    BadHeader {
        /// The header's canonical name.
        name: String,
        /// What was wrong.
        reason: &'static str,
    },
    /// The CSeq method differs from the request method.
    #[error("CSeq method does not match request method")]
    CSeqMethodMismatch,
    /// Fewer body octets than Content-Length announces.
    #[error("body shorter than Content-Length")]
    BodyTooShort {
        /// What Content-Length announced.
        expected: usize,
        /// What arrived.
        got: usize,
    },
}

impl ParseError {
    pub(crate) fn bad_header(name: &str, reason: &'static str) -> ParseError {
        ParseError::BadHeader {
            name: name.to_string(),
            reason,
        }
    }
}
