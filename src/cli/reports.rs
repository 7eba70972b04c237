//! `chancery report`: reports for the units' heads.

use std::io::Write;

use anyhow::Result;
use clap::{Subcommand, ValueEnum};

use super::{Invocation, assistant_units};
use crate::core::digest::{self, Window};

#[derive(Debug, Subcommand)]
pub(super) enum ReportCommand {
    /// The weekly digest per unit: letters received, routed, answered and overdue, and the
    /// visa and agreement deadlines ahead (the International Relations Office's); the same the
    /// units' heads get in Matrix and by e-mail.
    Weekly {
        /// Only this unit (an id of units.toml); every unit by default.
        #[arg(long)]
        unit: Option<String>,
        /// An ISO week in the office's zone, Monday to Monday (2026-W49); by default the 7 days
        /// ending now.
        #[arg(long, value_name = "YYYY-Www")]
        week: Option<String>,
        #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
        format: ReportFormat,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum ReportFormat {
    Md,
    Csv,
    Json,
}

pub(super) async fn run(at: &Invocation<'_>, command: ReportCommand, out: &mut impl Write) -> Result<i32> {
    let ReportCommand::Weekly { unit, week, format } = command;
    weekly(at, unit.as_deref(), week.as_deref(), format, out).await
}

/// `report weekly`: the digest of one unit or of each (`core::digest`), as Markdown, CSV or
/// JSON. A bad week or an unknown unit is one line on stderr and exit status 2, as clap reports
/// a bad argument.
async fn weekly(at: &Invocation<'_>, unit: Option<&str>, week: Option<&str>, format: ReportFormat, out: &mut impl Write) -> Result<i32> {
    let store = at.store;
    let window = match week {
        Some(text) => match Window::iso_week(text, at.reminders.zone) {
            Ok(window) => window,
            Err(problem) => {
                eprintln!("chancery: --week: {problem}");
                return Ok(2);
            }
        },
        None => Window::ending(at.now),
    };
    let units = digest_units(at).await?;
    let units = match unit {
        Some(unit) if units.iter().any(|known| known == unit) => vec![unit.to_string()],
        Some(unit) => {
            eprintln!("chancery: --unit: there is no unit '{unit}' (units: {})", units.join(", "));
            return Ok(2);
        }
        None => units,
    };
    let mut digests = Vec::new();
    for unit in &units {
        digests.push(store.digests().of_unit(&at.reminders, unit, window).await?);
    }
    match format {
        ReportFormat::Md => write!(out, "{}", digest::markdown(&digests))?,
        ReportFormat::Csv => write!(out, "{}", digest::csv(&digests).map_err(anyhow::Error::msg)?)?,
        ReportFormat::Json => writeln!(out, "{}", digest::json(&digests).map_err(anyhow::Error::msg)?)?,
    }
    Ok(0)
}

/// The units a digest is made for: those of the rules in force; without rules, the default
/// unit and whichever units letters were rerouted to.
async fn digest_units(at: &Invocation<'_>) -> Result<Vec<String>> {
    let mut units = assistant_units(at.config)?;
    if units.is_empty() {
        units = at.store.digests().units_in_use().await?;
        if !units.contains(&at.config.register.default_unit) {
            units.insert(0, at.config.register.default_unit.clone());
        }
    }
    Ok(units)
}
