//! Running a call flow (an auto attendant, `store::CallFlow`): step by step, with the
//! voicemail dialogues as two of its steps.
//!
//! ```text
//!  play ── play ends ─▶ next (or hang up)
//!  menu ── says its prompts; a key stops them ──▶ choice ─▶ its step (kept in `variable`)
//!     │  digits of an internal number (dial_extensions) ─▶ Transfer to it
//!     │  no key in time, a wrong key ─▶ "not a valid choice", said again (retries)
//!     │  retries run out ─▶ on_fail (or "Goodbye." and hang up)
//!  transfer ─▶ [say] ─▶ Transfer ─▶ Transferred: done │ TransferFailed: on_fail, or
//!                                   "cannot be reached" and back to the menu it came from
//!  record ─▶ [say] beep ─▶ StartClip ─▶ `#`, silence or max_secs ─▶ FinishClip ─▶ next
//!  assisted_transfer ─▶ [say] ─▶ ScreenTransfer (the caller hears ringback)
//!     ScreenAnswered ─▶ PlayToTarget(announce, "press 1 to accept, 2 to refuse")
//!        target's 1 ─▶ AcceptScreened: done
//!        target's 2, no key SCREEN_KEY_TIMEOUT_MS after the announcement ─▶ RefuseScreened
//!     ─▶ on_fail (also on ScreenFailed: no answer, nothing rings, the target hung up),
//!        or "cannot be reached", goodbye
//!  leave_mail ─▶ a Deposit (the flow's words in place of the greeting) to its end
//!  get_mail ─▶ a Collect to its end
//!  time_condition, set, branch ─▶ the next step at once
//!  hang_up ─▶ [say] ─▶ HangUp
//! ```
//!
//! Keys of an internal number: a key that is a choice chooses at once, unless some
//! internal number starts with it, in which case the flow waits (the menu's timeout) for
//! more; a number is put through as soon as it is whole and no longer number starts with
//! it, on `#`, or when the caller stops typing.
//!
//! A flow whose steps lead from one to another without waiting for the caller (a `set`
//! looping through a `branch`) is stopped after [`MAX_HOPS`] steps: the caller hears
//! goodbye rather than silence.

use crate::dialogue::collect::{Collect, CollectEntry, CollectSettings};
use crate::dialogue::deposit::{Deposit, DepositCall, DepositReason, DepositSettings};
use crate::dialogue::io::{Action, Input, PlayItem, PlayTag};
use crate::dialogue::outbox::Outbox;
use crate::dialogue::prompt::Prompt;
use crate::dialogue::Dialogue;
use crate::{MailboxId, MessageStore};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use store::{CallFlow, FlowAction, FlowPrompt, Menu};

mod screen;

pub use screen::SCREEN_KEY_TIMEOUT_MS;

/// Steps run one after another without the caller's input before the flow gives up.
pub const MAX_HOPS: u32 = 64;

/// How a typed number stands against the system's internal numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NumberMatch {
    /// It is an internal number.
    pub whole: bool,
    /// A longer internal number starts with it.
    pub longer: bool,
}

/// The mailbox a number names, if it has one; shared by every flow.
pub type SharedMailboxLookup = Arc<dyn Fn(&str) -> Option<MailboxId> + Send + Sync>;

/// What a flow needs to know of the system, given by the binary.
#[derive(Clone)]
pub struct FlowEnv {
    /// Whether the time profile with this name is active now.
    pub profile_active: Arc<dyn Fn(&str) -> bool + Send + Sync>,
    /// How typed digits stand against the internal numbers (for `dial_extensions`).
    pub numbers: Arc<dyn Fn(&str) -> NumberMatch + Send + Sync>,
    /// The mailbox a number names, if it has one (for `get_mail` from anywhere).
    pub mailboxes: SharedMailboxLookup,
}

impl std::fmt::Debug for FlowEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FlowEnv")
    }
}

