//! End-to-end tests of the `chancery` binary against a real database.
//!
//! The backend comes from `CHANCERY_TEST_BACKEND`: `sqlite` (default; a fresh file per test) or
//! `postgres` (a fresh database per test on `CHANCERY_TEST_POSTGRES_URL`, by default
//! `postgres://root@127.0.0.1:5432/test`). Letters are written as files in a temporary directory,
//! which is also the binary's working directory, so no stray `chancery.toml` is read.

mod support;

use chrono::Datelike;
use serde_json::Value;
use sha2::{Digest, Sha256};
use support::describe;
use support::registry::{Backend, Registry, numbers, one_line_error};

// ---------------------------------------------------------------------------------------------
// Letters.
// ---------------------------------------------------------------------------------------------

/// The registration number with this sequence in this year's incoming register.
fn number(sequence: u32) -> String {
    format!("IN-{}-{sequence:06}", chrono::Utc::now().with_timezone(&chrono_tz::Asia::Baku).year())
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A subject as an RFC 2047 encoded word (UTF-8, B).
fn encoded_word(text: &str) -> String {
    format!("=?UTF-8?B?{}?=", support::base64(text.as_bytes()))
}

/// A message with CRLF line endings: the headers, a blank line, the body as given.
fn mail(headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// A plain UTF-8 letter; `extra` headers come after the usual ones.
fn letter(subject: &str, message_id: &str, body: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let id = format!("<{message_id}>");
    let mut headers = vec![
        ("From", "Leyla Mammadova <leyla@partner.example>"),
        ("To", "Registry <registry@uni.example>"),
        ("Subject", subject),
        ("Date", "Mon, 05 Jan 2026 10:00:00 +0400"),
        ("Message-ID", id.as_str()),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", "8bit"),
    ];
    headers.extend_from_slice(extra);
    mail(&headers, body.replace('\n', "\r\n").as_bytes())
}

/// A letter in windows-1251, 8-bit, the way older Russian mail clients send it.
fn windows_1251_letter(subject: &str, message_id: &str, body: &str) -> Vec<u8> {
    let body = body.replace('\n', "\r\n");
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1251.encode(&body);
    assert!(!unmappable);
    let id = format!("<{message_id}>");
    mail(
        &[
            ("From", "Kazan Federal University <intl@kpfu.example>"),
            ("To", "registry@uni.example"),
            ("Subject", subject),
            ("Date", "Tue, 06 Jan 2026 09:15:00 +0300"),
            ("Message-ID", &id),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=windows-1251"),
            ("Content-Transfer-Encoding", "8bit"),
        ],
        &bytes,
    )
}

/// A letter with a text part and one base64 attachment under `file_name`.
fn letter_with_attachment(subject: &str, message_id: &str, text: &str, file_name: &str, content: &[u8]) -> Vec<u8> {
    let boundary = "=_chancery-test-boundary";
    let encoded =
        support::base64(content).as_bytes().chunks(76).map(|l| String::from_utf8_lossy(l).into_owned()).collect::<Vec<_>>().join("\r\n");
    let body = format!(
        "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\
         --{boundary}\r\nContent-Type: application/pdf; name=\"{file_name}\"\r\n\
         Content-Disposition: attachment; filename=\"{file_name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n\
         --{boundary}--\r\n"
    );
    let content_type = format!("multipart/mixed; boundary=\"{boundary}\"");
    let id = format!("<{message_id}>");
    mail(
        &[
            ("From", "Grants Office <grants@ministry.example>"),
            ("To", "registry@uni.example"),
            ("Subject", subject),
            ("Date", "Wed, 07 Jan 2026 12:00:00 +0400"),
            ("Message-ID", &id),
            ("MIME-Version", "1.0"),
            ("Content-Type", &content_type),
        ],
        body.as_bytes(),
    )
}

/// Bytes that look like a PDF and use every byte value, so base64 and storage are exercised.
fn pdf_bytes() -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    bytes.extend((0..=255u8).cycle().take(1000));
    bytes
}

// ---------------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------------

#[test]
fn ingest_numbers_files_folders_and_mbox_gaplessly_and_keeps_the_bytes() {
    let reg = Registry::new();
    let plain = letter("Invitation to the rectors' forum", "forum@partner.example", "Dear colleagues,\nyou are invited.\n", &[]);
    let cyrillic =
        windows_1251_letter("Cooperation agreement", "kazan-1@kpfu.example", "Уважаемые коллеги!\nНаправляем проект договора.\n");
    assert!(cyrillic.windows(2).any(|w| w == b"\r\n") && cyrillic.iter().any(|b| *b >= 0x80), "fixture is CRLF and 8-bit");
    let in_folder_a = letter("Folder letter A", "a@partner.example", "first in the folder\n", &[]);
    let in_folder_b = letter("Folder letter B", "b@partner.example", "second in the folder\n", &[]);
    let mbox_1 = b"From: Old Archive <archive@partner.example>\nTo: registry@uni.example\nSubject: Mbox letter one\nMessage-ID: <mbox-1@partner.example>\n\nfirst archived letter\n".to_vec();
    let mbox_2 = b"From: Old Archive <archive@partner.example>\nTo: registry@uni.example\nSubject: Mbox letter two\nMessage-ID: <mbox-2@partner.example>\n\nsecond archived letter\n".to_vec();
    let mut mbox = b"From archive@partner.example Mon Jan  5 10:00:00 2026\n".to_vec();
    mbox.extend_from_slice(&mbox_1);
    mbox.extend_from_slice(b"\nFrom archive@partner.example Mon Jan  5 11:00:00 2026\n");
    mbox.extend_from_slice(&mbox_2);

    reg.write("plain.eml", &plain);
    reg.write("cyrillic.eml", &cyrillic);
    // Written out of order: a folder is read in name order. Files that are not mail are skipped.
    reg.write("inbox/b.eml", &in_folder_b);
    reg.write("inbox/a.eml", &in_folder_a);
    reg.write("inbox/notes.txt", b"not a letter");
    reg.write("archive.mbox", &mbox);

    let args = ["ingest", "plain.eml", "cyrillic.eml", "inbox", "archive.mbox"];
    let out = reg.ok(&args);
    assert!(out.contains("registered 6, already registered 0"), "{out}");
    assert!(out.contains(&format!("numbers {} .. {}", number(1), number(6))), "{out}");

    let documents = reg.list(&[]);
    let subjects: Vec<&str> = documents.iter().map(|d| d["subject"].as_str().unwrap()).collect();
    assert_eq!(numbers(&documents), (1..=6).map(number).collect::<Vec<_>>());
    assert_eq!(
        subjects,
        [
            "Invitation to the rectors' forum",
            "Cooperation agreement",
            "Folder letter A",
            "Folder letter B",
            "Mbox letter one",
            "Mbox letter two"
        ]
    );

    // The same files again: the same letters, nothing new, and no number used up.
    let out = reg.ok(&args);
    assert!(out.contains("registered 0, already registered 6"), "{out}");
    assert_eq!(reg.list(&[]).len(), 6);
    reg.write("later.eml", &letter("A later letter", "later@partner.example", "later\n", &[]));
    let out = reg.ok(&["ingest", "later.eml"]);
    assert!(out.contains(&format!("numbers {} .. {}", number(7), number(7))), "{out}");

    // The originals come back byte for byte.
    for (sequence, original) in [(1, &plain), (2, &cyrillic), (3, &in_folder_a), (4, &in_folder_b)] {
        let raw = reg.run(&["docs", "raw", &number(sequence)]);
        assert!(raw.status.success(), "{}", describe(&raw));
        assert!(raw.stdout == *original, "docs raw {} differs from the file it came from", number(sequence));
    }
    // From an mbox, the message is what stands between its "From " lines.
    for (sequence, original) in [(5, &mbox_1), (6, &mbox_2)] {
        let raw = reg.run(&["docs", "raw", &number(sequence)]).stdout;
        let trim = |b: &[u8]| b.iter().rposition(|c| *c != b'\n').map_or(0, |i| i + 1);
        assert_eq!(String::from_utf8_lossy(&raw[..trim(&raw)]), String::from_utf8_lossy(&original[..trim(original)]));
    }
}

#[test]
fn docs_list_json_carries_the_register_fields_and_filters() {
    let reg = Registry::new();
    let pdf = pdf_bytes();
    let with_pdf =
        letter_with_attachment("Grant report 2026", "grant@ministry.example", "The report is attached.", "Qrant_hesabati_2026.pdf", &pdf);
    let plain = letter("Conference call", "call@partner.example", "Shall we talk on Friday?\n", &[]);
    reg.write("1.eml", &with_pdf);
    reg.write("2.eml", &plain);
    reg.ok(&["ingest", "1.eml", "2.eml"]);

    let documents = reg.list(&[]);
    assert_eq!(numbers(&documents), [number(1), number(2)]);
    let d = &documents[0];
    for field in [
        "number",
        "direction",
        "status",
        "unit",
        "confidentiality",
        "subject",
        "from",
        "to",
        "message_id",
        "sha256",
        "received_at",
        "registered_at",
        "thread",
        "attachments",
    ] {
        assert!(d.get(field).is_some(), "field {field} missing from {d:#}");
    }
    assert_eq!(d["direction"], "incoming");
    assert_eq!(d["status"], "registered");
    assert_eq!(d["unit"], "registry");
    assert_eq!(d["confidentiality"], "internal");
    assert_eq!(d["subject"], "Grant report 2026");
    assert_eq!(d["from"][0]["address"], "grants@ministry.example");
    assert_eq!(d["from"][0]["name"], "Grants Office");
    assert_eq!(d["to"][0]["address"], "registry@uni.example");
    assert_eq!(d["message_id"], "grant@ministry.example");
    assert_eq!(d["sha256"], sha256(&with_pdf).as_str());
    assert_eq!(documents[1]["sha256"], sha256(&plain).as_str());
    assert_eq!(d["thread"], number(1).as_str());
    let now = chrono::Utc::now();
    for field in ["received_at", "registered_at"] {
        let at = chrono::DateTime::parse_from_rfc3339(d[field].as_str().unwrap()).unwrap_or_else(|e| panic!("{field}: {e}"));
        let age = now.signed_duration_since(at);
        assert!(age >= chrono::Duration::zero() && age < chrono::Duration::minutes(10), "{field} {at} is not just now");
    }
    let attachments = d["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0]["name"], "Qrant_hesabati_2026.pdf");
    assert_eq!(attachments[0]["size"], pdf.len());
    assert_eq!(attachments[0]["sha256"], sha256(&pdf).as_str());
    assert_eq!(documents[1]["attachments"], serde_json::json!([]));

    reg.ok(&["docs", "annul", &number(2), "--reason", "duplicate of a paper letter"]);
    assert_eq!(numbers(&reg.list(&["--status", "annulled"])), [number(2)]);
    assert_eq!(numbers(&reg.list(&["--status", "registered"])), [number(1)]);
    assert_eq!(numbers(&reg.list(&["--since", "today"])), [number(1), number(2)]);
    assert_eq!(numbers(&reg.list(&["--since", "2001-01-01"])), [number(1), number(2)]);
    assert!(reg.list(&["--since", "2999-01-01"]).is_empty());
}

#[test]
fn replies_join_the_thread_of_the_letter_they_answer() {
    let reg = Registry::new();
    reg.write("a.eml", &letter("Erasmus+ agreement", "a@partner.example", "Please sign.\n", &[]));
    reg.ok(&["ingest", "a.eml"]);
    let a = number(1);

    let cyrillic_subject = encoded_word(&format!("Отв: [{a}] Соглашение"));
    let replies = [
        ("re", format!("Re: [{a}] x"), vec![]),
        ("aw", format!("AW: AW: [{a}]"), vec![]),
        ("ynt", format!("Ynt: Fwd: [{a}]"), vec![]),
        ("otv", cyrillic_subject, vec![]),
        ("irt", "Re: Erasmus+ agreement".to_string(), vec![("In-Reply-To", "<a@partner.example>")]),
        // A reply to a reply: the thread is still the first letter's.
        ("irt2", "Re: Re: Erasmus+ agreement".to_string(), vec![("In-Reply-To", "<irt@partner.example>")]),
    ];
    for (i, (id, subject, extra)) in replies.iter().enumerate() {
        reg.write(&format!("replies/{i}.eml"), &letter(subject, &format!("{id}@partner.example"), "Answer.\n", extra));
    }
    reg.write("unrelated.eml", &letter("Library opening hours [IN-2001-000001]", "lib@partner.example", "Hello.\n", &[]));
    let out = reg.ok(&["ingest", "replies", "unrelated.eml"]);
    assert!(out.contains("registered 7, already registered 0"), "{out}");

    let documents = reg.list(&[]);
    assert_eq!(numbers(&documents), (1..=8).map(number).collect::<Vec<_>>(), "every reply has its own number");
    let by_id = |id: &str| documents.iter().find(|d| d["message_id"] == id).unwrap_or_else(|| panic!("no {id}"));
    assert_eq!(by_id("a@partner.example")["thread"], a.as_str());
    for (id, _, _) in &replies {
        let d = by_id(&format!("{id}@partner.example"));
        assert_ne!(d["number"], a.as_str());
        assert_eq!(d["thread"], a.as_str(), "{id}: {d:#}");
    }
    assert_eq!(by_id("otv@partner.example")["subject"], format!("Отв: [{a}] Соглашение").as_str(), "RFC 2047 subject decoded");
    let unrelated = by_id("lib@partner.example");
    assert_eq!(unrelated["thread"], unrelated["number"]);
}

#[test]
fn search_finds_subject_body_and_attachment_words_in_any_script() {
    let reg = Registry::new();
    reg.write("1.eml", &letter("Erasmus mobility nominations", "1@x.example", "Names are listed below.\n", &[]));
    reg.write("2.eml", &letter("Layihə", "2@x.example", "Əməkdaşlıq haqqında müqavilə layihəsi əlavə olunur.\n", &[]));
    reg.write("3.eml", &windows_1251_letter("From Kazan", "3@x.example", "Направляем проект договора о сотрудничестве.\n"));
    reg.write("4.eml", &letter_with_attachment("Report", "4@x.example", "See the file.", "Qrant_hesabati_2026.pdf", &pdf_bytes()));
    let out = reg.ok(&["ingest", "1.eml", "2.eml", "3.eml", "4.eml"]);
    assert!(out.contains("registered 4, already registered 0, flagged for review 0"), "{out}");

    assert_eq!(reg.search("nominations"), [number(1)], "subject word");
    assert_eq!(reg.search("Erasmus nominat"), [number(1)], "several words, the last as a prefix");
    assert_eq!(reg.search("listed"), [number(1)], "body word");
    assert_eq!(reg.search("müqavilə"), [number(2)], "Azerbaijani body word");
    assert_eq!(reg.search("договора"), [number(3)], "Russian word from a windows-1251 body");
    assert_eq!(reg.search("СОТРУДНИЧЕСТВЕ"), [number(3)], "search ignores case in Cyrillic too");
    assert_eq!(reg.search("Qrant"), [number(4)], "attachment name");
    assert_eq!(reg.search("hesabati"), [number(4)], "a word inside an attachment name");
    assert!(reg.search("zanzibar").is_empty());
    assert_eq!(reg.ok(&["docs", "search", "zanzibar"]).trim(), "no documents");
}

#[test]
fn annulled_entries_stay_in_the_register_with_the_reason() {
    let reg = Registry::new();
    reg.write("1.eml", &letter("Sent to us by mistake", "1@x.example", "Oops.\n", &[]));
    reg.write("2.eml", &letter("A proper letter", "2@x.example", "Hello.\n", &[]));
    reg.ok(&["ingest", "1.eml", "2.eml"]);
    let first = number(1);

    let out = reg.ok(&["docs", "annul", &first, "--reason", "addressed to another university"]);
    assert_eq!(out.trim(), format!("{first} annulled: addressed to another university"));

    let documents = reg.list(&[]);
    assert_eq!(numbers(&documents), [number(1), number(2)], "an annulled entry stays listed");
    assert_eq!(documents[0]["status"], "annulled");
    assert_eq!(documents[0]["annul_reason"], "addressed to another university");
    assert_eq!(documents[1]["status"], "registered");

    let shown = reg.json(&["docs", "show", &first, "--json"]);
    let history = shown["history"].as_array().expect("history");
    let annulled: Vec<&Value> = history.iter().filter(|h| h["action"] == "annulled").collect();
    assert_eq!(annulled.len(), 1, "{history:#?}");
    assert_eq!(annulled[0]["reason"], "addressed to another university");
    assert_eq!(annulled[0]["old_value"], "registered");
    assert_eq!(history[0]["action"], "registered");

    let error = reg.fails(&["docs", "annul", &first, "--reason", "again"]);
    assert!(error.contains("already annulled"), "{error}");
    assert!(reg.fails(&["docs", "annul", &number(2), "--reason", "   "]).contains("reason"));
    let missing_reason = reg.run(&["docs", "annul", &number(2)]);
    assert!(
        !missing_reason.status.success() && String::from_utf8_lossy(&missing_reason.stderr).contains("--reason"),
        "{}",
        describe(&missing_reason)
    );
    assert_eq!(reg.list(&["--status", "annulled"]).len(), 1, "failed annulments change nothing");
    let shown = reg.json(&["docs", "show", &first, "--json"]);
    assert_eq!(shown["history"].as_array().unwrap().len(), history.len(), "failed annulments add no history");
}

#[test]
fn the_core_of_an_entry_cannot_be_edited_or_deleted_even_in_sql() {
    let reg = Registry::new();
    let original = letter_with_attachment("Original subject", "1@x.example", "Body.", "plan.pdf", &pdf_bytes());
    reg.write("1.eml", &original);
    reg.ok(&["ingest", "1.eml"]);

    let results = reg.sql(&[
        "UPDATE documents SET subject = 'x'",
        "DELETE FROM documents",
        "UPDATE raw_messages SET document_id = document_id",
        "UPDATE attachments SET name = 'x'",
        "DELETE FROM history",
        "DELETE FROM raw_messages",
        "DELETE FROM attachments",
    ]);
    let expected = [
        "cannot be edited",
        "never deleted",
        "cannot be edited",
        "cannot be edited",
        "append-only",
        "approved disposal",
        "approved disposal",
    ];
    for (result, why) in results.iter().zip(expected) {
        match result {
            Ok(rows) => panic!("the database allowed it ({rows} rows): {results:?}"),
            Err(error) => assert!(error.contains(why), "refused for the wrong reason: {error}"),
        }
    }
    // What may change after registration still can.
    assert_eq!(reg.sql(&["UPDATE documents SET unit = 'rectorate'"]), [Ok(1)]);

    let documents = reg.list(&[]);
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0]["subject"], "Original subject");
    assert_eq!(documents[0]["attachments"][0]["name"], "plan.pdf");
    assert_eq!(reg.run(&["docs", "raw", &number(1)]).stdout, original);
}

