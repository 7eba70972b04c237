//! Press releases of the International Relations Office, as plain data and decisions: a draft
//! filled from the template communications staff keep (`mail-rules/templates/press/LANG.txt`),
//! edits that each make a version, approval by the office's managers, the Markdown and HTML
//! exports, and the mail to the media. The adapters read templates, store versions and send.
//!
//! A release is approved at one version: an edit after the approval makes a new version, which
//! is a draft again until a manager approves it too. Only an approved version goes out.
//!
//! `template` fills a draft from a template, `export` writes a release as Markdown, HTML and
//! text, and `media` the mail to the media.

use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::reply::Language;
use super::template::one_line;
use super::viewer::{Role, StaffMember};

mod export;
mod media;
mod template;

pub use super::template::TemplateError;
pub use export::{escape, html, long_date, long_moment, markdown};
pub use media::{media_mails, media_recipients};
pub use template::{Masthead, PressTemplate};

/// The unit that approves press releases and writes them as its outgoing correspondence.
pub const PRESS_UNIT: &str = "international";

/// Longest headline (and title) accepted: a headline is a line, not a paragraph.
const MAX_LINE_CHARS: usize = 300;

/// Longest text of one field: a release is a page or two.
const MAX_FIELD_CHARS: usize = 20_000;

/// What the press commands need from the configuration.
#[derive(Debug, Clone)]
pub struct PressSettings {
    /// The folder of the release templates, one file per language (`en.txt`, `az.txt`, `ru.txt`).
    pub templates_dir: PathBuf,
    /// Whether mail leaves the university at all (`smtp.enabled`): a release is never
    /// registered as sent when nothing can send it.
    pub mail_enabled: bool,
}

/// A part of a release that people edit by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Headline,
    Dateline,
    Lead,
    Body,
    Quote,
    Boilerplate,
    Contact,
}

/// A field name that is none of `Field::ALL`, as typed (trimmed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("there is no field '{0}' (fields: {fields})", fields = Field::ALL.map(Field::name).join(", "))]
pub struct UnknownField(pub String);

impl Field {
    pub const ALL: [Field; 7] =
        [Field::Headline, Field::Dateline, Field::Lead, Field::Body, Field::Quote, Field::Boilerplate, Field::Contact];

    pub fn name(self) -> &'static str {
        match self {
            Field::Headline => "headline",
            Field::Dateline => "dateline",
            Field::Lead => "lead",
            Field::Body => "body",
            Field::Quote => "quote",
            Field::Boilerplate => "boilerplate",
            Field::Contact => "contact",
        }
    }

    pub fn parse(text: &str) -> Result<Field, UnknownField> {
        let wanted = text.trim().to_ascii_lowercase();
        let wanted = match wanted.as_str() {
            "media_contact" | "media-contact" => "contact",
            other => other,
        };
        Field::ALL.into_iter().find(|field| field.name() == wanted).ok_or_else(|| UnknownField(text.trim().to_string()))
    }

    /// Headline and dateline are one line each; the others keep their paragraphs.
    fn is_one_line(self) -> bool {
        matches!(self, Field::Headline | Field::Dateline)
    }

    /// A release may go without a quote; every other part it needs.
    fn may_be_empty(self) -> bool {
        self == Field::Quote
    }
}

/// The text of one version of a release.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Content {
    pub headline: String,
    pub dateline: String,
    pub lead: String,
    pub body: String,
    pub quote: String,
    pub boilerplate: String,
    pub contact: String,
}

impl Content {
    pub fn get(&self, field: Field) -> &str {
        match field {
            Field::Headline => &self.headline,
            Field::Dateline => &self.dateline,
            Field::Lead => &self.lead,
            Field::Body => &self.body,
            Field::Quote => &self.quote,
            Field::Boilerplate => &self.boilerplate,
            Field::Contact => &self.contact,
        }
    }

    fn slot(&mut self, field: Field) -> &mut String {
        match field {
            Field::Headline => &mut self.headline,
            Field::Dateline => &mut self.dateline,
            Field::Lead => &mut self.lead,
            Field::Body => &mut self.body,
            Field::Quote => &mut self.quote,
            Field::Boilerplate => &mut self.boilerplate,
            Field::Contact => &mut self.contact,
        }
    }
}

/// Where a release stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Being written; its current version is not approved.
    Draft,
    /// Its current version is approved and may be sent.
    Approved,
    /// Registered as outgoing correspondence and queued for the media.
    Sent,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Approved => "approved",
            Status::Sent => "sent",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        [Status::Draft, Status::Approved, Status::Sent].into_iter().find(|s| s.as_str() == text)
    }
}

/// A release with the text of its current version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub id: i64,
    pub title: String,
    pub language: Language,
    pub status: Status,
    /// The current version (1 for a fresh draft).
    pub version: i64,
    /// The last version a manager approved: the current one, or older after an edit.
    pub approved_version: Option<i64>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The outgoing registration number it was sent under.
    pub out_number: Option<String>,
    /// Not sent to the media before this instant.
    pub embargo: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub content: Content,
}

impl Release {
    /// Whether the current version is the approved one.
    pub fn is_approved(&self) -> bool {
        self.status != Status::Draft && self.approved_version == Some(self.version)
    }
}

/// One kept version: who made it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub version: i64,
    pub edited_by: String,
    pub edited_at: DateTime<Utc>,
}

