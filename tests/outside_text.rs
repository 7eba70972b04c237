//! What senders write never becomes markup in the assistant's messages, on the backend under
//! test: a letter whose subject and sender's name carry raw HTML, links and bold comes out of
//! `!doc`, `!docs search`, its room card, a reminder and the weekly digest as text. Each message
//! is checked as the Matrix adapter sends it: the HTML clients render (no link, no tag, no bold
//! the sender wrote) and the plain body (the text as written, without backslashes).

mod seed;
mod support;

use chancery::commands::{Catalog, Context, Request, answer};
use chancery::core::announce::RoomTarget;
use chancery::core::digest::Window;
use chancery::core::intake::IntakePolicy;
use chancery::core::viewer::Audience;
use chancery::core::visa::Trip;
use chancery::matrix::content::message_content;
use chancery::store::Store;
use chrono::{Duration, NaiveDate};
use matrix_sdk::ruma::events::room::message::MessageType;

/// The issue's subject, behind words the shipped rules route to International Relations (whose
/// rule says `notify_room` and stops there).
const SUBJECT: &str = r#"Erasmus+ invoice <a href="https://evil.example/login">sign in</a> [pay now](https://evil.example/pay) **URGENT**"#;
const SENDER_NAME: &str = "**Bank** [verify](https://evil.example/verify)";

/// What no message may carry from the sender: tags, links, emphasis, headings.
/// (The subject's `href="…login"` is shown as text; a link would carry the other addresses as
/// attributes.)
const MARKUP: &[&str] =
    &["<a", "href=\"https://evil.example/pay\"", "href=\"https://evil.example/verify\"", "<strong>URGENT", "<strong>Bank", "<img", "<h1"];

/// The body and the HTML of a message as the Matrix adapter would send it.
fn as_sent(markdown: &str) -> (String, String) {
    let content = message_content(markdown);
    let MessageType::Notice(notice) = content.msgtype else { panic!("not a notice: {:?}", content.msgtype) };
    (notice.body, notice.formatted.map(|formatted| formatted.body).unwrap_or_default())
}

/// The message shows `text` as written and carries none of its markup.
fn assert_shown_as_text(what: &str, markdown: &str, text: &str) {
    let (body, html) = as_sent(markdown);
    for markup in MARKUP {
        assert!(!html.contains(markup), "{what}: {markup} in the HTML:\n{html}");
    }
    assert!(body.contains(text), "{what}: the body lacks {text:?}:\n{body}");
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    assert!(html.contains(&escaped), "{what}: the HTML does not show {text:?} as text:\n{html}");
}

fn hostile_letter() -> Vec<u8> {
    format!(
        "From: \"{SENDER_NAME}\" <a.kaya@metu.edu.tr>\r\nTo: registry@uni.example\r\nSubject: {SUBJECT}\r\n\
         Message-ID: <{}@metu.edu.tr>\r\nDate: Mon, 30 Nov 2026 10:00:00 +0400\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPay.\r\n",
        support::unique("hostile")
    )
    .into_bytes()
}

/// The seeded store with the hostile letter registered as the rules route it, rooms told.
async fn store_with_hostile_letter() -> (Store, String, Option<tempfile::TempDir>, String) {
    let (store, url, guard) = seed::seeded_store().await;
    let policy = IntakePolicy { notify_rooms: true, ..support::shipped_policy() };
    let at = seed::now() - Duration::days(1);
    let number = seed::register(&store, &policy, &hostile_letter(), at).await;
    store.index_queued().await.expect("indexed");
    (store, url, guard, number)
}

async fn ask(store: &Store, text: &str) -> String {
    let catalog = Catalog::load(&seed::manifest_dir().join("commands")).expect("commands load");
    let settings = seed::settings();
    let context = Context { store, catalog: &catalog, settings: &settings };
    let request = Request { sender: seed::REGISTRAR, text, audience: Audience::Private, room: None, now: seed::now() };
    answer(&context, &request).await.map(|reply| reply.markdown).unwrap_or_default()
}

