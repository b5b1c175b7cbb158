//! Collecting messages: logging in, the main menu, listening to messages, greetings and
//! changing the PIN.
//!
//! ```text
//!  entry ─ Trusted ──────────────────────────────────────────────▶ counts + MainMenu
//!        ─ Pin(mailbox) ───────────────▶ AskPin ─ right ──────────▶ counts + MainMenu
//!        ─ AskMailbox ─▶ AskMailbox ─#─▶ AskPin ─ right, must change ─▶ NewPin ─▶ RepeatPin
//!                                          │  wrong ─▶ again (AskMailbox when it was typed);
//!                                          │  the 3rd wrong of the call ─▶ goodbye
//!                                          └ locked ─▶ "locked", goodbye
//!  MainMenu ─1─▶ Message (new)   ─2─▶ Message (saved)   ─3─▶ GreetingsMenu
//!           ─4─▶ NewPin ─▶ RepeatPin ─▶ MainMenu        ─*─▶ MainMenu again   ─#─▶ goodbye
//!  Message ── play ends ─▶ options (the same keys) ── keys: see below
//!  GreetingsMenu ─1/4─▶ BeforeRecording ─▶ Recording ─▶ Storing ─▶ GreetingsMenu
//!  any question ── no key for 5 s ─▶ asked again; after the 3rd repeat ─▶ goodbye
//! ```
//!
//! # Keys
//!
//! | where | key | does |
//! | --- | --- | --- |
//! | main menu | `1` | play new messages (each becomes old as it starts to play) |
//! | | `2` | play saved messages (old and saved ones: heard and still kept) |
//! | | `3` | greetings menu |
//! | | `4` | change the PIN |
//! | | `*` | say the menu again |
//! | | `#` | goodbye, hang up |
//! | a message, while it plays or after | `4` | previous message |
//! | | `5` | play it again |
//! | | `6` | next message |
//! | | `7` | delete it, go on to the next |
//! | | `8` | forward it: mailbox number then `#` (`*` cancels) |
//! | | `9` | save it, go on to the next |
//! | | `0` | call the caller back (transfer to their number) |
//! | | `*` | back to the main menu |
//! | | `#` | while it plays: skip to its end (the options); after: next message |
//! | greetings menu | `1` | record the normal greeting (`#` ends it, `*` cancels) |
//! | | `2` | hear the normal greeting |
//! | | `3` | delete the normal greeting |
//! | | `4` | record the name (`#` ends it, `*` cancels) |
//! | | `5` | hear the name |
//! | | `*` | back to the main menu |
//! | any number entry | `#` | done (so is a pause of 5 s after some digits) |
//! | | `*` | start again (PIN, mailbox) or cancel (new PIN when not forced, forwarding) |
//!
//! Any key stops the prompt playing (barge-in); keys a menu does not know are ignored.
//!
//! "Saved messages" in the counts and under `2` are the heard ones still in the mailbox,
//! old and saved alike; `9` marks one [`MessageState::Saved`], which only keeps it from
//! the automatic clean-up to come.
//!
//! A caller who is not trusted gets at most [`CollectSettings::max_login_attempts`] PIN
//! tries per call, besides the store's lockout. A mailbox number that names no mailbox
//! gets the same "That PIN is not correct" as a wrong PIN, so that callers cannot find
//! out which mailboxes exist. A store error ends the call with "voicemail is not
//! available" (logged).
//!
//! Files: this one holds the state, the questions (play, wait, ask again) and the input
//! dispatch; `login` the PIN steps, `browse` the messages, `greetings` the greetings menu
//! and its recordings.

mod browse;
mod greetings;
mod login;

use crate::dialogue::io::{Action, Finish, Input, PlayItem};
use crate::dialogue::outbox::Outbox;
use crate::dialogue::prompt::Prompt;
use crate::dialogue::Dialogue;
use crate::{GreetingSlot, MailboxId, Message, MessageState, MessageStore, VoicemailError};
use std::fmt;

/// Turns what a caller typed (a mailbox or extension number) into a mailbox, or `None`
/// when it names none: for logging in from outside and for forwarding. A hunt group's
/// number, for example, may name a mailbox called after the group.
pub type MailboxLookup = Box<dyn Fn(&str) -> Option<MailboxId> + Send>;

