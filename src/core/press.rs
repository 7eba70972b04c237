//! Press releases of the International Relations Office, as plain data and decisions: a draft
//! filled from the template communications staff keep (`mail-rules/templates/press/LANG.txt`),
//! edits that each make a version, approval by the office's managers, the Markdown and HTML
//! exports, and the mail to the media. The adapters read templates, store versions and send.
//!
//! A release is approved at one version: an edit after the approval makes a new version, which
//! is a draft again until a manager approves it too. Only an approved version goes out.

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use super::outbound::{MailKind, OutgoingMail};
use super::reply::Language;
use super::viewer::{Role, StaffMember};

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

    pub fn parse(text: &str) -> Result<Field, String> {
        let wanted = text.trim().to_ascii_lowercase();
        let wanted = match wanted.as_str() {
            "media_contact" | "media-contact" => "contact",
            other => other,
        };
        Field::ALL
            .into_iter()
            .find(|field| field.name() == wanted)
            .ok_or_else(|| format!("there is no field '{}' (fields: {})", text.trim(), Field::ALL.map(Field::name).join(", ")))
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

/// The line above a release: a draft says so; an embargo still ahead is printed.
fn note(release: &Release, now: DateTime<Utc>, zone: Tz) -> String {
    let labels = labels(release.language);
    if !release.is_approved() {
        return (labels.draft)(release.version);
    }
    match release.embargo.filter(|at| *at > now) {
        Some(at) => format!("{} {}", labels.embargoed_until, long_moment(at, zone, release.language)),
        None => labels.immediate.to_string(),
    }
}

/// The release as Markdown, to paste where Markdown is read (and shown formatted in chat). The
/// authors' own Markdown (emphasis, links) stays; a `<` is escaped, so that no HTML passes
/// through where the Markdown is turned into a page.
pub fn markdown(release: &Release, now: DateTime<Utc>, zone: Tz) -> String {
    let c = &release.content;
    let labels = labels(release.language);
    // Line breaks inside a paragraph (an address in the contact) stay breaks.
    let md = |text: &str| text.replace('<', "\\<").split("\n\n").map(|p| p.replace('\n', "  \n")).collect::<Vec<_>>().join("\n\n");
    let mut out = format!("*{}* · {}\n\n# {}\n\n", labels.press_release, note(release, now, zone), md(&c.headline));
    out.push_str(&format!("**{}** – {}\n\n", md(&c.dateline), md(&c.lead)));
    out.push_str(&md(&c.body));
    out.push_str("\n\n");
    if !c.quote.is_empty() {
        let quoted: Vec<String> = md(&c.quote).lines().map(|line| format!("> {line}").trim_end().to_string()).collect();
        out.push_str(&quoted.join("\n"));
        out.push_str("\n\n");
    }
    out.push_str(&format!("## {}\n\n{}\n\n## {}\n\n{}\n", labels.about, md(&c.boilerplate), labels.media_contact, md(&c.contact)));
    out
}

/// The release as an HTML fragment for a web page or a newsletter; every text is escaped.
pub fn html(release: &Release, now: DateTime<Utc>, zone: Tz) -> String {
    let c = &release.content;
    let labels = labels(release.language);
    let mut out = format!("<article class=\"press-release\" lang=\"{}\">\n", release.language.code());
    out.push_str(&format!("<p class=\"release-note\">{} · {}</p>\n", escape(labels.press_release), escape(&note(release, now, zone))));
    out.push_str(&format!("<h1>{}</h1>\n", escape(&c.headline)));
    let mut lead = html_paragraphs(&c.lead);
    // The dateline opens the lead's first paragraph, as printed releases have it.
    if let Some(first) = lead.first_mut() {
        *first = format!("<strong class=\"dateline\">{}</strong> – {first}", escape(&c.dateline));
    }
    for paragraph in lead.iter().chain(&html_paragraphs(&c.body)) {
        out.push_str(&format!("<p>{paragraph}</p>\n"));
    }
    if !c.quote.is_empty() {
        let quote: String = html_paragraphs(&c.quote).iter().map(|p| format!("<p>{p}</p>")).collect();
        out.push_str(&format!("<blockquote>{quote}</blockquote>\n"));
    }
    for (heading, text) in [(labels.about, &c.boilerplate), (labels.media_contact, &c.contact)] {
        out.push_str(&format!("<h2>{}</h2>\n", escape(heading)));
        for paragraph in html_paragraphs(text) {
            out.push_str(&format!("<p>{paragraph}</p>\n"));
        }
    }
    out.push_str("</article>\n");
    out
}

/// The release as the plain text of a mail.
fn plain_text(release: &Release, note: &str) -> String {
    let c = &release.content;
    let labels = labels(release.language);
    let mut out =
        format!("{}\n{note}\n\n{}\n\n{} – {}\n\n{}\n\n", labels.press_release.to_uppercase(), c.headline, c.dateline, c.lead, c.body);
    if !c.quote.is_empty() {
        out.push_str(&format!("{}\n\n", c.quote));
    }
    out.push_str(&format!("{}\n{}\n\n{}\n{}\n", labels.about, c.boilerplate, labels.media_contact, c.contact));
    out
}

/// Paragraphs (split at blank lines) as escaped HTML, line breaks inside them as `<br>`.
fn html_paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).map(|p| p.lines().map(escape).collect::<Vec<_>>().join("<br>\n")).collect()
}

