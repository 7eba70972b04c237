//! Routing a letter: every pattern of every rule is matched in one pass per part of the letter,
//! and only the rules some pattern woke up are decided.
//!
//! Plain text and simple globs of all rules go into one Aho-Corasick automaton per field,
//! matched against folded text. So do the texts regular expressions need (`\bvisas?\b` needs
//! "visa"): a regex is only tried when its text is there. Regexes that need no particular text
//! are matched together in one `RegexSet` per field, except those with a Unicode `\b`, which
//! would slow a whole set down on non-ASCII text and are tried alone. A letter is read once per field whatever the number of rules, and the
//! rules are then decided from the set of patterns that matched. A rule that cannot hold
//! unless one of its patterns matched (nearly all of them) is only looked at when one did, so
//! the cost of a letter follows what it matches, not how many rules there are.

// Rules, patterns and headers are numbered with u32 to keep the index small; `Index::build`
// refuses a rule book with more of any than u32 holds, so the `as u32` below cannot truncate.
#![allow(clippy::cast_possible_truncation)]

use std::cell::OnceCell;
use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::{Regex, RegexSet, RegexSetBuilder};

use super::RuleBook;
use super::model::{Acknowledge, Condition, Field, Matcher, Pattern, PatternId, PatternKind, Reason, Routing, Rule};
use super::parse::DEFAULT_TEMPLATE;
use super::text;
use crate::core::confidentiality::Confidentiality;
use crate::core::letter::Letter;

