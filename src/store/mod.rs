//! The EDMS store: the only module that speaks SQL. One code path for SQLite (the embedded
//! default) and PostgreSQL (several instances sharing one register), through sqlx's `Any` driver.
//!
//! Columns are read with `try_get` (a value of another type is an error, where `get` panics),
//! and integers cross between the database's i64 and narrower types with `rows::integer` and
//! `rows::count`, never `as`: the crate's cast lints (`lib.rs`) keep it so under `cargo clippy`.

mod agreements;
mod amend;
mod archive;
mod attachments;
// The benchmarks' fills: no part of the product.
#[cfg(feature = "bench")]
mod bulk;
mod calendar;
mod copy;
mod digest;
mod documents;
mod error;
mod events;
mod firing;
mod instances;
mod meetings;
mod open;
pub mod outbox;
mod partners;
mod press;
mod queue;
mod records;
mod register;
mod reminders;
mod room_outbox;
mod rows;
mod search;
mod staff;
mod visas;
mod waker;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
// Dynamic SQL here is built only from fixed column names and `$N` placeholders, never from input.
use sqlx::{Any, AnyPool, AssertSqlSafe, Row, Transaction};

use crate::core::history::HistoryLine;
use crate::core::intake::{IntakePolicy, Source};
use crate::core::letter::{Letter, fingerprint};
use crate::core::number::Direction;
use crate::core::reference::Reference;
use crate::core::time::stamp;

pub use agreements::{AGREEMENT_REMINDERS, Agreements};
pub use archive::{
    Approved, Archive, CaseDocument, CaseEvent, CaseFile, CaseFilter, CaseRecord, CatchUp, DueCase, HoldRecord, HoldTarget, Import,
};
#[cfg(feature = "bench")]
pub use bulk::FillError;
pub use calendar::{Calendar, Scope};
pub use copy::{CopyError, CopyReport, copy_register};
pub use digest::Digests;
pub use documents::{Acknowledgement, Documents, ThreadMember};
pub use error::{Damage, Refusal, StoreError};
pub use events::AnsweredEvents;
pub use firing::FiringReport;
pub use instances::{InstanceRecord, Instances, LeaseRecord};
pub use meetings::{Meetings, NewMeeting};
pub use open::OpenMode;
pub use outbox::Outbox;
pub use partners::{Contact, PartnerFilter, PartnerLetter, Partners};
pub use press::PressReleases;
pub use records::{AttachmentInfo, Disposed, DocumentRecord, HistoryEntry, ListFilter, Problem, StoredAttachment};
pub use reminders::{ReminderRecord, Reminders};
pub use room_outbox::{RoomMessage, RoomMessageRecord, RoomMessages};
pub use staff::{DirectoryEntry, Reach, StaffDirectory};
pub use visas::{Closing, VisaCases, VisaFilter};

/// Documents whose attachments are looked up in one statement.
const ATTACHMENT_LOOKUP_CHUNK: usize = 500;

pub type Result<T> = std::result::Result<T, StoreError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A letter that arrived, read by the core, ready to be registered.
#[derive(Debug, Clone)]
pub struct Arrival {
    pub raw: Vec<u8>,
    pub letter: Letter,
    pub source: Source,
    pub received_at: DateTime<Utc>,
}

/// What registering an arrival did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new entry with its number.
    Registered { number: String, flags: Vec<&'static str> },
    /// The same bytes were registered already (another UID, a second delivery, a re-import).
    SameLetter { number: String },
    /// This very server message was registered before.
    AlreadyRecorded { number: String },
}

