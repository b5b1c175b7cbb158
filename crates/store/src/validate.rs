//! The rules a typed [`Config`] must satisfy: value ranges, name and number formats,
//! uniqueness, and references between sections (users' call settings, time profiles, hunt
//! groups, short codes, the dial plan and voicemail email included).
//!
//! Rules about plain passwords (strength) live in the document reader, because plain
//! passwords never reach the typed model. Every rule here reports its field path, and every
//! broken rule is reported, not just the first.

use crate::error::ConfigErrors;
use crate::model::{Config, Credentials, DigestAlgorithmName};
use crate::secrets::check_admin_hash;
use crate::walker::range_reason;
use std::collections::{HashMap, HashSet};
use std::ops::RangeInclusive;

pub use crate::validate_email::{
    is_valid_email_address, is_valid_host_name, is_valid_mail_server, MAX_EMAIL_ADDRESS,
    MAX_SMTP_CREDENTIAL, SMTP_PORT,
};
pub(crate) use crate::validate_features::{check_unique, short_code_path};
pub use crate::validate_features::{
    is_dialable, is_valid_login_code, FORWARD_NO_ANSWER_SECS, GROUP_VOICEMAIL_SECS,
    HUNT_NO_ANSWER_SECS, OVERFLOW_SECS, QUEUE_ANNOUNCE_EVERY_SECS, QUEUE_LIMIT,
};

/// `registrar.min_expires`.
pub const MIN_EXPIRES: RangeInclusive<u32> = 1..=3600;
/// Upper bound of `registrar.max_expires` and `registrar.default_expires`.
pub const EXPIRES_CEILING: u32 = 86_400;
/// `registrar.max_contacts`.
pub const MAX_CONTACTS: RangeInclusive<u32> = 1..=20;
/// `calls.min_se_secs`: RFC 4028 §4 forbids a Min-SE below 90 seconds.
pub const MIN_SE: RangeInclusive<u32> = 90..=86_400;
/// `calls.park_timeout_secs`.
pub const PARK_TIMEOUT: RangeInclusive<u32> = 10..=3600;
/// Upper bound of `calls.session_expires_secs` (which is otherwise 0 or at least
/// `calls.min_se_secs`).
pub const SESSION_EXPIRES_CEILING: u32 = 86_400;
/// `security.auth_failures_before_block`.
pub const AUTH_FAILURES: RangeInclusive<u32> = 1..=1000;
/// `security.failure_window_secs`.
pub const FAILURE_WINDOW: RangeInclusive<u32> = 1..=86_400;
/// `security.block_secs` (0 disables blocking; at most a week).
pub const BLOCK_SECS: RangeInclusive<u32> = 0..=604_800;
/// `security.nonce_lifetime_secs`.
pub const NONCE_LIFETIME: RangeInclusive<u32> = 10..=3600;
/// `security.slow_down_after` (0 disables the delay).
pub const SLOW_DOWN_AFTER: RangeInclusive<u32> = 0..=1000;
/// Longest system name and user full name.
pub const MAX_DISPLAY_NAME: usize = 64;
/// Longest music-on-hold file path.
pub const MAX_MUSIC_PATH: usize = 1024;

impl Config {
    /// Checks every rule; lists every broken one.
    pub fn validate(&self) -> Result<(), ConfigErrors> {
        let mut errs = ConfigErrors::default();
        check(self, &HashSet::new(), &mut errs);
        errs.into_result()
    }
}

/// Checks every rule into `errs`, leaving out problems at paths in `failed`: those fields
/// were already reported by the document reader and hold placeholders.
pub(crate) fn check(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    let mut found = ConfigErrors::default();
    check_system(config, &mut found);
    check_registrar(config, failed, &mut found);
    check_calls(config, failed, &mut found);
    check_security(config, failed, &mut found);
    check_extensions(config, failed, &mut found);
    check_users(config, failed, &mut found);
    check_admins(config, failed, &mut found);
    crate::validate_features::check_features(config, failed, &mut found);
    crate::validate_dial_plan::check_dial_plan(config, failed, &mut found);
    crate::voicemail_settings::check(config, failed, &mut found);
    crate::validate_email::check_email(config, failed, &mut found);
    crate::validate_call_flows::check_call_flows(config, failed, &mut found);
    errs.0
        .extend(found.0.into_iter().filter(|e| !failed.contains(&e.path)));
}

/// True when `name` is a valid login name: `[a-z0-9._-]{1,32}`.
pub fn is_valid_login(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// True when `number` is a valid extension number: 2 to 15 digits.
pub fn is_valid_number(number: &str) -> bool {
    (2..=15).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_digit())
}

