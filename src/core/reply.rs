//! What the university writes back on its own: acknowledgements to senders and forwards to
//! units. Pure: the letter, its registration and the policy in; a mail to enqueue, or the reason
//! there is none, out.
//!
//! Automatic mail is where loops and backscatter come from, so an acknowledgement is written only
//! to a person: never to machine-generated mail (auto-responders, lists, bounces, our own mail),
//! never to the university's own addresses, and at most a few times a day to one sender.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

use super::letter::Letter;
use super::outbound::{LOOP_HEADER, MailKind, OutgoingMail, domain_of};

/// The template set a letter gets unless routing names another.
pub const DEFAULT_TEMPLATE: &str = "default";

/// At most this many Message-IDs go into References: the first of the thread and the latest.
const MAX_REFERENCES: usize = 20;

/// Characters of a letter read to guess its language.
const LANGUAGE_SAMPLE_CHARS: usize = 4000;

/// The languages the university answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Az,
    Ru,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::En, Language::Az, Language::Ru];

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Az => "az",
            Language::Ru => "ru",
        }
    }

    pub fn parse(code: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.code() == code)
    }
}

/// A unit as replies need it. The rules engine's `Unit` converts into this:
/// `UnitInfo { id: u.id, email: u.email, names: [("en", u.name.en), ("az", u.name.az), ("ru", u.name.ru)] }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UnitInfo {
    pub id: String,
    pub email: String,
    /// The unit's name by language code (`en`, `az`, `ru`).
    pub names: BTreeMap<String, String>,
}

impl UnitInfo {
    /// The name in a language, else in English, else the id.
    pub fn name(&self, language: Language) -> &str {
        self.names
            .get(language.code())
            .or_else(|| self.names.get("en"))
            .map(String::as_str)
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(&self.id)
    }
}

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
    Template(String),
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

/// Why a letter was written by a program rather than a person, or `None` for a person's letter.
pub fn is_machine_generated(letter: &Letter) -> Option<String> {
    let has = |name: &str| letter.header_values(name).next().is_some();
    let values = |name: &'static str| letter.header_values(name).map(|v| v.trim().to_ascii_lowercase()).collect::<Vec<_>>();

    if has(LOOP_HEADER) {
        return Some(format!("{LOOP_HEADER} header: mail written by Chancery"));
    }
    for value in values("Auto-Submitted") {
        let token = value.split(';').next().unwrap_or("").trim();
        if token != "no" {
            return Some(format!("Auto-Submitted: {token}"));
        }
    }
    for value in values("Precedence") {
        if matches!(value.as_str(), "bulk" | "list" | "junk") {
            return Some(format!("Precedence: {value}"));
        }
    }
    for header in ["X-Auto-Response-Suppress", "List-Id", "X-Autoreply", "X-Autorespond"] {
        if has(header) {
            return Some(format!("{header} header"));
        }
    }
    for value in values("Return-Path") {
        if value.is_empty() || value == "<>" {
            return Some("empty Return-Path <> (a bounce)".into());
        }
    }
    for value in values("Content-Type") {
        if value.starts_with("multipart/report") {
            return Some("multipart/report (a delivery or read report)".into());
        }
    }
    let return_path = values("Return-Path");
    let senders = letter.from.iter().map(|c| c.address.to_ascii_lowercase()).chain(return_path);
    for address in senders {
        let local = address.trim_matches(['<', '>']).split('@').next().unwrap_or("").to_string();
        let local = local.split('+').next().unwrap_or("");
        if matches!(
            local,
            "mailer-daemon" | "postmaster" | "noreply" | "no-reply" | "no_reply" | "donotreply" | "do-not-reply" | "do_not_reply"
        ) {
            return Some(format!("sender {address}"));
        }
    }
    None
}

/// Where an acknowledgement of this letter goes: its first sender address, lower case. The
/// caller counts today's acknowledgements to this address (the outbox's `ack_recipient`).
pub fn acknowledgement_recipient(letter: &Letter) -> Option<String> {
    letter.from.iter().map(|c| c.address.trim().to_lowercase()).find(|a| a.contains('@'))
}

