//! Registering letters from files: `.eml` files, folders of them, and mbox files.
//!
//! Unlike the listener, which registers whatever reaches the mailbox, an import refuses files
//! that are not mail (empty, binary, plain text) unless told to accept them: a person chose
//! those files, and a number spent on one can only be annulled. Messages over the size limit
//! are registered from their headers and flagged, as the listener does.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};

use crate::core::flags::ReviewFlag;
use crate::core::intake::{IntakePolicy, Source};
use crate::core::letter::{NotMail, check_mail, read_headers_only, read_letter};
use crate::core::remind::Policy;
use crate::store::{Arrival, Outcome, Store};

/// How many letters share one transaction.
const BATCH: usize = 200;

/// ...or this many bytes, whichever comes first.
const BATCH_BYTES: usize = 16 * 1024 * 1024;

/// Shown with a progress bar from this many files on.
const PROGRESS_FROM: usize = 50;

/// How files are taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestOptions {
    /// Register files that are not mail too (flagged `unparsed`), instead of refusing them.
    pub accept_unparsed: bool,
    /// Messages larger than this are registered from their headers and flagged `oversize`.
    pub max_message_bytes: u64,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IngestReport {
    pub registered: Vec<String>,
    pub already_registered: usize,
    pub flagged: usize,
    /// Files that are not mail and were not registered, with the reason.
    pub refused: Vec<(String, NotMail)>,
    /// Messages over the limit, registered from their headers: (file, number, size).
    pub oversize: Vec<(String, String, u64)>,
}

/// One letter found on disk, not yet read.
struct Found {
    label: String,
    raw: Vec<u8>,
    /// The whole message's size when `raw` holds only its header (it is over the limit).
    oversize: Option<u64>,
}

/// The most of a file's beginning read to find the header of an oversize message.
const HEAD_BYTES: usize = 1024 * 1024;

/// `reminders` is the policy the letters' due-date reminders are scheduled by.
pub async fn ingest(
    store: &Store,
    policy: &IntakePolicy,
    reminders: &Policy,
    paths: &[PathBuf],
    options: IngestOptions,
) -> Result<IngestReport> {
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
        read_file(file, options.max_message_bytes, &mut pending)?;
        if !options.accept_unparsed {
            // Nothing that is not mail spends a number unless the person importing says so.
            let mut kept = pending.split_off(before);
            kept.retain(|found| match check_mail(&found.raw) {
                Ok(()) => true,
                Err(why) => {
                    report.refused.push((found.label.clone(), why));
                    false
                }
            });
            pending.extend(kept);
        }
        pending_bytes += pending[before..].iter().map(|f| f.raw.len()).sum::<usize>();
        progress.inc(1);
        if pending.len() >= BATCH || pending_bytes >= BATCH_BYTES {
            register(store, (policy, reminders), options, std::mem::take(&mut pending), &mut report).await?;
            pending_bytes = 0;
        }
    }
    if !pending.is_empty() {
        register(store, (policy, reminders), options, pending, &mut report).await?;
    }
    progress.finish_and_clear();
    Ok(report)
}

