//! The part both dialogues share: the queue of actions, play tags, the one timer, and
//! whether the call is still there.

use crate::dialogue::io::{Action, PlayItem, PlayTag};
use std::collections::VecDeque;

/// Actions out, plus what a dialogue needs to know about its own plays and timer.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    actions: VecDeque<Action>,
    next_tag: u32,
    /// The play in progress, if any.
    playing: Option<PlayTag>,
    /// When `handle_timeout` must be called (unix ms).
    deadline: Option<u64>,
    /// The caller hung up: nothing more is played to them.
    pub(crate) caller_gone: bool,
    /// The dialogue has nothing more to do once its actions are taken.
    pub(crate) done: bool,
}

impl Outbox {
    /// Plays `items` (replacing what plays) and returns the play's tag.
    pub(crate) fn play(&mut self, items: Vec<PlayItem>) -> PlayTag {
        let tag = PlayTag(self.next_tag);
        self.next_tag = self.next_tag.wrapping_add(1);
        self.playing = Some(tag);
        self.deadline = None;
        self.actions.push_back(Action::Play { tag, items });
        tag
    }

    /// Plays `items` to the target of a screened transfer and returns the play's tag;
    /// the caller's play and the timer are untouched.
    pub(crate) fn play_to_target(&mut self, items: Vec<PlayItem>) -> PlayTag {
        let tag = PlayTag(self.next_tag);
        self.next_tag = self.next_tag.wrapping_add(1);
        self.actions.push_back(Action::PlayToTarget { tag, items });
        tag
    }

    /// Stops what plays, if anything does.
    pub(crate) fn stop(&mut self) {
        if self.playing.take().is_some() {
            self.actions.push_back(Action::StopPlaying);
        }
    }

    /// True if `tag` is the play in progress; it is then over.
    pub(crate) fn finished(&mut self, tag: PlayTag) -> bool {
        if self.playing == Some(tag) {
            self.playing = None;
            true
        } else {
            false
        }
    }

    /// Queues `action`; a mailbox change already queued and not yet taken is not queued
    /// twice (the binary reads the mailbox afresh either way).
    pub(crate) fn push(&mut self, action: Action) {
        if matches!(action, Action::MailboxChanged(_)) && self.actions.contains(&action) {
            return;
        }
        self.actions.push_back(action);
    }

    pub(crate) fn pop(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    pub(crate) fn set_timer(&mut self, at: u64) {
        self.deadline = Some(at);
    }

    pub(crate) fn clear_timer(&mut self) {
        self.deadline = None;
    }

    pub(crate) fn deadline(&self) -> Option<u64> {
        self.deadline
    }

    /// True (and the timer cleared) when the timer is due at `now`.
    pub(crate) fn timer_due(&mut self, now: u64) -> bool {
        if self.deadline.is_some_and(|d| d <= now) {
            self.deadline = None;
            true
        } else {
            false
        }
    }

    /// Ends the call from our side: [`Action::HangUp`] unless the caller is already gone.
    pub(crate) fn hang_up(&mut self) {
        self.deadline = None;
        self.playing = None;
        if !self.caller_gone {
            self.actions.push_back(Action::HangUp);
        }
        self.done = true;
    }

    /// The caller hung up: nothing plays any more, no timer runs.
    pub(crate) fn caller_hung_up(&mut self) {
        self.caller_gone = true;
        self.playing = None;
        self.deadline = None;
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.done && self.actions.is_empty()
    }
}
