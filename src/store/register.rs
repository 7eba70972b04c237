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

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use super::rows::{Cell, ONE_OFF_BYTES, insert_rows, release_bound_bytes};
use super::{Arrival, Outcome, Result, StoreError, json, lock_counter, outbox, room_outbox};
use crate::core::announce::RoomTarget;
use crate::core::bounce::{self, BounceInfo};
use crate::core::effects::{self, Bounce, Effect, Entry, Facts, FoundBy, Note, Returned};
use crate::core::flags::ReviewFlag;
use crate::core::intake::{self, Decision, IntakePolicy, Known, NewEntry, Source};
use crate::core::letter::Letter;
use crate::core::number::{Direction, RegistrationNumber};
use crate::core::outbound::{MailKind, OutgoingMail};
use crate::core::partner::filing_domains;
use crate::core::remind;
use crate::core::rules::due_date_skipping;
use crate::core::time::{stamp, year_in};

/// An attachment's bytes stay inside its raw message (see `store::attachments`).
const ATTACHMENT_COLUMNS: &[&str] = &["document_id", "position", "name", "media_type", "size", "sha256"];
/// The domains a letter is filed under, for its partners (`core::partner::filing_domains`).
pub(super) const DOMAIN_COLUMNS: &[&str] = &["domain", "document_id"];
const HISTORY_COLUMNS: &[&str] = &["document_id", "at", "actor", "action", "field", "old_value", "new_value", "reason"];

/// Largest IN (...) list in one lookup.
const LOOKUP_CHUNK: usize = 500;
/// Letters numbered by one UPDATE (four parameters each).
const NUMBERING_CHUNK: usize = 200;

/// A registered document as a lookup sees it.
#[derive(Debug, Clone)]
struct Seen {
    id: i64,
    number: String,
    /// The first document of its thread.
    root: i64,
}

/// What the register already holds about the letters of one batch; it learns each new entry,
/// so the batch sees its own earlier letters.
#[derive(Default)]
struct BatchFacts {
    recorded_uids: HashMap<(String, u32, u32), String>,
    by_sha256: HashMap<String, Seen>,
    by_message_id: HashMap<String, Seen>,
    by_number: HashMap<String, Seen>,
}

impl BatchFacts {
    async fn load(tx: &mut Transaction<'static, Any>, arrivals: &[Arrival]) -> Result<BatchFacts> {
        let mut facts = BatchFacts::default();
        let mut by_generation: HashMap<(String, u32), Vec<String>> = HashMap::new();
        for arrival in arrivals {
            if let Source::Imap { mailbox, uid_validity, uid } = &arrival.source {
                by_generation.entry((mailbox.clone(), *uid_validity)).or_default().push(uid.to_string());
            }
        }
        for ((mailbox, uid_validity), uids) in by_generation {
            for chunk in uids.chunks(LOOKUP_CHUNK) {
                let sql = format!(
                    "SELECT m.uid, d.number FROM imap_messages m JOIN documents d ON d.id = m.document_id \
                     WHERE m.mailbox = $1 AND m.uid_validity = $2 AND m.uid IN ({})",
                    placeholders(3, chunk.len())
                );
                let mut query = sqlx::query(AssertSqlSafe(sql)).bind(mailbox.as_str()).bind(i64::from(uid_validity));
                for uid in chunk {
                    query = query.bind(uid.parse::<i64>().unwrap_or(0));
                }
                for row in query.fetch_all(&mut **tx).await? {
                    let Ok(uid) = u32::try_from(row.try_get::<i64, _>(0)?) else { continue };
                    facts.recorded_uids.insert((mailbox.clone(), uid_validity, uid), row.try_get(1)?);
                }
            }
        }

        let hashes: Vec<String> = arrivals.iter().map(|a| a.letter.sha256.clone()).collect();
        facts.by_sha256 = seen_where(tx, "sha256", "direction = 'incoming' AND ", &hashes).await?;
        let mut message_ids: Vec<String> = Vec::new();
        let mut numbers: Vec<String> = Vec::new();
        for arrival in arrivals {
            let clues = intake::thread_clues(&arrival.letter);
            message_ids.extend(arrival.letter.message_id.iter().cloned());
            message_ids.extend(clues.message_ids);
            numbers.extend(clues.numbers.iter().map(ToString::to_string));
        }
        facts.by_message_id = seen_where(tx, "message_id", "", &message_ids).await?;
        facts.by_number = seen_where(tx, "number", "", &numbers).await?;
        Ok(facts)
    }