#[test]
fn verify_detects_a_tampered_message() {
    let reg = Registry::new();
    assert!(reg.ok(&["verify"]).contains("verified 0 documents"));
    reg.write("1.eml", &letter_with_attachment("With a file", "1@x.example", "Body.", "plan.pdf", &pdf_bytes()));
    reg.write("2.eml", &letter("To be tampered with", "2@x.example", "The original text.\n", &[]));
    reg.ok(&["ingest", "1.eml", "2.eml"]);
    assert!(reg.ok(&["verify"]).contains("verified 2 documents"));

    let (drop_trigger, tampered) = match reg.backend {
        Backend::Sqlite => ("DROP TRIGGER raw_messages_are_immutable", "X'74616d7065726564'"),
        Backend::Postgres => ("DROP TRIGGER raw_messages_are_immutable ON raw_messages", "'\\x74616d7065726564'::bytea"),
    };
    let update =
        format!("UPDATE raw_messages SET bytes = {tampered} WHERE document_id = (SELECT id FROM documents WHERE number = '{}')", number(2));
    assert_eq!(reg.sql(&[drop_trigger, &update]), [Ok(0), Ok(1)]);
    assert_eq!(reg.run(&["docs", "raw", &number(2)]).stdout, b"tampered", "the tampering took effect");

    let output = reg.run(&["verify"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(stdout.lines().any(|l| l.starts_with(&format!("{}: message:", number(2)))), "{stdout}");
    assert!(!stdout.contains(&number(1)), "only the tampered document is named: {stdout}");
    assert!(stdout.contains("1 problem(s) in 2 documents"), "{stdout}");
}

#[test]
fn the_daily_register_lists_the_days_entries() {
    let reg = Registry::new();
    reg.write("1.eml", &letter("Daily one", "1@x.example", "One.\n", &[]));
    reg.write("2.eml", &letter_with_attachment("Daily two", "2@x.example", "Two.", "plan.pdf", &pdf_bytes()));
    reg.ok(&["ingest", "1.eml", "2.eml"]);
    let header =
        "number,registered_at,received_at,direction,correspondent,subject,unit,confidentiality,status,attachments,attachment_names,sha256";

    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Baku).format("%Y-%m-%d").to_string();
    for date in [None, Some("today"), Some(today.as_str())] {
        let mut args = vec!["register", "daily", "--format", "csv"];
        if let Some(date) = date {
            args.extend(["--date", date]);
        }
        let csv = reg.ok(&args);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "{csv}");
        assert_eq!(lines[0], header);
        assert!(lines[1].starts_with(&format!("{},", number(1))) && lines[1].contains("Daily one"), "{csv}");
        assert!(lines[2].starts_with(&format!("{},", number(2))) && lines[2].contains("plan.pdf"), "{csv}");
    }
    let rows = reg.json(&["register", "daily", "--format", "json"]);
    assert_eq!(numbers(rows.as_array().unwrap()), [number(1), number(2)]);
    assert_eq!(rows[1]["attachments"], 1);

    assert_eq!(reg.ok(&["register", "daily", "--format", "csv", "--date", "2001-01-01"]).trim_end(), header);
    assert_eq!(reg.json(&["register", "daily", "--format", "json", "--date", "2001-01-01"]), serde_json::json!([]));
}

