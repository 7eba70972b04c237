//! Bounces: delivery status notifications that return mail the university sent, tied back to
//! the message they return and the registration numbers it carried.
//!
//! Reads the standard form (RFC 3464: `multipart/report; report-type=delivery-status` with a
//! `message/delivery-status` part and the returned `message/rfc822` or `text/rfc822-headers`),
//! and the common older forms of qmail, Exim and others: a plain-text report from
//! mailer-daemon with the returned message pasted below a marker line.

use std::sync::LazyLock;

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use regex::Regex;
use serde::Serialize;

use super::letter::{Letter, normalize_message_id};
use super::number::numbers_in;

/// What a bounce says about the mail it returns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BounceInfo {
    /// The Message-ID of the returned mail, without angle brackets.
    pub original_message_id: Option<String>,
    /// Registration numbers (`IN-...`, `OUT-...`) named by the returned mail's subject and
    /// Message-ID, in order, without repeats.
    pub numbers: Vec<String>,
    /// The enhanced status code, e.g. `5.1.1` (4.x.x: delayed, still being tried).
    pub status: Option<String>,
    /// The recipient that failed.
    pub recipient: Option<String>,
    /// `failed`, `delayed`, ... from the report, when there is one.
    pub action: Option<String>,
    /// What the remote server said, on one line.
    pub diagnostic: Option<String>,
}

impl BounceInfo {
    /// A permanent failure: the mail will not be delivered (5.x.x, or a report saying failed).
    pub fn is_permanent(&self) -> bool {
        match (&self.action, &self.status) {
            (Some(action), _) if action == "delayed" || action == "delivered" || action == "relayed" || action == "expanded" => false,
            (_, Some(status)) => status.starts_with('5'),
            (Some(action), None) => action == "failed",
            (None, None) => true,
        }
    }
}

static STATUS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b").expect("status pattern"));
/// qmail: `<bob@x.org>:` alone at the start of a line.
static QMAIL_RECIPIENT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?m)^<([^<>\s@]+@[^<>\s]+)>:").expect("qmail pattern"));
/// Exim and others: the indented address under "The following address(es) failed:".
static LISTED_RECIPIENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)(?:following address(?:\(es\)|es)? failed|could not be delivered to)[^\n]*:\s*\n\s*<?([^<>\s@]+@[^<>\s:]+)>?")
        .expect("listed pattern")
});
static FINAL_RECIPIENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?im)^(?:final|original)-recipient:\s*(?:rfc822;)?\s*<?([^<>\s;]+@[^<>\s;]+)>?").expect("final pattern"));
static MESSAGE_ID_LINE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?im)^message-id:\s*<([^<>\r\n]+)>").expect("message-id pattern"));

/// Lines after which the older forms paste the returned message.
const RETURNED_MARKERS: [&str; 8] = [
    "--- Below this line is a copy of the message.",
    "------ This is a copy of the message, including all the headers. ------",
    "------ This is a copy of the message's headers. ------",
    "----- Original message -----",
    "--- The header of the original message is following. ---",
    "------ Original message ------",
    "Original message follows",
    "----- Transcript of session follows -----",
];

/// Subjects of the older, plain-text reports.
const BOUNCE_SUBJECTS: [&str; 10] = [
    "undelivered mail",
    "undeliverable",
    "delivery status notification",
    "mail delivery failed",
    "failure notice",
    "returned mail",
    "delivery failure",
    "mail delivery failure",
    "nondeliverable",
    "could not be delivered",
];

