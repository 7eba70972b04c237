//! A register of synthetic letters for benchmarks, at a scale no fixture reaches: a million
//! documents in minutes, where registering them through `register_incoming` would take hours.
//!
//! Each letter is generated from its sequence number alone (the same number always gives the
//! same letter): a subject from a small vocabulary in three languages plus a reference word of
//! its own, a sender on one of a few hundred domains, a unit, a due date, some confidential, a
//! quarter with a small PDF, some answering an earlier letter. Its raw message is a small but
//! valid one, whose fingerprint is the one the register keeps. The rows are written with
//! multi-row INSERTs in large transactions; the history a registration writes is derived in SQL
//! from the rows just written, and the full-text index is filled in the same transaction, so a
//! search finds the letters at once and nothing is left in the search queue.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use super::rows::{Cell, insert_rows};
use super::search::{IndexEntry, index_words, query_words, write_index};
use super::{Backend, Result, Store, StoreError, lock_counter};
use crate::core::letter::fingerprint;
use crate::core::number::Direction;
use crate::core::partner::filing_domains;
use crate::core::time::{day_bounds, year_in};
use letters::Synthetic;

mod letters;
mod reminders;
mod vocabulary;

/// Why a synthetic fill stopped: a fill no register can take, or the database.
#[derive(Debug, thiserror::Error)]
pub enum FillError {
    /// A register numbers a year's letters: `from` and `now` must be, in that order, in one.
    #[error("a synthetic fill spans one year: {from} .. {now}")]
    NotWithinOneYear { from: DateTime<Utc>, now: DateTime<Utc> },
    #[error("{count} letters are more than a register can number")]
    TooManyLetters { count: u64 },
    #[error("{count} cases are more than a register can number")]
    TooManyCases { count: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A database error on the way reads as the store's do (`database: ...`).
impl From<sqlx::Error> for FillError {
    fn from(error: sqlx::Error) -> Self {
        FillError::Store(StoreError::Database(error))
    }
}

/// Letters per transaction: large enough that SQLite and FTS5 write few segments, small enough
/// that a batch's text and bytes (about 30 MB) stay modest.
const BATCH: u64 = 10_000;

/// The SQLite page cache while a batch is written (KiB): its new pages stay in memory until
/// the commit instead of spilling into the log halfway through.
const BULK_CACHE_KIB: i64 = 256 * 1024;
/// The cache every connection of the pool has otherwise (see `Store::open`).
const NORMAL_CACHE_KIB: i64 = 4 * 1024;

const DOCUMENT_COLUMNS: &[&str] = &[
    "number",
    "direction",
    "year",
    "sequence",
    "subject",
    "from_json",
    "to_json",
    "cc_json",
    "from_address",
    "message_id",
    "replies_to_json",
    "sent_at",
    "received_at",
    "registered_at",
    "sha256",
    "size",
    "body_text",
    "source",
    "flags_json",
    "status",
    "unit",
    "classification",
    "confidentiality",
    "routing_json",
    "tags_json",
    "due_on",
    "assignee",
    "acknowledged_at",
    "acknowledged_by",
];

impl Store {
    /// Appends `count` synthetic incoming letters, numbered after the year's last (the first
    /// in an empty register is IN-YEAR-000001), registered evenly from the start of `now`'s
    /// year until `now`, routed to `units` (the first is the default). For benchmarks: one
    /// process fills the register while nothing else registers. `progress` is told how many
    /// are in after each transaction. Returns how many were added.
    #[doc(hidden)]
    pub async fn fill_synthetic(
        &self,
        count: u64,
        units: &[String],
        now: DateTime<Utc>,
        progress: impl FnMut(u64),
    ) -> std::result::Result<u64, FillError> {
        let year = year_in(now, self.zone);
        let (year_start, _) = day_bounds(NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default(), self.zone);
        self.fill_synthetic_between(count, units, year_start, now, progress).await
    }

    /// As `fill_synthetic`, registered evenly from `from` until `now`, which must be in the
    /// same year (a register's numbers are the year's): an archive of several years is filled
    /// one year at a time, the oldest first.
    #[doc(hidden)]
    pub async fn fill_synthetic_between(
        &self,
        count: u64,
        units: &[String],
        from: DateTime<Utc>,
        now: DateTime<Utc>,
        mut progress: impl FnMut(u64),
    ) -> std::result::Result<u64, FillError> {
        let year = year_in(now, self.zone);
        if year_in(from, self.zone) != year || from > now {
            return Err(FillError::NotWithinOneYear { from, now });
        }
        // Whatever was registered before is indexed first, so the index can then keep pace here.
        self.index_queued().await?;
        let mut plan = Plan { units: default_units(units), year, start: from, now, count, first: 0, last: 0 };
        let mut parents: Vec<Parent> = Vec::new();
        let mut added = 0;
        while added < count {
            let size = BATCH.min(count - added);
            parents = self.fill_batch(&mut plan, size, &parents).await?;
            added += size;
            self.checkpoint_soon();
            progress(added);
        }
        Ok(added)
    }

    /// How many documents the full-text index finds for all the words of `text` (each as a
    /// word prefix, as `search` matches them), however many there are.
    #[doc(hidden)]
    pub async fn search_hits(&self, text: &str) -> Result<i64> {
        let words = query_words(text);
        if words.is_empty() {
            return Ok(0);
        }
        let row = match self.backend {
            Backend::Sqlite => {
                let query = words.iter().map(|w| format!("\"{w}\" *")).collect::<Vec<_>>().join(" AND ");
                sqlx::query("SELECT COUNT(*) FROM documents_fts WHERE documents_fts MATCH $1").bind(query).fetch_one(&self.pool).await?
            }
            Backend::Postgres => {
                let query = words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & ");
                sqlx::query("SELECT COUNT(*) FROM document_search WHERE vector @@ to_tsquery('simple', $1)")
                    .bind(query)
                    .fetch_one(&self.pool)
                    .await?
            }
        };
        Ok(row.try_get(0)?)
    }

    /// One transaction of letters; returns what the next batch's replies may answer.
    async fn fill_batch(&self, plan: &mut Plan, size: u64, parents: &[Parent]) -> std::result::Result<Vec<Parent>, FillError> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Sqlite {
            sqlx::query(AssertSqlSafe(format!("PRAGMA cache_size = -{BULK_CACHE_KIB}"))).execute(&mut *tx).await?;
        }
        let last = lock_counter(&mut tx, Direction::Incoming, plan.year).await?;
        let signed = |count: u64| i64::try_from(count).map_err(|_| FillError::TooManyLetters { count });
        let size = signed(size)?;
        if plan.first == 0 {
            // The whole fill spreads over the year, in order of numbers, up to `now`.
            (plan.first, plan.last) = (last + 1, last + signed(plan.count)?);
        }
        let letters: Vec<Synthetic> = (last + 1..=last + size).map(|sequence| plan.letter(sequence, parents)).collect();

        let rows = letters.iter().map(|l| l.document_row(plan.year)).collect();
        insert_rows(&mut tx, "documents", DOCUMENT_COLUMNS, rows).await?;
        let ids: Vec<i64> =
            sqlx::query("SELECT id FROM documents WHERE direction = 'incoming' AND year = $1 AND sequence > $2 ORDER BY sequence")
                .bind(i64::from(plan.year))
                .bind(last)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| row.try_get(0))
                .collect::<std::result::Result<_, _>>()?;
        let (Some(&first_id), Some(&last_id)) = (ids.first(), ids.last()) else {
            tx.rollback().await?;
            return Ok(Vec::new());
        };

        for (letter, id) in letters.iter().zip(&ids) {
            if let Some(root) = letter.thread_root {
                sqlx::query("UPDATE documents SET thread_id = $1 WHERE id = $2").bind(root).bind(*id).execute(&mut *tx).await?;
            }
        }
        insert_letter_parts(&mut tx, &letters, &ids).await?;
        write_history(&mut tx, first_id, last_id).await?;
        self.index_batch(&mut tx, &letters, &ids).await?;

        if self.backend == Backend::Sqlite {
            sqlx::query(AssertSqlSafe(format!("PRAGMA cache_size = -{NORMAL_CACHE_KIB}"))).execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE register_counters SET last = $1 WHERE register = 'IN' AND year = $2")
            .bind(last + size)
            .bind(i64::from(plan.year))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(letters
            .into_iter()
            .zip(ids)
            .map(|(l, id)| Parent { root: l.thread_root.unwrap_or(id), subject: l.subject, message_id: l.message_id })
            .collect())
    }

    /// Indexes the batch's letters in its own transaction and takes them off the search queue
    /// (where migration 0016's trigger put them), as `index_pending` would later.
    async fn index_batch(&self, tx: &mut Transaction<'static, Any>, letters: &[Synthetic], ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let entries: Vec<IndexEntry> = letters
            .iter()
            .zip(ids)
            .map(|(l, id)| {
                let names = l.attachment.as_ref().map(|a| a.name.as_str()).unwrap_or_default();
                IndexEntry { id: *id, subject: index_words(&l.subject), body: index_words(&l.body), names: index_words(names) }
            })
            .collect();
        write_index(tx, self.backend, &entries).await?;
        // Ids read from the database, written as numbers.
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        sqlx::query(AssertSqlSafe(format!("DELETE FROM search_pending WHERE document_id IN ({list})"))).execute(&mut **tx).await?;
        Ok(())
    }
}

/// A batch's attachments, raw messages and sender domains, beside its documents `ids`.
async fn insert_letter_parts(tx: &mut Transaction<'static, Any>, letters: &[Synthetic], ids: &[i64]) -> Result<()> {
    let attachments = letters
        .iter()
        .zip(ids)
        .filter_map(|(l, id)| l.attachment.as_ref().map(|a| (a, *id)))
        .map(|(a, id)| {
            vec![
                Cell::Int(id),
                Cell::Int(1),
                Cell::Text(&a.name),
                Cell::Text("application/pdf"),
                Cell::Int(super::rows::count(a.content.len())),
                Cell::Owned(fingerprint(&a.content)),
            ]
        })
        .collect();
    // The attachment itself is stored once, inside the raw message (migration 0015).
    insert_rows(tx, "attachments", &["document_id", "position", "name", "media_type", "size", "sha256"], attachments).await?;
    let raw = letters.iter().zip(ids).map(|(l, id)| vec![Cell::Int(*id), Cell::Blob(l.raw.clone())]).collect();
    insert_rows(tx, "raw_messages", &["document_id", "bytes"], raw).await?;
    let domains = letters
        .iter()
        .zip(ids)
        .flat_map(|(l, id)| {
            filing_domains(Direction::Incoming, std::slice::from_ref(&l.from), &[])
                .into_iter()
                .map(|d| vec![Cell::Owned(d), Cell::Int(*id)])
        })
        .collect();
    insert_rows(tx, "document_domains", super::register::DOMAIN_COLUMNS, domains).await?;
    Ok(())
}

/// The history a registration writes (registered, routed), and what staff did since: the unit
/// acknowledged it, and its status changed; derived from the documents `first..=last`.
async fn write_history(tx: &mut Transaction<'static, Any>, first: i64, last: i64) -> Result<()> {
    const DERIVED: [(&str, &str); 4] = [
        ("registered_at, 'chancery', 'registered', NULL, NULL, number, NULL", ""),
        ("registered_at, 'chancery', 'routed', 'unit', NULL, unit, 'rule \"synthetic\": the subject names the unit''s business'", ""),
        ("acknowledged_at, acknowledged_by, 'acknowledged', NULL, NULL, NULL, NULL", "AND acknowledged_at IS NOT NULL"),
        (
            "acknowledged_at, COALESCE(assignee, acknowledged_by), 'changed', 'status', 'registered', status, NULL",
            "AND acknowledged_at IS NOT NULL AND status <> 'registered'",
        ),
    ];
    for (values, condition) in DERIVED {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO history (document_id, at, actor, action, field, old_value, new_value, reason) \
             SELECT id, {values} FROM documents WHERE id >= $1 AND id <= $2 {condition} ORDER BY id"
        )))
        .bind(first)
        .bind(last)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// What a reply in the next batch needs of the letter it answers.
struct Parent {
    root: i64,
    subject: String,
    message_id: String,
}

/// The settings of one fill: which sequences it spans (for registration times) and where.
struct Plan {
    units: Vec<String>,
    year: i32,
    /// When the fill's first letter is registered.
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    /// Letters in the whole fill, numbered `first..=last`.
    count: u64,
    first: i64,
    last: i64,
}

fn default_units(units: &[String]) -> Vec<String> {
    if units.is_empty() { vec!["registry".to_string()] } else { units.to_vec() }
}
