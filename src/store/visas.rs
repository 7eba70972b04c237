//! Visa and travel cases: `store.visas()`.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, AssertSqlSafe, Row};

use crate::core::reference::Reference;
use crate::core::time::{parse_stamp, stamp};
use crate::core::visa::{CaseStatus, Trip, VisaCase};

use super::{Refusal, Result, Store, StoreError, reminders};
use crate::core::remind::{Kind, Policy};
use crate::core::undo;

/// The visa cases' view of the store.
pub struct VisaCases<'a> {
    store: &'a Store,
    pool: &'a AnyPool,
}

impl Store {
    pub fn visas(&self) -> VisaCases<'_> {
        VisaCases { store: self, pool: &self.pool }
    }
}

/// Which cases `list` returns.
#[derive(Debug, Clone, Copy)]
pub enum VisaFilter<'a> {
    /// Every open case, by departure.
    Open,
    /// Open cases with an apply-by date or a visa expiry on or before this day
    /// (`core::visa::due_horizon`), earliest deadline first.
    DueBy(NaiveDate),
    /// Open cases a person opened or travels on, by departure.
    Of(&'a str),
    /// Open cases with an apply-by date or a visa expiry from `first` to `last` (both
    /// included), by departure: a calendar feed's window, one indexed range per date.
    DeadlineIn { first: NaiveDate, last: NaiveDate },
}

const COLUMNS: &str = "id, traveller, traveller_mxid, country, kind, travel_from, travel_to, apply_by, visa_expires, passport_expires, \
     status, created_by, created_at, done_at, done_by FROM visa_cases";

impl VisaCases<'_> {
    /// Opens a case and schedules the reminders of its apply-by date and visa expiry, together;
    /// returns its id.
    pub async fn add(&self, policy: &Policy, trip: &Trip, by: &str, now: DateTime<Utc>) -> Result<i64> {
        let mut tx = self.store.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO visa_cases (traveller, traveller_mxid, country, kind, travel_from, travel_to, apply_by, visa_expires, \
             passport_expires, status, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10, $11) RETURNING id",
        )
        .bind(&trip.traveller)
        .bind(trip.traveller_mxid.as_deref())
        .bind(&trip.country)
        .bind(&trip.kind)
        .bind(trip.travel_from.to_string())
        .bind(trip.travel_to.to_string())
        .bind(trip.apply_by.map(|day| day.to_string()))
        .bind(trip.visa_expires.map(|day| day.to_string()))
        .bind(trip.passport_expires.map(|day| day.to_string()))
        .bind(by)
        .bind(stamp(now))
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        for (kind, deadline) in [(Kind::VisaApplyBy, trip.apply_by), (Kind::VisaExpiry, trip.visa_expires)] {
            if let Some(deadline) = deadline {
                reminders::schedule_deadline_in(&mut tx, policy, kind, id, deadline, Some(&trip.kind), by, now).await?;
            }
        }
        tx.commit().await?;
        self.store.reminder_committed();
        Ok(id)
    }

    pub async fn get(&self, id: i64) -> Result<VisaCase> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} WHERE id = $1"))).bind(id).fetch_optional(self.pool).await?;
        row.as_ref().map(case_from_row).transpose()?.ok_or_else(|| StoreError::NotFound(Reference::VisaCase(id)))
    }

    pub async fn list(&self, filter: VisaFilter<'_>) -> Result<Vec<VisaCase>> {
        let query = match filter {
            VisaFilter::Open => sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} WHERE status = 'open' ORDER BY travel_from, id"))),
            VisaFilter::DueBy(horizon) => sqlx::query(AssertSqlSafe(format!(
                "SELECT {COLUMNS} WHERE status = 'open' AND (apply_by <= $1 OR visa_expires <= $1) \
                 ORDER BY CASE WHEN apply_by IS NULL OR visa_expires < apply_by THEN visa_expires ELSE apply_by END, id"
            )))
            .bind(horizon.to_string()),
            VisaFilter::Of(mxid) => sqlx::query(AssertSqlSafe(format!(
                "SELECT {COLUMNS} WHERE status = 'open' AND (created_by = $1 OR traveller_mxid = $1) ORDER BY travel_from, id"
            )))
            .bind(mxid),
            VisaFilter::DeadlineIn { first, last } => sqlx::query(AssertSqlSafe(format!(
                "SELECT {COLUMNS} WHERE status = 'open' AND apply_by >= $1 AND apply_by <= $2 \
                 UNION SELECT {COLUMNS} WHERE status = 'open' AND visa_expires >= $1 AND visa_expires <= $2 ORDER BY travel_from, id"
            )))
            .bind(first.to_string())
            .bind(last.to_string()),
        };
        let rows = query.fetch_all(self.pool).await?;
        rows.iter().map(case_from_row).collect()
    }

    /// Closes an open case. A case closed already stays as it was, and says so, so that the
    /// reply can name who closed it and when.
    pub async fn mark_done(&self, id: i64, by: &str, now: DateTime<Utc>) -> Result<Closing> {
        let mut tx = self.store.begin_write().await?;
        let done = sqlx::query("UPDATE visa_cases SET status = 'done', done_at = $2, done_by = $3 WHERE id = $1 AND status = 'open'")
            .bind(id)
            .bind(stamp(now))
            .bind(by)
            .execute(&mut *tx)
            .await?;
        // A closed case is reminded of no more.
        reminders::close_subject_in(&mut tx, &[Kind::VisaApplyBy, Kind::VisaExpiry], id, by, now).await?;
        tx.commit().await?;
        let case = self.get(id).await?;
        Ok(if done.rows_affected() == 0 { Closing::AlreadyDone(case) } else { Closing::Closed(case) })
    }

    /// Cancels an open case (`core::undo::cancel_visa`): it is closed as cancelled, by `by`,
    /// and its reminders end in the same transaction.
    pub async fn cancel(&self, policy: &Policy, id: i64, by: &str, now: DateTime<Utc>) -> Result<VisaCase> {
        let zone = policy.zone;
        let mut tx = self.store.begin_write().await?;
        let row = sqlx::query("SELECT status, done_by, done_at FROM visa_cases WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(Reference::VisaCase(id)))?;
        let (status, done_by, done_at): (String, Option<String>, Option<String>) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let closed = done_by.as_deref().zip(done_at.as_deref().and_then(parse_stamp));
        let plan = undo::cancel_visa(id, &status, closed, zone)?;
        let cancelled =
            sqlx::query("UPDATE visa_cases SET status = 'cancelled', done_at = $2, done_by = $3 WHERE id = $1 AND status = 'open'")
                .bind(id)
                .bind(stamp(now))
                .bind(by)
                .execute(&mut *tx)
                .await?;
        if cancelled.rows_affected() == 0 {
            return Err(Refusal::ChangedMeanwhile(Reference::VisaCase(id)).into());
        }
        reminders::end_subject_in(&mut tx, &plan.ended, id, "cancelled", by, now).await?;
        tx.commit().await?;
        self.get(id).await
    }

    /// Who is away on `day` (`!abroad`): open cases whose travel covers it, in one country
    /// (upper-case code) or all, by country and traveller.
    pub async fn abroad_on(&self, day: NaiveDate, country: Option<&str>) -> Result<Vec<VisaCase>> {
        let in_country = if country.is_some() { " AND country = $2" } else { "" };
        let query = sqlx::query(AssertSqlSafe(format!(
            "SELECT {COLUMNS} WHERE status = 'open' AND travel_from <= $1 AND travel_to >= $1{in_country} ORDER BY country, traveller, id"
        )))
        .bind(day.to_string());
        let rows = match country {
            Some(country) => query.bind(country.to_string()),
            None => query,
        }
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(case_from_row).collect()
    }
}

