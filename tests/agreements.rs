//! Agreements and their reminders in the store, on the backend under test: adding one schedules
//! its reminders before its end and its notice deadline in the same transaction, renewing it
//! replaces them, a refused one leaves nothing behind, and a reminder that fires reaches the
//! International Relations Office's managers and whoever added the agreement by direct message.

mod seed;
mod support;

use chancery::core::agreement::{Draft, Terms, new_agreement};
use chancery::core::announce::RoomTarget;
use chancery::core::reference::Reference;
use chancery::core::remind::Kind;
use chancery::store::{AGREEMENT_REMINDERS, Store, StoreError};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// 09:00 in Baku on `day`, the office's reminder hour.
fn office_hour(text: &str) -> DateTime<Utc> {
    let day = day(text);
    Utc.from_utc_datetime(&day.and_hms_opt(5, 0, 0).unwrap())
}

fn today() -> NaiveDate {
    seed::now().with_timezone(&chrono_tz::Asia::Baku).date_naive()
}

fn terms(letters: &[&str]) -> Terms {
    let letters: Vec<String> = letters.iter().map(|l| l.to_string()).collect();
    let draft =
        Draft { partner: "ut", kind: "erasmus-iia", start: day("2021-09-01"), end: day("2027-06-30"), notice: None, letters: &letters };
    new_agreement(draft, today()).expect("valid terms")
}

/// (kind, deadline, due_at, owner) of an agreement's active reminders, soonest first.
async fn reminders_of(store: &Store, id: i64) -> Vec<(Kind, Option<NaiveDate>, DateTime<Utc>, String)> {
    let records = store.reminders().of_subject(&AGREEMENT_REMINDERS, id).await.expect("reminders");
    records.into_iter().map(|r| (r.reminder.kind, r.reminder.deadline, r.reminder.due_at, r.reminder.owner)).collect()
}

#[tokio::test]
async fn an_agreement_schedules_its_reminders_renewing_replaces_them_and_they_reach_the_office() {
    let (store, _url, _guard) = seed::seeded_store().await;
    let now = seed::now();

    let id = store
        .agreements()
        .add(&support::reminder_policy(), &terms(&[seed::documents::ERASMUS]), seed::IRO_OFFICER, now)
        .await
        .expect("added");
    let agreement = store.agreements().get(id).await.expect("stored");
    assert_eq!(agreement.terms.notice_deadline(), Some(day("2027-04-01")));
    assert_eq!(agreement.terms.letters.iter().map(ToString::to_string).collect::<Vec<_>>(), [seed::documents::ERASMUS]);
    // 180 days before the end and 90 before the notice deadline are both Friday 1 January 2027;
    // the earlier lead times are past.
    let officer = seed::IRO_OFFICER.to_string();
    assert_eq!(
        reminders_of(&store, id).await,
        [
            (Kind::AgreementEnd, Some(day("2027-06-30")), office_hour("2027-01-01"), officer.clone()),
            (Kind::AgreementNotice, Some(day("2027-04-01")), office_hour("2027-01-01"), officer.clone()),
        ]
    );
    let old: Vec<i64> = store.reminders().of_subject(&AGREEMENT_REMINDERS, id).await.unwrap().iter().map(|r| r.reminder.id).collect();

    // Renewed: the old reminders are closed by the renewer, new ones count from the new dates.
    let renewed = store
        .agreements()
        .renew(&support::reminder_policy(), id, day("2032-06-30"), &[], seed::IRO_MANAGER, today(), now)
        .await
        .expect("renewed");
    assert_eq!(renewed.terms.end, day("2032-06-30"));
    assert_eq!(renewed.renewal.as_ref().map(|r| r.previous_end), Some(day("2027-06-30")));
    for old_id in &old {
        let record = store.reminders().get(*old_id).await.unwrap();
        assert_eq!((record.status.as_str(), record.closed_by.as_deref()), ("done", Some(seed::IRO_MANAGER)), "{record:?}");
    }
    // 2032-04-01 less 180 days is Saturday 2031-10-04: the Friday before.
    assert_eq!(
        reminders_of(&store, id).await,
        [
            (Kind::AgreementNotice, Some(day("2032-04-01")), office_hour("2031-10-03"), officer.clone()),
            (Kind::AgreementEnd, Some(day("2032-06-30")), office_hour("2032-01-02"), officer.clone()),
        ]
    );

    // A renewal that is refused changes neither the agreement nor its reminders.
    let refused = store.agreements().renew(&support::reminder_policy(), id, day("2030-01-01"), &[], seed::IRO_MANAGER, today(), now).await;
    assert!(
        matches!(&refused, Err(StoreError::Refused(refusal)) if refusal.to_string().contains("is not after the current end 2032-06-30")),
        "{refused:?}"
    );
    let unknown = "OUT-2026-000099".parse().unwrap();
    let refused =
        store.agreements().renew(&support::reminder_policy(), id, day("2033-06-30"), &[unknown], seed::IRO_MANAGER, today(), now).await;
    assert!(matches!(&refused, Err(StoreError::NotFound(Reference::Document(number))) if number == "OUT-2026-000099"), "{refused:?}");
    assert_eq!(store.agreements().get(id).await.unwrap().terms.end, day("2032-06-30"));
    assert_eq!(reminders_of(&store, id).await.len(), 2);

    // The notice reminder fires: a direct message to the office's manager and to the officer
    // who added the agreement, naming it and the command that shows it.
    let before = store.room_messages().list().await.unwrap().len();
    let report = store.reminders().fire_due(&support::reminder_policy(), office_hour("2031-10-03"), 100).await.expect("fired");
    assert!(report.fired >= 1, "{report:?}");
    let messages = store.room_messages().list().await.unwrap();
    let about: Vec<_> = messages[before..].iter().filter(|m| m.markdown.contains("agreement 1, Erasmus+ IIA with UT")).collect();
    let mut told: Vec<String> = about
        .iter()
        .filter_map(|m| match &m.target {
            RoomTarget::Person(mxid) => Some(mxid.clone()),
            _ => None,
        })
        .collect();
    told.sort();
    assert_eq!(told, [seed::IRO_MANAGER, seed::IRO_OFFICER], "{about:?}");
    for message in &about {
        assert!(message.markdown.contains("notice on the agreement must be given by 2032-04-01"), "{}", message.markdown);
        assert!(message.markdown.contains("(University of Tartu) (`!agreement show 1`)"), "{}", message.markdown);
        assert!(!message.markdown.contains("late"), "{}", message.markdown);
    }
    // It moves on to its next lead time, 90 days before.
    let next = reminders_of(&store, id).await;
    assert_eq!(next[0], (Kind::AgreementEnd, Some(day("2032-06-30")), office_hour("2032-01-02"), officer.clone()));
    assert_eq!(next[1].0, Kind::AgreementNotice);
    assert_eq!(next[1].2, office_hour("2032-01-02"));
    store.close().await;
}

