//! Audit lines for the business call features: the mail server, the dial plan, short
//! codes, users' call settings, time profiles and hunt groups. Login codes and the mail
//! server's password are secrets: only "set", "changed" or "removed" is said of them.

use crate::model::{Config, SmtpSettings, User};
use crate::model_features::HuntGroup;
use crate::time_profile::{DateInterval, TimeProfile, WeeklyInterval};
use std::collections::HashMap;
use std::fmt::Display;

/// `system.smtp added (mail.example.com:25)`, `system.smtp removed`, or one line per
/// changed field: `system.smtp.port 25 -> 587`, `system.smtp.password changed`.
pub(crate) fn smtp(old: &Option<SmtpSettings>, new: &Option<SmtpSettings>, out: &mut Vec<String>) {
    let (a, b) = match (old, new) {
        (None, None) => return,
        (None, Some(b)) => {
            out.push(format!("system.smtp added ({}:{})", b.server, b.port));
            return;
        }
        (Some(_), None) => {
            out.push("system.smtp removed".to_owned());
            return;
        }
        (Some(a), Some(b)) => (a, b),
    };
    let fields = [
        ("server", a.server.clone(), b.server.clone()),
        ("port", text(a.port), text(b.port)),
        ("from", a.from.clone(), b.from.clone()),
        ("starttls", text(a.starttls), text(b.starttls)),
        ("username", opt(&a.username), opt(&b.username)),
    ];
    for (field, before, after) in fields {
        if before != after {
            out.push(format!("system.smtp.{field} {before} -> {after}"));
        }
    }
    if let Some(said) = secret_change(&a.password, &b.password) {
        out.push(format!("system.smtp.password {said}"));
    }
}

/// "set", "changed" or "removed" for a secret that did any of those; `None` if unchanged.
fn secret_change(old: &Option<String>, new: &Option<String>) -> Option<&'static str> {
    match (old, new) {
        (None, Some(_)) => Some("set"),
        (Some(_), None) => Some("removed"),
        (Some(a), Some(b)) if a != b => Some("changed"),
        _ => None,
    }
}

/// `dial_plan.emergency 112,999,911 -> 112,999`, one line per changed field.
pub(crate) fn dial_plan(old: &Config, new: &Config, out: &mut Vec<String>) {
    let (a, b) = (&old.dial_plan, &new.dial_plan);
    let fields = [
        ("emergency", joined(&a.emergency), joined(&b.emergency)),
        (
            "external_prefix",
            opt(&a.external_prefix),
            opt(&b.external_prefix),
        ),
        (
            "international_prefix",
            a.international_prefix.clone(),
            b.international_prefix.clone(),
        ),
        (
            "national_prefix",
            a.national_prefix.clone(),
            b.national_prefix.clone(),
        ),
        ("country_code", opt(&a.country_code), opt(&b.country_code)),
        ("premium", joined(&a.premium), joined(&b.premium)),
        (
            "local_min_digits",
            text(a.local_min_digits),
            text(b.local_min_digits),
        ),
    ];
    for (field, before, after) in fields {
        if before != after {
            out.push(format!("dial_plan.{field} {before} -> {after}"));
        }
    }
}

/// `short code *17 added (voicemail_collect)`, `short code *17 voicemail_collect -> dnd_on`,
/// `short code *17 removed (voicemail_collect)`.
pub(crate) fn short_codes(old: &Config, new: &Config, out: &mut Vec<String>) {
    for (code, feature) in &new.short_codes {
        match old.short_codes.get(code) {
            None => out.push(format!("short code {code} added ({})", feature.as_str())),
            Some(o) if o != feature => out.push(format!(
                "short code {code} {} -> {}",
                o.as_str(),
                feature.as_str()
            )),
            Some(_) => {}
        }
    }
    for (code, feature) in &old.short_codes {
        if !new.short_codes.contains_key(code) {
            out.push(format!("short code {code} removed ({})", feature.as_str()));
        }
    }
}

