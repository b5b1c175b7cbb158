//! Message waiting: the counts a phone's lamp shows, and the RFC 3842 body that carries
//! them in a `message-summary` NOTIFY.
//!
//! RFC 3842 §5.2, the `application/simple-message-summary` body:
//!
//! ```text
//! message-summary  = msg-status-line CRLF
//!                    [msg-account CRLF]
//!                    [*(msg-summary-line CRLF)]
//!                    [ *opt-msg-headers ]
//! msg-status-line  = "Messages-Waiting" HCOLON msg-status      ; "yes" / "no"
//! msg-account      = "Message-Account" HCOLON Account-URI
//! msg-summary-line = message-context-class HCOLON newmsgs SLASH oldmsgs
//!                    [ LPAREN new-urgentmsgs SLASH old-urgentmsgs RPAREN ]
//! msgcount         = 1*DIGIT   ; MUST NOT exceed 2^32-1
//! ```
//!
//! Everything this store holds is voice, so the one summary line uses the
//! `voice-message` class of RFC 3458, written `Voice-Message` as in the RFC's examples.

use crate::error::{SqlContext, VoicemailError};
use crate::mailbox::MailboxId;
use crate::store::MessageStore;
use std::fmt::Write;

/// The message-waiting counts of a mailbox. Counts are `u32` because RFC 3842 caps them
/// at 2^32-1. Saved messages count as old: they have been heard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageSummary {
    /// Messages not heard yet.
    pub new: u32,
    /// Messages heard (old or saved).
    pub old: u32,
    /// Of the new ones, those marked urgent.
    pub new_urgent: u32,
    /// Of the old ones, those marked urgent.
    pub old_urgent: u32,
}

impl MessageSummary {
    /// Whether the lamp is lit: there is at least one new message.
    pub fn waiting(&self) -> bool {
        self.new > 0
    }

    /// The `application/simple-message-summary` body, CRLF line ends, with a
    /// `Message-Account` line when `account` (the mailbox's SIP URI) is given. `account`
    /// is written as given; line breaks in it are removed so that it cannot add lines.
    pub fn to_body(&self, account: Option<&str>) -> String {
        let mut body = String::with_capacity(96);
        let status = if self.waiting() { "yes" } else { "no" };
        // Writing to a String cannot fail.
        let _ = write!(body, "Messages-Waiting: {status}\r\n");
        if let Some(uri) = account {
            let uri: String = uri.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            let _ = write!(body, "Message-Account: {uri}\r\n");
        }
        let _ = write!(
            body,
            "Voice-Message: {}/{} ({}/{})\r\n",
            self.new, self.old, self.new_urgent, self.old_urgent
        );
        body
    }
}

impl MessageStore {
    /// The message-waiting counts of `mailbox`.
    pub fn summary(&self, mailbox: &MailboxId) -> Result<MessageSummary, VoicemailError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT state = 'new', urgent, count(*) FROM messages WHERE mailbox = ?1
                 GROUP BY state = 'new', urgent",
            )
            .ctx("summarising a mailbox")?;
        let rows = stmt
            .query_map([mailbox.as_str()], |r| {
                Ok((
                    r.get::<_, bool>(0)?,
                    r.get::<_, bool>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .ctx("summarising a mailbox")?;
        let mut s = MessageSummary::default();
        for row in rows {
            let (new, urgent, n) = row.ctx("summarising a mailbox")?;
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            let (total, urgent_total) = if new {
                (&mut s.new, &mut s.new_urgent)
            } else {
                (&mut s.old, &mut s.old_urgent)
            };
            *total = total.saturating_add(n);
            if urgent {
                *urgent_total = urgent_total.saturating_add(n);
            }
        }
        Ok(s)
    }

    /// The counts of every mailbox that holds at least one message, by mailbox name: what
    /// a server sends as unsolicited NOTIFYs when it starts.
    pub fn summaries(&self) -> Result<Vec<(MailboxId, MessageSummary)>, VoicemailError> {
        let mailboxes: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT DISTINCT mailbox FROM messages ORDER BY mailbox")
                .ctx("listing mailboxes")?;
            let rows = stmt.query_map([], |r| r.get(0)).ctx("listing mailboxes")?;
            rows.collect::<Result<_, _>>().ctx("listing mailboxes")?
        };
        let mut out = Vec::with_capacity(mailboxes.len());
        for name in mailboxes {
            // Rows are only ever written with checked names; skip one that is not.
            let Ok(mailbox) = MailboxId::new(&name) else {
                continue;
            };
            let summary = self.summary(&mailbox)?;
            out.push((mailbox, summary));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_matches_rfc_3842_example_shape() {
        // RFC 3842 §4's example counts: 2 new, 8 old, of which 0 and 2 urgent.
        let s = MessageSummary {
            new: 2,
            old: 8,
            new_urgent: 0,
            old_urgent: 2,
        };
        assert_eq!(
            s.to_body(Some("sip:alice@vmail.example.com")),
            "Messages-Waiting: yes\r\n\
             Message-Account: sip:alice@vmail.example.com\r\n\
             Voice-Message: 2/8 (0/2)\r\n"
        );
    }

    #[test]
    fn no_new_messages_is_not_waiting() {
        let s = MessageSummary {
            old: 3,
            ..MessageSummary::default()
        };
        assert!(!s.waiting());
        assert_eq!(
            s.to_body(None),
            "Messages-Waiting: no\r\nVoice-Message: 0/3 (0/0)\r\n"
        );
        assert_eq!(
            s.to_body(Some("sip:201@pbx\r\nX: y")),
            "Messages-Waiting: no\r\nMessage-Account: sip:201@pbxX: y\r\nVoice-Message: 0/3 (0/0)\r\n"
        );
    }
}
