//! The scheduler: one task that sleeps until the earliest reminder is due, or until a sooner one
//! is scheduled (the store notifies it), then fires what is due (`store.reminders().fire_due`)
//! and sleeps again. The shape of mini-redis's expiry task: the store keeps the next firing time
//! of every reminder, indexed, so a wake-up costs what is due, not what exists.
//!
//! What came due while no instance ran fires at the first wake-up, marked late. Firing is exactly
//! once per step across instances (see `store/firing.rs`); the messages go out through the
//! outboxes, which retry. A firing claims nothing beyond its own transaction (the row is moved on
//! in the transaction that writes the messages), so an instance killed mid-firing leaves no claim
//! for the others to wait out: its transaction rolls back and the step fires at their next look.
//!
//! Beside it, the archive's clock (`CaseCloser`): it files what is not in a case yet and closes
//! the yearly cases at the cutoff, at start, at every cutoff and hourly in between (outgoing
//! letters without a classification wait for it). Closing is exactly once across instances
//! (`store/archive/filing.rs`).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};
use tracing::{info, warn};

use crate::core::archive::Cutoff;
use crate::core::remind::Policy;
use crate::store::{CatchUp, FiringReport, Store};

/// Reminders fired in one transaction; a wake-up with more due fires batch after batch.
const BATCH: u32 = 100;
/// The longest sleep: a reminder another instance (or `chancery chat`) scheduled is not
/// announced to this one. A look costs one indexed query.
const LONGEST_SLEEP: Duration = Duration::from_secs(10);
/// After the store failed: try again this much later.
const PAUSE_AFTER_ERROR: Duration = Duration::from_secs(5);

/// Where the scheduler's `now` comes from: the wall clock in service, tokio's (pausable) clock
/// in tests.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that starts at `start` and runs with tokio's time: paused and advanced in tests.
pub struct TokioClock {
    start: DateTime<Utc>,
    started: tokio::time::Instant,
}

impl TokioClock {
    pub fn starting_at(start: DateTime<Utc>) -> TokioClock {
        TokioClock { start, started: tokio::time::Instant::now() }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        self.start + chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default()
    }
}

/// What the scheduler needs of the store: the store itself in service, a list in the tests of
/// its sleeping and waking.
pub trait DueReminders: Send + Sync + 'static {
    /// Fires up to `limit` reminders due at `now`, each once.
    fn fire_due(&self, now: DateTime<Utc>, limit: u32) -> impl Future<Output = crate::store::Result<FiringReport>> + Send;
    /// When the next reminder is due.
    fn next_due(&self) -> impl Future<Output = crate::store::Result<Option<DateTime<Utc>>>> + Send;
    /// Gives each unit its weekly digest if it has none.
    fn ensure_digests(&self, units: &[String], now: DateTime<Utc>) -> impl Future<Output = crate::store::Result<()>> + Send;
    /// `wake` is to be told whenever a reminder is scheduled or moved.
    fn wake_on_change(&self, wake: Arc<Notify>);
}

/// The store with the policy its reminders fire by (`[reminders]`, the office's calendar, the
/// units' heads): what the scheduler fires in service.
#[derive(Clone)]
pub struct FiringStore {
    pub store: Store,
    pub policy: Arc<Policy>,
}

impl DueReminders for FiringStore {
    async fn fire_due(&self, now: DateTime<Utc>, limit: u32) -> crate::store::Result<FiringReport> {
        self.store.reminders().fire_due(&self.policy, now, limit).await
    }

    async fn next_due(&self) -> crate::store::Result<Option<DateTime<Utc>>> {
        self.store.reminders().next_due().await
    }

    async fn ensure_digests(&self, units: &[String], now: DateTime<Utc>) -> crate::store::Result<()> {
        self.store.reminders().ensure_digests(&self.policy, units, now).await
    }

    fn wake_on_change(&self, wake: Arc<Notify>) {
        self.store.wake_on_reminder(wake);
    }
}

