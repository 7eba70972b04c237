//! Multi-row INSERTs, chunked under the databases' limits on parameters and statement size;
//! and numbers between the database's integers and the code's narrower ones.

use std::sync::Arc;

use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Connection, Row, Transaction};

use super::{Result, StoreError};

/// An integer column read into a narrower or unsigned type (`u32` attempts, a `u32` UID): a
/// value outside that type, which only a damaged or hand-edited register holds, is an error
/// naming the column, never a number cut to its low bits or quietly replaced.
pub(super) fn integer<T>(row: &AnyRow, index: usize) -> Result<T>
where
    T: TryFrom<i64>,
    T::Error: std::fmt::Display,
{
    let value: i64 = row.try_get(index)?;
    T::try_from(value).map_err(|error| {
        StoreError::Database(sqlx::Error::ColumnDecode {
            index: index.to_string(),
            source: format!("{value} does not fit in {}: {error}", std::any::type_name::<T>()).into(),
        })
    })
}

/// A length or count of things in memory, as the database's integer. A length in memory is
/// below `isize::MAX`, hence below `i64::MAX` on every platform Rust supports: the fallback
/// never happens, and it saturates rather than wraps if it ever did.
pub(super) fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Parameters per statement. The databases allow tens of thousands, but SQLite looks `$N` names
/// up in a list, so preparing and binding cost grows with the square of their number: a few
/// hundred per statement is fastest (and equal-sized chunks reuse one prepared statement).
const MAX_PARAMETERS: usize = 900;
/// Bytes bound in one statement, so one INSERT never holds a whole large batch twice.
const MAX_BYTES: usize = 32 * 1024 * 1024;
/// Bytes bound above which a statement is prepared for its one use and its memory released
/// at once (see `release_bound_bytes`); smaller ones are cached and reused. A cached statement
/// keeps the values it last bound, and every row count of a multi-row INSERT is a statement of
/// its own: with megabytes in each, the cache alone would hold hundreds of them.
pub(super) const ONE_OFF_BYTES: usize = 256 * 1024;

pub(super) enum Cell<'a> {
    Int(i64),
    Text(&'a str),
    Owned(String),
    /// Bytes handed to the database driver without a copy (see `OwnedBlob`).
    Blob(Vec<u8>),
    Null,
    /// NULL in an integer column (PostgreSQL will not take a text NULL there).
    NullInt,
    /// NULL in a bytes column, for the same reason.
    NullBlob,
}

impl Cell<'_> {
    fn weight(&self) -> usize {
        match self {
            Cell::Text(t) => t.len(),
            Cell::Owned(t) => t.len(),
            Cell::Blob(b) => b.len(),
            Cell::Int(_) | Cell::Null | Cell::NullInt | Cell::NullBlob => 8,
        }
    }
}

/// Bytes bound as a BLOB without a copy. sqlx's own `Vec<u8>` and `&[u8]` arguments copy what
/// they are given, and the SQLite driver and SQLite itself each copy it again: for a letter of
/// 50 MB, the copy saved here is 50 MB less at the moment memory peaks. The argument buffer's
/// representation is sqlx-core's (public, though hidden from its documentation, and pinned by
/// Cargo.lock); a change there fails the build, never the data.
struct OwnedBlob(Arc<Vec<u8>>);

impl sqlx::Type<Any> for OwnedBlob {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <[u8] as sqlx::Type<Any>>::type_info()
    }
}

impl sqlx::Encode<'_, Any> for OwnedBlob {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx_core::any::AnyArgumentBuffer,
    ) -> std::result::Result<sqlx::encode::IsNull, sqlx_core::error::BoxDynError> {
        buf.0.push(sqlx_core::any::AnyValueKind::Blob(Arc::clone(&self.0)));
        Ok(sqlx::encode::IsNull::No)
    }
}

/// Inserts `rows`, consuming them: the bytes of each chunk are freed once it is written.
pub(super) async fn insert_rows(tx: &mut Transaction<'static, Any>, table: &str, columns: &[&str], rows: Vec<Vec<Cell<'_>>>) -> Result<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut chunk: Vec<Vec<Cell<'_>>> = Vec::new();
        let mut bytes = 0;
        while let Some(row) =
            rows.next_if(|_| chunk.is_empty() || ((chunk.len() + 1) * columns.len() <= MAX_PARAMETERS && bytes < MAX_BYTES))
        {
            bytes += row.iter().map(Cell::weight).sum::<usize>();
            chunk.push(row);
        }
        let values = (0..chunk.len())
            .map(|r| {
                let cells = (0..columns.len()).map(|c| format!("${}", r * columns.len() + c + 1)).collect::<Vec<_>>().join(", ");
                format!("({cells})")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("INSERT INTO {table} ({}) VALUES {values}", columns.join(", "));
        let one_off = bytes > ONE_OFF_BYTES;
        let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(!one_off);
        for row in chunk {
            for cell in row {
                query = match cell {
                    Cell::Int(v) => query.bind(v),
                    Cell::Text(v) => query.bind(v),
                    Cell::Owned(v) => query.bind(v),
                    Cell::Blob(v) => query.bind(OwnedBlob(Arc::new(v))),
                    Cell::Null => query.bind(None::<String>),
                    Cell::NullInt => query.bind(None::<i64>),
                    Cell::NullBlob => query.bind(None::<Vec<u8>>),
                };
            }
        }
        query.execute(&mut **tx).await?;
        if one_off {
            release_bound_bytes(tx).await?;
        }
    }
    Ok(())
}

/// Gives back the memory a statement that bound megabytes still holds. SQLite keeps the values
/// bound to a statement until it runs again (for a one-off statement: until the next one-off
/// statement replaces it, which a statement without arguments is); PostgreSQL's connection
/// keeps buffers as large as the largest message it sent or received.
pub(super) async fn release_bound_bytes(tx: &mut Transaction<'static, Any>) -> Result<()> {
    sqlx::query("SELECT 1").execute(&mut **tx).await?;
    tx.shrink_buffers();
    Ok(())
}
