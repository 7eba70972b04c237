//! The register's schema: SQLite and PostgreSQL hold the same tables and columns, each with the
//! same kind of value (all but the search index, which each database builds its own way); and a
//! value the code did not expect in a column is an error for the caller, never a panic or a
//! number silently cut to size.
//!
//! The parity test needs PostgreSQL whatever `CHANCERY_TEST_BACKEND` says: it fails loudly when
//! the server cannot be reached.

mod support;

use std::collections::BTreeSet;

use chancery::core::intake::Source;
use chancery::core::letter::read_letter;
use chancery::store::{Arrival, OpenMode, Store};
use chrono::{DateTime, Utc};
use sqlx::{AnyPool, AssertSqlSafe, Row};

const ZONE: chrono_tz::Tz = chrono_tz::Asia::Baku;

/// Tables that are the search index itself: SQLite's FTS5 table with its shadow tables, and
/// PostgreSQL's tsvector table. What feeds the index (its queue) is ordinary schema.
fn is_search_index(table: &str) -> bool {
    table.starts_with("documents_fts") || table == "document_search"
}

/// Bookkeeping that is not the register's schema: sqlx's migration log and SQLite's own tables.
fn is_bookkeeping(table: &str) -> bool {
    table == "_sqlx_migrations" || table.starts_with("sqlite_")
}

/// (table, column, kind of value): the store reads every column through one code path, so a
/// column that holds an integer on one database and text on the other decodes on one only.
type Columns = BTreeSet<(String, String, &'static str)>;

/// The kind of value a declared type holds: SQLite's `INTEGER` is PostgreSQL's `bigint`, and so on.
fn kind_of(declared: &str) -> &'static str {
    let declared = declared.to_lowercase();
    if declared.contains("int") {
        "integer"
    } else if declared == "text" || declared.contains("char") {
        "text"
    } else if declared == "blob" || declared == "bytea" {
        "bytes"
    } else if declared.contains("real") || declared.contains("double") || declared.contains("float") || declared == "numeric" {
        "real"
    } else if declared.contains("bool") {
        "boolean"
    } else if declared.contains("time") || declared == "date" {
        "time"
    } else {
        "other"
    }
}

async fn columns(pool: &AnyPool, sql: &str) -> Columns {
    let rows = sqlx::query(AssertSqlSafe(sql.to_string())).fetch_all(pool).await.expect("list the schema's columns");
    rows.iter()
        .map(|row| {
            let table: String = row.try_get(0).expect("table name");
            let column: String = row.try_get(1).expect("column name");
            let declared: String = row.try_get(2).expect("column type");
            (table.to_lowercase(), column.to_lowercase(), kind_of(&declared))
        })
        .filter(|(table, _, _)| !is_search_index(table) && !is_bookkeeping(table))
        .collect()
}

/// A new PostgreSQL database of its own, migrated by `Store::open`.
async fn fresh_postgres() -> (Store, String) {
    let (_, url) = support::postgres::create_database("schema").await;
    (Store::open(&url, ZONE, OpenMode::CreateIfMissing).await.expect("open and migrate the PostgreSQL store"), url)
}

#[tokio::test]
async fn sqlite_and_postgresql_have_the_same_tables_and_columns_apart_from_the_search_index() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite_url = format!("sqlite://{}/register.db", dir.path().display());
    let sqlite_store = Store::open(&sqlite_url, ZONE, OpenMode::CreateIfMissing).await.expect("open and migrate the SQLite store");
    let (postgres_store, postgres_url) = fresh_postgres().await;

    let sqlite = AnyPool::connect(&sqlite_url).await.expect("a second connection to the SQLite file");
    let on_sqlite = columns(
        &sqlite,
        "SELECT m.name, p.name, p.type FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type IN ('table', 'view')",
    )
    .await;
    let postgres = AnyPool::connect(&postgres_url).await.expect("a second connection to PostgreSQL");
    let on_postgres = columns(
        &postgres,
        "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .await;

    // A schema that lists nothing would make the comparison hold trivially.
    for table in ["documents", "attachments", "history", "outbox", "imap_messages"] {
        assert!(on_sqlite.iter().any(|(t, _, _)| t == table), "SQLite has no table {table}: {on_sqlite:?}");
    }
    let only_sqlite: Vec<String> = on_sqlite.difference(&on_postgres).map(|(t, c, k)| format!("{t}.{c} ({k})")).collect();
    let only_postgres: Vec<String> = on_postgres.difference(&on_sqlite).map(|(t, c, k)| format!("{t}.{c} ({k})")).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "the schemas differ (a migration written for one database only?)\nonly on SQLite: {only_sqlite:?}\nonly on PostgreSQL: {only_postgres:?}"
    );

    sqlite.close().await;
    postgres.close().await;
    sqlite_store.close().await;
    postgres_store.close().await;
}

