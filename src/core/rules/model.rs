//! What rules are made of: units, rules with their conditions and actions, and what routing
//! decides.

use serde::{Deserialize, Serialize};

use crate::core::confidentiality::Confidentiality;

/// A unit of the university letters can be routed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Short name rules use: `unit = "international"`.
    pub id: String,
    pub name: UnitName,
    /// Where letters are forwarded when a rule says `forward = true`.
    pub email: String,
    /// The unit's Matrix room alias, e.g. `#international:uni.example`.
    pub room: String,
    pub head: UnitHead,
    /// The registry: letters no rule routes go here. Exactly one unit has it.
    pub default: bool,
}

/// A unit's name in the university's three working languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitName {
    pub en: String,
    pub az: String,
    pub ru: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitHead {
    pub name: String,
    pub email: String,
}

/// What the rules decided for one letter. Adapters carry it out; nothing here has happened yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routing {
    /// The rule that chose the unit; `None` when no rule did and the letter went to the
    /// default unit (the registry).
    pub rule: Option<String>,
    pub unit: String,
    /// File-plan code, e.g. `05-02`.
    pub classification: Option<String>,
    /// `None` when no rule said; the intake policy's default then applies.
    pub confidentiality: Option<Confidentiality>,
    pub tags: Vec<String>,
    pub due_in_working_days: Option<u32>,
    /// Acknowledgement template to send, or `None` for no acknowledgement.
    pub acknowledge: Option<String>,
    /// Forward the letter to the unit's address by e-mail.
    pub forward: bool,
    /// Announce the letter in the unit's Matrix room.
    pub notify_room: bool,
    /// Why: one line per condition that made a rule match, in rule order.
    pub reasons: Vec<Reason>,
}

impl Routing {
    /// True when no rule chose the unit.
    pub fn is_default(&self) -> bool {
        self.rule.is_none()
    }
}

/// One condition that made a rule match, and what in the letter it matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub rule: String,
    /// The condition as the rule states it, e.g. `from matches *@uni-x.edu.tr`.
    pub condition: String,
    /// What it matched in the letter (an address, a word of the subject), at most ~80 characters.
    pub matched: String,
}

/// A problem in a rules file, at a line (0 when it concerns the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for RuleError {}

/// Index of a distinct pattern in the rule book; the same text on the same field in many
/// rules is one pattern, matched once.
pub(super) type PatternId = u32;

/// A part of a letter a condition looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Field {
    From,
    To,
    Cc,
    Subject,
    Body,
    AttachmentName,
    AttachmentType,
    /// A header, by its index in the book's list of header names.
    Header(u32),
}

impl Field {
    /// Fields whose values are matched whole by globs (`*@uni-x.edu.tr`, `*.pdf`).
    pub fn takes_globs(self) -> bool {
        matches!(self, Field::From | Field::To | Field::Cc | Field::AttachmentName | Field::AttachmentType)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PatternKind {
    /// Plain text: found anywhere, case and spacing aside.
    Text,
    /// An address or file-name glob, covering the whole value.
    Glob,
    /// `regex:...`
    Regex,
    /// A header condition without a value: the header is there.
    Present,
}

#[derive(Debug, Clone)]
pub(super) struct Pattern {
    pub field: Field,
    /// As the rule wrote it.
    pub written: String,
    pub kind: PatternKind,
    pub matcher: Matcher,
}

#[derive(Debug, Clone)]
pub(super) enum Matcher {
    /// Folded text, perhaps anchored at the start or end of the value.
    Literal {
        folded: String,
        at_start: bool,
        at_end: bool,
    },
    Regex {
        regex: regex::Regex,
        needs: super::text::RegexNeeds,
    },
    Present,
}

impl Pattern {
    /// Globs look at addresses only, never at display names.
    pub fn addresses_only(&self) -> bool {
        self.kind == PatternKind::Glob
    }
}

#[derive(Debug, Clone)]
pub(super) enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    /// True when any of the patterns matched (a list in a rule means any of them).
    Text {
        patterns: Vec<PatternId>,
    },
    HasAttachment(bool),
    SizeOver(u64),
    SizeUnder(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Acknowledge {
    Template(String),
    Off,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Actions {
    pub unit: Option<String>,
    pub classification: Option<String>,
    pub confidentiality: Option<Confidentiality>,
    pub tags: Vec<String>,
    pub due_in_working_days: Option<u32>,
    pub acknowledge: Option<Acknowledge>,
    pub forward: Option<bool>,
    pub notify_room: Option<bool>,
    pub stop: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Rule {
    pub name: String,
    pub condition: Condition,
    pub actions: Actions,
}
