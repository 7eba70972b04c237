//! Case files as staff work with them: a named case opened (`CODE/YEAR-N`), documents added to a
//! case (moved from another open one), a case shown and listed, a named case closed. What is
//! allowed is `core::archive::rules`'; each change is one transaction, so a refusal of any part
//! changes nothing.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use super::super::{Backend, Result, StoreError, record_history};
use super::Archive;
use crate::core::archive::rules::{self, CaseState, Filing};
use crate::core::archive::{CaseName, Class, Clock, Cutoff, Retention, disposal_due};
use crate::core::reference::Reference;
use crate::core::time::{parse_stamp, stamp};
use crate::core::viewer::{Restriction, Sight, StaffMember, Viewer};

/// A case file with its figures.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRecord {
    #[serde(skip)]
    pub id: i64,
    pub name: String,
    pub code: String,
    pub year: i64,
    /// A named case's number in its class and year; `None` for the yearly case.
    pub sequence: Option<i64>,
    /// A named case's title; a yearly case has its class's.
    pub title: Option<String>,
    /// Whose managers may change it; `None`: registrars and admins only.
    pub unit: Option<String>,
    pub opened_at: String,
    pub opened_by: String,
    /// The day it closed, in the office's zone: its retention clock starts then.
    pub closed_on: Option<String>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    pub close_reason: Option<String>,
    /// A review's new retention and the day it was given.
    pub kept_for: Option<String>,
    pub reviewed_on: Option<String>,
    pub disposed_by: Option<String>,
    /// How many documents it holds, and their size in bytes.
    pub documents: i64,
    pub size: i64,
    /// When its last document was registered (a stamp).
    pub last_registered_at: Option<String>,
}

/// A document of a case, as the viewer may see it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDocument {
    pub number: String,
    pub registered_at: String,
    /// Hidden (`[confidential]`) when the viewer may not read it.
    pub subject: String,
    pub status: String,
    pub unit: String,
    pub size: i64,
    /// The disposal decision that erased its content, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disposed_by: Option<String>,
    /// A restricted subject shown to the viewer: the showing is to be recorded
    /// (`Store::record_disclosure`), as a card's is.
    #[serde(skip)]
    pub disclosed: bool,
}

/// A line of a case's history (`case_events`).
#[derive(Debug, Clone, Serialize)]
pub struct CaseEvent {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: Option<String>,
    pub reason: Option<String>,
}

/// A case with its documents and its history: what `case show` shows.
#[derive(Debug, Clone, Serialize)]
pub struct CaseFile {
    #[serde(flatten)]
    pub case: CaseRecord,
    #[serde(rename = "document_list")]
    pub documents: Vec<CaseDocument>,
    pub events: Vec<CaseEvent>,
}

/// Which cases `list` returns.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Only cases of this class.
    pub code: Option<String>,
    /// Only open (`Some(true)`) or closed (`Some(false)`) cases.
    pub open: Option<bool>,
}

impl CaseRecord {
    /// What the retention of the case is counted from.
    pub fn clock(&self, zone: chrono_tz::Tz) -> Clock {
        let day = |text: &Option<String>| text.as_deref().and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok());
        let reviewed = match (self.kept_for.as_deref().and_then(|k| k.parse::<Retention>().ok()), day(&self.reviewed_on)) {
            (Some(kept_for), Some(on)) => Some((kept_for, on)),
            _ => None,
        };
        Clock {
            closed_on: day(&self.closed_on),
            last_registered_on: self.last_registered_at.as_deref().and_then(parse_stamp).map(|at| at.with_timezone(&zone).date_naive()),
            reviewed,
        }
    }

    /// The day its retention ends under `class` (its class in the file plan), if it has started.
    pub fn disposal_due(&self, class: &Class, zone: chrono_tz::Tz) -> Option<NaiveDate> {
        disposal_due(class.retention, class.trigger, self.clock(zone))
    }

    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

/// A case's columns with its figures, for `case_from_row`.
const CASE_COLUMNS: &str = "c.id, c.name, c.code, c.year, c.sequence, c.title, c.unit, c.opened_at, c.opened_by, c.closed_on, \
     c.closed_at, c.closed_by, c.close_reason, c.kept_for, c.reviewed_on, c.disposed_by, \
     (SELECT COUNT(*) FROM documents d WHERE d.case_id = c.id), \
     (SELECT CAST(COALESCE(SUM(d.size), 0) AS BIGINT) FROM documents d WHERE d.case_id = c.id), \
     (SELECT MAX(d.registered_at) FROM documents d WHERE d.case_id = c.id)";

fn case_from_row(row: &AnyRow) -> Result<CaseRecord> {
    Ok(CaseRecord {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        code: row.try_get(2)?,
        year: row.try_get(3)?,
        sequence: row.try_get(4)?,
        title: row.try_get(5)?,
        unit: row.try_get(6)?,
        opened_at: row.try_get(7)?,
        opened_by: row.try_get(8)?,
        closed_on: row.try_get(9)?,
        closed_at: row.try_get(10)?,
        closed_by: row.try_get(11)?,
        close_reason: row.try_get(12)?,
        kept_for: row.try_get(13)?,
        reviewed_on: row.try_get(14)?,
        disposed_by: row.try_get(15)?,
        documents: row.try_get(16)?,
        size: row.try_get(17)?,
        last_registered_at: row.try_get(18)?,
    })
}

