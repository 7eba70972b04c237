//! Registering a batch of incoming letters in one transaction.
//!
//! Everything the decisions need is looked up once per batch, and the bulky rows (raw bytes,
//! attachments, history, IMAP progress) go in as multi-row inserts: a handful of statements per
//! batch instead of a dozen per letter.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use super::rows::{Cell, insert_rows};
use super::{Arrival, Outcome, Result, json, lock_counter};
use crate::core::flags::ReviewFlag;
use crate::core::intake::{self, Decision, IntakePolicy, Known, NewEntry, Source};
use crate::core::letter::Letter;
use crate::core::number::{Direction, RegistrationNumber};
use crate::core::time::{stamp, year_in};

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
    arrivals: &[Arrival],
    policy: &IntakePolicy,
    now: DateTime<Utc>,
) -> Result<Vec<Outcome>> {
    let direction = Direction::Incoming;
    let year = year_in(now, zone);
    let mut last = lock_counter(tx, direction, year).await?;
    let mut facts = BatchFacts::load(tx, arrivals).await?;
    let mut outcomes = Vec::with_capacity(arrivals.len());
    let mut raw_rows = Vec::new();
    let mut attachment_rows = Vec::new();
    let mut history_rows = Vec::new();
    let mut imap_rows = Vec::new();
    let registered_at = stamp(now);

    for arrival in arrivals {
        if let Source::Imap { mailbox, uid_validity, uid } = &arrival.source {
            if let Some(number) = facts.recorded_uids.get(&(mailbox.clone(), *uid_validity, *uid)) {
                outcomes.push(Outcome::AlreadyRecorded { number: number.clone() });
                continue;
            }
        }
        let (document_id, outcome) = match intake::decide(&arrival.letter, &facts.known(&arrival.letter), policy) {
            Decision::AlreadyRegistered { number } => {
                let id = facts.by_sha256.get(&arrival.letter.sha256).map(|s| s.id).unwrap_or_default();
                (id, Outcome::SameLetter { number })
            }
            Decision::Register(entry) => {
                last += 1;
                let number = RegistrationNumber { direction, year, sequence: last };
                let id = insert_document(tx, arrival, &entry, number, &registered_at).await?;
                facts.learn(&arrival.letter, Seen { id, number: number.to_string(), root: entry.thread_root.unwrap_or(id) });

                raw_rows.push(vec![Cell::Int(id), Cell::Bytes(&arrival.raw)]);
                for (position, a) in arrival.letter.attachments.iter().enumerate() {
                    attachment_rows.push(vec![
                        Cell::Int(id),
                        Cell::Int(position as i64 + 1),
                        Cell::Text(a.name.as_str()),
                        Cell::Text(a.media_type.as_str()),
                        Cell::Int(a.content.len() as i64),
                        Cell::Text(a.sha256.as_str()),
                        Cell::Bytes(&a.content),
                    ]);
                }
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
                let flags = entry.flags.iter().map(ReviewFlag::name).collect();
                (id, Outcome::Registered { number: number.to_string(), flags })
            }
        };
        if let Source::Imap { mailbox, uid_validity, uid } = &arrival.source {
            imap_rows.push(vec![Cell::Text(mailbox.as_str()), Cell::Int(i64::from(*uid_validity)), Cell::Int(i64::from(*uid)), Cell::Int(document_id)]);
        }
        outcomes.push(outcome);
    }

    insert_rows(tx, "raw_messages", &["document_id", "bytes"], &raw_rows).await?;
    insert_rows(tx, "attachments", &["document_id", "position", "name", "media_type", "size", "sha256", "content"], &attachment_rows).await?;
    insert_rows(tx, "history", &["document_id", "at", "actor", "action", "field", "old_value", "new_value", "reason"], &history_rows).await?;
    insert_rows(tx, "imap_messages", &["mailbox", "uid_validity", "uid", "document_id"], &imap_rows).await?;
    sqlx::query("UPDATE register_counters SET last = $1 WHERE register = $2 AND year = $3")
        .bind(last)
        .bind(direction.register())
        .bind(i64::from(year))
        .execute(&mut **tx)
        .await?;
    Ok(outcomes)
}

async fn insert_document(
    tx: &mut Transaction<'static, Any>,
    arrival: &Arrival,
    entry: &NewEntry,
    number: RegistrationNumber,
    registered_at: &str,
) -> Result<i64> {
    let letter = &arrival.letter;
    let from_address = letter.from.first().map(|c| c.address.to_lowercase()).unwrap_or_default();
    let row = sqlx::query(
        "INSERT INTO documents (number, direction, year, sequence, subject, from_json, to_json, cc_json, from_address, \
         message_id, replies_to_json, sent_at, received_at, registered_at, sha256, size, body_text, source, thread_id, \
         flags_json, status, unit, classification, confidentiality) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24) \
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
    .bind(None::<String>)
    .bind(entry.confidentiality.as_str())
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.get(0))
}
