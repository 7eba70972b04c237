//! Packages for the archive: a selection of the register exported as a BagIt bag
//! (`crate::bagit`), and such a bag imported into a register that does not hold its numbers.
//!
//! A bag's `data/` holds one folder per document, named by its number: `message.eml` (the bytes
//! as received, whose sha256 is the register's), `attachments/` (each decoded from the message,
//! its name made safe) and `record.json` (every field of the entry, its history, case and
//! class); beside them `register.csv` (the bag's register, destroyed entries included and
//! marked), `cases.csv` and `file-plan.json`. The export streams: it holds one batch of
//! entries and one message at a time, whatever the bag's size.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use futures::TryStreamExt;
use sha2::{Digest, Sha256};

use crate::bagit::{self, BagError, BagInfo, BagSummary, BagWriter, PayloadPath, UniqueNames, ValidBag};
use crate::core::archive::FilePlan;
use crate::core::archive::package::{CaseRecord, DocumentRecord, RegisterLine, Selection};
use crate::core::letter::attachments_in;
use crate::store::{Store, StoreError};

/// Entries read from the register at a time.
const BATCH: i64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error(transparent)]
    Bag(#[from] BagError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Csv { path: String, source: csv::Error },
    #[error("{path} is not a record Chancery can read: {source}")]
    Record { path: String, source: serde_json::Error },
    #[error("{path} does not hold the message its record says (sha256 {found}, the record says {expected})")]
    MessageDiffers { path: String, found: String, expected: String },
    #[error("the bag has no {path}: it was not made by `chancery archive export`")]
    NotOurs { path: String },
    #[error("nothing to export: no document of {what} is in the register")]
    Empty { what: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PackageError + '_ {
    move |source| PackageError::Io { path: path.to_path_buf(), source }
}

/// What an export wrote.
#[derive(Debug, Clone)]
pub struct Exported {
    pub bag: BagSummary,
    pub documents: u64,
    /// Of them, entries whose content was erased earlier (in `register.csv`, without files).
    pub destroyed: u64,
}

/// What the bag says of itself besides its size.
pub struct Labels<'a> {
    pub university: &'a str,
    pub today: NaiveDate,
}

/// Writes the documents of `selection` as a bag in `out` (which must not exist, or be empty).
pub async fn export(
    store: &Store,
    plan: &FilePlan,
    selection: &Selection,
    labels: Labels<'_>,
    out: &Path,
) -> Result<Exported, PackageError> {
    let info = BagInfo {
        source_organization: labels.university.to_string(),
        bagging_date: labels.today,
        external_identifier: selection.identifier(labels.university),
        extra: vec![("Bag-Software-Agent".to_string(), format!("chancery {}", env!("CARGO_PKG_VERSION")))],
    };
    let mut bag = BagWriter::create(out, info)?;
    // register.csv is written as the documents go by, beside the bag, and added last.
    let register_path = sibling(out, "register.csv.partial");
    let register_file = File::create(&register_path).map_err(io(&register_path))?;
    let mut register = csv::Writer::from_writer(BufWriter::new(register_file));
    let mut exported = Exported { bag: BagSummary { root: out.to_path_buf(), octets: 0, files: 0 }, documents: 0, destroyed: 0 };
    let mut after = 0;
    loop {
        let batch = store.archive().package_batch(selection, after, BATCH).await?;
        let (Some((first, _)), Some((last, _))) = (batch.first(), batch.last()) else { break };
        let first = *first;
        after = *last;
        let archive = store.archive();
        let mut messages = archive.package_messages(first, after);
        let mut next = messages.try_next().await?;
        for (id, mut record) in batch {
            // The messages come in id order; those of documents outside the selection are passed.
            while next.as_ref().is_some_and(|(of, _)| *of < id) {
                next = messages.try_next().await?;
            }
            let message = match next.take() {
                Some((of, bytes)) if of == id => {
                    next = messages.try_next().await?;
                    Some(bytes)
                }
                other => {
                    next = other;
                    None
                }
            };
            if message.is_none() {
                exported.destroyed += 1;
            }
            write_document(&mut bag, &mut record, message.as_deref())?;
            register.serialize(RegisterLine::of(&record)).map_err(|source| PackageError::Csv { path: "register.csv".into(), source })?;
            exported.documents += 1;
        }
    }
    if exported.documents == 0 {
        drop(register);
        std::fs::remove_file(&register_path).ok();
        std::fs::remove_dir_all(out).ok();
        return Err(PackageError::Empty { what: describe(selection) });
    }
    register.flush().map_err(io(&register_path))?;
    drop(register);
    let cases = store.archive().package_cases(selection).await?;
    bag.add_bytes(&PayloadPath::new("cases.csv")?, &cases_csv(&cases)?)?;
    let plan_json = serde_json::to_vec_pretty(plan).map_err(|source| PackageError::Record { path: "file-plan.json".into(), source })?;
    bag.add_bytes(&PayloadPath::new("file-plan.json")?, &plan_json)?;
    let register_file = File::open(&register_path).map_err(io(&register_path))?;
    bag.add_file(&PayloadPath::new("register.csv")?, BufReader::new(register_file))?;
    std::fs::remove_file(&register_path).map_err(io(&register_path))?;
    exported.bag = bag.finish()?;
    Ok(exported)
}

