//! The weekly digest per unit, on the backend under test: what `store.digests()` counts, the
//! scheduler's digest reminder writing it to the room outbox (each manager of the unit) and the
//! mail outbox (the unit's head, when mail is on), and `chancery report weekly` in Markdown, CSV
//! and JSON.
//!
//! The seeded world (tests/seed) has three letters from 16 November; this file adds, on Monday
//! 30 November (ISO week 2026-W49), an Erasmus letter the rules route to the International
//! Relations Office (then answered), a confidential personal file for HR, and two letters no
//! rule routes, one of them rerouted to the office by hand; a visa case and an agreement with
//! deadlines in December.

mod seed;
mod support;

use std::collections::HashMap;
use std::process::Output;

use chancery::core::agreement::{AgreementKind, Notice, Terms};
use chancery::core::announce::{CONFIDENTIAL_PLACEHOLDER, RoomTarget};
use chancery::core::digest::{Counts, DeadlineKind, Window};
use chancery::core::remind::Policy;
use chancery::core::visa::Trip;
use chancery::store::Store;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::Value;
use support::describe;

const ERASMUS_NEW: &str = "IN-2026-000004";
const PERSONAL_NEW: &str = "IN-2026-000005";
const CHAIRS: &str = "IN-2026-000006";
const PERSONAL_SUBJECT: &str = "Personal file of Dr. Leyla Quliyeva";

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn letter(from: &str, subject: &str, id: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: registry@uni.example\r\nSubject: {subject}\r\nMessage-ID: <{id}@digest.example>\r\n\
         Date: Mon, 30 Nov 2026 10:00:00 +0400\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nText.\r\n"
    )
    .into_bytes()
}

/// Monday 30 November 2026, 17:00 in Baku: inside the 7 days before `seed::now()` and before
/// the digest of Monday 7 December 08:00, and in ISO week 2026-W49.
fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 13, 0, 0).unwrap()
}

/// The seeded store with the week's letters, the answer, the reroute, a visa case and an
/// agreement.
async fn week_of_letters(store: &Store) {
    seed::seed(store).await;
    let policy = support::shipped_policy();
    let letters = [
        letter("Ayşe Demir <international@metu.edu.tr>", "Erasmus+ learning agreements for spring 2027", "erasmus-new"),
        letter("Ministry HR <hr@ministry.example>", PERSONAL_SUBJECT, "personal-new"),
        letter("Baku Office Supplies <sales@supplies.example>", "Catalogue of office chairs", "chairs"),
        letter("Baku Office Supplies <sales@supplies.example>", "Price list", "price-list"),
    ];
    for (n, raw) in letters.iter().enumerate() {
        let number = seed::register(store, &policy, raw, monday() + Duration::minutes(n as i64)).await;
        assert_eq!(number, format!("IN-2026-{:06}", n + 4));
    }
    store.change(CHAIRS, "unit", "international", seed::REGISTRAR, Some("the office buys the chairs"), monday()).await.unwrap();
    store.documents().set_status(ERASMUS_NEW, "answered", seed::IRO_MANAGER, monday() + Duration::hours(2)).await.unwrap();
    let trip = |apply_by: &str| Trip {
        traveller: "Orxan Officer".into(),
        traveller_mxid: Some(seed::IRO_OFFICER.into()),
        country: "DE".into(),
        kind: "schengen".into(),
        travel_from: day("2027-03-20"),
        travel_to: day("2027-03-28"),
        apply_by: Some(day(apply_by)),
        visa_expires: None,
        passport_expires: None,
    };
    store.visas().add(&support::reminder_policy(), &trip("2026-12-10"), seed::IRO_OFFICER, seed::now()).await.unwrap();
    // Too far ahead for a digest.
    store.visas().add(&support::reminder_policy(), &trip("2027-03-01"), seed::IRO_OFFICER, seed::now()).await.unwrap();
    let terms = Terms {
        partner: "ut".into(),
        kind: AgreementKind::ErasmusIia,
        start: day("2024-01-01"),
        end: day("2026-12-20"),
        notice: Notice::parse("90d").unwrap(),
        letters: Vec::new(),
    };
    store.agreements().add(&support::reminder_policy(), &terms, seed::IRO_MANAGER, seed::now()).await.unwrap();
}

