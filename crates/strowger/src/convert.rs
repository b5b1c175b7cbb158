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
        park_timeout: Duration::from_secs(u64::from(config.calls.park_timeout_secs)),
        voicemail_channels: pbx::ChannelLimits {
            channels: config.voicemail.channels,
            reserve_mailbox: config.voicemail.reserve_mailbox,
            reserve_attendant: config.voicemail.reserve_attendant,
            reserve_recording: config.voicemail.reserve_recording,
        },
        recording: pbx::RecordingSettings {
            record_keys: config.calls.record_keys.clone(),
        },
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

/// Users (those on an extension) with their rights, hunt groups with their time profiles,
/// short codes and the dial plan, for call routing. Users' mailboxes take calls only when
/// `voicemail` runs.
pub fn features(config: &Config, voicemail: bool) -> pbx::Features {
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
            can_intrude: u.can_intrude,
            cannot_be_intruded: u.cannot_be_intruded,
            voicemail: voicemail && u.voicemail,
            voicemail_trusted: u.voicemail_trusted,
            rights: u.rights.iter().map(|r| call_right(*r)).collect(),
            login_code: u.login_code.clone(),
            hot_desk_at: u.hot_desk_at.clone(),
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
        queue_limit: if g.queue { g.queue_limit as usize } else { 0 },
        voicemail_after: (voicemail && g.voicemail)
            .then(|| Duration::from_secs(u64::from(g.voicemail_secs))),
        // Validation guarantees the name refers to a profile.
        time_profile: g
            .time_profile
            .as_deref()
            .and_then(|name| config.time_profile(name))
            .map(time_profile),
    });
    let codes = config.short_codes.iter().filter_map(|(pattern, feature)| {
        let feature = pbx::ShortCodeFeature::ALL
            .into_iter()
            .find(|f| short_code_name(*f) == feature.as_str())?;
        pbx::ShortCode::new(pattern, feature)
    });
    // Flows run on the voicemail thread: without it their numbers reach nothing.
    let flows = config
        .call_flows
        .iter()
        .filter(|_| voicemail)
        .filter_map(|f| Some((f.number.clone()?, f.name.clone())));
    pbx::Features::new(users, groups)
        .with_call_flows(flows)
        .with_short_codes(pbx::ShortCodes::new(codes))
        .with_dial_plan(dial_plan(&config.dial_plan))
        .with_music_on_hold(crate::music::choices(config))
        .with_queue_announcements(config.hunt_groups.iter().map(|g| {
            let said = pbx::QueueAnnouncement {
                words: g.queue_announcement.clone(),
                say_place: g.queue_announce_place,
                music_between: Duration::from_secs(u64::from(g.queue_announce_every_secs)),
            };
            (g.number.clone(), said)
        }))
        .with_call_recording(recorded_numbers(config))
}

/// The users' extensions and hunt groups' numbers whose calls are recorded.
fn recorded_numbers(config: &Config) -> Vec<String> {
    let users = config
        .users
        .iter()
        .filter(|u| u.record_calls)
        .filter_map(|u| u.extension.clone());
    let groups = config
        .hunt_groups
        .iter()
        .filter(|g| g.record_calls)
        .map(|g| g.number.clone());
    users.chain(groups).collect()
}

fn call_right(r: store::CallRight) -> pbx::CallRight {
    match r {
        store::CallRight::Internal => pbx::CallRight::Internal,
        store::CallRight::Local => pbx::CallRight::Local,
        store::CallRight::National => pbx::CallRight::National,
        store::CallRight::International => pbx::CallRight::International,
        store::CallRight::Premium => pbx::CallRight::Premium,
    }
}

fn dial_plan(p: &store::DialPlanSettings) -> pbx::DialPlan {
    pbx::DialPlan {
        emergency: p.emergency.clone(),
        external_prefix: p.external_prefix.clone(),
        international_prefix: p.international_prefix.clone(),
        national_prefix: p.national_prefix.clone(),
        country_code: p.country_code.clone(),
        premium: p.premium.clone(),
        local_min_digits: p.local_min_digits as usize,
    }
}