#[test]
fn errors_are_one_clear_line() {
    let reg = Registry::new();
    assert!(reg.fails(&["docs", "show", "IN-2026-999999"]).contains("no document IN-2026-999999"));
    assert!(reg.fails(&["docs", "show", "nonsense"]).contains("'nonsense' is not a registration number"));
    assert!(reg.fails(&["docs", "raw", "IN-2026-999999"]).contains("IN-2026-999999"));
    assert!(reg.fails(&["docs", "list", "--since", "someday"]).contains("'someday' is not a date"));
    assert!(reg.fails(&["ingest", "no-such.eml"]).contains("no-such.eml"));
    assert!(reg.fails(&["--config", "missing.toml", "docs", "list"]).contains("does not exist"));

    reg.write("bad.toml", b"[database\nurl = \"sqlite://x.db\"\n");
    assert!(reg.fails(&["--config", "bad.toml", "docs", "list"]).contains("configuration"));

    let refused =
        reg.command(&["docs", "list"]).env("CHANCERY_IMAP__TLS", "none").env("CHANCERY_IMAP__HOST", "imap.example.org").output().unwrap();
    let line = one_line_error(&refused, "plaintext IMAP off loopback");
    assert!(line.contains("refused") && line.contains("imap.example.org"), "{line}");

    let bad_url = reg.command(&["docs", "list"]).env("CHANCERY_DATABASE__URL", "mysql://localhost/x").output().unwrap();
    assert!(one_line_error(&bad_url, "unsupported database").contains("unsupported database URL"));
}