fn is_display_text(s: &str) -> bool {
    s.chars().count() <= MAX_DISPLAY_NAME && !s.chars().any(char::is_control)
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub(crate) fn in_range(
    path: &str,
    value: u32,
    range: RangeInclusive<u32>,
    errs: &mut ConfigErrors,
) {
    if !range.contains(&value) {
        errs.push(path, range_reason(&range, value));
    }
}

fn check_system(config: &Config, errs: &mut ConfigErrors) {
    let s = &config.system;
    if s.name.is_empty() || !is_display_text(&s.name) {
        errs.push(
            "system.name",
            format!("must be 1 to {MAX_DISPLAY_NAME} characters without control characters"),
        );
    }
    let realm_ok = (1..=64).contains(&s.realm.len())
        && s.realm
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !realm_ok {
        errs.push(
            "system.realm",
            format!(
                "must be 1 to 64 of the characters A-Z a-z 0-9 . _ - (got {:?})",
                s.realm
            ),
        );
    }
    if let Some(zone) = &s.timezone {
        // Looked up in the time zone database (the machine's, or the copy built in), so a
        // zone that the running server could not use is refused here, with its path.
        if jiff::tz::TimeZone::get(zone).is_err() {
            errs.push(
                "system.timezone",
                format!(
                    "unknown time zone {zone:?} (expected an IANA name such as \"Europe/London\" \
                     or \"UTC\")"
                ),
            );
        }
    }
    check_music_path("system.music_on_hold", &s.music_on_hold, errs);
}

/// A music-on-hold path's form; whether the file exists and plays is checked where it is
/// loaded (the binary, when it applies the configuration), since this crate reads no
/// audio.
pub(crate) fn check_music_path(path: &str, value: &Option<String>, errs: &mut ConfigErrors) {
    let Some(value) = value else { return };
    if value.is_empty() || value.len() > MAX_MUSIC_PATH || value.chars().any(char::is_control) {
        errs.push(
            path,
            format!(
                "must be the path of a WAV file: 1 to {MAX_MUSIC_PATH} bytes without \
                 control characters"
            ),
        );
    }
}

fn check_registrar(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    let r = &config.registrar;
    in_range("registrar.min_expires", r.min_expires, MIN_EXPIRES, errs);
    in_range("registrar.max_contacts", r.max_contacts, MAX_CONTACTS, errs);
    // The cross-field rules are skipped when the field they lean on was itself rejected:
    // it then holds a default, and a complaint against it would mislead.
    let min_known =
        !failed.contains("registrar.min_expires") && MIN_EXPIRES.contains(&r.min_expires);
    let max_floor = if min_known { r.min_expires } else { 1 };
    in_range(
        "registrar.max_expires",
        r.max_expires,
        max_floor..=EXPIRES_CEILING,
        errs,
    );
    let max_known = !failed.contains("registrar.max_expires")
        && (max_floor..=EXPIRES_CEILING).contains(&r.max_expires);
    let default_ceiling = if max_known {
        r.max_expires
    } else {
        EXPIRES_CEILING
    };
    in_range(
        "registrar.default_expires",
        r.default_expires,
        max_floor..=default_ceiling,
        errs,
    );
}

fn check_calls(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    let c = &config.calls;
    in_range("calls.min_se_secs", c.min_se_secs, MIN_SE, errs);
    in_range(
        "calls.park_timeout_secs",
        c.park_timeout_secs,
        PARK_TIMEOUT,
        errs,
    );
    in_range(
        "calls.session_expires_secs",
        c.session_expires_secs,
        0..=SESSION_EXPIRES_CEILING,
        errs,
    );
    // As in the registrar: the cross-field rule is skipped when min_se_secs was itself
    // rejected, since it then holds a default.
    let min_known = !failed.contains("calls.min_se_secs") && MIN_SE.contains(&c.min_se_secs);
    if min_known && c.session_expires_secs != 0 && c.session_expires_secs < c.min_se_secs {
        errs.push(
            "calls.session_expires_secs",
            format!(
                "must be 0 (no session timer) or between {} (calls.min_se_secs) and \
                 {SESSION_EXPIRES_CEILING} (got {})",
                c.min_se_secs, c.session_expires_secs
            ),
        );
    }
}

fn check_security(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    let s = &config.security;
    in_range(
        "security.auth_failures_before_block",
        s.auth_failures_before_block,
        AUTH_FAILURES,
        errs,
    );
    in_range(
        "security.failure_window_secs",
        s.failure_window_secs,
        FAILURE_WINDOW,
        errs,
    );
    in_range("security.block_secs", s.block_secs, BLOCK_SECS, errs);
    in_range(
        "security.nonce_lifetime_secs",
        s.nonce_lifetime_secs,
        NONCE_LIFETIME,
        errs,
    );
    in_range(
        "security.slow_down_after",
        s.slow_down_after,
        SLOW_DOWN_AFTER,
        errs,
    );
    if !failed.contains(DIGEST_ALGORITHMS) {
        let listed: Vec<_> = s.digest_algorithms.iter().copied().map(Some).collect();
        check_digest_algorithms(&listed, errs);
    }
}

/// The path of `security.digest_algorithms`.
pub(crate) const DIGEST_ALGORITHMS: &str = "security.digest_algorithms";

/// `security.digest_algorithms` lists at least one algorithm and none twice. `None` stands
/// for an element the document reader already rejected: it keeps its index, so paths match
/// the document, but is compared with nothing.
pub(crate) fn check_digest_algorithms(
    listed: &[Option<DigestAlgorithmName>],
    errs: &mut ConfigErrors,
) {
    if listed.is_empty() {
        errs.push(DIGEST_ALGORITHMS, "at least one algorithm");
    }
    for (i, algorithm) in listed.iter().enumerate() {
        if algorithm.is_none() {
            continue;
        }
        // The list is short: a linear search is enough.
        if let Some(first) = listed[..i].iter().position(|a| a == algorithm) {
            errs.push(
                format!("{DIGEST_ALGORITHMS}[{i}]"),
                format!("duplicate of {DIGEST_ALGORITHMS}[{first}]"),
            );
        }
    }
}

fn check_extensions(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(config.extensions.len());
    for (i, ext) in config.extensions.iter().enumerate() {
        let path = format!("extensions[{i}].number");
        // Short codes begin with * or #, so a number of digits never equals one.
        if !is_valid_number(&ext.number) {
            errs.push(
                &path,
                format!("must be 2 to 15 digits (got {:?})", ext.number),
            );
        }
        if !failed.contains(&path) {
            if let Some(first) = seen.get(ext.number.as_str()) {
                errs.push(
                    &path,
                    format!("duplicate of extensions[{first}].number ({:?})", ext.number),
                );
            } else {
                seen.insert(&ext.number, i);
            }
        }
        let Credentials::Ha1 { md5, sha256 } = &ext.credentials;
        if !is_lower_hex(md5, 32) {
            errs.push(
                format!("extensions[{i}].ha1_md5"),
                "must be 32 hexadecimal digits",
            );
        }
        if !is_lower_hex(sha256, 64) {
            errs.push(
                format!("extensions[{i}].ha1_sha256"),
                "must be 64 hexadecimal digits",
            );
        }
    }
}

fn check_users(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    let numbers: HashSet<&str> = config
        .extensions
        .iter()
        .map(|e| e.number.as_str())
        .collect();
    let mut names: HashMap<&str, usize> = HashMap::with_capacity(config.users.len());
    let mut homes: HashMap<&str, usize> = HashMap::new();
    for (i, user) in config.users.iter().enumerate() {
        let path = format!("users[{i}].name");
        if !is_valid_login(&user.name) {
            errs.push(
                &path,
                format!("must be 1 to 32 of a-z 0-9 . _ - (got {:?})", user.name),
            );
        }
        if !failed.contains(&path) {
            if let Some(first) = names.get(user.name.as_str()) {
                errs.push(
                    &path,
                    format!("duplicate of users[{first}].name ({:?})", user.name),
                );
            } else {
                names.insert(&user.name, i);
            }
        }
        if !is_display_text(&user.full_name) {
            errs.push(
                format!("users[{i}].full_name"),
                format!("must be at most {MAX_DISPLAY_NAME} characters without control characters"),
            );
        }
        if let Some(number) = &user.extension {
            let path = format!("users[{i}].extension");
            if !numbers.contains(number.as_str()) {
                errs.push(&path, format!("no extension {number:?}"));
            } else if let Some(first) = homes.get(number.as_str()) {
                errs.push(
                    &path,
                    format!("extension {number:?} already belongs to users[{first}]"),
                );
            } else {
                homes.insert(number, i);
            }
        }
    }
}

fn check_admins(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    if config.admins.is_empty() && !failed.contains("admins") {
        errs.push(
            "admins",
            "at least one administrator is required, or nobody could manage the system",
        );
    }
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, admin) in config.admins.iter().enumerate() {
        let path = format!("admins[{i}].name");
        if !is_valid_login(&admin.name) {
            errs.push(
                &path,
                format!("must be 1 to 32 of a-z 0-9 . _ - (got {:?})", admin.name),
            );
        }
        if !failed.contains(&path) {
            if let Some(first) = names.get(admin.name.as_str()) {
                errs.push(
                    &path,
                    format!("duplicate of admins[{first}].name ({:?})", admin.name),
                );
            } else {
                names.insert(&admin.name, i);
            }
        }
        if let Err(reason) = check_admin_hash(&admin.password_hash) {
            errs.push(format!("admins[{i}].password_hash"), reason);
        }
    }
}