impl Outcome {
    pub fn number(&self) -> &str {
        match self {
            Outcome::Registered { number, .. } | Outcome::SameLetter { number } | Outcome::AlreadyRecorded { number } => number,
        }
    }
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    zone: chrono_tz::Tz,
    /// Set while a background WAL checkpoint runs (SQLite).
    checkpointing: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Told when a registration queued mail, so the dispatcher sends it at once.
    outbox_waker: waker::Waker,
    /// Told when a room message was written, so the Matrix adapter posts it at once.
    room_waker: waker::Waker,
    /// Told when a reminder was scheduled or moved, so the scheduler looks again.
    reminder_waker: waker::Waker,
    /// The instance this process claims outbox rows as (`act_as`).
    claimer: std::sync::Arc<std::sync::OnceLock<String>>,
    /// When this process last committed incoming letters (milliseconds since the epoch): the
    /// background indexer waits for a pause in intake (`search::index_while_quiet`).
    last_intake_ms: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Store {
    /// Connects and brings the schema up to date. A SQLite file is created only when `mode`
    /// says so; a PostgreSQL database must exist either way (its schema is created).
    pub async fn open(url: &str, zone: chrono_tz::Tz, mode: OpenMode) -> Result<Store> {
        let (backend, pool) = open::connect(url, mode).await?;
        let store = Store {
            pool,
            backend,
            zone,
            checkpointing: Default::default(),
            outbox_waker: Default::default(),
            room_waker: Default::default(),
            reminder_waker: Default::default(),
            last_intake_ms: Default::default(),
            claimer: Default::default(),
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The office's time zone, which days (registration years, due dates, a feed's window)
    /// are counted in.
    pub fn zone(&self) -> chrono_tz::Tz {
        self.zone
    }

    /// A transaction that may write. On SQLite it takes the one write lock at its start (`BEGIN
    /// IMMEDIATE`), waiting for it as long as `busy_timeout`: a deferred transaction that reads
    /// and then writes fails at once with "database is locked" when another connection wrote
    /// in between, since SQLite cannot wait for that upgrade. Answers given at the same time
    /// (a disclosure written after a lookup, say) met exactly that.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Registers incoming letters in one transaction: all or none are committed. Numbers are
    /// taken under a lock on the year's counter, so they are gapless and unique across processes;
    /// the lock is taken last (see `register`), and a batch that raced another registrar over
    /// the same letter fails with `StoreError::Conflict`, to be registered again.
    /// The arrivals are consumed: their bytes go to the database without another copy. The
    /// outcomes come in the order of the arrivals.
    /// `reminders` is the policy the letters' due-date reminders are scheduled by.
    pub async fn register_incoming(
        &self,
        arrivals: Vec<Arrival>,
        policy: &IntakePolicy,
        reminders: &crate::core::remind::Policy,
        now: DateTime<Utc>,
    ) -> Result<Vec<Outcome>> {
        // SQLite has one writer at a time: the transaction takes the write lock at once, so
        // that its lookups see the register as it will write to it (the counter, locked last,
        // is what orders writers on PostgreSQL).
        let mut tx = self.begin_write().await?;
        let counter_lock = match self.backend {
            Backend::Sqlite => register::CounterLock::First,
            Backend::Postgres => register::CounterLock::Last,
        };
        let registered = register::register_incoming(&mut tx, self.zone, arrivals, policy, reminders, counter_lock, now).await?;
        tx.commit().await?;
        self.last_intake_ms.store(Utc::now().timestamp_millis(), std::sync::atomic::Ordering::Relaxed);
        self.checkpoint_soon();
        if registered.mail_queued {
            self.mail_committed();
        }
        if registered.room_queued {
            self.room_message_committed();
        }
        if registered.reminders_scheduled {
            self.reminder_committed();
        }
        Ok(registered.outcomes)
    }

    /// Registers outgoing correspondence (`OUT-2026-000045`) and queues it for sending; see
    /// `register::register_outgoing`. Returns the new number.
    pub async fn register_outgoing<F>(
        &self,
        answers: Option<&str>,
        actor: &str,
        unit: &str,
        now: DateTime<Utc>,
        compose: F,
    ) -> Result<String>
    where
        F: FnOnce(
            &crate::core::number::RegistrationNumber,
            Option<&crate::core::outgoing::AnsweredLetter>,
        ) -> std::result::Result<(Vec<u8>, crate::core::outbound::OutgoingMail), crate::core::outbound::ComposeError>,
    {
        let mut tx = self.begin_write().await?;
        let number = register::register_outgoing(&mut tx, self.zone, answers, actor, unit, now, compose).await?;
        tx.commit().await?;
        self.mail_committed();
        Ok(number)
    }

    /// UIDs (from `from_uid` on) of one mailbox generation already in the register: they are
    /// never downloaded again.
    pub async fn recorded_uids(&self, mailbox: &str, uid_validity: u32, from_uid: u32) -> Result<HashSet<u32>> {
        let rows = sqlx::query("SELECT uid FROM imap_messages WHERE mailbox = $1 AND uid_validity = $2 AND uid >= $3")
            .bind(mailbox)
            .bind(i64::from(uid_validity))
            .bind(i64::from(from_uid))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| rows::integer(row, 0)).collect()
    }

    /// One document with its attachments and history.
    pub async fn document(&self, number: &str) -> Result<DocumentRecord> {
        let mut records = self.documents_where("d.number = $1", &[number.to_string()]).await?;
        let mut record = records.pop().ok_or_else(|| StoreError::NotFound(Reference::Document(number.to_string())))?;
        record.history = Some(self.history(record.id).await?);
        record.holds = self.archive().holds_covering(record.id).await?;
        Ok(record)
    }

    pub async fn list(&self, filter: &ListFilter) -> Result<Vec<DocumentRecord>> {
        let mut conditions = Vec::new();
        let mut binds = Vec::new();
        if let Some(status) = &filter.status {
            binds.push(status.clone());
            conditions.push(format!("d.status = ${}", binds.len()));
        }
        // A time range is read from its index first: given only a lower bound, SQLite's planner
        // would rather read every document in order of id than sort the day's few (at a million
        // letters, 370 ms against 1).
        let mut range = Vec::new();
        if let Some(since) = filter.since {
            binds.push(stamp(since));
            range.push(format!("registered_at >= ${}", binds.len()));
        }
        if let Some(until) = filter.until {
            binds.push(stamp(until));
            range.push(format!("registered_at < ${}", binds.len()));
        }
        if !range.is_empty() {
            conditions.push(format!("d.id IN (SELECT id FROM documents WHERE {})", range.join(" AND ")));
        }
        if filter.review {
            conditions.push("d.flags_json <> '[]'".to_string());
            if filter.status.is_none() {
                conditions.push("d.status <> 'annulled'".to_string());
            }
        }
        let clause = if conditions.is_empty() { "1 = 1".to_string() } else { conditions.join(" AND ") };
        self.documents_where(&clause, &binds).await
    }

    /// The stored message of a document, as received. A document whose content a disposal
    /// erased is refused with the line that says so.
    pub async fn raw(&self, number: &str) -> Result<Vec<u8>> {
        let row = sqlx::query(
            "SELECT r.bytes, d.disposal, d.disposed_by, d.disposed_on FROM documents d \
             LEFT JOIN raw_messages r ON r.document_id = d.id WHERE d.number = $1",
        )
        .bind(number)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(Reference::StoredMessage(number.to_string())))?;
        if let Some(disposed) = records::Disposed::from_columns(row.try_get(1)?, row.try_get(2)?, row.try_get(3)?) {
            return Err(Refusal::Disposed { number: number.to_string(), line: disposed.line() }.into());
        }
        row.try_get::<Option<Vec<u8>>, _>(0)?.ok_or_else(|| StoreError::NotFound(Reference::StoredMessage(number.to_string())))
    }

