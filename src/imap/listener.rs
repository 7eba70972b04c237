//! The listener: registers every letter in one mailbox exactly once.
//!
//! Progress is the set of (mailbox, UIDVALIDITY, UID) the store has committed, so a restart
//! downloads no body it registered before. A message is marked on the server only after its
//! registration is committed; a crash in between leaves it registered and unmarked, and the
//! next catch-up marks it without downloading it again.
//!
//! Under `serve`, the listener connects only while its instance holds the mailbox's lease
//! (`instance::LeaseWatch`), so that of several instances on one register exactly one keeps a
//! session. When the lease is lost, or its deadline passes without a renewal, the session and
//! the registration in flight are dropped at once, before the lease can run out.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use chrono::Utc;
use futures::TryStreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tracing::{debug, error, info, warn};

use super::batches::{Batch, Listed, in_flight_budget_kib, plan_batches};
use super::connect::{ImapContext, LoginRefused, Session, open_session};
use super::registrar::{AbortOnDrop, Backlog, Downloaded, Registrar};
use super::stats::ListenerStats;
use super::uid_set::compress;
use crate::config::{ImapConfig, MarkMode, Secret};
use crate::core::remind::Policy;
use crate::errors::one_line_of;
use crate::instance::LeaseWatch;
use crate::rule_files::PolicySource;
use crate::store::Store;

/// A session that lasted this long worked: the backoff after it starts again from 1 s.
const WORKED: Duration = Duration::from_secs(60);

/// What the listener does after a session ended in an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reconnect {
    /// Give up and report the error.
    Stop,
    After(Duration),
}

/// The decision after a failed session: `login_refused` by the server; `has_logged_in` at
/// least once in this run; `previous` wait before the session that failed (`None` when it ran
/// long enough to count as working); `longest` is `imap.reconnect_max_secs`.
fn reconnect(login_refused: bool, has_logged_in: bool, previous: Option<Duration>, longest: Duration) -> Reconnect {
    match (login_refused, has_logged_in) {
        // Refused from the start: the settings are wrong, and retrying would not fix them.
        (true, false) => Reconnect::Stop,
        // Refused after it worked: someone changed the password; retry rarely, never lock.
        (true, true) => Reconnect::After(longest),
        // The network, a restart of the server: capped exponential backoff from 1 s.
        (false, _) => Reconnect::After(previous.map_or(Duration::from_secs(1), |wait| (wait * 2).min(longest)).min(longest)),
    }
}

pub struct Listener {
    config: ImapConfig,
    password: Secret,
    store: Store,
    policy: PolicySource,
    reminders: Arc<Policy>,
    stats: Arc<ListenerStats>,
    /// The mailbox's lease: connect only while it is held. `None`: always connect.
    lease: Option<LeaseWatch>,
    /// The backlog last written to the lease's row, so that an idle catch-up writes nothing.
    reported_backlog: Arc<AtomicU64>,
}

impl Listener {
    /// `policy` is fixed, or follows the rules in force at each batch; `reminders` is for due dates.
    pub fn new(config: ImapConfig, password: Secret, store: Store, policy: impl Into<PolicySource>, reminders: Policy) -> Listener {
        Listener {
            config,
            password,
            store,
            policy: policy.into(),
            reminders: Arc::new(reminders),
            stats: Arc::default(),
            lease: None,
            reported_backlog: Arc::new(AtomicU64::new(u64::MAX)),
        }
    }

    /// Listens only while `lease` is held, and reports the backlog on it.
    pub fn with_lease(mut self, lease: LeaseWatch) -> Listener {
        self.lease = Some(lease);
        self
    }

    pub fn stats(&self) -> Arc<ListenerStats> {
        Arc::clone(&self.stats)
    }

