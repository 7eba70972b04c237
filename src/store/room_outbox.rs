//! The room outbox, `store.room_messages()`: what Chancery posts in Matrix rooms on its own (a
//! unit's card for a new letter, rule-file errors for the admin room). A card is written in the
//! same transaction as the registration that causes it, as mail is written to the outbox, so
//! none is lost; the Matrix adapter posts from here.
//!
//! Claims work as the mail outbox's do, through the same claimable queue (see `queue.rs`): two
//! senders never take the same row, and a row whose sender died is taken again once its
//! instance's heartbeat or the claim's lease lapses. Posting is at least once: a crash between
//! the homeserver accepting a message and `mark_sent` posts it again.
//!
//! A table of its own rather than a channel column on `outbox`: the mail dispatcher's queries
//! stay as they are and can never claim a room message.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use tokio::sync::Notify;

use super::queue::ClaimableQueue;
use super::rows::integer;
use super::{Result, Store};
use crate::core::announce::RoomTarget;
use crate::core::time::stamp;

/// The room outbox as a claimable queue.
const QUEUE: ClaimableQueue = ClaimableQueue {
    table: "room_outbox",
    claimed_columns: "id, target, body_markdown, attempts",
    finished_column: "finished_at",
    stamps_failures: true,
    own_claims_only: false,
};

/// A room message claimed for posting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomMessage {
    pub id: i64,
    pub target: RoomTarget,
    pub markdown: String,
    /// Attempts so far, this one included.
    pub attempts: u32,
}

/// A room outbox row as it stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoomMessageRecord {
    pub id: i64,
    /// The letter a card announces.
    pub document_id: Option<i64>,
    pub target: RoomTarget,
    pub markdown: String,
    /// `pending`, `sending`, `sent` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    /// When it was posted, or given up.
    pub finished_at: Option<String>,
}

/// The room outbox's view of the store.
pub struct RoomMessages<'a> {
    store: &'a Store,
}

impl Store {
    pub fn room_messages(&self) -> RoomMessages<'_> {
        RoomMessages { store: self }
    }

    /// The Matrix adapter's wake-up: whatever writes a room message notifies it, so it posts at
    /// once rather than at its next look.
    pub fn wake_on_room_message(&self, waker: Arc<Notify>) {
        self.room_waker.set(waker);
    }

    /// Tells the Matrix adapter, if one listens, that a room message was committed.
    pub(super) fn room_message_committed(&self) {
        self.room_waker.wake();
    }
}

/// Writes a room message inside the caller's transaction; it is posted once that commits.
pub(super) async fn enqueue_in(
    tx: &mut Transaction<'static, Any>,
    document_id: Option<i64>,
    target: &RoomTarget,
    markdown: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO room_outbox (document_id, target, body_markdown, status, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, 'pending', 0, $4, $4) RETURNING id",
    )
    .bind(document_id)
    .bind(target.as_str())
    .bind(markdown)
    .bind(stamp(now))
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get(0)?)
}

impl RoomMessages<'_> {
    /// Enqueues a message on its own (not caused by a registration: rule-file errors, tests).
    pub async fn enqueue(&self, target: &RoomTarget, markdown: &str, now: DateTime<Utc>) -> Result<i64> {
        let mut tx = self.store.begin_write().await?;
        let id = enqueue_in(&mut tx, None, target, markdown, now).await?;
        tx.commit().await?;
        self.store.room_message_committed();
        Ok(id)
    }

    /// Claims up to `limit` due messages, oldest first, for `lease`: no other sender gets them
    /// until they are marked or the lease lapses. The lease must outlast one post.
    pub async fn claim_due(&self, now: DateTime<Utc>, limit: u32, lease: Duration) -> Result<Vec<RoomMessage>> {
        let rows = QUEUE.claim_due(self.store, now, limit, lease).await?;
        let mut claimed = rows.iter().map(claimed_from_row).collect::<Result<Vec<_>>>()?;
        claimed.sort_by_key(|message| message.id);
        Ok(claimed)
    }

    /// The homeserver accepted the message.
    pub async fn mark_sent(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut conn = self.store.pool.acquire().await?;
        QUEUE.complete(&mut conn, self.store, id, now, "id").await?;
        Ok(())
    }

    /// A passing failure (the homeserver is away, the room not joined yet): try again at `next_at`.
    pub async fn mark_retry(&self, id: i64, error: &str, next_at: DateTime<Utc>) -> Result<()> {
        QUEUE.retry_at(self.store, id, error, next_at).await
    }

    /// A lasting failure (no room for the unit, too many attempts): the message will not be posted.
    pub async fn mark_failed(&self, id: i64, error: &str, now: DateTime<Utc>) -> Result<()> {
        let mut conn = self.store.pool.acquire().await?;
        QUEUE.give_up(&mut conn, id, error, now, "id").await?;
        Ok(())
    }

    /// Gives a claimed message back untried (the sender is stopping): due again at once, and the
    /// attempt is not counted.
    pub async fn release(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        QUEUE.release(self.store, id, now).await
    }

    /// When the next waiting message falls due (a claimed one: when its lease lapses); the
    /// sender sleeps until then at most.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        QUEUE.next_due(self.store).await
    }

    /// Every row, oldest first (`chancery outbox`).
    pub async fn list(&self) -> Result<Vec<RoomMessageRecord>> {
        let rows = sqlx::query(
            "SELECT id, document_id, target, body_markdown, status, attempts, next_attempt_at, last_error, created_at, finished_at \
             FROM room_outbox ORDER BY id",
        )
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(RoomMessageRecord {
                    id: row.try_get(0)?,
                    document_id: row.try_get(1)?,
                    target: RoomTarget::parse(&row.try_get::<String, _>(2)?),
                    markdown: row.try_get(3)?,
                    status: row.try_get(4)?,
                    attempts: integer(row, 5)?,
                    next_attempt_at: row.try_get(6)?,
                    last_error: row.try_get(7)?,
                    created_at: row.try_get(8)?,
                    finished_at: row.try_get(9)?,
                })
            })
            .collect()
    }
}

fn claimed_from_row(row: &AnyRow) -> Result<RoomMessage> {
    Ok(RoomMessage {
        id: row.try_get(0)?,
        target: RoomTarget::parse(&row.try_get::<String, _>(1)?),
        markdown: row.try_get(2)?,
        attempts: integer(row, 3)?,
    })
}
