//! Reading the TOML configuration document into a validated [`Config`].
//!
//! The document is parsed to a plain TOML table and walked field by field (see
//! [`crate::walker`]) so that every problem is reported at once; plain passwords are checked
//! for strength and hashed here, so they never reach the model. See the crate documentation
//! for the document's layout.

use crate::call_flow::read_call_flow;
use crate::dial_plan::DialPlanSettings;
use crate::document_features::{
    read_dial_plan, read_hunt_group, read_short_codes, read_time_profile, read_user_settings,
};
use crate::error::ConfigErrors;
use crate::model::{
    Admin, CallSettings, Config, Credentials, DigestAlgorithmName, Extension, RegistrarSettings,
    SecuritySettings, SmtpSettings, SystemSettings, User,
};
use crate::secrets::{check_password_strength, hash_admin_password};
use crate::short_codes::default_short_codes;
use crate::validate::{
    self, AUTH_FAILURES, BLOCK_SECS, EXPIRES_CEILING, FAILURE_WINDOW, MAX_CONTACTS, MIN_EXPIRES,
    MIN_SE, NONCE_LIFETIME, PARK_TIMEOUT, SESSION_EXPIRES_CEILING, SLOW_DOWN_AFTER, SMTP_PORT,
};
use crate::walker::{syntax_error, Fields};
use std::collections::HashSet;
use toml::Table;

/// Everything collected while reading, beyond the typed values.
#[derive(Default)]
pub(crate) struct Reading {
    pub(crate) errs: ConfigErrors,
    /// Paths holding placeholders because their input was missing or wrong; validation
    /// must not complain about them a second time.
    pub(crate) placeholders: HashSet<String>,
    /// Document indices of extensions whose credentials came from a plain `password`.
    plain_passwords: HashSet<usize>,
}

impl Config {
    /// Parses and validates a configuration document.
    ///
    /// A document with any problem is rejected whole, and every problem is listed with its
    /// field path. `previous` is the configuration in force, if any: an extension or
    /// administrator given without any password keeps the one it has there, and a change of
    /// `system.realm` is refused unless every extension supplies a plain `password` (HA1
    /// hashes are bound to the realm).
    pub fn from_toml(text: &str, previous: Option<&Config>) -> Result<Config, ConfigErrors> {
        let root: Table = text.parse().map_err(|e| syntax_error(text, &e))?;
        let mut r = Reading::default();
        let mut doc = Fields::new(&root, "");
        let system = match doc.table("system", &mut r.errs) {
            Some(t) => read_system(Fields::new(t, "system"), &mut r.errs),
            None => SystemSettings::default(),
        };
        let registrar = match doc.table("registrar", &mut r.errs) {
            Some(t) => read_registrar(Fields::new(t, "registrar"), &mut r.errs),
            None => RegistrarSettings::default(),
        };
        let calls = match doc.table("calls", &mut r.errs) {
            Some(t) => read_calls(Fields::new(t, "calls"), &mut r.errs),
            None => CallSettings::default(),
        };
        let security = match doc.table("security", &mut r.errs) {
            Some(t) => read_security(Fields::new(t, "security"), &mut r.errs),
            None => SecuritySettings::default(),
        };
        let dial_plan = match doc.table("dial_plan", &mut r.errs) {
            Some(t) => read_dial_plan(Fields::new(t, "dial_plan"), &mut r),
            None => DialPlanSettings::default(),
        };
        let users = doc
            .tables("users", &mut r.errs)
            .into_iter()
            .map(|(path, t)| read_user(Fields::new(t, path), &mut r))
            .collect();
        let extensions = doc
            .tables("extensions", &mut r.errs)
            .into_iter()
            .enumerate()
            .map(|(i, (path, t))| {
                read_extension(i, Fields::new(t, path), &system, previous, &mut r)
            })
            .collect();
        let admins = doc
            .tables("admins", &mut r.errs)
            .into_iter()
            .map(|(path, t)| read_admin(Fields::new(t, path), previous, &mut r))
            .collect();
        let time_profiles = doc
            .tables("time_profiles", &mut r.errs)
            .into_iter()
            .map(|(path, t)| read_time_profile(Fields::new(t, path), &mut r))
            .collect();
        let hunt_groups = doc
            .tables("hunt_groups", &mut r.errs)
            .into_iter()
            .map(|(path, t)| read_hunt_group(Fields::new(t, path), &mut r))
            .collect();
        let call_flows = doc
            .tables("call_flows", &mut r.errs)
            .into_iter()
            .map(|(path, t)| read_call_flow(Fields::new(t, path), &mut r))
            .collect();
        let short_codes = match doc.table("short_codes", &mut r.errs) {
            Some(t) => read_short_codes(t, &mut r.errs),
            None => default_short_codes(),
        };
        let voicemail = match doc.table("voicemail", &mut r.errs) {
            Some(t) => crate::voicemail_settings::read(Fields::new(t, "voicemail"), &mut r.errs),
            None => Default::default(),
        };
        doc.finish(&mut r.errs);

        let config = Config {
            system,
            registrar,
            calls,
            security,
            dial_plan,
            users,
            extensions,
            admins,
            time_profiles,
            hunt_groups,
            short_codes,
            call_flows,
            voicemail,
        };
        if let Some(prev) = previous {
            check_realm_change(prev, &config, &mut r);
        }
        let mut failed = r.placeholders;
        failed.extend(r.errs.errors().iter().map(|e| e.path.clone()));
        validate::check(&config, &failed, &mut r.errs);
        r.errs.into_result().map(|()| config)
    }
}

