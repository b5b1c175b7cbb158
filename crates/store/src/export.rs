//! Writing a [`Config`] back out as the TOML document.
//!
//! Written by hand rather than through serde so that sections come out in the documented
//! order with a short header, every setting appears explicitly (an exported document says
//! what is in force, not what was typed), and nothing can fail. Plain passwords cannot be
//! exported: the model does not hold them.

use crate::model::{Config, Credentials};
use std::fmt::Write as _;

impl Config {
    /// The configuration as a TOML document. Extensions carry `ha1_md5`/`ha1_sha256` and
    /// administrators `password_hash`; `Config::from_toml(&c.to_toml(), None)` gives back
    /// a configuration equal to `c`.
    pub fn to_toml(&self) -> String {
        let mut out = String::with_capacity(256 + 200 * self.extensions.len());
        out.push_str(
            "# Strowger configuration. Passwords are never exported: extensions carry their\n\
             # digest hashes (bound to system.realm) and administrators an argon2id hash.\n\
             # To set a password, replace the hash fields with password = \"...\".\n",
        );
        let s = &self.system;
        out.push_str("\n[system]\n");
        field_str(&mut out, "name", &s.name);
        field_str(&mut out, "realm", &s.realm);

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

        for u in &self.users {
            out.push_str("\n[[users]]\n");
            field_str(&mut out, "name", &u.name);
            field_str(&mut out, "full_name", &u.full_name);
            if let Some(ext) = &u.extension {
                field_str(&mut out, "extension", ext);
            }
        }
        for e in &self.extensions {
            out.push_str("\n[[extensions]]\n");
            field_str(&mut out, "number", &e.number);
            let Credentials::Ha1 { md5, sha256 } = &e.credentials;
            field_str(&mut out, "ha1_md5", md5);
            field_str(&mut out, "ha1_sha256", sha256);
            let _ = writeln!(out, "direct_media = {}", e.direct_media);
        }
        for a in &self.admins {
            out.push_str("\n[[admins]]\n");
            field_str(&mut out, "name", &a.name);
            field_str(&mut out, "password_hash", &a.password_hash);
        }
        out
    }
}

fn field_str(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push_str(" = ");
    push_toml_string(out, value);
    out.push('\n');
}

fn field_str_list(out: &mut String, key: &str, values: &[&str]) {
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

fn field_num(out: &mut String, key: &str, value: u32) {
    // Writing to a String cannot fail.
    let _ = writeln!(out, "{key} = {value}");
}

/// Appends `s` as a TOML basic string, escaping what TOML requires.
fn push_toml_string(out: &mut String, s: &str) {
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
