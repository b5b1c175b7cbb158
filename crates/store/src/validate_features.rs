//! The rules of the business call features: users' call settings, time profiles, hunt
//! groups and short codes. Their public items are re-exported by [`crate::validate`].

use crate::error::ConfigErrors;
use crate::model::Config;
use crate::short_codes::ShortCodePattern;
use crate::time_profile::TimeOfDay;
use crate::validate::{in_range, is_valid_login, is_valid_number};
use std::collections::{HashMap, HashSet};
use std::ops::RangeInclusive;

/// `users.forward.no_answer_secs`.
pub const FORWARD_NO_ANSWER_SECS: RangeInclusive<u32> = 5..=300;
/// `hunt_groups.no_answer_secs`.
pub const HUNT_NO_ANSWER_SECS: RangeInclusive<u32> = 5..=300;
/// `hunt_groups.queue_limit`.
pub const QUEUE_LIMIT: RangeInclusive<u32> = 0..=1000;
/// `hunt_groups.overflow_secs`.
pub const OVERFLOW_SECS: RangeInclusive<u32> = 5..=3600;
/// `hunt_groups.queue_announce_every_secs`.
pub const QUEUE_ANNOUNCE_EVERY_SECS: RangeInclusive<u32> = 5..=600;
/// `hunt_groups.voicemail_secs`.
pub const GROUP_VOICEMAIL_SECS: RangeInclusive<u32> = 5..=3600;

/// True when `code` is a valid hot-desk login code: 4 to 15 digits.
pub fn is_valid_login_code(code: &str) -> bool {
    (4..=15).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit())
}

/// True when `number` is dialable (a forward or overflow target, internal or external):
/// 2 to 20 characters, an optional leading `+`, then `0-9 * #` with at least one digit.
pub fn is_dialable(number: &str) -> bool {
    let rest = number.strip_prefix('+').unwrap_or(number);
    (2..=20).contains(&number.len())
        && !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
        && rest.bytes().any(|b| b.is_ascii_digit())
}

const DIALABLE: &str = "must be a dialable number: 2 to 20 of 0-9 * # with an optional leading +";

/// The path of short code `code`: `short_codes."*17"`.
pub(crate) fn short_code_path(code: &str) -> String {
    format!("short_codes.{code:?}")
}

/// Reports every element of `listed` equal to an earlier one, at `base[i]`. `None` stands
/// for an element already rejected: it keeps its index but is compared with nothing.
pub(crate) fn check_unique<T: PartialEq>(
    base: &str,
    listed: &[Option<T>],
    errs: &mut ConfigErrors,
) {
    for (i, item) in listed.iter().enumerate() {
        if item.is_none() {
            continue;
        }
        // Lists are short: a linear search is enough.
        if let Some(first) = listed[..i].iter().position(|a| a == item) {
            errs.push(
                format!("{base}[{i}]"),
                format!("duplicate of {base}[{first}]"),
            );
        }
    }
}

/// Checks the rules of the feature sections into `errs`; `failed` as in
/// [`crate::validate`].
pub(crate) fn check_features(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    check_user_settings(config, failed, errs);
    check_time_profiles(config, failed, errs);
    check_hunt_groups(config, failed, errs);
    check_short_codes(config, errs);
}

