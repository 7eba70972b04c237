//! The acknowledgement and forward templates of `mail-rules/templates/`: which file serves
//! which letter, what each may print, and their rendering.

use std::collections::{BTreeMap, BTreeSet};

use minijinja::Environment;
use serde::Serialize;

use super::{DEFAULT_TEMPLATE, Language, Registration};
use crate::core::letter::Letter;
use crate::core::template::{TemplateError, engine, one_line, unknown_variables};

/// What templates may print. `subject` and `sender_address` are left out for confidential
/// letters.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Values {
    number: String,
    date: String,
    unit: String,
    unit_id: String,
    subject: String,
    sender: String,
    sender_address: String,
}

impl Values {
    pub(super) fn of(letter: &Letter, registration: &Registration<'_>, language: Language) -> Values {
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

/// Why a file's name is no template's; `Templates::parse` reports it with the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum NameError {
    #[error("template files end in .txt")]
    NotText,
    #[error(
        "is not a template name: use ack.LANG.txt, ack-confidential.LANG.txt, ack-SET.LANG.txt, \
         ack-SET-confidential.LANG.txt (LANG en, az or ru), forward.txt or forward-confidential.txt"
    )]
    Unknown,
    #[error("the default set is ack.LANG.txt, not ack-default.LANG.txt")]
    DefaultSetNamed,
}

/// Why a template did not render (templates are checked when loaded, so this is rare).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("no template {0}")]
    NoTemplate(String),
    /// MiniJinja's words on one line; `part` is `subject` or `body`.
    #[error("{part}: {reason}")]
    Failed { part: &'static str, reason: String },
}

/// What a template file is for, read from its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum FileKind {
    Ack { set: String, language: Language, confidential: bool },
    Forward { confidential: bool },
}

