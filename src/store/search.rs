//! The full-text index: derived from the register, kept up by writes, only read by searches.
//!
//! Every transaction that writes a document queues it in `search_pending` (a trigger of
//! migration 0016, so no way of writing one can forget it), and indexers drain the queue:
//! `serve` runs one in the background (`index_in_background`), the listener drains it after
//! each catch-up, and the commands that register letters (`ingest`, `send`, `chat`) before they
//! exit. Indexing a long body costs more than registering it, so registration does not wait for
//! it; a search never indexes: it answers at once from what is indexed.
//!
//! A queue, not a watermark: PostgreSQL hands out ids before their transactions commit, so a
//! letter whose transaction commits after a later one was indexed would fall below a watermark.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};
use tokio::sync::watch;

use super::rows::{self, Cell, insert_rows};
use super::{Backend, DocumentRecord, Result, Store};
use crate::core::fold::fold;
use crate::core::number::{numbers_in, without_numbers};

/// Body text read into memory by one indexing transaction: 1,000 long letters at once would
/// hold a hundred megabytes of text, several times over while it is bound and indexed.
const INDEX_BATCH_BYTES: i64 = 4 * 1024 * 1024;
/// Letters one indexing transaction takes from the queue at most.
const INDEX_BATCH_LETTERS: i64 = 1000;
/// How often the background indexer looks at the queue: it holds what other processes (`send`
/// from a shell, another instance that died before indexing) left there.
const BACKGROUND_PAUSE: Duration = Duration::from_secs(2);
/// How long intake must have paused before the background indexer takes its turn.
const INTAKE_PAUSE_MS: i64 = 1000;
/// What reading one document in order of id costs, against finding one match through the GIN
/// index and fetching it: about one to five, measured at a million letters (see
/// `newest_matches_postgres`).
const READ_IN_ORDER_COST: f64 = 1.0;
const FIND_BY_WORD_COST: f64 = 5.0;
/// Rows of one multi-row INSERT into PostgreSQL's index (four parameters each).
const POSTGRES_INDEX_ROWS: usize = 200;
/// The most documents a full-text search returns.
const SEARCH_RESULTS: i64 = 200;
/// A full-text search with at most this many matches returns the best first (bm25, ts_rank);
/// one with more, the newest first (see `search_text`).
const RANKED_MATCHES: i64 = 2000;

/// What the index holds of one document: its id and the words of its subject, body and
/// attachment names (see `index_words`).
pub(super) struct IndexEntry {
    pub id: i64,
    pub subject: String,
    pub body: String,
    pub names: String,
}

