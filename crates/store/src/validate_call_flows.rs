//! The rules of call flows: names and numbers unique, every step a flow names exists,
//! every time profile, mailbox and number they use is one, and every `$name` said is
//! kept by a `record` step of the same flow.

use crate::call_flow::{CallFlow, FlowAction, FlowPrompt};
use crate::error::ConfigErrors;
use crate::model::Config;
use crate::validate::{is_valid_login, is_valid_number};
use crate::validate_features::is_dialable;
use std::collections::{HashMap, HashSet};

/// Checks every `[[call_flows]]` into `errs`; `failed` as in [`crate::validate`].
pub(crate) fn check_call_flows(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut numbers: HashMap<&str, &str> = HashMap::new();
    for (i, flow) in config.call_flows.iter().enumerate() {
        let at = |field: &str| format!("call_flows[{i}].{field}");
        let path = at("name");
        if !is_valid_login(&flow.name) {
            errs.push(
                &path,
                format!("must be 1 to 32 of a-z 0-9 . _ - (got {:?})", flow.name),
            );
        } else if let Some(first) = names.get(flow.name.as_str()) {
            errs.push(
                &path,
                format!("duplicate of call_flows[{first}].name ({:?})", flow.name),
            );
        } else if !failed.contains(&path) {
            names.insert(&flow.name, i);
        }
        if let Some(number) = &flow.number {
            let path = at("number");
            if !is_valid_number(number) {
                errs.push(&path, format!("must be 2 to 15 digits (got {number:?})"));
            } else if config.extension(number).is_some() {
                errs.push(&path, format!("{number:?} is already extension {number}"));
            } else if let Some(g) = config.hunt_group(number) {
                errs.push(
                    &path,
                    format!("{number:?} is already hunt group {}", g.name),
                );
            } else if let Some(other) = numbers.get(number.as_str()) {
                errs.push(&path, format!("{number:?} is already call flow {other}"));
            } else {
                numbers.insert(number, &flow.name);
            }
        }
        check_steps(config, flow, i, failed, errs);
    }
}

fn check_steps(
    config: &Config,
    flow: &CallFlow,
    i: usize,
    failed: &HashSet<String>,
    errs: &mut ConfigErrors,
) {
    let base = format!("call_flows[{i}]");
    let steps: HashSet<&str> = flow.steps.iter().map(|s| s.name.as_str()).collect();
    if flow.steps.is_empty() && !failed.contains(&format!("{base}.steps")) {
        errs.push(format!("{base}.steps"), "at least one step");
    } else if !steps.contains(flow.start.as_str()) && !failed.contains(&format!("{base}.start")) {
        errs.push(format!("{base}.start"), format!("no step {:?}", flow.start));
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    // A `$name` is checked against the flow's record steps, not against the order the
    // steps run in: a caller who did not pass the record step hears nothing there.
    let recorded: HashSet<&str> = flow
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            FlowAction::Record { variable, .. } => Some(variable.as_str()),
            _ => None,
        })
        .collect();
    for (j, step) in flow.steps.iter().enumerate() {
        let at = |field: &str| format!("{base}.steps[{j}].{field}");
        let path = at("name");
        if !is_valid_login(&step.name) {
            errs.push(
                &path,
                format!("must be 1 to 32 of a-z 0-9 . _ - (got {:?})", step.name),
            );
        } else if let Some(first) = seen.get(step.name.as_str()) {
            errs.push(
                &path,
                format!("duplicate of {base}.steps[{first}].name ({:?})", step.name),
            );
        } else {
            seen.insert(&step.name, j);
        }
        for (field, target) in step.action.targets() {
            let path = at(&field);
            if !steps.contains(target) && !failed.contains(&path) {
                errs.push(path, format!("no step {target:?} in this flow"));
            }
        }
        for (field, prompts) in step.action.prompt_lists() {
            for (k, prompt) in prompts.iter().enumerate() {
                check_prompt(&at(&format!("{field}[{k}]")), prompt, &recorded, errs);
            }
        }
        check_action(config, &step.action, &at, failed, errs);
    }
}

fn check_prompt(
    path: &str,
    prompt: &FlowPrompt,
    recorded: &HashSet<&str>,
    errs: &mut ConfigErrors,
) {
    match prompt {
        FlowPrompt::Recording(name) if !recorded.contains(name.as_str()) => {
            errs.push(
                path,
                format!("no record step of this flow keeps a recording as {name:?} (${name})"),
            );
        }
        FlowPrompt::Recording(_) => {}
        FlowPrompt::BuiltIn(name) => {
            let ok = (1..=64).contains(&name.len())
                && name.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                });
            if !ok {
                errs.push(
                    path,
                    format!("must be a prompt name (a-z 0-9 - _) or an absolute path to a .wav file (got {name:?})"),
                );
            }
        }
        FlowPrompt::File(file) => {
            if !file.ends_with(".wav") {
                errs.push(path, format!("must be a .wav file (got {file:?})"));
            }
        }
    }
}

fn check_action(
    config: &Config,
    action: &FlowAction,
    at: &dyn Fn(&str) -> String,
    failed: &HashSet<String>,
    errs: &mut ConfigErrors,
) {
    let has_mailbox = |number: &str| config.has_mailbox(number);
    let variable_ok = |name: &str| {
        (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    let bad_variable = |name: &str| format!("must be 1 to 32 of a-z 0-9 _ (got {name:?})");
    match action {
        FlowAction::Transfer { to, .. } | FlowAction::AssistedTransfer { to, .. }
            if !failed.contains(&at("to")) && !is_dialable(to) =>
        {
            errs.push(
                at("to"),
                format!("must be a dialable number: 2 to 20 of 0-9 * # with an optional leading + (got {to:?})"),
            );
        }
        FlowAction::LeaveMail { mailbox, .. }
            if !failed.contains(&at("mailbox")) && !has_mailbox(mailbox) =>
        {
            errs.push(
                at("mailbox"),
                format!("no mailbox {mailbox:?} (a user's extension or a hunt group's number, with voicemail)"),
            );
        }
        FlowAction::GetMail {
            mailbox: Some(mailbox),
        } if !has_mailbox(mailbox) => {
            errs.push(
                at("mailbox"),
                format!("no mailbox {mailbox:?} (a user's extension or a hunt group's number, with voicemail)"),
            );
        }
        FlowAction::TimeCondition { profile, .. }
            if !failed.contains(&at("profile")) && config.time_profile(profile).is_none() =>
        {
            errs.push(at("profile"), format!("no time profile {profile:?}"));
        }
        FlowAction::Menu(m) => {
            if let Some(v) = &m.variable {
                if !variable_ok(v) {
                    errs.push(at("variable"), bad_variable(v));
                }
            }
            if m.choices.is_empty() && !m.dial_extensions && !failed.contains(&at("choices")) {
                errs.push(
                    at("choices"),
                    "a menu needs at least one choice, or dial_extensions = true",
                );
            }
        }
        FlowAction::Set { variable, .. }
        | FlowAction::Branch { variable, .. }
        | FlowAction::Record { variable, .. }
            if !failed.contains(&at("variable")) && !variable_ok(variable) =>
        {
            errs.push(at("variable"), bad_variable(variable));
        }
        _ => {}
    }
}