/// Why a rule book cannot be indexed; `RuleBook::parse` reports it against `mail-rules`.
#[derive(Debug, thiserror::Error)]
pub(super) enum IndexError {
    /// More rules, patterns or headers than u32 numbers.
    #[error("too many {what} in the rule book: {count}")]
    TooMany { what: &'static str, count: usize },
    #[error("cannot index the rules' texts: {0}")]
    Texts(aho_corasick::BuildError),
}

/// Up to this many bytes of texts in one field, the texts are matched by a DFA.
const DFA_LITERAL_BYTES: usize = 64 * 1024;

/// Longest text shown as what a condition matched.
const MATCHED_CHARS: usize = 80;

/// Every pattern of the book, arranged for matching.
pub(super) struct Index {
    subject: FieldIndex,
    body: FieldIndex,
    from: FieldIndex,
    to: FieldIndex,
    cc: FieldIndex,
    attachment_name: FieldIndex,
    attachment_type: FieldIndex,
    /// By header id (`Field::Header`).
    headers: Vec<FieldIndex>,
    /// Lowercase header name to header id.
    header_ids: HashMap<String, u32>,
    /// For each pattern, the rules (by index) that use it.
    pattern_rules: Vec<Vec<u32>>,
    /// Rules that may hold with no pattern matched (`not`, `has_attachment`, sizes alone):
    /// decided for every letter.
    always: Vec<u32>,
    /// Each pattern as a reason states it: `from matches *@uni-x.edu.tr`.
    conditions: Vec<String>,
}

/// The patterns of one field.
#[derive(Default)]
struct FieldIndex {
    /// Plain text, simple globs and the gate texts of regexes, all in one automaton over
    /// folded text.
    literals: Option<AhoCorasick>,
    /// For each text of the automaton, what finding it means (the same text can be plain text
    /// in one rule, an anchored glob in another and the gate of a regex in a third).
    literal_uses: Vec<Vec<LiteralUse>>,
    /// Regexes tried only when one of their gate texts was found.
    gated: Vec<LoneRegex>,
    /// Regexes without a gate, matched together.
    set: Option<(RegexSet, Vec<(PatternId, bool)>)>,
    /// Regexes without a gate that a set would slow down for all (Unicode `\b`), tried alone.
    lone: Vec<LoneRegex>,
    /// Header conditions without a value: the header being there is the match.
    present: Vec<PatternId>,
}

enum LiteralUse {
    Pattern {
        pattern: PatternId,
        at_start: bool,
        at_end: bool,
        addresses_only: bool,
    },
    /// Index into `gated`.
    Gate(u32),
}

struct LoneRegex {
    regex: Regex,
    pattern: PatternId,
    addresses_only: bool,
}

impl FieldIndex {
    fn build(patterns: &[(PatternId, &Pattern)]) -> Result<FieldIndex, IndexError> {
        let mut index = FieldIndex::default();
        let mut literal_ids: HashMap<String, usize> = HashMap::new();
        let mut literals: Vec<String> = Vec::new();
        let mut add_literal = |text: &str, used: LiteralUse, index: &mut FieldIndex| {
            let slot = match literal_ids.get(text) {
                Some(&slot) => slot,
                None => {
                    literals.push(text.to_string());
                    index.literal_uses.push(Vec::new());
                    literal_ids.insert(text.to_string(), literals.len() - 1);
                    literals.len() - 1
                }
            };
            index.literal_uses[slot].push(used);
        };
        let mut ungated: Vec<(&Regex, PatternId, bool)> = Vec::new();
        for &(id, pattern) in patterns {
            let addresses_only = pattern.addresses_only();
            match &pattern.matcher {
                Matcher::Literal { folded, at_start, at_end } => add_literal(
                    folded,
                    LiteralUse::Pattern { pattern: id, at_start: *at_start, at_end: *at_end, addresses_only },
                    &mut index,
                ),
                Matcher::Regex { regex, needs } if !needs.gate.is_empty() => {
                    let gate = index.gated.len() as u32;
                    index.gated.push(LoneRegex { regex: regex.clone(), pattern: id, addresses_only });
                    for text in &needs.gate {
                        add_literal(text, LiteralUse::Gate(gate), &mut index);
                    }
                }
                Matcher::Regex { regex, needs } if needs.unicode_words => {
                    index.lone.push(LoneRegex { regex: regex.clone(), pattern: id, addresses_only });
                }
                Matcher::Regex { regex, .. } => ungated.push((regex, id, addresses_only)),
                Matcher::Present => index.present.push(id),
            }
        }
        if !literals.is_empty() {
            // A DFA is the fastest automaton for overlapping search; its memory grows with the
            // texts, so very large books get what the crate thinks best.
            let total: usize = literals.iter().map(String::len).sum();
            let kind = (total <= DFA_LITERAL_BYTES).then_some(AhoCorasickKind::DFA);
            let automaton =
                AhoCorasick::builder().match_kind(MatchKind::Standard).kind(kind).build(&literals).map_err(IndexError::Texts)?;
            index.literals = Some(automaton);
        }
        if !ungated.is_empty() {
            let built = RegexSetBuilder::new(ungated.iter().map(|(regex, _, _)| regex.as_str()))
                .case_insensitive(true)
                .size_limit(512 << 20)
                .dfa_size_limit(64 << 20)
                .build();
            match built {
                Ok(set) => index.set = Some((set, ungated.iter().map(|&(_, id, addresses_only)| (id, addresses_only)).collect())),
                Err(_) => index.lone.extend(ungated.into_iter().map(|(regex, pattern, addresses_only)| LoneRegex {
                    regex: regex.clone(),
                    pattern,
                    addresses_only,
                })),
            }
        }
        Ok(index)
    }

    fn is_empty(&self) -> bool {
        self.literals.is_none() && self.set.is_none() && self.lone.is_empty() && self.present.is_empty()
    }

