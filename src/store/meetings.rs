//! Meetings and their agendas: `store.meetings()`, and what a meeting's agenda pack is made of
//! (`pack_facts_in`), read when its reminder fires.
//!
//! A meeting and the reminder that sends its pack are written in one transaction. The pack is
//! sent in the scheduler's firing transaction (`store/firing.rs`, as `core::firing` decides):
//! one outgoing letter per participant with an address, each registered under its own OUT
//! number and queued for mail together, with the direct messages that say so. A participant
//! without an address gets the agenda in a direct message instead. The files of the documents on the agenda are attached by reference
//! (`OutgoingMail::attachments`): the register keeps them once, under their own documents, and
//! the SMTP adapter loads them when it sends (`Store::attached_file`).

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::rows::integer;
use super::{Refusal, Result, Store, StoreError, StoredAttachment, outbox, record_history, reminders, room_outbox, staff};
use crate::core::firing::{self, PackFacts};
use crate::core::meeting::{self, AgendaItem, Cancellation, Meeting, PackDocument};
use crate::core::outbound::AttachmentRef;
use crate::core::reference::Reference;
use crate::core::remind::{Kind, Policy};
use crate::core::time::{parse_stamp, stamp};
use crate::core::undo::{self, MeetingState};
use crate::core::viewer::stored_level;

/// The meetings' view of the store.
pub struct Meetings<'a> {
    store: &'a Store,
}

impl Store {
    pub fn meetings(&self) -> Meetings<'_> {
        Meetings { store: self }
    }

    /// A file attached to a mail by reference, as the register holds it: an attachment of a
    /// document, or (position 0) the document's original message, as `NUMBER.eml`.
    pub async fn attached_file(&self, file: &AttachmentRef) -> Result<StoredAttachment> {
        if file.position == 0 {
            let row = sqlx::query("SELECT d.number, r.bytes FROM documents d JOIN raw_messages r ON r.document_id = d.id WHERE d.id = $1")
                .bind(file.document_id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or_else(|| StoreError::NotFound(Reference::StoredMessage(format!("document {}", file.document_id))))?;
            let number: String = row.try_get(0)?;
            return Ok(StoredAttachment { name: format!("{number}.eml"), media_type: "message/rfc822".into(), content: row.try_get(1)? });
        }
        super::attachments::decoded(&self.pool, file.document_id, i64::from(file.position), &format!("document {}", file.document_id)).await
    }
}

/// A new meeting, checked by `core::meeting`.
#[derive(Debug, Clone)]
pub struct NewMeeting {
    pub title: String,
    pub starts_at: DateTime<Utc>,
    /// Matrix IDs of staff members.
    pub participants: Vec<String>,
}

