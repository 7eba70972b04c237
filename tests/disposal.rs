//! Holds, disposal with approval, the certificate and review, through the binary as a registry
//! clerk and an archivist use them, on the register of the backend under test
//! (`CHANCERY_TEST_BACKEND`). The letters are registered through the library in a past year,
//! so that its yearly cases have closed and the transitory class (07-02, 30 days) is due.

mod support;

use std::process::Output;

use chancery::core::intake::Source;
use chancery::core::letter::read_letter;
use chancery::store::{Arrival, Store};
use chrono::{DateTime, TimeZone, Utc};
use support::{chancery_command, describe, fresh_store, reminder_policy, shipped_policy};

const REGISTRAR: &str = "@reg:uni.example";
const OTHER_REGISTRAR: &str = "@reg2:uni.example";
const ARCHIVIST: &str = "@arch:uni.example";

struct Register {
    dir: tempfile::TempDir,
    url: String,
}

impl Register {
    fn run(&self, args: &[&str]) -> Output {
        chancery_command(self.dir.path(), &self.url).args(args).output().expect("run chancery")
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "chancery {args:?} failed: {}", describe(&output));
        String::from_utf8(output.stdout).expect("stdout is UTF-8")
    }

    /// A refusal: exit 1, nothing on stdout, its lines on stderr.
    fn refused(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert_eq!(output.status.code(), Some(1), "chancery {args:?} should be refused: {}", describe(&output));
        String::from_utf8(output.stderr).expect("stderr is UTF-8")
    }

    /// What the assistant answers `line` in `chancery chat`, as `person`.
    fn chat(&self, person: &str, line: &str) -> String {
        let output = chancery_command(self.dir.path(), &self.url)
            .env("CHANCERY_ASSISTANT__COMMANDS_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/commands"))
            .args(["chat", "--as", person, line])
            .output()
            .expect("run chancery chat");
        assert!(output.status.success(), "chat {line:?} failed: {}", describe(&output));
        String::from_utf8(output.stdout).expect("stdout is UTF-8")
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).expect("JSON")
    }
}

fn at(year: i32, month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, 8, 0, 0).unwrap()
}

fn letter(from: &str, subject: &str, id: &str, body: &str) -> Vec<u8> {
    format!("From: {from}\r\nTo: registry@uni.example\r\nSubject: {subject}\r\nMessage-ID: <{id}@example.org>\r\n\r\n{body}\r\n")
        .into_bytes()
}

fn with_attachment(from: &str, subject: &str, id: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: registry@uni.example\r\nSubject: {subject}\r\nMessage-ID: <{id}@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nquokka weekly zebrafish\r\n\
         --b\r\nContent-Type: text/plain; name=\"quokka-notes.txt\"\r\nContent-Disposition: attachment; filename=\"quokka-notes.txt\"\r\n\r\n\
         notes\r\n--b--\r\n"
    )
    .into_bytes()
}

async fn register(store: &Store, raw: Vec<u8>, when: DateTime<Utc>) -> String {
    let arrival = Arrival { letter: read_letter(&raw), raw, source: Source::File { path: "letter.eml".into() }, received_at: when };
    let outcomes = store.register_incoming(vec![arrival], &shipped_policy(), &reminder_policy(), when).await.expect("registered");
    outcomes[0].number().to_string()
}

async fn count(url: &str, statement: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(url).await.expect("connect");
    let row = sqlx::query(sqlx::AssertSqlSafe(statement.to_string())).fetch_one(&pool).await.expect("count");
    let n: i64 = sqlx::Row::try_get(&row, 0).expect("a count");
    pool.close().await;
    n
}

