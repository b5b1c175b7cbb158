//! Voicemail email notification: a new message in a mailbox whose user asked for it
//! (`voicemail_email_mode` notify, copy or forward) becomes an email sent through the mail
//! server of `[system.smtp]`.
//!
//! The emails wait in the voicemail store's outbox (see `voicemail`'s `queue_email`), so
//! they are as durable as the messages: [`EmailNotifier::message_deposited`] queues one
//! right after a message is committed, and a worker task sends what is due — at start
//! (what a previous run left), when told, and every few seconds. A failed send is logged
//! and retried later (30 s, doubling to an hour); a forwarded message leaves the mailbox
//! only once its email has been sent. The store's lock is held for the outbox steps only,
//! never while talking to the mail server, and the sending runs on a blocking thread, so
//! a slow mail server delays neither calls nor the mailbox.
//!
//! What lives elsewhere: the outbox itself (`voicemail`), the settings and their rules
//! (`store`), writing the email (`compose`).

mod compose;

use crate::voicemail::{MessageWaiting, SharedStore};
use compose::{compose, Letterhead};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{SmtpTransport, Transport};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store::{Config, ShortCodeFeature, SmtpSettings, VoicemailEmailMode};
use tokio::sync::mpsc;
use voicemail::{email_retry_delay, EmailMode, MailboxId, MessageId, OutboxEntry};

/// How long the mail server may take to answer each step of a send.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the worker looks for due emails when nothing tells it to.
const POLL: Duration = Duration::from_secs(5);
/// Due emails taken from the outbox at a time.
const BATCH: usize = 16;
/// Batches sent in one round at most, so that a store that keeps answering the same
/// entries (it cannot record an outcome) cannot hold the worker for ever.
const MAX_BATCHES: usize = 64;

/// The email side of the configuration in force.
#[derive(Debug, Clone)]
struct EmailSettings {
    /// `None`: nothing is sent (entries already queued wait).
    smtp: Option<SmtpSettings>,
    head: Letterhead,
    /// By extension (the mailbox): the user's address, mode and name.
    mailboxes: HashMap<String, Recipient>,
}

#[derive(Debug, Clone)]
struct Recipient {
    address: String,
    mode: EmailMode,
    name: String,
}

/// Who gets a mailbox's emails, and how; `None` when it gets none.
fn recipient(
    (address, mode): (&Option<String>, VoicemailEmailMode),
    name: &str,
) -> Option<Recipient> {
    let mode = match mode {
        VoicemailEmailMode::Off => return None,
        VoicemailEmailMode::Notify => EmailMode::Notify,
        VoicemailEmailMode::Copy => EmailMode::Copy,
        VoicemailEmailMode::Forward => EmailMode::Forward,
    };
    Some(Recipient {
        address: address.clone()?,
        mode,
        name: name.to_string(),
    })
}

impl EmailSettings {
    fn from_config(config: &Config) -> EmailSettings {
        let zone = config
            .system
            .timezone
            .as_deref()
            .and_then(|name| jiff::tz::TimeZone::get(name).ok())
            .unwrap_or_else(jiff::tz::TimeZone::system);
        let collect_code = config
            .short_codes
            .iter()
            .find(|(_, f)| **f == ShortCodeFeature::VoicemailCollect)
            .map(|(code, _)| code.clone());
        // Users' mailboxes are on their extensions, hunt groups' on their numbers.
        let users = config.users.iter().filter_map(|u| {
            let settings = (&u.voicemail_email, u.voicemail_email_mode);
            Some((u.extension.clone()?, recipient(settings, &u.full_name)?))
        });
        let groups = config.hunt_groups.iter().filter_map(|g| {
            let settings = (&g.voicemail_email, g.voicemail_email_mode);
            Some((g.number.clone(), recipient(settings, &g.name)?))
        });
        let mailboxes = users.chain(groups).collect();
        EmailSettings {
            smtp: config.system.smtp.clone(),
            head: Letterhead {
                system_name: config.system.name.clone(),
                from: config
                    .system
                    .smtp
                    .as_ref()
                    .map(|s| s.from.clone())
                    .unwrap_or_default(),
                zone,
                collect_code,
            },
            mailboxes,
        }
    }
}

