//! The `[dial_plan]` section and `system.timezone`: defaults, the export round trip, every
//! rule with its path and reason, and audit lines.

mod common;

use common::{assert_rejected_with, base_document, errors_of};
use store::{changes, Config, DialPlanSettings};

/// The base document (extensions 201..=203, alice on 201) with `extra` before it.
fn doc(extra: &str) -> String {
    format!("{extra}\n{}", base_document())
}

/// The base document with a `[dial_plan]` section holding `fields`.
fn plan(fields: &str) -> String {
    doc(&format!("[dial_plan]\n{fields}\n"))
}

const FULL: &str = r#"
[dial_plan]
emergency = ["112", "999", "15"]
external_prefix = "9"
international_prefix = "011"
national_prefix = "1"
country_code = "1"
premium = ["1900", "1976"]
local_min_digits = 7
"#;

fn full() -> Config {
    let text = doc(FULL).replacen(
        "realm = \"test\"\n",
        "realm = \"test\"\ntimezone = \"America/New_York\"\n",
        1,
    );
    Config::from_toml(&text, None).expect("the full document is valid")
}

#[test]
fn defaults_are_uk_and_eu_style() {
    let c = Config::from_toml(&base_document(), None).expect("valid");
    assert_eq!(c.system.timezone, None);
    let d = &c.dial_plan;
    assert_eq!(*d, DialPlanSettings::default());
    assert_eq!(d.emergency, ["112", "999", "911"]);
    assert_eq!(d.external_prefix, None);
    assert_eq!(
        (d.international_prefix.as_str(), d.national_prefix.as_str()),
        ("00", "0")
    );
    assert_eq!(d.country_code, None);
    assert_eq!(d.premium, ["09"]);
    assert_eq!(d.local_min_digits, 6);
    // An empty section is the defaults too.
    let c = Config::from_toml(&plan(""), None).expect("valid");
    assert_eq!(c.dial_plan, DialPlanSettings::default());
}

