//! Reminders in the store, on the backend under test: what schedules them, whom a firing tells,
//! and that each step fires exactly once, also with two instances firing at the same moment.

mod seed;
mod support;

use chancery::core::announce::RoomTarget;
use chancery::core::remind::{Kind, Policy};
use chancery::core::visa::Trip;
use chancery::store::{RoomMessageRecord, Store};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// 09:00 in Baku on a day.
fn nine(text: &str) -> DateTime<Utc> {
    chrono_tz::Asia::Baku.from_local_datetime(&day(text).and_hms_opt(9, 0, 0).unwrap()).unwrap().with_timezone(&Utc)
}

async fn staffed_store() -> (Store, String, Option<tempfile::TempDir>) {
    let (store, url, guard) = support::fresh_store().await;
    for member in seed::staff() {
        store.staff().put(&member, "seed", seed::now()).await.expect("staff");
    }
    (store, url, guard)
}

fn trip(apply_by: &str) -> Trip {
    Trip {
        traveller: "Orxan Officer".into(),
        traveller_mxid: Some(seed::IRO_OFFICER.into()),
        country: "DE".into(),
        kind: "schengen".into(),
        travel_from: day("2026-12-20"),
        travel_to: day("2026-12-28"),
        apply_by: Some(day(apply_by)),
        visa_expires: None,
        passport_expires: None,
    }
}

fn messages_to(messages: &[RoomMessageRecord], mxid: &str) -> Vec<String> {
    messages.iter().filter(|m| m.target == RoomTarget::Person(mxid.into())).map(|m| m.markdown.clone()).collect()
}

#[tokio::test]
async fn a_visa_case_is_reminded_at_each_lead_time_to_its_owner_and_the_office_until_it_is_done() {
    let (store, _url, _guard) = staffed_store().await;
    // Opened by the registrar for the officer; the office's manager hears of it too.
    let id = store.visas().add(&support::reminder_policy(), &trip("2026-12-16"), seed::REGISTRAR, seed::now()).await.expect("case");
    let scheduled = store.reminders().of_subject(&[Kind::VisaApplyBy, Kind::VisaExpiry], id).await.unwrap();
    assert_eq!(scheduled.len(), 1, "one deadline, one reminder: {scheduled:?}");
    // 60 and 30 days before are past; 14 days before is Wednesday 2 December.
    assert_eq!(scheduled[0].reminder.due_at, nine("2026-12-02"));

    let early = store.reminders().fire_due(&support::reminder_policy(), nine("2026-12-02") - Duration::seconds(1), 100).await.unwrap();
    assert_eq!(early.fired, 0, "nothing before its time");
    let report = store.reminders().fire_due(&support::reminder_policy(), nine("2026-12-02"), 100).await.unwrap();
    assert_eq!((report.fired, report.messages, report.late), (1, 3, 0));
    let messages = store.room_messages().list().await.unwrap();
    for person in [seed::REGISTRAR, seed::IRO_OFFICER, seed::IRO_MANAGER] {
        let told = messages_to(&messages, person);
        assert_eq!(told.len(), 1, "{person} is told once: {messages:?}");
        assert!(told[0].contains("apply for the visa by 2026-12-16 (in 14 days)"), "{}", told[0]);
        assert!(told[0].contains(&format!("visa case {id}, Orxan Officer to DE (schengen)")), "{}", told[0]);
    }
    let again = store.reminders().fire_due(&support::reminder_policy(), nine("2026-12-02") + Duration::hours(1), 100).await.unwrap();
    assert_eq!(again.fired, 0, "a step fires once");
    let next = store.reminders().of_subject(&[Kind::VisaApplyBy], id).await.unwrap();
    assert_eq!(next[0].reminder.due_at, nine("2026-12-09"), "then 7 days before");
    assert_eq!(next[0].reminder.step, 1);

    store.visas().mark_done(id, seed::IRO_MANAGER, nine("2026-12-03")).await.unwrap();
    assert!(store.reminders().of_subject(&[Kind::VisaApplyBy], id).await.unwrap().is_empty(), "a closed case is not reminded");
    let after = store.reminders().fire_due(&support::reminder_policy(), nine("2027-01-30"), 100).await.unwrap();
    assert_eq!(after.fired, 0);
    store.close().await;
}

