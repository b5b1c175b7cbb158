//! A readable summary of what changed between two configurations: the lines of the audit
//! trail for an applied change set ("extension 211 added", "registrar.min_expires 60 ->
//! 120").

use crate::diff_features;
use crate::model::{Config, DigestAlgorithmName};
use std::collections::HashMap;
use std::fmt::Debug;

/// One line per change from `old` to `new`: system, registrar, calls and security settings,
/// the dial plan, short codes, then extensions, users, time profiles, hunt groups and administrators
/// (removals after additions and changes). Passwords are only ever reported as "changed",
/// login codes and the mail server's password as "set", "changed" or "removed".
pub fn changes(old: &Config, new: &Config) -> Vec<String> {
    let mut out = Vec::new();
    setting(&mut out, "system.name", &old.system.name, &new.system.name);
    setting(
        &mut out,
        "system.realm",
        &old.system.realm,
        &new.system.realm,
    );
    if old.system.timezone != new.system.timezone {
        let zone = |z: &Option<String>| z.as_deref().unwrap_or("(the machine's)").to_owned();
        out.push(format!(
            "system.timezone {} -> {}",
            zone(&old.system.timezone),
            zone(&new.system.timezone)
        ));
    }
    let music = |m: &Option<String>| {
        m.as_ref()
            .map_or("(built-in)".to_owned(), |p| format!("{p:?}"))
    };
    if old.system.music_on_hold != new.system.music_on_hold {
        out.push(format!(
            "system.music_on_hold {} -> {}",
            music(&old.system.music_on_hold),
            music(&new.system.music_on_hold)
        ));
    }
    diff_features::smtp(&old.system.smtp, &new.system.smtp, &mut out);
    let (a, b) = (&old.registrar, &new.registrar);
    setting(
        &mut out,
        "registrar.min_expires",
        a.min_expires,
        b.min_expires,
    );
    setting(
        &mut out,
        "registrar.max_expires",
        a.max_expires,
        b.max_expires,
    );
    setting(
        &mut out,
        "registrar.default_expires",
        a.default_expires,
        b.default_expires,
    );
    setting(
        &mut out,
        "registrar.max_contacts",
        a.max_contacts,
        b.max_contacts,
    );
    let (a, b) = (&old.calls, &new.calls);
    setting(
        &mut out,
        "calls.session_expires_secs",
        a.session_expires_secs,
        b.session_expires_secs,
    );
    setting(&mut out, "calls.min_se_secs", a.min_se_secs, b.min_se_secs);
    setting(
        &mut out,
        "calls.park_timeout_secs",
        a.park_timeout_secs,
        b.park_timeout_secs,
    );
    crate::voicemail_settings::diff(old, new, &mut out);
    let (a, b) = (&old.security, &new.security);
    setting(
        &mut out,
        "security.auth_failures_before_block",
        a.auth_failures_before_block,
        b.auth_failures_before_block,
    );
    setting(
        &mut out,
        "security.failure_window_secs",
        a.failure_window_secs,
        b.failure_window_secs,
    );
    setting(&mut out, "security.block_secs", a.block_secs, b.block_secs);
    setting(
        &mut out,
        "security.nonce_lifetime_secs",
        a.nonce_lifetime_secs,
        b.nonce_lifetime_secs,
    );
    setting(
        &mut out,
        "security.slow_down_after",
        a.slow_down_after,
        b.slow_down_after,
    );
    setting(
        &mut out,
        "security.digest_algorithms",
        algorithm_names(&a.digest_algorithms),
        algorithm_names(&b.digest_algorithms),
    );
    diff_features::dial_plan(old, new, &mut out);
    diff_features::short_codes(old, new, &mut out);

    let old_ext: HashMap<&str, _> = old
        .extensions
        .iter()
        .map(|e| (e.number.as_str(), e))
        .collect();
    for e in &new.extensions {
        match old_ext.get(e.number.as_str()) {
            None => out.push(format!("extension {} added", e.number)),
            Some(o) => {
                if o.credentials != e.credentials {
                    out.push(format!("extension {} password changed", e.number));
                }
                if o.direct_media != e.direct_media {
                    out.push(format!(
                        "extension {} direct_media {} -> {}",
                        e.number, o.direct_media, e.direct_media
                    ));
                }
            }
        }
    }
    let new_ext: HashMap<&str, _> = new
        .extensions
        .iter()
        .map(|e| (e.number.as_str(), e))
        .collect();
    for e in &old.extensions {
        if !new_ext.contains_key(e.number.as_str()) {
            out.push(format!("extension {} removed", e.number));
        }
    }

    let old_users: HashMap<&str, _> = old.users.iter().map(|u| (u.name.as_str(), u)).collect();
    for u in &new.users {
        match old_users.get(u.name.as_str()) {
            None => out.push(format!("user {} added", u.name)),
            Some(o) => {
                if o.full_name != u.full_name {
                    out.push(format!(
                        "user {} full_name {:?} -> {:?}",
                        u.name, o.full_name, u.full_name
                    ));
                }
                if o.extension != u.extension {
                    out.push(format!(
                        "user {} extension {} -> {}",
                        u.name,
                        shown(&o.extension),
                        shown(&u.extension)
                    ));
                }
                diff_features::user_settings(o, u, &mut out);
            }
        }
    }
    let new_users: HashMap<&str, _> = new.users.iter().map(|u| (u.name.as_str(), u)).collect();
    for u in &old.users {
        if !new_users.contains_key(u.name.as_str()) {
            out.push(format!("user {} removed", u.name));
        }
    }
    diff_features::time_profiles(old, new, &mut out);
    diff_features::hunt_groups(old, new, &mut out);
    diff_features::call_flows(old, new, &mut out);

    for a in &new.admins {
        match old.admin(&a.name) {
            None => out.push(format!("administrator {} added", a.name)),
            Some(o) if o.password_hash != a.password_hash => {
                out.push(format!("administrator {} password changed", a.name));
            }
            Some(_) => {}
        }
    }
    for a in &old.admins {
        if new.admin(&a.name).is_none() {
            out.push(format!("administrator {} removed", a.name));
        }
    }
    out
}

