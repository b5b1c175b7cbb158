//! The configuration document: every rule reported with its path, all problems at once,
//! syntax errors, the realm rule, carry-over from the previous configuration, and the export
//! round trip.

mod common;

use common::{admins_section, assert_rejected_with, base_document, errors_of, ADMIN_PASSWORD};
use store::secrets::{ha1_md5, ha1_sha256};
use store::{
    changes, CallSettings, Config, Credentials, DigestAlgorithmName, RegistrarSettings,
    SecuritySettings,
};

fn with_extensions(extensions: &str) -> String {
    format!("{extensions}\n{}", admins_section())
}

#[test]
fn minimal_document_gets_defaults_and_hashes() {
    let doc = with_extensions("[[extensions]]\nnumber = \"201\"\npassword = \"Correct-Horse-7\"\n");
    let c = Config::from_toml(&doc, None).expect("valid");
    assert_eq!(c.system.realm, "strowger");
    assert_eq!(c.registrar, RegistrarSettings::default());
    assert_eq!(c.calls, CallSettings::default());
    assert_eq!(c.security, SecuritySettings::default());
    let e = c.extension("201").expect("extension 201");
    assert_eq!(
        e.credentials,
        Credentials::Ha1 {
            md5: ha1_md5("201", "strowger", "Correct-Horse-7"),
            sha256: ha1_sha256("201", "strowger", "Correct-Horse-7"),
        }
    );
    assert!(!e.direct_media);
    assert!(c
        .admin("admin")
        .expect("admin")
        .verify_password(ADMIN_PASSWORD));
}

#[test]
fn base_document_is_valid() {
    let c = Config::from_toml(&base_document(), None).expect("valid");
    assert_eq!(c.extensions.len(), 3);
    assert_eq!(c.users[0].extension.as_deref(), Some("201"));
}

#[test]
fn registrar_rules() {
    let doc = |s: &str| format!("[registrar]\n{s}\n{}", base_document());
    assert_rejected_with(
        &doc("min_expires = 0"),
        "registrar.min_expires: must be between 1 and 3600 (got 0)",
    );
    assert_rejected_with(
        &doc("min_expires = 120\nmax_expires = 60"),
        "registrar.max_expires: must be between 120 and 86400 (got 60)",
    );
    assert_rejected_with(
        &doc("max_expires = 100000"),
        "registrar.max_expires: must be between 1 and 86400 (got 100000)",
    );
    assert_rejected_with(
        &doc("min_expires = 60\nmax_expires = 600\ndefault_expires = 3600"),
        "registrar.default_expires: must be between 60 and 600 (got 3600)",
    );
    assert_rejected_with(
        &doc("max_contacts = 21"),
        "registrar.max_contacts: must be between 1 and 20 (got 21)",
    );
    assert_rejected_with(
        &doc("min_expires = \"60\""),
        "registrar.min_expires: must be a whole number (got string)",
    );
}

#[test]
fn rejected_field_does_not_cause_follow_up_errors() {
    // min_expires is rejected; max_expires must not then be judged against a placeholder.
    let doc = format!(
        "[registrar]\nmin_expires = -1\nmax_expires = 30\ndefault_expires = 30\n{}",
        base_document()
    );
    assert_eq!(
        errors_of(&doc),
        ["registrar.min_expires: must be between 1 and 3600 (got -1)"]
    );
}

#[test]
fn calls_defaults() {
    let d = CallSettings::default();
    assert_eq!((d.session_expires_secs, d.min_se_secs), (1800, 90));
    // An empty [calls] section is the defaults too.
    let c = Config::from_toml(&format!("[calls]\n{}", base_document()), None).expect("valid");
    assert_eq!(c.calls, d);
}

