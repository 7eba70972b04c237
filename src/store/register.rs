//! Registering a batch of incoming letters in one transaction.
//!
//! Everything the decisions need is looked up once per batch, and the bulky rows (raw bytes,
//! attachments, history, IMAP progress) go in as multi-row inserts: a handful of statements per
//! batch instead of a dozen per letter.
//!
//! The year's counter is locked last. New letters are written under placeholder numbers
//! (a negative sequence, unique among concurrent transactions); only then is the counter
//! locked, what another registrar committed meanwhile looked up again, the numbers given in
//! arrival order, and what follows from a number (acknowledgements, notes, room cards) written.
//! Two instances on one PostgreSQL thus wait for each other only for that last part.
//!
//! On SQLite the transaction holds the one write lock from its start (`BEGIN IMMEDIATE`):
//! nobody can register beside it, so it takes the counter first and writes the real numbers
//! at once, instead of rewriting every new row (its body text included) to number it.
//!
//! The core decides, this writes: `core::intake` what becomes of each letter, `core::due` its
//! due date and reminders, `core::effects` what follows its number (`plan`). An outgoing
//! letter is registered on its own, as `core::outgoing` plans it (`outgoing`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use super::rows::{Cell, ONE_OFF_BYTES, insert_rows, release_bound_bytes};
use super::{Arrival, Outcome, Result, StoreError, archive, json, lock_counter, reminders};
use crate::core::bounce::{self, BounceInfo};
use crate::core::due;
use crate::core::effects;
use crate::core::flags::ReviewFlag;
use crate::core::intake::{self, Decision, IntakePolicy, NewEntry, Source};
use crate::core::number::{Direction, RegistrationNumber};
use crate::core::partner::filing_domains;
use crate::core::remind;
use crate::core::time::{stamp, year_in};

mod batch_facts;
mod outgoing;
mod plan;

use batch_facts::{BatchFacts, Seen, seen_where};
pub(super) use outgoing::register_outgoing;
use plan::write_plans;

/// An attachment's bytes stay inside its raw message (see `store::attachments`).
const ATTACHMENT_COLUMNS: &[&str] = &["document_id", "position", "name", "media_type", "size", "sha256"];
/// The domains a letter is filed under, for its partners (`core::partner::filing_domains`).
pub(super) const DOMAIN_COLUMNS: &[&str] = &["domain", "document_id"];
const HISTORY_COLUMNS: &[&str] = &["document_id", "at", "actor", "action", "field", "old_value", "new_value", "reason"];

/// Letters numbered by one UPDATE (four parameters each).
const NUMBERING_CHUNK: usize = 200;

/// A new letter of the batch, written under a placeholder number until it is numbered.
struct NewLetter {
    id: i64,
    /// Its arrival in the batch.
    index: usize,
    entry: Box<NewEntry>,
    due_on: Option<NaiveDate>,
    placeholder: String,
    /// Its number and sequence, once given.
    number: String,
    sequence: i64,
    /// The mail it returns, when it is a delivery report (read while its raw bytes are at hand).
    bounce: Option<BounceInfo>,
}

/// What an arrival came to, as known before the numbering.
enum Slot {
    Known(Outcome),
    /// The same bytes as a letter registered before or earlier in this batch (a placeholder then).
    Same(String),
    /// The `NewLetter` at this index.
    New(usize),
}

/// When a registering transaction locks the year's counter (see the module's doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CounterLock {
    /// Before anything is written; the numbers are written with the rows (SQLite).
    First,
    /// Just before the commit; rows are written under placeholders first (PostgreSQL).
    Last,
}

/// Numbers written before the counter is locked: never a real one (the sequence is negative)
/// and, from a random start, unlike those of any transaction running beside this one (the
/// unique indexes would make it wait for that transaction otherwise). With the counter locked
/// first they are the real numbers, in the order the numbering gives them.
enum Placeholders {
    Pending { next: i64 },
    Real { direction: Direction, year: i32, last: i64 },
}

impl Placeholders {
    fn pending() -> Result<Placeholders> {
        let random = getrandom::u64().map_err(|source| StoreError::NoRandomness { purpose: "placeholder numbers", source })?;
        // Below 2^62: a batch never reaches the end of i64.
        Ok(Placeholders::Pending { next: i64::try_from(random >> 2).unwrap_or(1).max(1) })
    }

