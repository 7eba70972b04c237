//! A claimable queue: the shape both outboxes share (mail in `outbox`, room messages in
//! `room_outbox`), written once.
//!
//! A row waits `pending` until its `next_attempt_at`. One atomic UPDATE claims due rows (`FOR
//! UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises writers): it moves them to `sending`,
//! counts the attempt, pushes `next_attempt_at` a lease ahead and records the claiming instance
//! (`claimed_by`). Two senders never take the same row, and a row whose sender died is taken
//! again once that instance's heartbeat (see `instances.rs`) or the claim's own lease lapses.
//! A claimed row is then completed, put back for a later retry, given up, or released untried.

use chrono::{DateTime, Duration, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Row};

use super::instances::{claimer_gone, next_takeable};
use super::{Backend, Result, Store};
use crate::core::template::one_line;
use crate::core::time::{parse_stamp, stamp};

/// Longest error text kept on a row or in the history.
const MAX_ERROR_CHARS: usize = 1000;

/// One queue table and how it differs from the other.
pub(super) struct ClaimableQueue {
    pub(super) table: &'static str,
    /// The columns a claim returns, read by the queue's own view.
    pub(super) claimed_columns: &'static str,
    /// The column stamped when a row is done with.
    pub(super) finished_column: &'static str,
    /// Whether a row given up is stamped in `finished_column` too (the mail outbox's `sent_at`
    /// says when a mail was sent, so a failed mail keeps none).
    pub(super) stamps_failures: bool,
    /// Whether only the instance that claimed a row may complete, retry or release it: a mail
    /// sender whose row was taken from it changes nothing. A room message's poster is not
    /// checked (a second post of a card is harmless; a second mail is not).
    pub(super) own_claims_only: bool,
}

