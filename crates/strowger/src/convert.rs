//! From the stored configuration document to the shape the call-server core uses.

use pbx::{Directory, ExtensionEntry, GuardSettings, PbxSettings};
use sip::auth::DigestAlgorithm;
use std::time::Duration;
use store::{Config, DigestAlgorithmName};

/// The core's settings for a configuration.
pub fn pbx_settings(config: &Config) -> PbxSettings {
    let r = &config.registrar;
    let s = &config.security;
    PbxSettings {
        realm: config.system.realm.clone(),
        min_expires: r.min_expires,
        max_expires: r.max_expires,
        default_expires: r.default_expires,
        max_contacts: r.max_contacts as usize,
        nonce_lifetime: Duration::from_secs(u64::from(s.nonce_lifetime_secs)),
        guard: GuardSettings {
            failures_before_block: s.auth_failures_before_block,
            failure_window: Duration::from_secs(u64::from(s.failure_window_secs)),
            block_for: Duration::from_secs(u64::from(s.block_secs)),
            // The document says 0 for "never delay"; the guard counts "delay after N".
            slow_down_after: if s.slow_down_after == 0 {
                u32::MAX
            } else {
                s.slow_down_after
            },
        },
        digest_algorithms: s
            .digest_algorithms
            .iter()
            .map(|a| match a {
                DigestAlgorithmName::Md5 => DigestAlgorithm::Md5,
                DigestAlgorithmName::Sha256 => DigestAlgorithm::Sha256,
            })
            .collect(),
        session_expires: config.calls.session_expires_secs,
        min_se: config.calls.min_se_secs,
        ..PbxSettings::default()
    }
}

/// The extensions with their HA1 hashes.
pub fn directory(config: &Config) -> Directory {
    Directory::new(config.extensions.iter().map(|e| ExtensionEntry {
        number: e.number.clone(),
        ha1_md5: e.credentials.ha1_md5().to_string(),
        ha1_sha256: e.credentials.ha1_sha256().to_string(),
        direct_media: e.direct_media,
    }))
}

#[cfg(test)]
mod tests {
    use super::pbx_settings;
    use store::Config;

    #[test]
    fn calls_section_reaches_the_session_timer_settings() {
        let defaults = pbx_settings(&Config::default());
        assert_eq!((defaults.session_expires, defaults.min_se), (1800, 90));
        let mut config = Config::default();
        config.calls.session_expires_secs = 0;
        config.calls.min_se_secs = 120;
        let s = pbx_settings(&config);
        assert_eq!((s.session_expires, s.min_se), (0, 120));
    }
}
