//! Writes a bag as it goes: each payload file is copied through one fixed buffer while its
//! sha256 is computed, and its manifest line is appended at once, so that memory stays the same
//! for ten files or a million. `finish` writes the tag files and the tag manifest.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::digest::{Algorithm, BUFFER_BYTES, CopyFailure, HashingWriter, copy_hashing};
use super::error::BagError;
use super::names::{PayloadPath, encode_manifest_path};
use super::tags::{BAG_INFO_TXT, BAGIT_TXT, BagInfo, DECLARATION};

/// The algorithm of the manifests this writer makes (RFC 8493 asks for sha256 or sha512).
const ALGORITHM: Algorithm = Algorithm::Sha256;

/// A bag being written into its folder. Dropped before `finish`, it leaves a folder without
/// `bagit.txt`, which no reader takes for a bag.
pub struct BagWriter {
    root: PathBuf,
    info: BagInfo,
    manifest: HashingWriter<BufWriter<File>>,
    buffer: Box<[u8]>,
    octets: u64,
    files: u64,
}

/// What `add_file` wrote: the file's sha256 (lowercase hex) and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    pub sha256: String,
    pub octets: u64,
}

/// The bag `finish` closed: its folder and its payload's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BagSummary {
    pub root: PathBuf,
    pub octets: u64,
    pub files: u64,
}

impl BagSummary {
    /// `OCTETS.FILES`, as `bag-info.txt` gives it.
    pub fn payload_oxum(&self) -> String {
        format!("{}.{}", self.octets, self.files)
    }
}

impl BagWriter {
    /// Starts a bag in `dir`, which must not exist or be empty; `info` is checked now, before
    /// any file is copied, and written by `finish` with the payload's size.
    pub fn create(dir: &Path, info: BagInfo) -> Result<BagWriter, BagError> {
        info.check()?;
        let occupied = match fs::read_dir(dir) {
            Ok(mut entries) => entries.next().is_some(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(e) => return Err(BagError::Io { path: dir.to_path_buf(), source: e }),
        };
        if occupied {
            return Err(BagError::NotEmpty(dir.to_path_buf()));
        }
        let data = dir.join("data");
        fs::create_dir_all(&data).map_err(BagError::io(&data))?;
        let manifest_path = dir.join(ALGORITHM.manifest());
        let manifest = create_new(&manifest_path)?;
        Ok(BagWriter {
            root: dir.to_path_buf(),
            info,
            manifest: HashingWriter::new(BufWriter::new(manifest), ALGORITHM),
            buffer: vec![0u8; BUFFER_BYTES].into_boxed_slice(),
            octets: 0,
            files: 0,
        })
    }

    /// Copies `reader` into the bag at `path` (below `data/`) and lists it in the manifest.
    /// A path given twice is refused; its folders are made as needed.
    pub fn add_file(&mut self, path: &PayloadPath, reader: impl Read) -> Result<FileDigest, BagError> {
        let target = self.file_path(path);
        if let Some(folder) = target.parent() {
            fs::create_dir_all(folder).map_err(BagError::io(folder))?;
        }
        let mut file = File::create_new(&target).map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => BagError::AlreadyInBag { path: path.in_bag() },
            _ => BagError::Io { path: target.clone(), source: e },
        })?;
        let (sha256, octets) = copy_hashing(reader, &mut file, &mut self.buffer, ALGORITHM).map_err(|failure| match failure {
            CopyFailure::Read(source) => BagError::Source { path: path.in_bag(), source },
            CopyFailure::Write(source) => BagError::Io { path: target.clone(), source },
        })?;
        let manifest_path = self.root.join(ALGORITHM.manifest());
        writeln!(self.manifest, "{sha256}  {}", encode_manifest_path(&path.in_bag())).map_err(BagError::io(&manifest_path))?;
        self.octets += octets;
        self.files += 1;
        Ok(FileDigest { sha256, octets })
    }

    /// `add_file` for bytes in memory (a register's CSV, a record's JSON).
    pub fn add_bytes(&mut self, path: &PayloadPath, bytes: &[u8]) -> Result<FileDigest, BagError> {
        self.add_file(path, bytes)
    }

    /// Closes the manifest and writes `bagit.txt`, `bag-info.txt` (with `Payload-Oxum`) and
    /// `tagmanifest-sha256.txt` over those three. The tag files are synced to disk; the payload
    /// files are not, one by one (a flush per file would halve an export's speed): a caller that
    /// erases the originals once the bag is written syncs the file system first.
    pub fn finish(self) -> Result<BagSummary, BagError> {
        let manifest_name = ALGORITHM.manifest();
        let manifest_path = self.root.join(&manifest_name);
        let (manifest, manifest_digest) = self.manifest.finish().map_err(BagError::io(&manifest_path))?;
        let manifest = manifest.into_inner().map_err(|e| BagError::Io { path: manifest_path.clone(), source: e.into_error() })?;
        manifest.sync_all().map_err(BagError::io(&manifest_path))?;

        let bag_info = self.info.text(self.octets, self.files);
        let mut tag_lines = format!("{manifest_digest}  {manifest_name}\n");
        for (name, text) in [(BAGIT_TXT, DECLARATION), (BAG_INFO_TXT, bag_info.as_str())] {
            write_tag_file(&self.root.join(name), text)?;
            let mut hasher = ALGORITHM.hasher();
            hasher.update(text.as_bytes());
            tag_lines.push_str(&format!("{}  {name}\n", hasher.hex()));
        }
        write_tag_file(&self.root.join(ALGORITHM.tag_manifest()), &tag_lines)?;
        Ok(BagSummary { root: self.root, octets: self.octets, files: self.files })
    }

    fn file_path(&self, path: &PayloadPath) -> PathBuf {
        let mut target = self.root.join("data");
        target.extend(path.components());
        target
    }
}

fn create_new(path: &Path) -> Result<File, BagError> {
    OpenOptions::new().write(true).create_new(true).open(path).map_err(BagError::io(path))
}

fn write_tag_file(path: &Path, text: &str) -> Result<(), BagError> {
    let mut file = create_new(path)?;
    file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(BagError::io(path))
}