#[tokio::test]
async fn a_hostile_subject_is_text_in_doc_docs_search_and_the_room_card() {
    let (store, _url, _guard, number) = store_with_hostile_letter().await;
    let document = store.document(&number).await.expect("document");
    assert_eq!(document.subject, SUBJECT, "the register keeps the subject as it came");

    let card = ask(&store, &format!("!doc {number}")).await;
    assert_shown_as_text("!doc", &card, SUBJECT);
    assert_shown_as_text("!doc", &card, &format!("{SENDER_NAME} <a.kaya@metu.edu.tr>"));
    assert!(as_sent(&card).1.contains(&format!("<strong>{number}</strong>")), "our own bold stays: {card}");

    let found = ask(&store, "!docs search invoice").await;
    assert!(found.contains(&number), "{found}");
    assert_shown_as_text("!docs search", &found, SUBJECT);
    let (_, html) = as_sent(&found);
    assert!(html.contains("<table>") && html.matches("<th>").count() == 7, "one table, its columns intact: {html}");

    let messages = store.room_messages().list().await.expect("room outbox");
    let cards: Vec<_> = messages.iter().filter(|m| m.document_id == Some(document.id)).collect();
    assert_eq!(cards.len(), 1, "{messages:#?}");
    assert_eq!(cards[0].target, RoomTarget::Unit("international".into()));
    assert_shown_as_text("the room card", &cards[0].markdown, SUBJECT);
    assert_shown_as_text("the room card", &cards[0].markdown, SENDER_NAME);
    store.close().await;
}

#[tokio::test]
async fn a_hostile_subject_is_text_in_the_weekly_digest() {
    let (store, _url, _guard, number) = store_with_hostile_letter().await;
    let digest = store.digests().of_unit(&support::reminder_policy(), "international", Window::ending(seed::now())).await.expect("digest");
    let message = digest.message();
    assert!(message.contains(&number), "{message}");
    assert_shown_as_text("the digest", &message, SUBJECT);
    store.close().await;
}

#[tokio::test]
async fn names_and_texts_typed_by_staff_are_text_in_reminders() {
    let (store, _url, _guard) = support::fresh_store().await;
    for member in seed::staff() {
        store.staff().put(&member, "seed", seed::now()).await.expect("staff");
    }
    let day = |text: &str| text.parse::<NaiveDate>().unwrap();
    let trip = Trip {
        traveller: SENDER_NAME.into(),
        traveller_mxid: Some(seed::IRO_OFFICER.into()),
        country: "DE".into(),
        kind: "schengen".into(),
        travel_from: day("2026-12-20"),
        travel_to: day("2026-12-28"),
        apply_by: Some(day("2026-12-16")),
        visa_expires: None,
        passport_expires: None,
    };
    store.visas().add(&support::reminder_policy(), &trip, seed::REGISTRAR, seed::now()).await.expect("case");
    let due = seed::now() + Duration::minutes(30);
    store.reminders().add_personal(seed::CLERK, seed::CLERK, due, SUBJECT, seed::now()).await.expect("personal reminder");
    store.reminders().fire_due(&support::reminder_policy(), seed::now() + Duration::days(2), 100).await.expect("fired");

    let messages = store.room_messages().list().await.expect("room outbox");
    let visa: Vec<_> = messages.iter().filter(|m| m.target == RoomTarget::Person(seed::IRO_OFFICER.into())).collect();
    assert_eq!(visa.len(), 1, "{messages:#?}");
    assert_shown_as_text("the visa reminder", &visa[0].markdown, SENDER_NAME);
    let personal: Vec<_> = messages.iter().filter(|m| m.target == RoomTarget::Person(seed::CLERK.into())).collect();
    assert_eq!(personal.len(), 1, "{messages:#?}");
    assert_shown_as_text("the personal reminder", &personal[0].markdown, SUBJECT);
    store.close().await;
}

/// `chancery chat` prints the text a person would read, not the escapes.
#[tokio::test]
async fn chancery_chat_prints_the_subject_as_it_was_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, url, _guard, number) = store_with_hostile_letter().await;
    store.close().await;
    let output = support::chancery_command(dir.path(), &url)
        .env("CHANCERY_ASSISTANT__COMMANDS_DIR", seed::manifest_dir().join("commands"))
        .args(["chat", "--as", seed::REGISTRAR, &format!("!doc {number}")])
        .output()
        .expect("run chancery chat");
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.contains(&format!("- Subject: {SUBJECT}")), "{out}");
    assert!(!out.contains('\\'), "{out}");
}
