//! Routing rules: which unit a letter goes to, how it is classified, and what follows.
//!
//! Registry staff write the rules in `mail-rules/` (see `mail-rules/README.md`): `units.toml`
//! lists the units, `file-plan.toml` the classes documents are filed under (`core::archive`), and
//! every other `*.toml` file holds `[[rule]]`s, read in file-name order.
//! A rule has conditions (all must hold) and actions. Every rule that matches applies its
//! actions in order: a later rule overrides the unit, classification, deadline, acknowledgement,
//! forwarding and notification of an earlier one, tags add up, confidentiality can only rise,
//! and `stop = true` ends the evaluation. A letter no rule routes goes to the default unit.
//!
//! This is pure: the caller reads the files and carries the routing out.
//!
//! - `document`: TOML with the line of every value; `parse`: the files into checked rules;
//! - `text`: how rule text compares with letter text; `engine`: matching and deciding;
//! - `model`: units, rules, routing.

mod document;
mod engine;
mod model;
mod parse;
mod text;

use chrono::{Datelike, Days, NaiveDate, Weekday};

pub use model::{Reason, Routing, RuleError, Unit, UnitHead, UnitName};

use crate::core::letter::Letter;
use model::{Pattern, Rule};

/// The units and rules, checked and compiled for matching. Build it once (at start or when
/// the files change) and route any number of letters with it, from any number of threads.
pub struct RuleBook {
    units: Vec<Unit>,
    default_unit: usize,
    rules: Vec<Rule>,
    patterns: Vec<Pattern>,
    header_names: Vec<String>,
    index: engine::Index,
    file_plan: Option<crate::core::archive::FilePlan>,
}

impl RuleBook {
    /// Reads `units.toml` and the rule files from `(file name, contents)` pairs; files not
    /// ending in `.toml` are ignored, the others are read in name order. Returns every
    /// problem of every file, each at its line.
    pub fn parse(files: &[(String, String)]) -> Result<RuleBook, Vec<RuleError>> {
        let parsed = parse::parse_files(files)?;
        let index = engine::Index::build(&parsed.rules, &parsed.patterns, &parsed.header_names)
            .map_err(|problem| vec![RuleError { file: "mail-rules".to_string(), line: 0, message: problem.to_string() }])?;
        let default_unit = parsed.units.iter().position(|unit| unit.default).ok_or_else(|| {
            vec![RuleError { file: parse::UNITS_FILE.to_string(), line: 0, message: "no unit is marked `default = true`".to_string() }]
        })?;
        Ok(RuleBook {
            units: parsed.units,
            default_unit,
            rules: parsed.rules,
            patterns: parsed.patterns,
            header_names: parsed.header_names,
            index,
            file_plan: parsed.file_plan,
        })
    }

    /// Decides where a letter goes and why.
    pub fn route(&self, letter: &Letter) -> Routing {
        engine::route(self, letter)
    }

    /// `file-plan.toml`: the classes, their retention, and the default class; `None` when the
    /// folder has no plan (then documents are not filed into cases).
    pub fn file_plan(&self) -> Option<&crate::core::archive::FilePlan> {
        self.file_plan.as_ref()
    }

    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    pub fn unit(&self, id: &str) -> Option<&Unit> {
        self.units.iter().find(|unit| unit.id == id)
    }

    /// The registry: where letters go that no rule routes.
    pub fn default_unit(&self) -> &Unit {
        &self.units[self.default_unit]
    }

    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// (rule, template) for every rule that names an acknowledgement template, so the templates
    /// can be checked against the rules before any letter needs them.
    pub fn acknowledgement_templates(&self) -> Vec<(&str, &str)> {
        self.rules
            .iter()
            .filter_map(|rule| match &rule.actions.acknowledge {
                Some(model::Acknowledge::Template(name)) => Some((rule.name.as_str(), name.as_str())),
                _ => None,
            })
            .collect()
    }

    /// Rule names in evaluation order.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|rule| rule.name.as_str())
    }
}

impl std::fmt::Debug for RuleBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleBook")
            .field("units", &self.units.len())
            .field("default_unit", &self.default_unit().id)
            .field("rules", &self.rules.len())
            .field("patterns", &self.patterns.len())
            .finish()
    }
}

/// As [`due_date`], also skipping the office's public holidays.
pub fn due_date_skipping(registered: NaiveDate, working_days: u32, holidays: &[NaiveDate]) -> NaiveDate {
    if holidays.is_empty() {
        return due_date(registered, working_days);
    }
    let (mut day, mut left) = (registered, working_days);
    while left > 0 {
        let Some(next) = day.succ_opt() else { return NaiveDate::MAX };
        day = next;
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !holidays.contains(&day) {
            left -= 1;
        }
    }
    day
}

/// The day a letter registered on `registered` is due, `working_days` working days
/// (Monday to Friday) later; see [`due_date_skipping`] for public holidays.
pub fn due_date(registered: NaiveDate, working_days: u32) -> NaiveDate {
    if working_days == 0 {
        return registered;
    }
    // Counting from a weekend is counting from the Friday before it.
    let mut day = match registered.weekday() {
        Weekday::Sat => registered - Days::new(1),
        Weekday::Sun => registered - Days::new(2),
        _ => registered,
    };
    let add = |day: NaiveDate, days: u64| day.checked_add_days(Days::new(days)).unwrap_or(NaiveDate::MAX);
    day = add(day, u64::from(working_days / 5) * 7);
    for _ in 0..working_days % 5 {
        day = add(day, 1);
        while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && day != NaiveDate::MAX {
            day = add(day, 1);
        }
    }
    day
}

#[cfg(test)]
mod tests;