impl Store {
    /// Indexes up to `limit` queued documents, and no more text than about `INDEX_BATCH_BYTES`
    /// (always at least one document); returns how many. On PostgreSQL indexers in several
    /// processes each take letters the others have not locked.
    pub async fn index_pending(&self, limit: i64) -> Result<usize> {
        let mut tx: Transaction<'static, Any> = self.begin_write().await?;
        let claim = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        };
        // Deleting first takes SQLite's write lock before anything is read, so two indexers
        // wait for each other instead of failing on a stale snapshot. A letter's queue row
        // comes back if the transaction fails.
        let claimed = sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM search_pending WHERE document_id IN (\
               SELECT id FROM (\
                 SELECT d.id, SUM(CAST(LENGTH(d.body_text) AS BIGINT)) OVER (ORDER BY d.id) - CAST(LENGTH(d.body_text) AS BIGINT) AS before \
                 FROM (SELECT document_id FROM search_pending ORDER BY document_id LIMIT $1 {claim}) AS queued \
                 JOIN documents d ON d.id = queued.document_id) AS sized \
               WHERE before < $2) \
             RETURNING document_id"
        )))
        .bind(limit.max(1))
        .bind(INDEX_BATCH_BYTES)
        .fetch_all(&mut *tx)
        .await?;
        let mut ids: Vec<i64> = claimed.iter().map(|row| row.try_get(0)).collect::<std::result::Result<_, _>>()?;
        if ids.is_empty() {
            tx.rollback().await?;
            return Ok(0);
        }
        ids.sort_unstable();
        // Ids read from the database, written as numbers: nothing here comes from input.
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let documents =
            sqlx::query(AssertSqlSafe(format!("SELECT id, subject, body_text FROM documents WHERE id IN ({list}) ORDER BY id")))
                .fetch_all(&mut *tx)
                .await?;
        let names = sqlx::query(AssertSqlSafe(format!(
            "SELECT document_id, name FROM attachments WHERE document_id IN ({list}) ORDER BY document_id, position"
        )))
        .fetch_all(&mut *tx)
        .await?;
        let mut names_by_document: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
        for row in &names {
            let entry = names_by_document.entry(row.try_get(0)?).or_default();
            entry.push(' ');
            entry.push_str(&row.try_get::<String, _>(1)?);
        }
        let mut entries = Vec::with_capacity(documents.len());
        for row in &documents {
            let id: i64 = row.try_get(0)?;
            let names = names_by_document.remove(&id).unwrap_or_default();
            let (subject, body): (String, String) = (row.try_get(1)?, row.try_get(2)?);
            entries.push(IndexEntry { id, subject: index_words(&subject), body: index_words(&body), names: index_words(&names) });
        }
        write_index(&mut tx, self.backend, &entries).await?;
        tx.commit().await?;
        Ok(entries.len())
    }

    /// Indexes everything queued; returns how many documents.
    pub async fn index_queued(&self) -> Result<usize> {
        let mut indexed = 0;
        loop {
            match self.index_pending(INDEX_BATCH_LETTERS).await? {
                0 => return Ok(indexed),
                n => indexed += n,
            }
        }
    }

    /// Indexes what the command just registered before it exits, so that a search right after
    /// finds it. The letters are registered whatever happens here: a failure is only reported,
    /// and the next indexer (`serve`'s, the next command's) takes them.
    pub async fn index_before_exit(&self) {
        if let Err(error) = self.index_queued().await {
            tracing::warn!(%error, "indexing the new letters for search failed; the next indexer will take them");
        }
    }

    /// Indexes batch after batch while no letters are being registered here. During a
    /// catch-up the registrar and an indexer would take turns at SQLite's one write lock and
    /// share two cores: intake ran at less than half its speed. The listener indexes after each
    /// catch-up, so nothing waits long.
    async fn index_while_quiet(&self) -> Result<usize> {
        let mut indexed = 0;
        loop {
            let since_intake = Utc::now().timestamp_millis() - self.last_intake_ms.load(std::sync::atomic::Ordering::Relaxed);
            if since_intake < INTAKE_PAUSE_MS {
                return Ok(indexed);
            }
            match self.index_pending(INDEX_BATCH_LETTERS).await? {
                0 => return Ok(indexed),
                n => indexed += n,
            }
        }
    }

    /// `serve`'s indexer: drains the queue, then looks again every `BACKGROUND_PAUSE`, until
    /// `stopped` turns true.
    pub async fn index_in_background(self, mut stopped: watch::Receiver<bool>) {
        loop {
            let started = Instant::now();
            match self.index_while_quiet().await {
                Ok(0) => {}
                Ok(documents) => {
                    tracing::info!(
                        documents,
                        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                        "search index updated"
                    )
                }
                Err(error) => tracing::warn!(%error, "updating the search index failed; it will be retried"),
            }
            if *stopped.borrow() {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(BACKGROUND_PAUSE) => {}
                changed = stopped.changed() => if changed.is_err() || *stopped.borrow() { return },
            }
        }
    }
}

impl Store {
    /// Search: the documents of the threads whose registration numbers the text names come
    /// first, then full-text hits over subject, body and attachment names, where every other
    /// word must occur, matched as a word prefix. Words are folded as the routing rules fold
    /// them (`core::fold`): `TOPLANTISI` finds `toplantısı`, `елка` finds `ёлка`.
    pub async fn search(&self, text: &str) -> Result<Vec<DocumentRecord>> {
        let numbers = numbers_in(text);
        let mut found = Vec::new();
        for number in &numbers {
            let thread = self
                .documents_where(
                    "COALESCE(d.thread_id, d.id) = (SELECT COALESCE(n.thread_id, n.id) FROM documents n WHERE n.number = $1)",
                    &[number.to_string()],
                )
                .await?;
            for document in thread {
                if !found.iter().any(|f: &DocumentRecord| f.id == document.id) {
                    found.push(document);
                }
            }
        }
        let words = query_words(&without_numbers(text));
        if words.is_empty() {
            return Ok(found);
        }
        for document in self.search_text(&words).await? {
            if !found.iter().any(|f| f.id == document.id) {
                found.push(document);
            }
        }
        Ok(found)
    }

