//! Call flows (`[[call_flows]]`): auto attendants and simple IVRs as a declarative graph
//! of named steps. A call to the flow's number is answered by the system, which runs the
//! `start` step; each step says what the caller hears and which step comes next.
//!
//! ```toml
//! [[call_flows]]
//! name = "reception"
//! number = "800"
//! start = "hours"
//!
//! [[call_flows.steps]]
//! name = "hours"
//! action = "time_condition"
//! profile = "office"
//! in_profile = "menu"
//! out_of_profile = "closed"
//!
//! [[call_flows.steps]]
//! name = "menu"
//! action = "menu"
//! say = ["attendant-welcome", "attendant-dial-extension", "attendant-operator"]
//! choices = { "0" = "operator" }
//! dial_extensions = true
//!
//! [[call_flows.steps]]
//! name = "operator"
//! action = "transfer"
//! to = "201"
//!
//! [[call_flows.steps]]
//! name = "closed"
//! action = "leave_mail"
//! mailbox = "201"
//! say = ["attendant-closed"]
//! ```
//!
//! What is said (`say`, `announce`) is a list of built-in prompt names (the files of the
//! product's prompt folder, such as `attendant-welcome`), absolute paths of WAV files the
//! administrator recorded, or `$name`: what the caller said in this call's `record` step
//! that keeps its recording as `name`. A screened transfer that announces the caller by
//! name:
//!
//! ```toml
//! [[call_flows.steps]]
//! name = "ask-name"
//! action = "record"
//! say = ["attendant-say-name"]   # then a beep; `#`, silence or max_secs ends it
//! variable = "name"
//! max_secs = 5
//! next = "screen"
//!
//! [[call_flows.steps]]
//! name = "screen"
//! action = "assisted_transfer"
//! to = "201"
//! announce = ["attendant-call-from", "$name"]  # then "press 1 to accept, 2 to refuse"
//! on_fail = "closed"
//! ```
//!
//! Reading and checking live here and in [`crate::validate`]; running a flow is the
//! voicemail service's business.

use crate::document::Reading;
use crate::walker::Fields;
use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use toml::Value;

/// `call_flows.steps.timeout_secs` of a menu.
pub const MENU_TIMEOUT_SECS: RangeInclusive<u32> = 1..=60;
/// `call_flows.steps.retries` of a menu.
pub const MENU_RETRIES: RangeInclusive<u32> = 0..=9;
/// `call_flows.steps.max_secs` of a `record` step.
pub const RECORD_MAX_SECS: RangeInclusive<u32> = 1..=300;
/// `call_flows.steps.max_secs` of a `record` step when not given.
pub const RECORD_DEFAULT_SECS: u32 = 30;

/// One call flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFlow {
    /// `[a-z0-9._-]{1,32}`, unique among call flows.
    pub name: String,
    /// The internal number that reaches it (2..=15 digits, no extension, hunt group or
    /// other flow has it). Without one the flow is reached only as another flow's step.
    pub number: Option<String>,
    /// The first step's name.
    pub start: String,
    /// The steps, each with a unique name.
    pub steps: Vec<FlowStep>,
}

impl CallFlow {
    /// The step called `name`, if any.
    pub fn step(&self, name: &str) -> Option<&FlowStep> {
        self.steps.iter().find(|s| s.name == name)
    }
}

/// One named step of a flow (`[[call_flows.steps]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowStep {
    /// `[a-z0-9._-]{1,32}`, unique in its flow.
    pub name: String,
    /// What it does.
    pub action: FlowAction,
}

/// Something to say: a built-in prompt, a recorded file, or a recording of this call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowPrompt {
    /// A built-in prompt by name (`[a-z0-9_-]{1,64}`; which names exist is the binary's
    /// to check, as it ships them).
    BuiltIn(String),
    /// An absolute path to a WAV file.
    File(String),
    /// `$name`: what the caller said in this call's `record` step whose `variable` is
    /// `name` (nothing, when the call has not been through that step).
    Recording(String),
}

impl FlowPrompt {
    /// Reads a `say` entry: a path when it starts with `/`, a recording when it starts
    /// with `$`, else a prompt name.
    pub fn parse(text: &str) -> FlowPrompt {
        if text.starts_with('/') {
            FlowPrompt::File(text.to_owned())
        } else if let Some(name) = text.strip_prefix('$') {
            FlowPrompt::Recording(name.to_owned())
        } else {
            FlowPrompt::BuiltIn(text.to_owned())
        }
    }

