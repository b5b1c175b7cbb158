//! Reading the business call features of the document: users' call settings, time
//! profiles, hunt groups, short codes and the dial plan. Only types and fixed ranges are checked here;
//! formats, uniqueness and references are checked with the typed values in
//! [`crate::validate`].

use crate::dial_plan::{DialPlanSettings, LOCAL_MIN_DIGITS};
use crate::document::Reading;
use crate::error::ConfigErrors;
use crate::model::User;
use crate::model_features::{CallRight, Forwarding, HuntGroup, HuntMode, VoicemailEmailMode};
use crate::short_codes::ShortCodeFeature;
use crate::time_profile::{Date, DateInterval, TimeOfDay, TimeProfile, Weekday, WeeklyInterval};
use crate::validate::{
    check_unique, short_code_path, FORWARD_NO_ANSWER_SECS, GROUP_VOICEMAIL_SECS,
    HUNT_NO_ANSWER_SECS, OVERFLOW_SECS, QUEUE_ANNOUNCE_EVERY_SECS, QUEUE_LIMIT,
};
use crate::walker::Fields;
use std::collections::BTreeMap;
use toml::{Table, Value};

/// Reads the call settings of a `[[users]]` table into `user`.
pub(crate) fn read_user_settings(f: &mut Fields<'_>, user: &mut User, r: &mut Reading) {
    user.login_code = f.string("login_code", &mut r.errs).map(str::to_owned);
    user.hot_desk_at = f.string("hot_desk_at", &mut r.errs).map(str::to_owned);
    if let Some(dnd) = f.boolean("dnd", &mut r.errs) {
        user.dnd = dnd;
    }
    if let Some(list) = read_string_list(f, "dnd_exceptions", r) {
        user.dnd_exceptions = list;
    }
    if let Some(call_waiting) = f.boolean("call_waiting", &mut r.errs) {
        user.call_waiting = call_waiting;
    }
    if let Some(can_intrude) = f.boolean("can_intrude", &mut r.errs) {
        user.can_intrude = can_intrude;
    }
    if let Some(cannot) = f.boolean("cannot_be_intruded", &mut r.errs) {
        user.cannot_be_intruded = cannot;
    }
    if let Some(voicemail) = f.boolean("voicemail", &mut r.errs) {
        user.voicemail = voicemail;
    }
    if let Some(trusted) = f.boolean("voicemail_trusted", &mut r.errs) {
        user.voicemail_trusted = trusted;
    }
    user.voicemail_email = f.string("voicemail_email", &mut r.errs).map(str::to_owned);
    if let Some(record) = f.boolean("record_calls", &mut r.errs) {
        user.record_calls = record;
    }
    if let Some(mode) = read_email_mode(f, &mut r.errs) {
        user.voicemail_email_mode = mode;
    }
    let rights = read_enum_list(f, "rights", CallRight::parse, unknown_right, r);
    if let Some(rights) = rights {
        user.rights = rights;
    }
    user.music_on_hold = f.string("music_on_hold", &mut r.errs).map(str::to_owned);
    if let Some(t) = f.table("forward", &mut r.errs) {
        user.forward = read_forward(Fields::new(t, f.path_of("forward")), &mut r.errs);
    }
}

/// Reads `voicemail_email_mode` (of a user or a hunt group); an unknown mode is reported.
fn read_email_mode(f: &mut Fields<'_>, errs: &mut ConfigErrors) -> Option<VoicemailEmailMode> {
    let mode = f.string("voicemail_email_mode", errs)?;
    let parsed = VoicemailEmailMode::parse(mode);
    if parsed.is_none() {
        errs.push(
            f.path_of("voicemail_email_mode"),
            format!(
                "unknown mode {mode:?} (expected {})",
                names(VoicemailEmailMode::ALL.map(VoicemailEmailMode::as_str))
            ),
        );
    }
    parsed
}

fn unknown_right(name: &str) -> String {
    format!(
        "unknown call right {name:?} (expected {}; emergency numbers are always allowed)",
        names(CallRight::ALL.map(CallRight::as_str))
    )
}

fn read_forward(mut f: Fields<'_>, errs: &mut ConfigErrors) -> Forwarding {
    let d = Forwarding::default();
    let forward = Forwarding {
        unconditional: f.string("unconditional", errs).map(str::to_owned),
        busy: f.string("busy", errs).map(str::to_owned),
        no_answer: f.string("no_answer", errs).map(str::to_owned),
        no_answer_secs: f
            .uint("no_answer_secs", FORWARD_NO_ANSWER_SECS, errs)
            .unwrap_or(d.no_answer_secs),
        follow_me: f.string("follow_me", errs).map(str::to_owned),
    };
    f.finish(errs);
    forward
}

