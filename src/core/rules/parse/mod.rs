//! Reading `units.toml` and the rule files, reporting every problem at its line.
//!
//! The files are written by registry staff, so the checks are strict and the messages plain:
//! an unknown key is an error (a misspelt condition must never quietly match every letter),
//! and all problems of all files are reported together.

mod condition;
mod file_plan;
mod rule;
mod units;

use super::document::{Node, Value};
use super::model::{Pattern, Rule, RuleError, Unit};
use super::text;
use crate::core::archive::FilePlan;
use file_plan::{FILE_PLAN_FILE, read_file_plan};
use rule::RuleReader;
use units::read_units;

pub(super) const UNITS_FILE: &str = "units.toml";

/// The acknowledgement template a letter gets unless a rule says otherwise.
pub(super) const DEFAULT_TEMPLATE: &str = "default";

const CONDITION_KEYS: &[&str] = &[
    "from",
    "to",
    "cc",
    "subject",
    "body",
    "attachment_name",
    "attachment_type",
    "has_attachment",
    "size_over",
    "size_under",
    "header",
    "any",
    "all",
    "not",
];

const ACTION_KEYS: &[&str] =
    &["unit", "classification", "confidentiality", "tags", "due_in_working_days", "acknowledge", "forward", "notify_room", "stop"];

/// Everything the files say, checked; ready to be indexed.
pub(super) struct Parsed {
    pub units: Vec<Unit>,
    pub rules: Vec<Rule>,
    pub patterns: Vec<Pattern>,
    /// Header names conditions look at, as first written; `Field::Header(i)` indexes this.
    pub header_names: Vec<String>,
    /// `file-plan.toml`, when the folder has one.
    pub file_plan: Option<FilePlan>,
}

pub(super) fn parse_files(files: &[(String, String)]) -> Result<Parsed, Vec<RuleError>> {
    let mut files: Vec<&(String, String)> = files.iter().filter(|(name, _)| name.to_ascii_lowercase().ends_with(".toml")).collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let (unit_files, rule_files): (Vec<_>, Vec<_>) = files.into_iter().partition(|(name, _)| base_name(name) == UNITS_FILE);
    let (plan_files, rule_files): (Vec<_>, Vec<_>) = rule_files.into_iter().partition(|(name, _)| base_name(name) == FILE_PLAN_FILE);

    let mut errors = Vec::new();
    let mut units = Vec::new();
    let mut known_units = None;
    match unit_files.as_slice() {
        [] => errors.push(RuleError {
            file: UNITS_FILE.to_string(),
            line: 0,
            message: "missing: units.toml lists the units letters can be routed to".to_string(),
        }),
        [(file, source), others @ ..] => {
            for (other, _) in others {
                errors.push(RuleError { file: other.clone(), line: 0, message: format!("a second units file; keep only {file}") });
            }
            let mut ctx = Ctx { file, errors: &mut errors };
            if let Some((read, ids)) = read_units(&mut ctx, source) {
                units = read;
                known_units = Some(ids);
            }
        }
    }

    let (file_plan, known_classes) = match plan_files.first() {
        Some((file, source)) => {
            let (plan, codes) = read_file_plan(&mut Ctx { file, errors: &mut errors }, source);
            (plan, Some(codes))
        }
        None => (None, None),
    };
    let mut reader = RuleReader::new(known_units, known_classes);
    for (file, source) in rule_files {
        let mut ctx = Ctx { file, errors: &mut errors };
        reader.read_file(&mut ctx, source);
    }

    if errors.is_empty() {
        Ok(Parsed { units, rules: reader.rules, patterns: reader.patterns, header_names: reader.header_names, file_plan })
    } else {
        errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Err(errors)
    }
}

fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// The file being read and the errors found so far.
struct Ctx<'a> {
    file: &'a str,
    errors: &'a mut Vec<RuleError>,
}

