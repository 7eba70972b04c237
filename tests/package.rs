//! Packages for the archive through the `chancery` binary, on the backend under test
//! (`CHANCERY_TEST_BACKEND`): `archive export` writes a BagIt bag that the Library of Congress's
//! validator (`bagit.py`, installed by `scripts/dev-services` into its venv and named by
//! `CHANCERY_TEST_BAGIT`) accepts, `archive import` brings it into an empty register unchanged,
//! and a tampered bag is refused with nothing imported.

mod support;

use std::path::Path;

use serde_json::Value;
use support::describe;
use support::registry::{Registry, numbers, one_line_error};

fn bagit_py() -> String {
    std::env::var("CHANCERY_TEST_BAGIT").unwrap_or_else(|_| {
        panic!("CHANCERY_TEST_BAGIT is not set: these tests need bagit.py; `scripts/dev-services start` installs it and names it in its env file")
    })
}

/// `bagit.py --validate DIR`: whether it passed, and what it said.
fn validated_by_bagit_py(dir: &Path) -> (bool, String) {
    let output = std::process::Command::new(bagit_py()).arg("--validate").arg(dir).output().expect("bagit.py runs");
    (output.status.success(), describe(&output))
}

fn mail(from: &str, subject: &str, message_id: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Registry <registry@uni.example>\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n{extra}\r\n{body}\r\n"
    )
    .into_bytes()
}

fn with_attachment(subject: &str, message_id: &str, file_name: &str, content: &[u8]) -> Vec<u8> {
    let encoded = support::base64(content);
    format!(
        "From: Ayşe <a.kaya@metu.edu.tr>\r\nTo: registry@uni.example\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n\
         --b\r\nContent-Type: application/pdf; name=\"{file_name}\"\r\nContent-Disposition: attachment; filename=\"{file_name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{encoded}\r\n--b--\r\n"
    )
    .into_bytes()
}

/// A register with letters of several kinds: an attachment with a hostile name, a confidential
/// letter, a thread, an automatic newsletter (the transitory class), and an annulled entry.
fn registry_with_letters() -> Registry {
    let reg = Registry::new();
    let letters: Vec<(&str, Vec<u8>)> = vec![
        (
            "1.eml",
            mail(
                "Prof. Ali <ali@adu.edu.az>",
                "Erasmus+ partnership 2027",
                "p1@adu.edu.az",
                "",
                "Dear colleagues,\r\nplease find our proposal.",
            ),
        ),
        (
            "2.eml",
            with_attachment("Invoice 2026/118", "inv@supplier.example", "../../etc/passwd\u{202e}fdp.pdf", b"%PDF-1.4 not really\x00\xff"),
        ),
        ("3.eml", mail("lawyer@firm.example", "CONFIDENTIAL: dispute", "c1@firm.example", "", "This is confidential.")),
        (
            "4.eml",
            mail(
                "Prof. Ali <ali@adu.edu.az>",
                "Re: Erasmus+ partnership 2027",
                "p2@adu.edu.az",
                "In-Reply-To: <p1@adu.edu.az>\r\n",
                "A reply.",
            ),
        ),
        ("5.eml", mail("noreply@news.example", "Newsletter", "n1@news.example", "Precedence: bulk\r\n", "News.")),
    ];
    let mut paths = Vec::new();
    for (name, bytes) in &letters {
        paths.push(reg.write(name, bytes));
    }
    let mut args = vec!["ingest"];
    args.extend(paths.iter().map(String::as_str));
    reg.ok(&args);
    let listed = reg.list(&[]);
    let first = numbers(&listed)[0].clone();
    let last = numbers(&listed).last().unwrap().clone();
    reg.ok(&["docs", "annul", &last, "--reason", "registered by mistake"]);
    assert!(reg.ok(&["docs", "show", &first]).contains("Erasmus"));
    reg
}

/// `docs show --json` without the lines that record this very showing of a restricted entry.
fn shown(reg: &Registry, number: &str) -> Value {
    let mut document = reg.json(&["docs", "show", number, "--json"]);
    if let Some(history) = document["history"].as_array_mut() {
        history.retain(|entry| entry["action"] != "disclosed");
    }
    document
}

