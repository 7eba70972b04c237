//! Attachments are stored once, inside their raw message, and decoded again for a download;
//! the year's counter is locked last, so registrars overlap everything but the numbering.
//! Run on both backends (`CHANCERY_TEST_BACKEND`); no mail server is needed.

mod support;

use chancery::config::RegisterConfig;
use chancery::core::intake::Source;
use chancery::core::letter::{fingerprint, read_letter};
use chancery::store::{Arrival, Outcome, Store, StoreError};
use chrono::Utc;
use support::fresh_store;

/// Random-looking bytes (an LCG: the test needs no entropy).
fn file_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect()
}

fn base64_lines(data: &[u8]) -> String {
    let flat = support::base64(data);
    flat.as_bytes().chunks(76).map(|line| format!("{}\r\n", std::str::from_utf8(line).unwrap())).collect()
}

/// A letter with a scanned PDF (base64) and a text file (quoted-printable, UTF-8).
fn letter_with_files(subject: &str, message_id: &str, pdf: &[u8], notes: &str) -> Vec<u8> {
    format!(
        "From: Registrar <registrar@tsu.ge>\r\nTo: registry@uni.example\r\nSubject: {subject}\r\n\
         Message-ID: <{message_id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n\
         --XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease find the files attached.\r\n\
         --XYZ\r\nContent-Type: application/pdf; name=\"scan.pdf\"\r\nContent-Disposition: attachment; filename=\"scan.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\
         --XYZ\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment; filename=\"qeydlər.txt\"\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\n{}\r\n--XYZ--\r\n",
        base64_lines(pdf),
        quoted_printable(notes)
    )
    .into_bytes()
}

fn quoted_printable(text: &str) -> String {
    text.bytes().map(|b| if b.is_ascii_alphanumeric() || b == b' ' { (b as char).to_string() } else { format!("={b:02X}") }).collect()
}

fn plain(subject: &str, message_id: &str, body: &str) -> Vec<u8> {
    format!("From: a@partner.example\r\nTo: registry@uni.example\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\r\n{body}\r\n")
        .into_bytes()
}

fn arrival(raw: Vec<u8>, uid: u32) -> Arrival {
    Arrival {
        letter: read_letter(&raw),
        raw,
        source: Source::Imap { mailbox: "INBOX".into(), uid_validity: 7, uid },
        received_at: Utc::now(),
    }
}

async fn register(store: &Store, arrivals: Vec<Arrival>) -> Vec<Outcome> {
    store
        .register_incoming(arrivals, &RegisterConfig::default().policy(), &support::reminder_policy(), Utc::now())
        .await
        .expect("registered")
}

async fn execute(url: &str, statement: &str, bytes: Option<Vec<u8>>) -> Result<u64, String> {
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(url).await.expect("connect");
    let mut query = sqlx::query(sqlx::AssertSqlSafe(statement.to_string()));
    if let Some(bytes) = bytes {
        query = query.bind(bytes);
    }
    let result = query.execute(&pool).await.map(|r| r.rows_affected()).map_err(|e| e.to_string());
    pool.close().await;
    result
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres")
}

#[tokio::test]
async fn a_downloaded_attachment_is_byte_for_byte_the_file_that_was_sent_and_stored_only_in_its_message() {
    let (store, url, _guard) = fresh_store().await;
    let pdf = file_bytes(300_000, 0x5eed);
    let notes = "Qeydlər: müqavilə imzalandı.\nЗаметки: договор подписан.\n";
    let raw = letter_with_files("Signed agreement", "files-1@tsu.ge", &pdf, notes);
    let outcomes = register(&store, vec![arrival(raw.clone(), 1)]).await;
    let number = outcomes[0].number().to_string();

    let scan = store.attachment(&number, 1).await.expect("attachment 1");
    assert!(scan.content == pdf, "the PDF comes back byte for byte");
    assert_eq!((scan.name.as_str(), scan.media_type.as_str()), ("scan.pdf", "application/pdf"));
    let text = store.attachment(&number, 2).await.expect("attachment 2");
    assert_eq!(text.content, notes.as_bytes());
    assert_eq!(text.name, "qeydlər.txt");
    assert!(matches!(store.attachment(&number, 3).await, Err(StoreError::NotFound(_))));

    let document = store.document(&number).await.expect("document");
    let listed: Vec<(i64, &str, i64, &str)> =
        document.attachments.iter().map(|a| (a.position, a.name.as_str(), a.size, a.sha256.as_str())).collect();
    let (pdf_hash, notes_hash) = (fingerprint(&pdf), fingerprint(notes.as_bytes()));
    assert_eq!(listed, [(1, "scan.pdf", pdf.len() as i64, pdf_hash.as_str()), (2, "qeydlər.txt", notes.len() as i64, notes_hash.as_str())]);
    assert_eq!(store.raw(&number).await.expect("raw"), raw);

    // The register holds no second copy of the files: there is no column for one.
    let copy = execute(&url, "SELECT content FROM attachments", None).await;
    assert!(copy.is_err(), "attachments still have a content column: {copy:?}");
    let (checked, problems) = store.verify().await.expect("verify");
    assert_eq!((checked, problems.len()), (1, 0), "{problems:?}");

    // `chancery docs attachment` writes the same bytes.
    let dir = tempfile::tempdir().expect("temp dir");
    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_chancery"))
        .args(["docs", "attachment", &number, "1"])
        .current_dir(dir.path())
        .env("CHANCERY_DATABASE__URL", &url)
        .output()
        .expect("run chancery");
    assert!(printed.status.success(), "{}", String::from_utf8_lossy(&printed.stderr));
    assert!(printed.stdout == pdf, "docs attachment prints the file byte for byte");
}

