//! Agreements with partners: `store.agreements()`. An agreement, its letters and its reminders
//! (180, 90 and 30 days before its end and before its notice deadline, by `Policy::agreement_leads`)
//! are written in one transaction; a renewal closes the old reminders and schedules new ones in
//! the transaction that moves the end.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use super::reminders::{close_subject_in, end_subject_in, schedule_deadline_in};
use super::staff::{managers_in, recipient_in};
use super::{Refusal, Result, Store, StoreError};
use crate::core::agreement::{self, Agreement, AgreementKind, Ending, Notice, Renewal, Terms};
use crate::core::firing::AgreementFacts;
use crate::core::number::RegistrationNumber;
use crate::core::reference::Reference;
use crate::core::remind::{Kind, Policy};
use crate::core::time::{parse_stamp, stamp};
use crate::core::undo;

/// The reminder kinds an agreement has.
pub const AGREEMENT_REMINDERS: [Kind; 2] = [Kind::AgreementEnd, Kind::AgreementNotice];

const COLUMNS: &str = "a.id, p.handle, p.name, a.kind, a.starts_on, a.ends_on, a.notice, a.created_by, a.created_at, \
     a.renewed_by, a.renewed_at, a.previous_end, a.ended_by, a.ended_at, a.end_reason, a.planned_end FROM agreements a JOIN partners p ON p.id = a.partner_id";

/// The agreements' view of the store.
pub struct Agreements<'a> {
    store: &'a Store,
}

impl Store {
    pub fn agreements(&self) -> Agreements<'_> {
        Agreements { store: self }
    }
}

