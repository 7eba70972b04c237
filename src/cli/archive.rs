//! `chancery archive`: what the file plan says is due, disposal decisions (proposed by one
//! person, approved and carried out by another), their certificates, and reviews; `export` and
//! `import` of packages are `cli::package`'s.
//!
//! Every subcommand but `import` first brings the register up to date with the plan
//! (`archive_in_force`).
//! A refusal prints one line per reason on stderr, exits 1, and changes nothing.

use std::io::Write;

use anyhow::{Result, bail};
use clap::{Subcommand, ValueEnum};

use super::package::{self, ExportArgs, ImportArgs};
use super::{Invocation, acting_as, archive_in_force, write_json};
use crate::core::archive::Retention;
use crate::core::archive::disposal::DecisionName;
use crate::core::time::parse_day;
use crate::store::{DueCase, StoreError};

#[derive(Debug, Subcommand)]
pub(super) enum ArchiveCommand {
    #[command(flatten)]
    Decide(DecideCommand),
    Export(ExportArgs),
    Import(ImportArgs),
}

/// What the file plan makes due, and what people decide of it.
#[derive(Debug, Subcommand)]
pub(super) enum DecideCommand {
    /// The cases whose retention has ended by a day (today unless --as-of): their class,
    /// action (destroy, review, transfer), documents and bytes, and whatever stops their
    /// disposal (a hold, an open document, a review first).
    Due {
        /// The day to count to (2031-02-01, 01.02.2031, today, …), in the office's zone.
        #[arg(long = "as-of", value_name = "DATE")]
        as_of: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Disposal decisions: proposed by one person, approved and carried out by another.
    #[command(subcommand)]
    Dispose(DisposeCommand),
    /// The certificate of a decision: the decision, who proposed and approved it and when, and
    /// one line per erased document (number, class, dates, sha256, size; the subject, never
    /// for a document that was confidential or secret).
    Certificate {
        decision: String,
        #[arg(long, value_enum, default_value_t = Format::Md)]
        format: Format,
    },
    /// Give a closed case a new retention, counted from today (registrars and admins); it is
    /// written to the case's history. When that retention has run, the case is due again and
    /// its action is destroy (a transfer class stays a transfer).
    Review {
        case: String,
        /// The new retention: 5y, 18m, 90d, or permanent.
        #[arg(long)]
        keep: String,
        #[arg(long)]
        reason: String,
        #[arg(long = "as", value_name = "MXID")]
        person: String,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum DisposeCommand {
    /// Propose disposing of cases: each must be closed, due, not held, not permanent, not to
    /// be reviewed, with every document settled, and all with one action. Archivists,
    /// registrars and admins. Prints the decision's name alone on its last line.
    Propose {
        #[arg(required = true, value_name = "CASE")]
        cases: Vec<String>,
        #[arg(long = "as", value_name = "MXID")]
        person: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Approve decisions and carry them out, one transaction per case: each document's stored
    /// message, attachments, text and search entries are erased; its entry stays, with the sha256
    /// and size of what was destroyed. The approver must be an archivist or an admin, and not
    /// the proposer; everything is checked again first.
    Approve {
        #[arg(required = true, value_name = "DECISION")]
        decisions: Vec<String>,
        #[arg(long = "as", value_name = "MXID")]
        person: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum Format {
    Md,
    Json,
}

pub(super) async fn run(at: &Invocation<'_>, command: ArchiveCommand, out: &mut impl Write) -> Result<i32> {
    match command {
        ArchiveCommand::Decide(command) => decide(at, command, out).await,
        ArchiveCommand::Export(args) => package::export(at, args, out).await,
        ArchiveCommand::Import(args) => package::import(at, args, out).await,
    }
}

async fn decide(at: &Invocation<'_>, command: DecideCommand, out: &mut impl Write) -> Result<i32> {
    let plan = archive_in_force(at).await?;
    let archive = at.store.archive();
    match command {
        DecideCommand::Due { as_of, json } => {
            let as_of = match as_of {
                Some(text) => parse_day(&text, at.now, at.zone).map_err(anyhow::Error::msg)?,
                None => at.now.with_timezone(&at.zone).date_naive(),
            };
            let due = archive.due(&plan, as_of).await?;
            if json {
                write_json(out, &due)?
            } else {
                write_due(out, &due, as_of)?
            }
            Ok(0)
        }
        DecideCommand::Dispose(DisposeCommand::Propose { cases, person, reason }) => {
            let member = acting_as(at, &person).await?;
            match archive.propose(&plan, &cases, reason.as_deref(), &member, at.now).await {
                Ok(name) => {
                    writeln!(out, "proposed by {}: {}; an archivist or admin approves it with", member.id, cases.join(", "))?;
                    writeln!(out, "  chancery archive dispose approve {name} --as MXID")?;
                    writeln!(out, "{name}")?;
                    Ok(0)
                }
                Err(error) => write_refusal(error),
            }
        }
        DecideCommand::Dispose(DisposeCommand::Approve { decisions, person }) => {
            let member = acting_as(at, &person).await?;
            for decision in decisions {
                let name = decision_name(&decision)?;
                match archive.approve(&plan, &name, &member, at.now).await {
                    Ok(done) => {
                        let noun = if done.documents == 1 { "document" } else { "documents" };
                        writeln!(
                            out,
                            "{} approved by {} and carried out: {} {noun} of {} destroyed",
                            done.decision,
                            member.id,
                            done.documents,
                            done.cases.join(", ")
                        )?;
                    }
                    Err(error) => return write_refusal(error),
                }
            }
            Ok(0)
        }
        DecideCommand::Certificate { decision, format } => {
            let certificate = match archive.certificate(&decision_name(&decision)?).await {
                Ok(certificate) => certificate,
                Err(error) => return write_refusal(error),
            };
            match format {
                Format::Md => write!(out, "{}", certificate.to_markdown())?,
                Format::Json => write_json(out, &certificate)?,
            }
            Ok(0)
        }
        DecideCommand::Review { case, keep, reason, person } => {
            let member = acting_as(at, &person).await?;
            let keep: Retention = keep.parse().map_err(anyhow::Error::msg)?;
            match archive.review(&plan, &case, keep, &reason, &member, at.now).await {
                Ok(due) => {
                    let then = due.map_or_else(|| "it is kept permanently".to_string(), |day| format!("it is due on {day}"));
                    writeln!(out, "{} is kept for {keep} from today: {then}", case.trim())?;
                    Ok(0)
                }
                Err(error) => write_refusal(error),
            }
        }
    }
}

/// A decision's name as typed, in its one spelling.
fn decision_name(text: &str) -> Result<String> {
    match text.parse::<DecisionName>() {
        Ok(name) => Ok(name.to_string()),
        Err(problem) => bail!(problem),
    }
}

/// The archive's refusals, one line per reason on stderr, exit 1; any other error goes up.
pub(super) fn write_refusal(error: StoreError) -> Result<i32> {
    match error {
        StoreError::Refused(refusal) => {
            for line in refusal.to_string().lines() {
                eprintln!("chancery: {line}");
            }
            Ok(1)
        }
        other => Err(other.into()),
    }
}

fn write_due(out: &mut impl Write, due: &[DueCase], as_of: chrono::NaiveDate) -> Result<()> {
    if due.is_empty() {
        writeln!(out, "no case is due by {as_of}")?;
        return Ok(());
    }
    writeln!(out, "{:<16} {:<6} {:<9} {:<10} {:<10} {:>10} {:>12}", "case", "class", "retention", "due", "action", "documents", "bytes")?;
    for case in due {
        let day = case.due.map(|day| day.to_string()).unwrap_or_default();
        writeln!(
            out,
            "{:<16} {:<6} {:<9} {:<10} {:<10} {:>10} {:>12}",
            case.case, case.class, case.retention, day, case.action, case.documents, case.bytes
        )?;
        for stop in &case.stops {
            writeln!(out, "  stopped: {stop}")?;
        }
    }
    Ok(())
}