impl FileKind {
    /// `ack.en.txt`, `ack-confidential.az.txt`, `ack-visa.ru.txt`, `ack-visa-confidential.en.txt`,
    /// `forward.txt`, `forward-confidential.txt`.
    fn of(file: &str) -> Result<FileKind, NameError> {
        let stem = file.strip_suffix(".txt").ok_or(NameError::NotText)?;
        match stem {
            "forward" => return Ok(FileKind::Forward { confidential: false }),
            "forward-confidential" => return Ok(FileKind::Forward { confidential: true }),
            _ => {}
        }
        let (name, code) = stem.rsplit_once('.').ok_or(NameError::Unknown)?;
        let language = Language::parse(code).ok_or(NameError::Unknown)?;
        let rest = if name == "ack" { "" } else { name.strip_prefix("ack-").ok_or(NameError::Unknown)? };
        let (set, confidential) = match rest {
            "" => (DEFAULT_TEMPLATE, false),
            "confidential" => (DEFAULT_TEMPLATE, true),
            other => match other.strip_suffix("-confidential") {
                Some(set) => (set, true),
                None => (other, false),
            },
        };
        if set == DEFAULT_TEMPLATE && !rest.is_empty() && rest != "confidential" {
            return Err(NameError::DefaultSetNamed);
        }
        if set.is_empty() || !set.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(NameError::Unknown);
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
        let mut environment = engine();
        environment.set_keep_trailing_newline(true);
        let mut kinds = BTreeMap::new();
        // Every file with a proper name, its content right or not: what is missing is only what
        // is not there at all.
        let mut named = BTreeMap::new();
        let mut errors = Vec::new();
        for (file, content) in files {
            let (file, content): (String, String) = (file.into(), content.into());
            let kind = match FileKind::of(&file) {
                Ok(kind) => kind,
                Err(problem) => {
                    errors.push(TemplateError { file, message: problem.to_string() });
                    continue;
                }
            };
            named.insert(file.clone(), kind.clone());
            let problems = add_file(&mut environment, &file, &kind, &content);
            if problems.is_empty() {
                kinds.insert(file, kind);
            } else {
                errors.extend(problems.into_iter().map(|message| TemplateError { file: file.clone(), message }));
            }
        }
        errors.extend(missing(&named));
        let templates = Templates {
            sets: kinds.values().filter_map(|k| if let FileKind::Ack { set, .. } = k { Some(set.clone()) } else { None }).collect(),
            environment,
            files: kinds,
        };
        for (file, kind) in &templates.files {
            if let Err(problem) = templates.render_kind(file, kind, &Values::sample()) {
                errors.push(TemplateError { file: file.clone(), message: problem.to_string() });
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
    pub(super) fn resolve(&self, name: &str) -> Option<(String, Option<Language>)> {
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

    pub(super) fn ack_file(&self, set: &str, language: Language, confidential: bool) -> String {
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

    pub(super) fn render(&self, file: &str, values: &Values) -> Result<(String, String), RenderError> {
        let kind = self.files.get(file).ok_or_else(|| RenderError::NoTemplate(file.to_string()))?;
        self.render_kind(file, kind, values)
    }

    fn render_kind(&self, file: &str, kind: &FileKind, values: &Values) -> Result<(String, String), RenderError> {
        let context = values.context(kind.clone());
        let render = |part: &'static str| {
            self.environment
                .get_template(&format!("{file}#{part}"))
                .and_then(|t| t.render(&context))
                .map_err(|e| RenderError::Failed { part, reason: one_line(&e.to_string()) })
        };
        let subject = render("subject")?;
        let mut body = render("body")?;
        if !body.ends_with('\n') {
            body.push('\n');
        }
        Ok((subject, body))
    }
}

/// Adds one file's subject and body to `environment`; what is wrong with them, if anything.
fn add_file(environment: &mut Environment<'static>, file: &str, kind: &FileKind, content: &str) -> Vec<String> {
    let content = content.replace("\r\n", "\n");
    let mut lines = content.splitn(2, '\n');
    let first = lines.next().unwrap_or("");
    let rest = lines.next().unwrap_or("");
    let Some(subject) = first.strip_prefix("Subject:") else {
        return vec!["the first line must be `Subject: ...`".into()];
    };
    let Some(body) = rest.strip_prefix('\n') else {
        return vec!["a blank line must follow the Subject line".into()];
    };
    if body.trim().is_empty() {
        return vec!["the body is empty".into()];
    }
    let mut problems = Vec::new();
    for (part, source) in [("subject", subject.trim().to_string()), ("body", body.to_string())] {
        let name = format!("{file}#{part}");
        if let Err(e) = environment.add_template_owned(name.clone(), source) {
            problems.push(format!("{part}: {}", one_line(&e.to_string())));
            continue;
        }
        let template = environment.get_template(&name).expect("just added");
        for variable in unknown_variables(&template, kind.variables()) {
            let why = if kind.is_confidential() && matches!(variable.as_str(), "subject" | "sender" | "sender_address") {
                "confidential templates do not get it"
            } else {
                "it is not a template variable"
            };
            problems.push(format!("{part} uses `{variable}`: {why} (they get: {})", kind.variables().join(", ")));
        }
    }
    problems
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_and_render_errors_read_as_the_registry_sees_them() {
        let cases: [(&dyn std::error::Error, &str); 5] = [
            (&NameError::NotText, "template files end in .txt"),
            (
                &NameError::Unknown,
                "is not a template name: use ack.LANG.txt, ack-confidential.LANG.txt, ack-SET.LANG.txt, \
                 ack-SET-confidential.LANG.txt (LANG en, az or ru), forward.txt or forward-confidential.txt",
            ),
            (&NameError::DefaultSetNamed, "the default set is ack.LANG.txt, not ack-default.LANG.txt"),
            (&RenderError::NoTemplate("ack.de.txt".into()), "no template ack.de.txt"),
            (&RenderError::Failed { part: "subject", reason: "undefined value".into() }, "subject: undefined value"),
        ];
        for (error, words) in cases {
            assert_eq!(error.to_string(), words);
        }
    }
}
