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

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};
use tracing::{info, warn};

use crate::core::remind::Policy;
use crate::store::{FiringReport, Store};

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
}
