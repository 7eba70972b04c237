//! A bag written, read back, and refused once changed; bagit.py's view of the same is
//! `tests/bagit.rs`.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::*;

fn info() -> BagInfo {
    BagInfo {
        source_organization: "Azerbaijan Diplomatic Academy".into(),
        bagging_date: NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
        external_identifier: "chancery-archive-2026".into(),
        extra: vec![("Bag-Group-Identifier".into(), "03-02/2026".into())],
    }
}

fn path(relative: &str) -> PayloadPath {
    PayloadPath::parse(relative).unwrap()
}

/// Larger than the copy buffer, with every byte value.
fn big() -> Vec<u8> {
    (0..=255u8).cycle().take(600 * 1024 + 17).collect()
}

/// A finished bag in `dir/bag`: a message, an attachment, an empty file and a register.
fn write_bag(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("bag");
    let mut bag = BagWriter::create(&root, info()).unwrap();
    bag.add_bytes(&path("IN-2026-000001/message.eml"), b"Subject: hello\r\n\r\nbody\r\n").unwrap();
    bag.add_file(&path("IN-2026-000001/attachments/scan.pdf"), &big()[..]).unwrap();
    bag.add_bytes(&path("IN-2026-000001/attachments/empty.txt"), b"").unwrap();
    bag.add_bytes(&path("register.csv"), b"number\nIN-2026-000001\n").unwrap();
    bag.finish().unwrap();
    root
}

#[test]
fn a_written_bag_validates_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let root = write_bag(dir.path());
    let octets = 24 + big().len() + 22;
    let bag = validate(&root).unwrap();
    assert_eq!(bag.version(), "1.0");
    assert_eq!(bag.payload_files(), 4);
    assert_eq!(bag.payload_octets(), u64::try_from(octets).unwrap());
    assert_eq!(bag.info_value("payload-oxum"), Some(format!("{octets}.4").as_str()));
    assert_eq!(bag.info_value("Bagging-Date"), Some("2026-12-07"));
    assert_eq!(bag.info_value("Bag-Group-Identifier"), Some("03-02/2026"));
    let mut scan = Vec::new();
    bag.open("IN-2026-000001/attachments/scan.pdf").unwrap().read_to_end(&mut scan).unwrap();
    assert_eq!(scan, big());
    let entries: Vec<ManifestEntry> = bag.payload().unwrap().map(Result::unwrap).collect();
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[1].path, "IN-2026-000001/attachments/scan.pdf");
    assert_eq!(entries[1].sha256, hex::encode(Sha256::digest(big())));
    assert!(matches!(bag.open("../bagit.txt"), Err(BagError::UnsafeComponent { .. })));
    assert!(matches!(bag.open("IN-2026-000001"), Err(BagError::NotAFile { .. })));
}

#[test]
fn the_tag_files_say_what_rfc_8493_asks() {
    let dir = tempfile::tempdir().unwrap();
    let root = write_bag(dir.path());
    let read = |name: &str| fs::read_to_string(root.join(name)).unwrap();
    assert_eq!(read("bagit.txt"), "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n");
    let octets = 24 + big().len() + 22;
    assert_eq!(
        read("bag-info.txt"),
        format!(
            "Source-Organization: Azerbaijan Diplomatic Academy\nBagging-Date: 2026-12-07\nPayload-Oxum: {octets}.4\n\
             External-Identifier: chancery-archive-2026\nBag-Group-Identifier: 03-02/2026\n"
        )
    );
    let manifest = read("manifest-sha256.txt");
    let first = format!("{}  data/IN-2026-000001/message.eml\n", hex::encode(Sha256::digest(b"Subject: hello\r\n\r\nbody\r\n")));
    assert!(manifest.starts_with(&first), "{manifest}");
    let tags = read("tagmanifest-sha256.txt");
    let named: Vec<&str> = tags.lines().map(|l| l.split_once("  ").unwrap().1).collect();
    assert_eq!(named, ["manifest-sha256.txt", "bagit.txt", "bag-info.txt"]);
    let manifest_line = format!("{}  manifest-sha256.txt", hex::encode(Sha256::digest(manifest.as_bytes())));
    assert!(tags.contains(&manifest_line));
}

#[test]
fn a_bag_goes_only_into_a_new_or_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    BagWriter::create(dir.path(), info()).unwrap();
    assert!(matches!(BagWriter::create(dir.path(), info()), Err(BagError::NotEmpty(_))));
    let bad = BagInfo { extra: vec![("Payload-Oxum".into(), "1.1".into())], ..info() };
    assert!(matches!(BagWriter::create(&dir.path().join("new"), bad), Err(BagError::BadField { .. })));
    assert!(!dir.path().join("new").exists(), "a refused bag leaves no folder");
}

#[test]
fn a_path_given_twice_or_a_failing_source_is_refused() {
    struct Broken;
    impl Read for Broken {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("blob gone"))
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut bag = BagWriter::create(&dir.path().join("bag"), info()).unwrap();
    bag.add_bytes(&path("a/b.txt"), b"x").unwrap();
    let twice = bag.add_bytes(&path("a/b.txt"), b"y");
    assert!(matches!(twice, Err(BagError::AlreadyInBag { path }) if path == "data/a/b.txt"));
    let broken = bag.add_file(&path("a/c.txt"), Broken);
    assert!(matches!(broken, Err(BagError::Source { path, .. }) if path == "data/a/c.txt"));
}

