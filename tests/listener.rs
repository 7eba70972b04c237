//! The IMAP listener against the real Dovecot of `scripts/dev-services`, on SQLite or
//! PostgreSQL (`CHANCERY_TEST_BACKEND`). Run through `scripts/test`, which starts the services;
//! without them these tests fail loudly rather than skip.

mod support;

use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use chancery::config::{ImapConfig, MarkMode, RegisterConfig, TlsMode};
use chancery::core::intake::IntakePolicy;
use chancery::imap::{Listener, ListenerStats, Session};
use chancery::store::{DocumentRecord, ListFilter, Store};
use futures::TryStreamExt;
use support::{fresh_store, services, unique, wait_for};
use tokio::sync::{RwLock, watch};

/// Tests that restart Dovecot take this for writing; every other test holds it for reading.
static SERVER: LazyLock<RwLock<()>> = LazyLock::new(|| RwLock::new(()));

fn policy() -> IntakePolicy {
    RegisterConfig::default().policy()
}

fn imap_config(mailbox: &str) -> ImapConfig {
    support::imap_config("registry", mailbox)
}

async fn session() -> Session {
    support::session("registry").await
}

async fn fresh_mailbox(tag: &str) -> String {
    support::fresh_mailbox("registry", tag).await
}

async fn append(mailbox: &str, raw: &[u8]) {
    support::append("registry", mailbox, raw).await;
}

/// Keywords of every message in a mailbox, by UID.
async fn keywords(mailbox: &str) -> Vec<(u32, Vec<String>)> {
    let mut s = session().await;
    s.select(mailbox).await.expect("select");
    let fetched: Vec<_> = s.uid_fetch("1:*", "(UID FLAGS)").await.expect("fetch").try_collect().await.unwrap_or_default();
    let mut out: Vec<(u32, Vec<String>)> =
        fetched.iter().map(|f| (f.uid.unwrap_or(0), f.flags().map(|fl| format!("{fl:?}")).collect())).collect();
    out.sort();
    s.logout().await.ok();
    out
}

async fn server_bytes(mailbox: &str, uid: u32) -> Vec<u8> {
    let mut s = session().await;
    s.select(mailbox).await.expect("select");
    let fetched: Vec<_> = s.uid_fetch(uid.to_string(), "BODY.PEEK[]").await.expect("fetch").try_collect().await.expect("fetch");
    s.logout().await.ok();
    fetched[0].body().expect("body").to_vec()
}

