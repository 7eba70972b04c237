//! Registering a batch of incoming letters in one transaction.
//!
//! Everything the decisions need is looked up once per batch, and the bulky rows (raw bytes,
//! attachments, history, IMAP progress) go in as multi-row inserts: a handful of statements per
//! batch instead of a dozen per letter.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use super::outbox;
use super::rows::{Cell, ONE_OFF_BYTES, insert_rows, release_bound_bytes};
use super::{Arrival, Outcome, Result, StoreError, json, lock_counter};
use crate::core::bounce::{self, BounceInfo};
use crate::core::flags::ReviewFlag;
use crate::core::intake::{self, Decision, IntakePolicy, Known, NewEntry, Source};
use crate::core::letter::Letter;
use crate::core::number::{Direction, RegistrationNumber};
use crate::core::outbound::OutgoingMail;
use crate::core::outbound::{self, MailKind};
use crate::core::reply::{self, Registration, UnitInfo};
use crate::core::rules::{Routing, due_date_skipping};
use crate::core::time::day_bounds;
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

/// "why was this routed here?" in one line for the history.
fn routing_explanation(routing: &Routing) -> String {
    match &routing.rule {
        None => "no rule matched: the default unit".to_string(),
        Some(rule) => {
            let reasons: Vec<String> =
                routing.reasons.iter().filter(|r| &r.rule == rule).map(|r| format!("{} (matched {:?})", r.condition, r.matched)).collect();
            format!("rule {rule:?}: {}", reasons.join("; "))
        }
    }
}