#[test]
fn an_export_of_everything_validates_and_imports_into_an_empty_register_unchanged() {
    let source = registry_with_letters();
    let bag = source.dir.path().join("bag");
    let printed = source.ok(&["archive", "export", "--all", "--out", bag.to_str().unwrap()]);
    assert_eq!(printed.lines().last(), Some(bag.to_str().unwrap()), "the bag's folder alone on the last line: {printed}");
    let (valid, said) = validated_by_bagit_py(&bag);
    assert!(valid, "bagit.py refused the bag: {said}");

    let documents = source.list(&[]);
    let all = numbers(&documents);
    assert_eq!(all.len(), 5);
    for number in &all {
        assert!(bag.join("data").join(number).join("record.json").is_file(), "{number} has its record");
        assert!(bag.join("data").join(number).join("message.eml").is_file(), "{number} has its message");
    }
    // The hostile attachment name is a file name in the bag, never a path.
    let invoice = &all[1];
    let files: Vec<String> = std::fs::read_dir(bag.join("data").join(invoice).join("attachments"))
        .expect("attachments folder")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(!files[0].contains('/') && !files[0].contains("..") && !files[0].contains('\u{202e}'), "{files:?}");
    assert!(std::fs::read_to_string(bag.join("data/register.csv")).unwrap().lines().count() == 6, "a header and five entries");

    let target = Registry::new();
    target.ok(&["archive", "import", bag.to_str().unwrap()]);
    assert_eq!(target.list(&[]), documents, "docs list --json is the same");
    for number in &all {
        assert_eq!(shown(&target, number), shown(&source, number), "docs show {number} --json is the same");
        assert_eq!(target.run(&["docs", "raw", number]).stdout, source.run(&["docs", "raw", number]).stdout, "docs raw {number}");
    }
    target.ok(&["verify"]);

    // Numbering continues after the highest imported number.
    let next = target.write("6.eml", &mail("x@y.example", "After the import", "after@y.example", "", "Hello."));
    target.ok(&["ingest", &next]);
    let after = numbers(&target.list(&[]));
    let highest: u32 = all.iter().map(|n| n.rsplit('-').next().unwrap().parse::<u32>().unwrap()).max().unwrap();
    assert!(after.contains(&format!("{}{:06}", &all[0][..all[0].len() - 6], highest + 1)), "{after:?}");

    // The same bag again: every number is held now, and nothing changes.
    let refused = one_line_error(&target.run(&["archive", "import", bag.to_str().unwrap()]), "a second import");
    assert!(refused.contains(&all[0]) && refused.contains("already holds"), "{refused}");
    assert_eq!(target.list(&[]).len(), 6);
}

#[test]
fn a_tampered_bag_is_refused_by_bagit_py_and_by_import_and_nothing_is_imported() {
    let source = registry_with_letters();
    let bag = source.dir.path().join("bag");
    source.ok(&["archive", "export", "--all", "--out", bag.to_str().unwrap()]);
    let number = numbers(&source.list(&[]))[0].clone();
    let message = bag.join("data").join(&number).join("message.eml");
    let mut bytes = std::fs::read(&message).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x20;
    std::fs::write(&message, bytes).unwrap();

    let (valid, said) = validated_by_bagit_py(&bag);
    assert!(!valid, "bagit.py took a tampered bag: {said}");
    let target = Registry::new();
    let refused = one_line_error(&target.run(&["archive", "import", bag.to_str().unwrap()]), "importing a tampered bag");
    assert!(refused.contains(&format!("data/{number}/message.eml")), "the file is named: {refused}");
    assert!(target.list(&[]).is_empty(), "nothing was imported");
}