/// The scheduler of one instance.
pub struct Scheduler<R: DueReminders = FiringStore> {
    store: R,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    /// Units that get a weekly digest.
    units: Vec<String>,
}

impl<R: DueReminders> Scheduler<R> {
    pub fn new(store: R, clock: Arc<dyn Clock>, units: Vec<String>) -> Scheduler<R> {
        let wake = Arc::new(Notify::new());
        store.wake_on_change(Arc::clone(&wake));
        Scheduler { store, clock, wake, units }
    }

    /// Fires reminders as they come due until `stopped` turns true.
    pub async fn run(self, mut stopped: watch::Receiver<bool>) -> anyhow::Result<()> {
        if let Err(error) = self.store.ensure_digests(&self.units, self.clock.now()).await {
            warn!(error = %crate::errors::one_line(&error), "cannot schedule the weekly digests");
        }
        loop {
            let pause = match self.fire_all_due().await {
                Ok(()) => self.sleep_for().await,
                Err(error) => {
                    warn!(error = %crate::errors::one_line(&error), "reminders could not be fired; trying again shortly");
                    PAUSE_AFTER_ERROR
                }
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = stopped.changed() => return Ok(()),
            }
            if *stopped.borrow() {
                return Ok(());
            }
        }
    }

    /// Fires everything due now, batch after batch.
    async fn fire_all_due(&self) -> crate::store::Result<()> {
        loop {
            let now = self.clock.now();
            let report = self.store.fire_due(now, BATCH).await?;
            if report.fired > 0 || report.taken_by_others > 0 {
                info!(
                    fired = report.fired,
                    messages = report.messages,
                    late = report.late,
                    taken_by_others = report.taken_by_others,
                    "reminders fired"
                );
            }
            if report.fired + report.taken_by_others < BATCH as usize {
                return Ok(());
            }
        }
    }

    /// Until the next reminder is due, at most `LONGEST_SLEEP`.
    async fn sleep_for(&self) -> Duration {
        match self.store.next_due().await {
            Ok(Some(at)) => (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO).min(LONGEST_SLEEP),
            Ok(None) => LONGEST_SLEEP,
            Err(error) => {
                warn!(error = %crate::errors::one_line(&error), "cannot read when the next reminder is due");
                PAUSE_AFTER_ERROR
            }
        }
    }
}

/// How often the archive's clock files what is not in a case yet, between cutoffs.
const FILING_INTERVAL: Duration = Duration::from_secs(3600);

/// What the archive's clock needs of the store: `Archive::catch_up` in service, a list in tests.
pub trait ArchiveCatchUp: Send + Sync + 'static {
    /// Files what is not in a case and closes the yearly cases whose cutoff has passed by `now`.
    fn catch_up(&self, now: DateTime<Utc>) -> impl Future<Output = crate::store::Result<CatchUp>> + Send;
}

/// The store with the file plan's default class and the cutoff, as `serve` started with them.
pub struct FilingStore {
    pub store: Store,
    pub default_class: String,
    pub cutoff: Cutoff,
}

impl ArchiveCatchUp for FilingStore {
    async fn catch_up(&self, now: DateTime<Utc>) -> crate::store::Result<CatchUp> {
        self.store.archive().catch_up(Some(&self.default_class), self.cutoff, now).await
    }
}

/// The archive's clock of one instance: sleeps until the next cutoff or an hour, whichever
/// comes first, and catches up.
pub struct CaseCloser<A: ArchiveCatchUp = FilingStore> {
    archive: A,
    clock: Arc<dyn Clock>,
    cutoff: Cutoff,
    zone: chrono_tz::Tz,
}

impl<A: ArchiveCatchUp> CaseCloser<A> {
    pub fn new(archive: A, clock: Arc<dyn Clock>, cutoff: Cutoff, zone: chrono_tz::Tz) -> CaseCloser<A> {
        CaseCloser { archive, clock, cutoff, zone }
    }

