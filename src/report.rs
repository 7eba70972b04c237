//! What people read: the document table, one document, and the daily register.

use std::fmt::Write as _;

use serde::Serialize;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::core::time::local;
use crate::core::viewer::Viewer;
use crate::store::DocumentRecord;

fn people(list: &[crate::core::letter::Correspondent]) -> String {
    list.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// How a table shows review flags: by name (`oversize`) in lists, in sentences in the review
/// queue, where they are the point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagWords {
    Names,
    Sentences,
}

fn flag_text(document: &DocumentRecord, words: FlagWords) -> String {
    let flags = document.review_flags();
    match words {
        FlagWords::Names => flags.iter().map(|f| f.name().to_string()).collect::<Vec<_>>().join(", "),
        FlagWords::Sentences => flags.iter().map(|f| f.describe()).collect::<Vec<_>>().join("; "),
    }
}

/// Documents as a table: a header row, then one line each. Columns are as wide as their
/// widest cell; given the terminal's `width`, the free-text columns give way in turn (the
/// subject first) and their cells are cut with `…`. Without a width nothing is cut.
pub fn document_table(documents: &[DocumentRecord], zone: chrono_tz::Tz, width: Option<usize>, words: FlagWords) -> String {
    if documents.is_empty() {
        return "no documents\n".to_string();
    }
    let with_flags = documents.iter().any(|d| !d.flags.is_empty());
    let mut table = Table::new(&["Number", "Registered", "Status", "Unit", "Correspondent", "Subject"]);
    if with_flags {
        table.headers.push("Review");
    }
    for d in documents {
        let mut row = vec![
            d.number.clone(),
            local(&d.registered_at, zone),
            d.status.clone(),
            d.unit.clone(),
            people(d.correspondents()),
            d.subject.clone(),
        ];
        if with_flags {
            row.push(flag_text(d, words));
        }
        table.rows.push(row);
    }
    // Which columns give way to a narrow terminal, in turn, and how far: the subject first.
    let mut give_way = vec![(5, 16), (4, 16), (3, 10)];
    if with_flags {
        give_way.insert(1, (6, 12));
    }
    table.render(width, &give_way)
}

/// The staff directory, as `staff list` prints it.
pub fn staff_table(entries: &[crate::store::DirectoryEntry], width: Option<usize>) -> String {
    let mut table = Table::new(&["MATRIX ID", "NAME", "UNIT", "ROLE", "CLEARANCE", "ZONE", "EMAIL"]);
    table.rows = entries.iter().map(|entry| entry.cells("-")).collect();
    table.render(width, &[(1, 12)])
}

/// Rows of text under a header row, for people.
struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

/// Between columns.
const GAP: &str = "  ";

