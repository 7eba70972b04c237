//! Archive packages against the Library of Congress's own validator: a bag that `BagWriter`
//! makes, with attachment names from strangers and binary content, passes `bagit.py --validate`;
//! one changed byte fails both bagit.py and `validate`, which names the file; a file added
//! under `data/` is refused; a bag bagit.py makes passes `validate`.
//!
//! bagit.py (PyPI `bagit`) is installed by `scripts/dev-services` into its Python venv, and its
//! env file gives its path as `CHANCERY_TEST_BAGIT`. Without it these tests fail, never skip.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use chancery::bagit::{BagError, BagInfo, BagWriter, PayloadPath, UniqueNames, safe_component, validate};
use chrono::NaiveDate;

fn bagit_py() -> PathBuf {
    let path = std::env::var_os("CHANCERY_TEST_BAGIT").unwrap_or_else(|| {
        panic!(
            "CHANCERY_TEST_BAGIT is not set: these tests need the Library of Congress's bagit.py. \
             Run `scripts/test`, or `scripts/dev-services start` and source its env file"
        )
    });
    let path = PathBuf::from(path);
    assert!(path.is_file(), "CHANCERY_TEST_BAGIT={} is not a file; run `scripts/dev-services start` again", path.display());
    path
}

/// Runs bagit.py with `args`; its exit status and what it logged.
fn run_bagit_py(args: &[&str], dir: &Path) -> (bool, String) {
    let output = Command::new(bagit_py()).args(args).arg(dir).output().expect("run bagit.py");
    let log = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), log)
}

const HOSTILE_NAMES: [&str; 16] = [
    "../../etc/passwd",
    "C:\\x",
    "\u{202e}fdp.exe",
    "",
    "..",
    "scan.pdf",
    "scan.pdf",
    "SCAN.PDF",
    "e\u{301}te\u{301}.pdf",
    "Письмо №5 (копия).docx",
    "Şəhadətnamə.pdf",
    "50% off\r\n.pdf",
    "  spaced name .txt ",
    "CON.txt",
    "#1 *notes* [draft]?.md",
    "~home.txt",
];

/// Every byte value, and more than the writer's buffer.
fn binary(seed: u8) -> Vec<u8> {
    (0..=255u8).cycle().map(|b| b ^ seed).take(300 * 1024 + usize::from(seed)).collect()
}

/// A bag of two letters in `dir`: each message, its attachments under names from strangers,
/// a record, and a register at the top. Returns the attachments' paths in the bag.
fn write_bag(dir: &Path) -> Vec<String> {
    let info = BagInfo {
        source_organization: "Azərbaycan Diplomatiya Akademiyası".into(),
        bagging_date: NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
        external_identifier: "chancery-archive-test".into(),
        extra: vec![("Bag-Group-Identifier".into(), "03-02/2026".into())],
    };
    let mut bag = BagWriter::create(dir, info).unwrap();
    let mut attachments = Vec::new();
    for (n, number) in ["IN-2026-000001", "OUT-2026-000002"].into_iter().enumerate() {
        let folder = PayloadPath::new(number).unwrap();
        bag.add_bytes(&folder.join("message.eml").unwrap(), b"Subject: =?utf-8?q?=C3=9C?=\r\n\r\n\x00\xff\r\n").unwrap();
        bag.add_bytes(&folder.join("record.json").unwrap(), b"{}\n").unwrap();
        let files = folder.join("attachments").unwrap();
        let mut names = UniqueNames::new();
        for (i, hostile) in HOSTILE_NAMES.iter().enumerate() {
            let path = files.join(&names.claim(hostile)).unwrap();
            let content = if i == 3 { Vec::new() } else { binary(u8::try_from(i + n).unwrap()) };
            let digest = bag.add_file(&path, &content[..]).unwrap();
            assert_eq!(digest.octets, u64::try_from(content.len()).unwrap());
            attachments.push(path.in_bag());
        }
    }
    bag.add_bytes(&PayloadPath::new("register.csv").unwrap(), b"number,subject\nIN-2026-000001,\"x\"\n").unwrap();
    let summary = bag.finish().unwrap();
    assert_eq!(summary.files, 2 * (2 + u64::try_from(HOSTILE_NAMES.len()).unwrap()) + 1);
    attachments
}