/// Writes a bag, changes it with `change`, and returns what `validate` says.
fn validate_changed(change: impl FnOnce(&Path)) -> BagError {
    let dir = tempfile::tempdir().unwrap();
    let root = write_bag(dir.path());
    change(&root);
    validate(&root).expect_err("a changed bag must be refused")
}

fn flip_one_byte(file: &Path) {
    let mut bytes = fs::read(file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    fs::write(file, bytes).unwrap();
}

#[test]
fn a_changed_payload_file_is_named() {
    let error = validate_changed(|root| flip_one_byte(&root.join("data/IN-2026-000001/attachments/scan.pdf")));
    assert!(matches!(&error, BagError::Mismatch { path, algorithm: "sha256", .. } if path == "data/IN-2026-000001/attachments/scan.pdf"));
    assert!(error.to_string().starts_with("data/IN-2026-000001/attachments/scan.pdf does not match its manifest (sha256 "), "{error}");
}

#[test]
fn an_added_or_removed_file_is_named() {
    let added = validate_changed(|root| fs::write(root.join("data/IN-2026-000001/extra.txt"), b"late").unwrap());
    assert!(matches!(&added, BagError::Unlisted { path, .. } if path == "data/IN-2026-000001/extra.txt"), "{added}");
    let removed = validate_changed(|root| fs::remove_file(root.join("data/register.csv")).unwrap());
    assert!(matches!(&removed, BagError::Missing { path, .. } if path == "data/register.csv"), "{removed}");
}

#[test]
fn a_changed_tag_file_is_named() {
    let error = validate_changed(|root| {
        let info = fs::read_to_string(root.join("bag-info.txt")).unwrap();
        fs::write(root.join("bag-info.txt"), info.replace("2026-12-07", "2026-12-08")).unwrap();
    });
    assert!(matches!(&error, BagError::Mismatch { path, .. } if path == "bag-info.txt"), "{error}");
}

#[test]
fn a_wrong_oxum_is_refused_without_a_tag_manifest() {
    let error = validate_changed(|root| {
        fs::remove_file(root.join("tagmanifest-sha256.txt")).unwrap();
        let info = fs::read_to_string(root.join("bag-info.txt")).unwrap();
        let oxum = info.lines().find(|l| l.starts_with("Payload-Oxum")).unwrap().to_string();
        fs::write(root.join("bag-info.txt"), info.replace(&oxum, "Payload-Oxum: 1.4")).unwrap();
    });
    assert!(matches!(error, BagError::OxumMismatch { octets: 1, files: 4, found_files: 4, .. }), "{error}");
}

/// Replaces the payload manifest (and drops the tag manifest, which would name the change).
fn with_manifest(root: &Path, edit: impl FnOnce(String) -> String) {
    fs::remove_file(root.join("tagmanifest-sha256.txt")).unwrap();
    let manifest = fs::read_to_string(root.join("manifest-sha256.txt")).unwrap();
    fs::write(root.join("manifest-sha256.txt"), edit(manifest)).unwrap();
}

#[test]
fn a_manifest_that_leads_out_of_the_bag_is_refused() {
    let sum = hex::encode(Sha256::digest(b""));
    for escape in ["data/../../../etc/passwd", "/etc/passwd", "data/../bagit.txt"] {
        let error = validate_changed(|root| with_manifest(root, |m| format!("{m}{sum}  {escape}\n")));
        assert!(matches!(&error, BagError::UnsafePath { path, .. } if path == escape), "{escape}: {error}");
    }
    let twice = validate_changed(|root| {
        with_manifest(root, |m| {
            let first = m.lines().next().unwrap().to_string();
            format!("{m}{first}\n")
        })
    });
    assert!(matches!(&twice, BagError::ListedTwice { path, .. } if path == "data/IN-2026-000001/message.eml"), "{twice}");
}

#[cfg(unix)]
#[test]
fn a_link_in_the_payload_is_refused() {
    let error = validate_changed(|root| std::os::unix::fs::symlink("/etc/passwd", root.join("data/passwd")).unwrap());
    assert!(matches!(&error, BagError::NotAFile { path } if path == "data/passwd"), "{error}");
}

#[test]
fn a_folder_that_is_no_bag_is_named() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(validate(dir.path()), Err(BagError::NotABag { file: "bagit.txt", .. })));
    let root = write_bag(dir.path());
    fs::remove_file(root.join("tagmanifest-sha256.txt")).unwrap();
    fs::remove_file(root.join("manifest-sha256.txt")).unwrap();
    assert!(matches!(validate(&root), Err(BagError::NotABag { file: "manifest-sha256.txt", .. })));
}

#[test]
fn a_bag_with_sha512_manifests_is_checked_against_both() {
    let dir = tempfile::tempdir().unwrap();
    let root = write_bag(dir.path());
    fs::remove_file(root.join("tagmanifest-sha256.txt")).unwrap();
    let message = b"Subject: hello\r\n\r\nbody\r\n";
    let line = format!("{}  data/IN-2026-000001/message.eml\n", hex::encode(sha2::Sha512::digest(message)));
    fs::write(root.join("manifest-sha512.txt"), &line).unwrap();
    let error = validate(&root).expect_err("sha512 lists one file of four");
    assert!(matches!(&error, BagError::Unlisted { manifest, .. } if manifest == "manifest-sha512.txt"), "{error}");
}