impl Meetings<'_> {
    /// Stores a meeting and schedules its agenda pack (`policy.agenda_pack_before` before it, or
    /// now if that has passed), together; returns its id. Refused, with nothing stored, when it
    /// starts in the past or a participant is not in the staff directory.
    pub async fn add(&self, policy: &Policy, new: &NewMeeting, by: &str, now: DateTime<Utc>) -> Result<i64> {
        meeting::check_start(new.starts_at, now, policy.zone)?;
        let mut tx = self.store.begin_write().await?;
        for mxid in &new.participants {
            if staff::member_in(&mut tx, mxid).await?.is_none() {
                return Err(Refusal::ParticipantNotStaff(mxid.clone()).into());
            }
        }
        let row = sqlx::query("INSERT INTO meetings (title, starts_at, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(&new.title)
            .bind(stamp(new.starts_at))
            .bind(by)
            .bind(stamp(now))
            .fetch_one(&mut *tx)
            .await?;
        let id: i64 = row.try_get(0)?;
        for mxid in &new.participants {
            sqlx::query("INSERT INTO meeting_participants (meeting_id, mxid) VALUES ($1, $2)")
                .bind(id)
                .bind(mxid)
                .execute(&mut *tx)
                .await?;
        }
        let due_at = meeting::pack_due(new.starts_at, policy.agenda_pack_before, now);
        reminders::schedule_at_in(&mut tx, Kind::AgendaPack, Some(id), due_at, by, None, None, now).await?;
        tx.commit().await?;
        self.store.reminder_committed();
        Ok(id)
    }

    pub async fn get(&self, id: i64) -> Result<Meeting> {
        let mut tx = self.store.begin_write().await?;
        let meeting = meeting_in(&mut tx, id).await?;
        tx.commit().await?;
        meeting.ok_or_else(|| not_found(id))
    }

    /// Meetings that have not started, soonest first, at most `limit`.
    pub async fn upcoming(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Meeting>> {
        let mut tx = self.store.begin_write().await?;
        let rows = sqlx::query("SELECT id FROM meetings WHERE starts_at > $1 AND cancelled_at IS NULL ORDER BY starts_at, id LIMIT $2")
            .bind(stamp(now))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        let mut found = Vec::new();
        for row in &rows {
            if let Some(meeting) = meeting_in(&mut tx, row.try_get(0)?).await? {
                found.push(meeting);
            }
        }
        tx.commit().await?;
        Ok(found)
    }

    /// Puts a registered document on a meeting's agenda, after the items it has; returns the
    /// item. Not found: the meeting or the document; refused: the document is on it already.
    pub async fn add_item(&self, meeting_id: i64, number: &str, text: &str, by: &str, now: DateTime<Utc>) -> Result<AgendaItem> {
        let mut tx = self.store.begin_write().await?;
        // Touching the meeting's row first makes two people adding items at once take turns,
        // so that they get different positions.
        let locked =
            sqlx::query("UPDATE meetings SET title = title WHERE id = $1").bind(meeting_id).execute(&mut *tx).await?.rows_affected();
        if locked == 0 {
            return Err(not_found(meeting_id));
        }
        let document_id: i64 = sqlx::query("SELECT id FROM documents WHERE number = $1")
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| row.try_get(0))
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(Reference::Document(number.to_string())))?;
        if let Some(row) = sqlx::query("SELECT position FROM agenda_items WHERE meeting_id = $1 AND document_id = $2")
            .bind(meeting_id)
            .bind(document_id)
            .fetch_optional(&mut *tx)
            .await?
        {
            let position: i64 = row.try_get(0)?;
            return Err(Refusal::OnTheAgendaAlready { number: number.to_string(), meeting: meeting_id, position }.into());
        }
        let row = sqlx::query("SELECT COALESCE(MAX(position), 0) FROM agenda_items WHERE meeting_id = $1")
            .bind(meeting_id)
            .fetch_one(&mut *tx)
            .await?;
        let position = row.try_get::<i64, _>(0)? + 1;
        sqlx::query(
            "INSERT INTO agenda_items (meeting_id, position, document_id, text, added_by, added_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(meeting_id)
        .bind(position)
        .bind(document_id)
        .bind(text)
        .bind(by)
        .bind(stamp(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(AgendaItem {
            position: u32::try_from(position).unwrap_or(u32::MAX),
            document_id,
            number: number.to_string(),
            text: text.to_string(),
            added_by: by.to_string(),
            added_at: now,
        })
    }

    /// A meeting's agenda, in order.
    pub async fn agenda(&self, meeting_id: i64) -> Result<Vec<AgendaItem>> {
        let mut tx = self.store.begin_write().await?;
        let items = agenda_in(&mut tx, meeting_id).await?;
        tx.commit().await?;
        Ok(items)
    }

    /// Calls a meeting off (`core::undo::cancel_meeting`): who did it, when and why are
    /// written down, its agenda pack's reminder ends (the pack is never sent), and each
    /// participant's direct message is queued, in one transaction. Returns the meeting.
    pub async fn cancel(&self, policy: &Policy, id: i64, reason: Option<&str>, by: &str, now: DateTime<Utc>) -> Result<Meeting> {
        let zone = policy.zone;
        let mut tx = self.store.begin_write().await?;
        let meeting = meeting_in(&mut tx, id).await?.ok_or_else(|| not_found(id))?;
        let state = MeetingState { meeting: &meeting, pack_pending: pack_pending_in(&mut tx, id).await? };
        let plan = undo::cancel_meeting(&state, reason, by, now, zone)?;
        let cancelled = sqlx::query(
            "UPDATE meetings SET cancelled_at = $1, cancelled_by = $2, cancel_reason = $3 WHERE id = $4 AND cancelled_at IS NULL",
        )
        .bind(stamp(now))
        .bind(by)
        .bind(plan.reason.as_deref())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if cancelled == 0 {
            return Err(Refusal::ChangedMeanwhile(Reference::Meeting(id)).into());
        }
        reminders::end_subject_in(&mut tx, &plan.ended, id, "cancelled", by, now).await?;
        let (posts, mail) = firing::outgoing(0, 0, plan.messages, policy, now);
        for post in &posts {
            room_outbox::enqueue_in(&mut tx, None, &post.target, &post.markdown, now).await?;
        }
        for mail in &mail {
            outbox::enqueue_in(&mut tx, None, mail, now).await?;
        }
        tx.commit().await?;
        self.store.room_message_committed();
        self.get(id).await
    }

    /// Takes item `position` off a meeting's agenda (`core::undo::remove_agenda_item`); the
    /// document's history says who did it. Returns the item removed.
    pub async fn remove_item(&self, meeting_id: i64, position: u32, by: &str, now: DateTime<Utc>) -> Result<AgendaItem> {
        let mut tx = self.store.begin_write().await?;
        let meeting = meeting_in(&mut tx, meeting_id).await?.ok_or_else(|| not_found(meeting_id))?;
        let state = MeetingState { meeting: &meeting, pack_pending: pack_pending_in(&mut tx, meeting_id).await? };
        let agenda = agenda_in(&mut tx, meeting_id).await?;
        let plan = undo::remove_agenda_item(&state, &agenda, position)?;
        let removed = sqlx::query("DELETE FROM agenda_items WHERE meeting_id = $1 AND position = $2")
            .bind(meeting_id)
            .bind(i64::from(position))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed == 0 {
            return Err(Refusal::ChangedMeanwhile(Reference::AgendaItem { meeting: meeting_id, position: i64::from(position) }).into());
        }
        record_history(&mut tx, plan.item.document_id, now, by, "agenda", None, None, Some(&plan.history), None).await?;
        tx.commit().await?;
        Ok(plan.item)
    }

    /// When the meeting's agenda pack goes out; `None` once it has gone (or was stopped).
    pub async fn pack_due(&self, meeting_id: i64) -> Result<Option<DateTime<Utc>>> {
        let pending = self.store.reminders().of_subject(&[Kind::AgendaPack], meeting_id).await?;
        Ok(pending.first().map(|record| record.reminder.due_at))
    }
}

/// Whether a meeting's agenda pack is still to go out: its reminder is active.
async fn pack_pending_in(tx: &mut Transaction<'static, Any>, id: i64) -> Result<bool> {
    let row = sqlx::query("SELECT COUNT(*) FROM reminders WHERE kind = $1 AND subject_id = $2 AND status = 'active'")
        .bind(Kind::AgendaPack.as_str())
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(integer::<i64>(&row, 0)? > 0)
}

fn not_found(id: i64) -> StoreError {
    StoreError::NotFound(Reference::Meeting(id))
}

async fn meeting_in(tx: &mut Transaction<'static, Any>, id: i64) -> Result<Option<Meeting>> {
    let Some(row) = sqlx::query(
        "SELECT id, title, starts_at, created_by, created_at, cancelled_at, cancelled_by, cancel_reason FROM meetings WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let participants = sqlx::query("SELECT mxid FROM meeting_participants WHERE meeting_id = $1 ORDER BY mxid")
        .bind(id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<std::result::Result<Vec<String>, _>>()?;
    Ok(Some(Meeting {
        id: row.try_get(0)?,
        title: row.try_get(1)?,
        starts_at: instant(&row, 2, id)?,
        created_by: row.try_get(3)?,
        created_at: instant(&row, 4, id)?,
        participants,
        cancelled: match (row.try_get::<Option<String>, _>(5)?, row.try_get::<Option<String>, _>(6)?) {
            (Some(_), Some(by)) => Some(Cancellation { at: instant(&row, 5, id)?, by, reason: row.try_get(7)? }),
            _ => None,
        },
    }))
}

fn instant(row: &AnyRow, index: usize, id: i64) -> Result<DateTime<Utc>> {
    let text: String = row.try_get(index)?;
    parse_stamp(&text).ok_or_else(|| StoreError::corrupt(format!("meeting {id}"), "time", text))
}

async fn agenda_in(tx: &mut Transaction<'static, Any>, meeting_id: i64) -> Result<Vec<AgendaItem>> {
    let rows = sqlx::query(
        "SELECT a.position, a.document_id, d.number, a.text, a.added_by, a.added_at FROM agenda_items a \
         JOIN documents d ON d.id = a.document_id WHERE a.meeting_id = $1 ORDER BY a.position",
    )
    .bind(meeting_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AgendaItem {
                position: integer(row, 0)?,
                document_id: row.try_get(1)?,
                number: row.try_get(2)?,
                text: row.try_get(3)?,
                added_by: row.try_get(4)?,
                added_at: instant(row, 5, meeting_id)?,
            })
        })
        .collect()
}

/// The agenda's documents with what a pack needs of them.
async fn pack_documents_in(tx: &mut Transaction<'static, Any>, items: Vec<AgendaItem>) -> Result<Vec<PackDocument>> {
    let mut documents = Vec::with_capacity(items.len());
    for item in items {
        let row = sqlx::query("SELECT subject, confidentiality, unit FROM documents WHERE id = $1")
            .bind(item.document_id)
            .fetch_one(&mut **tx)
            .await?;
        let confidentiality: String = row.try_get(1)?;
        let files = sqlx::query("SELECT position, name FROM attachments WHERE document_id = $1 ORDER BY position")
            .bind(item.document_id)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|file| Ok((integer(file, 0)?, file.try_get(1)?)))
            .collect::<Result<Vec<(u32, String)>>>()?;
        documents.push(PackDocument {
            item,
            subject: row.try_get(0)?,
            confidentiality: stored_level(&confidentiality),
            unit: row.try_get(2)?,
            files,
        });
    }
    Ok(documents)
}

/// What a meeting's agenda pack is made of, read in the scheduler's firing transaction: the
/// meeting, its documents, its organiser and its participants as the staff directory has them.
/// `None` when the meeting no longer exists.
pub(super) async fn pack_facts_in(tx: &mut Transaction<'static, Any>, id: i64) -> Result<Option<PackFacts>> {
    let Some(meeting) = meeting_in(tx, id).await? else { return Ok(None) };
    let items = agenda_in(tx, id).await?;
    let documents = pack_documents_in(tx, items).await?;
    let organiser = staff::member_in(tx, &meeting.created_by).await?.map(|(member, _)| member);
    let mut participants = Vec::with_capacity(meeting.participants.len());
    for mxid in &meeting.participants {
        participants.push((mxid.clone(), staff::member_in(tx, mxid).await?));
    }
    Ok(Some(PackFacts { meeting, documents, organiser, participants }))
}
