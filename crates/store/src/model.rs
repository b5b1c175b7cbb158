//! The configuration model: the typed form of the one TOML document that configures a whole
//! system. Values held here have been validated (see [`crate::validate`]); plain passwords are
//! never held, only their hashes.

use crate::call_flow::CallFlow;
use crate::dial_plan::DialPlanSettings;
use crate::model_features::VoicemailEmailMode;
use crate::model_features::{CallRight, Forwarding, HuntGroup};
use crate::short_codes::{default_short_codes, match_short_code, ShortCodeFeature, ShortCodeMatch};
use crate::time_profile::TimeProfile;
use std::collections::BTreeMap;
use std::fmt;

/// The whole configuration of a system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Name and SIP realm.
    pub system: SystemSettings,
    /// Registration timing and limits.
    pub registrar: RegistrarSettings,
    /// Session timers of calls.
    pub calls: CallSettings,
    /// Defences against password guessing; digest algorithms.
    pub security: SecuritySettings,
    /// Emergency numbers and how outside numbers are classified.
    pub dial_plan: DialPlanSettings,
    /// People.
    pub users: Vec<User>,
    /// Registration identities of devices.
    pub extensions: Vec<Extension>,
    /// Administrator accounts of the web manager and the API.
    pub admins: Vec<Admin>,
    /// When things are in service (hunt groups refer to them by name).
    pub time_profiles: Vec<TimeProfile>,
    /// Numbers that ring a group of extensions.
    pub hunt_groups: Vec<HuntGroup>,
    /// Feature short codes: code pattern (`*17`, `*14*N#`) to feature. Without a
    /// `[short_codes]` section these are [`default_short_codes`].
    pub short_codes: BTreeMap<String, ShortCodeFeature>,
    /// Auto attendants and IVRs (see [`crate::CallFlow`]).
    pub call_flows: Vec<CallFlow>,
    /// The voicemail channel pool and its reservations (`[voicemail]`).
    pub voicemail: crate::voicemail_settings::VoicemailSettings,
}

impl Default for Config {
    /// Every section at its default: no users, extensions, administrators, time profiles
    /// or hunt groups, the default dial plan and the default short codes.
    fn default() -> Self {
        Self {
            system: SystemSettings::default(),
            registrar: RegistrarSettings::default(),
            calls: CallSettings::default(),
            security: SecuritySettings::default(),
            dial_plan: DialPlanSettings::default(),
            users: Vec::new(),
            extensions: Vec::new(),
            admins: Vec::new(),
            time_profiles: Vec::new(),
            hunt_groups: Vec::new(),
            short_codes: default_short_codes(),
            call_flows: Vec::new(),
            voicemail: Default::default(),
        }
    }
}

impl Config {
    /// The extension with `number`, if any.
    pub fn extension(&self, number: &str) -> Option<&Extension> {
        self.extensions.iter().find(|e| e.number == number)
    }

    /// The user with login `name`, if any.
    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }

    /// The administrator with login `name`, if any.
    pub fn admin(&self, name: &str) -> Option<&Admin> {
        self.admins.iter().find(|a| a.name == name)
    }

    /// The hunt group with `number`, if any.
    pub fn hunt_group(&self, number: &str) -> Option<&HuntGroup> {
        self.hunt_groups.iter().find(|g| g.number == number)
    }

    /// The call flow called `name`, if any.
    pub fn call_flow(&self, name: &str) -> Option<&CallFlow> {
        self.call_flows.iter().find(|f| f.name == name)
    }

    /// True when `number` has a mailbox: a user's extension with `voicemail`, or a hunt
    /// group's number with `voicemail`.
    pub fn has_mailbox(&self, number: &str) -> bool {
        self.users
            .iter()
            .any(|u| u.voicemail && u.extension.as_deref() == Some(number))
            || self
                .hunt_groups
                .iter()
                .any(|g| g.voicemail && g.number == number)
    }

    /// The time profile called `name`, if any.
    pub fn time_profile(&self, name: &str) -> Option<&TimeProfile> {
        self.time_profiles.iter().find(|p| p.name == name)
    }

    /// The short code `dialled` is, if any, with the number dialled in place of its `N`.
    pub fn short_code<'c, 'd>(&'c self, dialled: &'d str) -> Option<ShortCodeMatch<'c, 'd>> {
        match_short_code(&self.short_codes, dialled)
    }
}

