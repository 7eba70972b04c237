//! The calendar of deadlines: the export (all, one unit, one person), people's feeds over HTTP,
//! `!calendar` and `chancery calendar`, on the backend under test.

mod seed;
mod support;

use std::time::Duration;

use chancery::commands::{Catalog, Context, Request, answer};
use chancery::core::calendar::{CalendarHead, FeedDays, Window, render};
use chancery::core::time::day_bounds;
use chancery::core::viewer::{Audience, Viewer};
use chancery::store::{NewMeeting, Scope, Store};
use chrono::{TimeZone, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const DOMAIN: &str = "chancery.uni.example";

/// Says `text` as `sender` in a direct message (or a shared room), as the seeded world's now.
async fn say(store: &Store, sender: &str, text: &str, audience: Audience) -> String {
    let catalog = Catalog::load(&seed::manifest_dir().join("commands")).expect("commands load");
    let settings = seed::settings();
    let context = Context { store, catalog: &catalog, settings: &settings };
    let request = Request { sender, text, audience, room: None, now: seed::now() };
    answer(&context, &request).await.map(|reply| reply.markdown).unwrap_or_default()
}

/// A seeded store with a visa case, an agreement and a meeting besides the seeded letters.
async fn world() -> (Store, String, Option<tempfile::TempDir>) {
    let (store, url, guard) = seed::seeded_store().await;
    let visa = say(
        &store,
        seed::IRO_OFFICER,
        "!visa add @officer:uni.example country=DE kind=schengen travel=2026-12-20..2026-12-28 apply-by=2026-12-10 visa-expires=2027-06-28",
        Audience::Private,
    )
    .await;
    assert!(visa.contains("Visa case 1 is open"), "{visa}");
    let agreement =
        say(&store, seed::IRO_OFFICER, "!agreement add ut kind=erasmus-iia start=2021-09-01 end=2027-06-30", Audience::Private).await;
    assert!(agreement.contains('1'), "{agreement}");
    let meeting = NewMeeting {
        title: "Erasmus committee, spring".into(),
        starts_at: Utc.with_ymd_and_hms(2026, 12, 10, 7, 30, 0).unwrap(),
        participants: vec![seed::IRO_MANAGER.into()],
    };
    store.meetings().add(&support::reminder_policy(), &meeting, seed::IRO_OFFICER, seed::now()).await.expect("a meeting");
    (store, url, guard)
}

async fn export(store: &Store, scope: &Scope<'_>) -> String {
    let events = store.calendar().events(scope, seed::now()).await.expect("the calendar's events");
    render(&CalendarHead { name: "Chancery", domain: DOMAIN, made_at: Utc::now() }, &events)
}

async fn person(store: &Store, mxid: &str) -> Viewer {
    Viewer::new(store.staff().find(mxid).await.expect("directory").expect("a seeded person"), Audience::Private)
}

/// The UIDs of a calendar, in order.
fn uids(text: &str) -> Vec<String> {
    text.replace("\r\n ", "").lines().filter_map(|line| line.strip_prefix("UID:")).map(|uid| uid.trim_end().to_string()).collect()
}

fn unfolded(text: &str) -> String {
    text.replace("\r\n ", "")
}

#[tokio::test]
async fn the_export_holds_every_deadline_with_uids_that_stay_the_same() {
    let (store, _url, _guard) = world().await;
    let all = export(&store, &Scope::All).await;
    let ids = uids(&all);
    for wanted in [
        "visa-1-apply-by",
        "visa-1-expiry",
        "agreement-1-end",
        "agreement-1-notice",
        "letter-IN-2026-000001-due",
        "letter-IN-2026-000002-due",
        "meeting-1",
    ] {
        assert!(ids.contains(&format!("{wanted}@{DOMAIN}")), "{wanted} is missing: {ids:?}");
    }
    let again = export(&store, &Scope::All).await;
    assert_eq!(uids(&again), ids, "a second export has the same events under the same UIDs");
    let all = unfolded(&all);
    assert!(all.contains("DTSTART;VALUE=DATE:20261210\r\nDTEND;VALUE=DATE:20261211"), "{all}");
    assert!(all.contains("DTSTART:20261210T073000Z"), "{all}");
    assert!(all.contains("Erasmus committee\\, spring"), "text is escaped: {all}");
    assert!(!all.contains("Personal file"), "the console's export hides restricted subjects: {all}");
    assert!(all.contains("Due: IN-2026-000002 [confidential]"), "{all}");

    // A letter answered is due no more.
    store.change(seed::documents::ERASMUS, "status", "answered", "test", None, seed::now()).await.expect("status");
    assert!(!uids(&export(&store, &Scope::All).await).contains(&format!("letter-IN-2026-000001-due@{DOMAIN}")));
    store.close().await;
}

#[tokio::test]
async fn a_unit_gets_its_letters_and_the_office_its_visas_and_agreements_too() {
    let (store, _url, _guard) = world().await;
    let hr = uids(&export(&store, &Scope::Unit { unit: "hr", office_unit: "international" }).await);
    assert_eq!(hr, [format!("letter-IN-2026-000002-due@{DOMAIN}")], "hr has its own letter only");
    let office = uids(&export(&store, &Scope::Unit { unit: "international", office_unit: "international" }).await);
    assert!(office.contains(&format!("letter-IN-2026-000001-due@{DOMAIN}")), "{office:?}");
    assert!(office.contains(&format!("visa-1-apply-by@{DOMAIN}")) && office.contains(&format!("agreement-1-end@{DOMAIN}")), "{office:?}");
    assert!(!office.contains(&format!("letter-IN-2026-000002-due@{DOMAIN}")), "{office:?}");
    assert!(!office.iter().any(|uid| uid.starts_with("meeting-")), "{office:?}");
    store.close().await;
}

#[tokio::test]
async fn a_persons_calendar_shows_restricted_subjects_only_to_the_cleared_and_their_own_meetings() {
    let (store, _url, _guard) = world().await;
    let cleared = unfolded(&export(&store, &Scope::Person(&person(&store, seed::HR_OFFICER).await)).await);
    assert!(cleared.contains("Due: IN-2026-000002 Personal file of Dr. Rashad Mammadov"), "{cleared}");
    let clerk = unfolded(&export(&store, &Scope::Person(&person(&store, seed::CLERK).await)).await);
    assert!(!clerk.contains("Personal file"), "{clerk}");
    assert!(clerk.contains("Due: IN-2026-000002 [confidential]"), "{clerk}");
    assert!(clerk.contains("Erasmus+ mobility nominations"), "internal letters are shown in full: {clerk}");
    assert!(!clerk.contains("meeting-1@"), "the clerk does not take part in the meeting");
    let manager = unfolded(&export(&store, &Scope::Person(&person(&store, seed::IRO_MANAGER).await)).await);
    assert!(manager.contains("UID:meeting-1@"), "a participant has the meeting: {manager}");
    let officer = unfolded(&export(&store, &Scope::Person(&person(&store, seed::IRO_OFFICER).await)).await);
    assert!(officer.contains("UID:meeting-1@"), "who called it has the meeting");

    // Shown in full, the letter's history says to whom, once however often the feed is read.
    export(&store, &Scope::Person(&person(&store, seed::HR_OFFICER).await)).await;
    let history = store.document(seed::documents::PERSONAL_FILE).await.expect("the letter").history.unwrap_or_default();
    let disclosures = history.iter().filter(|h| h.action == "disclosed" && h.actor == seed::HR_OFFICER).count();
    assert_eq!(disclosures, 1, "{history:?}");
    assert!(!history.iter().any(|h| h.action == "disclosed" && h.actor == seed::CLERK), "{history:?}");
    store.close().await;
}

/// One HTTP/1.1 GET to the feed server: (status, content type, body).
async fn get(address: std::net::SocketAddr, path: &str) -> (u16, String, String) {
    request(address, "GET", path).await
}

async fn request(address: std::net::SocketAddr, method: &str, path: &str) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect to the feed server");
    let request = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await.expect("an answer in time").expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    let content_type = head
        .lines()
        .find_map(|line| {
            line.split_once(':').filter(|(name, _)| name.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_default();
    (status, content_type, body.to_string())
}

#[tokio::test]
async fn the_feed_answers_a_good_secret_and_404s_an_unknown_or_replaced_one() {
    let (store, _url, _guard) = world().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let settings = chancery::http::FeedSettings { name: "Chancery".into(), domain: DOMAIN.into(), days: Default::default() };
    let server = tokio::spawn(chancery::http::serve(listener, store.clone(), settings, stopped));

    let secret = store.calendar().secret(seed::HR_OFFICER).await.expect("a secret");
    assert_eq!(secret.len(), 64, "32 random bytes in hex: {secret}");
    assert_eq!(store.calendar().secret(seed::HR_OFFICER).await.expect("the same secret"), secret, "made once, then kept");
    assert_ne!(store.calendar().secret(seed::CLERK).await.expect("a secret"), secret);

    let (status, content_type, body) = get(address, &format!("/calendar/{secret}.ics")).await;
    assert_eq!(status, 200, "{body}");
    assert!(content_type.starts_with("text/calendar"), "{content_type}");
    let body = unfolded(&body);
    assert!(body.starts_with("BEGIN:VCALENDAR\r\n") && body.contains("UID:visa-1-apply-by@chancery.uni.example"), "{body}");
    assert!(body.contains("Personal file of Dr. Rashad Mammadov"), "the HR officer is cleared for it: {body}");

    let (status, content_type, body) = request(address, "HEAD", &format!("/calendar/{secret}.ics")).await;
    assert_eq!((status, content_type.starts_with("text/calendar"), body.as_str()), (200, true, ""), "HEAD: the headers only");
    let (status, _, _) = request(address, "POST", &format!("/calendar/{secret}.ics")).await;
    assert_eq!(status, 405);
    let (status, _, _) = get(address, &format!("/calendar/{}.ics", "0".repeat(64))).await;
    assert_eq!(status, 404, "an unknown secret");
    let (status, _, _) = get(address, "/").await;
    assert_eq!(status, 404, "anything else");

    let replaced = store.calendar().replace_secret(seed::HR_OFFICER).await.expect("a new secret");
    assert_ne!(replaced, secret);
    let (status, _, _) = get(address, &format!("/calendar/{secret}.ics")).await;
    assert_eq!(status, 404, "a replaced secret opens nothing");
    let (status, _, _) = get(address, &format!("/calendar/{replaced}.ics")).await;
    assert_eq!(status, 200, "the new one does");

    stop.send_replace(true);
    let stopped = tokio::time::timeout(Duration::from_secs(10), server).await.expect("the server stops when told");
    assert!(stopped.expect("server task").is_ok());
    store.close().await;
}

#[tokio::test]
async fn serve_publishes_the_feed_when_http_is_the_only_part_enabled() {
    let (store, _url, _guard) = world().await;
    let secret = store.calendar().secret(seed::CLERK).await.expect("a secret");
    // A free port, found by binding and letting go: `serve` binds it itself.
    let address = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = chancery::config::Config::load(&dir.path().join("none.toml"), false).expect("default config");
    config.imap.enabled = false;
    config.smtp.enabled = false;
    config.matrix.enabled = false;
    config.reminders.enabled = false;
    config.rules.dir = seed::manifest_dir().join("mail-rules");
    config.http.enabled = true;
    config.http.listen = address.to_string();
    config.http.public_url = format!("http://{address}");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serve = tokio::spawn(chancery::service::run(config, store, async move {
        stopped.await.ok();
    }));
    let path = format!("/calendar/{secret}.ics");
    let mut answered = (0, String::new(), String::new());
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(address).await.is_ok() {
            answered = get(address, &path).await;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(answered.0, 200, "{answered:?}");
    assert!(answered.1.starts_with("text/calendar"), "{answered:?}");
    assert!(!answered.2.contains("Personal file"), "the clerk's feed hides what the clerk may not read");
    stop.send(()).ok();
    let outcome = tokio::time::timeout(Duration::from_secs(10), serve).await.expect("serve stops when told");
    assert!(outcome.expect("serve task").is_ok(), "serve ends without an error");
}

#[tokio::test]
async fn calendar_in_chat_is_given_in_a_direct_message_only() {
    let (store, _url, _guard) = seed::seeded_store().await;
    let shared = say(&store, seed::CLERK, "!calendar", Audience::Shared).await;
    assert!(shared.contains("direct message") && !shared.contains("/calendar/"), "{shared}");
    let revoke_in_room = say(&store, seed::CLERK, "!calendar revoke", Audience::Shared).await;
    assert!(!revoke_in_room.contains("/calendar/"), "{revoke_in_room}");

    let first = say(&store, seed::CLERK, "!calendar", Audience::Private).await;
    let secret = store.calendar().secret(seed::CLERK).await.expect("the secret");
    assert!(first.contains(&format!("https://chancery.uni.example/calendar/{secret}.ics")), "{first}");
    assert_eq!(say(&store, seed::CLERK, "!calendar", Audience::Private).await, first, "the same address until it is revoked");
    let revoked = say(&store, seed::CLERK, "!calendar revoke", Audience::Private).await;
    let new_secret = store.calendar().secret(seed::CLERK).await.expect("the new secret");
    assert_ne!(new_secret, secret);
    assert!(revoked.contains(&format!("/calendar/{new_secret}.ics")) && !revoked.contains(&secret), "{revoked}");
    assert_eq!(store.calendar().owner_of(&secret).await.expect("lookup"), None);
    store.close().await;
}

#[test]
fn chancery_calendar_exports_prints_and_revokes_addresses() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (url, _guard) = runtime.block_on(async {
        let (store, url, guard) = world().await;
        store.close().await;
        (url, guard)
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| {
        let output = support::chancery_command(dir.path(), &url)
            .env("CHANCERY_HTTP__PUBLIC_URL", "https://chancery.uni.example/")
            .env("CHANCERY_SMTP__FROM", "University Registry <registry@uni.example>")
            .args(args)
            .output()
            .expect("run chancery");
        (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let read = |name: &str| unfolded(&std::fs::read_to_string(dir.path().join(name)).expect("the exported file"));

    let (code, out, err) = run(&["calendar", "export", "--out", "all.ics"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("events written to all.ics"), "{out}");
    let all = read("all.ics");
    assert!(all.contains("UID:visa-1-apply-by@chancery.uni.example") && all.contains("UID:meeting-1@"), "{all}");
    assert!(!all.contains("Personal file"), "{all}");
    run(&["calendar", "export", "--out", "again.ics"]);
    assert_eq!(uids(&read("again.ics")), uids(&all), "UIDs are stable across exports");

    let (code, _, err) = run(&["calendar", "export", "--out", "hr.ics", "--unit", "hr"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(uids(&read("hr.ics")), ["letter-IN-2026-000002-due@chancery.uni.example"]);
    let (code, _, err) = run(&["calendar", "export", "--out", "x.ics", "--unit", "nowhere"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("there is no unit 'nowhere'"), "{err}");

    let (code, _, err) = run(&["calendar", "export", "--out", "hr-officer.ics", "--as", seed::HR_OFFICER]);
    assert_eq!(code, Some(0), "{err}");
    assert!(read("hr-officer.ics").contains("Personal file of Dr. Rashad Mammadov"));
    run(&["calendar", "export", "--out", "clerk.ics", "--as", seed::CLERK]);
    assert!(!read("clerk.ics").contains("Personal file"));
    let (code, _, err) = run(&["calendar", "export", "--out", "x.ics", "--as", "@nobody:uni.example"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("not in the staff directory"), "{err}");

    let (code, out, err) = run(&["calendar", "url", seed::CLERK]);
    assert_eq!(code, Some(0), "{err}");
    let address = out.trim().to_string();
    assert!(address.starts_with("https://chancery.uni.example/calendar/") && address.ends_with(".ics"), "{address}");
    assert!(err.contains("http.enabled is false"), "{err}");
    assert_eq!(run(&["calendar", "url", seed::CLERK]).1.trim(), address, "the same address until it is revoked");
    let (code, out, _) = run(&["calendar", "revoke", seed::CLERK]);
    assert_eq!(code, Some(0));
    assert!(out.contains("replaced") && !out.contains(&address), "{out}");
    assert_ne!(run(&["calendar", "url", seed::CLERK]).1.trim(), address);
    let (code, _, err) = run(&["calendar", "url", "@nobody:uni.example"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("not in the staff directory"), "{err}");
}

#[tokio::test]
async fn what_was_called_off_leaves_the_calendar() {
    let (store, _url, _guard) = world().await;
    store
        .meetings()
        .cancel(&support::reminder_policy(), 1, Some("the chair is ill"), seed::IRO_OFFICER, seed::now())
        .await
        .expect("cancelled");
    let end = chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap();
    store.agreements().end(1, end, "the partner withdrew", seed::IRO_MANAGER, seed::now()).await.expect("ended");
    store.visas().cancel(&support::reminder_policy(), 1, seed::IRO_OFFICER, seed::now()).await.expect("cancelled");
    let all = uids(&export(&store, &Scope::All).await);
    for gone in ["meeting-1@", "agreement-1-", "visa-1-"] {
        assert!(!all.iter().any(|uid| uid.starts_with(gone)), "{gone}: {all:?}");
    }
    let manager = uids(&export(&store, &Scope::Person(&person(&store, seed::IRO_MANAGER).await)).await);
    assert!(!manager.iter().any(|uid| uid.starts_with("meeting-1@")), "{manager:?}");
    assert!(all.contains(&format!("letter-IN-2026-000001-due@{DOMAIN}")), "the rest stays: {all:?}");
}

/// Runs a statement on the test's database beside the store (what no command does yet).
async fn execute(url: &str, sql: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(url).await.expect("connect to the test database");
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(&pool).await.expect("the statement runs");
    pool.close().await;
}

/// A feed holds the days of its window (90 days back, 550 ahead of today in Baku, by the
/// server's clock): deadlines on its first and last days are in it, those a day outside are
/// not, meetings count by the office's day, and `?all=1` has every one.
#[tokio::test]
async fn a_feed_holds_the_days_of_its_window_and_all_1_every_deadline() {
    let (store, url, _guard) = world().await;
    let zone = chrono_tz::Asia::Baku;
    let window = Window::around(Utc::now().with_timezone(&zone).date_naive(), FeedDays::default());
    let (first, last) = (window.first, window.last);
    let (before, after) = (first.pred_opt().unwrap(), last.succ_opt().unwrap());
    let trip = |apply_by: chrono::NaiveDate, expires: chrono::NaiveDate| chancery::core::visa::Trip {
        traveller: "Orxan Officer".into(),
        traveller_mxid: None,
        country: "DE".into(),
        kind: "schengen".into(),
        travel_from: first,
        travel_to: last,
        apply_by: Some(apply_by),
        visa_expires: Some(expires),
        passport_expires: None,
    };
    let early =
        store.visas().add(&support::reminder_policy(), &trip(before, first), seed::IRO_OFFICER, seed::now()).await.expect("a visa case");
    let late =
        store.visas().add(&support::reminder_policy(), &trip(last, after), seed::IRO_OFFICER, seed::now()).await.expect("a visa case");
    let ends = after + chrono::Duration::days(400);
    let agreement =
        say(&store, seed::IRO_OFFICER, &format!("!agreement add ut kind=mou start=2026-01-01 end={ends}"), Audience::Private).await;
    assert!(agreement.contains('2'), "{agreement}");
    let minute = chrono::Duration::minutes(1);
    let (first_midnight, after_midnight) = (day_bounds(first, zone).0, day_bounds(last, zone).1);
    let mut meetings = Vec::new();
    for (title, at) in [
        ("before the window", first_midnight - minute),
        ("first day", first_midnight),
        ("last day", after_midnight - minute),
        ("after the window", after_midnight),
    ] {
        let meeting = NewMeeting { title: title.into(), starts_at: at, participants: vec![seed::HR_OFFICER.into()] };
        meetings.push(
            store
                .meetings()
                .add(&support::reminder_policy(), &meeting, seed::IRO_OFFICER, first_midnight - minute * 2)
                .await
                .expect("a meeting"),
        );
    }
    for (number, due) in [(seed::documents::ERASMUS, first), (seed::documents::PERSONAL_FILE, last), (seed::documents::PLAIN, after)] {
        execute(&url, &format!("UPDATE documents SET due_on = '{due}' WHERE number = '{number}'")).await;
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let settings = chancery::http::FeedSettings { name: "Chancery".into(), domain: DOMAIN.into(), days: FeedDays::default() };
    let server = tokio::spawn(chancery::http::serve(listener, store.clone(), settings, stopped));
    let secret = store.calendar().secret(seed::HR_OFFICER).await.expect("a secret");
    let feed = |query: &'static str| {
        let path = format!("/calendar/{secret}.ics{query}");
        async move {
            let (status, _, body) = get(address, &path).await;
            assert_eq!(status, 200, "{body}");
            uids(&body).into_iter().map(|uid| uid.trim_end_matches(&format!("@{DOMAIN}")).to_string()).collect::<Vec<_>>()
        }
    };
    let inside = [
        format!("visa-{early}-expiry"),
        format!("visa-{late}-apply-by"),
        format!("meeting-{}", meetings[1]),
        format!("meeting-{}", meetings[2]),
        "letter-IN-2026-000001-due".to_string(),
        "letter-IN-2026-000002-due".to_string(),
    ];
    let outside = [
        format!("visa-{early}-apply-by"),
        format!("visa-{late}-expiry"),
        format!("meeting-{}", meetings[0]),
        format!("meeting-{}", meetings[3]),
        "letter-IN-2026-000003-due".to_string(),
        "agreement-2-end".to_string(),
    ];
    let windowed = feed("").await;
    for uid in &inside {
        assert!(windowed.contains(uid), "{uid} is in the window {window:?}: {windowed:?}");
    }
    for uid in &outside {
        assert!(!windowed.contains(uid), "{uid} is outside the window {window:?}: {windowed:?}");
    }
    let all = feed("?all=1").await;
    for uid in inside.iter().chain(&outside) {
        assert!(all.contains(uid), "?all=1 has {uid}: {all:?}");
    }
    let everything = export(&store, &Scope::Person(&person(&store, seed::HR_OFFICER).await)).await;
    assert_eq!(uids(&everything).len(), all.len(), "the export keeps every deadline, as ?all=1");

    stop.send_replace(true);
    tokio::time::timeout(Duration::from_secs(10), server).await.expect("the server stops").expect("server task").expect("served");
    store.close().await;
}