/// What the worker is told.
enum Note {
    /// Something was queued: look now.
    Queued,
    /// The mail server's settings changed: retry what waits, now.
    ServerChanged,
}

/// The handle of the email worker. Cheap to clone.
#[derive(Clone)]
pub struct EmailNotifier {
    settings: Arc<Mutex<Arc<EmailSettings>>>,
    notes: mpsc::UnboundedSender<Note>,
}

impl EmailNotifier {
    /// Starts the worker on the runtime (must be called within it) with the configuration
    /// in force. When the voicemail store did not open, no worker runs. Without
    /// `[system.smtp]` the worker waits: queued emails stay in the outbox until a mail
    /// server is configured.
    pub fn start(mwi: &MessageWaiting, config: &Config) -> EmailNotifier {
        let settings = Arc::new(Mutex::new(Arc::new(EmailSettings::from_config(config))));
        let (notes, rx) = mpsc::unbounded_channel();
        let store = mwi.store();
        if let Some(store) = &store {
            match &config.system.smtp {
                Some(smtp) => tracing::info!(
                    server = %smtp.server, port = smtp.port, starttls = smtp.starttls,
                    "voicemail email through this mail server"
                ),
                None => tracing::debug!("no [system.smtp]: no voicemail email is sent"),
            }
            tokio::spawn(run(
                store.clone(),
                settings.clone(),
                notes.clone(),
                rx,
                mwi.clone(),
            ));
        }
        EmailNotifier { settings, notes }
    }

    /// Takes a new configuration (after a reload). When the mail server's settings
    /// changed, emails waiting for a retry are tried again at once.
    pub fn configure(&self, config: &Config) {
        let new = Arc::new(EmailSettings::from_config(config));
        let old = std::mem::replace(&mut *lock(&self.settings), new.clone());
        if old.smtp != new.smtp {
            let _ = self.notes.send(Note::ServerChanged);
        }
    }

    /// Call right after message `message` was committed to `mailbox`, with the store
    /// still in hand: when the mailbox's user has voicemail email on, an email is queued
    /// in the store's outbox and the worker told. Also for a message forwarded into a
    /// mailbox, if its user should hear of it. Reads SQLite: call it from a thread that
    /// may block (the voicemail thread).
    pub fn message_deposited(
        &self,
        store: &mut voicemail::MessageStore,
        message: MessageId,
        mailbox: &MailboxId,
    ) {
        let settings = lock(&self.settings).clone();
        let Some(to) = settings.mailboxes.get(mailbox.as_str()).cloned() else {
            return;
        };
        if settings.smtp.is_none() {
            // The configuration's rules prevent this; said in case they change.
            tracing::warn!(%mailbox, "voicemail email wanted but no [system.smtp]: not queued");
            return;
        }
        match store.queue_email(message, &to.address, to.mode, unix_now()) {
            Ok(entry) => {
                tracing::info!(message_id = %message, %mailbox, to = %entry.address, mode = entry.mode.as_str(), "voicemail email queued");
                let _ = self.notes.send(Note::Queued);
            }
            Err(e) => {
                tracing::error!(message_id = %message, %mailbox, error = %e, "voicemail email not queued")
            }
        }
    }
}

/// The worker: a round at start, then one whenever told or every [`POLL`].
async fn run(
    store: SharedStore,
    settings: Arc<Mutex<Arc<EmailSettings>>>,
    notes: mpsc::UnboundedSender<Note>,
    mut rx: mpsc::UnboundedReceiver<Note>,
    mwi: MessageWaiting,
) {
    let mut retry_now = false;
    loop {
        let current = lock(&settings).clone();
        if current.smtp.is_some() {
            let (store, stop) = (store.clone(), notes.clone());
            let round =
                tokio::task::spawn_blocking(move || send_due(&store, &current, retry_now, &stop))
                    .await;
            match round {
                Ok(emptied) => {
                    for mailbox in emptied {
                        mwi.mailbox_changed(mailbox.as_str());
                    }
                }
                Err(e) => tracing::error!(error = %e, "voicemail email round failed"),
            }
            retry_now = false;
        }
        let wait = tokio::time::sleep(POLL);
        tokio::select! {
            note = rx.recv() => match note {
                Some(Note::ServerChanged) => retry_now = true,
                Some(Note::Queued) => {}
                None => return,
            },
            _ = wait => {}
        }
        // Several notes may have come at once: one round serves them all.
        while let Ok(note) = rx.try_recv() {
            retry_now |= matches!(note, Note::ServerChanged);
        }
    }
}

