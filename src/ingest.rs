//! Registering letters from files: `.eml` files, folders of them, and mbox files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};

use crate::core::intake::{IntakePolicy, Source};
use crate::core::letter::read_letter;
use crate::store::{Arrival, Outcome, Store};

/// How many letters share one transaction.
const BATCH: usize = 200;

/// ...or this many bytes, whichever comes first.
const BATCH_BYTES: usize = 16 * 1024 * 1024;

/// Shown with a progress bar from this many files on.
const PROGRESS_FROM: usize = 50;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IngestReport {
    pub registered: Vec<String>,
    pub already_registered: usize,
    pub flagged: usize,
}

/// One letter found on disk, not yet read.
struct Found {
    label: String,
    raw: Vec<u8>,
}

pub async fn ingest(store: &Store, policy: &IntakePolicy, paths: &[PathBuf]) -> Result<IngestReport> {
    let mut files = Vec::new();
    for path in paths {
        collect_files(path, &mut files)?;
    }
    let progress = if files.len() >= PROGRESS_FROM {
        let bar = ProgressBar::new(files.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} files {msg} ({eta} left)").unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut report = IngestReport::default();
    let mut pending: Vec<Found> = Vec::new();
    let mut pending_bytes = 0;
    // Files are read as the batches need them, so an import of any size fits in memory.
    for file in &files {
        let before = pending.len();
        read_file(file, &mut pending)?;
        pending_bytes += pending[before..].iter().map(|f| f.raw.len()).sum::<usize>();
        progress.inc(1);
        if pending.len() >= BATCH || pending_bytes >= BATCH_BYTES {
            register(store, policy, std::mem::take(&mut pending), &mut report).await?;
            pending_bytes = 0;
        }
    }
    if !pending.is_empty() {
        register(store, policy, pending, &mut report).await?;
    }
    progress.finish_and_clear();
    Ok(report)
}

async fn register(store: &Store, policy: &IntakePolicy, found: Vec<Found>, report: &mut IngestReport) -> Result<()> {
    let arrivals: Vec<Arrival> = found
        .into_iter()
        .map(|found| Arrival {
            letter: read_letter(&found.raw),
            raw: found.raw,
            source: Source::File { path: found.label },
            received_at: Utc::now(),
        })
        .collect();
    for outcome in store.register_incoming(arrivals, policy, Utc::now()).await? {
        match outcome {
            Outcome::Registered { number, flags } => {
                if !flags.is_empty() {
                    report.flagged += 1;
                }
                report.registered.push(number);
            }
            Outcome::SameLetter { .. } | Outcome::AlreadyRecorded { .. } => report.already_registered += 1,
        }
    }
    Ok(())
}

fn collect_files(path: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let metadata = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if metadata.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("cannot list {}", path.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let is_dir = entry.is_dir();
            let is_mail = entry.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("eml") || ext.eq_ignore_ascii_case("mbox"));
            if is_dir || is_mail {
                collect_files(&entry, files)?;
            }
        }
    } else {
        files.push(path.to_path_buf());
    }
    Ok(())
}

/// An mbox starts with a `From ` line; anything else is one message.
fn read_file(path: &Path, letters: &mut Vec<Found>) -> Result<()> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let label = path.display().to_string();
    if raw.starts_with(b"From ") {
        let messages = mail_parser::mailbox::mbox::MessageIterator::new(std::io::Cursor::new(raw));
        for (index, message) in messages.enumerate() {
            let message = message.map_err(|_| anyhow::anyhow!("{label}: mbox message {} is unreadable", index + 1))?;
            letters.push(Found { label: format!("{label}#{}", index + 1), raw: message.unwrap_contents() });
        }
    } else {
        letters.push(Found { label, raw });
    }
    Ok(())
}
