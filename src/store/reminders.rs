//! Reminders: `store.reminders()`. Each row carries the time it fires next (`due_at`, indexed
//! while active), so a wake-up reads only what is due, however many reminders exist.
//!
//! Firing them (`fire_due`) is `store/firing.rs`'s: it reads what each is about from the other
//! areas, which schedule and close reminders here. This module reads and writes the reminders'
//! own rows only, so nothing it holds leads back to those areas.
//!
//! Other store modules schedule and close reminders in their own transactions
//! (`schedule_deadline_in`, `schedule_at_in`, `close_subject_in`): a visa case and its reminders
//! are written together or not at all.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};
use tokio::sync::Notify;

use super::rows::integer;
use super::{Backend, Refusal, Result, Store, StoreError};
use crate::core::reference::Reference;
use crate::core::remind::{Kind, Policy, Reminder};
use crate::core::time::{parse_stamp, stamp};

const COLUMNS: &str = "id, kind, subject_id, subject_key, deadline, step, due_at, status, owner, target, body, created_at, \
     last_fired_at, closed_at, closed_by FROM reminders";

/// A reminder as it stands (`!reminders`): what the scheduler fires, and its life so far.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReminderRecord {
    #[serde(flatten)]
    pub reminder: Reminder,
    /// `active`, `done` or `cancelled`.
    pub status: String,
    pub created_at: String,
    pub last_fired_at: Option<String>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
}

/// The reminders' view of the store.
pub struct Reminders<'a> {
    pub(super) store: &'a Store,
}

impl Store {
    pub fn reminders(&self) -> Reminders<'_> {
        Reminders { store: self }
    }

    /// The scheduler's wake-up: whatever schedules a reminder notifies it, so a reminder sooner
    /// than the one it sleeps for is not missed.
    pub fn wake_on_reminder(&self, waker: Arc<Notify>) {
        self.reminder_waker.set(waker);
    }

    /// Tells the scheduler, if one runs, that reminders were committed.
    pub(super) fn reminder_committed(&self) {
        self.reminder_waker.wake();
    }
}

/// Schedules a reminder counted from an office date (`deadline`), inside the caller's
/// transaction; `None` when none of its firings is still ahead.
#[allow(clippy::too_many_arguments)]
pub(super) async fn schedule_deadline_in(
    tx: &mut Transaction<'static, Any>,
    policy: &Policy,
    kind: Kind,
    subject_id: i64,
    deadline: NaiveDate,
    visa_kind: Option<&str>,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let Some(due_at) = policy.next_firing(kind, visa_kind, deadline, now) else { return Ok(None) };
    let id = insert_in(tx, kind, Some(subject_id), Some(deadline), due_at, owner, None, None, now).await?;
    Ok(Some(id))
}

/// Schedules a reminder at an instant (a personal one, a meeting's agenda pack) inside the
/// caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(super) async fn schedule_at_in(
    tx: &mut Transaction<'static, Any>,
    kind: Kind,
    subject_id: Option<i64>,
    due_at: DateTime<Utc>,
    owner: &str,
    target: Option<&str>,
    body: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64> {
    insert_in(tx, kind, subject_id, None, due_at, owner, target, body, now).await
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_in(
    tx: &mut Transaction<'static, Any>,
    kind: Kind,
    subject_id: Option<i64>,
    deadline: Option<NaiveDate>,
    due_at: DateTime<Utc>,
    owner: &str,
    target: Option<&str>,
    body: Option<&str>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO reminders (kind, subject_id, deadline, step, due_at, status, owner, target, body, created_at) \
         VALUES ($1, $2, $3, 0, $4, 'active', $5, $6, $7, $8) RETURNING id",
    )
    .bind(kind.as_str())
    .bind(subject_id)
    .bind(deadline.map(|day| day.to_string()))
    .bind(stamp(due_at))
    .bind(owner)
    .bind(target)
    .bind(body)
    .bind(stamp(now))
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get(0)?)
}

