//! What the archive checks a case against (`CaseFacts`), and `archive due`: the cases whose
//! retention has ended on a day, with their action, size and whatever stops them.
//!
//! Cases are few and documents many: the cases, their holds and pending decisions are read
//! whole, and the documents are counted with one GROUP BY over `documents.case_id` (its index),
//! only for the cases that can be due at all.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use super::super::{Result, StoreError};
use crate::core::archive::disposal::{CaseFacts, check_disposable, schedule};
use crate::core::archive::{FilePlan, Retention, Trigger};
use crate::core::status::SETTLED_STATUSES;
use crate::core::time::parse_stamp;

/// A case as the archive checks it, with its id and what it holds.
#[derive(Debug, Clone)]
pub(super) struct Facts {
    pub id: i64,
    pub facts: CaseFacts,
    pub documents: i64,
    pub bytes: i64,
}

/// A line of `archive due`.
#[derive(Debug, Clone, Serialize)]
pub struct DueCase {
    pub case: String,
    pub class: String,
    pub retention: String,
    /// The day its retention ended.
    pub due: Option<NaiveDate>,
    /// destroy, review or transfer.
    pub action: String,
    pub documents: i64,
    pub bytes: i64,
    /// Why it cannot be disposed of now (holds, open documents, a review first); empty when it can.
    pub stops: Vec<String>,
}

/// The cases `clause` selects (over `cases c`, with `binds` as $1…), with their holds, pending
/// decisions and, where `count_documents` says so, their documents counted.
pub(super) async fn case_facts(
    conn: &mut AnyConnection,
    zone: chrono_tz::Tz,
    clause: &str,
    binds: &[String],
    count_documents: impl Fn(&CaseFacts) -> bool,
) -> Result<Vec<Facts>> {
    let sql = format!(
        "SELECT c.id, c.name, c.code, c.closed_on, c.kept_for, c.reviewed_on, c.disposed_by FROM cases c WHERE {clause} ORDER BY c.name"
    );
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for bind in binds {
        query = query.bind(bind.as_str());
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let mut cases = Vec::with_capacity(rows.len());
    for row in &rows {
        let name: String = row.try_get(1)?;
        let day = |index: usize, field: &'static str| -> Result<Option<NaiveDate>> {
            row.try_get::<Option<String>, _>(index)?
                .map(|text| text.parse::<NaiveDate>().map_err(|_| StoreError::corrupt(format!("case {name}"), field, text)))
                .transpose()
        };
        let kept_for = row
            .try_get::<Option<String>, _>(4)?
            .map(|text| text.parse::<Retention>().map_err(|_| StoreError::corrupt(format!("case {name}"), "kept_for", text)))
            .transpose()?;
        let reviewed = kept_for.zip(day(5, "reviewed_on")?);
        let facts = CaseFacts {
            code: row.try_get(2)?,
            closed_on: day(3, "closed_on")?,
            last_registered_on: None,
            reviewed,
            disposed_by: row.try_get(6)?,
            proposed_in: None,
            holds: Vec::new(),
            open_documents: 0,
            first_open: None,
            name,
        };
        cases.push(Facts { id: row.try_get(0)?, facts, documents: 0, bytes: 0 });
    }
    add_holds_and_proposals(conn, &mut cases).await?;
    let counted: Vec<i64> = cases.iter().filter(|case| count_documents(&case.facts)).map(|case| case.id).collect();
    add_documents(conn, zone, &mut cases, &counted).await?;
    Ok(cases)
}