/// One round on a blocking thread: sends every due email, records each outcome, and
/// returns the mailboxes a forward took a message from (their lamps must follow). Stops
/// early when the worker is gone (`stop` closed: the server is stopping).
fn send_due(
    store: &SharedStore,
    settings: &EmailSettings,
    retry_now: bool,
    stop: &mpsc::UnboundedSender<Note>,
) -> Vec<MailboxId> {
    let mut emptied = Vec::new();
    let Some(smtp) = &settings.smtp else {
        return emptied;
    };
    if retry_now {
        match lock(store).retry_emails_now(unix_now()) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                emails = n,
                "mail server settings changed: retrying waiting voicemail emails now"
            ),
            Err(e) => tracing::error!(error = %e, "voicemail outbox not read"),
        }
    }
    let mut transport = None;
    for _ in 0..MAX_BATCHES {
        let due = match lock(store).due_emails(unix_now(), BATCH) {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %e, "voicemail outbox not read");
                return emptied;
            }
        };
        if due.is_empty() {
            break;
        }
        // Built only when something is due: with STARTTLS it loads the trusted roots.
        if transport.is_none() {
            match build_transport(smtp) {
                Ok(t) => transport = Some(t),
                Err(e) => {
                    tracing::error!(server = %smtp.server, error = %chain(&e), "voicemail email: mail server settings unusable");
                    return emptied;
                }
            }
        }
        let Some(transport) = &transport else {
            return emptied;
        };
        for entry in due {
            if stop.is_closed() {
                return emptied;
            }
            match send_one(store, settings, transport, &entry) {
                Ok(Some(mailbox)) => emptied.push(mailbox),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(error = %e, "voicemail outbox not updated");
                    return emptied;
                }
            }
        }
    }
    emptied
}

/// Sends one entry's email and records the outcome. Returns the mailbox when a forward
/// removed the message from it.
fn send_one(
    store: &SharedStore,
    settings: &EmailSettings,
    transport: &SmtpTransport,
    entry: &OutboxEntry,
) -> Result<Option<MailboxId>, voicemail::VoicemailError> {
    let (message, path) = {
        let store = lock(store);
        match store.message(entry.message)? {
            Some(m) => {
                let path = store.message_path(&m);
                (m, path)
            }
            // Deleted by its owner since: deleting withdrew the email too.
            None => return Ok(None),
        }
    };
    let owner = settings
        .mailboxes
        .get(entry.mailbox.as_str())
        .map(|r| r.name.as_str());
    let attempt = entry.attempts + 1;
    let sent = (|| {
        let audio = if entry.mode.attaches_audio() {
            Some(std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?)
        } else {
            None
        };
        let email =
            compose(&settings.head, entry, &message, owner, audio).map_err(|e| e.to_string())?;
        transport.send(&email).map_err(|e| chain(&e))
    })();
    let fields = (entry.message, &entry.mailbox, entry.address.as_str());
    match sent {
        Ok(_) => {
            // At least once: should recording the success fail, the email stays queued and
            // goes again later; it is never lost.
            let removed = lock(store).email_sent(entry)?;
            tracing::info!(
                message_id = %fields.0, mailbox = %fields.1, to = fields.2,
                mode = entry.mode.as_str(), attempt, "voicemail email sent"
            );
            if removed.is_some() {
                tracing::info!(message_id = %fields.0, mailbox = %fields.1, "message forwarded by email: removed from the mailbox");
            }
            Ok(removed.map(|m| m.mailbox))
        }
        Err(error) => {
            let now = unix_now();
            let updated = lock(store).email_failed(entry, &error, now)?;
            if let Some(u) = updated {
                tracing::warn!(
                    message_id = %fields.0, mailbox = %fields.1, to = fields.2,
                    attempt, error = %error, retry_in_secs = email_retry_delay(u.attempts),
                    "voicemail email not sent; it stays queued and is retried"
                );
            }
            Ok(None)
        }
    }
}