fn check_user_settings(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    for (i, user) in config.users.iter().enumerate() {
        let at = |field: &str| format!("users[{i}].{field}");
        if let Some(code) = &user.login_code {
            // The code is a secret: it is not repeated in the reason.
            if !is_valid_login_code(code) {
                errs.push(at("login_code"), "must be 4 to 15 digits");
            } else if user.extension.is_none() && !failed.contains(&at("extension")) {
                errs.push(
                    at("login_code"),
                    "needs an extension: the user logs in on other desks with the \
                     extension's number and this code",
                );
            }
        }
        if let Some(desk) = &user.hot_desk_at {
            if !config.extensions.iter().any(|e| e.number == *desk) {
                errs.push(at("hot_desk_at"), format!("no extension {desk:?}"));
            } else if user.extension.is_none() && !failed.contains(&at("extension")) {
                errs.push(
                    at("hot_desk_at"),
                    "needs an extension: the number calls to the user are made to",
                );
            }
        }
        // One person per desk.
        if let Some(first) = user.hot_desk_at.as_ref().and_then(|desk| {
            config.users[..i]
                .iter()
                .find(|u| u.hot_desk_at.as_ref() == Some(desk))
        }) {
            errs.push(
                at("hot_desk_at"),
                format!("{} is logged in on that extension already", first.name),
            );
        }
        let base = at("dnd_exceptions");
        for (j, number) in user.dnd_exceptions.iter().enumerate() {
            if !is_valid_number(number) {
                errs.push(
                    format!("{base}[{j}]"),
                    format!("must be 2 to 15 digits (got {number:?})"),
                );
            }
        }
        let listed: Vec<Option<&String>> = user.dnd_exceptions.iter().map(Some).collect();
        check_unique(&base, &listed, errs);
        if !failed.contains(&at("rights")) {
            let listed: Vec<_> = user.rights.iter().map(Some).collect();
            check_unique(&at("rights"), &listed, errs);
        }
        crate::validate::check_music_path(&at("music_on_hold"), &user.music_on_hold, errs);
        let f = &user.forward;
        in_range(
            &at("forward.no_answer_secs"),
            f.no_answer_secs,
            FORWARD_NO_ANSWER_SECS,
            errs,
        );
        let targets = [
            ("unconditional", &f.unconditional),
            ("busy", &f.busy),
            ("no_answer", &f.no_answer),
            ("follow_me", &f.follow_me),
        ];
        for (key, target) in targets {
            let Some(target) = target else { continue };
            let path = at(&format!("forward.{key}"));
            if !is_dialable(target) {
                errs.push(path, format!("{DIALABLE} (got {target:?})"));
            } else if user.extension.as_ref() == Some(target) {
                errs.push(path, format!("{target:?} is the user's own extension"));
            }
        }
    }
}

fn check_time_profiles(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, profile) in config.time_profiles.iter().enumerate() {
        let path = format!("time_profiles[{i}].name");
        if !is_valid_login(&profile.name) {
            errs.push(
                &path,
                format!("must be 1 to 32 of a-z 0-9 . _ - (got {:?})", profile.name),
            );
        }
        if !failed.contains(&path) {
            if let Some(first) = names.get(profile.name.as_str()) {
                errs.push(
                    &path,
                    format!(
                        "duplicate of time_profiles[{first}].name ({:?})",
                        profile.name
                    ),
                );
            } else {
                names.insert(&profile.name, i);
            }
        }
        for (j, w) in profile.weekly.iter().enumerate() {
            let base = format!("time_profiles[{i}].weekly[{j}]");
            let days = format!("{base}.days");
            if !failed.contains(&days) {
                if w.days.is_empty() {
                    errs.push(&days, "at least one day");
                }
                let listed: Vec<_> = w.days.iter().map(Some).collect();
                check_unique(&days, &listed, errs);
            }
            check_window(&base, w.start, w.end, failed, errs);
        }
        for (j, d) in profile.dates.iter().enumerate() {
            let base = format!("time_profiles[{i}].dates[{j}]");
            check_window(&base, d.start, d.end, failed, errs);
        }
    }
}

/// `start` is a time of the day and `end` comes after it; skipped when either was
/// rejected by the reader.
fn check_window(
    base: &str,
    start: TimeOfDay,
    end: TimeOfDay,
    failed: &HashSet<String>,
    errs: &mut ConfigErrors,
) {
    let (start_path, end_path) = (format!("{base}.start"), format!("{base}.end"));
    if failed.contains(&start_path) || failed.contains(&end_path) {
        return;
    }
    if start == TimeOfDay::END_OF_DAY {
        errs.push(
            start_path,
            "must be a time HH:MM from 00:00 to 23:59 (got \"24:00\")",
        );
    } else if end <= start {
        errs.push(
            end_path,
            format!(
                "must be after start {start} (got {end}); an interval cannot cross midnight: \
                 split it in two"
            ),
        );
    }
}