#[test]
fn a_bag_with_hostile_names_passes_bagit_py_and_a_changed_byte_fails_both() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("bag");
    let attachments = write_bag(&root);
    let names: Vec<&str> = attachments.iter().map(|a| a.rsplit('/').next().unwrap()).collect();
    assert!(names.contains(&"fdp.exe") && names.contains(&"2-scan.pdf") && names.contains(&"3-SCAN.PDF"), "{names:?}");
    assert!(names.iter().all(|n| safe_component(n) == *n && !n.starts_with('.')), "{names:?}");

    let (valid, log) = run_bagit_py(&["--validate"], &root);
    assert!(valid, "bagit.py refused the bag:\n{log}");
    let bag = validate(&root).unwrap();
    assert_eq!(bag.info_value("Source-Organization"), Some("Azərbaycan Diplomatiya Akademiyası"));

    let changed = attachments.iter().find(|a| a.ends_with("fdp.exe") && a.contains("IN-2026")).unwrap();
    let mut bytes = fs::read(root.join(changed)).unwrap();
    bytes[1000] ^= 0x20;
    fs::write(root.join(changed), &bytes).unwrap();

    let (valid, log) = run_bagit_py(&["--validate"], &root);
    assert!(!valid, "bagit.py took a changed bag:\n{log}");
    assert!(log.contains("fdp.exe"), "bagit.py does not name the changed file:\n{log}");
    let error = validate(&root).expect_err("a changed byte must be refused");
    assert!(matches!(&error, BagError::Mismatch { path, .. } if path == changed), "{error}");
    assert!(error.to_string().starts_with(&format!("{changed} does not match its manifest (sha256 ")), "{error}");
}

#[test]
fn a_file_added_under_data_is_refused_by_both() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("bag");
    write_bag(&root);
    fs::write(root.join("data/IN-2026-000001/attachments/late.pdf"), b"added after bagging").unwrap();
    let error = validate(&root).expect_err("an unlisted file must be refused");
    assert!(matches!(&error, BagError::Unlisted { path, .. } if path == "data/IN-2026-000001/attachments/late.pdf"), "{error}");
    let (valid, log) = run_bagit_py(&["--validate"], &root);
    assert!(!valid, "bagit.py took a bag with an unlisted file:\n{log}");
}

#[test]
fn a_bag_that_bagit_py_makes_passes_validate() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("made-by-bagit-py");
    fs::create_dir_all(root.join("IN-2026-000003/attachments")).unwrap();
    fs::write(root.join("IN-2026-000003/message.eml"), binary(7)).unwrap();
    fs::write(root.join("IN-2026-000003/attachments/Письмо.pdf"), binary(9)).unwrap();
    fs::write(root.join("register.csv"), b"").unwrap();
    let (made, log) = run_bagit_py(&["--sha256", "--sha512", "--source-organization", "Library of Congress"], &root);
    assert!(made, "bagit.py could not make a bag:\n{log}");

    let bag = validate(&root).unwrap();
    assert_eq!(bag.payload_files(), 3);
    assert_eq!(bag.info_value("Source-Organization"), Some("Library of Congress"));
    assert!(bag.info_value("Bag-Software-Agent").is_some_and(|agent| agent.starts_with("bagit.py")));
    let paths: Vec<String> = bag.payload().unwrap().map(|e| e.unwrap().path).collect();
    assert!(paths.contains(&"IN-2026-000003/attachments/Письмо.pdf".to_string()), "{paths:?}");

    let mut bytes = fs::read(root.join("data/register.csv")).unwrap();
    bytes.push(b'\n');
    fs::write(root.join("data/register.csv"), bytes).unwrap();
    let error = validate(&root).expect_err("a changed file must be refused");
    assert!(matches!(&error, BagError::Mismatch { path, .. } if path == "data/register.csv"), "{error}");
}
