//! `file-plan.toml`: the classes documents are filed under, each with its retention.

use std::collections::{HashMap, HashSet};

use super::{Ctx, entries, misspelt, unknown_key};
use crate::core::archive::{Action, Class, FilePlan, Retention, Trigger};
use crate::core::rules::document::{self, Node};

pub(super) const FILE_PLAN_FILE: &str = "file-plan.toml";
const CLASS_KEYS: &[&str] = &["code", "title", "retention", "trigger", "action", "vital"];
const TOP_KEYS: &[&str] = &["default_class", "class"];

/// The plan, or `None` when the file has problems (each reported at its line); and the codes of
/// every class table, even a faulty one, so that rules are checked against them all the same.
pub(super) fn read_file_plan(ctx: &mut Ctx<'_>, source: &str) -> (Option<FilePlan>, HashSet<String>) {
    let root = match document::read(source) {
        Ok(root) => root,
        Err((line, message)) => {
            ctx.error(line, message);
            return (None, HashSet::new());
        }
    };
    let before = ctx.errors.len();
    let mut default_class = None;
    let mut sections = Vec::new();
    for (key, node) in entries(&root) {
        match key.as_str() {
            "default_class" => default_class = ctx.text(node, key).map(|code| (code.trim().to_string(), node.line)),
            "class" => sections = ctx.sections(node, "class"),
            "rule" | "unit" => ctx.error(node.line, format!("{key}s belong in their own files, not in {FILE_PLAN_FILE}")),
            _ => ctx.error(node.line, unknown_key(key, TOP_KEYS, FILE_PLAN_FILE)),
        }
    }
    let mut classes: Vec<Class> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let codes: HashSet<String> = sections
        .iter()
        .flat_map(|section| entries(section))
        .filter(|(key, _)| key == "code")
        .filter_map(|(_, node)| match &node.value {
            crate::core::rules::document::Value::Text(code) => Some(code.trim().to_string()),
            _ => None,
        })
        .collect();
    for section in sections {
        let Some(class) = read_class(ctx, section) else { continue };
        match seen.get(&class.code) {
            Some(first) => ctx.error(section.line, format!("class \"{}\" is in the plan twice; the first is at line {first}", class.code)),
            None => {
                seen.insert(class.code.clone(), section.line);
                classes.push(class);
            }
        }
    }
    let misspelt_top = misspelt(entries(&root), TOP_KEYS);
    match default_class {
        Some((ref code, line)) if !seen.contains_key(code) && ctx.errors.len() == before => {
            ctx.error(line, format!("default_class \"{code}\" is not a class of the plan"));
        }
        None if !misspelt_top.contains(&"default_class") => {
            ctx.error(0, "no `default_class`: name the class that takes every document without a classification");
        }
        _ => {}
    }
    if classes.is_empty() && ctx.errors.len() == before {
        ctx.error(0, "the plan has no classes: add a [[class]] section for each");
    }
    let plan =
        (ctx.errors.len() == before).then(|| FilePlan { default_class: default_class.map(|(code, _)| code).unwrap_or_default(), classes });
    (plan, codes)
}

fn read_class(ctx: &mut Ctx<'_>, section: &Node) -> Option<Class> {
    let before = ctx.errors.len();
    let fields = entries(section);
    let (mut code, mut title, mut retention, mut trigger, mut action, mut vital) = (None, None, None, Trigger::CaseClosed, None, false);
    for (key, node) in fields {
        match key.as_str() {
            "code" => code = ctx.text(node, key).map(|c| c.trim().to_string()),
            "title" => title = ctx.text(node, key),
            "retention" => {
                let Some(text) = ctx.text(node, key) else { continue };
                match text.parse::<Retention>() {
                    Ok(parsed) => retention = Some(parsed),
                    Err(problem) => ctx.error(node.line, problem.to_string()),
                }
            }
            "trigger" => {
                let Some(text) = ctx.text(node, key) else { continue };
                match Trigger::parse(&text) {
                    Some(parsed) => trigger = parsed,
                    None => ctx.error(node.line, format!("unknown trigger \"{text}\"; triggers: {}", Trigger::NAMES.join(", "))),
                }
            }
            "action" => {
                let Some(text) = ctx.text(node, key) else { continue };
                match Action::parse(&text) {
                    Some(parsed) => action = Some(parsed),
                    None => ctx.error(node.line, format!("unknown action \"{text}\"; actions: {}", Action::NAMES.join(", "))),
                }
            }
            "vital" => vital = ctx.boolean(node, key).unwrap_or(false),
            _ => ctx.error(node.line, unknown_key(key, CLASS_KEYS, "a class")),
        }
    }
    let misspelt = misspelt(fields, CLASS_KEYS);
    let place = code.as_deref().map_or_else(|| "this class".to_string(), |c| format!("class \"{c}\""));
    // A permanent class never reaches its action: it needs none.
    let action_missing = action.is_none() && retention != Some(Retention::Permanent);
    for (key, value_missing) in
        [("code", code.is_none()), ("title", title.is_none()), ("retention", retention.is_none()), ("action", action_missing)]
    {
        let written = fields.iter().any(|(k, _)| k == key);
        if value_missing && !written && !misspelt.contains(&key) {
            ctx.error(section.line, format!("{place} has no `{key}`"));
        }
    }
    if ctx.errors.len() != before {
        return None;
    }
    Some(Class { code: code?, title: title?, retention: retention?, trigger, action: action.unwrap_or(Action::Review), vital })
}
