//! The EDMS store: the only module that speaks SQL. One code path for SQLite (the embedded
//! default) and PostgreSQL (several instances sharing one register), through sqlx's `Any` driver.
//!
//! Columns are read with `try_get` (a value of another type is an error, where `get` panics),
//! and integers cross between the database's i64 and narrower types with `rows::integer` and
//! `rows::count`, never `as`: the lints below keep it so under `cargo clippy`.
#![deny(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_possible_wrap)]

mod agreements;
mod attachments;
// The benchmarks' fills: no part of the product.
#[cfg(feature = "bench")]
mod bulk;
mod calendar;
mod copy;
mod digest;
mod documents;
mod events;
mod firing;
mod instances;
mod meetings;
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

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sqlx::any::AnyPoolOptions;
// Dynamic SQL here is built only from fixed column names and `$N` placeholders, never from input.
use sqlx::{Any, AnyPool, AssertSqlSafe, Row, Transaction};

use crate::core::confidentiality::Confidentiality;
use crate::core::intake::{IntakePolicy, Source};
use crate::core::letter::{Letter, fingerprint};
use crate::core::number::{Direction, numbers_in, without_numbers};
use crate::core::time::stamp;

pub use agreements::{AGREEMENT_REMINDERS, Agreements};
pub use calendar::{Calendar, Scope};
pub use copy::{CopyReport, copy_register};
pub use digest::Digests;
pub use documents::{Acknowledgement, Documents, ThreadMember};
pub use events::AnsweredEvents;
pub use firing::FiringReport;
pub use instances::{InstanceRecord, Instances, LeaseRecord};
pub use meetings::{Meetings, NewMeeting};
pub use outbox::Outbox;
pub use partners::{Contact, PartnerFilter, PartnerLetter, Partners};
pub use press::PressReleases;
pub use records::{AttachmentInfo, DocumentRecord, HistoryEntry, ListFilter, Problem, StoredAttachment};
pub use register::AnsweredLetter;
pub use reminders::{ReminderRecord, Reminders};
pub use room_outbox::{RoomMessage, RoomMessageRecord, RoomMessages};
pub use staff::{DirectoryEntry, Reach, StaffDirectory};
pub use visas::{Closing, VisaCases, VisaFilter};

/// The most documents a full-text search returns.
const SEARCH_RESULTS: i64 = 200;
/// A full-text search with at most this many matches returns the best first (bm25, ts_rank);
/// one with more, the newest first (see `search_text`).
const RANKED_MATCHES: i64 = 2000;
/// Documents whose attachments are looked up in one statement.
const ATTACHMENT_LOOKUP_CHUNK: usize = 500;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Refused(String),
    /// What the register holds does not match what it says it holds (see `verify`).
    #[error("{0}")]
    Damaged(String),
    /// Another registrar committed the same letter while this transaction was writing it: the
    /// batch is rolled back, and registering it again finds the letter registered.
    #[error("{0}")]
    Conflict(String),
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error(
        "no register at {path} (database.url = {url}): point at the right one with --config or CHANCERY_DATABASE__URL, \
         or create one with `chancery db migrate`"
    )]
    Missing { path: String, url: String },
}

impl StoreError {
    /// A refusal in the core's words (`"agreement 4 has ended"`), as a sentence of a reply.
    pub(crate) fn refused(problem: &str) -> StoreError {
        let mut chars = problem.chars();
        StoreError::Refused(match chars.next() {
            Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
            None => String::new(),
        })
    }

    /// Whether the database could not be reached or was restarting (a network error, a pool
    /// that timed out, PostgreSQL starting up or shutting down): trying again later may work.
    pub fn is_unreachable(&self) -> bool {
        let error = match self {
            StoreError::Database(error) => error,
            StoreError::Migrate(sqlx::migrate::MigrateError::Execute(error) | sqlx::migrate::MigrateError::ExecuteMigration(error, _)) => {
                error
            }
            _ => return false,
        };
        match error {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => true,
            // Class 08: connection exceptions; 57P0x: the server is shutting down or starting.
            sqlx::Error::Database(error) => error.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
            _ => false,
        }
    }
}