/// The language to answer in: Azerbaijani when the letter has the letters only Azerbaijani (and
/// Turkish) use, Russian when it is mostly Cyrillic, English otherwise.
pub fn language_of(letter: &Letter) -> Language {
    let sample = letter.subject.chars().chain(['\n']).chain(letter.body_text.chars()).take(LANGUAGE_SAMPLE_CHARS);
    let (mut cyrillic, mut latin, mut turkic, mut azeri_cyrillic) = (0usize, 0usize, 0usize, 0usize);
    for c in sample {
        match c {
            // ə is Azerbaijani alone; ğ ı İ ş are Azerbaijani or Turkish. ç ö ü are left out:
            // German and French write them too.
            'ə' | 'Ə' | 'ğ' | 'Ğ' | 'ı' | 'İ' | 'ş' | 'Ş' => {
                turkic += 1;
                latin += 1;
            }
            'ә' | 'Ә' | 'ғ' | 'Ғ' | 'ҹ' | 'Ҹ' | 'һ' | 'Һ' | 'ј' | 'Ј' => {
                azeri_cyrillic += 1;
                cyrillic += 1;
            }
            '\u{0400}'..='\u{04FF}' => cyrillic += 1,
            c if c.is_alphabetic() && (c.is_ascii() || ('\u{00C0}'..='\u{024F}').contains(&c)) => latin += 1,
            _ => {}
        }
    }
    if cyrillic > latin {
        if azeri_cyrillic > 0 { Language::Az } else { Language::Ru }
    } else if turkic > 0 {
        Language::Az
    } else {
        Language::En
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

fn is_own_address(address: &str, policy: &ReplyPolicy) -> bool {
    if same_address(address, &policy.from) {
        return true;
    }
    let Some(domain) = domain_of(address) else { return false };
    policy
        .own_domains
        .iter()
        .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
        .filter(|d| !d.is_empty())
        .any(|own| domain == own || domain.strip_suffix(own.as_str()).is_some_and(|rest| rest.ends_with('.')))
}

fn same_address(a: &str, b: &str) -> bool {
    let bare = |s: &str| s.rsplit_once('<').map_or(s, |(_, rest)| rest).trim().trim_end_matches('>').trim().to_lowercase();
    bare(a) == bare(b)
}

/// A subject on one line, carrying the number so that a reply threads to the document.
fn tagged_subject(rendered: &str, number: &str) -> String {
    let line = rendered.split(|c: char| c.is_control()).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
    let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
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

/// What templates may print. `subject` and `sender_address` are left out for confidential
/// letters.
#[derive(Debug, Clone, Serialize)]
struct Values {
    number: String,
    date: String,
    unit: String,
    unit_id: String,
    subject: String,
    sender: String,
    sender_address: String,
}

impl Values {
    fn of(letter: &Letter, registration: &Registration<'_>, language: Language) -> Values {
        let first = letter.from.first();
        Values {
            number: registration.number.to_string(),
            date: registration.local_date.to_string(),
            unit: registration.unit.name(language).to_string(),
            unit_id: registration.unit.id.clone(),
            subject: letter.subject.clone(),
            sender: first.map(|c| c.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| c.address.clone())).unwrap_or_default(),
            sender_address: first.map(|c| c.address.clone()).unwrap_or_default(),
        }
    }

    fn sample() -> Values {
        Values {
            number: "IN-2026-000123".into(),
            date: "28.11.2026".into(),
            unit: "International Relations Office".into(),
            unit_id: "international".into(),
            subject: "Erasmus+ agreement".into(),
            sender: "Ayşe Yılmaz".into(),
            sender_address: "ayse@uni-x.edu.tr".into(),
        }
    }

    fn context(&self, kind: FileKind) -> minijinja::Value {
        let mut map: BTreeMap<&str, &str> = BTreeMap::new();
        for name in kind.variables() {
            let value = match *name {
                "number" => &self.number,
                "date" => &self.date,
                "unit" => &self.unit,
                "unit_id" => &self.unit_id,
                "subject" => &self.subject,
                "sender" => &self.sender,
                "sender_address" => &self.sender_address,
                _ => continue,
            };
            map.insert(name, value.as_str());
        }
        minijinja::Value::from_serialize(&map)
    }
}

/// A problem with a template file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub file: String,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mail-rules/templates/{}: {}", self.file, self.message)
    }
}

impl std::error::Error for TemplateError {}

/// What a template file is for, read from its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum FileKind {
    Ack { set: String, language: Language, confidential: bool },
    Forward { confidential: bool },
}