/// A time profile in the core's shape: the same windows, in minutes since midnight.
fn time_profile(p: &store::TimeProfile) -> pbx::TimeProfile {
    use pbx::time_profile::{DateWindow, WeeklyWindow};
    pbx::TimeProfile {
        name: p.name.clone(),
        weekly: p
            .weekly
            .iter()
            .map(|w| WeeklyWindow {
                days: w.days.iter().map(|d| weekday(*d)).collect(),
                start: w.start.minutes(),
                end: w.end.minutes(),
            })
            .collect(),
        dates: p
            .dates
            .iter()
            // Validated dates exist in the calendar, so none is dropped.
            .filter_map(|d| {
                Some(DateWindow {
                    date: pbx::CivilDate::new(d.date.year(), d.date.month(), d.date.day())?,
                    start: d.start.minutes(),
                    end: d.end.minutes(),
                    active: d.active,
                })
            })
            .collect(),
    }
}

fn weekday(d: store::Weekday) -> pbx::time_profile::Weekday {
    use pbx::time_profile::Weekday as W;
    match d {
        store::Weekday::Mon => W::Mon,
        store::Weekday::Tue => W::Tue,
        store::Weekday::Wed => W::Wed,
        store::Weekday::Thu => W::Thu,
        store::Weekday::Fri => W::Fri,
        store::Weekday::Sat => W::Sat,
        store::Weekday::Sun => W::Sun,
    }
}

/// The numbers whose mailbox state the core is told (message waiting lamps): every
/// extension (a user's mailbox is on its number), and every hunt group with a mailbox.
pub fn mailbox_numbers(config: &Config) -> Vec<String> {
    config
        .extensions
        .iter()
        .map(|e| e.number.clone())
        .chain(
            config
                .hunt_groups
                .iter()
                .filter(|g| g.voicemail)
                .map(|g| g.number.clone()),
        )
        .collect()
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
        F::VoicemailCollectMailbox => "voicemail_collect_mailbox",
        F::Park => "park",
        F::Unpark => "unpark",
        F::PickupGroup => "pickup_group",
        F::PickupDirected => "pickup_directed",
        F::HotDeskLogin => "hot_desk_login",
        F::HotDeskLogout => "hot_desk_logout",
        F::AccountCode => "account_code",
        F::Page => "page",
        F::Listen => "listen",
        F::Intrude => "intrude",
    }
}

#[cfg(test)]
mod tests {
    use super::{features, pbx_settings};
    use store::Config;

    #[test]
    fn every_default_short_code_reaches_call_control() {
        let config = Config::default();
        let f = features(&config, false);
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
    fn time_profiles_mean_the_same_in_the_core() {
        let doc = "[[time_profiles]]\nname = \"office\"\n\
                   [[time_profiles.weekly]]\ndays = [\"mon\", \"wed\", \"sat\"]\n\
                   start = \"08:30\"\nend = \"17:30\"\n\
                   [[time_profiles.dates]]\ndate = \"2026-03-04\"\nstart = \"12:00\"\n\
                   end = \"13:00\"\nactive = false\n\
                   [[time_profiles.dates]]\ndate = \"2026-03-08\"\nend = \"10:00\"\n\
                   [[admins]]\nname = \"root\"\npassword = \"Admin-Password-1\"\n";
        let config = Config::from_toml(doc, None).expect("valid");
        let stored = &config.time_profiles[0];
        let core = super::time_profile(stored);
        // Every quarter hour of a fortnight around the dated entries.
        for day in 1..=14u8 {
            let date = store::Date::new(2026, 3, day).expect("date");
            let civil = pbx::CivilDate::new(2026, 3, day).expect("date");
            for quarter in 0..96u8 {
                let (h, m) = (quarter / 4, quarter % 4 * 15);
                let stored_says = stored.is_active(date, store::TimeOfDay::new(h, m).unwrap());
                let core_says = core.is_active(pbx::LocalTime::new(civil, h, m).unwrap());
                assert_eq!(stored_says, core_says, "2026-03-{day:02} {h:02}:{m:02}");
            }
        }
    }

    #[test]
    fn rights_and_the_dial_plan_reach_call_control() {
        let (mut config, _) = Config::embedded_default();
        config.users[0].rights = vec![store::CallRight::Internal, store::CallRight::Premium];
        config.dial_plan.external_prefix = Some("9".into());
        let f = features(&config, false);
        assert_eq!(
            f.rights_at("201"),
            [pbx::CallRight::Internal, pbx::CallRight::Premium]
        );
        assert_eq!(f.rights_at("202"), pbx::CallRight::DEFAULT);
        assert_eq!(f.dial_plan().external_prefix.as_deref(), Some("9"));
        assert_eq!(f.dial_plan().emergency, ["112", "999", "911"]);
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