impl Table {
    fn new(headers: &[&'static str]) -> Table {
        Table { headers: headers.to_vec(), rows: Vec::new() }
    }

    /// `give_way`: (column, narrowest) in the order columns shrink to fit `width`.
    fn render(&self, width: Option<usize>, give_way: &[(usize, usize)]) -> String {
        let rows: Vec<Vec<String>> = self.rows.iter().map(|row| row.iter().map(|cell| one_line(cell)).collect()).collect();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.width()).collect();
        for row in &rows {
            for (column, cell) in row.iter().enumerate() {
                widths[column] = widths[column].max(cell.width());
            }
        }
        if let Some(width) = width {
            let mut total = widths.iter().sum::<usize>() + GAP.len() * (widths.len() - 1);
            for &(column, narrowest) in give_way {
                if total <= width {
                    break;
                }
                let spare = widths[column].saturating_sub(narrowest.max(self.headers[column].width()));
                let cut = spare.min(total - width);
                widths[column] -= cut;
                total -= cut;
            }
        }
        let mut out = String::new();
        let header: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        for row in std::iter::once(&header).chain(&rows) {
            let last = row.len() - 1;
            let mut line = String::new();
            for (column, cell) in row.iter().enumerate() {
                let cell = cut(cell, widths[column]);
                line.push_str(&cell);
                if column < last {
                    line.extend(std::iter::repeat_n(' ', widths[column] - cell.width()));
                    line.push_str(GAP);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Text for one cell: tabs, line breaks and other control characters become spaces.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Text cut to `width` columns on screen, with `…` where it was cut.
fn cut(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// The full entry, as `docs show` prints it.
pub fn document_text(d: &DocumentRecord, zone: chrono_tz::Tz) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}  ({}, {})", d.number, d.direction, d.status);
    if let Some(reason) = &d.annul_reason {
        let _ = writeln!(out, "ANNULLED: {reason}");
    }
    if let Some(disposed) = &d.disposed {
        let _ = writeln!(out, "DISPOSED: {} (its content was erased; the entry stays)", disposed.line());
    }
    for hold in &d.holds {
        let _ = writeln!(out, "ON HOLD:         hold {} on {}: {} (placed by {})", hold.id, hold.covers(), hold.reason, hold.placed_by);
    }
    let _ = writeln!(out, "Subject:         {}", d.subject);
    let _ = writeln!(out, "From:            {}", people(&d.from));
    let _ = writeln!(out, "To:              {}", people(&d.to));
    if !d.cc.is_empty() {
        let _ = writeln!(out, "Cc:              {}", people(&d.cc));
    }
    let _ = writeln!(out, "Received:        {}", local(&d.received_at, zone));
    let _ = writeln!(out, "Registered:      {}", local(&d.registered_at, zone));
    let _ = writeln!(out, "Unit:            {}", d.unit);
    let _ = writeln!(out, "Classification:  {}", d.classification.as_deref().unwrap_or("-"));
    let _ = writeln!(out, "Case:            {}", d.case.as_deref().unwrap_or("-"));
    let _ = writeln!(out, "Confidentiality: {}", d.confidentiality);
    if !d.tags.is_empty() {
        let _ = writeln!(out, "Tags:            {}", d.tags.join(", "));
    }
    if let Some(due) = &d.due_on {
        let _ = writeln!(out, "Due:             {due}");
    }
    if let Some(routing) = &d.routing {
        match routing.get("rule").and_then(|r| r.as_str()) {
            Some(rule) => {
                let _ = writeln!(out, "Routed by:       rule {rule:?}");
                for reason in routing.get("reasons").and_then(|r| r.as_array()).into_iter().flatten() {
                    let field = |name: &str| reason.get(name).and_then(|v| v.as_str()).unwrap_or("").to_string();
                    let _ = writeln!(out, "  because        [{}] {} (matched {:?})", field("rule"), field("condition"), field("matched"));
                }
            }
            None => {
                let _ = writeln!(out, "Routed by:       no rule matched; the default unit");
            }
        }
    }
    if d.thread != d.number {
        let _ = writeln!(out, "Thread:          {}", d.thread);
    }
    let _ = writeln!(out, "Message-ID:      {}", d.message_id.as_deref().unwrap_or("-"));
    let _ = writeln!(out, "SHA-256:         {} ({} bytes)", d.sha256, d.size);
    for a in &d.attachments {
        let _ = writeln!(out, "Attachment {}:    {} ({}, {} bytes, sha256 {})", a.position, a.name, a.media_type, a.size, a.sha256);
    }
    for flag in d.review_flags() {
        let _ = writeln!(out, "Review:          {}", flag.describe());
    }
    if let Some(history) = &d.history {
        let _ = writeln!(out, "History:");
        for h in history {
            let change = match (&h.field, &h.old_value, &h.new_value) {
                (Some(field), old, Some(new)) => format!(" {field}: {} -> {new}", old.as_deref().unwrap_or("-")),
                (None, _, Some(new)) => format!(" {new}"),
                _ => String::new(),
            };
            let reason = h.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
            let _ = writeln!(out, "  {}  {:<16} {}{}{}", local(&h.at, zone), h.actor, h.action, change, reason);
        }
    }
    out
}

/// One line of the daily register. Restricted entries keep their number and fingerprint but
/// not their subject or correspondent.
#[derive(Debug, Clone, Serialize)]
pub struct DailyRow {
    pub number: String,
    pub registered_at: String,
    pub received_at: String,
    pub direction: String,
    pub correspondent: String,
    pub subject: String,
    pub unit: String,
    pub confidentiality: String,
    pub status: String,
    pub attachments: usize,
    pub attachment_names: String,
    pub sha256: String,
}

pub fn daily_rows(documents: Vec<DocumentRecord>, zone: chrono_tz::Tz) -> Vec<DailyRow> {
    // The register is kept and passed on: it is read as the console reads its lists.
    let viewer = Viewer::console_list();
    documents
        .into_iter()
        .map(|d| d.seen_by(&viewer).0)
        .map(|d| DailyRow {
            registered_at: local(&d.registered_at, zone),
            received_at: local(&d.received_at, zone),
            correspondent: people(d.correspondents()),
            attachments: d.attachments.len(),
            attachment_names: d.attachments.iter().map(|a| a.name.as_str()).collect::<Vec<_>>().join("; "),
            number: d.number,
            direction: d.direction,
            subject: d.subject,
            unit: d.unit,
            confidentiality: d.confidentiality,
            status: d.status,
            sha256: d.sha256,
        })
        .collect()
}

pub fn write_daily_csv(out: &mut impl std::io::Write, rows: &[DailyRow]) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    for row in rows {
        writer.serialize(row)?;
    }
    if rows.is_empty() {
        // The header alone still says what the register holds: nothing that day.
        writer.write_record([
            "number",
            "registered_at",
            "received_at",
            "direction",
            "correspondent",
            "subject",
            "unit",
            "confidentiality",
            "status",
            "attachments",
            "attachment_names",
            "sha256",
        ])?;
    }
    writer.flush()?;
    Ok(())
}

/// What `rules test` prints for one letter: the rule, the reasons, and the actions.
pub fn routing_text(label: &str, subject: &str, routing: &crate::core::rules::Routing) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{label}: {subject:?}");
    match &routing.rule {
        Some(rule) => {
            let _ = writeln!(out, "  rule:            {rule}");
        }
        None => {
            let _ = writeln!(out, "  rule:            (none matched: the default unit)");
        }
    }
    for reason in &routing.reasons {
        let _ = writeln!(out, "  because:         [{}] {} (matched {:?})", reason.rule, reason.condition, reason.matched);
    }
    let _ = writeln!(out, "  unit:            {}", routing.unit);
    if let Some(code) = &routing.classification {
        let _ = writeln!(out, "  classification:  {code}");
    }
    if let Some(level) = routing.confidentiality {
        let _ = writeln!(out, "  confidentiality: {}", level.as_str());
    }
    if !routing.tags.is_empty() {
        let _ = writeln!(out, "  tags:            {}", routing.tags.join(", "));
    }
    if let Some(days) = routing.due_in_working_days {
        let _ = writeln!(out, "  due in:          {days} working days");
    }
    let _ = writeln!(out, "  acknowledge:     {}", routing.acknowledge.as_deref().unwrap_or("no"));
    let _ = writeln!(out, "  forward to unit: {}", if routing.forward { "yes" } else { "no" });
    let _ = writeln!(out, "  notify room:     {}", if routing.notify_room { "yes" } else { "no" });
    out
}

/// `rules replay`: per rule, how many documents it would route, and where that differs from
/// the unit the document is with now.
#[derive(Debug, Default)]
pub struct Replay {
    by_rule: std::collections::BTreeMap<String, usize>,
    differences: Vec<String>,
    total: usize,
}

impl Replay {
    pub fn add(&mut self, document: &DocumentRecord, routing: &crate::core::rules::Routing) {
        self.total += 1;
        let rule = routing.rule.clone().unwrap_or_else(|| "(default unit)".to_string());
        *self.by_rule.entry(rule.clone()).or_default() += 1;
        if routing.unit != document.unit {
            self.differences.push(format!(
                "{}: now with {}, the rules would route it to {} (rule {rule})",
                document.number, document.unit, routing.unit
            ));
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} documents replayed", self.total);
        for (rule, count) in &self.by_rule {
            let _ = writeln!(out, "  {count:>6}  {rule}");
        }
        let _ = writeln!(out, "{} would be routed elsewhere than where they are", self.differences.len());
        for line in &self.differences {
            let _ = writeln!(out, "  {line}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::letter::Correspondent;

    fn person(name: &str, address: &str) -> Correspondent {
        Correspondent { name: Some(name.into()), address: address.into() }
    }

    fn document(number: &str, direction: &str, unit: &str, subject: &str) -> DocumentRecord {
        DocumentRecord {
            id: 1,
            number: number.into(),
            direction: direction.into(),
            status: "registered".into(),
            unit: unit.into(),
            classification: None,
            confidentiality: "internal".into(),
            subject: subject.into(),
            from: vec![person("University Registry", "registry@uni.example")],
            to: vec![person("Prof. Aydın", "aydin@uni-x.edu.tr")],
            cc: Vec::new(),
            message_id: None,
            sha256: String::new(),
            size: 0,
            sent_at: None,
            received_at: "2026-11-30T08:00:00Z".into(),
            registered_at: "2026-11-30T08:00:00Z".into(),
            thread: number.into(),
            attachments: Vec::new(),
            flags: Vec::new(),
            source: String::new(),
            annul_reason: None,
            routing: None,
            tags: Vec::new(),
            due_on: None,
            assignee: None,
            acknowledged_at: None,
            acknowledged_by: None,
            case: None,
            history: None,
            disposed: None,
            holds: Vec::new(),
        }
    }

    #[test]
    fn an_outgoing_letter_shows_its_recipient_and_an_incoming_one_its_sender() {
        let mut incoming = document("IN-2026-000001", "incoming", "international", "Visa");
        incoming.from = vec![person("Leyla Məmmədova", "leyla@partner.example")];
        incoming.to = vec![person("University Registry", "registry@uni.example")];
        let outgoing = document("OUT-2026-000001", "outgoing", "international", "Signed agreement");
        let table = document_table(&[incoming, outgoing], chrono_tz::Asia::Baku, None, FlagWords::Names);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("Number") && lines[0].contains("Correspondent"), "{table}");
        assert!(lines[1].contains("Leyla Məmmədova <leyla@partner.example>"), "{table}");
        assert!(lines[2].contains("Prof. Aydın <aydin@uni-x.edu.tr>") && !lines[2].contains("registry@uni.example"), "{table}");
        assert!(!table.contains("Review"), "no review column without flags: {table}");
    }

    #[test]
    fn a_narrow_terminal_cuts_the_subject_first_and_never_the_number() {
        let long = "Erasmus+ inter-institutional agreement 2027-2029 between the universities, signed copies enclosed";
        let mut d = document("IN-2026-000123", "incoming", "international", long);
        d.flags = vec![serde_json::json!({"flag": "unparsed"})];
        let wide = document_table(std::slice::from_ref(&d), chrono_tz::Asia::Baku, None, FlagWords::Names);
        assert!(wide.contains(long) && wide.lines().nth(1).is_some_and(|l| l.ends_with("unparsed")), "{wide}");
        for width in [160, 120, 115] {
            let table = document_table(std::slice::from_ref(&d), chrono_tz::Asia::Baku, Some(width), FlagWords::Names);
            let row = table.lines().nth(1).unwrap();
            assert!(row.width() <= width, "{width}: {row:?} is {} wide", row.width());
            assert!(row.starts_with("IN-2026-000123  2026-11-30 12:00  registered  international  "), "{row}");
            assert!(row.contains('…') && row.ends_with("unparsed"), "the subject gave way: {row}");
        }
        // A 100-column terminal keeps the unit whole: subject and correspondent give way first.
        let plain = document("IN-2026-000124", "incoming", "international", long);
        let table = document_table(&[plain], chrono_tz::Asia::Baku, Some(100), FlagWords::Names);
        let row = table.lines().nth(1).unwrap();
        assert!(row.width() <= 100 && row.contains("  international  ") && row.ends_with('…'), "{row}");
        let queue = document_table(&[d], chrono_tz::Asia::Baku, None, FlagWords::Sentences);
        assert!(queue.contains("not a mail message"), "{queue}");
    }

    #[test]
    fn flags_are_shown_in_words() {
        let mut d = document("IN-2026-000007", "incoming", "registry", "Big");
        d.flags = vec![serde_json::json!({"flag": "oversize", "size": 6000, "limit": 5000})];
        let text = document_text(&d, chrono_tz::Asia::Baku);
        assert!(text.contains("Review:          message of 6000 bytes exceeds the 5000-byte limit"), "{text}");
        assert!(!text.contains('{'), "{text}");
    }
}