/// Why a press command cannot do what was asked, worded for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    EmptyTitle,
    /// A text longer than a field takes: (field, the limit in characters).
    TooLong(&'static str, usize),
    Empty(Field),
    Unchanged(Field),
    AlreadySent {
        id: i64,
        number: Option<String>,
    },
    NotAnApprover,
    AlreadyApproved {
        id: i64,
        version: i64,
    },
    /// Sending a version nobody approved; `approved` is the older approved version, if any.
    NotApproved {
        id: i64,
        version: i64,
        approved: Option<i64>,
    },
    MailDisabled,
    NoRecipients,
    EmbargoPassed,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::EmptyTitle => f.write_str("The title is empty."),
            Refusal::TooLong(what, limit) => write!(f, "The {what} is too long: at most {limit} characters."),
            Refusal::Empty(field) => write!(f, "The {} cannot be empty.", field.name()),
            Refusal::Unchanged(field) => write!(f, "The {} already reads so; no new version was made.", field.name()),
            Refusal::AlreadySent { id, number } => match number {
                Some(number) => write!(f, "Press release {id} was sent already, as {number}; draft a new release to say more."),
                None => write!(f, "Press release {id} was sent already; draft a new release to say more."),
            },
            Refusal::NotAnApprover => {
                f.write_str("Only managers of the International Relations Office (unit international) or an admin approve press releases.")
            }
            Refusal::AlreadyApproved { id, version } => write!(f, "Press release {id} is approved already at version {version}."),
            Refusal::NotApproved { id, version, approved: Some(approved) } => write!(
                f,
                "Press release {id} was edited after version {approved} was approved: version {version} needs a new approval \
                 (`!press approve {id}`) before it is sent."
            ),
            Refusal::NotApproved { id, version, approved: None } => write!(
                f,
                "Press release {id} is not approved: version {version} needs the approval of a manager of the International \
                 Relations Office (`!press approve {id}`) before it is sent."
            ),
            Refusal::MailDisabled => f.write_str("Mail is switched off here (smtp.enabled = false): nothing was registered or sent."),
            Refusal::NoRecipients => f.write_str(
                "There is no media partner with an e-mail address to send it to: add one with `!partner add … kind=media` \
                 and `!partner person HANDLE … email=…`. Nothing was registered or sent.",
            ),
            Refusal::EmbargoPassed => f.write_str("The embargo is not in the future: leave it out to send at once."),
        }
    }
}

/// A title as people type it: one line, not empty.
pub fn title(text: &str) -> Result<String, Refusal> {
    let title = one_line(text);
    if title.is_empty() {
        return Err(Refusal::EmptyTitle);
    }
    if title.chars().count() > MAX_LINE_CHARS {
        return Err(Refusal::TooLong("title", MAX_LINE_CHARS));
    }
    Ok(title)
}

/// A field's new text, cleaned: one line for headline and dateline; paragraphs kept elsewhere.
fn field_text(field: Field, text: &str) -> Result<String, Refusal> {
    let text = if field.is_one_line() { one_line(text) } else { paragraphs(text) };
    if text.is_empty() && !field.may_be_empty() {
        return Err(Refusal::Empty(field));
    }
    let limit = if field.is_one_line() { MAX_LINE_CHARS } else { MAX_FIELD_CHARS };
    if text.chars().count() > limit {
        return Err(Refusal::TooLong(field.name(), limit));
    }
    Ok(text)
}

/// A new version: the release's text with one field changed, and its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub content: Content,
    pub version: i64,
    /// The edit undid an approval: the new version is a draft until approved again.
    pub needs_new_approval: bool,
}

/// Changes one field. Every edit is a new version; an edit of an approved release makes it a
/// draft again. A sent release is not edited (what the media got stays what the register has).
pub fn edit(release: &Release, field: Field, text: &str) -> Result<Edit, Refusal> {
    if release.status == Status::Sent {
        return Err(Refusal::AlreadySent { id: release.id, number: release.out_number.clone() });
    }
    let text = field_text(field, text)?;
    if release.content.get(field) == text {
        return Err(Refusal::Unchanged(field));
    }
    let mut content = release.content.clone();
    *content.slot(field) = text;
    Ok(Edit { content, version: release.version + 1, needs_new_approval: release.status == Status::Approved })
}

/// Whether a person may approve press releases: a manager (or above) of the International
/// Relations Office, or an admin.
pub fn may_approve(member: &StaffMember) -> bool {
    member.role == Role::Admin || (member.unit == PRESS_UNIT && member.role.reaches(Role::Manager))
}

/// Approves the current version; returns it.
pub fn approve(release: &Release, approver: &StaffMember) -> Result<i64, Refusal> {
    if !may_approve(approver) {
        return Err(Refusal::NotAnApprover);
    }
    match release.status {
        Status::Sent => Err(Refusal::AlreadySent { id: release.id, number: release.out_number.clone() }),
        Status::Approved if release.is_approved() => Err(Refusal::AlreadyApproved { id: release.id, version: release.version }),
        Status::Approved | Status::Draft => Ok(release.version),
    }
}

/// Whether a release may go to these media addresses now, held until `embargo` if given.
pub fn check_send(
    release: &Release,
    recipients: &[String],
    mail_enabled: bool,
    embargo: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    if release.status == Status::Sent {
        return Err(Refusal::AlreadySent { id: release.id, number: release.out_number.clone() });
    }
    if !release.is_approved() {
        return Err(Refusal::NotApproved { id: release.id, version: release.version, approved: release.approved_version });
    }
    if embargo.is_some_and(|at| at <= now) {
        return Err(Refusal::EmbargoPassed);
    }
    if !mail_enabled {
        return Err(Refusal::MailDisabled);
    }
    if recipients.is_empty() {
        return Err(Refusal::NoRecipients);
    }
    Ok(())
}

/// Paragraphs separated by one blank line; lines inside a paragraph kept, without spaces around them.
pub(super) fn paragraphs(text: &str) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current.join("\n"));
    }
    paragraphs.join("\n\n").trim().to_string()
}

#[cfg(test)]
mod tests;
