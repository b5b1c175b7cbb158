//! What the voicemail thread needs to know of the configuration to run call flows and
//! collect messages from any phone: the flows, the numbers with a mailbox, the internal
//! numbers a caller may dial from a menu, and the time profiles in the system's zone.
//! Built from each configuration applied ([`Book::from_config`]) and shared with the
//! voicemail thread ([`SharedBook`]).

use jiff::{tz::TimeZone, Timestamp};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, RwLock};
use store::{CallFlow, Config, FieldError, FlowPrompt, TimeProfile};
use voicemail::dialogue::{FlowEnv, NumberMatch, Prompt};
use voicemail::MailboxId;

/// The configuration as the voicemail thread sees it.
pub struct Book {
    mailboxes: HashSet<String>,
    numbers: BTreeSet<String>,
    flows: HashMap<String, Arc<CallFlow>>,
    profiles: HashMap<String, TimeProfile>,
    zone: TimeZone,
}

/// The book, replaced whole when a configuration is applied.
pub type SharedBook = Arc<RwLock<Book>>;

impl Book {
    /// The book of `config`.
    pub fn from_config(config: &Config) -> Book {
        let numbers = config
            .extensions
            .iter()
            .map(|e| e.number.clone())
            .chain(config.hunt_groups.iter().map(|g| g.number.clone()))
            .chain(config.call_flows.iter().filter_map(|f| f.number.clone()))
            .collect();
        let zone = config
            .system
            .timezone
            .as_deref()
            .and_then(|name| TimeZone::get(name).ok())
            .unwrap_or_else(TimeZone::system);
        Book {
            mailboxes: config
                .users
                .iter()
                .filter(|u| u.voicemail)
                .filter_map(|u| u.extension.clone())
                .chain(
                    config
                        .hunt_groups
                        .iter()
                        .filter(|g| g.voicemail)
                        .map(|g| g.number.clone()),
                )
                .collect(),
            numbers,
            flows: config
                .call_flows
                .iter()
                .map(|f| (f.name.clone(), Arc::new(f.clone())))
                .collect(),
            profiles: config
                .time_profiles
                .iter()
                .map(|p| (p.name.clone(), p.clone()))
                .collect(),
            zone,
        }
    }

    /// Shared, for the voicemail thread.
    pub fn shared(config: &Config) -> SharedBook {
        Arc::new(RwLock::new(Book::from_config(config)))
    }

    /// The mailbox `number` names, if it has one.
    pub fn mailbox(&self, number: &str) -> Option<MailboxId> {
        self.mailboxes
            .contains(number)
            .then(|| MailboxId::new(number).ok())
            .flatten()
    }

    /// The call flow called `name`.
    pub fn flow(&self, name: &str) -> Option<Arc<CallFlow>> {
        self.flows.get(name).cloned()
    }

    /// How `typed` stands against the internal numbers.
    fn number_match(&self, typed: &str) -> NumberMatch {
        let whole = self.numbers.contains(typed);
        let longer = self
            .numbers
            .range(typed.to_string()..)
            .take_while(|n| n.starts_with(typed))
            .any(|n| n.len() > typed.len());
        NumberMatch { whole, longer }
    }

    /// Whether time profile `name` is active at `at` in the system's zone.
    fn profile_active(&self, name: &str, at: Timestamp) -> bool {
        let Some(profile) = self.profiles.get(name) else {
            return false;
        };
        let dt = self.zone.to_datetime(at);
        let date = store::Date::new(
            u16::try_from(dt.year()).unwrap_or(0),
            u8::try_from(dt.month()).unwrap_or(0),
            u8::try_from(dt.day()).unwrap_or(0),
        );
        let time = store::TimeOfDay::new(
            u8::try_from(dt.hour()).unwrap_or(0),
            u8::try_from(dt.minute()).unwrap_or(0),
        );
        match (date, time) {
            (Some(date), Some(time)) => profile.is_active(date, time),
            _ => false,
        }
    }
}

fn read(book: &SharedBook) -> std::sync::RwLockReadGuard<'_, Book> {
    book.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a flow asks of the system, answered from the shared book (so a flow under way
/// sees a configuration applied meanwhile).
pub fn env(book: &SharedBook) -> FlowEnv {
    let (b1, b2, b3) = (book.clone(), book.clone(), book.clone());
    FlowEnv {
        profile_active: Arc::new(move |name| read(&b1).profile_active(name, Timestamp::now())),
        numbers: Arc::new(move |typed| read(&b2).number_match(typed)),
        mailboxes: Arc::new(move |number| read(&b3).mailbox(number)),
    }
}

/// The built-in prompts a configuration's call flows name that the product does not
/// ship, as errors with their paths (a configuration with any is refused whole).
pub fn unknown_prompts(config: &Config) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, flow) in config.call_flows.iter().enumerate() {
        for (j, step) in flow.steps.iter().enumerate() {
            let lists = step.action.prompt_lists();
            let said = lists
                .iter()
                .flat_map(|(field, list)| list.iter().enumerate().map(move |(k, p)| (field, k, p)));
            for (field, k, say) in said {
                if let FlowPrompt::BuiltIn(name) = say {
                    if Prompt::from_name(name).is_none() {
                        errors.push(FieldError::new(
                            format!("call_flows[{i}].steps[{j}].{field}[{k}]"),
                            format!("no built-in prompt {name:?} (the attendant-* and vm-* prompts are; or give an absolute path to a .wav file)"),
                        ));
                    }
                }
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(numbers: &[&str]) -> Book {
        Book {
            mailboxes: HashSet::new(),
            numbers: numbers.iter().map(|n| n.to_string()).collect(),
            flows: HashMap::new(),
            profiles: HashMap::new(),
            zone: TimeZone::UTC,
        }
    }

    #[test]
    fn an_unknown_prompt_in_an_announcement_is_named_with_its_path() {
        let mut config = Config::default();
        config.call_flows.push(CallFlow {
            name: "screened".into(),
            number: Some("300".into()),
            start: "screen".into(),
            steps: vec![store::FlowStep {
                name: "screen".into(),
                action: store::FlowAction::AssistedTransfer {
                    to: "201".into(),
                    say: vec![FlowPrompt::BuiltIn("attendant-transferring".into())],
                    announce: vec![
                        FlowPrompt::Recording("name".into()),
                        FlowPrompt::BuiltIn("attendant-who".into()),
                    ],
                    on_fail: None,
                },
            }],
        });
        let errors: Vec<String> = unknown_prompts(&config)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("call_flows[0].steps[0].announce[1]: no built-in prompt"),
            "{errors:?}"
        );
    }

    #[test]
    fn typed_digits_are_matched_against_whole_and_longer_numbers() {
        let b = book(&["201", "2015", "300", "800"]);
        let m = |t| {
            let n = b.number_match(t);
            (n.whole, n.longer)
        };
        assert_eq!(m("2"), (false, true));
        assert_eq!(m("201"), (true, true));
        assert_eq!(m("2015"), (true, false));
        assert_eq!(m("300"), (true, false));
        assert_eq!(m("9"), (false, false));
        assert_eq!(m("30"), (false, true));
    }
}
