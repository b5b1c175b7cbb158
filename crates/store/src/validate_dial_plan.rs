//! The rules of the `[dial_plan]` section: number formats, the prefixes' relations to each
//! other, and the numbers the plan shares with extensions and hunt groups (an emergency
//! number or the outside-line prefix must not hide an internal number, or the other way
//! round).

use crate::dial_plan::{
    digits_of_length, COUNTRY_CODE_DIGITS, EMERGENCY_DIGITS, EXTERNAL_PREFIX_DIGITS,
    LOCAL_MIN_DIGITS, PREFIX_DIGITS, PREMIUM_DIGITS,
};
use crate::error::ConfigErrors;
use crate::model::Config;
use crate::validate::in_range;
use crate::validate_features::check_unique;
use std::collections::HashSet;

const BASE: &str = "dial_plan";

/// Checks the rules of `[dial_plan]` into `errs`; `failed` as in [`crate::validate`].
pub(crate) fn check_dial_plan(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    let plan = &config.dial_plan;
    let at = |field: &str| format!("{BASE}.{field}");
    in_range(
        &at("local_min_digits"),
        plan.local_min_digits,
        LOCAL_MIN_DIGITS,
        errs,
    );
    check_emergency(config, failed, errs);

    if let Some(prefix) = &plan.external_prefix {
        if !digits_of_length(prefix, EXTERNAL_PREFIX_DIGITS) {
            errs.push(
                at("external_prefix"),
                format!("must be 1 or 2 digits (got {prefix:?})"),
            );
        } else {
            check_outside_line_prefix(config, prefix, errs);
        }
    }

    let mut prefixes_known = true;
    for (key, prefix) in [
        ("international_prefix", &plan.international_prefix),
        ("national_prefix", &plan.national_prefix),
    ] {
        if !digits_of_length(prefix, PREFIX_DIGITS) {
            errs.push(at(key), format!("must be 1 to 4 digits (got {prefix:?})"));
            prefixes_known = false;
        }
        prefixes_known &= !failed.contains(&at(key));
    }
    let (international, national) = (&plan.international_prefix, &plan.national_prefix);
    if prefixes_known {
        if national == international {
            errs.push(
                at("national_prefix"),
                format!("must differ from the international prefix {international:?}"),
            );
        } else if national.starts_with(international.as_str()) {
            errs.push(
                at("national_prefix"),
                format!(
                    "must not begin with the international prefix {international:?}: every \
                     national number would be read as international"
                ),
            );
        }
    }

    if let Some(code) = &plan.country_code {
        if !digits_of_length(code, COUNTRY_CODE_DIGITS) || code.starts_with('0') {
            errs.push(
                at("country_code"),
                format!("must be 1 to 3 digits, not beginning with 0 (got {code:?})"),
            );
        }
    }

    let national_known =
        !failed.contains(&at("national_prefix")) && digits_of_length(national, PREFIX_DIGITS);
    for (i, prefix) in plan.premium.iter().enumerate() {
        let path = format!("{BASE}.premium[{i}]");
        if failed.contains(&path) {
            continue;
        }
        if !digits_of_length(prefix, PREMIUM_DIGITS) {
            errs.push(path, format!("must be 2 to 10 digits (got {prefix:?})"));
        } else if national_known
            && !(prefix.starts_with(national.as_str()) && prefix.len() > national.len())
        {
            errs.push(
                path,
                format!(
                    "must begin with the national prefix {national:?} and go on after it: \
                     premium numbers are national numbers (got {prefix:?})"
                ),
            );
        }
    }
    let listed: Vec<Option<&String>> = plan.premium.iter().map(Some).collect();
    check_unique(&at("premium"), &listed, errs);
}

/// At least one emergency number; each of 2 to 6 digits, none twice, none an extension or
/// hunt group number (emergency numbers are matched first: the internal number could never
/// be called).
fn check_emergency(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    let base = format!("{BASE}.emergency");
    let numbers = &config.dial_plan.emergency;
    if numbers.is_empty() && !failed.contains(&base) {
        errs.push(
            &base,
            "at least one emergency number: they are the calls every phone must be able to make",
        );
    }
    for (i, number) in numbers.iter().enumerate() {
        let path = format!("{base}[{i}]");
        if failed.contains(&path) {
            continue;
        }
        if !digits_of_length(number, EMERGENCY_DIGITS) {
            errs.push(path, format!("must be 2 to 6 digits (got {number:?})"));
            continue;
        }
        let internal = if config.extension(number).is_some() {
            Some(format!("extension {number}"))
        } else {
            config
                .hunt_group(number)
                .map(|g| format!("hunt group {}", g.name))
        };
        if let Some(internal) = internal {
            errs.push(
                path,
                format!(
                    "{number:?} is also {internal}: emergency numbers are matched first, so \
                     it could never be called"
                ),
            );
        }
    }
    let listed: Vec<Option<&String>> = numbers.iter().map(Some).collect();
    check_unique(&base, &listed, errs);
}

/// No extension or hunt group number begins with the outside-line prefix: internal numbers
/// are matched first, so outside numbers beginning like one could not be dialled, and a
/// reader of the plan could not tell the two apart.
fn check_outside_line_prefix(config: &Config, prefix: &str, errs: &mut ConfigErrors) {
    let internal = config
        .extensions
        .iter()
        .enumerate()
        .map(|(i, e)| (format!("extensions[{i}].number"), &e.number))
        .chain(
            config
                .hunt_groups
                .iter()
                .enumerate()
                .map(|(i, g)| (format!("hunt_groups[{i}].number"), &g.number)),
        );
    for (path, number) in internal {
        if number.starts_with(prefix) {
            errs.push(
                path,
                format!(
                    "{number:?} begins with the outside-line prefix {prefix:?} \
                     (dial_plan.external_prefix)"
                ),
            );
        }
    }
}