/// What `mark_done` found.
#[derive(Debug, Clone)]
pub enum Closing {
    Closed(VisaCase),
    AlreadyDone(VisaCase),
}

fn case_from_row(row: &AnyRow) -> Result<VisaCase> {
    let id: i64 = row.try_get(0)?;
    let corrupt = |what: &'static str, value: &str| StoreError::corrupt(format!("visa case {id}"), what, value);
    let day = |index: usize, what: &'static str| -> Result<Option<NaiveDate>> {
        let text: Option<String> = row.try_get(index)?;
        text.map(|text| NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| corrupt(what, &text))).transpose()
    };
    let instant = |index: usize, what: &'static str| -> Result<Option<DateTime<Utc>>> {
        let text: Option<String> = row.try_get(index)?;
        text.map(|text| parse_stamp(&text).ok_or_else(|| corrupt(what, &text))).transpose()
    };
    let required = |value: Option<NaiveDate>, what: &'static str| value.ok_or_else(|| corrupt(what, "NULL"));
    let status: String = row.try_get(10)?;
    let status = match (status.as_str(), instant(13, "done time")?, row.try_get::<Option<String>, _>(14)?) {
        ("open", _, _) => CaseStatus::Open,
        ("done", Some(at), Some(by)) => CaseStatus::Done { at, by },
        ("cancelled", Some(at), Some(by)) => CaseStatus::Cancelled { at, by },
        (other, _, _) => return Err(corrupt("status", other)),
    };
    Ok(VisaCase {
        id,
        trip: Trip {
            traveller: row.try_get(1)?,
            traveller_mxid: row.try_get(2)?,
            country: row.try_get(3)?,
            kind: row.try_get(4)?,
            travel_from: required(day(5, "travel date")?, "travel date")?,
            travel_to: required(day(6, "travel date")?, "travel date")?,
            apply_by: day(7, "apply-by date")?,
            visa_expires: day(8, "visa expiry")?,
            passport_expires: day(9, "passport expiry")?,
        },
        status,
        created_by: row.try_get(11)?,
        created_at: instant(12, "creation time")?.ok_or_else(|| corrupt("creation time", "NULL"))?,
    })
}
