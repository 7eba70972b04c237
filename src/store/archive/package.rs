//! Packages for the archive: the register's documents read out as `core::archive::package`
//! records a batch at a time (the export streams: it never holds more than a batch), and
//! written back into another register by an `Import`, in one transaction.

use std::collections::HashMap;

use futures::StreamExt;
use futures::stream::BoxStream;
use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use super::super::rows::{Cell, insert_rows};
use super::super::{Refusal, Result};
use super::Archive;
use crate::core::archive::package::{AttachmentRecord, CaseRecord, DocumentRecord, HistoryRecord, Selection};

const DOCUMENT_COLUMNS: &str = "d.id, d.number, d.direction, d.year, d.sequence, d.subject, d.from_json, d.to_json, d.cc_json, \
     d.from_address, d.message_id, d.replies_to_json, d.sent_at, d.received_at, d.registered_at, d.sha256, d.size, d.body_text, \
     d.source, r.number, d.flags_json, d.status, d.unit, d.classification, d.confidentiality, d.annul_reason, d.routing_json, \
     d.tags_json, d.due_on, d.assignee, d.acknowledged_at, d.acknowledged_by, c.name, c.code, d.disposed_by, d.disposal, \
     d.disposed_on \
     FROM documents d LEFT JOIN documents r ON r.id = d.thread_id LEFT JOIN cases c ON c.id = d.case_id";

const CASE_COLUMNS: &[&str] = &[
    "name",
    "code",
    "year",
    "sequence",
    "title",
    "unit",
    "opened_at",
    "opened_by",
    "closed_on",
    "closed_at",
    "closed_by",
    "close_reason",
    "kept_for",
    "reviewed_on",
    "disposed_by",
];

/// The condition a selection puts on `documents d` / `cases c`, and its one parameter.
fn condition(selection: &Selection) -> (&'static str, Option<Cell<'_>>) {
    match selection {
        Selection::Case(name) => ("c.name = $2", Some(Cell::Text(name))),
        Selection::Year(year) => ("d.year = $2", Some(Cell::Int(i64::from(*year)))),
        Selection::All => ("1 = 1", None),
    }
}

