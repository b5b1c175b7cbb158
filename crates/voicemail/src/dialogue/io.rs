//! What goes into a dialogue ([`Input`]) and what comes out ([`Action`]), and the one
//! place where the binary turns a kept recording into a stored one ([`Finish::apply`]).
//!
//! Recording is shared between the dialogue and the binary like this:
//!
//! ```text
//!  dialogue                          binary (media side)                  store
//!  StartRecording{mailbox,purpose} ─▶ start_recording(mailbox) ─────────▶ AudioWriter
//!                                     feeds it the caller's samples
//!        ◀── Input::Silence (the media side heard silence), or a digit, a hang-up, a timer
//!  FinishRecording(Keep(commit))  ─▶ commit.apply(store, writer) ──────▶ commit_message /
//!                                                                         commit_greeting
//!        ◀── Input::Recording(RecordingReport::Stored / TooShort / DiskFull / Failed)
//!  FinishRecording(Discard)       ─▶ writer.abort() (no report)
//! ```
//!
//! When starting the recording or writing to it fails, the binary drops the writer and
//! reports [`RecordingReport::DiskFull`] or [`RecordingReport::Failed`] at once; the
//! dialogue then says so and does not ask to finish the recording.

use crate::dialogue::prompt::Prompt;
use crate::{
    AudioWriter, CommitOutcome, GreetingSlot, MailboxId, MessageId, MessageStore, NewMessage,
    VoicemailError,
};
use std::path::PathBuf;

/// Identifies one [`Action::Play`], so that its [`Input::PlayFinished`] can be told from
/// that of a play since replaced or stopped (which a dialogue ignores).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlayTag(pub u32);

/// Something that happened on the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The caller pressed a key: `'0'`–`'9'`, `'*'` or `'#'` (RFC 4733 events 0–11; the
    /// keys `A`–`D` are ignored).
    Digit(char),
    /// The play with this tag reached its end (not reported for a play that was stopped
    /// or replaced; if it is, it is ignored).
    PlayFinished(PlayTag),
    /// The media side heard the caller fall silent long enough to end the recording.
    Silence,
    /// The caller hung up. No further action is for the caller (the dialogue may still ask
    /// to keep a recording and report a changed mailbox).
    HungUp,
    /// What became of the recording: the answer to [`Action::FinishRecording`] with
    /// [`Finish::Keep`], or a failure of the writer while recording.
    Recording(RecordingReport),
    /// The answer to [`Action::Transfer`]: the caller is on the way (ringing the number,
    /// or handed to its mailbox). Only a call flow waits for it.
    Transferred,
    /// The answer to [`Action::Transfer`]: nothing can ring at the number (unknown,
    /// barred, unreachable); the caller is still here.
    TransferFailed,
    /// The answer to [`Action::ScreenTransfer`]: the target answered. From now on
    /// [`Action::PlayToTarget`] reaches it and its keys come as [`Input::TargetDigit`],
    /// until [`Action::AcceptScreened`], [`Action::RefuseScreened`] or
    /// [`Input::ScreenFailed`].
    ScreenAnswered,
    /// The answer to [`Action::ScreenTransfer`], or its end before a choice: nothing
    /// could ring at the number, nobody answered, or the target hung up. The caller is
    /// still here (its ringback stopped).
    ScreenFailed,
    /// The target of a screened transfer pressed a key (`'0'`–`'9'`, `'*'`, `'#'`).
    TargetDigit(char),
}

/// What became of a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingReport {
    /// Stored in the mailbox.
    Stored {
        /// Its length.
        duration_ms: u64,
    },
    /// Shorter than the store's minimum ([`crate::StoreOptions::min_message_ms`] or
    /// [`crate::StoreOptions::min_greeting_ms`]); discarded.
    TooShort {
        /// Its length.
        duration_ms: u64,
    },
    /// The disk is full; nothing was stored.
    DiskFull,
    /// Another failure (logged by whoever saw it); nothing was stored.
    Failed,
}

impl RecordingReport {
    /// The report for a store error: [`RecordingReport::DiskFull`] for a full disk, else
    /// [`RecordingReport::Failed`] (the error is logged).
    pub fn from_error(e: &VoicemailError) -> RecordingReport {
        tracing::error!(error = %e, "voicemail recording not stored");
        match e {
            VoicemailError::DiskFull { .. } => RecordingReport::DiskFull,
            _ => RecordingReport::Failed,
        }
    }
}

/// Something to play, in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlayItem {
    /// A system prompt (the binary maps [`Prompt::name`] to a file of the caller's
    /// language).
    Prompt(Prompt),
    /// A greeting or a recorded name from the store.
    Greeting {
        /// Which one (for logs and tests).
        slot: GreetingSlot,
        /// Its audio file.
        path: PathBuf,
    },
    /// A recorded file of the administrator's (a call flow's announcement).
    File(PathBuf),
    /// A message from the store.
    Message {
        /// Which one (for logs and tests).
        id: MessageId,
        /// Its audio file.
        path: PathBuf,
    },
    /// What the caller said in a call flow's `record` step, by the name it is kept under
    /// ([`Action::StartClip`]); nothing when the call has no recording of that name.
    Clip(String),
}

