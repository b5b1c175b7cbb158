//! Writing a voicemail email: the subject ("Voicemail from 201 (Alice) to mailbox 202,
//! 0:07"), a plain-text body saying who called, when, for how long and to which mailbox,
//! and for copies and forwards the recording attached as `voicemail-<id>.wav`
//! (`audio/wav`).
//!
//! Caller names come from the network (a SIP display name): control characters are
//! removed and the name is cut to a sensible length before it goes into a header.

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::Address;
use voicemail::{EmailMode, Message, MessageKind, OutboxEntry};

/// The longest caller name put in a subject or body (longer names are cut).
const MAX_NAME_CHARS: usize = 64;

/// What a voicemail email says besides the message itself: the system's name and time
/// zone, the sender, and the short code that collects messages.
#[derive(Debug, Clone)]
pub struct Letterhead {
    /// `[system] name`, in the sender's display name and the signature.
    pub system_name: String,
    /// The sender address (`[system.smtp] from`).
    pub from: String,
    /// The time zone times are written in (`[system] timezone`, else the machine's).
    pub zone: jiff::tz::TimeZone,
    /// The short code that collects voicemail (`*17`), if one is configured.
    pub collect_code: Option<String>,
}

/// Why an email could not be written (never expected with a validated configuration).
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// An address that does not parse (`from` or the mailbox's).
    #[error("{which} address {address:?} is not valid: {source}")]
    Address {
        /// "sender" or "recipient".
        which: &'static str,
        /// The address as configured.
        address: String,
        /// What lettre said.
        source: lettre::address::AddressError,
    },
    /// lettre refused to build the message.
    #[error("the email cannot be built: {0}")]
    Build(#[from] lettre::error::Error),
}

/// The email about `message` for `entry`, with `audio` (the WAV file's bytes) attached
/// when the entry's mode attaches the recording. `owner` is the mailbox owner's name for
/// the To header, if known.
pub fn compose(
    head: &Letterhead,
    entry: &OutboxEntry,
    message: &Message,
    owner: Option<&str>,
    audio: Option<Vec<u8>>,
) -> Result<lettre::Message, ComposeError> {
    let from = parse_address("sender", &head.from)?;
    let to = parse_address("recipient", &entry.address)?;
    let from = Mailbox::new(
        Some(format!("{} voicemail", clean(&head.system_name))),
        from,
    );
    let to = Mailbox::new(owner.map(clean).filter(|n| !n.is_empty()), to);
    let builder = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(subject(message))
        // RFC 3834: a machine wrote this; out-of-office replies should not answer it.
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_owned(),
        ));
    let text = body(head, entry.mode, message);
    let email = match audio {
        Some(bytes) if entry.mode.attaches_audio() => {
            let wav = ContentType::parse("audio/wav").expect("a valid MIME type");
            builder.multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(text))
                    .singlepart(Attachment::new(attachment_name(message)).body(bytes, wav)),
            )?
        }
        _ => builder.singlepart(SinglePart::plain(text))?,
    };
    Ok(email)
}

fn parse_address(which: &'static str, address: &str) -> Result<Address, ComposeError> {
    address
        .parse::<Address>()
        .map_err(|source| ComposeError::Address {
            which,
            address: address.to_owned(),
            source,
        })
}

/// `voicemail-17.wav`.
pub fn attachment_name(message: &Message) -> String {
    format!("voicemail-{}.wav", message.id)
}

/// `Voicemail from 201 (Alice) to mailbox 202, 0:07`; `Urgent: ` before it for urgent
/// messages, `Call recording` instead of `Voicemail` for recordings.
pub fn subject(message: &Message) -> String {
    let what = match message.kind {
        MessageKind::Message => "Voicemail",
        MessageKind::Recording => "Call recording",
    };
    format!(
        "{}{what} from {} to mailbox {}, {}",
        if message.urgent { "Urgent: " } else { "" },
        caller(message),
        message.mailbox,
        duration(message.duration_ms)
    )
}

