//! Reminders: `store.reminders()`. Each row carries the time it fires next (`due_at`, indexed
//! while active), so a wake-up reads only what is due, however many reminders exist.
//!
//! Exactly once: `fire_due` claims due rows, asks `core::remind` what each firing says, writes
//! the messages to the room outbox and the mail outbox, and moves the row on, all in one
//! transaction. The row is moved only if it is still as it was read (`due_at` and `status`), so
//! two instances on one PostgreSQL (which also skip each other's locked rows) never both fire a
//! step; a crash before the commit leaves the row due, and it fires at the next start, late.
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
use super::{Backend, Result, Store, StoreError, outbox, room_outbox};
use crate::core::announce::RoomTarget;
use crate::core::confidentiality::Confidentiality;
use crate::core::outbound::{self, MailKind, OutgoingMail};
use crate::core::remind::{self, Delivery, Kind, Policy, Recipient, Reminder, Subject};
use crate::core::status::SETTLED_STATUSES;
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

/// What one wake-up did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FiringReport {
    /// Reminders that fired (or ended quietly because their subject is settled).
    pub fired: usize,
    /// Messages written to the outboxes.
    pub messages: usize,
    /// Firings more than a minute after their time.
    pub late: usize,
    /// Rows another instance fired first.
    pub taken_by_others: usize,
}

/// The reminders' view of the store.
pub struct Reminders<'a> {
    store: &'a Store,
}

impl Store {
    pub fn reminders(&self) -> Reminders<'_> {
        Reminders { store: self }
    }

    /// The rules reminders fire by (from `[reminders]` and the office's calendar); until set,
    /// the defaults in the store's zone.
    pub fn set_reminder_policy(&self, policy: Policy) {
        *self.reminder_policy.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Arc::new(policy));
    }

    pub fn reminder_policy(&self) -> Arc<Policy> {
        let set = self.reminder_policy.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
        set.unwrap_or_else(|| Arc::new(Policy::new(self.zone)))
    }

    /// The scheduler's wake-up: whatever schedules a reminder notifies it, so a reminder sooner
    /// than the one it sleeps for is not missed.
    pub fn wake_on_reminder(&self, waker: Arc<Notify>) {
        self.reminder_waker.set(waker).ok();
    }

    /// Tells the scheduler, if one runs, that reminders were committed.
    pub(super) fn reminder_committed(&self) {
        if let Some(waker) = self.reminder_waker.get() {
            waker.notify_one();
        }
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

/// How to reach a person: their Matrix ID, and their address and zone when the staff directory
/// has them.
pub(super) async fn recipient_in(tx: &mut Transaction<'static, Any>, mxid: &str) -> Result<Recipient> {
    let row = sqlx::query("SELECT email, timezone FROM staff WHERE mxid = $1").bind(mxid).fetch_optional(&mut **tx).await?;
    let (email, zone) = match row {
        Some(row) => (row.try_get::<Option<String>, _>(0)?, row.try_get::<Option<String>, _>(1)?.and_then(|tz| tz.parse().ok())),
        None => (None, None),
    };
    Ok(Recipient { mxid: Some(mxid.to_string()), email, zone })
}

/// The managers of a unit (its head in the chat), with their addresses and zones.
pub(super) async fn managers_in(tx: &mut Transaction<'static, Any>, unit: &str) -> Result<Vec<Recipient>> {
    let rows = sqlx::query("SELECT mxid, email, timezone FROM staff WHERE unit = $1 AND role = 'manager' ORDER BY mxid")
        .bind(unit)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Recipient {
                mxid: Some(row.try_get(0)?),
                email: row.try_get(1)?,
                zone: row.try_get::<Option<String>, _>(2)?.and_then(|tz| tz.parse().ok()),
            })
        })
        .collect()
}

/// Each person once, in the order first named; one without a Matrix ID (an address only) by
/// address.
pub(super) fn distinct(recipients: Vec<Recipient>) -> Vec<Recipient> {
    let mut seen = std::collections::HashSet::new();
    recipients.into_iter().filter(|r| seen.insert(r.mxid.clone().or_else(|| r.email.clone()))).collect()
}

