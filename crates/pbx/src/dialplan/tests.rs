use super::*;

/// Extensions 201..=209, hunt group 300, short codes beginning with `*`.
struct Office;

impl Numbering for Office {
    fn is_short_code(&self, dialled: &str) -> bool {
        dialled.starts_with('*')
    }
    fn is_extension(&self, number: &str) -> bool {
        number.len() == 3 && ("201"..="209").contains(&number)
    }
    fn is_hunt_group(&self, number: &str) -> bool {
        number == "300"
    }
}

fn class_in(plan: &DialPlan, dialled: &str) -> CallClass {
    plan.classify(dialled, &Office).class
}

fn class(dialled: &str) -> CallClass {
    class_in(&DialPlan::default(), dialled)
}

fn with_prefix(prefix: &str) -> DialPlan {
    DialPlan {
        external_prefix: Some(prefix.into()),
        ..DialPlan::default()
    }
}

#[test]
fn every_class_by_default() {
    assert_eq!(class("112"), CallClass::Emergency);
    assert_eq!(class("999"), CallClass::Emergency);
    assert_eq!(class("911"), CallClass::Emergency);
    assert_eq!(class("*08"), CallClass::Internal(InternalKind::ShortCode));
    assert_eq!(class("202"), CallClass::Internal(InternalKind::Extension));
    assert_eq!(class("300"), CallClass::Internal(InternalKind::HuntGroup));
    assert_eq!(class("123456"), CallClass::Local);
    assert_eq!(class("02079460000"), CallClass::National);
    assert_eq!(class("09098790000"), CallClass::Premium);
    assert_eq!(class("0033140000000"), CallClass::International);
    assert_eq!(class("+33140000000"), CallClass::International);
    assert_eq!(class("299"), CallClass::Unknown);
}

#[test]
fn what_is_unknown() {
    for dialled in [
        "",
        "+",
        "0",
        "00",
        "12345",                 // shorter than a local number
        "02079a60000",           // not digits
        "020 7946 0000",         // spaces
        "+44-20",                // separators
        "0+4420",                // '+' inside
        "#12",                   // no short code begins with '#' here
        "123456789012345678901", // 21 digits
    ] {
        assert_eq!(class(dialled), CallClass::Unknown, "{dialled:?}");
    }
    assert_eq!(class("12345678901234567890"), CallClass::Local, "20 digits");
}

#[test]
fn emergency_numbers_come_first() {
    // Even when the internal numbering claims the number (the configuration forbids it,
    // but the order must not depend on that).
    struct Everything;
    impl Numbering for Everything {
        fn is_short_code(&self, _: &str) -> bool {
            true
        }
        fn is_extension(&self, _: &str) -> bool {
            true
        }
        fn is_hunt_group(&self, _: &str) -> bool {
            true
        }
    }
    let plan = DialPlan::default();
    assert_eq!(
        plan.classify("112", &Everything).class,
        CallClass::Emergency
    );
    assert_eq!(
        plan.classify("202", &Everything).class,
        CallClass::Internal(InternalKind::ShortCode),
        "short codes before extensions"
    );
    struct GroupAndExtension;
    impl Numbering for GroupAndExtension {
        fn is_short_code(&self, _: &str) -> bool {
            false
        }
        fn is_extension(&self, _: &str) -> bool {
            true
        }
        fn is_hunt_group(&self, _: &str) -> bool {
            true
        }
    }
    assert_eq!(
        plan.classify("300", &GroupAndExtension).class,
        CallClass::Internal(InternalKind::Extension),
        "extensions before hunt groups"
    );
}

