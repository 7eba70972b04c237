//! `chancery db copy --to postgres://…`: a SQLite register with real content (letters with
//! files, threads, an outgoing letter in the outbox, history, staff, partners, press, reminders)
//! copied into PostgreSQL answers every command the same; refused and failed copies leave the
//! target empty and the source untouched.
//!
//! The source is always SQLite and the target always PostgreSQL (`CHANCERY_TEST_POSTGRES_URL`,
//! by default `postgres://root@127.0.0.1:5432/test`, where each test creates its databases), so
//! the tests run the same under either `CHANCERY_TEST_BACKEND`.

mod seed;
mod support;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;
use sha2::{Digest, Sha256};
use support::postgres::PostgresDatabase;
use support::{block_on, chancery_command, describe, sql};

// ---------------------------------------------------------------------------------------------
// Databases: a SQLite register in a temporary folder, fresh PostgreSQL databases.
// ---------------------------------------------------------------------------------------------

/// Each table of a PostgreSQL database (its current schema) with its number of rows.
fn postgres_tables(url: &str) -> Vec<(String, i64)> {
    sqlx::any::install_default_drivers();
    block_on(async {
        let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(url).await.expect("connect to the target");
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
        )
        .fetch_all(&pool)
        .await
        .expect("list tables");
        let mut tables = Vec::new();
        for name in names {
            let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM \"{name}\"")))
                .fetch_one(&pool)
                .await
                .expect("count rows");
            tables.push((name, count));
        }
        pool.close().await;
        tables
    })
}

/// The tables of a target that hold rows, apart from the migrations' own record.
fn filled_tables(url: &str) -> Vec<(String, i64)> {
    postgres_tables(url).into_iter().filter(|(name, rows)| *rows > 0 && name != "_sqlx_migrations").collect()
}

/// A folder for letters and the binary's working directory, and a SQLite register in it.
struct Registry {
    dir: tempfile::TempDir,
    file: PathBuf,
    url: String,
}

impl Registry {
    fn new() -> Registry {
        let dir = tempfile::TempDir::new().expect("temporary directory");
        let file = dir.path().join("register.db");
        let url = format!("sqlite://{}", file.display());
        Registry { dir, file, url }
    }

    fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.dir.path().join(name), bytes).expect("write file");
    }

    /// The binary on the database at `url`, in the folder of letters.
    fn run_on(&self, url: &str, args: &[&str]) -> Output {
        chancery_command(self.dir.path(), url)
            .env("CHANCERY_ASSISTANT__COMMANDS_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/commands"))
            .args(args)
            .output()
            .expect("run chancery")
    }

    /// A command that must succeed on `url`; its standard output, byte for byte.
    fn ok_on(&self, url: &str, args: &[&str]) -> Vec<u8> {
        let output = self.run_on(url, args);
        assert!(output.status.success(), "chancery {args:?} on {url} failed: {}", describe(&output));
        output.stdout
    }

    fn ok(&self, args: &[&str]) -> String {
        String::from_utf8(self.ok_on(&self.url, args)).expect("UTF-8")
    }

    fn copy_to(&self, target: &str) -> Output {
        self.run_on(&self.url, &["db", "copy", "--to", target])
    }

    fn sha256(&self) -> String {
        hex::encode(Sha256::digest(std::fs::read(&self.file).expect("read the register")))
    }
}

