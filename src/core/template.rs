//! What the university's two kinds of templates share (the acknowledgement and forward
//! templates of `core::reply`, the press release templates of `core::press`): the MiniJinja
//! engine set up the same strict way, the check that a template prints only what it is given,
//! and the error that names the broken file.

use std::fmt;

use minijinja::{Environment, Template, UndefinedBehavior};

/// A problem with a template file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// The file as its folder names it (`ack.en.txt`, `en.txt`).
    pub file: String,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mail-rules/templates/{}: {}", self.file, self.message)
    }
}

impl std::error::Error for TemplateError {}

/// A template engine in which a variable the template was not given is an error, not an empty
/// string, and a block tag's own line break is dropped.
pub fn engine() -> Environment<'static> {
    let mut environment = Environment::new();
    environment.set_undefined_behavior(UndefinedBehavior::Strict);
    environment.set_trim_blocks(true);
    environment
}

/// The variables `template` uses that are not `allowed`, sorted.
pub fn unknown_variables(template: &Template<'_, '_>, allowed: &[&str]) -> Vec<String> {
    let mut unknown: Vec<String> = template.undeclared_variables(false).into_iter().filter(|v| !allowed.contains(&v.as_str())).collect();
    unknown.sort();
    unknown
}

/// Text on one line: runs of whitespace, line breaks among them, become one space.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Text with its first letter made capital (`agreement 4` → `Agreement 4`).
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A problem in the core's words (`agreement 4 has ended`) as a sentence of a reply
/// (`Agreement 4 has ended.`): the first letter made capital, a full stop added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sentence<T>(pub T);

impl<T: fmt::Display> fmt::Display for Sentence<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = self.0.to_string();
        if words.is_empty() {
            return Ok(());
        }
        write!(f, "{}.", capitalised(&words))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_joins_lines_and_runs_of_spaces() {
        for (text, expected) in [("a  b", "a b"), ("  a\r\n\tb \n", "a b"), ("", ""), ("one", "one")] {
            assert_eq!(one_line(text), expected, "{text:?}");
        }
    }

    #[test]
    fn unknown_variables_are_named_in_order() {
        let mut environment = engine();
        environment.add_template("t", "{{ b }} {{ a }} {{ title }}").unwrap();
        let template = environment.get_template("t").unwrap();
        assert_eq!(unknown_variables(&template, &["title"]), vec!["a".to_string(), "b".to_string()]);
    }

    #[test]
    fn a_sentence_starts_with_a_capital_and_ends_with_a_stop() {
        for (words, expected) in [("agreement 4 has ended", "Agreement 4 has ended."), ("été fini", "Été fini."), ("", "")] {
            assert_eq!(Sentence(words).to_string(), expected, "{words:?}");
        }
    }
}