impl Agreements<'_> {
    /// Records an agreement with its letters and schedules its reminders; returns its id.
    /// Nothing is stored when the partner or one of the letters is not found.
    pub async fn add(&self, policy: &Policy, terms: &Terms, by: &str, now: DateTime<Utc>) -> Result<i64> {
        let mut tx = self.store.begin_write().await?;
        let partner_id: i64 = sqlx::query("SELECT id FROM partners WHERE handle = $1")
            .bind(&terms.partner)
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| row.try_get(0))
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(Reference::Partner(terms.partner.clone())))?;
        let documents = document_ids_in(&mut tx, &terms.letters).await?;
        let row = sqlx::query(
            "INSERT INTO agreements (partner_id, kind, starts_on, ends_on, notice, notice_by, status, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8) RETURNING id",
        )
        .bind(partner_id)
        .bind(terms.kind.as_str())
        .bind(terms.start.to_string())
        .bind(terms.end.to_string())
        .bind(terms.notice.map(|notice| notice.to_string()))
        .bind(terms.notice_deadline().map(|day| day.to_string()))
        .bind(by)
        .bind(stamp(now))
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        link_letters_in(&mut tx, id, &documents).await?;
        schedule_in(&mut tx, policy, id, &agreement::reminders(terms.end, terms.notice_deadline()), by, now).await?;
        tx.commit().await?;
        self.store.reminder_committed();
        Ok(id)
    }

    pub async fn get(&self, id: i64) -> Result<Agreement> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} WHERE a.id = $1")))
            .bind(id)
            .fetch_optional(&self.store.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(Reference::Agreement(id)))?;
        let mut agreement = agreement_from_row(&row)?;
        agreement.terms.letters = self.letters(id).await?;
        Ok(agreement)
    }

    /// Moves an active agreement's end to `new_end` (after the current one, not before
    /// `today`), links the letters that carry the renewal, and replaces its reminders.
    #[allow(clippy::too_many_arguments)]
    pub async fn renew(
        &self,
        policy: &Policy,
        id: i64,
        new_end: NaiveDate,
        letters: &[RegistrationNumber],
        by: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Agreement> {
        let mut tx = self.store.begin_write().await?;
        let row = sqlx::query("SELECT starts_on, ends_on, notice, status, created_by FROM agreements WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(Reference::Agreement(id)))?;
        let (starts_on, ends_on, notice, status, created_by): (String, String, Option<String>, String, String) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
        if status != "active" {
            return Err(Refusal::AgreementEnded(id).into());
        }
        let (start, old_end) = (date(id, "start", &starts_on)?, date(id, "end", &ends_on)?);
        let notice = notice.as_deref().map(|text| notice_of(id, text)).transpose()?;
        let plan = agreement::plan_renewal(old_end, new_end, notice, start, today)?;
        let documents = document_ids_in(&mut tx, letters).await?;
        // Only if still as read: two renewals at once must not both pass the check above.
        let moved = sqlx::query(
            "UPDATE agreements SET ends_on = $1, notice_by = $2, renewed_by = $3, renewed_at = $4, previous_end = $5 \
             WHERE id = $6 AND ends_on = $5 AND status = 'active'",
        )
        .bind(plan.end.to_string())
        .bind(plan.notice_by.map(|day| day.to_string()))
        .bind(by)
        .bind(stamp(now))
        .bind(&ends_on)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved == 0 {
            return Err(Refusal::ChangedMeanwhile(Reference::Agreement(id)).into());
        }
        link_letters_in(&mut tx, id, &documents).await?;
        close_subject_in(&mut tx, &plan.closed, id, by, now).await?;
        // The reminders stay with whoever added the agreement: they hear of it, with the office.
        schedule_in(&mut tx, policy, id, &plan.scheduled, &created_by, now).await?;
        tx.commit().await?;
        self.store.reminder_committed();
        self.get(id).await
    }

    /// Ends an active agreement on `on` for `reason` (`core::undo::end_agreement`): its end
    /// moves there, the end it had is kept as `planned_end`, who ended it, when and why are
    /// written down, and its reminders end, all in one transaction.
    pub async fn end(&self, id: i64, on: NaiveDate, reason: &str, by: &str, now: DateTime<Utc>) -> Result<Agreement> {
        let mut tx = self.store.begin_write().await?;
        let row = sqlx::query("SELECT starts_on, ends_on, status FROM agreements WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(Reference::Agreement(id)))?;
        let (starts_on, ends_on, status): (String, String, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let state = undo::AgreementState { id, start: date(id, "start", &starts_on)?, end: date(id, "end", &ends_on)?, status };
        let plan = undo::end_agreement(&state, on, reason)?;
        let ended = sqlx::query(
            "UPDATE agreements SET status = 'ended', ends_on = $1, planned_end = $2, ended_by = $3, ended_at = $4, end_reason = $5 \
             WHERE id = $6 AND ends_on = $2 AND status = 'active'",
        )
        .bind(plan.ends_on.to_string())
        .bind(plan.previous_end.to_string())
        .bind(by)
        .bind(stamp(now))
        .bind(&plan.reason)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if ended == 0 {
            return Err(Refusal::ChangedMeanwhile(Reference::Agreement(id)).into());
        }
        end_subject_in(&mut tx, &plan.ended, id, "cancelled", by, now).await?;
        tx.commit().await?;
        self.get(id).await
    }

    /// Active agreements that end between `from` and `horizon` (both included), soonest first.
    pub async fn expiring(&self, from: NaiveDate, horizon: NaiveDate) -> Result<Vec<Agreement>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} WHERE a.status = 'active' AND a.ends_on >= $1 AND a.ends_on <= $2 ORDER BY a.ends_on, a.id"
        )))
        .bind(from.to_string())
        .bind(horizon.to_string())
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter().map(agreement_from_row).collect()
    }

    /// Every active agreement, soonest end first.
    pub async fn active(&self) -> Result<Vec<Agreement>> {
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} WHERE a.status = 'active' ORDER BY a.ends_on, a.id")))
            .fetch_all(&self.store.pool)
            .await?;
        rows.iter().map(agreement_from_row).collect()
    }

    /// A partner's agreements with their letters (`!partner show`), the latest end first.
    pub async fn of_partner(&self, handle: &str) -> Result<Vec<Agreement>> {
        let rows = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} WHERE p.handle = $1 ORDER BY a.ends_on DESC, a.id DESC")))
            .bind(handle)
            .fetch_all(&self.store.pool)
            .await?;
        let mut agreements = rows.iter().map(agreement_from_row).collect::<Result<Vec<_>>>()?;
        for agreement in &mut agreements {
            agreement.terms.letters = self.letters(agreement.id).await?;
        }
        Ok(agreements)
    }

    /// The registration numbers of the letters that carry an agreement, in register order.
    async fn letters(&self, id: i64) -> Result<Vec<RegistrationNumber>> {
        let rows = sqlx::query(
            "SELECT d.number FROM agreement_letters al JOIN documents d ON d.id = al.document_id WHERE al.agreement_id = $1 \
             ORDER BY d.direction, d.year, d.sequence",
        )
        .bind(id)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let number: String = row.try_get(0)?;
                number.parse().map_err(|_| corrupt(id, "letter number", &number))
            })
            .collect()
    }
}