    fn known(&self, letter: &Letter) -> Known {
        let clues = intake::thread_clues(letter);
        let thread_root = clues
            .numbers
            .iter()
            .find_map(|n| self.by_number.get(&n.to_string()))
            .or_else(|| clues.message_ids.iter().find_map(|id| self.by_message_id.get(id)))
            .map(|seen| seen.root);
        Known {
            same_bytes: self.by_sha256.get(&letter.sha256).map(|s| s.number.clone()),
            same_message_id: letter.message_id.as_ref().and_then(|id| self.by_message_id.get(id)).map(|s| s.number.clone()),
            thread_root,
        }
    }

    fn learn(&mut self, letter: &Letter, seen: Seen) {
        self.by_sha256.entry(letter.sha256.clone()).or_insert_with(|| seen.clone());
        if let Some(id) = &letter.message_id {
            self.by_message_id.entry(id.clone()).or_insert_with(|| seen.clone());
        }
        self.by_number.insert(seen.number.clone(), seen);
    }
}

/// The first document (lowest id) for each value of a column among `values`.
async fn seen_where(tx: &mut Transaction<'static, Any>, column: &str, extra: &str, values: &[String]) -> Result<HashMap<String, Seen>> {
    let mut unique: Vec<&String> = values.iter().collect();
    unique.sort();
    unique.dedup();
    let mut found: HashMap<String, Seen> = HashMap::new();
    for chunk in unique.chunks(LOOKUP_CHUNK) {
        let sql = format!(
            "SELECT id, number, COALESCE(thread_id, id), {column} FROM documents WHERE {extra}{column} IN ({}) ORDER BY id",
            placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for value in chunk {
            query = query.bind(value.as_str());
        }
        for row in query.fetch_all(&mut **tx).await? {
            if let std::collections::hash_map::Entry::Vacant(slot) = found.entry(row.try_get(3)?) {
                slot.insert(Seen { id: row.try_get(0)?, number: row.try_get(1)?, root: row.try_get(2)? });
            }
        }
    }
    Ok(found)
}

fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

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
        let random = getrandom::u64().map_err(|e| StoreError::Refused(format!("no randomness for placeholder numbers: {e}")))?;
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

pub(super) async fn register_incoming(
    tx: &mut Transaction<'static, Any>,
    zone: chrono_tz::Tz,
    mut arrivals: Vec<Arrival>,
    policy: &IntakePolicy,
    reminders: &remind::Policy,
    counter_lock: CounterLock,
    now: DateTime<Utc>,
) -> Result<Registered> {
    let direction = Direction::Incoming;
    let year = year_in(now, zone);
    let mut facts = BatchFacts::load(tx, &arrivals).await?;
    let counter_at_start = match counter_lock {
        CounterLock::First => Some(lock_counter(tx, direction, year).await?),
        CounterLock::Last => None,
    };
    let mut placeholders = match counter_at_start {
        Some(last) => Placeholders::Real { direction, year, last },
        None => Placeholders::pending()?,
    };
    let mut slots = Vec::with_capacity(arrivals.len());
    let mut new_letters: Vec<NewLetter> = Vec::new();
    let mut imap_rows = Vec::new();
    let registered_at = stamp(now);
    let mut reminders_scheduled = false;

    // Everything that needs no number: decisions, the documents under placeholders, their
    // bytes, reminders of due dates, IMAP progress.
    for (index, arrival) in arrivals.iter().enumerate() {
        if let Source::Imap { mailbox, uid_validity, uid } = &arrival.source
            && let Some(number) = facts.recorded_uids.get(&(mailbox.clone(), *uid_validity, *uid))
        {
            slots.push(Slot::Known(Outcome::AlreadyRecorded { number: number.clone() }));
            continue;
        }
        let document_id = match intake::decide(&arrival.letter, &facts.known(&arrival.letter), policy) {
            Decision::AlreadyRegistered { number } => {
                let id = facts.by_sha256.get(&arrival.letter.sha256).map(|s| s.id).unwrap_or_default();
                slots.push(Slot::Same(number));
                id
            }
            Decision::Register(entry) => {
                let (placeholder, sequence) = placeholders.take();
                let due_on = entry
                    .routing
                    .as_ref()
                    .and_then(|r| r.due_in_working_days)
                    .map(|days| due_date_skipping(now.with_timezone(&zone).date_naive(), days, &policy.holidays));
                let at = Placement { direction, year, number: &placeholder, sequence };
                let id = insert_document(tx, arrival, &entry, at, &registered_at, due_on.map(|d| d.to_string()).as_deref()).await?;
                facts.learn(&arrival.letter, Seen { id, number: placeholder.clone(), root: entry.thread_root.unwrap_or(id) });
                // A due date is reminded of: to whoever has the letter before it, to the unit's
                // head once it passes.
                if let Some(due_on) = due_on {
                    for kind in [remind::Kind::LetterDue, remind::Kind::LetterOverdue] {
                        let scheduled =
                            super::reminders::schedule_deadline_in(tx, reminders, kind, id, due_on, None, "chancery", now).await?;
                        reminders_scheduled |= scheduled.is_some();
                    }
                }
                let bounce = bounce::bounced_message(&arrival.letter, &arrival.raw);
                slots.push(Slot::New(new_letters.len()));
                new_letters.push(NewLetter { id, index, entry, due_on, placeholder, number: String::new(), sequence: 0, bounce });
                id
            }
        };
        if let Source::Imap { mailbox, uid_validity, uid } = &arrival.source {
            imap_rows.push(vec![
                Cell::Owned(mailbox.clone()),
                Cell::Int(i64::from(*uid_validity)),
                Cell::Int(i64::from(*uid)),
                Cell::Int(document_id),
            ]);
        }
    }
    let stored: Vec<(i64, usize)> = new_letters.iter().map(|n| (n.id, n.index)).collect();
    store_contents(tx, &mut arrivals, &stored).await?;
    insert_rows(tx, "imap_messages", &["mailbox", "uid_validity", "uid", "document_id"], imap_rows).await?;

    // The numbering: the counter stays locked from here until the commit. Numbers are given in
    // the order placeholders were taken, so with the counter locked first each is its own.
    let mut last = match counter_at_start {
        Some(last) => last,
        None => {
            let last = lock_counter(tx, direction, year).await?;
            registered_meanwhile(tx, &arrivals, &mut new_letters).await?;
            last
        }
    };
    let mut numbers: HashMap<String, String> = HashMap::with_capacity(new_letters.len());
    for new in &mut new_letters {
        last += 1;
        new.sequence = last;
        new.number = RegistrationNumber { direction, year, sequence: last }.to_string();
        numbers.insert(new.placeholder.clone(), new.number.clone());
    }
    for new in &mut new_letters {
        for flag in &mut new.entry.flags {
            if let ReviewFlag::PossibleDuplicate { of, .. } = flag
                && let Some(number) = numbers.get(of.as_str())
            {
                of.clone_from(number);
            }
        }
    }
    if counter_at_start.is_none() {
        give_numbers(tx, &new_letters).await?;
    }

    let mut history_rows = Vec::new();
    let mut written = Written::default();
    for new in &mut new_letters {
        let letter = &arrivals[new.index].letter;
        let registered = Entry { id: new.id, number: &new.number, letter, decided: &new.entry, due_on: new.due_on };
        let known = plan_facts(tx, &registered, new.bounce.take(), policy, zone, now).await?;
        let plan = effects::plan(&registered, &known, policy, zone, now);
        written.add(write_plan(tx, new.id, plan, now, &mut history_rows).await?);
    }
    drop(arrivals);
    insert_rows(tx, "history", HISTORY_COLUMNS, history_rows).await?;
    save_counter(tx, direction, year, last).await?;

    let outcomes = slots
        .into_iter()
        .map(|slot| match slot {
            Slot::Known(outcome) => outcome,
            Slot::Same(number) => Outcome::SameLetter { number: numbers.get(&number).cloned().unwrap_or(number) },
            Slot::New(i) => {
                let new = &new_letters[i];
                Outcome::Registered { number: new.number.clone(), flags: new.entry.flags.iter().map(ReviewFlag::name).collect() }
            }
        })
        .collect();
    Ok(Registered { outcomes, mail_queued: written.mail, room_queued: written.room, reminders_scheduled })
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
        return Err(StoreError::Conflict(format!(
            "the letter {:?} was registered as {number} by another registrar while this batch was written; \
             the batch is rolled back and will find it registered",
            letter.subject
        )));
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

/// Registers outgoing correspondence and queues it, in one transaction: the number is taken,
/// `compose` writes the message with the number in it, and that exact message is stored and
/// sent. A letter it answers is linked as its thread and marked `answered`.
pub(super) async fn register_outgoing<F>(
    tx: &mut Transaction<'static, Any>,
    zone: chrono_tz::Tz,
    answers: Option<&str>,
    actor: &str,
    unit: &str,
    now: DateTime<Utc>,
    compose: F,
) -> Result<String>
where
    F: FnOnce(&RegistrationNumber, Option<&AnsweredLetter>) -> std::result::Result<(Vec<u8>, OutgoingMail), String>,
{
    let direction = Direction::Outgoing;
    let year = year_in(now, zone);
    let answered = match answers {
        Some(number) => {
            let row =
                sqlx::query("SELECT id, COALESCE(thread_id, id), message_id, replies_to_json, status FROM documents WHERE number = $1")
                    .bind(number)
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("no document {number} to answer")))?;
            let references: Vec<String> = serde_json::from_str(&row.try_get::<String, _>(3)?).unwrap_or_default();
            Some(AnsweredLetter {
                id: row.try_get(0)?,
                root: row.try_get(1)?,
                number: number.to_string(),
                message_id: row.try_get(2)?,
                references,
                status: row.try_get(4)?,
            })
        }
        None => None,
    };
    let last = lock_counter(tx, direction, year).await? + 1;
    let number = RegistrationNumber { direction, year, sequence: last };
    let (raw, mail) = compose(&number, answered.as_ref()).map_err(StoreError::Refused)?;
    let letter = crate::core::letter::read_letter(&raw);
    let arrival = Arrival { letter, raw, source: Source::Composed { by: actor.to_string() }, received_at: now };
    let entry = NewEntry {
        flags: Vec::new(),
        thread_root: answered.as_ref().map(|a| a.root),
        unit: unit.to_string(),
        classification: None,
        confidentiality: crate::core::confidentiality::Confidentiality::Internal,
        routing: None,
    };
    let registered_at = stamp(now);
    let number_text = number.to_string();
    let at = Placement { direction, year, number: &number_text, sequence: last };
    let id = insert_document(tx, &arrival, &entry, at, &registered_at, None).await?;
    store_contents(tx, &mut [arrival], &[(id, 0)]).await?;
    let mut history = vec![vec![
        Cell::Int(id),
        Cell::Owned(registered_at.clone()),
        Cell::Text(actor),
        Cell::Text("registered"),
        Cell::Null,
        Cell::Null,
        Cell::Owned(number_text.clone()),
        answered.as_ref().map_or(Cell::Null, |a| Cell::Owned(format!("answers {}", a.number))),
    ]];
    if let Some(answered) = &answered {
        sqlx::query("UPDATE documents SET status = 'answered' WHERE id = $1").bind(answered.id).execute(&mut **tx).await?;
        history.push(vec![
            Cell::Int(answered.id),
            Cell::Owned(registered_at.clone()),
            Cell::Text(actor),
            Cell::Text("answered"),
            Cell::Text("status"),
            Cell::Owned(answered.status.clone()),
            Cell::Text("answered"),
            Cell::Owned(format!("answered by {number_text}")),
        ]);
    }
    insert_rows(tx, "history", HISTORY_COLUMNS, history).await?;
    outbox::enqueue_in(tx, Some(id), &mail, now).await?;
    save_counter(tx, direction, year, last).await?;
    Ok(number_text)
}

/// The registered letter an outgoing one answers, as composing the answer needs it.
#[derive(Debug, Clone)]
pub struct AnsweredLetter {
    id: i64,
    root: i64,
    pub number: String,
    pub message_id: Option<String>,
    /// Its own References, oldest first.
    pub references: Vec<String>,
    status: String,
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

/// Which outboxes a plan wrote to.
#[derive(Default, Clone, Copy)]
struct Written {
    mail: bool,
    room: bool,
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
