//! Call flows in the document: a whole auto attendant read, exported and read back the
//! same, every rule with its path and reason, and the audit summary.

mod common;

use common::{base_document, errors_of};
use store::{changes, Config, FlowAction, FlowPrompt};

const PROFILE: &str = "\n[[time_profiles]]\nname = \"office\"\n\
    [[time_profiles.weekly]]\ndays = [\"mon\", \"tue\"]\nstart = \"09:00\"\nend = \"17:00\"\n";

const FLOW: &str = r#"
[[call_flows]]
name = "reception"
number = "800"
start = "hours"

[[call_flows.steps]]
name = "hours"
action = "time_condition"
profile = "office"
in_profile = "menu"
out_of_profile = "closed"

[[call_flows.steps]]
name = "menu"
action = "menu"
say = ["attendant-welcome", "/srv/prompts/menu.wav"]
choices = { "1" = "sales", "0" = "operator" }
dial_extensions = true
timeout_secs = 4
retries = 1
variable = "choice"
on_fail = "operator"

[[call_flows.steps]]
name = "sales"
action = "set"
variable = "team"
value = "sales"
next = "route"

[[call_flows.steps]]
name = "route"
action = "branch"
variable = "team"
cases = { sales = "operator" }
otherwise = "bye"

[[call_flows.steps]]
name = "operator"
action = "transfer"
to = "201"
say = "attendant-transferring"
on_fail = "closed"

[[call_flows.steps]]
name = "closed"
action = "leave_mail"
mailbox = "201"
say = ["attendant-closed"]

[[call_flows.steps]]
name = "mail"
action = "get_mail"

[[call_flows.steps]]
name = "bye"
action = "hang_up"
"#;

/// The base document with the office profile, alice's mailbox, and `flows`.
fn doc(flows: &str) -> String {
    let text =
        base_document().replacen("\n[[extensions]]", &format!("{PROFILE}\n[[extensions]]"), 1);
    format!("{text}{flows}")
}

fn parse(text: &str) -> Config {
    Config::from_toml(text, None).unwrap_or_else(|e| panic!("rejected:\n{e}\n---\n{text}"))
}

#[test]
fn a_whole_attendant_is_read_and_exports_the_same() {
    let c = parse(&doc(FLOW));
    let flow = c.call_flow("reception").expect("the flow");
    assert_eq!(flow.number.as_deref(), Some("800"));
    assert_eq!(flow.steps.len(), 8);
    let FlowAction::Menu(menu) = &flow.step("menu").expect("menu").action else {
        panic!("a menu");
    };
    assert_eq!(
        menu.say,
        [
            FlowPrompt::BuiltIn("attendant-welcome".into()),
            FlowPrompt::File("/srv/prompts/menu.wav".into())
        ]
    );
    assert_eq!(menu.choices.get(&'1').map(String::as_str), Some("sales"));
    assert!(menu.dial_extensions);
    assert_eq!((menu.timeout_secs, menu.retries), (4, 1));
    let transfer = &flow.step("operator").expect("operator").action;
    assert_eq!(
        transfer.say(),
        [FlowPrompt::BuiltIn("attendant-transferring".into())]
    );
    let again = parse(&c.to_toml());
    assert_eq!(again.call_flows, c.call_flows);
}

#[test]
fn defaults_of_a_menu() {
    let c = parse(&doc(
        "\n[[call_flows]]\nname = \"m\"\nstart = \"a\"\n[[call_flows.steps]]\nname = \"a\"\n\
         action = \"menu\"\ndial_extensions = true\n",
    ));
    let FlowAction::Menu(m) = &c.call_flows[0].steps[0].action else {
        panic!("a menu");
    };
    assert_eq!(
        (m.timeout_secs, m.retries, m.on_fail.as_deref()),
        (5, 2, None)
    );
    assert_eq!(c.call_flows[0].number, None);
}

#[test]
fn every_broken_rule_is_reported_with_its_path() {
    let broken = FLOW
        .replace("number = \"800\"", "number = \"201\"")
        .replace("start = \"hours\"", "start = \"nowhere\"")
        .replace("profile = \"office\"", "profile = \"weekend\"")
        .replace(
            "\"0\" = \"operator\"",
            "\"00\" = \"operator\", \"2\" = \"gone\"",
        )
        .replace("to = \"201\"", "to = \"x\"")
        .replace("mailbox = \"201\"", "mailbox = \"202\"")
        .replace("action = \"hang_up\"", "action = \"dance\"")
        .replace("variable = \"team\"", "variable = \"Team!\"");
    let errors = errors_of(&doc(&broken));
    for expected in [
        "call_flows[0].number: \"201\" is already extension 201",
        "call_flows[0].start: no step \"nowhere\"",
        "call_flows[0].steps[0].profile: no time profile \"weekend\"",
        "call_flows[0].steps[1].choices.\"00\": a choice is one key: 0-9, * or #",
        "call_flows[0].steps[1].choices.\"2\": no step \"gone\" in this flow",
        "call_flows[0].steps[2].variable: must be 1 to 32 of a-z 0-9 _ (got \"Team!\")",
        "call_flows[0].steps[4].to: must be a dialable number: 2 to 20 of 0-9 * # with an optional leading + (got \"x\")",
        "call_flows[0].steps[5].mailbox: no mailbox \"202\" (a user's extension or a hunt group's number, with voicemail)",
        "call_flows[0].steps[7].action: unknown action \"dance\" (expected play, menu, transfer, leave_mail, get_mail, time_condition, set, branch, hang_up, record, assisted_transfer)",
    ] {
        assert!(
            errors.iter().any(|e| e == expected),
            "expected {expected:?} among {errors:#?}"
        );
    }
}