#[tokio::test]
async fn what_came_due_while_nothing_ran_fires_once_and_says_it_is_late() {
    let (store, _url, _guard) = staffed_store().await;
    let due = seed::now() + Duration::minutes(30);
    let id = store.reminders().add_personal(seed::CLERK, seed::CLERK, due, "call the embassy", seed::now()).await.unwrap();
    let on_time = store.reminders().add_personal(seed::CLERK, "!room:uni.example", due, "stand-up", seed::now()).await.unwrap();
    // The instance was down from before `due` until three hours later.
    let report = store.reminders().fire_due(&support::reminder_policy(), due + Duration::hours(3), 100).await.unwrap();
    assert_eq!((report.fired, report.late), (2, 2));
    let messages = store.room_messages().list().await.unwrap();
    let direct = messages_to(&messages, seed::CLERK);
    assert_eq!(direct, [format!("⏰ **Reminder {id}**: call the embassy _(late: was due at 13:30)_")]);
    let room: Vec<_> = messages.iter().filter(|m| m.target == RoomTarget::Room("!room:uni.example".into())).collect();
    assert_eq!(room.len(), 1);
    assert!(room[0].markdown.starts_with(&format!("⏰ **Reminder {on_time}** from {}: stand-up", seed::CLERK)), "{}", room[0].markdown);
    let record = store.reminders().get(id).await.unwrap();
    assert_eq!(record.status, "done", "a personal reminder fires once");
    assert_eq!(store.reminders().fire_due(&support::reminder_policy(), due + Duration::days(3), 100).await.unwrap().fired, 0);
    store.close().await;
}

#[tokio::test]
async fn two_instances_firing_at_the_same_moment_fire_each_reminder_once() {
    let (store, url, _guard) = staffed_store().await;
    let due = seed::now() + Duration::minutes(5);
    const COUNT: usize = 300;
    for n in 0..COUNT {
        store.reminders().add_personal(seed::CLERK, seed::CLERK, due, &format!("note {n}"), seed::now()).await.unwrap();
    }
    let other = Store::open(&url, chrono_tz::Asia::Baku, chancery::store::OpenMode::Existing).await.expect("second instance");
    let at = due + Duration::seconds(1);
    let mut fired = 0;
    // Both instances, batch after batch, at once. SQLite lets one writer through at a time (the
    // other may be told the database is busy: it tries again, as the scheduler does).
    loop {
        let (mine, theirs) = (store.reminders(), other.reminders());
        let policy = support::reminder_policy();
        let (a, b) = tokio::join!(mine.fire_due(&policy, at, 40), theirs.fire_due(&policy, at, 40));
        let round = a.map(|r| r.fired).unwrap_or(0) + b.map(|r| r.fired).unwrap_or(0);
        fired += round;
        if store.reminders().fire_due(&support::reminder_policy(), at, 0).await.is_ok()
            && store.reminders().next_due().await.unwrap().is_none_or(|next| next > at)
        {
            break;
        }
    }
    assert_eq!(fired, COUNT);
    let messages = store.room_messages().list().await.unwrap();
    assert_eq!(messages.len(), COUNT, "one message per reminder");
    let mut bodies: Vec<_> = messages.iter().map(|m| m.markdown.split(": ").nth(1).unwrap_or_default().to_string()).collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), COUNT, "no reminder told twice");
    other.close().await;
    store.close().await;
}

