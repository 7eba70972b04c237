//! Reading a manifest line by line (`CHECKSUM  PATH`), never whole: a bag of a hundred thousand
//! letters has a manifest of tens of megabytes. Each path is decoded and checked to stay inside
//! the bag before anything opens it.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::digest::Algorithm;
use super::error::BagError;
use super::names::decode_manifest_path;

/// One line of a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// The path from the bag's folder, decoded, with `/`: `data/IN-2026-000001/message.eml`.
    pub(crate) path: String,
    /// The checksum in lowercase hex.
    pub(crate) checksum: String,
}

/// Which manifest, and whether it lists the payload (`manifest-…`, only paths in `data/`) or
/// tag files (`tagmanifest-…`).
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    pub(crate) name: String,
    pub(crate) algorithm: Algorithm,
    pub(crate) payload: bool,
}

impl Manifest {
    pub(crate) fn payload(algorithm: Algorithm) -> Manifest {
        Manifest { name: algorithm.manifest(), algorithm, payload: true }
    }

    pub(crate) fn tags(algorithm: Algorithm) -> Manifest {
        Manifest { name: algorithm.tag_manifest(), algorithm, payload: false }
    }

    /// The manifest's lines, read as they are asked for.
    pub(crate) fn lines(&self, bag: &Path) -> Result<Lines, BagError> {
        let path = bag.join(&self.name);
        let file = File::open(&path).map_err(BagError::io(&path))?;
        Ok(Lines { manifest: self.clone(), path, reader: BufReader::new(file), number: 0, bytes: Vec::new() })
    }
}

pub(crate) struct Lines {
    manifest: Manifest,
    path: PathBuf,
    reader: BufReader<File>,
    number: u64,
    bytes: Vec<u8>,
}

impl Iterator for Lines {
    type Item = Result<Line, BagError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.bytes.clear();
            match self.reader.read_until(b'\n', &mut self.bytes) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(source) => return Some(Err(BagError::Io { path: self.path.clone(), source })),
            }
            self.number += 1;
            let Ok(text) = std::str::from_utf8(&self.bytes) else {
                return Some(Err(self.malformed()));
            };
            let text = text.strip_suffix('\n').unwrap_or(text);
            let text = text.strip_suffix('\r').unwrap_or(text);
            let text = if self.number == 1 { text.strip_prefix('\u{feff}').unwrap_or(text) } else { text };
            if text.trim().is_empty() {
                continue;
            }
            return Some(self.parse(text));
        }
    }
}

impl Lines {
    fn parse(&self, text: &str) -> Result<Line, BagError> {
        let (checksum, path) = text.split_once([' ', '\t']).ok_or_else(|| self.malformed())?;
        let path = decode_manifest_path(path.trim_start_matches([' ', '\t']));
        let hex_length = match self.manifest.algorithm {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        };
        if checksum.len() != hex_length || !checksum.bytes().all(|b| b.is_ascii_hexdigit()) || path.is_empty() {
            return Err(self.malformed());
        }
        if !stays_inside(&path, self.manifest.payload) {
            return Err(BagError::UnsafePath { manifest: self.manifest.name.clone(), path, payload: self.manifest.payload });
        }
        Ok(Line { path, checksum: checksum.to_ascii_lowercase() })
    }

    fn malformed(&self) -> BagError {
        BagError::Malformed { file: self.manifest.name.clone(), line: self.number }
    }
}

/// Whether `path` (with `/`) names something inside the bag: relative, and no component empty,
/// `.` or `..`; a payload path in `data/` besides. Links are the walk's to refuse.
pub(crate) fn stays_inside(path: &str, payload: bool) -> bool {
    let plain = path.split('/').all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\0'));
    plain && (!payload || (path.starts_with("data/")))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    const SUM: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn read(text: &str) -> Vec<Result<Line, BagError>> {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("manifest-sha256.txt"), text).unwrap();
        Manifest::payload(Algorithm::Sha256).lines(dir.path()).unwrap().collect()
    }

    #[test]
    fn lines_are_read_with_any_whitespace_and_line_ending() {
        let text = format!("{SUM}  data/a b.txt\r\n\n{}\tdata/100%25%0A.txt\n", SUM.to_uppercase());
        let lines: Vec<Line> = read(&text).into_iter().map(Result::unwrap).collect();
        assert_eq!(lines[0], Line { path: "data/a b.txt".into(), checksum: SUM.into() });
        assert_eq!(lines[1], Line { path: "data/100%\n.txt".into(), checksum: SUM.into() });
    }

    #[test]
    fn paths_outside_the_bag_are_refused() {
        for path in ["data/../../etc/passwd", "/etc/passwd", "data//x", "data/./x", "bagit.txt", "data", "data/x/.."] {
            let lines = read(&format!("{SUM}  {path}\n"));
            assert!(matches!(&lines[0], Err(BagError::UnsafePath { path: p, .. }) if p == path), "{path}: {:?}", lines[0]);
        }
        assert!(stays_inside("bagit.txt", false));
        assert!(!stays_inside("../bagit.txt", false));
    }

    #[test]
    fn lines_that_cannot_be_read_are_named() {
        for text in ["nonsense\n", "abc  data/x\n", &format!("{SUM}\n"), &format!("{SUM}  \n")] {
            let lines = read(&format!("{SUM}  data/ok\n{text}"));
            assert!(matches!(lines[1], Err(BagError::Malformed { line: 2, .. })), "{text:?}: {:?}", lines[1]);
        }
    }
}