/// The plain-text body.
pub fn body(head: &Letterhead, mode: EmailMode, message: &Message) -> String {
    let what = match message.kind {
        MessageKind::Message => "voicemail message",
        MessageKind::Recording => "call recording",
    };
    let mut text = format!(
        "A new {what} is in mailbox {}.\n\n\
         From:      {}\n\
         Received:  {}\n\
         Length:    {}\n\
         Mailbox:   {}\n",
        message.mailbox,
        caller(message),
        received(head, message.received_at),
        duration(message.duration_ms),
        message.mailbox,
    );
    if message.urgent {
        text.push_str("Priority:  urgent\n");
    }
    if let Some(from) = &message.forwarded_from {
        text.push_str(&format!("Forwarded: from mailbox {from}\n"));
    }
    text.push('\n');
    let name = attachment_name(message);
    let listen = head
        .collect_code
        .as_ref()
        .map(|code| format!(" Dial {code} from your phone to listen to it."))
        .unwrap_or_default();
    match mode {
        EmailMode::Notify => text.push_str(&format!("It is waiting in the mailbox.{listen}\n")),
        EmailMode::Copy => text.push_str(&format!(
            "The recording is attached ({name}); the message stays in the mailbox too.{listen}\n"
        )),
        EmailMode::Forward => text.push_str(&format!(
            "The recording is attached ({name}). It has been moved to this email: it is no \
             longer kept in the mailbox.\n"
        )),
    }
    text.push_str(&format!("\n-- \n{}\n", clean(&head.system_name)));
    text
}

/// `201 (Alice)`, `201`, `Alice`, or `an unknown caller`.
fn caller(message: &Message) -> String {
    let number = message
        .caller_number
        .as_deref()
        .map(clean)
        .filter(|n| !n.is_empty());
    let name = message
        .caller_name
        .as_deref()
        .map(clean)
        .filter(|n| !n.is_empty());
    match (number, name) {
        (Some(number), Some(name)) if name != number => format!("{number} ({name})"),
        (Some(number), _) => number,
        (None, Some(name)) => name,
        (None, None) => "an unknown caller".to_owned(),
    }
}

