//! The business call features of the document: users' call settings (forwarding, do not
//! disturb, call waiting, login code, rights), time profiles, hunt groups and short codes:
//! defaults, the export round trip, every rule with its path and reason, and audit lines.

mod common;

use common::{assert_rejected_with, base_document, errors_of};
use store::{
    changes, default_short_codes, CallRight, Config, Date, Forwarding, HuntGroup, HuntMode,
    ShortCodeFeature, TimeOfDay, Weekday,
};

/// The base document (extensions 201..=203, alice on 201) with `extra` before it.
fn doc(extra: &str) -> String {
    format!("{extra}\n{}", base_document())
}

/// The base document with a hunt group "sales" on 300 whose table ends with `fields`.
fn group(fields: &str) -> String {
    doc(&format!(
        "[[hunt_groups]]\nname = \"sales\"\nnumber = \"300\"\nmembers = [\"201\", \"202\"]\n\
         {fields}\n"
    ))
}

/// A document with every new section and most fields away from their defaults.
const FULL: &str = r##"
[short_codes]
"*17" = "voicemail_collect"
"*14*N#" = "forward_unconditional_on"
"*08" = "dnd_on"
"#9N" = "park"

[[users]]
name = "bob"
full_name = "Bob"
extension = "202"
login_code = "1234"
dnd = true
dnd_exceptions = ["203", "0123456789"]
call_waiting = false
rights = ["internal", "international", "premium"]
[users.forward]
unconditional = "+441234567890"
busy = "300"
no_answer = "203"
no_answer_secs = 30
follow_me = "*17"

[[time_profiles]]
name = "office-hours"
[[time_profiles.weekly]]
days = ["mon", "tue", "wed", "thu", "fri"]
start = "08:30"
end = "17:30"
[[time_profiles.weekly]]
days = ["sat"]
start = "09:00"
end = "12:00"
[[time_profiles.dates]]
date = "2026-12-25"
active = false
[[time_profiles.dates]]
date = "2026-12-27"
start = "10:00"
end = "14:00"

[[time_profiles]]
name = "never"

[[hunt_groups]]
name = "sales"
number = "300"
mode = "rotary"
members = ["202", "201"]
no_answer_secs = 20
queue = false
queue_limit = 0
overflow_secs = 60
overflow_to = "301"
time_profile = "office-hours"
night_service_to = "203"
in_service = false

[[hunt_groups]]
name = "support"
number = "301"
members = ["203"]
"##;

fn full() -> Config {
    Config::from_toml(&doc(FULL), None).expect("the full document is valid")
}

#[test]
fn defaults() {
    let c = Config::from_toml(&base_document(), None).expect("valid");
    let alice = c.user("alice").expect("alice");
    assert_eq!(alice.login_code, None);
    assert!(!alice.dnd);
    assert!(alice.dnd_exceptions.is_empty());
    assert!(alice.call_waiting);
    assert_eq!(
        alice.rights,
        [
            CallRight::Internal,
            CallRight::Local,
            CallRight::National,
            CallRight::International
        ]
    );
    assert!(alice.may_call(CallRight::National) && !alice.may_call(CallRight::Premium));
    assert_eq!(alice.forward, Forwarding::default());
    assert_eq!(alice.forward.no_answer_secs, 15);
    assert_eq!(alice.forward.unconditional, None);
    assert!(c.time_profiles.is_empty() && c.hunt_groups.is_empty());
    // No [short_codes] section: the default set.
    assert_eq!(c.short_codes, default_short_codes());
    assert_eq!(Config::default().short_codes, default_short_codes());

    // A hunt group with only the required fields.
    let c = Config::from_toml(&group(""), None).expect("valid");
    assert_eq!(
        c.hunt_groups,
        [HuntGroup::new("sales", "300", &["201", "202"])]
    );
    let g = c.hunt_group("300").expect("group");
    assert_eq!(g.mode, HuntMode::Collective);
    assert_eq!((g.no_answer_secs, g.queue, g.queue_limit), (15, true, 10));
    assert_eq!((g.overflow_secs, g.in_service), (None, true));

    // A date entry is the whole day and active unless said otherwise.
    let c = Config::from_toml(
        &doc("[[time_profiles]]\nname = \"x\"\n[[time_profiles.dates]]\ndate = \"2026-01-01\"\n"),
        None,
    )
    .expect("valid");
    let d = &c.time_profile("x").expect("profile").dates[0];
    assert_eq!(
        (d.start, d.end, d.active),
        (TimeOfDay::MIDNIGHT, TimeOfDay::END_OF_DAY, true)
    );

    // An empty [short_codes] section means no short codes at all.
    let c = Config::from_toml(&doc("[short_codes]\n"), None).expect("valid");
    assert!(c.short_codes.is_empty());
}

