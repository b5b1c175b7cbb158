//! The Strowger call server as a sans-IO state machine.
//!
//! [`Pbx`] is fed datagrams/stream messages and instants and asked for what to send and when
//! to be woken; it never touches a socket or a clock, so whole stories (a phone registers,
//! its binding expires, a guesser is blocked) run as deterministic tests with simulated time.
//! Today it holds the registrar and location service, the authentication guard and the
//! out-of-dialog OPTIONS answers; calls (B2BUA legs), the dial plan and features come next.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod b2bua;
mod core;
mod events;
pub mod features;
pub mod guard;
pub mod location;
pub mod media;
mod nat;
pub mod registrar;
mod routing;
pub mod settings;
pub mod shortcodes;

pub use crate::core::Pbx;
pub use events::{CallRecord, FeatureChange, PbxEvent, RegistrationView, Stats, Transmit};
pub use features::{Features, Forwarding, HuntGroupEntry, HuntMode, UserEntry};
pub use guard::{BlockTarget, GuardSettings};
pub use media::{MediaRelay, RelayPorts, Side};
pub use settings::{Directory, ExtensionEntry, PbxSettings};
pub use shortcodes::{ShortCode, ShortCodeFeature, ShortCodes};
pub use sip::transaction::{Peer, Transport};
