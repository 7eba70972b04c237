//! `chancery db copy`: the register of a SQLite file copied into an empty PostgreSQL database.
//!
//! The copy is generic: it lists the tables of the source and copies every column by name, in
//! id order, so a table or column that a later migration adds is copied without a change here.
//! Rows keep their ids, and with them every number, date and hash: nothing is registered again.
//! The target is migrated first (by the store, as `db migrate` would), and the rows go in
//! within one transaction, so a copy that fails midway leaves nothing behind.
//!
//! The source is opened read-only and never migrated: `db copy` must not write a byte into the
//! register it reads (a migration may rewrite rows, and the file's hash would change). A source
//! whose schema is older than this program's is refused with the advice to run `db migrate` on
//! it first; its columns would otherwise not match the target's. Everything is read inside one
//! read transaction, so the copy is a consistent picture of the register even while `serve`
//! writes to it (WAL lets one writer and readers work side by side).

use std::collections::{BTreeMap, HashMap, HashSet};

use futures::TryStreamExt;
use sqlx::{Any, AnyConnection, AssertSqlSafe, Connection, Row, Transaction};

use super::open::{SQLITE_MIGRATIONS, sqlite_path};
use super::records::Problem;
use super::rows::{Cell, insert_rows};
use super::{OpenMode, Store, StoreError};

/// Rows read from the source before they are written to the target, and bytes: one batch is
/// all the copy holds in memory (a 50 MB letter is a batch of its own).
const BATCH_ROWS: usize = 1000;
const BATCH_BYTES: usize = 16 * 1024 * 1024;

/// The search index's own tables: derived from the documents, and laid out differently on each
/// backend (an FTS5 table on SQLite, a tsvector table on PostgreSQL). The target's index is
/// rebuilt from the copied documents instead: inserting a document queues it for indexing.
const SEARCH_TABLES: &[&str] = &["document_search", "search_pending", "search_progress"];

/// Tables of runtime state: which `serve` instances are alive and which of them holds the
/// mailbox. A lease copied from the SQLite register's one instance would only keep the first
/// PostgreSQL instance waiting for it to run out.
const RUNTIME_TABLES: &[&str] = &["instances", "leases"];

/// The migrations' own bookkeeping: the target's is written by migrating it.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// What a copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Each copied table with the rows copied, in the order they were copied.
    pub tables: Vec<(String, u64)>,
    /// Documents whose message and attachments `verify` found whole on the copy.
    pub verified: usize,
}

/// Why a register was not copied: a refusal with the facts it names, or what went wrong on the
/// way (and what was done about the target then).
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(
        "db copy reads a SQLite register, and database.url does not name one: point database.url \
         (or CHANCERY_DATABASE__URL) at the SQLite file to copy"
    )]
    SourceNotSqlite,
    #[error("db copy writes into PostgreSQL: --to takes a postgres://USER@HOST/DATABASE URL")]
    TargetNotPostgres,
    #[error("database.url names an in-memory SQLite database: there is nothing to copy")]
    SourceInMemory,
    #[error("database.url names a SQLite file that is not a Chancery register")]
    SourceNotARegister,
    #[error("migration {version} failed half way on the source register: repair it with `chancery db migrate` first")]
    SourceMigrationFailed { version: i64 },
    #[error("the source register has migration {version}, which this chancery does not know: copy it with the chancery that wrote it")]
    SourceMigrationUnknown { version: i64 },
    #[error(
        "the source register's schema is older than this chancery's: run `chancery db migrate` on it first \
         (db copy never writes into the register it reads)"
    )]
    SourceSchemaOlder,
    /// `tables` as `schema.table`.
    #[error("the target database holds tables that are not Chancery's ({}): copy into an empty database", shortened(.tables))]
    TargetHoldsOtherTables { tables: Vec<String> },
    #[error(
        "the target database is not empty ({table} holds rows): copy into an empty database, or one that holds \
         only the schema of `chancery db migrate`"
    )]
    TargetNotEmpty { table: String },
    #[error("the PostgreSQL schema has no table {table}")]
    NoTargetTable { table: String },
    #[error("the PostgreSQL schema has no column {table}.{column}")]
    NoTargetColumn { table: String, column: String },
    #[error("cannot copy {table}.{column}: its PostgreSQL type is {pg_type}")]
    UnsupportedType { table: String, column: String, pg_type: String },
    #[error("cannot copy {table}: {source}")]
    Table { table: String, source: Box<CopyError> },
    /// `row` counts from 1, in the order the table is read.
    #[error("row {row} column {column}: {source}")]
    Cell { row: u64, column: String, source: sqlx::Error },
    #[error("{source}; nothing was written to the target")]
    RolledBack { source: Box<CopyError> },
    #[error("cannot index the copy for search: {source}")]
    Index { source: StoreError },
    #[error("the copy does not verify: {count} problem(s), the first {}: {}: {}", .first.number, .first.item, .first.detail)]
    Unverified { count: usize, first: Problem },
    #[error("{source}; the target was emptied again")]
    Emptied { source: Box<CopyError> },
    #[error("{source}; emptying the target failed too ({cleanup}): drop its tables by hand")]
    NotEmptied { source: Box<CopyError>, cleanup: StoreError },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A database error on the way reads as the store's do (`database: ...`).