#[tokio::test]
async fn a_digest_counts_what_the_unit_received_routed_answered_and_left_overdue() {
    let (store, _url, _guard) = support::fresh_store().await;
    week_of_letters(&store).await;
    let window = Window::ending(seed::now());

    let office = store.digests().of_unit(&support::reminder_policy(), "international", window).await.unwrap();
    // Received: the Erasmus letter (a rule) and the chairs (by hand); answered: the Erasmus
    // letter; overdue: the seeded Erasmus letter, due on 30 November.
    assert_eq!(office.counts(), Counts { received: 2, routed: 2, answered: 1, overdue: 1 });
    let numbers = |lines: &[chancery::core::digest::LetterLine]| lines.iter().map(|l| l.number.clone()).collect::<Vec<_>>();
    assert_eq!(numbers(&office.received), [ERASMUS_NEW, CHAIRS]);
    assert_eq!(numbers(&office.answered), [ERASMUS_NEW]);
    assert_eq!(numbers(&office.overdue), [seed::documents::ERASMUS]);
    let deadlines: Vec<(DeadlineKind, NaiveDate)> = office.deadlines.iter().map(|d| (d.kind, d.day)).collect();
    assert_eq!(deadlines, [(DeadlineKind::VisaApplyBy, day("2026-12-10")), (DeadlineKind::AgreementEnd, day("2026-12-20"))]);
    assert!(office.deadlines[1].title.contains("Erasmus+ IIA with UT"), "{:?}", office.deadlines);

    // The registry kept the price list: received, not routed; it hears of no visas.
    let registry = store.digests().of_unit(&support::reminder_policy(), "registry", window).await.unwrap();
    assert_eq!(registry.counts(), Counts { received: 1, routed: 0, answered: 0, overdue: 0 });
    assert!(registry.deadlines.is_empty());

    // HR's personal file: its subject is not told.
    let hr = store.digests().of_unit(&support::reminder_policy(), "hr", window).await.unwrap();
    assert_eq!(numbers(&hr.received), [PERSONAL_NEW]);
    assert_eq!(hr.received[0].subject, CONFIDENTIAL_PLACEHOLDER);
    assert!(hr.received[0].routed);
    assert!(!hr.markdown().contains(PERSONAL_SUBJECT));

    // A week with nothing in it.
    let quiet = store
        .digests()
        .of_unit(&support::reminder_policy(), "international", Window::iso_week("2026-W40", chrono_tz::Asia::Baku).unwrap())
        .await
        .unwrap();
    assert_eq!((quiet.received.len(), quiet.answered.len()), (0, 0));
    store.close().await;
}

fn policy(mail_from: Option<&str>) -> Policy {
    let heads: HashMap<String, String> =
        [("international", "l.aliyeva@uni.example"), ("hr", "n.hasanova@uni.example")].map(|(u, e)| (u.to_string(), e.to_string())).into();
    Policy { unit_head_emails: heads, mail_from: mail_from.map(String::from), ..Policy::new(chrono_tz::Asia::Baku) }
}

/// Monday 7 December 2026, 08:00 in Baku: the first digest after `seed::now()`.
fn digest_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 4, 0, 0).unwrap()
}

