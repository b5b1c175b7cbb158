//! SDP for Strowger: the session description model, a strict parser and an exact writer
//! (RFC 8866), the edits a B2BUA makes when it anchors media, and offer/answer (RFC 3264)
//! for audio streams.
//!
//! What lives here: [`SessionDescription`] and its parts, [`parse`], `Display` (CRLF
//! lines), hold-aware helpers ([`SessionDescription::direction`],
//! [`SessionDescription::rewrite_connection`], …) and [`offer`]/[`answer`]. What does not:
//! anything of SIP (the `pbx` crate maps [`SdpError`] and [`NegotiationError`] to 488) and
//! anything of sockets (the `media-engine` crate owns ports).
//!
//! # Why our own model rather than `sdp-types`
//!
//! `sdp-types` 0.3 (sans-IO, keeps unknown attributes) was the candidate. It is lenient by
//! design: its docs say it does not enforce RFC semantics, and it accepts a description
//! without `o=` or `s=` and lines in any order. A PBX must refuse those with 488 (issue 4,
//! "Bad input"), so we would have had to re-check every line ourselves, and its parsed
//! model no longer knows the line order to check against. It also brings three
//! dependencies and 13,000 lines for the many attributes of RTSP and WebRTC we do not
//! read. What we need is small: strict order, exact round trip with unknown attributes
//! (`a=crypto`, ICE) kept verbatim, and a handful of typed readers (`rtpmap`, `fmtp`,
//! `ptime`, `rtcp`, direction). That is a few hundred lines we control and fuzz.
//!
//! Nothing here panics on input; `fuzz/fuzz_targets/parse_sdp.rs` checks that.
//!
//! # Example: answering a phone's offer from the relay
//!
//! ```
//! let offer = sdp::parse(
//!     b"v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n\
//!       m=audio 4000 RTP/AVP 8 0 96\r\na=rtpmap:96 telephone-event/8000\r\n",
//! )?;
//! // c=0.0.0.0: the phone holds the call (RFC 2543 style).
//! assert_eq!(offer.direction(0), Some(sdp::Direction::SendOnly));
//!
//! let relay = "198.51.100.1".parse()?;
//! let local = sdp::LocalCapabilities::new(42, relay, vec![30000]);
//! let answer = sdp::answer(&offer, &local)?;
//! assert_eq!(answer.media[0].formats, ["8", "0", "96"]);
//! assert_eq!(answer.direction(0), Some(sdp::Direction::RecvOnly));
//! assert!(answer.to_string().starts_with("v=0\r\no=- 42 0 IN IP4 198.51.100.1\r\n"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod codec;
mod direction;
mod edit;
mod error;
mod lex;
mod model;
mod negotiate;
mod parse;
mod write;

pub use codec::{Codec, Rtcp, RtpMap, TELEPHONE_EVENT_FMTP};
pub use direction::Direction;
pub use edit::NoSuchMedia;
pub use error::SdpError;
pub use model::{
    Attribute, Bandwidth, Connection, MediaDescription, Origin, SessionDescription, Timing,
};
pub use negotiate::{answer, offer, LocalCapabilities, NegotiationError};
pub use parse::parse;

/// Most lines accepted in one description (a SIP phone's is 10–40 lines; ICE-heavy ones
/// reach a few hundred).
pub const MAX_LINES: usize = 1024;

/// Most media sections accepted in one description.
pub const MAX_MEDIA: usize = 64;
