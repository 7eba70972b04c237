//! Chat tests against a real homeserver: the dev Synapse from `scripts/dev-services`, with real
//! matrix-sdk clients (tests/support/matrix.rs) on both sides, end-to-end encryption included.

mod seed;
mod support;

use std::time::Duration;

use chancery::core::confidentiality::Confidentiality;
use chancery::core::viewer::{Role, StaffMember};
use matrix_sdk::ruma::events::room::member::MembershipState;
use support::assistant::Bot;
use support::matrix::{PrivateSynapse, ReceivedMessage, TestClient, register_user};

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn messages_in_an_encrypted_room_reach_the_other_member_decrypted() {
    let (alice_id, alice_password) = register_user("alice");
    let (bob_id, bob_password) = register_user("bob");
    let alice = TestClient::login(&alice_id, &alice_password).await;
    let bob = TestClient::login(&bob_id, &bob_password).await;

    let room = alice.create_room(true, &[&bob_id]).await;
    bob.join(&room).await;
    assert!(alice.wait_until_joined(&room, &bob_id, WAIT).await, "alice never saw bob join");

    // Both ways, as a person and the assistant will talk: each waits for the other's answer.
    let mark = alice.last_event_id(&room).await;
    let ready = bob.send_text(&room, "ready").await;
    let seen = alice.next_reply(&room, &bob_id, &mark, WAIT).await;
    assert_eq!(seen.expect("alice received bob's message").body, "ready");

    let hello = alice.send_text(&room, "hello").await;
    let received = bob.next_reply(&room, &alice_id, &ready, WAIT).await.expect("bob received alice's message");
    assert_eq!(received.body, "hello");
    assert_eq!(received.event_id, hello);
    assert!(received.was_encrypted, "the message went unencrypted");
    assert_eq!(received.in_reply_to, None);
}

// ---- The assistant on the real homeserver ----

/// A staff member of the directory, with a real account on the homeserver.
async fn staff_member(store: &chancery::store::Store, tag: &str, unit: &str, role: Role, clearance: Confidentiality) -> TestClient {
    let (id, password) = register_user(tag);
    let member = StaffMember { id: id.clone(), name: format!("Test {tag}"), unit: unit.into(), role, clearance };
    store.staff().put(&member, "test", chrono::Utc::now()).await.expect("add to the staff directory");
    TestClient::login(&id, &password).await
}

/// What the bot answers to `text`, said by `client` in `room`.
async fn ask(
    client: &TestClient,
    room: &matrix_sdk::ruma::RoomId,
    bot: &str,
    text: &str,
) -> (matrix_sdk::ruma::OwnedEventId, ReceivedMessage) {
    let asked = client.send_text(room, text).await;
    let reply = client.next_reply(room, bot, &asked, WAIT).await.unwrap_or_else(|| panic!("no answer to {text:?} within {WAIT:?}"));
    (asked, reply)
}