/// The SMTP client for `smtp`: plain SMTP, or STARTTLS required; credentials when given;
/// [`SMTP_TIMEOUT`] on every step.
fn build_transport(smtp: &SmtpSettings) -> Result<SmtpTransport, lettre::transport::smtp::Error> {
    let builder = if smtp.starttls {
        SmtpTransport::starttls_relay(&smtp.server)?
    } else {
        SmtpTransport::builder_dangerous(smtp.server.as_str())
    };
    let mut builder = builder.port(smtp.port).timeout(Some(SMTP_TIMEOUT));
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// An error with its causes: `Connection error: Connection refused (os error 111)`.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::User;
    use voicemail::{CommitOutcome, MessageKind, NewMessage};

    /// A port nothing listens on (bound for a moment, then let go).
    fn dead_port() -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    }

    fn leave_message(store: &SharedStore, mailbox: &str) -> (MessageId, MailboxId) {
        let mb = MailboxId::new(mailbox).expect("mailbox");
        let mut store = lock(store);
        let mut w = store.start_recording(&mb).expect("recording");
        w.write_samples(&[100i16; 12_000]).expect("samples");
        let envelope = NewMessage {
            kind: MessageKind::Message,
            caller_number: Some("203".into()),
            caller_name: None,
            received_at: unix_now(),
            urgent: false,
        };
        match store.commit_message(w, envelope).expect("commit") {
            CommitOutcome::Stored(m) => (m.id, mb),
            other => panic!("{other:?}"),
        }
    }

    fn config(port: u16) -> Config {
        let mut config = Config::default();
        let mut smtp = SmtpSettings::new("127.0.0.1", "voicemail@example.com");
        smtp.port = port;
        config.system.smtp = Some(smtp);
        let mut alice = User::new("alice", "Alice", Some("201"));
        alice.voicemail_email = Some("alice@example.com".into());
        alice.voicemail_email_mode = VoicemailEmailMode::Copy;
        // An address without a mode: nothing is sent.
        let mut bob = User::new("bob", "Bob", Some("202"));
        bob.voicemail_email = Some("bob@example.com".into());
        config.users = vec![alice, bob];
        config
    }

    /// The deposit hook looks the mailbox's user up in the configuration in force, queues
    /// the email with their address and mode, and the worker tries it at once; a failure
    /// (nothing listens) leaves it queued with the error. After a reload that turns the
    /// user's email off, a new message queues nothing.
    #[tokio::test]
    async fn a_deposit_queues_an_email_for_its_users_address_and_mode() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (mwi, _states) = MessageWaiting::open(dir.path(), [127, 0, 0, 1].into());
        let store = mwi.store().expect("the store opens");
        let mut config = config(dead_port());
        let notifier = EmailNotifier::start(&mwi, &config);
        let (m201, mb201) = leave_message(&store, "201");
        let (m202, mb202) = leave_message(&store, "202");
        notifier.message_deposited(&mut lock(&store), m201, &mb201);
        notifier.message_deposited(&mut lock(&store), m202, &mb202);

        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let entry = loop {
            let pending = lock(&store).pending_emails().expect("outbox");
            if let Some(e) = pending.iter().find(|e| e.attempts > 0) {
                assert_eq!(pending.len(), 1, "{pending:?}");
                break e.clone();
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no attempt within 20 s: {pending:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(
            (entry.message, &entry.mailbox, entry.address.as_str()),
            (m201, &mb201, "alice@example.com")
        );
        assert_eq!(entry.mode, EmailMode::Copy);
        assert!(entry.last_error.is_some(), "{entry:?}");
        assert!(lock(&store).message(m201).expect("read").is_some());

        config.users[0].voicemail_email_mode = VoicemailEmailMode::Off;
        notifier.configure(&config);
        let (later, _) = leave_message(&store, "201");
        notifier.message_deposited(&mut lock(&store), later, &mb201);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let pending = lock(&store).pending_emails().expect("outbox");
        assert!(pending.iter().all(|e| e.message != later), "{pending:?}");
    }

    #[test]
    fn errors_are_shown_with_their_causes() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let wrapped = std::io::Error::other(io);
        assert_eq!(chain(&wrapped), "refused");
        #[derive(Debug, thiserror::Error)]
        #[error("connection error")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionRefused,
            "Connection refused (os error 111)",
        ));
        assert_eq!(
            chain(&e),
            "connection error: Connection refused (os error 111)"
        );
    }
}