/// Whether opening may create the register. Only the commands that write letters into it
/// (`serve`, `ingest`, `send`) and `db migrate` create one; a command that only reads, run
/// from the wrong folder, must not leave an empty register behind and report it empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    CreateIfMissing,
    Existing,
}

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
    outbox_waker: std::sync::Arc<std::sync::OnceLock<std::sync::Arc<tokio::sync::Notify>>>,
    /// Told when a room message was written, so the Matrix adapter posts it at once.
    room_waker: std::sync::Arc<std::sync::OnceLock<std::sync::Arc<tokio::sync::Notify>>>,
    /// Told when a reminder was scheduled or moved, so the scheduler looks again.
    reminder_waker: std::sync::Arc<std::sync::OnceLock<std::sync::Arc<tokio::sync::Notify>>>,
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
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            (Backend::Sqlite, sqlite_url(url, mode)?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let mut options = AnyPoolOptions::new().max_connections(if backend == Backend::Sqlite { 4 } else { 8 });
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL lets readers work while the listener writes; the busy timeout lets a
                    // second process wait for the write lock instead of failing.
                    // Register databases are mostly message bytes: bigger pages mean fewer overflow
                    // pages (takes effect only when the file is created).
                    sqlx::query("PRAGMA page_size = 16384").execute(&mut *conn).await?;
                    sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                    sqlx::query("PRAGMA busy_timeout = 30000").execute(&mut *conn).await?;
                    // A batch of letters is one transaction of a few megabytes: a cache that holds
                    // it avoids spilling pages mid-transaction, and statement journals stay in RAM.
                    // A larger cache buys little more: a letter of 50 MB spills anyway, and each
                    // of the pool's connections would keep its cache full afterwards.
                    sqlx::query("PRAGMA cache_size = -4096").execute(&mut *conn).await?;
                    sqlx::query("PRAGMA temp_store = MEMORY").execute(&mut *conn).await?;
                    // Checkpoints run beside registration (see `checkpoint_soon`), not inside the
                    // commit of whichever batch happens to fill the log.
                    sqlx::query("PRAGMA wal_autocheckpoint = 0").execute(&mut *conn).await?;
                    Ok(())
                })
            });
        } else {
            options = options.after_connect(|conn, _| {
                Box::pin(async move {
                    // The server's NOTICEs ("relation _sqlx_migrations already exists, skipping" on
                    // every start) are chatter; sqlx would log each one on stderr at INFO.
                    sqlx::query("SET client_min_messages = warning").execute(&mut *conn).await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(&url).await?;
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

    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Copies the write-ahead log into the database and empties it (SQLite), then closes.
    pub async fn close(&self) {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await.ok();
        }
        self.pool.close().await;
    }

    /// Starts a checkpoint on another connection unless one is running, so the log is copied
    /// into the database while the next batch is being registered (SQLite; a no-op elsewhere).
    fn checkpoint_soon(&self) {
        use std::sync::atomic::Ordering;
        if self.backend != Backend::Sqlite || self.checkpointing.swap(true, Ordering::AcqRel) {
            return;
        }
        let (pool, flag) = (self.pool.clone(), std::sync::Arc::clone(&self.checkpointing));
        tokio::spawn(async move {
            if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
                tracing::warn!(%error, "WAL checkpoint failed; it will be retried after the next batch");
            }
            flag.store(false, Ordering::Release);
        });
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
            Option<&AnsweredLetter>,
        ) -> std::result::Result<(Vec<u8>, crate::core::outbound::OutgoingMail), String>,
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
        let mut record = records.pop().ok_or_else(|| StoreError::NotFound(format!("no document {number}")))?;
        record.history = Some(self.history(record.id).await?);
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

    /// Search: the documents of the threads whose registration numbers the text names come
    /// first, then full-text hits over subject, body and attachment names, where every other
    /// word must occur, matched as a word prefix. Words are folded as the routing rules fold
    /// them (`core::fold`): `TOPLANTISI` finds `toplantısı`, `елка` finds `ёлка`.
    pub async fn search(&self, text: &str) -> Result<Vec<DocumentRecord>> {
        let numbers = numbers_in(text);
        let mut found = Vec::new();
        for number in &numbers {
            let thread = self
                .documents_where(
                    "COALESCE(d.thread_id, d.id) = (SELECT COALESCE(n.thread_id, n.id) FROM documents n WHERE n.number = $1)",
                    &[number.to_string()],
                )
                .await?;
            for document in thread {
                if !found.iter().any(|f: &DocumentRecord| f.id == document.id) {
                    found.push(document);
                }
            }
        }
        let words = search::query_words(&without_numbers(text));
        if words.is_empty() {
            return Ok(found);
        }
        for document in self.search_text(&words).await? {
            if !found.iter().any(|f| f.id == document.id) {
                found.push(document);
            }
        }
        Ok(found)
    }

    /// Documents whose index holds every word (each as a word prefix), best first, or newest
    /// first when more than `RANKED_MATCHES` match. It reads the index as it stands: writes keep
    /// it up (see `search`), a search never waits for indexing.
    async fn search_text(&self, words: &[String]) -> Result<Vec<DocumentRecord>> {
        let (query, best) = match self.backend {
            Backend::Sqlite => (
                words.iter().map(|w| format!("\"{w}\" *")).collect::<Vec<_>>().join(" AND "),
                "SELECT rowid FROM documents_fts WHERE documents_fts MATCH $1 ORDER BY rank LIMIT $2",
            ),
            Backend::Postgres => (
                words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & "),
                "SELECT document_id FROM document_search WHERE vector @@ to_tsquery('simple', $1) \
                 ORDER BY ts_rank(vector, to_tsquery('simple', $1)) DESC LIMIT $2",
            ),
        };
        // The newest matches come from the index at once. Ranking reads every match (bm25 also
        // counts them all), which for a common word is much of a large register and tells its
        // letters little apart: only a search with a few matches is ranked. The newest
        // `RANKED_MATCHES + 1` say both which are the newest and whether there are more.
        let newest = self.newest_matches(words, &query, RANKED_MATCHES + 1).await?;
        let ids: Vec<i64> = if rows::count(newest.len()) > RANKED_MATCHES {
            newest.into_iter().take(usize::try_from(SEARCH_RESULTS).unwrap_or(usize::MAX)).collect()
        } else if !newest.is_empty() {
            let rows = sqlx::query(best).bind(query.as_str()).bind(SEARCH_RESULTS).fetch_all(&self.pool).await?;
            rows.iter().map(|row| row.try_get(0)).collect::<std::result::Result<_, _>>()?
        } else {
            Vec::new()
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let mut found = self.documents_where(&format!("d.id IN ({list})"), &[]).await?;
        let rank: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        found.sort_by_key(|d| rank.get(&d.id).copied().unwrap_or(usize::MAX));
        Ok(found)
    }

    pub async fn raw(&self, number: &str) -> Result<Vec<u8>> {
        sqlx::query("SELECT r.bytes FROM raw_messages r JOIN documents d ON d.id = r.document_id WHERE d.number = $1")
            .bind(number)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| row.try_get::<Vec<u8>, _>(0))
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("no stored message for {number}")))
    }

    /// Marks an entry annulled; it stays in the register, visibly annulled, with the reason.
    pub async fn annul(&self, number: &str, reason: &str, actor: &str, now: DateTime<Utc>) -> Result<()> {
        if reason.trim().is_empty() {
            return Err(StoreError::Refused("an annulment needs a reason".into()));
        }
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT id, status FROM documents WHERE number = $1")
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no document {number}")))?;
        let (id, status): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
        if status == "annulled" {
            return Err(StoreError::Refused(format!("{number} is already annulled")));
        }
        sqlx::query("UPDATE documents SET status = 'annulled', annul_reason = $1 WHERE id = $2")
            .bind(reason)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        record_history(&mut tx, id, now, actor, "annulled", Some("status"), Some(&status), Some("annulled"), Some(reason)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes what may change after registration (status, unit, classification,
    /// confidentiality), recording the change in the history.
    pub async fn change(
        &self,
        number: &str,
        field: &str,
        value: &str,
        actor: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let column = match field {
            "status" | "unit" | "classification" | "confidentiality" => field,
            other => {
                return Err(StoreError::Refused(format!(
                    "'{other}' cannot be changed; only status, unit, classification and confidentiality can"
                )));
            }
        };
        if column == "unit" {
            // A reroute also moves the letter's reminders to the new unit's people.
            return self.documents().reroute(number, value, reason.unwrap_or(""), actor, now).await.map(|_| ());
        }
        if column == "confidentiality" && Confidentiality::parse(value).is_none() {
            return Err(StoreError::Refused(format!("'{value}' is not a confidentiality level (public, internal, confidential, secret)")));
        }
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(AssertSqlSafe(format!("SELECT id, {column} FROM documents WHERE number = $1")))
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("no document {number}")))?;
        let (id, old): (i64, Option<String>) = (row.try_get(0)?, row.try_get(1)?);
        sqlx::query(AssertSqlSafe(format!("UPDATE documents SET {column} = $1 WHERE id = $2")))
            .bind(value)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        record_history(&mut tx, id, now, actor, "changed", Some(column), old.as_deref(), Some(value), reason).await?;
        tx.commit().await?;
        Ok(())
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
            "SELECT d.number, d.sha256, r.bytes FROM documents d LEFT JOIN raw_messages r ON r.document_id = d.id ORDER BY d.id",
        )
        .fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            checked += 1;
            let number: String = row.try_get(0)?;
            let expected: String = row.try_get(1)?;
            match row.try_get::<Option<Vec<u8>>, _>(2)? {
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
             d.assignee, d.acknowledged_at, d.acknowledged_by \
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
        .ok_or_else(|| StoreError::NotFound(format!("no document {number}")))
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

/// The SQLite URL to connect with: it creates the file on first use, as an embedded default
/// should, only when `mode` allows; otherwise a missing file is an error naming where it was
/// looked for.
fn sqlite_url(url: &str, mode: OpenMode) -> Result<String> {
    if url.contains("mode=") || url.contains(":memory:") {
        return Ok(url.to_string());
    }
    let access = match mode {
        OpenMode::CreateIfMissing => "rwc",
        OpenMode::Existing => {
            let path = sqlite_path(url);
            if !path.exists() {
                let absolute = std::path::absolute(&path).unwrap_or(path);
                return Err(StoreError::Missing { path: absolute.display().to_string(), url: url.to_string() });
            }
            "rw"
        }
    };
    let separator = if url.contains('?') { '&' } else { '?' };
    Ok(format!("{url}{separator}mode={access}"))
}

/// The file a `sqlite:` URL names: `sqlite://chancery.db`, `sqlite:///var/lib/x.db`, `sqlite:x.db`.
fn sqlite_path(url: &str) -> std::path::PathBuf {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let path = rest.split_once('?').map_or(rest, |(path, _)| path);
    std::path::PathBuf::from(path)
}

/// The register's small JSON columns; plain data cannot fail to serialize.
pub(super) fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_string())
}