/// The `[system]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemSettings {
    /// The system's display name.
    pub name: String,
    /// The SIP digest realm. Extension HA1 hashes are bound to it.
    pub realm: String,
    /// The IANA time zone time profiles are read in (`"Europe/London"`); a name the time
    /// zone database knows. `None` (the default): the machine's own time zone.
    pub timezone: Option<String>,
    /// Music on hold: a WAV file (8 kHz mono; 16-bit PCM, G.711 µ-law or A-law; at most
    /// ten minutes) played to a party put on hold. A relative path is taken from the
    /// data directory. Without it, the music built into the program plays. The file must
    /// load when the configuration is applied.
    pub music_on_hold: Option<String>,
    /// The mail server voicemail email notifications go through (`[system.smtp]`);
    /// `None` (the default): no email is sent.
    pub smtp: Option<SmtpSettings>,
}

impl Default for SystemSettings {
    fn default() -> Self {
        Self {
            name: "Strowger".to_owned(),
            realm: "strowger".to_owned(),
            timezone: None,
            music_on_hold: None,
            smtp: None,
        }
    }
}

/// The `[system.smtp]` section: the mail server (an SMTP relay) that voicemail email
/// notifications are handed to.
///
/// The password is a secret that must be sent to the server, so it cannot be hashed like
/// the other passwords of the document: it is kept as given, and exported as given (an
/// exported document must be kept as private as the database). `Debug` hides it, so that it
/// cannot leak into logs; audit lines only say that it was set, changed or removed.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    /// The server's host name or IP address.
    pub server: String,
    /// The server's port (1..=65535, default 25).
    pub port: u16,
    /// The sender address of every email (`voicemail@example.com`).
    pub from: String,
    /// Upgrade the connection with STARTTLS before sending, and refuse to send if the
    /// server cannot (the certificate is checked against the machine's trusted roots).
    /// Default false: plain SMTP, as to a relay on the same machine or network.
    pub starttls: bool,
    /// The login for SMTP authentication, if the server needs one. Set together with
    /// `password`.
    pub username: Option<String>,
    /// The password for SMTP authentication. Set together with `username`.
    pub password: Option<String>,
}

impl SmtpSettings {
    /// The port used when the document names none: 25, plain SMTP to a relay.
    pub const DEFAULT_PORT: u16 = 25;

    /// Plain SMTP to `server` on port 25 from `from`, without authentication.
    pub fn new(server: &str, from: &str) -> Self {
        Self {
            server: server.to_owned(),
            port: Self::DEFAULT_PORT,
            from: from.to_owned(),
            starttls: false,
            username: None,
            password: None,
        }
    }
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("server", &self.server)
            .field("port", &self.port)
            .field("from", &self.from)
            .field("starttls", &self.starttls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .finish()
    }
}

/// The `[registrar]` section (seconds unless said otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarSettings {
    /// Registrations asking for less are answered 423 Interval Too Brief (1..=3600).
    pub min_expires: u32,
    /// Longer requests are shortened to this (min_expires..=86400).
    pub max_expires: u32,
    /// Used when the phone asks for no particular time (min_expires..=max_expires).
    pub default_expires: u32,
    /// Contacts kept per extension (1..=20).
    pub max_contacts: u32,
}

impl Default for RegistrarSettings {
    fn default() -> Self {
        Self {
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            max_contacts: 3,
        }
    }
}

/// The `[calls]` section: session timers (RFC 4028), in seconds.
///
/// A session timer has the phones in a call refresh it with a re-INVITE or UPDATE within
/// the session interval; a call that is not refreshed in time is ended, so that a phone that
/// vanished mid-call does not leave the call up for ever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSettings {
    /// The session interval asked of callers that name none; 0 leaves such calls without a
    /// timer (0, or min_se_secs..=86400).
    pub session_expires_secs: u32,
    /// The briefest session interval accepted: callers asking for less are answered 422
    /// Session Interval Too Small (90..=86400; RFC 4028 forbids less than 90).
    pub min_se_secs: u32,
    /// How long a parked call waits to be taken back before it rings the phone that parked
    /// it (10..=3600).
    pub park_timeout_secs: u32,
    /// The keys a user presses during a call to start or stop recording it into the own
    /// mailbox (RFC 4733 telephone-events; default `*1`; two to eight of 0-9 * #; empty:
    /// no recording by keys).
    pub record_keys: String,
}

