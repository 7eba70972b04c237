//! `chancery hold`: holds on a case, a document or a class, which stop any disposal of what
//! they cover until released.

use std::io::Write;

use anyhow::Result;
use clap::Subcommand;

use super::archive::write_refusal;
use super::{Invocation, acting_as, archive_in_force, canonical_number, write_json};
use crate::core::time::local;
use crate::store::{HoldRecord, HoldTarget};

#[derive(Debug, Subcommand)]
pub(super) enum HoldCommand {
    /// Place a hold: nothing it covers can be disposed of or transferred, whatever its
    /// retention says, until it is released. Registrars and admins. It is written to the
    /// history of what it covers (a class's: of each of its cases).
    Place {
        #[command(flatten)]
        target: Target,
        /// Why (a lawsuit, an audit, a request for information): kept with the hold.
        #[arg(long)]
        reason: String,
        /// Who places it: a registrar or admin in the staff directory.
        #[arg(long = "as", value_name = "MXID")]
        person: String,
    },
    /// The active holds (with --all, released ones too), oldest first.
    List {
        #[arg(long)]
        json: bool,
        #[arg(long)]
        all: bool,
    },
    /// Release a hold, with the reason; written to the history of what it covered.
    Release {
        id: i64,
        #[arg(long)]
        reason: String,
        #[arg(long = "as", value_name = "MXID")]
        person: String,
    },
}

/// What a hold covers: exactly one of a case, a document, a class.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub(super) struct Target {
    /// A case, e.g. 07-02/2025 or 03-02/2026-4.
    #[arg(long, value_name = "CASE")]
    case: Option<String>,
    /// A document, by its registration number.
    #[arg(long, value_name = "NUMBER")]
    doc: Option<String>,
    /// A class of the file plan, e.g. 03-02: every case of it, now and later.
    #[arg(long, value_name = "CODE")]
    class: Option<String>,
}

pub(super) async fn run(at: &Invocation<'_>, command: HoldCommand, out: &mut impl Write) -> Result<i32> {
    let plan = archive_in_force(at).await?;
    match command {
        HoldCommand::Place { target, reason, person } => {
            let member = acting_as(at, &person).await?;
            let target = match (target.case, target.doc, target.class) {
                (Some(case), _, _) => HoldTarget::Case(case.trim().to_string()),
                (_, Some(number), _) => HoldTarget::Document(canonical_number(&number)?),
                (_, _, Some(code)) => HoldTarget::Class(code.trim().to_string()),
                (None, None, None) => unreachable!("clap requires one of --case, --doc, --class"),
            };
            match at.store.archive().place_hold(&plan, &target, &reason, &member, at.now).await {
                Ok(hold) => {
                    writeln!(out, "hold {} placed on {}: {}", hold.id, hold.covers(), hold.reason)?;
                    Ok(0)
                }
                Err(error) => write_refusal(error),
            }
        }
        HoldCommand::List { json, all } => {
            let holds = at.store.archive().holds(all).await?;
            if json {
                write_json(out, &holds)?;
            } else {
                write_holds(out, &holds, at.zone)?;
            }
            Ok(0)
        }
        HoldCommand::Release { id, reason, person } => {
            let member = acting_as(at, &person).await?;
            match at.store.archive().release_hold(id, &reason, &member, at.now).await {
                Ok(hold) => {
                    writeln!(out, "hold {} on {} released: {reason}", hold.id, hold.covers())?;
                    Ok(0)
                }
                Err(error) => write_refusal(error),
            }
        }
    }
}

fn write_holds(out: &mut impl Write, holds: &[HoldRecord], zone: chrono_tz::Tz) -> Result<()> {
    if holds.is_empty() {
        writeln!(out, "no holds")?;
    }
    for hold in holds {
        let released = match (&hold.released_at, &hold.released_by) {
            (Some(at), Some(by)) => {
                format!("; released {} by {by} ({})", local(at, zone), hold.release_reason.as_deref().unwrap_or(""))
            }
            _ => String::new(),
        };
        writeln!(
            out,
            "{:>4}  {:<28} placed {} by {}: {}{released}",
            hold.id,
            hold.covers(),
            local(&hold.placed_at, zone),
            hold.placed_by,
            hold.reason
        )?;
    }
    Ok(())
}
