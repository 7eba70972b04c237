//! What `!press send` leaves in the store, on the backend under test: one outgoing register
//! entry addressed to every newsroom, one held mail per newsroom in the outbox, and nothing at
//! all when mail is switched off.

mod seed;
mod support;

use std::collections::BTreeSet;

use chancery::commands::{Catalog, Context, Request, Settings, answer};
use chancery::core::viewer::Audience;
use chancery::store::Store;
use chrono::{Duration, TimeZone, Utc};

async fn say(store: &Store, settings: &Settings, sender: &str, text: &str) -> String {
    let catalog = Catalog::load(&seed::manifest_dir().join("commands")).unwrap_or_else(|e| panic!("{e}"));
    let context = Context { store, catalog: &catalog, settings };
    let request = Request { sender, text, audience: Audience::Private, room: None, now: seed::now() };
    answer(&context, &request).await.map(|reply| reply.markdown).unwrap_or_default()
}

#[tokio::test]
async fn a_sent_release_is_one_register_entry_and_one_mail_per_newsroom_held_until_the_embargo() {
    let (store, _url, _guard) = seed::seeded_store().await;
    let settings = seed::settings();
    say(&store, &settings, seed::IRO_OFFICER, "!press draft Erasmus+ week").await;
    say(&store, &settings, seed::IRO_MANAGER, "!press approve 1").await;
    let reply = say(&store, &settings, seed::IRO_OFFICER, "!press send 1 embargo=2026-12-03T10:00").await;
    let embargo = Utc.with_ymd_and_hms(2026, 12, 3, 6, 0, 0).unwrap();

    let release = store.press().find(1).await.unwrap().expect("release 1");
    let number = release.out_number.clone().unwrap_or_else(|| panic!("not sent: {reply}"));
    assert_eq!(release.embargo, Some(embargo));
    let document = store.document(&number).await.unwrap();
    assert_eq!((document.direction.as_str(), document.unit.as_str()), ("outgoing", "international"));
    assert!(document.subject.contains("Erasmus+ week"), "{}", document.subject);
    let newsrooms: BTreeSet<String> =
        ["desk@caspianwire.example", "jan.peeters@eurocampus.example", "news@eurocampus.example"].map(String::from).into();
    assert_eq!(document.to.iter().map(|c| c.address.clone()).collect::<BTreeSet<_>>(), newsrooms);
    let history = document.history.unwrap_or_default();
    assert!(
        history
            .iter()
            .any(|h| h.action == "press-release" && h.reason.as_deref().is_some_and(|r| r.contains("press release 1, version 1"))),
        "{history:?}"
    );

    let mails: Vec<_> = store.outbox().list().await.unwrap().into_iter().filter(|m| m.document_id == Some(document.id)).collect();
    assert_eq!(mails.iter().map(|m| m.recipients.len()).collect::<Vec<_>>(), vec![1, 1, 1], "each newsroom its own copy");
    assert_eq!(mails.iter().map(|m| m.recipients[0].clone()).collect::<BTreeSet<_>>(), newsrooms);
    assert!(mails.iter().all(|m| m.status == "pending" && m.next_attempt_at == chancery::core::time::stamp(embargo)));

    let lease = Duration::minutes(5);
    assert!(
        store.outbox().claim_due(embargo - Duration::minutes(1), 10, lease).await.unwrap().is_empty(),
        "nothing goes before the embargo"
    );
    assert_eq!(store.outbox().claim_due(embargo, 10, lease).await.unwrap().len(), 3);
    store.close().await;
}

#[tokio::test]
async fn with_mail_switched_off_an_approved_release_is_neither_registered_nor_sent() {
    let (store, _url, _guard) = seed::seeded_store().await;
    let mut settings = seed::settings();
    settings.press.mail_enabled = false;
    say(&store, &settings, seed::IRO_OFFICER, "!press draft Erasmus+ week").await;
    say(&store, &settings, seed::IRO_MANAGER, "!press approve 1").await;
    let reply = say(&store, &settings, seed::IRO_OFFICER, "!press send 1").await;
    assert!(reply.contains("Mail is switched off"), "{reply}");
    let release = store.press().find(1).await.unwrap().expect("release 1");
    assert_eq!((release.status.as_str(), release.out_number), ("approved", None));
    assert!(store.outbox().list().await.unwrap().is_empty());
    store.close().await;
}
