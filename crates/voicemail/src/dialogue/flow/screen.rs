//! The two steps of a flow that work with the caller's own voice and a second party:
//! `record` (the caller's words kept for the call) and `assisted_transfer` (a screened
//! transfer, announced to its target, who accepts or refuses). How they run is drawn in
//! the parent module's diagram; the states they go through are its `State`.

use super::{play_items, After, Flow, State};
use crate::dialogue::io::Action;
use crate::dialogue::prompt::Prompt;
use crate::MessageStore;
use store::FlowAction;

/// How long the target of an assisted transfer has to press a key once its announcement
/// has been said (the keys prompt is said again meanwhile).
pub const SCREEN_KEY_TIMEOUT_MS: u64 = 10_000;

impl Flow {
    /// A `record` step: its words and the beep; the recording starts when they end.
    pub(super) fn start_record(&mut self, action: &FlowAction) {
        let FlowAction::Record {
            say,
            variable,
            max_secs,
            next,
        } = action
        else {
            return;
        };
        let mut items = play_items(say);
        items.push(Prompt::Beep.into());
        self.out.play(items);
        self.state = State::RecordPrompt {
            variable: variable.clone(),
            max_ms: u64::from(*max_secs) * 1000,
            then: next.clone().map_or(After::HangUp, After::Step),
        };
    }

    /// An `assisted_transfer` step: its words to the caller; the target rings when they
    /// end.
    pub(super) fn start_screening(&mut self, action: &FlowAction) {
        let FlowAction::AssistedTransfer {
            to,
            say,
            announce,
            on_fail,
        } = action
        else {
            return;
        };
        let mut items = play_items(say);
        if items.is_empty() {
            items.push(Prompt::AttendantTransferring.into());
        }
        self.out.play(items);
        self.state = State::ScreenAnnouncing {
            to: to.clone(),
            announce: announce.clone(),
            on_fail: on_fail.clone(),
        };
    }

    /// The recording of a `record` step ends (`#`, silence, its longest): kept, and on.
    pub(super) fn clip_ends(&mut self, now_ms: u64, store: &mut MessageStore) {
        let State::Recording { then } = std::mem::replace(&mut self.state, State::Done) else {
            return;
        };
        self.out.clear_timer();
        self.out.push(Action::FinishClip);
        self.after(now_ms, then, store);
    }

    /// The target of an assisted transfer answered: it hears who calls, then the keys.
    pub(super) fn screen_answered(&mut self) {
        let State::ScreenRinging { announce, on_fail } =
            std::mem::replace(&mut self.state, State::Done)
        else {
            return;
        };
        let mut items = play_items(&announce);
        items.push(Prompt::AttendantScreenKeys.into());
        let tag = self.out.play_to_target(items);
        self.state = State::ScreenAsking {
            on_fail,
            tag,
            timed: false,
        };
    }

    /// A play to the target ended: the keys prompt again, and the timer from the end of
    /// the first.
    pub(super) fn screen_play_ended(&mut self, now_ms: u64) {
        let State::ScreenAsking { timed, tag, .. } = &mut self.state else {
            return;
        };
        if !*timed {
            *timed = true;
            self.out.set_timer(now_ms + SCREEN_KEY_TIMEOUT_MS);
        }
        *tag = self
            .out
            .play_to_target(vec![Prompt::AttendantScreenKeys.into()]);
    }

    /// The target pressed a key: 1 takes the call, 2 refuses it; others are ignored.
    pub(super) fn screen_key(&mut self, now_ms: u64, key: char, store: &mut MessageStore) {
        match key {
            '1' => {
                self.out.clear_timer();
                self.out.push(Action::AcceptScreened);
                self.out.done = true;
                self.state = State::Done;
            }
            '2' => self.screen_refused(now_ms, store),
            _ => {}
        }
    }

    /// The target refused, or did not choose in time: it is hung up on.
    pub(super) fn screen_refused(&mut self, now_ms: u64, store: &mut MessageStore) {
        self.out.clear_timer();
        self.out.push(Action::RefuseScreened);
        self.screen_failed(now_ms, store);
    }

    /// The screened transfer is over without the target taking the call.
    pub(super) fn screen_failed(&mut self, now_ms: u64, store: &mut MessageStore) {
        let on_fail = match std::mem::replace(&mut self.state, State::Done) {
            State::ScreenRinging { on_fail, .. } | State::ScreenAsking { on_fail, .. } => on_fail,
            other => {
                self.state = other;
                return;
            }
        };
        self.out.clear_timer();
        match on_fail {
            Some(step) => self.enter(now_ms, &step, store),
            None => {
                let items = vec![Prompt::AttendantUnreachable.into(), Prompt::Goodbye.into()];
                self.out.play(items);
                self.state = State::Saying {
                    then: After::HangUp,
                };
            }
        }
    }
}