#[tokio::test]
async fn a_refused_agreement_stores_nothing() {
    let (store, _url, _guard) = seed::seeded_store().await;
    let now = seed::now();
    let active_reminders = store.reminders().active_count().await.unwrap();

    let unknown_letter = store
        .agreements()
        .add(&support::reminder_policy(), &terms(&[seed::documents::ERASMUS, "OUT-2026-000099"]), seed::IRO_OFFICER, now)
        .await;
    assert!(matches!(&unknown_letter, Err(StoreError::NotFound(Reference::Document(number))) if number == "OUT-2026-000099"));
    let mut elsewhere = terms(&[]);
    elsewhere.partner = "nowhere".into();
    let unknown_partner = store.agreements().add(&support::reminder_policy(), &elsewhere, seed::IRO_OFFICER, now).await;
    assert!(matches!(&unknown_partner, Err(StoreError::NotFound(Reference::Partner(handle))) if handle == "nowhere"));

    assert!(store.agreements().active().await.unwrap().is_empty());
    assert_eq!(store.reminders().active_count().await.unwrap(), active_reminders);
    // Refused before anything was written: the first agreement stored is number 1 on both backends.
    let id = store.agreements().add(&support::reminder_policy(), &terms(&[]), seed::IRO_OFFICER, now).await.expect("added");
    assert_eq!(id, 1);
    assert!(store.agreements().get(id).await.unwrap().terms.letters.is_empty());
    assert_eq!(store.agreements().of_partner("ut").await.unwrap().len(), 1);
    store.close().await;
}

#[tokio::test]
async fn an_agreement_ended_early_keeps_its_record_and_fires_no_more_reminders() {
    let (store, _url, _guard) = seed::seeded_store().await;
    let now = seed::now();
    let id = store
        .agreements()
        .add(&support::reminder_policy(), &terms(&[seed::documents::ERASMUS]), seed::IRO_OFFICER, now)
        .await
        .expect("added");
    assert_eq!(reminders_of(&store, id).await.len(), 2);

    let ended = store.agreements().end(id, day("2026-12-31"), " the partner withdrew ", seed::IRO_MANAGER, now).await.expect("ended");
    assert_eq!(ended.terms.end, day("2026-12-31"));
    let ending = ended.ending.as_ref().expect("who ended it is kept");
    assert_eq!(
        (ending.by.as_str(), ending.at, ending.reason.as_str(), ending.planned_end),
        (seed::IRO_MANAGER, now, "the partner withdrew", day("2027-06-30"))
    );
    assert!(reminders_of(&store, id).await.is_empty(), "its reminders are closed");
    let closed = store.reminders().of_owner(seed::IRO_OFFICER).await.unwrap();
    assert!(closed.iter().all(|r| !AGREEMENT_REMINDERS.contains(&r.reminder.kind) || r.reminder.subject_id != Some(id)), "{closed:?}");
    assert!(store.agreements().active().await.unwrap().iter().all(|a| a.id != id), "no longer active");

    // Their days come: nothing is said of it (the seeded contacts' follow-ups fire meanwhile).
    store.reminders().fire_due(&support::reminder_policy(), office_hour("2027-06-30"), 100).await.unwrap();
    let messages = store.room_messages().list().await.unwrap();
    assert!(!messages.iter().any(|m| m.markdown.contains(&format!("agreement {id},"))), "{messages:?}");

    // Once only; not renewed after it ended.
    let again = store.agreements().end(id, day("2026-12-20"), "again", seed::IRO_MANAGER, now).await.unwrap_err();
    assert!(matches!(&again, StoreError::Refused(refusal) if refusal.to_string().contains("has ended already (on 2026-12-31)")), "{again}");
    let renewal = store
        .agreements()
        .renew(&support::reminder_policy(), id, day("2030-06-30"), &[], seed::IRO_MANAGER, today(), now)
        .await
        .unwrap_err();
    assert!(matches!(renewal, StoreError::Refused(_)));
    store.close().await;
}