/// A refusal as the CLI must report it: non-zero exit, one line on stderr, no panic.
fn one_line_error(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the copy should have been refused: {}", describe(output));
    assert!(!stderr.contains("panicked"), "{}", describe(output));
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one error line: {}", describe(output));
    lines[0].to_string()
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

fn numbers(list: &Value) -> Vec<String> {
    list.as_array().expect("a JSON array").iter().map(|d| d["number"].as_str().expect("number").to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// Letters.
// ---------------------------------------------------------------------------------------------

fn letter(subject: &str, message_id: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Leyla Mammadova <leyla@partner.example>\r\nTo: Registry <registry@uni.example>\r\nSubject: {subject}\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0400\r\nMessage-ID: <{message_id}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// A letter with a text part and a PDF that uses every byte value.
fn letter_with_attachment(subject: &str, message_id: &str, file_name: &str) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    pdf.extend((0..=255u8).cycle().take(3000));
    let encoded = support::base64(&pdf);
    let lines = encoded.as_bytes().chunks(76).map(|l| String::from_utf8_lossy(l).into_owned()).collect::<Vec<_>>().join("\r\n");
    let boundary = "=_copy-test";
    format!(
        "From: Grants Office <grants@ministry.example>\r\nTo: registry@uni.example\r\nSubject: {subject}\r\n\
         Date: Tue, 24 Nov 2026 12:00:00 +0400\r\nMessage-ID: <{message_id}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n\
         --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe report is attached.\r\n\
         --{boundary}\r\nContent-Type: application/pdf; name=\"{file_name}\"\r\n\
         Content-Disposition: attachment; filename=\"{file_name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{lines}\r\n\
         --{boundary}--\r\n"
    )
    .into_bytes()
}

/// A register built through the store and the command line as an office builds one: the
/// seeded staff, letters, partners and newsrooms; letters ingested (a file, a thread, another
/// script); an outgoing letter waiting in the outbox (the SMTP server is down); history from
/// annulling, rerouting and notes; a reminder set in chat.
fn filled_register() -> Registry {
    let registry = Registry::new();
    block_on(async {
        let store = chancery::store::Store::open(&registry.url, chrono_tz::Asia::Baku, chancery::store::OpenMode::CreateIfMissing)
            .await
            .expect("create the register");
        seed::seed(&store).await;
        store.close().await;
    });
    registry.write("grant.eml", &letter_with_attachment("Grant report 2026", "grant@ministry.example", "Qrant_hesabatı.pdf"));
    registry
        .write("meeting.eml", &letter("Şura toplantısı haqqında", "meeting@partner.example", "Hörmətli həmkarlar, toplantı cümə günüdür."));
    registry.write(
        "reply.eml",
        &letter(&format!("Re: {}", seed::documents::ERASMUS), "reply@partner.example", "Our nominations follow.\nЁлка и ёж."),
    );
    registry.ok(&["ingest", "grant.eml", "meeting.eml", "reply.eml"]);
    registry.write("answer.txt", b"Dear colleagues,\nthe signed agreement is attached.\n");
    registry.write("agreement.pdf", b"%PDF-1.4 signed\x00\xff");
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address").port();
    let sent = chancery_command(registry.dir.path(), &registry.url)
        .env("CHANCERY_SMTP__ENABLED", "true")
        .env("CHANCERY_SMTP__HOST", "127.0.0.1")
        .env("CHANCERY_SMTP__PORT", closed_port.to_string())
        .env("CHANCERY_SMTP__TLS", "none")
        .env("CHANCERY_SMTP__FROM", "University Registry <registry@uni.example>")
        .env("CHANCERY_SMTP__TEMPLATES_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/mail-rules/templates"))
        .args(["send", "--to", "partner@ut.example", "--subject", "Signed agreement", "--body", "answer.txt"])
        .args(["--attach", "agreement.pdf", "--in-reply-to", seed::documents::ERASMUS])
        .output()
        .expect("run chancery send");
    assert!(sent.status.success(), "send, with the server down, queues the letter: {}", describe(&sent));
    registry.ok(&["docs", "annul", seed::documents::PLAIN, "--reason", "registered twice by mistake"]);
    registry.ok(&["docs", "reroute", seed::documents::PERSONAL_FILE, "--unit", "registry", "--reason", "the file goes to the archive"]);
    let person = ["chat", "--as", seed::REGISTRAR];
    registry.ok(&[&person[..], &["!doc", "note", seed::documents::ERASMUS, "called the partner back"]].concat());
    registry.ok(&[&person[..], &["!remind", "me", "in 3 days", "send the Erasmus list"]].concat());
    registry
}

// ---------------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_copied_register_answers_every_command_as_the_source_does_and_numbers_on() {
    let registry = filled_register();
    let target = PostgresDatabase::fresh("copy");
    // `db migrate` first is optional: a target with only the empty schema is empty.
    registry.ok_on(&target.url, &["db", "migrate"]);

    let before = registry.sha256();
    let output = registry.copy_to(&target.url);
    assert!(output.status.success(), "{}", describe(&output));
    assert_eq!(registry.sha256(), before, "the copy only reads the register");
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();

    let (source, copy) = (registry.url.as_str(), target.url.as_str());
    let same = |args: &[&str]| {
        let (from_source, from_copy) = (registry.ok_on(source, args), registry.ok_on(copy, args));
        assert!(
            from_source == from_copy,
            "chancery {args:?} differs:\n--- source\n{}\n--- copy\n{}",
            String::from_utf8_lossy(&from_source),
            String::from_utf8_lossy(&from_copy)
        );
        from_source
    };
    // Search finds the same documents at once, before any other command could index the copy
    // (ranking may order them differently on each database).
    for words in ["nominations", "TOPLANTISI", "qrant", "елка", "catalogue"] {
        let found = |url: &str| -> BTreeSet<String> {
            numbers(&json(&registry.ok_on(url, &["docs", "search", words, "--json"]))).into_iter().collect()
        };
        let on_source = found(source);
        assert!(!on_source.is_empty(), "'{words}' finds something on the source");
        assert_eq!(on_source, found(copy), "'{words}' finds the same on the copy");
    }
    let list = json(&same(&["docs", "list", "--json"]));
    let listed = numbers(&list);
    assert!(listed.len() >= 7, "the seeded, ingested and sent letters: {listed:?}");
    let verified = format!("verified {} documents", listed.len());
    assert!(printed.contains(&verified), "{printed}");
    for number in &listed {
        let shown = json(&same(&["docs", "show", "--json", number]));
        assert!(!shown["history"].as_array().expect("history").is_empty(), "{number} has its history: {shown}");
        same(&["docs", "raw", number]);
    }
    let erasmus = json(&registry.ok_on(copy, &["docs", "show", "--json", seed::documents::ERASMUS]));
    let actions: Vec<&str> = erasmus["history"].as_array().expect("history").iter().filter_map(|h| h["action"].as_str()).collect();
    assert!(actions.len() >= 3, "registration, answer and note are in the copy's history: {actions:?}");
    let outbox = json(&same(&["outbox", "--json"]));
    assert!(
        outbox.as_array().expect("array").iter().any(|mail| mail["recipients"][0] == "partner@ut.example"),
        "the outgoing letter waits in the copy's outbox: {outbox}"
    );
    same(&["staff", "list", "--json"]);
    same(&["register", "daily", "--date", "2026-11-16", "--format", "json"]);
    same(&["chat", "--as", seed::REGISTRAR, "!reminders"]);
    same(&["chat", "--as", seed::IRO_OFFICER, "!partner ut"]);

    assert!(String::from_utf8_lossy(&registry.ok_on(copy, &["verify"])).contains(&verified));

    // The next letter on the copy takes the next number of the year, and the next ids.
    let year = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Baku).format("%Y").to_string();
    let prefix = format!("IN-{year}-");
    let last = listed.iter().filter_map(|n| n.strip_prefix(&prefix)).filter_map(|s| s.parse::<u32>().ok()).max().unwrap_or(0);
    registry.write("next.eml", &letter("After the move", "next@partner.example", "The first letter on PostgreSQL."));
    let ingested = String::from_utf8_lossy(&registry.ok_on(copy, &["ingest", "next.eml"])).into_owned();
    let next = format!("{prefix}{:06}", last + 1);
    assert!(ingested.contains(&format!("numbers {next} .. {next}")), "{ingested}");
    let shown = json(&registry.ok_on(copy, &["docs", "show", "--json", &next]));
    assert_eq!(shown["subject"], "After the move");
    assert_eq!(numbers(&json(&registry.ok_on(copy, &["docs", "search", "move", "--json"]))), [next]);
}

