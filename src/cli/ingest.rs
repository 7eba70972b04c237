//! `chancery ingest`: .eml files, folders of them, and mbox files into the register.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;

use super::Invocation;
use crate::core::intake::IntakePolicy;
use crate::ingest::{IngestOptions, IngestReport};
use crate::service::load_rules;

/// Registers what `paths` hold and says what became of it; exit status 1 when a file was
/// refused as not mail.
pub(super) async fn run(at: &Invocation<'_>, paths: &[PathBuf], accept_unparsed: bool, out: &mut impl Write) -> Result<i32> {
    let config = at.config;
    let policy = IntakePolicy { rules: load_rules(config)?.map(Arc::new), ..config.register.policy() };
    let options = IngestOptions { accept_unparsed, max_message_bytes: config.register.max_message_bytes() };
    let report = crate::ingest::ingest(at.store, &policy, &at.reminders, paths, options).await?;
    at.store.index_before_exit().await;
    write_summary(out, &report, options)?;
    if report.refused.is_empty() {
        return Ok(0);
    }
    out.flush()?;
    for (path, why) in &report.refused {
        eprintln!("chancery: {path}: not a mail message ({}); not registered; --accept-unparsed registers it anyway", why.as_str());
    }
    Ok(1)
}

fn write_summary(out: &mut impl Write, report: &IngestReport, options: IngestOptions) -> Result<()> {
    for (path, number, size) in &report.oversize {
        writeln!(
            out,
            "{path}: {size} bytes, over the {}-byte limit: registered from its headers as {number}, flagged oversize; \
             the file stays where it is",
            options.max_message_bytes
        )?;
    }
    writeln!(
        out,
        "registered {}, already registered {}, flagged for review {}, refused {}",
        report.registered.len(),
        report.already_registered,
        report.flagged,
        report.refused.len()
    )?;
    if let (Some(first), Some(last)) = (report.registered.first(), report.registered.last()) {
        writeln!(out, "numbers {first} .. {last}")?;
    }
    Ok(())
}
