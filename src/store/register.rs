//! Registering a batch of incoming letters in one transaction.
//!
//! Everything the decisions need is looked up once per batch, and the bulky rows (raw bytes,
//! attachments, history, IMAP progress) go in as multi-row inserts: a handful of statements per
//! batch instead of a dozen per letter.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
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
use crate::core::remind;
use crate::core::rules::due_date_skipping;
use crate::core::time::{stamp, year_in};

const ATTACHMENT_COLUMNS: &[&str] = &["document_id", "position", "name", "media_type", "size", "sha256", "content"];
const HISTORY_COLUMNS: &[&str] = &["document_id", "at", "actor", "action", "field", "old_value", "new_value", "reason"];

/// Largest IN (...) list in one lookup.
const LOOKUP_CHUNK: usize = 500;

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
                    let uid = row.get::<i64, _>(0) as u32;
                    facts.recorded_uids.insert((mailbox.clone(), uid_validity, uid), row.get(1));
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
            let key: String = row.get(3);
            found.entry(key).or_insert_with(|| Seen { id: row.get(0), number: row.get(1), root: row.get(2) });
        }
    }
    Ok(found)
}

fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

pub(super) async fn register_incoming(
    tx: &mut Transaction<'static, Any>,
    zone: chrono_tz::Tz,
    mut arrivals: Vec<Arrival>,
    policy: &IntakePolicy,
    reminders: &remind::Policy,
    now: DateTime<Utc>,
) -> Result<Registered> {
    let direction = Direction::Incoming;
    let year = year_in(now, zone);
    let mut last = lock_counter(tx, direction, year).await?;
    let mut facts = BatchFacts::load(tx, &arrivals).await?;
    let mut outcomes = Vec::with_capacity(arrivals.len());
    // (document id, arrival index) of each new entry, whose bytes are stored at the end.
    let mut stored = Vec::new();
    let mut history_rows = Vec::new();
    let mut imap_rows = Vec::new();
    let registered_at = stamp(now);
    let mut written = Written::default();
    let mut reminders_scheduled = false;

    for (index, arrival) in arrivals.iter().enumerate() {
        if let Source::Imap { mailbox, uid_validity, uid } = &arrival.source
            && let Some(number) = facts.recorded_uids.get(&(mailbox.clone(), *uid_validity, *uid))
        {
            outcomes.push(Outcome::AlreadyRecorded { number: number.clone() });
            continue;
        }
        let (document_id, outcome) = match intake::decide(&arrival.letter, &facts.known(&arrival.letter), policy) {
            Decision::AlreadyRegistered { number } => {
                let id = facts.by_sha256.get(&arrival.letter.sha256).map(|s| s.id).unwrap_or_default();
                (id, Outcome::SameLetter { number })
            }
            Decision::Register(entry) => {
                last += 1;
                let number = RegistrationNumber { direction, year, sequence: last };
                let due_on = entry
                    .routing
                    .as_ref()
                    .and_then(|r| r.due_in_working_days)
                    .map(|days| due_date_skipping(now.with_timezone(&zone).date_naive(), days, &policy.holidays));
                let id = insert_document(tx, arrival, &entry, number, &registered_at, due_on.map(|d| d.to_string()).as_deref()).await?;
                facts.learn(&arrival.letter, Seen { id, number: number.to_string(), root: entry.thread_root.unwrap_or(id) });
                stored.push((id, index));

                let number_text = number.to_string();
                let registered = Entry { id, number: &number_text, letter: &arrival.letter, decided: &entry, due_on };
                let known = plan_facts(tx, &registered, &arrival.raw, policy, zone, now).await?;
                let plan = effects::plan(&registered, &known, policy, zone, now);
                written.add(write_plan(tx, id, plan, now, &mut history_rows).await?);
                // A due date is reminded of: to whoever has the letter before it, to the unit's
                // head once it passes.
                if let Some(due_on) = due_on {
                    for kind in [remind::Kind::LetterDue, remind::Kind::LetterOverdue] {
                        let scheduled =
                            super::reminders::schedule_deadline_in(tx, reminders, kind, id, due_on, None, "chancery", now).await?;
                        reminders_scheduled |= scheduled.is_some();
                    }
                }
                let flags = entry.flags.iter().map(ReviewFlag::name).collect();
                (id, Outcome::Registered { number: number_text, flags })
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
        outcomes.push(outcome);
    }

    store_contents(tx, &mut arrivals, &stored).await?;
    drop(arrivals);
    insert_rows(tx, "history", HISTORY_COLUMNS, history_rows).await?;
    insert_rows(tx, "imap_messages", &["mailbox", "uid_validity", "uid", "document_id"], imap_rows).await?;
    save_counter(tx, direction, year, last).await?;
    Ok(Registered { outcomes, mail_queued: written.mail, room_queued: written.room, reminders_scheduled })
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

/// Stores the bytes of new documents, moved out of their arrivals: each attachment, then the
/// raw messages. In that order a letter's raw bytes are held once while its attachments are
/// written, and its attachments are gone while its raw bytes are written (each write holds
/// its bytes about three times over: the driver's copy, SQLite's copy and the record).
async fn store_contents(tx: &mut Transaction<'static, Any>, arrivals: &mut [Arrival], stored: &[(i64, usize)]) -> Result<()> {
    let mut attachment_rows = Vec::new();
    for &(id, index) in stored {
        for (position, a) in arrivals[index].letter.attachments.iter_mut().enumerate() {
            attachment_rows.push(vec![
                Cell::Int(id),
                Cell::Int(position as i64 + 1),
                Cell::Owned(a.name.clone()),
                Cell::Owned(a.media_type.clone()),
                Cell::Int(a.content.len() as i64),
                Cell::Owned(a.sha256.clone()),
                Cell::Blob(std::mem::take(&mut a.content)),
            ]);
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
            let references: Vec<String> = serde_json::from_str(&row.get::<String, _>(3)).unwrap_or_default();
            Some(AnsweredLetter {
                id: row.get(0),
                root: row.get(1),
                number: number.to_string(),
                message_id: row.get(2),
                references,
                status: row.get(4),
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
        confidentiality: crate::core::intake::Confidentiality::Internal,
        routing: None,
    };
    let registered_at = stamp(now);
    let id = insert_document(tx, &arrival, &entry, number, &registered_at, None).await?;
    store_contents(tx, &mut [arrival], &[(id, 0)]).await?;
    let number_text = number.to_string();
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
    raw: &[u8],
    policy: &IntakePolicy,
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Result<Facts> {
    let bounce = match bounce::bounced_message(entry.letter, raw) {
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

async fn insert_document(
    tx: &mut Transaction<'static, Any>,
    arrival: &Arrival,
    entry: &NewEntry,
    number: RegistrationNumber,
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
    .bind(number.to_string())
    .bind(number.direction.as_str())
    .bind(i64::from(number.year))
    .bind(number.sequence)
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
    .bind(letter.size as i64)
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
    Ok(row.get(0))
}