/// How the caller reaches their mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectEntry {
    /// From a phone trusted for this mailbox (the owner's own, configured to need no PIN):
    /// straight in.
    Trusted(MailboxId),
    /// The mailbox is known (the own phone, or a short code naming it); the PIN is asked.
    Pin(MailboxId),
    /// From anywhere else: mailbox number, then PIN.
    AskMailbox,
}

/// How collection behaves; [`CollectSettings::default`] gives the usual values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectSettings {
    /// How long a question waits for a key after it was said, and for the next digit of a
    /// number. Default 5000 ms.
    pub digit_timeout_ms: u64,
    /// How many times a question is said again for want of a key before the caller is
    /// told goodbye. Default 3.
    pub max_repeats: u32,
    /// Wrong PINs in one call before goodbye. Default 3.
    pub max_login_attempts: u32,
    /// The longest greeting. Default 120 000 ms.
    pub max_greeting_ms: u64,
    /// The longest recorded name. Default 10 000 ms.
    pub max_name_ms: u64,
}

impl Default for CollectSettings {
    fn default() -> Self {
        CollectSettings {
            digit_timeout_ms: 5000,
            max_repeats: 3,
            max_login_attempts: 3,
            max_greeting_ms: 120_000,
            max_name_ms: 10_000,
        }
    }
}

/// Where the dialogue is. Each state but the last four asks a question (see [`Step`]).
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    AskMailbox,
    AskPin,
    NewPin,
    RepeatPin,
    MainMenu,
    /// A message of the list plays (`playing`) or its options were said.
    Message {
        playing: bool,
    },
    ForwardTo,
    GreetingsMenu,
    /// "Record after the tone" and the tone play.
    BeforeRecording(GreetingSlot),
    Recording(GreetingSlot),
    /// Waiting for the store to say what became of the recording.
    Storing(GreetingSlot),
    /// "Please hold." plays; then the transfer.
    Transferring(String),
    /// The last words play; then hang up.
    Closing,
    Done,
}

/// The question being asked: said, then waited on; said again when no key comes.
#[derive(Debug, Default)]
struct Step {
    /// What is said again.
    question: Vec<PlayItem>,
    /// How many times it was said again.
    repeats: u32,
    /// `Some` while a number is typed: the digits so far.
    digits: Option<String>,
}

/// The messages being listened to.
#[derive(Debug, Default)]
struct Browse {
    list: Vec<Message>,
    index: usize,
}

/// The dialogue of a caller collecting their messages. Create it with
/// [`Collect::start`], then drive it through [`Dialogue`].
pub struct Collect {
    settings: CollectSettings,
    lookup: MailboxLookup,
    /// The mailbox: the entry's, the typed one, and once logged in the caller's.
    mailbox: Option<MailboxId>,
    /// The mailbox number was typed (a wrong PIN asks for it again).
    typed_mailbox: bool,
    logged_in: bool,
    login_failures: u32,
    /// The PIN change was demanded by the store: it cannot be cancelled.
    forced_change: bool,
    first_pin: Option<String>,
    browse: Browse,
    state: State,
    step: Step,
    out: Outbox,
}

