//! The rules of voicemail email: the mail server of `[system.smtp]`, and users' addresses
//! and modes. Public items are re-exported by [`crate::validate`].
//!
//! Addresses are checked by a deliberately narrow rule (the common `local@domain` form in
//! ASCII) rather than the whole of RFC 5322: what passes here is also what every mail
//! library and relay accepts, so a document that validates never fails at sending time
//! for the form of an address.

use crate::error::ConfigErrors;
use crate::model::Config;
use crate::model_features::VoicemailEmailMode;
use std::collections::HashSet;
use std::net::IpAddr;
use std::ops::RangeInclusive;

/// `system.smtp.port`.
pub const SMTP_PORT: RangeInclusive<u32> = 1..=65_535;
/// Longest `system.smtp.username` and `system.smtp.password` (API keys used as passwords
/// run to a few hundred characters).
pub const MAX_SMTP_CREDENTIAL: usize = 512;
/// Longest email address (RFC 5321 §4.5.3.1.3: a path is at most 256 octets, brackets
/// included).
pub const MAX_EMAIL_ADDRESS: usize = 254;

const ADDRESS: &str = "must be an email address such as name@example.com";

/// True when `address` is an email address of the form `local@domain`: the local part 1 to
/// 64 of `A-Z a-z 0-9 ! # $ % & ' * + - / = ? ^ _ { | } ~` and inner dots (no two in a
/// row), the domain a host name as [`is_valid_host_name`]; at most
/// [`MAX_EMAIL_ADDRESS`] characters in all.
pub fn is_valid_email_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    address.len() <= MAX_EMAIL_ADDRESS
        && (1..=64).contains(&local.len())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b))
        && is_valid_host_name(domain)
}

/// True when `name` is a DNS host name: dot-separated labels of 1 to 63 of `A-Z a-z 0-9 -`,
/// none beginning or ending with `-`, at most 253 characters; a trailing dot is not
/// allowed. A single label (`localhost`, `mail`) counts.
pub fn is_valid_host_name(name: &str) -> bool {
    (1..=253).contains(&name.len())
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// True when `server` names a mail server: an IPv4 or IPv6 address (without brackets) or a
/// host name as [`is_valid_host_name`].
pub fn is_valid_mail_server(server: &str) -> bool {
    server.parse::<IpAddr>().is_ok() || is_valid_host_name(server)
}

/// Checks `[system.smtp]` and the users' email settings into `errs`; `failed` as in
/// [`crate::validate`].
pub(crate) fn check_email(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    check_smtp(config, errs);
    check_users(config, failed, errs);
}

fn check_smtp(config: &Config, errs: &mut ConfigErrors) {
    let Some(smtp) = &config.system.smtp else {
        return;
    };
    if !is_valid_mail_server(&smtp.server) {
        errs.push(
            "system.smtp.server",
            format!(
                "must be a host name (mail.example.com) or an IP address (got {:?})",
                smtp.server
            ),
        );
    }
    if smtp.port == 0 {
        errs.push(
            "system.smtp.port",
            format!(
                "must be between {} and {} (got 0)",
                SMTP_PORT.start(),
                SMTP_PORT.end()
            ),
        );
    }
    if !is_valid_email_address(&smtp.from) {
        errs.push(
            "system.smtp.from",
            format!("{ADDRESS} (got {:?})", smtp.from),
        );
    }
    if let Some(username) = &smtp.username {
        if !is_credential(username) {
            errs.push(
                "system.smtp.username",
                format!("must be 1 to {MAX_SMTP_CREDENTIAL} characters without control characters"),
            );
        }
    }
    if let Some(password) = &smtp.password {
        // A secret: never repeated in the reason.
        if !is_credential(password) {
            errs.push(
                "system.smtp.password",
                format!("must be 1 to {MAX_SMTP_CREDENTIAL} characters without control characters"),
            );
        }
    }
    match (&smtp.username, &smtp.password) {
        (Some(_), None) => errs.push(
            "system.smtp.password",
            "required when username is set (username and password go together)",
        ),
        (None, Some(_)) => errs.push(
            "system.smtp.username",
            "required when password is set (username and password go together)",
        ),
        _ => {}
    }
}

fn is_credential(s: &str) -> bool {
    (1..=MAX_SMTP_CREDENTIAL).contains(&s.chars().count()) && !s.chars().any(char::is_control)
}

fn check_users(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    for (i, user) in config.users.iter().enumerate() {
        let at = |field: &str| format!("users[{i}].{field}");
        check_mailbox_email(
            config,
            (&user.voicemail_email, user.voicemail_email_mode),
            &at,
            failed,
            errs,
        );
    }
    for (i, group) in config.hunt_groups.iter().enumerate() {
        let at = |field: &str| format!("hunt_groups[{i}].{field}");
        check_mailbox_email(
            config,
            (&group.voicemail_email, group.voicemail_email_mode),
            &at,
            failed,
            errs,
        );
    }
}

/// The email settings of one mailbox (a user's or a hunt group's): the address is one,
/// and a mode other than off has an address and a mail server to go through.
fn check_mailbox_email(
    config: &Config,
    (address, mode): (&Option<String>, VoicemailEmailMode),
    at: &dyn Fn(&str) -> String,
    failed: &HashSet<String>,
    errs: &mut ConfigErrors,
) {
    if let Some(address) = address {
        if !is_valid_email_address(address) {
            errs.push(
                at("voicemail_email"),
                format!("{ADDRESS} (got {address:?})"),
            );
        }
    }
    if mode == VoicemailEmailMode::Off || failed.contains(&at("voicemail_email_mode")) {
        return;
    }
    let mode = mode.as_str();
    if address.is_none() && !failed.contains(&at("voicemail_email")) {
        errs.push(
            at("voicemail_email_mode"),
            format!("{mode:?} needs voicemail_email, the address to send to"),
        );
    }
    // A [system.smtp] the reader rejected whole has been reported there.
    if config.system.smtp.is_none() && !failed.contains("system.smtp") {
        errs.push(
            at("voicemail_email_mode"),
            format!("{mode:?} needs a mail server: add [system.smtp] with server and from"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for ok in [
            "alice@example.com",
            "a@b",
            "voicemail@localhost",
            "first.last+vm@mail-1.example.co.uk",
            "o'brien@example.com",
        ] {
            assert!(is_valid_email_address(ok), "{ok}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_all = format!("a@{}.com", vec!["b".repeat(60); 5].join("."));
        for bad in [
            "",
            "alice",
            "@example.com",
            "alice@",
            "alice@@example.com",
            "a@b@example.com",
            ".alice@example.com",
            "alice.@example.com",
            "al..ice@example.com",
            "al ice@example.com",
            "Alice <alice@example.com>",
            "alice@example.com.",
            "alice@-example.com",
            "alice@exa_mple.com",
            "alice@[192.0.2.1]",
            "älice@example.com",
            "alice@example.com\n",
            &long_local,
            &long_all,
        ] {
            assert!(!is_valid_email_address(bad), "{bad:?}");
        }
    }

    #[test]
    fn servers() {
        for ok in [
            "localhost",
            "mail.example.com",
            "127.0.0.1",
            "::1",
            "2001:db8::25",
        ] {
            assert!(is_valid_mail_server(ok), "{ok}");
        }
        for bad in [
            "",
            "mail example",
            "[::1]",
            "mail.example.com:25",
            "smtp://x",
            "a..b",
        ] {
            assert!(!is_valid_mail_server(bad), "{bad:?}");
        }
    }
}