fn now() -> DateTime<Utc> {
    "2026-12-01T09:00:00Z".parse().expect("instant")
}

/// Registers one letter as IMAP message `uid` of `mailbox`.
async fn register_from_mailbox(store: &Store, mailbox: &str, uid: u32) {
    let raw = format!(
        "From: Partner <partner@example.org>\r\nTo: registry@uni.example\r\nSubject: Visit {uid}\r\n\
         Message-ID: <{}@example.org>\r\nDate: Tue, 01 Dec 2026 12:00:00 +0400\r\n\r\nDear colleagues,\r\n",
        support::unique("schema")
    )
    .into_bytes();
    let arrival = Arrival {
        letter: read_letter(&raw),
        raw,
        source: Source::Imap { mailbox: mailbox.into(), uid_validity: 7, uid },
        received_at: now(),
    };
    store.register_incoming(vec![arrival], &support::policy_without_rules(), &support::reminder_policy(), now()).await.expect("registered");
}

/// SQLite keeps whatever it is given, whatever the column's declared type: a damaged or
/// hand-edited file can hold text where a number belongs.
#[tokio::test]
async fn text_in_an_integer_column_is_an_error_for_the_caller_not_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/register.db", dir.path().display());
    let store = Store::open(&url, ZONE, OpenMode::CreateIfMissing).await.expect("open store");
    register_from_mailbox(&store, "INBOX", 1).await;
    assert_eq!(store.recorded_uids("INBOX", 7, 0).await.expect("readable before the damage").len(), 1);

    let damage = AnyPool::connect(&url).await.expect("a second connection to the SQLite file");
    sqlx::query("UPDATE imap_messages SET uid = 'abc' WHERE mailbox = 'INBOX'").execute(&damage).await.expect("write text into uid");
    let stored: String = sqlx::query("SELECT typeof(uid) FROM imap_messages").fetch_one(&damage).await.expect("type").get(0);
    assert_eq!(stored, "text", "SQLite kept the text as text");
    damage.close().await;

    let read = store.recorded_uids("INBOX", 7, 0).await;
    assert!(read.is_err(), "a text uid is reported, not read as some number: {read:?}");
    store.close().await;
}

/// A number too large for the type the code reads it into is an error, not the number cut to
/// its low bits (5,000,000,000 would become 705,032,704 as a u32).
#[tokio::test]
async fn an_integer_out_of_range_is_an_error_not_a_wrapped_number() {
    let (store, url, _guard) = support::fresh_store().await;
    let mailbox = support::unique("range");
    register_from_mailbox(&store, &mailbox, 1).await;

    let damage = AnyPool::connect(&url).await.expect("a second connection to the register");
    sqlx::query("UPDATE imap_messages SET uid = 5000000000 WHERE mailbox = $1")
        .bind(&mailbox)
        .execute(&damage)
        .await
        .expect("write a large uid");
    damage.close().await;

    let read = store.recorded_uids(&mailbox, 7, 0).await;
    assert!(read.is_err(), "a uid beyond u32 is reported, not wrapped: {read:?}");
    let message = read.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(!message.contains('\n'), "one line for people: {message}");
    store.close().await;
}

/// (domain, number) of every letter's filing, in order.
async fn filings(pool: &AnyPool) -> Vec<(String, String)> {
    let rows = sqlx::query("SELECT dd.domain, d.number FROM document_domains dd JOIN documents d ON d.id = dd.document_id ORDER BY 1, 2")
        .fetch_all(pool)
        .await
        .expect("read the filings");
    rows.iter().map(|row| (row.try_get(0).expect("domain"), row.try_get(1).expect("number"))).collect()
}