    /// Documents whose index holds every word (each as a word prefix), best first, or newest
    /// first when more than `RANKED_MATCHES` match. It reads the index as it stands: writes keep
    /// it up (see `search`), a search never waits for indexing.
    async fn search_text(&self, words: &[String]) -> Result<Vec<DocumentRecord>> {
        let (query, best) = match self.backend {
            Backend::Sqlite => (
                words.iter().map(|w| format!("\"{w}\" *")).collect::<Vec<_>>().join(" AND "),
                "SELECT rowid FROM documents_fts WHERE documents_fts MATCH $1 ORDER BY rank LIMIT $2",
            ),
            Backend::Postgres => (
                words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & "),
                "SELECT document_id FROM document_search WHERE vector @@ to_tsquery('simple', $1) \
                 ORDER BY ts_rank(vector, to_tsquery('simple', $1)) DESC LIMIT $2",
            ),
        };
        // The newest matches come from the index at once. Ranking reads every match (bm25 also
        // counts them all), which for a common word is much of a large register and tells its
        // letters little apart: only a search with a few matches is ranked. The newest
        // `RANKED_MATCHES + 1` say both which are the newest and whether there are more.
        let newest = self.newest_matches(words, &query, RANKED_MATCHES + 1).await?;
        let ids: Vec<i64> = if rows::count(newest.len()) > RANKED_MATCHES {
            newest.into_iter().take(usize::try_from(SEARCH_RESULTS).unwrap_or(usize::MAX)).collect()
        } else if !newest.is_empty() {
            let rows = sqlx::query(best).bind(query.as_str()).bind(SEARCH_RESULTS).fetch_all(&self.pool).await?;
            rows.iter().map(|row| row.try_get(0)).collect::<std::result::Result<_, _>>()?
        } else {
            Vec::new()
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let mut found = self.documents_where(&format!("d.id IN ({list})"), &[]).await?;
        let rank: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        found.sort_by_key(|d| rank.get(&d.id).copied().unwrap_or(usize::MAX));
        Ok(found)
    }
}

impl Store {
    /// The newest documents whose index entry holds every one of `words` (as a prefix), at
    /// most `limit`, newest first; `query` is the same in the backend's syntax (`search_text`).
    pub(super) async fn newest_matches(&self, words: &[String], query: &str, limit: i64) -> Result<Vec<i64>> {
        match self.backend {
            // FTS5 reads its word lists in order of rowid, backwards too: the newest come first.
            Backend::Sqlite => {
                ids(sqlx::query("SELECT rowid FROM documents_fts WHERE documents_fts MATCH $1 ORDER BY rowid DESC LIMIT $2")
                    .bind(query)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?)
            }
            Backend::Postgres => self.newest_matches_postgres(words, query, limit).await,
        }
    }