#[test]
fn full_document_round_trips() {
    let c = full();
    assert_eq!(c.system.timezone.as_deref(), Some("America/New_York"));
    let d = &c.dial_plan;
    assert_eq!(d.emergency, ["112", "999", "15"]);
    assert_eq!(d.external_prefix.as_deref(), Some("9"));
    assert_eq!(d.international_prefix, "011");
    assert_eq!(d.national_prefix, "1");
    assert_eq!(d.country_code.as_deref(), Some("1"));
    assert_eq!(d.premium, ["1900", "1976"]);
    assert_eq!(d.local_min_digits, 7);

    let text = c.to_toml();
    let back = Config::from_toml(&text, None).expect("export parses");
    assert_eq!(back, c);
    assert_eq!(back.to_toml(), text);
    assert!(changes(&c, &back).is_empty());
    for expected in [
        "\ntimezone = \"America/New_York\"\n",
        "\n[dial_plan]\nemergency = [\"112\", \"999\", \"15\"]\nexternal_prefix = \"9\"\n\
         international_prefix = \"011\"\nnational_prefix = \"1\"\ncountry_code = \"1\"\n\
         premium = [\"1900\", \"1976\"]\nlocal_min_digits = 7\n",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    // The defaults are written out too, and the absent time zone is explained.
    let text = Config::from_toml(&base_document(), None)
        .expect("valid")
        .to_toml();
    for expected in [
        "# timezone: the machine's own time zone\n",
        "\n[dial_plan]\nemergency = [\"112\", \"999\", \"911\"]\ninternational_prefix = \"00\"\n",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
}

#[test]
fn time_zone_must_be_known() {
    let with_zone = |zone: &str| {
        base_document().replacen(
            "realm = \"test\"\n",
            &format!("realm = \"test\"\ntimezone = {zone}\n"),
            1,
        )
    };
    for good in ["\"Europe/London\"", "\"UTC\"", "\"Asia/Kolkata\""] {
        assert!(errors_of(&with_zone(good)).is_empty(), "{good}");
    }
    assert_rejected_with(
        &with_zone("\"Europe/Londn\""),
        "system.timezone: unknown time zone \"Europe/Londn\" (expected an IANA name such as \
         \"Europe/London\" or \"UTC\")",
    );
    assert_rejected_with(
        &with_zone("\"\""),
        "system.timezone: unknown time zone \"\" (expected an IANA name such as \
         \"Europe/London\" or \"UTC\")",
    );
    assert_rejected_with(
        &with_zone("1"),
        "system.timezone: must be a string (got integer: write it in quotes)",
    );
}

#[test]
fn emergency_number_rules() {
    assert_rejected_with(
        &plan("emergency = []"),
        "dial_plan.emergency: at least one emergency number: they are the calls every phone \
         must be able to make",
    );
    assert_rejected_with(
        &plan("emergency = [\"112\", \"1\", \"11a\", \"1234567\"]"),
        "dial_plan.emergency[1]: must be 2 to 6 digits (got \"1\")",
    );
    assert_rejected_with(
        &plan("emergency = [\"112\", \"1\", \"11a\", \"1234567\"]"),
        "dial_plan.emergency[2]: must be 2 to 6 digits (got \"11a\")",
    );
    assert_rejected_with(
        &plan("emergency = [\"112\", \"1\", \"11a\", \"1234567\"]"),
        "dial_plan.emergency[3]: must be 2 to 6 digits (got \"1234567\")",
    );
    assert_rejected_with(
        &plan("emergency = [\"112\", \"999\", \"112\"]"),
        "dial_plan.emergency[2]: duplicate of dial_plan.emergency[0]",
    );
    // An emergency number hides an internal number of the same digits.
    assert_rejected_with(
        &plan("emergency = [\"112\", \"202\"]"),
        "dial_plan.emergency[1]: \"202\" is also extension 202: emergency numbers are \
         matched first, so it could never be called",
    );
    let group = "[[hunt_groups]]\nname = \"sales\"\nnumber = \"999\"\nmembers = [\"201\"]\n";
    assert_rejected_with(
        &doc(group),
        "dial_plan.emergency[1]: \"999\" is also hunt group sales: emergency numbers are \
         matched first, so it could never be called",
    );
    // An element of the wrong type is reported once, and nothing else is said of it.
    let errors = errors_of(&plan("emergency = [\"112\", 999]"));
    assert_eq!(
        errors,
        ["dial_plan.emergency[1]: must be a string (got integer: write it in quotes)"]
    );
}

#[test]
fn prefix_rules() {
    assert_rejected_with(
        &plan("external_prefix = \"900\""),
        "dial_plan.external_prefix: must be 1 or 2 digits (got \"900\")",
    );
    assert_rejected_with(
        &plan("external_prefix = \"*\""),
        "dial_plan.external_prefix: must be 1 or 2 digits (got \"*\")",
    );
    // Internal numbers must not begin with the outside-line prefix.
    assert_rejected_with(
        &plan("external_prefix = \"20\""),
        "extensions[1].number: \"202\" begins with the outside-line prefix \"20\" \
         (dial_plan.external_prefix)",
    );
    let group = "external_prefix = \"3\"\n\n[[hunt_groups]]\nname = \"sales\"\n\
                 number = \"300\"\nmembers = [\"201\"]\n";
    assert_rejected_with(
        &plan(group),
        "hunt_groups[0].number: \"300\" begins with the outside-line prefix \"3\" \
         (dial_plan.external_prefix)",
    );
    assert!(errors_of(&plan("external_prefix = \"9\"")).is_empty());

    assert_rejected_with(
        &plan("international_prefix = \"\""),
        "dial_plan.international_prefix: must be 1 to 4 digits (got \"\")",
    );
    assert_rejected_with(
        &plan("national_prefix = \"0x\""),
        "dial_plan.national_prefix: must be 1 to 4 digits (got \"0x\")",
    );
    assert_rejected_with(
        &plan("national_prefix = \"00\""),
        "dial_plan.national_prefix: must differ from the international prefix \"00\"",
    );
    assert_rejected_with(
        &plan("international_prefix = \"0\"\nnational_prefix = \"01\"\npremium = [\"019\"]"),
        "dial_plan.national_prefix: must not begin with the international prefix \"0\": every \
         national number would be read as international",
    );
    // A rejected prefix is not compared with the other.
    assert_eq!(
        errors_of(&plan(
            "international_prefix = 0\nnational_prefix = \"00\"\npremium = [\"009\"]"
        )),
        ["dial_plan.international_prefix: must be a string (got integer: write it in quotes)"]
    );

    assert_rejected_with(
        &plan("country_code = \"044\""),
        "dial_plan.country_code: must be 1 to 3 digits, not beginning with 0 (got \"044\")",
    );
    assert_rejected_with(
        &plan("country_code = \"1234\""),
        "dial_plan.country_code: must be 1 to 3 digits, not beginning with 0 (got \"1234\")",
    );
    assert!(errors_of(&plan("country_code = \"44\"")).is_empty());
}

#[test]
fn premium_and_local_rules() {
    assert_rejected_with(
        &plan("premium = [\"0\"]"),
        "dial_plan.premium[0]: must be 2 to 10 digits (got \"0\")",
    );
    assert_rejected_with(
        &plan("premium = [\"900\"]"),
        "dial_plan.premium[0]: must begin with the national prefix \"0\" and go on after it: \
         premium numbers are national numbers (got \"900\")",
    );
    assert_rejected_with(
        &plan("national_prefix = \"01\"\npremium = [\"01\"]"),
        "dial_plan.premium[0]: must begin with the national prefix \"01\" and go on after it: \
         premium numbers are national numbers (got \"01\")",
    );
    assert_rejected_with(
        &plan("premium = [\"09\", \"0871\", \"09\"]"),
        "dial_plan.premium[2]: duplicate of dial_plan.premium[0]",
    );
    assert!(errors_of(&plan("premium = []")).is_empty());
    assert_rejected_with(
        &plan("local_min_digits = 1"),
        "dial_plan.local_min_digits: must be between 2 and 15 (got 1)",
    );
    assert_rejected_with(
        &plan("local_min_digits = 16"),
        "dial_plan.local_min_digits: must be between 2 and 15 (got 16)",
    );
    assert_rejected_with(
        &plan("emergency = \"112\""),
        "dial_plan.emergency: must be an array of strings (got string)",
    );
    assert_rejected_with(&plan("trunks = 1"), "dial_plan.trunks: unknown field");
}

#[test]
fn validate_applies_the_rules_to_a_model_built_in_code() {
    let mut c = full();
    c.dial_plan.emergency = vec!["202".into()];
    c.dial_plan.premium.push("800".into());
    c.system.timezone = Some("Mars/Olympus_Mons".into());
    let errors: Vec<String> = c
        .validate()
        .expect_err("invalid")
        .errors()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        errors,
        [
            "system.timezone: unknown time zone \"Mars/Olympus_Mons\" (expected an IANA name \
             such as \"Europe/London\" or \"UTC\")",
            "dial_plan.emergency[0]: \"202\" is also extension 202: emergency numbers are \
             matched first, so it could never be called",
            "dial_plan.premium[2]: must begin with the national prefix \"1\" and go on after \
             it: premium numbers are national numbers (got \"800\")",
        ]
    );
}

#[test]
fn audit_lines_for_dial_plan_changes() {
    let old = full();
    let mut new = old.clone();
    new.system.timezone = None;
    new.dial_plan = DialPlanSettings::default();
    assert_eq!(
        changes(&old, &new),
        [
            "system.timezone America/New_York -> (the machine's)",
            "dial_plan.emergency 112,999,15 -> 112,999,911",
            "dial_plan.external_prefix 9 -> (none)",
            "dial_plan.international_prefix 011 -> 00",
            "dial_plan.national_prefix 1 -> 0",
            "dial_plan.country_code 1 -> (none)",
            "dial_plan.premium 1900,1976 -> 09",
            "dial_plan.local_min_digits 7 -> 6",
        ]
    );
}

#[test]
fn damaged_dial_plan_documents_never_panic() {
    use rand::{Rng, SeedableRng};
    let good = doc(FULL);
    let bytes = good.as_bytes();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let alphabet = b"[]=\"'#*+.,0123456789aZ \n\t{}_\\";
    // Only the section is damaged: the rest of the document is the base.
    let section = good.find("[dial_plan]").expect("section");
    let end = section + FULL.len();
    for _ in 0..2000 {
        let mut b = bytes.to_vec();
        for _ in 0..rng.gen_range(1..4) {
            let i = rng.gen_range(section..end);
            b[i] = alphabet[rng.gen_range(0..alphabet.len())];
        }
        let _ = Config::from_toml(&String::from_utf8_lossy(&b), None);
    }
}