/// Ends the active reminders of these kinds about one subject (a visa case closed, an agreement
/// renewed): they fire no more.
pub(super) async fn close_subject_in(
    tx: &mut Transaction<'static, Any>,
    kinds: &[Kind],
    subject_id: i64,
    by: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    end_subject_in(tx, kinds, subject_id, "done", by, now).await
}

/// Ends the active reminders of these kinds about one subject as `done` (its matter settled)
/// or `cancelled` (called off: a meeting cancelled, a due date replaced), with who did it.
pub(super) async fn end_subject_in(
    tx: &mut Transaction<'static, Any>,
    kinds: &[Kind],
    subject_id: i64,
    status: &str,
    by: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    let mut closed = 0;
    for kind in kinds {
        closed += sqlx::query(
            "UPDATE reminders SET status = $5, closed_at = $1, closed_by = $2 \
             WHERE kind = $3 AND subject_id = $4 AND status = 'active'",
        )
        .bind(stamp(now))
        .bind(by)
        .bind(kind.as_str())
        .bind(subject_id)
        .bind(status)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(closed)
}

impl Reminders<'_> {
    /// A personal reminder: `target` is a Matrix ID (a direct message) or a room ID or alias.
    pub async fn add_personal(&self, owner: &str, target: &str, due_at: DateTime<Utc>, body: &str, now: DateTime<Utc>) -> Result<i64> {
        let mut tx = self.store.begin_write().await?;
        let id = schedule_at_in(&mut tx, Kind::Personal, None, due_at, owner, Some(target), Some(body), now).await?;
        tx.commit().await?;
        self.store.reminder_committed();
        Ok(id)
    }

    pub async fn get(&self, id: i64) -> Result<ReminderRecord> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.store.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(Reference::Reminder(id)))?;
        record_from_row(&row)
    }

    /// The active reminders a person set or is in charge of, soonest first.
    pub async fn of_owner(&self, owner: &str) -> Result<Vec<ReminderRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} WHERE owner = $1 AND status = 'active' AND kind <> 'digest' ORDER BY due_at, id"
        )))
        .bind(owner)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// The active reminders about one subject (a visa case's, an agreement's), soonest first.
    pub async fn of_subject(&self, kinds: &[Kind], subject_id: i64) -> Result<Vec<ReminderRecord>> {
        let mut found = Vec::new();
        for kind in kinds {
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT {COLUMNS} WHERE kind = $1 AND subject_id = $2 AND status = 'active' ORDER BY due_at, id"
            )))
            .bind(kind.as_str())
            .bind(subject_id)
            .fetch_all(&self.store.pool)
            .await?;
            for row in &rows {
                found.push(record_from_row(row)?);
            }
        }
        found.sort_by_key(|r| (r.reminder.due_at, r.reminder.id));
        Ok(found)
    }

    /// Ends a reminder (`done` when its matter is settled, `cancelled` when it was not wanted).
    /// Refused when it has ended already.
    pub async fn close(&self, id: i64, status: &str, by: &str, now: DateTime<Utc>) -> Result<ReminderRecord> {
        let status = if status == "cancelled" { "cancelled" } else { "done" };
        let changed = sqlx::query("UPDATE reminders SET status = $1, closed_at = $2, closed_by = $3 WHERE id = $4 AND status = 'active'")
            .bind(status)
            .bind(stamp(now))
            .bind(by)
            .bind(id)
            .execute(&self.store.pool)
            .await?
            .rows_affected();
        let record = self.get(id).await?;
        if changed == 0 {
            return Err(Refusal::ReminderEnded { id, status: record.status, closed_by: record.closed_by }.into());
        }
        Ok(record)
    }

    /// Puts an active reminder off until `until`; after that it goes on as before.
    pub async fn snooze(&self, id: i64, until: DateTime<Utc>) -> Result<ReminderRecord> {
        let changed = sqlx::query("UPDATE reminders SET due_at = $1 WHERE id = $2 AND status = 'active'")
            .bind(stamp(until))
            .bind(id)
            .execute(&self.store.pool)
            .await?
            .rows_affected();
        let record = self.get(id).await?;
        if changed == 0 {
            return Err(Refusal::ReminderEnded { id, status: record.status, closed_by: None }.into());
        }
        self.store.reminder_committed();
        Ok(record)
    }

    /// When the next active reminder fires.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        let row = sqlx::query("SELECT MIN(due_at) FROM reminders WHERE status = 'active'").fetch_one(&self.store.pool).await?;
        Ok(row.try_get::<Option<String>, _>(0)?.as_deref().and_then(parse_stamp))
    }

    /// How many reminders are active.
    pub async fn active_count(&self) -> Result<u64> {
        let row = sqlx::query("SELECT COUNT(*) FROM reminders WHERE status = 'active'").fetch_one(&self.store.pool).await?;
        integer(&row, 0)
    }

    /// Gives each unit a weekly digest reminder if it has none (several instances may ask at
    /// once: one of them wins, by the unique index).
    pub async fn ensure_digests(&self, policy: &Policy, units: &[String], now: DateTime<Utc>) -> Result<()> {
        let due_at = policy.next_digest(now);
        for unit in units {
            sqlx::query(
                "INSERT INTO reminders (kind, subject_key, step, due_at, status, owner, created_at) \
                 VALUES ('digest', $1, 0, $2, 'active', 'chancery', $3) ON CONFLICT DO NOTHING",
            )
            .bind(unit)
            .bind(stamp(due_at))
            .bind(stamp(now))
            .execute(&self.store.pool)
            .await?;
        }
        self.store.reminder_committed();
        Ok(())
    }
}

