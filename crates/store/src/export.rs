//! Writing a [`Config`] back out as the TOML document.
//!
//! Written by hand rather than through serde so that sections come out in the documented
//! order with a short header, every setting appears explicitly (an exported document says
//! what is in force, not what was typed), and nothing can fail. Plain passwords cannot be
//! exported: the model does not hold them. The one exception is the mail server's
//! password (`system.smtp.password`), which must be sent to the server and so is kept and
//! exported as given.

use crate::dial_plan::DialPlanSettings;
use crate::model::{Config, Credentials, SmtpSettings, User};
use crate::model_features::HuntGroup;
use crate::time_profile::TimeProfile;
use std::fmt::Write as _;

impl Config {
    /// The configuration as a TOML document. Extensions carry `ha1_md5`/`ha1_sha256` and
    /// administrators `password_hash`; `Config::from_toml(&c.to_toml(), None)` gives back
    /// a configuration equal to `c`.
    pub fn to_toml(&self) -> String {
        let mut out = String::with_capacity(256 + 200 * self.extensions.len());
        out.push_str(
            "# Strowger configuration. Phone and administrator passwords are never exported:\n\
             # extensions carry their digest hashes (bound to system.realm) and\n\
             # administrators an argon2id hash.\n\
             # To set a password, replace the hash fields with password = \"...\".\n\
             # The mail server's password (system.smtp.password), if any, is shown as given:\n\
             # keep this document as private as the data directory.\n",
        );
        let s = &self.system;
        out.push_str("\n[system]\n");
        field_str(&mut out, "name", &s.name);
        field_str(&mut out, "realm", &s.realm);
        match &s.timezone {
            Some(zone) => field_str(&mut out, "timezone", zone),
            // Said, so that a reader knows the key exists and what its absence means.
            None => out.push_str("# timezone: the machine's own time zone\n"),
        }
        field_opt(&mut out, "music_on_hold", &s.music_on_hold);
        match &s.smtp {
            Some(smtp) => write_smtp(&mut out, smtp),
            None => out.push_str("# [system.smtp]: none, so no voicemail email is sent\n"),
        }

        let r = &self.registrar;
        out.push_str("\n[registrar]\n");
        field_num(&mut out, "min_expires", r.min_expires);
        field_num(&mut out, "max_expires", r.max_expires);
        field_num(&mut out, "default_expires", r.default_expires);
        field_num(&mut out, "max_contacts", r.max_contacts);

        let t = &self.calls;
        out.push_str("\n[calls]\n");
        field_num(&mut out, "session_expires_secs", t.session_expires_secs);
        field_num(&mut out, "min_se_secs", t.min_se_secs);
        field_num(&mut out, "park_timeout_secs", t.park_timeout_secs);
        field_str(&mut out, "record_keys", &t.record_keys);
        crate::voicemail_settings::export(&mut out, &self.voicemail);

        let c = &self.security;
        out.push_str("\n[security]\n");
        field_num(
            &mut out,
            "auth_failures_before_block",
            c.auth_failures_before_block,
        );
        field_num(&mut out, "failure_window_secs", c.failure_window_secs);
        field_num(&mut out, "block_secs", c.block_secs);
        field_num(&mut out, "nonce_lifetime_secs", c.nonce_lifetime_secs);
        field_num(&mut out, "slow_down_after", c.slow_down_after);
        let names: Vec<&str> = c.digest_algorithms.iter().map(|a| a.as_str()).collect();
        field_str_list(&mut out, "digest_algorithms", &names);

        write_dial_plan(&mut out, &self.dial_plan);

        // Written even when it holds the defaults: an empty section means no short codes.
        out.push_str("\n[short_codes]\n");
        for (code, feature) in &self.short_codes {
            push_toml_string(&mut out, code);
            out.push_str(" = ");
            push_toml_string(&mut out, feature.as_str());
            out.push('\n');
        }

        for u in &self.users {
            write_user(&mut out, u);
        }
        for e in &self.extensions {
            out.push_str("\n[[extensions]]\n");
            field_str(&mut out, "number", &e.number);
            let Credentials::Ha1 { md5, sha256 } = &e.credentials;
            field_str(&mut out, "ha1_md5", md5);
            field_str(&mut out, "ha1_sha256", sha256);
            field_bool(&mut out, "direct_media", e.direct_media);
        }
        for p in &self.time_profiles {
            write_time_profile(&mut out, p);
        }
        for g in &self.hunt_groups {
            write_hunt_group(&mut out, g);
        }
        for f in &self.call_flows {
            crate::call_flow::write_call_flow(&mut out, f);
        }
        for a in &self.admins {
            out.push_str("\n[[admins]]\n");
            field_str(&mut out, "name", &a.name);
            field_str(&mut out, "password_hash", &a.password_hash);
        }
        out
    }
}

fn write_smtp(out: &mut String, smtp: &SmtpSettings) {
    out.push_str("[system.smtp]\n");
    field_str(out, "server", &smtp.server);
    field_num(out, "port", u32::from(smtp.port));
    field_str(out, "from", &smtp.from);
    field_bool(out, "starttls", smtp.starttls);
    field_opt(out, "username", &smtp.username);
    field_opt(out, "password", &smtp.password);
}

fn write_dial_plan(out: &mut String, p: &DialPlanSettings) {
    out.push_str("\n[dial_plan]\n");
    let emergency: Vec<&str> = p.emergency.iter().map(String::as_str).collect();
    field_str_list(out, "emergency", &emergency);
    field_opt(out, "external_prefix", &p.external_prefix);
    field_str(out, "international_prefix", &p.international_prefix);
    field_str(out, "national_prefix", &p.national_prefix);
    field_opt(out, "country_code", &p.country_code);
    let premium: Vec<&str> = p.premium.iter().map(String::as_str).collect();
    field_str_list(out, "premium", &premium);
    field_num(out, "local_min_digits", p.local_min_digits);
}

