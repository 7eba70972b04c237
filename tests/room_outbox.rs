//! Room cards go through the room outbox as mail goes through the outbox: registering a letter
//! whose rule says `notify_room` writes one card in the registering transaction, a confidential
//! letter's card keeps its subject back, a claim is given to one sender only and again once its
//! lease lapses, and broken rule files found while serving are told to the admin room once.

mod support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chancery::core::announce::{CONFIDENTIAL_PLACEHOLDER, RoomTarget};
use chancery::core::intake::{IntakePolicy, Source};
use chancery::core::letter::read_letter;
use chancery::rule_files::{self, LiveRules};
use chancery::store::{Arrival, RoomMessageRecord, Store};
use chrono::{DateTime, Utc};
use support::{fresh_store, unique, wait_for};
use tokio::sync::{Notify, watch};

fn rules_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mail-rules")
}

/// The shipped rules, as `serve` runs them with the assistant on.
fn policy() -> IntakePolicy {
    IntakePolicy { notify_rooms: true, ..support::shipped_policy() }
}

fn now() -> DateTime<Utc> {
    "2026-12-01T09:00:00Z".parse().expect("instant")
}

fn arrival(from: &str, subject: &str) -> Arrival {
    let raw = format!(
        "From: {from}\r\nTo: University Registry <registry@uni.example>\r\nSubject: {subject}\r\nMessage-ID: <{}@partner.example>\r\n\
         Date: Tue, 01 Dec 2026 12:00:00 +0400\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDear colleagues,\r\n",
        unique("room")
    )
    .into_bytes();
    Arrival { letter: read_letter(&raw), raw, source: Source::File { path: "test.eml".into() }, received_at: now() }
}

async fn register(store: &Store, arrival: Arrival, policy: &IntakePolicy) -> String {
    let outcomes = store.register_incoming(vec![arrival], policy, &support::reminder_policy(), now()).await.expect("registered");
    outcomes[0].number().to_string()
}

async fn room_messages(store: &Store) -> Vec<RoomMessageRecord> {
    store.room_messages().list().await.expect("room outbox")
}

#[tokio::test]
async fn a_letter_routed_with_notify_room_leaves_exactly_one_card_for_its_unit() {
    let (store, _, _guard) = fresh_store().await;
    let number = register(&store, arrival("Prof. Ayşe Kaya <a.kaya@metu.edu.tr>", "Joint summer school 2027"), &policy()).await;
    let document = store.document(&number).await.expect("document");
    assert_eq!(document.unit, "international", "the starter rule for partner universities, which says notify_room");

    let messages = room_messages(&store).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let card = &messages[0];
    assert_eq!(card.target, RoomTarget::Unit("international".into()));
    assert_eq!(card.document_id, Some(document.id));
    assert_eq!((card.status.as_str(), card.attempts), ("pending", 0));
    for part in [number.as_str(), "international", "Joint summer school 2027", "Prof. Ayşe Kaya (a.kaya@metu.edu.tr)"] {
        assert!(card.markdown.contains(part), "{part} missing from {}", card.markdown);
    }
    // No mail: the room outbox is a table of its own, which the mail dispatcher never reads.
    assert!(store.outbox().list().await.expect("outbox").is_empty());
}

#[tokio::test]
async fn a_confidential_letters_card_names_neither_subject_nor_sender() {
    let (store, _, _guard) = fresh_store().await;
    let number = register(&store, arrival("Prof. Ayşe Kaya <a.kaya@metu.edu.tr>", "Confidential: staff exchange dispute"), &policy()).await;
    let document = store.document(&number).await.expect("document");
    assert_eq!((document.unit.as_str(), document.confidentiality.as_str()), ("international", "confidential"));

    let messages = room_messages(&store).await;
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let card = &messages[0].markdown;
    assert!(card.contains(&number) && card.contains(CONFIDENTIAL_PLACEHOLDER), "{card}");
    for secret in ["staff exchange", "dispute", "Kaya", "metu"] {
        assert!(!card.contains(secret), "{secret} leaked into {card}");
    }
}