    /// Adds the patterns matching `text` to `hits`. `is_name`: the text is a display name, which
    /// globs (addresses only) do not look at.
    fn scan(&self, text: &str, is_name: bool, folded: &mut String, hits: &mut Vec<PatternId>) {
        let try_alone = |lone: &LoneRegex, hits: &mut Vec<PatternId>| {
            if !(is_name && lone.addresses_only) && lone.regex.is_match(text) {
                hits.push(lone.pattern);
            }
        };
        if let Some(automaton) = &self.literals {
            text::fold_into(text, folded);
            let len = folded.len();
            let mut gates: Vec<u32> = Vec::new();
            for found in automaton.find_overlapping_iter(folded.as_str()) {
                for used in &self.literal_uses[found.pattern().as_usize()] {
                    match *used {
                        LiteralUse::Pattern { pattern, at_start, at_end, addresses_only } => {
                            let fits = !(is_name && addresses_only) && (!at_start || found.start() == 0) && (!at_end || found.end() == len);
                            if fits {
                                hits.push(pattern);
                            }
                        }
                        LiteralUse::Gate(gate) => gates.push(gate),
                    }
                }
            }
            gates.sort_unstable();
            gates.dedup();
            for gate in gates {
                try_alone(&self.gated[gate as usize], hits);
            }
        }
        if let Some((set, uses)) = &self.set
            && set.is_match(text)
        {
            for i in set.matches(text).iter() {
                let (id, addresses_only) = uses[i];
                if !(is_name && addresses_only) {
                    hits.push(id);
                }
            }
        }
        for lone in &self.lone {
            try_alone(lone, hits);
        }
        hits.extend_from_slice(&self.present);
    }
}

impl Index {
    pub(super) fn build(rules: &[Rule], patterns: &[Pattern], header_names: &[String]) -> Result<Index, IndexError> {
        for (what, count) in [("rules", rules.len()), ("patterns", patterns.len()), ("headers", header_names.len())] {
            u32::try_from(count).map_err(|_| IndexError::TooMany { what, count })?;
        }
        let mut by_field: HashMap<Field, Vec<(PatternId, &Pattern)>> = HashMap::new();
        for (id, pattern) in patterns.iter().enumerate() {
            by_field.entry(pattern.field).or_default().push((id as PatternId, pattern));
        }
        let field = |f: Field| FieldIndex::build(by_field.get(&f).map_or(&[][..], Vec::as_slice));
        let headers = (0..header_names.len() as u32).map(|h| field(Field::Header(h))).collect::<Result<Vec<_>, _>>()?;
        let header_ids = header_names.iter().enumerate().map(|(id, name)| (name.to_ascii_lowercase(), id as u32)).collect();

        let mut pattern_rules: Vec<Vec<u32>> = vec![Vec::new(); patterns.len()];
        let mut always = Vec::new();
        for (r, rule) in rules.iter().enumerate() {
            if without_patterns(&rule.condition) == Maybe::No {
                let mut used = Vec::new();
                patterns_of(&rule.condition, &mut used);
                used.sort_unstable();
                used.dedup();
                for p in used {
                    pattern_rules[p as usize].push(r as u32);
                }
            } else {
                always.push(r as u32);
            }
        }
        Ok(Index {
            subject: field(Field::Subject)?,
            body: field(Field::Body)?,
            from: field(Field::From)?,
            to: field(Field::To)?,
            cc: field(Field::Cc)?,
            attachment_name: field(Field::AttachmentName)?,
            attachment_type: field(Field::AttachmentType)?,
            headers,
            header_ids,
            pattern_rules,
            always,
            conditions: patterns.iter().map(|pattern| describe_pattern(pattern, header_names)).collect(),
        })
    }

