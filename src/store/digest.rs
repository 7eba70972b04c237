//! The weekly digest of a unit: `store.digests()` for `chancery report weekly`, and `digest_in`,
//! which the scheduler's firing (`store/firing.rs`) reads in its transaction.
//! What each count means is written down in `core::digest`.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use super::{Result, Store, StoreError};
use crate::core::agreement::{self, AgreementKind};
use crate::core::digest::{Deadline, DeadlineKind, Digest, LetterLine, Window, routed_by_rule, shown_subject};
use crate::core::remind::Policy;
use crate::core::status::SETTLED_STATUSES;
use crate::core::time::{parse_stamp, stamp};

/// The digests' view of the store.
pub struct Digests<'a> {
    store: &'a Store,
}

impl Store {
    pub fn digests(&self) -> Digests<'_> {
        Digests { store: self }
    }
}

impl Digests<'_> {
    /// A unit's digest over `window`, in the zone and with the office unit of the reminder
    /// policy (visa and agreement deadlines go to the office's digest only).
    pub async fn of_unit(&self, policy: &Policy, unit: &str, window: Window) -> Result<Digest> {
        let mut tx = self.store.begin_write().await?;
        let digest = digest_in(&mut tx, policy, unit, window).await?;
        tx.commit().await?;
        Ok(digest)
    }

    /// The units letters have been filed with, for a register kept without rules (with rules,
    /// `units.toml` lists the units).
    pub async fn units_in_use(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT DISTINCT unit FROM documents ORDER BY unit").fetch_all(&self.store.pool).await?;
        rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
    }
}

/// Everything a unit's digest lists, read in one transaction so the counts agree.
pub(super) async fn digest_in(tx: &mut Transaction<'static, Any>, policy: &Policy, unit: &str, window: Window) -> Result<Digest> {
    let zone = policy.zone;
    let mut digest = Digest {
        unit: unit.to_string(),
        window,
        zone,
        received: received_in(tx, unit, window).await?,
        answered: answered_in(tx, unit, window).await?,
        overdue: overdue_in(tx, unit, window.as_of(zone)).await?,
        deadlines: Vec::new(),
    };
    if unit == policy.office_unit {
        digest.deadlines.extend(visa_deadlines_in(tx, window.horizon(zone)).await?);
        digest.deadlines.extend(agreement_deadlines_in(tx, window.as_of(zone), window.horizon(zone)).await?);
    }
    digest.sort();
    Ok(digest)
}

fn instant(text: &str, what: &str) -> Result<DateTime<Utc>> {
    parse_stamp(text).ok_or_else(|| StoreError::corrupt(what, "time", text))
}

fn date(text: Option<String>) -> Option<NaiveDate> {
    text.and_then(|day| day.parse().ok())
}

/// Incoming letters registered in the window and now with the unit (annulled ones left out);
/// routed when a rule placed them or someone rerouted them by hand (a `unit` change in their
/// history other than the `routed` note every registration writes).
async fn received_in(tx: &mut Transaction<'static, Any>, unit: &str, window: Window) -> Result<Vec<LetterLine>> {
    let rows = sqlx::query(
        "SELECT d.number, d.subject, d.confidentiality, d.status, d.due_on, d.registered_at, d.routing_json, \
         (SELECT COUNT(*) FROM history h WHERE h.document_id = d.id AND h.field = 'unit' AND h.action <> 'routed') \
         FROM documents d WHERE d.direction = 'incoming' AND d.unit = $1 AND d.status <> 'annulled' \
         AND d.registered_at >= $2 AND d.registered_at < $3 ORDER BY d.registered_at, d.id",
    )
    .bind(unit)
    .bind(stamp(window.start))
    .bind(stamp(window.end))
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|row| {
            let (number, subject, confidentiality, status): (String, String, String, String) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
            let registered_at: String = row.try_get(5)?;
            let routing: Option<String> = row.try_get(6)?;
            let rerouted: i64 = row.try_get(7)?;
            Ok(LetterLine {
                at: instant(&registered_at, &number)?,
                subject: shown_subject(&subject, &confidentiality),
                status,
                due_on: date(row.try_get(4)?),
                routed: rerouted > 0 || routed_by_rule(routing.as_deref()),
                number,
            })
        })
        .collect()
}