#[test]
fn names_numbers_and_prompts_are_checked() {
    let two = format!(
        "{FLOW}\n[[call_flows]]\nname = \"reception\"\nnumber = \"800\"\nstart = \"a\"\n\
         [[call_flows.steps]]\nname = \"a\"\naction = \"play\"\nsay = [\"Bad Name\", \"/x.mp3\"]\n\
         [[call_flows.steps]]\nname = \"a\"\naction = \"hang_up\"\n"
    );
    let errors = errors_of(&doc(&two));
    for expected in [
        "call_flows[1].name: duplicate of call_flows[0].name (\"reception\")",
        "call_flows[1].number: \"800\" is already call flow reception",
        "call_flows[1].steps[0].say[0]: must be a prompt name (a-z 0-9 - _) or an absolute path to a .wav file (got \"Bad Name\")",
        "call_flows[1].steps[0].say[1]: must be a .wav file (got \"/x.mp3\")",
        "call_flows[1].steps[1].name: duplicate of call_flows[1].steps[0].name (\"a\")",
    ] {
        assert!(
            errors.iter().any(|e| e == expected),
            "expected {expected:?} among {errors:#?}"
        );
    }
}

#[test]
fn the_audit_names_flows_and_changed_steps() {
    let before = parse(&doc(FLOW));
    let after = parse(&doc(&FLOW.replace("to = \"201\"", "to = \"203\"")));
    assert_eq!(
        changes(&before, &after),
        ["call flow reception steps changed: operator"]
    );
    assert_eq!(
        changes(&before, &parse(&doc(""))),
        ["call flow reception removed"]
    );
}

/// A flow that records the caller's name and announces it in a screened transfer.
const SCREENED: &str = r#"
[[call_flows]]
name = "screened"
number = "801"
start = "ask-name"

[[call_flows.steps]]
name = "ask-name"
action = "record"
say = ["attendant-say-name"]
variable = "name"
max_secs = 5
next = "screen"

[[call_flows.steps]]
name = "screen"
action = "assisted_transfer"
to = "201"
say = "attendant-transferring"
announce = ["attendant-call-from", "$name"]
on_fail = "closed"

[[call_flows.steps]]
name = "closed"
action = "leave_mail"
mailbox = "201"
say = ["$name", "/srv/prompts/closed.wav"]
"#;

#[test]
fn record_and_assisted_transfer_are_read_and_export_the_same() {
    let c = parse(&doc(SCREENED));
    let flow = c.call_flow("screened").expect("the flow");
    assert_eq!(
        flow.step("ask-name").expect("record").action,
        FlowAction::Record {
            say: vec![FlowPrompt::BuiltIn("attendant-say-name".into())],
            variable: "name".into(),
            max_secs: 5,
            next: Some("screen".into()),
        }
    );
    assert_eq!(
        flow.step("screen").expect("screen").action,
        FlowAction::AssistedTransfer {
            to: "201".into(),
            say: vec![FlowPrompt::BuiltIn("attendant-transferring".into())],
            announce: vec![
                FlowPrompt::BuiltIn("attendant-call-from".into()),
                FlowPrompt::Recording("name".into()),
            ],
            on_fail: Some("closed".into()),
        }
    );
    assert_eq!(
        flow.step("closed").expect("closed").action.say()[0],
        FlowPrompt::Recording("name".into())
    );
    let text = c.to_toml();
    assert!(
        text.contains("announce = [\"attendant-call-from\", \"$name\"]"),
        "{text}"
    );
    let again = parse(&text);
    assert_eq!(again.call_flows, c.call_flows);
}

#[test]
fn a_record_step_keeps_thirty_seconds_by_default() {
    let c = parse(&doc(&SCREENED.replace("max_secs = 5\n", "")));
    let Some(FlowAction::Record { max_secs, .. }) =
        c.call_flows[0].step("ask-name").map(|s| &s.action)
    else {
        panic!("a record step");
    };
    assert_eq!(*max_secs, store::RECORD_DEFAULT_SECS);
}

#[test]
fn record_and_assisted_transfer_rules_have_paths() {
    let broken = SCREENED
        .replace("max_secs = 5", "max_secs = 301")
        .replace("variable = \"name\"", "variable = \"Name!\"")
        .replace("to = \"201\"", "to = \"x\"")
        .replace("on_fail = \"closed\"", "on_fail = \"nowhere\"")
        .replace("\"$name\", \"/srv", "\"$nobody\", \"/srv");
    let errors = errors_of(&doc(&broken));
    for expected in [
        "call_flows[0].steps[0].max_secs: ",
        "call_flows[0].steps[0].variable: must be 1 to 32 of a-z 0-9 _ (got \"Name!\")",
        "call_flows[0].steps[1].to: must be a dialable number: 2 to 20 of 0-9 * # with an optional leading + (got \"x\")",
        "call_flows[0].steps[1].on_fail: no step \"nowhere\" in this flow",
        "call_flows[0].steps[1].announce[1]: no record step of this flow keeps a recording as \"name\" ($name)",
        "call_flows[0].steps[2].say[0]: no record step of this flow keeps a recording as \"nobody\" ($nobody)",
    ] {
        assert!(
            errors.iter().any(|e| e.starts_with(expected)),
            "expected {expected:?} among {errors:#?}"
        );
    }
}
