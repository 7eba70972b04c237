//! `units.toml`: the units letters can be routed to, their names, rooms and heads.

use std::collections::{HashMap, HashSet};

use super::{Ctx, entries, misspelt, unknown_key};
use crate::core::rules::document::{self, Node};
use crate::core::rules::model::{Unit, UnitHead, UnitName};

const UNIT_KEYS: &[&str] = &["id", "name", "email", "room", "head", "default"];

/// The units, and the ids of every unit table (even a faulty one), so that rules naming a
/// unit with a problem of its own get no second error. `None` when the file cannot be read.
pub(super) fn read_units(ctx: &mut Ctx<'_>, source: &str) -> Option<(Vec<Unit>, HashSet<String>)> {
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
        let before = ctx.errors.len();
        let misspelt = misspelt(entries(section), UNIT_KEYS);
        default_misspelt |= misspelt.contains(&"default");
        let (unit, default) = read_unit(ctx, section, &misspelt, &mut ids);
        if default {
            match default_line {
                Some(first) => ctx.error(section.line, format!("only one unit can be the default; the unit at line {first} already is")),
                None => default_line = Some(section.line),
            }
        }
        if ctx.errors.len() == before
            && let Some(unit) = unit
        {
            units.push(unit);
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

/// One `[[unit]]` table, and whether it says it is the default. The unit is `None` when a
/// field is missing or unreadable; `misspelt` are the keys its unknown keys stand for.
fn read_unit(ctx: &mut Ctx<'_>, section: &Node, misspelt: &[&str], ids: &mut HashSet<String>) -> (Option<Unit>, bool) {
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
            ctx.error(section.line, format!("a unit needs `{key}`"));
        }
        node
    };
    let (id, name, email, room, head) = (required("id"), required("name"), required("email"), required("room"), required("head"));
    let id = id.and_then(|node| read_unit_id(ctx, node, ids));
    let name = name.and_then(|node| read_unit_name(ctx, node));
    let email = email.and_then(|node| read_email(ctx, node, "email"));
    let room = room.and_then(|node| read_room(ctx, node));
    let head = head.and_then(|node| read_unit_head(ctx, node));
    let default = match fields.get("default") {
        Some(node) => ctx.boolean(node, "default").unwrap_or(false),
        None => false,
    };
    let unit = match (id, name, email, room, head) {
        (Some(id), Some(name), Some(email), Some(room), Some(head)) => Some(Unit { id, name, email, room, head, default }),
        _ => None,
    };
    (unit, default)
}

/// A unit's id, checked and noted in `ids`; a faulty or repeated id is still returned, so
/// that it counts as known.
fn read_unit_id(ctx: &mut Ctx<'_>, node: &Node, ids: &mut HashSet<String>) -> Option<String> {
    let id = ctx.text(node, "id")?;
    if !is_unit_id(&id) {
        ctx.error(node.line, format!("unit id \"{id}\" must be lowercase letters, digits, - or _ (e.g. \"student-affairs\")"));
    } else if !ids.insert(id.clone()) {
        ctx.error(node.line, format!("unit id \"{id}\" is used twice"));
    }
    Some(id)
}

fn read_room(ctx: &mut Ctx<'_>, node: &Node) -> Option<String> {
    let room = ctx.text(node, "room")?;
    if !(room.starts_with('#') && room.contains(':') && !room.contains(char::is_whitespace)) {
        ctx.error(node.line, format!("room \"{room}\" must be a Matrix room alias like \"#international:uni.example\""));
    }
    Some(room)
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
