//! Multi-row INSERTs, chunked under the databases' limits on parameters and statement size.

use sqlx::{Any, AssertSqlSafe, Transaction};

use super::Result;

/// Parameters per statement. The databases allow tens of thousands, but SQLite looks `$N` names
/// up in a list, so preparing and binding cost grows with the square of their number: a few
/// hundred per statement is fastest (and equal-sized chunks reuse one prepared statement).
const MAX_PARAMETERS: usize = 900;
/// Bytes bound in one statement, so one INSERT never holds a whole large batch twice.
const MAX_BYTES: usize = 32 * 1024 * 1024;

pub(super) enum Cell<'a> {
    Int(i64),
    Text(&'a str),
    Owned(String),
    Bytes(&'a [u8]),
    Null,
}

impl Cell<'_> {
    fn weight(&self) -> usize {
        match self {
            Cell::Text(t) => t.len(),
            Cell::Owned(t) => t.len(),
            Cell::Bytes(b) => b.len(),
            Cell::Int(_) | Cell::Null => 8,
        }
    }
}

pub(super) async fn insert_rows(tx: &mut Transaction<'static, Any>, table: &str, columns: &[&str], rows: &[Vec<Cell<'_>>]) -> Result<()> {
    let mut start = 0;
    while start < rows.len() {
        let mut end = start;
        let mut bytes = 0;
        while end < rows.len() && (end - start + 1) * columns.len() <= MAX_PARAMETERS && (end == start || bytes < MAX_BYTES) {
            bytes += rows[end].iter().map(Cell::weight).sum::<usize>();
            end += 1;
        }
        let chunk = &rows[start..end];
        let values = (0..chunk.len())
            .map(|r| {
                let cells = (0..columns.len()).map(|c| format!("${}", r * columns.len() + c + 1)).collect::<Vec<_>>().join(", ");
                format!("({cells})")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("INSERT INTO {table} ({}) VALUES {values}", columns.join(", "));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for row in chunk {
            for cell in row {
                query = match cell {
                    Cell::Int(v) => query.bind(*v),
                    Cell::Text(v) => query.bind(*v),
                    Cell::Owned(v) => query.bind(v.as_str()),
                    Cell::Bytes(v) => query.bind(*v),
                    Cell::Null => query.bind(None::<String>),
                };
            }
        }
        query.execute(&mut **tx).await?;
        start = end;
    }
    Ok(())
}