#[test]
fn the_outside_line_prefix_is_needed_and_stripped() {
    let plan = with_prefix("9");
    let c = plan.classify("900441234567890", &Office);
    assert_eq!(c.class, CallClass::International);
    assert_eq!(c.number, "00441234567890", "the number to take outside");
    assert_eq!(class_in(&plan, "902079460000"), CallClass::National);
    assert_eq!(class_in(&plan, "9123456"), CallClass::Local);
    assert_eq!(class_in(&plan, "9+33140000000"), CallClass::International);
    // Without the prefix an outside number is not reached.
    assert_eq!(class_in(&plan, "02079460000"), CallClass::Unknown);
    assert_eq!(class_in(&plan, "123456"), CallClass::Unknown);
    assert_eq!(class_in(&plan, "9"), CallClass::Unknown);
    // Internal numbers are dialled as they are.
    assert_eq!(
        class_in(&plan, "202"),
        CallClass::Internal(InternalKind::Extension)
    );
}

#[test]
fn emergency_numbers_with_and_without_the_outside_line_prefix() {
    let plan = with_prefix("9");
    for (dialled, number) in [
        ("112", "112"),
        ("9112", "112"),
        ("999", "999"),
        ("9999", "999"),
    ] {
        let c = plan.classify(dialled, &Office);
        assert_eq!(c.class, CallClass::Emergency, "{dialled}");
        assert_eq!(c.number, number, "{dialled}");
    }
    assert_eq!(class_in(&plan, "91120"), CallClass::Unknown);
    assert_eq!(class("1120"), CallClass::Unknown, "exact numbers only");
}

#[test]
fn own_country_code_makes_plus_numbers_national() {
    let plan = DialPlan {
        country_code: Some("44".into()),
        ..DialPlan::default()
    };
    assert_eq!(class_in(&plan, "+442079460000"), CallClass::National);
    assert_eq!(class_in(&plan, "+449098790000"), CallClass::Premium);
    assert_eq!(class_in(&plan, "+33140000000"), CallClass::International);
    assert_eq!(class_in(&plan, "+44"), CallClass::Unknown);
    // Without a country code every '+' number is international.
    assert_eq!(class("+442079460000"), CallClass::International);
}

#[test]
fn north_american_style_prefixes() {
    let plan = DialPlan {
        emergency: vec!["911".into()],
        international_prefix: "011".into(),
        national_prefix: "1".into(),
        country_code: Some("1".into()),
        premium: vec!["1900".into()],
        local_min_digits: 7,
        ..DialPlan::default()
    };
    assert_eq!(class_in(&plan, "01133140000000"), CallClass::International);
    assert_eq!(class_in(&plan, "12125550100"), CallClass::National);
    assert_eq!(class_in(&plan, "19005550100"), CallClass::Premium);
    assert_eq!(class_in(&plan, "5550100"), CallClass::Local);
    assert_eq!(class_in(&plan, "+12125550100"), CallClass::National);
    // Not an emergency number in this plan: a national number like any other.
    assert_eq!(class_in(&plan, "112"), CallClass::National);
}

#[test]
fn premium_prefixes_are_longest_or_shortest_alike() {
    let plan = DialPlan {
        premium: vec!["0900".into(), "0871".into()],
        ..DialPlan::default()
    };
    assert_eq!(class_in(&plan, "09001234567"), CallClass::Premium);
    assert_eq!(class_in(&plan, "08712345678"), CallClass::Premium);
    assert_eq!(class_in(&plan, "09101234567"), CallClass::National);
    let none = DialPlan {
        premium: Vec::new(),
        ..DialPlan::default()
    };
    assert_eq!(class_in(&none, "09001234567"), CallClass::National);
}

#[test]
fn rights_of_the_classes() {
    assert_eq!(CallClass::Emergency.right(), None);
    assert_eq!(CallClass::Unknown.right(), None);
    assert_eq!(
        CallClass::Internal(InternalKind::HuntGroup).right(),
        Some(CallRight::Internal)
    );
    assert_eq!(CallClass::Premium.right(), Some(CallRight::Premium));
    assert!(CallClass::Emergency.is_outside() && CallClass::Local.is_outside());
    assert!(!CallClass::Internal(InternalKind::Extension).is_outside());
    assert!(!CallClass::Unknown.is_outside());
    assert_eq!(CallClass::International.as_str(), "international");
    assert_eq!(CallRight::Premium.as_str(), "premium");
}