#[tokio::test]
async fn verify_names_the_attachment_a_tampered_message_no_longer_yields_and_it_is_not_given_out() {
    let (store, url, _guard) = fresh_store().await;
    let pdf = file_bytes(20_000, 0xfeed);
    let raw = letter_with_files("To be tampered with", "files-2@tsu.ge", &pdf, "notes\n");
    let other = plain("Untouched", "untouched@partner.example", "Nothing attached.");
    let outcomes = register(&store, vec![arrival(raw.clone(), 1), arrival(other, 2)]).await;
    let number = outcomes[0].number().to_string();

    // One character of the PDF's base64 changed: still a well-formed message, another file.
    let start = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4).unwrap();
    let pdf_at = start + raw[start..].windows(22).position(|w| w == b"Transfer-Encoding: bas").unwrap() + 200;
    let mut tampered = raw.clone();
    tampered[pdf_at] = if tampered[pdf_at] == b'A' { b'B' } else { b'A' };
    let drop_trigger = if is_postgres(&url) {
        "DROP TRIGGER raw_messages_are_immutable ON raw_messages"
    } else {
        "DROP TRIGGER raw_messages_are_immutable"
    };
    execute(&url, drop_trigger, None).await.expect("drop the trigger");
    let update = format!("UPDATE raw_messages SET bytes = $1 WHERE document_id = (SELECT id FROM documents WHERE number = '{number}')");
    assert_eq!(execute(&url, &update, Some(tampered)).await, Ok(1));

    let (checked, problems) = store.verify().await.expect("verify");
    assert_eq!(checked, 2);
    let found: Vec<(&str, &str)> = problems.iter().map(|p| (p.number.as_str(), p.item.as_str())).collect();
    assert_eq!(found, [(number.as_str(), "message"), (number.as_str(), "attachment 1 (scan.pdf)")], "{problems:?}");
    assert!(problems[1].detail.contains(&fingerprint(&pdf)), "the detail names the registered hash: {}", problems[1].detail);

    match store.attachment(&number, 1).await {
        Err(StoreError::Damaged(why)) => assert!(why.to_string().contains("verify"), "{why}"),
        Err(other) => panic!("refused for the wrong reason: {other}"),
        Ok(_) => panic!("a file the message no longer yields was given out"),
    }
    assert_eq!(store.attachment(&number, 2).await.expect("the text file is intact").content, b"notes\n");
}

#[tokio::test]
async fn an_outgoing_letters_attachment_downloads_from_the_message_it_was_sent_as() {
    let (store, _url, _guard) = fresh_store().await;
    let file = file_bytes(50_000, 0xabc);
    let to = vec!["partner@tsu.ge".to_string()];
    let files = vec![("protocol.pdf".to_string(), file.clone())];
    let letter = chancery::smtp::Correspondence {
        from: "University Registry <registry@uni.example>",
        to: &to,
        subject: "Protocol",
        text: "The protocol is attached.",
        attachments: &files,
    };
    let number = store
        .register_outgoing(None, "tester", "registry", Utc::now(), |number, answered| {
            let message_id = chancery::smtp::fresh_message_id(
                chancery::core::outbound::MailKind::Correspondence,
                &number.to_string(),
                "registry@uni.example",
            );
            chancery::smtp::compose_correspondence(&letter, number, answered, message_id)
        })
        .await
        .expect("registered");
    assert!(number.starts_with("OUT-"), "{number}");
    let document = store.document(&number).await.expect("document");
    assert_eq!(document.attachments.len(), 1);
    assert_eq!(document.attachments[0].sha256, fingerprint(&file));
    let downloaded = store.attachment(&number, 1).await.expect("attachment");
    assert!(downloaded.content == file, "the file comes back byte for byte");
    assert_eq!(downloaded.name, "protocol.pdf");
    let (_, problems) = store.verify().await.expect("verify");
    assert!(problems.is_empty(), "{problems:?}");
}

