//! Mail that leaves the university, against the real Postfix of `scripts/dev-services` (which
//! delivers into Dovecot, where these tests read it back over IMAP), on SQLite or PostgreSQL
//! (`CHANCERY_TEST_BACKEND`). Run through `scripts/test`, which starts the services; without
//! them these tests fail loudly rather than skip.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

mod support;

use chancery::config::{RegisterConfig, SmtpConfig, TlsMode};
use chancery::core::intake::Source;
use chancery::core::letter::read_letter;
use chancery::core::outbound::{MailKind, OutgoingMail};
use chancery::core::reply::{self, Registration, UnitInfo};
use chancery::smtp::{DispatchStats, Dispatcher, fresh_message_id, reply_policy};
use chancery::store::outbox::OutboxRecord;
use chancery::store::{Arrival, Store};
use chrono::Utc;
use mail_parser::MessageParser;
use support::{chancery_command, describe, send_through_dev_postfix, services, unique};
use tokio::sync::{Notify, RwLock, watch};

/// The test that stops Postfix takes this for writing; every other test holds it for reading.
static POSTFIX: LazyLock<RwLock<()>> = LazyLock::new(|| RwLock::new(()));
const FROM: &str = "University Registry <registry@uni.example>";

/// A fresh store on the backend under test; the guard keeps a SQLite file alive.
async fn fresh_store() -> (Store, Option<tempfile::TempDir>) {
    let (store, _, guard) = support::fresh_store().await;
    (store, guard)
}

#[derive(Clone, Copy)]
enum Connection {
    /// Port 10025 without TLS (loopback), with AUTH.
    Plain,
    /// Port 10025 upgraded with STARTTLS, trusting the dev CA.
    Starttls,
    /// Port 10465, TLS from the first byte, trusting the dev CA.
    Implicit,
}

fn smtp_config(connection: Connection) -> SmtpConfig {
    let s = services();
    let (port, tls) = match connection {
        Connection::Plain => (s.smtp_port, TlsMode::None),
        Connection::Starttls => (s.smtp_port, TlsMode::Starttls),
        Connection::Implicit => (s.smtps_port, TlsMode::Implicit),
    };
    SmtpConfig { port: Some(port), tls, from: FROM.into(), ..support::smtp_config() }
}

/// Every message in `user`'s INBOX whose Message-ID contains `message_id`.
async fn messages_with_id(user: &str, message_id: &str) -> Vec<Vec<u8>> {
    support::messages_where(user, "INBOX", &format!("HEADER Message-ID \"{message_id}\"")).await
}

/// Waits until the message arrives in `user`'s INBOX, and returns it.
async fn delivered(user: &str, message_id: &str) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(raw) = messages_with_id(user, message_id).await.pop() {
            return raw;
        }
        assert!(Instant::now() < deadline, "{message_id} never reached {user}'s INBOX");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Registers a letter; returns its number and document id.
async fn register(store: &Store, raw: &[u8]) -> (String, i64) {
    let letter = read_letter(raw);
    let arrival = Arrival { raw: raw.to_vec(), letter, source: Source::File { path: unique("letter.eml") }, received_at: Utc::now() };
    let outcomes = store
        .register_incoming(vec![arrival], &RegisterConfig::default().policy(), &support::reminder_policy(), Utc::now())
        .await
        .expect("register");
    let number = outcomes[0].number().to_string();
    let id = store.document(&number).await.expect("registered document").id;
    (number, id)
}

fn partner_letter(sender: &str, subject: &str, message_id: &str) -> Vec<u8> {
    format!(
        "From: Ayşe Yılmaz <{sender}>\r\nTo: registry@uni.example\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         In-Reply-To: <earlier-{message_id}>\r\nReferences: <first-{message_id}> <earlier-{message_id}>\r\n\
         Date: Sat, 28 Nov 2026 09:00:00 +0400\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         Hörmətli həmkarlar, əməkdaşlıq müqaviləsinin layihəsini göndəririk.\r\n.a line that starts with a dot\r\n\r\n\
         --b1\r\nContent-Type: application/pdf; name=\"Müqavilə.pdf\"\r\nContent-Disposition: attachment; filename=\"Müqavilə.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoK\r\n--b1--\r\n"
    )
    .into_bytes()
}