    /// As written in the document.
    pub fn written(&self) -> String {
        match self {
            FlowPrompt::BuiltIn(s) | FlowPrompt::File(s) => s.clone(),
            FlowPrompt::Recording(name) => format!("${name}"),
        }
    }
}

/// A menu: says its prompts, then waits for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Menu {
    /// Said first (a key press interrupts it).
    pub say: Vec<FlowPrompt>,
    /// Key (`0`-`9`, `*`, `#`) to the step it leads to.
    pub choices: BTreeMap<char, String>,
    /// The caller may dial an internal number (an extension, a hunt group) instead of
    /// choosing; the flow transfers the call there.
    pub dial_extensions: bool,
    /// How long to wait for a key after the prompts (default 5 s).
    pub timeout_secs: u32,
    /// How often the menu is said again after no key or a wrong one (default 2).
    pub retries: u32,
    /// Where the key chosen is kept, for a later `branch` (optional).
    pub variable: Option<String>,
    /// Where to go when the retries run out; without it the call ends.
    pub on_fail: Option<String>,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowAction {
    /// `play`: say `say`, then go to `next` (or hang up without one).
    Play {
        /// What is said.
        say: Vec<FlowPrompt>,
        /// The step after.
        next: Option<String>,
    },
    /// `menu`: see [`Menu`].
    Menu(Menu),
    /// `transfer`: say `say` (optional), then put the caller through to `to` (a
    /// dialable number). When nothing can ring there, go to `on_fail` (or hang up).
    Transfer {
        /// The number.
        to: String,
        /// Said first.
        say: Vec<FlowPrompt>,
        /// The step when the transfer fails at once.
        on_fail: Option<String>,
    },
    /// `leave_mail`: the caller leaves a message in `mailbox` (a user's extension with a
    /// mailbox). `say`, when given, is said instead of the mailbox's greeting: this is
    /// how a flow records a message. The call ends after it.
    LeaveMail {
        /// The mailbox.
        mailbox: String,
        /// Said instead of the greeting.
        say: Vec<FlowPrompt>,
    },
    /// `get_mail`: the caller collects messages: of `mailbox` with its PIN, or, without
    /// one, of the mailbox whose number and PIN the caller types.
    GetMail {
        /// The mailbox, if fixed.
        mailbox: Option<String>,
    },
    /// `time_condition`: `in_profile` while time profile `profile` is active, else
    /// `out_of_profile`.
    TimeCondition {
        /// The time profile's name.
        profile: String,
        /// The step while it is active.
        in_profile: String,
        /// The step while it is not.
        out_of_profile: String,
    },
    /// `set`: variable `variable` takes `value`; then `next`.
    Set {
        /// The variable (`[a-z0-9_]{1,32}`).
        variable: String,
        /// Its new value.
        value: String,
        /// The step after.
        next: String,
    },
    /// `branch`: the step `cases` gives for the variable's value, else `otherwise` (or
    /// hang up). A variable never set has the value `""`.
    Branch {
        /// The variable.
        variable: String,
        /// Value to step.
        cases: BTreeMap<String, String>,
        /// The step for any other value.
        otherwise: Option<String>,
    },
    /// `hang_up`: say `say` (optional), then end the call.
    HangUp {
        /// Said first.
        say: Vec<FlowPrompt>,
    },
    /// `record`: say `say` (optional), then a beep, then record the caller until `#`,
    /// silence or `max_secs`; the recording is kept for the rest of the call as
    /// `variable` (a later `$variable` in a `say` or `announce` plays it; a second
    /// `record` with the same variable replaces it). Then `next` (or hang up).
    Record {
        /// Said first.
        say: Vec<FlowPrompt>,
        /// The name the recording is kept under (`[a-z0-9_]{1,32}`).
        variable: String,
        /// The longest recording, in seconds ([`RECORD_MAX_SECS`], default
        /// [`RECORD_DEFAULT_SECS`]).
        max_secs: u32,
        /// The step after.
        next: Option<String>,
    },
    /// `assisted_transfer` (a screened transfer): say `say` (optional, "please hold
    /// while I put you through" without it); the caller hears ringback while `to` rings;
    /// when it answers it hears `announce` and "press 1 to accept, 2 to refuse". On 1
    /// the two are put through and the flow is over; on 2, no key in time, a hang-up, no
    /// answer or nothing that can ring, the caller goes on to `on_fail` (or hears that
    /// the number cannot be reached, and goodbye).
    AssistedTransfer {
        /// The number.
        to: String,
        /// Said to the caller first.
        say: Vec<FlowPrompt>,
        /// Said to the target when it answers, before the keys prompt.
        announce: Vec<FlowPrompt>,
        /// The step when the target does not take the call.
        on_fail: Option<String>,
    },
}

