//! The conditions of a rule: text patterns (plain, glob, regex), headers, sizes, and the
//! `any`, `all` and `not` that combine them.

use super::rule::RuleReader;
use super::{ACTION_KEYS, CONDITION_KEYS, Ctx, misspelt, unknown_key};
use crate::core::rules::document::{Node, Value};
use crate::core::rules::model::{Condition, Field, Matcher, Pattern, PatternId, PatternKind};
use crate::core::rules::text;

impl RuleReader {
    pub(super) fn read_condition(&mut self, ctx: &mut Ctx<'_>, key: &str, node: &Node) -> Option<Condition> {
        let field = match key {
            "from" => Some(Field::From),
            "to" => Some(Field::To),
            "cc" => Some(Field::Cc),
            "subject" => Some(Field::Subject),
            "body" => Some(Field::Body),
            "attachment_name" => Some(Field::AttachmentName),
            "attachment_type" => Some(Field::AttachmentType),
            _ => None,
        };
        if let Some(field) = field {
            let texts = ctx.texts(node, key)?;
            let patterns: Vec<Option<PatternId>> = texts.iter().map(|(text, line)| self.pattern(ctx, field, key, text, *line)).collect();
            return Some(Condition::Text { patterns: patterns.into_iter().collect::<Option<Vec<_>>>()? });
        }
        match key {
            "has_attachment" => ctx.boolean(node, key).map(Condition::HasAttachment),
            "size_over" => read_size(ctx, node, key).map(Condition::SizeOver),
            "size_under" => read_size(ctx, node, key).map(Condition::SizeUnder),
            "header" => self.read_header(ctx, node),
            "any" | "all" => {
                let example = format!("{key} = [ {{ from = \"*@partner.edu.tr\" }}, {{ subject = \"Erasmus\" }} ]");
                let items = match &node.value {
                    Value::List(items) if !items.is_empty() => items,
                    Value::List(_) => {
                        ctx.error(node.line, format!("`{key}` is an empty list"));
                        return None;
                    }
                    other => {
                        ctx.error(node.line, format!("`{key}` must be a list of conditions in braces, not {}: {example}", other.kind()));
                        return None;
                    }
                };
                let mut children = Vec::with_capacity(items.len());
                let mut ok = true;
                for item in items {
                    match self.read_condition_table(ctx, item, key, &example) {
                        Some(child) => children.push(child),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                Some(if key == "any" { Condition::Any(children) } else { Condition::All(children) })
            }
            "not" => {
                let example = "not = { from = \"*@uni.example\" }";
                self.read_condition_table(ctx, node, key, example).map(|c| Condition::Not(Box::new(c)))
            }
            _ => unreachable!("{key} is listed in CONDITION_KEYS"),
        }
    }

    /// Conditions in braces, all of which must hold.
    fn read_condition_table(&mut self, ctx: &mut Ctx<'_>, node: &Node, parent: &str, example: &str) -> Option<Condition> {
        let entries = match &node.value {
            Value::Table(entries) => entries,
            other => {
                ctx.error(node.line, format!("`{parent}` takes conditions in braces, not {}: {example}", other.kind()));
                return None;
            }
        };
        if entries.is_empty() {
            ctx.error(node.line, format!("empty braces {{ }} in `{parent}` would match every letter"));
            return None;
        }
        let mut conditions = Vec::with_capacity(entries.len());
        let mut ok = true;
        for (key, value) in entries {
            let key = key.as_str();
            if CONDITION_KEYS.contains(&key) {
                match self.read_condition(ctx, key, value) {
                    Some(condition) => conditions.push(condition),
                    None => ok = false,
                }
            } else {
                ok = false;
                if ACTION_KEYS.contains(&key) || key == "name" {
                    ctx.error(value.line, format!("`{key}` belongs to the rule itself, not inside `{parent}`"));
                } else {
                    ctx.error(value.line, unknown_key(key, CONDITION_KEYS, &format!("`{parent}`")));
                }
            }
        }
        if !ok {
            return None;
        }
        Some(if conditions.len() == 1 { conditions.remove(0) } else { Condition::All(conditions) })
    }

    fn read_header(&mut self, ctx: &mut Ctx<'_>, node: &Node) -> Option<Condition> {
        let example = "header = { name = \"X-Priority\", value = \"1\" }";
        let entries = ctx.table(node, "header", example)?;
        let mut name = None;
        let mut values = None;
        let mut ok = true;
        for (key, value) in entries {
            match key.as_str() {
                "name" => {
                    name = ctx.text(value, "header.name");
                    if let Some(n) = &name
                        && !n.chars().all(|c| c.is_ascii_graphic() && c != ':')
                    {
                        ctx.error(value.line, format!("\"{n}\" is not a header name (write it without the colon, e.g. \"X-Priority\")"));
                        ok = false;
                    }
                }
                "value" => {
                    values = ctx.texts(value, "header.value");
                    ok &= values.is_some();
                }
                _ => {
                    ctx.error(value.line, unknown_key(key, &["name", "value"], "`header`"));
                    ok = false;
                }
            }
        }
        if !entries.iter().any(|(k, _)| k == "name") && !misspelt(entries, &["name", "value"]).contains(&"name") {
            ctx.error(node.line, format!("`header` needs a name: {example}"));
        }
        let name = name?;
        if !ok {
            return None;
        }
        let lower = name.to_ascii_lowercase();
        let id = match self.header_ids.get(&lower) {
            Some(&id) => id,
            None => {
                // The rule book is refused when it has more than u32 holds (`Index::build`).
                #[allow(clippy::cast_possible_truncation)]
                let id = self.header_names.len() as u32;
                self.header_names.push(name.clone());
                self.header_ids.insert(lower, id);
                id
            }
        };
        let field = Field::Header(id);
        let patterns = match values {
            Some(values) => {
                let patterns: Vec<Option<PatternId>> =
                    values.iter().map(|(text, line)| self.pattern(ctx, field, "header.value", text, *line)).collect();
                patterns.into_iter().collect::<Option<Vec<_>>>()?
            }
            None => vec![self.add_pattern(field, String::new(), PatternKind::Present, Matcher::Present)],
        };
        Some(Condition::Text { patterns })
    }

    fn pattern(&mut self, ctx: &mut Ctx<'_>, field: Field, key: &str, written: &str, line: usize) -> Option<PatternId> {
        if let Some(&id) = self.pattern_ids.get(&(field, written.to_string())) {
            return Some(id);
        }
        if written.trim().is_empty() {
            ctx.error(line, format!("empty text in `{key}` would match every letter"));
            return None;
        }
        let (kind, matcher) = if let Some(expression) = written.strip_prefix("regex:") {
            let expression = expression.trim_start();
            if expression.is_empty() {
                ctx.error(line, format!("`{key}`: nothing after regex:"));
                return None;
            }
            match regex::RegexBuilder::new(expression).case_insensitive(true).build() {
                Ok(regex) => (PatternKind::Regex, Matcher::Regex { needs: text::regex_needs(expression), regex }),
                Err(error) => {
                    ctx.error(line, format!("bad regular expression in `{key}`: {}: {}", written, regex_problem(&error)));
                    return None;
                }
            }
        } else if field.takes_globs() && text::is_glob(written) {
            match text::compile_glob(written) {
                text::Glob::Literal { folded, at_start, at_end } => (PatternKind::Glob, Matcher::Literal { folded, at_start, at_end }),
                text::Glob::Regex(expression) => match regex::Regex::new(&expression) {
                    Ok(regex) => (PatternKind::Glob, Matcher::Regex { needs: text::regex_needs(&expression), regex }),
                    Err(error) => {
                        ctx.error(line, format!("cannot use the pattern {written} in `{key}`: {}", regex_problem(&error)));
                        return None;
                    }
                },
            }
        } else {
            (PatternKind::Text, Matcher::Literal { folded: text::fold(written), at_start: false, at_end: false })
        };
        Some(self.add_pattern(field, written.to_string(), kind, matcher))
    }

    fn add_pattern(&mut self, field: Field, written: String, kind: PatternKind, matcher: Matcher) -> PatternId {
        let key = (field, if kind == PatternKind::Present { "\0present".to_string() } else { written.clone() });
        if let Some(&id) = self.pattern_ids.get(&key) {
            return id;
        }
        // The rule book is refused when it has more than u32 holds (`Index::build`).
        #[allow(clippy::cast_possible_truncation)]
        let id = self.patterns.len() as PatternId;
        self.patterns.push(Pattern { field, written, kind, matcher });
        self.pattern_ids.insert(key, id);
        id
    }
}

fn read_size(ctx: &mut Ctx<'_>, node: &Node, key: &str) -> Option<u64> {
    match &node.value {
        Value::Integer(bytes) if *bytes >= 0 => u64::try_from(*bytes).ok(),
        Value::Text(written) => {
            let size = text::parse_size(written);
            if size.is_none() {
                ctx.error(node.line, format!("`{key}`: \"{written}\" is not a size; write e.g. \"5MB\", \"500KB\" or \"2GB\""));
            }
            size
        }
        other => {
            ctx.error(node.line, format!("`{key}` must be a size in quotes such as \"5MB\", not {}", other.kind()));
            None
        }
    }
}

/// The one line of a regex error that says what is wrong (the crate's message draws arrows
/// over several lines).
fn regex_problem(error: &regex::Error) -> String {
    let message = error.to_string();
    message
        .lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("error: "))
        .map(str::to_string)
        .unwrap_or_else(|| message.lines().last().unwrap_or("").trim().to_string())
}
