//! `chancery rules`: checking the routing rules in mail-rules/, and trying them on letters.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use super::Invocation;
use crate::config::Config;
use crate::core::time::{day_bounds, parse_day};
use crate::report;
use crate::rule_files;
use crate::service::{check_templates, load_rules};
use crate::store::ListFilter;

#[derive(Debug, Subcommand)]
pub(super) enum RulesCommand {
    /// Validate every rule file; errors as file:line: message.
    Check,
    /// Dry run: how the rules would route these .eml files. Stores nothing.
    Test {
        #[arg(required = true, value_name = "FILE.eml")]
        files: Vec<PathBuf>,
    },
    /// Dry run over registered documents: what each rule would route, and where that differs
    /// from what happened.
    Replay {
        /// From this day on (2026-12-15, 15.12.2026, today, yesterday, …).
        #[arg(long, value_name = "DATE")]
        since: String,
    },
}

pub(super) fn check(config: &Config) -> Result<i32> {
    match rule_files::load(&config.rules.dir) {
        Ok(book) => {
            if config.smtp.templates_dir.is_dir() {
                let templates = crate::smtp::load_templates(&config.smtp.templates_dir)?;
                if let Err(problem) = check_templates(&book, &templates) {
                    eprintln!("{problem}");
                    return Ok(1);
                }
            }
            println!("{}: {} rules, {} units: OK", config.rules.dir.display(), book.rule_count(), book.units().len());
            Ok(0)
        }
        Err(problem) => {
            // One line per problem, as `file:line: message`, for people and editors alike.
            eprintln!("{problem}");
            Ok(1)
        }
    }
}

pub(super) fn test(config: &Config, files: &[PathBuf]) -> Result<i32> {
    let book = rule_files::load(&config.rules.dir).map_err(|p| anyhow::anyhow!("{}", p.to_string().replace('\n', "; ")))?;
    let mut out = std::io::stdout().lock();
    for file in files {
        let raw = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        let letter = crate::core::letter::read_letter(&raw);
        write!(out, "{}", report::routing_text(&file.display().to_string(), &letter.subject, &book.route(&letter)))?;
    }
    Ok(0)
}

pub(super) async fn replay(at: &Invocation<'_>, since: &str, out: &mut impl Write) -> Result<()> {
    let Some(book) = load_rules(at.config)? else { bail!("rules are disabled (rules.enabled = false)") };
    let since = day_bounds(parse_day(since, at.now, at.zone).map_err(anyhow::Error::msg)?, at.zone).0;
    let documents = at.store.list(&ListFilter { since: Some(since), ..ListFilter::default() }).await?;
    let mut replay = report::Replay::default();
    for document in &documents {
        let letter = crate::core::letter::read_letter(&at.store.raw(&document.number).await?);
        replay.add(document, &book.route(&letter));
    }
    write!(out, "{}", replay.render())?;
    Ok(())
}
