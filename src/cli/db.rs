//! `chancery db`: the schema, and the copy of a SQLite register into PostgreSQL.

use std::io::Write;

use anyhow::{Context, Result};
use clap::Subcommand;

use super::Invocation;

#[derive(Debug, Subcommand)]
pub(super) enum DbCommand {
    /// Create or update the database schema.
    Migrate,
    /// Copy the SQLite register that database.url names into an empty PostgreSQL database,
    /// keeping every number, date and hash, then verify the copy; the register is only read.
    ///
    /// Refused (exit 1, one line, the target left empty) when the target holds tables or rows
    /// of its own, or when the copy fails or does not verify. The target is migrated first: an
    /// empty database and one with only the schema of `db migrate` are both fine. Afterwards
    /// point database.url at the PostgreSQL database.
    Copy {
        /// The PostgreSQL database to copy into (postgres://USER@HOST/DATABASE); it must exist.
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

pub(super) async fn migrate(at: &Invocation<'_>, out: &mut impl Write) -> Result<()> {
    at.store.migrate().await?;
    writeln!(out, "database schema is up to date")?;
    Ok(())
}

/// `db copy`: the SQLite register into PostgreSQL, and what was copied.
pub(super) async fn copy_register(source: &str, target: &str, zone: chrono_tz::Tz) -> Result<i32> {
    let report = crate::store::copy_register(source, target, zone).await.context("the register was not copied")?;
    let rows: u64 = report.tables.iter().map(|(_, rows)| rows).sum();
    let filled: Vec<String> = report.tables.iter().filter(|(_, rows)| *rows > 0).map(|(table, rows)| format!("{table} {rows}")).collect();
    let mut out = std::io::stdout().lock();
    writeln!(out, "copied {rows} rows of {} tables into PostgreSQL ({})", report.tables.len(), filled.join(", "))?;
    writeln!(out, "verified {} documents on the copy: every stored message and attachment matches the register", report.verified)?;
    writeln!(out, "to work on the copy, set database.url (or CHANCERY_DATABASE__URL) to the PostgreSQL URL")?;
    Ok(0)
}