    /// Catches up at start, then at every cutoff and hourly, until `stopped` turns true.
    pub async fn run(self, mut stopped: watch::Receiver<bool>) -> anyhow::Result<()> {
        loop {
            let now = self.clock.now();
            let pause = match self.archive.catch_up(now).await {
                Ok(done) => {
                    if !done.closed.is_empty() {
                        info!(cases = %done.closed.join(", "), "yearly cases closed at the cutoff");
                    }
                    if done.filed > 0 {
                        info!(documents = done.filed, "documents filed into their cases");
                    }
                    self.sleep_for(now)
                }
                Err(error) => {
                    warn!(error = %crate::errors::one_line(&error), "the archive could not catch up; trying again shortly");
                    PAUSE_AFTER_ERROR
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stopped.changed() => return Ok(()),
            }
            if *stopped.borrow() {
                return Ok(());
            }
        }
    }

    /// Until the next cutoff, at most `FILING_INTERVAL`.
    fn sleep_for(&self, now: DateTime<Utc>) -> Duration {
        match self.cutoff.next_closing(now, self.zone) {
            Some(at) => (at - now).to_std().unwrap_or(Duration::ZERO).min(FILING_INTERVAL),
            None => FILING_INTERVAL,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Mutex, OnceLock};

    use super::*;

    /// Reminders in memory: what is due, and when each one fired by the scheduler's clock.
    #[derive(Default)]
    struct Board {
        due: Mutex<Vec<(&'static str, DateTime<Utc>)>>,
        fired: Mutex<Vec<(&'static str, DateTime<Utc>)>>,
        wake: OnceLock<Arc<Notify>>,
        wake_ups: std::sync::atomic::AtomicUsize,
    }

    impl Board {
        fn add(&self, name: &'static str, at: DateTime<Utc>) {
            self.due.lock().unwrap().push((name, at));
            if let Some(wake) = self.wake.get() {
                wake.notify_one();
            }
        }

        fn fired(&self) -> Vec<(&'static str, DateTime<Utc>)> {
            self.fired.lock().unwrap().clone()
        }
    }

    impl DueReminders for Arc<Board> {
        async fn fire_due(&self, now: DateTime<Utc>, limit: u32) -> crate::store::Result<FiringReport> {
            self.wake_ups.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut due = self.due.lock().unwrap();
            due.sort_by_key(|(_, at)| *at);
            let count = due.iter().take_while(|(_, at)| *at <= now).count().min(limit as usize);
            let ready: Vec<_> = due.drain(..count).collect();
            self.fired.lock().unwrap().extend(ready.iter().map(|(name, _)| (*name, now)));
            Ok(FiringReport { fired: ready.len(), messages: ready.len(), ..FiringReport::default() })
        }

        async fn next_due(&self) -> crate::store::Result<Option<DateTime<Utc>>> {
            Ok(self.due.lock().unwrap().iter().map(|(_, at)| *at).min())
        }

        async fn ensure_digests(&self, _units: &[String], _now: DateTime<Utc>) -> crate::store::Result<()> {
            Ok(())
        }

        fn wake_on_change(&self, wake: Arc<Notify>) {
            self.wake.set(wake).ok();
        }
    }

    fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn minutes(n: i64) -> chrono::Duration {
        chrono::Duration::minutes(n)
    }

    async fn started(board: &Arc<Board>) -> (watch::Sender<bool>, tokio::task::JoinHandle<anyhow::Result<()>>) {
        let scheduler = Scheduler::new(Arc::clone(board), Arc::new(TokioClock::starting_at(start())), Vec::new());
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(scheduler.run(stopped));
        tokio::task::yield_now().await;
        (stop, task)
    }

    #[tokio::test(start_paused = true)]
    async fn a_reminder_fires_once_at_its_time_not_before() {
        let board = Arc::new(Board::default());
        board.add("call the embassy", start() + minutes(10));
        let (stop, task) = started(&board).await;
        tokio::time::sleep(Duration::from_secs(9 * 60 + 59)).await;
        assert!(board.fired().is_empty(), "fired early: {:?}", board.fired());
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(board.fired(), [("call the embassy", start() + minutes(10))]);
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert_eq!(board.fired().len(), 1, "fired again: {:?}", board.fired());
        stop.send_replace(true);
        task.await.unwrap().unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_sooner_reminder_wakes_the_sleeping_scheduler() {
        let board = Arc::new(Board::default());
        board.add("later", start() + minutes(50));
        let (stop, _task) = started(&board).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
        // Due 2 s from now: without the wake-up it would fire only when the longest sleep (10 s)
        // ends.
        board.add("sooner", start() + chrono::Duration::seconds(7));
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(board.fired(), [("sooner", start() + chrono::Duration::seconds(7))]);
        stop.send_replace(true);
    }

    #[tokio::test(start_paused = true)]
    async fn what_came_due_while_stopped_fires_at_start_and_many_reminders_cost_one_wake_up_each_batch() {
        let board = Arc::new(Board::default());
        board.add("missed yesterday", start() - minutes(24 * 60));
        board.add("far ahead", start() + minutes(30 * 24 * 60));
        for _ in 0..250 {
            board.add("batch", start() - minutes(1));
        }
        let (stop, _task) = started(&board).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        let fired = board.fired();
        assert_eq!(fired.len(), 251);
        assert!(fired.iter().all(|(name, at)| *name != "far ahead" && *at == start()), "{fired:?}");
        // 100 per batch: three calls, and the idle hour that follows wakes only every longest
        // sleep, never in a busy loop.
        let before = board.wake_ups.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(before, 3);
        tokio::time::sleep(Duration::from_secs(3600)).await;
        let after = board.wake_ups.load(std::sync::atomic::Ordering::SeqCst);
        assert!((360..=361).contains(&(after - before)), "{} wake-ups in an idle hour", after - before);
        stop.send_replace(true);
    }

    /// Catch-ups in memory: when each came, by the closer's clock.
    #[derive(Default)]
    struct Ledger {
        calls: Mutex<Vec<DateTime<Utc>>>,
    }

    impl ArchiveCatchUp for Arc<Ledger> {
        async fn catch_up(&self, now: DateTime<Utc>) -> crate::store::Result<CatchUp> {
            self.calls.lock().unwrap().push(now);
            Ok(CatchUp::default())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_archive_catches_up_at_start_at_the_cutoff_to_the_second_and_hourly() {
        // 19:30 UTC on 31 December: the cutoff day ends at 20:00 UTC in Baku (UTC+4).
        let start = DateTime::parse_from_rfc3339("2026-12-31T19:30:00Z").unwrap().with_timezone(&Utc);
        let closes = Cutoff::default().closes_at(2026, chrono_tz::Asia::Baku).unwrap();
        let ledger = Arc::new(Ledger::default());
        let closer =
            CaseCloser::new(Arc::clone(&ledger), Arc::new(TokioClock::starting_at(start)), Cutoff::default(), chrono_tz::Asia::Baku);
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(closer.run(stopped));
        tokio::time::sleep(Duration::from_secs(29 * 60 + 59)).await;
        assert_eq!(*ledger.calls.lock().unwrap(), [start], "only at start before the cutoff");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(*ledger.calls.lock().unwrap(), [start, closes], "at the cutoff itself");
        tokio::time::sleep(Duration::from_secs(2 * 3600)).await;
        let calls = ledger.calls.lock().unwrap().clone();
        assert_eq!(calls[2..], [closes + chrono::Duration::hours(1), closes + chrono::Duration::hours(2)], "then hourly");
        stop.send_replace(true);
        task.await.unwrap().unwrap();
    }
}