fn check_hunt_groups(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    let extensions: HashSet<&str> = config
        .extensions
        .iter()
        .map(|e| e.number.as_str())
        .collect();
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut numbers: HashMap<&str, &str> = HashMap::new();
    for (i, g) in config.hunt_groups.iter().enumerate() {
        let at = |field: &str| format!("hunt_groups[{i}].{field}");
        crate::validate::check_music_path(&at("music_on_hold"), &g.music_on_hold, errs);
        crate::validate::check_music_path(&at("queue_announcement"), &g.queue_announcement, errs);
        let path = at("name");
        if !is_valid_login(&g.name) {
            errs.push(
                &path,
                format!("must be 1 to 32 of a-z 0-9 . _ - (got {:?})", g.name),
            );
        }
        if !failed.contains(&path) {
            if let Some(first) = names.get(g.name.as_str()) {
                errs.push(
                    &path,
                    format!("duplicate of hunt_groups[{first}].name ({:?})", g.name),
                );
            } else {
                names.insert(&g.name, i);
            }
        }

        // Short codes begin with * or #, so a number of digits never equals one.
        let path = at("number");
        if !is_valid_number(&g.number) {
            errs.push(
                &path,
                format!("must be 2 to 15 digits (got {:?})", g.number),
            );
        } else if extensions.contains(g.number.as_str()) {
            errs.push(
                &path,
                format!("{:?} is already extension {}", g.number, g.number),
            );
        } else if let Some(other) = numbers.get(g.number.as_str()) {
            errs.push(
                &path,
                format!("{:?} is already hunt group {other}", g.number),
            );
        } else if !failed.contains(&path) {
            numbers.insert(&g.number, &g.name);
        }

        let base = at("members");
        if g.members.is_empty() && !failed.contains(&base) {
            errs.push(&base, "at least one member");
        }
        for (j, member) in g.members.iter().enumerate() {
            if !extensions.contains(member.as_str()) {
                errs.push(format!("{base}[{j}]"), format!("no extension {member:?}"));
            }
        }
        let listed: Vec<Option<&String>> = g.members.iter().map(Some).collect();
        check_unique(&base, &listed, errs);

        in_range(
            &at("no_answer_secs"),
            g.no_answer_secs,
            HUNT_NO_ANSWER_SECS,
            errs,
        );
        in_range(&at("queue_limit"), g.queue_limit, QUEUE_LIMIT, errs);
        if let Some(secs) = g.overflow_secs {
            in_range(&at("overflow_secs"), secs, OVERFLOW_SECS, errs);
        }
        in_range(
            &at("queue_announce_every_secs"),
            g.queue_announce_every_secs,
            QUEUE_ANNOUNCE_EVERY_SECS,
            errs,
        );
        in_range(
            &at("voicemail_secs"),
            g.voicemail_secs,
            GROUP_VOICEMAIL_SECS,
            errs,
        );
        // Each of the overflow pair leans on the other: no complaint that one is missing
        // when the other was rejected.
        match (&g.overflow_secs, &g.overflow_to) {
            (Some(_), None) if !failed.contains(&at("overflow_to")) => {
                errs.push(at("overflow_to"), "required when overflow_secs is set");
            }
            (None, Some(_)) if !failed.contains(&at("overflow_secs")) => {
                errs.push(at("overflow_secs"), "required when overflow_to is set");
            }
            _ => {}
        }
        for (key, target) in [
            ("overflow_to", &g.overflow_to),
            ("night_service_to", &g.night_service_to),
        ] {
            let Some(target) = target else { continue };
            if !is_dialable(target) {
                errs.push(at(key), format!("{DIALABLE} (got {target:?})"));
            } else if *target == g.number {
                errs.push(at(key), format!("{target:?} is this group's own number"));
            }
        }
        if let Some(name) = &g.time_profile {
            if config.time_profile(name).is_none() {
                errs.push(at("time_profile"), format!("no time profile {name:?}"));
            }
        }
    }
}

fn check_short_codes(config: &Config, errs: &mut ConfigErrors) {
    let mut patterns: Vec<(&str, ShortCodePattern<'_>)> = Vec::new();
    for (code, feature) in &config.short_codes {
        let path = short_code_path(code);
        let Some(pattern) = ShortCodePattern::parse(code) else {
            errs.push(
                path,
                "must be * or # followed by 0-9 * # with at most one N for the number the \
                 caller dials (2 to 20 characters, at least 2 before the N)",
            );
            continue;
        };
        if feature.takes_number() && !pattern.takes_number {
            errs.push(
                &path,
                format!(
                    "feature {} takes a number: the code needs an N where it is dialled",
                    feature.as_str()
                ),
            );
        } else if !feature.takes_number() && pattern.takes_number {
            errs.push(
                &path,
                format!("feature {} takes no number: remove the N", feature.as_str()),
            );
        }
        // A dialled string that matches two codes starts with both fixed prefixes, so one
        // prefix is a prefix of the other: that is the collision to report.
        for (other, o) in &patterns {
            let (a, b) = (o.prefix, pattern.prefix);
            if a == b {
                errs.push(
                    &path,
                    format!("collides with short code {other:?}: both begin with {a:?}"),
                );
            } else if b.starts_with(a) || a.starts_with(b) {
                let (short, long) = if a.len() < b.len() { (a, b) } else { (b, a) };
                errs.push(
                    &path,
                    format!(
                        "collides with short code {other:?}: {short:?} is a prefix of {long:?}"
                    ),
                );
            }
        }
        patterns.push((code, pattern));
    }
}