async fn register(
    store: &Store,
    (policy, reminders): (&IntakePolicy, &Policy),
    options: IngestOptions,
    found: Vec<Found>,
    report: &mut IngestReport,
) -> Result<()> {
    let arrivals: Vec<Arrival> = found
        .into_iter()
        .map(|found| Arrival {
            letter: match found.oversize {
                Some(size) => read_headers_only(&found.raw, size, options.max_message_bytes),
                None => read_letter(&found.raw),
            },
            raw: found.raw,
            source: Source::File { path: found.label },
            received_at: Utc::now(),
        })
        .collect();
    // What the report needs of each letter; registering consumes the letters.
    let oversize: Vec<Option<(String, u64)>> = arrivals
        .iter()
        .map(|arrival| match (arrival.letter.flags.iter().find_map(oversize_of), &arrival.source) {
            (Some(size), Source::File { path }) => Some((path.clone(), size)),
            _ => None,
        })
        .collect();
    for (outcome, oversize) in store.register_incoming(arrivals, policy, reminders, Utc::now()).await?.into_iter().zip(oversize) {
        match outcome {
            Outcome::Registered { number, flags } => {
                if !flags.is_empty() {
                    report.flagged += 1;
                }
                if let Some((path, size)) = oversize {
                    report.oversize.push((path, number.clone(), size));
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

fn oversize_of(flag: &ReviewFlag) -> Option<u64> {
    match flag {
        ReviewFlag::Oversize { size, .. } => Some(*size),
        _ => None,
    }
}

/// An mbox starts with a `From ` line; anything else is one message. A message over `limit`
/// keeps only its header, as the listener fetches only the header of one: a file over the
/// limit is not read whole.
fn read_file(path: &Path, limit: u64, letters: &mut Vec<Found>) -> Result<()> {
    let label = path.display().to_string();
    let cannot_read = || format!("cannot read {}", path.display());
    let size = std::fs::metadata(path).with_context(cannot_read)?.len();
    let mut file = std::fs::File::open(path).with_context(cannot_read)?;
    let mut start = [0u8; 5];
    let started = read_up_to(&mut file, &mut start).with_context(cannot_read)?;
    let is_mbox = &start[..started] == b"From ";
    if size > limit && !is_mbox {
        let mut head = start[..started].to_vec();
        read_header(&mut file, &mut head).with_context(cannot_read)?;
        letters.push(Found { label, raw: head, oversize: Some(size) });
        return Ok(());
    }
    let mut raw = start[..started].to_vec();
    file.read_to_end(&mut raw).with_context(cannot_read)?;
    if is_mbox {
        let messages = mail_parser::mailbox::mbox::MessageIterator::new(std::io::Cursor::new(raw));
        for (index, message) in messages.enumerate() {
            let message = message.map_err(|_| anyhow::anyhow!("{label}: mbox message {} is unreadable", index + 1))?;
            let mut raw = message.unwrap_contents();
            let oversize = (raw.len() as u64 > limit).then(|| {
                let size = raw.len() as u64;
                raw.truncate(header_end(&raw).unwrap_or(raw.len().min(HEAD_BYTES)));
                size
            });
            letters.push(Found { label: format!("{label}#{}", index + 1), raw, oversize });
        }
    } else {
        letters.push(Found { label, raw, oversize: None });
    }
    Ok(())
}

/// Fills `buffer` as far as the file goes; returns how much was read.
fn read_up_to(file: &mut std::fs::File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Reads on until the blank line that ends the header (kept), or `HEAD_BYTES`.
fn read_header(file: &mut std::fs::File, head: &mut Vec<u8>) -> std::io::Result<()> {
    let mut chunk = vec![0u8; 64 * 1024];
    while head.len() < HEAD_BYTES {
        if let Some(end) = header_end(head) {
            head.truncate(end);
            return Ok(());
        }
        let n = file.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let end = header_end(head).unwrap_or(head.len().min(HEAD_BYTES));
    head.truncate(end);
    Ok(())
}

/// Where the header ends: just after the blank line that closes it.
fn header_end(raw: &[u8]) -> Option<usize> {
    let crlf = memchr::memmem::find(raw, b"\r\n\r\n").map(|i| i + 4);
    let lf = memchr::memmem::find(raw, b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_over_the_limit_is_read_only_to_the_end_of_its_header() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.eml");
        let header = b"From: a@x.org\r\nSubject: Big\r\nMessage-ID: <big@x.org>\r\n\r\n";
        let mut raw = header.to_vec();
        raw.extend(std::iter::repeat_n(b'x', 200_000));
        std::fs::write(&path, &raw).unwrap();
        let mut found = Vec::new();
        read_file(&path, 10_000, &mut found).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].raw, header);
        assert_eq!(found[0].oversize, Some(raw.len() as u64));
        let mut found = Vec::new();
        read_file(&path, raw.len() as u64, &mut found).unwrap();
        assert_eq!((found[0].raw.len(), found[0].oversize), (raw.len(), None), "at the limit the file is taken whole");
    }
}