    /// Runs until `shutdown` turns true, reconnecting with capped exponential backoff. A login
    /// the server refuses before any session of this run has opened ends the run with that
    /// error (`LoginRefused`): the settings are wrong, and `serve` says so and stops. Refused
    /// later (a password changed on the server), it is logged as an error and retried at the
    /// longest interval only, so that the retries do not lock the account.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        let Some(lease) = &self.lease else { return self.listen(&mut shutdown).await };
        let mut lease = lease.clone();
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let held = tokio::select! {
                held = lease.held() => held,
                _ = shutdown.changed() => return Ok(()),
            };
            if !held {
                return Ok(()); // the lease keeper is gone: `serve` is stopping
            }
            info!(mailbox = %self.config.mailbox, "this instance holds the mailbox's lease; connecting");
            let mut session_shutdown = shutdown.clone();
            tokio::select! {
                outcome = self.listen(&mut session_shutdown) => return outcome,
                _ = lease.lost() => {}
            }
            ListenerStats::add(&self.stats.leases_lost, 1);
            warn!(
                mailbox = %self.config.mailbox,
                "the mailbox's lease is no longer ours (not renewed, or taken): IMAP session dropped, registering stopped"
            );
        }
    }

    /// Listens until `shutdown`, reconnecting as `run` says.
    async fn listen(&self, shutdown: &mut watch::Receiver<bool>) -> Result<()> {
        let longest = Duration::from_secs(self.config.reconnect_max_secs.max(1));
        let mut previous = None;
        loop {
            let started = Instant::now();
            let error = match self.session(shutdown).await {
                Ok(()) => return Ok(()),
                Err(error) => error,
            };
            if started.elapsed() > WORKED {
                previous = None;
            }
            let refused = error.downcast_ref::<LoginRefused>().is_some();
            let has_logged_in = self.stats.sessions.load(Ordering::Relaxed) > 0;
            let wait = match reconnect(refused, has_logged_in, previous, longest) {
                Reconnect::Stop => return Err(error),
                Reconnect::After(wait) => wait,
            };
            if refused {
                error!(
                    retry_in = ?wait,
                    "{}; trying again every {} s only, so that the retries do not lock the account",
                    one_line_of(&error),
                    wait.as_secs()
                );
            } else {
                warn!(error = %one_line_of(&error), retry_in = ?wait, "IMAP session ended; reconnecting");
            }
            previous = Some(wait);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return Ok(()),
            }
        }
    }

    async fn session(&self, shutdown: &mut watch::Receiver<bool>) -> Result<()> {
        let mut session = open_session(&self.config, &self.password).await?;
        ListenerStats::add(&self.stats.sessions, 1);
        let capabilities = session.capabilities().await.imap_context("asking for the capabilities")?;
        let can_idle = capabilities.has_str("IDLE");
        if self.config.mark == MarkMode::Move {
            // Creating a folder that exists fails harmlessly.
            session.create(&self.config.move_to).await.ok();
        }
        let mailbox =
            session.select(&self.config.mailbox).await.with_imap_context(|| format!("cannot open mailbox {}", self.config.mailbox))?;
        let uid_validity = mailbox.uid_validity.ok_or_else(|| anyhow!("the server gave no UIDVALIDITY for {}", self.config.mailbox))?;
        info!(mailbox = %self.config.mailbox, uid_validity, idle = can_idle, "IMAP session open");

        let mut highest = 0;
        loop {
            // Mail that arrives while we fetch or mark is announced then (EXISTS), not in the
            // IDLE that follows: catch up again until a catch-up passes without news.
            loop {
                drain_announcements(&mut session);
                highest = highest.max(self.catch_up(&mut session, uid_validity, highest + 1, shutdown).await?);
                if !drain_announcements(&mut session) || *shutdown.borrow() {
                    break;
                }
            }
            self.update_search_index().await;
            if *shutdown.borrow() {
                session.logout().await.ok();
                return Ok(());
            }
            if can_idle {
                let mut idle = session.idle();
                idle.init().await.imap_context("IDLE")?;
                let renew = Duration::from_secs(self.config.idle_renew_secs.max(1));
                let woke = {
                    let (wait, _stop) = idle.wait_with_timeout(renew);
                    tokio::select! {
                        outcome = wait => Some(outcome.imap_context("while idling")?),
                        _ = shutdown.changed() => None,
                    }
                };
                debug!(?woke, "IDLE ended");
                session = idle.done().await.imap_context("ending IDLE")?;
            } else {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(self.config.poll_secs.max(1))) => {}
                    _ = shutdown.changed() => {}
                }
                session.noop().await.imap_context("NOOP")?;
            }
            if *shutdown.borrow() {
                session.logout().await.ok();
                return Ok(());
            }
        }
    }

    /// Brings the full-text index up to date; registration never waits for it, and a failure
    /// here only delays search: the letters stay queued for `serve`'s indexer or the next
    /// catch-up.
    async fn update_search_index(&self) {
        let started = Instant::now();
        let mut indexed = 0;
        loop {
            match self.store.index_pending(1000).await {
                Ok(0) => break,
                Ok(n) => indexed += n,
                Err(error) => {
                    warn!(%error, "updating the search index failed; search will catch up");
                    break;
                }
            }
        }
        if indexed > 0 {
            info!(
                documents = indexed,
                elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "search index updated"
            );
        }
    }

    /// Registers every message from `from_uid` on that is not yet in the store, then marks
    /// what is committed. Returns the highest UID seen. A shutdown stops it between batches.
    async fn catch_up(&self, session: &mut Session, uid_validity: u32, from_uid: u32, shutdown: &watch::Receiver<bool>) -> Result<u32> {
        let started = Instant::now();
        let bytes_before = self.stats.body_bytes_fetched.load(Ordering::Relaxed);
        let listing = list_messages(session, from_uid.max(1), &self.config.keyword).await?;
        let highest = listing.iter().map(|m| m.uid).max().unwrap_or(from_uid.saturating_sub(1));
        let recorded = self.store.recorded_uids(&self.config.mailbox, uid_validity, from_uid).await?;

        let to_mark: Vec<u32> = listing
            .iter()
            .filter(|m| recorded.contains(&m.uid) && (self.config.mark == MarkMode::Move || !m.marked))
            .map(|m| m.uid)
            .collect();
        let fresh: Vec<Listed> = listing.iter().filter(|m| !recorded.contains(&m.uid)).copied().collect();
        let backlog = self.lease.as_ref().map(|lease| Backlog {
            store: self.store.clone(),
            resource: lease.resource.clone(),
            holder: lease.holder.clone(),
            remaining: fresh.len() as u64,
            reported: Arc::clone(&self.reported_backlog),
        });
        if let Some(backlog) = &backlog {
            backlog.report().await;
        }
        if fresh.is_empty() && to_mark.is_empty() {
            ListenerStats::add(&self.stats.catch_ups, 1);
            return Ok(highest);
        }
        if !to_mark.is_empty() {
            self.mark(session, &to_mark).await?;
        }
        self.register_fresh(session, uid_validity, &fresh, backlog, shutdown).await?;
        ListenerStats::add(&self.stats.catch_ups, 1);
        info!(
            mailbox = %self.config.mailbox,
            new = fresh.len(),
            body_bytes = self.stats.body_bytes_fetched.load(Ordering::Relaxed) - bytes_before,
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "catch-up done"
        );
        Ok(highest)
    }

    /// Downloads the fresh messages batch by batch while the registrar registers the batches
    /// before them, and marks each batch on the server once its registration is committed.
    async fn register_fresh(
        &self,
        session: &mut Session,
        uid_validity: u32,
        fresh: &[Listed],
        backlog: Option<Backlog>,
        shutdown: &watch::Receiver<bool>,
    ) -> Result<()> {
        // Oversize messages stay unmarked; a registered one is recognised by its UID.
        let oversize: HashSet<u32> = fresh.iter().filter(|m| m.size > self.config.max_message_bytes()).map(|m| m.uid).collect();
        let (batches_tx, batches_rx) = mpsc::channel::<Downloaded>(2);
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Vec<u32>>();
        let registrar = Registrar {
            store: self.store.clone(),
            policy: self.policy.clone(),
            reminders: Arc::clone(&self.reminders),
            mailbox: self.config.mailbox.clone(),
            uid_validity,
            limit: self.config.max_message_bytes(),
            stats: Arc::clone(&self.stats),
            backlog,
        };
        // Aborted if this catch-up is dropped (the lease was lost): nothing more is registered.
        let mut registering = AbortOnDrop(tokio::spawn(registrar.run(batches_rx, done_tx)));

        let mut failure = None;
        let budget_kib = in_flight_budget_kib(&self.config);
        let in_flight = Arc::new(Semaphore::new(budget_kib as usize));
        for batch in plan_batches(fresh, self.config.fetch_batch_bytes, self.config.max_message_bytes()) {
            if *shutdown.borrow() {
                break;
            }
            let batch_kib = u32::try_from(batch.listed_bytes().div_ceil(1024)).unwrap_or(u32::MAX).clamp(1, budget_kib);
            // Waits while earlier batches are being registered; the registrar gives permits back.
            let Ok(permit) = Arc::clone(&in_flight).acquire_many_owned(batch_kib).await else { break };
            let downloaded = match self.download(session, &batch, permit).await {
                Ok(d) => d,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            };
            if batches_tx.send(downloaded).await.is_err() {
                break; // the registrar failed; its error is reported below
            }
            self.mark_committed(session, &mut done_rx, &oversize).await?;
        }
        drop(batches_tx);
        let registered = (&mut registering.0).await.map_err(|e| anyhow!("registrar task failed: {e}"))?;
        self.mark_committed(session, &mut done_rx, &oversize).await?;
        registered?;
        failure.map_or(Ok(()), Err)
    }

    /// Marks on the server what the registrar has committed so far, except oversize messages.
    async fn mark_committed(
        &self,
        session: &mut Session,
        committed: &mut mpsc::UnboundedReceiver<Vec<u32>>,
        oversize: &HashSet<u32>,
    ) -> Result<()> {
        let mut to_mark = Vec::new();
        while let Ok(uids) = committed.try_recv() {
            to_mark.extend(uids.into_iter().filter(|uid| !oversize.contains(uid)));
        }
        if to_mark.is_empty() { Ok(()) } else { self.mark(session, &to_mark).await }
    }

    async fn download(&self, session: &mut Session, batch: &Batch, in_flight: OwnedSemaphorePermit) -> Result<Downloaded> {
        let query = if batch.headers_only { "(UID INTERNALDATE BODY.PEEK[HEADER])" } else { "(UID INTERNALDATE BODY.PEEK[])" };
        let set = compress(&batch.uids);
        let mut messages = Vec::with_capacity(batch.uids.len());
        {
            let mut stream = session.uid_fetch(&set, query).await.imap_context("UID FETCH")?;
            while let Some(fetch) = stream.try_next().await.imap_context("reading FETCH")? {
                let Some(uid) = fetch.uid else { continue };
                let bytes = if batch.headers_only { fetch.header() } else { fetch.body() };
                let Some(bytes) = bytes else {
                    warn!(uid, "the server returned no content for a message; it will be tried again");
                    continue;
                };
                if !batch.headers_only {
                    ListenerStats::add(&self.stats.bodies_fetched, 1);
                    ListenerStats::add(&self.stats.body_bytes_fetched, bytes.len() as u64);
                }
                let received = fetch.internal_date().map(|d| d.with_timezone(&Utc));
                messages.push((uid, bytes.to_vec(), received));
            }
        }
        let sizes = messages.iter().map(|(uid, _, _)| batch.size_of(*uid)).collect();
        Ok(Downloaded { messages, headers_only: batch.headers_only, sizes, in_flight })
    }

    async fn mark(&self, session: &mut Session, uids: &[u32]) -> Result<()> {
        let set = compress(uids);
        match self.config.mark {
            MarkMode::Keyword => {
                let query = format!("+FLAGS.SILENT ({})", self.config.keyword);
                let stream = session.uid_store(&set, &query).await.imap_context("UID STORE")?;
                let _: Vec<_> = stream.try_collect().await.imap_context("UID STORE")?;
            }
            MarkMode::Move => session.uid_mv(&set, &self.config.move_to).await.imap_context("UID MOVE")?,
        }
        debug!(count = uids.len(), "marked on the server");
        Ok(())
    }
}