/// A case as the rules need it, read in a transaction that changes it.
struct Held {
    id: i64,
    state: CaseState,
}

/// The state of a case from its stored name, unit, closing day and disposal.
fn state_of(name: &str, unit: Option<String>, closed_on: Option<String>, disposed_by: Option<String>) -> Result<CaseState> {
    let parsed: CaseName = name.parse().map_err(|_| StoreError::corrupt(format!("case {name}"), "name", name))?;
    let closed_on = closed_on
        .map(|text| {
            NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| StoreError::corrupt(format!("case {name}"), "closed_on", text))
        })
        .transpose()?;
    Ok(CaseState { name: parsed, unit, closed_on, disposed_by })
}

impl Archive<'_> {
    /// Opens a named case of `class` for `unit` (`CODE/YEAR-N`, N the next in that class and
    /// this year in the office's zone), as `by`. Returns its name.
    pub async fn open_case(&self, class: &Class, title: &str, unit: Option<&str>, by: &StaffMember, now: DateTime<Utc>) -> Result<String> {
        let year = crate::core::time::year_in(now, self.store.zone);
        let mut tx = self.store.begin_write().await?;
        // Another registrar may take the same number meanwhile (PostgreSQL): the insert then does
        // nothing, and the next number is tried.
        for _ in 0..8 {
            let next: i64 = sqlx::query("SELECT COALESCE(MAX(sequence), 0) + 1 FROM cases WHERE code = $1 AND year = $2")
                .bind(&class.code)
                .bind(i64::from(year))
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            let name = CaseName { code: class.code.clone(), year, sequence: u32::try_from(next).ok() };
            let state = CaseState { name: name.clone(), unit: unit.map(str::to_string), closed_on: None, disposed_by: None };
            rules::check_may_change(by, &state)?;
            let inserted = sqlx::query(
                "INSERT INTO cases (name, code, year, sequence, title, unit, opened_at, opened_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING id",
            )
            .bind(name.to_string())
            .bind(&class.code)
            .bind(i64::from(year))
            .bind(next)
            .bind(title)
            .bind(unit)
            .bind(stamp(now))
            .bind(&by.id)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = inserted {
                let id: i64 = row.try_get(0)?;
                event(&mut tx, id, now, &by.id, "opened", Some(title), None).await?;
                tx.commit().await?;
                return Ok(name.to_string());
            }
        }
        Err(StoreError::Refused(crate::store::Refusal::ChangedMeanwhile(Reference::Case(format!("{}/{year}", class.code)))))
    }

    /// One case with its figures.
    pub async fn case(&self, name: &str) -> Result<CaseRecord> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases c WHERE c.name = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(name.trim()).fetch_optional(&self.store.pool).await?;
        row.as_ref().map(case_from_row).transpose()?.ok_or_else(|| StoreError::NotFound(Reference::Case(name.trim().to_string())))
    }

    /// A case with its documents (subjects as `viewer` may see them) and its history.
    pub async fn show(&self, name: &str, viewer: &Viewer) -> Result<CaseFile> {
        let case = self.case(name).await?;
        let rows = sqlx::query(
            "SELECT number, registered_at, subject, confidentiality, unit, status, size, disposed_by \
             FROM documents WHERE case_id = $1 ORDER BY id",
        )
        .bind(case.id)
        .fetch_all(&self.store.pool)
        .await?;
        let documents = rows
            .iter()
            .map(|row| {
                let (subject, confidentiality, unit): (String, String, String) = (row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
                let sight = viewer.sight(Restriction::stored(&confidentiality, &unit));
                let subject = viewer.subject(Restriction::stored(&confidentiality, &unit), &subject).into_owned();
                Ok(CaseDocument {
                    number: row.try_get(0)?,
                    registered_at: row.try_get(1)?,
                    subject,
                    status: row.try_get(5)?,
                    unit,
                    size: row.try_get(6)?,
                    disposed_by: row.try_get(7)?,
                    disclosed: sight == (Sight::Full { disclosed: true }),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let rows = sqlx::query("SELECT at, actor, action, detail, reason FROM case_events WHERE case_id = $1 ORDER BY id")
            .bind(case.id)
            .fetch_all(&self.store.pool)
            .await?;
        let events = rows
            .iter()
            .map(|row| {
                Ok(CaseEvent {
                    at: row.try_get(0)?,
                    actor: row.try_get(1)?,
                    action: row.try_get(2)?,
                    detail: row.try_get(3)?,
                    reason: row.try_get(4)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(CaseFile { case, documents, events })
    }

    /// Cases, the newest first (the latest year, then the latest opened), with their figures.
    pub async fn list(&self, filter: &CaseFilter) -> Result<Vec<CaseRecord>> {
        let mut conditions = vec!["1 = 1"];
        if filter.code.is_some() {
            conditions.push("c.code = $1");
        }
        match filter.open {
            Some(true) => conditions.push("c.closed_at IS NULL"),
            Some(false) => conditions.push("c.closed_at IS NOT NULL"),
            None => {}
        }
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases c WHERE {} ORDER BY c.year DESC, c.id DESC", conditions.join(" AND "));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(code) = &filter.code {
            query = query.bind(code.trim());
        }
        query.fetch_all(&self.store.pool).await?.iter().map(case_from_row).collect()
    }

    /// Adds documents (by number) to case `name` as `by`: each moves from the case it was in,
    /// recorded in its history and in both cases' events. All or nothing: a refusal of any
    /// document changes none. Returns what became of each number, in order.
    pub async fn add(&self, name: &str, numbers: &[String], by: &StaffMember, now: DateTime<Utc>) -> Result<Vec<(String, Filing)>> {
        let mut tx = self.store.begin_write().await?;
        let target = self.held(&mut tx, name).await?;
        rules::check_may_change(by, &target.state)?;
        rules::check_takes_documents(&target.state)?;
        let target_name = target.state.name.to_string();
        let mut outcome = Vec::with_capacity(numbers.len());
        for number in numbers {
            let row = sqlx::query(
                "SELECT d.id, c.id, c.name, c.unit, c.closed_on, c.disposed_by FROM documents d LEFT JOIN cases c ON c.id = d.case_id \
                 WHERE d.number = $1",
            )
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(Reference::Document(number.clone())))?;
            let document: i64 = row.try_get(0)?;
            let current: Option<(i64, CaseState)> = match row.try_get::<Option<i64>, _>(1)? {
                Some(id) => {
                    let name: String = row.try_get(2)?;
                    Some((id, state_of(&name, row.try_get(3)?, row.try_get(4)?, row.try_get(5)?)?))
                }
                None => None,
            };
            let filing = rules::file_into(&target.state, number, current.as_ref().map(|(_, state)| state))?;
            if let Filing::Moved { from } = &filing {
                sqlx::query("UPDATE documents SET case_id = $1 WHERE id = $2").bind(target.id).bind(document).execute(&mut *tx).await?;
                record_history(&mut tx, document, now, &by.id, "filed", Some("case"), from.as_deref(), Some(&target_name), None).await?;
                let detail = from.as_ref().map(|from| format!("{number} (from {from})")).unwrap_or_else(|| number.clone());
                event(&mut tx, target.id, now, &by.id, "added", Some(&detail), None).await?;
                if let Some((from_id, _)) = current {
                    event(&mut tx, from_id, now, &by.id, "removed", Some(&format!("{number} (to {target_name})")), None).await?;
                }
            }
            outcome.push((number.clone(), filing));
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// Closes named case `name` by hand as `by`, on today's date in the office's zone: its
    /// retention clock starts. A yearly case closes at `cutoff` by itself.
    pub async fn close(&self, name: &str, reason: Option<&str>, by: &StaffMember, cutoff: Cutoff, now: DateTime<Utc>) -> Result<NaiveDate> {
        let mut tx = self.store.begin_write().await?;
        let case = self.held(&mut tx, name).await?;
        rules::check_may_change(by, &case.state)?;
        rules::check_close(&case.state, cutoff)?;
        let today = now.with_timezone(&self.store.zone).date_naive();
        let closed = sqlx::query(
            "UPDATE cases SET closed_on = $1, closed_at = $2, closed_by = $3, close_reason = $4 WHERE id = $5 AND closed_at IS NULL",
        )
        .bind(today.to_string())
        .bind(stamp(now))
        .bind(&by.id)
        .bind(reason)
        .bind(case.id)
        .execute(&mut *tx)
        .await?;
        if closed.rows_affected() != 1 {
            return Err(StoreError::Refused(crate::store::Refusal::ChangedMeanwhile(Reference::Case(case.state.name.to_string()))));
        }
        event(&mut tx, case.id, now, &by.id, "closed", None, reason).await?;
        tx.commit().await?;
        Ok(today)
    }

    /// A case to change, read in `tx`; on PostgreSQL its row is locked until `tx` ends, so that
    /// a document is never added to a case another registrar is closing.
    async fn held(&self, tx: &mut Transaction<'static, Any>, name: &str) -> Result<Held> {
        let lock = if self.store.backend == Backend::Postgres { " FOR UPDATE" } else { "" };
        let sql = format!("SELECT id, name, unit, closed_on, disposed_by FROM cases WHERE name = $1{lock}");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(name.trim())
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(Reference::Case(name.trim().to_string())))?;
        let stored: String = row.try_get(1)?;
        Ok(Held { id: row.try_get(0)?, state: state_of(&stored, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?)? })
    }
}

/// Appends a line to a case's history.
pub(super) async fn event(
    tx: &mut Transaction<'static, Any>,
    case_id: i64,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    detail: Option<&str>,
    reason: Option<&str>,
) -> Result<()> {
    sqlx::query("INSERT INTO case_events (case_id, at, actor, action, detail, reason) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(case_id)
        .bind(stamp(at))
        .bind(actor)
        .bind(action)
        .bind(detail)
        .bind(reason)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