/// Up to `limit` reminders due at `now`, oldest first, locked against other instances on
/// PostgreSQL (which skip them).
pub(super) async fn due_in(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ReminderRecord>> {
    let lock = if backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let rows =
        sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} WHERE status = 'active' AND due_at <= $1 ORDER BY due_at, id LIMIT $2{lock}")))
            .bind(stamp(now))
            .bind(i64::from(limit))
            .fetch_all(&mut **tx)
            .await?;
    rows.iter().map(record_from_row).collect()
}

/// Moves a due reminder on to `next` (or ends it), only if it is still as it was read: false
/// when another instance fired this step first.
pub(super) async fn claim_in(
    tx: &mut Transaction<'static, Any>,
    reminder: &Reminder,
    next: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let query = match next {
        Some(next) => sqlx::query(
            "UPDATE reminders SET due_at = $1, step = step + 1, last_fired_at = $2 \
             WHERE id = $3 AND due_at = $4 AND status = 'active'",
        )
        .bind(stamp(next))
        .bind(stamp(now))
        .bind(reminder.id)
        .bind(stamp(reminder.due_at)),
        None => sqlx::query(
            "UPDATE reminders SET status = 'done', step = step + 1, last_fired_at = $1, closed_at = $1, closed_by = 'chancery' \
             WHERE id = $2 AND due_at = $3 AND status = 'active'",
        )
        .bind(stamp(now))
        .bind(reminder.id)
        .bind(stamp(reminder.due_at)),
    };
    Ok(query.execute(&mut **tx).await?.rows_affected() == 1)
}

fn record_from_row(row: &AnyRow) -> Result<ReminderRecord> {
    let id: i64 = row.try_get(0)?;
    let kind: String = row.try_get(1)?;
    let due_at: String = row.try_get(6)?;
    Ok(ReminderRecord {
        reminder: Reminder {
            id,
            kind: Kind::parse(&kind).ok_or_else(|| StoreError::corrupt(format!("reminder {id}"), "kind", &kind))?,
            subject_id: row.try_get(2)?,
            subject_key: row.try_get(3)?,
            deadline: row.try_get::<Option<String>, _>(4)?.and_then(|day| day.parse().ok()),
            step: integer(row, 5)?,
            due_at: parse_stamp(&due_at).ok_or_else(|| StoreError::corrupt(format!("reminder {id}"), "time", &due_at))?,
            owner: row.try_get(8)?,
            target: row.try_get(9)?,
            body: row.try_get(10)?,
        },
        status: row.try_get(7)?,
        created_at: row.try_get(11)?,
        last_fired_at: row.try_get(12)?,
        closed_at: row.try_get(13)?,
        closed_by: row.try_get(14)?,
    })
}
