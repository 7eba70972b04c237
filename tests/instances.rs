//! Several `chancery serve` on one register: leases, heartbeats, takeover after `kill -9`, a
//! holder cut off from its database, and `chancery status`. The store-level tests run on SQLite
//! and PostgreSQL (`CHANCERY_TEST_BACKEND`); the three-instance and cut-off tests need
//! PostgreSQL (several processes sharing one database is what it is for) and say so on SQLite.
//! They use the real Dovecot and Postfix of `scripts/dev-services`.

mod support;

use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chancery::core::outbound::{MailKind, OutgoingMail};
use chancery::store::{InstanceRecord, ListFilter, OpenMode, Store};
use chrono::{DateTime, Utc};
use support::{chancery_command, fresh_store, send_through_dev_postfix, services, unique, wait_for};
use tokio::sync::watch;

/// Two processes on the same register: each a store of its own, acting as instance "a" and "b".
async fn two_processes(url: &str) -> (Store, Store) {
    let zone = chrono_tz::Asia::Baku;
    let a = Store::open(url, zone, OpenMode::Existing).await.expect("open a");
    let b = Store::open(url, zone, OpenMode::Existing).await.expect("open b");
    a.act_as("a");
    b.act_as("b");
    (a, b)
}

fn postgres() -> bool {
    std::env::var("CHANCERY_TEST_BACKEND").as_deref() == Ok("postgres")
}

fn instance(name: &str, heartbeat_at: DateTime<Utc>, lease_secs: i64) -> InstanceRecord {
    InstanceRecord {
        name: name.into(),
        host: "test-host".into(),
        pid: 4242,
        started_at: heartbeat_at,
        heartbeat_at,
        alive_until: heartbeat_at + chrono::Duration::seconds(lease_secs),
    }
}

fn mail(tag: &str) -> OutgoingMail {
    OutgoingMail {
        kind: MailKind::Acknowledgement,
        from: "University Registry <registry@uni.example>".into(),
        to: vec![format!("{tag}@uni-x.edu.tr")],
        subject: format!("Registered {tag}"),
        text: "Registered.".into(),
        in_reply_to: None,
        references: Vec::new(),
        auto_submitted: true,
        attach_original: false,
        attachments: Vec::new(),
        message_id: format!("{tag}@uni.example"),
    }
}

/// `chancery status --json` against the register at `url`: its exit status and the object.
fn status(url: &str) -> (Option<i32>, serde_json::Value) {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = chancery_command(dir.path(), url).args(["status", "--json"]).output().expect("run chancery status");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("status --json printed no JSON ({e}): {stdout}{}", String::from_utf8_lossy(&output.stderr)));
    (output.status.code(), value)
}

