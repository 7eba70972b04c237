//! Who hears what from `!remind`, `!abroad notify` and `!visa add`: the messages they leave in
//! the room outbox, on the backend under test (`CHANCERY_TEST_BACKEND`).

mod seed;
mod support;

use chancery::commands::{Catalog, Context, Request, Settings, answer};
use chancery::core::announce::RoomTarget;
use chancery::core::viewer::Audience;
use chancery::store::{RoomMessageRecord, Store};
use chrono::Duration;

struct Chat {
    store: Store,
    catalog: Catalog,
    settings: Settings,
    _guard: Option<tempfile::TempDir>,
}

impl Chat {
    async fn new() -> Chat {
        let (store, _url, guard) = seed::seeded_store().await;
        let catalog = Catalog::load(&seed::manifest_dir().join("commands")).unwrap_or_else(|e| panic!("{e}"));
        Chat { store, catalog, settings: seed::settings(), _guard: guard }
    }

    async fn ask(&self, sender: &str, text: &str) -> String {
        let context = Context { store: &self.store, catalog: &self.catalog, settings: &self.settings };
        let request = Request { sender, text, audience: Audience::Private, room: None, now: seed::now() };
        answer(&context, &request).await.map(|reply| reply.markdown).unwrap_or_default()
    }

    /// The room outbox's messages that contain `text`.
    async fn messages_with(&self, text: &str) -> Vec<RoomMessageRecord> {
        let all = self.store.room_messages().list().await.expect("room outbox");
        all.into_iter().filter(|message| message.markdown.contains(text)).collect()
    }
}

fn person(mxid: &str) -> RoomTarget {
    RoomTarget::Person(mxid.to_string())
}

#[tokio::test]
async fn a_personal_reminder_is_one_message_where_it_was_asked_at_its_time_and_only_once() {
    let chat = Chat::new().await;
    let reply = chat.ask(seed::IRO_OFFICER, "!remind me in 2 hours call the embassy").await;
    assert!(reply.contains("set for Tue 2026-12-01 15:00 (Asia/Baku)"), "{reply}");
    let reply = chat.ask(seed::IRO_MANAGER, "!remind @officer:uni.example in 3 hours bring the passport").await;
    assert!(reply.contains("set for"), "{reply}");
    let reply = chat.ask(seed::IRO_MANAGER, "!remind #iro:uni.example in 3 hours team meeting").await;
    assert!(reply.contains("set for"), "{reply}");

    // Before their time nothing is said.
    chat.store.reminders().fire_due(&support::reminder_policy(), seed::now() + Duration::minutes(119), 100).await.expect("fire");
    assert!(chat.messages_with("call the embassy").await.is_empty());

    chat.store.reminders().fire_due(&support::reminder_policy(), seed::now() + Duration::hours(3), 100).await.expect("fire");
    let embassy = chat.messages_with("call the embassy").await;
    assert_eq!(embassy.len(), 1, "{embassy:?}");
    assert_eq!(embassy[0].target, person(seed::IRO_OFFICER));
    let passport = chat.messages_with("bring the passport").await;
    assert_eq!(passport.len(), 1, "{passport:?}");
    assert_eq!(passport[0].target, person(seed::IRO_OFFICER));
    assert!(passport[0].markdown.contains("from @manager:uni.example"), "{}", passport[0].markdown);
    let meeting = chat.messages_with("team meeting").await;
    assert_eq!(meeting.len(), 1, "{meeting:?}");
    assert_eq!(meeting[0].target, RoomTarget::Room("#iro:uni.example".into()));

    // A personal reminder fires once.
    chat.store.reminders().fire_due(&support::reminder_policy(), seed::now() + Duration::days(3), 100).await.expect("fire");
    assert_eq!(chat.messages_with("call the embassy").await.len(), 1);
    assert_eq!(chat.messages_with("team meeting").await.len(), 1);
    let listed = chat.ask(seed::IRO_OFFICER, "!reminders").await;
    assert!(!listed.contains("call the embassy"), "{listed}");
}

#[tokio::test]
async fn abroad_notify_sends_each_traveller_on_staff_one_direct_message() {
    let chat = Chat::new().await;
    for line in [
        "!visa add @officer:uni.example country=DE kind=schengen travel=today..2026-12-10",
        "!visa add @officer:uni.example country=DE kind=national travel=today..2026-12-03",
        "!visa add \"Ayşe Yılmaz\" country=DE kind=schengen travel=today..2026-12-05",
        "!visa add @hr:uni.example country=TR kind=e-visa travel=today..2026-12-05",
    ] {
        let reply = chat.ask(seed::REGISTRAR, line).await;
        assert!(reply.contains("is open"), "{line}: {reply}");
    }
    let reply = chat.ask(seed::IRO_MANAGER, "!abroad notify DE The airports are closed today.").await;
    assert!(reply.contains("Told 1 person in DE by direct message: Orxan Officer (@officer:uni.example)."), "{reply}");
    assert!(reply.contains("Could not tell 1 person") && reply.contains("Ayşe Yılmaz (visa case 3)"), "{reply}");
    let sent = chat.messages_with("The airports are closed today.").await;
    assert_eq!(sent.iter().map(|m| m.target.clone()).collect::<Vec<_>>(), [person(seed::IRO_OFFICER)]);
    assert!(
        sent[0].markdown.contains("To everyone travelling in DE") && sent[0].markdown.contains("Leyla Əliyeva"),
        "{}",
        sent[0].markdown
    );

    // Refused, nothing is written.
    let reply = chat.ask(seed::IRO_OFFICER, "!abroad notify DE Not from staff.").await;
    assert!(reply.contains("needs the role manager"), "{reply}");
    assert!(chat.messages_with("Not from staff.").await.is_empty());
}

#[tokio::test]
async fn a_visa_case_with_a_short_passport_is_told_to_the_offices_managers() {
    let chat = Chat::new().await;
    let reply = chat
        .ask(
            seed::IRO_OFFICER,
            "!visa add @officer:uni.example country=DE kind=schengen travel=2026-12-20..2026-12-28 passport-expires=2027-03-01",
        )
        .await;
    assert!(reply.contains("The warning was sent to the office's managers (1)."), "{reply}");
    let told = chat.messages_with("Visa case 1").await;
    assert_eq!(told.iter().map(|m| m.target.clone()).collect::<Vec<_>>(), [person(seed::IRO_MANAGER)]);
    assert!(told[0].markdown.contains("the passport expires on 2027-03-01"), "{}", told[0].markdown);

    let reply = chat
        .ask(seed::IRO_OFFICER, "!visa add Tural country=DE kind=schengen travel=2026-12-20..2026-12-28 passport-expires=2030-01-01")
        .await;
    assert!(reply.contains("Visa case 2 is open") && !reply.contains("managers"), "{reply}");
    assert!(chat.messages_with("Visa case 2").await.is_empty());
}
