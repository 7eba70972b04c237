//! Meetings and their agenda packs, on the backend under test: a meeting schedules its pack in
//! the transaction that stores it; the pack registers one outgoing letter per participant with
//! an address, attaching only what each may read; composed for sending, the attachments arrive
//! byte for byte, and sent through the real Postfix they reach the participant's mailbox so.

mod seed;
mod support;

use chancery::core::announce::RoomTarget;
use chancery::core::remind::{Kind, Policy};
use chancery::smtp::{AttachedFile, compose_with_attachments};
use chancery::store::{NewMeeting, Store, StoreError};
use chrono::{DateTime, Duration, TimeZone, Utc};
use mail_parser::MimeHeaders;

const FROM: &str = "University Registry <registry@uni.example>";

/// The meeting: Thursday 2026-12-10 14:00 in Baku.
fn meeting_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 10, 10, 0, 0).unwrap()
}

const PDF: &[u8] = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";
const SHEET: &[u8] = b"PK\x03\x04\x00\x00binary\x00\xff\xfe sheet\r\nbytes\n";

/// A letter with two files (a PDF, and a spreadsheet whose name tries to be a path).
fn letter_with_files() -> Vec<u8> {
    format!(
        "From: Partner <office@partner.example>\r\nTo: registry@uni.example\r\nSubject: Budget figures for the committee\r\n\
         Message-ID: <files@partner.example>\r\nDate: Mon, 16 Nov 2026 10:00:00 +0400\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         The figures are attached.\r\n--b1\r\nContent-Type: application/pdf; name=\"figures.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"figures.pdf\"\r\n\r\n{}\r\n\
         --b1\r\nContent-Type: application/vnd.ms-excel\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"../../secret/sheet.xls\"\r\n\r\n{}\r\n--b1--\r\n",
        support::base64(PDF),
        support::base64(SHEET)
    )
    .into_bytes()
}

/// The defaults, with mail on.
fn policy() -> Policy {
    let mut policy = Policy::new(chrono_tz::Asia::Baku);
    policy.mail_from = Some(FROM.into());
    policy
}

async fn seeded() -> (Store, String, Option<tempfile::TempDir>, String) {
    let (store, url, guard) = seed::seeded_store().await;
    let number = seed::register(&store, &support::shipped_policy(), &letter_with_files(), seed::now() - Duration::days(2)).await;
    for (mxid, email) in
        [(seed::IRO_MANAGER, "leyla@uni.example"), (seed::CLERK, "kamran@uni.example"), (seed::HR_OFFICER, "hecer@uni.example")]
    {
        store.staff().set_reach(mxid, None, Some(email)).await.expect("set address");
    }
    (store, url, guard, number)
}