#[tokio::test]
async fn a_letter_with_a_due_date_reminds_its_unit_before_and_its_head_weekly_until_it_is_answered() {
    let (store, _url, _guard) = support::fresh_store().await;
    let mut policy = Policy::new(chrono_tz::Asia::Baku);
    policy.unit_head_emails.insert("international".into(), "l.aliyeva@uni.example".into());
    policy.mail_from = Some("University Registry <registry@uni.example>".into());
    // The Erasmus letter came on Monday 16 November for the international office, due in 10
    // working days: Monday 30 November.
    seed::seed(&store).await;
    let letters = store.reminders().of_owner("chancery").await.unwrap();
    let erasmus = store.document(seed::documents::ERASMUS).await.unwrap().id;
    let of_erasmus: Vec<_> =
        letters.iter().filter(|r| r.reminder.subject_id == Some(erasmus)).map(|r| (r.reminder.kind, r.reminder.due_at)).collect();
    assert_eq!(
        of_erasmus,
        [(Kind::LetterDue, nine("2026-11-26")), (Kind::LetterOverdue, nine("2026-12-01"))],
        "two working days before, and the first working day after"
    );

    // The instance starts on 1 December at 13:00: both came due meanwhile.
    store.reminders().fire_due(&policy, seed::now(), 100).await.unwrap();
    let told = messages_to(&store.room_messages().list().await.unwrap(), seed::IRO_MANAGER);
    assert_eq!(told.len(), 2, "nobody is assigned: the unit's manager hears both: {told:?}");
    assert!(told[0].contains("the letter is due on 2026-11-30") && told[0].contains("late: was due at 2026-11-26 09:00"), "{}", told[0]);
    assert!(told[1].contains("was due on 2026-11-30 and is still open") && told[1].contains(seed::documents::ERASMUS), "{}", told[1]);
    let head_mail = |store: &Store| {
        let store = store.clone();
        async move { store.outbox().list().await.unwrap().into_iter().filter(|m| m.recipients == ["l.aliyeva@uni.example"]).collect::<Vec<_>>() }
    };
    let mails = head_mail(&store).await;
    assert_eq!(mails.len(), 1, "the head, by e-mail");
    assert_eq!(mails[0].kind, "reminder");
    assert!(mails[0].message_id.starts_with("chancery.rem."), "{}", mails[0].message_id);

    // A week on, again; then the letter is answered and the reminders stop.
    store.reminders().fire_due(&policy, nine("2026-12-08"), 100).await.unwrap();
    assert_eq!(head_mail(&store).await.len(), 2);
    store.documents().set_status(seed::documents::ERASMUS, "answered", seed::IRO_MANAGER, nine("2026-12-09")).await.unwrap();
    store.reminders().fire_due(&policy, nine("2026-12-15"), 100).await.unwrap();
    store.reminders().fire_due(&policy, nine("2026-12-22"), 100).await.unwrap();
    assert_eq!(head_mail(&store).await.len(), 2, "an answered letter is overdue no more");
    assert!(store.reminders().of_owner("chancery").await.unwrap().iter().all(|r| r.reminder.subject_id != Some(erasmus)));
    store.close().await;
}

/// The active reminders of one letter: (kind, when it fires, the date it counts from).
async fn letter_reminders(store: &Store, id: i64) -> Vec<(Kind, DateTime<Utc>, Option<NaiveDate>)> {
    let active = store.reminders().of_subject(&[Kind::LetterDue, Kind::LetterOverdue], id).await.unwrap();
    active.iter().map(|r| (r.reminder.kind, r.reminder.due_at, r.reminder.deadline)).collect()
}