    /// A placeholder's number and sequence.
    fn take(&mut self) -> (String, i64) {
        match self {
            Placeholders::Pending { next } => {
                let n = *next;
                *next += 1;
                (format!("pending-{n}"), -n)
            }
            Placeholders::Real { direction, year, last } => {
                *last += 1;
                (RegistrationNumber { direction: *direction, year: *year, sequence: *last }.to_string(), *last)
            }
        }
    }
}

/// What every step of registering a batch needs to know.
struct Batch<'a> {
    zone: chrono_tz::Tz,
    policy: &'a IntakePolicy,
    reminders: &'a remind::Policy,
    direction: Direction,
    year: i32,
    now: DateTime<Utc>,
}

/// The batch written under placeholders, before the numbering.
struct Unnumbered {
    /// One per arrival, in their order.
    slots: Vec<Slot>,
    new_letters: Vec<NewLetter>,
    imap_rows: Vec<Vec<Cell<'static>>>,
    reminders_scheduled: bool,
}

pub(super) async fn register_incoming(
    tx: &mut Transaction<'static, Any>,
    zone: chrono_tz::Tz,
    mut arrivals: Vec<Arrival>,
    policy: &IntakePolicy,
    reminders: &remind::Policy,
    counter_lock: CounterLock,
    now: DateTime<Utc>,
) -> Result<Registered> {
    let batch = Batch { zone, policy, reminders, direction: Direction::Incoming, year: year_in(now, zone), now };
    let mut facts = BatchFacts::load(tx, &arrivals).await?;
    let counter_at_start = match counter_lock {
        CounterLock::First => Some(lock_counter(tx, batch.direction, batch.year).await?),
        CounterLock::Last => None,
    };
    let mut placeholders = match counter_at_start {
        Some(last) => Placeholders::Real { direction: batch.direction, year: batch.year, last },
        None => Placeholders::pending()?,
    };
    let Unnumbered { slots, mut new_letters, imap_rows, reminders_scheduled } =
        write_unnumbered(tx, &batch, &arrivals, &mut facts, &mut placeholders).await?;
    let stored: Vec<(i64, usize)> = new_letters.iter().map(|n| (n.id, n.index)).collect();
    store_contents(tx, &mut arrivals, &stored).await?;
    insert_rows(tx, "imap_messages", &["mailbox", "uid_validity", "uid", "document_id"], imap_rows).await?;

    let (last, numbers) = number_letters(tx, &batch, counter_at_start, &arrivals, &mut new_letters).await?;
    let (written, history_rows) = write_plans(tx, &batch, &arrivals, &mut new_letters).await?;
    drop(arrivals);
    insert_rows(tx, "history", HISTORY_COLUMNS, history_rows).await?;
    save_counter(tx, batch.direction, batch.year, last).await?;
    if !new_letters.is_empty() {
        let default_class = policy.rules.as_ref().and_then(|rules| rules.file_plan()).map(|plan| plan.default_class.as_str());
        archive::file_unfiled(tx, default_class, now).await?;
    }
    let outcomes = outcomes(slots, &new_letters, &numbers);
    Ok(Registered { outcomes, mail_queued: written.mail, room_queued: written.room, reminders_scheduled })
}