fn unit(email: &str) -> UnitInfo {
    UnitInfo {
        id: "international".into(),
        email: email.into(),
        names: BTreeMap::from([
            ("en".to_string(), "International Relations Office".to_string()),
            ("az".to_string(), "Beynəlxalq əlaqələr şöbəsi".to_string()),
            ("ru".to_string(), "Отдел международных связей".to_string()),
        ]),
    }
}

/// A simple mail of the university's own to `to`.
fn correspondence(to: &str, subject: &str) -> OutgoingMail {
    OutgoingMail {
        kind: MailKind::Correspondence,
        from: FROM.into(),
        to: vec![to.into()],
        subject: subject.into(),
        text: "Hörmətli həmkarlar,\n\nBu, test məktubudur.\n".into(),
        in_reply_to: None,
        references: Vec::new(),
        auto_submitted: false,
        attach_original: false,
        attachments: Vec::new(),
        message_id: fresh_message_id(MailKind::Correspondence, "", FROM),
    }
}

struct Running {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
    wake: Arc<Notify>,
    stats: Arc<DispatchStats>,
}

fn start(config: &SmtpConfig, store: &Store) -> Running {
    let dispatcher = Dispatcher::new(config, config.password.clone(), store.clone()).expect("dispatcher");
    let (wake, stats) = (dispatcher.waker(), dispatcher.stats());
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(async move { dispatcher.run(stopped).await });
    Running { stop, task, wake, stats }
}

impl Running {
    async fn stop(self) {
        self.stop.send(true).ok();
        tokio::time::timeout(Duration::from_secs(30), self.task).await.expect("dispatcher stops").expect("join").expect("dispatcher ran");
    }
}

async fn row(store: &Store, id: i64) -> OutboxRecord {
    store.outbox().list().await.expect("outbox").into_iter().find(|r| r.id == id).expect("outbox row")
}

async fn status_is(store: &Store, id: i64, status: &str) -> bool {
    row(store, id).await.status == status
}

