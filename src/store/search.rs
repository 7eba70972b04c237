//! The full-text index: derived from the register, kept up to date after registration.
//!
//! Indexing a long body costs more than registering it, so registration does not wait for it:
//! `index_pending` indexes what was registered since the last run (the listener calls it when a
//! catch-up is done, and every search calls it first, so a search never misses a document).

use sqlx::{Row, Transaction};

use super::rows::{Cell, insert_rows};
use super::{Backend, Result, Store};
use crate::core::fold::fold;

/// Body text read into memory by one indexing transaction: 1,000 long letters at once would
/// hold a hundred megabytes of text, several times over while it is bound and indexed.
const INDEX_BATCH_BYTES: i64 = 4 * 1024 * 1024;

impl Store {
    /// Indexes up to `limit` documents registered since the last run, and no more text than
    /// about `INDEX_BATCH_BYTES` (always at least one document); returns how many.
    pub async fn index_pending(&self, limit: i64) -> Result<usize> {
        let mut tx: Transaction<'static, sqlx::Any> = self.pool.begin().await?;
        // Taking the progress row serialises indexers across processes.
        let last: i64 = sqlx::query(
            "INSERT INTO search_progress (id, last_document_id) VALUES (1, 0) \
             ON CONFLICT (id) DO UPDATE SET last_document_id = search_progress.last_document_id RETURNING last_document_id",
        )
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        let lengths = sqlx::query("SELECT id, CAST(LENGTH(body_text) AS BIGINT) FROM documents WHERE id > $1 ORDER BY id LIMIT $2")
            .bind(last)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        let mut through = last;
        let mut text_bytes = 0;
        for row in &lengths {
            if through > last && text_bytes + row.get::<i64, _>(1) > INDEX_BATCH_BYTES {
                break;
            }
            through = row.get(0);
            text_bytes += row.get::<i64, _>(1);
        }
        let documents = sqlx::query("SELECT id, subject, body_text FROM documents WHERE id > $1 AND id <= $2 ORDER BY id")
            .bind(last)
            .bind(through)
            .fetch_all(&mut *tx)
            .await?;
        let Some(newest) = documents.last().map(|row| row.get::<i64, _>(0)) else {
            tx.rollback().await?;
            return Ok(0);
        };
        let names = sqlx::query(
            "SELECT document_id, name FROM attachments WHERE document_id > $1 AND document_id <= $2 ORDER BY document_id, position",
        )
        .bind(last)
        .bind(newest)
        .fetch_all(&mut *tx)
        .await?;
        let mut names_by_document: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
        for row in &names {
            let entry = names_by_document.entry(row.get(0)).or_default();
            entry.push(' ');
            entry.push_str(&row.get::<String, _>(1));
        }
        let texts: Vec<(i64, String, String, String)> = documents
            .iter()
            .map(|row| {
                let id: i64 = row.get(0);
                let names = names_by_document.remove(&id).unwrap_or_default();
                let (subject, body): (String, String) = (row.get(1), row.get(2));
                (id, index_words(&subject), index_words(&body), index_words(&names))
            })
            .collect();
        match self.backend {
            Backend::Sqlite => {
                let rows: Vec<Vec<Cell<'_>>> = texts
                    .iter()
                    .map(|(id, subject, body, names)| vec![Cell::Int(*id), Cell::Text(subject), Cell::Text(body), Cell::Text(names)])
                    .collect();
                insert_rows(&mut tx, "documents_fts", &["rowid", "subject", "body", "attachment_names"], rows).await?;
            }
            Backend::Postgres => {
                for (id, subject, body, names) in &texts {
                    sqlx::query(
                        "INSERT INTO document_search (document_id, vector) VALUES ($1, \
                         setweight(to_tsvector('simple', CAST($2 AS TEXT)), 'A') || to_tsvector('simple', CAST($3 AS TEXT)) || \
                         setweight(to_tsvector('simple', CAST($4 AS TEXT)), 'B')) ON CONFLICT (document_id) DO NOTHING",
                    )
                    .bind(*id)
                    .bind(subject.as_str())
                    .bind(body.as_str())
                    .bind(names.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        sqlx::query("UPDATE search_progress SET last_document_id = $1 WHERE id = 1").bind(newest).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(texts.len())
    }
}

/// What the index holds of a text: its words folded as the routing rules fold them, with
/// everything but letters and digits turned into spaces. Both backends get the same words:
/// PostgreSQL's parser would otherwise keep `Qrant_hesabati.pdf`, addresses and URLs as single
/// tokens that no searched word could match, and FTS5 (`unicode61 remove_diacritics 0`, see
/// migration 0005) then only splits at the spaces and lowercases what is lowercase already.
fn index_words(text: &str) -> String {
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