#[test]
fn calls_rules() {
    let doc = |s: &str| format!("[calls]\n{s}\n{}", base_document());
    assert_rejected_with(
        &doc("min_se_secs = 89"),
        "calls.min_se_secs: must be between 90 and 86400 (got 89)",
    );
    assert_rejected_with(
        &doc("min_se_secs = 86401"),
        "calls.min_se_secs: must be between 90 and 86400 (got 86401)",
    );
    assert_rejected_with(
        &doc("session_expires_secs = 86401"),
        "calls.session_expires_secs: must be between 0 and 86400 (got 86401)",
    );
    assert_rejected_with(
        &doc("session_expires_secs = -1"),
        "calls.session_expires_secs: must be between 0 and 86400 (got -1)",
    );
    assert_eq!(
        errors_of(&doc("session_expires_secs = 60")),
        [
            "calls.session_expires_secs: must be 0 (no session timer) or between 90 \
             (calls.min_se_secs) and 86400 (got 60)"
        ]
    );
    assert_eq!(
        errors_of(&doc("session_expires_secs = 300\nmin_se_secs = 600")),
        [
            "calls.session_expires_secs: must be 0 (no session timer) or between 600 \
             (calls.min_se_secs) and 86400 (got 300)"
        ]
    );
    assert_rejected_with(
        &doc("min_se_secs = \"90\""),
        "calls.min_se_secs: must be a whole number (got string)",
    );
    assert_rejected_with(
        &doc("refresher = \"uac\""),
        "calls.refresher: unknown field",
    );
    assert_rejected_with(
        &format!("calls = 1800\n{}", base_document()),
        "calls: must be a table (got integer)",
    );

    // 0 turns the timer off for callers that name none, whatever min_se_secs is; the
    // bounds themselves are valid.
    let c = Config::from_toml(&doc("session_expires_secs = 0\nmin_se_secs = 3600"), None)
        .expect("valid");
    assert_eq!(
        (c.calls.session_expires_secs, c.calls.min_se_secs),
        (0, 3600)
    );
    let c = Config::from_toml(&doc("session_expires_secs = 120\nmin_se_secs = 120"), None)
        .expect("valid");
    assert_eq!(
        (c.calls.session_expires_secs, c.calls.min_se_secs),
        (120, 120)
    );
    let c = Config::from_toml(
        &doc("session_expires_secs = 86400\nmin_se_secs = 86400"),
        None,
    )
    .expect("valid");
    assert_eq!(c.calls.session_expires_secs, 86_400);

    // Config::validate applies the same rules to a model built in code.
    let mut c = Config::from_toml(&base_document(), None).expect("valid");
    c.calls.min_se_secs = 3600;
    let e = c
        .validate()
        .expect_err("session_expires_secs below min_se_secs");
    assert_eq!(
        e.to_string(),
        "calls.session_expires_secs: must be 0 (no session timer) or between 3600 \
         (calls.min_se_secs) and 86400 (got 1800)"
    );
    c.calls.min_se_secs = 30;
    let e = c.validate().expect_err("min_se_secs below 90");
    assert_eq!(
        e.to_string(),
        "calls.min_se_secs: must be between 90 and 86400 (got 30)"
    );
}

#[test]
fn rejected_min_se_does_not_cause_follow_up_errors() {
    // min_se_secs is rejected; session_expires_secs must not then be judged against it.
    let doc = format!(
        "[calls]\nmin_se_secs = 10\nsession_expires_secs = 60\n{}",
        base_document()
    );
    assert_eq!(
        errors_of(&doc),
        ["calls.min_se_secs: must be between 90 and 86400 (got 10)"]
    );
    // Nor against a placeholder when it was of the wrong type.
    let doc = format!(
        "[calls]\nmin_se_secs = \"90\"\nsession_expires_secs = 60\n{}",
        base_document()
    );
    assert_eq!(
        errors_of(&doc),
        ["calls.min_se_secs: must be a whole number (got string)"]
    );
}