#[tokio::test]
async fn a_new_due_date_moves_the_letters_reminders_and_is_in_its_history() {
    let (store, _url, _guard) = seed::seeded_store().await;
    let erasmus = store.document(seed::documents::ERASMUS).await.unwrap().id;
    // Due on Monday 30 November: reminded on the 26th, overdue from 1 December.
    assert_eq!(
        letter_reminders(&store, erasmus).await,
        [
            (Kind::LetterDue, nine("2026-11-26"), Some(day("2026-11-30"))),
            (Kind::LetterOverdue, nine("2026-12-01"), Some(day("2026-11-30")))
        ]
    );

    let before = store
        .documents()
        .change_due(
            &support::reminder_policy(),
            seed::documents::ERASMUS,
            day("2026-12-11"),
            Some("the partner asked for a week more"),
            seed::IRO_MANAGER,
            seed::now(),
        )
        .await
        .expect("a new due date");
    assert_eq!(before, Some(day("2026-11-30")));
    // Due on Friday 11 December: reminded two working days before, overdue from Monday the 14th.
    assert_eq!(
        letter_reminders(&store, erasmus).await,
        [
            (Kind::LetterDue, nine("2026-12-09"), Some(day("2026-12-11"))),
            (Kind::LetterOverdue, nine("2026-12-14"), Some(day("2026-12-11")))
        ]
    );
    let document = store.document(seed::documents::ERASMUS).await.unwrap();
    assert_eq!(document.due_on.as_deref(), Some("2026-12-11"));
    let line = document.history.unwrap().into_iter().find(|h| h.field.as_deref() == Some("due_on")).expect("in the history");
    assert_eq!(
        (line.actor.as_str(), line.old_value.as_deref(), line.new_value.as_deref(), line.reason.as_deref()),
        (seed::IRO_MANAGER, Some("2026-11-30"), Some("2026-12-11"), Some("the partner asked for a week more"))
    );

    // The old reminders were due already and never fire; the new ones fire at their time.
    store.reminders().fire_due(&support::reminder_policy(), seed::now(), 100).await.unwrap();
    assert!(messages_to(&store.room_messages().list().await.unwrap(), seed::IRO_MANAGER).is_empty(), "the old date reminds nobody");
    store.reminders().fire_due(&support::reminder_policy(), nine("2026-12-09"), 100).await.unwrap();
    let told = messages_to(&store.room_messages().list().await.unwrap(), seed::IRO_MANAGER);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].contains("the letter is due on 2026-12-11") && !told[0].contains("late"), "{}", told[0]);

    // A date in the past, the same date, a settled letter: refused, nothing changed.
    let documents = store.documents();
    let refusal = |result: chancery::store::Result<Option<NaiveDate>>| result.unwrap_err().to_string();
    let past = refusal(
        documents
            .change_due(&support::reminder_policy(), seed::documents::ERASMUS, day("2026-11-20"), None, seed::IRO_MANAGER, seed::now())
            .await,
    );
    assert!(past.contains("2026-11-20 is in the past"), "{past}");
    let same = refusal(
        documents
            .change_due(&support::reminder_policy(), seed::documents::ERASMUS, day("2026-12-11"), None, seed::IRO_MANAGER, seed::now())
            .await,
    );
    assert!(same.contains("is due on 2026-12-11 already"), "{same}");
    documents.set_status(seed::documents::PLAIN, "answered", seed::REGISTRAR, seed::now()).await.unwrap();
    let settled = refusal(
        documents
            .change_due(&support::reminder_policy(), seed::documents::PLAIN, day("2026-12-20"), None, seed::REGISTRAR, seed::now())
            .await,
    );
    assert!(settled.contains("is answered already"), "{settled}");
    assert_eq!(letter_reminders(&store, erasmus).await.len(), 1, "the overdue reminder waits for the 14th");
    store.close().await;
}