#[test]
fn a_target_that_is_not_empty_is_refused_and_left_as_it_was() {
    let registry = filled_register();

    // A register of its own: one letter.
    let busy = PostgresDatabase::fresh("copy");
    registry.write("own.eml", &letter("Already here", "own@partner.example", "A letter of the target's own."));
    registry.ok_on(&busy.url, &["ingest", "own.eml"]);
    let (tables, list) = (postgres_tables(&busy.url), registry.ok_on(&busy.url, &["docs", "list", "--json"]));
    let line = one_line_error(&registry.copy_to(&busy.url));
    assert!(line.contains("not empty") && line.contains("documents"), "{line}");
    assert_eq!(postgres_tables(&busy.url), tables, "the target's tables and rows are as they were");
    assert_eq!(registry.ok_on(&busy.url, &["docs", "list", "--json"]), list);

    // Another application's table: not even our schema is created beside it.
    let foreign = PostgresDatabase::fresh("copy");
    assert_eq!(sql(&foreign.url, &["CREATE TABLE accounts (id BIGINT PRIMARY KEY)"]), [Ok(0)]);
    let line = one_line_error(&registry.copy_to(&foreign.url));
    assert!(line.contains("not Chancery's") && line.contains("accounts"), "{line}");
    assert_eq!(postgres_tables(&foreign.url), [("accounts".to_string(), 0)]);

    // A source that is not SQLite, and a target that is not PostgreSQL.
    let line = one_line_error(&registry.run_on(&busy.url, &["db", "copy", "--to", &foreign.url]));
    assert!(line.contains("SQLite"), "{line}");
    let line = one_line_error(&registry.copy_to(&format!("sqlite://{}/other.db", registry.dir.path().display())));
    assert!(line.contains("postgres://"), "{line}");
}