    /// Records that a restricted document was shown to someone.
    pub async fn record_disclosure(&self, number: &str, actor: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let id = document_id(&mut tx, number).await?;
        record_history(&mut tx, id, now, actor, "disclosed", None, None, None, None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Recomputes every stored hash and reports what differs from the register or is missing.
    pub async fn verify(&self) -> Result<(usize, Vec<Problem>)> {
        let mut problems = Vec::new();
        let mut checked = 0;
        let mut rows = sqlx::query(
            "SELECT d.number, d.sha256, r.bytes, d.disposed_by FROM documents d LEFT JOIN raw_messages r ON r.document_id = d.id ORDER BY d.id",
        )
        .fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            checked += 1;
            let number: String = row.try_get(0)?;
            let expected: String = row.try_get(1)?;
            // A disposal erased the stored message: its sha256 stays as the record of what it was.
            let disposed = row.try_get::<Option<String>, _>(3)?.is_some();
            match row.try_get::<Option<Vec<u8>>, _>(2)? {
                None if disposed => {}
                None => problems.push(Problem { number, item: "message".into(), detail: "stored message is missing".into() }),
                Some(bytes) => {
                    let actual = fingerprint(&bytes);
                    if actual != expected {
                        problems.push(Problem {
                            number,
                            item: "message".into(),
                            detail: format!("sha256 {actual} differs from the register's {expected}"),
                        });
                    }
                }
            }
        }
        drop(rows);
        attachments::verify(&self.pool, &mut problems).await?;
        Ok((checked, problems))
    }

    async fn history(&self, document_id: i64) -> Result<Vec<HistoryEntry>> {
        let rows =
            sqlx::query("SELECT at, actor, action, field, old_value, new_value, reason FROM history WHERE document_id = $1 ORDER BY id")
                .bind(document_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryEntry {
                    at: r.try_get(0)?,
                    actor: r.try_get(1)?,
                    action: r.try_get(2)?,
                    field: r.try_get(3)?,
                    old_value: r.try_get(4)?,
                    new_value: r.try_get(5)?,
                    reason: r.try_get(6)?,
                })
            })
            .collect()
    }

    async fn documents_where(&self, clause: &str, binds: &[String]) -> Result<Vec<DocumentRecord>> {
        let sql = format!(
            "SELECT d.id, d.number, d.direction, d.status, d.unit, d.classification, d.confidentiality, d.subject, \
             d.from_json, d.to_json, d.cc_json, d.message_id, d.sha256, d.size, d.sent_at, d.received_at, d.registered_at, \
             COALESCE(t.number, d.number), d.flags_json, d.source, d.annul_reason, d.routing_json, d.tags_json, d.due_on, \
             d.assignee, d.acknowledged_at, d.acknowledged_by, (SELECT c.name FROM cases c WHERE c.id = d.case_id), \
             d.disposal, d.disposed_by, d.disposed_on \
             FROM documents d LEFT JOIN documents t ON t.id = d.thread_id WHERE {clause} ORDER BY d.id"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for bind in binds {
            query = query.bind(bind.as_str());
        }
        let rows = query.fetch_all(&self.pool).await?;
        let mut records: Vec<DocumentRecord> = rows.iter().map(records::document_from_row).collect::<Result<_>>()?;
        // The attachments of exactly these documents: a range from the first id to the last
        // would read those of every document in between, most of a large register for the hits
        // of a search.
        let ids: Vec<i64> = records.iter().map(|r| r.id).collect();
        let mut by_document: HashMap<i64, Vec<AttachmentInfo>> = HashMap::new();
        for chunk in ids.chunks(ATTACHMENT_LOOKUP_CHUNK) {
            let list = (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
            let mut query = sqlx::query(AssertSqlSafe(format!(
                "SELECT document_id, position, name, media_type, size, sha256 FROM attachments \
                 WHERE document_id IN ({list}) ORDER BY document_id, position"
            )));
            for id in chunk {
                query = query.bind(*id);
            }
            let attachments = query.fetch_all(&self.pool).await?;
            for row in &attachments {
                by_document.entry(row.try_get(0)?).or_default().push(AttachmentInfo {
                    position: row.try_get(1)?,
                    name: row.try_get(2)?,
                    media_type: row.try_get(3)?,
                    size: row.try_get(4)?,
                    sha256: row.try_get(5)?,
                });
            }
        }
        for record in &mut records {
            record.attachments = by_document.remove(&record.id).unwrap_or_default();
        }
        Ok(records)
    }
}

/// Takes the year's counter row for this register, creating it at 0; on PostgreSQL the row lock
/// holds every other registrar until this transaction ends, which keeps numbers gapless.
pub(super) async fn lock_counter(tx: &mut Transaction<'static, Any>, direction: Direction, year: i32) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO register_counters (register, year, last) VALUES ($1, $2, 0) \
         ON CONFLICT (register, year) DO UPDATE SET last = register_counters.last RETURNING last",
    )
    .bind(direction.register())
    .bind(i64::from(year))
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get::<i64, _>(0)?)
}

