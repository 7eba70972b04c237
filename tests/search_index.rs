//! The search index is kept up by writes and indexers, never by a search: a search answers from
//! what is indexed, an indexer run makes new letters findable, and no letter is ever left out,
//! even one whose transaction commits after a later letter was indexed (PostgreSQL).

mod support;

use chancery::core::intake::Source;
use chancery::core::letter::read_letter;
use chancery::store::{Arrival, Backend, Store};
use chrono::{DateTime, Utc};
use sqlx::AnyPool;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z").expect("a valid instant").with_timezone(&Utc)
}

async fn register(store: &Store, subject: &str) -> String {
    let raw = format!(
        "From: Partner <partner@example.org>\r\nTo: registry@uni.example\r\nSubject: {subject}\r\n\
         Message-ID: <{}@example.org>\r\nDate: Tue, 01 Dec 2026 12:00:00 +0400\r\n\r\nDear colleagues,\r\n",
        support::unique("search")
    )
    .into_bytes();
    let arrival = Arrival { letter: read_letter(&raw), raw, source: Source::File { path: "test.eml".into() }, received_at: now() };
    let outcomes = store
        .register_incoming(vec![arrival], &support::policy_without_rules(), &support::reminder_policy(), now())
        .await
        .expect("registered");
    outcomes[0].number().to_string()
}

async fn found(store: &Store, text: &str) -> Vec<String> {
    store.search(text).await.expect("search").into_iter().map(|d| d.number).collect()
}

#[tokio::test]
async fn a_search_reads_the_index_as_it_stands_and_an_indexer_run_makes_new_letters_findable() {
    let (store, _, _guard) = support::fresh_store().await;
    let number = register(&store, "Zirconium supply contract").await;
    assert!(found(&store, "zirconium").await.is_empty(), "a search does not index what is queued");
    assert_eq!(store.index_queued().await.expect("index"), 1);
    assert_eq!(found(&store, "zirconium").await, std::slice::from_ref(&number));
    assert_eq!(store.index_queued().await.expect("index"), 0, "each letter is indexed once");
    assert_eq!(found(&store, "Zirconium supply").await, [number]);
}

#[tokio::test]
async fn a_letter_whose_transaction_commits_after_a_later_one_was_indexed_is_indexed_too() {
    let (store, url, _guard) = support::fresh_store().await;
    if store.backend() == Backend::Sqlite {
        // One writer at a time: SQLite's ids commit in order, and the case cannot arise.
        return;
    }
    // A registration that takes its id first and commits last, as a slow instance's would.
    let slow = AnyPool::connect(&url).await.expect("a second connection");
    let mut late = slow.begin().await.expect("begin");
    sqlx::query(
        "INSERT INTO documents (number, direction, year, sequence, subject, from_json, to_json, cc_json, from_address, \
         replies_to_json, received_at, registered_at, sha256, size, body_text, source, flags_json, status, unit, confidentiality) \
         VALUES ('IN-1999-000001', 'incoming', 1999, 1, 'Beryllium samples', '[]', '[]', '[]', 'a@example.org', '[]', \
         '2026-12-01T09:00:00.000000Z', '2026-12-01T09:00:00.000000Z', 'none', 1, 'Dear colleagues', 'file:late.eml', '[]', \
         'registered', 'registry', 'internal')",
    )
    .execute(&mut *late)
    .await
    .expect("the slow registration's row");
    let early = register(&store, "Molybdenum samples").await;
    assert_eq!(store.index_queued().await.expect("index"), 1, "only what is committed is indexed");
    assert_eq!(found(&store, "molybdenum").await, [early]);
    late.commit().await.expect("the slow registration commits");
    assert_eq!(store.index_queued().await.expect("index"), 1, "the late letter is still queued");
    assert_eq!(found(&store, "beryllium").await, ["IN-1999-000001"]);
    slow.close().await;
}