/// Reads one `[[time_profiles]]` table.
pub(crate) fn read_time_profile(mut f: Fields<'_>, r: &mut Reading) -> TimeProfile {
    let name = f
        .required_string("name", &mut r.errs)
        .unwrap_or_default()
        .to_owned();
    let weekly = f
        .tables("weekly", &mut r.errs)
        .into_iter()
        .map(|(path, t)| read_weekly(Fields::new(t, path), r))
        .collect();
    let dates = f
        .tables("dates", &mut r.errs)
        .into_iter()
        .map(|(path, t)| read_date(Fields::new(t, path), r))
        .collect();
    f.finish(&mut r.errs);
    TimeProfile {
        name,
        weekly,
        dates,
    }
}

fn read_weekly(mut f: Fields<'_>, r: &mut Reading) -> WeeklyInterval {
    if !f.has("days") {
        r.errs.push(f.path_of("days"), "required field missing");
    }
    let days = read_enum_list(&mut f, "days", Weekday::parse, unknown_day, r).unwrap_or_default();
    let start = read_time(&mut f, "start", true, r).unwrap_or(TimeOfDay::MIDNIGHT);
    let end = read_time(&mut f, "end", true, r).unwrap_or(TimeOfDay::END_OF_DAY);
    f.finish(&mut r.errs);
    WeeklyInterval { days, start, end }
}

fn unknown_day(name: &str) -> String {
    format!(
        "unknown day {name:?} (expected {})",
        names(Weekday::ALL.map(Weekday::as_str))
    )
}

fn read_date(mut f: Fields<'_>, r: &mut Reading) -> DateInterval {
    let date = f.required_string("date", &mut r.errs).and_then(|s| {
        let date = Date::parse(s);
        if date.is_none() {
            r.errs.push(
                f.path_of("date"),
                format!("must be a calendar date YYYY-MM-DD (got {s:?})"),
            );
        }
        date
    });
    let start = read_time(&mut f, "start", false, r).unwrap_or(TimeOfDay::MIDNIGHT);
    let end = read_time(&mut f, "end", false, r).unwrap_or(TimeOfDay::END_OF_DAY);
    let active = f.boolean("active", &mut r.errs).unwrap_or(true);
    f.finish(&mut r.errs);
    DateInterval {
        // A missing or wrong date has been reported; nothing checks the placeholder.
        date: date.unwrap_or(Date::PLACEHOLDER),
        start,
        end,
        active,
    }
}

/// A time field `HH:MM`. `None` when absent or rejected; a rejected (or missing required)
/// field is recorded as a placeholder so that `start < end` is not judged against it.
fn read_time(
    f: &mut Fields<'_>,
    key: &'static str,
    required: bool,
    r: &mut Reading,
) -> Option<TimeOfDay> {
    let text = if required {
        f.required_string(key, &mut r.errs)
    } else {
        f.string(key, &mut r.errs)
    };
    let time = text.and_then(|s| {
        let time = TimeOfDay::parse(s);
        if time.is_none() {
            r.errs.push(
                f.path_of(key),
                format!("must be a time HH:MM from 00:00 to 24:00 (got {s:?})"),
            );
        }
        time
    });
    if time.is_none() && (required || f.has(key)) {
        r.placeholders.insert(f.path_of(key));
    }
    time
}

/// Reads one `[[hunt_groups]]` table.
pub(crate) fn read_hunt_group(mut f: Fields<'_>, r: &mut Reading) -> HuntGroup {
    let name = f.required_string("name", &mut r.errs).unwrap_or_default();
    let number = f.required_string("number", &mut r.errs).unwrap_or_default();
    let mut g = HuntGroup::new(name, number, &[]);
    if let Some(mode) = f.string("mode", &mut r.errs) {
        match HuntMode::parse(mode) {
            Some(mode) => g.mode = mode,
            None => r.errs.push(
                f.path_of("mode"),
                format!(
                    "unknown mode {mode:?} (expected {})",
                    names(HuntMode::ALL.map(HuntMode::as_str))
                ),
            ),
        }
    }
    if !f.has("members") {
        r.errs.push(f.path_of("members"), "required field missing");
    }
    g.members = read_string_list(&mut f, "members", r).unwrap_or_default();
    let errs = &mut r.errs;
    g.no_answer_secs = f
        .uint("no_answer_secs", HUNT_NO_ANSWER_SECS, errs)
        .unwrap_or(g.no_answer_secs);
    g.queue = f.boolean("queue", errs).unwrap_or(g.queue);
    g.queue_limit = f
        .uint("queue_limit", QUEUE_LIMIT, errs)
        .unwrap_or(g.queue_limit);
    g.overflow_secs = f.uint("overflow_secs", OVERFLOW_SECS, errs);
    g.overflow_to = f.string("overflow_to", errs).map(str::to_owned);
    g.time_profile = f.string("time_profile", errs).map(str::to_owned);
    g.night_service_to = f.string("night_service_to", errs).map(str::to_owned);
    g.in_service = f.boolean("in_service", errs).unwrap_or(g.in_service);
    g.music_on_hold = f.string("music_on_hold", errs).map(str::to_owned);
    g.record_calls = f.boolean("record_calls", errs).unwrap_or(false);
    g.voicemail = f.boolean("voicemail", errs).unwrap_or(g.voicemail);
    g.voicemail_secs = f
        .uint("voicemail_secs", GROUP_VOICEMAIL_SECS, errs)
        .unwrap_or(g.voicemail_secs);
    g.voicemail_email = f.string("voicemail_email", errs).map(str::to_owned);
    if let Some(mode) = read_email_mode(&mut f, errs) {
        g.voicemail_email_mode = mode;
    }
    g.queue_announcement = f.string("queue_announcement", errs).map(str::to_owned);
    g.queue_announce_place = f
        .boolean("queue_announce_place", errs)
        .unwrap_or(g.queue_announce_place);
    g.queue_announce_every_secs = f
        .uint("queue_announce_every_secs", QUEUE_ANNOUNCE_EVERY_SECS, errs)
        .unwrap_or(g.queue_announce_every_secs);
    f.finish(&mut r.errs);
    g
}