/// The changed call settings of user `u` (was `o`): `user alice dnd false -> true`.
pub(crate) fn user_settings(o: &User, u: &User, out: &mut Vec<String>) {
    let mut line = |field: &str, old: String, new: String| {
        if old != new {
            out.push(format!("user {} {field} {old} -> {new}", u.name));
        }
    };
    line("hot_desk_at", opt(&o.hot_desk_at), opt(&u.hot_desk_at));
    line("dnd", o.dnd.to_string(), u.dnd.to_string());
    line(
        "dnd_exceptions",
        joined(&o.dnd_exceptions),
        joined(&u.dnd_exceptions),
    );
    line(
        "call_waiting",
        o.call_waiting.to_string(),
        u.call_waiting.to_string(),
    );
    line(
        "can_intrude",
        o.can_intrude.to_string(),
        u.can_intrude.to_string(),
    );
    line(
        "cannot_be_intruded",
        o.cannot_be_intruded.to_string(),
        u.cannot_be_intruded.to_string(),
    );
    line(
        "voicemail",
        o.voicemail.to_string(),
        u.voicemail.to_string(),
    );
    line(
        "voicemail_trusted",
        o.voicemail_trusted.to_string(),
        u.voicemail_trusted.to_string(),
    );
    let rights = |user: &User| joined(user.rights.iter().map(|r| r.as_str()));
    line("rights", rights(o), rights(u));
    line(
        "music_on_hold",
        opt(&o.music_on_hold),
        opt(&u.music_on_hold),
    );
    let (a, b) = (&o.forward, &u.forward);
    line(
        "forward.unconditional",
        opt(&a.unconditional),
        opt(&b.unconditional),
    );
    line("forward.busy", opt(&a.busy), opt(&b.busy));
    line("forward.no_answer", opt(&a.no_answer), opt(&b.no_answer));
    line(
        "forward.no_answer_secs",
        a.no_answer_secs.to_string(),
        b.no_answer_secs.to_string(),
    );
    line("forward.follow_me", opt(&a.follow_me), opt(&b.follow_me));
    line(
        "voicemail_email",
        opt(&o.voicemail_email),
        opt(&u.voicemail_email),
    );
    line(
        "voicemail_email_mode",
        o.voicemail_email_mode.as_str().into(),
        u.voicemail_email_mode.as_str().into(),
    );
    line(
        "record_calls",
        o.record_calls.to_string(),
        u.record_calls.to_string(),
    );
    if let Some(said) = secret_change(&o.login_code, &u.login_code) {
        out.push(format!("user {} login_code {said}", u.name));
    }
}

/// Time profiles by name: added, changed (`weekly` and `dates` in full), removed.
pub(crate) fn time_profiles(old: &Config, new: &Config, out: &mut Vec<String>) {
    let before: HashMap<&str, &TimeProfile> = old
        .time_profiles
        .iter()
        .map(|p| (p.name.as_str(), p))
        .collect();
    for p in &new.time_profiles {
        let Some(o) = before.get(p.name.as_str()) else {
            out.push(format!("time profile {} added", p.name));
            continue;
        };
        let weekly = |p: &TimeProfile| joined_with(p.weekly.iter().map(weekly_text), "; ");
        let dates = |p: &TimeProfile| joined_with(p.dates.iter().map(date_text), "; ");
        for (field, a, b) in [
            ("weekly", weekly(o), weekly(p)),
            ("dates", dates(o), dates(p)),
        ] {
            if a != b {
                out.push(format!("time profile {} {field} {a} -> {b}", p.name));
            }
        }
    }
    for p in &old.time_profiles {
        if new.time_profile(&p.name).is_none() {
            out.push(format!("time profile {} removed", p.name));
        }
    }
}

/// `mon,tue 08:30-17:30`
fn weekly_text(w: &WeeklyInterval) -> String {
    let days = joined(w.days.iter().map(|d| d.as_str()));
    format!("{days} {}-{}", w.start, w.end)
}

/// `2026-12-25 00:00-24:00 inactive`
fn date_text(d: &DateInterval) -> String {
    let state = if d.active { "active" } else { "inactive" };
    format!("{} {}-{} {state}", d.date, d.start, d.end)
}