/// The call that runs a flow.
#[derive(Debug, Clone)]
pub struct FlowCall {
    /// The flow.
    pub flow: Arc<CallFlow>,
    /// The caller's number (a message's envelope, calling back).
    pub caller_number: Option<String>,
    /// The caller's name.
    pub caller_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// A `play` or `hang_up` step's words play; then this.
    Saying {
        then: After,
    },
    /// A menu: its words play or it waits for keys.
    Menu {
        step: String,
        /// Times said again so far.
        tries: u32,
        /// Keys of an internal number typed so far.
        digits: String,
        /// Said before the menu ("not a valid choice", "cannot be reached").
        before: Option<Prompt>,
    },
    /// A transfer's words play; then the transfer.
    Announcing {
        to: String,
        on_fail: Fallback,
    },
    /// Waiting for the core's answer to the transfer.
    Transferring {
        on_fail: Fallback,
    },
    /// A `record` step's words and beep play; then the recording.
    RecordPrompt {
        variable: String,
        max_ms: u64,
        then: After,
    },
    /// The caller is recorded into the call's clip; `#`, silence or the timer end it.
    Recording {
        then: After,
    },
    /// An assisted transfer's words to the caller play; then the target rings.
    ScreenAnnouncing {
        to: String,
        announce: Vec<FlowPrompt>,
        on_fail: Option<String>,
    },
    /// The target rings; the caller hears ringback from the core.
    ScreenRinging {
        announce: Vec<FlowPrompt>,
        on_fail: Option<String>,
    },
    /// The target answered: it hears the announcement (`tag`), then the keys prompt
    /// again and again until it chooses or the timer (set once the announcement ended)
    /// runs out.
    ScreenAsking {
        on_fail: Option<String>,
        tag: PlayTag,
        timed: bool,
    },
    /// A voicemail dialogue runs the call.
    Delegated,
    Done,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum After {
    Step(String),
    HangUp,
}

/// Where a failed transfer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fallback {
    Step(String),
    /// Back to this menu, saying the number cannot be reached.
    Menu(String),
    HangUp,
}

/// The dialogue of a call in a flow. Create it with [`Flow::start`], then drive it
/// through [`Dialogue`].
pub struct Flow {
    call: FlowCall,
    env: FlowEnv,
    state: State,
    out: Outbox,
    variables: HashMap<String, String>,
    sub: Option<Box<dyn Dialogue + Send>>,
}

impl std::fmt::Debug for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flow")
            .field("flow", &self.call.flow.name)
            .field("state", &self.state)
            .finish()
    }
}

impl Flow {
    /// Starts the flow at its `start` step.
    pub fn start(now_ms: u64, call: FlowCall, env: FlowEnv, store: &mut MessageStore) -> Flow {
        let start = call.flow.start.clone();
        let mut f = Flow {
            call,
            env,
            state: State::Done,
            out: Outbox::default(),
            variables: HashMap::new(),
            sub: None,
        };
        f.enter(now_ms, &start, store);
        f
    }

    /// The value of a variable (`""` when never set).
    pub fn variable(&self, name: &str) -> &str {
        self.variables.get(name).map_or("", String::as_str)
    }

    /// Runs step `name` and the steps it leads to at once.
    fn enter(&mut self, now_ms: u64, name: &str, store: &mut MessageStore) {
        let flow = self.call.flow.clone();
        let mut name = name.to_string();
        for _ in 0..MAX_HOPS {
            let Some(step) = flow.step(&name) else {
                tracing::error!(flow = %flow.name, step = %name, "call flow step missing");
                return self.goodbye();
            };
            let next = match &step.action {
                FlowAction::Play { say, next } => {
                    let then = next.clone().map_or(After::HangUp, After::Step);
                    return self.say_then(say, then, now_ms, store);
                }
                FlowAction::HangUp { say } => {
                    return self.say_then(say, After::HangUp, now_ms, store)
                }
                FlowAction::Menu(_) => {
                    self.state = State::Menu {
                        step: name.clone(),
                        tries: 0,
                        digits: String::new(),
                        before: None,
                    };
                    return self.say_menu(now_ms);
                }
                FlowAction::Transfer { to, say, on_fail } => {
                    let on_fail = on_fail.clone().map_or(Fallback::HangUp, Fallback::Step);
                    return self.announce_transfer(to.clone(), say, on_fail, now_ms);
                }
                FlowAction::LeaveMail { mailbox, say } => {
                    return self.leave_mail(now_ms, mailbox, say, store)
                }
                FlowAction::GetMail { mailbox } => return self.get_mail(now_ms, mailbox, store),
                action @ FlowAction::Record { .. } => return self.start_record(action),
                action @ FlowAction::AssistedTransfer { .. } => {
                    return self.start_screening(action)
                }
                FlowAction::TimeCondition {
                    profile,
                    in_profile,
                    out_of_profile,
                } => {
                    if (self.env.profile_active)(profile) {
                        in_profile.clone()
                    } else {
                        out_of_profile.clone()
                    }
                }
                FlowAction::Set {
                    variable,
                    value,
                    next,
                } => {
                    self.variables.insert(variable.clone(), value.clone());
                    next.clone()
                }
                FlowAction::Branch {
                    variable,
                    cases,
                    otherwise,
                } => match cases.get(self.variable(variable)).or(otherwise.as_ref()) {
                    Some(next) => next.clone(),
                    None => return self.goodbye(),
                },
            };
            name = next;
        }
        tracing::error!(flow = %flow.name, "call flow went round without the caller: stopped");
        self.goodbye()
    }

