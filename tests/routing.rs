//! Routing, acknowledgements, forwards and bounces end to end: letters go into the real Dovecot,
//! the listener registers and routes them by the shipped `mail-rules/`, and the dispatcher sends
//! through the real Postfix, whose deliveries are read back over IMAP.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chancery::config::{RegisterConfig, SmtpConfig};
use chancery::core::intake::IntakePolicy;
use chancery::imap::Listener;
use chancery::rule_files::{self, LiveRules, PolicySource};
use chancery::smtp::Dispatcher;
use chancery::store::{DocumentRecord, ListFilter, Store};
use support::*;
use tokio::sync::watch;

fn rules_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mail-rules")
}

/// The listener on a fresh folder of the registry's account and the dispatcher, as `serve`
/// runs them, with the shipped rules and templates.
struct Registry {
    store: Store,
    mailbox: String,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _guard: Option<tempfile::TempDir>,
}

impl Registry {
    async fn start(tag: &str, smtp: SmtpConfig) -> Registry {
        let (store, _, guard) = fresh_store().await;
        let mailbox = fresh_mailbox("registry", tag).await;
        let (stop, stopped) = watch::channel(false);
        let replies = Arc::new(chancery::smtp::reply_policy(&smtp).expect("shipped templates load"));
        let book = rule_files::load(&rules_dir()).expect("shipped rules load");
        let base = IntakePolicy { replies: Some(replies), ..RegisterConfig::default().policy() };
        let policy = PolicySource::Live { base, rules: Arc::new(LiveRules::new(rules_dir(), book)) };
        let dispatcher = Dispatcher::new(&smtp, smtp.password.clone(), store.clone()).expect("dispatcher");
        store.wake_on_mail(dispatcher.waker());
        let config = imap_config("registry", &mailbox);
        let listener = Listener::new(config.clone(), config.password.clone(), store.clone(), policy, support::reminder_policy());
        let (s1, s2) = (stopped.clone(), stopped);
        let tasks = vec![tokio::spawn(async move { listener.run(s1).await }), tokio::spawn(async move { dispatcher.run(s2).await })];
        Registry { store, mailbox, stop, tasks, _guard: guard }
    }

    async fn receive(&self, raw: &[u8]) {
        append("registry", &self.mailbox, raw).await;
    }

    async fn documents(&self) -> Vec<DocumentRecord> {
        self.store.list(&ListFilter::default()).await.expect("list")
    }

    async fn wait_for_documents(&self, count: usize) -> Vec<DocumentRecord> {
        assert!(
            wait_for(Duration::from_secs(15), || async { self.documents().await.len() >= count }).await,
            "{count} documents never registered"
        );
        self.documents().await
    }

    async fn stop(self) {
        self.stop.send(true).ok();
        for task in self.tasks {
            tokio::time::timeout(Duration::from_secs(10), task).await.expect("stops").expect("join").expect("ran");
        }
    }
}

fn letter(from: &str, subject: &str, message_id: &str, extra_headers: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: University Registry <registry@uni.example>\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         Date: Sat, 28 Nov 2026 09:00:00 +0400\r\n{extra_headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Dear colleagues, please find our proposal.\r\n"
    )
    .into_bytes()
}

/// Mail that reached the `sender` account and answers a given Message-ID.
async fn answers_to(message_id: &str) -> Vec<Vec<u8>> {
    let wanted = format!("<{message_id}>");
    messages_where("sender", "INBOX", &format!("HEADER In-Reply-To \"{message_id}\""))
        .await
        .into_iter()
        .filter(|raw| header(raw, "In-Reply-To").as_deref() == Some(wanted.as_str()))
        .collect()
}

