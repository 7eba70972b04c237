//! Case files on the backend under test (`CHANCERY_TEST_BACKEND=sqlite|postgres`): letters filed
//! into their classes' yearly cases, a reply into its root's case, past years' cases closed by
//! `chancery serve` (the binary, twice at once on PostgreSQL) exactly once, and `chancery case`
//! with its role checks and refusals. The chat's `!case` and `!cases` are their files' examples
//! (tests/assistant.rs).

mod seed;
mod support;

use std::process::Output;
use std::time::Duration;

use chancery::core::viewer::Viewer;
use chancery::store::Store;
use chrono::{TimeZone, Utc};
use support::{chancery_command, describe, serve, stop, wait_for};

fn letter(subject: &str, id: &str, in_reply_to: Option<&str>) -> Vec<u8> {
    let reply = in_reply_to
        .map(|root| format!("In-Reply-To: <{root}@cases.example>\r\nReferences: <{root}@cases.example>\r\n"))
        .unwrap_or_default();
    format!(
        "From: Kapital Bank <statements@bank.example>\r\nTo: registry@uni.example\r\nSubject: {subject}\r\n\
         Message-ID: <{id}@cases.example>\r\n{reply}Date: Mon, 16 Nov 2026 10:00:00 +0400\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nText of {id}.\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn letters_go_to_their_classes_yearly_case_and_a_reply_to_its_roots_case() {
    let (store, _url, _guard) = support::fresh_store().await;
    let policy = support::shipped_policy();
    let at = seed::now();
    let statement = seed::register(&store, &policy, &letter("Bank statement for November", "statement", None), at).await;
    let plain = seed::register(&store, &policy, &letter("A question", "plain", None), at).await;
    // A reply that no rule classifies: it follows its root, not the default class.
    let reply = seed::register(&store, &policy, &letter("Re: thanks", "reply", Some("statement")), at).await;

    let case_of = |number: String| {
        let store = store.clone();
        async move { store.document(&number).await.unwrap().case }
    };
    assert_eq!(case_of(statement.clone()).await.as_deref(), Some("03-02/2026"));
    assert_eq!(case_of(plain).await.as_deref(), Some("07-01/2026"), "the default class takes what no rule classifies");
    assert_eq!(case_of(reply.clone()).await.as_deref(), Some("03-02/2026"), "a reply goes to its root's case");

    let file = store.archive().show("03-02/2026", &Viewer::console_list()).await.unwrap();
    let numbers: Vec<&str> = file.documents.iter().map(|d| d.number.as_str()).collect();
    assert_eq!(numbers, [statement.as_str(), reply.as_str()]);
    assert_eq!(file.case.documents, 2);
    assert!(file.case.is_open() && file.case.sequence.is_none() && file.case.title.is_none(), "{:?}", file.case);
    store.close().await;
}

async fn closed_on(store: &Store, name: &str) -> Option<String> {
    store.archive().case(name).await.ok().and_then(|case| case.closed_on)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_closes_a_past_years_cases_as_of_their_cutoff_once_even_with_two_instances() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, url, _guard) = support::fresh_store().await;
    let policy = support::shipped_policy();
    // A register of last year, brought in now: its letters were filed when registered, and
    // their yearly cases wait for their cutoff to be seen.
    let last_year = Utc.with_ymd_and_hms(2025, 6, 2, 9, 0, 0).unwrap();
    seed::register(&store, &policy, &letter("Bank statement for May", "may", None), last_year).await;
    seed::register(&store, &policy, &letter("Hello", "hello", None), last_year).await;
    seed::register(&store, &policy, &letter("Bank statement for November", "november", None), seed::now()).await;
    assert_eq!(closed_on(&store, "03-02/2025").await, None, "nothing closes a case but the clock");

    let postgres = store.backend() == chancery::store::Backend::Postgres;
    let mut instances = vec![serve(dir.path(), &url, "serve-a")];
    if postgres {
        instances.push(serve(dir.path(), &url, "serve-b"));
    }
    let closed = wait_for(Duration::from_secs(30), || async {
        closed_on(&store, "03-02/2025").await.is_some() && closed_on(&store, "07-01/2025").await.is_some()
    })
    .await;
    // Both instances have caught up at start by now (each logs that it files).
    tokio::time::sleep(Duration::from_secs(2)).await;
    for instance in instances {
        stop(instance);
    }
    let log = std::fs::read_to_string(dir.path().join("serve-a.log")).unwrap_or_default();
    assert!(closed, "the 2025 cases closed; log: {log}");
    assert!(log.contains("filing documents into cases"), "{log}");
    if postgres {
        let other = std::fs::read_to_string(dir.path().join("serve-b.log")).unwrap_or_default();
        assert!(other.contains("filing documents into cases"), "the second instance caught up too: {other}");
    }

    for name in ["03-02/2025", "07-01/2025"] {
        let file = store.archive().show(name, &Viewer::console_list()).await.unwrap();
        assert_eq!(file.case.closed_on.as_deref(), Some("2025-12-31"), "{name} closed as of its cutoff");
        assert_eq!(file.case.closed_by.as_deref(), Some("chancery"));
        let closings: Vec<_> = file.events.iter().filter(|e| e.action == "closed").collect();
        assert_eq!(closings.len(), 1, "{name} closed once: {:?}", file.events);
        // Closing as of 31 December 2025 in Baku: 20:00 UTC.
        assert_eq!(closings[0].at, "2025-12-31T20:00:00.000000Z");
    }
    assert_eq!(closed_on(&store, "03-02/2026").await, None, "this year's case stays open");
    // What a closed case holds stays there: moving it to a named case is refused, naming both.
    let registrar = seed::staff().into_iter().find(|m| m.id == seed::REGISTRAR).unwrap();
    let class = plan().class("03-02").unwrap().clone();
    let named = store.archive().open_case(&class, "Audit", Some("finance"), &registrar, Utc::now()).await.unwrap();
    let refused = store.archive().add(&named, &["IN-2025-000001".to_string()], &registrar, Utc::now()).await.unwrap_err();
    assert_eq!(refused.to_string(), "IN-2025-000001 is in case 03-02/2025, which is closed (since 2025-12-31); it stays there.");
    let due = store.archive().case("03-02/2025").await.unwrap();
    assert_eq!(due.disposal_due(plan().class("03-02").unwrap(), chrono_tz::Asia::Baku).map(|d| d.to_string()), Some("2035-12-31".into()));
    store.close().await;
}

