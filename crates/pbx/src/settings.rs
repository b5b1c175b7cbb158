//! What the call server needs to know from the configuration, in the shape the core uses.
//! The binary builds these from the `store` document, so that this crate knows nothing of
//! TOML or SQLite.

use crate::guard::GuardSettings;
use sip::auth::DigestAlgorithm;
use std::collections::HashMap;
use std::time::Duration;

/// Registrar and security settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PbxSettings {
    /// The digest realm.
    pub realm: String,
    /// Expiry intervals shorter than this get 423 (RFC 3261 §10.3 step 7).
    pub min_expires: u32,
    /// Longer expiry requests are shortened to this.
    pub max_expires: u32,
    /// The expiry given when the phone asks for none.
    pub default_expires: u32,
    /// Contacts per extension; a new one beyond this replaces the oldest.
    pub max_contacts: usize,
    /// How long a nonce is good for before the phone is re-challenged with `stale=true`.
    pub nonce_lifetime: Duration,
    /// Digest algorithms offered, one challenge each, in this order (RFC 7616 clients answer
    /// the first they support). MD5 alone by default: many deployed clients fail when any
    /// challenge is not MD5 (libre/baresip 1.0 refuses the whole 401, SIPp reads only the
    /// first); SHA-256 (RFC 8760) is switched on by configuration.
    pub digest_algorithms: Vec<DigestAlgorithm>,
    /// Slowing and blocking of password guessers.
    pub guard: GuardSettings,
    /// The value of the `Server` / `User-Agent` header.
    pub server_name: String,
    /// Session interval (seconds) we ask of callers that name none (RFC 4028); 0 leaves
    /// such calls without a timer.
    pub session_expires: u32,
    /// The briefest session interval we accept: shorter gets 422 (RFC 4028 §9).
    pub min_se: u32,
    /// How long a parked call waits for someone to take it back before it rings the
    /// phone that parked it.
    pub park_timeout: Duration,
    /// The voicemail channel pool (mailboxes, auto attendants, call recordings).
    pub voicemail_channels: crate::channels::ChannelLimits,
    /// Call recording.
    pub recording: crate::recording::RecordingSettings,
}

impl Default for PbxSettings {
    fn default() -> Self {
        PbxSettings {
            realm: "strowger".into(),
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            max_contacts: 3,
            nonce_lifetime: Duration::from_secs(300),
            digest_algorithms: vec![DigestAlgorithm::Md5],
            guard: GuardSettings::default(),
            server_name: concat!("Strowger/", env!("CARGO_PKG_VERSION")).into(),
            session_expires: 1800,
            min_se: 90,
            park_timeout: Duration::from_secs(120),
            voicemail_channels: crate::channels::ChannelLimits::default(),
            recording: crate::recording::RecordingSettings::default(),
        }
    }
}

/// One extension's credentials: HA1 per algorithm for the configured realm (passwords are
/// never held).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionEntry {
    /// The extension number (also the SIP user name).
    pub number: String,
    /// MD5(number:realm:password), lowercase hex.
    pub ha1_md5: String,
    /// SHA-256(number:realm:password), lowercase hex.
    pub ha1_sha256: String,
    /// Media may flow directly between this extension and another that allows it too.
    pub direct_media: bool,
}

/// The extensions the server knows, by number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    extensions: HashMap<String, ExtensionEntry>,
}

impl Directory {
    /// A directory of these extensions.
    pub fn new(entries: impl IntoIterator<Item = ExtensionEntry>) -> Directory {
        Directory {
            extensions: entries.into_iter().map(|e| (e.number.clone(), e)).collect(),
        }
    }

    /// The extension with this number.
    pub fn get(&self, number: &str) -> Option<&ExtensionEntry> {
        self.extensions.get(number)
    }

    /// True when the number is an assigned extension.
    pub fn contains(&self, number: &str) -> bool {
        self.extensions.contains_key(number)
    }

    /// Number of extensions.
    pub fn len(&self) -> usize {
        self.extensions.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.extensions.is_empty()
    }
}