fn describe(selection: &Selection) -> String {
    match selection {
        Selection::Case(name) => format!("case {name}"),
        Selection::Year(year) => format!("{year}"),
        Selection::All => "the register".to_string(),
    }
}

/// A path beside `dir` (`/x/bag` → `/x/bag.NAME`), for what is written before it joins the bag.
fn sibling(dir: &Path, name: &str) -> PathBuf {
    let mut path = dir.as_os_str().to_os_string();
    path.push(format!(".{name}"));
    PathBuf::from(path)
}

/// One document's folder: its message, its attachments decoded from it, and its record.
fn write_document(bag: &mut BagWriter, record: &mut DocumentRecord, message: Option<&[u8]>) -> Result<(), PackageError> {
    let folder = PayloadPath::new(&record.number)?;
    if let Some(raw) = message {
        bag.add_bytes(&folder.join("message.eml")?, raw)?;
        if !record.attachments.is_empty() {
            let mut names = UniqueNames::new();
            let files = folder.join("attachments")?;
            for (attachment, decoded) in record.attachments.iter_mut().zip(attachments_in(raw)) {
                let name = names.claim(&attachment.name);
                bag.add_bytes(&files.join(&name)?, &decoded.content)?;
                attachment.file = Some(format!("attachments/{name}"));
            }
        }
    }
    let json = serde_json::to_vec_pretty(record).map_err(|source| PackageError::Record { path: folder.in_bag(), source })?;
    bag.add_bytes(&folder.join("record.json")?, &json)?;
    Ok(())
}

fn cases_csv(cases: &[CaseRecord]) -> Result<Vec<u8>, PackageError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for case in cases {
        writer.serialize(case).map_err(|source| PackageError::Csv { path: "cases.csv".into(), source })?;
    }
    writer.into_inner().map_err(|e| PackageError::Io { path: "cases.csv".into(), source: e.into_error() })
}

/// Checks a bag just written for a transfer, and has the file system write it to disk
/// (`sync -f`, the whole file system the bag is on): the register's copy is erased next, and
/// the bag is then the only one.
pub fn check_for_transfer(dir: &Path) -> Result<ValidBag, PackageError> {
    let bag = bagit::validate(dir)?;
    let synced = std::process::Command::new("sync").arg("-f").arg(dir).status().map_err(io(dir))?;
    if !synced.success() {
        return Err(PackageError::Io { path: dir.to_path_buf(), source: std::io::Error::other(format!("sync -f failed: {synced}")) });
    }
    Ok(bag)
}

/// What an import brought in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub documents: usize,
    pub cases: usize,
}

/// Checks the bag in `dir` (any file that does not match its manifest is named, and nothing is
/// imported), then brings its documents, cases and destroyed entries into the register, in one
/// transaction. The register must not hold any of the bag's numbers.
pub async fn import(store: &Store, dir: &Path) -> Result<Imported, PackageError> {
    let bag = bagit::validate(dir)?;
    let cases: Vec<CaseRecord> = read_csv(&bag, "cases.csv")?;
    let lines: Vec<RegisterLine> = read_csv(&bag, "register.csv")?;
    let mut import = store.archive().begin_import().await?;
    for chunk in lines.chunks(500) {
        let numbers: Vec<&str> = chunk.iter().map(|line| line.number.as_str()).collect();
        import.check_numbers_free(&numbers).await?;
    }
    import.cases(&cases).await?;
    for line in &lines {
        let folder = PayloadPath::new(&line.number)?;
        let record_path = folder.join("record.json")?;
        let record: DocumentRecord = serde_json::from_reader(BufReader::new(open(&bag, &record_path)?))
            .map_err(|source| PackageError::Record { path: record_path.in_bag(), source })?;
        let message = match record.disposed_by {
            Some(_) => None,
            None => Some(read_message(&bag, &folder.join("message.eml")?, &record.sha256)?),
        };
        import.document(&record, message).await?;
    }
    let documents = import.finish().await?;
    Ok(Imported { documents, cases: cases.len() })
}

fn open(bag: &ValidBag, path: &PayloadPath) -> Result<File, PackageError> {
    bag.open(path.as_str()).map_err(|error| match error {
        BagError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => PackageError::NotOurs { path: path.in_bag() },
        other => other.into(),
    })
}

fn read_csv<T: serde::de::DeserializeOwned>(bag: &ValidBag, name: &str) -> Result<Vec<T>, PackageError> {
    let path = PayloadPath::new(name)?;
    let mut reader = csv::Reader::from_reader(BufReader::new(open(bag, &path)?));
    reader.deserialize().collect::<Result<Vec<T>, csv::Error>>().map_err(|source| PackageError::Csv { path: path.in_bag(), source })
}

/// A document's message, refused unless its sha256 is the one its record gives.
fn read_message(bag: &ValidBag, path: &PayloadPath, expected: &str) -> Result<Vec<u8>, PackageError> {
    let mut bytes = Vec::new();
    open(bag, path)?.read_to_end(&mut bytes).map_err(io(&bag.root().join(path.in_bag())))?;
    let found = hex::encode(Sha256::digest(&bytes));
    if found != expected {
        return Err(PackageError::MessageDiffers { path: path.in_bag(), found, expected: expected.to_string() });
    }
    Ok(bytes)
}
