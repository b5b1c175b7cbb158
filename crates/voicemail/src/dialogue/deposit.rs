//! Leaving a message: the greeting, the tone, the recording, and what the caller hears
//! after it.
//!
//! ```text
//!  Greeting ── play ends ─────────────────────────────────▶ Recording ─▶ StartRecording
//!     │  * or # ─▶ StopPlaying ─▶ Tone ── play ends ─────────▲
//!     │  0 (operator configured) ─▶ StopPlaying, "Please hold." ─▶ Transfer ─▶ done
//!     │  hang-up ─▶ done (no recording was started)
//!  Recording ── #, silence, hang-up, max length ─▶ FinishRecording(Keep) ─▶ Storing
//!     │  writer failed (disk full) ─▶ "could not be saved. Goodbye." ─▶ Closing
//!  Storing ── Stored ─▶ MailboxChanged, ["maximum length reached."] "saved. Goodbye." ─▶ Closing
//!     │  TooShort ─▶ "too short. Goodbye." ─▶ Closing
//!     │  DiskFull / Failed ─▶ "could not be saved. Goodbye." ─▶ Closing
//!  Closing ── play ends ─▶ HangUp ─▶ done
//! ```
//!
//! After the caller hangs up nothing more is played, but a recording in progress is still
//! kept (a caller who says their piece and hangs up has left a message) and, once stored,
//! reported with [`Action::MailboxChanged`].
//!
//! Keys (Voicemail Pro's conventions for callers): during the greeting `*` or `#` skips
//! to the tone and `0` goes to the operator when one is configured (else it is ignored);
//! during the recording `#` ends the message; other keys are ignored.
//!
//! Which greeting plays (see [`MessageStore::greeting_for`]): the temporary greeting unless
//! it has expired; else the greeting of the active time profile; else the normal greeting;
//! else a system prompt with the recorded name ("`<name>` is not available"); else one that
//! says the extension number digit by digit ("The person at extension 2 0 1 is not
//! available"); else "The person you are calling is not available". The system prompts
//! end with "Please leave a message after the tone. Press hash when you have finished."

use crate::dialogue::io::{
    Action, Commit, Finish, Input, PlayItem, RecordPurpose, RecordingReport,
};
use crate::dialogue::outbox::Outbox;
use crate::dialogue::prompt::{say_digits, Prompt};
use crate::dialogue::Dialogue;
use crate::{MailboxId, MessageKind, MessageStore, NewMessage};

/// Why the call came to voicemail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepositReason {
    /// The extension did not answer in time.
    NoAnswer,
    /// The extension was busy.
    Busy,
    /// The extension is in do-not-disturb.
    DoNotDisturb,
    /// The caller asked for the mailbox directly (a short code, a transfer to voicemail).
    Direct,
}

/// How deposits behave; [`DepositSettings::default`] gives the usual values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositSettings {
    /// The longest message; at this length the recording ends and the caller is told.
    /// Default 120 000 ms. (The shortest is the store's
    /// [`crate::StoreOptions::min_message_ms`].)
    pub max_message_ms: u64,
    /// Where `0` during the greeting goes (the operator, reception); `None`: `0` does
    /// nothing.
    pub operator: Option<String>,
}

impl Default for DepositSettings {
    fn default() -> Self {
        DepositSettings {
            max_message_ms: 120_000,
            operator: None,
        }
    }
}

