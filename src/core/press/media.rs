//! The mail to the media: who gets a release, and the copies that go.

use std::collections::HashSet;

use super::Release;
use super::export::{labels, plain_text};
use crate::core::outbound::{MailKind, OutgoingMail};

/// The addresses a release goes to, from the e-mail addresses of media partners' people:
/// what looks like an address, each once (case aside), in the order given.
pub fn media_recipients<'a>(emails: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen = HashSet::new();
    emails
        .into_iter()
        .map(str::trim)
        .filter(|email| is_plain_address(email))
        .filter(|email| seen.insert(email.to_lowercase()))
        .map(str::to_string)
        .collect()
}

/// `local@domain`, with nothing a mail header would read as a second address or a name.
fn is_plain_address(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    let clean = |part: &str| !part.is_empty() && !part.chars().any(|c| c.is_whitespace() || c.is_control() || "<>,;:\"()[]\\@".contains(c));
    clean(local) && clean(domain) && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
}

/// The mail to the media: the copy the register keeps, addressed to every recipient (the record
/// of who got it), and one copy for each recipient, so that no newsroom sees the others'
/// addresses. All carry the number in the subject and in their Message-IDs, so that replies
/// thread to it and bounces are tied back. `message_id` gives a fresh Message-ID for the number.
pub fn media_mails(
    release: &Release,
    from: &str,
    recipients: &[String],
    number: &str,
    mut message_id: impl FnMut() -> String,
) -> (OutgoingMail, Vec<OutgoingMail>) {
    let mail = |to: Vec<String>, message_id: String| OutgoingMail {
        kind: MailKind::Correspondence,
        from: from.to_string(),
        to,
        subject: format!("[{number}] {}", release.content.headline),
        // The mail leaves at the embargo, not before: when it arrives, the release is free to print.
        text: plain_text(release, labels(release.language).immediate),
        in_reply_to: None,
        references: Vec::new(),
        // A person's release, not an automatic answer: out-of-office replies may come back.
        auto_submitted: false,
        attach_original: false,
        attachments: Vec::new(),
        message_id,
    };
    let record = mail(recipients.to_vec(), message_id());
    let copies = recipients.iter().map(|to| mail(vec![to.clone()], message_id())).collect();
    (record, copies)
}