/// Text as HTML text or attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The words a release prints around its text, in its language.
struct Labels {
    press_release: &'static str,
    immediate: &'static str,
    embargoed_until: &'static str,
    draft: fn(i64) -> String,
    about: &'static str,
    media_contact: &'static str,
}

fn labels(language: Language) -> Labels {
    match language {
        Language::En => Labels {
            press_release: "Press release",
            immediate: "FOR IMMEDIATE RELEASE",
            embargoed_until: "EMBARGOED UNTIL",
            draft: |version| format!("DRAFT (version {version}), not approved"),
            about: "About the university",
            media_contact: "Media contact",
        },
        Language::Az => Labels {
            press_release: "Press-reliz",
            immediate: "DƏRHAL YAYIMLANMAQ ÜÇÜN",
            embargoed_until: "EMBARQO:",
            draft: |version| format!("QARALAMA (versiya {version}), təsdiqlənməyib"),
            about: "Universitet haqqında",
            media_contact: "Media ilə əlaqə",
        },
        Language::Ru => Labels {
            press_release: "Пресс-релиз",
            immediate: "ДЛЯ НЕМЕДЛЕННОЙ ПУБЛИКАЦИИ",
            embargoed_until: "ЭМБАРГО ДО",
            draft: |version| format!("ЧЕРНОВИК (версия {version}), не утверждён"),
            about: "Об университете",
            media_contact: "Контакты для прессы",
        },
    }
}

/// A date as a release prints it: `1 December 2026`, `1 dekabr 2026`, `1 декабря 2026`.
pub fn long_date(date: NaiveDate, language: Language) -> String {
    const EN: [&str; 12] =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    const AZ: [&str; 12] =
        ["yanvar", "fevral", "mart", "aprel", "may", "iyun", "iyul", "avqust", "sentyabr", "oktyabr", "noyabr", "dekabr"];
    // Russian names the month in the genitive after a day.
    const RU: [&str; 12] =
        ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"];
    let months = match language {
        Language::En => EN,
        Language::Az => AZ,
        Language::Ru => RU,
    };
    let month = months[date.month0() as usize];
    format!("{} {month} {}", date.day(), date.year())
}

/// An instant as a release prints it, in the office's zone: `3 December 2026, 10:00 (Asia/Baku)`.
pub fn long_moment(at: DateTime<Utc>, zone: Tz, language: Language) -> String {
    let local = at.with_timezone(&zone);
    format!("{}, {} ({zone})", long_date(local.date_naive(), language), local.format("%H:%M"))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Paragraphs separated by one blank line; lines inside a paragraph kept, without spaces around them.
fn paragraphs(text: &str) -> String {
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

/// What the draft says about the university (`[university]` of the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Masthead<'a> {
    pub university: &'a str,
    pub city: &'a str,
    pub boilerplate: &'a str,
    pub media_contact: &'a str,
}

/// The variables a release template gets.
const TEMPLATE_VARIABLES: [&str; 6] = ["title", "university", "city", "date", "boilerplate", "media_contact"];

/// A problem with a release template, naming its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub file: String,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the press release template {} is broken: {}", self.file, self.message)
    }
}

