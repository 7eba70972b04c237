//! Instances sharing one register and their leases: `store.instances()`.
//!
//! Each `chancery serve` writes its heartbeat here under its name, and holds the lease of the
//! mailbox it listens to (`mailbox:INBOX`) while it does; `core::lease` decides when to renew
//! and when to stop. Taking a lease is one atomic upsert that succeeds only for its holder or
//! once the lease has run out, so two instances never hold one resource at once.
//!
//! Rows of the outboxes that an instance claimed carry its name (`claimed_by`); once its
//! heartbeat lapses (`alive_until`), another instance takes them (see `outbox.rs`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Result, Store};
use crate::core::time::{parse_stamp, stamp};

/// An instance as its row stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRecord {
    pub name: String,
    pub host: String,
    pub pid: i64,
    pub started_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
    /// Its heartbeat plus its lease length: past this it counts as gone.
    pub alive_until: DateTime<Utc>,
}

/// A lease as its row stands; it may have run out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRecord {
    pub resource: String,
    pub holder: String,
    pub acquired_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Letters its holder last saw waiting to be registered.
    pub backlog: i64,
}

/// The instances' view of the store.
pub struct Instances<'a> {
    store: &'a Store,
}

impl Store {
    pub fn instances(&self) -> Instances<'_> {
        Instances { store: self }
    }

    /// This process acts as the instance `name`: the rows it claims in the outboxes carry it.
    /// Set once, before anything is claimed.
    pub fn act_as(&self, name: &str) {
        self.claimer.set(name.to_string()).ok();
    }

    /// The name this process claims outbox rows under: its instance's, or `process:PID` for a
    /// command that is not an instance (`chancery send`), whose claims only their lease ends.
    pub(super) fn claimer(&self) -> &str {
        self.claimer.get_or_init(|| format!("process:{}", std::process::id()))
    }
}

impl Instances<'_> {
    /// The row of the instance called `name`, if any.
    pub async fn find(&self, name: &str) -> Result<Option<InstanceRecord>> {
        let row = sqlx::query("SELECT name, host, pid, started_at, heartbeat_at, alive_until FROM instances WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.store.pool)
            .await?;
        row.as_ref().map(instance_from_row).transpose()
    }

    /// Enters `name` as a running instance, and gives back what an earlier process of the same
    /// name had claimed and left (it was killed; the caller made sure it is not running).
    pub async fn join(&self, instance: &InstanceRecord) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        upsert(&mut tx, instance).await?;
        for table in ["outbox", "room_outbox"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {table} SET status = 'pending', next_attempt_at = $1 WHERE status = 'sending' AND claimed_by = $2"
            )))
            .bind(stamp(instance.heartbeat_at))
            .bind(instance.name.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Writes the instance's heartbeat (and its row again, should someone have deleted it).
    pub async fn heartbeat(&self, instance: &InstanceRecord) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        upsert(&mut tx, instance).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes or renews the lease of `resource` for `holder` until `expires_at`: true when
    /// `holder` holds it now. Someone else's lease is taken only once it has run out at `now`.
    pub async fn acquire(&self, resource: &str, holder: &str, now: DateTime<Utc>, expires_at: DateTime<Utc>) -> Result<bool> {
        let row = sqlx::query(
            "INSERT INTO leases (resource, holder, acquired_at, expires_at, backlog) VALUES ($1, $2, $3, $4, 0) \
             ON CONFLICT (resource) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, \
             acquired_at = CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at ELSE excluded.acquired_at END \
             WHERE leases.holder = excluded.holder OR leases.expires_at <= excluded.acquired_at \
             RETURNING holder",
        )
        .bind(resource)
        .bind(holder)
        .bind(stamp(now))
        .bind(stamp(expires_at))
        .fetch_optional(&self.store.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Records what the holder of `resource` saw waiting; nothing if it no longer holds it.
    pub async fn report_backlog(&self, resource: &str, holder: &str, backlog: u64, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE leases SET backlog = $1, backlog_at = $2 WHERE resource = $3 AND holder = $4")
            .bind(i64::try_from(backlog).unwrap_or(i64::MAX))
            .bind(stamp(now))
            .bind(resource)
            .bind(holder)
            .execute(&self.store.pool)
            .await?;
        Ok(())
    }

    /// Ends the instance cleanly: its leases are given up (another instance takes them at its
    /// next try, without waiting for them to run out), whatever it still had claimed goes back
    /// to the outboxes, and its row is deleted.
    pub async fn leave(&self, name: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        sqlx::query("DELETE FROM leases WHERE holder = $1").bind(name).execute(&mut *tx).await?;
        for table in ["outbox", "room_outbox"] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {table} SET status = 'pending', next_attempt_at = $1 WHERE status = 'sending' AND claimed_by = $2"
            )))
            .bind(stamp(now))
            .bind(name)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("DELETE FROM instances WHERE name = $1").bind(name).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every instance's row, by name.
    pub async fn list(&self) -> Result<Vec<InstanceRecord>> {
        let rows = sqlx::query("SELECT name, host, pid, started_at, heartbeat_at, alive_until FROM instances ORDER BY name")
            .fetch_all(&self.store.pool)
            .await?;
        rows.iter().map(instance_from_row).collect()
    }

    /// Every lease, run out or not, by resource.
    pub async fn leases(&self) -> Result<Vec<LeaseRecord>> {
        let rows = sqlx::query("SELECT resource, holder, acquired_at, expires_at, backlog FROM leases ORDER BY resource")
            .fetch_all(&self.store.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(LeaseRecord {
                    resource: row.try_get(0)?,
                    holder: row.try_get(1)?,
                    acquired_at: stamp_at(row, 2)?,
                    expires_at: stamp_at(row, 3)?,
                    backlog: row.try_get(4)?,
                })
            })
            .collect()
    }

    /// The mail outbox's rows by status (`pending`, `sending`, `sent`, `failed`).
    pub async fn outbox_counts(&self) -> Result<BTreeMap<String, i64>> {
        let rows = sqlx::query("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetch_all(&self.store.pool).await?;
        rows.iter().map(|row| Ok((row.try_get::<String, _>(0)?, row.try_get::<i64, _>(1)?))).collect()
    }
}

