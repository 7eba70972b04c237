//! Filing: every document into a case, and the yearly cases closed at the cutoff.
//!
//! Both are set-based statements that catch up with whatever is not done yet, so that a
//! registration batch, `serve`'s scheduler and every archive command can run them, an existing
//! register is brought in by the first of them, and a yearly case closes exactly once however
//! many instances try (the `closed_at IS NULL` guard, and the events written from what the
//! update returned).

use chrono::{DateTime, Utc};
use sqlx::{Any, Row, Transaction};

use super::super::Result;
use crate::core::archive::Cutoff;
use crate::core::effects::ACTOR;
use crate::core::time::stamp;

/// The yearly case a document goes to: its class (its classification, else the plan's default
/// class, `$1`) and its registration year.
const YEARLY_CASE: &str = "COALESCE(d.classification, $1) || '/' || CAST(d.year AS TEXT)";

/// The open case of a document's thread root, where replies and thread members go.
const ROOTS_OPEN_CASE: &str =
    "(SELECT r.case_id FROM documents r JOIN cases rc ON rc.id = r.case_id WHERE r.id = d.thread_id AND rc.closed_at IS NULL)";

/// Files every document that is in no case yet: a thread member into its root's open case, any
/// other into its class's yearly case (created on first use). Without a default class
/// (`None`: no file plan) a document without a classification stays unfiled unless its root's
/// case takes it. Returns how many were filed.
pub(in crate::store) async fn file_unfiled(
    tx: &mut Transaction<'static, Any>,
    default_class: Option<&str>,
    now: DateTime<Utc>,
) -> Result<u64> {
    let insert = format!(
        "INSERT INTO cases (name, code, year, unit, opened_at, opened_by) \
         SELECT {YEARLY_CASE}, COALESCE(d.classification, $1), d.year, MIN(d.unit), $2, $3 FROM documents d \
         WHERE d.case_id IS NULL AND d.sequence > 0 AND COALESCE(d.classification, $1) IS NOT NULL AND {ROOTS_OPEN_CASE} IS NULL \
         GROUP BY COALESCE(d.classification, $1), d.year \
         ON CONFLICT (name) DO NOTHING"
    );
    sqlx::query(sqlx::AssertSqlSafe(insert)).bind(default_class).bind(stamp(now)).bind(ACTOR).execute(&mut **tx).await?;
    let mut filed = 0;
    // Roots first: a reply registered with its root in one batch then finds the root's case.
    for which in ["d.thread_id IS NULL", "d.thread_id IS NOT NULL"] {
        let update = format!(
            "UPDATE documents SET case_id = (SELECT COALESCE({ROOTS_OPEN_CASE}, (SELECT c.id FROM cases c WHERE c.name = {YEARLY_CASE})) \
             FROM documents d WHERE d.id = documents.id) \
             WHERE documents.id IN (SELECT d.id FROM documents d WHERE d.case_id IS NULL AND d.sequence > 0 AND {which})"
        );
        filed += sqlx::query(sqlx::AssertSqlSafe(update)).bind(default_class).execute(&mut **tx).await?.rows_affected();
    }
    Ok(filed)
}

/// Closes the yearly cases of every year whose cutoff has passed by `now`, as of that cutoff
/// (closing day and moment), each once. Returns the names of the cases closed.
pub(in crate::store) async fn close_yearly_cases(
    tx: &mut Transaction<'static, Any>,
    cutoff: Cutoff,
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let Some(last_closed) = cutoff.last_closed_year(now, zone) else { return Ok(Vec::new()) };
    let first_open: Option<i64> =
        sqlx::query("SELECT MIN(year) FROM cases WHERE sequence IS NULL AND closed_at IS NULL").fetch_one(&mut **tx).await?.try_get(0)?;
    let Some(first_open) = first_open.and_then(|year| i32::try_from(year).ok()) else { return Ok(Vec::new()) };
    let mut closed = Vec::new();
    for year in first_open..=last_closed {
        let (Some(day), Some(at)) = (cutoff.closing_day(year), cutoff.closes_at(year, zone)) else { continue };
        let rows = sqlx::query(
            "UPDATE cases SET closed_on = $1, closed_at = $2, closed_by = $3, close_reason = $4 \
             WHERE sequence IS NULL AND closed_at IS NULL AND year = $5 RETURNING id, name",
        )
        .bind(day.to_string())
        .bind(stamp(at))
        .bind(ACTOR)
        .bind(format!("the yearly cutoff ({cutoff})"))
        .bind(i64::from(year))
        .fetch_all(&mut **tx)
        .await?;
        for row in rows {
            let id: i64 = row.try_get(0)?;
            super::cases::event(tx, id, at, ACTOR, "closed", Some(&format!("closed at the yearly cutoff ({cutoff})")), None).await?;
            closed.push(row.try_get(1)?);
        }
    }
    Ok(closed)
}