    /// The patterns a letter matches, sorted, each once.
    fn hits(&self, letter: &Letter) -> Vec<PatternId> {
        let mut hits = Vec::with_capacity(32);
        let mut folded = String::with_capacity(letter.subject.len().max(letter.body_text.len()) + 16);
        if !self.subject.is_empty() {
            self.subject.scan(&letter.subject, false, &mut folded, &mut hits);
        }
        if !self.body.is_empty() {
            self.body.scan(&letter.body_text, false, &mut folded, &mut hits);
        }
        for (index, people) in [(&self.from, &letter.from), (&self.to, &letter.to), (&self.cc, &letter.cc)] {
            if index.is_empty() {
                continue;
            }
            for person in people {
                index.scan(&person.address, false, &mut folded, &mut hits);
                if let Some(name) = &person.name {
                    index.scan(name, true, &mut folded, &mut hits);
                }
            }
        }
        if !self.attachment_name.is_empty() || !self.attachment_type.is_empty() {
            for attachment in &letter.attachments {
                if !self.attachment_name.is_empty() {
                    self.attachment_name.scan(&attachment.name, false, &mut folded, &mut hits);
                }
                if !self.attachment_type.is_empty() {
                    self.attachment_type.scan(&attachment.media_type, false, &mut folded, &mut hits);
                }
            }
        }
        if !self.headers.is_empty() {
            let mut lower = String::new();
            for (name, value) in &letter.headers {
                lower.clear();
                lower.extend(name.chars().map(|c| c.to_ascii_lowercase()));
                if let Some(&id) = self.header_ids.get(&lower) {
                    self.headers[id as usize].scan(value, false, &mut folded, &mut hits);
                }
            }
        }
        hits.sort_unstable();
        hits.dedup();
        hits
    }
}

/// Three-valued truth, for deciding which rules can hold with no pattern matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Maybe {
    No,
    Yes,
    Perhaps,
}

/// Whether a condition can hold when none of its patterns matched.
fn without_patterns(condition: &Condition) -> Maybe {
    match condition {
        Condition::Text { .. } => Maybe::No,
        Condition::HasAttachment(_) | Condition::SizeOver(_) | Condition::SizeUnder(_) => Maybe::Perhaps,
        Condition::Not(inner) => match without_patterns(inner) {
            Maybe::No => Maybe::Yes,
            Maybe::Yes => Maybe::No,
            Maybe::Perhaps => Maybe::Perhaps,
        },
        Condition::All(children) => {
            let values: Vec<Maybe> = children.iter().map(without_patterns).collect();
            if values.contains(&Maybe::No) {
                Maybe::No
            } else if values.iter().all(|v| *v == Maybe::Yes) {
                Maybe::Yes
            } else {
                Maybe::Perhaps
            }
        }
        Condition::Any(children) => {
            let values: Vec<Maybe> = children.iter().map(without_patterns).collect();
            if values.contains(&Maybe::Yes) {
                Maybe::Yes
            } else if values.iter().all(|v| *v == Maybe::No) {
                Maybe::No
            } else {
                Maybe::Perhaps
            }
        }
    }
}

fn patterns_of(condition: &Condition, out: &mut Vec<PatternId>) {
    match condition {
        Condition::All(children) | Condition::Any(children) => children.iter().for_each(|c| patterns_of(c, out)),
        Condition::Not(inner) => patterns_of(inner, out),
        Condition::Text { patterns } => out.extend_from_slice(patterns),
        Condition::HasAttachment(_) | Condition::SizeOver(_) | Condition::SizeUnder(_) => {}
    }
}

/// The patterns a letter matches, found by trying every pattern on every text of its field:
/// what the index must always find.
#[cfg(test)]
pub(super) fn hits_one_by_one(book: &RuleBook, letter: &Letter) -> (Vec<PatternId>, Vec<PatternId>) {
    let mut expected = Vec::new();
    for (id, pattern) in book.patterns.iter().enumerate() {
        let texts: Vec<(&str, bool)> = match pattern.field {
            Field::Subject => vec![(letter.subject.as_str(), false)],
            Field::Body => vec![(letter.body_text.as_str(), false)],
            Field::From | Field::To | Field::Cc => {
                let people = match pattern.field {
                    Field::From => &letter.from,
                    Field::To => &letter.to,
                    _ => &letter.cc,
                };
                people
                    .iter()
                    .flat_map(|p| std::iter::once((p.address.as_str(), false)).chain(p.name.as_deref().map(|n| (n, true))))
                    .collect()
            }
            Field::AttachmentName => letter.attachments.iter().map(|a| (a.name.as_str(), false)).collect(),
            Field::AttachmentType => letter.attachments.iter().map(|a| (a.media_type.as_str(), false)).collect(),
            Field::Header(h) => letter.header_values(&book.header_names[h as usize]).map(|v| (v, false)).collect(),
        };
        if texts.iter().any(|&(text, is_name)| Explainer::find(pattern, text, None, is_name).is_some()) {
            expected.push(id as PatternId);
        }
    }
    (book.index.hits(letter), expected)
}