#[tokio::test]
async fn a_batch_numbers_in_arrival_order_and_names_its_own_duplicates_by_their_numbers() {
    let (store, _url, _guard) = fresh_store().await;
    let first = plain("First", "same-id@partner.example", "One text.");
    let resent = plain("First, sent again", "same-id@partner.example", "Other bytes, the same Message-ID.");
    let outcomes = register(
        &store,
        vec![arrival(first.clone(), 1), arrival(first, 2), arrival(resent, 3), arrival(plain("Last", "last@x.example", "."), 4)],
    )
    .await;
    let numbers: Vec<&str> = outcomes.iter().map(Outcome::number).collect();
    let year = Utc::now().with_timezone(&chrono_tz::Asia::Baku).format("%Y").to_string();
    let expected: Vec<String> = [1, 1, 2, 3].iter().map(|n| format!("IN-{year}-{n:06}")).collect();
    assert_eq!(numbers, expected);
    assert!(matches!(&outcomes[1], Outcome::SameLetter { .. }), "{outcomes:?}");
    assert!(matches!(&outcomes[2], Outcome::Registered { flags, .. } if flags == &["possible-duplicate"]), "{outcomes:?}");

    let flagged = store.document(&expected[2]).await.expect("document");
    let flags = serde_json::to_string(&flagged.flags).unwrap();
    assert!(flags.contains(&expected[0]) && !flags.contains("pending"), "the flag names the first letter's number: {flags}");
    // The next batch continues the numbers.
    let next = register(&store, vec![arrival(plain("Next", "next@x.example", "."), 5)]).await;
    assert_eq!(next[0].number(), format!("IN-{year}-000004"));
}

/// Two registrars at once (two instances on PostgreSQL, two processes on one SQLite file):
/// every letter gets one number, the numbers are gapless, and a letter both of them register
/// at the same moment is registered once (the later one is told to try again, or finds it).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_registrars_at_once_number_every_letter_once_and_gaplessly() {
    let (first, url, _guard) = fresh_store().await;
    let second = Store::open(&url, chrono_tz::Asia::Baku, chancery::store::OpenMode::Existing).await.expect("second store");
    let shared = file_bytes(10_000, 0x77);
    let both = letter_with_files("Sent to both", "both@tsu.ge", &shared, "both\n");
    let mut tasks = Vec::new();
    for (writer, store) in [first.clone(), second].into_iter().enumerate() {
        let both = both.clone();
        tasks.push(tokio::spawn(async move {
            let mut registered = Vec::new();
            for batch in 0..8u32 {
                let mut raws: Vec<Vec<u8>> = (0..6u32)
                    .map(|k| {
                        let id = format!("w{writer}-b{batch}-k{k}@partner.example");
                        plain(&format!("Writer {writer}, batch {batch}, letter {k}"), &id, &"text ".repeat(200))
                    })
                    .collect();
                if batch == 3 {
                    raws.insert(2, both.clone());
                }
                // A registrar whose batch raced another is told so, and registers it again.
                loop {
                    let uid_base = (writer as u32 + 1) * 1000 + batch * 10;
                    let arrivals: Vec<Arrival> = raws
                        .iter()
                        .enumerate()
                        .map(|(i, raw)| Arrival {
                            letter: read_letter(raw),
                            raw: raw.clone(),
                            source: Source::Imap { mailbox: format!("box-{writer}"), uid_validity: 1, uid: uid_base + i as u32 },
                            received_at: Utc::now(),
                        })
                        .collect();
                    match store
                        .register_incoming(arrivals, &RegisterConfig::default().policy(), &support::reminder_policy(), Utc::now())
                        .await
                    {
                        Ok(outcomes) => {
                            registered.extend(outcomes);
                            break;
                        }
                        Err(StoreError::Conflict { .. }) => continue,
                        Err(other) => panic!("registering failed: {other}"),
                    }
                }
            }
            registered
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.extend(task.await.expect("writer"));
    }
    let new: Vec<&str> = outcomes.iter().filter(|o| matches!(o, Outcome::Registered { .. })).map(Outcome::number).collect();
    assert_eq!(new.len(), 2 * 8 * 6 + 1, "every letter once, the shared one once");
    let same: Vec<&str> = outcomes.iter().filter(|o| matches!(o, Outcome::SameLetter { .. })).map(Outcome::number).collect();
    assert_eq!(same.len(), 1, "{outcomes:?}");
    assert!(new.contains(&same[0]), "the second registrar names the first's number");

    let documents = first.list(&Default::default()).await.expect("list");
    let mut sequences: Vec<i64> = documents.iter().map(|d| d.number.rsplit('-').next().unwrap().parse().unwrap()).collect();
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=97).collect::<Vec<i64>>(), "gapless and unique");
    let (_, problems) = first.verify().await.expect("verify");
    assert!(problems.is_empty(), "{problems:?}");
}
