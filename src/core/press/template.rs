//! Release templates: the text communications staff keep (`mail-rules/templates/press/LANG.txt`),
//! one `[FIELD]` section each, filled into a first draft.

use chrono::NaiveDate;
use minijinja::Environment;

use super::export::long_date;
use super::{Content, Field, paragraphs};
use crate::core::reply::Language;
use crate::core::template::{TemplateError, engine, one_line, unknown_variables};

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
        let mut environment = engine();
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
            if let Some(variable) = unknown_variables(&template, &TEMPLATE_VARIABLES).first() {
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
