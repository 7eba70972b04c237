//! Registering what a catch-up downloaded: one transaction per batch, beside the IMAP session
//! rather than in its way, reporting the committed UIDs back for marking and the backlog on the
//! mailbox's lease.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result, anyhow};
use chrono::Utc;
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tracing::{debug, info, warn};

use super::stats::ListenerStats;
use crate::core::intake::Source;
use crate::core::letter::{read_headers_only, read_letter};
use crate::core::remind::Policy;
use crate::rule_files::PolicySource;
use crate::store::{Arrival, Outcome, Store};

/// A batch downloaded and waiting to be registered.
pub(super) struct Downloaded {
    pub(super) messages: Vec<(u32, Vec<u8>, Option<chrono::DateTime<Utc>>)>,
    pub(super) headers_only: bool,
    pub(super) sizes: Vec<u64>,
    /// Its share of the bytes in flight, given back once it is registered.
    pub(super) in_flight: OwnedSemaphorePermit,
}

/// Registers the batches of one catch-up of one mailbox.
pub(super) struct Registrar {
    pub(super) store: Store,
    pub(super) policy: PolicySource,
    /// When the due dates of what is registered are reminded.
    pub(super) reminders: Arc<Policy>,
    pub(super) mailbox: String,
    pub(super) uid_validity: u32,
    /// `max_message_bytes`: the limit oversize letters were read from their headers under.
    pub(super) limit: u64,
    pub(super) stats: Arc<ListenerStats>,
    pub(super) backlog: Option<Backlog>,
}

impl Registrar {
    /// Reads and registers downloaded batches one transaction each, reporting committed UIDs.
    pub(super) async fn run(mut self, mut batches: mpsc::Receiver<Downloaded>, committed: mpsc::UnboundedSender<Vec<u32>>) -> Result<()> {
        while let Some(batch) = batches.recv().await {
            let Downloaded { messages, headers_only, sizes, in_flight } = batch;
            let arrivals = self.read(messages, sizes, headers_only).await?;
            // What the log needs of each letter; registering consumes the letters.
            let seen: Vec<(u32, Option<usize>)> = arrivals
                .iter()
                .map(|a| {
                    let uid = if let Source::Imap { uid, .. } = a.source { uid } else { 0 };
                    (uid, a.letter.flags.iter().any(|f| f.name() == "oversize").then_some(a.letter.size))
                })
                .collect();
            let outcomes = self
                .store
                .register_incoming(arrivals, &self.policy.current(), &self.reminders, Utc::now())
                .await
                .context("registering letters")?;
            drop(in_flight);
            let uids = self.log(&seen, &outcomes);
            if let Some(backlog) = &mut self.backlog {
                backlog.remaining = backlog.remaining.saturating_sub(uids.len() as u64);
                backlog.report().await;
            }
            committed.send(uids).ok();
        }
        Ok(())
    }

    /// Reads the downloaded messages into letters. Reading MIME is CPU work: it is kept off the
    /// threads that drive IMAP and SQL.
    async fn read(
        &self,
        messages: Vec<(u32, Vec<u8>, Option<chrono::DateTime<Utc>>)>,
        sizes: Vec<u64>,
        headers_only: bool,
    ) -> Result<Vec<Arrival>> {
        let (mailbox, uid_validity, limit) = (self.mailbox.clone(), self.uid_validity, self.limit);
        tokio::task::spawn_blocking(move || {
            messages
                .into_iter()
                .zip(sizes)
                .map(|((uid, raw, received), size)| {
                    let letter = if headers_only { read_headers_only(&raw, size, limit) } else { read_letter(&raw) };
                    Arrival {
                        raw,
                        letter,
                        source: Source::Imap { mailbox: mailbox.clone(), uid_validity, uid },
                        received_at: received.unwrap_or_else(Utc::now),
                    }
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| anyhow!("reading letters failed: {e}"))
    }

    /// Counts and logs what became of each letter; returns the UIDs of the batch, all committed.
    fn log(&self, seen: &[(u32, Option<usize>)], outcomes: &[Outcome]) -> Vec<u32> {
        let mut uids = Vec::with_capacity(seen.len());
        for (&(uid, oversize), outcome) in seen.iter().zip(outcomes) {
            match outcome {
                Outcome::Registered { number, flags } => {
                    ListenerStats::add(&self.stats.registered, 1);
                    if flags.is_empty() {
                        debug!(uid, %number, "registered");
                    } else {
                        warn!(uid, %number, flags = %flags.join(","), "registered and flagged for review");
                    }
                }
                Outcome::SameLetter { number } => {
                    ListenerStats::add(&self.stats.same_letter, 1);
                    info!(uid, %number, "same bytes as a registered letter; not registered again");
                }
                Outcome::AlreadyRecorded { .. } => {}
            }
            if let Some(size) = oversize {
                warn!(uid, size, "oversize message registered from its headers and left in the mailbox");
            }
            uids.push(uid);
        }
        uids
    }
}

/// Letters seen waiting at this catch-up and not yet registered, written on the mailbox's
/// lease for `chancery status`.
pub(super) struct Backlog {
    pub(super) store: Store,
    pub(super) resource: String,
    pub(super) holder: String,
    pub(super) remaining: u64,
    /// What was written last, shared by the listener's catch-ups.
    pub(super) reported: Arc<AtomicU64>,
}

impl Backlog {
    pub(super) async fn report(&self) {
        if self.reported.load(Ordering::Relaxed) == self.remaining {
            return;
        }
        match self.store.instances().report_backlog(&self.resource, &self.holder, self.remaining, Utc::now()).await {
            Ok(()) => self.reported.store(self.remaining, Ordering::Relaxed),
            Err(error) => debug!(%error, "cannot record the backlog; status shows an older figure"),
        }
    }
}

/// A spawned task that ends when its handle is dropped.
pub(super) struct AbortOnDrop<T>(pub(super) tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