/// Debug formatting quotes strings and leaves numbers bare.
fn setting<T: PartialEq + Debug>(out: &mut Vec<String>, path: &str, old: T, new: T) {
    if old != new {
        out.push(format!("{path} {old:?} -> {new:?}"));
    }
}

/// The names as written in the document, which Debug then quotes.
fn algorithm_names(algorithms: &[DigestAlgorithmName]) -> Vec<&'static str> {
    algorithms.iter().map(|a| a.as_str()).collect()
}

fn shown(ext: &Option<String>) -> &str {
    ext.as_deref().unwrap_or("(none)")
}

#[cfg(test)]
mod tests {
    use super::changes;
    use crate::model::{Config, Credentials, DigestAlgorithmName, Extension, User};

    fn ext(number: &str, password: &str) -> Extension {
        Extension {
            number: number.to_owned(),
            credentials: Credentials::from_password(number, "strowger", password),
            direct_media: false,
        }
    }

    #[test]
    fn summarises_each_kind_of_change() {
        let old = Config {
            extensions: vec![ext("201", "a"), ext("202", "b"), ext("203", "c")],
            users: vec![User::new("alice", "Alice", Some("201"))],
            ..Config::default()
        };
        let mut new = old.clone();
        new.registrar.min_expires = 120;
        new.security.digest_algorithms =
            vec![DigestAlgorithmName::Sha256, DigestAlgorithmName::Md5];
        new.extensions[1] = ext("202", "changed");
        new.extensions.remove(2);
        new.extensions.push(ext("211", "d"));
        new.users[0].extension = None;
        new.users.push(User::new("bob", "", None));
        assert_eq!(
            changes(&old, &new),
            [
                "registrar.min_expires 60 -> 120",
                "security.digest_algorithms [\"MD5\"] -> [\"SHA-256\", \"MD5\"]",
                "extension 202 password changed",
                "extension 211 added",
                "extension 203 removed",
                "user alice extension 201 -> (none)",
                "user bob added",
            ]
        );
        assert!(changes(&new, &new).is_empty());
    }
}