#[test]
fn the_default_short_codes() {
    use ShortCodeFeature as F;
    let codes = default_short_codes();
    let expected = [
        ("*17", F::VoicemailCollect),
        ("*18*N#", F::VoicemailCollectMailbox),
        ("*14*N#", F::ForwardUnconditionalOn),
        ("*15", F::ForwardUnconditionalOff),
        ("*08", F::DndOn),
        ("*09", F::DndOff),
        ("*37*N#", F::Park),
        ("*38*N#", F::Unpark),
        ("*30", F::PickupGroup),
        ("*31*N#", F::PickupDirected),
        ("*45*N#", F::HuntGroupJoin),
        ("*46*N#", F::HuntGroupLeave),
        ("*35*N#", F::HotDeskLogin),
        ("*36", F::HotDeskLogout),
        ("*22*N#", F::AccountCode),
        ("*20*N#", F::NightServiceOn),
        ("*21*N#", F::NightServiceOff),
        ("*34*N#", F::Page),
        ("*39*N#", F::Listen),
        ("*40*N#", F::Intrude),
    ];
    assert_eq!(codes.len(), expected.len());
    for (code, feature) in expected {
        assert_eq!(codes.get(code), Some(&feature), "{code}");
        assert_eq!(F::parse(feature.as_str()), Some(feature));
    }
    // Every feature is in the default set.
    for feature in F::ALL {
        assert!(codes.values().any(|f| *f == feature), "{feature:?}");
    }

    // The embedded default holds them, exports them, and they survive the round trip.
    let (config, _) = Config::embedded_default();
    assert_eq!(config.short_codes, codes);
    let text = config.to_toml();
    assert!(text.contains("\n[short_codes]\n"), "{text}");
    assert!(
        text.contains("\n\"*14*N#\" = \"forward_unconditional_on\"\n"),
        "{text}"
    );
    let back = Config::from_toml(&text, None).expect("export parses");
    assert_eq!(back.short_codes, codes);
    assert_eq!(back, config);
}

#[test]
fn short_code_lookup() {
    let c = full();
    let m = c.short_code("*14*0123#").expect("forward on");
    assert_eq!(
        (m.code, m.feature),
        ("*14*N#", ShortCodeFeature::ForwardUnconditionalOn)
    );
    assert_eq!(m.number, Some("0123"));
    let m = c.short_code("#95").expect("park");
    assert_eq!((m.feature, m.number), (ShortCodeFeature::Park, Some("5")));
    let m = c.short_code("*08").expect("dnd on");
    assert_eq!((m.feature, m.number), (ShortCodeFeature::DndOn, None));
    assert_eq!(c.short_code("*15"), None, "not configured in this document");
    assert_eq!(c.short_code("201"), None);
}

