//! `chancery register`: the registers kept for the record.

use std::io::Write;

use anyhow::Result;
use clap::{Subcommand, ValueEnum};

use super::{Invocation, write_json};
use crate::core::time::{day_bounds, parse_day};
use crate::report;
use crate::store::ListFilter;

#[derive(Debug, Subcommand)]
pub(super) enum RegisterCommand {
    /// The daily register: everything registered on one day.
    Daily {
        /// The day (2026-12-15, 15.12.2026, today, yesterday, …); today by default.
        #[arg(long, value_name = "D")]
        date: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum Format {
    Csv,
    Json,
}

pub(super) async fn run(at: &Invocation<'_>, command: RegisterCommand, out: &mut impl Write) -> Result<()> {
    let RegisterCommand::Daily { date, format } = command;
    let zone = at.zone;
    let day = parse_day(date.as_deref().unwrap_or("today"), at.now, zone).map_err(anyhow::Error::msg)?;
    let (start, end) = day_bounds(day, zone);
    let documents = at.store.list(&ListFilter { since: Some(start), until: Some(end), ..ListFilter::default() }).await?;
    let rows = report::daily_rows(documents, zone);
    match format {
        Format::Csv => report::write_daily_csv(out, &rows)?,
        Format::Json => write_json(out, &rows)?,
    }
    Ok(())
}