fn letter(subject: &str, body: &str, message_id: &str) -> Vec<u8> {
    format!(
        "From: Partner <partner@uni-x.edu.tr>\r\nTo: registry@uni.example\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         Date: Sat, 28 Nov 2026 09:00:00 +0400\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

struct Running {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    stats: Arc<ListenerStats>,
}

fn start(config: ImapConfig, store: &Store) -> Running {
    let password = config.password.clone();
    let listener = Listener::new(config, password, store.clone(), policy(), support::reminder_policy());
    let stats = listener.stats();
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(async move { listener.run(stopped).await });
    Running { stop, task, stats }
}

impl Running {
    async fn caught_up(&self, times: u64) {
        assert!(
            wait_for(Duration::from_secs(20), || async { self.stats.catch_ups.load(Ordering::SeqCst) >= times }).await,
            "catch-up never finished"
        );
    }

    async fn stop(self) -> Arc<ListenerStats> {
        self.stop.send(true).ok();
        tokio::time::timeout(Duration::from_secs(10), self.task).await.expect("listener stops").expect("join").expect("listener ran");
        self.stats
    }
}

async fn documents(store: &Store) -> Vec<DocumentRecord> {
    store.list(&ListFilter::default()).await.expect("list")
}

fn flag_names(d: &DocumentRecord) -> Vec<String> {
    d.flags.iter().filter_map(|f| f["flag"].as_str().map(str::to_string)).collect()
}

/// `chancery serve` on the store at `url`, listening as `registry` on the dev Dovecot (plain
/// IMAP on loopback) with `password`.
fn serve_command(url: &str, password: &str) -> std::process::Command {
    let s = services();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_chancery"));
    command
        .arg("serve")
        .env("CHANCERY_DATABASE__URL", url)
        .env("CHANCERY_IMAP__HOST", &s.host)
        .env("CHANCERY_IMAP__PORT", s.imap_port.to_string())
        .env("CHANCERY_IMAP__TLS", "none")
        .env("CHANCERY_IMAP__USER", "registry")
        .env("CHANCERY_IMAP__PASSWORD", password);
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letter_appended_is_registered_within_two_seconds_through_idle() {
    let _server = SERVER.read().await;
    let (store, _, _guard) = fresh_store().await;
    let mailbox = fresh_mailbox("idle").await;
    let running = start(imap_config(&mailbox), &store);
    running.caught_up(1).await;

    let appended = Instant::now();
    append(&mailbox, &letter("Erasmus+ agreement renewal", "Dear colleagues", "idle-1@uni-x.edu.tr")).await;
    let registered = wait_for(Duration::from_secs(2), || async { documents(&store).await.len() == 1 }).await;
    let delay = appended.elapsed();
    assert!(registered, "not registered within 2 s of APPEND");

    let docs = documents(&store).await;
    assert_eq!(docs[0].subject, "Erasmus+ agreement renewal");
    assert!(docs[0].number.starts_with("IN-") && docs[0].number.ends_with("-000001"), "{}", docs[0].number);
    assert!(
        wait_for(Duration::from_secs(2), || async {
            keywords(&mailbox).await.iter().all(|(_, k)| k.iter().any(|k| k.contains("$Registered")))
        })
        .await
    );
    running.stop().await;
    eprintln!("APPEND to registered: {delay:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dovecot_restarted_while_idling_then_new_mail_is_registered() {
    let _server = SERVER.write().await;
    let (store, _, _guard) = fresh_store().await;
    let mailbox = fresh_mailbox("restart").await;
    append(&mailbox, &letter("before restart", "one", "restart-1@x.org")).await;
    let running = start(imap_config(&mailbox), &store);
    running.caught_up(1).await;
    assert_eq!(documents(&store).await.len(), 1);

    let status = std::process::Command::new(services().script).args(["restart", "dovecot"]).status().expect("run dev-services");
    assert!(status.success(), "dev-services restart dovecot failed");
    append(&mailbox, &letter("after restart", "two", "restart-2@x.org")).await;

    assert!(
        wait_for(Duration::from_secs(20), || async { documents(&store).await.len() == 2 }).await,
        "the letter appended after the restart was not registered"
    );
    assert!(running.stats.sessions.load(Ordering::SeqCst) >= 2, "the listener must have reconnected");
    let subjects: Vec<String> = documents(&store).await.into_iter().map(|d| d.subject).collect();
    assert_eq!(subjects, vec!["before restart", "after restart"]);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_bytes_are_one_letter_and_a_shared_message_id_is_two() {
    let _server = SERVER.read().await;
    let (store, _, _guard) = fresh_store().await;
    let mailbox = fresh_mailbox("dupes").await;
    let first = letter("Invitation", "first text", "shared@uni-x.edu.tr");
    let other = letter("Invitation", "a different text", "shared@uni-x.edu.tr");
    append(&mailbox, &first).await;
    append(&mailbox, &first).await;
    append(&mailbox, &other).await;

    let running = start(imap_config(&mailbox), &store);
    running.caught_up(1).await;
    let stats = running.stop().await;

    let docs = documents(&store).await;
    assert_eq!(docs.len(), 2, "same bytes twice is one letter; other bytes with the same Message-ID are another");
    assert!(flag_names(&docs[0]).is_empty());
    assert_eq!(flag_names(&docs[1]), vec!["possible-duplicate"]);
    assert_eq!(docs[1].flags[0]["of"], docs[0].number.as_str());
    assert_eq!(stats.same_letter.load(Ordering::SeqCst), 1);
    let marks = keywords(&mailbox).await;
    assert_eq!(marks.len(), 3);
    assert!(marks.iter().all(|(_, k)| k.iter().any(|k| k.contains("$Registered"))), "all three server messages are marked: {marks:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_uidvalidity_registers_nothing_twice() {
    let _server = SERVER.read().await;
    let (store, _, _guard) = fresh_store().await;
    let mailbox = fresh_mailbox("uidvalidity").await;
    let letters: Vec<Vec<u8>> = (1..=3).map(|i| letter(&format!("letter {i}"), "text", &format!("uv-{i}@x.org"))).collect();
    for raw in &letters {
        append(&mailbox, raw).await;
    }
    let running = start(imap_config(&mailbox), &store);
    running.caught_up(1).await;
    running.stop().await;
    assert_eq!(documents(&store).await.len(), 3);

    // Recreate the mailbox: the server gives it a new UIDVALIDITY, and the same letters return.
    let mut s = session().await;
    let before = s.select(&mailbox).await.expect("select").uid_validity;
    s.close().await.ok();
    s.delete(&mailbox).await.expect("delete");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    s.create(&mailbox).await.expect("create");
    let after = s.select(&mailbox).await.expect("select").uid_validity;
    s.logout().await.ok();
    assert_ne!(before, after, "Dovecot must give the recreated mailbox a new UIDVALIDITY");
    for raw in &letters {
        append(&mailbox, raw).await;
    }
    append(&mailbox, &letter("a new one", "text", "uv-4@x.org")).await;

    let running = start(imap_config(&mailbox), &store);
    running.caught_up(1).await;
    let stats = running.stop().await;
    let docs = documents(&store).await;
    assert_eq!(docs.iter().map(|d| d.subject.as_str()).collect::<Vec<_>>(), vec!["letter 1", "letter 2", "letter 3", "a new one"]);
    assert_eq!(stats.same_letter.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_downloads_no_bodies_and_marks_what_was_left_unmarked() {
    let _server = SERVER.read().await;
    let (store, _, _guard) = fresh_store().await;
    let mailbox = fresh_mailbox("second-run").await;
    for i in 1..=20 {
        append(&mailbox, &letter(&format!("letter {i}"), &"body ".repeat(200), &format!("sr-{i}@x.org"))).await;
    }
    let running = start(imap_config(&mailbox), &store);
    running.caught_up(1).await;
    let first = running.stop().await;
    assert_eq!(first.bodies_fetched.load(Ordering::SeqCst), 20);

    // As after a crash between commit and marking: registered, but not marked on the server.
    let mut s = session().await;
    s.select(&mailbox).await.expect("select");
    let _: Vec<_> = s.uid_store("1:5", "-FLAGS.SILENT ($Registered)").await.expect("store").try_collect().await.expect("store");
    s.logout().await.ok();

    let running = start(imap_config(&mailbox), &store);
    running.caught_up(1).await;
    let second = running.stop().await;
    assert_eq!(second.bodies_fetched.load(Ordering::SeqCst), 0, "no body is downloaded twice");
    assert_eq!(second.body_bytes_fetched.load(Ordering::SeqCst), 0);
    assert_eq!(second.registered.load(Ordering::SeqCst), 0);
    assert_eq!(documents(&store).await.len(), 20);
    assert!(keywords(&mailbox).await.iter().all(|(_, k)| k.iter().any(|k| k.contains("$Registered"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn charsets_of_this_universitys_mail_come_out_right() {
    let _server = SERVER.read().await;
    let (store, _, _guard) = fresh_store().await;
    let mailbox = fresh_mailbox("charsets").await;
    let az = "From: =?UTF-8?B?TMmZbWFuIMaPbGl5ZXY=?= <leman@adu.edu.az>\r\nTo: registry@uni.example\r\n\
              Subject: =?UTF-8?Q?M=C3=BCqavil=C9=99_la=C4=9F=C4=B1=C5=9F?=\r\nMessage-ID: <az@adu.edu.az>\r\n\
              Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nƏziz həmkarlar, müqavilə imzalanmışdır.\r\n"
        .as_bytes()
        .to_vec();
    // windows-1251 and KOI8-R Russian; ISO-8859-9 Turkish; encoded in subjects, names and bodies.
    let mut ru1251 = b"From: =?windows-1251?B?yOLg7SDP5fLw7uI=?= <ivan@msu.ru>\r\nTo: registry@uni.example\r\nSubject: =?windows-1251?B?z/Du8u7q7usg0+3o4uXw8ejy5fI=?=\r\nMessage-ID: <ru1251@msu.ru>\r\nContent-Type: text/plain; charset=windows-1251\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".to_vec();
    ru1251.extend_from_slice(b"\xcf\xf0\xe8\xe2\xe5\xf2, \xea\xee\xeb\xeb\xe5\xe3\xe8\r\n");
    let mut koi8 = b"From: =?KOI8-R?B?7sHUwczY0Q==?= <natalya@spbu.ru>\r\nTo: registry@uni.example\r\nSubject: =?KOI8-R?B?8NLJx8zB28XOycU=?=\r\nMessage-ID: <koi8@spbu.ru>\r\nContent-Type: text/plain; charset=KOI8-R\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".to_vec();
    koi8.extend_from_slice(b"\xf0\xd2\xc9\xd7\xc5\xd4\r\n");
    let mut tr = b"From: =?ISO-8859-9?Q?=DEule_Y=FDlmaz?= <sule@ankara.edu.tr>\r\nTo: registry@uni.example\r\nSubject: =?ISO-8859-9?Q?=DEubat_toplant=FDs=FD?=\r\nMessage-ID: <tr@ankara.edu.tr>\r\nContent-Type: text/plain; charset=ISO-8859-9\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".to_vec();
    tr.extend_from_slice(b"G\xf6r\xfc\xfeme \xfe\xfd\xf0\r\n");
    for raw in [&az, &ru1251, &koi8, &tr] {
        append(&mailbox, raw).await;
    }
    let running = start(imap_config(&mailbox), &store);
    running.caught_up(1).await;
    running.stop().await;

    let docs = documents(&store).await;
    let seen: Vec<(String, String)> = docs.iter().map(|d| (d.subject.clone(), d.from[0].name.clone().unwrap_or_default())).collect();
    assert_eq!(
        seen,
        vec![
            ("Müqavilə lağış".to_string(), "Ləman Əliyev".to_string()),
            ("Протокол Университет".to_string(), "Иван Петров".to_string()),
            ("Приглашение".to_string(), "Наталья".to_string()),
            ("Şubat toplantısı".to_string(), "Şule Yılmaz".to_string()),
        ]
    );
    let bodies: Vec<String> = futures::future::join_all(docs.iter().map(|d| store.search(&d.subject)))
        .await
        .into_iter()
        .map(|r| r.expect("search").len().to_string())
        .collect();
    assert!(bodies.iter().all(|n| n == "1"), "each subject finds its letter: {bodies:?}");
    assert_eq!(store.search("imzalanmışdır").await.expect("search").len(), 1, "Azerbaijani body");
    assert_eq!(store.search("коллеги").await.expect("search").len(), 1, "windows-1251 body");
    assert_eq!(store.search("привет").await.expect("search").len(), 2, "windows-1251 and KOI8-R bodies");
    assert_eq!(store.search("görüşme").await.expect("search").len(), 1, "ISO-8859-9 body");
    assert!(docs.iter().all(|d| d.flags.is_empty()), "known charsets are not flagged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_attachment_names_broken_mime_and_oversize_are_registered_and_flagged() {
    let _server = SERVER.read().await;
    let (store, _, _guard) = fresh_store().await;
    let mailbox = fresh_mailbox("hostile").await;
    let long_name = "x".repeat(500);
    let hostile = format!(
        "From: attacker@evil.example\r\nTo: registry@uni.example\r\nSubject: hostile names\r\nMessage-ID: <hostile@evil.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
         --B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"../../etc/passwd\"\r\n\r\nroot:x:0:0\r\n\
         --B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"evil\u{0}name.pdf\"\r\n\r\n%PDF\r\n\
         --B\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"{long_name}.txt\"\r\n\r\nlong\r\n--B--\r\n"
    );
    let broken = b"From: a@x.org\r\nTo: registry@uni.example\r\nSubject: broken\r\nMessage-ID: <broken@x.org>\r\nContent-Type: multipart/mixed; boundary=\"never-closed\"\r\n\r\n--never-closed\r\nContent-Type: text/plain\r\n\r\nthe text survives\r\n".to_vec();
    let garbage: Vec<u8> = (0u8..=255).cycle().take(3000).collect();
    let oversize = letter("a very large report", &"z".repeat(6000), "big@x.org");
    for raw in [hostile.as_bytes(), &broken, &garbage, &oversize] {
        append(&mailbox, raw).await;
    }
    let config = ImapConfig { max_message_bytes: Some(5000), ..imap_config(&mailbox) };
    let running = start(config, &store);
    running.caught_up(1).await;
    running.stop().await;

    let docs = documents(&store).await;
    assert_eq!(docs.len(), 4, "nothing is dropped");
    let names: Vec<&str> = docs[0].attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names[0], "passwd");
    // Dovecot stores a NUL as 0x80; whatever arrives, no control character survives.
    assert!(names[1].ends_with("name.pdf") && !names[1].chars().any(char::is_control), "{:?}", names[1]);
    assert!(names[2].chars().count() <= 180 && !names[2].contains('/'));
    assert!(flag_names(&docs[0]).iter().all(|f| f == "hostile-attachment-name") && flag_names(&docs[0]).len() >= 2);
    let passwd = store.attachment(&docs[0].number, 1).await.expect("attachment");
    assert_eq!(passwd.content, b"root:x:0:0");
    assert!(!std::path::Path::new("passwd").exists() && !std::path::Path::new("../../etc/passwd.chancery").exists());

    assert_eq!(flag_names(&docs[1]), vec!["broken-mime"]);
    assert!(store.search("survives").await.expect("search").iter().any(|d| d.number == docs[1].number));
    assert_eq!(flag_names(&docs[2]), vec!["unparsed"]);
    // Dovecot normalises line ends and NULs on APPEND: the register keeps what the server holds.
    let on_server = server_bytes(&mailbox, 3).await;
    assert!(store.raw(&docs[2].number).await.expect("raw") == on_server, "unparsable mail is kept raw, byte-exact");

    assert_eq!(flag_names(&docs[3]), vec!["oversize"]);
    assert_eq!(docs[3].subject, "a very large report", "registered from its headers");
    let marks = keywords(&mailbox).await;
    assert!(marks[3].1.iter().all(|k| !k.contains("$Registered")), "the oversize letter stays unmarked in the mailbox");
    assert!(marks[..3].iter().all(|(_, k)| k.iter().any(|k| k.contains("$Registered"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_tls_and_starttls_with_the_private_ca_and_move_mode() {
    let _server = SERVER.read().await;
    let s = services();
    for (tls, port) in [(TlsMode::Implicit, s.imaps_port), (TlsMode::Starttls, s.imap_port)] {
        let (store, _, _guard) = fresh_store().await;
        let mailbox = fresh_mailbox("tls").await;
        append(&mailbox, &letter("over TLS", "text", &unique("tls"))).await;
        let config = ImapConfig {
            tls,
            port: Some(port),
            host: "localhost".into(),
            ca_file: Some(s.ca.clone().into()),
            mark: MarkMode::Move,
            move_to: format!("{mailbox}-done"),
            ..imap_config(&mailbox)
        };
        let running = start(config, &store);
        running.caught_up(1).await;
        running.stop().await;
        assert_eq!(documents(&store).await.len(), 1, "{tls:?}");
        assert!(keywords(&mailbox).await.is_empty(), "{tls:?}: the registered letter was moved out");
        assert_eq!(keywords(&format!("{mailbox}-done")).await.len(), 1, "{tls:?}: into the folder for registered mail");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_the_middle_of_a_backlog_then_restart_registers_every_letter_once() {
    let _server = SERVER.read().await;
    let s = services();
    let (store, url, _guard) = fresh_store().await;
    let mailbox = fresh_mailbox("kill9").await;
    let count = 300;
    let mut s_append = session().await;
    for i in 1..=count {
        let raw = letter(&format!("backlog {i}"), &"text of a letter ".repeat(100), &format!("k9-{i}@x.org"));
        s_append.append(&mailbox, None, None, &raw).await.expect("append");
    }
    s_append.logout().await.ok();

    let serve = || {
        serve_command(&url, &s.password)
            .env("CHANCERY_IMAP__MAILBOX", &mailbox)
            .env("CHANCERY_IMAP__FETCH_BATCH_BYTES", "20000")
            .env("CHANCERY_LOG__LEVEL", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start chancery serve")
    };
    let mut first = serve();
    let some = wait_for(Duration::from_secs(30), || async { documents(&store).await.len() >= 40 }).await;
    first.kill().expect("kill -9");
    first.wait().ok();
    let at_kill = documents(&store).await.len();
    assert!(some && at_kill < count, "killed mid-backlog: {at_kill} of {count} registered");

    let mut second = serve();
    let all = wait_for(Duration::from_secs(60), || async { documents(&store).await.len() >= count }).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    std::process::Command::new("kill").args(["-TERM", &second.id().to_string()]).status().ok();
    second.wait().ok();
    assert!(all, "every letter registered after the restart");

    let docs = documents(&store).await;
    assert_eq!(docs.len(), count, "each letter exactly once");
    let mut subjects: Vec<String> = docs.iter().map(|d| d.subject.clone()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), count);
    for (i, d) in docs.iter().enumerate() {
        assert!(d.number.ends_with(&format!("-{:06}", i + 1)), "gapless: {} at {}", d.number, i + 1);
    }
    assert!(
        wait_for(Duration::from_secs(5), || async {
            keywords(&mailbox).await.iter().all(|(_, k)| k.iter().any(|k| k.contains("$Registered")))
        })
        .await,
        "every message is marked after the restart"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_a_wrong_imap_password_stops_at_once_with_one_line_saying_what_to_check() {
    let _server = SERVER.read().await;
    let s = services();
    let (_store, url, _guard) = fresh_store().await;
    let started = Instant::now();
    let mut serve = serve_command(&url, "not-the-password")
        .env("CHANCERY_LOG__LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start chancery serve");
    let stopped = wait_for(Duration::from_secs(20), || {
        let exited = serve.try_wait().expect("wait").is_some();
        async move { exited }
    })
    .await;
    if !stopped {
        serve.kill().ok();
    }
    let output = serve.wait_with_output().expect("output");
    assert!(stopped, "serve kept running with a password the server refuses");
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    let expected = format!("chancery: the IMAP server {}:{} refused the login as registry: ", s.host, s.imap_port);
    assert!(lines[0].starts_with(&expected), "{stderr}");
    assert!(lines[0].contains("AUTHENTICATIONFAILED") && lines[0].contains("imap.user and imap.password"), "{stderr}");
    assert!(!stderr.contains("code: None") && !stderr.contains("info: Some"), "{stderr}");
}

/// A letter as a scanner sends it: a line of text and a file of random bytes in base64.
fn letter_with_attachment(subject: &str, message_id: &str, file: &[u8]) -> Vec<u8> {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut raw = format!(
        "From: Registrar <registrar@tsu.ge>\r\nTo: registry@uni.example\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         Date: Sat, 28 Nov 2026 09:00:00 +0400\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"S\"\r\n\r\n\
         --S\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe signed agreement, scanned.\r\n\
         --S\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"scan.pdf\"\r\n\r\n"
    )
    .into_bytes();
    for line in file.chunks(57) {
        for chunk in line.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            raw.push(B64[(n >> 18) as usize & 63]);
            raw.push(B64[(n >> 12) as usize & 63]);
            raw.push(if chunk.len() > 1 { B64[(n >> 6) as usize & 63] } else { b'=' });
            raw.push(if chunk.len() > 2 { B64[n as usize & 63] } else { b'=' });
        }
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"--S--\r\n");
    raw
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letter_of_thirty_megabytes_is_registered_byte_exact_with_its_attachment() {
    let _server = SERVER.read().await;
    let (store, url, _guard) = fresh_store().await;
    let mailbox = fresh_mailbox("big").await;
    // Random bytes (an LCG: the test needs no entropy), 22 MB: 30 MB once in base64.
    let mut state: u64 = 0x5eed;
    let file: Vec<u8> = (0..22_000_000)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect();
    let big = letter_with_attachment("Signed agreement, scanned", "big-scan@tsu.ge", &file);
    assert!(big.len() > 30_000_000, "{}", big.len());
    let small = letter("After the large one", "a short letter", "after-big@uni-x.edu.tr");
    append(&mailbox, &big).await;
    append(&mailbox, &small).await;

    let running = start(imap_config(&mailbox), &store);
    running.caught_up(1).await;
    running.stop().await;

    let docs = documents(&store).await;
    assert_eq!(docs.iter().map(|d| d.subject.as_str()).collect::<Vec<_>>(), ["Signed agreement, scanned", "After the large one"]);
    let registered = &docs[0];
    assert_eq!(registered.sha256, chancery::core::letter::fingerprint(&big));
    assert!(flag_names(registered).is_empty(), "{:?}", registered.flags);
    assert!(store.raw(&registered.number).await.expect("raw") == big, "the stored message is the appended bytes");
    let attachment = store.attachment(&registered.number, 1).await.expect("attachment");
    assert!(attachment.content == file, "the attachment is the file, decoded byte-exact");
    assert_eq!(registered.attachments[0].sha256, chancery::core::letter::fingerprint(&file));
    assert!(keywords(&mailbox).await.iter().all(|(_, k)| k.iter().any(|k| k.contains("$Registered"))));

    // `docs raw` prints the same bytes.
    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_chancery"))
        .args(["docs", "raw", &registered.number])
        .current_dir(std::env::temp_dir())
        .env("CHANCERY_DATABASE__URL", &url)
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("run chancery docs raw");
    assert!(printed.status.success());
    assert!(printed.stdout == big, "docs raw prints the appended bytes ({} of {})", printed.stdout.len(), big.len());
}