/// Asks `!ping` until the assistant answers: after a (re)start it answers only what is said
/// after its first sync.
async fn until_online(client: &TestClient, room: &matrix_sdk::ruma::RoomId, bot: &str) -> ReceivedMessage {
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        let asked = client.send_text(room, "!ping").await;
        if let Some(reply) = client.next_reply(room, bot, &asked, Duration::from_secs(3)).await {
            return reply;
        }
    }
    panic!("the assistant did not come back within {WAIT:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assistant_answers_staff_in_a_shared_room_redacts_there_and_refuses_strangers() {
    let (store, _url, _guard) = seed::seeded_store().await;
    let bot = Bot::register();
    let assistant = bot.serve(&store);
    let registrar = staff_member(&store, "registrar", "registry", Role::Registrar, Confidentiality::Confidential).await;
    let (stranger_id, stranger_password) = register_user("stranger");
    let stranger = TestClient::login(&stranger_id, &stranger_password).await;

    let room = registrar.create_room(false, &[&bot, &stranger_id]).await;
    stranger.join(&room).await;
    assert!(registrar.wait_until_joined(&room, &bot, WAIT).await, "the bot accepts a staff member's invite");

    let (asked, reply) = ask(&registrar, &room, &bot, "!ping").await;
    assert!(reply.body.contains("pong"), "{reply:?}");
    assert_eq!(reply.in_reply_to.as_ref(), Some(&asked), "the answer is a reply to the question");

    // Three people read this room: a confidential letter shows only what anyone may see.
    let (_, card) = ask(&registrar, &room, &bot, "Any news on IN-2026-000002?").await;
    assert!(card.body.contains("IN-2026-000002"), "{card:?}");
    assert!(!card.body.contains("Personal file"), "no confidential subject in a shared room: {card:?}");
    assert!(card.body.contains("direct message"), "the cleared are told where to ask: {card:?}");

    let (_, table) = ask(&registrar, &room, &bot, "!help").await;
    assert!(table.formatted_body.as_deref().is_some_and(|html| html.contains("<table>")), "lists are tables: {table:?}");

    let (_, refusal) = ask(&stranger, &room, &bot, "!docs search erasmus").await;
    assert!(refusal.body.contains("staff directory") && !refusal.body.contains("IN-2026"), "{refusal:?}");

    // A stranger's invite is declined.
    let theirs = stranger.create_room(false, &[&bot]).await;
    assert!(stranger.wait_until_membership(&theirs, &bot, MembershipState::Leave, WAIT).await, "the bot declines a stranger's invite");

    assistant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_assistant_answers_in_an_encrypted_direct_chat_across_a_restart() {
    let (store, url, _guard) = seed::seeded_store().await;
    let bot = Bot::register();
    let assistant = bot.serve(&store);
    let hr = staff_member(&store, "hr", "hr", Role::Staff, Confidentiality::Confidential).await;

    let room = hr.create_dm(&bot, true).await;
    assert!(hr.wait_until_joined(&room, &bot, WAIT).await, "the bot joins the encrypted direct chat");
    let (first, pong) = ask(&hr, &room, &bot, "!ping").await;
    assert!(pong.body.contains("pong"), "the bot read and answered an encrypted question: {pong:?}");
    assert_eq!(pong.in_reply_to.as_ref(), Some(&first));

    // A restart: the same device, the same keys, and the first question is not answered again.
    assistant.stop().await;
    let store = chancery::store::Store::open(&url, chrono_tz::Asia::Baku, chancery::store::OpenMode::Existing).await.expect("reopen");
    let assistant = bot.serve(&store);
    // What is said before its first sync is not answered: ask until it is back.
    let back = until_online(&hr, &room, &bot).await;
    let first_after_restart = hr.next_reply(&room, &bot, &pong.event_id, WAIT).await.expect("the answers after the restart");
    assert_ne!(first_after_restart.in_reply_to.as_ref(), Some(&first), "the first question is not answered again");
    let (second, card) = ask(&hr, &room, &bot, "!doc IN-2026-000002").await;
    assert_eq!(card.in_reply_to.as_ref(), Some(&second), "{card:?}");
    assert!(back.body.contains("pong"));
    assert!(card.body.contains("Personal file"), "HR's officer, cleared and in a direct chat, sees the subject: {card:?}");
    let after = hr.next_reply(&room, &bot, &card.event_id, Duration::from_secs(3)).await;
    assert!(after.is_none(), "one answer per question: {after:?}");

    let history = store.document("IN-2026-000002").await.expect("document").history.unwrap_or_default();
    assert!(history.iter().any(|h| h.action == "disclosed" && h.actor == hr.user_id().as_str()), "the disclosure is in the history");
    assistant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letter_routed_with_notify_room_is_announced_once_in_the_room_bound_to_its_unit() {
    let (store, _url, _guard) = seed::seeded_store().await;
    let bot = Bot::register();
    let assistant = bot.serve(&store);
    let registrar = staff_member(&store, "registrar", "registry", Role::Registrar, Confidentiality::Confidential).await;
    let room = registrar.create_room(false, &[&bot]).await;
    assert!(registrar.wait_until_joined(&room, &bot, WAIT).await);
    let (_, bound) = ask(&registrar, &room, &bot, "!room bind international").await;
    assert!(bound.body.contains("international"), "{bound:?}");

    let raw = b"From: Partner Office <office@metu.edu.tr>\r\nTo: registry@uni.example\r\nSubject: Erasmus+ staff mobility week\r\n\
                Message-ID: <card-test@metu.edu.tr>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0400\r\n\r\nInvitation.\r\n";
    // As `serve` registers when the assistant runs: routing's room cards are written.
    let policy = chancery::core::intake::IntakePolicy { notify_rooms: true, ..support::shipped_policy() };
    let number = seed::register(&store, &policy, raw, chrono::Utc::now()).await;
    let card = registrar.next_reply(&room, &bot, &bound.event_id, WAIT).await.expect("the unit's room gets a card");
    assert!(card.body.contains(&number) && card.body.contains("Erasmus+ staff mobility week"), "{card:?}");
    let again = registrar.next_reply(&room, &bot, &card.event_id, Duration::from_secs(3)).await;
    assert!(again.is_none(), "one card per letter: {again:?}");
    assistant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_reaches_its_person_in_a_direct_message_the_bot_opens() {
    let (store, _url, _guard) = seed::seeded_store().await;
    let bot = Bot::register();
    let officer = staff_member(&store, "officer", "international", Role::Manager, Confidentiality::Internal).await;
    let officer_id = officer.user_id().to_string();
    let assistant = bot.serve(&store);
    // Due in two seconds: the scheduler of `serve` fires it into the room outbox, and the
    // assistant opens a direct message (encrypted) with the officer to post it.
    let now = chrono::Utc::now();
    let id = store
        .reminders()
        .add_personal(&officer_id, &officer_id, now + chrono::Duration::seconds(2), "call the embassy about the visa", now)
        .await
        .expect("reminder");
    let room = officer.accept_invite_from(&bot, WAIT).await.expect("the bot invites the officer to a direct message");
    let reminder = officer.find_message(&room, &bot, "call the embassy", WAIT).await.expect("the reminder arrives");
    assert!(reminder.body.contains(&format!("Reminder {id}")), "{reminder:?}");
    assert!(reminder.was_encrypted, "a direct message the bot opens is encrypted");
    // The seeded letters' reminders reach the officer (a manager of the office) in the same room.
    let posted = store.room_messages().list().await.expect("room outbox");
    let mine: Vec<_> = posted.iter().filter(|m| m.markdown.contains("call the embassy")).collect();
    assert_eq!(mine.len(), 1, "{posted:?}");
    assert_eq!(mine[0].status, "sent");
    let to_officer = posted.iter().filter(|m| m.target.as_str() == officer_id).count();
    assert!(to_officer > 1, "the seeded letters' reminders go to the office's manager too: {posted:?}");
    assert!(officer.accept_invite_from(&bot, Duration::from_secs(3)).await.is_none(), "one direct message room, not one per message");
    assistant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_register_answer_each_question_once() {
    let (store, _url, _guard) = seed::seeded_store().await;
    let bot = Bot::register();
    let second_device = bot.another_device();
    // Two devices of the same bot, as two `chancery serve` on one PostgreSQL run it.
    let first = bot.serve(&store);
    let second = second_device.serve(&store);
    let registrar = staff_member(&store, "registrar", "registry", Role::Registrar, Confidentiality::Confidential).await;
    let room = registrar.create_room(false, &[&bot]).await;
    assert!(registrar.wait_until_joined(&room, &bot, WAIT).await);
    until_online(&registrar, &room, &bot).await;
    // Both answer from their first sync on; give the slower one the time to get there.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for question in ["!ping", "!doc IN-2026-000001", "!visa list"] {
        let (asked, reply) = ask(&registrar, &room, &bot, question).await;
        assert_eq!(reply.in_reply_to.as_ref(), Some(&asked), "{reply:?}");
        let second_reply = registrar.next_reply(&room, &bot, &reply.event_id, Duration::from_secs(3)).await;
        assert!(second_reply.is_none(), "{question} was answered twice: {second_reply:?}");
    }
    first.stop().await;
    second.stop().await;
}

// ---- Answering at once, in order, through failures ----

/// A staff member's own room with the bot, joined by the bot.
async fn room_with_bot(store: &chancery::store::Store, tag: &str, bot: &str) -> (TestClient, matrix_sdk::ruma::OwnedRoomId) {
    let person = staff_member(store, tag, "registry", Role::Registrar, Confidentiality::Confidential).await;
    let room = person.create_room(false, &[bot]).await;
    assert!(person.wait_until_joined(&room, bot, WAIT).await, "the bot joins {tag}'s room");
    (person, room)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_questions_from_three_people_is_answered_once_each_in_order_per_room() {
    let (store, _url, _guard) = seed::seeded_store().await;
    let bot = Bot::register();
    let assistant = bot.serve(&store);
    let (first, first_room) = room_with_bot(&store, "first", &bot).await;
    let (second, second_room) = room_with_bot(&store, "second", &bot).await;
    let (third, third_room) = room_with_bot(&store, "third", &bot).await;
    for (person, room) in [(&first, &first_room), (&second, &second_room), (&third, &third_room)] {
        until_online(person, room, &bot).await;
    }
    let questions = ["!ping", "!doc IN-2026-000001", "!docs search erasmus", "!help doc", "!visa list", "!ping"];
    // Everyone asks everything at once, without waiting for an answer.
    let asked = futures::future::join_all([(&first, &first_room), (&second, &second_room), (&third, &third_room)].map(
        |(person, room)| async move {
            let mut ids = Vec::new();
            for question in questions {
                ids.push(person.send_text(room, question).await);
            }
            ids
        },
    ))
    .await;
    for ((person, room), asked) in [(&first, &first_room), (&second, &second_room), (&third, &third_room)].into_iter().zip(asked) {
        let mark = asked.first().expect("asked").clone();
        let answers_one = |reply: &ReceivedMessage| reply.in_reply_to.as_ref().is_some_and(|to| asked.contains(to));
        let all_answered = |replies: &[ReceivedMessage]| replies.iter().filter(|reply| answers_one(reply)).count() >= asked.len();
        let replies: Vec<_> = person.messages_from(room, &bot, all_answered, WAIT).await.into_iter().filter(answers_one).collect();
        // A second answer to any of them would come right behind: look once more.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let replies_later: Vec<_> = person.messages_from(room, &bot, |_| true, WAIT).await.into_iter().filter(answers_one).collect();
        assert_eq!(replies_later.len(), replies.len(), "no question answered twice: {replies_later:#?}");
        let answered: Vec<_> = replies.iter().filter_map(|reply| reply.in_reply_to.clone()).collect();
        assert_eq!(answered, asked, "each question answered once, in the order asked (after {mark}): {replies:#?}");
    }
    assistant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_command_does_not_delay_someone_elses_ping() {
    if !cfg!(feature = "test-hooks") {
        panic!("this test needs the slow test command: build with --features test-hooks (scripts/test does)");
    }
    let (store, _url, _guard) = seed::seeded_store().await;
    let bot = Bot::register();
    let assistant = bot.serve(&store);
    let (slow, slow_room) = room_with_bot(&store, "slow", &bot).await;
    let (quick, quick_room) = room_with_bot(&store, "quick", &bot).await;
    until_online(&slow, &slow_room, &bot).await;
    until_online(&quick, &quick_room, &bot).await;

    let slow_question = slow.send_text(&slow_room, "!test-slow 8000").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let (_, pong) = ask(&quick, &quick_room, &bot, "!ping").await;
    let ping_took = started.elapsed();
    assert!(pong.body.contains("pong"), "{pong:?}");
    assert!(ping_took < Duration::from_secs(4), "the ping waited for the slow command: {ping_took:?}");
    let slept = slow.next_reply(&slow_room, &bot, &slow_question, WAIT).await.expect("the slow command is answered too");
    assert!(slept.body.contains("slept 8000 ms"), "{slept:?}");
    assert_eq!(slept.in_reply_to.as_ref(), Some(&slow_question));
    assistant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_that_panics_gets_an_error_id_and_the_next_question_is_answered() {
    if !cfg!(feature = "test-hooks") {
        panic!("this test needs the panicking test command: build with --features test-hooks (scripts/test does)");
    }
    let (store, _url, _guard) = seed::seeded_store().await;
    let bot = Bot::register();
    let assistant = bot.serve(&store);
    let (person, room) = room_with_bot(&store, "person", &bot).await;
    until_online(&person, &room, &bot).await;

    let (asked, reply) = ask(&person, &room, &bot, "!test-panic").await;
    assert_eq!(reply.in_reply_to.as_ref(), Some(&asked));
    assert!(reply.body.contains("Something went wrong on my side") && reply.body.contains("error id"), "{reply:?}");
    let (_, pong) = ask(&person, &room, &bot, "!ping").await;
    assert!(pong.body.contains("pong"), "the assistant goes on answering: {pong:?}");
    assistant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_who_left_the_direct_chat_gets_the_next_reminder_in_a_new_one() {
    let (store, _url, _guard) = seed::seeded_store().await;
    let bot = Bot::register();
    let officer = staff_member(&store, "officer", "registry", Role::Staff, Confidentiality::Internal).await;
    let officer_id = officer.user_id().to_string();
    let assistant = bot.serve(&store);
    let now = chrono::Utc::now();
    store
        .reminders()
        .add_personal(&officer_id, &officer_id, now + chrono::Duration::seconds(2), "first reminder", now)
        .await
        .expect("reminder");
    let first_room = officer.accept_invite_from(&bot, WAIT).await.expect("the bot opens a direct chat");
    officer.find_message(&first_room, &bot, "first reminder", WAIT).await.expect("the first reminder arrives");

    officer.leave(&first_room).await;
    // The bot sees the leave in its next sync.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let now = chrono::Utc::now();
    store
        .reminders()
        .add_personal(&officer_id, &officer_id, now + chrono::Duration::seconds(1), "second reminder", now)
        .await
        .expect("reminder");
    let second_room = officer.accept_invite_from(&bot, WAIT).await.expect("the bot opens a new direct chat, without a restart");
    assert_ne!(second_room, first_room);
    let second =
        officer.find_message(&second_room, &bot, "second reminder", WAIT).await.expect("the second reminder arrives in the new room");
    assert!(second.body.contains("second reminder"));
    assistant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_asked_as_the_homeserver_comes_back_is_answered_once_without_logging_in_again() {
    // Its own Synapse: restarting the shared one would disturb every other Matrix test.
    let synapse = PrivateSynapse::start("synapse-restart", 18308);
    let (store, _url, _guard) = seed::seeded_store().await;
    let bot = Bot::register_on(&synapse);
    let (person_id, person_password) = synapse.register_user("person");
    let member = StaffMember {
        id: person_id.clone(),
        name: "Test person".into(),
        unit: "registry".into(),
        role: Role::Registrar,
        clearance: Confidentiality::Internal,
    };
    store.staff().put(&member, "test", chrono::Utc::now()).await.expect("staff");
    let assistant = bot.serve(&store);
    let person = TestClient::login_at(&synapse.url, &person_id, &person_password).await;
    let room = person.create_room(false, &[&bot]).await;
    assert!(person.wait_until_joined(&room, &bot, WAIT).await);
    until_online(&person, &room, &bot).await;
    let session = std::fs::read(bot.state().join("matrix/session.json")).expect("the bot's saved session");

    synapse.stop();
    // Long enough for the assistant to fail a sync or two and back off.
    tokio::time::sleep(Duration::from_secs(4)).await;
    synapse.start_again();
    // At once, before the assistant's next attempt: it must be answered when the assistant is back.
    let asked = person.send_text(&room, "!ping").await;
    let reply = person.next_reply(&room, &bot, &asked, WAIT).await.expect("the question asked as the homeserver came back is answered");
    assert_eq!(reply.in_reply_to.as_ref(), Some(&asked), "{reply:?}");
    assert!(reply.body.contains("pong"));
    let again = person.next_reply(&room, &bot, &reply.event_id, Duration::from_secs(3)).await;
    assert!(again.is_none(), "answered once: {again:?}");
    let after = std::fs::read(bot.state().join("matrix/session.json")).expect("the bot's saved session");
    assert_eq!(after, session, "a homeserver that was away is not a refused session: the bot did not log in again");
    assistant.stop().await;
}

/// A sender's HTML, links and bold reach the unit's room and `!doc` as text, through the real
/// homeserver: the card's and the reply's HTML show the subject with none of its markup, and
/// their plain bodies show it as written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_subject_reaches_the_room_card_and_doc_as_text_without_links_or_bold() {
    const SUBJECT: &str =
        r#"Erasmus+ invoice <a href="https://evil.example/login">sign in</a> [pay now](https://evil.example/pay) **URGENT**"#;
    let (store, _url, _guard) = seed::seeded_store().await;
    let bot = Bot::register();
    let assistant = bot.serve(&store);
    let registrar = staff_member(&store, "registrar", "registry", Role::Registrar, Confidentiality::Confidential).await;
    let room = registrar.create_room(false, &[&bot]).await;
    assert!(registrar.wait_until_joined(&room, &bot, WAIT).await);
    let (_, bound) = ask(&registrar, &room, &bot, "!room bind international").await;
    assert!(bound.body.contains("international"), "{bound:?}");

    let raw = format!(
        "From: \"**Bank** [verify](https://evil.example/verify)\" <office@metu.edu.tr>\r\nTo: registry@uni.example\r\n\
         Subject: {SUBJECT}\r\nMessage-ID: <hostile-card-test@metu.edu.tr>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0400\r\n\r\nPay.\r\n"
    );
    let policy = chancery::core::intake::IntakePolicy { notify_rooms: true, ..support::shipped_policy() };
    let number = seed::register(&store, &policy, raw.as_bytes(), chrono::Utc::now()).await;
    let card = registrar.next_reply(&room, &bot, &bound.event_id, WAIT).await.expect("the unit's room gets a card");
    let (_, doc) = ask(&registrar, &room, &bot, &format!("!doc {number}")).await;
    let shown = SUBJECT.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    for (what, message) in [("card", &card), ("!doc", &doc)] {
        let html = message.formatted_body.as_deref().unwrap_or_else(|| panic!("the {what} is formatted: {message:?}"));
        // The subject's `href="…login"` is shown as text; a link would carry these as attributes.
        let links = ["href=\"https://evil.example/pay\"", "href=\"https://evil.example/verify\""];
        for markup in ["<a", "<strong>URGENT", "<strong>Bank", "<b>", "<img"].iter().chain(&links) {
            assert!(!html.contains(markup), "{markup} in the {what}'s HTML: {html}");
        }
        assert!(html.contains(&shown), "the {what} shows the subject as text: {html}");
        assert!(html.contains(&format!("<strong>{number}</strong>")), "our own bold stays: {html}");
        assert!(message.body.contains(SUBJECT), "the {what}'s plain body shows the subject as written: {}", message.body);
    }

    assistant.stop().await;
}
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_rule_file_reaches_the_admin_room_when_imap_is_off() {
    let (store, _url, _guard) = seed::seeded_store().await;
    let bot = Bot::register();
    let registrar = staff_member(&store, "admin", "registry", Role::Admin, Confidentiality::Confidential).await;
    // The admin room exists before `serve` starts; the bot accepts its invite when it comes up.
    let admin_room = registrar.create_room(false, &[&bot]).await;
    let rules = tempfile::tempdir().expect("temp dir");
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mail-rules");
    for entry in std::fs::read_dir(&shipped).expect("mail-rules").flatten() {
        if entry.path().extension().is_some_and(|ext| ext == "toml") {
            std::fs::copy(entry.path(), rules.path().join(entry.file_name())).expect("copy a rule file");
        }
    }
    let rules_dir = rules.path().to_path_buf();
    let admin = admin_room.to_string();
    let assistant = bot.serve_with(&store, |config| {
        assert!(!config.imap.enabled, "IMAP is off in this test");
        config.rules.dir = rules_dir;
        config.matrix.admin_room = Some(admin);
    });
    assert!(registrar.wait_until_joined(&admin_room, &bot, WAIT).await, "the bot joins the admin room");

    let file = rules.path().join("20-international.toml");
    let original = std::fs::read_to_string(&file).expect("read");
    // Written again until told: the watcher's first look at the folder may come after a write.
    let mark = registrar.last_event_id(&admin_room).await;
    let deadline = std::time::Instant::now() + WAIT;
    let mut told = None;
    for n in 0.. {
        std::fs::write(&file, format!("{original}\n[[rule]]\nname = \"Broken\"\nunti = \"international\"\n# edit {n}\n"))
            .expect("break the file");
        told = registrar.next_reply(&admin_room, &bot, &mark, Duration::from_secs(2)).await;
        if told.is_some() || std::time::Instant::now() > deadline {
            break;
        }
    }
    let told = told.expect("the admin room is told of the broken rule file although IMAP is off");
    assert!(told.body.contains("20-international.toml"), "{told:?}");
    assistant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_meetings_pack_is_not_sent() {
    let (store, _url, _guard) = support::fresh_store().await;
    let bot = Bot::register();
    let manager = staff_member(&store, "manager", "international", Role::Manager, Confidentiality::Internal).await;
    let manager_id = manager.user_id().to_string();
    let assistant = bot.serve(&store);
    let room = manager.create_room(false, &[&bot]).await;
    assert!(manager.wait_until_joined(&room, &bot, WAIT).await);
    until_online(&manager, &room, &bot).await;

    // Two meetings a day and 15 seconds ahead: their packs are due in 15 seconds. One is called
    // off; the other's pack shows that the scheduler got past that time.
    let now = chrono::Utc::now();
    let meeting = |title: &str| chancery::store::NewMeeting {
        title: title.into(),
        starts_at: now + chrono::Duration::days(1) + chrono::Duration::seconds(15),
        participants: vec![manager_id.clone()],
    };
    let called_off =
        store.meetings().add(&support::reminder_policy(), &meeting("Called-off review"), &manager_id, now).await.expect("meeting");
    store.meetings().add(&support::reminder_policy(), &meeting("Kept review"), &manager_id, now).await.expect("meeting");

    let (_, reply) = ask(&manager, &room, &bot, &format!("!meeting cancel {called_off} the chair is ill")).await;
    assert!(reply.body.contains(&format!("Meeting {called_off} (Called-off review) is cancelled")), "{reply:?}");
    let direct = manager.accept_invite_from(&bot, WAIT).await.expect("the bot opens a direct message to tell the participant");
    let told = manager.find_message(&direct, &bot, "is **cancelled**", WAIT).await.expect("the participant is told");
    assert!(told.body.contains("Called-off review") && told.body.contains("the chair is ill"), "{told:?}");

    let kept = manager.find_message(&direct, &bot, "agenda pack for **Kept review", Duration::from_secs(60)).await;
    assert!(kept.is_some(), "the other meeting's pack arrives when its time comes");
    let sent = manager.find_message(&direct, &bot, "agenda pack for **Called-off review", Duration::from_secs(3)).await;
    assert!(sent.is_none(), "the cancelled meeting's pack is never sent: {sent:?}");
    let posted = store.room_messages().list().await.expect("room outbox");
    assert!(!posted.iter().any(|m| m.markdown.contains("agenda pack for **Called-off review")), "{posted:?}");
    assert_eq!(store.meetings().pack_due(called_off).await.unwrap(), None);
    assistant.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_due_date_moves_the_reminder() {
    use chancery::core::remind::Kind;
    let (store, _url, _guard) = support::fresh_store().await;
    let bot = Bot::register();
    let manager = staff_member(&store, "manager", "international", Role::Manager, Confidentiality::Internal).await;
    let raw = b"From: Partner Office <office@metu.edu.tr>\r\nTo: registry@uni.example\r\nSubject: Erasmus+ nominations for autumn\r\n\
                Message-ID: <due-move@metu.edu.tr>\r\nDate: Tue, 1 Dec 2026 10:00:00 +0400\r\n\r\nNominations.\r\n";
    let number = seed::register(&store, &support::shipped_policy(), raw, chrono::Utc::now()).await;
    let letter = store.document(&number).await.expect("registered");
    assert_eq!(letter.unit, "international");
    let letter_id = letter.id;
    let due_reminder = |store: chancery::store::Store| async move {
        let active = store.reminders().of_subject(&[Kind::LetterDue], letter_id).await.expect("reminders");
        assert_eq!(active.len(), 1, "{active:?}");
        (active[0].reminder.id, active[0].reminder.due_at, active[0].reminder.deadline.expect("a date"))
    };
    let (old_id, _, old_date) = due_reminder(store.clone()).await;
    let new_date = old_date + chrono::Duration::days(14);
    let about_the_letter = |store: chancery::store::Store| async move {
        let posted = store.room_messages().list().await.expect("room outbox");
        posted.into_iter().filter(|m| m.markdown.contains("the letter is due on")).map(|m| m.markdown).collect::<Vec<_>>()
    };

    let assistant = bot.serve(&store);
    let room = manager.create_room(false, &[&bot]).await;
    assert!(manager.wait_until_joined(&room, &bot, WAIT).await);
    until_online(&manager, &room, &bot).await;
    // Days are too long for a test: the reminder of the old date is brought to 15 seconds from
    // now, so that the running scheduler would fire it then if it were not moved.
    let old_time = chrono::Utc::now() + chrono::Duration::seconds(15);
    store.reminders().snooze(old_id, old_time).await.expect("the old reminder, soon");

    let (_, reply) = ask(&manager, &room, &bot, &format!("!doc due {number} {new_date} reason=\"the partner asked\"")).await;
    assert!(reply.body.contains(&format!("{number} is now due on {new_date} (it was {old_date})")), "{reply:?}");
    let (new_id, new_time, moved_to) = due_reminder(store.clone()).await;
    assert_eq!(moved_to, new_date);
    let expected =
        chancery::core::remind::Policy::new(chrono_tz::Asia::Baku).next_firing(Kind::LetterDue, None, new_date, chrono::Utc::now());
    assert_eq!(Some(new_time), expected, "two working days before the new date, at the office's hour");

    // The old time passes: nothing is said of the letter.
    let wait = (old_time - chrono::Utc::now()).to_std().unwrap_or_default() + Duration::from_secs(3);
    tokio::time::sleep(wait).await;
    assert!(about_the_letter(store.clone()).await.is_empty(), "nothing at the old time");
    assert!(manager.accept_invite_from(&bot, Duration::from_secs(2)).await.is_none(), "no direct message at the old time");

    // The new time, brought near in the same way: the manager hears of the new date.
    store.reminders().snooze(new_id, chrono::Utc::now() + chrono::Duration::seconds(2)).await.expect("the new reminder, soon");
    let direct = manager.accept_invite_from(&bot, WAIT).await.expect("the bot opens a direct message");
    let reminder = manager.find_message(&direct, &bot, "the letter is due on", WAIT).await.expect("the reminder arrives");
    assert!(reminder.body.contains(&format!("the letter is due on {new_date}")) && reminder.body.contains(&number), "{reminder:?}");
    let old = manager.find_message(&direct, &bot, &format!("the letter is due on {old_date}"), Duration::from_secs(3)).await;
    assert!(old.is_none(), "never the old date: {old:?}");
    assert_eq!(about_the_letter(store.clone()).await.len(), 1);
    assistant.stop().await;
}