/// Everything that needs no number: decisions, the documents under placeholders, reminders of
/// due dates, and the IMAP progress to record.
async fn write_unnumbered(
    tx: &mut Transaction<'static, Any>,
    batch: &Batch<'_>,
    arrivals: &[Arrival],
    facts: &mut BatchFacts,
    placeholders: &mut Placeholders,
) -> Result<Unnumbered> {
    let mut unnumbered = Unnumbered {
        slots: Vec::with_capacity(arrivals.len()),
        new_letters: Vec::new(),
        imap_rows: Vec::new(),
        reminders_scheduled: false,
    };
    for (index, arrival) in arrivals.iter().enumerate() {
        if let Source::Imap { mailbox, uid_validity, uid } = &arrival.source
            && let Some(number) = facts.recorded_uids.get(&(mailbox.clone(), *uid_validity, *uid))
        {
            unnumbered.slots.push(Slot::Known(Outcome::AlreadyRecorded { number: number.clone() }));
            continue;
        }
        let document_id = match intake::decide(&arrival.letter, &facts.known(&arrival.letter), batch.policy) {
            Decision::AlreadyRegistered { number } => {
                unnumbered.slots.push(Slot::Same(number));
                facts.by_sha256.get(&arrival.letter.sha256).map(|s| s.id).unwrap_or_default()
            }
            Decision::Register(entry) => {
                let (new, scheduled) = write_new_letter(tx, batch, index, arrival, entry, placeholders.take()).await?;
                facts.learn(
                    &arrival.letter,
                    Seen { id: new.id, number: new.placeholder.clone(), root: new.entry.thread_root.unwrap_or(new.id) },
                );
                unnumbered.reminders_scheduled |= scheduled;
                unnumbered.slots.push(Slot::New(unnumbered.new_letters.len()));
                let id = new.id;
                unnumbered.new_letters.push(new);
                id
            }
        };
        if let Source::Imap { mailbox, uid_validity, uid } = &arrival.source {
            unnumbered.imap_rows.push(vec![
                Cell::Owned(mailbox.clone()),
                Cell::Int(i64::from(*uid_validity)),
                Cell::Int(i64::from(*uid)),
                Cell::Int(document_id),
            ]);
        }
    }
    Ok(unnumbered)
}

/// Writes a new letter under its placeholder, with the due date the core gives it and the
/// reminders of that date. Says whether a reminder was scheduled.
async fn write_new_letter(
    tx: &mut Transaction<'static, Any>,
    batch: &Batch<'_>,
    index: usize,
    arrival: &Arrival,
    entry: Box<NewEntry>,
    (placeholder, sequence): (String, i64),
) -> Result<(NewLetter, bool)> {
    let today = batch.now.with_timezone(&batch.zone).date_naive();
    let due = due::due_at_registration(entry.routing.as_ref(), today, &batch.policy.holidays, batch.reminders, batch.now);
    let due_on = due.as_ref().map(|d| d.due_on);
    let at = Placement { direction: batch.direction, year: batch.year, number: &placeholder, sequence };
    let registered_at = stamp(batch.now);
    let id = insert_document(tx, arrival, &entry, at, &registered_at, due_on.map(|d| d.to_string()).as_deref()).await?;
    let scheduled = due.map(|d| d.scheduled).unwrap_or_default();
    for reminder in &scheduled {
        reminders::insert_in(tx, reminder.kind, Some(id), Some(reminder.deadline), reminder.due_at, effects::ACTOR, None, None, batch.now)
            .await?;
    }
    let bounce = bounce::bounced_message(&arrival.letter, &arrival.raw);
    let new = NewLetter { id, index, entry, due_on, placeholder, number: String::new(), sequence: 0, bounce };
    Ok((new, !scheduled.is_empty()))
}

/// The numbering: the counter stays locked from here until the commit. Numbers are given in
/// the order placeholders were taken, so with the counter locked first each is its own.
/// Returns the last number given, and the number of each placeholder.
async fn number_letters(
    tx: &mut Transaction<'static, Any>,
    batch: &Batch<'_>,
    counter_at_start: Option<i64>,
    arrivals: &[Arrival],
    new_letters: &mut [NewLetter],
) -> Result<(i64, HashMap<String, String>)> {
    let mut last = match counter_at_start {
        Some(last) => last,
        None => {
            let last = lock_counter(tx, batch.direction, batch.year).await?;
            registered_meanwhile(tx, arrivals, new_letters).await?;
            last
        }
    };
    let mut numbers: HashMap<String, String> = HashMap::with_capacity(new_letters.len());
    for new in new_letters.iter_mut() {
        last += 1;
        new.sequence = last;
        new.number = RegistrationNumber { direction: batch.direction, year: batch.year, sequence: last }.to_string();
        numbers.insert(new.placeholder.clone(), new.number.clone());
    }
    for new in new_letters.iter_mut() {
        for flag in &mut new.entry.flags {
            if let ReviewFlag::PossibleDuplicate { of, .. } = flag
                && let Some(number) = numbers.get(of.as_str())
            {
                of.clone_from(number);
            }
        }
    }
    if counter_at_start.is_none() {
        give_numbers(tx, new_letters).await?;
    }
    Ok((last, numbers))
}