impl Archive<'_> {
    /// The documents of `selection` registered after the one with id `after`, at most `limit`,
    /// in the order they were registered, each with its history, attachments and domains.
    pub async fn package_batch(&self, selection: &Selection, after: i64, limit: i64) -> Result<Vec<(i64, DocumentRecord)>> {
        let (filter, parameter) = condition(selection);
        let sql = format!("SELECT {DOCUMENT_COLUMNS} WHERE d.id > $1 AND d.sequence > 0 AND {filter} ORDER BY d.id LIMIT {limit}");
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(after);
        query = match parameter {
            Some(Cell::Text(text)) => query.bind(text),
            Some(Cell::Int(n)) => query.bind(n),
            _ => query,
        };
        let rows = query.fetch_all(self.pool).await?;
        let mut documents = Vec::with_capacity(rows.len());
        for row in &rows {
            documents.push((row.try_get::<i64, _>(0)?, document_from_row(row)?));
        }
        if let (Some((first, _)), Some((last, _))) = (documents.first(), documents.last()) {
            let (first, last) = (*first, *last);
            let mut by_id: HashMap<i64, &mut DocumentRecord> = documents.iter_mut().map(|(id, d)| (*id, d)).collect();
            self.add_history(first, last, &mut by_id).await?;
            self.add_attachments(first, last, &mut by_id).await?;
            self.add_domains(first, last, &mut by_id).await?;
        }
        Ok(documents)
    }

    async fn add_history(&self, first: i64, last: i64, by_id: &mut HashMap<i64, &mut DocumentRecord>) -> Result<()> {
        let rows = sqlx::query(
            "SELECT document_id, at, actor, action, field, old_value, new_value, reason FROM history \
             WHERE document_id BETWEEN $1 AND $2 ORDER BY document_id, id",
        )
        .bind(first)
        .bind(last)
        .fetch_all(self.pool)
        .await?;
        for row in &rows {
            if let Some(document) = by_id.get_mut(&row.try_get::<i64, _>(0)?) {
                document.history.push(HistoryRecord {
                    at: row.try_get(1)?,
                    actor: row.try_get(2)?,
                    action: row.try_get(3)?,
                    field: row.try_get(4)?,
                    old_value: row.try_get(5)?,
                    new_value: row.try_get(6)?,
                    reason: row.try_get(7)?,
                });
            }
        }
        Ok(())
    }

    async fn add_attachments(&self, first: i64, last: i64, by_id: &mut HashMap<i64, &mut DocumentRecord>) -> Result<()> {
        let rows = sqlx::query(
            "SELECT document_id, position, name, media_type, size, sha256 FROM attachments \
             WHERE document_id BETWEEN $1 AND $2 ORDER BY document_id, position",
        )
        .bind(first)
        .bind(last)
        .fetch_all(self.pool)
        .await?;
        for row in &rows {
            if let Some(document) = by_id.get_mut(&row.try_get::<i64, _>(0)?) {
                document.attachments.push(AttachmentRecord {
                    position: row.try_get(1)?,
                    name: row.try_get(2)?,
                    media_type: row.try_get(3)?,
                    size: row.try_get(4)?,
                    sha256: row.try_get(5)?,
                    file: None,
                });
            }
        }
        Ok(())
    }

    async fn add_domains(&self, first: i64, last: i64, by_id: &mut HashMap<i64, &mut DocumentRecord>) -> Result<()> {
        let rows = sqlx::query(
            "SELECT document_id, domain FROM document_domains WHERE document_id BETWEEN $1 AND $2 ORDER BY document_id, domain",
        )
        .bind(first)
        .bind(last)
        .fetch_all(self.pool)
        .await?;
        for row in &rows {
            if let Some(document) = by_id.get_mut(&row.try_get::<i64, _>(0)?) {
                document.domains.push(row.try_get(1)?);
            }
        }
        Ok(())
    }

    /// The messages as received of the documents with ids from `first` to `last`, in id order,
    /// one at a time: a batch's messages are read in one query, and never held together (an
    /// erased document has none).
    pub fn package_messages(&self, first: i64, last: i64) -> BoxStream<'_, Result<(i64, Vec<u8>)>> {
        sqlx::query("SELECT document_id, bytes FROM raw_messages WHERE document_id BETWEEN $1 AND $2 ORDER BY document_id")
            .bind(first)
            .bind(last)
            .fetch(self.pool)
            .map(|row| {
                let row = row?;
                Ok((row.try_get(0)?, row.try_get(1)?))
            })
            .boxed()
    }

    /// The case files the documents of `selection` are in.
    pub async fn package_cases(&self, selection: &Selection) -> Result<Vec<CaseRecord>> {
        let (filter, parameter) = condition(selection);
        let columns = CASE_COLUMNS.iter().map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {columns} FROM cases c WHERE $1 = $1 AND EXISTS \
             (SELECT 1 FROM documents d WHERE d.case_id = c.id AND d.sequence > 0 AND {filter}) ORDER BY c.id"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(0_i64);
        query = match parameter {
            Some(Cell::Text(text)) => query.bind(text),
            Some(Cell::Int(n)) => query.bind(n),
            _ => query,
        };
        let rows = query.fetch_all(self.pool).await?;
        rows.iter().map(case_from_row).collect()
    }

    /// Begins bringing a package into this register: everything `Import` writes is one
    /// transaction, committed by `finish`.
    pub async fn begin_import(&self) -> Result<Import> {
        Ok(Import { tx: self.store.begin_write().await?, case_ids: HashMap::new(), ids: HashMap::new(), unresolved: Vec::new() })
    }
}

fn json_column(row: &AnyRow, index: usize) -> Result<serde_json::Value> {
    let text: String = row.try_get(index)?;
    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

fn document_from_row(row: &AnyRow) -> Result<DocumentRecord> {
    Ok(DocumentRecord {
        number: row.try_get(1)?,
        direction: row.try_get(2)?,
        year: row.try_get(3)?,
        sequence: row.try_get(4)?,
        subject: row.try_get(5)?,
        from: json_column(row, 6)?,
        to: json_column(row, 7)?,
        cc: json_column(row, 8)?,
        from_address: row.try_get(9)?,
        message_id: row.try_get(10)?,
        replies_to: json_column(row, 11)?,
        sent_at: row.try_get(12)?,
        received_at: row.try_get(13)?,
        registered_at: row.try_get(14)?,
        sha256: row.try_get(15)?,
        size: row.try_get(16)?,
        body_text: row.try_get(17)?,
        source: row.try_get(18)?,
        thread: row.try_get(19)?,
        flags: json_column(row, 20)?,
        status: row.try_get(21)?,
        unit: row.try_get(22)?,
        classification: row.try_get(23)?,
        confidentiality: row.try_get(24)?,
        annul_reason: row.try_get(25)?,
        routing: row.try_get::<Option<String>, _>(26)?.and_then(|text| serde_json::from_str(&text).ok()),
        tags: json_column(row, 27)?,
        due_on: row.try_get(28)?,
        assignee: row.try_get(29)?,
        acknowledged_at: row.try_get(30)?,
        acknowledged_by: row.try_get(31)?,
        case: row.try_get(32)?,
        class: row.try_get(33)?,
        disposed_by: row.try_get(34)?,
        disposal: row.try_get(35)?,
        disposed_on: row.try_get(36)?,
        domains: Vec::new(),
        attachments: Vec::new(),
        history: Vec::new(),
    })
}

fn case_from_row(row: &AnyRow) -> Result<CaseRecord> {
    Ok(CaseRecord {
        name: row.try_get(0)?,
        code: row.try_get(1)?,
        year: row.try_get(2)?,
        sequence: row.try_get(3)?,
        title: row.try_get(4)?,
        unit: row.try_get(5)?,
        opened_at: row.try_get(6)?,
        opened_by: row.try_get(7)?,
        closed_on: row.try_get(8)?,
        closed_at: row.try_get(9)?,
        closed_by: row.try_get(10)?,
        close_reason: row.try_get(11)?,
        kept_for: row.try_get(12)?,
        reviewed_on: row.try_get(13)?,
        disposed_by: row.try_get(14)?,
    })
}

/// A package being brought into the register, in one transaction (`finish` commits it;
/// dropped, nothing is imported).
pub struct Import {
    tx: Transaction<'static, Any>,
    case_ids: HashMap<String, i64>,
    /// The imported documents' ids by number, for the threads of those after them.
    ids: HashMap<String, i64>,
    /// Documents whose thread's first letter comes later in the package (or is in the register).
    unresolved: Vec<(i64, String)>,
}

fn text(value: &Option<String>) -> Cell<'_> {
    value.as_deref().map_or(Cell::Null, Cell::Text)
}