#[test]
fn full_document_round_trips() {
    let c = full();
    let bob = c.user("bob").expect("bob");
    assert_eq!(bob.login_code.as_deref(), Some("1234"));
    assert!(bob.dnd && !bob.call_waiting);
    assert_eq!(bob.dnd_exceptions, ["203", "0123456789"]);
    assert_eq!(
        bob.rights,
        [
            CallRight::Internal,
            CallRight::International,
            CallRight::Premium
        ]
    );
    assert_eq!(
        bob.forward,
        Forwarding {
            unconditional: Some("+441234567890".into()),
            busy: Some("300".into()),
            no_answer: Some("203".into()),
            no_answer_secs: 30,
            follow_me: Some("*17".into()),
        }
    );
    let p = c.time_profile("office-hours").expect("profile");
    assert_eq!(p.weekly[0].days.len(), 5);
    assert_eq!(p.weekly[1].days, [Weekday::Sat]);
    assert_eq!(p.weekly[0].start, TimeOfDay::new(8, 30).expect("time"));
    assert_eq!(p.dates[0].date, Date::new(2026, 12, 25).expect("date"));
    assert!(!p.dates[0].active && p.dates[1].active);
    let g = c.hunt_group("300").expect("sales");
    assert_eq!(g.mode, HuntMode::Rotary);
    assert_eq!(g.members, ["202", "201"]);
    assert_eq!(
        (g.overflow_secs, g.overflow_to.as_deref()),
        (Some(60), Some("301"))
    );
    assert_eq!(g.time_profile.as_deref(), Some("office-hours"));
    assert!(!g.in_service && !g.queue);
    assert_eq!(c.short_codes.len(), 4);

    let text = c.to_toml();
    let back = Config::from_toml(&text, None).expect("export parses");
    assert_eq!(back, c);
    assert_eq!(back.to_toml(), text);
    assert!(changes(&c, &back).is_empty());
    for expected in [
        "\n[users.forward]\nunconditional = \"+441234567890\"\nbusy = \"300\"\n",
        "\nrights = [\"internal\", \"international\", \"premium\"]\n",
        "\n[[time_profiles.dates]]\ndate = \"2026-12-25\"\nstart = \"00:00\"\nend = \"24:00\"\nactive = false\n",
        "\n[[hunt_groups]]\nname = \"support\"\nnumber = \"301\"\nmode = \"collective\"\n",
        "\n\"#9N\" = \"park\"\n",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
}

#[test]
fn time_profiles_say_when_they_are_active() {
    let c = full();
    let p = c.time_profile("office-hours").expect("profile");
    let at = |date: &str, time: &str| {
        p.is_active(
            Date::parse(date).expect("date"),
            TimeOfDay::parse(time).expect("time"),
        )
    };
    // 2026-12-21 is a Monday.
    assert!(at("2026-12-21", "08:30"));
    assert!(at("2026-12-21", "17:29"));
    assert!(!at("2026-12-21", "17:30"), "the end is excluded");
    assert!(!at("2026-12-21", "08:29"));
    assert!(at("2026-12-26", "10:00"), "Saturday morning");
    assert!(!at("2026-12-25", "10:00"), "a holiday on a Friday");
    assert!(at("2026-12-27", "11:00"), "an extra Sunday window");
    assert!(
        !at("2026-12-27", "15:00"),
        "outside it the weekly intervals decide"
    );
    assert!(!c.time_profile("never").expect("profile").is_active(
        Date::parse("2026-12-21").expect("date"),
        TimeOfDay::parse("12:00").expect("time")
    ));
}

#[test]
fn user_setting_rules() {
    let user = |fields: &str| {
        doc(&format!(
            "[[users]]\nname = \"bob\"\nextension = \"202\"\n{fields}\n"
        ))
    };
    let cases = [
        (
            "login_code = \"12\"",
            "users[0].login_code: must be 4 to 15 digits",
        ),
        (
            "login_code = \"12a4\"",
            "users[0].login_code: must be 4 to 15 digits",
        ),
        (
            "dnd_exceptions = [\"203\", \"x1\"]",
            "users[0].dnd_exceptions[1]: must be 2 to 15 digits (got \"x1\")",
        ),
        (
            "dnd_exceptions = [\"203\", \"204\", \"203\"]",
            "users[0].dnd_exceptions[2]: duplicate of users[0].dnd_exceptions[0]",
        ),
        (
            "dnd_exceptions = [\"203\", 204]",
            "users[0].dnd_exceptions[1]: must be a string (got integer: write it in quotes)",
        ),
        (
            "dnd = \"yes\"",
            "users[0].dnd: must be true or false (got string)",
        ),
        (
            "call_waiting = 1",
            "users[0].call_waiting: must be true or false (got integer)",
        ),
        (
            "rights = [\"internal\", \"emergency\"]",
            "users[0].rights[1]: unknown call right \"emergency\" (expected internal, local, \
             national, international or premium; emergency numbers are always allowed)",
        ),
        (
            "rights = [\"local\", \"local\"]",
            "users[0].rights[1]: duplicate of users[0].rights[0]",
        ),
        (
            "rights = \"local\"",
            "users[0].rights: must be an array of strings (got string)",
        ),
        (
            "[users.forward]\nbusy = \"abc\"",
            "users[0].forward.busy: must be a dialable number: 2 to 20 of 0-9 * # with an \
             optional leading + (got \"abc\")",
        ),
        (
            "[users.forward]\nunconditional = \"1+2\"",
            "users[0].forward.unconditional: must be a dialable number: 2 to 20 of 0-9 * # \
             with an optional leading + (got \"1+2\")",
        ),
        (
            "[users.forward]\nno_answer = \"123456789012345678901\"",
            "users[0].forward.no_answer: must be a dialable number: 2 to 20 of 0-9 * # with \
             an optional leading + (got \"123456789012345678901\")",
        ),
        (
            "[users.forward]\nfollow_me = \"202\"",
            "users[0].forward.follow_me: \"202\" is the user's own extension",
        ),
        (
            "[users.forward]\nno_answer_secs = 4",
            "users[0].forward.no_answer_secs: must be between 5 and 300 (got 4)",
        ),
        (
            "[users.forward]\nno_answer_secs = 301",
            "users[0].forward.no_answer_secs: must be between 5 and 300 (got 301)",
        ),
        (
            "[users.forward]\nbusy = 300",
            "users[0].forward.busy: must be a string (got integer: write it in quotes)",
        ),
        (
            "[users.forward]\nalways = \"300\"",
            "users[0].forward.always: unknown field",
        ),
        (
            "forward = \"300\"",
            "users[0].forward: must be a table (got string)",
        ),
    ];
    for (fields, expected) in cases {
        assert_eq!(errors_of(&user(fields)), [expected], "{fields}");
    }
    // The login code is never repeated in a reason.
    assert!(!errors_of(&user("login_code = \"98x\""))
        .concat()
        .contains("98x"));
    // A login code needs the extension that is the user's number...
    assert_eq!(
        errors_of(&doc("[[users]]\nname = \"bob\"\nlogin_code = \"1234\"\n")),
        [
            "users[0].login_code: needs an extension: the user logs in on other desks with \
             the extension's number and this code"
        ]
    );
    // ...but that is not said again when the extension itself was rejected.
    assert_eq!(
        errors_of(&doc(
            "[[users]]\nname = \"bob\"\nextension = 202\nlogin_code = \"1234\"\n"
        )),
        ["users[0].extension: must be a string (got integer: write it in quotes)"]
    );
    // A rejected rights list is reported once, with its document indices.
    assert_eq!(
        errors_of(&user("rights = [\"local\", \"x\", 3, \"local\"]")),
        [
            "users[0].rights[2]: must be a string (got integer: write it in quotes)",
            "users[0].rights[1]: unknown call right \"x\" (expected internal, local, national, \
             international or premium; emergency numbers are always allowed)",
            "users[0].rights[3]: duplicate of users[0].rights[0]",
        ]
    );
    // No rights at all leaves the user emergency numbers only: valid.
    let c = Config::from_toml(&user("rights = []"), None).expect("valid");
    assert!(c.users[0].rights.is_empty());
}

#[test]
fn time_profile_rules() {
    let profile = |body: &str| doc(&format!("[[time_profiles]]\nname = \"p\"\n{body}\n"));
    let weekly = |body: &str| profile(&format!("[[time_profiles.weekly]]\n{body}"));
    let dated = |body: &str| profile(&format!("[[time_profiles.dates]]\n{body}"));
    let cases = [
        (
            weekly("days = [\"mon\"]\nstart = \"8:30\"\nend = \"17:00\""),
            "time_profiles[0].weekly[0].start: must be a time HH:MM from 00:00 to 24:00 (got \"8:30\")",
        ),
        (
            weekly("days = [\"mon\"]\nstart = \"17:00\"\nend = \"08:00\""),
            "time_profiles[0].weekly[0].end: must be after start 17:00 (got 08:00); an \
             interval cannot cross midnight: split it in two",
        ),
        (
            weekly("days = [\"mon\"]\nstart = \"09:00\"\nend = \"09:00\""),
            "time_profiles[0].weekly[0].end: must be after start 09:00 (got 09:00); an \
             interval cannot cross midnight: split it in two",
        ),
        (
            weekly("days = [\"mon\"]\nstart = \"24:00\"\nend = \"24:00\""),
            "time_profiles[0].weekly[0].start: must be a time HH:MM from 00:00 to 23:59 (got \"24:00\")",
        ),
        (
            weekly("days = [\"mon\"]\nstart = \"09:00\"\nend = \"24:01\""),
            "time_profiles[0].weekly[0].end: must be a time HH:MM from 00:00 to 24:00 (got \"24:01\")",
        ),
        (
            weekly("days = [\"mon\"]\nstart = \"09:00\""),
            "time_profiles[0].weekly[0].end: required field missing",
        ),
        (
            weekly("start = \"09:00\"\nend = \"10:00\""),
            "time_profiles[0].weekly[0].days: required field missing",
        ),
        (
            weekly("days = []\nstart = \"09:00\"\nend = \"10:00\""),
            "time_profiles[0].weekly[0].days: at least one day",
        ),
        (
            weekly("days = [\"mon\", \"monday\"]\nstart = \"09:00\"\nend = \"10:00\""),
            "time_profiles[0].weekly[0].days[1]: unknown day \"monday\" (expected mon, tue, \
             wed, thu, fri, sat or sun)",
        ),
        (
            weekly("days = [\"mon\", \"tue\", \"mon\"]\nstart = \"09:00\"\nend = \"10:00\""),
            "time_profiles[0].weekly[0].days[2]: duplicate of time_profiles[0].weekly[0].days[0]",
        ),
        (
            dated("date = \"2026-02-29\""),
            "time_profiles[0].dates[0].date: must be a calendar date YYYY-MM-DD (got \"2026-02-29\")",
        ),
        (
            dated("date = 2026-12-25"),
            "time_profiles[0].dates[0].date: must be a string (got datetime: write it in quotes)",
        ),
        (
            dated("start = \"10:00\""),
            "time_profiles[0].dates[0].date: required field missing",
        ),
        (
            dated("date = \"2026-12-24\"\nstart = \"12:00\"\nend = \"11:00\""),
            "time_profiles[0].dates[0].end: must be after start 12:00 (got 11:00); an \
             interval cannot cross midnight: split it in two",
        ),
        (
            dated("date = \"2026-12-24\"\nactive = \"no\""),
            "time_profiles[0].dates[0].active: must be true or false (got string)",
        ),
        (
            profile("[[time_profiles.weekly]]\ndays = [\"mon\"]\nstart = \"09:00\"\nend = \"10:00\"\nevery = 2"),
            "time_profiles[0].weekly[0].every: unknown field",
        ),
        (
            doc("[[time_profiles]]\nname = \"Office Hours\""),
            "time_profiles[0].name: must be 1 to 32 of a-z 0-9 . _ - (got \"Office Hours\")",
        ),
        (
            doc("[[time_profiles]]\nname = \"p\"\n[[time_profiles]]\nname = \"p\""),
            "time_profiles[1].name: duplicate of time_profiles[0].name (\"p\")",
        ),
        (
            doc("[[time_profiles]]\nweekly = []"),
            "time_profiles[0].name: required field missing",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(errors_of(&text), [expected], "{text}");
    }
    // A rejected start or end leads to no complaint about their order.
    assert_eq!(
        errors_of(&weekly("days = [\"mon\"]\nstart = \"x\"\nend = \"00:00\"")),
        ["time_profiles[0].weekly[0].start: must be a time HH:MM from 00:00 to 24:00 (got \"x\")"]
    );
    // An interval may run to the end of the day.
    Config::from_toml(
        &weekly("days = [\"sun\"]\nstart = \"22:00\"\nend = \"24:00\""),
        None,
    )
    .expect("valid");
}

#[test]
fn hunt_group_rules() {
    let cases = [
        (
            group("mode = \"ring_all\""),
            "hunt_groups[0].mode: unknown mode \"ring_all\" (expected collective, sequential, \
             rotary or longest_waiting)",
        ),
        (
            doc("[[hunt_groups]]\nname = \"sales\"\nnumber = \"300\"\nmembers = [\"201\", \"209\"]"),
            "hunt_groups[0].members[1]: no extension \"209\"",
        ),
        (
            doc("[[hunt_groups]]\nname = \"sales\"\nnumber = \"300\"\nmembers = [\"201\", \"202\", \"201\"]"),
            "hunt_groups[0].members[2]: duplicate of hunt_groups[0].members[0]",
        ),
        (
            doc("[[hunt_groups]]\nname = \"sales\"\nnumber = \"300\"\nmembers = []"),
            "hunt_groups[0].members: at least one member",
        ),
        (
            doc("[[hunt_groups]]\nname = \"sales\"\nnumber = \"300\""),
            "hunt_groups[0].members: required field missing",
        ),
        (
            doc("[[hunt_groups]]\nname = \"sales\"\nnumber = \"201\"\nmembers = [\"202\"]"),
            "hunt_groups[0].number: \"201\" is already extension 201",
        ),
        (
            doc("[[hunt_groups]]\nname = \"sales\"\nnumber = \"3a\"\nmembers = [\"202\"]"),
            "hunt_groups[0].number: must be 2 to 15 digits (got \"3a\")",
        ),
        (
            doc("[[hunt_groups]]\nname = \"sales\"\nmembers = [\"202\"]"),
            "hunt_groups[0].number: required field missing",
        ),
        (
            group("[[hunt_groups]]\nname = \"support\"\nnumber = \"300\"\nmembers = [\"203\"]"),
            "hunt_groups[1].number: \"300\" is already hunt group sales",
        ),
        (
            group("[[hunt_groups]]\nname = \"sales\"\nnumber = \"301\"\nmembers = [\"203\"]"),
            "hunt_groups[1].name: duplicate of hunt_groups[0].name (\"sales\")",
        ),
        (
            doc("[[hunt_groups]]\nname = \"Sales\"\nnumber = \"300\"\nmembers = [\"202\"]"),
            "hunt_groups[0].name: must be 1 to 32 of a-z 0-9 . _ - (got \"Sales\")",
        ),
        (
            group("no_answer_secs = 301"),
            "hunt_groups[0].no_answer_secs: must be between 5 and 300 (got 301)",
        ),
        (
            group("queue_limit = 1001"),
            "hunt_groups[0].queue_limit: must be between 0 and 1000 (got 1001)",
        ),
        (
            group("overflow_secs = 4\noverflow_to = \"203\""),
            "hunt_groups[0].overflow_secs: must be between 5 and 3600 (got 4)",
        ),
        (
            group("overflow_secs = 60"),
            "hunt_groups[0].overflow_to: required when overflow_secs is set",
        ),
        (
            group("overflow_to = \"203\""),
            "hunt_groups[0].overflow_secs: required when overflow_to is set",
        ),
        (
            group("overflow_secs = 60\noverflow_to = \"300\""),
            "hunt_groups[0].overflow_to: \"300\" is this group's own number",
        ),
        (
            group("night_service_to = \"x\""),
            "hunt_groups[0].night_service_to: must be a dialable number: 2 to 20 of 0-9 * # \
             with an optional leading + (got \"x\")",
        ),
        (
            group("time_profile = \"x\""),
            "hunt_groups[0].time_profile: no time profile \"x\"",
        ),
        (
            group("queue = \"yes\""),
            "hunt_groups[0].queue: must be true or false (got string)",
        ),
        (group("colour = \"red\""), "hunt_groups[0].colour: unknown field"),
    ];
    for (text, expected) in cases {
        assert_eq!(errors_of(&text), [expected], "{text}");
    }
    // The second group names a profile that does not exist.
    assert_rejected_with(
        &group(
            "[[hunt_groups]]\nname = \"support\"\nnumber = \"301\"\nmembers = [\"203\"]\n\
             time_profile = \"x\"",
        ),
        "hunt_groups[1].time_profile: no time profile \"x\"",
    );
    // One of the overflow pair rejected: no complaint that it is missing.
    assert_eq!(
        errors_of(&group("overflow_secs = 1\noverflow_to = \"203\"")),
        ["hunt_groups[0].overflow_secs: must be between 5 and 3600 (got 1)"]
    );
    assert_eq!(
        errors_of(&group("overflow_secs = 60\noverflow_to = 203")),
        ["hunt_groups[0].overflow_to: must be a string (got integer: write it in quotes)"]
    );
    // A member of the wrong type is reported once, at its own index.
    assert_eq!(
        errors_of(&doc(
            "[[hunt_groups]]\nname = \"s\"\nnumber = \"300\"\nmembers = [\"201\", 202, \"209\"]"
        )),
        [
            "hunt_groups[0].members[1]: must be a string (got integer: write it in quotes)",
            "hunt_groups[0].members[2]: no extension \"209\"",
        ]
    );
    // Every mode is accepted.
    for mode in HuntMode::ALL {
        let c = Config::from_toml(&group(&format!("mode = \"{}\"", mode.as_str())), None)
            .expect("valid");
        assert_eq!(c.hunt_groups[0].mode, mode);
    }
}

#[test]
fn short_code_rules() {
    let codes = |body: &str| doc(&format!("[short_codes]\n{body}\n"));
    let cases = [
        (
            "\"*17\" = \"voicemail\"",
            "short_codes.\"*17\": unknown feature \"voicemail\" (expected voicemail_collect, \
             voicemail_collect_mailbox, forward_unconditional_on, forward_unconditional_off, dnd_on, dnd_off, park, unpark, \
             pickup_group, pickup_directed, hunt_group_join, hunt_group_leave, hot_desk_login, \
             hot_desk_logout, account_code, night_service_on, night_service_off, page, listen or intrude)",
        ),
        (
            "\"*17\" = 1",
            "short_codes.\"*17\": must be a feature name in quotes (got integer)",
        ),
        (
            "\"17\" = \"dnd_on\"",
            "short_codes.\"17\": must be * or # followed by 0-9 * # with at most one N for the \
             number the caller dials (2 to 20 characters, at least 2 before the N)",
        ),
        (
            "\"*1N2N\" = \"park\"",
            "short_codes.\"*1N2N\": must be * or # followed by 0-9 * # with at most one N for \
             the number the caller dials (2 to 20 characters, at least 2 before the N)",
        ),
        (
            "\"*x1\" = \"dnd_on\"",
            "short_codes.\"*x1\": must be * or # followed by 0-9 * # with at most one N for the \
             number the caller dials (2 to 20 characters, at least 2 before the N)",
        ),
        (
            "\"*37\" = \"park\"",
            "short_codes.\"*37\": feature park takes a number: the code needs an N where it is \
             dialled",
        ),
        (
            "\"*08*N#\" = \"dnd_on\"",
            "short_codes.\"*08*N#\": feature dnd_on takes no number: remove the N",
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(errors_of(&codes(body)), [expected], "{body}");
    }
}

#[test]
fn short_code_collisions() {
    let codes = |body: &str| doc(&format!("[short_codes]\n{body}\n"));
    // A code that is the start of another's fixed part.
    assert_eq!(
        errors_of(&codes(
            "\"*1\" = \"dnd_on\"\n\"*17\" = \"voicemail_collect\""
        )),
        ["short_codes.\"*17\": collides with short code \"*1\": \"*1\" is a prefix of \"*17\""]
    );
    // A code with N against one that fills it in.
    assert_eq!(
        errors_of(&codes(
            "\"*14*N#\" = \"forward_unconditional_on\"\n\"*14*5#\" = \"dnd_on\""
        )),
        [
            "short_codes.\"*14*N#\": collides with short code \"*14*5#\": \"*14*\" is a prefix \
             of \"*14*5#\""
        ]
    );
    // Two codes with the same fixed start.
    assert_eq!(
        errors_of(&codes(
            "\"*20*N#\" = \"night_service_on\"\n\"*20*N\" = \"night_service_off\""
        )),
        ["short_codes.\"*20*N#\": collides with short code \"*20*N\": both begin with \"*20*\""]
    );
    // Every colliding pair is named.
    assert_eq!(
        errors_of(&codes(
            "\"*2\" = \"dnd_on\"\n\"*21\" = \"dnd_off\"\n\"*22*N#\" = \"park\"\n\"*3\" = \"pickup_group\""
        )),
        [
            "short_codes.\"*21\": collides with short code \"*2\": \"*2\" is a prefix of \"*21\"",
            "short_codes.\"*22*N#\": collides with short code \"*2\": \"*2\" is a prefix of \"*22*\"",
        ]
    );
    // Codes that merely share a start do not collide.
    Config::from_toml(
        &codes("\"*17\" = \"dnd_on\"\n\"*18\" = \"dnd_off\"\n\"#17\" = \"pickup_group\""),
        None,
    )
    .expect("valid");
}

#[test]
fn validate_applies_the_rules_to_a_model_built_in_code() {
    let mut c = full();
    c.hunt_groups[0].members.push("299".into());
    c.hunt_groups[1].overflow_secs = Some(30);
    c.users[0].rights.push(CallRight::Internal); // bob
    c.time_profiles[0].weekly[0].days.clear();
    c.short_codes.insert("*1".into(), ShortCodeFeature::DndOn);
    let e = c.validate().expect_err("invalid");
    let shown: Vec<String> = e.errors().iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "users[0].rights[3]: duplicate of users[0].rights[0]",
            "time_profiles[0].weekly[0].days: at least one day",
            "hunt_groups[0].members[2]: no extension \"299\"",
            "hunt_groups[1].overflow_to: required when overflow_secs is set",
            "short_codes.\"*14*N#\": collides with short code \"*1\": \"*1\" is a prefix of \"*14*\"",
            "short_codes.\"*17\": collides with short code \"*1\": \"*1\" is a prefix of \"*17\"",
        ]
    );
}

#[test]
fn audit_lines_for_feature_changes() {
    let old = full();
    let mut new = old.clone();
    let bob = new.users.iter_mut().find(|u| u.name == "bob").expect("bob");
    bob.dnd = false;
    bob.dnd_exceptions.clear();
    bob.rights = vec![CallRight::Internal];
    bob.forward.busy = None;
    bob.forward.no_answer_secs = 20;
    bob.login_code = Some("9999".into());
    let alice = new
        .users
        .iter_mut()
        .find(|u| u.name == "alice")
        .expect("alice");
    alice.call_waiting = false;
    alice.login_code = Some("4321".into());
    let sales = &mut new.hunt_groups[0];
    sales.members = vec!["201".into(), "203".into()];
    sales.mode = HuntMode::Sequential;
    sales.in_service = true;
    sales.overflow_secs = None;
    sales.overflow_to = None;
    new.hunt_groups.remove(1);
    new.hunt_groups
        .push(HuntGroup::new("service", "302", &["202"]));
    new.time_profiles[0].weekly.truncate(1);
    new.time_profiles[0].dates[0].active = true;
    new.time_profiles.remove(1);
    new.short_codes.remove("*08");
    new.short_codes
        .insert("*17".into(), ShortCodeFeature::DndOff);
    new.short_codes
        .insert("*09".into(), ShortCodeFeature::DndOff);
    new.validate().expect("still valid");
    assert_eq!(
        changes(&old, &new),
        [
            "short code *09 added (dnd_off)",
            "short code *17 voicemail_collect -> dnd_off",
            "short code *08 removed (dnd_on)",
            "user bob dnd true -> false",
            "user bob dnd_exceptions 203,0123456789 -> (none)",
            "user bob rights internal,international,premium -> internal",
            "user bob forward.busy 300 -> (none)",
            "user bob forward.no_answer_secs 30 -> 20",
            "user bob login_code changed",
            "user alice call_waiting true -> false",
            "user alice login_code set",
            "time profile office-hours weekly mon,tue,wed,thu,fri 08:30-17:30; sat 09:00-12:00 \
             -> mon,tue,wed,thu,fri 08:30-17:30",
            "time profile office-hours dates 2026-12-25 00:00-24:00 inactive; 2026-12-27 \
             10:00-14:00 active -> 2026-12-25 00:00-24:00 active; 2026-12-27 10:00-14:00 active",
            "time profile never removed",
            "hunt group sales mode rotary -> sequential",
            "hunt group sales members 202,201 -> 201,203",
            "hunt group sales overflow_secs 60 -> (none)",
            "hunt group sales overflow_to 301 -> (none)",
            "hunt group sales in_service false -> true",
            "hunt group service added",
            "hunt group support removed",
        ]
    );
    // Login codes never appear in the audit.
    assert!(!changes(&old, &new).concat().contains("9999"));
}

#[test]
fn the_store_keeps_the_features_and_audits_their_changes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = store::Store::open(dir.path()).expect("open");
    let first = full();
    store.apply(&first, "admin", "test").expect("apply");
    assert_eq!(store.current().expect("current"), Some((1, first.clone())));
    let mut second = first;
    second.users[0].dnd = false;
    second.hunt_groups[0].in_service = true;
    store.apply(&second, "admin", "test").expect("apply");
    let details: Vec<String> = store
        .audit(3)
        .expect("audit")
        .into_iter()
        .map(|e| e.detail)
        .collect();
    assert_eq!(
        details,
        [
            "hunt group sales in_service false -> true",
            "user bob dnd true -> false",
            "version 2 applied (2 changes)",
        ]
    );
}

#[test]
fn damaged_feature_documents_never_panic() {
    use rand::{Rng, SeedableRng};
    let good = doc(FULL);
    let bytes = good.as_bytes();
    for end in (0..bytes.len()).step_by(3) {
        let _ = Config::from_toml(&String::from_utf8_lossy(&bytes[..end]), None);
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let alphabet = b"[]=\"'#*N.,:-0123456789aZ \n\t{}_\\";
    for _ in 0..2000 {
        let mut b = bytes.to_vec();
        for _ in 0..rng.gen_range(1..4) {
            let i = rng.gen_range(0..b.len());
            b[i] = alphabet[rng.gen_range(0..alphabet.len())];
        }
        let _ = Config::from_toml(&String::from_utf8_lossy(&b), None);
    }
}
