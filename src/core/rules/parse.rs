//! Reading `units.toml` and the rule files, reporting every problem at its line.
//!
//! The files are written by registry staff, so the checks are strict and the messages plain:
//! an unknown key is an error (a misspelt condition must never quietly match every letter),
//! and all problems of all files are reported together.

use std::collections::{HashMap, HashSet};

use super::document::{self, Node, Value};
use super::model::{
    Acknowledge, Actions, Condition, Field, Matcher, Pattern, PatternId, PatternKind, Rule, RuleError, Unit, UnitHead, UnitName,
};
use super::text;
use crate::core::confidentiality::Confidentiality;

pub(super) const UNITS_FILE: &str = "units.toml";

/// The acknowledgement template a letter gets unless a rule says otherwise.
pub(super) const DEFAULT_TEMPLATE: &str = "default";

/// The longest deadline a rule may set, in working days (a year and a half).
const MAX_DUE_DAYS: i64 = 400;

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

const UNIT_KEYS: &[&str] = &["id", "name", "email", "room", "head", "default"];

/// Everything the files say, checked; ready to be indexed.
pub(super) struct Parsed {
    pub units: Vec<Unit>,
    pub rules: Vec<Rule>,
    pub patterns: Vec<Pattern>,
    /// Header names conditions look at, as first written; `Field::Header(i)` indexes this.
    pub header_names: Vec<String>,
}