#[test]
fn calls_round_trip() {
    let before = Config::from_toml(&base_document(), None).expect("valid");
    // The defaults are exported explicitly.
    let text = before.to_toml();
    assert!(
        text.contains("\n[calls]\nsession_expires_secs = 1800\nmin_se_secs = 90\n"),
        "{text}"
    );
    let doc = format!(
        "[calls]\nsession_expires_secs = 0\nmin_se_secs = 120\n{}",
        base_document()
    );
    let c = Config::from_toml(&doc, None).expect("valid");
    let text = c.to_toml();
    assert!(
        text.contains("\n[calls]\nsession_expires_secs = 0\nmin_se_secs = 120\n"),
        "{text}"
    );
    let back = Config::from_toml(&text, None).expect("export parses");
    assert_eq!(back, c);
    assert_eq!(back.to_toml(), text);
    assert_eq!(
        changes(&before, &c),
        [
            "calls.session_expires_secs 1800 -> 0",
            "calls.min_se_secs 90 -> 120"
        ]
    );
}

#[test]
fn security_rules() {
    let doc = |s: &str| format!("[security]\n{s}\n{}", base_document());
    assert_rejected_with(
        &doc("nonce_lifetime_secs = 5"),
        "security.nonce_lifetime_secs: must be between 10 and 3600 (got 5)",
    );
    assert_rejected_with(
        &doc("auth_failures_before_block = 0"),
        "security.auth_failures_before_block: must be between 1 and 1000 (got 0)",
    );
    assert_rejected_with(
        &doc("failure_window_secs = 0"),
        "security.failure_window_secs: must be between 1 and 86400 (got 0)",
    );
    let c = Config::from_toml(&doc("block_secs = 0\nslow_down_after = 0"), None).expect("valid");
    assert_eq!(c.security.block_secs, 0);
}

fn with_digest_algorithms(value: &str) -> String {
    format!(
        "[security]\ndigest_algorithms = {value}\n{}",
        base_document()
    )
}

#[test]
fn digest_algorithms_default_to_md5_alone() {
    let c = Config::from_toml(&base_document(), None).expect("valid");
    assert_eq!(c.security.digest_algorithms, [DigestAlgorithmName::Md5]);
    assert_eq!(DigestAlgorithmName::Md5.as_str(), "MD5");
    assert_eq!(DigestAlgorithmName::Sha256.as_str(), "SHA-256");
}

#[test]
fn digest_algorithms_must_be_an_array_of_strings() {
    assert_eq!(
        errors_of(&with_digest_algorithms("\"MD5\"")),
        ["security.digest_algorithms: must be an array of strings (got string)"]
    );
    assert_eq!(
        errors_of(&with_digest_algorithms("[\"MD5\", 256]")),
        ["security.digest_algorithms[1]: must be a string (got integer: write it in quotes)"]
    );
}

#[test]
fn digest_algorithms_unknown_name() {
    assert_eq!(
        errors_of(&with_digest_algorithms("[\"MD5\", \"SHA-1\"]")),
        [
            "security.digest_algorithms[1]: unknown algorithm \"SHA-1\" (expected \"MD5\" or \"SHA-256\")"
        ]
    );
}

#[test]
fn digest_algorithms_empty() {
    assert_eq!(
        errors_of(&with_digest_algorithms("[]")),
        ["security.digest_algorithms: at least one algorithm"]
    );
}

#[test]
fn digest_algorithms_duplicate() {
    assert_eq!(
        errors_of(&with_digest_algorithms("[\"MD5\", \"md5\"]")),
        ["security.digest_algorithms[1]: duplicate of security.digest_algorithms[0]"]
    );
    // Config::validate applies the list rules to a model built in code too.
    let mut c = Config::from_toml(&base_document(), None).expect("valid");
    c.security.digest_algorithms = vec![DigestAlgorithmName::Sha256; 2];
    let e = c.validate().expect_err("duplicate");
    assert_eq!(
        e.to_string(),
        "security.digest_algorithms[1]: duplicate of security.digest_algorithms[0]"
    );
    c.security.digest_algorithms.clear();
    let e = c.validate().expect_err("empty");
    assert_eq!(
        e.to_string(),
        "security.digest_algorithms: at least one algorithm"
    );
}