/// What a bounce says, or `None` when the letter is not a bounce (read receipts and
/// auto-replies are not).
pub fn bounced_message(letter: &Letter, raw: &[u8]) -> Option<BounceInfo> {
    let message = MessageParser::default().parse(raw)?;
    let report_type = message
        .content_type()
        .filter(|ct| ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report")))
        .map(|ct| ct.attribute("report-type").unwrap_or("").to_ascii_lowercase());
    let info = match report_type.as_deref() {
        Some("delivery-status" | "global-delivery-status") => Some(standard(&message)),
        Some(_) => None,
        None if looks_like_a_bounce(letter) => nonstandard(&message, raw),
        None => None,
    };
    info.map(without_nul)
}

/// The report is read from the raw bytes again, not from the letter's cleaned text: NUL is no
/// character anyone writes, and PostgreSQL refuses it in text (see `letter::read_letter`).
fn without_nul(mut info: BounceInfo) -> BounceInfo {
    let clean = |text: &mut String| text.retain(|c| c != '\0');
    [&mut info.original_message_id, &mut info.status, &mut info.recipient, &mut info.action, &mut info.diagnostic]
        .into_iter()
        .flatten()
        .for_each(clean);
    info.numbers.iter_mut().for_each(clean);
    info
}

fn looks_like_a_bounce(letter: &Letter) -> bool {
    let from_daemon = letter.from.iter().any(|c| {
        let local = c.address.split('@').next().unwrap_or("").to_ascii_lowercase();
        local == "mailer-daemon" || local == "postmaster"
    });
    let subject = letter.subject.to_lowercase();
    from_daemon || BOUNCE_SUBJECTS.iter().any(|s| subject.contains(s))
}

fn standard(message: &Message<'_>) -> BounceInfo {
    let mut info = BounceInfo::default();
    let mut returned_seen = false;
    for part in message.parts.iter().skip(1) {
        let Some(ct) = part.content_type() else { continue };
        let ctype = ct.ctype().to_ascii_lowercase();
        let subtype = ct.subtype().unwrap_or("").to_ascii_lowercase();
        match (ctype.as_str(), subtype.as_str()) {
            ("message", "delivery-status" | "global-delivery-status") if info.status.is_none() && info.recipient.is_none() => {
                read_delivery_status(&String::from_utf8_lossy(part.contents()), &mut info);
            }
            ("message", "rfc822" | "global") | ("text", "rfc822-headers") if !returned_seen => {
                returned_seen = true;
                match &part.body {
                    PartType::Message(inner) => read_returned(inner, &mut info),
                    _ => {
                        if let Some(inner) = MessageParser::default().parse(part.contents()) {
                            read_returned(&inner, &mut info);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    if info.status.is_none() || info.recipient.is_none() {
        // Some reporters put what matters only in the human-readable part.
        let text = message.body_text(0).map(|t| t.to_string()).unwrap_or_default();
        fill_from_text(&text, &mut info);
    }
    info
}

fn nonstandard(message: &Message<'_>, raw: &[u8]) -> Option<BounceInfo> {
    let mut info = BounceInfo::default();
    let mut found_returned = false;
    for part in message.parts.iter().skip(1) {
        if let PartType::Message(inner) = &part.body {
            read_returned(inner, &mut info);
            found_returned = true;
            break;
        }
    }
    let text = (0..message.text_body_count()).filter_map(|i| message.body_text(i)).collect::<Vec<_>>().join("\n");
    let text = if text.trim().is_empty() { String::from_utf8_lossy(raw).into_owned() } else { text };
    let pasted = RETURNED_MARKERS.iter().find_map(|marker| text.find(marker).map(|at| &text[at + marker.len()..]));
    if !found_returned
        && let Some(pasted) = pasted
        && let Some(inner) = MessageParser::default().parse(pasted.trim_start_matches(|c: char| c != '\n').trim_start().as_bytes())
        && (inner.message_id().is_some() || inner.subject().is_some())
    {
        read_returned(&inner, &mut info);
        found_returned = true;
    }
    if !found_returned && let Some(caps) = MESSAGE_ID_LINE.captures(&text) {
        info.original_message_id = Some(normalize_message_id(&caps[1]));
        add_numbers(&caps[1], &mut info);
    }
    fill_from_text(&text, &mut info);
    let tied = info.original_message_id.is_some() || !info.numbers.is_empty();
    (tied || info.status.is_some() || info.recipient.is_some()).then_some(info)
}

/// RFC 3464 fields: a per-message block, then one block per recipient. The first recipient
/// whose action is `failed` counts, else the first recipient.
fn read_delivery_status(text: &str, info: &mut BounceInfo) {
    let mut unfolded: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t'])
            && !line.trim().is_empty()
            && let Some(last) = unfolded.last_mut()
        {
            last.push(' ');
            last.push_str(line.trim());
            continue;
        }
        unfolded.push(line.trim_end().to_string());
    }
    let blocks: Vec<Vec<(String, String)>> = unfolded
        .split(|line| line.trim().is_empty())
        .map(|block| {
            block
                .iter()
                .filter_map(|line| line.split_once(':'))
                .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
                .collect::<Vec<_>>()
        })
        .filter(|block| !block.is_empty())
        .collect();
    let field = |block: &[(String, String)], name: &str| block.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let recipients: Vec<&Vec<(String, String)>> =
        blocks.iter().filter(|b| field(b, "final-recipient").is_some() || field(b, "action").is_some()).collect();
    let chosen =
        recipients.iter().find(|b| field(b, "action").is_some_and(|a| a.eq_ignore_ascii_case("failed"))).or_else(|| recipients.first());
    let Some(block) = chosen else { return };
    info.recipient = field(block, "final-recipient").or_else(|| field(block, "original-recipient")).map(|v| address_of_typed(&v));
    info.action = field(block, "action").map(|a| a.to_ascii_lowercase());
    info.status = field(block, "status").and_then(|s| STATUS.find(&s).map(|m| m.as_str().to_string()));
    info.diagnostic = field(block, "diagnostic-code").map(|d| one_line(d.split_once(';').map_or(d.as_str(), |(_, rest)| rest)));
}

/// `rfc822; bob@x.org` -> `bob@x.org`.
fn address_of_typed(value: &str) -> String {
    let address = value.split_once(';').map_or(value, |(_, rest)| rest);
    address.trim().trim_start_matches('<').trim_end_matches('>').to_string()
}

fn read_returned(inner: &Message<'_>, info: &mut BounceInfo) {
    if let Some(id) = inner.message_id() {
        let id = normalize_message_id(id);
        if !id.is_empty() {
            add_numbers(&id, info);
            info.original_message_id = Some(id);
        }
    }
    if let Some(subject) = inner.subject() {
        add_numbers(subject, info);
    }
}

fn add_numbers(text: &str, info: &mut BounceInfo) {
    for number in numbers_in(text) {
        let number = number.to_string();
        if !info.numbers.contains(&number) {
            info.numbers.push(number);
        }
    }
}

fn fill_from_text(text: &str, info: &mut BounceInfo) {
    if info.recipient.is_none() {
        info.recipient = FINAL_RECIPIENT
            .captures(text)
            .or_else(|| QMAIL_RECIPIENT.captures(text))
            .or_else(|| LISTED_RECIPIENT.captures(text))
            .map(|caps| caps[1].to_string());
    }
    if info.status.is_none() {
        // Only the report before any pasted message: the returned mail may quote codes too.
        let report = RETURNED_MARKERS.iter().filter_map(|m| text.find(m)).min().map_or(text, |end| &text[..end]);
        info.status = STATUS.find(report).map(|m| m.as_str().to_string());
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::letter::read_letter;

    /// As Postfix writes it (bounce(8)), for an acknowledgement whose recipient does not exist.
    const POSTFIX_DSN: &str = "Return-Path: <>\r
X-Original-To: registry@uni.example\r
Delivered-To: registry@uni.example\r
Received: by mx.uni.example (Postfix)\r
\tid 4F1C2A0B3D; Sat, 28 Nov 2026 09:01:02 +0400 (+04)\r
Date: Sat, 28 Nov 2026 09:01:02 +0400 (+04)\r
From: MAILER-DAEMON@mx.uni.example (Mail Delivery System)\r
Subject: Undelivered Mail Returned to Sender\r
To: registry@uni.example\r
Auto-Submitted: auto-replied\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status;\r
\tboundary=\"4F1C2A0B3D.1764306062/mx.uni.example\"\r
Content-Transfer-Encoding: 8bit\r
Message-Id: <20261128050102.4F1C2A0B3D@mx.uni.example>\r
\r
This is a MIME-encapsulated message.\r
\r
--4F1C2A0B3D.1764306062/mx.uni.example\r
Content-Description: Notification\r
Content-Type: text/plain; charset=utf-8\r
Content-Transfer-Encoding: 8bit\r
\r
This is the mail system at host mx.uni.example.\r
\r
I'm sorry to have to inform you that your message could not\r
be delivered to one or more recipients. It's attached below.\r
\r
For further assistance, please send mail to postmaster.\r
\r
If you do so, please include this problem report. You can\r
delete your own text from the attached returned message.\r
\r
                   The mail system\r
\r
<nobody@uni-x.edu.tr>: host mx.uni-x.edu.tr[192.0.2.10] said: 550 5.1.1\r
    <nobody@uni-x.edu.tr>: Recipient address rejected: User unknown in virtual\r
    mailbox table (in reply to RCPT TO command)\r
\r
--4F1C2A0B3D.1764306062/mx.uni.example\r
Content-Description: Delivery report\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mx.uni.example\r
X-Postfix-Queue-ID: 4F1C2A0B3D\r
X-Postfix-Sender: rfc822; registry@uni.example\r
Arrival-Date: Sat, 28 Nov 2026 09:01:01 +0400 (+04)\r
\r
Final-Recipient: rfc822; nobody@uni-x.edu.tr\r
Original-Recipient: rfc822;nobody@uni-x.edu.tr\r
Action: failed\r
Status: 5.1.1\r
Remote-MTA: dns; mx.uni-x.edu.tr\r
Diagnostic-Code: smtp; 550 5.1.1 <nobody@uni-x.edu.tr>: Recipient address\r
    rejected: User unknown in virtual mailbox table\r
\r
--4F1C2A0B3D.1764306062/mx.uni.example\r
Content-Description: Undelivered Message\r
Content-Type: message/rfc822\r
Content-Transfer-Encoding: 8bit\r
\r
Return-Path: <registry@uni.example>\r
Received: from chancery.uni.example (chancery.uni.example [192.0.2.5])\r
\tby mx.uni.example (Postfix) with ESMTPS id 4F1C2A0B3D\r
\tfor <nobody@uni-x.edu.tr>; Sat, 28 Nov 2026 09:01:01 +0400 (+04)\r
From: University Registry <registry@uni.example>\r
To: nobody@uni-x.edu.tr\r
Subject: Registered: [IN-2026-000123] Erasmus+ agreement\r
Message-ID: <chancery.ack.IN-2026-000123.k3x9@uni.example>\r
In-Reply-To: <m2@uni-x.edu.tr>\r
References: <m2@uni-x.edu.tr>\r
Auto-Submitted: auto-replied\r
X-Chancery-Loop: registry@uni.example\r
MIME-Version: 1.0\r
Content-Type: text/plain; charset=utf-8\r
Content-Transfer-Encoding: 7bit\r
\r
Dear Partner,\r
\r
Your letter was registered as IN-2026-000123.\r
\r
--4F1C2A0B3D.1764306062/mx.uni.example--\r
";

    fn bounce(raw: &str) -> Option<BounceInfo> {
        bounced_message(&read_letter(raw.as_bytes()), raw.as_bytes())
    }

    #[test]
    fn reads_a_postfix_dsn() {
        let info = bounce(POSTFIX_DSN).expect("a bounce");
        assert_eq!(info.original_message_id.as_deref(), Some("chancery.ack.IN-2026-000123.k3x9@uni.example"));
        assert_eq!(info.numbers, vec!["IN-2026-000123".to_string()]);
        assert_eq!(info.status.as_deref(), Some("5.1.1"));
        assert_eq!(info.recipient.as_deref(), Some("nobody@uni-x.edu.tr"));
        assert_eq!(info.action.as_deref(), Some("failed"));
        assert!(info.diagnostic.as_deref().unwrap().contains("User unknown in virtual mailbox table"), "{info:?}");
        assert!(info.is_permanent());
    }

    #[test]
    fn reads_a_headers_only_dsn_with_several_recipients() {
        let raw = POSTFIX_DSN
            .replace("Content-Type: message/rfc822\r\n", "Content-Type: text/rfc822-headers\r\n")
            .replace(
                "Final-Recipient: rfc822; nobody@uni-x.edu.tr\r\n",
                "Final-Recipient: rfc822; alice@uni-x.edu.tr\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\nFinal-Recipient: rfc822; nobody@uni-x.edu.tr\r\n",
            )
            .replace("Subject: Registered: [IN-2026-000123] Erasmus+ agreement\r\n", "Subject: [OUT-2026-000007] Reply\r\n");
        let info = bounce(&raw).expect("a bounce");
        assert_eq!(info.recipient.as_deref(), Some("nobody@uni-x.edu.tr"), "the failed recipient, not the delayed one");
        assert_eq!(info.status.as_deref(), Some("5.1.1"));
        assert_eq!(info.numbers, vec!["IN-2026-000123".to_string(), "OUT-2026-000007".to_string()]);
    }

    #[test]
    fn a_delay_notice_is_not_permanent() {
        let raw = POSTFIX_DSN.replace("Action: failed\r\nStatus: 5.1.1", "Action: delayed\r\nStatus: 4.4.1");
        let info = bounce(&raw).expect("a report");
        assert!(!info.is_permanent());
    }

    #[test]
    fn reads_a_qmail_bounce() {
        let raw = "Return-Path: <>\r\nFrom: MAILER-DAEMON@mail.partner.example\r\nTo: registry@uni.example\r\n\
                   Subject: failure notice\r\n\r\n\
                   Hi. This is the qmail-send program at mail.partner.example.\r\n\
                   I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\
                   This is a permanent error; I've given up. Sorry it didn't work out.\r\n\r\n\
                   <bob@partner.example>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n\
                   --- Below this line is a copy of the message.\r\n\r\n\
                   Return-Path: <registry@uni.example>\r\nFrom: registry@uni.example\r\nTo: bob@partner.example\r\n\
                   Subject: [IN-2026-000042] Visa invitation\r\nMessage-ID: <chancery.fwd.IN-2026-000042.a1@uni.example>\r\n\r\n\
                   Status 5.7.1 quoted in the body must not count\r\n";
        let info = bounce(raw).expect("a bounce");
        assert_eq!(info.recipient.as_deref(), Some("bob@partner.example"));
        assert_eq!(info.status.as_deref(), Some("5.1.1"));
        assert_eq!(info.original_message_id.as_deref(), Some("chancery.fwd.IN-2026-000042.a1@uni.example"));
        assert_eq!(info.numbers, vec!["IN-2026-000042".to_string()]);
    }

    #[test]
    fn reads_an_old_exim_bounce() {
        let raw = "From: Mail Delivery System <Mailer-Daemon@mx.partner.example>\r\nTo: registry@uni.example\r\n\
                   Subject: Mail delivery failed: returning message to sender\r\nAuto-Submitted: auto-replied\r\n\r\n\
                   This message was created automatically by mail delivery software.\r\n\r\n\
                   A message that you sent could not be delivered to one or more of its\r\n\
                   recipients. This is a permanent error. The following address(es) failed:\r\n\r\n\
                   \x20 carol@partner.example\r\n    SMTP error from remote mail server after RCPT TO:<carol@partner.example>:\r\n\
                   \x20   550 5.1.1 User unknown\r\n\r\n\
                   ------ This is a copy of the message, including all the headers. ------\r\n\r\n\
                   From: registry@uni.example\r\nTo: carol@partner.example\r\nSubject: Re: [OUT-2026-000009] Agreement\r\n\
                   Message-ID: <chancery.out.OUT-2026-000009.z@uni.example>\r\n\r\nbody\r\n";
        let info = bounce(raw).expect("a bounce");
        assert_eq!(info.recipient.as_deref(), Some("carol@partner.example"));
        assert_eq!(info.status.as_deref(), Some("5.1.1"));
        assert_eq!(info.numbers, vec!["OUT-2026-000009".to_string()]);
    }

    #[test]
    fn ordinary_mail_and_read_receipts_are_not_bounces() {
        let letter = "From: a@x.org\r\nSubject: Undeliverable goods\r\nMessage-ID: <q@x.org>\r\n\r\nWe could not deliver the chairs.\r\n";
        assert_eq!(bounce("From: a@x.org\r\nSubject: Erasmus+\r\n\r\nDear colleagues\r\n"), None);
        assert_eq!(bounce(letter), None, "a person writing about deliveries is not a bounce");
        let receipt = "From: a@x.org\r\nSubject: Read: hello\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n\r\n\
                       --b\r\nContent-Type: text/plain\r\n\r\nread\r\n--b\r\nContent-Type: message/disposition-notification\r\n\r\n\
                       Final-Recipient: rfc822; a@x.org\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n--b--\r\n";
        assert_eq!(bounce(receipt), None);
    }
}