fn read_system(mut f: Fields<'_>, errs: &mut ConfigErrors) -> SystemSettings {
    let d = SystemSettings::default();
    let s = SystemSettings {
        name: f.string("name", errs).map_or(d.name, str::to_owned),
        realm: f.string("realm", errs).map_or(d.realm, str::to_owned),
        timezone: f.string("timezone", errs).map(str::to_owned),
        music_on_hold: f.string("music_on_hold", errs).map(str::to_owned),
        smtp: f
            .table("smtp", errs)
            .map(|t| read_smtp(Fields::new(t, "system.smtp"), errs)),
    };
    f.finish(errs);
    s
}

/// `[system.smtp]`. Only types, presence and the port's range are checked here; the forms
/// of the server, addresses and credentials are checked in `validate`.
fn read_smtp(mut f: Fields<'_>, errs: &mut ConfigErrors) -> SmtpSettings {
    let server = f.required_string("server", errs).unwrap_or_default();
    let from = f.required_string("from", errs).unwrap_or_default();
    let mut smtp = SmtpSettings::new(server, from);
    if let Some(port) = f.uint("port", SMTP_PORT, errs) {
        // The range fits u16; a failed conversion cannot happen and keeps the default.
        smtp.port = u16::try_from(port).unwrap_or(SmtpSettings::DEFAULT_PORT);
    }
    smtp.starttls = f.boolean("starttls", errs).unwrap_or(false);
    smtp.username = f.string("username", errs).map(str::to_owned);
    smtp.password = f.string("password", errs).map(str::to_owned);
    f.finish(errs);
    smtp
}

fn read_registrar(mut f: Fields<'_>, errs: &mut ConfigErrors) -> RegistrarSettings {
    let d = RegistrarSettings::default();
    // Only the fixed bounds are checked here; the bounds that depend on other fields are
    // checked with the typed values in `validate`.
    let s = RegistrarSettings {
        min_expires: f
            .uint("min_expires", MIN_EXPIRES, errs)
            .unwrap_or(d.min_expires),
        max_expires: f
            .uint("max_expires", 1..=EXPIRES_CEILING, errs)
            .unwrap_or(d.max_expires),
        default_expires: f
            .uint("default_expires", 1..=EXPIRES_CEILING, errs)
            .unwrap_or(d.default_expires),
        max_contacts: f
            .uint("max_contacts", MAX_CONTACTS, errs)
            .unwrap_or(d.max_contacts),
    };
    f.finish(errs);
    s
}

fn read_calls(mut f: Fields<'_>, errs: &mut ConfigErrors) -> CallSettings {
    let d = CallSettings::default();
    // Only the fixed bounds are checked here; that session_expires_secs is 0 or at least
    // min_se_secs is checked with the typed values in `validate`.
    let s = CallSettings {
        session_expires_secs: f
            .uint("session_expires_secs", 0..=SESSION_EXPIRES_CEILING, errs)
            .unwrap_or(d.session_expires_secs),
        min_se_secs: f.uint("min_se_secs", MIN_SE, errs).unwrap_or(d.min_se_secs),
        park_timeout_secs: f
            .uint("park_timeout_secs", PARK_TIMEOUT, errs)
            .unwrap_or(d.park_timeout_secs),
        record_keys: f
            .string("record_keys", errs)
            .map_or(d.record_keys, str::to_owned),
    };
    f.finish(errs);
    s
}

