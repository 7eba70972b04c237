//! Firing reminders: `store.reminders().fire_due`. The store reads what each due reminder is
//! about (a visa case, a letter, a contact, an agreement, a unit's digest, a meeting's agenda),
//! `core::firing` decides what the firing does, and this module writes that plan down.
//!
//! Exactly once: `fire_due` claims due rows and, for each, writes its messages to the room
//! outbox and the mail outbox (and registers an agenda pack's letters) and moves the row on, all
//! in one transaction. The row is moved only if it is still as it was read (`due_at` and
//! `status`), so two instances on one PostgreSQL (which also skip each other's locked rows) never
//! both fire a step; a crash before the commit leaves the row due, and it fires at the next
//! start, late.
//!
//! This module sits above the areas it reads from; none of them imports it.

use chrono::{DateTime, Utc};
use sqlx::{Any, Row, Transaction};

use super::reminders::{Reminders, claim_in, due_in};
use super::staff::{managers_in, recipient_in};
use super::{Result, agreements, digest, meetings, outbox, record_history, register, room_outbox};
use crate::core::digest::Window;
use crate::core::firing::{
    self, About, ContactFacts, Disclosure, LetterAudience, LetterFacts, PACK_ACTOR, PackSend, Plan, Post, VisaFacts,
};
use crate::core::remind::{self, Kind, Policy, Reminder};

/// What one wake-up did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FiringReport {
    /// Reminders that fired (or ended quietly because their subject is settled).
    pub fired: usize,
    /// Messages written to the outboxes.
    pub messages: usize,
    /// Firings more than a minute after their time.
    pub late: usize,
    /// Rows another instance fired first.
    pub taken_by_others: usize,
}

/// What writing one plan put in the outboxes.
#[derive(Debug, Clone, Copy, Default)]
struct Written {
    messages: usize,
    room: bool,
    mail: bool,
}

impl Reminders<'_> {
    /// Fires up to `limit` reminders that are due at `now`, oldest first, each exactly once
    /// (see the module's notes). Call again while it fires `limit`.
    pub async fn fire_due(&self, policy: &Policy, now: DateTime<Utc>, limit: u32) -> Result<FiringReport> {
        let mut tx = self.store.begin_write().await?;
        let due = due_in(&mut tx, self.store.backend, now, limit).await?;
        let mut report = FiringReport::default();
        let (mut wrote_room, mut wrote_mail) = (false, false);
        for record in due {
            let reminder = record.reminder;
            let plan = plan_in(&mut tx, policy, &reminder, now).await?;
            if !claim_in(&mut tx, &reminder, plan.next, now).await? {
                // Another instance fired this step first.
                report.taken_by_others += 1;
                continue;
            }
            let written = write_plan_in(&mut tx, policy, &reminder, plan, now).await?;
            report.messages += written.messages;
            wrote_room |= written.room;
            wrote_mail |= written.mail;
            report.fired += 1;
            if now - reminder.due_at > remind::LATE_AFTER {
                report.late += 1;
            }
        }
        tx.commit().await?;
        if wrote_room {
            self.store.room_message_committed();
        }
        if wrote_mail {
            self.store.mail_committed();
        }
        Ok(report)
    }
}

/// Reads what a due reminder is about and asks the core what its firing does.
async fn plan_in(tx: &mut Transaction<'static, Any>, policy: &Policy, reminder: &Reminder, now: DateTime<Utc>) -> Result<Plan> {
    Ok(match reminder.kind {
        Kind::Digest => {
            let unit = reminder.subject_key.as_deref().unwrap_or_default();
            let managers = managers_in(tx, unit).await?;
            // Nobody to tell: the unit's digest is not even read.
            let digest = if firing::digest_wanted(unit, &managers, policy) {
                Some(digest::digest_in(tx, policy, unit, Window::ending(now)).await?)
            } else {
                None
            };
            firing::fire_digest(reminder, managers, digest.as_ref(), policy, now)
        }
        Kind::AgendaPack => {
            let facts = meetings::pack_facts_in(tx, reminder.subject_id.unwrap_or_default()).await?;
            firing::fire_agenda_pack(facts, policy, now)
        }
        _ => {
            let subject = about_in(tx, policy, reminder).await?.map(|about| firing::subject(reminder.kind, about, policy));
            firing::fire_reminder(reminder, subject.as_ref(), policy, now)
        }
    })
}