impl From<sqlx::Error> for CopyError {
    fn from(error: sqlx::Error) -> Self {
        CopyError::Store(StoreError::Database(error))
    }
}

/// How a column's values travel: PostgreSQL's type decides how they are read from SQLite
/// (which keeps any value in any column) and bound, so that NULLs keep their type too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Text,
    Bytes,
}

/// A column of the target: copied as its kind, or of a PostgreSQL type the copy cannot carry
/// (which stops the copy only when the source has that column).
#[derive(Debug, Clone, PartialEq, Eq)]
enum TargetColumn {
    Copyable(Kind),
    Unsupported { pg_type: String },
}

/// A table to copy: its columns as the source has them, and the order its rows are read in.
#[derive(Debug)]
struct Table {
    name: String,
    columns: Vec<String>,
    order: String,
}

/// Copies the SQLite register at `source_url` into the PostgreSQL database at `target_url`,
/// then verifies the copy. Refused, failed or unverified: an error, and the target as empty as
/// it was (see `empty_target` for the one case that needs more than a rollback).
pub async fn copy_register(source_url: &str, target_url: &str, zone: chrono_tz::Tz) -> Result<CopyReport, CopyError> {
    sqlx::any::install_default_drivers();
    if !source_url.starts_with("sqlite:") {
        return Err(CopyError::SourceNotSqlite);
    }
    if !(target_url.starts_with("postgres://") || target_url.starts_with("postgresql://")) {
        return Err(CopyError::TargetNotPostgres);
    }
    let mut source = open_read_only(source_url).await?;
    let mut reading = source.begin().await?;
    check_source_schema(&mut reading).await?;
    let tables = source_tables(&mut reading).await?;

    let mut ours: HashSet<String> = tables.iter().map(|t| t.name.clone()).collect();
    ours.extend([MIGRATIONS_TABLE].iter().chain(SEARCH_TABLES).chain(RUNTIME_TABLES).map(|t| t.to_string()));
    let mut probe = AnyConnection::connect(target_url).await?;
    let refusal = check_target_empty(&mut probe, &ours).await;
    probe.close().await.ok();
    refusal?;

    // The store migrates the target as `db migrate` would. Should the copy fail, the empty
    // schema stays: a database that holds only the empty schema counts as empty, here and for
    // the next attempt.
    let target = Store::open(target_url, zone, OpenMode::Existing).await?;
    let copied = copy_tables(&mut reading, &target, &tables).await;
    reading.rollback().await.ok();
    source.close().await.ok();
    let copied = match copied {
        Ok(copied) => copied,
        Err(error) => {
            target.close().await;
            return Err(error);
        }
    };
    // Indexing and verifying read what was committed, as any later `chancery verify` would;
    // a copy that fails here is emptied again.
    let checked = match index_and_verify(&target).await {
        Ok(checked) => checked,
        Err(error) => {
            let emptied = empty_target(&target).await;
            target.close().await;
            let source = Box::new(error);
            return Err(match emptied {
                Ok(()) => CopyError::Emptied { source },
                Err(cleanup) => CopyError::NotEmptied { source, cleanup },
            });
        }
    };
    target.close().await;
    Ok(CopyReport { tables: copied, verified: checked })
}