/// What a rule's conditions are decided on.
struct Facts<'a> {
    hits: &'a [PatternId],
    attachments: usize,
    size: u64,
}

fn holds(condition: &Condition, facts: &Facts<'_>) -> bool {
    match condition {
        Condition::All(children) => children.iter().all(|c| holds(c, facts)),
        Condition::Any(children) => children.iter().any(|c| holds(c, facts)),
        Condition::Not(inner) => !holds(inner, facts),
        Condition::Text { patterns } => patterns.iter().any(|p| facts.hits.binary_search(p).is_ok()),
        Condition::HasAttachment(wanted) => (facts.attachments > 0) == *wanted,
        Condition::SizeOver(limit) => facts.size > *limit,
        Condition::SizeUnder(limit) => facts.size < *limit,
    }
}

pub(super) fn route(book: &RuleBook, letter: &Letter) -> Routing {
    route_among(book, letter, false)
}

/// Routing that decides every rule, woken or not: what `route` must always agree with.
#[cfg(test)]
pub(super) fn route_every_rule(book: &RuleBook, letter: &Letter) -> Routing {
    route_among(book, letter, true)
}

fn route_among(book: &RuleBook, letter: &Letter, every_rule: bool) -> Routing {
    let index = &book.index;
    let hits = index.hits(letter);
    let facts = Facts { hits: &hits, attachments: letter.attachments.len(), size: letter.size as u64 };
    let candidates: Vec<u32> = if every_rule {
        (0..book.rules.len() as u32).collect()
    } else {
        let mut woken: Vec<u32> = index.always.clone();
        for &p in &hits {
            woken.extend_from_slice(&index.pattern_rules[p as usize]);
        }
        woken.sort_unstable();
        woken.dedup();
        woken
    };

    let mut decided = Decided::default();
    let mut reasons = Vec::new();
    let explainer = Explainer { book, letter, facts: &facts, folded_subject: OnceCell::new(), folded_body: OnceCell::new() };
    for r in candidates {
        let rule = &book.rules[r as usize];
        if !holds(&rule.condition, &facts) {
            continue;
        }
        explainer.explain(&rule.condition, &rule.name, &mut reasons);
        decided.apply(rule);
        if rule.actions.stop {
            break;
        }
    }
    Routing {
        rule: decided.unit.map(|(rule, _)| rule.to_string()),
        unit: decided.unit.map_or(&book.default_unit().id, |(_, unit)| unit).clone(),
        classification: decided.classification.map(str::to_string),
        confidentiality: decided.confidentiality,
        tags: decided.tags.into_iter().map(str::to_string).collect(),
        due_in_working_days: decided.due_in_working_days,
        acknowledge: match decided.acknowledge {
            None => Some(DEFAULT_TEMPLATE.to_string()),
            Some(Acknowledge::Template(name)) => Some(name.clone()),
            Some(Acknowledge::Off) => None,
        },
        forward: decided.forward.unwrap_or(false),
        notify_room: decided.notify_room.unwrap_or(false),
        reasons,
    }
}

/// What the matching rules decided so far, borrowed from them until the routing is made.
#[derive(Default)]
struct Decided<'a> {
    /// The rule that chose the unit, and the unit.
    unit: Option<(&'a str, &'a String)>,
    classification: Option<&'a str>,
    confidentiality: Option<Confidentiality>,
    tags: Vec<&'a str>,
    due_in_working_days: Option<u32>,
    acknowledge: Option<&'a Acknowledge>,
    forward: Option<bool>,
    notify_room: Option<bool>,
}

