//! `chancery case`: case files. Every document is in one: its class's yearly case (`03-02/2026`)
//! unless it was added to a named case (`03-02/2026-4`), which registry staff open for a matter.

use std::io::Write;

use anyhow::Result;
use chrono::NaiveDate;
use clap::Subcommand;
use serde::Serialize;

use super::{Invocation, acting_as, archive_in_force, canonical_number, require_unit, write_json};
use crate::core::archive::{CaseName, Class, FilePlan, Filing, rules};
use crate::core::time::local;
use crate::core::viewer::Viewer;
use crate::store::{CaseFile, CaseFilter, CaseRecord};

#[derive(Debug, Subcommand)]
pub(super) enum CaseCommand {
    /// Open a named case for a matter (`CODE/YEAR-N`: the next number in that class this year).
    /// Registrars and admins may, and the managers of the case's unit. Prints the case's name
    /// alone on its last line.
    Open {
        /// Its class in the file plan (mail-rules/file-plan.toml), e.g. 01-01.
        #[arg(long)]
        code: String,
        #[arg(long)]
        title: String,
        /// Whose managers may change it (a unit of mail-rules/units.toml); default: yours.
        #[arg(long)]
        unit: Option<String>,
        /// Who opens it: a Matrix ID in the staff directory, whose role is checked.
        #[arg(long = "as", value_name = "MXID")]
        person: String,
    },
    /// Add documents to a case: each leaves the (open) case it was in, recorded in its history
    /// and in both cases. A closed case takes nothing. Any refusal adds none of them.
    Add {
        /// The case, e.g. 01-01/2026-1.
        case: String,
        #[arg(required = true, value_name = "NUMBER")]
        numbers: Vec<String>,
        #[arg(long = "as", value_name = "MXID")]
        person: String,
    },
    /// One case: its class, when its retention ends, its documents (restricted subjects hidden,
    /// as in `docs list`) and its history.
    Show {
        case: String,
        #[arg(long)]
        json: bool,
    },
    /// Cases, the newest first, with how many documents each holds.
    List {
        /// Only cases of this class.
        #[arg(long)]
        code: Option<String>,
        /// Only open cases.
        #[arg(long, conflicts_with = "closed")]
        open: bool,
        /// Only closed cases.
        #[arg(long)]
        closed: bool,
        #[arg(long)]
        json: bool,
    },
    /// Close a named case: its retention starts today. A yearly case closes by itself at the
    /// cutoff (`[archive] cutoff`, 12-31 unless set).
    Close {
        case: String,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long = "as", value_name = "MXID")]
        person: String,
    },
}

pub(super) async fn run(at: &Invocation<'_>, command: CaseCommand, out: &mut impl Write) -> Result<()> {
    let plan = archive_in_force(at).await?;
    match command {
        CaseCommand::Open { code, title, unit, person } => open(at, &plan, (&code, &title, unit.as_deref()), &person, out).await,
        CaseCommand::Add { case, numbers, person } => add(at, &case, &numbers, &person, out).await,
        CaseCommand::Show { case, json } => show(at, &plan, &case, json, out).await,
        CaseCommand::List { code, open, closed, json } => {
            let filter = CaseFilter {
                code,
                open: if open {
                    Some(true)
                } else if closed {
                    Some(false)
                } else {
                    None
                },
            };
            list(at, &plan, &filter, json, out).await
        }
        CaseCommand::Close { case, reason, person } => close(at, &plan, &case, reason.as_deref(), &person, out).await,
    }
}

/// A case's name as typed, checked and written as the register writes it.
fn case_name(text: &str) -> Result<String> {
    Ok(text.parse::<CaseName>()?.to_string())
}

async fn open(
    at: &Invocation<'_>,
    plan: &FilePlan,
    (code, title, unit): (&str, &str, Option<&str>),
    person: &str,
    out: &mut impl Write,
) -> Result<()> {
    let member = acting_as(at, person).await?;
    let (class, title) = rules::new_case(plan, code, title)?;
    let unit = unit.map(str::trim).unwrap_or(&member.unit).to_string();
    require_unit(at.config, &unit)?;
    let name = at.store.archive().open_case(class, &title, Some(&unit), &member, at.now).await?;
    writeln!(out, "Opened for {unit} in {} ({}): {title}", class.code, class.title)?;
    writeln!(out, "{name}")?;
    Ok(())
}

async fn add(at: &Invocation<'_>, case: &str, numbers: &[String], person: &str, out: &mut impl Write) -> Result<()> {
    let member = acting_as(at, person).await?;
    let case = case_name(case)?;
    let numbers = numbers.iter().map(|n| canonical_number(n)).collect::<Result<Vec<_>>>()?;
    for (number, filing) in at.store.archive().add(&case, &numbers, &member, at.now).await? {
        match filing {
            Filing::Moved { from: Some(from) } => writeln!(out, "{number} added to {case} (from {from})")?,
            Filing::Moved { from: None } => writeln!(out, "{number} added to {case}")?,
            Filing::Already => writeln!(out, "{number} is in {case} already")?,
        }
    }
    Ok(())
}

