//! What the register already holds about the letters of a batch, looked up once per batch:
//! the server messages recorded, and the documents with the same bytes, Message-ID or number.

use std::collections::HashMap;

use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use crate::core::intake::{self, Known, Source};
use crate::core::letter::Letter;
use crate::store::{Arrival, Result};

/// Largest IN (...) list in one lookup.
const LOOKUP_CHUNK: usize = 500;

/// A registered document as a lookup sees it.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub id: i64,
    pub number: String,
    /// The first document of its thread.
    pub root: i64,
}

/// What the register already holds about the letters of one batch; it learns each new entry,
/// so the batch sees its own earlier letters.
#[derive(Default)]
pub(super) struct BatchFacts {
    pub recorded_uids: HashMap<(String, u32, u32), String>,
    pub by_sha256: HashMap<String, Seen>,
    pub by_message_id: HashMap<String, Seen>,
    pub by_number: HashMap<String, Seen>,
}

impl BatchFacts {
    pub async fn load(tx: &mut Transaction<'static, Any>, arrivals: &[Arrival]) -> Result<BatchFacts> {
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

    pub fn known(&self, letter: &Letter) -> Known {
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

    pub fn learn(&mut self, letter: &Letter, seen: Seen) {
        self.by_sha256.entry(letter.sha256.clone()).or_insert_with(|| seen.clone());
        if let Some(id) = &letter.message_id {
            self.by_message_id.entry(id.clone()).or_insert_with(|| seen.clone());
        }
        self.by_number.insert(seen.number.clone(), seen);
    }
}

/// The first document (lowest id) for each value of a column among `values`.
pub(super) async fn seen_where(
    tx: &mut Transaction<'static, Any>,
    column: &str,
    extra: &str,
    values: &[String],
) -> Result<HashMap<String, Seen>> {
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