impl FlowAction {
    /// Every action name, as written in the document.
    pub const NAMES: [&'static str; 11] = [
        "play",
        "menu",
        "transfer",
        "leave_mail",
        "get_mail",
        "time_condition",
        "set",
        "branch",
        "hang_up",
        "record",
        "assisted_transfer",
    ];

    /// The action's name as written in the document.
    pub fn name(&self) -> &'static str {
        match self {
            FlowAction::Play { .. } => "play",
            FlowAction::Menu(_) => "menu",
            FlowAction::Transfer { .. } => "transfer",
            FlowAction::LeaveMail { .. } => "leave_mail",
            FlowAction::GetMail { .. } => "get_mail",
            FlowAction::TimeCondition { .. } => "time_condition",
            FlowAction::Set { .. } => "set",
            FlowAction::Branch { .. } => "branch",
            FlowAction::HangUp { .. } => "hang_up",
            FlowAction::Record { .. } => "record",
            FlowAction::AssistedTransfer { .. } => "assisted_transfer",
        }
    }

    /// The steps this one may lead to, with the field that names each.
    pub fn targets(&self) -> Vec<(String, &str)> {
        fn one<'s>(key: &str, step: &'s Option<String>) -> Vec<(String, &'s str)> {
            step.iter().map(|s| (key.to_owned(), s.as_str())).collect()
        }
        match self {
            FlowAction::Play { next, .. } => one("next", next),
            FlowAction::Menu(m) => {
                let mut t: Vec<(String, &str)> = m
                    .choices
                    .iter()
                    .map(|(k, s)| (format!("choices.{:?}", k.to_string()), s.as_str()))
                    .collect();
                t.extend(one("on_fail", &m.on_fail));
                t
            }
            FlowAction::Transfer { on_fail, .. } | FlowAction::AssistedTransfer { on_fail, .. } => {
                one("on_fail", on_fail)
            }
            FlowAction::Record { next, .. } => one("next", next),
            FlowAction::TimeCondition {
                in_profile,
                out_of_profile,
                ..
            } => vec![
                ("in_profile".into(), in_profile.as_str()),
                ("out_of_profile".into(), out_of_profile.as_str()),
            ],
            FlowAction::Set { next, .. } => vec![("next".into(), next.as_str())],
            FlowAction::Branch {
                cases, otherwise, ..
            } => {
                let mut t: Vec<(String, &str)> = cases
                    .iter()
                    .map(|(v, s)| (format!("cases.{v:?}"), s.as_str()))
                    .collect();
                t.extend(one("otherwise", otherwise));
                t
            }
            FlowAction::LeaveMail { .. }
            | FlowAction::GetMail { .. }
            | FlowAction::HangUp { .. } => Vec::new(),
        }
    }

    /// What the step says to the caller, if anything.
    pub fn say(&self) -> &[FlowPrompt] {
        match self {
            FlowAction::Play { say, .. }
            | FlowAction::Transfer { say, .. }
            | FlowAction::LeaveMail { say, .. }
            | FlowAction::HangUp { say }
            | FlowAction::Record { say, .. }
            | FlowAction::AssistedTransfer { say, .. } => say,
            FlowAction::Menu(m) => &m.say,
            _ => &[],
        }
    }

    /// Every list of prompts the step has, with its field (`say`, `announce`).
    pub fn prompt_lists(&self) -> Vec<(&'static str, &[FlowPrompt])> {
        let mut lists = vec![("say", self.say())];
        if let FlowAction::AssistedTransfer { announce, .. } = self {
            lists.push(("announce", announce.as_slice()));
        }
        lists
    }
}

/// Reads one `[[call_flows]]` table.
pub(crate) fn read_call_flow(mut f: Fields<'_>, r: &mut Reading) -> CallFlow {
    let name = f.required_string("name", &mut r.errs).unwrap_or_default();
    let number = f.string("number", &mut r.errs).map(str::to_owned);
    let start = f.required_string("start", &mut r.errs).unwrap_or_default();
    if !f.has("steps") {
        r.errs.push(f.path_of("steps"), "required field missing");
    }
    let steps = f
        .tables("steps", &mut r.errs)
        .into_iter()
        .filter_map(|(path, t)| read_step(Fields::new(t, path), r))
        .collect();
    f.finish(&mut r.errs);
    CallFlow {
        name: name.to_owned(),
        number,
        start: start.to_owned(),
        steps,
    }
}