/// Letters of the unit marked answered in the window (the latest such change of each), as their
/// history records it, whenever they arrived.
async fn answered_in(tx: &mut Transaction<'static, Any>, unit: &str, window: Window) -> Result<Vec<LetterLine>> {
    let rows = sqlx::query(
        "SELECT d.number, d.subject, d.confidentiality, d.status, d.due_on, MAX(h.at) \
         FROM history h JOIN documents d ON d.id = h.document_id \
         WHERE d.unit = $1 AND h.field = 'status' AND h.new_value = 'answered' AND h.at >= $2 AND h.at < $3 \
         GROUP BY d.id, d.number, d.subject, d.confidentiality, d.status, d.due_on",
    )
    .bind(unit)
    .bind(stamp(window.start))
    .bind(stamp(window.end))
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(letter_line).collect()
}
/// A letter of a row `number, subject, confidentiality, status, due_on, AT`, where AT is the
/// moment the line is about (answered, registered).
fn letter_line(row: &sqlx::any::AnyRow) -> Result<LetterLine> {
    let (number, subject, confidentiality, status): (String, String, String, String) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
    let at: String = row.try_get(5)?;
    Ok(LetterLine {
        at: instant(&at, &number)?,
        subject: shown_subject(&subject, &confidentiality),
        status,
        due_on: date(row.try_get(4)?),
        routed: false,
        number,
    })
}

/// Letters of the unit still open whose due date is before `as_of` (the day the window ends).
async fn overdue_in(tx: &mut Transaction<'static, Any>, unit: &str, as_of: NaiveDate) -> Result<Vec<LetterLine>> {
    // The settled statuses are fixed words of the code, not input.
    let settled = SETTLED_STATUSES.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(", ");
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT number, subject, confidentiality, status, due_on, registered_at FROM documents \
         WHERE unit = $1 AND due_on IS NOT NULL AND due_on < $2 AND status NOT IN ({settled}) ORDER BY due_on, number"
    )))
    .bind(unit)
    .bind(as_of.to_string())
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(letter_line).collect()
}

/// Apply-by dates and visa expiries of open cases on or before `horizon`, those passed
/// included (as `!visa due` lists them): an open case past its date still needs someone.
async fn visa_deadlines_in(tx: &mut Transaction<'static, Any>, horizon: NaiveDate) -> Result<Vec<Deadline>> {
    let rows = sqlx::query(
        "SELECT id, traveller, country, kind, apply_by, visa_expires FROM visa_cases \
         WHERE status = 'open' AND (apply_by <= $1 OR visa_expires <= $1) ORDER BY id",
    )
    .bind(horizon.to_string())
    .fetch_all(&mut **tx)
    .await?;
    let mut deadlines = Vec::new();
    for row in &rows {
        let (id, traveller, country, kind): (i64, String, String, String) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
        let title = crate::core::visa::case_title(id, &traveller, &country, &kind);
        for (deadline_kind, day) in [(DeadlineKind::VisaApplyBy, date(row.try_get(4)?)), (DeadlineKind::VisaExpires, date(row.try_get(5)?))]
        {
            if let Some(day) = day.filter(|day| *day <= horizon) {
                deadlines.push(Deadline { kind: deadline_kind, day, title: title.clone(), show: Some(format!("!visa show {id}")) });
            }
        }
    }
    Ok(deadlines)
}

/// Ends and notice deadlines of active agreements from `as_of` to `horizon` (one past is
/// history: the agreement's own reminders have told of it).
async fn agreement_deadlines_in(tx: &mut Transaction<'static, Any>, as_of: NaiveDate, horizon: NaiveDate) -> Result<Vec<Deadline>> {
    let rows = sqlx::query(
        "SELECT a.id, a.kind, p.handle, p.name, a.ends_on, a.notice_by FROM agreements a JOIN partners p ON p.id = a.partner_id \
         WHERE a.status = 'active' AND ((a.ends_on >= $1 AND a.ends_on <= $2) OR (a.notice_by >= $1 AND a.notice_by <= $2)) \
         ORDER BY a.id",
    )
    .bind(as_of.to_string())
    .bind(horizon.to_string())
    .fetch_all(&mut **tx)
    .await?;
    let mut deadlines = Vec::new();
    for row in &rows {
        let (id, kind, handle, name): (i64, String, String, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
        let title = match AgreementKind::parse(&kind) {
            Ok(kind) => agreement::title(id, kind, &handle, &name),
            Err(_) => format!("agreement {id} ({kind}) with {} ({name})", handle.to_uppercase()),
        };
        for (deadline_kind, day) in
            [(DeadlineKind::AgreementEnd, date(row.try_get(4)?)), (DeadlineKind::AgreementNotice, date(row.try_get(5)?))]
        {
            if let Some(day) = day.filter(|day| (as_of..=horizon).contains(day)) {
                deadlines.push(Deadline { kind: deadline_kind, day, title: title.clone(), show: Some(format!("!agreement show {id}")) });
            }
        }
    }
    Ok(deadlines)
}
