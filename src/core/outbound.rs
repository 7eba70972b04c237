//! Mail the university sends: plain data, decided by the core, kept in the outbox, sent by the
//! SMTP adapter.

use serde::{Deserialize, Serialize};

/// The header every mail Chancery sends carries. Mail that arrives with it was written by a
/// Chancery (ours or another university's) and is never answered automatically: two registries
/// acknowledging each other's acknowledgements would never stop.
pub const LOOP_HEADER: &str = "X-Chancery-Loop";

/// Why the university writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MailKind {
    /// "Your letter was registered as IN-2026-000123", to the sender.
    Acknowledgement,
    /// A registered letter sent on to the unit that handles it.
    Forward,
    /// A letter of the university's own (an outgoing document).
    Correspondence,
    /// A reminder of a deadline, for a member of staff.
    Reminder,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Acknowledgement => "acknowledgement",
            MailKind::Forward => "forward",
            MailKind::Correspondence => "correspondence",
            MailKind::Reminder => "reminder",
        }
    }

    pub fn parse(text: &str) -> Option<MailKind> {
        match text {
            "acknowledgement" => Some(MailKind::Acknowledgement),
            "forward" => Some(MailKind::Forward),
            "correspondence" => Some(MailKind::Correspondence),
            "reminder" => Some(MailKind::Reminder),
            _ => None,
        }
    }

    /// The `Auto-Submitted` value (RFC 3834) for mail of this kind written by a program:
    /// an acknowledgement answers a message, a forward is generated.
    pub fn auto_submitted_value(self) -> &'static str {
        match self {
            MailKind::Acknowledgement => "auto-replied",
            MailKind::Forward | MailKind::Correspondence | MailKind::Reminder => "auto-generated",
        }
    }
}

/// One mail to send, complete: the adapter adds only the Date, the MIME structure and, for
/// `attach_original`, the registered letter's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMail {
    pub kind: MailKind,
    /// `registry@uni.example` or `University Registry <registry@uni.example>`.
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    /// The plain-text body (UTF-8).
    pub text: String,
    /// A Message-ID without angle brackets.
    pub in_reply_to: Option<String>,
    /// Message-IDs without angle brackets, oldest first.
    pub references: Vec<String>,
    /// Written by a program: the adapter adds `Auto-Submitted` (see
    /// [`MailKind::auto_submitted_value`]).
    pub auto_submitted: bool,
    /// Attach the registered letter (the outbox row's document) as `message/rfc822`.
    pub attach_original: bool,
    /// Files of other registered documents to attach (an agenda pack's), loaded by the adapter
    /// when it sends; the register keeps them once, under their own documents.
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
    /// Fixed when the mail is enqueued, without angle brackets, so that a resend after a crash
    /// is recognisable as the same message and a bounce can be tied back to it.
    pub message_id: String,
}

/// One file of a registered document, attached to a mail by reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub document_id: i64,
    /// The attachment's position in its document (1, 2, ...); 0 is the document's original
    /// message itself, attached as `message/rfc822` (a letter that came without attachments).
    pub position: u32,
    /// Its file name as the register has it, for people reading the outbox (the adapter takes
    /// the name from the register again, and makes it safe).
    pub name: String,
}

/// Why the message a registration keeps and sends could not be written: the registration is
/// refused, and nothing of it is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    /// The mail writer refused it (an address that does not parse, no recipient), in its words.
    #[error("{0}")]
    Unwritable(String),
    /// A press release goes to the media: without a media address there is nothing to send.
    #[error("a press release needs at least one recipient")]
    NoRecipients,
}

/// A Message-ID (without angle brackets) for a mail about a registered document, such as
/// `chancery.ack.IN-2026-000123.k3x9@uni.example`. The number inside lets a bounce be tied
/// back to the document even when the returned headers lost the subject. `unique` must differ
/// between mails (the adapter makes it from the clock and a counter).
pub fn message_id(kind: MailKind, number: &str, unique: &str, domain: &str) -> String {
    let tag = match kind {
        MailKind::Acknowledgement => "ack",
        MailKind::Forward => "fwd",
        MailKind::Correspondence => "out",
        MailKind::Reminder => "rem",
    };
    let clean = |text: &str| text.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')).collect::<String>();
    let number = if number.is_empty() { String::new() } else { format!("{}.", clean(number)) };
    format!("chancery.{tag}.{number}{}@{}", clean(unique), clean(domain))
}

/// The domain of an address such as `Registry <registry@uni.example>`, lower case.
pub fn domain_of(address: &str) -> Option<String> {
    let address = address.rsplit_once('<').map_or(address, |(_, rest)| rest.trim_end_matches('>'));
    address.rsplit_once('@').map(|(_, domain)| domain.trim().trim_end_matches('>').to_ascii_lowercase()).filter(|d| !d.is_empty())
}

/// Why a mail in the outbox cannot be sent again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetryError {
    #[error("mail {0} was sent already; there is nothing to retry")]
    Sent(i64),
    #[error("mail {0} is being sent right now; see `chancery outbox` in a minute")]
    BeingSent(i64),
    #[error("mail {id} is {status}; only failed or pending mail can be retried")]
    NotRetryable { id: i64, status: String },
}

/// Whether mail `id`, in `status` in the outbox, may be put back in line: only what failed,
/// or waits still, may; sending a sent mail again would send it twice.
pub fn check_retry(id: i64, status: &str) -> Result<(), RetryError> {
    match status {
        "failed" | "pending" => Ok(()),
        "sent" => Err(RetryError::Sent(id)),
        "sending" => Err(RetryError::BeingSent(id)),
        other => Err(RetryError::NotRetryable { id, status: other.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_carry_the_number() {
        let id = message_id(MailKind::Acknowledgement, "IN-2026-000123", "k3x9", "uni.example");
        assert_eq!(id, "chancery.ack.IN-2026-000123.k3x9@uni.example");
        assert_eq!(crate::core::number::numbers_in(&id)[0].to_string(), "IN-2026-000123");
        assert_eq!(message_id(MailKind::Correspondence, "", "a b<c>", "uni.example"), "chancery.out.abc@uni.example");
    }

    #[test]
    fn kinds_round_trip() {
        for kind in [MailKind::Acknowledgement, MailKind::Forward, MailKind::Correspondence, MailKind::Reminder] {
            assert_eq!(MailKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{}\"", kind.as_str()));
        }
    }

    #[test]
    fn a_compose_error_reads_as_the_refusal_says_it() {
        let cases = [
            (ComposeError::Unwritable("the mail has no recipient".into()), "the mail has no recipient"),
            (ComposeError::NoRecipients, "a press release needs at least one recipient"),
        ];
        for (error, words) in cases {
            assert_eq!(error.to_string(), words);
        }
    }

    #[test]
    fn domains_of_addresses() {
        assert_eq!(domain_of("Registry <registry@Uni.Example>").as_deref(), Some("uni.example"));
        assert_eq!(domain_of("registry@uni.example").as_deref(), Some("uni.example"));
        assert_eq!(domain_of("nobody"), None);
    }

    #[test]
    fn only_failed_or_waiting_mail_is_sent_again() {
        let cases = [
            ("failed", Ok(())),
            ("pending", Ok(())),
            ("sent", Err("mail 4 was sent already; there is nothing to retry")),
            ("sending", Err("mail 4 is being sent right now; see `chancery outbox` in a minute")),
            ("held", Err("mail 4 is held; only failed or pending mail can be retried")),
        ];
        for (status, wanted) in cases {
            assert_eq!(check_retry(4, status).map_err(|e| e.to_string()), wanted.map_err(str::to_string), "{status}");
        }
    }
}