/// A read-only connection to the SQLite file: it cannot write, nor checkpoint the WAL into the
/// file, so the file stays byte for byte as it was.
async fn open_read_only(url: &str) -> Result<AnyConnection, CopyError> {
    if url.contains(":memory:") {
        return Err(CopyError::SourceInMemory);
    }
    let path = sqlite_path(url);
    if !path.exists() {
        let absolute = std::path::absolute(&path).unwrap_or(path);
        return Err(StoreError::Missing { path: absolute.display().to_string(), url: url.to_string() }.into());
    }
    let mut connection = AnyConnection::connect(&format!("sqlite://{}?mode=ro", path.display())).await?;
    // `serve` may be committing a batch: wait for it as the store's own connections do.
    sqlx::query("PRAGMA busy_timeout = 30000").execute(&mut connection).await?;
    Ok(connection)
}

/// The source must hold exactly the migrations this program has: its tables and columns are
/// then the ones the target gets.
async fn check_source_schema(source: &mut Transaction<'_, Any>) -> Result<(), CopyError> {
    let has_migrations = sqlx::query("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1")
        .bind(MIGRATIONS_TABLE)
        .fetch_one(&mut **source)
        .await?
        .try_get::<i64, _>(0)?;
    if has_migrations == 0 {
        return Err(CopyError::SourceNotARegister);
    }
    let rows =
        sqlx::query("SELECT version, CAST(success AS INTEGER) FROM _sqlx_migrations ORDER BY version").fetch_all(&mut **source).await?;
    let mut applied = Vec::with_capacity(rows.len());
    for row in &rows {
        let (version, success): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        if success == 0 {
            return Err(CopyError::SourceMigrationFailed { version });
        }
        applied.push(version);
    }
    let known: Vec<i64> = SQLITE_MIGRATIONS.iter().filter(|m| !m.migration_type.is_down_migration()).map(|m| m.version).collect();
    if let Some(&version) = applied.iter().find(|v| !known.contains(v)) {
        return Err(CopyError::SourceMigrationUnknown { version });
    }
    if applied.len() < known.len() {
        return Err(CopyError::SourceSchemaOlder);
    }
    Ok(())
}