impl FileKind {
    /// `ack.en.txt`, `ack-confidential.az.txt`, `ack-visa.ru.txt`, `ack-visa-confidential.en.txt`,
    /// `forward.txt`, `forward-confidential.txt`.
    fn of(file: &str) -> Result<FileKind, String> {
        let stem = file.strip_suffix(".txt").ok_or("template files end in .txt")?;
        match stem {
            "forward" => return Ok(FileKind::Forward { confidential: false }),
            "forward-confidential" => return Ok(FileKind::Forward { confidential: true }),
            _ => {}
        }
        let unknown = || {
            "is not a template name: use ack.LANG.txt, ack-confidential.LANG.txt, ack-SET.LANG.txt, \
             ack-SET-confidential.LANG.txt (LANG en, az or ru), forward.txt or forward-confidential.txt"
                .to_string()
        };
        let (name, code) = stem.rsplit_once('.').ok_or_else(unknown)?;
        let language = Language::parse(code).ok_or_else(unknown)?;
        let rest = if name == "ack" { "" } else { name.strip_prefix("ack-").ok_or_else(unknown)? };
        let (set, confidential) = match rest {
            "" => (DEFAULT_TEMPLATE, false),
            "confidential" => (DEFAULT_TEMPLATE, true),
            other => match other.strip_suffix("-confidential") {
                Some(set) => (set, true),
                None => (other, false),
            },
        };
        if set == DEFAULT_TEMPLATE && !rest.is_empty() && rest != "confidential" {
            return Err("the default set is ack.LANG.txt, not ack-default.LANG.txt".into());
        }
        if set.is_empty() || !set.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(unknown());
        }
        Ok(FileKind::Ack { set: set.to_string(), language, confidential })
    }

    fn is_confidential(&self) -> bool {
        matches!(self, FileKind::Ack { confidential: true, .. } | FileKind::Forward { confidential: true })
    }

    /// The variables a template of this kind gets. Confidential ones never see the subject;
    /// the confidential forward (to a unit's mailbox) not even the sender.
    fn variables(&self) -> &'static [&'static str] {
        match self {
            FileKind::Ack { confidential: false, .. } | FileKind::Forward { confidential: false } => {
                &["number", "date", "unit", "unit_id", "subject", "sender", "sender_address"]
            }
            FileKind::Ack { confidential: true, .. } => &["number", "date", "unit", "unit_id", "sender"],
            FileKind::Forward { confidential: true } => &["number", "date", "unit", "unit_id"],
        }
    }
}

/// The acknowledgement and forward templates of `mail-rules/templates/`, checked: every file
/// has a subject line and a body, uses only the variables its kind gets, and renders.
#[derive(Debug, Clone)]
pub struct Templates {
    environment: Environment<'static>,
    files: BTreeMap<String, FileKind>,
    sets: BTreeSet<String>,
}

impl Templates {
    /// Reads template files given as (file name, content). Every problem found is returned.
    pub fn parse<I, N, C>(files: I) -> Result<Templates, Vec<TemplateError>>
    where
        I: IntoIterator<Item = (N, C)>,
        N: Into<String>,
        C: Into<String>,
    {
        let mut environment = Environment::new();
        environment.set_undefined_behavior(UndefinedBehavior::Strict);
        environment.set_keep_trailing_newline(true);
        environment.set_trim_blocks(true);
        let mut kinds = BTreeMap::new();
        // Every file with a proper name, its content right or not: what is missing is only what
        // is not there at all.
        let mut named = BTreeMap::new();
        let mut errors = Vec::new();
        for (file, content) in files {
            let (file, content): (String, String) = (file.into(), content.into());
            let error = |message: String| TemplateError { file: file.clone(), message };
            let kind = match FileKind::of(&file) {
                Ok(kind) => {
                    named.insert(file.clone(), kind.clone());
                    kind
                }
                Err(message) => {
                    errors.push(error(message));
                    continue;
                }
            };
            let content = content.replace("\r\n", "\n");
            let mut lines = content.splitn(2, '\n');
            let first = lines.next().unwrap_or("");
            let rest = lines.next().unwrap_or("");
            let Some(subject) = first.strip_prefix("Subject:") else {
                errors.push(error("the first line must be `Subject: ...`".into()));
                continue;
            };
            let Some(body) = rest.strip_prefix('\n') else {
                errors.push(error("a blank line must follow the Subject line".into()));
                continue;
            };
            if body.trim().is_empty() {
                errors.push(error("the body is empty".into()));
                continue;
            }
            let mut ok = true;
            for (part, source) in [("subject", subject.trim().to_string()), ("body", body.to_string())] {
                let name = format!("{file}#{part}");
                if let Err(e) = environment.add_template_owned(name.clone(), source) {
                    errors.push(error(format!("{part}: {}", one_line(&e.to_string()))));
                    ok = false;
                    continue;
                }
                let template = environment.get_template(&name).expect("just added");
                let allowed: HashSet<&str> = kind.variables().iter().copied().collect();
                let mut unknown: Vec<String> =
                    template.undeclared_variables(false).into_iter().filter(|v| !allowed.contains(v.as_str())).collect();
                unknown.sort();
                for variable in unknown {
                    let why = if kind.is_confidential() && matches!(variable.as_str(), "subject" | "sender" | "sender_address") {
                        "confidential templates do not get it"
                    } else {
                        "it is not a template variable"
                    };
                    errors.push(error(format!("{part} uses `{variable}`: {why} (they get: {})", kind.variables().join(", "))));
                    ok = false;
                }
            }
            if ok {
                kinds.insert(file, kind);
            }
        }
        errors.extend(missing(&named));
        let templates = Templates {
            sets: kinds.values().filter_map(|k| if let FileKind::Ack { set, .. } = k { Some(set.clone()) } else { None }).collect(),
            environment,
            files: kinds,
        };
        for (file, kind) in &templates.files {
            if let Err(message) = templates.render_kind(file, kind, &Values::sample()) {
                errors.push(TemplateError { file: file.clone(), message });
            }
        }
        if errors.is_empty() { Ok(templates) } else { Err(errors) }
    }

