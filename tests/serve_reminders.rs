//! The exactly-once promise through real restarts: `chancery serve` (the binary) fires
//! reminders, is killed with SIGKILL, and starts again (twice at once on PostgreSQL) after more
//! came due; every reminder is told once, what came due meanwhile says it is late, and the
//! e-mail of an overdue letter reaches the real Postfix and Dovecot once.
//!
//! Needs the dev mail servers (`scripts/test` starts them) and, for the PostgreSQL run,
//! `CHANCERY_TEST_BACKEND=postgres`.

mod seed;
mod support;

use std::time::Duration;

use chancery::core::announce::RoomTarget;
use chancery::core::remind::Kind;
use chancery::store::{OpenMode, Store};
use chrono::Utc;
use support::{messages_where, serve, stop, wait_for};

/// The reminder has fired (a personal one then ends; a repeating one moves on a step).
async fn fired(store: &Store, id: i64) -> bool {
    store.reminders().get(id).await.is_ok_and(|r| r.reminder.step > 0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_fire_once_through_a_kill_and_a_restart_and_late_ones_say_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, url, _guard) = support::fresh_store().await;
    // Staff, and the letters of the seed: the Erasmus letter for the international office was
    // due on 30 November 2026 and is still open, so its head is e-mailed once started.
    seed::seed(&store).await;
    let erasmus = store.document(seed::documents::ERASMUS).await.unwrap().id;
    let overdue = store
        .reminders()
        .of_owner("chancery")
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.reminder.subject_id == Some(erasmus) && r.reminder.kind == Kind::LetterOverdue)
        .expect("overdue reminder");

    let now = Utc::now();
    let first = store.reminders().add_personal(seed::CLERK, seed::CLERK, now + chrono::Duration::seconds(3), "first", now).await.unwrap();
    let second =
        store.reminders().add_personal(seed::CLERK, seed::CLERK, now + chrono::Duration::seconds(20), "second", now).await.unwrap();

    // 1. An instance fires what is due, and is killed before the second reminder's time.
    let running = serve(dir.path(), &url, "first-start");
    let started =
        wait_for(Duration::from_secs(15), || async { fired(&store, first).await && fired(&store, overdue.reminder.id).await }).await;
    let mut running = running;
    running.kill().expect("SIGKILL");
    running.wait().ok();
    assert!(started, "the first reminder and the overdue letter fired; log: {}", log(dir.path(), "first-start"));
    assert!(!fired(&store, second).await, "the second was not due yet");

    // 2. While nothing runs: the second comes due, and one scheduled earlier is long overdue.
    let missed = store
        .reminders()
        .add_personal(seed::CLERK, "!duty:uni.example", Utc::now() - chrono::Duration::minutes(2), "missed", Utc::now())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(20)).await;

    // 3. Restart: two instances at once on PostgreSQL (they share the work), one on SQLite.
    let postgres = store.backend() == chancery::store::Backend::Postgres;
    let mut instances = vec![serve(dir.path(), &url, "restart-a")];
    if postgres {
        instances.push(serve(dir.path(), &url, "restart-b"));
    }
    let caught_up = wait_for(Duration::from_secs(30), || async { fired(&store, second).await && fired(&store, missed).await }).await;
    // The overdue letter's e-mail goes out through Postfix (sent by whichever instance).
    let sent = wait_for(Duration::from_secs(30), || async {
        store.outbox().list().await.unwrap().iter().filter(|m| m.kind == "reminder").all(|m| m.status == "sent")
    })
    .await;
    for instance in instances {
        stop(instance);
    }
    assert!(caught_up, "what came due meanwhile fired at start; log: {}", log(dir.path(), "restart-a"));
    assert!(sent, "reminder mail sent: {:?}", store.outbox().list().await.unwrap());

    let messages = store.room_messages().list().await.unwrap();
    let told = |needle: &str| messages.iter().filter(|m| m.markdown.contains(needle)).collect::<Vec<_>>();
    for (id, text) in [(first, "first"), (second, "second"), (missed, "missed")] {
        assert_eq!(told(&format!("**Reminder {id}**")).len(), 1, "reminder {id} ({text}) told once: {messages:#?}");
    }
    assert!(!told("**Reminder").iter().any(|m| m.markdown.contains("first") && m.markdown.contains("late")), "on time is not late");
    let missed_message = told(&format!("**Reminder {missed}**"))[0];
    assert_eq!(missed_message.target, RoomTarget::Room("!duty:uni.example".into()));
    assert!(missed_message.markdown.contains("late: was due at"), "{}", missed_message.markdown);
    assert_eq!(told(&format!("**Reminder {}**", overdue.reminder.id)).len(), 1, "the overdue step told once to the unit's manager");

    // The head's e-mail: one row, one delivery, with the Message-ID the reminder's step fixed.
    let mails: Vec<_> = store
        .outbox()
        .list()
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == "reminder" && m.recipients == ["l.aliyeva@uni.example"])
        .collect();
    assert_eq!(mails.len(), 1, "one e-mail: {mails:?}");
    let delivered = messages_where("catchall", "INBOX", &format!("HEADER Message-ID \"{}\"", mails[0].message_id)).await;
    assert_eq!(delivered.len(), 1, "delivered once to the head's mailbox (the dev catch-all)");
    let text = String::from_utf8_lossy(&delivered[0]).to_string();
    assert!(text.contains(seed::documents::ERASMUS), "{text}");

    // Nothing else came due: a third start fires nothing more.
    let again = serve(dir.path(), &url, "third-start");
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop(again);
    let reopened = Store::open(&url, chrono_tz::Asia::Baku, OpenMode::Existing).await.unwrap();
    assert_eq!(reopened.room_messages().list().await.unwrap().len(), messages.len(), "a restart fires nothing twice");
    reopened.close().await;
    store.close().await;
}

fn log(dir: &std::path::Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default()
}