/// The names of the instances holding `resource`, by `status --json`.
fn holders(status: &serde_json::Value, resource: &str) -> Vec<String> {
    status["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["holds"].as_array().is_some_and(|h| h.iter().any(|r| r == resource)))
        .filter_map(|i| i["name"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_is_held_by_one_instance_until_it_runs_out_and_then_by_the_next() {
    let (store, _, _guard) = fresh_store().await;
    let leases = store.instances();
    let t0 = DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z").unwrap().with_timezone(&Utc);
    let s = chrono::Duration::seconds;
    assert!(leases.acquire("mailbox:INBOX", "a", t0, t0 + s(20)).await.unwrap(), "a free lease is taken");
    assert!(!leases.acquire("mailbox:INBOX", "b", t0 + s(1), t0 + s(21)).await.unwrap(), "a held lease is refused");
    assert!(leases.acquire("mailbox:INBOX", "a", t0 + s(5), t0 + s(25)).await.unwrap(), "its holder renews it");
    assert!(!leases.acquire("mailbox:INBOX", "b", t0 + s(24), t0 + s(44)).await.unwrap(), "renewed: still a's");
    assert!(leases.acquire("mailbox:INBOX", "b", t0 + s(25), t0 + s(45)).await.unwrap(), "run out: b takes it");
    assert!(!leases.acquire("mailbox:INBOX", "a", t0 + s(26), t0 + s(46)).await.unwrap(), "a finds it taken");
    assert!(leases.acquire("mailbox:Other", "a", t0 + s(26), t0 + s(46)).await.unwrap(), "another resource is apart");
    let held: BTreeMap<String, String> = leases.leases().await.unwrap().into_iter().map(|lease| (lease.resource, lease.holder)).collect();
    assert_eq!(held, BTreeMap::from([("mailbox:INBOX".into(), "b".into()), ("mailbox:Other".into(), "a".into())]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_claimed_by_a_dead_instance_is_taken_over_and_its_late_mark_changes_nothing() {
    let (_, url, _guard) = fresh_store().await;
    let (a, b) = two_processes(&url).await;
    // Whole seconds: the register keeps microseconds.
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("now");
    a.instances().join(&instance("a", now, 20)).await.unwrap();
    b.instances().join(&instance("b", now, 20)).await.unwrap();
    let id = a.outbox().enqueue(None, &mail(&unique("takeover")), now).await.unwrap();
    let lease = chrono::Duration::seconds(120);
    let claimed = a.outbox().claim_due(now, 5, lease).await.unwrap();
    assert_eq!(claimed.iter().map(|item| item.id).collect::<Vec<_>>(), [id]);

    // a is alive and sending slowly: b does not take its mail.
    let later = now + chrono::Duration::seconds(10);
    a.instances().heartbeat(&instance("a", later, 20)).await.unwrap();
    assert!(b.outbox().claim_due(later, 5, lease).await.unwrap().is_empty(), "a slow sender that is alive keeps its mail");
    assert!(b.outbox().claim(id, later, lease).await.unwrap().is_none());
    let due = b.outbox().next_due().await.unwrap().expect("a mail is being sent");
    assert_eq!(due, later + chrono::Duration::seconds(20), "the mail may be taken when a's heartbeat lapses");

    // a is killed: its heartbeat lapses 20 s after the last one, and b takes the mail then.
    let dead = later + chrono::Duration::seconds(21);
    let taken = b.outbox().claim_due(dead, 5, lease).await.unwrap();
    assert_eq!(taken.iter().map(|item| (item.id, item.attempts)).collect::<Vec<_>>(), [(id, 2)]);
    assert_eq!(taken[0].mail.message_id, claimed[0].mail.message_id, "sent again, it is the same message");

    // a's send completes after all (it was not dead, only cut off): marking changes nothing.
    a.outbox().mark_sent(id, dead).await.unwrap();
    a.outbox().mark_retry(id, "late", dead).await.unwrap();
    assert_eq!(b.outbox().mail(id).await.unwrap().status, "sending", "still b's");
    b.outbox().mark_sent(id, dead).await.unwrap();
    assert_eq!(b.outbox().mail(id).await.unwrap().status, "sent");
    assert!(b.outbox().claim_due(dead + chrono::Duration::seconds(600), 5, lease).await.unwrap().is_empty(), "sent once by b");

    // A clean stop gives back what was claimed, at once.
    let other = a.outbox().enqueue(None, &mail(&unique("handback")), dead).await.unwrap();
    let fresh = dead + chrono::Duration::seconds(1);
    a.instances().heartbeat(&instance("a", fresh, 20)).await.unwrap();
    assert_eq!(a.outbox().claim_due(fresh, 5, lease).await.unwrap().len(), 1);
    a.instances().leave("a", fresh).await.unwrap();
    let back = b.outbox().claim_due(fresh, 5, lease).await.unwrap();
    assert_eq!(back.iter().map(|item| item.id).collect::<Vec<_>>(), [other]);
    assert!(a.instances().find("a").await.unwrap().is_none(), "a clean stop deletes the instance's row");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_exits_0_with_no_instances_and_shows_a_stale_heartbeat_as_gone() {
    let (store, url, _guard) = fresh_store().await;
    let (code, empty) = status(&url);
    assert_eq!(code, Some(0));
    assert_eq!(empty["instances"], serde_json::json!([]));
    assert_eq!(empty["backlog"], 0);
    assert_eq!(empty["outbox"]["sent"], 0);

    let now = Utc::now();
    store.instances().join(&instance("alive-one", now, 20)).await.unwrap();
    store.instances().join(&instance("killed-one", now - chrono::Duration::seconds(60), 20)).await.unwrap();
    assert!(store.instances().acquire("mailbox:INBOX", "alive-one", now, now + chrono::Duration::seconds(20)).await.unwrap());
    store.instances().report_backlog("mailbox:INBOX", "alive-one", 7, now).await.unwrap();
    store.outbox().enqueue(None, &mail(&unique("status")), now).await.unwrap();

    let (code, shown) = status(&url);
    assert_eq!(code, Some(0));
    let object = shown.as_object().expect("one object");
    assert_eq!(object.keys().collect::<Vec<_>>(), ["backlog", "instances", "outbox"]);
    let instances = shown["instances"].as_array().expect("instances");
    assert_eq!(instances.len(), 2);
    for shown in instances {
        let keys: Vec<&String> = shown.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["alive", "heartbeat_at", "holds", "name", "pid"], "{shown}");
        assert_eq!(shown["pid"], 4242);
        assert!(shown["heartbeat_at"].as_str().is_some_and(|at| DateTime::parse_from_rfc3339(at).is_ok()), "{shown}");
    }
    let by_name = |name: &str| instances.iter().find(|i| i["name"] == name).cloned().expect(name);
    assert_eq!(by_name("alive-one")["alive"], true);
    assert_eq!(by_name("alive-one")["holds"], serde_json::json!(["mailbox:INBOX"]));
    assert_eq!(by_name("killed-one")["alive"], false, "a heartbeat older than the lease is gone");
    assert_eq!(by_name("killed-one")["holds"], serde_json::json!([]));
    assert_eq!(shown["backlog"], 7);
    assert_eq!(shown["outbox"]["pending"], 1);

    let dir = tempfile::tempdir().unwrap();
    let table = chancery_command(dir.path(), &url).arg("status").output().expect("status");
    assert_eq!(table.status.code(), Some(0));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("alive-one") && text.contains("mailbox:INBOX") && text.contains("gone"), "{text}");

    // No register there: not 0.
    let dir = tempfile::tempdir().unwrap();
    let missing = format!("sqlite://{}/none.db", dir.path().display());
    let unanswered = chancery_command(dir.path(), &missing).args(["status", "--json"]).output().unwrap();
    assert_eq!(unanswered.status.code(), Some(1));
}

/// A letter from its own sender (the daily limit of acknowledgements is per sender).
fn letter(tag: &str, i: usize) -> Vec<u8> {
    format!(
        "From: Partner {i} <sender+{tag}-{i}@uni-x.edu.tr>\r\nTo: registry@uni.example\r\nSubject: backlog {tag} {i:04}\r\n\
         Message-ID: <{tag}-{i}@uni-x.edu.tr>\r\nDate: Sat, 28 Nov 2026 09:00:00 +0400\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        "Text of a letter in a backlog. ".repeat(40)
    )
    .into_bytes()
}

/// `chancery serve` as instance `name`: listening to `mailbox` of the registry's account on the
/// dev Dovecot, sending through the dev Postfix.
fn serve(url: &str, dir: &std::path::Path, name: &str, mailbox: &str) -> Child {
    serve_command(url, dir, name, mailbox).stderr(Stdio::null()).spawn().expect("start chancery serve")
}

fn serve_command(url: &str, dir: &std::path::Path, name: &str, mailbox: &str) -> std::process::Command {
    let s = services();
    let mut command = chancery_command(dir, url);
    send_through_dev_postfix(&mut command)
        .arg("serve")
        .env("CHANCERY_INSTANCE__NAME", name)
        .env("CHANCERY_IMAP__HOST", &s.host)
        .env("CHANCERY_IMAP__PORT", s.imap_port.to_string())
        .env("CHANCERY_IMAP__TLS", "none")
        .env("CHANCERY_IMAP__USER", "registry")
        .env("CHANCERY_IMAP__PASSWORD", &s.password)
        .env("CHANCERY_IMAP__MAILBOX", mailbox)
        .env("CHANCERY_IMAP__FETCH_BATCH_BYTES", "20000")
        .env("CHANCERY_SMTP__POLL_SECS", "1")
        .env("CHANCERY_LOG__LEVEL", "warn")
        .stdout(Stdio::null());
    command
}

fn terminate(child: &mut Child) {
    std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_one_listens_and_after_kill_9_another_registers_the_rest_exactly_once() {
    if !postgres() {
        eprintln!("three instances share a PostgreSQL register: run with CHANCERY_TEST_BACKEND=postgres");
        return;
    }
    let (store, url, _guard) = fresh_store().await;
    let mailbox = support::fresh_mailbox("registry", "trio").await;
    let tag = unique("trio");
    let count = 200;
    let mut appending = support::session("registry").await;
    for i in 1..=count {
        appending.append(&mailbox, None, None, &letter(&tag, i)).await.expect("append");
    }
    appending.logout().await.ok();
    let resource = format!("mailbox:{mailbox}");
    let documents = || async { store.list(&ListFilter::default()).await.expect("list").len() };

    let dir = tempfile::tempdir().unwrap();
    let mut children: BTreeMap<String, Child> =
        ["a", "b", "c"].iter().map(|name| (name.to_string(), serve(&url, dir.path(), name, &mailbox))).collect();
    let started = wait_for(Duration::from_secs(30), || async { documents().await >= 30 }).await;
    let (code, before) = status(&url);
    assert_eq!(code, Some(0));
    let holder = holders(&before, &resource);
    assert!(started, "nothing registered: {before}");
    assert_eq!(holder.len(), 1, "exactly one instance holds the mailbox: {before}");
    let holder = holder[0].clone();
    assert_eq!(before["instances"].as_array().map(Vec::len), Some(3), "{before}");

    let mut killed = children.remove(&holder).expect("the holder is one of ours");
    killed.kill().expect("kill -9");
    let killed_at = Instant::now();
    killed.wait().ok();
    let at_kill = documents().await;
    assert!(at_kill < count, "killed while a backlog remained: {at_kill} of {count} registered");

    // Another instance takes the mailbox and registers the next waiting letter within 30 s.
    let resumed = wait_for(Duration::from_secs(30), || async { documents().await > at_kill }).await;
    let taken_after = killed_at.elapsed();
    assert!(resumed, "no instance went on registering within 30 s of the kill");
    eprintln!("registering resumed {taken_after:?} after kill -9 of the holder {holder}");
    let all = wait_for(Duration::from_secs(40), || async { documents().await >= count }).await;
    let (_, after) = status(&url);
    let new_holder = holders(&after, &resource);
    assert!(all, "every letter registered: {} of {count}; {after}", documents().await);
    assert_eq!(new_holder.len(), 1, "{after}");
    assert_ne!(new_holder[0], holder);

    let docs = store.list(&ListFilter::default()).await.expect("list");
    assert_eq!(docs.len(), count, "each letter exactly once");
    let mut subjects: Vec<&str> = docs.iter().map(|d| d.subject.as_str()).collect();
    subjects.sort_unstable();
    subjects.dedup();
    assert_eq!(subjects.len(), count);
    for (i, d) in docs.iter().enumerate() {
        assert!(d.number.ends_with(&format!("-{:06}", i + 1)), "gapless: {} at {}", d.number, i + 1);
    }

    // Every acknowledgement is delivered; one sent twice (its sender killed between the server's
    // acceptance and the commit) carries the same Message-ID.
    let acks_sent = wait_for(Duration::from_secs(40), || async {
        let outbox = store.outbox().list().await.expect("outbox");
        let acks: Vec<_> = outbox.iter().filter(|row| row.kind == "acknowledgement").collect();
        acks.len() == count && acks.iter().all(|row| row.status == "sent")
    })
    .await;
    let outbox = store.outbox().list().await.expect("outbox");
    assert!(acks_sent, "every acknowledgement sent: {:?}", outbox.iter().map(|r| (r.id, &r.status, &r.last_error)).collect::<Vec<_>>());
    let mut delivered: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let complete = wait_for(Duration::from_secs(30), || {
        let tag = tag.clone();
        async move { support::messages_where("sender", "INBOX", &format!("HEADER In-Reply-To \"{tag}\"")).await.len() >= count }
    })
    .await;
    for raw in support::messages_where("sender", "INBOX", &format!("HEADER In-Reply-To \"{tag}\"")).await {
        let answers = support::header(&raw, "In-Reply-To").expect("In-Reply-To");
        delivered.entry(answers).or_default().push(support::header(&raw, "Message-ID").expect("Message-ID"));
    }
    assert!(complete, "{} of {count} acknowledgements reached the sender's mailbox", delivered.len());
    assert_eq!(delivered.len(), count, "one acknowledgement for each letter");
    let mut duplicates = 0;
    for (answers, ids) in &delivered {
        assert!(ids.len() <= 2, "{answers} acknowledged {} times", ids.len());
        if ids.len() == 2 {
            assert_eq!(ids[0], ids[1], "a duplicate of {answers} carries the same Message-ID");
            duplicates += 1;
        }
    }
    eprintln!("{duplicates} acknowledgement(s) delivered twice");

    // SIGTERM: the others leave cleanly; the killed one stays, shown as gone once its heartbeat
    // is older than the lease.
    for child in children.values_mut() {
        terminate(child);
    }
    for child in children.values_mut() {
        assert!(child.wait().expect("wait").success(), "serve stops cleanly on SIGTERM");
    }
    let gone = wait_for(Duration::from_secs(25), || async {
        let (_, last) = status(&url);
        last["instances"].as_array().is_some_and(|i| i.len() == 1 && i[0]["name"] == holder.as_str() && i[0]["alive"] == false)
    })
    .await;
    let (code, last) = status(&url);
    assert_eq!(code, Some(0));
    assert!(gone, "only the killed instance remains, gone: {last}");
    assert!(holders(&last, &resource).is_empty(), "{last}");
}

/// A TCP proxy on loopback to PostgreSQL that can be cut: after the cut it forwards nothing more,
/// and holds its connections open without answering, as a lost network does.
struct Proxy {
    port: u16,
    cut: watch::Sender<bool>,
}

impl Proxy {
    async fn start(target: &str) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let (cut, is_cut) = watch::channel(false);
        let target = target.to_string();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut is_cut = is_cut.clone();
                let target = target.clone();
                tokio::spawn(async move {
                    if *is_cut.borrow() {
                        std::future::pending::<()>().await;
                    }
                    let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = is_cut.wait_for(|cut| *cut) => {}
                    }
                    // Cut: both sockets stay open, silent.
                    std::future::pending::<()>().await;
                    drop((client, server));
                });
            }
        });
        Proxy { port, cut }
    }
}

/// TCP connections of process `pid` to a port on loopback that are established, from /proc.
fn connections_to(pid: u32, port: u16) -> usize {
    let inodes: std::collections::HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
                .filter_map(|target| {
                    let text = target.to_string_lossy().to_string();
                    text.strip_prefix("socket:[").and_then(|rest| rest.strip_suffix(']')).map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    let wanted = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .flat_map(|text| text.lines().skip(1).map(str::to_string).collect::<Vec<_>>())
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // remote address, state (01 = established), inode
            fields.len() > 9 && fields[2].ends_with(&wanted) && fields[3] == "01" && inodes.contains(fields[9])
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_cut_off_from_its_database_drops_its_imap_session_before_its_lease_runs_out() {
    if !postgres() {
        eprintln!("the database is cut over the network: run with CHANCERY_TEST_BACKEND=postgres");
        return;
    }
    let s = services();
    let (store, url, _guard) = fresh_store().await;
    let (base, database) = url.rsplit_once('/').expect("a database in the URL");
    let host_port = base.rsplit_once('@').map_or(base, |(_, host)| host).trim_start_matches("postgres://");
    let proxy = Arc::new(Proxy::start(host_port).await);
    let proxied = format!("postgres://root@127.0.0.1:{}/{database}", proxy.port);
    let mailbox = support::fresh_mailbox("registry", "cut").await;
    let resource = format!("mailbox:{mailbox}");
    let dir = tempfile::tempdir().unwrap();
    let mut command = chancery_command(dir.path(), &proxied);
    let mut child = command
        .arg("serve")
        .env("CHANCERY_INSTANCE__NAME", "cut-off")
        .env("CHANCERY_IMAP__HOST", &s.host)
        .env("CHANCERY_IMAP__PORT", s.imap_port.to_string())
        .env("CHANCERY_IMAP__TLS", "none")
        .env("CHANCERY_IMAP__USER", "registry")
        .env("CHANCERY_IMAP__PASSWORD", &s.password)
        .env("CHANCERY_IMAP__MAILBOX", &mailbox)
        .env("CHANCERY_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chancery serve");
    let pid = child.id();
    let listening = wait_for(Duration::from_secs(20), || async {
        let held = store.instances().leases().await.unwrap().iter().any(|l| l.resource == resource && l.holder == "cut-off");
        held && connections_to(pid, s.imap_port) > 0
    })
    .await;
    assert!(listening, "the instance took the lease and connected to Dovecot");
    // Let a renewal or two pass, then cut the network between it and PostgreSQL.
    tokio::time::sleep(Duration::from_secs(6)).await;
    proxy.cut.send_replace(true);
    let cut_at = Utc::now();
    let dropped = wait_for(Duration::from_secs(30), || async { connections_to(pid, s.imap_port) == 0 }).await;
    let dropped_at = Utc::now();
    let lease = store.instances().leases().await.unwrap().into_iter().find(|l| l.resource == resource).expect("the lease");
    child.kill().ok();
    child.wait().ok();
    assert!(dropped, "the IMAP session was still open 30 s after the cut");
    eprintln!(
        "cut at {cut_at}, IMAP session dropped {:.1} s later, lease ran out {:.1} s after the cut",
        (dropped_at - cut_at).num_milliseconds() as f64 / 1000.0,
        (lease.expires_at - cut_at).num_milliseconds() as f64 / 1000.0
    );
    assert!(dropped_at < lease.expires_at, "dropped at {dropped_at}, after the lease ran out at {}", lease.expires_at);
    // Not at once: the cut-off holder waits for the renewals it can still miss.
    assert!(dropped_at - cut_at >= chrono::Duration::seconds(5), "dropped {} after the cut", dropped_at - cut_at);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_instance_holds_the_mailbox_and_on_sigterm_gives_it_up_and_leaves() {
    let (store, url, _guard) = fresh_store().await;
    let mailbox = support::fresh_mailbox("registry", "single").await;
    let resource = format!("mailbox:{mailbox}");
    let tag = unique("single");
    support::append("registry", &mailbox, &letter(&tag, 1)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = serve(&url, dir.path(), "only-one", &mailbox);
    let registered =
        wait_for(Duration::from_secs(20), || async { store.list(&ListFilter::default()).await.expect("list").len() == 1 }).await;
    // The backlog is written just after the batch commits.
    wait_for(Duration::from_secs(5), || async { status(&url).1["backlog"] == 0 }).await;
    let (code, shown) = status(&url);
    assert!(registered, "the letter was not registered: {shown}");
    assert_eq!(code, Some(0));
    assert_eq!(holders(&shown, &resource), ["only-one"], "{shown}");
    assert_eq!(shown["instances"][0]["alive"], true);
    assert_eq!(shown["backlog"], 0, "{shown}");

    terminate(&mut child);
    assert!(child.wait().expect("wait").success(), "serve stops cleanly on SIGTERM");
    let (code, after) = status(&url);
    assert_eq!(code, Some(0));
    assert_eq!(after["instances"], serde_json::json!([]), "a clean stop deletes the instance's row: {after}");
    assert!(store.instances().leases().await.unwrap().is_empty(), "and gives up its lease");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_message_claimed_by_a_dead_instance_is_posted_by_another_after_its_heartbeat_lapses() {
    let (_, url, _guard) = fresh_store().await;
    let (a, b) = two_processes(&url).await;
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("now");
    a.instances().join(&instance("a", now, 20)).await.unwrap();
    let target = chancery::core::announce::RoomTarget::Unit("international".into());
    let id = a.room_messages().enqueue(&target, "A new letter", now).await.unwrap();
    let lease = chrono::Duration::minutes(2);
    assert_eq!(a.room_messages().claim_due(now, 20, lease).await.unwrap().iter().map(|m| m.id).collect::<Vec<_>>(), [id]);
    let alive = now + chrono::Duration::seconds(19);
    assert!(b.room_messages().claim_due(alive, 20, lease).await.unwrap().is_empty(), "a lives: its claim holds");
    assert_eq!(b.room_messages().next_due().await.unwrap(), Some(now + chrono::Duration::seconds(20)));
    let dead = now + chrono::Duration::seconds(21);
    let taken = b.room_messages().claim_due(dead, 20, lease).await.unwrap();
    assert_eq!(taken.iter().map(|m| (m.id, m.attempts)).collect::<Vec<_>>(), [(id, 2)], "taken 21 s on, not 2 minutes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_under_the_name_of_a_running_instance_stops_with_one_line() {
    let (store, url, _guard) = fresh_store().await;
    let mut elsewhere = instance("registry-a", Utc::now(), 20);
    elsewhere.host = "another-machine".into();
    store.instances().join(&elsewhere).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mailbox = support::fresh_mailbox("registry", "dup").await;
    let mut child = serve_command(&url, dir.path(), "registry-a", &mailbox).stderr(Stdio::piped()).spawn().expect("start chancery serve");
    let started = Instant::now();
    let stopped = wait_for(Duration::from_secs(15), || {
        let exited = child.try_wait().expect("wait").is_some();
        async move { exited }
    })
    .await;
    if !stopped {
        child.kill().ok();
    }
    let output = child.wait_with_output().expect("wait");
    assert!(stopped, "serve ran beside an instance of the same name");
    assert_eq!(output.status.code(), Some(1), "after {:?}", started.elapsed());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|line| !line.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("instance name \"registry-a\" is in use by pid 4242 on another-machine"), "{stderr}");
    let found = store.instances().find("registry-a").await.unwrap().expect("still there");
    assert_eq!((found.host.as_str(), found.pid), ("another-machine", 4242), "the running one is untouched");
    assert!(store.instances().leases().await.unwrap().is_empty(), "nothing was taken");
}