/// Reads the `[short_codes]` table: code to feature name. A code whose feature is not
/// known is reported and left out; the codes themselves are checked in `validate`.
pub(crate) fn read_short_codes(
    table: &Table,
    errs: &mut ConfigErrors,
) -> BTreeMap<String, ShortCodeFeature> {
    let mut codes = BTreeMap::new();
    for (code, value) in table {
        let path = short_code_path(code);
        match value {
            Value::String(name) => match ShortCodeFeature::parse(name) {
                Some(feature) => {
                    codes.insert(code.clone(), feature);
                }
                None => errs.push(
                    path,
                    format!(
                        "unknown feature {name:?} (expected {})",
                        names(ShortCodeFeature::ALL.map(ShortCodeFeature::as_str))
                    ),
                ),
            },
            other => errs.push(
                path,
                format!(
                    "must be a feature name in quotes (got {})",
                    other.type_str()
                ),
            ),
        }
    }
    codes
}

/// Reads the `[dial_plan]` table; fields left out keep their defaults.
pub(crate) fn read_dial_plan(mut f: Fields<'_>, r: &mut Reading) -> DialPlanSettings {
    let d = DialPlanSettings::default();
    let emergency = read_string_list(&mut f, "emergency", r).unwrap_or(d.emergency);
    let premium = read_string_list(&mut f, "premium", r).unwrap_or(d.premium);
    let errs = &mut r.errs;
    let plan = DialPlanSettings {
        emergency,
        external_prefix: f.string("external_prefix", errs).map(str::to_owned),
        international_prefix: f
            .string("international_prefix", errs)
            .map_or(d.international_prefix, str::to_owned),
        national_prefix: f
            .string("national_prefix", errs)
            .map_or(d.national_prefix, str::to_owned),
        country_code: f.string("country_code", errs).map(str::to_owned),
        premium,
        local_min_digits: f
            .uint("local_min_digits", LOCAL_MIN_DIGITS, errs)
            .unwrap_or(d.local_min_digits),
    };
    // A field of the wrong type holds its default; its path is among the reported ones,
    // which the rules skip, so nothing is judged against the stand-in.
    f.finish(&mut r.errs);
    plan
}

/// An optional array of strings. An element that is not a string is reported and held as
/// an empty placeholder, so indices match the document and nothing else is said of it.
fn read_string_list(f: &mut Fields<'_>, key: &'static str, r: &mut Reading) -> Option<Vec<String>> {
    let base = f.path_of(key);
    let items = f.strings(key, &mut r.errs)?;
    let list = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            item.map(str::to_owned).unwrap_or_else(|| {
                r.placeholders.insert(format!("{base}[{i}]"));
                String::new()
            })
        })
        .collect();
    Some(list)
}

/// An optional array of names of `T`. `None` when absent or when anything in it was
/// rejected; in the latter case the list is a placeholder (its path is recorded), so the
/// list rules are checked here, against the document's indices.
fn read_enum_list<T: Copy + PartialEq>(
    f: &mut Fields<'_>,
    key: &'static str,
    parse: fn(&str) -> Option<T>,
    unknown: fn(&str) -> String,
    r: &mut Reading,
) -> Option<Vec<T>> {
    let names = f.strings(key, &mut r.errs)?;
    let base = f.path_of(key);
    let listed: Vec<Option<T>> = names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            // An element that is not a string has been reported already.
            let value = parse(name?);
            if value.is_none() {
                r.errs.push(format!("{base}[{i}]"), unknown(name?));
            }
            value
        })
        .collect();
    if listed.iter().all(Option::is_some) {
        Some(listed.into_iter().flatten().collect())
    } else {
        check_unique(&base, &listed, &mut r.errs);
        r.placeholders.insert(base);
        None
    }
}

/// `a, b or c`.
fn names<const N: usize>(names: [&str; N]) -> String {
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}