impl<'a> Decided<'a> {
    /// A later rule overrides, except that tags add up and confidentiality only rises: a
    /// letter one rule found secret stays secret.
    fn apply(&mut self, rule: &'a Rule) {
        let actions = &rule.actions;
        if let Some(unit) = &actions.unit {
            self.unit = Some((&rule.name, unit));
        }
        if let Some(classification) = &actions.classification {
            self.classification = Some(classification);
        }
        if let Some(level) = actions.confidentiality {
            self.confidentiality = Some(self.confidentiality.map_or(level, |current| current.max(level)));
        }
        for tag in &actions.tags {
            if !self.tags.contains(&tag.as_str()) {
                self.tags.push(tag);
            }
        }
        self.due_in_working_days = actions.due_in_working_days.or(self.due_in_working_days);
        self.acknowledge = actions.acknowledge.as_ref().or(self.acknowledge);
        self.forward = actions.forward.or(self.forward);
        self.notify_room = actions.notify_room.or(self.notify_room);
    }
}

/// Says why a rule matched, for the people who read the routing.
struct Explainer<'a> {
    book: &'a RuleBook,
    letter: &'a Letter,
    facts: &'a Facts<'a>,
    /// Folded once per letter however many reasons point into them.
    folded_subject: OnceCell<String>,
    folded_body: OnceCell<String>,
}