    /// Plays `say` (if anything), then `then`.
    fn say_then(&mut self, say: &[FlowPrompt], then: After, now_ms: u64, store: &mut MessageStore) {
        let items = play_items(say);
        if items.is_empty() {
            return self.after(now_ms, then, store);
        }
        self.out.play(items);
        self.state = State::Saying { then };
    }

    fn after(&mut self, now_ms: u64, then: After, store: &mut MessageStore) {
        match then {
            After::Step(name) => self.enter(now_ms, &name, store),
            After::HangUp => self.end(),
        }
    }

    fn menu(&self, step: &str) -> Option<&Menu> {
        match &self.call.flow.step(step)?.action {
            FlowAction::Menu(m) => Some(m),
            _ => None,
        }
    }

    /// Says the current menu (after "not a valid choice" when the caller got it wrong).
    fn say_menu(&mut self, now_ms: u64) {
        let State::Menu { step, before, .. } = &mut self.state else {
            return;
        };
        let before = before.take();
        let step = step.clone();
        let Some(menu) = self.menu(&step) else {
            return self.goodbye();
        };
        let mut items = Vec::new();
        items.extend(before.map(PlayItem::from));
        items.extend(play_items(&menu.say));
        let timeout = u64::from(menu.timeout_secs) * 1000;
        if items.is_empty() {
            self.out.set_timer(now_ms + timeout);
        } else {
            self.out.play(items);
        }
    }

    /// A key in a menu.
    fn menu_key(&mut self, now_ms: u64, key: char, store: &mut MessageStore) {
        let State::Menu { step, digits, .. } = &self.state else {
            return;
        };
        let (step, mut typed) = (step.clone(), digits.clone());
        let Some(menu) = self.menu(&step).cloned() else {
            return self.goodbye();
        };
        self.out.stop();
        if key == '#' && !typed.is_empty() {
            return self.typed_number(now_ms, &step, &typed, store);
        }
        if typed.is_empty() && menu.choices.contains_key(&key) {
            let waits = menu.dial_extensions && (self.env.numbers)(&key.to_string()).longer;
            if !waits {
                return self.choose(now_ms, &menu, key, store);
            }
        }
        if !menu.dial_extensions || !key.is_ascii_digit() {
            return self.wrong(now_ms, store);
        }
        typed.push(key);
        let found = (self.env.numbers)(&typed);
        if found.whole && !found.longer {
            return self.typed_number(now_ms, &step, &typed, store);
        }
        // A lone choice key that starts numbers too waits to see which it is.
        let lone_choice = typed.len() == 1 && menu.choices.contains_key(&key);
        if !(found.whole || found.longer || lone_choice) {
            return self.wrong(now_ms, store);
        }
        if let State::Menu { digits, .. } = &mut self.state {
            *digits = typed;
        }
        self.out
            .set_timer(now_ms + u64::from(menu.timeout_secs) * 1000);
    }

    /// The caller stopped typing (or never started).
    fn menu_timeout(&mut self, now_ms: u64, store: &mut MessageStore) {
        let State::Menu { step, digits, .. } = &self.state else {
            return;
        };
        let (step, typed) = (step.clone(), digits.clone());
        let Some(menu) = self.menu(&step).cloned() else {
            return self.goodbye();
        };
        let mut keys = typed.chars();
        match (keys.next(), keys.next()) {
            (None, _) => self.wrong(now_ms, store),
            (Some(key), None) if menu.choices.contains_key(&key) => {
                self.choose(now_ms, &menu, key, store)
            }
            _ => self.typed_number(now_ms, &step, &typed, store),
        }
    }