impl Default for CallSettings {
    fn default() -> Self {
        Self {
            session_expires_secs: 1800,
            min_se_secs: 90,
            park_timeout_secs: 120,
            record_keys: "*1".into(),
        }
    }
}

/// The `[security]` section: limits on authentication failures, and the digest algorithms
/// phones are challenged with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecuritySettings {
    /// Failures from one source address, or for one extension, within the window that
    /// lead to a block (1..=1000).
    pub auth_failures_before_block: u32,
    /// The window in which failures are counted (1..=86400).
    pub failure_window_secs: u32,
    /// How long a block lasts; 0 disables blocking (0..=604800).
    pub block_secs: u32,
    /// How long a digest nonce stays valid (10..=3600).
    pub nonce_lifetime_secs: u32,
    /// Failures after which answers are delayed; 0 disables the delay (0..=1000).
    pub slow_down_after: u32,
    /// The digest algorithms a 401 challenges with, one challenge each, in this order; at
    /// least one, none twice.
    ///
    /// The default is MD5 alone: many deployed SIP clients fail when any challenge is not
    /// MD5 (libre/baresip 1.0 refuses the whole 401; SIPp reads only the first challenge),
    /// so SHA-256 (RFC 8760) is opt-in. RFC 7616 clients answer the first challenge they
    /// support, so put "SHA-256" first to have capable phones use it, e.g.
    /// `digest_algorithms = ["SHA-256", "MD5"]`.
    pub digest_algorithms: Vec<DigestAlgorithmName>,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        Self {
            auth_failures_before_block: 10,
            failure_window_secs: 60,
            block_secs: 300,
            nonce_lifetime_secs: 300,
            slow_down_after: 3,
            // MD5 alone, for the clients that fail on any other challenge: see the field.
            digest_algorithms: vec![DigestAlgorithmName::Md5],
        }
    }
}

/// A digest authentication algorithm a challenge can name (RFC 7616, RFC 8760).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlgorithmName {
    /// `MD5`: understood by every SIP client.
    Md5,
    /// `SHA-256` (RFC 8760): stronger, but not understood by every client.
    Sha256,
}

impl DigestAlgorithmName {
    /// Every algorithm, in the order they are listed in messages.
    pub(crate) const ALL: [DigestAlgorithmName; 2] =
        [DigestAlgorithmName::Md5, DigestAlgorithmName::Sha256];

    /// The name as written in the document and in the `algorithm` parameter of a
    /// challenge: `"MD5"` or `"SHA-256"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithmName::Md5 => "MD5",
            DigestAlgorithmName::Sha256 => "SHA-256",
        }
    }

    /// The algorithm called `name`, in any letter case.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(name))
    }
}

