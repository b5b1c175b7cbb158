//! The `[dial_plan]` section: how dialled numbers that are not internal are told apart
//! (emergency, local, national, international, premium), so that users' rights can bar
//! call classes and outgoing routes (with the trunks) can pick a way out.
//!
//! The defaults follow UK/EU practice: `112`, `999` and `911` are emergency numbers, `00`
//! starts an international number and `0` a national one, national numbers beginning `09`
//! are premium rate, and numbers of six or more digits without a prefix are local. Reading
//! is in [`crate::document_features`], the rules in [`crate::validate_dial_plan`].

use std::ops::RangeInclusive;

/// `dial_plan.local_min_digits`.
pub const LOCAL_MIN_DIGITS: RangeInclusive<u32> = 2..=15;
/// Length of each emergency number.
pub const EMERGENCY_DIGITS: RangeInclusive<usize> = 2..=6;
/// Length of `dial_plan.external_prefix`.
pub const EXTERNAL_PREFIX_DIGITS: RangeInclusive<usize> = 1..=2;
/// Length of `dial_plan.international_prefix` and `dial_plan.national_prefix`.
pub const PREFIX_DIGITS: RangeInclusive<usize> = 1..=4;
/// Length of `dial_plan.country_code` (E.164 country codes have one to three digits).
pub const COUNTRY_CODE_DIGITS: RangeInclusive<usize> = 1..=3;
/// Length of each premium prefix.
pub const PREMIUM_DIGITS: RangeInclusive<usize> = 2..=10;

/// The `[dial_plan]` section.
///
/// A dialled number is resolved in this order: emergency numbers, short codes, extensions,
/// hunt groups, then the outside classes (after the outside-line prefix, if one is set):
/// international (`international_prefix`, or `+` not followed by `country_code`), premium
/// and national (`national_prefix`), local (at least `local_min_digits` digits); anything
/// else is an unassigned number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialPlanSettings {
    /// Numbers that are always allowed, whatever the caller's rights: 2 to 6 digits each, at
    /// least one, none twice, none an extension or hunt group number (default `112`, `999`,
    /// `911`). They are also recognised after the outside-line prefix.
    pub emergency: Vec<String>,
    /// The outside-line prefix (1 or 2 digits, e.g. `9`), stripped before an outside number
    /// is classified; when set, outside numbers need it and no extension or hunt group
    /// number may begin with it. Default none: outside numbers are dialled as they are.
    pub external_prefix: Option<String>,
    /// Begins international numbers (1 to 4 digits, default `00`).
    pub international_prefix: String,
    /// Begins national numbers (1 to 4 digits, default `0`); neither equal to nor beginning
    /// with the international prefix.
    pub national_prefix: String,
    /// The system's own country code (1 to 3 digits, not beginning with 0): `+` followed by
    /// it is a national number. Default none: every `+` number is international.
    pub country_code: Option<String>,
    /// National numbers beginning with one of these are premium rate; each begins with the
    /// national prefix and is longer than it, 2 to 10 digits, none twice (default `09`).
    pub premium: Vec<String>,
    /// Numbers without a prefix are local when they have at least this many digits
    /// (2..=15, default 6); shorter ones that are no internal number are unassigned.
    pub local_min_digits: u32,
}

impl Default for DialPlanSettings {
    fn default() -> Self {
        Self {
            emergency: vec!["112".to_owned(), "999".to_owned(), "911".to_owned()],
            external_prefix: None,
            international_prefix: "00".to_owned(),
            national_prefix: "0".to_owned(),
            country_code: None,
            premium: vec!["09".to_owned()],
            local_min_digits: 6,
        }
    }
}

/// True when `s` is made of ASCII digits only and has a length in `len`.
pub(crate) fn digits_of_length(s: &str, len: RangeInclusive<usize>) -> bool {
    len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}