fn write_user(out: &mut String, u: &User) {
    out.push_str("\n[[users]]\n");
    field_str(out, "name", &u.name);
    field_str(out, "full_name", &u.full_name);
    field_opt(out, "extension", &u.extension);
    field_opt(out, "login_code", &u.login_code);
    field_opt(out, "hot_desk_at", &u.hot_desk_at);
    field_bool(out, "dnd", u.dnd);
    let exceptions: Vec<&str> = u.dnd_exceptions.iter().map(String::as_str).collect();
    field_str_list(out, "dnd_exceptions", &exceptions);
    field_bool(out, "call_waiting", u.call_waiting);
    field_bool(out, "can_intrude", u.can_intrude);
    field_bool(out, "cannot_be_intruded", u.cannot_be_intruded);
    field_bool(out, "voicemail", u.voicemail);
    field_bool(out, "voicemail_trusted", u.voicemail_trusted);
    field_opt(out, "voicemail_email", &u.voicemail_email);
    field_str(out, "voicemail_email_mode", u.voicemail_email_mode.as_str());
    field_bool(out, "record_calls", u.record_calls);
    let rights: Vec<&str> = u.rights.iter().map(|r| r.as_str()).collect();
    field_str_list(out, "rights", &rights);
    field_opt(out, "music_on_hold", &u.music_on_hold);
    let f = &u.forward;
    out.push_str("[users.forward]\n");
    field_opt(out, "unconditional", &f.unconditional);
    field_opt(out, "busy", &f.busy);
    field_opt(out, "no_answer", &f.no_answer);
    field_num(out, "no_answer_secs", f.no_answer_secs);
    field_opt(out, "follow_me", &f.follow_me);
}

fn write_time_profile(out: &mut String, p: &TimeProfile) {
    out.push_str("\n[[time_profiles]]\n");
    field_str(out, "name", &p.name);
    for w in &p.weekly {
        out.push_str("[[time_profiles.weekly]]\n");
        let days: Vec<&str> = w.days.iter().map(|d| d.as_str()).collect();
        field_str_list(out, "days", &days);
        field_str(out, "start", &w.start.to_string());
        field_str(out, "end", &w.end.to_string());
    }
    for d in &p.dates {
        out.push_str("[[time_profiles.dates]]\n");
        field_str(out, "date", &d.date.to_string());
        field_str(out, "start", &d.start.to_string());
        field_str(out, "end", &d.end.to_string());
        field_bool(out, "active", d.active);
    }
}

fn write_hunt_group(out: &mut String, g: &HuntGroup) {
    out.push_str("\n[[hunt_groups]]\n");
    field_str(out, "name", &g.name);
    field_str(out, "number", &g.number);
    field_str(out, "mode", g.mode.as_str());
    let members: Vec<&str> = g.members.iter().map(String::as_str).collect();
    field_str_list(out, "members", &members);
    field_num(out, "no_answer_secs", g.no_answer_secs);
    field_bool(out, "queue", g.queue);
    field_num(out, "queue_limit", g.queue_limit);
    if let Some(secs) = g.overflow_secs {
        field_num(out, "overflow_secs", secs);
    }
    field_opt(out, "overflow_to", &g.overflow_to);
    field_opt(out, "time_profile", &g.time_profile);
    field_opt(out, "night_service_to", &g.night_service_to);
    field_bool(out, "in_service", g.in_service);
    field_opt(out, "music_on_hold", &g.music_on_hold);
    field_bool(out, "record_calls", g.record_calls);
    field_bool(out, "voicemail", g.voicemail);
    field_num(out, "voicemail_secs", g.voicemail_secs);
    field_opt(out, "voicemail_email", &g.voicemail_email);
    field_str(out, "voicemail_email_mode", g.voicemail_email_mode.as_str());
    field_opt(out, "queue_announcement", &g.queue_announcement);
    field_bool(out, "queue_announce_place", g.queue_announce_place);
    field_num(
        out,
        "queue_announce_every_secs",
        g.queue_announce_every_secs,
    );
}

pub(crate) fn field_opt(out: &mut String, key: &str, value: &Option<String>) {
    if let Some(value) = value {
        field_str(out, key, value);
    }
}

pub(crate) fn field_bool(out: &mut String, key: &str, value: bool) {
    let _ = writeln!(out, "{key} = {value}");
}

pub(crate) fn field_str(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push_str(" = ");
    push_toml_string(out, value);
    out.push('\n');
}

pub(crate) fn field_str_list(out: &mut String, key: &str, values: &[&str]) {
    out.push_str(key);
    out.push_str(" = [");
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_toml_string(out, value);
    }
    out.push_str("]\n");
}

pub(crate) fn field_num(out: &mut String, key: &str, value: u32) {
    // Writing to a String cannot fail.
    let _ = writeln!(out, "{key} = {value}");
}

/// Appends `s` as a TOML basic string, escaping what TOML requires.
pub(crate) fn push_toml_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::push_toml_string;

    #[test]
    fn escapes_round_trip_through_the_toml_parser() {
        let tricky = "quote \" backslash \\ tab \t newline \n bell \u{7} del \u{7f} é 漢";
        let mut doc = String::from("v = ");
        push_toml_string(&mut doc, tricky);
        let parsed: toml::Table = doc.parse().expect("escaped string parses");
        assert_eq!(parsed["v"].as_str(), Some(tricky));
    }
}