#[tokio::test]
async fn the_weekly_digest_reaches_the_managers_in_matrix_and_the_head_by_mail() {
    let (store, _url, _guard) = support::fresh_store().await;
    let policy = policy(Some("University Registry <registry@uni.example>"));
    week_of_letters(&store).await;
    let units: Vec<String> = ["international", "hr", "registry"].map(String::from).to_vec();
    store.reminders().ensure_digests(&policy, &units, seed::now()).await.unwrap();
    store.reminders().ensure_digests(&policy, &units, seed::now()).await.unwrap(); // once per unit, however often asked

    store.reminders().fire_due(&policy, digest_time() - Duration::seconds(1), 100).await.unwrap();
    let digests_so_far =
        |messages: &[chancery::store::RoomMessageRecord]| messages.iter().filter(|m| m.markdown.contains("Weekly digest")).count();
    assert_eq!(digests_so_far(&store.room_messages().list().await.unwrap()), 0, "nothing before its time");

    store.reminders().fire_due(&policy, digest_time() + Duration::seconds(30), 100).await.unwrap();
    let messages = store.room_messages().list().await.unwrap();
    let digests: Vec<_> = messages.iter().filter(|m| m.markdown.contains("Weekly digest")).collect();
    // The office's manager; HR and the registry have no manager in the directory.
    assert_eq!(digests.len(), 1, "{digests:?}");
    assert_eq!(digests[0].target, RoomTarget::Person(seed::IRO_MANAGER.into()));
    let text = &digests[0].markdown;
    assert!(text.starts_with("### Weekly digest of international\n\n2026-11-30 08:00 to 2026-12-07 08:00 (Asia/Baku)"), "{text}");
    assert!(text.contains("**2** received (2 routed), **1** answered, **1** overdue, **2** deadlines"), "{text}");
    for wanted in [ERASMUS_NEW, CHAIRS, seed::documents::ERASMUS, "apply for the visa by 2026-12-10 (in 3 days)", "`!visa show 1`"] {
        assert!(text.contains(wanted), "{wanted}: {text}");
    }

    let mails: Vec<_> = store.outbox().list().await.unwrap().into_iter().filter(|m| m.mail.subject.starts_with("Weekly digest")).collect();
    let to = |address: &str| mails.iter().find(|m| m.recipients == [address.to_string()]).unwrap_or_else(|| panic!("{address}: {mails:?}"));
    let office = to("l.aliyeva@uni.example");
    assert_eq!(office.mail.subject, "Weekly digest of international, 2026-11-30 to 2026-12-07: 2 received, 1 answered, 1 overdue");
    assert!(office.mail.text.contains(ERASMUS_NEW) && !office.mail.text.contains("**"), "{}", office.mail.text);
    let hr = to("n.hasanova@uni.example");
    assert!(hr.mail.text.contains(&format!("{PERSONAL_NEW} {CONFIDENTIAL_PLACEHOLDER}")), "{}", hr.mail.text);
    assert!(!hr.mail.text.contains(PERSONAL_SUBJECT), "{}", hr.mail.text);
    assert_eq!(mails.len(), 2, "the registry's head is not in the policy: {mails:?}");

    // Fired once; the next is a week later.
    store.reminders().fire_due(&policy, digest_time() + Duration::hours(1), 100).await.unwrap();
    assert_eq!(digests_so_far(&store.room_messages().list().await.unwrap()), 1);
    store.reminders().fire_due(&policy, digest_time() + Duration::days(7), 100).await.unwrap();
    assert_eq!(digests_so_far(&store.room_messages().list().await.unwrap()), 2);
    store.close().await;
}

#[tokio::test]
async fn without_mail_the_digest_goes_to_matrix_only() {
    let (store, _url, _guard) = support::fresh_store().await;
    let policy = policy(None);
    week_of_letters(&store).await;
    store.reminders().ensure_digests(&policy, &["international".to_string()], seed::now()).await.unwrap();
    store.reminders().fire_due(&policy, digest_time(), 100).await.unwrap();
    let messages = store.room_messages().list().await.unwrap();
    assert_eq!(messages.iter().filter(|m| m.markdown.contains("Weekly digest of international")).count(), 1);
    assert!(store.outbox().list().await.unwrap().iter().all(|m| !m.mail.subject.starts_with("Weekly digest")));
    store.close().await;
}

// ---------------------------------------------------------------------------------------------
// `chancery report weekly`
// ---------------------------------------------------------------------------------------------

struct Registry {
    dir: tempfile::TempDir,
    url: String,
    _guard: Option<tempfile::TempDir>,
}

impl Registry {
    /// The week's letters in a register the binary then reads; one more letter an hour before
    /// the real now, for the default window.
    async fn new() -> Registry {
        let (store, url, guard) = support::fresh_store().await;
        week_of_letters(&store).await;
        let raw = letter("Baku Office Supplies <sales@supplies.example>", "Delivery note", "delivery-note");
        seed::register(&store, &support::shipped_policy(), &raw, Utc::now() - Duration::hours(1)).await;
        store.close().await;
        Registry { dir: tempfile::tempdir().unwrap(), url, _guard: guard }
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut full = vec!["report", "weekly"];
        full.extend_from_slice(args);
        support::chancery_command(self.dir.path(), &self.url).args(&full).output().expect("run chancery")
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "report weekly {args:?}: {}", describe(&output));
        String::from_utf8(output.stdout).unwrap()
    }

    /// A refusal: exit 2 and one line on stderr, nothing on stdout.
    fn refused(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert_eq!(output.status.code(), Some(2), "report weekly {args:?}: {}", describe(&output));
        assert!(output.stdout.is_empty(), "{}", describe(&output));
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{}", describe(&output));
        lines[0].to_string()
    }
}