impl Explainer<'_> {
    fn explain(&self, condition: &Condition, rule: &str, out: &mut Vec<Reason>) {
        let mut reason = |condition: String, matched: String| out.push(Reason { rule: rule.to_string(), condition, matched });
        match condition {
            Condition::All(children) => children.iter().for_each(|c| self.explain(c, rule, out)),
            Condition::Any(children) => {
                if let Some(child) = children.iter().find(|c| holds(c, self.facts)) {
                    self.explain(child, rule, out);
                }
            }
            Condition::Not(inner) => reason(format!("not ({})", text::shorten(&self.describe(inner), 200)), String::new()),
            Condition::Text { patterns } => {
                let Some(&p) = patterns.iter().find(|p| self.facts.hits.binary_search(p).is_ok()) else { return };
                let pattern = &self.book.patterns[p as usize];
                reason(self.book.index.conditions[p as usize].clone(), self.locate(pattern).unwrap_or_default());
            }
            Condition::HasAttachment(true) => {
                let names: Vec<&str> = self.letter.attachments.iter().map(|a| a.name.as_str()).collect();
                reason("has_attachment = true".into(), text::shorten(&names.join(", "), MATCHED_CHARS));
            }
            Condition::HasAttachment(false) => reason("has_attachment = false".into(), "no attachments".into()),
            Condition::SizeOver(limit) => reason(format!("size over {}", text::show_size(*limit)), text::show_size(self.facts.size)),
            Condition::SizeUnder(limit) => reason(format!("size under {}", text::show_size(*limit)), text::show_size(self.facts.size)),
        }
    }

    fn describe(&self, condition: &Condition) -> String {
        let join = |children: &[Condition], word: &str| {
            let parts: Vec<String> = children
                .iter()
                .map(|c| match c {
                    Condition::All(_) | Condition::Any(_) => format!("({})", self.describe(c)),
                    _ => self.describe(c),
                })
                .collect();
            parts.join(word)
        };
        match condition {
            Condition::All(children) => join(children, " and "),
            Condition::Any(children) => join(children, " or "),
            Condition::Not(inner) => format!("not ({})", self.describe(inner)),
            Condition::Text { patterns } => {
                let parts: Vec<String> = patterns.iter().map(|&p| self.book.index.conditions[p as usize].clone()).collect();
                parts.join(" or ")
            }
            Condition::HasAttachment(wanted) => format!("has_attachment = {wanted}"),
            Condition::SizeOver(limit) => format!("size over {}", text::show_size(*limit)),
            Condition::SizeUnder(limit) => format!("size under {}", text::show_size(*limit)),
        }
    }

    /// Where in `haystack` a pattern matches, in bytes of the haystack. `folded`: the haystack
    /// folded, when it is at hand.
    fn find(pattern: &Pattern, haystack: &str, folded: Option<&str>, is_name: bool) -> Option<(usize, usize)> {
        if is_name && pattern.addresses_only() {
            return None;
        }
        match &pattern.matcher {
            Matcher::Literal { folded: needle, at_start, at_end } => {
                let owned;
                let folded = match folded {
                    Some(folded) => folded,
                    None => {
                        owned = text::fold(haystack);
                        &owned
                    }
                };
                let start = match (at_start, at_end) {
                    (true, true) => (folded == needle).then_some(0),
                    (true, false) => folded.starts_with(needle.as_str()).then_some(0),
                    (false, true) => folded.ends_with(needle.as_str()).then(|| folded.len() - needle.len()),
                    (false, false) => folded.find(needle.as_str()),
                }?;
                let end = start + needle.len();
                // ASCII that folded to the same length folded letter for letter.
                if folded.len() == haystack.len() && haystack.is_ascii() {
                    return Some((start, end));
                }
                Some(text::original_span(haystack, start, end))
            }
            Matcher::Regex { regex, .. } => regex.find(haystack).map(|m| (m.start(), m.end())),
            Matcher::Present => Some((0, haystack.len())),
        }
    }

    /// What in the letter a pattern matched, as the letter has it.
    fn locate(&self, pattern: &Pattern) -> Option<String> {
        let part = |haystack: &str, folded: Option<&str>| {
            Self::find(pattern, haystack, folded, false).map(|(start, end)| text::shorten(&haystack[start..end], MATCHED_CHARS))
        };
        let whole = |haystack: &str| Self::find(pattern, haystack, None, false).map(|_| text::shorten(haystack, MATCHED_CHARS));
        let letter = self.letter;
        let literal = matches!(pattern.matcher, Matcher::Literal { .. });
        match pattern.field {
            Field::Subject => {
                let folded = literal.then(|| self.folded_subject.get_or_init(|| text::fold(&letter.subject)).as_str());
                part(&letter.subject, folded)
            }
            Field::Body => {
                let folded = literal.then(|| self.folded_body.get_or_init(|| text::fold(&letter.body_text)).as_str());
                part(&letter.body_text, folded)
            }
            Field::From | Field::To | Field::Cc => {
                let people = match pattern.field {
                    Field::From => &letter.from,
                    Field::To => &letter.to,
                    _ => &letter.cc,
                };
                people.iter().find_map(|person| {
                    if Self::find(pattern, &person.address, None, false).is_some() {
                        return Some(text::shorten(&person.address, MATCHED_CHARS));
                    }
                    let name = person.name.as_deref()?;
                    Self::find(pattern, name, None, true).map(|_| text::shorten(&person.to_string(), MATCHED_CHARS))
                })
            }
            Field::AttachmentName => letter.attachments.iter().find_map(|a| whole(&a.name)),
            Field::AttachmentType => letter.attachments.iter().find_map(|a| whole(&a.media_type)),
            Field::Header(h) => {
                let name = &self.book.header_names[h as usize];
                letter.header_values(name).find_map(|value| match pattern.kind {
                    PatternKind::Present => Some(text::shorten(value, MATCHED_CHARS)),
                    _ => part(value, None),
                })
            }
        }
    }
}

fn field_name(field: Field, header_names: &[String]) -> String {
    match field {
        Field::From => "from".into(),
        Field::To => "to".into(),
        Field::Cc => "cc".into(),
        Field::Subject => "subject".into(),
        Field::Body => "body".into(),
        Field::AttachmentName => "attachment_name".into(),
        Field::AttachmentType => "attachment_type".into(),
        Field::Header(h) => format!("header {}", header_names[h as usize]),
    }
}

fn describe_pattern(pattern: &Pattern, header_names: &[String]) -> String {
    let field = field_name(pattern.field, header_names);
    match pattern.kind {
        PatternKind::Text => format!("{field} contains \"{}\"", pattern.written),
        PatternKind::Glob | PatternKind::Regex => format!("{field} matches {}", pattern.written),
        PatternKind::Present => format!("{field} is present"),
    }
}