fn participants() -> Vec<String> {
    [seed::IRO_MANAGER, seed::CLERK, seed::HR_OFFICER, seed::IRO_OFFICER].iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn a_meeting_schedules_its_pack_and_bad_meetings_store_nothing() {
    let (store, _url, _guard, _) = seeded().await;
    let now = seed::now();
    let new = NewMeeting { title: "Erasmus committee".into(), starts_at: meeting_at(), participants: participants() };
    let id = store.meetings().add(&policy(), &new, seed::IRO_MANAGER, now).await.expect("meeting stored");
    let pending = store.reminders().of_subject(&[Kind::AgendaPack], id).await.expect("reminders");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].reminder.due_at, meeting_at() - Duration::days(1), "a day before, by the default policy");
    assert_eq!(store.meetings().pack_due(id).await.unwrap(), Some(meeting_at() - Duration::days(1)));

    // In the past, or with a stranger: refused, and nothing stored (no meeting, no reminder).
    let past = NewMeeting { starts_at: now - Duration::hours(1), ..new.clone() };
    assert!(matches!(store.meetings().add(&policy(), &past, seed::IRO_MANAGER, now).await, Err(StoreError::Refused(_))));
    let stranger = NewMeeting { participants: vec!["@nobody:uni.example".into()], ..new.clone() };
    assert!(matches!(store.meetings().add(&policy(), &stranger, seed::IRO_MANAGER, now).await, Err(StoreError::Refused(_))));
    assert_eq!(store.meetings().upcoming(now, 10).await.unwrap().len(), 1);
    assert!(matches!(store.meetings().get(id + 1).await, Err(StoreError::NotFound(_))));
    assert!(store.reminders().of_subject(&[Kind::AgendaPack], id + 1).await.unwrap().is_empty());

    // Unknown meeting, unknown document, the same document twice: nothing added.
    assert!(matches!(
        store.meetings().add_item(id + 1, seed::documents::ERASMUS, "", seed::REGISTRAR, now).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(store.meetings().add_item(id, "IN-2026-000099", "", seed::REGISTRAR, now).await, Err(StoreError::NotFound(_))));
    store.meetings().add_item(id, seed::documents::ERASMUS, "", seed::REGISTRAR, now).await.expect("added");
    assert!(matches!(store.meetings().add_item(id, seed::documents::ERASMUS, "", seed::REGISTRAR, now).await, Err(StoreError::Refused(_))));
    assert_eq!(store.meetings().agenda(id).await.unwrap().len(), 1);

    // A meeting sooner than the pack's lead time gets its pack at once.
    let soon = NewMeeting { starts_at: now + Duration::hours(3), ..new };
    let soon = store.meetings().add(&policy(), &soon, seed::IRO_MANAGER, now).await.unwrap();
    assert_eq!(store.meetings().pack_due(soon).await.unwrap(), Some(now));
    // The scheduler was down until after it began: no pack, and the organiser hears why.
    store.reminders().fire_due(&policy(), now + Duration::hours(4), 100).await.expect("fired");
    assert_eq!(store.meetings().pack_due(soon).await.unwrap(), None);
    assert!(store.outbox().list().await.unwrap().iter().all(|m| !m.mail.subject.contains("Agenda pack")));
    let messages = store.room_messages().list().await.unwrap();
    assert!(
        messages.iter().any(|m| m.target == RoomTarget::Person(seed::IRO_MANAGER.into()) && m.markdown.contains("was not sent")),
        "{messages:?}"
    );
    store.close().await;
}