#[test]
fn digest_algorithm_errors_are_collected_with_the_others() {
    // Indices stay those of the document around rejected elements, and a rejected list
    // causes no follow-up complaint.
    let doc = format!(
        "[security]\nnonce_lifetime_secs = 5\n\
         digest_algorithms = [\"SHA-256\", 1, \"SHA-1\", \"sha-256\"]\n{}",
        base_document()
    );
    assert_eq!(
        errors_of(&doc),
        [
            "security.nonce_lifetime_secs: must be between 10 and 3600 (got 5)",
            "security.digest_algorithms[1]: must be a string (got integer: write it in quotes)",
            "security.digest_algorithms[2]: unknown algorithm \"SHA-1\" (expected \"MD5\" or \"SHA-256\")",
            "security.digest_algorithms[3]: duplicate of security.digest_algorithms[0]",
        ]
    );
    assert_eq!(
        errors_of(&with_digest_algorithms("[\"SHA-1\"]")),
        [
            "security.digest_algorithms[0]: unknown algorithm \"SHA-1\" (expected \"MD5\" or \"SHA-256\")"
        ]
    );
}

#[test]
fn digest_algorithms_round_trip() {
    let before = Config::from_toml(&base_document(), None).expect("valid");
    // Any letter case is accepted and held canonical.
    let c =
        Config::from_toml(&with_digest_algorithms("[\"sha-256\", \"Md5\"]"), None).expect("valid");
    assert_eq!(
        c.security.digest_algorithms,
        [DigestAlgorithmName::Sha256, DigestAlgorithmName::Md5]
    );
    let text = c.to_toml();
    assert!(
        text.contains("\ndigest_algorithms = [\"SHA-256\", \"MD5\"]\n"),
        "{text}"
    );
    let back = Config::from_toml(&text, None).expect("export parses");
    assert_eq!(back, c);
    assert_eq!(back.to_toml(), text);
    assert_eq!(
        changes(&before, &c),
        ["security.digest_algorithms [\"MD5\"] -> [\"SHA-256\", \"MD5\"]"]
    );
    // The default is exported explicitly.
    assert!(before
        .to_toml()
        .contains("\ndigest_algorithms = [\"MD5\"]\n"));
}

#[test]
fn system_rules() {
    let doc = format!(
        "[system]\nname = \"\"\nrealm = \"a b\"\n{}",
        with_extensions("")
    );
    let errors = errors_of(&doc);
    assert!(errors.contains(
        &"system.name: must be 1 to 64 characters without control characters".to_owned()
    ));
    assert!(errors.contains(
        &"system.realm: must be 1 to 64 of the characters A-Z a-z 0-9 . _ - (got \"a b\")"
            .to_owned()
    ));
}

#[test]
fn extension_number_rules() {
    let ext = |n: &str| format!("[[extensions]]\nnumber = {n}\npassword = \"Correct-Horse-7\"\n");
    let doc =
        with_extensions(&[ext("\"201\""), ext("\"2a1\""), ext("\"1\""), ext("\"201\"")].concat());
    let errors = errors_of(&doc);
    assert_eq!(
        errors,
        [
            "extensions[1].number: must be 2 to 15 digits (got \"2a1\")",
            "extensions[2].number: must be 2 to 15 digits (got \"1\")",
            "extensions[3].number: duplicate of extensions[0].number (\"201\")",
        ]
    );
    assert_rejected_with(
        &with_extensions(&ext("201")),
        "extensions[0].number: must be a string (got integer: write it in quotes)",
    );
    assert_rejected_with(
        &with_extensions("[[extensions]]\npassword = \"Correct-Horse-7\"\n"),
        "extensions[0].number: required field missing",
    );
}