fn history_actions(document: &DocumentRecord) -> Vec<String> {
    document.history.as_ref().map(|h| h.iter().map(|e| e.action.clone()).collect()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_gets_an_acknowledgement_with_the_number_and_its_reply_threads_to_the_original() {
    let registry = Registry::start("ack", smtp_config()).await;
    let id = format!("{}@uni-x.edu.tr", unique("erasmus"));
    let sender = format!("Prof. Ayşe Kaya <sender+{}@uni-x.edu.tr>", unique("ack"));
    registry.receive(&letter(&sender, "Erasmus+ mobility 2027: nomination of students", &id, "")).await;
    let documents = registry.wait_for_documents(1).await;
    let first = registry.store.document(&documents[0].number).await.expect("document");
    assert_eq!(first.unit, "international", "routed by the starter rule for exchange programmes");
    assert_eq!(first.routing.as_ref().and_then(|r| r["rule"].as_str()), Some("Exchange programmes and mobility"));
    assert!(first.due_on.is_some(), "the rule gives 10 working days");

    assert!(wait_for(Duration::from_secs(15), || async { !answers_to(&id).await.is_empty() }).await, "no acknowledgement arrived");
    let acks = answers_to(&id).await;
    assert_eq!(acks.len(), 1);
    let ack = &acks[0];
    let subject = header(ack, "Subject").expect("subject");
    assert!(subject.contains(&format!("[{}]", first.number)), "{subject}");
    assert_eq!(header(ack, "Auto-Submitted").as_deref(), Some("auto-replied"));
    assert!(header(ack, "References").expect("references").contains(&id));

    // The rule forwards to the unit: the letter goes to its address with the original attached.
    let forwarded = || async {
        registry.store.outbox().list().await.expect("outbox").iter().any(|row| {
            row.kind == "forward"
                && row.status == "sent"
                && row.recipients == vec!["international@uni.example".to_string()]
                && row.mail.attach_original
        })
    };
    assert!(wait_for(Duration::from_secs(15), forwarded).await, "the forward to international@uni.example was not sent");

    // The partner answers the acknowledgement: the reply gets its own number, in the same thread.
    let ack_id = header(ack, "Message-ID").expect("message id");
    let reply = letter(&sender, &format!("Re: {subject}"), &format!("re-{id}"), &format!("In-Reply-To: {ack_id}\r\n"));
    registry.receive(&reply).await;
    let documents = registry.wait_for_documents(2).await;
    assert_ne!(documents[1].number, first.number);
    assert_eq!(documents[1].thread, first.number);
    registry.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn machine_generated_mail_gets_no_acknowledgement() {
    let registry = Registry::start("machines", smtp_config()).await;
    let tag = unique("auto");
    let cases = [
        ("Auto-Submitted: auto-replied\r\n", format!("sender+{tag}a@partner.example")),
        ("Precedence: bulk\r\n", format!("sender+{tag}b@partner.example")),
        ("List-Id: <news.partner.example>\r\n", format!("sender+{tag}c@partner.example")),
        ("", "MAILER-DAEMON@partner.example".to_string()),
    ];
    let mut ids = Vec::new();
    for (i, (headers, from)) in cases.iter().enumerate() {
        let id = format!("{tag}-{i}@partner.example");
        registry.receive(&letter(from, "Out of office", &id, headers)).await;
        ids.push(id);
    }
    let documents = registry.wait_for_documents(cases.len()).await;
    // A control letter in the same run is acknowledged, so the silence above is meaningful.
    let control = format!("{tag}-control@partner.example");
    registry.receive(&letter(&format!("sender+{tag}d@partner.example"), "A real question", &control, "")).await;
    registry.wait_for_documents(cases.len() + 1).await;
    assert!(
        wait_for(Duration::from_secs(15), || async { !answers_to(&control).await.is_empty() }).await,
        "the control letter was not acknowledged"
    );

    let outbox = registry.store.outbox().list().await.expect("outbox");
    for document in &documents {
        assert!(
            outbox.iter().all(|row| row.document_id != Some(document.id)),
            "{} ({}) must get no mail",
            document.number,
            document.subject
        );
    }
    for id in &ids {
        assert!(answers_to(id).await.is_empty(), "an acknowledgement went to machine-generated mail {id}");
    }
    registry.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loop_with_a_naive_auto_responder_stops_at_the_daily_limit() {
    let smtp = SmtpConfig { max_acks_per_sender_per_day: 3, ..smtp_config() };
    let registry = Registry::start("loop", smtp).await;
    let responder = format!("sender+{}@autoreply.example", unique("loop"));
    let first_id = format!("{}@autoreply.example", unique("first"));
    registry.receive(&letter(&responder, "Question about transcripts", &first_id, "")).await;

    // The responder answers every mail it gets, with no header that marks it automatic.
    let mut answered: Vec<String> = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut quiet_since = std::time::Instant::now();
    while std::time::Instant::now() < deadline && quiet_since.elapsed() < Duration::from_secs(6) {
        let to_responder: Vec<Vec<u8>> = messages_where("sender", "INBOX", &format!("TO \"{responder}\""))
            .await
            .into_iter()
            .filter(|raw| header(raw, "To").is_some_and(|to| to.contains(&responder)))
            .collect();
        for ack in to_responder {
            let ack_id = header(&ack, "Message-ID").expect("message id");
            if answered.contains(&ack_id) {
                continue;
            }
            let subject = header(&ack, "Subject").unwrap_or_default();
            let reply = letter(
                &responder,
                &format!("Re: {subject}"),
                &format!("auto-{}@autoreply.example", answered.len()),
                &format!("In-Reply-To: {ack_id}\r\n"),
            );
            registry.receive(&reply).await;
            answered.push(ack_id);
            quiet_since = std::time::Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(answered.len(), 3, "the registry acknowledges at most 3 letters a day from one sender; then the loop stops");
    let documents = registry.wait_for_documents(4).await;
    assert_eq!(documents.len(), 4, "the first letter and three automatic replies, each registered");
    let last = registry.store.document(&documents[3].number).await.expect("document");
    assert!(history_actions(&last).contains(&"not-acknowledged".to_string()), "{:?}", last.history);
    registry.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bounce_of_outgoing_correspondence_marks_it_bounced_and_is_not_acknowledged() {
    let smtp = smtp_config();
    let registry = Registry::start("bounce", smtp.clone()).await;
    let to = vec![format!("bob+{}@partner.example", unique("out"))];
    let files: Vec<(String, Vec<u8>)> = Vec::new();
    let letter_out = chancery::smtp::Correspondence {
        from: &smtp.from,
        to: &to,
        subject: "Agreement draft",
        text: "Please find the draft.\n",
        attachments: &files,
    };
    let number = registry
        .store
        .register_outgoing(None, "test", "international", chrono::Utc::now(), |number, answered| {
            let id = chancery::smtp::fresh_message_id(chancery::core::outbound::MailKind::Correspondence, &number.to_string(), &smtp.from);
            chancery::smtp::compose_correspondence(&letter_out, number, answered, id)
        })
        .await
        .expect("register outgoing");
    assert!(number.starts_with("OUT-"), "{number}");
    let sent_id = registry.store.outbox().list().await.expect("outbox")[0].message_id.clone();
    assert!(
        wait_for(Duration::from_secs(15), || async { registry.store.outbox().list().await.expect("outbox")[0].status == "sent" }).await
    );

    // The partner's server bounces it: a Postfix delivery status notification comes back.
    let dsn = format!(
        "From: MAILER-DAEMON@partner.example (Mail Delivery System)\r\nTo: registry@uni.example\r\n\
         Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <{}@partner.example>\r\nAuto-Submitted: auto-replied\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be delivered.\r\n\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.partner.example\r\n\r\n\
         Final-Recipient: rfc822; {}\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n\
         --B\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: {}\r\nTo: {}\r\nSubject: [{number}] Agreement draft\r\nMessage-ID: <{sent_id}>\r\n\r\n--B--\r\n",
        unique("dsn"),
        to[0],
        smtp.from,
        to[0]
    );
    registry.receive(dsn.as_bytes()).await;
    let documents = registry.wait_for_documents(2).await;
    let bounce = documents.iter().find(|d| d.number.starts_with("IN-")).expect("the report is registered too");
    assert_eq!(bounce.thread, number, "the report joins the thread of the letter it bounces");
    let out = registry.store.document(&number).await.expect("document");
    assert_eq!(out.status, "bounced");
    assert!(history_actions(&out).contains(&"bounced".to_string()));
    let outbox = registry.store.outbox().list().await.expect("outbox");
    assert_eq!(outbox.len(), 1, "no acknowledgement for a bounce");
    registry.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_rule_file_is_reported_with_its_line_and_the_rules_in_force_stay() {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(rules_dir()).expect("rules").flatten() {
        if entry.path().extension().is_some_and(|e| e == "toml") {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).expect("copy");
        }
    }
    let live = Arc::new(LiveRules::new(dir.path().to_path_buf(), rule_files::load(dir.path()).expect("rules load")));
    let (stop, stopped) = watch::channel(false);
    let watcher = tokio::spawn(Arc::clone(&live).watch(stopped));
    let erasmus = chancery::core::letter::read_letter(&letter("a@uni-x.edu.tr", "Erasmus mobility", "e@x", ""));
    assert_eq!(live.current().route(&erasmus).unit, "international");

    write(dir.path(), "70-new.toml", "[[rule]]\nname = \"Everything to finance\"\nsubject = [\"erasmus\"\nunit = \"finance\"\n");
    let problem = live.reload().expect_err("a syntax error is refused").to_string();
    assert!(problem.starts_with("70-new.toml:3: TOML syntax: ") || problem.starts_with("70-new.toml:4: TOML syntax: "), "{problem}");
    assert!(!problem.contains('\n'), "one mistake, one line: {problem:?}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(live.current().route(&erasmus).unit, "international", "the rules in force stay");

    let check = std::process::Command::new(env!("CARGO_BIN_EXE_chancery"))
        .args(["rules", "check"])
        .env("CHANCERY_RULES__DIR", dir.path())
        .env_remove("CHANCERY_DATABASE__URL")
        .current_dir(dir.path())
        .output()
        .expect("run chancery");
    assert_eq!(check.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert_eq!(stderr.lines().collect::<Vec<_>>(), vec![problem.as_str()], "`rules check` prints the same one line");

    // A misspelt condition is reported once, as the unknown key with a hint.
    std::fs::write(
        dir.path().join("70-new.toml"),
        "[[rule]]\nname = \"Everything to finance\"\nsubjet = \"erasmus\"\nunit = \"finance\"\n",
    )
    .expect("write rule file");
    let problem = live.reload().expect_err("an unknown key is refused").to_string();
    assert_eq!(problem, "70-new.toml:3: unknown key `subjet` in rule \"Everything to finance\" (did you mean `subject`?)");

    // Fixed, the new rule is picked up by the watcher.
    write(dir.path(), "05-first.toml", "[[rule]]\nname = \"Erasmus to finance\"\nsubject = \"erasmus\"\nunit = \"finance\"\nstop = true\n");
    std::fs::remove_file(dir.path().join("70-new.toml")).expect("remove");
    assert!(
        wait_for(Duration::from_secs(10), || async { live.current().route(&erasmus).unit == "finance" }).await,
        "the fixed rules were not reloaded"
    );
    stop.send(true).ok();
    watcher.await.ok();

    // A rule that names an acknowledgement template the templates folder lacks is refused too:
    // its letters would otherwise go unanswered without anyone noticing.
    write(dir.path(), "80-visa.toml", "[[rule]]\nname = \"Visa, special answer\"\nsubject = \"visa\"\nacknowledge = \"visa-special\"\n");
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_chancery"))
        .args(["rules", "check"])
        .env("CHANCERY_RULES__DIR", dir.path())
        .env("CHANCERY_SMTP__TEMPLATES_DIR", rules_dir().join("templates"))
        .current_dir(dir.path())
        .output()
        .expect("run chancery");
    assert_eq!(check.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&check.stderr).contains("visa-special"), "{}", String::from_utf8_lossy(&check.stderr));
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("write rule file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chancery_send_registers_an_out_number_sends_those_bytes_and_marks_the_letter_answered() {
    let (_, url, _guard) = fresh_store().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let incoming = letter("Partner <sender+send@uni-x.edu.tr>", "Request for an agreement", &format!("{}@uni-x.edu.tr", unique("req")), "");
    std::fs::write(dir.path().join("request.eml"), &incoming).expect("write");
    std::fs::write(dir.path().join("answer.txt"), "Dear colleagues,\nthe signed agreement is attached.\n").expect("write");
    std::fs::write(dir.path().join("agreement.pdf"), b"%PDF-1.4 signed").expect("write");
    let recipient = format!("bob+{}@uni-x.edu.tr", unique("answer"));
    let chancery = |args: &[&str]| {
        let mut command = chancery_command(dir.path(), &url);
        let output = send_through_dev_postfix(&mut command).args(args).output().expect("run chancery");
        assert!(output.status.success(), "chancery {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    chancery(&["ingest", "request.eml"]);
    let year = chrono::Utc::now().format("%Y").to_string();
    let request = format!("IN-{year}-000001");
    let printed = chancery(&[
        "send",
        "--to",
        &recipient,
        "--subject",
        "Signed agreement",
        "--body",
        "answer.txt",
        "--attach",
        "agreement.pdf",
        "--in-reply-to",
        &request,
    ]);
    let number = format!("OUT-{year}-000001");
    assert!(printed.contains(&format!("{number} registered")) && printed.contains(&format!("{number}: sent")), "{printed}");

    let outbox: serde_json::Value = serde_json::from_str(&chancery(&["outbox", "--json", "--status", "sent"])).expect("json");
    assert!(
        outbox.as_array().expect("array").iter().any(|row| row["kind"] == "correspondence" && row["recipients"][0] == recipient.as_str()),
        "{outbox}"
    );
    let shown: serde_json::Value = serde_json::from_str(&chancery(&["docs", "show", &request, "--json"])).expect("json");
    assert_eq!(shown["status"], "answered");
    let out: serde_json::Value = serde_json::from_str(&chancery(&["docs", "show", &number, "--json"])).expect("json");
    assert_eq!(out["direction"], "outgoing");
    assert_eq!(out["thread"], request.as_str(), "the answer joins the thread of the letter it answers");
    assert_eq!(out["attachments"][0]["name"], "agreement.pdf");
    // The list names whom an outgoing letter went to, as the daily register does; not the university.
    let listed = chancery(&["docs", "list"]);
    let row = listed.lines().find(|line| line.starts_with(&number)).unwrap_or_else(|| panic!("{number} not listed: {listed}"));
    assert!(row.contains(&recipient) && !row.contains("registry@uni.example"), "{listed}");

    // What arrived is what the register holds: the same Message-ID, subject and body.
    let message_id = out["message_id"].as_str().expect("message id").to_string();
    let arrived = || async { messages_where("bob", "INBOX", &format!("HEADER Message-ID \"{message_id}\"")).await.into_iter().next() };
    assert!(wait_for(Duration::from_secs(15), || async { arrived().await.is_some() }).await, "the letter did not arrive");
    let delivered = arrived().await.expect("delivered");
    let stored = std::process::Command::new(env!("CARGO_BIN_EXE_chancery"))
        .args(["docs", "raw", &number])
        .current_dir(dir.path())
        .env("CHANCERY_DATABASE__URL", &url)
        .env("CHANCERY_RULES__DIR", rules_dir())
        .output()
        .expect("docs raw")
        .stdout;
    assert!(delivered.ends_with(&stored), "the delivered message is the registered one, after the headers Postfix and Dovecot prepend");
    let subject = header(&delivered, "Subject").expect("subject");
    assert!(subject.contains(&number) && subject.contains(&request), "{subject}");
    assert!(header(&delivered, "In-Reply-To").is_some_and(|v| v.contains(shown["message_id"].as_str().expect("id"))));
}