    fn choose(&mut self, now_ms: u64, menu: &Menu, key: char, store: &mut MessageStore) {
        if let Some(var) = &menu.variable {
            self.variables.insert(var.clone(), key.to_string());
        }
        let Some(next) = menu.choices.get(&key) else {
            return self.wrong(now_ms, store);
        };
        self.enter(now_ms, &next.clone(), store);
    }

    fn typed_number(&mut self, now_ms: u64, menu: &str, number: &str, store: &mut MessageStore) {
        if !(self.env.numbers)(number).whole {
            return self.wrong(now_ms, store);
        }
        let back = Fallback::Menu(menu.to_string());
        self.announce_transfer(number.to_string(), &[], back, now_ms);
    }

    /// No key, or a wrong one: the menu again, or its failure.
    fn wrong(&mut self, now_ms: u64, store: &mut MessageStore) {
        let State::Menu { step, tries, .. } = &self.state else {
            return;
        };
        let (step, tries) = (step.clone(), *tries);
        let (retries, on_fail) = self
            .menu(&step)
            .map_or((0, None), |m| (m.retries, m.on_fail.clone()));
        if tries >= retries {
            return match on_fail {
                Some(next) => self.enter(now_ms, &next, store),
                None => self.goodbye(),
            };
        }
        self.state = State::Menu {
            step,
            tries: tries + 1,
            digits: String::new(),
            before: Some(Prompt::AttendantInvalid),
        };
        self.say_menu(now_ms);
    }

    fn announce_transfer(
        &mut self,
        to: String,
        say: &[FlowPrompt],
        on_fail: Fallback,
        now_ms: u64,
    ) {
        let mut items = play_items(say);
        if items.is_empty() {
            items.push(Prompt::AttendantTransferring.into());
        }
        let _ = now_ms;
        self.out.play(items);
        self.state = State::Announcing { to, on_fail };
    }

    fn transfer_failed(&mut self, now_ms: u64, on_fail: Fallback, store: &mut MessageStore) {
        match on_fail {
            Fallback::Step(next) => self.enter(now_ms, &next, store),
            Fallback::HangUp => self.goodbye(),
            Fallback::Menu(step) => {
                self.state = State::Menu {
                    step,
                    tries: 0,
                    digits: String::new(),
                    before: Some(Prompt::AttendantUnreachable),
                };
                self.say_menu(now_ms);
            }
        }
    }

    fn leave_mail(
        &mut self,
        now_ms: u64,
        mailbox: &str,
        say: &[FlowPrompt],
        store: &mut MessageStore,
    ) {
        let Ok(id) = MailboxId::new(mailbox) else {
            tracing::error!(mailbox, "call flow names no mailbox");
            return self.goodbye();
        };
        let call = DepositCall {
            mailbox: id,
            reason: DepositReason::Direct,
            extension: Some(mailbox.to_string()),
            caller_number: self.call.caller_number.clone(),
            caller_name: self.call.caller_name.clone(),
            active_profile: None,
        };
        let items = play_items(say);
        let deposit = if items.is_empty() {
            Deposit::start(now_ms, call, DepositSettings::default(), store)
        } else {
            Deposit::start_with_greeting(call, DepositSettings::default(), items)
        };
        self.delegate(Box::new(deposit));
    }

    fn get_mail(&mut self, now_ms: u64, mailbox: &Option<String>, store: &mut MessageStore) {
        let entry = match mailbox.as_deref().map(MailboxId::new) {
            Some(Ok(id)) => CollectEntry::Pin(id),
            Some(Err(_)) => return self.goodbye(),
            None => CollectEntry::AskMailbox,
        };
        let lookup = self.env.mailboxes.clone();
        let collect = Collect::start(
            now_ms,
            entry,
            CollectSettings::default(),
            Box::new(move |n: &str| lookup(n)),
            store,
        );
        self.delegate(Box::new(collect));
    }

    fn delegate(&mut self, sub: Box<dyn Dialogue + Send>) {
        self.out.stop();
        self.out.clear_timer();
        self.sub = Some(sub);
        self.state = State::Delegated;
    }

    /// "Goodbye." and hang up.
    fn goodbye(&mut self) {
        self.out.play(vec![Prompt::Goodbye.into()]);
        self.state = State::Saying {
            then: After::HangUp,
        };
    }

    fn end(&mut self) {
        self.out.hang_up();
        self.state = State::Done;
    }

