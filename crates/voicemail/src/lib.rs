//! Voicemail mailboxes: the store of messages, call recordings and greetings (WAV files
//! beside an SQLite index), mailbox PINs with lockout, and message-waiting summaries.
//!
//! The [`dialogue`] module holds the voicemail dialogues as sans-IO state machines: a
//! caller leaving a message ([`dialogue::Deposit`]) and the owner collecting messages,
//! recording greetings and changing the PIN ([`dialogue::Collect`]). They are fed keys,
//! ends of plays, silence, hang-ups, recording reports and timers, and answer with actions
//! (play these prompts, start or finish a recording, hang up, transfer, a mailbox
//! changed); the names of the spoken prompts are [`dialogue::Prompt`].
//!
//! The store also keeps the outbox of voicemail emails ([`MessageStore::queue_email`],
//! [`MessageStore::due_emails`], [`MessageStore::email_sent`],
//! [`MessageStore::email_failed`]): emails waiting to be sent are as durable as the
//! messages they carry, and are retried until they are sent.
//!
//! What lives elsewhere: playing and recording audio (the media side feeds an
//! [`AudioWriter`] with the samples it receives), SIP SUBSCRIBE/NOTIFY (the call server
//! sends the body [`MessageSummary::to_body`] renders), the prompt files themselves
//! (`crates/strowger/assets/prompts/`), and sending email (the binary talks SMTP). Nothing here opens a socket or
//! reads the clock: every operation that depends on time takes `now` as unix seconds
//! (`u64`) in the store, unix milliseconds (`now_ms`) in the dialogues.
//!
//! # Durability
//!
//! A recording is written to a temporary file, completed, fsynced and renamed into place
//! before its index row is inserted; deletion removes the row first and the file after.
//! Opening the store repairs whatever a crash left between those steps (see
//! [`Reconciliation`]). A full disk fails the write with [`VoicemailError::DiskFull`] and
//! leaves neither a file nor a row.
//!
//! # Example
//!
//! ```no_run
//! use voicemail::{
//!     CommitOutcome, EmailMode, MailboxId, MessageKind, MessageState, MessageStore, NewMessage,
//! };
//! # fn main() -> Result<(), voicemail::VoicemailError> {
//! let (mut store, _repairs) = MessageStore::open(std::path::Path::new("/var/lib/strowger"))?;
//! let mailbox = MailboxId::new("201")?;
//! let mut writer = store.start_recording(&mailbox)?;
//! writer.write_samples(&[0i16; 16000])?; // 2 s of audio, in practice from the RTP stream
//! let envelope = NewMessage {
//!     kind: MessageKind::Message,
//!     caller_number: Some("202".into()),
//!     caller_name: Some("Reception".into()),
//!     received_at: 1_700_000_000,
//!     urgent: false,
//! };
//! if let CommitOutcome::Stored(message) = store.commit_message(writer, envelope)? {
//!     assert_eq!(store.messages(&mailbox, MessageState::New)?[0].id, message.id);
//!     // Its owner wants a copy by email: queued now, sent by the shell, retried if need be.
//!     store.queue_email(message.id, "alice@example.com", EmailMode::Copy, 1_700_000_000)?;
//! }
//! let body = store.summary(&mailbox)?.to_body(Some("sip:201@pbx.example.com"));
//! # let _ = body;
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod access;
pub mod dialogue;
mod error;
mod greeting;
mod mailbox;
mod messages;
mod migrations;
mod mwi;
mod outbox;
mod pin;
mod reconcile;
mod store;
mod wav;
mod writer;

pub use access::{PinCheck, PinStatus};
pub use error::VoicemailError;
pub use greeting::{Greeting, GreetingSlot};
pub use mailbox::{MailboxId, MessageId, MAX_MAILBOX_LEN};
pub use messages::{MailboxCounts, Message, MessageKind, MessageState, NewMessage};
pub use mwi::MessageSummary;
pub use outbox::{
    email_retry_delay, EmailMode, OutboxEntry, EMAIL_RETRY_FIRST_SECS, EMAIL_RETRY_MAX_SECS,
    MAX_EMAIL_ERROR_LEN,
};
pub use pin::{LockoutPolicy, PinPolicy, PinRefusal};
pub use reconcile::{DroppedRow, Reconciliation};
pub use store::{
    CommitOutcome, MessageStore, StoreOptions, INDEX_FILE, QUARANTINE_DIR, VOICEMAIL_DIR,
};
pub use wav::{read_samples, WavProblem, SAMPLE_RATE};
pub use writer::AudioWriter;
