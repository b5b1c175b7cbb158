//! Voicemail at the edge: the message store under the data directory, and the
//! message-waiting state of each mailbox handed to the call-server core, which NOTIFYs
//! phones (see `pbx`'s `set_message_summary`). The extension number is the mailbox.
//!
//! SQLite is read off the signalling task: [`MessageWaiting::mailbox_changed`] summarises
//! the mailbox on a blocking thread and sends the result to the core loop through a
//! channel, so a slow disk never delays a SIP retransmission.

use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use voicemail::{MailboxId, MessageStore, MessageSummary, VoicemailError};

/// The one message store of the node, shared by whoever deposits, plays and deletes
/// messages (only one may be open on a data directory).
pub type SharedStore = Arc<Mutex<MessageStore>>;

/// A mailbox's state for the core: `Pbx::set_message_summary(now, extension, waiting, body)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxState {
    /// The extension (the mailbox).
    pub extension: String,
    /// New messages wait.
    pub waiting: bool,
    /// The RFC 3842 `application/simple-message-summary` body.
    pub body: Vec<u8>,
}

/// The message store and the way mailbox changes reach the core. Cheap to clone.
#[derive(Clone)]
pub struct MessageWaiting {
    /// `None` when the store could not be opened: voicemail is off, calls go on.
    store: Option<SharedStore>,
    /// The host of each mailbox's `Message-Account` URI; none when SIP listens on every
    /// address (no one address would be right for every phone, and the line is optional).
    account_host: Option<String>,
    updates: mpsc::UnboundedSender<MailboxState>,
}

impl MessageWaiting {
    /// Opens the message store under `data_dir`. A store that cannot be opened is logged
    /// as an error and leaves voicemail off: the phone system runs without it. Returns the
    /// handle and the receiver the core loop takes mailbox states from.
    pub fn open(
        data_dir: &Path,
        sip_ip: IpAddr,
    ) -> (MessageWaiting, mpsc::UnboundedReceiver<MailboxState>) {
        let store = match MessageStore::open(data_dir) {
            Ok((store, _repairs)) => Some(Arc::new(Mutex::new(store))),
            Err(e) => {
                tracing::error!(
                    error = %e,
                    dir = %data_dir.join(voicemail::VOICEMAIL_DIR).display(),
                    "voicemail store cannot be opened: no voicemail and no message waiting \
                     lamps until it can; calls are not affected"
                );
                None
            }
        };
        let account_host = (!sip_ip.is_unspecified()).then(|| match sip_ip {
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        });
        let (updates, rx) = mpsc::unbounded_channel();
        (
            MessageWaiting {
                store,
                account_host,
                updates,
            },
            rx,
        )
    }

    /// The store, when it opened.
    pub fn store(&self) -> Option<SharedStore> {
        self.store.clone()
    }

    /// The state of every one of `extensions`' mailboxes, read now (at start, before the
    /// core serves anyone). Empty when the store is off or cannot be read (logged).
    pub fn states<'a>(&self, extensions: impl IntoIterator<Item = &'a str>) -> Vec<MailboxState> {
        let Some(store) = &self.store else {
            return Vec::new();
        };
        let store = store.lock().unwrap_or_else(|p| p.into_inner());
        // One query per mailbox that holds messages; the others are empty.
        let held = match store.summaries() {
            Ok(list) => list,
            Err(e) => {
                tracing::error!(error = %e, "voicemail store cannot be read: message waiting lamps are not set");
                return Vec::new();
            }
        };
        extensions
            .into_iter()
            .map(|ext| {
                let summary = held
                    .iter()
                    .find(|(mb, _)| mb.as_str() == ext)
                    .map(|(_, s)| *s)
                    .unwrap_or_default();
                self.state(ext, summary)
            })
            .collect()
    }

    /// Call after `extension`'s mailbox changed — a message left, heard, saved, deleted or
    /// forwarded to it — so that its phones' lamps follow within a moment: the mailbox is
    /// summarised and the state sent to the core, which NOTIFYs the mailbox's subscribers
    /// and registered phones. Reads SQLite: call it from a thread that may block (the
    /// voicemail thread), never from the core loop. Does nothing when the store is off.
    pub fn mailbox_changed(&self, extension: &str) {
        let Some(store) = self.store.clone() else {
            return;
        };
        match self.read(&store, extension) {
            Ok(state) => {
                let _ = self.updates.send(state);
            }
            Err(e) => {
                tracing::error!(%extension, error = %e, "mailbox summary not read: its lamp is not updated")
            }
        }
    }

    /// Pushes the state of every one of `extensions`' mailboxes to the core again, read on
    /// a blocking thread (after a configuration reload: new extensions get theirs; the
    /// core ignores states it already has).
    pub fn refresh(&self, extensions: Vec<String>) {
        if self.store.is_none() {
            return;
        }
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            for state in this.states(extensions.iter().map(String::as_str)) {
                let _ = this.updates.send(state);
            }
        });
    }

    fn read(&self, store: &SharedStore, extension: &str) -> Result<MailboxState, VoicemailError> {
        let mailbox = MailboxId::new(extension)?;
        let summary = store
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .summary(&mailbox)?;
        Ok(self.state(extension, summary))
    }

    fn state(&self, extension: &str, summary: MessageSummary) -> MailboxState {
        let account = self
            .account_host
            .as_ref()
            .map(|host| format!("sip:{extension}@{host}"));
        MailboxState {
            extension: extension.to_string(),
            waiting: summary.waiting(),
            body: summary.to_body(account.as_deref()).into_bytes(),
        }
    }
}
