//! Holds: a case, a document or a whole class that nothing may dispose of until released.
//!
//! Each hold is in the history of what it covers: a document's hold in its `history`, a case's
//! in its `case_events`, a class's in the `case_events` of every case of the class that exists
//! when it is placed or released.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use super::super::{Result, document_id, record_history};
use super::Archive;
use crate::core::archive::FilePlan;
use crate::core::archive::disposal::{ArchiveRefusal, check_registrar};
use crate::core::time::stamp;
use crate::core::viewer::StaffMember;

/// What a hold covers, as people name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldTarget {
    Case(String),
    Document(String),
    Class(String),
}

/// A hold, active or released.
#[derive(Debug, Clone, Serialize)]
pub struct HoldRecord {
    pub id: i64,
    /// case, document or class.
    pub kind: String,
    /// The case's name, the document's number or the class's code.
    pub target: String,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: String,
    pub released_by: Option<String>,
    pub released_at: Option<String>,
    pub release_reason: Option<String>,
}

impl HoldRecord {
    /// "case 07-02/2025", "document IN-2026-000001", "class 07-02".
    pub fn covers(&self) -> String {
        format!("{} {}", self.kind, self.target)
    }
}

const HOLDS: &str = "SELECT h.id, CASE WHEN h.case_id IS NOT NULL THEN 'case' WHEN h.document_id IS NOT NULL THEN 'document' ELSE 'class' END, \
     COALESCE(c.name, d.number, h.class_code), h.reason, h.placed_by, h.placed_at, h.released_by, h.released_at, h.release_reason \
     FROM holds h LEFT JOIN cases c ON c.id = h.case_id LEFT JOIN documents d ON d.id = h.document_id";

fn hold_from_row(row: &sqlx::any::AnyRow) -> Result<HoldRecord> {
    Ok(HoldRecord {
        id: row.try_get(0)?,
        kind: row.try_get(1)?,
        target: row.try_get(2)?,
        reason: row.try_get(3)?,
        placed_by: row.try_get(4)?,
        placed_at: row.try_get(5)?,
        released_by: row.try_get(6)?,
        released_at: row.try_get(7)?,
        release_reason: row.try_get(8)?,
    })
}

impl Archive<'_> {
    /// Places a hold (registrars and admins); returns it. A class must be in the plan.
    pub async fn place_hold(
        &self,
        plan: &FilePlan,
        target: &HoldTarget,
        reason: &str,
        member: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<HoldRecord> {
        check_registrar(member, "place holds")?;
        let mut tx = self.store.begin_write().await?;
        let (case_id, document, class) = match target {
            HoldTarget::Case(name) => (Some(case_id(&mut tx, name).await?), None, None),
            HoldTarget::Document(number) => (None, Some(document_id(&mut tx, number).await?), None),
            HoldTarget::Class(code) => {
                if plan.class(code).is_none() {
                    return Err(ArchiveRefusal::UnknownClass(code.clone()).into());
                }
                (None, None, Some(code.clone()))
            }
        };
        let id: i64 = sqlx::query(
            "INSERT INTO holds (case_id, document_id, class_code, reason, placed_by, placed_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(case_id)
        .bind(document)
        .bind(class.as_deref())
        .bind(reason)
        .bind(&member.id)
        .bind(stamp(now))
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        write_hold_history(&mut tx, id, "held", reason, &member.id, now).await?;
        let hold = hold_by_id(&mut tx, id).await?;
        tx.commit().await?;
        Ok(hold)
    }

    /// The active holds that cover a document: on it, on its case, or on its case's class.
    pub(in crate::store) async fn holds_covering(&self, document_id: i64) -> Result<Vec<HoldRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{HOLDS} WHERE h.released_at IS NULL AND (h.document_id = $1 \
             OR h.case_id = (SELECT case_id FROM documents WHERE id = $1) \
             OR h.class_code = (SELECT k.code FROM documents x JOIN cases k ON k.id = x.case_id WHERE x.id = $1)) ORDER BY h.id"
        )))
        .bind(document_id)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(hold_from_row).collect()
    }

    /// The holds, oldest first: the active ones, or (`all`) every hold ever placed.
    pub async fn holds(&self, all: bool) -> Result<Vec<HoldRecord>> {
        let filter = if all { "" } else { " WHERE h.released_at IS NULL" };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{HOLDS}{filter} ORDER BY h.id"))).fetch_all(self.pool).await?;
        rows.iter().map(hold_from_row).collect()
    }

    /// Releases an active hold (registrars and admins), with the reason; returns it.
    pub async fn release_hold(&self, id: i64, reason: &str, member: &StaffMember, now: DateTime<Utc>) -> Result<HoldRecord> {
        check_registrar(member, "release holds")?;
        let mut tx = self.store.begin_write().await?;
        let released = sqlx::query(
            "UPDATE holds SET released_by = $1, released_at = $2, release_reason = $3 WHERE id = $4 AND released_at IS NULL RETURNING id",
        )
        .bind(&member.id)
        .bind(stamp(now))
        .bind(reason)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if released.is_none() {
            let exists = sqlx::query("SELECT 1 FROM holds WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?.is_some();
            return Err(if exists { ArchiveRefusal::HoldReleased(id) } else { ArchiveRefusal::NoSuchHold(id) }.into());
        }
        write_hold_history(&mut tx, id, "hold released", reason, &member.id, now).await?;
        let hold = hold_by_id(&mut tx, id).await?;
        tx.commit().await?;
        Ok(hold)
    }
}

async fn hold_by_id(tx: &mut Transaction<'static, Any>, id: i64) -> Result<HoldRecord> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("{HOLDS} WHERE h.id = $1"))).bind(id).fetch_one(&mut **tx).await?;
    hold_from_row(&row)
}

/// The id of the case named `name`.
pub(super) async fn case_id(tx: &mut Transaction<'static, Any>, name: &str) -> Result<i64> {
    sqlx::query("SELECT id FROM cases WHERE name = $1")
        .bind(name.trim())
        .fetch_optional(&mut **tx)
        .await?
        .map(|row| row.try_get::<i64, _>(0))
        .transpose()?
        .ok_or_else(|| ArchiveRefusal::NoSuchCase(name.trim().to_string()).into())
}

/// A hold placed or released, in the history of what it covers: "held" / "hold released",
/// naming the hold, with the reason.
async fn write_hold_history(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    action: &str,
    reason: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let row = sqlx::query("SELECT case_id, document_id, class_code FROM holds WHERE id = $1").bind(id).fetch_one(&mut **tx).await?;
    let (case_id, document, class): (Option<i64>, Option<i64>, Option<String>) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let detail = format!("hold {id}");
    if let Some(document) = document {
        return record_history(tx, document, now, actor, action, None, None, Some(&detail), Some(reason)).await;
    }
    let detail = match &class {
        Some(code) => format!("hold {id} on class {code}"),
        None => detail,
    };
    sqlx::query(
        "INSERT INTO case_events (case_id, at, actor, action, detail, reason) \
         SELECT id, $1, $2, $3, $4, $5 FROM cases WHERE id = $6 OR code = $7",
    )
    .bind(stamp(now))
    .bind(actor)
    .bind(action)
    .bind(detail)
    .bind(reason)
    .bind(case_id)
    .bind(class.as_deref())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
