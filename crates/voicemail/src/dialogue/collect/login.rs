//! Logging in (mailbox number, PIN, lockout), the counts said on entry, and choosing a
//! new PIN (on demand from the main menu, or forced on the first login).

use super::{Collect, State};
use crate::dialogue::io::PlayItem;
use crate::dialogue::prompt::{say_number, Prompt};
use crate::{MessageStore, PinCheck, PinRefusal, VoicemailError};

impl Collect {
    pub(super) fn ask_mailbox(&mut self, preamble: Vec<PlayItem>) {
        self.mailbox = None;
        self.ask(
            State::AskMailbox,
            preamble,
            vec![Prompt::EnterMailbox.into()],
            true,
        );
    }

    pub(super) fn ask_pin(&mut self, preamble: Vec<PlayItem>) {
        self.ask(State::AskPin, preamble, vec![Prompt::EnterPin.into()], true);
    }

    pub(super) fn mailbox_typed(&mut self, typed: String) {
        if typed.is_empty() {
            self.ask_mailbox(Vec::new());
            return;
        }
        // An unknown number still gets a PIN question: see the module documentation.
        self.mailbox = (self.lookup)(&typed);
        self.ask_pin(Vec::new());
    }

    pub(super) fn pin_typed(&mut self, now_ms: u64, pin: String, store: &mut MessageStore) {
        if pin.is_empty() {
            self.ask_pin(Vec::new());
            return;
        }
        let check = match &self.mailbox {
            Some(mailbox) => match store.verify_pin(mailbox, &pin, now_ms / 1000) {
                Ok(check) => check,
                Err(e) => return self.fail("checking a PIN", &e),
            },
            None => PinCheck::NoPin,
        };
        match check {
            PinCheck::Accepted { must_change } => {
                if must_change {
                    self.forced_change = true;
                    self.ask_new_pin(vec![Prompt::MustChangePin.into()]);
                } else {
                    self.enter(store, Vec::new());
                }
            }
            // No PIN (or no such mailbox) is refused like a wrong PIN.
            PinCheck::Wrong { .. } | PinCheck::NoPin => {
                self.login_failures += 1;
                let wrong = vec![Prompt::WrongPin.into()];
                if self.login_failures >= self.settings.max_login_attempts {
                    self.close(wrong);
                } else if self.typed_mailbox {
                    self.ask_mailbox(wrong);
                } else {
                    self.ask_pin(wrong);
                }
            }
            PinCheck::LockedOut { .. } => self.close(vec![Prompt::Locked.into()]),
        }
    }

    /// In: "You have N new messages and M saved messages", then the main menu.
    pub(super) fn enter(&mut self, store: &MessageStore, mut preamble: Vec<PlayItem>) {
        self.logged_in = true;
        let counts = match store.counts(&self.own()) {
            Ok(c) => c,
            Err(e) => return self.fail("counting messages", &e),
        };
        let saved = counts.old.saturating_add(counts.saved);
        preamble.push(Prompt::YouHave.into());
        preamble.extend(count(counts.new, Prompt::NewMessage, Prompt::NewMessages));
        preamble.push(Prompt::And.into());
        preamble.extend(count(saved, Prompt::SavedMessage, Prompt::SavedMessages));
        self.main_menu(preamble);
    }

    pub(super) fn ask_new_pin(&mut self, preamble: Vec<PlayItem>) {
        self.first_pin = None;
        self.ask(
            State::NewPin,
            preamble,
            vec![Prompt::EnterNewPin.into()],
            true,
        );
    }

    pub(super) fn new_pin_typed(&mut self, pin: String, store: &MessageStore) {
        if pin.is_empty() {
            self.ask_new_pin(Vec::new());
            return;
        }
        if let Err(refusal) = store.options().pin_policy.check(&pin, &self.own()) {
            self.ask_new_pin(refusal_prompts(refusal));
            return;
        }
        self.first_pin = Some(pin);
        self.ask(
            State::RepeatPin,
            Vec::new(),
            vec![Prompt::RepeatNewPin.into()],
            true,
        );
    }

    pub(super) fn repeated_pin_typed(&mut self, pin: String, store: &mut MessageStore) {
        if self.first_pin.as_deref() != Some(pin.as_str()) {
            self.ask_new_pin(vec![Prompt::PinsDiffer.into()]);
            return;
        }
        self.first_pin = None;
        match store.set_pin(&self.own(), &pin, false) {
            Ok(()) => {
                let changed = vec![Prompt::PinChanged.into()];
                if self.forced_change {
                    self.forced_change = false;
                    self.enter(store, changed);
                } else {
                    self.main_menu(changed);
                }
            }
            Err(VoicemailError::PinRefused(refusal)) => self.ask_new_pin(refusal_prompts(refusal)),
            Err(e) => self.fail("setting a PIN", &e),
        }
    }
}

/// "no new messages", "one new message", "three new messages".
fn count(n: u32, one: Prompt, many: Prompt) -> Vec<PlayItem> {
    let mut out: Vec<PlayItem> = if n == 0 {
        vec![Prompt::No.into()]
    } else {
        say_number(n).into_iter().map(PlayItem::from).collect()
    };
    out.push(if n == 1 { one } else { many }.into());
    out
}

/// Why a new PIN was refused, in words.
fn refusal_prompts(refusal: PinRefusal) -> Vec<PlayItem> {
    let with_number = |p: Prompt, n: usize| {
        let mut v = vec![PlayItem::from(p)];
        v.extend(
            say_number(u32::try_from(n).unwrap_or(u32::MAX))
                .into_iter()
                .map(PlayItem::from),
        );
        v.push(Prompt::Digits.into());
        v
    };
    match refusal {
        PinRefusal::TooShort { min } => with_number(Prompt::PinTooShort, min),
        PinRefusal::TooLong { max } => with_number(Prompt::PinTooLong, max),
        PinRefusal::AllSameDigit => vec![Prompt::PinSameDigit.into()],
        PinRefusal::Sequence => vec![Prompt::PinSequence.into()],
        PinRefusal::MailboxNumber => vec![Prompt::PinMailboxNumber.into()],
        // Not possible from a keypad (a typed number holds only digits).
        PinRefusal::NotDigits => vec![Prompt::PinRefused.into()],
    }
}
