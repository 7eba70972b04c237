//! One rule file: its `[[rule]]` tables, each a name, conditions and actions.

use std::collections::{HashMap, HashSet};

use super::{ACTION_KEYS, CONDITION_KEYS, Ctx, DEFAULT_TEMPLATE, entries, misspelt, unknown_key};
use crate::core::confidentiality::Confidentiality;
use crate::core::rules::document::{self, Node, Value};
use crate::core::rules::model::{Acknowledge, Actions, Condition, Field, Pattern, PatternId, Rule};

/// The longest deadline a rule may set, in working days (a year and a half).
const MAX_DUE_DAYS: i64 = 400;

/// Reads rule files one after the other: names must be unique across files, and equal
/// patterns and header names are shared.
pub(super) struct RuleReader {
    /// `None` when units.toml could not be read: then unit names are not checked.
    known_units: Option<HashSet<String>>,
    /// The file plan's classes; `None` without a plan: then classifications are not checked.
    known_classes: Option<HashSet<String>>,
    pub(super) rules: Vec<Rule>,
    /// Rule names seen, with where.
    names: HashMap<String, (String, usize)>,
    pub(super) patterns: Vec<Pattern>,
    pub(super) pattern_ids: HashMap<(Field, String), PatternId>,
    pub(super) header_names: Vec<String>,
    pub(super) header_ids: HashMap<String, u32>,
}

impl RuleReader {
    pub(super) fn new(known_units: Option<HashSet<String>>, known_classes: Option<HashSet<String>>) -> RuleReader {
        RuleReader {
            known_units,
            known_classes,
            rules: Vec::new(),
            names: HashMap::new(),
            patterns: Vec::new(),
            pattern_ids: HashMap::new(),
            header_names: Vec::new(),
            header_ids: HashMap::new(),
        }
    }

    pub(super) fn read_file(&mut self, ctx: &mut Ctx<'_>, source: &str) {
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
            "classification" => {
                let Some(code) = ctx.text(node, key).map(|c| c.trim().to_string()) else { return };
                if let Some(known) = &self.known_classes
                    && !known.contains(&code)
                {
                    ctx.error(node.line, format!("classification \"{code}\" is not a class of file-plan.toml"));
                    return;
                }
                actions.classification = Some(code);
            }
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
                Value::Integer(days) if (0..=MAX_DUE_DAYS).contains(&days) => actions.due_in_working_days = u32::try_from(days).ok(),
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
