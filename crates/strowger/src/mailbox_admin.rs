//! `strowger mailbox`: an administrator sets a mailbox's PIN (which its owner must change
//! at the first login) or lifts a lock left by wrong PINs. Without this, a mailbox with no
//! trusted phone — a hunt group's, or a user's collected from elsewhere — could never be
//! opened.
//!
//! The message store can be open in one process only: the running server does the change
//! (through the control socket) when there is one; otherwise the command opens the store
//! itself. Either way the change is checked against the configuration first (the number
//! must have a mailbox) and audited.

use crate::control::{self, Command};
use anyhow::{bail, Context};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use voicemail::{MailboxId, MessageStore};

/// What an administrator does to a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxAdmin {
    /// Set the PIN; the owner must choose a new one at the next login.
    SetPin {
        /// The mailbox (an extension or hunt group number).
        mailbox: String,
        /// The PIN, digits.
        pin: String,
    },
    /// Lift a lock and clear the count of wrong PINs.
    Unlock {
        /// The mailbox.
        mailbox: String,
    },
}

impl MailboxAdmin {
    /// The mailbox acted on.
    pub fn mailbox(&self) -> &str {
        match self {
            MailboxAdmin::SetPin { mailbox, .. } | MailboxAdmin::Unlock { mailbox } => mailbox,
        }
    }

    /// Does it to `store`; the answer for the administrator, or why not.
    pub fn apply(&self, store: &mut MessageStore) -> Result<String, String> {
        let mailbox = MailboxId::new(self.mailbox()).map_err(|e| e.to_string())?;
        match self {
            MailboxAdmin::SetPin { pin, .. } => store
                .set_pin(&mailbox, pin, true)
                .map(|()| {
                    format!(
                        "mailbox {mailbox}: PIN set; the owner must choose a new one at the \
                         next login\n"
                    )
                })
                .map_err(|e| format!("mailbox {mailbox}: PIN not set: {e}")),
            MailboxAdmin::Unlock { .. } => store
                .unlock(&mailbox)
                .map(|()| format!("mailbox {mailbox}: unlocked\n"))
                .map_err(|e| format!("mailbox {mailbox}: not unlocked: {e}")),
        }
    }

    /// The audit trail's action and particulars (never the PIN).
    fn audit(&self) -> (&'static str, String) {
        match self {
            MailboxAdmin::SetPin { mailbox, .. } => (
                "voicemail.pin_set",
                format!(
                    "mailbox {mailbox}: PIN set by an administrator, to be changed at next login"
                ),
            ),
            MailboxAdmin::Unlock { mailbox } => (
                "voicemail.unlock",
                format!("mailbox {mailbox}: unlocked by an administrator"),
            ),
        }
    }
}

/// Reads a PIN from standard input: asked for on a terminal, else the first line.
pub fn read_pin() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("new PIN (digits): ");
        std::io::stderr().flush().ok();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the PIN from standard input")?;
    let pin = line.trim().to_string();
    if pin.is_empty() || !pin.bytes().all(|b| b.is_ascii_digit()) {
        bail!("a PIN is digits only (0-9), typed on a phone's keypad");
    }
    Ok(pin)
}

/// `mailbox set-pin` / `mailbox unlock`.
pub fn run(data_dir: &Path, action: MailboxAdmin) -> anyhow::Result<()> {
    let (store, config) = crate::cli_config::open_existing(data_dir)?;
    let number = action.mailbox();
    if !config.has_mailbox(number) {
        bail!(
            "{number:?} has no mailbox: it must be the extension of a user with voicemail = true, \
             or the number of a hunt group with voicemail = true"
        );
    }
    let answer = match control::send(data_dir, &Command::Mailbox(action.clone()))? {
        Some(answer) => answer,
        None => {
            let (mut messages, _) = MessageStore::open(data_dir)
                .context("opening the voicemail store (no server is running)")?;
            match action.apply(&mut messages) {
                Ok(answer) => answer,
                Err(why) => format!("error: {why}\n"),
            }
        }
    };
    if let Some(why) = answer.strip_prefix("error: ") {
        bail!("{}", why.trim_end());
    }
    let (what, detail) = action.audit();
    store.record_event(&crate::cli_config::actor(), "cli", what, &detail)?;
    print!("{answer}");
    Ok(())
}