    fn play_ended(&mut self, now_ms: u64, store: &mut MessageStore) {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Saying { then } => self.after(now_ms, then, store),
            State::Announcing { to, on_fail } => {
                self.out.push(Action::Transfer { to });
                self.state = State::Transferring { on_fail };
            }
            State::RecordPrompt {
                variable,
                max_ms,
                then,
            } => {
                self.out.push(Action::StartClip { name: variable });
                self.out.set_timer(now_ms + max_ms);
                self.state = State::Recording { then };
            }
            State::ScreenAnnouncing {
                to,
                announce,
                on_fail,
            } => {
                self.out.push(Action::ScreenTransfer { to });
                self.state = State::ScreenRinging { announce, on_fail };
            }
            state @ State::Menu { .. } => {
                self.state = state;
                let State::Menu { step, .. } = &self.state else {
                    return;
                };
                let timeout = self.menu(step).map_or(5, |m| m.timeout_secs);
                self.out.set_timer(now_ms + u64::from(timeout) * 1000);
            }
            other => self.state = other,
        }
    }
}

impl Dialogue for Flow {
    fn handle(&mut self, now_ms: u64, input: Input, store: &mut MessageStore) {
        if let Some(sub) = self.sub.as_mut() {
            return sub.handle(now_ms, input, store);
        }
        match (&self.state, input) {
            (State::Done, _) => {}
            (_, Input::HungUp) => {
                self.out.caller_hung_up();
                self.end();
            }
            (State::ScreenAsking { tag: playing, .. }, Input::PlayFinished(tag))
                if *playing == tag =>
            {
                self.screen_play_ended(now_ms);
            }
            (_, Input::PlayFinished(tag)) if self.out.finished(tag) => {
                self.play_ended(now_ms, store);
            }
            (State::Recording { .. }, Input::Digit('#') | Input::Silence) => {
                self.clip_ends(now_ms, store);
            }
            (State::ScreenRinging { .. }, Input::ScreenAnswered) => self.screen_answered(),
            (State::ScreenRinging { .. } | State::ScreenAsking { .. }, Input::ScreenFailed) => {
                self.screen_failed(now_ms, store);
            }
            (State::ScreenAsking { .. }, Input::TargetDigit(key)) => {
                self.screen_key(now_ms, key, store);
            }
            (State::Menu { .. }, Input::Digit(key)) => self.menu_key(now_ms, key, store),
            (State::Transferring { .. }, Input::Transferred) => {
                self.out.done = true;
                self.state = State::Done;
            }
            (State::Transferring { on_fail }, Input::TransferFailed) => {
                let on_fail = on_fail.clone();
                self.transfer_failed(now_ms, on_fail, store);
            }
            _ => {}
        }
    }

    fn handle_timeout(&mut self, now_ms: u64, store: &mut MessageStore) {
        if let Some(sub) = self.sub.as_mut() {
            return sub.handle_timeout(now_ms, store);
        }
        if !self.out.timer_due(now_ms) {
            return;
        }
        match self.state {
            State::Recording { .. } => self.clip_ends(now_ms, store),
            State::ScreenAsking { .. } => self.screen_refused(now_ms, store),
            _ => self.menu_timeout(now_ms, store),
        }
    }

    fn poll_action(&mut self) -> Option<Action> {
        if let Some(action) = self.out.pop() {
            return Some(action);
        }
        self.sub.as_mut()?.poll_action()
    }

    fn poll_timeout(&self) -> Option<u64> {
        match &self.sub {
            Some(sub) => sub.poll_timeout(),
            None => self.out.deadline(),
        }
    }

    fn is_finished(&self) -> bool {
        match &self.sub {
            Some(sub) => sub.is_finished(),
            None => self.out.is_finished(),
        }
    }
}

/// What to play for `say`: built-in prompts by name, files by path, the call's
/// recordings by their name. A name that is no
/// built-in prompt is logged and left out (the binary checks names when a configuration
/// is applied, so this is a prompt removed since).
fn play_items(say: &[FlowPrompt]) -> Vec<PlayItem> {
    say.iter()
        .filter_map(|p| match p {
            FlowPrompt::BuiltIn(name) => {
                let found = Prompt::from_name(name);
                if found.is_none() {
                    tracing::error!(prompt = %name, "call flow prompt not built in");
                }
                found.map(PlayItem::from)
            }
            FlowPrompt::File(path) => Some(PlayItem::File(PathBuf::from(path))),
            FlowPrompt::Recording(name) => Some(PlayItem::Clip(name.clone())),
        })
        .collect()
}
