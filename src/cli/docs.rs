//! `chancery docs`: looking registered documents up, and the changes the registry makes by
//! hand (annulment, a new due date, another unit).

use std::io::Write;

use anyhow::{Result, bail};
use clap::Subcommand;

use super::{Invocation, canonical_number, terminal_width, unknown_unit, write_json};
use crate::core::status::parse_status;
use crate::core::time::{day_bounds, parse_day};
use crate::core::viewer::Viewer;
use crate::report::{self, FlagWords};
use crate::store::{DocumentRecord, ListFilter};

#[derive(Debug, Subcommand)]
pub(super) enum DocsCommand {
    /// List documents, oldest first: number, date, status, unit, correspondent (the sender of
    /// incoming letters, the recipients of outgoing ones), subject and review flags.
    List {
        #[arg(long)]
        json: bool,
        /// Only documents in this status: registered, answered, in-progress, closed, bounced,
        /// delivery-failed, annulled.
        #[arg(long)]
        status: Option<String>,
        /// The review queue: documents flagged for review (not annulled), with the flags in words.
        #[arg(long)]
        review: bool,
        /// Only documents registered on or after this day (2026-12-15, 15.12.2026, today, yesterday, …).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
    },
    /// Show one document with its attachments and history.
    Show {
        number: String,
        #[arg(long)]
        json: bool,
    },
    /// Write the original message, byte for byte, to standard output.
    Raw { number: String },
    /// Write an attachment (1 for the first, as `docs show` numbers them), byte for byte, to
    /// standard output; it is decoded from the original message and checked against its sha256.
    Attachment { number: String, position: i64 },
    /// Search subject, body and attachment names; a registration number finds its thread.
    ///
    /// Every word must begin a word of the document (`nominat` finds `nominations`); case, the
    /// Turkic i (i ı İ I) and ё/е do not matter, as in the routing rules. A number such as IN-2026-000123 lists
    /// that document and every document of its thread first.
    Search {
        #[arg(required = true)]
        text: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Mark an entry annulled; it stays in the register, with the reason.
    Annul {
        number: String,
        #[arg(long)]
        reason: String,
    },
    /// Give a letter a new due date (2026-12-15, 15.12.2026, next friday, in 2 weeks, …, in the
    /// office's zone; not in the past); recorded in its history, its reminders rescheduled.
    Due {
        number: String,
        /// The new due date; several words are read together (`next friday`).
        #[arg(required = true, num_args = 1..)]
        date: Vec<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Route a document to another unit by hand; recorded in its history. Its pending reminders
    /// go to the new unit's people (an assignee of another unit is released).
    Reroute {
        number: String,
        #[arg(long)]
        unit: String,
        #[arg(long)]
        reason: String,
    },
}

pub(super) async fn run(at: &Invocation<'_>, command: DocsCommand, out: &mut impl Write) -> Result<()> {
    let store = at.store;
    match command {
        DocsCommand::List { json, status, review, since } => list(at, json, status.as_deref(), review, since.as_deref(), out).await?,
        DocsCommand::Show { number, json } => show(at, &number, json, out).await?,
        DocsCommand::Raw { number } => out.write_all(&store.raw(&canonical_number(&number)?).await?)?,
        DocsCommand::Attachment { number, position } => {
            let attachment = store.attachment(&canonical_number(&number)?, position).await?;
            out.write_all(&attachment.content)?;
        }
        DocsCommand::Search { text, json } => {
            let documents = store.search(&text.join(" ")).await?;
            print_documents(out, documents, json, at.zone, FlagWords::Names)?;
        }
        DocsCommand::Annul { number, reason } => {
            let number = canonical_number(&number)?;
            store.annul(&number, &reason, &at.actor, at.now).await?;
            writeln!(out, "{number} annulled: {reason}")?;
        }
        DocsCommand::Due { number, date, reason } => change_due(at, &number, &date.join(" "), reason.as_deref(), out).await?,
        DocsCommand::Reroute { number, unit, reason } => reroute(at, &number, &unit, &reason, out).await?,
    }
    Ok(())
}

async fn list(
    at: &Invocation<'_>,
    json: bool,
    status: Option<&str>,
    review: bool,
    since: Option<&str>,
    out: &mut impl Write,
) -> Result<()> {
    let zone = at.zone;
    let status = status.map(parse_status).transpose().map_err(anyhow::Error::msg)?.map(str::to_string);
    let since = match since {
        Some(day) => Some(day_bounds(parse_day(day, at.now, zone).map_err(anyhow::Error::msg)?, zone).0),
        None => None,
    };
    let documents = at.store.list(&ListFilter { status, since, until: None, review }).await?;
    let words = if review { FlagWords::Sentences } else { FlagWords::Names };
    print_documents(out, documents, json, zone, words)
}

async fn show(at: &Invocation<'_>, number: &str, json: bool, out: &mut impl Write) -> Result<()> {
    let number = canonical_number(number)?;
    // The registry's console sees everything; a restricted entry's showing is recorded.
    let store = at.store;
    let (document, _) = store.documents().show(store.document(&number).await?, &Viewer::console_operator(&at.actor), at.now).await?;
    if json {
        write_json(out, &document)
    } else {
        write!(out, "{}", report::document_text(&document, at.zone))?;
        Ok(())
    }
}

async fn change_due(at: &Invocation<'_>, number: &str, date: &str, reason: Option<&str>, out: &mut impl Write) -> Result<()> {
    let number = canonical_number(number)?;
    let today = at.now.with_timezone(&at.zone).date_naive();
    let due_on = crate::core::dates::parse_date(date, today).map_err(anyhow::Error::msg)?;
    let before = at.store.documents().change_due(&at.reminders, &number, due_on, reason, &at.actor, at.now).await?;
    let was = before.map(|day| format!(" (it was {day})")).unwrap_or_default();
    writeln!(out, "{number} is now due on {due_on}{was}; its reminders are rescheduled")?;
    Ok(())
}

async fn reroute(at: &Invocation<'_>, number: &str, unit: &str, reason: &str, out: &mut impl Write) -> Result<()> {
    let number = canonical_number(number)?;
    if let Some(known) = unknown_unit(at.config, unit)? {
        bail!("there is no unit '{unit}' (units: {})", known.join(", "));
    }
    at.store.change(&number, "unit", unit, &at.actor, Some(reason), at.now).await?;
    writeln!(out, "{number} rerouted to {unit}: {reason}")?;
    Ok(())
}

fn print_documents(out: &mut impl Write, documents: Vec<DocumentRecord>, json: bool, zone: chrono_tz::Tz, words: FlagWords) -> Result<()> {
    // A list may be printed or passed on: the console's list viewer hides restricted subjects.
    let viewer = Viewer::console_list();
    let mut documents: Vec<DocumentRecord> = documents.into_iter().map(|d| d.seen_by(&viewer).0).collect();
    if json {
        write_json(out, &documents)
    } else {
        // A destroyed entry has no subject left: the table says what became of it instead.
        for document in &mut documents {
            if let Some(disposed) = &document.disposed {
                document.subject = format!("[{}]", disposed.line());
            }
        }
        // Fitted to a terminal; piped into a file or another program, nothing is cut.
        write!(out, "{}", report::document_table(&documents, zone, terminal_width(), words))?;
        Ok(())
    }
}