/// Writes a firing's plan in the claiming transaction: an agenda pack's letters registered (each
/// under its own number) with what they disclose, then the direct and room messages, then the
/// mail.
async fn write_plan_in(
    tx: &mut Transaction<'static, Any>,
    policy: &Policy,
    reminder: &Reminder,
    plan: Plan,
    now: DateTime<Utc>,
) -> Result<Written> {
    for mxid in &plan.skipped {
        tracing::warn!(meeting = reminder.subject_id, participant = %mxid, "not in the staff directory any more: no agenda pack");
    }
    let mut posts = Vec::new();
    let mut mail = !plan.mail.is_empty();
    for send in plan.pack {
        match send {
            PackSend::Chat { post, disclosures } => {
                write_disclosures_in(tx, &disclosures, now).await?;
                posts.push(post);
            }
            PackSend::Letter(letter) => {
                let number = register::register_outgoing(tx, policy.zone, None, PACK_ACTOR, &letter.unit, now, |number, _| {
                    Ok(letter.compose(&number.to_string()))
                })
                .await?;
                write_disclosures_in(tx, &letter.disclosures(&number), now).await?;
                posts.push(letter.post(&number));
                mail = true;
            }
        }
    }
    posts.extend(plan.posts);
    write_posts_in(tx, &posts, now).await?;
    for outgoing in &plan.mail {
        outbox::enqueue_in(tx, None, outgoing, now).await?;
    }
    Ok(Written { messages: posts.len() + plan.mail.len(), room: !posts.is_empty(), mail })
}

/// Direct and room messages, to the room outbox.
pub(super) async fn write_posts_in(tx: &mut Transaction<'static, Any>, posts: &[Post], now: DateTime<Utc>) -> Result<()> {
    for post in posts {
        room_outbox::enqueue_in(tx, None, &post.target, &post.markdown, now).await?;
    }
    Ok(())
}

async fn write_disclosures_in(tx: &mut Transaction<'static, Any>, disclosures: &[Disclosure], now: DateTime<Utc>) -> Result<()> {
    for disclosure in disclosures {
        record_history(tx, disclosure.document, now, &disclosure.to, "disclosed", None, None, None, Some(&disclosure.reason)).await?;
    }
    Ok(())
}

/// What a reminder counted from a date is about, read in the firing transaction; `None` when
/// it no longer exists (or for a personal reminder, which needs nothing).
async fn about_in(tx: &mut Transaction<'static, Any>, policy: &Policy, reminder: &Reminder) -> Result<Option<About>> {
    let Some(id) = reminder.subject_id else { return Ok(None) };
    Ok(match reminder.kind {
        Kind::VisaApplyBy | Kind::VisaExpiry => visa_in(tx, policy, id).await?.map(About::Visa),
        Kind::LetterDue | Kind::LetterOverdue => letter_in(tx, reminder.kind, id).await?.map(About::Letter),
        Kind::FollowUp => contact_in(tx, id).await?.map(About::Contact),
        Kind::AgreementEnd | Kind::AgreementNotice => agreements::reminder_facts_in(tx, policy, id).await?.map(About::Agreement),
        Kind::Personal | Kind::Digest | Kind::AgendaPack => None,
    })
}

async fn visa_in(tx: &mut Transaction<'static, Any>, policy: &Policy, id: i64) -> Result<Option<VisaFacts>> {
    let row = sqlx::query("SELECT traveller, traveller_mxid, country, kind, status, created_by FROM visa_cases WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let (traveller_mxid, created_by): (Option<String>, String) = (row.try_get(1)?, row.try_get(5)?);
    let traveller_on_staff = match &traveller_mxid {
        Some(mxid) => Some(recipient_in(tx, mxid).await?),
        None => None,
    };
    Ok(Some(VisaFacts {
        id,
        traveller: row.try_get(0)?,
        country: row.try_get(2)?,
        visa_kind: row.try_get(3)?,
        status: row.try_get(4)?,
        in_charge: recipient_in(tx, &created_by).await?,
        traveller_on_staff,
        office_managers: managers_in(tx, &policy.office_unit).await?,
    }))
}

/// A letter's facts, with only the people its reminder is for (`firing::letter_audience`).
async fn letter_in(tx: &mut Transaction<'static, Any>, kind: Kind, id: i64) -> Result<Option<LetterFacts>> {
    let row = sqlx::query("SELECT number, unit, assignee, status, subject, confidentiality FROM documents WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let (unit, assignee): (String, Option<String>) = (row.try_get(1)?, row.try_get(2)?);
    let (assignee, managers) = match (firing::letter_audience(kind, assignee.is_some()), &assignee) {
        (LetterAudience::Assignee, Some(mxid)) => (Some(recipient_in(tx, mxid).await?), Vec::new()),
        _ => (None, managers_in(tx, &unit).await?),
    };
    Ok(Some(LetterFacts {
        number: row.try_get(0)?,
        managers,
        unit,
        subject: row.try_get(4)?,
        confidentiality: row.try_get(5)?,
        status: row.try_get(3)?,
        assignee,
    }))
}

async fn contact_in(tx: &mut Transaction<'static, Any>, id: i64) -> Result<Option<ContactFacts>> {
    let row = sqlx::query(
        "SELECT c.summary, c.follow_up_done, c.logged_by, p.handle, p.name FROM contacts c JOIN partners p ON p.id = c.partner_id \
         WHERE c.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let (done, logged_by): (i64, String) = (row.try_get(1)?, row.try_get(2)?);
    Ok(Some(ContactFacts {
        id,
        summary: row.try_get(0)?,
        done: done != 0,
        logged_by: recipient_in(tx, &logged_by).await?,
        partner_handle: row.try_get(3)?,
        partner_name: row.try_get(4)?,
    }))
}