#[tokio::test]
async fn a_rerouted_letter_reminds_the_new_units_people() {
    let (store, _url, _guard) = seed::seeded_store().await;
    let treasurer = chancery::core::viewer::StaffMember {
        id: "@treasurer:uni.example".into(),
        name: "Tahir Treasurer".into(),
        unit: "finance".into(),
        role: chancery::core::viewer::Role::Manager,
        clearance: chancery::core::confidentiality::Confidentiality::Internal,
    };
    store.staff().put(&treasurer, "seed", seed::now()).await.unwrap();
    let documents = store.documents();
    documents.assign(seed::documents::ERASMUS, seed::IRO_OFFICER, seed::IRO_MANAGER, seed::now()).await.unwrap();
    documents
        .change_due(&support::reminder_policy(), seed::documents::ERASMUS, day("2026-12-11"), None, seed::IRO_MANAGER, seed::now())
        .await
        .unwrap();

    // As `chancery docs reroute` does it.
    store.change(seed::documents::ERASMUS, "unit", "finance", seed::REGISTRAR, Some("it is about the budget"), seed::now()).await.unwrap();
    let document = store.document(seed::documents::ERASMUS).await.unwrap();
    assert_eq!((document.unit.as_str(), document.assignee.as_deref()), ("finance", None), "the officer of international is released");
    let history = document.history.unwrap();
    assert!(history.iter().any(|h| h.action == "unassigned" && h.old_value.as_deref() == Some(seed::IRO_OFFICER)), "{history:?}");

    store.reminders().fire_due(&support::reminder_policy(), nine("2026-12-09"), 100).await.unwrap();
    store.reminders().fire_due(&support::reminder_policy(), nine("2026-12-14"), 100).await.unwrap();
    // The seeded letters and contacts have reminders of their own: only this letter's count.
    let messages: Vec<_> =
        store.room_messages().list().await.unwrap().into_iter().filter(|m| m.markdown.contains(seed::documents::ERASMUS)).collect();
    let told = messages_to(&messages, &treasurer.id);
    assert_eq!(told.len(), 2, "due, then overdue, to finance's manager: {told:?}");
    assert!(told[0].contains("the letter is due on 2026-12-11") && told[1].contains("was due on 2026-12-11"), "{told:?}");
    for old in [seed::IRO_OFFICER, seed::IRO_MANAGER] {
        assert!(messages_to(&messages, old).is_empty(), "{old} is reminded no more");
    }
    let again = store.change(seed::documents::ERASMUS, "unit", "finance", seed::REGISTRAR, Some("x"), seed::now()).await.unwrap_err();
    assert!(again.to_string().contains("is with finance already"), "{again}");
    store.close().await;
}

#[tokio::test]
async fn a_cancelled_visa_case_fires_no_more_reminders() {
    let (store, _url, _guard) = staffed_store().await;
    let id = store.visas().add(&support::reminder_policy(), &trip("2026-12-16"), seed::REGISTRAR, seed::now()).await.expect("case");
    assert_eq!(store.reminders().of_subject(&[Kind::VisaApplyBy, Kind::VisaExpiry], id).await.unwrap().len(), 1);

    let case = store.visas().cancel(&support::reminder_policy(), id, seed::IRO_OFFICER, seed::now()).await.expect("cancelled");
    assert_eq!(case.status, chancery::core::visa::CaseStatus::Cancelled { at: seed::now(), by: seed::IRO_OFFICER.into() });
    assert!(store.reminders().of_subject(&[Kind::VisaApplyBy, Kind::VisaExpiry], id).await.unwrap().is_empty());
    let report = store.reminders().fire_due(&support::reminder_policy(), nine("2026-12-16"), 100).await.unwrap();
    assert_eq!(report.fired, 0, "its days come and go");
    assert!(store.room_messages().list().await.unwrap().is_empty());

    let again = store.visas().cancel(&support::reminder_policy(), id, seed::IRO_MANAGER, seed::now()).await.unwrap_err();
    assert!(again.to_string().contains("is cancelled already, by @officer:uni.example"), "{again}");
    let done = store.visas().mark_done(id, seed::IRO_MANAGER, seed::now()).await.unwrap();
    assert!(matches!(done, chancery::store::Closing::AlreadyDone(_)), "a cancelled case is not done afterwards");
    store.close().await;
}