/// What each arrival came to, in their order, with the numbers given.
fn outcomes(slots: Vec<Slot>, new_letters: &[NewLetter], numbers: &HashMap<String, String>) -> Vec<Outcome> {
    slots
        .into_iter()
        .map(|slot| match slot {
            Slot::Known(outcome) => outcome,
            Slot::Same(number) => Outcome::SameLetter { number: numbers.get(&number).cloned().unwrap_or(number) },
            Slot::New(i) => {
                let new = &new_letters[i];
                Outcome::Registered { number: new.number.clone(), flags: new.entry.flags.iter().map(ReviewFlag::name).collect() }
            }
        })
        .collect()
}

/// Looks again, under the counter's lock, for what another registrar committed while this
/// batch was being written (the lookups at its start could not see it): the same bytes make
/// the batch fail (it is registered again, and then finds them), the same Message-ID flags the
/// letter as a possible duplicate, as it would have been a moment later.
async fn registered_meanwhile(tx: &mut Transaction<'static, Any>, arrivals: &[Arrival], new_letters: &mut [NewLetter]) -> Result<()> {
    let hashes: Vec<String> = new_letters.iter().map(|n| arrivals[n.index].letter.sha256.clone()).collect();
    // Committed entries are numbered; this transaction's own are not yet.
    let same_bytes = seen_where(tx, "sha256", "direction = 'incoming' AND sequence > 0 AND ", &hashes).await?;
    if let Some(new) = new_letters.iter().find(|n| same_bytes.contains_key(&arrivals[n.index].letter.sha256)) {
        let letter = &arrivals[new.index].letter;
        let number = same_bytes.get(&letter.sha256).map(|s| s.number.as_str()).unwrap_or_default();
        return Err(StoreError::Conflict { subject: letter.subject.clone(), number: number.to_string() });
    }
    let unflagged = |n: &NewLetter| !n.entry.flags.iter().any(|f| matches!(f, ReviewFlag::PossibleDuplicate { .. }));
    let message_ids: Vec<String> =
        new_letters.iter().filter(|n| unflagged(n)).filter_map(|n| arrivals[n.index].letter.message_id.clone()).collect();
    if message_ids.is_empty() {
        return Ok(());
    }
    let same_message_id = seen_where(tx, "message_id", "sequence > 0 AND ", &message_ids).await?;
    for new in new_letters.iter_mut().filter(|n| unflagged(n)) {
        if let Some(message_id) = &arrivals[new.index].letter.message_id
            && let Some(seen) = same_message_id.get(message_id)
        {
            new.entry.flags.push(ReviewFlag::PossibleDuplicate { message_id: message_id.clone(), of: seen.number.clone() });
        }
    }
    Ok(())
}