#[test]
fn extension_password_rules() {
    let ext = |body: &str| with_extensions(&format!("[[extensions]]\nnumber = \"201\"\n{body}\n"));
    assert_rejected_with(
        &ext("password = \"short\""),
        "extensions[0].password: too weak: at least 12 characters with 3 of lower/upper/digit/symbol",
    );
    assert_rejected_with(
        &ext("password = \"Secret-201-pass\""),
        "extensions[0].password: too weak: must not contain the extension number",
    );
    assert_rejected_with(
        &ext(""),
        "extensions[0].password: required field missing (or ha1_md5 and ha1_sha256, as exported)",
    );
    let md5 = "0".repeat(32);
    let sha = "a".repeat(64);
    assert_rejected_with(
        &ext(&format!(
            "password = \"Correct-Horse-7\"\nha1_md5 = \"{md5}\""
        )),
        "extensions[0].password: give either password or ha1_md5 and ha1_sha256, not both",
    );
    assert_rejected_with(
        &ext(&format!("ha1_md5 = \"{md5}\"")),
        "extensions[0].ha1_sha256: required field missing (ha1_md5 and ha1_sha256 go together)",
    );
    assert_rejected_with(
        &ext(&format!("ha1_md5 = \"abc\"\nha1_sha256 = \"{sha}\"")),
        "extensions[0].ha1_md5: must be 32 hexadecimal digits",
    );
    // Upper-case hex is accepted and held in lower case.
    let c = Config::from_toml(
        &ext(&format!(
            "ha1_md5 = \"{}\"\nha1_sha256 = \"{sha}\"",
            "AB".repeat(16)
        )),
        None,
    )
    .expect("valid");
    assert_eq!(c.extensions[0].credentials.ha1_md5(), "ab".repeat(16));
    // A weak password is never accepted in a document, whatever else is in it.
    assert_rejected_with(
        &ext("password = \"pw201\"\ndirect_media = true"),
        "extensions[0].password: too weak: at least 12 characters with 3 of lower/upper/digit/symbol",
    );
}

#[test]
fn user_rules() {
    let doc = |users: &str| format!("{users}\n{}", base_document());
    assert_rejected_with(
        &doc("[[users]]\nname = \"bob\"\nextension = \"299\""),
        "users[0].extension: no extension \"299\"",
    );
    assert_rejected_with(
        &doc("[[users]]\nname = \"Bob Smith\""),
        "users[0].name: must be 1 to 32 of a-z 0-9 . _ - (got \"Bob Smith\")",
    );
    assert_rejected_with(
        &doc("[[users]]\nname = \"alice\""),
        "users[1].name: duplicate of users[0].name (\"alice\")",
    );
    assert_rejected_with(
        &doc("[[users]]\nname = \"bob\"\nextension = \"201\""),
        "users[1].extension: extension \"201\" already belongs to users[0]",
    );
    assert_rejected_with(
        &doc("[[users]]\nname = \"bob\"\n[[users]]\nname = \"carol\"\ncolour = \"red\""),
        "users[1].colour: unknown field",
    );
    assert_rejected_with(
        &doc("[[users]]\nfull_name = \"Nobody\""),
        "users[0].name: required field missing",
    );
}

#[test]
fn unknown_fields_and_sections() {
    let doc = format!(
        "colour = \"red\"\n[system]\nmood = 1\n{}",
        with_extensions("")
    );
    let errors = errors_of(&doc);
    assert!(
        errors.contains(&"colour: unknown field".to_owned()),
        "{errors:?}"
    );
    assert!(
        errors.contains(&"system.mood: unknown field".to_owned()),
        "{errors:?}"
    );
    assert_rejected_with(
        &format!("[dialplan]\nx = 1\n{}", base_document()),
        "dialplan: unknown field",
    );
    assert_rejected_with(
        &format!("system = 5\n{}", with_extensions("")),
        "system: must be a table (got integer)",
    );
}

