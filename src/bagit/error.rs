//! What goes wrong writing or checking a bag, typed. Every error about one file names it as the
//! bag names it (`data/IN-2026-000001/message.eml`), so that a clerk can find it; the words here
//! are those of a terminal and a log line.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BagError {
    /// Reading or writing `path` failed.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// The reader a payload file was copied from failed (the register's blob, an upload).
    #[error("reading the content of {path}: {source}")]
    Source { path: String, source: std::io::Error },
    /// A bag is written into a new or empty folder only, never over other files.
    #[error("{} exists and is not empty: a bag is written into a new or empty folder", .0.display())]
    NotEmpty(PathBuf),
    /// A component of a payload path that `safe_component` would change (a separator, `..`, …).
    #[error("{component:?} is not a safe file name inside a bag")]
    UnsafeComponent { component: String },
    /// The writer was given the same payload path twice.
    #[error("{path} is already in the bag")]
    AlreadyInBag { path: String },
    /// A bag-info field the writer refuses: it would not read back as written.
    #[error("bag-info field {label:?}: {problem}")]
    BadField { label: String, problem: FieldProblem },

    /// The folder has no `bagit.txt`, or no `manifest-sha256.txt`: it is not a bag we can check.
    #[error("{file} is missing: {} is not a BagIt bag that can be checked", bag.display())]
    NotABag { bag: PathBuf, file: &'static str },
    /// `bagit.txt` declares a version this reader does not know (1.0 and 0.97 it does).
    #[error("bagit.txt declares BagIt-Version {version:?}; this reader knows 1.0 and 0.97")]
    UnsupportedVersion { version: String },
    /// Tag files in anything but UTF-8.
    #[error("bagit.txt declares Tag-File-Character-Encoding {encoding:?}; this reader knows UTF-8")]
    UnsupportedEncoding { encoding: String },
    /// A line of a tag file or manifest that cannot be read (no label, no checksum, not UTF-8).
    #[error("{file} line {line} cannot be read")]
    Malformed { file: String, line: u64 },
    /// A manifest names a path outside the bag (`..`, absolute), or a payload outside `data/`.
    #[error("{manifest} lists {path:?}, which is outside the bag's {}", if *.payload { "data/ folder" } else { "folder" })]
    UnsafePath { manifest: String, path: String, payload: bool },
    /// A manifest lists the same file twice.
    #[error("{manifest} lists {path} twice")]
    ListedTwice { manifest: String, path: String },
    /// A file a manifest lists is not in the bag.
    #[error("{path} is listed in {manifest} but is not in the bag")]
    Missing { manifest: String, path: String },
    /// A file whose digest is not the one its manifest gives: damaged or changed since bagging.
    #[error("{path} does not match its manifest ({algorithm} {expected} expected, {found} found)")]
    Mismatch { path: String, algorithm: &'static str, expected: String, found: String },
    /// A file under `data/` that a payload manifest does not list: added after bagging.
    #[error("{path} is in the bag but not listed in {manifest}")]
    Unlisted { manifest: String, path: String },
    /// Under `data/` only plain files and folders belong: a link could lead out of the bag.
    #[error("{path} is not a plain file or folder (a link?); a bag holds only files")]
    NotAFile { path: String },
    /// `Payload-Oxum` in bag-info.txt is not `OCTETS.FILES`.
    #[error("bag-info.txt has a Payload-Oxum {value:?} that is not OCTETS.FILES")]
    BadOxum { value: String },
    /// The payload's size or number of files is not what `Payload-Oxum` says.
    #[error(
        "the payload holds {found_octets} octets in {found_files} files, \
         but bag-info.txt's Payload-Oxum says {octets} octets in {files} files"
    )]
    OxumMismatch { octets: u64, files: u64, found_octets: u64, found_files: u64 },
}

/// Why the writer refuses a bag-info field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FieldProblem {
    #[error("a label must not be empty, nor hold a colon, a space or a control character")]
    BadLabel,
    #[error("a value must not hold a line break or another control character")]
    ControlCharacter,
    #[error("the writer sets this field itself")]
    Reserved,
}

impl BagError {
    /// For `map_err`: an io error on `path`.
    pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BagError + use<> {
        let path = path.to_path_buf();
        move |source| BagError::Io { path, source }
    }
}
