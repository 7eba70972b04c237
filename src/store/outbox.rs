//! The outbox: every mail the university sends is written here in the same transaction as the
//! change that causes it (a registration enqueues its acknowledgement and forward), and the SMTP
//! dispatcher sends it from here. A registration that rolls back sends nothing; a crash after
//! the commit loses nothing.
//!
//! Several dispatchers (several instances on PostgreSQL) share the table, claiming rows as every
//! queue does (`queue.rs`): if its dispatcher dies mid-send, another takes the row once that
//! instance's heartbeat lapses (about 20 s, see `instances.rs`), or the claim's own lease for a
//! claimer that is no instance; a slow sender that is alive keeps its row. Marking a row checks
//! the claimer, so a sender whose row was taken from it changes nothing.
//!
//! Delivery is at least once, not exactly once: a crash after the SMTP server accepted a mail but
//! before `mark_sent` committed sends it again when the lease lapses. SMTP offers no way to ask
//! whether a server has a message; the Message-ID, fixed at enqueue, makes the second copy
//! recognisable as the same message (mail clients and many servers fold duplicates by it).

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use tokio::sync::Notify;

use super::queue::{ClaimableQueue, short};
use super::rows::integer;
use super::{Result, Store, StoreError, json, record_history};
use crate::core::outbound::{MailKind, OutgoingMail, check_retry};
use crate::core::reference::Reference;
use crate::core::time::{parse_stamp, stamp};

/// The mail outbox as a claimable queue.
const QUEUE: ClaimableQueue = ClaimableQueue {
    table: "outbox",
    claimed_columns: "id, document_id, mail_json, attempts, created_at",
    finished_column: "sent_at",
    stamps_failures: false,
    own_claims_only: true,
};

/// What a sent or failed mail tells its document's history.
const HISTORY_COLUMNS: &str = "document_id, kind, recipients_json";

/// A mail claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub document_id: Option<i64>,
    pub mail: OutgoingMail,
    /// Attempts so far, this one included.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

/// An outbox row as it stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxRecord {
    pub id: i64,
    pub document_id: Option<i64>,
    pub kind: String,
    pub recipients: Vec<String>,
    pub message_id: String,
    /// `pending`, `sending`, `sent` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub mail: OutgoingMail,
}

/// Writes a mail into the outbox inside the caller's transaction; it is sent once that commits.
pub(super) async fn enqueue_in(
    tx: &mut Transaction<'static, Any>,
    document_id: Option<i64>,
    mail: &OutgoingMail,
    now: DateTime<Utc>,
) -> Result<i64> {
    let ack_recipient = match mail.kind {
        MailKind::Acknowledgement => mail.to.first().map(|to| to.trim().to_lowercase()),
        MailKind::Forward | MailKind::Correspondence | MailKind::Reminder => None,
    };
    let row = sqlx::query(
        "INSERT INTO outbox (document_id, kind, recipients_json, ack_recipient, message_id, mail_json, status, attempts, \
         next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7) RETURNING id",
    )
    .bind(document_id)
    .bind(mail.kind.as_str())
    .bind(json(&mail.to))
    .bind(ack_recipient)
    .bind(mail.message_id.as_str())
    .bind(json(mail))
    .bind(stamp(now))
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get(0)?)
}

/// Acknowledgements enqueued for one recipient since an instant (the start of the office's day,
/// for the daily limit), inside the caller's transaction.
pub(super) async fn acknowledgements_since(tx: &mut Transaction<'static, Any>, recipient: &str, since: DateTime<Utc>) -> Result<u32> {
    let row = sqlx::query("SELECT COUNT(*) FROM outbox WHERE ack_recipient = $1 AND created_at >= $2")
        .bind(recipient.trim().to_lowercase())
        .bind(stamp(since))
        .fetch_one(&mut **tx)
        .await?;
    // A count is never negative, and one beyond u32 is over any daily limit all the same.
    Ok(u32::try_from(row.try_get::<i64, _>(0)?).unwrap_or(u32::MAX))
}