#[test]
fn admin_rules() {
    let ext = "[[extensions]]\nnumber = \"201\"\npassword = \"Correct-Horse-7\"\n";
    assert_rejected_with(
        ext,
        "admins: at least one administrator is required, or nobody could manage the system",
    );
    let admin = |body: &str| format!("{ext}\n[[admins]]\nname = \"root\"\n{body}\n");
    assert_rejected_with(
        &admin("password = \"weak\""),
        "admins[0].password: too weak: at least 12 characters with 3 of lower/upper/digit/symbol",
    );
    assert_rejected_with(
        &admin("password = \"Root-Password-1\""),
        "admins[0].password: too weak: must not contain the login name",
    );
    let errors = errors_of(&admin("password_hash = \"md5$abc\""));
    assert!(
        errors[0].starts_with("admins[0].password_hash: not a PHC string ($argon2id$v=19$...)"),
        "{errors:?}"
    );
    let errors = errors_of(&admin(
        "password = \"Correct-Horse-7\"\npassword_hash = \"x\"",
    ));
    assert_eq!(
        errors,
        ["admins[0].password: give either password or password_hash, not both"]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let doc = "[registrar]\nmin_expires = 0\nmax_contacts = 99\n\
               [[users]]\nname = \"alice\"\nextension = \"299\"\ncolour = \"red\"\n\
               [[extensions]]\nnumber = \"201\"\npassword = \"weak\"\n\
               [[extensions]]\nnumber = \"201\"\npassword = \"Correct-Horse-7\"\n";
    let errors = errors_of(doc);
    assert_eq!(
        errors,
        [
            "registrar.min_expires: must be between 1 and 3600 (got 0)",
            "registrar.max_contacts: must be between 1 and 20 (got 99)",
            "users[0].colour: unknown field",
            "extensions[0].password: too weak: at least 12 characters with 3 of lower/upper/digit/symbol",
            "extensions[1].number: duplicate of extensions[0].number (\"201\")",
            "users[0].extension: no extension \"299\"",
            "admins: at least one administrator is required, or nobody could manage the system",
        ]
    );
    // Display lists one problem per line.
    let e = Config::from_toml(doc, None).expect_err("invalid");
    assert_eq!(e.to_string().lines().count(), 7);
}

#[test]
fn toml_syntax_error_names_line_and_column() {
    let errors = errors_of("[system]\nname = \"x\"\nrealm = \n");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("line 3, column 9: TOML syntax error:"),
        "{errors:?}"
    );
}

#[test]
fn export_round_trips_and_holds_no_plain_password() {
    let (config, credentials) = Config::embedded_default();
    config.validate().expect("the default is valid");
    let text = config.to_toml();
    for (_, password) in &credentials.extensions {
        assert!(!text.contains(password.as_str()));
    }
    assert!(!text.contains(&credentials.admin_password));
    assert!(
        !text.lines().any(|l| l.starts_with("password =")),
        "no plain password field:\n{text}"
    );
    let back = Config::from_toml(&text, None).expect("export parses");
    assert_eq!(back, config);
    assert_eq!(back.to_toml(), text);

    // Odd but valid values survive too.
    let mut odd = back;
    odd.users[0].full_name = "Zoë \"Z\" O'Brien \\ 漢字".to_owned();
    odd.users[1].extension = None;
    odd.extensions[2].direct_media = true;
    odd.system.name = "Head office # 1".to_owned();
    let again = Config::from_toml(&odd.to_toml(), None).expect("export parses");
    assert_eq!(again, odd);
}

#[test]
fn default_credentials_work_and_stay_out_of_debug() {
    let (config, credentials) = Config::embedded_default();
    assert_eq!(config.extensions.len(), 10);
    assert_eq!(config.users[0].name, "user201");
    assert_eq!(config.users[9].full_name, "Extension 210");
    for (number, password) in &credentials.extensions {
        let e = config.extension(number).expect("extension");
        assert_eq!(
            e.credentials.ha1_md5(),
            ha1_md5(number, "strowger", password)
        );
        assert_eq!(password.len(), 16);
    }
    let admin = config.admin(&credentials.admin_name).expect("admin");
    assert!(admin.verify_password(&credentials.admin_password));
    let shown = format!("{credentials:?}");
    assert!(!shown.contains(&credentials.admin_password));
    assert!(!shown.contains(&credentials.extensions[0].1));
}