impl From<Prompt> for PlayItem {
    fn from(p: Prompt) -> PlayItem {
        PlayItem::Prompt(p)
    }
}

/// What a recording is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordPurpose {
    /// A caller's message.
    Message,
    /// A greeting, or the recorded name ([`GreetingSlot::Name`]).
    Greeting(GreetingSlot),
}

/// How a kept recording is committed to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Commit {
    /// As a message with this envelope.
    Message(NewMessage),
    /// As the greeting in this slot, recorded at this time (unix seconds).
    Greeting {
        /// The slot it replaces.
        slot: GreetingSlot,
        /// When it was recorded.
        recorded_at: u64,
    },
}

/// The end of a recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// Commit it; the outcome comes back as [`Input::Recording`].
    Keep(Commit),
    /// Throw it away ([`AudioWriter::abort`]); nothing comes back.
    Discard,
}

impl Commit {
    /// Commits `writer` to `store` and says what became of it.
    pub fn apply(self, store: &mut MessageStore, writer: AudioWriter) -> RecordingReport {
        let result = match self {
            Commit::Message(envelope) => store
                .commit_message(writer, envelope)
                .map(|o| report(o, |m| m.duration_ms)),
            Commit::Greeting { slot, recorded_at } => store
                .commit_greeting(writer, slot, recorded_at)
                .map(|o| report(o, |g| g.duration_ms)),
        };
        result.unwrap_or_else(|e| RecordingReport::from_error(&e))
    }
}

/// The report of a commit that did not fail.
fn report<T>(outcome: CommitOutcome<T>, duration_ms: impl FnOnce(&T) -> u64) -> RecordingReport {
    match outcome {
        CommitOutcome::Stored(stored) => RecordingReport::Stored {
            duration_ms: duration_ms(&stored),
        },
        CommitOutcome::TooShort { duration_ms, .. } => RecordingReport::TooShort { duration_ms },
    }
}

impl Finish {
    /// Ends `writer`'s recording as asked: the input to hand back to the dialogue for
    /// [`Finish::Keep`], `None` for [`Finish::Discard`].
    pub fn apply(self, store: &mut MessageStore, writer: AudioWriter) -> Option<Input> {
        match self {
            Finish::Keep(commit) => Some(Input::Recording(commit.apply(store, writer))),
            Finish::Discard => {
                writer.abort();
                None
            }
        }
    }
}

/// What the binary is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Play these items one after the other, replacing whatever plays; report
    /// [`Input::PlayFinished`] with `tag` at the end.
    Play {
        /// Names this play.
        tag: PlayTag,
        /// What to play, in order.
        items: Vec<PlayItem>,
    },
    /// Stop what plays (the caller pressed a key); no [`Input::PlayFinished`] is needed.
    StopPlaying,
    /// Start recording the caller into `mailbox` ([`MessageStore::start_recording`]).
    StartRecording {
        /// Whose.
        mailbox: MailboxId,
        /// What for.
        purpose: RecordPurpose,
    },
    /// Stop recording, and keep or discard what was recorded.
    FinishRecording(Finish),
    /// End the call.
    HangUp,
    /// Transfer the caller (blind) to this number; the dialogue is over (a call flow
    /// waits for [`Input::Transferred`] or [`Input::TransferFailed`]).
    Transfer {
        /// The number to call.
        to: String,
    },
    /// A mailbox's messages changed: update its message-waiting lamps.
    MailboxChanged(MailboxId),
    /// Start recording the caller into a recording of the call's own, kept under `name`
    /// (a call flow's `record` step): a temporary file the call owns, removed when the
    /// call ends, never a message of the store. Nothing comes back: a recording that
    /// could not be made is logged and plays as nothing.
    StartClip {
        /// The name it is kept under; one recorded earlier under it is replaced.
        name: String,
    },
    /// Stop the recording [`Action::StartClip`] started; from now on
    /// [`PlayItem::Clip`] with its name plays it.
    FinishClip,
    /// Ring `to` for the caller without putting the two through (a screened transfer);
    /// the caller hears ringback meanwhile. The answer comes as [`Input::ScreenAnswered`]
    /// or [`Input::ScreenFailed`].
    ScreenTransfer {
        /// The number to ring.
        to: String,
    },
    /// Play these items to the target of the screened transfer (which answered),
    /// replacing whatever plays to it; report [`Input::PlayFinished`] with `tag` at the
    /// end (tags are shared with [`Action::Play`], so they never collide).
    PlayToTarget {
        /// Names this play.
        tag: PlayTag,
        /// What to play, in order.
        items: Vec<PlayItem>,
    },
    /// The target took the call: stop playing to it and put the caller through; the
    /// dialogue is over.
    AcceptScreened,
    /// The target refused (or did not choose in time): hang up on it; the caller stays
    /// with the dialogue.
    RefuseScreened,
}
