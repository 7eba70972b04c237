//! Carrying out what follows each new letter's registration: the facts `core::effects::plan`
//! needs are looked up, and the plan it returns is written in the registering transaction.

use chrono::{DateTime, Utc};
use sqlx::{Any, Row, Transaction};

use super::{Batch, NewLetter};
use crate::core::announce::RoomTarget;
use crate::core::bounce::BounceInfo;
use crate::core::effects::{self, Bounce, Effect, Entry, Facts, FoundBy, Note, Returned};
use crate::core::intake::IntakePolicy;
use crate::core::outbound::MailKind;
use crate::core::time::stamp;
use crate::store::rows::Cell;
use crate::store::{Arrival, Result, outbox, room_outbox};

/// What follows each new letter's registration (`core::effects::plan`), written down; the
/// history rows are returned for the batch to insert at its end, in plan order.
pub(super) async fn write_plans(
    tx: &mut Transaction<'static, Any>,
    batch: &Batch<'_>,
    arrivals: &[Arrival],
    new_letters: &mut [NewLetter],
) -> Result<(Written, Vec<Vec<Cell<'static>>>)> {
    let (policy, zone, now) = (batch.policy, batch.zone, batch.now);
    let mut history_rows = Vec::new();
    let mut written = Written::default();
    for new in new_letters.iter_mut() {
        let letter = &arrivals[new.index].letter;
        let registered = Entry { id: new.id, number: &new.number, letter, decided: &new.entry, due_on: new.due_on };
        let known = plan_facts(tx, &registered, new.bounce.take(), policy, zone, now).await?;
        let plan = effects::plan(&registered, &known, policy, zone, now);
        written.add(write_plan(tx, new.id, plan, now, &mut history_rows).await?);
    }
    Ok((written, history_rows))
}

/// Which outboxes a plan wrote to.
#[derive(Default, Clone, Copy)]
pub(super) struct Written {
    pub mail: bool,
    pub room: bool,
}

impl Written {
    fn add(&mut self, other: Written) {
        self.mail |= other.mail;
        self.room |= other.room;
    }
}

/// What the plan for a new entry needs from the register: the document a bounce returns mail
/// of, and how many acknowledgements its sender had today (this transaction's included, so a
/// batch cannot exceed the limit).
async fn plan_facts(
    tx: &mut Transaction<'static, Any>,
    entry: &Entry<'_>,
    bounced: Option<BounceInfo>,
    policy: &IntakePolicy,
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<Facts> {
    let bounce = match bounced {
        Some(info) => {
            let returns = returned_document(tx, &info).await?;
            Some(Bounce { info, returns })
        }
        None => None,
    };
    let acknowledgements_today = match effects::acknowledgements_to_count(entry, policy, zone, now) {
        Some(count) => outbox::acknowledgements_since(tx, &count.recipient, count.since).await?,
        None => 0,
    };
    Ok(Facts { bounce, acknowledgements_today })
}

/// The document whose mail a bounce returns: the one the returned Message-ID was sent for, else
/// the first registered one the returned mail names.
async fn returned_document(tx: &mut Transaction<'static, Any>, bounce: &BounceInfo) -> Result<Option<Returned>> {
    if let Some(message_id) = &bounce.original_message_id
        && let Some(row) = sqlx::query(
            "SELECT o.document_id, o.kind, d.status FROM outbox o JOIN documents d ON d.id = o.document_id \
             WHERE o.message_id = $1 ORDER BY o.id LIMIT 1",
        )
        .bind(message_id.as_str())
        .fetch_optional(&mut **tx)
        .await?
        && let Some(kind) = MailKind::parse(&row.try_get::<String, _>(1)?)
    {
        return Ok(Some(Returned { document: row.try_get(0)?, status: row.try_get(2)?, found_by: FoundBy::MessageId(kind) }));
    }
    for number in &bounce.numbers {
        if let Some(row) =
            sqlx::query("SELECT id, status FROM documents WHERE number = $1").bind(number.as_str()).fetch_optional(&mut **tx).await?
        {
            return Ok(Some(Returned { document: row.try_get(0)?, status: row.try_get(1)?, found_by: FoundBy::Number(number.clone()) }));
        }
    }
    Ok(None)
}

/// Writes a new entry's plan down in the registering transaction. History rows join `history`,
/// which the batch inserts at its end, in plan order.
async fn write_plan<'h>(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    plan: Vec<Effect>,
    now: DateTime<Utc>,
    history: &mut Vec<Vec<Cell<'h>>>,
) -> Result<Written> {
    let mut written = Written::default();
    for effect in plan {
        match effect {
            Effect::Enqueue(mail) => {
                outbox::enqueue_in(tx, Some(id), &mail, now).await?;
                written.mail = true;
            }
            Effect::Note(note) => history.push(history_row(note, now)),
            Effect::Bounced { original, status } => {
                sqlx::query("UPDATE documents SET thread_id = (SELECT COALESCE(thread_id, id) FROM documents WHERE id = $1) WHERE id = $2")
                    .bind(original)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?;
                if let Some(status) = status {
                    sqlx::query("UPDATE documents SET status = $1 WHERE id = $2").bind(status).bind(original).execute(&mut **tx).await?;
                }
            }
            Effect::NotifyRoom { unit, card } => {
                room_outbox::enqueue_in(tx, Some(id), &RoomTarget::Unit(unit), &card, now).await?;
                written.room = true;
            }
        }
    }
    Ok(written)
}

fn history_row<'h>(note: Note, now: DateTime<Utc>) -> Vec<Cell<'h>> {
    let text = |value: Option<String>| value.map_or(Cell::Null, Cell::Owned);
    vec![
        Cell::Int(note.document),
        Cell::Owned(stamp(now)),
        Cell::Text(effects::ACTOR),
        Cell::Owned(note.action),
        text(note.field),
        text(note.old),
        text(note.new),
        text(note.reason),
    ]
}