async fn document_id(tx: &mut Transaction<'static, Any>, number: &str) -> Result<i64> {
    sqlx::query("SELECT id FROM documents WHERE number = $1")
        .bind(number)
        .fetch_optional(&mut **tx)
        .await?
        .map(|row| row.try_get::<i64, _>(0))
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(Reference::Document(number.to_string())))
}

#[allow(clippy::too_many_arguments)]
async fn record_history(
    tx: &mut Transaction<'static, Any>,
    document_id: i64,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    field: Option<&str>,
    old_value: Option<&str>,
    new_value: Option<&str>,
    reason: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO history (document_id, at, actor, action, field, old_value, new_value, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(document_id)
    .bind(stamp(at))
    .bind(actor)
    .bind(action)
    .bind(field)
    .bind(old_value)
    .bind(new_value)
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes a history line the core worded (`core::history`), by `actor` at `at`.
async fn write_history_in(
    tx: &mut Transaction<'static, Any>,
    document_id: i64,
    at: DateTime<Utc>,
    actor: &str,
    line: &HistoryLine,
) -> Result<()> {
    record_history(
        tx,
        document_id,
        at,
        actor,
        line.action,
        line.field,
        line.old_value.as_deref(),
        line.new_value.as_deref(),
        line.reason.as_deref(),
    )
    .await
}

/// The register's small JSON columns; plain data cannot fail to serialize.
pub(super) fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_string())
}