#[test]
fn two_processes_ingesting_at_once_number_gaplessly() {
    let reg = Registry::new();
    for folder in ["left", "right"] {
        for i in 0..60 {
            let id = format!("{folder}-{i}@x.example");
            reg.write(
                &format!("{folder}/{i:02}.eml"),
                &letter(&format!("{folder} letter {i}"), &id, &format!("Letter {i} from {folder}.\n"), &[]),
            );
        }
    }
    reg.ok(&["db", "migrate"]);
    let left = reg.command(&["ingest", "left"]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let right =
        reg.command(&["ingest", "right"]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    for child in [left, right] {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", describe(&output));
        assert!(String::from_utf8_lossy(&output.stdout).contains("registered 60, already registered 0"), "{}", describe(&output));
    }

    let documents = reg.list(&[]);
    let mut got = numbers(&documents);
    got.sort();
    assert_eq!(got, (1..=120).map(number).collect::<Vec<_>>(), "120 numbers, no gap, no duplicate");
    let mut subjects: Vec<&str> = documents.iter().map(|d| d["subject"].as_str().unwrap()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 120, "every letter registered once");
}

#[test]
fn hostile_input_is_registered_and_flagged_not_dropped() {
    let reg = Registry::new();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let garbage: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let garbage = [b"\x00\xff".as_slice(), &garbage].concat();
    let hostile =
        letter_with_attachment("Invoice", "hostile@x.example", "Open the file.", "../../etc/passwd", b"root:x:0:0::/root:/bin/sh\n");
    // NUL bytes in a header, in an encoded word and in the body of an otherwise ordinary letter.
    let nul = letter("=?utf-8?Q?Pay=00ment?= due\0now", "nul@x.example", "Pay\0 now.\n", &[]);
    reg.write("garbage.bin", &garbage);
    reg.write("hostile.eml", &hostile);
    reg.write("nul.eml", &nul);
    let out = reg.ok(&["ingest", "--accept-unparsed", "garbage.bin", "hostile.eml", "nul.eml"]);
    assert!(out.contains("registered 3, already registered 0, flagged for review 2"), "{out}");

    let documents = reg.list(&[]);
    assert_eq!(numbers(&documents), [number(1), number(2), number(3)]);
    let flags =
        |d: &Value| -> Vec<String> { d["flags"].as_array().unwrap().iter().map(|f| f["flag"].as_str().unwrap().to_string()).collect() };
    assert_eq!(flags(&documents[0]), ["unparsed"]);
    assert_eq!(documents[0]["sha256"], sha256(&garbage).as_str());
    assert!(flags(&documents[1]).contains(&"hostile-attachment-name".to_string()), "{:#}", documents[1]);
    let attachments = documents[1]["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1);
    let name = attachments[0]["name"].as_str().unwrap();
    assert!(!name.contains('/') && !name.contains('\\') && !name.starts_with('.'), "stored name {name:?}");

    let subject = documents[2]["subject"].as_str().unwrap();
    assert!(subject.contains("ment due") && !subject.contains('\0'), "{subject:?}");
    assert_eq!(reg.search("due"), [number(3)]);

    assert!(reg.run(&["docs", "raw", &number(1)]).stdout == garbage, "garbage is kept byte for byte");
    assert!(reg.run(&["docs", "raw", &number(3)]).stdout == nul, "NUL bytes are kept in the original");
    assert!(reg.ok(&["verify"]).contains("verified 3 documents"));
}

#[test]
fn rules_replay_counts_each_rule_and_shows_letters_rerouted_by_hand() {
    let reg = Registry::new();
    let erasmus = reg.write("erasmus.eml", &letter("Erasmus mobility 2027", "replay-1@uni-x.edu.tr", "nominations", &[]));
    let plain = reg.write("plain.eml", &letter("A question", "replay-2@example.org", "hello", &[]));
    reg.ok(&["ingest", &erasmus, &plain]);
    let year = chrono::Utc::now().format("%Y").to_string();
    let first = format!("IN-{year}-000001");
    assert_eq!(reg.json(&["docs", "show", &first, "--json"])["unit"], "international");

    let replay = reg.ok(&["rules", "replay", "--since", "today"]);
    assert!(replay.contains("2 documents replayed"), "{replay}");
    assert!(replay.contains("Exchange programmes and mobility") && replay.contains("(default unit)"), "{replay}");
    assert!(replay.contains("0 would be routed elsewhere"), "{replay}");

    // Rerouted by hand: recorded in the history, and the replay shows the difference.
    reg.ok(&["docs", "reroute", &first, "--unit", "rectorate", "--reason", "the rector signs these"]);
    let shown = reg.json(&["docs", "show", &first, "--json"]);
    assert_eq!(shown["unit"], "rectorate");
    let history = shown["history"].as_array().expect("history");
    assert!(
        history.iter().any(|h| h["field"] == "unit" && h["new_value"] == "rectorate" && h["reason"] == "the rector signs these"),
        "{history:?}"
    );
    let replay = reg.ok(&["rules", "replay", "--since", "today"]);
    assert!(replay.contains("1 would be routed elsewhere") && replay.contains(&format!("{first}: now with rectorate")), "{replay}");
    assert!(reg.fails(&["docs", "reroute", &first, "--unit", "nowhere", "--reason", "typo"]).contains("no unit 'nowhere'"));
}

#[test]
fn docs_due_gives_a_letter_a_new_due_date_with_its_reason_and_refuses_the_past() {
    let reg = Registry::new();
    let erasmus = reg.write("erasmus.eml", &letter("Erasmus mobility 2027", "due-1@uni-x.edu.tr", "nominations", &[]));
    reg.ok(&["ingest", &erasmus]);
    let first = number(1);
    let was = reg.json(&["docs", "show", &first, "--json"])["due_on"].clone();

    let out = reg.ok(&["docs", "due", &first, "30.06.2099", "--reason", "the partner asked for time"]);
    assert!(out.contains(&format!("{first} is now due on 2099-06-30")) && out.contains("its reminders are rescheduled"), "{out}");
    let shown = reg.json(&["docs", "show", &first, "--json"]);
    assert_eq!(shown["due_on"], "2099-06-30");
    let history = shown["history"].as_array().expect("history");
    assert!(
        history.iter().any(|h| h["field"] == "due_on"
            && h["old_value"] == was
            && h["new_value"] == "2099-06-30"
            && h["reason"] == "the partner asked for time"
            && h["actor"].as_str().is_some_and(|a| a.starts_with("cli:"))),
        "{history:?}"
    );
    assert!(reg.fails(&["docs", "due", &first, "2001-01-01"]).contains("2001-01-01 is in the past"));
    assert!(reg.fails(&["docs", "due", &first, "2099-06-30"]).contains("is due on 2099-06-30 already"));
    assert!(reg.fails(&["docs", "due", &first, "someday"]).contains("someday"));
}

#[test]
fn a_command_that_only_reads_never_creates_a_register() {
    let reg = Registry::without_register();
    let dir = reg.dir.path().canonicalize().expect("temporary directory");
    let url = "sqlite://chancery.db";
    let looked_for = dir.join("chancery.db");
    for args in
        [&["docs", "list"][..], &["docs", "show", "IN-2026-000001"], &["docs", "search", "visa"], &["register", "daily"], &["verify"]]
    {
        let output = reg.command(args).env("CHANCERY_DATABASE__URL", url).output().expect("run chancery");
        let line = one_line_error(&output, &format!("{args:?} without a register"));
        assert!(line.contains(&format!("no register at {}", looked_for.display())), "{line}");
        assert!(line.contains(&format!("database.url = {url}")), "{line}");
        assert!(line.contains("--config") && line.contains("CHANCERY_DATABASE__URL") && line.contains("chancery db migrate"), "{line}");
        assert!(!looked_for.exists(), "{args:?} created {}", looked_for.display());
    }
    // Creating one is a deliberate step; then the same command reads it.
    let migrate = reg.command(&["db", "migrate"]).env("CHANCERY_DATABASE__URL", url).output().expect("run chancery");
    assert!(migrate.status.success(), "{}", describe(&migrate));
    assert!(looked_for.exists());
    let listed = reg.command(&["docs", "list"]).env("CHANCERY_DATABASE__URL", url).output().expect("run chancery");
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "no documents", "{}", describe(&listed));
}

#[test]
fn ingest_refuses_files_that_are_not_mail_registers_the_rest_and_spends_no_number() {
    let reg = Registry::new();
    reg.write("empty.eml", b"");
    reg.write("picture.bin", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00");
    reg.write("notes.txt", "Minutes of the meeting\n\nThe council met on Monday and agreed the budget.\n".as_bytes());
    reg.write("good.eml", &letter("Visa support letter", "good@partner.example", "Please find the request.\n", &[]));

    let output = reg.run(&["ingest", "empty.eml", "picture.bin", "notes.txt", "good.eml"]);
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let refusals: Vec<&str> = stderr.lines().collect();
    let refusal = |path: &str, why: &str| {
        format!("chancery: {path}: not a mail message ({why}); not registered; --accept-unparsed registers it anyway")
    };
    assert_eq!(refusals, [refusal("empty.eml", "empty"), refusal("picture.bin", "binary"), refusal("notes.txt", "no header lines")]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("registered 1, already registered 0, flagged for review 0, refused 3"), "{stdout}");
    assert!(stdout.contains(&format!("numbers {} .. {}", number(1), number(1))), "{stdout}");
    let documents = reg.list(&[]);
    assert_eq!(numbers(&documents), [number(1)]);
    assert_eq!(documents[0]["subject"], "Visa support letter");

    // Asked for, the text file is registered, flagged, with the next number: none was spent.
    let out = reg.ok(&["ingest", "--accept-unparsed", "notes.txt"]);
    assert!(out.contains("registered 1, already registered 0, flagged for review 1, refused 0"), "{out}");
    let documents = reg.list(&[]);
    assert_eq!(numbers(&documents), [number(1), number(2)]);
    assert_eq!(documents[1]["flags"], serde_json::json!([{"flag": "unparsed"}]));
}

#[test]
fn a_file_over_the_size_limit_is_registered_from_its_headers_and_flagged_oversize() {
    let reg = Registry::new();
    let big = letter("Scanned agreement", "big@partner.example", &"scanned page\n".repeat(1000), &[]);
    let header_end = big.windows(4).position(|w| w == b"\r\n\r\n").expect("a header") + 4;
    reg.write("big.eml", &big);
    reg.write("small.eml", &letter("Short note", "small@partner.example", "Thanks.\n", &[]));

    let output = reg.command(&["ingest", "big.eml", "small.eml"]).env("CHANCERY_REGISTER__MAX_MESSAGE_BYTES", "4000").output().unwrap();
    assert!(output.status.success(), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "big.eml: {} bytes, over the 4000-byte limit: registered from its headers as {}, flagged oversize; the file stays where it is",
            big.len(),
            number(1)
        )),
        "{stdout}"
    );
    assert!(stdout.contains("registered 2, already registered 0, flagged for review 1"), "{stdout}");

    let documents = reg.list(&[]);
    assert_eq!(documents[0]["subject"], "Scanned agreement", "the headers are read");
    assert_eq!(documents[0]["flags"], serde_json::json!([{"flag": "oversize", "size": big.len(), "limit": 4000}]));
    assert_eq!(documents[1]["flags"], serde_json::json!([]), "a letter under the limit is taken whole");
    assert!(reg.run(&["docs", "raw", &number(1)]).stdout == big[..header_end], "only the header is kept");
    assert_eq!(std::fs::read(reg.dir.path().join("big.eml")).unwrap(), big, "the file stays as it was");
    let shown = reg.ok(&["docs", "show", &number(1)]);
    assert!(shown.contains(&format!("Review:          message of {} bytes exceeds the 4000-byte limit", big.len())), "{shown}");
}

#[test]
fn the_review_queue_lists_flagged_documents_with_their_flags_in_words() {
    let reg = Registry::new();
    let broken = mail(
        &[
            ("From", "a@partner.example"),
            ("Subject", "Broken attachment"),
            ("Message-ID", "<broken@partner.example>"),
            ("Content-Type", "multipart/mixed; boundary=\"XX\""),
        ],
        b"--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n",
    );
    reg.write("1.eml", &letter("Fine letter", "fine@partner.example", "Fine.\n", &[]));
    reg.write("2.txt", b"just some notes, not a letter\n");
    reg.write("3.eml", &broken);
    reg.ok(&["ingest", "--accept-unparsed", "1.eml", "2.txt", "3.eml"]);

    assert_eq!(numbers(&reg.list(&["--review"])), [number(2), number(3)], "flagged documents, oldest first");
    assert_eq!(numbers(&reg.list(&["--review", "--since", "today"])), [number(2), number(3)]);
    assert!(reg.list(&["--review", "--since", "2999-01-01"]).is_empty());
    let queue = reg.ok(&["docs", "list", "--review"]);
    assert!(queue.lines().next().is_some_and(|header| header.starts_with("Number") && header.ends_with("Review")), "{queue}");
    assert!(queue.contains("not a mail message (no mail headers); kept raw"), "{queue}");
    assert!(queue.contains(r#"broken MIME structure: multipart "XX" is not closed"#), "{queue}");

    let shown = reg.ok(&["docs", "show", &number(3)]);
    assert!(shown.contains(r#"Review:          broken MIME structure: multipart "XX" is not closed"#), "{shown}");
    assert!(!shown.contains("{\""), "no JSON in what people read: {shown}");

    // Annulled, a document has been dealt with and leaves the queue.
    reg.ok(&["docs", "annul", &number(2), "--reason", "not a letter"]);
    assert_eq!(numbers(&reg.list(&["--review"])), [number(3)]);
    assert_eq!(numbers(&reg.list(&["--review", "--status", "annulled"])), [number(2)]);

    let line = reg.fails(&["docs", "list", "--status", "review"]);
    assert!(line.contains("there is no status 'review'") && line.contains("registered, answered") && line.contains("--review"), "{line}");
    let line = reg.fails(&["docs", "list", "--status", "anulled"]);
    assert!(line.contains("'anulled'") && line.contains("annulled"), "{line}");
}

#[test]
fn docs_list_has_a_header_and_cuts_nothing_when_it_is_not_a_terminal() {
    let reg = Registry::new();
    let subject = "Erasmus mobility 2027: nominations of outgoing students for the spring semester, with transcripts";
    reg.write("erasmus.eml", &letter(subject, "erasmus@uni-x.edu.tr", "Nominations attached.\n", &[]));
    reg.ok(&["ingest", "erasmus.eml"]);
    assert_eq!(reg.list(&[])[0]["unit"], "international", "the shipped rules route it");

    let table = reg.ok(&["docs", "list"]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    let header = lines[0];
    for column in ["Number", "Registered", "Status", "Unit", "Correspondent", "Subject"] {
        assert!(header.contains(column), "{column} missing from the header: {table}");
    }
    let row = lines[1];
    assert!(row.starts_with(&number(1)), "{table}");
    assert!(row.contains("  international  "), "the unit is not cut: {table}");
    assert!(row.contains("Leyla Mammadova <leyla@partner.example>"), "the sender of an incoming letter: {table}");
    assert!(row.ends_with(subject), "the subject is not cut: {table}");
    let column = |line: &str, text: &str| line[..line.find(text).expect("text in line")].chars().count();
    assert_eq!(column(header, "Subject"), column(row, "Erasmus mobility"), "columns line up: {table}");
    assert_eq!(column(header, "Unit"), column(row, "international"), "columns line up: {table}");

    // Search prints the same table.
    assert_eq!(reg.ok(&["docs", "search", "nominations"]), table);
}

#[test]
fn search_folds_words_as_the_rules_do_and_a_number_finds_its_thread() {
    let reg = Registry::new();
    reg.write("1.eml", &letter("Şura toplantısı", "1@x.example", "Ücrət məsələsi müzakirə olunacaq.\n", &[]));
    reg.write("2.eml", &letter("Новогодняя ёлка", "2@x.example", "Приглашаем всех на праздник.\n", &[]));
    reg.write("3.eml", &letter("Library hours", "3@x.example", "Open on Saturdays.\n", &[]));
    reg.ok(&["ingest", "1.eml", "2.eml", "3.eml"]);
    let reply = letter(&format!("Re: [{}] Şura", number(1)), "4@x.example", "Təşəkkür edirik.\n", &[]);
    reg.write("4.eml", &reply);
    reg.ok(&["ingest", "4.eml"]);

    for words in ["toplantisi", "TOPLANTISI", "toplantısı", "TOPLANTİSİ", "toplant"] {
        assert_eq!(reg.search(words), [number(1)], "{words}");
    }
    for words in ["ÜCRƏT", "ücrət", "Ücrət məsələsi"] {
        assert_eq!(reg.search(words), [number(1)], "{words}");
    }
    // As in the rules, ü and ə are letters of their own, on both databases alike.
    assert!(reg.search("ucret").is_empty());
    for words in ["ёлка", "елка", "ЁЛКА", "ЕЛКА"] {
        assert_eq!(reg.search(words), [number(2)], "{words}");
    }
    let thread = [number(1), number(4)];
    assert_eq!(reg.search(&number(1)), thread, "a number finds its document and its thread");
    assert_eq!(reg.search(&number(4)), thread, "from any document of the thread");
    assert_eq!(reg.search(&number(1).to_lowercase()), thread, "typed in lower case");
    assert_eq!(reg.search(&format!("[{}]", number(3))), [number(3)]);
    assert_eq!(reg.search(&format!("{} toplantisi", number(3))), [number(3), number(1)], "the number's thread comes first");
    assert!(reg.search(&number(99)).is_empty());
}

#[test]
fn staff_add_keeps_a_zone_and_an_address_checks_them_and_list_shows_them() {
    let reg = Registry::new();
    fn add<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec!["staff", "add", "@aysel:uni.example", "--name", "Aysel Quliyeva", "--unit", "international"];
        args.extend_from_slice(extra);
        args
    }
    let first = add(&["--role", "manager", "--clearance", "confidential", "--tz", "europe/berlin", "--email", "aysel@uni.example"]);
    let out = reg.ok(&first);
    assert!(out.contains("cleared for confidential, zone Europe/Berlin, e-mail aysel@uni.example"), "{out}");
    let entry = |reg: &Registry| {
        let listed = reg.json(&["staff", "list", "--json"]);
        listed.as_array().expect("a JSON array").iter().find(|m| m["id"] == "@aysel:uni.example").cloned().expect("Aysel is listed")
    };
    let aysel = entry(&reg);
    assert_eq!(
        (aysel["role"].as_str(), aysel["timezone"].as_str(), aysel["email"].as_str()),
        (Some("manager"), Some("Europe/Berlin"), Some("aysel@uni.example"))
    );

    let table = reg.ok(&["staff", "list"]);
    assert!(
        table.contains("ZONE") && table.contains("EMAIL") && table.contains("Europe/Berlin") && table.contains("aysel@uni.example"),
        "{table}"
    );

    // Changing the role leaves the zone and address as they were; an empty --email clears it.
    reg.ok(&add(&["--role", "staff", "--clearance", "internal"]));
    let aysel = entry(&reg);
    assert_eq!(
        (aysel["role"].as_str(), aysel["timezone"].as_str(), aysel["email"].as_str()),
        (Some("staff"), Some("Europe/Berlin"), Some("aysel@uni.example"))
    );
    reg.ok(&add(&["--role", "staff", "--clearance", "internal", "--email", ""]));
    let aysel = entry(&reg);
    assert_eq!((aysel["timezone"].as_str(), aysel["email"].as_str()), (Some("Europe/Berlin"), None));

    // A zone or address that is not one is refused in one line, and nothing changes.
    let line = reg.fails(&add(&["--role", "admin", "--clearance", "secret", "--tz", "Baku"]));
    assert!(line.contains("'Baku' is not a time zone") && line.contains("Asia/Baku"), "{line}");
    let line = reg.fails(&add(&["--role", "admin", "--clearance", "secret", "--email", "aysel"]));
    assert!(line.contains("'aysel' is not an e-mail address"), "{line}");
    assert_eq!(entry(&reg)["role"].as_str(), Some("staff"));
}

#[test]
fn room_bind_sets_a_units_room_as_the_chat_command_does_and_refuses_what_is_not_one() {
    let reg = Registry::new();
    assert!(reg.ok(&["room", "list"]).contains("no room is bound"));

    let out = reg.ok(&["room", "bind", "international", "!demo:localhost"]);
    assert!(out.contains("!demo:localhost is now international's room"), "{out}");
    reg.ok(&["room", "bind", "international", "!other:localhost"]);
    assert_eq!(reg.ok(&["room", "list"]), "international\t!other:localhost\n", "a second bind replaces the first");
    reg.ok(&["staff", "add", "@reg:uni.example", "--name", "R", "--unit", "registry", "--role", "registrar", "--clearance", "internal"]);
    // Backslashes dropped: the table may escape Markdown punctuation in its cells.
    let chat = reg
        .command(&["chat", "--as", "@reg:uni.example", "!room list"])
        .env("CHANCERY_ASSISTANT__COMMANDS_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/commands"))
        .output()
        .expect("run chancery chat");
    assert!(chat.status.success(), "{}", describe(&chat));
    let listed = String::from_utf8_lossy(&chat.stdout).replace('\\', "");
    assert!(listed.contains("| international | !other:localhost |"), "the assistant reads the same binding: {listed}");

    let line = reg.fails(&["room", "bind", "nowhere", "!demo:localhost"]);
    assert!(line.contains("there is no unit 'nowhere'"), "{line}");
    let line = reg.fails(&["room", "bind", "international", "#international:uni.example"]);
    assert!(line.contains("is not a room ID"), "{line}");
    assert_eq!(reg.ok(&["room", "list"]), "international\t!other:localhost\n");
}
