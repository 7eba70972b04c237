//! The scheduler: one task that sleeps until the earliest reminder is due, or until a sooner one
//! is scheduled (the store notifies it), then fires what is due (`store.reminders().fire_due`)
//! and sleeps again. The shape of mini-redis's expiry task: the store keeps the next firing time
//! of every reminder, indexed, so a wake-up costs what is due, not what exists.
//!
//! What came due while no instance ran fires at the first wake-up, marked late. Firing is exactly
//! once per step across instances (see `store/reminders.rs`); the messages go out through the
//! outboxes, which retry.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};
use tracing::{info, warn};

use crate::store::Store;

/// Reminders fired in one transaction; a wake-up with more due fires batch after batch.
const BATCH: u32 = 100;
/// The longest sleep: a reminder another instance scheduled is not announced to this one.
const LONGEST_SLEEP: Duration = Duration::from_secs(60);
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

/// The scheduler of one instance.
pub struct Scheduler {
    store: Store,
    clock: Arc<dyn Clock>,
    wake: Arc<Notify>,
    /// Units that get a weekly digest.
    units: Vec<String>,
}

impl Scheduler {
    pub fn new(store: Store, clock: Arc<dyn Clock>, units: Vec<String>) -> Scheduler {
        let wake = Arc::new(Notify::new());
        store.wake_on_reminder(Arc::clone(&wake));
        Scheduler { store, clock, wake, units }
    }

    /// Fires reminders as they come due until `stopped` turns true.
    pub async fn run(self, mut stopped: watch::Receiver<bool>) -> anyhow::Result<()> {
        if let Err(error) = self.store.reminders().ensure_digests(&self.units, self.clock.now()).await {
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
            let report = self.store.reminders().fire_due(now, BATCH).await?;
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
        match self.store.reminders().next_due().await {
            Ok(Some(at)) => (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO).min(LONGEST_SLEEP),
            Ok(None) => LONGEST_SLEEP,
            Err(error) => {
                warn!(error = %crate::errors::one_line(&error), "cannot read when the next reminder is due");
                PAUSE_AFTER_ERROR
            }
        }
    }
}