/// The source's tables to copy, with their columns, in the order SQLite lists them.
async fn source_tables(source: &mut Transaction<'_, Any>) -> Result<Vec<Table>, StoreError> {
    let rows = sqlx::query("SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
        .fetch_all(&mut **source)
        .await?;
    let mut listed = Vec::with_capacity(rows.len());
    for row in &rows {
        listed.push((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?));
    }
    // An FTS5 table keeps its data in shadow tables named after it (`documents_fts_data`, ...).
    let virtual_tables: Vec<String> = listed
        .iter()
        .filter(|(_, sql)| sql.trim_start().to_ascii_uppercase().starts_with("CREATE VIRTUAL TABLE"))
        .map(|(n, _)| n.clone())
        .collect();
    let mut tables = Vec::new();
    for (name, _) in listed {
        let skipped = name.starts_with("sqlite_")
            || name == MIGRATIONS_TABLE
            || SEARCH_TABLES.contains(&name.as_str())
            || RUNTIME_TABLES.contains(&name.as_str())
            || virtual_tables.iter().any(|v| name == *v || name.starts_with(&format!("{v}_")));
        if skipped {
            continue;
        }
        let info = sqlx::query("SELECT name, pk FROM pragma_table_info($1) ORDER BY cid").bind(&name).fetch_all(&mut **source).await?;
        let mut columns = Vec::with_capacity(info.len());
        let mut key: Vec<(i64, String)> = Vec::new();
        for row in &info {
            let (column, pk): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
            if pk > 0 {
                key.push((pk, column.clone()));
            }
            columns.push(column);
        }
        key.sort();
        let order = if columns.iter().any(|c| c == "id") {
            quoted("id")
        } else if !key.is_empty() {
            key.iter().map(|(_, c)| quoted(c)).collect::<Vec<_>>().join(", ")
        } else {
            "rowid".to_string()
        };
        tables.push(Table { name, columns, order });
    }
    Ok(tables)
}

/// Refuses a target that holds any table not ours (in any schema), or a row in any of ours
/// apart from the migrations' bookkeeping and the search index (whose progress row an empty
/// schema holds). Runs before the target is migrated, so a refused target is left unchanged.
async fn check_target_empty(target: &mut AnyConnection, ours: &HashSet<String>) -> Result<(), CopyError> {
    let schema: String = sqlx::query("SELECT CAST(current_schema() AS TEXT)").fetch_one(&mut *target).await?.try_get(0)?;
    let rows = sqlx::query(
        "SELECT CAST(table_schema AS TEXT), CAST(table_name AS TEXT) FROM information_schema.tables \
         WHERE table_type IN ('BASE TABLE', 'FOREIGN') AND table_schema NOT IN ('pg_catalog', 'information_schema') \
         AND table_schema NOT LIKE 'pg\\_%' ORDER BY table_schema, table_name",
    )
    .fetch_all(&mut *target)
    .await?;
    let mut foreign = Vec::new();
    let mut present = Vec::new();
    for row in &rows {
        let (table_schema, table): (String, String) = (row.try_get(0)?, row.try_get(1)?);
        if table_schema == schema && ours.contains(&table) {
            present.push(table);
        } else {
            foreign.push(format!("{table_schema}.{table}"));
        }
    }
    if !foreign.is_empty() {
        return Err(CopyError::TargetHoldsOtherTables { tables: foreign });
    }
    // A non-empty register is named by its documents, what people know it by, before the
    // tables filled beside them (cases, domains).
    present.sort_by_key(|table| table != "documents");
    for table in present {
        // A letter's filings under its domains exist only beside the letter: the letters are
        // named instead, as what people know the register by.
        if table == MIGRATIONS_TABLE || SEARCH_TABLES.contains(&table.as_str()) || table == "document_domains" {
            continue;
        }
        let found = sqlx::query(AssertSqlSafe(format!("SELECT 1 FROM {} LIMIT 1", quoted(&table)))).fetch_optional(&mut *target).await?;
        if found.is_some() {
            return Err(CopyError::TargetNotEmpty { table });
        }
    }
    Ok(())
}

/// Copies every table in one transaction on the target, parents before the tables that refer
/// to them, then moves each id sequence past the ids copied. Returns the rows per table.
async fn copy_tables(source: &mut Transaction<'_, Any>, target: &Store, tables: &[Table]) -> Result<Vec<(String, u64)>, CopyError> {
    let mut tx = target.pool.begin().await?;
    let result = copy_into(source, &mut tx, tables).await;
    match result {
        Ok(copied) => {
            tx.commit().await?;
            Ok(copied)
        }
        Err(error) => {
            tx.rollback().await.ok();
            Err(CopyError::RolledBack { source: Box::new(error) })
        }
    }
}

async fn copy_into(
    source: &mut Transaction<'_, Any>,
    tx: &mut Transaction<'static, Any>,
    tables: &[Table],
) -> Result<Vec<(String, u64)>, CopyError> {
    let kinds = target_columns(tx).await?;
    let references = target_references(tx).await?;
    let names: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
    let by_name: HashMap<&str, &Table> = tables.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut copied = Vec::with_capacity(tables.len());
    for name in dependency_order(&names, &references) {
        let Some(table) = by_name.get(name.as_str()) else { continue };
        let Some(target_columns) = kinds.get(&table.name) else {
            return Err(CopyError::NoTargetTable { table: table.name.clone() });
        };
        let mut columns = Vec::with_capacity(table.columns.len());
        for column in &table.columns {
            match target_columns.get(column) {
                Some(TargetColumn::Copyable(kind)) => columns.push((column.as_str(), *kind)),
                Some(TargetColumn::Unsupported { pg_type }) => {
                    let (table, column, pg_type) = (table.name.clone(), column.clone(), pg_type.clone());
                    return Err(CopyError::UnsupportedType { table, column, pg_type });
                }
                None => return Err(CopyError::NoTargetColumn { table: table.name.clone(), column: column.clone() }),
            }
        }
        let rows = copy_table(source, tx, table, &columns)
            .await
            .map_err(|e| CopyError::Table { table: table.name.clone(), source: Box::new(e) })?;
        copied.push((table.name.clone(), rows));
    }
    restart_sequences(tx, &names).await?;
    Ok(copied)
}

/// Streams one table from the source into the target, a batch at a time.
async fn copy_table(
    source: &mut Transaction<'_, Any>,
    tx: &mut Transaction<'static, Any>,
    table: &Table,
    columns: &[(&str, Kind)],
) -> Result<u64, CopyError> {
    let list = columns.iter().map(|(c, _)| quoted(c)).collect::<Vec<_>>().join(", ");
    let sql = format!("SELECT {list} FROM {} ORDER BY {}", quoted(&table.name), table.order);
    let names: Vec<String> = columns.iter().map(|(c, _)| quoted(c)).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let target_table = quoted(&table.name);
    let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&mut **source);
    let mut batch: Vec<Vec<Cell<'static>>> = Vec::new();
    let mut bytes = 0;
    let mut count = 0;
    while let Some(row) = rows.try_next().await? {
        let mut cells = Vec::with_capacity(columns.len());
        for (i, (column, kind)) in columns.iter().enumerate() {
            let cell =
                read_cell(&row, i, *kind).map_err(|source| CopyError::Cell { row: count + 1, column: column.to_string(), source })?;
            bytes += match &cell {
                Cell::Owned(text) => text.len(),
                Cell::Blob(blob) => blob.len(),
                _ => 8,
            };
            cells.push(cell);
        }
        batch.push(cells);
        count += 1;
        if batch.len() >= BATCH_ROWS || bytes >= BATCH_BYTES {
            insert_rows(tx, &target_table, &names, std::mem::take(&mut batch)).await?;
            bytes = 0;
        }
    }
    if !batch.is_empty() {
        insert_rows(tx, &target_table, &names, batch).await?;
    }
    Ok(count)
}

