//! Checks a bag as RFC 8493 asks: the declaration, the tag manifests, every payload file listed
//! in every payload manifest and no other file under `data/`, each file's digest, and
//! `Payload-Oxum`. The first problem found is the error, and it names its file. Files are read
//! through one fixed buffer; what is kept per file is a 16-byte fingerprint of its path.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::digest::{Algorithm, BUFFER_BYTES, digest_of};
use super::error::BagError;
use super::manifest::{Lines, Manifest, stays_inside};
use super::tags::{BAG_INFO_TXT, field, parse_oxum, read_declaration, read_fields};

/// A bag that passed `validate`: what its `bag-info.txt` says, and its payload files to read.
#[derive(Debug)]
pub struct ValidBag {
    root: PathBuf,
    version: String,
    info: Vec<(String, String)>,
    octets: u64,
    files: u64,
}

/// One payload file as the sha256 manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// The path below `data/`, with `/`: `IN-2026-000001/message.eml`.
    pub path: String,
    /// Its sha256 in lowercase hex.
    pub sha256: String,
}

/// Checks the bag in `dir`; see the module's documentation for what is checked, and in which
/// order (tag files first, then which files are there, then their digests).
pub fn validate(dir: &Path) -> Result<ValidBag, BagError> {
    let version = read_declaration(dir)?;
    let info_path = dir.join(BAG_INFO_TXT);
    let info = if info_path.is_file() { read_fields(&info_path, BAG_INFO_TXT)? } else { Vec::new() };
    let mut buffer = vec![0u8; BUFFER_BYTES];
    // The tag manifest first: a manifest or bag-info.txt changed since bagging is named as
    // such, before its lines are believed.
    for manifest in present(dir, Manifest::tags) {
        check_digests(dir, &manifest, &mut buffer)?;
    }
    let manifests = present(dir, Manifest::payload);
    if !manifests.iter().any(|m| m.algorithm == Algorithm::Sha256) {
        return Err(BagError::NotABag { bag: dir.to_path_buf(), file: "manifest-sha256.txt" });
    }
    let listed = manifests.iter().map(|m| Ok((m, listed_paths(dir, m)?))).collect::<Result<Vec<_>, BagError>>()?;
    let (octets, files) = walk_payload(dir, &listed)?;
    drop(listed);
    for manifest in &manifests {
        check_digests(dir, manifest, &mut buffer)?;
    }
    if let Some(value) = field(&info, "Payload-Oxum") {
        let (oxum_octets, oxum_files) = parse_oxum(value)?;
        if (oxum_octets, oxum_files) != (octets, files) {
            return Err(BagError::OxumMismatch { octets: oxum_octets, files: oxum_files, found_octets: octets, found_files: files });
        }
    }
    Ok(ValidBag { root: dir.to_path_buf(), version, info, octets, files })
}

impl ValidBag {
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `BagIt-Version` from `bagit.txt`: `1.0` or `0.97`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Every field of `bag-info.txt`, in order (empty if the bag has none).
    pub fn info(&self) -> &[(String, String)] {
        &self.info
    }

    /// The first value of a `bag-info.txt` field; labels compare without regard to case.
    pub fn info_value(&self, label: &str) -> Option<&str> {
        field(&self.info, label)
    }

    /// The payload's size in octets, as counted by `validate`.
    pub fn payload_octets(&self) -> u64 {
        self.octets
    }

    pub fn payload_files(&self) -> u64 {
        self.files
    }

    /// The payload files as `manifest-sha256.txt` lists them, read as they are asked for.
    pub fn payload(&self) -> Result<PayloadEntries, BagError> {
        Ok(PayloadEntries { lines: Manifest::payload(Algorithm::Sha256).lines(&self.root)? })
    }

    /// Opens the payload file at `path` (below `data/`, with `/`) for reading.
    pub fn open(&self, path: &str) -> Result<File, BagError> {
        let in_bag = format!("data/{path}");
        if !stays_inside(&in_bag, true) {
            return Err(BagError::UnsafeComponent { component: path.to_string() });
        }
        let full = self.root.join(&in_bag);
        let file = File::open(&full).map_err(BagError::io(&full))?;
        let is_file = file.metadata().map_err(BagError::io(&full))?.is_file();
        if is_file { Ok(file) } else { Err(BagError::NotAFile { path: in_bag }) }
    }
}

/// The lines of `manifest-sha256.txt` as `ManifestEntry`s.
pub struct PayloadEntries {
    lines: Lines,
}