#[test]
fn a_case_export_holds_that_case_and_an_empty_selection_is_refused() {
    let source = registry_with_letters();
    let newsletter = source.list(&[]).into_iter().find(|d| d["subject"] == "Newsletter").expect("the newsletter");
    let year = &newsletter["number"].as_str().unwrap()[3..7];
    let case = format!("07-02/{year}");
    let bag = source.dir.path().join("case-bag");
    source.ok(&["archive", "export", "--case", &case, "--out", bag.to_str().unwrap()]);
    let (valid, said) = validated_by_bagit_py(&bag);
    assert!(valid, "{said}");
    let folders: Vec<String> = std::fs::read_dir(bag.join("data"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(folders, [newsletter["number"].as_str().unwrap()]);
    let cases = std::fs::read_to_string(bag.join("data/cases.csv")).unwrap();
    assert_eq!(cases.lines().count(), 2, "{cases}");
    assert!(cases.contains(&case));
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(bag.join("data/file-plan.json")).unwrap()).unwrap();
    assert_eq!(plan["default_class"], "07-01");

    let empty = source.dir.path().join("empty-bag");
    let refused =
        one_line_error(&source.run(&["archive", "export", "--year", "1999", "--out", empty.to_str().unwrap()]), "an empty export");
    assert!(refused.contains("nothing to export"), "{refused}");
    assert!(!empty.exists(), "no half bag is left behind");
}

/// A copy of the shipped rules whose file plan lets embassy letters (05-04, transfer) go at once
/// (`0d` after their case closes), so that last year's case is due today.
fn rules_transferring_at_once(dir: &Path) -> std::path::PathBuf {
    let rules = dir.join("mail-rules");
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/mail-rules"))
        .arg(&rules)
        .status()
        .expect("cp runs");
    assert!(copied.success());
    let plan = std::fs::read_to_string(rules.join("file-plan.toml")).unwrap();
    let embassies = "title = \"Embassies and consulates\"\nretention = \"10y\"";
    assert!(plan.contains(embassies), "the shipped plan keeps embassy letters 10 years");
    std::fs::write(rules.join("file-plan.toml"), plan.replace(embassies, "title = \"Embassies and consulates\"\nretention = \"0d\""))
        .unwrap();
    rules
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transfer_is_approved_by_an_archivist_exported_checked_and_then_erased_here() {
    use chancery::core::intake::Source;
    use chancery::core::letter::read_letter;
    use chancery::store::Arrival;
    use chrono::TimeZone;

    let (store, url, _guard) = support::fresh_store().await;
    let dir = tempfile::TempDir::new().unwrap();
    let rules = rules_transferring_at_once(dir.path());
    let run = |args: &[&str]| {
        support::chancery_command(dir.path(), &url).env("CHANCERY_RULES__DIR", &rules).args(args).output().expect("chancery runs")
    };
    let ok = |args: &[&str]| {
        let output = run(args);
        assert!(output.status.success(), "{args:?}: {}", describe(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    let raw = mail("Consul <consul@embassy.example>", "Embassy: a note on the delegation of May", "e1@embassy.example", "", "Letter.");
    let then = chrono::Utc.with_ymd_and_hms(2025, 5, 6, 8, 0, 0).unwrap();
    let arrival = Arrival { letter: read_letter(&raw), raw: raw.clone(), source: Source::File { path: "e.eml".into() }, received_at: then };
    let outcomes =
        store.register_incoming(vec![arrival], &support::shipped_policy(), &support::reminder_policy(), then).await.expect("registered");
    let number = outcomes[0].number().to_string();
    store.documents().set_status(&number, "closed", "@reg:uni.example", chrono::Utc::now()).await.expect("closed");
    for (mxid, role) in [("@reg:uni.example", "registrar"), ("@arch:uni.example", "archivist")] {
        ok(&["staff", "add", mxid, "--name", mxid, "--unit", "registry", "--role", role, "--clearance", "secret"]);
    }
    let proposed = ok(&["archive", "dispose", "propose", "05-04/2025", "--as", "@reg:uni.example", "--reason", "to the state archive"]);
    let decision = proposed.lines().last().unwrap().to_string();
    assert!(decision.starts_with("D-"), "{proposed}");

    // Approved like a disposal: never by its proposer, and nothing is written when refused.
    let bag = dir.path().join("transfer");
    let args = ["archive", "export", "--case", "05-04/2025", "--transfer", "--out", bag.to_str().unwrap()];
    let refused = one_line_error(&run(&[&args[..], &["--as", "@reg:uni.example"]].concat()), "a transfer by its proposer");
    assert!(refused.contains("another person must approve it"), "{refused}");
    assert!(!bag.exists(), "nothing was exported");
    let refused = one_line_error(&run(&["archive", "dispose", "approve", &decision, "--as", "@arch:uni.example"]), "approve a transfer");
    assert!(refused.contains("--transfer"), "a transfer is carried out by the export: {refused}");

    let printed = ok(&[&args[..], &["--as", "@arch:uni.example"]].concat());
    assert!(printed.contains(&format!("05-04/2025 transferred by {decision}")), "{printed}");
    let (valid, said) = validated_by_bagit_py(&bag);
    assert!(valid, "{said}");
    assert_eq!(std::fs::read(bag.join("data").join(&number).join("message.eml")).unwrap(), raw, "the bag holds the letter as received");

    let shown: Value = serde_json::from_str(&ok(&["docs", "show", &number, "--json"])).unwrap();
    assert_eq!(shown["disposed"]["how"], "transferred", "{shown}");
    assert_eq!(shown["disposed"]["by"], decision.as_str());
    assert_eq!(shown["subject"], "", "the content left with the package");
    let refused = one_line_error(&run(&["docs", "raw", &number]), "docs raw of a transferred letter");
    assert!(refused.contains(&format!("{number} was transferred by {decision}")), "{refused}");
    ok(&["verify"]);
    let again = one_line_error(&run(&[&args[..], &["--as", "@arch:uni.example"]].concat()), "a second transfer");
    assert!(again.contains("no transfer decision waiting"), "{again}");
}