/// Empties the session's queue of unsolicited responses; true if new mail was announced.
fn drain_announcements(session: &mut Session) -> bool {
    let mut announced = false;
    while let Ok(response) = session.unsolicited_responses.try_recv() {
        announced |=
            matches!(response, async_imap::types::UnsolicitedResponse::Exists(_) | async_imap::types::UnsolicitedResponse::Recent(_));
    }
    announced
}

/// Lists UIDs, sizes and whether the keyword is set, without downloading any body.
async fn list_messages(session: &mut Session, from_uid: u32, keyword: &str) -> Result<Vec<Listed>> {
    let mut listed = Vec::new();
    let mut stream = session.uid_fetch(format!("{from_uid}:*"), "(UID RFC822.SIZE FLAGS)").await.imap_context("listing the mailbox")?;
    while let Some(fetch) = stream.try_next().await.imap_context("listing the mailbox")? {
        let Some(uid) = fetch.uid else { continue };
        // `N:*` always names the last message, even when its UID is below N.
        if uid < from_uid {
            continue;
        }
        let marked = fetch.flags().any(|flag| matches!(flag, async_imap::types::Flag::Custom(ref k) if k.eq_ignore_ascii_case(keyword)));
        listed.push(Listed { uid, size: u64::from(fetch.size.unwrap_or(0)), marked });
    }
    listed.sort_by_key(|m| m.uid);
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_login_stops_at_start_and_waits_longest_later() {
        let (second, longest) = (Duration::from_secs(1), Duration::from_secs(60));
        assert_eq!(reconnect(true, false, None, longest), Reconnect::Stop, "never logged in: the settings are wrong");
        assert_eq!(reconnect(true, false, Some(second * 8), longest), Reconnect::Stop, "the server was down, then refused");
        assert_eq!(reconnect(true, true, None, longest), Reconnect::After(longest), "worked before: straight to the longest wait");
        assert_eq!(reconnect(true, true, Some(second), longest), Reconnect::After(longest));
    }

    #[test]
    fn other_failures_back_off_exponentially_up_to_the_cap() {
        let longest = Duration::from_secs(60);
        let mut previous = None;
        let mut waits = Vec::new();
        for _ in 0..9 {
            let Reconnect::After(wait) = reconnect(false, false, previous, longest) else { panic!("a network failure never stops") };
            waits.push(wait.as_secs());
            previous = Some(wait);
        }
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(reconnect(false, true, None, longest), Reconnect::After(Duration::from_secs(1)), "after a session that worked");
        assert_eq!(reconnect(false, true, Some(longest), Duration::from_secs(1)), Reconnect::After(Duration::from_secs(1)));
        // A refused login that waited the longest is followed by no shorter wait.
        assert_eq!(reconnect(false, true, Some(longest), longest), Reconnect::After(longest));
    }
}
