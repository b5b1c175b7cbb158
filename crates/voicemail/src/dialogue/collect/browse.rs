//! Listening to messages: the list, each message with its envelope, and the keys that
//! act on it (see the key table in the module documentation).

use super::{Browse, Collect, State};
use crate::dialogue::io::{Action, PlayItem};
use crate::dialogue::prompt::{say_digits, say_number, Prompt};
use crate::{MessageState, MessageStore};
use std::cmp::Reverse;

impl Collect {
    /// Plays the mailbox's messages in `states`, first to last.
    pub(super) fn browse_messages(&mut self, store: &mut MessageStore, states: &[MessageState]) {
        let mailbox = self.own();
        let mut list = Vec::new();
        for &state in states {
            match store.messages(&mailbox, state) {
                Ok(found) => list.extend(found),
                Err(e) => return self.fail("listing messages", &e),
            }
        }
        // The store's playing order, across the states asked for.
        list.sort_by_key(|m| (Reverse(m.urgent), m.received_at, m.id));
        if list.is_empty() {
            self.main_menu(vec![Prompt::NoMessages.into()]);
            return;
        }
        self.browse = Browse { list, index: 0 };
        self.play_message(store, Vec::new());
    }

    /// Plays the current message after `preamble`: "[Urgent.] Message 2 from 2 0 1", then
    /// its audio. A new message becomes old as it starts to play.
    fn play_message(&mut self, store: &mut MessageStore, mut preamble: Vec<PlayItem>) {
        let index = self.browse.index;
        let Some(message) = self.browse.list.get_mut(index) else {
            return self.main_menu(preamble);
        };
        if message.state == MessageState::New {
            if let Err(e) = store.mark_old(message.id) {
                return self.fail("marking a message old", &e);
            }
            message.state = MessageState::Old;
            self.out
                .push(Action::MailboxChanged(message.mailbox.clone()));
        }
        if message.urgent {
            preamble.push(Prompt::Urgent.into());
        }
        preamble.push(Prompt::Message.into());
        let place = u32::try_from(index + 1).unwrap_or(u32::MAX);
        preamble.extend(say_number(place).into_iter().map(PlayItem::from));
        let digits = message
            .caller_number
            .as_deref()
            .map(say_digits)
            .unwrap_or_default();
        if digits.is_empty() {
            preamble.push(Prompt::FromUnknownCaller.into());
        } else {
            preamble.push(Prompt::From.into());
            preamble.extend(digits.into_iter().map(PlayItem::from));
        }
        preamble.push(PlayItem::Message {
            id: message.id,
            path: store.message_path(message),
        });
        self.ask(
            State::Message { playing: true },
            preamble,
            Vec::new(),
            false,
        );
    }

    /// The message has played: its options are said.
    pub(super) fn message_options(&mut self) {
        self.options_after(Vec::new());
    }

    fn options_after(&mut self, preamble: Vec<PlayItem>) {
        self.ask(
            State::Message { playing: false },
            preamble,
            vec![Prompt::MessageOptions.into()],
            false,
        );
    }

    /// The next message after `preamble`, or "There are no more messages." and the main
    /// menu.
    fn next_message(&mut self, store: &mut MessageStore, preamble: Vec<PlayItem>) {
        if self.browse.index + 1 < self.browse.list.len() {
            self.browse.index += 1;
            self.play_message(store, preamble);
        } else {
            self.no_more(preamble);
        }
    }

    fn no_more(&mut self, mut preamble: Vec<PlayItem>) {
        preamble.push(Prompt::NoMoreMessages.into());
        self.main_menu(preamble);
    }

    pub(super) fn message_key(&mut self, key: char, playing: bool, store: &mut MessageStore) {
        let Some(message) = self.browse.list.get(self.browse.index).cloned() else {
            return self.main_menu(Vec::new());
        };
        match key {
            '4' if self.browse.index == 0 => {
                self.play_message(store, vec![Prompt::FirstMessage.into()])
            }
            '4' => {
                self.browse.index -= 1;
                self.play_message(store, Vec::new());
            }
            '5' => self.play_message(store, Vec::new()),
            '#' if playing => self.message_options(),
            '6' | '#' => self.next_message(store, Vec::new()),
            '7' => {
                if let Err(e) = store.delete(message.id) {
                    return self.fail("deleting a message", &e);
                }
                self.out
                    .push(Action::MailboxChanged(message.mailbox.clone()));
                self.browse.list.remove(self.browse.index);
                let deleted = vec![Prompt::MessageDeleted.into()];
                if self.browse.index < self.browse.list.len() {
                    self.play_message(store, deleted);
                } else {
                    self.no_more(deleted);
                }
            }
            '8' => self.ask(
                State::ForwardTo,
                Vec::new(),
                vec![Prompt::ForwardTo.into()],
                true,
            ),
            '9' => {
                if let Err(e) = store.mark_saved(message.id) {
                    return self.fail("saving a message", &e);
                }
                self.browse.list[self.browse.index].state = MessageState::Saved;
                self.next_message(store, vec![Prompt::MessageKept.into()]);
            }
            '0' => match message.caller_number.filter(|n| !say_digits(n).is_empty()) {
                Some(number) => {
                    self.step = Default::default();
                    self.state = State::Transferring(number);
                    self.out.play(vec![Prompt::PleaseHold.into()]);
                }
                None => self.options_after(vec![Prompt::NoCallerNumber.into()]),
            },
            '*' => self.main_menu(Vec::new()),
            _ => {}
        }
    }

    /// The mailbox to forward the current message to was typed.
    pub(super) fn forward_typed(&mut self, now_ms: u64, typed: String, store: &mut MessageStore) {
        let Some(message) = self.browse.list.get(self.browse.index).cloned() else {
            return self.main_menu(Vec::new());
        };
        let to = (self.lookup)(&typed).filter(|to| *to != message.mailbox);
        let Some(to) = to else {
            return self.options_after(vec![Prompt::NoSuchMailbox.into()]);
        };
        match store.forward(message.id, &to, now_ms / 1000) {
            Ok(_) => {
                self.out.push(Action::MailboxChanged(to));
                self.options_after(vec![Prompt::MessageForwarded.into()]);
            }
            Err(e) => self.fail("forwarding a message", &e),
        }
    }
}
