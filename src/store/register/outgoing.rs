//! Registering outgoing correspondence: the number is taken, the message composed with it, and
//! the registration `core::outgoing::plan` decides written with the message, in one transaction.

use chrono::{DateTime, Utc};
use sqlx::{Any, Row, Transaction};

use super::{Placement, insert_document, save_counter, store_contents};
use crate::core::intake::Source;
use crate::core::number::{Direction, RegistrationNumber};
use crate::core::outbound::{ComposeError, OutgoingMail};
use crate::core::outgoing::{self, AnsweredLetter};
use crate::core::reference::Reference;
use crate::core::time::{stamp, year_in};
use crate::store::{Arrival, Result, StoreError, lock_counter, outbox, write_history_in};

/// Registers outgoing correspondence and queues it, in one transaction: the number is taken,
/// `compose` writes the message with the number in it, and that exact message is stored and
/// sent. A letter it answers is linked as its thread and marked `answered`.
pub(in crate::store) async fn register_outgoing<F>(
    tx: &mut Transaction<'static, Any>,
    zone: chrono_tz::Tz,
    answers: Option<&str>,
    actor: &str,
    unit: &str,
    now: DateTime<Utc>,
    compose: F,
) -> Result<String>
where
    F: FnOnce(&RegistrationNumber, Option<&AnsweredLetter>) -> std::result::Result<(Vec<u8>, OutgoingMail), ComposeError>,
{
    let direction = Direction::Outgoing;
    let year = year_in(now, zone);
    let answered = match answers {
        Some(number) => Some(answered_letter(tx, number).await?),
        None => None,
    };
    let last = lock_counter(tx, direction, year).await? + 1;
    let number = RegistrationNumber { direction, year, sequence: last };
    let (raw, mail) = compose(&number, answered.as_ref())?;
    let number_text = number.to_string();
    let plan = outgoing::plan(&number_text, answered.as_ref(), unit);
    let letter = crate::core::letter::read_letter(&raw);
    let arrival = Arrival { letter, raw, source: Source::Composed { by: actor.to_string() }, received_at: now };
    let at = Placement { direction, year, number: &number_text, sequence: last };
    let id = insert_document(tx, &arrival, &plan.entry, at, &stamp(now), None).await?;
    store_contents(tx, &mut [arrival], &[(id, 0)]).await?;
    if let Some(answers) = &plan.answers {
        sqlx::query("UPDATE documents SET status = $1 WHERE id = $2")
            .bind(answers.status)
            .bind(answers.document)
            .execute(&mut **tx)
            .await?;
    }
    write_history_in(tx, id, now, actor, &plan.registered).await?;
    if let Some(answers) = &plan.answers {
        write_history_in(tx, answers.document, now, actor, &answers.history).await?;
    }
    outbox::enqueue_in(tx, Some(id), &mail, now).await?;
    save_counter(tx, direction, year, last).await?;
    // Into the answered letter's case, or its classification's yearly case; one with neither
    // waits for the next catch-up, which knows the plan's default class.
    crate::store::archive::file_unfiled(tx, None, now).await?;
    Ok(number_text)
}

/// The registered letter `number`, which an outgoing letter answers.
async fn answered_letter(tx: &mut Transaction<'static, Any>, number: &str) -> Result<AnsweredLetter> {
    let row = sqlx::query("SELECT id, COALESCE(thread_id, id), message_id, replies_to_json, status FROM documents WHERE number = $1")
        .bind(number)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(Reference::Document(number.to_string())))?;
    let references: Vec<String> = serde_json::from_str(&row.try_get::<String, _>(3)?).unwrap_or_default();
    Ok(AnsweredLetter {
        id: row.try_get(0)?,
        root: row.try_get(1)?,
        number: number.to_string(),
        message_id: row.try_get(2)?,
        references,
        status: row.try_get(4)?,
    })
}