    /// PostgreSQL's GIN index finds every match of a word but not the newest first: for a word
    /// in a seventh of a million letters, its prefix match alone takes 60 ms and fetching the
    /// matches 300 ms more; reading the index in order of id instead finds the newest 2,000 in
    /// a few milliseconds, but reads the whole register (300 ms) for a rare word. The planner
    /// cannot tell the two apart (it has no statistics for prefixes), so this does, from the
    /// words' frequencies in the column's statistics (`pg_stats`, which ANALYZE and autovacuum
    /// keep): a word the statistics do not list is rare.
    async fn newest_matches_postgres(&self, words: &[String], query: &str, limit: i64) -> Result<Vec<i64>> {
        let mut share = 1.0_f64;
        for word in words {
            let frequency: f64 = sqlx::query(
                "SELECT CAST(COALESCE(SUM(u.frequency), 0) AS DOUBLE PRECISION) \
                 FROM pg_stats s, unnest(CAST(CAST(s.most_common_elems AS TEXT) AS TEXT[]), s.most_common_elem_freqs) AS u(word, frequency) \
                 WHERE s.schemaname = current_schema() AND s.tablename = 'document_search' AND s.attname = 'vector' \
                 AND u.word LIKE $1",
            )
            .bind(format!("{word}%"))
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
            // Words are assumed independent; a document with two words of the prefix counts once.
            share *= frequency.min(1.0);
        }
        let span: i64 = sqlx::query("SELECT COALESCE(MAX(document_id) - MIN(document_id) + 1, 0) FROM document_search")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        // Reading in order costs `limit / share` rows; the GIN index, `share * span` matches
        // each several times dearer: whichever is less.
        let span = f64::from(u32::try_from(span).unwrap_or(u32::MAX));
        let limit_f = f64::from(u32::try_from(limit).unwrap_or(u32::MAX));
        let in_order = share > 0.0 && limit_f / share * READ_IN_ORDER_COST < share * span * FIND_BY_WORD_COST;
        if !in_order {
            return ids(sqlx::query(
                "WITH matched AS MATERIALIZED (SELECT document_id FROM document_search WHERE vector @@ to_tsquery('simple', $1)) \
                 SELECT document_id FROM matched ORDER BY document_id DESC LIMIT $2",
            )
            .bind(query)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?);
        }
        // Without bitmap scans the planner's one way is the index of ids, read backwards.
        let mut tx = self.begin_write().await?;
        sqlx::query("SET LOCAL enable_bitmapscan = off").execute(&mut *tx).await?;
        let newest = sqlx::query(
            "SELECT document_id FROM document_search WHERE vector @@ to_tsquery('simple', $1) ORDER BY document_id DESC LIMIT $2",
        )
        .bind(query)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.rollback().await?;
        ids(newest)
    }
}

fn ids(rows: Vec<sqlx::any::AnyRow>) -> Result<Vec<i64>> {
    Ok(rows.iter().map(|row| row.try_get(0)).collect::<std::result::Result<_, _>>()?)
}

/// Writes index entries. The queue rows of these documents must be gone in the same
/// transaction (`index_pending` deletes them first; a bulk fill deletes its own).
pub(super) async fn write_index(tx: &mut Transaction<'static, Any>, backend: Backend, entries: &[IndexEntry]) -> Result<()> {
    match backend {
        Backend::Sqlite => {
            let rows =
                entries.iter().map(|e| vec![Cell::Int(e.id), Cell::Text(&e.subject), Cell::Text(&e.body), Cell::Text(&e.names)]).collect();
            insert_rows(tx, "documents_fts", &["rowid", "subject", "body", "attachment_names"], rows).await?;
        }
        Backend::Postgres => {
            for chunk in entries.chunks(POSTGRES_INDEX_ROWS) {
                let values = (0..chunk.len())
                    .map(|r| {
                        let p = r * 4;
                        format!(
                            "(CAST(${} AS BIGINT), setweight(to_tsvector('simple', CAST(${} AS TEXT)), 'A') || \
                             to_tsvector('simple', CAST(${} AS TEXT)) || setweight(to_tsvector('simple', CAST(${} AS TEXT)), 'B'))",
                            p + 1,
                            p + 2,
                            p + 3,
                            p + 4
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let mut query = sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO document_search (document_id, vector) VALUES {values} ON CONFLICT (document_id) DO NOTHING"
                )));
                for entry in chunk {
                    query = query.bind(entry.id).bind(entry.subject.as_str()).bind(entry.body.as_str()).bind(entry.names.as_str());
                }
                query.execute(&mut **tx).await?;
            }
        }
    }
    Ok(())
}

/// What the index holds of a text: its words folded as the routing rules fold them, with
/// everything but letters and digits turned into spaces. Both backends get the same words:
/// PostgreSQL's parser would otherwise keep `Qrant_hesabati.pdf`, addresses and URLs as single
/// tokens that no searched word could match, and FTS5 (`unicode61 remove_diacritics 0`, see
/// migration 0005) then only splits at the spaces and lowercases what is lowercase already.
pub(super) fn index_words(text: &str) -> String {
    fold(text).chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect()
}

/// The words of a search, folded as the index is.
pub(super) fn query_words(text: &str) -> Vec<String> {
    index_words(text).split_whitespace().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_are_folded_like_the_index() {
        assert_eq!(query_words("TOPLANTISI, ücrət!"), ["toplantisi", "ücrət"]);
        assert_eq!(index_words("Toplantısı: Qrant_hesabatı.pdf"), "toplantisi  qrant hesabati pdf");
        assert_eq!(query_words("ЁЛКА"), query_words("елка"));
    }
}
