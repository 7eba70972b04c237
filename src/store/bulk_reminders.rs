//! A load of reminders for the scheduler's benchmark: visa cases, agreements and personal
//! reminders by the hundred thousand, each with the reminders the commands would schedule,
//! written with multi-row INSERTs. Their firing times are spread over the year after `from`, so
//! a benchmark can plant what it wants due before that.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::Row;

use super::rows::{Cell, insert_rows};
use super::{Result, Store, StoreError};
use crate::core::remind::Kind;
use crate::core::time::stamp;

/// Rows per transaction.
const BATCH: i64 = 20_000;

const VISA_COLUMNS: &[&str] = &[
    "id",
    "traveller",
    "traveller_mxid",
    "country",
    "kind",
    "travel_from",
    "travel_to",
    "apply_by",
    "visa_expires",
    "passport_expires",
    "status",
    "created_by",
    "created_at",
];
const AGREEMENT_COLUMNS: &[&str] =
    &["id", "partner_id", "kind", "starts_on", "ends_on", "notice", "notice_by", "status", "created_by", "created_at"];
const REMINDER_COLUMNS: &[&str] =
    &["kind", "subject_id", "subject_key", "deadline", "step", "due_at", "status", "owner", "target", "body", "created_at"];

impl Store {
    /// Adds `count` visa cases, `count` agreements (with one partner) and `count` personal
    /// reminders for `owner`, with their reminders, all firing more than a day after `from`;
    /// then `rounds` rounds of 100 reminders due at `from` plus 1, 2, … minutes (30 of visa
    /// cases, 30 of agreements, 40 personal), for a benchmark to fire a round at a time.
    /// For benchmarks, on an empty register.
    #[doc(hidden)]
    pub async fn fill_reminder_load(&self, count: u64, rounds: u32, owner: &str, from: DateTime<Utc>) -> Result<()> {
        let count = i64::try_from(count).map_err(|_| StoreError::Refused(format!("{count} cases are more than a register can number")))?;
        let today = from.with_timezone(&self.zone).date_naive();
        let day = |n: i64| today + Duration::days(2 + n % 360);
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO partners (handle, name, country, kind, created_by, created_at) \
             VALUES ('bench', 'Benchmark University', 'DE', 'university', $1, $2) RETURNING id",
        )
        .bind(owner)
        .bind(stamp(from))
        .fetch_one(&mut *tx)
        .await?;
        let partner: i64 = row.try_get(0)?;
        tx.commit().await?;
        let created = stamp(from);
        let mut start = 0;
        while start < count {
            let end = (start + BATCH).min(count);
            let mut tx = self.pool.begin().await?;
            let mut visas = Vec::new();
            let mut agreements = Vec::new();
            let mut reminders = Vec::new();
            for n in start..end {
                let id = n + 1;
                let (apply_by, expires) = (day(n), day(n + 90));
                visas.push(vec![
                    Cell::Int(id),
                    Cell::Owned(format!("Traveller {n}")),
                    Cell::Null,
                    Cell::Text("DE"),
                    Cell::Text("schengen"),
                    Cell::Owned(day(n + 30).to_string()),
                    Cell::Owned(day(n + 40).to_string()),
                    Cell::Owned(apply_by.to_string()),
                    Cell::Owned(expires.to_string()),
                    Cell::Null,
                    Cell::Text("open"),
                    Cell::Text(owner),
                    Cell::Text(&created),
                ]);
                let (ends, notice_by) = (day(n + 180), day(n + 90));
                agreements.push(vec![
                    Cell::Int(id),
                    Cell::Int(partner),
                    Cell::Text("mou"),
                    Cell::Owned(today.to_string()),
                    Cell::Owned(ends.to_string()),
                    Cell::Text("90d"),
                    Cell::Owned(notice_by.to_string()),
                    Cell::Text("active"),
                    Cell::Text(owner),
                    Cell::Text(&created),
                ]);
                for (kind, deadline) in [
                    (Kind::VisaApplyBy, apply_by),
                    (Kind::VisaExpiry, expires),
                    (Kind::AgreementEnd, ends),
                    (Kind::AgreementNotice, notice_by),
                ] {
                    reminders.push(reminder(kind, Some(id), Some(deadline), day(n), owner, None, &created));
                }
                reminders.push(reminder(Kind::Personal, None, None, day(n), owner, Some(format!("note {n}")), &created));
            }
            insert_rows(&mut tx, "visa_cases", VISA_COLUMNS, visas).await?;
            insert_rows(&mut tx, "agreements", AGREEMENT_COLUMNS, agreements).await?;
            insert_rows(&mut tx, "reminders", REMINDER_COLUMNS, reminders).await?;
            tx.commit().await?;
            start = end;
        }
        let mut planted = Vec::new();
        for round in 1..=rounds {
            let due = from + Duration::minutes(i64::from(round));
            for i in 0..100i64 {
                let subject = (i64::from(round) * 100 + i) % count.max(1) + 1;
                let (kind, subject) = match i {
                    0..30 => (Kind::VisaApplyBy, Some(subject)),
                    30..60 => (Kind::AgreementEnd, Some(subject)),
                    _ => (Kind::Personal, None),
                };
                let deadline = subject.map(|_| today + Duration::days(30));
                let mut row =
                    reminder(kind, subject, deadline, today, owner, (kind == Kind::Personal).then(|| format!("round {round}")), &created);
                row[5] = Cell::Owned(stamp(due));
                planted.push(row);
            }
        }
        let mut tx = self.pool.begin().await?;
        insert_rows(&mut tx, "reminders", REMINDER_COLUMNS, planted).await?;
        tx.commit().await?;
        self.align_sequences().await?;
        Ok(())
    }

    /// PostgreSQL's id sequences after rows written with their ids.
    async fn align_sequences(&self) -> Result<()> {
        if self.backend == super::Backend::Postgres {
            for table in ["visa_cases", "agreements"] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )))
                .execute(&self.pool)
                .await?;
            }
        }
        Ok(())
    }
}

fn reminder<'a>(
    kind: Kind,
    subject: Option<i64>,
    deadline: Option<NaiveDate>,
    fires: NaiveDate,
    owner: &'a str,
    body: Option<String>,
    created: &'a str,
) -> Vec<Cell<'a>> {
    let due_at = fires.and_hms_opt(5, 0, 0).unwrap_or_default().and_utc();
    vec![
        Cell::Text(kind.as_str()),
        subject.map_or(Cell::NullInt, Cell::Int),
        Cell::Null,
        deadline.map_or(Cell::Null, |d| Cell::Owned(d.to_string())),
        Cell::Int(0),
        Cell::Owned(stamp(due_at)),
        Cell::Text("active"),
        Cell::Text(owner),
        if body.is_some() { Cell::Text(owner) } else { Cell::Null },
        body.map_or(Cell::Null, Cell::Owned),
        Cell::Text(created),
    ]
}