/// The register's ids of these letters; refused, naming it, when one is not registered.
async fn document_ids_in(tx: &mut Transaction<'static, Any>, letters: &[RegistrationNumber]) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(letters.len());
    for number in letters {
        let row = sqlx::query("SELECT id FROM documents WHERE number = $1").bind(number.to_string()).fetch_optional(&mut **tx).await?;
        match row {
            Some(row) => ids.push(row.try_get(0)?),
            None => return Err(StoreError::NotFound(Reference::Document(number.to_string()))),
        }
    }
    Ok(ids)
}

/// Links letters to an agreement; one linked already stays as it is.
async fn link_letters_in(tx: &mut Transaction<'static, Any>, id: i64, documents: &[i64]) -> Result<()> {
    for document in documents {
        sqlx::query("INSERT INTO agreement_letters (agreement_id, document_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(document)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Schedules an agreement's reminders (`core::agreement::reminders`), those with a firing still
/// ahead.
async fn schedule_in(
    tx: &mut Transaction<'static, Any>,
    policy: &Policy,
    id: i64,
    reminders: &[(Kind, NaiveDate)],
    owner: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    for &(kind, deadline) in reminders {
        schedule_deadline_in(tx, policy, kind, id, deadline, None, owner, now).await?;
    }
    Ok(())
}

/// What an agreement reminder is about, read in the scheduler's firing transaction (with the
/// office's managers and the person who added it); `None` when it no longer exists.
pub(super) async fn reminder_facts_in(tx: &mut Transaction<'static, Any>, policy: &Policy, id: i64) -> Result<Option<AgreementFacts>> {
    let row = sqlx::query(
        "SELECT a.kind, a.status, a.created_by, p.handle, p.name FROM agreements a JOIN partners p ON p.id = a.partner_id WHERE a.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let (kind, created_by): (String, String) = (row.try_get(0)?, row.try_get(2)?);
    Ok(Some(AgreementFacts {
        id,
        kind: AgreementKind::parse(&kind).map_err(|_| corrupt(id, "kind", &kind))?,
        partner_handle: row.try_get(3)?,
        partner_name: row.try_get(4)?,
        status: row.try_get(1)?,
        office_managers: managers_in(tx, &policy.office_unit).await?,
        added_by: recipient_in(tx, &created_by).await?,
    }))
}

/// An agreement from a row of `COLUMNS`, without its letters.
fn agreement_from_row(row: &AnyRow) -> Result<Agreement> {
    let id: i64 = row.try_get(0)?;
    let kind: String = row.try_get(3)?;
    let (starts_on, ends_on): (String, String) = (row.try_get(4)?, row.try_get(5)?);
    let notice: Option<String> = row.try_get(6)?;
    let created_at: String = row.try_get(8)?;
    let renewal = match (row.try_get::<Option<String>, _>(9)?, row.try_get::<Option<String>, _>(10)?, row.try_get::<Option<String>, _>(11)?)
    {
        (Some(by), Some(at), Some(previous_end)) => Some(Renewal {
            at: parse_stamp(&at).ok_or_else(|| corrupt(id, "renewal time", &at))?,
            by,
            previous_end: date(id, "previous end", &previous_end)?,
        }),
        _ => None,
    };
    let ending = match (
        row.try_get::<Option<String>, _>(12)?,
        row.try_get::<Option<String>, _>(13)?,
        row.try_get::<Option<String>, _>(14)?,
        row.try_get::<Option<String>, _>(15)?,
    ) {
        (Some(by), Some(at), Some(reason), Some(planned_end)) => Some(Ending {
            at: parse_stamp(&at).ok_or_else(|| corrupt(id, "end time", &at))?,
            by,
            reason,
            planned_end: date(id, "planned end", &planned_end)?,
        }),
        _ => None,
    };
    Ok(Agreement {
        id,
        terms: Terms {
            partner: row.try_get(1)?,
            kind: AgreementKind::parse(&kind).map_err(|_| corrupt(id, "kind", &kind))?,
            start: date(id, "start", &starts_on)?,
            end: date(id, "end", &ends_on)?,
            notice: notice.as_deref().map(|text| notice_of(id, text)).transpose()?,
            letters: Vec::new(),
        },
        partner_name: row.try_get(2)?,
        created_by: row.try_get(7)?,
        created_at: parse_stamp(&created_at).ok_or_else(|| corrupt(id, "creation time", &created_at))?,
        renewal,
        ending,
    })
}

fn date(id: i64, what: &'static str, text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| corrupt(id, what, text))
}

fn notice_of(id: i64, text: &str) -> Result<Notice> {
    Notice::parse(text).ok().flatten().ok_or_else(|| corrupt(id, "notice period", text))
}

fn corrupt(id: i64, what: &'static str, value: &str) -> StoreError {
    StoreError::corrupt(format!("agreement {id}"), what, value)
}