fn read_security(mut f: Fields<'_>, errs: &mut ConfigErrors) -> SecuritySettings {
    let d = SecuritySettings::default();
    let s = SecuritySettings {
        auth_failures_before_block: f
            .uint("auth_failures_before_block", AUTH_FAILURES, errs)
            .unwrap_or(d.auth_failures_before_block),
        failure_window_secs: f
            .uint("failure_window_secs", FAILURE_WINDOW, errs)
            .unwrap_or(d.failure_window_secs),
        block_secs: f
            .uint("block_secs", BLOCK_SECS, errs)
            .unwrap_or(d.block_secs),
        nonce_lifetime_secs: f
            .uint("nonce_lifetime_secs", NONCE_LIFETIME, errs)
            .unwrap_or(d.nonce_lifetime_secs),
        slow_down_after: f
            .uint("slow_down_after", SLOW_DOWN_AFTER, errs)
            .unwrap_or(d.slow_down_after),
        digest_algorithms: read_digest_algorithms(&mut f, errs).unwrap_or(d.digest_algorithms),
    };
    f.finish(errs);
    s
}

/// `security.digest_algorithms`: names in any letter case, held canonical. `None` when the
/// field is absent or anything in it was rejected; in the latter case the default stands
/// in, so the list rules are checked here, against the document's indices, since checking
/// the default later would find nothing.
fn read_digest_algorithms(
    f: &mut Fields<'_>,
    errs: &mut ConfigErrors,
) -> Option<Vec<DigestAlgorithmName>> {
    let names = f.strings("digest_algorithms", errs)?;
    let base = f.path_of("digest_algorithms");
    let listed: Vec<Option<DigestAlgorithmName>> = names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            // An element that is not a string has been reported already.
            let name = name?;
            let algorithm = DigestAlgorithmName::from_name(name);
            if algorithm.is_none() {
                let expected = DigestAlgorithmName::ALL.map(|a| format!("{:?}", a.as_str()));
                errs.push(
                    format!("{base}[{i}]"),
                    format!(
                        "unknown algorithm {name:?} (expected {})",
                        expected.join(" or ")
                    ),
                );
            }
            algorithm
        })
        .collect();
    if listed.iter().all(Option::is_some) {
        Some(listed.into_iter().flatten().collect())
    } else {
        validate::check_digest_algorithms(&listed, errs);
        None
    }
}

fn read_user(mut f: Fields<'_>, r: &mut Reading) -> User {
    let name = f.required_string("name", &mut r.errs).unwrap_or_default();
    let full_name = f.string("full_name", &mut r.errs).unwrap_or_default();
    let extension = f.string("extension", &mut r.errs);
    let mut user = User::new(name, full_name, extension);
    read_user_settings(&mut f, &mut user, r);
    f.finish(&mut r.errs);
    user
}