/// Reads one step; `None` when its action is missing or unknown (reported).
fn read_step(mut f: Fields<'_>, r: &mut Reading) -> Option<FlowStep> {
    let name = f.required_string("name", &mut r.errs).unwrap_or_default();
    let action = f.required_string("action", &mut r.errs);
    let opt = |f: &mut Fields<'_>, key: &'static str, r: &mut Reading| {
        f.string(key, &mut r.errs).map(str::to_owned)
    };
    let req = |f: &mut Fields<'_>, key: &'static str, r: &mut Reading| {
        let v = f.required_string(key, &mut r.errs);
        if v.is_none() {
            r.placeholders.insert(f.path_of(key));
        }
        v.unwrap_or_default().to_owned()
    };
    let action = match action? {
        "play" => FlowAction::Play {
            say: read_say(&mut f, r),
            next: opt(&mut f, "next", r),
        },
        "menu" => {
            let say = read_say(&mut f, r);
            let choices = read_map(&mut f, "choices", r)
                .into_iter()
                .filter_map(
                    |(key, step, path)| match key.chars().collect::<Vec<_>>()[..] {
                        [k] if k.is_ascii_digit() || k == '*' || k == '#' => Some((k, step)),
                        _ => {
                            r.errs.push(path, "a choice is one key: 0-9, * or #");
                            None
                        }
                    },
                )
                .collect();
            let errs = &mut r.errs;
            FlowAction::Menu(Menu {
                say,
                choices,
                dial_extensions: f.boolean("dial_extensions", errs).unwrap_or(false),
                timeout_secs: f.uint("timeout_secs", MENU_TIMEOUT_SECS, errs).unwrap_or(5),
                retries: f.uint("retries", MENU_RETRIES, errs).unwrap_or(2),
                variable: f.string("variable", errs).map(str::to_owned),
                on_fail: f.string("on_fail", errs).map(str::to_owned),
            })
        }
        "transfer" => FlowAction::Transfer {
            to: req(&mut f, "to", r),
            say: read_say(&mut f, r),
            on_fail: opt(&mut f, "on_fail", r),
        },
        "leave_mail" => FlowAction::LeaveMail {
            mailbox: req(&mut f, "mailbox", r),
            say: read_say(&mut f, r),
        },
        "get_mail" => FlowAction::GetMail {
            mailbox: opt(&mut f, "mailbox", r),
        },
        "time_condition" => FlowAction::TimeCondition {
            profile: req(&mut f, "profile", r),
            in_profile: req(&mut f, "in_profile", r),
            out_of_profile: req(&mut f, "out_of_profile", r),
        },
        "set" => FlowAction::Set {
            variable: req(&mut f, "variable", r),
            value: req(&mut f, "value", r),
            next: req(&mut f, "next", r),
        },
        "branch" => FlowAction::Branch {
            variable: req(&mut f, "variable", r),
            cases: read_map(&mut f, "cases", r)
                .into_iter()
                .map(|(k, v, _)| (k, v))
                .collect(),
            otherwise: opt(&mut f, "otherwise", r),
        },
        "hang_up" => FlowAction::HangUp {
            say: read_say(&mut f, r),
        },
        "record" => FlowAction::Record {
            say: read_say(&mut f, r),
            variable: req(&mut f, "variable", r),
            max_secs: f
                .uint("max_secs", RECORD_MAX_SECS, &mut r.errs)
                .unwrap_or(RECORD_DEFAULT_SECS),
            next: opt(&mut f, "next", r),
        },
        "assisted_transfer" => FlowAction::AssistedTransfer {
            to: req(&mut f, "to", r),
            say: read_say(&mut f, r),
            announce: read_prompts(&mut f, "announce", r),
            on_fail: opt(&mut f, "on_fail", r),
        },
        other => {
            r.errs.push(
                f.path_of("action"),
                format!(
                    "unknown action {other:?} (expected {})",
                    FlowAction::NAMES.join(", ")
                ),
            );
            return None;
        }
    };
    f.finish(&mut r.errs);
    Some(FlowStep {
        name: name.to_owned(),
        action,
    })
}

/// The `say` list: one string or an array of strings.
fn read_say(f: &mut Fields<'_>, r: &mut Reading) -> Vec<FlowPrompt> {
    read_prompts(f, "say", r)
}

/// A list of prompts (`say`, `announce`): one string or an array of strings.
fn read_prompts(f: &mut Fields<'_>, key: &'static str, r: &mut Reading) -> Vec<FlowPrompt> {
    if let Some(Value::String(one)) = f.peek(key) {
        let one = f.string(key, &mut r.errs).unwrap_or(one);
        return vec![FlowPrompt::parse(one)];
    }
    f.strings(key, &mut r.errs)
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .map(FlowPrompt::parse)
        .collect()
}

