//! The Strowger call server as a sans-IO state machine.
//!
//! [`Pbx`] is fed datagrams/stream messages and instants and asked for what to send and when
//! to be woken; it never touches a socket or a clock, so whole stories (a phone registers,
//! its binding expires, a guesser is blocked) run as deterministic tests with simulated time.
//! It holds the registrar and location service, the authentication guard, the out-of-dialog
//! OPTIONS answers, calls as B2BUA leg pairs, the dial plan with users' rights, and the
//! business call features (hunt groups with time profiles, forwarding, short codes,
//! transfer, pickup), and message waiting indication (RFC 3842 `message-summary`
//! subscriptions and unsolicited NOTIFYs, from mailbox states the shell gives with
//! [`Pbx::set_message_summary`]).
//!
//! # Dial plan
//!
//! A dialled number resolves in this order (see [`dialplan`]): emergency numbers (always
//! allowed), short codes, extensions, hunt groups, then outside numbers (international,
//! premium, national, local, after the outside-line prefix if one is set); anything else is
//! an unassigned number (404). A caller whose user lacks the right for the class gets 403
//! with the reason ("call class international barred for user alice"); an extension
//! without a user may call internal numbers only. Short codes need the internal right too,
//! except hot-desk login and logout (how a person takes over a phone that has no rights of
//! its own). Rights cannot be bypassed: a user's
//! forward is checked against that user's rights, a blind transfer against the
//! transferring user's. Hunt-group overflow and night service are the administrator's
//! routes and need no right. Outside calls that are allowed (emergency calls included) end
//! with 503 "no route to an outside line: no trunks configured" until trunks exist.
//!
//! Hunt groups with a time profile are in service while it is active at the local civil
//! time the shell gives with [`Pbx::set_local_time`]; otherwise their calls go to the
//! night service number (or get 480 saying why).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod b2bua;
pub use b2bua::screen::SCREEN_RING_TIMEOUT;
pub mod channels;
mod core;
pub mod dialplan;
mod events;
pub mod features;
pub mod guard;
pub mod location;
pub mod media;
mod mwi;
mod nat;
pub mod recording;
pub mod registrar;
mod routing;
pub mod settings;
pub mod shortcodes;
pub mod time_profile;

pub use crate::core::Pbx;
pub use channels::{ChannelCounts, ChannelLimits, ChannelUse};
pub use dialplan::{CallClass, CallRight, DialPlan};
pub use events::{
    CallRecord, FeatureChange, PbxEvent, RegistrationView, ScreenAnswered, Stats,
    SubscriptionChange, SubscriptionEnd, Transmit, VoicemailCall, VoicemailReason,
};
pub use features::{Features, Forwarding, HuntGroupEntry, HuntMode, UserEntry, NO_USER_RIGHTS};
pub use guard::{BlockTarget, GuardSettings};
pub use media::{
    MediaRelay, PartyPorts, PartyRole, QueueAnnouncement, RelayPorts, Side, RINGBACK_TONE,
};
pub use recording::{RecordingOwner, RecordingSettings, RecordingStarted, RecordingTrigger};
pub use settings::{Directory, ExtensionEntry, PbxSettings};
pub use shortcodes::{ShortCode, ShortCodeFeature, ShortCodes};
pub use sip::transaction::{Peer, Transport};
pub use time_profile::{CivilDate, LocalTime, TimeProfile};