impl ClaimableQueue {
    /// Claims up to `limit` due rows, oldest due first, for `lease`. The rows come back in the
    /// order the database returns them.
    pub(super) async fn claim_due(&self, store: &Store, now: DateTime<Utc>, limit: u32, lease: Duration) -> Result<Vec<AnyRow>> {
        // A row another instance claimed is taken once its claim or that instance's heartbeat
        // lapses, whichever comes first.
        let due = format!(
            "SELECT id FROM {} WHERE status IN ('pending', 'sending') AND (next_attempt_at <= $2 \
             OR (status = 'sending' AND {})) ORDER BY next_attempt_at, id LIMIT $3",
            self.table,
            claimer_gone(2)
        );
        let sql = format!(
            "UPDATE {} SET status = 'sending', attempts = attempts + 1, next_attempt_at = $1, claimed_by = $4 \
             WHERE id IN ({due}{}) RETURNING {}",
            self.table,
            if store.backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" },
            self.claimed_columns
        );
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(stamp(now + lease))
            .bind(stamp(now))
            .bind(i64::from(limit))
            .bind(store.claimer())
            .fetch_all(&store.pool)
            .await?)
    }

    /// Claims one row for `lease`, due or not. `None` when it is not waiting (done, unknown, or
    /// claimed by a sender whose lease and heartbeat hold).
    pub(super) async fn claim(&self, store: &Store, id: i64, now: DateTime<Utc>, lease: Duration) -> Result<Option<AnyRow>> {
        let sql = format!(
            "UPDATE {} SET status = 'sending', attempts = attempts + 1, next_attempt_at = $1, claimed_by = $4 \
             WHERE id = $3 AND (status = 'pending' OR (status = 'sending' AND (next_attempt_at <= $2 OR {}))) \
             RETURNING {}",
            self.table,
            claimer_gone(2),
            self.claimed_columns
        );
        Ok(sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(stamp(now + lease))
            .bind(stamp(now))
            .bind(id)
            .bind(store.claimer())
            .fetch_optional(&store.pool)
            .await?)
    }

    /// Marks a claimed row done at `now`, on `conn` (the caller's transaction, when it writes
    /// more). Returns the row's `returning` columns, or `None` when it was not this sender's to
    /// mark.
    pub(super) async fn complete(
        &self,
        conn: &mut AnyConnection,
        store: &Store,
        id: i64,
        now: DateTime<Utc>,
        returning: &str,
    ) -> Result<Option<AnyRow>> {
        let sql = format!(
            "UPDATE {} SET status = 'sent', {} = $1, last_error = NULL WHERE id = $2 AND status = 'sending'{} RETURNING {returning}",
            self.table,
            self.finished_column,
            self.own_claim(3)
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(stamp(now)).bind(id);
        Ok(self.bind_claimer(query, store).fetch_optional(conn).await?)
    }

    /// A passing failure: the row waits again until `next_at`, its error kept.
    pub(super) async fn retry_at(&self, store: &Store, id: i64, error: &str, next_at: DateTime<Utc>) -> Result<()> {
        let sql = format!(
            "UPDATE {} SET status = 'pending', last_error = $1, next_attempt_at = $2 WHERE id = $3 AND status = 'sending'{}",
            self.table,
            self.own_claim(4)
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(short(error)).bind(stamp(next_at)).bind(id);
        self.bind_claimer(query, store).execute(&store.pool).await?;
        Ok(())
    }

    /// A lasting failure: the row (waiting or claimed by anyone) will not be tried again.
    /// Returns its `returning` columns, or `None` when it was done with already.
    pub(super) async fn give_up(
        &self,
        conn: &mut AnyConnection,
        id: i64,
        error: &str,
        now: DateTime<Utc>,
        returning: &str,
    ) -> Result<Option<AnyRow>> {
        let error = short(error);
        let row = if self.stamps_failures {
            let sql = format!(
                "UPDATE {} SET status = 'failed', last_error = $1, {} = $2 WHERE id = $3 AND status IN ('pending', 'sending') \
                 RETURNING {returning}",
                self.table, self.finished_column
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(error).bind(stamp(now)).bind(id).fetch_optional(conn).await?
        } else {
            let sql = format!(
                "UPDATE {} SET status = 'failed', last_error = $1 WHERE id = $2 AND status IN ('pending', 'sending') \
                 RETURNING {returning}",
                self.table
            );
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(error).bind(id).fetch_optional(conn).await?
        };
        Ok(row)
    }

    /// Gives a claimed row back untried (the sender is stopping): due again at once, and the
    /// attempt is not counted.
    pub(super) async fn release(&self, store: &Store, id: i64, now: DateTime<Utc>) -> Result<()> {
        let sql = format!(
            "UPDATE {} SET status = 'pending', attempts = attempts - 1, next_attempt_at = $1 WHERE id = $2 AND status = 'sending'{}",
            self.table,
            self.own_claim(3)
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(stamp(now)).bind(id);
        self.bind_claimer(query, store).execute(&store.pool).await?;
        Ok(())
    }

    /// When the next row may be taken (a claimed one: when its lease or its claimer's heartbeat
    /// lapses); the sender sleeps until then at most.
    pub(super) async fn next_due(&self, store: &Store) -> Result<Option<DateTime<Utc>>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(next_takeable(self.table))).fetch_one(&store.pool).await?;
        Ok(row.try_get::<Option<String>, _>(0)?.as_deref().and_then(parse_stamp))
    }

    /// SQL: the claimer check, bound at `$n`, for queues that mark only their own claims.
    fn own_claim(&self, n: usize) -> String {
        if self.own_claims_only { format!(" AND claimed_by = ${n}") } else { String::new() }
    }

    fn bind_claimer<'q>(
        &self,
        query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
        store: &Store,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments> {
        if self.own_claims_only { query.bind(store.claimer()) } else { query }
    }
}

/// An error as one line of at most `MAX_ERROR_CHARS` characters.
pub(super) fn short(error: &str) -> String {
    let line = one_line(error);
    if line.chars().count() <= MAX_ERROR_CHARS { line } else { format!("{}…", line.chars().take(MAX_ERROR_CHARS).collect::<String>()) }
}
