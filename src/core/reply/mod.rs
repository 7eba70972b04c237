//! What the university writes back on its own: acknowledgements to senders and forwards to
//! units. Pure: the letter, its registration and the policy in; a mail to enqueue, or the reason
//! there is none, out.
//!
//! Automatic mail is where loops and backscatter come from, so an acknowledgement is written only
//! to a person: never to machine-generated mail (auto-responders, lists, bounces, our own mail),
//! never to the university's own addresses, and at most a few times a day to one sender.
//!
//! `language` tells which language a letter is in, `recipient` who may get automatic mail, and
//! `templates` reads and renders the template files.

use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::core::letter::Letter;
use crate::core::outbound::{LOOP_HEADER, MailKind, OutgoingMail};
use crate::core::template::one_line;
use recipient::{is_own_address, same_address};
use templates::Values;

mod language;
mod recipient;
mod templates;

pub use crate::core::template::TemplateError;
pub use language::{Language, UnitInfo, language_of};
pub use recipient::{acknowledgement_recipient, is_machine_generated};
pub use templates::{RenderError, Templates};

/// The template set a letter gets unless routing names another.
pub const DEFAULT_TEMPLATE: &str = "default";

/// At most this many Message-IDs go into References: the first of the thread and the latest.
const MAX_REFERENCES: usize = 20;

/// What the register decided about a letter, as replies need it.
#[derive(Debug, Clone, Copy)]
pub struct Registration<'a> {
    /// `IN-2026-000123`.
    pub number: &'a str,
    /// The registration date in the office's zone, as people read it (see [`local_date`]).
    pub local_date: &'a str,
    pub unit: &'a UnitInfo,
    /// Confidential and secret letters: their subject and correspondent appear in no mail.
    pub confidential: bool,
}

/// Settings for automatic mail.
#[derive(Debug, Clone)]
pub struct ReplyPolicy {
    /// The sender of every automatic mail, e.g. `University Registry <registry@uni.example>`.
    pub from: String,
    /// The university's domains: no acknowledgement goes to an address in them or below them.
    pub own_domains: Vec<String>,
    /// Acknowledgements one sender address gets per day at most (0: none at all).
    pub max_acks_per_sender_per_day: u32,
    pub templates: Templates,
}

/// Why no mail is written. Not an error: the register records it and goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoReply {
    /// Auto-responder, list, bounce, our own mail; the reason says which sign.
    MachineGenerated(String),
    /// The recipient is one of the university's own addresses.
    OwnAddress(String),
    /// The sender had this many acknowledgements today already.
    RateLimited {
        recipient: String,
        sent_today: u32,
    },
    /// The letter names no sender address to answer.
    NoSender,
    /// The unit has no address to forward to.
    NoRecipient(String),
    /// Our own mail came back to the registry: forwarding it again would loop.
    Loop(String),
    UnknownTemplate(String),
    /// A template failed to render (templates are checked when loaded, so this is rare).
    Template(RenderError),
}

impl fmt::Display for NoReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoReply::MachineGenerated(why) => write!(f, "machine-generated mail ({why})"),
            NoReply::OwnAddress(address) => write!(f, "{address} is the university's own address"),
            NoReply::RateLimited { recipient, sent_today } => {
                write!(f, "{recipient} had {sent_today} acknowledgements today already")
            }
            NoReply::NoSender => f.write_str("the letter names no sender address"),
            NoReply::NoRecipient(unit) => write!(f, "unit {unit} has no e-mail address"),
            NoReply::Loop(why) => write!(f, "would loop: {why}"),
            NoReply::UnknownTemplate(name) => write!(f, "no acknowledgement template \"{name}\" in mail-rules/templates"),
            NoReply::Template(error) => write!(f, "template failed: {error}"),
        }
    }
}

/// A registration date as acknowledgements print it: `28.11.2026`, in the office's zone.
pub fn local_date(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%d.%m.%Y").to_string()
}