/// The active holds on each case (on it, its class, or one of its documents) and the decisions
/// waiting for approval that name it: both few.
async fn add_holds_and_proposals(conn: &mut AnyConnection, cases: &mut [Facts]) -> Result<()> {
    let holds = sqlx::query(
        "SELECT h.id, h.case_id, h.class_code, d.case_id FROM holds h LEFT JOIN documents d ON d.id = h.document_id \
         WHERE h.released_at IS NULL ORDER BY h.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in &holds {
        let (id, case_id, class_code, document_case): (i64, Option<i64>, Option<String>, Option<i64>) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
        for case in cases.iter_mut() {
            if case_id == Some(case.id) || document_case == Some(case.id) || class_code.as_deref() == Some(case.facts.code.as_str()) {
                case.facts.holds.push(id);
            }
        }
    }
    let pending = sqlx::query(
        "SELECT dc.case_id, d.name FROM disposal_cases dc JOIN disposals d ON d.id = dc.disposal_id \
         WHERE d.approved_by IS NULL ORDER BY d.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in &pending {
        let case_id: i64 = row.try_get(0)?;
        if let Some(case) = cases.iter_mut().find(|case| case.id == case_id) {
            case.facts.proposed_in.get_or_insert(row.try_get(1)?);
        }
    }
    Ok(())
}

/// The documents of the `counted` cases not disposed of yet: how many, their bytes, the last
/// registration day, and the open ones.
async fn add_documents(conn: &mut AnyConnection, zone: chrono_tz::Tz, cases: &mut [Facts], counted: &[i64]) -> Result<()> {
    if counted.is_empty() {
        return Ok(());
    }
    let settled = SETTLED_STATUSES.iter().map(|status| format!("'{status}'")).collect::<Vec<_>>().join(", ");
    // Ids read from the database, written as numbers; the statuses are the core's constants.
    let list = counted.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT case_id, COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT), MAX(registered_at), \
         CAST(COALESCE(SUM(CASE WHEN status IN ({settled}) THEN 0 ELSE 1 END), 0) AS BIGINT), \
         MIN(CASE WHEN status IN ({settled}) THEN NULL ELSE number END) \
         FROM documents WHERE case_id IN ({list}) AND disposed_by IS NULL GROUP BY case_id"
    )))
    .fetch_all(&mut *conn)
    .await?;
    let mut by_case: HashMap<i64, &sqlx::any::AnyRow> = HashMap::new();
    for row in &rows {
        by_case.insert(row.try_get(0)?, row);
    }
    for case in cases.iter_mut() {
        let Some(row) = by_case.get(&case.id) else { continue };
        case.documents = row.try_get(1)?;
        case.bytes = row.try_get(2)?;
        let last: Option<String> = row.try_get(3)?;
        case.facts.last_registered_on = last.as_deref().and_then(parse_stamp).map(|at| at.with_timezone(&zone).date_naive());
        let open: i64 = row.try_get(4)?;
        case.facts.open_documents = u64::try_from(open).unwrap_or(0);
        case.facts.first_open = row.try_get(5)?;
    }
    Ok(())
}

/// The cases not disposed of whose retention has ended by `as_of`, by the plan.
pub(super) async fn due_cases(conn: &mut AnyConnection, zone: chrono_tz::Tz, plan: &FilePlan, as_of: NaiveDate) -> Result<Vec<DueCase>> {
    // A case counted from its closing (or a review) is due by its own row; one counted from its
    // last registration needs its documents to say when.
    let may_be_due = |facts: &CaseFacts| {
        let by_registration = plan.class(&facts.code).is_some_and(|class| class.trigger == Trigger::Registered);
        by_registration || schedule(plan, facts).and_then(|s| s.due).is_some_and(|due| due <= as_of)
    };
    let cases = case_facts(conn, zone, "c.disposed_by IS NULL", &[], may_be_due).await?;
    let mut due = Vec::new();
    for case in cases {
        let Some(schedule) = schedule(plan, &case.facts) else { continue };
        let Some(day) = schedule.due.filter(|day| *day <= as_of) else { continue };
        let stops = match check_disposable(plan, &case.facts, as_of) {
            Ok(_) => Vec::new(),
            Err(stops) => stops.iter().map(ToString::to_string).collect(),
        };
        due.push(DueCase {
            case: case.facts.name,
            class: case.facts.code,
            retention: schedule.retention.to_string(),
            due: Some(day),
            action: schedule.action.as_str().to_string(),
            documents: case.documents,
            bytes: case.bytes,
            stops,
        });
    }
    Ok(due)
}