/// Hunt groups by name: `hunt group sales members 201,202 -> 201,203`.
pub(crate) fn hunt_groups(old: &Config, new: &Config, out: &mut Vec<String>) {
    let before: HashMap<&str, &HuntGroup> = old
        .hunt_groups
        .iter()
        .map(|g| (g.name.as_str(), g))
        .collect();
    for g in &new.hunt_groups {
        let Some(o) = before.get(g.name.as_str()) else {
            out.push(format!("hunt group {} added", g.name));
            continue;
        };
        let mut line = |field: &str, old: String, new: String| {
            if old != new {
                out.push(format!("hunt group {} {field} {old} -> {new}", g.name));
            }
        };
        line("number", o.number.clone(), g.number.clone());
        line("mode", o.mode.as_str().into(), g.mode.as_str().into());
        line("members", joined(&o.members), joined(&g.members));
        line(
            "no_answer_secs",
            text(o.no_answer_secs),
            text(g.no_answer_secs),
        );
        line("queue", text(o.queue), text(g.queue));
        line("queue_limit", text(o.queue_limit), text(g.queue_limit));
        let secs = |s: Option<u32>| s.map_or_else(|| "(none)".to_owned(), |s| s.to_string());
        line(
            "overflow_secs",
            secs(o.overflow_secs),
            secs(g.overflow_secs),
        );
        line("overflow_to", opt(&o.overflow_to), opt(&g.overflow_to));
        line("time_profile", opt(&o.time_profile), opt(&g.time_profile));
        line(
            "night_service_to",
            opt(&o.night_service_to),
            opt(&g.night_service_to),
        );
        line("in_service", text(o.in_service), text(g.in_service));
        line(
            "music_on_hold",
            opt(&o.music_on_hold),
            opt(&g.music_on_hold),
        );
        line("record_calls", text(o.record_calls), text(g.record_calls));
        line("voicemail", text(o.voicemail), text(g.voicemail));
        line(
            "voicemail_secs",
            text(o.voicemail_secs),
            text(g.voicemail_secs),
        );
        line(
            "voicemail_email",
            opt(&o.voicemail_email),
            opt(&g.voicemail_email),
        );
        line(
            "voicemail_email_mode",
            o.voicemail_email_mode.as_str().into(),
            g.voicemail_email_mode.as_str().into(),
        );
        line(
            "queue_announcement",
            opt(&o.queue_announcement),
            opt(&g.queue_announcement),
        );
        line(
            "queue_announce_place",
            text(o.queue_announce_place),
            text(g.queue_announce_place),
        );
        line(
            "queue_announce_every_secs",
            text(o.queue_announce_every_secs),
            text(g.queue_announce_every_secs),
        );
    }
    let after: HashMap<&str, &HuntGroup> = new
        .hunt_groups
        .iter()
        .map(|g| (g.name.as_str(), g))
        .collect();
    for g in &old.hunt_groups {
        if !after.contains_key(g.name.as_str()) {
            out.push(format!("hunt group {} removed", g.name));
        }
    }
}

fn text(value: impl Display) -> String {
    value.to_string()
}

fn opt(value: &Option<String>) -> String {
    value.as_deref().unwrap_or("(none)").to_owned()
}

/// Items joined by commas, or `(none)`.
fn joined<T: AsRef<str>>(items: impl IntoIterator<Item = T>) -> String {
    joined_with(items, ",")
}

fn joined_with<T: AsRef<str>>(items: impl IntoIterator<Item = T>, separator: &str) -> String {
    let items: Vec<T> = items.into_iter().collect();
    if items.is_empty() {
        return "(none)".to_owned();
    }
    let parts: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    parts.join(separator)
}

/// Call flows added, removed, renumbered, or with steps changed (a flow's steps are a
/// graph: the summary names the steps that changed, not their every field).
pub(crate) fn call_flows(old: &Config, new: &Config, out: &mut Vec<String>) {
    for f in &new.call_flows {
        let Some(o) = old.call_flow(&f.name) else {
            out.push(format!("call flow {} added", f.name));
            continue;
        };
        if o.number != f.number {
            out.push(format!(
                "call flow {} number {} -> {}",
                f.name,
                opt(&o.number),
                opt(&f.number)
            ));
        }
        if o.start != f.start {
            out.push(format!(
                "call flow {} start {} -> {}",
                f.name, o.start, f.start
            ));
        }
        let changed: Vec<&str> = f
            .steps
            .iter()
            .filter(|s| o.step(&s.name) != Some(*s))
            .map(|s| s.name.as_str())
            .chain(
                o.steps
                    .iter()
                    .filter(|s| f.step(&s.name).is_none())
                    .map(|s| s.name.as_str()),
            )
            .collect();
        if !changed.is_empty() {
            out.push(format!(
                "call flow {} steps changed: {}",
                f.name,
                joined(changed)
            ));
        }
    }
    for f in &old.call_flows {
        if new.call_flow(&f.name).is_none() {
            out.push(format!("call flow {} removed", f.name));
        }
    }
}
