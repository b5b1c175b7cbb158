//! The greetings menu: recording, hearing and deleting the normal greeting, and the
//! recorded name. (Temporary and time-profile greetings are managed elsewhere, e.g. from
//! the user portal; they are recorded the same way.)

use super::{Collect, State};
use crate::dialogue::io::{Action, Commit, Finish, PlayItem, RecordPurpose, RecordingReport};
use crate::dialogue::prompt::Prompt;
use crate::{GreetingSlot, MessageStore};

impl Collect {
    pub(super) fn greetings_menu(&mut self, preamble: Vec<PlayItem>) {
        self.ask(
            State::GreetingsMenu,
            preamble,
            vec![Prompt::GreetingsMenu.into()],
            false,
        );
    }

    pub(super) fn greetings_key(&mut self, key: char, store: &mut MessageStore) {
        match key {
            '1' => self.before_recording(GreetingSlot::Normal),
            '2' => self.hear(store, GreetingSlot::Normal, Prompt::NoGreeting),
            '3' => match store.delete_greeting(&self.own(), &GreetingSlot::Normal) {
                Ok(true) => self.greetings_menu(vec![Prompt::GreetingDeleted.into()]),
                Ok(false) => self.greetings_menu(vec![Prompt::NoGreeting.into()]),
                Err(e) => self.fail("deleting a greeting", &e),
            },
            '4' => self.before_recording(GreetingSlot::Name),
            '5' => self.hear(store, GreetingSlot::Name, Prompt::NoName),
            '*' => self.main_menu(Vec::new()),
            _ => {}
        }
    }

    /// Plays the greeting in `slot`, or `missing` when there is none; then the menu.
    fn hear(&mut self, store: &MessageStore, slot: GreetingSlot, missing: Prompt) {
        match store.greeting(&self.own(), &slot) {
            Ok(Some(g)) => self.greetings_menu(vec![PlayItem::Greeting {
                path: store.greeting_path(&g),
                slot: g.slot,
            }]),
            Ok(None) => self.greetings_menu(vec![missing.into()]),
            Err(e) => self.fail("reading a greeting", &e),
        }
    }

    /// "Record your greeting after the tone", the tone; the recording starts when they
    /// have played.
    fn before_recording(&mut self, slot: GreetingSlot) {
        let words = match slot {
            GreetingSlot::Name => Prompt::RecordName,
            _ => Prompt::RecordGreeting,
        };
        self.step = Default::default();
        self.state = State::BeforeRecording(slot);
        self.out.play(vec![words.into(), Prompt::Beep.into()]);
    }

    pub(super) fn start_recording(&mut self, now_ms: u64, slot: GreetingSlot) {
        let max = match slot {
            GreetingSlot::Name => self.settings.max_name_ms,
            _ => self.settings.max_greeting_ms,
        };
        self.out.push(Action::StartRecording {
            mailbox: self.own(),
            purpose: RecordPurpose::Greeting(slot.clone()),
        });
        self.out.set_timer(now_ms.saturating_add(max));
        self.state = State::Recording(slot);
    }

    /// `#`, silence or the maximum length: the greeting is kept.
    pub(super) fn finish_recording(&mut self, now_ms: u64, slot: GreetingSlot) {
        self.out.clear_timer();
        self.out
            .push(Action::FinishRecording(Finish::Keep(Commit::Greeting {
                slot: slot.clone(),
                recorded_at: now_ms / 1000,
            })));
        self.state = State::Storing(slot);
    }

    /// What became of a greeting recording (or the writer failed while recording).
    pub(super) fn recording_report(&mut self, report: RecordingReport) {
        let (State::Storing(slot) | State::Recording(slot)) = self.state.clone() else {
            return;
        };
        self.out.clear_timer();
        if self.out.caller_gone {
            return self.end();
        }
        let said = match (report, slot) {
            (RecordingReport::Stored { .. }, GreetingSlot::Name) => Prompt::NameSaved,
            (RecordingReport::Stored { .. }, _) => Prompt::GreetingSaved,
            (RecordingReport::TooShort { .. }, _) => Prompt::NothingRecorded,
            (RecordingReport::DiskFull | RecordingReport::Failed, _) => Prompt::RecordingFailed,
        };
        self.greetings_menu(vec![said.into()]);
    }
}