/// Writes a firing's messages inside the caller's transaction: direct and room messages to the
/// room outbox, e-mails (when mail is on) to the mail outbox with a Message-ID fixed by the
/// reminder and its step, so a resend is recognisably the same mail. Returns how many.
pub(super) async fn deliver_in(
    tx: &mut Transaction<'static, Any>,
    policy: &Policy,
    reminder_id: i64,
    step: u32,
    deliveries: &[Delivery],
    now: DateTime<Utc>,
) -> Result<usize> {
    let mut written = 0;
    for (n, delivery) in deliveries.iter().enumerate() {
        match delivery {
            Delivery::Direct { mxid, markdown } => {
                room_outbox::enqueue_in(tx, None, &RoomTarget::Person(mxid.clone()), markdown, now).await?;
            }
            Delivery::Room { room, markdown } => {
                room_outbox::enqueue_in(tx, None, &RoomTarget::Room(room.clone()), markdown, now).await?;
            }
            Delivery::Email { to, subject, text } => {
                let Some(from) = &policy.mail_from else { continue };
                let domain = outbound::domain_of(from).unwrap_or_else(|| "localhost".into());
                let mail = OutgoingMail {
                    kind: MailKind::Reminder,
                    from: from.clone(),
                    to: vec![to.clone()],
                    subject: subject.clone(),
                    text: text.clone(),
                    in_reply_to: None,
                    references: Vec::new(),
                    auto_submitted: true,
                    attach_original: false,
                    attachments: Vec::new(),
                    // The reminder's id and step tell the mails of one register apart; the
                    // moment tells registers apart (another register's reminder 12).
                    message_id: outbound::message_id(
                        MailKind::Reminder,
                        "",
                        &format!("r{reminder_id}-{step}-{n}.{}", now.timestamp_micros()),
                        &domain,
                    ),
                };
                outbox::enqueue_in(tx, None, &mail, now).await?;
            }
        }
        written += 1;
    }
    Ok(written)
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
            .ok_or_else(|| StoreError::NotFound(format!("There is no reminder {id}.")))?;
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
            return Err(StoreError::Refused(format!(
                "Reminder {id} has ended already ({}{}).",
                record.status,
                record.closed_by.as_deref().map(|by| format!(" by {by}")).unwrap_or_default()
            )));
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
            return Err(StoreError::Refused(format!("Reminder {id} has ended already ({}).", record.status)));
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
    pub async fn ensure_digests(&self, units: &[String], now: DateTime<Utc>) -> Result<()> {
        let policy = self.store.reminder_policy();
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

    /// Fires up to `limit` reminders that are due at `now`, oldest first, each exactly once
    /// (see the module's notes). Call again while it fires `limit`.
    pub async fn fire_due(&self, now: DateTime<Utc>, limit: u32) -> Result<FiringReport> {
        let policy = self.store.reminder_policy();
        let mut tx = self.store.begin_write().await?;
        let lock = if self.store.backend == Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} WHERE status = 'active' AND due_at <= $1 ORDER BY due_at, id LIMIT $2{lock}"
        )))
        .bind(stamp(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await?;
        let due = rows.iter().map(record_from_row).collect::<Result<Vec<_>>>()?;
        let mut report = FiringReport::default();
        let mut wrote_room = false;
        let mut wrote_mail = false;
        for record in due {
            let reminder = record.reminder;
            // What a reminder counted from a date says is decided from what is read; a digest
            // and an agenda pack write as they are made (an agenda pack registers its mail), so
            // they are made only once the row is claimed.
            let decided = match reminder.kind {
                Kind::Digest | Kind::AgendaPack => None,
                _ => {
                    let subject = subject_in(&mut tx, &policy, &reminder).await?;
                    Some(remind::fire(&reminder, subject.as_ref(), now, &policy))
                }
            };
            let next = match (&decided, reminder.kind) {
                (Some(firing), _) => firing.next,
                (None, Kind::Digest) => Some(policy.next_digest(now)),
                (None, _) => None,
            };
            if !claim_in(&mut tx, &reminder, next, now).await? {
                // Another instance fired this step first.
                report.taken_by_others += 1;
                continue;
            }
            let deliveries = match (decided, reminder.kind) {
                (Some(firing), _) => firing.deliveries,
                (None, Kind::Digest) => {
                    super::digest::fire_digest_in(&mut tx, &policy, reminder.subject_key.as_deref().unwrap_or_default(), now).await?
                }
                (None, _) => {
                    wrote_mail = true;
                    super::meetings::fire_agenda_pack_in(&mut tx, &policy, reminder.subject_id.unwrap_or_default(), now).await?
                }
            };
            report.messages += deliver_in(&mut tx, &policy, reminder.id, reminder.step, &deliveries, now).await?;
            wrote_room |= deliveries.iter().any(|d| !matches!(d, Delivery::Email { .. }));
            wrote_mail |= deliveries.iter().any(|d| matches!(d, Delivery::Email { .. })) && policy.mail_from.is_some();
            report.fired += 1;
            if now - reminder.due_at > remind::LATE_AFTER {
                report.late += 1;
            }
        }
        tx.commit().await?;
        if wrote_room {
            self.store.room_message_committed();
        }
        if wrote_mail {
            self.store.mail_committed();
        }
        Ok(report)
    }
}