fn int(value: Option<i64>) -> Cell<'static> {
    value.map_or(Cell::NullInt, Cell::Int)
}

impl Import {
    /// The package's case files: one the register has already (a yearly case both hold) is
    /// taken as it is.
    pub async fn cases(&mut self, cases: &[CaseRecord]) -> Result<()> {
        for case in cases {
            let held = sqlx::query("SELECT id FROM cases WHERE name = $1").bind(&case.name).fetch_optional(&mut *self.tx).await?;
            let id = match held {
                Some(row) => row.try_get(0)?,
                None => {
                    let values: Vec<String> = (1..=CASE_COLUMNS.len()).map(|i| format!("${i}")).collect();
                    let sql = format!("INSERT INTO cases ({}) VALUES ({}) RETURNING id", CASE_COLUMNS.join(", "), values.join(", "));
                    let cells = [
                        Cell::Text(&case.name),
                        Cell::Text(&case.code),
                        Cell::Int(case.year),
                        int(case.sequence),
                        text(&case.title),
                        text(&case.unit),
                        Cell::Text(&case.opened_at),
                        Cell::Text(&case.opened_by),
                        text(&case.closed_on),
                        text(&case.closed_at),
                        text(&case.closed_by),
                        text(&case.close_reason),
                        text(&case.kept_for),
                        text(&case.reviewed_on),
                        text(&case.disposed_by),
                    ];
                    let mut query = sqlx::query(AssertSqlSafe(sql));
                    for cell in cells {
                        query = match cell {
                            Cell::Text(v) => query.bind(v),
                            Cell::Int(v) => query.bind(v),
                            Cell::NullInt => query.bind(None::<i64>),
                            _ => query.bind(None::<String>),
                        };
                    }
                    query.fetch_one(&mut *self.tx).await?.try_get(0)?
                }
            };
            self.case_ids.insert(case.name.clone(), id);
        }
        Ok(())
    }

    /// Refuses a package any of whose numbers the register holds already, naming them.
    pub async fn check_numbers_free(&mut self, numbers: &[&str]) -> Result<()> {
        if numbers.is_empty() {
            return Ok(());
        }
        let marks: Vec<String> = (1..=numbers.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT number FROM documents WHERE number IN ({}) ORDER BY number", marks.join(", "));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for number in numbers {
            query = query.bind(*number);
        }
        let held: Vec<String> =
            query.fetch_all(&mut *self.tx).await?.iter().map(|row| row.try_get(0)).collect::<std::result::Result<_, _>>()?;
        if held.is_empty() { Ok(()) } else { Err(Refusal::NumbersHeld(held).into()) }
    }