/// An inline table of strings (`choices`, `cases`): (key, value, path of the key).
fn read_map(
    f: &mut Fields<'_>,
    key: &'static str,
    r: &mut Reading,
) -> Vec<(String, String, String)> {
    let Some(table) = f.table(key, &mut r.errs) else {
        return Vec::new();
    };
    let base = f.path_of(key);
    let mut out = Vec::new();
    for (k, v) in table {
        let path = format!("{base}.{k:?}");
        match v {
            Value::String(step) => out.push((k.clone(), step.clone(), path)),
            other => r.errs.push(
                path,
                format!("must be a step name in quotes (got {})", other.type_str()),
            ),
        }
    }
    out
}

/// Writes one flow as `[[call_flows]]` with its `[[call_flows.steps]]`, as
/// [`read_call_flow`] reads it back.
pub(crate) fn write_call_flow(out: &mut String, flow: &CallFlow) {
    use crate::export::{field_bool, field_num, field_opt, field_str};
    out.push_str("\n[[call_flows]]\n");
    field_str(out, "name", &flow.name);
    field_opt(out, "number", &flow.number);
    field_str(out, "start", &flow.start);
    for step in &flow.steps {
        out.push_str("\n[[call_flows.steps]]\n");
        field_str(out, "name", &step.name);
        field_str(out, "action", step.action.name());
        write_say(out, step.action.say());
        match &step.action {
            FlowAction::Play { next, .. } => field_opt(out, "next", next),
            FlowAction::Menu(m) => {
                let choices = m.choices.iter().map(|(k, v)| (k.to_string(), v.clone()));
                write_map(out, "choices", choices);
                field_bool(out, "dial_extensions", m.dial_extensions);
                field_num(out, "timeout_secs", m.timeout_secs);
                field_num(out, "retries", m.retries);
                field_opt(out, "variable", &m.variable);
                field_opt(out, "on_fail", &m.on_fail);
            }
            FlowAction::Transfer { to, on_fail, .. } => {
                field_str(out, "to", to);
                field_opt(out, "on_fail", on_fail);
            }
            FlowAction::LeaveMail { mailbox, .. } => field_str(out, "mailbox", mailbox),
            FlowAction::GetMail { mailbox } => field_opt(out, "mailbox", mailbox),
            FlowAction::TimeCondition {
                profile,
                in_profile,
                out_of_profile,
            } => {
                field_str(out, "profile", profile);
                field_str(out, "in_profile", in_profile);
                field_str(out, "out_of_profile", out_of_profile);
            }
            FlowAction::Set {
                variable,
                value,
                next,
            } => {
                field_str(out, "variable", variable);
                field_str(out, "value", value);
                field_str(out, "next", next);
            }
            FlowAction::Branch {
                variable,
                cases,
                otherwise,
            } => {
                field_str(out, "variable", variable);
                write_map(out, "cases", cases.clone());
                field_opt(out, "otherwise", otherwise);
            }
            FlowAction::HangUp { .. } => {}
            FlowAction::Record {
                variable,
                max_secs,
                next,
                ..
            } => {
                field_str(out, "variable", variable);
                field_num(out, "max_secs", *max_secs);
                field_opt(out, "next", next);
            }
            FlowAction::AssistedTransfer {
                to,
                announce,
                on_fail,
                ..
            } => {
                field_str(out, "to", to);
                write_prompts(out, "announce", announce);
                field_opt(out, "on_fail", on_fail);
            }
        }
    }
}

fn write_say(out: &mut String, say: &[FlowPrompt]) {
    write_prompts(out, "say", say);
}

fn write_prompts(out: &mut String, key: &str, prompts: &[FlowPrompt]) {
    if !prompts.is_empty() {
        let items: Vec<String> = prompts.iter().map(FlowPrompt::written).collect();
        let items: Vec<&str> = items.iter().map(String::as_str).collect();
        crate::export::field_str_list(out, key, &items);
    }
}

/// `key = { "k" = "v", ... }`
fn write_map(out: &mut String, key: &str, entries: impl IntoIterator<Item = (String, String)>) {
    use crate::export::push_toml_string;
    out.push_str(key);
    out.push_str(" = {");
    for (i, (k, v)) in entries.into_iter().enumerate() {
        out.push_str(if i == 0 { " " } else { ", " });
        push_toml_string(out, &k);
        out.push_str(" = ");
        push_toml_string(out, &v);
    }
    out.push_str(" }\n");
}