    /// Whether routing may name this template (`acknowledge = "NAME"`).
    pub fn knows(&self, name: &str) -> bool {
        self.resolve(name).is_some()
    }

    /// The template sets there are, `default` among them.
    pub fn sets(&self) -> impl Iterator<Item = &str> {
        self.sets.iter().map(String::as_str)
    }

    /// A template name as routing writes it: the set, and the language it fixes, if any.
    fn resolve(&self, name: &str) -> Option<(String, Option<Language>)> {
        if self.sets.contains(name) {
            return Some((name.to_string(), None));
        }
        if let Some(language) = Language::parse(name) {
            return Some((DEFAULT_TEMPLATE.to_string(), Some(language)));
        }
        let (set, code) = name.rsplit_once(['-', '_'])?;
        let language = Language::parse(code)?;
        self.sets.contains(set).then(|| (set.to_string(), Some(language)))
    }

    fn ack_file(&self, set: &str, language: Language, confidential: bool) -> String {
        let code = language.code();
        match (set == DEFAULT_TEMPLATE, confidential) {
            (true, false) => format!("ack.{code}.txt"),
            (true, true) => format!("ack-confidential.{code}.txt"),
            (false, false) => format!("ack-{set}.{code}.txt"),
            (false, true) => {
                let own = format!("ack-{set}-confidential.{code}.txt");
                // A set without a confidential variant falls back to the default one, never to
                // its ordinary template (which may print the subject).
                if self.files.contains_key(&own) { own } else { format!("ack-confidential.{code}.txt") }
            }
        }
    }

    fn render(&self, file: &str, values: &Values) -> Result<(String, String), String> {
        let kind = self.files.get(file).ok_or_else(|| format!("no template {file}"))?;
        self.render_kind(file, kind, values)
    }

    fn render_kind(&self, file: &str, kind: &FileKind, values: &Values) -> Result<(String, String), String> {
        let context = values.context(kind.clone());
        let render = |part: &str| {
            self.environment
                .get_template(&format!("{file}#{part}"))
                .and_then(|t| t.render(&context))
                .map_err(|e| format!("{part}: {}", one_line(&e.to_string())))
        };
        let subject = render("subject")?;
        let mut body = render("body")?;
        if !body.ends_with('\n') {
            body.push('\n');
        }
        Ok((subject, body))
    }
}

