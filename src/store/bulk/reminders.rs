//! A load of reminders for the scheduler's benchmark: visa cases, agreements and personal
//! reminders by the hundred thousand, each with the reminders the commands would schedule,
//! written with multi-row INSERTs. Their firing times are spread over the year after `from`, so
//! a benchmark can plant what it wants due before that.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::Row;

use super::super::rows::{Cell, insert_rows};
use super::super::{Result, Store};
use super::FillError;
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
    pub async fn fill_reminder_load(
        &self,
        count: u64,
        rounds: u32,
        owner: &str,
        from: DateTime<Utc>,
    ) -> std::result::Result<(), FillError> {
        let count = i64::try_from(count).map_err(|_| FillError::TooManyCases { count })?;
        let today = from.with_timezone(&self.zone).date_naive();
        let day = |n: i64| today + Duration::days(2 + n % 360);
        let partner = self.bench_partner(owner, from).await?;
        let created = stamp(from);
        let mut start = 0;
        while start < count {
            let end = (start + BATCH).min(count);
            let mut tx = self.begin_write().await?;
            let mut visas = Vec::new();
            let mut agreements = Vec::new();
            let mut reminders = Vec::new();
            for n in start..end {
                let id = n + 1;
                let (apply_by, expires) = (day(n), day(n + 90));
                visas.push(visa_row(id, (day(n + 30), day(n + 40)), apply_by, expires, owner, &created));
                let (ends, notice_by) = (day(n + 180), day(n + 90));
                agreements.push(agreement_row(id, partner, today, ends, notice_by, owner, &created));
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
        let mut tx = self.begin_write().await?;
        insert_rows(&mut tx, "reminders", REMINDER_COLUMNS, planted).await?;
        tx.commit().await?;
        self.align_sequences().await?;
        Ok(())
    }

    /// Adds `count` open visa cases and `count` active agreements (with one partner), two
    /// deadlines each, for one person's calendar feed: the first `in_window` of each have their
    /// dates in the year after `from`, inside a feed's default window (`FeedDays::default()`);
    /// the others lie outside it, alternately in the nineteen years before it and after it.
    /// For benchmarks, on an empty register.
    #[doc(hidden)]
    pub async fn fill_feed_load(&self, count: u64, in_window: u64, owner: &str, from: DateTime<Utc>) -> std::result::Result<(), FillError> {
        let count = i64::try_from(count).map_err(|_| FillError::TooManyCases { count })?;
        let in_window = i64::try_from(in_window).unwrap_or(i64::MAX);
        let today = from.with_timezone(&self.zone).date_naive();
        let window = crate::core::calendar::FeedDays::default();
        // A case's dates lie within 180 days after its first; outside, they all miss the window.
        let first_day = |n: i64| match n {
            n if n < in_window => today + Duration::days(2 + n % 180),
            n if n % 2 == 0 => today - Duration::days(i64::from(window.past) + 181 + n % 7000),
            n => today + Duration::days(i64::from(window.future) + 1 + n % 7000),
        };
        let partner = self.bench_partner(owner, from).await?;
        let created = stamp(from);
        let mut start = 0;
        while start < count {
            let end = (start + BATCH).min(count);
            let mut tx = self.begin_write().await?;
            let (mut visas, mut agreements) = (Vec::new(), Vec::new());
            for n in start..end {
                let first = first_day(n);
                let later = |days: i64| first + Duration::days(days);
                visas.push(visa_row(n + 1, (later(30), later(40)), first, later(90), owner, &created));
                agreements.push(agreement_row(n + 1, partner, first - Duration::days(365), later(180), later(90), owner, &created));
            }
            insert_rows(&mut tx, "visa_cases", VISA_COLUMNS, visas).await?;
            insert_rows(&mut tx, "agreements", AGREEMENT_COLUMNS, agreements).await?;
            tx.commit().await?;
            start = end;
        }
        Ok(self.align_sequences().await?)
    }

    /// The partner of a benchmark's agreements.
    async fn bench_partner(&self, owner: &str, from: DateTime<Utc>) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO partners (handle, name, country, kind, created_by, created_at) \
             VALUES ('bench', 'Benchmark University', 'DE', 'university', $1, $2) RETURNING id",
        )
        .bind(owner)
        .bind(stamp(from))
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// PostgreSQL's id sequences after rows written with their ids.
    async fn align_sequences(&self) -> Result<()> {
        if self.backend == super::super::Backend::Postgres {
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

fn visa_row<'a>(
    id: i64,
    (travel_from, travel_to): (NaiveDate, NaiveDate),
    apply_by: NaiveDate,
    expires: NaiveDate,
    owner: &'a str,
    created: &'a str,
) -> Vec<Cell<'a>> {
    vec![
        Cell::Int(id),
        Cell::Owned(format!("Traveller {id}")),
        Cell::Null,
        Cell::Text("DE"),
        Cell::Text("schengen"),
        Cell::Owned(travel_from.to_string()),
        Cell::Owned(travel_to.to_string()),
        Cell::Owned(apply_by.to_string()),
        Cell::Owned(expires.to_string()),
        Cell::Null,
        Cell::Text("open"),
        Cell::Text(owner),
        Cell::Text(created),
    ]
}

fn agreement_row<'a>(
    id: i64,
    partner: i64,
    starts: NaiveDate,
    ends: NaiveDate,
    notice_by: NaiveDate,
    owner: &'a str,
    created: &'a str,
) -> Vec<Cell<'a>> {
    vec![
        Cell::Int(id),
        Cell::Int(partner),
        Cell::Text("mou"),
        Cell::Owned(starts.to_string()),
        Cell::Owned(ends.to_string()),
        Cell::Text("90d"),
        Cell::Owned(notice_by.to_string()),
        Cell::Text("active"),
        Cell::Text(owner),
        Cell::Text(created),
    ]
}