impl fmt::Debug for Collect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Collect")
            .field("mailbox", &self.mailbox)
            .field("logged_in", &self.logged_in)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Collect {
    /// Starts the dialogue at `now_ms` (unix milliseconds; nothing is timed until the
    /// first prompt has played, so it is not used yet): the first question plays, or for a
    /// trusted caller the counts and the main menu.
    pub fn start(
        now_ms: u64,
        entry: CollectEntry,
        settings: CollectSettings,
        lookup: MailboxLookup,
        store: &mut MessageStore,
    ) -> Collect {
        let _ = now_ms;
        let mut c = Collect {
            settings,
            lookup,
            mailbox: None,
            typed_mailbox: false,
            logged_in: false,
            login_failures: 0,
            forced_change: false,
            first_pin: None,
            browse: Browse::default(),
            state: State::Done,
            step: Step::default(),
            out: Outbox::default(),
        };
        match entry {
            CollectEntry::Trusted(mailbox) => {
                c.mailbox = Some(mailbox);
                c.enter(store, Vec::new());
            }
            CollectEntry::Pin(mailbox) => {
                c.mailbox = Some(mailbox);
                c.ask_pin(Vec::new());
            }
            CollectEntry::AskMailbox => {
                c.typed_mailbox = true;
                c.ask_mailbox(Vec::new());
            }
        }
        c
    }

    /// The mailbox once the caller is in it.
    pub fn mailbox(&self) -> Option<&MailboxId> {
        self.mailbox.as_ref().filter(|_| self.logged_in)
    }

    /// Asks a question: says `preamble` then `question`; when no key comes, says
    /// `question` again. `entry`: a number is typed (ended by `#`).
    fn ask(&mut self, state: State, preamble: Vec<PlayItem>, question: Vec<PlayItem>, entry: bool) {
        self.state = state;
        let mut items = preamble;
        items.extend(question.iter().cloned());
        self.step = Step {
            question,
            repeats: 0,
            digits: entry.then(String::new),
        };
        self.out.play(items);
    }

    fn main_menu(&mut self, preamble: Vec<PlayItem>) {
        self.ask(
            State::MainMenu,
            preamble,
            vec![Prompt::MainMenu.into()],
            false,
        );
    }

    /// Says `words` then "Goodbye." and hangs up; just ends if the caller is gone.
    fn close(&mut self, words: Vec<PlayItem>) {
        self.step = Step::default();
        if self.out.caller_gone {
            self.end();
            return;
        }
        let mut items = words;
        items.push(Prompt::Goodbye.into());
        self.out.play(items);
        self.state = State::Closing;
    }

    fn end(&mut self) {
        self.out.hang_up();
        self.state = State::Done;
    }

    /// A store error: logged, and the caller told voicemail is not available.
    fn fail(&mut self, doing: &'static str, e: &VoicemailError) {
        tracing::error!(mailbox = ?self.mailbox, error = %e, "voicemail: {doing} failed");
        self.close(vec![Prompt::Unavailable.into()]);
    }

    /// The logged-in mailbox (set before any state that needs it).
    fn own(&self) -> MailboxId {
        self.mailbox
            .clone()
            .expect("states past the login have a mailbox")
    }

    fn play_ended(&mut self, now_ms: u64) {
        match self.state.clone() {
            State::Closing => self.end(),
            State::Transferring(to) => {
                self.out.push(Action::Transfer { to });
                self.out.done = true;
                self.state = State::Done;
            }
            State::Message { playing: true } => self.message_options(),
            State::BeforeRecording(slot) => self.start_recording(now_ms, slot),
            State::Recording(_) | State::Storing(_) | State::Done => {}
            _ => self
                .out
                .set_timer(now_ms.saturating_add(self.settings.digit_timeout_ms)),
        }
    }

    fn digit(&mut self, now_ms: u64, key: char, store: &mut MessageStore) {
        if !matches!(key, '0'..='9' | '*' | '#') {
            return;
        }
        match self.state.clone() {
            State::Closing | State::Transferring(_) | State::Storing(_) | State::Done => {}
            State::BeforeRecording(_) => {
                if key == '*' {
                    self.out.stop();
                    self.greetings_menu(Vec::new());
                }
            }
            State::Recording(slot) => match key {
                '#' => self.finish_recording(now_ms, slot),
                '*' => {
                    self.out.clear_timer();
                    self.out.push(Action::FinishRecording(Finish::Discard));
                    self.greetings_menu(vec![Prompt::NothingRecorded.into()]);
                }
                _ => {}
            },
            _ if self.step.digits.is_some() => self.entry_key(now_ms, key, store),
            state => self.menu_key(state, key, store),
        }
    }

    /// A key while a number is typed: `#` ends it, `*` starts again or cancels.
    fn entry_key(&mut self, now_ms: u64, key: char, store: &mut MessageStore) {
        self.out.stop();
        let digits = self.step.digits.get_or_insert_with(String::new);
        match key {
            '#' => {
                let typed = std::mem::take(digits);
                self.out.clear_timer();
                self.submit(now_ms, typed, store);
            }
            '*' => {
                digits.clear();
                self.out.clear_timer();
                self.cancel_entry();
            }
            d => {
                digits.push(d);
                self.out
                    .set_timer(now_ms.saturating_add(self.settings.digit_timeout_ms));
            }
        }
    }

    /// A key in a menu; keys the menu does not know are ignored (what plays goes on).
    fn menu_key(&mut self, state: State, key: char, store: &mut MessageStore) {
        let known = match state {
            State::MainMenu => matches!(key, '1'..='4' | '*' | '#'),
            State::Message { .. } => !matches!(key, '1'..='3'),
            State::GreetingsMenu => matches!(key, '1'..='5' | '*'),
            _ => false,
        };
        if !known {
            return;
        }
        self.out.stop();
        self.out.clear_timer();
        match state {
            State::MainMenu => self.main_menu_key(key, store),
            State::Message { playing } => self.message_key(key, playing, store),
            State::GreetingsMenu => self.greetings_key(key, store),
            _ => {}
        }
    }

    /// A typed number is complete (`#`, or a pause after some digits).
    fn submit(&mut self, now_ms: u64, typed: String, store: &mut MessageStore) {
        match self.state {
            State::AskMailbox => self.mailbox_typed(typed),
            State::AskPin => self.pin_typed(now_ms, typed, store),
            State::NewPin => self.new_pin_typed(typed, store),
            State::RepeatPin => self.repeated_pin_typed(typed, store),
            State::ForwardTo => self.forward_typed(now_ms, typed, store),
            _ => {}
        }
    }

    /// `*` in a number entry.
    fn cancel_entry(&mut self) {
        match self.state {
            State::AskMailbox => self.ask_mailbox(Vec::new()),
            State::AskPin => self.ask_pin(Vec::new()),
            State::NewPin | State::RepeatPin if self.forced_change => self.ask_new_pin(Vec::new()),
            State::NewPin | State::RepeatPin => self.main_menu(Vec::new()),
            State::ForwardTo => self.ask(
                State::Message { playing: false },
                Vec::new(),
                vec![Prompt::MessageOptions.into()],
                false,
            ),
            _ => {}
        }
    }

    fn main_menu_key(&mut self, key: char, store: &mut MessageStore) {
        match key {
            '1' => self.browse_messages(store, &[MessageState::New]),
            '2' => self.browse_messages(store, &[MessageState::Old, MessageState::Saved]),
            '3' => self.greetings_menu(Vec::new()),
            '4' => {
                self.forced_change = false;
                self.ask_new_pin(Vec::new());
            }
            '*' => self.main_menu(Vec::new()),
            _ => self.close(Vec::new()),
        }
    }

    fn timeout(&mut self, now_ms: u64, store: &mut MessageStore) {
        if let State::Recording(slot) = self.state.clone() {
            self.finish_recording(now_ms, slot);
            return;
        }
        if let Some(digits) = self.step.digits.as_mut() {
            if !digits.is_empty() {
                let typed = std::mem::take(digits);
                self.submit(now_ms, typed, store);
                return;
            }
        }
        self.step.repeats += 1;
        if self.step.repeats > self.settings.max_repeats {
            self.close(Vec::new());
        } else {
            let question = self.step.question.clone();
            self.out.play(question);
        }
    }
}