#[test]
fn realm_change_needs_every_password() {
    let previous = Config::from_toml(&base_document(), None).expect("valid");
    // The exported form carries HA1s for realm "test": moving it to another realm must fail.
    let moved = previous
        .to_toml()
        .replace("realm = \"test\"", "realm = \"other\"");
    let errors = errors_of_with(&moved, &previous);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("system.realm: changed from \"test\" to \"other\"")
            && errors[0].contains("every extension must give a plain password")
            && errors[0].contains("missing for 201, 202, 203"),
        "{errors:?}"
    );
    // With every plain password given, the realm may change and the hashes follow it.
    let retyped = base_document().replace("realm = \"test\"", "realm = \"other\"");
    let c = Config::from_toml(&retyped, Some(&previous)).expect("valid");
    assert_eq!(
        c.extensions[0].credentials.ha1_md5(),
        ha1_md5("201", "other", "Good-Password-Xy9")
    );
}

fn errors_of_with(text: &str, previous: &Config) -> Vec<String> {
    match Config::from_toml(text, Some(previous)) {
        Ok(_) => Vec::new(),
        Err(e) => e.errors().iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn credentials_carry_over_from_the_previous_configuration() {
    let previous = Config::from_toml(&base_document(), None).expect("valid");
    let doc = with_extensions(
        "[system]\nrealm = \"test\"\n\
         [[extensions]]\nnumber = \"201\"\ndirect_media = true\n\
         [[extensions]]\nnumber = \"204\"\n",
    );
    // 201 keeps its password; 204 is new and has none.
    assert_eq!(
        errors_of_with(&doc, &previous),
        ["extensions[1].password: required field missing (or ha1_md5 and ha1_sha256, as exported)"]
    );
    let doc = with_extensions(
        "[system]\nrealm = \"test\"\n[[extensions]]\nnumber = \"201\"\ndirect_media = true\n",
    );
    let c = Config::from_toml(&doc, Some(&previous)).expect("valid");
    // Leaving [system] out means the default realm: a realm change, refused without passwords.
    let doc = with_extensions("[[extensions]]\nnumber = \"201\"\n");
    assert!(errors_of_with(&doc, &previous)[0].starts_with("system.realm: changed from"));
    assert_eq!(
        c.extensions[0].credentials,
        previous.extensions[0].credentials
    );
    assert!(c.extensions[0].direct_media);
}

#[test]
fn reapplying_a_plain_admin_password_keeps_the_hash() {
    let doc = format!(
        "[[admins]]\nname = \"root\"\npassword = \"{ADMIN_PASSWORD}\"\n\
         [[extensions]]\nnumber = \"201\"\npassword = \"Correct-Horse-7\"\n"
    );
    let first = Config::from_toml(&doc, None).expect("valid");
    let second = Config::from_toml(&doc, Some(&first)).expect("valid");
    assert_eq!(first, second);
    assert!(second.admins[0].verify_password(ADMIN_PASSWORD));
}

#[test]
fn damaged_documents_never_panic() {
    use rand::{Rng, SeedableRng};
    let good = base_document();
    let bytes = good.as_bytes();
    // Every truncation, then random byte changes: each must give Ok or errors, never panic.
    for end in 0..bytes.len() {
        let _ = Config::from_toml(&String::from_utf8_lossy(&bytes[..end]), None);
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let alphabet = b"[]=\"'#.,0123456789aZ \n\t{}-_\\";
    for _ in 0..2000 {
        let mut b = bytes.to_vec();
        for _ in 0..rng.gen_range(1..4) {
            let i = rng.gen_range(0..b.len());
            b[i] = alphabet[rng.gen_range(0..alphabet.len())];
        }
        let _ = Config::from_toml(&String::from_utf8_lossy(&b), None);
    }
}
