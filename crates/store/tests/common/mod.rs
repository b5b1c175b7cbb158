//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::OnceLock;

/// A valid administrator password.
pub const ADMIN_PASSWORD: &str = "Admin-Password-1";

/// An argon2id hash of [`ADMIN_PASSWORD`], computed once per test binary (Argon2 is slow in
/// debug builds).
pub fn admin_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| store::secrets::hash_admin_password(ADMIN_PASSWORD))
}

/// The `[[admins]]` section with the precomputed hash.
pub fn admins_section() -> String {
    format!(
        "\n[[admins]]\nname = \"admin\"\npassword_hash = \"{}\"\n",
        admin_hash()
    )
}

/// A valid document with extensions 201..=203 (plain passwords) and a user on 201.
pub fn base_document() -> String {
    let mut doc = String::from(
        "[system]\nname = \"Test\"\nrealm = \"test\"\n\n\
         [[users]]\nname = \"alice\"\nfull_name = \"Alice Example\"\nextension = \"201\"\n",
    );
    for n in 201..=203 {
        doc.push_str(&format!(
            "\n[[extensions]]\nnumber = \"{n}\"\npassword = \"Good-Password-Xy9\"\n"
        ));
    }
    doc.push_str(&admins_section());
    doc
}

/// The errors of a rejected document, one string per problem.
pub fn errors_of(text: &str) -> Vec<String> {
    match store::Config::from_toml(text, None) {
        Ok(_) => Vec::new(),
        Err(e) => e.errors().iter().map(ToString::to_string).collect(),
    }
}

/// Asserts that `text` is rejected with (at least) the problem `expected`.
#[track_caller]
pub fn assert_rejected_with(text: &str, expected: &str) {
    let errors = errors_of(text);
    assert!(
        errors.iter().any(|e| e == expected),
        "expected {expected:?} among {errors:#?}"
    );
}