async fn upsert(tx: &mut sqlx::Transaction<'static, sqlx::Any>, instance: &InstanceRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO instances (name, host, pid, started_at, heartbeat_at, alive_until) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (name) DO UPDATE SET host = excluded.host, pid = excluded.pid, started_at = excluded.started_at, \
         heartbeat_at = excluded.heartbeat_at, alive_until = excluded.alive_until",
    )
    .bind(instance.name.as_str())
    .bind(instance.host.as_str())
    .bind(instance.pid)
    .bind(stamp(instance.started_at))
    .bind(stamp(instance.heartbeat_at))
    .bind(stamp(instance.alive_until))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn instance_from_row(row: &sqlx::any::AnyRow) -> Result<InstanceRecord> {
    Ok(InstanceRecord {
        name: row.try_get(0)?,
        host: row.try_get(1)?,
        pid: row.try_get(2)?,
        started_at: stamp_at(row, 3)?,
        heartbeat_at: stamp_at(row, 4)?,
        alive_until: stamp_at(row, 5)?,
    })
}

/// A time column, which the store always writes with `stamp`.
fn stamp_at(row: &sqlx::any::AnyRow, column: usize) -> Result<DateTime<Utc>> {
    let text: String = row.try_get(column)?;
    parse_stamp(&text).ok_or_else(|| super::StoreError::corrupt("the instances' tables", "time", text))
}

/// SQL condition on an outbox row being sent: the instance that claimed it has let its
/// heartbeat lapse by the time in parameter `$now` (a killed instance), so another may take it.
/// A claimer with no instance row (a command such as `chancery send`) is waited for until the
/// claim's own lease runs out.
pub(super) fn claimer_gone(now: usize) -> String {
    format!("claimed_by IN (SELECT name FROM instances WHERE alive_until <= ${now})")
}

/// SQL: when the next row of an outbox `table` may be taken: a waiting row when it is due, a row
/// being sent when its claim runs out or its claimer's heartbeat does, whichever comes first.
pub(super) fn next_takeable(table: &str) -> String {
    format!(
        "SELECT MIN(CASE WHEN o.status = 'sending' AND i.alive_until < o.next_attempt_at THEN i.alive_until \
         ELSE o.next_attempt_at END) FROM {table} o LEFT JOIN instances i ON i.name = o.claimed_by \
         WHERE o.status IN ('pending', 'sending')"
    )
}
