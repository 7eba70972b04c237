//! What people read: the document table, one document, and the daily register.

use std::fmt::Write as _;

use serde::Serialize;

use crate::cli::local;
use crate::store::DocumentRecord;

fn people(list: &[crate::core::letter::Correspondent]) -> String {
    list.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

fn flag_names(document: &DocumentRecord) -> Vec<String> {
    document.flags.iter().filter_map(|f| f.get("flag").and_then(|v| v.as_str()).map(str::to_string)).collect()
}

fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let cut: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// One line per document: number, registered, status, unit, sender, subject, flags.
pub fn document_table(documents: &[DocumentRecord], zone: chrono_tz::Tz) -> String {
    let mut out = String::new();
    for d in documents {
        let flags = flag_names(d);
        let _ = writeln!(
            out,
            "{:<15} {}  {:<10} {:<12} {:<28} {}{}",
            d.number,
            local(&d.registered_at, zone),
            d.status,
            shorten(&d.unit, 12),
            shorten(&people(&d.from), 28),
            shorten(&d.subject, 60),
            if flags.is_empty() { String::new() } else { format!("  [{}]", flags.join(",")) },
        );
    }
    if documents.is_empty() {
        out.push_str("no documents\n");
    }
    out
}

/// The full entry, as `docs show` prints it.
pub fn document_text(d: &DocumentRecord, zone: chrono_tz::Tz) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}  ({}, {})", d.number, d.direction, d.status);
    if let Some(reason) = &d.annul_reason {
        let _ = writeln!(out, "ANNULLED: {reason}");
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
    for flag in &d.flags {
        let name = flag.get("flag").and_then(|v| v.as_str()).unwrap_or("flag");
        let _ = writeln!(out, "Review:          {name} {}", flag);
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
    documents
        .into_iter()
        .map(DocumentRecord::redacted)
        .map(|d| DailyRow {
            registered_at: local(&d.registered_at, zone),
            received_at: local(&d.received_at, zone),
            correspondent: people(if d.direction == "incoming" { &d.from } else { &d.to }),
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
