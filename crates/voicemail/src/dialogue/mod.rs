//! The voicemail dialogues as sans-IO state machines: [`Deposit`] (a caller leaves a
//! message), [`Collect`] (the mailbox owner listens to messages, records greetings,
//! changes the PIN) and [`Flow`] (a call flow: an auto attendant, which may hand the
//! caller to the other two).
//!
//! A dialogue plays nothing, records nothing and reads no clock. It is fed what happened
//! on the call ([`Input`]) at a time the caller of [`Dialogue::handle`] gives, and asks
//! for what should happen next ([`Action`]); store operations (listing, marking,
//! deleting, forwarding, PIN checks) are made directly on the [`MessageStore`] passed in,
//! which is local SQLite. Recording is the exception: the audio flows between the media
//! side and an [`crate::AudioWriter`] the binary holds, and the dialogue only says when to
//! start and how to finish (see [`Action::StartRecording`] and [`Finish::apply`]).
//!
//! Time is unix milliseconds (`now_ms: u64`) everywhere, so that the same clock serves
//! the timers and the store's unix seconds (`now_ms / 1000`); a binary that keeps an
//! `Instant` epoch converts as the call-server core does.
//!
//! # Driving a dialogue
//!
//! ```text
//! let mut d = Deposit::start(now, call, settings, &store);   // or Collect::start
//! loop {
//!     while let Some(action) = d.poll_action() { apply(action) }   // in order
//!     if d.is_finished() { break }
//!     wait for: an input (key, end of play, silence, hang-up, recording report)
//!               or d.poll_timeout() (the instant to call d.handle_timeout(now, store))
//!     d.handle(now, input, &mut store) / d.handle_timeout(now, &mut store)
//! }
//! ```
//!
//! Poll the actions after every call into the dialogue, and `poll_timeout` after the
//! actions: a play clears the timer, and the end of a play starts it.
//!
//! A whole deposit, with a media side that plays instantly and a caller who speaks for
//! two seconds and presses `#`:
//!
//! ```
//! use std::collections::VecDeque;
//! use voicemail::dialogue::{
//!     Action, Deposit, DepositCall, DepositReason, DepositSettings, Dialogue, Input,
//! };
//! use voicemail::{MailboxId, MessageStore};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let (mut store, _) = MessageStore::open(dir.path())?;
//! let call = DepositCall {
//!     mailbox: MailboxId::new("201")?,
//!     reason: DepositReason::NoAnswer,
//!     extension: None,
//!     caller_number: Some("202".into()),
//!     caller_name: None,
//!     active_profile: None,
//! };
//! let mut now = 1_700_000_000_000;
//! let mut d = Deposit::start(now, call, DepositSettings::default(), &store);
//! let (mut writer, mut inputs) = (None, VecDeque::new());
//! loop {
//!     while let Some(action) = d.poll_action() {
//!         match action {
//!             Action::Play { tag, .. } => inputs.push_back(Input::PlayFinished(tag)),
//!             Action::StartRecording { mailbox, .. } => {
//!                 let mut w = store.start_recording(&mailbox)?;
//!                 w.write_samples(&[0; 16_000])?; // from the RTP stream, in practice
//!                 writer = Some(w);
//!                 inputs.push_back(Input::Digit('#'));
//!             }
//!             Action::FinishRecording(finish) => {
//!                 let w = writer.take().expect("recording");
//!                 inputs.extend(finish.apply(&mut store, w));
//!             }
//!             Action::MailboxChanged(_mailbox) => {} // MessageWaiting::mailbox_changed
//!             Action::StopPlaying | Action::HangUp | Action::Transfer { .. } => {}
//!             // Only a call flow records clips and screens transfers.
//!             _ => {}
//!         }
//!     }
//!     let Some(input) = inputs.pop_front() else { break };
//!     now += 1000;
//!     d.handle(now, input, &mut store);
//! }
//! assert!(d.is_finished());
//! assert_eq!(store.counts(&MailboxId::new("201")?)?.new, 1);
//! # Ok(())
//! # }
//! ```
//!
//! Prompts are named ([`Prompt`]); what the binary plays for each name lives in
//! `crates/strowger/assets/prompts/<language>/`.

mod collect;
mod deposit;
mod flow;
mod io;
mod outbox;
mod prompt;

pub use collect::{Collect, CollectEntry, CollectSettings, MailboxLookup};
pub use deposit::{Deposit, DepositCall, DepositReason, DepositSettings};
pub use flow::{
    Flow, FlowCall, FlowEnv, NumberMatch, SharedMailboxLookup, MAX_HOPS, SCREEN_KEY_TIMEOUT_MS,
};
pub use io::{Action, Commit, Finish, Input, PlayItem, PlayTag, RecordPurpose, RecordingReport};
pub use prompt::{say_digits, say_number, Prompt};

use crate::MessageStore;

/// What both dialogues offer: inputs in with `handle*`, actions out with `poll_*`.
pub trait Dialogue {
    /// Something happened on the call at `now_ms` (unix milliseconds).
    fn handle(&mut self, now_ms: u64, input: Input, store: &mut MessageStore);

    /// The time given by [`Dialogue::poll_timeout`] has come (`now_ms` at or after it;
    /// earlier calls do nothing).
    fn handle_timeout(&mut self, now_ms: u64, store: &mut MessageStore);

    /// The next thing to do, in order; `None` when there is nothing more for now.
    fn poll_action(&mut self) -> Option<Action>;

    /// When [`Dialogue::handle_timeout`] must be called (unix milliseconds), if at all.
    fn poll_timeout(&self) -> Option<u64>;

    /// True once the dialogue is over and every action has been taken.
    fn is_finished(&self) -> bool;
}