/// `text` without control characters, trimmed, at most [`MAX_NAME_CHARS`] characters.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// `0:07`, `12:34`, `1:02:03`: whole seconds, rounded.
pub fn duration(ms: u64) -> String {
    let secs = ms.saturating_add(500) / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// `2026-11-22 14:03:07 +00:00 (Europe/London)`.
fn received(head: &Letterhead, unix: u64) -> String {
    let zone_name = head
        .zone
        .iana_name()
        .map_or_else(|| "UTC offset".to_owned(), str::to_owned);
    match jiff::Timestamp::from_second(i64::try_from(unix).unwrap_or(i64::MAX)) {
        Ok(t) => format!(
            "{} ({zone_name})",
            t.to_zoned(head.zone.clone())
                .strftime("%Y-%m-%d %H:%M:%S %:z")
        ),
        Err(_) => format!("{unix} (unix time)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MimeHeaders;
    use voicemail::{MailboxId, MessageId, MessageState};

    fn head() -> Letterhead {
        Letterhead {
            system_name: "Acme PBX".into(),
            from: "voicemail@example.com".into(),
            zone: jiff::tz::TimeZone::get("Europe/London").expect("zone"),
            collect_code: Some("*17".into()),
        }
    }

    fn message() -> Message {
        Message {
            id: MessageId(17),
            mailbox: MailboxId::new("202").expect("mailbox"),
            kind: MessageKind::Message,
            caller_number: Some("201".into()),
            caller_name: Some("Alice".into()),
            // 2026-07-01 12:00:00 UTC: British Summer Time.
            received_at: 1_782_907_200,
            duration_ms: 7_400,
            state: MessageState::New,
            file: "17.wav".into(),
            urgent: false,
            forwarded_from: None,
        }
    }

    fn entry(mode: EmailMode) -> OutboxEntry {
        OutboxEntry {
            id: 1,
            message: MessageId(17),
            mailbox: MailboxId::new("202").expect("mailbox"),
            address: "bob@example.com".into(),
            mode,
            attempts: 0,
            next_attempt_at: 0,
            last_error: None,
            created_at: 0,
        }
    }

    fn parsed(email: &lettre::Message) -> mail_parser::Message<'static> {
        mail_parser::MessageParser::default()
            .parse(&email.formatted())
            .expect("the email parses")
            .into_owned()
    }

    #[test]
    fn subjects() {
        let mut m = message();
        assert_eq!(
            subject(&m),
            "Voicemail from 201 (Alice) to mailbox 202, 0:07"
        );
        m.caller_name = None;
        m.duration_ms = 65_499;
        assert_eq!(subject(&m), "Voicemail from 201 to mailbox 202, 1:05");
        m.caller_number = None;
        m.caller_name = Some("Reception\r\nBcc: evil@example.com".into());
        m.urgent = true;
        assert_eq!(
            subject(&m),
            "Urgent: Voicemail from ReceptionBcc: evil@example.com to mailbox 202, 1:05"
        );
        m.caller_name = None;
        m.kind = MessageKind::Recording;
        m.urgent = false;
        m.duration_ms = 3_723_000;
        assert_eq!(
            subject(&m),
            "Call recording from an unknown caller to mailbox 202, 1:02:03"
        );
    }

    #[test]
    fn durations_round_to_the_second() {
        let shown: Vec<String> = [0, 499, 500, 7_400, 59_500, 600_000, 3_600_000]
            .into_iter()
            .map(duration)
            .collect();
        assert_eq!(
            shown,
            ["0:00", "0:00", "0:01", "0:07", "1:00", "10:00", "1:00:00"]
        );
    }

    #[test]
    fn a_notification_says_who_when_how_long_and_where() {
        let email = compose(
            &head(),
            &entry(EmailMode::Notify),
            &message(),
            Some("Bob"),
            None,
        )
        .expect("composed");
        let p = parsed(&email);
        assert_eq!(
            p.subject(),
            Some("Voicemail from 201 (Alice) to mailbox 202, 0:07")
        );
        let from = p.from().and_then(|a| a.first()).expect("from");
        assert_eq!(from.address(), Some("voicemail@example.com"));
        assert_eq!(from.name(), Some("Acme PBX voicemail"));
        let to = p.to().and_then(|a| a.first()).expect("to");
        assert_eq!(
            (to.address(), to.name()),
            (Some("bob@example.com"), Some("Bob"))
        );
        assert_eq!(
            p.header_raw("Auto-Submitted").map(str::trim),
            Some("auto-generated")
        );
        assert_eq!(p.attachment_count(), 0);
        let text = p.body_text(0).expect("text");
        for line in [
            "A new voicemail message is in mailbox 202.",
            "From:      201 (Alice)",
            "Received:  2026-07-01 13:00:00 +01:00 (Europe/London)",
            "Length:    0:07",
            "Mailbox:   202",
            "It is waiting in the mailbox. Dial *17 from your phone to listen to it.",
        ] {
            assert!(text.contains(line), "{line:?} not in:\n{text}");
        }
        // Audio handed to a notification is not attached.
        let email = compose(
            &head(),
            &entry(EmailMode::Notify),
            &message(),
            None,
            Some(b"RIFF".to_vec()),
        )
        .expect("composed");
        assert_eq!(parsed(&email).attachment_count(), 0);
    }

    #[test]
    fn copies_and_forwards_carry_the_wav() {
        let wav: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        for mode in [EmailMode::Copy, EmailMode::Forward] {
            let email = compose(&head(), &entry(mode), &message(), None, Some(wav.clone()))
                .expect("composed");
            let p = parsed(&email);
            assert_eq!(p.attachment_count(), 1, "{mode:?}");
            let a = p.attachment(0).expect("attachment");
            assert_eq!(a.attachment_name(), Some("voicemail-17.wav"));
            let ct = a.content_type().expect("content type");
            assert_eq!((ct.ctype(), ct.subtype()), ("audio", Some("wav")));
            assert_eq!(a.contents(), wav.as_slice());
            let text = p.body_text(0).expect("text");
            let said = match mode {
                EmailMode::Copy => "the message stays in the mailbox too",
                _ => "it is no longer kept in the mailbox",
            };
            assert!(text.contains(said), "{text}");
        }
    }

    #[test]
    fn bad_addresses_are_errors_not_panics() {
        let mut e = entry(EmailMode::Notify);
        e.address = "not an address".into();
        let err = compose(&head(), &e, &message(), None, None).expect_err("refused");
        assert!(err.to_string().starts_with("recipient address"), "{err}");
    }

    /// Every address the configuration accepts is one lettre can send to: what passes
    /// `config apply` never fails at sending time for its form.
    #[test]
    fn addresses_the_configuration_accepts_parse_in_lettre() {
        for address in [
            "a@b",
            "voicemail@localhost",
            "first.last+vm@mail-1.example.co.uk",
            "o'brien@example.com",
            "x!#$%&'*+-/=?^_`{|}~@example.com",
        ] {
            assert!(
                store::validate::is_valid_email_address(address),
                "{address}"
            );
            assert!(address.parse::<Address>().is_ok(), "{address}");
        }
    }
}