fn header<'a>(message: &'a mail_parser::Message<'a>, name: &str) -> Option<String> {
    message.header_raw(name).map(|v| v.trim().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledgement_reaches_the_sender_with_number_threading_and_auto_submitted() {
    let _postfix = POSTFIX.read().await;
    let (store, _guard) = fresh_store().await;
    let config = smtp_config(Connection::Plain);
    let policy = reply_policy(&config).expect("the shipped templates load");
    let original_id = format!("{}@partner.example", unique("ack"));
    let raw = partner_letter("sender@partner.example", "Əməkdaşlıq müqaviləsi", &original_id);
    let (number, document_id) = register(&store, &raw).await;

    // The dispatcher is idle, with a poll far away: only the waker can bring the mail out soon.
    let config = SmtpConfig { poll_secs: 60, ..config };
    let running = start(&config, &store);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let letter = read_letter(&raw);
    let units = unit("alice@uni.example");
    let registration = Registration { number: &number, local_date: "28.11.2026", unit: &units, confidential: false };
    let today =
        store.outbox().acknowledgements_since("sender@partner.example", Utc::now() - chrono::Duration::days(1)).await.expect("count");
    assert_eq!(today, 0);
    let message_id = fresh_message_id(MailKind::Acknowledgement, &number, &policy.from);
    let mail = reply::acknowledgement(&letter, &registration, today, "default", &policy, message_id.clone()).expect("an acknowledgement");
    let id = store.outbox().enqueue(Some(document_id), &mail, Utc::now()).await.expect("enqueue");
    running.wake.notify_one();
    let woken = Instant::now();
    wait_for("the acknowledgement is sent", Duration::from_secs(10), || status_is(&store, id, "sent")).await;
    assert!(woken.elapsed() < Duration::from_secs(5), "the waker brought it out at once, not the 60 s poll: {:?}", woken.elapsed());

    let received = delivered("sender", &message_id).await;
    let parsed = MessageParser::default().parse(&received).expect("parses");
    let subject = parsed.subject().expect("subject");
    assert!(subject.contains(&format!("[{number}]")), "{subject}");
    assert!(subject.contains("Əməkdaşlıq müqaviləsi"), "{subject}");
    assert_eq!(header(&parsed, "In-Reply-To").as_deref(), Some(format!("<{original_id}>").as_str()));
    let references = header(&parsed, "References").expect("References");
    assert!(references.contains(&format!("<first-{original_id}>")) && references.ends_with(&format!("<{original_id}>")), "{references}");
    assert_eq!(header(&parsed, "Auto-Submitted").as_deref(), Some("auto-replied"));
    assert_eq!(header(&parsed, "X-Chancery-Loop").as_deref(), Some("registry@uni.example"));
    let text = parsed.body_text(0).expect("text");
    assert!(text.contains(&number) && text.contains("Beynəlxalq əlaqələr şöbəsi"), "answered in Azerbaijani: {text}");
    assert!(reply::is_machine_generated(&read_letter(&received)).is_some(), "our acknowledgement is never acknowledged");

    let sent = row(&store, id).await;
    assert_eq!((sent.attempts, sent.kind.as_str()), (1, "acknowledgement"));
    assert!(sent.sent_at.is_some());
    let history = store.document(&number).await.expect("document").history.expect("history");
    assert!(history.iter().any(|h| h.action == "mail-sent" && h.new_value.as_deref() == Some("sender@partner.example")), "{history:?}");
    assert_eq!(
        store.outbox().acknowledgements_since("Sender@Partner.example", Utc::now() - chrono::Duration::days(1)).await.expect("count"),
        1
    );
    running.stop().await;
    assert_eq!(messages_with_id("sender", &message_id).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forward_over_starttls_carries_the_original_byte_exact() {
    let _postfix = POSTFIX.read().await;
    let (store, _guard) = fresh_store().await;
    let config = smtp_config(Connection::Starttls);
    let policy = reply_policy(&config).expect("templates");
    let raw = partner_letter("partner@uni-x.edu.tr", "Erasmus+ inter-institutional agreement", &format!("{}@uni-x.edu.tr", unique("fwd")));
    let (number, document_id) = register(&store, &raw).await;
    let units = unit("alice@uni.example");
    let registration = Registration { number: &number, local_date: "28.11.2026", unit: &units, confidential: false };
    let message_id = fresh_message_id(MailKind::Forward, &number, &policy.from);
    let mail = reply::forward_to_unit(&read_letter(&raw), &registration, &policy, message_id.clone()).expect("a forward");
    let id = store.outbox().enqueue(Some(document_id), &mail, Utc::now()).await.expect("enqueue");
    let running = start(&config, &store);
    wait_for("the forward is sent", Duration::from_secs(20), || status_is(&store, id, "sent")).await;
    running.stop().await;

    let received = delivered("alice", &message_id).await;
    let text = String::from_utf8_lossy(&received);
    assert!(text.contains("ESMTPS") || text.contains("TLS"), "Postfix's Received header shows the mail came over TLS");
    let parsed = MessageParser::default().parse(&received).expect("parses");
    assert!(parsed.subject().unwrap_or("").contains(&number));
    assert_eq!(header(&parsed, "Auto-Submitted").as_deref(), Some("auto-generated"));
    let attached = parsed.parts.iter().find_map(|part| part.message()).expect("a message/rfc822 part");
    assert_eq!(attached.raw_message(), &raw[..], "the attached letter is the registered bytes, unchanged");
    assert!(text.contains(&format!("filename=\"{number}.eml\"")), "named by its number");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_tls_delivers_with_the_dev_ca_and_fails_over_to_retry_without_it() {
    let _postfix = POSTFIX.read().await;
    let (store, _guard) = fresh_store().await;
    let mail = correspondence("bob@partner.example", &format!("Implicit TLS {}", unique("tls")));
    let id = store.outbox().enqueue(None, &mail, Utc::now()).await.expect("enqueue");

    // Without the private CA the handshake fails: a temporary failure, retried, nothing lost.
    let untrusting = SmtpConfig { ca_file: None, ..smtp_config(Connection::Implicit) };
    let dispatcher = Dispatcher::new(&untrusting, untrusting.password.clone(), store.clone()).expect("dispatcher");
    assert!(dispatcher.dispatch_one().await.expect("one round"));
    let retried = row(&store, id).await;
    assert_eq!(retried.status, "pending", "{retried:?}");
    let error = retried.last_error.clone().unwrap_or_default();
    assert!(error.to_lowercase().contains("certificate") || error.to_lowercase().contains("tls"), "{error}");

    let running = start(&smtp_config(Connection::Implicit), &store);
    wait_for("the mail is sent over implicit TLS", Duration::from_secs(20), || status_is(&store, id, "sent")).await;
    running.stop().await;
    let received = delivered("bob", &mail.message_id).await;
    let parsed = MessageParser::default().parse(&received).expect("parses");
    assert!(parsed.body_text(0).unwrap_or_default().contains("Bu, test məktubudur"));
    assert_eq!(parsed.subject(), Some(mail.subject.as_str()));
    assert_eq!(row(&store, id).await.attempts, 2);
}

/// Starts Postfix again however the test ends.
struct PostfixBack(String);

impl Drop for PostfixBack {
    fn drop(&mut self) {
        let status = std::process::Command::new(&self.0).args(["start", "postfix"]).stdout(std::process::Stdio::null()).status();
        assert!(status.is_ok_and(|s| s.success()), "could not start Postfix again");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_waits_while_smtp_is_down_and_goes_exactly_once_when_it_is_back() {
    let _postfix = POSTFIX.write().await;
    let script = services().script;
    let (store, _guard) = fresh_store().await;
    let stopped = std::process::Command::new(&script).args(["stop", "postfix"]).status().expect("run dev-services");
    assert!(stopped.success(), "dev-services stop postfix");
    let back = PostfixBack(script);

    let mail = correspondence("bob@partner.example", &format!("While the server was down {}", unique("down")));
    let id = store.outbox().enqueue(None, &mail, Utc::now()).await.expect("enqueue");
    let running = start(&smtp_config(Connection::Plain), &store);
    wait_for("the dispatcher has retried", Duration::from_secs(20), || async { row(&store, id).await.attempts >= 3 }).await;
    let waiting = row(&store, id).await;
    assert!(matches!(waiting.status.as_str(), "pending" | "sending"), "{waiting:?}");
    assert!(waiting.last_error.as_deref().unwrap_or("").to_lowercase().contains("connect"), "{waiting:?}");
    assert!(running.stats.retried.load(Ordering::SeqCst) >= 2);

    drop(back);
    wait_for("the mail is sent once Postfix is back", Duration::from_secs(30), || status_is(&store, id, "sent")).await;
    delivered("bob", &mail.message_id).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(messages_with_id("bob", &mail.message_id).await.len(), 1, "delivered exactly once");
    assert_eq!(running.stats.sent.load(Ordering::SeqCst), 1);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipient_postfix_refuses_fails_the_mail_with_a_history_entry() {
    let _postfix = POSTFIX.read().await;
    let (store, _guard) = fresh_store().await;
    let raw = partner_letter("partner@uni-x.edu.tr", "Invitation", &format!("{}@uni-x.edu.tr", unique("perm")));
    let (number, document_id) = register(&store, &raw).await;
    // The dev Postfix answers `501 5.1.3 Bad recipient address syntax` to a domain with `=` in
    // it, which lettre's address syntax (any atom) lets through to the server.
    let answer = correspondence("nobody@part=ner.example", &format!("Re: [{number}] Invitation"));
    let outgoing = store.outbox().enqueue(Some(document_id), &answer, Utc::now()).await.expect("enqueue");
    let ack = OutgoingMail {
        kind: MailKind::Acknowledgement,
        message_id: fresh_message_id(MailKind::Acknowledgement, &number, FROM),
        ..answer.clone()
    };
    let acknowledgement = store.outbox().enqueue(Some(document_id), &ack, Utc::now()).await.expect("enqueue");

    let running = start(&smtp_config(Connection::Plain), &store);
    for id in [outgoing, acknowledgement] {
        wait_for("the mail has failed", Duration::from_secs(20), || status_is(&store, id, "failed")).await;
        let failed = row(&store, id).await;
        assert_eq!(failed.attempts, 1, "a permanent failure is not retried: {failed:?}");
        assert!(failed.last_error.as_deref().unwrap_or("").contains("5.1.3"), "{failed:?}");
    }
    running.stop().await;

    let document = store.document(&number).await.expect("document");
    assert_eq!(document.status, "delivery-failed", "an outgoing letter that cannot be delivered says so");
    let history = document.history.expect("history");
    let failures: Vec<_> = history.iter().filter(|h| h.action == "mail-failed").collect();
    assert_eq!(failures.len(), 2, "{history:?}");
    assert_eq!(failures[0].actor, "chancery");
    assert_eq!(failures[0].field.as_deref(), Some("status"));
    assert_eq!(failures[0].new_value.as_deref(), Some("delivery-failed"));
    assert!(failures[0].reason.as_deref().unwrap_or("").contains("correspondence to nobody@part=ner.example"), "{failures:?}");
    assert!(failures[1].reason.as_deref().unwrap_or("").starts_with("acknowledgement to"), "{failures:?}");
    assert_eq!(failures[1].field, None, "an acknowledgement that fails leaves the status alone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_dispatchers_send_each_mail_once() {
    let _postfix = POSTFIX.read().await;
    let (store, _guard) = fresh_store().await;
    let tag = unique("pair");
    let mut ids = Vec::new();
    for n in 0..12 {
        let mail = correspondence("bob@partner.example", &format!("Pair {tag} #{n}"));
        ids.push((store.outbox().enqueue(None, &mail, Utc::now()).await.expect("enqueue"), mail.message_id));
    }
    let config = smtp_config(Connection::Plain);
    let (one, two) = (start(&config, &store), start(&config, &store));
    wait_for("every mail is sent", Duration::from_secs(60), || async {
        store.outbox().list().await.expect("outbox").iter().all(|r| r.status == "sent")
    })
    .await;
    let sent = one.stats.sent.load(Ordering::SeqCst) + two.stats.sent.load(Ordering::SeqCst);
    one.stop().await;
    two.stop().await;
    assert_eq!(sent, 12);
    for (_, message_id) in &ids {
        delivered("bob", message_id).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    for (_, message_id) in &ids {
        assert_eq!(messages_with_id("bob", message_id).await.len(), 1, "{message_id} once");
    }
    assert!(store.outbox().list().await.expect("outbox").iter().all(|r| r.attempts == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claims_never_share_a_row() {
    let _postfix = POSTFIX.read().await;
    let (store, _guard) = fresh_store().await;
    let now = Utc::now();
    for n in 0..40 {
        store.outbox().enqueue(None, &correspondence("bob@partner.example", &format!("claim {n}")), now).await.expect("enqueue");
    }
    let lease = chrono::Duration::minutes(5);
    let claimers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let claimed = store.outbox().claim_due(Utc::now(), 3, lease).await.expect("claim");
                    if claimed.is_empty() {
                        return mine;
                    }
                    mine.extend(claimed.into_iter().map(|item| item.id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.expect("claimer"));
    }
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!((all.len(), distinct.len()), (40, 40), "every row claimed exactly once");

    // A claim that lapses (its dispatcher died) is taken again; one that holds is not.
    assert!(store.outbox().claim_due(now + chrono::Duration::minutes(4), 100, lease).await.expect("claim").is_empty());
    let again = store.outbox().claim_due(now + chrono::Duration::minutes(6), 100, lease).await.expect("claim");
    assert_eq!(again.len(), 40);
    assert!(again.iter().all(|item| item.attempts == 2));
    store.outbox().release(again[0].id, now).await.expect("release");
    assert_eq!(row(&store, again[0].id).await.attempts, 1, "a released claim is not counted");
}

// ---------------------------------------------------------------------------------------------
// `chancery send` and `chancery outbox retry`: what a person sees when mail does not go.
// ---------------------------------------------------------------------------------------------

/// The binary on a fresh store in a temporary folder, sending through the dev Postfix with
/// STARTTLS as the registry; `env` overrides single settings.
struct Cli {
    dir: tempfile::TempDir,
    url: String,
    store: Store,
    _guard: Option<tempfile::TempDir>,
}

impl Cli {
    async fn new() -> Cli {
        let (store, url, guard) = support::fresh_store().await;
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("letter.txt"), "Hörmətli həmkarlar,\nməktubumuz əlavə olunur.\n").expect("write");
        Cli { dir, url, store, _guard: guard }
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let mut command = chancery_command(self.dir.path(), &self.url);
        send_through_dev_postfix(&mut command).args(args).env("CHANCERY_SMTP__TIMEOUT_SECS", "10");
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().expect("run chancery")
    }

    fn send(&self, to: &str, subject: &str, env: &[(&str, &str)]) -> std::process::Output {
        self.run(&["send", "--to", to, "--subject", subject, "--body", "letter.txt"], env)
    }

    fn outbox(&self) -> Vec<serde_json::Value> {
        let output = self.run(&["outbox", "--json"], &[]);
        assert!(output.status.success(), "{}", describe(&output));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("JSON").as_array().expect("array").clone()
    }
}

/// A failure as a person must see it: exit 1 and exactly one line on standard error.
fn one_error_line(output: &std::process::Output) -> String {
    assert_eq!(output.status.code(), Some(1), "{}", describe(output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line on stderr: {}", describe(output));
    assert!(!stderr.contains("code: None") && !stderr.contains("panicked"), "{}", describe(output));
    lines[0].to_string()
}

fn out_number(sequence: u32) -> String {
    format!("OUT-{}-{sequence:06}", Utc::now().format("%Y"))
}

/// A port on loopback where nothing listens.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_with_a_wrong_smtp_password_fails_says_what_to_check_and_keeps_the_letter() {
    let _postfix = POSTFIX.read().await;
    let cli = Cli::new().await;
    let output = cli.send("bob@partner.example", &format!("Wrong password {}", unique("pw")), &[("CHANCERY_SMTP__PASSWORD", "not-it")]);
    let line = one_error_line(&output);
    let number = out_number(1);
    for words in [
        "refused the login as registry",
        "535",
        "check smtp.user and smtp.password",
        &number,
        "stays in the outbox",
        "chancery outbox retry 1",
    ] {
        assert!(line.contains(words), "{words:?} missing: {line}");
    }
    assert!(String::from_utf8_lossy(&output.stdout).contains(&format!("{number} registered")), "{}", describe(&output));

    let outbox = cli.outbox();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(outbox[0]["status"], "pending", "a refused login never fails the mail: {outbox:?}");
    assert_eq!(cli.store.document(&number).await.expect("document").status, "registered");

    // With the right password, the same letter goes on request.
    let retried = cli.run(&["outbox", "retry", "1"], &[]);
    assert!(retried.status.success(), "{}", describe(&retried));
    assert!(String::from_utf8_lossy(&retried.stdout).contains(": sent"), "{}", describe(&retried));
    delivered("bob", outbox[0]["message_id"].as_str().expect("message id")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_to_a_recipient_postfix_refuses_marks_the_letter_failed_and_says_how_to_retry() {
    let _postfix = POSTFIX.read().await;
    let cli = Cli::new().await;
    // The dev Postfix answers `501 5.1.3 Bad recipient address syntax` to a domain with `=`.
    let line = one_error_line(&cli.send("nobody@part=ner.example", "Refused for good", &[]));
    let number = out_number(1);
    for words in [number.as_str(), "marked failed", "5.1.3", "chancery outbox retry 1"] {
        assert!(line.contains(words), "{words:?} missing: {line}");
    }
    let outbox = cli.outbox();
    assert_eq!(outbox[0]["status"], "failed", "{outbox:?}");
    assert_eq!(cli.store.document(&number).await.expect("document").status, "delivery-failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_retry_sends_a_failed_letter_again_and_the_history_says_who_asked() {
    let _postfix = POSTFIX.read().await;
    let cli = Cli::new().await;
    let port = closed_port();
    let down = [("CHANCERY_SMTP__PORT", port.as_str())];

    // The server is down: the letter is safe in the outbox, and `send` says `serve` will retry.
    let subject = format!("Sent again {}", unique("retry"));
    let queued = cli.send("bob@partner.example", &subject, &down);
    assert!(queued.status.success(), "a letter waiting for the server is no failure: {}", describe(&queued));
    let said = String::from_utf8_lossy(&queued.stdout);
    assert!(said.contains("not sent yet") && said.contains("`chancery serve` will retry it"), "{}", describe(&queued));
    assert_eq!(cli.outbox()[0]["status"], "pending");

    // Retried while the server is still down, and given up at once: now it has failed.
    let failing = cli.run(&["outbox", "retry", "1"], &[down[0], ("CHANCERY_SMTP__GIVE_UP_AFTER_SECS", "0")]);
    let line = one_error_line(&failing);
    assert!(line.contains("marked failed") && line.contains("given up") && line.contains("chancery outbox retry 1"), "{line}");
    let number = out_number(1);
    assert_eq!(cli.outbox()[0]["status"], "failed");
    assert_eq!(cli.store.document(&number).await.expect("document").status, "delivery-failed");

    // With the server up, the retry sends it.
    let sent = cli.run(&["outbox", "retry", "1"], &[]);
    assert!(sent.status.success(), "{}", describe(&sent));
    assert!(String::from_utf8_lossy(&sent.stdout).contains("mail 1 (correspondence to bob@partner.example): sent"), "{}", describe(&sent));
    let row = &cli.outbox()[0];
    assert_eq!(row["status"], "sent", "{row}");
    assert_eq!(row["attempts"], 1, "attempts count afresh from the retry: {row}");
    let arrived = MessageParser::default()
        .parse(&delivered("bob", row["message_id"].as_str().expect("id")).await)
        .map(|m| (m.subject().unwrap_or_default().to_string(), m.body_text(0).unwrap_or_default().to_string()));
    let (arrived_subject, body) = arrived.expect("parses");
    assert!(arrived_subject.contains(&number) && arrived_subject.contains(&subject), "{arrived_subject}");
    assert!(body.contains("Hörmətli həmkarlar"), "{body}");

    let document = cli.store.document(&number).await.expect("document");
    assert_eq!(document.status, "registered", "the letter is no longer delivery-failed");
    let history = document.history.expect("history");
    let retries: Vec<_> = history.iter().filter(|h| h.action == "mail-retried").collect();
    assert_eq!(retries.len(), 2, "{history:?}");
    assert!(retries.iter().all(|h| h.actor.starts_with("cli:")), "{retries:?}");
    assert_eq!((retries[1].old_value.as_deref(), retries[1].new_value.as_deref()), (Some("delivery-failed"), Some("registered")));
    assert!(history.iter().any(|h| h.action == "mail-sent"), "{history:?}");

    // A sent mail, or one that does not exist, is refused in one line.
    assert!(one_error_line(&cli.run(&["outbox", "retry", "1"], &[])).contains("was sent already"));
    assert!(one_error_line(&cli.run(&["outbox", "retry", "99"], &[])).contains("no mail 99"));
    assert_eq!(messages_with_id("bob", row["message_id"].as_str().expect("id")).await.len(), 1, "sent once");
}
