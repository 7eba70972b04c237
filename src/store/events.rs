//! Chat messages taken to answer: `store.answered_events()`. With several instances on one
//! database, each logged in as the assistant, every instance sees every message; the one whose
//! insert of the event's ID succeeds answers it, the others stay silent.

use chrono::{DateTime, Duration, Utc};

use super::{Result, Store};
use crate::core::time::stamp;

/// How long an event's claim is kept: a homeserver redelivers only recent events.
const KEPT: Duration = Duration::days(7);

/// The answered events' view of the store.
pub struct AnsweredEvents<'a> {
    store: &'a Store,
}

impl Store {
    pub fn answered_events(&self) -> AnsweredEvents<'_> {
        AnsweredEvents { store: self }
    }
}

impl AnsweredEvents<'_> {
    /// Takes the event for `instance`: true when no instance had taken it.
    pub async fn claim(&self, event_id: &str, instance: &str, now: DateTime<Utc>) -> Result<bool> {
        let inserted =
            sqlx::query("INSERT INTO answered_events (event_id, instance, answered_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                .bind(event_id)
                .bind(instance)
                .bind(stamp(now))
                .execute(&self.store.pool)
                .await?
                .rows_affected();
        Ok(inserted == 1)
    }

    /// Forgets claims older than a week.
    pub async fn prune(&self, now: DateTime<Utc>) -> Result<u64> {
        let pruned =
            sqlx::query("DELETE FROM answered_events WHERE answered_at < $1").bind(stamp(now - KEPT)).execute(&self.store.pool).await?;
        Ok(pruned.rows_affected())
    }
}