/// Holds a document's waiting mail until `until` (a press release's embargo): no dispatcher
/// claims it sooner. Its give-up time counts from then too (`created_at`), so that a long
/// embargo does not use up the time a mail has to get through.
pub(super) async fn hold_until_in(tx: &mut Transaction<'static, Any>, document_id: i64, until: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE outbox SET next_attempt_at = $1, created_at = $1 WHERE document_id = $2 AND status = 'pending'")
        .bind(stamp(until))
        .bind(document_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The outbox's view of the store.
pub struct Outbox<'a> {
    store: &'a Store,
}

impl Store {
    pub fn outbox(&self) -> Outbox<'_> {
        Outbox { store: self }
    }

    /// The dispatcher's wake-up: registrations that queue mail notify it.
    pub fn wake_on_mail(&self, waker: Arc<Notify>) {
        self.outbox_waker.set(waker);
    }

    /// Tells the dispatcher, if one runs, that mail was committed.
    pub(crate) fn mail_committed(&self) {
        self.outbox_waker.wake();
    }
}

impl Outbox<'_> {
    /// Enqueues one mail on its own (mail not caused by a registration, tests).
    pub async fn enqueue(&self, document_id: Option<i64>, mail: &OutgoingMail, now: DateTime<Utc>) -> Result<i64> {
        let mut tx = self.store.begin_write().await?;
        let id = enqueue_in(&mut tx, document_id, mail, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Acknowledgements enqueued for one recipient since an instant.
    pub async fn acknowledgements_since(&self, recipient: &str, since: DateTime<Utc>) -> Result<u32> {
        let mut tx = self.store.begin_write().await?;
        let count = acknowledgements_since(&mut tx, recipient, since).await?;
        tx.commit().await?;
        Ok(count)
    }

    /// Claims up to `limit` mails that are due, for `lease`: no other dispatcher gets them until
    /// they are marked or the lease lapses. The lease must outlast one send, timeouts included.
    pub async fn claim_due(&self, now: DateTime<Utc>, limit: u32, lease: Duration) -> Result<Vec<OutboxItem>> {
        let rows = QUEUE.claim_due(self.store, now, limit, lease).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(item) = self.claimed_item(&row, now).await? {
                items.push(item);
            }
        }
        items.sort_by_key(|item| item.id);
        Ok(items)
    }

    /// Claims one mail for `lease`, due or not: someone asked to send it now. `None` when it is
    /// not waiting to be sent (sent, failed, unknown, or claimed by a dispatcher whose lease holds).
    pub async fn claim(&self, id: i64, now: DateTime<Utc>, lease: Duration) -> Result<Option<OutboxItem>> {
        match QUEUE.claim(self.store, id, now, lease).await? {
            Some(row) => self.claimed_item(&row, now).await,
            None => Ok(None),
        }
    }

    /// A claimed row as an item; a row no program can read would be claimed forever, so it
    /// fails, visibly.
    async fn claimed_item(&self, row: &AnyRow, now: DateTime<Utc>) -> Result<Option<OutboxItem>> {
        let id: i64 = row.try_get(0)?;
        let mail_json: String = row.try_get(2)?;
        let readable = serde_json::from_str::<OutgoingMail>(&mail_json)
            .map_err(|error| error.to_string())
            .and_then(|mail| Ok((mail, integer::<u32>(row, 3).map_err(|error| error.to_string())?)));
        match readable {
            Ok((mail, attempts)) => Ok(Some(OutboxItem {
                id,
                document_id: row.try_get(1)?,
                mail,
                attempts,
                created_at: parse_stamp(&row.try_get::<String, _>(4)?).unwrap_or(now),
            })),
            Err(error) => {
                self.mark_failed(id, &format!("unreadable outbox row: {error}"), now).await?;
                Ok(None)
            }
        }
    }

    /// Puts a failed (or pending) mail back in line, due now, its attempts counted afresh and
    /// its give-up clock (`created_at`) started again; the document's history records who did
    /// it. An outgoing letter marked `delivery-failed` gets the status it had before. A mail
    /// that was sent, or is being sent, is refused.
    pub async fn retry(&self, id: i64, actor: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let row = sqlx::query("SELECT status, document_id, kind, recipients_json FROM outbox WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(Reference::OutboxMail(id)))?;
        let (status, document_id, kind, recipients): (String, Option<i64>, String, String) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
        check_retry(id, &status)?;
        sqlx::query("UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1, created_at = $1 WHERE id = $2")
            .bind(stamp(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some(document_id) = document_id {
            let reason = format!("{kind} to {}: sent again on request (it was {status})", recipients_text(&recipients));
            record_retry(&mut tx, document_id, &kind, &reason, actor, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The outgoing letter's own mail (not acknowledgements or forwards) of a document.
    pub async fn mail_of_document(&self, number: &str) -> Result<Option<i64>> {
        let row = sqlx::query(
            "SELECT o.id FROM outbox o JOIN documents d ON d.id = o.document_id WHERE d.number = $1 AND o.kind = $2 ORDER BY o.id DESC LIMIT 1",
        )
        .bind(number)
        .bind(MailKind::Correspondence.as_str())
        .fetch_optional(&self.store.pool)
        .await?;
        Ok(row.map(|row| row.try_get::<i64, _>(0)).transpose()?)
    }

    /// One outbox row as it stands.
    pub async fn mail(&self, id: i64) -> Result<OutboxRecord> {
        self.rows_where("id = $1", Some(Key::Id(id))).await?.pop().ok_or_else(|| StoreError::NotFound(Reference::OutboxMail(id)))
    }

    /// When the next pending mail falls due (the dispatcher sleeps until then at most).
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        QUEUE.next_due(self.store).await
    }

    /// The registered letter's original bytes, to attach to a forward.
    pub async fn raw_of_document(&self, document_id: i64) -> Result<Vec<u8>> {
        sqlx::query("SELECT bytes FROM raw_messages WHERE document_id = $1")
            .bind(document_id)
            .fetch_optional(&self.store.pool)
            .await?
            .map(|row| row.try_get::<Vec<u8>, _>(0))
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(Reference::StoredMessage(format!("document {document_id}"))))
    }

    /// The server accepted the mail. The document's history says so.
    pub async fn mark_sent(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let row = QUEUE.complete(&mut tx, self.store, id, now, HISTORY_COLUMNS).await?;
        if let Some(row) = row
            && let Some(document_id) = row.try_get::<Option<i64>, _>(0)?
        {
            let (kind, recipients): (String, String) = (row.try_get(1)?, row.try_get(2)?);
            let to = recipients_text(&recipients);
            record_history(&mut tx, document_id, now, "chancery", "mail-sent", None, None, Some(&to), Some(&kind)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A temporary failure: try again at `next_attempt_at`.
    pub async fn mark_retry(&self, id: i64, error: &str, next_attempt_at: DateTime<Utc>) -> Result<()> {
        QUEUE.retry_at(self.store, id, error, next_attempt_at).await
    }

    /// Gives a claimed mail back untried (the dispatcher is stopping): due again at once, and the
    /// attempt is not counted.
    pub async fn release(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        QUEUE.release(self.store, id, now).await
    }

    /// A permanent failure: the mail will not be sent. The document's history records it, and
    /// an outgoing letter (correspondence) that could not be delivered gets the status
    /// `delivery-failed`, so that someone sends it another way.
    pub async fn mark_failed(&self, id: i64, error: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let row = QUEUE.give_up(&mut tx, id, error, now, HISTORY_COLUMNS).await?;
        let error = short(error);
        if let Some(row) = row
            && let Some(document_id) = row.try_get::<Option<i64>, _>(0)?
        {
            let (kind, recipients): (String, String) = (row.try_get(1)?, row.try_get(2)?);
            let reason = format!("{kind} to {}: {error}", recipients_text(&recipients));
            if kind == MailKind::Correspondence.as_str() {
                let old: String =
                    sqlx::query("SELECT status FROM documents WHERE id = $1").bind(document_id).fetch_one(&mut *tx).await?.try_get(0)?;
                sqlx::query("UPDATE documents SET status = 'delivery-failed' WHERE id = $1").bind(document_id).execute(&mut *tx).await?;
                record_history(
                    &mut tx,
                    document_id,
                    now,
                    "chancery",
                    "mail-failed",
                    Some("status"),
                    Some(&old),
                    Some("delivery-failed"),
                    Some(&reason),
                )
                .await?;
            } else {
                record_history(&mut tx, document_id, now, "chancery", "mail-failed", None, None, None, Some(&reason)).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every outbox row, oldest first.
    pub async fn list(&self) -> Result<Vec<OutboxRecord>> {
        self.rows_where("1 = 1", None).await
    }

    /// The outbox row that sent a Message-ID (to tie a bounce back to it).
    pub async fn by_message_id(&self, message_id: &str) -> Result<Option<OutboxRecord>> {
        Ok(self.rows_where("message_id = $1", Some(Key::MessageId(message_id))).await?.pop())
    }

    async fn rows_where(&self, clause: &str, key: Option<Key<'_>>) -> Result<Vec<OutboxRecord>> {
        let sql = format!(
            "SELECT id, document_id, kind, recipients_json, message_id, status, attempts, next_attempt_at, last_error, created_at, \
             sent_at, mail_json FROM outbox WHERE {clause} ORDER BY id"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        match key {
            Some(Key::Id(id)) => query = query.bind(id),
            Some(Key::MessageId(message_id)) => query = query.bind(message_id),
            None => {}
        }
        query.fetch_all(&self.store.pool).await?.iter().map(record_from_row).collect()
    }
}

fn record_from_row(row: &AnyRow) -> Result<OutboxRecord> {
    let id: i64 = row.try_get(0)?;
    let mail_json: String = row.try_get(11)?;
    Ok(OutboxRecord {
        id,
        document_id: row.try_get(1)?,
        kind: row.try_get(2)?,
        recipients: serde_json::from_str(&row.try_get::<String, _>(3)?).unwrap_or_default(),
        message_id: row.try_get(4)?,
        status: row.try_get(5)?,
        attempts: integer(row, 6)?,
        next_attempt_at: row.try_get(7)?,
        last_error: row.try_get(8)?,
        created_at: row.try_get(9)?,
        sent_at: row.try_get(10)?,
        mail: serde_json::from_str(&mail_json).map_err(|e| StoreError::corrupt(format!("outbox row {id}"), "mail", e.to_string()))?,
    })
}

/// A retried mail's line in its document's history; an outgoing letter marked
/// `delivery-failed` gets back the status it had before.
async fn record_retry(
    tx: &mut Transaction<'static, Any>,
    document_id: i64,
    kind: &str,
    reason: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let document_status: String =
        sqlx::query("SELECT status FROM documents WHERE id = $1").bind(document_id).fetch_one(&mut **tx).await?.try_get(0)?;
    if kind == MailKind::Correspondence.as_str() && document_status == "delivery-failed" {
        let before = status_before_delivery_failed(tx, document_id).await?;
        sqlx::query("UPDATE documents SET status = $1 WHERE id = $2").bind(before.as_str()).bind(document_id).execute(&mut **tx).await?;
        record_history(tx, document_id, now, actor, "mail-retried", Some("status"), Some("delivery-failed"), Some(&before), Some(reason))
            .await
    } else {
        record_history(tx, document_id, now, actor, "mail-retried", None, None, None, Some(reason)).await
    }
}

/// What `outbox_where` looks a row up by.
enum Key<'a> {
    Id(i64),
    MessageId(&'a str),
}

/// The status an outgoing letter had before its mail failed, from the history of that change.
async fn status_before_delivery_failed(tx: &mut Transaction<'static, Any>, document_id: i64) -> Result<String> {
    let row = sqlx::query(
        "SELECT old_value FROM history WHERE document_id = $1 AND action = 'mail-failed' AND field = 'status' \
         AND new_value = 'delivery-failed' ORDER BY id DESC LIMIT 1",
    )
    .bind(document_id)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|row| row.try_get::<Option<String>, _>(0)).transpose()?.flatten().unwrap_or_else(|| "registered".to_string()))
}

fn recipients_text(recipients_json: &str) -> String {
    serde_json::from_str::<Vec<String>>(recipients_json).map(|to| to.join(", ")).unwrap_or_else(|_| recipients_json.to_string())
}