#[tokio::test]
async fn report_weekly_prints_each_unit_in_markdown_csv_and_json() {
    let reg = Registry::new().await;

    let md = reg.ok(&["--week", "2026-W49"]);
    let headings: Vec<&str> = md.lines().filter(|l| l.starts_with("### ")).collect();
    assert_eq!(
        headings,
        ["registry", "international", "rectorate", "finance", "hr", "students"].map(|u| format!("### Weekly digest of {u}")),
        "{md}"
    );
    assert!(md.contains("2026-11-30 00:00 to 2026-12-07 00:00 (Asia/Baku)"), "{md}");
    assert!(md.contains(&format!("- {ERASMUS_NEW} “Erasmus+ learning agreements for spring 2027”: 2026-11-30 17:00, answered")), "{md}");
    assert!(md.contains(&format!("- {PERSONAL_NEW} {CONFIDENTIAL_PLACEHOLDER}: 2026-11-30 17:01")), "{md}");
    assert!(!md.contains(PERSONAL_SUBJECT), "{md}");
    assert!(md.contains("**2** received (2 routed), **1** answered, **1** overdue, **2** deadlines"), "{md}");
    // Only the office's digest has deadlines.
    assert_eq!(md.matches("visa case").count(), 1, "{md}");

    let office = reg.ok(&["--unit", "international", "--week", "2026-W49", "--format", "md"]);
    assert!(office.starts_with("### Weekly digest of international") && !office.contains("of registry"), "{office}");

    let csv = reg.ok(&["--week", "2026-w49", "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "unit,from,until,item,number,subject,status,date,due_on,routed");
    // The first four columns never hold a comma.
    let of =
        |unit: &str, item: &str| lines.iter().filter(|l| l.split(',').next() == Some(unit) && l.split(',').nth(3) == Some(item)).count();
    assert_eq!((of("international", "received"), of("international", "answered"), of("international", "overdue")), (2, 1, 1), "{csv}");
    assert_eq!((of("international", "visa-apply-by"), of("international", "agreement-end")), (1, 1), "{csv}");
    assert!(lines.iter().any(|l| l.contains(",Price list,") && l.ends_with(",no")), "no rule, not rerouted: {csv}");
    assert!(lines.iter().any(|l| l.contains(",Catalogue of office chairs,") && l.ends_with(",yes")), "rerouted by hand: {csv}");
    assert!(lines.iter().any(|l| l.starts_with("hr,") && l.contains(&format!("{PERSONAL_NEW},{CONFIDENTIAL_PLACEHOLDER},"))), "{csv}");
    assert!(!csv.contains(PERSONAL_SUBJECT));

    let json: Value = serde_json::from_str(&reg.ok(&["--unit", "international", "--week", "2026-W49", "--format", "json"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["unit"], "international");
    assert_eq!(json[0]["from"], "2026-11-30T00:00:00+04:00");
    assert_eq!(json[0]["counts"], serde_json::json!({"received": 2, "routed": 2, "answered": 1, "overdue": 1}));
    assert_eq!(json[0]["received"][1]["number"], CHAIRS);
    assert_eq!(json[0]["deadlines"][0]["kind"], "visa-apply-by");

    // By default, the 7 days ending now: the delivery note registered an hour ago.
    let recent: Value = serde_json::from_str(&reg.ok(&["--unit", "registry", "--format", "json"])).unwrap();
    let subjects: Vec<&str> = recent[0]["received"].as_array().unwrap().iter().map(|r| r["subject"].as_str().unwrap()).collect();
    assert!(subjects.contains(&"Delivery note"), "{recent}");

    assert!(reg.refused(&["--week", "2026-49"]).contains("'2026-49' is not an ISO week"));
    assert!(reg.refused(&["--week", "2027-W53", "--format", "csv"]).contains("2026-W49"));
    let unknown = reg.refused(&["--unit", "marketing"]);
    assert!(unknown.contains("no unit 'marketing'") && unknown.contains("international"), "{unknown}");
}