/// One value of a source row, read as the target's column type wants it.
fn read_cell(row: &sqlx::any::AnyRow, index: usize, kind: Kind) -> Result<Cell<'static>, sqlx::Error> {
    Ok(match kind {
        Kind::Integer => row.try_get::<Option<i64>, _>(index)?.map_or(Cell::NullInt, Cell::Int),
        Kind::Text => row.try_get::<Option<String>, _>(index)?.map_or(Cell::Null, Cell::Owned),
        Kind::Bytes => row.try_get::<Option<Vec<u8>>, _>(index)?.map_or(Cell::NullBlob, Cell::Blob),
    })
}

/// The target's tables and their columns.
async fn target_columns(tx: &mut Transaction<'static, Any>) -> Result<HashMap<String, HashMap<String, TargetColumn>>, StoreError> {
    let rows = sqlx::query(
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT), CAST(data_type AS TEXT) FROM information_schema.columns \
         WHERE table_schema = current_schema()",
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut tables: HashMap<String, HashMap<String, TargetColumn>> = HashMap::new();
    for row in &rows {
        let (table, column, data_type): (String, String, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let kind = match data_type.as_str() {
            "bigint" | "integer" | "smallint" => TargetColumn::Copyable(Kind::Integer),
            "text" | "character varying" | "character" => TargetColumn::Copyable(Kind::Text),
            "bytea" => TargetColumn::Copyable(Kind::Bytes),
            _ => TargetColumn::Unsupported { pg_type: data_type },
        };
        tables.entry(table).or_default().insert(column, kind);
    }
    Ok(tables)
}

/// Which table refers to which (foreign keys), as the target enforces them.
async fn target_references(tx: &mut Transaction<'static, Any>) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT CAST(child.relname AS TEXT), CAST(parent.relname AS TEXT) FROM pg_constraint c \
         JOIN pg_class child ON child.oid = c.conrelid JOIN pg_class parent ON parent.oid = c.confrelid \
         JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = current_schema()",
    )
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
}

/// The tables in an order that inserts every referred-to table before the tables referring to
/// it, otherwise as listed. A table referring to itself (a document to the first of its thread)
/// is fine in id order. A cycle, which the schema does not have, keeps the listed order and
/// would fail on the target's foreign keys, rolling the copy back.
fn dependency_order(tables: &[String], references: &[(String, String)]) -> Vec<String> {
    let listed: HashSet<&str> = tables.iter().map(String::as_str).collect();
    let mut waiting_for: BTreeMap<&str, HashSet<&str>> = tables.iter().map(|t| (t.as_str(), HashSet::new())).collect();
    for (child, parent) in references {
        if child != parent
            && listed.contains(parent.as_str())
            && let Some(parents) = waiting_for.get_mut(child.as_str())
        {
            parents.insert(parent.as_str());
        }
    }
    let mut ordered: Vec<String> = Vec::with_capacity(tables.len());
    while ordered.len() < tables.len() {
        let done: HashSet<&str> = ordered.iter().map(String::as_str).collect();
        let next = tables
            .iter()
            .filter(|t| !done.contains(t.as_str()))
            .find(|t| waiting_for[t.as_str()].iter().all(|p| done.contains(p)))
            .or_else(|| tables.iter().find(|t| !done.contains(t.as_str())));
        match next {
            Some(table) => ordered.push(table.clone()),
            None => break,
        }
    }
    ordered
}