impl std::error::Error for TemplateError {}

/// A release template, checked: one `[FIELD]` section for each field, MiniJinja inside.
#[derive(Debug)]
pub struct PressTemplate {
    file: String,
    language: Language,
    environment: Environment<'static>,
}

impl PressTemplate {
    /// The file of a language's template inside the templates folder.
    pub fn file_name(language: Language) -> String {
        format!("{}.txt", language.code())
    }

    /// Reads a template: `#` lines and blank lines may come before the first section; then
    /// each field once, under a line `[headline]`, `[dateline]`, … Every section must use only
    /// the template variables and render.
    pub fn parse(file: &str, language: Language, text: &str) -> Result<PressTemplate, TemplateError> {
        let error = |message: String| TemplateError { file: file.to_string(), message };
        let mut environment = Environment::new();
        environment.set_undefined_behavior(UndefinedBehavior::Strict);
        environment.set_trim_blocks(true);
        let mut sections: Vec<(Field, String)> = Vec::new();
        for (index, line) in text.replace("\r\n", "\n").lines().enumerate() {
            let header = line.trim().strip_prefix('[').and_then(|rest| rest.strip_suffix(']'));
            match (header, sections.last_mut()) {
                (Some(name), _) if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '-') => {
                    let field = Field::parse(name).map_err(|e| error(format!("line {}: {e}", index + 1)))?;
                    if sections.iter().any(|(seen, _)| *seen == field) {
                        return Err(error(format!("line {}: [{}] comes twice", index + 1, field.name())));
                    }
                    sections.push((field, String::new()));
                }
                (_, Some((_, source))) => {
                    source.push_str(line);
                    source.push('\n');
                }
                (_, None) if line.trim().is_empty() || line.trim_start().starts_with('#') => {}
                (_, None) => return Err(error(format!("line {}: text before the first [section]", index + 1))),
            }
        }
        let missing: Vec<&str> = Field::ALL.into_iter().filter(|f| !sections.iter().any(|(s, _)| s == f)).map(Field::name).collect();
        if !missing.is_empty() {
            return Err(error(format!("no section for {}", missing.join(", "))));
        }
        for (field, source) in sections {
            environment
                .add_template_owned(field.name(), source)
                .map_err(|e| error(format!("[{}]: {}", field.name(), one_line(&e.to_string()))))?;
            let template = environment.get_template(field.name()).map_err(|e| error(e.to_string()))?;
            let mut unknown: Vec<String> =
                template.undeclared_variables(false).into_iter().filter(|v| !TEMPLATE_VARIABLES.contains(&v.as_str())).collect();
            unknown.sort();
            if let Some(variable) = unknown.first() {
                return Err(error(format!(
                    "[{}] uses `{variable}`, which is not a template variable (they are: {})",
                    field.name(),
                    TEMPLATE_VARIABLES.join(", ")
                )));
            }
        }
        let template = PressTemplate { file: file.to_string(), language, environment };
        let sample = Masthead { university: "The University", city: "Baku", boilerplate: "About us.", media_contact: "Press office" };
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
        template.draft("Sample title", &sample, today)?;
        Ok(template)
    }

    /// A first version of a release: the template filled with the title, the university's
    /// facts and the dateline's date (today in the office's zone). The texts are cleaned as
    /// edits are; a section left empty stays empty for the author to fill.
    pub fn draft(&self, title: &str, masthead: &Masthead<'_>, today: NaiveDate) -> Result<Content, TemplateError> {
        let values = minijinja::context! {
            title => title,
            university => masthead.university,
            city => masthead.city,
            date => long_date(today, self.language),
            boilerplate => masthead.boilerplate,
            media_contact => masthead.media_contact,
        };
        let mut content = Content::default();
        for field in Field::ALL {
            let rendered = self.environment.get_template(field.name()).and_then(|template| template.render(&values)).map_err(|e| {
                TemplateError { file: self.file.clone(), message: format!("[{}]: {}", field.name(), one_line(&e.to_string())) }
            })?;
            *content.slot(field) = if field.is_one_line() { one_line(&rendered) } else { paragraphs(&rendered) };
        }
        Ok(content)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::core::confidentiality::Confidentiality;

    const ZONE: Tz = chrono_tz::Asia::Baku;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
    }

    fn masthead() -> Masthead<'static> {
        Masthead {
            university: "Baku State University",
            city: "Baku",
            boilerplate: "Baku State University, founded in 1919, teaches 25,000 students.",
            media_contact: "Press office\npress@uni.example",
        }
    }

    fn shipped(language: Language) -> PressTemplate {
        let text = match language {
            Language::En => include_str!("../../mail-rules/templates/press/en.txt"),
            Language::Az => include_str!("../../mail-rules/templates/press/az.txt"),
            Language::Ru => include_str!("../../mail-rules/templates/press/ru.txt"),
        };
        PressTemplate::parse(&PressTemplate::file_name(language), language, text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn release(status: Status, version: i64, approved_version: Option<i64>) -> Release {
        let today = now().with_timezone(&ZONE).date_naive();
        Release {
            id: 7,
            title: "Erasmus+ week".into(),
            language: Language::En,
            status,
            version,
            approved_version,
            approved_by: approved_version.map(|_| "@manager:uni.example".into()),
            approved_at: approved_version.map(|_| now()),
            sent_at: None,
            out_number: None,
            embargo: None,
            created_by: "@officer:uni.example".into(),
            created_at: now(),
            content: shipped(Language::En).draft("Erasmus+ week", &masthead(), today).unwrap(),
        }
    }

    fn member(unit: &str, role: Role) -> StaffMember {
        StaffMember { id: "@x:uni.example".into(), name: "X".into(), unit: unit.into(), role, clearance: Confidentiality::Internal }
    }

    #[test]
    fn the_shipped_templates_fill_every_field_in_their_language() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let en = shipped(Language::En).draft("Erasmus+ week", &masthead(), today).unwrap();
        assert_eq!(en.headline, "Erasmus+ week");
        assert_eq!(en.dateline, "BAKU, 1 December 2026");
        assert_eq!(en.boilerplate, masthead().boilerplate);
        assert_eq!(en.contact, "Press office\npress@uni.example");
        assert!(!en.lead.is_empty() && !en.body.is_empty() && !en.quote.is_empty());
        assert!(shipped(Language::Az).draft("Erasmus+ həftəsi", &masthead(), today).unwrap().dateline.contains("1 dekabr 2026"));
        assert!(shipped(Language::Ru).draft("Неделя Erasmus+", &masthead(), today).unwrap().dateline.contains("1 декабря 2026"));
    }

    #[test]
    fn a_broken_template_names_its_file_and_the_problem() {
        let parse = |text: &str| PressTemplate::parse("en.txt", Language::En, text).unwrap_err().to_string();
        let all = Field::ALL.map(|f| format!("[{}]\n{{{{ title }}}}\n", f.name())).join("");
        assert!(PressTemplate::parse("en.txt", Language::En, &all).is_ok());
        assert!(parse("[headline]\n{{ title }}\n").contains("no section for dateline, lead, body, quote, boilerplate, contact"));
        assert!(parse(&all.replace("[quote]\n{{ title }}", "[quote]\n{{ rector }}")).contains("[quote] uses `rector`"));
        assert!(parse(&all.replace("[body]", "[summary]")).contains("there is no field 'summary'"));
        assert!(parse(&format!("Dear editor\n{all}")).contains("line 1: text before the first [section]"));
        assert!(parse(&all.replace("[lead]\n{{ title }}", "[lead]\n{% if %}")).contains("en.txt"));
        assert!(parse(&format!("{all}[headline]\nx\n")).contains("[headline] comes twice"));
    }

    #[test]
    fn every_edit_is_a_new_version_and_an_edit_after_approval_needs_a_new_one() {
        let draft = release(Status::Draft, 1, None);
        let edit1 = edit(&draft, Field::Lead, "  The university opens\n\n\n its doors.  ").unwrap();
        assert_eq!((edit1.version, edit1.needs_new_approval), (2, false));
        assert_eq!(edit1.content.lead, "The university opens\n\nits doors.");
        assert_eq!(edit(&draft, Field::Headline, "A\n  new   headline").unwrap().content.headline, "A new headline");

        let approved = release(Status::Approved, 2, Some(2));
        let edit2 = edit(&approved, Field::Quote, "“Welcome,” said the rector.").unwrap();
        assert_eq!((edit2.version, edit2.needs_new_approval), (3, true));

        assert_eq!(edit(&draft, Field::Body, " \n "), Err(Refusal::Empty(Field::Body)));
        assert!(edit(&draft, Field::Quote, "").is_ok(), "a release may go without a quote");
        assert_eq!(edit(&draft, Field::Headline, "Erasmus+ week"), Err(Refusal::Unchanged(Field::Headline)));
        assert_eq!(edit(&draft, Field::Headline, &"x".repeat(301)), Err(Refusal::TooLong("headline", 300)));
        let sent = Release { out_number: Some("OUT-2026-000004".into()), ..release(Status::Sent, 2, Some(2)) };
        assert!(edit(&sent, Field::Body, "more").unwrap_err().to_string().contains("sent already, as OUT-2026-000004"));
    }

    #[test]
    fn only_managers_of_the_international_office_or_admins_approve() {
        let draft = release(Status::Draft, 2, None);
        assert_eq!(approve(&draft, &member("international", Role::Manager)), Ok(2));
        assert_eq!(approve(&draft, &member("registry", Role::Admin)), Ok(2));
        assert_eq!(approve(&draft, &member("international", Role::Staff)), Err(Refusal::NotAnApprover));
        assert_eq!(approve(&draft, &member("finance", Role::Manager)), Err(Refusal::NotAnApprover));
        assert_eq!(approve(&draft, &member("registry", Role::Registrar)), Err(Refusal::NotAnApprover));
        let approved = release(Status::Approved, 2, Some(2));
        assert_eq!(approve(&approved, &member("international", Role::Manager)), Err(Refusal::AlreadyApproved { id: 7, version: 2 }));
        let edited = release(Status::Draft, 3, Some(2));
        assert_eq!(approve(&edited, &member("international", Role::Manager)), Ok(3));
    }

    #[test]
    fn only_an_approved_version_goes_to_the_media_and_only_when_mail_can_go() {
        let to = vec!["news@press.example".to_string()];
        let later = Some(now() + chrono::Duration::hours(20));
        assert_eq!(check_send(&release(Status::Approved, 2, Some(2)), &to, true, later, now()), Ok(()));
        let draft = check_send(&release(Status::Draft, 1, None), &to, true, None, now()).unwrap_err();
        assert!(draft.to_string().contains("is not approved"), "{draft}");
        let edited = check_send(&release(Status::Draft, 3, Some(2)), &to, true, None, now()).unwrap_err();
        assert!(edited.to_string().contains("edited after version 2 was approved: version 3 needs a new approval"), "{edited}");
        let approved = release(Status::Approved, 2, Some(2));
        assert_eq!(check_send(&approved, &to, false, None, now()), Err(Refusal::MailDisabled));
        assert_eq!(check_send(&approved, &[], true, None, now()), Err(Refusal::NoRecipients));
        assert_eq!(check_send(&approved, &to, true, Some(now()), now()), Err(Refusal::EmbargoPassed));
        let sent = release(Status::Sent, 2, Some(2));
        assert!(matches!(check_send(&sent, &to, true, None, now()), Err(Refusal::AlreadySent { .. })));
    }

    #[test]
    fn media_addresses_are_addresses_each_once() {
        let emails =
            ["news@press.example", " NEWS@press.example ", "", "not an address", "a@b", "x@y.example, z@w.example", "desk@tv.example"];
        assert_eq!(media_recipients(emails), vec!["news@press.example".to_string(), "desk@tv.example".to_string()]);
    }

    #[test]
    fn each_newsroom_gets_its_own_copy_and_the_register_keeps_one_to_all() {
        let mut approved = release(Status::Approved, 2, Some(2));
        approved.embargo = Some(now() + chrono::Duration::hours(20));
        let to = vec!["news@press.example".to_string(), "desk@tv.example".to_string()];
        let mut ids = (1..).map(|n| format!("chancery.out.OUT-2026-000004.{n}@uni.example"));
        let (record, copies) = media_mails(&approved, "Registry <registry@uni.example>", &to, "OUT-2026-000004", || ids.next().unwrap());
        assert_eq!(record.to, to);
        assert_eq!(copies.iter().map(|m| m.to.clone()).collect::<Vec<_>>(), vec![vec![to[0].clone()], vec![to[1].clone()]]);
        let all_ids: HashSet<&str> = std::iter::once(&record).chain(&copies).map(|m| m.message_id.as_str()).collect();
        assert_eq!(all_ids.len(), 3);
        for mail in std::iter::once(&record).chain(&copies) {
            assert_eq!(mail.kind, MailKind::Correspondence);
            assert_eq!(mail.subject, "[OUT-2026-000004] Erasmus+ week");
            assert!(
                mail.text.starts_with("PRESS RELEASE\nFOR IMMEDIATE RELEASE\n\nErasmus+ week\n\nBAKU, 1 December 2026 – "),
                "{}",
                mail.text
            );
            assert!(mail.text.contains("About the university\nBaku State University, founded in 1919"));
        }
    }

    #[test]
    fn exports_say_what_state_the_release_is_in_and_html_is_escaped() {
        let mut draft = release(Status::Draft, 3, Some(2));
        draft.content.headline = "Students <script>alert(1)</script> & \"friends\"".into();
        draft.content.body = "First paragraph\nwith a break.\n\nSecond paragraph.".into();
        let html = html(&draft, now(), ZONE);
        assert!(html.contains("<h1>Students &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;friends&quot;</h1>"), "{html}");
        assert!(!html.contains("<script>"));
        assert!(html.contains("<p>First paragraph<br>\nwith a break.</p>\n<p>Second paragraph.</p>"), "{html}");
        assert!(html.contains("<strong class=\"dateline\">BAKU, 1 December 2026</strong> – "));
        assert!(html.contains("DRAFT (version 3), not approved"));
        let markdown = markdown(&draft, now(), ZONE);
        assert!(markdown.contains("# Students \\<script>alert(1)\\</script> & \"friends\""), "{markdown}");
        assert!(markdown.contains("First paragraph  \nwith a break.\n\nSecond paragraph."));
        assert!(markdown.contains("## Media contact\n\nPress office  \npress@uni.example"));

        let mut embargoed = release(Status::Sent, 2, Some(2));
        embargoed.embargo = Some(Utc.with_ymd_and_hms(2026, 12, 3, 6, 0, 0).unwrap());
        assert!(markdown_note(&embargoed, now()).contains("EMBARGOED UNTIL 3 December 2026, 10:00 (Asia/Baku)"));
        assert!(markdown_note(&embargoed, now() + chrono::Duration::days(3)).contains("FOR IMMEDIATE RELEASE"));
        let russian = Release { language: Language::Ru, ..embargoed };
        assert!(markdown_note(&russian, now()).contains("ЭМБАРГО ДО 3 декабря 2026, 10:00"));
    }

    fn markdown_note(release: &Release, now: DateTime<Utc>) -> String {
        markdown(release, now, ZONE).lines().next().unwrap_or_default().to_string()
    }

    #[test]
    fn fields_are_named_as_people_type_them() {
        assert_eq!(Field::parse("Headline"), Ok(Field::Headline));
        assert_eq!(Field::parse("media-contact"), Ok(Field::Contact));
        assert!(Field::parse("summary").unwrap_err().contains("fields: headline, dateline, lead, body, quote, boilerplate, contact"));
        assert_eq!(title("  Erasmus+\n week "), Ok("Erasmus+ week".to_string()));
        assert_eq!(title(" "), Err(Refusal::EmptyTitle));
    }
}