pub(super) fn parse_files(files: &[(String, String)]) -> Result<Parsed, Vec<RuleError>> {
    let mut files: Vec<&(String, String)> = files.iter().filter(|(name, _)| name.to_ascii_lowercase().ends_with(".toml")).collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let (unit_files, rule_files): (Vec<_>, Vec<_>) = files.into_iter().partition(|(name, _)| base_name(name) == UNITS_FILE);

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

    let mut reader = RuleReader {
        known_units,
        rules: Vec::new(),
        names: HashMap::new(),
        patterns: Vec::new(),
        pattern_ids: HashMap::new(),
        header_names: Vec::new(),
        header_ids: HashMap::new(),
    };
    for (file, source) in rule_files {
        let mut ctx = Ctx { file, errors: &mut errors };
        reader.read_file(&mut ctx, source);
    }

    if errors.is_empty() {
        Ok(Parsed { units, rules: reader.rules, patterns: reader.patterns, header_names: reader.header_names })
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

// ---------------------------------------------------------------------------------------
// units.toml

/// The units, and the ids of every unit table (even a faulty one), so that rules naming a
/// unit with a problem of its own get no second error. `None` when the file cannot be read.
fn read_units(ctx: &mut Ctx<'_>, source: &str) -> Option<(Vec<Unit>, HashSet<String>)> {
    let root = match document::read(source) {
        Ok(root) => root,
        Err((line, message)) => {
            ctx.error(line, message);
            return None;
        }
    };
    let mut units: Vec<Unit> = Vec::new();
    let mut ids = HashSet::new();
    let mut default_line = None;
    let mut sections = Vec::new();
    let mut saw_units = false;
    for (key, node) in entries(&root) {
        match key.as_str() {
            "unit" => {
                saw_units = true;
                sections = ctx.sections(node, "unit");
            }
            "rule" => ctx.error(node.line, "rules belong in their own files (e.g. 20-international.toml), not in units.toml"),
            _ => ctx.error(node.line, unknown_key(key, &["unit"], "units.toml")),
        }
    }
    let top_misspelt = misspelt(entries(&root), &["unit", "rule"]);
    let mut default_misspelt = false;
    for section in sections {
        let line = section.line;
        let before = ctx.errors.len();
        let misspelt = misspelt(entries(section), UNIT_KEYS);
        default_misspelt |= misspelt.contains(&"default");
        let mut fields: HashMap<&str, &Node> = HashMap::new();
        for (key, node) in entries(section) {
            if UNIT_KEYS.contains(&key.as_str()) {
                fields.insert(key, node);
            } else {
                ctx.error(node.line, unknown_key(key, UNIT_KEYS, "a unit"));
            }
        }
        let mut required = |key: &str| {
            let node = fields.get(key).copied();
            if node.is_none() && !misspelt.contains(&key) {
                ctx.error(line, format!("a unit needs `{key}`"));
            }
            node
        };
        let (id, name, email, room, head) = (required("id"), required("name"), required("email"), required("room"), required("head"));
        let id = id.and_then(|node| {
            let id = ctx.text(node, "id")?;
            if !is_unit_id(&id) {
                ctx.error(node.line, format!("unit id \"{id}\" must be lowercase letters, digits, - or _ (e.g. \"student-affairs\")"));
            } else if !ids.insert(id.clone()) {
                ctx.error(node.line, format!("unit id \"{id}\" is used twice"));
            }
            Some(id)
        });
        let name = name.and_then(|node| read_unit_name(ctx, node));
        let email = email.and_then(|node| read_email(ctx, node, "email"));
        let room = room.and_then(|node| {
            let room = ctx.text(node, "room")?;
            if !(room.starts_with('#') && room.contains(':') && !room.contains(char::is_whitespace)) {
                ctx.error(node.line, format!("room \"{room}\" must be a Matrix room alias like \"#international:uni.example\""));
            }
            Some(room)
        });
        let head = head.and_then(|node| read_unit_head(ctx, node));
        let default = match fields.get("default") {
            Some(node) => ctx.boolean(node, "default").unwrap_or(false),
            None => false,
        };
        if default {
            match default_line {
                Some(first) => ctx.error(line, format!("only one unit can be the default; the unit at line {first} already is")),
                None => default_line = Some(line),
            }
        }
        if ctx.errors.len() == before
            && let (Some(id), Some(name), Some(email), Some(room), Some(head)) = (id, name, email, room, head)
        {
            units.push(Unit { id, name, email, room, head, default });
        }
    }
    if !saw_units {
        if !top_misspelt.contains(&"unit") {
            ctx.error(0, "no units: add a [[unit]] section for each unit");
        }
    } else if default_line.is_none() && !default_misspelt && !ids.is_empty() {
        ctx.error(0, "no unit is marked `default = true`; mark the registry, where letters no rule routes go");
    }
    Some((units, ids))
}

fn is_unit_id(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn read_email(ctx: &mut Ctx<'_>, node: &Node, key: &str) -> Option<String> {
    let email = ctx.text(node, key)?;
    let ok = email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.contains(char::is_whitespace);
    if !ok {
        ctx.error(node.line, format!("`{key}` \"{email}\" is not an e-mail address"));
        return None;
    }
    Some(email)
}

fn read_unit_name(ctx: &mut Ctx<'_>, node: &Node) -> Option<UnitName> {
    let entries = ctx.table(node, "name", "name = { en = \"Finance\", az = \"Maliyyə\", ru = \"Финансы\" }")?;
    let mut names: HashMap<&str, String> = HashMap::new();
    let misspelt = misspelt(entries, &["en", "az", "ru"]);
    for (key, value) in entries {
        match key.as_str() {
            "en" | "az" | "ru" => {
                if let Some(text) = ctx.text(value, key) {
                    names.insert(key, text);
                }
            }
            _ => ctx.error(value.line, unknown_key(key, &["en", "az", "ru"], "a unit's name")),
        }
    }
    let mut take = |lang: &str| {
        let name = names.remove(lang);
        if name.is_none() && !entries.iter().any(|(k, _)| k == lang) && !misspelt.contains(&lang) {
            ctx.error(node.line, format!("the unit's name needs `{lang}`"));
        }
        name
    };
    let (en, az, ru) = (take("en"), take("az"), take("ru"));
    Some(UnitName { en: en?, az: az?, ru: ru? })
}

fn read_unit_head(ctx: &mut Ctx<'_>, node: &Node) -> Option<UnitHead> {
    let entries = ctx.table(node, "head", "head = { name = \"Dr. Leyla Aliyeva\", email = \"l.aliyeva@uni.example\" }")?;
    let (mut name, mut email) = (None, None);
    for (key, value) in entries {
        match key.as_str() {
            "name" => name = ctx.text(value, "head.name"),
            "email" => email = read_email(ctx, value, "head.email"),
            _ => ctx.error(value.line, unknown_key(key, &["name", "email"], "a unit's head")),
        }
    }
    let misspelt = misspelt(entries, &["name", "email"]);
    for key in ["name", "email"] {
        if !entries.iter().any(|(k, _)| k == key) && !misspelt.contains(&key) {
            ctx.error(node.line, format!("the unit's head needs `{key}`"));
        }
    }
    Some(UnitHead { name: name?, email: email? })
}

// ---------------------------------------------------------------------------------------
// rule files

struct RuleReader {
    /// `None` when units.toml could not be read: then unit names are not checked.
    known_units: Option<HashSet<String>>,
    rules: Vec<Rule>,
    /// Rule names seen, with where.
    names: HashMap<String, (String, usize)>,
    patterns: Vec<Pattern>,
    pattern_ids: HashMap<(Field, String), PatternId>,
    header_names: Vec<String>,
    header_ids: HashMap<String, u32>,
}

impl RuleReader {
    fn read_file(&mut self, ctx: &mut Ctx<'_>, source: &str) {
        let root = match document::read(source) {
            Ok(root) => root,
            Err((line, message)) => return ctx.error(line, message),
        };
        for (key, node) in entries(&root) {
            match key.as_str() {
                "rule" => {
                    for section in ctx.sections(node, "rule") {
                        self.read_rule(ctx, section);
                    }
                }
                "unit" => ctx.error(node.line, "units belong in units.toml"),
                _ => ctx.error(node.line, unknown_key(key, &["rule"], "a rules file (write each rule under [[rule]])")),
            }
        }
    }

    fn read_rule(&mut self, ctx: &mut Ctx<'_>, section: &Node) {
        let before = ctx.errors.len();
        let entries = entries(section);
        let known: Vec<&str> = ["name"].iter().chain(CONDITION_KEYS).chain(ACTION_KEYS).copied().collect();
        let misspelt = misspelt(entries, &known);
        let name = match entries.iter().find(|(key, _)| key == "name") {
            Some((_, node)) => ctx.text(node, "name").map(|name| (name.trim().to_string(), node.line)),
            None => {
                if !misspelt.contains(&"name") {
                    ctx.error(section.line, "a rule needs a name, e.g. name = \"Invoices from suppliers\"");
                }
                None
            }
        };
        if let Some((name, line)) = &name {
            match self.names.get(name) {
                Some((file, first)) => ctx.error(*line, format!("rule name \"{name}\" is already used at {file}:{first}")),
                None => {
                    self.names.insert(name.clone(), (ctx.file.to_string(), *line));
                }
            }
        }
        let place = match &name {
            Some((name, _)) => format!("rule \"{name}\""),
            None => format!("the rule at line {}", section.line),
        };

        let mut conditions = Vec::new();
        let mut saw_condition = false;
        let mut actions = Actions::default();
        let mut saw_action = false;
        for (key, node) in entries {
            let key = key.as_str();
            if key == "name" {
                continue;
            }
            if CONDITION_KEYS.contains(&key) {
                saw_condition = true;
                if let Some(condition) = self.read_condition(ctx, key, node) {
                    conditions.push(condition);
                }
            } else if ACTION_KEYS.contains(&key) {
                saw_action = true;
                self.read_action(ctx, key, node, &mut actions);
            } else {
                ctx.error(node.line, unknown_key(key, &known, &place));
            }
        }
        // A misspelt condition (`subjet`) is one mistake: its unknown key is reported, not
        // also the rule's lack of conditions.
        if !saw_condition && !misspelt.iter().any(|key| CONDITION_KEYS.contains(key)) {
            ctx.error(
                section.line,
                format!("{place} has no conditions, so it would match every letter; add one, e.g. subject = \"invoice\""),
            );
        }
        if !saw_action && !misspelt.iter().any(|key| ACTION_KEYS.contains(key)) {
            ctx.error(section.line, format!("{place} has no actions; add one, e.g. unit = \"finance\" or tags = [\"invoice\"]"));
        }
        if ctx.errors.len() == before
            && let Some((name, _)) = name
        {
            let condition = if conditions.len() == 1 { conditions.remove(0) } else { Condition::All(conditions) };
            self.rules.push(Rule { name, condition, actions });
        }
    }

    fn read_condition(&mut self, ctx: &mut Ctx<'_>, key: &str, node: &Node) -> Option<Condition> {
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
        let id = self.patterns.len() as PatternId;
        self.patterns.push(Pattern { field, written, kind, matcher });
        self.pattern_ids.insert(key, id);
        id
    }

    fn read_action(&mut self, ctx: &mut Ctx<'_>, key: &str, node: &Node, actions: &mut Actions) {
        match key {
            "unit" => {
                let Some(unit) = ctx.text(node, key) else { return };
                if let Some(known) = &self.known_units
                    && !known.contains(&unit)
                {
                    let mut ids: Vec<&str> = known.iter().map(String::as_str).collect();
                    ids.sort_unstable();
                    ctx.error(node.line, format!("unknown unit \"{unit}\"; units.toml has: {}", ids.join(", ")));
                    return;
                }
                actions.unit = Some(unit);
            }
            "classification" => actions.classification = ctx.text(node, key).map(|c| c.trim().to_string()),
            "confidentiality" => {
                let Some(text) = ctx.text(node, key) else { return };
                match Confidentiality::parse(&text) {
                    Some(level) => actions.confidentiality = Some(level),
                    None => {
                        ctx.error(node.line, format!("confidentiality must be public, internal, confidential or secret, not \"{text}\""))
                    }
                }
            }
            "tags" => {
                let Some(tags) = ctx.texts(node, key) else { return };
                for (tag, line) in tags {
                    let tag = tag.trim().to_string();
                    if tag.is_empty() {
                        ctx.error(line, "empty tag");
                    } else if !actions.tags.contains(&tag) {
                        actions.tags.push(tag);
                    }
                }
            }
            "due_in_working_days" => match node.value {
                Value::Integer(days) if (0..=MAX_DUE_DAYS).contains(&days) => actions.due_in_working_days = Some(days as u32),
                Value::Integer(days) => ctx.error(node.line, format!("due_in_working_days must be from 0 to {MAX_DUE_DAYS}, not {days}")),
                ref other => ctx.error(node.line, format!("due_in_working_days must be a whole number of days, not {}", other.kind())),
            },
            "acknowledge" => match &node.value {
                Value::Bool(false) => actions.acknowledge = Some(Acknowledge::Off),
                Value::Bool(true) => actions.acknowledge = Some(Acknowledge::Template(DEFAULT_TEMPLATE.to_string())),
                Value::Text(name) if is_template_name(name) => actions.acknowledge = Some(Acknowledge::Template(name.clone())),
                Value::Text(name) => ctx.error(
                    node.line,
                    format!("acknowledge template \"{name}\" must be a name of letters, digits, - or _ (or write acknowledge = false)"),
                ),
                other => ctx.error(node.line, format!("acknowledge must be a template name in quotes or false, not {}", other.kind())),
            },
            "forward" => actions.forward = ctx.boolean(node, key),
            "notify_room" => actions.notify_room = ctx.boolean(node, key),
            "stop" => actions.stop = ctx.boolean(node, key).unwrap_or(false),
            _ => unreachable!("{key} is listed in ACTION_KEYS"),
        }
    }
}

fn is_template_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

fn read_size(ctx: &mut Ctx<'_>, node: &Node, key: &str) -> Option<u64> {
    match &node.value {
        Value::Integer(bytes) if *bytes >= 0 => Some(*bytes as u64),
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