#[test]
fn a_copy_that_fails_midway_leaves_the_target_empty_and_the_source_untouched() {
    let registry = filled_register();
    // PostgreSQL's text cannot hold a NUL character, SQLite's can: a history entry with one is
    // copied after the documents, attachments and raw messages, and fails the copy there.
    let statements = ["INSERT INTO history (document_id, at, actor, action, reason) \
                       VALUES (1, '2026-11-30T10:00:00.000000Z', 'cli:old-tool', 'noted', 'a NUL ' || char(0) || ' inside')"];
    assert_eq!(sql(&registry.url, &statements), [Ok(1)]);
    let before = registry.sha256();
    let listed = registry.ok(&["docs", "list", "--json"]);
    let before_listing = registry.sha256();
    assert_eq!(before, before_listing, "reading the register does not change its file");

    let target = PostgresDatabase::fresh("copy");
    let line = one_line_error(&registry.copy_to(&target.url));
    assert!(line.contains("history") && line.contains("nothing was written"), "{line}");
    assert_eq!(filled_tables(&target.url), [], "only the empty schema is left on the target");
    assert_eq!(registry.sha256(), before, "the source file is byte for byte as it was");
    assert_eq!(registry.ok(&["docs", "list", "--json"]), listed);
}

#[test]
fn a_copy_that_does_not_verify_is_emptied_again() {
    let registry = filled_register();
    let tampered = format!(
        "UPDATE raw_messages SET bytes = X'74616d7065726564' WHERE document_id = (SELECT id FROM documents WHERE number = '{}')",
        seed::documents::PLAIN
    );
    assert_eq!(sql(&registry.url, &["DROP TRIGGER raw_messages_are_immutable", &tampered]), [Ok(0), Ok(1)]);
    assert_eq!(registry.run_on(&registry.url, &["verify"]).status.code(), Some(1), "the source does not verify");
    let before = registry.sha256();

    let target = PostgresDatabase::fresh("copy");
    let line = one_line_error(&registry.copy_to(&target.url));
    assert!(line.contains("does not verify") && line.contains(seed::documents::PLAIN) && line.contains("emptied"), "{line}");
    assert_eq!(filled_tables(&target.url), [], "only the empty schema is left on the target");
    assert_eq!(registry.sha256(), before);
    // The emptied target takes a copy later, as any empty one does.
    let repaired = filled_register();
    let output = repaired.copy_to(&target.url);
    assert!(output.status.success(), "{}", describe(&output));
}

#[test]
fn a_source_behind_this_schema_is_refused_without_being_migrated() {
    let registry = filled_register();
    assert_eq!(sql(&registry.url, &["DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)"]), [Ok(1)]);
    let before = registry.sha256();
    let target = PostgresDatabase::fresh("copy");
    let line = one_line_error(&registry.copy_to(&target.url));
    assert!(line.contains("chancery db migrate"), "{line}");
    assert_eq!(registry.sha256(), before);
    assert_eq!(postgres_tables(&target.url), [], "the target is not touched either");
}