impl Ctx<'_> {
    fn error(&mut self, line: usize, message: impl Into<String>) {
        self.errors.push(RuleError { file: self.file.to_string(), line, message: message.into() });
    }

    fn text(&mut self, node: &Node, key: &str) -> Option<String> {
        match &node.value {
            Value::Text(text) if text.trim().is_empty() => {
                self.error(node.line, format!("`{key}` is empty"));
                None
            }
            Value::Text(text) => Some(text.clone()),
            other => {
                self.error(node.line, format!("`{key}` must be text in quotes, not {}", other.kind()));
                None
            }
        }
    }

    fn boolean(&mut self, node: &Node, key: &str) -> Option<bool> {
        match node.value {
            Value::Bool(b) => Some(b),
            ref other => {
                self.error(node.line, format!("`{key}` must be true or false, not {}", other.kind()));
                None
            }
        }
    }

    /// Text or a list of texts, each with its line.
    fn texts(&mut self, node: &Node, key: &str) -> Option<Vec<(String, usize)>> {
        let shape = || format!("`{key}` must be text in quotes or a list of them, e.g. {key} = [\"one\", \"other\"]");
        match &node.value {
            Value::Text(text) => Some(vec![(text.clone(), node.line)]),
            Value::List(items) if items.is_empty() => {
                self.error(node.line, format!("`{key}` is an empty list"));
                None
            }
            Value::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match &item.value {
                        Value::Text(text) => out.push((text.clone(), item.line)),
                        _ => self.error(item.line, shape()),
                    }
                }
                (out.len() == items.len()).then_some(out)
            }
            _ => {
                self.error(node.line, shape());
                None
            }
        }
    }

    fn table<'n>(&mut self, node: &'n Node, key: &str, example: &str) -> Option<&'n [(String, Node)]> {
        match &node.value {
            Value::Table(entries) => Some(entries),
            other => {
                self.error(node.line, format!("`{key}` must be a table in braces, not {}: {example}", other.kind()));
                None
            }
        }
    }

    /// The entries of a `[[section]]` list, each a table.
    fn sections<'n>(&mut self, node: &'n Node, key: &str) -> Vec<&'n Node> {
        match &node.value {
            Value::List(items) => items
                .iter()
                .filter(|item| {
                    let ok = matches!(item.value, Value::Table(_));
                    if !ok {
                        self.error(item.line, format!("each `{key}` must be a table: write [[{key}]] above it"));
                    }
                    ok
                })
                .collect(),
            Value::Table(_) => {
                self.error(node.line, format!("write [[{key}]] (two brackets) above each {key}"));
                Vec::new()
            }
            other => {
                self.error(node.line, format!("`{key}` must be written as [[{key}]] sections, not {}", other.kind()));
                Vec::new()
            }
        }
    }
}

fn entries(node: &Node) -> &[(String, Node)] {
    match &node.value {
        Value::Table(entries) => entries,
        _ => &[],
    }
}

fn unknown_key(key: &str, known: &[&str], place: &str) -> String {
    match meant(key, known) {
        Some(k) => format!("unknown key `{key}` in {place} (did you mean `{k}`?)"),
        None => format!("unknown key `{key}` in {place}; see mail-rules/README.md for the keys there are"),
    }
}

/// The known key a misspelt one is near enough to have been meant as.
fn meant<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let (d, k) = known.iter().map(|k| (text::distance(key, k), *k)).min()?;
    (d <= 2 || (d <= 3 && key.len() > 8)).then_some(k)
}

/// The keys the misspelt keys of a table were meant as: a missing key that one of them stands
/// for is the same mistake, reported once (as the unknown key, with its line).
fn misspelt<'k>(entries: &[(String, Node)], known: &[&'k str]) -> Vec<&'k str> {
    entries.iter().filter(|(key, _)| !known.contains(&key.as_str())).filter_map(|(key, _)| meant(key, known)).collect()
}