fn read_extension(
    index: usize,
    mut f: Fields<'_>,
    system: &SystemSettings,
    previous: Option<&Config>,
    r: &mut Reading,
) -> Extension {
    let number = f
        .required_string("number", &mut r.errs)
        .unwrap_or_default()
        .to_owned();
    let password = f.string("password", &mut r.errs);
    let md5 = f.string("ha1_md5", &mut r.errs);
    let sha256 = f.string("ha1_sha256", &mut r.errs);
    let direct_media = f.boolean("direct_media", &mut r.errs).unwrap_or(false);
    let has_hash_field = f.has("ha1_md5") || f.has("ha1_sha256");
    let has_password_field = f.has("password");

    let credentials = match (password, md5, sha256) {
        (Some(_), _, _) if has_hash_field => {
            r.errs.push(
                f.path_of("password"),
                "give either password or ha1_md5 and ha1_sha256, not both",
            );
            None
        }
        (Some(pw), _, _) => match check_password_strength(pw, &number, "the extension number") {
            Ok(()) => {
                r.plain_passwords.insert(index);
                Some(Credentials::from_password(&number, &system.realm, pw))
            }
            Err(problem) => {
                r.errs.push(f.path_of("password"), problem.to_string());
                None
            }
        },
        (None, Some(md5), Some(sha256)) => Some(Credentials::Ha1 {
            // Hex case carries no meaning; the model holds lower case.
            md5: md5.to_ascii_lowercase(),
            sha256: sha256.to_ascii_lowercase(),
        }),
        // Present but of the wrong type: already reported.
        (None, None, None) if has_hash_field || has_password_field => None,
        (None, None, None) => {
            let carried = previous.and_then(|p| p.extension(&number));
            if carried.is_none() && !r.errs.has_path(&f.path_of("number")) {
                r.errs.push(
                    f.path_of("password"),
                    "required field missing (or ha1_md5 and ha1_sha256, as exported)",
                );
            }
            carried.map(|e| e.credentials.clone())
        }
        (None, md5, _) => {
            let missing = if md5.is_none() {
                "ha1_md5"
            } else {
                "ha1_sha256"
            };
            if !f.has(missing) {
                r.errs.push(
                    f.path_of(missing),
                    "required field missing (ha1_md5 and ha1_sha256 go together)",
                );
            }
            None
        }
    };
    let credentials = credentials.unwrap_or_else(|| {
        r.placeholders.insert(f.path_of("ha1_md5"));
        r.placeholders.insert(f.path_of("ha1_sha256"));
        Credentials::Ha1 {
            md5: String::new(),
            sha256: String::new(),
        }
    });
    f.finish(&mut r.errs);
    Extension {
        number,
        credentials,
        direct_media,
    }
}

fn read_admin(mut f: Fields<'_>, previous: Option<&Config>, r: &mut Reading) -> Admin {
    let name = f
        .required_string("name", &mut r.errs)
        .unwrap_or_default()
        .to_owned();
    let password = f.string("password", &mut r.errs);
    let hash = f.string("password_hash", &mut r.errs);
    let prev_admin = previous.and_then(|p| p.admin(&name));
    let password_hash = match (password, hash) {
        (Some(_), Some(_)) => {
            r.errs.push(
                f.path_of("password"),
                "give either password or password_hash, not both",
            );
            None
        }
        (Some(pw), None) => match check_password_strength(pw, &name, "the login name") {
            // Re-applying the same document keeps the stored hash instead of re-salting it,
            // so the change summary does not claim a password change that did not happen.
            Ok(()) => Some(match prev_admin {
                Some(a) if a.verify_password(pw) => a.password_hash.clone(),
                _ => hash_admin_password(pw),
            }),
            Err(problem) => {
                r.errs.push(f.path_of("password"), problem.to_string());
                None
            }
        },
        (None, Some(h)) => Some(h.to_owned()),
        (None, None) => {
            let wrong_types = f.has("password") || f.has("password_hash");
            if prev_admin.is_none() && !wrong_types && !r.errs.has_path(&f.path_of("name")) {
                r.errs.push(
                    f.path_of("password"),
                    "required field missing (or password_hash, as exported)",
                );
            }
            prev_admin.map(|a| a.password_hash.clone())
        }
    };
    let password_hash = password_hash.unwrap_or_else(|| {
        r.placeholders.insert(f.path_of("password_hash"));
        String::new()
    });
    f.finish(&mut r.errs);
    Admin {
        name,
        password_hash,
    }
}

/// HA1 hashes are bound to the realm: after a realm change, hashes carried over or given
/// as exported would never match again, and every phone would fail to register.
fn check_realm_change(previous: &Config, config: &Config, r: &mut Reading) {
    let (old, new) = (&previous.system.realm, &config.system.realm);
    if old == new {
        return;
    }
    let missing: Vec<&str> = config
        .extensions
        .iter()
        .enumerate()
        .filter(|(i, _)| !r.plain_passwords.contains(i))
        .map(|(_, e)| e.number.as_str())
        .collect();
    if missing.is_empty() {
        return;
    }
    let mut list = missing
        .iter()
        .take(10)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if missing.len() > 10 {
        list.push_str(&format!(" and {} more", missing.len() - 10));
    }
    r.errs.push(
        "system.realm",
        format!(
            "changed from {old:?} to {new:?}: stored password hashes (HA1) are bound to the \
             realm, so every extension must give a plain password in the same document \
             (missing for {list})"
        ),
    );
}