#[tokio::test]
async fn the_pack_registers_one_letter_per_participant_with_the_documents_each_may_read() {
    let (store, _url, _guard, with_files) = seeded().await;
    let now = seed::now();
    let new = NewMeeting { title: "Erasmus komitəsi".into(), starts_at: meeting_at(), participants: participants() };
    let id = store.meetings().add(&policy(), &new, seed::IRO_MANAGER, now).await.expect("meeting stored");
    for (number, text) in [(with_files.as_str(), "Budget"), (seed::documents::PERSONAL_FILE, "Appointment"), (seed::documents::ERASMUS, "")]
    {
        store.meetings().add_item(id, number, text, seed::REGISTRAR, now).await.expect("item added");
    }
    let outbox_before = store.outbox().list().await.unwrap().len();

    let report = store.reminders().fire_due(&policy(), meeting_at() - Duration::hours(23), 100).await.expect("fired");
    assert!(report.fired >= 1, "{report:?}");
    assert_eq!(store.meetings().pack_due(id).await.unwrap(), None, "the pack went out once");

    let mails: Vec<_> = store.outbox().list().await.unwrap().into_iter().skip(outbox_before).collect();
    let packs: Vec<_> = mails.iter().filter(|m| m.mail.subject.contains("Agenda pack")).collect();
    assert_eq!(packs.len(), 3, "one per participant with an address: {mails:#?}");
    let mut numbers = Vec::new();
    for pack in &packs {
        assert_eq!(pack.kind, "correspondence");
        let number = chancery::core::number::numbers_in(&pack.mail.subject)[0].to_string();
        assert!(number.starts_with("OUT-2026-"), "{number}");
        let document = store.document(&number).await.expect("registered");
        assert_eq!(document.direction, "outgoing");
        assert_eq!(Some(document.id), pack.document_id, "the mail is the registered letter's");
        numbers.push(number);
    }
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 3, "an OUT number each");

    let to = |address: &str| packs.iter().find(|p| p.mail.to == [address.to_string()]).expect("a pack for the address");
    let names = |address: &str| to(address).mail.attachments.iter().map(|a| a.name.clone()).collect::<Vec<_>>();
    let files = ["figures.pdf".to_string(), "sheet.xls".to_string()];
    // The personal file (hr, confidential) goes to the cleared HR officer only.
    assert_eq!(names("hecer@uni.example"), [&files[..], &["IN-2026-000002.eml".into(), "IN-2026-000001.eml".into()]].concat());
    for other in ["leyla@uni.example", "kamran@uni.example"] {
        assert_eq!(names(other), [&files[..], &["IN-2026-000001.eml".into()]].concat(), "{other}");
        assert!(!to(other).mail.text.contains("Personal file"), "{}", to(other).mail.text);
        assert!(to(other).mail.text.contains("not attached: IN-2026-000002 is confidential"), "{}", to(other).mail.text);
    }
    // The text is registered as an internal letter: what the personal file is stays in its file.
    assert!(!to("hecer@uni.example").mail.text.contains("Personal file"), "{}", to("hecer@uni.example").mail.text);
    let history = store.document(seed::documents::PERSONAL_FILE).await.unwrap().history.unwrap();
    assert!(history.iter().any(|h| h.action == "disclosed" && h.actor == seed::HR_OFFICER), "{history:?}");

    // Everyone hears of it in a direct message; the officer, without an address, gets the agenda.
    let messages = store.room_messages().list().await.unwrap();
    let dm = |mxid: &str| {
        messages
            .iter()
            .filter(|m| m.target == RoomTarget::Person(mxid.into()) && m.markdown.contains("agenda pack"))
            .map(|m| m.markdown.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(dm(seed::IRO_OFFICER).len(), 1);
    assert!(dm(seed::IRO_OFFICER)[0].contains("could not be e-mailed to you: the staff directory has no e-mail address for you"));
    assert!(!dm(seed::IRO_OFFICER)[0].contains("Personal file"), "{}", dm(seed::IRO_OFFICER)[0]);
    assert!(dm(seed::HR_OFFICER)[0].contains("was e-mailed to hecer@uni.example as **OUT-2026-"), "{:?}", dm(seed::HR_OFFICER));
    assert!(dm(seed::CLERK)[0].contains("Not attached, as you are not cleared for them: IN-2026-000002"), "{:?}", dm(seed::CLERK));

    // Composed for sending, the HR officer's mail carries each file byte for byte.
    let hr = to("hecer@uni.example");
    let mut loaded = Vec::new();
    for file in &hr.mail.attachments {
        loaded.push(store.attached_file(file).await.expect("attached file"));
    }
    let attached: Vec<AttachedFile<'_>> =
        loaded.iter().map(|f| AttachedFile { name: &f.name, media_type: &f.media_type, content: &f.content }).collect();
    let bytes = compose_with_attachments(&hr.mail, None, &attached).expect("composed").formatted();
    let parsed = mail_parser::MessageParser::default().parse(&bytes).expect("parses");
    let parts: Vec<_> = parsed.attachments().collect();
    assert_eq!(parts.len(), 4);
    assert_eq!(parts[0].attachment_name(), Some("figures.pdf"));
    assert_eq!(parts[0].contents(), PDF);
    assert_eq!(parts[1].attachment_name(), Some("sheet.xls"), "a name, never a path");
    assert_eq!(parts[1].contents(), SHEET);
    let personal = store.raw(seed::documents::PERSONAL_FILE).await.unwrap();
    let erasmus = store.raw(seed::documents::ERASMUS).await.unwrap();
    assert_eq!(parts[2].message().expect("a message/rfc822 part").raw_message(), &personal[..]);
    assert_eq!(parts[3].message().expect("a message/rfc822 part").raw_message(), &erasmus[..]);
    assert!(String::from_utf8_lossy(&bytes).contains(&format!("Message-ID: <{}>", hr.mail.message_id)));

    // A second wake-up sends nothing more.
    let again = store.outbox().list().await.unwrap().len();
    store.reminders().fire_due(&policy(), meeting_at() - Duration::hours(22), 100).await.unwrap();
    assert_eq!(store.outbox().list().await.unwrap().iter().filter(|m| m.mail.subject.contains("Agenda pack")).count(), 3);
    assert!(store.outbox().list().await.unwrap().len() >= again);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pack_reaches_the_participants_mailbox_through_postfix_with_its_files() {
    let (store, _url, _guard, with_files) = seeded().await;
    // The HR officer's address is a mailbox of the dev Dovecot.
    store.staff().set_reach(seed::HR_OFFICER, None, Some("alice@uni.example")).await.expect("set address");
    // On the real clock, which the dispatcher sends by: a meeting tomorrow, its pack due now.
    let now = Utc::now();
    let new = NewMeeting {
        title: "Appointments board".into(),
        starts_at: now + Duration::hours(20),
        participants: vec![seed::HR_OFFICER.into()],
    };
    let id = store.meetings().add(&policy(), &new, seed::IRO_MANAGER, now).await.expect("meeting stored");
    for number in [with_files.as_str(), seed::documents::PERSONAL_FILE] {
        store.meetings().add_item(id, number, "", seed::REGISTRAR, now).await.expect("item added");
    }
    store.reminders().fire_due(&policy(), Utc::now(), 100).await.expect("fired");
    let pack = store.outbox().list().await.unwrap().into_iter().find(|m| m.mail.to == ["alice@uni.example"]).expect("the pack is queued");

    let config = support::smtp_config();
    let dispatcher = chancery::smtp::Dispatcher::new(&config, config.password.clone(), store.clone()).expect("dispatcher");
    let mut sent = false;
    for _ in 0..20 {
        dispatcher.dispatch_one().await.expect("a round");
        if store.outbox().list().await.unwrap().iter().any(|m| m.id == pack.id && m.status == "sent") {
            sent = true;
            break;
        }
    }
    assert!(sent, "sent through Postfix: {:?}", store.outbox().list().await.unwrap());
    let search = format!("HEADER Message-ID \"{}\"", pack.mail.message_id);
    let mut delivered = Vec::new();
    for _ in 0..100 {
        delivered = support::messages_where("alice", "INBOX", &search).await;
        if !delivered.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(delivered.len(), 1, "delivered once");
    let parsed = mail_parser::MessageParser::default().parse(&delivered[0]).expect("parses");
    let parts: Vec<_> = parsed.attachments().collect();
    assert_eq!(parts.len(), 3, "two files and the personal file's original");
    assert_eq!(parts[0].contents(), PDF);
    assert_eq!(parts[1].contents(), SHEET);
    let personal = store.raw(seed::documents::PERSONAL_FILE).await.unwrap();
    assert_eq!(parts[2].message().expect("a message/rfc822 part").raw_message(), &personal[..]);
    store.close().await;
}

#[tokio::test]
async fn a_cancelled_meeting_tells_its_participants_and_its_pack_is_never_sent() {
    let (store, _url, _guard, _) = seeded().await;
    let now = seed::now();
    let new = NewMeeting { title: "Erasmus committee".into(), starts_at: meeting_at(), participants: participants() };
    let id = store.meetings().add(&policy(), &new, seed::IRO_MANAGER, now).await.expect("meeting stored");
    store.meetings().add_item(id, seed::documents::ERASMUS, "Nominations", seed::IRO_MANAGER, now).await.expect("item");
    // The pack would be registered correspondence; reminders of the seeded letters are mailed too.
    let letters_mailed =
        |store: Store| async move { store.outbox().list().await.unwrap().into_iter().filter(|m| m.kind != "reminder").count() };
    let mails_before = letters_mailed(store.clone()).await;

    let cancelled = store.meetings().cancel(&policy(), id, Some("the chair is ill"), seed::IRO_MANAGER, now).await.expect("cancelled");
    let by = cancelled.cancelled.as_ref().expect("recorded");
    assert_eq!((by.by.as_str(), by.at, by.reason.as_deref()), (seed::IRO_MANAGER, now, Some("the chair is ill")));
    let told: Vec<_> = store
        .room_messages()
        .list()
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.markdown.contains("is **cancelled** by @manager:uni.example: the chair is ill"))
        .map(|m| m.target)
        .collect();
    let everyone: Vec<RoomTarget> = participants().into_iter().map(RoomTarget::Person).collect();
    assert_eq!(told.len(), everyone.len(), "{told:?}");
    assert!(everyone.iter().all(|p| told.contains(p)), "each participant once: {told:?}");
    assert_eq!(store.meetings().pack_due(id).await.unwrap(), None, "its pack's reminder ended");
    assert!(store.meetings().upcoming(now, 10).await.unwrap().is_empty(), "no longer coming");

    // The pack's time comes, and goes: nothing is sent (the seeded letters' reminders fire).
    store.reminders().fire_due(&policy(), meeting_at() - Duration::hours(1), 100).await.expect("fired");
    assert_eq!(letters_mailed(store.clone()).await, mails_before, "no pack mailed");
    assert!(!store.room_messages().list().await.unwrap().iter().any(|m| m.markdown.contains("Agenda pack")));

    // Twice, and after the fact: refused.
    let again = store.meetings().cancel(&policy(), id, None, seed::REGISTRAR, now).await.unwrap_err();
    assert!(again.to_string().contains("was cancelled already, by @manager:uni.example"), "{again}");
    let removed = store.meetings().remove_item(id, 1, seed::IRO_MANAGER, now).await.unwrap_err();
    assert!(removed.to_string().contains("is cancelled"), "{removed}");
    let soon = NewMeeting { starts_at: now + Duration::hours(3), ..new };
    let soon = store.meetings().add(&policy(), &soon, seed::IRO_MANAGER, now).await.unwrap();
    let begun = store.meetings().cancel(&policy(), soon, None, seed::IRO_MANAGER, now + Duration::hours(4)).await.unwrap_err();
    assert!(begun.to_string().contains("there is nothing to call off"), "{begun}");
    store.close().await;
}

#[tokio::test]
async fn an_item_comes_off_the_agenda_until_the_pack_goes_and_the_document_says_who_took_it() {
    let (store, _url, _guard, with_files) = seeded().await;
    let now = seed::now();
    let new = NewMeeting { title: "Erasmus committee".into(), starts_at: meeting_at(), participants: participants() };
    let id = store.meetings().add(&policy(), &new, seed::IRO_MANAGER, now).await.expect("meeting stored");
    store.meetings().add_item(id, seed::documents::ERASMUS, "", seed::IRO_MANAGER, now).await.unwrap();
    store.meetings().add_item(id, &with_files, "", seed::IRO_MANAGER, now).await.unwrap();

    let removed = store.meetings().remove_item(id, 1, seed::IRO_OFFICER, now).await.expect("removed");
    assert_eq!(removed.number, seed::documents::ERASMUS);
    let left: Vec<_> = store.meetings().agenda(id).await.unwrap().into_iter().map(|i| (i.position, i.number)).collect();
    assert_eq!(left, [(2, with_files.clone())]);
    let history = store.document(seed::documents::ERASMUS).await.unwrap().history.unwrap();
    assert!(
        history.iter().any(|h| h.actor == seed::IRO_OFFICER
            && h.new_value.as_deref() == Some(&format!("removed from the agenda of meeting {id} (item 1)") as &str)),
        "{history:?}"
    );
    let missing = store.meetings().remove_item(id, 1, seed::IRO_OFFICER, now).await.unwrap_err();
    assert!(missing.to_string().contains("has no item 1 (its agenda has items 2)"), "{missing}");
    // Removed, it may go on again.
    store.meetings().add_item(id, seed::documents::ERASMUS, "", seed::IRO_MANAGER, now).await.expect("back on");

    store.reminders().fire_due(&policy(), meeting_at() - Duration::days(1), 100).await.expect("pack sent");
    let sent = store.meetings().remove_item(id, 2, seed::IRO_MANAGER, now).await.unwrap_err();
    assert!(sent.to_string().contains("has been sent"), "{sent}");
    store.close().await;
}
