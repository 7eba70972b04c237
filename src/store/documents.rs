//! Work on documents after registration, `store.documents()`: acknowledging, assigning, setting
//! the status and adding notes, each written to the history with who did it; the lists staff
//! ask for; and showing a document as a viewer may see it, with the disclosure recorded.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Any, Row, Transaction};

use crate::core::due::{self, LetterState};
use crate::core::reference::Reference;
use crate::core::remind::Policy;
use crate::core::status::{SETTLED_STATUSES, check_assignment, check_status_change};
use crate::core::time::stamp;
use crate::core::viewer::{Sight, Viewer};

use super::{DocumentRecord, Refusal, Result, Store, StoreError, document_id, record_history, reminders, write_history_in};

/// The documents' view of the store.
pub struct Documents<'a> {
    store: &'a Store,
}

impl Store {
    pub fn documents(&self) -> Documents<'_> {
        Documents { store: self }
    }
}

/// What `acknowledge` did: a unit confirms having a document once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acknowledgement {
    Recorded,
    /// It was acknowledged before: by whom and when (a stamp).
    Earlier {
        by: String,
        at: String,
    },
}

/// One document of a thread, as a card lists it: nothing a viewer could be refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadMember {
    pub number: String,
    pub direction: String,
    pub status: String,
}

