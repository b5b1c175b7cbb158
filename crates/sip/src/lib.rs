//! Sans-IO SIP (RFC 3261): the message model, a strict parser and a writer, URIs and typed
//! headers, transaction state machines driven by injected time, dialogs and digest
//! authentication.
//!
//! Nothing here reads a socket or a clock: callers feed bytes and `Instant`s in and take
//! messages and timer deadlines out. The binary (`strowger`) owns all IO.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod dialog;
pub mod header;
pub mod message;
pub mod parse;
pub mod transaction;
pub mod uri;

pub use header::{HeaderName, Headers};
pub use message::{Message, Method, Request, Response, StatusCode};
pub use parse::{parse_message, ParseError};
pub use uri::{Host, Uri};