/// The call that leaves a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepositCall {
    /// The mailbox the message goes to.
    pub mailbox: MailboxId,
    /// Why the call is here (chooses "is on another call" or "is not available" in the
    /// system greeting).
    pub reason: DepositReason,
    /// The number the system greeting says ("The person at extension 2 0 1"); `None`: the
    /// mailbox name when it is all digits.
    pub extension: Option<String>,
    /// The caller's number, for the envelope (and for calling back).
    pub caller_number: Option<String>,
    /// The caller's name, for the envelope.
    pub caller_name: Option<String>,
    /// The time profile in force now, if any (chooses a profile's greeting).
    pub active_profile: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// `#` or silence.
    Caller,
    /// The maximum length.
    MaxLength,
    /// The caller hung up.
    HungUp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The greeting and the tone play.
    Greeting,
    /// The tone alone plays (the greeting was skipped).
    Tone,
    /// Recording, since `received_at` (unix seconds).
    Recording { received_at: u64 },
    /// Waiting for the store to say what became of the message.
    Storing { ending: Ending },
    /// The last words play; then hang up.
    Closing,
    /// "Please hold." plays; then transfer to the operator.
    Transferring,
    /// Nothing more to do.
    Done,
}

/// The dialogue of a caller leaving a message. Create it with [`Deposit::start`], then
/// drive it through [`Dialogue`].
#[derive(Debug)]
pub struct Deposit {
    call: DepositCall,
    settings: DepositSettings,
    state: State,
    out: Outbox,
}

impl Deposit {
    /// Starts the dialogue at `now_ms` (unix milliseconds): the greeting plays.
    pub fn start(
        now_ms: u64,
        call: DepositCall,
        settings: DepositSettings,
        store: &MessageStore,
    ) -> Deposit {
        let greeting = greeting_items(&call, store, now_ms / 1000);
        Deposit::start_with_greeting(call, settings, greeting)
    }

    /// Starts the dialogue with `greeting` in place of the mailbox's (a call flow's own
    /// words before the tone); the tone follows it.
    pub fn start_with_greeting(
        call: DepositCall,
        settings: DepositSettings,
        greeting: Vec<PlayItem>,
    ) -> Deposit {
        let mut d = Deposit {
            call,
            settings,
            state: State::Greeting,
            out: Outbox::default(),
        };
        let mut items = greeting;
        items.push(Prompt::Beep.into());
        d.out.play(items);
        d
    }

    fn start_recording(&mut self, now_ms: u64) {
        self.out.push(Action::StartRecording {
            mailbox: self.call.mailbox.clone(),
            purpose: RecordPurpose::Message,
        });
        self.out
            .set_timer(now_ms.saturating_add(self.settings.max_message_ms));
        self.state = State::Recording {
            received_at: now_ms / 1000,
        };
    }

    fn finish_recording(&mut self, ending: Ending, received_at: u64) {
        self.out.clear_timer();
        let envelope = NewMessage {
            kind: MessageKind::Message,
            caller_number: self.call.caller_number.clone(),
            caller_name: self.call.caller_name.clone(),
            received_at,
            urgent: false,
        };
        self.out
            .push(Action::FinishRecording(Finish::Keep(Commit::Message(
                envelope,
            ))));
        self.state = State::Storing { ending };
    }

    /// Says `words` then "Goodbye." and hangs up; just ends if the caller is gone.
    fn close(&mut self, words: &[Prompt]) {
        if self.out.caller_gone {
            self.end();
            return;
        }
        let mut items: Vec<PlayItem> = words.iter().map(|&p| p.into()).collect();
        items.push(Prompt::Goodbye.into());
        self.out.play(items);
        self.state = State::Closing;
    }

    fn end(&mut self) {
        self.out.hang_up();
        self.state = State::Done;
    }

    fn play_ended(&mut self, now_ms: u64) {
        match self.state {
            State::Greeting | State::Tone => self.start_recording(now_ms),
            State::Closing => self.end(),
            State::Transferring => {
                if let Some(to) = self.settings.operator.clone() {
                    self.out.push(Action::Transfer { to });
                }
                self.out.done = true;
                self.state = State::Done;
            }
            State::Recording { .. } | State::Storing { .. } | State::Done => {}
        }
    }