impl Iterator for PayloadEntries {
    type Item = Result<ManifestEntry, BagError>;

    fn next(&mut self) -> Option<Self::Item> {
        let line = self.lines.next()?;
        Some(
            line.map(|line| ManifestEntry {
                path: line.path.strip_prefix("data/").unwrap_or(&line.path).to_string(),
                sha256: line.checksum,
            }),
        )
    }
}

/// The manifests of the algorithms this reader knows that the bag has.
fn present(bag: &Path, manifest: fn(Algorithm) -> Manifest) -> Vec<Manifest> {
    Algorithm::ALL.into_iter().map(manifest).filter(|m| bag.join(&m.name).is_file()).collect()
}

/// Each file `manifest` lists: there, a plain file, inside the bag, with the digest it gives.
fn check_digests(bag: &Path, manifest: &Manifest, buffer: &mut [u8]) -> Result<(), BagError> {
    let root = if manifest.payload { None } else { Some(bag.canonicalize().map_err(BagError::io(bag))?) };
    for line in manifest.lines(bag)? {
        let line = line?;
        let full = bag.join(&line.path);
        let file = match File::open(&full) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(BagError::Missing { manifest: manifest.name.clone(), path: line.path });
            }
            Err(e) => return Err(BagError::Io { path: full, source: e }),
        };
        // The walk refused links under data/; a tag file elsewhere could still be reached
        // through one.
        if let Some(root) = &root {
            let real = full.canonicalize().map_err(BagError::io(&full))?;
            if !real.starts_with(root) {
                return Err(BagError::NotAFile { path: line.path });
            }
        }
        if !file.metadata().map_err(BagError::io(&full))?.is_file() {
            return Err(BagError::NotAFile { path: line.path });
        }
        let (found, _) = digest_of(file, buffer, manifest.algorithm).map_err(BagError::io(&full))?;
        if found != line.checksum {
            let algorithm = manifest.algorithm.name();
            return Err(BagError::Mismatch { path: line.path, algorithm, expected: line.checksum, found });
        }
    }
    Ok(())
}

/// A path's fingerprint: all that is kept of each listed file while the payload is walked.
type Fingerprint = [u8; 16];

fn fingerprint(path: &str) -> Fingerprint {
    let digest = Sha256::digest(path.as_bytes());
    let mut print = [0u8; 16];
    print.copy_from_slice(&digest[..16]);
    print
}

fn listed_paths(bag: &Path, manifest: &Manifest) -> Result<HashSet<Fingerprint>, BagError> {
    let mut listed = HashSet::new();
    for line in manifest.lines(bag)? {
        let line = line?;
        if !listed.insert(fingerprint(&line.path)) {
            return Err(BagError::ListedTwice { manifest: manifest.name.clone(), path: line.path });
        }
    }
    Ok(listed)
}

/// Walks `data/`: every file must be listed in every payload manifest, and be a plain file.
/// Returns the payload's octets and files.
fn walk_payload(bag: &Path, listed: &[(&Manifest, HashSet<Fingerprint>)]) -> Result<(u64, u64), BagError> {
    let data = bag.join("data");
    if !fs::symlink_metadata(&data).is_ok_and(|m| m.is_dir()) {
        return Err(BagError::NotABag { bag: bag.to_path_buf(), file: "data/" });
    }
    let (mut octets, mut files) = (0u64, 0u64);
    let mut folders = vec![data];
    while let Some(folder) = folders.pop() {
        for entry in fs::read_dir(&folder).map_err(BagError::io(&folder))? {
            let entry = entry.map_err(BagError::io(&folder))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(BagError::io(&path))?;
            if kind.is_dir() {
                folders.push(path);
                continue;
            }
            let name = name_in_bag(bag, &path);
            if !kind.is_file() {
                return Err(BagError::NotAFile { path: name });
            }
            let print = fingerprint(&name);
            if let Some((manifest, _)) = listed.iter().find(|(_, paths)| !paths.contains(&print)) {
                return Err(BagError::Unlisted { manifest: manifest.name.clone(), path: name });
            }
            octets += entry.metadata().map_err(BagError::io(&path))?.len();
            files += 1;
        }
    }
    Ok((octets, files))
}

/// `path` as a manifest names it: from the bag's folder, with `/`. A name that is not UTF-8
/// cannot be in a manifest; its lossy form is only for the error that says so.
fn name_in_bag(bag: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(bag).unwrap_or(path);
    relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}