/// A letter is filed under its correspondents' domains and their parents when it is registered
/// (incoming: the first sender; outgoing: every recipient), migration 0017 files the letters
/// registered before it the same way, and a partner's letters are found through them,
/// subdomains included and look-alikes not.
#[tokio::test]
async fn letters_are_filed_under_their_domains_alike_by_registration_and_by_the_migration() {
    let (store, url, _guard) = support::fresh_store().await;
    for (n, from) in ["Rector <Rector@Mail.UT.ee>", "someone@notut.ee", "Local <weird@localhost>", "Partner <a@b.sub.metu.edu.tr>"]
        .into_iter()
        .enumerate()
    {
        let raw = format!(
            "From: {from}\r\nTo: registry@uni.example\r\nSubject: Letter {n}\r\nMessage-ID: <{}@example.org>\r\n\
             Date: Tue, 01 Dec 2026 12:00:00 +0400\r\n\r\nDear colleagues,\r\n",
            support::unique("domains")
        )
        .into_bytes();
        let arrival = Arrival { letter: read_letter(&raw), raw, source: Source::File { path: format!("{n}.eml") }, received_at: now() };
        store
            .register_incoming(vec![arrival], &support::policy_without_rules(), &support::reminder_policy(), now())
            .await
            .expect("registered");
    }
    let outgoing = store
        .register_outgoing(None, "@registrar:uni.example", "registry", now(), |number, _| {
            let raw = format!(
                "From: registry@uni.example\r\nTo: x@UT.EE, Y <y@ut.ee>, z@other.example\r\nSubject: {number} Reply\r\n\
                 Message-ID: <{number}@uni.example>\r\n\r\nDear colleagues,\r\n"
            );
            let mail = chancery::core::outbound::OutgoingMail {
                kind: chancery::core::outbound::MailKind::Correspondence,
                from: "registry@uni.example".into(),
                to: vec!["x@UT.EE".into(), "y@ut.ee".into(), "z@other.example".into()],
                subject: format!("{number} Reply"),
                text: "Dear colleagues,".into(),
                in_reply_to: None,
                references: Vec::new(),
                auto_submitted: false,
                attach_original: false,
                attachments: Vec::new(),
                message_id: format!("{number}@uni.example"),
            };
            Ok((raw.into_bytes(), mail))
        })
        .await
        .expect("an outgoing letter");
    let filed = |domain: &str, number: &str| (domain.to_string(), number.to_string());
    let expected = vec![
        filed("b.sub.metu.edu.tr", "IN-2026-000004"),
        filed("edu.tr", "IN-2026-000004"),
        filed("mail.ut.ee", "IN-2026-000001"),
        filed("metu.edu.tr", "IN-2026-000004"),
        filed("notut.ee", "IN-2026-000002"),
        filed("other.example", &outgoing),
        filed("sub.metu.edu.tr", "IN-2026-000004"),
        filed("ut.ee", "IN-2026-000001"),
        filed("ut.ee", &outgoing),
    ];
    let pool = AnyPool::connect(&url).await.expect("a second connection");
    assert_eq!(filings(&pool).await, expected, "as registration files them");

    // The letters of a register from before the migration: filed again by the migration itself.
    sqlx::query("DELETE FROM document_domains").execute(&pool).await.expect("empty the filings");
    let migration = match store.backend() {
        chancery::store::Backend::Sqlite => include_str!("../migrations/sqlite/0017_document_domains.sql"),
        chancery::store::Backend::Postgres => include_str!("../migrations/postgres/0017_document_domains.sql"),
    };
    sqlx::raw_sql(AssertSqlSafe(migration)).execute(&pool).await.expect("the migration runs again");
    assert_eq!(filings(&pool).await, expected, "as the migration files them");

    let tartu = chancery::core::partner::Partner::check("ut", "University of Tartu", "EE", "university", "ut.ee").expect("a partner");
    store.partners().add(&tartu, "@officer:uni.example", now()).await.expect("partner added");
    let letters = store.partners().letters(Some("ut"), 20).await.expect("the partner's letters");
    let numbers: Vec<&str> = letters.iter().map(|l| l.document.number.as_str()).collect();
    assert_eq!(numbers, [outgoing.as_str(), "IN-2026-000001"], "newest first; notut.ee is not ut.ee");
    pool.close().await;
    store.close().await;
}