    fn stored(&mut self, ending: Ending, report: RecordingReport) {
        match report {
            RecordingReport::Stored { .. } => {
                self.out
                    .push(Action::MailboxChanged(self.call.mailbox.clone()));
                if ending == Ending::MaxLength {
                    self.close(&[Prompt::MaxLength, Prompt::MessageSaved]);
                } else {
                    self.close(&[Prompt::MessageSaved]);
                }
            }
            RecordingReport::TooShort { .. } => self.close(&[Prompt::TooShort]),
            RecordingReport::DiskFull | RecordingReport::Failed => self.close(&[Prompt::NotSaved]),
        }
    }
}

impl Dialogue for Deposit {
    fn handle(&mut self, now_ms: u64, input: Input, _store: &mut MessageStore) {
        match (self.state, input) {
            (State::Done, _) => {}
            (State::Storing { ending }, Input::Recording(report)) => self.stored(ending, report),
            (State::Recording { .. }, Input::Recording(report)) => {
                // The writer failed while recording: there is nothing to finish.
                self.out.clear_timer();
                self.stored(Ending::Caller, report);
            }
            (State::Recording { received_at }, Input::HungUp) => {
                self.out.caller_hung_up();
                self.finish_recording(Ending::HungUp, received_at);
            }
            (_, Input::HungUp) => {
                self.out.caller_hung_up();
                if !matches!(self.state, State::Storing { .. }) {
                    self.end();
                }
            }
            // Only the end of the current play counts (it is then over).
            (_, Input::PlayFinished(tag)) if self.out.finished(tag) => self.play_ended(now_ms),
            (State::Greeting, Input::Digit('*' | '#')) => {
                self.out.stop();
                self.out.play(vec![Prompt::Beep.into()]);
                self.state = State::Tone;
            }
            (State::Greeting, Input::Digit('0')) if self.settings.operator.is_some() => {
                self.out.stop();
                self.out.play(vec![Prompt::PleaseHold.into()]);
                self.state = State::Transferring;
            }
            (State::Recording { received_at }, Input::Digit('#') | Input::Silence) => {
                self.finish_recording(Ending::Caller, received_at);
            }
            _ => {}
        }
    }

    fn handle_timeout(&mut self, now_ms: u64, _store: &mut MessageStore) {
        if !self.out.timer_due(now_ms) {
            return;
        }
        if let State::Recording { received_at } = self.state {
            self.finish_recording(Ending::MaxLength, received_at);
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

/// What a caller to `call.mailbox` hears before the tone (see the module documentation).
fn greeting_items(call: &DepositCall, store: &MessageStore, now: u64) -> Vec<PlayItem> {
    let mailbox = &call.mailbox;
    match store.greeting_for(mailbox, now, call.active_profile.as_deref()) {
        Ok(Some(g)) => {
            return vec![PlayItem::Greeting {
                path: store.greeting_path(&g),
                slot: g.slot,
            }]
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(%mailbox, error = %e, "greeting not read: the system greeting plays")
        }
    }
    let not_here = match call.reason {
        DepositReason::Busy => Prompt::IsBusy,
        _ => Prompt::IsNotAvailable,
    };
    let mut items = Vec::new();
    match store.recorded_name(mailbox) {
        Ok(Some(name)) => {
            items.push(PlayItem::Greeting {
                path: store.greeting_path(&name),
                slot: name.slot,
            });
            items.push(not_here.into());
        }
        other => {
            if let Err(e) = other {
                tracing::error!(%mailbox, error = %e, "recorded name not read");
            }
            let number = call.extension.as_deref().unwrap_or(mailbox.as_str());
            let digits = say_digits(number);
            let all_digits = number.bytes().all(|b| b.is_ascii_digit() || b == b'+');
            if digits.is_empty() || !all_digits {
                items.push(Prompt::PersonNotAvailable.into());
            } else {
                items.push(Prompt::ThePersonAtExtension.into());
                items.extend(digits.into_iter().map(PlayItem::from));
                items.push(not_here.into());
            }
        }
    }
    items.push(Prompt::LeaveMessage.into());
    items
}