fn plan() -> chancery::core::archive::FilePlan {
    let book = chancery::rule_files::load(&seed::manifest_dir().join("mail-rules")).expect("shipped rules load");
    book.file_plan().cloned().expect("the shipped file plan")
}

/// `chancery case …` on a register at `url`.
fn case(dir: &std::path::Path, url: &str, args: &[&str]) -> Output {
    chancery_command(dir, url).arg("case").args(args).output().expect("run chancery case")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A refusal: exit 1 and one line on stderr, which says `words`.
fn refused(output: &Output, words: &str) {
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{}", describe(output));
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(words), "{words:?} in: {err}");
}

fn json(output: &Output) -> serde_json::Value {
    assert_eq!(output.status.code(), Some(0), "{}", describe(output));
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(output)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_case_is_opened_filled_shown_listed_and_closed_by_those_who_may() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (store, url, _guard) = seed::seeded_store().await;
    store.close().await;
    let (dir, url) = (dir.path(), url.as_str());
    let (manager, officer, registrar) = (seed::IRO_MANAGER, seed::IRO_OFFICER, seed::REGISTRAR);
    let year = chancery::core::time::year_in(Utc::now(), chrono_tz::Asia::Baku);
    let named = format!("05-02/{year}-1");

    let opened = case(dir, url, &["open", "--code", "05-02", "--title", "Erasmus  2027 *nominations*", "--as", manager]);
    assert_eq!(opened.status.code(), Some(0), "{}", describe(&opened));
    assert_eq!(stdout(&opened).lines().last(), Some(named.as_str()), "the name alone on the last line");
    refused(
        &case(dir, url, &["open", "--code", "05-02", "--title", "x", "--unit", "finance", "--as", manager]),
        &format!("Only registrars, admins and the managers of finance may change case 05-02/{year}-2."),
    );
    refused(
        &case(dir, url, &["open", "--code", "05-02", "--title", "x", "--as", officer]),
        "Only registrars, admins and the managers of international",
    );
    refused(&case(dir, url, &["open", "--code", "99-99", "--title", "x", "--as", registrar]), "there is no class 99-99 in the file plan");
    refused(&case(dir, url, &["open", "--code", "05-02", "--title", "x", "--as", "@nobody:uni.example"]), "not in the staff directory");

    let added = case(dir, url, &["add", &named, "IN-2026-000001", "in-2026-000003", "--as", manager]);
    assert_eq!(added.status.code(), Some(0), "{}", describe(&added));
    assert!(stdout(&added).contains(&format!("IN-2026-000003 added to {named} (from 07-01/2026)")), "{}", stdout(&added));
    // All or nothing: an unknown number refuses the lot.
    refused(&case(dir, url, &["add", &named, "IN-2026-000002", "IN-2026-000099", "--as", registrar]), "IN-2026-000099");
    let personal = json(&chancery_command(dir, url).args(["docs", "show", "IN-2026-000002", "--json"]).output().unwrap());
    assert_ne!(personal["case"], serde_json::json!(named), "nothing was added");
    let again = case(dir, url, &["add", &named, "IN-2026-000002", "IN-2026-000001", "--as", registrar]);
    assert!(stdout(&again).contains(&format!("IN-2026-000001 is in {named} already")), "{}", describe(&again));

    let erasmus = json(&chancery_command(dir, url).args(["docs", "show", "IN-2026-000001", "--json"]).output().unwrap());
    assert_eq!(erasmus["case"], serde_json::json!(named));
    let filed = erasmus["history"].as_array().unwrap().iter().find(|h| h["action"] == "filed").expect("a 'filed' history line");
    assert_eq!((filed["old_value"].as_str(), filed["new_value"].as_str()), (Some("05-02/2026"), Some(named.as_str())));
    assert_eq!(filed["actor"], serde_json::json!(manager));
    let shown = chancery_command(dir, url).args(["docs", "show", "IN-2026-000001"]).output().unwrap();
    assert!(stdout(&shown).contains(&format!("Case:            {named}\n")), "{}", describe(&shown));

    let shown = json(&case(dir, url, &["show", &named, "--json"]));
    assert_eq!(shown["documents"], serde_json::json!(3));
    assert_eq!(shown["class"]["code"], serde_json::json!("05-02"));
    assert_eq!(shown["disposal_due"], serde_json::Value::Null, "05-02 is kept permanently");
    let events: Vec<&str> = shown["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(events, ["opened", "added", "added", "added"]);
    let text = stdout(&case(dir, url, &["show", &named]));
    assert!(text.contains("Erasmus 2027 *nominations*") && text.contains("Disposal:     never: kept permanently"), "{text}");
    assert!(text.contains("[confidential]") && !text.contains("Personal file"), "a confidential subject is hidden as in docs list: {text}");
    let yearly = json(&case(dir, url, &["show", "07-01/2026", "--json"]));
    assert!(yearly["events"].as_array().unwrap().iter().any(|e| e["action"] == "removed"), "{yearly}");

    refused(
        &case(dir, url, &["close", "05-02/2026", "--as", registrar]),
        "05-02/2026 is a yearly case: it closes by itself at the cutoff, on 2026-12-31.",
    );
    refused(&case(dir, url, &["close", &named, "--as", officer]), "may change case");
    let closed = case(dir, url, &["close", &named, "--reason", "nominations sent", "--as", manager]);
    assert_eq!(closed.status.code(), Some(0), "{}", describe(&closed));
    assert!(stdout(&closed).contains(&format!("Case {named} closed on")), "{}", stdout(&closed));
    refused(&case(dir, url, &["add", &named, "IN-2026-000003", "--as", registrar]), &format!("Case {named} is closed"));
    refused(&case(dir, url, &["close", &named, "--as", registrar]), "closed already");
    refused(&case(dir, url, &["show", "05-02/20x"]), "is not a case");

    let closed_list = json(&case(dir, url, &["list", "--closed", "--json"]));
    let names: Vec<&str> = closed_list.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, [named.as_str()]);
    let open_list = stdout(&case(dir, url, &["list", "--open", "--code", "05-02"]));
    assert!(open_list.contains("05-02/2026 ") && !open_list.contains(&named), "{open_list}");
}