/// Moves a due reminder on to `next` (or ends it), only if it is still as it was read: false
/// when another instance fired this step first.
async fn claim_in(
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

/// What a reminder counted from a date is about, read in the firing transaction; `None` when
/// it no longer exists (or for a personal reminder, which needs nothing).
async fn subject_in(tx: &mut Transaction<'static, Any>, policy: &Policy, reminder: &Reminder) -> Result<Option<Subject>> {
    let Some(id) = reminder.subject_id else { return Ok(None) };
    match reminder.kind {
        Kind::VisaApplyBy | Kind::VisaExpiry => visa_subject_in(tx, policy, id).await,
        Kind::LetterDue | Kind::LetterOverdue => letter_subject_in(tx, policy, reminder.kind, id).await,
        Kind::FollowUp => follow_up_subject_in(tx, id).await,
        Kind::AgreementEnd | Kind::AgreementNotice => super::agreements::reminder_subject_in(tx, policy, reminder.kind, id).await,
        Kind::Personal | Kind::Digest | Kind::AgendaPack => Ok(None),
    }
}

/// A visa case: the person in charge (who opened it), the traveller when on staff, and the
/// International Relations Office's managers.
async fn visa_subject_in(tx: &mut Transaction<'static, Any>, policy: &Policy, id: i64) -> Result<Option<Subject>> {
    let row = sqlx::query("SELECT traveller, traveller_mxid, country, kind, status, created_by FROM visa_cases WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let (traveller, traveller_mxid, country, kind, status, created_by): (String, Option<String>, String, String, String, String) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?, row.try_get(5)?);
    let mut recipients = vec![recipient_in(tx, &created_by).await?];
    if let Some(mxid) = &traveller_mxid {
        recipients.push(recipient_in(tx, mxid).await?);
    }
    recipients.extend(managers_in(tx, &policy.office_unit).await?);
    Ok(Some(Subject {
        title: format!("visa case {id}, {traveller} to {country} ({kind})"),
        open: status == "open",
        visa_kind: Some(kind),
        recipients: distinct(recipients),
        show: Some(format!("!visa show {id}")),
    }))
}

/// A letter: before its due date its assignee (or, with nobody assigned, its unit's managers);
/// once overdue its unit's managers and head. A confidential letter's subject is not told.
async fn letter_subject_in(tx: &mut Transaction<'static, Any>, policy: &Policy, kind: Kind, id: i64) -> Result<Option<Subject>> {
    let row = sqlx::query("SELECT number, unit, assignee, status, subject, confidentiality FROM documents WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let (number, unit, assignee, status, subject, confidentiality): (String, String, Option<String>, String, String, String) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?, row.try_get(5)?);
    let restricted = Confidentiality::parse(&confidentiality).is_none_or(|level| level.is_restricted());
    let mut recipients = match (kind, &assignee) {
        (Kind::LetterDue, Some(assignee)) => vec![recipient_in(tx, assignee).await?],
        _ => managers_in(tx, &unit).await?,
    };
    if kind == Kind::LetterOverdue
        && let Some(email) = policy.unit_head_emails.get(&unit)
    {
        // The head may be in the directory with this address: then they are told once, there.
        if !recipients.iter().any(|r| r.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email))) {
            recipients.push(Recipient { mxid: None, email: Some(email.clone()), zone: None });
        }
    }
    let about = if restricted { crate::core::announce::CONFIDENTIAL_PLACEHOLDER.to_string() } else { format!("“{subject}”") };
    Ok(Some(Subject {
        title: format!("{number} {about}, {unit}"),
        open: !SETTLED_STATUSES.contains(&status.as_str()),
        visa_kind: None,
        recipients: distinct(recipients),
        show: Some(format!("!doc {number}")),
    }))
}

/// A contact's follow-up: whoever logged the contact.
async fn follow_up_subject_in(tx: &mut Transaction<'static, Any>, id: i64) -> Result<Option<Subject>> {
    let row = sqlx::query(
        "SELECT c.summary, c.follow_up_done, c.logged_by, p.handle, p.name FROM contacts c JOIN partners p ON p.id = c.partner_id \
         WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let (summary, done, logged_by, handle, name): (String, i64, String, String, String) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
    Ok(Some(Subject {
        title: format!("contact {id} with {name}: {summary}"),
        open: done == 0,
        visa_kind: None,
        recipients: vec![recipient_in(tx, &logged_by).await?],
        show: Some(format!("!contacts {handle}")),
    }))
}

fn record_from_row(row: &AnyRow) -> Result<ReminderRecord> {
    let kind: String = row.try_get(1)?;
    let due_at: String = row.try_get(6)?;
    Ok(ReminderRecord {
        reminder: Reminder {
            id: row.try_get(0)?,
            kind: Kind::parse(&kind).ok_or_else(|| StoreError::Refused(format!("reminder with unknown kind {kind:?}")))?,
            subject_id: row.try_get(2)?,
            subject_key: row.try_get(3)?,
            deadline: row.try_get::<Option<String>, _>(4)?.and_then(|day| day.parse().ok()),
            step: integer(row, 5)?,
            due_at: parse_stamp(&due_at).ok_or_else(|| StoreError::Refused(format!("reminder with a bad time {due_at:?}")))?,
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