impl Dialogue for Collect {
    fn handle(&mut self, now_ms: u64, input: Input, store: &mut MessageStore) {
        if self.state == State::Done {
            return;
        }
        match input {
            Input::HungUp => {
                self.out.caller_hung_up();
                match self.state {
                    State::Recording(_) => {
                        // A greeting is kept only when its end is confirmed with `#`.
                        self.out.push(Action::FinishRecording(Finish::Discard));
                        self.end();
                    }
                    // The report is still to come; then the dialogue ends.
                    State::Storing(_) => {}
                    _ => self.end(),
                }
            }
            Input::PlayFinished(tag) => {
                if self.out.finished(tag) {
                    self.play_ended(now_ms);
                }
            }
            Input::Digit(key) => self.digit(now_ms, key, store),
            Input::Silence => {
                if let State::Recording(slot) = self.state.clone() {
                    self.finish_recording(now_ms, slot);
                }
            }
            Input::Recording(report) => self.recording_report(report),
            // Only a call flow transfers or screens.
            Input::Transferred
            | Input::TransferFailed
            | Input::ScreenAnswered
            | Input::ScreenFailed
            | Input::TargetDigit(_) => {}
        }
    }

    fn handle_timeout(&mut self, now_ms: u64, store: &mut MessageStore) {
        if self.out.timer_due(now_ms) {
            self.timeout(now_ms, store);
        }
    }

    fn poll_action(&mut self) -> Option<Action> {
        self.out.pop()
    }

    fn poll_timeout(&self) -> Option<u64> {
        self.out.deadline()
    }

    fn is_finished(&self) -> bool {
        self.out.is_finished()
    }
}