    /// One document with its message (`None` for an entry whose content was erased).
    pub async fn document(&mut self, record: &DocumentRecord, message: Option<Vec<u8>>) -> Result<()> {
        let thread = match &record.thread {
            Some(root) => match self.ids.get(root) {
                Some(id) => Cell::Int(*id),
                None => Cell::NullInt,
            },
            None => Cell::NullInt,
        };
        let pending_root = matches!(thread, Cell::NullInt).then(|| record.thread.clone()).flatten();
        let case = record.case.as_ref().and_then(|name| self.case_ids.get(name)).copied();
        let id = insert_document(&mut self.tx, record, thread, case).await?;
        self.ids.insert(record.number.clone(), id);
        if let Some(root) = pending_root {
            self.unresolved.push((id, root));
        }
        if let Some(bytes) = message {
            insert_rows(&mut self.tx, "raw_messages", &["document_id", "bytes"], vec![vec![Cell::Int(id), Cell::Blob(bytes)]]).await?;
        }
        let attachments = record
            .attachments
            .iter()
            .map(|a| {
                vec![
                    Cell::Int(id),
                    Cell::Int(a.position),
                    Cell::Text(&a.name),
                    Cell::Text(&a.media_type),
                    Cell::Int(a.size),
                    Cell::Text(&a.sha256),
                ]
            })
            .collect();
        insert_rows(&mut self.tx, "attachments", &["document_id", "position", "name", "media_type", "size", "sha256"], attachments).await?;
        let history = record
            .history
            .iter()
            .map(|h| {
                vec![
                    Cell::Int(id),
                    Cell::Text(&h.at),
                    Cell::Text(&h.actor),
                    Cell::Text(&h.action),
                    text(&h.field),
                    text(&h.old_value),
                    text(&h.new_value),
                    text(&h.reason),
                ]
            })
            .collect();
        insert_rows(
            &mut self.tx,
            "history",
            &["document_id", "at", "actor", "action", "field", "old_value", "new_value", "reason"],
            history,
        )
        .await?;
        let domains = record.domains.iter().map(|d| vec![Cell::Text(d), Cell::Int(id)]).collect();
        insert_rows(&mut self.tx, "document_domains", &["domain", "document_id"], domains).await
    }

    /// Links the threads whose first letter came later, moves the year's counters past the
    /// highest number imported, and commits. Returns how many documents were imported.
    pub async fn finish(mut self) -> Result<usize> {
        for (id, root) in &self.unresolved {
            sqlx::query("UPDATE documents SET thread_id = (SELECT r.id FROM documents r WHERE r.number = $1) WHERE id = $2")
                .bind(root)
                .bind(*id)
                .execute(&mut *self.tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO register_counters (register, year, last) \
             SELECT CASE direction WHEN 'incoming' THEN 'IN' ELSE 'OUT' END, year, MAX(sequence) FROM documents \
             WHERE sequence > 0 GROUP BY direction, year \
             ON CONFLICT (register, year) DO UPDATE SET last = \
             CASE WHEN excluded.last > register_counters.last THEN excluded.last ELSE register_counters.last END",
        )
        .execute(&mut *self.tx)
        .await?;
        let imported = self.ids.len();
        self.tx.commit().await?;
        Ok(imported)
    }
}

async fn insert_document(tx: &mut Transaction<'static, Any>, d: &DocumentRecord, thread: Cell<'_>, case: Option<i64>) -> Result<i64> {
    let json = |value: &serde_json::Value| value.to_string();
    let thread = match thread {
        Cell::Int(id) => Some(id),
        _ => None,
    };
    let row = sqlx::query(
        "INSERT INTO documents (number, direction, year, sequence, subject, from_json, to_json, cc_json, from_address, \
         message_id, replies_to_json, sent_at, received_at, registered_at, sha256, size, body_text, source, thread_id, \
         flags_json, status, unit, classification, confidentiality, annul_reason, routing_json, tags_json, due_on, assignee, \
         acknowledged_at, acknowledged_by, case_id, disposed_by, disposal, disposed_on) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, \
         $25, $26, $27, $28, $29, $30, $31, $32, $33, $34, $35) RETURNING id",
    )
    .bind(&d.number)
    .bind(&d.direction)
    .bind(d.year)
    .bind(d.sequence)
    .bind(&d.subject)
    .bind(json(&d.from))
    .bind(json(&d.to))
    .bind(json(&d.cc))
    .bind(&d.from_address)
    .bind(&d.message_id)
    .bind(json(&d.replies_to))
    .bind(&d.sent_at)
    .bind(&d.received_at)
    .bind(&d.registered_at)
    .bind(&d.sha256)
    .bind(d.size)
    .bind(&d.body_text)
    .bind(&d.source)
    .bind(thread)
    .bind(json(&d.flags))
    .bind(&d.status)
    .bind(&d.unit)
    .bind(&d.classification)
    .bind(&d.confidentiality)
    .bind(&d.annul_reason)
    .bind(d.routing.as_ref().map(json))
    .bind(json(&d.tags))
    .bind(&d.due_on)
    .bind(&d.assignee)
    .bind(&d.acknowledged_at)
    .bind(&d.acknowledged_by)
    .bind(case)
    .bind(&d.disposed_by)
    .bind(&d.disposal)
    .bind(&d.disposed_on)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get(0)?)
}