#[tokio::test]
async fn no_card_without_notify_room_or_when_rooms_are_not_told() {
    let (store, _, _guard) = fresh_store().await;
    // The default unit: no rule, no card.
    register(&store, arrival("someone@example.org", "A question about opening hours"), &policy()).await;
    // An import (no assistant): the rule asks for a card, the policy does not post one.
    let import = IntakePolicy { notify_rooms: false, ..policy() };
    register(&store, arrival("Prof. Ayşe Kaya <a.kaya@metu.edu.tr>", "Joint summer school 2027"), &import).await;
    assert!(room_messages(&store).await.is_empty());
}

#[tokio::test]
async fn a_committed_card_wakes_the_matrix_side() {
    let (store, _, _guard) = fresh_store().await;
    let waker = Arc::new(Notify::new());
    store.wake_on_room_message(Arc::clone(&waker));
    register(&store, arrival("Prof. Ayşe Kaya <a.kaya@metu.edu.tr>", "Joint summer school 2027"), &policy()).await;
    tokio::time::timeout(Duration::from_secs(1), waker.notified()).await.expect("woken");
}

#[tokio::test]
async fn a_claim_is_given_once_and_again_when_its_lease_lapses() {
    let (store, _, _guard) = fresh_store().await;
    let rooms = store.room_messages();
    let lease = chrono::Duration::seconds(60);
    let id = rooms.enqueue(&RoomTarget::Admin, "**The rule files are broken**", now()).await.expect("enqueued");
    assert_eq!(rooms.next_due().await.expect("next"), Some(now()));

    let first = rooms.claim_due(now(), 10, lease).await.expect("claim");
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].id, &first[0].target, first[0].markdown.as_str(), first[0].attempts),
        (id, &RoomTarget::Admin, "**The rule files are broken**", 1)
    );
    assert!(rooms.claim_due(now(), 10, lease).await.expect("claim").is_empty(), "claimed twice");
    assert!(rooms.claim_due(now() + chrono::Duration::seconds(59), 10, lease).await.expect("claim").is_empty(), "the lease holds");
    assert_eq!(rooms.next_due().await.expect("next"), Some(now() + lease), "due again when the lease lapses");

    // Its sender died: the lease lapses and another takes it.
    let later = now() + chrono::Duration::seconds(61);
    let again = rooms.claim_due(later, 10, lease).await.expect("claim");
    assert_eq!((again.len(), again[0].id, again[0].attempts), (1, id, 2));

    rooms.mark_retry(id, "the homeserver is away", later + chrono::Duration::seconds(30)).await.expect("retry");
    assert!(rooms.claim_due(later, 10, lease).await.expect("claim").is_empty(), "not before its retry");
    let retried = rooms.claim_due(later + chrono::Duration::seconds(30), 10, lease).await.expect("claim");
    assert_eq!(retried[0].attempts, 3);
    rooms.mark_sent(id, later + chrono::Duration::seconds(31)).await.expect("sent");
    let row = &room_messages(&store).await[0];
    assert_eq!((row.status.as_str(), row.last_error.as_deref()), ("sent", None));
    assert!(row.finished_at.is_some());
    assert_eq!(rooms.next_due().await.expect("next"), None);
    assert!(rooms.claim_due(later + chrono::Duration::days(1), 10, lease).await.expect("claim").is_empty(), "posted once");

    let unit = rooms.enqueue(&RoomTarget::Unit("finance".into()), "card", now()).await.expect("enqueued");
    let claimed = rooms.claim_due(now(), 10, lease).await.expect("claim");
    assert_eq!(claimed[0].target, RoomTarget::Unit("finance".into()));
    rooms.release(unit, now()).await.expect("released");
    assert_eq!(rooms.claim_due(now(), 10, lease).await.expect("claim")[0].attempts, 1, "a release does not count as an attempt");
    rooms.mark_failed(unit, "no room for unit finance", now()).await.expect("failed");
    let failed = room_messages(&store).await.into_iter().find(|row| row.id == unit).expect("row");
    assert_eq!((failed.status.as_str(), failed.last_error.as_deref()), ("failed", Some("no room for unit finance")));
    assert!(rooms.claim_due(now() + chrono::Duration::days(1), 10, lease).await.expect("claim").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn senders_claiming_at_once_never_share_a_message() {
    let (store, _, _guard) = fresh_store().await;
    for n in 0..20 {
        store.room_messages().enqueue(&RoomTarget::Unit("registry".into()), &format!("card {n}"), now()).await.expect("enqueued");
    }
    let claimers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                loop {
                    let batch = store.room_messages().claim_due(now(), 3, chrono::Duration::seconds(60)).await.expect("claim");
                    if batch.is_empty() {
                        return ids;
                    }
                    ids.extend(batch.iter().map(|m| m.id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.expect("claimer"));
    }
    all.sort();
    let count = all.len();
    all.dedup();
    assert_eq!((count, all.len()), (20, 20), "every message claimed exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_file_errors_found_while_serving_are_told_to_the_admin_room_once() {
    let (store, _, _guard) = fresh_store().await;
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(rules_dir()).expect("rules dir").flatten() {
        if entry.path().extension().is_some_and(|ext| ext == "toml") {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
        }
    }
    let book = rule_files::load(dir.path()).expect("rules load");
    let rules_at_start = book.rule_count();
    let live = Arc::new(LiveRules::new(dir.path().to_path_buf(), book));
    live.report_errors_to_admin_room(store.clone());
    let (stop, stopped) = watch::channel(false);
    let watcher = tokio::spawn(Arc::clone(&live).watch(stopped));
    let file = dir.path().join("20-international.toml");
    let original = std::fs::read_to_string(&file).expect("read");
    let rule = |name: &str| format!("\n[[rule]]\nname = \"{name}\"\nsubject = [\"{name}\"]\nunit = \"international\"\n");
    let broken = "\n[[rule]]\nname = \"Broken\"\nunti = \"international\"\n";
    let admin_messages = || async {
        room_messages(&store).await.into_iter().filter(|m| m.target == RoomTarget::Admin).map(|m| m.markdown).collect::<Vec<_>>()
    };
    let rules_in_force = |count: usize| {
        let live = Arc::clone(&live);
        move || {
            let live = Arc::clone(&live);
            async move { live.current().rule_count() == count }
        }
    };

    // A good edit first, written again until it is in force: the watcher takes its first look
    // at the folder when it starts running, and an edit before that is no change to it.
    let mut good_edit_loaded = false;
    for n in 0..20 {
        std::fs::write(&file, format!("{original}{}# edit {n}\n", rule("first"))).expect("edit");
        tokio::time::sleep(Duration::from_millis(500)).await;
        if live.current().rule_count() == rules_at_start + 1 {
            good_edit_loaded = true;
            break;
        }
    }
    assert!(good_edit_loaded, "a good edit was not loaded");
    assert!(admin_messages().await.is_empty(), "good rules are no news");

    std::fs::write(&file, format!("{original}{}{broken}", rule("first"))).expect("break");
    assert!(wait_for(Duration::from_secs(10), || async { !admin_messages().await.is_empty() }).await, "the admin room was not told");
    let told = admin_messages().await;
    assert_eq!(told.len(), 1);
    assert!(told[0].contains("broken") && told[0].contains("20-international.toml"), "{}", told[0]);

    // Another edit that leaves the same error: the log says it again, the room is not told again.
    std::fs::write(&file, format!("{original}{}{broken}# still\n", rule("first"))).expect("edit");
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(admin_messages().await.len(), 1, "the same error was told twice");

    // Fixed, then broken again: that is news.
    std::fs::write(&file, format!("{original}{}{}", rule("first"), rule("second"))).expect("fix");
    assert!(wait_for(Duration::from_secs(10), rules_in_force(rules_at_start + 2)).await, "the fix was not loaded");
    std::fs::write(&file, format!("{original}{}{}{broken}", rule("first"), rule("second"))).expect("break again");
    assert!(wait_for(Duration::from_secs(10), || async { admin_messages().await.len() == 2 }).await, "a new breakage was not told");

    stop.send(true).ok();
    watcher.await.expect("watcher stops");
}