/// A person (`[[users]]`) and the call settings that follow them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Login name: `[a-z0-9._-]{1,32}`, unique.
    pub name: String,
    /// Display name (may be empty).
    pub full_name: String,
    /// The extension this user is on by default; at most one user per extension. It is
    /// also the user's number for hot-desk login.
    pub extension: Option<String>,
    /// Hot desking: with this code (4..=15 digits) the user logs in on another extension.
    /// Needs `extension`, the number the user logs in as.
    pub login_code: Option<String>,
    /// Hot desking: the extension the user is logged in on (calls to the user ring there,
    /// calls from there are the user's), set by the login short code; none at home.
    pub hot_desk_at: Option<String>,
    /// Do not disturb: calls to the user are not presented (they go to forward on busy,
    /// or get busy), except from `dnd_exceptions`. Default false.
    pub dnd: bool,
    /// Caller numbers that still ring through do not disturb (2..=15 digits each, none
    /// twice).
    pub dnd_exceptions: Vec<String>,
    /// A second call rings while the user is in a call (default true); otherwise it is
    /// treated as busy.
    pub call_waiting: bool,
    /// The classes of calls the user may make, none twice (default every class but
    /// premium). Emergency numbers are always allowed.
    pub rights: Vec<CallRight>,
    /// Forwarding and follow me (`[users.forward]`).
    pub forward: Forwarding,
    /// The music a party this user puts on hold hears (a WAV file, as
    /// `system.music_on_hold`); without it, the system's.
    pub music_on_hold: Option<String>,
    /// The user may listen in on and join other users' calls (the `listen` and `intrude`
    /// short codes). Default false.
    pub can_intrude: bool,
    /// Nobody may listen in on or join this user's calls. Default true: monitoring is
    /// something a user (or the administrator for them) opts in to.
    pub cannot_be_intruded: bool,
    /// The user has a mailbox: calls not answered, busy or on do not disturb go to it
    /// when no forward takes them. Default true.
    pub voicemail: bool,
    /// Collecting messages from the user's own extension needs no PIN. Default true.
    pub voicemail_trusted: bool,
    /// The address voicemail email notifications go to (`alice@example.com`).
    pub voicemail_email: Option<String>,
    /// What a new message in the user's mailbox sends to `voicemail_email`: nothing (the
    /// default), a notification, a copy with the recording attached, or the recording
    /// itself (removed from the mailbox once the email is sent). Anything but off needs
    /// `voicemail_email` and `[system.smtp]`.
    pub voicemail_email_mode: VoicemailEmailMode,
    /// Every answered call the user takes part in (internal or external, either
    /// direction) is recorded into the user's mailbox (needs `voicemail`). Default false.
    pub record_calls: bool,
}

impl User {
    /// A user `name` with every call setting at its default.
    pub fn new(name: &str, full_name: &str, extension: Option<&str>) -> Self {
        Self {
            name: name.to_owned(),
            full_name: full_name.to_owned(),
            extension: extension.map(str::to_owned),
            login_code: None,
            hot_desk_at: None,
            dnd: false,
            dnd_exceptions: Vec::new(),
            call_waiting: true,
            rights: CallRight::default_rights(),
            forward: Forwarding::default(),
            music_on_hold: None,
            can_intrude: false,
            cannot_be_intruded: true,
            voicemail: true,
            voicemail_trusted: true,
            voicemail_email: None,
            voicemail_email_mode: VoicemailEmailMode::Off,
            record_calls: false,
        }
    }

    /// True when the user may make calls of class `right`.
    pub fn may_call(&self, right: CallRight) -> bool {
        self.rights.contains(&right)
    }
}

/// A device's registration identity (`[[extensions]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// Digits only, 2..=15 of them, unique.
    pub number: String,
    /// What the registrar checks digest responses against.
    pub credentials: Credentials,
    /// Whether media may flow directly between endpoints (reserved for calls).
    pub direct_media: bool,
}

/// How an extension's password is held: never in plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Digest HA1 = H(number ":" realm ":" password), lowercase hex, for both algorithms
    /// (RFC 7616). Bound to the realm it was computed with.
    Ha1 {
        /// MD5 HA1, 32 hex digits.
        md5: String,
        /// SHA-256 HA1, 64 hex digits.
        sha256: String,
    },
}

impl Credentials {
    /// Hashes a plain password for extension `number` in `realm`.
    pub fn from_password(number: &str, realm: &str, password: &str) -> Self {
        Credentials::Ha1 {
            md5: crate::secrets::ha1_md5(number, realm, password),
            sha256: crate::secrets::ha1_sha256(number, realm, password),
        }
    }

    /// The MD5 HA1 (lowercase hex).
    pub fn ha1_md5(&self) -> &str {
        match self {
            Credentials::Ha1 { md5, .. } => md5,
        }
    }

    /// The SHA-256 HA1 (lowercase hex).
    pub fn ha1_sha256(&self) -> &str {
        match self {
            Credentials::Ha1 { sha256, .. } => sha256,
        }
    }
}

/// An administrator account (`[[admins]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    /// Login name: `[a-z0-9._-]{1,32}`, unique.
    pub name: String,
    /// Argon2id PHC string (`$argon2id$v=19$...`).
    pub password_hash: String,
}

impl Admin {
    /// True when `password` is this administrator's password.
    pub fn verify_password(&self, password: &str) -> bool {
        crate::secrets::verify_admin_password(&self.password_hash, password)
    }
}
