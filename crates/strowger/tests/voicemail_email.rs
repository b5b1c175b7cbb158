//! Voicemail email through the real binary and a real SMTP server (`aiosmtpd` from Debian's
//! `python3-aiosmtpd`, writing what it receives to a maildir).
//!
//! One test leaves a message in a real call (baresip, its 1000 Hz tone) and finds the
//! email with the recording attached. The others prepare the outbox with the voicemail
//! crate while the server is stopped, to control exactly what is due: they store a message
//! and queue its email. The mail server and the users' addresses and modes are set through
//! `config apply`. The server then sends what its outbox holds, and the test reads the
//! maildir back with an independent MIME parser.

mod common;

use common::{free_port, require_tool, terminate, wait_for, Server};
use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use voicemail::{
    CommitOutcome, EmailMode, MailboxId, Message, MessageKind, MessageStore, NewMessage,
    SAMPLE_RATE,
};

// ---------------------------------------------------------------------------------------
// A real SMTP server
// ---------------------------------------------------------------------------------------

/// `aiosmtpd` on a loopback port, delivering into a maildir. Stopped (by its id) when
/// dropped.
struct SmtpSink {
    child: Child,
    port: u16,
    maildir: PathBuf,
    log: PathBuf,
}

impl SmtpSink {
    /// Starts on `port` and waits (bounded) until it greets.
    fn start(dir: &Path, port: u16) -> SmtpSink {
        let aiosmtpd = require_tool("aiosmtpd", "python3-aiosmtpd");
        let maildir = dir.join(format!("maildir-{port}"));
        let log = dir.join(format!("aiosmtpd-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("aiosmtpd log");
        let child = Command::new(aiosmtpd)
            .args(["-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log handle"))
            .stderr(log_file)
            .spawn()
            .expect("aiosmtpd starts");
        let mut sink = SmtpSink {
            child,
            port,
            maildir,
            log,
        };
        let greeted = wait_for("aiosmtpd to greet", Duration::from_secs(20), || {
            if let Ok(Some(status)) = sink.child.try_wait() {
                panic!(
                    "aiosmtpd exited with {status}:\n{}",
                    std::fs::read_to_string(&sink.log).unwrap_or_default()
                );
            }
            let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
            s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
            let mut buf = [0u8; 3];
            s.read_exact(&mut buf).ok()?;
            Some(buf)
        });
        assert_eq!(&greeted, b"220");
        sink
    }

    /// The messages received so far (raw), in the order the maildir lists them.
    fn received(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries.map(|e| e.expect("entry").path()).collect();
        paths.sort();
        paths
            .iter()
            .map(|p| std::fs::read(p).expect("maildir file"))
            .collect()
    }

    /// Waits (bounded) until `n` messages have arrived, and returns them.
    fn wait_for_messages(&self, n: usize, limit: Duration) -> Vec<Vec<u8>> {
        wait_for(&format!("{n} emails at aiosmtpd"), limit, || {
            let got = self.received();
            (got.len() >= n).then_some(got)
        })
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = terminate(&mut self.child, Duration::from_secs(5));
        if std::thread::panicking() {
            eprintln!(
                "--- aiosmtpd log ---\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
    }
}

/// One received email, parsed.
struct Received {
    subject: String,
    from: String,
    to: String,
    text: String,
    /// (file name, MIME type, bytes) of each attachment.
    attachments: Vec<(String, String, Vec<u8>)>,
}

fn parse(raw: &[u8]) -> Received {
    use mail_parser::MimeHeaders;
    let m = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a parsable email");
    let first = |list: Option<&mail_parser::Address<'_>>| {
        list.and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string()
    };
    Received {
        subject: m.subject().unwrap_or_default().to_string(),
        from: first(m.from()),
        to: first(m.to()),
        text: m.body_text(0).unwrap_or_default().to_string(),
        attachments: m
            .attachments()
            .map(|a| {
                let ct = a.content_type().expect("content type");
                (
                    a.attachment_name().unwrap_or_default().to_string(),
                    format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()),
                    a.contents().to_vec(),
                )
            })
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------
// The store and the configuration
// ---------------------------------------------------------------------------------------

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Stores a message of `secs` seconds from `caller` (with `name`) in `mailbox` and queues
/// its email to `address`, as the deposit flow will; returns the message and its WAV file's
/// bytes. The server must be stopped (one store per data directory).
fn deposit(
    data_dir: &Path,
    mailbox: &str,
    caller: (&str, Option<&str>),
    secs: u32,
    email: (&str, EmailMode),
) -> (Message, Vec<u8>) {
    let (mut store, _) = MessageStore::open(data_dir).expect("open the voicemail store");
    let mb = MailboxId::new(mailbox).expect("mailbox name");
    let mut writer = store.start_recording(&mb).expect("start a recording");
    let seed: i32 = mailbox.parse().expect("a number");
    let samples: Vec<i16> = (0..secs * SAMPLE_RATE)
        .map(|i| ((i as i32 * seed) % 8000 - 4000) as i16)
        .collect();
    writer.write_samples(&samples).expect("write audio");
    let envelope = NewMessage {
        kind: MessageKind::Message,
        caller_number: Some(caller.0.into()),
        caller_name: caller.1.map(Into::into),
        received_at: unix_now(),
        urgent: false,
    };
    let message = match store.commit_message(writer, envelope).expect("commit") {
        CommitOutcome::Stored(m) => m,
        other => panic!("message not stored: {other:?}"),
    };
    store
        .queue_email(message.id, email.0, email.1, unix_now())
        .expect("email queued");
    let bytes = std::fs::read(store.message_path(&message)).expect("the WAV file");
    (message, bytes)
}

/// The exported configuration with `[system.smtp]` on 127.0.0.1:`port` and each of
/// `users` (extension, address, mode) given its voicemail email.
fn email_config(server: &Server, port: u16, users: &[(&str, &str, &str)]) -> String {
    email_config_with(server, port, "", users)
}

/// As [`email_config`], with `extra` lines in `[system.smtp]`.
fn email_config_with(
    server: &Server,
    port: u16,
    extra: &str,
    users: &[(&str, &str, &str)],
) -> String {
    let mut doc = server.export();
    let none = "# [system.smtp]: none, so no voicemail email is sent\n";
    let smtp = format!(
        "[system.smtp]\nserver = \"127.0.0.1\"\nport = {port}\nfrom = \"voicemail@example.com\"\n\
         {extra}"
    );
    doc = if doc.contains(none) {
        doc.replacen(none, &smtp, 1)
    } else {
        let start = doc.find("[system.smtp]\n").expect("an smtp section");
        let end = start + doc[start..].find("\n\n").expect("end of the section") + 1;
        format!("{}{smtp}{}", &doc[..start], &doc[end..])
    };
    for (extension, address, mode) in users {
        let user = doc
            .find(&format!("name = \"user{extension}\"\n"))
            .unwrap_or_else(|| panic!("no user{extension} in:\n{doc}"));
        let line = "voicemail_email_mode = \"off\"\n";
        let at = user + doc[user..].find(line).expect("the user's email mode");
        doc.replace_range(
            at..at + line.len(),
            &format!("voicemail_email = \"{address}\"\nvoicemail_email_mode = \"{mode}\"\n"),
        );
    }
    doc
}

fn apply(server: &Server, doc: &str) -> String {
    let file = server.write_file(&format!("email-{}.toml", common::unique()), doc);
    server.cli_ok(&["config", "apply", file.to_str().expect("utf-8 path")])
}

fn dead_port() -> u16 {
    // Free now, and nothing of ours listens on it.
    free_port()
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[test]
fn notify_copy_and_forward_reach_a_real_smtp_server() {
    let mut server = Server::start();
    server.stop();
    let dir = server.data_dir().to_owned();
    let (copied, copied_wav) = deposit(
        &dir,
        "201",
        ("202", Some("Reception")),
        2,
        ("alice@example.com", EmailMode::Copy),
    );
    let (forwarded, forwarded_wav) = deposit(
        &dir,
        "203",
        ("204", None),
        3,
        ("carol@example.com", EmailMode::Forward),
    );
    let (notified, _) = deposit(
        &dir,
        "205",
        ("201", Some("Extension 201")),
        1,
        ("erin@example.com", EmailMode::Notify),
    );
    let sink = SmtpSink::start(server.scratch(), free_port());
    apply(
        &server,
        &email_config(
            &server,
            sink.port,
            &[
                ("201", "alice@example.com", "copy"),
                ("203", "carol@example.com", "forward"),
                ("205", "erin@example.com", "notify"),
            ],
        ),
    );
    server.restart();

    let mails: Vec<Received> = sink
        .wait_for_messages(3, Duration::from_secs(60))
        .iter()
        .map(|raw| parse(raw))
        .collect();
    let find = |to: &str| {
        mails
            .iter()
            .find(|m| m.to == to)
            .unwrap_or_else(|| panic!("no email to {to}"))
    };

    let copy = find("alice@example.com");
    assert_eq!(
        copy.subject,
        "Voicemail from 202 (Reception) to mailbox 201, 0:02"
    );
    assert_eq!(copy.from, "voicemail@example.com");
    assert!(copy.text.contains("Mailbox:   201"), "{}", copy.text);
    assert!(copy.text.contains("Length:    0:02"), "{}", copy.text);
    assert_eq!(
        copy.attachments,
        [(
            format!("voicemail-{}.wav", copied.id),
            "audio/wav".to_string(),
            copied_wav
        )]
    );

    let forward = find("carol@example.com");
    assert_eq!(forward.subject, "Voicemail from 204 to mailbox 203, 0:03");
    assert_eq!(forward.attachments.len(), 1);
    assert_eq!(
        forward.attachments[0].0,
        format!("voicemail-{}.wav", forwarded.id)
    );
    assert_eq!(forward.attachments[0].2, forwarded_wav);

    let notify = find("erin@example.com");
    assert_eq!(
        notify.subject,
        "Voicemail from 201 (Extension 201) to mailbox 205, 0:01"
    );
    assert!(notify.attachments.is_empty());
    assert!(notify.text.contains("Dial *17"), "{}", notify.text);

    // The forwarded message leaves its mailbox; the others stay.
    let root = dir.join(voicemail::VOICEMAIL_DIR);
    wait_for(
        "the forwarded message to go",
        Duration::from_secs(10),
        || (!root.join("203").join(&forwarded.file).exists()).then_some(()),
    );
    assert!(root.join("201").join(&copied.file).exists());
    assert!(root.join("205").join(&notified.file).exists());
    let log = server.log();
    assert_eq!(log.matches("voicemail email sent").count(), 3, "{log}");
    assert!(log.contains("message forwarded by email"), "{log}");

    server.stop();
    let (store, report) = MessageStore::open(&dir).expect("reopen the store");
    assert!(report.is_clean(), "{report:?}");
    assert!(store.pending_emails().expect("outbox").is_empty());
    assert!(store.message(forwarded.id).expect("read").is_none());
    assert!(store.message(copied.id).expect("read").is_some());
    assert!(store.message(notified.id).expect("read").is_some());
}

#[test]
fn a_dead_mail_server_is_retried_after_30_s_and_the_message_kept_until_then() {
    let mut server = Server::start();
    server.stop();
    let dir = server.data_dir().to_owned();
    let (message, wav) = deposit(
        &dir,
        "201",
        ("202", None),
        2,
        ("alice@example.com", EmailMode::Forward),
    );
    let port = dead_port();
    apply(
        &server,
        &email_config(&server, port, &[("201", "alice@example.com", "forward")]),
    );
    server.restart();

    // The first attempt fails (nothing listens), is logged, and the message stays.
    wait_for(
        "the failed attempt in the log",
        Duration::from_secs(30),
        || {
            server
                .log()
                .contains("voicemail email not sent")
                .then_some(())
        },
    );
    let failed_at = Instant::now();
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains("voicemail email not sent"))
        .expect("the line");
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("attempt=1"), "{line}");
    assert!(
        line.contains(&format!("message_id={}", message.id)),
        "{line}"
    );
    assert!(line.contains("retry_in_secs=30"), "{line}");
    assert!(line.to_lowercase().contains("connection"), "{line}");
    let file = dir
        .join(voicemail::VOICEMAIL_DIR)
        .join("201")
        .join(&message.file);
    assert!(file.exists());

    // The mail server comes up on that port; the retry 30 s later delivers.
    let sink = SmtpSink::start(server.scratch(), port);
    let mails = sink.wait_for_messages(1, Duration::from_secs(60));
    let waited = failed_at.elapsed();
    assert!(
        waited >= Duration::from_secs(20),
        "delivered after {waited:?}: the 30 s back-off was not kept"
    );
    let mail = parse(&mails[0]);
    assert_eq!(mail.to, "alice@example.com");
    assert_eq!(mail.attachments.len(), 1);
    assert_eq!(mail.attachments[0].2, wav);
    wait_for(
        "the forwarded message to go",
        Duration::from_secs(10),
        || (!file.exists()).then_some(()),
    );
    let log = server.log();
    let sent = log
        .lines()
        .find(|l| l.contains("voicemail email sent"))
        .expect("the success line");
    assert!(sent.contains("attempt=2"), "{sent}");
}

#[test]
fn a_changed_mail_server_is_tried_at_once() {
    let mut server = Server::start();
    server.stop();
    let dir = server.data_dir().to_owned();
    let (message, _) = deposit(
        &dir,
        "201",
        ("202", None),
        2,
        ("alice@example.com", EmailMode::Copy),
    );
    apply(
        &server,
        &email_config(
            &server,
            dead_port(),
            &[("201", "alice@example.com", "copy")],
        ),
    );
    server.restart();
    wait_for(
        "the failed attempt in the log",
        Duration::from_secs(30),
        || {
            server
                .log()
                .contains("voicemail email not sent")
                .then_some(())
        },
    );

    // The administrator fixes the port while the server runs: no waiting out the delay.
    let sink = SmtpSink::start(server.scratch(), free_port());
    let changed_at = Instant::now();
    let answer = apply(
        &server,
        &email_config(&server, sink.port, &[("201", "alice@example.com", "copy")]),
    );
    assert!(answer.contains("running server reloaded"), "{answer}");
    let mails = sink.wait_for_messages(1, Duration::from_secs(20));
    assert!(
        changed_at.elapsed() < Duration::from_secs(20),
        "{:?}",
        changed_at.elapsed()
    );
    assert_eq!(parse(&mails[0]).to, "alice@example.com");
    assert!(server
        .log()
        .contains("retrying waiting voicemail emails now"));
    // A copy: the message stays in the mailbox.
    assert!(dir
        .join(voicemail::VOICEMAIL_DIR)
        .join("201")
        .join(&message.file)
        .exists());
}

#[test]
fn starttls_required_is_never_downgraded_to_plain_smtp() {
    let mut server = Server::start();
    server.stop();
    let dir = server.data_dir().to_owned();
    let (message, _) = deposit(
        &dir,
        "201",
        ("202", None),
        2,
        ("alice@example.com", EmailMode::Forward),
    );
    // aiosmtpd without a certificate offers no STARTTLS.
    let sink = SmtpSink::start(server.scratch(), free_port());
    apply(
        &server,
        &email_config_with(
            &server,
            sink.port,
            "starttls = true\n",
            &[("201", "alice@example.com", "forward")],
        ),
    );
    server.restart();
    wait_for(
        "the refused attempt in the log",
        Duration::from_secs(30),
        || {
            server
                .log()
                .contains("voicemail email not sent")
                .then_some(())
        },
    );
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains("voicemail email not sent"))
        .expect("the line");
    assert!(line.contains("retry_in_secs=30"), "{line}");
    // Nothing went out in plain, and the forwarded message is still in its mailbox.
    assert!(sink.received().is_empty());
    assert!(dir
        .join(voicemail::VOICEMAIL_DIR)
        .join("201")
        .join(&message.file)
        .exists());
}

#[test]
fn a_message_left_in_a_call_is_emailed_with_its_recording() {
    use common::baresip::{file_stat, start_controlled, tone, Baresip};
    let server = Server::start();
    let sink = SmtpSink::start(server.scratch(), free_port());
    apply(
        &server,
        &email_config(&server, sink.port, &[("202", "bob@example.com", "copy")]),
    );
    // 201 calls 202, which has no phone: the mailbox answers; 201's tone is recorded for
    // about five seconds after the greeting and the tone.
    let dir = Baresip::new_dir();
    let source = tone(dir.path(), 1000);
    let (_p201, mut caller) = start_controlled(&server, "201", dir, &source, &[], "");
    caller.command("dial", &format!("sip:202@{}", server.addr()));
    caller.wait_event("CALL_ESTABLISHED", Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(13));
    caller.command("hangup", "");
    caller.wait_event("CALL_CLOSED", Duration::from_secs(20));

    let mails = sink.wait_for_messages(1, Duration::from_secs(60));
    let mail = parse(&mails[0]);
    assert_eq!(mail.to, "bob@example.com");
    assert!(
        mail.text.contains("201"),
        "the email names the caller:\n{}",
        mail.text
    );
    assert_eq!(
        mail.attachments.len(),
        1,
        "{:?}",
        mail.attachments.iter().map(|a| &a.0).collect::<Vec<_>>()
    );
    let (name, mime, wav) = &mail.attachments[0];
    assert!(
        name.starts_with("voicemail-") && name.ends_with(".wav"),
        "{name}"
    );
    assert_eq!(mime, "audio/wav");
    let attached = server.scratch().join("attached.wav");
    std::fs::write(&attached, wav).expect("write the attachment");
    let heard = file_stat(&attached, None);
    eprintln!("attached recording: {heard:?}");
    assert!(
        (950.0..1050.0).contains(&heard.frequency) && heard.rms > 0.1 && heard.seconds > 3.0,
        "the attachment is not the caller's tone: {heard:?}"
    );
}