fn placeholders(first: usize, count: usize) -> String {
    (first..first + count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

pub(super) async fn register_incoming(
    tx: &mut Transaction<'static, Any>,
    zone: chrono_tz::Tz,
    mut arrivals: Vec<Arrival>,
    policy: &IntakePolicy,
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
    let mut mail_queued = false;

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
                    .map(|days| due_date_skipping(now.with_timezone(&zone).date_naive(), days, &policy.holidays).to_string());
                let id = insert_document(tx, arrival, &entry, number, &registered_at, due_on.as_deref()).await?;
                facts.learn(&arrival.letter, Seen { id, number: number.to_string(), root: entry.thread_root.unwrap_or(id) });

                stored.push((id, index));
                let detail = entry.flags.iter().map(ReviewFlag::describe).collect::<Vec<_>>().join("; ");
                history_rows.push(vec![
                    Cell::Int(id),
                    Cell::Owned(registered_at.clone()),
                    Cell::Text("chancery"),
                    Cell::Text("registered"),
                    Cell::Null,
                    Cell::Null,
                    Cell::Owned(number.to_string()),
                    if detail.is_empty() { Cell::Null } else { Cell::Owned(detail) },
                ]);
                if let Some(routing) = &entry.routing {
                    history_rows.push(vec![
                        Cell::Int(id),
                        Cell::Owned(registered_at.clone()),
                        Cell::Text("chancery"),
                        Cell::Text("routed"),
                        Cell::Text("unit"),
                        Cell::Null,
                        Cell::Owned(routing.unit.clone()),
                        Cell::Owned(routing_explanation(routing)),
                    ]);
                }
                let number_text = number.to_string();
                let follow = FollowUp {
                    tx: &mut *tx,
                    id,
                    number: &number_text,
                    arrival,
                    entry: &entry,
                    policy,
                    zone,
                    now,
                    history: &mut history_rows,
                };
                mail_queued |= follow.carry_out().await?;
                let flags = entry.flags.iter().map(ReviewFlag::name).collect();
                (id, Outcome::Registered { number: number.to_string(), flags })
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
    Ok(Registered { outcomes, mail_queued })
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
}

/// What follows a new registration, in the same transaction: a bounce is tied to what it
/// bounces; otherwise the acknowledgement and the forward the routing asked for are written to
/// the outbox, or the reason there is none is written to the history.
struct FollowUp<'a, 'h> {
    tx: &'a mut Transaction<'static, Any>,
    id: i64,
    number: &'a str,
    arrival: &'a Arrival,
    entry: &'a NewEntry,
    policy: &'a IntakePolicy,
    zone: chrono_tz::Tz,
    now: DateTime<Utc>,
    history: &'a mut Vec<Vec<Cell<'h>>>,
}

impl FollowUp<'_, '_> {
    async fn carry_out(mut self) -> Result<bool> {
        let letter = &self.arrival.letter;
        if let Some(bounce) = bounce::bounced_message(letter, &self.arrival.raw) {
            self.tie_bounce(&bounce).await?;
            return Ok(false);
        }
        let (Some(replies), Some(routing)) = (&self.policy.replies, &self.entry.routing) else { return Ok(false) };
        let unit = self.unit_info();
        let local_date = reply::local_date(self.now, self.zone);
        let registration = Registration {
            number: self.number,
            local_date: &local_date,
            unit: &unit,
            confidential: self.entry.confidentiality.is_restricted(),
        };
        let unique = self.now.timestamp_micros().to_string();
        let domain = outbound::domain_of(&replies.from).unwrap_or_else(|| "chancery.invalid".into());
        let mut queued = false;
        if let Some(template) = &routing.acknowledge {
            let since = day_bounds(self.now.with_timezone(&self.zone).date_naive(), self.zone).0;
            let sent_today = match reply::acknowledgement_recipient(letter) {
                // Counts what this transaction queued too: a batch cannot exceed the limit.
                Some(recipient) => outbox::acknowledgements_since(self.tx, &recipient, since).await?,
                None => 0,
            };
            let message_id = outbound::message_id(MailKind::Acknowledgement, self.number, &unique, &domain);
            match reply::acknowledgement(letter, &registration, sent_today, template, replies, message_id) {
                Ok(mail) => {
                    outbox::enqueue_in(self.tx, Some(self.id), &mail, self.now).await?;
                    queued = true;
                }
                Err(why) => self.note("not-acknowledged", why.to_string()),
            }
        }
        if routing.forward {
            let message_id = outbound::message_id(MailKind::Forward, self.number, &unique, &domain);
            match reply::forward_to_unit(letter, &registration, replies, message_id) {
                Ok(mail) => {
                    outbox::enqueue_in(self.tx, Some(self.id), &mail, self.now).await?;
                    queued = true;
                }
                Err(why) => self.note("not-forwarded", why.to_string()),
            }
        }
        Ok(queued)
    }

    fn unit_info(&self) -> UnitInfo {
        let unit = self.policy.rules.as_ref().and_then(|book| book.unit(&self.entry.unit));
        match unit {
            Some(u) => UnitInfo {
                id: u.id.clone(),
                email: u.email.clone(),
                names: [("en", &u.name.en), ("az", &u.name.az), ("ru", &u.name.ru)]
                    .into_iter()
                    .map(|(l, n)| (l.to_string(), n.clone()))
                    .collect(),
            },
            None => UnitInfo { id: self.entry.unit.clone(), ..UnitInfo::default() },
        }
    }

    fn note(&mut self, action: &'static str, reason: String) {
        self.history.push(vec![
            Cell::Int(self.id),
            Cell::Owned(stamp(self.now)),
            Cell::Text("chancery"),
            Cell::Text(action),
            Cell::Null,
            Cell::Null,
            Cell::Null,
            Cell::Owned(reason),
        ]);
    }

    /// Marks the document whose mail bounced: an outgoing letter becomes `bounced`; for an
    /// acknowledgement or forward the bounce is noted in the letter's history.
    async fn tie_bounce(mut self, bounce: &BounceInfo) -> Result<()> {
        let mut target: Option<(i64, String)> = None;
        if let Some(message_id) = &bounce.original_message_id
            && let Some(row) =
                sqlx::query("SELECT document_id, kind FROM outbox WHERE message_id = $1 AND document_id IS NOT NULL ORDER BY id LIMIT 1")
                    .bind(message_id.as_str())
                    .fetch_optional(&mut **self.tx)
                    .await?
        {
            target = Some((row.get(0), row.get(1)));
        }
        if target.is_none() {
            for number in &bounce.numbers {
                if let Some(row) =
                    sqlx::query("SELECT id FROM documents WHERE number = $1").bind(number.as_str()).fetch_optional(&mut **self.tx).await?
                {
                    let kind = if number.starts_with("OUT-") { "correspondence" } else { "acknowledgement" };
                    target = Some((row.get(0), kind.to_string()));
                    break;
                }
            }
        }
        let detail = [bounce.status.as_deref(), bounce.recipient.as_deref(), bounce.diagnostic.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let Some((document_id, kind)) = target else {
            self.note("bounce-unmatched", format!("a delivery report that matches no mail Chancery sent: {detail}"));
            return Ok(());
        };
        sqlx::query("UPDATE documents SET thread_id = $1 WHERE id = $2")
            .bind(root_of(self.tx, document_id).await?)
            .bind(self.id)
            .execute(&mut **self.tx)
            .await?;
        let reason = format!("{} reports {}: {detail}", self.number, if bounce.is_permanent() { "a failed delivery" } else { "a delay" });
        if kind == "correspondence" && bounce.is_permanent() {
            let old: String =
                sqlx::query("SELECT status FROM documents WHERE id = $1").bind(document_id).fetch_one(&mut **self.tx).await?.get(0);
            sqlx::query("UPDATE documents SET status = 'bounced' WHERE id = $1").bind(document_id).execute(&mut **self.tx).await?;
            self.history.push(vec![
                Cell::Int(document_id),
                Cell::Owned(stamp(self.now)),
                Cell::Text("chancery"),
                Cell::Text("bounced"),
                Cell::Text("status"),
                Cell::Owned(old),
                Cell::Text("bounced"),
                Cell::Owned(reason),
            ]);
        } else {
            self.history.push(vec![
                Cell::Int(document_id),
                Cell::Owned(stamp(self.now)),
                Cell::Text("chancery"),
                Cell::Owned(format!("{kind}-bounced")),
                Cell::Null,
                Cell::Null,
                Cell::Null,
                Cell::Owned(reason),
            ]);
        }
        Ok(())
    }
}

async fn root_of(tx: &mut Transaction<'static, Any>, document_id: i64) -> Result<i64> {
    Ok(sqlx::query("SELECT COALESCE(thread_id, id) FROM documents WHERE id = $1").bind(document_id).fetch_one(&mut **tx).await?.get(0))
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