/// Every set needs all three languages (its confidential variant too, if it has one); the
/// default set needs its confidential variant, and the forward templates must be there.
fn missing(named: &BTreeMap<String, FileKind>) -> Vec<TemplateError> {
    let mut missing = Vec::new();
    let mut need = |file: String| {
        if !named.contains_key(&file) {
            missing.push(TemplateError { file, message: "is missing".into() });
        }
    };
    need("forward.txt".into());
    need("forward-confidential.txt".into());
    for language in Language::ALL {
        need(format!("ack.{}.txt", language.code()));
        need(format!("ack-confidential.{}.txt", language.code()));
    }
    let sets: BTreeSet<&str> =
        named.values().filter_map(|k| if let FileKind::Ack { set, .. } = k { Some(set.as_str()) } else { None }).collect();
    for set in sets.into_iter().filter(|s| *s != DEFAULT_TEMPLATE) {
        let has_confidential = named.values().any(|k| matches!(k, FileKind::Ack { set: s, confidential: true, .. } if s == set));
        for language in Language::ALL {
            need(format!("ack-{set}.{}.txt", language.code()));
            if has_confidential {
                need(format!("ack-{set}-confidential.{}.txt", language.code()));
            }
        }
    }
    missing
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::letter::read_letter;

    /// The templates the repository ships.
    pub(crate) fn shipped_templates() -> Templates {
        let files = [
            ("ack.en.txt", include_str!("../../mail-rules/templates/ack.en.txt")),
            ("ack.az.txt", include_str!("../../mail-rules/templates/ack.az.txt")),
            ("ack.ru.txt", include_str!("../../mail-rules/templates/ack.ru.txt")),
            ("ack-confidential.en.txt", include_str!("../../mail-rules/templates/ack-confidential.en.txt")),
            ("ack-confidential.az.txt", include_str!("../../mail-rules/templates/ack-confidential.az.txt")),
            ("ack-confidential.ru.txt", include_str!("../../mail-rules/templates/ack-confidential.ru.txt")),
            ("forward.txt", include_str!("../../mail-rules/templates/forward.txt")),
            ("forward-confidential.txt", include_str!("../../mail-rules/templates/forward-confidential.txt")),
        ];
        Templates::parse(files).unwrap_or_else(|errors| panic!("shipped templates: {errors:?}"))
    }

    fn policy() -> ReplyPolicy {
        ReplyPolicy {
            from: "University Registry <registry@uni.example>".into(),
            own_domains: vec!["uni.example".into()],
            max_acks_per_sender_per_day: 3,
            templates: shipped_templates(),
        }
    }

    fn unit() -> UnitInfo {
        UnitInfo {
            id: "international".into(),
            email: "international@uni.example".into(),
            names: [
                ("en".to_string(), "International Relations Office".to_string()),
                ("az".to_string(), "Beynəlxalq əlaqələr şöbəsi".to_string()),
                ("ru".to_string(), "Отдел международных связей".to_string()),
            ]
            .into(),
        }
    }

    fn mail(headers: &str, subject: &str, body: &str) -> Letter {
        read_letter(
            format!(
                "From: Ayşe Yılmaz <ayse@uni-x.edu.tr>\r\nTo: registry@uni.example\r\nSubject: {subject}\r\n\
                 Message-ID: <m2@uni-x.edu.tr>\r\n{headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
            )
            .as_bytes(),
        )
    }

    fn ack(letter: &Letter, confidential: bool, today: u32, template: &str) -> Result<OutgoingMail, NoReply> {
        let unit = unit();
        let registration = Registration { number: "IN-2026-000123", local_date: "28.11.2026", unit: &unit, confidential };
        acknowledgement(letter, &registration, today, template, &policy(), "chancery.ack.IN-2026-000123.x@uni.example".into())
    }

    #[test]
    fn machine_generated_mail_is_recognised() {
        let cases = [
            ("Auto-Submitted: auto-replied\r\n", "Auto-Submitted"),
            ("Auto-Submitted: auto-generated; owner-email=\"x@y\"\r\n", "Auto-Submitted"),
            ("Precedence: bulk\r\n", "Precedence"),
            ("Precedence: List\r\n", "Precedence"),
            ("Precedence: junk\r\n", "Precedence"),
            ("X-Auto-Response-Suppress: All\r\n", "X-Auto-Response-Suppress"),
            ("List-Id: Partners <partners.lists.uni-x.edu.tr>\r\n", "List-Id"),
            ("Return-Path: <>\r\n", "Return-Path"),
            ("X-Chancery-Loop: registry@uni.example\r\n", "X-Chancery-Loop"),
        ];
        for (header, expected) in cases {
            let letter = mail(header, "Out of office", "I am away");
            let reason = is_machine_generated(&letter).unwrap_or_else(|| panic!("{header:?} is machine-generated"));
            assert!(reason.contains(expected), "{header:?}: {reason}");
            assert!(matches!(ack(&letter, false, 0, "default"), Err(NoReply::MachineGenerated(_))), "{header:?}");
        }
        assert_eq!(is_machine_generated(&mail("Auto-Submitted: no\r\n", "Hello", "Dear colleagues")), None);
        assert_eq!(is_machine_generated(&mail("Precedence: first-class\r\n", "Hello", "Dear colleagues")), None);
        assert_eq!(is_machine_generated(&mail("Return-Path: <ayse@uni-x.edu.tr>\r\n", "Hello", "Dear colleagues")), None);
    }

    #[test]
    fn daemons_and_noreply_senders_get_nothing() {
        for from in
            ["MAILER-DAEMON@mx.uni-x.edu.tr", "postmaster@uni-x.edu.tr", "noreply@portal.gov.az", "no-reply@x.org", "donotreply@x.org"]
        {
            let letter = read_letter(format!("From: {from}\r\nSubject: hi\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n").as_bytes());
            let reason = is_machine_generated(&letter).unwrap_or_else(|| panic!("{from} is a machine"));
            assert!(reason.contains("sender"), "{reason}");
        }
        let report = read_letter(
            b"From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\nSubject: Undelivered Mail\r\n\
              Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
        );
        assert!(is_machine_generated(&report).is_some());
        let dsn_from_person = read_letter(
            b"From: someone@x.org\r\nSubject: Read\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=\"b\"\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
        );
        assert!(is_machine_generated(&dsn_from_person).unwrap().contains("multipart/report"));
    }

    #[test]
    fn own_addresses_and_domains_get_nothing() {
        for from in ["registry@uni.example", "dean@uni.example", "lab@physics.uni.example", "Registry@UNI.EXAMPLE"] {
            let letter = read_letter(format!("From: {from}\r\nSubject: hi\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n").as_bytes());
            assert!(matches!(ack(&letter, false, 0, "default"), Err(NoReply::OwnAddress(_))), "{from}");
        }
        let near_miss = read_letter(b"From: a@notuni.example\r\nSubject: hi\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n");
        assert!(ack(&near_miss, false, 0, "default").is_ok(), "notuni.example is not uni.example");
    }

    #[test]
    fn a_sender_gets_a_few_acknowledgements_a_day_at_most() {
        let letter = mail("", "Erasmus+ agreement", "Dear colleagues");
        assert!(ack(&letter, false, 2, "default").is_ok());
        assert_eq!(ack(&letter, false, 3, "default"), Err(NoReply::RateLimited { recipient: "ayse@uni-x.edu.tr".into(), sent_today: 3 }));
        let mut none = policy();
        none.max_acks_per_sender_per_day = 0;
        let unit = unit();
        let registration = Registration { number: "IN-2026-000123", local_date: "28.11.2026", unit: &unit, confidential: false };
        assert!(matches!(acknowledgement(&letter, &registration, 0, "default", &none, "x@y".into()), Err(NoReply::RateLimited { .. })));
    }

    #[test]
    fn answers_in_the_letters_language() {
        let az = mail("", "Müqavilə haqqında", "Hörmətli həmkarlar, əməkdaşlıq müqaviləsini göndəririk.");
        let ru = mail("", "Соглашение о сотрудничестве", "Уважаемые коллеги, направляем проект соглашения.");
        let en = mail("", "Cooperation agreement", "Dear colleagues, please find the draft attached.");
        let de = mail("", "Kooperationsvertrag", "Sehr geehrte Kolleginnen, anbei der Entwurf für die Zusammenarbeit. Grüße");
        let tr = mail("", "İşbirliği anlaşması", "Değerli meslektaşlarımız, anlaşma taslağını ekte bulabilirsiniz.");
        let ru_with_english_signature =
            mail("", "Приглашение", "Уважаемые коллеги, приглашаем вас на конференцию.\n--\nJohn Smith, Dept. of Physics");
        assert_eq!(language_of(&az), Language::Az);
        assert_eq!(language_of(&ru), Language::Ru);
        assert_eq!(language_of(&en), Language::En);
        assert_eq!(language_of(&de), Language::En, "ü alone is not Azerbaijani");
        assert_eq!(language_of(&tr), Language::Az, "Turkish partners read Azerbaijani better than English");
        assert_eq!(language_of(&ru_with_english_signature), Language::Ru);

        let az_ack = ack(&az, false, 0, "default").unwrap();
        assert!(az_ack.text.contains("Beynəlxalq əlaqələr şöbəsi"), "{}", az_ack.text);
        assert!(az_ack.subject.contains("Qeydiyyat") || az_ack.subject.contains("qeydə"), "{}", az_ack.subject);
        let ru_ack = ack(&ru, false, 0, "default").unwrap();
        assert!(ru_ack.text.contains("Отдел международных связей"), "{}", ru_ack.text);
        let en_ack = ack(&en, false, 0, "default").unwrap();
        assert!(en_ack.text.contains("International Relations Office"), "{}", en_ack.text);
        // The template name can fix the language.
        let forced = ack(&en, false, 0, "az").unwrap();
        assert!(forced.text.contains("Beynəlxalq"), "{}", forced.text);
        let forced = ack(&az, false, 0, "default-ru").unwrap();
        assert!(forced.text.contains("Отдел"), "{}", forced.text);
        assert_eq!(ack(&en, false, 0, "nonexistent"), Err(NoReply::UnknownTemplate("nonexistent".into())));
    }

    #[test]
    fn acknowledgement_carries_number_and_threading() {
        let letter = mail(
            "In-Reply-To: <m1@uni-x.edu.tr>\r\nReferences: <m0@uni-x.edu.tr> <m1@uni-x.edu.tr>\r\n",
            "Erasmus+ agreement",
            "Dear colleagues",
        );
        let mail = ack(&letter, false, 0, "default").unwrap();
        assert_eq!(mail.kind, MailKind::Acknowledgement);
        assert_eq!(mail.to, vec!["ayse@uni-x.edu.tr".to_string()]);
        assert_eq!(mail.from, "University Registry <registry@uni.example>");
        assert!(mail.subject.contains("[IN-2026-000123]"), "{}", mail.subject);
        assert!(mail.subject.contains("Erasmus+ agreement"), "{}", mail.subject);
        assert!(mail.text.contains("IN-2026-000123") && mail.text.contains("28.11.2026"), "{}", mail.text);
        assert!(mail.text.contains("Ayşe Yılmaz"), "{}", mail.text);
        assert_eq!(mail.in_reply_to.as_deref(), Some("m2@uni-x.edu.tr"));
        assert_eq!(mail.references, vec!["m0@uni-x.edu.tr", "m1@uni-x.edu.tr", "m2@uni-x.edu.tr"]);
        assert!(mail.auto_submitted);
        assert!(!mail.attach_original);
        assert_eq!(mail.message_id, "chancery.ack.IN-2026-000123.x@uni.example");
    }

    #[test]
    fn confidential_acknowledgement_never_shows_the_subject() {
        for (subject, body) in [
            ("Disciplinary case of student Mammadov", "Dear colleagues"),
            ("Дело студента Иванова", "Уважаемые коллеги"),
            ("Tələbə Məmmədovun intizam işi", "Hörmətli həmkarlar"),
        ] {
            let letter = mail("", subject, body);
            let mail = ack(&letter, true, 0, "default").unwrap();
            assert!(mail.subject.contains("[IN-2026-000123]"), "{}", mail.subject);
            for word in subject.split_whitespace().filter(|w| w.chars().count() > 3) {
                assert!(!mail.subject.contains(word), "{word} leaked into {}", mail.subject);
                assert!(!mail.text.contains(word), "{word} leaked into {}", mail.text);
            }
        }
    }

    #[test]
    fn hostile_subjects_stay_on_one_line() {
        let mut letter = mail("", "x", "Dear colleagues");
        letter.subject = "Hello\r\nBcc: victim@x.org\r\n\r\nbody".into();
        let mail = ack(&letter, false, 0, "default").unwrap();
        assert!(!mail.subject.contains(['\r', '\n']), "{:?}", mail.subject);
    }

    #[test]
    fn nothing_without_a_sender() {
        let letter = read_letter(b"Subject: hi\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n");
        assert_eq!(ack(&letter, false, 0, "default"), Err(NoReply::NoSender));
    }

    #[test]
    fn forward_attaches_the_original_unless_confidential() {
        let letter = mail("", "Erasmus+ agreement", "Dear colleagues");
        let unit = unit();
        let open = Registration { number: "IN-2026-000123", local_date: "28.11.2026", unit: &unit, confidential: false };
        let mail = forward_to_unit(&letter, &open, &policy(), "chancery.fwd.x@uni.example".into()).unwrap();
        assert_eq!(mail.kind, MailKind::Forward);
        assert_eq!(mail.to, vec!["international@uni.example".to_string()]);
        assert!(mail.attach_original);
        assert!(mail.subject.contains("[IN-2026-000123]") && mail.subject.contains("Erasmus+ agreement"), "{}", mail.subject);
        assert_eq!(mail.references, vec!["m2@uni-x.edu.tr".to_string()]);

        let secret = mail_with_subject("Disciplinary case of student Mammadov");
        let closed = Registration { confidential: true, ..open };
        let mail = forward_to_unit(&secret, &closed, &policy(), "chancery.fwd.y@uni.example".into()).unwrap();
        assert!(!mail.attach_original);
        assert!(mail.subject.contains("IN-2026-000123"));
        for word in ["Disciplinary", "Mammadov", "ayse", "Ayşe"] {
            assert!(!mail.subject.contains(word) && !mail.text.contains(word), "{word} leaked: {} / {}", mail.subject, mail.text);
        }
    }

    fn mail_with_subject(subject: &str) -> Letter {
        mail("", subject, "Dear colleagues")
    }

    #[test]
    fn forward_never_loops() {
        let unit = UnitInfo { email: "registry@uni.example".into(), ..unit() };
        let registration = Registration { number: "IN-2026-000123", local_date: "28.11.2026", unit: &unit, confidential: false };
        let letter = mail("", "Hello", "Dear colleagues");
        assert!(matches!(forward_to_unit(&letter, &registration, &policy(), "x@y".into()), Err(NoReply::Loop(_))));
        let ours = mail("X-Chancery-Loop: registry@uni.example\r\n", "Hello", "Dear colleagues");
        let unit = self::unit();
        let registration = Registration { unit: &unit, ..registration };
        assert!(matches!(forward_to_unit(&ours, &registration, &policy(), "x@y".into()), Err(NoReply::Loop(_))));
        let nowhere = UnitInfo { email: String::new(), ..self::unit() };
        let registration = Registration { unit: &nowhere, ..registration };
        assert!(matches!(forward_to_unit(&letter, &registration, &policy(), "x@y".into()), Err(NoReply::NoRecipient(_))));
    }

    #[test]
    fn template_files_are_checked() {
        let mut files: BTreeMap<String, String> = [
            "ack.en.txt",
            "ack.az.txt",
            "ack.ru.txt",
            "ack-confidential.en.txt",
            "ack-confidential.az.txt",
            "ack-confidential.ru.txt",
            "forward.txt",
            "forward-confidential.txt",
        ]
        .iter()
        .map(|f| (f.to_string(), "Subject: [{{ number }}]\n\nLetter {{ number }} of {{ date }}.\n".to_string()))
        .collect();
        assert!(Templates::parse(files.clone()).is_ok());

        let mut leaky = files.clone();
        leaky.insert("ack-confidential.en.txt".into(), "Subject: {{ subject }}\n\nx\n".into());
        let errors = Templates::parse(leaky).unwrap_err();
        assert!(errors.iter().any(|e| e.file == "ack-confidential.en.txt" && e.message.contains("confidential")), "{errors:?}");

        let mut broken = files.clone();
        broken.insert("ack.en.txt".into(), "Hello {{ number }}\n".into());
        broken.insert("ack.ru.txt".into(), "Subject: x\n\n{{ number\n".into());
        broken.insert("ack.de.txt".into(), "Subject: x\n\ny\n".into());
        broken.insert("ack-visa.en.txt".into(), "Subject: x\n\n{{ nubmer }}\n".into());
        let errors = Templates::parse(broken).unwrap_err();
        let text = errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
        assert!(text.contains("ack.en.txt: the first line"), "{text}");
        assert!(text.contains("ack.ru.txt: body"), "{text}");
        assert!(text.contains("ack.de.txt: is not a template name"), "{text}");
        assert!(text.contains("ack-visa.en.txt: body uses `nubmer`"), "{text}");
        assert!(text.contains("ack-visa.az.txt: is missing"), "{text}");

        files.remove("forward.txt");
        let errors = Templates::parse(files).unwrap_err();
        assert_eq!(errors, vec![TemplateError { file: "forward.txt".into(), message: "is missing".into() }]);
    }

    #[test]
    fn named_sets_and_their_confidential_fallback() {
        let mut files: BTreeMap<String, String> = BTreeMap::new();
        for f in ["ack.en.txt", "ack.az.txt", "ack.ru.txt", "forward.txt"] {
            files.insert(f.into(), "Subject: {{ subject }}\n\ndefault {{ number }}\n".into());
        }
        for f in ["ack-confidential.en.txt", "ack-confidential.az.txt", "ack-confidential.ru.txt", "forward-confidential.txt"] {
            files.insert(f.into(), "Subject: [{{ number }}]\n\nconfidential {{ number }}\n".into());
        }
        for code in ["en", "az", "ru"] {
            files.insert(format!("ack-visa.{code}.txt"), format!("Subject: Visa {{{{ subject }}}}\n\nvisa-{code} {{{{ number }}}}\n"));
        }
        let templates = Templates::parse(files).unwrap();
        assert!(templates.knows("visa") && templates.knows("visa-ru") && templates.knows("default") && templates.knows("az"));
        assert!(!templates.knows("tour") && !templates.knows("visa-de"));
        assert_eq!(templates.sets().collect::<Vec<_>>(), vec!["default", "visa"]);
        let policy = ReplyPolicy { templates, ..policy() };
        let unit = unit();
        let letter = mail("", "Visa for Dr. Smith", "Dear colleagues");
        let open = Registration { number: "IN-2026-000123", local_date: "28.11.2026", unit: &unit, confidential: false };
        let mail = acknowledgement(&letter, &open, 0, "visa-ru", &policy, "x@y".into()).unwrap();
        assert!(mail.text.starts_with("visa-ru IN-2026-000123"), "{}", mail.text);
        assert_eq!(mail.subject, "[IN-2026-000123] Visa Visa for Dr. Smith");
        let closed = Registration { confidential: true, ..open };
        let mail = acknowledgement(&letter, &closed, 0, "visa", &policy, "x@y".into()).unwrap();
        assert!(mail.text.starts_with("confidential"), "a set without a confidential variant uses the default one: {}", mail.text);
        assert!(!mail.subject.contains("Smith"));
    }

    #[test]
    fn dates_follow_the_office_zone() {
        let late = DateTime::parse_from_rfc3339("2026-11-27T21:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(local_date(late, chrono_tz::Asia::Baku), "28.11.2026");
    }
}