/// The acknowledgement of a registered letter, or why there is none.
///
/// `acks_to_sender_today` counts acknowledgements already enqueued today for
/// [`acknowledgement_recipient`]; `template` is the set routing chose (`default`, a set name,
/// or a set name ending in `-en`/`-az`/`-ru`, or just `en`/`az`/`ru`, to fix the language).
pub fn acknowledgement(
    letter: &Letter,
    registration: &Registration<'_>,
    acks_to_sender_today: u32,
    template: &str,
    policy: &ReplyPolicy,
    message_id: String,
) -> Result<OutgoingMail, NoReply> {
    let recipient = acknowledgement_recipient(letter).ok_or(NoReply::NoSender)?;
    if let Some(reason) = is_machine_generated(letter) {
        return Err(NoReply::MachineGenerated(reason));
    }
    if is_own_address(&recipient, policy) {
        return Err(NoReply::OwnAddress(recipient));
    }
    if acks_to_sender_today >= policy.max_acks_per_sender_per_day {
        return Err(NoReply::RateLimited { recipient, sent_today: acks_to_sender_today });
    }
    let (set, forced) = policy.templates.resolve(template).ok_or_else(|| NoReply::UnknownTemplate(template.to_string()))?;
    let language = forced.unwrap_or_else(|| language_of(letter));
    let file = policy.templates.ack_file(&set, language, registration.confidential);
    let values = Values::of(letter, registration, language);
    let (subject, text) = policy.templates.render(&file, &values).map_err(NoReply::Template)?;

    Ok(OutgoingMail {
        kind: MailKind::Acknowledgement,
        from: policy.from.clone(),
        to: vec![recipient],
        subject: tagged_subject(&subject, registration.number),
        text,
        in_reply_to: letter.message_id.clone(),
        references: references_of(letter),
        auto_submitted: true,
        attach_original: false,
        attachments: Vec::new(),
        message_id,
    })
}

/// The registered letter sent on to its unit: with the original attached, or, when the letter
/// is confidential, only its number and a notice (the unit reads it in the register).
pub fn forward_to_unit(
    letter: &Letter,
    registration: &Registration<'_>,
    policy: &ReplyPolicy,
    message_id: String,
) -> Result<OutgoingMail, NoReply> {
    let unit = registration.unit;
    let to = unit.email.trim().to_string();
    if !to.contains('@') {
        return Err(NoReply::NoRecipient(unit.id.clone()));
    }
    if letter.header_values(LOOP_HEADER).next().is_some() {
        return Err(NoReply::Loop(format!("the letter is Chancery's own mail ({LOOP_HEADER})")));
    }
    if same_address(&to, &policy.from) {
        return Err(NoReply::Loop(format!("unit {} has the registry's own address {to}", unit.id)));
    }
    let file = if registration.confidential { "forward-confidential.txt" } else { "forward.txt" };
    let values = Values::of(letter, registration, Language::En);
    let (subject, text) = policy.templates.render(file, &values).unwrap_or_else(|error| {
        // A forward is never lost to a template: the number and a notice always go.
        (
            format!("[{}] Registered letter", registration.number),
            format!(
                "Letter {} was registered for {} on {}.\n(The forward template failed: {error})\n",
                registration.number, unit.id, registration.local_date
            ),
        )
    });
    Ok(OutgoingMail {
        kind: MailKind::Forward,
        from: policy.from.clone(),
        to: vec![to],
        subject: tagged_subject(&subject, registration.number),
        text,
        in_reply_to: None,
        references: letter.message_id.iter().cloned().collect(),
        auto_submitted: true,
        attach_original: !registration.confidential,
        attachments: Vec::new(),
        message_id,
    })
}

/// A subject on one line, carrying the number so that a reply threads to the document.
fn tagged_subject(rendered: &str, number: &str) -> String {
    let line = rendered.split(|c: char| c.is_control()).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
    let line = one_line(&line);
    if line.contains(number) { line } else { format!("[{number}] {line}").trim_end().to_string() }
}

/// References of a reply: the letter's own References (oldest first), then its Message-ID.
fn references_of(letter: &Letter) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for id in letter.replies_to.iter().rev().chain(letter.message_id.iter()) {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    if ids.len() > MAX_REFERENCES {
        let first = ids[0].clone();
        ids.drain(..ids.len() - (MAX_REFERENCES - 1));
        ids.insert(0, first);
    }
    ids
}

#[cfg(test)]
mod tests;