/// Moves each id sequence of the copied tables just past the highest id copied, so the next
/// registration on the copy takes the next id (its number comes from the copied counters).
async fn restart_sequences(tx: &mut Transaction<'static, Any>, tables: &[String]) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "SELECT table_name, column_name, sequence FROM (\
           SELECT CAST(table_name AS TEXT) AS table_name, CAST(column_name AS TEXT) AS column_name, \
           pg_get_serial_sequence(quote_ident(CAST(table_name AS TEXT)), CAST(column_name AS TEXT)) AS sequence \
           FROM information_schema.columns WHERE table_schema = current_schema()) AS serial \
         WHERE sequence IS NOT NULL",
    )
    .fetch_all(&mut **tx)
    .await?;
    for row in &rows {
        let (table, column, sequence): (String, String, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        if !tables.contains(&table) {
            continue;
        }
        let column = quoted(&column);
        sqlx::query(AssertSqlSafe(format!(
            "SELECT setval(CAST($1 AS regclass), COALESCE(MAX({column}), 0) + 1, false) FROM {}",
            quoted(&table)
        )))
        .bind(sequence)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Rebuilds the copy's search index (the copied documents were queued for it as they were
/// inserted) and verifies every stored hash; returns the documents checked.
async fn index_and_verify(target: &Store) -> Result<usize, CopyError> {
    target.index_queued().await.map_err(|source| CopyError::Index { source })?;
    let (checked, mut problems) = target.verify().await?;
    if !problems.is_empty() {
        let count = problems.len();
        return Err(CopyError::Unverified { count, first: problems.swap_remove(0) });
    }
    Ok(checked)
}

/// Empties every table the copy filled, in one statement. Only a copy that was committed and
/// then failed to index or verify needs it (the immutability triggers refuse DELETE, but
/// TRUNCATE fires no row triggers); what stays is the empty schema of `db migrate`.
async fn empty_target(target: &Store) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = current_schema() \
         AND table_type = 'BASE TABLE' AND table_name <> $1",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(&target.pool)
    .await?;
    let tables = rows.iter().map(|row| row.try_get::<String, _>(0).map(|t| quoted(&t))).collect::<Result<Vec<_>, _>>()?;
    if !tables.is_empty() {
        sqlx::query(AssertSqlSafe(format!("TRUNCATE TABLE {} RESTART IDENTITY", tables.join(", ")))).execute(&target.pool).await?;
    }
    Ok(())
}

/// An identifier for SQL, quoted; the names come from the databases' own catalogues.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A list for one line: the first few names and how many more.
fn shortened(names: &[String]) -> String {
    const SHOWN: usize = 5;
    if names.len() <= SHOWN { names.join(", ") } else { format!("{} and {} more", names[..SHOWN].join(", "), names.len() - SHOWN) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn referred_to_tables_are_copied_before_the_tables_that_refer_to_them() {
        let tables = strings(&["history", "attachments", "documents", "partners", "contacts"]);
        let references = vec![
            ("history".to_string(), "documents".to_string()),
            ("attachments".to_string(), "documents".to_string()),
            ("documents".to_string(), "documents".to_string()),
            ("contacts".to_string(), "partners".to_string()),
            ("contacts".to_string(), "documents".to_string()),
        ];
        assert_eq!(dependency_order(&tables, &references), strings(&["documents", "history", "attachments", "partners", "contacts"]));
    }

    #[test]
    fn a_cycle_keeps_every_table_in_the_listed_order() {
        let tables = strings(&["a", "b"]);
        let references = vec![("a".to_string(), "b".to_string()), ("b".to_string(), "a".to_string())];
        assert_eq!(dependency_order(&tables, &references), tables);
    }

    #[test]
    fn copy_errors_read_as_the_refusals_always_have() {
        let database = || StoreError::Database(sqlx::Error::PoolTimedOut);
        let pool = "pool timed out while waiting for an open connection";
        let cell = || CopyError::Cell { row: 3, column: "subject".into(), source: sqlx::Error::ColumnNotFound("subject".into()) };
        let table = || CopyError::Table { table: "documents".into(), source: Box::new(cell()) };
        let first = Problem { number: "IN-2025-000001".into(), item: "message".into(), detail: "hash differs".into() };
        let cases = [
            (
                CopyError::SourceNotSqlite,
                "db copy reads a SQLite register, and database.url does not name one: point database.url \
                 (or CHANCERY_DATABASE__URL) at the SQLite file to copy"
                    .to_string(),
            ),
            (CopyError::TargetNotPostgres, "db copy writes into PostgreSQL: --to takes a postgres://USER@HOST/DATABASE URL".into()),
            (CopyError::SourceInMemory, "database.url names an in-memory SQLite database: there is nothing to copy".into()),
            (CopyError::SourceNotARegister, "database.url names a SQLite file that is not a Chancery register".into()),
            (
                CopyError::SourceMigrationFailed { version: 17 },
                "migration 17 failed half way on the source register: repair it with `chancery db migrate` first".into(),
            ),
            (
                CopyError::SourceMigrationUnknown { version: 99 },
                "the source register has migration 99, which this chancery does not know: copy it with the chancery that wrote it".into(),
            ),
            (
                CopyError::SourceSchemaOlder,
                "the source register's schema is older than this chancery's: run `chancery db migrate` on it first \
                 (db copy never writes into the register it reads)"
                    .into(),
            ),
            (
                CopyError::TargetHoldsOtherTables { tables: strings(&["public.accounts", "audit.log"]) },
                "the target database holds tables that are not Chancery's (public.accounts, audit.log): copy into an empty database".into(),
            ),
            (
                CopyError::TargetHoldsOtherTables { tables: (1..=7).map(|n| format!("public.t{n}")).collect() },
                "the target database holds tables that are not Chancery's (public.t1, public.t2, public.t3, public.t4, public.t5 \
                 and 2 more): copy into an empty database"
                    .into(),
            ),
            (
                CopyError::TargetNotEmpty { table: "documents".into() },
                "the target database is not empty (documents holds rows): copy into an empty database, or one that holds \
                 only the schema of `chancery db migrate`"
                    .into(),
            ),
            (CopyError::NoTargetTable { table: "notes".into() }, "the PostgreSQL schema has no table notes".into()),
            (
                CopyError::NoTargetColumn { table: "documents".into(), column: "mood".into() },
                "the PostgreSQL schema has no column documents.mood".into(),
            ),
            (
                CopyError::UnsupportedType { table: "documents".into(), column: "due_on".into(), pg_type: "date".into() },
                "cannot copy documents.due_on: its PostgreSQL type is date".into(),
            ),
            (cell(), "row 3 column subject: no column found for name: subject".into()),
            (table(), "cannot copy documents: row 3 column subject: no column found for name: subject".into()),
            (
                CopyError::RolledBack { source: Box::new(table()) },
                "cannot copy documents: row 3 column subject: no column found for name: subject; nothing was written to the target".into(),
            ),
            (CopyError::RolledBack { source: Box::new(database().into()) }, format!("database: {pool}; nothing was written to the target")),
            (CopyError::Index { source: database() }, format!("cannot index the copy for search: database: {pool}")),
            (
                CopyError::Unverified { count: 2, first: first.clone() },
                "the copy does not verify: 2 problem(s), the first IN-2025-000001: message: hash differs".into(),
            ),
            (
                CopyError::Emptied { source: Box::new(CopyError::Unverified { count: 1, first }) },
                "the copy does not verify: 1 problem(s), the first IN-2025-000001: message: hash differs; the target was emptied again"
                    .into(),
            ),
            (
                CopyError::NotEmptied { source: Box::new(CopyError::Index { source: database() }), cleanup: database() },
                format!(
                    "cannot index the copy for search: database: {pool}; emptying the target failed too (database: {pool}): \
                     drop its tables by hand"
                ),
            ),
            (CopyError::Store(database()), format!("database: {pool}")),
            (sqlx::Error::PoolTimedOut.into(), format!("database: {pool}")),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text, "{error:?}");
        }
    }

    #[test]
    fn identifiers_are_quoted_with_their_quotes_doubled() {
        assert_eq!(quoted("documents"), "\"documents\"");
        assert_eq!(quoted("a\"b"), "\"a\"\"b\"");
    }
}