impl Documents<'_> {
    /// `record` as `viewer` may see it; a restricted document shown in full is written to its
    /// history as disclosed to the viewer. Every reply and list that shows documents to a
    /// person passes them through here.
    pub async fn show(&self, record: DocumentRecord, viewer: &Viewer, now: DateTime<Utc>) -> Result<(DocumentRecord, Sight)> {
        let (record, sight) = record.seen_by(viewer);
        if sight == (Sight::Full { disclosed: true }) {
            self.store.record_disclosure(&record.number, &viewer.member.id, now).await?;
        }
        Ok((record, sight))
    }

    /// Records that the document's unit has it. Only the first acknowledgement counts; an
    /// annulled entry needs none.
    pub async fn acknowledge(&self, number: &str, actor: &str, now: DateTime<Utc>) -> Result<Acknowledgement> {
        let mut tx = self.store.begin_write().await?;
        // One conditional UPDATE, so two people acknowledging at once cannot both succeed.
        let updated = sqlx::query(
            "UPDATE documents SET acknowledged_at = $1, acknowledged_by = $2 \
             WHERE number = $3 AND acknowledged_at IS NULL AND status <> 'annulled' RETURNING id",
        )
        .bind(stamp(now))
        .bind(actor)
        .bind(number)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = updated else {
            let row = sqlx::query("SELECT status, acknowledged_by, acknowledged_at FROM documents WHERE number = $1")
                .bind(number)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| not_found(number))?;
            let (status, by, at): (String, Option<String>, Option<String>) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            return match (by, at) {
                (Some(by), Some(at)) => Ok(Acknowledgement::Earlier { by, at }),
                _ => Err(Refusal::NeedsNoAcknowledgement { number: number.to_string(), status }.into()),
            };
        };
        record_history(&mut tx, row.try_get(0)?, now, actor, "acknowledged", None, None, None, None).await?;
        tx.commit().await?;
        Ok(Acknowledgement::Recorded)
    }

    /// Gives the document to `assignee` (a Matrix ID); returns who had it before.
    pub async fn assign(&self, number: &str, assignee: &str, actor: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        let mut tx = self.store.begin_write().await?;
        let row = sqlx::query("SELECT id, status, assignee FROM documents WHERE number = $1")
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| not_found(number))?;
        let (id, status, before): (i64, String, Option<String>) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        check_assignment(number, &status, before.as_deref(), assignee)?;
        let done = sqlx::query("UPDATE documents SET assignee = $1 WHERE id = $2 AND COALESCE(assignee, '') = $3")
            .bind(assignee)
            .bind(id)
            .bind(before.as_deref().unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(changed_meanwhile(number));
        }
        record_history(&mut tx, id, now, actor, "assigned", Some("assignee"), before.as_deref(), Some(assignee), None).await?;
        tx.commit().await?;
        Ok(before)
    }

    /// Sets a status staff may set (`core::status::WORK_STATUSES`); the core says whether the
    /// change is allowed. Returns the status it had.
    pub async fn set_status(&self, number: &str, status: &str, actor: &str, now: DateTime<Utc>) -> Result<String> {
        let mut tx = self.store.begin_write().await?;
        let row = sqlx::query("SELECT id, status FROM documents WHERE number = $1")
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| not_found(number))?;
        let (id, before): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
        check_status_change(number, &before, status)?;
        let done = sqlx::query("UPDATE documents SET status = $1 WHERE id = $2 AND status = $3")
            .bind(status)
            .bind(id)
            .bind(&before)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(changed_meanwhile(number));
        }
        record_history(&mut tx, id, now, actor, "changed", Some("status"), Some(&before), Some(status), None).await?;
        tx.commit().await?;
        Ok(before)
    }

    /// Gives a letter a new due date (`core::due::change_due`): the date, its history line
    /// with the reason, and its reminders ended and scheduled again from the new date, in one
    /// transaction. Returns the due date it had.
    pub async fn change_due(
        &self,
        policy: &Policy,
        number: &str,
        due_on: NaiveDate,
        reason: Option<&str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<NaiveDate>> {
        let today = now.with_timezone(&policy.zone).date_naive();
        let mut tx = self.store.begin_write().await?;
        let (id, letter) = letter_state_in(&mut tx, number).await?;
        let plan = due::change_due(&letter, due_on, reason, policy, today, now)?;
        let before = letter.due_on.map(|day| day.to_string());
        let done = sqlx::query("UPDATE documents SET due_on = $1 WHERE id = $2 AND COALESCE(due_on, '') = $3")
            .bind(plan.due_on.to_string())
            .bind(id)
            .bind(before.as_deref().unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(changed_meanwhile(number));
        }
        write_history_in(&mut tx, id, now, actor, &plan.history).await?;
        reminders::end_subject_in(&mut tx, &plan.ended, id, "cancelled", actor, now).await?;
        for next in &plan.scheduled {
            // As at registration: the register's own reminders, whoever moved the date.
            reminders::insert_in(&mut tx, next.kind, Some(id), Some(next.deadline), next.due_at, "chancery", None, None, now).await?;
        }
        tx.commit().await?;
        self.store.reminder_committed();
        Ok(letter.due_on)
    }

    /// Moves a letter to another unit by hand (`core::due::reroute`): its unit, its history,
    /// and an assignee of another unit released, so that its pending reminders reach the new
    /// unit's people; one transaction. Returns the assignee released, if one was.
    pub async fn reroute(&self, number: &str, unit: &str, reason: &str, actor: &str, now: DateTime<Utc>) -> Result<Option<String>> {
        let mut tx = self.store.begin_write().await?;
        let (id, letter) = letter_state_in(&mut tx, number).await?;
        let plan = due::reroute(&letter, unit, reason)?;
        let assignee = if plan.release_assignee { None } else { letter.assignee.as_ref().map(|(who, _)| who.as_str()) };
        let done = sqlx::query("UPDATE documents SET unit = $1, assignee = $2 WHERE id = $3 AND unit = $4")
            .bind(&plan.unit)
            .bind(assignee)
            .bind(id)
            .bind(&letter.unit)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(changed_meanwhile(number));
        }
        for line in &plan.history {
            write_history_in(&mut tx, id, now, actor, line).await?;
        }
        tx.commit().await?;
        Ok(letter.assignee.filter(|_| plan.release_assignee).map(|(who, _)| who))
    }

    /// Adds a note to the document's history.
    pub async fn note(&self, number: &str, text: &str, actor: &str, now: DateTime<Utc>) -> Result<()> {
        if text.trim().is_empty() {
            return Err(Refusal::EmptyNote.into());
        }
        let mut tx = self.store.begin_write().await?;
        let id = document_id(&mut tx, number).await?;
        record_history(&mut tx, id, now, actor, "note", None, None, Some(text.trim()), None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The documents of `number`'s thread, oldest first (the document itself among them).
    pub async fn thread(&self, number: &str) -> Result<Vec<ThreadMember>> {
        // The thread's first document, then its members by the thread index: no scan.
        let root: i64 = sqlx::query("SELECT COALESCE(thread_id, id) FROM documents WHERE number = $1")
            .bind(number)
            .fetch_optional(&self.store.pool)
            .await?
            .ok_or_else(|| not_found(number))?
            .try_get(0)?;
        let rows = sqlx::query("SELECT number, direction, status FROM documents WHERE id = $1 OR thread_id = $1 ORDER BY id")
            .bind(root)
            .fetch_all(&self.store.pool)
            .await?;
        rows.iter().map(|row| Ok(ThreadMember { number: row.try_get(0)?, direction: row.try_get(1)?, status: row.try_get(2)? })).collect()
    }

    /// The open documents assigned to a person, newest first.
    pub async fn assigned_to(&self, person: &str, limit: usize) -> Result<Vec<DocumentRecord>> {
        self.newest(&format!("assignee = $1 AND {}", open_condition()), &[person.to_string()], limit).await
    }

    /// The open documents of a unit, newest first.
    pub async fn open_of_unit(&self, unit: &str, limit: usize) -> Result<Vec<DocumentRecord>> {
        self.newest(&format!("unit = $1 AND {}", open_condition()), &[unit.to_string()], limit).await
    }

    /// The open documents whose answer was due before `today`, newest first.
    pub async fn overdue(&self, today: NaiveDate, limit: usize) -> Result<Vec<DocumentRecord>> {
        // Due dates are `YYYY-MM-DD` text: text order is date order.
        let today = today.format("%Y-%m-%d").to_string();
        self.newest(&format!("due_on IS NOT NULL AND due_on < $1 AND {}", open_condition()), &[today], limit).await
    }

    /// At most `limit` documents matching `condition` (over `documents`' own columns), newest first.
    async fn newest(&self, condition: &str, binds: &[String], limit: usize) -> Result<Vec<DocumentRecord>> {
        let clause = format!("d.id IN (SELECT id FROM documents WHERE {condition} ORDER BY id DESC LIMIT {limit})");
        let mut documents = self.store.documents_where(&clause, binds).await?;
        documents.reverse();
        Ok(documents)
    }
}

/// A letter as `core::due` decides about it, with its id.
async fn letter_state_in(tx: &mut Transaction<'static, Any>, number: &str) -> Result<(i64, LetterState)> {
    let row = sqlx::query(
        "SELECT d.id, d.status, d.unit, d.due_on, d.assignee, s.unit FROM documents d LEFT JOIN staff s ON s.mxid = d.assignee \
         WHERE d.number = $1",
    )
    .bind(number)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| not_found(number))?;
    let due_on: Option<String> = row.try_get(3)?;
    let due_on = due_on
        .map(|text| NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| StoreError::corrupt(number, "due date", text)))
        .transpose()?;
    let assignee: Option<String> = row.try_get(4)?;
    let letter = LetterState {
        number: number.to_string(),
        status: row.try_get(1)?,
        unit: row.try_get(2)?,
        due_on,
        assignee: assignee.map(|who| Ok::<_, StoreError>((who, row.try_get(5)?))).transpose()?,
    };
    Ok((row.try_get(0)?, letter))
}

/// Documents that still need someone: not answered, closed or annulled (`core::status`).
fn open_condition() -> String {
    let settled: Vec<String> = SETTLED_STATUSES.iter().map(|status| format!("'{status}'")).collect();
    format!("status NOT IN ({})", settled.join(", "))
}

fn not_found(number: &str) -> StoreError {
    StoreError::NotFound(Reference::Document(number.to_string()))
}

fn changed_meanwhile(number: &str) -> StoreError {
    Refusal::ChangedMeanwhile(Reference::Document(number.to_string())).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_documents_exclude_the_settled_statuses() {
        assert_eq!(open_condition(), "status NOT IN ('answered', 'closed', 'annulled')");
    }
}