async fn close(at: &Invocation<'_>, plan: &FilePlan, case: &str, reason: Option<&str>, person: &str, out: &mut impl Write) -> Result<()> {
    let member = acting_as(at, person).await?;
    let case = case_name(case)?;
    let cutoff = at.config.archive.cutoff()?;
    let on = at.store.archive().close(&case, reason, &member, cutoff, at.now).await?;
    let record = at.store.archive().case(&case).await?;
    writeln!(out, "Case {case} closed on {on}; disposal {}", due_words(&record, plan.class(&record.code), at.zone))?;
    Ok(())
}

/// A case as `--json` shows it: the record, its class in the plan and when its retention ends.
#[derive(Serialize)]
struct ShownCase<'a> {
    #[serde(flatten)]
    file: &'a CaseFile,
    class: Option<&'a Class>,
    disposal_due: Option<NaiveDate>,
}

async fn show(at: &Invocation<'_>, plan: &FilePlan, case: &str, json: bool, out: &mut impl Write) -> Result<()> {
    // A case may be printed or passed on: restricted subjects are hidden, as in `docs list`.
    let file = at.store.archive().show(&case_name(case)?, &Viewer::console_list()).await?;
    let class = plan.class(&file.case.code);
    if json {
        let disposal_due = class.and_then(|class| file.case.disposal_due(class, at.zone));
        return write_json(out, &ShownCase { file: &file, class, disposal_due });
    }
    write!(out, "{}", case_text(&file, class, at.zone))?;
    Ok(())
}

fn case_text(file: &CaseFile, class: Option<&Class>, zone: chrono_tz::Tz) -> String {
    use std::fmt::Write as _;
    let case = &file.case;
    let mut text = String::new();
    let _ = writeln!(text, "Case {}: {}", case.name, one_line(&title_of(case, class)));
    let class_words = class.map(rules::class_words).unwrap_or_else(|| format!("{} (not in the file plan)", case.code));
    let _ = writeln!(text, "Class:        {class_words}");
    let _ = writeln!(text, "Unit:         {}", case.unit.as_deref().unwrap_or("- (the registry)"));
    let _ = writeln!(text, "Opened:       {} by {}", local(&case.opened_at, zone), case.opened_by);
    match (&case.closed_on, &case.closed_by) {
        (Some(on), by) => {
            let reason = case.close_reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
            let _ = writeln!(text, "Closed:       {on} by {}{reason}", by.as_deref().unwrap_or("-"));
        }
        (None, _) => {
            let _ = writeln!(text, "Closed:       no, open");
        }
    }
    let _ = writeln!(text, "Disposal:     {}", due_words(case, class, zone));
    let _ = writeln!(text, "Documents:    {} ({} bytes)", case.documents, case.size);
    for d in &file.documents {
        let disposed = d.disposed_by.as_deref().map(|by| format!(" [disposed of by {by}]")).unwrap_or_default();
        let _ = writeln!(text, "  {}  {}  {:<12} {}{disposed}", d.number, local(&d.registered_at, zone), d.status, one_line(&d.subject));
    }
    let _ = writeln!(text, "History:");
    for e in &file.events {
        let detail = e.detail.as_deref().map(|d| format!(" {d}")).unwrap_or_default();
        let reason = e.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
        let _ = writeln!(text, "  {}  {:<24} {}{detail}{reason}", local(&e.at, zone), e.actor, e.action);
    }
    text
}

/// A named case's title, or a yearly case's class's.
fn title_of(case: &CaseRecord, class: Option<&Class>) -> String {
    case.title.clone().or_else(|| class.map(|c| c.title.clone())).unwrap_or_else(|| "-".into())
}

/// When the case's retention ends and what happens then, in words.
fn due_words(case: &CaseRecord, class: Option<&Class>, zone: chrono_tz::Tz) -> String {
    rules::disposal_words(class, class.and_then(|class| case.disposal_due(class, zone)))
}

async fn list(at: &Invocation<'_>, plan: &FilePlan, filter: &CaseFilter, json: bool, out: &mut impl Write) -> Result<()> {
    let cases = at.store.archive().list(filter).await?;
    if json {
        return write_json(out, &cases);
    }
    let rows: Vec<Vec<String>> = cases
        .iter()
        .map(|case| {
            vec![
                case.name.clone(),
                if case.is_open() { "open".into() } else { format!("closed {}", case.closed_on.as_deref().unwrap_or("")) },
                case.unit.clone().unwrap_or_else(|| "-".into()),
                case.documents.to_string(),
                case.size.to_string(),
                one_line(&title_of(case, plan.class(&case.code))),
            ]
        })
        .collect();
    write!(out, "{}", columns(&["CASE", "STATE", "UNIT", "DOCS", "BYTES", "TITLE"], &rows))?;
    writeln!(out, "{} case{}", cases.len(), if cases.len() == 1 { "" } else { "s" })?;
    Ok(())
}

/// Text from outside (a title, a subject) on one line: a line break in it cannot start a
/// line of its own.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Rows in aligned columns under a header.
fn columns(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut text = line(header.to_vec());
    for row in rows {
        text.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    text
}