/// Gives the new letters their numbers (and their flags, which may name a number of the batch).
async fn give_numbers(tx: &mut Transaction<'static, Any>, new_letters: &[NewLetter]) -> Result<()> {
    for chunk in new_letters.chunks(NUMBERING_CHUNK) {
        let rows = (0..chunk.len())
            .map(|i| {
                let p = 4 * i;
                if i == 0 {
                    format!("SELECT ${} AS id, ${} AS number, ${} AS sequence, ${} AS flags_json", p + 1, p + 2, p + 3, p + 4)
                } else {
                    format!("SELECT ${}, ${}, ${}, ${}", p + 1, p + 2, p + 3, p + 4)
                }
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let sql = format!(
            "UPDATE documents SET number = n.number, sequence = n.sequence, flags_json = n.flags_json \
             FROM ({rows}) AS n WHERE documents.id = n.id"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for new in chunk {
            query = query.bind(new.id).bind(new.number.as_str()).bind(new.sequence).bind(json(&new.entry.flags));
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The year's counter after this transaction's numbers (its row is locked since `lock_counter`).
async fn save_counter(tx: &mut Transaction<'static, Any>, direction: Direction, year: i32, last: i64) -> Result<()> {
    sqlx::query("UPDATE register_counters SET last = $1 WHERE register = $2 AND year = $3")
        .bind(last)
        .bind(direction.register())
        .bind(i64::from(year))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Stores the bytes of new documents, moved out of their arrivals: the raw messages, and what
/// the register says of each attachment (its bytes stay inside the raw message, from which a
/// download decodes them again). The decoded attachments are dropped first: nothing after
/// this needs them, and a write holds its bytes about three times over (the driver's copy,
/// SQLite's copy and the record).
async fn store_contents(tx: &mut Transaction<'static, Any>, arrivals: &mut [Arrival], stored: &[(i64, usize)]) -> Result<()> {
    let mut attachment_rows = Vec::new();
    for &(id, index) in stored {
        for (position, a) in (1_i64..).zip(arrivals[index].letter.attachments.iter_mut()) {
            attachment_rows.push(vec![
                Cell::Int(id),
                Cell::Int(position),
                Cell::Owned(a.name.clone()),
                Cell::Owned(a.media_type.clone()),
                Cell::Int(i64::try_from(a.content.len()).unwrap_or(i64::MAX)),
                Cell::Owned(a.sha256.clone()),
            ]);
            a.content = Vec::new();
        }
    }
    insert_rows(tx, "attachments", ATTACHMENT_COLUMNS, attachment_rows).await?;
    let raw_rows = stored.iter().map(|&(id, index)| vec![Cell::Int(id), Cell::Blob(std::mem::take(&mut arrivals[index].raw))]).collect();
    insert_rows(tx, "raw_messages", &["document_id", "bytes"], raw_rows).await
}

pub(super) struct Registered {
    pub outcomes: Vec<Outcome>,
    /// Mail was written to the outbox: the dispatcher should look.
    pub mail_queued: bool,
    /// A room message was written: the Matrix adapter should look.
    pub room_queued: bool,
    /// Due dates were given reminders.
    pub reminders_scheduled: bool,
}

/// Where a document goes in the register: its number, or a placeholder until it is numbered.
struct Placement<'a> {
    direction: Direction,
    year: i32,
    number: &'a str,
    sequence: i64,
}

async fn insert_document(
    tx: &mut Transaction<'static, Any>,
    arrival: &Arrival,
    entry: &NewEntry,
    at: Placement<'_>,
    registered_at: &str,
    due_on: Option<&str>,
) -> Result<i64> {
    let letter = &arrival.letter;
    let from_address = letter.from.first().map(|c| c.address.to_lowercase()).unwrap_or_default();
    let one_off = letter.body_text.len() > ONE_OFF_BYTES;
    let row = sqlx::query(
        "INSERT INTO documents (number, direction, year, sequence, subject, from_json, to_json, cc_json, from_address, \
         message_id, replies_to_json, sent_at, received_at, registered_at, sha256, size, body_text, source, thread_id, \
         flags_json, status, unit, classification, confidentiality, routing_json, tags_json, due_on) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27) \
         RETURNING id",
    )
    .bind(at.number)
    .bind(at.direction.as_str())
    .bind(i64::from(at.year))
    .bind(at.sequence)
    .bind(letter.subject.as_str())
    .bind(json(&letter.from))
    .bind(json(&letter.to))
    .bind(json(&letter.cc))
    .bind(from_address)
    .bind(letter.message_id.clone())
    .bind(json(&letter.replies_to))
    .bind(letter.sent_at.and_then(|s| DateTime::from_timestamp(s, 0)).map(stamp))
    .bind(stamp(arrival.received_at))
    .bind(registered_at)
    .bind(letter.sha256.as_str())
    .bind(i64::try_from(letter.size).unwrap_or(i64::MAX))
    .bind(letter.body_text.as_str())
    .bind(arrival.source.describe())
    .bind(entry.thread_root)
    .bind(json(&entry.flags))
    .bind("registered")
    .bind(entry.unit.as_str())
    .bind(entry.classification.clone())
    .bind(entry.confidentiality.as_str())
    .bind(entry.routing.as_ref().map(json))
    .bind(json(&entry.routing.as_ref().map(|r| r.tags.clone()).unwrap_or_default()))
    .bind(due_on)
    .persistent(!one_off)
    .fetch_one(&mut **tx)
    .await?;
    if one_off {
        release_bound_bytes(tx).await?;
    }
    let id = row.try_get(0)?;
    let domains = filing_domains(at.direction, &letter.from, &letter.to);
    insert_rows(tx, "document_domains", DOMAIN_COLUMNS, domains.into_iter().map(|d| vec![Cell::Owned(d), Cell::Int(id)]).collect()).await?;
    Ok(id)
}