fn staff(reg: &Register, mxid: &str, role: &str) {
    reg.ok(&["staff", "add", mxid, "--name", mxid, "--unit", "registry", "--role", role, "--clearance", "secret"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transitory_case_is_held_released_proposed_approved_by_an_archivist_and_certified() {
    let (store, url, guard) = fresh_store().await;
    let dir = tempfile::TempDir::new().expect("temporary directory");
    let reg = Register { dir, url };
    let _keep = guard;

    // 2025: two automatic letters (transitory, 07-02), one marked confidential, and one letter
    // of general correspondence (07-01, kept 3 years) with the same word.
    let then = at(2025, 6, 2);
    let newsletter = register(&store, with_attachment("noreply@news.example", "Weekly zebrafish digest", "n1"), then).await;
    let salaries = register(&store, letter("noreply@hr.example", "Confidential zebrafish salaries", "n2", "quokka"), then).await;
    let general = register(&store, letter("dean@partner.example", "Zebrafish exchange", "g1", "kept"), then).await;
    let older = register(&store, letter("noreply@news.example", "Old notice", "o1", "walrus"), at(2024, 3, 4)).await;
    let before_disposal = register(&store, letter("dean@partner.example", "Next year", "g2", "hello"), Utc::now()).await;
    store.index_queued().await.expect("indexed");
    assert_eq!(store.search("zebrafish").await.expect("search").len(), 3);
    let sha_of_newsletter = store.document(&newsletter).await.expect("document").sha256;
    let salaries_record = store.document(&salaries).await.expect("document");
    assert_eq!((salaries_record.confidentiality.as_str(), salaries_record.classification.as_deref()), ("confidential", Some("07-02")));

    staff(&reg, REGISTRAR, "registrar");
    staff(&reg, OTHER_REGISTRAR, "registrar");
    staff(&reg, ARCHIVIST, "archivist");
    staff(&reg, "@admin:uni.example", "admin");

    // Due since 2026-01-30 (closed 2025-12-31, plus 30 days), but its letters are still open.
    let due = reg.json(&["archive", "due", "--json"]);
    let transitory = due.as_array().unwrap().iter().find(|case| case["case"] == "07-02/2025").expect("07-02/2025 is due").clone();
    assert_eq!((transitory["action"].as_str(), transitory["documents"].as_i64()), (Some("destroy"), Some(2)), "{transitory}");
    assert_eq!(transitory["due"], "2026-01-30");
    assert!(transitory["stops"][0].as_str().unwrap().contains("2 open documents"), "{transitory}");
    assert!(!due.to_string().contains("07-01/2025"), "general correspondence is kept three years: {due}");
    assert!(reg.ok(&["archive", "due", "--as-of", "2025-01-29"]).contains("no case is due by 2025-01-29"));
    let refused = reg.refused(&["archive", "dispose", "propose", "07-02/2025", "--as", REGISTRAR]);
    assert!(refused.contains("07-02/2025 cannot be disposed of: it holds 2 open documents"), "{refused}");
    for number in [&newsletter, &salaries, &older] {
        store.documents().set_status(number, "closed", REGISTRAR, Utc::now()).await.expect("closed");
    }

    // A hold stops it; only registrars and admins place one; its release lets it go.
    let refused = reg.refused(&["hold", "place", "--case", "07-02/2025", "--reason", "audit", "--as", ARCHIVIST]);
    assert!(refused.contains("only registrars and admins may place holds"), "{refused}");
    let placed = reg.ok(&["hold", "place", "--case", "07-02/2025", "--reason", "audit 2026/4", "--as", REGISTRAR]);
    assert!(placed.contains("hold 1 placed on case 07-02/2025: audit 2026/4"), "{placed}");
    let doc_hold = reg.ok(&["hold", "place", "--doc", &newsletter, "--reason", "asked for by the dean", "--as", REGISTRAR]);
    assert!(doc_hold.contains(&format!("hold 2 placed on document {newsletter}")), "{doc_hold}");
    let shown = reg.ok(&["docs", "show", &newsletter]);
    assert!(shown.contains("ON HOLD:         hold 1 on case 07-02/2025: audit 2026/4 (placed by @reg:uni.example)"), "{shown}");
    assert_eq!(reg.json(&["docs", "show", &salaries, "--json"])["holds"][0]["id"], 1, "a case's hold covers its documents");
    let holds = reg.json(&["hold", "list", "--json"]);
    assert_eq!(holds.as_array().map(Vec::len), Some(2), "{holds}");
    let refused = reg.refused(&["archive", "dispose", "propose", "07-02/2025", "--as", REGISTRAR]);
    assert!(refused.contains("07-02/2025 cannot be disposed of: it is on hold (hold 1, hold 2;"), "{refused}");
    let due = reg.ok(&["archive", "due"]);
    assert!(due.contains("stopped: it is on hold"), "{due}");
    reg.ok(&["hold", "release", "1", "--reason", "audit closed", "--as", REGISTRAR]);
    reg.ok(&["hold", "release", "2", "--reason", "the dean has a copy", "--as", REGISTRAR]);
    let refused = reg.refused(&["hold", "release", "2", "--reason", "again", "--as", REGISTRAR]);
    assert!(refused.contains("hold 2 was released already"), "{refused}");
    assert!(reg.ok(&["hold", "list"]).contains("no holds"));
    assert!(reg.ok(&["hold", "list", "--all"]).contains("released"));
    let shown = reg.ok(&["docs", "show", &newsletter]);
    assert!(
        shown.contains("held hold 2 (asked for by the dean)") && shown.contains("hold released hold 2 (the dean has a copy)"),
        "{shown}"
    );
    let events = count(
        &reg.url,
        "SELECT COUNT(*) FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.name = '07-02/2025' AND e.action IN ('held', 'hold released')",
    )
    .await;
    assert_eq!(events, 2, "the case's history has its hold placed and released");

    // Proposed by a registrar; not approved by the proposer nor by another registrar.
    let proposed = reg.ok(&["archive", "dispose", "propose", "07-02/2025", "--as", REGISTRAR, "--reason", "transitory mail"]);
    let decision = proposed.lines().last().expect("a last line").to_string();
    assert!(decision.starts_with("D-") && decision.len() == "D-2026-0001".len(), "{proposed}");
    let refused = reg.refused(&["archive", "dispose", "propose", "07-02/2025", "--as", REGISTRAR]);
    assert!(refused.contains(&format!("it is proposed in {decision} already")), "{refused}");
    let refused = reg.refused(&["archive", "dispose", "approve", &decision, "--as", REGISTRAR]);
    assert!(refused.contains("another person must approve it"), "{refused}");
    let refused = reg.refused(&["archive", "dispose", "approve", &decision, "--as", OTHER_REGISTRAR]);
    assert!(refused.contains("only an archivist or an admin may approve a disposal"), "{refused}");
    assert!(reg.ok(&["docs", "raw", &newsletter]).contains("quokka"), "nothing was erased by a refusal");

    // A hold placed after the proposal is obeyed at approval: here one on the whole class.
    assert!(
        reg.ok(&["hold", "place", "--class", "07-02", "--reason", "inquiry", "--as", REGISTRAR]).contains("hold 3 placed on class 07-02")
    );
    let refused = reg.refused(&["archive", "dispose", "approve", &decision, "--as", ARCHIVIST]);
    assert!(refused.contains("07-02/2025 cannot be disposed of: it is on hold (hold 3;"), "{refused}");
    assert!(reg.ok(&["docs", "raw", &newsletter]).contains("quokka"), "nothing was erased by a refusal");
    reg.ok(&["hold", "release", "3", "--reason", "inquiry closed", "--as", REGISTRAR]);
    let class_events = count(&reg.url, "SELECT COUNT(*) FROM case_events WHERE action = 'held' AND detail = 'hold 3 on class 07-02'").await;
    assert_eq!(class_events, 2, "each case of the class has the hold in its history (07-02/2024 and 07-02/2025)");

    // Carried out by the archivist.
    let approved = reg.ok(&["archive", "dispose", "approve", &decision, "--as", ARCHIVIST]);
    assert!(approved.contains("2 documents of 07-02/2025 destroyed"), "{approved}");
    let refused = reg.refused(&["archive", "dispose", "approve", &decision, "--as", ARCHIVIST]);
    assert!(refused.contains("nothing is left to carry out"), "{refused}");
    let today = Utc::now().with_timezone(&chrono_tz::Asia::Baku).date_naive();
    let line = format!("destroyed by {decision} on {today}");

    let shown = reg.ok(&["docs", "show", &newsletter]);
    assert!(shown.contains(&format!("DISPOSED: {line}")) && !shown.contains("Weekly zebrafish"), "{shown}");
    assert!(shown.contains(&sha_of_newsletter) && shown.contains(&format!("destroyed by {decision} on {today}")), "{shown}");
    let listed = reg.ok(&["docs", "list"]);
    assert!(listed.contains(&format!("[{line}]")) && listed.contains("Zebrafish exchange"), "{listed}");
    let json = reg.json(&["docs", "show", &newsletter, "--json"]);
    assert_eq!((json["disposed"]["by"].as_str(), json["subject"].as_str()), (Some(decision.as_str()), Some("")), "{json}");
    assert_eq!(json["attachments"], serde_json::json!([]));
    let refused = reg.refused(&["docs", "raw", &newsletter]);
    assert!(refused.contains(&format!("{newsletter} was {line}")), "{refused}");
    assert!(reg.ok(&["verify"]).starts_with("verified 5 documents"), "verify passes and counts every entry, destroyed ones too");
    let found: Vec<String> = store.search("zebrafish").await.expect("search").into_iter().map(|d| d.number).collect();
    assert_eq!(found, std::slice::from_ref(&general), "the destroyed letters' words are gone from the index");
    assert!(store.search("quokka").await.expect("search").is_empty());

    // Numbering is untouched: the next registration follows the last.
    let next = register(&store, letter("dean@partner.example", "After", "g3", "more"), Utc::now()).await;
    let sequence = |number: &str| number.rsplit('-').next().unwrap().parse::<u32>().unwrap();
    assert_eq!(sequence(&next), sequence(&before_disposal) + 1, "{before_disposal} then {next}");

    // The certificate lists both, with their sha256; the confidential one without its subject.
    let certificate = reg.ok(&["archive", "certificate", &decision]);
    assert!(certificate.contains(&format!("# Certificate of destruction {decision}")), "{certificate}");
    assert!(
        certificate.contains(&newsletter) && certificate.contains(&salaries) && certificate.contains(&sha_of_newsletter),
        "{certificate}"
    );
    assert!(certificate.contains("Weekly zebrafish digest") && !certificate.contains("salaries"), "{certificate}");
    assert!(certificate.contains(REGISTRAR) && certificate.contains(ARCHIVIST), "{certificate}");
    let json = reg.json(&["archive", "certificate", &decision, "--format", "json"]);
    let documents = json["documents"].as_array().expect("documents");
    assert_eq!(documents.len(), 2, "{json}");
    assert_eq!(documents.iter().find(|d| d["number"] == salaries.as_str()).map(|d| d["subject"].clone()), Some(serde_json::Value::Null));
    assert!(!json.to_string().contains("salaries"), "{json}");
    assert_eq!(json["approved_by"], ARCHIVIST);

    // The same in chat: the decision with its certificate, the card of a destroyed letter.
    let shown = reg.chat(ARCHIVIST, &format!("!disposal show {decision}"));
    assert!(shown.contains(&format!("approved and carried out by {ARCHIVIST}")) && shown.contains(&sha_of_newsletter), "{shown}");
    assert!(shown.contains("(confidential)") && !shown.contains("salaries"), "{shown}");
    let card = reg.chat(REGISTRAR, &format!("!doc {newsletter}"));
    assert!(card.contains(&format!("{newsletter} was {line}")) && !card.contains("Weekly zebrafish"), "{card}");
    assert!(reg.chat(REGISTRAR, "!holds").contains("No holds"));
    let due = reg.chat(ARCHIVIST, "!disposal due");
    assert!(due.contains("| 07-02/2024 | 07-02 | 2025-01-30 | destroy | 1 |") && due.contains("nothing: ready"), "{due}");
    let proposed = reg.chat(ARCHIVIST, "!disposal propose 07-02/2024 reason=\"old notices\"");
    let second = decision.replace("-0001", "-0002");
    assert!(proposed.contains(&format!("Proposed {second}: the disposal of 07-02/2024")), "{proposed}");
    assert!(reg.chat(ARCHIVIST, &format!("!disposal approve {second}")).contains("another person must approve it"));
    let approved = reg.chat("@admin:uni.example", &format!("!disposal approve {second}"));
    assert!(approved.contains(&format!("{second} approved and carried out: 1 document of 07-02/2024 destroyed")), "{approved}");
    assert!(reg.refused(&["docs", "raw", &older]).contains(&format!("{older} was destroyed by {second} on {today}")));

    // Review: general correspondence of 2025 is kept 30 days more from today, then destroyed.
    let refused = reg.refused(&["archive", "review", "07-01/2025", "--keep", "30d", "--reason", "x", "--as", ARCHIVIST]);
    assert!(refused.contains("only registrars and admins may review cases"), "{refused}");
    let reviewed = reg.ok(&["archive", "review", "07-01/2025", "--keep", "30d", "--reason", "the exchange goes on", "--as", REGISTRAR]);
    let new_due = today + chrono::Days::new(30);
    assert!(reviewed.contains(&format!("07-01/2025 is kept for 30d from today: it is due on {new_due}")), "{reviewed}");
    let later = (new_due + chrono::Days::new(1)).to_string();
    let due = reg.json(&["archive", "due", "--as-of", &later, "--json"]);
    let general_case = due.as_array().unwrap().iter().find(|case| case["case"] == "07-01/2025").expect("due after its review").clone();
    assert_eq!((general_case["retention"].as_str(), general_case["action"].as_str()), (Some("30d"), Some("destroy")), "{general_case}");
    let refused = reg.refused(&["archive", "review", "07-02/2025", "--keep", "5y", "--reason", "x", "--as", REGISTRAR]);
    assert!(refused.contains(&format!("it was disposed of by {decision}")), "{refused}");
    store.close().await;
}
