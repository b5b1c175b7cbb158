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

/// Users (those on an extension), hunt groups and short codes, for call routing.
///
/// A hunt group's time profile is not applied yet: its service state is the manual one.
pub fn features(config: &Config) -> pbx::Features {
    let users = config.users.iter().filter_map(|u| {
        let extension = u.extension.clone()?;
        Some(pbx::UserEntry {
            name: u.name.clone(),
            full_name: u.full_name.clone(),
            extension,
            forward: pbx::Forwarding {
                // Follow-me sends calls to where the user is now: as unconditional, but
                // it wins over a forward set for when the user is away.
                unconditional: u
                    .forward
                    .follow_me
                    .clone()
                    .or(u.forward.unconditional.clone()),
                busy: u.forward.busy.clone(),
                no_answer: u.forward.no_answer.clone(),
                no_answer_after: Duration::from_secs(u64::from(u.forward.no_answer_secs)),
            },
            dnd: u.dnd,
            dnd_exceptions: u.dnd_exceptions.clone(),
            call_waiting: u.call_waiting,
        })
    });
    let groups = config.hunt_groups.iter().map(|g| pbx::HuntGroupEntry {
        name: g.name.clone(),
        number: g.number.clone(),
        mode: match g.mode {
            store::HuntMode::Collective => pbx::HuntMode::Collective,
            store::HuntMode::Sequential => pbx::HuntMode::Sequential,
            store::HuntMode::Rotary => pbx::HuntMode::Rotary,
            store::HuntMode::LongestWaiting => pbx::HuntMode::LongestWaiting,
        },
        members: g.members.clone(),
        no_answer_after: Duration::from_secs(u64::from(g.no_answer_secs)),
        overflow: g
            .overflow_secs
            .zip(g.overflow_to.clone())
            .map(|(secs, to)| (Duration::from_secs(u64::from(secs)), to)),
        night_service_to: g.night_service_to.clone(),
        in_service: g.in_service,
    });
    let codes = config.short_codes.iter().filter_map(|(pattern, feature)| {
        let feature = pbx::ShortCodeFeature::ALL
            .into_iter()
            .find(|f| short_code_name(*f) == feature.as_str())?;
        pbx::ShortCode::new(pattern, feature)
    });
    pbx::Features::new(users, groups)
        .with_short_codes(pbx::ShortCodes::new(codes))
        .with_music_on_hold(crate::music::choices(config))
}

/// The document's name of a short-code feature.
fn short_code_name(f: pbx::ShortCodeFeature) -> &'static str {
    use pbx::ShortCodeFeature as F;
    match f {
        F::DndOn => "dnd_on",
        F::DndOff => "dnd_off",
        F::ForwardUnconditionalOn => "forward_unconditional_on",
        F::ForwardUnconditionalOff => "forward_unconditional_off",
        F::HuntGroupJoin => "hunt_group_join",
        F::HuntGroupLeave => "hunt_group_leave",
        F::NightServiceOn => "night_service_on",
        F::NightServiceOff => "night_service_off",
        F::VoicemailCollect => "voicemail_collect",
        F::Park => "park",
        F::Unpark => "unpark",
        F::PickupGroup => "pickup_group",
        F::PickupDirected => "pickup_directed",
        F::HotDeskLogin => "hot_desk_login",
        F::HotDeskLogout => "hot_desk_logout",
        F::AccountCode => "account_code",
    }
}

#[cfg(test)]
mod tests {
    use super::{features, pbx_settings};
    use store::Config;

    #[test]
    fn every_default_short_code_reaches_call_control() {
        let config = Config::default();
        let f = features(&config);
        for (pattern, feature) in &config.short_codes {
            let dialled = pattern.replace('N', "300");
            let found = f.short_codes().lookup(&dialled).map(|(g, _)| g);
            assert!(
                found.is_some(),
                "{pattern} ({}) not mapped",
                feature.as_str()
            );
            assert_eq!(super::short_code_name(found.unwrap()), feature.as_str());
        }
    }

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
